/*  worm-segment — one segment of a worm; started by a host agent. */
#include "app.h"
#include "log.h"
#include "opts.h"
#include "segment.h"

#include <czmq.h>

static const worm_opt_t s_options[] = {
    {"found", NULL, "found a new worm (the first segment)"},
    {"join", NULL, "join an existing worm (spawned by one of its segments)"},
    {"worm-id", "ID", "the worm's id"},
    {"name", "NAME", "the worm's name"},
    {"app", "APP", "the app the worm runs"},
    {"size", "N", "found: target population"},
    {"max", "M", "found: hard cap (default size+1)"},
    {"param", "K=V", "found: an app parameter (repeatable)"},
    {"spawner", "ENDPOINT", "join: the segment that spawned this one"},
    {"spawn-id", "ID", "join: the spawn this segment answers"},
    {"hold", "MS", "pacing: how long each holder keeps the token (default 100)"},
    {"orphan-timeout", "MS", "exit after this long without a token (default 60000)"},
    {"help", NULL, "print this help"},
    {NULL, NULL, NULL},
};

static int
s_set (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    worm_segment_config_t *config = (worm_segment_config_t *) arg;
    long number;
    struct {
        const char *name;
        char *dest;
        size_t size;
    } strings[] = {
        {"worm-id", config->worm_id, sizeof config->worm_id},
        {"name", config->worm, sizeof config->worm},
        {"app", config->app, sizeof config->app},
        {"spawner", config->spawner, sizeof config->spawner},
        {"spawn-id", config->spawn_id, sizeof config->spawn_id},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (strcmp (name, strings[i].name) == 0) {
            if (strlen (value) >= strings[i].size) {
                snprintf (err, cap, "longer than %zu characters", strings[i].size - 1);
                return -1;
            }
            snprintf (strings[i].dest, strings[i].size, "%s", value);
            return 0;
        }
    if (strcmp (name, "found") == 0)
        config->found = true;
    else if (strcmp (name, "join") == 0)
        config->found = false;
    else if (strcmp (name, "size") == 0 || strcmp (name, "max") == 0) {
        if (worm_parse_int (value, 1, WORM_TOKEN_MAX_MEMBERS, &number, err, cap))
            return -1;
        *(strcmp (name, "size") == 0 ? &config->size : &config->max) = (uint32_t) number;
    }
    else if (strcmp (name, "hold") == 0 || strcmp (name, "orphan-timeout") == 0) {
        if (worm_parse_int (value, 1, 3600000, &number, err, cap))
            return -1;
        *(strcmp (name, "hold") == 0 ? &config->hold_ms : &config->orphan_ms) = (uint64_t) number;
    }
    else if (strcmp (name, "param") == 0) {
        if (config->nparams >= WORM_TOKEN_MAX_PARAMS || strlen (value) >= WORM_TOKEN_PARAM_MAX
            || !strchr (value, '=') || value[0] == '=') {
            snprintf (err, cap, "'%s' is not KEY=VALUE (at most %d of them)", value,
                      WORM_TOKEN_MAX_PARAMS);
            return -1;
        }
        snprintf (config->params[config->nparams++], WORM_TOKEN_PARAM_MAX, "%s", value);
    }
    return 0;
}

int
main (int argc, char **argv)
{
    worm_segment_config_t config = {.found = false};
    char err[512];
    int index = 1;
    bool help = false;
    for (int i = 1; i < argc; i++)
        help |= strcmp (argv[i], "--help") == 0;
    if (help) {
        printf ("Usage: worm-segment (--found | --join) [OPTIONS]\n\n"
                "One segment of a worm. Host agents start it (wormctl launch, or a segment\n"
                "growing its worm); it is not meant to be run by hand.\n\nOptions:\n");
        worm_opts_help (stdout, s_options);
        return 0;
    }
    worm_log_init ("worm-segment", NULL);
    if (worm_opts_parse (s_options, argc, argv, &index, s_set, &config, err, sizeof err)
        || index < argc) {
        fprintf (stderr, "worm-segment: %s\n", index < argc ? "unexpected argument" : err);
        return 2;
    }
    if (!config.worm_id[0] || !config.worm[0] || !config.app[0]) {
        fprintf (stderr, "worm-segment: --worm-id, --name and --app are required\n");
        return 2;
    }
    if (config.found && !config.size) {
        fprintf (stderr, "worm-segment: --found needs --size\n");
        return 2;
    }
    if (config.found && !config.max)
        config.max = config.size + 1 <= WORM_TOKEN_MAX_MEMBERS ? config.size + 1 : config.size;
    if (!config.found && (!config.spawner[0] || !config.spawn_id[0])) {
        fprintf (stderr, "worm-segment: --join needs --spawner and --spawn-id\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    int rc = worm_segment_run (&config, err, sizeof err);
    if (rc)
        worm_log ("cannot start: %s", err);
    return rc;
}
