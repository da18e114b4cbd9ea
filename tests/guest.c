/*  worm-test-guest — a trivial guest program for the agent's spawn tests.

    Writes its pid, working folder, uid and environment to ./guest-info,
    then sleeps for the given seconds (default 60) or until SIGTERM, and
    exits with the given status (default 0).
    Usage: worm-test-guest [SECONDS [STATUS]]
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
    FILE *info = fopen ("guest-info", "w");
    if (!info)
        return 3;
    char cwd[4096] = "";
    if (!getcwd (cwd, sizeof cwd))
        cwd[0] = 0;
    fprintf (info, "pid=%d\ncwd=%s\nuid=%d\nnice=%d\n", (int) getpid (), cwd, (int) getuid (),
             nice (0));
    for (char **env = environ; *env; env++)
        fprintf (info, "env %s\n", *env);
    fclose (info);
    for (double slept = 0; slept < seconds && !s_stop; slept += 0.05)
        usleep (50000);
    return status;
}
