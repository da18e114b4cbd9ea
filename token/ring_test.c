/*  ring_test.c — the ring state machine of one segment, driven by hand and
    over a tiny lossless in-memory network: founding, spawning and joining,
    hand-on with ACKs, the freshness filter, a dead successor, regeneration
    after a lost token, kill, hostile input, the rescue after two of three
    voters crash (only on their host agents' word), an orderly leave
    (LEAVE) by a member and by the holder, and the fast heal: a death
    hint (worm_ring_suspect) that only ever asks the host agent, a death
    confirmed to the holder or to the next holder that spawns at once, and
    a spawn result listed within the hold that asked for it; the partition
    heal (NEWER, counted out, a dropped spawn ended at once). The
    randomized fault runs are in tests/sim/. */
#include "ring.h"
#include "wire.h"
#include "../tests/check.h"

#define NODES 8

typedef struct {
    int to;
    uint8_t *data;
    size_t size;
} s_msg_t;

typedef struct {
    worm_ring_t *rings[NODES];
    bool crashed[NODES];
    int exited[NODES];
    int n;
    s_msg_t queue[4096];
    size_t head, tail;
    uint64_t now;
    int spawns_asked;
    char spawn_ids[64][WORM_TOKEN_ID_MAX];
    int spawn_froms[64];
    int spawns_answered;
    int checks;
    int checks_of[NODES][NODES];    //  CHECKs node i asked about node j
    int held[NODES];
    int held_quorum[NODES];     //  of those, holds of a token listing a live majority
    int newer_to[NODES];        //  NEWER messages sent to each node
} s_net_t;

static int64_t s_spawn_hold_ms = -1;      //  >= 0: every node's spawn_hold_ms
static uint64_t s_join_deadline_ms = 1000; //  every node's join_deadline_ms

static void
s_config (worm_ring_config_t *config, int index)
{
    worm_ring_config_defaults (config);
    snprintf (config->worm_id, sizeof config->worm_id, "w-test");
    snprintf (config->self.id, sizeof config->self.id, "n%d", index);
    snprintf (config->self.host, sizeof config->self.host, "host%d", index);
    snprintf (config->self.host_id, sizeof config->self.host_id, "H%d", index);
    snprintf (config->self.endpoint, sizeof config->self.endpoint, "mem://%d", index);
    config->self.pid = (uint64_t) (100 + index);
    config->hold_ms = 10;
    config->ack_timeout_ms = 20;
    config->ack_retries = 1;
    config->loss_floor_ms = 200;
    config->loss_ceiling_ms = 1000;
    config->campaign_timeout_ms = 50;
    config->orphan_timeout_ms = 3000;
    config->join_deadline_ms = s_join_deadline_ms;
    config->seed = (uint64_t) index + 1;
    if (s_spawn_hold_ms >= 0)
        config->spawn_hold_ms = (uint64_t) s_spawn_hold_ms;
}

static int
s_node_of (const char *id)
{
    return id[0] == 'n' ? atoi (id + 1) : -1;
}

//  Performs node i's actions.
static void
s_drain (s_net_t *net, int i)
{
    const worm_ring_action_t *a;
    while (net->rings[i] && (a = worm_ring_action (net->rings[i]))) {
        if (a->type == WORM_RING_SEND) {
            int to = s_node_of (a->peer);
            CHECK (to >= 0 && to < NODES);
            CHECK (net->tail - net->head < 4096);
            s_msg_t *m = &net->queue[net->tail++ % 4096];
            m->to = to;
            m->data = (uint8_t *) malloc (a->size);
            memcpy (m->data, a->data, a->size);
            m->size = a->size;
            char kind[16];
            uint64_t epoch, seq;
            if (worm_ring_peek (a->data, a->size, kind, &epoch, &seq) == 0
                && strcmp (kind, "NEWER") == 0)
                net->newer_to[to]++;
        }
        else if (a->type == WORM_RING_SPAWN) {
            CHECK (net->spawns_asked < 64);
            net->spawn_froms[net->spawns_asked] = i;
            snprintf (net->spawn_ids[net->spawns_asked], WORM_TOKEN_ID_MAX, "%s", a->spawn_id);
            net->spawns_asked++;
        }
        else if (a->type == WORM_RING_EXIT) {
            if (getenv ("RING_TEST_TRACE"))
                fprintf (stderr, "n%d exits: %s\n", i, a->reason);
            net->exited[i] = 1;
        }
        else if (a->type == WORM_RING_CHECK) {
            if (getenv ("RING_TEST_TRACE"))
                fprintf (stderr, "n%d checks %s at %llu\n", i, a->peer, (unsigned long long) net->now);
            net->checks++;
            int about = s_node_of (a->peer);
            if (about >= 0 && about < NODES)
                net->checks_of[i][about]++;
        }
        else if (a->type == WORM_RING_HELD) {
            net->held[i]++;
            net->held_quorum[i] += a->quorum;
        }
    }
    if (net->exited[i])
        worm_ring_destroy (&net->rings[i]);
}

//  Delivers every queued message, then runs timers due; advances time to
//  the next deadline when nothing is queued. Runs until `until`.
static void
s_run (s_net_t *net, uint64_t until)
{
    while (net->now < until) {
        while (net->head < net->tail) {
            s_msg_t m = net->queue[net->head++ % 4096];
            if (net->rings[m.to] && !net->crashed[m.to]) {
                int rc = worm_ring_receive (net->rings[m.to], m.data, m.size, net->now);
                if (rc)
                    fprintf (stderr, "refused: %s\n", worm_ring_error (net->rings[m.to]));
                CHECK_EQ (rc, 0);
                s_drain (net, m.to);
            }
            free (m.data);
        }
        uint64_t next = until;
        for (int i = 0; i < net->n; i++)
            if (net->rings[i] && !net->crashed[i]) {
                uint64_t d = worm_ring_deadline (net->rings[i]);
                if (d < next)
                    next = d;
            }
        if (next < net->now)
            next = net->now;
        net->now = next + (next == net->now ? 1 : 0);
        if (net->now > until)
            net->now = until;
        for (int i = 0; i < net->n; i++)
            if (net->rings[i] && !net->crashed[i]
                && worm_ring_deadline (net->rings[i]) <= net->now) {
                worm_ring_tick (net->rings[i], net->now);
                s_drain (net, i);
            }
    }
}

static void
s_net_fini (s_net_t *net)
{
    for (int i = 0; i < NODES; i++)
        worm_ring_destroy (&net->rings[i]);
    while (net->head < net->tail)
        free (net->queue[net->head++ % 4096].data);
}

//  Founds a worm of target/max at node 0.
static void
s_found (s_net_t *net, uint32_t target, uint32_t max)
{
    memset (net, 0, sizeof *net);
    worm_ring_config_t config;
    s_config (&config, 0);
    net->rings[0] = worm_ring_new (&config, 0);
    CHECK (net->rings[0]);
    net->n = 1;
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, "w-test");
    CHECK_EQ (worm_token_set_population (token, target, max), 0);
    CHECK_EQ (worm_ring_found (net->rings[0], &token, 0), 0);
    CHECK (token == NULL);
    s_drain (net, 0);
    CHECK_EQ (net->held[0], 1);
    CHECK_EQ (worm_ring_state (net->rings[0]), WORM_RING_HOLDING);
}

//  Answers the oldest unanswered SPAWN with a new node.
static int
s_spawn (s_net_t *net)
{
    CHECK (net->spawns_answered < net->spawns_asked);
    int request = net->spawns_answered++;
    int index = net->n++;
    CHECK (index < NODES);
    worm_ring_config_t config;
    s_config (&config, index);
    net->rings[index] = worm_ring_new (&config, net->now);
    CHECK (net->rings[index]);
    int from = net->spawn_froms[request];
    CHECK_EQ (worm_ring_spawn_result (net->rings[from], net->spawn_ids[request], &config.self,
                                      net->now),
              0);
    s_drain (net, from);
    return index;
}

//  A worm of target 3 (max 4) founded at n0, grown to n0, n1, n2 and left
//  1.5 s to circulate.
static void
s_grow_three (s_net_t *net)
{
    s_found (net, 3, 4);
    s_run (net, 11);
    s_spawn (net);
    s_run (net, 12);
    s_spawn (net);
    s_run (net, 1500);
}

//  The last of n0..n2 that waits for the token (not holding it).
static int
s_waiting_node (s_net_t *net)
{
    int node = -1;
    for (int i = 0; i < 3; i++)
        if (worm_ring_state (net->rings[i]) == WORM_RING_WAITING)
            node = i;
    CHECK (node >= 0);
    return node;
}

static void
s_test_config (void)
{
    worm_ring_config_t config;
    s_config (&config, 0);
    worm_ring_t *ring = worm_ring_new (&config, 0);
    CHECK (ring);
    CHECK_STR (worm_ring_id (ring), "n0");
    CHECK (worm_ring_token (ring) == NULL);
    CHECK_EQ (worm_ring_state (ring), WORM_RING_WAITING);
    //  A joiner that never gets a token leaves once no holder would list
    //  it: the join deadline and a loss floor (1000 + 200), before the
    //  orphan timeout (3000)
    CHECK_EQ (worm_ring_deadline (ring), 1200);
    worm_ring_tick (ring, 1199);
    CHECK (worm_ring_action (ring) == NULL);
    worm_ring_tick (ring, 1200);
    const worm_ring_action_t *a = worm_ring_action (ring);
    CHECK (a && a->type == WORM_RING_EXIT);
    CHECK_HAS (a->reason, "never joined: not listed within the join deadline");
    CHECK_EQ (worm_ring_state (ring), WORM_RING_EXITED);
    CHECK_EQ (worm_ring_deadline (ring), UINT64_MAX);
    worm_ring_destroy (&ring);
    CHECK (ring == NULL);
    worm_ring_destroy (&ring);

    s_config (&config, 0);
    config.worm_id[0] = 0;
    CHECK (worm_ring_new (&config, 0) == NULL);
    s_config (&config, 0);
    config.ack_timeout_ms = 0;
    CHECK (worm_ring_new (&config, 0) == NULL);
    s_config (&config, 0);
    config.loss_ceiling_ms = config.loss_floor_ms - 1;
    CHECK (worm_ring_new (&config, 0) == NULL);

    //  Founding with another worm's token is refused
    s_config (&config, 0);
    ring = worm_ring_new (&config, 0);
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, "other");
    CHECK_EQ (worm_ring_found (ring, &token, 0), -1);
    CHECK (token == NULL);
    CHECK_HAS (worm_ring_error (ring), "cannot found");
    worm_ring_destroy (&ring);
}

static void
s_test_grow_and_circulate (void)
{
    s_net_t net;
    s_found (&net, 3, 4);
    worm_token_t *token = worm_ring_token (net.rings[0]);
    CHECK_EQ (worm_token_epoch (token), 1);
    CHECK_STR (worm_token_origin (token), "n0");
    CHECK_EQ (worm_token_voter_count (token), 1);
    //  At the end of the hold the founder asks for target - 1 spawns
    s_run (&net, 11);
    CHECK_EQ (net.spawns_asked, 2);
    CHECK_EQ (worm_token_spawn_count (worm_ring_token (net.rings[0])), 2);
    //  An unknown spawn id is refused
    worm_member_t bogus;
    memset (&bogus, 0, sizeof bogus);
    snprintf (bogus.id, sizeof bogus.id, "nX");
    CHECK_EQ (worm_ring_spawn_result (net.rings[0], "nope/1", &bogus, net.now), -1);
    //  Both spawns start; they join at the founder's next hold
    s_spawn (&net);
    s_spawn (&net);
    CHECK_EQ (net.n, 3);
    s_run (&net, 2000);
    //  Everyone holds the token in turn; exactly one holds it at a time
    for (int i = 0; i < 3; i++) {
        CHECK (net.rings[i]);
        CHECK (net.held[i] > 5);
    }
    int holding = 0;
    for (int i = 0; i < 3; i++)
        holding += worm_ring_state (net.rings[i]) == WORM_RING_HOLDING;
    CHECK (holding <= 1);
    //  Population at target, voters are the three live members, no spawn left
    token = worm_ring_token (net.rings[0]);
    CHECK_EQ (worm_token_live_count (token), 3);
    CHECK_EQ (worm_token_spawn_count (token), 0);
    CHECK_EQ (worm_token_voter_count (token), 3);
    CHECK (worm_token_epoch (token) > 1);
    CHECK_EQ (net.spawns_asked, 2);
    //  Quiet when idle: about one hand-on per hold time
    uint64_t accepted = 0;
    for (int i = 0; i < 3; i++)
        accepted += worm_ring_stats (net.rings[i])->accepted;
    CHECK (accepted < 2000 / 10 + 10);
    s_net_fini (&net);
}

//  Two nodes in a ring of target 2, circulating.
static void
s_pair (s_net_t *net)
{
    s_found (net, 2, 3);
    s_run (net, 11);
    CHECK_EQ (net->spawns_asked, 1);
    s_spawn (net);
    s_run (net, 1000);
    CHECK_EQ (worm_token_live_count (worm_ring_token (net->rings[1])), 2);
}

static void
s_test_freshness_and_hostile (void)
{
    s_net_t net;
    s_pair (&net);
    //  Capture a TOKEN message in flight, deliver it twice
    s_run (&net, net.now + 1);
    worm_ring_t *ring = net.rings[1];
    //  Craft a stale TOKEN from the current copy: epoch/seq of an old one
    worm_token_t *copy = worm_token_dup (worm_ring_token (ring));
    worm_token_set_seq (copy, 0);
    uint8_t *bytes;
    size_t size;
    char err[WORM_TOKEN_ERROR_MAX];
    CHECK_EQ (worm_token_encode (copy, &bytes, &size, err, sizeof err), 0);
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map (&w, 7);
    worm_wire_kstr (&w, "type", "TOKEN");
    worm_wire_kstr (&w, "worm", "w-test");
    worm_wire_kstr (&w, "from", "n0");
    worm_wire_kstr (&w, "endpoint", "mem://0");
    worm_wire_ku64 (&w, "epoch", worm_token_epoch (copy));
    worm_wire_ku64 (&w, "seq", 0);
    worm_wire_kbin (&w, "token", bytes, size);
    uint64_t stale = worm_ring_stats (ring)->stale;
    uint64_t seq = worm_token_seq (worm_ring_token (ring));
    CHECK_EQ (worm_ring_receive (ring, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 net.now),
              0);
    CHECK_EQ (worm_ring_stats (ring)->stale, stale + 1);
    CHECK_EQ (worm_token_seq (worm_ring_token (ring)), seq);
    //  ... and acknowledged, so that the sender stops resending
    const worm_ring_action_t *a = worm_ring_action (ring);
    CHECK (a && a->type == WORM_RING_SEND);
    char type[16];
    uint64_t e, q;
    CHECK_EQ (worm_ring_peek (a->data, a->size, type, &e, &q), 0);
    CHECK_STR (type, "ACK");
    CHECK_EQ (q, 0);
    //  Every truncation of it is refused with a reason, never a crash
    const uint8_t *data = (const uint8_t *) worm_wire_writer_data (&w);
    size_t total = worm_wire_writer_size (&w);
    for (size_t cut = 0; cut < total; cut += (cut < 300 ? 1 : 97)) {
        CHECK_EQ (worm_ring_receive (ring, data, cut, net.now), -1);
        CHECK_HAS (worm_ring_error (ring), "ring: ");
    }
    worm_wire_writer_fini (&w);
    free (bytes);
    worm_token_destroy (&copy);

    //  Another worm's message, an unknown type, a wrong field type
    worm_wire_writer_init (&w);
    worm_wire_map (&w, 6);
    worm_wire_kstr (&w, "type", "ACK");
    worm_wire_kstr (&w, "worm", "someone-else");
    worm_wire_kstr (&w, "from", "n0");
    worm_wire_kstr (&w, "endpoint", "mem://0");
    worm_wire_ku64 (&w, "epoch", 1);
    worm_wire_ku64 (&w, "seq", 1);
    CHECK_EQ (worm_ring_receive (ring, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 net.now),
              -1);
    CHECK_HAS (worm_ring_error (ring), "someone-else");
    worm_wire_writer_fini (&w);
    worm_wire_writer_init (&w);
    worm_wire_map (&w, 4);
    worm_wire_kstr (&w, "type", "HELLO");
    worm_wire_kstr (&w, "worm", "w-test");
    worm_wire_kstr (&w, "from", "n0");
    worm_wire_kstr (&w, "endpoint", "mem://0");
    CHECK_EQ (worm_ring_receive (ring, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 net.now),
              -1);
    CHECK_HAS (worm_ring_error (ring), "unknown message type");
    worm_wire_writer_fini (&w);
    const char *types[] = {"TOKEN", "ACK", "CAMPAIGN", "VOTE", "ACCEPT", "ACCEPTED"};
    for (size_t t = 0; t < 6; t++) {
        worm_wire_writer_init (&w);
        worm_wire_map (&w, 6);
        worm_wire_kstr (&w, "type", types[t]);
        worm_wire_kstr (&w, "worm", "w-test");
        worm_wire_kstr (&w, "from", "n0");
        worm_wire_kstr (&w, "endpoint", "mem://0");
        worm_wire_kstr (&w, "epoch", "one");     //  wrong type
        worm_wire_kstr (&w, "base", "one");
        CHECK_EQ (worm_ring_receive (ring, worm_wire_writer_data (&w),
                                     worm_wire_writer_size (&w), net.now),
                  -1);
        CHECK_HAS (worm_ring_error (ring), types[t]);
        worm_wire_writer_fini (&w);
    }
    CHECK_EQ (worm_ring_receive (ring, NULL, 0, net.now), -1);
    //  Random noise
    srand (5);
    for (int round = 0; round < 5000; round++) {
        uint8_t noise[64];
        size_t len = 1 + (size_t) rand () % sizeof noise;
        for (size_t i = 0; i < len; i++)
            noise[i] = (uint8_t) rand ();
        noise[0] = (uint8_t) (0x80 | (rand () % 16));
        (void) worm_ring_receive (ring, noise, len, net.now);
        while (worm_ring_action (ring))
            ;
    }
    CHECK (worm_ring_stats (ring)->refused > 5000);
    //  The ring still works after all that
    uint64_t held = (uint64_t) net.held[1];
    s_run (&net, net.now + 500);
    CHECK ((uint64_t) net.held[1] > held);
    s_net_fini (&net);
}

static void
s_test_dead_successor_and_regeneration (void)
{
    //  Three nodes; crash one that is not holding: it is skipped, checked
    s_net_t net;
    s_grow_three (&net);
    CHECK_EQ (worm_token_live_count (worm_ring_token (net.rings[0])), 3);
    int victim = s_waiting_node (&net);
    net.crashed[victim] = true;
    s_run (&net, net.now + 400);
    int other = (victim + 1) % 3;
    worm_token_t *token = worm_ring_token (net.rings[other]);
    char id[16];
    snprintf (id, sizeof id, "n%d", victim);
    int index = worm_token_member_find (token, id);
    CHECK (index >= 0);
    CHECK_EQ (worm_token_member (token, (size_t) index)->state, WORM_MEMBER_DEAD);
    CHECK (net.checks > 0);
    uint64_t skipped = 0;
    for (int i = 0; i < 3; i++)
        if (i != victim)
            skipped += worm_ring_stats (net.rings[i])->skipped;
    CHECK (skipped >= 1);
    //  The host agent confirms; the survivors spawn a replacement and
    //  drop the dead voter
    for (int i = 0; i < 3; i++)
        if (i != victim) {
            worm_ring_confirm_dead (net.rings[i], id, net.now);
            s_drain (&net, i);
        }
    worm_ring_destroy (&net.rings[victim]);
    s_run (&net, net.now + 300);
    CHECK (net.spawns_asked >= 3);
    s_spawn (&net);
    s_run (&net, net.now + 1500);
    token = worm_ring_token (net.rings[other]);
    CHECK_EQ (worm_token_live_count (token), 3);
    CHECK (!worm_token_is_voter (token, id));

    //  Now crash the holder: the token is lost; after the loss timeout a
    //  campaign regenerates it, once, with a higher epoch
    int holder = -1;
    for (int i = 0; i < net.n; i++)
        if (net.rings[i] && worm_ring_state (net.rings[i]) == WORM_RING_HOLDING)
            holder = i;
    CHECK (holder >= 0);
    uint64_t epoch = 0;
    for (int i = 0; i < net.n; i++)
        if (net.rings[i] && worm_token_epoch (worm_ring_token (net.rings[i])) > epoch)
            epoch = worm_token_epoch (worm_ring_token (net.rings[i]));
    net.crashed[holder] = true;
    uint64_t regenerations = 0;
    s_run (&net, net.now + 2500);
    int alive = 0;
    for (int i = 0; i < net.n; i++)
        if (net.rings[i] && !net.crashed[i]) {
            alive++;
            regenerations += worm_ring_stats (net.rings[i])->regenerations;
            CHECK (worm_token_epoch (worm_ring_token (net.rings[i])) > epoch);
            CHECK (net.held[i] > 0);
        }
    CHECK_EQ (alive, 2);
    CHECK_EQ (regenerations, 1);
    s_net_fini (&net);
}

//  Grows a worm of three at node 0 (target 3, cap 4) until every node is a
//  voter; returns with the token circulating.
static void
s_three (s_net_t *net)
{
    s_found (net, 3, 4);
    s_run (net, 11);
    s_spawn (net);
    s_run (net, 12);
    s_spawn (net);
    s_run (net, 1500);
    worm_token_t *token = worm_ring_token (net->rings[0]);
    CHECK_EQ (worm_token_live_count (token), 3);
    CHECK_EQ (worm_token_voter_count (token), 3);
}

static void
s_test_rescue (void)
{
    //  Two of three voters crash at once. Without their host agents' word
    //  the survivor must not regenerate (a majority of voters may live on
    //  the other side of a split)
    s_net_t net;
    s_three (&net);
    int survivor = -1;
    for (int i = 0; i < 3; i++)
        if (worm_ring_state (net.rings[i]) == WORM_RING_WAITING)
            survivor = i;
    CHECK (survivor >= 0);
    uint64_t epoch = worm_token_epoch (worm_ring_token (net.rings[survivor]));
    for (int i = 0; i < 3; i++)
        if (i != survivor)
            net.crashed[i] = true;
    int checks = net.checks;
    s_run (&net, net.now + 600);
    CHECK (net.checks > checks);        //  it asked the host agents
    CHECK_EQ (worm_ring_stats (net.rings[survivor])->regenerations, 0);
    CHECK_EQ (worm_token_epoch (worm_ring_token (net.rings[survivor])), epoch);

    //  The agents confirm one: still no majority of three, and no rescue
    //  while the other may live
    char id[2][16];
    int n = 0;
    for (int i = 0; i < 3; i++)
        if (i != survivor)
            snprintf (id[n++], sizeof id[0], "n%d", i);
    worm_ring_confirm_dead (net.rings[survivor], id[0], net.now);
    s_drain (&net, survivor);
    s_run (&net, net.now + 400);
    CHECK_EQ (worm_ring_stats (net.rings[survivor])->regenerations, 0);

    //  Both confirmed: the survivor rescues the worm into the next era and
    //  spawns replacements
    int asked = net.spawns_asked;
    worm_ring_confirm_dead (net.rings[survivor], id[1], net.now);
    s_drain (&net, survivor);
    s_run (&net, net.now + 600);
    CHECK (net.rings[survivor] != NULL);
    worm_token_t *token = worm_ring_token (net.rings[survivor]);
    CHECK_EQ (worm_ring_stats (net.rings[survivor])->regenerations, 1);
    CHECK (worm_token_epoch (token) >= ((uint64_t) 1 << 40));
    CHECK (net.spawns_asked > asked);
    char me[16];
    snprintf (me, sizeof me, "n%d", survivor);
    CHECK_EQ (worm_token_voter_count (token), 1);
    CHECK (worm_token_is_voter (token, me));
    CHECK (net.held[survivor] > 0);
    s_net_fini (&net);
}

static void
s_test_leave (void)
{
    //  A member that does not hold the token leaves: it exits at once, and
    //  the holder lists it as left and asks for a replacement without
    //  waiting for a hop to it to time out
    s_net_t net;
    s_three (&net);
    int leaver = -1;
    for (int i = 0; i < 3; i++)
        if (worm_ring_state (net.rings[i]) == WORM_RING_WAITING)
            leaver = i;
    CHECK (leaver >= 0);
    uint64_t skipped = 0;
    for (int i = 0; i < 3; i++)
        skipped += worm_ring_stats (net.rings[i])->skipped;
    int asked = net.spawns_asked;
    CHECK_EQ (worm_ring_leave (net.rings[leaver], net.now), 0);
    s_drain (&net, leaver);
    CHECK (net.exited[leaver]);
    CHECK (net.rings[leaver] == NULL);
    s_run (&net, net.now + 150);
    CHECK (net.spawns_asked > asked);
    uint64_t skipped_after = 0;
    for (int i = 0; i < 3; i++)
        if (net.rings[i])
            skipped_after += worm_ring_stats (net.rings[i])->skipped;
    CHECK_EQ (skipped_after, skipped);
    char id[16];
    snprintf (id, sizeof id, "n%d", leaver);
    for (int i = 0; i < 3; i++)
        if (net.rings[i]) {
            worm_token_t *token = worm_ring_token (net.rings[i]);
            int index = worm_token_member_find (token, id);
            CHECK (index < 0 || worm_token_member (token, (size_t) index)->state
                                    == WORM_MEMBER_LEFT);
        }
    s_spawn (&net);
    s_run (&net, net.now + 1500);

    //  The holder leaves: it hands the token on listing itself LEFT, and
    //  exits once that hop is acknowledged; the worm keeps one token
    int holder = -1;
    while (holder < 0) {
        s_run (&net, net.now + 1);
        for (int i = 0; i < net.n; i++)
            if (net.rings[i] && worm_ring_state (net.rings[i]) == WORM_RING_HOLDING)
                holder = i;
    }
    uint64_t regenerations = 0;
    CHECK_EQ (worm_ring_leave (net.rings[holder], net.now), 0);
    s_drain (&net, holder);
    s_run (&net, net.now + 30);
    CHECK (net.rings[holder] == NULL);
    s_run (&net, net.now + 1500);
    int alive = 0, holding = 0;
    for (int i = 0; i < net.n; i++)
        if (net.rings[i]) {
            alive++;
            holding += worm_ring_state (net.rings[i]) == WORM_RING_HOLDING
                       || worm_ring_state (net.rings[i]) == WORM_RING_FORWARDING;
            regenerations += worm_ring_stats (net.rings[i])->regenerations;
        }
    CHECK_EQ (alive, 2);    //  its replacement is asked for, not yet answered here
    CHECK_EQ (holding, 1);
    CHECK_EQ (regenerations, 0);
    s_net_fini (&net);
}

static void
s_test_kill (void)
{
    s_net_t net;
    s_pair (&net);
    worm_ring_kill (net.rings[1], net.now);
    s_drain (&net, 1);
    s_run (&net, net.now + 500);
    CHECK (net.rings[0] == NULL);
    CHECK (net.rings[1] == NULL);
    CHECK (net.exited[0] && net.exited[1]);
    s_net_fini (&net);

    //  A worm whose population is above target: the holder leaves
    s_found (&net, 2, 3);
    s_run (&net, 11);
    s_spawn (&net);
    s_run (&net, 1000);
    int holder = -1;
    while (holder < 0) {
        s_run (&net, net.now + 1);
        for (int i = 0; i < 2; i++)
            if (worm_ring_state (net.rings[i]) == WORM_RING_HOLDING)
                holder = i;
    }
    worm_token_t *token = worm_ring_token (net.rings[holder]);
    worm_token_set_population (token, 1, 2);     //  as if the target changed
    s_run (&net, net.now + 1000);
    int alive = (net.rings[0] != NULL) + (net.rings[1] != NULL);
    CHECK_EQ (alive, 1);
    s_net_fini (&net);
}

//  Runs until some node holds the token; returns it.
static int
s_until_holder (s_net_t *net)
{
    for (int step = 0; step < 1000; step++) {
        for (int i = 0; i < net->n; i++)
            if (net->rings[i] && !net->crashed[i]
                && worm_ring_state (net->rings[i]) == WORM_RING_HOLDING)
                return i;
        s_run (net, net->now + 1);
    }
    CHECK (!"nobody took the token");
    return -1;
}

//  Takes the ring's queued actions; counts them by type into counts[type].
static void
s_take (worm_ring_t *ring, int counts[8], char *check_peer, size_t cap)
{
    memset (counts, 0, 8 * sizeof (int));
    const worm_ring_action_t *a;
    while ((a = worm_ring_action (ring))) {
        CHECK (a->type >= 1 && a->type <= 5);
        counts[a->type]++;
        if (a->type == WORM_RING_CHECK && check_peer) {
            snprintf (check_peer, cap, "%s", a->peer);
            CHECK_STR (a->host_id, "H2");
            CHECK_EQ (a->pid, 102);
        }
    }
}

static void
s_test_suspect (void)
{
    s_net_t net;
    s_three (&net);
    int holder = s_until_holder (&net);
    //  Ask a segment that waits about member n2 (or n1 when n2 holds)
    int asker = (holder + 1) % 3;
    if (asker == 2)
        asker = (asker + 1) % 3;
    worm_ring_t *ring = net.rings[asker];
    int counts[8];
    char peer[WORM_TOKEN_ID_MAX] = "";
    worm_ring_suspect (ring, "n2", net.now);
    s_take (ring, counts, peer, sizeof peer);
    CHECK_EQ (counts[WORM_RING_CHECK], 1);
    CHECK_STR (peer, "n2");
    CHECK_EQ (counts[WORM_RING_SEND] + counts[WORM_RING_SPAWN] + counts[WORM_RING_EXIT], 0);
    //  Rate-limited: not again within the interval, again after it
    worm_ring_suspect (ring, "n2", net.now + WORM_RING_SUSPECT_INTERVAL_MS - 1);
    s_take (ring, counts, NULL, 0);
    CHECK_EQ (counts[WORM_RING_CHECK], 0);
    worm_ring_suspect (ring, "n2", net.now + WORM_RING_SUSPECT_INTERVAL_MS);
    s_take (ring, counts, NULL, 0);
    CHECK_EQ (counts[WORM_RING_CHECK], 1);
    //  Ignored: unknown ids, ourselves, nothing
    char me[16];
    snprintf (me, sizeof me, "n%d", asker);
    const char *ignored[] = {"n7", "nobody", "", me, NULL};
    for (size_t i = 0; i < 5; i++) {
        worm_ring_suspect (ring, ignored[i], net.now + WORM_RING_SUSPECT_INTERVAL_MS);
        s_take (ring, counts, NULL, 0);
        CHECK_EQ (counts[WORM_RING_CHECK], 0);
    }
    //  A hint never marks anyone dead: n2 stays live, the worm does not grow
    //  nor skip anyone, with hints about everyone, every few milliseconds
    int asked = net.spawns_asked;
    uint64_t skipped = 0;
    for (int i = 0; i < 3; i++)
        skipped += worm_ring_stats (net.rings[i])->skipped;
    uint64_t until = net.now + 1500;
    while (net.now < until) {
        for (int i = 0; i < 3; i++)
            for (int about = 0; about < 3; about++) {
                char id[16];
                snprintf (id, sizeof id, "n%d", about);
                worm_ring_suspect (net.rings[i], id, net.now);
                s_drain (&net, i);
            }
        s_run (&net, net.now + 7);
    }
    CHECK (net.checks > 0);
    CHECK_EQ (net.spawns_asked, asked);
    uint64_t skipped_after = 0;
    for (int i = 0; i < 3; i++) {
        CHECK (net.rings[i]);
        skipped_after += worm_ring_stats (net.rings[i])->skipped;
        worm_token_t *token = worm_ring_token (net.rings[i]);
        CHECK_EQ (worm_token_live_count (token), 3);
    }
    CHECK_EQ (skipped_after, skipped);
    //  A member already confirmed gone is not asked about again
    worm_ring_confirm_dead (ring, "n2", net.now);
    s_drain (&net, asker);
    worm_ring_suspect (ring, "n2", net.now + 10 * WORM_RING_SUSPECT_INTERVAL_MS);
    s_take (ring, counts, NULL, 0);
    CHECK_EQ (counts[WORM_RING_CHECK], 0);
    s_net_fini (&net);
}

//  Crashes a node that waits (neither holder nor the holder's successor
//  when there is a choice); returns it.
static int
s_crash_waiting (s_net_t *net, int holder)
{
    for (int i = 0; i < net->n; i++)
        if (i != holder && net->rings[i] && !net->crashed[i]
            && worm_ring_state (net->rings[i]) == WORM_RING_WAITING) {
            net->crashed[i] = true;
            return i;
        }
    CHECK (!"no waiting node");
    return -1;
}

//  A worm of three that loses a node that waits (crashed, not yet noticed):
//  returns the victim and its id in id, and who held the token in *holder.
static int
s_three_less_one (s_net_t *net, int *holder, char *id, size_t cap)
{
    s_three (net);
    *holder = s_until_holder (net);
    int victim = s_crash_waiting (net, *holder);
    snprintf (id, cap, "n%d", victim);
    return victim;
}

static void
s_test_heal_while_holding (void)
{
    //  The holder hears from the host agent that a member is gone: it lists
    //  it left and asks for a replacement at once, in this hold
    s_net_t net;
    int holder;
    char id[16];
    s_three_less_one (&net, &holder, id, sizeof id);
    int asked = net.spawns_asked;
    worm_ring_confirm_dead (net.rings[holder], id, net.now);
    s_drain (&net, holder);
    CHECK_EQ (net.spawns_asked, asked + 1);
    CHECK_EQ (net.spawn_froms[asked], holder);
    CHECK_EQ (worm_ring_state (net.rings[holder]), WORM_RING_HOLDING);
    worm_token_t *token = worm_ring_token (net.rings[holder]);
    int index = worm_token_member_find (token, id);
    CHECK (index >= 0);
    CHECK_EQ (worm_token_member (token, (size_t) index)->state, WORM_MEMBER_LEFT);
    CHECK_EQ (worm_token_spawn_count (token), 1);
    //  Its pacing hold (10 ms) passes, but it waits for its spawn ...
    uint64_t asked_at = net.now;
    s_run (&net, asked_at + 30);
    CHECK_EQ (worm_ring_state (net.rings[holder]), WORM_RING_HOLDING);
    //  ... and lists the new member as soon as the result comes, then
    //  hands the token on at once
    int fresh = s_spawn (&net);
    token = worm_ring_token (net.rings[holder]);
    char fresh_id[16];
    snprintf (fresh_id, sizeof fresh_id, "n%d", fresh);
    index = worm_token_member_find (token, fresh_id);
    CHECK (index >= 0);
    CHECK_EQ (worm_token_member (token, (size_t) index)->state, WORM_MEMBER_JOINING);
    CHECK_EQ (worm_token_spawn_count (token), 0);
    CHECK_EQ (worm_ring_state (net.rings[holder]), WORM_RING_HOLDING);
    CHECK_EQ (worm_ring_deadline (net.rings[holder]), net.now);
    s_run (&net, net.now + 1);
    CHECK (worm_ring_state (net.rings[holder]) != WORM_RING_HOLDING);
    //  The worm is whole again, the dead member dropped from the voters
    s_run (&net, net.now + 1500);
    CHECK_EQ (net.spawns_asked, asked + 1);
    for (int i = 0; i < net.n; i++)
        if (net.rings[i] && !net.crashed[i]) {
            token = worm_ring_token (net.rings[i]);
            CHECK_EQ (worm_token_live_count (token), 3);
            CHECK (!worm_token_is_voter (token, id));
            CHECK (worm_token_is_voter (token, fresh_id));
        }
    s_net_fini (&net);
}

static void
s_test_heal_at_next_hold (void)
{
    //  A segment that waits hears that a member is gone: it asks for the
    //  replacement the moment it takes the token, not at the end of its hold
    s_net_t net;
    int holder;
    char id[16];
    int victim = s_three_less_one (&net, &holder, id, sizeof id);
    int next = 3 - holder - victim;
    CHECK_EQ (worm_ring_state (net.rings[next]), WORM_RING_WAITING);
    worm_ring_confirm_dead (net.rings[next], id, net.now);
    s_drain (&net, next);
    int asked = net.spawns_asked;
    int held = net.held[next];
    while (net.held[next] == held)
        s_run (&net, net.now + 1);
    CHECK_EQ (worm_ring_state (net.rings[next]), WORM_RING_HOLDING);
    CHECK_EQ (net.spawns_asked, asked + 1);
    CHECK_EQ (net.spawn_froms[asked], next);
    worm_token_t *token = worm_ring_token (net.rings[next]);
    CHECK_EQ (worm_token_member (token, (size_t) worm_token_member_find (token, id))->state,
              WORM_MEMBER_LEFT);
    //  Without an answer it waits at most its share of the loss timeout
    //  (here (200 - round) / 2 < 100 ms), then hands the token on
    uint64_t took = net.now;
    while (worm_ring_state (net.rings[next]) == WORM_RING_HOLDING)
        s_run (&net, net.now + 1);
    CHECK (net.now - took > 10);
    CHECK (net.now - took <= 100);
    //  The result comes later: listed at its next hold, as before
    int fresh = s_spawn (&net);
    s_run (&net, net.now + 1500);
    char fresh_id[16];
    snprintf (fresh_id, sizeof fresh_id, "n%d", fresh);
    token = worm_ring_token (net.rings[next]);
    CHECK (worm_token_member_find (token, fresh_id) >= 0);
    CHECK_EQ (worm_token_live_count (token), 3);
    s_net_fini (&net);
}

static void
s_test_spawn_hold_off (void)
{
    //  spawn_hold_ms 0: the holder still asks at once, but hands the token
    //  on at the end of its pacing hold without waiting for the result
    s_spawn_hold_ms = 0;
    s_net_t net;
    int holder;
    char id[16];
    s_three_less_one (&net, &holder, id, sizeof id);
    int asked = net.spawns_asked;
    uint64_t took = net.now;
    worm_ring_confirm_dead (net.rings[holder], id, net.now);
    //  A caller that ticks before it drains loses no action (the SPAWN)
    worm_ring_tick (net.rings[holder], net.now);
    s_drain (&net, holder);
    CHECK_EQ (net.spawns_asked, asked + 1);
    s_run (&net, took + 11);
    CHECK (worm_ring_state (net.rings[holder]) != WORM_RING_HOLDING);
    CHECK_EQ (worm_token_spawn_count (worm_ring_token (net.rings[holder])), 1);
    s_net_fini (&net);
    s_spawn_hold_ms = -1;
}

//  The live member before node i in node i's copy (ring order).
static int
s_before (s_net_t *net, int i)
{
    worm_token_t *token = worm_ring_token (net->rings[i]);
    char id[16];
    snprintf (id, sizeof id, "n%d", i);
    CHECK (worm_token_member_find (token, id) >= 0);
    int before = worm_token_predecessor (token, id, NULL, 0);
    return before < 0 ? -1 : s_node_of (worm_token_member (token, (size_t) before)->id);
}

//  Regenerations by the nodes alive.
static uint64_t
s_regenerations (s_net_t *net)
{
    uint64_t sum = 0;
    for (int i = 0; i < net->n; i++)
        if (net->rings[i] && !net->crashed[i])
            sum += worm_ring_stats (net->rings[i])->regenerations;
    return sum;
}

static void
s_test_heal_holder_death (void)
{
    //  The holder dies with the token. Only the third member hears of it
    //  from its agent: it tells the member before the dead one (DIED),
    //  which asks its own agent and, on its word, regenerates at once
    //  (the one that handed the token over and never heard PASSED), long
    //  before the loss timeout (200 ms here)
    s_net_t net;
    s_three (&net);
    int holder = s_until_holder (&net);
    int before = s_before (&net, holder);
    int third = 3 - holder - before;
    CHECK (before >= 0 && before != holder && third >= 0 && third != holder);
    net.crashed[holder] = true;
    char id[16];
    snprintf (id, sizeof id, "n%d", holder);
    uint64_t regens = s_regenerations (&net);
    int checks = net.checks;
    int asked = net.spawns_asked;
    worm_ring_confirm_dead (net.rings[third], id, net.now);
    s_drain (&net, third);
    CHECK_EQ (worm_ring_state (net.rings[third]), WORM_RING_WAITING);
    s_run (&net, net.now + 1);
    CHECK_EQ (net.checks, checks + 1);      //  the hint is checked, not believed
    CHECK_EQ (worm_ring_state (net.rings[before]), WORM_RING_WAITING);
    uint64_t confirmed = net.now;
    worm_ring_confirm_dead (net.rings[before], id, net.now);
    s_drain (&net, before);
    CHECK_EQ (worm_ring_state (net.rings[before]), WORM_RING_CAMPAIGNING);
    s_run (&net, net.now + 5);
    CHECK_EQ (s_regenerations (&net), regens + 1);
    CHECK (net.now - confirmed < 20);
    //  The new epoch lists the dead member left and asks for its replacement
    s_run (&net, net.now + 30);
    CHECK_EQ (net.spawns_asked, asked + 1);
    s_spawn (&net);
    s_run (&net, net.now + 1500);
    CHECK_EQ (s_regenerations (&net), regens + 1);
    CHECK_EQ (worm_token_live_count (worm_ring_token (net.rings[before])), 3);
    s_net_fini (&net);

    //  A member that handed the token on (PASSED came back) dies: nobody
    //  campaigns, the holder replaces it
    s_three (&net);
    holder = s_until_holder (&net);
    int victim = s_before (&net, holder);
    net.crashed[victim] = true;
    snprintf (id, sizeof id, "n%d", victim);
    for (int i = 0; i < 3; i++)
        if (i != victim) {
            worm_ring_confirm_dead (net.rings[i], id, net.now);
            s_drain (&net, i);
            CHECK (worm_ring_state (net.rings[i]) != WORM_RING_CAMPAIGNING);
        }
    s_run (&net, net.now + 100);
    CHECK_EQ (net.spawns_asked, 3);
    s_spawn (&net);
    s_run (&net, net.now + 1500);
    CHECK_EQ (s_regenerations (&net), 0);
    CHECK_EQ (worm_token_live_count (worm_ring_token (net.rings[holder])), 3);
    s_net_fini (&net);
}

//  Node at's host agent confirms that node dead is gone; at's actions are
//  drained.
static void
s_confirm (s_net_t *net, int at, int dead)
{
    char id[16];
    snprintf (id, sizeof id, "n%d", dead);
    worm_ring_confirm_dead (net->rings[at], id, net->now);
    s_drain (net, at);
}

//  The holder dies with another member at once (a quarter of a worm
//  SIGKILLed). The member that handed the holder the token campaigns early
//  on its agent's word, but the early campaign needs every member's answer
//  and the other dead one, not yet confirmed, gives none: it runs out of
//  time. When the other's death is confirmed too, it campaigns again at
//  once instead of waiting out the loss timeout. Its host agent is asked
//  only about the members that did not answer the campaign (the sweep).
static void
s_five (s_net_t *net)
{
    s_found (net, 5, 6);
    for (int round = 0; net->n < 5 && round < 100; round++) {
        s_run (net, net->now + 5);
        if (net->spawns_answered < net->spawns_asked)
            s_spawn (net);
    }
    s_run (net, net->now + 1500);
    CHECK_EQ (worm_token_live_count (worm_ring_token (net->rings[0])), 5);
}

static void
s_test_early_campaign_retried (void)
{
    s_net_t net;
    s_five (&net);
    int holder = s_until_holder (&net);
    int before = s_before (&net, holder);
    int other = -1;
    for (int i = 0; i < 5; i++)
        if (i != holder && i != before)
            other = i;
    CHECK (before >= 0 && other >= 0);
    net.crashed[holder] = net.crashed[other] = true;
    uint64_t regens = s_regenerations (&net);
    int checks = net.checks;
    s_confirm (&net, before, holder);
    CHECK_EQ (worm_ring_state (net.rings[before]), WORM_RING_CAMPAIGNING);
    //  No host agent is asked about anyone yet: the live members answer
    //  first. Half an ACK timeout on, only the silent one is asked about
    CHECK_EQ (net.checks, checks);
    s_run (&net, net.now + 15);
    CHECK_EQ (net.checks, checks + 1);
    //  The campaign runs out of time (50 ms) waiting for the other's answer
    s_run (&net, net.now + 45);
    CHECK_EQ (worm_ring_state (net.rings[before]), WORM_RING_WAITING);
    CHECK_EQ (s_regenerations (&net), regens);
    uint64_t confirmed = net.now;
    s_confirm (&net, before, other);
    CHECK_EQ (worm_ring_state (net.rings[before]), WORM_RING_CAMPAIGNING);
    s_run (&net, net.now + 10);
    CHECK_EQ (s_regenerations (&net), regens + 1);
    CHECK (net.now - confirmed < 20);
    s_net_fini (&net);
}

//  The holder and the member before it die at once. The member before
//  those two had its hand-on acknowledged and heard PASSED (naming the
//  holder): it campaigns early once both are confirmed gone, as the one
//  that handed the holder the token would have, had it lived.
static void
s_test_early_campaign_two_dead (void)
{
    s_net_t net;
    s_five (&net);
    int holder = s_until_holder (&net);
    int before = s_before (&net, holder);
    int first = s_before (&net, before);
    CHECK (before >= 0 && first >= 0 && first != holder);
    net.crashed[holder] = net.crashed[before] = true;
    uint64_t regens = s_regenerations (&net);
    s_confirm (&net, first, before);
    CHECK_EQ (worm_ring_state (net.rings[first]), WORM_RING_WAITING);
    uint64_t confirmed = net.now;
    s_confirm (&net, first, holder);
    CHECK_EQ (worm_ring_state (net.rings[first]), WORM_RING_CAMPAIGNING);
    s_run (&net, net.now + 10);
    CHECK_EQ (s_regenerations (&net), regens + 1);
    CHECK (net.now - confirmed < 20);
    s_net_fini (&net);

    //  The same deaths, but the token had gone on past the holder: the
    //  campaign is called off and the living token stays the only one
    s_five (&net);
    holder = s_until_holder (&net);
    before = s_before (&net, holder);
    first = s_before (&net, before);
    //  Let the token move on to the next member, and its hand-on be told
    while (worm_ring_state (net.rings[holder]) != WORM_RING_WAITING)
        s_run (&net, net.now + 1);
    s_run (&net, net.now + 2);
    net.crashed[holder] = net.crashed[before] = true;
    regens = s_regenerations (&net);
    s_confirm (&net, first, before);
    s_confirm (&net, first, holder);
    s_run (&net, net.now + 100);
    CHECK_EQ (s_regenerations (&net), regens);
    s_net_fini (&net);
}

//  A worm of five where the member before the holder dies: every other
//  member's agent confirms it, and the holder asks for a replacement (not
//  answered yet). Returns the index of that ask in net->spawn_ids; the
//  holder and the victim in *holder and *victim.
static int
s_replacement_asked (s_net_t *net, int *holder, int *victim)
{
    s_five (net);
    net->spawns_answered = net->spawns_asked;   //  growth's spare asks: never answered
    *holder = s_until_holder (net);
    *victim = s_before (net, *holder);
    net->crashed[*victim] = true;
    int asked = net->spawns_asked;
    for (int i = 0; i < 5; i++)
        if (i != *victim)
            s_confirm (net, i, *victim);
    for (int step = 0; net->spawns_asked == asked && step < 200; step++)
        s_run (net, net->now + 1);
    CHECK_EQ (net->spawns_asked, asked + 1);
    return asked;
}

//  A joiner that comes while the segment that asked for it does not hold
//  the token is listed by whoever holds it next (JOINED), not only when
//  the token comes round to the one that asked.
static void
s_test_joined_listed_by_holder (void)
{
    s_net_t net;
    int holder, victim;
    int asked = s_replacement_asked (&net, &holder, &victim);
    int requester = net.spawn_froms[asked];
    //  The token moves on before the new segment joins
    for (int step = 0; worm_ring_state (net.rings[requester]) != WORM_RING_WAITING && step < 2000;
         step++)
        s_run (&net, net.now + 1);
    CHECK_EQ (worm_ring_state (net.rings[requester]), WORM_RING_WAITING);
    int held = net.held[requester];
    int joiner = s_spawn (&net);
    char joiner_id[16];
    snprintf (joiner_id, sizeof joiner_id, "n%d", joiner);
    //  It says JOIN again and again until it is listed (every 300 ms, for
    //  a round; twice the 16 results a segment keeps): the same result,
    //  taken as often as it comes
    worm_ring_config_t joiner_config;
    s_config (&joiner_config, joiner);
    for (int again = 0; again < 32; again++)
        CHECK_EQ (worm_ring_spawn_result (net.rings[requester], net.spawn_ids[asked],
                                          &joiner_config.self, net.now),
                  0);
    //  Someone else holds the token next and lists it
    bool listed = false;
    for (int step = 0; !listed && step < 2000; step++) {
        s_run (&net, net.now + 1);
        for (int i = 0; i < net.n; i++)
            if (i != requester && net.rings[i] && !net.crashed[i]
                && worm_ring_state (net.rings[i]) == WORM_RING_HOLDING
                && worm_token_member_find (worm_ring_token (net.rings[i]), joiner_id) >= 0)
                listed = true;
    }
    CHECK (listed);
    CHECK_EQ (net.held[requester], held);
    s_run (&net, net.now + 1500);
    CHECK_EQ (worm_token_live_count (worm_ring_token (net.rings[requester])), 5);
    s_net_fini (&net);
}

//  A segment spawned to replace a dead one hears of another death before it
//  has any copy of the token (a quarter of a worm SIGKILLed at once): it
//  asks that segment's host agent once its first copy lists it, instead of
//  forgetting the hint (the ring went round its newcomers, each listing the
//  dead one live, until an old member that knew held the token).
static void
s_test_hint_before_first_token (void)
{
    s_net_t net;
    int holder, victim;
    int asked = s_replacement_asked (&net, &holder, &victim);
    int joiner = s_spawn (&net);
    CHECK (worm_ring_token (net.rings[joiner]) == NULL);
    //  Another member dies; the joiner hears of it first
    int other = -1;
    for (int i = 0; i < 5 && other < 0; i++)
        if (i != victim && i != holder && i != net.spawn_froms[asked])
            other = i;
    CHECK (other >= 0);
    char other_id[16];
    snprintf (other_id, sizeof other_id, "n%d", other);
    worm_ring_suspect (net.rings[joiner], other_id, net.now);
    s_drain (&net, joiner);
    CHECK_EQ (net.checks_of[joiner][other], 0);     //  no copy yet: nothing to ask with
    //  Its first copy lists the other: it asks about it then
    for (int step = 0; !worm_ring_token (net.rings[joiner]) && step < 3000; step++)
        s_run (&net, net.now + 1);
    CHECK (worm_ring_token (net.rings[joiner]) != NULL);
    CHECK_EQ (net.checks_of[joiner][other], 1);
    s_net_fini (&net);
}

//  A ring message of type from `from` carrying token as field "token" (and
//  epoch/seq for a TOKEN), into w (the caller finishes w).
static void
s_message_with_token (worm_wire_writer_t *w, const char *type, const char *from,
                      worm_token_t *token)
{
    uint8_t *bytes;
    size_t size;
    char err[WORM_TOKEN_ERROR_MAX];
    CHECK_EQ (worm_token_encode (token, &bytes, &size, err, sizeof err), 0);
    bool hop = strcmp (type, "TOKEN") == 0;
    worm_wire_writer_init (w);
    worm_wire_map (w, hop ? 7 : 5);
    worm_wire_kstr (w, "type", type);
    worm_wire_kstr (w, "worm", "w-test");
    worm_wire_kstr (w, "from", from);
    char endpoint[32];
    snprintf (endpoint, sizeof endpoint, "mem://%d", s_node_of (from));
    worm_wire_kstr (w, "endpoint", endpoint);
    if (hop) {
        worm_wire_ku64 (w, "epoch", worm_token_epoch (token));
        worm_wire_ku64 (w, "seq", worm_token_seq (token));
    }
    worm_wire_kbin (w, "token", bytes, size);
    free (bytes);
}

//  Counts the SEND actions of ring of type to peer (NULL: anyone) among
//  those queued, and drops them all.
static int
s_sent (worm_ring_t *ring, const char *type, const char *peer)
{
    int count = 0;
    const worm_ring_action_t *a;
    while ((a = worm_ring_action (ring))) {
        char kind[16];
        uint64_t e, q;
        if (a->type == WORM_RING_SEND && worm_ring_peek (a->data, a->size, kind, &e, &q) == 0
            && strcmp (kind, type) == 0 && (!peer || strcmp (a->peer, peer) == 0))
            count++;
    }
    return count;
}

//  A spawn result that reaches the holder during its voter change waits
//  (the change's value is the token as it was); when the change fails
//  (here: three of five voters crashed and no host agent has said so, so
//  no majority answers), the holder lists the joiner before it hands the
//  token on, not a round later at its next hold (a quarter of a worm of
//  32 SIGKILLed: an early campaign's promises held the holder's voter
//  change up, and its 7 joiners waited 3 s).
static void
s_test_joiner_after_failed_voter_change (void)
{
    s_net_t net;
    s_five (&net);
    net.spawns_answered = net.spawns_asked;     //  growth's spare asks: never answered
    int holder = s_until_holder (&net);
    int dead[3], ndead = 0;
    for (int i = 0; i < 5 && ndead < 3; i++)
        if (i != holder)
            dead[ndead++] = i;
    CHECK_EQ (ndead, 3);
    for (int k = 0; k < 3; k++)
        net.crashed[dead[k]] = true;
    uint64_t took = net.now;
    int asked = net.spawns_asked;
    s_confirm (&net, holder, dead[0]);
    CHECK_EQ (net.spawns_asked, asked + 1);
    //  The pacing hold is over: the voter change (dead[0] left) runs, and
    //  cannot win
    s_run (&net, took + 12);
    CHECK_EQ (worm_ring_state (net.rings[holder]), WORM_RING_HOLDING);
    int joiner = s_spawn (&net);
    char joiner_id[16];
    snprintf (joiner_id, sizeof joiner_id, "n%d", joiner);
    CHECK (worm_token_member_find (worm_ring_token (net.rings[holder]), joiner_id) < 0);
    for (int step = 0; worm_ring_state (net.rings[holder]) == WORM_RING_HOLDING && step < 500;
         step++)
        s_run (&net, net.now + 1);
    CHECK (worm_ring_state (net.rings[holder]) != WORM_RING_HOLDING);
    worm_token_t *token = worm_ring_token (net.rings[holder]);
    int index = worm_token_member_find (token, joiner_id);
    CHECK (index >= 0);
    CHECK_EQ (worm_token_member (token, (size_t) index)->state, WORM_MEMBER_JOINING);
    CHECK_EQ (worm_token_spawn_count (token), 0);
    s_net_fini (&net);
}

//  A token of epoch 5 for target 4 (max 5) listing n0, n1, n2 and those
//  of extra (NULL-terminated) live, n3 left (it died), the voters its live
//  members, and no spawn in flight: the one n2 asked for in epoch 4 was
//  dropped by the value chosen for epoch 5 (made from an older copy).
static worm_token_t *
s_token_without_spawn (const char *const *extra)
{
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, "w-test");
    CHECK_EQ (worm_token_set_population (token, 4, 5), 0);
    worm_token_set_epoch (token, 5);
    worm_token_set_seq (token, 40);
    const char *ids[8] = {"n0", "n1", "n2", "n3"};
    size_t count = 4;
    for (size_t i = 0; extra && extra[i] && count < 8; i++)
        ids[count++] = extra[i];
    for (size_t i = 0; i < count; i++) {
        worm_member_t m;
        memset (&m, 0, sizeof m);
        snprintf (m.id, sizeof m.id, "%s", ids[i]);
        snprintf (m.endpoint, sizeof m.endpoint, "mem://%d", s_node_of (ids[i]));
        m.state = strcmp (ids[i], "n3") == 0 ? WORM_MEMBER_LEFT : WORM_MEMBER_LIVE;
        CHECK_EQ (worm_token_member_add (token, &m), 0);
        if (m.state == WORM_MEMBER_LIVE)
            CHECK_EQ (worm_token_voter_add (token, m.id), 0);
    }
    return token;
}

//  Delivers to ring a JOINED from n2: its spawn "n2/7" of its copy of
//  epoch started as n6.
static void
s_deliver_joined (worm_ring_t *ring, uint64_t epoch, uint64_t now)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map (&w, 11);
    worm_wire_kstr (&w, "type", "JOINED");
    worm_wire_kstr (&w, "worm", "w-test");
    worm_wire_kstr (&w, "from", "n2");
    worm_wire_kstr (&w, "endpoint", "mem://2");
    worm_wire_ku64 (&w, "epoch", epoch);
    worm_wire_kstr (&w, "spawn", "n2/7");
    worm_wire_kstr (&w, "id", "n6");
    worm_wire_kstr (&w, "host", "host6");
    worm_wire_kstr (&w, "host_id", "H6");
    worm_wire_kstr (&w, "member_endpoint", "mem://6");
    worm_wire_ku64 (&w, "pid", 106);
    CHECK_EQ (worm_ring_receive (ring, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 now),
              0);
    worm_wire_writer_fini (&w);
}

//  Delivers token to ring as a TOKEN from n0; ring holds it then.
static void
s_deliver_token (worm_ring_t *ring, worm_token_t *token, uint64_t now)
{
    worm_wire_writer_t w;
    s_message_with_token (&w, "TOKEN", "n0", token);
    CHECK_EQ (worm_ring_receive (ring, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 now),
              0);
    worm_wire_writer_fini (&w);
    CHECK_EQ (worm_ring_state (ring), WORM_RING_HOLDING);
}

//  A joiner passed on (JOINED) whose spawn the holder's token no longer
//  has in flight (a campaign's value was made from a copy older than the
//  ask, and dropped it): the holder lists it while the worm is below
//  target, as the requester would at its own next hold, instead of leaving
//  it to the requester a round later (a quarter of a worm of 32 SIGKILLed,
//  the holder among them: its joiners waited 3 s). At target it leaves it
//  to the requester (it neither lists nor ends it); nor does it list one
//  passed on in an epoch later than its token's.
static void
s_test_joined_spawn_dropped (void)
{
    worm_ring_config_t config;
    s_config (&config, 1);
    uint64_t now = 5000;

    //  Below target (3 live of 4), JOINED before the token comes
    worm_ring_t *ring = worm_ring_new (&config, now);
    s_deliver_joined (ring, 4, now);
    worm_token_t *token = s_token_without_spawn (NULL);
    s_deliver_token (ring, token, now + 1);
    worm_token_destroy (&token);
    worm_token_t *held = worm_ring_token (ring);
    int index = worm_token_member_find (held, "n6");
    CHECK (index >= 0);
    CHECK_EQ (worm_token_member (held, (size_t) index)->state, WORM_MEMBER_JOINING);
    CHECK_EQ (worm_token_live_count (held), 4);
    CHECK_EQ (worm_token_spawn_count (held), 0);    //  no replacement asked for: it is one
    CHECK_EQ (s_sent (ring, "NEWER", "n6"), 0);
    worm_ring_destroy (&ring);

    //  JOINED while it holds the token, whose own replacements in flight
    //  make up the target already: not listed, the cap kept
    ring = worm_ring_new (&config, now);
    token = s_token_without_spawn (NULL);
    s_deliver_token (ring, token, now + 1);
    worm_token_destroy (&token);
    held = worm_ring_token (ring);
    CHECK_EQ (worm_token_spawn_count (held), 1);
    while (worm_ring_action (ring))
        ;
    s_deliver_joined (ring, 5, now + 2);
    CHECK (worm_token_member_find (held, "n6") < 0);
    CHECK_EQ (worm_token_live_count (held) + worm_token_spawn_count (held), 4);
    CHECK_EQ (s_sent (ring, "NEWER", "n6"), 0);
    worm_ring_destroy (&ring);

    //  At target: left to the requester, neither listed nor ended
    ring = worm_ring_new (&config, now);
    s_deliver_joined (ring, 4, now);
    const char *const fourth[] = {"n4", NULL};
    token = s_token_without_spawn (fourth);
    s_deliver_token (ring, token, now + 1);
    worm_token_destroy (&token);
    held = worm_ring_token (ring);
    CHECK (worm_token_member_find (held, "n6") < 0);
    CHECK_EQ (s_sent (ring, "NEWER", "n6"), 0);
    worm_ring_destroy (&ring);

    //  Passed on in epoch 6, later than the token's: not listed
    ring = worm_ring_new (&config, now);
    s_deliver_joined (ring, 6, now);
    token = s_token_without_spawn (NULL);
    s_deliver_token (ring, token, now + 1);
    worm_token_destroy (&token);
    CHECK (worm_token_member_find (worm_ring_token (ring), "n6") < 0);
    worm_ring_destroy (&ring);
}

//  Partition heal ("Partition heal" in docs/PROTOCOL.md): a TOKEN of an
//  older epoch is answered with NEWER, to its sender and to the members it
//  lists live that the receiver's copy does not; a segment that a newer
//  copy counts out goes after its grace, telling the members (LEAVE), but
//  stays when a host agent says one of the copy's live voters is gone; a
//  spawned segment that the holder will not list exits on NEWER at once.
static void
s_test_partition_heal (void)
{
    s_net_t net;
    s_found (&net, 3, 4);
    s_run (&net, 11);
    s_spawn (&net);
    s_spawn (&net);
    s_run (&net, 2000);
    worm_token_t *newest = worm_token_dup (worm_ring_token (net.rings[0]));
    CHECK_EQ (worm_token_live_count (newest), 3);
    CHECK (worm_token_epoch (newest) > 2);

    //  A lineage that lost: epoch 1, listing n0 and two segments n6, n7
    //  that the newest copy does not know; n6 hands it to n1
    worm_token_t *stale = worm_token_new ();
    worm_token_set_worm_id (stale, "w-test");
    CHECK_EQ (worm_token_set_population (stale, 3, 4), 0);
    worm_token_set_epoch (stale, 1);
    worm_token_set_seq (stale, 99);
    for (int i = 0; i < 3; i++) {
        worm_member_t m;
        memset (&m, 0, sizeof m);
        int node = i == 0 ? 0 : 5 + i;
        snprintf (m.id, sizeof m.id, "n%d", node);
        snprintf (m.endpoint, sizeof m.endpoint, "mem://%d", node);
        m.state = WORM_MEMBER_LIVE;
        CHECK_EQ (worm_token_member_add (stale, &m), 0);
    }
    worm_wire_writer_t w;
    s_message_with_token (&w, "TOKEN", "n6", stale);
    s_run (&net, net.now + 1);
    while (worm_ring_action (net.rings[1]))
        ;
    CHECK_EQ (worm_ring_receive (net.rings[1], worm_wire_writer_data (&w),
                                 worm_wire_writer_size (&w), net.now),
              0);
    worm_wire_writer_fini (&w);
    //  ... acknowledged and dropped, and n6 and n7 (not n0: listed live in
    //  the newest copy) told of the newer copy
    worm_ring_t *ring = net.rings[1];
    const worm_ring_action_t *a;
    int acks = 0, newer6 = 0, newer7 = 0, newer0 = 0;
    while ((a = worm_ring_action (ring))) {
        char kind[16];
        uint64_t e, q;
        if (a->type != WORM_RING_SEND || worm_ring_peek (a->data, a->size, kind, &e, &q))
            continue;
        acks += strcmp (kind, "ACK") == 0 && strcmp (a->peer, "n6") == 0;
        newer6 += strcmp (kind, "NEWER") == 0 && strcmp (a->peer, "n6") == 0;
        newer7 += strcmp (kind, "NEWER") == 0 && strcmp (a->peer, "n7") == 0;
        newer0 += strcmp (kind, "NEWER") == 0 && strcmp (a->peer, "n0") == 0;
    }
    CHECK_EQ (acks, 1);
    CHECK_EQ (newer6, 1);
    CHECK_EQ (newer7, 1);
    CHECK_EQ (newer0, 0);

    //  The receiving side: n5, a segment of that lineage (it holds an
    //  epoch-1 token of its own), hears NEWER from n1, a live voter of the
    //  newest copy, which lists n5 nowhere while the worm is at target:
    //  it goes after its grace of two half loss floors, with LEAVE
    worm_ring_config_t config;
    s_config (&config, 5);
    worm_ring_t *loser = worm_ring_new (&config, net.now);
    worm_token_t *own = worm_token_new ();
    worm_token_set_worm_id (own, "w-test");
    CHECK_EQ (worm_token_set_population (own, 3, 4), 0);
    CHECK_EQ (worm_ring_found (loser, &own, net.now), 0);
    while (worm_ring_action (loser))
        ;
    s_message_with_token (&w, "NEWER", "n1", newest);
    CHECK_EQ (worm_ring_receive (loser, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 net.now),
              0);
    CHECK_EQ (worm_token_epoch (worm_ring_token (loser)), worm_token_epoch (newest));
    CHECK_EQ (worm_ring_state (loser), WORM_RING_WAITING);
    CHECK (worm_ring_going (loser));
    CHECK_EQ (worm_ring_stats (loser)->newer, 1);
    uint64_t start = net.now;
    CHECK_EQ (worm_ring_deadline (loser), start + config.loss_floor_ms / 2);
    worm_ring_tick (loser, start + config.loss_floor_ms / 2);
    CHECK_EQ (worm_ring_state (loser), WORM_RING_WAITING);     //  CHECKs again, waits
    while (worm_ring_action (loser))
        ;
    worm_ring_tick (loser, start + config.loss_floor_ms);
    CHECK_EQ (worm_ring_state (loser), WORM_RING_EXITED);
    int leaves = 0, exits = 0;
    while ((a = worm_ring_action (loser))) {
        char kind[16];
        uint64_t e, q;
        leaves += a->type == WORM_RING_SEND && worm_ring_peek (a->data, a->size, kind, &e, &q) == 0
                  && strcmp (kind, "LEAVE") == 0;
        if (a->type == WORM_RING_EXIT) {
            exits++;
            CHECK_HAS (a->reason, "counted out");
        }
    }
    CHECK_EQ (leaves, 3);
    CHECK_EQ (exits, 1);
    worm_ring_destroy (&loser);

    //  The same, but the host agent says a live voter of that copy is gone
    //  within the grace: the lineage may need it, it stays
    loser = worm_ring_new (&config, net.now);
    own = worm_token_new ();
    worm_token_set_worm_id (own, "w-test");
    CHECK_EQ (worm_token_set_population (own, 3, 4), 0);
    CHECK_EQ (worm_ring_found (loser, &own, net.now), 0);
    CHECK_EQ (worm_ring_receive (loser, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 net.now),
              0);
    CHECK (worm_ring_going (loser));
    worm_ring_confirm_dead (loser, "n2", net.now + 10);
    worm_ring_tick (loser, start + config.loss_floor_ms / 2);
    worm_ring_tick (loser, start + config.loss_floor_ms);
    CHECK (worm_ring_state (loser) != WORM_RING_EXITED);
    CHECK (!worm_ring_going (loser));
    worm_ring_destroy (&loser);

    //  A spawned segment that never held a token exits on a NEWER that
    //  does not list it; one that it lists is left alone
    loser = worm_ring_new (&config, net.now);
    CHECK_EQ (worm_ring_receive (loser, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 net.now),
              0);
    CHECK_EQ (worm_ring_state (loser), WORM_RING_EXITED);
    a = worm_ring_action (loser);
    CHECK (a && a->type == WORM_RING_EXIT);
    CHECK_HAS (a->reason, "spawn dropped");
    worm_ring_destroy (&loser);
    s_config (&config, 2);
    loser = worm_ring_new (&config, net.now);
    CHECK_EQ (worm_ring_receive (loser, worm_wire_writer_data (&w), worm_wire_writer_size (&w),
                                 net.now),
              0);
    CHECK_EQ (worm_ring_state (loser), WORM_RING_WAITING);
    worm_ring_destroy (&loser);
    //  A NEWER that is not newer is nothing; a malformed one is refused
    CHECK_EQ (worm_ring_receive (net.rings[0], worm_wire_writer_data (&w),
                                 worm_wire_writer_size (&w), net.now),
              0);
    CHECK_EQ (s_sent (net.rings[0], "LEAVE", NULL), 0);
    worm_wire_writer_fini (&w);
    worm_wire_writer_init (&w);
    worm_wire_map (&w, 5);
    worm_wire_kstr (&w, "type", "NEWER");
    worm_wire_kstr (&w, "worm", "w-test");
    worm_wire_kstr (&w, "from", "n1");
    worm_wire_kstr (&w, "endpoint", "mem://1");
    worm_wire_kstr (&w, "token", "not a token");
    CHECK_EQ (worm_ring_receive (net.rings[0], worm_wire_writer_data (&w),
                                 worm_wire_writer_size (&w), net.now),
              -1);
    CHECK_HAS (worm_ring_error (net.rings[0]), "NEWER");
    worm_wire_writer_fini (&w);
    worm_token_destroy (&stale);
    worm_token_destroy (&newest);
    s_net_fini (&net);
}

//  HELD says whether the token lists a live majority of its voters: yes
//  for every hold of a whole worm; no once the holder is cut off from the
//  others (both crashed: its hops go unacknowledged and it holds alone)
static void
s_test_held_quorum (void)
{
    s_net_t net;
    s_found (&net, 3, 4);
    s_run (&net, 11);
    s_spawn (&net);
    s_spawn (&net);
    s_run (&net, 2000);
    for (int i = 0; i < 3; i++) {
        CHECK (net.held[i] > 0);
        CHECK_EQ (net.held_quorum[i], net.held[i]);
    }
    while (worm_ring_state (net.rings[0]) != WORM_RING_HOLDING)
        s_run (&net, net.now + 1);
    net.crashed[1] = net.crashed[2] = true;
    int held = net.held[0], with_quorum = net.held_quorum[0];
    s_run (&net, net.now + 10000);
    CHECK (net.held[0] > held);
    CHECK_EQ (net.held_quorum[0], with_quorum);
    s_net_fini (&net);
}

//  A member listed dead that is alive (paused: it misses what is sent to
//  it) is sent the holder's copy now and then once the worm is back at its
//  target without it; resumed, it learns that it is counted out and goes,
//  and the worm stays at its target
static void
s_test_dead_member_told (void)
{
    s_net_t net;
    s_grow_three (&net);
    int victim = s_waiting_node (&net);
    net.crashed[victim] = true;
    s_run (&net, net.now + 600);
    CHECK (net.spawns_asked > net.spawns_answered);
    s_spawn (&net);
    s_run (&net, net.now + 500);
    int other = (victim + 1) % 3;
    CHECK_EQ (worm_token_live_count (worm_ring_token (net.rings[other])), 3);
    int told = net.newer_to[victim];
    s_run (&net, net.now + 2500);
    CHECK (net.newer_to[victim] > told);
    net.crashed[victim] = false;
    s_run (&net, net.now + 5000);
    CHECK (net.exited[victim]);
    CHECK_EQ (worm_token_live_count (worm_ring_token (net.rings[other])), 3);
    s_net_fini (&net);
}

//  A spawn whose requester dies before listing it is dropped from the
//  spawns in flight at the next hold, and its replacement asked for then,
//  not after the join deadline (20 s)
static void
s_test_orphan_spawn (void)
{
    s_join_deadline_ms = 20000;     //  as in a segment: no expiry meanwhile
    s_net_t net;
    s_found (&net, 5, 6);
    for (int i = 0; i < 4; i++) {
        s_run (&net, net.now + 11);
        s_spawn (&net);
    }
    s_run (&net, net.now + 2000);
    CHECK_EQ (worm_token_live_count (worm_ring_token (net.rings[0])), 5);
    int victim = -1;
    for (int i = 0; i < 5 && victim < 0; i++)
        if (worm_ring_state (net.rings[i]) == WORM_RING_WAITING)
            victim = i;
    CHECK (victim >= 0);
    net.crashed[victim] = true;
    int asked = net.spawns_asked;
    s_run (&net, net.now + 800);
    CHECK (net.spawns_asked > asked);
    int requester = net.spawn_froms[net.spawns_asked - 1];
    CHECK (requester != victim);
    //  It hands the token on with the spawn in flight (its spawn hold over)
    uint64_t until = net.now + 3000;
    while (net.now < until && worm_ring_state (net.rings[requester]) != WORM_RING_WAITING)
        s_run (&net, net.now + 1);
    CHECK_EQ (worm_ring_state (net.rings[requester]), WORM_RING_WAITING);
    CHECK (worm_token_spawn_count (worm_ring_token (net.rings[requester])) > 0);
    //  The requester dies before the spawn's result reaches it, and the
    //  host agents confirm both deaths to the others
    net.crashed[requester] = true;
    asked = net.spawns_asked;
    char dead[2][16];
    snprintf (dead[0], sizeof dead[0], "n%d", victim);
    snprintf (dead[1], sizeof dead[1], "n%d", requester);
    for (int i = 0; i < 5; i++)
        if (i != victim && i != requester)
            for (int k = 0; k < 2; k++) {
                worm_ring_confirm_dead (net.rings[i], dead[k], net.now);
                s_drain (&net, i);
            }
    //  Two replacements are asked for (the victim's again, and the
    //  requester's) well before the orphan spawn's join deadline, not one
    //  while it still counts
    s_run (&net, net.now + 1000);
    CHECK (net.spawns_asked >= asked + 2);
    s_net_fini (&net);
    s_join_deadline_ms = 1000;
}

int
main (void)
{
    s_test_config ();
    s_test_grow_and_circulate ();
    s_test_freshness_and_hostile ();
    s_test_dead_successor_and_regeneration ();
    s_test_kill ();
    s_test_rescue ();
    s_test_leave ();
    s_test_suspect ();
    s_test_heal_while_holding ();
    s_test_heal_at_next_hold ();
    s_test_spawn_hold_off ();
    s_test_heal_holder_death ();
    s_test_early_campaign_retried ();
    s_test_early_campaign_two_dead ();
    s_test_joined_listed_by_holder ();
    s_test_joiner_after_failed_voter_change ();
    s_test_joined_spawn_dropped ();
    s_test_hint_before_first_token ();
    s_test_partition_heal ();
    s_test_held_quorum ();
    s_test_dead_member_told ();
    s_test_orphan_spawn ();
    return check_done ("token.ring");
}
