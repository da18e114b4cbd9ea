/*  opts_test.c — the option parser and the number parsers its setters use:
    every form of an option, where parsing stops, each refusal and its
    message, and the --help list printed from the same table. */
#include "opts.h"
#include "../tests/check.h"

#include <stdarg.h>

static const worm_opt_t s_table[] = {
    {"count", "N", "how many"},
    {"name", "NAME", "what to call it"},
    {"verbose", NULL, "say more"},
    {"help", NULL, "print this help"},
    {NULL, NULL, NULL},
};

//  What the setter saw, in order, and when it should refuse.
typedef struct {
    char seen[512];         //  "name=value;" per call, "name;" for a flag
    int calls;              //  how many calls
    long count;             //  --count, parsed
    const char *refuse;     //  refuse this option's value with "no thanks"
} s_state_t;

static int
s_setter (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_state_t *state = (s_state_t *) arg;
    state->calls++;
    size_t len = strlen (state->seen);
    snprintf (state->seen + len, sizeof state->seen - len, "%s%s%s;", name, value ? "=" : "",
              value ? value : "");
    if (state->refuse && strcmp (state->refuse, name) == 0) {
        snprintf (err, cap, "no thanks");
        return -1;
    }
    if (strcmp (name, "count") == 0)
        return worm_parse_int (value, 0, 100, &state->count, err, cap);
    return 0;
}

//  Parses the words given (NULL-terminated) from index 0; returns the
//  result, with the index reached in *index and the state in *state.
static int
s_parse (s_state_t *state, int *index, char *err, size_t cap, const char *first, ...)
{
    static char *argv[16];
    int argc = 0;
    va_list words;
    va_start (words, first);
    for (const char *word = first; word && argc < 16; word = va_arg (words, const char *))
        argv[argc++] = (char *) word;
    va_end (words);
    argv[argc] = NULL;
    memset (state, 0, sizeof *state);
    *index = 0;
    snprintf (err, cap, "untouched");
    return worm_opts_parse (s_table, argc, argv, index, s_setter, state, err, cap);
}

int
main (void)
{
    s_state_t state;
    char err[256];
    int index;

    //  Both value forms and a flag, in order; the index ends past them all
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--count", "7", "--name=x=y", "--verbose",
                       NULL), 0);
    CHECK_STR (state.seen, "count=7;name=x=y;verbose;");
    CHECK_EQ (state.count, 7);
    CHECK_EQ (index, 4);
    //  An empty value after '=' is a value, handed to the setter
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--name=", NULL), 0);
    CHECK_STR (state.seen, "name=;");
    //  A value that looks like an option is still the value
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--name", "--verbose", NULL), 0);
    CHECK_STR (state.seen, "name=--verbose;");
    CHECK_EQ (index, 2);

    //  Parsing stops at a command, leaving the index on it
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--verbose", "run", "--count", "3", NULL),
              0);
    CHECK_STR (state.seen, "verbose;");
    CHECK_EQ (index, 1);
    //  ... at a single dash word too (options are long ones only)
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "-v", NULL), 0);
    CHECK_EQ (state.calls, 0);
    CHECK_EQ (index, 0);
    //  ... and after "--", which is consumed
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--verbose", "--", "--count", "3", NULL),
              0);
    CHECK_STR (state.seen, "verbose;");
    CHECK_EQ (index, 2);
    //  No words: nothing to do
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, NULL), 0);
    CHECK_EQ (index, 0);
    CHECK_EQ (state.calls, 0);
    //  --help is an option like any other; the caller decides what it does
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--help", NULL), 0);
    CHECK_STR (state.seen, "help;");

    //  Unknown options, including a prefix of a known one, and a bare "--="
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--verbose", "--colour", "red", NULL), -1);
    CHECK_STR (err, "unknown option --colour");
    CHECK_STR (state.seen, "verbose;");
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--coun", "3", NULL), -1);
    CHECK_STR (err, "unknown option --coun");
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--counts=3", NULL), -1);
    CHECK_STR (err, "unknown option --counts");
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--=3", NULL), -1);
    CHECK_STR (err, "unknown option --");
    CHECK_EQ (state.calls, 0);

    //  A missing value names the option and its placeholder
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--verbose", "--count", NULL), -1);
    CHECK_STR (err, "--count needs a value (N)");
    CHECK_STR (state.seen, "verbose;");
    //  A flag given a value
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--verbose=yes", NULL), -1);
    CHECK_STR (err, "--verbose takes no value");
    CHECK_EQ (state.calls, 0);

    //  The setter's refusal, with the option's name put first
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--count", "many", NULL), -1);
    CHECK_STR (err, "--count: 'many' is not a whole number");
    CHECK_EQ (s_parse (&state, &index, err, sizeof err, "--count=101", NULL), -1);
    CHECK_STR (err, "--count: 101 is outside 0 to 100");
    memset (&state, 0, sizeof state);
    state.refuse = "verbose";
    char *argv[] = {"--verbose", "--count", "1", NULL};
    index = 0;
    CHECK_EQ (worm_opts_parse (s_table, 3, argv, &index, s_setter, &state, err, sizeof err), -1);
    CHECK_STR (err, "--verbose: no thanks");
    CHECK_EQ (state.calls, 1);
    //  A long reason is cut to fit err, still NUL-terminated
    char small[12];
    CHECK_EQ (s_parse (&state, &index, small, sizeof small, "--colour-of-the-sky", NULL), -1);
    CHECK_STR (small, "unknown opt");

    //  --help: one line per option, the placeholder after the name
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    CHECK (out != NULL);
    worm_opts_help (out, s_table);
    fclose (out);
    CHECK_STR (text, "  --count N                  how many\n"
                     "  --name NAME                what to call it\n"
                     "  --verbose                  say more\n"
                     "  --help                     print this help\n");
    free (text);

    //  Numbers: the whole text, within the bounds
    double real;
    long whole;
    CHECK_EQ (worm_parse_double ("1.5", 0, 2, &real, err, sizeof err), 0);
    CHECK (real == 1.5);
    CHECK_EQ (worm_parse_double ("-0.25", -1, 0, &real, err, sizeof err), 0);
    CHECK (real == -0.25);
    CHECK_EQ (worm_parse_double ("1.5x", 0, 2, &real, err, sizeof err), -1);
    CHECK_STR (err, "'1.5x' is not a number");
    CHECK_EQ (worm_parse_double ("", 0, 2, &real, err, sizeof err), -1);
    CHECK_STR (err, "'' is not a number");
    CHECK_EQ (worm_parse_double ("nan", 0, 2, &real, err, sizeof err), -1);
    CHECK_STR (err, "'nan' is not a number");
    CHECK_EQ (worm_parse_double ("inf", 0, 2, &real, err, sizeof err), -1);
    CHECK_STR (err, "'inf' is not a number");
    CHECK_EQ (worm_parse_double ("1e999", 0, 2, &real, err, sizeof err), -1);
    CHECK_STR (err, "'1e999' is not a number");
    CHECK_EQ (worm_parse_double ("2.5", 0, 2, &real, err, sizeof err), -1);
    CHECK_STR (err, "2.5 is outside 0 to 2");
    real = 9;
    CHECK_EQ (worm_parse_double ("-1", 0, 2, &real, err, sizeof err), -1);
    CHECK (real == 9);      //  untouched on failure

    CHECK_EQ (worm_parse_int ("42", 1, 65535, &whole, err, sizeof err), 0);
    CHECK_EQ (whole, 42);
    CHECK_EQ (worm_parse_int ("-3", -5, 5, &whole, err, sizeof err), 0);
    CHECK_EQ (whole, -3);
    CHECK_EQ (worm_parse_int ("4.0", 1, 9, &whole, err, sizeof err), -1);
    CHECK_STR (err, "'4.0' is not a whole number");
    CHECK_EQ (worm_parse_int ("", 1, 9, &whole, err, sizeof err), -1);
    CHECK_STR (err, "'' is not a whole number");
    CHECK_EQ (worm_parse_int ("99999999999999999999", 1, 9, &whole, err, sizeof err), -1);
    CHECK_STR (err, "'99999999999999999999' is not a whole number");
    CHECK_EQ (worm_parse_int ("0", 1, 65535, &whole, err, sizeof err), -1);
    CHECK_STR (err, "0 is outside 1 to 65535");
    CHECK_EQ (whole, -3);

    //  Sizes: a whole number with an optional K, M, G or T (either case)
    unsigned long bytes;
    CHECK_EQ (worm_parse_size ("512M", 1UL << 20, 1UL << 40, &bytes, err, sizeof err), 0);
    CHECK_EQ (bytes, 512UL << 20);
    CHECK_EQ (worm_parse_size ("2g", 1UL << 20, 1UL << 40, &bytes, err, sizeof err), 0);
    CHECK_EQ (bytes, 2UL << 30);
    CHECK_EQ (worm_parse_size ("1T", 1UL << 20, 1UL << 40, &bytes, err, sizeof err), 0);
    CHECK_EQ (bytes, 1UL << 40);
    CHECK_EQ (worm_parse_size ("4096", 1024, 1UL << 40, &bytes, err, sizeof err), 0);
    CHECK_EQ (bytes, 4096);
    CHECK_EQ (worm_parse_size ("16k", 1024, 1UL << 40, &bytes, err, sizeof err), 0);
    CHECK_EQ (bytes, 16384);
    //  0 means none, whatever the bounds
    CHECK_EQ (worm_parse_size ("0", 1UL << 20, 1UL << 40, &bytes, err, sizeof err), 0);
    CHECK_EQ (bytes, 0);
    const char *not_sizes[] = {"", "M", "-1M", "+5M", " 5M", "5MB", "5X", "1.5G", "5M ", NULL};
    for (int i = 0; not_sizes[i]; i++) {
        bytes = 7;
        CHECK_EQ (worm_parse_size (not_sizes[i], 0, 1UL << 40, &bytes, err, sizeof err), -1);
        char want[128];
        snprintf (want, sizeof want, "'%s' is not a size (a whole number, optionally with K, M,"
                                     " G or T)", not_sizes[i]);
        CHECK_STR (err, want);
        CHECK_EQ (bytes, 7);
    }
    CHECK_EQ (worm_parse_size ("20000000T", 0, ~0UL, &bytes, err, sizeof err), -1);
    CHECK_STR (err, "20000000T is too large");
    CHECK_EQ (worm_parse_size ("99999999999999999999999", 0, ~0UL, &bytes, err, sizeof err), -1);
    CHECK_HAS (err, "is not a size");
    //  Outside the bounds: the bounds in the largest whole unit
    CHECK_EQ (worm_parse_size ("8M", 16UL << 20, 1UL << 46, &bytes, err, sizeof err), -1);
    CHECK_STR (err, "8M is outside 16M to 64T (or 0 for none)");
    CHECK_EQ (worm_parse_size ("1000", 1536, 3000, &bytes, err, sizeof err), -1);
    CHECK_STR (err, "1000 is outside 1536 to 3000 (or 0 for none)");
    CHECK_EQ (worm_parse_size ("2", 1536, 1UL << 50, &bytes, err, sizeof err), -1);
    CHECK_STR (err, "2 is outside 1536 to 1024T (or 0 for none)");
    CHECK_EQ (bytes, 7);

    return check_done ("worm.opts");
}
