/*  when.h — the times a wormctl user writes (`wormctl log --since TIME`),
    as wall-clock milliseconds. A pure function of the text and the time
    now, so that its test needs no clock.
*/
#ifndef WORMCTL_WHEN_H_INCLUDED
#define WORMCTL_WHEN_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

/*  Reads text as a moment, into *ms (wall clock, ms since the epoch):
      1767225600 or 1767225600.5     seconds since the epoch
      -30s, -5m, -2h, -1d            that long before now_ms
      2026-01-01                     that day's start, local time
      2026-01-01T10:30[:15]          (or a space for the T) local time
      10:30[:15]                     today at that time, local time
    Returns 0, or -1 with one sentence in err saying what it accepts. */
int wormctl_parse_when (const char *text, int64_t now_ms, int64_t *ms, char *err, size_t cap);

#endif
