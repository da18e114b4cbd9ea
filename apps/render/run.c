/*  run.c — one render as its client sees it. See run.h. */
#include "run.h"
#include "writer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_BAR_EVERY_MS 250          //  a terminal's progress line is redrawn this often
#define S_LINE_EVERY_MS 5000        //  a plain progress line comes this often
#define S_NAMES_MAX 256             //  segments told apart in the counts; later ones are "others"
#define S_SHOWN_MAX 4               //  segments named on a progress line
#define S_NAME_MAX 48               //  bytes of a segment's name, NUL included

//  What is known of one frame once it came
typedef struct {
    bool came;                  //  it came (and was written, or waits to be)
    int segment;                //  who made it: an index into names
    double ms;                  //  work there, in all
    double render_ms, png_ms;   //  of which rendering and encoding (0: not said)
    double thumb_ms;            //  and making the thumbnail (0: none made, or not said)
    size_t bytes;               //  its PNG's size
    size_t thumb_bytes;         //  its thumbnail's, when one came with it
    double written_ms;          //  when it was written, since the start
} s_frame_t;

//  A segment that made frames
typedef struct {
    char name[S_NAME_MAX];      //  its id ("others" for those past S_NAMES_MAX)
    uint32_t frames;            //  how many it made
} s_maker_t;

struct _worm_render_run_t {
    worm_render_run_config_t config;    //  as given (strings the caller's)
    worm_render_writer_t *writer;       //  writes the frames in order
    s_frame_t *frames;                  //  by frame - first
    uint32_t total;                     //  frames of the run
    uint32_t came;                      //  frames that came
    s_maker_t makers[S_NAMES_MAX];      //  who made them
    int maker_count;                    //  entries used in makers
    size_t segments, reassigned;        //  the job's figures (worm_render_run_job)
    double start_ms;                    //  when the run began
    double shown_ms;                    //  when progress was last shown
    double write_ms;                    //  time spent writing frames, in all
    bool bar_drawn;                     //  a progress line is on the terminal's last line
    size_t overhead_frames;             //  frames the job layer's overhead was measured on
    uint64_t overhead_us[3];            //  its p50, p95, p99 (worm_render_run_overhead)
};

static double
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

worm_render_run_t *
worm_render_run_new (const worm_render_run_config_t *config)
{
    if (config->first > config->last || !worm_render_scene_name (config->scene) || !config->err
        || !config->out || !config->prog)
        return NULL;
    worm_render_run_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->total = config->last - config->first + 1;
    self->frames = calloc (self->total, sizeof *self->frames);
    self->writer = worm_render_writer_new (config->out, config->first, config->last, config->w,
                                           config->h);
    if (!self->frames || !self->writer) {
        worm_render_run_destroy (&self);
        return NULL;
    }
    self->start_ms = self->shown_ms = s_now_ms ();
    return self;
}

void
worm_render_run_destroy (worm_render_run_t **self_p)
{
    worm_render_run_t *self = *self_p;
    if (!self)
        return;
    worm_render_run_clear (self);
    worm_render_writer_destroy (&self->writer);
    free (self->frames);
    free (self);
    *self_p = NULL;
}

//  The index in makers of segment, added when new.
static int
s_maker (worm_render_run_t *self, const char *segment)
{
    for (int i = 0; i < self->maker_count; i++)
        if (strcmp (self->makers[i].name, segment) == 0)
            return i;
    if (self->maker_count == S_NAMES_MAX) {
        snprintf (self->makers[S_NAMES_MAX - 1].name, S_NAME_MAX, "others");
        return S_NAMES_MAX - 1;
    }
    snprintf (self->makers[self->maker_count].name, S_NAME_MAX, "%s", segment);
    return self->maker_count++;
}

void
worm_render_run_clear (worm_render_run_t *self)
{
    if (self->bar_drawn) {
        fputs ("\r\033[K", self->config.err);
        fflush (self->config.err);
        self->bar_drawn = false;
    }
}

void
worm_render_run_log (worm_render_run_t *self, const char *line)
{
    if (!self->config.verbose)
        return;
    worm_render_run_clear (self);
    fprintf (self->config.err, "%s: %s\n", self->config.prog, line);
    fflush (self->config.err);
}

int
worm_render_run_push (worm_render_run_t *self, uint32_t frame, const void *png, size_t size,
                      const void *thumb, size_t thumb_size, const char *segment,
                      uint64_t compute_us, const worm_render_times_t *times, char *err,
                      size_t cap)
{
    uint32_t before = worm_render_writer_written (self->writer);
    double t0 = s_now_ms ();
    int rc = worm_render_writer_push (self->writer, frame, png, size, thumb, thumb_size, err,
                                      cap);
    double now = s_now_ms ();
    self->write_ms += now - t0;
    if (rc != 0)
        return rc;
    s_frame_t *f = &self->frames[frame - self->config.first];
    *f = (s_frame_t) {.came = true, .segment = s_maker (self, segment), .ms = compute_us / 1e3,
                      .bytes = size, .thumb_bytes = thumb ? thumb_size : 0};
    if (times) {
        f->render_ms = times->render_us / 1e3;
        f->png_ms = times->png_us / 1e3;
        f->thumb_ms = times->thumb_us / 1e3;
    }
    self->makers[f->segment].frames++;
    self->came++;
    //  The frames this one let out, in order
    uint32_t after = worm_render_writer_written (self->writer);
    for (uint32_t k = before; k < after; k++) {
        s_frame_t *out = &self->frames[k];
        out->written_ms = now - self->start_ms;
        if (self->config.verbose) {
            char line[200];
            snprintf (line, sizeof line, "frame %u written (segment %s, %.1f ms)",
                      self->config.first + k, self->makers[out->segment].name, out->ms);
            worm_render_run_log (self, line);
        }
    }
    return 0;
}

bool
worm_render_run_wants_thumb (worm_render_run_t *self, uint32_t frame)
{
    return worm_render_writer_wants_thumb (self->writer, frame);
}

uint32_t
worm_render_run_written (worm_render_run_t *self)
{
    return worm_render_writer_written (self->writer);
}

void
worm_render_run_job (worm_render_run_t *self, size_t segments, size_t reassigned)
{
    self->segments = segments;
    self->reassigned = reassigned;
}

//  "host1-ab 6, host3-cd 5, +2 more": who made how many frames.
static void
s_makers (const worm_render_run_t *self, char *buf, size_t cap)
{
    buf[0] = 0;
    for (int i = 0; i < self->maker_count; i++) {
        size_t used = strlen (buf);
        if (i == S_SHOWN_MAX) {
            snprintf (buf + used, cap - used, ", +%d more", self->maker_count - i);
            break;
        }
        snprintf (buf + used, cap - used, "%s%s %u", i ? ", " : "", self->makers[i].name,
                  self->makers[i].frames);
    }
}

void
worm_render_run_progress (worm_render_run_t *self, bool force)
{
    if (self->config.quiet)
        return;
    double now = s_now_ms ();
    if (!force && now - self->shown_ms < (self->config.tty ? S_BAR_EVERY_MS : S_LINE_EVERY_MS))
        return;
    self->shown_ms = now;
    double seconds = (now - self->start_ms) / 1e3;
    double fps = seconds > 0 ? self->came / seconds : 0;
    char eta[32] = "?", makers[400], job[80] = "";
    if (fps > 0)
        snprintf (eta, sizeof eta, "%.0f s", (self->total - self->came) / fps);
    s_makers (self, makers, sizeof makers);
    if (self->config.worm)
        snprintf (job, sizeof job, ", %zu segment%s, %zu reassigned", self->segments,
                  self->segments == 1 ? "" : "s", self->reassigned);
    FILE *err = self->config.err;
    if (self->config.tty)
        fputs ("\r\033[K", err);
    fprintf (err, "%s: frames %u/%u, %.2f fps, ETA %s%s%s%s", self->config.prog, self->came,
             self->total, fps, eta, job, makers[0] ? "; by " : "", makers);
    if (self->config.tty)
        self->bar_drawn = true;
    else
        fputc ('\n', err);
    fflush (err);
}

//  A JSON string of text (quotes, backslashes and control bytes escaped).
static void
s_json_string (FILE *out, const char *text)
{
    fputc ('"', out);
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        if (*p == '"' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf (out, "\\u%04x", *p);
        else
            fputc (*p, out);
    fputc ('"', out);
}

static void
s_json (const worm_render_run_t *self, double total_ms)
{
    const worm_render_run_config_t *c = &self->config;
    printf ("{\"scene\":\"%s\",\"first\":%u,\"last\":%u,\"w\":%u,\"h\":%u,\"out\":",
            worm_render_scene_name (c->scene), c->first, c->last, c->w, c->h);
    s_json_string (stdout, c->out);
    printf (",\"worm\":");
    if (c->worm)
        s_json_string (stdout, c->worm);
    else
        printf ("null");
    printf (",\"preview\":");
    char preview[4200];
    snprintf (preview, sizeof preview, "%s/preview.png", c->out);
    s_json_string (stdout, preview);
    printf (",\"total_ms\":%.1f,\"fps\":%.3f,\"write_ms\":%.1f,\"reassigned\":%zu,\"segments\":[",
            total_ms, total_ms > 0 ? self->total / (total_ms / 1e3) : 0, self->write_ms,
            self->reassigned);
    for (int i = 0; i < self->maker_count; i++) {
        printf ("%s{\"segment\":", i ? "," : "");
        s_json_string (stdout, self->makers[i].name);
        printf (",\"frames\":%u}", self->makers[i].frames);
    }
    printf ("],\"overhead\":");
    if (self->overhead_frames)
        printf ("{\"frames\":%zu,\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f}",
                self->overhead_frames, self->overhead_us[0] / 1e3, self->overhead_us[1] / 1e3,
                self->overhead_us[2] / 1e3);
    else
        printf ("null");
    printf (",\"frames\":[");
    for (uint32_t i = 0; i < self->total; i++) {
        const s_frame_t *f = &self->frames[i];
        printf ("%s{\"frame\":%u,\"segment\":", i ? "," : "", c->first + i);
        s_json_string (stdout, self->makers[f->segment].name);
        printf (",\"ms\":%.2f,\"render_ms\":%.2f,\"png_ms\":%.2f,\"thumb_ms\":%.2f,"
                "\"bytes\":%zu,\"thumb_bytes\":%zu,\"written_ms\":%.1f}",
                f->ms, f->render_ms, f->png_ms, f->thumb_ms, f->bytes, f->thumb_bytes,
                f->written_ms);
    }
    printf ("]}\n");
    fflush (stdout);
}

void
worm_render_run_overhead (worm_render_run_t *self, size_t frames, const uint64_t pct[3])
{
    self->overhead_frames = frames;
    memcpy (self->overhead_us, pct, sizeof self->overhead_us);
}

int
worm_render_run_finish (worm_render_run_t *self, bool json, char *err, size_t cap)
{
    if (worm_render_writer_finish (self->writer, err, cap))
        return -1;
    double total_ms = s_now_ms () - self->start_ms;
    const worm_render_run_config_t *c = &self->config;
    worm_render_run_progress (self, true);
    if (!c->quiet) {
        worm_render_run_clear (self);
        fprintf (c->err, "%s: %u frame%s in %.1f s: %s/frame-%05u.png .. frame-%05u.png, "
                         "contact sheet %s/preview.png\n",
                 c->prog, self->total, self->total == 1 ? "" : "s", total_ms / 1e3, c->out,
                 c->first, c->last, c->out);
        fflush (c->err);
    }
    if (json)
        s_json (self, total_ms);
    return 0;
}

static uint64_t
s_us (double ms)
{
    return (uint64_t) (ms * 1e3 + 0.5);
}

int
worm_render_run_local (worm_render_run_t *self, const volatile int *stop, char *err, size_t cap)
{
    const worm_render_run_config_t *c = &self->config;
    uint8_t *rgb = malloc ((size_t) c->w * c->h * 3);
    if (!rgb) {
        snprintf (err, cap, "out of memory for a %ux%u frame", c->w, c->h);
        return -1;
    }
    int rc = 0;
    for (uint32_t k = c->first; k <= c->last; k++) {
        if (*stop) {
            if (k == c->first)
                snprintf (err, cap, "no frame written");
            else
                snprintf (err, cap, "frames %u..%u written, %u..%u not", c->first, k - 1, k,
                          c->last);
            rc = 1;
            break;
        }
        double t0 = s_now_ms ();
        worm_render_frame (c->scene, k, c->w, c->h, rgb);   //  cannot fail: checked by new
        double t1 = s_now_ms ();
        void *png, *thumb = NULL;
        size_t size, thumb_size = 0;
        if (worm_render_png (rgb, c->w, c->h, &png, &size)) {
            snprintf (err, cap, "frame %u: PNG encoding failed (out of memory)", k);
            rc = -1;
            break;
        }
        double t2 = s_now_ms ();
        //  The thumbnail as a segment makes it, so both do the same work
        bool wants = worm_render_run_wants_thumb (self, k);
        if (wants && worm_render_thumb_png (rgb, c->w, c->h, &thumb, &thumb_size)) {
            free (png);
            snprintf (err, cap, "frame %u: thumbnail encoding failed (out of memory)", k);
            rc = -1;
            break;
        }
        double t3 = s_now_ms ();
        worm_render_times_t times = {s_us (t1 - t0), s_us (t2 - t1), wants ? s_us (t3 - t2) : 0};
        rc = worm_render_run_push (self, k, png, size, thumb, thumb_size, WORM_RENDER_RUN_LOCAL,
                                   s_us (t3 - t0), &times, err, cap);
        free (thumb);
        free (png);
        if (rc != 0) {
            rc = -1;
            break;
        }
        worm_render_run_progress (self, false);
    }
    free (rgb);
    return rc;
}
