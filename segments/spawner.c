/*  spawner.c — places new segments from an actor thread. See spawner.h. */
#include "spawner.h"
#include "log.h"

#define PLACE_TIMEOUT_MS 1000
#define MAX_EXCLUDE 64

static void
s_spawner (zsock_t *pipe, void *arg)
{
    worm_spawner_config_t config = *(const worm_spawner_config_t *) arg;
    for (int i = 0; config.args[i]; i++)
        config.args[i] = strdup (config.args[i]);
    zsock_signal (pipe, 0);
    while (!zsys_interrupted) {
        char *command = NULL, *spawn_id = NULL, *excluded = NULL;
        if (zstr_recvx (pipe, &command, &spawn_id, &excluded, NULL) < 0)
            break;
        if (streq (command, "$TERM")) {
            zstr_free (&command);
            break;
        }
        const char *exclude[MAX_EXCLUDE];
        size_t n_exclude = 0;
        for (char *save = NULL, *id = excluded ? strtok_r (excluded, ",", &save) : NULL;
             id && n_exclude < MAX_EXCLUDE; id = strtok_r (NULL, ",", &save))
            exclude[n_exclude++] = id;
        worm_place_t spec = {.worm = config.worm, .program = config.program,
                             .exclude = exclude, .n_exclude = n_exclude,
                             .timeout_ms = PLACE_TIMEOUT_MS};
        int n = 0;
        while (config.args[n] && n < WORM_PLACE_MAX_ARGS - 3) {
            spec.args[n] = config.args[n];
            n++;
        }
        spec.args[n++] = "--spawn-id";
        spec.args[n++] = spawn_id ? spawn_id : "";
        spec.args[n] = NULL;
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
    }
    for (int i = 0; config.args[i]; i++)
        free (config.args[i]);
}

zactor_t *
worm_spawner_new (const worm_spawner_config_t *config)
{
    return zactor_new (s_spawner, (void *) config);
}
