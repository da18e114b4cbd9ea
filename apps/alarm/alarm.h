/*  alarm.h — the alarm app's pure core: the alarm database that travels in
    the token as the app's replicated state (its codec, its rules and its
    limits), and the times `wormctl alarm add --at` accepts. No sockets, no
    clocks: every call that needs the time is given it (wall-clock ms).
    The segment side (segment.c) and the client side (client.c) both use
    it; docs/PROTOCOL.md, "Alarms", describes the state and the rules.
*/
#ifndef WORM_ALARM_H_INCLUDED
#define WORM_ALARM_H_INCLUDED

#include "beacon.h"
#include "ringing.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_ALARM_MAX 1000                         //  alarms in the database, done ones included
#define WORM_ALARM_STATE_MAX (60 * 1024)            //  bytes of encoded state (the token allows 64 KiB)
#define WORM_ALARM_AHEAD_MAX_MS (366LL * 86400000)  //  how far ahead an alarm may be due
#define WORM_ALARM_KEEP_MS (10 * 60000)             //  a rung or cancelled alarm is listed this long
#define WORM_ALARM_LEAD_MS 2000                     //  rings are armed this long before due;
                                                    //  a cancel is too late from then on
#define WORM_ALARM_OVERDUE_MS 5000                  //  a ring this late goes to another host
#define WORM_ALARM_AHEAD_MIN_MS 1000                //  --at at least this far ahead

typedef enum {
    WORM_ALARM_PENDING = 0,     //  not rung yet ("ringing" once due)
    WORM_ALARM_RUNG = 1,        //  a host rang it (rung_host, done_ms)
    WORM_ALARM_CANCELLED = 2,   //  cancelled (done_ms)
} worm_alarm_state_t;

typedef struct {
    char id[WORM_RINGING_ID_MAX + 1];               //  [A-Za-z0-9._-]{1,32}, unique in the worm
    char message[WORM_RINGING_MESSAGE_MAX + 1];     //  one line of UTF-8
    uint64_t due_ms;                                //  when it rings, wall clock
    worm_alarm_state_t state;                       //  where it stands
    char host_id[WORM_HOST_ID_LEN + 1];             //  the host that rings it, "" until chosen
    char rung_host[65];                             //  the name of the host that rang it
    uint64_t done_ms;                               //  rung (that host's clock) or cancelled at
} worm_alarm_t;

typedef struct _worm_alarm_db_t worm_alarm_db_t;

/*  An empty database; destroy sets *self_p to NULL. */
worm_alarm_db_t *worm_alarm_db_new (void);
void worm_alarm_db_destroy (worm_alarm_db_t **self_p);

/*  Makes self a copy of source (the same alarms, in the same order). */
void worm_alarm_db_copy (worm_alarm_db_t *self, const worm_alarm_db_t *source);

/*  The alarms, in the order they were added (index < count). */
size_t worm_alarm_db_count (const worm_alarm_db_t *self);
const worm_alarm_t *worm_alarm_db_at (const worm_alarm_db_t *self, size_t index);
/*  The alarm of that id, or NULL. */
const worm_alarm_t *worm_alarm_db_find (const worm_alarm_db_t *self, const char *id);

/*  Replaces the contents with the state in data (size bytes; none: an
    empty database). Input is hostile: every field is type-, size- and
    value-checked, ids must be unique, at most WORM_ALARM_MAX alarms.
    Returns 0, or -1 with the reason in err (the database is then empty). */
int worm_alarm_db_decode (worm_alarm_db_t *self, const void *data, size_t size, char *err,
                          size_t cap);
/*  Encodes the database into writer (initialised, empty). */
void worm_alarm_db_encode (const worm_alarm_db_t *self, worm_wire_writer_t *writer);

/*  Whether alarm may be added at now_ms: its id and message, and a due
    time after now and at most WORM_ALARM_AHEAD_MAX_MS ahead. Returns 0, or
    -1 with one sentence in err. */
int worm_alarm_check (const worm_alarm_t *alarm, uint64_t now_ms, char *err, size_t cap);

/*  Adds alarm (checked as worm_alarm_check; pending, no host yet). Returns
    0 when added, 1 when an alarm of that id and message is there already
    and not cancelled (adding is idempotent: the first one's time stands),
    or -1 with the reason in err: invalid, the id taken by an alarm with
    another message or by a cancelled alarm (its id stays taken until it is
    dropped), or the database full (count, or encoded size). */
int worm_alarm_db_add (worm_alarm_db_t *self, const worm_alarm_t *alarm, uint64_t now_ms,
                       char *err, size_t cap);

/*  Cancels the pending alarm id at now_ms. Returns 0 (also when it was
    cancelled already), or -1 with the reason in err: no such alarm, it
    rang, or it is due within WORM_ALARM_LEAD_MS (its ring may be under
    way). */
int worm_alarm_db_cancel (worm_alarm_db_t *self, const char *id, uint64_t now_ms, char *err,
                          size_t cap);

/*  Records that host rang alarm id of due time due_ms at at_ms. Returns 0
    when recorded, 1 when there is no such alarm or it was recorded
    already. */
int worm_alarm_db_rung (worm_alarm_db_t *self, const char *id, uint64_t due_ms,
                        const char *host, uint64_t at_ms);

/*  Drops the alarms rung or cancelled more than WORM_ALARM_KEEP_MS before
    now_ms. Returns how many. */
size_t worm_alarm_db_prune (worm_alarm_db_t *self, uint64_t now_ms);

//  A host that can ring, as discovery found it
typedef struct {
    char id[WORM_HOST_ID_LEN + 1];
    bool willing;
} worm_alarm_host_t;

/*  Chooses a ringing host for each pending alarm that has none, preferring
    willing ones among hosts (n of them: those the caller heard lately);
    the choice is a hash of the alarm's id and the host's (rendezvous), so
    alarms spread over hosts. With reassign, an alarm whose host is not
    among hosts gets another one too, if it is due more than
    WORM_ALARM_LEAD_MS ahead (no segment has armed it yet), or more than
    WORM_ALARM_OVERDUE_MS ago (its host did not ring it: the one case where
    a ring may come twice, docs/PROTOCOL.md "Alarms"); in between it keeps
    its host, whose agent may be ringing it. Returns how many alarms got a
    host. */
size_t worm_alarm_db_assign (worm_alarm_db_t *self, const worm_alarm_host_t *hosts, size_t n,
                             bool reassign, uint64_t now_ms);

/*  The alarm's state in words at now_ms: pending, ringing (due, not yet
    recorded rung), rung or cancelled. */
const char *worm_alarm_state_name (const worm_alarm_t *alarm, uint64_t now_ms);

/*  Parses an --at TIME given at now_ms: ISO-8601 with a zone
    (2026-12-24T07:00:00+01:00, …Z, seconds and fraction optional) or
    relative (+30s, +5m, +2h, +1d, or sums such as +1h30m). Returns 0 with
    the wall-clock ms in *due_ms, or -1 with one sentence in err (not a
    time, no zone, out of range, in the past or less than
    WORM_ALARM_AHEAD_MIN_MS ahead, too far ahead). */
int worm_alarm_parse_time (const char *text, uint64_t now_ms, uint64_t *due_ms, char *err,
                           size_t cap);

#endif
