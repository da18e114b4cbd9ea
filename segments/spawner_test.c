/*  spawner_test.c — the spawner actor against a fake host on loopback: a
    UDP socket on a free beacon port that answers "who is willing?" as one
    willing host, and a ROUTER that plays our own host agent and answers
    the relays the spawner sends through it (claim, spawn, alive). Checks
    what the spawner asks (the claim for our worm, a joiner's spawn with
    the worm's keys and the spawn id) and what it reports: STARTED with the
    host and pid, FAILED with the reason (nobody answered, every host is
    excluded, the host refused, the owner is stopping, an unknown
    command), GONE only on the agent's word that the process is gone. */
#include "spawner.h"
#include "beacon.h"
#include "ctl.h"
#include "log.h"
#include "../tests/check.h"

#include <poll.h>
#include <unistd.h>

#define HOST_ID "00000000000000aa"
#define HOST_NAME "fakehost"
#define HOST_ENDPOINT "tcp://127.0.0.1:1"   //  only named in relays, never dialled

//  How the fake agent answers a relayed request
typedef enum {
    FAKE_OK,            //  claim, spawn and alive succeed (alive: the pid is gone)
    FAKE_REFUSE,        //  every claim is refused
    FAKE_ALIVE,         //  alive: the pid still runs
} s_mode_t;

typedef struct {
    int udp;                        //  the fake host's beacon listener
    bool answering;                 //  it answers queries
    zsock_t *agent;                 //  the fake agent's ROUTER
    char agent_endpoint[128];       //  where it listens
    s_mode_t mode;                  //  how it answers
    char host_key[41];              //  the fake host's public key
    //  What the agent saw last
    char last_op[32];               //  the relayed op
    char last_to[128];              //  the relay's destination
    char last_key[64];              //  and its key
    char last_worm[64];             //  claim: the worm named
    char last_spawn_id[64];         //  spawn: the segment's spawn id
    char last_role[16];             //  spawn: the segment's role
    char last_spawner[128];         //  spawn: the segment that asked
    bool last_keys;                 //  spawn: the worm's keypair came with it
    uint64_t last_pid;              //  alive: the pid asked about
    char last_host[64];             //  a relay to a host by id: the id ("" when by endpoint)
    bool knows_host;                //  the agent heard the fake host (a relay by its id works)
    int relays;                     //  relays answered
    int queries;                    //  queries answered
} s_fake_t;

//  Answers one query on the fake host's beacon port, if it is one.
static void
s_answer_query (s_fake_t *fake)
{
    char buf[WORM_BEACON_MAX + 1];
    struct sockaddr_in from;
    ssize_t size;
    while ((size = worm_udp_recv (fake->udp, buf, sizeof buf, &from)) >= 0) {
        worm_beacon_t query;
        char err[256];
        if (worm_beacon_decode (buf, (size_t) size, &query, err, sizeof err)
            || query.kind != WORM_BEACON_QUERY || !fake->answering)
            continue;
        worm_beacon_t answer = {.kind = WORM_BEACON_ANSWER, .qid = query.qid,
                                .host = {.id = HOST_ID, .name = HOST_NAME,
                                         .endpoint = HOST_ENDPOINT, .willing = true,
                                         .reason = "idle", .max_segments = 4,
                                         .interval_ms = 1000, .caps = "spawn"}};
        snprintf (answer.host.key, sizeof answer.host.key, "%s", fake->host_key);
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_beacon_encode (&answer, &writer);
        CHECK_EQ (worm_udp_sendto (fake->udp, &from, worm_wire_writer_data (&writer),
                                   worm_wire_writer_size (&writer)),
                  0);
        worm_wire_writer_fini (&writer);
        fake->queries++;
    }
}

//  Answers one relay on the fake agent's ROUTER as fake->mode says.
static void
s_answer_relay (s_fake_t *fake)
{
    zmsg_t *msg = zmsg_recv (fake->agent);
    CHECK (msg && zmsg_size (msg) == 2);
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *payload = zmsg_pop (msg);
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    CHECK_EQ (worm_wire_parse (&reader, zframe_data (payload), zframe_size (payload), 1 << 20), 0);
    char op[32];
    const msgpack_object *inner;
    CHECK_EQ (worm_wire_get_str (&reader, reader.root, "op", op, sizeof op), 0);
    CHECK_STR (op, "relay");
    fake->last_host[0] = 0;
    if (worm_wire_field (reader.root, "host")) {
        //  To a host by id: the agent's registry knows it, or not
        CHECK_EQ (worm_wire_get_str (&reader, reader.root, "host", fake->last_host,
                                     sizeof fake->last_host),
                  0);
        snprintf (fake->last_to, sizeof fake->last_to, "%s", HOST_ENDPOINT);
        snprintf (fake->last_key, sizeof fake->last_key, "%s", fake->host_key);
    }
    else {
        CHECK_EQ (worm_wire_get_str (&reader, reader.root, "to", fake->last_to,
                                     sizeof fake->last_to),
                  0);
        CHECK_EQ (worm_wire_get_str (&reader, reader.root, "key", fake->last_key,
                                     sizeof fake->last_key),
                  0);
    }
    CHECK_EQ (worm_wire_get_map (&reader, reader.root, "request", &inner), 0);
    CHECK_EQ (worm_wire_get_str (&reader, inner, "op", fake->last_op, sizeof fake->last_op), 0);
    worm_wire_writer_t reply;
    worm_wire_writer_init (&reply);
    if (fake->last_host[0] && !(fake->knows_host && streq (fake->last_host, HOST_ID))) {
        char error[128];
        snprintf (error, sizeof error, "relay: host %s is not known here", fake->last_host);
        zframe_t *frame = worm_ctl_error_frame (error);
        zframe_send (&identity, fake->agent, ZFRAME_MORE | ZFRAME_REUSE);
        zframe_send (&frame, fake->agent, 0);
    }
    else if (streq (fake->last_op, "claim")) {
        CHECK_EQ (worm_wire_get_str (&reader, inner, "worm", fake->last_worm,
                                     sizeof fake->last_worm),
                  0);
        if (fake->mode == FAKE_REFUSE) {
            zframe_t *error = worm_ctl_error_frame ("host is not willing (busy)");
            zframe_send (&identity, fake->agent, ZFRAME_MORE | ZFRAME_REUSE);
            zframe_send (&error, fake->agent, 0);
        }
        else {
            worm_wire_map (&reply, 2);
            worm_wire_kbool (&reply, "ok", true);
            worm_wire_kstr (&reply, "claim", "0123456789abcdef");
        }
    }
    else if (streq (fake->last_op, "spawn")) {
        const msgpack_object *segment;
        CHECK_EQ (worm_wire_get_map (&reader, inner, "segment", &segment), 0);
        CHECK_EQ (worm_wire_get_str (&reader, segment, "spawn_id", fake->last_spawn_id,
                                     sizeof fake->last_spawn_id),
                  0);
        CHECK_EQ (worm_wire_get_str (&reader, segment, "role", fake->last_role,
                                     sizeof fake->last_role),
                  0);
        CHECK_EQ (worm_wire_get_str (&reader, segment, "spawner", fake->last_spawner,
                                     sizeof fake->last_spawner),
                  0);
        char key[64];
        fake->last_keys = worm_wire_get_str (&reader, inner, "worm_public", key, sizeof key) == 0
                          && worm_wire_get_str (&reader, inner, "worm_secret", key, sizeof key)
                                 == 0;
        worm_wire_map (&reply, 2);
        worm_wire_kbool (&reply, "ok", true);
        worm_wire_ku64 (&reply, "pid", 4242);
    }
    else {
        CHECK_STR (fake->last_op, "alive");
        CHECK_EQ (worm_wire_get_u64 (&reader, inner, "pid", &fake->last_pid), 0);
        worm_wire_map (&reply, 2);
        worm_wire_kbool (&reply, "ok", true);
        worm_wire_kbool (&reply, "alive", fake->mode == FAKE_ALIVE);
    }
    if (worm_wire_writer_size (&reply))
        worm_ctl_reply (fake->agent, identity, &reply);
    fake->relays++;
    worm_wire_writer_fini (&reply);
    worm_wire_reader_fini (&reader);
    zframe_destroy (&identity);
    zframe_destroy (&payload);
    zmsg_destroy (&msg);
}

//  Plays the fake host and agent until the spawner reports, for at most
//  5 s; the report's frames go to words (three, "" when absent). A report
//  that does not come fails the test.
static void
s_wait_report (s_fake_t *fake, zactor_t *spawner, char words[3][256])
{
    int64_t deadline = worm_now_ms () + 5000;
    zpoller_t *poller = zpoller_new (spawner, fake->agent, NULL);
    while (worm_now_ms () < deadline) {
        struct pollfd pfd = {.fd = fake->udp, .events = POLLIN};
        if (poll (&pfd, 1, 0) > 0)
            s_answer_query (fake);
        void *which = zpoller_wait (poller, 5);
        if (which == fake->agent)
            s_answer_relay (fake);
        else if (which == spawner) {
            zmsg_t *msg = zmsg_recv (spawner);
            CHECK (msg != NULL);
            for (int i = 0; i < 3; i++) {
                char *word = zmsg_popstr (msg);
                snprintf (words[i], 256, "%s", word ? word : "");
                zstr_free (&word);
            }
            zmsg_destroy (&msg);
            zpoller_destroy (&poller);
            return;
        }
    }
    zpoller_destroy (&poller);
    fprintf (stderr, "spawner_test: no report within 5 s\n");
    CHECK (false);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    worm_log_init ("spawner-test", NULL);
    zcert_t *worm = zcert_new ();
    zcert_t *agent_cert = zcert_new ();
    zcert_t *host_cert = zcert_new ();
    //  The spawner speaks with the worm's key, as a segment does
    worm_ctl_set_identity (worm);

    s_fake_t fake = {.answering = true, .mode = FAKE_OK};
    snprintf (fake.host_key, sizeof fake.host_key, "%s", zcert_public_txt (host_cert));
    worm_spawner_config_t config = {.stop = NULL};
    char err[256];
    int port = worm_udp_free_port ();
    CHECK (port > 0);
    CHECK_EQ (worm_lan_resolve ("127.255.255.255", NULL, port, &config.lan, err, sizeof err), 0);
    fake.udp = worm_udp_listen (&config.lan, err, sizeof err);
    CHECK (fake.udp >= 0);
    fake.agent = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (fake.agent, 0);
    worm_curve_server (fake.agent, agent_cert);
    CHECK_EQ (worm_ctl_bind (fake.agent, "127.0.0.1", fake.agent_endpoint,
                             sizeof fake.agent_endpoint),
              0);

    atomic_bool stop = false;
    config.stop = &stop;
    snprintf (config.worm, sizeof config.worm, "clock");
    snprintf (config.agent, sizeof config.agent, "%s", fake.agent_endpoint);
    snprintf (config.agent_key, sizeof config.agent_key, "%s", zcert_public_txt (agent_cert));
    snprintf (config.worm_public, sizeof config.worm_public, "%s", zcert_public_txt (worm));
    snprintf (config.worm_secret, sizeof config.worm_secret, "%s", zcert_secret_txt (worm));
    config.joiner = (worm_segspec_t) {.found = false, .worm_id = "w-1234", .worm = "clock",
                                      .app = "existential",
                                      .spawner = "tcp://127.0.0.1:5555"};
    zactor_t *spawner = worm_spawner_new (&config);
    CHECK (spawner != NULL);
    char words[3][256];

    //  An unknown command is answered, not ignored
    zstr_sendx (spawner, "BOGUS", "sp-0", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "FAILED");
    CHECK_STR (words[1], "sp-0");
    CHECK_STR (words[2], "unknown command BOGUS");
    CHECK_EQ (fake.relays, 0);

    //  A spawn: the host answers, our agent relays the claim and the spawn
    zstr_sendx (spawner, "SPAWN", "sp-1", "", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "STARTED");
    CHECK_STR (words[1], "sp-1");
    CHECK_STR (words[2], HOST_NAME);
    CHECK_EQ (fake.relays, 2);
    CHECK_STR (fake.last_op, "spawn");
    CHECK_STR (fake.last_to, HOST_ENDPOINT);
    CHECK_STR (fake.last_key, fake.host_key);
    CHECK_STR (fake.last_worm, "clock");
    CHECK_STR (fake.last_spawn_id, "sp-1");
    CHECK_STR (fake.last_role, "join");
    CHECK_STR (fake.last_spawner, "tcp://127.0.0.1:5555");
    CHECK (fake.last_keys);

    //  Every host already holds the worm
    fake.relays = 0;
    zstr_sendx (spawner, "SPAWN", "sp-2", "0000000000000001," HOST_ID, NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "FAILED");
    CHECK_STR (words[1], "sp-2");
    CHECK_STR (words[2], "the 1 willing host(s) already hold this worm");
    CHECK_EQ (fake.relays, 0);

    //  The host refuses the claim
    fake.mode = FAKE_REFUSE;
    zstr_sendx (spawner, "SPAWN", "sp-3", "", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "FAILED");
    CHECK_STR (words[1], "sp-3");
    CHECK_HAS (words[2], "1 willing host(s) refused; last: ");
    CHECK_HAS (words[2], "host is not willing (busy)");
    CHECK_STR (fake.last_op, "claim");

    //  CHECK: the host's agent says the process is gone, then that it runs;
    //  a process still running is reported by no word at all, so the next
    //  report is the one of the command after it. Our agent heard that
    //  host: the check is relayed to it by id, with no broadcast query
    fake.mode = FAKE_OK;
    fake.knows_host = true;
    fake.queries = 0;
    zstr_sendx (spawner, "CHECK", "host9-0000abcd", HOST_ID, "777", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "GONE");
    CHECK_STR (words[1], "host9-0000abcd");
    CHECK_STR (fake.last_op, "alive");
    CHECK_STR (fake.last_host, HOST_ID);
    CHECK_EQ (fake.last_pid, 777);
    CHECK_EQ (fake.queries, 0);
    //  Our agent has not heard it (a lost beacon): found by a query, then
    //  relayed to its endpoint
    fake.knows_host = false;
    fake.relays = 0;
    zstr_sendx (spawner, "CHECK", "host9-0000abcd", HOST_ID, "778", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "GONE");
    CHECK_EQ (fake.last_pid, 778);
    CHECK_STR (fake.last_host, "");
    CHECK_STR (fake.last_to, HOST_ENDPOINT);
    CHECK_EQ (fake.queries, 1);
    CHECK_EQ (fake.relays, 2);
    fake.knows_host = true;
    fake.mode = FAKE_ALIVE;
    fake.relays = 0;
    zstr_sendx (spawner, "CHECK", "host9-0000abcd", HOST_ID, "777", NULL);
    zstr_sendx (spawner, "BOGUS", "after-alive", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "FAILED");
    CHECK_STR (words[1], "after-alive");
    CHECK_EQ (fake.relays, 1);
    //  A host that our agent does not know and that does not answer
    //  confirms nothing, and is not asked
    fake.mode = FAKE_OK;
    fake.relays = 0;
    zstr_sendx (spawner, "CHECK", "host9-0000abcd", "00000000000000bb", "777", NULL);
    zstr_sendx (spawner, "BOGUS", "after-silent", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "FAILED");
    CHECK_STR (words[1], "after-silent");
    CHECK_EQ (fake.relays, 1);      //  the relay by id, refused

    //  Nobody answers
    fake.relays = 0;
    fake.answering = false;
    zstr_sendx (spawner, "SPAWN", "sp-4", "", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "FAILED");
    CHECK_STR (words[1], "sp-4");
    CHECK_STR (words[2], "no willing host answered within 1000 ms");

    //  The owner is exiting: a placement gives up before it claims
    fake.answering = true;
    atomic_store (&stop, true);
    zstr_sendx (spawner, "SPAWN", "sp-5", "", NULL);
    s_wait_report (&fake, spawner, words);
    CHECK_STR (words[0], "FAILED");
    CHECK_STR (words[1], "sp-5");
    CHECK_STR (words[2], "cancelled");
    CHECK_EQ (fake.relays, 0);

    zactor_destroy (&spawner);
    zsock_destroy (&fake.agent);
    close (fake.udp);
    zcert_destroy (&worm);
    zcert_destroy (&agent_cert);
    zcert_destroy (&host_cert);
    return check_done ("spawner");
}
