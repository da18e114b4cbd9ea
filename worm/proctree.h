/*  proctree.h — a guest's whole process tree, found and signalled.

    A guest may fork, and its children may leave its process group or
    double-fork away. The agent is a child subreaper (PR_SET_CHILD_SUBREAPER),
    so orphans come back to it instead of init, and every guest process
    inherits the marker WORM_GUEST_MARK=HOST-ID/GUEST-ID in its environment
    (unique across agents, which share one process table on a machine of
    virtual hosts). A tree is then
    every process below the guest's pid plus every process that carries its
    marker, found by one scan of /proc.
*/
#ifndef WORM_PROCTREE_H_INCLUDED
#define WORM_PROCTREE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define WORM_PROCTREE_MAX 1024

/*  Makes this process a child subreaper. Returns 0 or -1. */
int worm_proctree_subreaper (void);

/*  Collects the pids of root's descendants (root itself when alive) and of
    every process whose environment holds the entry marker (e.g.
    "WORM_GUEST_MARK=0123456789abcdef/g3"), at most cap. Returns how many. */
int worm_proctree_collect (pid_t root, const char *marker, pid_t *pids, int cap);

/*  Sends sig to the tree and to root's process group. Returns how many
    processes were signalled. */
int worm_proctree_signal (pid_t root, const char *marker, int sig);

/*  The start time of pid (clock ticks after boot, /proc/PID/stat), which
    tells it from a later process given the same pid. Returns 0, or -1 when
    there is no such process. */
int worm_proc_started (pid_t pid, unsigned long long *ticks);

/*  True when pid is no process, or a zombie (it cannot run again). */
bool worm_proc_gone (pid_t pid);

/*  What a guest of an agent that is gone left running, for the next agent
    on its state folder to end: leader (the guest, 0 for none) when it is
    still the process that started at started; every member of its process
    group and session (a guest leads both, and their ids cannot be given
    to anyone else while a member lives) that started no earlier, unless
    leader's pid now names a later process; and, with prefix (NULL or ""
    for none), every process whose environment holds an entry starting
    with it (e.g. "WORM_GUEST_MARK=0123456789abcdef/": every guest of that
    host). Zombies are left out. At most cap pids; returns how many. An
    environment is readable only to root or its process's own user, and
    not at all, but to root, for a non-dumpable process. */
int worm_proctree_leftovers (pid_t leader, unsigned long long started, const char *prefix,
                             pid_t *pids, int cap);

#endif
