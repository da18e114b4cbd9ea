/*  app.h — the app interface: how an app plugs into a worm's segments.

    An app touches the runtime only through these hooks (../shared/DESIGN.md,
    "Apps"). Its replicated state travels in the token as opaque bytes, so
    every segment has a copy. Adding an app is one folder, apps/NAME/, plus
    one line in apps/list.h (apps/README.md).
*/
#ifndef WORM_APP_H_INCLUDED
#define WORM_APP_H_INCLUDED

#include "token.h"

#include <stdint.h>

typedef struct {
    const char *name;           //  the name `wormctl launch --app` uses
    const char *summary;        //  one line for --help
    //  Creates the app's per-segment state from the worm's parameters
    //  ("key=value" strings). Returns 0, or -1 with the reason in err.
    int (*create) (void **state, const worm_token_t *token, char *err, size_t cap);
    //  Called while this segment holds the token: may read and replace the
    //  token's app state (worm_token_set_app_state). NULL: nothing to do.
    void (*on_token) (void *state, worm_token_t *token, uint64_t now_ms);
    //  Computes one unit of work between token visits; returns 1 when it did
    //  something, 0 when idle. NULL: the app does no work.
    int (*work) (void *state, uint64_t now_ms);
    //  Eviction: hand unfinished work back into the token. NULL: nothing.
    void (*handoff) (void *state, worm_token_t *token);
    //  Destroys the state and sets *state to NULL.
    void (*destroy) (void **state);
} worm_app_t;

/*  The app of that name, or NULL. */
const worm_app_t *worm_app_find (const char *name);
/*  The registered apps, NULL-terminated. */
extern const worm_app_t *const worm_apps[];

#endif
