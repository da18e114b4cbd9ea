/*  cmd_kill.c — wormctl kill: kills a worm through its token and through
    every host agent, then watches through the agents (worms.h) until no
    segment is left, or says which may survive and where.
*/
#include "client.h"
#include "ctl.h"
#include "log.h"
#include "record.h"
#include "worms.h"

#define S_WAIT_S 10     //  --timeout's default: the wait for every segment to go
#define S_QUERY_EVERY_MS 1000   //  how often the polls look for hosts anew

//  The agents a kill went to, and those that did not take it
typedef struct {
    wormctl_told_t *sent_to;    //  agents asked, by name
    int sent;                   //  how many took it
    char (*refused)[65];        //  hosts whose agent did not take it
    char (*refused_why)[256];   //  and why
    int nrefused;               //  how many
} s_kills_t;

//  Sends KILL of worm name to every trusted agent in hosts not yet asked,
//  all at once. Naming the worm's id (when known) lets the hosts that have
//  no segment of it refuse a spawn of it still on its way: they remember
//  ids, not names.
static void
s_kill_agents (wormctl_client_t *client, const wormctl_found_t *hosts, const char *name,
               const char *worm_id, s_kills_t *kills)
{
    wormctl_call_t *calls = calloc ((size_t) hosts->count + 1, sizeof *calls);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "kill");
    worm_wire_kstr (&request, "worm", name);
    if (worm_id[0])
        worm_wire_kstr (&request, "worm_id", worm_id);
    worm_wire_map_close (&request);
    int n = 0;
    for (int h = 0; h < hosts->count && !zsys_interrupted; h++) {
        char err[512];
        if (wormctl_host_trusted (client, &hosts->hosts[h], err, sizeof err)
            && wormctl_tell_once (kills->sent_to, hosts->hosts[h].name))
            calls[n++] = (wormctl_call_t) {.host = &hosts->hosts[h], .request = &request,
                                           .timeout_ms = 2000};
    }
    wormctl_host_calls (calls, n);
    worm_wire_writer_fini (&request);
    for (int c = 0; c < n; c++) {
        if (calls[c].rc == 0)
            kills->sent++;
        else if (!zsys_interrupted && kills->nrefused < WORMCTL_MAX_HOSTS) {
            fprintf (stderr, "wormctl kill: %s: %s\n", calls[c].host->name, calls[c].err);
            snprintf (kills->refused[kills->nrefused], sizeof kills->refused[0], "%s",
                      calls[c].host->name);
            snprintf (kills->refused_why[kills->nrefused++], sizeof kills->refused_why[0], "%s",
                      calls[c].err);
        }
        worm_wire_reader_fini (&calls[c].reply);
    }
    free (calls);
}

//  wormctl kill: kills worm NAME everywhere and waits until no segment is left.
static int
s_cmd_kill (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    int index = 0;
    const char *name = argc > 0 && strncmp (argv[0], "--", 2) ? argv[index++] : NULL;
    int rc = wormctl_options (client, options, argc, argv, &index,
                              "Usage: wormctl [GLOBAL OPTIONS] kill NAME\n\n"
                              "Kills every segment of worm NAME: through its token, and through\n"
                              "every host agent directly (which also refuse to start that worm,\n"
                              "by its id, again for a minute; a new launch of NAME starts at\n"
                              "once), so it dies even when its token is lost. Only its launcher\n"
                              "may, or a host's owner on that host. Exits 0 once no segment is\n"
                              "left and every host that may hold one answered: the local\n"
                              "cluster's hosts, those that answered at first and those that ran\n"
                              "the worm (within --timeout, default " WORMCTL_STR (S_WAIT_S)
                              " s). Else exits 1 and says,\n"
                              "one line a host, which segments may survive and where.\n");
    if (rc >= 0)
        return rc;
    if (!name || index < argc || !worm_name_valid (name))
        return wormctl_usage_error (client, "%s",
                                    !name          ? "name the worm (see wormctl kill --help)"
                                    : index < argc ? "unexpected argument"
                                                   : "the name is not [A-Za-z0-9._-]{1,64}");
    rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    char err[512];
    wormctl_segments_t *found = calloc (1, sizeof *found);
    wormctl_segments_t *first = calloc (1, sizeof *first);
    wormctl_found_t *hosts = calloc (1, sizeof *hosts);
    wormctl_told_t *told = calloc (1, sizeof *told);
    wormctl_found_t *later = calloc (1, sizeof *later);        //  agents of the last poll
    //  The hosts that must answer before we may say the worm is gone: the
    //  local cluster's, those that answered at first, those that ran it
    char (*wanted)[65] = calloc (WORMCTL_MAX_HOSTS * 3, sizeof *wanted);
    int nwanted = 0;
    s_kills_t kills = {.sent_to = calloc (1, sizeof (wormctl_told_t)),
                       .refused = calloc (WORMCTL_MAX_HOSTS, sizeof *kills.refused),
                       .refused_why = calloc (WORMCTL_MAX_HOSTS, sizeof *kills.refused_why)};
    rc = 1;
    if (wormctl_find_segments (client, name, false, first, hosts, err, sizeof err)) {
        if (zsys_interrupted)
            wormctl_say_interrupted (client, "no kill was sent; worm %s keeps running", name);
        else
            fprintf (stderr, "wormctl kill: %s\n", err);
        goto done;
    }
    wormctl_report_silent (client, first, told);
    wormctl_cluster_t cluster;
    if (!client->broadcast[0] && !client->interface[0]
        && wormctl_cluster_read (client->dir, &cluster, err, sizeof err) == 0)
        for (int i = 0; i < cluster.hosts; i++)
            snprintf (wanted[nwanted++], sizeof wanted[0], "host%d", i + 1);
    for (int h = 0; h < hosts->count; h++) {
        char untrusted[256];
        if (wormctl_host_trusted (client, &hosts->hosts[h], untrusted, sizeof untrusted))
            snprintf (wanted[nwanted++], sizeof wanted[0], "%s", hosts->hosts[h].name);
    }
    for (int i = 0; i < first->count && nwanted < WORMCTL_MAX_HOSTS * 3; i++)
        snprintf (wanted[nwanted++], sizeof wanted[0], "%s", first->items[i].host);
    //  Through the token: one segment puts the kill flag in it
    for (int i = 0; i < first->count && !zsys_interrupted; i++) {
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        int asked = worm_ctl_request (first->items[i].endpoint, first->items[i].key, "kill", NULL,
                                      NULL, 1000, &reply, err, sizeof err);
        worm_wire_reader_fini (&reply);
        if (asked == 0)
            break;
    }
    //  Through every agent, independently of the token (and, below, to
    //  every agent that answers later)
    const char *worm_id = first->count ? first->items[0].worm_id : "";
    s_kill_agents (client, hosts, name, worm_id, &kills);
    int64_t deadline = worm_now_ms () + wormctl_timeout_ms (client, S_WAIT_S);
    bool gone = false;
    //  Polls ask the agents we know at once; a query for hosts that came
    //  since (a broadcast, then the wait for its last answer: ~0.3 s) only
    //  every S_QUERY_EVERY_MS, and before we say the worm is gone
    *later = *hosts;
    int64_t next_query = worm_now_ms () + S_QUERY_EVERY_MS;
    bool queried = false;
    while (!zsys_interrupted) {
        bool query = worm_now_ms () >= next_query;
        if (query)
            next_query = worm_now_ms () + S_QUERY_EVERY_MS;
        int asked = query ? wormctl_find_segments (client, name, false, found, later, err,
                                                   sizeof err)
                          : wormctl_find_segments_at (client, name, false, found, later, err,
                                                      sizeof err);
        queried |= query;
        if (asked == 0) {
            wormctl_report_silent (client, found, told);
            s_kill_agents (client, later, name, worm_id, &kills);
            gone = found->count == 0;
            for (int k = 0; k < nwanted; k++)
                gone &= wormctl_host_answered (found, wanted[k]);
            if (gone && !queried) {
                //  None left where we know: ask the LAN once more
                next_query = 0;
                gone = false;
                continue;
            }
            if (gone)
                break;
        }
        if (worm_now_ms () >= deadline)
            break;
        wormctl_sleep (100);
    }
    if (zsys_interrupted) {
        char left[1024];
        wormctl_host_list (first, left, sizeof left);
        wormctl_say_interrupted (client,
                                 "the kill reached %d of %d host agent(s); worm %s may still "
                                 "run%s%s (wormctl find %s)",
                                 kills.sent, hosts->count, name, first->count ? " on " : "",
                                 first->count ? left : "", name);
        goto done;
    }
    if (gone) {
        printf ("worm %s killed: %d segment(s) gone\n", name, first->count);
        rc = 0;
        goto done;
    }
    //  Say what may survive, and where: one line a host
    fprintf (stderr, "wormctl kill: worm %s may survive after %d ms:\n", name,
             wormctl_timeout_ms (client, S_WAIT_S));
    wormctl_told_t *said = calloc (1, sizeof *said);
    for (int i = 0; i < found->count; i++) {
        const char *host = found->items[i].host;
        const char *why = NULL;
        for (int k = 0; k < kills.nrefused; k++)
            if (strcmp (kills.refused[k], host) == 0)
                why = kills.refused_why[k];
        fprintf (stderr, "  a segment still runs on %s (pid %llu)%s%s\n", host,
                 (unsigned long long) found->items[i].pid, why ? "; its agent refused the kill: "
                                                               : "", why ? why : "");
        wormctl_tell_once (said, host);
    }
    for (int k = 0; k < nwanted; k++) {
        if (wormctl_host_answered (found, wanted[k]) || !wormctl_tell_once (said, wanted[k]))
            continue;
        const char *why = "it did not answer the query";
        for (int i = 0; i < found->silent; i++)
            if (strcmp (found->silent_name[i], wanted[k]) == 0)
                why = found->silent_why[i];
        char ran[256] = "";
        for (int i = 0; i < first->count; i++)
            if (strcmp (first->items[i].host, wanted[k]) == 0) {
                size_t used = strlen (ran);
                snprintf (ran + used, sizeof ran - used, "%s%llu", used ? ", " : "",
                          (unsigned long long) first->items[i].pid);
            }
        if (ran[0])
            fprintf (stderr, "  %s, which ran segment pid %s, cannot tell whether it is gone "
                             "(%s)\n", wanted[k], ran, why);
        else
            fprintf (stderr, "  %s may run a segment: cannot ask it (%s)\n", wanted[k], why);
    }
    free (said);
done:
    free (later);
    free (kills.sent_to);
    free (kills.refused_why);
    free (kills.refused);
    free (wanted);
    free (told);
    free (hosts);
    free (first);
    free (found);
    return rc;
}

const wormctl_command_t wormctl_kill_commands[] = {
    {"kill", "NAME", "kill every segment of the worm",
     "how long to wait for every segment to be gone (default " WORMCTL_STR (S_WAIT_S)
     " s), and meanwhile for " WORMCTL_SEARCH_TIMEOUT,
     true, s_cmd_kill},
    {NULL, NULL, NULL, NULL, false, NULL},
};
