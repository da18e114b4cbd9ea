/*  watch.h — one worm's segments asked for their status again and again
    (wormctl status --watch): a connection kept to each segment, a request
    in flight to each at most, and the host agents asked for the worm's
    segments once a second in a thread of its own, so that neither a slow
    search nor a dead segment holds the polls up.
*/
#ifndef WORMCTL_WATCH_H_INCLUDED
#define WORMCTL_WATCH_H_INCLUDED

#include "worms.h"

/*  Called once a poll with the worm's segments as last found: answered is
    set for those that answered this poll, their status fields from that
    answer. at_ms: the wall clock when the poll ended. */
typedef void (wormctl_watch_fn) (void *arg, const wormctl_segments_t *view, int64_t at_ms);

/*  Polls worm NAME's segments every interval_ms until interrupted, calling
    fn after each poll. Returns 0 once interrupted, or 1 after saying on
    stderr why the segments could not be looked for. */
int wormctl_watch (wormctl_client_t *client, const char *name, int interval_ms,
                   wormctl_watch_fn *fn, void *arg);

#endif
