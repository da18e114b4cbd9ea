/*  big.c — factoring numbers of any size, with ECM through a runner. See big.h. */
#include "big.h"
#include "siqs.h"
#include "word.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define S_DEFAULT_SIGMA 1000
//  rho's budget before ECM: 10^4 iterations (3.6 ms on a 100-digit number,
//  where 10^5 took 27 ms) find factors of up to about 8 digits; from 9
//  digits ECM's first level is quicker (one B1 = 2e3 curve, 2.6 ms there,
//  finds a 10-digit factor about one time in 3, where rho needs some 10^5
//  iterations, 21 ms)
#define S_DEFAULT_RHO 10000
//  Differences multiplied together per gcd in rho
#define S_RHO_BATCH 64
//  Units of one number in flight at most, whatever the runner's capacity
#define S_MAX_INFLIGHT 256
//  In the sieve's range, rho gets this share of its budget (1000 iterations)
#define S_RHO_SIQS_SHARE 10
//  From this many digits, ECM runs to 4/13 of the digits before the sieve
#define S_SIQS_ECM_FROM 55

//  Unit ids, unique for the process's life, so they stay unique per runner
static atomic_uint_fast64_t s_next_id = 1;

void
worm_factor_list_init (worm_factor_list_t *self)
{
    self->items = NULL;
    self->count = 0;
    self->size = 0;
}

void
worm_factor_list_clear (worm_factor_list_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        mpz_clear (self->items [i]);
    free (self->items);
    worm_factor_list_init (self);
}

int
worm_factor_list_push (worm_factor_list_t *self, const mpz_t value)
{
    if (self->count == self->size) {
        size_t size = self->size ? self->size * 2 : 16;
        mpz_t *items = realloc (self->items, size * sizeof *items);
        if (!items)
            return -ENOMEM;
        self->items = items;
        self->size = size;
    }
    mpz_init_set (self->items [self->count++], value);
    return 0;
}

static int
s_compare (const void *a, const void *b)
{
    return mpz_cmp (*(const mpz_t *) a, *(const mpz_t *) b);
}

void
worm_factor_list_sort (worm_factor_list_t *self)
{
    if (self->count > 1)
        qsort (self->items, self->count, sizeof self->items [0], s_compare);
}

static int
s_push_ui (worm_factor_list_t *list, uint64_t value)
{
    mpz_t v;
    mpz_init_set_ui (v, value);
    int rc = worm_factor_list_push (list, v);
    mpz_clear (v);
    return rc;
}

//  One factoring call's state.
typedef struct {
    const worm_factor_config_t *config;     //  the caller's settings
    worm_factor_list_t *primes;             //  where primes go
    worm_factor_stats_t *stats;             //  the caller's counters
    uint32_t rho_iterations;                //  config's budget, defaulted
    uint32_t sigma;                         //  config's first sigma, defaulted
    int siqs_digits;                        //  config's crossover, defaulted (-1: none)
} s_ctx_t;

//  Pollard-Brent rho on odd composite n with x^2 + c, for at most budget
//  iterations. Returns true with a proper factor in f.
static bool
s_rho (mpz_t f, const mpz_t n, unsigned long c, uint32_t budget)
{
    mpz_t x, y, ys, q, t;
    mpz_inits (x, y, ys, q, t, NULL);
    mpz_set_ui (y, 2);
    mpz_set_ui (q, 1);
    mpz_set_ui (f, 1);
    uint64_t spent = 0;
    for (uint64_t r = 1; mpz_cmp_ui (f, 1) == 0 && spent < budget; r <<= 1) {
        mpz_set (x, y);
        for (uint64_t i = 0; i < r; i++) {
            mpz_mul (y, y, y);
            mpz_add_ui (y, y, c);
            mpz_mod (y, y, n);
        }
        spent += r;
        for (uint64_t k = 0; k < r && mpz_cmp_ui (f, 1) == 0; k += S_RHO_BATCH) {
            mpz_set (ys, y);
            uint64_t steps = r - k < S_RHO_BATCH ? r - k : S_RHO_BATCH;
            for (uint64_t i = 0; i < steps; i++) {
                mpz_mul (y, y, y);
                mpz_add_ui (y, y, c);
                mpz_mod (y, y, n);
                mpz_sub (t, x, y);
                mpz_mul (q, q, t);
                mpz_mod (q, q, n);
            }
            spent += steps;
            mpz_gcd (f, q, n);
        }
    }
    if (mpz_cmp (f, n) == 0) {
        //  The batch overshot: step again one difference at a time
        do {
            mpz_mul (ys, ys, ys);
            mpz_add_ui (ys, ys, c);
            mpz_mod (ys, ys, n);
            mpz_sub (t, x, ys);
            mpz_gcd (f, t, n);
        } while (mpz_cmp_ui (f, 1) == 0);
    }
    bool found = mpz_cmp_ui (f, 1) > 0 && mpz_cmp (f, n) < 0;
    mpz_clears (x, y, ys, q, t, NULL);
    return found;
}

//  Cancels every unit in ids [0, count) but keep (0 keeps none).
static void
s_cancel_all (s_ctx_t *ctx, const uint64_t *ids, int count, uint64_t keep)
{
    worm_factor_runner_t *runner = ctx->config->runner;
    for (int i = 0; i < count; i++)
        if (ids [i] != keep) {
            runner->cancel (runner->self, ids [i]);
            if (ctx->stats)
                ctx->stats->units_cancelled++;
        }
}

double
worm_factor_curve_us (double b1, size_t bits)
{
    return b1 * 0.2 * pow ((double) bits / 143, 2.3);
}

//  The curves of the next unit at b1 on a number of bits, of the left ones
//  of the level: the config's caps, and at least one.
static uint32_t
s_unit_curves (const worm_factor_config_t *config, double b1, size_t bits, uint32_t left)
{
    uint32_t curves = left;
    if (config->unit_curves && curves > config->unit_curves)
        curves = config->unit_curves;
    if (config->unit_ms) {
        double fit = config->unit_ms * 1000.0 / worm_factor_curve_us (b1, bits);
        if (fit < curves)
            curves = fit < 1 ? 1 : (uint32_t) fit;
    }
    return curves;
}

//  Runs ECM on odd composite n (no small factors, not a perfect power)
//  along the schedule until a unit returns a proper factor, which lands in
//  f. With max_digits 0 the ladder never ends; otherwise it climbs only the
//  levels that target factors of at most max_digits digits. When quit is not
//  NULL, it stops once *quit is set (looked at whenever a unit returns).
//  Returns 1 with the factor, 0 when the levels allowed ran out or quit was
//  set, or a negative errno.
static int
s_ecm (s_ctx_t *ctx, mpz_t f, const mpz_t n, int max_digits, const atomic_bool *quit)
{
    worm_factor_runner_t *runner = ctx->config->runner;
    if (!runner)
        return -ENOSYS;
    int levels;
    const worm_factor_level_t *schedule = worm_factor_schedule (&levels);

    size_t bits = mpz_sizeinbase (n, 2);
    worm_factor_unit_t unit;
    mpz_init_set (unit.n, n);
    uint64_t inflight [S_MAX_INFLIGHT];
    int count = 0;
    int level = 0;
    uint32_t left = schedule [0].curves;    //  curves of the level not yet submitted
    uint32_t sigma = ctx->sigma;
    int rc = 0;
    bool ended = max_digits > 0 && schedule [0].digits > max_digits;  //  nothing more to submit
    while (true) {
        //  Asked again each time: a worm's segments come and go
        int capacity = runner->capacity (runner->self);
        if (capacity < 1)
            capacity = 1;
        if (capacity > S_MAX_INFLIGHT)
            capacity = S_MAX_INFLIGHT;
        while (count < capacity && !ended && !(quit && atomic_load (quit))) {
            if (left == 0) {
                //  After the last level, more of the same
                if (max_digits > 0
                    && (level + 1 >= levels || schedule [level + 1].digits > max_digits)) {
                    ended = true;
                    break;
                }
                if (level + 1 < levels)
                    level++;
                left = schedule [level].curves;
            }
            uint32_t curves = s_unit_curves (ctx->config, schedule [level].b1, bits, left);
            if ((uint64_t) sigma + curves - 1 > UINT32_MAX)
                sigma = WORM_FACTOR_SIGMA_MIN;      //  4 billion curves later: wrap
            unit.b1 = schedule [level].b1;
            unit.sigma = sigma;
            unit.curves = curves;
            uint64_t id = atomic_fetch_add (&s_next_id, 1);
            rc = runner->submit (runner->self, id, &unit);
            if (rc < 0)
                break;
            if (ctx->stats)
                ctx->stats->units_submitted++;
            inflight [count++] = id;
            sigma += curves;
            left -= curves;
        }
        if (rc < 0)
            break;
        if (ended && count == 0)
            break;      //  rc 0: the levels allowed ran out
        if (quit && atomic_load (quit))
            break;      //  rc 0: the sieve beside it is done
        uint64_t id = 0;
        int found = runner->wait (runner->self, &id, f);
        for (int i = 0; i < count; i++)
            if (inflight [i] == id) {
                inflight [i] = inflight [--count];
                break;
            }
        if (found == -ECANCELED)
            continue;
        if (found < 0) {
            rc = found;
            break;
        }
        //  A runner's answer is checked, not trusted
        if (found > 0 && mpz_cmp_ui (f, 1) > 0 && mpz_cmp (f, n) < 0 && mpz_divisible_p (n, f)) {
            if (ctx->stats)
                ctx->stats->factors_by_ecm++;
            rc = 1;
            break;
        }
    }
    s_cancel_all (ctx, inflight, count, 0);
    mpz_clear (unit.n);
    return rc;
}

static int s_split (s_ctx_t *ctx, const mpz_t n);

static void
s_count_siqs (s_ctx_t *ctx, bool found)
{
    if (ctx->stats) {
        if (found)
            ctx->stats->factors_by_siqs++;
        else
            ctx->stats->siqs_failures++;
    }
}

//  The sieve run in a thread of its own, beside the ECM ladder.
typedef struct {
    mpz_t n;                    //  the number (the job's copy)
    mpz_t f;                    //  the factor found
    worm_factor_siqs_t params;  //  budget, stop flag, counters
    volatile int stop;          //  set to stop the sieve: ECM won, or an error
    atomic_bool done;           //  set when the sieve has returned
    int rc;                     //  what it returned
} s_sieve_job_t;

static void *
s_sieve_thread (void *arg)
{
    s_sieve_job_t *job = arg;
    job->rc = worm_factor_siqs (job->f, job->n, &job->params);
    atomic_store (&job->done, true);
    return NULL;
}

//  Factors n (in the sieve's range, no small factor) by the sieve in a
//  thread of this process while the ECM ladder runs through the runner;
//  whichever finds a factor first wins and the other is stopped. If the
//  sieve gives up, the ladder goes on alone. Returns 1 with the factor in
//  f, or a negative errno (the runner's, or -ENOMEM).
static int
s_siqs_beside_ecm (s_ctx_t *ctx, mpz_t f, const mpz_t n)
{
    s_sieve_job_t *job = calloc (1, sizeof *job);
    if (!job)
        return -ENOMEM;
    mpz_init_set (job->n, n);
    mpz_init (job->f);
    job->params.max_polys = ctx->config->siqs_polys;
    job->params.stop = &job->stop;
    atomic_init (&job->done, false);
    pthread_t thread;
    int rc;
    if (pthread_create (&thread, NULL, s_sieve_thread, job) != 0) {
        //  No thread: the sieve here, then ECM if it gave up
        job->rc = worm_factor_siqs (job->f, job->n, &job->params);
        atomic_store (&job->done, true);
        rc = 0;
    }
    else {
        //  The ladder returns 0 only once the sieve is done; otherwise (a
        //  factor, an error, the runner's -EINTR on Ctrl-C) the sieve is
        //  told to stop, which it does within a polynomial's time
        rc = s_ecm (ctx, f, n, 0, &job->done);
        if (rc != 0)
            job->stop = 1;
        pthread_join (thread, NULL);
    }
    if (rc == 0) {
        if (job->rc == 1) {
            mpz_set (f, job->f);
            rc = 1;
        }
        else if (job->rc == -ENOMEM)
            rc = -ENOMEM;
        s_count_siqs (ctx, rc == 1);
        if (rc == 0)    //  the sieve gave up: the ladder alone, from its start
            rc = s_ecm (ctx, f, n, 0, NULL);
    }
    mpz_clears (job->n, job->f, NULL);
    free (job);
    return rc;
}

//  The number of decimal digits of n > 0 (mpz_sizeinbase may say one more).
static int
s_digits (const mpz_t n)
{
    int digits = (int) mpz_sizeinbase (n, 10);
    mpz_t power;
    mpz_init (power);
    mpz_ui_pow_ui (power, 10, (unsigned long) digits - 1);
    if (mpz_cmp (n, power) < 0)
        digits--;
    mpz_clear (power);
    return digits;
}

//  Pushes the prime factors of n (no prime factor below the trial bound)
//  multiplicity times.
static int
s_split_times (s_ctx_t *ctx, const mpz_t n, unsigned long multiplicity)
{
    size_t first = ctx->primes->count;
    int rc = s_split (ctx, n);
    size_t last = ctx->primes->count;
    for (unsigned long k = 1; rc == 0 && k < multiplicity; k++)
        for (size_t i = first; rc == 0 && i < last; i++) {
            mpz_t p;
            mpz_init_set (p, ctx->primes->items [i]);
            rc = worm_factor_list_push (ctx->primes, p);
            mpz_clear (p);
        }
    return rc;
}

//  Splits n, which has no prime factor below the trial bound, into primes.
static int
s_split (s_ctx_t *ctx, const mpz_t n)
{
    if (mpz_cmp_ui (n, 1) <= 0)
        return 0;
    if (mpz_fits_ulong_p (n)) {
        uint64_t factors [WORM_FACTOR_WORD_MAX];
        int count = worm_factor_word (mpz_get_ui (n), factors);
        for (int i = 0; i < count; i++)
            if (s_push_ui (ctx->primes, factors [i]) < 0)
                return -ENOMEM;
        return 0;
    }
    if (mpz_probab_prime_p (n, WORM_FACTOR_PRIME_REPS))
        return worm_factor_list_push (ctx->primes, n);

    mpz_t f, g;
    mpz_inits (f, g, NULL);
    int rc = 0;
    if (mpz_perfect_power_p (n)) {
        //  n = f^k for the smallest such k; f's primes count k times each
        size_t bits = mpz_sizeinbase (n, 2);
        for (unsigned long k = 2; k <= bits; k++)
            if (mpz_root (f, n, k)) {
                rc = s_split_times (ctx, f, k);
                goto done;
            }
    }
    //  In the sieve's range rho only looks for small factors: the sieve's
    //  time does not depend on the factors' size
    int digits = s_digits (n);
    bool sieve = digits <= ctx->siqs_digits;
    uint32_t budget = sieve ? ctx->rho_iterations / S_RHO_SIQS_SHARE : ctx->rho_iterations;
    bool found = s_rho (f, n, 1, budget);
    if (!found)
        found = s_rho (f, n, 3, budget / 4);
    if (found) {
        if (ctx->stats)
            ctx->stats->factors_by_rho++;
    }
    worm_factor_runner_t *runner = ctx->config->runner;
    if (!found && sieve && runner && digits >= S_SIQS_ECM_FROM
        && runner->capacity (runner->self) >= 2) {
        //  A runner of other cores (a worm's segments): ECM there while the
        //  sieve runs here, the first factor wins
        rc = s_siqs_beside_ecm (ctx, f, n);
        if (rc < 0)
            goto done;
        found = rc == 1;
    }
    else if (!found && sieve) {
        if (runner && digits >= S_SIQS_ECM_FROM) {
            //  One core: ECM first for factors up to 4/13 of the digits, as
            //  GMP-ECM and yafu do
            rc = s_ecm (ctx, f, n, digits * 4 / 13, NULL);
            if (rc < 0)
                goto done;
            found = rc == 1;
        }
        if (!found) {
            worm_factor_siqs_t siqs = {.max_polys = ctx->config->siqs_polys,
                                       .stop = ctx->config->stop};
            rc = worm_factor_siqs (f, n, &siqs);
            if (rc < 0 && rc != -EINVAL)
                goto done;
            found = rc == 1;
            s_count_siqs (ctx, found);
        }
    }
    if (!found) {
        rc = s_ecm (ctx, f, n, 0, NULL);
        if (rc < 0)
            goto done;
    }
    rc = 0;
    //  Every factor found is checked by division before it is recursed on
    if (!mpz_divisible_p (n, f) || mpz_cmp_ui (f, 1) <= 0 || mpz_cmp (f, n) >= 0) {
        rc = -EPROTO;
        goto done;
    }
    mpz_divexact (g, n, f);
    rc = s_split (ctx, f);
    if (rc == 0)
        rc = s_split (ctx, g);
done:
    mpz_clears (f, g, NULL);
    return rc;
}

int
worm_factor_mpz (const mpz_t n, const worm_factor_config_t *config, worm_factor_list_t *primes,
                 worm_factor_stats_t *stats)
{
    s_ctx_t ctx = {config, primes, stats,
                   config->rho_iterations ? config->rho_iterations : S_DEFAULT_RHO,
                   config->sigma >= WORM_FACTOR_SIGMA_MIN ? config->sigma : S_DEFAULT_SIGMA,
                   config->siqs_digits == 0  ? WORM_FACTOR_SIQS_DIGITS
                   : config->siqs_digits < 0 ? -1
                   : config->siqs_digits > WORM_FACTOR_SIQS_MAX_DIGITS
                       ? WORM_FACTOR_SIQS_MAX_DIGITS
                       : config->siqs_digits};
    if (mpz_sgn (n) <= 0 || mpz_cmp_ui (n, 1) == 0)
        return 0;
    size_t first = primes->count;
    mpz_t m;
    mpz_init_set (m, n);
    int rc = 0;
    unsigned long twos = mpz_scan1 (m, 0);
    mpz_tdiv_q_2exp (m, m, twos);
    for (unsigned long i = 0; rc == 0 && i < twos; i++)
        rc = s_push_ui (primes, 2);

    int count;
    const uint32_t *trial = worm_factor_word_primes (&count);
    for (int i = 0; rc == 0 && i < count && !mpz_fits_ulong_p (m); i++) {
        if (mpz_cmp_ui (m, (unsigned long) trial [i] * trial [i]) < 0)
            break;
        while (rc == 0 && mpz_divisible_ui_p (m, trial [i])) {
            mpz_divexact_ui (m, m, trial [i]);
            rc = s_push_ui (primes, trial [i]);
        }
    }
    if (rc == 0)
        rc = s_split (&ctx, m);
    mpz_clear (m);
    if (rc == 0) {
        //  Sort what this call added
        worm_factor_list_t added = {primes->items + first, primes->count - first, 0};
        worm_factor_list_sort (&added);
    }
    return rc;
}
