/*  beacon_test.c — the discovery codec: round trips and hostile datagrams. */
#include "beacon.h"
#include "../tests/check.h"

static worm_hostinfo_t
s_sample_host (void)
{
    worm_hostinfo_t host = {.willing = true, .load = 0.5, .idle_s = 120, .segments = 1,
                            .max_segments = 4, .interval_ms = 1000};
    snprintf (host.id, sizeof host.id, "0123456789abcdef");
    snprintf (host.name, sizeof host.name, "host-1.lab");
    snprintf (host.endpoint, sizeof host.endpoint, "tcp://10.0.0.1:4000");
    snprintf (host.key, sizeof host.key, "%s", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    snprintf (host.reason, sizeof host.reason, "idle");
    snprintf (host.caps, sizeof host.caps, "spawn,ring");
    return host;
}

//  Encodes msg; returns the bytes in buf and their size.
static size_t
s_encode (const worm_beacon_t *msg, char *buf, size_t cap)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_beacon_encode (msg, &writer);
    size_t size = worm_wire_writer_size (&writer);
    CHECK (size <= cap);
    memcpy (buf, worm_wire_writer_data (&writer), size);
    worm_wire_writer_fini (&writer);
    return size;
}

static void
s_round_trips (void)
{
    char buf[WORM_BEACON_MAX];
    char err[WORM_WIRE_ERROR_MAX];
    worm_beacon_t in = {.kind = WORM_BEACON_ANNOUNCE, .host = s_sample_host ()}, out;
    size_t size = s_encode (&in, buf, sizeof buf);
    CHECK_EQ (worm_beacon_decode (buf, size, &out, err, sizeof err), 0);
    CHECK_EQ (out.kind, WORM_BEACON_ANNOUNCE);
    CHECK_STR (out.host.id, in.host.id);
    CHECK_STR (out.host.name, in.host.name);
    CHECK_STR (out.host.endpoint, in.host.endpoint);
    CHECK_STR (out.host.key, in.host.key);
    CHECK_STR (out.host.reason, "idle");
    CHECK_STR (out.host.caps, "spawn,ring");
    CHECK (out.host.willing);
    CHECK (out.host.load == 0.5);
    CHECK (out.host.idle_s == 120);
    CHECK_EQ (out.host.segments, 1);
    CHECK_EQ (out.host.max_segments, 4);
    CHECK_EQ (out.host.interval_ms, 1000);

    in = (worm_beacon_t){.kind = WORM_BEACON_QUERY, .qid = 0xdeadbeefcafeULL, .all = true};
    size = s_encode (&in, buf, sizeof buf);
    CHECK_EQ (worm_beacon_decode (buf, size, &out, err, sizeof err), 0);
    CHECK_EQ (out.kind, WORM_BEACON_QUERY);
    CHECK (out.qid == 0xdeadbeefcafeULL);
    CHECK (out.all);

    in = (worm_beacon_t){.kind = WORM_BEACON_ANSWER, .qid = 7, .host = s_sample_host ()};
    size = s_encode (&in, buf, sizeof buf);
    CHECK_EQ (worm_beacon_decode (buf, size, &out, err, sizeof err), 0);
    CHECK_EQ (out.kind, WORM_BEACON_ANSWER);
    CHECK_EQ (out.qid, 7);
    CHECK_STR (out.host.name, "host-1.lab");

    //  A death notice, and one whose segment id is not an id
    in = (worm_beacon_t){.kind = WORM_BEACON_DEAD};
    snprintf (in.worm_id, sizeof in.worm_id, "0123abcd4567ef89");
    snprintf (in.segment, sizeof in.segment, "host-1.lab-1a2b3c4d");
    size = s_encode (&in, buf, sizeof buf);
    CHECK_EQ (worm_beacon_decode (buf, size, &out, err, sizeof err), 0);
    CHECK_EQ (out.kind, WORM_BEACON_DEAD);
    CHECK_STR (out.worm_id, "0123abcd4567ef89");
    CHECK_STR (out.segment, "host-1.lab-1a2b3c4d");
    snprintf (in.segment, sizeof in.segment, "rm -rf /");
    size = s_encode (&in, buf, sizeof buf);
    CHECK_EQ (worm_beacon_decode (buf, size, &out, err, sizeof err), -1);
    CHECK_HAS (err, "field 'worm' or 'seg'");
}

//  Builds a beacon map by hand, with one field replaced by a bad value.
static size_t
s_forge (char *buf, size_t cap, const char *bad_key, void (*bad_value) (worm_wire_writer_t *),
         uint64_t version)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 3);
    worm_wire_kstr (&writer, "t", "beacon");
    worm_wire_ku64 (&writer, "v", version);
    worm_wire_str (&writer, "host");
    worm_hostinfo_t host = s_sample_host ();
    //  The host map, with bad_key's value swapped
    const char *keys[] = {"id", "name", "ep", "willing", "reason", "load",
                          "idle", "segs", "max", "int", "caps", "key"};
    worm_wire_map (&writer, 12);
    for (size_t i = 0; i < 12; i++) {
        worm_wire_str (&writer, keys[i]);
        if (bad_key && strcmp (keys[i], bad_key) == 0) {
            bad_value (&writer);
            continue;
        }
        switch (i) {
        case 0: worm_wire_str (&writer, host.id); break;
        case 1: worm_wire_str (&writer, host.name); break;
        case 2: worm_wire_str (&writer, host.endpoint); break;
        case 3: worm_wire_bool (&writer, true); break;
        case 4: worm_wire_str (&writer, host.reason); break;
        case 5: worm_wire_f64 (&writer, host.load); break;
        case 6: worm_wire_f64 (&writer, host.idle_s); break;
        case 7: worm_wire_u64 (&writer, 1); break;
        case 8: worm_wire_u64 (&writer, 4); break;
        case 9: worm_wire_u64 (&writer, 1000); break;
        case 10: worm_wire_array (&writer, 0); break;
        case 11: worm_wire_str (&writer, host.key); break;
        }
    }
    size_t size = worm_wire_writer_size (&writer);
    CHECK (size <= cap);
    memcpy (buf, worm_wire_writer_data (&writer), size);
    worm_wire_writer_fini (&writer);
    return size;
}

static void s_str_yes (worm_wire_writer_t *w) { worm_wire_str (w, "yes"); }
static void s_bad_id (worm_wire_writer_t *w) { worm_wire_str (w, "XYZ"); }
static void s_bad_name (worm_wire_writer_t *w) { worm_wire_str (w, "rm -rf /"); }
static void s_bad_ep (worm_wire_writer_t *w) { worm_wire_str (w, "ipc:///tmp/x"); }
static void s_neg (worm_wire_writer_t *w) { worm_wire_i64 (w, -5); }
static void s_huge (worm_wire_writer_t *w) { worm_wire_u64 (w, 1u << 20); }
static void s_zero (worm_wire_writer_t *w) { worm_wire_u64 (w, 0); }
static void s_long_reason (worm_wire_writer_t *w)
{
    char text[200];
    memset (text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    worm_wire_str (w, text);
}
static void s_many_caps (worm_wire_writer_t *w)
{
    worm_wire_array (w, 20);
    for (int i = 0; i < 20; i++)
        worm_wire_str (w, "cap");
}
static void s_caps_int (worm_wire_writer_t *w)
{
    worm_wire_array (w, 1);
    worm_wire_u64 (w, 3);
}

static void
s_hostile (void)
{
    char buf[WORM_BEACON_MAX * 2];
    char err[WORM_WIRE_ERROR_MAX];
    worm_beacon_t out;
    //  The forged baseline decodes, so each failure below is the bad field's
    size_t size = s_forge (buf, sizeof buf, NULL, NULL, WORM_PROTOCOL_VERSION);
    CHECK_EQ (worm_beacon_decode (buf, size, &out, err, sizeof err), 0);

    struct {
        const char *key;
        void (*value) (worm_wire_writer_t *);
        const char *error;
    } cases[] = {
        {"willing", s_str_yes, "field 'willing': expected a boolean"},
        {"id", s_bad_id, "field 'id'"},
        {"name", s_bad_name, "field 'name'"},
        {"ep", s_bad_ep, "field 'ep'"},
        {"key", s_str_yes, "field 'key'"},
        {"segs", s_neg, "field 'segs'"},
        {"max", s_huge, "above 4096"},
        {"int", s_zero, "field 'int'"},
        {"load", s_str_yes, "field 'load': expected a number"},
        {"reason", s_long_reason, "exceeds"},
        {"caps", s_many_caps, "elements exceed"},
        {"caps", s_caps_int, "caps[]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size = s_forge (buf, sizeof buf, cases[i].key, cases[i].value, WORM_PROTOCOL_VERSION);
        CHECK_EQ (worm_beacon_decode (buf, size, &out, err, sizeof err), -1);
        CHECK_HAS (err, cases[i].error);
    }
    //  Wrong version
    size = s_forge (buf, sizeof buf, NULL, NULL, 2);
    CHECK_EQ (worm_beacon_decode (buf, size, &out, err, sizeof err), -1);
    CHECK_HAS (err, "protocol version 2");
    //  Truncated at every byte, and trailing bytes
    size = s_forge (buf, sizeof buf, NULL, NULL, WORM_PROTOCOL_VERSION);
    for (size_t cut = 0; cut < size; cut++)
        CHECK_EQ (worm_beacon_decode (buf, cut, &out, err, sizeof err), -1);
    buf[size] = 0x00;
    CHECK_EQ (worm_beacon_decode (buf, size + 1, &out, err, sizeof err), -1);
    CHECK_HAS (err, "trailing");
    //  Oversize
    memset (buf, 0xc0, sizeof buf);
    CHECK_EQ (worm_beacon_decode (buf, WORM_BEACON_MAX + 1, &out, err, sizeof err), -1);
    CHECK_HAS (err, "exceeds");
    //  Unknown type and missing fields
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kstr (&writer, "t", "hello");
    worm_wire_ku64 (&writer, "v", 1);
    CHECK_EQ (worm_beacon_decode (worm_wire_writer_data (&writer), worm_wire_writer_size (&writer),
                                  &out, err, sizeof err),
              -1);
    CHECK_HAS (err, "unknown message type 'hello'");
    worm_wire_writer_fini (&writer);
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kstr (&writer, "t", "query");
    worm_wire_ku64 (&writer, "v", 1);
    CHECK_EQ (worm_beacon_decode (worm_wire_writer_data (&writer), worm_wire_writer_size (&writer),
                                  &out, err, sizeof err),
              -1);
    CHECK_HAS (err, "missing field 'qid'");
    worm_wire_writer_fini (&writer);
    //  Every single-byte corruption of a valid beacon is decoded or refused, never a crash;
    //  whatever decodes still satisfies the record's invariants
    size = s_forge (buf, sizeof buf, NULL, NULL, WORM_PROTOCOL_VERSION);
    char copy[WORM_BEACON_MAX * 2];
    int decoded = 0;
    for (size_t at = 0; at < size; at++)
        for (int value = 0; value < 256; value += 7) {
            memcpy (copy, buf, size);
            copy[at] = (char) value;
            if (worm_beacon_decode (copy, size, &out, err, sizeof err) == 0) {
                decoded++;
                CHECK (worm_name_valid (out.host.name));
                CHECK (strlen (out.host.id) == WORM_HOST_ID_LEN);
                CHECK (out.host.max_segments <= 4096);
            }
        }
    CHECK (decoded > 0);
}

int
main (void)
{
    s_round_trips ();
    s_hostile ();
    CHECK (worm_name_valid ("a"));
    CHECK (!worm_name_valid (""));
    CHECK (!worm_name_valid ("a b"));
    CHECK (!worm_name_valid ("0123456789012345678901234567890123456789012345678901234567890123x"));
    return check_done ("worm.beacon");
}
