/*  discover_test.c — finding hosts by broadcast against fake agents on the
    loopback (tests/fake_lan.h): answers come in the order the hosts send
    them, each host once; unwilling hosts answer only "who is there?";
    noise and stale answers are ignored; collection ends at the timeout,
    after the quiet time, when the callback says stop, or at an interrupt;
    and a LAN where no one listens reports no host. */
#include "discover.h"
#include "../tests/check.h"
#include "../tests/fake_lan.h"

typedef struct {
    worm_hostinfo_t hosts[8];   //  what was reported, in order
    int count;                  //  how many
    int stop_after;             //  return nonzero at this count (0: never)
} s_seen_t;

static int
s_collect (void *arg, const worm_hostinfo_t *host)
{
    s_seen_t *seen = (s_seen_t *) arg;
    if (seen->count < 8)
        seen->hosts[seen->count++] = *host;
    return seen->stop_after && seen->count >= seen->stop_after;
}

static fake_lan_t s_lan;

static void
s_cleanup (void)
{
    fake_lan_stop (&s_lan);
}

int
main (void)
{
    zsys_init ();
    atexit (s_cleanup);
    char err[256];
    //  Three hosts: two willing (the less loaded answers first), one not,
    //  and a fourth that only makes noise
    fake_lan_host (&s_lan, 0, "alpha", true);
    fake_lan_host (&s_lan, 1, "beta", true);
    fake_lan_host (&s_lan, 2, "gamma", false);
    fake_lan_host (&s_lan, 3, "noisy", true);
    s_lan.hosts[0].delay_ms = 0;
    s_lan.hosts[0].host.load = 0.25;
    s_lan.hosts[1].delay_ms = 60;
    s_lan.hosts[1].twice = true;
    s_lan.hosts[2].delay_ms = 30;
    s_lan.hosts[3].mute = true;
    s_lan.hosts[3].noise = true;
    CHECK_EQ (fake_lan_start (&s_lan, err, sizeof err), 0);
    const worm_lan_t *lan = &s_lan.lan;

    //  "Who is willing?" until the timeout: the two willing ones, in answer
    //  order, each once, with their records
    s_seen_t seen = {.count = 0};
    int64_t start = worm_now_ms ();
    CHECK_EQ (worm_discover (lan, false, 400, 0, s_collect, &seen, err, sizeof err), 2);
    int64_t took = worm_now_ms () - start;
    CHECK (took >= 400 && took < 2000);
    CHECK_EQ (seen.count, 2);
    CHECK_STR (seen.hosts[0].name, "alpha");
    CHECK_STR (seen.hosts[0].id, s_lan.hosts[0].host.id);
    CHECK_STR (seen.hosts[0].key, s_lan.hosts[0].host.key);
    CHECK (seen.hosts[0].load == 0.25);
    CHECK (seen.hosts[0].willing);
    CHECK_STR (seen.hosts[1].name, "beta");
    //  Every host heard one query, "all" false
    for (int i = 0; i < 4; i++) {
        CHECK_EQ (atomic_load (&s_lan.hosts[i].queries), 1);
        CHECK (!atomic_load (&s_lan.hosts[i].last_all));
    }
    uint64_t first_qid = atomic_load (&s_lan.hosts[0].last_qid);

    //  "Who is there?": the unwilling one too; a new query id
    seen.count = 0;
    CHECK_EQ (worm_discover (lan, true, 400, 0, s_collect, &seen, err, sizeof err), 3);
    CHECK_STR (seen.hosts[0].name, "alpha");
    CHECK_STR (seen.hosts[1].name, "gamma");
    CHECK (!seen.hosts[1].willing);
    CHECK_STR (seen.hosts[1].reason, "busy");
    CHECK_STR (seen.hosts[2].name, "beta");
    CHECK (atomic_load (&s_lan.hosts[2].last_all));
    CHECK (atomic_load (&s_lan.hosts[0].last_qid) != first_qid);

    //  A quiet time ends collection soon after the last answer
    seen.count = 0;
    start = worm_now_ms ();
    CHECK_EQ (worm_discover (lan, false, 5000, 150, s_collect, &seen, err, sizeof err), 2);
    took = worm_now_ms () - start;
    CHECK (took >= 60 + 150 && took < 2500);

    //  The callback stops it at the first answer
    seen = (s_seen_t) {.stop_after = 1};
    start = worm_now_ms ();
    CHECK_EQ (worm_discover (lan, false, 5000, 0, s_collect, &seen, err, sizeof err), 1);
    CHECK (worm_now_ms () - start < 2500);
    CHECK_STR (seen.hosts[0].name, "alpha");

    //  Interrupted: ends within a slice, saying so, reporting nothing
    zsys_interrupted = 1;
    seen.count = 0;
    start = worm_now_ms ();
    int found = worm_discover (lan, false, 5000, 0, s_collect, &seen, err, sizeof err);
    took = worm_now_ms () - start;
    zsys_interrupted = 0;
    CHECK_EQ (found, -1);
    CHECK_STR (err, "interrupted");
    CHECK (took < 1000);
    CHECK_EQ (seen.count, 0);

    //  No one listens on this port: no host, after the timeout
    worm_lan_t empty = *lan;
    empty.port = worm_udp_free_port ();
    CHECK (empty.port > 0 && empty.port != lan->port);
    seen.count = 0;
    start = worm_now_ms ();
    CHECK_EQ (worm_discover (&empty, false, 300, 50, s_collect, &seen, err, sizeof err), 0);
    took = worm_now_ms () - start;
    CHECK (took >= 300 && took < 2000);
    CHECK_EQ (seen.count, 0);

    //  Every host mute: no host either, and the queries were heard
    fake_lan_stop (&s_lan);
    fake_lan_t quiet = {.count = 0};
    fake_lan_host (&quiet, 0, "shy", true);
    quiet.hosts[0].mute = true;
    CHECK_EQ (fake_lan_start (&quiet, err, sizeof err), 0);
    CHECK_EQ (worm_discover (&quiet.lan, false, 300, 0, s_collect, &seen, err, sizeof err), 0);
    CHECK_EQ (atomic_load (&quiet.hosts[0].queries), 1);
    fake_lan_stop (&quiet);

    //  A query that cannot be sent, or a socket that cannot be opened
    worm_lan_t broken = *lan;
    broken.port = 0;
    CHECK_EQ (worm_discover (&broken, false, 300, 0, s_collect, &seen, err, sizeof err), -1);
    CHECK_STR (err, "cannot send a query to 127.255.255.255:0");
    broken = *lan;
    snprintf (broken.local, sizeof broken.local, "198.51.100.77");    //  not ours
    CHECK_EQ (worm_discover (&broken, false, 300, 0, s_collect, &seen, err, sizeof err), -1);
    CHECK_STR (err, "bind 198.51.100.77:0: Cannot assign requested address");
    return check_done ("worm.discover");
}
