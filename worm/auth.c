/*  auth.c — keysets, the ZAP handler and CURVE sockets. See auth.h. */
#include "auth.h"
#include "log.h"

#include <dirent.h>
#include <sys/stat.h>

#define RELOAD_CHECK_MS 1000
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

struct _worm_keyset_t {
    char dir[PATH_MAX];             //  the folder, "" for a set made by hand only
    zhashx_t *keys;                 //  Z85 key -> s_entry_t, the file it came from
    zhashx_t *extra;                //  keys added by hand, kept across reloads
    struct timespec stamp;          //  newest mtime of the folder and its files at the
                                    //  last load
    size_t entries;                 //  how many files it had
    bool racy;                      //  the load came within RACY_S of that stamp: a
                                    //  change in the same clock tick would not show
    int64_t checked_ms;             //  when we last looked at the folder
    size_t loads;                   //  how many times it was read
};

//  File times come from a coarse clock, and a key file is created empty and
//  then written: a load this soon after the newest change is redone at the
//  next check, whatever the times say then
#define RACY_S 2

bool
worm_key_valid (const char *text)
{
    if (!text || strlen (text) != WORM_KEY_LEN)
        return false;
    uint8_t bin[32];
    return zmq_z85_decode (bin, text) != NULL;
}

zcert_t *
worm_cert_from_text (const char *public_txt, const char *secret_txt, char *err, size_t cap)
{
    uint8_t public_key[32], secret_key[32], derived[32];
    if (!worm_key_valid (public_txt) || !secret_txt || strlen (secret_txt) != WORM_KEY_LEN
        || !zmq_z85_decode (secret_key, secret_txt) || !zmq_z85_decode (public_key, public_txt)) {
        snprintf (err, cap, "not a Z85 keypair");
        return NULL;
    }
    char derived_txt[WORM_KEY_LEN + 1];
    if (zmq_curve_public (derived_txt, secret_txt) || !zmq_z85_decode (derived, derived_txt)
        || memcmp (derived, public_key, 32) != 0) {
        snprintf (err, cap, "the secret key does not belong to the public key");
        return NULL;
    }
    return zcert_new_from (public_key, secret_key);
}

static bool
s_newer (const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

//  The public key files of the folder: calls each (path, name) when given,
//  and returns the newest mtime of the folder and the files, and how many
//  files there are. Returns -1 when the folder cannot be read.
static int
s_keyset_scan (worm_keyset_t *self, void (*each) (worm_keyset_t *, const char *, const char *),
               struct timespec *stamp, size_t *entries)
{
    struct stat info;
    DIR *dir = stat (self->dir, &info) == 0 ? opendir (self->dir) : NULL;
    if (!dir)
        return -1;
    *stamp = info.st_mtim;
    *entries = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        size_t len = strlen (entry->d_name);
        if (entry->d_name[0] == '.' || (len > 7 && streq (entry->d_name + len - 7, "_secret")))
            continue;
        char path[PATH_MAX + 256];
        snprintf (path, sizeof path, "%s/%s", self->dir, entry->d_name);
        if (stat (path, &info) == 0 && s_newer (&info.st_mtim, stamp))
            *stamp = info.st_mtim;
        (*entries)++;
        if (each)
            each (self, path, entry->d_name);
    }
    closedir (dir);
    return 0;
}

typedef struct {
    char name[256];                 //  the file's name in the folder
    bool host;                      //  its metadata says role = "host"
} s_entry_t;

static void
s_keyset_load_file (worm_keyset_t *self, const char *path, const char *name)
{
    zcert_t *cert = zcert_load (path);
    if (!cert || !worm_key_valid (zcert_public_txt (cert)))
        worm_log ("authorized keys: skipped %s: not a public key file", path);
    else {
        s_entry_t *entry = calloc (1, sizeof *entry);
        snprintf (entry->name, sizeof entry->name, "%s", name);
        const char *role = zcert_meta (cert, "role");
        entry->host = role && streq (role, "host");
        zhashx_update (self->keys, zcert_public_txt (cert), entry);
    }
    zcert_destroy (&cert);
}

static void
s_keyset_load (worm_keyset_t *self)
{
    zhashx_purge (self->keys);
    self->loads++;
    self->entries = 0;
    self->racy = false;
    if (s_keyset_scan (self, s_keyset_load_file, &self->stamp, &self->entries))
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    self->racy = now.tv_sec - self->stamp.tv_sec < RACY_S;
}

static void
s_free (void **item)
{
    free (*item);
    *item = NULL;
}

worm_keyset_t *
worm_keyset_new (const char *dir)
{
    worm_keyset_t *self = calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "%s", dir ? dir : "");
    self->keys = zhashx_new ();
    zhashx_set_destructor (self->keys, s_free);
    self->extra = zhashx_new ();
    if (self->dir[0])
        s_keyset_load (self);
    self->checked_ms = worm_now_ms ();
    return self;
}

void
worm_keyset_destroy (worm_keyset_t **self_p)
{
    worm_keyset_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->keys);
    zhashx_destroy (&self->extra);
    free (self);
    *self_p = NULL;
}

//  Loads the folder again when it changed since the last look (at most once
//  a second).
static void
s_keyset_refresh (worm_keyset_t *self)
{
    int64_t now = worm_now_ms ();
    if (self->dir[0] && now - self->checked_ms >= RELOAD_CHECK_MS) {
        self->checked_ms = now;
        struct timespec stamp;
        size_t entries;
        bool readable = s_keyset_scan (self, NULL, &stamp, &entries) == 0;
        if (!readable ? zhashx_size (self->keys) > 0
                      : self->racy || entries != self->entries
                            || stamp.tv_sec != self->stamp.tv_sec
                            || stamp.tv_nsec != self->stamp.tv_nsec)
            s_keyset_load (self);
    }
}

bool
worm_keyset_has (worm_keyset_t *self, const char *key)
{
    if (!key)
        return false;
    s_keyset_refresh (self);
    return zhashx_lookup (self->keys, key) || zhashx_lookup (self->extra, key);
}

bool
worm_keyset_has_host (worm_keyset_t *self, const char *key)
{
    if (!key)
        return false;
    s_keyset_refresh (self);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->keys, key);
    return entry && entry->host;
}

void
worm_keyset_add (worm_keyset_t *self, const char *key)
{
    zhashx_update (self->extra, key, (void *) 1);
}

size_t
worm_keyset_size (worm_keyset_t *self)
{
    return zhashx_size (self->keys) + zhashx_size (self->extra);
}

size_t
worm_keyset_loads (worm_keyset_t *self)
{
    return self->loads;
}

//  --------------------------------------------------------------------------
//  ZAP (RFC 27): the handler answers each handshake with 200 or 400

struct _worm_auth_t {
    zsock_t *handler;               //  REP bound on the ZAP endpoint
    worm_auth_rule_fn *rule;        //  the owner's rule
    void *arg;                      //  its argument
    worm_log_limiter_t refused;     //  refusals are logged, within reason
};

worm_auth_t *
worm_auth_new (worm_auth_rule_fn *rule, void *arg, char *err, size_t cap)
{
    worm_auth_t *self = calloc (1, sizeof *self);
    self->rule = rule;
    self->arg = arg;
    self->handler = zsock_new (ZMQ_REP);
    if (!self->handler || zsock_bind (self->handler, ZAP_ENDPOINT)) {
        snprintf (err, cap, "cannot bind the ZAP handler (%s)", zmq_strerror (zmq_errno ()));
        worm_auth_destroy (&self);
        return NULL;
    }
    return self;
}

void
worm_auth_destroy (worm_auth_t **self_p)
{
    worm_auth_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->handler);
    free (self);
    *self_p = NULL;
}

zsock_t *
worm_auth_socket (worm_auth_t *self)
{
    return self->handler;
}

void
worm_auth_handle (worm_auth_t *self)
{
    zmsg_t *request = zmsg_recv (self->handler);
    if (!request)
        return;
    //  version, request id, domain, address, routing id, mechanism, key
    char *version = zmsg_popstr (request);
    char *request_id = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *routing_id = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credentials = zmsg_pop (request);
    char key[WORM_KEY_LEN + 1] = "";
    char why[128] = "";
    bool allowed = false;
    if (!mechanism || !streq (mechanism, "CURVE"))
        snprintf (why, sizeof why, "mechanism %s is not CURVE", mechanism ? mechanism : "none");
    else if (!credentials || zframe_size (credentials) != 32)
        snprintf (why, sizeof why, "no CURVE public key");
    else {
        zmq_z85_encode (key, zframe_data (credentials), 32);
        allowed = self->rule (self->arg, key, why, sizeof why);
    }
    if (!allowed)
        worm_log_limited (&self->refused, 1000, "refused a connection from %s with key %s: %s",
                          address ? address : "?", key[0] ? key : "(none)", why);
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, request_id ? request_id : "");
    zmsg_addstr (reply, allowed ? "200" : "400");
    zmsg_addstr (reply, allowed ? "OK" : why);
    zmsg_addstr (reply, allowed ? key : "");
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, self->handler);
    zstr_free (&version);
    zstr_free (&request_id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&routing_id);
    zstr_free (&mechanism);
    zframe_destroy (&credentials);
    zmsg_destroy (&request);
}

//  --------------------------------------------------------------------------
//  Sockets

void
worm_curve_server (zsock_t *sock, zcert_t *cert)
{
    zcert_apply (cert, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, "worm");
}

void
worm_curve_client (zsock_t *sock, zcert_t *cert, const char *server_key)
{
    zcert_apply (cert, sock);
    zsock_set_curve_serverkey (sock, server_key);
}

const char *
worm_curve_sender (zframe_t *frame)
{
    const char *key = frame ? zframe_meta (frame, "User-Id") : NULL;
    return key && strlen (key) == WORM_KEY_LEN ? key : NULL;
}
