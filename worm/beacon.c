/*  beacon.c — the discovery datagrams' codec. See beacon.h. */
#include "beacon.h"
#include "auth.h"

#include <stdio.h>
#include <string.h>

#define MAX_CAPS 8

bool
worm_name_valid (const char *name)
{
    size_t len = strlen (name);
    if (len < 1 || len > 64)
        return false;
    return strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
           == len;
}

void
worm_hostinfo_write (worm_wire_writer_t *writer, const worm_hostinfo_t *host)
{
    size_t ncaps = 0;
    char caps[sizeof host->caps];
    snprintf (caps, sizeof caps, "%s", host->caps);
    char *words[MAX_CAPS];
    for (char *save = NULL, *word = strtok_r (caps, ",", &save); word && ncaps < MAX_CAPS;
         word = strtok_r (NULL, ",", &save))
        words[ncaps++] = word;

    worm_wire_map_open (writer);
    worm_wire_kstr (writer, "id", host->id);
    worm_wire_kstr (writer, "name", host->name);
    worm_wire_kstr (writer, "ep", host->endpoint);
    worm_wire_kstr (writer, "key", host->key);
    worm_wire_kbool (writer, "willing", host->willing);
    worm_wire_kstr (writer, "reason", host->reason);
    worm_wire_kf64 (writer, "load", host->load);
    worm_wire_kf64 (writer, "idle", host->idle_s);
    worm_wire_ku64 (writer, "segs", host->segments);
    worm_wire_ku64 (writer, "max", host->max_segments);
    worm_wire_ku64 (writer, "int", host->interval_ms);
    worm_wire_key (writer, "caps");
    worm_wire_array (writer, ncaps);
    for (size_t i = 0; i < ncaps; i++)
        worm_wire_str (writer, words[i]);
    worm_wire_map_close (writer);
}

static int
s_invalid (worm_wire_reader_t *reader, const char *why)
{
    snprintf (reader->error, sizeof reader->error, "%s", why);
    return -1;
}

int
worm_hostinfo_read (worm_wire_reader_t *reader, const msgpack_object *map, worm_hostinfo_t *host)
{
    memset (host, 0, sizeof *host);
    uint64_t segs, max, interval;
    if (worm_wire_get_str (reader, map, "id", host->id, sizeof host->id)
        || worm_wire_get_str (reader, map, "name", host->name, sizeof host->name)
        || worm_wire_get_str (reader, map, "ep", host->endpoint, sizeof host->endpoint)
        || worm_wire_get_str (reader, map, "key", host->key, sizeof host->key)
        || worm_wire_get_bool (reader, map, "willing", &host->willing)
        || worm_wire_get_str (reader, map, "reason", host->reason, sizeof host->reason)
        || worm_wire_get_f64 (reader, map, "load", &host->load)
        || worm_wire_get_f64 (reader, map, "idle", &host->idle_s)
        || worm_wire_get_u64 (reader, map, "segs", &segs)
        || worm_wire_get_u64 (reader, map, "max", &max)
        || worm_wire_get_u64 (reader, map, "int", &interval))
        return -1;
    if (strlen (host->id) != WORM_HOST_ID_LEN
        || strspn (host->id, "0123456789abcdef") != WORM_HOST_ID_LEN)
        return s_invalid (reader, "field 'id': not 16 lowercase hex digits");
    if (!worm_name_valid (host->name))
        return s_invalid (reader, "field 'name': not [A-Za-z0-9._-]{1,64}");
    if (strncmp (host->endpoint, "tcp://", 6) != 0)
        return s_invalid (reader, "field 'ep': not a tcp:// endpoint");
    if (!worm_key_valid (host->key))
        return s_invalid (reader, "field 'key': not a Z85 public key");
    if (segs > 4096 || max > 4096)
        return s_invalid (reader, "field 'segs' or 'max': above 4096");
    if (interval < 10 || interval > 3600 * 1000)
        return s_invalid (reader, "field 'int': outside 10 ms to 1 h");
    if (host->load < 0 || host->load > 1e6 || host->idle_s < 0)
        return s_invalid (reader, "field 'load' or 'idle': out of range");
    host->segments = (uint32_t) segs;
    host->max_segments = (uint32_t) max;
    host->interval_ms = (uint32_t) interval;

    const msgpack_object_array *caps;
    if (worm_wire_get_array (reader, map, "caps", &caps, MAX_CAPS))
        return -1;
    for (uint32_t i = 0; i < caps->size; i++) {
        char word[32];
        if (worm_wire_obj_str (reader, &caps->ptr[i], "caps[]", word, sizeof word))
            return -1;
        if (!worm_name_valid (word) || strchr (word, ','))
            return s_invalid (reader, "field 'caps': not a list of names");
        size_t used = strlen (host->caps);
        if (used + strlen (word) + 2 > sizeof host->caps)
            return s_invalid (reader, "field 'caps': too long");
        snprintf (host->caps + used, sizeof host->caps - used, "%s%s", used ? "," : "", word);
    }
    return 0;
}

void
worm_beacon_encode (const worm_beacon_t *msg, worm_wire_writer_t *writer)
{
    static const char *kinds[] = {NULL, "beacon", "query", "answer", "dead"};
    worm_wire_map_open (writer);
    worm_wire_kstr (writer, "t", kinds[msg->kind]);
    worm_wire_ku64 (writer, "v", WORM_PROTOCOL_VERSION);
    if (msg->kind == WORM_BEACON_DEAD) {
        worm_wire_kstr (writer, "worm", msg->worm_id);
        worm_wire_kstr (writer, "seg", msg->segment);
    }
    else if (msg->kind == WORM_BEACON_QUERY) {
        worm_wire_ku64 (writer, "qid", msg->qid);
        worm_wire_kbool (writer, "all", msg->all);
    }
    else {
        if (msg->kind == WORM_BEACON_ANSWER)
            worm_wire_ku64 (writer, "qid", msg->qid);
        worm_wire_key (writer, "host");
        worm_hostinfo_write (writer, &msg->host);
    }
    worm_wire_map_close (writer);
}

int
worm_beacon_decode (const void *data, size_t size, worm_beacon_t *msg, char *err, size_t cap)
{
    memset (msg, 0, sizeof *msg);
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    int rc = -1;
    char kind[16];
    uint64_t version;
    const msgpack_object *host;
    if (worm_wire_parse (&reader, data, size, WORM_BEACON_MAX)
        || worm_wire_get_str (&reader, reader.root, "t", kind, sizeof kind)
        || worm_wire_get_u64 (&reader, reader.root, "v", &version))
        goto done;
    if (version != WORM_PROTOCOL_VERSION) {
        snprintf (reader.error, sizeof reader.error, "protocol version %llu, expected %d",
                  (unsigned long long) version, WORM_PROTOCOL_VERSION);
        goto done;
    }
    if (strcmp (kind, "query") == 0) {
        msg->kind = WORM_BEACON_QUERY;
        if (worm_wire_get_u64 (&reader, reader.root, "qid", &msg->qid)
            || worm_wire_get_bool (&reader, reader.root, "all", &msg->all))
            goto done;
        rc = 0;
        goto done;
    }
    if (strcmp (kind, "dead") == 0) {
        msg->kind = WORM_BEACON_DEAD;
        if (worm_wire_get_str (&reader, reader.root, "worm", msg->worm_id, sizeof msg->worm_id)
            || worm_wire_get_str (&reader, reader.root, "seg", msg->segment, sizeof msg->segment))
            goto done;
        //  Ids are names; reading them into 64 bytes bounded them to 63
        if (!worm_name_valid (msg->worm_id) || !worm_name_valid (msg->segment)) {
            snprintf (reader.error, sizeof reader.error,
                      "field 'worm' or 'seg': not [A-Za-z0-9._-]{1,63}");
            goto done;
        }
        rc = 0;
        goto done;
    }
    if (strcmp (kind, "beacon") == 0)
        msg->kind = WORM_BEACON_ANNOUNCE;
    else if (strcmp (kind, "answer") == 0) {
        msg->kind = WORM_BEACON_ANSWER;
        if (worm_wire_get_u64 (&reader, reader.root, "qid", &msg->qid))
            goto done;
    }
    else {
        snprintf (reader.error, sizeof reader.error, "unknown message type '%s'", kind);
        goto done;
    }
    if (worm_wire_get_map (&reader, reader.root, "host", &host)
        || worm_hostinfo_read (&reader, host, &msg->host))
        goto done;
    rc = 0;
done:
    if (rc)
        snprintf (err, cap, "%s", reader.error);
    worm_wire_reader_fini (&reader);
    return rc;
}
