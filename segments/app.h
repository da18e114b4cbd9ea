/*  app.h — the app interface: how an app plugs into a worm's segments.

    An app touches the runtime only through these hooks (../shared/DESIGN.md,
    "Apps" and "Jobs"). Its replicated state travels in the token as opaque
    bytes, so every segment has a copy. Adding an app is one folder under
    apps/ plus one line in apps/list.h (apps/README.md).

    Threads and time. Every hook but unit runs on the segment's one reactor
    thread, the ring's, which acks and forwards the token and obeys
    eviction: each must return within a few milliseconds and never block
    on I/O. unit runs on the segment's worker thread (segments/worker.h), at
    nice 19 and SCHED_IDLE, and may take seconds; it reads the state as
    create left it and nothing that on_token, request or handoff change
    (an app that shares more locks it itself). Hooks that can fail return
    0, or -1 with one sentence in err (cap bytes): the segment logs it and,
    for create, exits; for request, answers it as the error.
*/
#ifndef WORM_APP_H_INCLUDED
#define WORM_APP_H_INCLUDED

#include "token.h"
#include "wire.h"
#include "worker.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;           //  the name `wormctl launch --app` uses
    const char *summary;        //  one line for --help
    //  Creates the app's per-segment state from the worm's token, once,
    //  when the segment first has it: a founder at its start, a joiner when
    //  the token first reaches it, so both see the worm's parameters
    //  (worm_token_param*) and its app state (worm_token_app_state).
    int (*create) (void **state, const worm_token_t *token, char *err, size_t cap);
    //  Called while this segment holds the token: may read and replace the
    //  token's app state (worm_token_set_app_state; over its cap is an
    //  error, and the token keeps what it had). Only for a token that lists
    //  a live majority of its voters: a holder cut off on a minority side
    //  holds a lineage the worm may have left behind, and what the app did
    //  there (an alarm armed for a host since replaced) would be lost or
    //  done twice. NULL: nothing to do.
    int (*on_token) (void *state, worm_token_t *token, uint64_t now_ms, char *err, size_t cap);
    //  Runs one work unit a client leased to this segment through the job
    //  layer (segments/job.h), on the worker thread (worm_task_fn's
    //  contract, with state as its argument). NULL: the app takes no units.
    worm_task_fn *unit;
    //  Each unit runs in a process of its own (worm-segment --unit APP,
    //  started for it) killed when the unit is cancelled or the segment
    //  leaves (segments/worker.h, worm_worker_isolate): for units that
    //  cannot look at their cancel flag every second. unit then gets state
    //  NULL: such an app's units carry all they need.
    bool unit_in_child;
    //  Answers a client's app request of a verb that is not the job
    //  layer's: reply is an open map (the runtime wrote "ok" and closes
    //  it): add entries. NULL: the app has no verbs of its own.
    int (*request) (void *state, const char *verb, const void *body, size_t size,
                    worm_wire_writer_t *reply, char *err, size_t cap);
    //  Eviction or SIGTERM while holding the token: hand unfinished work
    //  back into the token. NULL: nothing.
    int (*handoff) (void *state, worm_token_t *token, char *err, size_t cap);
    //  Destroys the state (after the worker stopped) and sets *state to NULL.
    void (*destroy) (void **state);
} worm_app_t;

/*  create and destroy for an app that keeps no state of its own (a unit
    carries all it needs): the state is NULL. */
int worm_app_no_state_create (void **state, const worm_token_t *token, char *err, size_t cap);
void worm_app_no_state_destroy (void **state);

/*  The app of that name, or NULL. */
const worm_app_t *worm_app_find (const char *name);
/*  The registered apps, NULL-terminated. */
extern const worm_app_t *const worm_apps[];

#endif
