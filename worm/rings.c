/*  rings.c — the host agent rings alarms (the ring op): the alarm app's
    segments ask it, directly or relayed by their own agent, to ring one
    alarm once, naming it by its id. The agent runs its ring command (as
    the guests' user, with a timeout) and appends a line to its ring log,
    whichever it was given, and remembers the id (the worm's id and the
    alarm's, the ring's dedupe key) in memory and in STATE/rings.seen, so
    that a second ring of that alarm, from a segment that retried after
    another died, is dropped and answered with the time of the first.
    See agent_internal.h and docs/PROTOCOL.md ("Control", ring, and
    "Alarms").
*/
#include "agent_internal.h"
#include "ctl.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

//  --------------------------------------------------------------------------
//  The memory of the alarms rung here: a circle of the latest ones, by key

static worm_rung_t *
s_rung_find (worm_agent_t *self, const char *key)
{
    return (worm_rung_t *) zhashx_lookup (self->rung_by_key, key);
}

//  Remembers key (rung at at_wall_ms), forgetting the oldest when full.
static void
s_rung_add (worm_agent_t *self, const char *key, int64_t at_wall_ms)
{
    if (s_rung_find (self, key))
        return;
    worm_rung_t *slot = &self->rung[self->rung_next];
    if (slot->key[0])
        zhashx_delete (self->rung_by_key, slot->key);
    snprintf (slot->key, sizeof slot->key, "%s", key);
    slot->at_wall_ms = at_wall_ms;
    zhashx_insert (self->rung_by_key, slot->key, slot);
    self->rung_next = (self->rung_next + 1) % WORM_AGENT_RINGS_REMEMBERED;
}

//  A key as the record holds it: WORM-ID/ALARM-ID/DUE, the ids
//  [A-Za-z0-9._-], DUE decimal digits (an alarm's id may come back, with
//  another due time, once its worm dropped the first).
static bool
s_key_valid (const char *key)
{
    const char *slash = strchr (key, '/');
    const char *last = strrchr (key, '/');
    if (!slash || slash == key || last == slash || strlen (key) >= WORM_RINGING_KEY_MAX
        || (size_t) (slash - key) >= WORM_TOKEN_ID_MAX || !last[1]
        || strspn (last + 1, "0123456789") != strlen (last + 1))
        return false;
    char worm_id[WORM_TOKEN_ID_MAX], alarm[WORM_RINGING_KEY_MAX];
    snprintf (worm_id, sizeof worm_id, "%.*s", (int) (slash - key), key);
    snprintf (alarm, sizeof alarm, "%.*s", (int) (last - slash - 1), slash + 1);
    return worm_name_valid (worm_id) && worm_ringing_id_valid (alarm);
}

//  Rewrites the record from memory, oldest first, and opens it for appending.
static int
s_record_rewrite (worm_agent_t *self, char *err, size_t cap)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf (path, sizeof path, "%s/%s", self->config.state_dir, WORM_AGENT_RINGS_RECORD);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    if (self->rung_record)
        fclose (self->rung_record);
    self->rung_record = NULL;
    FILE *file = fopen (tmp, "w");
    if (!file) {
        snprintf (err, cap, "cannot write %s: %s", tmp, strerror (errno));
        return -1;
    }
    self->rung_lines = 0;
    for (size_t i = 0; i < WORM_AGENT_RINGS_REMEMBERED; i++) {
        const worm_rung_t *rung =
            &self->rung[(self->rung_next + i) % WORM_AGENT_RINGS_REMEMBERED];
        if (rung->key[0]) {
            fprintf (file, "%s %lld\n", rung->key, (long long) rung->at_wall_ms);
            self->rung_lines++;
        }
    }
    if (fclose (file) || rename (tmp, path)) {
        snprintf (err, cap, "cannot write %s: %s", path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    self->rung_record = fopen (path, "a");
    if (!self->rung_record) {
        snprintf (err, cap, "cannot append to %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

//  Records key in STATE/rings.seen, compacting it when it has grown to
//  twice what memory keeps. A failure is logged: the memory still has it.
static void
s_record_append (worm_agent_t *self, const char *key, int64_t at_wall_ms)
{
    char err[PATH_MAX + 64];
    if (self->rung_lines >= 2 * WORM_AGENT_RINGS_REMEMBERED
        && s_record_rewrite (self, err, sizeof err))
        worm_log ("rings: %s", err);
    if (!self->rung_record)
        return;
    if (fprintf (self->rung_record, "%s %lld\n", key, (long long) at_wall_ms) < 0
        || fflush (self->rung_record))
        worm_log ("rings: cannot append to %s/%s: %s", self->config.state_dir,
                  WORM_AGENT_RINGS_RECORD, strerror (errno));
    else
        self->rung_lines++;
}

bool
worm_rings_enabled (worm_agent_t *self)
{
    return self->config.ring_command[0] || self->config.ring_log[0];
}

int
worm_rings_start (worm_agent_t *self, char *err, size_t cap)
{
    self->rung = calloc (WORM_AGENT_RINGS_REMEMBERED, sizeof *self->rung);
    self->rung_by_key = zhashx_new ();
    self->ringers = zlist_new ();
    if (!self->rung || !self->rung_by_key || !self->ringers) {
        snprintf (err, cap, "out of memory for the memory of rung alarms");
        return -1;
    }
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s", self->config.state_dir, WORM_AGENT_RINGS_RECORD);
    FILE *file = fopen (path, "r");
    size_t lines = 0, bad = 0;
    if (file) {
        char line[WORM_RINGING_KEY_MAX + 64];
        while (fgets (line, sizeof line, file)) {
            char key[128];
            long long at;
            lines++;
            if (sscanf (line, "%127s %lld", key, &at) == 2
                && s_key_valid (key))
                s_rung_add (self, key, at);
            else
                bad++;
        }
        fclose (file);
        if (bad)
            worm_log ("rings: %zu line(s) of %s were not 'WORM-ID/ALARM-ID TIME'; ignored", bad,
                      path);
    }
    else if (errno != ENOENT) {
        snprintf (err, cap, "cannot read %s: %s", path, strerror (errno));
        return -1;
    }
    if (lines)
        worm_log ("rings: %zu alarm(s) rung here before are remembered",
                  zhashx_size (self->rung_by_key));
    //  A ring log we cannot append to is said now, not at the first ring
    if (self->config.ring_log[0]) {
        int fd = open (self->config.ring_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf (err, cap, "cannot open the ring log %s: %s", self->config.ring_log,
                      strerror (errno));
            return -1;
        }
        close (fd);
    }
    return s_record_rewrite (self, err, cap);
}

//  --------------------------------------------------------------------------
//  Ringing

static void
s_free_strings (char **strings)
{
    for (size_t i = 0; strings[i]; i++)
        zstr_free (&strings[i]);
}

//  Starts the ring command for one alarm, as the guests' user, in its own
//  session, with the alarm in its environment and nothing else of ours.
//  Returns its pid, or -1 with the reason in err.
static pid_t
s_run_command (worm_agent_t *self, const char *worm_id, const char *alarm, const char *due,
               const char *message, char *err, size_t cap)
{
    char *argv[] = {"sh", "-c", self->config.ring_command, NULL};
    char *envp[12] = {NULL};
    size_t n = 0;
    envp[n++] = zsys_sprintf ("PATH=/usr/local/bin:/usr/bin:/bin");
    envp[n++] = zsys_sprintf ("HOME=/");
    envp[n++] = zsys_sprintf ("TMPDIR=/tmp");
    envp[n++] = zsys_sprintf ("LANG=C.UTF-8");
    envp[n++] = zsys_sprintf ("WORM_HOST=%s", self->config.name);
    envp[n++] = zsys_sprintf ("WORM_ALARM_WORM=%s", worm_id);
    envp[n++] = zsys_sprintf ("WORM_ALARM_ID=%s", alarm);
    envp[n++] = zsys_sprintf ("WORM_ALARM_DUE=%s", due);
    envp[n++] = zsys_sprintf ("WORM_ALARM_MESSAGE=%s", message);
    char log_path[PATH_MAX + 32];
    snprintf (log_path, sizeof log_path, "%s/ring-command.log", self->config.state_dir);
    //  Not at the guests' nice 19: a ring is a few milliseconds of work that
    //  someone waits for, and its timeout bounds it
    worm_spawn_spec_t spec = {
        .path = "/bin/sh", .argv = argv, .envp = envp, .workdir = "/", .log_path = log_path,
        .umask = 077, .user = self->config.guest_user_other ? &self->config.guest_user : NULL,
        .no_new_privs = true, .mem_bytes = self->config.guest_memory,
        .max_files = self->config.guest_files, .max_procs = self->config.guest_procs,
        .parent_death_signal = SIGKILL};
    pid_t pid = worm_spawn (&spec, err, cap);
    s_free_strings (envp);
    return pid;
}

//  Appends "WORM-ID/ALARM-ID HOST DUE MESSAGE" to the ring log in one
//  write, so that the lines of several agents sharing it never mix; an
//  alarm id is unique in its worm only, so the line names both, as the
//  dedupe key does. Returns 0, or -1 with the reason in err.
static int
s_append_log (worm_agent_t *self, const char *worm_id, const char *alarm, const char *due,
              const char *message, char *err, size_t cap)
{
    char line[WORM_TOKEN_ID_MAX + WORM_RINGING_ID_MAX + WORM_RINGING_MESSAGE_MAX + 160];
    int len = snprintf (line, sizeof line, "%s/%s %s %s %s\n", worm_id, alarm,
                        self->config.name, due, message);
    int fd = open (self->config.ring_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf (err, cap, "cannot open the ring log %s: %s", self->config.ring_log,
                  strerror (errno));
        return -1;
    }
    ssize_t wrote = write (fd, line, (size_t) len);
    int saved = errno;
    close (fd);
    if (wrote != len) {
        snprintf (err, cap, "cannot append to the ring log %s: %s", self->config.ring_log,
                  wrote < 0 ? strerror (saved) : "short write");
        return -1;
    }
    return 0;
}

//  The answer to a ring: {ok, rung, at, host} and, when this host will
//  never ring it, why (refused).
static void
s_reply (worm_agent_t *self, zframe_t *identity, bool rung, int64_t at_wall_ms,
         const char *refused)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kbool (&writer, "rung", rung);
    worm_wire_ku64 (&writer, "at", at_wall_ms > 0 ? (uint64_t) at_wall_ms : 0);
    worm_wire_kstr (&writer, "host", self->config.name);
    if (refused)
        worm_wire_kstr (&writer, "refused", refused);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  Rings an alarm once. From one of our guest segments the worm is its
//  own; from a host relaying for one, or from our owner, the request
//  names it (worm_id).
void
worm_agent_op_ring (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char alarm[WORM_RINGING_ID_MAX + 1], message[WORM_RINGING_MESSAGE_MAX + 1],
        worm_id[WORM_TOKEN_ID_MAX] = "", why[160];
    uint64_t due = 0;
    if (worm_wire_get_str (reader, reader->root, "alarm", alarm, sizeof alarm)
        || worm_wire_get_u64 (reader, reader->root, "due", &due)
        || worm_wire_get_str (reader, reader->root, "message", message, sizeof message)) {
        worm_ctl_reply_error (self->router, identity, "ring: %s", reader->error);
        return;
    }
    worm_guest_t *guest = worm_guests_by_key (self, self->sender);
    if (guest && !(self->roles & (WORM_ROLE_HOST | WORM_ROLE_OWNER)))
        snprintf (worm_id, sizeof worm_id, "%s", guest->worm_id);
    else if (worm_wire_get_str (reader, reader->root, "worm_id", worm_id, sizeof worm_id)) {
        worm_ctl_reply_error (self->router, identity, "ring: a ring from a host or an owner "
                                                      "names its worm (field 'worm_id')");
        return;
    }
    if (!worm_name_valid (worm_id)) {
        worm_ctl_reply_error (self->router, identity, "ring: worm id '%s' is not "
                                                      "[A-Za-z0-9._-]{1,63}", worm_id);
        return;
    }
    if (!worm_ringing_id_valid (alarm)) {
        worm_ctl_reply_error (self->router, identity, "ring: alarm id '%s' is not "
                              "[A-Za-z0-9._-]{1,%d}", alarm, WORM_RINGING_ID_MAX);
        return;
    }
    if (!worm_ringing_message_valid (message, why, sizeof why)) {
        worm_ctl_reply_error (self->router, identity, "ring: alarm %s: %s", alarm, why);
        return;
    }
    char key[WORM_RINGING_KEY_MAX];
    snprintf (key, sizeof key, "%s/%s/%llu", worm_id, alarm, (unsigned long long) due);
    const worm_rung_t *rung = s_rung_find (self, key);
    if (rung) {
        char at[WORM_RINGING_TIME_TEXT];
        worm_ringing_time_text (rung->at_wall_ms, at, sizeof at);
        worm_log ("dropped a second ring of alarm %s of worm %s (rung here at %s)", alarm,
                  worm_id, at);
        s_reply (self, identity, false, rung->at_wall_ms, NULL);
        return;
    }
    if (!worm_rings_enabled (self)) {
        snprintf (why, sizeof why, "host %s does not ring alarms (no wormd --ring-command or "
                                   "--ring-log)", self->config.name);
        s_reply (self, identity, false, 0, why);
        return;
    }
    if (zlist_size (self->ringers) >= WORM_AGENT_RINGS_RUNNING) {
        //  Not rung, and not refused for good: the worm asks again
        worm_ctl_reply_error (self->router, identity, "ring: host %s runs %d ring commands "
                              "already; ask again later", self->config.name,
                              WORM_AGENT_RINGS_RUNNING);
        return;
    }
    char due_text[WORM_RINGING_TIME_TEXT], err[PATH_MAX + 128];
    worm_ringing_time_text ((int64_t) due, due_text, sizeof due_text);
    //  The command first: a ring that did not start is not rung, and the
    //  worm asks again; once it started (or the line is written) it is
    pid_t pid = 0;
    if (self->config.ring_command[0]) {
        pid = s_run_command (self, worm_id, alarm, due_text, message, err, sizeof err);
        if (pid < 0) {
            worm_log ("cannot ring alarm %s of worm %s: %s", alarm, worm_id, err);
            worm_ctl_reply_error (self->router, identity, "ring: host %s cannot start its "
                                  "ring command: %s", self->config.name, err);
            return;
        }
        worm_ringer_t *ringer = calloc (1, sizeof *ringer);
        ringer->pid = pid;
        snprintf (ringer->key, sizeof ringer->key, "%s", key);
        ringer->kill_at_ms = worm_now_ms () + (int64_t) (self->config.ring_timeout_s * 1000);
        zlist_append (self->ringers, ringer);
    }
    if (self->config.ring_log[0] && s_append_log (self, worm_id, alarm, due_text, message,
                                                  err, sizeof err)) {
        worm_log ("cannot ring alarm %s of worm %s in the log: %s", alarm, worm_id, err);
        if (!pid) {
            worm_ctl_reply_error (self->router, identity, "ring: host %s: %s",
                                  self->config.name, err);
            return;
        }
    }
    int64_t now = worm_wall_ms ();
    s_rung_add (self, key, now);
    s_record_append (self, key, now);
    if (pid)
        worm_log ("rang alarm %s of worm %s (due %s): ring command pid %d", alarm, worm_id,
                  due_text, (int) pid);
    else
        worm_log ("rang alarm %s of worm %s (due %s) in %s", alarm, worm_id, due_text,
                  self->config.ring_log);
    s_reply (self, identity, true, now, NULL);
}

//  --------------------------------------------------------------------------
//  Ring commands ending

void
worm_rings_reaped (worm_agent_t *self, pid_t pid, int status)
{
    for (worm_ringer_t *ringer = zlist_first (self->ringers); ringer;
         ringer = zlist_next (self->ringers))
        if (ringer->pid == pid) {
            //  Whatever it started in its group goes with it
            kill (-pid, SIGKILL);
            if (ringer->killed)
                worm_log ("ring command of %s killed after %.1f s", ringer->key,
                          self->config.ring_timeout_s);
            else if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
                worm_log ("ring command of %s done", ringer->key);
            else if (WIFEXITED (status))
                worm_log ("ring command of %s exited with status %d (see %s/ring-command.log)",
                          ringer->key, WEXITSTATUS (status), self->config.state_dir);
            else
                worm_log ("ring command of %s killed by signal %d", ringer->key,
                          WTERMSIG (status));
            zlist_remove (self->ringers, ringer);
            free (ringer);
            return;
        }
}

void
worm_rings_kill_late (worm_agent_t *self)
{
    int64_t now = worm_now_ms ();
    for (worm_ringer_t *ringer = zlist_first (self->ringers); ringer;
         ringer = zlist_next (self->ringers))
        if (!ringer->killed && now >= ringer->kill_at_ms) {
            ringer->killed = true;
            kill (-ringer->pid, SIGKILL);
        }
}

void
worm_rings_stop (worm_agent_t *self)
{
    worm_ringer_t *ringer;
    while (self->ringers && (ringer = zlist_pop (self->ringers))) {
        kill (-ringer->pid, SIGKILL);
        waitpid (ringer->pid, NULL, 0);
        free (ringer);
    }
    zlist_destroy (&self->ringers);
    zhashx_destroy (&self->rung_by_key);
    free (self->rung);
    self->rung = NULL;
    if (self->rung_record)
        fclose (self->rung_record);
    self->rung_record = NULL;
}
