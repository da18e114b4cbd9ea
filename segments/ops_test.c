/*  ops_test.c — the segment's op table and its dispatch: every op has a
    handler and roles, no one is let in by default, a role outside an op's
    set is refused before its handler runs, unknown ops and malformed
    requests are refused with the sentence that names the field; every op
    passes in the form its callers send it; and each handler does its job
    on a real ring (token/ring.h), with no socket. */
#include "ops.h"
#include "../tests/check.h"
#include "../tests/request_check.h"

#define WORM_ID "w-1234"
#define SELF_ID "host1-00000001"


//  Every role there is, the agent's and the segment's
static const unsigned s_all_roles[] = {WORM_ROLE_OWNER, WORM_ROLE_USER, WORM_ROLE_HOST,
                                       WORM_ROLE_GUEST, WORM_ROLE_WORM, WORM_ROLE_LAUNCHER,
                                       WORM_ROLE_AGENT};
#define ROLE_COUNT (sizeof s_all_roles / sizeof s_all_roles[0])

//  The shared checks against the segment's table
static void
s_expect_ok (worm_wire_writer_t *writer)
{
    request_expect_ok (&worm_segment_requests, writer);
}

static void
s_expect_error (worm_wire_writer_t *writer, const char *sentence)
{
    request_expect_error (&worm_segment_requests, writer, sentence);
}

//  {"op": op, key: value}
static void
s_op_str (worm_wire_writer_t *w, const char *op, const char *key, const char *value)
{
    worm_wire_map (w, 2);
    worm_wire_kstr (w, "op", op);
    worm_wire_kstr (w, key, value);
}

static void
s_write_member (worm_wire_writer_t *w, const char *host, bool with_pid)
{
    worm_wire_map (w, with_pid ? 5 : 4);
    worm_wire_kstr (w, "id", "host2-0badcafe");
    worm_wire_kstr (w, "host", host);
    worm_wire_kstr (w, "host_id", "0123456789abcdef");
    worm_wire_kstr (w, "endpoint", "tcp://127.0.0.1:40000");
    if (with_pid)
        worm_wire_ku64 (w, "pid", 4242);
}

//  The start of a join request: worm and spawn id, then the key "member"
static void
s_join_head (worm_wire_writer_t *w)
{
    worm_wire_map (w, 4);
    worm_wire_kstr (w, "op", "join");
    worm_wire_kstr (w, "worm", WORM_ID);
    worm_wire_kstr (w, "spawn_id", "sp-1");
    worm_wire_str (w, "member");
}

//  --------------------------------------------------------------------------
//  The table

//  Every op is found by name, has a handler and at least one role, and its
//  name fits the buffer the dispatch reads it into (16 bytes); a role
//  outside an op's set, and no role at all, are refused.
static void
s_table (void)
{
    const worm_request_table_t *t = &worm_segment_requests;
    CHECK_EQ (t->op_size, sizeof (worm_segment_op_t));
    CHECK_STR (t->who, "segment");
    size_t count = 0;
    for (const worm_request_op_t *op = worm_request_first (t); op->op;
         op = worm_request_next (t, op), count++) {
        const worm_segment_op_t *entry = (const worm_segment_op_t *) op;
        CHECK (worm_request_op (t, op->op) == op);
        CHECK (strlen (op->op) < 16);
        CHECK (entry->handler != NULL);
        CHECK (op->allow != 0);
        //  Denied by default
        CHECK (!worm_request_allowed (t, op->op, 0));
        for (size_t i = 0; i < ROLE_COUNT; i++)
            CHECK_EQ (worm_request_allowed (t, op->op, s_all_roles[i]),
                      (op->allow & s_all_roles[i]) != 0);
        //  An agent's caller is no caller of a segment
        CHECK (!worm_request_allowed (t, op->op, WORM_ROLE_OWNER | WORM_ROLE_USER
                                                     | WORM_ROLE_HOST | WORM_ROLE_GUEST));
    }
    CHECK_EQ (count, 6);
    CHECK (worm_request_op (t, "nope") == NULL);
    CHECK (worm_request_op (t, "claim") == NULL);
    CHECK (!worm_request_allowed (t, "nope", ~0u));
    //  Who may call what
    CHECK (worm_request_allowed (t, "status", WORM_ROLE_WORM));
    CHECK (worm_request_allowed (t, "status", WORM_ROLE_LAUNCHER));
    CHECK (worm_request_allowed (t, "status", WORM_ROLE_AGENT));
    CHECK (!worm_request_allowed (t, "kill", WORM_ROLE_WORM));
    CHECK (worm_request_allowed (t, "kill", WORM_ROLE_LAUNCHER));
    CHECK (worm_request_allowed (t, "kill", WORM_ROLE_AGENT));
    CHECK (!worm_request_allowed (t, "evict", WORM_ROLE_LAUNCHER | WORM_ROLE_WORM));
    CHECK (!worm_request_allowed (t, "suspect", WORM_ROLE_LAUNCHER | WORM_ROLE_WORM));
    CHECK (!worm_request_allowed (t, "join", WORM_ROLE_LAUNCHER | WORM_ROLE_AGENT));
    CHECK (worm_request_allowed (t, "join", WORM_ROLE_WORM));
    //  Only the launcher talks to the app (the job layer's master)
    CHECK (worm_request_allowed (t, "app", WORM_ROLE_LAUNCHER));
    CHECK (!worm_request_allowed (t, "app", WORM_ROLE_WORM | WORM_ROLE_AGENT));
}

//  An app request: verb, and a body of size bytes (none when size is 0).
static void
s_app_request (worm_wire_writer_t *w, const char *verb, size_t size)
{
    static char body[WORM_JOB_BODY_MAX + 1];
    worm_wire_map_open (w);
    worm_wire_kstr (w, "op", "app");
    worm_wire_kstr (w, "verb", verb);
    if (size)
        worm_wire_kbin (w, "body", body, size);
    worm_wire_map_close (w);
}

//  Every op in the form its callers send it (wormctl, the agent, a joiner).
static void
s_valid (void)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    //  app: a verb and a body of bytes up to its limit; a job's fields
    s_app_request (&w, "echo", WORM_JOB_BODY_MAX);
    s_expect_ok (&w);
    s_app_request (&w, "echo", WORM_JOB_BODY_MAX + 1);
    s_expect_error (&w, "app: field 'body': 196609 bytes exceed 196608");
    request_op_only (&w, "app");
    s_expect_error (&w, "app: missing field 'verb'");
    s_op_str (&w, "app", "verb", "job.held");
    s_expect_ok (&w);
    worm_wire_map_open (&w);
    worm_wire_kstr (&w, "op", "app");
    worm_wire_kstr (&w, "verb", "job.run");
    worm_wire_kstr (&w, "body", "text, not bytes");
    worm_wire_map_close (&w);
    s_expect_error (&w, "app: field 'body': expected bytes (bin)");
    worm_wire_map_open (&w);
    worm_wire_kstr (&w, "op", "app");
    worm_wire_kstr (&w, "verb", "job.cancel");
    worm_wire_key (&w, "units");
    worm_wire_array (&w, 1);
    worm_wire_str (&w, "7");
    worm_wire_map_close (&w);
    s_expect_error (&w, "app: field 'units[0]': expected an unsigned integer");
    const char *bare[] = {"status", "kill", "evict"};
    for (size_t i = 0; i < 3; i++) {
        request_op_only (&w, bare[i]);
        s_expect_ok (&w);
    }
    s_op_str (&w, "evict", "reason", "user active 0 s ago");
    s_expect_ok (&w);
    s_op_str (&w, "suspect", "id", "host3-0a1b2c3d");
    s_expect_ok (&w);
    request_op_only (&w, "suspect");
    s_expect_error (&w, "suspect: missing field 'id'");
    s_join_head (&w);
    s_write_member (&w, "host2", true);
    s_expect_ok (&w);
    //  The join the segment itself sends
    worm_member_t member = {.id = "host2-0badcafe", .host = "host2", .host_id = "H2",
                            .endpoint = "tcp://127.0.0.1:40000", .pid = 7};
    s_join_head (&w);
    worm_segment_write_member (&w, &member);
    s_expect_ok (&w);
    worm_wire_writer_fini (&w);
}

static void
s_refusals (void)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_request_check ("", 0, &worm_segment_requests, &reader, s_err, sizeof s_err),
              -1);
    CHECK_STR (s_err, "bad request: empty message");
    worm_wire_reader_fini (&reader);
    s_op_str (&w, "status", "op", "kill");
    s_expect_error (&w, "bad request: field 'op': given twice");
    //  Unknown ops, and ops of the agent
    request_op_only (&w, "claim");
    s_expect_error (&w, "unknown op 'claim'");
    request_op_only (&w, "nope");
    s_expect_error (&w, "unknown op 'nope'");
    //  Missing and misplaced fields of a nested record
    s_join_head (&w);
    s_write_member (&w, "host2", false);
    s_expect_error (&w, "join: missing field 'member.pid'");
    s_join_head (&w);
    worm_wire_array (&w, 0);
    s_expect_error (&w, "join: field 'member': expected a map");
    worm_wire_map (&w, 3);
    worm_wire_kstr (&w, "op", "join");
    worm_wire_kstr (&w, "worm", WORM_ID);
    worm_wire_kstr (&w, "spawn_id", "sp-1");
    s_expect_error (&w, "join: missing field 'member'");
    //  Oversize values
    static char big[256];
    request_repeat (big, 128, 'h');
    s_join_head (&w);
    s_write_member (&w, big, true);
    s_expect_error (&w, "join: field 'member.host': string of 128 bytes exceeds 127");
    request_repeat (big, 96, 'r');
    s_op_str (&w, "evict", "reason", big);
    s_expect_error (&w, "evict: field 'reason': string of 96 bytes exceeds 95");
    worm_wire_writer_fini (&w);
}

//  --------------------------------------------------------------------------
//  The dispatch and the handlers, on a real ring

static int s_handoffs;      //  calls of the test app's handoff

static int
s_handoff (void *state, worm_token_t *token, char *err, size_t cap)
{
    (void) err;
    (void) cap;
    CHECK (state == &s_handoffs);
    CHECK (token != NULL);
    s_handoffs++;
    return 0;
}

//  The test app's own verb: "echo" answers with its body's size
static int
s_request (void *state, const char *verb, const void *body, size_t size,
           worm_wire_writer_t *reply, char *err, size_t cap)
{
    (void) state;
    (void) body;
    if (strcmp (verb, "echo") != 0) {
        snprintf (err, cap, "no verb '%s' here", verb);
        return -1;
    }
    worm_wire_ku64 (reply, "size", size);
    return 0;
}

static const worm_app_t s_app = {.name = "test", .handoff = s_handoff, .request = s_request};

typedef struct {
    worm_segment_config_t config;   //  what the segment was "started" with
    worm_member_t self;             //  its member record
    worm_log_limiter_t limiter;     //  its limiter for refused input
    worm_segment_ctx_t ctx;         //  what the handlers get
    uint64_t now;                   //  the ring's clock
} s_segment_t;

//  A segment of worm WORM_ID that has founded it (target 2, max 3) or waits
//  to join it; its ring holds the token after founding.
static void
s_segment_new (s_segment_t *seg, bool found)
{
    memset (seg, 0, sizeof *seg);
    seg->config.found = found;
    snprintf (seg->config.worm_id, sizeof seg->config.worm_id, WORM_ID);
    snprintf (seg->config.worm, sizeof seg->config.worm, "clock");
    snprintf (seg->config.app, sizeof seg->config.app, "test");
    seg->config.size = 2;
    seg->config.max = 3;
    seg->self = (worm_member_t) {.id = SELF_ID, .host = "host1", .host_id = "H1",
                                 .endpoint = "tcp://127.0.0.1:5555", .pid = 99};
    worm_ring_config_t config;
    worm_ring_config_defaults (&config);
    snprintf (config.worm_id, sizeof config.worm_id, WORM_ID);
    config.self = seg->self;
    config.seed = 1;
    seg->now = 1000;
    seg->ctx = (worm_segment_ctx_t) {.ring = worm_ring_new (&config, seg->now),
                                     .config = &seg->config, .self = &seg->self,
                                     .app = &s_app, .app_state = &s_handoffs,
                                     .bad_message = &seg->limiter};
    CHECK (seg->ctx.ring);
    if (found) {
        worm_token_t *token = worm_token_new ();
        worm_token_set_worm_id (token, WORM_ID);
        CHECK_EQ (worm_token_set_population (token, 2, 3), 0);
        CHECK_EQ (worm_ring_found (seg->ctx.ring, &token, seg->now), 0);
        CHECK_EQ (worm_ring_state (seg->ctx.ring), WORM_RING_HOLDING);
    }
}

static void
s_segment_destroy (s_segment_t *seg)
{
    worm_ring_destroy (&seg->ctx.ring);
}

//  Takes the ring's actions; counts them by type into counts (indexed by
//  worm_ring_action_type_t) and keeps the last SPAWN's id and CHECK's peer.
static void
s_actions (s_segment_t *seg, int counts[8], char *spawn_id, char *check_peer)
{
    memset (counts, 0, 8 * sizeof (int));
    const worm_ring_action_t *a;
    while ((a = worm_ring_action (seg->ctx.ring))) {
        CHECK (a->type > 0 && a->type < 8);
        counts[a->type]++;
        if (a->type == WORM_RING_SPAWN && spawn_id)
            snprintf (spawn_id, WORM_TOKEN_ID_MAX, "%s", a->spawn_id);
        if (a->type == WORM_RING_CHECK && check_peer)
            snprintf (check_peer, WORM_TOKEN_ID_MAX, "%s", a->peer);
    }
}

//  The last reply, parsed (root NULL when there was none)
static worm_wire_reader_t s_reply;

//  Sends what w holds to the segment from key sender with roles; returns
//  worm_segment_handle's code, with the reply it wrote in s_reply and the
//  sentence in s_err. w is emptied.
static int
s_call (s_segment_t *seg, worm_wire_writer_t *w, const char *sender, unsigned roles)
{
    worm_wire_reader_fini (&s_reply);
    worm_wire_reader_init (&s_reply);
    worm_wire_writer_t out;
    worm_wire_writer_init (&out);
    s_err[0] = 0;
    int rc = worm_segment_handle (&seg->ctx, worm_wire_writer_data (w), worm_wire_writer_size (w),
                                  sender, roles, seg->now, &out, s_err, sizeof s_err);
    if (worm_wire_writer_size (&out) > 0)
        CHECK_EQ (worm_wire_parse (&s_reply, worm_wire_writer_data (&out),
                                   worm_wire_writer_size (&out), 1 << 20),
                  0);
    worm_wire_writer_fini (&out);
    worm_wire_writer_fini (w);
    worm_wire_writer_init (w);
    return rc;
}

//  The refusals of the dispatch: a malformed or unknown request (-1, no
//  reply), and a caller outside the op's roles (-2, the sentence for the
//  error reply), both before the handler runs.
static void
s_dispatch_refusals (void)
{
    s_segment_t seg;
    s_segment_new (&seg, true);
    int counts[8];
    s_actions (&seg, counts, NULL, NULL);
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    request_op_only (&w, "claim");
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_LAUNCHER), -1);
    CHECK_STR (s_err, "unknown op 'claim'");
    CHECK (s_reply.root == NULL);
    worm_wire_map (&w, 1);
    worm_wire_ku64 (&w, "op", 1);
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_AGENT), -1);
    CHECK_STR (s_err, "bad request: field 'op': expected a string");
    CHECK (s_reply.root == NULL);
    //  Every op, from every role outside its set and from no role: refused,
    //  and the ring sees nothing of it
    for (const worm_request_op_t *op = worm_request_first (&worm_segment_requests); op->op;
         op = worm_request_next (&worm_segment_requests, op)) {
        unsigned outside[ROLE_COUNT + 1];
        size_t n = 0;
        outside[n++] = 0;
        for (size_t i = 0; i < ROLE_COUNT; i++)
            if (!(op->allow & s_all_roles[i]))
                outside[n++] = s_all_roles[i];
        for (size_t i = 0; i < n; i++) {
            s_op_str (&w, op->op, "id", "host2-0badcafe");
            if (strcmp (op->op, "join") == 0) {
                worm_wire_writer_fini (&w);
                worm_wire_writer_init (&w);
                s_join_head (&w);
                s_write_member (&w, "host2", true);
            }
            if (strcmp (op->op, "app") == 0) {
                worm_wire_writer_fini (&w);
                worm_wire_writer_init (&w);
                s_app_request (&w, "echo", 1);
            }
            CHECK_EQ (s_call (&seg, &w, i ? "KEY" : NULL, outside[i]), -2);
            char expected[256];
            snprintf (expected, sizeof expected, "segment %s refused op '%s' from key %s",
                      SELF_ID, op->op, i ? "KEY" : "(none)");
            CHECK_STR (s_err, expected);
            CHECK (s_reply.root == NULL);
            s_actions (&seg, counts, NULL, NULL);
            for (int type = 0; type < 8; type++)
                CHECK_EQ (counts[type], 0);
            CHECK_EQ (worm_ring_state (seg.ctx.ring), WORM_RING_HOLDING);
        }
    }
    CHECK_EQ (s_handoffs, 0);
    worm_wire_writer_fini (&w);
    s_segment_destroy (&seg);
}

//  Finds key in map: its value, or NULL.
static const msgpack_object *
s_value (const msgpack_object *map, const char *key)
{
    for (uint32_t i = 0; map && i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen (key)
            && memcmp (k->via.str.ptr, key, k->via.str.size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static void
s_handlers (void)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    int counts[8];
    char text[128];
    uint64_t number;
    bool flag;

    //  status, of a joiner that has no token yet: the population it was given
    s_segment_t seg;
    s_segment_new (&seg, false);
    request_op_only (&w, "status");
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_AGENT), 0);
    CHECK (s_reply.root != NULL);
    CHECK_EQ (s_reply.root->via.map.size, 17);
    CHECK_EQ (worm_wire_get_bool (&s_reply, s_reply.root, "ok", &flag), 0);
    CHECK (flag);
    CHECK_EQ (worm_wire_get_str (&s_reply, s_reply.root, "id", text, sizeof text), 0);
    CHECK_STR (text, SELF_ID);
    CHECK_EQ (worm_wire_get_str (&s_reply, s_reply.root, "worm", text, sizeof text), 0);
    CHECK_STR (text, "clock");
    CHECK_EQ (worm_wire_get_str (&s_reply, s_reply.root, "endpoint", text, sizeof text), 0);
    CHECK_STR (text, "tcp://127.0.0.1:5555");
    CHECK_EQ (worm_wire_get_str (&s_reply, s_reply.root, "state", text, sizeof text), 0);
    CHECK_STR (text, "waiting");
    CHECK_EQ (worm_wire_get_bool (&s_reply, s_reply.root, "holds_token", &flag), 0);
    CHECK (!flag);
    CHECK_EQ (worm_wire_get_u64 (&s_reply, s_reply.root, "target", &number), 0);
    CHECK_EQ (number, 2);
    CHECK_EQ (worm_wire_get_u64 (&s_reply, s_reply.root, "pid", &number), 0);
    CHECK_EQ (number, 99);
    const msgpack_object *members = s_value (s_reply.root, "members");
    CHECK (members && members->type == MSGPACK_OBJECT_ARRAY);
    CHECK_EQ (members->via.array.size, 0);
    s_segment_destroy (&seg);

    //  status of the founder: it holds the token and is its only member
    s_segment_new (&seg, true);
    request_op_only (&w, "status");
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_WORM), 0);
    CHECK (s_reply.root != NULL);
    CHECK_EQ (worm_wire_get_str (&s_reply, s_reply.root, "state", text, sizeof text), 0);
    CHECK_STR (text, "holding");
    CHECK_EQ (worm_wire_get_u64 (&s_reply, s_reply.root, "live", &number), 0);
    CHECK_EQ (number, 1);
    CHECK_EQ (worm_wire_get_u64 (&s_reply, s_reply.root, "epoch", &number), 0);
    CHECK_EQ (number, 1);
    members = s_value (s_reply.root, "members");
    CHECK (members && members->type == MSGPACK_OBJECT_ARRAY);
    CHECK_EQ (members->via.array.size, 1);
    CHECK_EQ (worm_wire_get_str (&s_reply, &members->via.array.ptr[0], "id", text, sizeof text), 0);
    CHECK_STR (text, SELF_ID);

    //  join: the founder asks for a segment on its first tick; a join for
    //  another worm is refused, the right one lists the new member
    worm_ring_tick (seg.ctx.ring, worm_ring_deadline (seg.ctx.ring));
    seg.now = worm_ring_deadline (seg.ctx.ring);
    char spawn_id[WORM_TOKEN_ID_MAX] = "";
    s_actions (&seg, counts, spawn_id, NULL);
    CHECK_EQ (counts[WORM_RING_SPAWN], 1);
    CHECK (spawn_id[0]);
    worm_wire_map (&w, 4);
    worm_wire_kstr (&w, "op", "join");
    worm_wire_kstr (&w, "worm", "w-other");
    worm_wire_kstr (&w, "spawn_id", spawn_id);
    worm_wire_str (&w, "member");
    s_write_member (&w, "host2", true);
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_WORM), 0);
    CHECK (s_reply.root == NULL);
    CHECK_EQ (worm_token_member_count (worm_ring_token (seg.ctx.ring)), 1);
    worm_wire_map (&w, 4);
    worm_wire_kstr (&w, "op", "join");
    worm_wire_kstr (&w, "worm", WORM_ID);
    worm_wire_kstr (&w, "spawn_id", spawn_id);
    worm_wire_str (&w, "member");
    s_write_member (&w, "host2", true);
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_WORM), 0);
    CHECK (s_reply.root == NULL);
    worm_token_t *token = worm_ring_token (seg.ctx.ring);
    CHECK_EQ (worm_token_member_count (token), 2);
    CHECK_STR (worm_token_member (token, 1)->id, "host2-0badcafe");
    CHECK_EQ (worm_token_member (token, 1)->pid, 4242);
    s_actions (&seg, counts, NULL, NULL);

    //  suspect: a hint about a member makes the ring ask its host (CHECK);
    //  one about us is ignored
    s_op_str (&w, "suspect", "id", SELF_ID);
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_AGENT), 0);
    CHECK (s_reply.root == NULL);
    s_actions (&seg, counts, NULL, NULL);
    CHECK_EQ (counts[WORM_RING_CHECK], 0);
    char peer[WORM_TOKEN_ID_MAX] = "";
    s_op_str (&w, "suspect", "id", "host2-0badcafe");
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_AGENT), 0);
    CHECK (s_reply.root == NULL);
    s_actions (&seg, counts, NULL, peer);
    CHECK_EQ (counts[WORM_RING_CHECK], 1);
    CHECK_STR (peer, "host2-0badcafe");

    //  evict: the app hands its work back while we hold the token, then we
    //  leave: the token goes on to the other member
    CHECK_EQ (worm_ring_state (seg.ctx.ring), WORM_RING_HOLDING);
    s_op_str (&w, "evict", "reason", "user active 0 s ago");
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_AGENT), 0);
    CHECK (s_reply.root == NULL);
    CHECK_EQ (s_handoffs, 1);
    s_actions (&seg, counts, NULL, NULL);
    CHECK (counts[WORM_RING_SEND] >= 1);
    CHECK (worm_ring_state (seg.ctx.ring) != WORM_RING_HOLDING);
    s_segment_destroy (&seg);

    //  kill: answered ok, and the ring ends the worm (its only member exits)
    s_segment_new (&seg, true);
    s_actions (&seg, counts, NULL, NULL);
    //  app: the app's own verb answers at once; a job verb without a job
    //  half (the test app takes no units) and an unknown verb are refused
    s_app_request (&w, "echo", 5);
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_LAUNCHER), 0);
    CHECK_EQ (worm_wire_get_u64 (&s_reply, s_reply.root, "size", &number), 0);
    CHECK_EQ (number, 5);
    CHECK_EQ (worm_wire_get_bool (&s_reply, s_reply.root, "ok", &flag), 0);
    CHECK (flag);
    s_app_request (&w, "job.run", 3);
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_LAUNCHER), 0);
    CHECK_EQ (worm_wire_get_str (&s_reply, s_reply.root, "error", text, sizeof text), 0);
    CHECK_STR (text, "app test takes no work units");
    s_app_request (&w, "dance", 0);
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_LAUNCHER), 0);
    CHECK_EQ (worm_wire_get_bool (&s_reply, s_reply.root, "ok", &flag), 0);
    CHECK (!flag);
    CHECK_EQ (worm_wire_get_str (&s_reply, s_reply.root, "error", text, sizeof text), 0);
    CHECK_STR (text, "no verb 'dance' here");
    s_app_request (&w, "echo", 1);
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_WORM), -2);
    request_op_only (&w, "kill");
    CHECK_EQ (s_call (&seg, &w, "KEY", WORM_ROLE_LAUNCHER), 0);
    CHECK (s_reply.root != NULL);
    CHECK_EQ (s_reply.root->via.map.size, 1);
    CHECK_EQ (worm_wire_get_bool (&s_reply, s_reply.root, "ok", &flag), 0);
    CHECK (flag);
    for (int i = 0; i < 100 && worm_ring_state (seg.ctx.ring) != WORM_RING_EXITED; i++) {
        seg.now = worm_ring_deadline (seg.ctx.ring);
        worm_ring_tick (seg.ctx.ring, seg.now);
        s_actions (&seg, counts, NULL, NULL);
    }
    CHECK_EQ (worm_ring_state (seg.ctx.ring), WORM_RING_EXITED);
    s_segment_destroy (&seg);
    CHECK_EQ (s_handoffs, 1);
    worm_wire_writer_fini (&w);
}

int
main (void)
{
    worm_log_init ("ops-test", NULL);
    worm_wire_reader_init (&s_reply);
    s_table ();
    s_valid ();
    s_refusals ();
    s_dispatch_refusals ();
    s_handlers ();
    worm_wire_reader_fini (&s_reply);
    return check_done ("ops");
}
