/*  wire.h — the one msgpack codec helper of the project.

    Every message on the wire (beacons, queries, control requests, tokens) is
    one msgpack map with string keys. This module writes such maps and reads
    them back treating the bytes as hostile: a structural pre-scan bounds
    depth, counts and sizes before msgpack-c allocates anything, trailing
    bytes are refused, and the typed getters check type and size and say
    which field was wrong. It sits at the bottom of the design (token/), so
    it knows nothing of sockets.
*/
#ifndef WORM_WIRE_H_INCLUDED
#define WORM_WIRE_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_WIRE_MAX_DEPTH 16
#define WORM_WIRE_ERROR_MAX 160

/*  One container being written: a map whose entries the writer counts, or
    a container of a count given up front. */
typedef struct {
    bool counted;                   //  a map opened with worm_wire_map_open
    size_t at;                      //  counted: offset of its header byte
    size_t items;                   //  counted: keys and values written into it so far
    size_t remaining;               //  given count: values still to come
} worm_wire_frame_t;

/*  A writer. Lives on the caller's stack; init before use, fini after. */
typedef struct {
    msgpack_sbuffer sbuf;                               //  the bytes written
    msgpack_packer pk;                                  //  msgpack-c's packer into sbuf
    worm_wire_frame_t frames[WORM_WIRE_MAX_DEPTH];      //  the containers still open, outermost first
    int depth;                                          //  how many frames are open
} worm_wire_writer_t;

void worm_wire_writer_init (worm_wire_writer_t *self);
void worm_wire_writer_fini (worm_wire_writer_t *self);
/*  The message written: every container must be complete (asserted). */
const char *worm_wire_writer_data (worm_wire_writer_t *self);
size_t worm_wire_writer_size (worm_wire_writer_t *self);

/*  A map that counts its own entries: open it, write key/value pairs (any
    value, nested containers included), close it. The bytes are those of
    worm_wire_map with the right count (the smallest msgpack header). Closing
    what is not an open counted map, or after an odd number of items, is a
    programmer's error (asserted). Opens and closes nest up to
    WORM_WIRE_MAX_DEPTH containers. */
void worm_wire_map_open (worm_wire_writer_t *self);
void worm_wire_map_close (worm_wire_writer_t *self);
/*  Containers of a count known up front: the caller then writes exactly n
    values (a map: n key/value pairs); the writer checks the count (asserted
    when a counted map around it closes or the message is taken). */
void worm_wire_map (worm_wire_writer_t *self, size_t n);
void worm_wire_array (worm_wire_writer_t *self, size_t n);
/*  A map's key (a string). */
void worm_wire_key (worm_wire_writer_t *self, const char *key);
/*  One value copied from a parsed message (a container with all it holds). */
void worm_wire_object (worm_wire_writer_t *self, const msgpack_object *value);
/*  One value given as its msgpack bytes (another writer's whole message, say). */
void worm_wire_encoded (worm_wire_writer_t *self, const void *data, size_t size);
/*  Scalars. worm_wire_str writes nil for a NULL string. */
void worm_wire_str (worm_wire_writer_t *self, const char *value);
void worm_wire_u64 (worm_wire_writer_t *self, uint64_t value);
void worm_wire_i64 (worm_wire_writer_t *self, int64_t value);
void worm_wire_f64 (worm_wire_writer_t *self, double value);
void worm_wire_bool (worm_wire_writer_t *self, bool value);
void worm_wire_bin (worm_wire_writer_t *self, const void *data, size_t size);
void worm_wire_nil (worm_wire_writer_t *self);
/*  A key followed by its value, for the common map entries. */
void worm_wire_kstr (worm_wire_writer_t *self, const char *key, const char *value);
void worm_wire_ku64 (worm_wire_writer_t *self, const char *key, uint64_t value);
void worm_wire_ki64 (worm_wire_writer_t *self, const char *key, int64_t value);
void worm_wire_kf64 (worm_wire_writer_t *self, const char *key, double value);
void worm_wire_kbool (worm_wire_writer_t *self, const char *key, bool value);
void worm_wire_kbin (worm_wire_writer_t *self, const char *key, const void *data, size_t size);

/*  A parsed message. The objects it hands out live until fini. */
typedef struct {
    msgpack_unpacked unpacked;           //  msgpack-c's result and zone
    char *copy;                          //  our copy of the bytes, which objects point into
    const msgpack_object *root;          //  the top-level map, after parse
    char error[WORM_WIRE_ERROR_MAX];     //  why the last call failed
} worm_wire_reader_t;

/*  Checks that data holds exactly one well-formed msgpack object no deeper
    than max_depth, whose every container count fits in the bytes left, and
    that uses no ext types. Returns 0, or -1 with the reason in err. */
int worm_wire_check (const void *data, size_t size, int max_depth, char *err, size_t errcap);

/*  Parses one message of at most max_size bytes whose top level must be a
    map. The reader keeps its own copy of the bytes, so the caller may free
    data at once. Returns 0, or -1 with self->error set. Always call fini. */
void worm_wire_reader_init (worm_wire_reader_t *self);
int worm_wire_parse (worm_wire_reader_t *self, const void *data, size_t size, size_t max_size);
void worm_wire_reader_fini (worm_wire_reader_t *self);

/*  Field getters on a map object. Each returns 0 when the key is present and
    of the right type and size (value written to the out-pointer), 1 when
    the key is absent (out untouched, self->error says "missing field"), and
    -1 when present but wrong (self->error names the field and the reason). */
const msgpack_object *worm_wire_field (const msgpack_object *map, const char *key);
int worm_wire_get_str (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                       char *buf, size_t cap);
int worm_wire_get_u64 (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                       uint64_t *value);
int worm_wire_get_i64 (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                       int64_t *value);
int worm_wire_get_f64 (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                       double *value);
int worm_wire_get_bool (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                        bool *value);
/*  Binary: *data points into the reader; at most max_size bytes. */
int worm_wire_get_bin (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                       const void **data, size_t *size, size_t max_size);
/*  Array: at most max_count elements. */
int worm_wire_get_array (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                         const msgpack_object_array **array, size_t max_count);
/*  Map: a nested map. */
int worm_wire_get_map (worm_wire_reader_t *self, const msgpack_object *map, const char *key,
                       const msgpack_object **value);
/*  Copies a string object (not a field) into buf; -1 when not a string, too
    long for cap, or holding a NUL byte. what names it in the error. */
int worm_wire_obj_str (worm_wire_reader_t *self, const msgpack_object *obj, const char *what,
                       char *buf, size_t cap);

#endif
