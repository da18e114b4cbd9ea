/*  wire.c — msgpack maps written and read as hostile input. See wire.h. */
#include "wire.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
worm_wire_writer_init (worm_wire_writer_t *self)
{
    msgpack_sbuffer_init (&self->sbuf);
    msgpack_packer_init (&self->pk, &self->sbuf, msgpack_sbuffer_write);
    self->depth = 0;
}

void
worm_wire_writer_fini (worm_wire_writer_t *self)
{
    msgpack_sbuffer_destroy (&self->sbuf);
}

const char *
worm_wire_writer_data (worm_wire_writer_t *self)
{
    assert (self->depth == 0);
    return self->sbuf.data;
}

size_t
worm_wire_writer_size (worm_wire_writer_t *self)
{
    assert (self->depth == 0);
    return self->sbuf.size;
}

//  A value starts: it is one more item of the container around it.
static void
s_begin (worm_wire_writer_t *self)
{
    if (self->depth == 0)
        return;
    worm_wire_frame_t *frame = &self->frames[self->depth - 1];
    if (frame->counted)
        frame->items++;
    else {
        assert (frame->remaining > 0);
        frame->remaining--;
    }
}

//  A value ended: containers of a given count that it completed end too.
static void
s_end (worm_wire_writer_t *self)
{
    while (self->depth > 0 && !self->frames[self->depth - 1].counted &&
           self->frames[self->depth - 1].remaining == 0)
        self->depth--;
}

static void
s_push (worm_wire_writer_t *self, worm_wire_frame_t frame)
{
    assert (self->depth < WORM_WIRE_MAX_DEPTH);
    self->frames[self->depth++] = frame;
}

//  A container of n values given up front (none: it is complete at once).
static void
s_given (worm_wire_writer_t *self, size_t n)
{
    if (n)
        s_push (self, (worm_wire_frame_t) {.remaining = n});
    else
        s_end (self);
}

void
worm_wire_map_open (worm_wire_writer_t *self)
{
    s_begin (self);
    s_push (self, (worm_wire_frame_t) {.counted = true, .at = self->sbuf.size});
    msgpack_pack_map (&self->pk, 0);    //  one byte, rewritten on close
}

void
worm_wire_map_close (worm_wire_writer_t *self)
{
    assert (self->depth > 0 && self->frames[self->depth - 1].counted);
    worm_wire_frame_t *frame = &self->frames[self->depth - 1];
    assert (frame->items % 2 == 0);
    size_t n = frame->items / 2;
    size_t at = frame->at;
    if (n < 16)
        self->sbuf.data[at] = (char) (0x80 | n);
    else {
        //  A map16 or map32 header: make room after the placeholder byte
        size_t extra = n <= 0xffff ? 2 : 4;
        size_t body = self->sbuf.size - at - 1;
        msgpack_sbuffer_write (&self->sbuf, "\0\0\0\0", extra);
        unsigned char *p = (unsigned char *) self->sbuf.data + at;
        memmove (p + 1 + extra, p + 1, body);
        p[0] = extra == 2 ? 0xde : 0xdf;
        for (size_t i = 0; i < extra; i++)
            p[1 + i] = (unsigned char) (n >> (8 * (extra - 1 - i)));
    }
    self->depth--;
    s_end (self);
}

void
worm_wire_map (worm_wire_writer_t *self, size_t n)
{
    s_begin (self);
    msgpack_pack_map (&self->pk, n);
    s_given (self, 2 * n);
}

void
worm_wire_array (worm_wire_writer_t *self, size_t n)
{
    s_begin (self);
    msgpack_pack_array (&self->pk, n);
    s_given (self, n);
}

void
worm_wire_str (worm_wire_writer_t *self, const char *value)
{
    s_begin (self);
    if (!value)
        msgpack_pack_nil (&self->pk);
    else {
        size_t len = strlen (value);
        msgpack_pack_str (&self->pk, len);
        msgpack_pack_str_body (&self->pk, value, len);
    }
    s_end (self);
}

void
worm_wire_key (worm_wire_writer_t *self, const char *key)
{
    assert (key);
    worm_wire_str (self, key);
}

void
worm_wire_object (worm_wire_writer_t *self, const msgpack_object *value)
{
    s_begin (self);
    msgpack_pack_object (&self->pk, *value);
    s_end (self);
}

void
worm_wire_encoded (worm_wire_writer_t *self, const void *data, size_t size)
{
    s_begin (self);
    msgpack_sbuffer_write (&self->sbuf, data, size);
    s_end (self);
}

void
worm_wire_u64 (worm_wire_writer_t *self, uint64_t value)
{
    s_begin (self);
    msgpack_pack_uint64 (&self->pk, value);
    s_end (self);
}

void
worm_wire_i64 (worm_wire_writer_t *self, int64_t value)
{
    s_begin (self);
    msgpack_pack_int64 (&self->pk, value);
    s_end (self);
}

void
worm_wire_f64 (worm_wire_writer_t *self, double value)
{
    s_begin (self);
    msgpack_pack_double (&self->pk, value);
    s_end (self);
}

void
worm_wire_bool (worm_wire_writer_t *self, bool value)
{
    s_begin (self);
    if (value)
        msgpack_pack_true (&self->pk);
    else
        msgpack_pack_false (&self->pk);
    s_end (self);
}

void
worm_wire_bin (worm_wire_writer_t *self, const void *data, size_t size)
{
    s_begin (self);
    msgpack_pack_bin (&self->pk, size);
    if (size)
        msgpack_pack_bin_body (&self->pk, data, size);
    s_end (self);
}

void
worm_wire_nil (worm_wire_writer_t *self)
{
    s_begin (self);
    msgpack_pack_nil (&self->pk);
    s_end (self);
}

void
worm_wire_kstr (worm_wire_writer_t *self, const char *key, const char *value)
{
    worm_wire_key (self, key);
    worm_wire_str (self, value);
}

void
worm_wire_ku64 (worm_wire_writer_t *self, const char *key, uint64_t value)
{
    worm_wire_key (self, key);
    worm_wire_u64 (self, value);
}

void
worm_wire_ki64 (worm_wire_writer_t *self, const char *key, int64_t value)
{
    worm_wire_key (self, key);
    worm_wire_i64 (self, value);
}

void
worm_wire_kf64 (worm_wire_writer_t *self, const char *key, double value)
{
    worm_wire_key (self, key);
    worm_wire_f64 (self, value);
}

void
worm_wire_kbool (worm_wire_writer_t *self, const char *key, bool value)
{
    worm_wire_key (self, key);
    worm_wire_bool (self, value);
}

void
worm_wire_kbin (worm_wire_writer_t *self, const char *key, const void *data, size_t size)
{
    worm_wire_key (self, key);
    worm_wire_bin (self, data, size);
}

//  --------------------------------------------------------------------------
//  Structural pre-scan

static int
s_fail (char *err, size_t errcap, const char *fmt, ...)
{
    if (err && errcap) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (err, errcap, fmt, args);
        va_end (args);
    }
    return -1;
}

static uint64_t
s_read_be (const uint8_t *p, size_t n)
{
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++)
        value = (value << 8) | p[i];
    return value;
}

int
worm_wire_check (const void *data, size_t size, int max_depth, char *err, size_t errcap)
{
    const uint8_t *p = (const uint8_t *) data;
    if (max_depth < 1 || max_depth > WORM_WIRE_MAX_DEPTH)
        max_depth = WORM_WIRE_MAX_DEPTH;
    //  remaining[d] = objects still to read in the container open at depth d
    uint64_t remaining[WORM_WIRE_MAX_DEPTH + 2];
    int depth = 0;
    remaining[0] = 1;
    size_t pos = 0;

    while (true) {
        while (depth > 0 && remaining[depth] == 0)
            depth--;
        if (depth == 0 && remaining[0] == 0)
            break;
        remaining[depth]--;
        if (pos >= size)
            return s_fail (err, errcap, "truncated at byte %zu", pos);
        uint8_t b = p[pos++];
        size_t length_bytes = 0;     //  big-endian length or count that follows
        uint64_t payload = 0;        //  fixed payload bytes to skip
        int kind = 0;                //  0 scalar, 1 array, 2 map, 3 sized payload
        uint64_t count = 0;

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;
        else if (b >= 0x80 && b <= 0x8f) {
            kind = 2;
            count = b & 0x0f;
        }
        else if (b >= 0x90 && b <= 0x9f) {
            kind = 1;
            count = b & 0x0f;
        }
        else if (b >= 0xa0 && b <= 0xbf) {
            kind = 3;
            count = b & 0x1f;
        }
        else
            switch (b) {
            case 0xc4: case 0xd9: kind = 3; length_bytes = 1; break;
            case 0xc5: case 0xda: kind = 3; length_bytes = 2; break;
            case 0xc6: case 0xdb: kind = 3; length_bytes = 4; break;
            case 0xca: payload = 4; break;
            case 0xcb: payload = 8; break;
            case 0xcc: case 0xd0: payload = 1; break;
            case 0xcd: case 0xd1: payload = 2; break;
            case 0xce: case 0xd2: payload = 4; break;
            case 0xcf: case 0xd3: payload = 8; break;
            case 0xdc: kind = 1; length_bytes = 2; break;
            case 0xdd: kind = 1; length_bytes = 4; break;
            case 0xde: kind = 2; length_bytes = 2; break;
            case 0xdf: kind = 2; length_bytes = 4; break;
            case 0xc1:
                return s_fail (err, errcap, "invalid byte 0xc1 at %zu", pos - 1);
            default:
                return s_fail (err, errcap, "ext type 0x%02x at %zu not allowed", b, pos - 1);
            }
        if (length_bytes) {
            if (size - pos < length_bytes)
                return s_fail (err, errcap, "truncated at byte %zu", pos);
            count = s_read_be (p + pos, length_bytes);
            pos += length_bytes;
        }
        if (kind == 3)
            payload = count;
        if (payload) {
            if (payload > size - pos)
                return s_fail (err, errcap, "truncated: %llu bytes claimed at %zu, %zu left",
                               (unsigned long long) payload, pos, size - pos);
            pos += payload;
        }
        if ((kind == 1 || kind == 2) && count > 0) {
            uint64_t children = kind == 2 ? count * 2 : count;
            if (children > size - pos)
                return s_fail (err, errcap, "count %llu at %zu exceeds the %zu bytes left",
                               (unsigned long long) count, pos, size - pos);
            if (depth + 1 > max_depth)
                return s_fail (err, errcap, "nested deeper than %d", max_depth);
            remaining[++depth] = children;
        }
    }
    if (pos != size)
        return s_fail (err, errcap, "%zu trailing bytes", size - pos);
    return 0;
}

//  --------------------------------------------------------------------------
//  Reader

void
worm_wire_reader_init (worm_wire_reader_t *self)
{
    msgpack_unpacked_init (&self->unpacked);
    self->copy = NULL;
    self->root = NULL;
    self->error[0] = 0;
}

void
worm_wire_reader_fini (worm_wire_reader_t *self)
{
    msgpack_unpacked_destroy (&self->unpacked);
    free (self->copy);
    self->copy = NULL;
    self->root = NULL;
}

int
worm_wire_parse (worm_wire_reader_t *self, const void *data, size_t size, size_t max_size)
{
    self->root = NULL;
    if (size == 0)
        return s_fail (self->error, sizeof self->error, "empty message");
    if (size > max_size)
        return s_fail (self->error, sizeof self->error, "message of %zu bytes exceeds %zu",
                       size, max_size);
    if (worm_wire_check (data, size, WORM_WIRE_MAX_DEPTH, self->error, sizeof self->error))
        return -1;
    free (self->copy);
    self->copy = malloc (size);
    if (!self->copy)
        return s_fail (self->error, sizeof self->error, "out of memory");
    memcpy (self->copy, data, size);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&self->unpacked, self->copy, size, &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size)
        return s_fail (self->error, sizeof self->error, "msgpack does not decode");
    if (self->unpacked.data.type != MSGPACK_OBJECT_MAP)
        return s_fail (self->error, sizeof self->error, "top level is not a map");
    self->root = &self->unpacked.data;
    return 0;
}

const msgpack_object *
worm_wire_field (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t key_len = strlen (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == key_len
            && memcmp (k->via.str.ptr, key, key_len) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

//  Looks the key up; returns the object or NULL with "missing field" set.
static const msgpack_object *
s_lookup (worm_wire_reader_t *self, const msgpack_object *map, const char *key)
{
    const msgpack_object *obj = worm_wire_field (map, key);
    if (!obj)
        s_fail (self->error, sizeof self->error, "missing field '%s'", key);
    return obj;
}

static int
s_wrong (worm_wire_reader_t *self, const char *key, const char *why)
{
    return s_fail (self->error, sizeof self->error, "field '%s': %s", key, why);
}

int
worm_wire_obj_str (worm_wire_reader_t *self, const msgpack_object *obj, const char *what,
                   char *buf, size_t cap)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return s_wrong (self, what, "expected a string");
    if (obj->via.str.size >= cap)
        return s_fail (self->error, sizeof self->error,
                       "field '%s': string of %u bytes exceeds %zu", what,
                       (unsigned) obj->via.str.size, cap - 1);
    if (memchr (obj->via.str.ptr, 0, obj->via.str.size))
        return s_wrong (self, what, "string holds a NUL byte");
    memcpy (buf, obj->via.str.ptr, obj->via.str.size);
    buf[obj->via.str.size] = 0;
    return 0;
}

int
worm_wire_get_str (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                   char *buf, size_t cap)
{
    const msgpack_object *obj = s_lookup (self, map, key);
    if (!obj)
        return 1;
    return worm_wire_obj_str (self, obj, key, buf, cap);
}

int
worm_wire_get_u64 (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                   uint64_t *value)
{
    const msgpack_object *obj = s_lookup (self, map, key);
    if (!obj)
        return 1;
    if (obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return s_wrong (self, key, "expected a non-negative integer");
    *value = obj->via.u64;
    return 0;
}

int
worm_wire_get_i64 (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                   int64_t *value)
{
    const msgpack_object *obj = s_lookup (self, map, key);
    if (!obj)
        return 1;
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *value = obj->via.i64;
    else if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER && obj->via.u64 <= INT64_MAX)
        *value = (int64_t) obj->via.u64;
    else
        return s_wrong (self, key, "expected a 64-bit integer");
    return 0;
}

int
worm_wire_get_f64 (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                   double *value)
{
    const msgpack_object *obj = s_lookup (self, map, key);
    if (!obj)
        return 1;
    if (obj->type == MSGPACK_OBJECT_FLOAT32 || obj->type == MSGPACK_OBJECT_FLOAT64)
        *value = obj->via.f64;
    else if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *value = (double) obj->via.u64;
    else if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *value = (double) obj->via.i64;
    else
        return s_wrong (self, key, "expected a number");
    if (*value != *value)
        return s_wrong (self, key, "not a number (NaN)");
    return 0;
}

int
worm_wire_get_bool (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                    bool *value)
{
    const msgpack_object *obj = s_lookup (self, map, key);
    if (!obj)
        return 1;
    if (obj->type != MSGPACK_OBJECT_BOOLEAN)
        return s_wrong (self, key, "expected a boolean");
    *value = obj->via.boolean;
    return 0;
}

int
worm_wire_get_bin (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                   const void **data, size_t *size, size_t max_size)
{
    const msgpack_object *obj = s_lookup (self, map, key);
    if (!obj)
        return 1;
    if (obj->type != MSGPACK_OBJECT_BIN)
        return s_wrong (self, key, "expected binary data");
    if (obj->via.bin.size > max_size)
        return s_fail (self->error, sizeof self->error, "field '%s': %u bytes exceed %zu", key,
                       (unsigned) obj->via.bin.size, max_size);
    *data = obj->via.bin.ptr;
    *size = obj->via.bin.size;
    return 0;
}

int
worm_wire_get_array (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                     const msgpack_object_array **array, size_t max_count)
{
    const msgpack_object *obj = s_lookup (self, map, key);
    if (!obj)
        return 1;
    if (obj->type != MSGPACK_OBJECT_ARRAY)
        return s_wrong (self, key, "expected an array");
    if (obj->via.array.size > max_count)
        return s_fail (self->error, sizeof self->error, "field '%s': %u elements exceed %zu",
                       key, (unsigned) obj->via.array.size, max_count);
    *array = &obj->via.array;
    return 0;
}

int
worm_wire_get_map (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                   const msgpack_object **value)
{
    const msgpack_object *obj = s_lookup (self, map, key);
    if (!obj)
        return 1;
    if (obj->type != MSGPACK_OBJECT_MAP)
        return s_wrong (self, key, "expected a map");
    *value = obj;
    return 0;
}
