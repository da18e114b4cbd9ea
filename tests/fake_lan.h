/*  fake_lan.h — host agents played on the loopback, for the self-tests of
    discovery and placement (worm/discover_test.c, worm/place_test.c).

    One actor plays every host: each hears queries on the LAN's beacon port
    (127.255.255.255, SO_REUSEPORT like a real agent) and answers from a
    socket of its own after its delay, the way docs/PROTOCOL.md says; with
    control on, each also serves CLAIM, SPAWN and RELAY as a CURVE ROUTER
    (the actor owns the process's ZAP handler, which lets every key in).
    Each host can be told to misbehave (no answer, noise, a refusal, a
    reply that lacks its field, silence on the control channel), and counts
    what it was asked. These are real sockets; nothing leaves 127.0.0.0/8.

    Counters are atomics, written before the reply that the test waits for;
    the recorded strings likewise. Header-only: static functions, like
    check.h.
*/
#ifndef WORM_FAKE_LAN_H_INCLUDED
#define WORM_FAKE_LAN_H_INCLUDED

#include "auth.h"
#include "beacon.h"
#include "ctl.h"
#include "log.h"
#include "segspec.h"
#include "udp.h"

#include <czmq.h>
#include <stdatomic.h>
#include <unistd.h>

#define FAKE_LAN_HOSTS 8
#define FAKE_LAN_PENDING 64

typedef enum {
    FAKE_REPLY_GOOD,            //  claims get a claim id, spawns a pid
    FAKE_REPLY_NO_FIELD,        //  {"ok": true} without the claim or the pid
    FAKE_REPLY_SILENT,          //  no reply at all
} fake_reply_t;

typedef struct {
    //  How it behaves (set before fake_lan_start)
    worm_hostinfo_t host;           //  what it answers with (endpoint and key filled in)
    int delay_ms;                   //  answers this long after a query
    bool mute;                      //  hears queries but never answers
    bool twice;                     //  sends its answer twice
    bool noise;                     //  first sends garbage, a stale answer and an announcement
    const char *claim_refusal;      //  refuse claims with this sentence (NULL: grant)
    const char *spawn_refusal;      //  refuse spawns with this sentence (NULL: start)
    fake_reply_t claim_reply;       //  how a granted claim is answered
    fake_reply_t spawn_reply;       //  how a started spawn is answered
    uint64_t pid;                   //  the pid a spawn reports
    //  What it saw
    atomic_int queries;             //  queries heard
    atomic_bool last_all;           //  the last query's "all"
    atomic_uint_fast64_t last_qid;  //  and its id
    atomic_int claims;              //  claim requests
    atomic_int spawns;              //  spawn requests
    atomic_int relays;              //  relay envelopes
    char claim_worm[64];            //  the last claim's worm
    char claim_worm_id[64];         //  and worm id ("" for none)
    char claim_issued[32];          //  the claim id it gave
    char spawn_claim[32];           //  the last spawn's claim id
    char spawn_guest[32];           //  its guest kind
    char spawn_args[256];           //  a test guest's words, space-separated
    char spawn_segment[64];         //  a segment's worm id, read back with segspec
    char spawn_worm_public[64];     //  the worm's public key, "" for none
    //  Its sockets (the actor's)
    zcert_t *cert;                  //  the host's keypair
    zsock_t *router;                //  control, or NULL (the actor's own)
    int listener;                   //  on the beacon port
    int replier;                    //  answers go out from here
} fake_host_t;

typedef struct {
    worm_lan_t lan;                 //  127.255.255.255, a kernel-picked port
    bool control;                   //  hosts serve control requests too
    int count;                      //  hosts in use
    fake_host_t hosts[FAKE_LAN_HOSTS];
    zactor_t *actor;                //  plays them
    bool ready;                     //  the actor's control sockets are bound
} fake_lan_t;

typedef struct {
    int host;                       //  which host answers
    int64_t at;                     //  when
    uint64_t qid;                   //  to which query
    struct sockaddr_in to;          //  the querier
} fake_pending_t;

//  Sends host's answer (or its noise) to a query.
static void
fake_lan_answer (fake_host_t *host, uint64_t qid, const struct sockaddr_in *to,
                 worm_beacon_kind_t kind)
{
    worm_beacon_t msg = {.kind = kind, .qid = qid, .host = host->host};
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_beacon_encode (&msg, &writer);
    worm_udp_sendto (host->replier, to, worm_wire_writer_data (&writer),
                     worm_wire_writer_size (&writer));
    worm_wire_writer_fini (&writer);
}

static void
fake_lan_reply_fields (zsock_t *router, zframe_t *identity, const char *key, const char *text,
                       uint64_t number)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, key ? 2 : 1);
    worm_wire_kbool (&writer, "ok", true);
    if (key && text)
        worm_wire_kstr (&writer, key, text);
    else if (key)
        worm_wire_ku64 (&writer, key, number);
    worm_ctl_reply (router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  Handles one control request (a map at obj) for host; relays unwrap.
static void
fake_lan_request (fake_host_t *host, zsock_t *router, zframe_t *identity,
                  worm_wire_reader_t *reader, const msgpack_object *obj)
{
    char op[16] = "";
    if (worm_wire_get_str (reader, obj, "op", op, sizeof op)) {
        worm_ctl_reply_error (router, identity, "bad request: %s", reader->error);
        return;
    }
    if (strcmp (op, "relay") == 0) {
        const msgpack_object *inner;
        atomic_fetch_add (&host->relays, 1);
        if (worm_wire_get_map (reader, obj, "request", &inner))
            worm_ctl_reply_error (router, identity, "bad relay: %s", reader->error);
        else
            fake_lan_request (host, router, identity, reader, inner);
        return;
    }
    if (strcmp (op, "claim") == 0) {
        host->claim_worm_id[0] = 0;
        worm_wire_get_str (reader, obj, "worm", host->claim_worm, sizeof host->claim_worm);
        worm_wire_get_str (reader, obj, "worm_id", host->claim_worm_id,
                           sizeof host->claim_worm_id);
        snprintf (host->claim_issued, sizeof host->claim_issued, "%.8s%08d", host->host.id,
                  atomic_load (&host->claims) + 1);
        atomic_fetch_add (&host->claims, 1);
        if (host->claim_refusal)
            worm_ctl_reply_error (router, identity, "%s", host->claim_refusal);
        else if (host->claim_reply == FAKE_REPLY_GOOD)
            fake_lan_reply_fields (router, identity, "claim", host->claim_issued, 0);
        else if (host->claim_reply == FAKE_REPLY_NO_FIELD)
            fake_lan_reply_fields (router, identity, NULL, NULL, 0);
        return;
    }
    if (strcmp (op, "spawn") == 0) {
        host->spawn_args[0] = host->spawn_segment[0] = host->spawn_worm_public[0] = 0;
        worm_wire_get_str (reader, obj, "claim", host->spawn_claim, sizeof host->spawn_claim);
        worm_wire_get_str (reader, obj, "guest", host->spawn_guest, sizeof host->spawn_guest);
        worm_wire_get_str (reader, obj, "worm_public", host->spawn_worm_public,
                           sizeof host->spawn_worm_public);
        const msgpack_object_array *args;
        if (worm_wire_get_array (reader, obj, "args", &args, 16) == 0)
            for (uint32_t i = 0; i < args->size; i++) {
                char word[64];
                if (worm_wire_obj_str (reader, &args->ptr[i], "args[]", word, sizeof word) == 0) {
                    size_t used = strlen (host->spawn_args);
                    snprintf (host->spawn_args + used, sizeof host->spawn_args - used, "%s%s",
                              used ? " " : "", word);
                }
            }
        const msgpack_object *segment;
        if (worm_wire_get_map (reader, obj, "segment", &segment) == 0) {
            worm_segspec_t spec;
            char why[128];
            if (worm_segspec_read (reader, segment, &spec, why, sizeof why) == 0)
                snprintf (host->spawn_segment, sizeof host->spawn_segment, "%s", spec.worm_id);
        }
        atomic_fetch_add (&host->spawns, 1);
        if (host->spawn_refusal)
            worm_ctl_reply_error (router, identity, "%s", host->spawn_refusal);
        else if (host->spawn_reply == FAKE_REPLY_GOOD)
            fake_lan_reply_fields (router, identity, "pid", NULL, host->pid);
        else if (host->spawn_reply == FAKE_REPLY_NO_FIELD)
            fake_lan_reply_fields (router, identity, NULL, NULL, 0);
        return;
    }
    worm_ctl_reply_error (router, identity, "unknown op '%s'", op);
}

static void
fake_lan_serve (fake_host_t *host)
{
    zframe_t *identity = zframe_recv (host->router);
    zframe_t *payload = identity && zsock_rcvmore (host->router) ? zframe_recv (host->router)
                                                                 : NULL;
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    if (payload
        && worm_wire_parse (&reader, zframe_data (payload), zframe_size (payload), WORM_CTL_MAX)
               == 0)
        fake_lan_request (host, host->router, identity, &reader, reader.root);
    else if (payload)
        worm_ctl_reply_error (host->router, identity, "bad request: %s", reader.error);
    worm_wire_reader_fini (&reader);
    zframe_destroy (&payload);
    zframe_destroy (&identity);
}

static bool
fake_lan_rule (void *arg, const char *key, char *why, size_t cap)
{
    (void) arg, (void) key, (void) why, (void) cap;
    return true;
}

//  The actor: signals once every socket is in place (zactor_new waits).
static void
fake_lan_actor (zsock_t *pipe, void *arg)
{
    fake_lan_t *lan = (fake_lan_t *) arg;
    char err[256];
    //  The ZAP handler before the routers bind; the endpoints are known
    //  when the test goes on
    worm_auth_t *auth = lan->control ? worm_auth_new (fake_lan_rule, NULL, err, sizeof err) : NULL;
    lan->ready = !lan->control || auth;
    for (int i = 0; lan->control && i < lan->count; i++) {
        fake_host_t *host = &lan->hosts[i];
        host->router = zsock_new (ZMQ_ROUTER);
        zsock_set_linger (host->router, 0);
        zsock_set_maxmsgsize (host->router, WORM_CTL_WIRE_MAX);
        worm_curve_server (host->router, host->cert);
        if (worm_ctl_bind (host->router, "127.0.0.1", host->host.endpoint,
                           sizeof host->host.endpoint))
            lan->ready = false;
    }
    zsock_signal (pipe, 0);
    zmq_pollitem_t items[2 + 2 * FAKE_LAN_HOSTS];
    fake_pending_t pending[FAKE_LAN_PENDING];
    int npending = 0;
    while (true) {
        int n = 0;
        items[n++] = (zmq_pollitem_t) {zsock_resolve (pipe), 0, ZMQ_POLLIN, 0};
        if (auth)
            items[n++] = (zmq_pollitem_t) {zsock_resolve (worm_auth_socket (auth)), 0,
                                           ZMQ_POLLIN, 0};
        int first_host = n;
        for (int i = 0; i < lan->count; i++) {
            items[n++] = (zmq_pollitem_t) {NULL, lan->hosts[i].listener, ZMQ_POLLIN, 0};
            if (lan->hosts[i].router)
                items[n++] = (zmq_pollitem_t) {zsock_resolve (lan->hosts[i].router), 0,
                                               ZMQ_POLLIN, 0};
        }
        //  Until the next answer is due
        int64_t now = worm_now_ms ();
        long timeout = 1000;
        for (int i = 0; i < npending; i++)
            if (pending[i].at - now < timeout)
                timeout = pending[i].at - now < 0 ? 0 : (long) (pending[i].at - now);
        if (zmq_poll (items, n, timeout) < 0 && zmq_errno () != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            zmsg_t *command = zmsg_recv (pipe);         //  $TERM
            zmsg_destroy (&command);
            break;
        }
        if (auth && (items[1].revents & ZMQ_POLLIN))
            worm_auth_handle (auth);
        for (int i = 0, at = first_host; i < lan->count; i++) {
            fake_host_t *host = &lan->hosts[i];
            zmq_pollitem_t *udp = &items[at++];
            zmq_pollitem_t *ctl = host->router ? &items[at++] : NULL;
            if (ctl && (ctl->revents & ZMQ_POLLIN))
                fake_lan_serve (host);
            if (!(udp->revents & ZMQ_POLLIN))
                continue;
            char buf[WORM_BEACON_MAX + 1];
            struct sockaddr_in from;
            ssize_t size;
            while ((size = worm_udp_recv (host->listener, buf, sizeof buf, &from)) >= 0) {
                worm_beacon_t query;
                if (worm_beacon_decode (buf, (size_t) size, &query, err, sizeof err)
                    || query.kind != WORM_BEACON_QUERY)
                    continue;
                atomic_store (&host->last_all, query.all);
                atomic_store (&host->last_qid, query.qid);
                atomic_fetch_add (&host->queries, 1);
                if (host->noise) {
                    worm_udp_sendto (host->replier, &from, "\xc1garbage", 8);
                    fake_lan_answer (host, query.qid + 1, &from, WORM_BEACON_ANSWER);
                    fake_lan_answer (host, query.qid, &from, WORM_BEACON_ANNOUNCE);
                }
                if (host->mute || (!host->host.willing && !query.all))
                    continue;
                for (int copy = 0; copy < (host->twice ? 2 : 1); copy++)
                    if (npending < FAKE_LAN_PENDING)
                        pending[npending++] = (fake_pending_t) {
                            i, worm_now_ms () + host->delay_ms, query.qid, from};
            }
        }
        now = worm_now_ms ();
        for (int i = 0; i < npending;) {
            if (pending[i].at <= now) {
                fake_lan_answer (&lan->hosts[pending[i].host], pending[i].qid, &pending[i].to,
                                 WORM_BEACON_ANSWER);
                pending[i] = pending[--npending];
            }
            else
                i++;
        }
    }
    for (int i = 0; i < lan->count; i++)
        zsock_destroy (&lan->hosts[i].router);
    worm_auth_destroy (&auth);
}

//  Fills in host i's record: id, name and, when they have no endpoint yet,
//  a control endpoint and key to announce.
static void
fake_lan_host (fake_lan_t *lan, int i, const char *name, bool willing)
{
    fake_host_t *host = &lan->hosts[i];
    snprintf (host->host.id, sizeof host->host.id, "%016x", 0xfa4e0000u + (unsigned) i);
    snprintf (host->host.name, sizeof host->host.name, "%s", name);
    snprintf (host->host.endpoint, sizeof host->host.endpoint, "tcp://127.0.0.1:9");
    host->host.willing = willing;
    snprintf (host->host.reason, sizeof host->host.reason, willing ? "willing" : "busy");
    host->host.max_segments = 4;
    host->host.interval_ms = 1000;
    host->pid = 1000 + (uint64_t) i;
    if (!host->cert)
        host->cert = zcert_new ();
    snprintf (host->host.key, sizeof host->host.key, "%s", zcert_public_txt (host->cert));
    host->listener = host->replier = -1;
    if (lan->count < i + 1)
        lan->count = i + 1;
}

//  Opens every host's sockets and starts the actor. Returns 0 or -1 with err.
static int
fake_lan_start (fake_lan_t *lan, char *err, size_t cap)
{
    int port = worm_udp_free_port ();
    if (port < 0 || worm_lan_resolve ("127.255.255.255", NULL, port, &lan->lan, err, cap))
        return -1;
    for (int i = 0; i < lan->count; i++) {
        fake_host_t *host = &lan->hosts[i];
        host->listener = worm_udp_listen (&lan->lan, err, cap);
        host->replier = host->listener < 0 ? -1 : worm_udp_open (&lan->lan, err, cap);
        if (host->replier < 0)
            return -1;
    }
    lan->actor = zactor_new (fake_lan_actor, lan);
    if (!lan->actor || !lan->ready) {
        snprintf (err, cap, "cannot start the fake hosts' control sockets");
        return -1;
    }
    return 0;
}

//  Stops the actor and closes every socket (safe to call twice).
static void
fake_lan_stop (fake_lan_t *lan)
{
    zactor_destroy (&lan->actor);
    for (int i = 0; i < lan->count; i++) {
        fake_host_t *host = &lan->hosts[i];
        if (host->listener >= 0)
            close (host->listener);
        if (host->replier >= 0)
            close (host->replier);
        host->listener = host->replier = -1;
        zcert_destroy (&host->cert);
    }
}

#endif
