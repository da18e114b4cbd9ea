/*  wormctl — the client: starts and stops local clusters, finds hosts,
    reads and changes their policy. It talks to hosts only over the wire
    protocol (docs/PROTOCOL.md): broadcast queries and control requests.
*/
#include "app.h"
#include "beacon.h"
#include "ctl.h"
#include "discover.h"
#include "keys.h"
#include "log.h"
#include "opts.h"
#include "place.h"
#include "policy.h"
#include "random.h"
#include "spawn.h"
#include "udp.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOSTS 256
#define EXIT_USAGE 2

extern char **environ;

typedef struct {
    char dir[PATH_MAX];          //  local cluster folder
    bool dir_given;              //  --dir was given
    char broadcast[64];          //  --broadcast
    char interface[64];          //  --interface
    int beacon_port;             //  --beacon-port, 0 when not given
    double timeout_s;            //  --timeout, 0 when not given
    bool json;                   //  --json (hosts)
    bool help;                   //  --help
    char key_file[PATH_MAX];     //  --key, "" for the default
    char authorized_dir[PATH_MAX];   //  --authorized, "" for the default
} s_global_t;

//  The keys we trust hosts by (a forged beacon may name any key), and ours
static worm_keyset_t *s_trusted;
static zcert_t *s_cert;

//  The signal (SIGINT or SIGTERM) that interrupted the command, 0 while none
//  came; and whether the command said itself what it leaves behind
static volatile sig_atomic_t s_signal;
static bool s_told_interrupt;

//  Every wait in wormctl, worm/ctl.c and worm/discover.c looks at
//  zsys_interrupted at least every WORM_CTL_SLICE_MS: the command then
//  stops, says what it leaves, and exits 128 + the signal.
static void
s_on_signal (int signal_value)
{
    s_signal = signal_value;
    zsys_interrupted = 1;
}

static void
s_catch_signals (void)
{
    //  Ours instead of czmq's, which does not say which signal came; also
    //  when the shell started us with SIGINT ignored (a background job)
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
}

//  Sleeps ms, or less when interrupted. Returns true when interrupted.
static bool
s_sleep (int ms)
{
    int64_t until = worm_now_ms () + ms;
    while (!zsys_interrupted) {
        int64_t left = until - worm_now_ms ();
        if (left <= 0)
            break;
        zclock_sleep (left < WORM_CTL_SLICE_MS ? (int) left : WORM_CTL_SLICE_MS);
    }
    return zsys_interrupted != 0;
}

//  The command's one line on an interruption; later interruption lines
//  from main are not printed.
static void
s_say_interrupted (const char *command, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_say_interrupted (const char *command, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    fprintf (stderr, "wormctl %s: interrupted; %s\n", command, text);
    s_told_interrupt = true;
}

static const worm_opt_t s_global_options[] = {
    {"dir", "DIR", "the local cluster to use (default: $XDG_RUNTIME_DIR/worm/cluster or "
                   "/tmp/worm-UID/cluster)"},
    {"broadcast", "ADDR", "broadcast address of the hosts' LAN (instead of a local cluster)"},
    {"interface", "IF", "interface whose broadcast address to use"},
    {"beacon-port", "N", "UDP beacon port of that LAN (default 5670)"},
    {"timeout", "SECONDS", "how long to wait for answers (default: 1, 'up' 15)"},
    {"key", "FILE", "our keypair (default: $WORM_KEY, the local cluster's DIR/user.cert "
                    "when there is one, else ~/.config/worm/user.cert)"},
    {"authorized", "DIR", "the hosts' public keys we trust (default: $WORM_AUTHORIZED, "
                          "DIR/authorized, else ~/.config/worm/authorized)"},
    {"help", NULL, "print this help"},
    {NULL, NULL, NULL},
};

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: wormctl [GLOBAL OPTIONS] COMMAND [OPTIONS]\n\n"
             "Commands:\n"
             "  up --hosts N [-- WORMD-OPTIONS]   start a local cluster of N virtual hosts\n"
             "  down                              stop the local cluster's hosts\n"
             "  hosts [--json]                    the hosts that answer, willing or not\n"
             "  willing [--json]                  who is willing? answers in arrival order\n"
             "  registry HOST [--json]            the hosts HOST has heard\n"
             "  policy HOST [--max-segments N ...] print or change a host's policy\n"
             "  launch NAME --app APP --size N    start a worm that keeps N segments\n"
             "  find NAME [--json]                the worm's segments, through the agents\n"
             "  status [NAME] [--json]            each worm: app, size/target, epoch, round\n"
             "  kill NAME                         kill every segment of the worm\n"
             "  evictions HOST [--json]           HOST's eviction receipts\n"
             "  keygen [--out FILE]               make a user keypair (CurveZMQ)\n\n"
             "Global options:\n");
    worm_opts_help (out, s_global_options);
    fprintf (out, "\nOn SIGINT or SIGTERM a command stops within about 200 ms, says what it\n"
                  "leaves running, and exits 130 or 143.\n"
                  "'wormctl COMMAND --help' describes a command.\n");
}

static int
s_global_set (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_global_t *global = (s_global_t *) arg;
    long number;
    if (strcmp (name, "help") == 0)
        global->help = true;
    else if (strcmp (name, "dir") == 0) {
        snprintf (global->dir, sizeof global->dir, "%s", value);
        global->dir_given = true;
    }
    else if (strcmp (name, "broadcast") == 0)
        snprintf (global->broadcast, sizeof global->broadcast, "%s", value);
    else if (strcmp (name, "interface") == 0)
        snprintf (global->interface, sizeof global->interface, "%s", value);
    else if (strcmp (name, "beacon-port") == 0) {
        if (worm_parse_int (value, 1, 65535, &number, err, cap))
            return -1;
        global->beacon_port = (int) number;
    }
    else if (strcmp (name, "timeout") == 0)
        return worm_parse_double (value, 0.01, 3600, &global->timeout_s, err, cap);
    else if (strcmp (name, "json") == 0)
        global->json = true;
    else if (strcmp (name, "key") == 0)
        snprintf (global->key_file, sizeof global->key_file, "%s", value);
    else if (strcmp (name, "authorized") == 0)
        snprintf (global->authorized_dir, sizeof global->authorized_dir, "%s", value);
    return 0;
}

//  Where one of our key files is: the option, then (for a cluster named
//  with --dir) the cluster's file, then $ENV, then a local cluster's file,
//  then ~/.config/worm/NAME. name is the file's name in either folder.
static void
s_key_path (const s_global_t *global, const char *option, const char *env, const char *name,
            char *path, size_t cap)
{
    char in_cluster[PATH_MAX + 32];
    snprintf (in_cluster, sizeof in_cluster, "%s/%s", global->dir, name);
    bool lan = global->broadcast[0] || global->interface[0];
    bool cluster_there = !lan && access (in_cluster, R_OK) == 0;
    const char *from_env = getenv (env);
    if (option[0])
        snprintf (path, cap, "%s", option);
    else if (cluster_there && global->dir_given)
        snprintf (path, cap, "%s", in_cluster);
    else if (from_env && *from_env)
        snprintf (path, cap, "%s", from_env);
    else if (cluster_there)
        snprintf (path, cap, "%s", in_cluster);
    else {
        worm_keys_default_path (path, cap);
        char *slash = strrchr (path, '/');
        snprintf (slash + 1, cap - (size_t) (slash + 1 - path), "%s", name);
    }
}

//  Loads our keypair and the trusted keys (s_key_path says where). Returns
//  0, or -1 with err.
static int
s_load_keys (const s_global_t *global, char *err, size_t cap)
{
    char path[PATH_MAX + 32];
    s_key_path (global, global->key_file, "WORM_KEY", "user.cert", path, sizeof path);
    char why[PATH_MAX + 128];
    s_cert = worm_keys_load (path, why, sizeof why);
    if (!s_cert) {
        snprintf (err, cap, "%s (make one with 'wormctl keygen', or name one with --key)", why);
        return -1;
    }
    worm_ctl_set_identity (s_cert);
    s_key_path (global, global->authorized_dir, "WORM_AUTHORIZED", "authorized", path,
                sizeof path);
    s_trusted = worm_keyset_new (path);
    return 0;
}

//  Whether a host found by broadcast has a key we trust: an impostor's
//  answer gets nothing from us. Fills err when not.
static bool
s_host_trusted (const worm_hostinfo_t *host, char *err, size_t cap)
{
    if (s_trusted && worm_keyset_has (s_trusted, host->key))
        return true;
    snprintf (err, cap, "host %s answered with key %s, which is not authorized here",
              host->name, host->key);
    return false;
}

//  A request to a host found by broadcast, when we trust its key.
static int
s_host_call (const worm_hostinfo_t *host, worm_wire_writer_t *request, int timeout_ms,
             worm_wire_reader_t *reply, char *err, size_t cap)
{
    if (!s_host_trusted (host, err, cap))
        return -1;
    return worm_ctl_call (host->endpoint, host->key, request, timeout_ms, reply, err, cap);
}

//  worm_ctl_request to a host found by broadcast, under the same condition.
static int
s_host_request (const worm_hostinfo_t *host, const char *op, const char *key, const char *value,
                int timeout_ms, worm_wire_reader_t *reply, char *err, size_t cap)
{
    if (!s_host_trusted (host, err, cap))
        return -1;
    return worm_ctl_request (host->endpoint, host->key, op, key, value, timeout_ms, reply, err,
                             cap);
}

static void
s_default_dir (char *buf, size_t cap)
{
    const char *runtime = getenv ("XDG_RUNTIME_DIR");
    if (runtime && *runtime)
        snprintf (buf, cap, "%s/worm/cluster", runtime);
    else
        snprintf (buf, cap, "/tmp/worm-%u/cluster", (unsigned) geteuid ());
}

static int
s_timeout_ms (const s_global_t *global, double fallback_s)
{
    return (int) ((global->timeout_s > 0 ? global->timeout_s : fallback_s) * 1000);
}

//  --------------------------------------------------------------------------
//  The local cluster's record: DIR/cluster.zpl

typedef struct {
    char broadcast[64];          //  the cluster's broadcast address
    int port;                    //  its beacon port
    int hosts;                   //  how many hosts it started
    pid_t pids[MAX_HOSTS];       //  their agents' pids, host1 first
} s_cluster_t;

static int
s_cluster_read (const char *dir, s_cluster_t *cluster, char *err, size_t cap)
{
    memset (cluster, 0, sizeof *cluster);
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/cluster.zpl", dir);
    if (access (path, R_OK)) {
        snprintf (err, cap, "no local cluster in %s (start one with 'wormctl up', or give "
                            "--broadcast or --interface)", dir);
        return -1;
    }
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        snprintf (err, cap, "%s is not a valid ZPL file", path);
        return -1;
    }
    snprintf (cluster->broadcast, sizeof cluster->broadcast, "%s",
              zconfig_get (root, "cluster/broadcast", ""));
    cluster->port = atoi (zconfig_get (root, "cluster/beacon-port", "0"));
    cluster->hosts = atoi (zconfig_get (root, "cluster/hosts", "0"));
    if (cluster->hosts < 0 || cluster->hosts > MAX_HOSTS)
        cluster->hosts = 0;
    for (int i = 0; i < cluster->hosts; i++) {
        char key[64];
        snprintf (key, sizeof key, "cluster/host%d/pid", i + 1);
        cluster->pids[i] = (pid_t) atoi (zconfig_get (root, key, "0"));
    }
    zconfig_destroy (&root);
    if (!cluster->broadcast[0] || cluster->port <= 0) {
        snprintf (err, cap, "%s lacks cluster/broadcast or cluster/beacon-port", path);
        return -1;
    }
    return 0;
}

static int
s_cluster_write (const char *dir, const s_cluster_t *cluster)
{
    zconfig_t *root = zconfig_new ("root", NULL);
    zconfig_put (root, "cluster/broadcast", cluster->broadcast);
    zconfig_putf (root, "cluster/beacon-port", "%d", cluster->port);
    zconfig_putf (root, "cluster/hosts", "%d", cluster->hosts);
    for (int i = 0; i < cluster->hosts; i++) {
        char key[64];
        snprintf (key, sizeof key, "cluster/host%d/pid", i + 1);
        zconfig_putf (root, key, "%d", (int) cluster->pids[i]);
    }
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/cluster.zpl", dir);
    int rc = zconfig_save (root, path);
    zconfig_destroy (&root);
    return rc;
}

//  True when pid is the wormd that serves DIR/hostN (not a reused pid).
static bool
s_is_cluster_agent (pid_t pid, const char *dir, int n)
{
    if (pid <= 0)
        return false;
    char path[64], exe[PATH_MAX];
    snprintf (path, sizeof path, "/proc/%d/exe", (int) pid);
    ssize_t len = readlink (path, exe, sizeof exe - 1);
    if (len <= 0)
        return false;
    exe[len] = 0;
    const char *base = strrchr (exe, '/');
    base = base ? base + 1 : exe;
    if (strncmp (base, "wormd", 5) != 0 || (base[5] && strcmp (base + 5, " (deleted)") != 0))
        return false;
    snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    char cmdline[8192];
    size_t size = fread (cmdline, 1, sizeof cmdline - 1, file);
    fclose (file);
    cmdline[size] = 0;
    char state_dir[PATH_MAX + 32];
    snprintf (state_dir, sizeof state_dir, "%s/host%d", dir, n);
    for (size_t at = 0; at < size; at += strlen (cmdline + at) + 1)
        if (strcmp (cmdline + at, state_dir) == 0)
            return true;
    return false;
}

//  The LAN to talk on: from --broadcast/--interface, else the local cluster,
//  whose size goes to *expected (0 when unknown).
static int
s_lan (const s_global_t *global, worm_lan_t *lan, int *expected, char *err, size_t cap)
{
    *expected = 0;
    if (global->broadcast[0] || global->interface[0])
        return worm_lan_resolve (global->broadcast, global->interface,
                                 global->beacon_port ? global->beacon_port : 5670, lan, err, cap);
    s_cluster_t cluster;
    if (s_cluster_read (global->dir, &cluster, err, cap))
        return -1;
    *expected = cluster.hosts;
    return worm_lan_resolve (cluster.broadcast, NULL, cluster.port, lan, err, cap);
}

//  --------------------------------------------------------------------------
//  Finding hosts

typedef struct {
    worm_hostinfo_t hosts[MAX_HOSTS];   //  answers, in arrival order
    double arrival_ms[MAX_HOSTS];       //  when each came, after the query
    int count;                          //  how many
    const char *wanted;                 //  stop at the host of this name, or NULL
    int expected;                       //  stop once the local cluster's host1..hostN
                                        //  all answered (N), 0: no such rule
    int members;                        //  how many of those answered
    int64_t started_us;                 //  when the query went out
} s_found_t;

//  Whether name is "hostK" with K from 1 to hosts: one of the local
//  cluster's (another agent on its port, e.g. one started by hand, is not).
static bool
s_cluster_member (const char *name, int hosts)
{
    if (strncmp (name, "host", 4) != 0 || name[4] < '1' || name[4] > '9')
        return false;
    char *end;
    long k = strtol (name + 4, &end, 10);
    return *end == 0 && k >= 1 && k <= hosts;
}

static int
s_collect (void *arg, const worm_hostinfo_t *host)
{
    s_found_t *found = (s_found_t *) arg;
    if (found->count < MAX_HOSTS) {
        found->arrival_ms[found->count] = (double) (zclock_usecs () - found->started_us) / 1000;
        found->hosts[found->count++] = *host;
        found->members += found->expected && s_cluster_member (host->name, found->expected);
    }
    return (found->wanted && strcmp (host->name, found->wanted) == 0)
           || (found->expected && found->members >= found->expected);
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (((const worm_hostinfo_t *) a)->name, ((const worm_hostinfo_t *) b)->name);
}

//  Asks every host on the LAN; answers sorted by name.
static int
s_find_hosts (const s_global_t *global, s_found_t *found, char *err, size_t cap)
{
    worm_lan_t lan;
    if (s_lan (global, &lan, &found->expected, err, cap))
        return -1;
    int timeout = s_timeout_ms (global, 1.0);
    found->started_us = zclock_usecs ();
    found->count = found->members = 0;
    if (worm_discover (&lan, true, timeout, timeout < 300 ? timeout : 300, s_collect, found, err,
                       cap)
        < 0)
        return -1;
    qsort (found->hosts, (size_t) found->count, sizeof found->hosts[0], s_by_name);
    return 0;
}

//  Finds one host by name; returns 0 with *host filled, or -1 with err.
static int
s_find_host (const s_global_t *global, const char *name, worm_hostinfo_t *host, char *err,
             size_t cap)
{
    s_found_t *found = calloc (1, sizeof *found);
    found->wanted = name;
    int rc = s_find_hosts (global, found, err, cap);
    if (rc == 0) {
        rc = -1;
        snprintf (err, cap, "no host named '%s' answered", name);
        for (int i = 0; i < found->count; i++)
            if (strcmp (found->hosts[i].name, name) == 0) {
                *host = found->hosts[i];
                rc = 0;
            }
    }
    free (found);
    return rc;
}

static void
s_json_string (FILE *out, const char *text)
{
    fputc ('"', out);
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf (out, "\\u%04x", *p);
        else
            fputc (*p, out);
    }
    fputc ('"', out);
}

static void
s_human_seconds (double seconds, char *buf, size_t cap)
{
    if (seconds < 120)
        snprintf (buf, cap, "%.0fs", seconds);
    else if (seconds < 7200)
        snprintf (buf, cap, "%.0fm", seconds / 60);
    else if (seconds < 172800)
        snprintf (buf, cap, "%.0fh", seconds / 3600);
    else
        snprintf (buf, cap, "%.0fd", seconds / 86400);
}

//  Parses a command's options (all of them global-style flags); prints its
//  help when asked. Returns -1 to go on, else the exit status.
static int
s_simple_options (s_global_t *global, const char *command, const worm_opt_t *options,
                  int argc, char **argv, int *index, const char *usage)
{
    char err[512];
    if (worm_opts_parse (options, argc, argv, index, s_global_set, global, err, sizeof err)) {
        fprintf (stderr, "wormctl %s: %s\n", command, err);
        return EXIT_USAGE;
    }
    if (global->help) {
        printf ("%s\n", usage);
        worm_opts_help (stdout, options);
        return 0;
    }
    return -1;
}

//  Parses "COMMAND [NAME] [OPTIONS]". missing: the complaint when NAME is
//  required and absent (NULL: optional). Returns -1 to go on with *name
//  set (NULL when absent), else the exit status.
static int
s_named_command (s_global_t *global, const char *command, const worm_opt_t *options, int argc,
                 char **argv, const char *usage, const char *missing, const char **name)
{
    int index = 0;
    *name = argc > 0 && strncmp (argv[0], "--", 2) ? argv[index++] : NULL;
    int rc = s_simple_options (global, command, options, argc, argv, &index, usage);
    if (rc >= 0)
        return rc;
    if (index < argc) {
        fprintf (stderr, "wormctl %s: unexpected argument '%s'\n", command, argv[index]);
        return EXIT_USAGE;
    }
    if (!*name && missing) {
        fprintf (stderr, "wormctl %s: %s (see wormctl %s --help)\n", command, missing, command);
        return EXIT_USAGE;
    }
    return -1;
}

static const worm_opt_t s_json_options[] = {
    {"json", NULL, "print a JSON array of objects"},
    {"help", NULL, "print this help"},
    {NULL, NULL, NULL},
};

//  Prints hosts as a table or a JSON array; arrival_ms, when given, adds
//  when each answer came (ms after the query).
static void
s_print_hosts (const worm_hostinfo_t *hosts, int count, const double *arrival_ms, bool json)
{
    if (json) {
        printf ("[");
        for (int i = 0; i < count; i++) {
            const worm_hostinfo_t *host = &hosts[i];
            printf ("%s\n  {\"name\": ", i ? "," : "");
            s_json_string (stdout, host->name);
            printf (", \"id\": \"%s\", \"willing\": %s, \"reason\": ", host->id,
                    host->willing ? "true" : "false");
            s_json_string (stdout, host->reason);
            printf (", \"load\": %.2f, \"idle_s\": %.1f, \"segments\": %u, \"max_segments\": %u"
                    ", \"endpoint\": ",
                    host->load, host->idle_s, host->segments, host->max_segments);
            s_json_string (stdout, host->endpoint);
            printf (", \"interval_ms\": %u", host->interval_ms);
            if (arrival_ms)
                printf (", \"answer_ms\": %.3f", arrival_ms[i]);
            printf ("}");
        }
        printf ("%s]\n", count ? "\n" : "");
        return;
    }
    printf ("%-16s %-7s %-28s %6s %6s %-12s %-*s%s\n", "NAME", "WILLING", "REASON", "LOAD",
            "IDLE", "SEGMENTS/MAX", arrival_ms ? 26 : 0, "ENDPOINT", arrival_ms ? " ANSWER" : "");
    for (int i = 0; i < count; i++) {
        const worm_hostinfo_t *host = &hosts[i];
        char idle[16], slots[24], arrival[32] = "";
        s_human_seconds (host->idle_s, idle, sizeof idle);
        snprintf (slots, sizeof slots, "%u/%u", host->segments, host->max_segments);
        if (arrival_ms)
            snprintf (arrival, sizeof arrival, " %.2f ms", arrival_ms[i]);
        printf ("%-16s %-7s %-28s %6.2f %6s %-12s %-*s%s\n", host->name,
                host->willing ? "yes" : "no", host->reason, host->load, idle, slots,
                arrival_ms ? 26 : 0, host->endpoint, arrival);
    }
}

static int
s_cmd_hosts (s_global_t *global, int argc, char **argv)
{
    const char *name;
    int rc = s_named_command (
        global, "hosts", s_json_options, argc, argv,
        "Usage: wormctl [GLOBAL OPTIONS] hosts [--json]\n\n"
        "Broadcasts a query and lists every host that answers within the timeout:\n"
        "whether it is willing to take guests and why, its load, how long its user\n"
        "has been idle, its guests and its control endpoint.\n",
        NULL, &name);
    if (rc >= 0)
        return rc;
    if (name) {
        fprintf (stderr, "wormctl hosts: unexpected argument '%s'\n", name);
        return EXIT_USAGE;
    }
    char err[512];
    s_found_t *found = calloc (1, sizeof *found);
    if (s_find_hosts (global, found, err, sizeof err)) {
        fprintf (stderr, "wormctl hosts: %s\n", err);
        free (found);
        return 1;
    }
    s_print_hosts (found->hosts, found->count, NULL, global->json);
    if (found->count == 0)
        fprintf (stderr, "wormctl hosts: no host answered within %d ms\n",
                 s_timeout_ms (global, 1.0));
    free (found);
    return 0;
}

static int
s_cmd_willing (s_global_t *global, int argc, char **argv)
{
    const char *name;
    int rc = s_named_command (
        global, "willing", s_json_options, argc, argv,
        "Usage: wormctl [GLOBAL OPTIONS] willing [--json]\n\n"
        "Broadcasts \"who is willing?\" and lists the willing hosts in the order their\n"
        "answers came, with when they came: each host waits in proportion to its load\n"
        "before answering, so the first is the least loaded.\n",
        NULL, &name);
    if (rc >= 0)
        return rc;
    if (name) {
        fprintf (stderr, "wormctl willing: unexpected argument '%s'\n", name);
        return EXIT_USAGE;
    }
    char err[512];
    worm_lan_t lan;
    int cluster_size;
    if (s_lan (global, &lan, &cluster_size, err, sizeof err)) {
        fprintf (stderr, "wormctl willing: %s\n", err);
        return 1;
    }
    s_found_t *found = calloc (1, sizeof *found);
    found->started_us = zclock_usecs ();
    int timeout = s_timeout_ms (global, 1.0);
    if (worm_discover (&lan, false, timeout, timeout < 300 ? timeout : 300, s_collect, found,
                       err, sizeof err) < 0) {
        fprintf (stderr, "wormctl willing: %s\n", err);
        free (found);
        return 1;
    }
    s_print_hosts (found->hosts, found->count, found->arrival_ms, global->json);
    if (found->count == 0)
        fprintf (stderr, "wormctl willing: no willing host answered within %d ms\n", timeout);
    free (found);
    return 0;
}

//  Finds host NAME and sends it one request with no fields; the reply stays
//  in reply. Returns 0, or 1 after printing why for COMMAND.
static int
s_ask_host (const s_global_t *global, const char *command, const char *name, const char *op,
            worm_wire_reader_t *reply)
{
    char err[512];
    worm_hostinfo_t host;
    if (s_find_host (global, name, &host, err, sizeof err)) {
        fprintf (stderr, "wormctl %s: %s\n", command, err);
        return 1;
    }
    if (s_host_request (&host, op, NULL, NULL, s_timeout_ms (global, 2.0), reply, err,
                        sizeof err)) {
        fprintf (stderr, "wormctl %s: %s: %s\n", command, name, err);
        return 1;
    }
    return 0;
}

static int
s_cmd_registry (s_global_t *global, int argc, char **argv)
{
    const char *name;
    int rc = s_named_command (global, "registry", s_json_options, argc, argv,
                              "Usage: wormctl [GLOBAL OPTIONS] registry HOST [--json]\n\n"
                               "The hosts that HOST has heard announce themselves, as it last\n"
                               "heard them (its registry, like Sprite's reginfo).\n",
                              "name the host", &name);
    if (rc >= 0)
        return rc;
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    const msgpack_object_array *list = NULL;
    rc = s_ask_host (global, "registry", name, "registry", &reply);
    if (rc == 0 && worm_wire_get_array (&reply, reply.root, "hosts", &list, MAX_HOSTS)) {
        fprintf (stderr, "wormctl registry: %s: bad reply: %s\n", name, reply.error);
        rc = 1;
    }
    if (rc == 0) {
        worm_hostinfo_t *heard = calloc (list->size + 1, sizeof *heard);
        uint32_t count = 0;
        for (uint32_t i = 0; i < list->size; i++)
            if (worm_hostinfo_read (&reply, &list->ptr[i], &heard[count]) == 0)
                count++;
        s_print_hosts (heard, (int) count, NULL, global->json);
        free (heard);
    }
    worm_wire_reader_fini (&reply);
    return rc;
}

//  --------------------------------------------------------------------------
//  Worms: launch, find, status, kill

#define MAX_SEGMENTS 1024

typedef struct {
    char worm[65];          //  worm name
    char worm_id[64];       //  worm id
    char id[64];            //  segment id
    char host[65];          //  host name
    char endpoint[128];     //  the segment's endpoint
    char key[41];           //  its worm's public key (the segment serves with it)
    uint64_t pid;           //  its pid on that host
    bool evicting;          //  its host is evicting it: it is on its way out
    //  From the segment itself (status), when it answered:
    bool answered;          //  it answered
    bool holds_token;       //  it holds the token now
    char app[65];           //  the worm's app
    char state[16];         //  its ring state
    uint64_t epoch, live, target, round_ms;   //  from its copy of the token
} s_segment_t;

typedef struct {
    s_segment_t items[MAX_SEGMENTS];    //  segments found
    int count;                          //  how many
    int hosts;                          //  hosts that answered the broadcast
    int silent;                         //  of those, hosts that did not answer 'find'
                                        //  (or refused us)
    char silent_name[MAX_HOSTS][65];    //  their names
    char silent_why[MAX_HOSTS][256];    //  and why, as the request said
    int answered;                       //  hosts that answered 'find'
    char answered_name[MAX_HOSTS][65];  //  their names
    int ignored;                        //  hosts whose key we do not trust
    char ignored_why[MAX_HOSTS][256];   //  why each was ignored
} s_segments_t;

//  Host names already told about, so a command that polls says each
//  failure once (s_tell_once)
typedef struct {
    char names[MAX_HOSTS * 2][300];     //  host names, or "!why" for ignored hosts
    int count;                          //  how many
} s_told_t;

//  True the first time it is asked about name in told; records it.
static bool
s_tell_once (s_told_t *told, const char *name)
{
    for (int i = 0; i < told->count; i++)
        if (strcmp (told->names[i], name) == 0)
            return false;
    if (told->count < MAX_HOSTS * 2)
        snprintf (told->names[told->count++], sizeof told->names[0], "%s", name);
    return true;
}

//  Prints, for COMMAND, the hosts of the last s_find_segments that did not
//  answer 'find' or were ignored; each host once per told (NULL: always).
static void
s_report_silent (const char *command, const s_segments_t *found, s_told_t *told)
{
    for (int i = 0; i < found->ignored; i++) {
        char tag[300];
        snprintf (tag, sizeof tag, "!%s", found->ignored_why[i]);
        if (!told || s_tell_once (told, tag))
            fprintf (stderr, "wormctl %s: ignored: %s\n", command, found->ignored_why[i]);
    }
    for (int i = 0; i < found->silent; i++)
        if (!told || s_tell_once (told, found->silent_name[i]))
            fprintf (stderr, "wormctl %s: %s did not answer 'find': %s\n", command,
                     found->silent_name[i], found->silent_why[i]);
}

//  When no host answered 'find' (none answered the broadcast, or every one
//  that did refused or fell silent), says so for COMMAND and returns true.
static bool
s_nobody_answered (const char *command, const s_global_t *global, const s_segments_t *found)
{
    if (found->answered > 0)
        return false;
    if (found->hosts == 0)
        fprintf (stderr, "wormctl %s: no host answered the query within %d ms\n", command,
                 s_timeout_ms (global, 1.0));
    else
        fprintf (stderr, "wormctl %s: none of the %d host(s) that answered the query answered "
                         "'find' (%d refused or fell silent, %d ignored)\n",
                 command, found->hosts, found->silent, found->ignored);
    return true;
}

//  Whether host name answered the last s_find_segments.
static bool
s_host_answered (const s_segments_t *found, const char *name)
{
    for (int i = 0; i < found->answered; i++)
        if (strcmp (found->answered_name[i], name) == 0)
            return true;
    return false;
}

//  Asks one segment how it sees its worm.
static void
s_segment_status (s_segment_t *segment, int timeout_ms)
{
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[256];
    if (worm_ctl_request (segment->endpoint, segment->key, "status", NULL, NULL, timeout_ms,
                          &reply, err, sizeof err) == 0
        && worm_wire_get_bool (&reply, reply.root, "holds_token", &segment->holds_token) == 0
        && worm_wire_get_str (&reply, reply.root, "app", segment->app, sizeof segment->app) == 0
        && worm_wire_get_str (&reply, reply.root, "state", segment->state,
                              sizeof segment->state) == 0
        && worm_wire_get_u64 (&reply, reply.root, "epoch", &segment->epoch) == 0
        && worm_wire_get_u64 (&reply, reply.root, "live", &segment->live) == 0
        && worm_wire_get_u64 (&reply, reply.root, "target", &segment->target) == 0
        && worm_wire_get_u64 (&reply, reply.root, "round_ms", &segment->round_ms) == 0)
        segment->answered = true;
    worm_wire_reader_fini (&reply);
}

static void *
s_status_thread (void *arg)
{
    s_segment_t *segment = (s_segment_t *) arg;
    if (segment->evicting)
        //  It leaves, or has left and waits to be reaped: asking it could
        //  cost a whole timeout for nothing
        snprintf (segment->state, sizeof segment->state, "leaving");
    else
        s_segment_status (segment, 1000);
    return NULL;
}

//  Asks every segment found for its status, STATUS_BATCH at a time in
//  parallel: a segment that is gone (its host not yet aware) costs the
//  whole call one timeout, not one each.
#define STATUS_BATCH 32
static void
s_segments_status (s_segments_t *found)
{
    for (int first = 0; first < found->count; first += STATUS_BATCH) {
        pthread_t threads[STATUS_BATCH];
        bool started[STATUS_BATCH] = {false};
        int batch = found->count - first < STATUS_BATCH ? found->count - first : STATUS_BATCH;
        for (int i = 0; i < batch; i++)
            started[i] = pthread_create (&threads[i], NULL, s_status_thread,
                                         &found->items[first + i]) == 0;
        for (int i = 0; i < batch; i++) {
            if (started[i])
                pthread_join (threads[i], NULL);
            else
                s_status_thread (&found->items[first + i]);
        }
    }
}

//  Finds the segments of one worm (or all, worm NULL) through the agents;
//  with ask, asks each segment for its status too. The hosts asked go to
//  agents when it is not NULL.
static int
s_find_segments (const s_global_t *global, const char *worm, bool ask, s_segments_t *found,
                 s_found_t *agents, char *err, size_t cap)
{
    s_found_t *hosts = agents ? agents : calloc (1, sizeof *hosts);
    found->count = 0;
    if (s_find_hosts (global, hosts, err, cap)) {
        if (!agents)
            free (hosts);
        return -1;
    }
    found->hosts = hosts->count;
    found->silent = found->answered = found->ignored = 0;
    for (int h = 0; h < hosts->count; h++) {
        if (!s_host_trusted (&hosts->hosts[h], found->ignored_why[found->ignored],
                             sizeof found->ignored_why[0])) {
            //  Not one of ours (an impostor, or a host not yet authorized):
            //  it neither answers for the worm nor counts as silent
            found->ignored++;
            continue;
        }
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        char why[256];
        const msgpack_object_array *list;
        int asked = s_host_request (&hosts->hosts[h], "find", worm ? "worm" : NULL, worm,
                                    s_timeout_ms (global, 2.0), &reply, why, sizeof why);
        if (asked && zsys_interrupted) {
            worm_wire_reader_fini (&reply);
            snprintf (err, cap, "interrupted");
            if (!agents)
                free (hosts);
            return -1;
        }
        if (asked == 0 && worm_wire_get_array (&reply, reply.root, "segments", &list, MAX_SEGMENTS)) {
            snprintf (why, sizeof why, "bad reply: %s", reply.error);
            asked = -1;
        }
        if (asked == 0) {
            snprintf (found->answered_name[found->answered++], sizeof found->answered_name[0],
                      "%s", hosts->hosts[h].name);
            for (uint32_t i = 0; i < list->size && found->count < MAX_SEGMENTS; i++) {
                s_segment_t *segment = &found->items[found->count];
                memset (segment, 0, sizeof *segment);
                const msgpack_object *map = &list->ptr[i];
                if (worm_wire_get_str (&reply, map, "worm", segment->worm, sizeof segment->worm)
                    || worm_wire_get_str (&reply, map, "worm_id", segment->worm_id,
                                          sizeof segment->worm_id)
                    || worm_wire_get_str (&reply, map, "id", segment->id, sizeof segment->id)
                    || worm_wire_get_str (&reply, map, "host", segment->host,
                                          sizeof segment->host)
                    || worm_wire_get_str (&reply, map, "endpoint", segment->endpoint,
                                          sizeof segment->endpoint)
                    || worm_wire_get_str (&reply, map, "key", segment->key, sizeof segment->key)
                    || worm_wire_get_u64 (&reply, map, "pid", &segment->pid)
                    || worm_wire_get_bool (&reply, map, "evicting", &segment->evicting) < 0)
                    continue;
                found->count++;
            }
        }
        else {
            snprintf (found->silent_name[found->silent], sizeof found->silent_name[0], "%s",
                      hosts->hosts[h].name);
            snprintf (found->silent_why[found->silent++], sizeof found->silent_why[0], "%s",
                      why);
        }
        worm_wire_reader_fini (&reply);
    }
    if (!agents)
        free (hosts);
    if (ask)
        s_segments_status (found);
    if (zsys_interrupted) {
        snprintf (err, cap, "interrupted");
        return -1;
    }
    return 0;
}

//  "host2, host4" for a worm's segments.
static void
s_host_list (const s_segments_t *found, char *buf, size_t cap)
{
    buf[0] = 0;
    for (int i = 0; i < found->count; i++) {
        size_t used = strlen (buf);
        snprintf (buf + used, cap - used, "%s%s", used ? ", " : "", found->items[i].host);
    }
}

//  worm_place's question between hosts: stop when we are interrupted.
static bool
s_place_cancelled (void *arg)
{
    (void) arg;
    return zsys_interrupted != 0;
}

typedef struct {
    char app[65];               //  --app
    long size, max, hold;       //  --size, --max, --hold
    const char *params[WORM_TOKEN_MAX_PARAMS];  //  --param K=V
    int nparams;                //  how many
    bool help;                  //  --help
} s_launch_t;

static int
s_launch_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_launch_t *launch = (s_launch_t *) arg;
    if (strcmp (name, "help") == 0)
        launch->help = true;
    else if (strcmp (name, "app") == 0) {
        if (!worm_app_find (value)) {
            char names[256] = "";
            for (int i = 0; worm_apps[i]; i++) {
                size_t used = strlen (names);
                snprintf (names + used, sizeof names - used, "%s%s", used ? ", " : "",
                          worm_apps[i]->name);
            }
            snprintf (err, cap, "no app named '%s' (apps: %s)", value, names);
            return -1;
        }
        snprintf (launch->app, sizeof launch->app, "%s", value);
    }
    else if (strcmp (name, "size") == 0)
        return worm_parse_int (value, 1, WORM_TOKEN_MAX_MEMBERS, &launch->size, err, cap);
    else if (strcmp (name, "max") == 0)
        return worm_parse_int (value, 1, WORM_TOKEN_MAX_MEMBERS, &launch->max, err, cap);
    else if (strcmp (name, "hold") == 0)
        return worm_parse_int (value, 1, 60000, &launch->hold, err, cap);
    else if (strcmp (name, "param") == 0) {
        if (!strchr (value, '=') || value[0] == '=' || strlen (value) >= WORM_TOKEN_PARAM_MAX
            || launch->nparams >= WORM_TOKEN_MAX_PARAMS) {
            snprintf (err, cap, "'%s' is not KEY=VALUE", value);
            return -1;
        }
        launch->params[launch->nparams++] = value;
    }
    return 0;
}

static int
s_cmd_launch (s_global_t *global, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"app", "APP", "the app the worm runs (existential: none)"},
        {"size", "N", "how many segments the worm keeps (1 to 64)"},
        {"max", "M", "hard cap on segments, spawns in flight included (default N+1)"},
        {"param", "K=V", "an app parameter (repeatable)"},
        {"hold", "MS", "how long each segment keeps the token (default 100)"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    s_launch_t launch = {.size = 0};
    char err[512];
    const char *name = argc > 0 && strncmp (argv[0], "--", 2) ? argv[0] : NULL;
    int index = name ? 1 : 0;
    if (worm_opts_parse (options, argc, argv, &index, s_launch_option, &launch, err,
                         sizeof err)) {
        fprintf (stderr, "wormctl launch: %s\n", err);
        return EXIT_USAGE;
    }
    if (launch.help || global->help) {
        printf ("Usage: wormctl [GLOBAL OPTIONS] launch NAME --app APP --size N [OPTIONS]\n\n"
                "Finds a willing host and starts the worm's first segment there; the worm\n"
                "then grows itself to N segments, one per willing host. Exits 0 once N are\n"
                "live; after --timeout (default 30 s) exits 1 with the reason, and the worm\n"
                "keeps running under-populated, growing as hosts become willing.\n\n");
        worm_opts_help (stdout, options);
        return 0;
    }
    const char *problem = !name                 ? "name the worm"
                          : index < argc        ? "unexpected argument"
                          : !launch.app[0]      ? "say which app with --app"
                          : !launch.size        ? "say how many segments with --size"
                          : !worm_name_valid (name) ? "the name is not [A-Za-z0-9._-]{1,64}"
                                                : NULL;
    if (!launch.max)
        launch.max = launch.size < WORM_TOKEN_MAX_MEMBERS ? launch.size + 1 : launch.size;
    if (!problem && launch.max < launch.size)
        problem = "--max is below --size";
    if (problem) {
        fprintf (stderr, "wormctl launch: %s (see wormctl launch --help)\n", problem);
        return EXIT_USAGE;
    }
    s_segments_t *found = calloc (1, sizeof *found);
    s_told_t *told = calloc (1, sizeof *told);
    int rc = 1;
    if (s_find_segments (global, name, false, found, NULL, err, sizeof err)) {
        if (zsys_interrupted)
            s_say_interrupted ("launch", "nothing was started");
        else
            fprintf (stderr, "wormctl launch: %s\n", err);
        goto done;
    }
    s_report_silent ("launch", found, told);
    if (found->count) {
        char hosts[1024];
        s_host_list (found, hosts, sizeof hosts);
        fprintf (stderr, "wormctl launch: worm %s already runs on %s\n", name, hosts);
        goto done;
    }
    worm_lan_t lan;
    int cluster_size;
    if (s_lan (global, &lan, &cluster_size, err, sizeof err)) {
        fprintf (stderr, "wormctl launch: %s\n", err);
        goto done;
    }
    //  The first segment founds the worm
    worm_segspec_t founder = {.found = true,
                              .size = (uint32_t) launch.size,
                              .max = (uint32_t) launch.max,
                              .hold_ms = (uint64_t) (launch.hold ? launch.hold : 100),
                              .nparams = launch.nparams};
    char *worm_id = founder.worm_id;
    worm_random_hex (worm_id, 16);
    snprintf (founder.worm, sizeof founder.worm, "%s", name);
    snprintf (founder.app, sizeof founder.app, "%s", launch.app);
    for (int i = 0; i < launch.nparams; i++)
        snprintf (founder.params[i], sizeof founder.params[i], "%s", launch.params[i]);
    if (worm_segspec_check (&founder, err, sizeof err)) {
        fprintf (stderr, "wormctl launch: %s\n", err);
        rc = EXIT_USAGE;
        goto done;
    }
    //  The worm's own keypair: its segments serve and speak with it
    zcert_t *worm_cert = zcert_new ();
    worm_place_t spec = {.worm = name, .segment = &founder, .timeout_ms = 1000,
                         .worm_public = zcert_public_txt (worm_cert),
                         .worm_secret = zcert_secret_txt (worm_cert), .trusted = s_trusted,
                         .cancelled = s_place_cancelled};
    worm_hostinfo_t host;
    pid_t pid;
    int placed = worm_place (&lan, &spec, &host, &pid, err, sizeof err);
    zcert_destroy (&worm_cert);
    if (placed && zsys_interrupted) {
        //  A spawn request may have gone out before its reply was cut short
        s_say_interrupted ("launch", "worm %s may have started on a host before its answer came "
                                     "(wormctl find %s; wormctl kill %s to stop it)",
                           name, name, name);
        goto done;
    }
    if (placed) {
        fprintf (stderr, "wormctl launch: cannot start worm %s: %s\n", name, err);
        goto done;
    }
    printf ("worm %s (id %s, app %s) founded on %s, pid %d; growing to %ld\n", name, worm_id,
            launch.app, host.name, (int) pid, launch.size);
    fflush (stdout);
    int64_t deadline = worm_now_ms () + s_timeout_ms (global, 30.0);
    int shown = -1;
    int processes = 1;      //  segment processes last seen (the founder, at first)
    while (worm_now_ms () < deadline) {
        if (s_find_segments (global, name, true, found, NULL, err, sizeof err) == 0) {
            s_report_silent ("launch", found, told);
            if (found->count > processes || found->silent == 0)
                processes = found->count;
            uint64_t live = 0;
            for (int i = 0; i < found->count; i++)
                if (found->items[i].answered && found->items[i].live > live)
                    live = found->items[i].live;
            int running = found->count < (int) live ? found->count : (int) live;
            if (running != shown) {
                printf ("%s: %d/%ld segments live\n", name, running, launch.size);
                fflush (stdout);
                shown = running;
            }
            if (running >= launch.size) {
                rc = 0;
                goto done;
            }
        }
        if (s_sleep (200) || zsys_interrupted) {
            s_say_interrupted ("launch", "worm %s keeps running with %d segment(s) (wormctl kill "
                                         "%s to stop it)",
                               name, processes > 0 ? processes : 1, name);
            goto done;
        }
    }
    //  How many hosts the worm could use now: willing ones and those it holds
    s_found_t *willing = calloc (1, sizeof *willing);
    worm_discover (&lan, false, 500, 100, s_collect, willing, err, sizeof err);
    if (s_find_segments (global, name, false, found, NULL, err, sizeof err) == 0)
        processes = found->count;
    if (zsys_interrupted) {
        s_say_interrupted ("launch", "worm %s keeps running with %d segment(s) (wormctl kill "
                                     "%s to stop it)",
                           name, processes > 0 ? processes : 1, name);
        free (willing);
        goto done;
    }
    int usable = willing->count;
    for (int i = 0; i < found->count; i++) {
        bool counted = false;
        for (int k = 0; k < willing->count; k++)
            counted |= strcmp (willing->hosts[k].name, found->items[i].host) == 0;
        usable += !counted;
    }
    fprintf (stderr,
             "wormctl launch: worm %s has %d of %ld segments after %d ms: only %d willing "
             "host(s) now; it keeps running and grows when hosts become willing\n",
             name, shown < 0 ? 0 : shown, launch.size, s_timeout_ms (global, 30.0), usable);
    free (willing);
done:
    free (told);
    free (found);
    return rc;
}

static int
s_cmd_find (s_global_t *global, int argc, char **argv)
{
    const char *name;
    int rc = s_named_command (global, "find", s_json_options, argc, argv,
                              "Usage: wormctl [GLOBAL OPTIONS] find NAME [--json]\n\n"
                               "Every segment of worm NAME, found through the host agents (not\n"
                               "the token): id, host, pid, endpoint, and which holds the token.\n"
                               "Exits 1 when no host answered (every one refused, or none was\n"
                               "there); a host that did not answer is named on stderr.\n",
                              "name the worm", &name);
    if (rc >= 0)
        return rc;
    if (!worm_name_valid (name)) {
        fprintf (stderr, "wormctl find: the name is not [A-Za-z0-9._-]{1,64}\n");
        return EXIT_USAGE;
    }
    char err[512];
    s_segments_t *found = calloc (1, sizeof *found);
    if (s_find_segments (global, name, true, found, NULL, err, sizeof err)) {
        fprintf (stderr, "wormctl find: %s\n", err);
        free (found);
        return 1;
    }
    s_report_silent ("find", found, NULL);
    if (s_nobody_answered ("find", global, found)) {
        free (found);
        return 1;
    }
    if (global->json) {
        printf ("[");
        for (int i = 0; i < found->count; i++) {
            const s_segment_t *segment = &found->items[i];
            printf ("%s\n  {\"id\": \"%s\", \"host\": ", i ? "," : "", segment->id);
            s_json_string (stdout, segment->host);
            printf (", \"pid\": %llu, \"endpoint\": ", (unsigned long long) segment->pid);
            s_json_string (stdout, segment->endpoint);
            printf (", \"key\": ");
            s_json_string (stdout, segment->key);
            printf (", \"holds_token\": %s, \"state\": \"%s\", \"epoch\": %llu}",
                    segment->holds_token ? "true" : "false",
                    segment->answered || segment->evicting ? segment->state : "unreachable",
                    (unsigned long long) segment->epoch);
        }
        printf ("%s]\n", found->count ? "\n" : "");
    }
    else {
        printf ("%-24s %-16s %-8s %-26s %s\n", "ID", "HOST", "PID", "ENDPOINT", "TOKEN");
        for (int i = 0; i < found->count; i++) {
            const s_segment_t *segment = &found->items[i];
            printf ("%-24s %-16s %-8llu %-26s %s\n", segment->id, segment->host,
                    (unsigned long long) segment->pid, segment->endpoint,
                    segment->holds_token ? "holds"
                    : segment->evicting  ? "(leaving: evicted)"
                    : segment->answered  ? ""
                                         : "(no answer)");
        }
        if (found->count == 0)
            fprintf (stderr, "wormctl find: no segment of worm %s on the %d host(s) that "
                             "answered\n", name, found->answered);
    }
    free (found);
    return 0;
}

static int
s_cmd_status (s_global_t *global, int argc, char **argv)
{
    const char *name;
    int rc = s_named_command (global, "status", s_json_options, argc, argv,
                              "Usage: wormctl [GLOBAL OPTIONS] status [NAME] [--json]\n\n"
                               "Each worm seen (or only NAME): its app, live population in its\n"
                               "token and target, epoch, last round time, segment processes.\n"
                               "Exits 1 when no host answered (every one refused, or none was\n"
                               "there); a host that did not answer is named on stderr.\n",
                              NULL, &name);
    if (rc >= 0)
        return rc;
    if (name && !worm_name_valid (name)) {
        fprintf (stderr, "wormctl status: the name is not [A-Za-z0-9._-]{1,64}\n");
        return EXIT_USAGE;
    }
    char err[512];
    s_segments_t *found = calloc (1, sizeof *found);
    if (s_find_segments (global, name, true, found, NULL, err, sizeof err)) {
        fprintf (stderr, "wormctl status: %s\n", err);
        free (found);
        return 1;
    }
    s_report_silent ("status", found, NULL);
    if (s_nobody_answered ("status", global, found)) {
        free (found);
        return 1;
    }
    //  One row per worm: the freshest view among its segments
    int shown = 0;
    if (global->json)
        printf ("[");
    else
        printf ("%-20s %-12s %-9s %-8s %-10s %s\n", "NAME", "APP", "SIZE", "EPOCH", "ROUND",
                "SEGMENTS");
    for (int i = 0; i < found->count; i++) {
        bool seen = false;
        for (int k = 0; k < i; k++)
            seen |= strcmp (found->items[k].worm, found->items[i].worm) == 0;
        if (seen)
            continue;
        const s_segment_t *best = NULL;
        int processes = 0;
        for (int k = i; k < found->count; k++)
            if (strcmp (found->items[k].worm, found->items[i].worm) == 0) {
                processes++;
                const s_segment_t *candidate = &found->items[k];
                if (candidate->answered && candidate->epoch && (!best || candidate->epoch > best->epoch
                                          || (candidate->epoch == best->epoch
                                              && candidate->holds_token)))
                    best = candidate;
            }
        const char *app = best ? best->app : "?";
        uint64_t live = best ? best->live : 0, target = best ? best->target : 0;
        uint64_t epoch = best ? best->epoch : 0, round = best ? best->round_ms : 0;
        if (global->json) {
            printf ("%s\n  {\"name\": ", shown ? "," : "");
            s_json_string (stdout, found->items[i].worm);
            printf (", \"app\": ");
            s_json_string (stdout, app);
            printf (", \"size\": %llu, \"target\": %llu, \"epoch\": %llu, \"round_ms\": %llu, "
                    "\"segments\": %d}",
                    (unsigned long long) live, (unsigned long long) target,
                    (unsigned long long) epoch, (unsigned long long) round, processes);
        }
        else {
            char size[32], round_text[32];
            snprintf (size, sizeof size, "%llu/%llu", (unsigned long long) live,
                      (unsigned long long) target);
            snprintf (round_text, sizeof round_text, "%llu ms", (unsigned long long) round);
            printf ("%-20s %-12s %-9s %-8llu %-10s %d\n", found->items[i].worm, app, size,
                    (unsigned long long) epoch, round_text, processes);
        }
        shown++;
    }
    if (global->json)
        printf ("%s]\n", shown ? "\n" : "");
    else if (!shown)
        fprintf (stderr, "wormctl status: no worm seen on the %d host(s) that answered\n",
                 found->answered);
    free (found);
    return 0;
}

//  The agents a kill went to, and those that did not take it
typedef struct {
    s_told_t *sent_to;          //  agents asked, by name
    int sent;                   //  how many took it
    char (*refused)[65];        //  hosts whose agent did not take it
    char (*refused_why)[256];   //  and why
    int nrefused;               //  how many
} s_kills_t;

//  Sends KILL of worm name to every trusted agent in hosts not yet asked.
//  Naming the worm's id (when known) lets the hosts that have no segment of
//  it refuse a spawn of it still on its way: they remember ids, not names.
static void
s_kill_agents (const s_found_t *hosts, const char *name, const char *worm_id, s_kills_t *kills)
{
    for (int h = 0; h < hosts->count && !zsys_interrupted; h++) {
        char err[512];
        if (!s_host_trusted (&hosts->hosts[h], err, sizeof err)
            || !s_tell_once (kills->sent_to, hosts->hosts[h].name))
            continue;
        worm_wire_writer_t request;
        worm_wire_writer_init (&request);
        worm_wire_map (&request, worm_id[0] ? 3 : 2);
        worm_wire_kstr (&request, "op", "kill");
        worm_wire_kstr (&request, "worm", name);
        if (worm_id[0])
            worm_wire_kstr (&request, "worm_id", worm_id);
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        int rc = s_host_call (&hosts->hosts[h], &request, 2000, &reply, err, sizeof err);
        worm_wire_writer_fini (&request);
        if (rc == 0)
            kills->sent++;
        else if (!zsys_interrupted && kills->nrefused < MAX_HOSTS) {
            fprintf (stderr, "wormctl kill: %s: %s\n", hosts->hosts[h].name, err);
            snprintf (kills->refused[kills->nrefused], sizeof kills->refused[0], "%s",
                      hosts->hosts[h].name);
            snprintf (kills->refused_why[kills->nrefused++], sizeof kills->refused_why[0], "%s",
                      err);
        }
        worm_wire_reader_fini (&reply);
    }
}

static int
s_cmd_kill (s_global_t *global, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    int index = 0;
    const char *name = argc > 0 && strncmp (argv[0], "--", 2) ? argv[index++] : NULL;
    int rc = s_simple_options (global, "kill", options, argc, argv, &index,
                               "Usage: wormctl [GLOBAL OPTIONS] kill NAME\n\n"
                               "Kills every segment of worm NAME: through its token, and through\n"
                               "every host agent directly (which also refuse to start that worm,\n"
                               "by its id, again for a minute; a new launch of NAME starts at\n"
                               "once), so it dies even when its token is lost. Only its launcher\n"
                               "may, or a host's owner on that host. Exits 0 once no segment is\n"
                               "left and every host that may hold one answered: the local\n"
                               "cluster's hosts, those that answered at first and those that ran\n"
                               "the worm (within --timeout, default 10 s). Else exits 1 and says,\n"
                               "one line a host, which segments may survive and where.\n");
    if (rc >= 0)
        return rc;
    if (!name || index < argc || !worm_name_valid (name)) {
        fprintf (stderr, "wormctl kill: %s\n",
                 !name ? "name the worm (see wormctl kill --help)"
                 : index < argc ? "unexpected argument" : "the name is not [A-Za-z0-9._-]{1,64}");
        return EXIT_USAGE;
    }
    char err[512];
    s_segments_t *found = calloc (1, sizeof *found);
    s_segments_t *first = calloc (1, sizeof *first);
    s_found_t *hosts = calloc (1, sizeof *hosts);
    s_told_t *told = calloc (1, sizeof *told);
    s_found_t *later = calloc (1, sizeof *later);        //  agents of the last poll
    //  The hosts that must answer before we may say the worm is gone: the
    //  local cluster's, those that answered at first, those that ran it
    char (*wanted)[65] = calloc (MAX_HOSTS * 3, sizeof *wanted);
    int nwanted = 0;
    s_kills_t kills = {.sent_to = calloc (1, sizeof (s_told_t)),
                       .refused = calloc (MAX_HOSTS, sizeof *kills.refused),
                       .refused_why = calloc (MAX_HOSTS, sizeof *kills.refused_why)};
    rc = 1;
    if (s_find_segments (global, name, false, first, hosts, err, sizeof err)) {
        if (zsys_interrupted)
            s_say_interrupted ("kill", "no kill was sent; worm %s keeps running", name);
        else
            fprintf (stderr, "wormctl kill: %s\n", err);
        goto done;
    }
    s_report_silent ("kill", first, told);
    s_cluster_t cluster;
    if (!global->broadcast[0] && !global->interface[0]
        && s_cluster_read (global->dir, &cluster, err, sizeof err) == 0)
        for (int i = 0; i < cluster.hosts; i++)
            snprintf (wanted[nwanted++], sizeof wanted[0], "host%d", i + 1);
    for (int h = 0; h < hosts->count; h++) {
        char untrusted[256];
        if (s_host_trusted (&hosts->hosts[h], untrusted, sizeof untrusted))
            snprintf (wanted[nwanted++], sizeof wanted[0], "%s", hosts->hosts[h].name);
    }
    for (int i = 0; i < first->count && nwanted < MAX_HOSTS * 3; i++)
        snprintf (wanted[nwanted++], sizeof wanted[0], "%s", first->items[i].host);
    //  Through the token: one segment puts the kill flag in it
    for (int i = 0; i < first->count && !zsys_interrupted; i++) {
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        int asked = worm_ctl_request (first->items[i].endpoint, first->items[i].key, "kill", NULL,
                                      NULL, 1000, &reply, err, sizeof err);
        worm_wire_reader_fini (&reply);
        if (asked == 0)
            break;
    }
    //  Through every agent, independently of the token (and, below, to
    //  every agent that answers later)
    const char *worm_id = first->count ? first->items[0].worm_id : "";
    s_kill_agents (hosts, name, worm_id, &kills);
    int64_t deadline = worm_now_ms () + s_timeout_ms (global, 10.0);
    bool gone = false;
    while (!zsys_interrupted) {
        if (s_find_segments (global, name, false, found, later, err, sizeof err) == 0) {
            s_report_silent ("kill", found, told);
            s_kill_agents (later, name, worm_id, &kills);
            gone = found->count == 0;
            for (int k = 0; k < nwanted; k++)
                gone &= s_host_answered (found, wanted[k]);
            if (gone)
                break;
        }
        if (worm_now_ms () >= deadline)
            break;
        s_sleep (100);
    }
    if (zsys_interrupted) {
        char left[1024];
        s_host_list (first, left, sizeof left);
        s_say_interrupted ("kill", "the kill reached %d of %d host agent(s); worm %s may still "
                                   "run%s%s (wormctl find %s)",
                           kills.sent, hosts->count, name, first->count ? " on " : "",
                           first->count ? left : "", name);
        goto done;
    }
    if (gone) {
        printf ("worm %s killed: %d segment(s) gone\n", name, first->count);
        rc = 0;
        goto done;
    }
    //  Say what may survive, and where: one line a host
    fprintf (stderr, "wormctl kill: worm %s may survive after %d ms:\n", name,
             s_timeout_ms (global, 10.0));
    s_told_t *said = calloc (1, sizeof *said);
    for (int i = 0; i < found->count; i++) {
        const char *host = found->items[i].host;
        const char *why = NULL;
        for (int k = 0; k < kills.nrefused; k++)
            if (strcmp (kills.refused[k], host) == 0)
                why = kills.refused_why[k];
        fprintf (stderr, "  a segment still runs on %s (pid %llu)%s%s\n", host,
                 (unsigned long long) found->items[i].pid, why ? "; its agent refused the kill: "
                                                               : "", why ? why : "");
        s_tell_once (said, host);
    }
    for (int k = 0; k < nwanted; k++) {
        if (s_host_answered (found, wanted[k]) || !s_tell_once (said, wanted[k]))
            continue;
        const char *why = "it did not answer the query";
        for (int i = 0; i < found->silent; i++)
            if (strcmp (found->silent_name[i], wanted[k]) == 0)
                why = found->silent_why[i];
        char ran[256] = "";
        for (int i = 0; i < first->count; i++)
            if (strcmp (first->items[i].host, wanted[k]) == 0) {
                size_t used = strlen (ran);
                snprintf (ran + used, sizeof ran - used, "%s%llu", used ? ", " : "",
                          (unsigned long long) first->items[i].pid);
            }
        if (ran[0])
            fprintf (stderr, "  %s, which ran segment pid %s, cannot tell whether it is gone "
                             "(%s)\n", wanted[k], ran, why);
        else
            fprintf (stderr, "  %s may run a segment: cannot ask it (%s)\n", wanted[k], why);
    }
    free (said);
done:
    free (later);
    free (kills.sent_to);
    free (kills.refused_why);
    free (kills.refused);
    free (wanted);
    free (told);
    free (hosts);
    free (first);
    free (found);
    return rc;
}

static int
s_cmd_evictions (s_global_t *global, int argc, char **argv)
{
    const char *name;
    int rc = s_named_command (global, "evictions", s_json_options, argc, argv,
                              "Usage: wormctl [GLOBAL OPTIONS] evictions HOST [--json]\n\n"
                              "HOST's eviction receipts, oldest first: when, which guest of which\n"
                              "worm, why, how long from the decision until its processes were gone\n"
                              "(CPU released), the signals it took, and what was left over.\n",
                              "name the host", &name);
    if (rc >= 0)
        return rc;
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    const msgpack_object_array *list = NULL;
    rc = s_ask_host (global, "evictions", name, "evictions", &reply);
    if (rc == 0 && worm_wire_get_array (&reply, reply.root, "evictions", &list, 1024)) {
        fprintf (stderr, "wormctl evictions: %s: bad reply: %s\n", name, reply.error);
        rc = 1;
    }
    if (rc == 0) {
        if (global->json)
            printf ("[");
        else
            printf ("%-24s %-8s %-16s %-10s %-16s %-10s %s\n", "WHEN", "GUEST", "WORM", "GONE AFTER",
                    "SIGNALS", "LEFT OVER", "REASON");
        for (uint32_t i = 0; i < list->size; i++) {
            const msgpack_object *map = &list->ptr[i];
            char guest[32] = "", worm[65] = "", reason[96] = "", signals[32] = "";
            int64_t at = 0, released = 0;
            uint64_t processes = 0;
            bool files = false;
            if (worm_wire_get_str (&reply, map, "guest", guest, sizeof guest)
                || worm_wire_get_str (&reply, map, "worm", worm, sizeof worm)
                || worm_wire_get_str (&reply, map, "reason", reason, sizeof reason)
                || worm_wire_get_str (&reply, map, "signals", signals, sizeof signals)
                || worm_wire_get_i64 (&reply, map, "at", &at)
                || worm_wire_get_i64 (&reply, map, "released_ms", &released)
                || worm_wire_get_u64 (&reply, map, "leftover_processes", &processes)
                || worm_wire_get_bool (&reply, map, "leftover_files", &files))
                continue;
            if (global->json) {
                printf ("%s\n  {\"at_ms\": %lld, \"guest\": \"%s\", \"worm\": ", i ? "," : "",
                        (long long) at, guest);
                s_json_string (stdout, worm);
                printf (", \"reason\": ");
                s_json_string (stdout, reason);
                printf (", \"released_ms\": %lld, \"signals\": \"%s\", \"leftover_processes\": "
                        "%llu, \"leftover_files\": %s}",
                        (long long) released, signals, (unsigned long long) processes,
                        files ? "true" : "false");
            }
            else {
                char when[32], gone[24], left[32];
                time_t seconds = (time_t) (at / 1000);
                strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime (&seconds));
                snprintf (gone, sizeof gone, "%lld ms", (long long) released);
                snprintf (left, sizeof left, "nothing");
                if (processes || files)
                    snprintf (left, sizeof left, "%llu proc%s", (unsigned long long) processes,
                              files ? ", files" : "");
                printf ("%-24s %-8s %-16s %-10s %-16s %-10s %s\n", when, guest, worm, gone,
                        signals, left, reason);
            }
        }
        if (global->json)
            printf ("%s]\n", list->size ? "\n" : "");
        rc = 0;
    }
    worm_wire_reader_fini (&reply);
    return rc;
}

typedef struct {
    char out[PATH_MAX];     //  --out
    bool force;             //  --force
    bool host;              //  --host: a host's key, not a user's
    bool help;              //  --help
} s_keygen_t;

static int
s_keygen_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_keygen_t *keygen = (s_keygen_t *) arg;
    if (strcmp (name, "help") == 0)
        keygen->help = true;
    else if (strcmp (name, "force") == 0)
        keygen->force = true;
    else if (strcmp (name, "host") == 0)
        keygen->host = true;
    else if (strlen (value) >= sizeof keygen->out) {
        snprintf (err, cap, "the path is too long");
        return -1;
    }
    else
        snprintf (keygen->out, sizeof keygen->out, "%s", value);
    return 0;
}

static int
s_cmd_keygen (s_global_t *global, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"out", "FILE", "where to write it (default $XDG_CONFIG_HOME/worm/user.cert)"},
        {"force", NULL, "replace an existing keypair"},
        {"host", NULL, "a host agent's keypair (role host), for its --key"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    s_keygen_t keygen = {.force = false};
    worm_keys_default_path (keygen.out, sizeof keygen.out);
    char err[PATH_MAX + 128];
    int index = 0;
    if (worm_opts_parse (options, argc, argv, &index, s_keygen_option, &keygen, err,
                         sizeof err)) {
        fprintf (stderr, "wormctl keygen: %s\n", err);
        return EXIT_USAGE;
    }
    if (keygen.help || global->help) {
        printf ("Usage: wormctl keygen [--out FILE] [--force] [--host]\n\n"
                "Makes a CurveZMQ keypair for a user: FILE holds the public key, FILE_secret\n"
                "(mode 0600) the secret one. Prints the public key, which host owners add to\n"
                "their authorized keys. With --host, the keypair of a host agent: its file\n"
                "says role = \"host\", and hosts that authorize it let it vouch for the\n"
                "launchers of the worms it relays for.\n\n");
        worm_opts_help (stdout, options);
        return 0;
    }
    if (index < argc) {
        fprintf (stderr, "wormctl keygen: unexpected argument '%s'\n", argv[index]);
        return EXIT_USAGE;
    }
    zcert_t *cert = worm_keys_create (keygen.out,
                                     keygen.host ? WORM_ROLE_HOST_NAME : WORM_ROLE_USER_NAME,
                                     keygen.force, err, sizeof err);
    if (!cert) {
        fprintf (stderr, "wormctl keygen: %s\n", err);
        return 1;
    }
    printf ("%s\n", zcert_public_txt (cert));
    fprintf (stderr, "keypair written to %s and %s_secret\n", keygen.out, keygen.out);
    zcert_destroy (&cert);
    return 0;
}

//  --------------------------------------------------------------------------
//  Policy

typedef struct {
    char keys[8][32];       //  policy fields to change
    double values[8];       //  their new values
    int count;              //  how many
} s_changes_t;

static int
s_policy_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    if (strcmp (name, "help") == 0) {
        ((s_changes_t *) arg)->count = -1;
        return 0;
    }
    s_changes_t *changes = (s_changes_t *) arg;
    double number;
    if (worm_parse_double (value, -1e300, 1e300, &number, err, cap))
        return -1;
    //  Check it the way the host will, so a typo fails before anything is sent
    worm_policy_t scratch;
    worm_policy_defaults (&scratch);
    char why[256];
    if (worm_policy_set (&scratch, name, number, why, sizeof why)) {
        const char *colon = strstr (why, ": ");
        snprintf (err, cap, "%s", colon ? colon + 2 : why);
        return -1;
    }
    if (changes->count >= 8)
        return 0;
    snprintf (changes->keys[changes->count], sizeof changes->keys[0], "%s", name);
    changes->values[changes->count++] = number;
    return 0;
}

static int
s_cmd_policy (s_global_t *global, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"max-segments", "N", "guests the host takes at most"},
        {"max-load", "F", "refuse guests above this 1-minute load"},
        {"min-idle", "SECONDS", "user idle time required"},
        {"min-free-mem", "PERCENT", "available memory required"},
        {"check-interval", "SECONDS", "availability check and beacon interval"},
        {"grace", "SECONDS", "SIGTERM to SIGKILL on eviction"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    char err[512];
    s_changes_t changes = {.count = 0};
    const char *host_name = NULL;
    int index = 0;
    if (argc > 0 && strncmp (argv[0], "--", 2) != 0) {
        host_name = argv[0];
        index = 1;
    }
    if (worm_opts_parse (options, argc, argv, &index, s_policy_option, &changes, err,
                         sizeof err)) {
        fprintf (stderr, "wormctl policy: %s\n", err);
        return EXIT_USAGE;
    }
    if (changes.count < 0 || global->help) {
        printf ("Usage: wormctl [GLOBAL OPTIONS] policy HOST [OPTIONS]\n\n"
                "Prints the owner's policy of HOST, or changes the fields given at run time.\n"
                "Tightening it makes the host unwilling at once.\n\n");
        worm_opts_help (stdout, options);
        return 0;
    }
    if (!host_name || index < argc) {
        fprintf (stderr, "wormctl policy: %s\n",
                 host_name ? "unexpected argument" : "name the host (see wormctl policy --help)");
        return EXIT_USAGE;
    }
    worm_hostinfo_t host;
    if (s_find_host (global, host_name, &host, err, sizeof err)) {
        fprintf (stderr, "wormctl policy: %s\n", err);
        return 1;
    }
    int rc = 1;
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, changes.count ? 2 : 1);
    worm_wire_kstr (&request, "op", changes.count ? "policy-set" : "policy");
    if (changes.count) {
        worm_wire_str (&request, "policy");
        worm_wire_map (&request, (size_t) changes.count);
        for (int i = 0; i < changes.count; i++)
            worm_wire_kf64 (&request, changes.keys[i], changes.values[i]);
    }
    if (s_host_call (&host, &request, s_timeout_ms (global, 2.0), &reply, err, sizeof err)) {
        fprintf (stderr, "wormctl policy: %s: %s\n", host_name, err);
        goto done;
    }
    const msgpack_object *policy;
    if (worm_wire_get_map (&reply, reply.root, "policy", &policy)) {
        fprintf (stderr, "wormctl policy: %s: bad reply: %s\n", host_name, reply.error);
        goto done;
    }
    for (int i = 0; worm_policy_keys[i]; i++) {
        double value = 0;
        worm_wire_get_f64 (&reply, policy, worm_policy_keys[i], &value);
        printf ("%-16s %g\n", worm_policy_keys[i], value);
    }
    rc = 0;
done:
    worm_wire_writer_fini (&request);
    worm_wire_reader_fini (&reply);
    return rc;
}

//  --------------------------------------------------------------------------
//  The local cluster

//  Whether pid has exited and waits to be reaped (it serves nothing).
static bool
s_zombie (pid_t pid)
{
    char path[64], stat_line[512] = "";
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return true;
    size_t size = fread (stat_line, 1, sizeof stat_line - 1, file);
    fclose (file);
    stat_line[size] = 0;
    //  "PID (COMM) STATE ...": COMM may hold spaces and parentheses
    const char *close = strrchr (stat_line, ')');
    return !close || close[1] != ' ' || close[2] == 'Z' || close[2] == 'X';
}

static bool
s_alive (pid_t pid)
{
    return pid > 0 && (kill (pid, 0) == 0 || errno == EPERM) && !s_zombie (pid);
}

//  Asks one agent how many hosts it has heard; -1 when it does not answer.
static int
s_heard (const char *endpoint, const char *key)
{
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, 1);
    worm_wire_kstr (&request, "op", "status");
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[256];
    uint64_t heard = 0;
    int rc = -1;
    if (worm_ctl_call (endpoint, key, &request, 1000, &reply, err, sizeof err) == 0
        && worm_wire_get_u64 (&reply, reply.root, "registry", &heard) == 0)
        rc = (int) heard;
    worm_wire_writer_fini (&request);
    worm_wire_reader_fini (&reply);
    return rc;
}

static int
s_read_endpoint (const char *dir, int n, char *buf, size_t cap)
{
    char path[PATH_MAX + 48];
    snprintf (path, sizeof path, "%s/host%d/endpoint", dir, n);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    if (!fgets (buf, (int) cap, file))
        buf[0] = 0;
    fclose (file);
    buf[strcspn (buf, "\n")] = 0;
    return buf[0] ? 0 : -1;
}

//  Stops the agents recorded for dir: SIGTERM, then up to wait_ms for them
//  to go, then SIGKILL for those still there. When interrupted it stops
//  waiting at once, and sends SIGKILL only with kill_interrupted (a failed
//  'up', whose young agents hold no guests). Returns how many it stopped;
//  *running (may be NULL) gets how many still run, named on stderr.
static int
s_stop_agents (const char *dir, const s_cluster_t *cluster, int wait_ms, bool kill_interrupted,
               int *running)
{
    int stopped = 0, left = 0;
    bool signalled[MAX_HOSTS] = {false};
    for (int i = 0; i < cluster->hosts; i++) {
        //  One of our own children that already exited (a failed 'up')
        if (cluster->pids[i] > 0 && waitpid (cluster->pids[i], NULL, WNOHANG) == cluster->pids[i])
            continue;
        if (s_is_cluster_agent (cluster->pids[i], dir, i + 1)) {
            kill (cluster->pids[i], SIGTERM);
            signalled[i] = true;
        }
        else if (s_alive (cluster->pids[i]))
            fprintf (stderr, "wormctl: pid %d is no longer host%d's wormd; left alone\n",
                     (int) cluster->pids[i], i + 1);
    }
    int64_t deadline = worm_now_ms () + wait_ms;
    for (int i = 0; i < cluster->hosts; i++) {
        if (!signalled[i])
            continue;
        pid_t pid = cluster->pids[i];
        //  Our own children (agents of this 'up') stay zombies until reaped
        while (waitpid (pid, NULL, WNOHANG) != pid && s_is_cluster_agent (pid, dir, i + 1)
               && worm_now_ms () < deadline && !zsys_interrupted)
            zclock_sleep (10);
        if (s_is_cluster_agent (pid, dir, i + 1) && (!zsys_interrupted || kill_interrupted)) {
            if (!zsys_interrupted)
                fprintf (stderr, "wormctl: host%d (pid %d) did not stop within %d ms; killing "
                                 "it\n", i + 1, (int) pid, wait_ms);
            kill (pid, SIGKILL);
            for (int tries = 0; tries < 50 && waitpid (pid, NULL, WNOHANG) != pid
                                && s_is_cluster_agent (pid, dir, i + 1); tries++)
                zclock_sleep (2);
        }
        if (s_is_cluster_agent (pid, dir, i + 1)) {
            fprintf (stderr, "wormctl: host%d (pid %d) is still stopping\n", i + 1, (int) pid);
            left++;
        }
        else
            stopped++;
    }
    if (running)
        *running = left;
    return stopped;
}

//  --------------------------------------------------------------------------
//  What 'wormctl up' made: DIR/cluster.manifest, one line a thing,
//  "KIND PATH" with PATH relative to DIR, in the order they were made:
//  "dir ." (DIR itself), "dir P" (a folder, removed once empty), "file P",
//  "tree P" (an agent's state folder, removed whole once no agent runs
//  there). A failed 'up' and 'down' remove exactly these, newest first;
//  'up' refuses a folder that holds anything else.

#define MANIFEST "cluster.manifest"
#define MANIFEST_HEAD "# made by 'wormctl up'; 'wormctl down' removes exactly these"

typedef struct {
    char kind[8];               //  "dir", "file" or "tree"
    char path[256];             //  relative to the cluster folder
    bool keep;                  //  s_manifest_remove leaves it
} s_made_t;

typedef struct {
    s_made_t items[MAX_HOSTS * 2 + 32];   //  what was made, oldest first
    int count;                            //  how many
} s_manifest_t;

//  Reads DIR/cluster.manifest. Returns 0, 1 when there is none, or -1 with
//  err when it is not one of ours.
static int
s_manifest_load (const char *dir, s_manifest_t *manifest, char *err, size_t cap)
{
    memset (manifest, 0, sizeof *manifest);
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/" MANIFEST, dir);
    FILE *file = fopen (path, "r");
    if (!file)
        return errno == ENOENT ? 1 : (snprintf (err, cap, "cannot read %s: %s", path,
                                                strerror (errno)), -1);
    char line[512];
    int number = 0, rc = 0;
    while (fgets (line, sizeof line, file)) {
        number++;
        line[strcspn (line, "\n")] = 0;
        if (number == 1 && strcmp (line, MANIFEST_HEAD) == 0)
            continue;
        char *space = strchr (line, ' ');
        if (number == 1 || !space || manifest->count >= (int) (sizeof manifest->items
                                                               / sizeof manifest->items[0])) {
            snprintf (err, cap, "%s, line %d, is not what 'wormctl up' writes", path, number);
            rc = -1;
            break;
        }
        *space = 0;
        s_made_t *item = &manifest->items[manifest->count];
        const char *rel = space + 1;
        bool kind_ok = strcmp (line, "dir") == 0 || strcmp (line, "file") == 0
                       || strcmp (line, "tree") == 0;
        if (!kind_ok || !rel[0] || rel[0] == '/' || strstr (rel, "..")
            || strlen (rel) >= sizeof item->path) {
            snprintf (err, cap, "%s, line %d, is not what 'wormctl up' writes", path, number);
            rc = -1;
            break;
        }
        snprintf (item->kind, sizeof item->kind, "%s", line);
        snprintf (item->path, sizeof item->path, "%s", rel);
        manifest->count++;
    }
    fclose (file);
    return rc;
}

static s_made_t *
s_manifest_find (s_manifest_t *manifest, const char *rel)
{
    for (int i = 0; i < manifest->count; i++)
        if (strcmp (manifest->items[i].path, rel) == 0)
            return &manifest->items[i];
    return NULL;
}

//  Records that up is about to make rel (KIND as above), before it makes
//  it, so that a crash leaves nothing unrecorded. Returns 0 or -1 with err.
static int
s_manifest_add (const char *dir, s_manifest_t *manifest, const char *kind, const char *rel,
                char *err, size_t cap)
{
    if (s_manifest_find (manifest, rel))
        return 0;
    if (manifest->count >= (int) (sizeof manifest->items / sizeof manifest->items[0])) {
        snprintf (err, cap, "too many things in %s/" MANIFEST, dir);
        return -1;
    }
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/" MANIFEST, dir);
    bool fresh = access (path, F_OK) != 0;
    FILE *file = fopen (path, "a");
    if (!file || (fresh && fprintf (file, "%s\n", MANIFEST_HEAD) < 0)
        || fprintf (file, "%s %s\n", kind, rel) < 0 || fclose (file)) {
        snprintf (err, cap, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    s_made_t *item = &manifest->items[manifest->count++];
    memset (item, 0, sizeof *item);
    snprintf (item->kind, sizeof item->kind, "%s", kind);
    snprintf (item->path, sizeof item->path, "%s", rel);
    return 0;
}

//  Finds the first thing under DIR/rel (rel "" for DIR) that the manifest
//  (NULL: none) does not account for, a file rather than its folder when
//  it can; writes its path into out and returns true.
static bool
s_foreign (const char *dir, s_manifest_t *manifest, const char *rel, char *out, size_t cap)
{
    char path[PATH_MAX + 256];
    snprintf (path, sizeof path, "%s%s%s", dir, rel[0] ? "/" : "", rel);
    DIR *folder = opendir (path);
    if (!folder) {
        snprintf (out, cap, "%s", path);
        return true;
    }
    struct dirent *entry;
    bool found = false;
    while (!found && (entry = readdir (folder))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        char child[512];
        snprintf (child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", entry->d_name);
        if (!rel[0] && strcmp (child, MANIFEST) == 0 && manifest && manifest->count)
            continue;
        s_made_t *item = manifest ? s_manifest_find (manifest, child) : NULL;
        char full[PATH_MAX + 512];
        snprintf (full, sizeof full, "%s/%s", dir, child);
        struct stat st;
        bool is_dir = lstat (full, &st) == 0 && S_ISDIR (st.st_mode);
        if (!item || (strcmp (item->kind, "file") == 0 && is_dir)
            || (strcmp (item->kind, "file") != 0 && !is_dir)) {
            //  Name a file in a folder of someone else's, not just the folder
            if (!is_dir || !s_foreign (full, NULL, "", out, cap))
                snprintf (out, cap, "%s", full);
            found = true;
        }
        else if (strcmp (item->kind, "dir") == 0)
            found = s_foreign (dir, manifest, child, out, cap);
    }
    closedir (folder);
    return found;
}

//  Removes what the manifest lists, newest first, except items marked
//  keep; rewrites the manifest with what is left, or removes it (and DIR,
//  when up made it, unless keep_dir) when nothing is. Returns how many
//  items are left, DIR itself not counted.
static int
s_manifest_remove (const char *dir, s_manifest_t *manifest, bool keep_dir)
{
    char path[PATH_MAX + 256];
    bool made_dir = false;
    for (int i = manifest->count - 1; i >= 0; i--) {
        s_made_t *item = &manifest->items[i];
        if (strcmp (item->path, ".") == 0) {
            made_dir = true;
            continue;
        }
        if (item->keep)
            continue;
        snprintf (path, sizeof path, "%s/%s", dir, item->path);
        struct stat st;
        if (strcmp (item->kind, "tree") == 0)
            worm_rmtree (path);
        else if (strcmp (item->kind, "dir") == 0)
            rmdir (path);
        else
            unlink (path);
        //  Still there (a folder that something else was put into): keep
        //  it on the record
        item->keep = lstat (path, &st) == 0;
    }
    int left = 0;
    for (int i = 0; i < manifest->count; i++)
        left += manifest->items[i].keep;
    snprintf (path, sizeof path, "%s/" MANIFEST, dir);
    if (left == 0 && !(made_dir && keep_dir)) {
        unlink (path);
        if (made_dir)
            rmdir (dir);
        return 0;
    }
    FILE *file = fopen (path, "w");
    if (file) {
        fprintf (file, "%s\n", MANIFEST_HEAD);
        for (int i = 0; i < manifest->count; i++)
            if (manifest->items[i].keep || strcmp (manifest->items[i].path, ".") == 0)
                fprintf (file, "%s %s\n", manifest->items[i].kind, manifest->items[i].path);
        fclose (file);
    }
    return left;
}

//  The pid of a live wormd that serves the state folder state (named in
//  its arguments, relative to its working folder or not, or writing its
//  pid file there), or 0 when none does.
static pid_t
s_agent_in (const char *state)
{
    char real[PATH_MAX];
    if (!realpath (state, real))
        return 0;
    pid_t from_file = 0;
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/wormd.pid", state);
    FILE *file = fopen (path, "r");
    if (file) {
        int number = 0;
        if (fscanf (file, "%d", &number) == 1)
            from_file = (pid_t) number;
        fclose (file);
    }
    DIR *proc = opendir ("/proc");
    if (!proc)
        return 0;
    pid_t found = 0;
    struct dirent *entry;
    while (!found && (entry = readdir (proc))) {
        pid_t pid = (pid_t) atoi (entry->d_name);
        if (pid <= 0)
            continue;
        char comm[32] = "";
        snprintf (path, sizeof path, "/proc/%d/comm", (int) pid);
        file = fopen (path, "r");
        if (!file)
            continue;
        if (!fgets (comm, sizeof comm, file))
            comm[0] = 0;
        fclose (file);
        comm[strcspn (comm, "\n")] = 0;
        if (strcmp (comm, "wormd") != 0 || s_zombie (pid))
            continue;
        if (pid == from_file) {
            found = pid;
            break;
        }
        snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
        file = fopen (path, "r");
        if (!file)
            continue;
        static char cmdline[16384];
        size_t size = fread (cmdline, 1, sizeof cmdline - 1, file);
        fclose (file);
        cmdline[size] = 0;
        char cwd[PATH_MAX] = "";
        snprintf (path, sizeof path, "/proc/%d/cwd", (int) pid);
        ssize_t len = readlink (path, cwd, sizeof cwd - 1);
        cwd[len > 0 ? len : 0] = 0;
        for (size_t at = 0; at < size && !found; at += strlen (cmdline + at) + 1) {
            const char *arg = cmdline + at;
            if (strncmp (arg, "--state-dir=", 12) == 0)
                arg += 12;
            char joined[2 * PATH_MAX + 2], resolved[PATH_MAX];
            if (arg[0] == '/')
                snprintf (joined, sizeof joined, "%s", arg);
            else if (cwd[0])
                snprintf (joined, sizeof joined, "%s/%s", cwd, arg);
            else
                continue;
            if (realpath (joined, resolved) && strcmp (resolved, real) == 0)
                found = pid;
        }
    }
    closedir (proc);
    return found;
}

//  Prints the last lines of an agent's log, indented, for a failed 'up'
//  (which removes the log with the rest).
static void
s_print_log_tail (const char *path, int lines)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "  (no log at %s)\n", path);
        return;
    }
    static char ring[16][512];
    int count = 0;
    while (fgets (ring[count % 16], sizeof ring[0], file))
        count++;
    fclose (file);
    if (lines > 16)
        lines = 16;
    int first = count > lines ? count - lines : 0;
    if (count == 0)
        fprintf (stderr, "  (its log %s is empty)\n", path);
    for (int i = first; i < count; i++) {
        char *line = ring[i % 16];
        line[strcspn (line, "\n")] = 0;
        fprintf (stderr, "  %s\n", line);
    }
}

static int
s_cmd_down (s_global_t *global, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    int index = 0;
    int rc = s_simple_options (
        global, "down", options, argc, argv, &index,
        "Usage: wormctl [--dir DIR] down\n\n"
        "Stops exactly the host agents that 'wormctl up' started in DIR (by their\n"
        "recorded pids, checked to still be those agents), which stop their guests,\n"
        "and removes exactly what 'up' made there (listed in DIR/" MANIFEST ").\n"
        "The state folder of an agent that still runs there (one restarted by hand)\n"
        "is left, and so are the cluster's shared files; it then exits 1 saying so.\n");
    if (rc >= 0)
        return rc;
    if (index < argc) {
        fprintf (stderr, "wormctl down: unexpected argument '%s'\n", argv[index]);
        return EXIT_USAGE;
    }
    const char *dir = global->dir;
    char err[512];
    s_cluster_t cluster;
    s_manifest_t *manifest = calloc (1, sizeof *manifest);
    int listed = s_manifest_load (dir, manifest, err, sizeof err);
    rc = 1;
    if (listed < 0) {
        fprintf (stderr, "wormctl down: %s\n", err);
        goto done;
    }
    if (s_cluster_read (dir, &cluster, err, sizeof err)) {
        if (listed == 1) {
            fprintf (stderr, "wormctl down: %s\n", err);
            goto done;
        }
        //  'up' failed or crashed before it wrote cluster.zpl
        memset (&cluster, 0, sizeof cluster);
    }
    int running = 0;
    int stopped = s_stop_agents (dir, &cluster, 10000, false, &running);
    if (zsys_interrupted) {
        s_say_interrupted ("down", "stopped %d host agent(s); %d still stopping; the files in %s "
                                   "are left ('wormctl down' again to finish)",
                           stopped, running, dir);
        goto done;
    }
    if (listed == 1) {
        fprintf (stderr, "wormctl down: stopped %d host agent(s); %s has no " MANIFEST
                         " saying what 'up' made there: no file removed\n", stopped, dir);
        goto done;
    }
    //  An agent still there (restarted by hand, or one that would not stop)
    //  keeps its folder, and the files every agent shares
    int kept = 0;
    for (int i = 0; i < manifest->count; i++) {
        s_made_t *item = &manifest->items[i];
        if (strcmp (item->kind, "tree") != 0)
            continue;
        char state[PATH_MAX + 256];
        snprintf (state, sizeof state, "%s/%s", dir, item->path);
        pid_t pid = s_agent_in (state);
        if (pid) {
            fprintf (stderr, "wormctl down: left %s: wormd pid %d runs there%s\n", state,
                     (int) pid, running ? "" : " (not one 'wormctl up' started; stop it, then "
                                               "'wormctl down' again)");
            item->keep = true;
            kept++;
        }
    }
    if (kept)
        for (int i = 0; i < manifest->count; i++)
            if (strcmp (manifest->items[i].kind, "tree") != 0
                && strcmp (manifest->items[i].path, ".") != 0)
                manifest->items[i].keep = true;
    int left = s_manifest_remove (dir, manifest, false);
    printf ("stopped %d host agent(s) of the cluster in %s\n", stopped, dir);
    if (left)
        fprintf (stderr, "wormctl down: %d thing(s) 'up' made are left in %s (listed in "
                         "%s/" MANIFEST ")\n", left, dir, dir);
    rc = left ? 1 : 0;
done:
    free (manifest);
    return rc;
}

static int
s_up_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    long *hosts = (long *) arg;
    if (strcmp (name, "help") == 0) {
        *hosts = -1;
        return 0;
    }
    return worm_parse_int (value, 1, MAX_HOSTS, hosts, err, cap);
}

static int
s_cmd_up (s_global_t *global, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"hosts", "N", "how many virtual hosts (1 to 256)"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    char err[PATH_MAX + 512];
    long hosts = 0;
    int index = 0;
    if (worm_opts_parse (options, argc, argv, &index, s_up_option, &hosts, err, sizeof err)) {
        fprintf (stderr, "wormctl up: %s%s\n", err,
                 strncmp (err, "unknown option", 14) == 0 ? " (wormd options go after --)" : "");
        return EXIT_USAGE;
    }
    if (hosts < 0 || global->help) {
        printf ("Usage: wormctl [--dir DIR] up --hosts N [-- WORMD-OPTIONS...]\n\n"
                "Starts N virtual hosts on this machine: wormd processes named host1..hostN,\n"
                "each with its state folder and activity file under DIR (touch\n"
                "DIR/hostK/activity to play its user). They broadcast on the loopback\n"
                "broadcast 127.255.255.255, never on a real interface, on a beacon port of\n"
                "their own, recorded in DIR/cluster.zpl. Returns once all N hear each other.\n"
                "Options after -- go to every wormd (e.g. -- --min-idle 2).\n\n"
                "DIR must be new, empty, or hold only what an earlier 'up' made there: 'up'\n"
                "lists what it makes in DIR/" MANIFEST ", and a failed 'up' (its\n"
                "agents' last log lines are printed) or 'down' removes exactly that. Run by\n"
                "root, it makes DIR passable for the guests' user (o+x) when it is ours.\n\n");
        worm_opts_help (stdout, options);
        return 0;
    }
    if (hosts == 0) {
        fprintf (stderr, "wormctl up: say how many hosts with --hosts N\n");
        return EXIT_USAGE;
    }
    //  Whatever follows is handed to every wormd
    if (index < argc && (index == 0 || strcmp (argv[index - 1], "--") != 0)) {
        fprintf (stderr, "wormctl up: unexpected argument '%s' (wormd options go after --)\n",
                 argv[index]);
        return EXIT_USAGE;
    }
    char **passed = argv + index;
    int npassed = argc - index;

    const char *dir = global->dir;
    s_cluster_t cluster;
    if (s_cluster_read (dir, &cluster, err, sizeof err) == 0)
        for (int i = 0; i < cluster.hosts; i++)
            if (s_is_cluster_agent (cluster.pids[i], dir, i + 1)) {
                fprintf (stderr, "wormctl up: a cluster of %d hosts already runs in %s "
                                 "('wormctl down' first)\n", cluster.hosts, dir);
                return 1;
            }
    char wormd[PATH_MAX + 8];
    if (worm_exe_dir (wormd, sizeof wormd - 8)) {
        fprintf (stderr, "wormctl up: cannot find the folder of wormctl\n");
        return 1;
    }
    strcat (wormd, "/wormd");
    if (access (wormd, X_OK)) {
        fprintf (stderr, "wormctl up: no wormd beside wormctl (%s)\n", wormd);
        return 1;
    }
    s_manifest_t *manifest = calloc (1, sizeof *manifest);
    memset (&cluster, 0, sizeof cluster);
    int rc = 1;
    //  The folder: new (ours, on the record), or holding nothing but what
    //  an earlier 'up' made (its manifest says)
    struct stat st;
    bool made_dir = false;
    if (stat (dir, &st) == 0) {
        if (!S_ISDIR (st.st_mode)) {
            fprintf (stderr, "wormctl up: %s is not a folder\n", dir);
            goto out;
        }
        char foreign[PATH_MAX + 512];
        if (s_manifest_load (dir, manifest, err, sizeof err) < 0) {
            fprintf (stderr, "wormctl up: %s; refusing to use %s\n", err, dir);
            goto out;
        }
        if (s_foreign (dir, manifest, "", foreign, sizeof foreign)) {
            fprintf (stderr, "wormctl up: %s was not made by 'wormctl up'; refusing to use %s "
                             "(name a new or empty folder with --dir)\n", foreign, dir);
            goto out;
        }
        for (int i = 0; i < manifest->count; i++) {
            char state[PATH_MAX + 256];
            snprintf (state, sizeof state, "%s/%s", dir, manifest->items[i].path);
            pid_t pid = strcmp (manifest->items[i].kind, "tree") == 0 ? s_agent_in (state) : 0;
            if (pid) {
                fprintf (stderr, "wormctl up: wormd pid %d runs in %s; stop it first\n",
                         (int) pid, state);
                goto out;
            }
        }
        //  Agents run by root run their guests as another user, who must
        //  pass through this folder to reach theirs
        if (geteuid () == 0 && !(st.st_mode & S_IXOTH)) {
            if (st.st_uid != geteuid () || chmod (dir, (st.st_mode & 07777) | S_IXOTH)) {
                fprintf (stderr, "wormctl up: guests (another user) cannot pass through %s "
                                 "(mode %04o, owner uid %u): chmod o+x it, or choose another "
                                 "--dir\n", dir, (unsigned) (st.st_mode & 07777),
                         (unsigned) st.st_uid);
                goto out;
            }
            fprintf (stderr, "wormctl up: %s was mode %04o; made it %04o (o+x) so that guests, "
                             "run as another user, can pass through it\n", dir,
                     (unsigned) (st.st_mode & 07777), (unsigned) ((st.st_mode & 07777) | S_IXOTH));
        }
        //  What the earlier cluster left goes, but for its user key (a
        //  WORM_KEY may point at it)
        for (int i = 0; i < manifest->count; i++)
            manifest->items[i].keep = strcmp (manifest->items[i].path, "user.cert") == 0
                                      || strcmp (manifest->items[i].path, "user.cert_secret") == 0;
        s_manifest_remove (dir, manifest, true);
        s_manifest_load (dir, manifest, err, sizeof err);
    }
    else {
        //  Agents run by root run their guests as another user, who must pass
        //  through this folder to reach theirs: search, never read, for others
        if (worm_mkdirs (dir, geteuid () == 0 ? 0711 : 0700)) {
            fprintf (stderr, "wormctl up: cannot create %s: %s\n", dir, strerror (errno));
            goto out;
        }
        made_dir = true;
    }
    if (made_dir && s_manifest_add (dir, manifest, "dir", ".", err, sizeof err)) {
        fprintf (stderr, "wormctl up: %s\n", err);
        rmdir (dir);
        goto out;
    }
    snprintf (cluster.broadcast, sizeof cluster.broadcast, "127.255.255.255");
    cluster.port = worm_udp_free_port ();
    if (cluster.port <= 0) {
        fprintf (stderr, "wormctl up: no free UDP port\n");
        goto fail;
    }
    //  Keys: one per host, the cluster's user key, and a folder that
    //  authorizes them all (and the key we speak with, when it is another)
    static char host_keys[MAX_HOSTS][41];
    char authorized[PATH_MAX + 16], owners[PATH_MAX + 16], path[PATH_MAX + 64];
    snprintf (authorized, sizeof authorized, "%s/authorized", dir);
    snprintf (owners, sizeof owners, "%s/owners", dir);
    snprintf (path, sizeof path, "%s/user.cert", dir);
    zcert_t *user = s_manifest_find (manifest, "user.cert")
                        ? worm_keys_load (path, err, sizeof err) : NULL;
    if (!user && (s_manifest_add (dir, manifest, "file", "user.cert", err, sizeof err)
                  || s_manifest_add (dir, manifest, "file", "user.cert_secret", err, sizeof err)))
        goto fail_said;
    if (!user)
        user = worm_keys_create (path, WORM_ROLE_USER_NAME, true, err, sizeof err);
    if (!user)
        goto fail_said;
    if (s_manifest_add (dir, manifest, "dir", "authorized", err, sizeof err)
        || worm_mkdirs (authorized, 0700)
        || s_manifest_add (dir, manifest, "dir", "owners", err, sizeof err)
        || worm_mkdirs (owners, 0700) || s_load_keys (global, err, sizeof err)
        || s_manifest_add (dir, manifest, "file", "authorized/user.cert", err, sizeof err)
        || s_manifest_add (dir, manifest, "file", "owners/user.cert", err, sizeof err)) {
        zcert_destroy (&user);
        goto fail_said;
    }
    //  The cluster's user (and the key we speak with) own every virtual host
    for (int k = 0; k < 2; k++) {
        const char *folder = k == 0 ? authorized : owners;
        snprintf (path, sizeof path, "%s/user.cert", folder);
        zcert_save_public (user, path);
        if (zcert_eq (user, s_cert))
            continue;
        char entry[64];
        snprintf (entry, sizeof entry, "%s/wormctl-user.cert", k == 0 ? "authorized" : "owners");
        if (s_manifest_add (dir, manifest, "file", entry, err, sizeof err)) {
            zcert_destroy (&user);
            goto fail_said;
        }
        snprintf (path, sizeof path, "%s/wormctl-user.cert", folder);
        zcert_save_public (s_cert, path);
    }
    zcert_destroy (&user);
    if (s_manifest_add (dir, manifest, "file", "cluster.zpl", err, sizeof err))
        goto fail_said;
    for (int i = 0; i < (int) hosts && !zsys_interrupted; i++) {
        char name[16], state[PATH_MAX + 32], activity[PATH_MAX + 48], log_path[PATH_MAX + 48],
            port[16], rel[64];
        snprintf (name, sizeof name, "host%d", i + 1);
        snprintf (state, sizeof state, "%s/%s", dir, name);
        snprintf (activity, sizeof activity, "%s/activity", state);
        snprintf (log_path, sizeof log_path, "%s/wormd.log", state);
        snprintf (port, sizeof port, "%d", cluster.port);
        snprintf (rel, sizeof rel, "authorized/%s.cert", name);
        if (s_manifest_add (dir, manifest, "tree", name, err, sizeof err)
            || s_manifest_add (dir, manifest, "file", rel, err, sizeof err))
            goto fail_said;
        worm_mkdirs (state, 0700);
        snprintf (path, sizeof path, "%s/host.cert", state);
        zcert_t *host = worm_keys_create (path, WORM_ROLE_HOST_NAME, true, err, sizeof err);
        if (!host)
            goto fail_said;
        snprintf (host_keys[i], sizeof host_keys[i], "%s", zcert_public_txt (host));
        snprintf (path, sizeof path, "%s/%s.cert", authorized, name);
        zcert_save_public (host, path);
        zcert_destroy (&host);
        char *args[32 + 64] = {"wormd", "--name", name, "--state-dir", state,
                               "--broadcast", cluster.broadcast, "--beacon-port", port,
                               "--activity-file", activity, "--idle-sources", "file",
                               "--min-idle", "10", "--authorized", authorized,
                               "--owners", owners};
        int n = 19;
        for (int k = 0; k < npassed && k < 64; k++)
            args[n++] = passed[k];
        args[n] = NULL;
        worm_spawn_spec_t spec = {.path = wormd, .argv = args, .envp = environ, .log_path = log_path,
                             .umask = 022};
        pid_t pid = worm_spawn (&spec, err, sizeof err);
        if (pid < 0)
            goto fail_said;
        cluster.pids[cluster.hosts++] = pid;
    }
    if (zsys_interrupted)
        goto interrupted;
    if (s_cluster_write (dir, &cluster)) {
        fprintf (stderr, "wormctl up: cannot write %s/cluster.zpl\n", dir);
        goto fail;
    }
    //  Wait until every host hears all of them
    int64_t deadline = worm_now_ms () + s_timeout_ms (global, 15.0);
    char endpoints[MAX_HOSTS][128];
    int ready = 0;
    while (ready < cluster.hosts && worm_now_ms () < deadline) {
        ready = 0;
        for (int i = 0; i < cluster.hosts && !zsys_interrupted; i++) {
            int status = 0;
            if (waitpid (cluster.pids[i], &status, WNOHANG) == cluster.pids[i]) {
                char how[64];
                if (WIFEXITED (status))
                    snprintf (how, sizeof how, "exited with status %d", WEXITSTATUS (status));
                else
                    snprintf (how, sizeof how, "was killed by signal %d", WTERMSIG (status));
                fprintf (stderr, "wormctl up: host%d's wormd %s; the last lines of its log "
                                 "(removed with the cluster):\n", i + 1, how);
                char log_path[PATH_MAX + 48];
                snprintf (log_path, sizeof log_path, "%s/host%d/wormd.log", dir, i + 1);
                s_print_log_tail (log_path, 10);
                cluster.pids[i] = 0;
                goto fail;
            }
            if (s_read_endpoint (dir, i + 1, endpoints[i], sizeof endpoints[i]) == 0
                && s_heard (endpoints[i], host_keys[i]) >= cluster.hosts)
                ready++;
        }
        if (zsys_interrupted)
            goto interrupted;
        if (ready < cluster.hosts && s_sleep (50))
            goto interrupted;
    }
    if (ready < cluster.hosts) {
        fprintf (stderr, "wormctl up: only %d of %d hosts hear all the others after %d ms\n",
                 ready, cluster.hosts, s_timeout_ms (global, 15.0));
        goto fail;
    }
    printf ("local cluster of %d hosts in %s (loopback broadcast %s, beacon port %d)\n",
            cluster.hosts, dir, cluster.broadcast, cluster.port);
    printf ("%-8s %-8s %-26s %s\n", "HOST", "PID", "ENDPOINT", "ACTIVITY FILE");
    for (int i = 0; i < cluster.hosts; i++)
        printf ("host%-4d %-8d %-26s %s/host%d/activity\n", i + 1, (int) cluster.pids[i],
                endpoints[i], dir, i + 1);
    rc = 0;
    goto out;
interrupted: {
        //  Agents this young hold no guests: a short wait, then SIGKILL
        int running = 0;
        int stopped = s_stop_agents (dir, &cluster, 150, true, &running);
        int left = running ? 0 : s_manifest_remove (dir, manifest, false);
        if (running || left)
            s_say_interrupted ("up", "stopped %d of the %d host agent(s) it had started; "
                                     "what it made stays in %s ('wormctl down' removes it)",
                               stopped, cluster.hosts, dir);
        else
            s_say_interrupted ("up", "stopped the %d host agent(s) it had started and removed "
                                     "what it made in %s", stopped, dir);
        goto out;
    }
fail_said:
    fprintf (stderr, "wormctl up: %s\n", err);
fail: {
        int running = 0;
        s_stop_agents (dir, &cluster, 10000, true, &running);
        if (!running)
            s_manifest_remove (dir, manifest, false);
    }
out:
    free (manifest);
    return rc;
}

//  --------------------------------------------------------------------------

int
main (int argc, char **argv)
{
    s_global_t global = {.beacon_port = 0};
    s_default_dir (global.dir, sizeof global.dir);
    char err[512];
    int index = 1;
    if (worm_opts_parse (s_global_options, argc, argv, &index, s_global_set, &global, err,
                         sizeof err)) {
        fprintf (stderr, "wormctl: %s (see wormctl --help)\n", err);
        return EXIT_USAGE;
    }
    if (index >= argc) {
        if (global.help) {
            s_usage (stdout);
            return 0;
        }
        fprintf (stderr, "wormctl: no command given (see wormctl --help)\n");
        return EXIT_USAGE;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    s_catch_signals ();
    worm_log_init ("wormctl", NULL);
    const char *command = argv[index++];
    struct {
        const char *name;
        int (*run) (s_global_t *global, int argc, char **argv);
    } commands[] = {
        {"up", s_cmd_up},
        {"down", s_cmd_down},
        {"hosts", s_cmd_hosts},
        {"willing", s_cmd_willing},
        {"registry", s_cmd_registry},
        {"policy", s_cmd_policy},
        {"launch", s_cmd_launch},
        {"find", s_cmd_find},
        {"status", s_cmd_status},
        {"kill", s_cmd_kill},
        {"evictions", s_cmd_evictions},
        {"keygen", s_cmd_keygen},
    };
    //  Commands that speak to agents or segments need our key; up makes its own
    static const char *keyless[] = {"up", "down", "hosts", "willing", "keygen"};
    bool needs_key = !global.help;
    for (size_t i = 0; i < sizeof keyless / sizeof keyless[0]; i++)
        needs_key &= strcmp (command, keyless[i]) != 0;
    for (int i = index; i < argc; i++)
        needs_key &= strcmp (argv[i], "--help") != 0;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp (command, commands[i].name) == 0) {
            if (needs_key && s_load_keys (&global, err, sizeof err)) {
                fprintf (stderr, "wormctl %s: %s\n", command, err);
                return 1;
            }
            int rc = commands[i].run (&global, argc - index, argv + index);
            worm_keyset_destroy (&s_trusted);
            zcert_destroy (&s_cert);
            if (s_signal || zsys_interrupted) {
                if (!s_told_interrupt)
                    fprintf (stderr, "wormctl %s: interrupted\n", command);
                //  Before our handler was in place, czmq's took it: say SIGINT
                return 128 + (s_signal ? s_signal : SIGINT);
            }
            return rc;
        }
    fprintf (stderr, "wormctl: unknown command '%s' (see wormctl --help)\n", command);
    return EXIT_USAGE;
}
