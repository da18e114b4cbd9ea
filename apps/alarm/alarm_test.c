/*  alarm_test.c — the alarm app's pure core (alarm.h) and what a ring
    carries (worm/ringing.h): `test_alarm state|time|ringing`. */
#include "alarm.h"
#include "../../tests/check.h"

#include <stdlib.h>

#define NOW 1800000000000ULL    //  2027-01-15T08:00:00Z, a fixed "now"

static worm_alarm_t
s_alarm (const char *id, uint64_t due, const char *message)
{
    worm_alarm_t alarm = {0};
    snprintf (alarm.id, sizeof alarm.id, "%s", id);
    snprintf (alarm.message, sizeof alarm.message, "%s", message);
    alarm.due_ms = due;
    return alarm;
}

//  Encodes db and decodes it into a new one.
static worm_alarm_db_t *
s_roundtrip (const worm_alarm_db_t *db)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_alarm_db_encode (db, &writer);
    worm_alarm_db_t *copy = worm_alarm_db_new ();
    char err[256];
    CHECK_EQ (worm_alarm_db_decode (copy, worm_wire_writer_data (&writer),
                                    worm_wire_writer_size (&writer), err, sizeof err), 0);
    worm_wire_writer_fini (&writer);
    return copy;
}

//  Decodes a state written by hand (fn fills the writer) and expects the
//  error to contain expected.
static void
s_expect_bad (void (*fn) (worm_wire_writer_t *), const char *expected)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    fn (&writer);
    worm_alarm_db_t *db = worm_alarm_db_new ();
    char err[256] = "";
    CHECK_EQ (worm_alarm_db_decode (db, worm_wire_writer_data (&writer),
                                    worm_wire_writer_size (&writer), err, sizeof err), -1);
    CHECK_HAS (err, expected);
    CHECK_EQ (worm_alarm_db_count (db), 0);
    worm_alarm_db_destroy (&db);
    worm_wire_writer_fini (&writer);
}

static void
s_one (worm_wire_writer_t *w, const char *id, uint64_t state, const char *host)
{
    worm_wire_map_open (w);
    worm_wire_kstr (w, "i", id);
    worm_wire_ku64 (w, "d", NOW);
    worm_wire_kstr (w, "m", "hello");
    worm_wire_ku64 (w, "s", state);
    if (host)
        worm_wire_kstr (w, "h", host);
    worm_wire_map_close (w);
}
static void
s_bad_version (worm_wire_writer_t *w)
{
    worm_wire_map_open (w);
    worm_wire_ku64 (w, "v", 2);
    worm_wire_key (w, "a");
    worm_wire_array (w, 0);
    worm_wire_map_close (w);
}
static void
s_bad_twice (worm_wire_writer_t *w)
{
    worm_wire_map_open (w);
    worm_wire_ku64 (w, "v", 1);
    worm_wire_key (w, "a");
    worm_wire_array (w, 2);
    s_one (w, "x", 0, NULL);
    s_one (w, "x", 0, NULL);
    worm_wire_map_close (w);
}
static void
s_bad_state (worm_wire_writer_t *w)
{
    worm_wire_map_open (w);
    worm_wire_ku64 (w, "v", 1);
    worm_wire_key (w, "a");
    worm_wire_array (w, 1);
    s_one (w, "x", 7, NULL);
    worm_wire_map_close (w);
}
static void
s_bad_id (worm_wire_writer_t *w)
{
    worm_wire_map_open (w);
    worm_wire_ku64 (w, "v", 1);
    worm_wire_key (w, "a");
    worm_wire_array (w, 1);
    s_one (w, "a b", 0, NULL);
    worm_wire_map_close (w);
}
static void
s_bad_host (worm_wire_writer_t *w)
{
    worm_wire_map_open (w);
    worm_wire_ku64 (w, "v", 1);
    worm_wire_key (w, "a");
    worm_wire_array (w, 1);
    s_one (w, "x", 0, "XYZ");
    worm_wire_map_close (w);
}
static void
s_bad_type (worm_wire_writer_t *w)
{
    worm_wire_map_open (w);
    worm_wire_ku64 (w, "v", 1);
    worm_wire_key (w, "a");
    worm_wire_array (w, 1);
    worm_wire_str (w, "not a map");
    worm_wire_map_close (w);
}

static void
s_test_state (void)
{
    char err[256];
    worm_alarm_db_t *db = worm_alarm_db_new ();
    //  Empty state: an empty database
    CHECK_EQ (worm_alarm_db_decode (db, NULL, 0, err, sizeof err), 0);
    CHECK_EQ (worm_alarm_db_count (db), 0);

    //  Add, idempotent add, conflicting add
    worm_alarm_t a = s_alarm ("wake", NOW + 60000, "get up");
    CHECK_EQ (worm_alarm_db_add (db, &a, NOW, err, sizeof err), 0);
    CHECK_EQ (worm_alarm_db_add (db, &a, NOW, err, sizeof err), 1);
    CHECK_EQ (worm_alarm_db_count (db), 1);
    worm_alarm_t later = s_alarm ("wake", NOW + 61000, "get up");
    CHECK_EQ (worm_alarm_db_add (db, &later, NOW, err, sizeof err), 1);
    CHECK_EQ (worm_alarm_db_find (db, "wake")->due_ms, NOW + 60000);
    worm_alarm_t other = s_alarm ("wake", NOW + 60000, "get up now");
    CHECK_EQ (worm_alarm_db_add (db, &other, NOW, err, sizeof err), -1);
    CHECK_HAS (err, "taken by another alarm (another message)");
    //  Bad ones: past, now, too far, bad id, bad message
    worm_alarm_t past = s_alarm ("p", NOW - 1, "x");
    CHECK_EQ (worm_alarm_db_add (db, &past, NOW, err, sizeof err), -1);
    CHECK_HAS (err, "in the past");
    worm_alarm_t at_now = s_alarm ("n", NOW, "x");
    CHECK_EQ (worm_alarm_db_add (db, &at_now, NOW, err, sizeof err), -1);
    worm_alarm_t far = s_alarm ("f", NOW + WORM_ALARM_AHEAD_MAX_MS + 1, "x");
    CHECK_EQ (worm_alarm_db_add (db, &far, NOW, err, sizeof err), -1);
    CHECK_HAS (err, "days ahead");
    worm_alarm_t bad_id = s_alarm ("a/b", NOW + 1000, "x");
    CHECK_EQ (worm_alarm_db_add (db, &bad_id, NOW, err, sizeof err), -1);
    CHECK_HAS (err, "is not 1 to 32");
    worm_alarm_t bad_msg = s_alarm ("m", NOW + 1000, "two\nlines");
    CHECK_EQ (worm_alarm_db_add (db, &bad_msg, NOW, err, sizeof err), -1);
    CHECK_HAS (err, "control character");
    worm_alarm_t empty = s_alarm ("e", NOW + 1000, "");
    CHECK_EQ (worm_alarm_db_add (db, &empty, NOW, err, sizeof err), -1);
    CHECK_HAS (err, "empty");
    CHECK_EQ (worm_alarm_db_count (db), 1);

    //  Hosts: rendezvous choice, willing preferred, kept while heard
    worm_alarm_host_t hosts[3] = {{"0000000000000001", true}, {"0000000000000002", true},
                                  {"0000000000000003", false}};
    CHECK_EQ (worm_alarm_db_assign (db, hosts, 3, true, NOW), 1);
    const worm_alarm_t *got = worm_alarm_db_find (db, "wake");
    CHECK (strcmp (got->host_id, "0000000000000003") != 0);
    char chosen[17];
    snprintf (chosen, sizeof chosen, "%s", got->host_id);
    CHECK_EQ (worm_alarm_db_assign (db, hosts, 3, true, NOW), 0);
    //  Order does not matter for the choice
    worm_alarm_host_t reversed[3] = {hosts[2], hosts[1], hosts[0]};
    worm_alarm_db_t *twin = worm_alarm_db_new ();
    CHECK_EQ (worm_alarm_db_add (twin, &a, NOW, err, sizeof err), 0);
    CHECK_EQ (worm_alarm_db_assign (twin, reversed, 3, false, NOW), 1);
    CHECK_STR (worm_alarm_db_find (twin, "wake")->host_id, chosen);
    worm_alarm_db_destroy (&twin);
    //  The chosen host gone: another one, only when asked to reassign, and
    //  not while the alarm may be ringing there (armed, not yet overdue)
    worm_alarm_host_t rest[2];
    size_t nrest = 0;
    for (int i = 0; i < 3; i++)
        if (strcmp (hosts[i].id, chosen) != 0)
            rest[nrest++] = hosts[i];
    CHECK_EQ (worm_alarm_db_assign (db, rest, nrest, false, NOW), 0);
    CHECK_EQ (worm_alarm_db_assign (db, rest, nrest, true, NOW + 60000 - WORM_ALARM_LEAD_MS), 0);
    CHECK_EQ (worm_alarm_db_assign (db, rest, nrest, true, NOW + 60000), 0);
    CHECK_EQ (worm_alarm_db_assign (db, rest, nrest, true, NOW + 60000 + WORM_ALARM_OVERDUE_MS),
              0);
    CHECK_STR (worm_alarm_db_find (db, "wake")->host_id, chosen);
    CHECK_EQ (worm_alarm_db_assign (db, rest, nrest, true,
                                    NOW + 60001 + WORM_ALARM_OVERDUE_MS), 1);
    CHECK (strcmp (worm_alarm_db_find (db, "wake")->host_id, chosen) != 0);
    CHECK_EQ (worm_alarm_db_assign (db, hosts, 3, true, NOW), 0);    //  its new host is heard
    worm_alarm_db_t *other_db = worm_alarm_db_new ();
    worm_alarm_t d = s_alarm ("d", NOW + 60000, "d");
    CHECK_EQ (worm_alarm_db_add (other_db, &d, NOW, err, sizeof err), 0);
    CHECK_EQ (worm_alarm_db_assign (other_db, hosts, 1, true, NOW), 1);
    CHECK_STR (worm_alarm_db_find (other_db, "d")->host_id, "0000000000000001");
    worm_alarm_host_t others[2] = {hosts[1], hosts[2]};
    CHECK_EQ (worm_alarm_db_assign (other_db, others, 2, true, NOW + 1000), 1);   //  well ahead
    CHECK (strcmp (worm_alarm_db_find (other_db, "d")->host_id, "0000000000000001") != 0);
    worm_alarm_db_destroy (&other_db);
    //  No host at all: nothing changes
    CHECK_EQ (worm_alarm_db_assign (db, NULL, 0, true, NOW), 0);

    //  Round trip keeps everything
    worm_alarm_t b = s_alarm ("b.2", NOW + 120000, "second, with ünïcode");
    CHECK_EQ (worm_alarm_db_add (db, &b, NOW, err, sizeof err), 0);
    CHECK_EQ (worm_alarm_db_rung (db, "wake", NOW + 60000, "host2", NOW + 60100), 0);
    worm_alarm_db_t *copy = s_roundtrip (db);
    CHECK_EQ (worm_alarm_db_count (copy), 2);
    const worm_alarm_t *w = worm_alarm_db_find (copy, "wake");
    CHECK_EQ (w->state, WORM_ALARM_RUNG);
    CHECK_STR (w->rung_host, "host2");
    CHECK_EQ (w->done_ms, NOW + 60100);
    CHECK_EQ (w->due_ms, NOW + 60000);
    CHECK_STR (worm_alarm_db_find (copy, "b.2")->message, "second, with ünïcode");
    CHECK_STR (worm_alarm_state_name (w, NOW), "rung");
    CHECK_STR (worm_alarm_state_name (worm_alarm_db_find (copy, "b.2"), NOW), "pending");
    CHECK_STR (worm_alarm_state_name (worm_alarm_db_find (copy, "b.2"), NOW + 120000),
               "ringing");
    worm_alarm_db_destroy (&copy);

    //  A ring is recorded once, for the right due time only
    CHECK_EQ (worm_alarm_db_rung (db, "wake", NOW + 60000, "host3", NOW + 60200), 1);
    CHECK_STR (worm_alarm_db_find (db, "wake")->rung_host, "host2");
    CHECK_EQ (worm_alarm_db_rung (db, "b.2", NOW + 1, "host3", NOW), 1);
    CHECK_EQ (worm_alarm_db_rung (db, "nope", NOW, "host3", NOW), 1);

    //  Cancel: pending yes (twice is fine), rung no, unknown no, too late no
    CHECK_EQ (worm_alarm_db_cancel (db, "wake", NOW, err, sizeof err), -1);
    CHECK_HAS (err, "rang already");
    CHECK_EQ (worm_alarm_db_cancel (db, "zzz", NOW, err, sizeof err), -1);
    CHECK_HAS (err, "no alarm zzz");
    CHECK_EQ (worm_alarm_db_cancel (db, "b.2", NOW + 120000 - WORM_ALARM_LEAD_MS, err,
                                    sizeof err), -1);
    CHECK_HAS (err, "too late");
    CHECK_EQ (worm_alarm_db_cancel (db, "b.2", NOW + 1000, err, sizeof err), 0);
    CHECK_EQ (worm_alarm_db_cancel (db, "b.2", NOW + 2000, err, sizeof err), 0);
    const worm_alarm_t *cancelled = worm_alarm_db_find (db, "b.2");
    CHECK_EQ (cancelled->state, WORM_ALARM_CANCELLED);
    CHECK_EQ (cancelled->done_ms, NOW + 1000);
    //  A cancelled alarm is not given a host again, nor rung by assign
    CHECK_EQ (worm_alarm_db_assign (db, hosts, 3, true, NOW), 0);

    //  Prune: done alarms go after the keep time, pending ones stay
    worm_alarm_t c = s_alarm ("c", NOW + 3600000, "later");
    CHECK_EQ (worm_alarm_db_add (db, &c, NOW, err, sizeof err), 0);
    CHECK_EQ (worm_alarm_db_prune (db, NOW + 1000 + WORM_ALARM_KEEP_MS), 0);
    CHECK_EQ (worm_alarm_db_prune (db, NOW + 1001 + WORM_ALARM_KEEP_MS), 1);
    CHECK (worm_alarm_db_find (db, "b.2") == NULL);
    CHECK (worm_alarm_db_find (db, "wake") != NULL);
    CHECK_EQ (worm_alarm_db_prune (db, NOW + 60100 + WORM_ALARM_KEEP_MS), 0);
    CHECK_EQ (worm_alarm_db_prune (db, NOW + 60101 + WORM_ALARM_KEEP_MS), 1);
    CHECK_EQ (worm_alarm_db_count (db), 1);
    CHECK_STR (worm_alarm_db_at (db, 0)->id, "c");
    worm_alarm_db_destroy (&db);

    //  Limits: the count, and the encoded size with long messages
    db = worm_alarm_db_new ();
    char id[40], message[WORM_RINGING_MESSAGE_MAX + 1];
    int rc = 0;
    for (int i = 0; i <= WORM_ALARM_MAX && rc == 0; i++) {
        snprintf (id, sizeof id, "n%d", i);
        worm_alarm_t x = s_alarm (id, NOW + 1000 + (uint64_t) i, "x");
        rc = worm_alarm_db_add (db, &x, NOW, err, sizeof err);
    }
    CHECK_EQ (rc, -1);
    CHECK_HAS (err, "full (1000 alarms");
    CHECK_EQ (worm_alarm_db_count (db), WORM_ALARM_MAX);
    worm_alarm_db_t *big = s_roundtrip (db);
    CHECK_EQ (worm_alarm_db_count (big), WORM_ALARM_MAX);
    worm_alarm_db_destroy (&big);
    worm_alarm_db_destroy (&db);
    db = worm_alarm_db_new ();
    memset (message, 'm', WORM_RINGING_MESSAGE_MAX);
    message[WORM_RINGING_MESSAGE_MAX] = 0;
    rc = 0;
    int added = 0;
    for (int i = 0; rc == 0; i++) {
        snprintf (id, sizeof id, "long-%d", i);
        worm_alarm_t x = s_alarm (id, NOW + 1000, message);
        rc = worm_alarm_db_add (db, &x, NOW, err, sizeof err);
        added += rc == 0;
    }
    CHECK_HAS (err, "more than 61440");
    CHECK (added > 200 && added < WORM_ALARM_MAX);
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_alarm_db_encode (db, &writer);
    CHECK (worm_wire_writer_size (&writer) <= WORM_ALARM_STATE_MAX);
    worm_wire_writer_fini (&writer);
    worm_alarm_db_destroy (&db);

    //  Hostile states
    s_expect_bad (s_bad_version, "version 2");
    s_expect_bad (s_bad_twice, "listed twice");
    s_expect_bad (s_bad_state, "state 7");
    s_expect_bad (s_bad_id, "id 'a b'");
    s_expect_bad (s_bad_host, "host id 'XYZ'");
    s_expect_bad (s_bad_type, "not a map");
    db = worm_alarm_db_new ();
    CHECK_EQ (worm_alarm_db_decode (db, "\x81\xa1v", 3, err, sizeof err), -1);
    CHECK_EQ (worm_alarm_db_decode (db, "garbage!", 8, err, sizeof err), -1);
    worm_alarm_db_destroy (&db);
}

static void
s_time_ok (const char *text, uint64_t expected)
{
    uint64_t due = 0;
    char err[256] = "";
    int rc = worm_alarm_parse_time (text, NOW, &due, err, sizeof err);
    if (rc)
        fprintf (stderr, "%s: %s\n", text, err);
    CHECK_EQ (rc, 0);
    CHECK_EQ (due, expected);
}

static void
s_time_bad (const char *text, const char *expected)
{
    uint64_t due = 0;
    char err[256] = "";
    CHECK_EQ (worm_alarm_parse_time (text, NOW, &due, err, sizeof err), -1);
    CHECK_HAS (err, expected);
    CHECK (strchr (err, '\n') == NULL);
}

static void
s_test_time (void)
{
    s_time_ok ("+30s", NOW + 30000);
    s_time_ok ("+5m", NOW + 300000);
    s_time_ok ("+2h", NOW + 7200000);
    s_time_ok ("+1d", NOW + 86400000);
    s_time_ok ("+1h30m", NOW + 5400000);
    //  NOW is 2027-01-15T08:00:00Z
    s_time_ok ("2027-01-15T10:00:00+01:00", NOW + 3600000);
    s_time_ok ("2027-01-15T08:00:01Z", NOW + 1000);
    s_time_ok ("2027-01-15T08:00:01.250Z", NOW + 1250);
    s_time_ok ("2027-01-15T08:01Z", NOW + 60000);
    s_time_ok ("2027-01-15T04:00:00-05:00", NOW + 3600000);
    s_time_ok ("2027-01-15T10:30:00+0130", NOW + 3600000);
    s_time_ok ("2027-03-01T08:00:00Z", NOW + 45ULL * 86400000);
    s_time_bad ("yesterday", "is not a time");
    s_time_bad ("25:00", "is not a time");
    s_time_bad ("2027-01-15T25:00:00Z", "not a valid date");
    s_time_bad ("2027-02-29T08:00:00Z", "not a valid date");
    s_time_bad ("2027-13-01T08:00:00Z", "not a valid date");
    s_time_bad ("2027-01-15T08:00:00", "has no zone");
    s_time_bad ("2027-01-15T08:00:00+25:00", "out of range");
    s_time_bad ("2027-01-15T08:00:00+1", "zone is not");
    s_time_bad ("2027-01-15T08:00:00Zjunk", "is not a time");
    s_time_bad ("2027-01-15T07:59:59Z", "in the past");
    s_time_bad ("2027-01-15T08:00:00Z", "in the past");
    s_time_bad ("2029-01-15T08:00:00Z", "days ahead");
    s_time_bad ("2028-02-29T08:00:00Z", "days ahead");     //  a valid date, too far
    s_time_bad ("+0s", "is now");
    s_time_bad ("+", "is not a time");
    s_time_bad ("+5", "needs a unit");
    s_time_bad ("+5x", "needs a unit");
    s_time_bad ("+-5s", "is not a time");
    s_time_bad ("+400d", "days ahead");
    s_time_bad ("+99999999999999999999s", "days ahead");
    s_time_bad ("", "is not a time");
}

static void
s_test_ringing (void)
{
    char why[160];
    CHECK (worm_ringing_id_valid ("a"));
    CHECK (worm_ringing_id_valid ("A.b_c-9"));
    CHECK (!worm_ringing_id_valid (""));
    CHECK (!worm_ringing_id_valid ("a/b"));
    CHECK (!worm_ringing_id_valid ("123456789012345678901234567890123"));
    CHECK (worm_ringing_id_valid ("12345678901234567890123456789012"));
    CHECK (worm_ringing_message_valid ("Wake up, ünïcode ☀", why, sizeof why));
    CHECK (!worm_ringing_message_valid ("a\tb", why, sizeof why));
    CHECK_HAS (why, "control character (byte 2)");
    CHECK (!worm_ringing_message_valid ("\xc3\x28", why, sizeof why));
    CHECK_HAS (why, "not UTF-8");
    CHECK (!worm_ringing_message_valid ("\xed\xa0\x80", why, sizeof why));  //  a surrogate
    char long_message[WORM_RINGING_MESSAGE_MAX + 2];
    memset (long_message, 'x', sizeof long_message - 1);
    long_message[sizeof long_message - 1] = 0;
    CHECK (!worm_ringing_message_valid (long_message, why, sizeof why));
    CHECK_HAS (why, "201 bytes, more than 200");
    char text[WORM_RINGING_TIME_TEXT];
    setenv ("TZ", "UTC", 1);
    worm_ringing_time_text ((int64_t) NOW, text, sizeof text);
    CHECK_STR (text, "2027-01-15T08:00:00+00:00");
    worm_ringing_time_text ((int64_t) NOW + 250, text, sizeof text);
    CHECK_STR (text, "2027-01-15T08:00:00.250+00:00");
    //  What it writes, the parser reads back
    uint64_t due = 0;
    char err[256];
    worm_ringing_time_text ((int64_t) NOW + 61250, text, sizeof text);
    CHECK_EQ (worm_alarm_parse_time (text, NOW, &due, err, sizeof err), 0);
    CHECK_EQ (due, NOW + 61250);
}

int
main (int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    if (strcmp (which, "state") == 0)
        s_test_state ();
    else if (strcmp (which, "time") == 0)
        s_test_time ();
    else if (strcmp (which, "ringing") == 0)
        s_test_ringing ();
    else {
        fprintf (stderr, "usage: test_alarm state|time|ringing\n");
        return 2;
    }
    return check_done (which);
}
