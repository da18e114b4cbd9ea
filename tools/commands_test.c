/*  commands_test.c — the command registry over a made-up registry: a
    built-in group and an app's command list added the way tools/wormctl.c
    adds apps/list.h's WORM_APP_COMMANDS lines. Checks lookup, the
    registry's own check, the --help listing, and the key rule: a keyed
    command's bad option is a usage error (exit 2) before any key is looked
    for, and only once its options are good does a missing key fail it.
*/
#include "client.h"
#include "commands.h"
#include "../tests/check.h"

#include <unistd.h>

static int s_runs;          //  how many times a command ran
static int s_keys_seen;     //  the client's keys state when the last one ended

static int
s_run (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"flag", NULL, "a flag"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    s_runs++;
    int index = 0;
    int rc = wormctl_options (client, options, argc, argv, &index, "Usage: wormctl probe\n");
    if (rc < 0)
        rc = wormctl_ready (client);
    s_keys_seen = client->keys;
    return rc < 0 ? 0 : rc;
}

static const wormctl_command_t s_builtin[] = {
    {"alpha", "[--flag]", "a built-in command", NULL, false, s_run},
    {NULL, NULL, NULL, NULL, false, NULL},
};

//  What apps/probe/client.c would export
const wormctl_command_t wormctl_app_probe_commands[] = {
    {"probe", "[--flag]", "an app's command that needs our key", "how long (default 7 s)", true,
     s_run},
    {NULL, NULL, NULL, NULL, false, NULL},
};

static const wormctl_command_t *const s_groups[] = {
    s_builtin,
#define WORM_APP_COMMANDS(name) wormctl_app_##name##_commands,
    WORM_APP_COMMANDS (probe)
#undef WORM_APP_COMMANDS
    NULL,
};

//  Runs wormctl_main on the words given; its stdout and stderr go to out
//  and err (caller's buffers of cap bytes). Returns its exit status.
static int
s_main (char *out, char *err, size_t cap, int argc, char **argv)
{
    fflush (stdout);
    fflush (stderr);
    int saved_out = dup (1), saved_err = dup (2);
    FILE *out_file = tmpfile (), *err_file = tmpfile ();
    CHECK (out_file && err_file);
    dup2 (fileno (out_file), 1);
    dup2 (fileno (err_file), 2);
    int rc = wormctl_main (s_groups, argc, argv);
    fflush (stdout);
    fflush (stderr);
    dup2 (saved_out, 1);
    dup2 (saved_err, 2);
    close (saved_out);
    close (saved_err);
    FILE *files[2] = {out_file, err_file};
    char *bufs[2] = {out, err};
    for (int i = 0; i < 2; i++) {
        rewind (files[i]);
        size_t size = fread (bufs[i], 1, cap - 1, files[i]);
        bufs[i][size] = 0;
        fclose (files[i]);
    }
    return rc;
}

int
main (void)
{
    //  Lookup over every group, apps' too
    CHECK (wormctl_registry_find (s_groups, "alpha") == &s_builtin[0]);
    CHECK (wormctl_registry_find (s_groups, "probe") == &wormctl_app_probe_commands[0]);
    CHECK (wormctl_registry_find (s_groups, "fly") == NULL);

    //  The registry's check: ours passes; a name twice or a missing field fails
    char err[4096], out[4096];
    CHECK_EQ (wormctl_registry_check (s_groups, err, sizeof err), 0);
    const wormctl_command_t again[] = {{"alpha", "", "another alpha", NULL, false, s_run},
                                       {NULL, NULL, NULL, NULL, false, NULL}};
    const wormctl_command_t *const twice[] = {s_builtin, again, NULL};
    CHECK_EQ (wormctl_registry_check (twice, err, sizeof err), -1);
    CHECK_STR (err, "two commands are named 'alpha'");
    const wormctl_command_t bare[] = {{"bare", "", NULL, NULL, false, s_run},
                                      {NULL, NULL, NULL, NULL, false, NULL}};
    const wormctl_command_t *const lacking[] = {bare, NULL};
    CHECK_EQ (wormctl_registry_check (lacking, err, sizeof err), -1);
    CHECK_HAS (err, "'bare' lacks");

    //  --help lists every command, an app's too, with its summary
    char *help[] = {"wormctl", "--help", NULL};
    CHECK_EQ (s_main (out, err, sizeof out, 2, help), 0);
    CHECK_HAS (out, "  alpha [--flag]                    a built-in command\n");
    CHECK_HAS (out, "  probe [--flag]                    an app's command that needs our key\n");
    CHECK_HAS (out, "Global options:");

    //  The key rule: no key anywhere
    char dir[] = "/tmp/worm-registry-test-XXXXXX";
    CHECK (mkdtemp (dir));
    char key[sizeof dir + 16];
    snprintf (key, sizeof key, "%s/none.cert", dir);
    setenv ("WORM_KEY", key, 1);
    char *bad[] = {"wormctl", "--dir", dir, "probe", "--bogus", NULL};
    CHECK_EQ (s_main (out, err, sizeof out, 5, bad), WORMCTL_EXIT_USAGE);
    CHECK_STR (err, "wormctl probe: unknown option --bogus\n");
    CHECK_EQ (s_keys_seen, 0);      //  not even looked for
    char *asked[] = {"wormctl", "--dir", dir, "probe", "--help", NULL};
    CHECK_EQ (s_main (out, err, sizeof out, 5, asked), 0);
    CHECK_HAS (out, "Usage: wormctl probe\n");
    CHECK_HAS (out, "--timeout SECONDS          how long (default 7 s)\n");
    CHECK_STR (err, "");
    char *good[] = {"wormctl", "--dir", dir, "probe", "--flag", NULL};
    CHECK_EQ (s_main (out, err, sizeof out, 5, good), 1);
    CHECK_HAS (err, "wormctl probe: ");
    CHECK_HAS (err, "make one with 'wormctl keygen'");
    CHECK_EQ (s_keys_seen, -1);
    //  A keyless command never looks
    char *keyless[] = {"wormctl", "--dir", dir, "alpha", "--flag", NULL};
    CHECK_EQ (s_main (out, err, sizeof out, 5, keyless), 0);
    CHECK_EQ (s_keys_seen, 0);
    CHECK_EQ (s_runs, 4);

    //  The dispatcher's own usage errors
    char *unknown[] = {"wormctl", "fly", NULL};
    CHECK_EQ (s_main (out, err, sizeof out, 2, unknown), WORMCTL_EXIT_USAGE);
    CHECK_HAS (err, "unknown command 'fly'");
    char *none[] = {"wormctl", NULL};
    CHECK_EQ (s_main (out, err, sizeof out, 1, none), WORMCTL_EXIT_USAGE);
    CHECK_HAS (err, "no command given");
    CHECK_EQ (s_runs, 4);
    rmdir (dir);
    return check_done ("tools.commands");
}
