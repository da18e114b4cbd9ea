/*  fmath.h — the render app's own elementary functions.

    A frame must be the same bytes on every machine and build (issue 13), so
    the pixel path uses only + - * / and sqrt, which IEEE 754 rounds exactly,
    and never libm's sin, cos, log or pow, whose last bits differ between
    libm versions. These are the few functions the scenes need, written from
    those operations alone: polynomials after a range reduction. They are as
    accurate as a picture needs (about 1e-9), not as libm; what matters is
    that they are the same everywhere. The files that include this are built
    with -ffp-contract=off, so no a*b+c becomes a fused multiply-add.
*/
#ifndef WORM_RENDER_FMATH_H_INCLUDED
#define WORM_RENDER_FMATH_H_INCLUDED

#include <stdint.h>
#include <string.h>

#define WORM_RENDER_PI 3.14159265358979323846

/*  The largest integer not above x, for |x| < 2^62. */
static inline double
worm_render_floor (double x)
{
    double t = (double) (int64_t) x;        //  truncates toward zero
    return t > x ? t - 1 : t;
}

/*  sin x: x reduced to [-pi/2, pi/2], then its Taylor polynomial to x^15 (error < 1e-12). */
static inline double
worm_render_sin (double x)
{
    double turns = worm_render_floor (x / (2 * WORM_RENDER_PI) + 0.5);
    x = x - turns * (2 * WORM_RENDER_PI);       //  now in [-pi, pi]
    if (x > WORM_RENDER_PI / 2)
        x = WORM_RENDER_PI - x;
    else if (x < -WORM_RENDER_PI / 2)
        x = -WORM_RENDER_PI - x;
    //  x - x^3/3! + x^5/5! - ... - x^15/15!
    double x2 = x * x;
    double term = x, total = x;
    for (int n = 1; n <= 7; n++) {
        term = -term * x2 / (double) ((2 * n) * (2 * n + 1));
        total = total + term;
    }
    return total;
}

/*  cos x = sin (x + pi/2). */
static inline double
worm_render_cos (double x)
{
    return worm_render_sin (x + WORM_RENDER_PI / 2);
}

/*  log2 x for x > 0 (finite, normal): the exponent from the bits, and the
    mantissa m in [sqrt(1/2), sqrt(2)) through ln m = 2 atanh ((m-1)/(m+1)). */
static inline double
worm_render_log2 (double x)
{
    uint64_t bits;
    memcpy (&bits, &x, sizeof bits);
    int exponent = (int) ((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
    double m;
    memcpy (&m, &bits, sizeof m);               //  in [1, 2)
    if (m > 1.4142135623730951) {
        m = m / 2;
        exponent++;
    }
    double s = (m - 1) / (m + 1), s2 = s * s;   //  |s| < 0.172
    double power = s, series = s;
    for (int n = 3; n <= 17; n += 2) {
        power = power * s2;
        series = series + power / n;
    }
    return exponent + 2 * series / 0.69314718055994530942;
}

#endif
