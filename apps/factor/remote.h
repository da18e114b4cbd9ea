/*  remote.h — the ECM runner that hands units to a factor worm.

    The distributed half of big.c's runner interface (ecm_unit.h): each
    unit becomes a job unit (unit.h) leased to the worm's segments through
    the job layer's client (worm/jobclient.h), which gives back the units of
    a segment that dies or is evicted and drops late duplicates. It keeps
    two units per segment submitted, and shows progress on stderr.
*/
#ifndef WORM_FACTOR_REMOTE_H_INCLUDED
#define WORM_FACTOR_REMOTE_H_INCLUDED

#include "ecm_unit.h"
#include "jobclient.h"

#include <stdio.h>

typedef enum {
    WORM_FACTOR_PROGRESS_NONE,      //  --quiet
    WORM_FACTOR_PROGRESS_LINES,     //  one plain line every few seconds (not a terminal)
    WORM_FACTOR_PROGRESS_BAR,       //  a live bar (a terminal)
} worm_factor_progress_t;

/*  A runner over a job whose segments config names; progress to err in the
    given style; the job's log lines (units given back, segments gone) to
    err too when verbose. NULL with the reason in errbuf. */
worm_factor_runner_t *worm_factor_remote_new (const worm_jobclient_config_t *config,
                                              worm_factor_progress_t progress, bool verbose,
                                              FILE *err, char *errbuf, size_t cap);
void worm_factor_remote_destroy (worm_factor_runner_t **self_p);

/*  Counts of the job so far, for --json and the demo. */
worm_jobq_counts_t worm_factor_remote_counts (worm_factor_runner_t *self);

#endif
