/*  wormctl — the client: starts and stops local clusters, finds hosts,
    reads and changes their policy, launches, finds and kills worms. It
    talks to hosts only over the wire protocol (docs/PROTOCOL.md).

    This file is its command registry: the groups of commands, built-in
    ones (tools/cmd_*.c) then those of apps (apps/list.h), in the order
    `wormctl --help` lists them. commands.c does the rest.
*/
#include "commands.h"
#include "commands.h"

extern const wormctl_command_t wormctl_cluster_commands[];  //  up, down
extern const wormctl_command_t wormctl_hosts_commands[];    //  hosts, willing, registry,
                                                            //  policy, evictions
extern const wormctl_command_t wormctl_launch_commands[];   //  launch
extern const wormctl_command_t wormctl_worm_commands[];     //  find, status
extern const wormctl_command_t wormctl_kill_commands[];     //  kill
extern const wormctl_command_t wormctl_keys_commands[];     //  keygen
extern const wormctl_command_t wormctl_run_commands[];      //  run
extern const wormctl_command_t wormctl_log_commands[];      //  log
#define WORM_APP_COMMANDS(name) extern const wormctl_command_t wormctl_app_##name##_commands[];
#include "apps/list.h"

static const wormctl_command_t *const s_groups[] = {
    wormctl_cluster_commands,
    wormctl_hosts_commands,
    wormctl_launch_commands,
    wormctl_worm_commands,
    wormctl_kill_commands,
    wormctl_keys_commands,
    wormctl_run_commands,
    wormctl_log_commands,
#define WORM_APP_COMMANDS(name) wormctl_app_##name##_commands,
#include "apps/list.h"
    NULL,
};

int
main (int argc, char **argv)
{
    return wormctl_main (s_groups, argc, argv);
}
