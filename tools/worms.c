/*  worms.c — a worm's segments, found through the host agents (see
    worms.h).
*/
#include "worms.h"
#include "ctl.h"
#include "log.h"

#include <pthread.h>

bool
wormctl_tell_once (wormctl_told_t *told, const char *name)
{
    for (int i = 0; i < told->count; i++)
        if (strcmp (told->names[i], name) == 0)
            return false;
    if (told->count < WORMCTL_MAX_HOSTS * 2)
        snprintf (told->names[told->count++], sizeof told->names[0], "%s", name);
    return true;
}

void
wormctl_report_silent (const wormctl_client_t *client, const wormctl_segments_t *found,
                       wormctl_told_t *told)
{
    const char *command = client->command ? client->command->name : "";
    for (int i = 0; i < found->ignored; i++) {
        char tag[300];
        snprintf (tag, sizeof tag, "!%s", found->ignored_why[i]);
        if (!told || wormctl_tell_once (told, tag))
            fprintf (stderr, "wormctl %s: ignored: %s\n", command, found->ignored_why[i]);
    }
    for (int i = 0; i < found->silent; i++)
        if (!told || wormctl_tell_once (told, found->silent_name[i]))
            fprintf (stderr, "wormctl %s: %s did not answer 'find': %s\n", command,
                     found->silent_name[i], found->silent_why[i]);
}

bool
wormctl_nobody_answered (const wormctl_client_t *client, const wormctl_segments_t *found)
{
    const char *command = client->command ? client->command->name : "";
    if (found->answered > 0)
        return false;
    if (found->hosts == 0)
        fprintf (stderr, "wormctl %s: no host answered the query within %d ms\n", command,
                 wormctl_timeout_ms (client, WORMCTL_QUERY_S));
    else
        fprintf (stderr, "wormctl %s: none of the %d host(s) that answered the query answered "
                         "'find' (%d refused or fell silent, %d ignored)\n",
                 command, found->hosts, found->silent, found->ignored);
    return true;
}

bool
wormctl_host_answered (const wormctl_segments_t *found, const char *name)
{
    for (int i = 0; i < found->answered; i++)
        if (strcmp (found->answered_name[i], name) == 0)
            return true;
    return false;
}

void
wormctl_host_list (const wormctl_segments_t *found, char *buf, size_t cap)
{
    buf[0] = 0;
    for (int i = 0; i < found->count; i++) {
        size_t used = strlen (buf);
        snprintf (buf + used, cap - used, "%s%s", used ? ", " : "", found->items[i].host);
    }
}

wormctl_segments_t *
wormctl_search (wormctl_client_t *client, const char *worm)
{
    char err[512];
    wormctl_segments_t *found = calloc (1, sizeof *found);
    if (wormctl_find_segments (client, worm, true, found, NULL, err, sizeof err)) {
        fprintf (stderr, "wormctl %s: %s\n", client->command ? client->command->name : "", err);
        free (found);
        return NULL;
    }
    wormctl_report_silent (client, found, NULL);
    if (wormctl_nobody_answered (client, found)) {
        free (found);
        return NULL;
    }
    return found;
}

//  One search for wormctl_job_segments: 0 with the endpoints, 1 after saying
//  why not, 2 when the worm may yet turn up (its complaint in why).
static int
s_job_segments_once (wormctl_client_t *client, const char *worm, const char *app,
                     wormctl_segments_t *found, const char **endpoints, size_t cap, char *key,
                     size_t key_cap, char *why, size_t why_cap)
{
    const char *command = client->command ? client->command->name : "";
    char err[512];
    memset (found, 0, sizeof *found);
    if (wormctl_find_segments (client, worm, true, found, NULL, err, sizeof err)) {
        fprintf (stderr, "wormctl %s: %s\n", command, err);
        return 1;
    }
    size_t n = 0;
    const char *its_app = NULL;
    for (int i = 0; i < found->count && n + 1 < cap; i++) {
        const wormctl_segment_t *segment = &found->items[i];
        if (!segment->answered || segment->evicting)
            continue;
        its_app = segment->app;
        endpoints[n++] = segment->endpoint;
        snprintf (key, key_cap, "%s", segment->key);
    }
    endpoints[n] = NULL;
    if (found->count == 0) {
        snprintf (why, why_cap,
                  "no worm named %s runs on the %d host(s) that answered (start one: wormctl "
                  "launch %s --app %s --size 2)",
                  worm, found->answered, worm, app);
        return 2;
    }
    if (n == 0) {
        snprintf (why, why_cap, "worm %s has no live segment that answers", worm);
        return 2;
    }
    if (strcmp (its_app, app) != 0) {
        fprintf (stderr, "wormctl %s: worm %s runs app %s, not %s\n", command, worm, its_app, app);
        return 1;
    }
    return 0;
}

int
wormctl_refind (void *arg, char (*endpoints)[WORM_TOKEN_ENDPOINT_MAX], int cap)
{
    wormctl_refind_t *refind = (wormctl_refind_t *) arg;
    wormctl_segments_t *found = calloc (1, sizeof *found);
    char err[512];
    int n = 0;
    if (found
        && wormctl_find_segments (refind->client, refind->worm, false, found, NULL, err,
                                  sizeof err) == 0)
        for (int i = 0; i < found->count && n < cap; i++)
            if (!found->items[i].evicting)
                snprintf (endpoints[n++], WORM_TOKEN_ENDPOINT_MAX, "%s", found->items[i].endpoint);
    free (found);
    return n;
}

int
wormctl_job_wait_parse (const char *value, int *ms, char *err, size_t cap)
{
    double seconds;
    if (worm_parse_double (value, 0, 3600, &seconds, err, cap))
        return -1;
    *ms = (int) (seconds * 1000);
    return 0;
}

int
wormctl_job_segments (wormctl_client_t *client, const char *worm, const char *app, int wait_ms,
                      bool quiet, wormctl_segments_t *found, const char **endpoints, size_t cap,
                      char *key, size_t key_cap)
{
    const char *command = client->command ? client->command->name : "";
    int64_t deadline = worm_now_ms () + wait_ms;
    char why[512];
    bool said = false;
    while (true) {
        int rc = s_job_segments_once (client, worm, app, found, endpoints, cap, key, key_cap,
                                      why, sizeof why);
        if (rc < 2)
            return rc;
        int64_t now = worm_now_ms ();
        if (now + WORMCTL_JOB_LOOK_MS > deadline || zsys_interrupted) {
            fprintf (stderr, "wormctl %s: %s\n", command, why);
            return 1;
        }
        if (!said && !quiet)
            fprintf (stderr, "wormctl %s: %s; looking again for up to %.0f s\n", command, why,
                     (double) (deadline - now) / 1000);
        said = true;
        zclock_sleep (WORMCTL_JOB_LOOK_MS);
    }
}

bool
wormctl_segment_status_parse (worm_wire_reader_t *reply, wormctl_segment_t *segment)
{
    //  The members its copy lists live or joining (an older segment may not
    //  say which: then none)
    segment->live_pids_count = 0;
    const msgpack_object_array *members;
    if (worm_wire_get_array (reply, reply->root, "members", &members, WORM_TOKEN_MAX_MEMBERS) == 0)
        for (uint32_t i = 0; i < members->size; i++) {
            char state[16];
            uint64_t pid;
            if (worm_wire_get_str (reply, &members->ptr[i], "state", state, sizeof state) == 0
                && (strcmp (state, "live") == 0 || strcmp (state, "joining") == 0)
                && worm_wire_get_u64 (reply, &members->ptr[i], "pid", &pid) == 0)
                segment->live_pids[segment->live_pids_count++] = pid;
        }
    bool ok = false;
    return worm_wire_get_bool (reply, reply->root, "ok", &ok) == 0 && ok
           && worm_wire_get_bool (reply, reply->root, "holds_token", &segment->holds_token) == 0
           && worm_wire_get_str (reply, reply->root, "app", segment->app, sizeof segment->app) == 0
           && worm_wire_get_str (reply, reply->root, "state", segment->state,
                                 sizeof segment->state) == 0
           && worm_wire_get_u64 (reply, reply->root, "epoch", &segment->epoch) == 0
           && worm_wire_get_u64 (reply, reply->root, "seq", &segment->seq) == 0
           && worm_wire_get_u64 (reply, reply->root, "live", &segment->live) == 0
           && worm_wire_get_u64 (reply, reply->root, "target", &segment->target) == 0
           && worm_wire_get_u64 (reply, reply->root, "round_ms", &segment->round_ms) == 0;
}

//  Asks one segment how it sees its worm.
static void
s_segment_status (wormctl_segment_t *segment, int timeout_ms)
{
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[256];
    if (worm_ctl_request (segment->endpoint, segment->key, "status", NULL, NULL, timeout_ms,
                          &reply, err, sizeof err) == 0
        && wormctl_segment_status_parse (&reply, segment))
        segment->answered = true;
    worm_wire_reader_fini (&reply);
}

typedef struct {
    wormctl_segment_t *segment;
    int timeout_ms;
} s_ask_t;

static void *
s_status_thread (void *arg)
{
    s_ask_t *ask = (s_ask_t *) arg;
    ask->segment->answered = false;
    if (ask->segment->evicting)
        //  It leaves, or has left and waits to be reaped: asking it could
        //  cost a whole timeout for nothing
        snprintf (ask->segment->state, sizeof ask->segment->state, "leaving");
    else
        s_segment_status (ask->segment, ask->timeout_ms);
    return NULL;
}

//  Asks every segment found for its status, STATUS_BATCH at a time in
//  parallel: a segment that is gone (its host not yet aware) costs the
//  whole call one timeout, not one each.
#define STATUS_BATCH 32
void
wormctl_ask_segments (wormctl_segments_t *found, int timeout_ms)
{
    for (int first = 0; first < found->count; first += STATUS_BATCH) {
        pthread_t threads[STATUS_BATCH];
        s_ask_t asks[STATUS_BATCH];
        bool started[STATUS_BATCH] = {false};
        int batch = found->count - first < STATUS_BATCH ? found->count - first : STATUS_BATCH;
        for (int i = 0; i < batch; i++) {
            asks[i] = (s_ask_t) {&found->items[first + i], timeout_ms};
            started[i] = pthread_create (&threads[i], NULL, s_status_thread, &asks[i]) == 0;
        }
        for (int i = 0; i < batch; i++) {
            if (started[i])
                pthread_join (threads[i], NULL);
            else
                s_status_thread (&asks[i]);
        }
    }
}

int
wormctl_find_segments (wormctl_client_t *client, const char *worm, bool ask,
                       wormctl_segments_t *found, wormctl_found_t *agents, char *err,
                       size_t cap)
{
    wormctl_found_t *hosts = agents ? agents : calloc (1, sizeof *hosts);
    found->count = 0;
    if (wormctl_find_hosts (client, hosts, err, cap)) {
        if (!agents)
            free (hosts);
        return -1;
    }
    int rc = wormctl_find_segments_at (client, worm, ask, found, hosts, err, cap);
    if (!agents)
        free (hosts);
    return rc;
}

int
wormctl_find_segments_at (wormctl_client_t *client, const char *worm, bool ask,
                          wormctl_segments_t *found, const wormctl_found_t *hosts, char *err,
                          size_t cap)
{
    found->count = 0;
    found->hosts = hosts->count;
    found->silent = found->answered = found->ignored = 0;
    //  Every host we trust at once (a LAN of many hosts costs one round
    //  trip); the answers are read in the hosts' order
    wormctl_call_t *calls = calloc ((size_t) hosts->count + 1, sizeof *calls);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "find");
    if (worm)
        worm_wire_kstr (&request, "worm", worm);
    worm_wire_map_close (&request);
    int ncalls = 0;
    for (int h = 0; h < hosts->count; h++) {
        if (!wormctl_host_trusted (client, &hosts->hosts[h], found->ignored_why[found->ignored],
                                   sizeof found->ignored_why[0])) {
            //  Not one of ours (an impostor, or a host not yet authorized):
            //  it neither answers for the worm nor counts as silent
            found->ignored++;
            continue;
        }
        calls[ncalls++] = (wormctl_call_t) {
            .host = &hosts->hosts[h], .request = &request,
            .timeout_ms = wormctl_timeout_ms (client, WORMCTL_REQUEST_S)};
    }
    wormctl_host_calls (calls, ncalls);
    worm_wire_writer_fini (&request);
    for (int c = 0; c < ncalls; c++) {
        wormctl_call_t *call = &calls[c];
        worm_wire_reader_t *reply = &call->reply;
        const msgpack_object_array *list;
        int asked = call->rc;
        if (asked == 0
            && worm_wire_get_array (reply, reply->root, "segments", &list, WORMCTL_MAX_SEGMENTS)) {
            snprintf (call->err, sizeof call->err, "bad reply: %s", reply->error);
            asked = -1;
        }
        if (asked == 0) {
            snprintf (found->answered_name[found->answered++], sizeof found->answered_name[0],
                      "%s", call->host->name);
            for (uint32_t i = 0; i < list->size && found->count < WORMCTL_MAX_SEGMENTS; i++) {
                wormctl_segment_t *segment = &found->items[found->count];
                memset (segment, 0, sizeof *segment);
                const msgpack_object *map = &list->ptr[i];
                if (worm_wire_get_str (reply, map, "worm", segment->worm, sizeof segment->worm)
                    || worm_wire_get_str (reply, map, "worm_id", segment->worm_id,
                                          sizeof segment->worm_id)
                    || worm_wire_get_str (reply, map, "id", segment->id, sizeof segment->id)
                    || worm_wire_get_str (reply, map, "host", segment->host,
                                          sizeof segment->host)
                    || worm_wire_get_str (reply, map, "endpoint", segment->endpoint,
                                          sizeof segment->endpoint)
                    || worm_wire_get_str (reply, map, "key", segment->key, sizeof segment->key)
                    || worm_wire_get_u64 (reply, map, "pid", &segment->pid)
                    || worm_wire_get_bool (reply, map, "evicting", &segment->evicting) < 0)
                    continue;
                found->count++;
            }
        }
        else {
            snprintf (found->silent_name[found->silent], sizeof found->silent_name[0], "%s",
                      call->host->name);
            snprintf (found->silent_why[found->silent++], sizeof found->silent_why[0], "%s",
                      call->err);
        }
    }
    for (int c = 0; c < ncalls; c++)
        worm_wire_reader_fini (&calls[c].reply);
    free (calls);
    if (zsys_interrupted) {
        snprintf (err, cap, "interrupted");
        return -1;
    }
    if (ask)
        wormctl_ask_segments (found, 1000);
    if (zsys_interrupted) {
        snprintf (err, cap, "interrupted");
        return -1;
    }
    return 0;
}
