/*  runspec.h — what a run may name (docs/PROTOCOL.md, "Run"): the rules
    both sides of `wormctl run` hold a request to, so that wormctl refuses
    at once what an agent would refuse, and an agent never trusts wormctl
    to have done so: a path inside a run's folder (its inputs, its outputs,
    what a host sends back), an environment name a client may give, and
    the words of the signals a client may send.
*/
#ifndef WORM_RUNSPEC_H_INCLUDED
#define WORM_RUNSPEC_H_INCLUDED

#include "agent_limits.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>

/*  A piece of a file or a folder, as both ways carry them (run-put from
    the client, a `file` message from the host): path inside the run's
    folder, a folder or a file, its mode, the bytes of this piece and
    whether more of the file follows. */
typedef struct {
    char path[WORM_RUN_PATH_MAX + 1];
    bool dir;
    unsigned mode;      //  0777 bits
    const void *data;   //  points into the reader
    size_t size;        //  at most WORM_RUN_CHUNK
    bool more;
} worm_runspec_chunk_t;

/*  Whether path names something inside a folder: relative, at most
    WORM_RUN_PATH_MAX bytes, no empty, "." or ".." component (so it can
    neither leave the folder nor name it). */
bool worm_runspec_path_ok (const char *path);

/*  Whether the first len bytes of name are an environment name a client
    may set: [A-Za-z_][A-Za-z0-9_]*, at most WORM_RUN_ENV_NAME_MAX bytes,
    and none the host sets (PATH, HOME, WORM_*). */
bool worm_runspec_env_name_ok (const char *name, size_t len);

/*  Reads a chunk: path, type ("file" or "dir") and mode are required, data
    (none: empty) and more (none: false) are not. Returns 0, or -1 with the
    reason in err (a field missing or of the wrong type, a path that is not
    worm_runspec_path_ok, another type). */
int worm_runspec_chunk_read (worm_wire_reader_t *reader, worm_runspec_chunk_t *chunk, char *err,
                             size_t cap);

/*  The signal named name (INT, TERM, HUP, QUIT, USR1, USR2, TSTP, CONT,
    KILL, PIPE), or 0; and the name of a signal number, or NULL. */
int worm_runspec_signal (const char *name);
const char *worm_runspec_signal_name (int number);

#endif
