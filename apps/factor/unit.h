/*  unit.h — a factor work unit and its result on the wire.

    What a `wormctl factor` client leases to a segment through the job
    layer (docs/PROTOCOL.md, "Jobs"): the body of a job.run of task
    WORM_FACTOR_TASK is one msgpack map {n: decimal string, b1: float,
    sigma: uint, curves: uint} (ecm_unit.h says what the curves are), its
    result {found: bool, factor: decimal string (when found), curves:
    uint}. The decoders treat the bytes as hostile: every field is checked
    and a bad one named, nothing asserted.
*/
#ifndef WORM_FACTOR_UNIT_H_INCLUDED
#define WORM_FACTOR_UNIT_H_INCLUDED

#include "ecm_unit.h"

#include <stddef.h>

#define WORM_FACTOR_TASK "ecm"              //  the task name of a unit
#define WORM_FACTOR_UNIT_DIGITS 20000       //  digits of a unit's n, at most
#define WORM_FACTOR_UNIT_CURVES 100000      //  curves of one unit, at most
#define WORM_FACTOR_UNIT_B1_MAX 1e11        //  the largest B1 a unit may ask for

/*  Encodes unit into *data (malloc'd, the caller frees) of *size bytes.
    Returns 0, or -1 when out of memory. */
int worm_factor_unit_encode (const worm_factor_unit_t *unit, void **data, size_t *size);

/*  Decodes a unit's body into unit (whose n the caller has initialised).
    Returns 0, or -1 with the reason in err ("unit: field 'b1': ..."). */
int worm_factor_unit_decode (const void *data, size_t size, worm_factor_unit_t *unit, char *err,
                             size_t cap);

/*  Encodes a result: factor (NULL: none found) and the curves run. */
int worm_factor_result_encode (const mpz_t factor, uint32_t curves, void **data, size_t *size);

/*  Decodes a result: *found, and the factor into factor (initialised by the
    caller) when found. Returns 0, or -1 with the reason in err. */
int worm_factor_result_decode (const void *data, size_t size, bool *found, mpz_t factor,
                               uint32_t *curves, char *err, size_t cap);

#endif
