/*  job.c — the segment's half of the job layer. See job.h and
    docs/PROTOCOL.md, "Jobs". */
#include "job.h"
#include "ctl.h"
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  Units on the worker: the live ones (at most WORM_JOB_SLOTS) and the
//  cancelled ones it has not given back yet
#define ENTRIES (2 * WORM_JOB_SLOTS)

typedef struct {
    bool used;                      //  this entry holds a unit
    uint64_t tag;                   //  its tag on the worker
    char job[WORM_JOB_ID_MAX];      //  the job it belongs to
    uint64_t unit;                  //  the client's unit id
    zframe_t *identity;             //  the client's connection, for the answer
    bool cancelled;                 //  no longer wanted: it does not count as held
    bool answered;                  //  its client has had its answer already
    uint64_t heard_ms;              //  when its client last spoke (job.run, job.held)
    uint64_t sent_us;               //  the client's stamp on the job.run, echoed (0: none)
} s_entry_t;

//  How a unit's time went here, for the client's overhead figures
typedef struct {
    uint64_t compute_us;            //  the task ran this long
    uint64_t wait_us;               //  it waited this long for the worker first
    uint64_t sent_us;               //  the client's stamp, echoed (0: none)
} s_times_t;

struct worm_jobs_t {
    char id[WORM_JOB_ID_MAX];       //  our segment id, for the client's log
    worm_worker_t *worker;          //  where units run
    s_entry_t entries[ENTRIES];     //  the units given to the worker
    uint64_t next_tag;              //  the tag of the next unit
    bool leaving;                   //  we leave the worm: no new units
};

worm_jobs_t *
worm_jobs_new (const char *id, worm_task_fn *fn, void *arg)
{
    worm_jobs_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->id, sizeof self->id, "%s", id);
    self->worker = worm_worker_new (fn, arg);
    if (!self->worker) {
        free (self);
        return NULL;
    }
    return self;
}

void
worm_jobs_destroy (worm_jobs_t **self_p)
{
    worm_jobs_t *self = *self_p;
    if (!self)
        return;
    worm_worker_destroy (&self->worker);
    for (int i = 0; i < ENTRIES; i++)
        zframe_destroy (&self->entries[i].identity);
    free (self);
    *self_p = NULL;
}

int
worm_jobs_isolate (worm_jobs_t *self, char *const argv[])
{
    return worm_worker_isolate (self->worker, argv);
}

bool
worm_jobs_verb (const char *verb)
{
    return strcmp (verb, "job.run") == 0 || strcmp (verb, "job.held") == 0
           || strcmp (verb, "job.cancel") == 0;
}

zsock_t *
worm_jobs_sock (worm_jobs_t *self)
{
    return worm_worker_sock (self->worker);
}

size_t
worm_jobs_held (worm_jobs_t *self)
{
    size_t held = 0;
    for (int i = 0; i < ENTRIES; i++)
        held += self->entries[i].used && !self->entries[i].cancelled;
    return held;
}

//  The answer to a job.run: its result (error NULL), in parts of at most
//  WORM_JOB_PART_MAX bytes that each say where they go (offset) in how
//  many (total), all sent at once so nothing comes between them on the
//  connection; or its failure. A retry answer means the unit did not run
//  here (busy, leaving, cancelled) and may run elsewhere (with `leaving`
//  when no unit will run here again); a failure without it is the app's
//  verdict.
static void
s_answer_run (const worm_jobs_t *self, zsock_t *router, zframe_t *identity, const char *job,
              uint64_t unit, const void *result, size_t size, const char *error, bool retry,
              s_times_t times)
{
    char too_big[96];
    if (!error && size > WORM_JOB_RESULT_MAX) {
        snprintf (too_big, sizeof too_big, "a result of %zu bytes is above the limit of %d",
                  size, WORM_JOB_RESULT_MAX);
        error = too_big;
        retry = false;
    }
    size_t offset = 0;
    do {
        size_t part = error ? 0 : size - offset < WORM_JOB_PART_MAX ? size - offset
                                                                    : WORM_JOB_PART_MAX;
        worm_wire_writer_t w;
        worm_wire_writer_init (&w);
        worm_wire_map_open (&w);
        worm_wire_kbool (&w, "ok", error == NULL);
        worm_wire_kstr (&w, "verb", "job.run");
        worm_wire_kstr (&w, "job", job);
        worm_wire_ku64 (&w, "unit", unit);
        if (error) {
            worm_wire_kstr (&w, "error", error);
            worm_wire_kbool (&w, "retry", retry);
            worm_wire_kbool (&w, "leaving", self->leaving);
        }
        else {
            worm_wire_kbin (&w, "result", part ? (const uint8_t *) result + offset : result,
                            part);
            worm_wire_ku64 (&w, "offset", offset);
            worm_wire_ku64 (&w, "total", size);
            worm_wire_ku64 (&w, "compute_us", times.compute_us);
            worm_wire_ku64 (&w, "wait_us", times.wait_us);
            if (times.sent_us)
                worm_wire_ku64 (&w, "sent_us", times.sent_us);
        }
        worm_wire_map_close (&w);
        worm_ctl_reply (router, identity, &w);
        worm_wire_writer_fini (&w);
        offset += part;
    } while (!error && offset < size);
}

static s_entry_t *
s_free_entry (worm_jobs_t *self)
{
    for (int i = 0; i < ENTRIES; i++)
        if (!self->entries[i].used)
            return &self->entries[i];
    return NULL;
}

static void
s_run (worm_jobs_t *self, zsock_t *router, zframe_t *identity, worm_wire_reader_t *r,
       const char *job, uint64_t now_ms)
{
    uint64_t unit = 0;
    char task[WORM_JOB_VERB_MAX] = "";
    const void *body = NULL;
    size_t size = 0;
    if (worm_wire_get_u64 (r, r->root, "unit", &unit) != 0
        || worm_wire_get_str (r, r->root, "task", task, sizeof task) != 0
        || worm_wire_get_bin (r, r->root, "body", &body, &size, WORM_JOB_BODY_MAX) < 0) {
        s_answer_run (self, router, identity, job, unit, NULL, 0, "job.run: needs unit, task and body",
                      false, (s_times_t) {0});
        return;
    }
    char error[160];
    s_entry_t *entry = NULL;
    if (self->leaving)
        snprintf (error, sizeof error, "segment %s is leaving the worm", self->id);
    else if (worm_jobs_held (self) >= WORM_JOB_SLOTS || !(entry = s_free_entry (self)))
        snprintf (error, sizeof error, "segment %s is busy (%d units held)", self->id,
                  WORM_JOB_SLOTS);
    else if (worm_worker_submit (self->worker, self->next_tag + 1, task, body, size) != 0) {
        snprintf (error, sizeof error, "task '%s' cannot be queued", task);
        entry = NULL;
    }
    if (!entry) {
        s_answer_run (self, router, identity, job, unit, NULL, 0, error, true, (s_times_t) {0});
        return;
    }
    uint64_t sent_us = 0;
    worm_wire_get_u64 (r, r->root, "sent_us", &sent_us);
    *entry = (s_entry_t) {.used = true, .tag = ++self->next_tag, .unit = unit,
                          .identity = zframe_dup (identity), .heard_ms = now_ms,
                          .sent_us = sent_us};
    snprintf (entry->job, sizeof entry->job, "%s", job);
}

//  job.held and job.cancel: the units of job named in "units" (none: all).
static bool
s_named (worm_wire_reader_t *r, uint64_t unit)
{
    const msgpack_object_array *units = NULL;
    if (worm_wire_get_array (r, r->root, "units", &units, WORM_JOB_HELD_MAX) != 0)
        return true;
    for (uint32_t i = 0; i < units->size; i++)
        if (units->ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER
            && units->ptr[i].via.u64 == unit)
            return true;
    return false;
}

static void
s_held_or_cancel (worm_jobs_t *self, zsock_t *router, zframe_t *identity, worm_wire_reader_t *r,
                  const char *verb, const char *job, uint64_t now_ms)
{
    bool cancel = strcmp (verb, "job.cancel") == 0;
    uint64_t units[ENTRIES];
    size_t count = 0;
    for (int i = 0; i < ENTRIES; i++) {
        s_entry_t *entry = &self->entries[i];
        if (!entry->used || entry->cancelled || strcmp (entry->job, job) != 0)
            continue;
        entry->heard_ms = now_ms;
        if (cancel && s_named (r, entry->unit)) {
            entry->cancelled = true;
            entry->answered = true;
            worm_worker_cancel (self->worker, entry->tag);
        }
        if (!entry->cancelled)
            units[count++] = entry->unit;
    }
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kbool (&w, "ok", true);
    worm_wire_kstr (&w, "verb", verb);
    worm_wire_kstr (&w, "job", job);
    worm_wire_kbool (&w, "leaving", self->leaving);
    uint64_t at = 0;
    if (worm_wire_get_u64 (r, r->root, "at", &at) == 0)
        worm_wire_ku64 (&w, "at", at);      //  the client's time of asking, back
    worm_wire_key (&w, "units");
    worm_wire_array (&w, count);
    for (size_t i = 0; i < count; i++)
        worm_wire_u64 (&w, units[i]);
    worm_wire_map_close (&w);
    worm_ctl_reply (router, identity, &w);
    worm_wire_writer_fini (&w);
}

void
worm_jobs_request (worm_jobs_t *self, zsock_t *router, zframe_t *identity,
                   worm_wire_reader_t *request, uint64_t now_ms)
{
    char verb[WORM_JOB_VERB_MAX] = "", job[WORM_JOB_ID_MAX] = "";
    worm_wire_get_str (request, request->root, "verb", verb, sizeof verb);
    if (worm_wire_get_str (request, request->root, "job", job, sizeof job) != 0 || !job[0]) {
        worm_ctl_reply_error (router, identity, "%s: needs a job id", verb);
        return;
    }
    if (strcmp (verb, "job.run") == 0)
        s_run (self, router, identity, request, job, now_ms);
    else
        s_held_or_cancel (self, router, identity, request, verb, job, now_ms);
}

void
worm_jobs_on_result (worm_jobs_t *self, zsock_t *router)
{
    worm_worker_result_t result;
    while (worm_worker_recv (self->worker, &result) == 0) {
        for (int i = 0; i < ENTRIES; i++) {
            s_entry_t *entry = &self->entries[i];
            if (!entry->used || entry->tag != result.tag)
                continue;
            if (!entry->answered)
                s_answer_run (self, router, entry->identity, entry->job, entry->unit, result.data,
                              result.size,
                              result.rc == 0 ? NULL : result.rc == 1 ? "cancelled" : result.error,
                              result.rc == 1,
                              (s_times_t) {.compute_us = result.run_us, .wait_us = result.wait_us,
                                           .sent_us = entry->sent_us});
            zframe_destroy (&entry->identity);
            entry->used = false;
        }
        free (result.data);
    }
}

void
worm_jobs_tick (worm_jobs_t *self, uint64_t now_ms)
{
    for (int i = 0; i < ENTRIES; i++) {
        s_entry_t *entry = &self->entries[i];
        if (entry->used && !entry->cancelled
            && now_ms > entry->heard_ms + WORM_JOB_CLIENT_TIMEOUT_MS) {
            worm_log ("job %s: its client is silent for %d s: unit %" PRIu64 " dropped",
                      entry->job, WORM_JOB_CLIENT_TIMEOUT_MS / 1000, entry->unit);
            entry->cancelled = true;
            entry->answered = true;
            worm_worker_cancel (self->worker, entry->tag);
        }
    }
}

void
worm_jobs_leave (worm_jobs_t *self, zsock_t *router)
{
    self->leaving = true;
    char error[160];
    snprintf (error, sizeof error, "segment %s is leaving the worm", self->id);
    for (int i = 0; i < ENTRIES; i++) {
        s_entry_t *entry = &self->entries[i];
        if (!entry->used || entry->answered)
            continue;
        s_answer_run (self, router, entry->identity, entry->job, entry->unit, NULL, 0, error, true,
                      (s_times_t) {0});
        entry->answered = true;
        entry->cancelled = true;
        worm_worker_cancel (self->worker, entry->tag);
    }
}
