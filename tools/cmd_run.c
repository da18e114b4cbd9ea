/*  cmd_run.c — wormctl run: runs one command on the least-loaded willing
    host that runs commands (or the one named), as customs' export did:
    our stdin, stdout and stderr streamed to and from it, our signals
    passed on to it, its exit status ours (tools/runner.h does the run;
    this file is the command: options, the poll loop, signals, retries).
*/
#include "client.h"
#include "commands.h"
#include "log.h"
#include "pmake.h"
#include "runner.h"
#include "runspec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAX_RETRIES 64  //  --retry's ceiling

typedef struct {
    wormctl_run_spec_t spec;         //  what to run
    long retries;                    //  --retry
    bool local_ok;                   //  --local-ok
    char hostname[65];               //  this host's name, as wormd names it by default
    int n_inputs, n_outputs, n_env, n_shares;  //  how many of each in spec
    char folder[PATH_MAX];           //  --shell: ours, shared
    char env_text[WORMCTL_RUN_MAX_ENV + 2][WORM_RUN_ARG_MAX + 80];  //  NAME=VALUE
    bool help;                                                      //  --help
    long jobs, local_jobs;  //  -j, --local-jobs: many commands from stdin
    bool keep_going, tag;   //  -k, --tag
    int headers;            //  --headers 1, --no-headers 0, -1: when stdout is a terminal
    bool shell;             //  --shell: as sh -c, in the same folder (wormsh)
    char *script;           //  --shell: the script run there
    char short_text[4][32]; //  -jN as --jobs=N
} s_run_t;

//  The signals we pass on, and how they reach our loop: a byte each in a pipe
static const int s_passed[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGUSR1,
                               SIGUSR2, SIGTSTP, SIGCONT, 0};
static int s_signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t s_started;  //  a command runs: signals go to it

static void
s_on_signal (int number)
{
    int saved = errno;
    unsigned char byte = (unsigned char) number;
    ssize_t unused = write (s_signal_pipe[1], &byte, 1);
    (void) unused;
    //  Before a command runs, these stop us (every wait looks at this)
    if (!s_started && (number == SIGINT || number == SIGTERM || number == SIGHUP))
        zsys_interrupted = 1;
    errno = saved;
}

static int
s_catch_signals (char *err, size_t cap)
{
    if (pipe2 (s_signal_pipe, O_CLOEXEC | O_NONBLOCK)) {
        snprintf (err, cap, "pipe: %s", strerror (errno));
        return -1;
    }
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset (&action.sa_mask);
    for (int i = 0; s_passed[i]; i++)
        sigaction (s_passed[i], &action, NULL);
    //  A reader of our output that went away is the command's to hear of
    signal (SIGPIPE, SIG_IGN);
    return 0;
}

//  The first signal that came, 0 for none.
static int
s_first_signal (void)
{
    unsigned char byte = 0;
    return read (s_signal_pipe[0], &byte, 1) == 1 ? byte : 0;
}

static int
s_add_env (s_run_t *run, const char *name, size_t len, const char *value, char *err, size_t cap)
{
    if (run->n_env >= WORMCTL_RUN_MAX_ENV + 2) {
        snprintf (err, cap, "more than %d variables", WORMCTL_RUN_MAX_ENV);
        return -1;
    }
    if (strlen (value) > WORM_RUN_ARG_MAX) {
        snprintf (err, cap, "the value of %.*s is longer than %d bytes", (int) len, name,
                  WORM_RUN_ARG_MAX);
        return -1;
    }
    snprintf (run->env_text[run->n_env], sizeof run->env_text[0], "%.*s=%s", (int) len, name,
              value);
    run->spec.env[run->n_env] = run->env_text[run->n_env];
    run->n_env++;
    return 0;
}

static int
s_run_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_run_t *run = (s_run_t *) arg;
    long number;
    if (streq (name, "help"))
        run->help = true;
    else if (streq (name, "host")) {
        if (!*value) {
            snprintf (err, cap, "name a host");
            return -1;
        }
        run->spec.host = value;
    } else if (streq (name, "input")) {
        struct stat st;
        if (run->n_inputs >= WORMCTL_RUN_MAX_FILES) {
            snprintf (err, cap, "more than %d inputs", WORMCTL_RUN_MAX_FILES);
            return -1;
        }
        char remote[WORM_RUN_PATH_MAX + 1];
        if (wormctl_run_input_name (value, remote, sizeof remote)) {
            snprintf (err, cap, "%s has no name it can keep in the remote folder (name a file "
                                "or folder, not / . or ..)", value);
            return -1;
        }
        if (stat (value, &st) || !(S_ISREG (st.st_mode) || S_ISDIR (st.st_mode))) {
            snprintf (err, cap, "%s is no file or folder here%s%s", value,
                      errno == ENOENT ? "" : ": ", errno == ENOENT ? "" : strerror (errno));
            return -1;
        }
        run->spec.inputs[run->n_inputs++] = value;
    } else if (streq (name, "output")) {
        if (run->n_outputs >= WORMCTL_RUN_MAX_FILES) {
            snprintf (err, cap, "more than %d outputs", WORMCTL_RUN_MAX_FILES);
            return -1;
        }
        if (!worm_runspec_path_ok (value)) {
            snprintf (err, cap,
                      "'%s' is not a path inside the remote folder (relative, no "
                      "'.' or '..')",
                      value);
            return -1;
        }
        run->spec.outputs[run->n_outputs++] = value;
    } else if (streq (name, "share")) {
        if (run->n_shares >= WORM_RUN_MAX_SHARES) {
            snprintf (err, cap, "more than %d folders", WORM_RUN_MAX_SHARES);
            return -1;
        }
        if (value[0] != '/' || strlen (value) > WORM_RUN_PATH_MAX) {
            snprintf (err, cap, "'%s' is not an absolute path of at most %d bytes", value,
                      WORM_RUN_PATH_MAX);
            return -1;
        }
        run->spec.shares[run->n_shares++] = value;
    } else if (streq (name, "env")) {
        const char *equals = strchr (value, '=');
        size_t len = equals ? (size_t) (equals - value) : strlen (value);
        if (!worm_runspec_env_name_ok (value, len)) {
            snprintf (err, cap,
                      "'%.*s' is not a name [A-Za-z_][A-Za-z0-9_]* of at most %d "
                      "bytes, or is the host's (PATH, HOME, WORM_*)",
                      (int) len, value, WORM_RUN_ENV_NAME_MAX);
            return -1;
        }
        const char *given = equals ? equals + 1 : getenv (value);
        if (!given) {
            snprintf (err, cap, "%s is not set here (NAME=VALUE sets it)", value);
            return -1;
        }
        return s_add_env (run, value, len, given, err, cap);
    } else if (streq (name, "timeout-run")) {
        if (worm_parse_int (value, 1, 8640000, &number, err, cap))
            return -1;
        run->spec.timeout_s = (unsigned) number;
    } else if (streq (name, "local-ok"))
        run->local_ok = true;
    else if (streq (name, "retry"))
        return worm_parse_int (value, 0, S_MAX_RETRIES, &run->retries, err, cap);
    else if (streq (name, "jobs"))
        return worm_parse_int (value, 1, WORMCTL_PMAKE_MAX_JOBS, &run->jobs, err, cap);
    else if (streq (name, "local-jobs"))
        return worm_parse_int (value, 0, WORMCTL_PMAKE_MAX_JOBS, &run->local_jobs, err, cap);
    else if (streq (name, "keep-going"))
        run->keep_going = true;
    else if (streq (name, "tag"))
        run->tag = true;
    else if (streq (name, "headers"))
        run->headers = 1;
    else if (streq (name, "no-headers"))
        run->headers = 0;
    else if (streq (name, "shell"))
        run->shell = true;
    return 0;
}

//  make's short options, -j N (-jN) and -k, as their long names, up to the
//  first word that is no option: argv's words are replaced in place.
static void
s_short_options (const worm_opt_t *options, s_run_t *run, int argc, char **argv)
{
    int translated = 0;
    for (int i = 0; i < argc; i++) {
        char *word = argv[i];
        if (streq (word, "--"))
            return;
        if (!strncmp (word, "--", 2)) {
            const worm_opt_t *opt = options;
            size_t len = strcspn (word + 2, "=");
            while (opt->name && (strlen (opt->name) != len || strncmp (opt->name, word + 2, len)))
                opt++;
            if (opt->name && opt->arg && !word[2 + len])
                i++;  //  its value
        } else if (streq (word, "-j"))
            argv[i++] = "--jobs";  //  and its value
        else if (streq (word, "-k"))
            argv[i] = "--keep-going";
        else if (!strncmp (word, "-j", 2) && translated < 4) {
            snprintf (run->short_text[translated], sizeof run->short_text[0], "--jobs=%.24s",
                      word + 2);
            argv[i] = run->short_text[translated++];
        } else
            return;
    }
}

//  --shell: the words after the options are sh's, [-e...] -c LINE; the
//  command becomes sh [-e] -c 'cd -- FOLDER || exit 1; LINE', FOLDER ours.
static int
s_shell_command (s_run_t *run, int argc, char **argv, char *err, size_t cap)
{
    static char *sh_argv[5];
    int i = 0;
    bool c = false, e = false;
    for (; i < argc && argv[i][0] == '-' && !c; i++) {
        for (const char *flag = argv[i] + 1; *flag; flag++) {
            if (*flag == 'c')
                c = true;
            else if (*flag == 'e')
                e = true;
            else {
                snprintf (err, cap, "--shell takes sh's -c and -e, not -%c", *flag);
                return -1;
            }
        }
    }
    if (!c || i != argc - 1) {
        snprintf (err, cap, "--shell runs one script: [-e] -c 'COMMAND LINE'");
        return -1;
    }
    char *folder = run->folder;
    if (!getcwd (folder, sizeof run->folder)) {
        snprintf (err, cap, "cannot name this folder: %s", strerror (errno));
        return -1;
    }
    //  It stays in sight there when it lies under /tmp, /var/tmp or /dev/shm
    if (strlen (folder) > WORM_RUN_PATH_MAX || run->n_shares >= WORM_RUN_MAX_SHARES) {
        snprintf (err, cap, "cannot share this folder there (longer than %d bytes, or %d "
                  "--share already)", WORM_RUN_PATH_MAX, WORM_RUN_MAX_SHARES);
        return -1;
    }
    run->spec.shares[run->n_shares++] = folder;
    //  The folder in single quotes, each ' as '\''
    size_t size = strlen (argv[i]) + 4 * strlen (folder) + 32;
    run->script = calloc (1, size);
    char *at = run->script + sprintf (run->script, "cd -- '");
    for (const char *from = folder; *from; from++)
        at += *from == '\'' ? sprintf (at, "'\\''") : sprintf (at, "%c", *from);
    sprintf (at, "' || exit 1\n%s", argv[i]);
    if (strlen (run->script) > WORM_RUN_ARG_MAX) {
        snprintf (err, cap, "the script is longer than %d bytes", WORM_RUN_ARG_MAX);
        return -1;
    }
    int n = 0;
    sh_argv[n++] = "sh";
    if (e)
        sh_argv[n++] = "-e";
    sh_argv[n++] = "-c";
    sh_argv[n++] = run->script;
    sh_argv[n] = NULL;
    run->spec.argv = sh_argv;
    return 0;
}

//  Passes on the signals that came; a stop stops us too once it went.
static void
s_pass_signals (wormctl_run_t *runner)
{
    int number;
    while ((number = s_first_signal ())) {
        wormctl_run_signal (runner, number);
        if (number == SIGTSTP) {
            //  Our stop stops ZeroMQ's thread too: let the message leave first
            zclock_sleep (20);
            raise (SIGSTOP);
        }
    }
}

//  Drives one run until it is over: stdin to it, its output to ours,
//  signals to it. Fills end.
static void
s_drive (wormctl_run_t *runner, bool *stdin_done, wormctl_run_end_t *end)
{
    while (!wormctl_run_done (runner, end)) {
        bool want_in = !*stdin_done && wormctl_run_wants_stdin (runner);
        zmq_pollitem_t items[] = {
            {zsock_resolve (wormctl_run_socket (runner)), 0, ZMQ_POLLIN, 0},
            {NULL, s_signal_pipe[0], ZMQ_POLLIN, 0},
            {NULL, 0, want_in ? ZMQ_POLLIN : 0, 0},
            {NULL, 1, wormctl_run_output_waiting (runner, 1) ? ZMQ_POLLOUT : 0, 0},
            {NULL, 2, wormctl_run_output_waiting (runner, 2) ? ZMQ_POLLOUT : 0, 0},
        };
        if (zmq_poll (items, 5, 250) < 0 && errno != EINTR)
            break;
        s_pass_signals (runner);
        if (wormctl_run_receive (runner))
            continue;
        if (want_in && (items[2].revents & (ZMQ_POLLIN | ZMQ_POLLERR))) {
            static char buf[WORM_RUN_CHUNK];
            ssize_t size = read (0, buf, sizeof buf);
            if (size > 0)
                wormctl_run_stdin (runner, buf, (size_t) size, false);
            else if (size == 0 || (errno != EAGAIN && errno != EINTR)) {
                wormctl_run_stdin (runner, NULL, 0, true);
                *stdin_done = true;
            }
        }
        wormctl_run_flush (runner);
        wormctl_run_tick (runner);
    }
}

//  wormctl run: runs a command on a willing host; exits with its status.
static int
s_cmd_run (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"host", "NAME", "run it on this host (default: the least loaded willing one)"},
        {"input", "PATH", "copy this file or folder into the remote folder first (repeatable)"},
        {"output", "PATH",
         "copy this file or folder of the remote folder back here after "
         "(repeatable)"},
        {"env", "NAME[=VALUE]", "give the command this variable, ours or VALUE (repeatable)"},
        {"share", "DIR",
         "keep this folder of the host in sight in the command's private /tmp, /var/tmp "
         "or /dev/shm (repeatable; what it writes there stays)"},
        {"timeout-run", "S", "stop the command after S seconds (SIGTERM, then SIGKILL)"},
        {"retry", "N", "start it again on another host after up to N evictions"},
        {"local-ok", NULL,
         "run it here instead when this host is willing and answers first "
         "(its wormd named as the host)"},
        {"jobs", "N", "-j N: read one command a line from stdin, run N at a time (pmake)"},
        {"local-jobs", "M", "with -j: and up to M at a time here (default 0)"},
        {"keep-going", NULL, "-k, with -j: a failed command does not stop the others starting"},
        {"tag", NULL, "with -j: each line of a command's output starts with [ITS LINE]"},
        {"headers", NULL,
         "with -j: a line '==> line N: COMMAND <==' before each command's output (the "
         "default when stdout is a terminal)"},
        {"no-headers", NULL, "with -j: no such line, even on a terminal"},
        {"shell", NULL,
         "be a shell for make (wormsh): [-e] -c LINE runs LINE in this folder's path "
         "there, or here when no host is willing"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    s_run_t *run = calloc (1, sizeof *run);
    run->headers = -1;
    char err[1024];
    int index = 0, rc = WORMCTL_EXIT_USAGE;
    s_short_options (options, run, argc, argv);
    if (worm_opts_parse (options, argc, argv, &index, s_run_option, run, err, sizeof err)) {
        rc = wormctl_usage_error (client, "%s", err);
        goto done;
    }
    if (run->help || client->help) {
        wormctl_help (client,
                      "Usage: wormctl [GLOBAL OPTIONS] run [OPTIONS] -- COMMAND [ARGS...]\n\n"
                      "Runs COMMAND on the least-loaded willing host whose owner lets it run\n"
                      "commands (wormd --allow-run), as that host's guest user, in a fresh\n"
                      "folder, at nice 19 and SCHED_IDLE under its limits. Our stdin goes to it,\n"
                      "its stdout and stderr come back here; SIGINT, SIGTERM, SIGHUP, SIGQUIT,\n"
                      "SIGUSR1/2, SIGTSTP and SIGCONT go to its process group. Its environment is\n"
                      "PATH, HOME (the folder), our LANG and TERM, and the --env variables; its\n"
                      "umask is ours. An input keeps its relative path there (a path with '..'\n"
                      "or an absolute one goes by its last name); an output is a path in the\n"
                      "remote folder, copied to the same path here (a missing one is warned\n"
                      "about). /tmp, /var/tmp and /dev/shm are its own there (when the host's\n"
                      "wormd is root): what it leaves in them, as any process it leaves\n"
                      "running, is gone when it ends; --share DIR keeps a folder of the host's\n"
                      "in them in sight. Exits with the command's status, 128+N when signal N\n"
                      "ended it, 75 when the host's owner came back (or the host fell silent)\n"
                      "and no --retry was left, 127 when the host has no such command, 1 when\n"
                      "no host ran it.\n\n"
                      "With -j N it reads one shell command a line from stdin (blank lines and\n"
                      "#-comments skipped) and runs each as 'sh -c LINE', N at a time on willing\n"
                      "hosts (fewest of ours on a host first) and --local-jobs M here; a command\n"
                      "no host takes waits for a slot, or runs here in a free local one. Each\n"
                      "command's stdout and stderr are kept and printed whole, in the order of\n"
                      "the lines, after a line '==> line N: COMMAND <==' on a terminal (or with\n"
                      "--headers; --tag prefixes each line instead); a failed one is named on\n"
                      "stderr. Exits 0 when all exited 0,\n"
                      "1 otherwise; without -k no command starts after one failed.\n\n"
                      "With --shell (the wormsh program) it is a shell for make: 'make -j8\n"
                      "SHELL=wormsh' runs each recipe line on a willing host, in the folder of\n"
                      "the same path there, which must be shared (the same path on every host,\n"
                      "writable by the hosts' guest user); see README.md.\n",
                      options);
        rc = 0;
        goto done;
    }
    if (run->jobs && index < argc) {
        rc = wormctl_usage_error (client, "-j reads the commands from stdin, one a line: give "
                                          "no COMMAND ('%s')", argv[index]);
        goto done;
    }
    if (!run->jobs && (run->local_jobs || run->keep_going || run->tag || run->headers >= 0)) {
        rc = wormctl_usage_error (client, "--local-jobs, --keep-going, --tag and --headers go "
                                          "with -j N");
        goto done;
    }
    if (run->jobs && (run->shell || run->local_ok)) {
        rc = wormctl_usage_error (client, "-j runs here with --local-jobs, not %s",
                                  run->shell ? "--shell" : "--local-ok");
        goto done;
    }
    if (!run->jobs && index >= argc) {
        rc = wormctl_usage_error (client, "no command given (wormctl run [OPTIONS] -- COMMAND "
                                          "[ARGS...])");
        goto done;
    }
    if (run->shell && s_shell_command (run, argc - index, argv + index, err, sizeof err)) {
        rc = wormctl_usage_error (client, "%s", err);
        goto done;
    }
    if (run->local_ok && run->spec.host) {
        rc = wormctl_usage_error (client, "--local-ok and --host exclude each other");
        goto done;
    }
    if (run->local_ok) {
        //  wormd's default name: the hostname up to its first dot
        char host[256] = "";
        gethostname (host, sizeof host);
        host[64] = 0;
        host[strcspn (host, ".")] = 0;
        snprintf (run->hostname, sizeof run->hostname, "%s", host);
        run->spec.local = run->hostname;
    }
    if (!run->shell)
        run->spec.argv = argv + index;
    //  What the command gets of ours: LANG, TERM (unless --env said), the umask
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "TERM" : "LANG", *value = getenv (name);
        bool given = false;
        for (int k = 0; k < run->n_env; k++)
            given |= !strncmp (run->spec.env[k], name, 4) && run->spec.env[k][4] == '=';
        if (value && !given && s_add_env (run, name, 4, value, err, sizeof err)) {
            rc = wormctl_usage_error (client, "%s", err);
            goto done;
        }
    }
    mode_t mask = umask (0);
    umask (mask);
    run->spec.umask = mask;
    rc = wormctl_ready (client);
    if (rc >= 0)
        goto done;
    rc = 1;
    if (s_catch_signals (err, sizeof err)) {
        fprintf (stderr, "wormctl run: %s\n", err);
        goto done;
    }
    if (run->jobs) {
        s_started = 1;  //  signals go to the commands, and stop new ones
        wormctl_pmake_opts_t opts = {
            .spec = &run->spec,
            .jobs = (int) run->jobs,
            .local_jobs = (int) run->local_jobs,
            .keep_going = run->keep_going,
            .tag = run->tag,
            .headers = run->headers > 0 || (run->headers < 0 && isatty (1)),
            .retries = run->retries,
            .signal_fd = s_signal_pipe[0],
        };
        rc = wormctl_pmake (client, &opts, stdin);
        goto done;
    }
    bool stdin_done = false;
    for (long attempt = 0;; attempt++) {
        int status = 1;
        s_started = 0;
        wormctl_run_t *runner = wormctl_run_start (client, &run->spec, &status, err, sizeof err);
        if (!runner && run->shell && status == 1 && !zsys_interrupted && attempt == 0) {
            //  A shell for make: no host took it, so it runs here, where
            //  it needs no cd (the script is the last word)
            fprintf (stderr, "wormsh: %s; running it here\n", err);
            status = WORMCTL_RUN_HERE;
            char **word = run->spec.argv;
            while (word[1])
                word++;
            *word = argv[argc - 1];
        }
        if (!runner && status == WORMCTL_RUN_HERE) {
            //  Not exported at all: the command takes our place, our
            //  stdio, signals and exit status
            signal (SIGPIPE, SIG_DFL);
            execvp (run->spec.argv[0], run->spec.argv);
            fprintf (stderr, "wormctl run: cannot run %s here: %s\n", run->spec.argv[0],
                     strerror (errno));
            rc = errno == ENOENT ? 127 : 126;
            break;
        }
        if (!runner) {
            if (zsys_interrupted) {
                int number = s_first_signal ();
                zsys_interrupted = 0;  //  we say it, and exit with its number
                wormctl_say_interrupted (client, "no command was left running");
                rc = 128 + (number ? number : SIGINT);
            } else {
                fprintf (stderr, "wormctl run: %s\n", err);
                //  After an eviction, no other host: still the eviction's status
                rc = attempt > 0 && status == 1 ? WORMCTL_RUN_EVICTED : status;
            }
            break;
        }
        s_started = 1;
        //  A signal that came while the run started is its
        s_pass_signals (runner);
        wormctl_run_end_t end;
        memset (&end, 0, sizeof end);
        s_drive (runner, &stdin_done, &end);
        wormctl_run_destroy (&runner);
        if (end.evicted || end.lost) {
            if (end.evicted)
                fprintf (stderr, "wormctl run: evicted from %s (%s)\n", end.host,
                         end.reason[0] ? end.reason : "no reason given");
            if (attempt < run->retries && run->spec.n_exclude < WORMCTL_RUN_MAX_FILES) {
                snprintf (run->spec.exclude[run->spec.n_exclude++], sizeof run->spec.exclude[0],
                          "%s", end.host_id);
                fprintf (stderr, "wormctl run: starting it again elsewhere (retry %ld of %ld)\n",
                         attempt + 1, run->retries);
                continue;
            }
            rc = WORMCTL_RUN_EVICTED;
        } else if (!end.exited)
            rc = 1;
        else if (end.signal)
            rc = 128 + end.signal;
        else
            rc = end.status;
        if (end.reason[0] && !end.evicted)
            fprintf (stderr, "wormctl run: %s stopped it: %s\n", end.host, end.reason);
        break;
    }
done:
    free (run->script);
    free (run);
    return rc;
}

const wormctl_command_t wormctl_run_commands[] = {
    {"run", "[OPTIONS] -- COMMAND [ARGS...]", "run a command on a willing host (export)",
     "how long to wait for the hosts' answers (default " WORMCTL_STR (
         WORMCTL_QUERY_S) " s) and for each host's reply (default " WORMCTL_STR (WORMCTL_REQUEST_S) " s)",
     true, s_cmd_run},
    {NULL, NULL, NULL, NULL, false, NULL},
};
