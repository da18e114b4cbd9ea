/*  ctl.c — one request, one reply, over a DEALER socket. See ctl.h. */
#include "ctl.h"
#include "auth.h"
#include "log.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <unistd.h>

static zcert_t *s_identity;        //  our keypair; set once at start

void
worm_ctl_set_identity (zcert_t *cert)
{
    s_identity = cert;
}

//  A DEALER that speaks CURVE with server_key as us, not yet connected
static zsock_t *
s_dealer_new (const char *endpoint, const char *server_key, char *err, size_t cap)
{
    if (!s_identity) {
        snprintf (err, cap, "no key to speak with (the program set no identity)");
        return NULL;
    }
    if (!worm_key_valid (server_key)) {
        snprintf (err, cap, "no valid public key for %s", endpoint);
        return NULL;
    }
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer) {
        snprintf (err, cap, "cannot create a socket");
        return NULL;
    }
    zsock_set_linger (dealer, 0);
    zsock_set_maxmsgsize (dealer, WORM_CTL_WIRE_MAX);
    worm_curve_client (dealer, s_identity, server_key);
    return dealer;
}

static int
s_dealer_connect (zsock_t **dealer, const char *endpoint, char *err, size_t cap)
{
    if (zsock_connect (*dealer, "%s", endpoint) == 0)
        return 0;
    snprintf (err, cap, "cannot connect to %s", endpoint);
    zsock_destroy (dealer);
    return -1;
}

zsock_t *
worm_ctl_connect (const char *endpoint, const char *server_key, char *err, size_t cap)
{
    zsock_t *dealer = s_dealer_new (endpoint, server_key, err, cap);
    if (dealer)
        s_dealer_connect (&dealer, endpoint, err, cap);
    return dealer;
}

//  Watches a client socket for a failed CURVE handshake, so that a refused
//  key is reported at once rather than as a silent timeout (libzmq 4.3 does
//  not retry after the server refused us).
static zsock_t *
s_watch_handshake (zsock_t *dealer)
{
    static atomic_uint counter;
    char name[64];
    snprintf (name, sizeof name, "inproc://worm-ctl-watch-%d-%u", (int) getpid (),
              atomic_fetch_add (&counter, 1));
    if (zmq_socket_monitor (zsock_resolve (dealer), name,
                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
        return NULL;
    zsock_t *watch = zsock_new (ZMQ_PAIR);
    if (watch && zsock_connect (watch, "%s", name))
        zsock_destroy (&watch);
    return watch;
}

zframe_t *
worm_ctl_exchange (const char *endpoint, const char *server_key, const void *data, size_t size,
                   int timeout_ms, int *rc, char *err, size_t cap)
{
    *rc = -1;
    zsock_t *dealer = s_dealer_new (endpoint, server_key, err, cap);
    if (!dealer)
        return NULL;
    //  Watched before it connects: a refusal that came before the watch
    //  would be lost, and the request would wait out its whole timeout
    zsock_t *watch = s_watch_handshake (dealer);
    if (s_dealer_connect (&dealer, endpoint, err, cap)) {
        zsock_destroy (&watch);
        return NULL;
    }
    zpoller_t *poller = zpoller_new (dealer, watch, NULL);
    zframe_t *frame = zframe_new (data, size);
    zframe_t *reply = NULL;
    if (zframe_send (&frame, dealer, ZFRAME_DONTWAIT)) {
        zframe_destroy (&frame);
        snprintf (err, cap, "cannot send to %s", endpoint);
        goto done;
    }
    int64_t deadline = worm_now_ms () + timeout_ms;
    void *ready = NULL;
    //  In short slices: a signal caught by another thread sets
    //  zsys_interrupted but does not wake this poll
    while (!ready && !zsys_interrupted) {
        int64_t left = deadline - worm_now_ms ();
        if (left <= 0)
            break;
        ready = zpoller_wait (poller, left < WORM_CTL_SLICE_MS ? (int) left : WORM_CTL_SLICE_MS);
        if (!ready && zpoller_terminated (poller))
            break;
    }
    if (!ready && zsys_interrupted) {
        snprintf (err, cap, "interrupted before %s answered", endpoint);
        goto done;
    }
    if (ready && ready == watch) {
        //  Frame 1 holds the event (16 bits) and its value (32 bits)
        zframe_t *event = zframe_recv (watch);
        uint16_t type = 0;
        if (event && zframe_size (event) >= 6)
            memcpy (&type, zframe_data (event), sizeof type);
        zframe_destroy (&event);
        if (type == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            snprintf (err, cap, "%s refused our key %s (not authorized there)", endpoint,
                      zcert_public_txt (s_identity));
        else
            snprintf (err, cap, "secure handshake with %s failed (wrong server key?)",
                      endpoint);
        *rc = -2;
        goto done;
    }
    reply = ready ? zframe_recv (dealer) : NULL;
    if (!reply)
        snprintf (err, cap, "no reply from %s within %d ms", endpoint, timeout_ms);
    else
        *rc = 0;
done:
    zpoller_destroy (&poller);
    if (watch) {
        zmq_socket_monitor (zsock_resolve (dealer), NULL, 0);
        zsock_destroy (&watch);
    }
    zsock_destroy (&dealer);
    return reply;
}

int
worm_ctl_call (const char *endpoint, const char *server_key, worm_wire_writer_t *request,
               int timeout_ms, worm_wire_reader_t *reply, char *err, size_t cap)
{
    int rc;
    zframe_t *frame =
        worm_ctl_exchange (endpoint, server_key, worm_wire_writer_data (request),
                           worm_wire_writer_size (request), timeout_ms, &rc, err, cap);
    if (!frame)
        return rc;
    int parsed = worm_wire_parse (reply, zframe_data (frame), zframe_size (frame), WORM_CTL_MAX);
    zframe_destroy (&frame);
    bool ok = false;
    if (parsed || worm_wire_get_bool (reply, reply->root, "ok", &ok)) {
        snprintf (err, cap, "bad reply from %s: %s", endpoint, reply->error);
        return -1;
    }
    if (!ok) {
        char why[256] = "no reason given";
        worm_wire_get_str (reply, reply->root, "error", why, sizeof why);
        snprintf (err, cap, "%s", why);
        return -2;
    }
    return 0;
}

//  The relay envelope: to the agent at endpoint/server_key, or to host_id
//  as our agent knows it
static int
s_call_relay (const worm_ctl_via_t *via, const char *endpoint, const char *server_key,
              const char *host_id, worm_wire_writer_t *request, int timeout_ms,
              worm_wire_reader_t *reply, char *err, size_t cap)
{
    worm_wire_writer_t relay;
    worm_wire_writer_init (&relay);
    worm_wire_map_open (&relay);
    worm_wire_kstr (&relay, "op", "relay");
    if (host_id)
        worm_wire_kstr (&relay, "host", host_id);
    else {
        worm_wire_kstr (&relay, "to", endpoint);
        worm_wire_kstr (&relay, "key", server_key ? server_key : "");
    }
    worm_wire_key (&relay, "request");
    //  The request is one whole msgpack map: its bytes are the value
    worm_wire_encoded (&relay, worm_wire_writer_data (request), worm_wire_writer_size (request));
    worm_wire_map_close (&relay);
    //  The relay waits up to 1.5 s for the other host: wait past that
    int rc = worm_ctl_call (via->endpoint, via->key, &relay, timeout_ms + 2000, reply, err, cap);
    worm_wire_writer_fini (&relay);
    return rc;
}

int
worm_ctl_call_via (const worm_ctl_via_t *via, const char *endpoint, const char *server_key,
                   worm_wire_writer_t *request, int timeout_ms, worm_wire_reader_t *reply,
                   char *err, size_t cap)
{
    if (!via || !via->endpoint || !via->endpoint[0])
        return worm_ctl_call (endpoint, server_key, request, timeout_ms, reply, err, cap);
    return s_call_relay (via, endpoint, server_key, NULL, request, timeout_ms, reply, err, cap);
}

int
worm_ctl_call_host (const worm_ctl_via_t *via, const char *host_id, worm_wire_writer_t *request,
                    int timeout_ms, worm_wire_reader_t *reply, char *err, size_t cap)
{
    return s_call_relay (via, NULL, NULL, host_id, request, timeout_ms, reply, err, cap);
}

int
worm_ctl_request (const char *endpoint, const char *server_key, const char *op,
                  const char *key, const char *value, int timeout_ms,
                  worm_wire_reader_t *reply, char *err, size_t cap)
{
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", op);
    if (key)
        worm_wire_kstr (&request, key, value);
    worm_wire_map_close (&request);
    int rc = worm_ctl_call (endpoint, server_key, &request, timeout_ms, reply, err, cap);
    worm_wire_writer_fini (&request);
    return rc;
}

int
worm_ctl_bind (zsock_t *sock, const char *address, char *endpoint, size_t cap)
{
    if (zsock_bind (sock, "tcp://%s:0", address) < 0)
        return -1;
    char *last = zsock_last_endpoint (sock);
    const char *colon = last ? strrchr (last, ':') : NULL;
    int port = colon ? atoi (colon + 1) : 0;
    zstr_free (&last);
    if (port <= 0)
        return -1;
    snprintf (endpoint, cap, "tcp://%s:%d", address, port);
    return 0;
}

void
worm_ctl_reply (zsock_t *router, zframe_t *identity, worm_wire_writer_t *writer)
{
    zframe_t *payload =
        zframe_new (worm_wire_writer_data (writer), worm_wire_writer_size (writer));
    zframe_send (&identity, router, ZFRAME_MORE | ZFRAME_REUSE);
    zframe_send (&payload, router, 0);
}

void
worm_ctl_reply_ok (zsock_t *router, zframe_t *identity)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_map_close (&writer);
    worm_ctl_reply (router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

void
worm_ctl_reply_error (zsock_t *router, zframe_t *identity, const char *fmt, ...)
{
    char text[512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    zframe_t *payload = worm_ctl_error_frame (text);
    zframe_send (&identity, router, ZFRAME_MORE | ZFRAME_REUSE);
    zframe_send (&payload, router, 0);
}

zframe_t *
worm_ctl_error_frame (const char *text)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", false);
    worm_wire_kstr (&writer, "error", text);
    worm_wire_map_close (&writer);
    zframe_t *frame = zframe_new (worm_wire_writer_data (&writer), worm_wire_writer_size (&writer));
    worm_wire_writer_fini (&writer);
    return frame;
}
