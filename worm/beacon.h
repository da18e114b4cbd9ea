/*  beacon.h — what hosts say by broadcast, and how it is encoded.

    Four datagrams share the beacon port (docs/PROTOCOL.md, "Discovery"):
    a host's periodic announcement, a requester's "who is willing?" query,
    a host's direct answer to a query, and a host's notice that one of its
    segments died (a hint: the worm checks it with that host over CURVE).
    The first three carry a worm_hostinfo_t, the record the registry keeps
    and `wormctl hosts` prints. Decoding treats the
    datagram as hostile.
*/
#ifndef WORM_BEACON_H_INCLUDED
#define WORM_BEACON_H_INCLUDED

#include "wire.h"

#define WORM_PROTOCOL_VERSION 1
#define WORM_BEACON_MAX 1400      //  a datagram never exceeds this
#define WORM_HOST_ID_LEN 16       //  hex characters of a host id

typedef struct {
    char id[WORM_HOST_ID_LEN + 1];   //  random hex id, stable across restarts
    char name[65];                   //  [A-Za-z0-9._-]{1,64}
    char endpoint[128];              //  control endpoint, tcp://ADDR:PORT
    char key[41];                    //  the host's CURVE public key (Z85): a hint,
                                     //  trusted only when it is an authorized key
    bool willing;                    //  every policy condition holds
    char reason[96];                 //  why (not) willing, in words
    double load;                     //  1-minute load average
    double idle_s;                   //  seconds since the user was active
    uint32_t segments;               //  guests plus outstanding claims
    uint32_t max_segments;           //  the policy's limit
    uint32_t interval_ms;            //  the host's check interval
    char caps[128];                  //  capabilities, comma-separated
} worm_hostinfo_t;

typedef enum {
    WORM_BEACON_ANNOUNCE = 1,        //  periodic, broadcast
    WORM_BEACON_QUERY = 2,           //  "who is willing?", broadcast
    WORM_BEACON_ANSWER = 3,          //  a host's reply, sent to the querier
    WORM_BEACON_DEAD = 4,            //  "a segment of worm W died here", broadcast
} worm_beacon_kind_t;

typedef struct {
    worm_beacon_kind_t kind;
    uint64_t qid;                    //  query and answer: the query's id
    bool all;                        //  query: every host answers, willing or not
    worm_hostinfo_t host;            //  announce and answer
    char worm_id[64];                //  dead: the worm's id
    char segment[64];                //  dead: the segment that died
} worm_beacon_t;

/*  Encodes msg into the (initialised, empty) writer. */
void worm_beacon_encode (const worm_beacon_t *msg, worm_wire_writer_t *writer);

/*  Decodes a datagram. Returns 0, or -1 with the reason in err (cap bytes);
    msg is then unspecified. */
int worm_beacon_decode (const void *data, size_t size, worm_beacon_t *msg, char *err, size_t cap);

/*  Writes a host record as one map value, and reads one back (used by the
    beacons and by control replies). Read returns 0 or -1 (reader->error). */
void worm_hostinfo_write (worm_wire_writer_t *writer, const worm_hostinfo_t *host);
int worm_hostinfo_read (worm_wire_reader_t *reader, const msgpack_object *map,
                        worm_hostinfo_t *host);

/*  True when name is a valid host or worm name: [A-Za-z0-9._-]{1,64}. */
bool worm_name_valid (const char *name);

#endif
