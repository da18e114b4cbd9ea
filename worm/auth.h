/*  auth.h — CurveZMQ on every connection: who may talk to a server socket,
    and the helpers that put CURVE on sockets (../shared/DESIGN.md,
    "Security"; docs/PROTOCOL.md, "Security").

    A process that serves CURVE sockets owns one ZAP handler (worm_auth_t):
    libzmq asks it about every incoming handshake, and it answers with the
    process's own rule (a callback: the agent allows its authorized keys and
    the worms of its guests; a segment allows its worm, its launcher and its
    host agent). A refusal is logged with the key, the address and the
    reason. The handler is a socket that the owner polls in its own reactor,
    so the rule reads the owner's state without locks.

    A keyset is a folder of public keys (zcert public files, as
    `wormctl keygen` writes them): the authorized keys of a cluster. It is
    read again when the folder changes.
*/
#ifndef WORM_AUTH_H_INCLUDED
#define WORM_AUTH_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#define WORM_KEY_LEN 40     //  a public key in Z85 text

//  --------------------------------------------------------------------------
//  Keysets

typedef struct _worm_keyset_t worm_keyset_t;

/*  Loads every public key in folder dir (files whose name ends in _secret
    are skipped; unreadable or malformed files are logged and skipped).
    A missing folder is an empty set. Returns the set (never NULL). */
worm_keyset_t *worm_keyset_new (const char *dir);
void worm_keyset_destroy (worm_keyset_t **self_p);
/*  Whether key (Z85) is in the set; reloads the folder first when it
    changed since the last look (checked at most once a second). */
bool worm_keyset_has (worm_keyset_t *self, const char *key);
/*  Whether key is in the set and its file says it is a host's key (role
    "host" in its metadata, as wormd and `wormctl keygen --host` write it).
    Reloads as worm_keyset_has does. */
bool worm_keyset_has_host (worm_keyset_t *self, const char *key);
/*  Adds one key by hand (e.g. the host's own). */
void worm_keyset_add (worm_keyset_t *self, const char *key);
size_t worm_keyset_size (worm_keyset_t *self);
/*  How many times the folder has been read: a test waits for the next one. */
size_t worm_keyset_loads (worm_keyset_t *self);

/*  Whether text is a well-formed Z85 public key. */
bool worm_key_valid (const char *text);

/*  A keypair from its two keys in Z85 text, checking that they belong
    together. Returns it (the caller destroys it) or NULL with the reason. */
zcert_t *worm_cert_from_text (const char *public_txt, const char *secret_txt, char *err,
                              size_t cap);

//  --------------------------------------------------------------------------
//  The ZAP handler

/*  The rule: return true to let key in; else fill why (one short phrase,
    e.g. "not an authorized key"). */
typedef bool (worm_auth_rule_fn) (void *arg, const char *key, char *why, size_t cap);

typedef struct _worm_auth_t worm_auth_t;

/*  Binds the process's ZAP handler (one per process; before any CURVE
    server socket binds). Returns NULL with the reason in err. */
worm_auth_t *worm_auth_new (worm_auth_rule_fn *rule, void *arg, char *err, size_t cap);
void worm_auth_destroy (worm_auth_t **self_p);
/*  The socket to poll; call worm_auth_handle when it is readable. */
zsock_t *worm_auth_socket (worm_auth_t *self);
/*  Answers one pending ZAP request. The user id of an accepted connection
    is its public key, so a server reads it as zframe_meta (frame,
    "User-Id") on every message. */
void worm_auth_handle (worm_auth_t *self);

//  --------------------------------------------------------------------------
//  Sockets

/*  Makes sock a CURVE server with keypair cert (before bind). */
void worm_curve_server (zsock_t *sock, zcert_t *cert);
/*  Makes sock a CURVE client with keypair cert that expects the server's
    public key server_key (before connect). */
void worm_curve_client (zsock_t *sock, zcert_t *cert, const char *server_key);
/*  The public key of whoever sent frame on a CURVE server socket, or NULL. */
const char *worm_curve_sender (zframe_t *frame);

#endif
