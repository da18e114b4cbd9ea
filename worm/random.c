/*  random.c — random identifiers from getrandom. See random.h. */
#include "random.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void
worm_random_bytes (void *buf, size_t size)
{
    unsigned char *at = (unsigned char *) buf;
    while (size) {
        ssize_t got = getrandom (at, size, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            fprintf (stderr, "worm: getrandom failed: %s\n", strerror (errno));
            abort ();
        }
        at += got;
        size -= (size_t) got;
    }
}

void
worm_random_hex (char *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[64];
    size_t done = 0;
    while (done < len) {
        size_t chunk = (len - done + 1) / 2 < sizeof raw ? (len - done + 1) / 2 : sizeof raw;
        worm_random_bytes (raw, chunk);
        for (size_t i = 0; i < chunk && done < len; i++) {
            buf[done++] = digits[raw[i] >> 4];
            if (done < len)
                buf[done++] = digits[raw[i] & 15];
        }
    }
    buf[len] = 0;
}

uint64_t
worm_random_u64 (void)
{
    uint64_t value;
    worm_random_bytes (&value, sizeof value);
    return value;
}
