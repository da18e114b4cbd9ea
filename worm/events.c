/*  events.c — a host agent's event log on disk: framed msgpack records
    appended to STATE/log/events, rotated to events.1 at the size cap, read
    back in order with damaged records skipped (see events.h).

    A frame is a 24-byte header, then the record's map:
        0   0xC1 0x57     magic (0xC1 is no msgpack byte, so a map never
                          starts with it)
        2   uint16        bytes of the map (1 .. WORM_EVENTS_RECORD_MAX)
        4   uint64        seq
        12  int64         at (wall ms)
        20  uint32        FNV-1a of bytes 2..19 and the map
    all big-endian. Seq and time in the header let a read pass over the
    records it does not want without decoding them; the check tells a
    damaged record from a good one, and the magic lets a read find the next
    record after damage.
*/
#include "events.h"
#include "log.h"
#include "spawn.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_HEADER 24
#define S_MAGIC0 0xC1
#define S_MAGIC1 0x57
#define S_READ_MAX (64UL << 20)     //  a file larger than this is read only this far

struct _worm_events_t {
    char dir[PATH_MAX];             //  the log folder
    char path[PATH_MAX + 16];       //  its current file, events
    char old_path[PATH_MAX + 16];   //  and the one before, events.1
    char host[65];                  //  our host name, in every record
    char host_id[17];               //  our host id, in every record
    unsigned long max_bytes;        //  the size cap of one file; 0: no log
    int fd;                         //  the current file, appending; -1 when not open
    unsigned long size;             //  its size
    uint64_t seq;                   //  the last sequence number written
    uint64_t first;                 //  the first seq in the current file, 0: none
    uint64_t old_first;             //  the first seq in events.1, 0: none
    bool failing;                   //  a failure was said and no write worked since
    bool in_record;                 //  a record is begun and not committed
    worm_wire_writer_t writer;      //  the record being written
};

//  --------------------------------------------------------------------------
//  Frames

static uint32_t
s_fnv (uint32_t hash, const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        hash ^= data[i];
        hash *= 16777619u;
    }
    return hash;
}

static void
s_put (uint8_t *at, uint64_t value, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        at[i] = (uint8_t) value;
        value >>= 8;
    }
}

static uint64_t
s_get (const uint8_t *at, int bytes)
{
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++)
        value = value << 8 | at[i];
    return value;
}

//  The check of a frame whose header is at header, map of size bytes after it.
static uint32_t
s_check (const uint8_t *header, const uint8_t *map, size_t size)
{
    return s_fnv (s_fnv (2166136261u, header + 2, 18), map, size);
}

//  Calls fn for every good frame in buf (a whole file, named name), passing
//  damaged ones over: each stretch of damage is counted once, the first
//  reason kept in scan. fn returns 0 to go on, 1 to stop; returns that.
typedef int (s_frame_fn) (void *arg, const worm_event_t *event);

static int
s_scan (const uint8_t *buf, size_t size, const char *name, s_frame_fn *fn, void *arg,
        worm_events_scan_t *scan)
{
    size_t at = 0;
    bool damaged = false;   //  in a stretch of damage already counted
    while (at < size) {
        char why[128] = "";
        size_t length = 0;
        if (size - at < S_HEADER)
            snprintf (why, sizeof why, "a truncated record at byte %zu of %s", at, name);
        else if (buf[at] != S_MAGIC0 || buf[at + 1] != S_MAGIC1)
            snprintf (why, sizeof why, "no record at byte %zu of %s", at, name);
        else {
            length = (size_t) s_get (buf + at + 2, 2);
            if (length == 0 || length > WORM_EVENTS_RECORD_MAX)
                snprintf (why, sizeof why, "a record of %zu bytes at byte %zu of %s", length, at,
                          name);
            else if (length > size - at - S_HEADER)
                snprintf (why, sizeof why, "a truncated record at byte %zu of %s", at, name);
            else if (s_check (buf + at, buf + at + S_HEADER, length)
                     != (uint32_t) s_get (buf + at + 20, 4))
                snprintf (why, sizeof why, "a damaged record at byte %zu of %s (its check "
                                           "does not match)", at, name);
            else {
                char err[WORM_WIRE_ERROR_MAX];
                if (buf[at + S_HEADER] < 0x80 || (buf[at + S_HEADER] > 0x8f
                                                  && buf[at + S_HEADER] != 0xde
                                                  && buf[at + S_HEADER] != 0xdf))
                    snprintf (why, sizeof why, "a record at byte %zu of %s is not a map", at,
                              name);
                else if (worm_wire_check (buf + at + S_HEADER, length, WORM_WIRE_MAX_DEPTH, err,
                                          sizeof err))
                    snprintf (why, sizeof why, "a record at byte %zu of %s does not decode: %s",
                              at, name, err);
            }
        }
        if (why[0]) {
            if (!damaged) {
                if (!scan->skipped++)
                    snprintf (scan->why, sizeof scan->why, "%s", why);
                damaged = true;
            }
            //  On to the next magic: a record may begin there
            const uint8_t *next = memchr (buf + at + 1, S_MAGIC0, size - at - 1);
            at = next ? (size_t) (next - buf) : size;
            continue;
        }
        damaged = false;
        worm_event_t event = {.seq = s_get (buf + at + 4, 8),
                              .at_ms = (int64_t) s_get (buf + at + 12, 8),
                              .data = buf + at + S_HEADER,
                              .size = length};
        if (fn (arg, &event))
            return 1;
        at += S_HEADER + length;
    }
    return 0;
}

//  Reads the whole file at path (at most S_READ_MAX) into *buf (the caller
//  frees it). A file that is not there is empty. Returns 0, or -1 with errno.
static int
s_slurp (const char *path, uint8_t **buf, size_t *size)
{
    *buf = NULL;
    *size = 0;
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    int failed = fstat (fd, &st) ? errno : !S_ISREG (st.st_mode) ? EINVAL : 0;
    if (failed) {
        close (fd);
        errno = failed;
        return -1;
    }
    size_t want = (size_t) st.st_size < S_READ_MAX ? (size_t) st.st_size : S_READ_MAX;
    *buf = malloc (want + 1);
    size_t got = 0;
    while (got < want) {
        ssize_t n = read (fd, *buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    close (fd);
    *size = got;
    return 0;
}

//  --------------------------------------------------------------------------
//  Writing

//  Says a failure on stderr, once until a write works again.
static void __attribute__ ((format (printf, 2, 3)))
s_fail (worm_events_t *self, const char *fmt, ...)
{
    if (self->failing)
        return;
    self->failing = true;
    char text[PATH_MAX + 256];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    worm_log ("event log: %s; events are not recorded until a write works again", text);
}

//  Opens the current file for appending when it is not open. Returns 0 or -1.
static int
s_open_file (worm_events_t *self)
{
    if (self->fd >= 0)
        return 0;
    if (worm_mkdirs (self->dir, 0700) && errno != EEXIST) {
        s_fail (self, "cannot make %s: %s", self->dir, strerror (errno));
        return -1;
    }
    self->fd = open (self->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct stat st;
    if (self->fd < 0 || fstat (self->fd, &st)) {
        s_fail (self, "cannot open %s: %s", self->path, strerror (errno));
        if (self->fd >= 0)
            close (self->fd);
        self->fd = -1;
        return -1;
    }
    if ((st.st_mode & 0777) != 0600)
        fchmod (self->fd, 0600);
    self->size = (unsigned long) st.st_size;
    return 0;
}

//  The current file becomes events.1 (the former one goes) and a new one
//  is begun. When it cannot be renamed, it is emptied: the cap holds.
static void
s_rotate (worm_events_t *self)
{
    close (self->fd);
    self->fd = -1;
    if (rename (self->path, self->old_path) == 0)
        self->old_first = self->first;
    else {
        worm_log ("event log: cannot rename %s: %s; emptied it instead", self->path,
                  strerror (errno));
        if (truncate (self->path, 0))
            unlink (self->path);
    }
    self->first = 0;
    self->size = 0;
    s_open_file (self);
}

//  Notes the first and last seq of each file (at start).
typedef struct {
    uint64_t first, last;
} s_bounds_t;

static int
s_bound (void *arg, const worm_event_t *event)
{
    s_bounds_t *bounds = (s_bounds_t *) arg;
    if (!bounds->first)
        bounds->first = event->seq;
    if (event->seq > bounds->last)
        bounds->last = event->seq;
    return 0;
}

worm_events_t *
worm_events_new (const char *dir, const char *host, const char *host_id, unsigned long max_bytes)
{
    worm_events_t *self = calloc (1, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    snprintf (self->path, sizeof self->path, "%s/%s", dir, WORM_EVENTS_FILE);
    snprintf (self->old_path, sizeof self->old_path, "%s/%s", dir, WORM_EVENTS_OLD_FILE);
    snprintf (self->host, sizeof self->host, "%s", host);
    snprintf (self->host_id, sizeof self->host_id, "%s", host_id);
    self->max_bytes = max_bytes && max_bytes < WORM_EVENTS_MIN_MAX ? WORM_EVENTS_MIN_MAX
                                                                    : max_bytes;
    self->fd = -1;
    if (!self->max_bytes)
        return self;
    //  Where the sequence stands: the newest record of either file
    const char *paths[2] = {self->old_path, self->path};
    uint64_t *firsts[2] = {&self->old_first, &self->first};
    for (int i = 0; i < 2; i++) {
        uint8_t *buf;
        size_t size;
        worm_events_scan_t scan = {0};
        s_bounds_t bounds = {0, 0};
        if (s_slurp (paths[i], &buf, &size))
            s_fail (self, "cannot read %s: %s", paths[i], strerror (errno));
        else
            s_scan (buf, size, paths[i], s_bound, &bounds, &scan);
        free (buf);
        if (scan.skipped)
            worm_log ("event log: %u damaged stretch(es) skipped, the first: %s", scan.skipped,
                      scan.why);
        *firsts[i] = bounds.first;
        if (bounds.last > self->seq)
            self->seq = bounds.last;
    }
    if (s_open_file (self) == 0)
        self->failing = false;
    return self;
}

void
worm_events_destroy (worm_events_t **self_p)
{
    worm_events_t *self = *self_p;
    if (!self)
        return;
    if (self->in_record)
        worm_wire_writer_fini (&self->writer);
    if (self->fd >= 0)
        close (self->fd);
    free (self);
    *self_p = NULL;
}

worm_wire_writer_t *
worm_events_begin (worm_events_t *self, const char *kind)
{
    assert (!self->in_record);
    self->in_record = true;
    worm_wire_writer_init (&self->writer);
    worm_wire_map_open (&self->writer);
    worm_wire_ku64 (&self->writer, "seq", self->seq + 1);
    worm_wire_ki64 (&self->writer, "at", worm_wall_ms ());
    worm_wire_kstr (&self->writer, "host", self->host);
    worm_wire_kstr (&self->writer, "host_id", self->host_id);
    worm_wire_kstr (&self->writer, "kind", kind);
    return &self->writer;
}

int
worm_events_commit (worm_events_t *self)
{
    assert (self->in_record);
    self->in_record = false;
    worm_wire_map_close (&self->writer);
    const uint8_t *map = (const uint8_t *) worm_wire_writer_data (&self->writer);
    size_t size = worm_wire_writer_size (&self->writer);
    int rc = -1;
    if (!self->max_bytes)
        goto done;
    //  The time and seq of the map, for the header: read back from it
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    int64_t at = 0;
    if (worm_wire_parse (&reader, map, size, WORM_EVENTS_RECORD_MAX)
        || worm_wire_get_i64 (&reader, reader.root, "at", &at)) {
        worm_log ("event log: a record of %zu bytes was not written: %s", size, reader.error);
        worm_wire_reader_fini (&reader);
        goto done;
    }
    worm_wire_reader_fini (&reader);
    uint8_t frame[S_HEADER + WORM_EVENTS_RECORD_MAX];
    frame[0] = S_MAGIC0;
    frame[1] = S_MAGIC1;
    s_put (frame + 2, size, 2);
    s_put (frame + 4, self->seq + 1, 8);
    s_put (frame + 12, (uint64_t) at, 8);
    memcpy (frame + S_HEADER, map, size);
    s_put (frame + 20, s_check (frame, map, size), 4);
    size_t total = S_HEADER + size;
    if (s_open_file (self))
        goto done;
    if (self->size && self->size + total > self->max_bytes) {
        s_rotate (self);
        if (self->fd < 0)
            goto done;
    }
    size_t written = 0;
    while (written < total) {
        ssize_t n = write (self->fd, frame + written, total - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s_fail (self, "cannot write %s: %s", self->path, n < 0 ? strerror (errno) : "no room");
            break;
        }
        written += (size_t) n;
    }
    //  A part written is damage a read skips; the size counts it all the same
    self->size += written;
    if (written < total)
        goto done;
    if (self->failing)
        worm_log ("event log: %s is written again", self->path);
    self->failing = false;
    self->seq++;
    if (!self->first)
        self->first = self->seq;
    rc = 0;
done:
    worm_wire_writer_fini (&self->writer);
    return rc;
}

uint64_t
worm_events_last (const worm_events_t *self)
{
    return self->seq;
}

//  --------------------------------------------------------------------------
//  Reading

typedef struct {
    uint64_t after;             //  records up to this seq are not wanted
    int64_t since_ms;           //  nor those older than this
    worm_events_fn *fn;         //  the caller's
    void *arg;                  //  and its argument
    worm_events_scan_t *scan;   //  what the read found
} s_read_t;

static int
s_read_one (void *arg, const worm_event_t *event)
{
    s_read_t *read = (s_read_t *) arg;
    if (event->seq <= read->after)
        return 0;
    if (event->at_ms >= read->since_ms && read->fn (read->arg, event)) {
        read->scan->more = true;
        return 1;
    }
    //  Taken, or passed over for its time: the cursor moves past it
    if (event->seq > read->scan->next)
        read->scan->next = event->seq;
    return 0;
}

int
worm_events_read (worm_events_t *self, uint64_t after, int64_t since_ms, worm_events_fn *fn,
                  void *arg, worm_events_scan_t *scan)
{
    memset (scan, 0, sizeof *scan);
    scan->next = after;
    scan->first = self->old_first ? self->old_first : self->first;
    scan->last = self->seq;
    //  Nothing newer than the cursor: no need to read a byte
    if (!self->max_bytes || after >= self->seq)
        return 0;
    s_read_t read = {after, since_ms, fn, arg, scan};
    //  The older file holds nothing newer than the cursor when the current
    //  file begins at or before it
    bool old_wanted = !(self->first && self->first <= after + 1);
    const char *paths[2] = {self->old_path, self->path};
    for (int i = old_wanted ? 0 : 1; i < 2; i++) {
        uint8_t *buf;
        size_t size;
        if (s_slurp (paths[i], &buf, &size)) {
            snprintf (scan->why, sizeof scan->why, "cannot read %s: %s", paths[i],
                      strerror (errno));
            return -1;
        }
        int stopped = s_scan (buf, size, i ? WORM_EVENTS_FILE : WORM_EVENTS_OLD_FILE,
                              s_read_one, &read, scan);
        free (buf);
        if (stopped)
            break;
    }
    return 0;
}
