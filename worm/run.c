/*  run.c — commands run as guests, for `wormctl run` (docs/PROTOCOL.md,
    "Run"): the run ops, the command's stdin, stdout and stderr streamed
    between its pipes and the client's connection with a window of 64 KiB
    messages each way, signals from the client to its process group, the
    inputs put into its folder before it starts and the outputs sent back
    after it ended, and its exit. The command is a guest like any
    (guest_spawn.c starts it, guests.c reaps, stops and evicts it); a run
    outlives its guest only to drain the pipes and send the outputs.
    Everything here runs on the agent's reactor, which polls the pipes.
    The files (inputs, outputs) are run_files.c's.
*/
#include "run_internal.h"
#include "ctl.h"
#include "proctree.h"
#include "runspec.h"
#include "spawn.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

//  The limits of requests are in agent_limits.h (WORM_RUN_*)
#define S_CLIENT_SILENCE_MS 10000  //  a client heard from in no longer is gone
#define S_KEEPALIVE_MS 1000        //  we say something to a client at least this often
//  After the command ended, its pipes get this long without a byte before
//  we close them (a process that left its tree may hold them open)
#define S_DRAIN_MS 2000
#define S_RUN_PATH "/usr/local/bin:/usr/bin:/bin"

static void s_finish (worm_agent_t *self, worm_run_t *run);
static void s_record_run (worm_agent_t *self, const worm_run_t *run, int64_t cpu_ms);

//  --------------------------------------------------------------------------
//  Helpers

static void
s_close (int *fd)
{
    if (*fd >= 0)
        close (*fd);
    *fd = -1;
}

//  Pushes one message of the run to its client (nothing once it is gone).
void
worm_run_push (worm_agent_t *self, worm_run_t *run, worm_wire_writer_t *writer)
{
    if (run->abandoned)
        return;
    worm_ctl_reply (self->router, run->client, writer);
    run->told_ms = worm_now_ms ();
}

//  Starts a pushed message {"t": type, "run": id, ...}; the caller adds the
//  rest, closes the map, pushes and finishes the writer.
void
worm_run_message (worm_wire_writer_t *writer, const worm_run_t *run, const char *type)
{
    worm_wire_writer_init (writer);
    worm_wire_map_open (writer);
    worm_wire_kstr (writer, "t", type);
    worm_wire_kstr (writer, "run", run->id);
}

void
worm_run_push_ack (worm_agent_t *self, worm_run_t *run, int count)
{
    worm_wire_writer_t writer;
    worm_run_message (&writer, run, "ack");
    worm_wire_ku64 (&writer, "n", (uint64_t) count);
    worm_wire_map_close (&writer);
    worm_run_push (self, run, &writer);
    worm_wire_writer_fini (&writer);
}

static worm_run_t *
s_find (worm_agent_t *self, const char *id)
{
    for (worm_run_t *run = zlist_first (self->runs); run; run = zlist_next (self->runs))
        if (streq (run->id, id))
            return run;
    return NULL;
}

//  The run a stream op names, when the caller's key made it; else replies
//  the refusal and returns NULL. Hearing the client renews its lease.
worm_run_t *
worm_run_of_request (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader,
                     const char *op)
{
    char id[WORM_AGENT_GUEST_ID_MAX + 1];
    if (worm_wire_get_str (reader, reader->root, "run", id, sizeof id)) {
        worm_ctl_reply_error (self->router, identity, "%s: %s", op, reader->error);
        return NULL;
    }
    worm_run_t *run = s_find (self, id);
    if (!run || run->abandoned || !self->sender || !streq (run->launcher, self->sender)) {
        worm_ctl_reply_error (self->router, identity, "%s: no run %s of key %s here", op, id,
                              self->sender ? self->sender : "(none)");
        return NULL;
    }
    run->heard_ms = worm_now_ms ();
    return run;
}

//  --------------------------------------------------------------------------
//  The command's pipes

static int s_on_out (zloop_t *loop, zmq_pollitem_t *item, void *arg);
static int s_on_in (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Watches (or stops watching) one of our pipe ends in the reactor.
static void
s_watch (worm_agent_t *self, worm_run_t *run, int fd, short events, bool *polled, bool on)
{
    if (fd < 0 || *polled == on)
        return;
    zmq_pollitem_t item = {NULL, fd, events, 0};
    if (on) {
        zloop_poller (self->loop, &item, events == ZMQ_POLLIN ? s_on_out : s_on_in, run);
        //  A pipe whose writer closed polls as an error: we want to read its end
        zloop_poller_set_tolerant (self->loop, &item);
    } else
        zloop_poller_end (self->loop, &item);
    *polled = on;
}

//  Watches stdout and stderr while the client has room for a message.
static void
s_watch_outputs (worm_agent_t *self, worm_run_t *run)
{
    for (int i = 0; i < 2; i++)
        s_watch (self, run, run->out_fd[i], ZMQ_POLLIN, &run->out_polled[i], run->credit > 0);
}

static void
s_stop_exit_watch (worm_agent_t *self, worm_run_t *run)
{
    if (run->exit_fd < 0)
        return;
    zmq_pollitem_t item = {NULL, run->exit_fd, ZMQ_POLLIN, 0};
    zloop_poller_end (self->loop, &item);
    s_close (&run->exit_fd);
}

static void
s_close_stdin (worm_agent_t *self, worm_run_t *run)
{
    s_watch (self, run, run->in_fd, ZMQ_POLLOUT, &run->in_polled, false);
    s_close (&run->in_fd);
    zchunk_t *chunk;
    while ((chunk = zlist_pop (run->in_queue)))
        zchunk_destroy (&chunk);
    run->in_offset = 0;
}

static void
s_close_output (worm_agent_t *self, worm_run_t *run, int i)
{
    s_watch (self, run, run->out_fd[i], ZMQ_POLLIN, &run->out_polled[i], false);
    s_close (&run->out_fd[i]);
}

//  Writes queued stdin into the pipe while it takes it, acks each chunk
//  written whole, and watches the pipe for room while some is left. A
//  command that closed its stdin takes nothing more: what was sent is
//  dropped and acked, so that the client is never stuck.
static void
s_pump_stdin (worm_agent_t *self, worm_run_t *run)
{
    int acked = 0;
    zchunk_t *chunk;
    while (run->in_fd >= 0 && (chunk = zlist_first (run->in_queue))) {
        size_t size = zchunk_size (chunk);
        ssize_t done =
            size > run->in_offset
                ? write (run->in_fd, zchunk_data (chunk) + run->in_offset, size - run->in_offset)
                : 0;
        if (done < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (done < 0) {
            //  EPIPE: the command will read no more
            acked += (int) zlist_size (run->in_queue);
            s_close_stdin (self, run);
            break;
        }
        run->in_offset += (size_t) done;
        if (run->in_offset == size) {
            zlist_pop (run->in_queue);
            zchunk_destroy (&chunk);
            run->in_offset = 0;
            acked++;
        }
    }
    if (run->in_fd >= 0 && zlist_size (run->in_queue) == 0 && run->in_eof)
        s_close_stdin (self, run);
    s_watch (self, run, run->in_fd, ZMQ_POLLOUT, &run->in_polled, zlist_size (run->in_queue) > 0);
    if (acked)
        worm_run_push_ack (self, run, acked);
}

static int
s_on_in (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    worm_run_t *run = (worm_run_t *) arg;
    s_pump_stdin (run->agent, run);
    return 0;
}

//  The command wrote on stdout or stderr (or closed it): one message of
//  at most WORM_RUN_CHUNK bytes to the client, within its window.
static int
s_on_out (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    worm_run_t *run = (worm_run_t *) arg;
    worm_agent_t *self = run->agent;
    int i = item->fd == run->out_fd[0] ? 0 : item->fd == run->out_fd[1] ? 1 : -1;
    if (i < 0 || run->credit <= 0)
        return 0;
    static char buf[WORM_RUN_CHUNK];
    ssize_t size = read (run->out_fd[i], buf, sizeof buf);
    if (size < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (size <= 0) {
        s_close_output (self, run, i);
        if (run->state == WORM_RUN_DRAINING && run->out_fd[0] < 0 && run->out_fd[1] < 0)
            s_finish (self, run);
        return 0;
    }
    run->drain_ms = worm_now_ms ();
    worm_wire_writer_t writer;
    worm_run_message (&writer, run, "out");
    worm_wire_ku64 (&writer, "fd", (uint64_t) (i + 1));
    worm_wire_kbin (&writer, "data", buf, (size_t) size);
    worm_wire_map_close (&writer);
    worm_run_push (self, run, &writer);
    worm_wire_writer_fini (&writer);
    run->credit--;
    s_watch_outputs (self, run);
    return 0;
}

//  The command ended: reaped at once rather than at the next reap tick, so
//  that a short command's exit reaches its client without waiting.
static int
s_on_exit_fd (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    worm_run_t *run = (worm_run_t *) arg;
    worm_agent_t *self = run->agent;
    s_stop_exit_watch (self, run);
    //  The run may be gone after this
    if (worm_guests_reap (self))
        worm_agent_reconsider (self);
    return 0;
}

//  --------------------------------------------------------------------------
//  The end of a run

static void
s_destroy (worm_agent_t *self, worm_run_t **run_p)
{
    worm_run_t *run = *run_p;
    s_close_stdin (self, run);
    s_close_output (self, run, 0);
    s_close_output (self, run, 1);
    s_close (&run->put_fd);
    s_close (&run->file_fd);
    s_stop_exit_watch (self, run);
    free (run->pending);
    free (run->argv_record);
    if (run->guest)
        run->guest->run = NULL;
    //  The folder is ours to remove while no guest holds it
    if (!run->guest && (run->state == WORM_RUN_LOADING || run->keep_dir))
        worm_rmtree (run->workdir);
    zlist_remove (self->runs, run);
    zlist_destroy (&run->in_queue);
    char *text;
    while ((text = zlist_pop (run->outputs)))
        free (text);
    zlist_destroy (&run->outputs);
    while ((text = zlist_pop (run->missing)))
        free (text);
    zlist_destroy (&run->missing);
    worm_run_entry_t *entry;
    while ((entry = zlist_pop (run->sending)))
        free (entry);
    zlist_destroy (&run->sending);
    worm_guests_free_strings (run->argv);
    worm_guests_free_strings (run->envp);
    worm_guests_free_strings (run->visible);
    zframe_destroy (&run->client);
    free (run);
    *run_p = NULL;
}

//  The last message of a run: how the command ended; then the run is gone.
static void
s_push_exit (worm_agent_t *self, worm_run_t *run)
{
    worm_wire_writer_t writer;
    worm_run_message (&writer, run, "exit");
    worm_wire_kstr (&writer, "host", self->config.name);
    if (WIFSIGNALED (run->status))
        worm_wire_ku64 (&writer, "signal", (uint64_t) WTERMSIG (run->status));
    else
        worm_wire_ku64 (&writer, "status", (uint64_t) WEXITSTATUS (run->status));
    worm_wire_kbool (&writer, "evicted", run->evicted);
    if (run->reason[0])
        worm_wire_kstr (&writer, "reason", run->reason);
    worm_wire_key (&writer, "missing");
    worm_wire_array (&writer, zlist_size (run->missing));
    for (char *path = zlist_first (run->missing); path; path = zlist_next (run->missing))
        worm_wire_str (&writer, path);
    worm_wire_map_close (&writer);
    worm_run_push (self, run, &writer);
    worm_wire_writer_fini (&writer);
}

//  The command's output is all sent (or its client gone): the outputs,
//  then the exit, then the run is freed.
static void
s_finish (worm_agent_t *self, worm_run_t *run)
{
    if (run->state == WORM_RUN_DRAINING) {
        run->state = WORM_RUN_SENDING;
        if (run->keep_dir && !run->abandoned)
            worm_run_list_outputs (self, run);
    }
    if (run->state != WORM_RUN_SENDING || run->abandoned || worm_run_send_outputs (self, run)) {
        if (run->state == WORM_RUN_SENDING)
            s_push_exit (self, run);
        worm_log ("run %s (%s) over%s", run->id, run->command,
                  run->abandoned ? "; its client was gone" : "");
        s_destroy (self, &run);
    }
}

bool
worm_run_guest_ended (worm_agent_t *self, worm_run_t *run, const worm_guest_t *guest, int status)
{
    run->guest = NULL;
    s_stop_exit_watch (self, run);
    run->status = status;
    run->evicted = guest->evicting;
    if (guest->stopping)
        snprintf (run->reason, sizeof run->reason, "%s", guest->evict_reason);
    run->keep_dir = !run->evicted && !run->abandoned && zlist_size (run->outputs) > 0;
    s_record_run (self, run, guest->cpu_ms);
    run->state = WORM_RUN_DRAINING;
    run->drain_ms = worm_now_ms ();
    //  Its stdin has no reader any more; what the client sends now is dropped
    s_close_stdin (self, run);
    bool keep = run->keep_dir;
    if (run->abandoned || (run->out_fd[0] < 0 && run->out_fd[1] < 0))
        s_finish (self, run);  //  may free the run
    return keep;
}

int
worm_runs_loading (worm_agent_t *self)
{
    int count = 0;
    if (self->runs)
        for (worm_run_t *run = zlist_first (self->runs); run; run = zlist_next (self->runs))
            count += run->state == WORM_RUN_LOADING;
    return count;
}

//  A run that never started ends: its client hears why (evicted, or not).
static void
s_end_unstarted (worm_agent_t *self, worm_run_t *run, bool evicted, const char *reason)
{
    run->evicted = evicted;
    snprintf (run->reason, sizeof run->reason, "%s", reason);
    run->status = 0;
    if (evicted)
        run->status = SIGKILL;  //  as waitpid says it: killed before it began
    if (!run->abandoned)
        s_push_exit (self, run);
    worm_log ("run %s (%s) ended before it started: %s", run->id, run->command, reason);
    s_record_run (self, run, -1);
    s_destroy (self, &run);
}

void
worm_runs_evict_loading (worm_agent_t *self, const char *reason)
{
    worm_run_t *run = zlist_first (self->runs);
    while (run) {
        worm_run_t *next = zlist_next (self->runs);
        if (run->state == WORM_RUN_LOADING)
            s_end_unstarted (self, run, true, reason);
        run = next;
    }
}

void
worm_runs_tick (worm_agent_t *self)
{
    int64_t now = worm_now_ms ();
    worm_run_t *run = zlist_first (self->runs);
    while (run) {
        worm_run_t *next = zlist_next (self->runs);
        if (!run->abandoned && !run->client_stopped && now - run->heard_ms > S_CLIENT_SILENCE_MS) {
            char reason[WORM_AGENT_REASON_MAX + 1];
            snprintf (reason, sizeof reason, "client silent for %d s", S_CLIENT_SILENCE_MS / 1000);
            worm_log ("run %s (%s): %s", run->id, run->command, reason);
            run->abandoned = true;
            if (run->state == WORM_RUN_LOADING)
                s_end_unstarted (self, run, false, reason);
            else if (run->guest)
                worm_guests_stop (self, run->guest, false, reason);
            else
                s_finish (self, run);
        } else if (run->guest && run->deadline_ms && now >= run->deadline_ms
                   && !run->guest->stopping) {
            char reason[WORM_AGENT_REASON_MAX + 1];
            snprintf (reason, sizeof reason, "time limit of %u s reached", run->timeout_s);
            worm_guests_stop (self, run->guest, false, reason);
        } else if (run->state == WORM_RUN_DRAINING && run->credit > 0
                   && now - run->drain_ms > S_DRAIN_MS) {
            //  A process that left the command's tree holds its pipes open
            worm_log ("run %s (%s): its output pipes stayed open %d s after it ended; closed",
                      run->id, run->command, S_DRAIN_MS / 1000);
            s_close_output (self, run, 0);
            s_close_output (self, run, 1);
            s_finish (self, run);
        } else if (!run->abandoned && now - run->told_ms >= S_KEEPALIVE_MS)
            worm_run_push_ack (self, run, 0);
        run = next;
    }
}

void
worm_runs_destroy_all (worm_agent_t *self)
{
    worm_run_t *run;
    while ((run = zlist_first (self->runs))) {
        if (!run->abandoned && run->state != WORM_RUN_SENDING) {
            run->evicted = true;
            snprintf (run->reason, sizeof run->reason, "the host agent stopped");
            if (run->state == WORM_RUN_LOADING)
                run->status = SIGKILL;
            s_push_exit (self, run);
        }
        run->keep_dir = true;
        s_destroy (self, &run);
    }
}

//  --------------------------------------------------------------------------
//  The ops

//  Refuses a run op with a sentence and, when the command could not be
//  started for a reason of its own (not there, not executable), the status
//  a shell would give it (127, 126).
static void
s_refuse (worm_agent_t *self, zframe_t *identity, int status, const char *fmt, ...)
{
    char text[600];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    worm_agent_refusal (self, "run", self->sender, NULL, text);
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", false);
    worm_wire_kstr (&writer, "error", text);
    if (status)
        worm_wire_ku64 (&writer, "status", (uint64_t) status);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  The program for word: a path as it is (relative to the folder), else
//  the first executable regular file of that name in S_RUN_PATH. Returns 0,
//  or -1 when there is none.
static int
s_find_program (const char *word, char *path, size_t cap)
{
    if (strchr (word, '/')) {
        snprintf (path, cap, "%s", word);
        return 0;
    }
    char dirs[] = S_RUN_PATH;
    for (char *save = NULL, *dir = strtok_r (dirs, ":", &save); dir;
         dir = strtok_r (NULL, ":", &save)) {
        struct stat st;
        snprintf (path, cap, "%s/%s", dir, word);
        if (stat (path, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0111))
            return 0;
    }
    return -1;
}

//  Starts a loaded run's command with three pipes for its stdio. Returns
//  0, or -1 with the reason in err (the run is unchanged but for its
//  guest record, freed).
static int
s_start (worm_agent_t *self, worm_run_t *run, worm_guest_t *guest, char *err, size_t cap)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errs[2] = {-1, -1};
    if (pipe2 (in, O_CLOEXEC) || pipe2 (out, O_CLOEXEC) || pipe2 (errs, O_CLOEXEC)) {
        snprintf (err, cap, "pipe: %s", strerror (errno));
        for (int i = 0; i < 2; i++) {
            s_close (&in[i]);
            s_close (&out[i]);
            s_close (&errs[i]);
        }
        return -1;
    }
    int stdio[3] = {in[0], out[1], errs[1]};
    pid_t pid = worm_guests_launch (self, guest, run->path, run->argv, run->envp, NULL, NULL, stdio,
                                    true, (const char *const *) run->visible, err, cap);
    close (in[0]);
    close (out[1]);
    close (errs[1]);
    if (pid < 0) {
        close (in[1]);
        close (out[0]);
        close (errs[0]);
        return -1;
    }
    run->in_fd = in[1];
    run->out_fd[0] = out[0];
    run->out_fd[1] = errs[0];
    fcntl (run->in_fd, F_SETFL, O_NONBLOCK);
    fcntl (run->out_fd[0], F_SETFL, O_NONBLOCK);
    fcntl (run->out_fd[1], F_SETFL, O_NONBLOCK);
    guest->run = run;
    run->guest = guest;
    run->state = WORM_RUN_RUNNING;
    if (run->timeout_s)
        run->deadline_ms = worm_now_ms () + (int64_t) run->timeout_s * 1000;
    worm_guests_free_strings (run->argv);
    worm_guests_free_strings (run->envp);
    run->argv = run->envp = NULL;
    s_watch_outputs (self, run);
    s_pump_stdin (self, run);
    //  Without pidfds (Linux < 5.3) the reap timer finds its end
    run->exit_fd = (int) syscall (SYS_pidfd_open, pid, 0);
    if (run->exit_fd >= 0) {
        fcntl (run->exit_fd, F_SETFD, FD_CLOEXEC);
        zmq_pollitem_t item = {NULL, run->exit_fd, ZMQ_POLLIN, 0};
        zloop_poller (self->loop, &item, s_on_exit_fd, run);
    }
    worm_log ("run %s: started %s for key %s, pid %d", run->id, run->command, run->launcher,
              (int) pid);
    return 0;
}

//  Starts the run's command, or ends the run when it cannot start: the
//  refusal goes to identity. Returns the pid, or -1.
static pid_t
s_start_or_refuse (worm_agent_t *self, worm_run_t *run, zframe_t *identity)
{
    char err[512];
    worm_guest_t *guest = run->pending;
    run->pending = NULL;
    if (s_start (self, run, guest, err, sizeof err)) {
        run->pending = guest;
        worm_log ("run %s: cannot start %s: %s", run->id, run->command, err);
        bool exec_failed = strstr (err, "execve") != NULL;
        s_refuse (self, identity, exec_failed ? 126 : 0, "%s cannot run %s: %s", self->config.name,
                  run->command, err);
        run->abandoned = true;
        run->state = WORM_RUN_LOADING;
        s_destroy (self, &run);
        return -1;
    }
    return run->guest->pid;
}

static void
s_reply_started (worm_agent_t *self, zframe_t *identity, const worm_run_t *run, pid_t pid)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kstr (&writer, "run", run->id);
    worm_wire_kstr (&writer, "host", self->config.name);
    worm_wire_ku64 (&writer, "window", WORM_RUN_WINDOW);
    worm_wire_ku64 (&writer, "chunk", WORM_RUN_CHUNK);
    if (pid > 0)
        worm_wire_ku64 (&writer, "pid", (uint64_t) pid);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  Keeps the first words of run's command (argv, count words) for its event
//  in the log: at most WORM_AGENT_EVENT_ARGV_MAX, each cut to
//  WORM_AGENT_EVENT_TEXT_MAX bytes (argv_cut says so).
static void
s_record_argv (worm_run_t *run, uint32_t count)
{
    uint32_t kept = count < WORM_AGENT_EVENT_ARGV_MAX ? count : WORM_AGENT_EVENT_ARGV_MAX;
    run->argv_cut = kept < count;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_key (&writer, "argv");
    worm_wire_array (&writer, kept);
    for (uint32_t i = 0; i < kept; i++) {
        run->argv_cut |= strlen (run->argv[i]) > WORM_AGENT_EVENT_TEXT_MAX;
        worm_agent_event_str (&writer, run->argv[i]);
    }
    worm_wire_map_close (&writer);
    run->argv_record_size = worm_wire_writer_size (&writer);
    run->argv_record = malloc (run->argv_record_size);
    memcpy (run->argv_record, worm_wire_writer_data (&writer), run->argv_record_size);
    worm_wire_writer_fini (&writer);
}

//  Records a run's end in the event log: its words, whose it was, how it
//  ended, the CPU it used (cpu_ms, -1 when it never started).
static void
s_record_run (worm_agent_t *self, const worm_run_t *run, int64_t cpu_ms)
{
    worm_wire_writer_t *event = worm_agent_event (self, "run");
    worm_wire_kstr (event, "run", run->id);
    worm_wire_kstr (event, "worm", run->worm);
    worm_wire_kstr (event, "key", run->launcher);
    if (run->argv_record) {
        //  The record is a map {argv: [...]}: its one entry goes in as it is
        worm_wire_reader_t reader;
        worm_wire_reader_init (&reader);
        if (worm_wire_parse (&reader, run->argv_record, run->argv_record_size,
                             run->argv_record_size) == 0) {
            worm_wire_object (event, &reader.root->via.map.ptr[0].key);
            worm_wire_object (event, &reader.root->via.map.ptr[0].val);
        }
        worm_wire_reader_fini (&reader);
        if (run->argv_cut)
            worm_wire_kbool (event, "argv_cut", true);
    }
    worm_wire_kbool (event, "started", cpu_ms >= 0);
    if (WIFSIGNALED (run->status))
        worm_wire_ku64 (event, "signal", (uint64_t) WTERMSIG (run->status));
    else
        worm_wire_ku64 (event, "status", (uint64_t) WEXITSTATUS (run->status));
    if (cpu_ms >= 0)
        worm_wire_ku64 (event, "cpu_ms", (uint64_t) cpu_ms);
    worm_wire_kbool (event, "evicted", run->evicted);
    if (run->reason[0])
        worm_agent_event_kstr (event, "reason", run->reason);
    worm_events_commit (self->events);
}

//  Reads the words, environment and outputs of a run request into run.
//  Returns 0, or -1 with the refusal in err and *status 127 when the
//  command is not there.
static int
s_read_command (worm_agent_t *self, worm_wire_reader_t *reader, worm_run_t *run, int *status,
                char *err, size_t cap)
{
    const msgpack_object_array *words = NULL;
    const msgpack_object *env = NULL;
    const msgpack_object_array *outputs = NULL, *shares = NULL;
    uint64_t umask_value = 077, timeout_ms = 0;
    if (worm_wire_get_array (reader, reader->root, "argv", &words, WORM_RUN_MAX_ARGS)
        || worm_wire_get_map (reader, reader->root, "env", &env) == -1
        || worm_wire_get_array (reader, reader->root, "outputs", &outputs, WORM_RUN_MAX_OUTPUTS)
               == -1
        || worm_wire_get_u64 (reader, reader->root, "umask", &umask_value)
        || worm_wire_get_u64 (reader, reader->root, "timeout_ms", &timeout_ms) == -1
        || worm_wire_get_array (reader, reader->root, "share", &shares, WORM_RUN_MAX_SHARES)
               == -1) {
        snprintf (err, cap, "run: %s", reader->error);
        return -1;
    }
    if (words->size == 0) {
        snprintf (err, cap, "run: field 'argv': no command");
        return -1;
    }
    if (umask_value > 0777) {
        snprintf (err, cap, "run: field 'umask': %llo is not a umask",
                  (unsigned long long) umask_value);
        return -1;
    }
    if (timeout_ms > 100ULL * 24 * 3600 * 1000) {
        snprintf (err, cap, "run: field 'timeout_ms': more than 100 days");
        return -1;
    }
    run->guest_umask = (mode_t) umask_value;
    run->timeout_s = (unsigned) ((timeout_ms + 999) / 1000);
    run->argv = calloc (words->size + 1, sizeof (char *));
    for (uint32_t i = 0; i < words->size; i++) {
        char word[WORM_RUN_ARG_MAX + 1];
        if (worm_wire_obj_str (reader, &words->ptr[i], "argv[]", word, sizeof word)) {
            snprintf (err, cap, "run: %s", reader->error);
            return -1;
        }
        run->argv[i] = strdup (word);
    }
    snprintf (run->command, sizeof run->command, "%.64s", run->argv[0]);
    s_record_argv (run, words->size);
    snprintf (run->pending->program, sizeof run->pending->program, "run:%.60s", run->argv[0]);
    run->pending->umask = run->guest_umask;
    if (s_find_program (run->argv[0], run->path, sizeof run->path)) {
        *status = 127;
        snprintf (err, cap, "%s cannot run %s: command not found in PATH=%s", self->config.name,
                  run->argv[0], S_RUN_PATH);
        return -1;
    }
    size_t extra = env ? env->via.map.size : 0;
    run->envp = calloc (5 + extra, sizeof (char *));
    size_t n = 0;
    run->envp[n++] = zsys_sprintf ("PATH=%s", S_RUN_PATH);
    run->envp[n++] = zsys_sprintf ("HOME=%s", run->workdir);
    //  The agent finds every process of the command by it (proctree.h)
    char marker[WORM_AGENT_MARKER_MAX + 1];
    worm_guests_marker (self, run->pending, marker, sizeof marker);
    run->envp[n++] = zsys_sprintf ("%s", marker);
    for (size_t i = 0; i < extra; i++) {
        char name[WORM_RUN_ENV_NAME_MAX + 1], value[WORM_RUN_ARG_MAX + 1];
        if (worm_wire_obj_str (reader, &env->via.map.ptr[i].key, "env name", name, sizeof name)
            || worm_wire_obj_str (reader, &env->via.map.ptr[i].val, "env value", value,
                                  sizeof value)) {
            snprintf (err, cap, "run: %s", reader->error);
            return -1;
        }
        if (!worm_runspec_env_name_ok (name, strlen (name))) {
            snprintf (err, cap,
                      "run: environment name '%s' is not [A-Za-z_][A-Za-z0-9_]* or is "
                      "the host's (PATH, HOME, WORM_*)",
                      name);
            return -1;
        }
        run->envp[n++] = zsys_sprintf ("%s=%s", name, value);
    }
    for (uint32_t i = 0; outputs && i < outputs->size; i++) {
        char path[WORM_RUN_PATH_MAX + 1];
        if (worm_wire_obj_str (reader, &outputs->ptr[i], "outputs[]", path, sizeof path)
            || !worm_runspec_path_ok (path)) {
            snprintf (err, cap,
                      "run: outputs[%u] is not a relative path without '.' or '..' "
                      "of at most %d bytes",
                      i, WORM_RUN_PATH_MAX);
            return -1;
        }
        zlist_append (run->outputs, strdup (path));
    }
    //  What stays visible in its private /tmp: its folder, and what it shares
    size_t n_shares = shares ? shares->size : 0;
    run->visible = calloc (n_shares + 2, sizeof (char *));
    run->visible[0] = zsys_sprintf ("%s", run->workdir);
    for (uint32_t i = 0; i < n_shares; i++) {
        char path[WORM_RUN_PATH_MAX + 1];
        if (worm_wire_obj_str (reader, &shares->ptr[i], "share[]", path, sizeof path)
            || path[0] != '/') {
            snprintf (err, cap, "run: share[%u] is not an absolute path of at most %d bytes", i,
                      WORM_RUN_PATH_MAX);
            return -1;
        }
        run->visible[i + 1] = zsys_sprintf ("%s", path);
    }
    return 0;
}

void
worm_agent_op_run (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char claim_id[WORM_HOST_ID_LEN + 1], err[600];
    bool inputs = false;
    if (worm_wire_get_str (reader, reader->root, "claim", claim_id, sizeof claim_id)
        || worm_wire_get_bool (reader, reader->root, "inputs", &inputs) == -1) {
        worm_ctl_reply_error (self->router, identity, "run: %s", reader->error);
        return;
    }
    worm_claims_expire (self);
    worm_claim_t *claim = worm_claims_find (self, claim_id);
    if (!claim || !self->sender || !streq (claim->launcher, self->sender)) {
        worm_agent_refuse (self, identity, "run", NULL,
                           "run: claim %s is unknown, expired or another key's", claim_id);
        return;
    }
    if (!self->config.allow_run) {
        worm_log ("refused RUN from key %s: running commands is not allowed here", self->sender);
        worm_claims_drop (self, claim);
        worm_agent_reconsider (self);
        worm_agent_refuse (self, identity, "run", NULL,
                           "%s refused to run: this host does not run commands (wormd "
                           "--allow-run)", self->config.name);
        return;
    }
    //  From here on the claim is spent, whatever happens
    worm_run_t *run = calloc (1, sizeof *run);
    run->agent = self;
    run->put_fd = run->in_fd = run->out_fd[0] = run->out_fd[1] = run->file_fd = -1;
    run->exit_fd = -1;
    run->in_queue = zlist_new ();
    run->outputs = zlist_new ();
    run->sending = zlist_new ();
    run->missing = zlist_new ();
    run->credit = WORM_RUN_WINDOW;
    run->heard_ms = run->told_ms = worm_now_ms ();
    run->client = zframe_dup (identity);
    //  Its guest's record, started at once or once the inputs are in
    run->pending = worm_guests_new (self, claim, self->sender, "run");
    snprintf (run->id, sizeof run->id, "%s", run->pending->id);
    snprintf (run->worm, sizeof run->worm, "%s", claim->worm);
    snprintf (run->launcher, sizeof run->launcher, "%s", self->sender);
    snprintf (run->workdir, sizeof run->workdir, "%s", run->pending->workdir);
    snprintf (run->command, sizeof run->command, "?");
    zlist_append (self->runs, run);
    worm_claims_drop (self, claim);
    int status = 0;
    if (s_read_command (self, reader, run, &status, err, sizeof err)) {
        s_refuse (self, identity, status, "%s", err);
        run->abandoned = true;
        s_destroy (self, &run);
        worm_agent_evaluate (self, 0);
        return;
    }
    //  Check again: the owner may have come back since the claim (this
    //  run's slot is the loading run's now, not counted)
    worm_agent_evaluate (self, 1);
    if (!self->willing) {
        worm_log ("refused RUN of %s: host is not willing (%s)", run->command, self->reason);
        s_refuse (self, identity, 0, "%s refused to run %s: not willing (%s)", self->config.name,
                  run->command, self->reason);
        run->abandoned = true;
        s_destroy (self, &run);
        worm_agent_evaluate (self, 0);
        return;
    }
    const worm_user_t *user = self->config.guest_user_other ? &self->config.guest_user : NULL;
    if (worm_private_dir (run->workdir, user)) {
        worm_log ("run %s: cannot create %s: %s", run->id, run->workdir, strerror (errno));
        s_refuse (self, identity, 0, "%s cannot run: cannot create its folder: %s",
                  self->config.name, strerror (errno));
        run->abandoned = true;
        run->workdir[0] = 0;
        s_destroy (self, &run);
        worm_agent_evaluate (self, 0);
        return;
    }
    pid_t pid = 0;
    if (!inputs && (pid = s_start_or_refuse (self, run, identity)) < 0) {
        worm_agent_reconsider (self);
        return;
    }
    s_reply_started (self, identity, run, pid);
    worm_agent_reconsider (self);
}

void
worm_agent_op_run_start (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    worm_run_t *run = worm_run_of_request (self, identity, reader, "run-start");
    if (!run)
        return;
    if (run->state != WORM_RUN_LOADING) {
        worm_ctl_reply_error (self->router, identity, "run-start: run %s has started already",
                              run->id);
        return;
    }
    if (run->put_fd >= 0) {
        worm_ctl_reply_error (self->router, identity,
                              "run-start: run %s: input %s is not "
                              "whole yet",
                              run->id, run->put_path);
        return;
    }
    pid_t pid = s_start_or_refuse (self, run, identity);
    if (pid > 0)
        s_reply_started (self, identity, run, pid);
    worm_agent_reconsider (self);
}

void
worm_agent_op_run_in (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    worm_run_t *run = worm_run_of_request (self, identity, reader, "run-in");
    if (!run)
        return;
    const void *data = NULL;
    size_t size = 0;
    bool eof = false;
    if (worm_wire_get_bin (reader, reader->root, "data", &data, &size, WORM_RUN_CHUNK)
        || worm_wire_get_bool (reader, reader->root, "eof", &eof) == -1) {
        worm_ctl_reply_error (self->router, identity, "run-in: %s", reader->error);
        return;
    }
    if (zlist_size (run->in_queue) >= WORM_RUN_WINDOW) {
        worm_ctl_reply_error (self->router, identity,
                              "run-in: run %s: more than %d chunks "
                              "unacknowledged",
                              run->id, WORM_RUN_WINDOW);
        return;
    }
    if (run->state == WORM_RUN_LOADING) {
        worm_ctl_reply_error (self->router, identity, "run-in: run %s has not started", run->id);
        return;
    }
    if (run->in_fd < 0) {
        //  The command reads no more (or ended): dropped, and acked
        worm_run_push_ack (self, run, 1);
        return;
    }
    zlist_append (run->in_queue, zchunk_new (data, size));
    run->in_eof |= eof;
    s_pump_stdin (self, run);
}

void
worm_agent_op_run_ack (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    worm_run_t *run = worm_run_of_request (self, identity, reader, "run-ack");
    if (!run)
        return;
    uint64_t count = 0;
    if (worm_wire_get_u64 (reader, reader->root, "n", &count)
        || (uint64_t) run->credit + count > WORM_RUN_WINDOW) {
        worm_ctl_reply_error (self->router, identity, "run-ack: %s",
                              reader->error[0] ? reader->error : "acks more than was sent");
        return;
    }
    run->credit += (int) count;
    if (run->state == WORM_RUN_SENDING)
        s_finish (self, run);
    else
        s_watch_outputs (self, run);
}

void
worm_agent_op_run_signal (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    worm_run_t *run = worm_run_of_request (self, identity, reader, "run-signal");
    if (!run)
        return;
    char name[16];
    if (worm_wire_get_str (reader, reader->root, "signal", name, sizeof name)) {
        worm_ctl_reply_error (self->router, identity, "run-signal: %s", reader->error);
        return;
    }
    int number = worm_runspec_signal (name);
    if (!number) {
        worm_ctl_reply_error (self->router, identity,
                              "run-signal: '%s' is not one of INT, TERM, "
                              "HUP, QUIT, USR1, USR2, TSTP, CONT, KILL, PIPE",
                              name);
        return;
    }
    if (number == SIGTSTP)
        run->client_stopped = true;
    else if (number == SIGCONT)
        run->client_stopped = false;
    if (run->state == WORM_RUN_LOADING && number != SIGTSTP && number != SIGCONT) {
        s_end_unstarted (self, run, false, "its client stopped it before it started");
        return;
    }
    if (!run->guest)
        return;
    if (number == SIGKILL)
        worm_guests_kill (self, run->guest);
    else
        kill (-run->guest->pid, number);
    //  A guest's process group has no terminal and is orphaned (its leader's
    //  parent, the agent, is in another session), where the kernel drops the
    //  stop of a SIGTSTP: a handler had it, and SIGSTOP stops the group
    if (number == SIGTSTP)
        kill (-run->guest->pid, SIGSTOP);
}
