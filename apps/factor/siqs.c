/*  siqs.c — the self-initializing quadratic sieve. See siqs.h.

    Notation: N the number, k the multiplier, kN what is sieved for. For a
    polynomial (a, b) with b^2 = kN (mod a), c = (b^2 - kN) / a and
    g(x) = a x^2 + 2 b x + c, so that (a x + b)^2 - kN = a g(x), and every
    relation is (a x + b)^2 = a g(x) (mod N). The sieve array's index j
    stands for x = j - M. Factor base index 0 stands for -1, index 1 for 2.
*/
#include "siqs.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

//  Primes below this are not sieved (small prime variation)
#define S_SMALL_PRIME 30
//  Relations gathered beyond the factor base's size
#define S_EXTRA 64
//  At most this many primes in a (2^19 polynomials per a)
#define S_MAX_S 20
//  Dependencies tried for a factor at most
#define S_MAX_DEPS 64
//  At most this many prime factors (with multiplicity) in a relation
#define S_MAX_FACTORS 512
//  No relation, no index
#define S_NONE UINT32_MAX

//  Parameters by the size of kN, interpolated between rows.
typedef struct {
    uint32_t bits;              //  size of kN
    uint32_t fb;                //  factor base size
    uint32_t m;                 //  half the sieve interval: x in [-m, m)
    uint32_t lp_mult;           //  large primes up to this times the largest base prime
    uint32_t fudge;             //  bits below the ideal threshold the sieve accepts
} s_param_t;

//  Tuned by measurement on this machine (CPU time of the sieve alone on
//  semiprimes of 35 to 65 digits, 3 numbers per row, a grid over the base's
//  size, the threshold's fudge and M)
static const s_param_t s_params [] = {
    {40, 40, 2048, 10, 2},      {64, 60, 4096, 10, 3},      {90, 100, 8192, 20, 6},
    {110, 180, 16384, 30, 8},   {130, 450, 32768, 40, 10},  {150, 750, 32768, 50, 10},
    {170, 1300, 32768, 60, 13}, {190, 2200, 32768, 70, 14}, {210, 3500, 65536, 80, 16},
    {230, 5500, 65536, 90, 16}, {250, 8000, 65536, 100, 17}, {270, 11000, 65536, 120, 18},
};

//  One relation: (a x + b)^2 = the product of its factors (mod N).
typedef struct {
    mpz_t y;                    //  a x + b
    uint32_t *factors;          //  factor base indices of a g(x)'s primes, with multiplicity
    uint32_t count;             //  how many factors
    uint64_t large;             //  the large prime, 1 when none
} s_rel_t;

//  A row of the matrix: a full relation, or two partials with one large prime.
typedef struct {
    uint32_t rel [2];           //  relation indices; rel [1] is S_NONE for a full one
} s_row_t;

//  One call's state.
typedef struct {
    mpz_t n;                    //  the number
    mpz_t kn;                   //  k n
    uint32_t k;                 //  the multiplier
    uint32_t fb;                //  factor base size, counting -1 and 2
    uint32_t first_sieved;      //  first index sieved with
    uint32_t m;                 //  half the interval
    uint64_t lp_bound;          //  large primes below this
    uint32_t *prime;            //  the base's primes (0 for -1)
    uint32_t *sqrtkn;           //  sqrt (kN) mod p
    uint64_t *magic;            //  ceil (2^40 / p): j mod p by a multiply (exact for
                                //  j < 2^18 and p < 2^22; here j < 2^17, p < 2^20)
    uint8_t *logp;              //  scaled log2 (p)
    uint8_t *skip;              //  1: p divides k, 2: p divides a, else 0
    uint32_t *ainv;             //  a^-1 mod p
    uint32_t *root1;            //  the sieve's roots for the current polynomial
    uint32_t *root2;
    uint32_t *bainv2;           //  S_MAX_S rows: 2 B_j a^-1 mod p
    uint8_t *sieve;             //  2 m bytes
    uint8_t init;               //  sieve bytes start here; a candidate reaches 0x80
    //  the current a
    uint32_t s;                 //  primes in a
    uint32_t q [S_MAX_S];       //  their indices
    mpz_t a, b, c;              //  the polynomial
    mpz_t bj [S_MAX_S];         //  the B_j
    uint64_t *used_a;           //  hashes of the a used so far
    size_t used_count, used_size;
    uint64_t rng;               //  xorshift64 state, seeded from n
    //  relations
    s_rel_t *rels;
    size_t rel_count, rel_size;
    s_row_t *rows;
    size_t row_count, row_size;
    uint64_t *lp_keys;          //  open-addressed map: large prime -> first relation with it
    uint32_t *lp_vals;
    size_t lp_size, lp_count;   //  slots (a power of two) and used slots
    size_t max_partials;        //  partials kept at most
    worm_factor_siqs_t *out;    //  counters
    mpz_t t1, t2, v;            //  scratch
} s_t;

static uint64_t
s_next (s_t *S)
{
    uint64_t x = S->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return S->rng = x;
}

static uint64_t
s_powmod (uint64_t b, uint64_t e, uint64_t p)
{
    uint64_t r = 1;
    b %= p;
    while (e) {
        if (e & 1)
            r = r * b % p;
        b = b * b % p;
        e >>= 1;
    }
    return r;
}

//  The inverse of a modulo p (gcd (a, p) = 1, p < 2^32).
static uint32_t
s_inverse (uint32_t a, uint32_t p)
{
    int64_t t = 0, nt = 1, r = p, nr = a % p;
    while (nr) {
        int64_t q = r / nr, tmp;
        tmp = t - q * nt;
        t = nt;
        nt = tmp;
        tmp = r - q * nr;
        r = nr;
        nr = tmp;
    }
    if (t < 0)
        t += p;
    return (uint32_t) t;
}

//  A square root of a quadratic residue a modulo an odd prime p (Tonelli-Shanks).
static uint32_t
s_sqrt_mod (uint32_t a, uint32_t p)
{
    if (a == 0)
        return 0;
    if (p % 4 == 3)
        return (uint32_t) s_powmod (a, (p + 1) / 4, p);
    uint64_t q = p - 1;
    int e = 0;
    while (!(q & 1)) {
        q >>= 1;
        e++;
    }
    uint64_t z = 2;
    while (s_powmod (z, (p - 1) / 2, p) != p - 1)
        z++;
    uint64_t c = s_powmod (z, q, p), x = s_powmod (a, (q + 1) / 2, p), t = s_powmod (a, q, p);
    int m = e;
    while (t != 1) {
        int i = 0;
        uint64_t tt = t;
        while (tt != 1) {
            tt = tt * tt % p;
            i++;
        }
        uint64_t bb = c;
        for (int j = 0; j < m - i - 1; j++)
            bb = bb * bb % p;
        x = x * bb % p;
        c = bb * bb % p;
        t = t * c % p;
        m = i;
    }
    return (uint32_t) x;
}

//  The Jacobi symbol (a / n) for odd n.
static int
s_jacobi (uint32_t a, uint32_t n)
{
    int t = 1;
    a %= n;
    while (a) {
        while (!(a & 1)) {
            a >>= 1;
            if (n % 8 == 3 || n % 8 == 5)
                t = -t;
        }
        uint32_t tmp = a;
        a = n;
        n = tmp;
        if (a % 4 == 3 && n % 4 == 3)
            t = -t;
        a %= n;
    }
    return n == 1 ? t : 0;
}

static bool
s_is_prime_small (uint32_t p)
{
    if (p < 2)
        return false;
    for (uint32_t d = 2; d * d <= p; d++)
        if (p % d == 0)
            return false;
    return true;
}

//  The Knuth-Schroeppel multiplier for n: the k below 100 that makes small
//  primes divide kN's values most often, less half of log k.
static uint32_t
s_multiplier (const mpz_t n)
{
    static const uint32_t ks [] = {1,  2,  3,  5,  6,  7,  10, 11, 13, 14, 15, 17, 19, 21, 22, 23,
                                   26, 29, 30, 31, 33, 34, 35, 37, 38, 39, 41, 42, 43, 46, 47, 51,
                                   53, 55, 57, 58, 59, 61, 62, 65, 66, 67, 69, 70, 71, 73, 74, 77,
                                   78, 79, 82, 83, 85, 86, 87, 89, 91, 93, 94, 95, 97};
    const int count = sizeof ks / sizeof ks [0];
    double score [sizeof ks / sizeof ks [0]];
    uint32_t n8 = (uint32_t) mpz_fdiv_ui (n, 8);
    for (int i = 0; i < count; i++) {
        score [i] = -0.5 * log ((double) ks [i]);
        if (ks [i] % 2 == 0)
            score [i] += 0.5 * log (2.0);
        else {
            uint32_t r = (ks [i] * n8) % 8;
            score [i] += r == 1 ? 2 * log (2.0) : r == 5 ? log (2.0) : 0.5 * log (2.0);
        }
    }
    for (uint32_t p = 3; p < 1000; p += 2) {
        if (!s_is_prime_small (p))
            continue;
        uint32_t np = (uint32_t) mpz_fdiv_ui (n, p);
        double lp = log ((double) p);
        for (int i = 0; i < count; i++) {
            uint32_t knp = (uint32_t) ((uint64_t) ks [i] * np % p);
            if (ks [i] % p == 0)
                score [i] += lp / p;
            else if (s_jacobi (knp, p) == 1)
                score [i] += 2 * lp / (p - 1);
        }
    }
    int best = 0;
    for (int i = 1; i < count; i++)
        if (score [i] > score [best])
            best = i;
    return ks [best];
}

static void *
s_grow (void *items, size_t *size, size_t need, size_t item)
{
    if (need <= *size)
        return items;
    size_t size2 = *size ? *size : 64;
    while (size2 < need)
        size2 *= 2;
    void *grown = realloc (items, size2 * item);
    if (grown)
        *size = size2;
    return grown;
}

//  Builds the factor base. Returns 0, -ENOMEM, or 1 with a factor of n in
//  f when a base candidate divides n.
static int
s_factor_base (s_t *S, mpz_t f, const s_param_t *par)
{
    uint32_t fb = par->fb;
    S->fb = fb;
    S->prime = calloc (fb, sizeof *S->prime);
    S->sqrtkn = calloc (fb, sizeof *S->sqrtkn);
    S->magic = calloc (fb, sizeof *S->magic);
    S->logp = calloc (fb, 1);
    S->skip = calloc (fb, 1);
    S->ainv = calloc (fb, sizeof *S->ainv);
    S->root1 = calloc (fb, sizeof *S->root1);
    S->root2 = calloc (fb, sizeof *S->root2);
    S->bainv2 = calloc ((size_t) S_MAX_S * fb, sizeof *S->bainv2);
    if (!S->prime || !S->sqrtkn || !S->magic || !S->logp || !S->skip || !S->ainv || !S->root1 || !S->root2
        || !S->bainv2)
        return -ENOMEM;
    S->prime [0] = 0;
    S->prime [1] = 2;
    S->skip [1] = 1;
    uint32_t count = 2;
    for (uint32_t p = 3; count < fb; p += 2) {
        if (!s_is_prime_small (p))
            continue;
        uint32_t r = (uint32_t) mpz_fdiv_ui (S->kn, p);
        if (r == 0) {
            if (S->k % p != 0) {
                mpz_set_ui (f, p);      //  p divides n itself
                return 1;
            }
            S->skip [count] = 1;
        }
        else if (s_jacobi (r, p) != 1)
            continue;
        S->prime [count] = p;
        S->sqrtkn [count] = s_sqrt_mod (r, p);
        S->magic [count] = ((1ULL << 40) + p - 1) / p;
        count++;
    }
    S->first_sieved = 2;
    while (S->first_sieved < fb && S->prime [S->first_sieved] < S_SMALL_PRIME)
        S->first_sieved++;
    return 0;
}

//  The largest |g(x)| on the interval, as log2: M sqrt (kN / 2).
static double
s_log2_gmax (s_t *S)
{
    return log2 ((double) S->m) + 0.5 * ((double) mpz_sizeinbase (S->kn, 2) - 1);
}

//  Sets the sieve's log scale and start value for this n.
static void
s_scale (s_t *S, const s_param_t *par)
{
    double gmax = s_log2_gmax (S);
    double scale = gmax > 110 ? 110 / gmax : 1.0;
    for (uint32_t i = 1; i < S->fb; i++)
        S->logp [i] = (uint8_t) lround (log2 ((double) S->prime [i]) * scale);
    double pmax = log2 ((double) S->prime [S->fb - 1]);
    double threshold = gmax - pmax - log2 ((double) par->lp_mult) - par->fudge;
    if (threshold < 8)
        threshold = 8;
    long t = lround (threshold * scale);
    S->init = (uint8_t) (128 - t);
}

static uint64_t
s_hash_a (const uint32_t *q, uint32_t s)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t j = 0; j < s; j++)
        h = (h ^ q [j]) * 1099511628211ULL;
    return h;
}

//  Whether index i can be a prime of a: odd, sieved, not dividing k, not chosen.
static bool
s_q_ok (s_t *S, uint32_t i, const uint32_t *q, uint32_t chosen)
{
    if (i < S->first_sieved || i >= S->fb || (S->skip [i] & 1))
        return false;
    for (uint32_t j = 0; j < chosen; j++)
        if (q [j] == i)
            return false;
    return true;
}

//  The first base index whose prime is at least p (fb when none).
static uint32_t
s_index_of (s_t *S, double p)
{
    uint32_t lo = 1, hi = S->fb;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (S->prime [mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

//  Chooses a new a near sqrt (2 kN) / M and its B_j. Returns 0, or -1 when
//  no new a could be found.
static int
s_choose_a (s_t *S)
{
    double target = 0.5 * ((double) mpz_sizeinbase (S->kn, 2) + 1) - log2 ((double) S->m);
    double pmin = S->prime [S->first_sieved], pmax = S->prime [S->fb - 1];
    //  s primes of about 2000, or as near as the base allows
    uint32_t s = (uint32_t) lround (target / log2 (2000.0));
    if (s < 1)
        s = 1;
    while (s < S_MAX_S && target / s > log2 (pmax * 0.7))
        s++;
    while (s > 1 && target / s < log2 (pmin * 2))
        s--;
    double qsize = pow (2.0, target / s);
    uint32_t centre = s_index_of (S, qsize);
    uint32_t width = S->fb / 8 < 60 ? 60 : S->fb / 8;
    uint32_t lo = centre > width + S->first_sieved ? centre - width : S->first_sieved;
    uint32_t hi = centre + width < S->fb ? centre + width : S->fb - 1;
    if (hi <= lo)
        return -1;
    for (int attempt = 0; attempt < 400; attempt++) {
        uint32_t chosen = 0;
        double logsum = 0;
        int tries = 0;
        uint32_t random_count = s == 1 ? 1 : s - 1;
        while (chosen < random_count && tries++ < 1000) {
            uint32_t i = lo + (uint32_t) (s_next (S) % (hi - lo + 1));
            if (s_q_ok (S, i, S->q, chosen)) {
                S->q [chosen++] = i;
                logsum += log2 ((double) S->prime [i]);
            }
        }
        if (chosen < random_count)
            continue;
        if (s > 1) {
            //  The last prime brings a nearest the target
            uint32_t i = s_index_of (S, pow (2.0, target - logsum));
            uint32_t best = S_NONE;
            double best_err = 1e9;
            for (uint32_t d = 0; d < 8; d++)
                for (int side = -1; side <= 1; side += 2) {
                    int64_t j = (int64_t) i + side * (int64_t) d;
                    if (j < 0 || !s_q_ok (S, (uint32_t) j, S->q, chosen))
                        continue;
                    double err = fabs (logsum + log2 ((double) S->prime [j]) - target);
                    if (err < best_err) {
                        best_err = err;
                        best = (uint32_t) j;
                    }
                }
            if (best == S_NONE || (best_err > 1.0 && attempt < 200))
                continue;
            S->q [chosen++] = best;
        }
        //  Sorted, so that the same set hashes the same
        for (uint32_t x = 1; x < s; x++)
            for (uint32_t y = x; y > 0 && S->q [y - 1] > S->q [y]; y--) {
                uint32_t t = S->q [y];
                S->q [y] = S->q [y - 1];
                S->q [y - 1] = t;
            }
        uint64_t h = s_hash_a (S->q, s);
        bool seen = false;
        for (size_t u = 0; u < S->used_count && !seen; u++)
            seen = S->used_a [u] == h;
        if (seen)
            continue;
        uint64_t *used = s_grow (S->used_a, &S->used_size, S->used_count + 1, sizeof *used);
        if (!used)
            return -1;
        S->used_a = used;
        S->used_a [S->used_count++] = h;
        S->s = s;
        return 0;
    }
    return -1;
}

//  Sets up the first polynomial of the chosen a: b, c, the B_j, and the
//  roots and a^-1 B_j terms of every prime. Returns 0, or -1 when b^2 = kN
//  (mod a) does not hold (never, unless the code is wrong).
static int
s_first_poly (s_t *S)
{
    for (uint32_t i = 0; i < S->fb; i++)
        S->skip [i] &= 1;
    mpz_set_ui (S->a, 1);
    for (uint32_t j = 0; j < S->s; j++) {
        mpz_mul_ui (S->a, S->a, S->prime [S->q [j]]);
        S->skip [S->q [j]] = 2;
    }
    mpz_set_ui (S->b, 0);
    for (uint32_t j = 0; j < S->s; j++) {
        uint32_t q = S->prime [S->q [j]];
        mpz_divexact_ui (S->t1, S->a, q);
        uint32_t inv = s_inverse ((uint32_t) mpz_fdiv_ui (S->t1, q), q);
        uint64_t gamma = (uint64_t) S->sqrtkn [S->q [j]] * inv % q;
        if (gamma > q / 2)
            gamma = q - gamma;
        mpz_mul_ui (S->bj [j], S->t1, gamma);
        mpz_add (S->b, S->b, S->bj [j]);
    }
    mpz_mul (S->c, S->b, S->b);
    mpz_sub (S->c, S->c, S->kn);
    if (!mpz_divisible_p (S->c, S->a))
        return -1;
    mpz_divexact (S->c, S->c, S->a);
    for (uint32_t i = 2; i < S->fb; i++) {
        if (S->skip [i])
            continue;
        uint32_t p = S->prime [i];
        uint32_t ainv = s_inverse ((uint32_t) mpz_fdiv_ui (S->a, p), p);
        S->ainv [i] = ainv;
        for (uint32_t j = 0; j < S->s; j++)
            S->bainv2 [(size_t) j * S->fb + i]
                = (uint32_t) (2 * (uint64_t) mpz_fdiv_ui (S->bj [j], p) * ainv % p);
        uint64_t bp = mpz_fdiv_ui (S->b, p), t = S->sqrtkn [i], mp = S->m % p;
        S->root1 [i] = (uint32_t) (((t + p - bp) % p * ainv + mp) % p);
        S->root2 [i] = (uint32_t) (((2 * (uint64_t) p - t - bp) % p * ainv + mp) % p);
    }
    return 0;
}

//  Moves to polynomial number i (1 .. 2^(s-1) - 1) of the current a.
static void
s_next_poly (s_t *S, uint32_t i)
{
    uint32_t v = (uint32_t) __builtin_ctz (i);
    bool up = (i >> (v + 1)) & 1;      //  b += 2 B_v, else b -= 2 B_v
    mpz_mul_2exp (S->t1, S->bj [v], 1);
    if (up)
        mpz_add (S->b, S->b, S->t1);
    else
        mpz_sub (S->b, S->b, S->t1);
    mpz_mul (S->c, S->b, S->b);
    mpz_sub (S->c, S->c, S->kn);
    mpz_divexact (S->c, S->c, S->a);
    const uint32_t *delta = S->bainv2 + (size_t) v * S->fb;
    for (uint32_t k = 2; k < S->fb; k++) {
        if (S->skip [k])
            continue;
        uint32_t p = S->prime [k], d = up ? p - delta [k] : delta [k];
        if (d == p)
            d = 0;
        uint32_t r1 = S->root1 [k] + d, r2 = S->root2 [k] + d;
        S->root1 [k] = r1 >= p ? r1 - p : r1;
        S->root2 [k] = r2 >= p ? r2 - p : r2;
    }
}

//  Adds each prime's log at the indices of its two roots' progressions.
//  (A block-by-block sieve for the L1 cache was tried and was no faster
//  here: the interval fits the L2 and the updates stream.)
static void
s_sieve (s_t *S)
{
    uint32_t len = 2 * S->m;
    uint8_t *sv = S->sieve;
    memset (sv, S->init, len);
    for (uint32_t i = S->first_sieved; i < S->fb; i++) {
        if (S->skip [i])
            continue;
        uint32_t p = S->prime [i];
        uint8_t lp = S->logp [i];
        uint32_t r1 = S->root1 [i], r2 = S->root2 [i];
        if (r1 > r2) {
            uint32_t t = r1;
            r1 = r2;
            r2 = t;
        }
        uint32_t d = r2 - r1;
        uint32_t j = r1;
        //  Both roots a step at a time while the later one fits
        for (; j + d < len; j += p) {
            sv [j] += lp;
            sv [j + d] += lp;
        }
        if (j < len)
            sv [j] += lp;
    }
}

//  Stores a relation; a partial is paired with the first one of its large
//  prime. Returns 0 or -ENOMEM.
static int
s_add_relation (s_t *S, const mpz_t y, const uint32_t *factors, uint32_t count, uint64_t large)
{
    uint32_t match = S_NONE;
    size_t slot = 0;
    if (large > 1) {
        size_t mask = S->lp_size - 1;
        slot = (size_t) (large * 0x9E3779B97F4A7C15ULL >> 20) & mask;
        while (S->lp_keys [slot] && S->lp_keys [slot] != large)
            slot = (slot + 1) & mask;
        if (S->lp_keys [slot] == large)
            match = S->lp_vals [slot];
        else if (S->lp_count >= S->max_partials)
            return 0;           //  full: a partial that pairs with nothing is dropped
        if (match != S_NONE && mpz_cmp (S->rels [match].y, y) == 0)
            return 0;           //  the same relation twice
    }
    s_rel_t *rels = s_grow (S->rels, &S->rel_size, S->rel_count + 1, sizeof *rels);
    if (!rels)
        return -ENOMEM;
    S->rels = rels;
    s_rel_t *rel = &S->rels [S->rel_count];
    rel->factors = malloc (count * sizeof *rel->factors);
    if (!rel->factors)
        return -ENOMEM;
    memcpy (rel->factors, factors, count * sizeof *factors);
    rel->count = count;
    rel->large = large;
    mpz_init_set (rel->y, y);
    uint32_t index = (uint32_t) S->rel_count++;
    if (large > 1 && match == S_NONE) {
        S->lp_keys [slot] = large;
        S->lp_vals [slot] = index;
        S->lp_count++;
        if (S->lp_count * 2 > S->lp_size) {
            //  Rehash into twice the slots
            size_t size = S->lp_size * 2, mask = size - 1;
            uint64_t *keys = calloc (size, sizeof *keys);
            uint32_t *vals = calloc (size, sizeof *vals);
            if (!keys || !vals) {
                free (keys);
                free (vals);
                return -ENOMEM;
            }
            for (size_t i = 0; i < S->lp_size; i++)
                if (S->lp_keys [i]) {
                    size_t at = (size_t) (S->lp_keys [i] * 0x9E3779B97F4A7C15ULL >> 20) & mask;
                    while (keys [at])
                        at = (at + 1) & mask;
                    keys [at] = S->lp_keys [i];
                    vals [at] = S->lp_vals [i];
                }
            free (S->lp_keys);
            free (S->lp_vals);
            S->lp_keys = keys;
            S->lp_vals = vals;
            S->lp_size = size;
        }
        return 0;
    }
    s_row_t *rows = s_grow (S->rows, &S->row_size, S->row_count + 1, sizeof *rows);
    if (!rows)
        return -ENOMEM;
    S->rows = rows;
    S->rows [S->row_count].rel [0] = index;
    S->rows [S->row_count].rel [1] = match;
    S->row_count++;
    if (match != S_NONE)
        S->out->cycles++;
    return 0;
}

//  Trial-divides the candidate at sieve index j. Returns 0 or -ENOMEM.
static int
s_check (s_t *S, uint32_t j)
{
    int64_t x = (int64_t) j - S->m;
    mpz_t *v = &S->v;
    //  g(x) = (a x + 2 b) x + c, y = a x + b
    mpz_mul_si (S->t1, S->a, x);
    mpz_add (S->t2, S->t1, S->b);       //  y
    mpz_add (S->t1, S->t2, S->b);
    mpz_mul_si (*v, S->t1, x);
    mpz_add (*v, *v, S->c);
    if (mpz_sgn (*v) == 0)
        return 0;
    uint32_t factors [S_MAX_FACTORS];
    uint32_t count = 0;
    if (mpz_sgn (*v) < 0) {
        factors [count++] = 0;
        mpz_neg (*v, *v);
    }
    for (uint32_t j2 = 0; j2 < S->s; j2++)
        factors [count++] = S->q [j2];      //  a's primes, once each
    unsigned long twos = mpz_scan1 (*v, 0);
    mpz_tdiv_q_2exp (*v, *v, twos);
    for (unsigned long t = 0; t < twos && count < S_MAX_FACTORS; t++)
        factors [count++] = 1;
    for (uint32_t i = 2; i < S->fb && count < S_MAX_FACTORS; i++) {
        uint32_t p = S->prime [i];
        if (i >= S->first_sieved && S->skip [i] == 0) {
            uint32_t r = j - (uint32_t) ((j * S->magic [i]) >> 40) * p;
            if (r != S->root1 [i] && r != S->root2 [i])
                continue;
        }
        while (count < S_MAX_FACTORS && mpz_divisible_ui_p (*v, p)) {
            mpz_divexact_ui (*v, *v, p);
            factors [count++] = i;
        }
    }
    if (count >= S_MAX_FACTORS)
        return 0;
    if (mpz_cmp_ui (*v, 1) == 0) {
        S->out->fulls++;
        return s_add_relation (S, S->t2, factors, count, 1);
    }
    if (mpz_fits_ulong_p (*v) && mpz_get_ui (*v) < S->lp_bound) {
        S->out->partials++;
        return s_add_relation (S, S->t2, factors, count, mpz_get_ui (*v));
    }
    return 0;
}

//  Scans the sieve for candidates. Returns 0 or -ENOMEM.
static int
s_scan (s_t *S)
{
    uint32_t len = 2 * S->m;
    for (uint32_t w = 0; w < len / 8; w++) {
        uint64_t word;
        memcpy (&word, S->sieve + w * 8, 8);
        if (!(word & 0x8080808080808080ULL))
            continue;
        for (uint32_t j = w * 8; j < w * 8 + 8; j++)
            if (S->sieve [j] & 0x80) {
                int rc = s_check (S, j);
                if (rc < 0)
                    return rc;
            }
    }
    return 0;
}

//  Adds relation rel's factor indices to a row's parity bits.
static void
s_parity (const s_rel_t *rel, uint64_t *bits)
{
    for (uint32_t i = 0; i < rel->count; i++)
        bits [rel->factors [i] / 64] ^= 1ULL << (rel->factors [i] % 64);
}

//  Tries the dependency made of rows [deps] for a factor. Returns 1 with it
//  in f, 0 when the dependency is trivial, -ENOMEM.
static int
s_try_dependency (s_t *S, mpz_t f, const uint32_t *deps, size_t count)
{
    uint32_t *exps = calloc (S->fb, sizeof *exps);
    if (!exps)
        return -ENOMEM;
    mpz_t x, y;
    mpz_init_set_ui (x, 1);
    mpz_init_set_ui (y, 1);
    for (size_t d = 0; d < count; d++) {
        const s_row_t *row = &S->rows [deps [d]];
        for (int h = 0; h < 2; h++) {
            if (row->rel [h] == S_NONE)
                continue;
            const s_rel_t *rel = &S->rels [row->rel [h]];
            mpz_mul (x, x, rel->y);
            mpz_mod (x, x, S->n);
            for (uint32_t i = 0; i < rel->count; i++)
                exps [rel->factors [i]]++;
        }
        if (row->rel [1] != S_NONE) {
            //  L^2 from the pair: L in the root
            mpz_mul_ui (y, y, S->rels [row->rel [0]].large);
            mpz_mod (y, y, S->n);
        }
    }
    int found = 0;
    bool even = true;
    for (uint32_t i = 0; i < S->fb; i++)
        even = even && exps [i] % 2 == 0;
    if (even) {
        for (uint32_t i = 1; i < S->fb; i++)
            if (exps [i]) {
                mpz_set_ui (S->t1, S->prime [i]);
                mpz_powm_ui (S->t1, S->t1, exps [i] / 2, S->n);
                mpz_mul (y, y, S->t1);
                mpz_mod (y, y, S->n);
            }
        mpz_sub (S->t1, x, y);
        mpz_gcd (S->t1, S->t1, S->n);
        if (mpz_cmp_ui (S->t1, 1) > 0 && mpz_cmp (S->t1, S->n) < 0
            && mpz_divisible_p (S->n, S->t1)) {
            mpz_set (f, S->t1);
            found = 1;
        }
    }
    mpz_clears (x, y, NULL);
    free (exps);
    return found;
}

//  Finds dependencies among the rows by Gaussian elimination over GF(2)
//  after removing rows with a prime no other row has, and tries them.
//  Returns 1 with a factor in f, 0 when none gave one, -ENOMEM.
static int
s_linear_algebra (s_t *S, mpz_t f)
{
    size_t rows = S->row_count;
    size_t cwords = (S->fb + 63) / 64;
    uint64_t *parity = calloc (rows * cwords, sizeof *parity);
    uint32_t *weight = calloc (S->fb, sizeof *weight);
    uint8_t *alive = malloc (rows);
    if (!parity || !weight || !alive) {
        free (parity);
        free (weight);
        free (alive);
        return -ENOMEM;
    }
    memset (alive, 1, rows);
    for (size_t r = 0; r < rows; r++)
        for (int h = 0; h < 2; h++)
            if (S->rows [r].rel [h] != S_NONE)
                s_parity (&S->rels [S->rows [r].rel [h]], parity + r * cwords);
    //  Singletons: a row holding the only odd exponent of a prime is in no dependency
    for (size_t r = 0; r < rows; r++)
        for (size_t w = 0; w < cwords; w++)
            for (uint64_t bits = parity [r * cwords + w]; bits; bits &= bits - 1)
                weight [w * 64 + (size_t) __builtin_ctzll (bits)]++;
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t r = 0; r < rows; r++) {
            if (!alive [r])
                continue;
            bool single = false;
            for (size_t w = 0; w < cwords && !single; w++)
                for (uint64_t bits = parity [r * cwords + w]; bits && !single; bits &= bits - 1)
                    single = weight [w * 64 + (size_t) __builtin_ctzll (bits)] == 1;
            if (single) {
                alive [r] = 0;
                changed = true;
                for (size_t w = 0; w < cwords; w++)
                    for (uint64_t bits = parity [r * cwords + w]; bits; bits &= bits - 1)
                        weight [w * 64 + (size_t) __builtin_ctzll (bits)]--;
            }
        }
    }
    free (weight);
    size_t live = 0;
    for (size_t r = 0; r < rows; r++)
        live += alive [r];
    size_t hwords = (live + 63) / 64;
    size_t width = cwords + hwords;
    uint64_t *m = calloc (live * width, sizeof *m);
    uint32_t *origin = malloc ((live ? live : 1) * sizeof *origin);
    if (!m || !origin) {
        free (parity);
        free (alive);
        free (m);
        free (origin);
        return -ENOMEM;
    }
    size_t at = 0;
    for (size_t r = 0; r < rows; r++)
        if (alive [r]) {
            memcpy (m + at * width, parity + r * cwords, cwords * sizeof *m);
            m [at * width + cwords + at / 64] |= 1ULL << (at % 64);
            origin [at++] = (uint32_t) r;
        }
    free (parity);
    free (alive);
    size_t start = 0;
    for (uint32_t col = 0; col < S->fb && start < live; col++) {
        size_t w = col / 64;
        uint64_t bit = 1ULL << (col % 64);
        size_t pivot = start;
        while (pivot < live && !(m [pivot * width + w] & bit))
            pivot++;
        if (pivot == live)
            continue;
        if (pivot != start)
            for (size_t i = 0; i < width; i++) {
                uint64_t t = m [pivot * width + i];
                m [pivot * width + i] = m [start * width + i];
                m [start * width + i] = t;
            }
        const uint64_t *src = m + start * width;
        for (size_t r = start + 1; r < live; r++) {
            uint64_t *dst = m + r * width;
            if (dst [w] & bit)
                for (size_t i = w; i < width; i++)
                    dst [i] ^= src [i];
        }
        start++;
    }
    //  Rows from start on are zero: each is a dependency
    int rc = 0;
    uint32_t *deps = malloc ((live ? live : 1) * sizeof *deps);
    if (!deps)
        rc = -ENOMEM;
    for (size_t r = start; rc == 0 && r < live && S->out->dependencies < S_MAX_DEPS; r++) {
        size_t count = 0;
        const uint64_t *h = m + r * width + cwords;
        for (size_t i = 0; i < live; i++)
            if (h [i / 64] >> (i % 64) & 1)
                deps [count++] = origin [i];
        if (count == 0)
            continue;
        S->out->dependencies++;
        rc = s_try_dependency (S, f, deps, count);
    }
    free (deps);
    free (m);
    free (origin);
    return rc;
}

static void
s_destroy (s_t *S)
{
    free (S->prime);
    free (S->sqrtkn);
    free (S->magic);
    free (S->logp);
    free (S->skip);
    free (S->ainv);
    free (S->root1);
    free (S->root2);
    free (S->bainv2);
    free (S->sieve);
    free (S->used_a);
    for (size_t i = 0; i < S->rel_count; i++) {
        mpz_clear (S->rels [i].y);
        free (S->rels [i].factors);
    }
    free (S->rels);
    free (S->rows);
    free (S->lp_keys);
    free (S->lp_vals);
    for (int j = 0; j < S_MAX_S; j++)
        mpz_clear (S->bj [j]);
    mpz_clears (S->n, S->kn, S->a, S->b, S->c, S->t1, S->t2, S->v, NULL);
}

//  The parameters for a kN of the given bits, interpolated.
static s_param_t
s_param_for (size_t bits)
{
    const int rows = sizeof s_params / sizeof s_params [0];
    if (bits <= s_params [0].bits)
        return s_params [0];
    for (int i = 1; i < rows; i++)
        if (bits <= s_params [i].bits) {
            const s_param_t *lo = &s_params [i - 1], *hi = &s_params [i];
            double t = (double) (bits - lo->bits) / (hi->bits - lo->bits);
            s_param_t p = *lo;
            p.fb = (uint32_t) lround (lo->fb + t * ((double) hi->fb - lo->fb));
            p.lp_mult = (uint32_t) lround (lo->lp_mult + t * ((double) hi->lp_mult - lo->lp_mult));
            p.m = t < 0.5 ? lo->m : hi->m;
            p.fudge = t < 0.5 ? lo->fudge : hi->fudge;
            return p;
        }
    //  Beyond the table (to WORM_FACTOR_SIQS_MAX_DIGITS): grow the base
    s_param_t p = s_params [rows - 1];
    p.fb = (uint32_t) (p.fb * pow (1.045, (double) (bits - p.bits)));
    return p;
}

int
worm_factor_siqs (mpz_t f, const mpz_t n, worm_factor_siqs_t *params)
{
    worm_factor_siqs_t local = {0};
    worm_factor_siqs_t *out = params ? params : &local;
    uint32_t max_polys = out->max_polys;
    const volatile int *stop = out->stop;
    memset (out, 0, sizeof *out);
    out->max_polys = max_polys;
    out->stop = stop;
    if (mpz_sgn (n) <= 0 || mpz_even_p (n) || mpz_sizeinbase (n, 2) < WORM_FACTOR_SIQS_MIN_BITS
        || mpz_sizeinbase (n, 10) > WORM_FACTOR_SIQS_MAX_DIGITS + 1
        || mpz_probab_prime_p (n, 10) || mpz_perfect_power_p (n))
        return -EINVAL;
    if (mpz_sizeinbase (n, 10) > WORM_FACTOR_SIQS_MAX_DIGITS) {
        //  sizeinbase may be one too big: ask exactly
        mpz_t limit;
        mpz_init (limit);
        mpz_ui_pow_ui (limit, 10, WORM_FACTOR_SIQS_MAX_DIGITS);
        int over = mpz_cmp (n, limit) >= 0;
        mpz_clear (limit);
        if (over)
            return -EINVAL;
    }
    s_t S;
    memset (&S, 0, sizeof S);
    mpz_inits (S.n, S.kn, S.a, S.b, S.c, S.t1, S.t2, S.v, NULL);
    for (int j = 0; j < S_MAX_S; j++)
        mpz_init (S.bj [j]);
    S.out = out;
    mpz_set (S.n, n);
    S.k = s_multiplier (n);
    out->multiplier = S.k;
    mpz_mul_ui (S.kn, n, S.k);
    S.rng = (mpz_getlimbn (n, 0) ^ 0x2545F4914F6CDD1DULL) | 1;
    s_param_t par = s_param_for (mpz_sizeinbase (S.kn, 2));
    S.m = par.m;
    int rc = s_factor_base (&S, f, &par);
    if (rc != 0)
        goto done;
    out->fb_size = S.fb;
    s_scale (&S, &par);
    uint64_t pmax = S.prime [S.fb - 1];
    S.lp_bound = pmax * par.lp_mult;
    if (S.lp_bound >= pmax * pmax)
        S.lp_bound = pmax * pmax - 1;   //  so that a cofactor below it is prime
    S.max_partials = (size_t) 20 * S.fb + 20000;     //  about 3 MB per 1000 primes
    S.lp_size = 1024;
    S.lp_keys = calloc (S.lp_size, sizeof *S.lp_keys);
    S.lp_vals = calloc (S.lp_size, sizeof *S.lp_vals);
    S.sieve = malloc (2 * (size_t) S.m);
    if (!S.lp_keys || !S.lp_vals || !S.sieve) {
        rc = -ENOMEM;
        goto done;
    }
    if (max_polys == 0)
        max_polys = 300 * S.fb + 10000;
    size_t want = S.fb + S_EXTRA;
    while (rc == 0) {
        while (S.row_count < want) {
            if (out->polys >= max_polys || s_choose_a (&S) < 0 || s_first_poly (&S) < 0)
                goto done;      //  rc 0: given up
            uint32_t polys = 1u << (S.s - 1);
            for (uint32_t i = 0; i < polys && S.row_count < want && out->polys < max_polys; i++) {
                if (stop && *stop) {
                    rc = -EINTR;
                    goto done;
                }
                if (i > 0)
                    s_next_poly (&S, i);
                s_sieve (&S);
                rc = s_scan (&S);
                if (rc < 0)
                    goto done;
                out->polys++;
            }
        }
        rc = s_linear_algebra (&S, f);
        if (rc != 0 || out->dependencies >= S_MAX_DEPS)
            break;
        //  Too few dependencies and none split n: a few more relations
        want = S.row_count + S_EXTRA;
    }
done:
    s_destroy (&S);
    if (rc == 1 && !(mpz_cmp_ui (f, 1) > 0 && mpz_cmp (f, n) < 0 && mpz_divisible_p (n, f)))
        rc = 0;     //  never here; a wrong answer is not returned
    return rc;
}
