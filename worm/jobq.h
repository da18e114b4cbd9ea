/*  jobq.h — a job's work units and their leases, kept by the client.

    The job layer's master is the client that submitted the job, as the
    Xerox worm's display was (../shared/DESIGN.md, "Jobs"; docs/PROTOCOL.md,
    "Jobs"). It holds this queue: every unit is queued, leased to one
    segment until a deadline, done, or cancelled. A segment that dies, is
    evicted or lets its lease lapse gives its units back to the queue, and
    they are leased again as they were (a unit is its bytes: the same unit
    wherever it runs). The first result of a unit counts; a later one is a
    duplicate and is dropped. Pure data with the time passed in, so it is
    tested without sockets; the client does the talking.
*/
#ifndef WORM_JOBQ_H_INCLUDED
#define WORM_JOBQ_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_JOBQ_HOLDER_MAX 48     //  bytes of a holder's name (a segment id), NUL included

typedef enum {
    WORM_UNIT_QUEUED,       //  waiting for a segment
    WORM_UNIT_LEASED,       //  running (or about to) on its holder until lease_until
    WORM_UNIT_DONE,         //  its first result came back
    WORM_UNIT_CANCELLED,    //  no longer wanted (its group was cancelled)
} worm_unit_state_t;

typedef struct {
    uint64_t id;                        //  the queue's id of the unit, from 1
    uint64_t group;                     //  the caller's group (e.g. the number it works on)
    worm_unit_state_t state;            //  where it is
    char holder[WORM_JOBQ_HOLDER_MAX];  //  LEASED: who runs it; else who ran it last ("" never)
    uint64_t leased_at;                 //  LEASED: when it was leased (ms)
    uint64_t lease_until;               //  LEASED: when the lease lapses unless renewed (ms)
    unsigned leases;                    //  how many times it was leased (2 and more: reassigned)
    void *body;                         //  the unit's bytes, owned by the queue
    size_t size;                        //  bytes of body
} worm_unit_t;

typedef struct worm_jobq_t worm_jobq_t;

/*  A queue whose leases last lease_ms unless renewed. */
worm_jobq_t *worm_jobq_new (uint64_t lease_ms);
void worm_jobq_destroy (worm_jobq_t **self_p);

/*  Queues a unit of group with a copy of body (size bytes). Returns its id,
    or 0 when out of memory. Units are leased in the order they were added,
    a unit given back going before the rest. */
uint64_t worm_jobq_add (worm_jobq_t *self, uint64_t group, const void *body, size_t size);

/*  Leases the next queued unit to holder until now_ms + lease. Returns the
    unit (the queue owns it; valid until the queue changes), or NULL when
    none is queued. */
const worm_unit_t *worm_jobq_lease (worm_jobq_t *self, const char *holder, uint64_t now_ms);

/*  holder answered at now_ms a question asked at asked_ms, saying it holds
    the units of ids (count of them): the leases of holder's units are
    renewed; a unit leased to holder before asked_ms and not in ids was lost
    there and goes back to the queue (one leased since may not have arrived
    when holder answered). Returns how many went back. */
size_t worm_jobq_held (worm_jobq_t *self, const char *holder, const uint64_t *ids, size_t count,
                       uint64_t asked_ms, uint64_t now_ms);

/*  Unit id, leased, was not run by its holder (it refused it): back to the
    queue. Returns 0, or -1 when the unit is not leased. */
int worm_jobq_give_back (worm_jobq_t *self, uint64_t id);

/*  A result of unit id came from holder. Returns 0 when it is the unit's
    first (the unit is now done; the caller takes the result), 1 when the
    unit was done or cancelled already (a late duplicate: drop it), -1 when
    no such unit was ever added. */
int worm_jobq_done (worm_jobq_t *self, uint64_t id, const char *holder);

/*  holder is gone (dead, evicted, left): every unit leased to it goes back
    to the queue. Returns how many. */
size_t worm_jobq_lost (worm_jobq_t *self, const char *holder);

/*  Every lease lapsed by now_ms goes back to the queue. Returns how many. */
size_t worm_jobq_expire (worm_jobq_t *self, uint64_t now_ms);

/*  Cancels every queued or leased unit of group. Calls on_leased (when not
    NULL) for each unit that was leased, before it is cancelled, so the caller
    can tell its holder to stop. Returns how many units were cancelled. */
size_t worm_jobq_cancel (worm_jobq_t *self, uint64_t group,
                         void (*on_leased) (void *arg, const worm_unit_t *unit), void *arg);

/*  The unit of id, or NULL. */
const worm_unit_t *worm_jobq_unit (worm_jobq_t *self, uint64_t id);

/*  Counts: units queued, leased, done; leases given after the first
    (reassignments). */
typedef struct {
    size_t queued;          //  waiting
    size_t leased;          //  running
    size_t done;            //  results taken
    size_t cancelled;       //  no longer wanted
    size_t reassigned;      //  leases of units leased before
} worm_jobq_counts_t;
worm_jobq_counts_t worm_jobq_counts (worm_jobq_t *self);

/*  Units leased to holder right now. */
size_t worm_jobq_holding (worm_jobq_t *self, const char *holder);

/*  Whether nothing is queued or leased. */
bool worm_jobq_idle (worm_jobq_t *self);

#endif
