/*  client.h — what every wormctl command shares: the global options, our
    keys and the keys we trust hosts by, timeouts, interruptions, option
    parsing with --help, the LAN to talk on, finding hosts by broadcast and
    asking one of them.

    A command (commands.h) gets a wormctl_client_t from the registry with
    the global options parsed, parses and checks its own options and
    arguments with the helpers here, then calls wormctl_ready, which loads
    our keys when its entry says it needs them: a usage error or --help
    never depends on a key. (Anything here that needs the keys loads them
    on first use too.)
    It talks to hosts only over the wire protocol (docs/PROTOCOL.md).
*/
#ifndef WORMCTL_CLIENT_H_INCLUDED
#define WORMCTL_CLIENT_H_INCLUDED

#include "auth.h"
#include "beacon.h"
#include "commands.h"
#include "discover.h"
#include "opts.h"
#include "wire.h"

#include <czmq.h>
#include <limits.h>

#define WORMCTL_MAX_HOSTS 256   //  hosts one query collects, at most
#define WORMCTL_EXIT_USAGE 2    //  the exit status of a usage error

//  The defaults of --timeout, in seconds, for each kind of wait
#define WORMCTL_QUERY_S 1       //  the hosts' answers to a broadcast query
#define WORMCTL_REQUEST_S 2     //  a host's reply to one request
#define WORMCTL_STR(x) WORMCTL_STR_ (x)
#define WORMCTL_STR_(x) #x

struct _wormctl_client_t {
    const wormctl_command_t *command;   //  the command being run, NULL before
    char dir[PATH_MAX];                 //  --dir: the local cluster folder
    bool dir_given;                     //  --dir was given
    char broadcast[64];                 //  --broadcast
    char interface[64];                 //  --interface
    int beacon_port;                    //  --beacon-port, 0 when not given
    double timeout_s;                   //  --timeout, 0 when not given
    bool json;                          //  --json (a command's flag)
    bool help;                          //  --help (global, or a command's)
    char key_file[PATH_MAX];            //  --key, "" for the default
    char authorized_dir[PATH_MAX];      //  --authorized, "" for the default
    int keys;                           //  0: not loaded yet, 1: loaded, -1: failed
    char keys_err[PATH_MAX + 256];      //  why they failed to load
    zcert_t *cert;                      //  our keypair, once loaded
    worm_keyset_t *trusted;             //  the hosts' keys we trust, once loaded
};

/*  The global options, and their setter (it sets the fields above; the
    commands' --json and --help flags too). The setter's arg is the client. */
extern const worm_opt_t wormctl_global_options[];
int wormctl_global_set (void *arg, const char *name, const char *value, char *err, size_t cap);
/*  A command's options when it has only --json and --help. */
extern const worm_opt_t wormctl_json_options[];

/*  Fills self with the defaults: no options, --dir's default folder. */
void wormctl_client_init (wormctl_client_t *self);
/*  Ends the command run with exit status rc: drops the keys, and when a
    signal came, says so (unless the command did) and returns 128 + the
    signal instead of rc. */
int wormctl_client_finish (wormctl_client_t *self, int rc);

/*  Loads our keypair (--key, then the cluster named by --dir, $WORM_KEY, a
    local cluster's DIR/user.cert, ~/.config/worm/user.cert) and the keys we
    trust (--authorized, likewise), once; our key becomes the control
    channel's identity. Returns 0, or -1 with err (the same on every later
    call). */
int wormctl_client_keys (wormctl_client_t *self, char *err, size_t cap);

/*  Called by a command once its options and arguments are checked: loads
    our keys when its entry needs them. Returns -1 to go on, or 1 after
    saying on stderr why the keys did not load. */
int wormctl_ready (wormctl_client_t *self);

/*  Prints the command's help: usage (a paragraph), its options, and what
    --timeout bounds for it (from its entry). */
void wormctl_help (const wormctl_client_t *self, const char *usage, const worm_opt_t *options);

/*  Parses the command's options with wormctl_global_set (all of them flags
    or values of the global kind), from argv[*index]; prints its help when
    asked. Returns -1 to go on, else the exit status (0 after --help,
    WORMCTL_EXIT_USAGE after saying what is wrong). */
int wormctl_options (wormctl_client_t *self, const worm_opt_t *options, int argc, char **argv,
                     int *index, const char *usage);

/*  Parses "COMMAND [NAME] [OPTIONS]" like wormctl_options; a word left
    over is a usage error. missing: the complaint when NAME is required and
    absent (NULL: optional). Returns -1 to go on with *name set (NULL when
    absent), else the exit status. */
int wormctl_named (wormctl_client_t *self, const worm_opt_t *options, int argc, char **argv,
                   const char *usage, const char *missing, const char **name);

/*  Says on stderr that the command fails with a usage error, and returns
    WORMCTL_EXIT_USAGE: "wormctl COMMAND: TEXT". */
int wormctl_usage_error (const wormctl_client_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/*  Milliseconds to wait: --timeout when given, else fallback_s. */
int wormctl_timeout_ms (const wormctl_client_t *self, double fallback_s);

//  --------------------------------------------------------------------------
//  Interruptions: on SIGINT or SIGTERM every wait (here, in worm/ctl.c and
//  worm/discover.c) sees zsys_interrupted within WORM_CTL_SLICE_MS; the
//  command then stops, says what it leaves, and exits 128 + the signal.

/*  Installs our handler for SIGINT and SIGTERM (also when the shell had
    them ignored). */
void wormctl_catch_signals (void);
/*  Sleeps ms, or less when interrupted. Returns true when interrupted. */
bool wormctl_sleep (int ms);
/*  The command's one line on an interruption ("wormctl CMD: interrupted;
    TEXT"); wormctl_client_finish then says nothing more. */
void wormctl_say_interrupted (wormctl_client_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  --------------------------------------------------------------------------
//  Hosts

/*  The LAN to talk on: from --broadcast/--interface, else the local
    cluster's record, whose size goes to *expected (0 when unknown).
    Returns 0, or -1 with err. */
int wormctl_lan (const wormctl_client_t *self, worm_lan_t *lan, int *expected, char *err,
                 size_t cap);

//  The answers to one query
typedef struct {
    worm_hostinfo_t hosts[WORMCTL_MAX_HOSTS];   //  answers, in arrival order
    double arrival_ms[WORMCTL_MAX_HOSTS];       //  when each came, after the query
    int count;                                  //  how many
    const char *wanted;                         //  stop at the host of this name, or NULL
    int expected;                               //  stop once the local cluster's
                                                //  host1..hostN all answered (N), 0: no
    int members;                                //  how many of those answered
    int64_t started_us;                         //  when the query went out
} wormctl_found_t;

/*  worm_discover's callback filling a wormctl_found_t (arg); set its
    started_us first. */
int wormctl_collect (void *arg, const worm_hostinfo_t *host);

/*  Asks every host on the LAN (waiting --timeout, default WORMCTL_QUERY_S);
    the answers go to found, sorted by name. Returns 0, or -1 with err. */
int wormctl_find_hosts (const wormctl_client_t *self, wormctl_found_t *found, char *err,
                        size_t cap);

/*  Finds one host by name; returns 0 with *host filled, or -1 with err. */
int wormctl_find_host (const wormctl_client_t *self, const char *name, worm_hostinfo_t *host,
                       char *err, size_t cap);

/*  Whether a host found by broadcast has a key we trust (loading our keys
    when not yet done): an impostor's answer gets nothing from us. Fills
    err when not (with why our keys did not load, when they did not). */
bool wormctl_host_trusted (wormctl_client_t *self, const worm_hostinfo_t *host, char *err,
                           size_t cap);

/*  worm_ctl_call to a host found by broadcast, when we trust its key.
    Same returns as worm_ctl_call. */
int wormctl_host_call (wormctl_client_t *self, const worm_hostinfo_t *host,
                       worm_wire_writer_t *request, int timeout_ms, worm_wire_reader_t *reply,
                       char *err, size_t cap);

/*  One request of wormctl_host_calls: in, the host (one we trust) and the
    request; out, rc (worm_ctl_call's), the reply (initialised here, the
    caller finalises it) and err. */
typedef struct {
    const worm_hostinfo_t *host;
    worm_wire_writer_t *request;
    int timeout_ms;
    int rc;
    worm_wire_reader_t reply;
    char err[256];
} wormctl_call_t;

/*  Makes the n calls at once, in threads, WORMCTL_CALL_BATCH at a time: a
    LAN of many hosts costs about one round trip, and a host slow to answer
    one timeout for all, not one each. */
#define WORMCTL_CALL_BATCH 32
void wormctl_host_calls (wormctl_call_t *calls, int n);

/*  worm_ctl_request to a host found by broadcast, under the same condition. */
int wormctl_host_request (wormctl_client_t *self, const worm_hostinfo_t *host, const char *op,
                          const char *key, const char *value, int timeout_ms,
                          worm_wire_reader_t *reply, char *err, size_t cap);

/*  Finds host NAME and sends it one request with no fields (waiting
    --timeout, default WORMCTL_REQUEST_S) whose reply holds an array field
    of at most max items; the reply stays in reply (initialised by the
    caller, who finalises it), the array goes to *list. Returns 0, or 1
    after saying why on stderr. */
int wormctl_ask_host (wormctl_client_t *self, const char *name, const char *op,
                      const char *field, uint32_t max, worm_wire_reader_t *reply,
                      const msgpack_object_array **list);

#endif
