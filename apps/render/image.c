/*  image.c — frames as PNG, through libpng, in memory. See render.h.

    libpng reports errors by longjmp to the setjmp of the call that started
    it; everything a failed call must free therefore lives in a struct that
    the error path reaches through a pointer set before setjmp, never in a
    local variable changed after it.
*/
#include "render.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

//  Fixed encoder settings, so the bytes depend on the pixels (and zlib) only.
//  One filter for every row rather than libpng's per-row heuristic, whose
//  choice could change between libpng versions. Level 1 with Z_RLE rather
//  than 6: encoding is overhead on every frame. At 640x480 it takes 2.8 ms
//  against level 3's 4.0 for a mandelbrot frame, 4.8 against 7.4 for a
//  raytrace one, for files 7 to 9 % larger (worm-render-local --json).
#define S_LEVEL 1
#define S_FILTER PNG_FILTER_SUB

//  What a call keeps while libpng runs: the bytes written or read, and why it failed.
typedef struct {
    uint8_t *data;              //  encode: the PNG so far (malloc'd); decode: the input
    size_t size;                //  bytes in data
    size_t cap;                 //  encode: bytes allocated
    size_t at;                  //  decode: bytes consumed
    uint8_t *rgb;               //  decode: the pixels (malloc'd)
    char error[160];            //  libpng's message, when it failed
} s_io_t;

static void
s_error (png_structp png, png_const_charp message)
{
    s_io_t *io = png_get_error_ptr (png);
    snprintf (io->error, sizeof io->error, "%s", message);
    png_longjmp (png, 1);
}

static void
s_warning (png_structp png, png_const_charp message)
{
    (void) png;
    (void) message;             //  warnings (an extra chunk, say) are not failures
}

static void
s_write (png_structp png, png_bytep data, size_t length)
{
    s_io_t *io = png_get_io_ptr (png);
    if (io->size + length > io->cap) {
        size_t cap = io->cap ? io->cap : 65536;
        while (cap < io->size + length)
            cap *= 2;
        uint8_t *bigger = realloc (io->data, cap);
        if (!bigger)
            png_error (png, "out of memory");
        io->data = bigger;
        io->cap = cap;
    }
    memcpy (io->data + io->size, data, length);
    io->size += length;
}

static void
s_flush (png_structp png)
{
    (void) png;
}

int
worm_render_png (const uint8_t *rgb, uint32_t w, uint32_t h, void **png_out, size_t *size)
{
    if (w == 0 || h == 0 || w > WORM_RENDER_SIDE_MAX || h > WORM_RENDER_SIDE_MAX
        || (uint64_t) w * h > WORM_RENDER_PIXELS_MAX)
        return -1;
    s_io_t io = {0};
    png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &io, s_error, s_warning);
    png_infop info = png ? png_create_info_struct (png) : NULL;
    if (!info) {
        png_destroy_write_struct (&png, NULL);
        return -1;
    }
    if (setjmp (png_jmpbuf (png))) {
        png_destroy_write_struct (&png, &info);
        free (io.data);
        return -1;
    }
    png_set_write_fn (png, &io, s_write, s_flush);
    png_set_compression_level (png, S_LEVEL);
    png_set_compression_strategy (png, Z_RLE);
    png_set_compression_window_bits (png, 15);
    png_set_compression_mem_level (png, 8);
    png_set_filter (png, PNG_FILTER_TYPE_BASE, S_FILTER);
    png_set_IHDR (png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                  PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info (png, info);
    for (uint32_t y = 0; y < h; y++)
        png_write_row (png, rgb + (size_t) y * w * 3);
    png_write_end (png, NULL);
    png_destroy_write_struct (&png, &info);
    *png_out = io.data;
    *size = io.size;
    return 0;
}

static void
s_read (png_structp png, png_bytep data, size_t length)
{
    s_io_t *io = png_get_io_ptr (png);
    if (length > io->size - io->at)
        png_error (png, "truncated");
    memcpy (data, io->data + io->at, length);
    io->at += length;
}

static uint32_t
s_be32 (const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

int
worm_render_png_info (const void *png, size_t size, uint32_t *w, uint32_t *h, char *err,
                      size_t cap)
{
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t *p = png;
    if (size < 33 || memcmp (p, signature, 8) != 0) {
        snprintf (err, cap, "not a PNG (no signature)");
        return -1;
    }
    if (s_be32 (p + 8) != 13 || memcmp (p + 12, "IHDR", 4) != 0) {
        snprintf (err, cap, "not a PNG (no header chunk first)");
        return -1;
    }
    uint32_t width = s_be32 (p + 16), height = s_be32 (p + 20);
    if (p[24] != 8 || p[25] != PNG_COLOR_TYPE_RGB || p[28] != PNG_INTERLACE_NONE) {
        snprintf (err, cap, "PNG is not 8-bit RGB without interlace (depth %u, colour type %u)",
                  p[24], p[25]);
        return -1;
    }
    if (width == 0 || height == 0 || width > WORM_RENDER_SIDE_MAX
        || height > WORM_RENDER_SIDE_MAX || (uint64_t) width * height > WORM_RENDER_PIXELS_MAX) {
        snprintf (err, cap, "PNG of %ux%u is out of the size limits", width, height);
        return -1;
    }
    *w = width;
    *h = height;
    return 0;
}

int
worm_render_png_decode (const void *data, size_t size, uint8_t **rgb, uint32_t *w_out,
                        uint32_t *h_out, char *err, size_t cap)
{
    uint32_t w, h;
    if (worm_render_png_info (data, size, &w, &h, err, cap))
        return -1;
    s_io_t io = {.data = (uint8_t *) data, .size = size};
    png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &io, s_error, s_warning);
    png_infop info = png ? png_create_info_struct (png) : NULL;
    if (!info) {
        png_destroy_read_struct (&png, NULL, NULL);
        snprintf (err, cap, "out of memory");
        return -1;
    }
    if (setjmp (png_jmpbuf (png))) {
        png_destroy_read_struct (&png, &info, NULL);
        free (io.rgb);
        snprintf (err, cap, "bad PNG: %s", io.error);
        return -1;
    }
    png_set_read_fn (png, &io, s_read);
    png_set_user_limits (png, WORM_RENDER_SIDE_MAX, WORM_RENDER_SIDE_MAX);
    png_read_info (png, info);
    if (png_get_image_width (png, info) != w || png_get_image_height (png, info) != h
        || png_get_bit_depth (png, info) != 8 || png_get_color_type (png, info) != PNG_COLOR_TYPE_RGB
        || png_get_interlace_type (png, info) != PNG_INTERLACE_NONE)
        png_error (png, "header changed under us");
    png_read_update_info (png, info);
    if (png_get_rowbytes (png, info) != (size_t) w * 3)
        png_error (png, "unexpected row size");
    io.rgb = malloc ((size_t) w * h * 3);
    if (!io.rgb)
        png_error (png, "out of memory");
    for (uint32_t y = 0; y < h; y++)
        png_read_row (png, io.rgb + (size_t) y * w * 3, NULL);
    png_read_end (png, NULL);
    png_destroy_read_struct (&png, &info, NULL);
    *rgb = io.rgb;
    *w_out = w;
    *h_out = h;
    return 0;
}

void
worm_render_thumb_size (uint32_t w, uint32_t h, uint32_t *tw, uint32_t *th)
{
    uint32_t side = WORM_RENDER_THUMB_SIDE;
    if (w >= h) {
        *tw = w < side ? w : side;
        *th = (uint32_t) ((uint64_t) h * *tw / w);
    } else {
        *th = h < side ? h : side;
        *tw = (uint32_t) ((uint64_t) w * *th / h);
    }
    *tw = *tw ? *tw : 1;
    *th = *th ? *th : 1;
}

void
worm_render_thumb (const uint8_t *rgb, uint32_t w, uint32_t h, uint8_t *thumb)
{
    uint32_t tw, th;
    worm_render_thumb_size (w, h, &tw, &th);
    //  Thumbnail column tx covers the frame's columns x0[tx] .. x0[tx + 1] - 1
    //  (tw <= w, so none is empty), and row ty the rows y0 .. y1 - 1
    uint32_t x0[WORM_RENDER_THUMB_SIDE + 1];
    for (uint32_t tx = 0; tx <= tw; tx++)
        x0[tx] = (uint32_t) ((uint64_t) tx * w / tw);
    uint64_t sum[WORM_RENDER_THUMB_SIDE * 3];
    for (uint32_t ty = 0; ty < th; ty++) {
        uint32_t y0 = (uint32_t) ((uint64_t) ty * h / th);
        uint32_t y1 = (uint32_t) ((uint64_t) (ty + 1) * h / th);
        memset (sum, 0, sizeof sum);
        for (uint32_t y = y0; y < y1; y++) {
            const uint8_t *p = rgb + (size_t) y * w * 3;
            for (uint32_t tx = 0; tx < tw; tx++) {
                uint64_t r = 0, g = 0, b = 0;
                for (const uint8_t *end = rgb + ((size_t) y * w + x0[tx + 1]) * 3; p < end; p += 3) {
                    r += p[0];
                    g += p[1];
                    b += p[2];
                }
                sum[tx * 3] += r;
                sum[tx * 3 + 1] += g;
                sum[tx * 3 + 2] += b;
            }
        }
        uint8_t *out = thumb + (size_t) ty * tw * 3;
        for (uint32_t tx = 0; tx < tw; tx++) {
            uint64_t n = (uint64_t) (y1 - y0) * (x0[tx + 1] - x0[tx]);
            for (int c = 0; c < 3; c++)
                out[tx * 3 + c] = (uint8_t) ((sum[tx * 3 + c] + n / 2) / n);
        }
    }
}

int
worm_render_thumb_png (const uint8_t *rgb, uint32_t w, uint32_t h, void **png, size_t *size)
{
    if (w == 0 || h == 0 || w > WORM_RENDER_SIDE_MAX || h > WORM_RENDER_SIDE_MAX
        || (uint64_t) w * h > WORM_RENDER_PIXELS_MAX)
        return -1;
    uint32_t tw, th;
    worm_render_thumb_size (w, h, &tw, &th);
    uint8_t *thumb = malloc ((size_t) tw * th * 3);
    if (!thumb)
        return -1;
    worm_render_thumb (rgb, w, h, thumb);
    int rc = worm_render_png (thumb, tw, th, png, size);
    free (thumb);
    return rc;
}
