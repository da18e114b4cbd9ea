/*  spawner.c — places new segments from an actor thread. See spawner.h. */
#include "spawner.h"
#include "ctl.h"
#include "discover.h"
#include "log.h"

#define PLACE_TIMEOUT_MS 1000
#define MAX_EXCLUDE 64

typedef struct {
    const char *host_id;            //  the host wanted
    char endpoint[128];             //  its control endpoint, once found
    char key[41];                   //  and its public key
} s_wanted_t;

static int
s_match_host (void *arg, const worm_hostinfo_t *host)
{
    s_wanted_t *wanted = (s_wanted_t *) arg;
    if (strcmp (host->id, wanted->host_id) != 0)
        return 0;
    snprintf (wanted->endpoint, sizeof wanted->endpoint, "%s", host->endpoint);
    snprintf (wanted->key, sizeof wanted->key, "%s", host->key);
    return 1;
}

//  True only when the host agent of host_id answers that pid is not its
//  guest. Asked through our agent, which knows where that host's agent is
//  from its beacons: no broadcast query, unless it heard none lately.
static bool
s_confirmed_gone (const worm_spawner_config_t *config, const char *host_id, const char *pid)
{
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "alive");
    worm_wire_ku64 (&request, "pid", strtoull (pid, NULL, 10));
    worm_wire_map_close (&request);
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[256];
    worm_ctl_via_t via = {config->agent, config->agent_key};
    int rc = worm_ctl_call_host (&via, host_id, &request, 500, &reply, err, sizeof err);
    if (rc == -2 && strstr (err, "is not known here")) {
        //  A lost beacon, a fresh agent: ask the LAN where that host is
        s_wanted_t wanted = {.host_id = host_id};
        worm_discover (&config->lan, true, 300, 0, s_match_host, &wanted, err, sizeof err);
        if (wanted.endpoint[0])
            rc = worm_ctl_call_via (&via, wanted.endpoint, wanted.key, &request, 500, &reply,
                                    err, sizeof err);
    }
    bool alive = true;
    bool gone = rc == 0 && worm_wire_get_bool (&reply, reply.root, "alive", &alive) == 0 && !alive;
    worm_wire_reader_fini (&reply);
    worm_wire_writer_fini (&request);
    return gone;
}

//  True when the segment is exiting: a placement in progress then stops
//  instead of holding the exit up for seconds of host after host.
static bool
s_stopping (void *arg)
{
    return atomic_load ((atomic_bool *) arg) || zsys_interrupted;
}

static void
s_spawner (zsock_t *pipe, void *arg)
{
    worm_spawner_config_t config = *(const worm_spawner_config_t *) arg;
    //  The willing hosts of the last query: the spawns a holder asks for at
    //  once (a worm that lost a quarter of its members) share one query
    worm_place_found_t found = {.count = 0};
    zsock_signal (pipe, 0);
    //  The actor lives until its owner says $TERM: a signal (the segment's
    //  SIGTERM) only interrupts a receive, which is then tried again
    while (true) {
        //  SPAWN id excluded | CHECK id host-id pid
        char *command = NULL, *spawn_id = NULL, *excluded = NULL, *check_pid = NULL;
        if (zstr_recvx (pipe, &command, &spawn_id, &excluded, &check_pid, NULL) < 0)
            continue;
        if (streq (command, "$TERM")) {
            zstr_free (&command);
            break;
        }
        if (streq (command, "CHECK")) {
            if (spawn_id && excluded && check_pid
                && s_confirmed_gone (&config, excluded, check_pid))
                zstr_sendx (pipe, "GONE", spawn_id, "", NULL);
            zstr_free (&check_pid);
            zstr_free (&command);
            zstr_free (&spawn_id);
            zstr_free (&excluded);
            continue;
        }
        const char *exclude[MAX_EXCLUDE];
        size_t n_exclude = 0;
        for (char *save = NULL, *id = excluded ? strtok_r (excluded, ",", &save) : NULL;
             id && n_exclude < MAX_EXCLUDE; id = strtok_r (NULL, ",", &save))
            exclude[n_exclude++] = id;
        worm_ctl_via_t via = {config.agent, config.agent_key};
        worm_segspec_t joiner = config.joiner;
        snprintf (joiner.spawn_id, sizeof joiner.spawn_id, "%s", spawn_id ? spawn_id : "");
        worm_place_t spec = {.worm = config.worm, .segment = &joiner,
                             .exclude = exclude, .n_exclude = n_exclude,
                             .timeout_ms = PLACE_TIMEOUT_MS, .cancelled = s_stopping,
                             .cancel_arg = config.stop, .via = &via,
                             .worm_public = config.worm_public,
                             .worm_secret = config.worm_secret, .found = &found};
        worm_hostinfo_t host;
        pid_t pid = 0;
        char err[512];
        char pid_text[16];
        snprintf (err, sizeof err, "unknown command %s", command);
        if (streq (command, "SPAWN")
            && worm_place (&config.lan, &spec, &host, &pid, err, sizeof err) == 0) {
            snprintf (pid_text, sizeof pid_text, "%d", (int) pid);
            zstr_sendx (pipe, "STARTED", spawn_id, host.name, pid_text, NULL);
        }
        else
            zstr_sendx (pipe, "FAILED", spawn_id ? spawn_id : "", err, NULL);
        zstr_free (&command);
        zstr_free (&spawn_id);
        zstr_free (&excluded);
        zstr_free (&check_pid);
    }
}

zactor_t *
worm_spawner_new (const worm_spawner_config_t *config)
{
    return zactor_new (s_spawner, (void *) config);
}
