/*  args.h — the checks of a render's command line, shared by its commands.

    worm-render-local and (later) `wormctl render` take the same --scene,
    --frames A..B, --size WxH and --out DIR; these turn the text into values
    or say in one line what is wrong ("--size '0x0': width 0 is out of 1 to
    8192"). Nothing here writes anything but worm_render_out_prepare, which
    the command calls last, once every other option is known to be good, so
    a bad command line leaves nothing behind.
*/
#ifndef WORM_RENDER_ARGS_H_INCLUDED
#define WORM_RENDER_ARGS_H_INCLUDED

#include "render.h"

#include <stddef.h>
#include <stdint.h>

/*  Each returns 0 with the values set, or -1 with the reason in err (which
    names the option and quotes the text). */
int worm_render_parse_scene (const char *text, worm_render_scene_t *scene, char *err, size_t cap);
/*  A..B: 0 <= A <= B <= WORM_RENDER_FRAME_MAX, decimal; "A" alone is A..A. */
int worm_render_parse_frames (const char *text, uint32_t *first, uint32_t *last, char *err,
                              size_t cap);
/*  WxH: each 1..WORM_RENDER_SIDE_MAX, and W*H at most WORM_RENDER_PIXELS_MAX. */
int worm_render_parse_size (const char *text, uint32_t *w, uint32_t *h, char *err, size_t cap);

/*  Makes dir (and its missing parents) when missing, and checks that a file
    can be made in it, by making one and removing it. On failure removes
    the folders it made, so nothing is left, and returns -1 with the
    reason in err ("--out '/etc/passwd/x': /etc/passwd is not a folder"). */
int worm_render_out_prepare (const char *dir, char *err, size_t cap);

#endif
