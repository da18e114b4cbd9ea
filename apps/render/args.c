/*  args.c — the checks of a render's command line. See args.h. */
#include "args.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
worm_render_parse_scene (const char *text, worm_render_scene_t *scene, char *err, size_t cap)
{
    if (worm_render_scene_parse (text, scene) == 0)
        return 0;
    snprintf (err, cap, "--scene '%s': no such scene (want mandelbrot or raytrace)", text);
    return -1;
}

//  A decimal number of at most 9 digits at *text, which is moved past it.
static int
s_number (const char **text, uint64_t *value)
{
    const char *p = *text;
    uint64_t n = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 9)
            return -1;
        n = n * 10 + (uint64_t) (*p++ - '0');
    }
    if (digits == 0)
        return -1;
    *value = n;
    *text = p;
    return 0;
}

int
worm_render_parse_frames (const char *text, uint32_t *first, uint32_t *last, char *err,
                          size_t cap)
{
    const char *p = text;
    uint64_t a, b;
    if (s_number (&p, &a) == 0 && *p == 0)
        b = a;
    else if (p = text, s_number (&p, &a) != 0 || strncmp (p, "..", 2) != 0
             || (p += 2, s_number (&p, &b) != 0) || *p != 0) {
        snprintf (err, cap, "--frames '%s': want A..B, two frame numbers", text);
        return -1;
    }
    if (a > WORM_RENDER_FRAME_MAX || b > WORM_RENDER_FRAME_MAX) {
        snprintf (err, cap, "--frames '%s': a frame number is above %d", text,
                  WORM_RENDER_FRAME_MAX);
        return -1;
    }
    if (a > b) {
        snprintf (err, cap, "--frames '%s': the first frame is after the last", text);
        return -1;
    }
    *first = (uint32_t) a;
    *last = (uint32_t) b;
    return 0;
}

int
worm_render_parse_size (const char *text, uint32_t *w, uint32_t *h, char *err, size_t cap)
{
    const char *p = text;
    uint64_t a, b;
    if (s_number (&p, &a) != 0 || *p != 'x' || (p++, s_number (&p, &b) != 0) || *p != 0) {
        snprintf (err, cap, "--size '%s': want WxH, two numbers of pixels", text);
        return -1;
    }
    if (a < 1 || a > WORM_RENDER_SIDE_MAX || b < 1 || b > WORM_RENDER_SIDE_MAX) {
        snprintf (err, cap, "--size '%s': %s %llu is out of 1 to %d", text,
                  a < 1 || a > WORM_RENDER_SIDE_MAX ? "width" : "height",
                  (unsigned long long) (a < 1 || a > WORM_RENDER_SIDE_MAX ? a : b),
                  WORM_RENDER_SIDE_MAX);
        return -1;
    }
    if (a * b > WORM_RENDER_PIXELS_MAX) {
        snprintf (err, cap, "--size '%s': %llu pixels is above the limit of %u", text,
                  (unsigned long long) (a * b), WORM_RENDER_PIXELS_MAX);
        return -1;
    }
    *w = (uint32_t) a;
    *h = (uint32_t) b;
    return 0;
}

#define S_MADE_MAX 64           //  folders one --out may make

int
worm_render_out_prepare (const char *dir, char *err, size_t cap)
{
    if (!dir[0]) {
        snprintf (err, cap, "--out '': an empty path");
        return -1;
    }
    char path[4096];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path - 40) {
        snprintf (err, cap, "--out: path too long");
        return -1;
    }
    //  Each prefix of the path in turn, ending at each '/': exists and is a
    //  folder, or is made (and remembered, to be removed again on failure).
    char *made[S_MADE_MAX];
    int count = 0, rc = -1;
    size_t len = strlen (path);
    for (size_t i = 1; i <= len; i++) {
        if (i < len && path[i] != '/')
            continue;
        if (path[i - 1] == '/')
            continue;                       //  "a//b", or a trailing '/'
        char saved = path[i];
        path[i] = 0;
        struct stat st;
        if (stat (path, &st) == 0) {
            if (!S_ISDIR (st.st_mode)) {
                snprintf (err, cap, "--out '%s': %s is not a folder", dir, path);
                goto done;
            }
        } else if (errno != ENOENT) {
            snprintf (err, cap, "--out '%s': %s: %s", dir, path, strerror (errno));
            goto done;
        } else if (count == S_MADE_MAX) {
            snprintf (err, cap, "--out '%s': too many folders to make", dir);
            goto done;
        } else if (mkdir (path, 0755) != 0) {
            snprintf (err, cap, "--out '%s': cannot make %s: %s", dir, path, strerror (errno));
            goto done;
        } else if (!(made[count++] = strdup (path))) {
            rmdir (path);
            count--;
            snprintf (err, cap, "--out '%s': out of memory", dir);
            goto done;
        }
        path[i] = saved;
    }
    //  Writable: as root, access() says yes where a write would still fail
    //  (a read-only mount), so try one.
    char probe[4200];
    snprintf (probe, sizeof probe, "%s/.worm-render-probe-%ld", dir, (long) getpid ());
    int fd = open (probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (err, cap, "--out '%s': cannot write there: %s", dir, strerror (errno));
        goto done;
    }
    close (fd);
    unlink (probe);
    rc = 0;
done:
    for (int i = count - 1; i >= 0; i--) {
        if (rc)
            rmdir (made[i]);
        free (made[i]);
    }
    return rc;
}
