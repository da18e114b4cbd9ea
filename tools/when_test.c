/*  when_test.c — the times wormctl reads (--since): every form, and the
    text that is none of them refused with the forms it accepts. */
#include "when.h"
#include "../tests/check.h"

#include <time.h>

static int64_t
s_when (const char *text, int64_t now_ms)
{
    int64_t ms = -1;
    char err[256];
    if (wormctl_parse_when (text, now_ms, &ms, err, sizeof err)) {
        fprintf (stderr, "refused '%s': %s\n", text, err);
        exit (1);
    }
    return ms;
}

static void
s_refused (const char *text)
{
    int64_t ms = 0;
    char err[256] = "";
    CHECK_EQ (wormctl_parse_when (text, 0, &ms, err, sizeof err), -1);
    CHECK_HAS (err, "is not a time");
    CHECK_HAS (err, "YYYY-MM-DD");
}

int
main (void)
{
    //  Local time is UTC here, so the days and times have known values
    setenv ("TZ", "UTC", 1);
    tzset ();
    int64_t now = 1767270645123;        //  2026-01-01 12:30:45.123 UTC
    CHECK_EQ (s_when ("1767225600", now), 1767225600000);
    CHECK_EQ (s_when ("1767225600.5", now), 1767225600500);
    CHECK_EQ (s_when ("-30s", now), now - 30000);
    CHECK_EQ (s_when ("-5m", now), now - 300000);
    CHECK_EQ (s_when ("-2h", now), now - 7200000);
    CHECK_EQ (s_when ("-1d", now), now - 86400000);
    CHECK_EQ (s_when ("2026-01-01", now), 1767225600000);
    CHECK_EQ (s_when ("2026-01-01T10:30", now), 1767225600000 + 37800000);
    CHECK_EQ (s_when ("2026-01-01 10:30:15", now), 1767225600000 + 37815000);
    CHECK_EQ (s_when ("10:30", now), 1767225600000 + 37800000);
    CHECK_EQ (s_when ("10:30:15", now), 1767225600000 + 37815000);
    CHECK_EQ (s_when ("00:00", now), 1767225600000);
    //  Not times
    const char *bad[] = {"", "yesterday", "-5", "-5x", "5m", "2026-13-01", "2026-02-30",
                         "2026-01-01T25:00", "2026-01-01T10", "2026-01-01T10:30:", "10:61",
                         "10:30:15x", "1:2:3:4", "26-01-01", "12.5.3", "-", "--5m", "-5 m",
                         NULL};
    for (int i = 0; bad[i]; i++)
        s_refused (bad[i]);
    return check_done ("when");
}
