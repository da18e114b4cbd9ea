/*  unit.c — a render work unit and its result on the wire. See unit.h. */
#include "unit.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The writer's bytes, handed to the caller.
static int
s_take (worm_wire_writer_t *w, void **data, size_t *size)
{
    *size = worm_wire_writer_size (w);
    *data = malloc (*size);
    if (*data)
        memcpy (*data, worm_wire_writer_data (w), *size);
    worm_wire_writer_fini (w);
    return *data ? 0 : -1;
}

//  Whether a unit's fields are within render.h's limits.
static int
s_unit_valid (const worm_render_unit_t *unit)
{
    return worm_render_scene_name (unit->scene) && unit->frame <= WORM_RENDER_FRAME_MAX
           && unit->w >= 1 && unit->w <= WORM_RENDER_SIDE_MAX && unit->h >= 1
           && unit->h <= WORM_RENDER_SIDE_MAX
           && (uint64_t) unit->w * unit->h <= WORM_RENDER_PIXELS_MAX;
}

int
worm_render_unit_encode (const worm_render_unit_t *unit, void **data, size_t *size)
{
    if (!s_unit_valid (unit))
        return -1;
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kstr (&w, "scene", worm_render_scene_name (unit->scene));
    worm_wire_ku64 (&w, "frame", unit->frame);
    worm_wire_ku64 (&w, "w", unit->w);
    worm_wire_ku64 (&w, "h", unit->h);
    if (unit->thumb)
        worm_wire_kbool (&w, "thumb", true);
    worm_wire_map_close (&w);
    return s_take (&w, data, size);
}

//  A uint field within [low, high].
static int
s_get_count (worm_wire_reader_t *r, const char *key, uint64_t low, uint64_t high, uint32_t *value,
             char *err, size_t cap)
{
    uint64_t n;
    if (worm_wire_get_u64 (r, r->root, key, &n)) {
        snprintf (err, cap, "%s", r->error);
        return -1;
    }
    if (n < low || n > high) {
        snprintf (err, cap, "field '%s': %llu is out of [%llu, %llu]", key, (unsigned long long) n,
                  (unsigned long long) low, (unsigned long long) high);
        return -1;
    }
    *value = (uint32_t) n;
    return 0;
}

int
worm_render_unit_decode (const void *data, size_t size, worm_render_unit_t *unit, char *err,
                         size_t cap)
{
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    char why[200] = "", scene[32];
    worm_render_unit_t u = {.thumb = false};
    int rc = -1;
    if (worm_wire_parse (&r, data, size, 4096) != 0
        || worm_wire_get_str (&r, r.root, "scene", scene, sizeof scene) != 0)
        snprintf (why, sizeof why, "%s", r.error);
    else if (worm_render_scene_parse (scene, &u.scene) != 0)
        snprintf (why, sizeof why, "field 'scene': no scene '%s'", scene);
    else if (s_get_count (&r, "frame", 0, WORM_RENDER_FRAME_MAX, &u.frame, why, sizeof why) == 0
             && s_get_count (&r, "w", 1, WORM_RENDER_SIDE_MAX, &u.w, why, sizeof why) == 0
             && s_get_count (&r, "h", 1, WORM_RENDER_SIDE_MAX, &u.h, why, sizeof why) == 0) {
        if ((uint64_t) u.w * u.h > WORM_RENDER_PIXELS_MAX)
            snprintf (why, sizeof why, "fields 'w', 'h': %ux%u is above %u pixels", u.w, u.h,
                      WORM_RENDER_PIXELS_MAX);
        else if (worm_wire_get_bool (&r, r.root, "thumb", &u.thumb) < 0)
            snprintf (why, sizeof why, "%s", r.error);
        else {
            *unit = u;
            rc = 0;
        }
    }
    if (rc)
        snprintf (err, cap, "unit: %s", why);
    worm_wire_reader_fini (&r);
    return rc;
}

int
worm_render_result_encode (const void *png, size_t png_size, const void *thumb,
                           size_t thumb_size, const worm_render_times_t *times, void **data,
                           size_t *size)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kbin (&w, "png", png, png_size);
    if (thumb)
        worm_wire_kbin (&w, "thumb", thumb, thumb_size);
    if (times) {
        worm_wire_ku64 (&w, "render_us", times->render_us);
        worm_wire_ku64 (&w, "png_us", times->png_us);
        worm_wire_ku64 (&w, "thumb_us", times->thumb_us);
    }
    worm_wire_map_close (&w);
    return s_take (&w, data, size);
}

//  A PNG field's header: a PNG of w x h. 0, or -1 with the reason in why.
static int
s_check_png (const char *key, const void *bytes, size_t length, uint32_t want_w,
             uint32_t want_h, const char *what, char *why, size_t cap)
{
    uint32_t w, h;
    char info[200];
    if (worm_render_png_info (bytes, length, &w, &h, info, sizeof info) != 0) {
        snprintf (why, cap, "field '%s': %s", key, info);
        return -1;
    }
    if (w != want_w || h != want_h) {
        snprintf (why, cap, "field '%s': %s of %ux%u, want %ux%u", key, what, w, h, want_w,
                  want_h);
        return -1;
    }
    return 0;
}

//  The fields of a parsed result of unit: the frame's bytes, the
//  thumbnail's (*small NULL when there is none) and the times, pointing
//  into r. Returns 0, or -1 with the reason in why.
static int
s_result_fields (worm_wire_reader_t *r, const worm_render_unit_t *unit, const void **bytes,
                 size_t *length, const void **small, size_t *small_length,
                 worm_render_times_t *t, char *why, size_t cap)
{
    uint32_t tw, th;
    worm_render_thumb_size (unit->w, unit->h, &tw, &th);
    if (worm_wire_get_bin (r, r->root, "png", bytes, length, WORM_RENDER_PNG_MAX) != 0) {
        snprintf (why, cap, "%s", r->error);
        return -1;
    }
    if (s_check_png ("png", *bytes, *length, unit->w, unit->h, "a frame", why, cap))
        return -1;
    int rc = worm_wire_get_bin (r, r->root, "thumb", small, small_length,
                                WORM_RENDER_THUMB_PNG_MAX);
    if (rc < 0) {
        snprintf (why, cap, "%s", r->error);
        return -1;
    }
    if (rc == 1)
        *small = NULL;
    else if (s_check_png ("thumb", *small, *small_length, tw, th, "a thumbnail", why, cap))
        return -1;
    if (worm_wire_get_u64 (r, r->root, "render_us", &t->render_us) < 0
        || worm_wire_get_u64 (r, r->root, "png_us", &t->png_us) < 0
        || worm_wire_get_u64 (r, r->root, "thumb_us", &t->thumb_us) < 0) {
        snprintf (why, cap, "%s", r->error);
        return -1;
    }
    return 0;
}

int
worm_render_result_decode (const void *data, size_t size, const worm_render_unit_t *unit,
                           void **png, size_t *png_size, void **thumb, size_t *thumb_size,
                           worm_render_times_t *times, char *err, size_t cap)
{
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    char why[200] = "";
    const void *bytes = NULL, *small = NULL;
    size_t length = 0, small_length = 0;
    worm_render_times_t t = {0, 0, 0};
    int rc = -1;
    *png = *thumb = NULL;
    if (worm_wire_parse (&r, data, size, WORM_RENDER_PNG_MAX + WORM_RENDER_THUMB_PNG_MAX + 64))
        snprintf (why, sizeof why, "%s", r.error);
    else if (s_result_fields (&r, unit, &bytes, &length, &small, &small_length, &t, why,
                              sizeof why) == 0) {
        *png = malloc (length);
        *thumb = small ? malloc (small_length) : NULL;
        if (!*png || (small && !*thumb)) {
            free (*png);
            free (*thumb);
            *png = *thumb = NULL;
            snprintf (why, sizeof why, "out of memory");
        }
        else {
            memcpy (*png, bytes, length);
            *png_size = length;
            if (small) {
                memcpy (*thumb, small, small_length);
                *thumb_size = small_length;
            }
            if (times)
                *times = t;
            rc = 0;
        }
    }
    if (rc)
        snprintf (err, cap, "result: %s", why);
    worm_wire_reader_fini (&r);
    return rc;
}
