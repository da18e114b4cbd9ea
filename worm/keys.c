/*  keys.c — keypairs in ZPL files. See keys.h. */
#include "keys.h"
#include "auth.h"
#include "spawn.h"

#include <errno.h>
#include <libgen.h>
#include <unistd.h>

zcert_t *
worm_keys_load (const char *path, char *err, size_t cap)
{
    char secret[PATH_MAX + 16];
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (access (secret, R_OK)) {
        snprintf (err, cap, "no keypair at %s (%s: %s)", path, secret, strerror (errno));
        return NULL;
    }
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        snprintf (err, cap, "%s is not a keypair file", path);
        return NULL;
    }
    //  zcert_load takes a secret file without a secret key, or one it cannot
    //  parse (it falls back to the public file), for a keypair whose secret
    //  key is zeros: the secret key must be the public key's
    char why[128];
    zcert_t *checked =
        worm_cert_from_text (zcert_public_txt (cert), zcert_secret_txt (cert), why, sizeof why);
    if (!checked) {
        snprintf (err, cap, "%s is not a keypair file: %s", path, why);
        zcert_destroy (&cert);
        return NULL;
    }
    zcert_destroy (&checked);
    //  The public file is what others authorize: it must name the same key
    zconfig_t *public_file = access (path, R_OK) == 0 ? zconfig_load (path) : NULL;
    const char *public_txt =
        public_file ? zconfig_get (public_file, "/curve/public-key", NULL) : NULL;
    bool differs = public_txt && strcmp (public_txt, zcert_public_txt (cert)) != 0;
    zconfig_destroy (&public_file);
    if (differs) {
        snprintf (err, cap, "%s and its _secret file hold different keys", path);
        zcert_destroy (&cert);
    }
    return cert;
}

zcert_t *
worm_keys_create (const char *path, const char *role, bool force, char *err, size_t cap)
{
    char secret[PATH_MAX + 16];
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (!force && (access (path, F_OK) == 0 || access (secret, F_OK) == 0)) {
        snprintf (err, cap, "a keypair already exists at %s (--force replaces it)", path);
        return NULL;
    }
    char folder[PATH_MAX];
    snprintf (folder, sizeof folder, "%s", path);
    if (worm_mkdirs (dirname (folder), 0700)) {
        snprintf (err, cap, "cannot create the folder of %s: %s", path, strerror (errno));
        return NULL;
    }
    zcert_t *cert = zcert_new ();
    if (cert)
        zcert_set_meta (cert, "role", "%s", role);
    if (!cert || zcert_save (cert, path)) {
        snprintf (err, cap, "cannot write %s: %s", path, strerror (errno));
        zcert_destroy (&cert);
        return NULL;
    }
    chmod (secret, 0600);
    return cert;
}

void
worm_keys_default_path (char *buf, size_t cap)
{
    const char *config = getenv ("XDG_CONFIG_HOME");
    if (config && *config)
        snprintf (buf, cap, "%s/worm/user.cert", config);
    else
        snprintf (buf, cap, "%s/.config/worm/user.cert", getenv ("HOME") ? getenv ("HOME") : ".");
}
