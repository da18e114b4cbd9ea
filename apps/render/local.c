/*  local.c — worm-render-local: a render on one core, in order.

    What `wormctl render --local` will be, and what the distributed render
    is compared with byte for byte: frames A..B of a scene rendered here,
    encoded, and handed to the in-order writer (writer.h), which writes
    DIR/frame-NNNNN.png and at the end DIR/preview.png. Progress on stderr
    (a line rewritten in place on a terminal, a plain line every few
    seconds otherwise); --json prints a summary with per-frame times.
    Exit 0, 1 when rendering or writing failed, 2 for a bad command line
    (one line, nothing written), 130/143 when interrupted between frames.
*/
#include "args.h"
#include "render.h"
#include "writer.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_PROG "worm-render-local"
#define S_PLAIN_EVERY_MS 5000       //  progress lines when stderr is not a terminal

static volatile sig_atomic_t s_signal;

static void
s_on_signal (int sig)
{
    s_signal = sig;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: %s --scene SCENE --frames A..B --size WxH --out DIR [--json] [--quiet]\n"
             "Render frames A..B of SCENE on one core and write DIR/frame-NNNNN.png\n"
             "(8-bit RGB PNG, NNNNN the frame number) in order, then DIR/preview.png,\n"
             "a contact sheet of the frames. The same arguments give the same bytes.\n"
             "  --scene SCENE   mandelbrot (a zoom) or raytrace (moving spheres)\n"
             "  --frames A..B   frame numbers, 0 <= A <= B <= %d (or one number A)\n"
             "  --size WxH      pixels, each side 1 to %d, at most %u pixels in all\n"
             "  --out DIR       the folder to write; made when missing\n"
             "  --json          print a summary (per-frame milliseconds) on stdout\n"
             "  --quiet         no progress on stderr\n"
             "  --help          this help\n"
             "Exit status: 0 done, 1 rendering or writing failed, 2 bad arguments\n"
             "(nothing written), 130/143 interrupted.\n",
             S_PROG, WORM_RENDER_FRAME_MAX, WORM_RENDER_SIDE_MAX, WORM_RENDER_PIXELS_MAX);
}

static double
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

//  One line of the command's complaint, and the bad-arguments exit status.
static int
s_bad (const char *why)
{
    fprintf (stderr, "%s: %s\n", S_PROG, why);
    return 2;
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

typedef struct {
    double ms;              //  rendering
    double png_ms;          //  encoding
    size_t bytes;           //  the PNG's size
} s_timing_t;

typedef struct {
    bool quiet, tty;
    double start, last_line;
    uint32_t total;
} s_progress_t;

static void
s_progress (s_progress_t *p, uint32_t done, bool final)
{
    if (p->quiet)
        return;
    double now = s_now_ms (), elapsed = (now - p->start) / 1e3;
    if (!p->tty && !final && now - p->last_line < S_PLAIN_EVERY_MS)
        return;
    p->last_line = now;
    double fps = elapsed > 0 ? done / elapsed : 0;
    char eta[32] = "?";
    if (fps > 0)
        snprintf (eta, sizeof eta, "%.0f s", (p->total - done) / fps);
    fprintf (stderr, "%sframes %u/%u  %.2f fps  ETA %s%s", p->tty ? "\r" : "", done, p->total,
             fps, eta, p->tty && !final ? "   " : "\n");
}

int
main (int argc, char *argv[])
{
    static const struct option options[] = {
        {"scene", required_argument, NULL, 's'}, {"frames", required_argument, NULL, 'f'},
        {"size", required_argument, NULL, 'z'},  {"out", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    const char *scene_text = NULL, *frames_text = NULL, *size_text = NULL, *out = NULL;
    bool json = false, quiet = false;
    char why[600];
    opterr = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, ":", options, NULL)) != -1) {
        switch (opt) {
        case 's': scene_text = optarg; break;
        case 'f': frames_text = optarg; break;
        case 'z': size_text = optarg; break;
        case 'o': out = optarg; break;
        case 'j': json = true; break;
        case 'q': quiet = true; break;
        case 'h': s_usage (stdout); return 0;
        case ':':
            snprintf (why, sizeof why, "%s wants a value (see --help)", argv[optind - 1]);
            return s_bad (why);
        default:
            snprintf (why, sizeof why, "unknown option '%s' (see --help)", argv[optind - 1]);
            return s_bad (why);
        }
    }
    if (optind < argc) {
        snprintf (why, sizeof why, "unexpected argument '%s' (see --help)", argv[optind]);
        return s_bad (why);
    }
    const char *missing = !scene_text ? "--scene" : !frames_text ? "--frames"
                          : !size_text ? "--size" : !out ? "--out" : NULL;
    if (missing) {
        snprintf (why, sizeof why, "%s is missing (see --help)", missing);
        return s_bad (why);
    }
    worm_render_scene_t scene;
    uint32_t first, last, w, h;
    //  Every check before the folder is made, so a bad line writes nothing
    if (worm_render_parse_scene (scene_text, &scene, why, sizeof why)
        || worm_render_parse_frames (frames_text, &first, &last, why, sizeof why)
        || worm_render_parse_size (size_text, &w, &h, why, sizeof why)
        || worm_render_out_prepare (out, why, sizeof why))
        return s_bad (why);

    uint32_t total = last - first + 1;
    uint8_t *rgb = malloc ((size_t) w * h * 3);
    s_timing_t *timing = calloc (total, sizeof *timing);
    worm_render_writer_t *writer = worm_render_writer_new (out, first, last, w, h);
    if (!rgb || !timing || !writer) {
        fprintf (stderr, "%s: out of memory\n", S_PROG);
        free (rgb);
        free (timing);
        worm_render_writer_destroy (&writer);
        return 1;
    }
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);
    s_progress_t progress = {quiet, isatty (STDERR_FILENO) == 1, s_now_ms (), 0, total};
    progress.last_line = progress.start;
    int status = 0;
    for (uint32_t k = first; k <= last && status == 0; k++) {
        if (s_signal) {
            fprintf (stderr, "%s%s: interrupted: frames %u..%u written, %u..%u not\n",
                     progress.tty && !quiet ? "\n" : "", S_PROG, first, k - 1, k, last);
            status = 128 + s_signal;
            break;
        }
        s_timing_t *t = &timing[k - first];
        double t0 = s_now_ms ();
        worm_render_frame (scene, k, w, h, rgb);        //  cannot fail: arguments checked
        double t1 = s_now_ms ();
        void *png;
        if (worm_render_png (rgb, w, h, &png, &t->bytes)) {
            fprintf (stderr, "%s: frame %u: PNG encoding failed (out of memory)\n", S_PROG, k);
            status = 1;
            break;
        }
        t->ms = t1 - t0;
        t->png_ms = s_now_ms () - t1;
        if (worm_render_writer_push (writer, k, png, t->bytes, why, sizeof why) < 0) {
            fprintf (stderr, "%s: %s\n", S_PROG, why);
            status = 1;
        }
        free (png);
        s_progress (&progress, k - first + 1, false);
    }
    if (status == 0 && worm_render_writer_finish (writer, why, sizeof why)) {
        fprintf (stderr, "%s: %s\n", S_PROG, why);
        status = 1;
    }
    if (status == 0)
        s_progress (&progress, total, true);
    if (status == 0 && json) {
        double all = s_now_ms () - progress.start;
        printf ("{\"scene\":\"%s\",\"first\":%u,\"last\":%u,\"w\":%u,\"h\":%u,\"out\":",
                worm_render_scene_name (scene), first, last, w, h);
        s_json_string (stdout, out);
        printf (",\"total_ms\":%.1f,\"fps\":%.3f,\"frames\":[", all,
                all > 0 ? total / (all / 1e3) : 0);
        for (uint32_t i = 0; i < total; i++)
            printf ("%s{\"frame\":%u,\"ms\":%.2f,\"png_ms\":%.2f,\"bytes\":%zu}", i ? "," : "",
                    first + i, timing[i].ms, timing[i].png_ms, timing[i].bytes);
        printf ("]}\n");
    }
    free (rgb);
    free (timing);
    worm_render_writer_destroy (&writer);
    return status;
}
