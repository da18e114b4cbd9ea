/*  request.c — the one check every request passes before its handler
    runs. The tables are their servers' own: the agent's in
    worm/agent_ops.c, the segment's in segments/ops.c. See request.h. */
#include "request.h"
#include "auth.h"
#include "beacon.h"
#include "ctl.h"
#include "ring.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

//  --------------------------------------------------------------------------

//  --------------------------------------------------------------------------
//  The check

typedef struct {
    const char *op;     //  the op being checked, to start every sentence
    char *err;          //  where the sentence goes
    size_t cap;         //  its size
} s_check_t;

static int
s_fail (s_check_t *check, const char *fmt, ...)
{
    char reason[WORM_REQUEST_ERROR_MAX];
    va_list args;
    va_start (args, fmt);
    vsnprintf (reason, sizeof reason, fmt, args);
    va_end (args);
    snprintf (check->err, check->cap, "%s: %s", check->op, reason);
    return -1;
}

static bool
s_str_is (const msgpack_object *obj, const char *text)
{
    size_t len = strlen (text);
    return obj->type == MSGPACK_OBJECT_STR && obj->via.str.size == len
           && memcmp (obj->via.str.ptr, text, len) == 0;
}

static bool
s_same_str (const msgpack_object *a, const msgpack_object *b)
{
    return a->via.str.size == b->via.str.size
           && memcmp (a->via.str.ptr, b->via.str.ptr, a->via.str.size) == 0;
}

//  A string of at most max bytes and no NUL; what is "" or "name " (an
//  entry's name), to say which string was wrong.
static int
s_check_str (s_check_t *check, const msgpack_object *obj, size_t max, const char *path,
             const char *what)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return s_fail (check, "field '%s': %sexpected a string", path, what);
    if (obj->via.str.size > max)
        return s_fail (check, "field '%s': %sstring of %u bytes exceeds %zu", path, what,
                       (unsigned) obj->via.str.size, max);
    if (memchr (obj->via.str.ptr, 0, obj->via.str.size))
        return s_fail (check, "field '%s': %sstring holds a NUL byte", path, what);
    return 0;
}

static int s_check_fields (s_check_t *check, const msgpack_object *map,
                           const worm_field_t *fields, const char *prefix);

//  Checks one value against its field; path names it in errors.
static int
s_check_value (s_check_t *check, const msgpack_object *obj, const worm_field_t *field,
               const char *path)
{
    char inner[192];
    switch (field->type) {
    case WORM_FIELD_STR:
        return s_check_str (check, obj, field->max, path, "");
    case WORM_FIELD_BIN:
        if (obj->type != MSGPACK_OBJECT_BIN)
            return s_fail (check, "field '%s': expected bytes (bin)", path);
        if (obj->via.bin.size > field->max)
            return s_fail (check, "field '%s': %u bytes exceed %zu", path,
                           (unsigned) obj->via.bin.size, field->max);
        return 0;
    case WORM_FIELD_BOOL:
        if (obj->type != MSGPACK_OBJECT_BOOLEAN)
            return s_fail (check, "field '%s': expected true or false", path);
        return 0;
    case WORM_FIELD_UINT:
        if (obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return s_fail (check, "field '%s': expected an unsigned integer", path);
        return 0;
    case WORM_FIELD_NUMBER:
        if (obj->type == MSGPACK_OBJECT_FLOAT32 || obj->type == MSGPACK_OBJECT_FLOAT64) {
            if (obj->via.f64 != obj->via.f64)
                return s_fail (check, "field '%s': not a number (NaN)", path);
            return 0;
        }
        if (obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER
            && obj->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return s_fail (check, "field '%s': expected a number", path);
        return 0;
    case WORM_FIELD_ARRAY:
        if (obj->type != MSGPACK_OBJECT_ARRAY)
            return s_fail (check, "field '%s': expected an array", path);
        if (obj->via.array.size > field->max)
            return s_fail (check, "field '%s': %u elements exceed %zu", path,
                           (unsigned) obj->via.array.size, field->max);
        for (uint32_t i = 0; i < obj->via.array.size; i++) {
            snprintf (inner, sizeof inner, "%s[%u]", path, (unsigned) i);
            if (s_check_value (check, &obj->via.array.ptr[i], field->item, inner))
                return -1;
        }
        return 0;
    case WORM_FIELD_MAP:
        if (obj->type != MSGPACK_OBJECT_MAP)
            return s_fail (check, "field '%s': expected a map", path);
        if (obj->via.map.size > field->max)
            return s_fail (check, "field '%s': %u entries exceed %zu", path,
                           (unsigned) obj->via.map.size, field->max);
        for (uint32_t i = 0; i < obj->via.map.size; i++) {
            const msgpack_object_kv *entry = &obj->via.map.ptr[i];
            snprintf (inner, sizeof inner, "%s[%u]", path, (unsigned) i);
            if (s_check_str (check, &entry->key, field->name_max, inner, "name: "))
                return -1;
            //  A name given twice would leave it to the handler which one counts
            for (uint32_t j = 0; j < i; j++)
                if (s_same_str (&entry->key, &obj->via.map.ptr[j].key))
                    return s_fail (check, "field '%s': name given twice", inner);
            if (s_check_value (check, &entry->val, field->item, inner))
                return -1;
        }
        return 0;
    case WORM_FIELD_RECORD:
        if (obj->type != MSGPACK_OBJECT_MAP)
            return s_fail (check, "field '%s': expected a map", path);
        return s_check_fields (check, obj, field->fields, path);
    }
    return s_fail (check, "field '%s': no rule for this field", path);
}

//  Checks a map against a list of fields. prefix is the path of the map
//  ("" at the top), so nested fields are named 'member.pid'.
static int
s_check_fields (s_check_t *check, const msgpack_object *map, const worm_field_t *fields,
                const char *prefix)
{
    //  Keys are strings everywhere in the protocol
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (map->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR) {
            if (*prefix)
                return s_fail (check, "field '%s': key %u is not a string", prefix,
                               (unsigned) i);
            return s_fail (check, "key %u is not a string", (unsigned) i);
        }
    for (const worm_field_t *field = fields; field && field->name; field++) {
        char path[192];
        snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", field->name);
        const msgpack_object *value = NULL;
        for (uint32_t i = 0; i < map->via.map.size; i++)
            if (s_str_is (&map->via.map.ptr[i].key, field->name)) {
                if (value)
                    return s_fail (check, "field '%s': given twice", path);
                value = &map->via.map.ptr[i].val;
            }
        if (!value) {
            if (field->required)
                return s_fail (check, "missing field '%s'", path);
            continue;
        }
        if (s_check_value (check, value, field, path))
            return -1;
    }
    return 0;
}

const worm_request_op_t *
worm_request_first (const worm_request_table_t *table)
{
    return table->ops;
}

const worm_request_op_t *
worm_request_next (const worm_request_table_t *table, const worm_request_op_t *op)
{
    size_t size = table->op_size ? table->op_size : sizeof (worm_request_op_t);
    return (const worm_request_op_t *) ((const char *) op + size);
}

const worm_request_op_t *
worm_request_op (const worm_request_table_t *table, const char *name)
{
    for (const worm_request_op_t *op = worm_request_first (table); op->op;
         op = worm_request_next (table, op))
        if (strcmp (op->op, name) == 0)
            return op;
    return NULL;
}

//  The op in a request's "op" string object, or NULL.
static const worm_request_op_t *
s_find_op (const worm_request_table_t *table, const msgpack_object *name)
{
    for (const worm_request_op_t *op = worm_request_first (table); op->op;
         op = worm_request_next (table, op))
        if (s_str_is (name, op->op))
            return op;
    return NULL;
}

//  "unknown op 'x'": the name is shown only when it is short and printable,
//  so that the sentence stays one readable line.
static int
s_unknown_op (s_check_t *check, const msgpack_object *name)
{
    size_t size = name->via.str.size;
    bool printable = size > 0 && size <= 32;
    for (size_t i = 0; printable && i < size; i++)
        printable = isprint ((unsigned char) name->via.str.ptr[i]) && name->via.str.ptr[i] != '\'';
    if (printable)
        snprintf (check->err, check->cap, "unknown op '%.*s'", (int) size, name->via.str.ptr);
    else
        snprintf (check->err, check->cap, "unknown op (a name of %zu bytes that is not text)",
                  size);
    return -1;
}

int
worm_request_check (const void *data, size_t size, const worm_request_table_t *table,
                    worm_wire_reader_t *out, char *err, size_t cap)
{
    s_check_t check = {.op = "bad request", .err = err, .cap = cap};
    if (worm_wire_parse (out, data, size, table->max_size))
        return s_fail (&check, "%s", out->error);
    const msgpack_object *root = out->root;
    const msgpack_object *name = NULL;
    for (uint32_t i = 0; i < root->via.map.size; i++)
        if (s_str_is (&root->via.map.ptr[i].key, "op")) {
            if (name)
                return s_fail (&check, "field 'op': given twice");
            name = &root->via.map.ptr[i].val;
        }
    if (!name)
        return s_fail (&check, "missing field 'op'");
    if (name->type != MSGPACK_OBJECT_STR)
        return s_fail (&check, "field 'op': expected a string");
    const worm_request_op_t *op = s_find_op (table, name);
    if (!op)
        return s_unknown_op (&check, name);
    check.op = op->op;
    return s_check_fields (&check, root, op->fields, "");
}

bool
worm_request_allowed (const worm_request_table_t *table, const char *name, unsigned roles)
{
    const worm_request_op_t *op = worm_request_op (table, name);
    return op && (op->allow & roles) != 0;
}
