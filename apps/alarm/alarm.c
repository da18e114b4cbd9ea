/*  alarm.c — the alarm database and --at times. See alarm.h. */
#include "alarm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct _worm_alarm_db_t {
    worm_alarm_t *items;        //  the alarms, in the order they were added
    size_t count;               //  how many
};

worm_alarm_db_t *
worm_alarm_db_new (void)
{
    worm_alarm_db_t *self = calloc (1, sizeof *self);
    if (self)
        self->items = calloc (WORM_ALARM_MAX, sizeof *self->items);
    if (self && !self->items) {
        free (self);
        return NULL;
    }
    return self;
}

void
worm_alarm_db_destroy (worm_alarm_db_t **self_p)
{
    if (!*self_p)
        return;
    free ((*self_p)->items);
    free (*self_p);
    *self_p = NULL;
}

void
worm_alarm_db_copy (worm_alarm_db_t *self, const worm_alarm_db_t *source)
{
    memcpy (self->items, source->items, source->count * sizeof *self->items);
    self->count = source->count;
}

size_t
worm_alarm_db_count (const worm_alarm_db_t *self)
{
    return self->count;
}

const worm_alarm_t *
worm_alarm_db_at (const worm_alarm_db_t *self, size_t index)
{
    return index < self->count ? &self->items[index] : NULL;
}

static worm_alarm_t *
s_find (const worm_alarm_db_t *self, const char *id)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->items[i].id, id) == 0)
            return &self->items[i];
    return NULL;
}

const worm_alarm_t *
worm_alarm_db_find (const worm_alarm_db_t *self, const char *id)
{
    return s_find (self, id);
}

//  --------------------------------------------------------------------------
//  Codec: {"v": 1, "a": [{"i": id, "d": due, "m": message, "s": state,
//  "h": host id, "r": host that rang, "t": done at}, …]}; h, r and t only
//  when set.

void
worm_alarm_db_encode (const worm_alarm_db_t *self, worm_wire_writer_t *writer)
{
    worm_wire_map_open (writer);
    worm_wire_ku64 (writer, "v", 1);
    worm_wire_key (writer, "a");
    worm_wire_array (writer, self->count);
    for (size_t i = 0; i < self->count; i++) {
        const worm_alarm_t *alarm = &self->items[i];
        worm_wire_map_open (writer);
        worm_wire_kstr (writer, "i", alarm->id);
        worm_wire_ku64 (writer, "d", alarm->due_ms);
        worm_wire_kstr (writer, "m", alarm->message);
        worm_wire_ku64 (writer, "s", (uint64_t) alarm->state);
        if (alarm->host_id[0])
            worm_wire_kstr (writer, "h", alarm->host_id);
        if (alarm->rung_host[0])
            worm_wire_kstr (writer, "r", alarm->rung_host);
        if (alarm->done_ms)
            worm_wire_ku64 (writer, "t", alarm->done_ms);
        worm_wire_map_close (writer);
    }
    worm_wire_map_close (writer);
}

static bool
s_host_id_valid (const char *id)
{
    return strlen (id) == WORM_HOST_ID_LEN && strspn (id, "0123456789abcdef") == WORM_HOST_ID_LEN;
}

//  One alarm of the state, checked. Returns 0, or -1 with err.
static int
s_decode_alarm (worm_wire_reader_t *reader, const msgpack_object *map, size_t index,
                worm_alarm_t *alarm, char *err, size_t cap)
{
    memset (alarm, 0, sizeof *alarm);
    uint64_t state = 0;
    char why[160];
    if (map->type != MSGPACK_OBJECT_MAP) {
        snprintf (err, cap, "alarm state: 'a[%zu]' is not a map", index);
        return -1;
    }
    if (worm_wire_get_str (reader, map, "i", alarm->id, sizeof alarm->id)
        || worm_wire_get_u64 (reader, map, "d", &alarm->due_ms)
        || worm_wire_get_str (reader, map, "m", alarm->message, sizeof alarm->message)
        || worm_wire_get_u64 (reader, map, "s", &state)
        || worm_wire_get_str (reader, map, "h", alarm->host_id, sizeof alarm->host_id) < 0
        || worm_wire_get_str (reader, map, "r", alarm->rung_host, sizeof alarm->rung_host) < 0
        || worm_wire_get_u64 (reader, map, "t", &alarm->done_ms) < 0) {
        snprintf (err, cap, "alarm state: 'a[%zu]': %s", index, reader->error);
        return -1;
    }
    if (!worm_ringing_id_valid (alarm->id)) {
        snprintf (err, cap, "alarm state: 'a[%zu]': id '%s' is not [A-Za-z0-9._-]{1,%d}", index,
                  alarm->id, WORM_RINGING_ID_MAX);
        return -1;
    }
    if (!worm_ringing_message_valid (alarm->message, why, sizeof why)) {
        snprintf (err, cap, "alarm state: alarm %s: %s", alarm->id, why);
        return -1;
    }
    if (state > WORM_ALARM_CANCELLED) {
        snprintf (err, cap, "alarm state: alarm %s: state %llu is not 0, 1 or 2", alarm->id,
                  (unsigned long long) state);
        return -1;
    }
    alarm->state = (worm_alarm_state_t) state;
    if (alarm->host_id[0] && !s_host_id_valid (alarm->host_id)) {
        snprintf (err, cap, "alarm state: alarm %s: host id '%s' is not 16 hex digits",
                  alarm->id, alarm->host_id);
        return -1;
    }
    if (alarm->rung_host[0] && !worm_name_valid (alarm->rung_host)) {
        snprintf (err, cap, "alarm state: alarm %s: host name '%s' is not [A-Za-z0-9._-]{1,64}",
                  alarm->id, alarm->rung_host);
        return -1;
    }
    return 0;
}

int
worm_alarm_db_decode (worm_alarm_db_t *self, const void *data, size_t size, char *err,
                      size_t cap)
{
    self->count = 0;
    if (!data || size == 0)
        return 0;
    if (size > WORM_ALARM_STATE_MAX) {
        snprintf (err, cap, "alarm state: %zu bytes, more than %d", size, WORM_ALARM_STATE_MAX);
        return -1;
    }
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    const msgpack_object_array *alarms = NULL;
    uint64_t version = 0;
    int rc = -1;
    if (worm_wire_parse (&reader, data, size, WORM_ALARM_STATE_MAX)
        || worm_wire_get_u64 (&reader, reader.root, "v", &version)
        || worm_wire_get_array (&reader, reader.root, "a", &alarms, WORM_ALARM_MAX))
        snprintf (err, cap, "alarm state: %s", reader.error);
    else if (version != 1)
        snprintf (err, cap, "alarm state: version %llu, not 1", (unsigned long long) version);
    else {
        rc = 0;
        for (size_t i = 0; i < alarms->size && rc == 0; i++) {
            worm_alarm_t alarm;
            if (s_decode_alarm (&reader, &alarms->ptr[i], i, &alarm, err, cap))
                rc = -1;
            else if (s_find (self, alarm.id)) {
                snprintf (err, cap, "alarm state: alarm %s is listed twice", alarm.id);
                rc = -1;
            }
            else
                self->items[self->count++] = alarm;
        }
    }
    worm_wire_reader_fini (&reader);
    if (rc)
        self->count = 0;
    return rc;
}

//  --------------------------------------------------------------------------
//  Rules

int
worm_alarm_check (const worm_alarm_t *alarm, uint64_t now_ms, char *err, size_t cap)
{
    char why[160];
    if (!worm_ringing_id_valid (alarm->id)) {
        snprintf (err, cap, "alarm id '%s' is not 1 to %d of [A-Za-z0-9._-]", alarm->id,
                  WORM_RINGING_ID_MAX);
        return -1;
    }
    if (!worm_ringing_message_valid (alarm->message, why, sizeof why)) {
        snprintf (err, cap, "alarm %s: %s", alarm->id, why);
        return -1;
    }
    if (alarm->due_ms <= now_ms) {
        snprintf (err, cap, "alarm %s: its time is %.1f s in the past", alarm->id,
                  (double) (now_ms - alarm->due_ms) / 1000);
        return -1;
    }
    if (alarm->due_ms - now_ms > (uint64_t) WORM_ALARM_AHEAD_MAX_MS) {
        snprintf (err, cap, "alarm %s: its time is more than %lld days ahead", alarm->id,
                  WORM_ALARM_AHEAD_MAX_MS / 86400000);
        return -1;
    }
    return 0;
}

//  The encoded size of the database.
static size_t
s_encoded_size (const worm_alarm_db_t *self)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_alarm_db_encode (self, &writer);
    size_t size = worm_wire_writer_size (&writer);
    worm_wire_writer_fini (&writer);
    return size;
}

int
worm_alarm_db_add (worm_alarm_db_t *self, const worm_alarm_t *alarm, uint64_t now_ms, char *err,
                   size_t cap)
{
    const worm_alarm_t *there = s_find (self, alarm->id);
    if (there) {
        //  A cancelled alarm stays cancelled: adding its id again would
        //  look like success and never ring
        if (there->state == WORM_ALARM_CANCELLED) {
            snprintf (err, cap, "alarm %s was cancelled; choose another id", alarm->id);
            return -1;
        }
        //  The same id and message: the same alarm, added again (a retry's
        //  relative time is later by the retry's delay); the first time stands
        if (strcmp (there->message, alarm->message) == 0)
            return 1;
        snprintf (err, cap, "alarm id %s is taken by another alarm (another message)",
                  alarm->id);
        return -1;
    }
    if (worm_alarm_check (alarm, now_ms, err, cap))
        return -1;
    if (self->count >= WORM_ALARM_MAX) {
        snprintf (err, cap, "the alarm database is full (%d alarms, rung and cancelled ones "
                            "included for %d min)", WORM_ALARM_MAX, WORM_ALARM_KEEP_MS / 60000);
        return -1;
    }
    worm_alarm_t *added = &self->items[self->count++];
    *added = *alarm;
    added->state = WORM_ALARM_PENDING;
    added->host_id[0] = 0;
    added->rung_host[0] = 0;
    added->done_ms = 0;
    size_t size = s_encoded_size (self);
    if (size > WORM_ALARM_STATE_MAX) {
        self->count--;
        snprintf (err, cap, "the alarm database is full (%zu alarms take %zu bytes with this "
                            "one, more than %d)", self->count, size, WORM_ALARM_STATE_MAX);
        return -1;
    }
    return 0;
}

int
worm_alarm_db_cancel (worm_alarm_db_t *self, const char *id, uint64_t now_ms, char *err,
                      size_t cap)
{
    worm_alarm_t *alarm = s_find (self, id);
    if (!alarm) {
        snprintf (err, cap, "no alarm %s", id);
        return -1;
    }
    if (alarm->state == WORM_ALARM_CANCELLED)
        return 0;
    if (alarm->state == WORM_ALARM_RUNG) {
        snprintf (err, cap, "alarm %s rang already (on %s)", id, alarm->rung_host);
        return -1;
    }
    if (alarm->due_ms <= now_ms + WORM_ALARM_LEAD_MS) {
        snprintf (err, cap, "alarm %s is too late to cancel: it is due %s %.1f s, and its ring "
                            "is under way from %d s before", id,
                  alarm->due_ms > now_ms ? "in" : "since",
                  (double) (alarm->due_ms > now_ms ? alarm->due_ms - now_ms
                                                   : now_ms - alarm->due_ms) / 1000,
                  WORM_ALARM_LEAD_MS / 1000);
        return -1;
    }
    alarm->state = WORM_ALARM_CANCELLED;
    alarm->done_ms = now_ms;
    return 0;
}

int
worm_alarm_db_rung (worm_alarm_db_t *self, const char *id, uint64_t due_ms, const char *host,
                    uint64_t at_ms)
{
    worm_alarm_t *alarm = s_find (self, id);
    if (!alarm || alarm->due_ms != due_ms || alarm->state == WORM_ALARM_RUNG)
        return 1;
    //  A ring is a fact: it is recorded even over a cancel (which the
    //  lead time should have kept from happening)
    alarm->state = WORM_ALARM_RUNG;
    snprintf (alarm->rung_host, sizeof alarm->rung_host, "%s",
              worm_name_valid (host) ? host : "unknown");
    alarm->done_ms = at_ms ? at_ms : 1;
    return 0;
}

size_t
worm_alarm_db_prune (worm_alarm_db_t *self, uint64_t now_ms)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < self->count; i++) {
        const worm_alarm_t *alarm = &self->items[i];
        if (alarm->state != WORM_ALARM_PENDING && alarm->done_ms + WORM_ALARM_KEEP_MS < now_ms)
            dropped++;
        else
            self->items[kept++] = *alarm;
    }
    self->count = kept;
    return dropped;
}

//  FNV-1a of the alarm's id and a host's: rendezvous hashing.
static uint64_t
s_score (const char *alarm, const char *host)
{
    uint64_t hash = 14695981039346656037ULL;
    for (const char *p = alarm; *p; p++)
        hash = (hash ^ (unsigned char) *p) * 1099511628211ULL;
    hash = (hash ^ '/') * 1099511628211ULL;
    for (const char *p = host; *p; p++)
        hash = (hash ^ (unsigned char) *p) * 1099511628211ULL;
    return hash;
}

size_t
worm_alarm_db_assign (worm_alarm_db_t *self, const worm_alarm_host_t *hosts, size_t n,
                      bool reassign, uint64_t now_ms)
{
    size_t assigned = 0;
    for (size_t i = 0; i < self->count; i++) {
        worm_alarm_t *alarm = &self->items[i];
        if (alarm->state != WORM_ALARM_PENDING)
            continue;
        if (alarm->host_id[0]) {
            bool known = false;
            for (size_t k = 0; k < n && !known; k++)
                known = strcmp (hosts[k].id, alarm->host_id) == 0;
            bool armed = alarm->due_ms <= now_ms + WORM_ALARM_LEAD_MS
                         && alarm->due_ms + WORM_ALARM_OVERDUE_MS >= now_ms;
            if (known || !reassign || armed)
                continue;
        }
        const worm_alarm_host_t *best = NULL;
        uint64_t best_score = 0;
        for (size_t k = 0; k < n; k++) {
            uint64_t score = s_score (alarm->id, hosts[k].id);
            if (!best || (hosts[k].willing && !best->willing)
                || (hosts[k].willing == best->willing && score > best_score)) {
                best = &hosts[k];
                best_score = score;
            }
        }
        if (best) {
            snprintf (alarm->host_id, sizeof alarm->host_id, "%s", best->id);
            assigned++;
        }
    }
    return assigned;
}

const char *
worm_alarm_state_name (const worm_alarm_t *alarm, uint64_t now_ms)
{
    switch (alarm->state) {
    case WORM_ALARM_RUNG:
        return "rung";
    case WORM_ALARM_CANCELLED:
        return "cancelled";
    default:
        return alarm->due_ms <= now_ms ? "ringing" : "pending";
    }
}

//  --------------------------------------------------------------------------
//  Times

#define S_TIME_FORMS "ISO-8601 with a zone, e.g. 2026-12-24T07:00:00+01:00 or …Z, or relative, e.g. +30s, +5m, +2h"

//  Reads exactly n digits at *p into *value. Returns 0 or -1.
static int
s_digits (const char **p, int n, int *value)
{
    *value = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit ((unsigned char) (*p)[i]))
            return -1;
        *value = *value * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return 0;
}

//  "+30s", "+1h30m": ms in *delta. Returns 0, or -1 with err.
static int
s_parse_relative (const char *text, uint64_t *delta, char *err, size_t cap)
{
    const char *p = text + 1;
    uint64_t total = 0;
    if (!*p) {
        snprintf (err, cap, "'%s' is not a time (%s)", text, S_TIME_FORMS);
        return -1;
    }
    while (*p) {
        if (!isdigit ((unsigned char) *p)) {
            snprintf (err, cap, "'%s' is not a time (%s)", text, S_TIME_FORMS);
            return -1;
        }
        uint64_t n = 0;
        while (isdigit ((unsigned char) *p)) {
            n = n * 10 + (uint64_t) (*p++ - '0');
            if (n > 1000000000ULL) {
                snprintf (err, cap, "'%s': more than %lld days ahead", text,
                          WORM_ALARM_AHEAD_MAX_MS / 86400000);
                return -1;
            }
        }
        uint64_t unit = *p == 's' ? 1000 : *p == 'm' ? 60000 : *p == 'h' ? 3600000
                        : *p == 'd' ? 86400000 : 0;
        if (!unit) {
            snprintf (err, cap, "'%s': a number needs a unit, s, m, h or d (%s)", text,
                      S_TIME_FORMS);
            return -1;
        }
        p++;
        total += n * unit;
        if (total > (uint64_t) WORM_ALARM_AHEAD_MAX_MS) {
            snprintf (err, cap, "'%s' is more than %lld days ahead", text,
                      WORM_ALARM_AHEAD_MAX_MS / 86400000);
            return -1;
        }
    }
    *delta = total;
    return 0;
}

//  "2026-12-24T07:00:00.250+01:00": wall ms in *at. Returns 0, or -1 with err.
static int
s_parse_iso (const char *text, int64_t *at, char *err, size_t cap)
{
    const char *p = text;
    int year, month, day, hour, minute, second = 0, ms = 0;
    if (s_digits (&p, 4, &year) || *p++ != '-' || s_digits (&p, 2, &month) || *p++ != '-'
        || s_digits (&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' ')) {
        snprintf (err, cap, "'%s' is not a time (%s)", text, S_TIME_FORMS);
        return -1;
    }
    p++;
    if (s_digits (&p, 2, &hour) || *p++ != ':' || s_digits (&p, 2, &minute)) {
        snprintf (err, cap, "'%s' is not a time (%s)", text, S_TIME_FORMS);
        return -1;
    }
    if (*p == ':') {
        p++;
        if (s_digits (&p, 2, &second)) {
            snprintf (err, cap, "'%s' is not a time (%s)", text, S_TIME_FORMS);
            return -1;
        }
        if (*p == '.' || *p == ',') {
            p++;
            int digits = 0;
            while (isdigit ((unsigned char) *p)) {
                if (digits < 3)
                    ms = ms * 10 + (*p - '0');
                digits++;
                p++;
            }
            if (!digits) {
                snprintf (err, cap, "'%s' is not a time (%s)", text, S_TIME_FORMS);
                return -1;
            }
            for (; digits < 3; digits++)
                ms *= 10;
        }
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (s_digits (&p, 2, &oh)) {
            snprintf (err, cap, "'%s': the zone is not +HH:MM, -HH:MM or Z", text);
            return -1;
        }
        if (*p == ':')
            p++;
        if (*p && s_digits (&p, 2, &om)) {
            snprintf (err, cap, "'%s': the zone is not +HH:MM, -HH:MM or Z", text);
            return -1;
        }
        if (oh > 23 || om > 59) {
            snprintf (err, cap, "'%s': zone offset %02d:%02d is out of range", text, oh, om);
            return -1;
        }
        offset_min = sign * (oh * 60 + om);
    }
    else if (!*p) {
        snprintf (err, cap, "'%s' has no zone: add Z or an offset such as +01:00", text);
        return -1;
    }
    if (*p) {
        snprintf (err, cap, "'%s' is not a time (%s)", text, S_TIME_FORMS);
        return -1;
    }
    static const int days_in[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1970 || month < 1 || month > 12 || day < 1
        || day > (month == 2 && !leap ? 28 : days_in[month - 1]) || hour > 23 || minute > 59
        || second > 59) {
        snprintf (err, cap, "'%s' is not a valid date and time", text);
        return -1;
    }
    struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day,
                    .tm_hour = hour, .tm_min = minute, .tm_sec = second};
    time_t seconds = timegm (&tm);
    *at = ((int64_t) seconds - (int64_t) offset_min * 60) * 1000 + ms;
    return 0;
}

int
worm_alarm_parse_time (const char *text, uint64_t now_ms, uint64_t *due_ms, char *err,
                       size_t cap)
{
    if (text[0] == '+') {
        uint64_t delta = 0;
        if (s_parse_relative (text, &delta, err, cap))
            return -1;
        if (delta == 0) {
            snprintf (err, cap, "'%s' is now, not ahead", text);
            return -1;
        }
        *due_ms = now_ms + delta;
        return 0;
    }
    int64_t at = 0;
    if (s_parse_iso (text, &at, err, cap))
        return -1;
    if (at <= (int64_t) now_ms) {
        snprintf (err, cap, "'%s' is in the past (%.0f s ago)", text,
                  (double) ((int64_t) now_ms - at) / 1000);
        return -1;
    }
    //  Sooner would pass here and be in the past by the time a segment
    //  takes it (finding the worm alone takes a few hundred ms)
    if (at < (int64_t) now_ms + WORM_ALARM_AHEAD_MIN_MS) {
        snprintf (err, cap, "'%s' is only %lld ms ahead; an alarm must be at least %d s ahead",
                  text, (long long) (at - (int64_t) now_ms), WORM_ALARM_AHEAD_MIN_MS / 1000);
        return -1;
    }
    if ((uint64_t) at - now_ms > (uint64_t) WORM_ALARM_AHEAD_MAX_MS) {
        snprintf (err, cap, "'%s' is more than %lld days ahead", text,
                  WORM_ALARM_AHEAD_MAX_MS / 86400000);
        return -1;
    }
    *due_ms = (uint64_t) at;
    return 0;
}
