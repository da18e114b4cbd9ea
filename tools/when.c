/*  when.c — the times a wormctl user writes (see when.h). */
#include "when.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Whether text is all digits (at least one).
static bool
s_digits (const char *text, size_t length)
{
    if (!length)
        return false;
    for (size_t i = 0; i < length; i++)
        if (!isdigit ((unsigned char) text[i]))
            return false;
    return true;
}

//  The local time of tm as ms, when tm names a real moment (mktime
//  normalises 25:00 or 02-30 into another, which we refuse). Returns 0 or -1.
static int
s_local (struct tm *tm, int64_t *ms)
{
    struct tm asked = *tm;
    tm->tm_isdst = -1;
    time_t seconds = mktime (tm);
    if (seconds == (time_t) -1 || tm->tm_year != asked.tm_year || tm->tm_mon != asked.tm_mon
        || tm->tm_mday != asked.tm_mday || tm->tm_hour != asked.tm_hour
        || tm->tm_min != asked.tm_min || tm->tm_sec != asked.tm_sec)
        return -1;
    *ms = (int64_t) seconds * 1000;
    return 0;
}

int
wormctl_parse_when (const char *text, int64_t now_ms, int64_t *ms, char *err, size_t cap)
{
    size_t length = strlen (text);
    //  Seconds since the epoch, maybe with a fraction
    const char *dot = strchr (text, '.');
    size_t whole = dot ? (size_t) (dot - text) : length;
    if (s_digits (text, whole) && whole <= 12 && (!dot || s_digits (dot + 1, length - whole - 1))) {
        *ms = (int64_t) (strtod (text, NULL) * 1000);
        return 0;
    }
    //  Before now: -30s, -5m, -2h, -1d
    if (length >= 3 && text[0] == '-' && s_digits (text + 1, length - 2) && length <= 12) {
        long long count = strtoll (text + 1, NULL, 10);
        int64_t unit = text[length - 1] == 's'   ? 1000
                       : text[length - 1] == 'm' ? 60000
                       : text[length - 1] == 'h' ? 3600000
                       : text[length - 1] == 'd' ? 86400000
                                                 : 0;
        if (unit) {
            *ms = now_ms - count * unit;
            return 0;
        }
    }
    struct tm tm;
    time_t now = (time_t) (now_ms / 1000);
    localtime_r (&now, &tm);
    int year, month, day, hour, minute, second = 0, used = -1;
    //  A day, maybe with a time
    if (sscanf (text, "%4d-%2d-%2d%n", &year, &month, &day, &used) == 3 && used == 10
        && s_digits (text, 4)) {
        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        const char *rest = text + 10;
        bool ok = !*rest;
        if (*rest == 'T' || *rest == ' ') {
            int more = -1, got = sscanf (rest + 1, "%2d:%2d%n:%2d%n", &hour, &minute, &more,
                                         &second, &more);
            ok = got >= 2 && more > 0 && !rest[1 + more] && isdigit ((unsigned char) rest[1]);
            tm.tm_hour = hour;
            tm.tm_min = minute;
            tm.tm_sec = got == 3 ? second : 0;
        }
        if (ok && s_local (&tm, ms) == 0)
            return 0;
    }
    //  A time of today
    else {
        int more = -1, got = sscanf (text, "%2d:%2d%n:%2d%n", &hour, &minute, &more, &second,
                                     &more);
        if (got >= 2 && more > 0 && !text[more] && isdigit ((unsigned char) text[0])) {
            tm.tm_hour = hour;
            tm.tm_min = minute;
            tm.tm_sec = got == 3 ? second : 0;
            if (s_local (&tm, ms) == 0)
                return 0;
        }
    }
    snprintf (err, cap,
              "'%s' is not a time: give seconds since the epoch, YYYY-MM-DD[THH:MM[:SS]], "
              "HH:MM[:SS] (today) or -N followed by s, m, h or d (before now)",
              text);
    return -1;
}
