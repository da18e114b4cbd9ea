/*  local.c — worm-render-local: a render on one core, in order.

    `wormctl render --local` without wormctl: frames A..B of a scene
    rendered here and handed to a run (run.h), which writes
    DIR/frame-NNNNN.png in order and at the end DIR/preview.png, with
    progress on stderr and, with --json, a summary with per-frame times.
    What the distributed render is compared with byte for byte. Exit 0, 1
    when rendering or writing failed, 2 for a bad command line (one line,
    nothing written), 130/143 when interrupted between frames.
*/
#include "args.h"
#include "render.h"
#include "run.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_PROG "worm-render-local"

static volatile int s_signal;

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
             "a contact sheet of the frames. The same arguments give the same bytes,\n"
             "here and in a worm (wormctl render).\n"
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

//  One line of the command's complaint, and the bad-arguments exit status.
static int
s_bad (const char *why)
{
    fprintf (stderr, "%s: %s\n", S_PROG, why);
    return 2;
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

    worm_render_run_config_t config = {
        .prog = S_PROG, .out = out, .scene = scene, .first = first, .last = last, .w = w,
        .h = h, .quiet = quiet, .tty = isatty (STDERR_FILENO) == 1, .err = stderr};
    worm_render_run_t *run = worm_render_run_new (&config);
    if (!run) {
        fprintf (stderr, "%s: out of memory\n", S_PROG);
        return 1;
    }
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);
    int rc = worm_render_run_local (run, &s_signal, why, sizeof why);
    worm_render_run_clear (run);
    if (rc == 1)
        fprintf (stderr, "%s: interrupted: %s\n", S_PROG, why);
    else if (rc < 0)
        fprintf (stderr, "%s: %s\n", S_PROG, why);
    if (rc == 0 && worm_render_run_finish (run, json, why, sizeof why)) {
        fprintf (stderr, "%s: %s\n", S_PROG, why);
        rc = -1;
    }
    worm_render_run_destroy (&run);
    return rc == 0 ? 0 : rc == 1 ? 128 + s_signal : 1;
}
