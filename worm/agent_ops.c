/*  agent_ops.c — the host agent's one table of control ops: for each op,
    the fields worm_request_check holds a request against, the roles that
    may call it and the handler that serves it (docs/PROTOCOL.md,
    "Control" and "Security"); and the handlers of the host's own ops:
    status, registry, policy and policy-set. The other handlers sit with
    what they serve (guests.c, guest_spawn.c, claims.c, relay.c).
*/
#include "agent_internal.h"
#include "ctl.h"
#include "segspec.h"

#include <unistd.h>

//  --------------------------------------------------------------------------
//  The fields of each op. Sizes are those of the buffers its handlers copy
//  into, less the terminating NUL (worm/agent_limits.h).

static const worm_field_t s_arg = {.type = WORM_FIELD_STR, .max = WORM_REQUEST_ARG_MAX};
static const worm_field_t s_number = {.type = WORM_FIELD_NUMBER};

static const worm_field_t s_policy_set[] = {
    //  The policy has six keys; the handler names any key it does not know
    {.name = "policy", .type = WORM_FIELD_MAP, .required = true, .max = WORM_AGENT_POLICY_KEYS,
     .name_max = WORM_AGENT_POLICY_KEY_MAX, .item = &s_number},
    {.name = NULL}};
static const worm_field_t s_claim[] = {
    {.name = "worm", .type = WORM_FIELD_STR, .required = true, .max = WORM_AGENT_NAME_MAX},
    {.name = "worm_id", .type = WORM_FIELD_STR, .max = WORM_TOKEN_ID_MAX - 1},
    //  Honoured only from a host relaying for a segment of that worm
    {.name = "launcher", .type = WORM_FIELD_STR, .max = WORM_KEY_LEN},
    {.name = NULL}};
static const worm_field_t s_kill[] = {
    {.name = "worm", .type = WORM_FIELD_STR, .required = true, .max = WORM_AGENT_NAME_MAX},
    {.name = "worm_id", .type = WORM_FIELD_STR, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = NULL}};
static const worm_field_t s_release[] = {
    {.name = "claim", .type = WORM_FIELD_STR, .required = true, .max = WORM_HOST_ID_LEN},
    {.name = NULL}};
static const worm_field_t s_test_arg = {.type = WORM_FIELD_STR, .max = WORM_REQUEST_TEST_ARG_MAX};
static const worm_field_t s_param = {.type = WORM_FIELD_STR, .max = WORM_TOKEN_PARAM_MAX - 1};
//  A segment's start (worm/segspec.h); the agent checks what the values mean
static const worm_field_t s_segspec[] = {
    {.name = "role", .type = WORM_FIELD_STR, .required = true, .max = WORM_SEGSPEC_ROLE_MAX},
    {.name = "worm_id", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "name", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_NAME_MAX - 1},
    {.name = "app", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_NAME_MAX - 1},
    {.name = "size", .type = WORM_FIELD_UINT},
    {.name = "max", .type = WORM_FIELD_UINT},
    {.name = "params", .type = WORM_FIELD_ARRAY, .max = WORM_TOKEN_MAX_PARAMS, .item = &s_param},
    {.name = "spawner", .type = WORM_FIELD_STR, .max = WORM_TOKEN_ENDPOINT_MAX - 1},
    {.name = "spawn_id", .type = WORM_FIELD_STR, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "spawner_host", .type = WORM_FIELD_STR, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "spawner_pid", .type = WORM_FIELD_UINT},
    {.name = "hold_ms", .type = WORM_FIELD_UINT},
    {.name = "orphan_ms", .type = WORM_FIELD_UINT},
    {.name = NULL}};
static const worm_field_t s_spawn[] = {
    {.name = "claim", .type = WORM_FIELD_STR, .required = true, .max = WORM_HOST_ID_LEN},
    //  What to start: a kind of guest the agent knows, never a program
    {.name = "guest", .type = WORM_FIELD_STR, .required = true, .max = WORM_AGENT_KIND_MAX},
    {.name = "segment", .type = WORM_FIELD_RECORD, .fields = s_segspec},
    {.name = "args", .type = WORM_FIELD_ARRAY, .max = WORM_REQUEST_MAX_TEST_ARGS,
     .item = &s_test_arg},
    {.name = "env", .type = WORM_FIELD_MAP, .max = WORM_REQUEST_MAX_ENV,
     .name_max = WORM_REQUEST_ENV_NAME_MAX, .item = &s_arg},
    {.name = "worm_public", .type = WORM_FIELD_STR, .max = WORM_KEY_LEN},
    {.name = "worm_secret", .type = WORM_FIELD_STR, .max = WORM_KEY_LEN},
    {.name = "launcher", .type = WORM_FIELD_STR, .max = WORM_KEY_LEN},
    {.name = NULL}};
//  A relayed request is checked again, whole, by the agent it goes to
static const worm_field_t s_relayed[] = {
    {.name = "op", .type = WORM_FIELD_STR, .required = true, .max = WORM_AGENT_OP_MAX},
    {.name = NULL}};
static const worm_field_t s_relay[] = {
    //  Either the agent's endpoint and key, or a host we heard (its id)
    {.name = "to", .type = WORM_FIELD_STR, .max = WORM_AGENT_ENDPOINT_MAX},
    {.name = "key", .type = WORM_FIELD_STR, .max = WORM_KEY_LEN},
    {.name = "host", .type = WORM_FIELD_STR, .max = WORM_HOST_ID_LEN},
    {.name = "request", .type = WORM_FIELD_RECORD, .required = true, .fields = s_relayed},
    {.name = NULL}};
static const worm_field_t s_segment[] = {
    {.name = "guest", .type = WORM_FIELD_STR, .required = true, .max = WORM_AGENT_GUEST_ID_MAX},
    {.name = "id", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "worm_id", .type = WORM_FIELD_STR, .required = true, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = "endpoint", .type = WORM_FIELD_STR, .required = true,
     .max = WORM_TOKEN_ENDPOINT_MAX - 1},
    {.name = NULL}};
static const worm_field_t s_find[] = {
    {.name = "worm", .type = WORM_FIELD_STR, .max = WORM_AGENT_NAME_MAX},
    {.name = NULL}};
//  An alarm to ring (rings.c): the handler judges the id, the message and
//  who may name the worm
static const worm_field_t s_ring[] = {
    {.name = "alarm", .type = WORM_FIELD_STR, .required = true, .max = WORM_RINGING_ID_MAX},
    {.name = "due", .type = WORM_FIELD_UINT, .required = true},
    {.name = "message", .type = WORM_FIELD_STR, .required = true,
     .max = WORM_RINGING_MESSAGE_MAX},
    {.name = "worm_id", .type = WORM_FIELD_STR, .max = WORM_TOKEN_ID_MAX - 1},
    {.name = NULL}};
//  A run (worm/run.c, docs/PROTOCOL.md "Run")
static const worm_field_t s_run_word = {.type = WORM_FIELD_STR, .max = WORM_RUN_ARG_MAX};
static const worm_field_t s_run_path = {.type = WORM_FIELD_STR, .max = WORM_RUN_PATH_MAX};
static const worm_field_t s_run[] = {
    {.name = "claim", .type = WORM_FIELD_STR, .required = true, .max = WORM_HOST_ID_LEN},
    {.name = "argv", .type = WORM_FIELD_ARRAY, .required = true, .max = WORM_RUN_MAX_ARGS,
     .item = &s_run_word},
    {.name = "env", .type = WORM_FIELD_MAP, .max = WORM_RUN_MAX_ENV,
     .name_max = WORM_RUN_ENV_NAME_MAX, .item = &s_run_word},
    {.name = "umask", .type = WORM_FIELD_UINT, .required = true},
    {.name = "timeout_ms", .type = WORM_FIELD_UINT},
    {.name = "inputs", .type = WORM_FIELD_BOOL},
    {.name = "outputs", .type = WORM_FIELD_ARRAY, .max = WORM_RUN_MAX_OUTPUTS,
     .item = &s_run_path},
    {.name = "share", .type = WORM_FIELD_ARRAY, .max = WORM_RUN_MAX_SHARES,
     .item = &s_run_path},
    {.name = NULL}};
#define S_RUN_ID {.name = "run", .type = WORM_FIELD_STR, .required = true, \
                  .max = WORM_AGENT_GUEST_ID_MAX}
static const worm_field_t s_run_put[] = {
    S_RUN_ID,
    {.name = "path", .type = WORM_FIELD_STR, .required = true, .max = WORM_RUN_PATH_MAX},
    {.name = "type", .type = WORM_FIELD_STR, .required = true, .max = WORM_RUN_TYPE_MAX},
    {.name = "mode", .type = WORM_FIELD_UINT, .required = true},
    {.name = "data", .type = WORM_FIELD_BIN, .max = WORM_RUN_CHUNK},
    {.name = "more", .type = WORM_FIELD_BOOL},
    {.name = NULL}};
static const worm_field_t s_run_start[] = {S_RUN_ID, {.name = NULL}};
static const worm_field_t s_run_in[] = {
    S_RUN_ID,
    {.name = "data", .type = WORM_FIELD_BIN, .required = true, .max = WORM_RUN_CHUNK},
    {.name = "eof", .type = WORM_FIELD_BOOL},
    {.name = NULL}};
static const worm_field_t s_run_ack[] = {
    S_RUN_ID, {.name = "n", .type = WORM_FIELD_UINT, .required = true}, {.name = NULL}};
static const worm_field_t s_run_signal[] = {
    S_RUN_ID,
    {.name = "signal", .type = WORM_FIELD_STR, .required = true, .max = WORM_RUN_SIGNAL_MAX},
    {.name = NULL}};
//  The event log, read a page at a time (agent_log.c)
static const worm_field_t s_log[] = {
    {.name = "after", .type = WORM_FIELD_UINT},
    {.name = "since", .type = WORM_FIELD_UINT},
    {.name = "max", .type = WORM_FIELD_UINT},
    {.name = NULL}};
static const worm_field_t s_alive[] = {
    {.name = "pid", .type = WORM_FIELD_UINT, .required = true},
    {.name = NULL}};

//  --------------------------------------------------------------------------
//  The table. Who may call what: the owner alone reads and changes the
//  policy and sees the guests; keys we authorized use the host (a kill is
//  further limited to the worm's launcher, a named launcher to hosts: the
//  handlers judge those); our own guests register and ask for relays; an
//  alarm is rung for our guests, for hosts relaying for theirs, and for our
//  owner (who may try the ring command), not for any user.

#define ANYONE_AUTHORIZED (WORM_ROLE_OWNER | WORM_ROLE_USER | WORM_ROLE_HOST)
static const worm_agent_op_t s_ops[] = {
    {{"status", NULL, ANYONE_AUTHORIZED}, worm_agent_op_status},
    {{"registry", NULL, ANYONE_AUTHORIZED}, worm_agent_op_registry},
    {{"policy", NULL, WORM_ROLE_OWNER}, worm_agent_op_policy},
    {{"policy-set", s_policy_set, WORM_ROLE_OWNER}, worm_agent_op_policy_set},
    {{"guests", NULL, WORM_ROLE_OWNER}, worm_agent_op_guests},
    {{"claim", s_claim, ANYONE_AUTHORIZED}, worm_agent_op_claim},
    {{"release", s_release, ANYONE_AUTHORIZED}, worm_agent_op_release},
    {{"spawn", s_spawn, ANYONE_AUTHORIZED}, worm_agent_op_spawn},
    {{"segment", s_segment, WORM_ROLE_GUEST}, worm_agent_op_segment},
    {{"find", s_find, ANYONE_AUTHORIZED}, worm_agent_op_find},
    {{"kill", s_kill, ANYONE_AUTHORIZED}, worm_agent_op_kill},
    {{"alive", s_alive, ANYONE_AUTHORIZED}, worm_agent_op_alive},
    {{"evictions", NULL, ANYONE_AUTHORIZED}, worm_agent_op_evictions},
    //  Like the receipts, the log is for every key we authorized; the words
    //  of a user's command only for that user and the owner (the handler)
    {{"log", s_log, ANYONE_AUTHORIZED}, worm_agent_op_log},
    {{"relay", s_relay, WORM_ROLE_GUEST}, worm_agent_op_relay},
    //  Users run commands where the owner allows it (the handler checks
    //  --allow-run); a run's stream ops come only from the key that made it
    {{"run", s_run, WORM_ROLE_OWNER | WORM_ROLE_USER}, worm_agent_op_run},
    {{"run-put", s_run_put, WORM_ROLE_OWNER | WORM_ROLE_USER}, worm_agent_op_run_put},
    {{"run-start", s_run_start, WORM_ROLE_OWNER | WORM_ROLE_USER}, worm_agent_op_run_start},
    {{"run-in", s_run_in, WORM_ROLE_OWNER | WORM_ROLE_USER}, worm_agent_op_run_in},
    {{"run-ack", s_run_ack, WORM_ROLE_OWNER | WORM_ROLE_USER}, worm_agent_op_run_ack},
    {{"run-signal", s_run_signal, WORM_ROLE_OWNER | WORM_ROLE_USER}, worm_agent_op_run_signal},
    {{"ring", s_ring, WORM_ROLE_GUEST | WORM_ROLE_HOST | WORM_ROLE_OWNER}, worm_agent_op_ring},
    {{NULL, NULL, 0}, NULL}};

const worm_request_table_t worm_request_agent = {
    .who = "wormd", .max_size = WORM_CTL_MAX, .ops = s_ops, .op_size = sizeof (worm_agent_op_t)};

//  --------------------------------------------------------------------------
//  The host's own ops
//  The policy as one map, every key.
static void
s_write_policy (worm_wire_writer_t *writer, const worm_policy_t *policy)
{
    worm_wire_map_open (writer);
    for (size_t i = 0; worm_policy_keys[i]; i++) {
        double value = 0;
        worm_policy_get (policy, worm_policy_keys[i], &value);
        worm_wire_kf64 (writer, worm_policy_keys[i], value);
    }
    worm_wire_map_close (writer);
}

void
worm_agent_op_status (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    (void) reader;
    worm_hostinfo_t host;
    worm_agent_hostinfo (self, &host);
    //  The policy is the owner's to read
    bool owner = (self->roles & WORM_ROLE_OWNER) != 0;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_key (&writer, "host");
    worm_hostinfo_write (&writer, &host);
    if (owner) {
        worm_wire_key (&writer, "policy");
        s_write_policy (&writer, &self->config.policy);
    }
    worm_wire_ku64 (&writer, "pid", (uint64_t) getpid ());
    worm_wire_ku64 (&writer, "registry", worm_registry_size (self->registry));
    worm_wire_ku64 (&writer, "guests", zlist_size (self->guests));
    worm_wire_ku64 (&writer, "claims", zlist_size (self->claims));
    worm_wire_kstr (&writer, "state_dir", self->config.state_dir);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

void
worm_agent_op_registry (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    (void) reader;
    size_t count = worm_registry_size (self->registry);
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_key (&writer, "hosts");
    worm_wire_array (&writer, count);
    for (size_t i = 0; i < count; i++)
        worm_hostinfo_write (&writer, worm_registry_at (self->registry, i));
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

void
worm_agent_op_policy (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    (void) reader;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_key (&writer, "policy");
    s_write_policy (&writer, &self->config.policy);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

void
worm_agent_op_policy_set (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    const msgpack_object *changes;
    if (worm_wire_get_map (reader, reader->root, "policy", &changes)) {
        worm_ctl_reply_error (self->router, identity, "policy-set: %s", reader->error);
        return;
    }
    worm_policy_t policy = self->config.policy;
    for (uint32_t i = 0; i < changes->via.map.size; i++) {
        char key[WORM_AGENT_POLICY_KEY_MAX + 1], err[256];
        double value;
        if (worm_wire_obj_str (reader, &changes->via.map.ptr[i].key, "policy key", key,
                               sizeof key)) {
            worm_ctl_reply_error (self->router, identity, "policy-set: %s", reader->error);
            return;
        }
        if (worm_wire_get_f64 (reader, changes, key, &value)) {
            worm_ctl_reply_error (self->router, identity, "policy-set: %s", reader->error);
            return;
        }
        if (worm_policy_set (&policy, key, value, err, sizeof err)) {
            worm_ctl_reply_error (self->router, identity, "policy-set: %s", err);
            return;
        }
    }
    bool new_interval = policy.check_interval_s != self->config.policy.check_interval_s;
    self->config.policy = policy;
    worm_log ("policy changed: max-segments %d, max-load %.2f, min-idle %.1f s, "
              "min-free-mem %.0f%%, check-interval %.2f s, grace %.1f s",
              policy.max_segments, policy.max_load, policy.min_idle_s, policy.min_free_mem_pct,
              policy.check_interval_s, policy.grace_s);
    if (new_interval)
        worm_agent_interval_changed (self);
    worm_agent_reconsider (self);
    worm_guests_enforce (self);
    worm_agent_op_policy (self, identity, reader);
}


