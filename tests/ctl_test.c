/*  test-ctl — drives a running wormd's control endpoint over real sockets.

    Usage: test-ctl SCENARIO STATE-DIR [ARG]
    (the agent's endpoint and public key are read from its state folder; we
    speak with the key in $WORM_KEY)
      race      two claims sent at once to a 1-slot host: exactly one granted
      spawn     claim, spawn worm-test-guest, see it listed, full, reaped, slot free
      refused   a claim is refused with ARG in the error
      hostile   malformed requests get a clear error; a frame over the size limit
                closes the connection, and the agent, and a segment it starts,
                keep serving
      send      (ENDPOINT KEY OP [ring] instead of STATE-DIR) one request or ring
                message to any CURVE server; prints "answered" or "no answer"
      place     claim and spawn worm-test-guest with the arguments after ARG (the
                worm name); prints the guest's pid
      ring      (STATE-DIR WORM-ID ALARM DUE MESSAGE) one ring request (WORM-ID
                "-": none); prints "rung=BOOL at=MS host=NAME [refused=WHY]", or
                "error: SENTENCE" and exits 1
*/
#include "ctl.h"
#include "keys.h"
#include "place.h"
#include "ring.h"
#include "wire.h"
#include "check.h"

#include <czmq.h>
#include <unistd.h>

static char s_endpoint[256];          //  the agent's control endpoint
static char s_key[41];                //  and its public key

//  Loads our key from $WORM_KEY.
static int
s_open_key (void)
{
    char err[512];
    static zcert_t *ours;
    ours = getenv ("WORM_KEY") ? worm_keys_load (getenv ("WORM_KEY"), err, sizeof err) : NULL;
    if (!ours) {
        fprintf (stderr, "test-ctl: no key in $WORM_KEY\n");
        return -1;
    }
    worm_ctl_set_identity (ours);
    return 0;
}

//  Reads the agent's endpoint and key from its state folder, and loads ours.
static int
s_open (const char *state_dir)
{
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/endpoint", state_dir);
    FILE *file = fopen (path, "r");
    if (!file || !fgets (s_endpoint, sizeof s_endpoint, file)) {
        fprintf (stderr, "test-ctl: cannot read %s\n", path);
        if (file)
            fclose (file);
        return -1;
    }
    fclose (file);
    s_endpoint[strcspn (s_endpoint, "\n")] = 0;
    snprintf (path, sizeof path, "%s/host.cert", state_dir);
    zcert_t *host = zcert_load (path);
    if (!host) {
        fprintf (stderr, "test-ctl: no host key at %s\n", path);
        return -1;
    }
    snprintf (s_key, sizeof s_key, "%s", zcert_public_txt (host));
    zcert_destroy (&host);
    return s_open_key ();
}

//  A client socket connected to endpoint: every socket these tests talk
//  through comes from here, so that CURVE is added in one place.
static zsock_t *
s_client (const char *endpoint, const char *key)
{
    char err[256];
    zsock_t *dealer = worm_ctl_connect (endpoint, key, err, sizeof err);
    CHECK (dealer != NULL);
    zsock_set_rcvtimeo (dealer, 3000);
    return dealer;
}

static int
s_claim (char *claim_id, size_t cap, char *err, size_t errcap)
{
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    int rc = worm_ctl_request (s_endpoint, s_key, "claim", "worm", "testworm", 3000, &reply, err, errcap);
    if (rc == 0)
        CHECK_EQ (worm_wire_get_str (&reply, reply.root, "claim", claim_id, cap), 0);
    worm_wire_reader_fini (&reply);
    return rc;
}

static uint64_t
s_status_u64 (const char *key)
{
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[256];
    CHECK_EQ (worm_ctl_request (s_endpoint, s_key, "status", NULL, NULL, 3000, &reply, err, sizeof err), 0);
    uint64_t value = 0;
    CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, key, &value), 0);
    worm_wire_reader_fini (&reply);
    return value;
}

static void
s_race (void)
{
    //  Two clients, both requests on the wire before either reply is read
    zsock_t *a = s_client (s_endpoint, s_key);
    zsock_t *b = s_client (s_endpoint, s_key);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, 2);
    worm_wire_kstr (&request, "op", "claim");
    worm_wire_kstr (&request, "worm", "race");
    zframe_t *fa = zframe_new (worm_wire_writer_data (&request), worm_wire_writer_size (&request));
    zframe_t *fb = zframe_dup (fa);
    zframe_send (&fa, a, 0);
    zframe_send (&fb, b, 0);
    worm_wire_writer_fini (&request);
    int granted = 0, refused = 0;
    char granted_claim[64] = "";
    zsock_t *clients[] = {a, b};
    for (int i = 0; i < 2; i++) {
        zframe_t *frame = zframe_recv (clients[i]);
        CHECK (frame != NULL);
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        CHECK_EQ (worm_wire_parse (&reply, zframe_data (frame), zframe_size (frame), 65536), 0);
        bool ok = false;
        CHECK_EQ (worm_wire_get_bool (&reply, reply.root, "ok", &ok), 0);
        if (ok) {
            granted++;
            CHECK_EQ (worm_wire_get_str (&reply, reply.root, "claim", granted_claim,
                                         sizeof granted_claim),
                      0);
        }
        else {
            char error[256];
            CHECK_EQ (worm_wire_get_str (&reply, reply.root, "error", error, sizeof error), 0);
            CHECK_HAS (error, "full 1/1");
            refused++;
        }
        worm_wire_reader_fini (&reply);
        zframe_destroy (&frame);
    }
    CHECK_EQ (granted, 1);
    CHECK_EQ (refused, 1);
    zsock_destroy (&a);
    zsock_destroy (&b);
    //  Give the slot back for the scenarios that follow
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[256];
    CHECK_EQ (worm_ctl_request (s_endpoint, s_key, "release", "claim", granted_claim, 3000, &reply, err, sizeof err), 0);
    worm_wire_reader_fini (&reply);
    printf ("race: 1 granted, 1 refused\n");
}

//  A spawn of guest kind kind (the test guest's arguments: seconds).
static int
s_spawn (const char *claim, const char *kind, const char *seconds, const char *env_name,
         char *guest, size_t cap, char *err, size_t errcap)
{
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, 5);
    worm_wire_kstr (&request, "op", "spawn");
    worm_wire_kstr (&request, "claim", claim);
    worm_wire_kstr (&request, "guest", kind);
    worm_wire_str (&request, "args");
    worm_wire_array (&request, 1);
    worm_wire_str (&request, seconds);
    worm_wire_str (&request, "env");
    worm_wire_map (&request, 1);
    worm_wire_kstr (&request, env_name, "hello");
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    int rc = worm_ctl_call (s_endpoint, s_key, &request, 3000, &reply, err, errcap);
    if (rc == 0)
        CHECK_EQ (worm_wire_get_str (&reply, reply.root, "guest", guest, cap), 0);
    worm_wire_reader_fini (&reply);
    worm_wire_writer_fini (&request);
    return rc;
}

static void
s_spawn_flow (void)
{
    char claim[64], guest[64], err[512];
    //  A spawn needs a valid claim
    CHECK_EQ (s_spawn ("0000000000000000", "test", "1", "WORM_APP_X", guest, sizeof guest, err,
                       sizeof err),
              -2);
    CHECK_HAS (err, "unknown or expired");
    //  Guests are kinds the agent knows, never a program: not a path, not
    //  wormd itself; and a refused spawn gives its claim back at once
    const char *not_kinds[] = {"../../bin/sh", "wormd", "worm-segment", "wormctl"};
    for (size_t i = 0; i < sizeof not_kinds / sizeof not_kinds[0]; i++) {
        CHECK_EQ (s_claim (claim, sizeof claim, err, sizeof err), 0);
        CHECK_EQ (s_spawn (claim, not_kinds[i], "1", "WORM_APP_X", guest, sizeof guest, err,
                           sizeof err),
                  -2);
        CHECK_HAS (err, "unknown guest kind");
        CHECK_HAS (err, "claim released");
        CHECK_EQ (s_status_u64 ("claims"), 0);
    }
    //  A test guest's words are words, not options or paths
    CHECK_EQ (s_claim (claim, sizeof claim, err, sizeof err), 0);
    CHECK_EQ (s_spawn (claim, "test", "/bin/sh", "WORM_APP_X", guest, sizeof guest, err,
                       sizeof err),
              -2);
    CHECK_HAS (err, "args[0] is not a word");
    //  The requester may not set the agent's own variables
    CHECK_EQ (s_claim (claim, sizeof claim, err, sizeof err), 0);
    CHECK_EQ (s_spawn (claim, "test", "1", "LD_PRELOAD", guest, sizeof guest, err, sizeof err),
              -2);
    CHECK_HAS (err, "WORM_APP_");
    //  Spawn for real, a guest living 1.5 s
    CHECK_EQ (s_claim (claim, sizeof claim, err, sizeof err), 0);
    CHECK_EQ (s_spawn (claim, "test", "1.5", "WORM_APP_GREETING", guest, sizeof guest, err,
                       sizeof err),
              0);
    CHECK_EQ (s_status_u64 ("guests"), 1);
    CHECK_EQ (s_status_u64 ("claims"), 0);
    //  It shows in the guest list, with a private folder
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_request (s_endpoint, s_key, "guests", NULL, NULL, 3000, &reply, err, sizeof err), 0);
    const msgpack_object_array *guests;
    CHECK_EQ (worm_wire_get_array (&reply, reply.root, "guests", &guests, 16), 0);
    CHECK_EQ (guests->size, 1);
    char workdir[4096], worm[65];
    CHECK_EQ (worm_wire_get_str (&reply, &guests->ptr[0], "workdir", workdir, sizeof workdir), 0);
    CHECK_EQ (worm_wire_get_str (&reply, &guests->ptr[0], "worm", worm, sizeof worm), 0);
    CHECK_STR (worm, "testworm");
    worm_wire_reader_fini (&reply);
    //  The guest saw the controlled environment
    char info_path[4200];
    snprintf (info_path, sizeof info_path, "%s/guest-info", workdir);
    for (int i = 0; i < 40 && access (info_path, R_OK); i++)
        usleep (50000);
    FILE *info = fopen (info_path, "r");
    CHECK (info != NULL);
    char text[8192];
    size_t size = fread (text, 1, sizeof text - 1, info);
    text[size] = 0;
    fclose (info);
    CHECK_HAS (text, "env WORM_APP_GREETING=hello");
    CHECK_HAS (text, "env WORM_WORM=testworm");
    CHECK_HAS (text, "env PATH=/usr/local/bin:/usr/bin:/bin");
    CHECK_HAS (text, "nice=19");
    CHECK_HAS (text, "sched=idle");
    //  The host (1 slot) is now full
    CHECK_EQ (s_claim (claim, sizeof claim, err, sizeof err), -2);
    CHECK_HAS (err, "full 1/1");
    //  When the guest exits it is reaped, its folder removed, and the slot is free again
    for (int i = 0; i < 100 && s_status_u64 ("guests") > 0; i++)
        usleep (50000);
    CHECK_EQ (s_status_u64 ("guests"), 0);
    CHECK (access (workdir, F_OK) != 0);
    CHECK_EQ (s_claim (claim, sizeof claim, err, sizeof err), 0);
    //  A released claim frees its slot
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_request (s_endpoint, s_key, "release", "claim", claim, 3000, &reply, err, sizeof err), 0);
    worm_wire_reader_fini (&reply);
    CHECK_EQ (s_status_u64 ("claims"), 0);
    printf ("spawn: refusals, spawn, environment, full, reap, release all as expected\n");
}

static void
s_refused (const char *why)
{
    char claim[64], err[512];
    CHECK_EQ (s_claim (claim, sizeof claim, err, sizeof err), -2);
    CHECK_HAS (err, why);
    printf ("refused: %s\n", err);
}

//  Waits up to 5 s for event on the monitor of a socket; false when it did not come.
static bool
s_await_event (zsock_t *monitor, uint16_t event)
{
    zsock_set_rcvtimeo (monitor, 5000);
    while (true) {
        zmsg_t *msg = zmsg_recv (monitor);
        if (!msg)
            return false;
        zframe_t *head = zmsg_first (msg);
        uint16_t got = 0;
        if (head && zframe_size (head) >= sizeof got)
            memcpy (&got, zframe_data (head), sizeof got);
        zmsg_destroy (&msg);
        if (got == event)
            return true;
    }
}

//  Sends {"op": "status"} on client and returns whether the first reply is
//  its answer, ok.
static bool
s_status_ok (zsock_t *client)
{
    zstr_send (client, "\x81\xa2op\xa6status");
    zframe_t *frame = zframe_recv (client);
    if (!frame)
        return false;
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    bool ok = false;
    bool parsed = worm_wire_parse (&reply, zframe_data (frame), zframe_size (frame),
                                   WORM_CTL_MAX) == 0
                  && worm_wire_get_bool (&reply, reply.root, "ok", &ok) == 0;
    worm_wire_reader_fini (&reply);
    zframe_destroy (&frame);
    return parsed && ok;
}

//  Sends on client a status request padded to exactly size bytes (size is
//  at least 64: the map's head and keys take 20 bytes, the padding the rest).
static void
s_send_padded (zsock_t *client, size_t size)
{
    size_t pad_size = size - 20;
    char *pad = calloc (1, pad_size);
    CHECK (pad != NULL);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, 2);
    worm_wire_kstr (&request, "op", "status");
    worm_wire_kbin (&request, "pad", pad, pad_size);
    CHECK_EQ (worm_wire_writer_size (&request), size);
    zframe_t *frame =
        zframe_new (worm_wire_writer_data (&request), worm_wire_writer_size (&request));
    CHECK_EQ (zframe_send (&frame, client, 0), 0);
    worm_wire_writer_fini (&request);
    free (pad);
}

//  A frame of exactly max bytes sent to the server at endpoint reaches it
//  (CURVE's 33 bytes of its own must not count against max: some reply
//  comes within 5 s). Then a frame one byte over max (a status request with
//  padding): libzmq refuses it and closes the connection, so no reply ever
//  comes for it; the server keeps answering status, on that same socket
//  once it has reconnected (the first reply is status's: the big frame was
//  never seen) and on a new one.
static void
s_oversize (const char *endpoint, const char *key, size_t max, const char *what)
{
    static int monitors = 0;
    zsock_t *client = s_client (endpoint, key);
    CHECK (s_status_ok (client));
    s_send_padded (client, max);
    zsock_set_rcvtimeo (client, 5000);
    zframe_t *answer = zframe_recv (client);
    CHECK (answer != NULL);
    zframe_destroy (&answer);
    printf ("a frame of exactly %zu bytes reached the %s and was answered\n", max, what);
    char monitor_ep[64];
    snprintf (monitor_ep, sizeof monitor_ep, "inproc://test-ctl-monitor-%d", ++monitors);
    CHECK_EQ (zmq_socket_monitor (zsock_resolve (client), monitor_ep, ZMQ_EVENT_DISCONNECTED), 0);
    zsock_t *monitor = zsock_new_pair (monitor_ep);
    CHECK (monitor != NULL);
    s_send_padded (client, max + 1);
    CHECK (s_await_event (monitor, ZMQ_EVENT_DISCONNECTED));
    CHECK (s_status_ok (client));
    zsock_destroy (&monitor);
    zsock_destroy (&client);
    client = s_client (endpoint, key);
    CHECK (s_status_ok (client));
    zsock_destroy (&client);
    printf ("hostile: a frame of %zu bytes to the %s closed the connection; it still answers\n",
            max + 1, what);
}

//  Starts a segment (a worm of one) on the agent, sends it an oversize frame,
//  and kills it again.
static void
s_segment_oversize (void)
{
    //  The segment serves with its worm's keypair; we launched it, so it lets us in
    zcert_t *worm = zcert_new ();
    worm_segspec_t founder = {.found = true, .worm_id = "oversize-1", .worm = "oversize",
                              .app = "existential", .size = 1, .max = 1};
    worm_place_t spec = {.worm = "oversize", .segment = &founder, .timeout_ms = 3000,
                         .worm_public = zcert_public_txt (worm),
                         .worm_secret = zcert_secret_txt (worm)};
    pid_t pid;
    char err[512];
    CHECK_EQ (worm_place_on (s_endpoint, s_key, &spec, &pid, err, sizeof err), 0);
    //  It registers with the agent once it listens
    char endpoint[128] = "";
    for (int i = 0; i < 200 && !endpoint[0]; i++) {
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        const msgpack_object_array *segments;
        if (worm_ctl_request (s_endpoint, s_key, "find", "worm", "oversize", 3000, &reply, err,
                              sizeof err) == 0
            && worm_wire_get_array (&reply, reply.root, "segments", &segments, 16) == 0
            && segments->size == 1)
            CHECK_EQ (worm_wire_get_str (&reply, &segments->ptr[0], "endpoint", endpoint,
                                         sizeof endpoint),
                      0);
        worm_wire_reader_fini (&reply);
        if (!endpoint[0])
            usleep (50000);
    }
    CHECK (endpoint[0] != 0);
    s_oversize (endpoint, zcert_public_txt (worm), WORM_RING_MESSAGE_MAX, "segment");
    zcert_destroy (&worm);
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_request (s_endpoint, s_key, "kill", "worm", "oversize", 3000, &reply, err,
                                sizeof err),
              0);
    worm_wire_reader_fini (&reply);
    for (int i = 0; i < 200 && s_status_u64 ("guests") > 0; i++)
        usleep (50000);
    CHECK_EQ (s_status_u64 ("guests"), 0);
}

static void
s_hostile (void)
{
    zsock_t *dealer = s_client (s_endpoint, s_key);
    const char *garbage[] = {"\xc1", "\x91\x01", "\x81\xa2op\xa4nope", "\xdd\xff\xff\xff\xff",
                             "not msgpack at all",
                             "\x81\xa4worm\xa1x",
                             "\x82\xa2op\xa5" "alive\xa3pid\xff",
                             "\x82\xa2op\xa5" "claim\xa4worm\xc3",
                             "\x83\xa2op\xa5spawn\xa5" "claim\xa1x\xa4" "args\x91\x01",
                             "\x81\xa2op\xa4join"};
    const char *expected[] = {"invalid byte", "not a map", "unknown op 'nope'", "exceeds",
                              "bad request",
                              "bad request: missing field 'op'",
                              "alive: field 'pid': expected an unsigned integer",
                              "claim: field 'worm': expected a string",
                              "spawn: missing field 'guest'",
                              "unknown op 'join'"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        zframe_t *frame = zframe_new (garbage[i], strlen (garbage[i]));
        zframe_send (&frame, dealer, 0);
        frame = zframe_recv (dealer);
        CHECK (frame != NULL);
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        CHECK_EQ (worm_wire_parse (&reply, zframe_data (frame), zframe_size (frame), 65536), 0);
        char error[256];
        CHECK_EQ (worm_wire_get_str (&reply, reply.root, "error", error, sizeof error), 0);
        CHECK_HAS (error, expected[i]);
        worm_wire_reader_fini (&reply);
        zframe_destroy (&frame);
    }
    //  Two frames in one request
    zstr_sendm (dealer, "a");
    zstr_send (dealer, "b");
    char *error_reply = zstr_recv (dealer);
    CHECK (error_reply != NULL);
    CHECK_HAS (error_reply, "exactly one frame");
    zstr_free (&error_reply);
    zsock_destroy (&dealer);
    //  An oversize message is dropped by ZeroMQ: the connection goes, the agent stays
    s_oversize (s_endpoint, s_key, WORM_CTL_MAX, "agent");
    char err[256];
    CHECK_EQ (s_status_u64 ("guests"), 0);
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_request (s_endpoint, s_key, "claim", "worm", "bad name!", 3000, &reply, err, sizeof err), -2);
    CHECK_HAS (err, "worm name");
    worm_wire_reader_fini (&reply);
    s_segment_oversize ();
    printf ("hostile: every malformed request refused with a reason; agent still serving\n");
}

//  A spawn of a test guest of worm "twin" with the worm keypair cert and
//  the test guest's words (seconds, status, then flags).
static void
s_spawn_twin (zcert_t *cert, const char *words[3], char *guest, size_t cap)
{
    char claim[64], err[512];
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_request (s_endpoint, s_key, "claim", "worm", "twin", 3000, &reply, err,
                                sizeof err),
              0);
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "claim", claim, sizeof claim), 0);
    worm_wire_reader_fini (&reply);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, 6);
    worm_wire_kstr (&request, "op", "spawn");
    worm_wire_kstr (&request, "claim", claim);
    worm_wire_kstr (&request, "guest", "test");
    worm_wire_str (&request, "args");
    worm_wire_array (&request, 3);
    for (int i = 0; i < 3; i++)
        worm_wire_str (&request, words[i]);
    worm_wire_kstr (&request, "worm_public", zcert_public_txt (cert));
    worm_wire_kstr (&request, "worm_secret", zcert_secret_txt (cert));
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_call (s_endpoint, s_key, &request, 3000, &reply, err, sizeof err), 0);
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "guest", guest, cap), 0);
    worm_wire_reader_fini (&reply);
    worm_wire_writer_fini (&request);
}

//  A worm's segment is replaced on a host where the one it replaces is
//  still stopping (it ignores SIGTERM through the grace period): the new
//  segment, with the same worm key, registers itself.
static void
s_twins (void)
{
    zcert_t *twin = zcert_new ();
    char first[64], second[64], err[512];
    const char *stubborn[3] = {"30", "0", "ignore-term"};
    s_spawn_twin (twin, stubborn, first, sizeof first);
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_request (s_endpoint, s_key, "kill", "worm", "twin", 3000, &reply, err,
                                sizeof err),
              0);
    worm_wire_reader_fini (&reply);
    const char *plain[3] = {"30", "0", "plain"};
    s_spawn_twin (twin, plain, second, sizeof second);
    //  Both run: the first is still within its grace period
    CHECK_EQ (s_status_u64 ("guests"), 2);
    worm_ctl_set_identity (twin);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, 5);
    worm_wire_kstr (&request, "op", "segment");
    worm_wire_kstr (&request, "guest", second);
    worm_wire_kstr (&request, "id", "s2");
    worm_wire_kstr (&request, "worm_id", "");
    worm_wire_kstr (&request, "endpoint", "tcp://127.0.0.1:9");
    worm_wire_reader_init (&reply);
    int rc = worm_ctl_call (s_endpoint, s_key, &request, 3000, &reply, err, sizeof err);
    if (rc)
        fprintf (stderr, "test-ctl twins: %s\n", err);
    CHECK_EQ (rc, 0);
    worm_wire_reader_fini (&reply);
    worm_wire_writer_fini (&request);
    zcert_destroy (&twin);
    printf ("twins: a segment registers while the one it replaces is still stopping\n");
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: test-ctl race|spawn|refused|hostile|twins|forge|place|raw STATE-DIR [ARG...] | send ENDPOINT KEY OP [ring]\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    if (strcmp (argv[1], "send") != 0 && s_open (argv[2]))
        return 1;
    if (strcmp (argv[1], "send") == 0 && s_open_key ())
        return 1;
    if (strcmp (argv[1], "race") == 0)
        s_race ();
    else if (strcmp (argv[1], "spawn") == 0)
        s_spawn_flow ();
    else if (strcmp (argv[1], "refused") == 0 && argc > 3)
        s_refused (argv[3]);
    else if (strcmp (argv[1], "hostile") == 0)
        s_hostile ();
    else if (strcmp (argv[1], "twins") == 0)
        s_twins ();
    else if (strcmp (argv[1], "send") == 0 && argc > 4) {
        //  send ENDPOINT KEY OP [ring]: a request {"op": OP}, or with "ring" a
        //  ring message (recipient id, payload); prints the outcome
        char why[512];
        zsock_t *peer = worm_ctl_connect (argv[2], argv[3], why, sizeof why);
        CHECK (peer != NULL);
        worm_wire_writer_t request;
        worm_wire_writer_init (&request);
        worm_wire_map (&request, 1);
        worm_wire_kstr (&request, "op", argv[4]);
        if (argc > 5)
            zstr_sendm (peer, "anyone");
        zmq_send (zsock_resolve (peer), worm_wire_writer_data (&request),
                  worm_wire_writer_size (&request), 0);
        worm_wire_writer_fini (&request);
        zsock_set_rcvtimeo (peer, 1000);
        char *reply = zstr_recv (peer);
        printf ("%s\n", reply ? "answered" : "no answer");
        zstr_free (&reply);
        zsock_destroy (&peer);
        return 0;
    }
    else if (strcmp (argv[1], "raw") == 0 && argc > 3) {
        //  raw STATE-DIR OP [KEY=VALUE...]: a request {"op": OP, KEY: "VALUE"
        //  ...} of string fields; prints "ok", or the refusal's sentence
        char err[512];
        worm_wire_writer_t request;
        worm_wire_writer_init (&request);
        worm_wire_map (&request, (size_t) (argc - 3));
        worm_wire_kstr (&request, "op", argv[3]);
        for (int i = 4; i < argc; i++) {
            char *equals = strchr (argv[i], '=');
            CHECK (equals != NULL);
            *equals = 0;
            worm_wire_kstr (&request, argv[i], equals + 1);
        }
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        int rc = worm_ctl_call (s_endpoint, s_key, &request, 3000, &reply, err, sizeof err);
        printf ("%s\n", rc == 0 ? "ok" : err);
        worm_wire_reader_fini (&reply);
        worm_wire_writer_fini (&request);
        return 0;
    }
    else if (strcmp (argv[1], "ring") == 0 && argc > 6) {
        worm_wire_writer_t request;
        worm_wire_writer_init (&request);
        worm_wire_map_open (&request);
        worm_wire_kstr (&request, "op", "ring");
        if (strcmp (argv[3], "-") != 0)
            worm_wire_kstr (&request, "worm_id", argv[3]);
        worm_wire_kstr (&request, "alarm", argv[4]);
        worm_wire_ku64 (&request, "due", strtoull (argv[5], NULL, 10));
        worm_wire_kstr (&request, "message", argv[6]);
        worm_wire_map_close (&request);
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        char err[512], host[65] = "", refused[160] = "";
        bool rung = false;
        uint64_t at = 0;
        int rc = worm_ctl_call (s_endpoint, s_key, &request, 2000, &reply, err, sizeof err);
        if (rc == 0) {
            CHECK_EQ (worm_wire_get_bool (&reply, reply.root, "rung", &rung), 0);
            CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, "at", &at), 0);
            CHECK_EQ (worm_wire_get_str (&reply, reply.root, "host", host, sizeof host), 0);
            worm_wire_get_str (&reply, reply.root, "refused", refused, sizeof refused);
            printf ("rung=%s at=%llu host=%s%s%s\n", rung ? "true" : "false",
                    (unsigned long long) at, host, refused[0] ? " refused=" : "", refused);
        }
        else
            printf ("error: %s\n", err);
        worm_wire_reader_fini (&reply);
        worm_wire_writer_fini (&request);
        return rc == 0 ? 0 : 1;
    }
    else if (strcmp (argv[1], "forge") == 0 && argc > 3) {
        //  forge STATE-DIR LAUNCHER-KEY: a claim and a spawn of a segment that
        //  name another launcher; prints the agent's answer to each
        char err[512];
        worm_wire_writer_t request;
        worm_wire_writer_init (&request);
        worm_wire_map (&request, 3);
        worm_wire_kstr (&request, "op", "claim");
        worm_wire_kstr (&request, "worm", "forged");
        worm_wire_kstr (&request, "launcher", argv[3]);
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        int rc = worm_ctl_call (s_endpoint, s_key, &request, 3000, &reply, err, sizeof err);
        printf ("claim: %s\n", rc ? err : "granted");
        worm_wire_reader_fini (&reply);
        worm_wire_writer_fini (&request);
        char claim[64];
        CHECK_EQ (s_claim (claim, sizeof claim, err, sizeof err), 0);
        worm_segspec_t founder = {.found = true, .worm_id = "forged1", .worm = "testworm",
                                  .app = "existential", .size = 1, .max = 1};
        worm_wire_writer_init (&request);
        worm_wire_map (&request, 5);
        worm_wire_kstr (&request, "op", "spawn");
        worm_wire_kstr (&request, "claim", claim);
        worm_wire_kstr (&request, "guest", "segment");
        worm_wire_str (&request, "segment");
        worm_segspec_write (&request, &founder);
        worm_wire_kstr (&request, "launcher", argv[3]);
        worm_wire_reader_init (&reply);
        rc = worm_ctl_call (s_endpoint, s_key, &request, 3000, &reply, err, sizeof err);
        printf ("spawn: %s\n", rc ? err : "spawned");
        worm_wire_reader_fini (&reply);
        worm_wire_writer_fini (&request);
        return 0;
    }
    else if (strcmp (argv[1], "place") == 0 && argc > 3) {
        worm_place_t spec = {.worm = argv[3], .timeout_ms = 3000};
        for (int i = 4; i < argc && i - 4 < WORM_PLACE_MAX_ARGS; i++)
            spec.test_args[i - 4] = argv[i];
        pid_t pid;
        char err[512];
        if (worm_place_on (s_endpoint, s_key, &spec, &pid, err, sizeof err)) {
            fprintf (stderr, "test-ctl place: %s\n", err);
            return 1;
        }
        printf ("%d\n", (int) pid);
        return 0;
    }
    else {
        fprintf (stderr, "test-ctl: unknown scenario %s\n", argv[1]);
        return 2;
    }
    return check_done (argv[1]);
}
