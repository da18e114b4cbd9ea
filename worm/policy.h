/*  policy.h — the owner's policy (importquota) and the willing-host decision.

    Pure logic: given a policy and one availability sample, decide whether
    this machine is a willing idle host and say why in words. The sampler
    (avail.h) produces the samples; wormd applies the decision.
*/
#ifndef WORM_POLICY_H_INCLUDED
#define WORM_POLICY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int max_segments;          //  guests this host takes at most
    double max_load;           //  1-minute load average above which it refuses
    double min_idle_s;         //  the user must have been idle this long
    double min_free_mem_pct;   //  available memory must be at least this share
    double check_interval_s;   //  how often availability is sampled
    double grace_s;            //  SIGTERM to SIGKILL on eviction
} worm_policy_t;

typedef struct {
    double idle_s;             //  seconds since the user last touched the machine
    double load;               //  1-minute load average
    double free_mem_pct;       //  MemAvailable / MemTotal, in percent
    int segments;              //  guests running plus claims outstanding
} worm_sample_t;

/*  The defaults: max segments = cores, max load = cores, 60 s idle,
    10 % free memory, 1 s checks, 5 s grace. */
void worm_policy_defaults (worm_policy_t *policy);

/*  Decides willingness. The user counts as active when seen within
    max(min-idle, check-interval) seconds. Writes the reason into reason (cap bytes): why not,
    in words ("user active 3 s ago", "load 2.31 > 1.00", "full 2/2"), or
    "idle" when willing. Returns true when willing. */
bool worm_policy_willing (const worm_policy_t *policy, const worm_sample_t *sample,
                          char *reason, size_t cap);

/*  Sets one policy field by its option name (max-segments, max-load,
    min-idle, min-free-mem, check-interval, grace) to a number. Returns 0,
    or -1 with the reason in err when the name is unknown or the value out
    of range; the policy is then unchanged. */
int worm_policy_set (worm_policy_t *policy, const char *key, double value, char *err, size_t cap);

/*  The option names worm_policy_set knows, NULL-terminated. */
extern const char *worm_policy_keys[];

/*  Reads one field by option name; returns -1 for an unknown name. */
int worm_policy_get (const worm_policy_t *policy, const char *key, double *value);

#endif
