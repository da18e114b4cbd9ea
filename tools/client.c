/*  client.c — what every wormctl command shares (see client.h): options,
    keys, timeouts, interruptions, finding and asking hosts.
*/
#include "client.h"

#include <pthread.h>
#include "ctl.h"
#include "keys.h"
#include "log.h"
#include "record.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

//  The signal (SIGINT or SIGTERM) that interrupted the command, 0 while none
//  came; and whether the command said itself what it leaves behind
static volatile sig_atomic_t s_signal;
static bool s_told_interrupt;

const worm_opt_t wormctl_global_options[] = {
    {"dir", "DIR", "the local cluster to use (default: $XDG_RUNTIME_DIR/worm/cluster or "
                   "/tmp/worm-UID/cluster)"},
    {"broadcast", "ADDR", "broadcast address of the hosts' LAN (instead of a local cluster)"},
    {"interface", "IF", "interface whose broadcast address to use"},
    {"beacon-port", "N", "UDP beacon port of that LAN (default 5670)"},
    {"timeout", "SECONDS", "how long a command waits ('wormctl COMMAND --help' says for what, "
                           "and its default)"},
    {"key", "FILE", "our keypair (default: $WORM_KEY, the local cluster's DIR/user.cert "
                    "when there is one, else ~/.config/worm/user.cert)"},
    {"authorized", "DIR", "the hosts' public keys we trust (default: $WORM_AUTHORIZED, "
                          "DIR/authorized, else ~/.config/worm/authorized)"},
    {"help", NULL, "print this help"},
    {NULL, NULL, NULL},
};

const worm_opt_t wormctl_json_options[] = {
    {"json", NULL, "print a JSON array of objects"},
    {"help", NULL, "print this help"},
    {NULL, NULL, NULL},
};

int
wormctl_global_set (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    wormctl_client_t *self = (wormctl_client_t *) arg;
    long number;
    if (strcmp (name, "help") == 0)
        self->help = true;
    else if (strcmp (name, "dir") == 0) {
        snprintf (self->dir, sizeof self->dir, "%s", value);
        self->dir_given = true;
    }
    else if (strcmp (name, "broadcast") == 0)
        snprintf (self->broadcast, sizeof self->broadcast, "%s", value);
    else if (strcmp (name, "interface") == 0)
        snprintf (self->interface, sizeof self->interface, "%s", value);
    else if (strcmp (name, "beacon-port") == 0) {
        if (worm_parse_int (value, 1, 65535, &number, err, cap))
            return -1;
        self->beacon_port = (int) number;
    }
    else if (strcmp (name, "timeout") == 0)
        return worm_parse_double (value, 0.01, 3600, &self->timeout_s, err, cap);
    else if (strcmp (name, "json") == 0)
        self->json = true;
    else if (strcmp (name, "key") == 0)
        snprintf (self->key_file, sizeof self->key_file, "%s", value);
    else if (strcmp (name, "authorized") == 0)
        snprintf (self->authorized_dir, sizeof self->authorized_dir, "%s", value);
    return 0;
}

void
wormctl_client_init (wormctl_client_t *self)
{
    memset (self, 0, sizeof *self);
    const char *runtime = getenv ("XDG_RUNTIME_DIR");
    if (runtime && *runtime)
        snprintf (self->dir, sizeof self->dir, "%s/worm/cluster", runtime);
    else
        snprintf (self->dir, sizeof self->dir, "/tmp/worm-%u/cluster", (unsigned) geteuid ());
}

int
wormctl_client_finish (wormctl_client_t *self, int rc)
{
    worm_keyset_destroy (&self->trusted);
    zcert_destroy (&self->cert);
    if (s_signal || zsys_interrupted) {
        if (!s_told_interrupt)
            fprintf (stderr, "wormctl %s: interrupted\n",
                     self->command ? self->command->name : "");
        //  Before our handler was in place, czmq's took it: say SIGINT
        return 128 + (s_signal ? s_signal : SIGINT);
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Keys

//  Where one of our key files is: the option, then (for a cluster named
//  with --dir) the cluster's file, then $ENV, then a local cluster's file,
//  then ~/.config/worm/NAME. name is the file's name in either folder.
static void
s_key_path (const wormctl_client_t *self, const char *option, const char *env, const char *name,
            char *path, size_t cap)
{
    char in_cluster[PATH_MAX + 32];
    snprintf (in_cluster, sizeof in_cluster, "%s/%s", self->dir, name);
    bool lan = self->broadcast[0] || self->interface[0];
    bool cluster_there = !lan && access (in_cluster, R_OK) == 0;
    const char *from_env = getenv (env);
    if (option[0])
        snprintf (path, cap, "%s", option);
    else if (cluster_there && self->dir_given)
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

int
wormctl_client_keys (wormctl_client_t *self, char *err, size_t cap)
{
    if (self->keys == 0) {
        char path[PATH_MAX + 32];
        s_key_path (self, self->key_file, "WORM_KEY", "user.cert", path, sizeof path);
        char why[PATH_MAX + 128];
        self->cert = worm_keys_load (path, why, sizeof why);
        if (self->cert) {
            worm_ctl_set_identity (self->cert);
            s_key_path (self, self->authorized_dir, "WORM_AUTHORIZED", "authorized", path,
                        sizeof path);
            self->trusted = worm_keyset_new (path);
            self->keys = 1;
        }
        else {
            snprintf (self->keys_err, sizeof self->keys_err,
                      "%s (make one with 'wormctl keygen', or name one with --key)", why);
            self->keys = -1;
        }
    }
    if (self->keys < 0) {
        snprintf (err, cap, "%s", self->keys_err);
        return -1;
    }
    return 0;
}

int
wormctl_ready (wormctl_client_t *self)
{
    char err[PATH_MAX + 256];
    if (self->command && self->command->needs_key && wormctl_client_keys (self, err, sizeof err)) {
        fprintf (stderr, "wormctl %s: %s\n", self->command->name, err);
        return 1;
    }
    return -1;
}

//  --------------------------------------------------------------------------
//  Options and help

void
wormctl_help (const wormctl_client_t *self, const char *usage, const worm_opt_t *options)
{
    printf ("%s\n", usage);
    worm_opts_help (stdout, options);
    if (self->command && self->command->timeout) {
        const worm_opt_t timeout[] = {{"timeout", "SECONDS", self->command->timeout},
                                      {NULL, NULL, NULL}};
        printf ("\nGlobal option:\n");
        worm_opts_help (stdout, timeout);
    }
}

int
wormctl_usage_error (const wormctl_client_t *self, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    fprintf (stderr, "wormctl %s: %s\n", self->command ? self->command->name : "", text);
    return WORMCTL_EXIT_USAGE;
}

int
wormctl_options (wormctl_client_t *self, const worm_opt_t *options, int argc, char **argv,
                 int *index, const char *usage)
{
    char err[512];
    if (worm_opts_parse (options, argc, argv, index, wormctl_global_set, self, err, sizeof err))
        return wormctl_usage_error (self, "%s", err);
    if (self->help) {
        wormctl_help (self, usage, options);
        return 0;
    }
    return -1;
}

int
wormctl_named (wormctl_client_t *self, const worm_opt_t *options, int argc, char **argv,
               const char *usage, const char *missing, const char **name)
{
    int index = 0;
    *name = argc > 0 && strncmp (argv[0], "--", 2) ? argv[index++] : NULL;
    int rc = wormctl_options (self, options, argc, argv, &index, usage);
    if (rc >= 0)
        return rc;
    if (index < argc)
        return wormctl_usage_error (self, "unexpected argument '%s'", argv[index]);
    if (!*name && missing)
        return wormctl_usage_error (self, "%s (see wormctl %s --help)", missing,
                                    self->command ? self->command->name : "");
    return -1;
}

int
wormctl_timeout_ms (const wormctl_client_t *self, double fallback_s)
{
    return (int) ((self->timeout_s > 0 ? self->timeout_s : fallback_s) * 1000);
}

//  --------------------------------------------------------------------------
//  Interruptions

static void
s_on_signal (int signal_value)
{
    s_signal = signal_value;
    zsys_interrupted = 1;
}

void
wormctl_catch_signals (void)
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

bool
wormctl_sleep (int ms)
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

void
wormctl_say_interrupted (wormctl_client_t *self, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    fprintf (stderr, "wormctl %s: interrupted; %s\n", self->command ? self->command->name : "",
             text);
    s_told_interrupt = true;
}

//  --------------------------------------------------------------------------
//  Hosts

int
wormctl_lan (const wormctl_client_t *self, worm_lan_t *lan, int *expected, char *err,
             size_t cap)
{
    *expected = 0;
    if (self->broadcast[0] || self->interface[0])
        return worm_lan_resolve (self->broadcast, self->interface,
                                 self->beacon_port ? self->beacon_port : 5670, lan, err, cap);
    wormctl_cluster_t cluster;
    if (wormctl_cluster_read (self->dir, &cluster, err, cap))
        return -1;
    *expected = cluster.hosts;
    return worm_lan_resolve (cluster.broadcast, NULL, cluster.port, lan, err, cap);
}

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

int
wormctl_collect (void *arg, const worm_hostinfo_t *host)
{
    wormctl_found_t *found = (wormctl_found_t *) arg;
    if (found->count < WORMCTL_MAX_HOSTS) {
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

int
wormctl_find_hosts (const wormctl_client_t *self, wormctl_found_t *found, char *err, size_t cap)
{
    worm_lan_t lan;
    if (wormctl_lan (self, &lan, &found->expected, err, cap))
        return -1;
    int timeout = wormctl_timeout_ms (self, WORMCTL_QUERY_S);
    found->started_us = zclock_usecs ();
    found->count = found->members = 0;
    if (worm_discover (&lan, true, timeout, timeout < 300 ? timeout : 300, wormctl_collect,
                       found, err, cap)
        < 0)
        return -1;
    qsort (found->hosts, (size_t) found->count, sizeof found->hosts[0], s_by_name);
    return 0;
}

int
wormctl_find_host (const wormctl_client_t *self, const char *name, worm_hostinfo_t *host,
                   char *err, size_t cap)
{
    wormctl_found_t *found = calloc (1, sizeof *found);
    found->wanted = name;
    int rc = wormctl_find_hosts (self, found, err, cap);
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

bool
wormctl_host_trusted (wormctl_client_t *self, const worm_hostinfo_t *host, char *err,
                      size_t cap)
{
    if (wormctl_client_keys (self, err, cap))
        return false;
    if (worm_keyset_has (self->trusted, host->key))
        return true;
    snprintf (err, cap, "host %s answered with key %s, which is not authorized here",
              host->name, host->key);
    return false;
}

int
wormctl_host_call (wormctl_client_t *self, const worm_hostinfo_t *host,
                   worm_wire_writer_t *request, int timeout_ms, worm_wire_reader_t *reply,
                   char *err, size_t cap)
{
    if (!wormctl_host_trusted (self, host, err, cap))
        return -1;
    return worm_ctl_call (host->endpoint, host->key, request, timeout_ms, reply, err, cap);
}

static void *
s_call_thread (void *arg)
{
    wormctl_call_t *call = (wormctl_call_t *) arg;
    call->rc = worm_ctl_call (call->host->endpoint, call->host->key, call->request,
                              call->timeout_ms, &call->reply, call->err, sizeof call->err);
    return NULL;
}

void
wormctl_host_calls (wormctl_call_t *calls, int n)
{
    for (int i = 0; i < n; i++)
        worm_wire_reader_init (&calls[i].reply);
    for (int first = 0; first < n; first += WORMCTL_CALL_BATCH) {
        pthread_t threads[WORMCTL_CALL_BATCH];
        bool started[WORMCTL_CALL_BATCH] = {false};
        int batch = n - first < WORMCTL_CALL_BATCH ? n - first : WORMCTL_CALL_BATCH;
        for (int i = 0; i < batch; i++)
            started[i] = pthread_create (&threads[i], NULL, s_call_thread, &calls[first + i]) == 0;
        for (int i = 0; i < batch; i++) {
            if (started[i])
                pthread_join (threads[i], NULL);
            else
                s_call_thread (&calls[first + i]);
        }
    }
}

int
wormctl_host_request (wormctl_client_t *self, const worm_hostinfo_t *host, const char *op,
                      const char *key, const char *value, int timeout_ms,
                      worm_wire_reader_t *reply, char *err, size_t cap)
{
    if (!wormctl_host_trusted (self, host, err, cap))
        return -1;
    return worm_ctl_request (host->endpoint, host->key, op, key, value, timeout_ms, reply, err,
                             cap);
}

int
wormctl_ask_host (wormctl_client_t *self, const char *name, const char *op, const char *field,
                  uint32_t max, worm_wire_reader_t *reply, const msgpack_object_array **list)
{
    char err[512];
    const char *command = self->command ? self->command->name : "";
    worm_hostinfo_t host;
    if (wormctl_find_host (self, name, &host, err, sizeof err)) {
        fprintf (stderr, "wormctl %s: %s\n", command, err);
        return 1;
    }
    if (wormctl_host_request (self, &host, op, NULL, NULL,
                              wormctl_timeout_ms (self, WORMCTL_REQUEST_S), reply, err,
                              sizeof err)) {
        fprintf (stderr, "wormctl %s: %s: %s\n", command, name, err);
        return 1;
    }
    if (worm_wire_get_array (reply, reply->root, field, list, max)) {
        fprintf (stderr, "wormctl %s: %s: bad reply: %s\n", command, name, reply->error);
        return 1;
    }
    return 0;
}
