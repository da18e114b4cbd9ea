/*  keys.h — CurveZMQ keypairs of hosts and users (czmq zcert).

    A keypair lives in two ZPL files: PATH holds the public key, PATH_secret
    (mode 0600) the secret one as well. Hosts keep theirs in the state
    folder; users make theirs with `wormctl keygen`. (Issue 5 puts CURVE on
    every connection; this is its key store.)
*/
#ifndef WORM_KEYS_H_INCLUDED
#define WORM_KEYS_H_INCLUDED

#include <czmq.h>

/*  Loads the keypair at path. Returns it (the caller destroys it), or NULL
    with the reason in err: no secret file, no keys in it, a secret key that
    does not belong to its public key, or a public file naming another key. */
zcert_t *worm_keys_load (const char *path, char *err, size_t cap);

//  A key's role, written in its files' metadata ("role"): a host's key may
//  vouch for the launcher of a worm whose segment it relays for; a user's
//  key speaks for its holder only (docs/PROTOCOL.md, "Security")
#define WORM_ROLE_HOST_NAME "host"
#define WORM_ROLE_USER_NAME "user"

/*  Makes a new keypair for role (WORM_ROLE_HOST_NAME or WORM_ROLE_USER_NAME)
    and saves it at path (parents created, secret 0600). Refuses to replace
    an existing one unless force. Returns it, or NULL with the reason in err. */
zcert_t *worm_keys_create (const char *path, const char *role, bool force, char *err,
                           size_t cap);

/*  The default user key: $XDG_CONFIG_HOME/worm/user.cert, or
    $HOME/.config/worm/user.cert. */
void worm_keys_default_path (char *buf, size_t cap);

#endif
