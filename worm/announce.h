/*  announce.h — the host agent's voice on the LAN: an actor (czmq zactor)
    that owns the beacon port's sockets and the timers of its answers.

    It says what the agent tells it over its pipe: the host record to
    answer with (worm_announce_host, whenever it changed), an announcement
    now (worm_announce_now: every check interval, and at once when
    willingness changes) and a segment's death (worm_announce_death). By
    itself it answers "who is willing?" queries with the latest record:
    at once to a query for every host, otherwise only while willing and
    after worm_agent_answer_delay_ms of its load, so that the least loaded
    answers first. What it hears for the agent (other hosts'
    announcements, death notices) comes back over the pipe for
    worm_announce_recv. Undecodable datagrams are dropped, with a
    rate-limited log line. See docs/PROTOCOL.md, "Discovery".

    The calls below are the owner's, on the owner's thread; the actor never
    touches the owner's data.
*/
#ifndef WORM_ANNOUNCE_H_INCLUDED
#define WORM_ANNOUNCE_H_INCLUDED

#include "beacon.h"
#include "udp.h"

#include <czmq.h>

typedef struct worm_announce_t worm_announce_t;

/*  Opens the beacon port's listener and a sender on lan, and starts the
    actor that owns them. Returns NULL with the reason in err. Until told a
    host record it reads no datagram: they wait in the socket. */
worm_announce_t *worm_announce_new (const worm_lan_t *lan, char *err, size_t cap);

/*  Stops the actor, after it has sent what it was told to, and closes its
    sockets. */
void worm_announce_destroy (worm_announce_t **self_p);

/*  The host record to announce and answer with from now on; told to the
    actor only when it differs from the last one. */
void worm_announce_host (worm_announce_t *self, const worm_hostinfo_t *host);

/*  Broadcasts an announcement of the last record now. */
void worm_announce_now (worm_announce_t *self);

/*  Broadcasts that segment of worm worm_id died here (a hint). */
void worm_announce_death (worm_announce_t *self, const char *worm_id, const char *segment);

/*  The socket to poll: readable when the actor heard something. */
zsock_t *worm_announce_socket (worm_announce_t *self);

/*  One thing the actor heard, into msg: an announcement (msg->host) or a
    death notice (msg->worm_id, msg->segment). Call it when the socket is
    readable: it waits for a message. Returns 0, or -1 when what came was
    not that (nothing is then to be done). */
int worm_announce_recv (worm_announce_t *self, worm_beacon_t *msg);

#endif
