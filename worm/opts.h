/*  opts.h — command-line options from a table, with --help from the same table.

    Options are long ones only: "--name VALUE", "--name=VALUE" or a flag
    "--name". Parsing stops at the first word that is not an option (a
    command) or after "--". Each option is handed to a setter callback, the
    same one a configuration file feeds, so every value is checked in one
    place.
*/
#ifndef WORM_OPTS_H_INCLUDED
#define WORM_OPTS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    const char *name;     //  long name without the dashes
    const char *arg;      //  placeholder of the value ("N"), NULL for a flag
    const char *help;     //  one line
} worm_opt_t;

/*  Receives one option; value is NULL for a flag. Returns 0, or -1 with the
    reason in err (without the option's name, which the caller adds). */
typedef int (worm_opt_fn) (void *arg, const char *name, const char *value, char *err, size_t cap);

/*  Parses argv[*index ..] against table (terminated by a NULL name), calling
    fn for each option, and leaves *index at the first word not consumed.
    Returns 0, or -1 with "--name: reason" or "unknown option --x" in err. */
int worm_opts_parse (const worm_opt_t *table, int argc, char **argv, int *index, worm_opt_fn *fn,
                     void *arg, char *err, size_t cap);

/*  Prints the table as an options list. */
void worm_opts_help (FILE *out, const worm_opt_t *table);

/*  Number parsing for setters: the whole text must be the number, within
    [low, high]. Return 0, or -1 with the reason in err. */
int worm_parse_double (const char *text, double low, double high, double *value, char *err,
                       size_t cap);
int worm_parse_int (const char *text, long low, long high, long *value, char *err, size_t cap);

/*  A size in bytes: a whole number with an optional K, M, G or T suffix
    (powers of 1024), e.g. "512M". 0 is always accepted (it means none);
    anything else must lie in [low, high]. Returns 0, or -1 with the reason
    in err. */
int worm_parse_size (const char *text, unsigned long low, unsigned long high,
                     unsigned long *value, char *err, size_t cap);

#endif
