/*  log.c — stderr logging with a prefix and a rate limiter. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static char s_prefix[128] = "worm";

void
worm_log_init (const char *program, const char *name)
{
    if (name && *name)
        snprintf (s_prefix, sizeof s_prefix, "%s[%s]", program, name);
    else
        snprintf (s_prefix, sizeof s_prefix, "%s", program);
}

static void
s_vlog (const char *fmt, va_list args, unsigned suppressed)
{
    char line[1024];
    vsnprintf (line, sizeof line, fmt, args);
    if (suppressed)
        fprintf (stderr, "%s: %s (and %u more like it)\n", s_prefix, line, suppressed);
    else
        fprintf (stderr, "%s: %s\n", s_prefix, line);
}

void
worm_log (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    s_vlog (fmt, args, 0);
    va_end (args);
}

void
worm_log_limited (worm_log_limiter_t *limiter, int64_t period_ms, const char *fmt, ...)
{
    int64_t now = worm_now_ms ();
    if (limiter->last_ms && now - limiter->last_ms < period_ms) {
        limiter->suppressed++;
        return;
    }
    va_list args;
    va_start (args, fmt);
    s_vlog (fmt, args, limiter->suppressed);
    va_end (args);
    limiter->last_ms = now;
    limiter->suppressed = 0;
}

int64_t
worm_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
worm_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
