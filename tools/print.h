/*  print.h — wormctl's output: JSON strings, durations in words, and the
    hosts table (or JSON array) that hosts, willing and registry print.
*/
#ifndef WORMCTL_PRINT_H_INCLUDED
#define WORMCTL_PRINT_H_INCLUDED

#include "beacon.h"

#include <stdbool.h>
#include <stdio.h>

/*  Writes text to out as a JSON string, quotes and escapes included. */
void wormctl_json_string (FILE *out, const char *text);

/*  A duration as "42s", "5m", "3h" or "2d" (rounded), into buf. */
void wormctl_human_seconds (double seconds, char *buf, size_t cap);

/*  Prints hosts to stdout as a table, or a JSON array of objects with json;
    arrival_ms (NULL: none) adds when each answer came, in ms after the
    query. */
void wormctl_print_hosts (const worm_hostinfo_t *hosts, int count, const double *arrival_ms,
                          bool json);

#endif
