/*  ecm_unit.c — ECM work units through libecm, and the local runner. See ecm_unit.h. */
#include "ecm_unit.h"

#include <ecm.h>
#include <errno.h>
#include <stdlib.h>

//  B1 and expected curves from Table 1 of GMP-ECM 7.0.5's README
//  (/usr/share/doc/gmp-ecm/README.gz, section 2: "optimal B1 and expected
//  number of curves to find a factor of D digits with GMP-ECM", the "default
//  poly" column), from 20 to 65 digits. The 15-digit level (B1 = 2e3,
//  25 curves) is the one GMP-ECM 6's README gave; 7.0.5's table starts at 20.
//  Parametrization 1 (which these units use) has more known torsion than the
//  Suyama curves the table was made with, so the counts err on the side of
//  more curves, never fewer.
static const worm_factor_level_t s_schedule [] = {
    {2e3, 25, 15},
    {11e3, 74, 20},
    {5e4, 214, 25},
    {25e4, 430, 30},
    {1e6, 904, 35},
    {3e6, 2350, 40},
    {11e6, 4480, 45},
    {43e6, 7553, 50},
    {11e7, 17769, 55},
    {26e7, 42017, 60},
    {85e7, 69408, 65},
};

const worm_factor_level_t *
worm_factor_schedule (int *count)
{
    *count = (int) (sizeof s_schedule / sizeof s_schedule [0]);
    return s_schedule;
}

//  The cancel flag of the unit this thread runs, for libecm's stop_asap
//  hook, which takes no argument.
static _Thread_local const atomic_bool *s_cancel;

static int
s_stop_asap (void)
{
    return s_cancel && atomic_load (s_cancel);
}

int
worm_factor_unit_run (const worm_factor_unit_t *unit, const atomic_bool *cancel, mpz_t factor,
                      uint32_t *curves_done)
{
    if (curves_done)
        *curves_done = 0;
    if (mpz_cmp_ui (unit->n, 2) < 0 || mpz_even_p (unit->n) || !(unit->b1 > 0)
        || unit->b1 > 1e12 || unit->curves == 0 || unit->sigma < WORM_FACTOR_SIGMA_MIN
        || (uint64_t) unit->sigma + unit->curves - 1 > UINT32_MAX)
        return -EINVAL;

    mpz_t n, f;
    mpz_init_set (n, unit->n);
    mpz_init (f);
    int rc = 0;
    const atomic_bool *outer = s_cancel;
    s_cancel = cancel;
    for (uint32_t i = 0; i < unit->curves; i++) {
        if (cancel && atomic_load (cancel)) {
            rc = -ECANCELED;
            break;
        }
        //  Fresh parameters per curve, so no state of one curve (B2, the
        //  starting point, B1done) leaks into the next: a curve depends on
        //  (n, B1, sigma) only
        ecm_params params;
        ecm_init (params);
        params->param = ECM_PARAM_BATCH_SQUARE;
        params->sigma_is_A = 0;
        mpz_set_ui (params->sigma, (unsigned long) unit->sigma + i);
        params->stop_asap = s_stop_asap;
        params->verbose = 0;
        int found = ecm_factor (f, n, unit->b1, params);
        ecm_clear (params);
        if (cancel && atomic_load (cancel)) {
            rc = -ECANCELED;
            break;
        }
        if (ECM_ERROR_P (found)) {
            rc = -EIO;
            break;
        }
        if (curves_done)
            (*curves_done)++;
        //  A curve may find all of n at once (f = n): that splits nothing
        if (ECM_FACTOR_FOUND_P (found) && mpz_cmp_ui (f, 1) > 0 && mpz_cmp (f, n) < 0
            && mpz_divisible_p (n, f)) {
            mpz_set (factor, f);
            rc = 1;
            break;
        }
    }
    s_cancel = outer;
    mpz_clear (f);
    mpz_clear (n);
    return rc;
}

//  The local runner's state: at most one unit waiting to run.
typedef struct {
    worm_factor_runner_t runner;    //  the interface handed out; self points here
    worm_factor_unit_t unit;        //  the submitted unit, when pending
    uint64_t id;                    //  its id
    bool pending;                   //  a unit is submitted and not yet returned
} s_local_t;

static int
s_local_capacity (void *self)
{
    (void) self;
    return 1;
}

static int
s_local_submit (void *self, uint64_t id, const worm_factor_unit_t *unit)
{
    s_local_t *local = self;
    if (local->pending)
        return -EBUSY;
    mpz_set (local->unit.n, unit->n);
    local->unit.b1 = unit->b1;
    local->unit.sigma = unit->sigma;
    local->unit.curves = unit->curves;
    local->id = id;
    local->pending = true;
    return 0;
}

static int
s_local_wait (void *self, uint64_t *id, mpz_t factor)
{
    s_local_t *local = self;
    if (!local->pending)
        return -ENOENT;
    local->pending = false;
    *id = local->id;
    return worm_factor_unit_run (&local->unit, NULL, factor, NULL);
}

static void
s_local_cancel (void *self, uint64_t id)
{
    s_local_t *local = self;
    if (local->pending && local->id == id)
        local->pending = false;
}

worm_factor_runner_t *
worm_factor_local_runner_new (void)
{
    s_local_t *local = calloc (1, sizeof *local);
    if (!local)
        return NULL;
    mpz_init (local->unit.n);
    local->runner = (worm_factor_runner_t) {
        local, s_local_capacity, s_local_submit, s_local_wait, s_local_cancel};
    return &local->runner;
}

void
worm_factor_local_runner_destroy (worm_factor_runner_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_local_t *local = (*self_p)->self;
    mpz_clear (local->unit.n);
    free (local);
    *self_p = NULL;
}
