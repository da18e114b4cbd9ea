/*  fuzz_beacon.c — libFuzzer harness for the discovery datagram decoder.
    Whatever decodes must satisfy the host record's invariants. */
#include "beacon.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    worm_beacon_t msg;
    char err[WORM_WIRE_ERROR_MAX];
    if (worm_beacon_decode (data, size, &msg, err, sizeof err) == 0
        && msg.kind != WORM_BEACON_QUERY) {
        if (!worm_name_valid (msg.host.name) || strlen (msg.host.id) != WORM_HOST_ID_LEN
            || strncmp (msg.host.endpoint, "tcp://", 6) != 0 || msg.host.max_segments > 4096)
            abort ();
        //  A decoded record encodes and decodes to itself
        worm_wire_writer_t writer;
        worm_wire_writer_init (&writer);
        worm_beacon_encode (&msg, &writer);
        worm_beacon_t again;
        if (worm_beacon_decode (worm_wire_writer_data (&writer), worm_wire_writer_size (&writer),
                                &again, err, sizeof err)
            || strcmp (again.host.name, msg.host.name) != 0)
            abort ();
        worm_wire_writer_fini (&writer);
    }
    return 0;
}
