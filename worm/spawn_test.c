/*  spawn_test.c — the one process-spawn path, checked from the child's side:
    the child is this program run again ("child"), which writes what it sees
    (session, folder, environment, umask, nice, scheduler, limits, user,
    stdin, open descriptors, prctl flags) as "key=value" lines to its stdout,
    the log. Failures (no program, a folder it cannot enter, a log it may
    not open, too much stdin) are refused with the step and the reason, in
    err and in the log. Also the folder helpers: private folders, mkdirs
    and an rmtree that follows no link. Everything happens in a fresh
    folder, removed at the end, and every child is killed by pid on the way
    out, also when a check fails. */
#include "proctree.h"
#include "spawn.h"
#include "log.h"
#include "../tests/check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char s_dir[] = "/tmp/worm-spawn-test-XXXXXX";
static char s_self[PATH_MAX];
static pid_t s_children[16];        //  every child started, to kill at exit
static int s_nchildren;

//  ------------------------------------------------------------------------
//  The child's side

static void
s_limit_line (const char *name, int resource)
{
    struct rlimit limit;
    getrlimit (resource, &limit);
    printf ("%s=%llu/%llu\n", name, (unsigned long long) limit.rlim_cur,
            (unsigned long long) limit.rlim_max);
}

//  Reports what it sees; with "linger", then waits to be signalled.
static int
s_child (bool linger)
{
    printf ("pid=%d\nsid=%d\npgid=%d\n", (int) getpid (), (int) getsid (0), (int) getpgid (0));
    char cwd[PATH_MAX];
    printf ("cwd=%s\n", getcwd (cwd, sizeof cwd) ? cwd : "?");
    mode_t mask = umask (0);
    printf ("umask=%03o\n", (unsigned) mask);
    errno = 0;
    printf ("nice=%d\n", getpriority (PRIO_PROCESS, 0));
    printf ("idle=%d\n", sched_getscheduler (0) == SCHED_IDLE);
    s_limit_line ("nofile", RLIMIT_NOFILE);
    s_limit_line ("nproc", RLIMIT_NPROC);
    printf ("uid=%u\ngid=%u\n", (unsigned) getuid (), (unsigned) getgid ());
    gid_t groups[64];
    int ngroups = getgroups (64, groups);
    printf ("groups=");
    for (int i = 0; i < ngroups; i++)
        printf ("%s%u", i ? "," : "", (unsigned) groups[i]);
    printf ("\nnnp=%d\n", prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    int death = -1;
    prctl (PR_GET_PDEATHSIG, &death, 0, 0, 0);
    printf ("pdeathsig=%d\n", death);
    char input[8192];
    size_t got = fread (input, 1, sizeof input - 1, stdin);
    input[got] = 0;
    printf ("stdin=%s\n", input);
    //  Descriptors beyond 0-2 (the listing's own left out)
    int extra = 0;
    DIR *fds = opendir ("/proc/self/fd");
    for (struct dirent *entry; fds && (entry = readdir (fds));)
        if (entry->d_name[0] != '.' && atoi (entry->d_name) > 2
            && atoi (entry->d_name) != dirfd (fds))
            extra++;
    if (fds)
        closedir (fds);
    printf ("extra_fds=%d\n", extra);
    for (char **entry = environ; *entry; entry++)
        printf ("env=%s\n", *entry);
    printf ("end\n");
    fflush (stdout);
    fprintf (stderr, "a line on stderr\n");
    fflush (stderr);
    while (linger)
        pause ();
    return 0;
}

//  ------------------------------------------------------------------------
//  The test's side

static void
s_cleanup (void)
{
    for (int i = 0; i < s_nchildren; i++)
        if (s_children[i] > 0) {
            kill (s_children[i], SIGKILL);
            waitpid (s_children[i], NULL, 0);
        }
    chmod (s_dir, 0700);
    worm_rmtree (s_dir);
}

//  DIR/name into a static buffer (four in turn).
static const char *
s_path (const char *name)
{
    static char paths[4][PATH_MAX];
    static int turn;
    turn = (turn + 1) % 4;
    snprintf (paths[turn], sizeof paths[turn], "%s/%s", s_dir, name);
    return paths[turn];
}

//  Waits (10 s at most) for child pid to end; returns its wait status.
static int
s_wait_exit (pid_t pid)
{
    int64_t deadline = worm_now_ms () + 10000;
    int status = 0;
    pid_t got;
    while ((got = waitpid (pid, &status, WNOHANG)) == 0 && worm_now_ms () < deadline)
        usleep (5 * 1000);
    CHECK_EQ (got, pid);
    for (int i = 0; i < s_nchildren; i++)
        if (s_children[i] == pid)
            s_children[i] = 0;
    return status;
}

static pid_t
s_started (pid_t pid)
{
    CHECK (pid > 0);
    s_children[s_nchildren++] = pid;
    return pid;
}

//  The whole file into a static buffer ("" when there is none).
static const char *
s_read (const char *path)
{
    static char text[65536];
    text[0] = 0;
    FILE *file = fopen (path, "r");
    if (!file)
        return text;
    size_t size = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text[size] = 0;
    return text;
}

//  The value of the line "key=..." in report text, into a static buffer
//  (NULL: no such line).
static const char *
s_value (const char *text, const char *key)
{
    static char value[4096];
    size_t key_len = strlen (key);
    for (const char *line = text; *line;) {
        size_t len = strcspn (line, "\n");
        if (len > key_len && strncmp (line, key, key_len) == 0 && line[key_len] == '=') {
            snprintf (value, sizeof value, "%.*s", (int) (len - key_len - 1), line + key_len + 1);
            return value;
        }
        line += len + (line[len] == '\n');
    }
    return NULL;
}

//  How many lines of text start with prefix.
static int
s_lines (const char *text, const char *prefix)
{
    int count = 0;
    for (const char *line = text; *line;) {
        size_t len = strcspn (line, "\n");
        if (strncmp (line, prefix, strlen (prefix)) == 0)
            count++;
        line += len + (line[len] == '\n');
    }
    return count;
}

static mode_t
s_mode (const char *path)
{
    struct stat st;
    CHECK_EQ (lstat (path, &st), 0);
    return st.st_mode & 07777;
}

//  What the thread below starts, and what it got. The thread ends once the
//  child has reported.
typedef struct {
    worm_spawn_spec_t spec;     //  a child that lingers, with a death signal
    pid_t pid;                  //  its pid, or -1
    char err[512];              //  why not
} s_thread_start_t;

static void *
s_thread (void *arg)
{
    s_thread_start_t *start = (s_thread_start_t *) arg;
    start->pid = worm_spawn (&start->spec, start->err, sizeof start->err);
    //  Ends once the child has said what it sees (5 s at most)
    int64_t deadline = worm_now_ms () + 5000;
    while (start->pid > 0 && !strstr (s_read (start->spec.log_path), "\nend\n")
           && worm_now_ms () < deadline)
        usleep (5 * 1000);
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc == 3 && strcmp (argv[1], "child") == 0)
        return s_child (strcmp (argv[2], "linger") == 0);
    CHECK (readlink ("/proc/self/exe", s_self, sizeof s_self - 1) > 0);
    CHECK (mkdtemp (s_dir) != NULL);
    atexit (s_cleanup);
    char err[1024];
    char *report_argv[] = {s_self, "child", "report", NULL};
    char *env[] = {"A=1", "WORM_X=hello world", NULL};

    //  ---------------------------------------------------------------------
    //  Everything set: the child sees each setting
    const char *workdir = s_path ("work");
    CHECK_EQ (mkdir (workdir, 0700), 0);
    char log[PATH_MAX];
    snprintf (log, sizeof log, "%s", s_path ("child.log"));
    FILE *earlier = fopen (log, "w");
    CHECK (earlier != NULL);
    fputs ("an earlier line\n", earlier);
    fclose (earlier);
    //  A descriptor of ours without close-on-exec, which the child must not get
    int leaky = open ("/dev/null", O_RDONLY);
    CHECK (leaky > 2);
    errno = 0;
    int our_nice = getpriority (PRIO_PROCESS, 0);
    CHECK_EQ (errno, 0);
    worm_spawn_spec_t spec = {
        .path = s_self,
        .argv = report_argv,
        .envp = env,
        .workdir = workdir,
        .log_path = log,
        .nice = 5,
        .sched_idle = true,
        .umask = 027,
        .max_files = 64,
        .max_procs = 500,
        .no_new_privs = true,
        .stdin_text = "secret words",
    };
    pid_t pid = s_started (worm_spawn (&spec, err, sizeof err));
    int status = s_wait_exit (pid);
    CHECK (WIFEXITED (status));
    CHECK_EQ (WEXITSTATUS (status), 0);
    close (leaky);
    const char *text = s_read (log);
    CHECK (strncmp (text, "an earlier line\n", 16) == 0);     //  appended
    CHECK_HAS (text, "\nend\n");
    CHECK_HAS (text, "\na line on stderr\n");                 //  stderr too
    CHECK_EQ (atoi (s_value (text, "pid")), pid);
    CHECK_EQ (atoi (s_value (text, "sid")), pid);             //  its own session
    CHECK_EQ (atoi (s_value (text, "pgid")), pid);            //  and group
    CHECK_STR (s_value (text, "cwd"), workdir);
    CHECK_STR (s_value (text, "umask"), "027");
    CHECK_EQ (atoi (s_value (text, "nice")), our_nice + 5 > 19 ? 19 : our_nice + 5);
    CHECK_STR (s_value (text, "idle"), "1");
    CHECK_STR (s_value (text, "nofile"), "64/64");
    CHECK_STR (s_value (text, "nproc"), "500/500");
    CHECK_STR (s_value (text, "nnp"), "1");
    CHECK_STR (s_value (text, "pdeathsig"), "0");
    CHECK_STR (s_value (text, "stdin"), "secret words");
    CHECK_STR (s_value (text, "extra_fds"), "0");
    //  Exactly the environment given
    CHECK_EQ (s_lines (text, "env="), 2);
    CHECK_HAS (text, "\nenv=A=1\n");
    CHECK_HAS (text, "\nenv=WORM_X=hello world\n");

    //  RLIMIT_DATA, seen by a shell (an AddressSanitizer child could not
    //  start under one)
    char *shell_argv[] = {"sh", "-c", "ulimit -S -d; ulimit -H -d", NULL};
    worm_spawn_spec_t shell = {
        .path = "/bin/sh",
        .argv = shell_argv,
        .envp = env,
        .log_path = s_path ("shell.log"),
        .mem_bytes = 256UL << 20,
    };
    pid = s_started (worm_spawn (&shell, err, sizeof err));
    status = s_wait_exit (pid);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    CHECK_STR (s_read (s_path ("shell.log")), "262144\n262144\n");
    CHECK_EQ (s_mode (s_path ("shell.log")), 0600);          //  a new log is private

    //  ---------------------------------------------------------------------
    //  Nothing set: our folder and limits, stdin empty, no log (the child
    //  then writes to /dev/null, so it reports through a shell's redirection)
    char here[PATH_MAX];
    CHECK (getcwd (here, sizeof here) != NULL);
    char script[PATH_MAX * 2];
    snprintf (script, sizeof script, "exec \"$0\" child report > %s", s_path ("plain.report"));
    char *plain_argv[] = {"sh", "-c", script, s_self, NULL};
    worm_spawn_spec_t plain = {.path = "/bin/sh", .argv = plain_argv, .envp = env};
    pid = s_started (worm_spawn (&plain, err, sizeof err));
    status = s_wait_exit (pid);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    text = s_read (s_path ("plain.report"));
    CHECK_HAS (text, "\nend\n");
    CHECK (!strstr (text, "a line on stderr"));               //  stderr went to /dev/null
    CHECK_STR (s_value (text, "cwd"), here);
    CHECK_STR (s_value (text, "sid"), s_value (text, "pid")); //  exec keeps the session
    CHECK_EQ (atoi (s_value (text, "sid")), pid);
    CHECK_STR (s_value (text, "umask"), "000");
    CHECK_EQ (atoi (s_value (text, "nice")), our_nice);
    CHECK_STR (s_value (text, "idle"), "0");
    CHECK_STR (s_value (text, "nnp"), "0");
    CHECK_STR (s_value (text, "stdin"), "");
    struct rlimit files;
    CHECK_EQ (getrlimit (RLIMIT_NOFILE, &files), 0);
    char want[1024];
    snprintf (want, sizeof want, "%llu/%llu", (unsigned long long) files.rlim_cur,
              (unsigned long long) files.rlim_max);
    CHECK_STR (s_value (text, "nofile"), want);
    snprintf (want, sizeof want, "%u", (unsigned) getuid ());
    CHECK_STR (s_value (text, "uid"), want);

    //  ---------------------------------------------------------------------
    //  The parent death signal: the child ends when the thread that started it does
    s_thread_start_t start = {
        .spec = {.path = s_self,
                 .argv = (char *[]) {s_self, "child", "linger", NULL},
                 .envp = env,
                 .log_path = s_path ("linger.log"),
                 .parent_death_signal = SIGTERM},
    };
    pthread_t thread;
    CHECK_EQ (pthread_create (&thread, NULL, s_thread, &start), 0);
    CHECK_EQ (pthread_join (thread, NULL), 0);
    CHECK (start.pid > 0);
    s_started (start.pid);
    status = s_wait_exit (start.pid);
    CHECK (WIFSIGNALED (status));
    CHECK_EQ (WTERMSIG (status), SIGTERM);
    text = s_read (s_path ("linger.log"));
    CHECK_STR (s_value (text, "pdeathsig"), "15");

    //  ---------------------------------------------------------------------
    //  Refusals: the step and the reason, in err and in the log; the child
    //  is reaped
    char not_executable[PATH_MAX];
    snprintf (not_executable, sizeof not_executable, "%s", s_path ("not-executable"));
    CHECK_EQ (close (open (not_executable, O_CREAT | O_WRONLY, 0644)), 0);
    struct {
        const char *path;           //  program
        const char *workdir;        //  folder, or NULL
        const char *log;            //  log, or NULL
        const char *want;           //  in err, after "cannot start PATH: "
        bool logged;                //  also in the log
    } refusals[] = {
        {"/nonexistent/program", NULL, "refused.log", "execve: No such file or directory", true},
        {s_self, "/nonexistent/folder", "refused.log", "chdir: No such file or directory", true},
        {not_executable, NULL, "refused.log", "execve: Permission denied", true},
        {s_self, NULL, "no/such/folder/x.log", "open the log: No such file or directory",
         false},
        {s_self, NULL, "link.log", "open the log: Too many levels of symbolic links",
         false},
    };
    CHECK_EQ (symlink (log, s_path ("link.log")), 0);
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        char refused_log[PATH_MAX];
        snprintf (refused_log, sizeof refused_log, "%s", s_path (refusals[i].log));
        unlink (s_path ("refused.log"));
        worm_spawn_spec_t bad = {
            .path = refusals[i].path,
            .argv = report_argv,
            .envp = env,
            .workdir = refusals[i].workdir,
            .log_path = refused_log,
        };
        snprintf (err, sizeof err, "untouched");
        CHECK_EQ (worm_spawn (&bad, err, sizeof err), -1);
        snprintf (want, sizeof want, "cannot start %s: %s", refusals[i].path, refusals[i].want);
        CHECK_STR (err, want);
        if (refusals[i].logged) {
            char line[256];
            snprintf (line, sizeof line, "%s\n", want);
            CHECK_STR (s_read (refused_log), line);
        }
        //  Reaped: we have no child left
        CHECK_EQ (waitpid (-1, NULL, WNOHANG), -1);
        CHECK_EQ (errno, ECHILD);
    }
    //  The log the link points at was not written through it
    CHECK (!strstr (s_read (log), "cannot start"));
    //  More stdin than a pipe holds without a reader
    static char too_much[PIPE_BUF + 2];
    memset (too_much, 'x', PIPE_BUF + 1);
    worm_spawn_spec_t greedy = {.path = s_self, .argv = report_argv, .envp = env,
                                .stdin_text = too_much};
    CHECK_EQ (worm_spawn (&greedy, err, sizeof err), -1);
    snprintf (want, sizeof want, "cannot start %s: fill the stdin pipe: Argument list too long",
              s_self);
    CHECK_STR (err, want);
    CHECK_EQ (waitpid (-1, NULL, WNOHANG), -1);

    //  ---------------------------------------------------------------------
    //  Users
    worm_user_t user;
    CHECK_EQ (worm_user_lookup ("no-such-user-here", &user, err, sizeof err), -1);
    CHECK_STR (err, "no user 'no-such-user-here' on this machine");
    CHECK_EQ (worm_user_lookup ("", &user, err, sizeof err), -1);
    CHECK_STR (err, "'' is not a user name of 1 to 32 characters");
    CHECK_EQ (worm_user_lookup ("a-name-that-is-far-too-long-for-a-login", &user, err,
                                sizeof err), -1);
    CHECK_HAS (err, "is not a user name of 1 to 32 characters");
    CHECK_EQ (worm_user_lookup ("root", &user, err, sizeof err), 0);
    CHECK_EQ (user.uid, 0);
    CHECK_STR (user.name, "root");
    CHECK_EQ (worm_user_reach (&user, "relative/path", err, sizeof err), -1);
    CHECK_STR (err, "'relative/path' is not an absolute path");

    //  As another user, when we are root and the guests' user exists
    if (getuid () == 0 && worm_user_lookup ("worm", &user, err, sizeof err) == 0
        && user.uid != 0) {
        //  Our folder lets it pass (not read); its private folder is its own
        CHECK_EQ (chmod (s_dir, 0711), 0);
        char private[PATH_MAX];
        snprintf (private, sizeof private, "%s", s_path ("private"));
        CHECK_EQ (worm_private_dir (private, &user), 0);
        CHECK_EQ (worm_user_reach (&user, s_path ("private/tmp"), err, sizeof err), 0);
        CHECK_EQ (worm_user_reach (&user, s_path ("work"), err, sizeof err), -1);
        snprintf (want, sizeof want,
                  "user 'worm' cannot reach %s: it may not enter %s (drwx------ root:root); "
                  "give it search permission, e.g. chmod o+x %s",
                  s_path ("work"), s_path ("work"), s_path ("work"));
        CHECK_STR (err, want);
        CHECK_EQ (worm_user_reach (&user, "/nonexistent/x", err, sizeof err), -1);
        CHECK_STR (err, "user 'worm' cannot reach /nonexistent/x: /nonexistent: "
                        "No such file or directory");

        char user_log[PATH_MAX];
        snprintf (user_log, sizeof user_log, "%s", s_path ("user.log"));
        worm_spawn_spec_t as_user = {
            .path = s_self,
            .argv = report_argv,
            .envp = env,
            .workdir = private,
            .log_path = user_log,
            .user = &user,
            .max_procs = 4096,
        };
        pid = s_started (worm_spawn (&as_user, err, sizeof err));
        status = s_wait_exit (pid);
        CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
        text = s_read (user_log);
        CHECK_HAS (text, "\nend\n");
        snprintf (want, sizeof want, "%u", (unsigned) user.uid);
        CHECK_STR (s_value (text, "uid"), want);
        snprintf (want, sizeof want, "%u", (unsigned) user.gid);
        CHECK_STR (s_value (text, "gid"), want);
        CHECK_STR (s_value (text, "groups"), want);         //  its primary group only
        CHECK_STR (s_value (text, "cwd"), private);
        CHECK_STR (s_value (text, "nproc"), "4096/4096");
        //  The log is ours, opened before the change
        struct stat st;
        CHECK_EQ (stat (user_log, &st), 0);
        CHECK_EQ (st.st_uid, 0);

        //  A folder it cannot enter is refused at chdir, after the change
        unlink (user_log);
        as_user.workdir = s_path ("work");
        CHECK_EQ (worm_spawn (&as_user, err, sizeof err), -1);
        snprintf (want, sizeof want, "cannot start %s: chdir: Permission denied", s_self);
        CHECK_STR (err, want);
        CHECK_HAS (s_read (user_log), want);
        CHECK_EQ (chmod (s_dir, 0700), 0);
    }

    //  ---------------------------------------------------------------------
    //  Folders
    mode_t old_umask = umask (077);
    CHECK_EQ (worm_mkdirs (s_path ("a/b/c"), 0750), 0);
    umask (old_umask);
    CHECK_EQ (s_mode (s_path ("a")), 0750);
    CHECK_EQ (s_mode (s_path ("a/b/c")), 0750);
    CHECK_EQ (chmod (s_path ("a"), 0755), 0);
    CHECK_EQ (worm_mkdirs (s_path ("a/b/c"), 0700), 0);      //  existing ones left alone
    CHECK_EQ (s_mode (s_path ("a")), 0755);
    CHECK_EQ (close (open (s_path ("a/file"), O_CREAT | O_WRONLY, 0600)), 0);
    CHECK_EQ (worm_mkdirs (s_path ("a/file/d"), 0700), -1);

    CHECK_EQ (worm_private_dir (s_path ("mine"), NULL), 0);
    CHECK_EQ (s_mode (s_path ("mine")), 0700);
    CHECK_EQ (s_mode (s_path ("mine/tmp")), 0700);
    CHECK_EQ (worm_private_dir (s_path ("mine"), NULL), -1);
    CHECK_EQ (errno, EEXIST);

    //  rmtree: a deep tree, a locked folder, and links out that it must not follow
    const char *outside = s_path ("outside");
    CHECK_EQ (mkdir (outside, 0700), 0);
    CHECK_EQ (close (open (s_path ("outside/keep"), O_CREAT | O_WRONLY, 0600)), 0);
    char deep[PATH_MAX];
    snprintf (deep, sizeof deep, "%s", s_path ("tree"));
    CHECK_EQ (mkdir (deep, 0700), 0);
    for (int level = 0; level < 40; level++) {
        strcat (deep, "/d");
        CHECK_EQ (mkdir (deep, 0700), 0);
    }
    CHECK_EQ (symlink (outside, s_path ("tree/d/out")), 0);
    CHECK_EQ (symlink (s_path ("outside/keep"), s_path ("tree/d/d/keep")), 0);
    CHECK_EQ (mkdir (s_path ("tree/locked"), 0700), 0);
    CHECK_EQ (close (open (s_path ("tree/locked/f"), O_CREAT | O_WRONLY, 0600)), 0);
    CHECK_EQ (chmod (s_path ("tree/locked"), 0), 0);
    CHECK_EQ (worm_rmtree (s_path ("tree")), 0);
    CHECK (access (s_path ("tree"), F_OK) != 0);
    CHECK_EQ (access (s_path ("outside/keep"), F_OK), 0);
    CHECK_EQ (worm_rmtree (s_path ("tree")), 0);             //  nothing there is fine
    CHECK_EQ (worm_rmtree (s_path ("a/file")), 0);           //  a file too
    CHECK (access (s_path ("a/file"), F_OK) != 0);

    //  A keeper: the program's orphan, in a session of its own and without
    //  our environment, is SIGKILLed when the program ends; the keeper
    //  exits with its status, or dies by its signal; a signal to the group
    //  reaches the program, not the keeper
    {
        char script[PATH_MAX + 200];
        snprintf (script, sizeof script,
                  "(setsid env -i /bin/sh -c 'echo $$ >%s; exec sleep 100' </dev/null >/dev/null "
                  "2>&1 &); while [ ! -s %s ]; do sleep 0.01; done; exit 3",
                  s_path ("orphan"), s_path ("orphan"));
        char *sh_argv[] = {"sh", "-c", script, NULL};
        char *sh_env[] = {"PATH=/usr/bin:/bin", NULL};
        worm_spawn_spec_t keep = {.path = "/bin/sh", .argv = sh_argv, .envp = sh_env,
                                  .umask = 077, .keeper = true, .parent_death_signal = SIGKILL};
        pid_t keeper = s_started (worm_spawn (&keep, err, sizeof err));
        int status = s_wait_exit (keeper);
        CHECK (WIFEXITED (status));
        CHECK_EQ (WEXITSTATUS (status), 3);
        pid_t orphan = (pid_t) atoi (s_read (s_path ("orphan")));
        CHECK (orphan > 0);
        int64_t deadline = worm_now_ms () + 3000;
        while (!worm_proc_gone (orphan) && worm_now_ms () < deadline)
            usleep (5 * 1000);
        CHECK (worm_proc_gone (orphan));
        if (!worm_proc_gone (orphan))
            kill (orphan, SIGKILL);

        //  SIGTERM to the group: the program dies of it, the keeper with it
        char *wait_argv[] = {"sh", "-c", "echo $$ >ready; exec sleep 100", NULL};
        keep.argv = wait_argv;
        keep.workdir = s_dir;
        keeper = s_started (worm_spawn (&keep, err, sizeof err));
        deadline = worm_now_ms () + 3000;
        while (!s_read (s_path ("ready"))[0] && worm_now_ms () < deadline)
            usleep (5 * 1000);
        CHECK (s_read (s_path ("ready"))[0]);
        CHECK (atoi (s_read (s_path ("ready"))) != keeper);   //  the program is its child
        CHECK_EQ (kill (-keeper, SIGTERM), 0);
        status = s_wait_exit (keeper);
        CHECK (WIFSIGNALED (status));
        CHECK_EQ (WTERMSIG (status), SIGTERM);
    }

    char exe_dir[PATH_MAX], self_copy[PATH_MAX];
    CHECK_EQ (worm_exe_dir (exe_dir, sizeof exe_dir), 0);
    snprintf (self_copy, sizeof self_copy, "%s", s_self);
    CHECK_STR (exe_dir, dirname (self_copy));

    for (int i = 0; i < s_nchildren; i++)
        CHECK_EQ (s_children[i], 0);
    CHECK_EQ (worm_rmtree (s_dir), 0);
    CHECK (access (s_dir, F_OK) != 0);
    return check_done ("worm.spawn");
}
