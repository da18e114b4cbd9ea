/*  policy_test.c — the willing-host decision, table-driven. */
#include "policy.h"
#include "../tests/check.h"

static void
s_decisions (void)
{
    worm_policy_t policy = {.max_segments = 2, .max_load = 1.0, .min_idle_s = 60,
                            .min_free_mem_pct = 10, .check_interval_s = 1, .grace_s = 5};
    struct {
        worm_sample_t sample;
        bool willing;
        const char *reason;
    } cases[] = {
        {{.idle_s = 600, .load = 0.1, .free_mem_pct = 50, .segments = 0}, true, "idle"},
        {{.idle_s = 60, .load = 0.1, .free_mem_pct = 50, .segments = 1}, true, "idle"},
        {{.idle_s = 3.7, .load = 0.1, .free_mem_pct = 50, .segments = 0}, false,
         "user active 3 s ago"},
        {{.idle_s = 59.9, .load = 0.1, .free_mem_pct = 50, .segments = 0}, false,
         "user active 59 s ago"},
        {{.idle_s = 600, .load = 2.31, .free_mem_pct = 50, .segments = 0}, false,
         "load 2.31 > 1.00"},
        {{.idle_s = 600, .load = 1.0, .free_mem_pct = 50, .segments = 0}, true, "idle"},
        {{.idle_s = 600, .load = 0.1, .free_mem_pct = 3.2, .segments = 0}, false,
         "free memory 3% < 10%"},
        {{.idle_s = 600, .load = 0.1, .free_mem_pct = 50, .segments = 2}, false, "full 2/2"},
        //  The user comes first: an owner at the keyboard is the reason that matters
        {{.idle_s = 1, .load = 5, .free_mem_pct = 1, .segments = 2}, false,
         "user active 1 s ago"},
        {{.idle_s = 600, .load = 5, .free_mem_pct = 1, .segments = 2}, false, "load 5.00 > 1.00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char reason[96];
        bool willing = worm_policy_willing (&policy, &cases[i].sample, reason, sizeof reason);
        CHECK_EQ (willing, cases[i].willing);
        CHECK_STR (reason, cases[i].reason);
    }
    //  Activity within the last check interval counts even under a shorter min-idle
    worm_policy_t quick = policy;
    quick.min_idle_s = 0.1;
    quick.check_interval_s = 0.5;
    worm_sample_t touched = {.idle_s = 0.3, .load = 0.1, .free_mem_pct = 50, .segments = 0};
    char why[96];
    CHECK (!worm_policy_willing (&quick, &touched, why, sizeof why));
    CHECK_STR (why, "user active 0 s ago");
    touched.idle_s = 0.6;
    CHECK (worm_policy_willing (&quick, &touched, why, sizeof why));
    //  A policy that takes no guests is never willing
    policy.max_segments = 0;
    char reason[96];
    worm_sample_t idle = {.idle_s = 1e6, .load = 0, .free_mem_pct = 90, .segments = 0};
    CHECK (!worm_policy_willing (&policy, &idle, reason, sizeof reason));
    CHECK_STR (reason, "full 0/0");
}

static void
s_setters (void)
{
    worm_policy_t policy;
    worm_policy_defaults (&policy);
    CHECK (policy.max_segments >= 1);
    CHECK_EQ (policy.check_interval_s, 1);
    char err[256];
    struct {
        const char *key;
        double value;
        int rc;
        const char *error;
    } cases[] = {
        {"max-segments", 3, 0, NULL},
        {"max-segments", 2.5, -1, "whole number"},
        {"max-segments", -1, -1, "whole number"},
        {"max-load", 1.5, 0, NULL},
        {"max-load", -0.1, -1, "outside"},
        {"min-idle", 0, 0, NULL},
        {"min-free-mem", 101, -1, "outside"},
        {"check-interval", 0.01, -1, "outside"},
        {"check-interval", 0.25, 0, NULL},
        {"grace", 2, 0, NULL},
        {"max-load", 0.0 / 0.0, -1, "finite"},
        {"colour", 1, -1, "unknown policy field 'colour'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        worm_policy_t before = policy;
        int rc = worm_policy_set (&policy, cases[i].key, cases[i].value, err, sizeof err);
        CHECK_EQ (rc, cases[i].rc);
        if (rc) {
            CHECK_HAS (err, cases[i].error);
            CHECK (memcmp (&before, &policy, sizeof policy) == 0);
        }
        else {
            double value;
            CHECK_EQ (worm_policy_get (&policy, cases[i].key, &value), 0);
            CHECK (value == cases[i].value);
        }
    }
    double value;
    CHECK_EQ (worm_policy_get (&policy, "colour", &value), -1);
}

int
main (void)
{
    s_decisions ();
    s_setters ();
    return check_done ("worm.policy");
}
