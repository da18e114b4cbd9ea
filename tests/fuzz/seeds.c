/*  worm-fuzz-seeds — writes valid messages into the fuzz corpora folders
    given, so each harness starts from inputs that decode.
    Usage: worm-fuzz-seeds BEACON-DIR TOKEN-DIR RING-DIR */
#include "beacon.h"
#include "ring.h"

#include <stdio.h>
#include <stdlib.h>

static void
s_write (const char *dir, const char *name, const void *data, size_t size)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (data, 1, size, file) != size)
        exit (1);
    fclose (file);
}

int
main (int argc, char **argv)
{
    if (argc != 4)
        return 2;
    worm_beacon_t beacon = {.kind = WORM_BEACON_ANNOUNCE, .host = {.willing = true, .load = 0.5,
                            .idle_s = 60, .segments = 1, .max_segments = 2, .interval_ms = 1000}};
    snprintf (beacon.host.id, sizeof beacon.host.id, "0123456789abcdef");
    snprintf (beacon.host.name, sizeof beacon.host.name, "host1");
    snprintf (beacon.host.endpoint, sizeof beacon.host.endpoint, "tcp://127.0.0.1:4000");
    snprintf (beacon.host.key, sizeof beacon.host.key, "%s", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    snprintf (beacon.host.reason, sizeof beacon.host.reason, "idle");
    snprintf (beacon.host.caps, sizeof beacon.host.caps, "spawn");
    const char *names[] = {NULL, "announce", "query", "answer"};
    for (int kind = 1; kind <= 3; kind++) {
        beacon.kind = (worm_beacon_kind_t) kind;
        beacon.qid = 42;
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_beacon_encode (&beacon, &writer);
        s_write (argv[1], names[kind], worm_wire_writer_data (&writer),
                 worm_wire_writer_size (&writer));
        worm_wire_writer_fini (&writer);
    }
    //  A token with members, spawns and params
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, "w0");
    worm_token_set_worm_name (token, "fuzz");
    worm_token_set_app_name (token, "existential");
    worm_token_set_population (token, 3, 4);
    worm_token_param_add (token, "key=value");
    for (int i = 0; i < 3; i++) {
        worm_member_t member = {.pid = (uint64_t) (100 + i), .born_at_ms = 5};
        snprintf (member.id, sizeof member.id, "s%d", i + 1);
        snprintf (member.host, sizeof member.host, "h%d", i + 1);
        snprintf (member.host_id, sizeof member.host_id, "%016d", i + 1);
        snprintf (member.endpoint, sizeof member.endpoint, "tcp://127.0.0.1:%d", 4000 + i);
        worm_token_member_add (token, &member);
    }
    worm_token_set_voters_from_live (token);
    worm_token_spawn_add (token, "sp1", "h4", "s1", 10);
    worm_token_set_app_state (token, "state", 5);
    uint8_t *bytes;
    size_t size;
    char err[256];
    if (worm_token_encode (token, &bytes, &size, err, sizeof err))
        return 1;
    s_write (argv[2], "token", bytes, size);
    free (bytes);
    worm_token_destroy (&token);
    //  Ring messages: what a founding segment sends when it holds and forwards
    worm_ring_config_t config;
    worm_ring_config_defaults (&config);
    snprintf (config.worm_id, sizeof config.worm_id, "w0");
    snprintf (config.self.id, sizeof config.self.id, "s2");
    snprintf (config.self.endpoint, sizeof config.self.endpoint, "tcp://127.0.0.1:2");
    worm_ring_t *ring = worm_ring_new (&config, 0);
    token = worm_token_new ();
    worm_token_set_worm_id (token, "w0");
    worm_token_set_worm_name (token, "fuzz");
    worm_token_set_app_name (token, "existential");
    worm_token_set_population (token, 2, 3);
    worm_ring_found (ring, &token, 0);
    int count = 0;
    for (uint64_t now = 0; now < 60000 && count < 8; now += 100) {
        worm_ring_tick (ring, now);
        const worm_ring_action_t *action;
        while ((action = worm_ring_action (ring))) {
            if (action->type == WORM_RING_SPAWN) {
                //  The new segment joins: the ring then sends it tokens
                worm_member_t member = {.pid = 7, .state = WORM_MEMBER_JOINING};
                snprintf (member.id, sizeof member.id, "s9");
                snprintf (member.host, sizeof member.host, "h9");
                snprintf (member.host_id, sizeof member.host_id, "0000000000000009");
                snprintf (member.endpoint, sizeof member.endpoint, "tcp://127.0.0.1:9");
                char spawn_id[64];
                snprintf (spawn_id, sizeof spawn_id, "%s", action->spawn_id);
                worm_ring_spawn_result (ring, spawn_id, &member, now);
                break;
            }
            if (action->type == WORM_RING_SEND && count < 8) {
                char name[32];
                snprintf (name, sizeof name, "message%d", count++);
                s_write (argv[3], name, action->data, action->size);
            }
        }
    }
    worm_ring_destroy (&ring);
    return 0;
}
