/*  runner.c — one command run on another host, client side (see runner.h
    and docs/PROTOCOL.md, "Run").
*/
#include "runner.h"
#include "agent_limits.h"
#include "ctl.h"
#include "discover.h"
#include "log.h"
#include "place.h"
#include "random.h"
#include "runspec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SILENCE_MS 10000   //  a host heard from in no longer is lost
#define S_KEEPALIVE_MS 1000  //  we say something at least this often
#define S_CANDIDATES 16      //  willing hosts one query collects
#define S_TRIES 3            //  claims tried, one host after another
#define S_QUIET_MS 30        //  with busy hosts: answers are over after this silence
#define S_BUSY_QUERY_MS 300  //  and no answer at all within this: none is willing now

//  Output waiting to be written to our stdout or stderr
typedef struct {
    int fd;          //  1 or 2
    zchunk_t *data;  //  the bytes
    size_t written;  //  how many of them went
} s_output_t;

struct _wormctl_run_t {
    wormctl_client_t *client;              //  our keys and options
    const wormctl_run_spec_t *spec;        //  what to run
    worm_hostinfo_t host;                  //  where
    zsock_t *dealer;                       //  our connection to its agent
    char id[WORM_AGENT_GUEST_ID_MAX + 1];  //  the run's id there
    int window;                            //  messages each side may have unacknowledged
    int in_credit;                         //  run-put and run-in we may still send
    bool stdin_closed;                     //  we sent its end
    zlist_t *output;                       //  s_output_t *: stdout and stderr not yet written
    bool broken[3];                        //  fd 1 or 2 took no more (EPIPE)
    int file_fd;                           //  the output file being written, -1: none
    char file_path[PATH_MAX];              //  and its path
    int64_t heard_ms;                      //  when the host last said something
    int64_t said_ms;                       //  when we last did
    bool over;                             //  the exit came, or the host was lost or broke
    wormctl_run_end_t end;                 //  how it ended
};

//  --------------------------------------------------------------------------
//  Sending

static void
s_send (wormctl_run_t *self, worm_wire_writer_t *writer)
{
    zmq_send (zsock_resolve (self->dealer), worm_wire_writer_data (writer),
              worm_wire_writer_size (writer), 0);
    self->said_ms = worm_now_ms ();
}

//  Starts a request {"op": op, "run": id}; the caller adds the rest.
static void
s_request (wormctl_run_t *self, worm_wire_writer_t *writer, const char *op)
{
    worm_wire_writer_init (writer);
    worm_wire_map_open (writer);
    worm_wire_kstr (writer, "op", op);
    worm_wire_kstr (writer, "run", self->id);
}

static void
s_ack (wormctl_run_t *self, int count)
{
    worm_wire_writer_t writer;
    s_request (self, &writer, "run-ack");
    worm_wire_ku64 (&writer, "n", (uint64_t) count);
    worm_wire_map_close (&writer);
    s_send (self, &writer);
    worm_wire_writer_fini (&writer);
}

void
wormctl_run_signal (wormctl_run_t *self, int signal)
{
    const char *name = worm_runspec_signal_name (signal);
    if (!name || self->over)
        return;
    worm_wire_writer_t writer;
    s_request (self, &writer, "run-signal");
    worm_wire_kstr (&writer, "signal", name);
    worm_wire_map_close (&writer);
    s_send (self, &writer);
    worm_wire_writer_fini (&writer);
}

//  --------------------------------------------------------------------------
//  Receiving

//  The run is over for a reason of ours or the host's: said on stderr,
//  the command killed.
static int
s_broken (wormctl_run_t *self, const char *fmt, ...)
{
    char text[600];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    fprintf (stderr, "wormctl run: %s: %s\n", self->host.name, text);
    wormctl_run_signal (self, SIGKILL);
    self->over = true;
    self->end.exited = false;
    return -1;
}

//  Whether a path a host sends back is one we asked for, or inside one:
//  relative, no "." or ".." part, so that it lands under our folder.
static bool
s_output_path_ok (const wormctl_run_spec_t *spec, const char *path)
{
    if (!worm_runspec_path_ok (path))
        return false;
    for (int i = 0; spec->outputs[i]; i++) {
        size_t len = strlen (spec->outputs[i]);
        if (!strncmp (path, spec->outputs[i], len) && (path[len] == 0 || path[len] == '/'))
            return true;
    }
    return false;
}

//  Makes the folders above path (relative to here), as the umask allows.
static void
s_make_parents (const char *path)
{
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s", path);
    for (char *slash = strchr (dir, '/'); slash; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        mkdir (dir, 0777);
        *slash = '/';
    }
}

//  A `file` message: an output, written where we asked for it.
static int
s_on_file (wormctl_run_t *self, worm_wire_reader_t *reader)
{
    worm_runspec_chunk_t chunk;
    char why[WORM_RUN_PATH_MAX + 256];
    if (worm_runspec_chunk_read (reader, &chunk, why, sizeof why))
        return s_broken (self, "bad file message: %s", why);
    const char *path = chunk.path;
    const void *data = chunk.data;
    size_t size = chunk.size;
    mode_t mode = chunk.mode;
    bool dir = chunk.dir, more = chunk.more;
    if (!s_output_path_ok (self->spec, path))
        return s_broken (self, "sent back %s, which is no output we asked for", path);
    if (self->file_fd >= 0 && (dir || !streq (path, self->file_path)))
        return s_broken (self, "sent %s before the end of %s", path, self->file_path);
    if (dir) {
        s_make_parents (path);
        if (mkdir (path, mode) && errno != EEXIST)
            return s_broken (self, "cannot make folder %s here: %s", path, strerror (errno));
        s_ack (self, 1);
        return 0;
    }
    if (self->file_fd < 0) {
        s_make_parents (path);
        self->file_fd =
            open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (self->file_fd < 0)
            return s_broken (self, "cannot write %s here: %s", path, strerror (errno));
        snprintf (self->file_path, sizeof self->file_path, "%s", path);
    }
    const char *bytes = (const char *) data;
    while (size) {
        ssize_t done = write (self->file_fd, bytes, size);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return s_broken (self, "cannot write %s here: %s", path, strerror (errno));
        bytes += done;
        size -= (size_t) done;
    }
    if (!more) {
        close (self->file_fd);
        self->file_fd = -1;
    }
    s_ack (self, 1);
    return 0;
}

//  An `exit` message: the run is over once the output is written.
static int
s_on_exit (wormctl_run_t *self, worm_wire_reader_t *reader)
{
    uint64_t value = 0;
    self->end.exited = true;
    if (worm_wire_get_u64 (reader, reader->root, "signal", &value) == 0 && value > 0 && value < 128)
        self->end.signal = (int) value;
    else if (worm_wire_get_u64 (reader, reader->root, "status", &value) == 0 && value < 256)
        self->end.status = (int) value;
    else
        return s_broken (self, "bad exit message: no status or signal");
    worm_wire_get_bool (reader, reader->root, "evicted", &self->end.evicted);
    worm_wire_get_str (reader, reader->root, "reason", self->end.reason, sizeof self->end.reason);
    const msgpack_object_array *missing = NULL;
    if (worm_wire_get_array (reader, reader->root, "missing", &missing, WORMCTL_RUN_MAX_FILES)
        == -1)
        return s_broken (self, "bad exit message: %s", reader->error);
    for (uint32_t i = 0; missing && i < missing->size; i++) {
        char path[WORM_RUN_PATH_MAX + 1];
        if (worm_wire_obj_str (reader, &missing->ptr[i], "missing[]", path, sizeof path) == 0)
            fprintf (stderr,
                     "wormctl run: warning: output %s was not made on %s (nothing "
                     "copied back)\n",
                     path, self->host.name);
        self->end.missing++;
    }
    if (self->file_fd >= 0) {
        close (self->file_fd);
        self->file_fd = -1;
    }
    self->over = true;
    return 0;
}

//  One message from the host.
static int
s_on_message (wormctl_run_t *self, worm_wire_reader_t *reader)
{
    char type[16];
    bool ok = true;
    if (worm_wire_get_str (reader, reader->root, "t", type, sizeof type)) {
        //  No stream message: a refusal of something we sent
        char why[512] = "no reason given";
        worm_wire_get_bool (reader, reader->root, "ok", &ok);
        worm_wire_get_str (reader, reader->root, "error", why, sizeof why);
        return s_broken (self, "%s", ok ? "an answer we did not ask for" : why);
    }
    char id[WORM_AGENT_GUEST_ID_MAX + 1] = "";
    worm_wire_get_str (reader, reader->root, "run", id, sizeof id);
    if (!streq (id, self->id))
        return s_broken (self, "a message of run '%s', not ours (%s)", id, self->id);
    if (streq (type, "out")) {
        uint64_t fd = 0;
        const void *data;
        size_t size;
        if (worm_wire_get_u64 (reader, reader->root, "fd", &fd) || (fd != 1 && fd != 2)
            || worm_wire_get_bin (reader, reader->root, "data", &data, &size, WORM_RUN_CHUNK))
            return s_broken (self, "bad out message: %s",
                             reader->error[0] ? reader->error : "fd is not 1 or 2");
        if (zlist_size (self->output) >= (size_t) self->window)
            return s_broken (self, "sent more than its window of %d messages", self->window);
        if (self->broken[fd]) {
            s_ack (self, 1);
            return 0;
        }
        s_output_t *output = calloc (1, sizeof *output);
        output->fd = (int) fd;
        output->data = zchunk_new (data, size);
        zlist_append (self->output, output);
        return 0;
    }
    if (streq (type, "ack")) {
        uint64_t count = 0;
        if (worm_wire_get_u64 (reader, reader->root, "n", &count)
            || self->in_credit + (int64_t) count > self->window)
            return s_broken (self, "bad ack: %s",
                             reader->error[0] ? reader->error : "more than we sent");
        self->in_credit += (int) count;
        return 0;
    }
    if (streq (type, "file"))
        return s_on_file (self, reader);
    if (streq (type, "exit"))
        return s_on_exit (self, reader);
    return s_broken (self, "a message of unknown type '%s'", type);
}

int
wormctl_run_receive (wormctl_run_t *self)
{
    while (!self->over && (zsock_events (self->dealer) & ZMQ_POLLIN)) {
        zframe_t *frame = zframe_recv (self->dealer);
        if (!frame)
            break;
        self->heard_ms = worm_now_ms ();
        worm_wire_reader_t reader;
        worm_wire_reader_init (&reader);
        int rc = worm_wire_parse (&reader, zframe_data (frame), zframe_size (frame), WORM_CTL_MAX)
                     ? s_broken (self, "a message that does not decode: %s", reader.error)
                     : s_on_message (self, &reader);
        worm_wire_reader_fini (&reader);
        zframe_destroy (&frame);
        if (rc)
            return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Our stdin and stdout

bool
wormctl_run_wants_stdin (wormctl_run_t *self)
{
    return !self->over && !self->stdin_closed && self->in_credit > 0;
}

void
wormctl_run_stdin (wormctl_run_t *self, const void *data, size_t size, bool eof)
{
    worm_wire_writer_t writer;
    s_request (self, &writer, "run-in");
    worm_wire_kbin (&writer, "data", data, size);
    if (eof)
        worm_wire_kbool (&writer, "eof", true);
    worm_wire_map_close (&writer);
    s_send (self, &writer);
    worm_wire_writer_fini (&writer);
    self->in_credit--;
    self->stdin_closed |= eof;
}

bool
wormctl_run_output_waiting (wormctl_run_t *self, int fd)
{
    s_output_t *output = zlist_first (self->output);
    return output && output->fd == fd;
}

int
wormctl_run_flush (wormctl_run_t *self)
{
    int acked = 0, rc = 0;
    s_output_t *output;
    while ((output = zlist_first (self->output))) {
        size_t size = zchunk_size (output->data);
        if (!self->broken[output->fd]) {
            int fd = self->spec->out_fds[output->fd] ? self->spec->out_fds[output->fd] : output->fd;
            struct pollfd room = {.fd = fd, .events = POLLOUT};
            struct stat st;
            bool pipe = fstat (fd, &st) == 0 && (S_ISFIFO (st.st_mode) || S_ISSOCK (st.st_mode));
            //  A pipe with room takes PIPE_BUF bytes without blocking
            if (poll (&room, 1, 0) != 1 || !(room.revents & (POLLOUT | POLLERR)))
                break;
            size_t left = size - output->written;
            ssize_t done = write (fd, zchunk_data (output->data) + output->written,
                                  pipe && left > PIPE_BUF ? PIPE_BUF : left);
            if (done < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (done < 0) {
                //  Whoever reads our output is gone: the rest of it goes
                //  nowhere, and the command learns it as it would here
                self->broken[output->fd] = true;
                wormctl_run_signal (self, SIGPIPE);
                rc = -1;
            } else
                output->written += (size_t) done;
        }
        if (self->broken[output->fd] || output->written == size) {
            zlist_pop (self->output);
            zchunk_destroy (&output->data);
            free (output);
            acked++;
        }
    }
    if (acked && !self->over)
        s_ack (self, acked);
    return rc;
}

void
wormctl_run_tick (wormctl_run_t *self)
{
    if (self->over)
        return;
    int64_t now = worm_now_ms ();
    if (now - self->heard_ms > S_SILENCE_MS) {
        fprintf (stderr, "wormctl run: lost %s: silent for %d s\n", self->host.name,
                 S_SILENCE_MS / 1000);
        self->over = true;
        self->end.lost = true;
        return;
    }
    if (now - self->said_ms >= S_KEEPALIVE_MS)
        s_ack (self, 0);
}

bool
wormctl_run_done (wormctl_run_t *self, wormctl_run_end_t *end)
{
    if (!self->over || (zlist_size (self->output) && !self->end.lost && self->end.exited))
        return false;
    *end = self->end;
    snprintf (end->host, sizeof end->host, "%s", self->host.name);
    snprintf (end->host_id, sizeof end->host_id, "%s", self->host.id);
    return true;
}

const char *
wormctl_run_host_id (wormctl_run_t *self)
{
    return self->host.id;
}

zsock_t *
wormctl_run_socket (wormctl_run_t *self)
{
    return self->dealer;
}

void
wormctl_run_destroy (wormctl_run_t **self_p)
{
    wormctl_run_t *self = *self_p;
    if (!self)
        return;
    s_output_t *output;
    while ((output = zlist_pop (self->output))) {
        zchunk_destroy (&output->data);
        free (output);
    }
    zlist_destroy (&self->output);
    if (self->file_fd >= 0)
        close (self->file_fd);
    zsock_destroy (&self->dealer);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Placing and starting

//  Waits for the next message that is no stream message (a reply), handling
//  the stream messages before it. Returns 0 with the reply parsed into
//  reply (initialised by the caller), or -1 with err (a timeout, an
//  interruption, a broken run).
static int
s_await_reply (wormctl_run_t *self, int timeout_ms, worm_wire_reader_t *reply, char *err,
               size_t cap)
{
    int64_t deadline = worm_now_ms () + timeout_ms;
    zpoller_t *poller = zpoller_new (self->dealer, NULL);
    int rc = -1;
    while (!self->over) {
        int64_t left = deadline - worm_now_ms ();
        if (zsys_interrupted) {
            snprintf (err, cap, "interrupted before %s answered", self->host.name);
            break;
        }
        if (left <= 0) {
            snprintf (err, cap, "no answer from %s within %d ms", self->host.name, timeout_ms);
            break;
        }
        if (!zpoller_wait (poller, left < WORM_CTL_SLICE_MS ? (int) left : WORM_CTL_SLICE_MS))
            continue;
        zframe_t *frame = zframe_recv (self->dealer);
        if (!frame)
            continue;
        self->heard_ms = worm_now_ms ();
        worm_wire_reader_fini (reply);
        worm_wire_reader_init (reply);
        int parsed =
            worm_wire_parse (reply, zframe_data (frame), zframe_size (frame), WORM_CTL_MAX);
        zframe_destroy (&frame);
        if (parsed) {
            snprintf (err, cap, "a message from %s that does not decode: %s", self->host.name,
                      reply->error);
            break;
        }
        if (!worm_wire_field (reply->root, "t")) {
            rc = 0;
            break;
        }
        if (s_on_message (self, reply)) {
            snprintf (err, cap, "the run broke on %s", self->host.name);
            break;
        }
    }
    if (self->over && rc)
        snprintf (err, cap, "the run ended on %s before it started", self->host.name);
    zpoller_destroy (&poller);
    return rc;
}

//  Checks a reply: ok, or the host's refusal in err with *status (its
//  `status` when it gives one: 127, 126; else 1). Returns 0 or -1.
static int
s_reply_ok (wormctl_run_t *self, worm_wire_reader_t *reply, int *status, char *err, size_t cap)
{
    bool ok = false;
    if (worm_wire_get_bool (reply, reply->root, "ok", &ok)) {
        snprintf (err, cap, "bad answer from %s: %s", self->host.name, reply->error);
        *status = 1;
        return -1;
    }
    if (ok)
        return 0;
    char why[512] = "no reason given";
    uint64_t value = 1;
    worm_wire_get_str (reply, reply->root, "error", why, sizeof why);
    if (worm_wire_get_u64 (reply, reply->root, "status", &value) || value == 0 || value > 255)
        value = 1;
    snprintf (err, cap, "%s", why);
    *status = (int) value;
    return -1;
}

//  Waits until the window lets us send one more chunk. Returns 0 or -1 with err.
static int
s_wait_credit (wormctl_run_t *self, int timeout_ms, char *err, size_t cap)
{
    int64_t deadline = worm_now_ms () + timeout_ms;
    while (self->in_credit <= 0) {
        if (zsys_interrupted || self->over || worm_now_ms () > deadline) {
            snprintf (err, cap, "%s",
                      zsys_interrupted ? "interrupted while sending the inputs"
                      : self->over     ? "the run broke while sending the inputs"
                                       : "the host took no input for too long");
            return -1;
        }
        zpoller_t *poller = zpoller_new (self->dealer, NULL);
        zpoller_wait (poller, WORM_CTL_SLICE_MS);
        zpoller_destroy (&poller);
        if (wormctl_run_receive (self))
            return -1;
    }
    return 0;
}

//  Sends one run-put (a folder, or a chunk of a file), within the window.
static void
s_send_put (wormctl_run_t *self, const char *remote, bool dir, unsigned mode, const void *data,
            size_t size, bool more)
{
    worm_wire_writer_t writer;
    s_request (self, &writer, "run-put");
    worm_wire_kstr (&writer, "path", remote);
    worm_wire_kstr (&writer, "type", dir ? "dir" : "file");
    worm_wire_ku64 (&writer, "mode", mode);
    if (size)
        worm_wire_kbin (&writer, "data", data, size);
    worm_wire_kbool (&writer, "more", more);
    worm_wire_map_close (&writer);
    s_send (self, &writer);
    worm_wire_writer_fini (&writer);
    self->in_credit--;
}

//  Puts one entry (a folder, or a file in chunks) at remote path.
static int
s_put (wormctl_run_t *self, const char *local, const char *remote, int timeout_ms, char *err,
       size_t cap)
{
    struct stat st;
    if (stat (local, &st)) {
        snprintf (err, cap, "input %s: %s", local, strerror (errno));
        return -1;
    }
    bool dir = S_ISDIR (st.st_mode);
    if (!dir && !S_ISREG (st.st_mode)) {
        fprintf (stderr,
                 "wormctl run: warning: input %s is neither a file nor a folder; "
                 "not copied\n",
                 local);
        return 0;
    }
    int fd = dir ? -1 : open (local, O_RDONLY | O_CLOEXEC);
    if (!dir && fd < 0) {
        snprintf (err, cap, "input %s: %s", local, strerror (errno));
        return -1;
    }
    static char buf[WORM_RUN_CHUNK];
    off_t left = dir ? 0 : st.st_size;
    do {
        if (s_wait_credit (self, timeout_ms, err, cap)) {
            if (fd >= 0)
                close (fd);
            return -1;
        }
        ssize_t got = fd >= 0 && left > 0
                          ? read (fd, buf, left < WORM_RUN_CHUNK ? (size_t) left : WORM_RUN_CHUNK)
                          : 0;
        if (got < 0) {
            snprintf (err, cap, "input %s: %s", local, strerror (errno));
            close (fd);
            return -1;
        }
        left = got > 0 ? left - got : 0;
        s_send_put (self, remote, dir, st.st_mode & 0777, buf, (size_t) (got > 0 ? got : 0),
                    left > 0);
    } while (left > 0);
    if (fd >= 0)
        close (fd);
    if (!dir)
        return 0;
    DIR *folder = opendir (local);
    struct dirent *item;
    int rc = 0;
    while (rc == 0 && folder && (item = readdir (folder))) {
        if (streq (item->d_name, ".") || streq (item->d_name, ".."))
            continue;
        char inner_local[PATH_MAX], inner_remote[WORM_RUN_PATH_MAX + 1];
        if (snprintf (inner_local, sizeof inner_local, "%s/%s", local, item->d_name)
                >= (int) sizeof inner_local
            || snprintf (inner_remote, sizeof inner_remote, "%s/%s", remote, item->d_name)
                   >= (int) sizeof inner_remote) {
            snprintf (err, cap, "input %s/%s: path too long", local, item->d_name);
            rc = -1;
        } else
            rc = s_put (self, inner_local, inner_remote, timeout_ms, err, cap);
    }
    if (folder)
        closedir (folder);
    return rc;
}

int
wormctl_run_input_name (const char *local, char *remote, size_t cap)
{
    char path[WORM_RUN_PATH_MAX + 1];
    if (snprintf (path, sizeof path, "%s", local) >= (int) sizeof path)
        return -1;
    size_t len = strlen (path);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = 0;
    const char *start = path;
    while (!strncmp (start, "./", 2))
        start += 2;
    if (!worm_runspec_path_ok (start)) {
        const char *slash = strrchr (path, '/');
        start = slash ? slash + 1 : path;
        if (!worm_runspec_path_ok (start))
            return -1;
    }
    snprintf (remote, cap, "%s", start);
    return 0;
}

//  Puts one input where wormctl_run_input_name says, its folders made first.
static int
s_put_input (wormctl_run_t *self, const char *local, int timeout_ms, char *err, size_t cap)
{
    char remote[WORM_RUN_PATH_MAX + 1];
    if (wormctl_run_input_name (local, remote, sizeof remote)) {
        snprintf (err, cap, "input %s: no name it can have in the remote folder", local);
        return -1;
    }
    //  The folders above it, as folders of ours
    for (char *slash = strchr (remote, '/'); slash; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        if (s_wait_credit (self, timeout_ms, err, cap))
            return -1;
        s_send_put (self, remote, true, 0700, NULL, 0, false);
        *slash = '/';
    }
    return s_put (self, local, remote, timeout_ms, err, cap);
}

//  A willing host's answer: collected when it runs commands and is not
//  excluded, or when it is this host (--local-ok); the first such stops
//  the query (least loaded first).
typedef struct {
    const wormctl_run_spec_t *spec;
    char tried[S_TRIES][17];  //  ids of hosts that refused us already
    int n_tried;
    worm_hostinfo_t host;  //  the one found
    bool found;
    int ours;     //  how many of our other commands it runs (spec->busy)
    int candidates;  //  hosts that answered and would do
    bool here;    //  or: this host is the least loaded
    int willing;  //  willing hosts that answered
} s_pick_t;

static bool
s_has_cap (const char *caps, const char *cap)
{
    char list[160];
    snprintf (list, sizeof list, ",%s,", caps);
    char word[32];
    snprintf (word, sizeof word, ",%s,", cap);
    return strstr (list, word) != NULL;
}

static int
s_pick (void *arg, const worm_hostinfo_t *host)
{
    s_pick_t *pick = (s_pick_t *) arg;
    pick->willing++;
    //  This host answered before any other: customs' rule, run it here
    if (pick->spec->local && streq (host->name, pick->spec->local) && !pick->n_tried) {
        pick->here = true;
        return 1;
    }
    if (!s_has_cap (host->caps, "run"))
        return 0;
    for (int i = 0; i < pick->spec->n_exclude; i++)
        if (streq (pick->spec->exclude[i], host->id))
            return 0;
    for (int i = 0; i < pick->n_tried; i++)
        if (streq (pick->tried[i], host->id))
            return 0;
    //  With our other commands about: the first host that runs none of
    //  them, else the one that runs fewest once the answers are over
    int ours = 0;
    for (int i = 0; i < pick->spec->n_busy; i++)
        ours += streq (pick->spec->busy[i], host->id);
    if (!pick->found || ours < pick->ours) {
        pick->host = *host;
        pick->found = true;
        pick->ours = ours;
    }
    pick->candidates++;
    return ours == 0
        || (pick->spec->hosts_known && pick->candidates >= pick->spec->hosts_known);
}

//  The run request for spec on claim, into request (initialised here; the
//  caller finishes it).
static void
s_write_run (const wormctl_run_spec_t *spec, const char *claim, bool inputs,
             worm_wire_writer_t *request)
{
    worm_wire_writer_init (request);
    worm_wire_map_open (request);
    worm_wire_kstr (request, "op", "run");
    worm_wire_kstr (request, "claim", claim);
    size_t words = 0;
    while (spec->argv[words])
        words++;
    worm_wire_key (request, "argv");
    worm_wire_array (request, words);
    for (size_t i = 0; i < words; i++)
        worm_wire_str (request, spec->argv[i]);
    size_t vars = 0;
    while (spec->env[vars])
        vars++;
    worm_wire_key (request, "env");
    worm_wire_map (request, vars);
    for (size_t i = 0; i < vars; i++) {
        const char *equals = strchr (spec->env[i], '=');
        char name[WORM_RUN_ENV_NAME_MAX + 1];
        snprintf (name, sizeof name, "%.*s", (int) (equals - spec->env[i]), spec->env[i]);
        worm_wire_kstr (request, name, equals + 1);
    }
    worm_wire_ku64 (request, "umask", spec->umask);
    if (spec->timeout_s)
        worm_wire_ku64 (request, "timeout_ms", (uint64_t) spec->timeout_s * 1000);
    worm_wire_kbool (request, "inputs", inputs);
    size_t outputs = 0;
    while (spec->outputs[outputs])
        outputs++;
    worm_wire_key (request, "outputs");
    worm_wire_array (request, outputs);
    for (size_t i = 0; i < outputs; i++)
        worm_wire_str (request, spec->outputs[i]);
    size_t shares = 0;
    while (spec->shares[shares])
        shares++;
    if (shares) {
        worm_wire_key (request, "share");
        worm_wire_array (request, shares);
        for (size_t i = 0; i < shares; i++)
            worm_wire_str (request, spec->shares[i]);
    }
    worm_wire_map_close (request);
}

//  Sends request (and finishes it), waits for its reply into reply, and
//  checks it. Returns 0, -2 when the host refused (err, *status), or -1.
static int
s_call (wormctl_run_t *self, worm_wire_writer_t *request, int timeout_ms, worm_wire_reader_t *reply,
        int *status, char *err, size_t cap)
{
    s_send (self, request);
    worm_wire_writer_fini (request);
    int rc = s_await_reply (self, timeout_ms, reply, err, cap);
    if (rc == 0 && s_reply_ok (self, reply, status, err, cap))
        rc = -2;
    return rc;
}

//  Claims a slot on host and sends `run` on a connection of our own.
//  Returns 0 with the run started (or loading, with inputs), -2 when the
//  host refused (err and *status say why), -1 when it did not answer.
static int
s_try_host (wormctl_run_t *self, int *status, char *err, size_t cap)
{
    wormctl_client_t *client = self->client;
    const wormctl_run_spec_t *spec = self->spec;
    int timeout = wormctl_timeout_ms (client, WORMCTL_REQUEST_S);
    char worm[16], claim[WORM_HOST_ID_LEN + 1];
    char hex[9];
    worm_random_hex (hex, 8);
    snprintf (worm, sizeof worm, "run.%s", hex);
    *status = 1;
    if (!wormctl_host_trusted (client, &self->host, err, cap))
        return -1;
    int rc = worm_place_claim (NULL, self->host.endpoint, self->host.key, worm, NULL, timeout,
                               claim, err, cap);
    if (rc)
        return rc;
    self->dealer = worm_ctl_connect (self->host.endpoint, self->host.key, err, cap);
    if (!self->dealer)
        return -1;
    bool inputs = spec->inputs[0] != NULL;
    worm_wire_writer_t request;
    worm_wire_reader_t reply;
    s_write_run (spec, claim, inputs, &request);
    worm_wire_reader_init (&reply);
    rc = s_call (self, &request, timeout, &reply, status, err, cap);
    uint64_t window = 0;
    if (rc == 0
        && (worm_wire_get_str (&reply, reply.root, "run", self->id, sizeof self->id)
            || worm_wire_get_u64 (&reply, reply.root, "window", &window) || window == 0
            || window > 1024)) {
        snprintf (err, cap, "bad run answer from %s: %s", self->host.name,
                  reply.error[0] ? reply.error : "no window");
        rc = -1;
    }
    worm_wire_reader_fini (&reply);
    if (rc)
        return rc;
    self->window = self->in_credit = (int) window;
    if (!inputs)
        return 0;
    for (int i = 0; spec->inputs[i]; i++)
        if (s_put_input (self, spec->inputs[i], timeout * 5, err, cap)) {
            wormctl_run_signal (self, SIGKILL);
            return -1;
        }
    s_request (self, &request, "run-start");
    worm_wire_map_close (&request);
    worm_wire_reader_init (&reply);
    rc = s_call (self, &request, timeout, &reply, status, err, cap);
    worm_wire_reader_fini (&reply);
    return rc;
}

wormctl_run_t *
wormctl_run_start (wormctl_client_t *client, const wormctl_run_spec_t *spec, int *status, char *err,
                   size_t cap)
{
    wormctl_run_t *self = calloc (1, sizeof *self);
    self->client = client;
    self->spec = spec;
    self->output = zlist_new ();
    self->file_fd = -1;
    self->heard_ms = self->said_ms = worm_now_ms ();
    *status = 1;
    s_pick_t *pick = calloc (1, sizeof *pick);
    pick->spec = spec;
    int rc = -1;
    for (int attempt = 0; attempt < S_TRIES && rc && !zsys_interrupted; attempt++) {
        zsock_destroy (&self->dealer);
        if (spec->host) {
            if (attempt > 0 || wormctl_find_host (client, spec->host, &self->host, err, cap))
                break;
        } else {
            worm_lan_t lan;
            int expected;
            if (wormctl_lan (client, &lan, &expected, err, cap))
                break;
            pick->found = false;
            pick->willing = pick->candidates = 0;
            int timeout = wormctl_timeout_ms (client, WORMCTL_QUERY_S);
            //  Our other commands run meanwhile, their output waiting
            if (spec->n_busy && timeout > S_BUSY_QUERY_MS)
                timeout = S_BUSY_QUERY_MS;
            if (worm_discover (&lan, false, timeout, spec->n_busy ? S_QUIET_MS : 0, s_pick,
                              pick, err, cap) < 0)
                break;
            if (pick->here) {
                *status = WORMCTL_RUN_HERE;
                break;
            }
            if (!pick->found) {
                if (attempt == 0 || !err[0])
                    snprintf (err, cap, "%s",
                              pick->willing ? "no willing host runs commands (wormd --allow-run)"
                                            : "no willing host answered");
                break;
            }
            self->host = pick->host;
            snprintf (pick->tried[pick->n_tried++], sizeof pick->tried[0], "%s", self->host.id);
        }
        char why[600];
        rc = s_try_host (self, status, why, sizeof why);
        //  Evicted while its inputs went in: the caller hears it as any eviction
        if (rc && self->over && self->end.evicted)
            rc = 0;
        if (rc)
            snprintf (err, cap, "%s", why);
        //  A refusal of the command itself would be the same anywhere
        if (rc == -2 && *status != 1)
            break;
    }
    free (pick);
    if (zsys_interrupted) {
        if (self->id[0])
            wormctl_run_signal (self, SIGKILL);
        snprintf (err, cap, "interrupted");
    }
    if (rc || zsys_interrupted) {
        wormctl_run_destroy (&self);
        return NULL;
    }
    return self;
}
