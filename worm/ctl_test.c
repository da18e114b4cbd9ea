/*  ctl_test.c — the control call over real ZeroMQ with CURVE on the
    loopback: a server actor (a ROUTER with a ZAP handler, as the agent has)
    answers each op its own way, well or badly, and the client side must
    report each outcome as the contract says: ok, a refusal with the
    server's sentence, a refused key, no reply within the timeout, an
    interrupted wait, a reply that is not a valid map, one at the size
    limit and one over it, and the relay envelope. */
#include "ctl.h"
#include "log.h"
#include "../tests/check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    zcert_t *cert;              //  the server's keypair
    const char *allowed;        //  the one client key let in
    char endpoint[128];         //  where it listens
} s_server_t;

//  A reply map {"ok": true, "pad": bin of size pad}: 14 bytes plus pad.
static zframe_t *
s_padded (size_t pad)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kbool (&writer, "ok", true);
    char *bytes = calloc (1, pad);
    worm_wire_kbin (&writer, "pad", bytes, pad);
    free (bytes);
    zframe_t *frame = zframe_new (worm_wire_writer_data (&writer), worm_wire_writer_size (&writer));
    worm_wire_writer_fini (&writer);
    return frame;
}

static void
s_send (zsock_t *router, zframe_t *identity, zframe_t *payload)
{
    zframe_send (&identity, router, ZFRAME_MORE | ZFRAME_REUSE);
    zframe_send (&payload, router, 0);
}

//  Answers one request as its op says.
static void
s_serve (zsock_t *router)
{
    zframe_t *identity = zframe_recv (router);
    zframe_t *payload = identity && zsock_rcvmore (router) ? zframe_recv (router) : NULL;
    if (!payload) {
        zframe_destroy (&identity);
        return;
    }
    worm_wire_reader_t request;
    worm_wire_reader_init (&request);
    char op[32] = "", name[64] = "";
    const char *sender = worm_curve_sender (payload);
    if (worm_wire_parse (&request, zframe_data (payload), zframe_size (payload), WORM_CTL_MAX)
        || worm_wire_get_str (&request, request.root, "op", op, sizeof op))
        worm_ctl_reply_error (router, identity, "bad request: %s", request.error);
    else if (strcmp (op, "echo") == 0) {
        worm_wire_get_str (&request, request.root, "name", name, sizeof name);
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_wire_map (&writer, 4);
        worm_wire_kbool (&writer, "ok", true);
        worm_wire_kstr (&writer, "op", op);
        worm_wire_kstr (&writer, "name", name);
        worm_wire_kstr (&writer, "sender", sender ? sender : "");
        worm_ctl_reply (router, identity, &writer);
        worm_wire_writer_fini (&writer);
    }
    else if (strcmp (op, "plain") == 0)
        worm_ctl_reply_ok (router, identity);
    else if (strcmp (op, "refuse") == 0)
        worm_ctl_reply_error (router, identity, "no thanks, %s", "friend");
    else if (strcmp (op, "noreason") == 0) {
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_wire_map (&writer, 1);
        worm_wire_kbool (&writer, "ok", false);
        worm_ctl_reply (router, identity, &writer);
        worm_wire_writer_fini (&writer);
    }
    else if (strcmp (op, "garbage") == 0)
        s_send (router, identity, zframe_new ("\xc1 not msgpack", 14));
    else if (strcmp (op, "array") == 0)
        s_send (router, identity, zframe_new ("\x91\xc3", 2));     //  [true]
    else if (strcmp (op, "nook") == 0)
        s_send (router, identity, zframe_new ("\x81\xa4" "fine\xc3", 7));    //  {"fine": true}
    else if (strcmp (op, "okstr") == 0)
        s_send (router, identity, zframe_new ("\x81\xa2ok\xa3yes", 8));      //  {"ok": "yes"}
    else if (strcmp (op, "full") == 0)
        s_send (router, identity, s_padded (WORM_CTL_MAX - 14));
    else if (strcmp (op, "huge") == 0)
        s_send (router, identity, s_padded (WORM_CTL_MAX - 13));
    else if (strcmp (op, "relay") == 0) {
        //  The envelope: where to, its key, and the request as a map
        char to[128] = "", key[64] = "", inner_op[32] = "";
        const msgpack_object *inner = NULL;
        worm_wire_get_str (&request, request.root, "to", to, sizeof to);
        worm_wire_get_str (&request, request.root, "key", key, sizeof key);
        if (worm_wire_get_map (&request, request.root, "request", &inner) == 0)
            worm_wire_get_str (&request, inner, "op", inner_op, sizeof inner_op);
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_wire_map (&writer, 4);
        worm_wire_kbool (&writer, "ok", true);
        worm_wire_kstr (&writer, "to", to);
        worm_wire_kstr (&writer, "key", key);
        worm_wire_kstr (&writer, "inner", inner_op);
        worm_ctl_reply (router, identity, &writer);
        worm_wire_writer_fini (&writer);
    }
    //  "silent" and anything else: no answer at all
    worm_wire_reader_fini (&request);
    zframe_destroy (&payload);
    zframe_destroy (&identity);
}

static bool
s_rule (void *arg, const char *key, char *why, size_t cap)
{
    s_server_t *server = (s_server_t *) arg;
    if (strcmp (key, server->allowed) == 0)
        return true;
    snprintf (why, cap, "not an authorized key");
    return false;
}

//  The server: signals (zactor_new waits for it) once it listens, with the
//  endpoint set, or once it gave up, with the endpoint left empty.
static void
s_server_actor (zsock_t *pipe, void *arg)
{
    s_server_t *server = (s_server_t *) arg;
    char err[256];
    worm_auth_t *auth = worm_auth_new (s_rule, server, err, sizeof err);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    int rc = -1;
    if (auth && router) {
        zsock_set_linger (router, 0);
        zsock_set_maxmsgsize (router, WORM_CTL_WIRE_MAX);     //  as the agent does
        worm_curve_server (router, server->cert);
        rc = worm_ctl_bind (router, "127.0.0.1", server->endpoint, sizeof server->endpoint);
    }
    if (rc)
        server->endpoint[0] = 0;
    zsock_signal (pipe, 0);
    zpoller_t *poller = rc ? NULL : zpoller_new (pipe, router, worm_auth_socket (auth), NULL);
    if (poller)
        zpoller_set_nonstop (poller, true);     //  the test sets zsys_interrupted itself
    while (poller) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            zmsg_t *command = zmsg_recv (pipe);     //  $TERM
            zmsg_destroy (&command);
            break;
        }
        if (which == router)
            s_serve (router);
        else if (auth && which == worm_auth_socket (auth))
            worm_auth_handle (auth);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&router);
    worm_auth_destroy (&auth);
}

//  One request {"op": op} with timeout_ms; the reader is left for checks.
static int
s_call (const char *endpoint, const char *key, const char *op, int timeout_ms,
        worm_wire_reader_t *reply, char *err, size_t cap)
{
    worm_wire_reader_fini (reply);
    worm_wire_reader_init (reply);
    snprintf (err, cap, "untouched");
    return worm_ctl_request (endpoint, key, op, NULL, NULL, timeout_ms, reply, err, cap);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    s_server_t server = {.cert = zcert_new ()};
    zcert_t *client = zcert_new ();
    zcert_t *stranger = zcert_new ();
    zcert_t *impostor = zcert_new ();
    server.allowed = zcert_public_txt (client);
    const char *server_key = zcert_public_txt (server.cert);
    zactor_t *actor = zactor_new (s_server_actor, &server);
    CHECK (actor != NULL);      //  it listens (or has given up) by now
    const char *ep = server.endpoint;
    CHECK (strncmp (ep, "tcp://127.0.0.1:", 16) == 0);
    CHECK (atoi (ep + 16) > 0);

    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[512], want[512], text[128];

    //  No identity yet: nothing is sent
    CHECK_EQ (s_call (ep, server_key, "echo", 1000, &reply, err, sizeof err), -1);
    CHECK_STR (err, "no key to speak with (the program set no identity)");
    worm_ctl_set_identity (client);
    //  A server key that is no key
    CHECK_EQ (s_call (ep, "banana", "echo", 1000, &reply, err, sizeof err), -1);
    snprintf (want, sizeof want, "no valid public key for %s", ep);
    CHECK_STR (err, want);
    CHECK_EQ (s_call (ep, NULL, "echo", 1000, &reply, err, sizeof err), -1);
    CHECK_STR (err, want);
    //  An endpoint that is none
    CHECK (worm_ctl_connect ("nonsense://x", server_key, err, sizeof err) == NULL);
    CHECK_STR (err, "cannot connect to nonsense://x");

    //  A good call: the field goes over, the server sees our key
    worm_wire_reader_fini (&reply);
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_request (ep, server_key, "echo", "name", "ann", 2000, &reply, err,
                                sizeof err), 0);
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "op", text, sizeof text), 0);
    CHECK_STR (text, "echo");
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "name", text, sizeof text), 0);
    CHECK_STR (text, "ann");
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "sender", text, sizeof text), 0);
    CHECK_STR (text, zcert_public_txt (client));
    CHECK_EQ (s_call (ep, server_key, "plain", 2000, &reply, err, sizeof err), 0);

    //  Refusals: the server's sentence, or a stand-in when it gave none
    CHECK_EQ (s_call (ep, server_key, "refuse", 2000, &reply, err, sizeof err), -2);
    CHECK_STR (err, "no thanks, friend");
    CHECK_EQ (s_call (ep, server_key, "noreason", 2000, &reply, err, sizeof err), -2);
    CHECK_STR (err, "no reason given");

    //  No reply: -1 after the timeout, not much later
    int64_t start = worm_now_ms ();
    CHECK_EQ (s_call (ep, server_key, "silent", 300, &reply, err, sizeof err), -1);
    int64_t took = worm_now_ms () - start;
    snprintf (want, sizeof want, "no reply from %s within 300 ms", ep);
    CHECK_STR (err, want);
    CHECK (took >= 300 && took < 2000);

    //  Replies that are no valid map with a boolean "ok"
    const char *bad_ops[] = {"garbage", "array", "nook", "okstr"};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        CHECK_EQ (s_call (ep, server_key, bad_ops[i], 2000, &reply, err, sizeof err), -1);
        snprintf (want, sizeof want, "bad reply from %s: ", ep);
        CHECK (strncmp (err, want, strlen (want)) == 0);
        CHECK (strlen (err) > strlen (want));   //  and why
    }
    CHECK_HAS (err, "ok");                      //  the field named for a wrong type
    //  The raw exchange hands back what came, valid or not
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, 1);
    worm_wire_kstr (&request, "op", "garbage");
    int rc = 5;
    zframe_t *frame = worm_ctl_exchange (ep, server_key, worm_wire_writer_data (&request),
                                         worm_wire_writer_size (&request), 2000, &rc, err,
                                         sizeof err);
    worm_wire_writer_fini (&request);
    CHECK (frame != NULL);
    CHECK_EQ (rc, 0);
    CHECK_EQ (zframe_size (frame), 14);
    CHECK (memcmp (zframe_data (frame), "\xc1 not msgpack", 14) == 0);
    zframe_destroy (&frame);

    //  A reply of exactly WORM_CTL_MAX bytes is taken; one byte more is not
    CHECK_EQ (s_call (ep, server_key, "full", 2000, &reply, err, sizeof err), 0);
    const void *pad;
    size_t pad_size;
    CHECK_EQ (worm_wire_get_bin (&reply, reply.root, "pad", &pad, &pad_size, WORM_CTL_MAX), 0);
    CHECK_EQ (pad_size, WORM_CTL_MAX - 14);
    CHECK_EQ (s_call (ep, server_key, "huge", 500, &reply, err, sizeof err), -1);
    snprintf (want, sizeof want, "no reply from %s within 500 ms", ep);
    CHECK_STR (err, want);
    //  A request of exactly WORM_CTL_MAX bytes reaches a server that takes
    //  that much; one byte more does not
    for (size_t extra = 0; extra < 2; extra++) {
        //  {"op": "plain", "pad": bin32}: 19 bytes besides the padding
        size_t size = WORM_CTL_MAX - 19 + extra;
        char *bytes = calloc (1, size);
        worm_wire_writer_init (&request);
        worm_wire_map (&request, 2);
        worm_wire_kstr (&request, "op", "plain");
        worm_wire_kbin (&request, "pad", bytes, size);
        free (bytes);
        CHECK_EQ (worm_wire_writer_size (&request), WORM_CTL_MAX + extra);
        worm_wire_reader_fini (&reply);
        worm_wire_reader_init (&reply);
        rc = worm_ctl_call (ep, server_key, &request, extra ? 500 : 2000, &reply, err,
                            sizeof err);
        worm_wire_writer_fini (&request);
        CHECK_EQ (rc, extra ? -1 : 0);
    }
    snprintf (want, sizeof want, "no reply from %s within 500 ms", ep);
    CHECK_STR (err, want);

    //  Through a relay: the envelope names the target and carries the
    //  request whole; no relay, or an empty one, is a direct call
    worm_wire_writer_init (&request);
    worm_wire_map (&request, 2);
    worm_wire_kstr (&request, "op", "echo");
    worm_wire_kstr (&request, "name", "bo");
    worm_ctl_via_t via = {.endpoint = ep, .key = server_key};
    worm_wire_reader_fini (&reply);
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_ctl_call_via (&via, "tcp://127.0.0.1:9", zcert_public_txt (impostor), &request,
                                 1000, &reply, err, sizeof err), 0);
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "to", text, sizeof text), 0);
    CHECK_STR (text, "tcp://127.0.0.1:9");
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "key", text, sizeof text), 0);
    CHECK_STR (text, zcert_public_txt (impostor));
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "inner", text, sizeof text), 0);
    CHECK_STR (text, "echo");
    worm_ctl_via_t direct = {.endpoint = "", .key = NULL};
    const worm_ctl_via_t *directs[] = {NULL, &direct};
    for (int i = 0; i < 2; i++) {
        worm_wire_reader_fini (&reply);
        worm_wire_reader_init (&reply);
        CHECK_EQ (worm_ctl_call_via (directs[i], ep, server_key, &request, 2000, &reply, err,
                                     sizeof err), 0);
        CHECK_EQ (worm_wire_get_str (&reply, reply.root, "name", text, sizeof text), 0);
        CHECK_STR (text, "bo");
    }
    worm_wire_writer_fini (&request);

    //  A connection kept open carries one request after another
    zsock_t *dealer = worm_ctl_connect (ep, server_key, err, sizeof err);
    CHECK (dealer != NULL);
    zsock_set_rcvtimeo (dealer, 2000);
    for (int i = 0; i < 2; i++) {
        worm_wire_writer_init (&request);
        worm_wire_map (&request, 1);
        worm_wire_kstr (&request, "op", "plain");
        frame = zframe_new (worm_wire_writer_data (&request), worm_wire_writer_size (&request));
        worm_wire_writer_fini (&request);
        CHECK_EQ (zframe_send (&frame, dealer, 0), 0);
        frame = zframe_recv (dealer);
        CHECK (frame != NULL);
        worm_wire_reader_fini (&reply);
        worm_wire_reader_init (&reply);
        CHECK_EQ (worm_wire_parse (&reply, zframe_data (frame), zframe_size (frame), WORM_CTL_MAX),
                  0);
        bool ok = false;
        CHECK_EQ (worm_wire_get_bool (&reply, reply.root, "ok", &ok), 0);
        CHECK (ok);
        zframe_destroy (&frame);
    }
    zsock_destroy (&dealer);

    //  A key the server does not let in: refused at once, naming our key
    worm_ctl_set_identity (stranger);
    start = worm_now_ms ();
    CHECK_EQ (s_call (ep, server_key, "echo", 5000, &reply, err, sizeof err), -2);
    snprintf (want, sizeof want, "%s refused our key %s (not authorized there)", ep,
              zcert_public_txt (stranger));
    CHECK_STR (err, want);
    CHECK (worm_now_ms () - start < 4000);
    worm_ctl_set_identity (client);
    //  A server that is not the one whose key we expect: the handshake
    //  fails at once, and says so
    start = worm_now_ms ();
    CHECK_EQ (s_call (ep, zcert_public_txt (impostor), "echo", 5000, &reply, err, sizeof err),
              -2);
    snprintf (want, sizeof want, "secure handshake with %s failed (wrong server key?)", ep);
    CHECK_STR (err, want);
    CHECK (worm_now_ms () - start < 4000);

    //  Interrupted (SIGINT/SIGTERM set zsys_interrupted): the wait ends
    //  within a slice, saying so
    zsys_interrupted = 1;
    start = worm_now_ms ();
    rc = s_call (ep, server_key, "silent", 5000, &reply, err, sizeof err);
    took = worm_now_ms () - start;
    zsys_interrupted = 0;
    CHECK_EQ (rc, -1);
    snprintf (want, sizeof want, "interrupted before %s answered", ep);
    CHECK_STR (err, want);
    CHECK (took < 1000);

    //  The refusal frame the server sends
    frame = worm_ctl_error_frame ("because");
    worm_wire_reader_fini (&reply);
    worm_wire_reader_init (&reply);
    CHECK_EQ (worm_wire_parse (&reply, zframe_data (frame), zframe_size (frame), WORM_CTL_MAX),
              0);
    bool ok = true;
    CHECK_EQ (worm_wire_get_bool (&reply, reply.root, "ok", &ok), 0);
    CHECK (!ok);
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "error", text, sizeof text), 0);
    CHECK_STR (text, "because");
    zframe_destroy (&frame);

    //  Binding: a kernel-picked port on the address, or -1
    zsock_t *other = zsock_new (ZMQ_ROUTER);
    char other_ep[128];
    CHECK_EQ (worm_ctl_bind (other, "127.0.0.1", other_ep, sizeof other_ep), 0);
    CHECK (strncmp (other_ep, "tcp://127.0.0.1:", 16) == 0);
    CHECK (strcmp (other_ep, ep) != 0);
    CHECK_EQ (worm_ctl_bind (other, "256.1.1.1", other_ep, sizeof other_ep), -1);
    zsock_destroy (&other);

    //  A server that is gone or never speaks: no reply within the timeout.
    //  A port of our own that listens and never accepts stands for it: the
    //  server's freed port could be taken at once by another test's server,
    //  whose handshake would fail (-2) instead.
    zactor_destroy (&actor);
    int silent = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (silent >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t addr_size = sizeof addr;
    CHECK_EQ (bind (silent, (struct sockaddr *) &addr, sizeof addr), 0);
    CHECK_EQ (listen (silent, 4), 0);
    CHECK_EQ (getsockname (silent, (struct sockaddr *) &addr, &addr_size), 0);
    char gone[128];
    snprintf (gone, sizeof gone, "tcp://127.0.0.1:%d", ntohs (addr.sin_port));
    CHECK_EQ (s_call (gone, server_key, "echo", 300, &reply, err, sizeof err), -1);
    snprintf (want, sizeof want, "no reply from %s within 300 ms", gone);
    CHECK_STR (err, want);
    close (silent);

    worm_wire_reader_fini (&reply);
    zcert_destroy (&server.cert);
    zcert_destroy (&client);
    zcert_destroy (&stranger);
    zcert_destroy (&impostor);
    return check_done ("worm.ctl");
}
