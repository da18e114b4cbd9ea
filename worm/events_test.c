/*  events_test.c — the event log on disk: records appended and read back
    in order, the sequence kept across a reopen, rotation bounding the
    files, paging and the time filter, and damaged or truncated records
    skipped with a reason while the rest still reads. */
#include "events.h"
#include "log.h"
#include "spawn.h"
#include "../tests/check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_CAP 8192

//  What a read collected
typedef struct {
    uint64_t seqs[4096];
    int count;
    int limit;          //  take at most this many (a page), 0: all
    bool maps_ok;       //  every record decoded as a map with seq and kind
} s_got_t;

static int
s_take (void *arg, const worm_event_t *event)
{
    s_got_t *got = (s_got_t *) arg;
    if (got->limit && got->count >= got->limit)
        return 1;
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    uint64_t seq = 0;
    char kind[32];
    if (worm_wire_parse (&reader, event->data, event->size, WORM_EVENTS_RECORD_MAX)
        || worm_wire_get_u64 (&reader, reader.root, "seq", &seq) || seq != event->seq
        || worm_wire_get_str (&reader, reader.root, "kind", kind, sizeof kind))
        got->maps_ok = false;
    worm_wire_reader_fini (&reader);
    got->seqs[got->count++] = event->seq;
    return 0;
}

static void
s_append (worm_events_t *events, int n, const char *kind)
{
    for (int i = 0; i < n; i++) {
        worm_wire_writer_t *writer = worm_events_begin (events, kind);
        worm_wire_kstr (writer, "worm", "w1");
        worm_wire_ku64 (writer, "i", (uint64_t) i);
        CHECK_EQ (worm_events_commit (events), 0);
    }
}

static long
s_file_size (const char *dir, const char *name)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat (path, &st) ? -1 : (long) st.st_size;
}

static s_got_t *
s_read_all (worm_events_t *events, uint64_t after, int64_t since, worm_events_scan_t *scan)
{
    static s_got_t got;
    memset (&got, 0, sizeof got);
    got.maps_ok = true;
    CHECK_EQ (worm_events_read (events, after, since, s_take, &got, scan), 0);
    return &got;
}

int
main (void)
{
    char root[] = "/tmp/worm-events-test-XXXXXX";
    CHECK (mkdtemp (root));
    char dir[256];
    snprintf (dir, sizeof dir, "%s/log", root);

    //  Appended and read back, in order, from a folder made 0700
    worm_events_t *events = worm_events_new (dir, "h1", "0123456789abcdef", S_CAP);
    CHECK_EQ (worm_events_last (events), 0);
    s_append (events, 10, "claim");
    CHECK_EQ (worm_events_last (events), 10);
    struct stat st;
    CHECK_EQ (stat (dir, &st), 0);
    CHECK_EQ (st.st_mode & 0777, 0700);
    char path[512];
    snprintf (path, sizeof path, "%s/%s", dir, WORM_EVENTS_FILE);
    CHECK_EQ (stat (path, &st), 0);
    CHECK_EQ (st.st_mode & 0777, 0600);
    worm_events_scan_t scan;
    s_got_t *got = s_read_all (events, 0, 0, &scan);
    CHECK_EQ (got->count, 10);
    CHECK (got->maps_ok);
    for (int i = 0; i < 10; i++)
        CHECK_EQ (got->seqs[i], i + 1);
    CHECK_EQ (scan.first, 1);
    CHECK_EQ (scan.last, 10);
    CHECK_EQ (scan.next, 10);
    CHECK (!scan.more);
    CHECK_EQ (scan.skipped, 0);

    //  After a cursor; a page stops the read and says where to go on
    got = s_read_all (events, 7, 0, &scan);
    CHECK_EQ (got->count, 3);
    CHECK_EQ (got->seqs[0], 8);
    static s_got_t page;
    memset (&page, 0, sizeof page);
    page.limit = 4;
    page.maps_ok = true;
    CHECK_EQ (worm_events_read (events, 0, 0, s_take, &page, &scan), 0);
    CHECK_EQ (page.count, 4);
    CHECK (scan.more);
    CHECK_EQ (scan.next, 4);
    //  Nothing newer than the cursor
    got = s_read_all (events, 10, 0, &scan);
    CHECK_EQ (got->count, 0);
    CHECK_EQ (scan.next, 10);
    //  The time filter: nothing is older than 0, nothing newer than the future
    got = s_read_all (events, 0, worm_wall_ms () + 60000, &scan);
    CHECK_EQ (got->count, 0);
    CHECK_EQ (scan.next, 10);   //  passed over: the cursor moves past them

    //  The sequence survives a reopen
    worm_events_destroy (&events);
    CHECK (events == NULL);
    events = worm_events_new (dir, "h1", "0123456789abcdef", S_CAP);
    CHECK_EQ (worm_events_last (events), 10);
    s_append (events, 1, "spawn");
    CHECK_EQ (worm_events_last (events), 11);

    //  Rotation: many records keep both files within the cap, the newest
    //  are all there, in order, with no gap, across the two files
    s_append (events, 1000, "exit");
    CHECK_EQ (worm_events_last (events), 1011);
    long now_size = s_file_size (dir, WORM_EVENTS_FILE);
    long old_size = s_file_size (dir, WORM_EVENTS_OLD_FILE);
    CHECK (now_size > 0 && now_size <= S_CAP);
    CHECK (old_size > 0 && old_size <= S_CAP);
    got = s_read_all (events, 0, 0, &scan);
    CHECK (got->count > 50);
    CHECK (got->count < 1011);
    CHECK (got->maps_ok);
    CHECK_EQ (got->seqs[got->count - 1], 1011);
    CHECK_EQ (got->seqs[0], scan.first);
    for (int i = 1; i < got->count; i++)
        CHECK_EQ (got->seqs[i], got->seqs[i - 1] + 1);
    CHECK_EQ (scan.skipped, 0);
    //  A cursor inside the older file reads on into the newer one
    uint64_t middle = got->seqs[2];
    int all = got->count;
    got = s_read_all (events, middle, 0, &scan);
    CHECK_EQ (got->count, all - 3);
    //  Reopened, the rotated pair is found again
    worm_events_destroy (&events);
    events = worm_events_new (dir, "h1", "0123456789abcdef", S_CAP);
    CHECK_EQ (worm_events_last (events), 1011);
    got = s_read_all (events, 0, 0, &scan);
    CHECK_EQ (got->count, all);

    //  Damage: a byte flipped inside a record of the current file is
    //  skipped with a reason; every other record still reads
    int fd = open (path, O_RDWR);
    CHECK (fd >= 0);
    char byte;
    CHECK_EQ (pread (fd, &byte, 1, 40), 1);
    byte ^= 0x5a;
    CHECK_EQ (pwrite (fd, &byte, 1, 40), 1);
    close (fd);
    got = s_read_all (events, 0, 0, &scan);
    CHECK_EQ (got->count, all - 1);
    CHECK_EQ (scan.skipped, 1);
    CHECK_HAS (scan.why, "check does not match");
    CHECK (got->maps_ok);
    //  (mended)
    fd = open (path, O_RDWR);
    byte ^= 0x5a;
    CHECK_EQ (pwrite (fd, &byte, 1, 40), 1);
    close (fd);
    //  A truncated record at the end (a write cut short), then more records
    //  appended after it: the cut one is skipped, the later ones read
    fd = open (path, O_WRONLY | O_APPEND);
    CHECK_EQ (write (fd, "\xc1\x57\x00\x40\x00\x00", 6), 6);
    close (fd);
    worm_events_destroy (&events);
    events = worm_events_new (dir, "h1", "0123456789abcdef", 1 << 20);
    CHECK_EQ (worm_events_last (events), 1011);
    got = s_read_all (events, 1000, 0, &scan);
    CHECK_EQ (scan.skipped, 1);
    CHECK_HAS (scan.why, "truncated");
    s_append (events, 2, "evict");
    got = s_read_all (events, 1010, 0, &scan);
    CHECK_EQ (got->count, 3);
    CHECK_EQ (got->seqs[0], 1011);
    CHECK_EQ (got->seqs[2], 1013);
    CHECK_EQ (scan.skipped, 1);
    //  Garbage in place of a whole file: nothing read, no crash
    worm_events_destroy (&events);
    fd = open (path, O_WRONLY | O_TRUNC);
    for (int i = 0; i < 100; i++)
        CHECK_EQ (write (fd, "\xc1\x57\xff\xff garbage \xc1", 14), 14);
    close (fd);
    events = worm_events_new (dir, "h1", "0123456789abcdef", S_CAP);
    got = s_read_all (events, 0, 0, &scan);
    CHECK (got->maps_ok);
    CHECK (scan.skipped >= 1);
    worm_events_destroy (&events);

    //  A log that cannot be written keeps serving: commits fail, reads are
    //  empty, nothing crashes (a file where its folder should be)
    char blocked[300];
    snprintf (blocked, sizeof blocked, "%s/blocked", root);
    fd = open (blocked, O_WRONLY | O_CREAT, 0600);
    close (fd);
    char inside[320];
    snprintf (inside, sizeof inside, "%s/log", blocked);
    events = worm_events_new (inside, "h1", "0123456789abcdef", S_CAP);
    worm_events_begin (events, "claim");
    CHECK_EQ (worm_events_commit (events), -1);
    CHECK_EQ (worm_events_last (events), 0);
    got = s_read_all (events, 0, 0, &scan);
    CHECK_EQ (got->count, 0);
    worm_events_destroy (&events);
    //  And a log of cap 0 writes nothing at all
    events = worm_events_new (dir, "h1", "0123456789abcdef", 0);
    worm_events_begin (events, "claim");
    CHECK_EQ (worm_events_commit (events), -1);
    worm_events_destroy (&events);

    worm_rmtree (root);
    return check_done ("events");
}
