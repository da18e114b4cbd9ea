/*  ops.c — the segment's op table, its handlers and the dispatch through
    it. See ops.h and docs/PROTOCOL.md ("Segments"). */
#include "ops.h"

#include <string.h>

//  --------------------------------------------------------------------------
//  Fields. Sizes are those of the buffers the handlers copy into, less the
//  terminating NUL.

static const worm_field_t s_member[] = {
    {.name = "id", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "host", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_HOST_MAX - 1},
    {.name = "host_id", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "endpoint", .type = WORM_FIELD_STR, .required = true,
     .max = WORM_TOKEN_ENDPOINT_MAX - 1},
    {.name = "pid", .type = WORM_FIELD_UINT, .required = true},
    {.name = NULL}};
static const worm_field_t s_join[] = {
    {.name = "worm", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "spawn_id", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "member", .type = WORM_FIELD_RECORD, .required = true, .fields = s_member},
    {.name = NULL}};
static const worm_field_t s_evict[] = {
    //  The agent writes at most 95 bytes of reason
    {.name = "reason", .type = WORM_FIELD_STR, .max = 95},
    {.name = NULL}};

static const worm_field_t s_suspect[] = {
    {.name = "id", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = NULL}};

//  A client's word to the app (docs/PROTOCOL.md, "Jobs"): a verb, and for
//  the job layer's verbs the job, a unit and its task and body (and the
//  client's stamp, echoed with the result), or the units asked about
static const worm_field_t s_unit_id = {.type = WORM_FIELD_UINT};
static const worm_field_t s_app[] = {
    {.name = "verb", .type = WORM_FIELD_STR, .required = true, .max = WORM_JOB_VERB_MAX - 1},
    {.name = "job", .type = WORM_FIELD_STR, .max = WORM_JOB_ID_MAX - 1},
    {.name = "unit", .type = WORM_FIELD_UINT},
    {.name = "task", .type = WORM_FIELD_STR, .max = WORM_JOB_VERB_MAX - 1},
    {.name = "body", .type = WORM_FIELD_BIN, .max = WORM_JOB_BODY_MAX},
    {.name = "units", .type = WORM_FIELD_ARRAY, .max = WORM_JOB_HELD_MAX, .item = &s_unit_id},
    {.name = "at", .type = WORM_FIELD_UINT},
    {.name = "sent_us", .type = WORM_FIELD_UINT},
    {.name = NULL}};

//  --------------------------------------------------------------------------
//  Handlers

void
worm_segment_write_member (worm_wire_writer_t *writer, const worm_member_t *member)
{
    worm_wire_map_open (writer);
    worm_wire_kstr (writer, "id", member->id);
    worm_wire_kstr (writer, "host", member->host);
    worm_wire_kstr (writer, "host_id", member->host_id);
    worm_wire_kstr (writer, "endpoint", member->endpoint);
    worm_wire_ku64 (writer, "pid", member->pid);
    static const char *states[] = {"live", "joining", "left", "dead"};
    worm_wire_kstr (writer, "state",
                    member->state <= WORM_MEMBER_DEAD ? states[member->state] : "unknown");
    worm_wire_map_close (writer);
}

static const char *
s_state_name (worm_ring_state_t state)
{
    static const char *names[] = {"waiting", "holding", "forwarding", "campaigning", "exited"};
    return state <= WORM_RING_EXITED ? names[state] : "unknown";
}

//  Who we are, where the ring stands, and the members of our copy of the token.
static void
s_op_status (const worm_segment_ctx_t *ctx, worm_wire_reader_t *request, uint64_t now_ms,
             worm_wire_writer_t *reply)
{
    (void) request;
    (void) now_ms;
    worm_token_t *token = worm_ring_token (ctx->ring);
    worm_ring_state_t state = worm_ring_state (ctx->ring);
    worm_wire_map_open (reply);
    worm_wire_kbool (reply, "ok", true);
    worm_wire_kstr (reply, "id", ctx->self->id);
    worm_wire_kstr (reply, "worm", ctx->config->worm);
    worm_wire_kstr (reply, "worm_id", ctx->config->worm_id);
    worm_wire_kstr (reply, "app", ctx->config->app);
    worm_wire_kstr (reply, "host", ctx->self->host);
    worm_wire_ku64 (reply, "pid", ctx->self->pid);
    worm_wire_kstr (reply, "endpoint", ctx->self->endpoint);
    worm_wire_kstr (reply, "state", s_state_name (state));
    worm_wire_kbool (reply, "holds_token", state == WORM_RING_HOLDING);
    worm_wire_ku64 (reply, "epoch", token ? worm_token_epoch (token) : 0);
    worm_wire_ku64 (reply, "seq", token ? worm_token_seq (token) : 0);
    worm_wire_ku64 (reply, "live", token ? worm_token_live_count (token) : 0);
    worm_wire_ku64 (reply, "target", token ? worm_token_target (token) : ctx->config->size);
    worm_wire_ku64 (reply, "max", token ? worm_token_max (token) : ctx->config->max);
    worm_wire_ku64 (reply, "round_ms", token ? worm_token_round_ms (token) : 0);
    worm_wire_key (reply, "members");
    size_t count = token ? worm_token_member_count (token) : 0;
    worm_wire_array (reply, count);
    for (size_t i = 0; i < count; i++)
        worm_segment_write_member (reply, worm_token_member (token, i));
    worm_wire_map_close (reply);
}

//  The worm is to die: the ring puts the kill flag into the token.
static void
s_op_kill (const worm_segment_ctx_t *ctx, worm_wire_reader_t *request, uint64_t now_ms,
           worm_wire_writer_t *reply)
{
    (void) request;
    worm_log ("kill requested");
    worm_ring_kill (ctx->ring, now_ms);
    worm_wire_map_open (reply);
    worm_wire_kbool (reply, "ok", true);
    worm_wire_map_close (reply);
}

//  A new segment we spawned says where it is.
static void
s_op_join (const worm_segment_ctx_t *ctx, worm_wire_reader_t *request, uint64_t now_ms,
           worm_wire_writer_t *reply)
{
    (void) reply;
    char worm_id[WORM_TOKEN_ID_MAX], spawn_id[WORM_TOKEN_ID_MAX];
    const msgpack_object *map;
    worm_member_t member = {.state = WORM_MEMBER_JOINING};
    uint64_t pid = 0;
    if (worm_wire_get_str (request, request->root, "worm", worm_id, sizeof worm_id)
        || worm_wire_get_str (request, request->root, "spawn_id", spawn_id, sizeof spawn_id)
        || worm_wire_get_map (request, request->root, "member", &map)
        || worm_wire_get_str (request, map, "id", member.id, sizeof member.id)
        || worm_wire_get_str (request, map, "host", member.host, sizeof member.host)
        || worm_wire_get_str (request, map, "host_id", member.host_id, sizeof member.host_id)
        || worm_wire_get_str (request, map, "endpoint", member.endpoint, sizeof member.endpoint)
        || worm_wire_get_u64 (request, map, "pid", &pid)) {
        worm_log_limited (ctx->bad_message, 5000, "refused a join: %s", request->error);
        return;
    }
    if (strcmp (worm_id, ctx->config->worm_id) != 0) {
        worm_log_limited (ctx->bad_message, 5000, "refused a join for another worm");
        return;
    }
    member.pid = pid;
    member.born_at_ms = now_ms;
    if (worm_ring_spawn_result (ctx->ring, spawn_id, &member, now_ms) == 0)
        worm_log ("segment %s on %s joined (spawn %s)", member.id, member.host, spawn_id);
}

//  A host says a member died there: the ring checks with that host.
static void
s_op_suspect (const worm_segment_ctx_t *ctx, worm_wire_reader_t *request, uint64_t now_ms,
              worm_wire_writer_t *reply)
{
    (void) reply;
    char id[WORM_TOKEN_ID_MAX];
    if (worm_wire_get_str (request, request->root, "id", id, sizeof id) != 0)
        return;
    worm_ring_suspect (ctx->ring, id, now_ms);
    //  A joiner not let in yet whose spawner may have died asks at once
    char spawner[WORM_TOKEN_ID_MAX];
    if (ctx->next_spawner_check_ms && !worm_ring_token (ctx->ring)
        && worm_segspec_spawner_id (ctx->config, spawner, sizeof spawner)
        && strcmp (id, spawner) == 0)
        *ctx->next_spawner_check_ms = now_ms;
}

//  Our agent evicts us: leave in order. The ring hands the token on if we
//  hold it, tells the others (LEAVE), and gives EXIT within a bounded time.
static void
s_op_evict (const worm_segment_ctx_t *ctx, worm_wire_reader_t *request, uint64_t now_ms,
            worm_wire_writer_t *reply)
{
    (void) reply;
    char reason[96] = "no reason given";
    worm_wire_get_str (request, request->root, "reason", reason, sizeof reason);
    worm_log ("evicted: %s; leaving the worm", reason);
    worm_segment_leave (ctx, now_ms);
}

void
worm_segment_leave (const worm_segment_ctx_t *ctx, uint64_t now_ms)
{
    if (ctx->jobs && ctx->router)
        worm_jobs_leave (ctx->jobs, ctx->router);
    worm_token_t *token = worm_ring_token (ctx->ring);
    char err[160];
    if (token && worm_ring_state (ctx->ring) == WORM_RING_HOLDING && ctx->app
        && ctx->app->handoff && ctx->app_state
        && ctx->app->handoff (ctx->app_state, token, err, sizeof err))
        worm_log ("app %s: its hand-off failed: %s", ctx->app->name, err);
    worm_ring_leave (ctx->ring, now_ms);
}

//  A client talks to the app: the job layer's verbs go to the segment's job
//  half, which answers when a unit is done (nothing is written here); the
//  app's own verbs to its request hook, answered at once.
static void
s_op_app (const worm_segment_ctx_t *ctx, worm_wire_reader_t *request, uint64_t now_ms,
          worm_wire_writer_t *reply)
{
    char verb[WORM_JOB_VERB_MAX];
    char err[WORM_REQUEST_ERROR_MAX] = "";
    worm_wire_get_str (request, request->root, "verb", verb, sizeof verb);
    if (worm_jobs_verb (verb)) {
        if (ctx->jobs && ctx->router && ctx->identity) {
            worm_jobs_request (ctx->jobs, ctx->router, ctx->identity, request, now_ms);
            return;
        }
        if (!ctx->app->unit)
            snprintf (err, sizeof err, "app %s takes no work units", ctx->app->name);
        else
            snprintf (err, sizeof err, "segment %s is not ready for work yet", ctx->self->id);
    }
    else if (!ctx->app->request)
        snprintf (err, sizeof err, "app %s has no verb '%s'", ctx->app->name, verb);
    else if (!ctx->app_state)
        snprintf (err, sizeof err, "segment %s is not ready for work yet", ctx->self->id);
    else {
        const void *body = NULL;
        size_t size = 0;
        worm_wire_get_bin (request, request->root, "body", &body, &size, WORM_JOB_BODY_MAX);
        worm_wire_writer_t answer;
        worm_wire_writer_init (&answer);
        worm_wire_map_open (&answer);
        worm_wire_kbool (&answer, "ok", true);
        worm_wire_kstr (&answer, "verb", verb);
        int rc = ctx->app->request (ctx->app_state, verb, body, size, &answer, err, sizeof err);
        worm_wire_map_close (&answer);
        if (rc == 0) {
            worm_wire_encoded (reply, worm_wire_writer_data (&answer),
                               worm_wire_writer_size (&answer));
            worm_wire_writer_fini (&answer);
            return;
        }
        worm_wire_writer_fini (&answer);
        if (!err[0])
            snprintf (err, sizeof err, "app %s: verb '%s' failed", ctx->app->name, verb);
    }
    worm_wire_map_open (reply);
    worm_wire_kbool (reply, "ok", false);
    worm_wire_kstr (reply, "verb", verb);
    worm_wire_kstr (reply, "error", err);
    worm_wire_kbool (reply, "retry", strstr (err, "not ready") != NULL);
    worm_wire_map_close (reply);
}

//  --------------------------------------------------------------------------
//  The table. A segment answers status to its worm, its launcher and its
//  agent; only the launcher and the agent may kill it; only its worm's
//  segments join it; only its own agent tells it to leave or that a member
//  died; only its launcher talks to its app (the job layer's master is the
//  client that launched it)

static const worm_segment_op_t s_ops[] = {
    {{"status", NULL, WORM_ROLE_WORM | WORM_ROLE_LAUNCHER | WORM_ROLE_AGENT}, s_op_status},
    {{"kill", NULL, WORM_ROLE_LAUNCHER | WORM_ROLE_AGENT}, s_op_kill},
    {{"join", s_join, WORM_ROLE_WORM}, s_op_join},
    {{"evict", s_evict, WORM_ROLE_AGENT}, s_op_evict},
    {{"suspect", s_suspect, WORM_ROLE_AGENT}, s_op_suspect},
    {{"app", s_app, WORM_ROLE_LAUNCHER}, s_op_app},
    {{NULL, NULL, 0}, NULL}};

//  Ring messages are two frames and go to the ring instead; a request is
//  at most a ring message's size
const worm_request_table_t worm_segment_requests = {
    .who = "segment", .max_size = WORM_RING_MESSAGE_MAX, .ops = s_ops,
    .op_size = sizeof (worm_segment_op_t)};

//  --------------------------------------------------------------------------
//  The dispatch

//  The dispatch of worm_segment_handle, on a reader it initialised.
static int
s_handle (const worm_segment_ctx_t *ctx, worm_wire_reader_t *reader, const void *data,
          size_t size, const char *sender, unsigned roles, uint64_t now_ms,
          worm_wire_writer_t *reply, char *err, size_t cap)
{
    //  Every field's type and size is checked here, before any handler
    char name[16];
    if (worm_request_check (data, size, &worm_segment_requests, reader, err, cap))
        return -1;
    if (worm_wire_get_str (reader, reader->root, "op", name, sizeof name)) {
        snprintf (err, cap, "%s", reader->error);
        return -1;
    }
    const worm_segment_op_t *op =
        (const worm_segment_op_t *) worm_request_op (&worm_segment_requests, name);
    if (!op || (op->request.allow & roles) == 0) {
        const char *key = sender ? sender : "(none)";
        worm_log_limited (ctx->bad_message, 5000, "refused op '%s' from key %s: not allowed",
                          name, key);
        snprintf (err, cap, "segment %s refused op '%s' from key %s", ctx->self->id, name, key);
        return -2;
    }
    op->handler (ctx, reader, now_ms, reply);
    return 0;
}

int
worm_segment_handle (const worm_segment_ctx_t *ctx, const void *data, size_t size,
                     const char *sender, unsigned roles, uint64_t now_ms,
                     worm_wire_writer_t *reply, char *err, size_t cap)
{
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    int rc = s_handle (ctx, &reader, data, size, sender, roles, now_ms, reply, err, cap);
    if (rc == -1)
        worm_log_limited (ctx->bad_message, 5000, "refused a request: %s", err);
    worm_wire_reader_fini (&reader);
    return rc;
}
