/*  agent_log.c — the host agent's side of its event log (Sprite's logd,
    one per host, no server to lose): the refusals the other parts record
    through it, and the log op, which reads the log back a page at a time
    for `wormctl log` (docs/PROTOCOL.md, "Event log"). The log on disk is
    events.h's; the other parts record their own events where they happen
    (claims.c, guest_spawn.c, guests.c, run.c).
*/
#include "agent_internal.h"
#include "ctl.h"

#include <stdarg.h>

worm_wire_writer_t *
worm_agent_event (worm_agent_t *self, const char *kind)
{
    return worm_events_begin (self->events, kind);
}

void
worm_agent_event_kstr (worm_wire_writer_t *writer, const char *key, const char *text)
{
    worm_wire_key (writer, key);
    worm_agent_event_str (writer, text);
}

void
worm_agent_event_str (worm_wire_writer_t *writer, const char *text)
{
    char clipped[WORM_AGENT_EVENT_TEXT_MAX + 1];
    size_t length = strlen (text ? text : "");
    if (length > WORM_AGENT_EVENT_TEXT_MAX) {
        length = WORM_AGENT_EVENT_TEXT_MAX;
        //  Back to the start of a UTF-8 character
        while (length && ((unsigned char) text[length] & 0xC0) == 0x80)
            length--;
    }
    memcpy (clipped, text ? text : "", length);
    clipped[length] = 0;
    worm_wire_str (writer, clipped);
}

void
worm_agent_refusal (worm_agent_t *self, const char *op, const char *key, const char *worm,
                    const char *reason)
{
    int64_t now = worm_now_ms ();
    if (now - self->refusals_period_ms >= WORM_AGENT_REFUSALS_PERIOD_MS) {
        self->refusals_period_ms = now;
        self->refusals_recorded = 0;
    }
    if (self->refusals_recorded >= WORM_AGENT_REFUSALS_RECORDED) {
        self->refusals_dropped++;
        return;
    }
    self->refusals_recorded++;
    worm_wire_writer_t *event = worm_agent_event (self, "refusal");
    worm_wire_kstr (event, "op", op);
    worm_wire_kstr (event, "key", key ? key : "");
    if (worm && worm[0])
        worm_wire_kstr (event, "worm", worm);
    worm_agent_event_kstr (event, "reason", reason);
    if (self->refusals_dropped)
        worm_wire_ku64 (event, "dropped", self->refusals_dropped);
    if (worm_events_commit (self->events) == 0)
        self->refusals_dropped = 0;
}

void
worm_agent_refuse (worm_agent_t *self, zframe_t *identity, const char *op, const char *worm,
                   const char *fmt, ...)
{
    char text[600];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    worm_agent_refusal (self, op, self->sender, worm, text);
    worm_ctl_reply_error (self->router, identity, "%s", text);
}

//  --------------------------------------------------------------------------
//  The log op

//  A page of events being gathered: their maps, one after the other
typedef struct {
    zlist_t *events;            //  zchunk_t *, each one record's map
    size_t bytes;               //  bytes of them
    size_t limit;               //  records wanted at most
} s_page_t;

static int
s_gather (void *arg, const worm_event_t *event)
{
    s_page_t *page = (s_page_t *) arg;
    if (zlist_size (page->events) >= page->limit
        || page->bytes + event->size > WORM_AGENT_LOG_PAGE_BYTES)
        return 1;
    zlist_append (page->events, zchunk_new (event->data, event->size));
    page->bytes += event->size;
    return 0;
}

//  Writes one record into the reply. A run's command is its user's and the
//  owner's to read: to anyone else it goes without its words.
static void
s_write_event (worm_agent_t *self, worm_wire_writer_t *writer, zchunk_t *chunk)
{
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    char kind[16] = "", key[WORM_KEY_LEN + 1] = "";
    bool hidden = false;
    if (worm_wire_parse (&reader, zchunk_data (chunk), zchunk_size (chunk),
                         WORM_EVENTS_RECORD_MAX) == 0
        && worm_wire_get_str (&reader, reader.root, "kind", kind, sizeof kind) == 0
        && streq (kind, "run") && !(self->roles & WORM_ROLE_OWNER))
        hidden = worm_wire_get_str (&reader, reader.root, "key", key, sizeof key) != 0
                 || !self->sender || !streq (key, self->sender);
    if (!hidden)
        worm_wire_encoded (writer, zchunk_data (chunk), zchunk_size (chunk));
    else {
        worm_wire_map_open (writer);
        const msgpack_object_map *map = &reader.root->via.map;
        for (uint32_t i = 0; i < map->size; i++) {
            const msgpack_object *name = &map->ptr[i].key;
            if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == 4
                && memcmp (name->via.str.ptr, "argv", 4) == 0)
                continue;
            worm_wire_object (writer, name);
            worm_wire_object (writer, &map->ptr[i].val);
        }
        worm_wire_kbool (writer, "argv_hidden", true);
        worm_wire_map_close (writer);
    }
    worm_wire_reader_fini (&reader);
}

void
worm_agent_op_log (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    uint64_t after = 0, since = 0, max = WORM_AGENT_LOG_PAGE;
    if (worm_wire_get_u64 (reader, reader->root, "after", &after) == -1
        || worm_wire_get_u64 (reader, reader->root, "since", &since) == -1
        || worm_wire_get_u64 (reader, reader->root, "max", &max) == -1) {
        worm_ctl_reply_error (self->router, identity, "log: %s", reader->error);
        return;
    }
    if (since > INT64_MAX)
        since = INT64_MAX;
    s_page_t page = {zlist_new (), 0, max && max < WORM_AGENT_LOG_PAGE ? max : WORM_AGENT_LOG_PAGE};
    worm_events_scan_t scan;
    if (worm_events_read (self->events, after, (int64_t) since, s_gather, &page, &scan))
        worm_log_limited (&self->bad_request, WORM_AGENT_LOG_PERIOD_MS, "log: %s", scan.why);
    else if (scan.skipped)
        worm_log_limited (&self->bad_request, WORM_AGENT_LOG_PERIOD_MS,
                          "log: %u damaged stretch(es) of the event log skipped, the first: %s",
                          scan.skipped, scan.why);
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kstr (&writer, "host", self->config.name);
    worm_wire_kstr (&writer, "host_id", self->host_id);
    worm_wire_ku64 (&writer, "first", scan.first);
    worm_wire_ku64 (&writer, "last", scan.last);
    worm_wire_ku64 (&writer, "next", scan.next);
    worm_wire_kbool (&writer, "more", scan.more);
    worm_wire_ku64 (&writer, "skipped", scan.skipped);
    worm_wire_key (&writer, "events");
    worm_wire_array (&writer, zlist_size (page.events));
    zchunk_t *chunk;
    while ((chunk = zlist_pop (page.events))) {
        s_write_event (self, &writer, chunk);
        zchunk_destroy (&chunk);
    }
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
    zlist_destroy (&page.events);
}
