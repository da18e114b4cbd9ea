/*  job.h — the segment's half of the job layer.

    A client runs a job by leasing units to segments (worm/jobq.h keeps its
    queue; docs/PROTOCOL.md, "Jobs"). Here a segment takes the units a
    client sends it through the `app` op (verb "job.run"), runs them on its
    worker (segments/worker.h: never on the ring's thread) and sends each
    result back to that client when it is done, in parts of at most
    WORM_JOB_PART_MAX bytes (worm/joblimits.h); "job.held" tells the client
    which of its units the segment holds (and is the client's heartbeat),
    "job.cancel" drops units. A job whose client has not been heard for
    WORM_JOB_CLIENT_TIMEOUT_MS is dropped (a client that died leaves nothing
    running), and a segment that leaves the worm gives every unit back at
    once. All calls run on the segment's reactor thread and never wait.
*/
#ifndef WORM_JOB_H_INCLUDED
#define WORM_JOB_H_INCLUDED

#include "joblimits.h"
#include "wire.h"
#include "worker.h"

#include <czmq.h>

#define WORM_JOB_ID_MAX 64                  //  bytes of a job id, NUL included
#define WORM_JOB_VERB_MAX 64                //  bytes of a verb or a task name, NUL included
#define WORM_JOB_BODY_MAX (192 * 1024)      //  bytes of a unit's body
#define WORM_JOB_HELD_MAX 64                //  unit ids in a job.held or job.cancel
#define WORM_JOB_CLIENT_TIMEOUT_MS 10000    //  a job's client silent this long is gone

typedef struct worm_jobs_t worm_jobs_t;

/*  The job half of segment id, running units through fn (arg) on a worker.
    NULL when the worker cannot start. */
worm_jobs_t *worm_jobs_new (const char *id, worm_task_fn *fn, void *arg);
void worm_jobs_destroy (worm_jobs_t **self_p);

/*  Runs every unit in a process of its own, the program argv
    (worm_worker_isolate). Returns 0, or -1 for a bad argv. */
int worm_jobs_isolate (worm_jobs_t *self, char *const argv[]);

/*  Whether verb is one of the job layer's ("job.run", "job.held", "job.cancel"). */
bool worm_jobs_verb (const char *verb);

/*  Serves one app request of a job verb, already checked against the
    segment's table (fields verb, job, unit, task, body, units), from the
    client behind identity on router. job.run is answered when its unit is
    done, or at once when it is refused (no slot, leaving, a bad field);
    the others at once. */
void worm_jobs_request (worm_jobs_t *self, zsock_t *router, zframe_t *identity,
                        worm_wire_reader_t *request, uint64_t now_ms);

/*  The socket to poll for finished units, and what to call when it is
    readable: sends each result to its client. */
zsock_t *worm_jobs_sock (worm_jobs_t *self);
void worm_jobs_on_result (worm_jobs_t *self, zsock_t *router);

/*  Drops the jobs whose client has been silent too long (their units are
    cancelled, no answer is sent). Call now and then. */
void worm_jobs_tick (worm_jobs_t *self, uint64_t now_ms);

/*  The segment leaves the worm: every unit held is cancelled and answered
    "leaving", so its client leases it elsewhere at once; new units are
    refused. */
void worm_jobs_leave (worm_jobs_t *self, zsock_t *router);

/*  Units held now (waiting or running). */
size_t worm_jobs_held (worm_jobs_t *self);

#endif
