/*  ecm_unit.h — ECM work units, the B1 schedule, and the runner interface.

    A unit is the factor app's piece of distributable work (issue 12,
    section 3): (n, B1, first sigma, number of curves). Its curves use the
    sigmas first .. first + curves - 1 with GMP-ECM's parametrization 1
    (ECM_PARAM_BATCH_SQUARE, the library's default on 64-bit machines:
    A = 4 sigma^2 / 2^64 - 2, x0 = 2, sigma below 2^32) and libecm's default
    B2 for that B1, so a unit run twice, on any machine, runs the same curves:
    a reassigned unit is the same unit. A unit stops between curves once its
    cancel flag is set (libecm's stop_asap hook is set too, but libecm does
    not consult it in parametrization 1's batch stage 1: a curve at B1 = 11e6
    on a 100-digit number may take a minute to notice).

    The runner is how big.c's driver gets units run without knowing where:
    the local runner here runs them in the calling thread, one at a time; the
    distributed one (the job layer) hands them to worm segments, which run
    each with worm_factor_unit_run in a worker.
*/
#ifndef WORM_FACTOR_ECM_UNIT_H_INCLUDED
#define WORM_FACTOR_ECM_UNIT_H_INCLUDED

#include <stdio.h>     //  before gmp.h, for mpz_out_str
#include <gmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

//  One level of the B1 schedule: the expected number of curves at B1 to find
//  a factor of the given size (the chance to miss one is then about 1/e).
typedef struct {
    double b1;                  //  stage 1 bound
    uint32_t curves;            //  expected curves to find a factor of `digits` digits
    int digits;                 //  the factor size this level targets
} worm_factor_level_t;

//  The schedule, from 2e3 (15 digits) to 85e7 (65 digits); *count receives
//  its length. The table and its source are in ecm_unit.c.
const worm_factor_level_t *
    worm_factor_schedule (int *count);

//  Sigmas are below 2^32 under parametrization 1, and at least this.
#define WORM_FACTOR_SIGMA_MIN 2

//  A work unit. The caller owns n (mpz_init / mpz_clear).
typedef struct {
    mpz_t n;                    //  the number to split: odd, composite, > 1
    double b1;                  //  stage 1 bound, one of the schedule's
    uint32_t sigma;             //  the first curve's sigma (parametrization 1)
    uint32_t curves;            //  curves run: sigma .. sigma + curves - 1
} worm_factor_unit_t;

//  Runs unit's curves in the calling thread, one after the other, until one
//  splits n. Returns 1 with a proper factor of n in factor (checked by
//  division: 1 < factor < n and factor | n), 0 when no curve found one,
//  -ECANCELED when *cancel was set (checked before each curve and inside
//  libecm; cancel may be NULL), -EINVAL for a unit that is not well formed
//  (n < 2 or even, B1 not positive, no curves, a sigma out of range), -EIO
//  when libecm reported an error. *curves_done (may be NULL) receives how
//  many curves ran to their end. factor must be initialised by the caller.
int
    worm_factor_unit_run (const worm_factor_unit_t *unit, const atomic_bool *cancel, mpz_t factor,
                          uint32_t *curves_done);

//  The interface big.c drives to get units run. Ids are the driver's, unique
//  per runner for its life; a runner keeps no unit once it has returned it
//  from wait or cancelled it.
typedef struct {
    void *self;                 //  the runner's own state, passed to each call
    //  How many units the driver should keep submitted at once (at least 1).
    int (*capacity) (void *self);
    //  Takes a unit to run (the runner copies what it needs: unit stays the
    //  caller's). Returns 0, or a negative errno when it cannot take one.
    int (*submit) (void *self, uint64_t id, const worm_factor_unit_t *unit);
    //  Waits for one submitted unit to finish. Sets *id, and returns what
    //  worm_factor_unit_run returned for it (1 with the factor in factor,
    //  which the driver checks again, 0, or a negative errno); -ENOENT when
    //  nothing is submitted.
    int (*wait) (void *self, uint64_t *id, mpz_t factor);
    //  Cancels a submitted unit: it is never returned from wait. Unknown ids
    //  are ignored.
    void (*cancel) (void *self, uint64_t id);
} worm_factor_runner_t;

//  The in-process runner: capacity 1, units run in the thread that calls
//  wait. Destroy with worm_factor_local_runner_destroy. NULL when out of memory.
worm_factor_runner_t *
    worm_factor_local_runner_new (void);
void
    worm_factor_local_runner_destroy (worm_factor_runner_t **self_p);

#endif
