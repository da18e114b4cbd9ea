/*  commands.c — wormctl's command registry (see commands.h). */
#include "commands.h"
#include "client.h"
#include "log.h"

#include <czmq.h>

const char *const wormctl_app_names[] = {
#define WORM_APP(name) #name,
#include "apps/list.h"
    NULL,
};

bool
wormctl_app_known (const char *name)
{
    for (int i = 0; wormctl_app_names[i]; i++)
        if (strcmp (wormctl_app_names[i], name) == 0)
            return true;
    return false;
}

const wormctl_command_t *
wormctl_registry_find (const wormctl_command_t *const *groups, const char *name)
{
    for (int g = 0; groups[g]; g++)
        for (const wormctl_command_t *command = groups[g]; command->name; command++)
            if (strcmp (command->name, name) == 0)
                return command;
    return NULL;
}

int
wormctl_registry_check (const wormctl_command_t *const *groups, char *err, size_t cap)
{
    for (int g = 0; groups[g]; g++)
        for (const wormctl_command_t *command = groups[g]; command->name; command++) {
            if (!command->synopsis || !command->summary || !command->run) {
                snprintf (err, cap, "command '%s' lacks its synopsis, summary or run function",
                          command->name);
                return -1;
            }
            if (wormctl_registry_find (groups, command->name) != command) {
                snprintf (err, cap, "two commands are named '%s'", command->name);
                return -1;
            }
        }
    return 0;
}

void
wormctl_registry_usage (FILE *out, const wormctl_command_t *const *groups)
{
    fprintf (out, "Usage: wormctl [GLOBAL OPTIONS] COMMAND [OPTIONS]\n\nCommands:\n");
    for (int g = 0; groups[g]; g++)
        for (const wormctl_command_t *command = groups[g]; command->name; command++) {
            char left[128];
            snprintf (left, sizeof left, "%s%s%s", command->name, command->synopsis[0] ? " " : "",
                      command->synopsis);
            fprintf (out, "  %-33s %s\n", left, command->summary);
        }
    fprintf (out, "\nGlobal options:\n");
    worm_opts_help (out, wormctl_global_options);
    fprintf (out, "\nOn SIGINT or SIGTERM a command stops within about 200 ms, says what it\n"
                  "leaves running, and exits 130 or 143.\n"
                  "'wormctl COMMAND --help' describes a command.\n");
}

int
wormctl_main (const wormctl_command_t *const *groups, int argc, char **argv)
{
    char err[512];
    if (wormctl_registry_check (groups, err, sizeof err)) {
        fprintf (stderr, "wormctl: broken command registry: %s\n", err);
        return 70;
    }
    wormctl_client_t *client = malloc (sizeof *client);
    if (!client)
        return 1;
    wormctl_client_init (client);
    int index = 1, rc = WORMCTL_EXIT_USAGE;
    if (worm_opts_parse (wormctl_global_options, argc, argv, &index, wormctl_global_set, client,
                         err, sizeof err))
        fprintf (stderr, "wormctl: %s (see wormctl --help)\n", err);
    else if (index >= argc && client->help) {
        wormctl_registry_usage (stdout, groups);
        rc = 0;
    }
    else if (index >= argc)
        fprintf (stderr, "wormctl: no command given (see wormctl --help)\n");
    else {
        zsys_init ();
        zsys_set_logstream (NULL);
        wormctl_catch_signals ();
        worm_log_init ("wormctl", NULL);
        const char *name = argv[index++];
        client->command = wormctl_registry_find (groups, name);
        if (client->command)
            rc = wormctl_client_finish (client,
                                        client->command->run (client, argc - index, argv + index));
        else
            fprintf (stderr, "wormctl: unknown command '%s' (see wormctl --help)\n", name);
    }
    free (client);
    return rc;
}
