/*  list.h — the registered apps, one line each (an X-macro list; no
    include guard: it is meant to be included more than once).

    WORM_APP (NAME): the app in apps/NAME/, whose segment side defines
    `const worm_app_t worm_app_NAME` (segments/app.h) with .name "NAME".
    segments/apps.c expands it into worm_apps[]; wormctl into the names
    `launch --app` accepts.

    WORM_APP_COMMANDS (NAME): the app's wormctl commands, an array
    `const wormctl_command_t wormctl_app_NAME_commands[]` in
    apps/NAME/client.c (tools/commands.h), ended by an entry whose name is
    NULL; tools/wormctl.c adds it to the command registry.

    The includer defines the macros it needs; the others expand to nothing.
    See apps/README.md.
*/
#ifndef WORM_APP
#define WORM_APP(name)
#endif
#ifndef WORM_APP_COMMANDS
#define WORM_APP_COMMANDS(name)
#endif

WORM_APP (existential)
WORM_APP (factor)
WORM_APP_COMMANDS (factor)
WORM_APP (render)
WORM_APP_COMMANDS (render)
WORM_APP (alarm)
WORM_APP_COMMANDS (alarm)

#undef WORM_APP
#undef WORM_APP_COMMANDS
