/*  agents.h — the local cluster's agent processes, seen through /proc:
    whether a recorded pid is still the wormd of hostN, which wormd serves
    a state folder, and stopping the agents 'wormctl up' started (for
    'down', and for a failed or interrupted 'up').
*/
#ifndef WORMCTL_AGENTS_H_INCLUDED
#define WORMCTL_AGENTS_H_INCLUDED

#include "record.h"

#include <stdbool.h>
#include <sys/types.h>

/*  True when pid is the wormd that serves DIR/hostN (not a reused pid). */
bool wormctl_is_cluster_agent (pid_t pid, const char *dir, int n);

/*  Stops the agents recorded for dir: SIGTERM, then up to wait_ms for them
    to go, then SIGKILL for those still there. When interrupted it stops
    waiting at once, and sends SIGKILL only with kill_interrupted (a failed
    'up', whose young agents hold no guests). Returns how many it stopped;
    *running (may be NULL) gets how many still run, named on stderr. A pid
    that is no longer its host's wormd is left alone, and said so. */
int wormctl_stop_agents (const char *dir, const wormctl_cluster_t *cluster, int wait_ms,
                         bool kill_interrupted, int *running);

/*  The pid of a live wormd that serves the state folder state (named in
    its arguments, relative to its working folder or not, or writing its
    pid file there), or 0 when none does. */
pid_t wormctl_agent_in (const char *state);

#endif
