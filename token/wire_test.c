/*  wire_test.c — round trips and hostile input for the wire codec. */
#include "wire.h"
#include "../tests/check.h"

#include <stdio.h>
#include <string.h>

static void
s_round_trip (void)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map (&w, 7);
    worm_wire_kstr (&w, "name", "host1");
    worm_wire_ku64 (&w, "slots", 3);
    worm_wire_ki64 (&w, "delta", -42);
    worm_wire_kf64 (&w, "load", 0.25);
    worm_wire_kbool (&w, "willing", true);
    worm_wire_kbin (&w, "blob", "\x00\x01\x02", 3);
    worm_wire_str (&w, "list");
    worm_wire_array (&w, 2);
    worm_wire_str (&w, "a");
    worm_wire_str (&w, "b");

    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    CHECK_EQ (worm_wire_parse (&r, worm_wire_writer_data (&w), worm_wire_writer_size (&w), 1024), 0);
    char name[16];
    CHECK_EQ (worm_wire_get_str (&r, r.root, "name", name, sizeof name), 0);
    CHECK_STR (name, "host1");
    uint64_t slots = 0;
    CHECK_EQ (worm_wire_get_u64 (&r, r.root, "slots", &slots), 0);
    CHECK_EQ (slots, 3);
    int64_t delta = 0;
    CHECK_EQ (worm_wire_get_i64 (&r, r.root, "delta", &delta), 0);
    CHECK_EQ (delta, -42);
    double load = 0;
    CHECK_EQ (worm_wire_get_f64 (&r, r.root, "load", &load), 0);
    CHECK (load == 0.25);
    bool willing = false;
    CHECK_EQ (worm_wire_get_bool (&r, r.root, "willing", &willing), 0);
    CHECK (willing);
    const void *blob;
    size_t blob_size;
    CHECK_EQ (worm_wire_get_bin (&r, r.root, "blob", &blob, &blob_size, 16), 0);
    CHECK_EQ (blob_size, 3);
    CHECK (memcmp (blob, "\x00\x01\x02", 3) == 0);
    const msgpack_object_array *list;
    CHECK_EQ (worm_wire_get_array (&r, r.root, "list", &list, 8), 0);
    CHECK_EQ (list->size, 2);

    //  Wrong types and sizes name the field
    CHECK_EQ (worm_wire_get_u64 (&r, r.root, "name", &slots), -1);
    CHECK_HAS (r.error, "'name'");
    CHECK_EQ (worm_wire_get_str (&r, r.root, "name", name, 4), -1);
    CHECK_HAS (r.error, "exceeds");
    CHECK_EQ (worm_wire_get_u64 (&r, r.root, "delta", &slots), -1);
    CHECK_EQ (worm_wire_get_array (&r, r.root, "list", &list, 1), -1);
    CHECK_EQ (worm_wire_get_bin (&r, r.root, "blob", &blob, &blob_size, 2), -1);
    CHECK_EQ (worm_wire_get_bool (&r, r.root, "absent", &willing), 1);
    CHECK_HAS (r.error, "missing field 'absent'");
    worm_wire_reader_fini (&r);

    //  Every truncation of a valid message is refused, never crashes
    const char *data = worm_wire_writer_data (&w);
    size_t size = worm_wire_writer_size (&w);
    for (size_t cut = 0; cut < size; cut++) {
        worm_wire_reader_init (&r);
        CHECK_EQ (worm_wire_parse (&r, data, cut, 1024), -1);
        worm_wire_reader_fini (&r);
    }
    //  Trailing bytes are refused
    char padded[256];
    CHECK (size + 1 < sizeof padded);
    memcpy (padded, data, size);
    padded[size] = (char) 0xc0;
    worm_wire_reader_init (&r);
    CHECK_EQ (worm_wire_parse (&r, padded, size + 1, 1024), -1);
    CHECK_HAS (r.error, "trailing");
    worm_wire_reader_fini (&r);
    //  Oversize is refused before decoding
    worm_wire_reader_init (&r);
    CHECK_EQ (worm_wire_parse (&r, data, size, size - 1), -1);
    CHECK_HAS (r.error, "exceeds");
    worm_wire_reader_fini (&r);
    worm_wire_writer_fini (&w);
}

static void
s_hostile (void)
{
    char err[WORM_WIRE_ERROR_MAX];
    //  array32 claiming 4 billion elements in a 5-byte message
    const uint8_t huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    CHECK_EQ (worm_wire_check (huge_array, sizeof huge_array, 16, err, sizeof err), -1);
    CHECK_HAS (err, "exceeds");
    //  map32 likewise
    const uint8_t huge_map[] = {0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01};
    CHECK_EQ (worm_wire_check (huge_map, sizeof huge_map, 16, err, sizeof err), -1);
    //  str32 claiming more than is there
    const uint8_t long_str[] = {0xdb, 0x00, 0x01, 0x00, 0x00, 'a'};
    CHECK_EQ (worm_wire_check (long_str, sizeof long_str, 16, err, sizeof err), -1);
    CHECK_HAS (err, "truncated");
    //  nesting deeper than allowed
    uint8_t deep[40];
    memset (deep, 0x91, sizeof deep);
    deep[sizeof deep - 1] = 0x01;
    CHECK_EQ (worm_wire_check (deep, sizeof deep, 16, err, sizeof err), -1);
    CHECK_HAS (err, "deeper");
    //  the reserved byte and ext types
    const uint8_t reserved[] = {0xc1};
    CHECK_EQ (worm_wire_check (reserved, 1, 16, err, sizeof err), -1);
    const uint8_t ext[] = {0xd4, 0x01, 0x02};
    CHECK_EQ (worm_wire_check (ext, sizeof ext, 16, err, sizeof err), -1);
    CHECK_HAS (err, "ext");
    //  not a map at the top
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    const uint8_t array[] = {0x91, 0x01};
    CHECK_EQ (worm_wire_parse (&r, array, sizeof array, 64), -1);
    CHECK_HAS (r.error, "not a map");
    worm_wire_reader_fini (&r);
    //  embedded NUL in a string field
    const uint8_t nul_str[] = {0x81, 0xa1, 'k', 0xa3, 'a', 0x00, 'b'};
    worm_wire_reader_init (&r);
    CHECK_EQ (worm_wire_parse (&r, nul_str, sizeof nul_str, 64), 0);
    char buf[16];
    CHECK_EQ (worm_wire_get_str (&r, r.root, "k", buf, sizeof buf), -1);
    CHECK_HAS (r.error, "NUL");
    worm_wire_reader_fini (&r);
    //  Random bytes never crash the reader
    srand (7);
    for (int round = 0; round < 20000; round++) {
        uint8_t noise[32];
        size_t len = 1 + (size_t) rand () % sizeof noise;
        for (size_t i = 0; i < len; i++)
            noise[i] = (uint8_t) rand ();
        worm_wire_reader_init (&r);
        (void) worm_wire_parse (&r, noise, len, 64);
        worm_wire_reader_fini (&r);
    }
    CHECK (true);
}

//  The bytes of two writers are the same message.
static void
s_same (worm_wire_writer_t *a, worm_wire_writer_t *b)
{
    CHECK_EQ (worm_wire_writer_size (a), worm_wire_writer_size (b));
    CHECK (memcmp (worm_wire_writer_data (a), worm_wire_writer_data (b), worm_wire_writer_size (a)) == 0);
}

//  A map of n entries "k0".."k(n-1)" -> i, counted by hand or by the writer.
static void
s_entries (worm_wire_writer_t *w, size_t n, bool counted)
{
    if (counted)
        worm_wire_map_open (w);
    else
        worm_wire_map (w, n);
    for (size_t i = 0; i < n; i++) {
        char key[16];
        snprintf (key, sizeof key, "k%zu", i);
        worm_wire_ku64 (w, key, i);
    }
    if (counted)
        worm_wire_map_close (w);
}

//  Counted maps write the bytes a hand count writes, at every header size
//  (fixmap, map16, map32), nested in each other and around given containers.
static void
s_counted (void)
{
    size_t sizes[] = {0, 1, 15, 16, 17, 65535, 65536, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        worm_wire_writer_t a, b;
        worm_wire_writer_init (&a);
        worm_wire_writer_init (&b);
        s_entries (&a, sizes[i], false);
        s_entries (&b, sizes[i], true);
        s_same (&a, &b);
        worm_wire_reader_t r;
        worm_wire_reader_init (&r);
        CHECK_EQ (worm_wire_parse (&r, worm_wire_writer_data (&b), worm_wire_writer_size (&b),
                                   worm_wire_writer_size (&b)), 0);
        CHECK_EQ (r.root->via.map.size, sizes[i]);
        worm_wire_reader_fini (&r);
        worm_wire_writer_fini (&a);
        worm_wire_writer_fini (&b);
    }
    //  {"a": [1, {"x": 2}, {}], "b": {20 entries}, "c": {"d": {}}, "e": nil}
    worm_wire_writer_t a, b;
    worm_wire_writer_init (&a);
    worm_wire_writer_init (&b);
    worm_wire_map (&a, 4);
    worm_wire_key (&a, "a");
    worm_wire_array (&a, 3);
    worm_wire_u64 (&a, 1);
    worm_wire_map (&a, 1);
    worm_wire_ku64 (&a, "x", 2);
    worm_wire_map (&a, 0);
    worm_wire_key (&a, "b");
    s_entries (&a, 20, false);
    worm_wire_key (&a, "c");
    worm_wire_map (&a, 1);
    worm_wire_key (&a, "d");
    worm_wire_map (&a, 0);
    worm_wire_key (&a, "e");
    worm_wire_nil (&a);

    worm_wire_map_open (&b);
    worm_wire_key (&b, "a");
    worm_wire_array (&b, 3);
    worm_wire_u64 (&b, 1);
    worm_wire_map_open (&b);
    worm_wire_ku64 (&b, "x", 2);
    worm_wire_map_close (&b);
    worm_wire_map_open (&b);
    worm_wire_map_close (&b);
    worm_wire_key (&b, "b");
    s_entries (&b, 20, true);
    worm_wire_key (&b, "c");
    worm_wire_map_open (&b);
    worm_wire_key (&b, "d");
    worm_wire_map (&b, 0);
    worm_wire_map_close (&b);
    worm_wire_key (&b, "e");
    worm_wire_nil (&b);
    worm_wire_map_close (&b);
    s_same (&a, &b);
    worm_wire_writer_fini (&a);
    worm_wire_writer_fini (&b);
    //  A value copied from a parsed message counts as one
    worm_wire_writer_init (&a);
    worm_wire_map (&a, 1);
    worm_wire_key (&a, "inner");
    s_entries (&a, 3, false);
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    CHECK_EQ (worm_wire_parse (&r, worm_wire_writer_data (&a), worm_wire_writer_size (&a), 1024), 0);
    worm_wire_writer_init (&b);
    worm_wire_map_open (&b);
    worm_wire_key (&b, "inner");
    worm_wire_object (&b, worm_wire_field (r.root, "inner"));
    worm_wire_map_close (&b);
    s_same (&a, &b);
    worm_wire_reader_fini (&r);
    worm_wire_writer_fini (&a);
    worm_wire_writer_fini (&b);
}

int
main (void)
{
    s_round_trip ();
    s_hostile ();
    s_counted ();
    return check_done ("token.wire");
}
