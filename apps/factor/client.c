/*  client.c — `wormctl factor`: factors numbers in a factor worm, printing
    exactly what GNU coreutils `factor` prints (factor.h). Numbers below
    2^64, trial division and rho run here; ECM units go to the worm's
    segments through the job layer (remote.h), or, with --local, run in
    this process on one core. Registered in apps/list.h. */
#include "client.h"
#include "factor.h"
#include "remote.h"
#include "token.h"
#include "unit.h"
#include "worms.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *worm;       //  --worm
    bool local;             //  --local
    bool quiet;             //  --quiet
    bool verbose;           //  --verbose
    int wait_ms;            //  --wait
    bool help;              //  --help
    bool json;              //  --json
    uint32_t seed;          //  --seed (0: big.c's default)
} s_factor_t;

#define S_UNIT_MS 250       //  the time a remote ECM unit aims at

static int
s_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_factor_t *self = arg;
    if (strcmp (name, "worm") == 0) {
        if (!value[0] || strlen (value) > 63) {
            snprintf (err, cap, "a worm name of 1 to 63 bytes");
            return -1;
        }
        self->worm = value;
    }
    else if (strcmp (name, "local") == 0)
        self->local = true;
    else if (strcmp (name, "quiet") == 0)
        self->quiet = true;
    else if (strcmp (name, "verbose") == 0)
        self->verbose = true;
    else if (strcmp (name, "json") == 0)
        self->json = true;
    else if (strcmp (name, "seed") == 0) {
        long seed;
        if (worm_parse_int (value, WORM_FACTOR_SIGMA_MIN, 4000000000L, &seed, err, cap))
            return -1;
        self->seed = (uint32_t) seed;
    }
    else if (strcmp (name, "wait") == 0)
        return wormctl_job_wait_parse (value, &self->wait_ms, err, cap);
    else if (strcmp (name, "help") == 0)
        self->help = true;
    return 0;
}

//  "N: p1 p2 ..." lines of text (size bytes) as one JSON array of
//  {"n": "N", "factors": ["p1", ...]} to out.
static void
s_print_json (const char *text, size_t size, FILE *out)
{
    fprintf (out, "[");
    const char *line = text, *end = text + size;
    bool first = true;
    while (line < end) {
        const char *eol = memchr (line, '\n', (size_t) (end - line));
        if (!eol)
            eol = end;
        const char *colon = memchr (line, ':', (size_t) (eol - line));
        if (colon) {
            fprintf (out, "%s\n  {\"n\": \"%.*s\", \"factors\": [", first ? "" : ",",
                     (int) (colon - line), line);
            first = false;
            bool first_factor = true;
            for (const char *p = colon + 1; p < eol;) {
                while (p < eol && *p == ' ')
                    p++;
                const char *q = p;
                while (q < eol && *q != ' ')
                    q++;
                if (q > p) {
                    fprintf (out, "%s\"%.*s\"", first_factor ? "" : ", ", (int) (q - p), p);
                    first_factor = false;
                }
                p = q;
            }
            fprintf (out, "]}");
        }
        line = eol + 1;
    }
    fprintf (out, "%s]\n", first ? "" : "\n");
}

//  wormctl factor: see the usage below.
static int
s_cmd_factor (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"worm", "NAME", "the factor worm to work in (default factor)"},
        {"local", NULL, "run everything in this process, on one core, for comparison"},
        {"json", NULL, "print the results as JSON"},
        {"seed", "N", "the first ECM sigma of each number's curves (default 1000)"},
        {"quiet", NULL, "no progress on stderr"},
        {"verbose", NULL, "the job's log on stderr: units given back, segments gone, the overhead per unit"},
        WORMCTL_JOB_WAIT_OPTION,
        {"help", NULL, "show this help"},
        {NULL, NULL, NULL}};
    static const char usage[] =
        "usage: wormctl [GLOBAL] factor [--worm NAME] [--local] [--json] [--quiet] [N]...\n"
        "Prints the prime factors of each N, or of each number read from standard input\n"
        "when none is given, exactly as GNU coreutils' factor prints them. Composites of\n"
        "up to " WORMCTL_STR (WORM_FACTOR_SIQS_DIGITS) " digits are sieved (SIQS) in this process, on one core (from 55\n"
        "digits while the segments run ECM); ECM runs as work units in the worm's\n"
        "segments (a lost segment costs only the units it held); progress goes to stderr.\n";
    s_factor_t opt = {.worm = "factor", .wait_ms = WORMCTL_JOB_WAIT_S * 1000};
    int index = 0;
    char err[512];
    if (worm_opts_parse (options, argc, argv, &index, s_option, &opt, err, sizeof err))
        return wormctl_usage_error (client, "%s", err);
    if (opt.help || client->help) {
        wormctl_help (client, usage, options);
        printf ("\n%s", worm_factor_method_help);
        return 0;
    }
    setlocale (LC_ALL, "");
    worm_factor_runner_t *runner = NULL;
    wormctl_segments_t *found = NULL;
    //  The job's way back to the worm: it lives as long as the job does
    wormctl_refind_t refind;
    if (opt.local)
        runner = worm_factor_local_runner_new ();
    else {
        int rc = wormctl_ready (client);
        if (rc >= 0)
            return rc;
        found = calloc (1, sizeof *found);
        const char *endpoints[WORM_JOBCLIENT_MAX_SEGMENTS + 1];
        char key[WORM_TOKEN_KEY_MAX] = "";
        if (!found
            || wormctl_job_segments (client, opt.worm, "factor", opt.wait_ms, opt.quiet, found, endpoints,
                                     WORM_JOBCLIENT_MAX_SEGMENTS + 1, key, sizeof key)) {
            free (found);
            return 1;
        }
        refind = (wormctl_refind_t) {.client = client, .worm = opt.worm};
        worm_jobclient_config_t config = {.worm = opt.worm, .app = "factor", .worm_key = key,
                                          .task = WORM_FACTOR_TASK, .endpoints = endpoints,
                                          .refind = wormctl_refind, .refind_arg = &refind};
        worm_factor_progress_t progress = opt.quiet            ? WORM_FACTOR_PROGRESS_NONE
                                          : isatty (STDERR_FILENO) ? WORM_FACTOR_PROGRESS_BAR
                                                                   : WORM_FACTOR_PROGRESS_LINES;
        runner = worm_factor_remote_new (&config, progress, opt.verbose, stderr, err, sizeof err);
        if (!runner)
            fprintf (stderr, "wormctl factor: %s\n", err);
    }
    free (found);
    if (!runner)
        return 1;
    //  Remote units of about S_UNIT_MS: the job layer's cost per unit (under
    //  2 ms) stays small beside them, and a found factor wastes at most that
    //  long on each slot
    worm_factor_config_t config = {.runner = runner, .sigma = opt.seed,
                                   .unit_ms = opt.local ? 0 : S_UNIT_MS,
                                   .stop = &zsys_interrupted};
    char *text = NULL;
    size_t size = 0;
    FILE *out = opt.json ? open_memstream (&text, &size) : stdout;
    int status = worm_factor_main ("wormctl factor", argc - index, argv + index, stdin, out,
                                   stderr, &config);
    if (opt.json) {
        fclose (out);
        s_print_json (text, size, stdout);
        free (text);
    }
    if (opt.local)
        worm_factor_local_runner_destroy (&runner);
    else
        worm_factor_remote_destroy (&runner);
    if (status == 130)
        wormctl_say_interrupted (client, "the worm's segments were told to drop the job's units");
    return status;
}

const wormctl_command_t wormctl_app_factor_commands[] = {
    {"factor", "[--worm NAME] [--local] [N]...",
     "print the prime factors of numbers, as coreutils factor does, computed in a worm",
     "the search for the worm's segments (default " WORMCTL_STR (WORMCTL_QUERY_S) " s, then "
     WORMCTL_STR (WORMCTL_REQUEST_S) " s)",
     true, s_cmd_factor},
    {NULL, NULL, NULL, NULL, false, NULL}};
