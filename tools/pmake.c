/*  pmake.c — wormctl run -j: many commands at once on willing hosts and
    here, their output printed whole in the order of the lines. See pmake.h.

    One loop drives every run: it starts commands while there are free
    slots (a willing host first; this machine's slots when no host takes
    one, or as well), polls the runs' connections and our signal pipe,
    reaps the commands run here, and prints each command's kept output as
    soon as it and every line before it are over.
*/
#include "pmake.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_BACKOFF_MS 1000  //  after no host took a command, before asking again
#define S_FILES_SPARE 64   //  descriptors kept free of the jobs' output files

typedef enum { S_WAITING, S_REMOTE, S_LOCAL, S_OVER } s_state_t;

typedef struct {
    int line;                   //  its line in the input
    char *text;                 //  the command
    char *argv[4];              //  sh -c text
    wormctl_run_spec_t *spec;   //  the template with its argv and output files
    s_state_t state;
    FILE *out, *err;            //  its output, kept until printed
    wormctl_run_t *run;         //  S_REMOTE: the run
    bool stdin_closed;          //  its stdin's end went
    pid_t pid;                  //  S_LOCAL: the child
    long evictions;             //  how often it was evicted
    int status;                 //  S_OVER: as a shell reports it (128 + N for signal N)
    char why[256];              //  how it failed, "" when it exited
    char host[65];              //  where it ran
    bool printed;
} s_job_t;

typedef struct {
    wormctl_client_t *client;
    const wormctl_pmake_opts_t *opts;
    s_job_t *jobs;
    int n_jobs;
    int next;                //  the first job not started
    int retrying;            //  jobs before next waiting to start again (evicted)
    int printed;             //  jobs printed, in order
    int remote, local;       //  how many run there and here
    int64_t backoff_ms;      //  no host asked for a command before this
    int ahead_max;           //  jobs started beyond the first unprinted, at most
    bool stopping;           //  no more jobs start
    int interrupted;         //  the signal that stopped us, 0 for none
    bool stdout_broken;      //  our stdout's reader went away
    char (*busy)[17];        //  hosts the remote jobs run on
    zhashx_t *hosts;         //  ids of the hosts that ran one
} s_pmake_t;

//  --------------------------------------------------------------------------
//  Reading the commands

static int
s_read_commands (s_pmake_t *self, FILE *in)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t size;
    int number = 0, rc = 0;
    while ((size = getline (&line, &cap, in)) >= 0) {
        number++;
        if (size && line[size - 1] == '\n')
            line[--size] = 0;
        const char *start = line + strspn (line, " \t");
        if (!*start || *start == '#')
            continue;
        if (size > WORM_RUN_ARG_MAX || strlen (line) != (size_t) size) {
            fprintf (stderr, "wormctl run: line %d: %s\n", number,
                     size > WORM_RUN_ARG_MAX ? "longer than " WORMCTL_STR (WORM_RUN_ARG_MAX) " bytes"
                                             : "holds a NUL byte");
            rc = 2;
            break;
        }
        if (self->n_jobs >= WORMCTL_PMAKE_MAX_COMMANDS) {
            fprintf (stderr, "wormctl run: more than %d commands\n", WORMCTL_PMAKE_MAX_COMMANDS);
            rc = 2;
            break;
        }
        if (self->n_jobs % 256 == 0)
            self->jobs = realloc (self->jobs, (size_t) (self->n_jobs + 256) * sizeof *self->jobs);
        s_job_t *job = &self->jobs[self->n_jobs++];
        memset (job, 0, sizeof *job);
        job->line = number;
        job->text = strdup (line);
        job->status = -1;
    }
    if (ferror (in)) {
        fprintf (stderr, "wormctl run: cannot read the commands: %s\n", strerror (errno));
        rc = 2;
    }
    free (line);
    return rc;
}

//  --------------------------------------------------------------------------
//  Starting

//  Its output files, and its spec: the template's, with sh -c and them.
static int
s_prepare (s_pmake_t *self, s_job_t *job)
{
    if (!job->out) {
        job->out = tmpfile ();
        job->err = tmpfile ();
    }
    if (!job->out || !job->err) {
        snprintf (job->why, sizeof job->why, "cannot keep its output: %s", strerror (errno));
        return -1;
    }
    job->argv[0] = "sh";
    job->argv[1] = "-c";
    job->argv[2] = job->text;
    job->argv[3] = NULL;
    //  Started again: the hosts that evicted it stay excluded
    wormctl_run_spec_t *spec = calloc (1, sizeof *spec);
    *spec = *self->opts->spec;
    if (job->spec) {
        memcpy (spec->exclude, job->spec->exclude, sizeof spec->exclude);
        spec->n_exclude = job->spec->n_exclude;
        free (job->spec);
    }
    spec->argv = job->argv;
    spec->out_fds[1] = fileno (job->out);
    spec->out_fds[2] = fileno (job->err);
    job->spec = spec;
    return 0;
}

static void
s_finish (s_job_t *job, int status, const char *why)
{
    job->state = S_OVER;
    job->status = status;
    if (why && !job->why[0])
        snprintf (job->why, sizeof job->why, "%s", why);
}

//  Starts job on a willing host. Returns 0 when it runs (or it is over:
//  the host could not run the command at all), -1 when no host took it.
static int
s_start_remote (s_pmake_t *self, s_job_t *job)
{
    int n_busy = 0;
    for (int i = 0; i < self->next; i++)
        if (self->jobs[i].state == S_REMOTE)
            snprintf (self->busy[n_busy++], sizeof self->busy[0], "%s",
                      wormctl_run_host_id (self->jobs[i].run));
    job->spec->busy = (const char (*)[17]) self->busy;
    job->spec->n_busy = n_busy;
    job->spec->hosts_known = (int) zhashx_size (self->hosts);
    int status = 1;
    char err[1024] = "";
    job->run = wormctl_run_start (self->client, job->spec, &status, err, sizeof err);
    if (job->run) {
        zhashx_insert (self->hosts, wormctl_run_host_id (job->run), "");
        job->why[0] = 0;
        job->state = S_REMOTE;
        job->stdin_closed = false;
        self->remote++;
        return 0;
    }
    if (status == 126 || status == 127) {
        s_finish (job, status, err);
        return 0;
    }
    snprintf (job->why, sizeof job->why, "%s", err);
    return -1;
}

//  Starts job here: sh -c LINE in its own process group, no stdin.
static int
s_start_local (s_pmake_t *self, s_job_t *job)
{
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0) {
        snprintf (job->why, sizeof job->why, "cannot fork: %s", strerror (errno));
        return -1;
    }
    if (pid == 0) {
        setpgid (0, 0);
        int null = open ("/dev/null", O_RDONLY);
        if (null < 0 || dup2 (null, 0) < 0 || dup2 (fileno (job->out), 1) < 0
            || dup2 (fileno (job->err), 2) < 0)
            _exit (126);
        signal (SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        execl ("/bin/sh", "sh", "-c", job->text, (char *) NULL);
        _exit (127);
    }
    setpgid (pid, pid);
    job->pid = pid;
    job->state = S_LOCAL;
    job->why[0] = 0;
    self->local++;
    return 0;
}

//  The job to start next: one evicted before, else the next line's.
static s_job_t *
s_next_job (s_pmake_t *self)
{
    if (self->retrying)
        for (int i = 0; i < self->next; i++)
            if (self->jobs[i].state == S_WAITING)
                return &self->jobs[i];
    if (self->next < self->n_jobs && self->next - self->printed < self->ahead_max)
        return &self->jobs[self->next];
    return NULL;
}

//  The job left its waiting state (started, or over).
static void
s_job_taken (s_pmake_t *self, s_job_t *job)
{
    if (job == &self->jobs[self->next])
        self->next++;
    else
        self->retrying--;
}

//  Starts what the free slots take. A command no host takes runs here if
//  a slot here is free, waits while others run, else fails.
static void
s_start_jobs (s_pmake_t *self)
{
    const wormctl_pmake_opts_t *opts = self->opts;
    s_job_t *job;
    while (!self->stopping && (job = s_next_job (self))) {
        bool remote_free = self->remote < opts->jobs && worm_now_ms () >= self->backoff_ms;
        bool local_free = self->local < opts->local_jobs;
        if (!remote_free && !local_free)
            return;
        if (s_prepare (self, job)) {
            s_finish (job, 1, NULL);
            s_job_taken (self, job);
            continue;
        }
        if (remote_free) {
            if (s_start_remote (self, job) == 0) {
                s_job_taken (self, job);
                continue;
            }
            self->backoff_ms = worm_now_ms () + S_BACKOFF_MS;
        }
        if (local_free && s_start_local (self, job) == 0) {
            s_job_taken (self, job);
            continue;
        }
        if (self->remote + self->local > 0)
            return;  //  it waits for a slot, or for the back-off
        //  Nothing runs and nothing takes it: it fails
        s_finish (job, job->evictions ? WORMCTL_RUN_EVICTED : 1, NULL);
        s_job_taken (self, job);
    }
}

//  --------------------------------------------------------------------------
//  Running

static void
s_signal_all (s_pmake_t *self, int number)
{
    for (int i = 0; i < self->next; i++) {
        s_job_t *job = &self->jobs[i];
        if (job->state == S_REMOTE)
            wormctl_run_signal (job->run, number);
        else if (job->state == S_LOCAL)
            kill (-job->pid, number);
    }
}

static void
s_on_signals (s_pmake_t *self)
{
    unsigned char byte;
    while (read (self->opts->signal_fd, &byte, 1) == 1) {
        int number = byte;
        if (number == SIGINT || number == SIGTERM || number == SIGHUP) {
            //  A second one: nothing waits for them any longer
            s_signal_all (self, self->interrupted ? SIGKILL : number);
            self->stopping = true;
            if (!self->interrupted)
                self->interrupted = number;
        } else
            s_signal_all (self, number);
        if (number == SIGTSTP) {
            zclock_sleep (20);  //  the messages leave before we stop
            raise (SIGSTOP);
        }
    }
}

static void
s_run_over (s_pmake_t *self, s_job_t *job)
{
    wormctl_run_end_t end;
    if (!wormctl_run_done (job->run, &end))
        return;
    wormctl_run_destroy (&job->run);
    self->remote--;
    self->backoff_ms = 0;  //  its host has room again
    snprintf (job->host, sizeof job->host, "%s", end.host);
    if (end.evicted || end.lost) {
        if (job->evictions++ < self->opts->retries && !self->interrupted
            && job->spec->n_exclude < WORMCTL_RUN_MAX_FILES) {
            //  Again from the start, elsewhere: its output so far goes
            snprintf (job->spec->exclude[job->spec->n_exclude++], sizeof job->spec->exclude[0], "%s",
                      end.host_id);
            if (ftruncate (fileno (job->out), 0) == 0 && ftruncate (fileno (job->err), 0) == 0) {
                rewind (job->out);
                rewind (job->err);
                fprintf (stderr, "wormctl run: line %d %s %s; starting it again elsewhere\n",
                         job->line, end.evicted ? "evicted from" : "lost with", end.host);
                job->state = S_WAITING;
                self->retrying++;
                return;
            }
        }
        char why[256];
        snprintf (why, sizeof why, "%s %s%s%s", end.evicted ? "evicted from" : "lost with",
                  end.host, end.reason[0] ? ": " : "", end.reason);
        s_finish (job, WORMCTL_RUN_EVICTED, why);
    } else if (!end.exited)
        s_finish (job, 1, end.reason[0] ? end.reason : "the host broke the protocol");
    else
        s_finish (job, end.signal ? 128 + end.signal : end.status, NULL);
}

static void
s_reap_local (s_pmake_t *self)
{
    for (int i = 0; i < self->next && self->local; i++) {
        s_job_t *job = &self->jobs[i];
        int wstatus;
        if (job->state != S_LOCAL || waitpid (job->pid, &wstatus, WNOHANG) != job->pid)
            continue;
        self->local--;
        s_finish (job, WIFSIGNALED (wstatus) ? 128 + WTERMSIG (wstatus) : WEXITSTATUS (wstatus),
                  NULL);
    }
}

//  Handles what came for each remote job: its output, its end, its stdin's
//  end (it has none), keepalives.
static void
s_drive_remote (s_pmake_t *self)
{
    for (int i = 0; i < self->next; i++) {
        s_job_t *job = &self->jobs[i];
        if (job->state != S_REMOTE)
            continue;
        wormctl_run_receive (job->run);
        if (!job->stdin_closed && wormctl_run_wants_stdin (job->run)) {
            wormctl_run_stdin (job->run, NULL, 0, true);
            job->stdin_closed = true;
        }
        wormctl_run_flush (job->run);
        wormctl_run_tick (job->run);
        s_run_over (self, job);
    }
}

//  Waits up to timeout_ms for a run's message or a signal.
static void
s_wait (s_pmake_t *self, int timeout_ms)
{
    zmq_pollitem_t *items = calloc ((size_t) self->remote + 1, sizeof *items);
    int n = 0;
    items[n++] = (zmq_pollitem_t) {NULL, self->opts->signal_fd, ZMQ_POLLIN, 0};
    for (int i = 0; i < self->next && n <= self->remote; i++)
        if (self->jobs[i].state == S_REMOTE)
            items[n++] = (zmq_pollitem_t) {
                zsock_resolve (wormctl_run_socket (self->jobs[i].run)), 0, ZMQ_POLLIN, 0};
    zmq_poll (items, n, timeout_ms);
    free (items);
}

//  --------------------------------------------------------------------------
//  Printing

//  Copies what file holds to fd, each line after prefix when there is one.
//  Returns -1 when fd takes no more.
static int
s_copy (FILE *file, int fd, const char *prefix)
{
    rewind (file);
    FILE *to = fdopen (dup (fd), "w");
    if (!to)
        return -1;
    char buf[8192];
    size_t size;
    bool line_start = true;
    while ((size = fread (buf, 1, sizeof buf, file)) > 0) {
        if (!prefix) {
            fwrite (buf, 1, size, to);
            continue;
        }
        for (size_t i = 0; i < size; i++) {
            if (line_start)
                fputs (prefix, to);
            fputc (buf[i], to);
            line_start = buf[i] == '\n';
        }
    }
    if (prefix && !line_start)
        fputc ('\n', to);
    return fclose (to) == 0 ? 0 : -1;
}

static void
s_describe (const s_job_t *job, char *text, size_t cap)
{
    if (job->why[0])
        snprintf (text, cap, "%s", job->why);
    else if (job->status > 128)
        snprintf (text, cap, "killed by signal %d (%s) %s%s", job->status - 128,
                  strsignal (job->status - 128), job->pid ? "here" : "on ", job->pid ? "" : job->host);
    else
        snprintf (text, cap, "exited %d %s%s", job->status, job->pid ? "here" : "on ",
                  job->pid ? "" : job->host);
}

static void
s_print (s_pmake_t *self, s_job_t *job)
{
    char prefix[32];
    snprintf (prefix, sizeof prefix, "[%d] ", job->line);
    const char *tag = self->opts->tag ? prefix : NULL;
    struct stat out_st, err_st;
    bool wrote = (job->out && fstat (fileno (job->out), &out_st) == 0 && out_st.st_size > 0)
                 || (job->err && fstat (fileno (job->err), &err_st) == 0 && err_st.st_size > 0);
    if (self->opts->headers && !tag && wrote && !self->stdout_broken
        && (printf ("==> line %d: %s <==\n", job->line, job->text) < 0 || fflush (stdout)))
        self->stdout_broken = true;
    if (job->out && !self->stdout_broken && s_copy (job->out, 1, tag))
        self->stdout_broken = true;
    if (job->err)
        s_copy (job->err, 2, tag);
    if (job->status != 0) {
        char how[300];
        s_describe (job, how, sizeof how);
        fprintf (stderr, "wormctl run: line %d (%s) %s\n", job->line, job->text, how);
    }
    if (job->out)
        fclose (job->out);
    if (job->err)
        fclose (job->err);
    job->out = job->err = NULL;
    free (job->spec);
    job->spec = NULL;
    job->printed = true;
}

//  Prints every job that is over and has no unprinted job before it.
static void
s_print_ready (s_pmake_t *self)
{
    while (self->printed < self->next && self->jobs[self->printed].state == S_OVER)
        s_print (self, &self->jobs[self->printed++]);
}

//  --------------------------------------------------------------------------

int
wormctl_pmake (wormctl_client_t *client, const wormctl_pmake_opts_t *opts, FILE *in)
{
    s_pmake_t *self = calloc (1, sizeof *self);
    self->client = client;
    self->opts = opts;
    self->busy = calloc ((size_t) opts->jobs + 1, sizeof *self->busy);
    self->hosts = zhashx_new ();
    int rc = s_read_commands (self, in);
    //  Each job started keeps two files open until it is printed
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
    getrlimit (RLIMIT_NOFILE, &files);
    self->ahead_max = files.rlim_cur > 4 * S_FILES_SPARE ? (int) ((files.rlim_cur - S_FILES_SPARE) / 3)
                                                         : S_FILES_SPARE;
    bool failed = false;
    while (rc == 0) {
        s_start_jobs (self);
        if (self->remote + self->local == 0
            && (self->stopping || (self->next == self->n_jobs && !self->retrying)))
            break;
        s_wait (self, self->local ? 20 : 250);
        s_on_signals (self);
        s_drive_remote (self);
        s_reap_local (self);
        for (int i = self->printed; i < self->next; i++)
            if (self->jobs[i].state == S_OVER && self->jobs[i].status != 0 && !failed) {
                failed = true;
                if (!opts->keep_going)
                    self->stopping = true;
            }
        s_print_ready (self);
    }
    //  Stopped early: what is over still prints, in order
    int failures = 0, skipped = 0;
    char lines[200] = "";
    for (int i = 0; i < self->n_jobs; i++) {
        s_job_t *job = &self->jobs[i];
        if (job->state == S_OVER && !job->printed)
            s_print (self, job);
        if (job->state != S_OVER)
            skipped++;
        else if (job->status != 0 && failures++ < 10) {
            size_t len = strlen (lines);
            snprintf (lines + len, sizeof lines - len, "%s%d", len ? ", " : "", job->line);
        }
        free (job->text);
        free (job->spec);
        if (job->out)
            fclose (job->out);
        if (job->err)
            fclose (job->err);
    }
    if (rc == 0 && failures)
        fprintf (stderr, "wormctl run: %d of %d commands failed (line%s %s%s)\n", failures,
                 self->n_jobs, failures > 1 ? "s" : "", lines, failures > 10 ? ", ..." : "");
    if (rc == 0 && skipped)
        fprintf (stderr, "wormctl run: %d command%s not started%s\n", skipped, skipped > 1 ? "s" : "",
                 self->interrupted ? "" : " after a failure (--keep-going runs them all)");
    if (rc == 0)
        rc = self->interrupted ? 128 + self->interrupted : failures || skipped ? 1 : 0;
    free (self->jobs);
    free (self->busy);
    zhashx_destroy (&self->hosts);
    free (self);
    return rc;
}
