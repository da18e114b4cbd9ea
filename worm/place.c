/*  place.c — claim then spawn, on one host or the first willing one. */
#include "place.h"
#include "ctl.h"
#include "discover.h"
#include "log.h"

#include <stdio.h>
#include <string.h>


int
worm_place_claim (const worm_ctl_via_t *via, const char *endpoint, const char *key,
                  const char *worm, const char *worm_id, int timeout_ms, char *claim, char *err,
                  size_t cap)
{
    worm_wire_writer_t request;
    worm_wire_reader_t reply;
    worm_wire_writer_init (&request);
    worm_wire_reader_init (&reply);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "claim");
    worm_wire_kstr (&request, "worm", worm);
    if (worm_id)
        worm_wire_kstr (&request, "worm_id", worm_id);
    worm_wire_map_close (&request);
    int rc = worm_ctl_call_via (via, endpoint, key, &request, timeout_ms, &reply, err, cap);
    if (rc == 0
        && worm_wire_get_str (&reply, reply.root, "claim", claim, WORM_HOST_ID_LEN + 1)) {
        snprintf (err, cap, "bad claim reply from %s: %s", endpoint, reply.error);
        rc = -1;
    }
    worm_wire_writer_fini (&request);
    worm_wire_reader_fini (&reply);
    return rc;
}

int
worm_place_on (const char *endpoint, const char *key, const worm_place_t *spec, pid_t *pid,
               char *err, size_t cap)
{
    char claim[WORM_HOST_ID_LEN + 1];
    int rc = worm_place_claim (spec->via, endpoint, key, spec->worm,
                               spec->segment ? spec->segment->worm_id : NULL, spec->timeout_ms,
                               claim, err, cap);
    if (rc)
        return rc;

    worm_wire_writer_t request;
    worm_wire_reader_t reply;
    worm_wire_writer_init (&request);
    worm_wire_reader_init (&reply);
    bool keys = spec->worm_public && spec->worm_secret;
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "spawn");
    if (keys) {
        worm_wire_kstr (&request, "worm_public", spec->worm_public);
        worm_wire_kstr (&request, "worm_secret", spec->worm_secret);
    }
    worm_wire_kstr (&request, "claim", claim);
    if (spec->segment) {
        worm_wire_kstr (&request, "guest", "segment");
        worm_wire_key (&request, "segment");
        worm_segspec_write (&request, spec->segment);
    }
    else {
        size_t nargs = 0;
        while (nargs < WORM_PLACE_MAX_ARGS && spec->test_args[nargs])
            nargs++;
        worm_wire_kstr (&request, "guest", "test");
        worm_wire_key (&request, "args");
        worm_wire_array (&request, nargs);
        for (size_t i = 0; i < nargs; i++)
            worm_wire_str (&request, spec->test_args[i]);
    }
    worm_wire_map_close (&request);
    uint64_t guest_pid = 0;
    rc = worm_ctl_call_via (spec->via, endpoint, key, &request, spec->timeout_ms, &reply, err,
                            cap);
    if (rc == 0 && worm_wire_get_u64 (&reply, reply.root, "pid", &guest_pid)) {
        snprintf (err, cap, "bad spawn reply from %s: %s", endpoint, reply.error);
        rc = -1;
    }
    *pid = (pid_t) guest_pid;
    worm_wire_writer_fini (&request);
    worm_wire_reader_fini (&reply);
    return rc;
}

typedef struct {
    const worm_place_t *spec;                //  whose hosts are excluded
    worm_place_found_t *found;               //  willing hosts not excluded
    int excluded;                            //  willing hosts that were excluded
} s_collector_t;

static bool
s_excluded (const worm_place_t *spec, const char *host_id)
{
    for (size_t k = 0; k < spec->n_exclude; k++)
        if (strcmp (spec->exclude[k], host_id) == 0)
            return true;
    return false;
}

//  Keeps the answers of hosts not excluded: on a LAN where most willing
//  hosts already hold the worm, the first answers may all be theirs
static int
s_collect (void *arg, const worm_hostinfo_t *host)
{
    s_collector_t *collector = (s_collector_t *) arg;
    worm_place_found_t *found = collector->found;
    if (s_excluded (collector->spec, host->id))
        collector->excluded++;
    else if (found->count < WORM_PLACE_CANDIDATES)
        found->hosts[found->count++] = *host;
    return found->count == WORM_PLACE_CANDIDATES;
}

//  Tries the hosts of found in order, dropping each one tried. Returns 0
//  when one took the guest; -1 with the reason in err when none did (or
//  cancelled); *tried counts the hosts asked.
static int
s_try (const worm_place_t *spec, worm_place_found_t *found, worm_hostinfo_t *host, pid_t *pid,
       int *tried, char *last, size_t last_cap, char *err, size_t cap)
{
    while (found->count > 0) {
        worm_hostinfo_t candidate = found->hosts[0];
        found->count--;
        memmove (&found->hosts[0], &found->hosts[1], (size_t) found->count * sizeof *found->hosts);
        if (s_excluded (spec, candidate.id))
            continue;       //  kept from a query made for an earlier placement
        if (spec->trusted && !worm_keyset_has (spec->trusted, candidate.key)) {
            //  A forged answer may name any key: only authorized hosts get the worm
            snprintf (last, last_cap, "host %s answered with key %s, which is not authorized",
                      candidate.name, candidate.key);
            (*tried)++;
            continue;
        }
        if (spec->cancelled && spec->cancelled (spec->cancel_arg)) {
            snprintf (err, cap, "cancelled");
            return -1;
        }
        (*tried)++;
        if (worm_place_on (candidate.endpoint, candidate.key, spec, pid, last, last_cap) == 0) {
            *host = candidate;
            return 0;
        }
    }
    return -1;
}

int
worm_place (const worm_lan_t *lan, const worm_place_t *spec, worm_hostinfo_t *host, pid_t *pid,
            char *err, size_t cap)
{
    worm_place_found_t mine = {.count = 0};
    worm_place_found_t *found = spec->found ? spec->found : &mine;
    char last[512] = "";
    int tried = 0;
    err[0] = 0;
    if (found->count > 0 && worm_now_ms () - found->found_ms < WORM_PLACE_REUSE_MS) {
        if (s_try (spec, found, host, pid, &tried, last, sizeof last, err, cap) == 0)
            return 0;
        if (err[0])
            return -1;      //  cancelled
    }
    //  A query of our own
    found->count = 0;
    found->found_ms = worm_now_ms ();
    s_collector_t collector = {.spec = spec, .found = found, .excluded = 0};
    //  Answers come within the load delay (at most 30 ms): wait a little past it
    if (worm_discover (lan, false, spec->timeout_ms, 40, s_collect, &collector, err, cap) < 0)
        return -1;
    bool answered = found->count > 0;
    tried = 0;
    if (s_try (spec, found, host, pid, &tried, last, sizeof last, err, cap) == 0)
        return 0;
    if (err[0])
        return -1;
    if (!answered && collector.excluded > 0)
        snprintf (err, cap, "the %d willing host(s) already hold this worm", collector.excluded);
    else if (!answered)
        snprintf (err, cap, "no willing host answered within %d ms", spec->timeout_ms);
    else
        snprintf (err, cap, "%d willing host(s) refused; last: %s", tried, last);
    return -1;
}
