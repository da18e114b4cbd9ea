/*  client.c — `wormctl alarm add|list|cancel`: the alarm worm's commands.
    They talk to the worm's segments through their `app` op as its
    launcher (docs/PROTOCOL.md, "Alarms"); an add or a cancel is answered
    once at least two segments (every one, when the worm has fewer) hold
    it in their copy of the token. Registered in apps/list.h. */
#include "alarm.h"
#include "client.h"
#include "ctl.h"
#include "log.h"
#include "print.h"
#include "random.h"
#include "token.h"
#include "worms.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_DEFAULT_WORM "clock"
#define S_WAIT_S 15             //  default --timeout of an add or a cancel's acknowledgement
#define S_RESEND_MS 3000        //  an add no segment holds yet goes to another segment then
#define S_POLL_MS 100           //  how often the segments' copies are read meanwhile
#define S_CALL_MS 1000          //  one request to one segment

typedef struct {
    const char *worm;           //  --worm
    const char *at;             //  --at
    const char *message;        //  --message
    const char *id;             //  --id
    bool json;                  //  --json
    bool stats;                 //  --stats
    bool help;                  //  --help
    bool worm_given;            //  --worm was given (its default is set before)
} s_opts_t;

static int
s_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    s_opts_t *self = arg;
    //  An option with a value, given twice, is refused: which one was meant
    //  is not ours to guess (an alarm at the wrong time is worse than none)
    const char *before = strcmp (name, "worm") == 0 && self->worm_given ? self->worm
                         : strcmp (name, "at") == 0                     ? self->at
                         : strcmp (name, "message") == 0                ? self->message
                         : strcmp (name, "id") == 0                     ? self->id
                                                                        : NULL;
    if (before) {
        snprintf (err, cap, "given twice ('%s', then '%s'); give it once", before, value);
        return -1;
    }
    if (strcmp (name, "worm") == 0) {
        if (!worm_name_valid (value)) {
            snprintf (err, cap, "'%s' is not a worm name ([A-Za-z0-9._-]{1,64})", value);
            return -1;
        }
        self->worm = value;
        self->worm_given = true;
    }
    else if (strcmp (name, "at") == 0)
        self->at = value;
    else if (strcmp (name, "message") == 0)
        self->message = value;
    else if (strcmp (name, "id") == 0) {
        if (!worm_ringing_id_valid (value)) {
            snprintf (err, cap, "'%s' is not an alarm id (1 to %d of [A-Za-z0-9._-])", value,
                      WORM_RINGING_ID_MAX);
            return -1;
        }
        self->id = value;
    }
    else if (strcmp (name, "json") == 0)
        self->json = true;
    else if (strcmp (name, "stats") == 0)
        self->stats = true;
    else if (strcmp (name, "help") == 0)
        self->help = true;
    return 0;
}

//  "wormctl alarm VERB: TEXT" on stderr; returns the usage error's status.
static int
s_usage (const char *verb, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int
s_usage (const char *verb, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    fprintf (stderr, "wormctl alarm%s%s: %s\n", verb ? " " : "", verb ? verb : "", text);
    return WORMCTL_EXIT_USAGE;
}

//  --------------------------------------------------------------------------
//  The worm's segments

typedef struct {
    char endpoints[WORM_TOKEN_MAX_MEMBERS][128];    //  live segments that answered
    int count;                                      //  how many
    char key[WORM_TOKEN_KEY_MAX];                   //  the worm's key
    uint64_t live;                                  //  live members, as the segments see it
} s_worm_t;

//  Finds the worm's segments. Returns 0, or 1 after saying why on stderr.
static int
s_find (wormctl_client_t *client, const char *verb, const char *worm, s_worm_t *out)
{
    wormctl_segments_t *found = calloc (1, sizeof *found);
    char err[512];
    if (!found) {
        fprintf (stderr, "wormctl alarm %s: out of memory\n", verb);
        return 1;
    }
    if (wormctl_find_segments (client, worm, true, found, NULL, err, sizeof err)) {
        fprintf (stderr, "wormctl alarm %s: %s\n", verb, err);
        free (found);
        return 1;
    }
    memset (out, 0, sizeof *out);
    const char *app = NULL;
    for (int i = 0; i < found->count && out->count < WORM_TOKEN_MAX_MEMBERS; i++) {
        const wormctl_segment_t *segment = &found->items[i];
        if (!segment->answered || segment->evicting)
            continue;
        app = segment->app;
        snprintf (out->endpoints[out->count++], sizeof out->endpoints[0], "%s",
                  segment->endpoint);
        snprintf (out->key, sizeof out->key, "%s", segment->key);
        if (segment->live > out->live)
            out->live = segment->live;
    }
    int rc = 1;
    if (found->count == 0)
        fprintf (stderr, "wormctl alarm %s: no worm named %s runs on the %d host(s) that "
                         "answered (start one: wormctl launch %s --app alarm --size 3)\n",
                 verb, worm, found->answered, worm);
    else if (out->count == 0)
        fprintf (stderr, "wormctl alarm %s: worm %s has no live segment that answers us (a "
                         "worm's segments answer only the key that launched it)\n", verb, worm);
    else if (strcmp (app, "alarm") != 0)
        fprintf (stderr, "wormctl alarm %s: worm %s runs app %s, not alarm\n", verb, worm, app);
    else
        rc = 0;
    free (found);
    return rc;
}

//  Sends verb (with body, a map, or none) to the segment at endpoint.
//  Same returns as worm_ctl_call; reply is initialised by the caller.
static int
s_call (const s_worm_t *worm, const char *endpoint, const char *verb,
        worm_wire_writer_t *body, worm_wire_reader_t *reply, char *err, size_t cap)
{
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "app");
    worm_wire_kstr (&request, "verb", verb);
    if (body)
        worm_wire_kbin (&request, "body", worm_wire_writer_data (body),
                        worm_wire_writer_size (body));
    worm_wire_map_close (&request);
    int rc = worm_ctl_call (endpoint, worm->key, &request, S_CALL_MS, reply, err, cap);
    worm_wire_writer_fini (&request);
    return rc;
}

//  One segment's copy of the state, into db, and of which token. Returns 0,
//  or -1 with err.
static int
s_read_copy (const s_worm_t *worm, const char *endpoint, worm_alarm_db_t *db, uint64_t *epoch,
             uint64_t *seq, char *err, size_t cap)
{
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    const void *state = NULL;
    size_t size = 0;
    int rc = s_call (worm, endpoint, "alarm.list", NULL, &reply, err, cap);
    if (rc == 0
        && (worm_wire_get_bin (&reply, reply.root, "state", &state, &size, WORM_ALARM_STATE_MAX)
            || worm_wire_get_u64 (&reply, reply.root, "epoch", epoch)
            || worm_wire_get_u64 (&reply, reply.root, "seq", seq))) {
        snprintf (err, cap, "%s gave a bad answer: %s", endpoint, reply.error);
        rc = -1;
    }
    if (rc == 0)
        rc = worm_alarm_db_decode (db, state, size, err, cap);
    worm_wire_reader_fini (&reply);
    return rc;
}

//  How many segments must hold a change before it is acknowledged.
static int
s_needed (const s_worm_t *worm)
{
    int live = (int) (worm->live > (uint64_t) worm->count ? worm->live : (uint64_t) worm->count);
    return live >= 2 ? 2 : 1;
}

//  A wall-clock time as ISO-8601 in local time, for people.
static void
s_time_text (uint64_t wall_ms, char *buf, size_t cap)
{
    worm_ringing_time_text ((int64_t) wall_ms, buf, cap);
}

//  --------------------------------------------------------------------------
//  add and cancel: send, then wait until enough segments hold it

typedef enum { S_ADD, S_CANCEL } s_change_t;

//  What the copies say of the change: 1 done (*held copies show it), 0 not
//  yet, -1 never (err says why).
static int
s_judge (s_change_t change, const worm_alarm_t *wanted, const worm_alarm_t *seen, char *err,
         size_t cap)
{
    char due[WORM_RINGING_TIME_TEXT];
    if (!seen)
        return 0;
    if (change == S_ADD) {
        if (seen->state == WORM_ALARM_CANCELLED) {
            snprintf (err, cap, "alarm %s was cancelled; choose another id", seen->id);
            return -1;
        }
        if (strcmp (seen->message, wanted->message) != 0) {
            s_time_text (seen->due_ms, due, sizeof due);
            snprintf (err, cap, "alarm id %s is taken by another alarm (due %s: %s)", seen->id,
                      due, seen->message);
            return -1;
        }
        return 1;
    }
    if (seen->state == WORM_ALARM_CANCELLED)
        return 1;
    if (seen->state == WORM_ALARM_RUNG) {
        s_time_text (seen->done_ms, due, sizeof due);
        snprintf (err, cap, "alarm %s rang already (on %s at %s)", seen->id, seen->rung_host,
                  due);
        return -1;
    }
    return 0;
}

static int
s_change (wormctl_client_t *client, const char *verb, s_change_t change, const char *worm_name,
          const worm_alarm_t *alarm)
{
    s_worm_t worm;
    if (s_find (client, verb, worm_name, &worm))
        return 1;
    worm_alarm_db_t *db = worm_alarm_db_new ();
    if (!db) {
        fprintf (stderr, "wormctl alarm %s: out of memory\n", verb);
        return 1;
    }
    int64_t deadline = worm_now_ms () + wormctl_timeout_ms (client, S_WAIT_S);
    int64_t sent_at = 0;
    int target = 0, rc = -2;
    char err[1024] = "", last[1024] = "";
    while (rc == -2 && !zsys_interrupted) {
        int64_t now = worm_now_ms ();
        if (now >= deadline) {
            fprintf (stderr, "wormctl alarm %s: alarm %s is not held by %d segments of worm %s "
                             "after %.0f s%s%s\n", verb, alarm->id, s_needed (&worm), worm_name,
                     wormctl_timeout_ms (client, S_WAIT_S) / 1000.0, last[0] ? "; last: " : "",
                     last);
            rc = 1;
            break;
        }
        if (!sent_at || now - sent_at >= S_RESEND_MS) {
            //  To one segment; it goes into the token at that segment's
            //  next hold. Again to the next one while no segment holds it
            if (sent_at && target % worm.count == 0 && s_find (client, verb, worm_name, &worm)) {
                rc = 1;
                break;
            }
            worm_wire_writer_t body;
            worm_wire_writer_init (&body);
            worm_wire_map_open (&body);
            worm_wire_kstr (&body, "id", alarm->id);
            if (change == S_ADD) {
                worm_wire_ku64 (&body, "due", alarm->due_ms);
                worm_wire_kstr (&body, "message", alarm->message);
            }
            worm_wire_map_close (&body);
            worm_wire_reader_t reply;
            worm_wire_reader_init (&reply);
            const char *endpoint = worm.endpoints[target++ % worm.count];
            int sent = s_call (&worm, endpoint, change == S_ADD ? "alarm.add" : "alarm.cancel",
                               &body, &reply, err, sizeof err);
            worm_wire_reader_fini (&reply);
            worm_wire_writer_fini (&body);
            sent_at = now;
            if (sent == -2 && !strstr (err, "not ready") && !strstr (err, "try again")) {
                fprintf (stderr, "wormctl alarm %s: %s\n", verb, err);
                rc = 1;
                break;
            }
            if (sent)
                snprintf (last, sizeof last, "%s", err);
        }
        int held = 0;
        uint64_t seen_due = 0;
        for (int i = 0; i < worm.count && rc == -2; i++) {
            uint64_t epoch, seq;
            if (s_read_copy (&worm, worm.endpoints[i], db, &epoch, &seq, err, sizeof err)) {
                snprintf (last, sizeof last, "%s", err);
                continue;
            }
            int judged = s_judge (change, alarm, worm_alarm_db_find (db, alarm->id), err,
                                  sizeof err);
            if (judged < 0) {
                fprintf (stderr, "wormctl alarm %s: %s\n", verb, err);
                rc = 1;
            }
            held += judged > 0;
            if (judged > 0)
                seen_due = worm_alarm_db_find (db, alarm->id)->due_ms;
        }
        if (rc == -2 && held >= s_needed (&worm)) {
            if (change == S_ADD && seen_due != alarm->due_ms) {
                char due[WORM_RINGING_TIME_TEXT];
                s_time_text (seen_due, due, sizeof due);
                fprintf (stderr, "wormctl alarm add: alarm %s was there already, due %s; "
                                 "kept as it was\n", alarm->id, due);
            }
            printf ("%s\n", alarm->id);
            rc = 0;
        }
        else if (rc == -2)
            wormctl_sleep (S_POLL_MS);
    }
    worm_alarm_db_destroy (&db);
    if (rc == -2)
        rc = 1;     //  interrupted: wormctl_client_finish says so
    return rc;
}

static const worm_opt_t s_add_options[] = {
    {"worm", "NAME", "the alarm worm (default " S_DEFAULT_WORM ")"},
    {"at", "TIME", "when: ISO-8601 with a zone (2026-12-24T07:00:00+01:00, ...Z) or relative "
                   "(+30s, +5m, +2h, +1d, +1h30m)"},
    {"message", "TEXT", "what the ring says: one line of UTF-8, at most 200 bytes"},
    {"id", "ID", "the alarm's id (1 to 32 of [A-Za-z0-9._-]); adding the same id and message "
                 "again keeps the one alarm, at its first time. Default: a random one"},
    {"help", NULL, "show this help"},
    {NULL, NULL, NULL}};

static int
s_add (wormctl_client_t *client, int argc, char **argv)
{
    static const char usage[] =
        "usage: wormctl [GLOBAL] alarm add [--worm NAME] --at TIME --message TEXT [--id ID]\n"
        "Sets an alarm in the worm and prints its id once at least two of the worm's segments\n"
        "(all of them, when it has fewer) hold it, so that no single crash loses it. When it\n"
        "is due, one host that can ring (wormd --ring-command, or a local cluster's\n"
        "DIR/rings.log) rings it, once. Limits: " WORMCTL_STR (WORM_ALARM_MAX) " alarms, "
        "messages of 200 bytes, 366 days ahead.\n";
    s_opts_t opt = {.worm = S_DEFAULT_WORM};
    int index = 0;
    char err[512];
    if (worm_opts_parse (s_add_options, argc, argv, &index, s_option, &opt, err, sizeof err))
        return s_usage ("add", "%s", err);
    if (opt.help || client->help) {
        wormctl_help (client, usage, s_add_options);
        return 0;
    }
    if (index < argc)
        return s_usage ("add", "unexpected argument '%s'", argv[index]);
    if (!opt.at)
        return s_usage ("add", "say when with --at TIME (e.g. --at +5m)");
    if (!opt.message)
        return s_usage ("add", "say what with --message TEXT");
    worm_alarm_t alarm = {0};
    uint64_t now = (uint64_t) worm_wall_ms ();
    if (worm_alarm_parse_time (opt.at, now, &alarm.due_ms, err, sizeof err))
        return s_usage ("add", "--at %s", err);
    if (!worm_ringing_message_valid (opt.message, err, sizeof err))
        return s_usage ("add", "--message: %s", err);
    snprintf (alarm.message, sizeof alarm.message, "%s", opt.message);
    if (opt.id)
        snprintf (alarm.id, sizeof alarm.id, "%s", opt.id);
    else {
        char hex[13];
        worm_random_hex (hex, 12);
        snprintf (alarm.id, sizeof alarm.id, "a%s", hex);
    }
    int rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    return s_change (client, "add", S_ADD, opt.worm, &alarm);
}

static const worm_opt_t s_cancel_options[] = {
    {"worm", "NAME", "the alarm worm (default " S_DEFAULT_WORM ")"},
    {"help", NULL, "show this help"},
    {NULL, NULL, NULL}};

static int
s_cancel (wormctl_client_t *client, int argc, char **argv)
{
    static const char usage[] =
        "usage: wormctl [GLOBAL] alarm cancel [--worm NAME] ID\n"
        "Cancels a pending alarm; it never rings. Says so once at least two segments (all,\n"
        "when the worm has fewer) hold the cancel. Too late from 2 s before the alarm is\n"
        "due (its ring is under way), and for an alarm that rang.\n";
    s_opts_t opt = {.worm = S_DEFAULT_WORM};
    int index = 0;
    char err[512];
    const char *id = NULL;
    //  Options before and after the id
    while (index < argc) {
        if (worm_opts_parse (s_cancel_options, argc, argv, &index, s_option, &opt, err,
                             sizeof err))
            return s_usage ("cancel", "%s", err);
        if (index < argc) {
            if (id)
                return s_usage ("cancel", "unexpected argument '%s' (one alarm id)",
                                argv[index]);
            id = argv[index++];
        }
    }
    if (opt.help || client->help) {
        wormctl_help (client, usage, s_cancel_options);
        return 0;
    }
    if (!id)
        return s_usage ("cancel", "say which alarm: wormctl alarm cancel ID");
    if (!worm_ringing_id_valid (id))
        return s_usage ("cancel", "'%s' is not an alarm id (1 to %d of [A-Za-z0-9._-])", id,
                        WORM_RINGING_ID_MAX);
    worm_alarm_t alarm = {0};
    snprintf (alarm.id, sizeof alarm.id, "%s", id);
    int rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    rc = s_change (client, "cancel", S_CANCEL, opt.worm, &alarm);
    return rc;
}

//  --------------------------------------------------------------------------
//  list

static const worm_opt_t s_list_options[] = {
    {"worm", "NAME", "the alarm worm (default " S_DEFAULT_WORM ")"},
    {"json", NULL, "print a JSON array of {id, due, due_ms, message, state, host, at, at_ms, ring_host_id (the host chosen to ring it)}"},
    {"stats", NULL, "print one JSON object instead: {alarms, state_bytes, epoch, seq, copies} of "
                    "the freshest copy"},
    {"help", NULL, "show this help"},
    {NULL, NULL, NULL}};

static int
s_list (wormctl_client_t *client, int argc, char **argv)
{
    static const char usage[] =
        "usage: wormctl [GLOBAL] alarm list [--worm NAME] [--json | --stats]\n"
        "Lists the worm's alarms, from the freshest copy its segments hold, by due time:\n"
        "id, due, state (pending, ringing: due and not yet recorded, rung with the host\n"
        "and the time, cancelled) and message. Rung and cancelled alarms are listed for\n"
        "10 minutes.\n";
    s_opts_t opt = {.worm = S_DEFAULT_WORM};
    int index = 0;
    char err[512];
    if (worm_opts_parse (s_list_options, argc, argv, &index, s_option, &opt, err, sizeof err))
        return s_usage ("list", "%s", err);
    if (opt.help || client->help) {
        wormctl_help (client, usage, s_list_options);
        return 0;
    }
    if (index < argc)
        return s_usage ("list", "unexpected argument '%s'", argv[index]);
    if (opt.json && opt.stats)
        return s_usage ("list", "--json and --stats: one of them");
    int rc = wormctl_ready (client);
    if (rc >= 0)
        return rc;
    s_worm_t worm;
    if (s_find (client, "list", opt.worm, &worm))
        return 1;
    worm_alarm_db_t *db = worm_alarm_db_new (), *best = worm_alarm_db_new ();
    uint64_t best_epoch = 0, best_seq = 0;
    int copies = 0;
    for (int i = 0; db && best && i < worm.count; i++) {
        uint64_t epoch, seq;
        if (s_read_copy (&worm, worm.endpoints[i], db, &epoch, &seq, err, sizeof err))
            continue;
        if (!copies++ || epoch > best_epoch || (epoch == best_epoch && seq > best_seq)) {
            worm_alarm_db_t *swap = best;
            best = db;
            db = swap;
            best_epoch = epoch;
            best_seq = seq;
        }
    }
    rc = 0;
    if (!db || !best) {
        fprintf (stderr, "wormctl alarm list: out of memory\n");
        rc = 1;
    }
    else if (!copies) {
        fprintf (stderr, "wormctl alarm list: no segment of worm %s gave its copy: %s\n",
                 opt.worm, err);
        rc = 1;
    }
    if (rc == 0 && opt.stats) {
        worm_wire_writer_t state;
        worm_wire_writer_init (&state);
        worm_alarm_db_encode (best, &state);
        printf ("{\"alarms\": %zu, \"state_bytes\": %zu, \"epoch\": %llu, \"seq\": %llu, "
                "\"copies\": %d}\n", worm_alarm_db_count (best), worm_wire_writer_size (&state),
                (unsigned long long) best_epoch, (unsigned long long) best_seq, copies);
        worm_wire_writer_fini (&state);
    }
    else if (rc == 0) {
        size_t n = worm_alarm_db_count (best);
        const worm_alarm_t **order = calloc (n + 1, sizeof *order);
        for (size_t i = 0; i < n; i++) {
            //  Insertion by due time: the list is short
            const worm_alarm_t *alarm = worm_alarm_db_at (best, i);
            size_t k = i;
            while (k > 0 && order[k - 1]->due_ms > alarm->due_ms) {
                order[k] = order[k - 1];
                k--;
            }
            order[k] = alarm;
        }
        uint64_t now = (uint64_t) worm_wall_ms ();
        if (opt.json)
            printf ("[");
        else if (n)
            printf ("%-20s %-29s %-9s %-36s %s\n", "ID", "DUE", "STATE", "RUNG", "MESSAGE");
        for (size_t i = 0; i < n; i++) {
            const worm_alarm_t *alarm = order[i];
            char due[WORM_RINGING_TIME_TEXT], at[WORM_RINGING_TIME_TEXT] = "";
            s_time_text (alarm->due_ms, due, sizeof due);
            if (alarm->done_ms)
                s_time_text (alarm->done_ms, at, sizeof at);
            const char *state = worm_alarm_state_name (alarm, now);
            if (opt.json) {
                printf ("%s\n  {\"id\": ", i ? "," : "");
                wormctl_json_string (stdout, alarm->id);
                printf (", \"due\": \"%s\", \"due_ms\": %llu, \"message\": ", due,
                        (unsigned long long) alarm->due_ms);
                wormctl_json_string (stdout, alarm->message);
                printf (", \"state\": \"%s\"", state);
                if (alarm->state == WORM_ALARM_RUNG)
                    printf (", \"host\": \"%s\"", alarm->rung_host);
                if (alarm->host_id[0])
                    printf (", \"ring_host_id\": \"%s\"", alarm->host_id);
                if (alarm->done_ms)
                    printf (", \"at\": \"%s\", \"at_ms\": %llu", at,
                            (unsigned long long) alarm->done_ms);
                printf ("}");
            }
            else {
                char rung[128] = "-";
                if (alarm->state == WORM_ALARM_RUNG)
                    snprintf (rung, sizeof rung, "%s@%s", alarm->rung_host, at);
                printf ("%-20s %-29s %-9s %-36s %s\n", alarm->id, due, state, rung,
                        alarm->message);
            }
        }
        if (opt.json)
            printf ("%s]\n", n ? "\n" : "");
        free (order);
    }
    worm_alarm_db_destroy (&db);
    worm_alarm_db_destroy (&best);
    return rc;
}

//  --------------------------------------------------------------------------

static int
s_cmd_alarm (wormctl_client_t *client, int argc, char **argv)
{
    static const char usage[] =
        "usage: wormctl [GLOBAL] alarm add [--worm NAME] --at TIME --message TEXT [--id ID]\n"
        "       wormctl [GLOBAL] alarm list [--worm NAME] [--json | --stats]\n"
        "       wormctl [GLOBAL] alarm cancel [--worm NAME] ID\n"
        "The alarm-clock worm's commands (start one: wormctl launch clock --app alarm --size 3).\n"
        "Its alarms live only in the worm's token; each rings once, on a host that can ring.\n"
        "'wormctl alarm VERB --help' for each.\n";
    static const worm_opt_t options[] = {{"help", NULL, "show this help"}, {NULL, NULL, NULL}};
    if (argc > 0 && strcmp (argv[0], "add") == 0)
        return s_add (client, argc - 1, argv + 1);
    if (argc > 0 && strcmp (argv[0], "list") == 0)
        return s_list (client, argc - 1, argv + 1);
    if (argc > 0 && strcmp (argv[0], "cancel") == 0)
        return s_cancel (client, argc - 1, argv + 1);
    s_opts_t opt = {0};
    int index = 0;
    char err[512];
    if (worm_opts_parse (options, argc, argv, &index, s_option, &opt, err, sizeof err))
        return s_usage (NULL, "%s", err);
    if (opt.help || client->help) {
        wormctl_help (client, usage, options);
        return 0;
    }
    if (index < argc)
        return s_usage (NULL, "no verb '%s' (add, list or cancel)", argv[index]);
    return s_usage (NULL, "say what: add, list or cancel (wormctl alarm --help)");
}

const wormctl_command_t wormctl_app_alarm_commands[] = {
    {"alarm", "add|list|cancel [--worm NAME] ...",
     "set, list and cancel alarms in an alarm worm; each rings once when due",
     "the search for the worm's segments (default " WORMCTL_STR (WORMCTL_QUERY_S) " s, then "
     WORMCTL_STR (WORMCTL_REQUEST_S) " s), and for add and cancel the wait until two segments "
     "hold the change (default " WORMCTL_STR (S_WAIT_S) " s)",
     true, s_cmd_alarm},
    {NULL, NULL, NULL, NULL, false, NULL}};
