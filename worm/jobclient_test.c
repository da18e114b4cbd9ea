/*  jobclient_test.c — the client's half of the job layer against fake
    segments: CURVE ROUTERs on loopback that this test answers for by
    hand (status, job.held, job.run, job.cancel as docs/PROTOCOL.md, "Jobs",
    says a segment does). A result in parts is put together, and one whose
    parts do not follow each other is dropped and its unit run again; a
    late duplicate is dropped; a job with nothing leased still hears its
    segments (the test idles between steps); the member list of an older
    token is not taken, that of a newer one drops a segment it no longer
    lists; a segment gone quiet is leased nothing more, not even its own
    units whose leases lapsed before it is dropped, and they go to the
    others once it is. A job none of whose segments answers finds the
    worm's segments again through its refind hook and goes on there. */
#include "ctl.h"
#include "jobclient.h"
#include "joblimits.h"
#include "../tests/check.h"

#define S_LEASE_MS 4000         //  the job's lease here (the default is 5000)
#define S_RUNS_MAX 64           //  job.run requests a fake remembers
#define S_EVENTS_MAX 64         //  results the rig remembers
#define S_LOG_MAX 16384         //  bytes of the job's log kept

//  A job.run a fake segment received
typedef struct {
    uint64_t unit;              //  its unit
    uint64_t sent_us;           //  the client's stamp
    zframe_t *identity;         //  whom to answer
    bool answered;              //  we answered it (or it was dropped)
} s_run_t;

//  A fake segment: a ROUTER the test answers on
typedef struct {
    const char *id;             //  its segment id
    zsock_t *router;            //  its socket, a CURVE server
    char endpoint[64];          //  where it listens
    uint64_t seq;               //  the seq of its copy of the token (epoch 1)
    const char *members[4];     //  the endpoints its copy lists (NULL-ended)
    bool silent;                //  reads nothing, answers nothing
    bool hold;                  //  keeps the units it is sent and never answers them
    bool auto_answer;           //  answers each unit at once, in one part
    bool mute_held;             //  answers no job.held (renews no lease), the rest still
    uint64_t answered_us;       //  when it last answered anything
    s_run_t runs[S_RUNS_MAX];   //  the units it was sent
    size_t nruns;
} s_fake_t;

//  A result the client handed over
typedef struct {
    uint64_t unit, group;
    char segment[WORM_JOBQ_HOLDER_MAX];
    size_t size;
    bool ok;                    //  its bytes are s_byte's
} s_event_t;

typedef struct {
    worm_jobclient_t *job;
    s_fake_t *fakes[3];
    s_event_t events[S_EVENTS_MAX];
    size_t nevents;
    char log[S_LOG_MAX];
    size_t log_size;
} s_rig_t;

//  The byte at i of every result here
static uint8_t
s_byte (size_t i)
{
    return (uint8_t) (i * 13 + i / 509);
}

static void
s_log (void *arg, const char *line)
{
    s_rig_t *rig = arg;
    int n = snprintf (rig->log + rig->log_size, sizeof rig->log - rig->log_size, "%s\n", line);
    if (n > 0 && rig->log_size + (size_t) n < sizeof rig->log)
        rig->log_size += (size_t) n;
}

static void
s_fake_new (s_fake_t *fake, const char *id, zcert_t *cert)
{
    memset (fake, 0, sizeof *fake);
    fake->id = id;
    fake->router = zsock_new (ZMQ_ROUTER);
    CHECK (fake->router);
    zcert_apply (cert, fake->router);
    zsock_set_curve_server (fake->router, 1);
    zsock_set_maxmsgsize (fake->router, WORM_CTL_WIRE_MAX);
    int port = zsock_bind (fake->router, "tcp://127.0.0.1:*[50000-60000]");
    CHECK (port > 0);
    snprintf (fake->endpoint, sizeof fake->endpoint, "tcp://127.0.0.1:%d", port);
    fake->seq = 1;
}

static void
s_fake_destroy (s_fake_t *fake)
{
    for (size_t i = 0; i < fake->nruns; i++)
        zframe_destroy (&fake->runs[i].identity);
    zsock_destroy (&fake->router);
}

//  A job.run answer of unit carrying bytes [offset, offset + size) of a
//  result of total bytes (s_byte's), with sent_us echoed.
static void
s_answer_part (s_fake_t *fake, s_run_t *run, size_t offset, size_t size, size_t total)
{
    uint8_t *part = malloc (size ? size : 1);
    CHECK (part);
    for (size_t i = 0; i < size; i++)
        part[i] = s_byte (offset + i);
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kbool (&w, "ok", true);
    worm_wire_kstr (&w, "verb", "job.run");
    worm_wire_kstr (&w, "job", "j");
    worm_wire_ku64 (&w, "unit", run->unit);
    worm_wire_kbin (&w, "result", part, size);
    worm_wire_ku64 (&w, "offset", offset);
    worm_wire_ku64 (&w, "total", total);
    worm_wire_ku64 (&w, "compute_us", 1000);
    worm_wire_ku64 (&w, "wait_us", 0);
    worm_wire_ku64 (&w, "sent_us", run->sent_us);
    worm_wire_map_close (&w);
    worm_ctl_reply (fake->router, run->identity, &w);
    worm_wire_writer_fini (&w);
    free (part);
    fake->answered_us = (uint64_t) zclock_usecs ();
}

//  The whole result of total bytes, in parts of WORM_JOB_PART_MAX
static void
s_answer (s_fake_t *fake, s_run_t *run, size_t total)
{
    size_t offset = 0;
    do {
        size_t part = total - offset < WORM_JOB_PART_MAX ? total - offset : WORM_JOB_PART_MAX;
        s_answer_part (fake, run, offset, part, total);
        offset += part;
    } while (offset < total);
    run->answered = true;
}

//  The units fake holds: sent and not answered
static size_t
s_held (const s_fake_t *fake, uint64_t *units)
{
    size_t n = 0;
    for (size_t i = 0; i < fake->nruns; i++)
        if (!fake->runs[i].answered)
            units[n++] = fake->runs[i].unit;
    return n;
}

//  One request to fake, answered as a segment would (job.run: kept in runs)
static void
s_fake_request (s_fake_t *fake, zframe_t *identity, zframe_t *body)
{
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    CHECK_EQ (worm_wire_parse (&r, zframe_data (body), zframe_size (body), WORM_CTL_MAX), 0);
    char op[16] = "", verb[16] = "";
    worm_wire_get_str (&r, r.root, "op", op, sizeof op);
    worm_wire_get_str (&r, r.root, "verb", verb, sizeof verb);
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_kbool (&w, "ok", true);
    bool reply = true;
    if (strcmp (op, "status") == 0) {
        worm_wire_kstr (&w, "id", fake->id);
        worm_wire_kstr (&w, "app", "test");
        worm_wire_ku64 (&w, "epoch", 1);
        worm_wire_ku64 (&w, "seq", fake->seq);
        size_t n = 0;
        while (fake->members[n])
            n++;
        worm_wire_key (&w, "members");
        worm_wire_array (&w, n);
        for (size_t i = 0; i < n; i++) {
            worm_wire_map_open (&w);
            worm_wire_kstr (&w, "endpoint", fake->members[i]);
            worm_wire_map_close (&w);
        }
    }
    else if (strcmp (verb, "job.held") == 0 || strcmp (verb, "job.cancel") == 0) {
        uint64_t at = 0, units[S_RUNS_MAX];
        worm_wire_get_u64 (&r, r.root, "at", &at);
        size_t n = s_held (fake, units);
        worm_wire_kstr (&w, "verb", verb);
        worm_wire_kstr (&w, "job", "j");
        worm_wire_key (&w, "units");
        worm_wire_array (&w, n);
        for (size_t i = 0; i < n; i++)
            worm_wire_u64 (&w, units[i]);
        worm_wire_kbool (&w, "leaving", false);
        worm_wire_ku64 (&w, "at", at);
        reply = !(fake->mute_held && strcmp (verb, "job.held") == 0);
    }
    else if (strcmp (verb, "job.run") == 0) {
        CHECK (fake->nruns < S_RUNS_MAX);
        s_run_t *run = &fake->runs[fake->nruns++];
        *run = (s_run_t) {.identity = zframe_dup (identity)};
        CHECK_EQ (worm_wire_get_u64 (&r, r.root, "unit", &run->unit), 0);
        CHECK_EQ (worm_wire_get_u64 (&r, r.root, "sent_us", &run->sent_us), 0);
        reply = false;
        if (fake->auto_answer)
            s_answer (fake, run, 1000);
    }
    else
        CHECK_STR (op, "a request a segment serves");
    worm_wire_map_close (&w);
    if (reply) {
        worm_ctl_reply (fake->router, identity, &w);
        fake->answered_us = (uint64_t) zclock_usecs ();
    }
    worm_wire_writer_fini (&w);
    worm_wire_reader_fini (&r);
}

//  Everything waiting on fake's socket (nothing when it is silent)
static void
s_fake_serve (s_fake_t *fake)
{
    while (!fake->silent && (zsock_events (fake->router) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (fake->router);
        CHECK (msg);
        zframe_t *identity = zmsg_pop (msg);
        zframe_t *body = zmsg_pop (msg);
        CHECK (identity && body);
        s_fake_request (fake, identity, body);
        zframe_destroy (&identity);
        zframe_destroy (&body);
        zmsg_destroy (&msg);
    }
}

//  Runs the job and the fakes for ms, or until until() holds (NULL: the
//  whole time). Returns whether until() held.
static bool
s_pump (s_rig_t *rig, int ms, bool (*until) (s_rig_t *rig))
{
    int64_t deadline = zclock_mono () + ms;
    while (zclock_mono () < deadline) {
        worm_job_event_t event;
        worm_jobclient_wait (rig->job, 10, &event);
        if (event.kind == WORM_JOB_STOPPED || event.kind == WORM_JOB_FAILED) {
            fprintf (stderr, "the job's log:\n%s", rig->log);
            CHECK_STR (event.error, "no failure");
        }
        if (event.kind == WORM_JOB_RESULT) {
            CHECK (rig->nevents < S_EVENTS_MAX);
            s_event_t *e = &rig->events[rig->nevents++];
            *e = (s_event_t) {.unit = event.unit, .group = event.group, .size = event.size,
                              .ok = true};
            snprintf (e->segment, sizeof e->segment, "%s", event.segment);
            for (size_t i = 0; i < event.size && e->ok; i++)
                e->ok = ((uint8_t *) event.data)[i] == s_byte (i);
            free (event.data);
        }
        for (int i = 0; i < 3; i++)
            if (rig->fakes[i])
                s_fake_serve (rig->fakes[i]);
        if (until && until (rig))
            return true;
    }
    return false;
}

static bool
s_a_has_unanswered (s_rig_t *rig)
{
    uint64_t units[S_RUNS_MAX];
    return s_held (rig->fakes[0], units) > 0;
}

static size_t s_want;           //  for s_results

static bool
s_results (s_rig_t *rig)
{
    return rig->nevents >= s_want;
}

static bool
s_b_dropped (s_rig_t *rig)
{
    return strstr (rig->log, "segment seg-b is silent for") != NULL;
}

static bool
s_b_back (s_rig_t *rig)
{
    return strstr (rig->log, "segment seg-b answers again") != NULL;
}

static bool
s_c_dropped (s_rig_t *rig)
{
    return strstr (rig->log, "segment seg-c is no longer in the worm") != NULL;
}

static bool
s_b_known (s_rig_t *rig)
{
    return strstr (rig->log, "segment seg-b at") != NULL;
}

static bool
s_b_holds_two (s_rig_t *rig)
{
    uint64_t units[S_RUNS_MAX];
    return s_held (rig->fakes[1], units) == 2;
}

static bool
s_all_done (s_rig_t *rig)
{
    worm_jobq_counts_t counts = worm_jobclient_counts (rig->job);
    return counts.queued == 0 && counts.leased == 0;
}

static int s_refinds;           //  calls of s_refind

//  The job's refind: the worm's segments, as the host agents would name
//  them: here the fake segment arg alone
static int
s_refind (void *arg, char (*endpoints)[WORM_TOKEN_ENDPOINT_MAX], int cap)
{
    s_fake_t *fake = arg;
    s_refinds++;
    if (cap < 1)
        return 0;
    snprintf (endpoints[0], WORM_TOKEN_ENDPOINT_MAX, "%s", fake->endpoint);
    return 1;
}

static bool
s_c_found (s_rig_t *rig)
{
    return strstr (rig->log, "found through the host agents") != NULL;
}

//  Answers every unit fake holds, and from now on each at once
static void
s_answer_all (s_fake_t *fake)
{
    for (size_t i = 0; i < fake->nruns; i++)
        if (!fake->runs[i].answered)
            s_answer (fake, &fake->runs[i], 1000);
    fake->hold = false;
    fake->auto_answer = true;
}

int
main (void)
{
    zsys_init ();
    zcert_t *me = zcert_new ();
    zcert_t *worm = zcert_new ();
    CHECK (me && worm);
    worm_ctl_set_identity (me);
    s_fake_t a, b, c;
    s_fake_new (&a, "seg-a", worm);
    s_fake_new (&b, "seg-b", worm);
    s_fake_new (&c, "seg-c", worm);
    a.members[0] = a.endpoint;

    static s_rig_t rig;
    const char *endpoints[] = {a.endpoint, NULL};
    worm_jobclient_config_t config = {.worm = "w", .app = "test",
                                      .worm_key = zcert_public_txt (worm), .task = "t",
                                      .endpoints = endpoints, .lease_ms = S_LEASE_MS,
                                      .on_log = s_log, .arg = &rig};
    char err[256];
    rig.job = worm_jobclient_new (&config, err, sizeof err);
    CHECK (rig.job);
    rig.fakes[0] = &a;

    //  A result in four parts is one result, its bytes in place, with the
    //  overhead of one unit measured
    size_t big = 3 * WORM_JOB_PART_MAX + 4321;
    CHECK (worm_jobclient_add (rig.job, 7, "x", 1));
    CHECK (s_pump (&rig, 5000, s_a_has_unanswered));
    s_answer (&a, &a.runs[0], big);
    s_want = 1;
    CHECK (s_pump (&rig, 5000, s_results));
    s_want = 2;
    CHECK (!s_pump (&rig, 300, s_results));
    CHECK_EQ (rig.nevents, 1);
    CHECK_EQ (rig.events[0].group, 7);
    CHECK_EQ (rig.events[0].size, big);
    CHECK (rig.events[0].ok);
    CHECK_STR (rig.events[0].segment, "seg-a");
    uint64_t pct[3];
    CHECK_EQ (worm_jobclient_overhead (rig.job, pct), 1);

    //  A result whose second part is missing is dropped; the segment's next
    //  job.held no longer lists the unit, which goes back and runs again;
    //  the late duplicate of a result already taken is dropped
    CHECK (worm_jobclient_add (rig.job, 8, "y", 1));
    CHECK (s_pump (&rig, 5000, s_a_has_unanswered));
    s_run_t *run = &a.runs[1];
    s_answer_part (&a, run, 0, WORM_JOB_PART_MAX, 3 * WORM_JOB_PART_MAX);
    s_answer_part (&a, run, 2 * WORM_JOB_PART_MAX, WORM_JOB_PART_MAX, 3 * WORM_JOB_PART_MAX);
    run->answered = true;       //  as the segment sees it: sent
    CHECK (s_pump (&rig, 5000, s_a_has_unanswered));
    CHECK_EQ (rig.nevents, 1);
    CHECK_HAS (rig.log, "a part of segment seg-a's result is missing: dropped");
    CHECK_HAS (rig.log, "segment seg-a lost 1 unit: back to the queue");
    CHECK_EQ (a.nruns, 3);
    CHECK_EQ (a.runs[2].unit, run->unit);
    s_answer (&a, &a.runs[2], 2 * WORM_JOB_PART_MAX);
    s_answer (&a, &a.runs[2], 2 * WORM_JOB_PART_MAX);
    s_want = 2;
    CHECK (s_pump (&rig, 5000, s_results));
    s_want = 3;
    CHECK (!s_pump (&rig, 300, s_results));
    CHECK_EQ (rig.nevents, 2);
    CHECK_HAS (rig.log, "unit 2: a late result from segment seg-a, dropped");
    CHECK_EQ (rig.events[1].group, 8);
    CHECK_EQ (rig.events[1].size, 2 * WORM_JOB_PART_MAX);
    CHECK (rig.events[1].ok);

    //  A member a newer token lists joins; an older token that does not
    //  list a segment drops nobody; a newer one does
    a.members[1] = b.endpoint;
    a.members[2] = c.endpoint;
    a.seq = 5;
    b.members[0] = b.endpoint;
    b.seq = 3;
    c.members[0] = c.endpoint;
    c.seq = 4;
    rig.fakes[1] = &b;
    rig.fakes[2] = &c;
    CHECK (s_pump (&rig, 5000, s_b_known));
    CHECK (!s_pump (&rig, 2000, s_c_dropped));      //  each asked status, more than once
    CHECK (!strstr (rig.log, "is no longer in the worm"));
    CHECK_EQ (worm_jobclient_segments (rig.job), 3);
    a.members[2] = NULL;
    a.seq = 6;
    CHECK (s_pump (&rig, 5000, s_c_dropped));
    CHECK (!strstr (rig.log, "segment seg-a is no longer") && !strstr (rig.log, "segment seg-b is no longer"));
    CHECK_EQ (worm_jobclient_segments (rig.job), 2);
    rig.fakes[2] = NULL;

    //  seg-b takes two units and holds them, while seg-a answers the rest
    //  and then holds two of its own. Then seg-b answers no more job.held
    //  (which renew its leases); a second and a half later it sends one
    //  result, and then nothing (as a segment that dies after a result
    //  that came after its last job.held answer): the lease of the unit it
    //  still holds lapses a second and a half before it is dropped as
    //  silent, while it is the only one with a free slot. Nothing is leased
    //  to it again; once it is dropped, seg-a does that unit
    b.hold = true;
    a.auto_answer = true;
    for (uint64_t group = 100; group < 110; group++)
        CHECK (worm_jobclient_add (rig.job, group, "z", 1));
    CHECK (s_pump (&rig, 5000, s_b_holds_two));
    s_want = 10;
    CHECK (s_pump (&rig, 5000, s_results));
    a.auto_answer = false;
    a.hold = true;
    for (uint64_t group = 110; group < 112; group++)
        CHECK (worm_jobclient_add (rig.job, group, "z", 1));
    b.mute_held = true;
    CHECK (!s_pump (&rig, 1500, s_b_dropped));
    for (size_t i = 0; i < b.nruns; i++)
        if (!b.runs[i].answered) {
            s_answer (&b, &b.runs[i], 1000);
            break;
        }
    b.silent = true;
    uint64_t quiet_us = b.answered_us;
    CHECK (s_pump (&rig, S_LEASE_MS + 3000, s_b_dropped));
    CHECK_EQ (worm_jobclient_segments (rig.job), 1);
    s_answer_all (&a);
    CHECK (s_pump (&rig, 5000, s_all_done));
    CHECK_EQ (rig.nevents, 14);
    size_t from_a = 0;
    for (size_t i = 2; i < rig.nevents; i++) {
        CHECK (rig.events[i].ok);
        from_a += strcmp (rig.events[i].segment, "seg-a") == 0;
        for (size_t k = 2; k < i; k++)
            CHECK (rig.events[k].group != rig.events[i].group);
    }
    CHECK_EQ (from_a, 11);
    //  What reached seg-b's socket after it went quiet (sent before it was
    //  dropped, long in): no job.run sent later than 2 s (four pings)
    //  after its last answer
    b.silent = false;
    size_t seen = b.nruns;
    s_fake_serve (&b);
    for (size_t i = seen; i < b.nruns; i++)
        CHECK_EQ (b.runs[i].sent_us < quiet_us + 2000000, 1);
    //  Silent for a lease is not gone (that takes 15 s): seg-b, asked on,
    //  answers again and counts again
    CHECK (strstr (rig.log, "seg-b is silent for") && strstr (rig.log, "asked on for 11 s"));
    CHECK (!strstr (rig.log, " s: dropped"));
    b.mute_held = false;
    CHECK (s_pump (&rig, 3000, s_b_back));
    CHECK_EQ (worm_jobclient_segments (rig.job), 2);

    worm_jobclient_destroy (&rig.job);

    //  A job whose only segment goes silent asks refind for the worm's
    //  segments (not while one answers), joins those it did not know, and
    //  its unit is done there
    static s_rig_t again;
    for (size_t i = 0; i < a.nruns; i++)
        a.runs[i].answered = true;
    a.silent = false;
    a.hold = false;
    a.auto_answer = false;
    a.members[1] = NULL;
    c.members[0] = c.endpoint;
    c.auto_answer = true;
    config.arg = &again;
    config.refind = s_refind;
    config.refind_arg = &c;
    again.job = worm_jobclient_new (&config, err, sizeof err);
    CHECK (again.job);
    again.fakes[0] = &a;
    CHECK (!s_pump (&again, 2000, s_c_found));
    CHECK_EQ (s_refinds, 0);
    a.silent = true;
    CHECK (worm_jobclient_add (again.job, 300, "r", 1));
    again.fakes[1] = &c;
    s_want = 1;
    CHECK (s_pump (&again, 5000, s_results));
    CHECK (s_refinds >= 1);
    CHECK (s_c_found (&again));
    CHECK_STR (again.events[0].segment, "seg-c");
    CHECK (again.events[0].ok);
    worm_jobclient_destroy (&again.job);
    s_fake_destroy (&a);
    s_fake_destroy (&b);
    s_fake_destroy (&c);
    zcert_destroy (&me);
    zcert_destroy (&worm);
    return check_done ("worm.jobclient");
}
