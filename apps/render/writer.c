/*  writer.c — writes a render's frames into its folder, in order. See writer.h. */
#include "writer.h"
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_GAP 4                 //  pixels around and between thumbnails
#define S_BACKGROUND 32         //  the sheet's grey between thumbnails

typedef struct {
    void *png;                  //  a copy of the frame's bytes, or NULL when not here
    size_t size;
    void *thumb;                //  a copy of its thumbnail's PNG, or NULL
    size_t thumb_size;
} s_held_t;

struct _worm_render_writer_t {
    char *dir;                  //  the folder written into
    uint32_t first, last;       //  the frames of the render
    uint32_t w, h;              //  their size
    uint32_t next;              //  the next frame to write
    uint32_t held_count;        //  frames in held[]
    s_held_t *held;             //  by frame - first: frames that came early
    bool failed;                //  a write failed: refuse everything from now on
    uint32_t thumbs;            //  thumbnails on the sheet
    uint32_t tw, th;            //  a thumbnail's size
    uint32_t columns, sheet_w, sheet_h;
    uint8_t *sheet;             //  the contact sheet's pixels, filled as frames are written
};

worm_render_writer_t *
worm_render_writer_new (const char *dir, uint32_t first, uint32_t last, uint32_t w, uint32_t h)
{
    if (first > last || last > WORM_RENDER_FRAME_MAX || w == 0 || h == 0
        || w > WORM_RENDER_SIDE_MAX || h > WORM_RENDER_SIDE_MAX
        || (uint64_t) w * h > WORM_RENDER_PIXELS_MAX)
        return NULL;
    worm_render_writer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup (dir);
    self->first = first;
    self->last = last;
    self->next = first;
    self->w = w;
    self->h = h;
    self->held = calloc ((size_t) last - first + 1, sizeof *self->held);
    uint32_t count = last - first + 1;
    self->thumbs = count < WORM_RENDER_SHEET_MAX ? count : WORM_RENDER_SHEET_MAX;
    worm_render_thumb_size (w, h, &self->tw, &self->th);
    self->columns = self->thumbs < WORM_RENDER_SHEET_COLUMNS ? self->thumbs
                                                             : WORM_RENDER_SHEET_COLUMNS;
    uint32_t rows = (self->thumbs + self->columns - 1) / self->columns;
    self->sheet_w = self->columns * (self->tw + S_GAP) + S_GAP;
    self->sheet_h = rows * (self->th + S_GAP) + S_GAP;
    size_t bytes = (size_t) self->sheet_w * self->sheet_h * 3;
    self->sheet = malloc (bytes);
    if (!self->dir || !self->held || !self->sheet) {
        worm_render_writer_destroy (&self);
        return NULL;
    }
    memset (self->sheet, S_BACKGROUND, bytes);
    return self;
}

void
worm_render_writer_destroy (worm_render_writer_t **self_p)
{
    worm_render_writer_t *self = *self_p;
    if (!self)
        return;
    if (self->held)
        for (uint32_t i = 0; i <= self->last - self->first; i++) {
            free (self->held[i].png);
            free (self->held[i].thumb);
        }
    free (self->held);
    free (self->sheet);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

int
worm_render_write_file (const char *path, const void *data, size_t size, char *err, size_t cap)
{
    char part[4096];
    if (snprintf (part, sizeof part, "%s.part", path) >= (int) sizeof part) {
        snprintf (err, cap, "%s: path too long", path);
        return -1;
    }
    int fd = open (part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf (err, cap, "%s: %s", part, strerror (errno));
        return -1;
    }
    const char *at = data;
    size_t left = size;
    while (left > 0) {
        ssize_t n = write (fd, at, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf (err, cap, "%s: %s", part, n < 0 ? strerror (errno) : "short write");
            close (fd);
            unlink (part);
            return -1;
        }
        at += n;
        left -= (size_t) n;
    }
    if (close (fd) != 0 || rename (part, path) != 0) {
        snprintf (err, cap, "%s: %s", path, strerror (errno));
        unlink (part);
        return -1;
    }
    return 0;
}

//  The sheet's place of frame, or -1 when it has none: thumbnail i shows
//  frame first + i * (count - 1) / (thumbs - 1), so the first and the last
//  frames are on it and the rest evenly between.
static int
s_thumb_of (worm_render_writer_t *self, uint32_t frame)
{
    uint64_t span = self->last - self->first;
    uint64_t offset = frame - self->first;
    if (self->thumbs == 1)
        return offset == 0 ? 0 : -1;
    //  the smallest i whose frame is >= frame, then check it is frame
    uint64_t i = (offset * (self->thumbs - 1) + span - 1) / (span ? span : 1);
    if (i < self->thumbs && i * span / (self->thumbs - 1) == offset)
        return (int) i;
    return -1;
}

//  Copies a thumbnail (tw x th pixels) into place i on the sheet.
static void
s_thumb_place (worm_render_writer_t *self, int i, const uint8_t *thumb)
{
    uint32_t left = S_GAP + (i % self->columns) * (self->tw + S_GAP);
    uint32_t top = S_GAP + (i / self->columns) * (self->th + S_GAP);
    for (uint32_t ty = 0; ty < self->th; ty++)
        memcpy (self->sheet + ((size_t) (top + ty) * self->sheet_w + left) * 3,
                thumb + (size_t) ty * self->tw * 3, (size_t) self->tw * 3);
}

//  Draws frame's thumbnail into place i: the one that came with it when it
//  decodes to the right size, else one made from the frame's PNG. A frame
//  whose header was right but whose data is not leaves its place grey: the
//  frame file is what it was sent as.
static void
s_thumb_draw (worm_render_writer_t *self, int i, const void *png, size_t size,
              const void *thumb, size_t thumb_size)
{
    uint8_t *rgb;
    uint32_t w, h;
    char why[300];
    if (thumb && worm_render_png_decode (thumb, thumb_size, &rgb, &w, &h, why, sizeof why) == 0) {
        if (w == self->tw && h == self->th) {
            s_thumb_place (self, i, rgb);
            free (rgb);
            return;
        }
        free (rgb);
    }
    if (worm_render_png_decode (png, size, &rgb, &w, &h, why, sizeof why) != 0)
        return;
    uint8_t *small = malloc ((size_t) self->tw * self->th * 3);
    if (small && w == self->w && h == self->h) {
        worm_render_thumb (rgb, w, h, small);
        s_thumb_place (self, i, small);
    }
    free (small);
    free (rgb);
}

//  Writes frame `frame` (the next one) to its file and onto the sheet.
static int
s_write_frame (worm_render_writer_t *self, uint32_t frame, const void *png, size_t size,
               const void *thumb, size_t thumb_size, char *err, size_t cap)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/frame-%05u.png", self->dir, frame);
    char why[300];
    if (worm_render_write_file (path, png, size, why, sizeof why)) {
        snprintf (err, cap, "cannot write frame %u: %s", frame, why);
        self->failed = true;
        return -1;
    }
    int i = s_thumb_of (self, frame);
    if (i >= 0)
        s_thumb_draw (self, i, png, size, thumb, thumb_size);
    self->next = frame + 1;
    return 0;
}

bool
worm_render_writer_wants_thumb (worm_render_writer_t *self, uint32_t frame)
{
    return frame >= self->first && frame <= self->last && s_thumb_of (self, frame) >= 0;
}

int
worm_render_writer_push (worm_render_writer_t *self, uint32_t frame, const void *png,
                         size_t size, const void *thumb, size_t thumb_size, char *err,
                         size_t cap)
{
    if (self->failed) {
        snprintf (err, cap, "the writer has failed before");
        return -1;
    }
    if (frame < self->first || frame > self->last) {
        snprintf (err, cap, "frame %u: not in %u..%u", frame, self->first, self->last);
        return -1;
    }
    s_held_t *slot = &self->held[frame - self->first];
    if (frame < self->next || slot->png)
        return 1;
    uint32_t w, h;
    char why[200];
    if (worm_render_png_info (png, size, &w, &h, why, sizeof why)) {
        snprintf (err, cap, "frame %u: %s", frame, why);
        return -1;
    }
    if (w != self->w || h != self->h) {
        snprintf (err, cap, "frame %u: %ux%u, want %ux%u", frame, w, h, self->w, self->h);
        return -1;
    }
    if (frame != self->next) {
        slot->png = malloc (size);
        if (!slot->png) {
            snprintf (err, cap, "frame %u: out of memory", frame);
            return -1;
        }
        memcpy (slot->png, png, size);
        slot->size = size;
        if (thumb && (slot->thumb = malloc (thumb_size))) {
            memcpy (slot->thumb, thumb, thumb_size);
            slot->thumb_size = thumb_size;
        }                       //  without memory for it, the frame's own is drawn
        self->held_count++;
        return 0;
    }
    if (s_write_frame (self, frame, png, size, thumb, thumb_size, err, cap))
        return -1;
    while (self->next <= self->last && self->held[self->next - self->first].png) {
        s_held_t *ready = &self->held[self->next - self->first];
        int rc = s_write_frame (self, self->next, ready->png, ready->size, ready->thumb,
                                ready->thumb_size, err, cap);
        free (ready->png);
        free (ready->thumb);
        ready->png = ready->thumb = NULL;
        self->held_count--;
        if (rc)
            return -1;
    }
    return 0;
}

uint32_t
worm_render_writer_written (worm_render_writer_t *self)
{
    return self->next - self->first;
}

uint32_t
worm_render_writer_held (worm_render_writer_t *self)
{
    return self->held_count;
}

int
worm_render_writer_finish (worm_render_writer_t *self, char *err, size_t cap)
{
    if (self->failed) {
        snprintf (err, cap, "the writer has failed before");
        return -1;
    }
    if (self->next <= self->last) {
        snprintf (err, cap, "frame %u is missing: cannot finish the preview", self->next);
        return -1;
    }
    void *png;
    size_t size;
    if (worm_render_png (self->sheet, self->sheet_w, self->sheet_h, &png, &size)) {
        snprintf (err, cap, "preview: out of memory");
        return -1;
    }
    char path[4096], why[300];
    snprintf (path, sizeof path, "%s/preview.png", self->dir);
    int rc = worm_render_write_file (path, png, size, why, sizeof why);
    free (png);
    if (rc)
        snprintf (err, cap, "cannot write the preview: %s", why);
    return rc;
}
