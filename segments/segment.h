/*  segment.h — one segment of a worm: the process `worm-segment`.

    Pumps a ROUTER socket (its endpoint), DEALER sockets to its peers and
    the ring's timers into the sans-IO ring of token/ring.h, performs the
    ring's actions (send, spawn through the spawner actor, hand the token
    to the app, exit), and hands each request to its op table (ops.h:
    status, kill, join, evict, suspect), sending the reply. Started only
    by a host agent through CLAIM/SPAWN; the agent's environment (WORM_*)
    tells it where it is.
*/
#ifndef WORM_SEGMENT_H_INCLUDED
#define WORM_SEGMENT_H_INCLUDED

#include "segspec.h"
#include "token.h"

#include <stdbool.h>
#include <stdint.h>

//  What the segment was started with: its command line, as its host agent
//  built it from a checked spawn request (worm/segspec.h)
typedef worm_segspec_t worm_segment_config_t;

/*  Runs the segment until the ring says exit or SIGTERM/SIGINT arrives.
    Returns 0 on an orderly exit, 1 when it could not start (err says why). */
int worm_segment_run (const worm_segment_config_t *config, char *err, size_t cap);

#endif
