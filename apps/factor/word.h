/*  word.h — factoring numbers below 2^64 in machine words.

    The small-number half of the factor app's math core (issue 12, section 3):
    trial division by the primes below WORM_FACTOR_WORD_TRIAL (a multiply by
    the prime's inverse modulo 2^64 per test), a deterministic Miller-Rabin
    test with Montgomery multiplication on unsigned __int128 (the seven bases
    2, 325, 9375, 28178, 450775, 9780504, 1795265022 are known to decide
    every n below 2^64), and Pollard's rho in Brent's form for what is left.
    No allocation, no I/O, no global state but a prime table built once
    (thread-safe). big.c hands every cofactor below 2^64 to this module.
*/
#ifndef WORM_FACTOR_WORD_H_INCLUDED
#define WORM_FACTOR_WORD_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  Trial division covers the primes below this bound.
#define WORM_FACTOR_WORD_TRIAL 4096
//  A number below 2^64 has at most 63 prime factors counted with multiplicity.
#define WORM_FACTOR_WORD_MAX 64

//  True when n is prime (deterministic for every n below 2^64).
bool
    worm_factor_word_is_prime (uint64_t n);

//  Writes the prime factors of n, ascending, with multiplicity, into
//  factors (room for WORM_FACTOR_WORD_MAX) and returns how many: 0 for
//  n = 0 and n = 1, as coreutils prints none for them. Never fails.
int
    worm_factor_word (uint64_t n, uint64_t factors[WORM_FACTOR_WORD_MAX]);

//  The odd primes below WORM_FACTOR_WORD_TRIAL, ascending, for big.c's
//  trial division; *count receives how many.
const uint32_t *
    worm_factor_word_primes (int *count);

#endif
