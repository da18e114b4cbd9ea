/*  token.c — the worm's circulating token. See token.h. */
#include "token.h"
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_FORMAT 1

struct _worm_token_t {
    char worm_id[WORM_TOKEN_ID_MAX];            //  the worm's unique id
    char worm_name[WORM_TOKEN_NAME_MAX];        //  the worm's name, for people
    char app_name[WORM_TOKEN_NAME_MAX];         //  app the segments host
    char params[WORM_TOKEN_MAX_PARAMS][WORM_TOKEN_PARAM_MAX];  //  app "key=value" parameters
    size_t param_count;                         //  how many params are set
    uint32_t target;                            //  population wanted
    uint32_t max;                               //  hard cap, counting spawns in flight
    uint64_t epoch;                             //  bumped by every regeneration
    uint64_t seq;                               //  bumped by every hop
    char origin[WORM_TOKEN_ID_MAX];             //  segment that created this epoch
    char voters[WORM_TOKEN_MAX_MEMBERS][WORM_TOKEN_ID_MAX];    //  who may replace this epoch
    size_t voter_count;                         //  how many voters
    worm_member_t members[WORM_TOKEN_MAX_MEMBERS];             //  the ring, in order
    size_t member_count;                        //  how many members
    worm_spawn_t spawns[WORM_TOKEN_MAX_SPAWNS]; //  spawns in flight
    size_t spawn_count;                         //  how many spawns
    bool kill;                                  //  the worm is being killed
    char launcher_key[WORM_TOKEN_KEY_MAX];      //  launcher's public key (issue 5)
    uint64_t round_ms;                          //  last measured round time
    uint8_t *app_state;                         //  app's replicated state, malloc'd or NULL
    size_t app_state_size;                      //  its size in bytes
};

//  --------------------------------------------------------------------------
//  Life cycle

worm_token_t *
worm_token_new (void)
{
    worm_token_t *self = (worm_token_t *) calloc (1, sizeof (worm_token_t));
    if (!self)
        return NULL;
    self->target = 1;
    self->max = 2;
    return self;
}

void
worm_token_destroy (worm_token_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->app_state);
        free (*self_p);
        *self_p = NULL;
    }
}

worm_token_t *
worm_token_dup (const worm_token_t *self)
{
    worm_token_t *copy = (worm_token_t *) malloc (sizeof (worm_token_t));
    if (!copy)
        return NULL;
    memcpy (copy, self, sizeof (worm_token_t));
    copy->app_state = NULL;
    if (self->app_state_size) {
        copy->app_state = (uint8_t *) malloc (self->app_state_size);
        if (!copy->app_state) {
            free (copy);
            return NULL;
        }
        memcpy (copy->app_state, self->app_state, self->app_state_size);
    }
    return copy;
}

//  --------------------------------------------------------------------------
//  Fields

//  Copies value into buf of cap bytes; -1 when NULL or too long.
static int
s_set_str (char *buf, size_t cap, const char *value)
{
    if (!value)
        return -1;
    size_t len = strlen (value);
    if (len >= cap)
        return -1;
    memcpy (buf, value, len + 1);
    return 0;
}

const char *
worm_token_worm_id (const worm_token_t *self)
{
    return self->worm_id;
}

int
worm_token_set_worm_id (worm_token_t *self, const char *value)
{
    return s_set_str (self->worm_id, sizeof self->worm_id, value);
}

const char *
worm_token_worm_name (const worm_token_t *self)
{
    return self->worm_name;
}

int
worm_token_set_worm_name (worm_token_t *self, const char *value)
{
    return s_set_str (self->worm_name, sizeof self->worm_name, value);
}

const char *
worm_token_app_name (const worm_token_t *self)
{
    return self->app_name;
}

int
worm_token_set_app_name (worm_token_t *self, const char *value)
{
    return s_set_str (self->app_name, sizeof self->app_name, value);
}

const char *
worm_token_launcher_key (const worm_token_t *self)
{
    return self->launcher_key;
}

int
worm_token_set_launcher_key (worm_token_t *self, const char *value)
{
    return s_set_str (self->launcher_key, sizeof self->launcher_key, value);
}

const char *
worm_token_origin (const worm_token_t *self)
{
    return self->origin;
}

int
worm_token_set_origin (worm_token_t *self, const char *value)
{
    return s_set_str (self->origin, sizeof self->origin, value);
}

uint32_t
worm_token_target (const worm_token_t *self)
{
    return self->target;
}

uint32_t
worm_token_max (const worm_token_t *self)
{
    return self->max;
}

int
worm_token_set_population (worm_token_t *self, uint32_t target, uint32_t max)
{
    if (target < 1 || max < target || max > WORM_TOKEN_MAX_MEMBERS)
        return -1;
    self->target = target;
    self->max = max;
    return 0;
}

uint64_t
worm_token_epoch (const worm_token_t *self)
{
    return self->epoch;
}

void
worm_token_set_epoch (worm_token_t *self, uint64_t epoch)
{
    self->epoch = epoch;
}

uint64_t
worm_token_seq (const worm_token_t *self)
{
    return self->seq;
}

void
worm_token_set_seq (worm_token_t *self, uint64_t seq)
{
    self->seq = seq;
}

bool
worm_token_kill (const worm_token_t *self)
{
    return self->kill;
}

void
worm_token_set_kill (worm_token_t *self, bool kill)
{
    self->kill = kill;
}

uint64_t
worm_token_round_ms (const worm_token_t *self)
{
    return self->round_ms;
}

void
worm_token_set_round_ms (worm_token_t *self, uint64_t round_ms)
{
    self->round_ms = round_ms;
}

size_t
worm_token_param_count (const worm_token_t *self)
{
    return self->param_count;
}

const char *
worm_token_param (const worm_token_t *self, size_t i)
{
    return i < self->param_count ? self->params[i] : NULL;
}

//  True when value is "key=value" with a non-empty key.
static bool
s_param_valid (const char *value)
{
    const char *eq = strchr (value, '=');
    return eq && eq != value;
}

int
worm_token_param_add (worm_token_t *self, const char *key_value)
{
    if (!key_value || self->param_count >= WORM_TOKEN_MAX_PARAMS || !s_param_valid (key_value))
        return -1;
    if (s_set_str (self->params[self->param_count], WORM_TOKEN_PARAM_MAX, key_value))
        return -1;
    self->param_count++;
    return 0;
}

const void *
worm_token_app_state (const worm_token_t *self, size_t *size)
{
    if (size)
        *size = self->app_state_size;
    return self->app_state;
}

int
worm_token_set_app_state (worm_token_t *self, const void *data, size_t size)
{
    if (size > WORM_TOKEN_APP_STATE_MAX || (size && !data))
        return -1;
    uint8_t *copy = NULL;
    if (size) {
        copy = (uint8_t *) malloc (size);
        if (!copy)
            return -1;
        memcpy (copy, data, size);
    }
    free (self->app_state);
    self->app_state = copy;
    self->app_state_size = size;
    return 0;
}

//  --------------------------------------------------------------------------
//  Members

size_t
worm_token_member_count (const worm_token_t *self)
{
    return self->member_count;
}

worm_member_t *
worm_token_member (worm_token_t *self, size_t i)
{
    return i < self->member_count ? &self->members[i] : NULL;
}

int
worm_token_member_find (const worm_token_t *self, const char *id)
{
    if (!id)
        return -1;
    for (size_t i = 0; i < self->member_count; i++)
        if (strcmp (self->members[i].id, id) == 0)
            return (int) i;
    return -1;
}

//  True when s is NUL-terminated within cap.
static bool
s_terminated (const char *s, size_t cap)
{
    return memchr (s, 0, cap) != NULL;
}

int
worm_token_member_add (worm_token_t *self, const worm_member_t *member)
{
    if (!member || self->member_count >= WORM_TOKEN_MAX_MEMBERS)
        return -1;
    if (!s_terminated (member->id, sizeof member->id) || member->id[0] == 0
        || !s_terminated (member->host, sizeof member->host)
        || !s_terminated (member->host_id, sizeof member->host_id)
        || !s_terminated (member->endpoint, sizeof member->endpoint))
        return -1;
    if ((unsigned) member->state > WORM_MEMBER_DEAD)
        return -1;
    if (worm_token_member_find (self, member->id) >= 0)
        return -1;
    self->members[self->member_count++] = *member;
    return 0;
}

int
worm_token_member_remove (worm_token_t *self, const char *id)
{
    int index = worm_token_member_find (self, id);
    if (index < 0)
        return -1;
    memmove (&self->members[index], &self->members[index + 1],
             (self->member_count - (size_t) index - 1) * sizeof (worm_member_t));
    self->member_count--;
    return 0;
}

bool
worm_token_member_is_live (const worm_token_t *self, size_t i)
{
    return i < self->member_count
           && (self->members[i].state == WORM_MEMBER_LIVE
               || self->members[i].state == WORM_MEMBER_JOINING);
}

size_t
worm_token_live_count (const worm_token_t *self)
{
    size_t count = 0;
    for (size_t i = 0; i < self->member_count; i++)
        if (worm_token_member_is_live (self, i))
            count++;
    return count;
}

size_t
worm_token_purge (worm_token_t *self)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->member_count; i++)
        if (worm_token_member_is_live (self, i))
            self->members[kept++] = self->members[i];
    size_t dropped = self->member_count - kept;
    self->member_count = kept;
    return dropped;
}

//  True when id is one of exclude[0..n).
static bool
s_excluded (const char *id, const char *const *exclude, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (exclude[i] && strcmp (exclude[i], id) == 0)
            return true;
    return false;
}

//  The first live member not excluded after me (forward) or before it, in
//  ring order; *distance (when not NULL) gets how many positions away.
static int
s_neighbour (const worm_token_t *self, const char *me, bool forward, const char *const *exclude,
             size_t n_exclude, size_t *distance)
{
    int mine = worm_token_member_find (self, me);
    if (mine < 0)
        return -1;
    size_t n = self->member_count;
    for (size_t step = 1; step < n; step++) {
        size_t i = ((size_t) mine + (forward ? step : n - step)) % n;
        if (worm_token_member_is_live (self, i)
            && !s_excluded (self->members[i].id, exclude, n_exclude)) {
            if (distance)
                *distance = step;
            return (int) i;
        }
    }
    return -1;
}

int
worm_token_successor (const worm_token_t *self, const char *me, const char *const *exclude,
                      size_t n_exclude, size_t *distance)
{
    return s_neighbour (self, me, true, exclude, n_exclude, distance);
}

int
worm_token_predecessor (const worm_token_t *self, const char *me, const char *const *exclude,
                        size_t n_exclude)
{
    return s_neighbour (self, me, false, exclude, n_exclude, NULL);
}

//  --------------------------------------------------------------------------
//  Voters

size_t
worm_token_voter_count (const worm_token_t *self)
{
    return self->voter_count;
}

const char *
worm_token_voter (const worm_token_t *self, size_t i)
{
    return i < self->voter_count ? self->voters[i] : NULL;
}

bool
worm_token_is_voter (const worm_token_t *self, const char *id)
{
    for (size_t i = 0; i < self->voter_count; i++)
        if (strcmp (self->voters[i], id) == 0)
            return true;
    return false;
}

void
worm_token_set_voters_from_live (worm_token_t *self)
{
    self->voter_count = 0;
    for (size_t i = 0; i < self->member_count; i++)
        if (worm_token_member_is_live (self, i))
            memcpy (self->voters[self->voter_count++], self->members[i].id, WORM_TOKEN_ID_MAX);
}

int
worm_token_voter_add (worm_token_t *self, const char *id)
{
    if (!id || !id[0] || self->voter_count >= WORM_TOKEN_MAX_MEMBERS
        || worm_token_is_voter (self, id))
        return -1;
    if (s_set_str (self->voters[self->voter_count], WORM_TOKEN_ID_MAX, id))
        return -1;
    self->voter_count++;
    return 0;
}

int
worm_token_voter_remove (worm_token_t *self, const char *id)
{
    for (size_t i = 0; id && i < self->voter_count; i++)
        if (strcmp (self->voters[i], id) == 0) {
            memmove (self->voters[i], self->voters[i + 1],
                     (self->voter_count - i - 1) * WORM_TOKEN_ID_MAX);
            self->voter_count--;
            return 0;
        }
    return -1;
}

bool
worm_token_voters_match_live (const worm_token_t *self)
{
    size_t live = 0;
    for (size_t i = 0; i < self->member_count; i++)
        if (worm_token_member_is_live (self, i)) {
            live++;
            if (!worm_token_is_voter (self, self->members[i].id))
                return false;
        }
    return live == self->voter_count;
}

//  --------------------------------------------------------------------------
//  Spawns

size_t
worm_token_spawn_count (const worm_token_t *self)
{
    return self->spawn_count;
}

const worm_spawn_t *
worm_token_spawn (const worm_token_t *self, size_t i)
{
    return i < self->spawn_count ? &self->spawns[i] : NULL;
}

int
worm_token_spawn_find (const worm_token_t *self, const char *id)
{
    if (!id)
        return -1;
    for (size_t i = 0; i < self->spawn_count; i++)
        if (strcmp (self->spawns[i].id, id) == 0)
            return (int) i;
    return -1;
}

int
worm_token_spawn_add (worm_token_t *self, const char *id, const char *host,
                      const char *requester, uint64_t requested_at_ms)
{
    if (!id || !id[0] || self->spawn_count >= WORM_TOKEN_MAX_SPAWNS
        || worm_token_spawn_find (self, id) >= 0)
        return -1;
    worm_spawn_t spawn;
    memset (&spawn, 0, sizeof spawn);
    if (s_set_str (spawn.id, sizeof spawn.id, id)
        || s_set_str (spawn.host, sizeof spawn.host, host ? host : "")
        || s_set_str (spawn.requester, sizeof spawn.requester, requester ? requester : ""))
        return -1;
    spawn.requested_at_ms = requested_at_ms;
    self->spawns[self->spawn_count++] = spawn;
    return 0;
}

int
worm_token_spawn_remove (worm_token_t *self, const char *id)
{
    int index = worm_token_spawn_find (self, id);
    if (index < 0)
        return -1;
    memmove (&self->spawns[index], &self->spawns[index + 1],
             (self->spawn_count - (size_t) index - 1) * sizeof (worm_spawn_t));
    self->spawn_count--;
    return 0;
}

size_t
worm_token_spawns_expire (worm_token_t *self, uint64_t now_ms, uint64_t deadline_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->spawn_count; i++) {
        const worm_spawn_t *spawn = &self->spawns[i];
        bool expired = now_ms > spawn->requested_at_ms
                       && now_ms - spawn->requested_at_ms > deadline_ms;
        if (!expired)
            self->spawns[kept++] = *spawn;
    }
    size_t dropped = self->spawn_count - kept;
    self->spawn_count = kept;
    return dropped;
}

//  --------------------------------------------------------------------------
//  Pure rules

int
worm_token_order (uint64_t epoch_a, uint64_t seq_a, uint64_t epoch_b, uint64_t seq_b)
{
    if (epoch_a != epoch_b)
        return epoch_a > epoch_b ? 1 : -1;
    if (seq_a != seq_b)
        return seq_a > seq_b ? 1 : -1;
    return 0;
}

worm_pop_decision_t
worm_token_population (worm_token_t *self, const char *me, uint64_t now_ms,
                      uint64_t join_deadline_ms, uint32_t *count)
{
    if (count)
        *count = 0;
    worm_token_spawns_expire (self, now_ms, join_deadline_ms);
    size_t live = worm_token_live_count (self);
    size_t flight = self->spawn_count;
    int mine = worm_token_member_find (self, me);
    if (live > self->target && mine >= 0 && worm_token_member_is_live (self, (size_t) mine)
        && live > 1)
        return WORM_POP_LEAVE;
    if (live + flight >= self->target || live + flight >= self->max)
        return WORM_POP_NOTHING;
    size_t want = self->target - live - flight;
    size_t room = self->max - live - flight;
    size_t list_room = WORM_TOKEN_MAX_MEMBERS - self->member_count;
    size_t spawn_room = WORM_TOKEN_MAX_SPAWNS - flight;
    size_t k = want;
    if (k > room)
        k = room;
    //  Every spawn will need a slot in the member list when it joins
    if (k + flight > list_room)
        k = list_room > flight ? list_room - flight : 0;
    if (k > spawn_room)
        k = spawn_room;
    if (k == 0)
        return WORM_POP_NOTHING;
    if (count)
        *count = (uint32_t) k;
    return WORM_POP_SPAWN;
}

size_t
worm_token_merge (worm_token_t *self, const worm_token_t *other)
{
    size_t added = 0;
    if (other->kill)
        self->kill = true;
    for (size_t i = 0; i < other->member_count; i++) {
        if (!worm_token_member_is_live (other, i))
            continue;
        if (worm_token_member_find (self, other->members[i].id) >= 0)
            continue;
        if (worm_token_live_count (self) + self->spawn_count >= self->max)
            break;
        worm_member_t member = other->members[i];
        member.state = WORM_MEMBER_JOINING;
        if (worm_token_member_add (self, &member) == 0)
            added++;
    }
    return added;
}

//  --------------------------------------------------------------------------
//  Codec

int
worm_token_encode (const worm_token_t *self, uint8_t **data, size_t *size, char *err,
                   size_t errcap)
{
    worm_wire_writer_t w;
    worm_wire_writer_init (&w);
    worm_wire_map_open (&w);
    worm_wire_ku64 (&w, "v", TOKEN_FORMAT);
    worm_wire_kstr (&w, "worm", self->worm_id);
    worm_wire_kstr (&w, "name", self->worm_name);
    worm_wire_kstr (&w, "app", self->app_name);
    worm_wire_key (&w, "params");
    worm_wire_array (&w, self->param_count);
    for (size_t i = 0; i < self->param_count; i++)
        worm_wire_str (&w, self->params[i]);
    worm_wire_ku64 (&w, "target", self->target);
    worm_wire_ku64 (&w, "max", self->max);
    worm_wire_ku64 (&w, "epoch", self->epoch);
    worm_wire_ku64 (&w, "seq", self->seq);
    worm_wire_kstr (&w, "origin", self->origin);
    worm_wire_key (&w, "voters");
    worm_wire_array (&w, self->voter_count);
    for (size_t i = 0; i < self->voter_count; i++)
        worm_wire_str (&w, self->voters[i]);
    worm_wire_key (&w, "members");
    worm_wire_array (&w, self->member_count);
    for (size_t i = 0; i < self->member_count; i++) {
        const worm_member_t *m = &self->members[i];
        worm_wire_map_open (&w);
        worm_wire_kstr (&w, "id", m->id);
        worm_wire_kstr (&w, "host", m->host);
        worm_wire_kstr (&w, "host_id", m->host_id);
        worm_wire_kstr (&w, "endpoint", m->endpoint);
        worm_wire_ku64 (&w, "pid", m->pid);
        worm_wire_ku64 (&w, "born", m->born_at_ms);
        worm_wire_ku64 (&w, "state", (uint64_t) m->state);
        worm_wire_map_close (&w);
    }
    worm_wire_key (&w, "spawns");
    worm_wire_array (&w, self->spawn_count);
    for (size_t i = 0; i < self->spawn_count; i++) {
        const worm_spawn_t *s = &self->spawns[i];
        worm_wire_map_open (&w);
        worm_wire_kstr (&w, "id", s->id);
        worm_wire_kstr (&w, "host", s->host);
        worm_wire_kstr (&w, "by", s->requester);
        worm_wire_ku64 (&w, "at", s->requested_at_ms);
        worm_wire_map_close (&w);
    }
    worm_wire_kbool (&w, "kill", self->kill);
    worm_wire_kstr (&w, "key", self->launcher_key);
    worm_wire_ku64 (&w, "round_ms", self->round_ms);
    worm_wire_kbin (&w, "app_state", self->app_state, self->app_state_size);
    worm_wire_map_close (&w);

    size_t encoded = worm_wire_writer_size (&w);
    if (encoded > WORM_TOKEN_SIZE_MAX) {
        if (err && errcap)
            snprintf (err, errcap, "token: encoding of %zu bytes exceeds %d", encoded,
                      WORM_TOKEN_SIZE_MAX);
        worm_wire_writer_fini (&w);
        return -1;
    }
    *size = encoded;
    *data = (uint8_t *) msgpack_sbuffer_release (&w.sbuf);
    worm_wire_writer_fini (&w);
    return 0;
}

//  Decoder context: the reader plus where the error goes.
typedef struct {
    worm_wire_reader_t reader;      //  parsed bytes
    char *err;                      //  caller's error buffer
    size_t errcap;                  //  its size
} s_decoder_t;

static int
s_derr (s_decoder_t *d, const char *fmt, ...)
{
    if (d->err && d->errcap) {
        char reason[WORM_TOKEN_ERROR_MAX];
        va_list args;
        va_start (args, fmt);
        vsnprintf (reason, sizeof reason, fmt, args);
        va_end (args);
        snprintf (d->err, d->errcap, "token: %s", reason);
    }
    return -1;
}

//  Reports the wire reader's error, prefixed with where (e.g. "members[3]").
static int
s_derr_wire (s_decoder_t *d, const char *where)
{
    if (where)
        return s_derr (d, "%s: %s", where, d->reader.error);
    return s_derr (d, "%s", d->reader.error);
}

//  A required string field.
static int
s_get_str (s_decoder_t *d, const msgpack_object *map, const char *key, char *buf, size_t cap,
           const char *where)
{
    if (worm_wire_get_str (&d->reader, map, key, buf, cap) != 0)
        return s_derr_wire (d, where);
    return 0;
}

//  A required unsigned field no bigger than max.
static int
s_get_u64 (s_decoder_t *d, const msgpack_object *map, const char *key, uint64_t *value,
           uint64_t max, const char *where)
{
    if (worm_wire_get_u64 (&d->reader, map, key, value) != 0)
        return s_derr_wire (d, where);
    if (*value > max) {
        if (where)
            return s_derr (d, "%s: field '%s': %llu exceeds %llu", where, key,
                           (unsigned long long) *value, (unsigned long long) max);
        return s_derr (d, "field '%s': %llu exceeds %llu", key, (unsigned long long) *value,
                       (unsigned long long) max);
    }
    return 0;
}

static int
s_decode_members (s_decoder_t *d, const msgpack_object *root, worm_token_t *self)
{
    const msgpack_object_array *array;
    if (worm_wire_get_array (&d->reader, root, "members", &array, WORM_TOKEN_MAX_MEMBERS))
        return s_derr_wire (d, NULL);
    for (uint32_t i = 0; i < array->size; i++) {
        char where[32];
        snprintf (where, sizeof where, "'members[%u]'", i);
        const msgpack_object *m = &array->ptr[i];
        if (m->type != MSGPACK_OBJECT_MAP)
            return s_derr (d, "%s: expected a map", where);
        worm_member_t member;
        memset (&member, 0, sizeof member);
        uint64_t state = 0;
        if (s_get_str (d, m, "id", member.id, sizeof member.id, where)
            || s_get_str (d, m, "host", member.host, sizeof member.host, where)
            || s_get_str (d, m, "host_id", member.host_id, sizeof member.host_id, where)
            || s_get_str (d, m, "endpoint", member.endpoint, sizeof member.endpoint, where)
            || s_get_u64 (d, m, "pid", &member.pid, UINT64_MAX, where)
            || s_get_u64 (d, m, "born", &member.born_at_ms, UINT64_MAX, where)
            || s_get_u64 (d, m, "state", &state, WORM_MEMBER_DEAD, where))
            return -1;
        member.state = (worm_member_state_t) state;
        if (member.id[0] == 0)
            return s_derr (d, "%s: field 'id': empty", where);
        if (worm_token_member_find (self, member.id) >= 0)
            return s_derr (d, "%s: field 'id': \"%s\" listed twice", where, member.id);
        if (worm_token_member_add (self, &member))
            return s_derr (d, "%s: refused", where);
    }
    return 0;
}

static int
s_decode_spawns (s_decoder_t *d, const msgpack_object *root, worm_token_t *self)
{
    const msgpack_object_array *array;
    if (worm_wire_get_array (&d->reader, root, "spawns", &array, WORM_TOKEN_MAX_SPAWNS))
        return s_derr_wire (d, NULL);
    for (uint32_t i = 0; i < array->size; i++) {
        char where[32];
        snprintf (where, sizeof where, "'spawns[%u]'", i);
        const msgpack_object *s = &array->ptr[i];
        if (s->type != MSGPACK_OBJECT_MAP)
            return s_derr (d, "%s: expected a map", where);
        worm_spawn_t spawn;
        memset (&spawn, 0, sizeof spawn);
        if (s_get_str (d, s, "id", spawn.id, sizeof spawn.id, where)
            || s_get_str (d, s, "host", spawn.host, sizeof spawn.host, where)
            || s_get_str (d, s, "by", spawn.requester, sizeof spawn.requester, where)
            || s_get_u64 (d, s, "at", &spawn.requested_at_ms, UINT64_MAX, where))
            return -1;
        if (spawn.id[0] == 0)
            return s_derr (d, "%s: field 'id': empty", where);
        if (worm_token_spawn_find (self, spawn.id) >= 0)
            return s_derr (d, "%s: field 'id': \"%s\" listed twice", where, spawn.id);
        if (worm_token_spawn_add (self, spawn.id, spawn.host, spawn.requester,
                                  spawn.requested_at_ms))
            return s_derr (d, "%s: refused", where);
    }
    return 0;
}

//  An array of strings into fixed slots; used for params and voters.
static int
s_decode_strings (s_decoder_t *d, const msgpack_object *root, const char *key, size_t max_count,
                  char *slots, size_t slot_size, size_t *count)
{
    const msgpack_object_array *array;
    if (worm_wire_get_array (&d->reader, root, key, &array, max_count))
        return s_derr_wire (d, NULL);
    for (uint32_t i = 0; i < array->size; i++) {
        char where[32];
        snprintf (where, sizeof where, "%s[%u]", key, i);
        if (worm_wire_obj_str (&d->reader, &array->ptr[i], where, slots + i * slot_size,
                               slot_size))
            return s_derr_wire (d, NULL);
    }
    *count = array->size;
    return 0;
}

static int
s_decode (s_decoder_t *d, const msgpack_object *root, worm_token_t *self)
{
    uint64_t format, target, max;
    if (s_get_u64 (d, root, "v", &format, UINT64_MAX, NULL))
        return -1;
    if (format != TOKEN_FORMAT)
        return s_derr (d, "field 'v': format %llu not understood (want %d)",
                       (unsigned long long) format, TOKEN_FORMAT);
    if (s_get_str (d, root, "worm", self->worm_id, sizeof self->worm_id, NULL)
        || s_get_str (d, root, "name", self->worm_name, sizeof self->worm_name, NULL)
        || s_get_str (d, root, "app", self->app_name, sizeof self->app_name, NULL)
        || s_get_u64 (d, root, "target", &target, WORM_TOKEN_MAX_MEMBERS, NULL)
        || s_get_u64 (d, root, "max", &max, WORM_TOKEN_MAX_MEMBERS, NULL)
        || s_get_u64 (d, root, "epoch", &self->epoch, UINT64_MAX, NULL)
        || s_get_u64 (d, root, "seq", &self->seq, UINT64_MAX, NULL)
        || s_get_str (d, root, "origin", self->origin, sizeof self->origin, NULL)
        || s_get_str (d, root, "key", self->launcher_key, sizeof self->launcher_key, NULL)
        || s_get_u64 (d, root, "round_ms", &self->round_ms, UINT64_MAX, NULL))
        return -1;
    if (worm_token_set_population (self, (uint32_t) target, (uint32_t) max))
        return s_derr (d, "fields 'target'/'max': need 1 <= target (%llu) <= max (%llu)",
                       (unsigned long long) target, (unsigned long long) max);
    if (worm_wire_get_bool (&d->reader, root, "kill", &self->kill))
        return s_derr_wire (d, NULL);
    if (self->worm_id[0] == 0)
        return s_derr (d, "field 'worm': empty");

    if (s_decode_strings (d, root, "params", WORM_TOKEN_MAX_PARAMS, &self->params[0][0],
                          WORM_TOKEN_PARAM_MAX, &self->param_count))
        return -1;
    for (size_t i = 0; i < self->param_count; i++)
        if (!s_param_valid (self->params[i]))
            return s_derr (d, "params[%zu]: not key=value", i);

    size_t voter_count = 0;
    char voters[WORM_TOKEN_MAX_MEMBERS][WORM_TOKEN_ID_MAX];
    if (s_decode_strings (d, root, "voters", WORM_TOKEN_MAX_MEMBERS, &voters[0][0],
                          WORM_TOKEN_ID_MAX, &voter_count))
        return -1;
    for (size_t i = 0; i < voter_count; i++)
        if (worm_token_voter_add (self, voters[i]))
            return s_derr (d, "voters[%zu]: empty or listed twice", i);

    if (s_decode_members (d, root, self) || s_decode_spawns (d, root, self))
        return -1;

    const void *app_state;
    size_t app_state_size;
    if (worm_wire_get_bin (&d->reader, root, "app_state", &app_state, &app_state_size,
                           WORM_TOKEN_APP_STATE_MAX))
        return s_derr_wire (d, NULL);
    if (worm_token_set_app_state (self, app_state, app_state_size))
        return s_derr (d, "field 'app_state': out of memory");
    return 0;
}

int
worm_token_decode (const void *data, size_t size, worm_token_t **self_p, char *err,
                   size_t errcap)
{
    *self_p = NULL;
    s_decoder_t d;
    d.err = err;
    d.errcap = errcap;
    if (err && errcap)
        err[0] = 0;
    worm_wire_reader_init (&d.reader);
    int rc = -1;
    worm_token_t *self = NULL;
    if (!data || worm_wire_parse (&d.reader, data, size, WORM_TOKEN_SIZE_MAX))
        s_derr_wire (&d, NULL);
    else if (!(self = worm_token_new ()))
        s_derr (&d, "out of memory");
    else
        rc = s_decode (&d, d.reader.root, self);
    worm_wire_reader_fini (&d.reader);
    if (rc == 0)
        *self_p = self;
    else
        worm_token_destroy (&self);
    return rc;
}

void
worm_token_describe (const worm_token_t *self, char *buf, size_t cap)
{
    int used = snprintf (buf, cap, "e%llu/s%llu by %s%s [",
                         (unsigned long long) self->epoch, (unsigned long long) self->seq,
                         self->origin, self->kill ? " KILL" : "");
    static const char states[] = "LJ-x";
    for (size_t i = 0; i < self->member_count && used >= 0 && (size_t) used < cap; i++)
        used += snprintf (buf + used, cap - (size_t) used, "%s%s%c", i ? " " : "",
                          self->members[i].id, states[self->members[i].state & 3]);
    if (used >= 0 && (size_t) used < cap)
        used += snprintf (buf + used, cap - (size_t) used, "] voters {");
    for (size_t i = 0; i < self->voter_count && used >= 0 && (size_t) used < cap; i++)
        used += snprintf (buf + used, cap - (size_t) used, "%s%s", i ? " " : "", self->voters[i]);
    if (used >= 0 && (size_t) used < cap)
        snprintf (buf + used, cap - (size_t) used, "} +%zu spawning, %zu/%u/%u",
                  self->spawn_count, worm_token_live_count (self), self->target, self->max);
}
