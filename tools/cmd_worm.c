/*  cmd_worm.c — wormctl's commands that look at worms: find (a worm's
    segments) and status (each worm as its segments see it), both through
    the host agents (worms.h).
*/
#include "client.h"
#include "print.h"
#include "watch.h"
#include "worms.h"

#include "log.h"

//  wormctl find: prints worm NAME's segments; exits 1 when no host could tell.
static int
s_cmd_find (wormctl_client_t *client, int argc, char **argv)
{
    const char *name;
    int rc = wormctl_named (client, wormctl_json_options, argc, argv,
                            "Usage: wormctl [GLOBAL OPTIONS] find NAME [--json]\n\n"
                            "Every segment of worm NAME, found through the host agents (not\n"
                            "the token): id, host, pid, endpoint, and which holds the token.\n"
                            "Exits 1 when no host answered (every one refused, or none was\n"
                            "there); a host that did not answer is named on stderr.\n",
                            "name the worm", &name);
    if (rc >= 0)
        return rc;
    if (!worm_name_valid (name))
        return wormctl_usage_error (client, "the name is not [A-Za-z0-9._-]{1,64}");
    rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    wormctl_segments_t *found = wormctl_search (client, name);
    if (!found)
        return 1;
    if (client->json) {
        printf ("[");
        for (int i = 0; i < found->count; i++) {
            const wormctl_segment_t *segment = &found->items[i];
            printf ("%s\n  {\"id\": \"%s\", \"host\": ", i ? "," : "", segment->id);
            wormctl_json_string (stdout, segment->host);
            printf (", \"pid\": %llu, \"endpoint\": ", (unsigned long long) segment->pid);
            wormctl_json_string (stdout, segment->endpoint);
            printf (", \"key\": ");
            wormctl_json_string (stdout, segment->key);
            printf (", \"holds_token\": %s, \"state\": \"%s\", \"epoch\": %llu}",
                    segment->holds_token ? "true" : "false",
                    segment->answered || segment->evicting ? segment->state : "unreachable",
                    (unsigned long long) segment->epoch);
        }
        printf ("%s]\n", found->count ? "\n" : "");
    }
    else {
        printf ("%-24s %-16s %-8s %-26s %s\n", "ID", "HOST", "PID", "ENDPOINT", "TOKEN");
        for (int i = 0; i < found->count; i++) {
            const wormctl_segment_t *segment = &found->items[i];
            printf ("%-24s %-16s %-8llu %-26s %s\n", segment->id, segment->host,
                    (unsigned long long) segment->pid, segment->endpoint,
                    segment->holds_token ? "holds"
                    : segment->evicting  ? "(leaving: evicted)"
                    : segment->answered  ? ""
                                         : "(no answer)");
        }
        if (found->count == 0)
            fprintf (stderr, "wormctl find: no segment of worm %s on the %d host(s) that "
                             "answered\n", name, found->answered);
    }
    free (found);
    return 0;
}

//  The freshest view of worm i's token among its segments (latest epoch,
//  then seq, then the holder's), or NULL when none answered; *processes:
//  how many segments of that worm were found.
static const wormctl_segment_t *
s_freshest (const wormctl_segments_t *found, int i, int *processes)
{
    const wormctl_segment_t *best = NULL;
    *processes = 0;
    for (int k = i; k < found->count; k++)
        if (strcmp (found->items[k].worm, found->items[i].worm) == 0) {
            (*processes)++;
            const wormctl_segment_t *c = &found->items[k];
            if (c->answered && c->epoch
                && (!best || c->epoch > best->epoch
                    || (c->epoch == best->epoch
                        && (c->seq > best->seq || (c->seq == best->seq && c->holds_token)))))
                best = c;
        }
    return best;
}

//  Prints worm i's row: as a JSON object (at_ms > 0: with the time it was
//  seen, one object a line), or as a table row.
static void
s_status_row (const wormctl_client_t *client, const wormctl_segments_t *found, int i,
              int64_t at_ms, bool first)
{
    int processes;
    const wormctl_segment_t *best = s_freshest (found, i, &processes);
    const char *app = best ? best->app : "?";
    unsigned long long live = best ? best->live : 0, target = best ? best->target : 0;
    unsigned long long epoch = best ? best->epoch : 0, seq = best ? best->seq : 0;
    unsigned long long round = best ? best->round_ms : 0;
    int answered = 0;
    for (int k = i; k < found->count; k++)
        answered += strcmp (found->items[k].worm, found->items[i].worm) == 0
                    && found->items[k].answered;
    if (client->json) {
        printf ("%s{", at_ms ? "" : first ? "\n  " : ",\n  ");
        if (at_ms)
            printf ("\"at_ms\": %lld, ", (long long) at_ms);
        printf ("\"name\": ");
        wormctl_json_string (stdout, found->items[i].worm);
        printf (", \"app\": ");
        wormctl_json_string (stdout, app);
        printf (", \"size\": %llu, \"target\": %llu, \"epoch\": %llu, \"seq\": %llu, "
                "\"round_ms\": %llu, \"segments\": %d, \"answered\": %d, \"pids\": [",
                live, target, epoch, seq, round, processes, answered);
        for (int k = 0; best && k < best->live_pids_count; k++)
            printf ("%s%llu", k ? ", " : "", (unsigned long long) best->live_pids[k]);
        printf ("]}%s", at_ms ? "\n" : "");
        return;
    }
    char size[32], round_text[32], when[32] = "";
    snprintf (size, sizeof size, "%llu/%llu", live, target);
    snprintf (round_text, sizeof round_text, "%llu ms", round);
    if (at_ms) {
        time_t secs = (time_t) (at_ms / 1000);
        struct tm tm;
        localtime_r (&secs, &tm);
        snprintf (when, sizeof when, "%02d:%02d:%02d.%03d ", tm.tm_hour, tm.tm_min, tm.tm_sec,
                  (int) (at_ms % 1000));
    }
    printf ("%s%-20s %-12s %-9s %-8llu %-10s %d\n", when, found->items[i].worm, app, size, epoch,
            round_text, processes);
}

typedef struct {
    const wormctl_client_t *client;
    const char *name;
} s_watch_t;

//  status --watch: one line a poll
static void
s_watch_line (void *arg, const wormctl_segments_t *view, int64_t at_ms)
{
    s_watch_t *watch = (s_watch_t *) arg;
    if (view->count)
        s_status_row (watch->client, view, 0, at_ms, true);
    else if (watch->client->json) {
        printf ("{\"at_ms\": %lld, \"name\": ", (long long) at_ms);
        wormctl_json_string (stdout, watch->name);
        printf (", \"segments\": 0}\n");
    }
    else
        printf ("%s: no segment found\n", watch->name);
    fflush (stdout);
}

static int
s_status_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    long *watch_ms = (long *) arg;
    if (strcmp (name, "watch") == 0)
        return worm_parse_int (value, 10, 3600000, watch_ms, err, cap);
    return 0;
}

//  wormctl status: prints each worm (or NAME) as its freshest segment sees it.
static int
s_cmd_status (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"json", NULL, "print a JSON array of objects (with --watch: one object a line)"},
        {"watch", "MS", "worm NAME only: again every MS milliseconds (10 or more), a line "
                        "each with the time, until interrupted"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    int index = 0;
    const char *name = argc > 0 && strncmp (argv[0], "--", 2) ? argv[index++] : NULL;
    int first_option = index;
    char err[512];
    //  Twice: --watch here, and --json and --help into the client
    long watch_ms = 0;
    if (worm_opts_parse (options, argc, argv, &index, s_status_option, &watch_ms, err,
                         sizeof err))
        return wormctl_usage_error (client, "%s", err);
    index = first_option;
    int rc = wormctl_options (client, options, argc, argv, &index,
                              "Usage: wormctl [GLOBAL OPTIONS] status [NAME] [--json] "
                              "[--watch MS]\n\n"
                              "Each worm seen (or only NAME): its app, live population in its\n"
                              "token and target, epoch, last round time, segment processes:\n"
                              "as the segment with the freshest copy of the token (latest epoch\n"
                              "and hop) sees it. Exits 1 when no host answered (every one\n"
                              "refused, or none was there); a host that did not answer is named\n"
                              "on stderr. --watch keeps a connection to each of NAME's segments\n"
                              "(found through the host agents once a second), asks them every MS\n"
                              "ms and prints a line each time, with the time of the poll's end,\n"
                              "until Ctrl-C or SIGTERM.\n");
    if (rc >= 0)
        return rc;
    if (index < argc)
        return wormctl_usage_error (client, "unexpected argument '%s'", argv[index]);
    if (name && !worm_name_valid (name))
        return wormctl_usage_error (client, "the name is not [A-Za-z0-9._-]{1,64}");
    if (watch_ms && !name)
        return wormctl_usage_error (client, "--watch needs the worm's NAME");
    rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    if (watch_ms) {
        s_watch_t watch = {client, name};
        return wormctl_watch (client, name, (int) watch_ms, s_watch_line, &watch);
    }
    wormctl_segments_t *found = wormctl_search (client, name);
    if (!found)
        return 1;
    //  One row per worm: the freshest view among its segments
    int shown = 0;
    if (client->json)
        printf ("[");
    else
        printf ("%-20s %-12s %-9s %-8s %-10s %s\n", "NAME", "APP", "SIZE", "EPOCH", "ROUND",
                "SEGMENTS");
    for (int i = 0; i < found->count; i++) {
        bool seen = false;
        for (int k = 0; k < i; k++)
            seen |= strcmp (found->items[k].worm, found->items[i].worm) == 0;
        if (seen)
            continue;
        s_status_row (client, found, i, 0, shown == 0);
        shown++;
    }
    if (client->json)
        printf ("%s]\n", shown ? "\n" : "");
    else if (!shown)
        fprintf (stderr, "wormctl status: no worm seen on the %d host(s) that answered\n",
                 found->answered);
    free (found);
    return 0;
}

//  The agents a kill went to, and those that did not take it

#define S_SEARCH "how long to wait for " WORMCTL_SEARCH_TIMEOUT

const wormctl_command_t wormctl_worm_commands[] = {
    {"find", "NAME [--json]", "the worm's segments, through the agents", S_SEARCH, true,
     s_cmd_find},
    {"status", "[NAME] [--json] [--watch MS]", "each worm: app, size/target, epoch, round",
     S_SEARCH, true,
     s_cmd_status},
    {NULL, NULL, NULL, NULL, false, NULL},
};
