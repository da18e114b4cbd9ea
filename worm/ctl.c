/*  ctl.c — one request, one reply, over a DEALER socket. See ctl.h. */
#include "ctl.h"

#include <czmq.h>

int
worm_ctl_call (const char *endpoint, worm_wire_writer_t *request, int timeout_ms,
               worm_wire_reader_t *reply, char *err, size_t cap)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer) {
        snprintf (err, cap, "cannot create a socket");
        return -1;
    }
    zsock_set_linger (dealer, 0);
    zsock_set_maxmsgsize (dealer, WORM_CTL_MAX);
    zsock_set_rcvtimeo (dealer, timeout_ms);
    int rc = -1;
    if (zsock_connect (dealer, "%s", endpoint)) {
        snprintf (err, cap, "cannot connect to %s", endpoint);
        goto done;
    }
    zframe_t *frame =
        zframe_new (worm_wire_writer_data (request), worm_wire_writer_size (request));
    if (zframe_send (&frame, dealer, 0)) {
        zframe_destroy (&frame);
        snprintf (err, cap, "cannot send to %s", endpoint);
        goto done;
    }
    frame = zframe_recv (dealer);
    if (!frame) {
        snprintf (err, cap, "no reply from %s within %d ms", endpoint, timeout_ms);
        goto done;
    }
    int parsed = worm_wire_parse (reply, zframe_data (frame), zframe_size (frame), WORM_CTL_MAX);
    zframe_destroy (&frame);
    bool ok = false;
    if (parsed || worm_wire_get_bool (reply, reply->root, "ok", &ok)) {
        snprintf (err, cap, "bad reply from %s: %s", endpoint, reply->error);
        goto done;
    }
    if (!ok) {
        char why[256] = "no reason given";
        worm_wire_get_str (reply, reply->root, "error", why, sizeof why);
        snprintf (err, cap, "%s", why);
        rc = -2;
        goto done;
    }
    rc = 0;
done:
    zsock_destroy (&dealer);
    return rc;
}

int
worm_ctl_request (const char *endpoint, const char *op, const char *key, const char *value,
                  int timeout_ms, worm_wire_reader_t *reply, char *err, size_t cap)
{
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map (&request, key ? 2 : 1);
    worm_wire_kstr (&request, "op", op);
    if (key)
        worm_wire_kstr (&request, key, value);
    int rc = worm_ctl_call (endpoint, &request, timeout_ms, reply, err, cap);
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
    worm_wire_map (&writer, 1);
    worm_wire_kbool (&writer, "ok", true);
    worm_ctl_reply (router, identity, &writer);
    worm_wire_writer_fini (&writer);
}
