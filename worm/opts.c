/*  opts.c — table-driven long options. See opts.h. */
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int
worm_opts_parse (const worm_opt_t *table, int argc, char **argv, int *index, worm_opt_fn *fn,
                 void *arg, char *err, size_t cap)
{
    while (*index < argc) {
        const char *word = argv[*index];
        if (strcmp (word, "--") == 0) {
            (*index)++;
            return 0;
        }
        if (strncmp (word, "--", 2) != 0)
            return 0;
        const char *name = word + 2;
        const char *equals = strchr (name, '=');
        size_t name_len = equals ? (size_t) (equals - name) : strlen (name);
        const worm_opt_t *opt = table;
        while (opt->name && (strlen (opt->name) != name_len || strncmp (opt->name, name, name_len)))
            opt++;
        if (!opt->name) {
            snprintf (err, cap, "unknown option --%.*s", (int) name_len, name);
            return -1;
        }
        const char *value = NULL;
        if (opt->arg) {
            if (equals)
                value = equals + 1;
            else if (*index + 1 < argc)
                value = argv[++(*index)];
            else {
                snprintf (err, cap, "--%s needs a value (%s)", opt->name, opt->arg);
                return -1;
            }
        }
        else if (equals) {
            snprintf (err, cap, "--%s takes no value", opt->name);
            return -1;
        }
        (*index)++;
        char why[256] = "invalid";
        if (fn (arg, opt->name, value, why, sizeof why)) {
            snprintf (err, cap, "--%s: %s", opt->name, why);
            return -1;
        }
    }
    return 0;
}

void
worm_opts_help (FILE *out, const worm_opt_t *table)
{
    for (const worm_opt_t *opt = table; opt->name; opt++) {
        char left[64];
        snprintf (left, sizeof left, "--%s%s%s", opt->name, opt->arg ? " " : "",
                  opt->arg ? opt->arg : "");
        fprintf (out, "  %-26s %s\n", left, opt->help);
    }
}

int
worm_parse_double (const char *text, double low, double high, double *value, char *err,
                   size_t cap)
{
    char *end;
    errno = 0;
    double parsed = strtod (text, &end);
    if (end == text || *end || errno || !isfinite (parsed)) {
        snprintf (err, cap, "'%s' is not a number", text);
        return -1;
    }
    if (parsed < low || parsed > high) {
        snprintf (err, cap, "%s is outside %g to %g", text, low, high);
        return -1;
    }
    *value = parsed;
    return 0;
}

int
worm_parse_int (const char *text, long low, long high, long *value, char *err, size_t cap)
{
    char *end;
    errno = 0;
    long parsed = strtol (text, &end, 10);
    if (end == text || *end || errno) {
        snprintf (err, cap, "'%s' is not a whole number", text);
        return -1;
    }
    if (parsed < low || parsed > high) {
        snprintf (err, cap, "%s is outside %ld to %ld", text, low, high);
        return -1;
    }
    *value = parsed;
    return 0;
}

//  "512M" for a byte count that is a whole number of such units, into buf.
static void
s_size_text (unsigned long bytes, char *buf, size_t cap)
{
    const char *units = "KMGT";
    int unit = -1;
    while (unit < 3 && bytes >= 1024 && bytes % 1024 == 0) {
        bytes /= 1024;
        unit++;
    }
    if (unit < 0)
        snprintf (buf, cap, "%lu", bytes);
    else
        snprintf (buf, cap, "%lu%c", bytes, units[unit]);
}

int
worm_parse_size (const char *text, unsigned long low, unsigned long high,
                 unsigned long *value, char *err, size_t cap)
{
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    static const char units[] = "KMGT";
    const char *unit = *end ? strchr (units, toupper ((unsigned char) *end)) : NULL;
    unsigned shift = 0;
    if (unit && end[1] == 0) {
        shift = 10 * (unsigned) (unit - units + 1);
        end++;
    }
    if (end == text || *end || errno || text[0] == '-' || !isdigit ((unsigned char) text[0])) {
        snprintf (err, cap, "'%s' is not a size (a whole number, optionally with K, M, G or T)",
                  text);
        return -1;
    }
    if (parsed > (ULONG_MAX >> shift)) {
        snprintf (err, cap, "%s is too large", text);
        return -1;
    }
    unsigned long bytes = (unsigned long) parsed << shift;
    if (bytes && (bytes < low || bytes > high)) {
        char low_text[32], high_text[32];
        s_size_text (low, low_text, sizeof low_text);
        s_size_text (high, high_text, sizeof high_text);
        snprintf (err, cap, "%s is outside %s to %s (or 0 for none)", text, low_text, high_text);
        return -1;
    }
    *value = bytes;
    return 0;
}
