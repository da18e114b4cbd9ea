/*  ops.h — the requests a segment answers (docs/PROTOCOL.md, "Segments"):
    one table whose entries are an op's name, fields and roles
    (worm/request.h) and its handler, and the one way a request reaches a
    handler: checked whole, then held against the caller's roles, then
    handled.

    Sans-IO like the ring it drives: the segment's reactor (segment.c) pops
    the frame and works out the caller's roles from its key; this module
    acts on the ring and writes the reply, which the reactor sends. Ring
    messages (two frames) never come here.
*/
#ifndef WORM_SEGMENT_OPS_H_INCLUDED
#define WORM_SEGMENT_OPS_H_INCLUDED

#include "app.h"
#include "job.h"
#include "log.h"
#include "request.h"
#include "ring.h"
#include "segment.h"

#include <stdint.h>

//  What a handler reaches of its segment; the segment owns all of it
typedef struct {
    worm_ring_t *ring;                      //  the ring protocol
    const worm_segment_config_t *config;    //  what the segment was started with
    const worm_member_t *self;              //  its member record (its endpoint too)
    const worm_app_t *app;                  //  the app it hosts
    void *app_state;                        //  that app's state (NULL until created)
    worm_log_limiter_t *bad_message;        //  rate limit for refused input
    //  For the app op's job verbs, which answer on their own (later): the
    //  segment's job half (NULL: the app takes no units, or is not created
    //  yet), its ROUTER and the caller's identity there (NULL in tests
    //  without sockets)
    worm_jobs_t *jobs;                      //  the units this segment runs
    zsock_t *router;                        //  where the answers go
    zframe_t *identity;                     //  to whom
    //  A joiner: when it next asks whether its spawner lives (a death
    //  notice of the spawner makes that now); NULL in tests
    uint64_t *next_spawner_check_ms;
} worm_segment_ctx_t;

/*  Handles one request that passed the table's check and the role gate:
    reads its fields from request (their types and sizes are known to be
    right), acts on ctx's ring, and writes the answer into reply, or
    nothing for an op that has none. Runs on the segment's thread; now_ms
    is the ring's clock. Refusals are logged, never asserted. */
typedef void (worm_segment_handler_fn) (const worm_segment_ctx_t *ctx,
                                        worm_wire_reader_t *request, uint64_t now_ms,
                                        worm_wire_writer_t *reply);

//  One op of the table: its request (name, fields, roles) first, so that
//  the table is a worm_request_table_t
typedef struct {
    worm_request_op_t request;              //  name, fields and who may call it
    worm_segment_handler_fn *handler;       //  what it does
} worm_segment_op_t;

/*  The segment's table: entries are worm_segment_op_t (op_size says so),
    ended by a NULL name. For the check, the tests and the fuzz seeds. */
extern const worm_request_table_t worm_segment_requests;

/*  One request frame (data, size bytes) from the key sender (NULL: none),
    who holds roles (WORM_ROLE_WORM, _LAUNCHER, _AGENT): checks it against
    worm_segment_requests, refuses an op that none of roles may call, and
    runs the op's handler. reply is an initialised, empty writer.
    Returns 0 when the handler ran (reply holds its answer, or is empty:
    nothing to send); -1 when the request was refused (logged with ctx's
    limiter; err holds the sentence; nothing is sent); -2 when the caller
    may not call the op (logged; err holds the sentence to answer with, as
    an error reply). */
int worm_segment_handle (const worm_segment_ctx_t *ctx, const void *data, size_t size,
                         const char *sender, unsigned roles, uint64_t now_ms,
                         worm_wire_writer_t *reply, char *err, size_t cap);

/*  Leaves the worm in order: the units held are answered "leaving" (their
    clients lease them elsewhere), the app hands unfinished work back into
    the token when this segment holds it (the only time it may write it),
    then the ring hands the token on and says LEAVE (worm_ring_leave). For
    an evict request and for SIGTERM. */
void worm_segment_leave (const worm_segment_ctx_t *ctx, uint64_t now_ms);

/*  Writes member as the protocol's member record (a map of id, host,
    host_id, endpoint, pid): a join's "member", an entry of status's
    "members". */
void worm_segment_write_member (worm_wire_writer_t *writer, const worm_member_t *member);

#endif
