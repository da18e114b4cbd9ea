/*  spawner.h — the actor that grows a worm: places new segments on willing
    hosts off the ring's thread, so a slow discovery never delays an ACK.

    It also answers the ring's CHECKs (does that member's process still run?)
    by asking the member's host agent, found by its host id.

    Commands on its pipe: "SPAWN" spawn-id excluded-host-ids (comma list);
    "CHECK" segment-id host-id pid.
    Reports on its pipe: "STARTED" spawn-id host pid, or "FAILED" spawn-id
    reason (the new segment then introduces itself to its spawner: a JOIN);
    "GONE" segment-id when its process is confirmed gone.
*/
#ifndef WORM_SPAWNER_H_INCLUDED
#define WORM_SPAWNER_H_INCLUDED

#include "place.h"

#include <czmq.h>
#include <stdatomic.h>

typedef struct {
    worm_lan_t lan;                     //  where to ask "who is willing?"
    char worm[65];                      //  worm name claims are made for
    worm_segspec_t joiner;              //  what new segments start with (a join; its
                                        //  spawn id is set for each)
    char agent[128];                    //  our host agent, which relays to other hosts
    char agent_key[41];                 //  its public key
    char worm_public[41];               //  the worm's keypair, for the new segments
    char worm_secret[41];
    atomic_bool *stop;                  //  set by the owner as it exits: a placement
                                        //  in progress gives up between hosts
} worm_spawner_config_t;

/*  Starts the actor; config is copied. */
zactor_t *worm_spawner_new (const worm_spawner_config_t *config);

#endif
