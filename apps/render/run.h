/*  run.h — one render as its client sees it: frames in, files out, and
    what is shown of it.

    `wormctl render` (client.c) gets the frames of a render from the worm's
    segments through the job layer, in whatever order they finish;
    `wormctl render --local` and worm-render-local render them here, one
    after the other (worm_render_run_local). Either way each frame goes to
    a run, which writes it through the in-order writer (writer.h: frame k
    only after A..k-1), keeps who made it and how long it took, shows
    progress on stderr (frames done of all, frames a second, ETA, how many
    each segment made: a line redrawn in place on a terminal, a plain line
    every few seconds otherwise), with verbose a line for each frame
    written and the job's log, and at the end writes DIR/preview.png, says
    where the frames are and, asked for, prints a JSON summary with every
    frame's segment and milliseconds.
*/
#ifndef WORM_RENDER_RUN_H_INCLUDED
#define WORM_RENDER_RUN_H_INCLUDED

#include "render.h"
#include "unit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WORM_RENDER_RUN_LOCAL "local"       //  the segment name of a frame rendered here

typedef struct {
    const char *prog;           //  what starts each line: "wormctl render"
    const char *out;            //  the folder, which exists (worm_render_out_prepare)
    worm_render_scene_t scene;  //  the scene
    uint32_t first, last;       //  the frames, first <= last
    uint32_t w, h;              //  their size, within render.h's limits
    const char *worm;           //  the worm rendering them, NULL: here
    bool quiet;                 //  no progress
    bool verbose;               //  a line a frame written, and the job's log
    bool tty;                   //  err is a terminal: progress redrawn in place
    FILE *err;                  //  where progress and the log go
} worm_render_run_config_t;

typedef struct _worm_render_run_t worm_render_run_t;

/*  A run of config (its strings are the caller's and must outlive it).
    NULL when out of memory or config is out of range. */
worm_render_run_t *worm_render_run_new (const worm_render_run_config_t *config);
/*  Frees the run and the frames it holds; sets *self_p to NULL. */
void worm_render_run_destroy (worm_render_run_t **self_p);

/*  Frame `frame` came as PNG bytes (the caller keeps them), with its
    thumbnail as a PNG (thumb, or NULL: made from the frame if needed; see
    worm_render_writer_push), from segment (its id, or
    WORM_RENDER_RUN_LOCAL), after compute_us of work there, of which times
    says what went to render, to encode and to the thumbnail (NULL:
    unknown). Writes it, at once when it is the next one, then every frame
    after it that waited. Returns 0 when taken, 1 when that frame came
    before (the repeat is dropped), -1 with the reason in err when it is
    not a frame of the run or not a w x h 8-bit RGB PNG (the run goes on),
    or when writing failed (the disk is full, say; every later push fails
    too). */
int worm_render_run_push (worm_render_run_t *self, uint32_t frame, const void *png, size_t size,
                          const void *thumb, size_t thumb_size, const char *segment,
                          uint64_t compute_us, const worm_render_times_t *times, char *err,
                          size_t cap);

/*  Whether frame `frame` is on the contact sheet: its unit asks its
    segment for the thumbnail. */
bool worm_render_run_wants_thumb (worm_render_run_t *self, uint32_t frame);

/*  Frames written so far: first .. first + written - 1. */
uint32_t worm_render_run_written (worm_render_run_t *self);

/*  The job's figures for progress: segments taking frames now, and leases
    given to frames that were leased before (their segment died, was
    evicted or left). */
void worm_render_run_job (worm_render_run_t *self, size_t segments, size_t reassigned);

/*  What the job layer cost a frame beyond its compute and its wait at the
    segment (worm_jobclient_overhead): frames measured, and the 50th, 95th
    and 99th percentiles in microseconds. Goes into the JSON summary. */
void worm_render_run_overhead (worm_render_run_t *self, size_t frames, const uint64_t pct[3]);

/*  Shows progress when it is time to (force: now). */
void worm_render_run_progress (worm_render_run_t *self, bool force);

/*  A line of the job's log ("segment S is gone: 2 units back to the
    queue"), shown when verbose. */
void worm_render_run_log (worm_render_run_t *self, const char *line);

/*  Takes a progress line redrawn in place off the terminal, so that
    another line can follow. */
void worm_render_run_clear (worm_render_run_t *self);

/*  Once every frame is written: writes DIR/preview.png and the last
    progress line (where the frames and the preview are), and with json the
    summary on stdout. Returns 0, or -1 with the reason in err. */
int worm_render_run_finish (worm_render_run_t *self, bool json, char *err, size_t cap);

/*  Renders every frame of the run here, one after the other, pushing each,
    with progress. Looks at *stop between frames. Returns 0 when every frame
    is written, 1 when *stop turned true first (err says which frames are
    written), -1 with the reason in err when encoding or writing failed. */
int worm_render_run_local (worm_render_run_t *self, const volatile int *stop, char *err,
                           size_t cap);

#endif
