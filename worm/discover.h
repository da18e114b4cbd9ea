/*  discover.h — finding hosts by broadcast, the requester's side.

    Broadcasts a "who is willing?" query (or "who is there?", all hosts) on a
    LAN and hands each answer to a callback as it arrives; willing hosts
    answer after a delay proportional to their load, so the first answer is
    the least loaded host. Used by wormctl, segments and the benchmarks.
*/
#ifndef WORM_DISCOVER_H_INCLUDED
#define WORM_DISCOVER_H_INCLUDED

#include "beacon.h"
#include "udp.h"

/*  Receives one answer; return nonzero to stop collecting. */
typedef int (worm_discover_fn) (void *arg, const worm_hostinfo_t *host);

/*  Sends one query and collects answers until the callback says stop, no
    answer came for quiet_ms after the last one (0: no such rule), or
    timeout_ms passed. A host that answers twice is reported once.
    Returns the number of hosts reported, or -1 with the reason in err:
    also once zsys_interrupted is set (SIGINT/SIGTERM), within
    WORM_CTL_SLICE_MS, with err "interrupted". */
int worm_discover (const worm_lan_t *lan, bool all, int timeout_ms, int quiet_ms,
                   worm_discover_fn *fn, void *arg, char *err, size_t cap);

#endif
