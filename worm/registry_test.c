/*  registry_test.c — hosts heard: order, refresh, expiry after 3 intervals. */
#include "registry.h"
#include "../tests/check.h"

static worm_hostinfo_t
s_host (const char *id, const char *name, uint32_t interval_ms)
{
    worm_hostinfo_t host = {.interval_ms = interval_ms, .max_segments = 2};
    snprintf (host.id, sizeof host.id, "%s", id);
    snprintf (host.name, sizeof host.name, "%s", name);
    snprintf (host.endpoint, sizeof host.endpoint, "tcp://127.0.0.1:1");
    return host;
}

int
main (void)
{
    worm_registry_t *registry = worm_registry_new ();
    worm_hostinfo_t b = s_host ("000000000000000b", "beta", 1000);
    worm_hostinfo_t a = s_host ("000000000000000a", "alpha", 1000);
    worm_hostinfo_t c = s_host ("000000000000000c", "gamma", 100);
    CHECK_EQ (worm_registry_update (registry, &b, 0), 1);
    CHECK_EQ (worm_registry_update (registry, &a, 0), 1);
    CHECK_EQ (worm_registry_update (registry, &c, 0), 1);
    CHECK_EQ (worm_registry_size (registry), 3);
    CHECK_STR (worm_registry_at (registry, 0)->name, "alpha");
    CHECK_STR (worm_registry_at (registry, 1)->name, "beta");
    CHECK (worm_registry_at (registry, 3) == NULL);
    //  A refresh keeps one entry and takes the new facts
    b.load = 0.75;
    CHECK_EQ (worm_registry_update (registry, &b, 200), 0);
    CHECK_EQ (worm_registry_size (registry), 3);
    CHECK (worm_registry_find (registry, "beta")->load == 0.75);
    CHECK (worm_registry_find (registry, "000000000000000a") != NULL);
    CHECK (worm_registry_find (registry, "delta") == NULL);
    //  gamma (100 ms interval) is silent for 3 intervals at 300 ms: kept; at 301: dropped
    CHECK_EQ (worm_registry_expire (registry, 300), 0);
    CHECK_EQ (worm_registry_expire (registry, 301), 1);
    CHECK (worm_registry_find (registry, "gamma") == NULL);
    //  alpha heard at 0 with 1 s interval goes at 3001; beta (heard at 200) at 3201
    CHECK_EQ (worm_registry_expire (registry, 3001), 1);
    CHECK_EQ (worm_registry_size (registry), 1);
    CHECK_STR (worm_registry_at (registry, 0)->name, "beta");
    CHECK_EQ (worm_registry_expire (registry, 3201), 1);
    CHECK_EQ (worm_registry_size (registry), 0);
    //  A renamed host (same id) is kept once, under its new name
    CHECK_EQ (worm_registry_update (registry, &a, 0), 1);
    snprintf (a.name, sizeof a.name, "zeta");
    CHECK_EQ (worm_registry_update (registry, &a, 1), 0);
    CHECK_EQ (worm_registry_size (registry), 1);
    CHECK_STR (worm_registry_at (registry, 0)->name, "zeta");
    //  The registry refuses hosts beyond its limit
    for (int i = 0; i < WORM_REGISTRY_MAX + 5; i++) {
        worm_hostinfo_t host = s_host ("0000000000000000", "h", 1000);
        snprintf (host.id, sizeof host.id, "%016x", i + 100);
        snprintf (host.name, sizeof host.name, "h%d", i);
        worm_registry_update (registry, &host, 0);
    }
    CHECK_EQ (worm_registry_size (registry), WORM_REGISTRY_MAX);
    worm_registry_destroy (&registry);
    CHECK (registry == NULL);
    return check_done ("worm.registry");
}
