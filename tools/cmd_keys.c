/*  cmd_keys.c — wormctl's key command: keygen, a user's or a host's
    CurveZMQ keypair (worm/keys.h). It talks to no host.
*/
#include "client.h"
#include "keys.h"

typedef struct {
    char out[PATH_MAX];     //  --out
    bool force;             //  --force
    bool host;              //  --host: a host's key, not a user's
    bool help;              //  --help
} s_keygen_t;

static int
s_keygen_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_keygen_t *keygen = (s_keygen_t *) arg;
    if (strcmp (name, "help") == 0)
        keygen->help = true;
    else if (strcmp (name, "force") == 0)
        keygen->force = true;
    else if (strcmp (name, "host") == 0)
        keygen->host = true;
    else if (strlen (value) >= sizeof keygen->out) {
        snprintf (err, cap, "the path is too long");
        return -1;
    }
    else
        snprintf (keygen->out, sizeof keygen->out, "%s", value);
    return 0;
}

//  wormctl keygen: writes a new keypair and prints its public key.
static int
s_cmd_keygen (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"out", "FILE", "where to write it (default $XDG_CONFIG_HOME/worm/user.cert)"},
        {"force", NULL, "replace an existing keypair"},
        {"host", NULL, "a host agent's keypair (role host), for its --key"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    s_keygen_t keygen = {.force = false};
    worm_keys_default_path (keygen.out, sizeof keygen.out);
    char err[PATH_MAX + 128];
    int index = 0;
    if (worm_opts_parse (options, argc, argv, &index, s_keygen_option, &keygen, err,
                         sizeof err))
        return wormctl_usage_error (client, "%s", err);
    if (keygen.help || client->help) {
        const char *usage =
                "Usage: wormctl keygen [--out FILE] [--force] [--host]\n\n"
                "Makes a CurveZMQ keypair for a user: FILE holds the public key, FILE_secret\n"
                "(mode 0600) the secret one. Prints the public key, which host owners add to\n"
                "their authorized keys. With --host, the keypair of a host agent: its file\n"
                "says role = \"host\", and hosts that authorize it let it vouch for the\n"
                "launchers of the worms it relays for.\n";
        wormctl_help (client, usage, options);
        return 0;
    }
    if (index < argc)
        return wormctl_usage_error (client, "unexpected argument '%s'", argv[index]);
    zcert_t *cert = worm_keys_create (keygen.out,
                                     keygen.host ? WORM_ROLE_HOST_NAME : WORM_ROLE_USER_NAME,
                                     keygen.force, err, sizeof err);
    if (!cert) {
        fprintf (stderr, "wormctl keygen: %s\n", err);
        return 1;
    }
    printf ("%s\n", zcert_public_txt (cert));
    fprintf (stderr, "keypair written to %s and %s_secret\n", keygen.out, keygen.out);
    zcert_destroy (&cert);
    return 0;
}

const wormctl_command_t wormctl_keys_commands[] = {
    {"keygen", "[--out FILE]", "make a user keypair (CurveZMQ)", NULL, false, s_cmd_keygen},
    {NULL, NULL, NULL, NULL, false, NULL},
};
