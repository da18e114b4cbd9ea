/*  log.h — the one logging call of the project.

    Lines go to stderr as "PROG[NAME]: message". A rate limiter lets hostile
    or broken input be reported once per period without flooding the log.
*/
#ifndef WORM_LOG_H_INCLUDED
#define WORM_LOG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

/*  Sets the prefix: program name and, optionally, the host name. */
void worm_log_init (const char *program, const char *name);
void worm_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/*  A limiter allows one line per period; lines it held back are counted and
    reported with the next line allowed. Zero-initialise it. */
typedef struct {
    int64_t last_ms;        //  when the last line was allowed
    unsigned suppressed;    //  lines held back since then
} worm_log_limiter_t;

void worm_log_limited (worm_log_limiter_t *limiter, int64_t period_ms, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Milliseconds on the monotonic clock, and on the wall clock. */
int64_t worm_now_ms (void);
int64_t worm_wall_ms (void);

#endif
