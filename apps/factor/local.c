/*  local.c — worm-factor-local: the factor app's math on one core, like coreutils `factor`.

    The command the tests and the benchmark compare with coreutils, and what
    `wormctl factor --local` will be: worm_factor_main with the in-process
    ECM runner. Options: --seed N (the first sigma of each ECM ladder),
    --help; everything else is a number, as for coreutils.
*/
#include "factor.h"

#include <getopt.h>
#include <locale.h>
#include <stdlib.h>

static void
s_usage (FILE *out, const char *prog)
{
    fprintf (out,
             "Usage: %s [--seed N] [NUMBER]...\n"
             "Print the prime factors of each NUMBER, or of each number read from\n"
             "standard input when there is none, as GNU coreutils factor does.\n"
             "  --seed N   first ECM sigma of each number's ladder (default 1000)\n"
             "  --help     this help\n\n%s",
             prog, worm_factor_method_help);
}

int
main (int argc, char *argv [])
{
    setlocale (LC_ALL, "");
    const char *prog = "worm-factor-local";
    static const struct option options [] = {
        {"help", no_argument, NULL, 'h'}, {"seed", required_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
    worm_factor_config_t config = {0};
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (opt == 'h') {
            s_usage (stdout, prog);
            return 0;
        }
        if (opt == 's') {
            char *end;
            unsigned long seed = strtoul (optarg, &end, 10);
            if (*optarg == 0 || *end || seed < WORM_FACTOR_SIGMA_MIN || seed > 4000000000UL) {
                fprintf (stderr, "%s: --seed wants a number from %d to 4000000000, not '%s'\n",
                         prog, WORM_FACTOR_SIGMA_MIN, optarg);
                return 1;
            }
            config.sigma = (uint32_t) seed;
            continue;
        }
        fprintf (stderr, "Try '%s --help' for more information.\n", prog);
        return 1;
    }
    config.runner = worm_factor_local_runner_new ();
    if (!config.runner) {
        fprintf (stderr, "%s: out of memory\n", prog);
        return 1;
    }
    static char buffer [1 << 16];
    setvbuf (stdout, buffer, _IOFBF, sizeof buffer);
    int status = worm_factor_main (prog, argc - optind, argv + optind, stdin, stdout, stderr, &config);
    worm_factor_local_runner_destroy (&config.runner);
    return status;
}
