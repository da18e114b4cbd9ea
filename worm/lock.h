/*  lock.h — a state folder belongs to one running agent.

    wormd takes an exclusive flock(2) on STATE/wormd.lock before it touches
    anything else in the folder, and keeps it until it exits (the kernel
    drops it then, however the agent ends). A second agent given the same
    folder learns whose it is and leaves every file alone. The lock file
    holds the holder's pid, for that answer.
*/
#ifndef WORM_LOCK_H_INCLUDED
#define WORM_LOCK_H_INCLUDED

#include <stddef.h>
#include <sys/types.h>

#define WORM_LOCK_FILE "wormd.lock"
#define WORM_LOCK_HELD -2               //  worm_lock_new: another process holds it

typedef struct worm_lock_t worm_lock_t;

/*  Locks the state folder dir, creating dir (mode 0700, with its missing
    parents) and the lock file when missing, and writes our pid into the
    lock file. Returns 0 with the lock in *self_p (the caller owns it);
    WORM_LOCK_HELD when another process holds it, having created, removed
    or written nothing, with one sentence in err naming the holder's pid
    (from the lock file, else /proc/locks) when it can be found; or -1 with
    the reason in err. */
int worm_lock_new (worm_lock_t **self_p, const char *dir, char *err, size_t cap);

/*  Writes the calling process's pid into the lock file: after a fork, the
    child that keeps the lock says so. Returns 0 or -1. */
int worm_lock_claim (worm_lock_t *self);

/*  Empties the lock file and releases the lock (the file stays). Sets
    *self_p to NULL. */
void worm_lock_destroy (worm_lock_t **self_p);

#endif
