/*  lock.c — one agent per state folder. See lock.h. */
#include "lock.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct worm_lock_t {
    int fd;                     //  the open lock file; the flock lives on it
};

//  The pid written in the lock file open at fd, or 0.
static pid_t
s_pid_in_file (int fd)
{
    char text[32];
    ssize_t size = pread (fd, text, sizeof text - 1, 0);
    if (size <= 0)
        return 0;
    text[size] = 0;
    char *end;
    long pid = strtol (text, &end, 10);
    if (end == text || pid <= 0 || pid > INT_MAX)
        return 0;
    return (pid_t) pid;
}

static bool
s_alive (pid_t pid)
{
    return pid > 0 && (kill (pid, 0) == 0 || errno == EPERM);
}

//  The pid /proc/locks shows holding a FLOCK on the file open at fd, or 0.
//  (It is the pid that took the lock: after a fork, maybe one that is gone.)
static pid_t
s_pid_in_proc_locks (int fd)
{
    struct stat st;
    FILE *locks = fstat (fd, &st) == 0 ? fopen ("/proc/locks", "r") : NULL;
    if (!locks)
        return 0;
    char want[64];
    snprintf (want, sizeof want, "%02x:%02x:%lu", major (st.st_dev), minor (st.st_dev),
              (unsigned long) st.st_ino);
    pid_t found = 0;
    char line[256];
    while (!found && fgets (line, sizeof line, locks)) {
        //  "1: FLOCK  ADVISORY  WRITE 2871 fd:01:1310730 0 EOF"; waiters have "->"
        char kind[16], mode[16], access[16], file[64];
        int pid;
        if (!strstr (line, "->")
            && sscanf (line, "%*s %15s %15s %15s %d %63s", kind, mode, access, &pid, file) == 5
            && strcmp (kind, "FLOCK") == 0 && strcmp (file, want) == 0 && pid > 0)
            found = (pid_t) pid;
    }
    fclose (locks);
    return found;
}

//  Who holds the lock on the file open at fd: the pid it names when that
//  one lives, else the one /proc/locks names when that one lives; or 0.
static pid_t
s_holder (int fd)
{
    pid_t pid = s_pid_in_file (fd);
    if (s_alive (pid))
        return pid;
    pid = s_pid_in_proc_locks (fd);
    return s_alive (pid) ? pid : 0;
}

int
worm_lock_new (worm_lock_t **self_p, const char *dir, char *err, size_t cap)
{
    *self_p = NULL;
    char path[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", dir, WORM_LOCK_FILE) >= (int) sizeof path) {
        snprintf (err, cap, "state folder %.60s…: path too long", dir);
        return -1;
    }
    //  An existing folder and lock file are only opened, never changed,
    //  until the lock is ours
    if (worm_mkdirs (dir, 0700)) {
        snprintf (err, cap, "cannot create state folder %s: %s", dir, strerror (errno));
        return -1;
    }
    int fd = open (path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (err, cap, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    if (flock (fd, LOCK_EX | LOCK_NB)) {
        int rc = -1;
        if (errno == EWOULDBLOCK) {
            rc = WORM_LOCK_HELD;
            pid_t holder = s_holder (fd);
            if (holder)
                snprintf (err, cap, "state folder %s is in use by the wormd of pid %d (it holds "
                                    "%s); stop it or choose another --state-dir",
                          dir, (int) holder, path);
            else
                snprintf (err, cap, "state folder %s is in use by another wormd (it holds %s; "
                                    "its pid is unknown); stop it or choose another --state-dir",
                          dir, path);
        }
        else
            snprintf (err, cap, "cannot lock %s: %s", path, strerror (errno));
        close (fd);
        return rc;
    }
    worm_lock_t *self = calloc (1, sizeof *self);
    self->fd = fd;
    if (worm_lock_claim (self)) {
        snprintf (err, cap, "cannot write %s: %s", path, strerror (errno));
        worm_lock_destroy (&self);
        return -1;
    }
    *self_p = self;
    return 0;
}

int
worm_lock_claim (worm_lock_t *self)
{
    char text[32];
    int len = snprintf (text, sizeof text, "%d\n", (int) getpid ());
    if (ftruncate (self->fd, 0) || pwrite (self->fd, text, (size_t) len, 0) != len)
        return -1;
    return 0;
}

void
worm_lock_destroy (worm_lock_t **self_p)
{
    worm_lock_t *self = *self_p;
    if (!self)
        return;
    //  Emptied first: a lock file left by an agent that stopped names nobody
    int unused = ftruncate (self->fd, 0);
    (void) unused;
    close (self->fd);
    free (self);
    *self_p = NULL;
}
