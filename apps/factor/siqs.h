/*  siqs.h — the self-initializing quadratic sieve, for composites of 13 to
    80 digits with no small factor.

    Part of the factor app's math core (issue 12, section 3): big.c's driver
    hands it odd composites, not perfect powers, with no prime factor below
    WORM_FACTOR_WORD_TRIAL, of at most WORM_FACTOR_SIQS_MAX_DIGITS digits,
    and falls back to ECM when it gives up. It runs in the calling thread on
    one core, allocates what it needs per call (20 MB at 70 digits) and
    keeps no global state, so calls in different threads are independent.

    The method: a Knuth-Schroeppel multiplier k; a factor base of the primes
    p with (kN/p) = 1; polynomials g(x) = a x^2 + 2 b x + c, where a is a
    product of s factor-base primes near sqrt(2kN)/M and the 2^(s-1) values
    of b per a are switched in Gray-code order (Contini's thesis); a byte
    sieve over [-M, M) without the primes below 30 (small prime variation);
    trial division of the candidates; the single large prime variation;
    Gaussian elimination over GF(2) after singleton removal; a square root
    per dependency and gcd (X - Y, N). Everything is deterministic: the
    choices of a come from a generator seeded from N, so a number always
    takes the same path and does the same work.
*/
#ifndef WORM_FACTOR_SIQS_H_INCLUDED
#define WORM_FACTOR_SIQS_H_INCLUDED

#include <stdio.h>     //  before gmp.h, for mpz_out_str
#include <gmp.h>
#include <stdint.h>

//  The largest number of digits worm_factor_siqs takes. The driver's
//  crossover (big.c) is lower; this bounds the parameter table and memory.
#define WORM_FACTOR_SIQS_MAX_DIGITS 80
//  The smallest number it takes: below 2^40 word.c is the right tool.
#define WORM_FACTOR_SIQS_MIN_BITS 40

//  Limits and counters of one call. Zeroed fields take the defaults.
typedef struct {
    uint32_t max_polys;         //  give up (return 0) after this many polynomials
                                //  (0: 300 per prime of the base, and 10000)
    const volatile int *stop;   //  when not NULL: once *stop is nonzero (a signal
                                //  handler's flag), the call returns -EINTR at the
                                //  next polynomial
    //  Filled in by the call:
    uint32_t multiplier;        //  the Knuth-Schroeppel multiplier k chosen
    uint32_t fb_size;           //  primes in the factor base
    uint64_t polys;             //  polynomials sieved
    uint64_t fulls;             //  relations found with no large prime
    uint64_t partials;          //  relations found with one large prime
    uint64_t cycles;            //  pairs of partials with the same large prime
    uint32_t dependencies;      //  dependencies tried for a factor
} worm_factor_siqs_t;

//  Looks for a proper factor of n by the quadratic sieve. n must be odd,
//  composite, not a perfect power, with no prime factor below 4096, and of
//  WORM_FACTOR_SIQS_MIN_BITS bits up to WORM_FACTOR_SIQS_MAX_DIGITS digits.
//  Returns 1 with a proper factor of n in f (1 < f < n, checked to divide
//  n), 0 when the sieve gave up (the polynomial budget ran out, no new a
//  could be found, or every dependency was trivial: the caller should use
//  another method), -EINVAL when n is outside the contract in a way that is
//  cheap to see (even, too small or too large, a probable prime, a perfect
//  power: p^k has no square root of 1 but 1 and -1, so every dependency
//  would be trivial), -EINTR when params->stop was set, or -ENOMEM. f must be initialised by the caller and is
//  unchanged unless 1 is returned. params (may be NULL) gives the budget and
//  receives the counters.
int
    worm_factor_siqs (mpz_t f, const mpz_t n, worm_factor_siqs_t *params);

#endif
