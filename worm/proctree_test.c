/*  proctree_test.c — a real guest-like tree: a root in its own session with
    a child in its group, a child that left for a session of its own, and a
    grandchild that double-forked away (reparented to this test, the
    subreaper) and is found only by its marker. The tree is found exactly,
    signalled, and every member gone by pid; two bystanders (one with a
    marker that merely starts like the tree's) are never touched.

    The members are this program run again ("member ROLE"), so that the
    marker is in their environment as /proc shows it. Each reports its pid
    on a pipe and then waits for the test to end (its lifeline pipe closing),
    so a test that dies leaves nothing running. */
#include "proctree.h"
#include "log.h"
#include "../tests/check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPORT_FD 3       //  members write {role, pid} here
#define LIFELINE_FD 4     //  members wait for its end of file

enum { ROLE_ROOT, ROLE_LEAF, ROLE_SESSION, ROLE_ORPHAN, ROLE_BYSTANDER, ROLES };

typedef struct {
    int role;
    int pid;
} s_record_t;

static char s_self[4096];           //  this program
static pid_t s_pids[16];            //  every member we learnt of, to kill at exit
static int s_npids;

//  ------------------------------------------------------------------------
//  The members' side

static void
s_report (int role)
{
    s_record_t record = {role, (int) getpid ()};
    if (write (REPORT_FD, &record, sizeof record) != sizeof record)
        _exit (2);
}

//  Runs this program as the member role (inheriting fds 3 and 4 and the
//  environment). In the child: never returns.
static void
s_exec_member (const char *role)
{
    char *argv[] = {s_self, "member", (char *) role, NULL};
    execv (s_self, argv);
    _exit (127);
}

static pid_t
s_fork_member (const char *role)
{
    pid_t pid = fork ();
    if (pid == 0)
        s_exec_member (role);
    return pid;
}

//  Waits until the test is gone (the lifeline's end of file), then exits.
static int
s_wait_lifeline (void)
{
    char byte;
    while (read (LIFELINE_FD, &byte, 1) != 0)
        if (errno != EINTR)
            break;
    return 0;
}

static int
s_member (const char *role)
{
    if (strcmp (role, "root") == 0) {
        //  A child in our group, one in a session of its own, and a
        //  grandchild whose parent ends at once
        if (s_fork_member ("leaf") < 0 || s_fork_member ("session") < 0)
            return 2;
        pid_t middle = fork ();
        if (middle == 0) {
            if (fork () == 0)
                s_exec_member ("orphan");
            _exit (0);
        }
        //  Reaped before we report: no zombie of ours is part of the tree
        if (middle < 0 || waitpid (middle, NULL, 0) != middle)
            return 2;
        s_report (ROLE_ROOT);
    }
    else if (strcmp (role, "leaf") == 0)
        s_report (ROLE_LEAF);
    else if (strcmp (role, "session") == 0 || strcmp (role, "orphan") == 0) {
        if (setsid () < 0)
            return 2;
        s_report (strcmp (role, "session") == 0 ? ROLE_SESSION : ROLE_ORPHAN);
    }
    else if (strcmp (role, "bystander") == 0)
        s_report (ROLE_BYSTANDER);
    else
        return 2;
    return s_wait_lifeline ();
}

//  ------------------------------------------------------------------------
//  The test's side

//  Kills every member we know of, by pid, and reaps what is ours.
static void
s_cleanup (void)
{
    for (int i = 0; i < s_npids; i++)
        kill (s_pids[i], SIGKILL);
    for (int i = 0; i < s_npids; i++)
        waitpid (s_pids[i], NULL, 0);
}

//  Starts a member as our child with fds 3 and 4 set and the environment
//  entry mark (NULL for none) added; the root in a session of its own.
static pid_t
s_start (const char *role, const char *mark, int report, int lifeline)
{
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        if (dup2 (report, REPORT_FD) < 0 || dup2 (lifeline, LIFELINE_FD) < 0)
            _exit (127);
        if (strcmp (role, "root") == 0 && setsid () < 0)
            _exit (127);
        if (mark)
            putenv ((char *) mark);
        s_exec_member (role);
    }
    s_pids[s_npids++] = pid;
    return pid;
}

//  Reads member reports until every role in want has come (5 s at most);
//  pids[role] gets each.
static void
s_read_reports (int report, pid_t *pids, int want)
{
    int64_t deadline = worm_now_ms () + 5000;
    for (int got = 0; got < want;) {
        int64_t left = deadline - worm_now_ms ();
        CHECK (left > 0);
        struct pollfd pfd = {.fd = report, .events = POLLIN};
        if (poll (&pfd, 1, (int) left) <= 0)
            continue;
        s_record_t record;
        CHECK_EQ (read (report, &record, sizeof record), (ssize_t) sizeof record);
        CHECK (record.role >= 0 && record.role < ROLES);
        CHECK_EQ (pids[record.role], 0);
        pids[record.role] = record.pid;
        if (record.role != ROLE_ROOT && record.role != ROLE_BYSTANDER)
            s_pids[s_npids++] = record.pid;
        got++;
    }
}

//  The parent of pid from /proc/PID/stat, or -1.
static pid_t
s_parent_of (pid_t pid)
{
    char path[64], text[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    size_t size = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text[size] = 0;
    char *end = strrchr (text, ')');
    int ppid = -1;
    if (!end || sscanf (end + 1, " %*c %d", &ppid) != 1)
        return -1;
    return (pid_t) ppid;
}

static bool
s_has (const pid_t *pids, int count, pid_t pid)
{
    for (int i = 0; i < count; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

//  Waits (5 s at most) until every pid of the tree is gone (dead or a
//  zombie).
static void
s_wait_gone (const pid_t *tree, int count)
{
    int64_t deadline = worm_now_ms () + 5000;
    for (int i = 0; i < count; i++) {
        while (!worm_proc_gone (tree[i]) && worm_now_ms () < deadline)
            usleep (5 * 1000);
        CHECK (worm_proc_gone (tree[i]));
    }
}

//  Reaps pid (5 s at most): it is our child, or becomes one once its
//  parent in the tree is gone (we are the subreaper).
static void
s_reap (pid_t pid)
{
    int64_t deadline = worm_now_ms () + 5000;
    pid_t got;
    while ((got = waitpid (pid, NULL, WNOHANG)) != pid && worm_now_ms () < deadline)
        usleep (5 * 1000);
    CHECK_EQ (got, pid);
}

int
main (int argc, char **argv)
{
    if (argc == 3 && strcmp (argv[1], "member") == 0) {
        CHECK (readlink ("/proc/self/exe", s_self, sizeof s_self - 1) > 0);
        return s_member (argv[2]);
    }
    CHECK (readlink ("/proc/self/exe", s_self, sizeof s_self - 1) > 0);
    atexit (s_cleanup);

    //  We are the subreaper: orphans of the tree come back to us
    CHECK_EQ (worm_proctree_subreaper (), 0);
    int flag = 0;
    CHECK_EQ (prctl (PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0), 0);
    CHECK_EQ (flag, 1);

    int report[2], lifeline[2];
    CHECK_EQ (pipe2 (report, O_CLOEXEC), 0);
    CHECK_EQ (pipe2 (lifeline, O_CLOEXEC), 0);
    static char mark[128], near_mark[128], prefix[128];
    snprintf (prefix, sizeof prefix, "WORM_GUEST_MARK=proctree-test-%d/", (int) getpid ());
    snprintf (mark, sizeof mark, "%sg1", prefix);
    snprintf (near_mark, sizeof near_mark, "%sg10", prefix);

    //  Two bystanders: one with a marker the tree's is a prefix of, one without
    pid_t pids[ROLES] = {0};
    pid_t near = s_start ("bystander", near_mark, report[1], lifeline[0]);
    s_read_reports (report[0], pids, 1);
    CHECK_EQ (pids[ROLE_BYSTANDER], near);
    pids[ROLE_BYSTANDER] = 0;
    pid_t plain = s_start ("bystander", NULL, report[1], lifeline[0]);
    s_read_reports (report[0], pids, 1);
    CHECK_EQ (pids[ROLE_BYSTANDER], plain);

    //  The tree
    pid_t root = s_start ("root", mark, report[1], lifeline[0]);
    s_read_reports (report[0], pids, 4);
    CHECK_EQ (pids[ROLE_ROOT], root);
    pid_t tree[] = {root, pids[ROLE_LEAF], pids[ROLE_SESSION], pids[ROLE_ORPHAN]};
    //  The orphan's parent ended: it is ours now, outside root's descent
    CHECK_EQ (s_parent_of (pids[ROLE_ORPHAN]), getpid ());
    CHECK_EQ (s_parent_of (pids[ROLE_SESSION]), root);
    unsigned long long root_started;
    CHECK_EQ (worm_proc_started (root, &root_started), 0);
    CHECK (!worm_proc_gone (root));

    //  Found: exactly the four, by descent and by marker
    pid_t found[WORM_PROCTREE_MAX];
    int count = worm_proctree_collect (root, mark, found, WORM_PROCTREE_MAX);
    CHECK_EQ (count, 4);
    for (int i = 0; i < 4; i++)
        CHECK (s_has (found, count, tree[i]));
    CHECK (!s_has (found, count, getpid ()));
    //  Without the marker the orphan is lost; with a cap, no more than it
    count = worm_proctree_collect (root, NULL, found, WORM_PROCTREE_MAX);
    CHECK_EQ (count, 3);
    CHECK (!s_has (found, count, pids[ROLE_ORPHAN]));
    CHECK_EQ (worm_proctree_collect (root, mark, found, 2), 2);
    //  The marker alone, with no root
    count = worm_proctree_collect (0, mark, found, WORM_PROCTREE_MAX);
    CHECK_EQ (count, 4);

    //  Leftovers of a gone agent: root's group and session (not the member
    //  that left both, nor the orphan) ...
    count = worm_proctree_leftovers (root, root_started, NULL, found, WORM_PROCTREE_MAX);
    CHECK_EQ (count, 2);
    CHECK (s_has (found, count, root));
    CHECK (s_has (found, count, pids[ROLE_LEAF]));
    //  ... plus every process with an entry starting with the prefix ...
    count = worm_proctree_leftovers (root, root_started, prefix, found, WORM_PROCTREE_MAX);
    CHECK_EQ (count, 5);
    CHECK (s_has (found, count, pids[ROLE_SESSION]));
    CHECK (s_has (found, count, pids[ROLE_ORPHAN]));
    CHECK (s_has (found, count, near));
    CHECK (!s_has (found, count, plain));
    //  ... but when root's pid names another start, not its group
    count = worm_proctree_leftovers (root, root_started - 1, NULL, found, WORM_PROCTREE_MAX);
    CHECK_EQ (count, 0);
    count = worm_proctree_leftovers (0, 0, NULL, found, WORM_PROCTREE_MAX);
    CHECK_EQ (count, 0);

    //  Signal 0 reaches all four and harms none
    CHECK_EQ (worm_proctree_signal (root, mark, 0), 4);
    for (int i = 0; i < 4; i++)
        CHECK (!worm_proc_gone (tree[i]));

    //  SIGKILL: all four gone, the bystanders untouched
    CHECK_EQ (worm_proctree_signal (root, mark, SIGKILL), 4);
    s_wait_gone (tree, 4);
    CHECK (!worm_proc_gone (near));
    CHECK (!worm_proc_gone (plain));
    //  Zombies are no leftovers; the live bystander with the prefix is
    count = worm_proctree_leftovers (0, 0, prefix, found, WORM_PROCTREE_MAX);
    CHECK_EQ (count, 1);
    CHECK_EQ (found[0], near);
    for (int i = 0; i < 4; i++)
        s_reap (tree[i]);
    CHECK_EQ (worm_proctree_collect (root, mark, found, WORM_PROCTREE_MAX), 0);
    unsigned long long ticks;
    CHECK_EQ (worm_proc_started (root, &ticks), -1);
    CHECK (worm_proc_gone (root));
    CHECK_EQ (worm_proctree_signal (root, mark, SIGKILL), 0);
    CHECK (!worm_proc_gone (near));
    CHECK (!worm_proc_gone (plain));

    //  The bystanders end when the lifeline closes, by themselves
    close (lifeline[1]);
    s_reap (near);
    s_reap (plain);
    s_npids = 0;
    return check_done ("worm.proctree");
}
