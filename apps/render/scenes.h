/*  scenes.h — the scenes behind worm_render_frame (render.h), one file each.

    Each fills rows y0 .. y1 - 1 of rgb (the frame's w*h*3 bytes) with those
    of frame `frame` of its scene; a pixel depends on nothing but its place
    and the frame. The caller (render.c) has checked the arguments. Built with -ffp-contract=off and
    using only + - * /, sqrt and fmath.h, so every build gives the same bytes.
*/
#ifndef WORM_RENDER_SCENES_H_INCLUDED
#define WORM_RENDER_SCENES_H_INCLUDED

#include <math.h>
#include <stdint.h>

void worm_render_mandelbrot (uint32_t frame, uint32_t w, uint32_t h, uint32_t y0, uint32_t y1,
                             uint8_t *rgb);
void worm_render_raytrace (uint32_t frame, uint32_t w, uint32_t h, uint32_t y0, uint32_t y1,
                           uint8_t *rgb);

/*  A colour channel in [0, 1] (clamped) as a byte, rounded. */
static inline uint8_t
worm_render_byte (double value)
{
    if (!(value > 0))           //  also NaN
        return 0;
    if (value >= 1)
        return 255;
    return (uint8_t) (value * 255 + 0.5);
}

/*  Linear light to display (a gamma of 2: a square root, exactly rounded). */
static inline double
worm_render_sqrt_gamma (double value)
{
    return value > 0 ? sqrt (value) : 0;
}

#endif
