/*  watch.c — a guest notices that its agent died. See watch.h. */
#include "watch.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>

static pid_t s_agent;           //  our parent when we started watching, 0 when not watching

int
worm_watch_start (void)
{
    const char *guest = getenv ("WORM_GUEST_ID");
    if (!guest || !*guest)
        return 0;
    //  The agent started us directly; had it died since, its SIGKILL
    //  would have ended us, so our parent is still the agent
    s_agent = getppid ();
    if (prctl (PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0))
        return -1;
    //  The signal in force when it dies is sent, so this cannot miss it;
    //  should our parent have changed all the same, do as if it were sent
    if (getppid () != s_agent)
        raise (SIGTERM);
    return 1;
}

//  True when pid's main thread has ended (zombie, dead) or pid is gone.
static bool
s_main_thread_ended (pid_t pid)
{
    char path[64], text[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true;
    ssize_t size = read (fd, text, sizeof text - 1);
    close (fd);
    if (size <= 0)
        return true;
    text[size] = 0;
    const char *end = strrchr (text, ')');
    return end && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X');
}

bool
worm_watch_agent_gone (int wait_ms)
{
    if (!s_agent)
        return false;
    //  A dying agent's threads end one by one: we are its other threads'
    //  child (same pid) until the last one ends, but the death signal came
    //  when its main thread, which started us, ended
    for (int waited = 0;; waited += 5) {
        if (getppid () != s_agent || s_main_thread_ended (s_agent))
            return true;
        if (waited >= wait_ms)
            return false;
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep (&pause, NULL);
    }
}

void
worm_watch_end_group (void)
{
    kill (0, SIGKILL);
    _exit (1);
}
