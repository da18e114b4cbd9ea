/*  worm-test-guest — a trivial guest program for the agent's tests.

    Writes its pid, working folder, user and groups, nice level, scheduling
    class, resource limits and environment to ./guest-info (whole: it is
    renamed into place),
    then sleeps for the given seconds (default 60) or until SIGTERM, and
    exits with the given status (default 0). Modes after those:
      ignore-term   ignores SIGTERM (a non-cooperative guest)
      double-fork   leaves behind a grandchild in a session of its own
                    (reparented away from the guest), which writes its pid
                    to ./grandchild.pid and sleeps
      child         leaves a child in its process group, which writes its pid to
                    ./child.pid and sleeps
      watch-agent   watches its agent the way a segment does (worm/watch.h):
                    the agent's death is a SIGTERM, and on the way out the
                    guest ends its whole process group
      alloc:MB      allocates and touches MB MiB, and adds "alloc MB=ok" or
                    "alloc MB=refused" to ./guest-info (a memory limit at work)
    Usage: worm-test-guest [SECONDS [STATUS [MODE...]]]
*/
#include "watch.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t s_stop = 0;

static void
s_on_term (int sig)
{
    (void) sig;
    s_stop = 1;
}

int
main (int argc, char **argv)
{
    double seconds = argc > 1 ? atof (argv[1]) : 60;
    int status = argc > 2 ? atoi (argv[2]) : 0;
    signal (SIGTERM, s_on_term);
    bool watching = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp (argv[i], "watch-agent") == 0)
            watching = worm_watch_start () == 1;
        else if (strcmp (argv[i], "child") == 0 && fork () == 0) {
            signal (SIGTERM, SIG_DFL);
            FILE *out = fopen ("child.pid", "w");
            if (out) {
                fprintf (out, "%d\n", (int) getpid ());
                fclose (out);
            }
            sleep (300);
            _exit (0);
        }
        else if (strcmp (argv[i], "ignore-term") == 0)
            signal (SIGTERM, SIG_IGN);
        else if (strcmp (argv[i], "double-fork") == 0 && fork () == 0) {
            setsid ();
            if (fork () == 0) {
                FILE *out = fopen ("grandchild.pid", "w");
                if (out) {
                    fprintf (out, "%d\n", (int) getpid ());
                    fclose (out);
                }
                signal (SIGTERM, SIG_IGN);
                sleep (300);
            }
            _exit (0);
        }
    }
    //  Written aside and renamed when whole, so a reader never sees half of it
    FILE *info = fopen ("guest-info.part", "w");
    if (!info)
        return 3;
    char cwd[4096] = "";
    if (!getcwd (cwd, sizeof cwd))
        cwd[0] = 0;
    int policy = sched_getscheduler (0);
    fprintf (info, "pid=%d\ncwd=%s\nuid=%d\neuid=%d\ngid=%d\negid=%d\nnice=%d\nsched=%s\n",
             (int) getpid (), cwd, (int) getuid (), (int) geteuid (), (int) getgid (),
             (int) getegid (), nice (0), policy == SCHED_IDLE ? "idle" : "other");
    gid_t groups[64];
    int count = getgroups (64, groups);
    fprintf (info, "groups=");
    for (int i = 0; i < count; i++)
        fprintf (info, "%s%d", i ? "," : "", (int) groups[i]);
    fprintf (info, "\n");
    //  Soft and hard limit of each, "unlimited" for none
    struct {
        const char *name;
        int resource;
    } limits[] = {{"data", RLIMIT_DATA}, {"as", RLIMIT_AS}, {"nofile", RLIMIT_NOFILE},
                  {"nproc", RLIMIT_NPROC}};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit limit;
        if (getrlimit (limits[i].resource, &limit))
            continue;
        fprintf (info, "limit_%s=", limits[i].name);
        if (limit.rlim_cur == RLIM_INFINITY)
            fprintf (info, "unlimited");
        else
            fprintf (info, "%llu", (unsigned long long) limit.rlim_cur);
        if (limit.rlim_max == RLIM_INFINITY)
            fprintf (info, " unlimited\n");
        else
            fprintf (info, " %llu\n", (unsigned long long) limit.rlim_max);
    }
    for (int i = 3; i < argc; i++)
        if (strncmp (argv[i], "alloc:", 6) == 0) {
            size_t mib = (size_t) atol (argv[i] + 6);
            char *block = malloc (mib << 20);
            if (block)
                memset (block, 1, mib << 20);
            fprintf (info, "alloc %zu=%s\n", mib, block ? "ok" : "refused");
            free (block);
        }
    for (char **env = environ; *env; env++)
        fprintf (info, "env %s\n", *env);
    if (fclose (info) || rename ("guest-info.part", "guest-info"))
        return 3;
    for (double slept = 0; slept < seconds && !s_stop; slept += 0.05)
        usleep (50000);
    if (watching && worm_watch_agent_gone (s_stop ? 100 : 0))
        worm_watch_end_group ();
    return status;
}
