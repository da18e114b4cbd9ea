/*  guest_spawn.c — how the agent starts a guest (the spawn op): the claim
    it turns into a guest, the command line built from checked fields for
    each kind of guest it knows (a segment from its record, worm/segspec.h;
    the test guest), the environment, the spawn itself through worm/spawn.c
    under the guest limits, and the back-off that makes a host whose spawns
    fail unwilling for a while. See agent_internal.h and docs/PROTOCOL.md
    ("Control", spawn).
*/
#include "agent_internal.h"
#include "ctl.h"
#include "keys.h"
#include "segspec.h"
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>


//  Checks an environment variable name a requester may set.
static bool
s_env_name_ok (const char *name)
{
    return strncmp (name, "WORM_APP_", 9) == 0 && strlen (name) > 9
           && strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen (name);
}

//  Builds the guest's environment: ours first, then the requester's.
static char **
s_guest_env (worm_agent_t *self, const worm_guest_t *guest, const msgpack_object *env,
             worm_wire_reader_t *reader, char *err, size_t cap)
{
    size_t extra = env ? env->via.map.size : 0;
    char **envp = calloc (20 + extra, sizeof (char *));
    size_t n = 0;
    envp[n++] = zsys_sprintf ("PATH=/usr/local/bin:/usr/bin:/bin");
    envp[n++] = zsys_sprintf ("HOME=%s", guest->workdir);
    envp[n++] = zsys_sprintf ("TMPDIR=%s/tmp", guest->workdir);
    envp[n++] = zsys_sprintf ("LANG=C.UTF-8");
    envp[n++] = zsys_sprintf ("WORM_HOST=%s", self->config.name);
    envp[n++] = zsys_sprintf ("WORM_HOST_ID=%s", self->host_id);
    envp[n++] = zsys_sprintf ("WORM_AGENT=%s", self->endpoint);
    envp[n++] = zsys_sprintf ("WORM_GUEST_ID=%s", guest->id);
    char marker[WORM_AGENT_MARKER_MAX + 1];
    worm_guests_marker (self, guest, marker, sizeof marker);
    envp[n++] = zsys_sprintf ("%s", marker);
    envp[n++] = zsys_sprintf ("WORM_WORM=%s", guest->worm);
    envp[n++] = zsys_sprintf ("WORM_BROADCAST=%s", self->lan.broadcast);
    envp[n++] = zsys_sprintf ("WORM_LOCAL_ADDR=%s", self->lan.local);
    envp[n++] = zsys_sprintf ("WORM_BEACON_PORT=%d", self->lan.port);
    //  Keys: ours, the launcher's, and the worm's public key (its secret
    //  comes on stdin: other guests run as the same user, and could read
    //  an environment in /proc)
    envp[n++] = zsys_sprintf ("WORM_AGENT_KEY=%s", zcert_public_txt (self->cert));
    envp[n++] = zsys_sprintf ("WORM_LAUNCHER_KEY=%s", guest->launcher);
    if (guest->worm_key[0])
        envp[n++] = zsys_sprintf ("WORM_KEY_PUBLIC=%s", guest->worm_key);
    for (size_t i = 0; i < extra; i++) {
        char name[WORM_REQUEST_ENV_NAME_MAX + 1], value[WORM_REQUEST_ARG_MAX + 1];
        if (worm_wire_obj_str (reader, &env->via.map.ptr[i].key, "env name", name, sizeof name)
            || worm_wire_obj_str (reader, &env->via.map.ptr[i].val, "env value", value,
                                  sizeof value)) {
            snprintf (err, cap, "%s", reader->error);
            goto fail;
        }
        if (!s_env_name_ok (name)) {
            snprintf (err, cap, "environment name '%s' is not WORM_APP_[A-Z0-9_]+", name);
            goto fail;
        }
        envp[n++] = zsys_sprintf ("%s=%s", name, value);
    }
    return envp;
fail:
    for (size_t i = 0; i < n; i++)
        zstr_free (&envp[i]);
    free (envp);
    return NULL;
}

void
worm_guests_free_strings (char **strings)
{
    if (!strings)
        return;
    for (size_t i = 0; strings[i]; i++)
        zstr_free (&strings[i]);
    free (strings);
}

//  A spawn failed for a reason of this host's own (its guest program is
//  missing, a folder cannot be made, fork or exec refused): the host says
//  it is not willing for a while, longer with each failure in a row, so
//  that worms stop choosing it.
static void
s_spawn_failed (worm_agent_t *self, const char *err)
{
    int shift = self->spawn_failures < 6 ? self->spawn_failures : 6;
    self->spawn_failures++;
    int64_t backoff = (int64_t) WORM_AGENT_SPAWN_BACKOFF_MS << shift;
    if (backoff > WORM_AGENT_SPAWN_BACKOFF_MAX_MS)
        backoff = WORM_AGENT_SPAWN_BACKOFF_MAX_MS;
    self->spawn_retry_ms = worm_now_ms () + backoff;
    snprintf (self->spawn_error, sizeof self->spawn_error, "%.90s", err);
    worm_log ("spawns fail here (%d in a row): not willing for %lld s", self->spawn_failures,
              (long long) (backoff / 1000));
    worm_agent_reconsider (self);
}

//  A test guest's words: [A-Za-z0-9=:._-], as worm-test-guest takes them.
static bool
s_test_word_ok (const char *word)
{
    return word[0] && strspn (word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789=:._-") == strlen (word);
}

//  The command line of the guest a spawn asks for, built here from checked
//  fields: a segment of the claim's worm, or (with --allow-test-guest) the
//  test guest. Fills program (the file under programs_dir), argv (the
//  caller frees it with worm_guests_free_strings) and, for a segment, worm_id.
//  Returns 0, or -1 with the refusal in err.
static int
s_guest_command (worm_agent_t *self, worm_wire_reader_t *reader, const char *kind,
                 const worm_claim_t *claim, const char *launcher, const char **program,
                 char ***argv_p, char *worm_id, char *err, size_t cap)
{
    *argv_p = NULL;
    if (streq (kind, "segment")) {
        const msgpack_object *record = worm_wire_field (reader->root, "segment");
        worm_segspec_t spec;
        if (!record) {
            snprintf (err, cap, "spawn: a segment needs the field 'segment'");
            return -1;
        }
        if (worm_segspec_read (reader, record, &spec, err, cap))
            return -1;
        if (!streq (spec.worm, claim->worm)) {
            snprintf (err, cap, "spawn: a segment of worm \"%s\" on a claim for worm \"%s\"",
                      spec.worm, claim->worm);
            return -1;
        }
        if (worm_claims_killed (self, spec.worm_id, launcher)) {
            worm_log ("refused SPAWN for worm \"%s\" (id %s): it was killed", spec.worm,
                      spec.worm_id);
            snprintf (err, cap, "%s refused to spawn: worm \"%s\" (id %s) was killed",
                      self->config.name, spec.worm, spec.worm_id);
            return -1;
        }
        *program = WORM_AGENT_SEGMENT_PROGRAM;
        char **argv = calloc (WORM_SEGSPEC_MAX_ARGV + 1, sizeof (char *));
        worm_segspec_argv (&spec, WORM_AGENT_SEGMENT_PROGRAM, argv);
        *argv_p = argv;
        snprintf (worm_id, WORM_TOKEN_ID_MAX, "%s", spec.worm_id);
        return 0;
    }
    if (streq (kind, "test")) {
        if (!self->config.allow_test_guest) {
            snprintf (err, cap, "%s refused to spawn: guest kind 'test' is not allowed here "
                                "(wormd --allow-test-guest)", self->config.name);
            return -1;
        }
        const msgpack_object_array *args = NULL;
        if (worm_wire_get_array (reader, reader->root, "args", &args,
                                 WORM_REQUEST_MAX_TEST_ARGS) == -1) {
            snprintf (err, cap, "spawn: %s", reader->error);
            return -1;
        }
        char **argv = calloc (WORM_REQUEST_MAX_TEST_ARGS + 2, sizeof (char *));
        argv[0] = zsys_sprintf ("%s", WORM_AGENT_TEST_PROGRAM);
        for (uint32_t i = 0; args && i < args->size; i++) {
            char word[WORM_REQUEST_TEST_ARG_MAX + 1];
            if (worm_wire_obj_str (reader, &args->ptr[i], "args[]", word, sizeof word)
                || !s_test_word_ok (word)) {
                snprintf (err, cap, "spawn: args[%u] is not a word of [A-Za-z0-9=:._-]", i);
                worm_guests_free_strings (argv);
                return -1;
            }
            argv[i + 1] = zsys_sprintf ("%s", word);
        }
        *program = WORM_AGENT_TEST_PROGRAM;
        *argv_p = argv;
        worm_id[0] = 0;
        return 0;
    }
    snprintf (err, cap, "spawn: unknown guest kind '%s' (this host starts: segment)", kind);
    return -1;
}

//  Gives back the claim of a spawn that did not happen, and says why.
static void
s_spawn_refused (worm_agent_t *self, zframe_t *identity, worm_claim_t *claim, const char *err)
{
    worm_agent_refuse (self, identity, "spawn", claim->worm, "%s (claim released)", err);
    zlist_remove (self->claims, claim);
    free (claim);
    worm_agent_evaluate (self, 0);
}

worm_guest_t *
worm_guests_new (worm_agent_t *self, const worm_claim_t *claim, const char *launcher,
                 const char *program)
{
    worm_guest_t *guest = calloc (1, sizeof *guest);
    snprintf (guest->id, sizeof guest->id, "g%llu", (unsigned long long) ++self->guest_seq);
    snprintf (guest->launcher, sizeof guest->launcher, "%s", launcher);
    snprintf (guest->program, sizeof guest->program, "%s", program);
    snprintf (guest->worm, sizeof guest->worm, "%s", claim->worm);
    guest->umask = 077;
    snprintf (guest->workdir, sizeof guest->workdir, "%s/%s-%s", self->guests_dir, guest->id,
              claim->worm);
    return guest;
}

pid_t
worm_guests_launch (worm_agent_t *self, worm_guest_t *guest, const char *path, char **argv,
                    char **envp, const char *log_path, const char *stdin_text,
                    const int *stdio, bool sched_idle, const char *const *visible,
                    char *err, size_t cap)
{
    const worm_user_t *user = self->config.guest_user_other ? &self->config.guest_user : NULL;
    worm_spawn_spec_t spec = {.path = path,
                              .argv = argv,
                              .envp = envp,
                              .workdir = guest->workdir,
                              .log_path = log_path,
                              .nice = WORM_AGENT_GUEST_NICE,
                              .sched_idle = sched_idle,
                              .umask = guest->umask,
                              .user = user,
                              .no_new_privs = true,
                              .mem_bytes = self->config.guest_memory,
                              .max_files = self->config.guest_files,
                              .max_procs = self->config.guest_procs,
                              .stdin_text = stdin_text,
                              .stdio = stdio,
                              .parent_death_signal = SIGKILL,
                              .keeper = visible != NULL,
                              .private_tmp = visible && self->private_tmp,
                              .tmp_bytes = self->config.guest_memory,
                              .visible = visible};
    pid_t pid = worm_spawn (&spec, err, cap);
    if (pid < 0)
        return -1;
    guest->keeper = spec.keeper;
    self->spawn_failures = 0;
    self->spawn_retry_ms = 0;
    guest->pid = pid;
    guest->started_wall_ms = worm_wall_ms ();
    zlist_append (self->guests, guest);
    worm_guests_save (self);
    worm_wire_writer_t *event = worm_guests_event (self, "spawn", guest);
    worm_wire_kstr (event, "key", guest->launcher);
    worm_events_commit (self->events);
    return pid;
}

void
worm_agent_op_spawn (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char claim_id[WORM_HOST_ID_LEN + 1], kind[WORM_AGENT_KIND_MAX + 1], err[512];
    const msgpack_object *env = NULL;
    if (worm_wire_get_str (reader, reader->root, "claim", claim_id, sizeof claim_id)
        || worm_wire_get_str (reader, reader->root, "guest", kind, sizeof kind)
        || worm_wire_get_map (reader, reader->root, "env", &env) == -1) {
        worm_ctl_reply_error (self->router, identity, "spawn: %s", reader->error);
        return;
    }
    //  The worm's launcher: the requester, or the user a host relays for
    char launcher[WORM_KEY_LEN + 1], worm_public[WORM_KEY_LEN + 1] = "",
        worm_secret[WORM_KEY_LEN + 1] = "";
    if (worm_agent_launcher (self, reader, "SPAWN", launcher, err, sizeof err)) {
        worm_agent_refuse (self, identity, "spawn", NULL, "%s", err);
        return;
    }
    if (worm_wire_get_str (reader, reader->root, "worm_public", worm_public,
                           sizeof worm_public) == -1
        || worm_wire_get_str (reader, reader->root, "worm_secret", worm_secret,
                              sizeof worm_secret) == -1) {
        worm_ctl_reply_error (self->router, identity, "spawn: %s", reader->error);
        return;
    }
    if (!worm_agent_key_trusted (self, launcher)) {
        worm_log ("refused SPAWN: worm launched by key %s, which is not authorized", launcher);
        worm_agent_refuse (self, identity, "spawn", NULL,
                           "%s refused to spawn: the worm's launcher %s is not an authorized key",
                           self->config.name, launcher);
        return;
    }
    if (worm_public[0] || worm_secret[0]) {
        zcert_t *worm_cert = worm_cert_from_text (worm_public, worm_secret, err, sizeof err);
        if (!worm_cert) {
            worm_ctl_reply_error (self->router, identity, "spawn: worm keypair: %s", err);
            return;
        }
        zcert_destroy (&worm_cert);
    }
    worm_claims_expire (self);
    worm_claim_t *claim = worm_claims_find (self, claim_id);
    if (!claim) {
        worm_agent_refuse (self, identity, "spawn", NULL, "spawn: claim %s is unknown or expired",
                           claim_id);
        return;
    }
    //  From here on a spawn that does not happen gives its claim back
    if (!streq (claim->launcher, launcher)) {
        snprintf (err, sizeof err, "spawn: claim %s was made for another launcher's worm", claim_id);
        s_spawn_refused (self, identity, claim, err);
        return;
    }
    const char *program = NULL;
    char **argv = NULL, worm_id[WORM_TOKEN_ID_MAX] = "";
    if (s_guest_command (self, reader, kind, claim, launcher, &program, &argv, worm_id, err,
                         sizeof err)) {
        s_spawn_refused (self, identity, claim, err);
        return;
    }
    //  Check again: the owner may have come back since the claim
    worm_agent_evaluate (self, 1);
    if (!self->willing) {
        worm_log ("refused SPAWN for worm \"%s\": host is not willing (%s)", claim->worm,
                  self->reason);
        snprintf (err, sizeof err, "%s refused to spawn worm \"%s\": not willing (%s)",
                  self->config.name, claim->worm, self->reason);
        worm_guests_free_strings (argv);
        s_spawn_refused (self, identity, claim, err);
        return;
    }
    worm_guest_t *guest = worm_guests_new (self, claim, launcher, program);
    snprintf (guest->worm_key, sizeof guest->worm_key, "%s", worm_public);
    snprintf (guest->worm_id, sizeof guest->worm_id, "%s", worm_id);
    err[0] = 0;
    char **envp = s_guest_env (self, guest, env, reader, err, sizeof err);
    if (!envp) {
        worm_guests_free_strings (argv);
        free (guest);
        s_spawn_refused (self, identity, claim, err);
        return;
    }
    //  Failures from here on are the host's own
    char path[PATH_MAX + 80];
    snprintf (path, sizeof path, "%s/%s", self->config.programs_dir, program);
    char log_path[PATH_MAX + 16];
    snprintf (log_path, sizeof log_path, "%s/guest.log", guest->workdir);
    pid_t pid = -1;
    const worm_user_t *user = self->config.guest_user_other ? &self->config.guest_user : NULL;
    if (access (path, X_OK))
        snprintf (err, sizeof err, "no guest program %s: %s", path, strerror (errno));
    else if (worm_private_dir (guest->workdir, user))
        snprintf (err, sizeof err, "cannot create %s: %s", guest->workdir, strerror (errno));
    else {
        //  Every guest runs at nice 19. A test guest also runs under
        //  SCHED_IDLE; a segment does that itself for its compute (its
        //  worker thread, segments/worker.c), so that its ring's thread,
        //  cheap and at nice 19, still preempts the compute: a token hop or
        //  an eviction never waits behind an ECM curve.
        bool segment = strcmp (program, WORM_AGENT_SEGMENT_PROGRAM) == 0;
        pid = worm_guests_launch (self, guest, path, argv, envp, log_path,
                                  worm_secret[0] ? worm_secret : NULL, NULL, !segment, NULL,
                                  err, sizeof err);
    }
    worm_guests_free_strings (argv);
    worm_guests_free_strings (envp);
    if (pid < 0) {
        worm_log ("spawn of %s for worm %s failed: %s", program, claim->worm, err);
        worm_rmtree (guest->workdir);
        free (guest);
        char reply[600];
        snprintf (reply, sizeof reply, "%s cannot spawn: %s", self->config.name, err);
        s_spawn_refused (self, identity, claim, reply);
        s_spawn_failed (self, err);
        return;
    }
    zlist_remove (self->claims, claim);
    free (claim);
    worm_log ("spawned guest %s: %s for worm %s, pid %d", guest->id, program, guest->worm,
              (int) pid);
    worm_agent_reconsider (self);

    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kstr (&writer, "guest", guest->id);
    worm_wire_ku64 (&writer, "pid", (uint64_t) pid);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

