/*  segment.c — factor's segment side: runs ECM units (apps/factor/unit.h)
    leased to this segment by a `wormctl factor` client through the job
    layer, on the segment's worker thread. No state: a unit carries all it
    needs, so a reassigned unit runs the same curves anywhere. */
#include "app.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

//  One unit: decode it, run its curves, encode what they found.
static int
s_unit (void *state, worm_task_t *task)
{
    (void) state;
    if (strcmp (task->verb, WORM_FACTOR_TASK) != 0) {
        snprintf (task->error, sizeof task->error, "factor: no task '%s' (only '%s')", task->verb,
                  WORM_FACTOR_TASK);
        return -1;
    }
    worm_factor_unit_t unit;
    mpz_init (unit.n);
    if (worm_factor_unit_decode (task->body, task->size, &unit, task->error,
                                 sizeof task->error)) {
        mpz_clear (unit.n);
        return -1;
    }
    mpz_t factor;
    mpz_init (factor);
    uint32_t curves = 0;
    int rc = worm_factor_unit_run (&unit, task->cancel, factor, &curves);
    int ret = 0;
    if (rc == -ECANCELED)
        ret = 1;
    else if (rc < 0) {
        snprintf (task->error, sizeof task->error, "factor: the unit failed (%s)",
                  rc == -EINVAL ? "not a well-formed unit" : "libecm reported an error");
        ret = -1;
    }
    else if (worm_factor_result_encode (rc == 1 ? factor : NULL, curves, &task->result,
                                        &task->result_size)) {
        snprintf (task->error, sizeof task->error, "factor: out of memory for a result");
        ret = -1;
    }
    mpz_clear (factor);
    mpz_clear (unit.n);
    return ret;
}

const worm_app_t worm_app_factor = {
    .name = "factor",
    .summary = "distributed prime factoring: ECM curves leased by `wormctl factor`",
    .create = worm_app_no_state_create,
    .unit = s_unit,
    //  libecm looks at its stop hook only between curves, and a curve's
    //  stage 1 takes seconds at the higher B1: a cancel or an eviction
    //  kills the unit's process instead of waiting for it
    .unit_in_child = true,
    .destroy = worm_app_no_state_destroy,
};
