/*  unit.c — a factor work unit and its result on the wire. See unit.h. */
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

int
worm_factor_unit_encode (const worm_factor_unit_t *unit, void **data, size_t *size)
{
    char *n = mpz_get_str (NULL, 10, unit->n);
    if (!n)
        return -1;
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kstr (&w, "n", n);
    worm_wire_kf64 (&w, "b1", unit->b1);
    worm_wire_ku64 (&w, "sigma", unit->sigma);
    worm_wire_ku64 (&w, "curves", unit->curves);
    worm_wire_map_close (&w);
    free (n);
    return s_take (&w, data, size);
}

//  A decimal string field of at most WORM_FACTOR_UNIT_DIGITS digits into z.
static int
s_get_number (worm_wire_reader_t *r, const char *key, mpz_t z, char *err, size_t cap)
{
    const msgpack_object *obj = worm_wire_field (r->root, key);
    if (!obj || obj->type != MSGPACK_OBJECT_STR) {
        snprintf (err, cap, "field '%s': expected a decimal string", key);
        return -1;
    }
    size_t len = obj->via.str.size;
    if (len == 0 || len > WORM_FACTOR_UNIT_DIGITS) {
        snprintf (err, cap, "field '%s': %zu digits (want 1 to %d)", key, len,
                  WORM_FACTOR_UNIT_DIGITS);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (obj->via.str.ptr[i] < '0' || obj->via.str.ptr[i] > '9') {
            snprintf (err, cap, "field '%s': not a decimal number", key);
            return -1;
        }
    char *text = malloc (len + 1);
    if (!text) {
        snprintf (err, cap, "out of memory");
        return -1;
    }
    memcpy (text, obj->via.str.ptr, len);
    text[len] = 0;
    mpz_set_str (z, text, 10);
    free (text);
    return 0;
}

//  A uint field within [low, high].
static int
s_get_count (worm_wire_reader_t *r, const char *key, uint64_t low, uint64_t high, uint64_t *value,
             char *err, size_t cap)
{
    if (worm_wire_get_u64 (r, r->root, key, value)) {
        snprintf (err, cap, "%s", r->error);
        return -1;
    }
    if (*value < low || *value > high) {
        snprintf (err, cap, "field '%s': %llu is out of [%llu, %llu]", key,
                  (unsigned long long) *value, (unsigned long long) low,
                  (unsigned long long) high);
        return -1;
    }
    return 0;
}

int
worm_factor_unit_decode (const void *data, size_t size, worm_factor_unit_t *unit, char *err,
                         size_t cap)
{
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    char why[200] = "";
    uint64_t sigma = 0, curves = 0;
    int rc = -1;
    if (worm_wire_parse (&r, data, size, size) != 0)
        snprintf (why, sizeof why, "%s", r.error);
    else if (s_get_number (&r, "n", unit->n, why, sizeof why) == 0
             && worm_wire_get_f64 (&r, r.root, "b1", &unit->b1) != 0)
        snprintf (why, sizeof why, "%s", r.error);
    else if (!why[0] && !(unit->b1 >= 1 && unit->b1 <= WORM_FACTOR_UNIT_B1_MAX))
        snprintf (why, sizeof why, "field 'b1': %g is out of [1, %g]", unit->b1,
                  WORM_FACTOR_UNIT_B1_MAX);
    else if (!why[0]
             && s_get_count (&r, "sigma", WORM_FACTOR_SIGMA_MIN, UINT32_MAX, &sigma, why,
                             sizeof why) == 0
             && s_get_count (&r, "curves", 1, WORM_FACTOR_UNIT_CURVES, &curves, why,
                             sizeof why) == 0) {
        if (sigma + curves - 1 > UINT32_MAX)
            snprintf (why, sizeof why, "field 'curves': sigmas past 2^32");
        else {
            unit->sigma = (uint32_t) sigma;
            unit->curves = (uint32_t) curves;
            rc = 0;
        }
    }
    if (rc)
        snprintf (err, cap, "unit: %s", why);
    worm_wire_reader_fini (&r);
    return rc;
}

int
worm_factor_result_encode (const mpz_t factor, uint32_t curves, void **data, size_t *size)
{
    char *text = factor ? mpz_get_str (NULL, 10, factor) : NULL;
    if (factor && !text)
        return -1;
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kbool (&w, "found", factor != NULL);
    if (text)
        worm_wire_kstr (&w, "factor", text);
    worm_wire_ku64 (&w, "curves", curves);
    worm_wire_map_close (&w);
    free (text);
    return s_take (&w, data, size);
}

int
worm_factor_result_decode (const void *data, size_t size, bool *found, mpz_t factor,
                           uint32_t *curves, char *err, size_t cap)
{
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    char why[200] = "";
    uint64_t count = 0;
    int rc = -1;
    if (worm_wire_parse (&r, data, size, size) != 0
        || worm_wire_get_bool (&r, r.root, "found", found) != 0
        || worm_wire_get_u64 (&r, r.root, "curves", &count) != 0)
        snprintf (why, sizeof why, "%s", r.error);
    else if (!*found || s_get_number (&r, "factor", factor, why, sizeof why) == 0) {
        *curves = count > UINT32_MAX ? UINT32_MAX : (uint32_t) count;
        rc = 0;
    }
    if (rc)
        snprintf (err, cap, "result: %s", why);
    worm_wire_reader_fini (&r);
    return rc;
}
