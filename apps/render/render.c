/*  render.c — scene names and the frame entry point. See render.h. */
#include "render.h"
#include "scenes.h"

#include <string.h>

static const char *s_names[WORM_RENDER_SCENES] = {"mandelbrot", "raytrace"};

int
worm_render_scene_parse (const char *name, worm_render_scene_t *scene)
{
    for (int i = 0; i < WORM_RENDER_SCENES; i++)
        if (name && strcmp (name, s_names[i]) == 0) {
            *scene = (worm_render_scene_t) i;
            return 0;
        }
    return -1;
}

const char *
worm_render_scene_name (worm_render_scene_t scene)
{
    return (unsigned) scene < WORM_RENDER_SCENES ? s_names[scene] : NULL;
}

int
worm_render_rows (worm_render_scene_t scene, uint32_t frame, uint32_t w, uint32_t h, uint32_t y0,
                  uint32_t y1, uint8_t *rgb)
{
    if (w == 0 || h == 0 || w > WORM_RENDER_SIDE_MAX || h > WORM_RENDER_SIDE_MAX
        || (uint64_t) w * h > WORM_RENDER_PIXELS_MAX || frame > WORM_RENDER_FRAME_MAX || !rgb
        || y0 > y1 || y1 > h)
        return -1;
    if (scene == WORM_RENDER_MANDELBROT)
        worm_render_mandelbrot (frame, w, h, y0, y1, rgb);
    else if (scene == WORM_RENDER_RAYTRACE)
        worm_render_raytrace (frame, w, h, y0, y1, rgb);
    else
        return -1;
    return 0;
}

int
worm_render_frame (worm_render_scene_t scene, uint32_t frame, uint32_t w, uint32_t h,
                   uint8_t *rgb)
{
    return worm_render_rows (scene, frame, w, h, 0, h, rgb);
}
