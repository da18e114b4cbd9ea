/*  events.h — a host agent's event log (Sprite's logd, without the one
    server): what happened here, one record per event, kept on disk in the
    state folder and read back by the `log` op (docs/PROTOCOL.md, "Event
    log"), from which `wormctl log` merges the whole network's.

    A record is one msgpack map: `seq` (this agent's sequence number, one
    more for every record, kept across restarts), `at` (wall clock, ms),
    `host`, `host_id`, `kind` and the kind's own fields, which the caller
    writes between worm_events_begin and worm_events_commit. On disk each
    is framed (a magic, its length, its seq and time, a check over all of
    it), so that a reader skips a damaged or truncated record, says why,
    and finds the next one.

    STATE/log/events (0600, in a 0700 folder) grows to the size cap, then
    becomes events.1 (the former events.1 is dropped) and a new events is
    begun: the log takes at most about twice the cap on disk. Writing never
    stops the agent: a failure is said once on stderr (worm_log), the event
    is lost, and the next one tries again.

    Everything here runs on the agent's reactor thread; nothing blocks but
    the file I/O itself.
*/
#ifndef WORM_EVENTS_H_INCLUDED
#define WORM_EVENTS_H_INCLUDED

#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORM_EVENTS_RECORD_MAX 4096         //  bytes of one record's map, at most
#define WORM_EVENTS_DEFAULT_MAX (1UL << 20) //  the size cap of one file (wormd --log-max)
#define WORM_EVENTS_MIN_MAX 4096            //  the least cap allowed
#define WORM_EVENTS_FILE "events"           //  the file written, in the log folder
#define WORM_EVENTS_OLD_FILE "events.1"     //  the file before it

typedef struct _worm_events_t worm_events_t;

/*  A log in folder dir (made when missing, 0700), appending to its
    current file, with the last sequence number found in both files. host
    and host_id go into every record. max_bytes is the size cap of one
    file (at least WORM_EVENTS_MIN_MAX; 0: no log at all, nothing is
    written or read). Never fails: a folder or file that cannot be made or
    read is said once on stderr, and every commit tries again. The caller
    owns the log. */
worm_events_t *worm_events_new (const char *dir, const char *host, const char *host_id,
                                unsigned long max_bytes);

/*  Closes the log; *self_p is set to NULL. */
void worm_events_destroy (worm_events_t **self_p);

/*  Begins a record of kind: returns a writer inside the record's map,
    after its seq, at, host, host_id and kind, for the caller to add its
    fields (short strings: the whole map must stay within
    WORM_EVENTS_RECORD_MAX), then worm_events_commit. With no log (cap 0)
    the record is written and dropped at the commit. One record at a time:
    begin again before the commit is a programmer's error (asserted). */
worm_wire_writer_t *worm_events_begin (worm_events_t *self, const char *kind);

/*  Ends the record begun and appends it, rotating the file first when it
    would pass the cap. Returns 0, or -1 when the record was not written (a
    record too large, a write error: said once on stderr until a write
    works again). */
int worm_events_commit (worm_events_t *self);

/*  The sequence number of the last record written (0: none yet). */
uint64_t worm_events_last (const worm_events_t *self);

//  One record read back: its map's bytes (checked: one well-formed map)
typedef struct {
    uint64_t seq;           //  its sequence number
    int64_t at_ms;          //  its time, wall clock
    const void *data;       //  its msgpack map, valid during the callback
    size_t size;            //  bytes of it
} worm_event_t;

/*  Called for each record read; returns 0 to take it and go on, or 1 when
    it does not want it (a page is full): the read stops there. */
typedef int (worm_events_fn) (void *arg, const worm_event_t *event);

//  What a read found
typedef struct {
    uint64_t first;         //  the oldest sequence number on disk (0: none)
    uint64_t last;          //  the newest
    uint64_t next;          //  the cursor to read on from: the last record taken or
                            //  passed over (older than since), else the given after
    bool more;              //  the callback stopped the read before the end
    unsigned skipped;       //  damaged records skipped
    char why[160];          //  why the first of them was, "" when none
} worm_events_scan_t;

/*  Reads the records whose seq is above after and whose time is at least
    since_ms, oldest first (events.1, then events), and hands each to fn.
    A damaged record is skipped and counted, never fatal. Returns 0, or -1
    with scan->why set when a file cannot be read at all. */
int worm_events_read (worm_events_t *self, uint64_t after, int64_t since_ms,
                      worm_events_fn *fn, void *arg, worm_events_scan_t *scan);

#endif
