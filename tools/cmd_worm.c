/*  cmd_worm.c — wormctl's commands that look at worms: find (a worm's
    segments) and status (each worm as its segments see it), both through
    the host agents (worms.h).
*/
#include "client.h"
#include "print.h"
#include "worms.h"

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

//  wormctl status: prints each worm (or NAME) as its freshest segment sees it.
static int
s_cmd_status (wormctl_client_t *client, int argc, char **argv)
{
    const char *name;
    int rc = wormctl_named (client, wormctl_json_options, argc, argv,
                            "Usage: wormctl [GLOBAL OPTIONS] status [NAME] [--json]\n\n"
                            "Each worm seen (or only NAME): its app, live population in its\n"
                            "token and target, epoch, last round time, segment processes.\n"
                            "Exits 1 when no host answered (every one refused, or none was\n"
                            "there); a host that did not answer is named on stderr.\n",
                            NULL, &name);
    if (rc >= 0)
        return rc;
    if (name && !worm_name_valid (name))
        return wormctl_usage_error (client, "the name is not [A-Za-z0-9._-]{1,64}");
    rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
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
        const wormctl_segment_t *best = NULL;
        int processes = 0;
        for (int k = i; k < found->count; k++)
            if (strcmp (found->items[k].worm, found->items[i].worm) == 0) {
                processes++;
                const wormctl_segment_t *candidate = &found->items[k];
                if (candidate->answered && candidate->epoch &&
                    (!best || candidate->epoch > best->epoch ||
                     (candidate->epoch == best->epoch && candidate->holds_token)))
                    best = candidate;
            }
        const char *app = best ? best->app : "?";
        uint64_t live = best ? best->live : 0, target = best ? best->target : 0;
        uint64_t epoch = best ? best->epoch : 0, round = best ? best->round_ms : 0;
        if (client->json) {
            printf ("%s\n  {\"name\": ", shown ? "," : "");
            wormctl_json_string (stdout, found->items[i].worm);
            printf (", \"app\": ");
            wormctl_json_string (stdout, app);
            printf (", \"size\": %llu, \"target\": %llu, \"epoch\": %llu, \"round_ms\": %llu, "
                    "\"segments\": %d}",
                    (unsigned long long) live, (unsigned long long) target,
                    (unsigned long long) epoch, (unsigned long long) round, processes);
        }
        else {
            char size[32], round_text[32];
            snprintf (size, sizeof size, "%llu/%llu", (unsigned long long) live,
                      (unsigned long long) target);
            snprintf (round_text, sizeof round_text, "%llu ms", (unsigned long long) round);
            printf ("%-20s %-12s %-9s %-8llu %-10s %d\n", found->items[i].worm, app, size,
                    (unsigned long long) epoch, round_text, processes);
        }
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
    {"status", "[NAME] [--json]", "each worm: app, size/target, epoch, round", S_SEARCH, true,
     s_cmd_status},
    {NULL, NULL, NULL, NULL, false, NULL},
};
