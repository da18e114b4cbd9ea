/*  token_test.c — the token's codec (round trip, hostile input) and its
    pure rules (freshness, successor, population, merge). */
#include "token.h"
#include "wire.h"
#include "../tests/check.h"

static worm_member_t
s_member (const char *id, worm_member_state_t state)
{
    worm_member_t m;
    memset (&m, 0, sizeof m);
    snprintf (m.id, sizeof m.id, "%s", id);
    snprintf (m.host, sizeof m.host, "host-%s", id);
    snprintf (m.host_id, sizeof m.host_id, "H%s", id);
    snprintf (m.endpoint, sizeof m.endpoint, "tcp://10.0.0.1:%s", id);
    m.pid = 4242;
    m.born_at_ms = 1000;
    m.state = state;
    return m;
}

//  A token with n members s1..sn, all live.
static worm_token_t *
s_sample (size_t n)
{
    worm_token_t *t = worm_token_new ();
    CHECK (t);
    CHECK_EQ (worm_token_set_worm_id (t, "w-1234"), 0);
    CHECK_EQ (worm_token_set_worm_name (t, "clock"), 0);
    CHECK_EQ (worm_token_set_app_name (t, "alarm"), 0);
    CHECK_EQ (worm_token_set_origin (t, "s1"), 0);
    CHECK_EQ (worm_token_set_population (t, 3, 4), 0);
    worm_token_set_epoch (t, 7);
    worm_token_set_seq (t, 99);
    worm_token_set_round_ms (t, 250);
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf (id, sizeof id, "s%zu", i + 1);
        worm_member_t m = s_member (id, WORM_MEMBER_LIVE);
        CHECK_EQ (worm_token_member_add (t, &m), 0);
    }
    worm_token_set_voters_from_live (t);
    return t;
}

static void
s_round_trip (void)
{
    worm_token_t *t = s_sample (3);
    CHECK_EQ (worm_token_param_add (t, "bells=3"), 0);
    CHECK_EQ (worm_token_param_add (t, "tone=a=b"), 0);
    CHECK_EQ (worm_token_param_add (t, "=novalue"), -1);
    CHECK_EQ (worm_token_param_add (t, "nokey"), -1);
    CHECK_EQ (worm_token_spawn_add (t, "s1/1", "hostX", "s1", 5000), 0);
    CHECK_EQ (worm_token_spawn_add (t, "s1/1", "hostX", "s1", 5000), -1);
    worm_token_set_kill (t, true);
    CHECK_EQ (worm_token_set_launcher_key (t, "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"), 0);
    CHECK_EQ (worm_token_set_app_state (t, "\x00\x01\x02\xff", 4), 0);
    worm_token_member (t, 1)->state = WORM_MEMBER_DEAD;

    uint8_t *data = NULL;
    size_t size = 0;
    char err[WORM_TOKEN_ERROR_MAX];
    CHECK_EQ (worm_token_encode (t, &data, &size, err, sizeof err), 0);
    worm_token_t *u = NULL;
    CHECK_EQ (worm_token_decode (data, size, &u, err, sizeof err), 0);
    CHECK (u);
    CHECK_STR (worm_token_worm_id (u), "w-1234");
    CHECK_STR (worm_token_worm_name (u), "clock");
    CHECK_STR (worm_token_app_name (u), "alarm");
    CHECK_STR (worm_token_origin (u), "s1");
    CHECK_STR (worm_token_launcher_key (u), worm_token_launcher_key (t));
    CHECK_EQ (worm_token_param_count (u), 2);
    CHECK_STR (worm_token_param (u, 1), "tone=a=b");
    CHECK (worm_token_param (u, 2) == NULL);
    CHECK_EQ (worm_token_target (u), 3);
    CHECK_EQ (worm_token_max (u), 4);
    CHECK_EQ (worm_token_epoch (u), 7);
    CHECK_EQ (worm_token_seq (u), 99);
    CHECK_EQ (worm_token_round_ms (u), 250);
    CHECK (worm_token_kill (u));
    CHECK_EQ (worm_token_member_count (u), 3);
    CHECK_EQ (worm_token_voter_count (u), 3);
    CHECK_STR (worm_token_voter (u, 2), "s3");
    worm_member_t *m = worm_token_member (u, 1);
    CHECK_STR (m->id, "s2");
    CHECK_STR (m->endpoint, "tcp://10.0.0.1:s2");
    CHECK_STR (m->host, "host-s2");
    CHECK_STR (m->host_id, "Hs2");
    CHECK_EQ (m->pid, 4242);
    CHECK_EQ (m->born_at_ms, 1000);
    CHECK_EQ (m->state, WORM_MEMBER_DEAD);
    CHECK_EQ (worm_token_spawn_count (u), 1);
    CHECK_STR (worm_token_spawn (u, 0)->requester, "s1");
    CHECK_EQ (worm_token_spawn (u, 0)->requested_at_ms, 5000);
    size_t app_size = 0;
    const uint8_t *app = (const uint8_t *) worm_token_app_state (u, &app_size);
    CHECK_EQ (app_size, 4);
    CHECK_EQ (app[3], 0xff);

    //  Encoding the decoded token gives the same bytes
    uint8_t *again = NULL;
    size_t again_size = 0;
    CHECK_EQ (worm_token_encode (u, &again, &again_size, err, sizeof err), 0);
    CHECK_EQ (again_size, size);
    CHECK (memcmp (again, data, size) == 0);
    free (again);

    //  dup is deep
    worm_token_t *d = worm_token_dup (u);
    CHECK_EQ (worm_token_set_app_state (u, "zz", 2), 0);
    app = (const uint8_t *) worm_token_app_state (d, &app_size);
    CHECK_EQ (app_size, 4);
    CHECK_EQ (app[0], 0);
    worm_token_destroy (&d);
    CHECK (d == NULL);

    //  Every truncation is refused with a reason
    for (size_t cut = 0; cut < size; cut++) {
        worm_token_t *bad = (worm_token_t *) 1;
        CHECK_EQ (worm_token_decode (data, cut, &bad, err, sizeof err), -1);
        CHECK (bad == NULL);
        CHECK_HAS (err, "token: ");
    }
    //  Trailing bytes are refused
    uint8_t *padded = (uint8_t *) malloc (size + 1);
    memcpy (padded, data, size);
    padded[size] = 0xc0;
    worm_token_t *bad = NULL;
    CHECK_EQ (worm_token_decode (padded, size + 1, &bad, err, sizeof err), -1);
    CHECK_HAS (err, "trailing");
    //  Every single-byte corruption is handled (accepted or refused, no crash)
    for (size_t i = 0; i < size; i++) {
        for (int flip = 1; flip < 256; flip <<= 2) {
            memcpy (padded, data, size);
            padded[i] ^= (uint8_t) flip;
            worm_token_t *maybe = NULL;
            if (worm_token_decode (padded, size, &maybe, err, sizeof err) == 0)
                worm_token_destroy (&maybe);
        }
    }
    free (padded);
    free (data);
    worm_token_destroy (&t);
    worm_token_destroy (&u);
    worm_token_destroy (&u);     //  twice is harmless
    CHECK (u == NULL);
}

//  Writes a token map by hand so tests can break one thing at a time:
//  n_members / n_spawns / n_params entries, and bad_key's value replaced by
//  a value of the wrong type. app_size bytes of app state.
static void
s_raw (worm_wire_writer_t *w, size_t n_members, size_t n_spawns, size_t n_params,
       const char *bad_key, size_t app_size)
{
    const char *keys[] = {"v", "worm", "name", "app", "params", "target", "max", "epoch", "seq",
                          "origin", "voters", "members", "spawns", "kill", "key", "round_ms",
                          "app_state"};
    size_t n = sizeof keys / sizeof keys[0];
    worm_wire_map (w, n);
    for (size_t k = 0; k < n; k++) {
        const char *key = keys[k];
        worm_wire_str (w, key);
        if (bad_key && strcmp (bad_key, key) == 0) {
            worm_wire_array (w, 1);     //  wrong type for every field
            worm_wire_bool (w, true);
            continue;
        }
        if (!strcmp (key, "v"))
            worm_wire_u64 (w, 1);
        else if (!strcmp (key, "worm"))
            worm_wire_str (w, "w-1");
        else if (!strcmp (key, "params")) {
            worm_wire_array (w, n_params);
            for (size_t i = 0; i < n_params; i++)
                worm_wire_str (w, "k=v");
        }
        else if (!strcmp (key, "target") || !strcmp (key, "max"))
            worm_wire_u64 (w, 2);
        else if (!strcmp (key, "epoch") || !strcmp (key, "seq") || !strcmp (key, "round_ms"))
            worm_wire_u64 (w, 1);
        else if (!strcmp (key, "voters"))
            worm_wire_array (w, 0);
        else if (!strcmp (key, "members")) {
            worm_wire_array (w, n_members);
            for (size_t i = 0; i < n_members; i++) {
                char id[16];
                snprintf (id, sizeof id, "m%zu", i);
                worm_wire_map (w, 7);
                if (bad_key && !strcmp (bad_key, "members.pid")) {
                    worm_wire_kstr (w, "pid", "12");
                }
                else
                    worm_wire_ku64 (w, "pid", 12);
                worm_wire_kstr (w, "id", id);
                worm_wire_kstr (w, "host", "h");
                worm_wire_kstr (w, "host_id", "hid");
                worm_wire_kstr (w, "endpoint", "tcp://x:1");
                worm_wire_ku64 (w, "born", 1);
                worm_wire_ku64 (w, "state", bad_key && !strcmp (bad_key, "members.state") ? 9 : 0);
            }
        }
        else if (!strcmp (key, "spawns")) {
            worm_wire_array (w, n_spawns);
            for (size_t i = 0; i < n_spawns; i++) {
                char id[16];
                snprintf (id, sizeof id, "p%zu", i);
                worm_wire_map (w, 4);
                worm_wire_kstr (w, "id", id);
                worm_wire_kstr (w, "host", "");
                worm_wire_kstr (w, "by", "m0");
                worm_wire_ku64 (w, "at", 5);
            }
        }
        else if (!strcmp (key, "kill"))
            worm_wire_bool (w, false);
        else if (!strcmp (key, "app_state")) {
            uint8_t *blob = (uint8_t *) calloc (1, app_size + 1);
            worm_wire_bin (w, blob, app_size);
            free (blob);
        }
        else
            worm_wire_str (w, "x");
    }
}

//  Decodes what s_raw wrote; returns the decoder's result, error in err.
static int
s_decode_raw (size_t n_members, size_t n_spawns, size_t n_params, const char *bad_key,
              size_t app_size, char *err, size_t errcap)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    s_raw (&w, n_members, n_spawns, n_params, bad_key, app_size);
    worm_token_t *t = NULL;
    int rc = worm_token_decode (worm_wire_writer_data (&w), worm_wire_writer_size (&w), &t, err,
                                errcap);
    if (rc == 0)
        CHECK (t != NULL);
    else
        CHECK (t == NULL);
    worm_token_destroy (&t);
    worm_wire_writer_fini (&w);
    return rc;
}

static void
s_hostile (void)
{
    char err[WORM_TOKEN_ERROR_MAX];
    //  The hand-written map decodes when nothing is broken
    CHECK_EQ (s_decode_raw (2, 1, 1, NULL, 10, err, sizeof err), 0);
    //  List limits
    CHECK_EQ (s_decode_raw (WORM_TOKEN_MAX_MEMBERS, 0, 0, NULL, 0, err, sizeof err), 0);
    CHECK_EQ (s_decode_raw (WORM_TOKEN_MAX_MEMBERS + 1, 0, 0, NULL, 0, err, sizeof err), -1);
    CHECK_HAS (err, "'members'");
    CHECK_HAS (err, "exceed");
    CHECK_EQ (s_decode_raw (1, WORM_TOKEN_MAX_SPAWNS + 1, 0, NULL, 0, err, sizeof err), -1);
    CHECK_HAS (err, "'spawns'");
    CHECK_EQ (s_decode_raw (1, 0, WORM_TOKEN_MAX_PARAMS + 1, NULL, 0, err, sizeof err), -1);
    CHECK_HAS (err, "'params'");
    CHECK_EQ (s_decode_raw (1, 0, 0, NULL, WORM_TOKEN_APP_STATE_MAX, err, sizeof err), 0);
    CHECK_EQ (s_decode_raw (1, 0, 0, NULL, WORM_TOKEN_APP_STATE_MAX + 1, err, sizeof err), -1);
    CHECK_HAS (err, "'app_state'");
    //  Whole-token limit: a message bigger than SIZE_MAX is refused unread
    uint8_t *huge = (uint8_t *) calloc (1, WORM_TOKEN_SIZE_MAX + 1);
    worm_token_t *t = NULL;
    CHECK_EQ (worm_token_decode (huge, WORM_TOKEN_SIZE_MAX + 1, &t, err, sizeof err), -1);
    CHECK_HAS (err, "exceeds");
    //  A wrong type in each field is refused and named
    const char *fields[] = {"v", "worm", "name", "app", "params", "target", "max", "epoch",
                            "seq", "origin", "voters", "members", "spawns", "kill", "key",
                            "round_ms", "app_state"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        CHECK_EQ (s_decode_raw (1, 1, 1, fields[i], 0, err, sizeof err), -1);
        char quoted[32];
        snprintf (quoted, sizeof quoted, "'%s", fields[i]);
        CHECK_HAS (err, quoted);
    }
    CHECK_EQ (s_decode_raw (2, 0, 0, "members.pid", 0, err, sizeof err), -1);
    CHECK_HAS (err, "'members[0]': field 'pid'");
    CHECK_EQ (s_decode_raw (2, 0, 0, "members.state", 0, err, sizeof err), -1);
    CHECK_HAS (err, "'state'");

    //  Semantic checks: target/max, duplicate ids, empty worm id, unknown format
    worm_token_t *s = s_sample (2);
    CHECK_EQ (worm_token_set_population (s, 0, 3), -1);
    CHECK_EQ (worm_token_set_population (s, 4, 3), -1);
    CHECK_EQ (worm_token_set_population (s, 3, WORM_TOKEN_MAX_MEMBERS + 1), -1);
    worm_member_t dup = s_member ("s1", WORM_MEMBER_LIVE);
    CHECK_EQ (worm_token_member_add (s, &dup), -1);
    worm_member_t empty = s_member ("", WORM_MEMBER_LIVE);
    CHECK_EQ (worm_token_member_add (s, &empty), -1);
    char toolong[WORM_TOKEN_ID_MAX + 8];
    memset (toolong, 'a', sizeof toolong - 1);
    toolong[sizeof toolong - 1] = 0;
    CHECK_EQ (worm_token_set_worm_id (s, toolong), -1);
    CHECK_STR (worm_token_worm_id (s), "w-1234");
    CHECK_EQ (worm_token_set_app_state (s, huge, WORM_TOKEN_APP_STATE_MAX + 1), -1);
    free (huge);
    worm_token_destroy (&s);

    //  Random noise and random maps never crash the decoder
    srand (11);
    for (int round = 0; round < 20000; round++) {
        uint8_t noise[96];
        size_t len = 1 + (size_t) rand () % sizeof noise;
        for (size_t i = 0; i < len; i++)
            noise[i] = (uint8_t) rand ();
        if (round % 2)
            noise[0] = (uint8_t) (0x80 | (rand () % 16));     //  a fixmap, to get further
        t = NULL;
        if (worm_token_decode (noise, len, &t, err, sizeof err) == 0)
            worm_token_destroy (&t);
        CHECK (t == NULL);
    }
    t = NULL;
    CHECK_EQ (worm_token_decode (NULL, 0, &t, err, sizeof err), -1);
}

static void
s_rules (void)
{
    //  Freshness order
    CHECK_EQ (worm_token_order (2, 0, 1, 100), 1);
    CHECK_EQ (worm_token_order (1, 100, 2, 0), -1);
    CHECK_EQ (worm_token_order (3, 5, 3, 4), 1);
    CHECK_EQ (worm_token_order (3, 4, 3, 5), -1);
    CHECK_EQ (worm_token_order (3, 4, 3, 4), 0);

    //  Members
    worm_token_t *t = s_sample (5);
    CHECK_EQ (worm_token_member_find (t, "s3"), 2);
    CHECK_EQ (worm_token_member_find (t, "s9"), -1);
    CHECK_EQ (worm_token_live_count (t), 5);
    CHECK (worm_token_voters_match_live (t));

    //  Successor: next live after me, wrapping, skipping dead/left/excluded
    size_t distance = 0;
    CHECK_EQ (worm_token_successor (t, "s1", NULL, 0, &distance), 1);
    CHECK_EQ (distance, 1);
    CHECK_EQ (worm_token_successor (t, "s5", NULL, 0, &distance), 0);
    worm_token_member (t, 1)->state = WORM_MEMBER_DEAD;
    worm_token_member (t, 2)->state = WORM_MEMBER_LEFT;
    CHECK_EQ (worm_token_successor (t, "s1", NULL, 0, &distance), 3);
    CHECK_EQ (distance, 3);
    const char *exclude[] = {"s4"};
    CHECK_EQ (worm_token_successor (t, "s1", exclude, 1, &distance), 4);
    CHECK_EQ (distance, 4);
    CHECK_EQ (worm_token_successor (t, "s9", NULL, 0, NULL), -1);
    //  Predecessor: the same walk backwards
    CHECK_EQ (worm_token_predecessor (t, "s4", NULL, 0), 0);
    CHECK_EQ (worm_token_predecessor (t, "s1", NULL, 0), 4);
    const char *exclude_s5[] = {"s5"};
    CHECK_EQ (worm_token_predecessor (t, "s1", exclude_s5, 1), 3);
    CHECK_EQ (worm_token_predecessor (t, "s9", NULL, 0), -1);
    CHECK_EQ (worm_token_live_count (t), 3);
    CHECK (!worm_token_voters_match_live (t));
    CHECK_EQ (worm_token_purge (t), 2);
    CHECK_EQ (worm_token_member_count (t), 3);
    CHECK_STR (worm_token_member (t, 1)->id, "s4");
    worm_token_set_voters_from_live (t);
    CHECK (worm_token_voters_match_live (t));
    CHECK (worm_token_is_voter (t, "s5"));
    CHECK (!worm_token_is_voter (t, "s2"));
    CHECK_EQ (worm_token_voter_remove (t, "s4"), 0);
    CHECK_EQ (worm_token_voter_remove (t, "s4"), -1);
    CHECK_EQ (worm_token_voter_count (t), 2);
    CHECK (!worm_token_voters_match_live (t));
    CHECK_EQ (worm_token_voter_add (t, "s4"), 0);
    CHECK_EQ (worm_token_voter_add (t, "s4"), -1);
    CHECK_EQ (worm_token_voter_add (t, ""), -1);
    CHECK (worm_token_voters_match_live (t));
    CHECK_EQ (worm_token_member_remove (t, "s4"), 0);
    CHECK_EQ (worm_token_member_remove (t, "s4"), -1);
    CHECK_EQ (worm_token_successor (t, "s1", NULL, 0, NULL), 1);
    CHECK_EQ (worm_token_member_remove (t, "s5"), 0);
    CHECK_EQ (worm_token_successor (t, "s1", NULL, 0, NULL), -1);    //  alone
    CHECK_EQ (worm_token_predecessor (t, "s1", NULL, 0), -1);
    worm_token_destroy (&t);

    //  Population: target 3, max 4
    uint32_t k = 99;
    t = s_sample (1);
    CHECK_EQ (worm_token_population (t, "s1", 10000, 5000, &k), WORM_POP_SPAWN);
    CHECK_EQ (k, 2);
    CHECK_EQ (worm_token_spawn_add (t, "a", "", "s1", 9000), 0);
    CHECK_EQ (worm_token_population (t, "s1", 10000, 5000, &k), WORM_POP_SPAWN);
    CHECK_EQ (k, 1);
    CHECK_EQ (worm_token_spawn_add (t, "b", "", "s1", 9000), 0);
    CHECK_EQ (worm_token_population (t, "s1", 10000, 5000, &k), WORM_POP_NOTHING);
    CHECK_EQ (k, 0);
    //  Spawns expire after the join deadline and are dropped
    CHECK_EQ (worm_token_population (t, "s1", 14001, 5000, &k), WORM_POP_SPAWN);
    CHECK_EQ (k, 2);
    CHECK_EQ (worm_token_spawn_count (t), 0);
    //  Hard cap counts spawns in flight: target 3, max 3, 2 live + 1 flying
    worm_token_destroy (&t);
    t = s_sample (2);
    CHECK_EQ (worm_token_set_population (t, 3, 3), 0);
    CHECK_EQ (worm_token_spawn_add (t, "a", "", "s1", 9000), 0);
    CHECK_EQ (worm_token_population (t, "s1", 10000, 5000, &k), WORM_POP_NOTHING);
    //  More than target: the holder leaves; a dead member does not count
    worm_token_destroy (&t);
    t = s_sample (4);
    CHECK_EQ (worm_token_population (t, "s2", 10000, 5000, &k), WORM_POP_LEAVE);
    worm_token_member (t, 3)->state = WORM_MEMBER_DEAD;
    CHECK_EQ (worm_token_population (t, "s2", 10000, 5000, &k), WORM_POP_NOTHING);
    //  A holder that is not live itself never "leaves"
    worm_token_member (t, 3)->state = WORM_MEMBER_LIVE;
    CHECK_EQ (worm_token_population (t, "s9", 10000, 5000, &k), WORM_POP_NOTHING);
    //  Over the cap (e.g. after a merge): leave, never spawn
    CHECK_EQ (worm_token_set_population (t, 1, 2), 0);
    CHECK_EQ (worm_token_population (t, "s1", 10000, 5000, &k), WORM_POP_LEAVE);
    worm_token_destroy (&t);
    //  A list that is nearly full limits spawns too
    t = s_sample (WORM_TOKEN_MAX_MEMBERS - 1);
    CHECK_EQ (worm_token_set_population (t, WORM_TOKEN_MAX_MEMBERS, WORM_TOKEN_MAX_MEMBERS), 0);
    for (size_t i = 0; i < 10; i++)
        worm_token_member (t, i)->state = WORM_MEMBER_DEAD;
    CHECK_EQ (worm_token_population (t, "s20", 10000, 5000, &k), WORM_POP_SPAWN);
    CHECK_EQ (k, 1);
    worm_token_destroy (&t);

    //  Merge after a split: self wins, other's live members join within the cap
    worm_token_t *a = s_sample (2);     //  s1 s2, target 3 max 4
    worm_token_t *b = worm_token_new ();
    CHECK_EQ (worm_token_set_worm_id (b, "w-1234"), 0);
    const char *ids[] = {"s2", "s7", "s8", "s9"};
    for (size_t i = 0; i < 4; i++) {
        worm_member_t m = s_member (ids[i], i == 1 ? WORM_MEMBER_DEAD : WORM_MEMBER_LIVE);
        CHECK_EQ (worm_token_member_add (b, &m), 0);
    }
    worm_token_set_kill (b, true);
    CHECK_EQ (worm_token_merge (a, b), 2);     //  s8, s9 join; s2 known; s7 dead
    CHECK_EQ (worm_token_member_count (a), 4);
    CHECK_EQ (worm_token_member (a, 3)->state, WORM_MEMBER_JOINING);
    CHECK (worm_token_kill (a));
    CHECK_EQ (worm_token_epoch (a), 7);
    //  Cap: with max 4 and 4 live nothing more joins
    worm_member_t extra = s_member ("s10", WORM_MEMBER_LIVE);
    CHECK_EQ (worm_token_member_add (b, &extra), 0);
    CHECK_EQ (worm_token_merge (a, b), 0);
    CHECK (worm_token_live_count (a) + worm_token_spawn_count (a) <= worm_token_max (a));
    worm_token_destroy (&a);
    worm_token_destroy (&b);

    //  Describe names epoch, seq, origin and members, and never overflows
    t = s_sample (5);
    char line[300];
    worm_token_describe (t, line, sizeof line);
    CHECK_HAS (line, "e7/s99 by s1 [s1L s2L");
    CHECK_HAS (line, "voters {s1 s2 s3 s4 s5}");
    for (size_t cap = 1; cap < 80; cap++) {
        char small[80];
        memset (small, 'x', sizeof small);
        worm_token_describe (t, small, cap);
        CHECK (strlen (small) < cap);
        CHECK_EQ (small[cap], 'x');
    }
    worm_token_destroy (&t);
}

int
main (void)
{
    s_round_trip ();
    s_hostile ();
    s_rules ();
    return check_done ("token.token");
}
