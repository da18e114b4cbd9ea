/*  policy.c — the willing-host decision. See policy.h. */
#include "policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *worm_policy_keys[] = {"max-segments", "max-load",       "min-idle",
                                  "min-free-mem", "check-interval", "grace",
                                  NULL};

void
worm_policy_defaults (worm_policy_t *policy)
{
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    policy->max_segments = (int) cores;
    policy->max_load = (double) cores;
    policy->min_idle_s = 60;
    policy->min_free_mem_pct = 10;
    policy->check_interval_s = 1;
    policy->grace_s = 5;
}

bool
worm_policy_willing (const worm_policy_t *policy, const worm_sample_t *sample, char *reason,
                     size_t cap)
{
    //  Activity seen since the last sample always counts, even under a
    //  --min-idle shorter than the check interval, or a touch could slip by
    double min_idle = policy->min_idle_s > policy->check_interval_s ? policy->min_idle_s
                                                                     : policy->check_interval_s;
    if (sample->idle_s < min_idle)
        snprintf (reason, cap, "user active %.0f s ago", floor (sample->idle_s));
    else if (sample->load > policy->max_load)
        snprintf (reason, cap, "load %.2f > %.2f", sample->load, policy->max_load);
    else if (sample->free_mem_pct < policy->min_free_mem_pct)
        snprintf (reason, cap, "free memory %.0f%% < %.0f%%", sample->free_mem_pct,
                  policy->min_free_mem_pct);
    else if (sample->segments >= policy->max_segments)
        snprintf (reason, cap, "full %d/%d", sample->segments, policy->max_segments);
    else {
        snprintf (reason, cap, "idle");
        return true;
    }
    return false;
}

int
worm_policy_set (worm_policy_t *policy, const char *key, double value, char *err, size_t cap)
{
    if (!isfinite (value)) {
        snprintf (err, cap, "%s: value is not a finite number", key);
        return -1;
    }
    if (strcmp (key, "max-segments") == 0) {
        if (value < 0 || value > 4096 || value != floor (value)) {
            snprintf (err, cap, "max-segments: %g is not a whole number from 0 to 4096", value);
            return -1;
        }
        policy->max_segments = (int) value;
        return 0;
    }
    struct {
        const char *key;
        double *field;
        double low, high;
    } range[] = {
        {"max-load", &policy->max_load, 0, 1e6},
        {"min-idle", &policy->min_idle_s, 0, 1e7},
        {"min-free-mem", &policy->min_free_mem_pct, 0, 100},
        {"check-interval", &policy->check_interval_s, 0.05, 3600},
        {"grace", &policy->grace_s, 0, 3600},
    };
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++)
        if (strcmp (key, range[i].key) == 0) {
            if (value < range[i].low || value > range[i].high) {
                snprintf (err, cap, "%s: %g is outside %g to %g", key, value, range[i].low,
                          range[i].high);
                return -1;
            }
            *range[i].field = value;
            return 0;
        }
    snprintf (err, cap, "unknown policy field '%s'", key);
    return -1;
}

int
worm_policy_get (const worm_policy_t *policy, const char *key, double *value)
{
    if (strcmp (key, "max-segments") == 0)
        *value = policy->max_segments;
    else if (strcmp (key, "max-load") == 0)
        *value = policy->max_load;
    else if (strcmp (key, "min-idle") == 0)
        *value = policy->min_idle_s;
    else if (strcmp (key, "min-free-mem") == 0)
        *value = policy->min_free_mem_pct;
    else if (strcmp (key, "check-interval") == 0)
        *value = policy->check_interval_s;
    else if (strcmp (key, "grace") == 0)
        *value = policy->grace_s;
    else
        return -1;
    return 0;
}
