/*  random.h — the project's one source of random identifiers.

    Host ids, claim ids, worm ids and segment ids are drawn from the
    kernel's random source (getrandom), never from rand ()/random () seeded
    by the clock and the pid: two launches in the same microsecond, or two
    virtual hosts started together, get different ids.
*/
#ifndef WORM_RANDOM_H_INCLUDED
#define WORM_RANDOM_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

/*  Fills buf with size random bytes. Blocks only until the kernel's pool is
    initialised at boot; aborts the process if the kernel refuses (there is
    no safe way to go on without randomness). */
void worm_random_bytes (void *buf, size_t size);

/*  Writes len random lowercase hex digits and a NUL into buf (cap > len). */
void worm_random_hex (char *buf, size_t len);

/*  A random 64-bit number. */
uint64_t worm_random_u64 (void);

#endif
