/*  client.c — `wormctl render`: an animation rendered by a render worm.

    The display of the Xerox worm's animation server, with no frame lost:
    frames A..B become job units (unit.h) leased to the worm's segments
    through the job layer (worm/jobclient.h), which gives back the frames of
    a segment that dies, is evicted or leaves, and drops late duplicates;
    each frame comes straight from its segment (in parts when large, never
    through the token) and goes to the run (run.h), which writes the
    frames in order, shows progress and writes the contact sheet. With
    --local the frames are rendered here instead, for comparison: the same
    bytes. Registered in apps/list.h.
*/
#include "args.h"
#include "client.h"
#include "jobclient.h"
#include "joblimits.h"
#include "run.h"
#include "token.h"
#include "unit.h"
#include "worms.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_WAIT_MS 250           //  progress is looked at at least this often
//  How far ahead of the last frame written frames are queued: as many as
//  S_AHEAD_BYTES of raw pixels (the PNGs that wait for an earlier frame
//  are smaller), so that the other segments go on while a lost frame waits
//  to be noticed (up to a lease), and at least enough for each segment to
//  hold its WORM_JOB_SLOTS with as many queued behind
#define S_AHEAD_BYTES ((size_t) 256 << 20)
#define S_AHEAD_PER_SEGMENT (2 * WORM_JOB_SLOTS)
#define S_AHEAD_MIN 4

typedef struct {
    const char *worm;           //  --worm
    const char *scene;          //  --scene, as given
    const char *frames;         //  --frames
    const char *size;           //  --size
    const char *out;            //  --out
    bool local;                 //  --local
    bool json;                  //  --json
    bool quiet;                 //  --quiet
    bool verbose;               //  --verbose
    int wait_ms;            //  --wait
    bool help;                  //  --help
} s_render_t;

static int
s_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_render_t *self = arg;
    if (strcmp (name, "worm") == 0) {
        if (!value[0] || strlen (value) >= WORM_TOKEN_NAME_MAX) {
            snprintf (err, cap, "a worm name of 1 to %d bytes", WORM_TOKEN_NAME_MAX - 1);
            return -1;
        }
        self->worm = value;
    }
    else if (strcmp (name, "scene") == 0)
        self->scene = value;
    else if (strcmp (name, "frames") == 0)
        self->frames = value;
    else if (strcmp (name, "size") == 0)
        self->size = value;
    else if (strcmp (name, "out") == 0)
        self->out = value;
    else if (strcmp (name, "local") == 0)
        self->local = true;
    else if (strcmp (name, "json") == 0)
        self->json = true;
    else if (strcmp (name, "quiet") == 0)
        self->quiet = true;
    else if (strcmp (name, "verbose") == 0)
        self->verbose = true;
    else if (strcmp (name, "wait") == 0)
        return wormctl_job_wait_parse (value, &self->wait_ms, err, cap);
    else if (strcmp (name, "help") == 0)
        self->help = true;
    return 0;
}

//  The job's log, into the run's (shown with --verbose).
static void
s_log (void *arg, const char *line)
{
    worm_render_run_log (arg, line);
}

//  Renders the run's frames in the worm whose segments are endpoints (key
//  its key). Returns the exit status: 0 when every frame is written, 1
//  after saying why the job cannot go on, 130 when interrupted.
static int
s_remote (wormctl_client_t *client, const s_render_t *opt, worm_render_run_t *run,
          const worm_render_unit_t *shape, uint32_t first, uint32_t last,
          const char *const *endpoints, const char *key)
{
    char err[512];
    wormctl_refind_t refind = {.client = client, .worm = opt->worm};
    worm_jobclient_config_t config = {.worm = opt->worm, .app = "render", .worm_key = key,
                                      .task = WORM_RENDER_TASK, .endpoints = endpoints,
                                      .on_log = s_log, .arg = run, .refind = wormctl_refind,
                                      .refind_arg = &refind};
    worm_jobclient_t *job = worm_jobclient_new (&config, err, sizeof err);
    if (!job) {
        fprintf (stderr, "wormctl render: %s\n", err);
        return 1;
    }
    uint32_t total = last - first + 1, added = 0;
    size_t by_bytes = S_AHEAD_BYTES / ((size_t) shape->w * shape->h * 3);
    int status = -1;
    while (status < 0) {
        //  Frames join the queue in order, as far ahead of the writer as the
        //  segments need to keep busy
        size_t segments = worm_jobclient_segments (job);
        size_t ahead = S_AHEAD_PER_SEGMENT * segments;
        if (ahead < by_bytes)
            ahead = by_bytes;
        if (ahead < S_AHEAD_MIN)
            ahead = S_AHEAD_MIN;
        while (added < total && added - worm_render_run_written (run) < ahead) {
            worm_render_unit_t unit = *shape;
            unit.frame = first + added;
            unit.thumb = worm_render_run_wants_thumb (run, unit.frame);
            void *body;
            size_t size;
            if (worm_render_unit_encode (&unit, &body, &size)
                || !worm_jobclient_add (job, unit.frame, body, size)) {
                fprintf (stderr, "wormctl render: out of memory for frame %u\n", unit.frame);
                status = 1;
                break;
            }
            free (body);
            added++;
        }
        if (status >= 0)
            break;
        worm_jobq_counts_t counts = worm_jobclient_counts (job);
        worm_render_run_job (run, segments, counts.reassigned);
        worm_job_event_t event;
        worm_jobclient_wait (job, S_WAIT_MS, &event);
        switch (event.kind) {
        case WORM_JOB_RESULT: {
            worm_render_unit_t unit = *shape;
            unit.frame = (uint32_t) event.group;
            unit.thumb = worm_render_run_wants_thumb (run, unit.frame);
            void *png = NULL, *thumb = NULL;
            size_t size = 0, thumb_size = 0;
            worm_render_times_t times;
            char why[300];
            if (worm_render_result_decode (event.data, event.size, &unit, &png, &size, &thumb,
                                           &thumb_size, &times, why, sizeof why)) {
                worm_render_run_clear (run);
                fprintf (stderr, "wormctl render: segment %s sent a bad frame %u: %s\n",
                         event.segment, unit.frame, why);
                status = 1;
            }
            else if (worm_render_run_push (run, unit.frame, png, size, thumb, thumb_size,
                                           event.segment, event.compute_us, &times, why,
                                           sizeof why) < 0) {
                worm_render_run_clear (run);
                fprintf (stderr, "wormctl render: frame %u: %s\n", unit.frame, why);
                status = 1;
            }
            else if (worm_render_run_written (run) == total)
                status = 0;
            free (thumb);
            free (png);
            free (event.data);
            break;
        }
        case WORM_JOB_FAILED:
            worm_render_run_clear (run);
            fprintf (stderr, "wormctl render: segment %s refused frame %" PRIu64 ": %s\n",
                     event.segment, event.group, event.error);
            status = 1;
            break;
        case WORM_JOB_IDLE:
            if (added == total) {       //  every frame came, yet not every one was written
                worm_render_run_clear (run);
                fprintf (stderr, "wormctl render: the job ended with frame %u missing\n",
                         first + worm_render_run_written (run));
                status = 1;
            }
            break;
        case WORM_JOB_TIMEOUT:
            break;
        case WORM_JOB_STOPPED:
            worm_render_run_clear (run);
            fprintf (stderr, "wormctl render: %s\n", event.error);
            status = 1;
            break;
        case WORM_JOB_INTERRUPTED: {
            worm_render_run_clear (run);
            uint32_t written = worm_render_run_written (run);
            if (written)
                wormctl_say_interrupted (client, "frames %u..%u written; the worm's segments "
                                                 "were told to drop the job's units",
                                         first, first + written - 1);
            else
                wormctl_say_interrupted (client, "no frame written; the worm's segments were "
                                                 "told to drop the job's units");
            status = 130;
            break;
        }
        }
        worm_render_run_progress (run, false);
    }
    worm_render_run_job (run, worm_jobclient_segments (job),
                         worm_jobclient_counts (job).reassigned);
    uint64_t pct[3];
    size_t measured = worm_jobclient_overhead (job, pct);
    worm_render_run_overhead (run, measured, pct);
    worm_jobclient_log_overhead (job, "frame");
    worm_jobclient_destroy (&job);
    return status;
}

//  wormctl render: see the usage below.
static int
s_cmd_render (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"worm", "NAME", "the render worm to work in (default render)"},
        {"scene", "SCENE", "mandelbrot (a zoom) or raytrace (spheres moving over a plane)"},
        {"frames", "A..B",
         "the frame numbers, 0 <= A <= B <= " WORMCTL_STR (WORM_RENDER_FRAME_MAX)
         " (or one number A)"},
        {"size", "WxH",
         "pixels: each side 1 to " WORMCTL_STR (WORM_RENDER_SIDE_MAX) ", at most 4096x4096 in all"},
        {"out", "DIR", "the folder to write the frames to; made when missing"},
        {"local", NULL, "render here, on one core, for comparison: the same bytes"},
        {"json", NULL, "print a summary on stdout: each frame's segment and milliseconds"},
        {"quiet", NULL, "no progress on stderr"},
        {"verbose", NULL,
         "a line on stderr for each frame written, and the job's log (frames given back, "
         "segments gone, the overhead per frame)"},
        WORMCTL_JOB_WAIT_OPTION,
        {"help", NULL, "show this help"},
        {NULL, NULL, NULL}};
    static const char usage[] =
        "Usage: wormctl [GLOBAL] render [--worm NAME] --scene SCENE --frames A..B --size WxH\n"
        "                              --out DIR [--local] [--json] [--quiet] [--verbose]\n"
        "Renders frames A..B of SCENE in a render worm (wormctl launch render --app render\n"
        "--size N) and writes DIR/frame-NNNNN.png (8-bit RGB) in order as they come (frame k\n"
        "only after A..k-1), then DIR/preview.png, a contact sheet. Each segment renders a\n"
        "frame at a time and sends it straight here; the frames of a segment that dies or\n"
        "is evicted are rendered again elsewhere. The same arguments give the same bytes,\n"
        "distributed or --local. Progress on stderr: frames done, frames per second, ETA,\n"
        "how many each segment rendered. Exit status: 0 done, 1 the worm could not render\n"
        "them (no such worm, another app, no segment left) or writing failed, 2 bad\n"
        "arguments (nothing written), 130/143 interrupted.\n";
    s_render_t opt = {.worm = "render", .wait_ms = WORMCTL_JOB_WAIT_S * 1000};
    int index = 0;
    char why[600];
    if (worm_opts_parse (options, argc, argv, &index, s_option, &opt, why, sizeof why))
        return wormctl_usage_error (client, "%s (see wormctl render --help)", why);
    if (opt.help || client->help) {
        wormctl_help (client, usage, options);
        return 0;
    }
    if (index < argc)
        return wormctl_usage_error (client, "unexpected argument '%s' (see wormctl render --help)",
                                    argv[index]);
    const char *missing = !opt.scene ? "--scene" : !opt.frames ? "--frames"
                          : !opt.size ? "--size" : !opt.out ? "--out" : NULL;
    if (missing)
        return wormctl_usage_error (client, "%s is missing (see wormctl render --help)", missing);
    worm_render_unit_t shape = {0};
    uint32_t first, last;
    if (worm_render_parse_scene (opt.scene, &shape.scene, why, sizeof why)
        || worm_render_parse_frames (opt.frames, &first, &last, why, sizeof why)
        || worm_render_parse_size (opt.size, &shape.w, &shape.h, why, sizeof why))
        return wormctl_usage_error (client, "%s", why);

    //  The worm first, so that a render with nowhere to run writes nothing
    wormctl_segments_t *found = NULL;
    const char *endpoints[WORM_JOBCLIENT_MAX_SEGMENTS + 1];
    char key[WORM_TOKEN_KEY_MAX] = "";
    if (!opt.local) {
        int rc = wormctl_ready (client);
        if (rc >= 0)
            return rc;
        found = calloc (1, sizeof *found);
        if (!found) {
            fprintf (stderr, "wormctl render: out of memory\n");
            return 1;
        }
        if (wormctl_job_segments (client, opt.worm, "render", opt.wait_ms, opt.quiet, found, endpoints,
                                  WORM_JOBCLIENT_MAX_SEGMENTS + 1, key, sizeof key)) {
            free (found);
            return 1;
        }
    }
    if (worm_render_out_prepare (opt.out, why, sizeof why)) {
        free (found);
        return wormctl_usage_error (client, "%s", why);
    }
    worm_render_run_config_t config = {
        .prog = "wormctl render", .out = opt.out, .scene = shape.scene, .first = first,
        .last = last, .w = shape.w, .h = shape.h, .worm = opt.local ? NULL : opt.worm,
        .quiet = opt.quiet, .verbose = opt.verbose, .tty = isatty (STDERR_FILENO) == 1,
        .err = stderr};
    worm_render_run_t *run = worm_render_run_new (&config);
    if (!run) {
        fprintf (stderr, "wormctl render: out of memory for %u frames\n", last - first + 1);
        free (found);
        return 1;
    }
    int status;
    if (opt.local) {
        int rc = worm_render_run_local (run, &zsys_interrupted, why, sizeof why);
        worm_render_run_clear (run);
        if (rc == 1)
            wormctl_say_interrupted (client, "%s", why);
        else if (rc < 0)
            fprintf (stderr, "wormctl render: %s\n", why);
        status = rc == 0 ? 0 : rc == 1 ? 130 : 1;
    }
    else
        status = s_remote (client, &opt, run, &shape, first, last, endpoints, key);
    free (found);
    if (status == 0 && worm_render_run_finish (run, opt.json, why, sizeof why)) {
        fprintf (stderr, "wormctl render: %s\n", why);
        status = 1;
    }
    worm_render_run_destroy (&run);
    return status;
}

const wormctl_command_t wormctl_app_render_commands[] = {
    {"render", "--scene S --frames A..B --size WxH --out DIR",
     "render an animation's frames in a worm, written in order",
     WORMCTL_SEARCH_TIMEOUT, true, s_cmd_render},
    {NULL, NULL, NULL, NULL, false, NULL}};
