/*  fuzz_ring.c — libFuzzer harness for a segment's ring: every input is a
    message from a peer to a segment that holds a worm's token; the ring
    must refuse or handle it, never crash, and keep its state sane. */
#include "ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    worm_ring_config_t config;
    worm_ring_config_defaults (&config);
    snprintf (config.worm_id, sizeof config.worm_id, "w0");
    snprintf (config.self.id, sizeof config.self.id, "s1");
    snprintf (config.self.host, sizeof config.self.host, "h1");
    snprintf (config.self.host_id, sizeof config.self.host_id, "0123456789abcdef");
    snprintf (config.self.endpoint, sizeof config.self.endpoint, "tcp://127.0.0.1:1");
    config.self.pid = 1;
    worm_ring_t *ring = worm_ring_new (&config, 1000);
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, "w0");
    worm_token_set_worm_name (token, "fuzz");
    worm_token_set_app_name (token, "existential");
    worm_token_set_population (token, 3, 4);
    if (worm_ring_found (ring, &token, 1000))
        abort ();
    //  The input may hold several messages: split on a 0xff 0xfe marker
    uint64_t now = 1000;
    const uint8_t *at = data;
    size_t left = size;
    while (left) {
        const uint8_t *cut = NULL;
        for (size_t i = 0; i + 1 < left; i++)
            if (at[i] == 0xff && at[i + 1] == 0xfe) {
                cut = at + i;
                break;
            }
        size_t piece = cut ? (size_t) (cut - at) : left;
        worm_ring_receive (ring, at, piece, now);
        while (worm_ring_action (ring))
            ;
        now += 150;
        worm_ring_tick (ring, now);
        while (worm_ring_action (ring))
            ;
        at += cut ? piece + 2 : piece;
        left -= cut ? piece + 2 : piece;
    }
    if (worm_ring_token (ring) && worm_token_member_count (worm_ring_token (ring)) > WORM_TOKEN_MAX_MEMBERS)
        abort ();
    worm_ring_destroy (&ring);
    return 0;
}
