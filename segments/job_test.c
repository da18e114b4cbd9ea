/*  job_test.c — the segment's half of the job layer over real sockets: a
    ROUTER on loopback as the segment's, a DEALER as the client's. Units run
    and come back, a third is refused while two are held, job.held lists
    them, job.cancel and a silent client drop them, leaving answers them.
    A result echoes the client's stamp and says how long it ran and waited;
    a result larger than a part comes back in parts. */
#include "ctl.h"
#include "job.h"
#include "../tests/check.h"

#include <inttypes.h>

//  The byte at i of a "big" task's result.
static uint8_t
s_big_byte (size_t i)
{
    return (uint8_t) (i * 7 + i / 251);
}

//  "square": the body (a uint64) squared; "big": as many bytes as the body
//  says (s_big_byte); "spin": until cancelled; else a failure.
static int
s_task (void *arg, worm_task_t *task)
{
    (void) arg;
    if (strcmp (task->verb, "square") == 0) {
        uint64_t value;
        if (task->size != sizeof value) {
            snprintf (task->error, sizeof task->error, "square: want 8 bytes, not %zu", task->size);
            return -1;
        }
        memcpy (&value, task->body, sizeof value);
        value *= value;
        task->result = malloc (sizeof value);
        memcpy (task->result, &value, sizeof value);
        task->result_size = sizeof value;
        return 0;
    }
    if (strcmp (task->verb, "big") == 0) {
        uint64_t size;
        memcpy (&size, task->body, sizeof size);
        uint8_t *data = malloc (size ? size : 1);
        for (size_t i = 0; i < size; i++)
            data[i] = s_big_byte (i);
        task->result = data;
        task->result_size = size;
        return 0;
    }
    if (strcmp (task->verb, "spin") == 0) {
        while (!atomic_load (task->cancel))
            zclock_sleep (1);
        return 1;
    }
    return -1;      //  no sentence: the worker says "VERB failed"
}

typedef struct {
    zsock_t *router;
    zsock_t *client;
    worm_jobs_t *jobs;
    uint64_t now;
} s_rig_t;

//  Serves what arrives at the router and the worker until the client has
//  a reply (at most 3 s), and parses it into reply.
static void
s_pump (s_rig_t *rig, worm_wire_reader_t *reply)
{
    zpoller_t *poller = zpoller_new (rig->router, worm_jobs_sock (rig->jobs), rig->client, NULL);
    int64_t deadline = zclock_mono () + 3000;
    while (true) {
        int64_t left = deadline - zclock_mono ();
        CHECK (left > 0);
        void *which = zpoller_wait (poller, (int) left);
        if (which == rig->router) {
            zframe_t *identity = zframe_recv (rig->router);
            zframe_t *payload = zframe_recv (rig->router);
            worm_wire_reader_t request;
            worm_wire_reader_init (&request);
            CHECK_EQ (worm_wire_parse (&request, zframe_data (payload), zframe_size (payload), 1 << 20), 0);
            worm_jobs_request (rig->jobs, rig->router, identity, &request, rig->now);
            worm_wire_reader_fini (&request);
            zframe_destroy (&identity);
            zframe_destroy (&payload);
        }
        else if (which == worm_jobs_sock (rig->jobs))
            worm_jobs_on_result (rig->jobs, rig->router);
        else if (which == rig->client) {
            zframe_t *frame = zframe_recv (rig->client);
            worm_wire_reader_init (reply);
            CHECK_EQ (worm_wire_parse (reply, zframe_data (frame), zframe_size (frame), 1 << 20), 0);
            zframe_destroy (&frame);
            break;
        }
    }
    zpoller_destroy (&poller);
}

static void
s_send (s_rig_t *rig, worm_wire_writer_t *w)
{
    zframe_t *frame = zframe_new (worm_wire_writer_data (w), worm_wire_writer_size (w));
    zframe_send (&frame, rig->client, 0);
    worm_wire_writer_fini (w);
}

static void
s_run (s_rig_t *rig, const char *job, uint64_t unit, const char *task, uint64_t value)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kstr (&w, "op", "app");
    worm_wire_kstr (&w, "verb", "job.run");
    worm_wire_kstr (&w, "job", job);
    worm_wire_ku64 (&w, "unit", unit);
    worm_wire_kstr (&w, "task", task);
    worm_wire_kbin (&w, "body", &value, sizeof value);
    worm_wire_ku64 (&w, "sent_us", 1000 * unit + 7);     //  the client's stamp, echoed
    worm_wire_map_close (&w);
    s_send (rig, &w);
}

//  job.held or job.cancel (of unit, 0: all of the job).
static void
s_ask (s_rig_t *rig, const char *verb, const char *job, uint64_t unit)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kstr (&w, "op", "app");
    worm_wire_kstr (&w, "verb", verb);
    worm_wire_kstr (&w, "job", job);
    if (unit) {
        worm_wire_key (&w, "units");
        worm_wire_array (&w, 1);
        worm_wire_u64 (&w, unit);
    }
    worm_wire_map_close (&w);
    s_send (rig, &w);
}

//  The reply's "units", as "1,2".
static void
s_units (worm_wire_reader_t *reply, char *buf, size_t cap)
{
    const msgpack_object_array *units;
    buf[0] = 0;
    CHECK_EQ (worm_wire_get_array (reply, reply->root, "units", &units, 64), 0);
    for (uint32_t i = 0; i < units->size; i++)
        snprintf (buf + strlen (buf), cap - strlen (buf), "%s%" PRIu64, i ? "," : "",
                  units->ptr[i].via.u64);
}

static void
s_expect_run (s_rig_t *rig, uint64_t unit, bool ok, const char *error, uint64_t value)
{
    worm_wire_reader_t reply;
    s_pump (rig, &reply);
    char verb[16], text[160] = "";
    uint64_t got = 0;
    bool is_ok = !ok;
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "verb", verb, sizeof verb), 0);
    CHECK_STR (verb, "job.run");
    CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, "unit", &got), 0);
    CHECK_EQ (got, unit);
    CHECK_EQ (worm_wire_get_bool (&reply, reply.root, "ok", &is_ok), 0);
    CHECK_EQ (is_ok, ok);
    if (ok) {
        const void *data;
        size_t size;
        CHECK_EQ (worm_wire_get_bin (&reply, reply.root, "result", &data, &size, 64), 0);
        CHECK_EQ (size, 8);
        uint64_t square;
        memcpy (&square, data, 8);
        CHECK_EQ (square, value);
        uint64_t stamp = 0, compute_us = 0, wait_us = 0;
        CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, "sent_us", &stamp), 0);
        CHECK_EQ (stamp, 1000 * unit + 7);
        CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, "compute_us", &compute_us), 0);
        CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, "wait_us", &wait_us), 0);
        CHECK (wait_us < 3000000);
    }
    else {
        CHECK_EQ (worm_wire_get_str (&reply, reply.root, "error", text, sizeof text), 0);
        CHECK_STR (text, error);
    }
    worm_wire_reader_fini (&reply);
}

//  Unit `unit` of task "big" for size bytes: its answers, `parts` of them,
//  put together, give the bytes back.
static void
s_expect_parts (s_rig_t *rig, uint64_t unit, size_t size, int parts)
{
    s_run (rig, "j1", unit, "big", size);
    size_t have = 0;
    for (int n = 0; n < parts; n++) {
        worm_wire_reader_t reply;
        s_pump (rig, &reply);
        uint64_t got = 0, offset = 1, total = 0;
        const void *data;
        size_t part;
        CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, "unit", &got), 0);
        CHECK_EQ (got, unit);
        CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, "offset", &offset), 0);
        CHECK_EQ (offset, have);
        CHECK_EQ (worm_wire_get_u64 (&reply, reply.root, "total", &total), 0);
        CHECK_EQ (total, size);
        CHECK_EQ (worm_wire_get_bin (&reply, reply.root, "result", &data, &part, WORM_JOB_PART_MAX), 0);
        CHECK (part == WORM_JOB_PART_MAX || (n == parts - 1 && part == size - have));
        for (size_t i = 0; i < part; i++)
            if (((const uint8_t *) data)[i] != s_big_byte (have + i))
                CHECK_EQ (((const uint8_t *) data)[i], s_big_byte (have + i));
        have += part;
        worm_wire_reader_fini (&reply);
    }
    CHECK_EQ (have, size);
}

static void
s_expect_units (s_rig_t *rig, const char *verb, const char *units)
{
    worm_wire_reader_t reply;
    s_pump (rig, &reply);
    char got_verb[16], got[64];
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "verb", got_verb, sizeof got_verb), 0);
    CHECK_STR (got_verb, verb);
    s_units (&reply, got, sizeof got);
    CHECK_STR (got, units);
    worm_wire_reader_fini (&reply);
}

int
main (void)
{
    s_rig_t rig = {.now = 1000};
    rig.router = zsock_new (ZMQ_ROUTER);
    zsock_set_maxmsgsize (rig.router, WORM_CTL_WIRE_MAX);
    int port = zsock_bind (rig.router, "tcp://127.0.0.1:*[50000-60000]");
    CHECK (port > 0);
    rig.client = zsock_new (ZMQ_DEALER);
    zsock_set_maxmsgsize (rig.client, WORM_CTL_WIRE_MAX);    //  as worm_ctl_connect does
    CHECK_EQ (zsock_connect (rig.client, "tcp://127.0.0.1:%d", port), 0);
    rig.jobs = worm_jobs_new ("seg-1", s_task, NULL);
    CHECK (rig.jobs);
    CHECK (worm_jobs_verb ("job.run") && worm_jobs_verb ("job.cancel") && !worm_jobs_verb ("job"));

    //  A unit runs and comes back; a bad one comes back with its error
    s_run (&rig, "j1", 1, "square", 12);
    s_expect_run (&rig, 1, true, NULL, 144);
    s_run (&rig, "j1", 2, "fail-me", 3);
    s_expect_run (&rig, 2, false, "fail-me failed", 0);

    //  Results larger than a part come in parts, in order, each within a
    //  control message; one of exactly a part is one answer; one over
    //  WORM_JOB_RESULT_MAX is refused
    s_expect_parts (&rig, 10, 3 * WORM_JOB_PART_MAX + 12345, 4);
    s_expect_parts (&rig, 11, WORM_JOB_PART_MAX, 1);
    s_expect_parts (&rig, 12, 0, 1);
    s_run (&rig, "j1", 13, "big", (uint64_t) WORM_JOB_RESULT_MAX + 1);
    s_expect_run (&rig, 13, false, "a result of 67108865 bytes is above the limit of 67108864", 0);

    //  Two held, a third refused; held lists them; cancel drops one
    s_run (&rig, "j1", 3, "spin", 0);
    s_run (&rig, "j1", 4, "spin", 0);
    s_ask (&rig, "job.held", "j1", 0);
    s_expect_units (&rig, "job.held", "3,4");
    CHECK_EQ (worm_jobs_held (rig.jobs), 2);
    s_run (&rig, "j1", 5, "square", 2);
    s_expect_run (&rig, 5, false, "segment seg-1 is busy (2 units held)", 0);
    s_ask (&rig, "job.held", "j2", 0);
    s_expect_units (&rig, "job.held", "");
    s_ask (&rig, "job.cancel", "j1", 3);
    s_expect_units (&rig, "job.cancel", "4");
    CHECK_EQ (worm_jobs_held (rig.jobs), 1);

    //  A client silent too long: its units are dropped, without an answer
    s_run (&rig, "j2", 1, "spin", 0);
    s_ask (&rig, "job.held", "j2", 0);
    s_expect_units (&rig, "job.held", "1");
    rig.now += WORM_JOB_CLIENT_TIMEOUT_MS / 2;
    s_ask (&rig, "job.held", "j1", 0);          //  j1's client speaks, j2's does not
    s_expect_units (&rig, "job.held", "4");
    rig.now += WORM_JOB_CLIENT_TIMEOUT_MS / 2 + 1;
    worm_jobs_tick (rig.jobs, rig.now);
    s_ask (&rig, "job.held", "j2", 0);
    s_expect_units (&rig, "job.held", "");
    CHECK_EQ (worm_jobs_held (rig.jobs), 1);

    //  Leaving: the unit held is answered at once, new ones are refused
    worm_jobs_leave (rig.jobs, rig.router);
    s_expect_run (&rig, 4, false, "segment seg-1 is leaving the worm", 0);
    s_run (&rig, "j1", 6, "square", 2);
    s_expect_run (&rig, 6, false, "segment seg-1 is leaving the worm", 0);

    //  A job.run without its fields, and a request without a job
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kstr (&w, "verb", "job.run");
    worm_wire_kstr (&w, "job", "j3");
    worm_wire_map_close (&w);
    s_send (&rig, &w);
    s_expect_run (&rig, 0, false, "job.run: needs unit, task and body", 0);
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kstr (&w, "verb", "job.held");
    worm_wire_map_close (&w);
    s_send (&rig, &w);
    worm_wire_reader_t reply;
    s_pump (&rig, &reply);
    char error[96];
    CHECK_EQ (worm_wire_get_str (&reply, reply.root, "error", error, sizeof error), 0);
    CHECK_STR (error, "job.held: needs a job id");
    worm_wire_reader_fini (&reply);

    worm_jobs_destroy (&rig.jobs);
    CHECK (rig.jobs == NULL);
    zsock_destroy (&rig.client);
    zsock_destroy (&rig.router);
    return check_done ("segments.job");
}
