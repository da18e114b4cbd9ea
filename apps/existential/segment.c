/*  segment.c — existential's segment side: the app that only exists: no
    work, no state. It shows the runtime alone: a worm that keeps its
    population and nothing else. */
#include "app.h"


const worm_app_t worm_app_existential = {
    .name = "existential",
    .summary = "does no work; the worm only keeps itself alive",
    .create = worm_app_no_state_create,
    .on_token = NULL,
    .unit = NULL,
    .request = NULL,
    .handoff = NULL,
    .destroy = worm_app_no_state_destroy,
};
