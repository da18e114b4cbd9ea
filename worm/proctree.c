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

//  The parent pid from /proc/PID/stat, or -1.
static pid_t
s_parent (pid_t pid)
{
    char path[64], text[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    int fd = open (path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t size = read (fd, text, sizeof text - 1);
    close (fd);
    if (size <= 0)
        return -1;
    text[size] = 0;
    //  The command name may hold spaces and parentheses: skip to the last ')'
    char *end = strrchr (text, ')');
    int ppid = -1;
    if (!end || sscanf (end + 1, " %*c %d", &ppid) != 1)
        return -1;
    return (pid_t) ppid;
}

//  True when /proc/PID/environ holds the entry marker exactly.
static bool
s_has_marker (pid_t pid, const char *marker)
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
        if (strlen (env + at) == marker_len && memcmp (env + at, marker, marker_len) == 0)
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
            in_tree = s_has_marker (all[i], marker);
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
