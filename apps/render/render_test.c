/*  render_test.c — the render app's pixel core without a worm.

    scene:  a frame is the same bytes twice and matches a fixed digest (so a
            build whose floating point differs, -O0 or a sanitizer, fails),
            it is not one flat colour, consecutive frames differ, a frame
            rendered in bands of rows is the same bytes, bad arguments are
            refused; fmath.h against libm.
    png:    encode then decode gives the pixels back, the same pixels give
            the same bytes, and damaged or foreign PNGs are refused.
    thumb:  a thumbnail's size keeps the frame's shape, its pixels are each
            box's average (against a plain reference), its PNG decodes to them.
    writer: frames pushed out of order land in order (the folder checked
            after every push), repeats are ignored, wrong frames refused,
            the contact sheet shows the right frames, the same whether the
            thumbnails came with the frames, were made from them, or came
            bad (ignored), and a failed write sticks.
    unit:   a unit and a result round-trip; hostile bodies name the field.
    args:   --frames, --size, --scene and --out, good and bad.

    Usage: test_render scene|png|thumb|writer|unit|args
*/
#include "args.h"
#include "fmath.h"
#include "render.h"
#include "unit.h"
#include "wire.h"
#include "writer.h"
#include "../../tests/check.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

//  FNV-1a of bytes: a frame's digest.
static uint64_t
s_fnv (const uint8_t *data, size_t size)
{
    uint64_t hash = 1469598103934665603ULL;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ data[i]) * 1099511628211ULL;
    return hash;
}

static uint8_t *
s_frame (worm_render_scene_t scene, uint32_t frame, uint32_t w, uint32_t h)
{
    uint8_t *rgb = malloc ((size_t) w * h * 3);
    CHECK (rgb);
    CHECK_EQ (worm_render_frame (scene, frame, w, h, rgb), 0);
    return rgb;
}

//  Distinct colours in an image, counted up to `enough`.
static int
s_colours (const uint8_t *rgb, size_t pixels, int enough)
{
    uint32_t seen[256];
    int count = 0;
    for (size_t i = 0; i < pixels && count < enough; i++) {
        uint32_t c = (uint32_t) rgb[i * 3] << 16 | (uint32_t) rgb[i * 3 + 1] << 8 | rgb[i * 3 + 2];
        int j = 0;
        while (j < count && seen[j] != c)
            j++;
        if (j == count)
            seen[count++] = c;
    }
    return count;
}

static void
s_test_scene (void)
{
    //  The digests of frame 7 at 64x48, from the first build of these
    //  scenes (mandelbrot's since it takes four samples a pixel): a change
    //  here is a change of every picture, or a build that computes
    //  differently (check the -ffp-contract=off flag).
    static const uint64_t digests[WORM_RENDER_SCENES] = {0x6e10e3b2e2ca0fffULL,
                                                         0xc772f4fadb6d1585ULL};
    for (int s = 0; s < WORM_RENDER_SCENES; s++) {
        worm_render_scene_t scene = (worm_render_scene_t) s;
        uint32_t w = 64, h = 48;
        uint8_t *a = s_frame (scene, 7, w, h), *b = s_frame (scene, 7, w, h);
        CHECK (memcmp (a, b, (size_t) w * h * 3) == 0);
        uint64_t digest = s_fnv (a, (size_t) w * h * 3);
        if (digest != digests[s]) {
            fprintf (stderr, "scene %s frame 7: digest %016llx, want %016llx\n",
                     worm_render_scene_name (scene), (unsigned long long) digest,
                     (unsigned long long) digests[s]);
            CHECK (digest == digests[s]);
        }
        CHECK (s_colours (a, (size_t) w * h, 100) >= 100);
        uint8_t *c = s_frame (scene, 8, w, h);
        CHECK (memcmp (a, c, (size_t) w * h * 3) != 0);
        //  In bands of uneven height, bottom first: the same bytes
        memset (b, 0, (size_t) w * h * 3);
        for (uint32_t y1 = h; y1 > 0;) {
            uint32_t y0 = y1 > 5 ? y1 - 5 : 0;
            CHECK_EQ (worm_render_rows (scene, 7, w, h, y0, y1, b), 0);
            y1 = y0;
        }
        CHECK (memcmp (a, b, (size_t) w * h * 3) == 0);
        CHECK_EQ (worm_render_rows (scene, 7, w, h, 3, 3, b), 0);  //  no rows
        free (a);
        free (b);
        free (c);
        //  An odd shape and the last frame number render too
        uint8_t *d = s_frame (scene, WORM_RENDER_FRAME_MAX, 7, 3);
        free (d);
        d = s_frame (scene, 0, 1, 1);
        free (d);
    }
    //  Bad arguments: -1 and the buffer untouched
    uint8_t canary[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, copy[12];
    memcpy (copy, canary, sizeof copy);
    CHECK_EQ (worm_render_frame (WORM_RENDER_MANDELBROT, 0, 0, 1, canary), -1);
    CHECK_EQ (worm_render_frame (WORM_RENDER_MANDELBROT, 0, 1, 0, canary), -1);
    CHECK_EQ (worm_render_frame (WORM_RENDER_MANDELBROT, 0, 8193, 1, canary), -1);
    CHECK_EQ (worm_render_frame (WORM_RENDER_MANDELBROT, 0, 4097, 4096, canary), -1);
    CHECK_EQ (worm_render_frame (WORM_RENDER_RAYTRACE, 100000, 1, 1, canary), -1);
    CHECK_EQ (worm_render_frame ((worm_render_scene_t) 2, 0, 1, 1, canary), -1);
    CHECK_EQ (worm_render_rows (WORM_RENDER_MANDELBROT, 0, 2, 2, 2, 1, canary), -1);
    CHECK_EQ (worm_render_rows (WORM_RENDER_MANDELBROT, 0, 2, 2, 0, 3, canary), -1);
    CHECK (memcmp (canary, copy, sizeof copy) == 0);
    //  Names
    worm_render_scene_t scene;
    CHECK_EQ (worm_render_scene_parse ("raytrace", &scene), 0);
    CHECK_EQ (scene, WORM_RENDER_RAYTRACE);
    CHECK_EQ (worm_render_scene_parse ("Raytrace", &scene), -1);
    CHECK (worm_render_scene_name ((worm_render_scene_t) 5) == NULL);
    //  fmath.h near libm (the test may use libm; the pixel path may not)
    for (double x = -50; x < 50; x += 0.37) {
        CHECK (fabs (worm_render_sin (x) - sin (x)) < 1e-9);
        CHECK (fabs (worm_render_cos (x) - cos (x)) < 1e-9);
        CHECK_EQ (worm_render_floor (x), floor (x));
    }
    for (double x = 1e-300; x < 1e300; x *= 7.3)
        CHECK (fabs (worm_render_log2 (x) - log2 (x)) < 1e-9 * (1 + fabs (log2 (x))));
}

//  png decodes to w x h pixels equal to want.
static void
s_expect_pixels (const void *png, size_t size, const uint8_t *want, uint32_t w, uint32_t h)
{
    uint8_t *back;
    uint32_t bw, bh;
    char err[200];
    CHECK_EQ (worm_render_png_decode (png, size, &back, &bw, &bh, err, sizeof err), 0);
    CHECK_EQ (bw, w);
    CHECK_EQ (bh, h);
    CHECK (memcmp (back, want, (size_t) w * h * 3) == 0);
    free (back);
}

static void
s_test_png (void)
{
    static const uint32_t sizes[][2] = {{1, 1}, {3, 7}, {64, 48}, {161, 120}};
    for (int s = 0; s < WORM_RENDER_SCENES; s++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint32_t w = sizes[i][0], h = sizes[i][1];
            uint8_t *rgb = s_frame ((worm_render_scene_t) s, 11, w, h);
            void *png, *again;
            size_t size, again_size;
            CHECK_EQ (worm_render_png (rgb, w, h, &png, &size), 0);
            CHECK_EQ (worm_render_png (rgb, w, h, &again, &again_size), 0);
            CHECK_EQ (size, again_size);
            CHECK (memcmp (png, again, size) == 0);
            s_expect_pixels (png, size, rgb, w, h);
            uint8_t *back;
            uint32_t bw, bh;
            char err[200];
            CHECK_EQ (worm_render_png_info (png, size, &bw, &bh, err, sizeof err), 0);
            CHECK_EQ (bw, w);
            //  Every cut is refused, never a crash
            for (size_t cut = 0; cut < size; cut += 1 + cut / 8)
                CHECK_EQ (worm_render_png_decode (png, cut, &back, &bw, &bh, err, sizeof err),
                          -1);
            //  A flipped byte in the data: the chunk's CRC no longer matches
            uint8_t *bad = again;
            bad[size - 20] ^= 0x55;
            CHECK_EQ (worm_render_png_decode (bad, size, &back, &bw, &bh, err, sizeof err), -1);
            CHECK_HAS (err, "bad PNG");
            //  Not RGB (colour type 6, RGBA)
            memcpy (bad, png, size);
            bad[25] = 6;
            CHECK_EQ (worm_render_png_info (bad, size, &bw, &bh, err, sizeof err), -1);
            CHECK_HAS (err, "not 8-bit RGB");
            CHECK_EQ (worm_render_png_decode (bad, size, &back, &bw, &bh, err, sizeof err), -1);
            //  Too large a header
            memcpy (bad, png, size);
            bad[16] = 0x7f;
            CHECK_EQ (worm_render_png_info (bad, size, &bw, &bh, err, sizeof err), -1);
            CHECK_HAS (err, "size limits");
            CHECK_EQ (worm_render_png_info ("GIF89a", 6, &bw, &bh, err, sizeof err), -1);
            CHECK_HAS (err, "not a PNG");
            free (png);
            free (again);
            free (rgb);
        }
    void *png;
    size_t size;
    uint8_t pixel[3] = {0};
    CHECK_EQ (worm_render_png (pixel, 0, 1, &png, &size), -1);
}

//  The thumbnail as the writer drew it before worm_render_thumb: the
//  average of each box, pixel by pixel, the reference it must match.
static void
s_thumb_reference (const uint8_t *rgb, uint32_t w, uint32_t h, uint32_t tw, uint32_t th,
                   uint8_t *out)
{
    for (uint32_t ty = 0; ty < th; ty++) {
        uint32_t y0 = (uint32_t) ((uint64_t) ty * h / th);
        uint32_t y1 = (uint32_t) ((uint64_t) (ty + 1) * h / th);
        for (uint32_t tx = 0; tx < tw; tx++) {
            uint32_t x0 = (uint32_t) ((uint64_t) tx * w / tw);
            uint32_t x1 = (uint32_t) ((uint64_t) (tx + 1) * w / tw);
            uint64_t sum[3] = {0, 0, 0}, n = (uint64_t) (y1 - y0) * (x1 - x0);
            for (uint32_t y = y0; y < y1; y++)
                for (uint32_t x = x0; x < x1; x++)
                    for (int c = 0; c < 3; c++)
                        sum[c] += rgb[((size_t) y * w + x) * 3 + c];
            for (int c = 0; c < 3; c++)
                out[((size_t) ty * tw + tx) * 3 + c] = (uint8_t) ((sum[c] + n / 2) / n);
        }
    }
}

static void
s_test_thumb (void)
{
    //  Sizes: the frame's shape, the larger side 160 at most, never 0
    static const uint32_t shapes[][4] = {{640, 480, 160, 120}, {480, 640, 120, 160},
                                         {100, 50, 100, 50},   {8192, 1, 160, 1},
                                         {1, 8192, 1, 160},    {1, 1, 1, 1},
                                         {161, 120, 160, 119}, {37, 300, 19, 160}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        uint32_t tw, th;
        worm_render_thumb_size (shapes[i][0], shapes[i][1], &tw, &th);
        CHECK_EQ (tw, shapes[i][2]);
        CHECK_EQ (th, shapes[i][3]);
    }
    //  The pixels: the box filter's, for frames of every shape above
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        uint32_t w = shapes[i][0], h = shapes[i][1], tw = shapes[i][2], th = shapes[i][3];
        uint8_t *rgb = s_frame (WORM_RENDER_MANDELBROT, 40, w, h);
        uint8_t *want = malloc ((size_t) tw * th * 3), *got = malloc ((size_t) tw * th * 3);
        CHECK (want && got);
        s_thumb_reference (rgb, w, h, tw, th, want);
        worm_render_thumb (rgb, w, h, got);
        CHECK (memcmp (want, got, (size_t) tw * th * 3) == 0);
        //  As a PNG: the same pixels
        void *png;
        size_t size;
        CHECK_EQ (worm_render_thumb_png (rgb, w, h, &png, &size), 0);
        s_expect_pixels (png, size, want, tw, th);
        free (png);
        free (want);
        free (got);
        free (rgb);
    }
    void *png;
    size_t size;
    uint8_t pixel[3] = {0};
    CHECK_EQ (worm_render_thumb_png (pixel, 0, 1, &png, &size), -1);
}

//  A temporary folder, made for the test.
static char *
s_tempdir (void)
{
    static char dir[64];
    snprintf (dir, sizeof dir, "/tmp/test_render-XXXXXX");
    CHECK (mkdtemp (dir));
    return dir;
}

//  Removes dir and the files in it.
static void
s_remove (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
            snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
            unlink (path);
        }
    closedir (d);
    rmdir (dir);
}

//  Checks that dir holds exactly frame-FIRST .. frame-(FIRST+written-1), and
//  preview.png when `preview`, and nothing else (no .part files).
static void
s_check_folder (const char *dir, uint32_t first, uint32_t written, bool preview)
{
    DIR *d = opendir (dir);
    CHECK (d);
    struct dirent *e;
    uint32_t files = 0;
    while ((e = readdir (d))) {
        if (!strcmp (e->d_name, ".") || !strcmp (e->d_name, ".."))
            continue;
        unsigned k;
        char tail[16];
        if (preview && !strcmp (e->d_name, "preview.png"))
            files++;
        else if (sscanf (e->d_name, "frame-%5u.png%15s", &k, tail) == 1
                 && strlen (e->d_name) == strlen ("frame-00000.png")) {
            if (k < first || k >= first + written)
                fprintf (stderr, "%s: %s is there, want %u..%u\n", dir, e->d_name, first,
                         first + written - 1);
            CHECK (k >= first && k < first + written);
            files++;
        } else {
            fprintf (stderr, "%s: unexpected file %s\n", dir, e->d_name);
            CHECK (!"an unexpected file");
        }
    }
    closedir (d);
    CHECK_EQ (files, written + (preview ? 1 : 0));
}

//  A w x h frame of one flat colour that says its number: (k, 255 - k, 7).
static void *
s_flat_png (uint32_t k, uint32_t w, uint32_t h, size_t *size)
{
    uint8_t *rgb = malloc ((size_t) w * h * 3);
    CHECK (rgb);
    for (size_t i = 0; i < (size_t) w * h; i++) {
        rgb[i * 3] = (uint8_t) k;
        rgb[i * 3 + 1] = (uint8_t) (255 - k);
        rgb[i * 3 + 2] = 7;
    }
    void *png;
    CHECK_EQ (worm_render_png (rgb, w, h, &png, size), 0);
    free (rgb);
    return png;
}

static void *
s_read_file (const char *path, size_t *size)
{
    FILE *f = fopen (path, "rb");
    CHECK (f);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    void *data = malloc ((size_t) n + 1);
    CHECK (data && fread (data, 1, (size_t) n, f) == (size_t) n);
    fclose (f);
    *size = (size_t) n;
    return data;
}

static void
s_test_writer (void)
{
    char err[300];
    const char *dir = s_tempdir ();
    uint32_t w = 40, h = 30;
    worm_render_writer_t *writer = worm_render_writer_new (dir, 3, 9, w, h);
    CHECK (writer);
    void *pngs[10];
    size_t sizes[10];
    for (uint32_t k = 3; k <= 9; k++)
        pngs[k] = s_flat_png (k * 20, w, h, &sizes[k]);
    //  Out of order; after each push the folder holds exactly the frames
    //  whose predecessors have all come
    static const uint32_t order[] = {5, 3, 9, 4, 8, 6, 7};
    static const uint32_t written_after[] = {0, 1, 1, 3, 3, 4, 7};
    for (int i = 0; i < 7; i++) {
        CHECK_EQ (worm_render_writer_push (writer, order[i], pngs[order[i]], sizes[order[i]], NULL,
                                           0, err, sizeof err),
                  0);
        CHECK_EQ (worm_render_writer_written (writer), written_after[i]);
        s_check_folder (dir, 3, written_after[i], false);
        if (i == 2) {
            CHECK_EQ (worm_render_writer_held (writer), 2);
            //  A repeat of a held frame and of a written one: ignored
            CHECK_EQ (worm_render_writer_push (writer, 9, pngs[9], sizes[9], NULL, 0, err, sizeof err), 1);
            CHECK_EQ (worm_render_writer_push (writer, 3, pngs[3], sizes[3], NULL, 0, err, sizeof err), 1);
            CHECK_EQ (worm_render_writer_finish (writer, err, sizeof err), -1);
            CHECK_HAS (err, "frame 4 is missing");
            s_check_folder (dir, 3, 1, false);
        }
    }
    CHECK_EQ (worm_render_writer_held (writer), 0);
    //  Wrong frames
    CHECK_EQ (worm_render_writer_push (writer, 10, pngs[3], sizes[3], NULL, 0, err, sizeof err), -1);
    CHECK_HAS (err, "frame 10: not in 3..9");
    //  Each file is the bytes pushed
    for (uint32_t k = 3; k <= 9; k++) {
        char path[256];
        snprintf (path, sizeof path, "%s/frame-%05u.png", dir, k);
        size_t size;
        void *data = s_read_file (path, &size);
        CHECK_EQ (size, sizes[k]);
        CHECK (memcmp (data, pngs[k], size) == 0);
        free (data);
    }
    CHECK_EQ (worm_render_writer_finish (writer, err, sizeof err), 0);
    s_check_folder (dir, 3, 7, true);
    worm_render_writer_destroy (&writer);
    CHECK (writer == NULL);
    s_remove (dir);

    //  Refused pushes: not a PNG, a frame of another size; the writer goes on
    dir = s_tempdir ();
    writer = worm_render_writer_new (dir, 0, 1, w, h);
    CHECK (writer);
    CHECK_EQ (worm_render_writer_push (writer, 0, "not a png at all, really not one", 32, NULL, 0, err,
                                       sizeof err),
              -1);
    CHECK_HAS (err, "frame 0: not a PNG");
    size_t other_size;
    void *other = s_flat_png (1, w + 1, h, &other_size);
    CHECK_EQ (worm_render_writer_push (writer, 1, other, other_size, NULL, 0, err, sizeof err), -1);
    CHECK_HAS (err, "frame 1: 41x30, want 40x30");
    free (other);
    CHECK_EQ (worm_render_writer_push (writer, 1, pngs[4], sizes[4], NULL, 0, err, sizeof err), 0);
    s_check_folder (dir, 0, 0, false);
    //  The folder goes away: the write fails, and every call after it
    rmdir (dir);
    CHECK_EQ (worm_render_writer_push (writer, 0, pngs[3], sizes[3], NULL, 0, err, sizeof err), -1);
    CHECK_HAS (err, "cannot write frame 0");
    CHECK (mkdir (dir, 0700) == 0);
    CHECK_EQ (worm_render_writer_push (writer, 0, pngs[3], sizes[3], NULL, 0, err, sizeof err), -1);
    CHECK_HAS (err, "failed before");
    CHECK_EQ (worm_render_writer_finish (writer, err, sizeof err), -1);
    worm_render_writer_destroy (&writer);
    s_check_folder (dir, 0, 0, false);
    s_remove (dir);
    for (uint32_t k = 3; k <= 9; k++)
        free (pngs[k]);

    //  The contact sheet of frames 0..99: 48 thumbnails, i showing frame
    //  i * 99 / 47, the first and the last among them
    dir = s_tempdir ();
    w = 16;
    h = 12;
    writer = worm_render_writer_new (dir, 0, 99, w, h);
    CHECK (writer);
    for (uint32_t k = 100; k-- > 0;) {          //  backwards: all held until frame 0
        size_t size;
        void *png = s_flat_png (k, w, h, &size);
        CHECK_EQ (worm_render_writer_push (writer, k, png, size, NULL, 0, err, sizeof err), 0);
        free (png);
    }
    CHECK_EQ (worm_render_writer_written (writer), 100);
    CHECK_EQ (worm_render_writer_finish (writer, err, sizeof err), 0);
    worm_render_writer_destroy (&writer);
    s_check_folder (dir, 0, 100, true);
    char path[256];
    snprintf (path, sizeof path, "%s/preview.png", dir);
    size_t size;
    void *png = s_read_file (path, &size);
    uint8_t *sheet;
    uint32_t sw, sh;
    CHECK_EQ (worm_render_png_decode (png, size, &sheet, &sw, &sh, err, sizeof err), 0);
    CHECK_EQ (sw, 8 * (16 + 4) + 4);
    CHECK_EQ (sh, 6 * (12 + 4) + 4);
    for (uint32_t i = 0; i < 48; i++) {
        uint32_t x = 4 + (i % 8) * 20 + 8, y = 4 + (i / 8) * 16 + 6;
        const uint8_t *p = sheet + ((size_t) y * sw + x) * 3;
        uint32_t want = i * 99 / 47;
        CHECK_EQ (p[0], want);
        CHECK_EQ (p[1], 255 - want);
        CHECK_EQ (p[2], 7);
    }
    CHECK_EQ (sheet[0], 32);                    //  the grey between thumbnails
    free (sheet);
    free (png);
    s_remove (dir);

    //  Which frames a render of 0..99 asks thumbnails for: 48, the first and
    //  the last among them
    writer = worm_render_writer_new ("/tmp", 0, 99, w, h);
    CHECK (writer);
    uint32_t wanted = 0;
    for (uint32_t k = 0; k <= 100; k++)
        wanted += worm_render_writer_wants_thumb (writer, k);
    CHECK_EQ (wanted, 48);
    CHECK (worm_render_writer_wants_thumb (writer, 0));
    CHECK (worm_render_writer_wants_thumb (writer, 99));
    worm_render_writer_destroy (&writer);

    //  The preview is the same bytes whether the thumbnails came with the
    //  frames (here out of order, so some wait, copied), were made from
    //  the frames, or came bad (not a PNG, a PNG of another size: ignored)
    void *previews[3];
    size_t preview_sizes[3];
    static const uint32_t shuffled[] = {2, 0, 1, 5, 4, 3};
    for (int way = 0; way < 3; way++) {
        dir = s_tempdir ();
        writer = worm_render_writer_new (dir, 0, 5, 64, 48);
        CHECK (writer);
        for (int i = 0; i < 6; i++) {
            uint32_t k = way == 0 ? shuffled[i] : (uint32_t) i;
            uint8_t *rgb = s_frame (WORM_RENDER_MANDELBROT, 30 + k, 64, 48);
            void *png, *thumb = NULL;
            size_t size, thumb_size = 0;
            CHECK_EQ (worm_render_png (rgb, 64, 48, &png, &size), 0);
            if (way == 0)
                CHECK_EQ (worm_render_thumb_png (rgb, 64, 48, &thumb, &thumb_size), 0);
            else if (way == 2 && k % 2)
                CHECK_EQ (worm_render_png (rgb, 32, 24, &thumb, &thumb_size), 0);
            else if (way == 2) {
                thumb = strdup ("not a png");
                thumb_size = strlen (thumb);
            }
            CHECK_EQ (worm_render_writer_push (writer, k, png, size, thumb, thumb_size, err,
                                               sizeof err),
                      0);
            free (thumb);
            free (png);
            free (rgb);
        }
        CHECK_EQ (worm_render_writer_finish (writer, err, sizeof err), 0);
        worm_render_writer_destroy (&writer);
        snprintf (path, sizeof path, "%s/preview.png", dir);
        previews[way] = s_read_file (path, &preview_sizes[way]);
        s_remove (dir);
    }
    for (int way = 1; way < 3; way++) {
        CHECK_EQ (preview_sizes[way], preview_sizes[0]);
        CHECK (memcmp (previews[way], previews[0], preview_sizes[0]) == 0);
    }
    for (int way = 0; way < 3; way++)
        free (previews[way]);
    CHECK (worm_render_writer_new ("/tmp", 5, 4, 1, 1) == NULL);
    CHECK (worm_render_writer_new ("/tmp", 0, 1, 0, 1) == NULL);
}

//  A unit body written by hand, for hostile cases: map of (key, kind, value).
static void
s_check_unit_refused (const char *scene, int64_t frame, int64_t w, int64_t h, const char *want)
{
    worm_wire_writer_t wr;
    worm_wire_writer_init (&wr);
    worm_wire_map_open (&wr);
    if (scene)
        worm_wire_kstr (&wr, "scene", scene);
    if (frame != -1)
        worm_wire_ki64 (&wr, "frame", frame);
    if (w != -1)
        worm_wire_ki64 (&wr, "w", w);
    if (h != -1)
        worm_wire_ki64 (&wr, "h", h);
    worm_wire_map_close (&wr);
    worm_render_unit_t unit;
    char err[200];
    CHECK_EQ (worm_render_unit_decode (worm_wire_writer_data (&wr), worm_wire_writer_size (&wr),
                                       &unit, err, sizeof err),
              -1);
    CHECK_HAS (err, want);
    worm_wire_writer_fini (&wr);
}

static void
s_test_unit (void)
{
    worm_render_unit_t unit = {WORM_RENDER_RAYTRACE, 99999, 640, 480, false}, back;
    void *data;
    size_t size;
    char err[200];
    CHECK_EQ (worm_render_unit_encode (&unit, &data, &size), 0);
    CHECK_EQ (worm_render_unit_decode (data, size, &back, err, sizeof err), 0);
    CHECK_EQ (back.scene, unit.scene);
    CHECK_EQ (back.frame, unit.frame);
    CHECK_EQ (back.w, unit.w);
    CHECK_EQ (back.h, unit.h);
    CHECK (!back.thumb);
    for (size_t cut = 0; cut < size; cut++)
        CHECK_EQ (worm_render_unit_decode (data, cut, &back, err, sizeof err), -1);
    free (data);
    worm_render_unit_t bad = {WORM_RENDER_RAYTRACE, 0, 0, 480, false};
    CHECK_EQ (worm_render_unit_encode (&bad, &data, &size), -1);

    s_check_unit_refused ("nope", 0, 1, 1, "unit: field 'scene': no scene 'nope'");
    s_check_unit_refused (NULL, 0, 1, 1, "unit: missing field 'scene'");
    s_check_unit_refused ("mandelbrot", 100000, 1, 1, "unit: field 'frame': 100000 is out of");
    s_check_unit_refused ("mandelbrot", -1, 1, 1, "unit: missing field 'frame'");
    s_check_unit_refused ("mandelbrot", -5, 1, 1, "field 'frame'");
    s_check_unit_refused ("mandelbrot", 0, 0, 1, "unit: field 'w': 0 is out of [1, 8192]");
    s_check_unit_refused ("mandelbrot", 0, 1, 8193, "unit: field 'h': 8193 is out of");
    s_check_unit_refused ("mandelbrot", 0, 8192, 8192, "unit: fields 'w', 'h': 8192x8192");
    CHECK_EQ (worm_render_unit_decode ("\x93\x01\x02\x03", 4, &back, err, sizeof err), -1);
    CHECK_HAS (err, "unit: ");

    //  A result: a real frame's PNG, round trip
    worm_render_unit_t small = {WORM_RENDER_MANDELBROT, 3, 32, 24, false};
    uint8_t *rgb = s_frame (small.scene, small.frame, small.w, small.h);
    void *png, *got, *thumb;
    size_t png_size, got_size, thumb_size;
    worm_render_times_t times = {1234, 56, 0}, back_times;
    CHECK_EQ (worm_render_png (rgb, small.w, small.h, &png, &png_size), 0);
    CHECK_EQ (worm_render_result_encode (png, png_size, NULL, 0, &times, &data, &size), 0);
    CHECK_EQ (worm_render_result_decode (data, size, &small, &got, &got_size, &thumb, &thumb_size, &back_times, err,
                                         sizeof err),
              0);
    CHECK_EQ (back_times.render_us, 1234);
    CHECK_EQ (back_times.png_us, 56);
    CHECK (thumb == NULL);                      //  none asked for, none sent
    CHECK_EQ (got_size, png_size);
    CHECK (memcmp (got, png, png_size) == 0);
    free (got);
    for (size_t cut = 0; cut < size; cut += 1 + cut / 4)
        CHECK_EQ (worm_render_result_decode (data, cut, &small, &got, &got_size, &thumb, &thumb_size, NULL, err, sizeof err),
                  -1);
    //  The PNG of another size than the unit's
    worm_render_unit_t other = small;
    other.w = 33;
    CHECK_EQ (worm_render_result_decode (data, size, &other, &got, &got_size, &thumb, &thumb_size, NULL, err, sizeof err), -1);
    CHECK_HAS (err, "result: field 'png': a frame of 32x24, want 33x24");
    free (data);
    //  Not a PNG; png not bin; no png
    CHECK_EQ (worm_render_result_encode ("hello", 5, NULL, 0, NULL, &data, &size), 0);
    CHECK_EQ (worm_render_result_decode (data, size, &small, &got, &got_size, &thumb, &thumb_size, NULL, err, sizeof err), -1);
    CHECK_HAS (err, "result: field 'png': not a PNG");
    free (data);
    worm_wire_writer_t wr;
    worm_wire_writer_init (&wr);
    worm_wire_map_open (&wr);
    worm_wire_kstr (&wr, "png", "a string");
    worm_wire_map_close (&wr);
    CHECK_EQ (worm_render_result_decode (worm_wire_writer_data (&wr), worm_wire_writer_size (&wr),
                                         &small, &got, &got_size, &thumb, &thumb_size, NULL, err, sizeof err),
              -1);
    CHECK_HAS (err, "result: field 'png'");
    worm_wire_writer_fini (&wr);
    worm_wire_writer_init (&wr);
    worm_wire_map_open (&wr);
    worm_wire_ku64 (&wr, "frame", 3);
    worm_wire_map_close (&wr);
    CHECK_EQ (worm_render_result_decode (worm_wire_writer_data (&wr), worm_wire_writer_size (&wr),
                                         &small, &got, &got_size, &thumb, &thumb_size, NULL, err, sizeof err),
              -1);
    CHECK_HAS (err, "result: missing field 'png'");
    worm_wire_writer_fini (&wr);
    //  Times that are not numbers; no times at all (they read as 0)
    worm_wire_writer_init (&wr);
    worm_wire_map_open (&wr);
    worm_wire_kbin (&wr, "png", png, png_size);
    worm_wire_kstr (&wr, "render_us", "soon");
    worm_wire_map_close (&wr);
    CHECK_EQ (worm_render_result_decode (worm_wire_writer_data (&wr), worm_wire_writer_size (&wr),
                                         &small, &got, &got_size, &thumb, &thumb_size, &back_times, err, sizeof err),
              -1);
    CHECK_HAS (err, "result: field 'render_us'");
    worm_wire_writer_fini (&wr);
    CHECK_EQ (worm_render_result_encode (png, png_size, NULL, 0, NULL, &data, &size), 0);
    CHECK_EQ (worm_render_result_decode (data, size, &small, &got, &got_size, &thumb, &thumb_size, &back_times, err,
                                         sizeof err),
              0);
    CHECK_EQ (back_times.render_us + back_times.png_us, 0);
    free (got);
    free (data);

    //  A result with the thumbnail (32x24: the frame's own size, smaller
    //  than a thumbnail's side) round trips; one of another size, or not
    //  bin, is refused by name
    void *small_png;
    size_t small_size;
    CHECK_EQ (worm_render_thumb_png (rgb, small.w, small.h, &small_png, &small_size), 0);
    times.thumb_us = 78;
    CHECK_EQ (worm_render_result_encode (png, png_size, small_png, small_size, &times, &data,
                                         &size),
              0);
    CHECK_EQ (worm_render_result_decode (data, size, &small, &got, &got_size, &thumb,
                                         &thumb_size, &back_times, err, sizeof err),
              0);
    CHECK_EQ (back_times.thumb_us, 78);
    CHECK_EQ (thumb_size, small_size);
    CHECK (memcmp (thumb, small_png, small_size) == 0);
    CHECK_EQ (got_size, png_size);
    free (got);
    free (thumb);
    for (size_t cut = 0; cut < size; cut += 1 + cut / 4)
        CHECK_EQ (worm_render_result_decode (data, cut, &small, &got, &got_size, &thumb,
                                             &thumb_size, NULL, err, sizeof err),
                  -1);
    free (data);
    void *half;
    size_t half_size;
    CHECK_EQ (worm_render_png (rgb, 16, 12, &half, &half_size), 0);
    CHECK_EQ (worm_render_result_encode (png, png_size, half, half_size, NULL, &data, &size), 0);
    CHECK_EQ (worm_render_result_decode (data, size, &small, &got, &got_size, &thumb,
                                         &thumb_size, NULL, err, sizeof err),
              -1);
    CHECK_HAS (err, "result: field 'thumb': a thumbnail of 16x12, want 32x24");
    CHECK (got == NULL && thumb == NULL);
    free (data);
    free (half);
    worm_wire_writer_init (&wr);
    worm_wire_map_open (&wr);
    worm_wire_kbin (&wr, "png", png, png_size);
    worm_wire_kstr (&wr, "thumb", "a string");
    worm_wire_map_close (&wr);
    CHECK_EQ (worm_render_result_decode (worm_wire_writer_data (&wr), worm_wire_writer_size (&wr),
                                         &small, &got, &got_size, &thumb, &thumb_size, NULL, err,
                                         sizeof err),
              -1);
    CHECK_HAS (err, "result: field 'thumb'");
    worm_wire_writer_fini (&wr);
    //  The unit's thumb flag round trips; one that is not a bool is refused
    worm_render_unit_t asks = {WORM_RENDER_MANDELBROT, 7, 640, 480, true};
    CHECK_EQ (worm_render_unit_encode (&asks, &data, &size), 0);
    CHECK_EQ (worm_render_unit_decode (data, size, &back, err, sizeof err), 0);
    CHECK (back.thumb);
    free (data);
    worm_wire_writer_init (&wr);
    worm_wire_map_open (&wr);
    worm_wire_kstr (&wr, "scene", "mandelbrot");
    worm_wire_ku64 (&wr, "frame", 1);
    worm_wire_ku64 (&wr, "w", 2);
    worm_wire_ku64 (&wr, "h", 2);
    worm_wire_kstr (&wr, "thumb", "yes");
    worm_wire_map_close (&wr);
    CHECK_EQ (worm_render_unit_decode (worm_wire_writer_data (&wr), worm_wire_writer_size (&wr),
                                       &back, err, sizeof err),
              -1);
    CHECK_HAS (err, "unit: field 'thumb'");
    worm_wire_writer_fini (&wr);
    free (small_png);
    free (png);
    free (rgb);
}

static void
s_test_args (void)
{
    char err[300];
    uint32_t a, b;
    CHECK_EQ (worm_render_parse_frames ("0..11", &a, &b, err, sizeof err), 0);
    CHECK_EQ (a, 0);
    CHECK_EQ (b, 11);
    CHECK_EQ (worm_render_parse_frames ("7", &a, &b, err, sizeof err), 0);
    CHECK_EQ (a, 7);
    CHECK_EQ (b, 7);
    CHECK_EQ (worm_render_parse_frames ("0..99999", &a, &b, err, sizeof err), 0);
    static const char *bad_frames[][2] = {
        {"5..2", "--frames '5..2': the first frame is after the last"},
        {"0..100000", "is above 99999"},
        {"100000", "is above 99999"},
        {"1234567890..2", "want A..B"},
        {"", "want A..B"},
        {"a..b", "want A..B"},
        {"1..", "want A..B"},
        {"..3", "want A..B"},
        {"1...3", "want A..B"},
        {"-1..3", "want A..B"},
        {"1..2x", "want A..B"},
        {" 1..2", "want A..B"},
    };
    for (size_t i = 0; i < sizeof bad_frames / sizeof bad_frames[0]; i++) {
        CHECK_EQ (worm_render_parse_frames (bad_frames[i][0], &a, &b, err, sizeof err), -1);
        CHECK_HAS (err, bad_frames[i][1]);
    }
    CHECK_EQ (worm_render_parse_size ("640x480", &a, &b, err, sizeof err), 0);
    CHECK_EQ (a, 640);
    CHECK_EQ (b, 480);
    CHECK_EQ (worm_render_parse_size ("4096x4096", &a, &b, err, sizeof err), 0);
    CHECK_EQ (worm_render_parse_size ("8192x1", &a, &b, err, sizeof err), 0);
    static const char *bad_sizes[][2] = {
        {"0x0", "--size '0x0': width 0 is out of 1 to 8192"},
        {"10x0", "height 0 is out of"},
        {"100000x100000", "width 100000 is out of"},
        {"8193x1", "width 8193"},
        {"4097x4096", "16781312 pixels is above the limit of 16777216"},
        {"640", "want WxH"},
        {"640x", "want WxH"},
        {"x480", "want WxH"},
        {"640X480", "want WxH"},
        {"640x480 ", "want WxH"},
        {"9999999999x1", "want WxH"},
    };
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        CHECK_EQ (worm_render_parse_size (bad_sizes[i][0], &a, &b, err, sizeof err), -1);
        CHECK_HAS (err, bad_sizes[i][1]);
    }
    worm_render_scene_t scene;
    CHECK_EQ (worm_render_parse_scene ("mandelbrot", &scene, err, sizeof err), 0);
    CHECK_EQ (worm_render_parse_scene ("julia", &scene, err, sizeof err), -1);
    CHECK_HAS (err, "--scene 'julia': no such scene");

    //  --out: made with its parents; an existing folder is fine
    char *dir = s_tempdir ();
    char path[256], file[256];
    snprintf (path, sizeof path, "%s/a/b/c/", dir);
    CHECK_EQ (worm_render_out_prepare (path, err, sizeof err), 0);
    CHECK_EQ (worm_render_out_prepare (path, err, sizeof err), 0);
    s_check_folder (path, 0, 0, false);         //  the probe is gone
    //  A file in the way: refused, and nothing made
    snprintf (file, sizeof file, "%s/file", dir);
    FILE *f = fopen (file, "w");
    CHECK (f);
    fclose (f);
    CHECK_EQ (worm_render_out_prepare (file, err, sizeof err), -1);
    CHECK_HAS (err, "is not a folder");
    snprintf (path, sizeof path, "%s/file/x/y", dir);
    CHECK_EQ (worm_render_out_prepare (path, err, sizeof err), -1);
    CHECK_HAS (err, "is not a folder");
    CHECK_EQ (worm_render_out_prepare ("", err, sizeof err), -1);
    if (geteuid () != 0) {
        //  A folder that cannot be written (root writes anywhere)
        snprintf (path, sizeof path, "%s/locked", dir);
        CHECK (mkdir (path, 0500) == 0);
        CHECK_EQ (worm_render_out_prepare (path, err, sizeof err), -1);
        CHECK_HAS (err, "cannot write there");
        snprintf (file, sizeof file, "%s/locked/sub", dir);
        CHECK_EQ (worm_render_out_prepare (file, err, sizeof err), -1);
        CHECK_HAS (err, "cannot make");
        rmdir (path);
    }
    //  A read-only file system, for root too: /proc/sys refuses new files
    CHECK_EQ (worm_render_out_prepare ("/proc/sys/worm-render-test/x", err, sizeof err), -1);
    snprintf (file, sizeof file, "%s/file", dir);
    unlink (file);
    snprintf (path, sizeof path, "%s/a/b/c", dir);
    rmdir (path);
    snprintf (path, sizeof path, "%s/a/b", dir);
    rmdir (path);
    snprintf (path, sizeof path, "%s/a", dir);
    rmdir (path);
    CHECK (rmdir (dir) == 0);                   //  empty: nothing else was left
}

int
main (int argc, char *argv[])
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp (what, "scene") == 0)
        s_test_scene ();
    else if (strcmp (what, "png") == 0)
        s_test_png ();
    else if (strcmp (what, "thumb") == 0)
        s_test_thumb ();
    else if (strcmp (what, "writer") == 0)
        s_test_writer ();
    else if (strcmp (what, "unit") == 0)
        s_test_unit ();
    else if (strcmp (what, "args") == 0)
        s_test_args ();
    else {
        fprintf (stderr, "usage: test_render scene|png|thumb|writer|unit|args\n");
        return 1;
    }
    return check_done (what);
}
