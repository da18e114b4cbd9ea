/*  request.h — the requests a host agent and a segment accept, checked as
    a whole before any handler runs.

    A request is one msgpack map with an "op" (docs/PROTOCOL.md, "Control"
    and "Segments"). Each side has one table: the ops it accepts and, for
    each op, every field's type, size limit and whether it is required.
    worm_request_check parses a frame with token/wire.c (the hostile
    pre-scan included) and holds it against that table, so a handler only
    ever reads fields whose type and size are already known to be right;
    handlers still judge what the values mean (a valid worm name, a known
    claim). Fields a table does not name are ignored, so that an older
    agent serves a newer client.
*/
#ifndef WORM_REQUEST_H_INCLUDED
#define WORM_REQUEST_H_INCLUDED

#include "wire.h"

#include <stdbool.h>
#include <stddef.h>

#define WORM_REQUEST_ERROR_MAX 256  //  room for any error sentence of worm_request_check

typedef enum {
    WORM_FIELD_STR,         //  string of at most max bytes, no NUL byte
    WORM_FIELD_UINT,        //  non-negative integer
    WORM_FIELD_NUMBER,      //  integer or float, not NaN
    WORM_FIELD_ARRAY,       //  at most max elements, each as item says
    WORM_FIELD_MAP,         //  at most max entries: names are distinct strings of at most
                            //  name_max bytes, values as item says
    WORM_FIELD_RECORD,      //  a nested map with the fields of fields
    WORM_FIELD_BIN,         //  bytes (msgpack bin) of at most max
    WORM_FIELD_BOOL,        //  true or false
} worm_field_type_t;

typedef struct worm_field_t worm_field_t;
struct worm_field_t {
    const char *name;               //  key in the map; NULL ends a list of fields
    worm_field_type_t type;         //  what its value must be
    bool required;                  //  absent is an error (else it is optional)
    size_t max;                     //  STR, BIN: bytes; ARRAY, MAP: elements
    size_t name_max;                //  MAP: bytes in an entry's name
    const worm_field_t *item;       //  ARRAY, MAP: one element (its name unused)
    const worm_field_t *fields;     //  RECORD: its fields, ended by a NULL name
};

//  Who may call an op: each caller holds a set of roles, worked out from the
//  key of its connection, and an op lists the roles it lets in. An op that
//  lists none is refused to everyone: denied by default. (docs/PROTOCOL.md,
//  "Security", has the table in words.)
enum {
    //  A host agent's callers
    WORM_ROLE_OWNER = 1 << 0,       //  the host's owner: its own host key, or a key in --owners
    WORM_ROLE_USER = 1 << 1,        //  an authorized key
    WORM_ROLE_HOST = 1 << 2,        //  an authorized key whose file says role "host", or our own
    WORM_ROLE_GUEST = 1 << 3,       //  the worm key of one of our own guests
    //  A segment's callers
    WORM_ROLE_WORM = 1 << 8,        //  its worm's own key: the other segments
    WORM_ROLE_LAUNCHER = 1 << 9,    //  whoever launched the worm
    WORM_ROLE_AGENT = 1 << 10,      //  its own host agent
};

typedef struct {
    const char *op;                 //  the op's name; NULL ends the table
    const worm_field_t *fields;     //  its fields, ended by a NULL name (NULL: none)
    unsigned allow;                 //  the roles that may call it (WORM_ROLE_*); 0: no one
} worm_request_op_t;

/*  A server's table. Its ops may be the server's own struct whose first
    member is a worm_request_op_t (to add a handler, say): op_size says how
    big one entry is, 0 for a bare worm_request_op_t. The op that
    worm_request_op returns then points at the server's whole entry. */
typedef struct {
    const char *who;                //  whose table, for people ("wormd", "segment")
    size_t max_size;                //  bytes in one request, at most
    const void *ops;                //  every op it accepts, ended by a NULL op
    size_t op_size;                 //  bytes of one entry of ops; 0: sizeof (worm_request_op_t)
} worm_request_table_t;

/*  The tables: a host agent's (docs/PROTOCOL.md "Control") is
    worm_request_agent, in worm/agent_ops.c, with its limits in
    worm/agent_limits.h; a segment's ("Segments") is worm_segment_requests,
    in segments/ops.h. */
extern const worm_request_table_t worm_request_agent;

/*  Parses data (size bytes) into out, which the caller has initialised with
    worm_wire_reader_init and finishes with worm_wire_reader_fini whatever
    this returns, and checks it against table: "op" names one of its ops,
    no field of that op appears twice, every required field is present, and
    every field present has its type and size. Returns 0 (out->root is the
    request), or -1 with one sentence in err naming the field and the
    reason: "bad request: ..." when the frame does not decode or has no op,
    "unknown op 'x'", or "OP: field 'f': ..." / "OP: missing field 'f'".
    Nested fields are named by their path: 'member.pid', 'args[3]'. */
int worm_request_check (const void *data, size_t size, const worm_request_table_t *table,
                        worm_wire_reader_t *out, char *err, size_t cap);

/*  The op named name in table, or NULL. */
const worm_request_op_t *worm_request_op (const worm_request_table_t *table, const char *name);

/*  The entry after op in table (the ending entry's op is NULL), and the first. */
const worm_request_op_t *worm_request_first (const worm_request_table_t *table);
const worm_request_op_t *worm_request_next (const worm_request_table_t *table,
                                            const worm_request_op_t *op);

/*  Whether a caller holding roles may call op name of table (false for an
    op the table does not have). */
bool worm_request_allowed (const worm_request_table_t *table, const char *name, unsigned roles);

#endif
