/*  segment.c — the segment's reactor around the sans-IO ring. See segment.h
    and docs/PROTOCOL.md ("Segments"). */
#include "segment.h"
#include "app.h"
#include "auth.h"
#include "ctl.h"
#include "log.h"
#include "ops.h"
#include "random.h"
#include "request.h"
#include "ring.h"
#include "spawner.h"
#include "udp.h"
#include "watch.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <unistd.h>

#define JOIN_RETRY_MS 300
//  A joiner with no token yet asks whether its spawner still lives this
//  long after it started, and as often again after that, and at once when
//  its agent passes on a notice of the spawner's death: one whose spawner
//  is gone before letting it in is known to nobody (it would wait out the
//  join deadline). Not often: every check is a relay through our agent,
//  whose relay thread also carries the worm's claims and spawns (a check
//  every 2 s by each of 31 joiners stalled the growth of a worm of 32)
#define SPAWNER_CHECK_MS 10000
#define PEER_HWM 64
#define EXIT_LINGER_MS 500
#define LEAVE_GRACE_MS 300      //  SIGTERM: time to hand the token on and say LEAVE
//  ZMQ_MAXMSGSIZE of our sockets: it counts a message as CURVE carries it,
//  so a ring message of WORM_RING_MESSAGE_MAX needs CURVE's bytes on top
#define RING_WIRE_MAX (WORM_RING_MESSAGE_MAX + WORM_CURVE_OVERHEAD)

typedef struct {
    worm_segment_config_t config;       //  what we were started with
    worm_ring_t *ring;                  //  the ring protocol
    zsock_t *router;                    //  our endpoint: ring messages and requests
    char endpoint[WORM_TOKEN_ENDPOINT_MAX];     //  where router listens
    zhashx_t *peers;                    //  endpoint -> DEALER to that peer
    zactor_t *spawner;                  //  places new segments
    atomic_bool spawner_stop;           //  tells the spawner we are exiting
    const worm_app_t *app;              //  the app we host
    void *app_state;                    //  its state
    bool app_ready;                     //  create ran (a joiner's: once the token came)
    worm_jobs_t *jobs;                  //  the work units we run (NULL: the app takes none)
    zpoller_t *poller;                  //  the run loop's, to add the jobs' socket to
    worm_member_t self;                 //  our member record
    char agent[128];                    //  our host agent's control endpoint
    char agent_key[WORM_KEY_LEN + 1];   //  its public key
    char launcher_key[WORM_KEY_LEN + 1];    //  the key of whoever launched the worm
    zcert_t *cert;                      //  the worm's keypair, shared by its segments
    const char *worm_key;               //  its public half: every member's server key
    worm_auth_t *auth;                  //  decides who may connect to us (ZAP)
    char guest_id[32];                  //  our guest id on that agent
    bool exiting;                       //  the ring said exit
    char exit_reason[WORM_RING_REASON_MAX];     //  why
    uint64_t next_join_ms;              //  join: when to introduce ourselves again
    uint64_t next_spawner_check_ms;     //  join: when to ask whether our spawner lives
    worm_log_limiter_t bad_message;     //  rate limit for malformed messages
    worm_log_limiter_t misaddressed;    //  and for ring messages meant for another
    worm_log_limiter_t spawn_failed;    //  and for failed spawns
    worm_log_limiter_t app_failed;      //  and for the app's failures on the token
} s_segment_t;

static uint64_t
s_now (void)
{
    return (uint64_t) worm_now_ms ();
}

static const char *
s_env (const char *name, const char *fallback)
{
    const char *value = getenv (name);
    return value && *value ? value : fallback;
}

//  Reads the worm's secret key from stdin (up to end of file), into secret
//  (cap bytes, "" when there is none), then puts /dev/null in its place.
static void
s_read_secret (char *secret, size_t cap)
{
    size_t len = 0;
    ssize_t got;
    while (len + 1 < cap && (got = read (0, secret + len, cap - 1 - len)) > 0)
        len += (size_t) got;
    secret[len] = 0;
    int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) {
        dup2 (null, 0);
        close (null);
    }
}

static void
s_peer_destroy (void **item)
{
    zsock_t *sock = (zsock_t *) *item;
    zsock_destroy (&sock);
    *item = NULL;
}

//  Sends to the segment at endpoint, without blocking: a ring message as two
//  frames (recipient id, payload), a request (to, NULL) as one.
static void
s_send (s_segment_t *self, const char *endpoint, const char *to, const void *data, size_t size)
{
    zsock_t *peer = (zsock_t *) zhashx_lookup (self->peers, endpoint);
    if (!peer) {
        peer = zsock_new (ZMQ_DEALER);
        zsock_set_linger (peer, 0);
        zsock_set_sndhwm (peer, PEER_HWM);
        zsock_set_maxmsgsize (peer, RING_WIRE_MAX);
        //  Every segment of the worm serves with the worm's keypair
        worm_curve_client (peer, self->cert, self->worm_key);
        if (zsock_connect (peer, "%s", endpoint)) {
            worm_log_limited (&self->bad_message, 5000, "cannot connect to %s", endpoint);
            zsock_destroy (&peer);
            return;
        }
        zhashx_insert (self->peers, endpoint, peer);
    }
    if (to)
        zmq_send (zsock_resolve (peer), to, strlen (to), ZMQ_DONTWAIT | ZMQ_SNDMORE);
    zmq_send (zsock_resolve (peer), data, size, ZMQ_DONTWAIT);
}

//  Forgets peers that are no longer members, so sockets do not pile up.
static void
s_prune_peers (s_segment_t *self, worm_token_t *token)
{
    zlistx_t *keys = zhashx_keys (self->peers);
    for (const char *endpoint = zlistx_first (keys); endpoint; endpoint = zlistx_next (keys)) {
        bool member = false;
        for (size_t i = 0; i < worm_token_member_count (token); i++)
            if (strcmp (worm_token_member (token, i)->endpoint, endpoint) == 0)
                member = true;
        if (!member && strcmp (endpoint, self->config.spawner) != 0)
            zhashx_delete (self->peers, endpoint);
    }
    zlistx_destroy (&keys);
}

//  Asks the spawner for a segment, naming the hosts that already hold one.
static void
s_request_spawn (s_segment_t *self, const char *spawn_id)
{
    char exclude[4096] = "";
    worm_token_t *token = worm_ring_token (self->ring);
    for (size_t i = 0; token && i < worm_token_member_count (token); i++) {
        if (!worm_token_member_is_live (token, i))
            continue;
        size_t used = strlen (exclude);
        snprintf (exclude + used, sizeof exclude - used, "%s%s", used ? "," : "",
                  worm_token_member (token, i)->host_id);
    }
    zstr_sendx (self->spawner, "SPAWN", spawn_id, exclude, NULL);
}

//  Creates the app's state from the worm's token, and the job half that
//  runs its units. Returns 0, or -1 with the reason in err.
static int
s_create_app (s_segment_t *self, const worm_token_t *token, char *err, size_t cap)
{
    if (self->app->create (&self->app_state, token, err, cap))
        return -1;
    self->app_ready = true;
    if (self->app->unit) {
        self->jobs = worm_jobs_new (self->self.id, self->app->unit, self->app_state);
        if (!self->jobs) {
            snprintf (err, cap, "cannot start the worker of app %s", self->app->name);
            return -1;
        }
        if (self->app->unit_in_child) {
            //  Each unit in a worm-segment --unit APP of its own (main.c):
            //  this very program, even once a newer one is installed in
            //  its place (/proc/self/exe is our image, not a path)
            char *argv[] = {"/proc/self/exe", "--unit", (char *) self->app->name, NULL};
            if (worm_jobs_isolate (self->jobs, argv)) {
                snprintf (err, cap, "cannot set up the unit processes of app %s",
                          self->app->name);
                return -1;
            }
        }
        if (self->poller)
            zpoller_add (self->poller, worm_jobs_sock (self->jobs));
    }
    return 0;
}

//  Performs every action the ring has queued.
static void
s_drain (s_segment_t *self)
{
    const worm_ring_action_t *action;
    while ((action = worm_ring_action (self->ring))) {
        switch (action->type) {
        case WORM_RING_SEND:
            s_send (self, action->endpoint, action->peer, action->data, action->size);
            break;
        case WORM_RING_SPAWN:
            s_request_spawn (self, action->spawn_id);
            break;
        case WORM_RING_HELD: {
            worm_token_t *token = worm_ring_token (self->ring);
            char err[256];
            if (token && !self->app_ready && s_create_app (self, token, err, sizeof err)) {
                //  A joiner's app refuses the worm it joined: leave it
                worm_log ("app %s refused to start: %s", self->app->name, err);
                worm_ring_leave (self->ring, s_now ());
            }
            //  Not on a minority side's hold: what the app would do there
            //  (arm an alarm for a host the worm has since replaced) dies
            //  with that lineage, or is done twice
            if (token && self->app_ready && self->app->on_token && action->quorum
                && self->app->on_token (self->app_state, token, s_now (), err, sizeof err))
                worm_log_limited (&self->app_failed, 5000, "app %s: %s", self->app->name, err);
            if (token)
                s_prune_peers (self, token);
            break;
        }
        case WORM_RING_CHECK: {
            char pid[24];
            snprintf (pid, sizeof pid, "%llu", (unsigned long long) action->pid);
            zstr_sendx (self->spawner, "CHECK", action->peer, action->host_id, pid, NULL);
            break;
        }
        case WORM_RING_EXIT:
            self->exiting = true;
            snprintf (self->exit_reason, sizeof self->exit_reason, "%s", action->reason);
            break;
        }
    }
}

//  A joining segment introduces itself to the segment that spawned it.
static void
s_send_join (s_segment_t *self)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kstr (&writer, "op", "join");
    worm_wire_kstr (&writer, "worm", self->config.worm_id);
    worm_wire_kstr (&writer, "spawn_id", self->config.spawn_id);
    worm_wire_key (&writer, "member");
    worm_segment_write_member (&writer, &self->self);
    worm_wire_map_close (&writer);
    s_send (self, self->config.spawner, NULL, worm_wire_writer_data (&writer),
            worm_wire_writer_size (&writer));
    worm_wire_writer_fini (&writer);
}

//  What the op handlers reach of us (ops.h).
static worm_segment_ctx_t
s_ctx (s_segment_t *self)
{
    return (worm_segment_ctx_t) {.ring = self->ring, .config = &self->config,
                                 .self = &self->self, .app = self->app,
                                 .app_state = self->app_ready ? self->app_state : NULL,
                                 .bad_message = &self->bad_message, .jobs = self->jobs,
                                 .router = self->router,
                                 .next_spawner_check_ms = &self->next_spawner_check_ms};
}

//  The roles of a caller's key here (WORM_ROLE_WORM, _LAUNCHER, _AGENT); the
//  op table says what each may ask (ops.c).
static unsigned
s_roles (s_segment_t *self, const char *sender)
{
    if (!sender)
        return 0;
    return (streq (sender, self->worm_key) ? WORM_ROLE_WORM : 0)
           | (streq (sender, self->agent_key) ? WORM_ROLE_AGENT : 0)
           | (streq (sender, self->launcher_key) ? WORM_ROLE_LAUNCHER : 0);
}

//  ZAP: the worm's segments, our host agent and the worm's launcher.
static bool
s_auth_rule (void *arg, const char *key, char *why, size_t cap)
{
    s_segment_t *self = (s_segment_t *) arg;
    if (s_roles (self, key))
        return true;
    snprintf (why, cap, "neither this worm, its launcher nor this host's agent");
    return false;
}

static void
s_on_message (s_segment_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return;
    zframe_t *identity = zmsg_pop (msg);
    size_t rest = zmsg_size (msg);
    if (!identity || rest < 1 || rest > 2) {
        worm_log_limited (&self->bad_message, 5000, "dropped a message of %zu frames", rest + 1);
        goto done;
    }
    if (rest == 2) {
        //  A ring message, addressed: one meant for a segment that had our
        //  endpoint before us is dropped; only our worm's members may send one
        zframe_t *to = zmsg_pop (msg);
        zframe_t *payload = zmsg_pop (msg);
        const char *sender = worm_curve_sender (payload);
        if (!sender || !streq (sender, self->worm_key))
            worm_log_limited (&self->bad_message, 5000, "refused a ring message from key %s: "
                              "not a member of this worm", sender ? sender : "(none)");
        else if (zframe_streq (to, self->self.id)) {
            if (worm_ring_receive (self->ring, zframe_data (payload), zframe_size (payload),
                                   s_now ()))
                worm_log_limited (&self->bad_message, 5000, "%s", worm_ring_error (self->ring));
        }
        else
            worm_log_limited (&self->misaddressed, 5000, "dropped a ring message for another "
                                                         "segment");
        zframe_destroy (&to);
        zframe_destroy (&payload);
        goto done;
    }
    //  A request: the op table checks it, holds it against the caller's
    //  roles and handles it (ops.c); we send what it answers
    zframe_t *payload = zmsg_pop (msg);
    const char *sender = worm_curve_sender (payload);
    worm_segment_ctx_t ctx = s_ctx (self);
    ctx.identity = identity;
    worm_wire_writer_t reply;
    worm_wire_writer_init (&reply);
    char why[WORM_REQUEST_ERROR_MAX] = "";
    int rc = worm_segment_handle (&ctx, zframe_data (payload), zframe_size (payload), sender,
                                  s_roles (self, sender), s_now (), &reply, why, sizeof why);
    if (rc == -2)
        worm_ctl_reply_error (self->router, identity, "%s", why);
    else if (rc == 0 && worm_wire_writer_size (&reply) > 0)
        worm_ctl_reply (self->router, identity, &reply);
    worm_wire_writer_fini (&reply);
    zframe_destroy (&payload);
done:
    zframe_destroy (&identity);
    zmsg_destroy (&msg);
}

//  True when id is the segment that spawned us.
static bool
s_is_our_spawner (const s_segment_t *self, const char *id)
{
    char spawner[WORM_TOKEN_ID_MAX];
    return worm_segspec_spawner_id (&self->config, spawner, sizeof spawner)
           && strcmp (id, spawner) == 0;
}

//  A joiner without a token asks its spawner's host agent (through ours)
//  whether the spawner still runs; GONE comes back through s_on_spawner.
static void
s_check_spawner (s_segment_t *self, uint64_t now)
{
    char id[WORM_TOKEN_ID_MAX], pid[24];
    if (!self->config.spawner_host[0] || worm_ring_token (self->ring)
        || now < self->next_spawner_check_ms
        || !worm_segspec_spawner_id (&self->config, id, sizeof id))
        return;
    self->next_spawner_check_ms = now + SPAWNER_CHECK_MS;
    snprintf (pid, sizeof pid, "%llu", (unsigned long long) self->config.spawner_pid);
    zstr_sendx (self->spawner, "CHECK", id, self->config.spawner_host, pid, NULL);
}

static void
s_on_spawner (s_segment_t *self)
{
    char *report = NULL, *spawn_id = NULL, *detail = NULL, *pid = NULL;
    if (zstr_recvx (self->spawner, &report, &spawn_id, &detail, &pid, NULL) < 0)
        return;
    if (streq (report, "GONE") && s_is_our_spawner (self, spawn_id)
        && !worm_ring_token (self->ring)) {
        //  Nobody else knows of us: nothing to hand on, nobody to tell
        self->exiting = true;
        snprintf (self->exit_reason, sizeof self->exit_reason,
                  "never joined: the segment that asked for us (%s) is gone", spawn_id);
    }
    else if (streq (report, "GONE")) {
        worm_log ("host agent confirms segment %s is gone", spawn_id);
        worm_ring_confirm_dead (self->ring, spawn_id, s_now ());
    }
    else if (streq (report, "STARTED"))
        worm_log ("spawn %s started on %s (pid %s)", spawn_id, detail, pid ? pid : "?");
    else {
        worm_log_limited (&self->spawn_failed, 5000, "spawn %s failed: %s", spawn_id, detail);
        worm_ring_spawn_result (self->ring, spawn_id, NULL, s_now ());
    }
    zstr_free (&report);
    zstr_free (&spawn_id);
    zstr_free (&detail);
    zstr_free (&pid);
}

//  Tells our host agent who we are, so that it can answer "find worm".
static void
s_register (s_segment_t *self)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kstr (&writer, "op", "segment");
    worm_wire_kstr (&writer, "guest", self->guest_id);
    worm_wire_kstr (&writer, "worm_id", self->config.worm_id);
    worm_wire_kstr (&writer, "id", self->self.id);
    worm_wire_kstr (&writer, "endpoint", self->endpoint);
    worm_wire_map_close (&writer);
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[256];
    if (worm_ctl_call (self->agent, self->agent_key, &writer, 2000, &reply, err, sizeof err))
        worm_log ("cannot register with the agent at %s: %s", self->agent, err);
    worm_wire_reader_fini (&reply);
    worm_wire_writer_fini (&writer);
}

//  Start, step 1, the environment: where we are, from the WORM_* variables
//  our agent set (its endpoint and key, our guest id there, the launcher's
//  key), and the worm's secret key into secret (cap bytes; "" when there
//  is none), which the caller wipes. The secret comes on stdin (the agent's
//  pipe), never in the environment, which other guests of the same user
//  could read; before it is read the process stops being dumpable (no core
//  dump, no ptrace, /proc files readable by root only), and stdin is
//  /dev/null after. Cannot fail: the keys step judges what was read.
static void
s_start_environment (s_segment_t *self, char *secret, size_t cap)
{
    snprintf (self->agent, sizeof self->agent, "%s", s_env ("WORM_AGENT", ""));
    snprintf (self->guest_id, sizeof self->guest_id, "%s", s_env ("WORM_GUEST_ID", ""));
    snprintf (self->agent_key, sizeof self->agent_key, "%s", s_env ("WORM_AGENT_KEY", ""));
    snprintf (self->launcher_key, sizeof self->launcher_key, "%s",
              s_env ("WORM_LAUNCHER_KEY", ""));
    prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
    s_read_secret (secret, cap);
}

//  Start, step 2, the keys: the worm's keypair, from WORM_KEY_PUBLIC and
//  secret, which this wipes whatever it returns; the agent's and the
//  launcher's keys must be public keys. The keypair becomes our identity
//  towards agents (worm_ctl_set_identity), and our ZAP handler lets in the
//  worm, the launcher and our agent (s_auth_rule). Returns 0, or -1 with
//  the reason in err.
static int
s_start_keys (s_segment_t *self, char *secret, size_t cap_secret, char *err, size_t cap)
{
    self->cert = worm_cert_from_text (s_env ("WORM_KEY_PUBLIC", ""), secret, err, cap);
    explicit_bzero (secret, cap_secret);
    if (!self->cert) {
        snprintf (err, cap, "no worm keypair (WORM_KEY_PUBLIC, and the secret on stdin)");
        return -1;
    }
    if (!worm_key_valid (self->agent_key) || !worm_key_valid (self->launcher_key)) {
        snprintf (err, cap, "WORM_AGENT_KEY or WORM_LAUNCHER_KEY is not a public key");
        return -1;
    }
    self->worm_key = zcert_public_txt (self->cert);
    worm_ctl_set_identity (self->cert);
    self->auth = worm_auth_new (s_auth_rule, self, err, cap);
    return self->auth ? 0 : -1;
}

//  Start, step 3, the sockets: the LAN our agents beacon on (WORM_BROADCAST,
//  WORM_BEACON_PORT) into lan, for the spawner; our ROUTER, a CURVE server
//  with the worm's keypair (the keys step), bound on WORM_LOCAL_ADDR or
//  else the LAN's local address, its endpoint noted; and an empty table of
//  peers. Returns 0, or -1 with the reason in err (what was made is left
//  for s_stop).
static int
s_start_sockets (s_segment_t *self, worm_lan_t *lan, char *err, size_t cap)
{
    if (worm_lan_resolve (s_env ("WORM_BROADCAST", "127.255.255.255"), NULL,
                          atoi (s_env ("WORM_BEACON_PORT", "5670")), lan, err, cap))
        return -1;
    snprintf (lan->local, sizeof lan->local, "%s", s_env ("WORM_LOCAL_ADDR", lan->local));
    self->router = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->router, 0);
    zsock_set_maxmsgsize (self->router, RING_WIRE_MAX);
    worm_curve_server (self->router, self->cert);
    if (worm_ctl_bind (self->router, lan->local, self->endpoint, sizeof self->endpoint)) {
        snprintf (err, cap, "cannot bind on %s", lan->local);
        return -1;
    }
    self->peers = zhashx_new ();
    zhashx_set_destructor (self->peers, s_peer_destroy);
    return 0;
}

//  Start, step 4, the ring: our member record (an id unique in the worm and
//  readable in logs, from WORM_HOST and random digits; our host, host id,
//  endpoint (the sockets step), pid and birth), which also names us in the
//  log; then the ring with it and the timings of our command line, its
//  config kept in ring_config for the spawner. Returns 0, or -1 with the
//  reason in err.
static int
s_start_ring (s_segment_t *self, worm_ring_config_t *ring_config, char *err, size_t cap)
{
    char random_part[9];
    worm_random_hex (random_part, 8);
    snprintf (self->self.id, sizeof self->self.id, "%s-%s", s_env ("WORM_HOST", "host"),
              random_part);
    snprintf (self->self.host, sizeof self->self.host, "%s", s_env ("WORM_HOST", "host"));
    snprintf (self->self.host_id, sizeof self->self.host_id, "%s", s_env ("WORM_HOST_ID", ""));
    snprintf (self->self.endpoint, sizeof self->self.endpoint, "%s", self->endpoint);
    self->self.pid = (uint64_t) getpid ();
    self->self.born_at_ms = s_now ();
    self->next_spawner_check_ms = self->self.born_at_ms + SPAWNER_CHECK_MS;
    worm_log_init ("worm-segment", self->self.id);

    worm_ring_config_defaults (ring_config);
    snprintf (ring_config->worm_id, sizeof ring_config->worm_id, "%s", self->config.worm_id);
    ring_config->self = self->self;
    if (self->config.hold_ms)
        ring_config->hold_ms = self->config.hold_ms;
    if (self->config.orphan_ms)
        ring_config->orphan_timeout_ms = self->config.orphan_ms;
    //  Host agents confirm deaths (CHECK), and the first missed ACK asks
    //  them, so a lost token can be presumed sooner than the ring's default
    ring_config->loss_floor_ms = 1000;
    ring_config->seed = worm_random_u64 ();
    self->ring = worm_ring_new (ring_config, s_now ());
    if (!self->ring) {
        snprintf (err, cap, "bad ring configuration");
        return -1;
    }
    return 0;
}

//  Start, step 5, the spawner: the actor that starts new segments of the
//  worm, as joiners of ours, on the hosts of lan, through our agent (the
//  environment step), with the worm's keypair and the ring's timings. The
//  ring's thread never blocks on it. Cannot fail.
static void
s_start_spawner (s_segment_t *self, const worm_lan_t *lan,
                 const worm_ring_config_t *ring_config)
{
    worm_spawner_config_t spawner = {.lan = *lan, .stop = &self->spawner_stop};
    snprintf (spawner.agent, sizeof spawner.agent, "%s", self->agent);
    snprintf (spawner.agent_key, sizeof spawner.agent_key, "%s", self->agent_key);
    snprintf (spawner.worm_public, sizeof spawner.worm_public, "%s", self->worm_key);
    snprintf (spawner.worm_secret, sizeof spawner.worm_secret, "%s",
              zcert_secret_txt (self->cert));
    snprintf (spawner.worm, sizeof spawner.worm, "%s", self->config.worm);
    worm_segspec_t *joiner = &spawner.joiner;
    joiner->found = false;
    snprintf (joiner->worm_id, sizeof joiner->worm_id, "%s", self->config.worm_id);
    snprintf (joiner->worm, sizeof joiner->worm, "%s", self->config.worm);
    snprintf (joiner->app, sizeof joiner->app, "%s", self->config.app);
    snprintf (joiner->spawner, sizeof joiner->spawner, "%s", self->endpoint);
    snprintf (joiner->spawner_host, sizeof joiner->spawner_host, "%s", self->self.host_id);
    joiner->spawner_pid = self->self.host_id[0] ? (uint64_t) getpid () : 0;
    joiner->hold_ms = ring_config->hold_ms;
    joiner->orphan_ms = ring_config->orphan_timeout_ms;
    self->spawner = worm_spawner_new (&spawner);
    //  A request that cannot be queued is dropped, and the ring's own
    //  deadlines cover it
    zsock_set_sndtimeo (zactor_sock (self->spawner), 0);
}

//  Start, step 6, the worm: a founder makes the worm's first token (its
//  id, names, launcher, population and the app's parameters, then the
//  app's state) and hands it to the ring, which holds it; a joiner makes
//  its app's state and waits for the token (the run loop says JOIN).
//  Returns 0, or -1 with the reason in err (a bad population or parameter,
//  the app's refusal, the ring's).
static int
s_start_worm (s_segment_t *self, char *err, size_t cap)
{
    if (!self->config.found) {
        //  The app starts when the worm's token first reaches us (s_drain)
        worm_log ("joining worm %s through %s", self->config.worm, self->config.spawner);
        return 0;
    }
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, self->config.worm_id);
    worm_token_set_worm_name (token, self->config.worm);
    worm_token_set_app_name (token, self->config.app);
    worm_token_set_launcher_key (token, self->launcher_key);
    if (worm_token_set_population (token, self->config.size, self->config.max)) {
        snprintf (err, cap, "size %u and max %u are not 1 <= size <= max <= %d",
                  self->config.size, self->config.max, WORM_TOKEN_MAX_MEMBERS);
        worm_token_destroy (&token);
        return -1;
    }
    for (int i = 0; i < self->config.nparams; i++)
        if (worm_token_param_add (token, self->config.params[i])) {
            snprintf (err, cap, "bad app parameter '%s'", self->config.params[i]);
            worm_token_destroy (&token);
            return -1;
        }
    if (s_create_app (self, token, err, cap)) {
        worm_token_destroy (&token);
        return -1;
    }
    if (worm_ring_found (self->ring, &token, s_now ())) {
        snprintf (err, cap, "%s", worm_ring_error (self->ring));
        return -1;
    }
    worm_log ("founded worm %s (%s), app %s, size %u, max %u", self->config.worm,
              self->config.worm_id, self->config.app, self->config.size, self->config.max);
    return 0;
}

//  Starts the segment, step by step, each needing the ones before: the app
//  named on our command line, the environment, the keys, the sockets, the
//  ring, the spawner, the worm; then registers with our agent. Returns 0,
//  or -1 with the reason in err; whatever was made is left for s_stop.
static int
s_start (s_segment_t *self, char *err, size_t cap)
{
    self->app = worm_app_find (self->config.app);
    if (!self->app) {
        snprintf (err, cap, "no app named '%s'", self->config.app);
        return -1;
    }
    char secret[WORM_KEY_LEN + 1] = "";
    s_start_environment (self, secret, sizeof secret);
    if (s_start_keys (self, secret, sizeof secret, err, cap))
        return -1;
    worm_lan_t lan;
    if (s_start_sockets (self, &lan, err, cap))
        return -1;
    worm_ring_config_t ring_config;
    if (s_start_ring (self, &ring_config, err, cap))
        return -1;
    s_start_spawner (self, &lan, &ring_config);
    if (s_start_worm (self, err, cap))
        return -1;
    s_register (self);
    return 0;
}

static void
s_stop (s_segment_t *self)
{
    worm_jobs_destroy (&self->jobs);       //  the worker stops before the state goes
    if (self->app && self->app->destroy && self->app_ready)
        self->app->destroy (&self->app_state);
    atomic_store (&self->spawner_stop, true);
    zactor_destroy (&self->spawner);
    //  Let the last sends (a forwarded token, a kill) leave before closing
    if (self->peers)
        for (zsock_t *peer = zhashx_first (self->peers); peer; peer = zhashx_next (self->peers))
            zsock_set_linger (peer, EXIT_LINGER_MS);
    zhashx_destroy (&self->peers);
    zsock_destroy (&self->router);
    worm_ring_destroy (&self->ring);
    worm_auth_destroy (&self->auth);
    zcert_destroy (&self->cert);
}

int
worm_segment_run (const worm_segment_config_t *config, char *err, size_t cap)
{
    s_segment_t *self = calloc (1, sizeof *self);
    self->config = *config;
    srandom ((unsigned) (zclock_usecs () ^ getpid ()));
    //  Our agent's death is a SIGTERM (leave in order), not its SIGKILL
    if (worm_watch_start () < 0)
        worm_log ("cannot watch our agent: %s", strerror (errno));
    if (s_start (self, err, cap)) {
        s_stop (self);
        free (self);
        return 1;
    }
    zpoller_t *poller =
        zpoller_new (self->router, self->spawner, worm_auth_socket (self->auth), NULL);
    self->poller = poller;
    if (self->jobs)
        zpoller_add (poller, worm_jobs_sock (self->jobs));
    s_drain (self);
    uint64_t leave_until = 0;      //  SIGTERM: leaving, exit by then
    while (!self->exiting) {
        uint64_t now = s_now ();
        if ((zsys_interrupted || worm_watch_agent_gone (0)) && !leave_until) {
            //  SIGTERM (the agent evicts, or a kill, or it died): leave in
            //  order, for at most LEAVE_GRACE_MS, then go
            if (worm_watch_agent_gone (0))
                worm_log ("our agent is gone; leaving the worm");
            else
                worm_log ("stopped by signal; leaving the worm");
            zpoller_set_nonstop (poller, true);
            leave_until = now + LEAVE_GRACE_MS;
            worm_segment_ctx_t ctx = s_ctx (self);
            worm_segment_leave (&ctx, now);
            s_drain (self);
            continue;
        }
        if (leave_until && now >= leave_until)
            break;
        s_check_spawner (self, now);
        if (!config->found && !worm_ring_token (self->ring) && now >= self->next_join_ms) {
            s_send_join (self);
            self->next_join_ms = now + JOIN_RETRY_MS;
        }
        uint64_t deadline = worm_ring_deadline (self->ring);
        if (!config->found && !worm_ring_token (self->ring) && self->next_join_ms < deadline)
            deadline = self->next_join_ms;
        if (leave_until && leave_until < deadline)
            deadline = leave_until;
        int timeout = deadline <= now ? 0 : deadline - now > 1000 ? 1000 : (int) (deadline - now);
        void *which = zpoller_wait (poller, timeout);
        if (which == self->router)
            s_on_message (self);
        else if (which == self->spawner)
            s_on_spawner (self);
        else if (which == worm_auth_socket (self->auth))
            worm_auth_handle (self->auth);
        else if (self->jobs && which == worm_jobs_sock (self->jobs))
            worm_jobs_on_result (self->jobs, self->router);
        else if (zpoller_terminated (poller) && !leave_until && !zsys_interrupted)
            break;
        s_drain (self);     //  the input's actions before the timers'
        if (self->jobs)
            worm_jobs_tick (self->jobs, s_now ());
        if (s_now () >= worm_ring_deadline (self->ring))
            worm_ring_tick (self->ring, s_now ());
        s_drain (self);
    }
    if (self->exiting)
        worm_log ("exiting: %s", self->exit_reason);
    else
        worm_log ("stopped by signal; left after %d ms", LEAVE_GRACE_MS);
    zpoller_destroy (&poller);
    self->poller = NULL;
    s_stop (self);
    free (self);
    if (worm_watch_agent_gone (0)) {
        //  No agent is left to clean up after us: the last sends leave
        //  (linger), then our whole process group goes, we included
        worm_log ("our agent is gone; ending our process group");
        zsys_shutdown ();
        worm_watch_end_group ();
    }
    return 0;
}
