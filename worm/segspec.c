/*  segspec.c — a segment's start, on the wire and on its command line.
    See segspec.h. */
#include "segspec.h"
#include "beacon.h"

#include <czmq.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const worm_opt_t worm_segspec_options[] = {
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
    {"spawner-host", "ID", "join: the host id of the spawner's agent (with --spawner-pid: "
                           "a joiner whose spawner is gone before it is let in exits)"},
    {"spawner-pid", "PID", "join: the spawner's process id on that host"},
    {"hold", "MS", "pacing: how long each holder keeps the token (default 100)"},
    {"orphan-timeout", "MS", "exit after this long without a token (default 60000)"},
    {"help", NULL, "print this help"},
    {NULL, NULL, NULL},
};

//  A name or id: [A-Za-z0-9._-], shorter than cap.
static int
s_check_name (const char *what, const char *value, size_t cap, char *err, size_t errcap)
{
    if (strlen (value) >= cap || !worm_name_valid (value)) {
        snprintf (err, errcap, "%s '%.64s' is not [A-Za-z0-9._-]{1,%zu}", what, value, cap - 1);
        return -1;
    }
    return 0;
}

static bool
s_param_valid (const char *param)
{
    const char *equals = strchr (param, '=');
    return equals && equals != param && strlen (param) < WORM_TOKEN_PARAM_MAX;
}

int
worm_segspec_check (worm_segspec_t *spec, char *err, size_t cap)
{
    if (s_check_name ("worm id", spec->worm_id, sizeof spec->worm_id, err, cap)
        || s_check_name ("worm name", spec->worm, sizeof spec->worm, err, cap)
        || s_check_name ("app", spec->app, sizeof spec->app, err, cap))
        return -1;
    if (spec->hold_ms > WORM_SEGSPEC_MAX_MS || spec->orphan_ms > WORM_SEGSPEC_MAX_MS) {
        snprintf (err, cap, "hold and orphan timeout are at most %d ms", WORM_SEGSPEC_MAX_MS);
        return -1;
    }
    if (spec->found) {
        if (spec->max == 0)
            spec->max = spec->size < WORM_TOKEN_MAX_MEMBERS ? spec->size + 1 : spec->size;
        if (spec->size < 1 || spec->size > spec->max || spec->max > WORM_TOKEN_MAX_MEMBERS) {
            snprintf (err, cap, "size %u and max %u are not 1 <= size <= max <= %d", spec->size,
                      spec->max, WORM_TOKEN_MAX_MEMBERS);
            return -1;
        }
        if (spec->nparams < 0 || spec->nparams > WORM_TOKEN_MAX_PARAMS) {
            snprintf (err, cap, "more than %d app parameters", WORM_TOKEN_MAX_PARAMS);
            return -1;
        }
        for (int i = 0; i < spec->nparams; i++)
            if (!s_param_valid (spec->params[i])) {
                snprintf (err, cap, "app parameter '%.64s' is not KEY=VALUE", spec->params[i]);
                return -1;
            }
        return 0;
    }
    if (strncmp (spec->spawner, "tcp://", 6) != 0) {
        snprintf (err, cap, "a joiner's spawner '%.64s' is not a tcp:// endpoint", spec->spawner);
        return -1;
    }
    //  A spawn id is the spawner's segment id, a slash and a number
    size_t len = strlen (spec->spawn_id);
    if (len < 1 || len >= sizeof spec->spawn_id
        || strspn (spec->spawn_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789._/-") != len) {
        snprintf (err, cap, "spawn id '%.64s' is not [A-Za-z0-9._/-]{1,%zu}", spec->spawn_id,
                  sizeof spec->spawn_id - 1);
        return -1;
    }
    if (spec->spawner_host[0]
        && s_check_name ("spawner host", spec->spawner_host, sizeof spec->spawner_host, err, cap))
        return -1;
    if (!spec->spawner_host[0] != !spec->spawner_pid) {
        snprintf (err, cap, "a joiner names its spawner's host and pid both or neither");
        return -1;
    }
    return 0;
}

bool
worm_segspec_spawner_id (const worm_segspec_t *spec, char *id, size_t cap)
{
    const char *slash = spec->found ? NULL : strrchr (spec->spawn_id, '/');
    snprintf (id, cap, "%.*s", slash ? (int) (slash - spec->spawn_id) : 0, spec->spawn_id);
    return slash && slash > spec->spawn_id;
}

void
worm_segspec_write (worm_wire_writer_t *writer, const worm_segspec_t *spec)
{
    worm_wire_map_open (writer);
    worm_wire_kstr (writer, "role", spec->found ? "found" : "join");
    worm_wire_kstr (writer, "worm_id", spec->worm_id);
    worm_wire_kstr (writer, "name", spec->worm);
    worm_wire_kstr (writer, "app", spec->app);
    worm_wire_ku64 (writer, "hold_ms", spec->hold_ms);
    worm_wire_ku64 (writer, "orphan_ms", spec->orphan_ms);
    if (spec->found) {
        worm_wire_ku64 (writer, "size", spec->size);
        worm_wire_ku64 (writer, "max", spec->max);
        worm_wire_key (writer, "params");
        worm_wire_array (writer, (size_t) spec->nparams);
        for (int i = 0; i < spec->nparams; i++)
            worm_wire_str (writer, spec->params[i]);
    }
    else {
        worm_wire_kstr (writer, "spawner", spec->spawner);
        worm_wire_kstr (writer, "spawn_id", spec->spawn_id);
        if (spec->spawner_host[0]) {
            worm_wire_kstr (writer, "spawner_host", spec->spawner_host);
            worm_wire_ku64 (writer, "spawner_pid", spec->spawner_pid);
        }
    }
    worm_wire_map_close (writer);
}

int
worm_segspec_read (worm_wire_reader_t *reader, const msgpack_object *obj, worm_segspec_t *spec,
                   char *err, size_t cap)
{
    memset (spec, 0, sizeof *spec);
    char role[WORM_SEGSPEC_ROLE_MAX + 1];
    uint64_t size = 0, max = 0;
    const msgpack_object_array *params = NULL;
    if (worm_wire_get_str (reader, obj, "role", role, sizeof role)
        || worm_wire_get_str (reader, obj, "worm_id", spec->worm_id, sizeof spec->worm_id)
        || worm_wire_get_str (reader, obj, "name", spec->worm, sizeof spec->worm)
        || worm_wire_get_str (reader, obj, "app", spec->app, sizeof spec->app)
        || worm_wire_get_u64 (reader, obj, "hold_ms", &spec->hold_ms) == -1
        || worm_wire_get_u64 (reader, obj, "orphan_ms", &spec->orphan_ms) == -1
        || worm_wire_get_u64 (reader, obj, "size", &size) == -1
        || worm_wire_get_u64 (reader, obj, "max", &max) == -1
        || worm_wire_get_array (reader, obj, "params", &params, WORM_TOKEN_MAX_PARAMS) == -1
        || worm_wire_get_str (reader, obj, "spawner", spec->spawner, sizeof spec->spawner) == -1
        || worm_wire_get_str (reader, obj, "spawn_id", spec->spawn_id, sizeof spec->spawn_id)
               == -1
        || worm_wire_get_str (reader, obj, "spawner_host", spec->spawner_host,
                              sizeof spec->spawner_host) == -1
        || worm_wire_get_u64 (reader, obj, "spawner_pid", &spec->spawner_pid) == -1) {
        snprintf (err, cap, "segment: %s", reader->error);
        return -1;
    }
    if (!streq (role, "found") && !streq (role, "join")) {
        snprintf (err, cap, "segment: role '%s' is neither found nor join", role);
        return -1;
    }
    spec->found = streq (role, "found");
    if (size > WORM_TOKEN_MAX_MEMBERS || max > WORM_TOKEN_MAX_MEMBERS) {
        snprintf (err, cap, "segment: size and max are at most %d", WORM_TOKEN_MAX_MEMBERS);
        return -1;
    }
    spec->size = (uint32_t) size;
    spec->max = (uint32_t) max;
    for (uint32_t i = 0; params && i < params->size; i++)
        if (worm_wire_obj_str (reader, &params->ptr[i], "segment: params[]",
                               spec->params[spec->nparams++], WORM_TOKEN_PARAM_MAX)) {
            snprintf (err, cap, "%s", reader->error);
            return -1;
        }
    return worm_segspec_check (spec, err, cap);
}

static void
s_add (char **argv, int *n, const char *name, const char *value)
{
    argv[(*n)++] = value ? zsys_sprintf ("--%s=%s", name, value) : zsys_sprintf ("--%s", name);
}

int
worm_segspec_argv (const worm_segspec_t *spec, const char *program,
                   char *argv[WORM_SEGSPEC_MAX_ARGV + 1])
{
    int n = 0;
    char number[24];
    argv[n++] = zsys_sprintf ("%s", program);
    s_add (argv, &n, spec->found ? "found" : "join", NULL);
    s_add (argv, &n, "worm-id", spec->worm_id);
    s_add (argv, &n, "name", spec->worm);
    s_add (argv, &n, "app", spec->app);
    if (spec->found) {
        snprintf (number, sizeof number, "%u", spec->size);
        s_add (argv, &n, "size", number);
        snprintf (number, sizeof number, "%u", spec->max);
        s_add (argv, &n, "max", number);
        for (int i = 0; i < spec->nparams; i++)
            s_add (argv, &n, "param", spec->params[i]);
    }
    else {
        s_add (argv, &n, "spawner", spec->spawner);
        s_add (argv, &n, "spawn-id", spec->spawn_id);
        if (spec->spawner_host[0]) {
            s_add (argv, &n, "spawner-host", spec->spawner_host);
            snprintf (number, sizeof number, "%llu", (unsigned long long) spec->spawner_pid);
            s_add (argv, &n, "spawner-pid", number);
        }
    }
    if (spec->hold_ms) {
        snprintf (number, sizeof number, "%llu", (unsigned long long) spec->hold_ms);
        s_add (argv, &n, "hold", number);
    }
    if (spec->orphan_ms) {
        snprintf (number, sizeof number, "%llu", (unsigned long long) spec->orphan_ms);
        s_add (argv, &n, "orphan-timeout", number);
    }
    argv[n] = NULL;
    return n;
}

void
worm_segspec_argv_free (char *argv[WORM_SEGSPEC_MAX_ARGV + 1])
{
    for (int i = 0; argv[i]; i++)
        zstr_free (&argv[i]);
}

static int
s_set (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    worm_segspec_t *spec = (worm_segspec_t *) arg;
    long number;
    struct {
        const char *name;
        char *dest;
        size_t size;
    } strings[] = {
        {"worm-id", spec->worm_id, sizeof spec->worm_id},
        {"name", spec->worm, sizeof spec->worm},
        {"app", spec->app, sizeof spec->app},
        {"spawner", spec->spawner, sizeof spec->spawner},
        {"spawn-id", spec->spawn_id, sizeof spec->spawn_id},
        {"spawner-host", spec->spawner_host, sizeof spec->spawner_host},
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
        spec->found = true;
    else if (strcmp (name, "join") == 0)
        spec->found = false;
    else if (strcmp (name, "size") == 0 || strcmp (name, "max") == 0) {
        if (worm_parse_int (value, 1, WORM_TOKEN_MAX_MEMBERS, &number, err, cap))
            return -1;
        *(strcmp (name, "size") == 0 ? &spec->size : &spec->max) = (uint32_t) number;
    }
    else if (strcmp (name, "hold") == 0 || strcmp (name, "orphan-timeout") == 0) {
        if (worm_parse_int (value, 1, WORM_SEGSPEC_MAX_MS, &number, err, cap))
            return -1;
        *(strcmp (name, "hold") == 0 ? &spec->hold_ms : &spec->orphan_ms) = (uint64_t) number;
    }
    else if (strcmp (name, "spawner-pid") == 0) {
        if (worm_parse_int (value, 1, INT32_MAX, &number, err, cap))
            return -1;
        spec->spawner_pid = (uint64_t) number;
    }
    else if (strcmp (name, "param") == 0) {
        if (spec->nparams >= WORM_TOKEN_MAX_PARAMS || !s_param_valid (value)) {
            snprintf (err, cap, "'%s' is not KEY=VALUE (at most %d of them)", value,
                      WORM_TOKEN_MAX_PARAMS);
            return -1;
        }
        snprintf (spec->params[spec->nparams++], WORM_TOKEN_PARAM_MAX, "%s", value);
    }
    return 0;
}

int
worm_segspec_parse (int argc, char **argv, worm_segspec_t *spec, char *err, size_t cap)
{
    memset (spec, 0, sizeof *spec);
    int index = 1;
    bool chose = false;
    for (int i = 1; i < argc; i++)
        chose |= strcmp (argv[i], "--found") == 0 || strcmp (argv[i], "--join") == 0
                 || strncmp (argv[i], "--found=", 8) == 0 || strncmp (argv[i], "--join=", 7) == 0;
    if (worm_opts_parse (worm_segspec_options, argc, argv, &index, s_set, spec, err, cap))
        return -1;
    if (index < argc) {
        snprintf (err, cap, "unexpected argument '%s'", argv[index]);
        return -1;
    }
    if (!chose) {
        snprintf (err, cap, "say --found or --join");
        return -1;
    }
    if (!spec->worm_id[0] || !spec->worm[0] || !spec->app[0]) {
        snprintf (err, cap, "--worm-id, --name and --app are required");
        return -1;
    }
    if (spec->found && !spec->size) {
        snprintf (err, cap, "--found needs --size");
        return -1;
    }
    if (!spec->found && (!spec->spawner[0] || !spec->spawn_id[0])) {
        snprintf (err, cap, "--join needs --spawner and --spawn-id");
        return -1;
    }
    return worm_segspec_check (spec, err, cap);
}
