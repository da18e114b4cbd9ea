/*  guests.c — the agent's running guests: who they are (the guests.list
    record, and the sweep that ends what a former agent on the folder left
    running), how they end (reaped, their leftovers killed, their folder
    removed, their last words logged) and how they are stopped (SIGTERM and
    SIGCONT to the tree, the grace period, SIGKILL), evicted under the
    owner's policy with a receipt each, and told of a dead member. Starting
    one is guest_spawn.c's. See agent_internal.h and docs/PROTOCOL.md
    ("Control", "Eviction").
*/
#include "agent_internal.h"
#include "ctl.h"
#include "proctree.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  --------------------------------------------------------------------------
//  Who they are

worm_guest_t *
worm_guests_by_key (worm_agent_t *self, const char *key)
{
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (guest->worm_key[0] && key && streq (guest->worm_key, key))
            return guest;
    return NULL;
}

//  The environment entry that marks every process of a guest: unique across
//  agents, which matters when virtual hosts share one machine's processes.
void
worm_guests_marker (worm_agent_t *self, const worm_guest_t *guest, char *buf, size_t cap)
{
    snprintf (buf, cap, "WORM_GUEST_MARK=%s/%s", self->host_id, guest->id);
}

//  The last line a guest wrote to its log, into buf ("" when none).
static void
s_last_words (const worm_guest_t *guest, char *buf, size_t cap)
{
    buf[0] = 0;
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/guest.log", guest->workdir);
    //  The folder is the guest's: follow no link it planted, wait on no fifo
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    FILE *file = fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode) ? fdopen (fd, "r") : NULL;
    if (!file) {
        if (fd >= 0)
            close (fd);
        return;
    }
    char tail[512];
    if (fseek (file, -(long) (sizeof tail - 1), SEEK_END))
        rewind (file);
    size_t size = fread (tail, 1, sizeof tail - 1, file);
    fclose (file);
    tail[size] = 0;
    while (size && tail[size - 1] == '\n')
        tail[--size] = 0;
    char *line = strrchr (tail, '\n');
    snprintf (buf, cap, "%s", line ? line + 1 : tail);
}

//  Writes STATE/guests.list: one line "ID PID START" per running guest
//  (START its start time in /proc), so that the next agent on this folder
//  can end what we leave running if we die without stopping our guests.
//  Written whole and renamed into place; a failure is logged.
void
worm_guests_save (worm_agent_t *self)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf (path, sizeof path, "%s/%s", self->config.state_dir, WORM_AGENT_GUESTS_RECORD);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *file = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (!file) {
        if (fd >= 0)
            close (fd);
        worm_log ("cannot write %s: %s", tmp, strerror (errno));
        return;
    }
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests)) {
        if (!guest->started_ticks)
            worm_proc_started (guest->pid, &guest->started_ticks);
        fprintf (file, "%s %d %llu\n", guest->id, (int) guest->pid, guest->started_ticks);
    }
    if (fclose (file) || rename (tmp, path))
        worm_log ("cannot write %s: %s", path, strerror (errno));
}

//  At start, under the lock: ends whatever a former agent on this folder
//  left running (it was killed, or its host crashed): the processes of the
//  guests it recorded, and every process marked with our host id (the
//  marker finds those that left their guest's session, where we may read
//  their environment). Then their folders may go.
void
worm_guests_sweep (worm_agent_t *self)
{
    static pid_t pids[WORM_PROCTREE_MAX];
    int count = 0, recorded = 0;
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s", self->config.state_dir, WORM_AGENT_GUESTS_RECORD);
    FILE *file = fopen (path, "r");
    char line[160];
    while (file && fgets (line, sizeof line, file)) {
        char id[WORM_AGENT_GUEST_ID_MAX + 1];
        int pid;
        unsigned long long started;
        if (sscanf (line, "%" WORM_AGENT_STR (WORM_AGENT_GUEST_ID_MAX) "s %d %llu", id, &pid,
                    &started) != 3
            || pid <= 1 || !started)
            continue;
        recorded++;
        count += worm_proctree_leftovers ((pid_t) pid, started, NULL, pids + count,
                                          WORM_PROCTREE_MAX - count);
    }
    if (file)
        fclose (file);
    char prefix[64];
    snprintf (prefix, sizeof prefix, "WORM_GUEST_MARK=%s/", self->host_id);
    count += worm_proctree_leftovers (0, 0, prefix, pids + count, WORM_PROCTREE_MAX - count);
    //  A process found by its guest's record and by its marker counts once
    int unique = 0;
    for (int i = 0; i < count; i++) {
        int k = 0;
        while (k < unique && pids[k] != pids[i])
            k++;
        if (k == unique)
            pids[unique++] = pids[i];
    }
    count = unique;
    if (!count)
        return;
    for (int i = 0; i < count; i++)
        kill (pids[i], SIGKILL);
    //  They are not our children: init reaps them; wait until none can run
    int64_t deadline = worm_now_ms () + WORM_AGENT_SWEEP_WAIT_MS;
    int left = count;
    while (left && worm_now_ms () < deadline) {
        left = 0;
        for (int i = 0; i < count; i++)
            left += !worm_proc_gone (pids[i]);
        if (left)
            zclock_sleep (WORM_AGENT_SWEEP_POLL_MS);
    }
    worm_log ("a former agent on %s left %d process(es) of its guests running (%d guest(s) "
              "recorded); killed them%s", self->config.state_dir, count, recorded,
              left ? ", and some still run" : "");
}

//  At start: guests of another user must pass through the state folder and
//  the guests folder to reach their own, so both get search permission for
//  others, never read (0711); every folder above, and the programs, must
//  already be reachable by that user, or the agent refuses to start.
int
worm_guests_prepare (worm_agent_t *self, char *err, size_t cap)
{
    const worm_config_t *config = &self->config;
    if (config->guest_user_other) {
        if (chmod (config->state_dir, 0711) || chmod (self->guests_dir, 0711)) {
            snprintf (err, cap, "cannot open %s to guests: %s", self->guests_dir,
                      strerror (errno));
            return -1;
        }
        if (worm_user_reach (&config->guest_user, self->guests_dir, err, cap)
            || worm_user_reach (&config->guest_user, config->programs_dir, err, cap))
            return -1;
    }
    //  Runs' private /tmp: said once here, whichever way it goes
    char why[256] = "wormd is not root";
    self->private_tmp = config->guest_user_other && worm_spawn_private_tmp_probe (why, sizeof why) == 0;
    if (config->allow_run)
        worm_log ("commands run here (wormd --allow-run) get %s", self->private_tmp
                  ? "a private /tmp, /var/tmp and /dev/shm each, removed when they end"
                  : "no private /tmp: they share this host's /tmp, /var/tmp and /dev/shm, "
                    "and what they leave there stays");
    if (config->allow_run && !self->private_tmp)
        worm_log ("no private /tmp for commands: %s", why);
    //  0 leaves wormd's own limit
    char memory[32] = "none", files[32] = "wormd's", procs[32] = "wormd's";
    if (config->guest_memory)
        snprintf (memory, sizeof memory, "%lu MiB", config->guest_memory >> 20);
    if (config->guest_files)
        snprintf (files, sizeof files, "%lu", config->guest_files);
    if (config->guest_procs)
        snprintf (procs, sizeof procs, "%lu", config->guest_procs);
    worm_log ("guests run as %s (uid %u, gid %u) at nice %d, limits: data %s, open files %s, "
              "the user's processes %s",
              config->guest_user.name, (unsigned) config->guest_user.uid,
              (unsigned) config->guest_user.gid, WORM_AGENT_GUEST_NICE, memory, files, procs);
    return 0;
}

//  --------------------------------------------------------------------------
//  How they end, and are stopped

//  Sends a registered segment one request {"op": op, key: value} that gets no
//  reply (evict, suspect), without waiting, over the connection we keep to
//  it (made on first use, CURVE with its worm's key).
static void
s_tell_guest (worm_guest_t *guest, const char *op, const char *key, const char *value)
{
    char err[256];
    if (!guest->dealer && guest->endpoint[0] && guest->worm_key[0]) {
        guest->dealer = worm_ctl_connect (guest->endpoint, guest->worm_key, err, sizeof err);
        //  Linger: a request should leave even while the agent shuts down
        if (guest->dealer)
            zsock_set_linger (guest->dealer, WORM_AGENT_TELL_LINGER_MS);
    }
    if (!guest->dealer)
        return;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kstr (&writer, "op", op);
    worm_wire_kstr (&writer, key, value);
    worm_wire_map_close (&writer);
    zmq_send (zsock_resolve (guest->dealer), worm_wire_writer_data (&writer),
              worm_wire_writer_size (&writer), ZMQ_DONTWAIT);
    worm_wire_writer_fini (&writer);
}

worm_wire_writer_t *
worm_guests_event (worm_agent_t *self, const char *kind, const worm_guest_t *guest)
{
    worm_wire_writer_t *event = worm_agent_event (self, kind);
    worm_wire_kstr (event, "guest", guest->id);
    worm_wire_kstr (event, "worm", guest->worm);
    if (guest->worm_id[0])
        worm_wire_kstr (event, "worm_id", guest->worm_id);
    worm_wire_kstr (event, "program", guest->program);
    worm_wire_ku64 (event, "pid", (uint64_t) guest->pid);
    return event;
}

//  A guest ended with status (waitpid's): whatever it left running is
//  killed, its folder removed, a crash told to the LAN, an eviction given
//  its receipt; then it is forgotten (freed) and the record rewritten.
static void
s_guest_ended (worm_agent_t *self, worm_guest_t *guest, int status)
{
    char last[256];
    s_last_words (guest, last, sizeof last);
    //  Whatever the guest left running goes with it
    char marker[WORM_AGENT_MARKER_MAX + 1];
    worm_guests_marker (self, guest, marker, sizeof marker);
    int leftovers = worm_proctree_signal (guest->pid, marker, SIGKILL);
    if (leftovers)
        worm_log ("guest %s left %d process(es) behind; killed them", guest->id, leftovers);
    if (WIFEXITED (status))
        worm_log ("guest %s (%s, worm %s, pid %d) exited with status %d%s%s", guest->id,
                  guest->program, guest->worm, (int) guest->pid, WEXITSTATUS (status),
                  last[0] ? "; its last words: " : "", last);
    else if (WIFSIGNALED (status))
        worm_log ("guest %s (%s, worm %s, pid %d) killed by signal %d", guest->id,
                  guest->program, guest->worm, (int) guest->pid, WTERMSIG (status));
    //  A segment that died without leaving: tell the LAN, so that its worm
    //  replaces it without waiting for the token to come round (a hint; the
    //  worm asks us over CURVE whether the segment is really gone)
    worm_wire_writer_t *event = worm_guests_event (self, "exit", guest);
    if (WIFSIGNALED (status))
        worm_wire_ku64 (event, "signal", (uint64_t) WTERMSIG (status));
    else
        worm_wire_ku64 (event, "status", (uint64_t) WEXITSTATUS (status));
    worm_wire_ku64 (event, "cpu_ms", (uint64_t) guest->cpu_ms);
    if (guest->stopping)
        worm_agent_event_kstr (event, "stopped", guest->evict_reason);
    worm_events_commit (self->events);
    bool crashed = WIFSIGNALED (status) || (WIFEXITED (status) && WEXITSTATUS (status) != 0);
    if (crashed && guest->segment_id[0] && guest->worm_id[0] && !guest->stopping) {
        worm_announce_death (self->announce, guest->worm_id, guest->segment_id);
    }
    zsock_destroy (&guest->dealer);
    //  A run sends its outputs from the folder first, and removes it then
    bool kept = guest->run && worm_run_guest_ended (self, guest->run, guest, status);
    bool files_left = !kept && worm_rmtree (guest->workdir) != 0;
    if (files_left)
        worm_log ("guest %s: could not remove %s", guest->id, guest->workdir);
    if (guest->evicting) {
        worm_receipt_t *receipt = calloc (1, sizeof *receipt);
        receipt->at_wall_ms = worm_wall_ms () - (worm_now_ms () - guest->evict_started_ms);
        snprintf (receipt->guest, sizeof receipt->guest, "%s", guest->id);
        snprintf (receipt->worm, sizeof receipt->worm, "%s", guest->worm);
        snprintf (receipt->segment, sizeof receipt->segment, "%s", guest->segment_id);
        snprintf (receipt->reason, sizeof receipt->reason, "%s", guest->evict_reason);
        receipt->released_ms = worm_now_ms () - guest->evict_started_ms;
        receipt->killed = guest->killed;
        receipt->leftover_processes = leftovers;
        receipt->leftover_files = files_left;
        worm_log ("eviction receipt: guest %s (worm %s) gone %lld ms after the decision, "
                  "signals %s, left over: %d process(es), %s",
                  guest->id, guest->worm, (long long) receipt->released_ms,
                  guest->killed ? "SIGTERM then SIGKILL" : "SIGTERM", leftovers,
                  files_left ? "its folder" : "no file");
        zlist_append (self->receipts, receipt);
        event = worm_agent_event (self, "evict");
        worm_wire_kstr (event, "guest", receipt->guest);
        worm_wire_kstr (event, "worm", receipt->worm);
        if (receipt->segment[0])
            worm_wire_kstr (event, "segment", receipt->segment);
        worm_agent_event_kstr (event, "reason", receipt->reason);
        worm_wire_ki64 (event, "decided", receipt->at_wall_ms);
        worm_wire_ki64 (event, "released_ms", receipt->released_ms);
        worm_wire_kstr (event, "signals", receipt->killed ? "SIGTERM,SIGKILL" : "SIGTERM");
        worm_wire_ku64 (event, "leftover_processes", (uint64_t) receipt->leftover_processes);
        worm_wire_kbool (event, "leftover_files", receipt->leftover_files);
        worm_events_commit (self->events);
        if (zlist_size (self->receipts) > WORM_AGENT_MAX_RECEIPTS)
            free (zlist_pop (self->receipts));
    }
    zlist_remove (self->guests, guest);
    free (guest);
    worm_guests_save (self);
}

//  Starts stopping a guest: SIGTERM to its whole tree (and SIGCONT, so a
//  stopped process gets it too), SIGKILL when the grace period ends (see
//  s_on_reap). An eviction first tells the segment (EVICT) and ends with a
//  receipt; a kill of its worm does neither.
void
worm_guests_stop (worm_agent_t *self, worm_guest_t *guest, bool evicting, const char *reason)
{
    if (guest->stopping)
        return;
    guest->stopping = true;
    guest->evicting = evicting;
    snprintf (guest->evict_reason, sizeof guest->evict_reason, "%s", reason);
    guest->evict_started_ms = worm_now_ms ();
    guest->kill_at_ms = guest->evict_started_ms + (int64_t) (self->config.policy.grace_s * 1000);
    worm_log ("%s guest %s (worm %s, pid %d): %s", evicting ? "evicting" : "stopping",
              guest->id, guest->worm, (int) guest->pid, reason);
    if (evicting)
        s_tell_guest (guest, "evict", "reason", reason);
    char marker[WORM_AGENT_MARKER_MAX + 1];
    worm_guests_marker (self, guest, marker, sizeof marker);
    worm_proctree_signal (guest->pid, marker, SIGTERM);
    worm_proctree_signal (guest->pid, marker, SIGCONT);
}

//  The owner's policy against the guests: when the host is unwilling for
//  any reason but being full, every guest goes; when the policy allows
//  fewer guests than run, the newest go.
void
worm_guests_enforce (worm_agent_t *self)
{
    int staying = 0;
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        staying += !guest->stopping;
    bool owner_back = !self->willing && strncmp (self->reason, "full", 4) != 0;
    //  Runs still loading their inputs hold a slot without a guest yet
    if (owner_back)
        worm_runs_evict_loading (self, self->reason);
    if (!staying)
        return;
    int surplus = owner_back ? staying : staying - self->config.policy.max_segments;
    if (surplus <= 0)
        return;
    char reason[WORM_AGENT_REASON_MAX + 1];
    if (owner_back)
        snprintf (reason, sizeof reason, "%s", self->reason);
    else
        snprintf (reason, sizeof reason, "policy allows %d guest(s)",
                  self->config.policy.max_segments);
    //  Newest first: walk the list (oldest first) and take the last ones
    int index = 0;
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (!guest->stopping && index++ >= staying - surplus)
            worm_guests_stop (self, guest, true, reason);
    //  Outstanding claims are void too
    worm_claim_t *claim;
    while (owner_back && (claim = zlist_pop (self->claims)))
        free (claim);
}

//  The CPU time of a reaped process (and of the descendants it reaped), ms.
static int64_t
s_cpu_ms (const struct rusage *usage)
{
    return (int64_t) (usage->ru_utime.tv_sec + usage->ru_stime.tv_sec) * 1000
           + (usage->ru_utime.tv_usec + usage->ru_stime.tv_usec) / 1000;
}

//  Reaps every child that ended; returns how many were guests.
int
worm_guests_reap (worm_agent_t *self)
{
    int reaped = 0;
    int status;
    pid_t pid;
    struct rusage usage;
    while ((pid = wait4 (-1, &status, WNOHANG, &usage)) > 0) {
        bool guest_ended = false;
        for (worm_guest_t *guest = zlist_first (self->guests); guest;
             guest = zlist_next (self->guests))
            if (guest->pid == pid) {
                guest->cpu_ms = s_cpu_ms (&usage);
                s_guest_ended (self, guest, status);
                reaped++;
                guest_ended = true;
                break;
            }
        if (!guest_ended)
            worm_rings_reaped (self, pid, status);
    }
    return reaped;
}

void
worm_guests_stop_all (worm_agent_t *self)
{
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        kill (-guest->pid, SIGTERM);
    int64_t grace_ms = (int64_t) (self->config.policy.grace_s * 1000);
    int64_t deadline = worm_now_ms () + (grace_ms < WORM_AGENT_STOP_WAIT_MS ? grace_ms : WORM_AGENT_STOP_WAIT_MS);
    while (zlist_size (self->guests) && worm_now_ms () < deadline) {
        worm_guests_reap (self);
        zclock_sleep (WORM_AGENT_STOP_POLL_MS);
    }
    while (zlist_size (self->guests)) {
        worm_guest_t *guest = zlist_first (self->guests);
        if (guest->keeper) {
            //  Its keeper ends the rest of its tree, escaped ones included
            worm_guests_kill (self, guest);
            siginfo_t info;
            int64_t until = worm_now_ms () + WORM_AGENT_STOP_KEEPER_MS;
            do {
                memset (&info, 0, sizeof info);
                if (waitid (P_PID, guest->pid, &info, WEXITED | WNOHANG | WNOWAIT) || info.si_pid)
                    break;
                zclock_sleep (WORM_AGENT_STOP_POLL_MS);
            } while (worm_now_ms () < until);
        }
        kill (-guest->pid, SIGKILL);
        int status = 0;
        struct rusage usage;
        if (wait4 (guest->pid, &status, 0, &usage) < 0)
            status = 0;
        else
            guest->cpu_ms = s_cpu_ms (&usage);
        s_guest_ended (self, guest, status);
    }
}

int
worm_guests_kill (worm_agent_t *self, worm_guest_t *guest)
{
    char marker[WORM_AGENT_MARKER_MAX + 1];
    worm_guests_marker (self, guest, marker, sizeof marker);
    if (!guest->keeper)
        return worm_proctree_signal (guest->pid, marker, SIGKILL);
    static pid_t pids[WORM_PROCTREE_MAX];
    int count = worm_proctree_collect (guest->pid, marker, pids, WORM_PROCTREE_MAX);
    int killed = 0;
    for (int i = 0; i < count; i++)
        if (pids[i] != guest->pid && kill (pids[i], SIGKILL) == 0)
            killed++;
    kill (guest->pid, SIGCONT);
    return killed;
}

void
worm_guests_kill_late (worm_agent_t *self)
{
    int64_t now = worm_now_ms ();
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (guest->stopping && !guest->killed && now >= guest->kill_at_ms) {
            int count = worm_guests_kill (self, guest);
            guest->killed = true;
            worm_log ("guest %s ignored SIGTERM for %.1f s: SIGKILL to %d process(es)", guest->id,
                      (double) (now - guest->evict_started_ms) / 1000.0, count);
        }
}

//  --------------------------------------------------------------------------
//  Their ops: the owner's list, a segment's registration, find, alive, and
//  the eviction receipts

void
worm_agent_op_guests (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    (void) reader;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_key (&writer, "guests");
    worm_wire_array (&writer, zlist_size (self->guests));
    for (worm_guest_t *guest = zlist_first (self->guests); guest;
         guest = zlist_next (self->guests)) {
        worm_wire_map_open (&writer);
        worm_wire_kstr (&writer, "id", guest->id);
        worm_wire_ku64 (&writer, "pid", (uint64_t) guest->pid);
        worm_wire_kstr (&writer, "program", guest->program);
        worm_wire_kstr (&writer, "worm", guest->worm);
        worm_wire_kstr (&writer, "workdir", guest->workdir);
        worm_wire_ki64 (&writer, "started", guest->started_wall_ms);
        worm_wire_map_close (&writer);
    }
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

static worm_guest_t *
s_find_guest (worm_agent_t *self, const char *id)
{
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (strcmp (guest->id, id) == 0)
            return guest;
    return NULL;
}

//  A segment we started says who it is and where it listens.
void
worm_agent_op_segment (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char guest_id[WORM_AGENT_GUEST_ID_MAX + 1], segment_id[WORM_TOKEN_ID_MAX],
        worm_id[WORM_TOKEN_ID_MAX], endpoint[WORM_TOKEN_ENDPOINT_MAX];
    if (worm_wire_get_str (reader, reader->root, "guest", guest_id, sizeof guest_id)
        || worm_wire_get_str (reader, reader->root, "id", segment_id, sizeof segment_id)
        || worm_wire_get_str (reader, reader->root, "worm_id", worm_id, sizeof worm_id)
        || worm_wire_get_str (reader, reader->root, "endpoint", endpoint, sizeof endpoint)) {
        worm_ctl_reply_error (self->router, identity, "segment: %s", reader->error);
        return;
    }
    //  A guest registers itself, never another worm's: the key must be its
    //  worm's (two guests of one worm share it while one is stopping)
    worm_guest_t *guest = s_find_guest (self, guest_id);
    if (!guest || !guest->worm_key[0] || !self->sender
        || !streq (guest->worm_key, self->sender)) {
        worm_ctl_reply_error (self->router, identity, "segment: no guest %s here with key %s",
                              guest_id, self->sender);
        return;
    }
    if (guest->worm_id[0] && !streq (guest->worm_id, worm_id)) {
        worm_ctl_reply_error (self->router, identity,
                              "segment: guest %s was started for worm id %s, not %s", guest_id,
                              guest->worm_id, worm_id);
        return;
    }
    if (strncmp (endpoint, "tcp://", 6) != 0) {
        worm_ctl_reply_error (self->router, identity, "segment: endpoint is not tcp://");
        return;
    }
    snprintf (guest->segment_id, sizeof guest->segment_id, "%s", segment_id);
    snprintf (guest->worm_id, sizeof guest->worm_id, "%s", worm_id);
    snprintf (guest->endpoint, sizeof guest->endpoint, "%s", endpoint);
    worm_log ("guest %s is segment %s of worm %s at %s", guest->id, segment_id, guest->worm,
              endpoint);
    worm_ctl_reply_ok (self->router, identity);
}

//  The local segments of one worm, or of every worm when none is named.
void
worm_agent_op_find (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char worm[WORM_AGENT_NAME_MAX + 1] = "";
    if (worm_wire_get_str (reader, reader->root, "worm", worm, sizeof worm) == -1) {
        worm_ctl_reply_error (self->router, identity, "find: %s", reader->error);
        return;
    }
    size_t count = 0;
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (guest->segment_id[0] && (!worm[0] || strcmp (guest->worm, worm) == 0))
            count++;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_key (&writer, "segments");
    worm_wire_array (&writer, count);
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (guest->segment_id[0] && (!worm[0] || strcmp (guest->worm, worm) == 0)) {
            worm_wire_map_open (&writer);
            worm_wire_kstr (&writer, "worm", guest->worm);
            worm_wire_kstr (&writer, "key", guest->worm_key);
            worm_wire_kstr (&writer, "worm_id", guest->worm_id);
            worm_wire_kstr (&writer, "id", guest->segment_id);
            worm_wire_kstr (&writer, "guest", guest->id);
            worm_wire_ku64 (&writer, "pid", (uint64_t) guest->pid);
            worm_wire_kstr (&writer, "host", self->config.name);
            worm_wire_kstr (&writer, "endpoint", guest->endpoint);
            worm_wire_kbool (&writer, "evicting", guest->stopping);
            worm_wire_map_close (&writer);
        }
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

void
worm_agent_op_evictions (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    (void) reader;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_key (&writer, "evictions");
    worm_wire_array (&writer, zlist_size (self->receipts));
    for (worm_receipt_t *receipt = zlist_first (self->receipts); receipt;
         receipt = zlist_next (self->receipts)) {
        worm_wire_map_open (&writer);
        worm_wire_ki64 (&writer, "at", receipt->at_wall_ms);
        worm_wire_kstr (&writer, "guest", receipt->guest);
        worm_wire_kstr (&writer, "worm", receipt->worm);
        worm_wire_kstr (&writer, "segment", receipt->segment);
        worm_wire_kstr (&writer, "reason", receipt->reason);
        worm_wire_ki64 (&writer, "released_ms", receipt->released_ms);
        worm_wire_kstr (&writer, "signals", receipt->killed ? "SIGTERM,SIGKILL" : "SIGTERM");
        worm_wire_ku64 (&writer, "leftover_processes", (uint64_t) receipt->leftover_processes);
        worm_wire_kbool (&writer, "leftover_files", receipt->leftover_files);
        worm_wire_map_close (&writer);
    }
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  Whether a process is one of our running guests (a ring confirming a death).
void
worm_agent_op_alive (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    uint64_t pid;
    if (worm_wire_get_u64 (reader, reader->root, "pid", &pid)) {
        worm_ctl_reply_error (self->router, identity, "alive: %s", reader->error);
        return;
    }
    worm_guests_reap (self);
    bool alive = false;
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if ((uint64_t) guest->pid == pid)
            alive = true;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kbool (&writer, "alive", alive);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  --------------------------------------------------------------------------
//  News of their worm

//  A host says a segment of worm W died there: our local segments of W hear
//  it at once ("suspect"), and check it with that host themselves.
void
worm_guests_death_notice (worm_agent_t *self, const worm_beacon_t *notice)
{
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests)) {
        if (!guest->segment_id[0] || !guest->worm_key[0] || guest->stopping
            || strcmp (guest->worm_id, notice->worm_id) != 0
            || strcmp (guest->segment_id, notice->segment) == 0)
            continue;
        s_tell_guest (guest, "suspect", "id", notice->segment);
    }
}
