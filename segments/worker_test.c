/*  worker_test.c — units run off the caller's thread, in order, at idle
    priority; cancels reach waiting and running units; errors come back;
    results say how long a unit ran and waited; an isolated worker runs
    each unit in a child process that a cancel kills. */
#include "worker.h"
#include "../tests/check.h"

#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

typedef struct {
    atomic_int calls;       //  tasks run
    atomic_bool started;    //  a "spin" task is running
    atomic_int policy;      //  the scheduling policy a task saw
} s_counts_t;

//  "echo": the body reversed; "fail": an error; "spin": runs until cancelled
//  (5 s at most), looking at the flag every millisecond.
static int
s_task (void *arg, worm_task_t *task)
{
    s_counts_t *counts = arg;
    atomic_fetch_add (&counts->calls, 1);
    atomic_store (&counts->policy, sched_getscheduler (0));
    if (strcmp (task->verb, "echo") == 0) {
        task->result = malloc (task->size ? task->size : 1);
        for (size_t i = 0; i < task->size; i++)
            ((char *) task->result)[i] = ((const char *) task->body)[task->size - 1 - i];
        task->result_size = task->size;
        return 0;
    }
    if (strcmp (task->verb, "stubborn") == 0) {    //  never looks at its cancel flag
        zclock_sleep (5000);
        return 0;
    }
    if (strcmp (task->verb, "die") == 0)
        raise (SIGKILL);
    if (strcmp (task->verb, "crash") == 0)
        raise (SIGUSR1);
    if (strcmp (task->verb, "fail") == 0) {
        snprintf (task->error, sizeof task->error, "unit %.*s is bad", (int) task->size,
                  (const char *) task->body);
        return -1;
    }
    atomic_store (&counts->started, true);
    for (int i = 0; i < 5000; i++) {
        if (atomic_load (task->cancel))
            return 1;
        zclock_sleep (1);
    }
    return 0;
}

//  The next result, waiting at most ms for it; the test fails on timeout.
static void
s_next (worm_worker_t *worker, worm_worker_result_t *result, int ms)
{
    zpoller_t *poller = zpoller_new (worm_worker_sock (worker), NULL);
    int64_t deadline = zclock_mono () + ms;
    while (worm_worker_recv (worker, result) != 0) {
        int64_t left = deadline - zclock_mono ();
        CHECK (left > 0);
        zpoller_wait (poller, (int) left);
    }
    zpoller_destroy (&poller);
}

static void
s_wait_started (s_counts_t *counts)
{
    int64_t deadline = zclock_mono () + 2000;
    while (!atomic_load (&counts->started) && zclock_mono () < deadline)
        zclock_sleep (1);
    CHECK (atomic_load (&counts->started));
}

int
main (int argc, char **argv)
{
    s_counts_t counts = {0};
    //  The unit process of the isolated worker below: this program again
    if (argc == 2 && strcmp (argv[1], "--unit") == 0)
        return worm_worker_unit_main (s_task, &counts);
    worm_worker_t *worker = worm_worker_new (s_task, &counts);
    CHECK (worker);
    worm_worker_result_t result;
    CHECK_EQ (worm_worker_recv (worker, &result), -1);

    //  In order, with their results and errors
    CHECK_EQ (worm_worker_submit (worker, 11, "echo", "abc", 3), 0);
    CHECK_EQ (worm_worker_submit (worker, 12, "fail", "u12", 3), 0);
    CHECK_EQ (worm_worker_submit (worker, 13, "echo", "", 0), 0);
    CHECK_EQ (worm_worker_pending (worker), 3);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 11);
    CHECK_EQ (result.rc, 0);
    CHECK_EQ (result.size, 3);
    CHECK (memcmp (result.data, "cba", 3) == 0);
    free (result.data);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 12);
    CHECK_EQ (result.rc, -1);
    CHECK_STR (result.error, "unit u12 is bad");
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 13);
    CHECK_EQ (result.rc, 0);
    CHECK_EQ (result.size, 0);
    CHECK_EQ (worm_worker_pending (worker), 0);
    CHECK_EQ (atomic_load (&counts.policy), SCHED_IDLE);

    //  A verb too long is refused, and nothing is queued
    char verb[80];
    memset (verb, 'v', sizeof verb - 1);
    verb[sizeof verb - 1] = 0;
    CHECK_EQ (worm_worker_submit (worker, 14, verb, "", 0), -1);
    CHECK_EQ (worm_worker_pending (worker), 0);

    //  A running unit stops soon after its cancel; a waiting one never runs
    CHECK_EQ (worm_worker_submit (worker, 21, "spin", "", 0), 0);
    CHECK_EQ (worm_worker_submit (worker, 22, "echo", "x", 1), 0);
    s_wait_started (&counts);
    int calls = atomic_load (&counts.calls);
    worm_worker_cancel (worker, 22);
    worm_worker_cancel (worker, 99);        //  not given: ignored
    int64_t cancelled_at = zclock_mono ();
    worm_worker_cancel (worker, 21);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 21);
    CHECK_EQ (result.rc, 1);
    CHECK (zclock_mono () - cancelled_at < 1000);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 22);
    CHECK_EQ (result.rc, 1);
    CHECK_EQ (atomic_load (&counts.calls), calls);

    //  A unit behind a running one says how long it waited, the running
    //  one how long it ran: both at least the 50 ms we let pass
    atomic_store (&counts.started, false);
    CHECK_EQ (worm_worker_submit (worker, 41, "spin", "", 0), 0);
    CHECK_EQ (worm_worker_submit (worker, 42, "echo", "y", 1), 0);
    s_wait_started (&counts);
    zclock_sleep (50);
    worm_worker_cancel (worker, 41);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 41);
    CHECK (result.run_us >= 50000);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 42);
    CHECK_EQ (result.rc, 0);
    CHECK (result.wait_us >= 50000);
    free (result.data);

    //  Destroyed while a unit spins: the spin is told to stop, and destroy returns
    atomic_store (&counts.started, false);
    CHECK_EQ (worm_worker_submit (worker, 31, "spin", "", 0), 0);
    CHECK_EQ (worm_worker_submit (worker, 32, "spin", "", 0), 0);
    s_wait_started (&counts);
    int64_t destroyed_at = zclock_mono ();
    worm_worker_destroy (&worker);
    CHECK (worker == NULL);
    CHECK (zclock_mono () - destroyed_at < 1000);
    worm_worker_destroy (&worker);

    //  Isolated, each unit in a process of its own (this program with
    //  --unit): results and errors come back through its pipe; a cancel or
    //  a destroy kills a task that never looks at its flag; a process that
    //  dies is the unit's error; a program that cannot run is said
    char *bad[] = {"/nonexistent/worm-unit", "--unit", NULL};
    worker = worm_worker_new (s_task, &counts);
    CHECK (worker);
    CHECK_EQ (worm_worker_isolate (worker, bad), 0);
    CHECK_EQ (worm_worker_submit (worker, 50, "echo", "abc", 3), 0);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.rc, -1);
    CHECK_STR (result.error, "echo: cannot run the unit's program /nonexistent/worm-unit");
    worm_worker_destroy (&worker);
    char exe[PATH_MAX];
    ssize_t size = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    CHECK (size > 0);
    exe[size] = 0;
    char *unit_argv[] = {exe, "--unit", NULL};
    char *none[] = {NULL};
    worker = worm_worker_new (s_task, &counts);
    CHECK (worker);
    CHECK_EQ (worm_worker_isolate (worker, none), -1);
    CHECK_EQ (worm_worker_isolate (worker, unit_argv), 0);
    int calls_before = atomic_load (&counts.calls);
    //  A body larger than a pipe's buffer reaches the process whole
    size_t big_size = 1 << 20;
    char *big = malloc (big_size);
    for (size_t i = 0; i < big_size; i++)
        big[i] = (char) (i * 7);
    CHECK_EQ (worm_worker_submit (worker, 49, "echo", big, big_size), 0);
    s_next (worker, &result, 5000);
    CHECK_EQ (result.tag, 49);
    CHECK_EQ (result.rc, 0);
    CHECK_EQ (result.size, big_size);
    for (size_t i = 0; i < big_size; i++)
        if (((char *) result.data)[i] != big[big_size - 1 - i]) {
            CHECK (!"the big echo came back different");
            break;
        }
    free (result.data);
    free (big);
    CHECK_EQ (worm_worker_submit (worker, 51, "echo", "abc", 3), 0);
    CHECK_EQ (worm_worker_submit (worker, 52, "fail", "u52", 3), 0);
    CHECK_EQ (worm_worker_submit (worker, 53, "die", "", 0), 0);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 51);
    CHECK_EQ (result.rc, 0);
    CHECK_EQ (result.size, 3);
    CHECK (memcmp (result.data, "cba", 3) == 0);
    free (result.data);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 52);
    CHECK_EQ (result.rc, -1);
    CHECK_STR (result.error, "unit u52 is bad");
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 53);
    CHECK_EQ (result.rc, 1);    //  killed from outside: it may run again
    CHECK_EQ (worm_worker_submit (worker, 56, "crash", "", 0), 0);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 56);
    CHECK_EQ (result.rc, -1);
    CHECK_STR (result.error, "crash: the unit's process died of signal 10");
    CHECK_EQ (worm_worker_submit (worker, 54, "stubborn", "", 0), 0);
    zclock_sleep (100);
    cancelled_at = zclock_mono ();
    worm_worker_cancel (worker, 54);
    s_next (worker, &result, 2000);
    CHECK_EQ (result.tag, 54);
    CHECK_EQ (result.rc, 1);
    CHECK (zclock_mono () - cancelled_at < 1000);
    CHECK_EQ (worm_worker_submit (worker, 55, "stubborn", "", 0), 0);
    zclock_sleep (100);
    destroyed_at = zclock_mono ();
    worm_worker_destroy (&worker);
    CHECK (zclock_mono () - destroyed_at < 1000);
    //  The tasks ran in the other processes, not in this one
    CHECK_EQ (atomic_load (&counts.calls), calls_before);
    return check_done ("segments.worker");
}
