/*  announce.c — what the agent says on the LAN and hears there: its beacon
    (every check interval, and at once when its willingness changes), its
    answers to "who is willing?" (after a delay that grows with its load,
    so that the least loaded answers first), and death notices of
    segments, sent and heard. See docs/PROTOCOL.md ("Discovery").
*/
#include "agent_internal.h"

#include <errno.h>
#include <math.h>


//  Sends a datagram to one address, or broadcasts it when to is NULL.
static void
s_send_datagram (worm_agent_t *self, const worm_beacon_t *msg, const struct sockaddr_in *to)
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

void
worm_announce_death (worm_agent_t *self, const char *worm_id, const char *segment)
{
    worm_beacon_t notice = {.kind = WORM_BEACON_DEAD};
    snprintf (notice.worm_id, sizeof notice.worm_id, "%s", worm_id);
    snprintf (notice.segment, sizeof notice.segment, "%s", segment);
    s_send_datagram (self, &notice, NULL);
}

static void
s_send_beacon (worm_agent_t *self, worm_beacon_kind_t kind, uint64_t qid,
               const struct sockaddr_in *to)
{
    worm_beacon_t msg = {.kind = kind, .qid = qid};
    worm_agent_hostinfo (self, &msg.host);
    s_send_datagram (self, &msg, to);
}

void
worm_announce (worm_agent_t *self)
{
    s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);
}

int
worm_agent_answer_delay_ms (double load)
{
    double delay = load * WORM_ANSWER_MS_PER_LOAD;
    if (delay > WORM_ANSWER_MAX_DELAY_MS)
        delay = WORM_ANSWER_MAX_DELAY_MS;
    return delay > 0 ? (int) lround (delay) : 0;
}

static int
s_on_answer_due (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    worm_answer_t *answer = (worm_answer_t *) arg;
    worm_agent_t *self = answer->agent;
    if (self->willing)
        s_send_beacon (self, WORM_BEACON_ANSWER, answer->qid, &answer->to);
    zlist_remove (self->answers, answer);
    free (answer);
    return 0;
}

static void
s_on_query (worm_agent_t *self, const worm_beacon_t *query, const struct sockaddr_in *from)
{
    if (query->all) {
        s_send_beacon (self, WORM_BEACON_ANSWER, query->qid, from);
        return;
    }
    if (!self->willing)
        return;
    int delay = worm_agent_answer_delay_ms (self->sample.load);
    if (delay == 0) {
        s_send_beacon (self, WORM_BEACON_ANSWER, query->qid, from);
        return;
    }
    worm_answer_t *answer = calloc (1, sizeof *answer);
    answer->agent = self;
    answer->to = *from;
    answer->qid = query->qid;
    zlist_append (self->answers, answer);
    zloop_timer (self->loop, (size_t) delay, 1, s_on_answer_due, answer);
}

int
worm_announce_on_datagram (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    worm_agent_t *self = (worm_agent_t *) arg;
    char buf[WORM_BEACON_MAX + 1];
    struct sockaddr_in from;
    ssize_t size;
    while ((size = worm_udp_recv (self->listen_fd, buf, sizeof buf, &from)) >= 0) {
        worm_beacon_t msg;
        char err[WORM_WIRE_ERROR_MAX];
        if (worm_beacon_decode (buf, (size_t) size, &msg, err, sizeof err)) {
            char address[INET_ADDRSTRLEN] = "?";
            inet_ntop (AF_INET, &from.sin_addr, address, sizeof address);
            worm_log_limited (&self->bad_datagram, 5000, "dropped a datagram from %s:%d: %s",
                              address, ntohs (from.sin_port), err);
            continue;
        }
        if (msg.kind == WORM_BEACON_ANNOUNCE) {
            int rc = worm_registry_update (self->registry, &msg.host, worm_now_ms ());
            if (rc == 1)
                worm_log ("heard host %s at %s", msg.host.name, msg.host.endpoint);
            else if (rc < 0)
                worm_log_limited (&self->bad_datagram, 5000, "registry full, ignored host %s",
                                  msg.host.name);
        }
        else if (msg.kind == WORM_BEACON_QUERY)
            s_on_query (self, &msg, &from);
        else if (msg.kind == WORM_BEACON_DEAD)
            worm_guests_death_notice (self, &msg);
    }
    return 0;
}
