/*  jobclient.h — the client's half of the job layer: the job's master.

    A batch app's client command (factor, render) adds units and takes
    results; this module leases the units to the worm's segments and keeps
    the leases honest (docs/PROTOCOL.md, "Jobs"). It keeps one CURVE DEALER
    per segment and, about every second, asks each segment which units of
    the job it holds (job.held: renews those leases, gives back those it
    lost) and one segment for the worm's members (status: a segment that
    joined gets work, one that is gone gives its units back). A lease not
    renewed for lease_ms lapses and its unit goes back to the queue; a
    segment silent for lease_ms gives back every unit it held and is asked
    on, and one silent for 15 s is dropped (the job stops when none is
    left); a segment that refuses a unit (busy, leaving) gives it back at once. A
    result that comes in parts (worm/joblimits.h) is put together here. The
    first result of a unit is handed to the caller, a later one dropped.
    The queue lives here, in the client, as the Xerox display held its
    frames: a client that dies takes the job with it, and the segments drop
    its units once it has been silent for WORM_JOB_CLIENT_TIMEOUT_MS.
*/
#ifndef WORM_JOBCLIENT_H_INCLUDED
#define WORM_JOBCLIENT_H_INCLUDED

#include "jobq.h"
#include "token.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_JOBCLIENT_MAX_SEGMENTS 64
#define WORM_JOBCLIENT_ERROR_MAX 256

typedef struct {
    const char *worm;               //  the worm's name, for messages
    const char *app;                //  the app it must run ("factor"); NULL: any
    const char *worm_key;           //  the worm's public key: every segment's server key
    const char *task;               //  the app's name for a unit's work ("ecm")
    const char *const *endpoints;   //  segments to start from (NULL-terminated)
    uint64_t lease_ms;              //  a lease lapses unless renewed this long (0: 5000)
    //  Optional: one line for the job's log (a unit given back, a segment gone)
    void (*on_log) (void *arg, const char *line);
    void *arg;                      //  on_log's argument
    //  Optional: finds the worm's segments afresh (through the host agents)
    //  while none of those the job knows answers (every one silent for
    //  three pings, or none left), at most every WORM_JOBCLIENT_REFIND_MS:
    //  writes up to cap endpoints, returns how many. The segments it names
    //  that the job does not know join the job: a worm whose members the
    //  job knew all went at once (a host cut off, an agent restarted) is
    //  found again through its new segments, not given up for lost
    int (*refind) (void *arg, char (*endpoints)[WORM_TOKEN_ENDPOINT_MAX], int cap);
    void *refind_arg;               //  refind's argument
} worm_jobclient_config_t;

#define WORM_JOBCLIENT_REFIND_MS 1000

typedef enum {
    WORM_JOB_RESULT,        //  a unit's first result: unit, group, data, size
    WORM_JOB_FAILED,        //  a unit failed in the app (a bad unit): unit, group, error
    WORM_JOB_IDLE,          //  nothing is queued or leased (answers that came were read)
    WORM_JOB_TIMEOUT,       //  the wait ended with nothing to report
    WORM_JOB_STOPPED,       //  the job cannot go on: error (no segment left, another app)
    WORM_JOB_INTERRUPTED,   //  zsys_interrupted was set; the segments were told to drop the job
} worm_job_event_kind_t;

typedef struct {
    worm_job_event_kind_t kind;             //  what happened
    uint64_t unit;                          //  RESULT, FAILED: the unit's id
    uint64_t group;                         //  RESULT, FAILED: its group
    void *data;                             //  RESULT: the result (owned by the caller: free)
    size_t size;                            //  RESULT: bytes of data
    uint64_t compute_us;                    //  RESULT: how long the segment computed
    char segment[WORM_JOBQ_HOLDER_MAX];     //  RESULT, FAILED: who ran it
    char error[WORM_JOBCLIENT_ERROR_MAX];   //  FAILED, STOPPED: why
} worm_job_event_t;

typedef struct worm_jobclient_t worm_jobclient_t;

/*  A master for a new job (its id random). The process's identity must be
    set (worm_ctl_set_identity). NULL with the reason in err when nothing
    can start (no endpoint, a bad key). */
worm_jobclient_t *worm_jobclient_new (const worm_jobclient_config_t *config, char *err,
                                      size_t cap);
/*  Tells every segment to drop the job's units (job.cancel) and closes
    the connections. */
void worm_jobclient_destroy (worm_jobclient_t **self_p);

/*  Queues a unit of group (copying body). Returns its id, or 0 when out of memory. */
uint64_t worm_jobclient_add (worm_jobclient_t *self, uint64_t group, const void *body,
                             size_t size);

/*  Cancels every unit of group: queued ones are dropped, segments running
    one are told to stop. Returns how many. */
size_t worm_jobclient_cancel (worm_jobclient_t *self, uint64_t group);

/*  Runs the job for at most timeout_ms and reports the first thing that
    happened into event (RESULT, FAILED, IDLE, TIMEOUT, STOPPED,
    INTERRUPTED). */
void worm_jobclient_wait (worm_jobclient_t *self, int timeout_ms, worm_job_event_t *event);

/*  The queue's counts, and how many segments take units now. */
worm_jobq_counts_t worm_jobclient_counts (worm_jobclient_t *self);
size_t worm_jobclient_segments (worm_jobclient_t *self);

/*  What the job layer cost a unit, over the results so far: from sending
    the unit to its result arriving, minus the time it computed and the time
    it waited at the segment behind another unit, in microseconds; pct gets
    the 50th, 95th and 99th percentiles. Returns how many results were
    measured (0: none, pct all 0). */
size_t worm_jobclient_overhead (worm_jobclient_t *self, uint64_t pct[3]);

/*  Says the overhead above in the job's log (on_log), as "overhead per
    WHAT (round trip - compute - wait at the segment), N WHATs: p50 … ms,
    p95 … ms, p99 … ms", what being the app's word for a unit ("unit",
    "frame"); nothing when no result was measured. */
void worm_jobclient_log_overhead (worm_jobclient_t *self, const char *what);

#endif
