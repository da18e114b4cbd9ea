/*  runner.h — one command run on another host, the client's side of the
    run ops (docs/PROTOCOL.md, "Run"): placing it (the least-loaded
    willing host that runs commands, or the one named: claim, then run),
    putting its inputs, streaming its stdin, stdout and stderr under the
    window, taking its outputs back, and its end.

    A run owns one connection (a CURVE DEALER to the host) and never
    blocks for long: wormctl run drives one from its poll loop, and a
    parallel make can drive several from one loop, each run's socket and
    wants (stdin room, output to write) polled side by side.
*/
#ifndef WORMCTL_RUNNER_H_INCLUDED
#define WORMCTL_RUNNER_H_INCLUDED

#include "agent_limits.h"
#include "client.h"

#include <sys/types.h>

#define WORMCTL_RUN_EVICTED 75    //  exit status after an eviction (EX_TEMPFAIL)
#define WORMCTL_RUN_MAX_FILES 64  //  --input or --output paths, at most, each
#define WORMCTL_RUN_MAX_ENV 64    //  --env names, at most
#define WORMCTL_RUN_HERE (-1)     //  wormctl_run_start's *status: run it here instead

typedef struct {
    char **argv;                                     //  the command, NULL-terminated
    const char *env[WORMCTL_RUN_MAX_ENV + 3];        //  NAME=VALUE to give it, NULL-terminated
    mode_t umask;                                    //  its umask
    unsigned timeout_s;                              //  its time limit, 0: none
    const char *inputs[WORMCTL_RUN_MAX_FILES + 1];   //  local paths, NULL-terminated
    const char *outputs[WORMCTL_RUN_MAX_FILES + 1];  //  paths in its folder, NULL-terminated
    const char *shares[WORM_RUN_MAX_SHARES + 1];     //  absolute folders it keeps seeing in a
                                                     //  private /tmp there, NULL-terminated
    const char *host;                                //  the host by name, NULL: the least loaded
    const char *local;                        //  this host's name when it may run the command
                                              //  itself (--local-ok), NULL: never
    char exclude[WORMCTL_RUN_MAX_FILES][17];  //  host ids not to use (they evicted it)
    int n_exclude;                            //  how many
    const char (*busy)[17];  //  host ids running our other commands, one per command:
    int n_busy;              //  a host with fewer of them is preferred (run -j)
    int hosts_known;         //  hosts that ran our commands: once as many answered,
                             //  the answers are over (run -j), 0: unknown
    int out_fds[3];          //  where its stdout [1] and stderr [2] go here, 0: 1 and 2
} wormctl_run_spec_t;

typedef struct _wormctl_run_t wormctl_run_t;

//  How a run ended, once wormctl_run_done says it did
typedef struct {
    bool exited;       //  the command ended: status or signal below
    int status;        //  its exit status
    int signal;        //  or the signal that ended it, 0 for none
    bool evicted;      //  the host's owner came back (or its agent stopped)
    bool lost;         //  the host fell silent
    char reason[128];  //  why the host stopped it, "" if it did not
    char host[65];     //  where it ran
    char host_id[17];  //  that host's id
    int missing;       //  outputs that were not there (each warned about)
} wormctl_run_end_t;

/*  Places the command of spec and starts it (its inputs put first).
    Returns the run, or NULL with one sentence in err and *status the exit
    status it calls for: 1 (no host, a refusal, a broken answer), 127 or
    126 (the host cannot find or execute the command), or 128 + N when
    signal N (SIGINT, SIGTERM, SIGHUP) came meanwhile (zsys_interrupted);
    or WORMCTL_RUN_HERE when spec->local names the willing host that
    answered first (the least loaded): the caller runs it itself. */
wormctl_run_t *wormctl_run_start (wormctl_client_t *client, const wormctl_run_spec_t *spec,
                                  int *status, char *err, size_t cap);

/*  Where the input local goes in the run's folder, into remote: a relative
    path that stays inside keeps its place ("src/a.c", "./src/" is "src"),
    any other goes by its last name ("/tmp/x/y.c" is "y.c", "../z" is "z").
    Returns 0, or -1 when there is no such name ("/", ".", "..", too long). */
int wormctl_run_input_name (const char *local, char *remote, size_t cap);

/*  The id of the host it runs on. */
const char *wormctl_run_host_id (wormctl_run_t *self);

/*  The run's connection, to poll for input. */
zsock_t *wormctl_run_socket (wormctl_run_t *self);

/*  Handles what came on the connection (every message waiting). Output is
    queued for wormctl_run_flush; files are written at once. Returns 0, or
    -1 when the host broke the protocol or refused a request (said on
    stderr; the run is then over, and its command killed). */
int wormctl_run_receive (wormctl_run_t *self);

/*  Whether the run may send a chunk of stdin now (its window has room and
    stdin is still open). */
bool wormctl_run_wants_stdin (wormctl_run_t *self);

/*  Sends a chunk of stdin (size 0 with eof: stdin ended). */
void wormctl_run_stdin (wormctl_run_t *self, const void *data, size_t size, bool eof);

/*  Whether output waits to be written to fd (1 or 2), and writes what fd
    takes now without blocking (a pipe: PIPE_BUF at a time after poll
    says there is room); acks what was written whole. Returns -1 when fd
    is broken (EPIPE): the rest of its output is dropped and the command
    gets SIGPIPE, as it would writing into a closed pipe here (the caller
    ignores SIGPIPE). */
bool wormctl_run_output_waiting (wormctl_run_t *self, int fd);
int wormctl_run_flush (wormctl_run_t *self);

/*  Sends signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
    SIGTSTP, SIGCONT, SIGKILL, SIGPIPE) to the command's process group. */
void wormctl_run_signal (wormctl_run_t *self, int signal);

/*  Keepalives, and the host's silence: call at least every second. */
void wormctl_run_tick (wormctl_run_t *self);

/*  Whether the run is over (its exit came and its output is written, or
    it was lost), and how it ended. */
bool wormctl_run_done (wormctl_run_t *self, wormctl_run_end_t *end);

void wormctl_run_destroy (wormctl_run_t **self_p);

#endif
