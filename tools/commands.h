/*  commands.h — wormctl's command registry: what one command is, and
    everything made from the groups of them that tools/wormctl.c lists:
    dispatch, the `wormctl --help` listing, the key rule. Also the names of
    the apps wormctl can launch, from the apps/list.h the segments use.

    Built-in commands live in tools/cmd_*.c by group, an app's in
    apps/NAME/client.c; each group exports an array of wormctl_command_t
    ended by an entry whose name is NULL, and tools/wormctl.c lists the
    groups, built-in ones then those of apps (apps/list.h). A command talks
    to hosts through the client library (client.h).
*/
#ifndef WORMCTL_COMMANDS_H_INCLUDED
#define WORMCTL_COMMANDS_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>

typedef struct _wormctl_client_t wormctl_client_t;

typedef struct {
    const char *name;           //  the command word, e.g. "launch"
    const char *synopsis;       //  its arguments in the listing, e.g. "NAME --app APP"
    const char *summary;        //  one line for `wormctl --help`
    const char *timeout;        //  what --timeout bounds for it, with each default,
                                //  for its --help; NULL: it takes no --timeout
    bool needs_key;             //  our keypair and the trusted keys are loaded once
                                //  its options are parsed (wormctl_ready)
    //  Runs the command on its own arguments (the words after its name);
    //  returns the exit status: 0, 1 for an operational error, or
    //  WORMCTL_EXIT_USAGE for a usage error, said on stderr.
    int (*run) (wormctl_client_t *client, int argc, char **argv);
} wormctl_command_t;

/*  The apps registered in apps/list.h, by name, NULL-terminated. */
extern const char *const wormctl_app_names[];

/*  Whether name is one of wormctl_app_names. */
bool wormctl_app_known (const char *name);

/*  The command named name in groups (a NULL-terminated list of arrays,
    each ended by an entry with a NULL name), or NULL. */
const wormctl_command_t *wormctl_registry_find (const wormctl_command_t *const *groups,
                                                const char *name);

/*  Checks groups: every entry has a name, a synopsis, a summary and a run
    function, and no name comes twice. Returns 0, or -1 with the first
    fault in err. */
int wormctl_registry_check (const wormctl_command_t *const *groups, char *err, size_t cap);

/*  Prints `wormctl --help`: the usage line, one line a command (name,
    synopsis and summary, in the order of groups), the global options. */
void wormctl_registry_usage (FILE *out, const wormctl_command_t *const *groups);

/*  The whole of wormctl over groups: parses the global options, finds the
    command and runs it with a client (client.h) whose command is its entry.
    Returns the exit status: the command's, WORMCTL_EXIT_USAGE for a bad
    global option or an unknown or missing command, 128 + the signal when
    interrupted, 70 when groups fail wormctl_registry_check. */
int wormctl_main (const wormctl_command_t *const *groups, int argc, char **argv);

#endif
