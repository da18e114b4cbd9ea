/*  cmd_hosts.c — wormctl's commands about hosts: hosts and willing (a
    broadcast query), registry, policy and evictions (a request to one host).
*/
#include "client.h"
#include "policy.h"
#include "print.h"

#include <time.h>

//  wormctl hosts: lists every host that answers a query.
static int
s_cmd_hosts (wormctl_client_t *client, int argc, char **argv)
{
    const char *name;
    int rc =
        wormctl_named (client, wormctl_json_options, argc, argv,
                       "Usage: wormctl [GLOBAL OPTIONS] hosts [--json]\n\n"
                       "Broadcasts a query and lists every host that answers within the timeout:\n"
                       "whether it is willing to take guests and why, its load, how long its user\n"
                       "has been idle, its guests and its control endpoint.\n",
                       NULL, &name);
    if (rc >= 0)
        return rc;
    if (name)
        return wormctl_usage_error (client, "unexpected argument '%s'", name);
    char err[512];
    wormctl_found_t *found = calloc (1, sizeof *found);
    if (wormctl_find_hosts (client, found, err, sizeof err)) {
        fprintf (stderr, "wormctl hosts: %s\n", err);
        free (found);
        return 1;
    }
    wormctl_print_hosts (found->hosts, found->count, NULL, client->json);
    if (found->count == 0)
        fprintf (stderr, "wormctl hosts: no host answered within %d ms\n",
                 wormctl_timeout_ms (client, WORMCTL_QUERY_S));
    free (found);
    return 0;
}

//  wormctl willing: lists the willing hosts in the order their answers came.
static int
s_cmd_willing (wormctl_client_t *client, int argc, char **argv)
{
    const char *name;
    int rc = wormctl_named (
        client, wormctl_json_options, argc, argv,
        "Usage: wormctl [GLOBAL OPTIONS] willing [--json]\n\n"
        "Broadcasts \"who is willing?\" and lists the willing hosts in the order their\n"
        "answers came, with when they came: each host waits in proportion to its load\n"
        "before answering, so the first is the least loaded.\n",
        NULL, &name);
    if (rc >= 0)
        return rc;
    if (name)
        return wormctl_usage_error (client, "unexpected argument '%s'", name);
    char err[512];
    worm_lan_t lan;
    int cluster_size;
    if (wormctl_lan (client, &lan, &cluster_size, err, sizeof err)) {
        fprintf (stderr, "wormctl willing: %s\n", err);
        return 1;
    }
    wormctl_found_t *found = calloc (1, sizeof *found);
    found->started_us = zclock_usecs ();
    int timeout = wormctl_timeout_ms (client, WORMCTL_QUERY_S);
    if (worm_discover (&lan, false, timeout, timeout < 300 ? timeout : 300, wormctl_collect, found,
                       err, sizeof err) < 0) {
        fprintf (stderr, "wormctl willing: %s\n", err);
        free (found);
        return 1;
    }
    wormctl_print_hosts (found->hosts, found->count, found->arrival_ms, client->json);
    if (found->count == 0)
        fprintf (stderr, "wormctl willing: no willing host answered within %d ms\n", timeout);
    free (found);
    return 0;
}

//  wormctl registry: prints the hosts that host NAME has heard.
static int
s_cmd_registry (wormctl_client_t *client, int argc, char **argv)
{
    const char *name;
    int rc = wormctl_named (client, wormctl_json_options, argc, argv,
                            "Usage: wormctl [GLOBAL OPTIONS] registry HOST [--json]\n\n"
                            "The hosts that HOST has heard announce themselves, as it last\n"
                            "heard them (its registry, like Sprite's reginfo).\n",
                            "name the host", &name);
    if (rc < 0)
        rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    const msgpack_object_array *list = NULL;
    rc = wormctl_ask_host (client, name, "registry", "hosts", WORMCTL_MAX_HOSTS, &reply, &list);
    if (rc == 0) {
        worm_hostinfo_t *heard = calloc (list->size + 1, sizeof *heard);
        uint32_t count = 0;
        for (uint32_t i = 0; i < list->size; i++)
            if (worm_hostinfo_read (&reply, &list->ptr[i], &heard[count]) == 0)
                count++;
        wormctl_print_hosts (heard, (int) count, NULL, client->json);
        free (heard);
    }
    worm_wire_reader_fini (&reply);
    return rc;
}

//  wormctl evictions: prints host NAME's eviction receipts.
static int
s_cmd_evictions (wormctl_client_t *client, int argc, char **argv)
{
    const char *name;
    int rc = wormctl_named (client, wormctl_json_options, argc, argv,
                            "Usage: wormctl [GLOBAL OPTIONS] evictions HOST [--json]\n\n"
                            "HOST's eviction receipts, oldest first: when, which guest of which\n"
                            "worm, why, how long from the decision until its processes were gone\n"
                            "(CPU released), the signals it took, and what was left over.\n",
                            "name the host", &name);
    if (rc < 0)
        rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    const msgpack_object_array *list = NULL;
    rc = wormctl_ask_host (client, name, "evictions", "evictions", 1024, &reply, &list);
    if (rc == 0) {
        if (client->json)
            printf ("[");
        else
            printf ("%-24s %-8s %-16s %-10s %-16s %-10s %s\n", "WHEN", "GUEST", "WORM",
                    "GONE AFTER", "SIGNALS", "LEFT OVER", "REASON");
        for (uint32_t i = 0; i < list->size; i++) {
            const msgpack_object *map = &list->ptr[i];
            char guest[32] = "", worm[65] = "", reason[96] = "", signals[32] = "";
            int64_t at = 0, released = 0;
            uint64_t processes = 0;
            bool files = false;
            if (worm_wire_get_str (&reply, map, "guest", guest, sizeof guest)
                || worm_wire_get_str (&reply, map, "worm", worm, sizeof worm)
                || worm_wire_get_str (&reply, map, "reason", reason, sizeof reason)
                || worm_wire_get_str (&reply, map, "signals", signals, sizeof signals)
                || worm_wire_get_i64 (&reply, map, "at", &at)
                || worm_wire_get_i64 (&reply, map, "released_ms", &released)
                || worm_wire_get_u64 (&reply, map, "leftover_processes", &processes)
                || worm_wire_get_bool (&reply, map, "leftover_files", &files))
                continue;
            if (client->json) {
                printf ("%s\n  {\"at_ms\": %lld, \"guest\": \"%s\", \"worm\": ", i ? "," : "",
                        (long long) at, guest);
                wormctl_json_string (stdout, worm);
                printf (", \"reason\": ");
                wormctl_json_string (stdout, reason);
                printf (", \"released_ms\": %lld, \"signals\": \"%s\", \"leftover_processes\": "
                        "%llu, \"leftover_files\": %s}",
                        (long long) released, signals, (unsigned long long) processes,
                        files ? "true" : "false");
            }
            else {
                char when[32], gone[24], left[32];
                time_t seconds = (time_t) (at / 1000);
                strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime (&seconds));
                snprintf (gone, sizeof gone, "%lld ms", (long long) released);
                snprintf (left, sizeof left, "nothing");
                if (processes || files)
                    snprintf (left, sizeof left, "%llu proc%s", (unsigned long long) processes,
                              files ? ", files" : "");
                printf ("%-24s %-8s %-16s %-10s %-16s %-10s %s\n", when, guest, worm, gone,
                        signals, left, reason);
            }
        }
        if (client->json)
            printf ("%s]\n", list->size ? "\n" : "");
        rc = 0;
    }
    worm_wire_reader_fini (&reply);
    return rc;
}

//  --------------------------------------------------------------------------
//  Policy

typedef struct {
    char keys[8][32];       //  policy fields to change
    double values[8];       //  their new values
    int count;              //  how many
} s_changes_t;

static int
s_policy_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    if (strcmp (name, "help") == 0) {
        ((s_changes_t *) arg)->count = -1;
        return 0;
    }
    s_changes_t *changes = (s_changes_t *) arg;
    double number;
    if (worm_parse_double (value, -1e300, 1e300, &number, err, cap))
        return -1;
    //  Check it the way the host will, so a typo fails before anything is sent
    worm_policy_t scratch;
    worm_policy_defaults (&scratch);
    char why[256];
    if (worm_policy_set (&scratch, name, number, why, sizeof why)) {
        const char *colon = strstr (why, ": ");
        snprintf (err, cap, "%s", colon ? colon + 2 : why);
        return -1;
    }
    if (changes->count >= 8)
        return 0;
    snprintf (changes->keys[changes->count], sizeof changes->keys[0], "%s", name);
    changes->values[changes->count++] = number;
    return 0;
}

//  wormctl policy: prints host NAME's policy, or changes the fields given.
static int
s_cmd_policy (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"max-segments", "N", "guests the host takes at most"},
        {"max-load", "F", "refuse guests above this 1-minute load"},
        {"min-idle", "SECONDS", "user idle time required"},
        {"min-free-mem", "PERCENT", "available memory required"},
        {"check-interval", "SECONDS", "availability check and beacon interval"},
        {"grace", "SECONDS", "SIGTERM to SIGKILL on eviction"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    char err[512];
    s_changes_t changes = {.count = 0};
    const char *host_name = NULL;
    int index = 0;
    if (argc > 0 && strncmp (argv[0], "--", 2) != 0) {
        host_name = argv[0];
        index = 1;
    }
    if (worm_opts_parse (options, argc, argv, &index, s_policy_option, &changes, err,
                         sizeof err))
        return wormctl_usage_error (client, "%s", err);
    if (changes.count < 0 || client->help) {
        wormctl_help (
            client,
            "Usage: wormctl [GLOBAL OPTIONS] policy HOST [OPTIONS]\n\n"
            "Prints the owner's policy of HOST, or changes the fields given at run time.\n"
            "Tightening it makes the host unwilling at once.\n",
            options);
        return 0;
    }
    if (!host_name || index < argc)
        return wormctl_usage_error (client, "%s",
                                    host_name ? "unexpected argument"
                                              : "name the host (see wormctl policy --help)");
    int rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    worm_hostinfo_t host;
    if (wormctl_find_host (client, host_name, &host, err, sizeof err)) {
        fprintf (stderr, "wormctl policy: %s\n", err);
        return 1;
    }
    rc = 1;
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", changes.count ? "policy-set" : "policy");
    if (changes.count) {
        worm_wire_key (&request, "policy");
        worm_wire_map_open (&request);
        for (int i = 0; i < changes.count; i++)
            worm_wire_kf64 (&request, changes.keys[i], changes.values[i]);
        worm_wire_map_close (&request);
    }
    worm_wire_map_close (&request);
    if (wormctl_host_call (client, &host, &request, wormctl_timeout_ms (client, WORMCTL_REQUEST_S),
                           &reply, err, sizeof err)) {
        fprintf (stderr, "wormctl policy: %s: %s\n", host_name, err);
        goto done;
    }
    const msgpack_object *policy;
    if (worm_wire_get_map (&reply, reply.root, "policy", &policy)) {
        fprintf (stderr, "wormctl policy: %s: bad reply: %s\n", host_name, reply.error);
        goto done;
    }
    for (int i = 0; worm_policy_keys[i]; i++) {
        double value = 0;
        worm_wire_get_f64 (&reply, policy, worm_policy_keys[i], &value);
        printf ("%-16s %g\n", worm_policy_keys[i], value);
    }
    rc = 0;
done:
    worm_wire_writer_fini (&request);
    worm_wire_reader_fini (&reply);
    return rc;
}


//  A host request waits --timeout after the query found the host
#define S_ONE_HOST "how long to wait for the query's answers, then for HOST's reply (default " \
                   WORMCTL_STR (WORMCTL_QUERY_S) " s, then " WORMCTL_STR (WORMCTL_REQUEST_S) " s)"
#define S_QUERY "how long to wait for the hosts' answers (default " \
                WORMCTL_STR (WORMCTL_QUERY_S) " s)"

const wormctl_command_t wormctl_hosts_commands[] = {
    {"hosts", "[--json]", "the hosts that answer, willing or not", S_QUERY, false, s_cmd_hosts},
    {"willing", "[--json]", "who is willing? answers in arrival order", S_QUERY, false,
     s_cmd_willing},
    {"registry", "HOST [--json]", "the hosts HOST has heard", S_ONE_HOST, true, s_cmd_registry},
    {"policy", "HOST [--max-segments N ...]", "print or change a host's policy", S_ONE_HOST,
     true, s_cmd_policy},
    {"evictions", "HOST [--json]", "HOST's eviction receipts", S_ONE_HOST, true,
     s_cmd_evictions},
    {NULL, NULL, NULL, NULL, false, NULL},
};
