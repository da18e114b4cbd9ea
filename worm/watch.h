/*  watch.h — a guest's watch on its host agent.

    The agent starts every guest with a parent death signal of SIGKILL
    (docs/PROTOCOL.md, "Control"): whatever the guest does, it does not
    outlive its agent. A guest that can leave in order instead (a segment:
    it hands the token on and says LEAVE) asks for SIGTERM with
    worm_watch_start, notices the agent's death as a change of its parent,
    and ends its whole process group on its way out, since no agent is
    left to do it. For one process; not thread-safe.
*/
#ifndef WORM_WATCH_H_INCLUDED
#define WORM_WATCH_H_INCLUDED

#include <stdbool.h>

/*  Starts watching when this process is a guest (WORM_GUEST_ID is set):
    the agent's death now sends SIGTERM instead of SIGKILL. Returns 1 when
    watching, 0 when this is no guest (nothing changed), -1 when the
    signal could not be changed. */
int worm_watch_start (void);

/*  True when this process watches its agent and the agent is gone or
    going (its main thread, which started us, has ended: it sent the
    SIGTERM), waiting up to wait_ms for it: a SIGTERM may arrive a moment
    before /proc shows why. False for a process that does not watch. */
bool worm_watch_agent_gone (int wait_ms);

/*  Ends this process's group, this process included, with SIGKILL. For
    the end of a guest whose agent is gone. Does not return. */
void worm_watch_end_group (void);

#endif
