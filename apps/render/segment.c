/*  segment.c — render's segment side: renders the frames (apps/render/unit.h)
    a `wormctl render` client leases to this segment through the job
    layer, on the segment's worker thread, and hands each back as a PNG
    (in parts when it is large: worm/joblimits.h). No state: a unit carries
    all it needs, and a frame is a pure function of it (render.h), so a
    reassigned frame is the same bytes wherever it runs. */
#include "app.h"
#include "render.h"
#include "unit.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Pixels rendered between two looks at the cancel flag: a few
//  milliseconds of the dearer scene (raytrace: about 1 us a pixel)
#define S_BAND_PIXELS 16384

static uint64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

//  One unit: decode it, render its frame band by band (stopping when it is
//  no longer wanted), encode the PNG, the thumbnail when asked, and the result.
static int
s_unit (void *state, worm_task_t *task)
{
    (void) state;
    if (strcmp (task->verb, WORM_RENDER_TASK) != 0) {
        snprintf (task->error, sizeof task->error, "render: no task '%s' (only '%s')", task->verb,
                  WORM_RENDER_TASK);
        return -1;
    }
    worm_render_unit_t unit;
    if (worm_render_unit_decode (task->body, task->size, &unit, task->error, sizeof task->error))
        return -1;
    uint8_t *rgb = malloc ((size_t) unit.w * unit.h * 3);
    if (!rgb) {
        snprintf (task->error, sizeof task->error, "render: no memory for a %ux%u frame", unit.w,
                  unit.h);
        return -1;
    }
    uint64_t t0 = s_now_us ();
    uint32_t rows = S_BAND_PIXELS / unit.w ? S_BAND_PIXELS / unit.w : 1;
    for (uint32_t y = 0; y < unit.h; y += rows) {
        if (atomic_load (task->cancel)) {
            free (rgb);
            return 1;
        }
        uint32_t end = unit.h - y < rows ? unit.h : y + rows;
        worm_render_rows (unit.scene, unit.frame, unit.w, unit.h, y, end, rgb);    //  checked
    }
    void *png = NULL, *thumb = NULL;
    size_t size = 0, thumb_size = 0;
    int rc = 0;
    uint64_t t1 = s_now_us ();
    worm_render_times_t times = {.render_us = t1 - t0};
    if (worm_render_png (rgb, unit.w, unit.h, &png, &size))
        rc = -1;
    uint64_t t2 = s_now_us ();
    times.png_us = t2 - t1;
    //  The thumbnail from the pixels here: the client would otherwise decode
    //  the whole frame to draw it
    if (rc == 0 && unit.thumb && worm_render_thumb_png (rgb, unit.w, unit.h, &thumb, &thumb_size))
        rc = -1;
    if (unit.thumb)
        times.thumb_us = s_now_us () - t2;
    if (rc == 0
        && worm_render_result_encode (png, size, thumb, thumb_size, &times, &task->result,
                                      &task->result_size))
        rc = -1;
    if (rc)
        snprintf (task->error, sizeof task->error, "render: out of memory for frame %u's PNG",
                  unit.frame);
    free (thumb);
    free (png);
    free (rgb);
    return rc;
}

const worm_app_t worm_app_render = {
    .name = "render",
    .summary = "an animation server: frames rendered in the segments for `wormctl render`",
    .create = worm_app_no_state_create,
    .unit = s_unit,
    .destroy = worm_app_no_state_destroy,
};
