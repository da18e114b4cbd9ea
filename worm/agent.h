/*  agent.h — the host agent behind `wormd` (Sprite's `customs`).

    One reactor (czmq zloop) owns the agent's control endpoint and timers:
    every check interval it samples availability, decides willingness
    under the owner's policy and has a beacon broadcast (at once when
    willingness changes); it keeps the registry of hosts heard, and serves
    the control endpoint: status, registry, policy get/set, guests, and
    CLAIM then SPAWN of guest programs under the policy. Guests are reaped
    as they exit and stopped, with their folders removed, when the agent
    stops. Two actors work beside it: the announcer (announce.h) owns the
    beacon port, and answers "who is willing?" after a delay proportional
    to the load; the relay makes guests' requests to other hosts.

    The agent is made of parts, one concern each: agent_internal.h names
    them and what they share; agent_limits.h holds every limit.
*/
#ifndef WORM_AGENT_H_INCLUDED
#define WORM_AGENT_H_INCLUDED

#include "agent_limits.h"
#include "config.h"
#include "lock.h"

typedef struct worm_agent_t worm_agent_t;

/*  Creates an agent on a state folder the caller has locked: takes over
    the lock (*lock_p is set to NULL; it is released by destroy, or at
    once when this fails); ends what a former agent on the folder left
    running and removes its guests' folders; host id, sockets bound,
    endpoint file written. Returns NULL with the reason in err. */
worm_agent_t *worm_agent_new (const worm_config_t *config, worm_lock_t **lock_p, char *err,
                              size_t cap);

/*  Stops every guest (SIGTERM, then SIGKILL after the grace period, at most
    a few seconds), removes their folders and the agent's runtime files,
    then releases the state folder's lock. */
void worm_agent_destroy (worm_agent_t **self_p);

/*  Serves until interrupted (SIGINT/SIGTERM). Returns 0. */
int worm_agent_run (worm_agent_t *self);

/*  The answer delay for a load: 0 when idle, WORM_ANSWER_MS_PER_LOAD a unit
    of load, at most WORM_ANSWER_MAX_DELAY_MS. */
int worm_agent_answer_delay_ms (double load);

#endif
