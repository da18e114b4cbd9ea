/*  worm-bench-find — time to find a willing host: from the moment a
    "who is willing?" query is sent to the first answer decoded, repeated,
    with the median, p95, p99 and max printed.

    Usage: worm-bench-find (--broadcast ADDR | --interface IF) --beacon-port N
                           [--count N] [--label TEXT]
*/
#include "discover.h"
#include "log.h"
#include "opts.h"

#include <czmq.h>
#include <math.h>

typedef struct {
    char broadcast[64], interface[64], label[64];
    long port, count;
} s_args_t;

static int
s_set (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_args_t *args = (s_args_t *) arg;
    if (strcmp (name, "broadcast") == 0)
        snprintf (args->broadcast, sizeof args->broadcast, "%s", value);
    else if (strcmp (name, "interface") == 0)
        snprintf (args->interface, sizeof args->interface, "%s", value);
    else if (strcmp (name, "label") == 0)
        snprintf (args->label, sizeof args->label, "%s", value);
    else if (strcmp (name, "beacon-port") == 0)
        return worm_parse_int (value, 1, 65535, &args->port, err, cap);
    else if (strcmp (name, "count") == 0)
        return worm_parse_int (value, 1, 1000000, &args->count, err, cap);
    return 0;
}

static int
s_first (void *arg, const worm_hostinfo_t *host)
{
    *(int64_t *) arg = zclock_usecs ();
    (void) host;
    return 1;
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_percentile (const double *sorted, size_t n, double p)
{
    size_t at = (size_t) ceil (p / 100 * (double) n);
    return sorted[at ? at - 1 : 0];
}

int
main (int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"broadcast", "ADDR", ""}, {"interface", "IF", ""}, {"beacon-port", "N", ""},
        {"count", "N", ""},        {"label", "TEXT", ""},   {NULL, NULL, NULL},
    };
    s_args_t args = {.count = 1000};
    snprintf (args.label, sizeof args.label, "find a willing host");
    char err[256];
    int index = 1;
    if (worm_opts_parse (options, argc, argv, &index, s_set, &args, err, sizeof err)
        || !args.port) {
        fprintf (stderr, "worm-bench-find: %s\n", args.port ? err : "--beacon-port is required");
        return 2;
    }
    worm_lan_t lan;
    if (worm_lan_resolve (args.broadcast, args.interface, (int) args.port, &lan, err,
                          sizeof err)) {
        fprintf (stderr, "worm-bench-find: %s\n", err);
        return 2;
    }
    double *ms = calloc ((size_t) args.count, sizeof *ms);
    size_t n = 0, missed = 0;
    for (long i = 0; i < args.count; i++) {
        int64_t answered = 0;
        int64_t sent = zclock_usecs ();
        int found = worm_discover (&lan, false, 500, 0, s_first, &answered, err, sizeof err);
        if (found > 0)
            ms[n++] = (double) (answered - sent) / 1000;
        else
            missed++;
        zclock_sleep (2);
    }
    if (n == 0) {
        fprintf (stderr, "worm-bench-find: no willing host answered (%s)\n", err);
        return 1;
    }
    qsort (ms, n, sizeof *ms, s_compare);
    printf ("%-34s n=%zu  p50 %.3f ms  p95 %.3f ms  p99 %.3f ms  max %.3f ms  unanswered %zu"
            "   (anchor: customs 20-40 ms; target p50 <= 2 ms, p99 <= 10 ms)\n",
            args.label, n, s_percentile (ms, n, 50), s_percentile (ms, n, 95),
            s_percentile (ms, n, 99), ms[n - 1], missed);
    free (ms);
    return 0;
}
