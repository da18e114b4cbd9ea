/*  config_test.c — wormd's settings from options and ZPL files: every bad
    file or value is refused with a line naming the file, the key and the
    reason; --help wins. */
#include "config.h"
#include "../tests/check.h"

#include <stdarg.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char s_dir[] = "/tmp/worm-config-test-XXXXXX";

//  Removes the folder and what is in it, also when a check fails (it exits).
static void
s_cleanup (void)
{
    worm_rmtree (s_dir);
}

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

//  Options (NULL-terminated) that must be refused with err equal to want
//  (a macro, so that a failure names the line of the case).
#define OPTION_REFUSED(want, ...)                                                              \
    do {                                                                                       \
        worm_config_t refused_;                                                                \
        char refused_err_[1024];                                                               \
        CHECK_EQ (s_load (&refused_, refused_err_, sizeof refused_err_, __VA_ARGS__), -1);     \
        CHECK_STR (refused_err_, want);                                                        \
    } while (0)

//  As a user other than root (in a child, which reports by its exit
//  status): guests run as that user, limits above its own hard ones are
//  lowered when they are defaults and refused when they were asked for.
static void
s_check_unprivileged (const worm_user_t *user)
{
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        struct rlimit files = {256, 512};
        CHECK_EQ (setrlimit (RLIMIT_NOFILE, &files), 0);
        CHECK_EQ (setgid (user->gid), 0);
        CHECK_EQ (setuid (user->uid), 0);
        worm_config_t config;
        char err[1024];
        CHECK_EQ (s_load (&config, err, sizeof err, "--name", "low", NULL), 0);
        CHECK_EQ (config.guest_user.uid, user->uid);
        CHECK_EQ (config.guest_user.gid, user->gid);
        CHECK_STR (config.guest_user.name, user->name);
        CHECK (!config.guest_user_other);
        CHECK_EQ (config.guest_files, 512);         //  the default, lowered
        char want[512];
        snprintf (want, sizeof want, "/tmp/worm-%u/low", (unsigned) user->uid);
        CHECK_STR (config.state_dir, want);
        CHECK_EQ (s_load (&config, err, sizeof err, "--guest-files", "1000", NULL), -1);
        CHECK_STR (err, "--guest-files: 1000 is above wormd's own hard limit 512, and only root "
                        "may raise it");
        CHECK_EQ (s_load (&config, err, sizeof err, "--guest-files", "512", NULL), 0);
        CHECK_EQ (s_load (&config, err, sizeof err, "--user", "root", NULL), -1);
        snprintf (want, sizeof want, "--user: wormd is not root, so its guests run as its own "
                                     "user '%s'; running them as 'root' needs wormd to run as "
                                     "root", user->name);
        CHECK_STR (err, want);
        //  Its own name is fine
        CHECK_EQ (s_load (&config, err, sizeof err, "--user", user->name, NULL), 0);
        CHECK (!config.guest_user_other);
        _exit (0);
    }
    int status = 0;
    CHECK_EQ (waitpid (pid, &status, 0), pid);
    CHECK (WIFEXITED (status));
    CHECK_EQ (WEXITSTATUS (status), 0);
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
    atexit (s_cleanup);
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
    s_refused ("wormd\n    allow-run = \"maybe\"\n", "wormd/allow-run: 'maybe' is not 1 or 0");
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
    char bad[256];
    snprintf (bad, sizeof bad, "%s", s_file ("bad.zpl", "wormdd\n"));
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", bad, "--help", NULL), 1);

    //  --config=FILE, flags in a file as yes/no words, the defaults filled in
    char flags[256];
    snprintf (flags, sizeof flags, "%s", s_file ("flags.zpl", "wormd\n    daemon = \"yes\"\n"
                                             "    allow-test-guest = \"true\"\n"
                                             "    allow-run = \"yes\"\n"));
    char option[300];
    snprintf (option, sizeof option, "--config=%s", flags);
    CHECK_EQ (s_load (&config, err, sizeof err, option, "--name", "h1", NULL), 0);
    CHECK (config.daemon);
    CHECK (config.allow_test_guest);
    CHECK (config.allow_run);
    CHECK_STR (config.broadcast, "127.255.255.255");
    CHECK_EQ (config.beacon_port, WORM_DEFAULT_BEACON_PORT);
    CHECK_EQ (config.guest_files, WORM_DEFAULT_GUEST_FILES);
    CHECK_EQ (config.guest_procs, WORM_DEFAULT_GUEST_PROCS);
    if (geteuid () == 0)
        CHECK_STR (config.state_dir, "/var/lib/worm/h1");
    //  "false" and "0" in a file, and the options over it
    char off[256];
    snprintf (off, sizeof off, "%s", s_file ("off.zpl", "wormd\n    daemon = \"false\"\n"
                                         "    allow-test-guest = \"0\"\n    beacon-port = \"6000\"\n"));
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", off, "--beacon-port", "6001",
                      "--state-dir", "/tmp/x", "--interface", "eth9", NULL), 0);
    CHECK (!config.daemon);
    CHECK (!config.allow_test_guest);
    CHECK (!config.allow_run);         //  off unless the owner says so
    CHECK_EQ (config.beacon_port, 6001);
    CHECK_STR (config.state_dir, "/tmp/x");
    CHECK_STR (config.interface, "eth9");
    CHECK_STR (config.broadcast, "");              //  the interface's, found later
    //  Sizes and counts
    CHECK_EQ (s_load (&config, err, sizeof err, "--guest-memory", "512M", "--guest-procs", "0",
                      "--guest-files", "64", NULL), 0);
    CHECK_EQ (config.guest_memory, 512UL << 20);
    CHECK_EQ (config.guest_procs, 0);
    CHECK_EQ (config.guest_files, 64);
    CHECK_EQ (s_load (&config, err, sizeof err, "--guest-memory", "0", NULL), 0);
    CHECK_EQ (config.guest_memory, 0);
    //  Policy values go to the policy
    CHECK_EQ (s_load (&config, err, sizeof err, "--max-segments", "3", "--min-idle", "0",
                      "--grace", "2.5", NULL), 0);
    CHECK_EQ (config.policy.max_segments, 3);
    CHECK (config.policy.min_idle_s == 0);
    CHECK (config.policy.grace_s == 2.5);

    //  Bad options, each with the option and the reason
    OPTION_REFUSED ("unexpected argument 'extra'", "--daemon", "extra", NULL);
    OPTION_REFUSED ("unknown option --colour", "--colour", "red", NULL);
    OPTION_REFUSED ("--max-load needs a value (F)", "--max-load", NULL);
    OPTION_REFUSED ("--daemon takes no value", "--daemon=yes", NULL);
    OPTION_REFUSED ("--max-load: 'lots' is not a number", "--max-load", "lots", NULL);
    OPTION_REFUSED ("--max-load: -1 is outside 0 to 1e+06", "--max-load", "-1", NULL);
    OPTION_REFUSED ("--max-segments: 2.5 is not a whole number from 0 to 4096",
                    "--max-segments", "2.5", NULL);
    OPTION_REFUSED ("--check-interval: 0.01 is outside 0.05 to 3600", "--check-interval",
                    "0.01", NULL);
    OPTION_REFUSED ("--name: 'a b' is not a name of 1 to 64 of [A-Za-z0-9._-]", "--name",
                    "a b", NULL);
    OPTION_REFUSED ("--beacon-port: 70000 is outside 1 to 65535", "--beacon-port", "70000",
                    NULL);
    OPTION_REFUSED ("--beacon-port: '12ab' is not a whole number", "--beacon-port", "12ab",
                    NULL);
    OPTION_REFUSED ("--guest-memory: 1M is outside 16M to 64T (or 0 for none)",
                    "--guest-memory", "1M", NULL);
    OPTION_REFUSED ("--guest-memory: 'lots' is not a size (a whole number, optionally with K, "
                    "M, G or T)", "--guest-memory", "lots", NULL);
    OPTION_REFUSED ("--guest-files: 8 is too few for a guest to start (at least 16; 0 for "
                    "wormd's own limit)", "--guest-files", "8", NULL);
    OPTION_REFUSED ("--guest-procs: 5000000 is outside 0 to 4194304", "--guest-procs",
                    "5000000", NULL);
    OPTION_REFUSED ("--idle-sources: unknown idle source 'mouse' (expected tty, input, file)",
                    "--idle-sources", "tty,mouse", NULL);
    OPTION_REFUSED ("--broadcast: '1.2.3' is not an IPv4 address", "--broadcast", "1.2.3",
                    NULL);
    OPTION_REFUSED ("--state-dir: needs a value, not an empty one", "--state-dir=", NULL);
    char long_value[5000];
    memset (long_value, 'x', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = 0;
    worm_config_t config2;
    worm_config_defaults (&config2);
    CHECK_EQ (worm_config_set (&config2, "programs", long_value, err, sizeof err), -1);
    CHECK_HAS (err, "…' is longer than 4095 characters");
    CHECK_EQ (worm_config_set (&config2, "interface", "an-interface-name-of-more-than-63-"
                               "characters-which-no-kernel-allows", err, sizeof err), -1);
    CHECK_HAS (err, "is longer than 63 characters");
    //  -h is --help too
    CHECK_EQ (s_load (&config, err, sizeof err, "--bogus", "-h", NULL), 1);

    //  Files that are no settings files
    char valued[256];
    snprintf (valued, sizeof valued, "%s", s_file ("valued.zpl", "wormd = \"x\"\n    max-load = \"1\"\n"));
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", valued, NULL), -1);
    CHECK_HAS (err, "'wormd' is a section, not a setting");
    char broken[256];
    snprintf (broken, sizeof broken, "%s", s_file ("broken.zpl", "wormd\n    max-load = \"1\n"));
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", broken, NULL), -1);
    snprintf (option, sizeof option, "--config: %s is not a valid ZPL file", broken);
    CHECK_STR (err, option);
    CHECK_EQ (s_load (&config, err, sizeof err, "--config", "/dev/null", NULL), -1);
    CHECK_STR (err, "--config: /dev/null is no regular file, not a ZPL file");

    //  Whom guests run as, when we are root: the guests' user by default,
    //  never root, never a user that does not exist
    worm_user_t guest;
    char why[256];
    if (geteuid () == 0) {
        OPTION_REFUSED ("--user: 'root' is uid 0; guests run as an unprivileged user",
                        "--user", "root", NULL);
        OPTION_REFUSED ("--user: no user 'no-such-user-here' on this machine; create it with "
                        "'useradd --system --no-create-home --shell /usr/sbin/nologin "
                        "no-such-user-here'", "--user", "no-such-user-here", NULL);
        OPTION_REFUSED ("--user: needs a value, not an empty one", "--user=", NULL);
        if (worm_user_lookup (WORM_DEFAULT_GUEST_USER, &guest, why, sizeof why) == 0) {
            CHECK_EQ (s_load (&config, err, sizeof err, NULL), 0);
            CHECK_STR (config.guest_user.name, WORM_DEFAULT_GUEST_USER);
            CHECK_EQ (config.guest_user.uid, guest.uid);
            CHECK (config.guest_user_other);
            s_check_unprivileged (&guest);
        }
    }

    unlink (flags);
    unlink (off);
    unlink (valued);
    unlink (broken);
    unlink (good);
    unlink (bad);
    unlink (s_file ("case.zpl", ""));
    CHECK_EQ (rmdir (s_dir), 0);
    return check_done ("config");
}
