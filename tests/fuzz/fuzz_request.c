/*  fuzz_request.c — libFuzzer harness for the request check of the agent
    and of a segment (worm/agent_ops.c, segments/ops.c). Every input is
    checked against both tables. A refusal must be one line; a request that
    passes must read back, with the same getters and buffer sizes as the
    handlers use, without a single error: the table and the handlers agree
    on what is valid. */
#include "agent_limits.h"
#include "ops.h"
#include "request.h"

#include <stdlib.h>
#include <string.h>

static void s_verify_fields (worm_wire_reader_t *reader, const msgpack_object *map,
                             const worm_field_t *fields);

//  Reads one value of type item (an array element or map value) as a
//  handler would; abort () when that fails.
static void
s_verify_item (worm_wire_reader_t *reader, const msgpack_object *obj, const worm_field_t *item)
{
    char buf[WORM_RUN_ARG_MAX + 1];    //  the longest string of any table
    if (item->type == WORM_FIELD_STR) {
        if (item->max + 1 > sizeof buf || worm_wire_obj_str (reader, obj, "item", buf, item->max + 1))
            abort ();
    }
    else if (item->type == WORM_FIELD_RECORD) {
        if (obj->type != MSGPACK_OBJECT_MAP)
            abort ();
        s_verify_fields (reader, obj, item->fields);
    }
}

static void
s_verify_fields (worm_wire_reader_t *reader, const msgpack_object *map, const worm_field_t *fields)
{
    for (const worm_field_t *field = fields; field && field->name; field++) {
        if (!worm_wire_field (map, field->name)) {
            if (field->required)
                abort ();
            continue;
        }
        char buf[WORM_RUN_ARG_MAX + 1];    //  the longest string of any table
        uint64_t u;
        double d;
        const msgpack_object_array *array;
        const msgpack_object *inner;
        int rc = -1;
        switch (field->type) {
        case WORM_FIELD_STR:
            if (field->max + 1 > sizeof buf)
                abort ();
            rc = worm_wire_get_str (reader, map, field->name, buf, field->max + 1);
            break;
        case WORM_FIELD_UINT:
            rc = worm_wire_get_u64 (reader, map, field->name, &u);
            break;
        case WORM_FIELD_BIN: {
            const void *bytes;
            size_t size;
            rc = worm_wire_get_bin (reader, map, field->name, &bytes, &size, field->max);
            break;
        }
        case WORM_FIELD_NUMBER:
            rc = worm_wire_get_f64 (reader, map, field->name, &d);
            break;
        case WORM_FIELD_BOOL:
            rc = worm_wire_field (map, field->name)->type == MSGPACK_OBJECT_BOOLEAN ? 0 : -1;
            break;
        case WORM_FIELD_ARRAY:
            rc = worm_wire_get_array (reader, map, field->name, &array, field->max);
            for (uint32_t i = 0; rc == 0 && i < array->size; i++)
                s_verify_item (reader, &array->ptr[i], field->item);
            break;
        case WORM_FIELD_MAP:
            rc = worm_wire_get_map (reader, map, field->name, &inner);
            if (rc == 0 && inner->via.map.size > field->max)
                abort ();
            for (uint32_t i = 0; rc == 0 && i < inner->via.map.size; i++) {
                char name[256];
                if (field->name_max + 1 > sizeof name
                    || worm_wire_obj_str (reader, &inner->via.map.ptr[i].key, "name", name,
                                          field->name_max + 1))
                    abort ();
                //  The name finds its own entry: names are distinct
                if (worm_wire_field (inner, name) != &inner->via.map.ptr[i].val)
                    abort ();
                if (field->item->type == WORM_FIELD_NUMBER
                    && worm_wire_get_f64 (reader, inner, name, &d))
                    abort ();
                s_verify_item (reader, &inner->via.map.ptr[i].val, field->item);
            }
            break;
        case WORM_FIELD_RECORD:
            rc = worm_wire_get_map (reader, map, field->name, &inner);
            if (rc == 0)
                s_verify_fields (reader, inner, field->fields);
            break;
        }
        if (rc != 0)
            abort ();
    }
}

static void
s_one (const uint8_t *data, size_t size, const worm_request_table_t *table)
{
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    char err[WORM_REQUEST_ERROR_MAX];
    memset (err, 'x', sizeof err);
    if (worm_request_check (data, size, table, &reader, err, sizeof err) == 0) {
        char op[32];
        if (worm_wire_get_str (&reader, reader.root, "op", op, sizeof op))
            abort ();
        const worm_request_op_t *spec = worm_request_op (table, op);
        if (!spec)
            abort ();
        s_verify_fields (&reader, reader.root, spec->fields);
    }
    else if (!memchr (err, 0, sizeof err) || err[0] == 0 || strchr (err, '\n'))
        abort ();       //  a refusal is one non-empty line
    worm_wire_reader_fini (&reader);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_one (data, size, &worm_request_agent);
    s_one (data, size, &worm_segment_requests);
    return 0;
}
