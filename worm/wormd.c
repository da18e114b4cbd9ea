/*  wormd — the host agent. Parses its configuration and runs worm/agent.c. */
#include "agent.h"
#include "lock.h"
#include "log.h"
#include "spawn.h"

#include <czmq.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: wormd [OPTIONS]\n\n"
                  "The worm host agent: decides from the owner's policy whether this machine is\n"
                  "a willing idle host, announces itself by broadcast, answers \"who is willing?\",\n"
                  "and grants claims and spawns guest segments under the policy.\n"
                  "Without --broadcast or --interface it uses the loopback broadcast\n"
                  "127.255.255.255, which reaches only this machine.\n\nOptions:\n");
    worm_opts_help (out, worm_config_options);
}

//  Detaches into the background, logging to STATE/wormd.log; the child
//  keeps the state folder's lock and writes its pid into it.
static int
s_daemonize (const worm_config_t *config, worm_lock_t *lock)
{
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/wormd.log", config->state_dir);
    int log_fd = open (path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log_fd < 0) {
        fprintf (stderr, "wormd: cannot open %s\n", path);
        return -1;
    }
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit (0);
    setsid ();
    if (worm_lock_claim (lock))
        fprintf (stderr, "wormd: cannot write my pid into the state folder's lock file\n");
    int null_fd = open ("/dev/null", O_RDONLY);
    dup2 (null_fd, 0);
    dup2 (log_fd, 1);
    dup2 (log_fd, 2);
    close (null_fd);
    close (log_fd);
    return 0;
}

int
main (int argc, char **argv)
{
    worm_config_t config;
    char err[512];
    int rc = worm_config_load (&config, argc - 1, argv + 1, err, sizeof err);
    if (rc == 1) {
        s_usage (stdout);
        return 0;
    }
    if (rc) {
        fprintf (stderr, "wormd: %s (see wormd --help)\n", err);
        return 2;
    }
    //  Every guest runs with no_new_privs, which no process can clear: a
    //  wormd that finds it set is a guest's child, and a guest never starts
    //  an agent (it would run guests of its own with the guest's rights)
    if (prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) {
        fprintf (stderr, "wormd: refusing to start: this process runs with no_new_privs, as "
                         "the guests of a host agent do (a guest may not start an agent)\n");
        return 2;
    }
    //  The state folder is ours before anything in it is touched; a second
    //  agent on it leaves every file as it is
    worm_lock_t *lock;
    rc = worm_lock_new (&lock, config.state_dir, err, sizeof err);
    if (rc) {
        fprintf (stderr, "wormd: %s\n", err);
        return rc == WORM_LOCK_HELD ? 2 : 1;
    }
    if (config.daemon && s_daemonize (&config, lock))
        return 1;
    //  czmq handles SIGINT/SIGTERM by setting zsys_interrupted
    zsys_init ();
    zsys_set_logstream (NULL);
    worm_log_init ("wormd", config.name);
    worm_agent_t *agent = worm_agent_new (&config, &lock, err, sizeof err);
    if (!agent) {
        worm_log ("%s", err);
        return 1;
    }
    worm_agent_run (agent);
    worm_agent_destroy (&agent);
    return 0;
}
