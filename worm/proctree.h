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

#endif
