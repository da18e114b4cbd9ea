/*  jobclient.c — the client's half of the job layer. See jobclient.h and
    docs/PROTOCOL.md, "Jobs". */
#include "jobclient.h"
#include "ctl.h"
#include "joblimits.h"
#include "random.h"
#include "token.h"
#include "wire.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PING_MS 500             //  job.held to every segment, status to one, this often
//  A segment that has not answered for this long (three pings) is leased
//  nothing more until it answers again: it may be dead and not yet
//  dropped, and a unit whose lease lapsed there must not go back to it
#define QUIET_MS (3 * PING_MS)
//  A segment silent for a lease has its units put back in the queue; one
//  silent for this long is dropped. Between the two it is still asked, so
//  that a worm cut off for a few seconds (a split, a paused host) is found
//  again rather than the job stopping with "no live segment left"
#define GONE_MS 15000
#define DRAIN_MAX 256           //  answers an idle wait reads at most
#define DEFAULT_LEASE_MS 5000
#define BUSY_MS 250             //  a segment that said busy gets no unit for this long

//  A result arriving in parts (worm/joblimits.h): one at a time from a
//  segment, whose parts come in order on its connection
typedef struct {
    uint64_t unit;                              //  whose result, 0: none
    uint8_t *data;                              //  total bytes (malloc'd), have of them filled
    size_t total;                               //  the result's size
    size_t have;                                //  bytes received, in order
} s_parts_t;

typedef struct {
    bool used;                                  //  this slot is a segment
    char endpoint[WORM_TOKEN_ENDPOINT_MAX];     //  where it listens
    char id[WORM_JOBQ_HOLDER_MAX];              //  its segment id, "" until it said
    zsock_t *sock;                              //  our DEALER to it
    uint64_t heard_ms;                          //  its last answer (or when we connected)
    bool leaving;                               //  it said it leaves the worm: no new units
    bool silent;                                //  silent for a lease: its units went back
    uint64_t busy_until_ms;                     //  it said busy: no new units until then
    s_parts_t parts;                            //  a result it is sending in parts
} s_seg_t;

struct worm_jobclient_t {
    char worm[WORM_TOKEN_NAME_MAX];             //  the worm's name
    char app[WORM_TOKEN_NAME_MAX];              //  the app it must run, "" any
    char worm_key[WORM_TOKEN_KEY_MAX];          //  every segment's server key
    char task[64];                              //  the app's name for a unit's work
    char job[24];                               //  this job's id
    uint64_t lease_ms;                          //  a lease's length
    void (*on_log) (void *arg, const char *line);   //  the job's log, or NULL
    void *arg;                                  //  on_log's argument
    int (*refind) (void *arg, char (*endpoints)[WORM_TOKEN_ENDPOINT_MAX], int cap);
    void *refind_arg;                           //  refind's argument
    uint64_t next_refind_ms;                    //  refind not before then
    worm_jobq_t *queue;                         //  the units and their leases
    s_seg_t segs[WORM_JOBCLIENT_MAX_SEGMENTS];  //  the segments we know
    zpoller_t *poller;                          //  over the segments' sockets
    uint64_t next_ping_ms;                      //  when to ask again
    size_t status_next;                         //  whose status to ask next
    char stopped[WORM_JOBCLIENT_ERROR_MAX];     //  why the job cannot go on, "" it can
    uint64_t *overheads;                        //  each result's overhead (us), for the figures
    size_t overhead_count, overhead_cap;        //  how many there are, and room
    uint64_t view_epoch, view_seq;              //  the newest token a status showed us
};

static uint64_t
s_now (void)
{
    return (uint64_t) zclock_mono ();
}

static void
s_log (worm_jobclient_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_log (worm_jobclient_t *self, const char *fmt, ...)
{
    if (!self->on_log)
        return;
    char line[320];
    va_list args;
    va_start (args, fmt);
    vsnprintf (line, sizeof line, fmt, args);
    va_end (args);
    self->on_log (self->arg, line);
}

//  The segment's name for the log: its id, or its endpoint before it said.
static const char *
s_name (const s_seg_t *seg)
{
    return seg->id[0] ? seg->id : seg->endpoint;
}

static s_seg_t *
s_seg_at (worm_jobclient_t *self, const char *endpoint)
{
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++)
        if (self->segs[i].used && strcmp (self->segs[i].endpoint, endpoint) == 0)
            return &self->segs[i];
    return NULL;
}

static s_seg_t *
s_connect (worm_jobclient_t *self, const char *endpoint, char *err, size_t cap)
{
    s_seg_t *seg = NULL;
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS && !seg; i++)
        if (!self->segs[i].used)
            seg = &self->segs[i];
    if (!seg) {
        snprintf (err, cap, "more than %d segments", WORM_JOBCLIENT_MAX_SEGMENTS);
        return NULL;
    }
    zsock_t *sock = worm_ctl_connect (endpoint, self->worm_key, err, cap);
    if (!sock)
        return NULL;
    *seg = (s_seg_t) {.used = true, .sock = sock, .heard_ms = s_now ()};
    snprintf (seg->endpoint, sizeof seg->endpoint, "%s", endpoint);
    zpoller_add (self->poller, sock);
    return seg;
}

//  seg is gone: its units go back to the queue, its socket is closed.
static void
s_drop (worm_jobclient_t *self, s_seg_t *seg, const char *why)
{
    size_t back = seg->id[0] ? worm_jobq_lost (self->queue, seg->id) : 0;
    if (back)
        s_log (self, "segment %s %s: %zu unit%s back to the queue", s_name (seg), why, back,
               back == 1 ? "" : "s");
    else
        s_log (self, "segment %s %s", s_name (seg), why);
    zpoller_remove (self->poller, seg->sock);
    zsock_destroy (&seg->sock);
    free (seg->parts.data);
    seg->parts = (s_parts_t) {0};
    seg->used = false;
}

static void
s_send (s_seg_t *seg, worm_wire_writer_t *w)
{
    zframe_t *frame = zframe_new (worm_wire_writer_data (w), worm_wire_writer_size (w));
    if (zframe_send (&frame, seg->sock, ZFRAME_DONTWAIT))
        zframe_destroy (&frame);
    worm_wire_writer_fini (w);
}

//  {"op": "app", "verb": verb, "job": job, ...}: opens the map, the caller closes it.
static void
s_app_request (worm_jobclient_t *self, worm_wire_writer_t *w, const char *verb)
{
    worm_wire_writer_init (w);
    worm_wire_map_open (w);
    worm_wire_kstr (w, "op", "app");
    worm_wire_kstr (w, "verb", verb);
    worm_wire_kstr (w, "job", self->job);
}

static void
s_send_cancel (worm_jobclient_t *self, s_seg_t *seg, const uint64_t *units, size_t count)
{
    worm_wire_writer_t w;
    s_app_request (self, &w, "job.cancel");
    if (units) {
        worm_wire_key (&w, "units");
        worm_wire_array (&w, count);
        for (size_t i = 0; i < count; i++)
            worm_wire_u64 (&w, units[i]);
    }
    worm_wire_map_close (&w);
    s_send (seg, &w);
}

worm_jobclient_t *
worm_jobclient_new (const worm_jobclient_config_t *config, char *err, size_t cap)
{
    if (!config->endpoints || !config->endpoints[0]) {
        snprintf (err, cap, "worm %s has no segment to send work to", config->worm);
        return NULL;
    }
    worm_jobclient_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, cap, "out of memory");
        return NULL;
    }
    snprintf (self->worm, sizeof self->worm, "%s", config->worm);
    snprintf (self->app, sizeof self->app, "%s", config->app ? config->app : "");
    snprintf (self->worm_key, sizeof self->worm_key, "%s", config->worm_key);
    snprintf (self->task, sizeof self->task, "%s", config->task);
    worm_random_hex (self->job, 16);
    self->lease_ms = config->lease_ms ? config->lease_ms : DEFAULT_LEASE_MS;
    self->on_log = config->on_log;
    self->arg = config->arg;
    self->refind = config->refind;
    self->refind_arg = config->refind_arg;
    self->queue = worm_jobq_new (self->lease_ms);
    self->poller = zpoller_new (NULL);
    if (!self->queue || !self->poller) {
        snprintf (err, cap, "out of memory");
        worm_jobclient_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; config->endpoints[i]; i++)
        if (!s_seg_at (self, config->endpoints[i])
            && !s_connect (self, config->endpoints[i], err, cap)) {
            worm_jobclient_destroy (&self);
            return NULL;
        }
    return self;
}

void
worm_jobclient_destroy (worm_jobclient_t **self_p)
{
    worm_jobclient_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++) {
        s_seg_t *seg = &self->segs[i];
        if (!seg->used)
            continue;
        if (seg->id[0] && worm_jobq_holding (self->queue, seg->id))
            s_send_cancel (self, seg, NULL, 0);
        //  Give the cancel a moment to leave before the socket closes
        zsock_set_linger (seg->sock, 200);
        zsock_destroy (&seg->sock);
        free (seg->parts.data);
    }
    zpoller_destroy (&self->poller);
    worm_jobq_destroy (&self->queue);
    free (self->overheads);
    free (self);
    *self_p = NULL;
}

uint64_t
worm_jobclient_add (worm_jobclient_t *self, uint64_t group, const void *body, size_t size)
{
    return worm_jobq_add (self->queue, group, body, size);
}

static void
s_cancel_leased (void *arg, const worm_unit_t *unit)
{
    worm_jobclient_t *self = arg;
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++)
        if (self->segs[i].used && strcmp (self->segs[i].id, unit->holder) == 0)
            s_send_cancel (self, &self->segs[i], &unit->id, 1);
}

size_t
worm_jobclient_cancel (worm_jobclient_t *self, uint64_t group)
{
    return worm_jobq_cancel (self->queue, group, s_cancel_leased, self);
}

worm_jobq_counts_t
worm_jobclient_counts (worm_jobclient_t *self)
{
    return worm_jobq_counts (self->queue);
}

size_t
worm_jobclient_segments (worm_jobclient_t *self)
{
    size_t n = 0;
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++)
        n += self->segs[i].used && self->segs[i].id[0] && !self->segs[i].leaving
             && !self->segs[i].silent;
    return n;
}

//  Every PING_MS: job.held to each segment, status to one in turn (to every
//  one that has not said who it is); a segment silent for a lease is gone.
static void
s_ping (worm_jobclient_t *self, uint64_t now)
{
    if (now < self->next_ping_ms)
        return;
    self->next_ping_ms = now + PING_MS;
    size_t status_to = self->status_next++ % WORM_JOBCLIENT_MAX_SEGMENTS;
    bool asked_status = false;
    for (size_t n = 0; n < WORM_JOBCLIENT_MAX_SEGMENTS; n++) {
        size_t i = (status_to + n) % WORM_JOBCLIENT_MAX_SEGMENTS;
        s_seg_t *seg = &self->segs[i];
        if (!seg->used)
            continue;
        double silent_s = (double) (now - seg->heard_ms) / 1000;
        uint64_t gone_ms = self->lease_ms > GONE_MS ? self->lease_ms : GONE_MS;
        if (now > seg->heard_ms + gone_ms) {
            char why[64];
            snprintf (why, sizeof why, "is silent for %.1f s: dropped", silent_s);
            s_drop (self, seg, why);
            continue;
        }
        if (now > seg->heard_ms + self->lease_ms && !seg->silent) {
            seg->silent = true;
            size_t back = seg->id[0] ? worm_jobq_lost (self->queue, seg->id) : 0;
            s_log (self, "segment %s is silent for %.1f s: %zu unit%s back to the queue; asked "
                         "on for %.0f s",
                   s_name (seg), silent_s, back, back == 1 ? "" : "s",
                   (double) (gone_ms - self->lease_ms) / 1000);
        }
        worm_wire_writer_t w;
        if (!seg->id[0] || !asked_status) {
            asked_status = true;
            worm_wire_writer_init (&w);
            worm_wire_map_open (&w);
            worm_wire_kstr (&w, "op", "status");
            worm_wire_map_close (&w);
            s_send (seg, &w);
        }
        if (seg->id[0]) {
            s_app_request (self, &w, "job.held");
            worm_wire_ku64 (&w, "at", now);
            worm_wire_map_close (&w);
            s_send (seg, &w);
        }
    }
    size_t lapsed = worm_jobq_expire (self->queue, now);
    if (lapsed)
        s_log (self, "%zu lease%s lapsed: back to the queue", lapsed, lapsed == 1 ? "" : "s");
}

//  The segment taking units that holds the fewest, under WORM_JOB_SLOTS (NULL:
//  none).
//  One that said it is busy (its slots still hold cancelled units) is left
//  alone for BUSY_MS; one that leaves gets none, nor one quiet for QUIET_MS.
static s_seg_t *
s_least_busy (worm_jobclient_t *self, uint64_t now)
{
    s_seg_t *best = NULL;
    size_t best_held = WORM_JOB_SLOTS;
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++) {
        s_seg_t *seg = &self->segs[i];
        if (!seg->used || !seg->id[0] || seg->leaving || seg->busy_until_ms > now
            || now > seg->heard_ms + QUIET_MS)
            continue;
        size_t held = worm_jobq_holding (self->queue, seg->id);
        if (held < best_held) {
            best = seg;
            best_held = held;
        }
    }
    return best;
}

//  Leases queued units, each to the least busy segment, so that units
//  spread over the segments before any gets a second one to wait in line.
static void
s_dispatch (worm_jobclient_t *self, uint64_t now)
{
    s_seg_t *seg;
    while ((seg = s_least_busy (self, now))) {
        const worm_unit_t *unit = worm_jobq_lease (self->queue, seg->id, now);
        if (!unit)
            return;
        if (unit->leases > 1)
            s_log (self, "unit %" PRIu64 " reassigned to segment %s (lease %u)", unit->id, seg->id,
                   unit->leases);
        worm_wire_writer_t w;
        s_app_request (self, &w, "job.run");
        worm_wire_ku64 (&w, "unit", unit->id);
        worm_wire_kstr (&w, "task", self->task);
        worm_wire_kbin (&w, "body", unit->body, unit->size);
        worm_wire_ku64 (&w, "sent_us", (uint64_t) zclock_usecs ());
        worm_wire_map_close (&w);
        s_send (seg, &w);
    }
}

//  A status reply: who seg is, the app, and the members of its copy of the
//  token (new ones are connected; those no longer listed are gone), when
//  that copy is the newest we have seen: a segment that has no token yet
//  (a joiner) or an older one (it has not been around the ring since) does
//  not know who joined since.
static void
s_on_status (worm_jobclient_t *self, s_seg_t *seg, worm_wire_reader_t *r)
{
    char id[WORM_JOBQ_HOLDER_MAX], app[WORM_TOKEN_NAME_MAX];
    if (worm_wire_get_str (r, r->root, "id", id, sizeof id) == 0 && !seg->id[0]) {
        snprintf (seg->id, sizeof seg->id, "%s", id);
        s_log (self, "segment %s at %s takes units", seg->id, seg->endpoint);
    }
    if (self->app[0] && worm_wire_get_str (r, r->root, "app", app, sizeof app) == 0
        && strcmp (app, self->app) != 0) {
        snprintf (self->stopped, sizeof self->stopped, "worm %s runs app %s, not %s", self->worm,
                  app, self->app);
        return;
    }
    uint64_t epoch = 0, seq = 0;
    worm_wire_get_u64 (r, r->root, "epoch", &epoch);
    worm_wire_get_u64 (r, r->root, "seq", &seq);
    if (epoch == 0 || epoch < self->view_epoch
        || (epoch == self->view_epoch && seq < self->view_seq))
        return;
    self->view_epoch = epoch;
    self->view_seq = seq;
    const msgpack_object_array *members;
    if (worm_wire_get_array (r, r->root, "members", &members, WORM_TOKEN_MAX_MEMBERS) != 0)
        return;
    char endpoints[WORM_TOKEN_MAX_MEMBERS][WORM_TOKEN_ENDPOINT_MAX];
    size_t count = 0;
    for (uint32_t i = 0; i < members->size; i++) {
        if (members->ptr[i].type != MSGPACK_OBJECT_MAP
            || worm_wire_get_str (r, &members->ptr[i], "endpoint", endpoints[count],
                                  sizeof endpoints[count]) != 0)
            continue;
        if (!s_seg_at (self, endpoints[count])) {
            char err[160];
            if (s_connect (self, endpoints[count], err, sizeof err))
                s_log (self, "segment at %s joined the worm", endpoints[count]);
            else
                s_log (self, "segment at %s: %s", endpoints[count], err);
        }
        count++;
    }
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++) {
        s_seg_t *other = &self->segs[i];
        if (!other->used || !other->id[0])
            continue;
        bool listed = false;
        for (size_t j = 0; j < count && !listed; j++)
            listed = strcmp (endpoints[j], other->endpoint) == 0;
        if (!listed)
            s_drop (self, other, "is no longer in the worm");
    }
}

static void
s_on_held (worm_jobclient_t *self, s_seg_t *seg, worm_wire_reader_t *r, uint64_t now)
{
    bool leaving = false;
    worm_wire_get_bool (r, r->root, "leaving", &leaving);
    const msgpack_object_array *units;
    if (worm_wire_get_array (r, r->root, "units", &units, WORM_JOBQ_HOLDER_MAX) != 0)
        return;
    uint64_t ids[WORM_JOBQ_HOLDER_MAX];
    size_t count = 0;
    for (uint32_t i = 0; i < units->size && count < WORM_JOBQ_HOLDER_MAX; i++)
        if (units->ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            ids[count++] = units->ptr[i].via.u64;
    //  The question's time comes back with the answer: a unit leased after
    //  it may not have reached the segment when it answered
    uint64_t asked = 0;
    if (worm_wire_get_u64 (r, r->root, "at", &asked) != 0)
        return;
    size_t back = worm_jobq_held (self->queue, seg->id, ids, count, asked, now);
    if (back)
        s_log (self, "segment %s lost %zu unit%s: back to the queue", seg->id, back,
               back == 1 ? "" : "s");
    if (leaving && !seg->leaving) {
        seg->leaving = true;
        s_log (self, "segment %s is leaving the worm", seg->id);
    }
}

//  What a result's round trip cost beyond its compute and its wait at the
//  segment (the segment echoes our stamp: no clocks are compared)
static void
s_note_overhead (worm_jobclient_t *self, worm_wire_reader_t *r, uint64_t compute_us)
{
    uint64_t sent_us = 0, wait_us = 0;
    if (worm_wire_get_u64 (r, r->root, "sent_us", &sent_us) != 0)
        return;
    worm_wire_get_u64 (r, r->root, "wait_us", &wait_us);
    uint64_t now = (uint64_t) zclock_usecs ();
    if (sent_us > now || now - sent_us < compute_us + wait_us)
        return;     //  not our stamp
    if (self->overhead_count == self->overhead_cap) {
        size_t cap = self->overhead_cap ? 2 * self->overhead_cap : 256;
        uint64_t *grown = realloc (self->overheads, cap * sizeof *grown);
        if (!grown)
            return;
        self->overheads = grown;
        self->overhead_cap = cap;
    }
    self->overheads[self->overhead_count++] = now - sent_us - compute_us - wait_us;
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

size_t
worm_jobclient_overhead (worm_jobclient_t *self, uint64_t pct[3])
{
    pct[0] = pct[1] = pct[2] = 0;
    size_t n = self->overhead_count;
    if (!n)
        return 0;
    qsort (self->overheads, n, sizeof *self->overheads, s_cmp_u64);
    const unsigned at[3] = {50, 95, 99};
    for (int i = 0; i < 3; i++) {
        size_t rank = (n * at[i] + 99) / 100;       //  the nearest-rank percentile
        pct[i] = self->overheads[rank ? rank - 1 : 0];
    }
    return n;
}

void
worm_jobclient_log_overhead (worm_jobclient_t *self, const char *what)
{
    uint64_t pct[3];
    size_t measured = worm_jobclient_overhead (self, pct);
    if (measured)
        s_log (self,
               "overhead per %s (round trip - compute - wait at the segment), %zu %s%s: "
               "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms",
               what, measured, what, measured == 1 ? "" : "s", pct[0] / 1e3, pct[1] / 1e3,
               pct[2] / 1e3);
}

//  One part of unit's result from seg: its size bytes at offset of total.
//  Returns the whole result (malloc'd, the caller's) once its last part is
//  in, else NULL. A part that does not follow the one before (one was lost
//  on the way) drops what came so far: the segment no longer holds the
//  unit, so its next job.held answer sends the unit back to the queue.
static void *
s_gather (worm_jobclient_t *self, s_seg_t *seg, uint64_t unit, const void *data, size_t size,
          uint64_t offset, uint64_t total)
{
    s_parts_t *parts = &seg->parts;
    if (offset == 0) {
        if (parts->unit)
            s_log (self, "unit %" PRIu64 ": segment %s broke off its result at %zu of %zu bytes",
                   parts->unit, seg->id, parts->have, parts->total);
        free (parts->data);
        *parts = (s_parts_t) {0};
        if (total > WORM_JOB_RESULT_MAX || size > total) {
            s_log (self, "unit %" PRIu64 ": segment %s announced a result of %" PRIu64
                   " bytes (at most %d): dropped", unit, seg->id, total, WORM_JOB_RESULT_MAX);
            return NULL;
        }
        if (!(parts->data = malloc (total ? total : 1))) {
            s_log (self, "unit %" PRIu64 ": no memory for a result of %" PRIu64 " bytes", unit,
                   total);
            return NULL;
        }
        *parts = (s_parts_t) {.unit = unit, .data = parts->data, .total = total};
    }
    else if (parts->unit != unit || offset != parts->have || total != parts->total
             || size > parts->total - parts->have) {
        if (parts->unit)
            s_log (self, "unit %" PRIu64 ": a part of segment %s's result is missing: dropped",
                   parts->unit, seg->id);
        free (parts->data);
        *parts = (s_parts_t) {0};
        return NULL;
    }
    if (size)
        memcpy (parts->data + parts->have, data, size);
    parts->have += size;
    if (parts->have < parts->total)
        return NULL;
    void *whole = parts->data;
    *parts = (s_parts_t) {0};
    return whole;
}

//  A job.run answer. Returns true when it is an event for the caller.
static bool
s_on_run (worm_jobclient_t *self, s_seg_t *seg, worm_wire_reader_t *r, bool ok,
          worm_job_event_t *event)
{
    uint64_t unit = 0;
    if (worm_wire_get_u64 (r, r->root, "unit", &unit) != 0)
        return false;
    const worm_unit_t *u = worm_jobq_unit (self->queue, unit);
    if (!u)
        return false;
    if (!ok) {
        char error[WORM_JOBCLIENT_ERROR_MAX] = "";
        bool retry = false;
        worm_wire_get_str (r, r->root, "error", error, sizeof error);
        worm_wire_get_bool (r, r->root, "retry", &retry);
        if (retry) {
            //  Not run there (busy, leaving, cancelled): lease it elsewhere,
            //  and not to seg again at once (it would answer the same)
            bool leaving = false;
            worm_wire_get_bool (r, r->root, "leaving", &leaving);
            if (leaving && !seg->leaving) {
                seg->leaving = true;
                s_log (self, "segment %s is leaving the worm", seg->id);
            }
            else if (!leaving)
                seg->busy_until_ms = s_now () + BUSY_MS;
            if (u->state == WORM_UNIT_LEASED && strcmp (u->holder, seg->id) == 0) {
                worm_jobq_give_back (self->queue, unit);
                s_log (self, "unit %" PRIu64 " back to the queue: %s", unit, error);
            }
            return false;
        }
        if (worm_jobq_done (self->queue, unit, seg->id) != 0)
            return false;
        *event = (worm_job_event_t) {.kind = WORM_JOB_FAILED, .unit = unit, .group = u->group};
        snprintf (event->error, sizeof event->error, "%s", error);
        snprintf (event->segment, sizeof event->segment, "%s", seg->id);
        return true;
    }
    const void *data = NULL;
    size_t size = 0;
    if (worm_wire_get_bin (r, r->root, "result", &data, &size, WORM_CTL_MAX) != 0)
        return false;
    uint64_t offset = 0, total = size;
    worm_wire_get_u64 (r, r->root, "offset", &offset);
    worm_wire_get_u64 (r, r->root, "total", &total);
    void *whole = NULL;         //  the result put together, when it came in parts
    if (offset != 0 || total != size) {
        if (u->state == WORM_UNIT_DONE || u->state == WORM_UNIT_CANCELLED) {
            if (offset == 0)
                s_log (self, "unit %" PRIu64 ": a late result from segment %s, dropped", unit,
                       seg->id);
            return false;
        }
        if (!(whole = s_gather (self, seg, unit, data, size, offset, total)))
            return false;
        data = whole;
        size = total;
    }
    int rc = worm_jobq_done (self->queue, unit, seg->id);
    if (rc != 0) {
        s_log (self, "unit %" PRIu64 ": a late result from segment %s, dropped", unit, seg->id);
        free (whole);
        return false;
    }
    *event = (worm_job_event_t) {.kind = WORM_JOB_RESULT, .unit = unit, .group = u->group,
                                 .size = size};
    worm_wire_get_u64 (r, r->root, "compute_us", &event->compute_us);
    s_note_overhead (self, r, event->compute_us);
    if (whole)
        event->data = whole;
    else if ((event->data = malloc (size ? size : 1)) && size)
        memcpy (event->data, data, size);
    snprintf (event->segment, sizeof event->segment, "%s", seg->id);
    return true;
}

//  One answer from seg. Returns true when it is an event for the caller.
static bool
s_on_answer (worm_jobclient_t *self, s_seg_t *seg, uint64_t now, worm_job_event_t *event)
{
    zframe_t *frame = zframe_recv (seg->sock);
    if (!frame)
        return false;
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    bool is_event = false;
    if (worm_wire_parse (&r, zframe_data (frame), zframe_size (frame), WORM_CTL_MAX) == 0) {
        seg->heard_ms = now;
        if (seg->silent) {
            seg->silent = false;
            s_log (self, "segment %s answers again", s_name (seg));
        }
        char verb[32] = "";
        bool ok = false;
        worm_wire_get_bool (&r, r.root, "ok", &ok);
        worm_wire_get_str (&r, r.root, "verb", verb, sizeof verb);
        if (strcmp (verb, "job.run") == 0)
            is_event = s_on_run (self, seg, &r, ok, event);
        else if (strcmp (verb, "job.held") == 0)
            s_on_held (self, seg, &r, now);
        else if (!verb[0] && worm_wire_field (r.root, "members"))
            s_on_status (self, seg, &r);
        else if (!verb[0] && !ok) {
            char error[200] = "";
            worm_wire_get_str (&r, r.root, "error", error, sizeof error);
            snprintf (self->stopped, sizeof self->stopped, "segment %s of worm %s: %s",
                      s_name (seg), self->worm, error);
        }
    }
    worm_wire_reader_fini (&r);
    zframe_destroy (&frame);
    return is_event;
}

//  While no segment the job knows answers, asks the caller's refind for
//  the worm's segments (at most every WORM_JOBCLIENT_REFIND_MS) and
//  connects those it does not know.
static void
s_refind (worm_jobclient_t *self, uint64_t now)
{
    if (!self->refind || now < self->next_refind_ms)
        return;
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++)
        if (self->segs[i].used && now - self->segs[i].heard_ms < QUIET_MS)
            return;     //  someone answers: the status replies find the rest
    self->next_refind_ms = now + WORM_JOBCLIENT_REFIND_MS;
    static char found[WORM_JOBCLIENT_MAX_SEGMENTS][WORM_TOKEN_ENDPOINT_MAX];
    int count = self->refind (self->refind_arg, found, WORM_JOBCLIENT_MAX_SEGMENTS);
    for (int i = 0; i < count && i < WORM_JOBCLIENT_MAX_SEGMENTS; i++) {
        found[i][WORM_TOKEN_ENDPOINT_MAX - 1] = 0;
        if (s_seg_at (self, found[i]))
            continue;
        char err[160];
        if (s_connect (self, found[i], err, sizeof err))
            s_log (self, "segment at %s found through the host agents", found[i]);
        else
            s_log (self, "segment at %s: %s", found[i], err);
    }
}

static bool
s_any_segment (worm_jobclient_t *self)
{
    for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++)
        if (self->segs[i].used)
            return true;
    return false;
}

//  Reads the answers already in, without waiting (at most DRAIN_MAX).
//  Returns true when one of them is an event for the caller.
static bool
s_drain (worm_jobclient_t *self, worm_job_event_t *event)
{
    for (int n = 0; n < DRAIN_MAX; n++) {
        zsock_t *which = zpoller_wait (self->poller, 0);
        if (!which)
            return false;
        for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++)
            if (self->segs[i].used && self->segs[i].sock == which) {
                if (s_on_answer (self, &self->segs[i], s_now (), event))
                    return true;
                break;
            }
    }
    return false;
}

void
worm_jobclient_wait (worm_jobclient_t *self, int timeout_ms, worm_job_event_t *event)
{
    memset (event, 0, sizeof *event);
    uint64_t deadline = s_now () + (uint64_t) (timeout_ms > 0 ? timeout_ms : 0);
    while (true) {
        uint64_t now = s_now ();
        if (zsys_interrupted) {
            for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++)
                if (self->segs[i].used && self->segs[i].id[0])
                    s_send_cancel (self, &self->segs[i], NULL, 0);
            event->kind = WORM_JOB_INTERRUPTED;
            return;
        }
        s_ping (self, now);
        s_refind (self, now);
        if (!self->stopped[0] && !s_any_segment (self))
            snprintf (self->stopped, sizeof self->stopped, "worm %s has no live segment left",
                      self->worm);
        if (self->stopped[0]) {
            event->kind = WORM_JOB_STOPPED;
            snprintf (event->error, sizeof event->error, "%s", self->stopped);
            return;
        }
        s_dispatch (self, now);
        if (worm_jobq_idle (self->queue)) {
            //  Nothing leased, so no answer is an event: read what came
            //  (status, job.held), so that a job idle for a while still
            //  hears its segments and does not drop them as silent
            if (s_drain (self, event))
                return;
            event->kind = WORM_JOB_IDLE;
            return;
        }
        if (now >= deadline) {
            event->kind = WORM_JOB_TIMEOUT;
            return;
        }
        uint64_t until = deadline < self->next_ping_ms ? deadline : self->next_ping_ms;
        int wait = until > now ? (int) (until - now) : 0;
        if (wait > WORM_CTL_SLICE_MS)
            wait = WORM_CTL_SLICE_MS;       //  to see zsys_interrupted soon
        zsock_t *which = zpoller_wait (self->poller, wait);
        if (!which)
            continue;
        for (int i = 0; i < WORM_JOBCLIENT_MAX_SEGMENTS; i++)
            if (self->segs[i].used && self->segs[i].sock == which) {
                if (s_on_answer (self, &self->segs[i], s_now (), event))
                    return;
                break;
            }
    }
}
