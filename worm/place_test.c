/*  place_test.c — CLAIM then SPAWN against fake agents on the loopback
    (tests/fake_lan.h, real UDP and CURVE ZeroMQ sockets): what each request
    carries, each way a host can refuse or fail to answer, the relay, and
    worm_place's walk over the willing hosts in answer order (exclusions,
    untrusted keys, cancellation, no one answering), each with its message. */
#include "place.h"
#include "../tests/check.h"
#include "../tests/fake_lan.h"

enum { ALPHA, BETA, GAMMA, DELTA, EPSILON, ZETA, ETA, HOSTS };

static fake_lan_t s_lan;

static void
s_cleanup (void)
{
    fake_lan_stop (&s_lan);
}

static bool
s_cancel (void *arg)
{
    (void) arg;
    return true;
}

static const char *
s_ep (int host)
{
    return s_lan.hosts[host].host.endpoint;
}

static const char *
s_key (int host)
{
    return s_lan.hosts[host].host.key;
}

int
main (void)
{
    zsys_init ();
    atexit (s_cleanup);
    char err[512], want[512];
    zcert_t *me = zcert_new ();
    worm_ctl_set_identity (me);

    //  Willing alpha and beta answer in that order; alpha refuses claims.
    //  Gamma is unwilling. The others never answer a query and fail on
    //  the control channel, each its own way.
    s_lan.control = true;
    const char *names[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"};
    for (int i = 0; i < HOSTS; i++) {
        fake_lan_host (&s_lan, i, names[i], i != GAMMA);
        s_lan.hosts[i].mute = i > GAMMA;
    }
    s_lan.hosts[ALPHA].claim_refusal = "host alpha is full (4 of 4 segments)";
    s_lan.hosts[DELTA].claim_reply = FAKE_REPLY_NO_FIELD;
    s_lan.hosts[EPSILON].spawn_reply = FAKE_REPLY_NO_FIELD;
    s_lan.hosts[ZETA].claim_reply = FAKE_REPLY_SILENT;
    s_lan.hosts[ETA].spawn_refusal = "no room for eta";
    CHECK_EQ (fake_lan_start (&s_lan, err, sizeof err), 0);
    fake_host_t *beta = &s_lan.hosts[BETA];

    //  ---------------------------------------------------------------------
    //  One host: a test guest
    worm_place_t spec = {.worm = "w1", .test_args = {"echo", "hi"}, .timeout_ms = 1000};
    pid_t pid = 0;
    CHECK_EQ (worm_place_on (s_ep (BETA), s_key (BETA), &spec, &pid, err, sizeof err), 0);
    CHECK_EQ (pid, 1001);
    CHECK_EQ (atomic_load (&beta->claims), 1);
    CHECK_EQ (atomic_load (&beta->spawns), 1);
    CHECK_STR (beta->claim_worm, "w1");
    CHECK_STR (beta->claim_worm_id, "");
    CHECK_STR (beta->spawn_claim, beta->claim_issued);      //  the claim it was given
    CHECK_STR (beta->spawn_guest, "test");
    CHECK_STR (beta->spawn_args, "echo hi");
    CHECK_STR (beta->spawn_worm_public, "");

    //  A segment, with the worm's keypair: the claim names the worm id
    zcert_t *worm_cert = zcert_new ();
    worm_segspec_t founder = {.found = true, .worm_id = "w1-0001", .worm = "w1", .app = "clock",
                              .size = 2};
    CHECK_EQ (worm_segspec_check (&founder, err, sizeof err), 0);
    worm_place_t seg = {.worm = "w1", .segment = &founder, .timeout_ms = 1000,
                        .worm_public = zcert_public_txt (worm_cert),
                        .worm_secret = zcert_secret_txt (worm_cert)};
    CHECK_EQ (worm_place_on (s_ep (BETA), s_key (BETA), &seg, &pid, err, sizeof err), 0);
    CHECK_STR (beta->claim_worm_id, "w1-0001");
    CHECK_STR (beta->spawn_guest, "segment");
    CHECK_STR (beta->spawn_segment, "w1-0001");
    CHECK_STR (beta->spawn_worm_public, zcert_public_txt (worm_cert));
    CHECK_STR (beta->spawn_args, "");

    //  Refusals quote the host (-2); a reply without its field, or none, is -1
    CHECK_EQ (worm_place_on (s_ep (ALPHA), s_key (ALPHA), &spec, &pid, err, sizeof err), -2);
    CHECK_STR (err, "host alpha is full (4 of 4 segments)");
    CHECK_EQ (atomic_load (&s_lan.hosts[ALPHA].spawns), 0);
    CHECK_EQ (worm_place_on (s_ep (ETA), s_key (ETA), &spec, &pid, err, sizeof err), -2);
    CHECK_STR (err, "no room for eta");
    CHECK_EQ (worm_place_on (s_ep (DELTA), s_key (DELTA), &spec, &pid, err, sizeof err), -1);
    snprintf (want, sizeof want, "bad claim reply from %s: ", s_ep (DELTA));
    CHECK (strncmp (err, want, strlen (want)) == 0);
    CHECK_HAS (err, "missing");
    CHECK_EQ (atomic_load (&s_lan.hosts[DELTA].spawns), 0);
    CHECK_EQ (worm_place_on (s_ep (EPSILON), s_key (EPSILON), &spec, &pid, err, sizeof err), -1);
    snprintf (want, sizeof want, "bad spawn reply from %s: ", s_ep (EPSILON));
    CHECK (strncmp (err, want, strlen (want)) == 0);
    CHECK_HAS (err, "missing");
    spec.timeout_ms = 300;
    CHECK_EQ (worm_place_on (s_ep (ZETA), s_key (ZETA), &spec, &pid, err, sizeof err), -1);
    snprintf (want, sizeof want, "no reply from %s within 300 ms", s_ep (ZETA));
    CHECK_STR (err, want);
    CHECK_EQ (atomic_load (&s_lan.hosts[ZETA].claims), 1);
    spec.timeout_ms = 1000;

    //  Through a relay: both requests go to the relay, in envelopes
    worm_ctl_via_t via = {.endpoint = s_ep (BETA), .key = s_key (BETA)};
    spec.via = &via;
    int claims = atomic_load (&beta->claims);
    CHECK_EQ (worm_place_on (s_ep (GAMMA), s_key (GAMMA), &spec, &pid, err, sizeof err), 0);
    CHECK_EQ (pid, 1001);
    CHECK_EQ (atomic_load (&beta->relays), 2);
    CHECK_EQ (atomic_load (&beta->claims), claims + 1);
    CHECK_EQ (atomic_load (&s_lan.hosts[GAMMA].claims), 0);
    spec.via = NULL;

    //  ---------------------------------------------------------------------
    //  The first willing host that takes it: alpha refuses, beta takes it;
    //  gamma, unwilling, is never asked
    worm_hostinfo_t host;
    int alpha_claims = atomic_load (&s_lan.hosts[ALPHA].claims);
    pid = 0;
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), 0);
    CHECK_STR (host.name, "beta");
    CHECK_STR (host.endpoint, s_ep (BETA));
    CHECK_EQ (pid, 1001);
    CHECK_EQ (atomic_load (&s_lan.hosts[ALPHA].claims), alpha_claims + 1);
    CHECK_EQ (atomic_load (&s_lan.hosts[GAMMA].claims), 0);
    CHECK (!atomic_load (&s_lan.hosts[GAMMA].last_all));

    //  Placements that follow one another soon share one query: with alpha
    //  taking guests for a while, the first goes to alpha and keeps beta
    //  for the next, which makes no query; the third finds none kept
    const char *alpha_refusal = s_lan.hosts[ALPHA].claim_refusal;
    s_lan.hosts[ALPHA].claim_refusal = NULL;
    worm_place_found_t found = {.count = 0};
    spec.found = &found;
    int queries = atomic_load (&beta->queries);
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), 0);
    CHECK_STR (host.name, "alpha");
    CHECK_EQ (atomic_load (&beta->queries), queries + 1);
    CHECK_EQ (found.count, 1);
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), 0);
    CHECK_STR (host.name, "beta");
    CHECK_EQ (atomic_load (&beta->queries), queries + 1);
    CHECK_EQ (found.count, 0);
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), 0);
    CHECK_STR (host.name, "alpha");
    CHECK_EQ (atomic_load (&beta->queries), queries + 2);
    //  Kept hosts grow stale: past WORM_PLACE_REUSE_MS a placement asks again
    found.found_ms -= WORM_PLACE_REUSE_MS;
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), 0);
    CHECK_EQ (atomic_load (&beta->queries), queries + 3);
    //  A kept host that a later placement excludes is passed over
    found.found_ms = worm_now_ms ();
    found.count = 1;
    found.hosts[0] = s_lan.hosts[BETA].host;
    const char *exclude_kept[] = {s_lan.hosts[BETA].host.id};
    spec.exclude = exclude_kept;
    spec.n_exclude = 1;
    int beta_claims = atomic_load (&beta->claims);
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), 0);
    CHECK_STR (host.name, "alpha");
    CHECK_EQ (atomic_load (&beta->claims), beta_claims);
    spec.exclude = NULL;
    spec.n_exclude = 0;
    spec.found = NULL;
    s_lan.hosts[ALPHA].claim_refusal = alpha_refusal;

    //  Beta excluded: only alpha's refusal is left, quoted
    const char *exclude_beta[] = {s_lan.hosts[BETA].host.id};
    spec.exclude = exclude_beta;
    spec.n_exclude = 1;
    claims = atomic_load (&beta->claims);
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), -1);
    CHECK_STR (err, "1 willing host(s) refused; last: host alpha is full (4 of 4 segments)");
    CHECK_EQ (atomic_load (&beta->claims), claims);
    //  Both excluded
    const char *exclude_both[] = {s_lan.hosts[ALPHA].host.id, s_lan.hosts[BETA].host.id};
    spec.exclude = exclude_both;
    spec.n_exclude = 2;
    alpha_claims = atomic_load (&s_lan.hosts[ALPHA].claims);
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), -1);
    CHECK_STR (err, "the 2 willing host(s) already hold this worm");
    CHECK_EQ (atomic_load (&s_lan.hosts[ALPHA].claims), alpha_claims);
    spec.exclude = NULL;
    spec.n_exclude = 0;

    //  Only alpha's key trusted: beta's answer may be forged, it gets nothing
    worm_keyset_t *trusted = worm_keyset_new ("/nonexistent/worm-place-test");
    worm_keyset_add (trusted, s_key (ALPHA));
    spec.trusted = trusted;
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), -1);
    snprintf (want, sizeof want,
              "2 willing host(s) refused; last: host beta answered with key %s, which is not "
              "authorized", s_key (BETA));
    CHECK_STR (err, want);
    CHECK_EQ (atomic_load (&beta->claims), claims);
    spec.trusted = NULL;
    worm_keyset_destroy (&trusted);

    //  Cancelled before the first host
    spec.cancelled = s_cancel;
    alpha_claims = atomic_load (&s_lan.hosts[ALPHA].claims);
    CHECK_EQ (worm_place (&s_lan.lan, &spec, &host, &pid, err, sizeof err), -1);
    CHECK_STR (err, "cancelled");
    CHECK_EQ (atomic_load (&s_lan.hosts[ALPHA].claims), alpha_claims);
    spec.cancelled = NULL;

    //  No one answering, and a query that cannot go out
    worm_lan_t empty = s_lan.lan;
    empty.port = worm_udp_free_port ();
    CHECK (empty.port > 0 && empty.port != s_lan.lan.port);
    spec.timeout_ms = 300;
    int64_t start = worm_now_ms ();
    CHECK_EQ (worm_place (&empty, &spec, &host, &pid, err, sizeof err), -1);
    CHECK_STR (err, "no willing host answered within 300 ms");
    CHECK (worm_now_ms () - start >= 300);
    empty.port = 0;
    CHECK_EQ (worm_place (&empty, &spec, &host, &pid, err, sizeof err), -1);
    CHECK_STR (err, "cannot send a query to 127.255.255.255:0");

    fake_lan_stop (&s_lan);
    zcert_destroy (&worm_cert);
    zcert_destroy (&me);
    return check_done ("worm.place");
}
