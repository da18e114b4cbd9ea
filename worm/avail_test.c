/*  avail_test.c — /proc parsers, idle sources, and a sample from files. */
#include "avail.h"
#include "../tests/check.h"

#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    CHECK (file != NULL);
    fputs (text, file);
    fclose (file);
}

int
main (void)
{
    double load = -1;
    CHECK_EQ (worm_avail_parse_loadavg ("0.52 0.40 0.31 2/345 6789\n", &load), 0);
    CHECK (load == 0.52);
    CHECK_EQ (worm_avail_parse_loadavg ("", &load), -1);
    CHECK_EQ (worm_avail_parse_loadavg ("busy", &load), -1);
    CHECK_EQ (worm_avail_parse_loadavg ("-1 0 0", &load), -1);

    double free_pct = -1;
    CHECK_EQ (worm_avail_parse_meminfo ("MemTotal:  1000 kB\nMemFree: 100 kB\n"
                                        "MemAvailable:  250 kB\n",
                                        &free_pct),
              0);
    CHECK (free_pct == 25.0);
    CHECK_EQ (worm_avail_parse_meminfo ("MemTotal: 1000 kB\nMemFree: 500 kB\n", &free_pct), 0);
    CHECK (free_pct == 50.0);
    CHECK_EQ (worm_avail_parse_meminfo ("MemFree: 500 kB\n", &free_pct), -1);
    CHECK_EQ (worm_avail_parse_meminfo ("MemTotal: 0 kB\nMemAvailable: 0 kB\n", &free_pct), -1);

    unsigned sources = 0;
    char err[256];
    CHECK_EQ (worm_avail_parse_sources ("tty,file", &sources, err, sizeof err), 0);
    CHECK_EQ (sources, WORM_IDLE_TTY | WORM_IDLE_FILE);
    CHECK_EQ (worm_avail_parse_sources ("file", &sources, err, sizeof err), 0);
    CHECK_EQ (sources, WORM_IDLE_FILE);
    CHECK_EQ (worm_avail_parse_sources ("tty,mouse", &sources, err, sizeof err), -1);
    CHECK_HAS (err, "'mouse'");
    CHECK_EQ (worm_avail_parse_sources ("", &sources, err, sizeof err), -1);
    CHECK_HAS (err, "an empty list");
    CHECK_EQ (worm_avail_parse_sources ("tty,,file", &sources, err, sizeof err), -1);
    CHECK_HAS (err, "an empty name in 'tty,,file'");
    CHECK_EQ (worm_avail_parse_sources ("tty,", &sources, err, sizeof err), -1);
    CHECK_EQ (sources, WORM_IDLE_FILE);     //  unchanged by a refusal

    //  A sample read from files we control
    char dir[] = "/tmp/worm-avail-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    worm_avail_config_t config;
    worm_avail_defaults (&config);
    config.sources = WORM_IDLE_FILE;
    snprintf (config.loadavg_file, sizeof config.loadavg_file, "%s/loadavg", dir);
    snprintf (config.meminfo_file, sizeof config.meminfo_file, "%s/meminfo", dir);
    snprintf (config.activity_file, sizeof config.activity_file, "%s/activity", dir);
    s_write (config.loadavg_file, "1.25 1.00 0.50 1/100 42\n");
    s_write (config.meminfo_file, "MemTotal: 2000 kB\nMemAvailable: 500 kB\n");
    worm_sample_t sample;
    //  No activity file: idle since boot
    CHECK_EQ (worm_avail_sample (&config, &sample, err, sizeof err), 0);
    CHECK (sample.load == 1.25);
    CHECK (sample.free_mem_pct == 25.0);
    CHECK (sample.idle_s > 1);
    //  Touched now: idle about 0
    s_write (config.activity_file, "");
    CHECK_EQ (worm_avail_sample (&config, &sample, err, sizeof err), 0);
    CHECK (sample.idle_s < 1);
    //  Touched 100 s ago
    struct timespec times[2];
    clock_gettime (CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= 100;
    times[1] = times[0];
    CHECK_EQ (utimensat (AT_FDCWD, config.activity_file, times, 0), 0);
    CHECK_EQ (worm_avail_sample (&config, &sample, err, sizeof err), 0);
    CHECK (sample.idle_s > 99 && sample.idle_s < 102);
    //  A broken load file is an error that names it
    s_write (config.loadavg_file, "garbage");
    CHECK_EQ (worm_avail_sample (&config, &sample, err, sizeof err), -1);
    CHECK_HAS (err, "loadavg");
    unlink (config.loadavg_file);
    CHECK_EQ (worm_avail_sample (&config, &sample, err, sizeof err), -1);
    CHECK_HAS (err, "No such file");

    unlink (config.meminfo_file);
    unlink (config.activity_file);
    rmdir (dir);
    return check_done ("worm.avail");
}
