/*  proctree.c — find and signal a guest's process tree. See proctree.h. */
#include "proctree.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int
worm_proctree_subreaper (void)
{
    return prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

typedef struct {
    char state;                 //  R, S, D, T, Z …
    pid_t ppid;                 //  parent
    pid_t pgrp;                 //  process group
    pid_t session;              //  session
    unsigned long long start;   //  start time, clock ticks after boot
} s_stat_t;

//  Reads /proc/PID/stat. Returns 0, or -1 when there is no such process.
static int
s_stat (pid_t pid, s_stat_t *st)
{
    char path[64], text[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t size = read (fd, text, sizeof text - 1);
    close (fd);
    if (size <= 0)
        return -1;
    text[size] = 0;
    //  The command name may hold spaces and parentheses: skip to the last ')'
    char *end = strrchr (text, ')');
    int ppid, pgrp, session;
    if (!end
        || sscanf (end + 1, " %c %d %d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                            "%*d %*d %llu",
                   &st->state, &ppid, &pgrp, &session, &st->start) != 5)
        return -1;
    st->ppid = (pid_t) ppid;
    st->pgrp = (pid_t) pgrp;
    st->session = (pid_t) session;
    return 0;
}

//  The parent pid from /proc/PID/stat, or -1.
static pid_t
s_parent (pid_t pid)
{
    s_stat_t st;
    return s_stat (pid, &st) ? -1 : st.ppid;
}

//  True when /proc/PID/environ holds the entry marker exactly, or with
//  prefix true an entry that starts with it.
static bool
s_environ_has (pid_t pid, const char *marker, bool prefix)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/environ", (int) pid);
    int fd = open (path, O_RDONLY);
    if (fd < 0)
        return false;
    static char env[65536];
    ssize_t size = read (fd, env, sizeof env - 1);
    close (fd);
    if (size <= 0)
        return false;
    env[size] = 0;
    size_t marker_len = strlen (marker);
    for (ssize_t at = 0; at < size; at += (ssize_t) strlen (env + at) + 1)
        if ((prefix || strlen (env + at) == marker_len)
            && strncmp (env + at, marker, marker_len) == 0)
            return true;
    return false;
}

int
worm_proctree_collect (pid_t root, const char *marker, pid_t *pids, int cap)
{
    //  One pass to learn every process's parent
    static pid_t all[32768], parent[32768];
    int count = 0;
    DIR *proc = opendir ("/proc");
    if (!proc)
        return 0;
    struct dirent *entry;
    while ((entry = readdir (proc)) != NULL && count < 32768) {
        if (!isdigit ((unsigned char) entry->d_name[0]))
            continue;
        pid_t pid = (pid_t) atoi (entry->d_name);
        pid_t ppid = s_parent (pid);
        if (ppid < 0)
            continue;
        all[count] = pid;
        parent[count] = ppid;
        count++;
    }
    closedir (proc);
    int found = 0;
    for (int i = 0; i < count && found < cap; i++) {
        bool in_tree = all[i] == root;
        //  Walk up: is root an ancestor? (bounded, in case of a race)
        pid_t up = parent[i];
        for (int depth = 0; !in_tree && up > 1 && depth < 64; depth++) {
            if (up == root) {
                in_tree = true;
                break;
            }
            pid_t next = -1;
            for (int k = 0; k < count; k++)
                if (all[k] == up) {
                    next = parent[k];
                    break;
                }
            up = next;
        }
        if (!in_tree && marker && marker[0] && all[i] != getpid ())
            in_tree = s_environ_has (all[i], marker, false);
        if (in_tree)
            pids[found++] = all[i];
    }
    return found;
}

int
worm_proctree_signal (pid_t root, const char *marker, int sig)
{
    pid_t pids[WORM_PROCTREE_MAX];
    int count = worm_proctree_collect (root, marker, pids, WORM_PROCTREE_MAX);
    int signalled = 0;
    for (int i = 0; i < count; i++)
        if (kill (pids[i], sig) == 0)
            signalled++;
    kill (-root, sig);
    return signalled;
}

int
worm_proc_started (pid_t pid, unsigned long long *ticks)
{
    s_stat_t st;
    if (s_stat (pid, &st))
        return -1;
    *ticks = st.start;
    return 0;
}

int
worm_proctree_leftovers (pid_t leader, unsigned long long started, const char *prefix,
                         pid_t *pids, int cap)
{
    //  The leader's pid names a later process: its group and session are
    //  that one's, not the guest's
    s_stat_t lead;
    bool reused = leader > 0 && s_stat (leader, &lead) == 0 && lead.start != started;
    int found = 0;
    DIR *proc = opendir ("/proc");
    if (!proc)
        return 0;
    struct dirent *entry;
    while ((entry = readdir (proc)) != NULL && found < cap) {
        if (!isdigit ((unsigned char) entry->d_name[0]))
            continue;
        pid_t pid = (pid_t) atoi (entry->d_name);
        s_stat_t st;
        if (pid == getpid () || s_stat (pid, &st) || st.state == 'Z')
            continue;
        bool left = false;
        if (leader > 0 && !reused && st.start >= started)
            left = pid == leader || st.pgrp == leader || st.session == leader;
        if (!left && prefix && prefix[0])
            left = s_environ_has (pid, prefix, true);
        if (left)
            pids[found++] = pid;
    }
    closedir (proc);
    return found;
}

bool
worm_proc_gone (pid_t pid)
{
    s_stat_t st;
    return s_stat (pid, &st) || st.state == 'Z';
}
