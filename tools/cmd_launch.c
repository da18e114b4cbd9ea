/*  cmd_launch.c — wormctl launch: places a worm's founding segment on a
    willing host (worm/place.h), then watches through the agents (worms.h)
    until the worm has grown to its size.
*/
#include "client.h"
#include "commands.h"
#include "log.h"
#include "place.h"
#include "random.h"
#include "segspec.h"
#include "worms.h"

#define S_WAIT_S 30     //  --timeout's default: the wait for N live segments

//  worm_place's question between hosts: stop when we are interrupted.
static bool
s_place_cancelled (void *arg)
{
    (void) arg;
    return zsys_interrupted != 0;
}

typedef struct {
    char app[65];               //  --app
    long size, max, hold;       //  --size, --max, --hold
    const char *params[WORM_TOKEN_MAX_PARAMS];  //  --param K=V
    int nparams;                //  how many
    bool help;                  //  --help
} s_launch_t;

static int
s_launch_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_launch_t *launch = (s_launch_t *) arg;
    if (strcmp (name, "help") == 0)
        launch->help = true;
    else if (strcmp (name, "app") == 0) {
        if (!wormctl_app_known (value)) {
            char names[256] = "";
            for (int i = 0; wormctl_app_names[i]; i++) {
                size_t used = strlen (names);
                snprintf (names + used, sizeof names - used, "%s%s", used ? ", " : "",
                          wormctl_app_names[i]);
            }
            snprintf (err, cap, "no app named '%s' (apps: %s)", value, names);
            return -1;
        }
        snprintf (launch->app, sizeof launch->app, "%s", value);
    }
    else if (strcmp (name, "size") == 0)
        return worm_parse_int (value, 1, WORM_TOKEN_MAX_MEMBERS, &launch->size, err, cap);
    else if (strcmp (name, "max") == 0)
        return worm_parse_int (value, 1, WORM_TOKEN_MAX_MEMBERS, &launch->max, err, cap);
    else if (strcmp (name, "hold") == 0)
        return worm_parse_int (value, 1, 60000, &launch->hold, err, cap);
    else if (strcmp (name, "param") == 0) {
        if (!strchr (value, '=') || value[0] == '=' || strlen (value) >= WORM_TOKEN_PARAM_MAX
            || launch->nparams >= WORM_TOKEN_MAX_PARAMS) {
            snprintf (err, cap, "'%s' is not KEY=VALUE", value);
            return -1;
        }
        launch->params[launch->nparams++] = value;
    }
    return 0;
}

//  wormctl launch: founds worm NAME on a willing host and waits until it has grown to --size.
static int
s_cmd_launch (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"app", "APP", "the app the worm runs (existential: none)"},
        {"size", "N", "how many segments the worm keeps (1 to 64)"},
        {"max", "M", "hard cap on segments, spawns in flight included (default N+1)"},
        {"param", "K=V", "an app parameter (repeatable)"},
        {"hold", "MS", "how long each segment keeps the token (default 100)"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    s_launch_t launch = {.size = 0};
    char err[512];
    const char *name = argc > 0 && strncmp (argv[0], "--", 2) ? argv[0] : NULL;
    int index = name ? 1 : 0;
    if (worm_opts_parse (options, argc, argv, &index, s_launch_option, &launch, err,
                         sizeof err))
        return wormctl_usage_error (client, "%s", err);
    if (launch.help || client->help) {
        wormctl_help (client,
                      "Usage: wormctl [GLOBAL OPTIONS] launch NAME --app APP --size N "
                      "[OPTIONS]\n\n"
                      "Finds a willing host and starts the worm's first segment there; the worm\n"
                      "then grows itself to N segments, one per willing host. Exits 0 once N are\n"
                      "live; after --timeout (default " WORMCTL_STR (S_WAIT_S) " s) exits 1 with "
                      "the reason, and the worm\n"
                      "keeps running under-populated, growing as hosts become willing.\n",
                      options);
        return 0;
    }
    const char *problem = !name                 ? "name the worm"
                          : index < argc        ? "unexpected argument"
                          : !launch.app[0]      ? "say which app with --app"
                          : !launch.size        ? "say how many segments with --size"
                          : !worm_name_valid (name) ? "the name is not [A-Za-z0-9._-]{1,64}"
                                                : NULL;
    if (!launch.max)
        launch.max = launch.size < WORM_TOKEN_MAX_MEMBERS ? launch.size + 1 : launch.size;
    if (!problem && launch.max < launch.size)
        problem = "--max is below --size";
    if (problem)
        return wormctl_usage_error (client, "%s (see wormctl launch --help)", problem);
    int rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    wormctl_segments_t *found = calloc (1, sizeof *found);
    wormctl_told_t *told = calloc (1, sizeof *told);
    rc = 1;
    if (wormctl_find_segments (client, name, false, found, NULL, err, sizeof err)) {
        if (zsys_interrupted)
            wormctl_say_interrupted (client, "nothing was started");
        else
            fprintf (stderr, "wormctl launch: %s\n", err);
        goto done;
    }
    wormctl_report_silent (client, found, told);
    if (found->count) {
        char hosts[1024];
        wormctl_host_list (found, hosts, sizeof hosts);
        fprintf (stderr, "wormctl launch: worm %s already runs on %s\n", name, hosts);
        goto done;
    }
    worm_lan_t lan;
    int cluster_size;
    if (wormctl_lan (client, &lan, &cluster_size, err, sizeof err)) {
        fprintf (stderr, "wormctl launch: %s\n", err);
        goto done;
    }
    //  The first segment founds the worm
    worm_segspec_t founder = {.found = true,
                              .size = (uint32_t) launch.size,
                              .max = (uint32_t) launch.max,
                              .hold_ms = (uint64_t) (launch.hold ? launch.hold : 100),
                              .nparams = launch.nparams};
    char *worm_id = founder.worm_id;
    worm_random_hex (worm_id, 16);
    snprintf (founder.worm, sizeof founder.worm, "%s", name);
    snprintf (founder.app, sizeof founder.app, "%s", launch.app);
    for (int i = 0; i < launch.nparams; i++)
        snprintf (founder.params[i], sizeof founder.params[i], "%s", launch.params[i]);
    if (worm_segspec_check (&founder, err, sizeof err)) {
        fprintf (stderr, "wormctl launch: %s\n", err);
        rc = WORMCTL_EXIT_USAGE;
        goto done;
    }
    //  The worm's own keypair: its segments serve and speak with it
    zcert_t *worm_cert = zcert_new ();
    worm_place_t spec = {.worm = name, .segment = &founder, .timeout_ms = 1000,
                         .worm_public = zcert_public_txt (worm_cert),
                         .worm_secret = zcert_secret_txt (worm_cert), .trusted = client->trusted,
                         .cancelled = s_place_cancelled};
    worm_hostinfo_t host;
    pid_t pid;
    int placed = worm_place (&lan, &spec, &host, &pid, err, sizeof err);
    zcert_destroy (&worm_cert);
    if (placed && zsys_interrupted) {
        //  A spawn request may have gone out before its reply was cut short
        wormctl_say_interrupted (client,
                                 "worm %s may have started on a host before its answer came "
                                 "(wormctl find %s; wormctl kill %s to stop it)",
                                 name, name, name);
        goto done;
    }
    if (placed) {
        fprintf (stderr, "wormctl launch: cannot start worm %s: %s\n", name, err);
        goto done;
    }
    printf ("worm %s (id %s, app %s) founded on %s, pid %d; growing to %ld\n", name, worm_id,
            launch.app, host.name, (int) pid, launch.size);
    fflush (stdout);
    int64_t deadline = worm_now_ms () + wormctl_timeout_ms (client, S_WAIT_S);
    int shown = -1;
    int processes = 1;      //  segment processes last seen (the founder, at first)
    while (worm_now_ms () < deadline) {
        if (wormctl_find_segments (client, name, true, found, NULL, err, sizeof err) == 0) {
            wormctl_report_silent (client, found, told);
            if (found->count > processes || found->silent == 0)
                processes = found->count;
            uint64_t live = 0;
            for (int i = 0; i < found->count; i++)
                if (found->items[i].answered && found->items[i].live > live)
                    live = found->items[i].live;
            int running = found->count < (int) live ? found->count : (int) live;
            if (running != shown) {
                printf ("%s: %d/%ld segments live\n", name, running, launch.size);
                fflush (stdout);
                shown = running;
            }
            if (running >= launch.size) {
                rc = 0;
                goto done;
            }
        }
        if (wormctl_sleep (200) || zsys_interrupted) {
            wormctl_say_interrupted (client,
                                     "worm %s keeps running with %d segment(s) (wormctl kill "
                                     "%s to stop it)",
                                     name, processes > 0 ? processes : 1, name);
            goto done;
        }
    }
    //  How many hosts the worm could use now: willing ones and those it holds
    wormctl_found_t *willing = calloc (1, sizeof *willing);
    worm_discover (&lan, false, 500, 100, wormctl_collect, willing, err, sizeof err);
    if (wormctl_find_segments (client, name, false, found, NULL, err, sizeof err) == 0)
        processes = found->count;
    if (zsys_interrupted) {
        wormctl_say_interrupted (client, "worm %s keeps running with %d segment(s) (wormctl kill "
                                     "%s to stop it)",
                           name, processes > 0 ? processes : 1, name);
        free (willing);
        goto done;
    }
    int usable = willing->count;
    for (int i = 0; i < found->count; i++) {
        bool counted = false;
        for (int k = 0; k < willing->count; k++)
            counted |= strcmp (willing->hosts[k].name, found->items[i].host) == 0;
        usable += !counted;
    }
    fprintf (stderr,
             "wormctl launch: worm %s has %d of %ld segments after %d ms: only %d willing "
             "host(s) now; it keeps running and grows when hosts become willing\n",
             name, shown < 0 ? 0 : shown, launch.size, wormctl_timeout_ms (client, S_WAIT_S),
             usable);
    free (willing);
done:
    free (told);
    free (found);
    return rc;
}

const wormctl_command_t wormctl_launch_commands[] = {
    {"launch", "NAME --app APP --size N", "start a worm that keeps N segments",
     "how long to wait for N live segments (default " WORMCTL_STR (S_WAIT_S)
     " s), and meanwhile for " WORMCTL_SEARCH_TIMEOUT,
     true, s_cmd_launch},
    {NULL, NULL, NULL, NULL, false, NULL},
};
