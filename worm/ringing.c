/*  ringing.c — an alarm's id and message checked, a time written. See
    ringing.h. */
#include "ringing.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bool
worm_ringing_id_valid (const char *id)
{
    size_t len = strlen (id);
    return len >= 1 && len <= WORM_RINGING_ID_MAX
           && strspn (id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
                  == len;
}

//  The length of the UTF-8 sequence that starts at p (n bytes left), or 0
//  when it is not a well-formed one (overlong forms and surrogates too).
static size_t
s_utf8_length (const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xc2 && p[0] <= 0xdf   ? 2
                 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
                 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                                : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f)
        || (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

bool
worm_ringing_message_valid (const char *message, char *why, size_t cap)
{
    size_t len = strlen (message);
    if (len == 0) {
        snprintf (why, cap, "the message is empty");
        return false;
    }
    if (len > WORM_RINGING_MESSAGE_MAX) {
        snprintf (why, cap, "the message has %zu bytes, more than %d", len,
                  WORM_RINGING_MESSAGE_MAX);
        return false;
    }
    const unsigned char *p = (const unsigned char *) message;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            snprintf (why, cap, "the message holds a control character (byte %zu)", i + 1);
            return false;
        }
        size_t step = s_utf8_length (p + i, len - i);
        if (!step) {
            snprintf (why, cap, "the message is not UTF-8 (byte %zu)", i + 1);
            return false;
        }
        i += step;
    }
    return true;
}

void
worm_ringing_time_text (int64_t wall_ms, char *buf, size_t cap)
{
    time_t seconds = (time_t) (wall_ms >= 0 ? wall_ms / 1000 : (wall_ms - 999) / 1000);
    int ms = (int) (wall_ms - (int64_t) seconds * 1000);
    struct tm tm;
    localtime_r (&seconds, &tm);
    char date[32], fraction[8] = "";
    strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    if (ms)
        snprintf (fraction, sizeof fraction, ".%03d", ms);
    long offset = tm.tm_gmtoff / 60;
    snprintf (buf, cap, "%s%s%c%02ld:%02ld", date, fraction, offset < 0 ? '-' : '+',
              (offset < 0 ? -offset : offset) / 60, (offset < 0 ? -offset : offset) % 60);
}
