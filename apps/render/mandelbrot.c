/*  mandelbrot.c — the "mandelbrot" scene: a zoom into the seahorse valley.

    The view zooms in by 2 % a frame for ZOOM_FRAMES frames and back out,
    and so on (a ping-pong, so any frame number up to 99999 stays within
    what doubles resolve). Colour is the smooth ("normalized") iteration
    count, n + 1 - log2 (log2 |z|), through a cyclic palette that also turns
    a little every frame; points that do not escape are black. Four samples
    a pixel, a 2x2 grid (two on the diagonal until the render overhead work
    of issue 13: the thin filaments came out speckled). The iteration limit
    grows with the zoom, as deeper views need it.
*/
#include "fmath.h"
#include "scenes.h"

#define ZOOM_FRAMES 400         //  frames of one zoom in, before it turns back
#define ZOOM_STEP 0.98          //  the view's width from one frame to the next, relative
#define START_WIDTH 0.4         //  the view's width at frame 0, in the complex plane
#define CENTRE_RE -0.743643887037151
#define CENTRE_IM 0.131825904205330
#define BAILOUT 256.0           //  |z|^2 at escape: large, so the smoothing is smooth
#define PALETTE 6

//  The palette's key colours (linear RGB), went through cyclically.
static const double s_palette[PALETTE][3] = {
    {0.00, 0.03, 0.20}, {0.10, 0.35, 0.80}, {0.90, 0.95, 1.00},
    {1.00, 0.70, 0.10}, {0.60, 0.10, 0.05}, {0.05, 0.00, 0.10},
};

//  Whether c lies in the main cardioid or the period-2 bulb, which never
//  escape: half of many views, which would otherwise cost the full limit.
static int
s_inside (double cr, double ci)
{
    double x = cr - 0.25, i2 = ci * ci;
    double q = x * x + i2;
    if (q * (q + x) <= 0.25 * i2)
        return 1;
    return (cr + 1) * (cr + 1) + i2 <= 0.0625;
}

//  The colour (linear RGB) of point c: black inside, else the palette at
//  the smooth iteration count, turned by `turn`.
static void
s_colour (double cr, double ci, int limit, double turn, double colour[3])
{
    double zr = 0, zi = 0, r2 = 0, i2 = 0;
    int n = s_inside (cr, ci) ? limit : 0;
    while (n < limit && r2 + i2 <= BAILOUT) {
        zi = 2 * zr * zi + ci;
        zr = r2 - i2 + cr;
        r2 = zr * zr;
        i2 = zi * zi;
        n++;
    }
    if (n >= limit) {
        colour[0] = colour[1] = colour[2] = 0;
        return;
    }
    //  log2 |z| = log2 (|z|^2) / 2 > 4, so the outer log2 is defined
    double nu = n + 1 - worm_render_log2 (worm_render_log2 (r2 + i2) / 2);
    double at = nu * 0.08 + turn;
    at = at - worm_render_floor (at / PALETTE) * PALETTE;
    int k = (int) at;
    if (k >= PALETTE)           //  rounding at the top of the cycle
        k = PALETTE - 1;
    double f = at - k;
    const double *a = s_palette[k], *b = s_palette[(k + 1) % PALETTE];
    for (int c = 0; c < 3; c++)
        colour[c] = a[c] + (b[c] - a[c]) * f;
}

void
worm_render_mandelbrot (uint32_t frame, uint32_t w, uint32_t h, uint32_t y0, uint32_t y1,
                        uint8_t *rgb)
{
    uint32_t phase = frame % (2 * ZOOM_FRAMES);
    uint32_t depth = phase < ZOOM_FRAMES ? phase : 2 * ZOOM_FRAMES - 1 - phase;
    double width = START_WIDTH;
    for (uint32_t i = 0; i < depth; i++)        //  ZOOM_STEP^depth without pow
        width = width * ZOOM_STEP;
    double pixel = width / w;
    int limit = 500 + 3 * (int) depth;
    double turn = (frame % 1000) / 1000.0 * PALETTE;   //  the palette's offset this frame

    for (uint32_t y = y0; y < y1; y++)
        for (uint32_t x = 0; x < w; x++) {
            //  Four samples a pixel, a 2x2 grid, averaged in linear light
            double sum[3] = {0, 0, 0}, colour[3];
            for (int s = 0; s < 4; s++) {
                double cr = CENTRE_RE + ((x + 0.25 + 0.5 * (s & 1)) - (double) w / 2) * pixel;
                double ci = CENTRE_IM + ((double) h / 2 - (y + 0.25 + 0.5 * (s >> 1))) * pixel;
                s_colour (cr, ci, limit, turn, colour);
                for (int c = 0; c < 3; c++)
                    sum[c] = sum[c] + colour[c];
            }
            uint8_t *out = rgb + ((size_t) y * w + x) * 3;
            for (int c = 0; c < 3; c++)
                out[c] = worm_render_byte (worm_render_sqrt_gamma (sum[c] / 4));
        }
}
