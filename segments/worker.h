/*  worker.h — where a segment computes, off the ring's thread.

    The ring's timing (ack retries, campaign timeouts, the SIGTERM grace)
    assumes a thread that is never busy for more than a few milliseconds
    (../shared/DESIGN.md, "Jobs"), and a work unit (an ECM curve, a frame)
    takes seconds. So units run here: one actor thread, at nice 19 and
    SCHED_IDLE, that takes units in the order given and runs each through a
    task function, one at a time. The segment's reactor submits units, polls
    the worker's socket for results and cancels units it no longer wants;
    none of these calls waits for a unit to finish.
*/
#ifndef WORM_WORKER_H_INCLUDED
#define WORM_WORKER_H_INCLUDED

#include <czmq.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_TASK_ERROR_MAX 256     //  bytes of a task's error sentence, NUL included

/*  One unit as the task function sees it. */
typedef struct {
    const char *verb;                   //  what to do (the app's word)
    const void *body;                   //  the unit's bytes (read only)
    size_t size;                        //  bytes of body
    void *result;                       //  out: the result's bytes, malloc'd (the worker frees them)
    size_t result_size;                 //  out: bytes of result
    char error[WORM_TASK_ERROR_MAX];    //  out: on failure, one sentence why
    const atomic_bool *cancel;          //  becomes true when the unit is no longer wanted
} worm_task_t;

/*  Runs task on the worker's thread. Must look at *task->cancel often (at
    least every second) and return soon after it turns true. Touches only
    task and what arg points at (read only, or its own locking). Returns 0
    (result set, possibly empty), -1 (error set), or 1 when it stopped on
    cancel. */
typedef int(worm_task_fn) (void *arg, worm_task_t *task);

/*  What a unit came to. */
typedef struct {
    uint64_t tag;                       //  the tag it was submitted with
    int rc;                             //  the task's return (1 also when cancelled before it ran)
    uint64_t run_us;                    //  how long the task ran (microseconds)
    uint64_t wait_us;                   //  how long it waited behind other units before
    void *data;                         //  rc 0: the result's bytes (owned by the caller: free)
    size_t size;                        //  bytes of data
    char error[WORM_TASK_ERROR_MAX];    //  rc -1: why
} worm_worker_result_t;

typedef struct worm_worker_t worm_worker_t;

/*  A worker running fn (arg) on units. NULL when its thread cannot start. */
worm_worker_t *worm_worker_new (worm_task_fn *fn, void *arg);

/*  From now on each unit runs in a process of its own, killed by SIGKILL
    when the unit is cancelled or the worker destroyed: for a task that
    cannot look at its cancel flag every second. The process is forked from
    the worker's thread (so at its priority) and at once becomes the program
    argv (copied; argv[0] a path), which must call worm_worker_unit_main
    with the task function: a fresh process, as a fork of our threads
    could not safely run a task (another thread may hold a lock the task
    needs, such as the allocator's). Its result and error come back through
    a pipe; a process killed by SIGKILL or SIGTERM from elsewhere stopped
    (rc 1: it may run again), one that dies otherwise without a result is
    the unit's error ("VERB: the unit's process died of signal 6"). Call before the first
    submit. Returns 0, or -1 when argv is empty or too long. */
int worm_worker_isolate (worm_worker_t *self, char *const argv[]);

/*  The unit process's side (a program's main, for worm_worker_isolate):
    reads one unit from fd 3, runs fn (arg) on it with a cancel flag that
    never turns (the worker kills it instead), and writes its result to
    fd 4. Returns the exit status: 0, or 1 when the unit could not be read
    or the result not written. */
int worm_worker_unit_main (worm_task_fn *fn, void *arg);

/*  Cancels the unit running and those waiting, and ends the thread (after
    the task function returns, or at once for an isolated worker). Sets
    *self_p to NULL. */
void worm_worker_destroy (worm_worker_t **self_p);

/*  Queues a unit tagged tag (the caller's, unique among those it has not
    had back). Copies verb and body. Returns 0, or -1 when verb is too long
    (over 63 bytes). Never waits for the thread. */
int worm_worker_submit (worm_worker_t *self, uint64_t tag, const char *verb, const void *body,
                        size_t size);

/*  The unit tagged tag is no longer wanted: a waiting one will not run, a
    running one is told to stop. Its result still comes back (rc 1 when it
    stopped). A tag not given is ignored. */
void worm_worker_cancel (worm_worker_t *self, uint64_t tag);

/*  The socket that turns readable when a result is there, for a reactor. */
zsock_t *worm_worker_sock (worm_worker_t *self);

/*  Takes one result (call when the socket is readable). Returns 0, or -1
    when none was there. */
int worm_worker_recv (worm_worker_t *self, worm_worker_result_t *result);

/*  Units submitted and not yet had back by worm_worker_recv. */
size_t worm_worker_pending (worm_worker_t *self);

#endif
