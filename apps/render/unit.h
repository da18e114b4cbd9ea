/*  unit.h — a render work unit and its result on the wire.

    What a `wormctl render` client will lease to a segment through the job
    layer (issue 13; docs/PROTOCOL.md, "Jobs"): the body of a job.run of
    task WORM_RENDER_TASK is one msgpack map {scene: string, frame: uint,
    w: uint, h: uint, thumb: bool}, one frame (thumb, optional and sent
    only when true: the frame is on the client's contact sheet); its
    result {png: bin, thumb: bin, render_us: uint, png_us: uint,
    thumb_us: uint}, the frame as worm_render_png encodes it, its
    thumbnail as worm_render_thumb_png encodes it (only when asked), and
    how long the segment took to render it, to encode it and to make the
    thumbnail (the times are optional: absent, they read as 0). The
    decoders treat the bytes as hostile: every field is checked and a bad
    one named, nothing asserted. Like apps/factor/unit.c, through
    token/wire.h (worm_token).
*/
#ifndef WORM_RENDER_UNIT_H_INCLUDED
#define WORM_RENDER_UNIT_H_INCLUDED

#include "render.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_RENDER_TASK "frame"                    //  the task name of a unit
//  A result's PNG, at most: the raw pixels of the largest frame and room
//  for PNG's framing (deflate can grow data that does not compress a little)
#define WORM_RENDER_PNG_MAX ((size_t) WORM_RENDER_PIXELS_MAX * 3 + (1u << 20))
//  A result's thumbnail, at most: its raw pixels and the same room
#define WORM_RENDER_THUMB_PNG_MAX \
    ((size_t) WORM_RENDER_THUMB_SIDE * WORM_RENDER_THUMB_SIDE * 3 + (1u << 20))

typedef struct {
    worm_render_scene_t scene;
    uint32_t frame;             //  0..WORM_RENDER_FRAME_MAX
    uint32_t w, h;              //  within render.h's limits
    bool thumb;                 //  send the frame's thumbnail with it
} worm_render_unit_t;

/*  Encodes unit into *data (malloc'd, the caller frees) of *size bytes.
    Returns 0, or -1 when out of memory or unit is out of range. */
int worm_render_unit_encode (const worm_render_unit_t *unit, void **data, size_t *size);

/*  Decodes a unit's body. Returns 0, or -1 with the reason in err
    ("unit: field 'w': 0 is out of [1, 8192]"). */
int worm_render_unit_decode (const void *data, size_t size, worm_render_unit_t *unit, char *err,
                             size_t cap);

//  How long a frame took where it was made
typedef struct {
    uint64_t render_us;         //  computing its pixels
    uint64_t png_us;            //  encoding them
    uint64_t thumb_us;          //  making and encoding the thumbnail (0: none made)
} worm_render_times_t;

/*  Encodes a result: the frame's PNG bytes, its thumbnail's (thumb NULL:
    none), and times (NULL: none). */
int worm_render_result_encode (const void *png, size_t png_size, const void *thumb,
                               size_t thumb_size, const worm_render_times_t *times, void **data,
                               size_t *size);

/*  Decodes the result of unit: *png (malloc'd copy, the caller frees) of
    *png_size bytes, which must be a PNG of the unit's w x h (its header is
    checked, not its pixels); *thumb (malloc'd copy, or NULL when the
    result has none) of *thumb_size bytes, which must be a PNG of the
    unit's thumbnail size (worm_render_thumb_size); and the times into
    *times (when not NULL). Returns 0, or -1 with the reason in err (and
    nothing to free). */
int worm_render_result_decode (const void *data, size_t size, const worm_render_unit_t *unit,
                               void **png, size_t *png_size, void **thumb, size_t *thumb_size,
                               worm_render_times_t *times, char *err, size_t cap);

#endif
