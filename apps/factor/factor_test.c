/*  factor_test.c — the factor app's math core without coreutils: word-size
    factoring against trial division, big composites built from known primes
    (the product multiplies back, every factor is a probable prime), ECM
    units (a fixed sigma finds the same factor each time; a cancelled unit
    stops), and the driver's use of a runner (the other units of a number
    are cancelled once one finds a factor; a wrong answer is not believed),
    and the quadratic sieve (semiprimes of 20 to 70 digits from known primes,
    repeated factors, its contract's refusals, determinism, and the driver's
    fall back to ECM when the sieve gives up).

    Usage: test_factor word|big|ecm|siqs
*/
#include "big.h"
#include "factor.h"
#include "siqs.h"
#include "word.h"
#include "../../tests/check.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  Factors n by trial division, the slow obvious way.
static int
s_naive (uint64_t n, uint64_t *factors)
{
    int count = 0;
    for (uint64_t p = 2; n > 1 && p * p <= n; p++)
        while (n % p == 0) {
            factors [count++] = p;
            n /= p;
        }
    if (n > 1)
        factors [count++] = n;
    return count;
}

//  Checks that factors [0..count) are ascending primes whose product is n.
static void
s_check_word (uint64_t n, const uint64_t *factors, int count)
{
    unsigned __int128 product = 1;
    for (int i = 0; i < count; i++) {
        CHECK (worm_factor_word_is_prime (factors [i]));
        if (i > 0)
            CHECK (factors [i - 1] <= factors [i]);
        product *= factors [i];
    }
    if (n >= 2)
        CHECK ((uint64_t) product == n && (product >> 64) == 0);
    else
        CHECK_EQ (count, 0);
}

static void
s_test_word (void)
{
    uint64_t got [WORM_FACTOR_WORD_MAX], want [WORM_FACTOR_WORD_MAX];
    for (uint64_t n = 0; n < 200000; n++) {
        int count = worm_factor_word (n, got);
        int expect = n < 2 ? 0 : s_naive (n, want);
        if (count != expect || memcmp (got, want, (size_t) count * sizeof got [0]) != 0) {
            fprintf (stderr, "worm_factor_word (%" PRIu64 ") differs from trial division\n", n);
            CHECK (false);
        }
    }
    CHECK (worm_factor_word_is_prime (18446744073709551557ULL));     //  the largest below 2^64
    CHECK (!worm_factor_word_is_prime (3215031751ULL));     //  strong pseudoprime to 2, 3, 5, 7
    CHECK (!worm_factor_word_is_prime (3825123056546413051ULL));    //  ... to the first 9 primes
    CHECK (!worm_factor_word_is_prime (18446744073709551615ULL));
    static const uint64_t hard [] = {
        18446744073709551615ULL,                    //  2^64 - 1
        18446744073709551557ULL,                    //  prime
        4294967291ULL * 4294967279ULL,              //  two 32-bit primes
        4294967291ULL * 4294967291ULL,              //  a 32-bit prime squared
        3825123056546413051ULL,
        1000000007ULL * 998244353ULL,
        2147483647ULL * 2147483647ULL * 3,
        9223372036854775783ULL * 2,                 //  the largest prime below 2^63, doubled
        1ULL << 63,
        3ULL * 5 * 7 * 11 * 13 * 17 * 19 * 23 * 29 * 31 * 37 * 41 * 43 * 47,
    };
    for (size_t i = 0; i < sizeof hard / sizeof hard [0]; i++) {
        int count = worm_factor_word (hard [i], got);
        s_check_word (hard [i], got, count);
    }
    CHECK_EQ (worm_factor_word (4294967291ULL * 4294967279ULL, got), 2);
    CHECK_EQ (got [0], 4294967279ULL);
    CHECK_EQ (got [1], 4294967291ULL);
    CHECK_EQ (worm_factor_word (18446744073709551615ULL, got), 7);
    CHECK_EQ (got [6], 6700417);
    //  A sweep of numbers near 2^64 against the primality test of the result
    for (uint64_t n = UINT64_MAX - 5000; n != 0; n++) {
        int count = worm_factor_word (n, got);
        s_check_word (n, got, count);
    }
}

//  The first prime after 10^(digits - 1) + offset.
static void
s_prime (mpz_t p, int digits, unsigned long offset)
{
    mpz_ui_pow_ui (p, 10, (unsigned long) digits - 1);
    mpz_add_ui (p, p, offset);
    mpz_nextprime (p, p);
}

//  Factors n with config and checks the answer: ascending probable primes
//  that multiply back to n, and that the smallest is want (NULL: no check).
static void
s_check_big (const mpz_t n, const worm_factor_config_t *config, const mpz_t want,
             worm_factor_stats_t *stats)
{
    worm_factor_list_t primes;
    worm_factor_list_init (&primes);
    double start = s_now ();
    CHECK_EQ (worm_factor_mpz (n, config, &primes, stats), 0);
    mpz_t product;
    mpz_init_set_ui (product, 1);
    for (size_t i = 0; i < primes.count; i++) {
        CHECK (mpz_probab_prime_p (primes.items [i], WORM_FACTOR_PRIME_REPS) > 0);
        if (i > 0)
            CHECK (mpz_cmp (primes.items [i - 1], primes.items [i]) <= 0);
        mpz_mul (product, product, primes.items [i]);
    }
    CHECK (mpz_cmp (product, n) == 0);
    if (want)
        CHECK (primes.count > 0 && mpz_cmp (primes.items [0], want) == 0);
    gmp_printf ("%zu digits -> %zu primes in %.2f s\n", mpz_sizeinbase (n, 10), primes.count,
                s_now () - start);
    mpz_clear (product);
    worm_factor_list_clear (&primes);
}

static void
s_test_big (void)
{
    worm_factor_config_t config = {0};
    config.runner = worm_factor_local_runner_new ();
    CHECK (config.runner);
    mpz_t n, p, q, r;
    mpz_inits (n, p, q, r, NULL);

    //  p20 * p25
    s_prime (p, 20, 12345);
    s_prime (q, 25, 67890);
    mpz_mul (n, p, q);
    worm_factor_stats_t stats = {0};
    s_check_big (n, &config, p, &stats);
    CHECK_EQ (stats.factors_by_siqs, 1);    //  45 digits: the sieve's
    CHECK_EQ (stats.factors_by_ecm, 0);
    //  ... and ECM's when the sieve is off
    worm_factor_config_t ecm_only = config;
    ecm_only.siqs_digits = -1;
    memset (&stats, 0, sizeof stats);
    s_check_big (n, &ecm_only, p, &stats);
    CHECK (stats.factors_by_ecm >= 1);
    CHECK_EQ (stats.factors_by_siqs, 0);

    //  p15 * p15 * p30
    s_prime (p, 15, 1111);
    s_prime (q, 15, 2222);
    s_prime (r, 30, 3333);
    mpz_mul (n, p, q);
    mpz_mul (n, n, r);
    s_check_big (n, &config, p, NULL);

    //  a p25 inside a 100-digit number (times a p76)
    s_prime (p, 25, 424242);
    s_prime (q, 76, 777);
    mpz_mul (n, p, q);
    CHECK_EQ (mpz_sizeinbase (n, 10), 100);
    s_check_big (n, &config, p, NULL);

    //  prime powers, small factors and a 1000-digit number
    s_prime (p, 22, 5);
    mpz_pow_ui (n, p, 3);
    mpz_mul_ui (n, n, 2 * 2 * 3 * 4093);
    s_check_big (n, &config, NULL, NULL);
    mpz_ui_pow_ui (n, 7, 1200);
    s_prime (p, 30, 99);
    mpz_mul (n, n, p);
    CHECK (mpz_sizeinbase (n, 10) >= 1000);
    s_check_big (n, &config, NULL, NULL);

    //  Without a runner, ECM is refused, not skipped (the sieve off)
    worm_factor_config_t none = {.siqs_digits = -1};
    worm_factor_list_t primes;
    worm_factor_list_init (&primes);
    s_prime (p, 20, 1000);
    s_prime (q, 20, 5000000);
    CHECK (mpz_cmp (p, q) < 0);
    mpz_mul (n, p, q);
    CHECK_EQ (worm_factor_mpz (n, &none, &primes, NULL), -ENOSYS);
    worm_factor_list_clear (&primes);
    //  ... and the sieve needs no runner
    none.siqs_digits = 0;
    s_check_big (n, &none, p, NULL);

    //  The command's output for a big number
    char text [128];
    gmp_snprintf (text, sizeof text, "+000%Zd", n);
    char *argv [] = {text};
    char *output = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&output, &size);
    CHECK (out);
    CHECK_EQ (worm_factor_main ("test", 1, argv, stdin, out, stderr, &config), 0);
    fclose (out);
    char expect [256];
    gmp_snprintf (expect, sizeof expect, "%Zd: %Zd %Zd\n", n, p, q);
    CHECK_STR (output, expect);
    free (output);

    mpz_clears (n, p, q, r, NULL);
    worm_factor_local_runner_destroy (&config.runner);
    CHECK (config.runner == NULL);
}

//  A unit running in another thread, for the cancel test.
typedef struct {
    worm_factor_unit_t *unit;   //  the unit to run
    atomic_bool cancel;         //  its cancel flag
    atomic_bool started;        //  set just before the unit runs
    int rc;                     //  what the run returned
    uint32_t done;              //  curves it completed
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    mpz_t f;
    mpz_init (f);
    atomic_store (&w->started, true);
    w->rc = worm_factor_unit_run (w->unit, &w->cancel, f, &w->done);
    mpz_clear (f);
    return NULL;
}

//  A runner with several units submitted at once (they run in order, in
//  wait), which records what it was told to cancel, and which can lie once.
#define S_FAKE_MAX 8
typedef struct {
    worm_factor_unit_t units [S_FAKE_MAX];  //  submitted units
    uint64_t ids [S_FAKE_MAX];              //  their ids
    int count;                              //  how many are submitted
    uint64_t cancelled [256];               //  ids cancelled, in order
    int cancels;                            //  how many
    uint64_t returned [256];                //  ids returned by wait
    int returns;                            //  how many
    bool lie;                               //  answer the next wait with a bogus factor
} s_fake_t;

static int
s_fake_capacity (void *self)
{
    (void) self;
    return 4;
}

static int
s_fake_submit (void *self, uint64_t id, const worm_factor_unit_t *unit)
{
    s_fake_t *fake = self;
    if (fake->count == S_FAKE_MAX)
        return -EBUSY;
    worm_factor_unit_t *u = &fake->units [fake->count];
    mpz_set (u->n, unit->n);
    u->b1 = unit->b1;
    u->sigma = unit->sigma;
    u->curves = unit->curves;
    fake->ids [fake->count++] = id;
    return 0;
}

static int
s_fake_wait (void *self, uint64_t *id, mpz_t factor)
{
    s_fake_t *fake = self;
    if (fake->count == 0)
        return -ENOENT;
    *id = fake->ids [0];
    if (fake->returns < 256)
        fake->returns++, fake->returned [fake->returns - 1] = *id;
    int rc;
    if (fake->lie) {
        fake->lie = false;
        mpz_set_ui (factor, 7);
        rc = 1;
    }
    else
        rc = worm_factor_unit_run (&fake->units [0], NULL, factor, NULL);
    //  Shift the queue; the first unit's mpz moves to the end for reuse
    worm_factor_unit_t first = fake->units [0];
    memmove (fake->units, fake->units + 1, (size_t) (fake->count - 1) * sizeof fake->units [0]);
    memmove (fake->ids, fake->ids + 1, (size_t) (fake->count - 1) * sizeof fake->ids [0]);
    fake->units [--fake->count] = first;
    return rc;
}

static void
s_fake_cancel (void *self, uint64_t id)
{
    s_fake_t *fake = self;
    for (int i = 0; i < fake->count; i++)
        if (fake->ids [i] == id) {
            worm_factor_unit_t u = fake->units [i];
            memmove (fake->units + i, fake->units + i + 1,
                     (size_t) (fake->count - i - 1) * sizeof fake->units [0]);
            memmove (fake->ids + i, fake->ids + i + 1,
                     (size_t) (fake->count - i - 1) * sizeof fake->ids [0]);
            fake->units [--fake->count] = u;
            if (fake->cancels < 256)
                fake->cancelled [fake->cancels++] = id;
            return;
        }
}

static void
s_test_ecm (void)
{
    int levels;
    const worm_factor_level_t *schedule = worm_factor_schedule (&levels);
    CHECK_EQ (levels, 11);
    CHECK (schedule [0].b1 == 2e3 && schedule [10].b1 == 85e7);
    for (int i = 1; i < levels; i++)
        CHECK (schedule [i].b1 > schedule [i - 1].b1 && schedule [i].digits == 15 + 5 * i);

    mpz_t p, q, f, g;
    mpz_inits (p, q, f, g, NULL);
    worm_factor_unit_t unit;
    mpz_init (unit.n);
    s_prime (p, 18, 4242);
    s_prime (q, 30, 17);
    mpz_mul (unit.n, p, q);

    //  Find the first sigma at 11e3 that splits n, then rerun it alone, twice
    unit.b1 = 11e3;
    unit.sigma = 5000;
    unit.curves = 400;
    uint32_t done = 0;
    CHECK_EQ (worm_factor_unit_run (&unit, NULL, f, &done), 1);
    CHECK (mpz_cmp (f, p) == 0);
    CHECK (done >= 1 && done <= 400);
    uint32_t hit = unit.sigma + done - 1;
    uint32_t again = 0;
    CHECK_EQ (worm_factor_unit_run (&unit, NULL, g, &again), 1);
    CHECK_EQ (again, done);
    CHECK (mpz_cmp (f, g) == 0);
    unit.sigma = hit;
    unit.curves = 1;
    for (int run = 0; run < 2; run++) {
        mpz_set_ui (g, 0);
        CHECK_EQ (worm_factor_unit_run (&unit, NULL, g, &again), 1);
        CHECK_EQ (again, 1);
        CHECK (mpz_cmp (g, p) == 0);
    }
    printf ("sigma %u at B1=11e3 finds the p18 (curve %u of the unit)\n", hit, done);
    //  The curves before it find nothing
    if (done > 1) {
        unit.sigma = hit - (done - 1);
        unit.curves = done - 1;
        CHECK_EQ (worm_factor_unit_run (&unit, NULL, g, &again), 0);
        CHECK_EQ (again, done - 1);
    }

    //  Bad units are refused
    unit.sigma = 1;
    CHECK_EQ (worm_factor_unit_run (&unit, NULL, g, NULL), -EINVAL);
    unit.sigma = UINT32_MAX;
    unit.curves = 2;
    CHECK_EQ (worm_factor_unit_run (&unit, NULL, g, NULL), -EINVAL);
    unit.sigma = 100;
    unit.curves = 0;
    CHECK_EQ (worm_factor_unit_run (&unit, NULL, g, NULL), -EINVAL);

    //  A cancelled unit stops: set before it starts, no curve runs
    atomic_bool cancel = true;
    unit.curves = 10;
    CHECK_EQ (worm_factor_unit_run (&unit, &cancel, g, &again), -ECANCELED);
    CHECK_EQ (again, 0);

    //  ... and set while it runs: a unit of 100000 short curves on a p40 * p40
    //  (hours in all) stops after the curve it is in
    s_prime (p, 40, 1);
    s_prime (q, 40, 2);
    mpz_mul (unit.n, p, q);
    unit.b1 = 11e3;
    unit.sigma = 7;
    unit.curves = 100000;
    s_worker_t worker = {.unit = &unit};
    atomic_init (&worker.cancel, false);
    atomic_init (&worker.started, false);
    pthread_t thread;
    double start = s_now ();
    CHECK_EQ (pthread_create (&thread, NULL, s_worker, &worker), 0);
    //  Wait until the worker has spent 0.2 s of CPU time in its curves
    clockid_t clock;
    CHECK_EQ (pthread_getcpuclockid (thread, &clock), 0);
    double cpu = 0;
    while (cpu < 0.2 && s_now () - start < 20) {
        struct timespec ts;
        CHECK_EQ (clock_gettime (clock, &ts), 0);
        cpu = (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
        sched_yield ();
    }
    CHECK (cpu >= 0.2);
    double cancelled = s_now ();
    atomic_store (&worker.cancel, true);
    pthread_join (thread, NULL);
    double took = s_now () - cancelled;
    CHECK_EQ (worker.rc, -ECANCELED);
    CHECK (worker.done > 0 && worker.done < unit.curves);
    printf ("a unit cancelled after %u curves stopped %.3f s later\n", worker.done, took);
    CHECK (took < 2.0);

    //  The driver over a runner with 4 units in flight: once one finds the
    //  factor the other three are cancelled and never returned
    s_fake_t fake = {0};
    for (int i = 0; i < S_FAKE_MAX; i++)
        mpz_init (fake.units [i].n);
    worm_factor_runner_t runner = {&fake, s_fake_capacity, s_fake_submit, s_fake_wait,
                                   s_fake_cancel};
    worm_factor_config_t config = {.runner = &runner, .unit_curves = 8, .siqs_digits = -1};
    s_prime (p, 20, 12345);
    s_prime (q, 25, 67890);
    mpz_mul (g, p, q);
    worm_factor_stats_t stats = {0};
    fake.lie = true;        //  the first answer, 7, does not divide: it is not believed
    s_check_big (g, &config, p, &stats);
    CHECK_EQ (fake.count, 0);
    CHECK (stats.units_submitted > 4);
    CHECK_EQ (stats.units_cancelled, 3);
    CHECK_EQ (fake.cancels, 3);
    CHECK_EQ ((long long) stats.units_submitted, fake.returns + fake.cancels);
    for (int i = 0; i < fake.cancels; i++)
        for (int j = 0; j < fake.returns; j++)
            CHECK (fake.cancelled [i] != fake.returned [j]);
    printf ("%" PRIu64 " units of 8 curves, %" PRIu64 " cancelled\n", stats.units_submitted,
            stats.units_cancelled);
    for (int i = 0; i < S_FAKE_MAX; i++)
        mpz_clear (fake.units [i].n);

    mpz_clear (unit.n);
    mpz_clears (p, q, f, g, NULL);
}

//  n = p * q with p of d1 digits and q of d2 from the given offsets.
static void
s_semiprime (mpz_t n, mpz_t p, mpz_t q, int d1, unsigned long o1, int d2, unsigned long o2)
{
    s_prime (p, d1, o1);
    s_prime (q, d2, o2);
    mpz_mul (n, p, q);
}

static void
s_test_siqs (void)
{
    mpz_t n, p, q, r, f;
    mpz_inits (n, p, q, r, f, NULL);

    //  Semiprimes of 20 to 70 digits: the factor is p or q, and checked
    static const int sizes [][2] = {{10, 10}, {15, 15}, {18, 22}, {20, 20}, {20, 25},
                                    {25, 25}, {28, 30}, {30, 30}, {32, 33}, {35, 35}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++) {
        s_semiprime (n, p, q, sizes [i][0], 1000 + 77 * i, sizes [i][1], 5000000 + 991 * i);
        if (getenv ("WORM_TEST_QUICK") && mpz_sizeinbase (n, 10) > 62)
            continue;       //  the sanitizer build: minutes at 65+ digits
        worm_factor_siqs_t stats = {0};
        mpz_set_ui (f, 0);
        double start = s_now ();
        CHECK_EQ (worm_factor_siqs (f, n, &stats), 1);
        CHECK (mpz_cmp (f, p) == 0 || mpz_cmp (f, q) == 0);
        CHECK (mpz_divisible_p (n, f));
        CHECK (stats.multiplier >= 1 && stats.multiplier < 100 && stats.fb_size > 0);
        CHECK (stats.fulls + stats.cycles >= stats.fb_size);
        CHECK (stats.dependencies >= 1);
        printf ("p%d * p%d (%zu digits): %.3f s, k %u, base %u, %" PRIu64 " polynomials, %" PRIu64
                " full, %" PRIu64 " partial, %" PRIu64 " cycles, %u dependencies\n",
                sizes [i][0], sizes [i][1], mpz_sizeinbase (n, 10), s_now () - start,
                stats.multiplier, stats.fb_size, stats.polys, stats.fulls, stats.partials,
                stats.cycles, stats.dependencies);
        //  The same number takes the same path
        if (i == 4) {
            worm_factor_siqs_t again = {0};
            mpz_t g;
            mpz_init (g);
            CHECK_EQ (worm_factor_siqs (g, n, &again), 1);
            CHECK (mpz_cmp (f, g) == 0);
            CHECK_EQ (again.polys, stats.polys);
            CHECK_EQ (again.fulls, stats.fulls);
            CHECK_EQ (again.partials, stats.partials);
            mpz_clear (g);
        }
    }

    //  Three primes, and a repeated one: any proper factor will do
    s_prime (p, 15, 31);
    s_prime (q, 15, 50000);
    s_prime (r, 16, 93);
    CHECK (mpz_cmp (p, q) < 0);
    mpz_mul (n, p, q);
    mpz_mul (n, n, r);
    CHECK_EQ (worm_factor_siqs (f, n, NULL), 1);
    CHECK (mpz_cmp_ui (f, 1) > 0 && mpz_cmp (f, n) < 0 && mpz_divisible_p (n, f));
    mpz_mul (n, p, p);
    mpz_mul (n, n, q);
    CHECK_EQ (worm_factor_siqs (f, n, NULL), 1);
    CHECK (mpz_cmp (f, p) == 0 || mpz_cmp (f, q) == 0 || mpz_cmp (f, n) < 0);
    CHECK (mpz_cmp_ui (f, 1) > 0 && mpz_divisible_p (n, f));
    //  ... and the driver, with no runner (no ECM to hide behind), splits
    //  them into primes: p^2 q, p q^2 r^3 (p, q, r of 10 digits), p^5 (a
    //  perfect power, which the sieve refuses: every dependency would be
    //  trivial)
    worm_factor_config_t sieve_only = {0};
    worm_factor_stats_t dstats = {0};
    s_check_big (n, &sieve_only, p, &dstats);
    CHECK (dstats.factors_by_siqs >= 1);
    s_prime (p, 10, 1);
    s_prime (q, 10, 2000);
    s_prime (r, 10, 4000);
    CHECK (mpz_cmp (p, q) < 0 && mpz_cmp (q, r) < 0);
    mpz_pow_ui (n, r, 3);
    mpz_mul (n, n, q);
    mpz_mul (n, n, q);
    mpz_mul (n, n, p);
    memset (&dstats, 0, sizeof dstats);
    s_check_big (n, &sieve_only, p, &dstats);
    CHECK (dstats.factors_by_siqs >= 1);
    mpz_pow_ui (n, p, 5);
    s_check_big (n, &sieve_only, p, NULL);
    CHECK_EQ (worm_factor_siqs (f, n, NULL), -EINVAL);

    //  A prime of the factor base's range dividing n is found as such
    s_prime (q, 40, 5);
    mpz_mul_ui (n, q, 4099);
    CHECK_EQ (worm_factor_siqs (f, n, NULL), 1);
    CHECK_EQ (mpz_cmp_ui (f, 4099), 0);

    //  The contract's refusals, f untouched
    mpz_set_ui (f, 77);
    s_prime (p, 30, 1);
    CHECK_EQ (worm_factor_siqs (f, p, NULL), -EINVAL);          //  a prime
    mpz_mul (n, p, p);
    CHECK_EQ (worm_factor_siqs (f, n, NULL), -EINVAL);          //  a square
    mpz_mul_ui (n, p, 2);
    mpz_mul (n, n, p);
    CHECK_EQ (worm_factor_siqs (f, n, NULL), -EINVAL);          //  even
    mpz_set_ui (n, 4099UL * 4111UL);
    CHECK_EQ (worm_factor_siqs (f, n, NULL), -EINVAL);          //  below 2^40
    s_semiprime (n, p, q, 41, 3, 41, 4);                        //  81 digits
    CHECK_EQ (mpz_sizeinbase (n, 10), 81);
    CHECK_EQ (worm_factor_siqs (f, n, NULL), -EINVAL);
    CHECK_EQ (worm_factor_siqs (f, p, NULL), -EINVAL);          //  a 40-digit prime
    CHECK_EQ (mpz_cmp_ui (f, 77), 0);

    //  A stop flag already set: -EINTR before the first polynomial, from the
    //  sieve and from the driver
    volatile int stop = 1;
    s_semiprime (n, p, q, 20, 11, 22, 13);
    worm_factor_siqs_t stopped = {.stop = &stop};
    CHECK_EQ (worm_factor_siqs (f, n, &stopped), -EINTR);
    CHECK_EQ (stopped.polys, 0);
    CHECK_EQ (mpz_cmp_ui (f, 77), 0);
    worm_factor_config_t stop_config = {.stop = &stop};
    worm_factor_list_t none;
    worm_factor_list_init (&none);
    CHECK_EQ (worm_factor_mpz (n, &stop_config, &none, NULL), -EINTR);
    worm_factor_list_clear (&none);

    //  Giving up: a budget of one polynomial returns 0, f untouched ...
    s_semiprime (n, p, q, 20, 11, 22, 13);
    worm_factor_siqs_t starved = {.max_polys = 1};
    CHECK_EQ (worm_factor_siqs (f, n, &starved), 0);
    CHECK_EQ (starved.polys, 1);
    CHECK_EQ (mpz_cmp_ui (f, 77), 0);
    //  ... and the driver then falls back to ECM
    worm_factor_config_t config = {.siqs_polys = 1};
    config.runner = worm_factor_local_runner_new ();
    CHECK (config.runner);
    worm_factor_stats_t fstats = {0};
    s_check_big (n, &config, p, &fstats);
    CHECK_EQ (fstats.siqs_failures, 1);
    CHECK_EQ (fstats.factors_by_siqs, 0);
    CHECK (fstats.factors_by_ecm >= 1);
    //  ... or, with no runner, says ECM was needed
    worm_factor_config_t starved_only = {.siqs_polys = 1};
    worm_factor_list_t primes;
    worm_factor_list_init (&primes);
    CHECK_EQ (worm_factor_mpz (n, &starved_only, &primes, NULL), -ENOSYS);
    worm_factor_list_clear (&primes);

    //  From 55 digits the driver runs ECM to 4/13 of the digits first: a p12
    //  in a 60-digit number is ECM's, with no sieve run
    s_semiprime (n, p, q, 12, 7, 48, 9);
    memset (&fstats, 0, sizeof fstats);
    s_check_big (n, &config, p, &fstats);
    CHECK (fstats.factors_by_ecm >= 1);
    CHECK_EQ (fstats.siqs_failures + fstats.factors_by_siqs, 0);
    worm_factor_local_runner_destroy (&config.runner);

    //  With a runner of other cores, ECM runs beside the sieve (in a thread
    //  of its own) from 55 digits: a p12 in 60 digits is ECM's and the sieve
    //  stops; a p28 * p29 is the sieve's and the units in flight are cancelled
    s_fake_t fake = {0};
    for (int i = 0; i < S_FAKE_MAX; i++)
        mpz_init (fake.units [i].n);
    worm_factor_runner_t fake_runner = {&fake, s_fake_capacity, s_fake_submit, s_fake_wait,
                                        s_fake_cancel};
    worm_factor_config_t beside = {.runner = &fake_runner, .unit_curves = 4};
    s_semiprime (n, p, q, 12, 7, 48, 9);
    memset (&fstats, 0, sizeof fstats);
    s_check_big (n, &beside, p, &fstats);
    CHECK (fstats.factors_by_ecm >= 1);
    CHECK_EQ (fstats.factors_by_siqs + fstats.siqs_failures, 0);
    CHECK_EQ (fake.count, 0);
    s_semiprime (n, p, q, 28, 1000, 29, 2000);
    CHECK_EQ (mpz_sizeinbase (n, 10), 56);
    memset (&fstats, 0, sizeof fstats);
    s_check_big (n, &beside, p, &fstats);
    CHECK_EQ (fstats.factors_by_siqs, 1);
    CHECK_EQ (fstats.factors_by_ecm, 0);
    CHECK (fstats.units_submitted >= 1 && fstats.units_cancelled >= 1);
    CHECK_EQ (fake.count, 0);
    printf ("beside the sieve: %" PRIu64 " units, %" PRIu64 " cancelled\n",
            fstats.units_submitted, fstats.units_cancelled);
    for (int i = 0; i < S_FAKE_MAX; i++)
        mpz_clear (fake.units [i].n);

    mpz_clears (n, p, q, r, f, NULL);
}

int
main (int argc, char *argv [])
{
    const char *what = argc > 1 ? argv [1] : "";
    if (strcmp (what, "word") == 0)
        s_test_word ();
    else if (strcmp (what, "big") == 0)
        s_test_big ();
    else if (strcmp (what, "ecm") == 0)
        s_test_ecm ();
    else if (strcmp (what, "siqs") == 0)
        s_test_siqs ();
    else {
        fprintf (stderr, "usage: test_factor word|big|ecm|siqs\n");
        return 1;
    }
    return check_done (what);
}
