/*  spawner.h — the actor that grows a worm: places new segments on willing
    hosts off the ring's thread, so a slow discovery never delays an ACK.

    Commands on its pipe: "SPAWN" spawn-id excluded-host-ids (comma list).
    Reports on its pipe: "STARTED" spawn-id host pid, or "FAILED" spawn-id
    reason. The new segment then introduces itself to its spawner (a JOIN).
*/
#ifndef WORM_SPAWNER_H_INCLUDED
#define WORM_SPAWNER_H_INCLUDED

#include "place.h"

#include <czmq.h>

typedef struct {
    worm_lan_t lan;                     //  where to ask "who is willing?"
    char worm[65];                      //  worm name claims are made for
    char program[65];                   //  the segment program on the hosts
    char *args[WORM_PLACE_MAX_ARGS];    //  its arguments, before --spawn-id, NULL-terminated
} worm_spawner_config_t;

/*  Starts the actor; config is copied (its strings too). */
zactor_t *worm_spawner_new (const worm_spawner_config_t *config);

#endif
