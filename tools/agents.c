/*  agents.c — the local cluster's agent processes, seen through /proc
    (see agents.h).
*/
#include "agents.h"
#include "log.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

//  Whether pid has exited and waits to be reaped (it serves nothing).
static bool
s_zombie (pid_t pid)
{
    char path[64], stat_line[512] = "";
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return true;
    size_t size = fread (stat_line, 1, sizeof stat_line - 1, file);
    fclose (file);
    stat_line[size] = 0;
    //  "PID (COMM) STATE ...": COMM may hold spaces and parentheses
    const char *close = strrchr (stat_line, ')');
    return !close || close[1] != ' ' || close[2] == 'Z' || close[2] == 'X';
}

static bool
s_alive (pid_t pid)
{
    return pid > 0 && (kill (pid, 0) == 0 || errno == EPERM) && !s_zombie (pid);
}

bool
wormctl_is_cluster_agent (pid_t pid, const char *dir, int n)
{
    if (pid <= 0)
        return false;
    char path[64], exe[PATH_MAX];
    snprintf (path, sizeof path, "/proc/%d/exe", (int) pid);
    ssize_t len = readlink (path, exe, sizeof exe - 1);
    if (len <= 0)
        return false;
    exe[len] = 0;
    const char *base = strrchr (exe, '/');
    base = base ? base + 1 : exe;
    if (strncmp (base, "wormd", 5) != 0 || (base[5] && strcmp (base + 5, " (deleted)") != 0))
        return false;
    snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    char cmdline[8192];
    size_t size = fread (cmdline, 1, sizeof cmdline - 1, file);
    fclose (file);
    cmdline[size] = 0;
    char state_dir[PATH_MAX + 32];
    snprintf (state_dir, sizeof state_dir, "%s/host%d", dir, n);
    for (size_t at = 0; at < size; at += strlen (cmdline + at) + 1)
        if (strcmp (cmdline + at, state_dir) == 0)
            return true;
    return false;
}

int
wormctl_stop_agents (const char *dir, const wormctl_cluster_t *cluster, int wait_ms,
                     bool kill_interrupted, int *running)
{
    int stopped = 0, left = 0;
    bool signalled[WORMCTL_MAX_HOSTS] = {false};
    for (int i = 0; i < cluster->hosts; i++) {
        //  One of our own children that already exited (a failed 'up')
        if (cluster->pids[i] > 0 && waitpid (cluster->pids[i], NULL, WNOHANG) == cluster->pids[i])
            continue;
        if (wormctl_is_cluster_agent (cluster->pids[i], dir, i + 1)) {
            kill (cluster->pids[i], SIGTERM);
            signalled[i] = true;
        }
        else if (s_alive (cluster->pids[i]))
            fprintf (stderr, "wormctl: pid %d is no longer host%d's wormd; left alone\n",
                     (int) cluster->pids[i], i + 1);
    }
    int64_t deadline = worm_now_ms () + wait_ms;
    for (int i = 0; i < cluster->hosts; i++) {
        if (!signalled[i])
            continue;
        pid_t pid = cluster->pids[i];
        //  Our own children (agents of this 'up') stay zombies until reaped
        while (waitpid (pid, NULL, WNOHANG) != pid && wormctl_is_cluster_agent (pid, dir, i + 1)
               && worm_now_ms () < deadline && !zsys_interrupted)
            zclock_sleep (10);
        if (wormctl_is_cluster_agent (pid, dir, i + 1) && (!zsys_interrupted || kill_interrupted)) {
            if (!zsys_interrupted)
                fprintf (stderr, "wormctl: host%d (pid %d) did not stop within %d ms; killing "
                                 "it\n", i + 1, (int) pid, wait_ms);
            kill (pid, SIGKILL);
            for (int tries = 0; tries < 50 && waitpid (pid, NULL, WNOHANG) != pid
                                && wormctl_is_cluster_agent (pid, dir, i + 1); tries++)
                zclock_sleep (2);
        }
        if (wormctl_is_cluster_agent (pid, dir, i + 1)) {
            fprintf (stderr, "wormctl: host%d (pid %d) is still stopping\n", i + 1, (int) pid);
            left++;
        }
        else
            stopped++;
    }
    if (running)
        *running = left;
    return stopped;
}


pid_t
wormctl_agent_in (const char *state)
{
    char real[PATH_MAX];
    if (!realpath (state, real))
        return 0;
    pid_t from_file = 0;
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/wormd.pid", state);
    FILE *file = fopen (path, "r");
    if (file) {
        int number = 0;
        if (fscanf (file, "%d", &number) == 1)
            from_file = (pid_t) number;
        fclose (file);
    }
    DIR *proc = opendir ("/proc");
    if (!proc)
        return 0;
    pid_t found = 0;
    struct dirent *entry;
    while (!found && (entry = readdir (proc))) {
        pid_t pid = (pid_t) atoi (entry->d_name);
        if (pid <= 0)
            continue;
        char comm[32] = "";
        snprintf (path, sizeof path, "/proc/%d/comm", (int) pid);
        file = fopen (path, "r");
        if (!file)
            continue;
        if (!fgets (comm, sizeof comm, file))
            comm[0] = 0;
        fclose (file);
        comm[strcspn (comm, "\n")] = 0;
        if (strcmp (comm, "wormd") != 0 || s_zombie (pid))
            continue;
        if (pid == from_file) {
            found = pid;
            break;
        }
        snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
        file = fopen (path, "r");
        if (!file)
            continue;
        static char cmdline[16384];
        size_t size = fread (cmdline, 1, sizeof cmdline - 1, file);
        fclose (file);
        cmdline[size] = 0;
        char cwd[PATH_MAX] = "";
        snprintf (path, sizeof path, "/proc/%d/cwd", (int) pid);
        ssize_t len = readlink (path, cwd, sizeof cwd - 1);
        cwd[len > 0 ? len : 0] = 0;
        for (size_t at = 0; at < size && !found; at += strlen (cmdline + at) + 1) {
            const char *arg = cmdline + at;
            if (strncmp (arg, "--state-dir=", 12) == 0)
                arg += 12;
            char joined[2 * PATH_MAX + 2], resolved[PATH_MAX];
            if (arg[0] == '/')
                snprintf (joined, sizeof joined, "%s", arg);
            else if (cwd[0])
                snprintf (joined, sizeof joined, "%s/%s", cwd, arg);
            else
                continue;
            if (realpath (joined, resolved) && strcmp (resolved, real) == 0)
                found = pid;
        }
    }
    closedir (proc);
    return found;
}

