/*  factor.h — the factor command's entry point, compatible with GNU coreutils.

    What `wormctl factor` and `worm-factor-local` run once their options are
    parsed (issue 12, section 3): numbers from the arguments, or tokens from
    a stream when there are none, each printed as coreutils `factor` prints
    it ("N: p1 p2 ...", primes ascending with multiplicity) or refused with
    its message, naming the caller's program instead of `factor`. The
    factoring itself is word.c and big.c; where ECM units run is the
    caller's runner, so the local and the distributed commands share this.
*/
#ifndef WORM_FACTOR_FACTOR_H_INCLUDED
#define WORM_FACTOR_FACTOR_H_INCLUDED

#include "big.h"

#include <stdio.h>

//  Numbers longer than this many digits (after leading zeros) are refused.
#define WORM_FACTOR_MAX_DIGITS 20000

//  A paragraph for --help on how numbers are factored and proved prime.
extern const char worm_factor_method_help [];

//  Factors each of argv [0 .. argc) (operands only: the caller has parsed
//  its options), or when argc is 0 every token of in (separated by spaces,
//  tabs and newlines, as coreutils reads them). Accepts what coreutils
//  accepts: leading spaces (arguments only) and one '+', then decimal
//  digits, leading zeros allowed. Writes the results to out and one line
//  per refused token to err ("PROG: ‘TOKEN’ is not a valid positive
//  integer", quoted as coreutils quotes in the current LC_CTYPE locale,
//  which the caller sets: setlocale (LC_ALL, "")), goes on with the others,
//  and returns the exit status: 0, or 1 when any token was refused, a
//  number could not be factored (the runner's error, reported on err), or
//  out could not be written; 130, and nothing said, when the runner was
//  interrupted (-EINTR).
//  Two runner errors end the run, because every later number would meet
//  them too: -EINTR (Ctrl-C) and -EHOSTUNREACH (no segment left). out is flushed after each line when in is a
//  terminal, and before returning.
int
    worm_factor_main (const char *prog, int argc, char **argv, FILE *in, FILE *out, FILE *err,
                      const worm_factor_config_t *config);

#endif
