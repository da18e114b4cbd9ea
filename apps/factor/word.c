/*  word.c — factoring numbers below 2^64 in machine words. See word.h. */
#include "word.h"

#include <pthread.h>
#include <stddef.h>

typedef unsigned __int128 u128;

//  One odd trial prime, with what tests divisibility by one multiply.
typedef struct {
    uint64_t inverse;           //  the prime's inverse modulo 2^64
    uint64_t limit;             //  UINT64_MAX / prime: n * inverse <= limit iff prime | n
    uint32_t prime;             //  the prime itself
} s_trial_t;

//  The odd primes below the trial bound; 2 is handled by a shift
#define S_TRIAL_MAX 600
static s_trial_t s_trial [S_TRIAL_MAX];
static uint32_t s_primes [S_TRIAL_MAX];
static int s_trial_count;
static pthread_once_t s_trial_once = PTHREAD_ONCE_INIT;

//  Inverse of odd a modulo 2^64, by Newton's iteration (each step doubles the bits).
static uint64_t
s_inverse (uint64_t a)
{
    uint64_t x = a;             //  right to 3 bits for odd a
    for (int i = 0; i < 5; i++)
        x *= 2 - a * x;
    return x;
}

static void
s_trial_build (void)
{
    static bool composite [WORM_FACTOR_WORD_TRIAL];
    for (uint32_t i = 3; i * i < WORM_FACTOR_WORD_TRIAL; i += 2)
        if (!composite [i])
            for (uint32_t j = i * i; j < WORM_FACTOR_WORD_TRIAL; j += 2 * i)
                composite [j] = true;
    for (uint32_t p = 3; p < WORM_FACTOR_WORD_TRIAL && s_trial_count < S_TRIAL_MAX; p += 2)
        if (!composite [p]) {
            s_trial [s_trial_count] = (s_trial_t) {s_inverse (p), UINT64_MAX / p, p};
            s_primes [s_trial_count++] = p;
        }
}

const uint32_t *
worm_factor_word_primes (int *count)
{
    pthread_once (&s_trial_once, s_trial_build);
    *count = s_trial_count;
    return s_primes;
}

//  Montgomery arithmetic modulo an odd n, with R = 2^64.
typedef struct {
    uint64_t n;                 //  the odd modulus
    uint64_t ninv;              //  n^-1 modulo 2^64
    uint64_t one;               //  R mod n, 1 in Montgomery form
    uint64_t r2;                //  R^2 mod n, to convert into Montgomery form
} s_mont_t;

static void
s_mont_init (s_mont_t *m, uint64_t n)
{
    m->n = n;
    m->ninv = s_inverse (n);
    m->one = (0 - n) % n;
    m->r2 = (uint64_t) (((u128) m->one * m->one) % n);
}

//  a * b / R mod n, for a, b < n.
static inline uint64_t
s_mont_mul (const s_mont_t *m, uint64_t a, uint64_t b)
{
    u128 t = (u128) a * b;
    uint64_t hi = (uint64_t) (t >> 64);
    uint64_t q = (uint64_t) t * m->ninv;
    uint64_t mn = (uint64_t) (((u128) q * m->n) >> 64);
    uint64_t r = hi - mn;
    return hi < mn ? r + m->n : r;
}

static inline uint64_t
s_mont_to (const s_mont_t *m, uint64_t a)
{
    return s_mont_mul (m, a % m->n, m->r2);
}

static inline uint64_t
s_mont_add (const s_mont_t *m, uint64_t a, uint64_t b)
{
    uint64_t s = a + b;
    return (s < a || s >= m->n) ? s - m->n : s;
}

static inline uint64_t
s_mont_sub (const s_mont_t *m, uint64_t a, uint64_t b)
{
    return a >= b ? a - b : a - b + m->n;
}

static uint64_t
s_mont_pow (const s_mont_t *m, uint64_t base, uint64_t e)
{
    uint64_t r = m->one;
    while (e) {
        if (e & 1)
            r = s_mont_mul (m, r, base);
        base = s_mont_mul (m, base, base);
        e >>= 1;
    }
    return r;
}

//  One strong probable-prime test of odd n > 2 to base a (Montgomery form
//  set up in m); d is odd with n - 1 = d * 2^s.
static bool
s_strong_test (const s_mont_t *m, uint64_t a, uint64_t d, int s)
{
    a %= m->n;
    if (a == 0)
        return true;            //  a base that is a multiple of n says nothing
    uint64_t minus_one = m->n - m->one;
    uint64_t x = s_mont_pow (m, s_mont_to (m, a), d);
    if (x == m->one || x == minus_one)
        return true;
    for (int i = 1; i < s; i++) {
        x = s_mont_mul (m, x, x);
        if (x == minus_one)
            return true;
        if (x == m->one)
            return false;
    }
    return false;
}

static uint64_t
s_gcd (uint64_t a, uint64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    int shift = __builtin_ctzll (a | b);
    a >>= __builtin_ctzll (a);
    while (b) {
        b >>= __builtin_ctzll (b);
        if (a > b) {
            uint64_t t = a;
            a = b;
            b = t;
        }
        b -= a;
    }
    return a << shift;
}

bool
worm_factor_word_is_prime (uint64_t n)
{
    if (n < 2)
        return false;
    if (n < 4)
        return true;
    if ((n & 1) == 0)
        return false;
    int count;
    const uint32_t *primes = worm_factor_word_primes (&count);
    for (int i = 0; i < count && primes [i] < 64; i++)
        if (n % primes [i] == 0)
            return n == primes [i];
    if (n < 64 * 64)
        return true;
    s_mont_t m;
    s_mont_init (&m, n);
    uint64_t d = n - 1;
    int s = __builtin_ctzll (d);
    d >>= s;
    static const uint64_t bases [] = {2, 325, 9375, 28178, 450775, 9780504, 1795265022};
    for (size_t i = 0; i < sizeof bases / sizeof bases [0]; i++)
        if (!s_strong_test (&m, bases [i], d, s))
            return false;
    return true;
}

//  A proper factor of odd composite n (not a prime power of a tiny prime),
//  by Pollard's rho in Brent's form with products of 128 differences per gcd.
static uint64_t
s_rho (uint64_t n)
{
    s_mont_t m;
    s_mont_init (&m, n);
    for (uint64_t c0 = 1;; c0++) {
        uint64_t c = s_mont_to (&m, c0);
        uint64_t y = s_mont_to (&m, 2), x = y, ys = y, q = m.one, g = 1;
        for (uint64_t r = 1; g == 1; r <<= 1) {
            x = y;
            for (uint64_t i = 0; i < r; i++)
                y = s_mont_add (&m, s_mont_mul (&m, y, y), c);
            for (uint64_t k = 0; k < r && g == 1; k += 128) {
                ys = y;
                uint64_t steps = r - k < 128 ? r - k : 128;
                for (uint64_t i = 0; i < steps; i++) {
                    y = s_mont_add (&m, s_mont_mul (&m, y, y), c);
                    q = s_mont_mul (&m, q, s_mont_sub (&m, x, y));
                }
                g = s_gcd (q, n);
            }
        }
        if (g == n) {
            //  The batch overshot: step again one difference at a time
            do {
                ys = s_mont_add (&m, s_mont_mul (&m, ys, ys), c);
                g = s_gcd (s_mont_sub (&m, x, ys), n);
            } while (g == 1);
        }
        if (g != n)
            return g;
        //  This c cycled without splitting n: try the next one
    }
}

//  Appends the prime factors of n (odd, no prime factor below the trial
//  bound, so n is prime or composite of large primes) to factors.
static void
s_split (uint64_t n, uint64_t *factors, int *count)
{
    if (n == 1)
        return;
    if ((u128) n < (u128) WORM_FACTOR_WORD_TRIAL * WORM_FACTOR_WORD_TRIAL
        || worm_factor_word_is_prime (n)) {
        factors [(*count)++] = n;
        return;
    }
    uint64_t f = s_rho (n);
    s_split (f, factors, count);
    s_split (n / f, factors, count);
}

int
worm_factor_word (uint64_t n, uint64_t factors [WORM_FACTOR_WORD_MAX])
{
    int count = 0;
    if (n < 2)
        return 0;
    int twos = __builtin_ctzll (n);
    for (int i = 0; i < twos; i++)
        factors [count++] = 2;
    n >>= twos;
    pthread_once (&s_trial_once, s_trial_build);
    for (int i = 0; i < s_trial_count; i++) {
        const s_trial_t *t = &s_trial [i];
        if ((uint64_t) t->prime * t->prime > n)
            break;
        uint64_t q;
        while ((q = n * t->inverse) <= t->limit) {
            factors [count++] = t->prime;
            n = q;
        }
    }
    //  What is left is 1, a prime, or a product of primes above the trial bound
    if (n > 1) {
        int first = count;
        s_split (n, factors, &count);
        //  Insertion sort of the few large factors rho found
        for (int i = first + 1; i < count; i++) {
            uint64_t v = factors [i];
            int j = i;
            while (j > first && factors [j - 1] > v) {
                factors [j] = factors [j - 1];
                j--;
            }
            factors [j] = v;
        }
    }
    return count;
}
