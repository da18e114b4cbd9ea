/*  segment.h — one segment of a worm: the process `worm-segment`.

    Pumps a ROUTER socket (its endpoint), DEALER sockets to its peers and
    the ring's timers into the sans-IO ring of token/ring.h, performs the
    ring's actions (send, spawn through the spawner actor, hand the token
    to the app, exit), and answers status and kill requests. Started only
    by a host agent through CLAIM/SPAWN; the agent's environment (WORM_*)
    tells it where it is.
*/
#ifndef WORM_SEGMENT_H_INCLUDED
#define WORM_SEGMENT_H_INCLUDED

#include "token.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool found;                             //  found a new worm (else join one)
    char worm_id[WORM_TOKEN_ID_MAX];        //  the worm's id
    char worm[WORM_TOKEN_NAME_MAX];         //  its name
    char app[WORM_TOKEN_NAME_MAX];          //  its app
    uint32_t size;                          //  found: target population
    uint32_t max;                           //  found: hard cap
    char params[WORM_TOKEN_MAX_PARAMS][WORM_TOKEN_PARAM_MAX];   //  found: app parameters
    int nparams;                            //  how many
    char spawner[WORM_TOKEN_ENDPOINT_MAX];  //  join: the segment that asked for us
    char spawn_id[WORM_TOKEN_ID_MAX];       //  join: its spawn id
    uint64_t hold_ms;                       //  pacing hold at each holder
    uint64_t orphan_ms;                     //  exit after this long without a token
} worm_segment_config_t;

/*  Runs the segment until the ring says exit or SIGTERM/SIGINT arrives.
    Returns 0 on an orderly exit, 1 when it could not start (err says why). */
int worm_segment_run (const worm_segment_config_t *config, char *err, size_t cap);

#endif
