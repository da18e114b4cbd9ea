/*  run_internal.h — what the two files of a run share, and no one else
    sees: the run itself (run.c: its life, the command's stream, the ops
    that drive it) and its files (run_files.c: inputs put into its folder,
    outputs sent back). See run.c and docs/PROTOCOL.md, "Run". Every call
    here runs on the agent's reactor.
*/
#ifndef WORM_RUN_INTERNAL_H_INCLUDED
#define WORM_RUN_INTERNAL_H_INCLUDED

#include "agent_internal.h"

#include <sys/types.h>

typedef enum {
    WORM_RUN_LOADING,   //  folder made, inputs coming, no command yet
    WORM_RUN_RUNNING,   //  the command runs
    WORM_RUN_DRAINING,  //  it ended: its pipes are read to their end
    WORM_RUN_SENDING,   //  and its outputs are sent
} worm_run_state_t;

typedef struct {
    char path[WORM_RUN_PATH_MAX + 1];  //  inside the folder
    bool dir;                          //  a folder (else a regular file)
    unsigned mode;                     //  its permission bits
} worm_run_entry_t;

struct _worm_run_t {
    worm_agent_t *agent;                    //  whose run: the reactor's handlers get only the run
    char id[WORM_AGENT_GUEST_ID_MAX + 1];   //  the run's id: its guest's
    char worm[WORM_AGENT_NAME_MAX + 1];     //  the claim's name, "run.XXXXXXXX"
    char launcher[WORM_KEY_LEN + 1];        //  the client's key: only it may speak of the run
    char command[WORM_AGENT_NAME_MAX + 1];  //  argv[0], for the log
    char *argv_record;                      //  its words for the event log, msgpack
                                            //  ([str], bounded), NULL until read
    size_t argv_record_size;                //  bytes of it
    bool argv_cut;                          //  words were left out of it, or cut short
    zframe_t *client;                       //  routing id of the client's connection
    worm_run_state_t state;                 //  where the run is
    worm_guest_t *guest;                    //  the command while it runs
    worm_guest_t *pending;                  //  LOADING: its guest record, not started, in no list
    char workdir[PATH_MAX];                 //  its folder
    char path[PATH_MAX];                    //  LOADING: the program to start
    char **argv, **envp;                    //  LOADING: its words and environment
    char **visible;                         //  its folder and the folders it shares (in a
                                            //  private /tmp), NULL-terminated
    int put_fd;                             //  LOADING: the input file being written, -1: none
    char put_path[WORM_RUN_PATH_MAX + 1];   //  and its path
    int puts;                               //  entries put so far
    int in_fd;                              //  the command's stdin, our end; -1 once closed
    zlist_t *in_queue;                      //  zchunk_t *: stdin data not yet in the pipe
    size_t in_offset;                       //  bytes of the first queued chunk already written
    bool in_eof;                            //  close stdin once the queue is empty
    bool in_polled;                         //  the reactor watches in_fd for room
    int exit_fd;          //  a pidfd of the command, readable when it ends; -1: none
    int out_fd[2];        //  its stdout and stderr, our ends; -1 once closed
    bool out_polled[2];   //  the reactor watches them for data
    int credit;           //  messages we may still push before an ack
    int64_t heard_ms;     //  when the client last said something
    int64_t told_ms;      //  when we last pushed something
    bool client_stopped;  //  the client stopped the command (TSTP)
    mode_t guest_umask;   //  the client's umask
    int64_t deadline_ms;  //  the command's time limit (monotonic), 0: none
    unsigned timeout_s;   //  that limit in seconds, for words
    int64_t drain_ms;     //  DRAINING: when a byte last came
    int status;           //  how the command ended (waitpid's)
    bool evicted;         //  the host's owner came back
    char reason[WORM_AGENT_REASON_MAX + 1];  //  why the host stopped it, "" if it did not
    bool abandoned;                          //  the client is gone: tell it nothing more
    bool keep_dir;                           //  the folder stays until the outputs are sent
    zlist_t *outputs;                        //  char *: the paths the client wants back
    zlist_t *sending;                        //  worm_run_entry_t *: SENDING, what is left to send
    zlist_t *missing;                        //  char *: outputs that were not there
    int file_fd;                             //  SENDING: the output file being read, -1: none
    off_t file_left;                         //  its bytes still to send
};

//  --------------------------------------------------------------------------
//  run.c

/*  Starts a message the agent pushes to a run's client, {"t": type, "run":
    id, ...} in writer (initialised here); the caller adds the rest, closes
    the map, pushes it with worm_run_push and finishes the writer. */
void worm_run_message (worm_wire_writer_t *writer, const worm_run_t *run, const char *type);

/*  Pushes a message to the run's client (nothing once the client is gone). */
void worm_run_push (worm_agent_t *self, worm_run_t *run, worm_wire_writer_t *writer);

/*  Pushes {"t": "ack", "n": count}: the client's chunks taken in. */
void worm_run_push_ack (worm_agent_t *self, worm_run_t *run, int count);

/*  The run a stream op names, when the caller's key made it (the client is
    heard, its silence timer starts again); else replies the refusal to
    identity and returns NULL. op names the request in the refusal. */
worm_run_t *worm_run_of_request (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader,
                                 const char *op);

//  --------------------------------------------------------------------------
//  run_files.c

/*  Makes a folder, or writes a chunk of a file (more: chunks of it follow),
    at path in a loading run's folder, never following a link. Returns 0,
    or -1 with the reason in err. */
int worm_run_put (worm_agent_t *self, worm_run_t *run, const char *path, bool dir, unsigned mode,
                  const void *data, size_t size, bool more, char *err, size_t cap);

/*  Lists what the run's outputs are, after its command ended: each a
    regular file or folder (with what it holds) of the guest's, the rest in
    run->missing. */
void worm_run_list_outputs (worm_agent_t *self, worm_run_t *run);

/*  Sends what is left of the listed outputs while the client's window has
    room. Returns true when all of them went. */
bool worm_run_send_outputs (worm_agent_t *self, worm_run_t *run);

#endif
