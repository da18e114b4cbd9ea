/*  big.h — factoring numbers of any size (GMP), with ECM through a runner.

    The big-number half of the factor app's math core (issue 12, section 3).
    A number is split by, in order: trial division by the primes below
    WORM_FACTOR_WORD_TRIAL; word.c once a cofactor is below 2^64; a perfect
    power test; Pollard's rho (Brent) with a bounded budget; then, for a
    composite of at most WORM_FACTOR_SIQS_DIGITS digits, the
    self-initializing quadratic sieve (siqs.h) on one core of this process.
    From 55 digits ECM helps it: with a runner of capacity 1 (--local: the
    same core) ECM's levels for factors of up to 4/13 of the digits run
    first, as GMP-ECM and yafu do; with a larger one (a worm's segments) the
    sieve runs in a thread of its own beside the ECM ladder and the first
    factor wins. Above the crossover, or when the sieve gives up, ECM along
    GMP-ECM's B1 schedule (ecm_unit.h), in units handed to a caller-given
    runner, so that the same driver runs in-process (--local) or across a
    worm. When a unit finds a factor, the number's other units
    are cancelled. Inside the sieve's range rho gets a tenth of its
    budget: the sieve's time does not depend on the size of the factors. Every factor found is checked by division and both parts are
    recursed on; every number reported prime passed mpz_probab_prime_p
    (n, 30), which in GMP 6.2 is a Baillie-PSW test (strong base-2
    Miller-Rabin plus a strong Lucas test) followed by 6 Miller-Rabin rounds
    with random bases. After the last level of the schedule, ECM goes on at
    its B1 with new sigmas: it never gives up, as coreutils never does.
*/
#ifndef WORM_FACTOR_BIG_H_INCLUDED
#define WORM_FACTOR_BIG_H_INCLUDED

#include "ecm_unit.h"
#include "siqs.h"

#include <stdio.h>     //  before gmp.h, for mpz_out_str
#include <gmp.h>
#include <stddef.h>
#include <stdint.h>

//  Composites of at most this many digits (and above 2^64) go to the
//  quadratic sieve (siqs.h) by default, measured on this machine against ECM
//  (bench/factor.sh): 70 digits take the sieve about 23 s of one core, a
//  p35 * p35 minutes of ECM.
#define WORM_FACTOR_SIQS_DIGITS 70

//  The rounds given to mpz_probab_prime_p for every prime reported.
#define WORM_FACTOR_PRIME_REPS 30

//  A growable list of numbers (the prime factors found). Plain data: the
//  list owns its mpz values.
typedef struct {
    mpz_t *items;               //  the numbers, count of them initialised
    size_t count;               //  how many there are
    size_t size;                //  how many items has room for
} worm_factor_list_t;

void
    worm_factor_list_init (worm_factor_list_t *self);
void
    worm_factor_list_clear (worm_factor_list_t *self);
//  Appends a copy of value. Returns 0, or -ENOMEM (the list is unchanged).
int
    worm_factor_list_push (worm_factor_list_t *self, const mpz_t value);
//  Sorts ascending.
void
    worm_factor_list_sort (worm_factor_list_t *self);

//  How the driver factors one number.
typedef struct {
    worm_factor_runner_t *runner;   //  where ECM units run (NULL: no ECM, returns -ENOSYS)
    uint32_t sigma;                 //  first sigma of each composite's ladder (0: 1000)
    uint32_t unit_curves;           //  at most this many curves per unit (0: a whole level)
    uint32_t unit_ms;               //  aim for units of about this many ms of one core's
                                    //  time (0: no aim), from worm_factor_curve_us
    uint32_t rho_iterations;        //  rho's budget per number before ECM (0: 10000)
    int siqs_digits;                //  composites of at most this many digits go to the
                                    //  quadratic sieve (0: WORM_FACTOR_SIQS_DIGITS;
                                    //  negative: never; capped at WORM_FACTOR_SIQS_MAX_DIGITS)
    uint32_t siqs_polys;            //  the sieve's polynomial budget (0: its default), for tests
    const volatile int *stop;       //  when not NULL and set (a signal handler's flag, such
                                    //  as czmq's zsys_interrupted), the sieve stops within
                                    //  a polynomial's time and the call returns -EINTR
} worm_factor_config_t;

//  An estimate of one curve's time at b1 on a number of the given bits, in
//  microseconds of one core of this machine (stage 1 and libecm's default
//  stage 2), from timings of GMP-ECM 7.0 here: 0.2 s at B1 = 1e6 on a
//  43-digit number, 1.4 s on a 100-digit one, so about B1 * 2e-7 s *
//  (bits / 143)^2.3. It sizes units; nothing depends on it being exact.
double
    worm_factor_curve_us (double b1, size_t bits);

//  What one call did, for progress and tests. May be NULL where accepted.
typedef struct {
    uint64_t units_submitted;       //  units handed to the runner
    uint64_t units_cancelled;       //  submitted units cancelled after a factor was found
    uint64_t factors_by_ecm;        //  proper factors found by ECM units
    uint64_t factors_by_rho;        //  proper factors found by rho (above 2^64)
    uint64_t factors_by_siqs;       //  proper factors found by the quadratic sieve
    uint64_t siqs_failures;         //  sieve runs that gave up (ECM took over)
} worm_factor_stats_t;

//  Appends the prime factors of n (n >= 0; none for 0 and 1), ascending,
//  with multiplicity, to primes, adding to *stats (may be NULL). Returns 0,
//  -ENOMEM, -ENOSYS when ECM is needed and config has no runner, -EINTR
//  when config->stop was set during the sieve, or the runner's negative
//  error (submit or a unit's, not -ECANCELED); on an error primes holds what
//  was found so far, unsorted.
int
    worm_factor_mpz (const mpz_t n, const worm_factor_config_t *config, worm_factor_list_t *primes,
                     worm_factor_stats_t *stats);

#endif
