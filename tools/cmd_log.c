/*  cmd_log.c — wormctl log: the network-wide event log, with no log server
    to lose. Every host agent keeps its own (worm/events.h); this command
    finds the hosts by broadcast, reads each one's log through its `log`
    op a page at a time, and merges them by time (ties by host, then
    sequence number). --follow keeps a cursor per host (its sequence
    number, which survives the agent's restarts), asks each host for what
    is new twice a second, and asks the LAN again every few seconds for
    hosts that appeared. docs/PROTOCOL.md, "Event log".
*/
#include "client.h"
#include "log.h"
#include "print.h"
#include "when.h"
#include "worms.h"

#include <math.h>
#include <time.h>

#define S_PAGE 256              //  events asked for in one request
#define S_POLL_MS 500           //  --follow: how often each host is asked for news
#define S_DISCOVER_MS 3000      //  --follow: how often the LAN is asked for new hosts
#define S_MAX_EVENTS 2000000    //  events one gathering holds, at most

//  One event, as it will be printed
typedef struct {
    int64_t at_ms;              //  its time, wall clock
    uint64_t seq;               //  its host's sequence number
    char host[65];              //  its host's name
    char *line;                 //  the whole line to print (text or JSON), ours
} s_event_t;

//  Events gathered, to sort and print
typedef struct {
    s_event_t *items;           //  the events
    size_t count, cap;          //  how many, and room for
    bool full;                  //  S_MAX_EVENTS was reached: some were left out
} s_events_t;

//  A host we read from, and where we are in its log
typedef struct {
    worm_hostinfo_t info;       //  from the query's answer (name, endpoint, key)
    uint64_t cursor;            //  the last sequence number read
    bool answered;              //  it answered at least once
    bool silent_told;           //  its silence was said, and it has not answered since
    bool resting;               //  --follow: it did not answer; not asked again until it
                                //  answers a query (a host that is gone costs no timeouts)
} s_host_t;

typedef struct {
    int64_t since_ms;           //  --since, 0: all
    char host[65];              //  --host, "": every host
    bool follow;                //  --follow
    bool help;                  //  --help
    wormctl_client_t *client;   //  for --json
} s_options_t;

//  --------------------------------------------------------------------------
//  Writing one event

static void s_json_value (FILE *out, const msgpack_object *value);

//  A msgpack string as a C string into buf (cut at cap), NULs left out.
static void
s_str (const msgpack_object *value, char *buf, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < value->via.str.size && n + 1 < cap; i++)
        if (value->via.str.ptr[i])
            buf[n++] = value->via.str.ptr[i];
    buf[n] = 0;
}

static void
s_json_value (FILE *out, const msgpack_object *value)
{
    char text[4200];
    switch (value->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        fputs (value->via.boolean ? "true" : "false", out);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        fprintf (out, "%llu", (unsigned long long) value->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        fprintf (out, "%lld", (long long) value->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (isfinite (value->via.f64))
            fprintf (out, "%.17g", value->via.f64);
        else
            fputs ("null", out);
        break;
    case MSGPACK_OBJECT_STR:
        s_str (value, text, sizeof text);
        wormctl_json_string (out, text);
        break;
    case MSGPACK_OBJECT_ARRAY:
        fputc ('[', out);
        for (uint32_t i = 0; i < value->via.array.size; i++) {
            if (i)
                fputs (", ", out);
            s_json_value (out, &value->via.array.ptr[i]);
        }
        fputc (']', out);
        break;
    case MSGPACK_OBJECT_MAP:
        fputc ('{', out);
        for (uint32_t i = 0, written = 0; i < value->via.map.size; i++) {
            const msgpack_object_kv *entry = &value->via.map.ptr[i];
            if (entry->key.type != MSGPACK_OBJECT_STR)
                continue;
            if (written++)
                fputs (", ", out);
            s_json_value (out, &entry->key);
            fputs (": ", out);
            s_json_value (out, &entry->val);
        }
        fputc ('}', out);
        break;
    default:
        fputs ("null", out);     //  nil, bin, ext: no event carries them
        break;
    }
}

//  A value for a text line: a plain word as it is, else as JSON.
static void
s_text_value (FILE *out, const msgpack_object *value)
{
    if (value->type == MSGPACK_OBJECT_STR) {
        char text[4200];
        s_str (value, text, sizeof text);
        bool plain = text[0] != 0;
        for (const char *p = text; *p && plain; p++)
            plain = (unsigned char) *p > ' ' && *p != '"' && *p != '\\' && *p != 0x7f;
        if (plain) {
            fputs (text, out);
            return;
        }
    }
    s_json_value (out, value);
}

//  Whether a map key is name.
static bool
s_key_is (const msgpack_object *key, const char *name)
{
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen (name)
           && memcmp (key->via.str.ptr, name, key->via.str.size) == 0;
}

//  The line of one event: JSON (the record as it is), or "DATE TIME HOST
//  KIND key=value ..." with the fields in the record's order.
static char *
s_line (const msgpack_object *map, int64_t at_ms, const char *host, bool json)
{
    char *line = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&line, &size);
    if (!out)
        return NULL;
    if (json)
        s_json_value (out, map);
    else {
        char when[40], kind[32] = "?";
        time_t seconds = (time_t) (at_ms / 1000);
        struct tm tm;
        localtime_r (&seconds, &tm);
        strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        const msgpack_object *kind_value = worm_wire_field (map, "kind");
        if (kind_value && kind_value->type == MSGPACK_OBJECT_STR)
            s_str (kind_value, kind, sizeof kind);
        fprintf (out, "%s.%03d %-12s %-8s", when, (int) (at_ms % 1000), host, kind);
        for (uint32_t i = 0; i < map->via.map.size; i++) {
            const msgpack_object_kv *entry = &map->via.map.ptr[i];
            if (entry->key.type != MSGPACK_OBJECT_STR || s_key_is (&entry->key, "seq")
                || s_key_is (&entry->key, "at") || s_key_is (&entry->key, "host")
                || s_key_is (&entry->key, "host_id") || s_key_is (&entry->key, "kind"))
                continue;
            char name[64];
            s_str (&entry->key, name, sizeof name);
            fprintf (out, " %s=", name);
            s_text_value (out, &entry->val);
        }
    }
    fclose (out);
    return line;
}

//  --------------------------------------------------------------------------
//  Gathering

static void
s_events_add (s_events_t *events, int64_t at_ms, uint64_t seq, const char *host, char *line)
{
    if (events->count >= S_MAX_EVENTS) {
        events->full = true;
        free (line);
        return;
    }
    if (events->count == events->cap) {
        events->cap = events->cap ? events->cap * 2 : 256;
        events->items = realloc (events->items, events->cap * sizeof *events->items);
    }
    s_event_t *event = &events->items[events->count++];
    event->at_ms = at_ms;
    event->seq = seq;
    snprintf (event->host, sizeof event->host, "%s", host);
    event->line = line;
}

static int
s_by_time (const void *a, const void *b)
{
    const s_event_t *x = (const s_event_t *) a, *y = (const s_event_t *) b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    int by_host = strcmp (x->host, y->host);
    if (by_host)
        return by_host;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

//  Sorts the events by time, prints them and forgets them.
static void
s_events_print (s_events_t *events)
{
    if (events->count)
        qsort (events->items, events->count, sizeof *events->items, s_by_time);
    for (size_t i = 0; i < events->count; i++) {
        puts (events->items[i].line);
        free (events->items[i].line);
    }
    events->count = 0;
    fflush (stdout);
}

//  Reads host's log from its cursor to its end, a page at a time, into
//  events. Returns 0, or -1 with why.
static int
s_read_host (wormctl_client_t *client, const s_options_t *options, s_host_t *host,
             s_events_t *events, char *why, size_t cap)
{
    for (;;) {
        worm_wire_writer_t request;
        worm_wire_writer_init (&request);
        worm_wire_map_open (&request);
        worm_wire_kstr (&request, "op", "log");
        worm_wire_ku64 (&request, "after", host->cursor);
        if (options->since_ms > 0)
            worm_wire_ku64 (&request, "since", (uint64_t) options->since_ms);
        worm_wire_ku64 (&request, "max", S_PAGE);
        worm_wire_map_close (&request);
        worm_wire_reader_t reply;
        worm_wire_reader_init (&reply);
        int rc = wormctl_host_call (client, &host->info, &request,
                                    wormctl_timeout_ms (client, WORMCTL_REQUEST_S), &reply, why,
                                    cap);
        worm_wire_writer_fini (&request);
        const msgpack_object_array *list = NULL;
        uint64_t next = 0, last = 0;
        bool more = false;
        if (rc == 0
            && (worm_wire_get_array (&reply, reply.root, "events", &list, S_PAGE) != 0
                || worm_wire_get_u64 (&reply, reply.root, "next", &next) != 0
                || worm_wire_get_u64 (&reply, reply.root, "last", &last) != 0
                || worm_wire_get_bool (&reply, reply.root, "more", &more) != 0)) {
            snprintf (why, cap, "bad reply: %s", reply.error);
            rc = -1;
        }
        if (rc != 0) {
            worm_wire_reader_fini (&reply);
            return -1;
        }
        if (last < host->cursor) {
            //  Its log began again (removed by hand): read it from its start
            worm_wire_reader_fini (&reply);
            host->cursor = 0;
            continue;
        }
        for (uint32_t i = 0; i < list->size; i++) {
            const msgpack_object *map = &list->ptr[i];
            uint64_t seq;
            int64_t at;
            if (map->type != MSGPACK_OBJECT_MAP || worm_wire_get_u64 (&reply, map, "seq", &seq)
                || worm_wire_get_i64 (&reply, map, "at", &at))
                continue;       //  not an event: nothing to place it by
            char *line = s_line (map, at, host->info.name, options->client->json);
            if (line)
                s_events_add (events, at, seq, host->info.name, line);
        }
        worm_wire_reader_fini (&reply);
        //  A cursor that does not move would ask for the same page forever
        bool moved = next > host->cursor;
        if (moved)
            host->cursor = next;
        if (!more || !moved)
            return 0;
    }
}

//  The hosts to read: every trusted host that answers the query (only the
//  one named by --host), merged into hosts (by id: a host restarted on its
//  state folder keeps its cursor, with its new endpoint). Returns 0, or -1
//  with err.
static int
s_discover (wormctl_client_t *client, const s_options_t *options, s_host_t *hosts, int *count,
            wormctl_told_t *told, char *err, size_t cap)
{
    wormctl_found_t *found = calloc (1, sizeof *found);
    if (options->host[0])
        found->wanted = options->host;
    if (wormctl_find_hosts (client, found, err, cap)) {
        free (found);
        return -1;
    }
    for (int i = 0; i < found->count; i++) {
        const worm_hostinfo_t *info = &found->hosts[i];
        if (options->host[0] && strcmp (info->name, options->host) != 0)
            continue;
        char why[512];
        if (!wormctl_host_trusted (client, info, why, sizeof why)) {
            char tag[600];
            snprintf (tag, sizeof tag, "!%s", why);
            if (wormctl_tell_once (told, tag))
                fprintf (stderr, "wormctl log: ignored: %s\n", why);
            continue;
        }
        int k = 0;
        while (k < *count && strcmp (hosts[k].info.id, info->id) != 0)
            k++;
        if (k == *count) {
            if (*count >= WORMCTL_MAX_HOSTS)
                continue;
            memset (&hosts[k], 0, sizeof hosts[k]);
            (*count)++;
        }
        hosts[k].info = *info;
        hosts[k].resting = false;
    }
    free (found);
    return 0;
}

//  Reads every host's news into events; a host that does not answer is
//  named on stderr (once until it answers again). Returns how many answered.
static int
s_read_all (wormctl_client_t *client, const s_options_t *options, s_host_t *hosts, int count,
            s_events_t *events)
{
    int answered = 0;
    char silent[2048] = "";
    for (int i = 0; i < count && !zsys_interrupted; i++) {
        char why[512];
        if (hosts[i].resting)
            continue;
        if (s_read_host (client, options, &hosts[i], events, why, sizeof why) == 0) {
            hosts[i].answered = true;
            hosts[i].silent_told = false;
            answered++;
        }
        else if (!zsys_interrupted) {
            hosts[i].resting = options->follow;
            if (hosts[i].silent_told)
                continue;
            hosts[i].silent_told = options->follow;
            size_t used = strlen (silent);
            snprintf (silent + used, sizeof silent - used, "%s%s (%s)", used ? ", " : "",
                      hosts[i].info.name, why);
        }
    }
    if (silent[0])
        fprintf (stderr, "wormctl log: no log from %s\n", silent);
    return answered;
}

//  --------------------------------------------------------------------------
//  The command

static int
s_log_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_options_t *options = (s_options_t *) arg;
    if (strcmp (name, "help") == 0)
        options->help = true;
    else if (strcmp (name, "json") == 0)
        options->client->json = true;
    else if (strcmp (name, "follow") == 0)
        options->follow = true;
    else if (strcmp (name, "since") == 0) {
        if (wormctl_parse_when (value, worm_wall_ms (), &options->since_ms, err, cap))
            return -1;
        if (options->since_ms <= 0)
            options->since_ms = 1;      //  the epoch itself: everything
    }
    else if (strcmp (name, "host") == 0) {
        if (!worm_name_valid (value)) {
            snprintf (err, cap, "'%s' is not a host name of 1 to 64 of [A-Za-z0-9._-]", value);
            return -1;
        }
        snprintf (options->host, sizeof options->host, "%s", value);
    }
    return 0;
}

//  wormctl log: the events of every host (or one), merged by time.
static int
s_cmd_log (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options_list[] = {
        {"since", "TIME", "only events from TIME on: seconds since the epoch, "
                          "YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS] (today), or -30s, -5m, -2h, "
                          "-1d (before now)"},
        {"host", "NAME", "only host NAME's events"},
        {"follow", NULL, "then keep printing new events, from hosts that appear later too, "
                         "until interrupted (Ctrl-C)"},
        {"json", NULL, "one JSON object per event and line"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    s_options_t options = {.client = client};
    char err[512];
    int index = 0;
    if (worm_opts_parse (options_list, argc, argv, &index, s_log_option, &options, err,
                         sizeof err))
        return wormctl_usage_error (client, "%s", err);
    if (options.help || client->help) {
        wormctl_help (
            client,
            "Usage: wormctl [GLOBAL OPTIONS] log [--since TIME] [--host NAME] [--follow] "
            "[--json]\n\n"
            "What happened on the network's hosts, merged by time: claims, spawns, exits\n"
            "(with CPU time), evictions with their receipts, kills, commands run, and\n"
            "refusals with the key and the reason. Every host agent keeps its own log\n"
            "(STATE-DIR/log, at most about twice wormd --log-max on disk); this reads each\n"
            "one's, so no single server holds it. A line: DATE TIME HOST KIND key=value ...\n"
            "Hosts that do not answer are named on stderr; the others' events are printed.\n"
            "Exits 1 when no host answered.\n",
            options_list);
        return 0;
    }
    if (index < argc)
        return wormctl_usage_error (client, "unexpected argument '%s' (see wormctl log --help)",
                                    argv[index]);
    int rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    s_host_t *hosts = calloc (WORMCTL_MAX_HOSTS, sizeof *hosts);
    wormctl_told_t *told = calloc (1, sizeof *told);
    s_events_t events = {NULL, 0, 0, false};
    int count = 0;
    rc = 1;
    if (s_discover (client, &options, hosts, &count, told, err, sizeof err)) {
        if (!zsys_interrupted)
            fprintf (stderr, "wormctl log: %s\n", err);
        goto done;
    }
    if (count == 0 && !options.follow) {
        if (options.host[0])
            fprintf (stderr, "wormctl log: host %s did not answer the query within %d ms\n",
                     options.host, wormctl_timeout_ms (client, WORMCTL_QUERY_S));
        else
            fprintf (stderr, "wormctl log: no host answered the query within %d ms\n",
                     wormctl_timeout_ms (client, WORMCTL_QUERY_S));
        goto done;
    }
    int answered = s_read_all (client, &options, hosts, count, &events);
    s_events_print (&events);
    if (events.full)
        fprintf (stderr, "wormctl log: more than %d events; the oldest were left out (use "
                         "--since)\n", S_MAX_EVENTS);
    if (!options.follow) {
        //  Those that did not answer are named already
        rc = answered ? 0 : 1;
        goto done;
    }
    //  Following: news from every host, and hosts that appear
    int64_t discovered = worm_now_ms ();
    while (!wormctl_sleep (S_POLL_MS)) {
        if (worm_now_ms () - discovered >= S_DISCOVER_MS) {
            if (s_discover (client, &options, hosts, &count, told, err, sizeof err)
                && !zsys_interrupted && wormctl_tell_once (told, "!discover"))
                fprintf (stderr, "wormctl log: %s\n", err);
            discovered = worm_now_ms ();
        }
        s_read_all (client, &options, hosts, count, &events);
        s_events_print (&events);
    }
    wormctl_say_interrupted (client, "stopped following %d host(s)", count);
    rc = 0;
done:
    for (size_t i = 0; i < events.count; i++)
        free (events.items[i].line);
    free (events.items);
    free (told);
    free (hosts);
    return rc;
}

#define S_LOG_TIMEOUT "how long to wait for the hosts' answers, then for each host's " \
                      "reply to each page (default " WORMCTL_STR (WORMCTL_QUERY_S) " s, then " \
                      WORMCTL_STR (WORMCTL_REQUEST_S) " s)"

const wormctl_command_t wormctl_log_commands[] = {
    {"log", "[--since TIME] [--host NAME] [--follow] [--json]",
     "every host's events, merged by time",
     S_LOG_TIMEOUT, true, s_cmd_log},
    {NULL, NULL, NULL, NULL, false, NULL},
};
