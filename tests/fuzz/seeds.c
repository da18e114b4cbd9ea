/*  worm-fuzz-seeds — writes valid messages into the fuzz corpora folders
    given, so each harness starts from inputs that decode.
    Usage: worm-fuzz-seeds BEACON-DIR TOKEN-DIR RING-DIR [REQUEST-DIR] */
#include "beacon.h"
#include "agent_limits.h"
#include "ops.h"
#include "request.h"
#include "ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_write (const char *dir, const char *name, const void *data, size_t size)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (data, 1, size, file) != size)
        exit (1);
    fclose (file);
}

typedef struct {
    bool optional;              //  write the optional fields too
    const worm_field_t *over;   //  the one field written past its limit, or NULL
} s_seed_t;

static void s_write_fields (worm_wire_writer_t *writer, const worm_field_t *fields,
                            const s_seed_t *seed, const char *op);

//  A value for field that the request table accepts, unless field is the
//  seed's "over": then a string one byte too long, one element or entry
//  too many, or a value of the wrong type.
static void
s_write_value (worm_wire_writer_t *writer, const worm_field_t *field, const s_seed_t *seed)
{
    bool over = field == seed->over;
    size_t count = over ? field->max + 1 : 2;
    char text[WORM_RUN_ARG_MAX + 2] = "w1";    //  the longest string of any table
    switch (field->type) {
    case WORM_FIELD_STR:
        if (over) {
            memset (text, 'x', field->max + 1);
            text[field->max + 1] = 0;
        }
        worm_wire_str (writer, text);
        break;
    case WORM_FIELD_BIN:
        if (over)
            worm_wire_str (writer, "not bytes");
        else
            worm_wire_bin (writer, "\x01\x02", 2);
        break;
    case WORM_FIELD_UINT:
        if (over)
            worm_wire_i64 (writer, -1);
        else
            worm_wire_u64 (writer, 4242);
        break;
    case WORM_FIELD_BOOL:
        if (over)
            worm_wire_str (writer, "true");
        else
            worm_wire_bool (writer, true);
        break;
    case WORM_FIELD_NUMBER:
        if (over)
            worm_wire_str (writer, "1.5");
        else
            worm_wire_f64 (writer, 1.5);
        break;
    case WORM_FIELD_ARRAY:
        worm_wire_array (writer, count);
        for (size_t i = 0; i < count; i++)
            s_write_value (writer, field->item, seed);
        break;
    case WORM_FIELD_MAP:
        worm_wire_map (writer, count);
        for (size_t i = 0; i < count; i++) {
            snprintf (text, sizeof text, i == 1 ? "max-load" : "WORM_APP_%zu", i);
            worm_wire_str (writer, text);
            s_write_value (writer, field->item, seed);
        }
        break;
    case WORM_FIELD_RECORD:
        if (over)
            worm_wire_array (writer, 0);
        else
            s_write_fields (writer, field->fields, seed, NULL);
        break;
    }
}

//  A map of fields (and "op" first, unless op is NULL).
static void
s_write_fields (worm_wire_writer_t *writer, const worm_field_t *fields, const s_seed_t *seed,
                const char *op)
{
    size_t count = op != NULL;
    for (const worm_field_t *f = fields; f && f->name; f++)
        count += seed->optional || f->required;
    worm_wire_map (writer, count);
    if (op)
        worm_wire_kstr (writer, "op", op);
    for (const worm_field_t *f = fields; f && f->name; f++)
        if (seed->optional || f->required) {
            worm_wire_str (writer, f->name);
            s_write_value (writer, f, seed);
        }
}

//  Every field reachable from fields (nested records, elements), into list.
static size_t
s_all_fields (const worm_field_t *fields, const worm_field_t **list, size_t count, size_t cap)
{
    for (const worm_field_t *f = fields; f && f->name && count < cap; f++) {
        list[count++] = f;
        if (f->type == WORM_FIELD_RECORD)
            count = s_all_fields (f->fields, list, count, cap);
        else if (f->item && count < cap)
            list[count++] = f->item;
    }
    return count;
}

static void
s_write_request (const char *dir, const char *name, const char *op, const worm_field_t *fields,
                 const s_seed_t *seed)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    s_write_fields (&writer, fields, seed, op);
    s_write (dir, name, worm_wire_writer_data (&writer), worm_wire_writer_size (&writer));
    worm_wire_writer_fini (&writer);
}

//  Per op of table: a request with the required fields, one with every
//  field, and one per field with that field past its limit.
static void
s_write_requests (const char *dir, const worm_request_table_t *table)
{
    for (const worm_request_op_t *op = worm_request_first (table); op->op;
         op = worm_request_next (table, op)) {
        char name[96];
        snprintf (name, sizeof name, "%s-%s", table->who, op->op);
        s_write_request (dir, name, op->op, op->fields, &(s_seed_t) {.optional = false});
        const worm_field_t *list[32];
        size_t count = s_all_fields (op->fields, list, 0, 32);
        if (count == 0)
            continue;
        snprintf (name, sizeof name, "%s-%s-all", table->who, op->op);
        s_write_request (dir, name, op->op, op->fields, &(s_seed_t) {.optional = true});
        for (size_t i = 0; i < count; i++) {
            snprintf (name, sizeof name, "%s-%s-over%zu", table->who, op->op, i);
            s_write_request (dir, name, op->op, op->fields,
                             &(s_seed_t) {.optional = true, .over = list[i]});
        }
    }
}

int
main (int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        return 2;
    if (argc == 5) {
        s_write_requests (argv[4], &worm_request_agent);
        s_write_requests (argv[4], &worm_segment_requests);
    }
    worm_beacon_t beacon = {.kind = WORM_BEACON_ANNOUNCE, .host = {.willing = true, .load = 0.5,
                            .idle_s = 60, .segments = 1, .max_segments = 2, .interval_ms = 1000}};
    snprintf (beacon.host.id, sizeof beacon.host.id, "0123456789abcdef");
    snprintf (beacon.host.name, sizeof beacon.host.name, "host1");
    snprintf (beacon.host.endpoint, sizeof beacon.host.endpoint, "tcp://127.0.0.1:4000");
    snprintf (beacon.host.key, sizeof beacon.host.key, "%s", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    snprintf (beacon.host.reason, sizeof beacon.host.reason, "idle");
    snprintf (beacon.host.caps, sizeof beacon.host.caps, "spawn");
    const char *names[] = {NULL, "announce", "query", "answer"};
    for (int kind = 1; kind <= 3; kind++) {
        beacon.kind = (worm_beacon_kind_t) kind;
        beacon.qid = 42;
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_beacon_encode (&beacon, &writer);
        s_write (argv[1], names[kind], worm_wire_writer_data (&writer),
                 worm_wire_writer_size (&writer));
        worm_wire_writer_fini (&writer);
    }
    //  A token with members, spawns and params
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, "w0");
    worm_token_set_worm_name (token, "fuzz");
    worm_token_set_app_name (token, "existential");
    worm_token_set_population (token, 3, 4);
    worm_token_param_add (token, "key=value");
    for (int i = 0; i < 3; i++) {
        worm_member_t member = {.pid = (uint64_t) (100 + i), .born_at_ms = 5};
        snprintf (member.id, sizeof member.id, "s%d", i + 1);
        snprintf (member.host, sizeof member.host, "h%d", i + 1);
        snprintf (member.host_id, sizeof member.host_id, "%016d", i + 1);
        snprintf (member.endpoint, sizeof member.endpoint, "tcp://127.0.0.1:%d", 4000 + i);
        worm_token_member_add (token, &member);
    }
    worm_token_set_voters_from_live (token);
    worm_token_spawn_add (token, "sp1", "h4", "s1", 10);
    worm_token_set_app_state (token, "state", 5);
    uint8_t *bytes;
    size_t size;
    char err[256];
    if (worm_token_encode (token, &bytes, &size, err, sizeof err))
        return 1;
    s_write (argv[2], "token", bytes, size);
    free (bytes);
    worm_token_destroy (&token);
    //  Ring messages: what a founding segment sends when it holds and forwards
    worm_ring_config_t config;
    worm_ring_config_defaults (&config);
    snprintf (config.worm_id, sizeof config.worm_id, "w0");
    snprintf (config.self.id, sizeof config.self.id, "s2");
    snprintf (config.self.endpoint, sizeof config.self.endpoint, "tcp://127.0.0.1:2");
    worm_ring_t *ring = worm_ring_new (&config, 0);
    token = worm_token_new ();
    worm_token_set_worm_id (token, "w0");
    worm_token_set_worm_name (token, "fuzz");
    worm_token_set_app_name (token, "existential");
    worm_token_set_population (token, 2, 3);
    worm_ring_found (ring, &token, 0);
    int count = 0;
    for (uint64_t now = 0; now < 60000 && count < 8; now += 100) {
        worm_ring_tick (ring, now);
        const worm_ring_action_t *action;
        while ((action = worm_ring_action (ring))) {
            if (action->type == WORM_RING_SPAWN) {
                //  The new segment joins: the ring then sends it tokens
                worm_member_t member = {.pid = 7, .state = WORM_MEMBER_JOINING};
                snprintf (member.id, sizeof member.id, "s9");
                snprintf (member.host, sizeof member.host, "h9");
                snprintf (member.host_id, sizeof member.host_id, "0000000000000009");
                snprintf (member.endpoint, sizeof member.endpoint, "tcp://127.0.0.1:9");
                char spawn_id[64];
                snprintf (spawn_id, sizeof spawn_id, "%s", action->spawn_id);
                worm_ring_spawn_result (ring, spawn_id, &member, now);
                break;
            }
            if (action->type == WORM_RING_SEND && count < 8) {
                char name[32];
                snprintf (name, sizeof name, "message%d", count++);
                s_write (argv[3], name, action->data, action->size);
            }
        }
    }
    //  NEWER, which a founding segment sends only to a lineage that lost:
    //  its copy, on the word of a voter
    uint8_t *copy = NULL;
    size_t copy_size = 0;
    char copy_err[WORM_TOKEN_ERROR_MAX];
    if (worm_ring_token (ring)
        && worm_token_encode (worm_ring_token (ring), &copy, &copy_size, copy_err,
                              sizeof copy_err)
               == 0) {
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_wire_map (&writer, 6);
        worm_wire_kstr (&writer, "type", "NEWER");
        worm_wire_kstr (&writer, "worm", "w0");
        worm_wire_kstr (&writer, "from", "s2");
        worm_wire_kstr (&writer, "endpoint", "tcp://127.0.0.1:2");
        worm_wire_kbin (&writer, "token", copy, copy_size);
        worm_wire_kstr (&writer, "by", "s1");
        s_write (argv[3], "newer", worm_wire_writer_data (&writer),
                 worm_wire_writer_size (&writer));
        worm_wire_writer_fini (&writer);
        free (copy);
    }
    worm_ring_destroy (&ring);
    //  The two hints no founding segment sends alone: PASSED and DIED
    const char *types[] = {"PASSED", "DIED"};
    for (int i = 0; i < 2; i++) {
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_wire_map (&writer, i == 0 ? 6 : 5);
        worm_wire_kstr (&writer, "type", types[i]);
        worm_wire_kstr (&writer, "worm", "w0");
        worm_wire_kstr (&writer, "from", "s2");
        worm_wire_kstr (&writer, "endpoint", "tcp://127.0.0.1:2");
        if (i == 0) {
            worm_wire_ku64 (&writer, "epoch", 1);
            worm_wire_ku64 (&writer, "seq", 2);
        }
        else
            worm_wire_kstr (&writer, "id", "s9");
        s_write (argv[3], i == 0 ? "passed" : "died", worm_wire_writer_data (&writer),
                 worm_wire_writer_size (&writer));
        worm_wire_writer_fini (&writer);
    }
    return 0;
}
