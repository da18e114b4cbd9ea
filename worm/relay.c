/*  relay.c — a guest's request to another host, made with this host's key.

    A segment may not speak to other hosts' agents with its worm's key
    alone: they trust hosts, not worms. So it asks its own agent to relay a
    claim, spawn, release or alive; the agent vouches for it (naming the
    worm's launcher itself) and hands the exchange to the relay actor, a
    thread of its own, so that the reactor never waits on another host.
    See agent_internal.h and docs/PROTOCOL.md ("Control", relay).
*/
#include "agent_internal.h"
#include "ctl.h"

//  The relay thread: [identity, endpoint, key, request] in, [identity, reply]
//  out. One request at a time; the reactor never waits on another host.
void
worm_relay_actor (zsock_t *pipe, void *arg)
{
    (void) arg;
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            continue;
        if (zmsg_size (msg) != 4) {
            zmsg_destroy (&msg);
            break;          //  $TERM
        }
        zframe_t *identity = zmsg_pop (msg);
        char *endpoint = zmsg_popstr (msg);
        char *key = zmsg_popstr (msg);
        zframe_t *request = zmsg_pop (msg);
        char err[512];
        int rc;
        zframe_t *reply = worm_ctl_exchange (endpoint, key, zframe_data (request),
                                             zframe_size (request), WORM_AGENT_RELAY_TIMEOUT_MS, &rc, err,
                                             sizeof err);
        if (!reply)
            reply = worm_ctl_error_frame (err);
        zmsg_t *out = zmsg_new ();
        zmsg_append (out, &identity);
        zmsg_append (out, &reply);
        zmsg_send (&out, pipe);
        zstr_free (&endpoint);
        zstr_free (&key);
        zframe_destroy (&request);
        zmsg_destroy (&msg);
    }
}

int
worm_relay_on_answer (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void) loop;
    worm_agent_t *self = (worm_agent_t *) arg;
    zmsg_t *msg = zmsg_recv (pipe);
    if (msg && zmsg_size (msg) == 2)
        zmsg_send (&msg, self->router);
    zmsg_destroy (&msg);
    return 0;
}

//  A guest asks us to pass a request to another host's agent, vouching
//  for it: the other host trusts our key, and learns whose worm it is.
void
worm_agent_op_relay (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    worm_guest_t *guest = worm_guests_by_key (self, self->sender);
    char to[WORM_AGENT_ENDPOINT_MAX + 1], key[WORM_KEY_LEN + 1], op[WORM_AGENT_OP_MAX + 1];
    char host_id[WORM_HOST_ID_LEN + 1] = "";
    const msgpack_object *inner = NULL;
    bool by_host = worm_wire_field (reader->root, "host") != NULL;
    if ((by_host ? worm_wire_get_str (reader, reader->root, "host", host_id, sizeof host_id)
                 : worm_wire_get_str (reader, reader->root, "to", to, sizeof to)
                       || worm_wire_get_str (reader, reader->root, "key", key, sizeof key))
        || worm_wire_get_map (reader, reader->root, "request", &inner)
        || worm_wire_get_str (reader, inner, "op", op, sizeof op)) {
        worm_ctl_reply_error (self->router, identity, "relay: %s", reader->error);
        return;
    }
    if (!guest) {
        worm_ctl_reply_error (self->router, identity, "relay: only a guest segment may ask for a relay");
        return;
    }
    if (by_host) {
        //  A host we hear: no broadcast query needed to find its agent
        const worm_hostinfo_t *host = worm_registry_find (self->registry, host_id);
        if (!host) {
            worm_ctl_reply_error (self->router, identity, "relay: host %s is not known here",
                                  host_id);
            return;
        }
        snprintf (to, sizeof to, "%s", host->endpoint);
        snprintf (key, sizeof key, "%s", host->key);
    }
    if (!streq (op, "claim") && !streq (op, "spawn") && !streq (op, "release")
        && !streq (op, "alive") && !streq (op, "ring")) {
        worm_ctl_reply_error (self->router, identity, "relay: op '%s' is not relayed", op);
        return;
    }
    if (strncmp (to, "tcp://", 6) != 0 || !worm_agent_key_trusted (self, key)) {
        //  A forged beacon can name any key: we only talk to hosts we trust
        worm_log_limited (&self->bad_request, WORM_AGENT_LOG_PERIOD_MS,
                          "refused to relay %s for worm %s to %s: host key %s is not authorized",
                          op, guest->worm, to, key);
        worm_ctl_reply_error (self->router, identity, "relay: host key %s at %s is not authorized",
                              key, to);
        return;
    }
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    //  The request as it came, less any launcher the guest named (the request
    //  check let no key appear twice): we name the launcher of a claim or a
    //  spawn ourselves, and the other host believes it because we are a host
    //  A ring names the worm it rings for the same way: its guest's
    bool vouch = streq (op, "spawn") || streq (op, "claim");
    bool ring = streq (op, "ring");
    const msgpack_object *named = worm_wire_field (inner, ring ? "worm_id" : "launcher");
    worm_wire_map_open (&writer);
    for (uint32_t i = 0; i < inner->via.map.size; i++)
        if (&inner->via.map.ptr[i].val != named) {
            worm_wire_object (&writer, &inner->via.map.ptr[i].key);
            worm_wire_object (&writer, &inner->via.map.ptr[i].val);
        }
    if (vouch)
        worm_wire_kstr (&writer, "launcher", guest->launcher);
    if (ring)
        worm_wire_kstr (&writer, "worm_id", guest->worm_id);
    worm_wire_map_close (&writer);
    zmsg_t *job = zmsg_new ();
    zframe_t *copy = zframe_dup (identity);
    zmsg_append (job, &copy);
    zmsg_addstr (job, to);
    zmsg_addstr (job, key);
    zmsg_addmem (job, worm_wire_writer_data (&writer), worm_wire_writer_size (&writer));
    zmsg_send (&job, self->relay);
    worm_wire_writer_fini (&writer);
}

