/*  registry.h — the hosts an agent has heard (Sprite's `reginfo`).

    Keyed by host id; a host silent for three of its own check intervals is
    dropped. Pure data with time passed in, so it is tested without sockets.
*/
#ifndef WORM_REGISTRY_H_INCLUDED
#define WORM_REGISTRY_H_INCLUDED

#include "beacon.h"

#define WORM_REGISTRY_MAX 1024     //  hosts kept at most; more are refused

typedef struct worm_registry_t worm_registry_t;

worm_registry_t *worm_registry_new (void);
void worm_registry_destroy (worm_registry_t **self_p);

/*  Inserts or refreshes a host heard at now_ms. Returns 1 when the host is
    new, 0 when refreshed, -1 when the registry is full (host not kept). */
int worm_registry_update (worm_registry_t *self, const worm_hostinfo_t *host, int64_t now_ms);

/*  Drops hosts silent for more than 3 of their intervals. Returns how many. */
int worm_registry_expire (worm_registry_t *self, int64_t now_ms);

size_t worm_registry_size (worm_registry_t *self);
/*  The host at index (0 .. size-1), in name order; the registry owns it. */
const worm_hostinfo_t *worm_registry_at (worm_registry_t *self, size_t index);
/*  The host with this id or name, or NULL. */
const worm_hostinfo_t *worm_registry_find (worm_registry_t *self, const char *id_or_name);

#endif
