/*  ringing.h — what a ring carries, shared by the host agent that rings an
    alarm (worm/rings.c, the `ring` op) and the alarm app that asks it to
    (apps/alarm): the limits of an alarm's id and message, their checks,
    and how a wall-clock time is written for people and for rings.log
    (docs/PROTOCOL.md, "Control", ring, and "Alarms").
*/
#ifndef WORM_RINGING_H_INCLUDED
#define WORM_RINGING_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_RINGING_ID_MAX 32          //  bytes in an alarm id: [A-Za-z0-9._-]
#define WORM_RINGING_MESSAGE_MAX 200    //  bytes in an alarm's message
#define WORM_RINGING_TIME_TEXT 40       //  room for worm_ringing_time_text
//  A ring's dedupe key, "WORM-ID/ALARM-ID/DUE" (DUE in wall ms), with its NUL
#define WORM_RINGING_KEY_MAX (64 + 1 + WORM_RINGING_ID_MAX + 1 + 20 + 1)

/*  Whether id is an alarm id: 1 to WORM_RINGING_ID_MAX of [A-Za-z0-9._-]. */
bool worm_ringing_id_valid (const char *id);

/*  Whether message may be rung: at most WORM_RINGING_MESSAGE_MAX bytes of
    UTF-8 without control characters (so that it stays one line of
    rings.log and one environment value). Returns true, or false with the
    reason in why (cap bytes). */
bool worm_ringing_message_valid (const char *message, char *why, size_t cap);

/*  A wall-clock time (ms since the epoch) as ISO-8601 in local time with
    its offset, milliseconds only when there are some:
    2026-12-24T07:00:00+01:00, 2026-12-24T07:00:00.250+01:00. */
void worm_ringing_time_text (int64_t wall_ms, char *buf, size_t cap);

#endif
