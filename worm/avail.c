/*  avail.c — availability sampling from /proc, /dev and an activity file. */
#include "avail.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <utmpx.h>

void
worm_avail_defaults (worm_avail_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->sources = WORM_IDLE_TTY | WORM_IDLE_INPUT | WORM_IDLE_FILE;
    snprintf (config->loadavg_file, sizeof config->loadavg_file, "/proc/loadavg");
    snprintf (config->meminfo_file, sizeof config->meminfo_file, "/proc/meminfo");
}

int
worm_avail_parse_sources (const char *text, unsigned *sources, char *err, size_t cap)
{
    unsigned bits = 0;
    const char *word = text;
    if (!*text) {
        snprintf (err, cap, "an empty list (name one or more of tty, input, file)");
        return -1;
    }
    while (*word) {
        size_t len = strcspn (word, ",");
        if (len == 0 || (word[len] == ',' && !word[len + 1])) {
            snprintf (err, cap, "an empty name in '%s' (expected tty, input, file)", text);
            return -1;
        }
        if (len == 3 && strncmp (word, "tty", 3) == 0)
            bits |= WORM_IDLE_TTY;
        else if (len == 5 && strncmp (word, "input", 5) == 0)
            bits |= WORM_IDLE_INPUT;
        else if (len == 4 && strncmp (word, "file", 4) == 0)
            bits |= WORM_IDLE_FILE;
        else {
            snprintf (err, cap, "unknown idle source '%.*s' (expected tty, input, file)",
                      (int) len, word);
            return -1;
        }
        word += len;
        if (*word == ',')
            word++;
    }
    *sources = bits;
    return 0;
}

int
worm_avail_parse_loadavg (const char *text, double *load)
{
    char *end;
    errno = 0;
    double value = strtod (text, &end);
    if (end == text || errno || value < 0)
        return -1;
    *load = value;
    return 0;
}

//  Finds "Key:   123 kB" in meminfo text; returns -1 when absent.
static long long
s_meminfo_field (const char *text, const char *key)
{
    size_t key_len = strlen (key);
    for (const char *line = text; line && *line; line = strchr (line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp (line, key, key_len) == 0 && line[key_len] == ':') {
            char *end;
            long long value = strtoll (line + key_len + 1, &end, 10);
            return end == line + key_len + 1 ? -1 : value;
        }
    }
    return -1;
}

int
worm_avail_parse_meminfo (const char *text, double *free_pct)
{
    long long total = s_meminfo_field (text, "MemTotal");
    long long avail = s_meminfo_field (text, "MemAvailable");
    if (avail < 0)
        avail = s_meminfo_field (text, "MemFree");
    if (total <= 0 || avail < 0)
        return -1;
    *free_pct = 100.0 * (double) avail / (double) total;
    return 0;
}

//  Reads a small file into buf; returns 0 or -1 with errno.
static int
s_read_file (const char *path, char *buf, size_t cap)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    size_t n = fread (buf, 1, cap - 1, file);
    int failed = ferror (file);
    fclose (file);
    buf[n] = 0;
    return failed ? -1 : 0;
}

//  Keeps the latest of t and *latest.
static void
s_later (time_t t, time_t *latest)
{
    if (t > *latest)
        *latest = t;
}

static void
s_tty_activity (time_t *latest)
{
    setutxent ();
    struct utmpx *entry;
    while ((entry = getutxent ()) != NULL) {
        if (entry->ut_type != USER_PROCESS || entry->ut_line[0] == 0)
            continue;
        char path[64 + sizeof entry->ut_line];
        snprintf (path, sizeof path, "/dev/%.*s", (int) sizeof entry->ut_line, entry->ut_line);
        struct stat st;
        if (stat (path, &st) == 0)
            s_later (st.st_atime, latest);
    }
    endutxent ();
}

static void
s_input_activity (time_t *latest)
{
    DIR *dir = opendir ("/dev/input");
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir (dir)) != NULL) {
        if (strncmp (entry->d_name, "event", 5) != 0)
            continue;
        char path[300];
        snprintf (path, sizeof path, "/dev/input/%s", entry->d_name);
        struct stat st;
        if (stat (path, &st) == 0)
            s_later (st.st_atime, latest);
    }
    closedir (dir);
}

int
worm_avail_sample (const worm_avail_config_t *config, worm_sample_t *sample, char *err,
                   size_t cap)
{
    char text[8192];
    //  Idle time: seconds since the latest sign of the user
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    double now_s = (double) now.tv_sec + (double) now.tv_nsec / 1e9;
    double idle = -1;
    time_t latest = 0;
    if (config->sources & WORM_IDLE_TTY)
        s_tty_activity (&latest);
    if (config->sources & WORM_IDLE_INPUT)
        s_input_activity (&latest);
    if (latest)
        idle = now_s - (double) latest;
    struct stat st;
    if ((config->sources & WORM_IDLE_FILE) && config->activity_file[0]
        && stat (config->activity_file, &st) == 0) {
        double touched = (double) st.st_mtim.tv_sec + (double) st.st_mtim.tv_nsec / 1e9;
        if (idle < 0 || now_s - touched < idle)
            idle = now_s - touched;
    }
    if (idle < 0) {
        if (s_read_file ("/proc/uptime", text, sizeof text) == 0)
            idle = strtod (text, NULL);
        else
            idle = 0;
    }
    sample->idle_s = idle < 0 ? 0 : idle;

    if (s_read_file (config->loadavg_file, text, sizeof text)) {
        snprintf (err, cap, "%s: %s", config->loadavg_file, strerror (errno));
        return -1;
    }
    if (worm_avail_parse_loadavg (text, &sample->load)) {
        snprintf (err, cap, "%s: not in /proc/loadavg form", config->loadavg_file);
        return -1;
    }
    if (s_read_file (config->meminfo_file, text, sizeof text)) {
        snprintf (err, cap, "%s: %s", config->meminfo_file, strerror (errno));
        return -1;
    }
    if (worm_avail_parse_meminfo (text, &sample->free_mem_pct)) {
        snprintf (err, cap, "%s: no MemTotal/MemAvailable", config->meminfo_file);
        return -1;
    }
    return 0;
}
