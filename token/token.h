/*  token.h — the worm's circulating token: data model, codec, pure rules.

    A token belongs to one worm and travels round the ring of its segments
    (see ../shared/DESIGN.md, "The token"). This module holds what the token
    carries, encodes it as one msgpack map through wire.h, decodes hostile
    bytes with hard limits, and implements the pure rules the ring applies:
    the (epoch, seq) freshness order, successor choice, member bookkeeping,
    merging two tokens after a split, and the population decision. It has no
    sockets and no clock: every time is an argument (milliseconds).

    The struct is opaque. Member and spawn records are plain structs with
    fixed-size strings; the token owns them and hands out pointers that stay
    valid until the token changes its lists or is destroyed.
*/
#ifndef WORM_TOKEN_H_INCLUDED
#define WORM_TOKEN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Hard limits, enforced by the decoder and by every setter. String limits
//  are buffer sizes: the longest string is one byte less. MAX_MEMBERS and
//  SIZE_MAX may be set at compile time, but only the wide simulator does
//  (worm-sim-wide, tests/sim/CMakeLists.txt, compiles the token sources
//  with its own); the product, and every other binary, uses these.
#ifndef WORM_TOKEN_MAX_MEMBERS
#define WORM_TOKEN_MAX_MEMBERS 64
#endif
#define WORM_TOKEN_MAX_SPAWNS 16
#define WORM_TOKEN_MAX_PARAMS 32
#define WORM_TOKEN_ID_MAX 64            //  worm id, segment id, spawn id, host id
#define WORM_TOKEN_NAME_MAX 64          //  worm name, app name
#define WORM_TOKEN_HOST_MAX 128         //  host name
#define WORM_TOKEN_ENDPOINT_MAX 128     //  e.g. "tcp://10.0.0.7:5670"
#define WORM_TOKEN_PARAM_MAX 256        //  one "key=value" app parameter
#define WORM_TOKEN_KEY_MAX 128          //  launcher key (Z85 text)
#define WORM_TOKEN_APP_STATE_MAX (64 * 1024)
#ifndef WORM_TOKEN_SIZE_MAX
#define WORM_TOKEN_SIZE_MAX (128 * 1024)
#endif
#define WORM_TOKEN_ERROR_MAX 200

typedef enum {
    WORM_MEMBER_LIVE = 0,       //  taking part in the ring
    WORM_MEMBER_JOINING = 1,    //  spawned and listed, has not yet held the token
    WORM_MEMBER_LEFT = 2,       //  left on purpose (population, kill), or confirmed
                                //  gone by its host agent; skipped
    WORM_MEMBER_DEAD = 3        //  did not acknowledge a hop; skipped
} worm_member_state_t;

//  One member of the ring. Ring order is list order.
typedef struct {
    char id[WORM_TOKEN_ID_MAX];             //  segment id, unique in the worm
    char host[WORM_TOKEN_HOST_MAX];         //  host name, for people
    char host_id[WORM_TOKEN_ID_MAX];        //  host agent id
    char endpoint[WORM_TOKEN_ENDPOINT_MAX]; //  where the segment receives
    uint64_t pid;                           //  process id on its host
    uint64_t born_at_ms;                    //  when it was listed (lister's clock)
    worm_member_state_t state;              //  see above
} worm_member_t;

//  One spawn in flight: asked of a host agent, not yet a member.
typedef struct {
    char id[WORM_TOKEN_ID_MAX];             //  spawn id, unique in the worm
    char host[WORM_TOKEN_HOST_MAX];         //  host asked, or "" when not chosen yet
    char requester[WORM_TOKEN_ID_MAX];      //  segment that asked and will list it
    uint64_t requested_at_ms;               //  when it was asked (requester's clock)
} worm_spawn_t;

//  What the holder should do about the population.
typedef enum {
    WORM_POP_NOTHING = 0,
    WORM_POP_SPAWN = 1,     //  spawn *count segments
    WORM_POP_LEAVE = 2      //  the holder leaves the worm
} worm_pop_decision_t;

typedef struct _worm_token_t worm_token_t;

//  --------------------------------------------------------------------------
//  Life cycle

//  Creates an empty token: no members, target 1, max 2, epoch 0, seq 0.
//  Returns NULL only when out of memory. The caller owns it.
worm_token_t *worm_token_new (void);
//  Destroys the token and sets *self_p to NULL; does nothing when NULL.
void worm_token_destroy (worm_token_t **self_p);
//  Returns a deep copy owned by the caller, or NULL when out of memory.
worm_token_t *worm_token_dup (const worm_token_t *self);

//  --------------------------------------------------------------------------
//  Scalar and string fields. String setters return 0, or -1 (field left
//  unchanged) when the value is NULL or does not fit its limit.

const char *worm_token_worm_id (const worm_token_t *self);
int worm_token_set_worm_id (worm_token_t *self, const char *value);
const char *worm_token_worm_name (const worm_token_t *self);
int worm_token_set_worm_name (worm_token_t *self, const char *value);
const char *worm_token_app_name (const worm_token_t *self);
int worm_token_set_app_name (worm_token_t *self, const char *value);
const char *worm_token_launcher_key (const worm_token_t *self);
int worm_token_set_launcher_key (worm_token_t *self, const char *value);
//  The segment that created the current epoch (founder or regenerator).
const char *worm_token_origin (const worm_token_t *self);
int worm_token_set_origin (worm_token_t *self, const char *value);

uint32_t worm_token_target (const worm_token_t *self);
uint32_t worm_token_max (const worm_token_t *self);
//  Sets target and hard cap; -1 unless 1 <= target <= max <= MAX_MEMBERS.
int worm_token_set_population (worm_token_t *self, uint32_t target, uint32_t max);
uint64_t worm_token_epoch (const worm_token_t *self);
void worm_token_set_epoch (worm_token_t *self, uint64_t epoch);
uint64_t worm_token_seq (const worm_token_t *self);
void worm_token_set_seq (worm_token_t *self, uint64_t seq);
bool worm_token_kill (const worm_token_t *self);
void worm_token_set_kill (worm_token_t *self, bool kill);
uint64_t worm_token_round_ms (const worm_token_t *self);
void worm_token_set_round_ms (worm_token_t *self, uint64_t round_ms);

//  App parameters: "key=value" strings, at most MAX_PARAMS.
size_t worm_token_param_count (const worm_token_t *self);
//  Returns parameter i, or NULL when out of range.
const char *worm_token_param (const worm_token_t *self, size_t i);
//  Appends one; -1 when full, too long, or without '=' or with an empty key.
int worm_token_param_add (worm_token_t *self, const char *key_value);

//  App state: opaque bytes the app owns. The pointer stays valid until the
//  next set. set copies; -1 when size exceeds APP_STATE_MAX or no memory.
const void *worm_token_app_state (const worm_token_t *self, size_t *size);
int worm_token_set_app_state (worm_token_t *self, const void *data, size_t size);

//  --------------------------------------------------------------------------
//  Members

size_t worm_token_member_count (const worm_token_t *self);
//  Returns member i (mutable, owned by the token), or NULL when out of range.
worm_member_t *worm_token_member (worm_token_t *self, size_t i);
//  Returns the index of the member with this id, or -1.
int worm_token_member_find (const worm_token_t *self, const char *id);
//  Appends a copy of member at the end of the ring. -1 when the list is
//  full, the id is empty or already listed, or the state is invalid.
int worm_token_member_add (worm_token_t *self, const worm_member_t *member);
//  Removes the member with this id; -1 when absent. Later members move up.
int worm_token_member_remove (worm_token_t *self, const char *id);
//  True when member i is LIVE or JOINING.
bool worm_token_member_is_live (const worm_token_t *self, size_t i);
//  Number of LIVE or JOINING members.
size_t worm_token_live_count (const worm_token_t *self);
//  Drops every LEFT or DEAD member; returns how many were dropped.
size_t worm_token_purge (worm_token_t *self);

//  Successor choice: the first live member after the member `me` in ring
//  order (wrapping), skipping DEAD and LEFT members and any id listed in
//  exclude[0..n_exclude). Returns its index, or -1 when there is none (me
//  is alone, or me is not listed). *distance, when not NULL, receives how
//  many ring positions the hop advances (1 for the very next member).
int worm_token_successor (const worm_token_t *self, const char *me,
                          const char *const *exclude, size_t n_exclude, size_t *distance);
//  The same walk backwards: the first live member before `me` in ring
//  order (wrapping), skipping DEAD and LEFT members and the ids in
//  exclude[0..n_exclude). Returns its index, or -1 when there is none.
int worm_token_predecessor (const worm_token_t *self, const char *me,
                            const char *const *exclude, size_t n_exclude);

//  Voters: the ids whose majority may replace this epoch's token (fixed
//  for the life of an epoch; see docs/PROTOCOL.md).
size_t worm_token_voter_count (const worm_token_t *self);
const char *worm_token_voter (const worm_token_t *self, size_t i);
bool worm_token_is_voter (const worm_token_t *self, const char *id);
//  Makes the voters exactly the live members' ids, in ring order.
void worm_token_set_voters_from_live (worm_token_t *self);
//  Appends one voter id; -1 when full, too long, empty or duplicate.
int worm_token_voter_add (worm_token_t *self, const char *id);
//  Removes one voter id; -1 when it is not a voter.
int worm_token_voter_remove (worm_token_t *self, const char *id);
//  True when the voters are exactly the live members (as sets).
bool worm_token_voters_match_live (const worm_token_t *self);

//  --------------------------------------------------------------------------
//  Spawns in flight

size_t worm_token_spawn_count (const worm_token_t *self);
//  Returns spawn i (owned by the token), or NULL when out of range.
const worm_spawn_t *worm_token_spawn (const worm_token_t *self, size_t i);
int worm_token_spawn_find (const worm_token_t *self, const char *id);
//  Lists a spawn in flight; -1 when full, id empty/too long/duplicate, or
//  a string too long. host and requester may be "".
int worm_token_spawn_add (worm_token_t *self, const char *id, const char *host,
                          const char *requester, uint64_t requested_at_ms);
int worm_token_spawn_remove (worm_token_t *self, const char *id);
//  Drops every spawn asked for more than deadline_ms before now (a spawn
//  dated in the future is kept). Returns how many were dropped.
size_t worm_token_spawns_expire (worm_token_t *self, uint64_t now_ms, uint64_t deadline_ms);

//  --------------------------------------------------------------------------
//  Pure rules

//  The freshness order of (epoch, seq) pairs: 1 when a is newer than b, 0
//  when equal, -1 when older. A segment drops a token that is not newer
//  than the last one it accepted.
int worm_token_order (uint64_t epoch_a, uint64_t seq_a, uint64_t epoch_b, uint64_t seq_b);

//  The population decision for the holder `me` at now_ms. First drops
//  spawns older than join_deadline_ms. Then, with live = live members and
//  flight = spawns in flight: LEAVE when live > target and me is live and
//  not alone; SPAWN *count = min(target - live - flight, max - live - flight)
//  when that is positive; otherwise NOTHING. Never lets live + flight pass
//  max. *count is 0 unless SPAWN. The token is changed only by the expiry.
worm_pop_decision_t worm_token_population (worm_token_t *self, const char *me, uint64_t now_ms,
                                           uint64_t join_deadline_ms, uint32_t *count);

//  Merges other (a token from the other side of a split) into self: live
//  members of other that self does not list are appended (as JOINING) while
//  live + spawns in flight stays within self's max and the list has room;
//  the kill flag is or-ed. Everything else of self is kept: self is the
//  token that wins. Returns how many members were added.
size_t worm_token_merge (worm_token_t *self, const worm_token_t *other);

//  --------------------------------------------------------------------------
//  Codec

//  Encodes the token as one msgpack map. On success returns 0 and a
//  malloc'd buffer in *data (the caller frees it) of *size bytes. Returns
//  -1 with a reason in err when the encoding would exceed SIZE_MAX.
int worm_token_encode (const worm_token_t *self, uint8_t **data, size_t *size, char *err,
                       size_t errcap);
//  Decodes hostile bytes. On success returns 0 and a new token in *self_p
//  (the caller owns it). On failure returns -1, leaves *self_p NULL, and
//  writes a reason naming the field into err ("token: members[2].endpoint:
//  ..."). Never asserts on input.
int worm_token_decode (const void *data, size_t size, worm_token_t **self_p, char *err,
                       size_t errcap);

//  Human-readable one-line summary for logs and the simulator, into buf.
void worm_token_describe (const worm_token_t *self, char *buf, size_t cap);

#endif
