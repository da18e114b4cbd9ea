/*  segment.c — the alarm app's segment side (segments/app.h): the alarm
    database is the token's app state (alarm.h); clients add, cancel and
    list alarms through the segment's `app` op (verbs alarm.add,
    alarm.cancel, alarm.list); a ringer thread asks a host agent that
    advertises `ring` to ring each alarm when it is due.

    Exactly once (docs/PROTOCOL.md, "Alarms"): every alarm gets its ringing
    host in the token long before it is due, and every segment whose hold
    sees it due within WORM_ALARM_LEAD_MS arms it; at the due time each
    armed segment asks that one host, whose agent rings the first ask and
    drops the others (its dedupe key is the worm, the alarm and its due
    time). The first answer a segment gets goes into the token at its next
    hold. So a ring needs neither the token nor the segment that armed it
    to survive, and a retry can only reach the host that may have rung.

    It reaches host agents itself, with worm/discover.h and worm/ctl.h (as
    the worm's key, which the runtime made this process's identity, and
    through its own agent's relay), and learns where it is from the
    guest's environment (WORM_AGENT, WORM_BROADCAST …): app.h offers apps
    no host services yet, which is where this belongs once a second app
    needs them.

    Threads: create, on_token, request, handoff and destroy run on the
    segment's reactor thread and never block (a few ms of decoding at
    most); the ringer (an actor) does the discovery and the ring requests,
    which wait on the network. They share the hosts heard, the armed
    alarms and the answers under one lock.
*/
#include "alarm.h"
#include "app.h"
#include "ctl.h"
#include "discover.h"
#include "log.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define S_HOSTS_MAX 256             //  ringing hosts remembered
#define S_HOST_FRESH_MS 5000        //  a host heard this lately may be given alarms
#define S_DISCOVER_MS 1000          //  how often the ringer asks who is there
#define S_DISCOVER_QUIET_MS 500     //  and not when an alarm is due sooner than this
#define S_RING_TIMEOUT_MS 1000      //  a ring request waits this long for its answer
#define S_RETRY_MS 200              //  a failed ring is asked again after this
#define S_QUEUE_MAX 64              //  adds and cancels waiting for our next hold

//  A host that can ring
typedef struct {
    worm_hostinfo_t info;           //  as it answered
    int64_t seen_ms;                //  when, monotonic
} s_host_t;

//  An armed alarm: the ringer asks its host at its due time
typedef struct {
    char id[WORM_RINGING_ID_MAX + 1];
    char message[WORM_RINGING_MESSAGE_MAX + 1];
    uint64_t due_ms;                //  wall clock
    char host_id[WORM_HOST_ID_LEN + 1];
    bool done;                      //  a host answered that it is rung
    int64_t next_try_ms;            //  wall clock: not asked before then (a retry)
} s_arm_t;

//  An answer: host rang alarm id (due due_ms) at at_ms
typedef struct {
    char id[WORM_RINGING_ID_MAX + 1];
    uint64_t due_ms;
    char host[65];
    uint64_t at_ms;
} s_result_t;

typedef struct {
    //  Shared with the ringer, under lock
    pthread_mutex_t lock;           //  guards what follows, to the reactor's part
    s_host_t hosts[S_HOSTS_MAX];    //  ringing hosts heard
    size_t nhosts;                  //  how many
    s_arm_t *arms;                  //  the alarms armed, WORM_ALARM_MAX at most
    size_t narms;                   //  how many
    s_result_t *results;            //  answers not yet in the token
    size_t nresults;                //  how many
    //  The ringer's setting, fixed at create
    worm_lan_t lan;                 //  where to ask who is there
    char agent[128];                //  our host agent
    char agent_key[41];             //  its key
    char host_id[WORM_HOST_ID_LEN + 1];  //  our host's id (a ring there needs no relay)
    atomic_bool stop;               //  the ringer stops between requests
    atomic_bool ringer_done;        //  the ringer's thread no longer touches us
    int64_t started_ms;             //  when the ringer started, monotonic
    zactor_t *ringer;               //  the ringer thread
    //  The reactor's own
    worm_alarm_db_t *mirror;        //  the state as our last hold left it
    uint64_t mirror_epoch, mirror_seq;   //  of which token
    worm_alarm_db_t *work;          //  scratch for the next hold
    worm_alarm_t adds[S_QUEUE_MAX]; //  adds for our next hold
    size_t nadds;
    char cancels[S_QUEUE_MAX][WORM_RINGING_ID_MAX + 1];  //  cancels for our next hold
    size_t ncancels;
    worm_log_limiter_t refused;     //  rate limit for adds refused at a hold
    worm_log_limiter_t ring_failed; //  the ringer's, for rings that failed
} s_alarm_t;

static uint64_t
s_wall (void)
{
    return (uint64_t) worm_wall_ms ();
}

//  --------------------------------------------------------------------------
//  The ringer (its own thread)

static int
s_collect (void *arg, const worm_hostinfo_t *host)
{
    s_alarm_t *self = (s_alarm_t *) arg;
    char caps[sizeof host->caps];
    snprintf (caps, sizeof caps, "%s", host->caps);
    bool rings = false;
    for (char *save = NULL, *word = strtok_r (caps, ",", &save); word;
         word = strtok_r (NULL, ",", &save))
        rings |= strcmp (word, "ring") == 0;
    if (!rings || !worm_key_valid (host->key))
        return 0;
    pthread_mutex_lock (&self->lock);
    size_t i = 0;
    while (i < self->nhosts && strcmp (self->hosts[i].info.id, host->id) != 0)
        i++;
    if (i == self->nhosts && self->nhosts < S_HOSTS_MAX)
        self->nhosts++;
    if (i < self->nhosts) {
        self->hosts[i].info = *host;
        self->hosts[i].seen_ms = worm_now_ms ();
    }
    pthread_mutex_unlock (&self->lock);
    return 0;
}

//  Asks the host of arm (copied out of the list) to ring it. Returns 0 with
//  the answer in result, or -1 (to retry) after logging why.
static int
s_ring (s_alarm_t *self, const s_arm_t *arm, s_result_t *result)
{
    char endpoint[128] = "", key[41] = "";
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->nhosts; i++)
        if (strcmp (self->hosts[i].info.id, arm->host_id) == 0) {
            snprintf (endpoint, sizeof endpoint, "%s", self->hosts[i].info.endpoint);
            snprintf (key, sizeof key, "%s", self->hosts[i].info.key);
        }
    pthread_mutex_unlock (&self->lock);
    bool ours = strcmp (arm->host_id, self->host_id) == 0;
    if (!ours && !endpoint[0]) {
        worm_log_limited (&self->ring_failed, 2000, "alarm %s is due but its host %s was not "
                                                    "heard yet", arm->id, arm->host_id);
        return -1;
    }
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "ring");
    worm_wire_kstr (&request, "alarm", arm->id);
    worm_wire_ku64 (&request, "due", arm->due_ms);
    worm_wire_kstr (&request, "message", arm->message);
    worm_wire_map_close (&request);
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[512];
    //  Our own agent rings for its guest directly; another host's through
    //  our agent's relay, which names our worm
    worm_ctl_via_t via = {self->agent, self->agent_key};
    int rc = ours ? worm_ctl_call (self->agent, self->agent_key, &request, S_RING_TIMEOUT_MS,
                                   &reply, err, sizeof err)
                  : worm_ctl_call_via (&via, endpoint, key, &request, S_RING_TIMEOUT_MS, &reply,
                                       err, sizeof err);
    bool rung = false;
    char refused[160] = "";
    uint64_t at = 0;
    if (rc == 0
        && (worm_wire_get_bool (&reply, reply.root, "rung", &rung)
            || worm_wire_get_u64 (&reply, reply.root, "at", &at)
            || worm_wire_get_str (&reply, reply.root, "host", result->host, sizeof result->host)
            || worm_wire_get_str (&reply, reply.root, "refused", refused, sizeof refused) < 0)) {
        snprintf (err, sizeof err, "a bad answer: %s", reply.error);
        rc = -1;
    }
    worm_wire_reader_fini (&reply);
    worm_wire_writer_fini (&request);
    if (rc == 0 && refused[0]) {
        worm_log_limited (&self->ring_failed, 2000, "alarm %s: %s", arm->id, refused);
        return -1;
    }
    if (rc) {
        worm_log_limited (&self->ring_failed, 2000, "alarm %s: cannot ring it on host %s: %s",
                          arm->id, arm->host_id, err);
        return -1;
    }
    snprintf (result->id, sizeof result->id, "%s", arm->id);
    result->due_ms = arm->due_ms;
    result->at_ms = at;
    worm_log ("alarm %s (due %+lld ms ago) %s on %s", arm->id,
              (long long) (s_wall () - arm->due_ms), rung ? "rang" : "had rung already",
              result->host);
    return 0;
}

//  The next armed alarm to ask about (its index), and when, or -1; and
//  the first due time of an alarm not asked about yet, in *first (or
//  UINT64_MAX): a retry must not keep the ringer from listening.
static int
s_next_arm (s_alarm_t *self, uint64_t *when, uint64_t *first)
{
    int next = -1;
    *first = UINT64_MAX;
    for (size_t i = 0; i < self->narms; i++) {
        const s_arm_t *arm = &self->arms[i];
        if (arm->done)
            continue;
        if (!arm->next_try_ms && arm->due_ms < *first)
            *first = arm->due_ms;
        uint64_t at = arm->due_ms;
        if (arm->next_try_ms > 0 && (uint64_t) arm->next_try_ms > at)
            at = (uint64_t) arm->next_try_ms;
        if (next < 0 || at < *when) {
            next = (int) i;
            *when = at;
        }
    }
    return next;
}

static void
s_ringer (zsock_t *pipe, void *arg)
{
    s_alarm_t *self = (s_alarm_t *) arg;
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    int64_t next_discovery = 0;
    while (!atomic_load (&self->stop)) {
        uint64_t now = s_wall ();
        uint64_t when = 0, first = 0;
        pthread_mutex_lock (&self->lock);
        int next = s_next_arm (self, &when, &first);
        s_arm_t arm;
        if (next >= 0)
            arm = self->arms[next];
        pthread_mutex_unlock (&self->lock);
        if (next >= 0 && when <= now) {
            s_result_t result;
            int rc = s_ring (self, &arm, &result);
            pthread_mutex_lock (&self->lock);
            //  The list may have changed meanwhile: find the arm again
            for (size_t i = 0; i < self->narms; i++)
                if (strcmp (self->arms[i].id, arm.id) == 0
                    && self->arms[i].due_ms == arm.due_ms) {
                    self->arms[i].done = rc == 0;
                    self->arms[i].next_try_ms = (int64_t) s_wall () + S_RETRY_MS;
                }
            if (rc == 0 && self->nresults < WORM_ALARM_MAX)
                self->results[self->nresults++] = result;
            pthread_mutex_unlock (&self->lock);
            continue;
        }
        //  Who can ring: not when a ring is due within the quiet time (a
        //  query waits for its answers)
        int64_t mono = worm_now_ms ();
        if (mono >= next_discovery && (first == UINT64_MAX || first > now + S_DISCOVER_QUIET_MS)) {
            char err[256];
            if (worm_discover (&self->lan, true, 300, 50, s_collect, self, err, sizeof err) < 0
                && !atomic_load (&self->stop))
                worm_log ("alarm: cannot ask who rings: %s", err);
            next_discovery = worm_now_ms () + S_DISCOVER_MS;
            continue;
        }
        int64_t wait = next_discovery - mono;
        if (next >= 0 && (int64_t) (when - now) < wait)
            wait = (int64_t) (when - now);
        if (wait < 1)
            wait = 1;
        if (wait > 1000)
            wait = 1000;
        void *which = zpoller_wait (poller, (int) wait);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        }
    }
    zpoller_destroy (&poller);
    atomic_store (&self->ringer_done, true);
}

//  --------------------------------------------------------------------------
//  The reactor's side

static void
s_destroy (void **state)
{
    s_alarm_t *self = (s_alarm_t *) *state;
    if (!self)
        return;
    atomic_store (&self->stop, true);
    bool started = self->ringer != NULL;
    zactor_destroy (&self->ringer);
    //  zactor_destroy returns at once when a signal (an eviction's SIGTERM)
    //  interrupts its wait, with the ringer perhaps still in a request: it
    //  sees stop when that ends (a few hundred ms at most)
    while (started && !atomic_load (&self->ringer_done))
        zclock_sleep (5);
    pthread_mutex_destroy (&self->lock);
    worm_alarm_db_destroy (&self->mirror);
    worm_alarm_db_destroy (&self->work);
    free (self->arms);
    free (self->results);
    free (self);
    *state = NULL;
}

static const char *
s_env (const char *name, const char *fallback)
{
    const char *value = getenv (name);
    return value && *value ? value : fallback;
}

static int
s_create (void **state, const worm_token_t *token, char *err, size_t cap)
{
    s_alarm_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, cap, "out of memory");
        return -1;
    }
    *state = self;
    pthread_mutex_init (&self->lock, NULL);
    self->arms = calloc (WORM_ALARM_MAX, sizeof *self->arms);
    self->results = calloc (WORM_ALARM_MAX, sizeof *self->results);
    self->mirror = worm_alarm_db_new ();
    self->work = worm_alarm_db_new ();
    if (!self->arms || !self->results || !self->mirror || !self->work) {
        snprintf (err, cap, "out of memory");
        s_destroy (state);
        return -1;
    }
    size_t size = 0;
    const void *data = worm_token_app_state (token, &size);
    if (worm_alarm_db_decode (self->mirror, data, size, err, cap)) {
        s_destroy (state);
        return -1;
    }
    self->mirror_epoch = worm_token_epoch (token);
    self->mirror_seq = worm_token_seq (token);
    //  Where we are, as our agent told the segment (docs/PROTOCOL.md, the
    //  guest's environment); the worm's key is already our identity
    snprintf (self->agent, sizeof self->agent, "%s", s_env ("WORM_AGENT", ""));
    snprintf (self->agent_key, sizeof self->agent_key, "%s", s_env ("WORM_AGENT_KEY", ""));
    snprintf (self->host_id, sizeof self->host_id, "%s", s_env ("WORM_HOST_ID", ""));
    if (worm_lan_resolve (s_env ("WORM_BROADCAST", "127.255.255.255"), NULL,
                          atoi (s_env ("WORM_BEACON_PORT", "5670")), &self->lan, err, cap)) {
        s_destroy (state);
        return -1;
    }
    snprintf (self->lan.local, sizeof self->lan.local, "%s",
              s_env ("WORM_LOCAL_ADDR", self->lan.local));
    self->started_ms = worm_now_ms ();
    self->ringer = zactor_new (s_ringer, self);
    if (!self->ringer) {
        snprintf (err, cap, "cannot start the ringer thread");
        s_destroy (state);
        return -1;
    }
    zsock_set_sndtimeo (zactor_sock (self->ringer), 0);
    return 0;
}

static int
s_arm_cmp (const void *a, const void *b)
{
    const s_arm_t *x = a, *y = b;
    return x->due_ms < y->due_ms ? -1 : x->due_ms > y->due_ms;
}

//  One hold: the answers the ringer got go into the state; the alarms due
//  soon are armed (from the state as it came: a host chosen in this hold
//  is asked from the next one on, when another segment has it too); our
//  queued adds and cancels go in; old done alarms go; alarms without a
//  reachable host get one. The token's state is replaced when it changed.
//  arm: whether to arm (not when we hand the token on to leave).
static int
s_hold (s_alarm_t *self, worm_token_t *token, bool arm, char *err, size_t cap)
{
    uint64_t wall = s_wall ();
    size_t size = 0;
    const void *data = worm_token_app_state (token, &size);
    if (worm_alarm_db_decode (self->work, data, size, err, cap))
        return -1;
    bool changed = false;
    worm_alarm_host_t hosts[S_HOSTS_MAX];
    size_t nhosts = 0;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->nresults; i++) {
        const s_result_t *result = &self->results[i];
        changed |= worm_alarm_db_rung (self->work, result->id, result->due_ms, result->host,
                                       result->at_ms)
                   == 0;
    }
    self->nresults = 0;
    if (arm) {
        s_arm_t *old = malloc (self->narms * sizeof *old + 1);
        size_t nold = self->narms;
        if (old)
            memcpy (old, self->arms, nold * sizeof *old);
        self->narms = 0;
        for (size_t i = 0; i < worm_alarm_db_count (self->work); i++) {
            const worm_alarm_t *alarm = worm_alarm_db_at (self->work, i);
            if (alarm->state != WORM_ALARM_PENDING || !alarm->host_id[0]
                || alarm->due_ms > wall + WORM_ALARM_LEAD_MS)
                continue;
            s_arm_t *entry = &self->arms[self->narms++];
            memset (entry, 0, sizeof *entry);
            snprintf (entry->id, sizeof entry->id, "%s", alarm->id);
            snprintf (entry->message, sizeof entry->message, "%s", alarm->message);
            snprintf (entry->host_id, sizeof entry->host_id, "%s", alarm->host_id);
            entry->due_ms = alarm->due_ms;
            for (size_t k = 0; old && k < nold; k++)
                if (strcmp (old[k].id, entry->id) == 0 && old[k].due_ms == entry->due_ms
                    && strcmp (old[k].host_id, entry->host_id) == 0) {
                    entry->done = old[k].done;
                    entry->next_try_ms = old[k].next_try_ms;
                }
        }
        qsort (self->arms, self->narms, sizeof *self->arms, s_arm_cmp);
        free (old);
    }
    int64_t mono = worm_now_ms ();
    for (size_t i = 0; i < self->nhosts && nhosts < S_HOSTS_MAX; i++)
        if (mono - self->hosts[i].seen_ms <= S_HOST_FRESH_MS) {
            snprintf (hosts[nhosts].id, sizeof hosts[nhosts].id, "%s",
                      self->hosts[i].info.id);
            hosts[nhosts++].willing = self->hosts[i].info.willing;
        }
    pthread_mutex_unlock (&self->lock);
    char why[256];
    for (size_t i = 0; i < self->nadds; i++) {
        int rc = worm_alarm_db_add (self->work, &self->adds[i], wall, why, sizeof why);
        changed |= rc == 0;
        if (rc < 0)
            worm_log_limited (&self->refused, 5000, "alarm: an add was refused at our hold: %s",
                              why);
    }
    self->nadds = 0;
    for (size_t i = 0; i < self->ncancels; i++) {
        const worm_alarm_t *alarm = worm_alarm_db_find (self->work, self->cancels[i]);
        bool was_pending = alarm && alarm->state == WORM_ALARM_PENDING;
        if (worm_alarm_db_cancel (self->work, self->cancels[i], wall, why, sizeof why))
            worm_log_limited (&self->refused, 5000, "alarm: a cancel was refused at our hold: "
                                                    "%s", why);
        else
            changed |= was_pending;
    }
    self->ncancels = 0;
    changed |= worm_alarm_db_prune (self->work, wall) > 0;
    //  A host we have not heard is gone only once our ringer has listened
    //  for long enough (a new segment has heard nobody yet)
    bool listened = mono - self->started_ms > S_HOST_FRESH_MS;
    changed |= worm_alarm_db_assign (self->work, hosts, nhosts, listened, wall) > 0;
    if (changed) {
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_alarm_db_encode (self->work, &writer);
        int rc = worm_token_set_app_state (token, worm_wire_writer_data (&writer),
                                           worm_wire_writer_size (&writer));
        if (rc)
            snprintf (err, cap, "the alarm state of %zu bytes does not fit in the token",
                      worm_wire_writer_size (&writer));
        worm_wire_writer_fini (&writer);
        if (rc)
            return -1;
    }
    //  What we hand on is what we show
    worm_alarm_db_t *swap = self->mirror;
    self->mirror = self->work;
    self->work = swap;
    self->mirror_epoch = worm_token_epoch (token);
    self->mirror_seq = worm_token_seq (token);
    if (arm && self->ringer)
        zstr_send (self->ringer, "WAKE");
    return 0;
}

static int
s_on_token (void *state, worm_token_t *token, uint64_t now_ms, char *err, size_t cap)
{
    (void) now_ms;
    return s_hold ((s_alarm_t *) state, token, true, err, cap);
}

static int
s_handoff (void *state, worm_token_t *token, char *err, size_t cap)
{
    return s_hold ((s_alarm_t *) state, token, false, err, cap);
}

//  Reads the request body, a map, into reader. Returns 0, or -1 with err.
static int
s_body (worm_wire_reader_t *reader, const char *verb, const void *body, size_t size, char *err,
        size_t cap)
{
    if (!body || !size) {
        snprintf (err, cap, "%s: no body", verb);
        return -1;
    }
    if (worm_wire_parse (reader, body, size, 4096)) {
        snprintf (err, cap, "%s: %s", verb, reader->error);
        return -1;
    }
    return 0;
}

static int
s_request_add (s_alarm_t *self, worm_wire_reader_t *reader, worm_wire_writer_t *reply,
               char *err, size_t cap)
{
    worm_alarm_t alarm = {0};
    if (worm_wire_get_str (reader, reader->root, "id", alarm.id, sizeof alarm.id)
        || worm_wire_get_u64 (reader, reader->root, "due", &alarm.due_ms)
        || worm_wire_get_str (reader, reader->root, "message", alarm.message,
                              sizeof alarm.message)) {
        snprintf (err, cap, "alarm.add: %s", reader->error);
        return -1;
    }
    uint64_t wall = s_wall ();
    const worm_alarm_t *there = worm_alarm_db_find (self->mirror, alarm.id);
    if (there && there->state == WORM_ALARM_CANCELLED) {
        snprintf (err, cap, "alarm %s was cancelled; choose another id", alarm.id);
        return -1;
    }
    if (there && strcmp (there->message, alarm.message) != 0) {
        snprintf (err, cap, "alarm id %s is taken by another alarm (another message)",
                  alarm.id);
        return -1;
    }
    if (!there) {
        if (worm_alarm_check (&alarm, wall, err, cap))
            return -1;
        if (worm_alarm_db_count (self->mirror) + self->nadds >= WORM_ALARM_MAX) {
            snprintf (err, cap, "the alarm database is full (%d alarms, rung and cancelled "
                                "ones included for %d min)", WORM_ALARM_MAX,
                      WORM_ALARM_KEEP_MS / 60000);
            return -1;
        }
        bool queued = false;
        for (size_t i = 0; i < self->nadds; i++)
            queued |= strcmp (self->adds[i].id, alarm.id) == 0;
        if (!queued) {
            if (self->nadds >= S_QUEUE_MAX) {
                snprintf (err, cap, "this segment has %d changes waiting for the token; "
                                    "try again", S_QUEUE_MAX);
                return -1;
            }
            //  The state's byte limit, on our copy with the adds queued
            //  before this one, as our next hold will apply them (work is
            //  the hold's scratch, free between holds): refused now, with
            //  the reason, not at the hold, where only our log would say it
            worm_alarm_db_copy (self->work, self->mirror);
            char why[256];
            for (size_t i = 0; i < self->nadds; i++)
                worm_alarm_db_add (self->work, &self->adds[i], wall, why, sizeof why);
            if (worm_alarm_db_add (self->work, &alarm, wall, err, cap) < 0)
                return -1;
            self->adds[self->nadds++] = alarm;
        }
    }
    worm_wire_kstr (reply, "id", alarm.id);
    worm_wire_kbool (reply, "held", there != NULL);
    if (there)
        worm_wire_ku64 (reply, "due", there->due_ms);
    return 0;
}

static int
s_request_cancel (s_alarm_t *self, worm_wire_reader_t *reader, worm_wire_writer_t *reply,
                  char *err, size_t cap)
{
    char id[WORM_RINGING_ID_MAX + 1];
    if (worm_wire_get_str (reader, reader->root, "id", id, sizeof id)) {
        snprintf (err, cap, "alarm.cancel: %s", reader->error);
        return -1;
    }
    const worm_alarm_t *alarm = worm_alarm_db_find (self->mirror, id);
    bool queued_add = false;
    for (size_t i = 0; i < self->nadds; i++)
        queued_add |= strcmp (self->adds[i].id, id) == 0;
    if (!alarm && !queued_add) {
        snprintf (err, cap, "no alarm %s", id);
        return -1;
    }
    if (alarm) {
        //  The rules as the hold will apply them, on our copy
        uint64_t wall = s_wall ();
        if (alarm->state == WORM_ALARM_RUNG) {
            snprintf (err, cap, "alarm %s rang already (on %s)", id, alarm->rung_host);
            return -1;
        }
        if (alarm->state == WORM_ALARM_PENDING && alarm->due_ms <= wall + WORM_ALARM_LEAD_MS) {
            snprintf (err, cap, "alarm %s is too late to cancel: its ring is under way from "
                                "%d s before it is due", id, WORM_ALARM_LEAD_MS / 1000);
            return -1;
        }
    }
    bool queued = false;
    for (size_t i = 0; i < self->ncancels; i++)
        queued |= strcmp (self->cancels[i], id) == 0;
    if (!queued) {
        if (self->ncancels >= S_QUEUE_MAX) {
            snprintf (err, cap, "this segment has %d changes waiting for the token; try again",
                      S_QUEUE_MAX);
            return -1;
        }
        snprintf (self->cancels[self->ncancels++], sizeof self->cancels[0], "%s", id);
    }
    worm_wire_kstr (reply, "id", id);
    return 0;
}

//  alarm.list: our copy of the state as it is (bin), of which token, and
//  our clock.
static void
s_request_list (s_alarm_t *self, worm_wire_writer_t *reply)
{
    worm_wire_writer_t state;
    worm_wire_writer_init (&state);
    worm_alarm_db_encode (self->mirror, &state);
    worm_wire_kbin (reply, "state", worm_wire_writer_data (&state),
                    worm_wire_writer_size (&state));
    worm_wire_writer_fini (&state);
    worm_wire_ku64 (reply, "epoch", self->mirror_epoch);
    worm_wire_ku64 (reply, "seq", self->mirror_seq);
    worm_wire_ku64 (reply, "now", s_wall ());
}

static int
s_request (void *state, const char *verb, const void *body, size_t size,
           worm_wire_writer_t *reply, char *err, size_t cap)
{
    s_alarm_t *self = (s_alarm_t *) state;
    if (strcmp (verb, "alarm.list") == 0) {
        s_request_list (self, reply);
        return 0;
    }
    bool add = strcmp (verb, "alarm.add") == 0;
    if (!add && strcmp (verb, "alarm.cancel") != 0) {
        snprintf (err, cap, "app alarm has no verb '%s' (alarm.add, alarm.cancel, alarm.list)",
                  verb);
        return -1;
    }
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    int rc = s_body (&reader, verb, body, size, err, cap);
    if (rc == 0)
        rc = add ? s_request_add (self, &reader, reply, err, cap)
                 : s_request_cancel (self, &reader, reply, err, cap);
    worm_wire_reader_fini (&reader);
    return rc;
}

const worm_app_t worm_app_alarm = {
    .name = "alarm",
    .summary = "an alarm clock: alarms live in the worm and ring once on a host that can ring",
    .create = s_create,
    .on_token = s_on_token,
    .unit = NULL,
    .request = s_request,
    .handoff = s_handoff,
    .destroy = s_destroy,
};
