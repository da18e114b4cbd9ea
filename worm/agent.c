/*  agent.c — the host agent's reactor (see agent.h for the whole, and
    agent_internal.h for its parts): its life cycle (the state folder, the
    keys, the sockets), the decision whether this host is willing, the
    roles of a caller's key and the ZAP rule that follows from them, and
    the dispatch of each control request through the op table of
    agent_ops.c. Guests, claims, the relay and the announcements are the
    other parts' (docs/PROTOCOL.md describes what they say).
*/
#include "agent_internal.h"
#include "ctl.h"
#include "keys.h"
#include "lock.h"
#include "proctree.h"
#include "random.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

//  --------------------------------------------------------------------------
//  Helpers

static void
s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

static int
s_write_file (const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    char tmp[PATH_MAX + 80];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *file = fopen (tmp, "w");
    if (!file)
        return -1;
    fputs (text, file);
    if (fclose (file))
        return -1;
    return rename (tmp, path);
}

static void
s_remove_file (const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    unlink (path);
}

//  Reads the host id from the state folder, or makes and saves one.
static int
s_host_id (worm_agent_t *self)
{
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/host-id", self->config.state_dir);
    FILE *file = fopen (path, "r");
    if (file) {
        char line[64] = "";
        if (!fgets (line, sizeof line, file))
            line[0] = 0;
        fclose (file);
        line[strcspn (line, "\n")] = 0;
        if (strlen (line) == WORM_HOST_ID_LEN
            && strspn (line, "0123456789abcdef") == WORM_HOST_ID_LEN) {
            snprintf (self->host_id, sizeof self->host_id, "%s", line);
            return 0;
        }
    }
    worm_random_hex (self->host_id, WORM_HOST_ID_LEN);
    char text[32];
    snprintf (text, sizeof text, "%s\n", self->host_id);
    return s_write_file (self->config.state_dir, "host-id", text);
}

//  --------------------------------------------------------------------------
//  Roles, and the decision

bool
worm_agent_key_trusted (worm_agent_t *self, const char *key)
{
    return key && (streq (key, zcert_public_txt (self->cert))
                   || worm_keyset_has (self->authorized, key));
}

//  The roles of key here (WORM_ROLE_*; docs/PROTOCOL.md, "Security"): our
//  own key is the owner and a host; keys in --owners are owners; authorized
//  keys are users, and hosts when their file says so; our guests' worm keys
//  are guests.
static unsigned
s_roles (worm_agent_t *self, const char *key)
{
    if (!key)
        return 0;
    unsigned roles = 0;
    if (streq (key, zcert_public_txt (self->cert)))
        roles |= WORM_ROLE_OWNER | WORM_ROLE_HOST;
    if (self->owners && worm_keyset_has (self->owners, key))
        roles |= WORM_ROLE_OWNER;
    if (worm_keyset_has (self->authorized, key))
        roles |= WORM_ROLE_USER
                 | (worm_keyset_has_host (self->authorized, key) ? WORM_ROLE_HOST : 0);
    if (worm_guests_by_key (self, key))
        roles |= WORM_ROLE_GUEST;
    return roles;
}

//  ZAP: who may connect: any key with a role here. What each may ask is the
//  request table's to say.
static bool
s_auth_rule (void *arg, const char *key, char *why, size_t cap)
{
    worm_agent_t *self = (worm_agent_t *) arg;
    if (s_roles (self, key))
        return true;
    snprintf (why, cap, "not an authorized key");
    worm_agent_refusal (self, "connect", key, NULL, why);
    return false;
}

int
worm_agent_slots_used (worm_agent_t *self)
{
    return (int) (zlist_size (self->guests) + zlist_size (self->claims))
           + worm_runs_loading (self);
}

void
worm_agent_hostinfo (worm_agent_t *self, worm_hostinfo_t *host)
{
    memset (host, 0, sizeof *host);
    snprintf (host->id, sizeof host->id, "%s", self->host_id);
    snprintf (host->name, sizeof host->name, "%s", self->config.name);
    snprintf (host->endpoint, sizeof host->endpoint, "%s", self->endpoint);
    snprintf (host->key, sizeof host->key, "%s", zcert_public_txt (self->cert));
    host->willing = self->willing;
    snprintf (host->reason, sizeof host->reason, "%s", self->reason);
    host->load = self->sample.load;
    host->idle_s = self->sample.idle_s;
    host->segments = (uint32_t) worm_agent_slots_used (self);
    host->max_segments = (uint32_t) self->config.policy.max_segments;
    host->interval_ms = (uint32_t) lround (self->config.policy.check_interval_s * 1000);
    //  What this host offers besides segments: alarms' rings, users' commands
    snprintf (host->caps, sizeof host->caps, "spawn%s%s", worm_rings_enabled (self) ? ",ring" : "",
              self->config.allow_run ? ",run" : "");
}

bool
worm_agent_evaluate (worm_agent_t *self, int exclude)
{
    char err[256];
    worm_sample_t sample;
    if (worm_avail_sample (&self->config.avail, &sample, err, sizeof err)) {
        worm_log_limited (&self->sample_failed, WORM_AGENT_SAMPLE_LOG_PERIOD_MS,
                          "cannot sample availability: %s", err);
        sample = self->sample;
        sample.idle_s = 0;      //  knowing nothing, refuse guests
    }
    sample.segments = worm_agent_slots_used (self) - exclude;
    char reason[WORM_AGENT_REASON_MAX + 1];
    bool willing = worm_policy_willing (&self->config.policy, &sample, reason, sizeof reason);
    int64_t retry_in_ms = self->spawn_retry_ms - worm_now_ms ();
    if (willing && retry_in_ms > 0) {
        //  A host whose spawns fail is no use to anyone: say so, try later
        willing = false;
        snprintf (reason, sizeof reason, "spawns fail here (%s); next try in %.0f s",
                  self->spawn_error, ceil (retry_in_ms / 1000.0));
    }
    bool changed = !self->decided || willing != self->willing;
    if (changed && !exclude)
        worm_log ("%s (%s)", willing ? "willing" : "not willing", reason);
    self->sample = sample;
    self->willing = willing;
    snprintf (self->reason, sizeof self->reason, "%s", reason);
    self->decided = true;
    worm_agent_tell_host (self);
    return changed;
}

void
worm_agent_reconsider (worm_agent_t *self)
{
    if (worm_agent_evaluate (self, 0))
        worm_agent_announce (self);
}

void
worm_agent_tell_host (worm_agent_t *self)
{
    worm_hostinfo_t host;
    worm_agent_hostinfo (self, &host);
    worm_announce_host (self->announce, &host);
}

void
worm_agent_announce (worm_agent_t *self)
{
    worm_agent_tell_host (self);
    worm_announce_now (self->announce);
}

int
worm_agent_launcher (worm_agent_t *self, worm_wire_reader_t *reader, const char *op,
                     char *launcher, char *err, size_t cap)
{
    snprintf (launcher, WORM_KEY_LEN + 1, "%s", self->sender ? self->sender : "");
    char named[WORM_KEY_LEN + 1];
    if (worm_wire_get_str (reader, reader->root, "launcher", named, sizeof named) != 0)
        return 0;
    if (!(self->roles & WORM_ROLE_HOST)) {
        worm_log ("refused %s from key %s: it names launcher %s, and only a host's key may",
                  op, self->sender, named);
        snprintf (err, cap, "%s refused %s: key %s names a launcher, which only a host relaying "
                            "for one of the worm's segments may do", self->config.name, op,
                  self->sender);
        return -1;
    }
    snprintf (launcher, WORM_KEY_LEN + 1, "%s", named);
    return 0;
}

//  --------------------------------------------------------------------------
//  The reactor

static int s_on_check (zloop_t *loop, int timer_id, void *arg);

void
worm_agent_interval_changed (worm_agent_t *self)
{
    zloop_timer_end (self->loop, self->check_timer);
    self->check_timer = zloop_timer (
        self->loop, (size_t) lround (self->config.policy.check_interval_s * 1000), 0, s_on_check,
        self);
}

//  One control request: checked against the op table (every field's type
//  and size), held against the caller's roles, then served by its handler.
static int
s_on_request (zloop_t *loop, zsock_t *router, void *arg)
{
    (void) loop;
    worm_agent_t *self = (worm_agent_t *) arg;
    zmsg_t *msg = zmsg_recv (router);
    if (!msg)
        return 0;
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *payload = zmsg_pop (msg);
    if (!identity || !payload || zmsg_size (msg) != 0) {
        worm_log_limited (&self->bad_request, WORM_AGENT_LOG_PERIOD_MS,
                          "dropped a control message of %zu frames",
                          zmsg_size (msg) + (identity != NULL) + (payload != NULL));
        if (identity && payload)
            worm_ctl_reply_error (self->router, identity, "a request is exactly one frame");
        goto done;
    }
    self->sender = worm_curve_sender (payload);
    self->roles = s_roles (self, self->sender);
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    char op[WORM_AGENT_OP_MAX + 1] = "", why[WORM_REQUEST_ERROR_MAX] = "";
    const worm_agent_op_t *entry = NULL;
    //  Every field's type and size is checked here, before any handler
    if (worm_request_check (zframe_data (payload), zframe_size (payload), &worm_request_agent,
                            &reader, why, sizeof why)
        || worm_wire_get_str (&reader, reader.root, "op", op, sizeof op)) {
        worm_log_limited (&self->bad_request, WORM_AGENT_LOG_PERIOD_MS,
                          "refused a control request: %s", why);
        worm_agent_refusal (self, op[0] ? op : "?", self->sender, NULL, why);
        worm_ctl_reply_error (self->router, identity, "%s", why);
    }
    else if (!(entry = (const worm_agent_op_t *) worm_request_op (&worm_request_agent, op))
             || !(entry->op.allow & self->roles)) {
        worm_log_limited (&self->bad_request, WORM_AGENT_LOG_PERIOD_MS,
                          "refused op '%s' from key %s: not allowed", op,
                          self->sender ? self->sender : "(none)");
        char reason[WORM_REQUEST_ERROR_MAX];
        snprintf (reason, sizeof reason, "%s refused op '%s' from key %s: not allowed for it",
                  self->config.name, op, self->sender ? self->sender : "(none)");
        worm_agent_refusal (self, op, self->sender, NULL, reason);
        worm_ctl_reply_error (self->router, identity, "%s", reason);
    }
    else
        entry->handler (self, identity, &reader);
    worm_wire_reader_fini (&reader);
    //  Whatever the request changed, queries are answered with it
    worm_agent_tell_host (self);
done:
    self->sender = NULL;
    self->roles = 0;
    zframe_destroy (&identity);
    zframe_destroy (&payload);
    zmsg_destroy (&msg);
    return 0;
}

//  Every check interval: reap, expire claims, decide, hold the policy
//  against the guests, announce, and forget silent hosts.
static int
s_on_check (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    worm_agent_t *self = (worm_agent_t *) arg;
    worm_guests_reap (self);
    worm_claims_expire (self);
    worm_agent_evaluate (self, 0);
    worm_guests_enforce (self);
    worm_agent_announce (self);
    int64_t now = worm_now_ms ();
    //  Before dropping silent hosts, make sure our own entry is fresh
    worm_hostinfo_t me;
    worm_agent_hostinfo (self, &me);
    if (worm_registry_find (self->registry, me.id))
        worm_registry_update (self->registry, &me, now);
    size_t before = worm_registry_size (self->registry);
    if (worm_registry_expire (self->registry, now))
        worm_log ("dropped %zu silent host(s)", before - worm_registry_size (self->registry));
    return 0;
}

static int
s_on_reap (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    worm_agent_t *self = (worm_agent_t *) arg;
    if (worm_guests_reap (self) && worm_agent_evaluate (self, 0))
        worm_agent_announce (self);
    worm_guests_kill_late (self);
    worm_runs_tick (self);
    worm_rings_kill_late (self);
    worm_agent_tell_host (self);
    return 0;
}

//  What the announcer heard: a host's beacon goes to the registry; a death
//  notice to our segments of that worm.
static int
s_on_heard (zloop_t *loop, zsock_t *socket, void *arg)
{
    (void) loop;
    (void) socket;
    worm_agent_t *self = (worm_agent_t *) arg;
    worm_beacon_t msg;
    if (worm_announce_recv (self->announce, &msg))
        return 0;
    if (msg.kind == WORM_BEACON_ANNOUNCE) {
        int rc = worm_registry_update (self->registry, &msg.host, worm_now_ms ());
        if (rc == 1)
            worm_log ("heard host %s at %s", msg.host.name, msg.host.endpoint);
        else if (rc < 0)
            worm_log_limited (&self->registry_full, WORM_AGENT_LOG_PERIOD_MS,
                              "registry full, ignored host %s", msg.host.name);
    }
    else if (msg.kind == WORM_BEACON_DEAD)
        worm_guests_death_notice (self, &msg);
    return 0;
}

static int
s_on_zap (zloop_t *loop, zsock_t *handler, void *arg)
{
    (void) loop;
    (void) handler;
    worm_agent_t *self = (worm_agent_t *) arg;
    worm_auth_handle (self->auth);
    return 0;
}

//  --------------------------------------------------------------------------
//  Life cycle

worm_agent_t *
worm_agent_new (const worm_config_t *config, worm_lock_t **lock_p, char *err, size_t cap)
{
    worm_agent_t *self = calloc (1, sizeof *self);
    self->config = *config;
    self->lock = *lock_p;
    *lock_p = NULL;
    self->guests = zlist_new ();
    self->claims = zlist_new ();
    self->receipts = zlist_new ();
    self->runs = zlist_new ();
    self->killed = zhashx_new ();
    zhashx_set_destructor (self->killed, s_free_item);
    self->registry = worm_registry_new ();
    if (!self->config.programs_dir[0] && worm_exe_dir (self->config.programs_dir,
                                                       sizeof self->config.programs_dir)) {
        snprintf (err, cap, "cannot find the folder of wormd");
        goto fail;
    }
    if (worm_lan_resolve (config->broadcast, config->interface, config->beacon_port, &self->lan,
                          err, cap))
        goto fail;
    //  Orphans of guests come back to us, so no guest process escapes eviction
    if (worm_proctree_subreaper ())
        worm_log ("cannot become a child subreaper: %s", strerror (errno));
    snprintf (self->guests_dir, sizeof self->guests_dir, "%s/guests", config->state_dir);
    if (!self->lock) {
        snprintf (err, cap, "the state folder %s is not locked", config->state_dir);
        goto fail;
    }
    if (s_host_id (self)) {
        snprintf (err, cap, "cannot write in state folder %s: %s", config->state_dir,
                  strerror (errno));
        goto fail;
    }
    //  Leave nothing behind from an agent that died without cleaning up:
    //  its guests' processes first, then their folders
    worm_guests_sweep (self);
    //  The event log, from here on (agent_log.c)
    char log_dir[PATH_MAX + 8];
    snprintf (log_dir, sizeof log_dir, "%s/log", config->state_dir);
    self->events = worm_events_new (log_dir, config->name, self->host_id, config->log_max);
    worm_rmtree (self->guests_dir);
    if (worm_mkdirs (self->guests_dir, 0700)) {
        snprintf (err, cap, "cannot write in state folder %s: %s", config->state_dir,
                  strerror (errno));
        goto fail;
    }
    worm_guests_save (self);
    if (worm_rings_start (self, err, cap))
        goto fail;
    //  Keys: ours (made on first start), and the folder of authorized ones
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/host.cert", config->state_dir);
    const char *key_file = config->key_file[0] ? config->key_file : path;
    self->cert = worm_keys_load (key_file, err, cap);
    if (!self->cert && access (key_file, F_OK) != 0)
        self->cert = worm_keys_create (key_file, WORM_ROLE_HOST_NAME, false, err, cap);
    if (!self->cert)
        goto fail;
    worm_ctl_set_identity (self->cert);
    snprintf (path, sizeof path, "%s/authorized", config->state_dir);
    self->authorized = worm_keyset_new (config->authorized_dir[0] ? config->authorized_dir : path);
    if (config->owners_dir[0])
        self->owners = worm_keyset_new (config->owners_dir);
    //  The ZAP handler must be in place before the CURVE socket binds
    self->auth = worm_auth_new (s_auth_rule, self, err, cap);
    if (!self->auth)
        goto fail;
    self->relay = zactor_new (worm_relay_actor, NULL);
    if (worm_guests_prepare (self, err, cap))
        goto fail;
    self->router = zsock_new (ZMQ_ROUTER);
    zsock_set_maxmsgsize (self->router, WORM_CTL_WIRE_MAX);
    zsock_set_linger (self->router, 0);
    worm_curve_server (self->router, self->cert);
    if (worm_ctl_bind (self->router, self->lan.local, self->endpoint, sizeof self->endpoint)) {
        snprintf (err, cap, "cannot bind the control endpoint on %s", self->lan.local);
        goto fail;
    }
    self->announce = worm_announce_new (&self->lan, err, cap);
    if (!self->announce)
        goto fail;
    char text[160];
    snprintf (text, sizeof text, "%s\n", self->endpoint);
    if (s_write_file (config->state_dir, "endpoint", text)) {
        snprintf (err, cap, "cannot write %s/endpoint", config->state_dir);
        goto fail;
    }
    snprintf (text, sizeof text, "%d\n", (int) getpid ());
    s_write_file (config->state_dir, "wormd.pid", text);
    return self;
fail:
    worm_agent_destroy (&self);
    return NULL;
}

void
worm_agent_destroy (worm_agent_t **self_p)
{
    worm_agent_t *self = *self_p;
    if (!self)
        return;
    worm_guests_stop_all (self);
    if (self->runs)
        worm_runs_destroy_all (self);
    zlist_destroy (&self->runs);
    worm_rings_stop (self);
    //  After the guests: their death notices go out first
    worm_announce_destroy (&self->announce);
    worm_claims_drop_all (self);
    zlist_destroy (&self->guests);
    zlist_destroy (&self->claims);
    zhashx_destroy (&self->killed);
    worm_receipt_t *receipt;
    while ((receipt = zlist_pop (self->receipts)))
        free (receipt);
    zlist_destroy (&self->receipts);
    worm_registry_destroy (&self->registry);
    zloop_destroy (&self->loop);
    zsock_destroy (&self->router);
    zactor_destroy (&self->relay);
    worm_auth_destroy (&self->auth);
    worm_keyset_destroy (&self->authorized);
    worm_keyset_destroy (&self->owners);
    zcert_destroy (&self->cert);
    if (self->endpoint[0]) {
        s_remove_file (self->config.state_dir, "endpoint");
        s_remove_file (self->config.state_dir, "wormd.pid");
        s_remove_file (self->config.state_dir, WORM_AGENT_GUESTS_RECORD);
        rmdir (self->guests_dir);
    }
    //  Last: the folder is free for another agent only once we are done with it
    if (self->events) {
        worm_agent_event (self, "stop");
        worm_events_commit (self->events);
    }
    worm_events_destroy (&self->events);
    worm_lock_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
worm_agent_run (worm_agent_t *self)
{
    //  A run's command that closes its stdin must not end us (run.c)
    signal (SIGPIPE, SIG_IGN);
    self->loop = zloop_new ();
    zloop_reader (self->loop, self->router, s_on_request, self);
    zloop_reader (self->loop, worm_auth_socket (self->auth), s_on_zap, self);
    zloop_reader (self->loop, (zsock_t *) self->relay, worm_relay_on_answer, self);
    zloop_reader (self->loop, worm_announce_socket (self->announce), s_on_heard, self);
    self->check_timer = zloop_timer (
        self->loop, (size_t) lround (self->config.policy.check_interval_s * 1000), 0, s_on_check,
        self);
    zloop_timer (self->loop, WORM_AGENT_REAP_INTERVAL_MS, 0, s_on_reap, self);
    worm_log ("serving %s on %s, beacons to %s:%d, state in %s", self->config.name,
              self->endpoint, self->lan.broadcast, self->lan.port, self->config.state_dir);
    worm_agent_evaluate (self, 0);
    worm_agent_announce (self);
    worm_wire_writer_t *event = worm_agent_event (self, "start");
    worm_wire_ku64 (event, "pid", (uint64_t) getpid ());
    worm_wire_kstr (event, "endpoint", self->endpoint);
    worm_events_commit (self->events);
    zloop_start (self->loop);
    worm_log ("stopping");
    return 0;
}
