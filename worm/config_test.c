/*  config_test.c — wormd's settings from options and ZPL files: every bad
    file or value is refused with a line naming the file, the key and the
    reason; --help wins. */
#include "config.h"
#include "../tests/check.h"

#include <stdarg.h>
#include <unistd.h>

static char s_dir[] = "/tmp/worm-config-test-XXXXXX";

//  Writes text to DIR/name and returns the path (static buffer).
static const char *
s_file (const char *name, const char *text)
{
    static char path[256];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *file = fopen (path, "w");
    CHECK (file != NULL);
    fputs (text, file);
    fclose (file);
    return path;
}

//  worm_config_load on the words given (NULL-terminated) into config.
static int
s_load (worm_config_t *config, char *err, size_t cap, const char *first, ...)
{
    char *argv[16];
    int argc = 0;
    va_list words;
    va_start (words, first);
    for (const char *word = first; word && argc < 16; word = va_arg (words, const char *))
        argv[argc++] = (char *) word;
    va_end (words);
    err[0] = 0;
    return worm_config_load (config, argc, argv, err, cap);
}

static void
s_refused (const char *zpl, const char *want)
{
    worm_config_t config;
    char err[512];
    const char *path = s_file ("case.zpl", zpl);
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", path, NULL), -1);
    CHECK_HAS (err, path);
    CHECK_HAS (err, want);
    CHECK (strchr (err, '\n') == NULL);
}

int
main (void)
{
    CHECK (mkdtemp (s_dir) != NULL);
    worm_config_t config;
    char err[512];

    //  A good file, and the command line over it
    char good[256];
    snprintf (good, sizeof good, "%s", s_file ("good.zpl", "wormd\n    name = \"fromfile\"\n    max-load = \"7.5\"\n"
                                           "    daemon = \"no\"\n    idle-sources = \"file\"\n"));
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", good, "--max-load", "2", NULL), 0);
    CHECK_STR (config.name, "fromfile");
    CHECK (config.policy.max_load == 2.0);
    CHECK (!config.daemon);
    CHECK_EQ (config.avail.sources, WORM_IDLE_FILE);

    //  Sections: only "wormd", once; nothing outside it
    s_refused ("wormdd\n    max-load = \"1\"\n", "unknown section 'wormdd'");
    s_refused ("max-load = \"1\"\n", "'max-load' is outside the 'wormd' section");
    s_refused ("", "no 'wormd' section");
    s_refused ("# only a comment\n", "no 'wormd' section");
    s_refused ("wormd\n    min-idle = \"1\"\nwormd\n    min-idle = \"2\"\n",
               "a second 'wormd' section");
    //  Keys: known, once, no children, good values
    s_refused ("wormd\n    colour = \"blue\"\n", "wormd/colour: unknown setting");
    s_refused ("wormd\n    policy\n        max-load = \"1\"\n", "wormd/policy: unknown setting");
    s_refused ("wormd\n    max-load = \"1\"\n        x = \"2\"\n", "wormd/max-load: has settings under it");
    s_refused ("wormd\n    max-load = \"1\"\n    max-load = \"2\"\n", "wormd/max-load: set twice");
    s_refused ("wormd\n    daemon = \"banana\"\n", "wormd/daemon: 'banana' is not 1 or 0");
    s_refused ("wormd\n    idle-sources = \"\"\n", "wormd/idle-sources: needs a value");
    s_refused ("wormd\n    idle-sources = \"tty,,file\"\n", "an empty name in 'tty,,file'");
    s_refused ("wormd\n    state-dir = \"\"\n", "wormd/state-dir: needs a value");
    s_refused ("wormd\n    broadcast = \"banana\"\n", "wormd/broadcast: 'banana' is not an IPv4");
    s_refused ("wormd\n    help = \"1\"\n", "'help' cannot be set in a file");

    //  Not a file
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", s_dir, NULL), -1);
    CHECK_HAS (err, "is a folder, not a ZPL file");
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", "/nonexistent/w.zpl", NULL), -1);
    CHECK_HAS (err, "cannot read /nonexistent/w.zpl");

    //  Options
    CHECK_EQ (s_load (&config, err, sizeof err, "--idle-sources", "", NULL), -1);
    CHECK_HAS (err, "--idle-sources: needs a value");
    CHECK_EQ (s_load (&config, err, sizeof err, "--daemon", NULL), 0);
    CHECK (config.daemon);
    CHECK_EQ (worm_config_set (&config, "daemon", "0", err, sizeof err), 0);
    CHECK (!config.daemon);
    CHECK_EQ (worm_config_set (&config, "bogus", NULL, err, sizeof err), -1);
    CHECK_STR (err, "unknown setting");
    CHECK_EQ (worm_config_set (&config, "config", "x", err, sizeof err), -1);

    //  --help wins over a file that would be refused
    const char *bad = s_file ("bad.zpl", "wormdd\n");
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", bad, "--help", NULL), 1);

    unlink (good);
    unlink (bad);
    unlink (s_file ("case.zpl", ""));
    CHECK_EQ (rmdir (s_dir), 0);
    return check_done ("config");
}
