/*  segment_test.c — the worm-segment process on loopback, with the test
    as its host agent, its launcher and the segment that spawned it; no
    wormd, no cluster.

    Each step of its start refuses what it cannot use, with the reason
    (exit 1, "cannot start: ..."): an unknown app, no or a wrong secret on
    stdin, a key that is not one, an address it cannot bind. A founder
    registers with its agent and answers requests by key: status to its
    launcher and its agent, no connection at all for a stranger, a refusal
    for an op outside the caller's roles, and a kill, after which it exits.
    A joiner introduces itself to its spawner with a join that the segment's
    table accepts, and leaves on SIGTERM. A joiner told its spawner's host
    and pid finds that host by broadcast query (the test answers it) and
    asks its agent, relayed through ours, whether the spawner runs: it
    waits while the answer is yes, and exits when the spawner is gone.

    Usage: test_segments_segment PATH-TO-worm-segment */
#include "auth.h"
#include "ctl.h"
#include "log.h"
#include "ops.h"
#include "beacon.h"
#include "udp.h"
#include "../tests/check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORM_ID "w-5678"

static const char *s_program;       //  the worm-segment to run
static pid_t s_child;               //  the segment running, 0: none
static char s_log[64];              //  where its stderr goes
static worm_auth_t *s_auth;         //  our ZAP handler: lets every key in, names it
static char s_agent_endpoint[128];  //  the test's agent
static zsock_t *s_notices;          //  to the joiner, as its agent: death notices

//  Whatever happens to the test, no segment outlives it.
static void
s_cleanup (void)
{
    if (s_child > 0) {
        kill (s_child, SIGKILL);
        waitpid (s_child, NULL, 0);
    }
    if (s_log[0])
        unlink (s_log);
}

typedef struct {
    const char *app;            //  --app
    bool join;                  //  --join (else --found)
    const char *spawner;        //  join: --spawner
    const char *spawn_id;       //  join: --spawn-id (default sp-9)
    const char *extra[8];       //  more words of the command line, NULL-ended
    const char *secret;         //  what stdin holds
    const char *env[16];        //  NAME=VALUE, NULL-ended
} s_run_t;

//  Starts worm-segment as run says, its stderr into s_log; sets s_child.
static void
s_start (const s_run_t *run)
{
    int in[2];
    CHECK_EQ (pipe (in), 0);
    int log = open (s_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK (log >= 0);
    const char *spawn_id = run->spawn_id ? run->spawn_id : "sp-9";
    const char *argv[32] = {s_program, run->join ? "--join" : "--found", "--worm-id", WORM_ID,
                            "--name", "clock", "--app", run->app ? run->app : "existential",
                            run->join ? "--spawner" : "--size", run->join ? run->spawner : "1",
                            run->join ? "--spawn-id" : "--max", run->join ? spawn_id : "1",
                            "--hold", "50", NULL};
    for (int i = 0, n = 14; run->extra[i] && n < 31; i++)
        argv[n++] = run->extra[i];
    s_child = fork ();
    CHECK (s_child >= 0);
    if (s_child == 0) {
        dup2 (in[0], 0);
        dup2 (log, 2);
        close (in[0]);
        close (in[1]);
        close (log);
        clearenv ();
        for (int i = 0; run->env[i]; i++)
            putenv ((char *) run->env[i]);
        execv (s_program, (char **) argv);
        _exit (127);
    }
    close (in[0]);
    close (log);
    size_t len = strlen (run->secret);
    CHECK_EQ (write (in[1], run->secret, len), (ssize_t) len);
    close (in[1]);
}

//  Waits up to timeout_ms for the segment to exit; returns its exit status
//  (-1 when it was signalled). A segment still running fails the test.
static int
s_wait_exit (int timeout_ms)
{
    int64_t deadline = worm_now_ms () + timeout_ms;
    int status = 0;
    pid_t done = 0;
    while ((done = waitpid (s_child, &status, WNOHANG)) == 0 && worm_now_ms () < deadline)
        zclock_sleep (10);
    CHECK_EQ (done, s_child);
    s_child = 0;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  What the segment logged.
static const char *
s_logged (void)
{
    static char text[16384];
    FILE *file = fopen (s_log, "r");
    CHECK (file != NULL);
    size_t got = fread (text, 1, sizeof text - 1, file);
    text[got] = 0;
    fclose (file);
    return text;
}

//  A segment that cannot start: exit status 1 and "cannot start: why".
static void
s_expect_refusal (const s_run_t *run, const char *why)
{
    s_start (run);
    CHECK_EQ (s_wait_exit (10000), 1);
    char line[512];
    snprintf (line, sizeof line, "cannot start: %s", why);
    CHECK_HAS (s_logged (), line);
}

//  NAME=VALUE in a buffer that lives as long as the test.
static const char *
s_env (const char *name, const char *value)
{
    static char texts[16][256];
    static int used;
    CHECK (used < 16);
    snprintf (texts[used], sizeof texts[used], "%s=%s", name, value);
    return texts[used++];
}

static bool
s_allow_all (void *arg, const char *key, char *why, size_t cap)
{
    (void) arg;
    (void) key;
    (void) why;
    (void) cap;
    return true;
}

//  Waits up to 5 s for sock to be readable, answering ZAP meanwhile; a
//  socket that stays silent fails the test, showing what the segment logged.
static void
s_wait_readable (zsock_t *sock)
{
    zpoller_t *poller = zpoller_new (sock, worm_auth_socket (s_auth), NULL);
    int64_t deadline = worm_now_ms () + 5000;
    void *which = NULL;
    while (which != sock && worm_now_ms () < deadline) {
        which = zpoller_wait (poller, 50);
        if (which == worm_auth_socket (s_auth))
            worm_auth_handle (s_auth);
    }
    zpoller_destroy (&poller);
    if (which != sock)
        fprintf (stderr, "segment_test: nothing within 5 s; the segment logged:\n%s",
                 s_logged ());
    CHECK (which == sock);
}

//  Receives one request on router within 5 s: parsed into reader, its
//  sender's key into key, the client's identity into *identity.
static void
s_recv_request (zsock_t *router, worm_wire_reader_t *reader, char *key, zframe_t **identity)
{
    s_wait_readable (router);
    zmsg_t *msg = zmsg_recv (router);
    CHECK (msg != NULL);
    *identity = zmsg_pop (msg);
    //  A ring message would have two frames; a request has one
    CHECK_EQ (zmsg_size (msg), 1);
    zframe_t *payload = zmsg_pop (msg);
    const char *sender = worm_curve_sender (payload);
    snprintf (key, WORM_KEY_LEN + 1, "%s", sender ? sender : "");
    CHECK_EQ (worm_wire_parse (reader, zframe_data (payload), zframe_size (payload), 1 << 20), 0);
    zframe_destroy (&payload);
    zmsg_destroy (&msg);
}

//  Sends the joiner, as its agent, a notice that its spawner sp-9 may be dead.
static void
s_suspect_spawner (void)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kstr (&writer, "op", "suspect");
    worm_wire_kstr (&writer, "id", "sp-9");
    worm_wire_map_close (&writer);
    CHECK_EQ (zmq_send (zsock_resolve (s_notices), worm_wire_writer_data (&writer),
                        worm_wire_writer_size (&writer), 0),
              (int) worm_wire_writer_size (&writer));
    worm_wire_writer_fini (&writer);
}

//  Plays the spawner's host agent for a joiner that checks on its spawner
//  (pid 4242 on host 00000000000000dd): answers its alive requests, relayed
//  to that host by id (as an agent that heard the host would):
//  "alive" the first time, "gone" the second. Joins to the spawner are
//  read and dropped. Returns the number of alive requests answered, once
//  the segment exits or 10 s pass.
static int
s_answer_spawner_checks (zsock_t *router, zsock_t *spawner)
{
    int checks = 0;
    int64_t deadline = worm_now_ms () + 8000;   //  before a periodic check (10 s)
    siginfo_t info = {0};
    s_suspect_spawner ();
    while (worm_now_ms () < deadline
           && waitid (P_PID, (id_t) s_child, &info, WEXITED | WNOHANG | WNOWAIT) == 0
           && info.si_pid == 0) {
        zmq_pollitem_t items[] = {{zsock_resolve (router), 0, ZMQ_POLLIN, 0},
                                  {zsock_resolve (spawner), 0, ZMQ_POLLIN, 0},
                                  {zsock_resolve (worm_auth_socket (s_auth)), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 3, 50) <= 0)
            continue;
        if (items[2].revents)
            worm_auth_handle (s_auth);
        if (items[1].revents) {
            zmsg_t *join = zmsg_recv (spawner);
            zmsg_destroy (&join);
        }
        if (items[0].revents) {
            worm_wire_reader_t reader;
            worm_wire_reader_init (&reader);
            char key[WORM_KEY_LEN + 1], text[128];
            zframe_t *identity = NULL;
            s_recv_request (router, &reader, key, &identity);
            CHECK_EQ (worm_wire_get_str (&reader, reader.root, "op", text, sizeof text), 0);
            CHECK_STR (text, "relay");
            //  To the spawner's host by id: we, its agent, know where it is
            CHECK_EQ (worm_wire_get_str (&reader, reader.root, "host", text, sizeof text), 0);
            CHECK_STR (text, "00000000000000dd");
            const msgpack_object *inner;
            CHECK_EQ (worm_wire_get_map (&reader, reader.root, "request", &inner), 0);
            CHECK_EQ (worm_wire_get_str (&reader, inner, "op", text, sizeof text), 0);
            CHECK_STR (text, "alive");
            uint64_t pid = 0;
            CHECK_EQ (worm_wire_get_u64 (&reader, inner, "pid", &pid), 0);
            CHECK_EQ (pid, 4242);
            checks++;
            worm_wire_writer_t writer;
            worm_wire_writer_init (&writer);
            worm_wire_map_open (&writer);
            worm_wire_kbool (&writer, "ok", true);
            worm_wire_kbool (&writer, "alive", checks < 2);
            worm_wire_map_close (&writer);
            worm_ctl_reply (router, identity, &writer);
            if (checks == 1)
                s_suspect_spawner ();   //  another notice: asked again at once
            worm_wire_writer_fini (&writer);
            zframe_destroy (&identity);
            worm_wire_reader_fini (&reader);
        }
    }
    return checks;
}

int
main (int argc, char **argv)
{
    CHECK_EQ (argc, 2);
    s_program = argv[1];
    zsys_init ();
    zsys_set_logstream (NULL);
    worm_log_init ("segment-test", NULL);
    snprintf (s_log, sizeof s_log, "/tmp/segment_test.XXXXXX");
    int fd = mkstemp (s_log);
    CHECK (fd >= 0);
    close (fd);
    atexit (s_cleanup);

    zcert_t *worm = zcert_new ();
    zcert_t *agent = zcert_new ();
    zcert_t *launcher = zcert_new ();
    zcert_t *stranger = zcert_new ();
    const char *worm_key = zcert_public_txt (worm);
    char port[16];
    snprintf (port, sizeof port, "%d", worm_udp_free_port ());

    //  The test's agent: a CURVE server with the agent's key
    char err[512];
    s_auth = worm_auth_new (s_allow_all, NULL, err, sizeof err);
    CHECK (s_auth != NULL);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (router, 0);
    worm_curve_server (router, agent);
    CHECK_EQ (worm_ctl_bind (router, "127.0.0.1", s_agent_endpoint, sizeof s_agent_endpoint), 0);
    const char *agent_endpoint = s_agent_endpoint;

    const char *base[] = {s_env ("WORM_AGENT", agent_endpoint),
                          s_env ("WORM_AGENT_KEY", zcert_public_txt (agent)),
                          s_env ("WORM_LAUNCHER_KEY", zcert_public_txt (launcher)),
                          s_env ("WORM_KEY_PUBLIC", worm_key),
                          s_env ("WORM_GUEST_ID", "g7"),
                          s_env ("WORM_HOST", "testhost"),
                          s_env ("WORM_HOST_ID", "00000000000000cc"),
                          s_env ("WORM_BROADCAST", "127.255.255.255"),
                          s_env ("WORM_BEACON_PORT", port),
                          s_env ("WORM_LOCAL_ADDR", "127.0.0.1")};
    size_t nbase = sizeof base / sizeof base[0];
    s_run_t run = {.secret = zcert_secret_txt (worm)};
    for (size_t i = 0; i < nbase; i++)
        run.env[i] = base[i];

    //  Each step of the start refuses what it cannot use
    run.app = "nope";
    s_expect_refusal (&run, "no app named 'nope'");
    run.app = NULL;
    run.secret = "";
    s_expect_refusal (&run, "no worm keypair (WORM_KEY_PUBLIC, and the secret on stdin)");
    run.secret = zcert_secret_txt (stranger);
    s_expect_refusal (&run, "no worm keypair (WORM_KEY_PUBLIC, and the secret on stdin)");
    run.secret = zcert_secret_txt (worm);
    run.env[2] = "WORM_LAUNCHER_KEY=not-a-key";
    s_expect_refusal (&run, "WORM_AGENT_KEY or WORM_LAUNCHER_KEY is not a public key");
    run.env[2] = base[2];
    run.env[7] = "WORM_BROADCAST=300.1.1.1";
    s_expect_refusal (&run, "broadcast address '300.1.1.1' is not an IPv4 address");
    run.env[7] = base[7];
    //  An address no interface of this machine has (binding sends nothing)
    run.env[9] = "WORM_LOCAL_ADDR=192.0.2.1";
    s_expect_refusal (&run, "cannot bind on 192.0.2.1");
    run.env[9] = base[9];

    //  A founder registers with its agent, speaking with the worm's key
    s_start (&run);
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    char key[WORM_KEY_LEN + 1], text[128], id[WORM_TOKEN_ID_MAX], endpoint[128];
    zframe_t *identity;
    s_recv_request (router, &reader, key, &identity);
    CHECK_STR (key, worm_key);
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "op", text, sizeof text), 0);
    CHECK_STR (text, "segment");
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "guest", text, sizeof text), 0);
    CHECK_STR (text, "g7");
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "worm_id", text, sizeof text), 0);
    CHECK_STR (text, WORM_ID);
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "id", id, sizeof id), 0);
    CHECK (strncmp (id, "testhost-", 9) == 0 && strlen (id) == 17);
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "endpoint", endpoint, sizeof endpoint), 0);
    CHECK (strncmp (endpoint, "tcp://127.0.0.1:", 16) == 0);
    worm_ctl_reply_ok (router, identity);
    zframe_destroy (&identity);
    worm_wire_reader_fini (&reader);

    //  Its launcher and its agent may ask its status
    zcert_t *callers[] = {launcher, agent};
    for (int i = 0; i < 2; i++) {
        worm_ctl_set_identity (callers[i]);
        worm_wire_reader_init (&reader);
        CHECK_EQ (worm_ctl_request (endpoint, worm_key, "status", NULL, NULL, 5000, &reader, err,
                                    sizeof err),
                  0);
        CHECK_EQ (worm_wire_get_str (&reader, reader.root, "id", text, sizeof text), 0);
        CHECK_STR (text, id);
        CHECK_EQ (worm_wire_get_str (&reader, reader.root, "worm", text, sizeof text), 0);
        CHECK_STR (text, "clock");
        CHECK_EQ (worm_wire_get_str (&reader, reader.root, "app", text, sizeof text), 0);
        CHECK_STR (text, "existential");
        CHECK_EQ (worm_wire_get_str (&reader, reader.root, "endpoint", text, sizeof text), 0);
        CHECK_STR (text, endpoint);
        uint64_t number = 0;
        CHECK_EQ (worm_wire_get_u64 (&reader, reader.root, "pid", &number), 0);
        CHECK_EQ (number, s_child);
        CHECK_EQ (worm_wire_get_u64 (&reader, reader.root, "live", &number), 0);
        CHECK_EQ (number, 1);
        worm_wire_reader_fini (&reader);
    }
    //  A stranger does not get a connection
    worm_ctl_set_identity (stranger);
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_ctl_request (endpoint, worm_key, "status", NULL, NULL, 5000, &reader, err,
                                sizeof err),
              -2);
    CHECK_HAS (err, "refused our key");
    worm_wire_reader_fini (&reader);
    //  A request the table refuses gets no answer at all (logged, and
    //  rate-limited: it comes first)
    worm_ctl_set_identity (launcher);
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_ctl_request (endpoint, worm_key, "claim", NULL, NULL, 300, &reader, err,
                                sizeof err),
              -1);
    worm_wire_reader_fini (&reader);
    //  An op outside the caller's roles is refused, by name
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_ctl_request (endpoint, worm_key, "evict", NULL, NULL, 5000, &reader, err,
                                sizeof err),
              -2);
    char expected[256];
    snprintf (expected, sizeof expected, "segment %s refused op 'evict' from key %s", id,
              zcert_public_txt (launcher));
    CHECK_HAS (err, expected);
    worm_wire_reader_fini (&reader);
    //  The launcher kills the worm: its only segment exits
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_ctl_request (endpoint, worm_key, "kill", NULL, NULL, 5000, &reader, err,
                                sizeof err),
              0);
    worm_wire_reader_fini (&reader);
    CHECK_EQ (s_wait_exit (10000), 0);
    const char *logged = s_logged ();
    CHECK_HAS (logged, "founded worm clock (" WORM_ID "), app existential, size 1, max 1");
    CHECK_HAS (logged, "refused a request: unknown op 'claim'");
    CHECK_HAS (logged, "kill requested");
    CHECK_HAS (logged, "exiting: ");

    //  A joiner introduces itself to its spawner, with the worm's key, in a
    //  join that the segment's table accepts
    zsock_t *spawner = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (spawner, 0);
    worm_curve_server (spawner, worm);
    char spawner_endpoint[128];
    CHECK_EQ (worm_ctl_bind (spawner, "127.0.0.1", spawner_endpoint, sizeof spawner_endpoint),
              0);
    run.join = true;
    run.spawner = spawner_endpoint;
    s_start (&run);
    //  It registers with its agent first
    worm_wire_reader_init (&reader);
    s_recv_request (router, &reader, key, &identity);
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "id", id, sizeof id), 0);
    worm_ctl_reply_ok (router, identity);
    zframe_destroy (&identity);
    worm_wire_reader_fini (&reader);
    s_wait_readable (spawner);
    zmsg_t *raw = zmsg_recv (spawner);
    CHECK (raw && zmsg_size (raw) == 2);
    zframe_t *from = zmsg_pop (raw);
    zframe_t *payload = zmsg_pop (raw);
    CHECK_STR (worm_curve_sender (payload), worm_key);
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_request_check (zframe_data (payload), zframe_size (payload),
                                  &worm_segment_requests, &reader, err, sizeof err),
              0);
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "op", text, sizeof text), 0);
    CHECK_STR (text, "join");
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "worm", text, sizeof text), 0);
    CHECK_STR (text, WORM_ID);
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "spawn_id", text, sizeof text), 0);
    CHECK_STR (text, "sp-9");
    const msgpack_object *member;
    CHECK_EQ (worm_wire_get_map (&reader, reader.root, "member", &member), 0);
    CHECK_EQ (worm_wire_get_str (&reader, member, "id", text, sizeof text), 0);
    CHECK_STR (text, id);
    CHECK_EQ (worm_wire_get_str (&reader, member, "host_id", text, sizeof text), 0);
    CHECK_STR (text, "00000000000000cc");
    uint64_t pid = 0;
    CHECK_EQ (worm_wire_get_u64 (&reader, member, "pid", &pid), 0);
    CHECK_EQ (pid, s_child);
    worm_wire_reader_fini (&reader);
    zframe_destroy (&from);
    zframe_destroy (&payload);
    zmsg_destroy (&raw);
    //  SIGTERM: a joiner without a token leaves at once
    kill (s_child, SIGTERM);
    CHECK_EQ (s_wait_exit (10000), 0);
    CHECK_HAS (s_logged (), "joining worm clock through tcp://127.0.0.1:");
    CHECK_HAS (s_logged (), "stopped by signal; leaving the worm");

    //  A joiner that knows its spawner's host and pid asks that host's
    //  agent, through its own, whether the spawner still runs once it has
    //  waited SPAWNER_CHECK_MS without a token: it waits on while the
    //  answer is "alive", and exits when the spawner is gone (nobody else
    //  knows of it: it would wait out the join deadline)
    run.spawn_id = "sp-9/1";
    run.extra[0] = "--spawner-host=00000000000000dd";
    run.extra[1] = "--spawner-pid=4242";
    s_start (&run);
    s_recv_request (router, &reader, key, &identity);
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "op", text, sizeof text), 0);
    CHECK_STR (text, "segment");
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "endpoint", endpoint, sizeof endpoint), 0);
    worm_ctl_reply_ok (router, identity);
    zframe_destroy (&identity);
    worm_wire_reader_fini (&reader);
    //  As its agent, pass on a death notice of the spawner: the joiner asks
    //  at once (not after SPAWNER_CHECK_MS), and again at the next notice
    worm_ctl_set_identity (agent);
    zsock_t *notices = worm_ctl_connect (endpoint, worm_key, err, sizeof err);
    CHECK (notices != NULL);
    s_notices = notices;
    int checks = s_answer_spawner_checks (router, spawner);
    zsock_destroy (&notices);
    s_notices = NULL;
    if (checks != 2)
        fprintf (stderr, "segment_test: %d alive checks; the segment logged:\n%s", checks, s_logged ());
    CHECK_EQ (checks, 2);
    CHECK_EQ (s_wait_exit (10000), 0);
    CHECK_HAS (s_logged (), "exiting: never joined: the segment that asked for us (sp-9) is gone");

    zsock_destroy (&spawner);
    zsock_destroy (&router);
    zcert_destroy (&worm);
    zcert_destroy (&agent);
    zcert_destroy (&launcher);
    zcert_destroy (&stranger);
    worm_auth_destroy (&s_auth);
    return check_done ("segment");
}
