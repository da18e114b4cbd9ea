/*  avail.h — availability sampling: how idle, loaded and full this host is.

    Reads the user's idle time (tty/pts access times as `w` computes them,
    /dev/input/event* access times, the mtime of an activity file), the load
    average and the available memory, into a worm_sample_t that policy.h
    judges. The file paths can be redirected so that virtual hosts and tests
    simulate a user, a load or memory pressure.
*/
#ifndef WORM_AVAIL_H_INCLUDED
#define WORM_AVAIL_H_INCLUDED

#include "policy.h"

#include <limits.h>

enum {
    WORM_IDLE_TTY = 1,     //  access times of logged-in users' terminals
    WORM_IDLE_INPUT = 2,   //  access times of /dev/input/event*
    WORM_IDLE_FILE = 4,    //  mtime of the activity file
};

typedef struct {
    unsigned sources;               //  WORM_IDLE_* bits that count
    char activity_file[PATH_MAX];   //  empty: none
    char loadavg_file[PATH_MAX];    //  default /proc/loadavg
    char meminfo_file[PATH_MAX];    //  default /proc/meminfo
} worm_avail_config_t;

void worm_avail_defaults (worm_avail_config_t *config);

/*  Parses an idle-source list such as "tty,input,file" into WORM_IDLE_*
    bits. Returns 0, or -1 naming the unknown word in err. */
int worm_avail_parse_sources (const char *text, unsigned *sources, char *err, size_t cap);

/*  Samples idle time, load and memory into sample (segments untouched).
    With no idle source that says anything, the idle time is the uptime.
    Returns 0, or -1 with the reason (file and why) in err. */
int worm_avail_sample (const worm_avail_config_t *config, worm_sample_t *sample, char *err,
                       size_t cap);

/*  Parsers for the /proc formats, for the sampler and its tests.
    Each returns 0, or -1 when the text is not in the expected form. */
int worm_avail_parse_loadavg (const char *text, double *load);
int worm_avail_parse_meminfo (const char *text, double *free_pct);

#endif
