/*  segment.c — existential's segment side: the app that only exists: no
    work, no state. It shows the runtime alone: a worm that keeps its
    population and nothing else. */
#include "app.h"

#include <stdlib.h>

static int
s_create (void **state, const worm_token_t *token, char *err, size_t cap)
{
    (void) token;
    (void) err;
    (void) cap;
    *state = NULL;
    return 0;
}

static void
s_destroy (void **state)
{
    *state = NULL;
}

const worm_app_t worm_app_existential = {
    .name = "existential",
    .summary = "does no work; the worm only keeps itself alive",
    .create = s_create,
    .on_token = NULL,
    .unit = NULL,
    .request = NULL,
    .handoff = NULL,
    .destroy = s_destroy,
};
