/*  writer.h — writes a render's frames into its folder, in order.

    The client side of a render (worm-render-local, later `wormctl render`)
    gets finished frames as PNG bytes in whatever order the segments finish
    them, and a viewer follows the folder: so DIR/frame-NNNNN.png (five
    digits, the frame number) is written only once every frame before it
    has been, each through a .part file renamed into place, so no reader
    ever sees half a frame. Frames that come early wait here in memory (the
    caller bounds how far ahead it lets units run). At the end,
    DIR/preview.png: a contact sheet of up to WORM_RENDER_SHEET_MAX
    thumbnails (render.h's worm_render_thumb), of frames evenly spread over
    the render, drawn as the frames are written: from the thumbnail that
    came with a frame (its segment made it from the pixels it had), else by
    decoding the frame's PNG, which costs the client more than writing it.
*/
#ifndef WORM_RENDER_WRITER_H_INCLUDED
#define WORM_RENDER_WRITER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_RENDER_SHEET_MAX 48        //  thumbnails on the contact sheet, at most
#define WORM_RENDER_SHEET_COLUMNS 8     //  thumbnails a row, at most

typedef struct _worm_render_writer_t worm_render_writer_t;

/*  A writer of frames first..last (first <= last <= WORM_RENDER_FRAME_MAX)
    of w x h pixels into dir, which must exist (args.h's
    worm_render_out_prepare makes it). Returns NULL when out of memory or
    the arguments are out of range. */
worm_render_writer_t *worm_render_writer_new (const char *dir, uint32_t first, uint32_t last,
                                              uint32_t w, uint32_t h);
/*  Frees the writer and the frames it holds; sets *self_p to NULL. */
void worm_render_writer_destroy (worm_render_writer_t **self_p);

/*  Takes frame `frame` as PNG bytes, with its thumbnail as a PNG of
    worm_render_thumb_size's size (thumb, or NULL: the writer makes it from
    the frame when the frame is on the sheet); the caller keeps both bytes:
    a frame that must wait is copied. Writes it at once when it is the next
    one, then every held frame that follows. Returns 0 when taken; 1 when
    that frame was taken before (ignored: a unit delivered twice); -1 with
    the reason in err when the frame is outside first..last or not a w x h
    8-bit RGB PNG (the writer goes on), or when writing failed, after which
    every call fails (the disk is full, say). A thumbnail that does not
    decode to its size is not an error: the frame's own is drawn instead. */
int worm_render_writer_push (worm_render_writer_t *self, uint32_t frame, const void *png,
                             size_t size, const void *thumb, size_t thumb_size, char *err,
                             size_t cap);

/*  Whether frame `frame` has a place on the contact sheet: its thumbnail
    is worth asking its segment for. */
bool worm_render_writer_wants_thumb (worm_render_writer_t *self, uint32_t frame);

/*  Frames written so far (they are first .. first + written - 1), and
    frames held waiting for an earlier one. */
uint32_t worm_render_writer_written (worm_render_writer_t *self);
uint32_t worm_render_writer_held (worm_render_writer_t *self);

/*  Writes DIR/preview.png once every frame is written. Returns 0, or -1
    with the reason in err (frames missing, or the write failed). */
int worm_render_writer_finish (worm_render_writer_t *self, char *err, size_t cap);

/*  Writes size bytes to path atomically: into path.part, renamed to path.
    Returns 0, or -1 with the reason in err (the .part file removed). */
int worm_render_write_file (const char *path, const void *data, size_t size, char *err,
                            size_t cap);

#endif
