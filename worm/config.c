/*  config.c — wormd settings from options and a ZPL file. See config.h. */
#include "config.h"
#include "beacon.h"
#include "events.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <pwd.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

const worm_opt_t worm_config_options[] = {
    {"config", "FILE", "read settings from a ZPL file (keys under 'wormd')"},
    {"name", "NAME", "host name in beacons (default: the hostname)"},
    {"state-dir", "DIR", "state folder (default: /var/lib/worm/NAME or /tmp/worm-UID/NAME)"},
    {"broadcast", "ADDR", "broadcast address, e.g. 127.255.255.255 for a local cluster"},
    {"interface", "IF", "interface whose broadcast address to use"},
    {"beacon-port", "N", "UDP port for beacons and queries (default 5670)"},
    {"max-segments", "N", "guests taken at most (default: number of cores)"},
    {"max-load", "F", "refuse guests above this 1-minute load (default: cores)"},
    {"min-idle", "SECONDS", "user idle time required (default 60)"},
    {"min-free-mem", "PERCENT", "available memory required (default 10)"},
    {"check-interval", "SECONDS", "availability check and beacon interval (default 1)"},
    {"grace", "SECONDS", "SIGTERM to SIGKILL on eviction (default 5)"},
    {"activity-file", "PATH", "a file whose mtime counts as user activity"},
    {"idle-sources", "LIST", "which of tty,input,file count as activity (default all)"},
    {"loadavg-file", "PATH", "read the load from here (default /proc/loadavg)"},
    {"meminfo-file", "PATH", "read memory from here (default /proc/meminfo)"},
    {"programs", "DIR", "guest programs live here (default: beside wormd)"},
    {"key", "FILE", "the host's keypair (default STATE-DIR/host.cert; made when missing)"},
    {"authorized", "DIR", "public keys allowed in (default STATE-DIR/authorized)"},
    {"owners", "DIR", "public keys of this host's owners: they may read and change the "
                      "policy and kill any guest (default: the host key only)"},
    {"allow-test-guest", NULL, "also start the test suite's guest program (worm-test-guest)"},
    {"allow-run", NULL, "run users' commands as guests (wormctl run; default: refuse them)"},
    {"user", "NAME", "guests run as this user (default: " WORM_DEFAULT_GUEST_USER
                     " when wormd runs as root, else wormd's own user)"},
    {"guest-memory", "SIZE", "a guest's data memory limit (RLIMIT_DATA), e.g. 512M; 0 for none "
                             "(default " WORM_DEFAULT_GUEST_MEMORY_TEXT ")"},
    {"guest-files", "N", "a guest's open files limit (RLIMIT_NOFILE; default 1024)"},
    {"guest-procs", "N", "processes and threads the guests' user may have on this machine "
                         "(RLIMIT_NPROC; default 4096; 0 for none)"},
    {"ring-command", "CMD", "rings an alarm: run by sh -c as the guests' user, with "
                            "WORM_ALARM_ID, WORM_ALARM_DUE and WORM_ALARM_MESSAGE set "
                            "(notify-send, wall, espeak-ng, a script); this host then "
                            "advertises 'ring'"},
    {"ring-log", "FILE", "rings an alarm by appending 'WORM-ID/ALARM-ID HOST DUE MESSAGE' to "
                         "FILE (a local cluster's hosts append to DIR/rings.log); 'ring' too"},
    {"ring-timeout", "SECONDS", "a ring command still running after this is killed (default "
                                "10)"},
    {"log-max", "SIZE", "the event log (STATE-DIR/log/events, read by wormctl log) becomes "
                        "events.1 at this size, e.g. 256K: at most about twice this on disk "
                        "(default 1M; 0 for no event log)"},
    {"daemon", NULL, "detach; log to STATE-DIR/wormd.log"},
    {"help", NULL, "print this help"},
    {NULL, NULL, NULL},
};

void
worm_config_defaults (worm_config_t *config)
{
    memset (config, 0, sizeof *config);
    char host[256] = "localhost";
    gethostname (host, sizeof host);
    host[64] = 0;
    host[strcspn (host, ".")] = 0;
    snprintf (config->name, sizeof config->name, "%s", host);
    config->beacon_port = WORM_DEFAULT_BEACON_PORT;
    config->guest_memory = WORM_DEFAULT_GUEST_MEMORY;
    config->guest_files = WORM_DEFAULT_GUEST_FILES;
    config->guest_procs = WORM_DEFAULT_GUEST_PROCS;
    config->ring_timeout_s = WORM_DEFAULT_RING_TIMEOUT_S;
    config->log_max = WORM_EVENTS_DEFAULT_MAX;
    worm_policy_defaults (&config->policy);
    worm_avail_defaults (&config->avail);
}

//  Copies value into a fixed buffer, refusing what does not fit.
static int
s_copy (char *dest, size_t size, const char *value, char *err, size_t cap)
{
    if (strlen (value) >= size) {
        snprintf (err, cap, "'%.40s…' is longer than %zu characters", value, size - 1);
        return -1;
    }
    snprintf (dest, size, "%s", value);
    return 0;
}

//  The option of that name (not config or help, which are no settings), or NULL.
static const worm_opt_t *
s_setting (const char *name)
{
    for (const worm_opt_t *opt = worm_config_options; opt->name; opt++)
        if (strcmp (opt->name, name) == 0)
            return strcmp (name, "config") == 0 || strcmp (name, "help") == 0 ? NULL : opt;
    return NULL;
}

int
worm_config_set (worm_config_t *config, const char *name, const char *value, char *err,
                 size_t cap)
{
    if (!s_setting (name)) {
        snprintf (err, cap, "unknown setting");
        return -1;
    }
    //  Flags: no value on the command line; in a file, a yes or a no
    bool *flag = strcmp (name, "daemon") == 0             ? &config->daemon
                 : strcmp (name, "allow-test-guest") == 0 ? &config->allow_test_guest
                 : strcmp (name, "allow-run") == 0        ? &config->allow_run
                                                          : NULL;
    if (flag) {
        static const char *yes[] = {"1", "true", "yes"}, *no[] = {"0", "false", "no"};
        for (size_t i = 0; value && i < 3; i++)
            if (strcmp (value, yes[i]) == 0 || strcmp (value, no[i]) == 0) {
                *flag = strcmp (value, yes[i]) == 0;
                return 0;
            }
        if (value) {
            snprintf (err, cap, "'%s' is not 1 or 0, true or false, yes or no", value);
            return -1;
        }
        *flag = true;
        return 0;
    }
    if (!value) {
        snprintf (err, cap, "needs a value");
        return -1;
    }
    if (!*value) {
        snprintf (err, cap, "needs a value, not an empty one");
        return -1;
    }
    struct in_addr addr;
    if (strcmp (name, "broadcast") == 0 && inet_pton (AF_INET, value, &addr) != 1) {
        snprintf (err, cap, "'%s' is not an IPv4 address", value);
        return -1;
    }
    for (int i = 0; worm_policy_keys[i]; i++)
        if (strcmp (name, worm_policy_keys[i]) == 0) {
            double number;
            if (worm_parse_double (value, -1e300, 1e300, &number, err, cap))
                return -1;
            char why[256];
            if (worm_policy_set (&config->policy, name, number, why, sizeof why)) {
                //  Drop the "name: " the policy puts first; the caller adds it
                const char *colon = strstr (why, ": ");
                snprintf (err, cap, "%s", colon ? colon + 2 : why);
                return -1;
            }
            return 0;
        }
    if (strcmp (name, "name") == 0) {
        if (!worm_name_valid (value)) {
            snprintf (err, cap, "'%s' is not a name of 1 to 64 of [A-Za-z0-9._-]", value);
            return -1;
        }
        return s_copy (config->name, sizeof config->name, value, err, cap);
    }
    if (strcmp (name, "beacon-port") == 0) {
        long port;
        if (worm_parse_int (value, 1, 65535, &port, err, cap))
            return -1;
        config->beacon_port = (int) port;
        return 0;
    }
    if (strcmp (name, "idle-sources") == 0)
        return worm_avail_parse_sources (value, &config->avail.sources, err, cap);
    if (strcmp (name, "ring-timeout") == 0)
        return worm_parse_double (value, 0.1, 3600, &config->ring_timeout_s, err, cap);
    if ((strcmp (name, "ring-command") == 0 || strcmp (name, "ring-log") == 0) && !value[0]) {
        snprintf (err, cap, "empty (leave the option out for a host that does not ring)");
        return -1;
    }
    if (strcmp (name, "guest-memory") == 0)
        return worm_parse_size (value, 16UL << 20, 1UL << 46, &config->guest_memory, err, cap);
    if (strcmp (name, "log-max") == 0)
        return worm_parse_size (value, WORM_EVENTS_MIN_MAX, 1UL << 30, &config->log_max, err,
                                cap);
    struct {
        const char *name;
        unsigned long *dest;
        long low;       //  the least that still lets a czmq process start
        long high;
    } counts[] = {
        {"guest-files", &config->guest_files, 16, 1L << 20},
        {"guest-procs", &config->guest_procs, 16, 1L << 22},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (strcmp (name, counts[i].name) == 0) {
            long number;
            if (worm_parse_int (value, 0, counts[i].high, &number, err, cap))
                return -1;
            if (number && number < counts[i].low) {
                snprintf (err, cap, "%ld is too few for a guest to start (at least %ld; 0 for "
                                    "wormd's own limit)", number, counts[i].low);
                return -1;
            }
            *counts[i].dest = (unsigned long) number;
            return 0;
        }
    struct {
        const char *name;
        char *dest;
        size_t size;
    } strings[] = {
        {"state-dir", config->state_dir, sizeof config->state_dir},
        {"broadcast", config->broadcast, sizeof config->broadcast},
        {"interface", config->interface, sizeof config->interface},
        {"programs", config->programs_dir, sizeof config->programs_dir},
        {"key", config->key_file, sizeof config->key_file},
        {"authorized", config->authorized_dir, sizeof config->authorized_dir},
        {"owners", config->owners_dir, sizeof config->owners_dir},
        {"user", config->user, sizeof config->user},
        {"activity-file", config->avail.activity_file, sizeof config->avail.activity_file},
        {"loadavg-file", config->avail.loadavg_file, sizeof config->avail.loadavg_file},
        {"meminfo-file", config->avail.meminfo_file, sizeof config->avail.meminfo_file},
        {"ring-command", config->ring_command, sizeof config->ring_command},
        {"ring-log", config->ring_log, sizeof config->ring_log},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (strcmp (name, strings[i].name) == 0)
            return s_copy (strings[i].dest, strings[i].size, value, err, cap);
    snprintf (err, cap, "unknown setting");
    return -1;
}

static int
s_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    if (strcmp (name, "config") == 0 || strcmp (name, "help") == 0)
        return 0;       //  handled before and after
    return worm_config_set ((worm_config_t *) arg, name, value, err, cap);
}

//  The settings of the one section "wormd" of a ZPL file: anything else at
//  the top is refused (a misspelt section would otherwise be ignored), and
//  so is a setting with settings under it, or one given twice.
static int
s_load_section (worm_config_t *config, const char *path, zconfig_t *root, char *err, size_t cap)
{
    zconfig_t *section = NULL;
    for (zconfig_t *top = zconfig_child (root); top; top = zconfig_next (top)) {
        const char *name = zconfig_name (top);
        if (strcmp (name, "wormd") != 0) {
            if (s_setting (name))
                snprintf (err, cap, "%s: '%s' is outside the 'wormd' section (settings go "
                                    "under 'wormd', indented)", path, name);
            else
                snprintf (err, cap, "%s: unknown section '%s' (wormd reads only 'wormd')", path,
                          name);
            return -1;
        }
        const char *value = zconfig_value (top);
        if (section || (value && *value)) {
            snprintf (err, cap, "%s: %s", path, section ? "a second 'wormd' section"
                                                        : "'wormd' is a section, not a setting");
            return -1;
        }
        section = top;
    }
    if (!section) {
        snprintf (err, cap, "%s: no 'wormd' section (settings go under 'wormd', indented)", path);
        return -1;
    }
    for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
        const char *name = zconfig_name (item);
        char why[256];
        if (strcmp (name, "config") == 0 || strcmp (name, "help") == 0) {
            snprintf (err, cap, "%s: '%s' cannot be set in a file", path, name);
            return -1;
        }
        for (zconfig_t *before = zconfig_child (section); before != item;
             before = zconfig_next (before))
            if (strcmp (zconfig_name (before), name) == 0) {
                snprintf (err, cap, "%s: wormd/%s: set twice", path, name);
                return -1;
            }
        if (zconfig_child (item) && s_setting (name)) {
            snprintf (err, cap, "%s: wormd/%s: has settings under it ('%s' is not a section)",
                      path, name, name);
            return -1;
        }
        if (worm_config_set (config, name, zconfig_value (item), why, sizeof why)) {
            snprintf (err, cap, "%s: wormd/%s: %s", path, name, why);
            return -1;
        }
    }
    return 0;
}

static int
s_load_file (worm_config_t *config, const char *path, char *err, size_t cap)
{
    struct stat st;
    if (stat (path, &st) || access (path, R_OK)) {
        snprintf (err, cap, "--config: cannot read %s: %s", path, strerror (errno));
        return -1;
    }
    if (!S_ISREG (st.st_mode)) {
        snprintf (err, cap, "--config: %s is %s, not a ZPL file", path,
                  S_ISDIR (st.st_mode) ? "a folder" : "no regular file");
        return -1;
    }
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        snprintf (err, cap, "--config: %s is not a valid ZPL file", path);
        return -1;
    }
    int rc = s_load_section (config, path, root, err, cap);
    zconfig_destroy (&root);
    return rc;
}

//  Who guests run as: --user, or the default, which must exist. Only root
//  can run them as another user, and never as root.
static int
s_resolve_user (worm_config_t *config, char *err, size_t cap)
{
    uid_t self = geteuid ();
    if (!config->user[0] && self != 0) {
        //  wormd's own user, which needs no name
        struct passwd *me = getpwuid (self);
        if (me)
            snprintf (config->guest_user.name, sizeof config->guest_user.name, "%s", me->pw_name);
        else
            snprintf (config->guest_user.name, sizeof config->guest_user.name, "%u",
                      (unsigned) self);
        config->guest_user.uid = self;
        config->guest_user.gid = getegid ();
        config->guest_user_other = false;
        return 0;
    }
    const char *name = config->user[0] ? config->user : WORM_DEFAULT_GUEST_USER;
    char why[256];
    if (worm_user_lookup (name, &config->guest_user, why, sizeof why)) {
        if (strncmp (why, "no user", 7) != 0)
            snprintf (err, cap, "--user: %s", why);
        else if (config->user[0])
            snprintf (err, cap, "--user: no user '%s' on this machine; create it with 'useradd "
                                "--system --no-create-home --shell /usr/sbin/nologin %s'", name,
                      name);
        else
            snprintf (err, cap, "guests run as user '%s' when wormd runs as root, and there is "
                                "no such user; create it with 'useradd --system --no-create-home "
                                "--shell /usr/sbin/nologin %s' (tools/deps.sh does) or name "
                                "another with --user", name, name);
        return -1;
    }
    if (self == 0 && config->guest_user.uid == 0) {
        snprintf (err, cap, "--user: '%s' is uid 0; guests run as an unprivileged user", name);
        return -1;
    }
    if (self != 0 && config->guest_user.uid != self) {
        struct passwd *me = getpwuid (self);
        snprintf (err, cap, "--user: wormd is not root, so its guests run as its own user '%s'; "
                            "running them as '%s' needs wormd to run as root",
                  me ? me->pw_name : "?", name);
        return -1;
    }
    config->guest_user_other = config->guest_user.uid != self;
    return 0;
}

//  Without root, wormd can only lower its own limits for its guests: a
//  default above them is lowered, an explicit value above them refused.
static int
s_check_limits (worm_config_t *config, char *err, size_t cap)
{
    if (geteuid () == 0)
        return 0;
    struct {
        const char *name;
        int resource;
        unsigned long *value;
        unsigned long fallback;
    } limits[] = {
        {"guest-memory", RLIMIT_DATA, &config->guest_memory, WORM_DEFAULT_GUEST_MEMORY},
        {"guest-files", RLIMIT_NOFILE, &config->guest_files, WORM_DEFAULT_GUEST_FILES},
        {"guest-procs", RLIMIT_NPROC, &config->guest_procs, WORM_DEFAULT_GUEST_PROCS},
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit own;
        if (!*limits[i].value || getrlimit (limits[i].resource, &own)
            || own.rlim_max == RLIM_INFINITY || *limits[i].value <= own.rlim_max)
            continue;
        if (*limits[i].value != limits[i].fallback) {
            snprintf (err, cap, "--%s: %lu is above wormd's own hard limit %lu, and only root "
                                "may raise it", limits[i].name, *limits[i].value,
                      (unsigned long) own.rlim_max);
            return -1;
        }
        *limits[i].value = (unsigned long) own.rlim_max;
    }
    return 0;
}

int
worm_config_load (worm_config_t *config, int argc, char **argv, char *err, size_t cap)
{
    worm_config_defaults (config);
    //  --help wins, even over a file that would be refused
    for (int i = 0; i < argc; i++)
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
            return 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv[i], "--config") == 0 && i + 1 < argc
            && s_load_file (config, argv[i + 1], err, cap))
            return -1;
        if (strncmp (argv[i], "--config=", 9) == 0 && s_load_file (config, argv[i] + 9, err, cap))
            return -1;
    }
    int index = 0;
    if (worm_opts_parse (worm_config_options, argc, argv, &index, s_option, config, err, cap))
        return -1;
    if (index < argc) {
        snprintf (err, cap, "unexpected argument '%s'", argv[index]);
        return -1;
    }
    if (s_resolve_user (config, err, cap) || s_check_limits (config, err, cap))
        return -1;
    if (!config->broadcast[0] && !config->interface[0])
        snprintf (config->broadcast, sizeof config->broadcast, "127.255.255.255");
    if (!config->state_dir[0]) {
        if (geteuid () == 0)
            snprintf (config->state_dir, sizeof config->state_dir, "/var/lib/worm/%s",
                      config->name);
        else
            snprintf (config->state_dir, sizeof config->state_dir, "/tmp/worm-%u/%s",
                      (unsigned) geteuid (), config->name);
    }
    return 0;
}
