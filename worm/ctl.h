/*  ctl.h — the control channel to a host agent, client side.

    A request is one ZeroMQ frame holding a msgpack map with an "op" field;
    the reply is one frame holding a map with "ok" (bool) and, when false,
    "error" (a sentence). The agent serves a ROUTER socket; clients use a
    DEALER. See docs/PROTOCOL.md, "Control".
*/
#ifndef WORM_CTL_H_INCLUDED
#define WORM_CTL_H_INCLUDED

#include "auth.h"
#include "wire.h"

#include <czmq.h>

#define WORM_CTL_MAX 262144   //  bytes in a request or reply, at most
//  ZMQ_MAXMSGSIZE counts a message as CURVE carries it: the MESSAGE
//  command's name, nonce, flags and MAC add 33 bytes to every frame
#define WORM_CURVE_OVERHEAD 33
#define WORM_CTL_WIRE_MAX (WORM_CTL_MAX + WORM_CURVE_OVERHEAD)   //  its ZMQ_MAXMSGSIZE
#define WORM_CTL_SLICE_MS 20  //  waits look at zsys_interrupted this often

/*  The keypair this process speaks with on every control connection (the
    user's key in wormctl, the host's in wormd, the worm's in a segment).
    Set once before any call; the caller keeps ownership. */
void worm_ctl_set_identity (zcert_t *cert);

/*  Sends the request in writer to endpoint, a CURVE server whose public key
    is server_key, and waits up to timeout_ms for the reply, which is parsed
    into reply (initialised by the caller, who calls worm_wire_reader_fini
    after). Returns 0 when the server said ok, -2 when it refused (err holds
    its error sentence; a refused key is one too: "ENDPOINT refused our key
    ..."), -1 when there was no valid reply (err says why). Once
    zsys_interrupted is set (czmq's SIGINT/SIGTERM handler, or the
    program's own) the wait ends within WORM_CTL_SLICE_MS with -1 and
    "interrupted before ENDPOINT answered". */
int worm_ctl_call (const char *endpoint, const char *server_key, worm_wire_writer_t *request,
                   int timeout_ms, worm_wire_reader_t *reply, char *err, size_t cap);

/*  The raw exchange under worm_ctl_call: sends data, returns the reply
    frame unparsed (the caller destroys it), or NULL with *rc -1 (no reply)
    or -2 (our key was refused) and the reason in err. */
zframe_t *worm_ctl_exchange (const char *endpoint, const char *server_key, const void *data,
                             size_t size, int timeout_ms, int *rc, char *err, size_t cap);

/*  The common request: {"op": op} with at most one string field (key NULL
    for none). Same returns as worm_ctl_call. */
int worm_ctl_request (const char *endpoint, const char *server_key, const char *op,
                      const char *key, const char *value, int timeout_ms,
                      worm_wire_reader_t *reply, char *err, size_t cap);

/*  How a process reaches other hosts' agents: directly (NULL, or an empty
    endpoint), or through its own host agent's relay (a segment: other
    hosts trust its agent's key, not the worm's). */
typedef struct {
    const char *endpoint;       //  our host agent
    const char *key;            //  its public key
} worm_ctl_via_t;

/*  worm_ctl_call to the agent at endpoint/server_key, through via when it
    names a relay. Same returns; a relay's own refusal is -2 as well. */
int worm_ctl_call_via (const worm_ctl_via_t *via, const char *endpoint, const char *server_key,
                       worm_wire_writer_t *request, int timeout_ms, worm_wire_reader_t *reply,
                       char *err, size_t cap);

/*  The same through via's relay to the agent of host_id as our agent knows
    it from the beacons it heard (no broadcast query): -2 with "relay: host
    ID is not known here" when it heard none from that host lately. */
int worm_ctl_call_host (const worm_ctl_via_t *via, const char *host_id,
                        worm_wire_writer_t *request, int timeout_ms, worm_wire_reader_t *reply,
                        char *err, size_t cap);

/*  A DEALER connected to endpoint as a CURVE client with our identity, or
    NULL with the reason in err. For callers that keep a connection open. */
zsock_t *worm_ctl_connect (const char *endpoint, const char *server_key, char *err, size_t cap);

/*  Server side: sends the reply in writer to the client behind identity
    on a ROUTER socket (identity is kept for the caller), and the plain
    {"ok": true} reply. */
void worm_ctl_reply (zsock_t *router, zframe_t *identity, worm_wire_writer_t *writer);
void worm_ctl_reply_ok (zsock_t *router, zframe_t *identity);
/*  The refusal {"ok": false, "error": sentence} as one frame (the caller
    owns it), and sent as the reply to identity. */
zframe_t *worm_ctl_error_frame (const char *text);
void worm_ctl_reply_error (zsock_t *router, zframe_t *identity, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Binds sock to an ephemeral TCP port that the kernel picks at random on
    address, so a new process rarely inherits a dead one's endpoint, and
    writes "tcp://ADDRESS:PORT" into endpoint. Returns 0 or -1. */
int worm_ctl_bind (zsock_t *sock, const char *address, char *endpoint, size_t cap);

#endif
