/*  announce.c — the host agent's voice on the LAN, an actor. See
    announce.h; docs/PROTOCOL.md ("Discovery") has the datagrams.

    The actor owns the beacon port's listener, the sender, and the answers
    waiting for their delay; it polls its pipe and the listener with
    zmq_poll, its timeout the next answer due. Commands on the pipe:
      HOST <worm_hostinfo_t>       the record to say from now on
      ANNOUNCE                     broadcast an announcement of it now
      DEAD <worm id> <segment>     broadcast a death notice
      $TERM                        end
    and what it heard goes the other way, one message each:
      HEARD <worm_beacon_t>        an announcement or a death notice
*/
#include "announce.h"
#include "agent.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>

//  A query waiting for its answer
typedef struct {
    struct sockaddr_in to;      //  the querier's address
    uint64_t qid;               //  its query id
    int64_t due_ms;             //  when the answer goes (monotonic)
} s_answer_t;

//  The actor's state, on its own thread
typedef struct {
    zsock_t *pipe;              //  to the owner
    worm_lan_t lan;             //  where broadcasts go
    int listen_fd;              //  beacon port listener
    int send_fd;                //  broadcasts and answers go out here
    worm_hostinfo_t host;       //  the record to say
    bool have_host;             //  one was told
    zlist_t *answers;           //  s_answer_t *, waiting for their delay
    worm_log_limiter_t bad_datagram;    //  rate limit for undecodable datagrams
    worm_log_limiter_t behind;  //  and for news the owner was too busy to take
    bool terminated;            //  $TERM came
} s_voice_t;

struct worm_announce_t {
    zactor_t *actor;            //  the actor
    worm_hostinfo_t told;       //  the last record told to it
    bool told_any;              //  one was
};

int
worm_agent_answer_delay_ms (double load)
{
    double delay = load * WORM_ANSWER_MS_PER_LOAD;
    if (delay > WORM_ANSWER_MAX_DELAY_MS)
        delay = WORM_ANSWER_MAX_DELAY_MS;
    return delay > 0 ? (int) lround (delay) : 0;
}

//  --------------------------------------------------------------------------
//  The actor

//  Sends a datagram to one address, or broadcasts it when to is NULL.
static void
s_send (s_voice_t *self, const worm_beacon_t *msg, const struct sockaddr_in *to)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_beacon_encode (msg, &writer);
    int rc = to ? worm_udp_sendto (self->send_fd, to, worm_wire_writer_data (&writer),
                                   worm_wire_writer_size (&writer))
                : worm_udp_broadcast (self->send_fd, &self->lan, worm_wire_writer_data (&writer),
                                      worm_wire_writer_size (&writer));
    if (rc)
        worm_log ("cannot send a %s: %s", to ? "query answer" : "datagram", strerror (errno));
    worm_wire_writer_fini (&writer);
}

//  Our record, as an announcement (to NULL) or as the answer to query qid.
static void
s_send_host (s_voice_t *self, worm_beacon_kind_t kind, uint64_t qid,
             const struct sockaddr_in *to)
{
    worm_beacon_t msg = {.kind = kind, .qid = qid};
    msg.host = self->host;
    s_send (self, &msg, to);
}

static void
s_on_query (s_voice_t *self, const worm_beacon_t *query, const struct sockaddr_in *from)
{
    if (query->all) {
        s_send_host (self, WORM_BEACON_ANSWER, query->qid, from);
        return;
    }
    if (!self->host.willing)
        return;
    int delay = worm_agent_answer_delay_ms (self->host.load);
    if (delay == 0) {
        s_send_host (self, WORM_BEACON_ANSWER, query->qid, from);
        return;
    }
    s_answer_t *answer = calloc (1, sizeof *answer);
    answer->to = *from;
    answer->qid = query->qid;
    answer->due_ms = worm_now_ms () + delay;
    zlist_append (self->answers, answer);
}

//  Sends the answers now due: those whose delay is over, while we are
//  still willing then.
static void
s_answer_due (s_voice_t *self)
{
    int64_t now = worm_now_ms ();
    s_answer_t *answer = zlist_first (self->answers);
    while (answer) {
        s_answer_t *next = zlist_next (self->answers);
        if (answer->due_ms <= now) {
            if (self->host.willing)
                s_send_host (self, WORM_BEACON_ANSWER, answer->qid, &answer->to);
            zlist_remove (self->answers, answer);
            free (answer);
        }
        answer = next;
    }
}

//  How long zmq_poll may wait: until the next answer is due, or for ever.
static long
s_timeout_ms (s_voice_t *self)
{
    long timeout = -1;
    int64_t now = worm_now_ms ();
    for (s_answer_t *answer = zlist_first (self->answers); answer;
         answer = zlist_next (self->answers)) {
        long wait = answer->due_ms > now ? (long) (answer->due_ms - now) : 0;
        if (timeout < 0 || wait < timeout)
            timeout = wait;
    }
    return timeout;
}

//  Passes what we heard to the owner. It never waits on the owner: when
//  the owner lets a thousand messages pile up, the news is dropped.
static void
s_tell_owner (s_voice_t *self, const worm_beacon_t *msg)
{
    void *pipe = zsock_resolve (self->pipe);
    if (zmq_send (pipe, "HEARD", 5, ZMQ_SNDMORE | ZMQ_DONTWAIT) == 5)
        zmq_send (pipe, msg, sizeof *msg, 0);
    else
        worm_log_limited (&self->behind, WORM_AGENT_LOG_PERIOD_MS,
                          "the agent is behind: dropped what a datagram said");
}

static void
s_on_datagrams (s_voice_t *self)
{
    char buf[WORM_BEACON_MAX + 1];
    struct sockaddr_in from;
    ssize_t size;
    while ((size = worm_udp_recv (self->listen_fd, buf, sizeof buf, &from)) >= 0) {
        worm_beacon_t msg;
        char err[WORM_WIRE_ERROR_MAX];
        if (worm_beacon_decode (buf, (size_t) size, &msg, err, sizeof err)) {
            char address[INET_ADDRSTRLEN] = "?";
            inet_ntop (AF_INET, &from.sin_addr, address, sizeof address);
            worm_log_limited (&self->bad_datagram, WORM_AGENT_LOG_PERIOD_MS,
                              "dropped a datagram from %s:%d: %s", address, ntohs (from.sin_port),
                              err);
            continue;
        }
        if (msg.kind == WORM_BEACON_QUERY)
            s_on_query (self, &msg, &from);
        else if (msg.kind == WORM_BEACON_ANNOUNCE || msg.kind == WORM_BEACON_DEAD)
            s_tell_owner (self, &msg);
    }
}

static void
s_on_command (s_voice_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg)
        return;
    char *command = zmsg_popstr (msg);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "HOST")) {
        zframe_t *frame = zmsg_first (msg);
        if (frame && zframe_size (frame) == sizeof self->host) {
            memcpy (&self->host, zframe_data (frame), sizeof self->host);
            self->have_host = true;
        }
    }
    else if (streq (command, "ANNOUNCE")) {
        if (self->have_host)
            s_send_host (self, WORM_BEACON_ANNOUNCE, 0, NULL);
    }
    else if (streq (command, "DEAD")) {
        char *worm_id = zmsg_popstr (msg);
        char *segment = zmsg_popstr (msg);
        worm_beacon_t notice = {.kind = WORM_BEACON_DEAD};
        snprintf (notice.worm_id, sizeof notice.worm_id, "%s", worm_id ? worm_id : "");
        snprintf (notice.segment, sizeof notice.segment, "%s", segment ? segment : "");
        s_send (self, &notice, NULL);
        zstr_free (&worm_id);
        zstr_free (&segment);
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

//  The actor's thread. It ends on $TERM only (an interrupt does not end
//  it: the owner still has death notices to send as it stops).
static void
s_actor (zsock_t *pipe, void *arg)
{
    s_voice_t *self = (s_voice_t *) arg;
    self->pipe = pipe;
    self->answers = zlist_new ();
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        //  Until the owner has decided and told us, datagrams wait in the
        //  socket: a query then gets an answer that says what is so
        zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                  {NULL, self->listen_fd, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, self->have_host ? 2 : 1, s_timeout_ms (self)) < 0) {
            if (zmq_errno () == EINTR)
                continue;
            break;          //  the context is gone
        }
        if (items[0].revents & ZMQ_POLLIN)
            s_on_command (self);
        if (items[1].revents & ZMQ_POLLIN)
            s_on_datagrams (self);
        s_answer_due (self);
    }
    s_answer_t *answer;
    while ((answer = zlist_pop (self->answers)))
        free (answer);
    zlist_destroy (&self->answers);
    close (self->listen_fd);
    close (self->send_fd);
    free (self);
}

//  --------------------------------------------------------------------------
//  The owner's side

worm_announce_t *
worm_announce_new (const worm_lan_t *lan, char *err, size_t cap)
{
    int listen_fd = worm_udp_listen (lan, err, cap);
    if (listen_fd < 0)
        return NULL;
    int send_fd = worm_udp_open (lan, err, cap);
    if (send_fd < 0) {
        close (listen_fd);
        return NULL;
    }
    s_voice_t *voice = calloc (1, sizeof *voice);
    voice->lan = *lan;
    voice->listen_fd = listen_fd;
    voice->send_fd = send_fd;
    worm_announce_t *self = calloc (1, sizeof *self);
    //  From here on the sockets and voice are the actor's
    self->actor = zactor_new (s_actor, voice);
    return self;
}

void
worm_announce_destroy (worm_announce_t **self_p)
{
    worm_announce_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}

void
worm_announce_host (worm_announce_t *self, const worm_hostinfo_t *host)
{
    if (self->told_any && memcmp (&self->told, host, sizeof *host) == 0)
        return;
    self->told = *host;
    self->told_any = true;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "HOST");
    zmsg_addmem (msg, host, sizeof *host);
    zmsg_send (&msg, self->actor);
}

void
worm_announce_now (worm_announce_t *self)
{
    zstr_send (self->actor, "ANNOUNCE");
}

void
worm_announce_death (worm_announce_t *self, const char *worm_id, const char *segment)
{
    zstr_sendx (self->actor, "DEAD", worm_id, segment, NULL);
}

zsock_t *
worm_announce_socket (worm_announce_t *self)
{
    return (zsock_t *) self->actor;
}

int
worm_announce_recv (worm_announce_t *self, worm_beacon_t *msg)
{
    zmsg_t *heard = zmsg_recv (self->actor);
    if (!heard)
        return -1;
    char *command = zmsg_popstr (heard);
    zframe_t *frame = zmsg_first (heard);
    int rc = -1;
    if (command && streq (command, "HEARD") && frame && zframe_size (frame) == sizeof *msg) {
        memcpy (msg, zframe_data (frame), sizeof *msg);
        rc = 0;
    }
    zstr_free (&command);
    zmsg_destroy (&heard);
    return rc;
}
