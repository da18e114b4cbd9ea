/*  request_test.c — the agent's request table and the check: every op of
    the agent passes in the form its clients send it; wrong types, missing
    fields, oversize values and unknown ops are refused with the sentence
    that names the field and the reason. A segment's table is tested in
    segments/ops_test.c. */
#include "agent_limits.h"
#include "request.h"
#include "segspec.h"
#include "ctl.h"
#include "../tests/check.h"
#include "../tests/request_check.h"

#include <math.h>


//  The start of a spawn request with claim and program, and room for extra fields
static void
s_spawn_head (worm_wire_writer_t *w, size_t extra)
{
    worm_wire_map (w, 3 + extra);
    worm_wire_kstr (w, "op", "spawn");
    worm_wire_kstr (w, "claim", "0123456789abcdef");
    worm_wire_kstr (w, "guest", "test");
}

//  A spawn of a segment as worm_place_on sends it: spec as its record
static void
s_spawn_segment (worm_wire_writer_t *w, const worm_segspec_t *spec)
{
    worm_wire_map (w, 4);
    worm_wire_kstr (w, "op", "spawn");
    worm_wire_kstr (w, "claim", "0123456789abcdef");
    worm_wire_kstr (w, "guest", "segment");
    worm_wire_str (w, "segment");
    worm_segspec_write (w, spec);
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
s_agent_valid (void)
{
    const worm_request_table_t *t = &worm_request_agent;
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    const char *bare[] = {"status", "registry", "policy", "guests", "evictions", "find"};
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        request_op_only (&w, bare[i]);
        request_expect_ok (t, &w);
    }
    //  policy-set: floats and integers (wormctl sends floats)
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "policy-set");
    worm_wire_str (&w, "policy");
    worm_wire_map (&w, 3);
    worm_wire_kf64 (&w, "max-load", 1.5);
    worm_wire_ku64 (&w, "max-segments", 2);
    worm_wire_ki64 (&w, "grace", -1);       //  the handler judges the range
    request_expect_ok (t, &w);
    const char *with_worm[] = {"claim", "kill", "find"};
    for (size_t i = 0; i < 3; i++) {
        s_op_str (&w, with_worm[i], "worm", "w1");
        request_expect_ok (t, &w);
    }
    s_op_str (&w, "release", "claim", "0123456789abcdef");
    request_expect_ok (t, &w);
    //  spawn as worm_place_on sends it, and with everything at its limit
    worm_segspec_t founder = {.found = true, .worm_id = "0123abcd", .worm = "w1",
                              .app = "existential", .size = 3, .max = 4, .nparams = 1,
                              .params = {"k=v"}, .hold_ms = 100};
    s_spawn_segment (&w, &founder);
    request_expect_ok (t, &w);
    worm_segspec_t joiner = {.worm_id = "0123abcd", .worm = "w1", .app = "existential",
                             .spawner = "tcp://127.0.0.1:4000", .spawn_id = "s-1"};
    s_spawn_segment (&w, &joiner);
    request_expect_ok (t, &w);
    //  A joiner that names its spawner's host and pid: through the table,
    //  and through its command line and back
    snprintf (joiner.spawner_host, sizeof joiner.spawner_host, "00000000000000dd");
    joiner.spawner_pid = 4242;
    s_spawn_segment (&w, &joiner);
    request_expect_ok (t, &w);
    char *words[WORM_SEGSPEC_MAX_ARGV + 1];
    int nwords = worm_segspec_argv (&joiner, "worm-segment", words);
    worm_segspec_t parsed;
    char why[256];
    CHECK_EQ (worm_segspec_parse (nwords, words, &parsed, why, sizeof why), 0);
    CHECK_STR (parsed.spawner_host, "00000000000000dd");
    CHECK_EQ (parsed.spawner_pid, 4242);
    worm_segspec_argv_free (words);
    joiner.spawner_pid = 0;
    CHECK_EQ (worm_segspec_check (&joiner, why, sizeof why), -1);
    CHECK_STR (why, "a joiner names its spawner's host and pid both or neither");
    snprintf (joiner.spawner_host, sizeof joiner.spawner_host, "no/slash");
    joiner.spawner_pid = 1;
    CHECK_EQ (worm_segspec_check (&joiner, why, sizeof why), -1);
    CHECK_HAS (why, "spawner host 'no/slash' is not");
    joiner.spawner_host[0] = 0;
    joiner.spawner_pid = 0;
    //  The spawner's id is the spawn id before its last slash
    char spawner[WORM_TOKEN_ID_MAX];
    CHECK (!worm_segspec_spawner_id (&joiner, spawner, sizeof spawner));    //  "s-1"
    CHECK_STR (spawner, "");
    snprintf (joiner.spawn_id, sizeof joiner.spawn_id, "h1-ab/c/3");
    CHECK (worm_segspec_spawner_id (&joiner, spawner, sizeof spawner));
    CHECK_STR (spawner, "h1-ab/c");
    CHECK (!worm_segspec_spawner_id (&founder, spawner, sizeof spawner));
    snprintf (joiner.spawn_id, sizeof joiner.spawn_id, "s-1");
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "args");
    worm_wire_array (&w, 2);
    worm_wire_str (&w, "60");
    worm_wire_str (&w, "ignore-term");
    request_expect_ok (t, &w);
    static char arg[WORM_REQUEST_ARG_MAX + 2];
    request_repeat (arg, WORM_REQUEST_ARG_MAX, 'a');
    char word[66];
    request_repeat (word, 64, 'w');
    s_spawn_head (&w, 2);
    worm_wire_str (&w, "args");
    worm_wire_array (&w, WORM_REQUEST_MAX_TEST_ARGS);
    for (int i = 0; i < WORM_REQUEST_MAX_TEST_ARGS; i++)
        worm_wire_str (&w, word);
    worm_wire_str (&w, "env");
    worm_wire_map (&w, WORM_REQUEST_MAX_ENV);
    for (int i = 0; i < WORM_REQUEST_MAX_ENV; i++) {
        char name[WORM_REQUEST_ENV_NAME_MAX + 1];
        snprintf (name, sizeof name, "WORM_APP_%d", i);
        worm_wire_kstr (&w, name, arg);
    }
    request_expect_ok (t, &w);
    worm_wire_map (&w, 5);
    worm_wire_kstr (&w, "op", "segment");
    worm_wire_kstr (&w, "guest", "g12");
    worm_wire_kstr (&w, "id", "host1-12345678");
    worm_wire_kstr (&w, "worm_id", "w-1234");
    worm_wire_kstr (&w, "endpoint", "tcp://127.0.0.1:40000");
    request_expect_ok (t, &w);
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "alive");
    worm_wire_ku64 (&w, "pid", 4242);
    request_expect_ok (t, &w);
    //  A relay: the request inside needs only its op here
    worm_wire_map (&w, 4);
    worm_wire_kstr (&w, "op", "relay");
    worm_wire_kstr (&w, "to", "tcp://127.0.0.1:40000");
    worm_wire_kstr (&w, "key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    worm_wire_str (&w, "request");
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "alive");
    worm_wire_ku64 (&w, "pid", 4242);
    request_expect_ok (t, &w);
    worm_wire_map (&w, 4);
    worm_wire_kstr (&w, "op", "relay");
    worm_wire_kstr (&w, "to", "tcp://127.0.0.1:40000");
    worm_wire_kstr (&w, "key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    worm_wire_str (&w, "request");
    worm_wire_map (&w, 1);
    worm_wire_kstr (&w, "pid", "4242");
    request_expect_error (t, &w, "relay: missing field 'request.op'");
    //  Unknown fields are ignored, so an older agent serves a newer client
    worm_wire_map (&w, 3);
    worm_wire_kstr (&w, "op", "claim");
    worm_wire_kstr (&w, "worm", "w1");
    worm_wire_str (&w, "priority");
    worm_wire_array (&w, 1);
    worm_wire_nil (&w);
    request_expect_ok (t, &w);
    worm_wire_writer_fini (&w);
}

static void
s_refusals (void)
{
    const worm_request_table_t *agent = &worm_request_agent;
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    //  Frames that do not decode, or have no op
    worm_wire_writer_fini (&w);
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_request_check ("\xc1", 1, agent, &reader, s_err, sizeof s_err), -1);
    CHECK_STR (s_err, "bad request: invalid byte 0xc1 at 0");
    CHECK_EQ (worm_request_check ("\x91\x01", 2, agent, &reader, s_err, sizeof s_err), -1);
    CHECK_STR (s_err, "bad request: top level is not a map");
    worm_wire_reader_fini (&reader);
    worm_wire_writer_init (&w);
    worm_wire_map (&w, 1);
    worm_wire_kstr (&w, "worm", "w1");
    request_expect_error (agent, &w, "bad request: missing field 'op'");
    worm_wire_map (&w, 1);
    worm_wire_ku64 (&w, "op", 7);
    request_expect_error (agent, &w, "bad request: field 'op': expected a string");
    //  Unknown ops, and ops of the other side
    request_op_only (&w, "nope");
    request_expect_error (agent, &w, "unknown op 'nope'");
    request_op_only (&w, "join");
    request_expect_error (agent, &w, "unknown op 'join'");
    request_op_only (&w, "bad\nop");
    request_expect_error (agent, &w, "unknown op (a name of 6 bytes that is not text)");
    //  Wrong types
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "alive");
    worm_wire_ki64 (&w, "pid", -1);
    request_expect_error (agent, &w, "alive: field 'pid': expected an unsigned integer");
    s_op_str (&w, "alive", "pid", "12");
    request_expect_error (agent, &w, "alive: field 'pid': expected an unsigned integer");
    //  The log's cursor, time and count are numbers, each optional
    s_op_str (&w, "log", "after", "7");
    request_expect_error (agent, &w, "log: field 'after': expected an unsigned integer");
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "log");
    worm_wire_ki64 (&w, "since", -5);
    request_expect_error (agent, &w, "log: field 'since': expected an unsigned integer");
    request_op_only (&w, "log");
    request_expect_ok (agent, &w);
    worm_wire_map (&w, 4);
    worm_wire_kstr (&w, "op", "log");
    worm_wire_ku64 (&w, "after", 7);
    worm_wire_ku64 (&w, "since", 1767225600000);
    worm_wire_ku64 (&w, "max", 256);
    request_expect_ok (agent, &w);
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "claim");
    worm_wire_kbool (&w, "worm", true);
    request_expect_error (agent, &w, "claim: field 'worm': expected a string");
    //  A boolean (run-in's eof), and bytes (its data)
    worm_wire_map (&w, 4);
    worm_wire_kstr (&w, "op", "run-in");
    worm_wire_kstr (&w, "run", "g1");
    worm_wire_kbin (&w, "data", "x", 1);
    worm_wire_kstr (&w, "eof", "yes");
    request_expect_error (agent, &w, "run-in: field 'eof': expected true or false");
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "run-in");
    worm_wire_kstr (&w, "run", "g1");
    request_expect_error (agent, &w, "run-in: missing field 'data'");
    s_op_str (&w, "policy-set", "policy", "max-load=1");
    request_expect_error (agent, &w, "policy-set: field 'policy': expected a map");
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "policy-set");
    worm_wire_str (&w, "policy");
    worm_wire_map (&w, 2);
    worm_wire_kf64 (&w, "max-load", 2);
    worm_wire_kstr (&w, "grace", "3");
    request_expect_error (agent, &w, "policy-set: field 'policy[1]': expected a number");
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "policy-set");
    worm_wire_str (&w, "policy");
    worm_wire_map (&w, 1);
    worm_wire_kf64 (&w, "max-load", NAN);
    request_expect_error (agent, &w, "policy-set: field 'policy[0]': not a number (NaN)");
    s_op_str (&w, "spawn", "claim", "0123456789abcdef");
    request_expect_error (agent, &w, "spawn: missing field 'guest'");
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "args");
    worm_wire_array (&w, 2);
    worm_wire_str (&w, "--join");
    worm_wire_u64 (&w, 3);
    request_expect_error (agent, &w, "spawn: field 'args[1]': expected a string");
    s_spawn_head (&w, 1);
    worm_wire_kstr (&w, "args", "--join");
    request_expect_error (agent, &w, "spawn: field 'args': expected an array");
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "env");
    worm_wire_map (&w, 1);
    worm_wire_ku64 (&w, "WORM_APP_X", 1);
    request_expect_error (agent, &w, "spawn: field 'env[0]': expected a string");
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "env");
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "WORM_APP_X", "1");
    worm_wire_kstr (&w, "WORM_APP_X", "2");
    request_expect_error (agent, &w, "spawn: field 'env[1]': name given twice");
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "env");
    worm_wire_map (&w, 1);
    worm_wire_i64 (&w, 5);
    worm_wire_str (&w, "x");
    request_expect_error (agent, &w, "spawn: field 'env[0]': name: expected a string");
    //  Missing and misplaced fields of a nested record
    worm_wire_map (&w, 1);
    worm_wire_kstr (&w, "op", "alive");
    request_expect_error (agent, &w, "alive: missing field 'pid'");
    worm_wire_map (&w, 1);
    worm_wire_kstr (&w, "op", "release");
    request_expect_error (agent, &w, "release: missing field 'claim'");
    //  A field given twice, a key that is no string, a NUL in a string
    worm_wire_map (&w, 3);
    worm_wire_kstr (&w, "op", "claim");
    worm_wire_kstr (&w, "worm", "w1");
    worm_wire_ku64 (&w, "worm", 1);
    request_expect_error (agent, &w, "claim: field 'worm': given twice");
    worm_wire_map (&w, 3);
    worm_wire_kstr (&w, "op", "claim");
    worm_wire_kstr (&w, "worm", "w1");
    worm_wire_i64 (&w, 1);
    worm_wire_str (&w, "x");
    request_expect_error (agent, &w, "claim: key 2 is not a string");
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "claim");
    worm_wire_str (&w, "worm");
    worm_wire_object (&w, &(msgpack_object) {.type = MSGPACK_OBJECT_STR,
                                              .via.str = {.size = 3, .ptr = "a\0b"}});
    request_expect_error (agent, &w, "claim: field 'worm': string holds a NUL byte");
    worm_wire_writer_fini (&w);
}

static void
s_oversize (void)
{
    const worm_request_table_t *agent = &worm_request_agent;
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    static char big[WORM_REQUEST_ARG_MAX + 2];
    request_repeat (big, 65, 'w');
    s_op_str (&w, "kill", "worm", big);
    request_expect_error (agent, &w, "kill: field 'worm': string of 65 bytes exceeds 64");
    request_repeat (big, 17, 'c');
    s_op_str (&w, "release", "claim", big);
    request_expect_error (agent, &w, "release: field 'claim': string of 17 bytes exceeds 16");
    request_repeat (big, 65, 'a');
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "args");
    worm_wire_array (&w, 1);
    worm_wire_str (&w, big);
    request_expect_error (agent, &w, "spawn: field 'args[0]': string of 65 bytes exceeds 64");
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "args");
    worm_wire_array (&w, WORM_REQUEST_MAX_TEST_ARGS + 1);
    for (int i = 0; i <= WORM_REQUEST_MAX_TEST_ARGS; i++)
        worm_wire_str (&w, "x");
    request_expect_error (agent, &w, "spawn: field 'args': 9 elements exceed 8");
    //  A segment's record is checked field by field too
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "segment");
    worm_wire_map (&w, 1);
    worm_wire_kstr (&w, "role", "found");
    request_expect_error (agent, &w, "spawn: missing field 'segment.worm_id'");
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "segment");
    worm_wire_map (&w, 5);
    worm_wire_kstr (&w, "role", "found");
    worm_wire_kstr (&w, "worm_id", "x");
    worm_wire_kstr (&w, "name", "x");
    worm_wire_kstr (&w, "app", "x");
    worm_wire_kstr (&w, "size", "3");
    request_expect_error (agent, &w, "spawn: field 'segment.size': expected an unsigned integer");
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "env");
    worm_wire_map (&w, WORM_REQUEST_MAX_ENV + 1);
    for (int i = 0; i <= WORM_REQUEST_MAX_ENV; i++) {
        char name[32];
        snprintf (name, sizeof name, "WORM_APP_%d", i);
        worm_wire_kstr (&w, name, "v");
    }
    request_expect_error (agent, &w, "spawn: field 'env': 33 entries exceed 32");
    request_repeat (big, WORM_REQUEST_ENV_NAME_MAX + 1, 'N');
    s_spawn_head (&w, 1);
    worm_wire_str (&w, "env");
    worm_wire_map (&w, 1);
    worm_wire_kstr (&w, big, "v");
    request_expect_error (agent, &w, "spawn: field 'env[0]': name: string of 64 bytes exceeds 63");
    //  A whole request over the table's limit (ZeroMQ drops it first on a socket)
    static char pad[WORM_CTL_MAX];
    worm_wire_map (&w, 2);
    worm_wire_kstr (&w, "op", "status");
    worm_wire_kbin (&w, "pad", pad, sizeof pad);
    size_t size = worm_wire_writer_size (&w);
    char expected[128];
    snprintf (expected, sizeof expected, "bad request: message of %zu bytes exceeds %d", size,
              WORM_CTL_MAX);
    request_expect_error (agent, &w, expected);
    //  An error buffer too small for the sentence gets its start
    char tiny[8];
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_request_check ("\xc1", 1, agent, &reader, tiny, sizeof tiny), -1);
    CHECK_STR (tiny, "bad req");
    worm_wire_reader_fini (&reader);
    worm_wire_writer_fini (&w);
}

//  Every op in the table is found by name, and no op's name is one a
//  caller's buffer would cut (the agent reads op into 32 bytes).
static void
s_tables (void)
{
    size_t count = 0;
    for (const worm_request_op_t *op = worm_request_first (&worm_request_agent); op->op;
         op = worm_request_next (&worm_request_agent, op), count++) {
        CHECK (worm_request_op (&worm_request_agent, op->op) == op);
        CHECK (strlen (op->op) < 32);
    }
    CHECK_EQ (count, 22);
    CHECK (worm_request_op (&worm_request_agent, "nope") == NULL);
    //  Who may call what: denied by default, the policy the owner's alone
    CHECK (!worm_request_allowed (&worm_request_agent, "policy-set", WORM_ROLE_USER | WORM_ROLE_HOST));
    CHECK (worm_request_allowed (&worm_request_agent, "policy-set", WORM_ROLE_OWNER));
    CHECK (!worm_request_allowed (&worm_request_agent, "policy", WORM_ROLE_USER));
    CHECK (!worm_request_allowed (&worm_request_agent, "guests", WORM_ROLE_USER));
    CHECK (worm_request_allowed (&worm_request_agent, "claim", WORM_ROLE_USER));
    CHECK (!worm_request_allowed (&worm_request_agent, "claim", WORM_ROLE_GUEST));
    CHECK (!worm_request_allowed (&worm_request_agent, "relay", WORM_ROLE_USER | WORM_ROLE_OWNER));
    CHECK (worm_request_allowed (&worm_request_agent, "relay", WORM_ROLE_GUEST));
    //  An alarm is rung for guests, hosts relaying for theirs, the owner:
    //  never for a user
    CHECK (!worm_request_allowed (&worm_request_agent, "ring", WORM_ROLE_USER));
    CHECK (worm_request_allowed (&worm_request_agent, "ring", WORM_ROLE_GUEST));
    CHECK (worm_request_allowed (&worm_request_agent, "ring", WORM_ROLE_HOST));
    CHECK (!worm_request_allowed (&worm_request_agent, "status", 0));
    //  The log is every authorized key's, as the eviction receipts; not a guest's
    CHECK (worm_request_allowed (&worm_request_agent, "log", WORM_ROLE_USER));
    CHECK (worm_request_allowed (&worm_request_agent, "log", WORM_ROLE_HOST));
    CHECK (worm_request_allowed (&worm_request_agent, "log", WORM_ROLE_OWNER));
    CHECK (!worm_request_allowed (&worm_request_agent, "log", WORM_ROLE_GUEST));
    //  Runs are users' (the owner's too), never a guest's or a bare host's
    CHECK (worm_request_allowed (&worm_request_agent, "run", WORM_ROLE_USER));
    CHECK (worm_request_allowed (&worm_request_agent, "run-in", WORM_ROLE_OWNER));
    CHECK (!worm_request_allowed (&worm_request_agent, "run", WORM_ROLE_GUEST | WORM_ROLE_HOST));
    CHECK (!worm_request_allowed (&worm_request_agent, "run-signal", WORM_ROLE_GUEST));
    CHECK (!worm_request_allowed (&worm_request_agent, "nope", ~0u));
    //  No op of either table is open to no one by mistake
    for (const worm_request_op_t *op = worm_request_first (&worm_request_agent); op->op;
         op = worm_request_next (&worm_request_agent, op))
        CHECK (op->allow != 0);
}

int
main (void)
{
    s_tables ();
    s_agent_valid ();
    s_refusals ();
    s_oversize ();
    return check_done ("request");
}
