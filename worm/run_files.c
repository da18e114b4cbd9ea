/*  run_files.c — a run's files (docs/PROTOCOL.md, "Run"): the inputs its
    client puts into its folder before the command starts, and the outputs
    sent back after it ended, in chunks within the client's window. The
    folder belongs to the guest user, whose other guests may change it
    meanwhile: every path is walked one component at a time without
    following a link, what is made is made anew, and only regular files
    and folders of the guest's are sent back (see run_internal.h).
*/
#include "run_internal.h"
#include "ctl.h"
#include "runspec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAX_ENTRIES 10000  //  files and folders put, or sent back, at most
#define S_MAX_DEPTH 32       //  folders nested in an output, at most

static void
s_close (int *fd)
{
    if (*fd >= 0)
        close (*fd);
    *fd = -1;
}

//  Opens the folder that holds path's last component, walking from the
//  run's folder one component at a time without following a link (the
//  folder is the guest user's, who may have planted one). Returns the
//  folder's descriptor and points *leaf at the last component, or -1.
static int
s_open_parent (const worm_run_t *run, const char *path, const char **leaf)
{
    int dir = open (run->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    char part[WORM_RUN_PATH_MAX + 1];
    const char *rest = path;
    const char *slash;
    while (dir >= 0 && (slash = strchr (rest, '/'))) {
        snprintf (part, sizeof part, "%.*s", (int) (slash - rest), rest);
        int next = openat (dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close (dir);
        dir = next;
        rest = slash + 1;
    }
    *leaf = rest;
    return dir;
}

//  What a guest made belongs to the guest user: anything else in its
//  folder (a hard link to another's file) is not sent back.
static bool
s_guests_own (worm_agent_t *self, const struct stat *st)
{
    return !self->config.guest_user_other || st->st_uid == self->config.guest_user.uid;
}

//  Lists path (inside the folder) into run->sending: a regular file of the
//  guest's, or a folder and, depth-first, what it holds (folders first).
//  Returns false when path is neither, or the list is full.
static bool
s_list_output (worm_agent_t *self, worm_run_t *run, const char *path, int depth)
{
    if (zlist_size (run->sending) >= S_MAX_ENTRIES || depth > S_MAX_DEPTH)
        return false;
    const char *leaf;
    int dir = s_open_parent (run, path, &leaf);
    struct stat st;
    bool listed = false;
    if (dir >= 0 && fstatat (dir, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && s_guests_own (self, &st)
        && (S_ISREG (st.st_mode) || S_ISDIR (st.st_mode))) {
        worm_run_entry_t *entry = calloc (1, sizeof *entry);
        snprintf (entry->path, sizeof entry->path, "%s", path);
        entry->dir = S_ISDIR (st.st_mode);
        entry->mode = st.st_mode & 0777;
        zlist_append (run->sending, entry);
        listed = true;
        int inner =
            entry->dir ? openat (dir, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
        DIR *folder = inner >= 0 ? fdopendir (inner) : NULL;
        if (!folder && inner >= 0)
            close (inner);
        struct dirent *item;
        while (folder && (item = readdir (folder))) {
            if (streq (item->d_name, ".") || streq (item->d_name, ".."))
                continue;
            char child[WORM_RUN_PATH_MAX + 1];
            if (snprintf (child, sizeof child, "%s/%s", path, item->d_name) >= (int) sizeof child)
                continue;
            s_list_output (self, run, child, depth + 1);
        }
        if (folder)
            closedir (folder);
    }
    if (dir >= 0)
        close (dir);
    return listed;
}

void
worm_run_list_outputs (worm_agent_t *self, worm_run_t *run)
{
    for (char *path = zlist_first (run->outputs); path; path = zlist_next (run->outputs))
        if (!s_list_output (self, run, path, 0))
            zlist_append (run->missing, strdup (path));
}

bool
worm_run_send_outputs (worm_agent_t *self, worm_run_t *run)
{
    static char buf[WORM_RUN_CHUNK];
    worm_run_entry_t *entry;
    while (run->credit > 0 && (entry = zlist_first (run->sending))) {
        size_t size = 0;
        bool more = false;
        if (!entry->dir) {
            if (run->file_fd < 0) {
                const char *leaf;
                int dir = s_open_parent (run, entry->path, &leaf);
                run->file_fd =
                    dir >= 0 ? openat (dir, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                             : -1;
                if (dir >= 0)
                    close (dir);
                //  Only what it was when listed: a regular file of the guest's
                struct stat st = {.st_size = 0};
                if (run->file_fd >= 0
                    && (fstat (run->file_fd, &st) || !S_ISREG (st.st_mode)
                        || !s_guests_own (self, &st)))
                    s_close (&run->file_fd);
                run->file_left = run->file_fd >= 0 ? st.st_size : 0;
            }
            ssize_t got = run->file_fd >= 0 && run->file_left > 0
                              ? read (run->file_fd, buf,
                                      run->file_left < WORM_RUN_CHUNK ? (size_t) run->file_left
                                                                      : WORM_RUN_CHUNK)
                              : 0;
            size = got > 0 ? (size_t) got : 0;
            run->file_left = got > 0 ? run->file_left - got : 0;
            more = run->file_left > 0;
        }
        worm_wire_writer_t writer;
        worm_run_message (&writer, run, "file");
        worm_wire_kstr (&writer, "path", entry->path);
        worm_wire_kstr (&writer, "type", entry->dir ? "dir" : "file");
        worm_wire_ku64 (&writer, "mode", entry->mode);
        worm_wire_kbin (&writer, "data", buf, size);
        worm_wire_kbool (&writer, "more", more);
        worm_wire_map_close (&writer);
        worm_run_push (self, run, &writer);
        worm_wire_writer_fini (&writer);
        run->credit--;
        if (!more) {
            s_close (&run->file_fd);
            free (zlist_pop (run->sending));
        }
    }
    return zlist_size (run->sending) == 0;
}

//  --------------------------------------------------------------------------
//  Inputs, before the command starts

int
worm_run_put (worm_agent_t *self, worm_run_t *run, const char *path, bool dir, unsigned mode,
              const void *data, size_t size, bool more, char *err, size_t cap)
{
    if (run->put_fd >= 0 && (dir || !streq (path, run->put_path))) {
        snprintf (err, cap, "input %s is not whole yet", run->put_path);
        return -1;
    }
    if (run->put_fd < 0) {
        if (run->puts >= S_MAX_ENTRIES) {
            snprintf (err, cap, "more than %d inputs", S_MAX_ENTRIES);
            return -1;
        }
        const char *leaf;
        int parent = s_open_parent (run, path, &leaf);
        if (parent < 0) {
            snprintf (err, cap, "the folder of %s is not there: %s", path, strerror (errno));
            return -1;
        }
        //  Made anew (O_EXCL), then changed through its own descriptor: the
        //  folder is the guest user's, whose other guests may plant a link
        int fd = -1;
        if (dir && mkdirat (parent, leaf, 0700) == 0)
            fd = openat (parent, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        else if (!dir)
            fd = openat (parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        bool made = fd >= 0;
        int saved = errno;
        //  The guest's, with the client's permissions (and ours to fill)
        if (made && self->config.guest_user_other
            && fchown (fd, self->config.guest_user.uid, self->config.guest_user.gid))
            worm_log ("run %s: cannot give %s to the guest user: %s", run->id, path,
                      strerror (errno));
        if (made)
            fchmod (fd, (mode & 0777) | (dir ? 0700 : 0600));
        if (made && !dir)
            run->put_fd = fd;
        else if (made)
            close (fd);
        close (parent);
        if (!made) {
            snprintf (err, cap, "cannot make %s: %s", path, strerror (saved));
            return -1;
        }
        run->puts++;
        snprintf (run->put_path, sizeof run->put_path, "%s", path);
    }
    if (dir)
        return 0;
    const char *bytes = (const char *) data;
    while (size) {
        ssize_t done = write (run->put_fd, bytes, size);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0) {
            snprintf (err, cap, "cannot write %s: %s", path, strerror (errno));
            s_close (&run->put_fd);
            return -1;
        }
        bytes += done;
        size -= (size_t) done;
    }
    if (!more)
        s_close (&run->put_fd);
    return 0;
}

void
worm_agent_op_run_put (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    worm_run_t *run = worm_run_of_request (self, identity, reader, "run-put");
    if (!run)
        return;
    worm_runspec_chunk_t chunk;
    char err[WORM_RUN_PATH_MAX + 256];
    if (run->state != WORM_RUN_LOADING)
        snprintf (err, sizeof err, "run %s has started: inputs come before run-start", run->id);
    else if (worm_runspec_chunk_read (reader, &chunk, err, sizeof err) == 0
             && worm_run_put (self, run, chunk.path, chunk.dir, chunk.mode, chunk.data,
                              chunk.size, chunk.more, err, sizeof err)
                    == 0) {
        worm_run_push_ack (self, run, 1);
        return;
    }
    worm_ctl_reply_error (self->router, identity, "run-put: %s", err);
}
