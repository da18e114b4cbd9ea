/*  spawn.c — fork and exec under a controlled environment. See spawn.h. */
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  What the child was doing when it failed; it reports this and errno
typedef enum {
    STEP_SETSID,
    STEP_LOG,
    STEP_DEVNULL,
    STEP_STDIN,
    STEP_DUP,
    STEP_NICE,
    STEP_RLIMIT_DATA,
    STEP_RLIMIT_NOFILE,
    STEP_RLIMIT_NPROC,
    STEP_PRIVATE_TMP,
    STEP_KEEPER,
    STEP_SETGROUPS,
    STEP_SETGID,
    STEP_SETUID,
    STEP_STILL_ROOT,
    STEP_NO_NEW_PRIVS,
    STEP_DEATH_SIGNAL,
    STEP_PARENT_GONE,
    STEP_CHDIR,
    STEP_EXEC,
} s_step_t;

static const char *s_step_names[] = {
    [STEP_SETSID] = "setsid",
    [STEP_LOG] = "open the log",
    [STEP_DEVNULL] = "open /dev/null",
    [STEP_STDIN] = "fill the stdin pipe",
    [STEP_DUP] = "dup2",
    [STEP_NICE] = "nice",
    [STEP_RLIMIT_DATA] = "setrlimit RLIMIT_DATA",
    [STEP_RLIMIT_NOFILE] = "setrlimit RLIMIT_NOFILE",
    [STEP_RLIMIT_NPROC] = "setrlimit RLIMIT_NPROC",
    [STEP_PRIVATE_TMP] = "a private /tmp (mount namespace)",
    [STEP_KEEPER] = "start its keeper",
    [STEP_SETGROUPS] = "setgroups",
    [STEP_SETGID] = "setgid",
    [STEP_SETUID] = "setuid",
    [STEP_STILL_ROOT] = "uid 0 could be regained",
    [STEP_NO_NEW_PRIVS] = "prctl PR_SET_NO_NEW_PRIVS",
    [STEP_DEATH_SIGNAL] = "prctl PR_SET_PDEATHSIG",
    [STEP_PARENT_GONE] = "its parent ended before it started",
    [STEP_CHDIR] = "chdir",
    [STEP_EXEC] = "execve",
};

typedef struct {
    int step;       //  an s_step_t
    int error;      //  errno at that step
} s_report_t;

//  strerror without locale or allocation, safe between fork and exec
static const char *
s_error_text (int error)
{
    const char *text = strerrordesc_np (error);
    return text ? text : "unknown error";
}

//  Appends text to a fixed buffer (async-signal-safe).
static void
s_append (char *buf, size_t cap, size_t *len, const char *text)
{
    while (*text && *len + 1 < cap)
        buf[(*len)++] = *text++;
    buf[*len] = 0;
}

//  In the child: says what failed on stderr (the log, once it is open) and
//  on the report pipe, and exits.
static void
s_child_fail (int pipe_fd, const char *path, s_step_t step, int error)
{
    if (step > STEP_DUP) {
        char line[PATH_MAX + 256];
        size_t len = 0;
        s_append (line, sizeof line, &len, "cannot start ");
        s_append (line, sizeof line, &len, path);
        s_append (line, sizeof line, &len, ": ");
        s_append (line, sizeof line, &len, s_step_names[step]);
        s_append (line, sizeof line, &len, ": ");
        s_append (line, sizeof line, &len, s_error_text (error));
        s_append (line, sizeof line, &len, "\n");
        ssize_t unused = write (2, line, len);
        (void) unused;
    }
    s_report_t report = {step, error};
    ssize_t unused = write (pipe_fd, &report, sizeof report);
    (void) unused;
    _exit (127);
}

//  Drops to user: only its primary group, then its gid, then its uid, and
//  makes sure uid 0 cannot come back. Returns 0, or the failed step with
//  errno set.
static int
s_become (const worm_user_t *user)
{
    if (setgroups (1, &user->gid))
        return STEP_SETGROUPS;
    if (setgid (user->gid))
        return STEP_SETGID;
    if (setuid (user->uid))
        return STEP_SETUID;
    if (user->uid != 0 && setuid (0) == 0) {
        errno = EPERM;
        return STEP_STILL_ROOT;
    }
    return 0;
}

static int
s_limit (int resource, unsigned long value)
{
    struct rlimit limit = {value, value};
    return value ? setrlimit (resource, &limit) : 0;
}

//  In the child: stdout and stderr to the log (or /dev/null), stdin from
//  /dev/null or a pipe holding stdin_text.
static void
s_child_log_stdin (const worm_spawn_spec_t *spec, int report)
{
    //  The log first, as the caller: it is the caller's file, and failures
    //  after this are written to it. O_NOFOLLOW: the folder may be the guest's.
    int out = spec->log_path ? open (spec->log_path,
                                     O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600)
                             : open ("/dev/null", O_WRONLY | O_CLOEXEC);
    if (out < 0)
        s_child_fail (report, spec->path, STEP_LOG, errno);
    int in = -1;
    if (spec->stdin_text) {
        //  A pipe the program reads to its end: small enough that the
        //  write cannot block with no reader yet
        int ends[2];
        size_t len = strlen (spec->stdin_text);
        if (len > PIPE_BUF || pipe2 (ends, O_CLOEXEC))
            s_child_fail (report, spec->path, STEP_STDIN, len > PIPE_BUF ? E2BIG : errno);
        if (write (ends[1], spec->stdin_text, len) != (ssize_t) len)
            s_child_fail (report, spec->path, STEP_STDIN, errno);
        close (ends[1]);
        in = ends[0];
    }
    else if ((in = open ("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        s_child_fail (report, spec->path, STEP_DEVNULL, errno);
    if (dup2 (in, 0) < 0 || dup2 (out, 1) < 0 || dup2 (out, 2) < 0)
        s_child_fail (report, spec->path, STEP_DUP, errno);
}

//  --------------------------------------------------------------------------
//  The keeper and the private /tmp, in the child. Only async-signal-safe
//  calls: the caller may have threads.

//  Writes n in decimal after text into buf ("/proc/" 42 -> "/proc/42").
static void
s_number_path (char *buf, size_t cap, const char *text, long n, const char *tail)
{
    size_t len = 0;
    s_append (buf, cap, &len, text);
    char digits[24];
    int at = (int) sizeof digits - 1;
    digits[at] = 0;
    do
        digits[--at] = (char) ('0' + n % 10);
    while ((n /= 10) > 0 && at > 0);
    s_append (buf, cap, &len, digits + at);
    s_append (buf, cap, &len, tail);
}

//  The parent of pid from /proc/PID/stat, or -1.
static pid_t
s_parent_of (pid_t pid)
{
    char path[48], text[512];
    s_number_path (path, sizeof path, "/proc/", pid, "/stat");
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t size = read (fd, text, sizeof text - 1);
    close (fd);
    if (size <= 0)
        return -1;
    text[size] = 0;
    //  "PID (NAME) S PPID ...": the name may hold anything, so the last ')'
    char *at = NULL;
    for (char *p = text; *p; p++)
        if (*p == ')')
            at = p;
    if (!at || !at[1] || !at[2] || !at[3] || at[4] < '0' || at[4] > '9')
        return -1;
    long ppid = 0;
    for (at += 4; *at >= '0' && *at <= '9'; at++)
        ppid = ppid * 10 + (*at - '0');
    return (pid_t) ppid;
}

//  SIGKILLs every child of this process (found in /proc).
static void
s_kill_children (void)
{
    pid_t self = getpid ();
    int dir = open ("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return;
    char buf[8192];
    ssize_t size;
    while ((size = getdents64 (dir, buf, sizeof buf)) > 0)
        for (ssize_t at = 0; at < size;) {
            struct dirent64 *entry = (struct dirent64 *) (buf + at);
            at += entry->d_reclen;
            long pid = 0;
            const char *c = entry->d_name;
            while (*c >= '0' && *c <= '9')
                pid = pid * 10 + (*c++ - '0');
            if (!*c && pid > 0 && s_parent_of ((pid_t) pid) == self)
                kill ((pid_t) pid, SIGKILL);
        }
    close (dir);
}

//  The keeper, once the program started: waits for it (SIGKILLs it when
//  the caller ends: SIGALRM is its parent death signal), then SIGKILLs
//  whatever is left below it until nothing is, and ends as the program
//  did. Never returns.
static void
s_keep (pid_t program, const sigset_t *waited)
{
    //  It holds none of the program's files: its pipes end with its tree
    for (int fd = 0; fd < 1024; fd++)
        close (fd);
    static const int ignored[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGUSR1,
                                  SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        signal (ignored[i], SIG_IGN);
    int status = 0;
    for (bool over = false; !over;) {
        int got;
        pid_t pid;
        while ((pid = waitpid (-1, &got, WNOHANG)) > 0)
            if (pid == program) {
                status = got;
                over = true;
            }
        if (pid < 0 && errno == ECHILD)
            over = true;
        if (!over && sigwaitinfo (waited, NULL) == SIGALRM)
            kill (program, SIGKILL);
    }
    //  Orphans come to us; those that are not dead yet are killed again
    struct timespec pause = {0, 5 * 1000 * 1000};
    for (;;) {
        s_kill_children ();
        pid_t pid;
        int got;
        while ((pid = waitpid (-1, &got, WNOHANG)) > 0)
            ;
        if (pid < 0 && errno == ECHILD)
            break;
        nanosleep (&pause, NULL);
    }
    if (WIFSIGNALED (status)) {
        //  By the same signal, without a core of the keeper (the caller's memory)
        int sig = WTERMSIG (status);
        struct rlimit none = {0, 0};
        setrlimit (RLIMIT_CORE, &none);
        signal (sig, SIG_DFL);
        sigset_t set;
        sigemptyset (&set);
        sigaddset (&set, sig);
        sigprocmask (SIG_UNBLOCK, &set, NULL);
        kill (getpid (), sig);
        _exit (128 + sig);
    }
    _exit (WEXITSTATUS (status));
}

//  Becomes the keeper and forks the program: returns in the program, with
//  the keeper's pid (its parent now); the keeper never returns. A failure
//  ends the child with the step.
static pid_t
s_keeper (const worm_spawn_spec_t *spec, int report, pid_t parent)
{
    //  Blocked before anything can send them, so that none is lost
    sigset_t waited, old;
    sigemptyset (&waited);
    sigaddset (&waited, SIGCHLD);
    sigaddset (&waited, SIGALRM);
    sigprocmask (SIG_BLOCK, &waited, &old);
    if (spec->parent_death_signal) {
        if (prctl (PR_SET_PDEATHSIG, SIGALRM, 0, 0, 0))
            s_child_fail (report, spec->path, STEP_DEATH_SIGNAL, errno);
        if (getppid () != parent)
            s_child_fail (report, spec->path, STEP_PARENT_GONE, ESRCH);
    }
    if (prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
        s_child_fail (report, spec->path, STEP_KEEPER, errno);
    //  No one but root reads its memory, a copy of the caller's
    prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
    pid_t keeper = getpid ();
    pid_t program = fork ();
    if (program < 0)
        s_child_fail (report, spec->path, STEP_KEEPER, errno);
    if (program == 0) {
        sigprocmask (SIG_SETMASK, &old, NULL);
        return keeper;
    }
    s_keep (program, &waited);
    return -1;
}

//  Creates path's folders below top (a fresh tmpfs), 0711 root's.
static void
s_make_path (char *path, size_t top)
{
    for (size_t at = top + 1; path[at - 1]; at++)
        if (path[at] == '/' || !path[at]) {
            char saved = path[at];
            path[at] = 0;
            mkdir (path, 0711);
            path[at] = saved;
        }
}

//  A mount namespace of its own with fresh tmpfs on /tmp, /var/tmp and
//  /dev/shm, and spec->visible bound back where those hide them. Returns
//  0, or an errno.
static int
s_private_tmp (const worm_spawn_spec_t *spec)
{
    static const char *const dirs[] = {"/tmp", "/var/tmp", "/dev/shm"};
    if (unshare (CLONE_NEWNS) || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
        return errno;
    //  The folders to keep, opened as the user: one it cannot reach stays hidden
    int fds[WORM_SPAWN_VISIBLE_MAX];
    char real[WORM_SPAWN_VISIBLE_MAX][PATH_MAX];
    int count = 0;
    if (spec->user) {
        if (setgroups (1, &spec->user->gid))
            return errno;
        setfsgid (spec->user->gid);
        setfsuid (spec->user->uid);
    }
    for (int i = 0; spec->visible && spec->visible[i] && count < WORM_SPAWN_VISIBLE_MAX; i++) {
        int fd = open (spec->visible[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        char link[48];
        s_number_path (link, sizeof link, "/proc/self/fd/", fd, "");
        ssize_t len = readlink (link, real[count], PATH_MAX - 1);
        if (len <= 0 || real[count][0] != '/') {
            close (fd);
            continue;
        }
        real[count][len] = 0;
        fds[count++] = fd;
    }
    setfsuid (0);
    setfsgid (0);
    char options[64];
    size_t len = 0;
    s_append (options, sizeof options, &len, "mode=1777,size=");
    if (spec->tmp_bytes)
        s_number_path (options + len, sizeof options - len, "", (long) spec->tmp_bytes, "");
    else
        s_append (options, sizeof options, &len, "25%");
    const char *mounted[3];
    int n_mounted = 0;
    for (int i = 0; i < 3; i++) {
        struct stat st;
        if (lstat (dirs[i], &st) || !S_ISDIR (st.st_mode))
            continue;
        if (mount ("tmpfs", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV, options))
            return errno;
        mounted[n_mounted++] = dirs[i];
    }
    umask (0);
    for (int i = 0; i < count; i++) {
        struct stat was, now;
        if (fstat (fds[i], &was) == 0 && stat (real[i], &now) == 0 && was.st_dev == now.st_dev
            && was.st_ino == now.st_ino)
            continue;   //  not hidden
        for (int k = 0; k < n_mounted; k++) {
            size_t top = strlen (mounted[k]);
            if (strncmp (real[i], mounted[k], top) || (real[i][top] && real[i][top] != '/'))
                continue;
            s_make_path (real[i], top);
            char from[48];
            s_number_path (from, sizeof from, "/proc/self/fd/", fds[i], "");
            if (mount (from, real[i], NULL, MS_BIND | MS_REC, NULL))
                return errno;
        }
    }
    for (int i = 0; i < count; i++)
        close (fds[i]);
    return 0;
}

//  In the child: everything between fork and exec. Never returns.
static void
s_child (const worm_spawn_spec_t *spec, int report, pid_t parent)
{
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        signal (sig, SIG_DFL);
    if (setsid () < 0)
        s_child_fail (report, spec->path, STEP_SETSID, errno);
    if (spec->stdio) {
        //  The caller's pipes: dup2 clears close-on-exec on the copies
        for (int fd = 0; fd < 3; fd++)
            if (dup2 (spec->stdio[fd], fd) < 0)
                s_child_fail (report, spec->path, STEP_DUP, errno);
    }
    else
        s_child_log_stdin (spec, report);
    if (spec->sched_idle) {
        struct sched_param param = {.sched_priority = 0};
        sched_setscheduler (0, SCHED_IDLE, &param);     //  best effort
    }
    if (spec->nice) {
        errno = 0;
        if (nice (spec->nice) == -1 && errno)
            s_child_fail (report, spec->path, STEP_NICE, errno);
    }
    //  Limits while still privileged: root may set any hard limit, the
    //  user may not raise them afterwards
    if (s_limit (RLIMIT_DATA, spec->mem_bytes))
        s_child_fail (report, spec->path, STEP_RLIMIT_DATA, errno);
    if (s_limit (RLIMIT_NOFILE, spec->max_files))
        s_child_fail (report, spec->path, STEP_RLIMIT_NOFILE, errno);
    if (s_limit (RLIMIT_NPROC, spec->max_procs))
        s_child_fail (report, spec->path, STEP_RLIMIT_NPROC, errno);
    if (spec->private_tmp) {
        int error = s_private_tmp (spec);
        if (error)
            s_child_fail (report, spec->path, STEP_PRIVATE_TMP, error);
    }
    //  From here on, in the program: the keeper stays behind as its parent
    if (spec->keeper)
        parent = s_keeper (spec, report, parent);
    if (spec->user) {
        int step = s_become (spec->user);
        if (step)
            s_child_fail (report, spec->path, (s_step_t) step, errno);
    }
    //  No set-uid program can lift it (or its tree) above its user again
    if (spec->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        s_child_fail (report, spec->path, STEP_NO_NEW_PRIVS, errno);
    //  After the user change, which clears it; a parent that ended before
    //  this sent no signal, hence the check after
    if (spec->parent_death_signal) {
        if (prctl (PR_SET_PDEATHSIG, spec->parent_death_signal, 0, 0, 0))
            s_child_fail (report, spec->path, STEP_DEATH_SIGNAL, errno);
        if (getppid () != parent)
            s_child_fail (report, spec->path, STEP_PARENT_GONE, ESRCH);
    }
    if (spec->workdir && chdir (spec->workdir))
        s_child_fail (report, spec->path, STEP_CHDIR, errno);
    umask (spec->umask);
    //  Close every other descriptor but the report pipe (close-on-exec)
    for (int fd = 3; fd < 1024; fd++)
        if (fd != report)
            close (fd);
    execve (spec->path, spec->argv, spec->envp);
    s_child_fail (report, spec->path, STEP_EXEC, errno);
}

//  Forks with a close-on-exec pipe from child to parent; *fd gets the
//  child's end in the child and the parent's end in the parent. Returns
//  the pid (0 in the child), or -1 with the reason in err.
static pid_t
s_fork_piped (int *fd, char *err, size_t cap)
{
    int ends[2];
    if (pipe2 (ends, O_CLOEXEC)) {
        snprintf (err, cap, "pipe: %s", strerror (errno));
        return -1;
    }
    pid_t pid = fork ();
    if (pid < 0) {
        snprintf (err, cap, "fork: %s", strerror (errno));
        close (ends[0]);
        close (ends[1]);
        return -1;
    }
    close (ends[pid == 0 ? 0 : 1]);
    *fd = ends[pid == 0 ? 1 : 0];
    return pid;
}

//  In the parent: reads what the child sent, then closes the pipe. Returns
//  true when exactly size bytes came.
static bool
s_read_piped (int fd, void *buf, size_t size)
{
    ssize_t got;
    do
        got = read (fd, buf, size);
    while (got < 0 && errno == EINTR);
    close (fd);
    return got == (ssize_t) size;
}

pid_t
worm_spawn (const worm_spawn_spec_t *spec, char *err, size_t cap)
{
    int report;
    pid_t parent = getpid ();
    pid_t pid = s_fork_piped (&report, err, cap);
    if (pid == 0)
        s_child (spec, report, parent);
    if (pid < 0)
        return -1;
    s_report_t failed;
    if (s_read_piped (report, &failed, sizeof failed)) {
        //  The child exited at once; reap it so it does not linger
        waitpid (pid, NULL, 0);
        snprintf (err, cap, "cannot start %s: %s: %s", spec->path,
                  s_step_names[failed.step], strerror (failed.error));
        return -1;
    }
    return pid;
}

int
worm_spawn_private_tmp_probe (char *err, size_t cap)
{
    int pipe_fd;
    pid_t pid = s_fork_piped (&pipe_fd, err, cap);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        //  What failed and its errno, or nothing
        int result[2] = {0, 0};
        if (unshare (CLONE_NEWNS))
            result[0] = 1, result[1] = errno;
        else if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
            result[0] = 2, result[1] = errno;
        else if (mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=1m"))
            result[0] = 3, result[1] = errno;
        if (result[0]) {
            ssize_t unused = write (pipe_fd, result, sizeof result);
            (void) unused;
        }
        _exit (0);
    }
    int result[2];
    bool failed = s_read_piped (pipe_fd, result, sizeof result);
    waitpid (pid, NULL, 0);
    if (failed) {
        static const char *steps[] = {"", "unshare CLONE_NEWNS", "make / a private mount",
                                      "mount a tmpfs on /tmp"};
        snprintf (err, cap, "%s: %s", steps[result[0] & 3], strerror (result[1]));
        return -1;
    }
    return 0;
}

int
worm_user_lookup (const char *name, worm_user_t *user, char *err, size_t cap)
{
    if (!*name || strlen (name) >= sizeof user->name) {
        snprintf (err, cap, "'%.40s' is not a user name of 1 to %zu characters", name,
                  sizeof user->name - 1);
        return -1;
    }
    struct passwd entry, *found = NULL;
    char buf[16384];
    int rc = getpwnam_r (name, &entry, buf, sizeof buf, &found);
    if (!found) {
        if (rc)
            snprintf (err, cap, "cannot look up user '%s': %s", name, strerror (rc));
        else
            snprintf (err, cap, "no user '%s' on this machine", name);
        return -1;
    }
    snprintf (user->name, sizeof user->name, "%s", name);
    user->uid = entry.pw_uid;
    user->gid = entry.pw_gid;
    return 0;
}

//  "drwx------ root:root" for a folder, into buf.
static void
s_describe (const char *path, char *buf, size_t cap)
{
    struct stat st;
    if (stat (path, &st)) {
        snprintf (buf, cap, "%s", strerror (errno));
        return;
    }
    char mode[11] = "d---------";
    const char *bits = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        if (st.st_mode & (0400 >> i))
            mode[i + 1] = bits[i];
    struct passwd *owner = getpwuid (st.st_uid);
    struct group *group = getgrgid (st.st_gid);
    char uid_text[16], gid_text[16];
    snprintf (uid_text, sizeof uid_text, "%u", (unsigned) st.st_uid);
    snprintf (gid_text, sizeof gid_text, "%u", (unsigned) st.st_gid);
    snprintf (buf, cap, "%s %s:%s", mode, owner ? owner->pw_name : uid_text,
              group ? group->gr_name : gid_text);
}

int
worm_user_reach (const worm_user_t *user, const char *path, char *err, size_t cap)
{
    if (path[0] != '/' || strlen (path) >= PATH_MAX) {
        snprintf (err, cap, "'%.60s' is not an absolute path", path);
        return -1;
    }
    int pipe_fd;
    pid_t pid = s_fork_piped (&pipe_fd, err, cap);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        //  As user: the length of the first prefix it cannot enter, or 0
        int result[2] = {0, 0};
        int step = s_become (user);
        if (step)
            result[0] = -step, result[1] = errno;
        char prefix[PATH_MAX];
        size_t len = strlen (path);
        for (size_t end = 1; !step && !result[0] && end <= len; end++)
            if (end == len || path[end] == '/') {
                memcpy (prefix, path, end);
                prefix[end] = 0;
                if (access (prefix, X_OK))
                    result[0] = (int) end, result[1] = errno;
            }
        ssize_t unused = write (pipe_fd, result, sizeof result);
        (void) unused;
        _exit (0);
    }
    int result[2] = {0, 0};
    bool got = s_read_piped (pipe_fd, result, sizeof result);
    waitpid (pid, NULL, 0);
    if (!got) {
        snprintf (err, cap, "cannot check the way to %s as user '%s'", path, user->name);
        return -1;
    }
    if (result[0] < 0) {
        snprintf (err, cap, "cannot become user '%s': %s: %s", user->name,
                  s_step_names[-result[0]], strerror (result[1]));
        return -1;
    }
    if (result[0] > 0) {
        char blocker[PATH_MAX], what[128];
        snprintf (blocker, sizeof blocker, "%.*s", result[0], path);
        s_describe (blocker, what, sizeof what);
        if (result[1] == EACCES)
            snprintf (err, cap,
                      "user '%s' cannot reach %s: it may not enter %s (%s); "
                      "give it search permission, e.g. chmod o+x %s",
                      user->name, path, blocker, what, blocker);
        else
            snprintf (err, cap, "user '%s' cannot reach %s: %s: %s", user->name, path, blocker,
                      strerror (result[1]));
        return -1;
    }
    return 0;
}

int
worm_private_dir (const char *path, const worm_user_t *user)
{
    char tmp[PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s/tmp", path) >= (int) sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    //  Ours until everything inside is made, then handed over: the user
    //  gets it whole, with nothing of it planted beforehand
    if (mkdir (path, 0700) || mkdir (tmp, 0700))
        return -1;
    if (user
        && (fchownat (AT_FDCWD, tmp, user->uid, user->gid, AT_SYMLINK_NOFOLLOW)
            || fchownat (AT_FDCWD, path, user->uid, user->gid, AT_SYMLINK_NOFOLLOW)))
        return -1;
    return 0;
}

//  Folders nested deeper than this are moved up and emptied in a later
//  pass, so removal needs at most this many descriptors however deep a tree.
#define RMTREE_DEPTH 32
#define RMTREE_PASSES 1000

//  Empties the folder open at fd: every entry is removed relative to an
//  open folder, subfolders opened with O_NOFOLLOW, so nothing outside the
//  tree is touched even when its owner renames or links things meanwhile.
//  Subfolders at RMTREE_DEPTH are renamed into top instead. Returns how
//  many entries went (removed or moved).
static unsigned
s_empty (int fd, int top, int depth, unsigned *serial)
{
    int list_fd = dup (fd);
    DIR *dir = list_fd >= 0 ? fdopendir (list_fd) : NULL;
    if (!dir) {
        if (list_fd >= 0)
            close (list_fd);
        return 0;
    }
    rewinddir (dir);    //  the duplicate shares fd's position, left at the end by a former pass
    unsigned gone = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)) != NULL) {
        const char *name = entry->d_name;
        if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
            continue;
        if (unlinkat (fd, name, 0) == 0) {
            gone++;
            continue;
        }
        if (errno != EISDIR)
            continue;
        if (depth >= RMTREE_DEPTH) {
            char moved[32];
            snprintf (moved, sizeof moved, ".rmtree-%u", (*serial)++);
            if (renameat (fd, name, top, moved) == 0)
                gone++;
            continue;
        }
        int sub = openat (fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue;
        fchmod (sub, 0700);     //  its owner may have locked itself out
        gone += s_empty (sub, top, depth + 1, serial);
        close (sub);
        if (unlinkat (fd, name, AT_REMOVEDIR) == 0)
            gone++;
    }
    closedir (dir);
    return gone;
}

int
worm_rmtree (const char *path)
{
    struct stat st;
    if (lstat (path, &st))
        return errno == ENOENT ? 0 : -1;
    if (S_ISDIR (st.st_mode)) {
        int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            fchmod (fd, 0700);
            unsigned serial = 0;
            for (int pass = 0; pass < RMTREE_PASSES && s_empty (fd, fd, 1, &serial); pass++)
                ;
            close (fd);
        }
        rmdir (path);
    }
    else
        unlink (path);
    return lstat (path, &st) == 0 ? -1 : 0;
}

//  Creates one folder with exactly mode (whatever the umask); one that
//  exists already is left as it is.
static int
s_mkdir (const char *path, mode_t mode)
{
    if (mkdir (path, mode))
        return errno == EEXIST ? 0 : -1;
    return chmod (path, mode);
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
            if (s_mkdir (buf, mode))
                return -1;
            *p = '/';
        }
    return s_mkdir (buf, mode);
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
