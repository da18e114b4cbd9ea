/*  render.h — the render app's pixel core: a frame of a scene, and its PNG.

    What a render segment computes for one unit of a `wormctl render` job
    (issue 13; ../shared/DESIGN.md, "Apps"), and what worm-render-local
    computes on one core. A frame is a pure function of (scene, frame
    number, width, height): the same bytes on every machine and build,
    because the pixel code is built with -ffp-contract=off and uses only
    + - * / and sqrt (fmath.h holds the functions of its own it needs).

    Scenes: "mandelbrot", a zoom into the seahorse valley with smooth
    colouring whose palette turns from frame to frame; "raytrace", spheres
    that move over a checkered plane, lit by two lights, with shadows and
    reflections. Each costs roughly 50-500 ms a 640x480 frame on one core
    (bench/render_local.sh measures it).
*/
#ifndef WORM_RENDER_H_INCLUDED
#define WORM_RENDER_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef enum {
    WORM_RENDER_MANDELBROT = 0,
    WORM_RENDER_RAYTRACE = 1,
    WORM_RENDER_SCENES = 2              //  how many there are
} worm_render_scene_t;

#define WORM_RENDER_SIDE_MAX 8192               //  a frame's width or height, at most
#define WORM_RENDER_PIXELS_MAX (4096u * 4096u)  //  width x height, at most
#define WORM_RENDER_FRAME_MAX 99999             //  the last frame number (5 digits in a name)
#define WORM_RENDER_FRAMES_MAX 100000           //  frames of one render, at most

/*  The scene of that name ("mandelbrot", "raytrace"): 0 and *scene set, or
    -1 when there is none. */
int worm_render_scene_parse (const char *name, worm_render_scene_t *scene);
/*  A scene's name, or NULL for a value that is not a scene. */
const char *worm_render_scene_name (worm_render_scene_t scene);

/*  Renders frame `frame` of scene at w x h into rgb (w*h*3 bytes, rows top
    first, 8-bit R, G, B). Returns 0, or -1 (rgb untouched) when the scene
    is not one, w or h is 0 or above WORM_RENDER_SIDE_MAX, w*h is above
    WORM_RENDER_PIXELS_MAX, or frame is above WORM_RENDER_FRAME_MAX. */
int worm_render_frame (worm_render_scene_t scene, uint32_t frame, uint32_t w, uint32_t h,
                       uint8_t *rgb);

/*  Renders rows y0 .. y1 - 1 only of that frame into rgb, the whole frame's
    buffer (w*h*3 bytes; the other rows untouched), giving them the bytes
    worm_render_frame gives them: so a frame can be rendered in bands, with
    a look at a cancel flag between them. Returns 0, or -1 (rgb untouched)
    as worm_render_frame does, and when y0 > y1 or y1 > h. */
int worm_render_rows (worm_render_scene_t scene, uint32_t frame, uint32_t w, uint32_t h,
                      uint32_t y0, uint32_t y1, uint8_t *rgb);

/*  Encodes an 8-bit RGB image as PNG into *png (malloc'd, the caller frees)
    of *size bytes. Fixed settings (one filter for every row, zlib level,
    window and strategy fixed, no time or text chunks), so the same pixels
    give the same bytes with the same zlib. Returns 0, or -1 when out of
    memory or w/h is out of range. */
int worm_render_png (const uint8_t *rgb, uint32_t w, uint32_t h, void **png, size_t *size);

#define WORM_RENDER_THUMB_SIDE 160      //  a thumbnail's larger side, at most, in pixels

/*  The size of a w x h frame's thumbnail on the contact sheet (writer.h):
    the frame's shape, its larger side WORM_RENDER_THUMB_SIDE (or the
    frame's own, when smaller), each side at least 1. w and h within the
    limits above. */
void worm_render_thumb_size (uint32_t w, uint32_t h, uint32_t *tw, uint32_t *th);

/*  Shrinks a w x h frame (w*h*3 bytes, within the limits above) into
    thumb (tw*th*3 bytes, the size worm_render_thumb_size gives): each
    thumbnail pixel is the average of the frame's pixels it covers (a box
    filter in integers, rounded), so the same frame gives the same bytes. */
void worm_render_thumb (const uint8_t *rgb, uint32_t w, uint32_t h, uint8_t *thumb);

/*  worm_render_thumb's thumbnail of a w x h frame, encoded as
    worm_render_png does, into *png (malloc'd, the caller frees) of *size
    bytes: what a segment sends with a frame that is on the contact sheet,
    so that the client need not decode the frame to draw it. Returns 0, or
    -1 when out of memory or w/h is out of range. */
int worm_render_thumb_png (const uint8_t *rgb, uint32_t w, uint32_t h, void **png, size_t *size);

/*  Decodes a PNG that must be 8-bit RGB, not interlaced, and within the
    size limits above, into *rgb (malloc'd, w*h*3 bytes, the caller frees).
    The bytes are hostile: anything else is -1 with the reason in err,
    never an abort. */
int worm_render_png_decode (const void *png, size_t size, uint8_t **rgb, uint32_t *w,
                            uint32_t *h, char *err, size_t cap);

/*  Reads width and height from a PNG's signature and header chunk without
    decoding it, and checks it is 8-bit RGB. Returns 0, or -1 with the
    reason in err. Cheap: for checking a delivered frame. */
int worm_render_png_info (const void *png, size_t size, uint32_t *w, uint32_t *h, char *err,
                          size_t cap);

#endif
