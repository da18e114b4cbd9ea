/*  worker.c — where a segment computes, off the ring's thread. See worker.h.

    A thread and a queue under one lock: the reactor appends units and marks
    cancels; the thread takes units in order, runs each, and sends its
    result over an inproc PAIR whose other end the reactor polls. The lock
    is held only to move a unit in or out, never while a task runs.
*/
#include "worker.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VERB_MAX 64

typedef struct s_unit_t s_unit_t;
struct s_unit_t {
    uint64_t tag;               //  the caller's tag
    char verb[VERB_MAX];        //  what to do
    void *body;                 //  the unit's bytes, ours
    size_t size;                //  bytes of body
    bool cancelled;             //  no longer wanted: do not run it
    int64_t queued_us;          //  when it was submitted (zclock_usecs)
    s_unit_t *next;             //  the next in the queue
};

struct worm_worker_t {
    worm_task_fn *fn;           //  runs one unit
    void *arg;                  //  fn's argument
    pthread_t thread;           //  the worker's thread
    pthread_mutex_t lock;       //  guards what follows, up to running
    pthread_cond_t wake;        //  signalled when a unit is queued or we stop
    s_unit_t *head, *tail;      //  the units waiting, in order
    bool stopping;              //  destroy was called
    uint64_t running;           //  the tag of the unit running, 0 none
    bool busy;                  //  a unit runs now (its tag may be 0)
    atomic_bool cancel;         //  tells the running task to stop
    zsock_t *results;           //  the reactor's end of the result pipe
    zsock_t *sender;            //  the thread's end
    size_t pending;             //  submitted and not yet received (reactor's count)
};

//  Lowest priority for this thread: the ring's thread must always win.
static void
s_lower_priority (void)
{
    struct sched_param param = {.sched_priority = 0};
    pthread_setschedparam (pthread_self (), SCHED_IDLE, &param);
    setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 19);
}

static void
s_send_result (worm_worker_t *self, uint64_t tag, int rc, const uint64_t times[2],
               const worm_task_t *task)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, &tag, sizeof tag);
    zmsg_addmem (msg, &rc, sizeof rc);
    zmsg_addmem (msg, times, 2 * sizeof times[0]);
    zmsg_addmem (msg, rc == 0 ? task->result : NULL, rc == 0 ? task->result_size : 0);
    zmsg_addstr (msg, rc == -1 ? task->error : "");
    zmsg_send (&msg, self->sender);
}

static void *
s_thread (void *arg)
{
    worm_worker_t *self = arg;
    s_lower_priority ();
    pthread_mutex_lock (&self->lock);
    while (true) {
        while (!self->head && !self->stopping)
            pthread_cond_wait (&self->wake, &self->lock);
        if (self->stopping)
            break;
        s_unit_t *unit = self->head;
        self->head = unit->next;
        if (!self->head)
            self->tail = NULL;
        bool skip = unit->cancelled;
        self->running = unit->tag;
        self->busy = true;
        atomic_store (&self->cancel, false);
        pthread_mutex_unlock (&self->lock);

        worm_task_t task = {.verb = unit->verb, .body = unit->body, .size = unit->size,
                            .cancel = &self->cancel};
        int64_t started = zclock_usecs ();
        int rc = skip ? 1 : self->fn (self->arg, &task);
        //  How long it ran, and how long it waited for the thread before
        uint64_t times[2] = {(uint64_t) (zclock_usecs () - started),
                             (uint64_t) (started - unit->queued_us)};
        if (rc == -1 && !task.error[0])
            snprintf (task.error, sizeof task.error, "%s failed", unit->verb);
        if (rc != 0 && rc != -1)
            rc = 1;
        s_send_result (self, unit->tag, rc, times, &task);
        free (task.result);
        free (unit->body);
        free (unit);

        pthread_mutex_lock (&self->lock);
        self->busy = false;
        self->running = 0;
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

worm_worker_t *
worm_worker_new (worm_task_fn *fn, void *arg)
{
    worm_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fn = fn;
    self->arg = arg;
    atomic_init (&self->cancel, false);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "?inproc://worm-worker-%p", (void *) self);
    endpoint[0] = '@';
    self->results = zsock_new_pair (endpoint);      //  "@inproc://…": binds
    endpoint[0] = '>';
    self->sender = zsock_new_pair (endpoint);       //  ">inproc://…": connects
    if (self->sender)
        zsock_set_sndhwm (self->sender, 0);
    if (self->results)
        zsock_set_rcvhwm (self->results, 0);
    if (!self->results || !self->sender || pthread_create (&self->thread, NULL, s_thread, self)) {
        zsock_destroy (&self->sender);
        zsock_destroy (&self->results);
        pthread_cond_destroy (&self->wake);
        pthread_mutex_destroy (&self->lock);
        free (self);
        return NULL;
    }
    return self;
}

void
worm_worker_destroy (worm_worker_t **self_p)
{
    worm_worker_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    atomic_store (&self->cancel, true);
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    pthread_join (self->thread, NULL);
    for (s_unit_t *unit = self->head, *next; unit; unit = next) {
        next = unit->next;
        free (unit->body);
        free (unit);
    }
    zsock_destroy (&self->sender);
    zsock_destroy (&self->results);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
worm_worker_submit (worm_worker_t *self, uint64_t tag, const char *verb, const void *body,
                    size_t size)
{
    if (strlen (verb) >= VERB_MAX)
        return -1;
    s_unit_t *unit = calloc (1, sizeof *unit);
    void *copy = malloc (size ? size : 1);
    if (!unit || !copy) {
        free (unit);
        free (copy);
        return -1;
    }
    unit->tag = tag;
    unit->queued_us = zclock_usecs ();
    snprintf (unit->verb, sizeof unit->verb, "%s", verb);
    if (size)
        memcpy (copy, body, size);
    unit->body = copy;
    unit->size = size;
    pthread_mutex_lock (&self->lock);
    if (self->tail)
        self->tail->next = unit;
    else
        self->head = unit;
    self->tail = unit;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
    self->pending++;
    return 0;
}

void
worm_worker_cancel (worm_worker_t *self, uint64_t tag)
{
    pthread_mutex_lock (&self->lock);
    if (self->busy && self->running == tag)
        atomic_store (&self->cancel, true);
    for (s_unit_t *unit = self->head; unit; unit = unit->next)
        if (unit->tag == tag)
            unit->cancelled = true;
    pthread_mutex_unlock (&self->lock);
}

zsock_t *
worm_worker_sock (worm_worker_t *self)
{
    return self->results;
}

int
worm_worker_recv (worm_worker_t *self, worm_worker_result_t *result)
{
    memset (result, 0, sizeof *result);
    if (!(zsock_events (self->results) & ZMQ_POLLIN))
        return -1;
    zmsg_t *msg = zmsg_recv (self->results);
    if (!msg || zmsg_size (msg) != 5) {
        zmsg_destroy (&msg);
        return -1;
    }
    zframe_t *tag = zmsg_pop (msg), *rc = zmsg_pop (msg), *times = zmsg_pop (msg);
    zframe_t *data = zmsg_pop (msg);
    char *error = zmsg_popstr (msg);
    memcpy (&result->tag, zframe_data (tag), sizeof result->tag);
    memcpy (&result->rc, zframe_data (rc), sizeof result->rc);
    uint64_t both[2];
    memcpy (both, zframe_data (times), sizeof both);
    result->run_us = both[0];
    result->wait_us = both[1];
    result->size = zframe_size (data);
    if (result->size) {
        result->data = malloc (result->size);
        if (result->data)
            memcpy (result->data, zframe_data (data), result->size);
        else {
            result->rc = -1;
            result->size = 0;
            snprintf (result->error, sizeof result->error, "out of memory for a result");
        }
    }
    if (error && result->rc == -1 && !result->error[0])
        snprintf (result->error, sizeof result->error, "%s", error);
    zstr_free (&error);
    zframe_destroy (&tag);
    zframe_destroy (&rc);
    zframe_destroy (&times);
    zframe_destroy (&data);
    zmsg_destroy (&msg);
    if (self->pending)
        self->pending--;
    return 0;
}

size_t
worm_worker_pending (worm_worker_t *self)
{
    return self->pending;
}
