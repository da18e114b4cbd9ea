/*  runspec.h — what a run may name (docs/PROTOCOL.md, "Run"): the rules
    both sides of `wormctl run` hold a request to, so that wormctl refuses
    at once what an agent would refuse, and an agent never trusts wormctl
    to have done so: a path inside a run's folder (its inputs, its outputs,
    what a host sends back), an environment name a client may give, and
    the words of the signals a client may send.
*/
#ifndef WORM_RUNSPEC_H_INCLUDED
#define WORM_RUNSPEC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

/*  Whether path names something inside a folder: relative, at most
    WORM_RUN_PATH_MAX bytes, no empty, "." or ".." component (so it can
    neither leave the folder nor name it). */
bool worm_runspec_path_ok (const char *path);

/*  Whether the first len bytes of name are an environment name a client
    may set: [A-Za-z_][A-Za-z0-9_]*, at most WORM_RUN_ENV_NAME_MAX bytes,
    and none the host sets (PATH, HOME, WORM_*). */
bool worm_runspec_env_name_ok (const char *name, size_t len);

/*  The signal named name (INT, TERM, HUP, QUIT, USR1, USR2, TSTP, CONT,
    KILL, PIPE), or 0; and the name of a signal number, or NULL. */
int worm_runspec_signal (const char *name);
const char *worm_runspec_signal_name (int number);

#endif
