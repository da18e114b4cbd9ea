/*  spawn.c — fork and exec under a controlled environment. See spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

//  In the child: reports errno on the pipe and exits.
static void
s_child_fail (int pipe_fd, int code)
{
    ssize_t unused = write (pipe_fd, &code, sizeof code);
    (void) unused;
    _exit (127);
}

pid_t
worm_spawn (const worm_spawn_spec_t *spec, char *err, size_t cap)
{
    int report[2];
    if (pipe2 (report, O_CLOEXEC)) {
        snprintf (err, cap, "pipe: %s", strerror (errno));
        return -1;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        snprintf (err, cap, "fork: %s", strerror (errno));
        close (report[0]);
        close (report[1]);
        return -1;
    }
    if (pid == 0) {
        close (report[0]);
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
            signal (sig, SIG_DFL);
        if (setsid () < 0)
            s_child_fail (report[1], errno);
        if (spec->workdir && chdir (spec->workdir))
            s_child_fail (report[1], errno);
        umask (spec->umask);
        if (spec->sched_idle) {
            struct sched_param param = {.sched_priority = 0};
            sched_setscheduler (0, SCHED_IDLE, &param);     //  best effort
        }
        if (spec->nice) {
            errno = 0;
            if (nice (spec->nice) == -1 && errno)
                s_child_fail (report[1], errno);
        }
        if (spec->mem_bytes) {
            struct rlimit limit = {spec->mem_bytes, spec->mem_bytes};
            if (setrlimit (RLIMIT_AS, &limit))
                s_child_fail (report[1], errno);
        }
        if (spec->max_files) {
            struct rlimit limit = {spec->max_files, spec->max_files};
            if (setrlimit (RLIMIT_NOFILE, &limit))
                s_child_fail (report[1], errno);
        }
        int in = open ("/dev/null", O_RDONLY);
        int out = spec->log_path
                      ? open (spec->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600)
                      : open ("/dev/null", O_WRONLY);
        if (in < 0 || out < 0)
            s_child_fail (report[1], errno);
        dup2 (in, 0);
        dup2 (out, 1);
        dup2 (out, 2);
        //  Close every other descriptor but the report pipe (close-on-exec)
        for (int fd = 3; fd < 1024; fd++)
            if (fd != report[1])
                close (fd);
        execve (spec->path, spec->argv, spec->envp);
        s_child_fail (report[1], errno);
    }
    close (report[1]);
    int code = 0;
    ssize_t got;
    do
        got = read (report[0], &code, sizeof code);
    while (got < 0 && errno == EINTR);
    close (report[0]);
    if (got == (ssize_t) sizeof code) {
        snprintf (err, cap, "cannot start %s: %s", spec->path, strerror (code));
        return -1;
    }
    return pid;
}

static int
s_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path) ? -1 : 0;
}

int
worm_rmtree (const char *path)
{
    struct stat st;
    if (lstat (path, &st) && errno == ENOENT)
        return 0;
    nftw (path, s_remove, 32, FTW_DEPTH | FTW_PHYS);
    return lstat (path, &st) == 0 ? -1 : 0;
}

int
worm_mkdirs (const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (snprintf (buf, sizeof buf, "%s", path) >= (int) sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir (buf, mode) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir (buf, mode) && errno != EEXIST)
        return -1;
    return 0;
}

int
worm_exe_dir (char *buf, size_t cap)
{
    ssize_t len = readlink ("/proc/self/exe", buf, cap - 1);
    if (len <= 0)
        return -1;
    buf[len] = 0;
    char *slash = strrchr (buf, '/');
    if (!slash)
        return -1;
    *slash = 0;
    return 0;
}
