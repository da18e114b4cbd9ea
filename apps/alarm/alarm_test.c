/*  alarm_test.c — the alarm app's pure core (alarm.h), what a ring
    carries (worm/ringing.h), and the segment side's hooks in this process
    without a worm (segment.c): `test_alarm state|time|ringing|segment`. */
#include "alarm.h"
#include "app.h"
#include "log.h"
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
    //  nor added again: its id stays taken until it is dropped
    CHECK_EQ (worm_alarm_db_add (db, &b, NOW + 2000, err, sizeof err), -1);
    CHECK_STR (err, "alarm b.2 was cancelled; choose another id");
    CHECK_EQ (worm_alarm_db_find (db, "b.2")->state, WORM_ALARM_CANCELLED);

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
    //  Ahead, but too soon to reach the worm in time
    s_time_bad ("2027-01-15T08:00:00.015Z", "is only 15 ms ahead; an alarm must be at least 1 s ahead");
    s_time_bad ("2027-01-15T08:00:00.999Z", "is only 999 ms ahead");
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


extern const worm_app_t worm_app_alarm;

//  Calls the app's request hook as the segment's app op does (an open
//  reply map); returns its status, the reply parsed into reader.
static int
s_ask (void *state, const char *verb, worm_wire_writer_t *body, worm_wire_reader_t *reader,
       char *err, size_t cap)
{
    worm_wire_writer_t reply;
    worm_wire_writer_init (&reply);
    worm_wire_map_open (&reply);
    worm_wire_kbool (&reply, "ok", true);
    int rc = worm_app_alarm.request (state, verb, body ? worm_wire_writer_data (body) : NULL,
                                     body ? worm_wire_writer_size (body) : 0, &reply, err, cap);
    worm_wire_map_close (&reply);
    worm_wire_reader_init (reader);
    CHECK_EQ (worm_wire_parse (reader, worm_wire_writer_data (&reply),
                               worm_wire_writer_size (&reply), 1 << 20), 0);
    worm_wire_writer_fini (&reply);
    return rc;
}

static int
s_add_req (void *state, const char *id, uint64_t due, const char *message, char *err,
           size_t cap)
{
    worm_wire_writer_t body;
    worm_wire_writer_init (&body);
    worm_wire_map_open (&body);
    if (id)
        worm_wire_kstr (&body, "id", id);
    worm_wire_ku64 (&body, "due", due);
    worm_wire_kstr (&body, "message", message);
    worm_wire_map_close (&body);
    worm_wire_reader_t reader;
    int rc = s_ask (state, "alarm.add", &body, &reader, err, cap);
    worm_wire_reader_fini (&reader);
    worm_wire_writer_fini (&body);
    return rc;
}

static int
s_cancel_req (void *state, const char *id, char *err, size_t cap)
{
    worm_wire_writer_t body;
    worm_wire_writer_init (&body);
    worm_wire_map_open (&body);
    worm_wire_kstr (&body, "id", id);
    worm_wire_map_close (&body);
    worm_wire_reader_t reader;
    int rc = s_ask (state, "alarm.cancel", &body, &reader, err, cap);
    worm_wire_reader_fini (&reader);
    worm_wire_writer_fini (&body);
    return rc;
}

//  The state the token carries, decoded into db.
static void
s_token_db (worm_token_t *token, worm_alarm_db_t *db)
{
    size_t size = 0;
    const void *data = worm_token_app_state (token, &size);
    char err[256];
    CHECK_EQ (worm_alarm_db_decode (db, data, size, err, sizeof err), 0);
}

static void
s_test_segment (void)
{
    //  Where the ringer would listen: the loopback broadcast, on a port no
    //  agent uses (nobody answers); no agent to ring through
    setenv ("WORM_BROADCAST", "127.255.255.255", 1);
    setenv ("WORM_BEACON_PORT", "9", 1);
    setenv ("WORM_HOST_ID", "0123456789abcdef", 1);
    worm_token_t *token = worm_token_new ();
    CHECK_EQ (worm_token_set_worm_id (token, "w1"), 0);
    void *state = NULL;
    char err[512] = "";
    CHECK_EQ (worm_app_alarm.create (&state, token, err, sizeof err), 0);
    uint64_t now = (uint64_t) worm_wall_ms ();

    //  add: queued, not held yet; bad ones refused with the reason
    CHECK_EQ (s_add_req (state, "a1", now + 60000, "one", err, sizeof err), 0);
    CHECK_EQ (s_add_req (state, "a1", now + 60000, "one", err, sizeof err), 0);
    CHECK_EQ (s_add_req (state, "old", now - 1000, "past", err, sizeof err), -1);
    CHECK_HAS (err, "in the past");
    CHECK_EQ (s_add_req (state, NULL, now + 1000, "no id", err, sizeof err), -1);
    CHECK_HAS (err, "alarm.add: missing field 'id'");
    CHECK_EQ (s_add_req (state, "bad id", now + 1000, "x", err, sizeof err), -1);
    CHECK_HAS (err, "is not 1 to 32");
    worm_wire_reader_t reader;
    CHECK_EQ (s_ask (state, "alarm.add", NULL, &reader, err, sizeof err), -1);
    CHECK_HAS (err, "alarm.add: no body");
    worm_wire_reader_fini (&reader);
    CHECK_EQ (s_ask (state, "alarm.snooze", NULL, &reader, err, sizeof err), -1);
    CHECK_HAS (err, "app alarm has no verb 'alarm.snooze'");
    worm_wire_reader_fini (&reader);
    worm_wire_writer_t junk;
    worm_wire_writer_init (&junk);
    worm_wire_str (&junk, "not a map");
    CHECK_EQ (s_ask (state, "alarm.cancel", &junk, &reader, err, sizeof err), -1);
    CHECK_HAS (err, "alarm.cancel: ");
    worm_wire_reader_fini (&reader);
    worm_wire_writer_fini (&junk);
    CHECK_EQ (s_cancel_req (state, "nope", err, sizeof err), -1);
    CHECK_STR (err, "no alarm nope");

    //  A hold puts the queued add into the token; the copy shows it
    worm_alarm_db_t *db = worm_alarm_db_new ();
    CHECK_EQ (worm_app_alarm.on_token (state, token, 0, err, sizeof err), 0);
    s_token_db (token, db);
    CHECK_EQ (worm_alarm_db_count (db), 1);
    CHECK_STR (worm_alarm_db_at (db, 0)->id, "a1");
    CHECK_STR (worm_alarm_db_at (db, 0)->host_id, "");     //  no ringing host heard
    CHECK_EQ (s_ask (state, "alarm.list", NULL, &reader, err, sizeof err), 0);
    const void *copy = NULL;
    size_t size = 0;
    CHECK_EQ (worm_wire_get_bin (&reader, reader.root, "state", &copy, &size, 1 << 20), 0);
    CHECK_EQ (worm_alarm_db_decode (db, copy, size, err, sizeof err), 0);
    CHECK_EQ (worm_alarm_db_count (db), 1);
    worm_wire_reader_fini (&reader);

    //  The same id with another message is refused; cancel goes in at
    //  the next hold (here the hand-off), and again is fine
    CHECK_EQ (s_add_req (state, "a1", now + 60000, "other", err, sizeof err), -1);
    CHECK_HAS (err, "taken by another alarm");
    CHECK_EQ (s_cancel_req (state, "a1", err, sizeof err), 0);
    CHECK_EQ (worm_app_alarm.handoff (state, token, err, sizeof err), 0);
    s_token_db (token, db);
    CHECK_EQ (worm_alarm_db_find (db, "a1")->state, WORM_ALARM_CANCELLED);
    CHECK_EQ (s_cancel_req (state, "a1", err, sizeof err), 0);
    //  A cancelled alarm's id is not added again (it would never ring)
    CHECK_EQ (s_add_req (state, "a1", now + 60000, "one", err, sizeof err), -1);
    CHECK_STR (err, "alarm a1 was cancelled; choose another id");

    //  The state's byte limit: the add past it is refused at once, with the
    //  reason, counting the adds queued before it; what was taken fits
    char big[WORM_RINGING_MESSAGE_MAX + 1];
    memset (big, 'm', sizeof big - 1);
    big[sizeof big - 1] = 0;
    int taken = 0;
    for (; taken < WORM_ALARM_MAX; taken++) {
        char id[16];
        snprintf (id, sizeof id, "big%d", taken);
        if (s_add_req (state, id, now + 3600000, big, err, sizeof err))
            break;
        if (taken % 50 == 49)
            CHECK_EQ (worm_app_alarm.on_token (state, token, 0, err, sizeof err), 0);
    }
    CHECK (taken > 200 && taken < 300);
    CHECK_HAS (err, "the alarm database is full (");
    CHECK_HAS (err, "bytes with this one, more than 61440)");
    CHECK_EQ (worm_app_alarm.on_token (state, token, 0, err, sizeof err), 0);
    s_token_db (token, db);
    CHECK_EQ (worm_alarm_db_count (db), (size_t) taken + 1);

    //  A token whose state is not the app's: the hold fails and names it
    worm_token_t *bad = worm_token_new ();
    CHECK_EQ (worm_token_set_worm_id (bad, "w1"), 0);
    CHECK_EQ (worm_token_set_app_state (bad, "\x81\xa1v\x02", 4), 0);
    CHECK_EQ (worm_app_alarm.on_token (state, bad, 0, err, sizeof err), -1);
    CHECK_HAS (err, "alarm state: ");
    worm_token_destroy (&bad);

    worm_app_alarm.destroy (&state);
    CHECK (state == NULL);
    worm_alarm_db_destroy (&db);
    worm_token_destroy (&token);
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
    else if (strcmp (which, "segment") == 0)
        s_test_segment ();
    else {
        fprintf (stderr, "usage: test_alarm state|time|ringing|segment\n");
        return 2;
    }
    return check_done (which);
}
