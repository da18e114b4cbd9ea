/*  worker.c — where a segment computes, off the ring's thread. See worker.h.

    A thread and a queue under one lock: the reactor appends units and marks
    cancels; the thread takes units in order, runs each, and sends its
    result over an inproc PAIR whose other end the reactor polls. The lock
    is held only to move a unit in or out, never while a task runs. An
    isolated worker runs each unit in a process of its own, forked by the
    thread and made a fresh program at once (s_run_child), which a cancel
    kills.
*/
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERB_MAX 64
#define CHILD_POLL_MS 10                    //  an isolated unit's cancel is seen this soon
#define CHILD_RESULT_MAX (64u << 20)        //  bytes of an isolated unit's result, at most
#define CHILD_BODY_MAX (64u << 20)          //  bytes of a unit's body a unit process takes
#define CHILD_ARGS 8                        //  words of the unit program's command line
#define CHILD_IN 3                          //  the unit process reads its unit here
#define CHILD_OUT 4                         //  and writes its result here

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
    bool isolated;              //  each unit runs in a process of its own
    char *argv[CHILD_ARGS + 1]; //  the program it runs, NULL-terminated
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

//  Writes all of data to fd (a pipe), or returns -1.
static int
s_write_all (int fd, const void *data, size_t size)
{
    const char *at = data;
    while (size) {
        ssize_t n = write (fd, at, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        at += n;
        size -= (size_t) n;
    }
    return 0;
}

//  Reads all of size bytes from fd (blocking), or returns -1.
static int
s_read_whole (int fd, void *data, size_t size)
{
    char *at = data;
    while (size) {
        ssize_t n = read (fd, at, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        at += n;
        size -= (size_t) n;
    }
    return 0;
}

//  The child between fork and exec: only async-signal-safe calls. The
//  unit's socket becomes fd CHILD_IN, the result's pipe CHILD_OUT. Never
//  returns.
static void
s_child (worm_worker_t *self, int in, int out, pid_t parent)
{
    //  Dies with the worker's thread (a segment SIGKILLed takes it along);
    //  a parent gone before the prctl is seen by the check after it
    if (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid () != parent)
        _exit (1);
    //  Out of the way of fds 3 and 4 first, whichever they are now
    int high_in = fcntl (in, F_DUPFD_CLOEXEC, 10), high_out = fcntl (out, F_DUPFD_CLOEXEC, 10);
    if (high_in < 0 || high_out < 0 || dup2 (high_in, CHILD_IN) < 0
        || dup2 (high_out, CHILD_OUT) < 0)
        _exit (1);
    execv (self->argv[0], self->argv);
    _exit (127);
}

int
worm_worker_unit_main (worm_task_fn *fn, void *arg)
{
    uint32_t verb_size = 0;
    uint64_t size = 0;
    char verb[VERB_MAX];
    if (s_read_whole (CHILD_IN, &verb_size, sizeof verb_size) || verb_size >= VERB_MAX
        || s_read_whole (CHILD_IN, verb, verb_size)
        || s_read_whole (CHILD_IN, &size, sizeof size) || size > CHILD_BODY_MAX)
        return 1;
    verb[verb_size] = 0;
    void *body = malloc (size ? (size_t) size : 1);
    if (!body || s_read_whole (CHILD_IN, body, (size_t) size))
        return 1;
    static atomic_bool never;   //  the parent cancels by SIGKILL, not by this flag
    worm_task_t task = {.verb = verb, .body = body, .size = (size_t) size, .cancel = &never};
    int rc = fn (arg, &task);
    uint64_t out = rc == 0 ? task.result_size : 0;
    int failed = s_write_all (CHILD_OUT, &rc, sizeof rc)
                 || s_write_all (CHILD_OUT, task.error, sizeof task.error)
                 || s_write_all (CHILD_OUT, &out, sizeof out)
                 || (out && s_write_all (CHILD_OUT, task.result, (size_t) out));
    free (task.result);
    free (body);
    return failed ? 1 : 0;
}

//  Sends the unit to the unit process: verb and body, each after its size.
//  A process that died meanwhile is no SIGPIPE here (MSG_NOSIGNAL).
static int
s_send_unit (int fd, const worm_task_t *task)
{
    uint32_t verb_size = (uint32_t) strlen (task->verb);
    uint64_t size = task->size;
    struct {
        const void *data;
        size_t size;
    } parts[] = {{&verb_size, sizeof verb_size}, {task->verb, verb_size}, {&size, sizeof size},
                 {task->body, task->size}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *at = parts[i].data;
        size_t left = parts[i].size;
        while (left) {
            ssize_t n = send (fd, at, left, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
            at += n;
            left -= (size_t) n;
        }
    }
    return 0;
}

//  Reads size bytes from fd into data, watching the cancel flag; returns
//  0, -1 (the pipe ended or failed) or 1 (cancelled).
static int
s_read_all (worm_worker_t *self, int fd, void *data, size_t size)
{
    char *at = data;
    while (size) {
        if (atomic_load (&self->cancel))
            return 1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll (&pfd, 1, CHILD_POLL_MS);
        if (ready < 0 && errno != EINTR)
            return -1;
        if (ready <= 0)
            continue;
        ssize_t n = read (fd, at, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        at += n;
        size -= (size_t) n;
    }
    return 0;
}

//  Runs task in a process of its own (the program self->argv), whose
//  result comes back through a pipe: a task that cannot look at its cancel
//  flag often (an ECM curve's stage 1 takes seconds) is stopped by SIGKILL
//  at once. The process shares nothing with us: it gets the unit's bytes.
static int
s_run_child (worm_worker_t *self, worm_task_t *task)
{
    int ends[2], unit[2] = {-1, -1};
    if (pipe2 (ends, O_CLOEXEC)) {
        snprintf (task->error, sizeof task->error, "%s: no pipe for the unit's process: %s",
                  task->verb, strerror (errno));
        return -1;
    }
    if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, unit)) {
        snprintf (task->error, sizeof task->error, "%s: no socket for the unit's process: %s",
                  task->verb, strerror (errno));
        close (ends[0]);
        close (ends[1]);
        return -1;
    }
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0)
        s_child (self, unit[1], ends[1], parent);
    close (ends[1]);
    close (unit[1]);
    if (pid < 0) {
        close (ends[0]);
        close (unit[0]);
        snprintf (task->error, sizeof task->error, "%s: cannot fork the unit's process: %s",
                  task->verb, strerror (errno));
        return -1;
    }
    //  A process that died before it read its unit says so below
    s_send_unit (unit[0], task);
    close (unit[0]);
    int rc = -1;
    uint64_t size = 0;
    char error[WORM_TASK_ERROR_MAX];
    int got = s_read_all (self, ends[0], &rc, sizeof rc);
    if (got == 0)
        got = s_read_all (self, ends[0], error, sizeof error);
    if (got == 0)
        got = s_read_all (self, ends[0], &size, sizeof size);
    if (got == 0 && size > CHILD_RESULT_MAX)
        got = -1;
    if (got == 0 && size) {
        task->result = malloc ((size_t) size);
        got = task->result ? s_read_all (self, ends[0], task->result, (size_t) size) : -1;
        task->result_size = (size_t) size;
    }
    close (ends[0]);
    if (got == 1)
        kill (pid, SIGKILL);
    int status = 0;
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got == 1) {
        free (task->result);
        task->result = NULL;
        task->result_size = 0;
        return 1;
    }
    if (got != 0 || rc < -1 || rc > 1) {
        free (task->result);
        task->result = NULL;
        task->result_size = 0;
        //  Killed from outside (an administrator, the OOM killer, a fault
        //  drill), not failed: the unit did not run, and may run again
        if (WIFSIGNALED (status) && (WTERMSIG (status) == SIGKILL || WTERMSIG (status) == SIGTERM))
            return 1;
        if (WIFSIGNALED (status))
            snprintf (task->error, sizeof task->error, "%s: the unit's process died of signal %d",
                      task->verb, WTERMSIG (status));
        else if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
            snprintf (task->error, sizeof task->error, "%s: cannot run the unit's program %s",
                      task->verb, self->argv[0]);
        else
            snprintf (task->error, sizeof task->error, "%s: the unit's process ended without a result",
                      task->verb);
        return -1;
    }
    error[sizeof error - 1] = 0;
    memcpy (task->error, error, sizeof error);
    return rc;
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
        bool isolated = self->isolated;
        self->running = unit->tag;
        self->busy = true;
        atomic_store (&self->cancel, false);
        pthread_mutex_unlock (&self->lock);

        worm_task_t task = {.verb = unit->verb, .body = unit->body, .size = unit->size,
                            .cancel = &self->cancel};
        int64_t started = zclock_usecs ();
        int rc = skip ? 1 : isolated ? s_run_child (self, &task) : self->fn (self->arg, &task);
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

int
worm_worker_isolate (worm_worker_t *self, char *const argv[])
{
    int count = 0;
    while (argv[count])
        count++;
    if (count == 0 || count > CHILD_ARGS)
        return -1;
    pthread_mutex_lock (&self->lock);
    for (int i = 0; i < count; i++)
        self->argv[i] = strdup (argv[i]);
    self->argv[count] = NULL;
    self->isolated = true;
    pthread_mutex_unlock (&self->lock);
    return 0;
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
    for (int i = 0; self->argv[i]; i++)
        free (self->argv[i]);
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
