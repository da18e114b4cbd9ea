/*  ctl.h — the control channel to a host agent, client side.

    A request is one ZeroMQ frame holding a msgpack map with an "op" field;
    the reply is one frame holding a map with "ok" (bool) and, when false,
    "error" (a sentence). The agent serves a ROUTER socket; clients use a
    DEALER. See docs/PROTOCOL.md, "Control".
*/
#ifndef WORM_CTL_H_INCLUDED
#define WORM_CTL_H_INCLUDED

#include "wire.h"

#include <czmq.h>

#define WORM_CTL_MAX 262144   //  bytes in a request or reply, at most

/*  Sends the request in writer to endpoint and waits up to timeout_ms for
    the reply, which is parsed into reply (initialised by the caller, who
    calls worm_wire_reader_fini after). Returns 0 when the agent said ok,
    -2 when it refused (err holds its error sentence), -1 when there was no
    valid reply (err says why). */
int worm_ctl_call (const char *endpoint, worm_wire_writer_t *request, int timeout_ms,
                   worm_wire_reader_t *reply, char *err, size_t cap);

/*  The common request: {"op": op} with at most one string field (key NULL
    for none). Same returns as worm_ctl_call. */
int worm_ctl_request (const char *endpoint, const char *op, const char *key, const char *value,
                      int timeout_ms, worm_wire_reader_t *reply, char *err, size_t cap);

/*  Server side: sends the reply in writer to the client behind identity
    on a ROUTER socket (identity is kept for the caller), and the plain
    {"ok": true} reply. */
void worm_ctl_reply (zsock_t *router, zframe_t *identity, worm_wire_writer_t *writer);
void worm_ctl_reply_ok (zsock_t *router, zframe_t *identity);

/*  Binds sock to an ephemeral TCP port that the kernel picks at random on
    address, so a new process rarely inherits a dead one's endpoint, and
    writes "tcp://ADDRESS:PORT" into endpoint. Returns 0 or -1. */
int worm_ctl_bind (zsock_t *sock, const char *address, char *endpoint, size_t cap);

#endif
