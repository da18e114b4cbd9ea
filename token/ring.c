/*  ring.c — the ring protocol of one segment, sans I/O. See ring.h for the
    API and docs/PROTOCOL.md ("## Token") for the messages and the rules.

    In one paragraph: the holder keeps the token hold_ms, applies the
    population rule, and sends it to its successor, which acknowledges.
    A successor that does not acknowledge after ack_retries resends is
    marked dead and the next one is tried. The sequence number advances by
    the number of ring positions each hop passes, so a token that comes
    back to a segment in the same epoch after less than a full round is a
    twin (a hop given up on that arrived after all) and is dropped. A
    segment that sees no token for the loss timeout campaigns to regenerate
    it: a single-decree Paxos instance per epoch decides the token of the
    next epoch, with the voters listed in the token as acceptors; so at most
    one token is ever created per epoch, whatever the faults. The holder
    uses the same instance to replace the voters by the live members.

    Rescue. A majority of voters can die at once (SIGKILL of two of three).
    A voter whose host agent confirms it gone, or that announced LEAVE,
    never votes again; the only danger left is what it decided before it
    went: epochs base + 1, + 2, ... chosen by a majority now gone, perhaps
    with members we never heard of. So when the voters not gone are no
    majority, a voter may run a *rescue*: the same instance, but it needs a
    promise from every member it knows that is not gone (each answer brings
    its copy, and a newer epoch stops the rescue) and an accept from every
    voter not gone; and its token opens a new era: epoch ((F >> 40) + 1) <<
    40, F the highest epoch it or any answer has seen (the `floor`). Every
    epoch the gone could have decided lies in the old era, below it, so no
    epoch number gets two creators, and the (epoch, seq) order drops the
    old lineage where the two meet. Two rescues of one base intersect in a
    live voter (the later rescuer was alive, not gone, at the earlier
    decision, so it was in that quorum), which is all Paxos needs; rescue
    and ordinary ballots are kept apart (a voter that took part in a rescue
    refuses ordinary ballots in that instance, a rescue proposes only
    rescue values). All of it rests on the host agents telling the truth.
*/
#include "ring.h"
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_MAX 16
#define MAX_PENDING 16
#define RESCUE_ERA_BITS 40
#define MAX_DEFERRALS 3         //  campaigns of others a segment waits out in a row

//  A spawn result waiting for this segment to hold the token.
typedef struct {
    char spawn_id[WORM_TOKEN_ID_MAX];   //  which spawn
    bool ok;                            //  started, or failed
    worm_member_t member;               //  the new segment when ok
} s_pending_t;

//  One queued action plus the bytes it owns.
typedef struct {
    worm_ring_action_t action;          //  what the caller sees
    uint8_t *owned;                     //  SEND data, freed when the queue is cleared
} s_action_t;

//  When we last asked a host agent about a suspect (worm_ring_suspect).
typedef struct {
    char id[WORM_TOKEN_ID_MAX];         //  the member
    uint64_t at_ms;                     //  when
} s_suspect_t;

//  A Paxos ballot: a round number, ties broken by the proposer's id.
typedef struct {
    uint64_t round;                     //  0 = none
    char id[WORM_TOKEN_ID_MAX];         //  proposer
} s_ballot_t;

//  A set of segment ids (who promised, who accepted).
typedef struct {
    char ids[WORM_TOKEN_MAX_MEMBERS][WORM_TOKEN_ID_MAX];   //  members
    size_t count;                       //  how many
} s_idset_t;

struct _worm_ring_t {
    worm_ring_config_t config;          //  copy of the caller's configuration
    worm_ring_state_t state;            //  see worm_ring_state_t
    worm_token_t *token;                //  last token accepted (our copy), or NULL
    uint64_t last_token_ms;             //  last evidence the ring lives with us in it
    uint64_t quiet_since_ms;            //  start of the loss countdown
    uint64_t hold_until_ms;             //  HOLDING: when to release
    uint64_t hold_end_ms;               //  HOLDING: end of the pacing hold
    uint64_t extend_until_ms;           //  HOLDING: 0, or how long we may keep the token
                                        //  waiting for the spawns we asked for in this hold
    uint64_t hold_base_seq;             //  seq the token had when we took it
    uint64_t last_forward_ms;           //  when we last sent the token on (0: never)
    uint64_t last_forward_epoch;        //  in which epoch
    uint64_t round_epoch;               //  twin filter: epoch of our last hand-on
    uint64_t round_seq;                 //  ... the seq we had taken it at
    uint64_t round_len;                 //  ... and the ring length then
    bool leaving;                       //  exit once the token is handed on
    bool excluded;                      //  ... because the ring counts us out
    bool stepping_aside;                //  hand the token on, then wait (listed dead)
    bool rehold;                        //  s_hold: same holding continues, no HELD
    char leave_reason[WORM_RING_REASON_MAX];   //  why we are leaving
    bool kill_requested;                //  worm_ring_kill was called
    bool retired;                       //  we left (a token listing us LEFT went out, or
                                        //  we announced LEAVE): we never vote again
    s_idset_t left_to;                  //  whom we sent a copy listing us LEFT
    uint64_t leave_deadline_ms;         //  worm_ring_leave: exit by then at the latest
    uint64_t last_hold_ms;              //  when we last took the token (round time)
    uint64_t last_hold_epoch;           //  ... in which epoch
    uint64_t last_quorum_ms;            //  last time a token we held listed a live
                                        //  majority of its voters
    //  Forwarding
    char fwd_to[WORM_TOKEN_ID_MAX];     //  successor we sent to
    char fwd_endpoint[WORM_TOKEN_ENDPOINT_MAX];   //  its endpoint
    uint8_t *fwd_data;                  //  the TOKEN message, for resends
    size_t fwd_size;                    //  its size
    uint64_t fwd_seq;                   //  the seq it carries
    uint32_t fwd_tries;                 //  sends so far
    uint64_t fwd_deadline_ms;           //  next resend or give-up time
    char handed_to[WORM_TOKEN_ID_MAX];  //  the successor that acknowledged our last hop
    uint64_t handed_epoch, handed_seq;  //  the token it acknowledged
    char took_from[WORM_TOKEN_ID_MAX];  //  who handed us the token we hold (empty: a
                                        //  campaign of ours made it): told PASSED once our
    char took_endpoint[WORM_TOKEN_ENDPOINT_MAX];  //  hand-on is acknowledged, at this endpoint
    //  Acceptor (voter) state: one Paxos instance, deciding the successor of
    //  epoch inst_base
    uint64_t inst_base;                 //  the instance's base epoch
    s_ballot_t inst_promised;           //  highest ballot promised in it
    s_ballot_t inst_accepted;           //  ballot of the value accepted, if any
    bool inst_rescue;                   //  we promised a rescue ballot or accepted a
                                        //  rescue value in it: no normal ballot any more
    uint8_t *inst_value;                //  that value: an encoded token, or NULL
    size_t inst_value_size;             //  its size
    //  Proposer (candidate) state
    int camp_phase;                     //  0 none, 1 collecting promises, 2 accepts
    bool camp_reconfig;                 //  true: the holder changing voters
    bool camp_rescue;                   //  true: a rescue (every voter answers or is gone)
    s_idset_t camp_heard;               //  rescue: members not voters that promised
    uint64_t camp_floor;                //  rescue: highest epoch the answers knew of
    uint64_t camp_base;                 //  epoch whose successor we propose
    s_ballot_t camp_ballot;             //  our ballot
    uint64_t camp_deadline_ms;          //  give up then
    s_idset_t camp_promises;            //  voters that promised
    s_idset_t camp_accepts;             //  voters that accepted
    s_ballot_t camp_best;               //  highest accepted ballot among promises
    uint8_t *camp_value;                //  value to propose: best accepted, or ours
    size_t camp_value_size;             //  its size
    worm_token_t *camp_fresher;         //  fresher copy of the base epoch from votes
    bool camp_early;                    //  started on a holder's death, before the loss
                                        //  timeout: every member must answer, and it is
                                        //  called off when one refuses or shows the
    uint64_t camp_early_seq;            //  token got past this seq (it lives on)
    bool camp_kill;                     //  someone reported the worm killed
    uint64_t round_seen;                //  highest round heard of, for our next ballot
    uint32_t camp_attempts;             //  consecutive failures, for backoff
    uint32_t deferrals;                 //  campaigns we granted and waited out since we
                                        //  last had the token
    uint64_t next_campaign_ms;          //  not before this
    uint64_t next_reconfig_ms;          //  holder: not before this
    uint64_t next_check_ms;             //  holder: next CHECK of unreachable voters
    uint64_t next_probe_ms;             //  alone: next try of an unreachable member
    uint64_t floor;                     //  highest epoch we have seen in any token, copy
                                        //  or value (a rescue goes past it)
    s_idset_t confirmed_dead;           //  segments whose host agent said they are gone
    s_idset_t alive_hints;              //  members listed dead that campaigned since
    s_suspect_t suspects[WORM_TOKEN_MAX_MEMBERS];   //  CHECKs asked on a hint, to
                                        //  rate-limit them per member
    size_t suspect_count;               //  how many remembered
    //  Spawns
    s_pending_t pending[MAX_PENDING];   //  results waiting for the token
    size_t pending_count;               //  how many
    char asked[MAX_PENDING][WORM_TOKEN_ID_MAX];   //  spawn ids we asked for, recent first
    size_t asked_count;                 //  how many remembered
    uint64_t spawn_counter;             //  makes spawn ids unique
    //  Output
    s_action_t *actions;                //  queue of actions
    size_t action_count;                //  queued
    size_t action_cap;                  //  allocated
    size_t action_next;                 //  next to hand out
    uint64_t rng;                       //  xorshift state for jitter
    worm_ring_stats_t stats;            //  counters
    char error[WORM_TOKEN_ERROR_MAX];   //  why the last call failed
};

//  --------------------------------------------------------------------------
//  Helpers

void
worm_ring_config_defaults (worm_ring_config_t *config)
{
    memset (config, 0, sizeof *config);
    config->hold_ms = 100;
    config->ack_timeout_ms = 200;
    config->ack_retries = 2;
    config->loss_factor = 4.0;
    config->loss_floor_ms = 2000;
    config->loss_ceiling_ms = 30000;
    config->campaign_timeout_ms = 400;
    config->orphan_timeout_ms = 60000;
    config->join_deadline_ms = 20000;
    config->spawn_hold_ms = 400;
    config->seed = 1;
}

static int
s_fail (worm_ring_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
    self->stats.refused++;
    return -1;
}

static uint64_t
s_random (worm_ring_t *self)
{
    uint64_t x = self->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    self->rng = x;
    return x;
}

static const char *
s_me (worm_ring_t *self)
{
    return self->config.self.id;
}

static s_action_t *
s_push (worm_ring_t *self, worm_ring_action_type_t type)
{
    if (self->action_count == self->action_cap) {
        size_t cap = self->action_cap ? self->action_cap * 2 : 8;
        s_action_t *grown = (s_action_t *) realloc (self->actions, cap * sizeof (s_action_t));
        if (!grown)
            return NULL;
        self->actions = grown;
        self->action_cap = cap;
    }
    s_action_t *slot = &self->actions[self->action_count++];
    memset (slot, 0, sizeof *slot);
    slot->action.type = type;
    return slot;
}

//  Forgets the actions already handed out (an input call ends their
//  validity). Actions not taken yet stay queued: a caller that ticks right
//  after another input without draining in between loses none of them.
static void
s_clear_actions (worm_ring_t *self)
{
    if (self->action_next == 0)
        return;
    for (size_t i = 0; i < self->action_next; i++)
        free (self->actions[i].owned);
    memmove (self->actions, self->actions + self->action_next,
             (self->action_count - self->action_next) * sizeof (s_action_t));
    self->action_count -= self->action_next;
    self->action_next = 0;
}

//  Queues a SEND of a copy of data.
static void
s_send (worm_ring_t *self, const char *peer, const char *endpoint, const void *data, size_t size)
{
    s_action_t *slot = s_push (self, WORM_RING_SEND);
    if (!slot)
        return;
    slot->owned = (uint8_t *) malloc (size ? size : 1);
    if (!slot->owned) {
        self->action_count--;
        return;
    }
    memcpy (slot->owned, data, size);
    snprintf (slot->action.peer, sizeof slot->action.peer, "%s", peer);
    snprintf (slot->action.endpoint, sizeof slot->action.endpoint, "%s", endpoint);
    slot->action.data = slot->owned;
    slot->action.size = size;
}

static void
s_exit (worm_ring_t *self, const char *reason)
{
    if (self->state == WORM_RING_EXITED)
        return;
    self->state = WORM_RING_EXITED;
    free (self->fwd_data);
    self->fwd_data = NULL;
    s_action_t *slot = s_push (self, WORM_RING_EXIT);
    if (slot)
        snprintf (slot->action.reason, sizeof slot->action.reason, "%s", reason);
}

//  Starts an envelope of n_fields more fields after the common four.
static void
s_envelope (worm_ring_t *self, worm_wire_writer_t *w, const char *type, size_t n_fields)
{
    worm_wire_writer_init (w);
    worm_wire_map (w, 4 + n_fields);
    worm_wire_kstr (w, "type", type);
    worm_wire_kstr (w, "worm", self->config.worm_id);
    worm_wire_kstr (w, "from", s_me (self));
    worm_wire_kstr (w, "endpoint", self->config.self.endpoint);
}

static void
s_send_writer (worm_ring_t *self, const char *peer, const char *endpoint,
               worm_wire_writer_t *w)
{
    s_send (self, peer, endpoint, worm_wire_writer_data (w), worm_wire_writer_size (w));
    worm_wire_writer_fini (w);
}

//  Loss timeout for a round time of round_ms.
static uint64_t
s_loss_for (worm_ring_t *self, uint64_t round_ms)
{
    double timeout = self->config.loss_factor * (double) round_ms;
    if (timeout < (double) self->config.loss_floor_ms)
        timeout = (double) self->config.loss_floor_ms;
    if (timeout > (double) self->config.loss_ceiling_ms)
        timeout = (double) self->config.loss_ceiling_ms;
    return (uint64_t) timeout;
}

//  Loss timeout from the measured round time, but never from less than a
//  round of holds: a ring that has just grown has not measured its longer
//  round yet, and would presume its token lost while it goes round.
static uint64_t
s_loss_timeout (worm_ring_t *self)
{
    if (!self->token)
        return s_loss_for (self, 0);
    uint64_t round = worm_token_round_ms (self->token);
    uint64_t holds = self->config.hold_ms * worm_token_live_count (self->token);
    return s_loss_for (self, round > holds ? round : holds);
}

//  Our rank among the live members by id (0 = lowest id): who campaigns first.
static uint64_t
s_rank (worm_ring_t *self)
{
    uint64_t rank = 0;
    if (!self->token)
        return 0;
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        if (!worm_token_member_is_live (self->token, i))
            continue;
        if (strcmp (worm_token_member (self->token, i)->id, s_me (self)) < 0)
            rank++;
    }
    return rank;
}

static void
s_drop_forward (worm_ring_t *self)
{
    free (self->fwd_data);
    self->fwd_data = NULL;
    self->fwd_size = 0;
}

//  Compares ballots: 1 when a is higher, 0 when equal, -1 when lower.
static int
s_ballot_cmp (const s_ballot_t *a, const s_ballot_t *b)
{
    if (a->round != b->round)
        return a->round > b->round ? 1 : -1;
    int order = strcmp (a->id, b->id);
    return order > 0 ? 1 : order < 0 ? -1 : 0;
}

static bool
s_idset_add (s_idset_t *set, const char *id)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp (set->ids[i], id) == 0)
            return false;
    if (set->count >= WORM_TOKEN_MAX_MEMBERS)
        return false;
    snprintf (set->ids[set->count++], WORM_TOKEN_ID_MAX, "%s", id);
    return true;
}

//  Copies size bytes into a fresh buffer at *slot (freeing what was there).
static void
s_keep_bytes (uint8_t **slot, size_t *slot_size, const void *data, size_t size)
{
    free (*slot);
    *slot = NULL;
    *slot_size = 0;
    if (!data || !size)
        return;
    *slot = (uint8_t *) malloc (size);
    if (*slot) {
        memcpy (*slot, data, size);
        *slot_size = size;
    }
}

//  Forgets the campaign in progress, if any.
static void
s_end_campaign (worm_ring_t *self)
{
    worm_token_destroy (&self->camp_fresher);
    free (self->camp_value);
    self->camp_value = NULL;
    self->camp_value_size = 0;
    self->camp_phase = 0;
    self->camp_early = false;
    self->camp_deadline_ms = 0;
    self->camp_promises.count = 0;
    self->camp_accepts.count = 0;
    self->camp_heard.count = 0;
    self->camp_floor = 0;
    memset (&self->camp_best, 0, sizeof self->camp_best);
}

static bool s_in_idset (const s_idset_t *set, const char *id);
static void s_check (worm_ring_t *self, const worm_member_t *member);

//  Whether member i belongs in the voter set of a new epoch: LIVE members,
//  and voters we merely could not reach (DEAD but not confirmed dead by
//  their host agent: they may be alive on the other side of a split, and
//  dropping them would let a minority shrink its quorum). JOINING members
//  wait until they have held the token once.
static bool
s_wanted_voter (worm_ring_t *self, worm_token_t *token, size_t i)
{
    worm_member_t *m = worm_token_member (token, i);
    if (m->state == WORM_MEMBER_LIVE)
        return true;
    return m->state == WORM_MEMBER_DEAD && worm_token_is_voter (token, m->id)
           && !s_in_idset (&self->confirmed_dead, m->id);
}

//  True when the voters are exactly the wanted ones.
static bool
s_voters_current (worm_ring_t *self, worm_token_t *token)
{
    size_t wanted = 0;
    for (size_t i = 0; i < worm_token_member_count (token); i++)
        if (s_wanted_voter (self, token, i)) {
            wanted++;
            if (!worm_token_is_voter (token, worm_token_member (token, i)->id))
                return false;
        }
    return wanted == worm_token_voter_count (token);
}

//  Makes the voters the wanted ones, and drops members that are gone and
//  no voter any more.
static void
s_set_voters (worm_ring_t *self, worm_token_t *token)
{
    bool wanted[WORM_TOKEN_MAX_MEMBERS];
    size_t count = worm_token_member_count (token);
    for (size_t i = 0; i < count; i++)
        wanted[i] = s_wanted_voter (self, token, i);
    while (worm_token_voter_count (token) > 0)
        worm_token_voter_remove (token, worm_token_voter (token, 0));
    for (size_t i = count; i-- > 0;) {
        worm_member_t *m = worm_token_member (token, i);
        if (!wanted[i] && !worm_token_member_is_live (token, i))
            worm_token_member_remove (token, m->id);
    }
    for (size_t i = 0; i < worm_token_member_count (token); i++) {
        worm_member_t *m = worm_token_member (token, i);
        if (m->state == WORM_MEMBER_LIVE || m->state == WORM_MEMBER_DEAD)
            worm_token_voter_add (token, m->id);
    }
}

//  Writes our token copy as field "token" (or an empty one if it will not encode).
static void
s_write_copy (worm_ring_t *self, worm_wire_writer_t *w)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_encode (self->token, &bytes, &size, err, sizeof err) == 0) {
        worm_wire_kbin (w, "token", bytes, size);
        free (bytes);
    }
    else
        worm_wire_kbin (w, "token", NULL, 0);
}

//  --------------------------------------------------------------------------
//  Life cycle

worm_ring_t *
worm_ring_new (const worm_ring_config_t *config, uint64_t now_ms)
{
    if (!config || !config->worm_id[0] || !config->self.id[0]
        || !memchr (config->worm_id, 0, sizeof config->worm_id)
        || !memchr (config->self.id, 0, sizeof config->self.id)
        || !memchr (config->self.endpoint, 0, sizeof config->self.endpoint)
        || !memchr (config->self.host, 0, sizeof config->self.host)
        || !memchr (config->self.host_id, 0, sizeof config->self.host_id)
        || config->ack_timeout_ms == 0 || config->campaign_timeout_ms == 0
        || config->orphan_timeout_ms == 0 || config->loss_floor_ms == 0
        || config->loss_ceiling_ms < config->loss_floor_ms || !(config->loss_factor > 0))
        return NULL;
    worm_ring_t *self = (worm_ring_t *) calloc (1, sizeof (worm_ring_t));
    if (!self)
        return NULL;
    self->config = *config;
    self->state = WORM_RING_WAITING;
    self->last_token_ms = now_ms;
    self->quiet_since_ms = now_ms;
    self->last_quorum_ms = now_ms;
    self->rng = config->seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    if (self->rng == 0)
        self->rng = 1;
    return self;
}

void
worm_ring_destroy (worm_ring_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    worm_ring_t *self = *self_p;
    for (size_t i = 0; i < self->action_count; i++)
        free (self->actions[i].owned);
    free (self->actions);
    free (self->fwd_data);
    free (self->inst_value);
    s_end_campaign (self);
    worm_token_destroy (&self->token);
    free (self);
    *self_p = NULL;
}

static void s_release (worm_ring_t *self, uint64_t now_ms);

static bool s_in_idset (const s_idset_t *set, const char *id);

//  True when the token lists a majority of its voters as live (doing
//  without one voter confirmed dead): the ring can still reach a quorum.
static bool
s_quorum_listed (worm_ring_t *self, worm_token_t *token)
{
    size_t voters = worm_token_voter_count (token), live = 0;
    bool excused = false;
    for (size_t i = 0; i < voters; i++) {
        const char *voter = worm_token_voter (token, i);
        int index = worm_token_member_find (token, voter);
        if (index >= 0 && worm_token_member_is_live (token, (size_t) index))
            live++;
        else if (s_in_idset (&self->confirmed_dead, voter))
            excused = true;
    }
    return live * 2 > voters - (excused ? 1 : 0);
}

//  We hold self->token from now.
static void
s_hold (worm_ring_t *self, uint64_t now_ms)
{
    self->state = WORM_RING_HOLDING;
    self->hold_base_seq = worm_token_seq (self->token);
    self->hold_until_ms = worm_token_kill (self->token) ? now_ms : now_ms + self->config.hold_ms;
    if (!self->rehold) {
        //  A voter change within a hold keeps the hold's pacing and its
        //  wait for spawns
        self->hold_end_ms = self->hold_until_ms;
        self->extend_until_ms = 0;
        self->last_hold_ms = now_ms;
        self->last_hold_epoch = worm_token_epoch (self->token);
    }
    self->last_token_ms = now_ms;
    self->quiet_since_ms = now_ms;
    self->camp_attempts = 0;
    self->deferrals = 0;
    if (s_quorum_listed (self, self->token))
        self->last_quorum_ms = now_ms;
    if (!self->rehold)
        s_push (self, WORM_RING_HELD);
    self->rehold = false;
}

int
worm_ring_found (worm_ring_t *self, worm_token_t **token_p, uint64_t now_ms)
{
    s_clear_actions (self);
    worm_token_t *token = *token_p;
    *token_p = NULL;
    if (!token || self->token || self->state == WORM_RING_EXITED
        || strcmp (worm_token_worm_id (token), self->config.worm_id) != 0) {
        worm_token_destroy (&token);
        return s_fail (self, "ring: cannot found: worm id differs or already has a token");
    }
    worm_member_t me = self->config.self;
    me.state = WORM_MEMBER_LIVE;
    me.born_at_ms = now_ms;
    if (worm_token_member_find (token, me.id) >= 0)
        worm_token_member_remove (token, me.id);
    if (worm_token_member_add (token, &me)) {
        worm_token_destroy (&token);
        return s_fail (self, "ring: cannot found: member list refused us");
    }
    worm_token_set_epoch (token, 1);
    worm_token_set_seq (token, 0);
    worm_token_set_origin (token, me.id);
    self->token = token;
    s_set_voters (self, token);
    s_hold (self, now_ms);
    return 0;
}

//  --------------------------------------------------------------------------
//  Holding and forwarding

//  Sends the token to the next live member; handles being alone.
static void
s_forward (worm_ring_t *self, uint64_t now_ms)
{
    worm_token_t *token = self->token;
    size_t distance = 0;
    int next = worm_token_successor (token, s_me (self), NULL, 0, &distance);
    bool must_go = self->leaving && (self->excluded || worm_token_kill (token));
    if ((next < 0 || !s_quorum_listed (self, token)) && !must_go
        && now_ms >= self->next_probe_ms) {
        //  Alone, or without a live quorum: now and then try a member we
        //  could not reach, in case it is alive (after a healed split each
        //  side holds its own copy and would otherwise never hear of the other).
        //  A holder leaving the population above target tries too: until
        //  someone takes the token it may neither vote nor go
        self->next_probe_ms = now_ms + s_loss_timeout (self);
        int mine = worm_token_member_find (token, s_me (self));
        size_t n = worm_token_member_count (token);
        for (size_t step = 1; mine >= 0 && step < n; step++) {
            worm_member_t *m = worm_token_member (token, ((size_t) mine + step) % n);
            if (m->state == WORM_MEMBER_DEAD && !s_in_idset (&self->confirmed_dead, m->id)
                && worm_token_live_count (token) + worm_token_spawn_count (token)
                       < worm_token_max (token)) {
                m->state = WORM_MEMBER_LIVE;
                next = (int) (((size_t) mine + step) % n);
                distance = step;
                break;
            }
        }
    }
    if (next < 0 && self->stepping_aside) {
        //  Nobody else to hand it to: we are the ring
        int mine = worm_token_member_find (token, s_me (self));
        if (mine >= 0)
            worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LIVE;
        self->stepping_aside = false;
    }
    if (next < 0) {
        if (self->leaving) {
            if (worm_token_kill (token) || self->excluded) {
                s_exit (self, self->leave_reason);
                return;
            }
            //  Nobody to hand over to: stay rather than take the worm with
            //  us. But a segment that may hold a copy listing us LEFT would
            //  count us out of its quorums: we may vote again only once
            //  every such segment is confirmed gone; till then keep the
            //  token, paced, and try again
            for (size_t i = 0; i < self->left_to.count; i++)
                if (!s_in_idset (&self->confirmed_dead, self->left_to.ids[i])) {
                    int index = worm_token_member_find (token, self->left_to.ids[i]);
                    if (index >= 0)
                        s_check (self, worm_token_member (token, (size_t) index));
                    worm_token_set_round_ms (token, self->config.hold_ms);
                    s_hold (self, now_ms);
                    return;
                }
            self->retired = false;
            self->left_to.count = 0;
            int mine = worm_token_member_find (token, s_me (self));
            if (mine >= 0)
                worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LIVE;
            self->leaving = false;
        }
        //  Alone: keep the token, paced
        worm_token_set_round_ms (token, self->config.hold_ms);
        s_hold (self, now_ms);
        return;
    }
    worm_member_t *successor = worm_token_member (token, (size_t) next);
    //  seq advances by the ring positions passed (so that a hop given up on
    //  and its retry to the next member carry the same seq), and always
    //  advances
    uint64_t seq = self->hold_base_seq + distance;
    if (seq <= worm_token_seq (token) && worm_token_seq (token) > self->hold_base_seq)
        seq = worm_token_seq (token) + 1;
    worm_token_set_seq (token, seq);
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_encode (token, &bytes, &size, err, sizeof err)) {
        //  Only the app state can make it too big; drop it rather than the worm
        worm_token_set_app_state (token, NULL, 0);
        if (worm_token_encode (token, &bytes, &size, err, sizeof err)) {
            s_exit (self, "token cannot be encoded");
            return;
        }
    }
    worm_wire_writer_t w;
    s_envelope (self, &w, "TOKEN", 3);
    worm_wire_ku64 (&w, "epoch", worm_token_epoch (token));
    worm_wire_ku64 (&w, "seq", worm_token_seq (token));
    worm_wire_kbin (&w, "token", bytes, size);
    free (bytes);
    s_drop_forward (self);
    self->fwd_size = worm_wire_writer_size (&w);
    self->fwd_data = (uint8_t *) msgpack_sbuffer_release (&w.sbuf);
    worm_wire_writer_fini (&w);
    snprintf (self->fwd_to, sizeof self->fwd_to, "%s", successor->id);
    snprintf (self->fwd_endpoint, sizeof self->fwd_endpoint, "%s", successor->endpoint);
    int mine_now = worm_token_member_find (token, s_me (self));
    if (mine_now >= 0 && worm_token_member (token, (size_t) mine_now)->state == WORM_MEMBER_LEFT) {
        self->retired = true;       //  a copy listing us LEFT goes out: never vote again
        s_idset_add (&self->left_to, successor->id);
    }
    self->fwd_seq = worm_token_seq (token);
    self->fwd_tries = 1;
    self->fwd_deadline_ms = now_ms + self->config.ack_timeout_ms;
    self->state = WORM_RING_FORWARDING;
    self->last_forward_ms = now_ms;
    self->last_forward_epoch = worm_token_epoch (token);
    self->round_epoch = worm_token_epoch (token);
    self->round_seq = self->hold_base_seq;
    self->round_len = worm_token_member_count (token);
    s_send (self, self->fwd_to, self->fwd_endpoint, self->fwd_data, self->fwd_size);
}

//  Lists the spawns whose results came in while we did not hold the token.
static void
s_apply_spawn_results (worm_ring_t *self, uint64_t now_ms)
{
    for (size_t i = 0; i < self->pending_count; i++) {
        s_pending_t *p = &self->pending[i];
        if (worm_token_spawn_remove (self->token, p->spawn_id) != 0)
            continue;       //  expired meanwhile: that segment will find no token and exit
        if (p->ok) {
            worm_member_t member = p->member;
            member.state = WORM_MEMBER_JOINING;
            member.born_at_ms = now_ms;
            worm_token_member_add (self->token, &member);
        }
    }
    self->pending_count = 0;
}

static void s_campaign_start (worm_ring_t *self, uint64_t now_ms, bool reconfig, bool early);

//  True when we hold the token and may change its members now (list
//  joiners, mark the confirmed gone, ask for spawns) rather than at the
//  end of the hold: not during a voter change (its value is a copy of the
//  token as it was), nor when leaving, stepping aside, killed, stale or cut
//  off from the quorum (s_release deals with those).
static bool
s_may_tend (worm_ring_t *self, uint64_t now_ms)
{
    return self->state == WORM_RING_HOLDING && self->token && !self->camp_phase
           && !self->leaving && !self->stepping_aside && !self->retired
           && !self->kill_requested && !worm_token_kill (self->token)
           && worm_token_epoch (self->token) >= self->inst_base
           && now_ms - self->last_quorum_ms < self->config.orphan_timeout_ms;
}

//  The holder's bookkeeping of members: lists the spawn results that came
//  in, takes back members listed dead that campaigned since, and marks
//  left those a host agent confirmed gone (or that said LEAVE).
static void
s_tend (worm_ring_t *self, uint64_t now_ms)
{
    worm_token_t *token = self->token;
    s_apply_spawn_results (self, now_ms);
    //  Members we marked dead that campaigned since are alive after all (a
    //  lost ACK, a healed split): take them back while the cap allows
    for (size_t i = 0; i < self->alive_hints.count; i++) {
        int index = worm_token_member_find (token, self->alive_hints.ids[i]);
        if (index >= 0 && worm_token_member (token, (size_t) index)->state == WORM_MEMBER_DEAD
            && !s_in_idset (&self->confirmed_dead, self->alive_hints.ids[i])
            && worm_token_live_count (token) + worm_token_spawn_count (token)
                   < worm_token_max (token))
            worm_token_member (token, (size_t) index)->state = WORM_MEMBER_LIVE;
    }
    self->alive_hints.count = 0;
    //  Members a host agent confirmed gone are marked left in the token, so
    //  that every holder stops counting them as voters
    for (size_t i = 0; i < self->confirmed_dead.count; i++) {
        int index = worm_token_member_find (token, self->confirmed_dead.ids[i]);
        if (index >= 0)
            worm_token_member (token, (size_t) index)->state = WORM_MEMBER_LEFT;
    }
}

//  How long past its first ask for a spawn a holder may keep the token
//  waiting for the results: spawn_hold_ms, but never more than its share
//  of the slack between a round and the others' loss timeout. Every live
//  member may wait once per round, so a share of (loss - round) / live
//  keeps the time any segment goes without the token below its loss
//  timeout. The others' loss timeout is taken at its least: for a round of
//  holds of the members that have held the token (every copy lists those
//  live, joiners perhaps not yet); the round at its most: measured, or a
//  round of holds when that is longer (a round not measured yet).
static uint64_t
s_spawn_hold (worm_ring_t *self)
{
    if (!self->config.spawn_hold_ms)
        return 0;
    uint64_t live = worm_token_live_count (self->token), held = 0;
    for (size_t i = 0; i < worm_token_member_count (self->token); i++)
        if (worm_token_member (self->token, i)->state == WORM_MEMBER_LIVE)
            held++;
    if (live == 0)
        live = 1;
    uint64_t loss = s_loss_for (self, self->config.hold_ms * held);
    uint64_t round = worm_token_round_ms (self->token);
    if (round < self->config.hold_ms * live)
        round = self->config.hold_ms * live;
    if (loss <= round)
        return 0;
    uint64_t share = (loss - round) / live;
    return share < self->config.spawn_hold_ms ? share : self->config.spawn_hold_ms;
}

//  True when we hold the token, may still wait for spawns we asked for in
//  this hold, and one of ours is in flight.
static bool
s_awaits_spawns (worm_ring_t *self, uint64_t now_ms)
{
    if (self->state != WORM_RING_HOLDING || now_ms >= self->extend_until_ms)
        return false;
    for (size_t i = 0; i < worm_token_spawn_count (self->token); i++)
        if (strcmp (worm_token_spawn (self->token, i)->requester, s_me (self)) == 0)
            return true;
    return false;
}

//  Asks for count spawns: lists them in flight and gives SPAWN actions.
static void
s_ask_spawns (worm_ring_t *self, uint32_t count, uint64_t now_ms)
{
    for (uint32_t i = 0; i < count; i++) {
        char id[WORM_TOKEN_ID_MAX];
        snprintf (id, sizeof id, "%.40s/%llu", s_me (self),
                  (unsigned long long) ++self->spawn_counter);
        if (worm_token_spawn_add (self->token, id, "", s_me (self), now_ms))
            break;
        memmove (&self->asked[1], &self->asked[0], (MAX_PENDING - 1) * WORM_TOKEN_ID_MAX);
        snprintf (self->asked[0], WORM_TOKEN_ID_MAX, "%s", id);
        if (self->asked_count < MAX_PENDING)
            self->asked_count++;
        s_action_t *slot = s_push (self, WORM_RING_SPAWN);
        if (slot)
            snprintf (slot->action.spawn_id, sizeof slot->action.spawn_id, "%s", id);
        if (!self->extend_until_ms)
            self->extend_until_ms = now_ms + s_spawn_hold (self);
    }
}

//  While we hold the token: bring its members up to date and ask for the
//  spawns the population rule wants now, not at the end of the hold (the
//  rest of the rule, leaving and voter changes, waits for s_release).
static void
s_grow (worm_ring_t *self, uint64_t now_ms)
{
    if (!s_may_tend (self, now_ms))
        return;
    s_tend (self, now_ms);
    uint32_t count = 0;
    if (worm_token_population (self->token, s_me (self), now_ms, self->config.join_deadline_ms,
                               &count)
            == WORM_POP_SPAWN
        && s_quorum_listed (self, self->token))
        s_ask_spawns (self, count, now_ms);
}

//  The holder's work at the end of the hold: kill, spawns, population,
//  voters, then forward.
static void
s_release (worm_ring_t *self, uint64_t now_ms)
{
    worm_token_t *token = self->token;
    if (worm_token_epoch (token) < self->inst_base) {
        //  Someone campaigned from a newer epoch, so a newer token exists:
        //  ours is stale. Drop it (keep the copy) and wait for the new one.
        self->stats.stale++;
        self->state = WORM_RING_WAITING;
        self->quiet_since_ms = now_ms;
        return;
    }
    if (!self->leaving && now_ms - self->last_quorum_ms >= self->config.orphan_timeout_ms) {
        //  For the orphan timeout no token we held listed a live majority of
        //  its voters: this ring cannot replace its token or its voters (a
        //  minority side, or left over from a split). Hand on and exit; the
        //  others will do the same, and the worm's quorum side respawns.
        int mine = worm_token_member_find (token, s_me (self));
        if (mine >= 0)
            worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        self->excluded = true;
        snprintf (self->leave_reason, sizeof self->leave_reason,
                  "cut off from the worm's quorum for the orphan timeout");
    }
    if (self->leaving || self->stepping_aside) {
        s_forward (self, now_ms);
        return;
    }
    if (self->kill_requested)
        worm_token_set_kill (token, true);
    int mine = worm_token_member_find (token, s_me (self));
    if (worm_token_kill (token)) {
        if (mine >= 0)
            worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        snprintf (self->leave_reason, sizeof self->leave_reason, "worm killed");
        s_forward (self, now_ms);
        return;
    }
    s_tend (self, now_ms);
    uint32_t count = 0;
    worm_pop_decision_t decision = worm_token_population (token, s_me (self), now_ms,
                                                          self->config.join_deadline_ms, &count);
    //  A voter change pending goes first (a leaver may be the last live
    //  voter: it must hand its vote on before it goes)
    bool other_voter = false;
    for (size_t i = 0; i < worm_token_member_count (token); i++)
        if (worm_token_member (token, i)->state == WORM_MEMBER_LIVE
            && worm_token_is_voter (token, worm_token_member (token, i)->id)
            && strcmp (worm_token_member (token, i)->id, s_me (self)) != 0)
            other_voter = true;
    if (decision == WORM_POP_LEAVE && mine >= 0 && other_voter
        && (s_voters_current (self, token) || now_ms < self->next_reconfig_ms)) {
        worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        snprintf (self->leave_reason, sizeof self->leave_reason,
                  "left: population above target");
        s_forward (self, now_ms);
        return;
    }
    //  A ring that cannot reach a quorum of its voters must not grow: it is
    //  a minority side or a leftover, and the quorum side spawns instead
    if (decision == WORM_POP_SPAWN && s_quorum_listed (self, token))
        s_ask_spawns (self, count, now_ms);
    if (now_ms >= self->next_check_ms) {
        //  Ask the host agents about voters we cannot reach, so that the
        //  dead ones can leave the voter set
        self->next_check_ms = now_ms + s_loss_timeout (self);
        for (size_t i = 0; i < worm_token_member_count (token); i++) {
            worm_member_t *m = worm_token_member (token, i);
            if (m->state == WORM_MEMBER_DEAD && worm_token_is_voter (token, m->id))
                s_check (self, m);
        }
    }
    if (now_ms >= self->next_reconfig_ms && !s_voters_current (self, token)) {
        s_campaign_start (self, now_ms, true, false);
        return;
    }
    if (s_awaits_spawns (self, now_ms)) {
        //  Our spawns may start within the hold: wait for them, so that the
        //  token lists them this round rather than the next
        self->hold_until_ms = self->extend_until_ms;
        return;
    }
    s_forward (self, now_ms);
}

//  --------------------------------------------------------------------------
//  Campaigns: single-decree Paxos per base epoch. The value decided is the
//  encoded token of epoch base + 1; the acceptors are the base's voters.

//  Moves our acceptor to instance base when it is newer. Returns true when
//  we are (now) in instance base; false when base is older than ours.
static bool
s_instance (worm_ring_t *self, uint64_t base)
{
    if (base > self->inst_base) {
        self->inst_base = base;
        memset (&self->inst_promised, 0, sizeof self->inst_promised);
        memset (&self->inst_accepted, 0, sizeof self->inst_accepted);
        s_keep_bytes (&self->inst_value, &self->inst_value_size, NULL, 0);
        self->inst_rescue = false;
    }
    return base == self->inst_base;
}

//  A majority of the base epoch's voters is in set (or, for the test-only
//  unsafe switch, anyone at all).
static bool
s_in_idset (const s_idset_t *set, const char *id)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp (set->ids[i], id) == 0)
            return true;
    return false;
}

//  The voter a decision may do without: the lowest id among the voters of
//  the base epoch that a host agent confirmed dead, or NULL. Doing without
//  ONE dead acceptor keeps every two quorums overlapping in a live one.
static const char *
s_excused (worm_ring_t *self)
{
    const char *excused = NULL;
    for (size_t i = 0; i < worm_token_voter_count (self->token); i++) {
        const char *voter = worm_token_voter (self->token, i);
        if (s_in_idset (&self->confirmed_dead, voter)
            && (!excused || strcmp (voter, excused) < 0))
            excused = voter;
    }
    return excused;
}

static bool
s_majority (worm_ring_t *self, const s_idset_t *set)
{
    const char *excused = s_excused (self);
    size_t votes = 0;
    for (size_t i = 0; i < set->count; i++)
        if (worm_token_is_voter (self->token, set->ids[i])
            && !(excused && strcmp (excused, set->ids[i]) == 0))
            votes++;
    if (self->config.unsafe_no_quorum)
        return set->count > 0;
    size_t voters = worm_token_voter_count (self->token) - (excused ? 1 : 0);
    return votes * 2 > voters;
}

//  The epoch a rescue of base creates: the first epoch of the next era
//  (an era is 2^RESCUE_ERA_BITS epochs), past any epoch the ordinary
//  instances of this era could have decided unseen.
static uint64_t
s_rescue_epoch (uint64_t base)
{
    return ((base >> RESCUE_ERA_BITS) + 1) << RESCUE_ERA_BITS;
}

//  True when epoch is one a rescue of base may create: the first of a
//  later era.
static bool
s_is_rescue_epoch (uint64_t epoch, uint64_t base)
{
    return epoch >= s_rescue_epoch (base) && (epoch & ((1ull << RESCUE_ERA_BITS) - 1)) == 0;
}

//  True when segment id will never vote again: its host agent confirmed it
//  gone, it announced LEAVE, or our copy (or the fresher one a vote
//  brought) lists it LEFT (only the segment itself, once retired, or a
//  holder on its agent's word marks a member LEFT).
static bool
s_gone (worm_ring_t *self, const char *id)
{
    if (s_in_idset (&self->confirmed_dead, id))
        return true;
    worm_token_t *copies[2] = {self->token, self->camp_fresher};
    for (int c = 0; c < 2; c++) {
        int index = copies[c] ? worm_token_member_find (copies[c], id) : -1;
        if (index >= 0 && worm_token_member (copies[c], (size_t) index)->state == WORM_MEMBER_LEFT)
            return true;
        if (index >= 0 && self->config.unsafe_rescue_on_silence
            && worm_token_member (copies[c], (size_t) index)->state == WORM_MEMBER_DEAD)
            return true;        //  TEST ONLY: silence taken for death
    }
    return false;
}

//  The rescue quorum: every voter of the base epoch is in set or gone for
//  good, at least one is gone, and at least one is in set. See "Rescue" in
//  the file comment for why this is safe.
static bool
s_rescue_quorum (worm_ring_t *self, const s_idset_t *set)
{
    if (self->camp_phase == 1) {
        //  Phase 1 also hears every other member we know of, voter or not
        //  (its answer carries its copy: a newer epoch stops us)
        worm_token_t *copies[2] = {self->token, self->camp_fresher};
        for (int c = 0; c < 2; c++)
            for (size_t i = 0; copies[c] && i < worm_token_member_count (copies[c]); i++) {
                const char *id = worm_token_member (copies[c], i)->id;
                if (strcmp (id, s_me (self)) != 0 && !s_in_idset (set, id)
                    && !s_in_idset (&self->camp_heard, id) && !s_gone (self, id))
                    return false;
            }
    }
    size_t answered = 0, gone = 0;
    for (size_t i = 0; i < worm_token_voter_count (self->token); i++) {
        const char *voter = worm_token_voter (self->token, i);
        if (s_in_idset (set, voter))
            answered++;
        else if (s_gone (self, voter))
            gone++;
        else
            return false;
    }
    return answered > 0 && gone > 0;
}

//  True when no ordinary majority can be had any more: the voters not gone
//  are no majority (doing without the one excused voter).
static bool
s_needs_rescue (worm_ring_t *self)
{
    if (self->config.unsafe_no_quorum || !worm_token_is_voter (self->token, s_me (self)))
        return false;
    const char *excused = s_excused (self);
    size_t voters = worm_token_voter_count (self->token) - (excused ? 1 : 0), left = 0;
    for (size_t i = 0; i < worm_token_voter_count (self->token); i++)
        if (!s_gone (self, worm_token_voter (self->token, i)))
            left++;
    return left * 2 <= voters;
}

//  True when every member of our copy but us answered (set, or heard) or
//  is gone for good.
static bool
s_all_answered (worm_ring_t *self, const s_idset_t *set)
{
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        const char *id = worm_token_member (self->token, i)->id;
        if (strcmp (id, s_me (self)) != 0 && !s_in_idset (set, id)
            && !s_in_idset (&self->camp_heard, id) && !s_gone (self, id))
            return false;
    }
    return true;
}

//  The quorum the campaign in progress needs. An early campaign's first
//  phase needs every member's answer as well.
static bool
s_campaign_quorum (worm_ring_t *self, const s_idset_t *set)
{
    if (self->camp_early && self->camp_phase == 1 && !s_all_answered (self, set))
        return false;
    return self->camp_rescue ? s_rescue_quorum (self, set) : s_majority (self, set);
}

//  The epoch of an encoded token, or 0 when it does not decode.
static uint64_t
s_value_epoch (const void *data, size_t size)
{
    worm_token_t *token = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_decode (data, size, &token, err, sizeof err))
        return 0;
    uint64_t epoch = worm_token_epoch (token);
    worm_token_destroy (&token);
    return epoch;
}

//  Queues a CHECK of member i with its host agent, unless already confirmed.
static void
s_check (worm_ring_t *self, const worm_member_t *member)
{
    if (s_in_idset (&self->confirmed_dead, member->id) || strcmp (member->id, s_me (self)) == 0)
        return;
    s_action_t *slot = s_push (self, WORM_RING_CHECK);
    if (!slot)
        return;
    snprintf (slot->action.peer, sizeof slot->action.peer, "%s", member->id);
    snprintf (slot->action.endpoint, sizeof slot->action.endpoint, "%s", member->endpoint);
    snprintf (slot->action.host_id, sizeof slot->action.host_id, "%s", member->host_id);
    slot->action.pid = member->pid;
}

//  Sends msg to every voter of our base epoch but us; for the first phase
//  of a rescue or an early campaign, to every member we know but us.
static void
s_to_voters (worm_ring_t *self, worm_wire_writer_t *w)
{
    worm_token_t *token = self->token;
    bool all = (self->camp_rescue || self->camp_early) && self->camp_phase == 1;
    size_t count = all ? worm_token_member_count (token) : worm_token_voter_count (token);
    for (size_t i = 0; i < count; i++) {
        const char *voter = all ? worm_token_member (token, i)->id : worm_token_voter (token, i);
        if (strcmp (voter, s_me (self)) == 0 || (all && s_gone (self, voter)))
            continue;
        int index = worm_token_member_find (token, voter);
        if (index < 0)
            continue;       //  no endpoint known: counts as no answer
        s_send (self, voter, worm_token_member (token, (size_t) index)->endpoint,
                worm_wire_writer_data (w), worm_wire_writer_size (w));
    }
    worm_wire_writer_fini (w);
}

static void s_phase_two (worm_ring_t *self, uint64_t now_ms);
static void s_chosen (worm_ring_t *self, uint64_t now_ms);

//  The CAMPAIGN message of the campaign in progress, into w.
static void
s_campaign_message (worm_ring_t *self, worm_wire_writer_t *w)
{
    s_envelope (self, w, "CAMPAIGN", 7);
    worm_wire_ku64 (w, "base", self->camp_base);
    worm_wire_ku64 (w, "seq", worm_token_seq (self->token));
    worm_wire_ku64 (w, "round", self->camp_ballot.round);
    worm_wire_kbool (w, "reconfig", self->camp_reconfig);
    worm_wire_kbool (w, "rescue", self->camp_rescue);
    worm_wire_kbool (w, "early", self->camp_early);
    s_write_copy (self, w);
}

//  Rescue, phase 1: a vote brought a fresher copy of the base epoch, whose
//  members must answer too. Asks those our own copy does not list (and
//  their host agents), or the rescue could never gather them.
static void
s_campaign_widen (worm_ring_t *self)
{
    worm_token_t *fresher = self->camp_fresher;
    worm_wire_writer_t w;
    s_campaign_message (self, &w);
    for (size_t i = 0; i < worm_token_member_count (fresher); i++) {
        worm_member_t *m = worm_token_member (fresher, i);
        if (strcmp (m->id, s_me (self)) == 0 || worm_token_member_find (self->token, m->id) >= 0
            || s_gone (self, m->id))
            continue;
        s_send (self, m->id, m->endpoint, worm_wire_writer_data (&w),
                worm_wire_writer_size (&w));
        s_check (self, m);
    }
    worm_wire_writer_fini (&w);
}

//  Phase 1: ask the voters of our epoch to promise our ballot. early: the
//  member we handed the token to died with it (s_now_gone); every member
//  is asked and must answer.
static void
s_campaign_start (worm_ring_t *self, uint64_t now_ms, bool reconfig, bool early)
{
    worm_token_t *token = self->token;
    uint64_t base = worm_token_epoch (token);
    s_end_campaign (self);
    uint64_t round = self->round_seen;
    if (self->inst_base == base && self->inst_promised.round > round)
        round = self->inst_promised.round;
    self->camp_phase = 1;
    self->camp_reconfig = reconfig;
    self->camp_early = early && !reconfig;
    self->camp_early_seq = worm_token_seq (token);
    //  A rescue when no ordinary majority is left, and also when our own
    //  acceptor took part in a rescue of this base: it refuses ordinary
    //  ballots from then on, so an ordinary campaign of ours could not win
    self->camp_rescue = s_needs_rescue (self)
                        || (self->inst_base == base && self->inst_rescue
                            && worm_token_is_voter (token, s_me (self)) && !self->retired);
    self->camp_base = base;
    self->camp_ballot.round = round + 1;
    snprintf (self->camp_ballot.id, sizeof self->camp_ballot.id, "%s", s_me (self));
    self->camp_deadline_ms = now_ms + self->config.campaign_timeout_ms;
    self->camp_kill = self->kill_requested || worm_token_kill (token);
    self->stats.campaigns++;
    if (!reconfig)
        self->state = WORM_RING_CAMPAIGNING;
    worm_wire_writer_t w;
    s_campaign_message (self, &w);
    s_to_voters (self, &w);
    if (!reconfig || self->camp_rescue)
        //  Ask the host agents about every other member at once: those found
        //  gone let a rescue proceed within this campaign
        for (size_t i = 0; i < worm_token_member_count (token); i++)
            if (!s_gone (self, worm_token_member (token, i)->id))
                s_check (self, worm_token_member (token, i));
    //  Our own promise, by the acceptor's rule
    if (worm_token_is_voter (token, s_me (self)) && !self->retired && s_instance (self, base)
        && (self->camp_rescue || !self->inst_rescue)
        && s_ballot_cmp (&self->camp_ballot, &self->inst_promised) > 0) {
        self->inst_promised = self->camp_ballot;
        if (self->camp_rescue)
            self->inst_rescue = true;
        s_idset_add (&self->camp_promises, s_me (self));
        if (self->inst_value
            && (!self->camp_rescue
                || s_is_rescue_epoch (s_value_epoch (self->inst_value, self->inst_value_size),
                                      base))) {
            self->camp_best = self->inst_accepted;
            s_keep_bytes (&self->camp_value, &self->camp_value_size, self->inst_value,
                          self->inst_value_size);
        }
    }
    if (s_campaign_quorum (self, &self->camp_promises))
        s_phase_two (self, now_ms);
}

//  Our own proposal: the freshest copy of the base epoch, as epoch base + 1
//  made by us, without dead or departed members, voters = LIVE members.
static int
s_build_value (worm_ring_t *self)
{
    worm_token_t *value = worm_token_dup (self->camp_fresher && !self->camp_reconfig
                                              ? self->camp_fresher
                                              : self->token);
    if (!value)
        return -1;
    uint64_t floor = self->floor > self->camp_floor ? self->floor : self->camp_floor;
    if (floor < self->camp_base)
        floor = self->camp_base;
    worm_token_set_epoch (value, self->camp_rescue ? s_rescue_epoch (floor)
                                                   : self->camp_base + 1);
    worm_token_set_origin (value, s_me (self));
    if (self->camp_kill)
        worm_token_set_kill (value, true);
    s_set_voters (self, value);
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[WORM_TOKEN_ERROR_MAX];
    int rc = worm_token_encode (value, &bytes, &size, err, sizeof err);
    worm_token_destroy (&value);
    if (rc)
        return -1;
    free (self->camp_value);
    self->camp_value = bytes;
    self->camp_value_size = size;
    return 0;
}

//  Phase 2: ask the voters to accept the value.
static void
s_phase_two (worm_ring_t *self, uint64_t now_ms)
{
    if (!self->camp_value && s_build_value (self))
        return;     //  out of memory: the campaign times out
    self->camp_phase = 2;
    self->camp_deadline_ms = now_ms + self->config.campaign_timeout_ms;
    worm_wire_writer_t w;
    s_envelope (self, &w, "ACCEPT", 4);
    worm_wire_ku64 (&w, "base", self->camp_base);
    worm_wire_ku64 (&w, "round", self->camp_ballot.round);
    worm_wire_kbin (&w, "value", self->camp_value, self->camp_value_size);
    s_write_copy (self, &w);    //  a voter that missed our CAMPAIGN learns epoch base
    s_to_voters (self, &w);
    if (worm_token_is_voter (self->token, s_me (self)) && !self->retired
        && s_instance (self, self->camp_base) && (self->camp_rescue || !self->inst_rescue)
        && s_ballot_cmp (&self->camp_ballot, &self->inst_promised) >= 0) {
        self->inst_promised = self->camp_ballot;
        self->inst_accepted = self->camp_ballot;
        if (self->camp_rescue)
            self->inst_rescue = true;
        s_keep_bytes (&self->inst_value, &self->inst_value_size, self->camp_value,
                      self->camp_value_size);
        s_idset_add (&self->camp_accepts, s_me (self));
    }
    if (s_campaign_quorum (self, &self->camp_accepts))
        s_chosen (self, now_ms);
}

static void s_accept (worm_ring_t *self, worm_token_t *token, bool held, uint64_t now_ms);

//  A majority accepted: the value is the token of epoch base + 1, and we
//  hold it.
static void
s_chosen (worm_ring_t *self, uint64_t now_ms)
{
    worm_token_t *token = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    bool reconfig = self->camp_reconfig;
    if (worm_token_decode (self->camp_value, self->camp_value_size, &token, err, sizeof err)) {
        s_end_campaign (self);
        return;
    }
    s_end_campaign (self);
    self->camp_attempts = 0;
    if (reconfig)
        self->stats.reconfigurations++;
    else
        self->stats.regenerations++;
    s_drop_forward (self);
    if (!reconfig)
        self->took_from[0] = 0;     //  ours: nobody handed it to us
    //  A holder that changed the voters already held this token: no second
    //  HELD for the app, and no second hold
    self->rehold = reconfig;
    s_accept (self, token, true, now_ms);
    self->rehold = false;
    if (self->state == WORM_RING_HOLDING && reconfig)
        self->hold_until_ms = now_ms;
}

//  Counts a failed campaign; returns how long to wait before the next
//  (exponential backoff with jitter).
static uint64_t
s_backoff (worm_ring_t *self)
{
    self->camp_attempts++;
    uint32_t shift = self->camp_attempts < 3 ? self->camp_attempts : 3;
    uint64_t step = self->config.campaign_timeout_ms;
    return step * ((uint64_t) 1 << shift) + s_random (self) % (step * 2);
}

//  A regeneration campaign failed: the next starts after the backoff, later
//  for higher ranks.
static void
s_campaign_later (worm_ring_t *self, uint64_t now_ms)
{
    self->next_campaign_ms
        = now_ms + s_backoff (self) + s_rank (self) * self->config.campaign_timeout_ms;
}

//  A campaign that ran out of time.
static void
s_campaign_failed (worm_ring_t *self, uint64_t now_ms)
{
    bool reconfig = self->camp_reconfig;
    //  Members that did not answer may be dead: ask their host agents (those
    //  of a fresher copy a vote brought too: a rescue needs them)
    worm_token_t *copies[2] = {self->token, self->camp_fresher};
    for (int c = 0; c < 2; c++)
        for (size_t i = 0; copies[c] && i < worm_token_member_count (copies[c]); i++) {
            worm_member_t *m = worm_token_member (copies[c], i);
            if (!s_in_idset (&self->camp_promises, m->id)
                && !s_in_idset (&self->camp_heard, m->id) && !s_gone (self, m->id))
                s_check (self, m);
        }
    s_end_campaign (self);
    if (reconfig) {
        self->next_reconfig_ms = now_ms + s_backoff (self) + s_loss_timeout (self) / 2;
        s_forward (self, now_ms);
        return;
    }
    self->state = WORM_RING_WAITING;
    s_campaign_later (self, now_ms);
}

//  --------------------------------------------------------------------------
//  Accepting tokens

//  Makes token (ours now) the last seen. held: it came as a TOKEN (or was
//  chosen by our campaign) and we hold it; otherwise it is a copy learnt
//  from a vote. Exits when the token no longer lists us as live.
static void
s_accept (worm_ring_t *self, worm_token_t *token, bool held, uint64_t now_ms)
{
    //  Whatever we were doing with an older token is moot now
    s_drop_forward (self);
    s_end_campaign (self);
    bool killed = worm_token_kill (token);
    uint64_t epoch = worm_token_epoch (token);
    if (held && self->token && self->last_hold_ms && self->last_hold_epoch == epoch) {
        //  A round: from taking the token to taking it again (our own hold
        //  included), in one epoch
        uint64_t round = now_ms - self->last_hold_ms;
        worm_token_set_round_ms (token, (worm_token_round_ms (token) + round * 3) / 4);
    }
    worm_token_destroy (&self->token);
    self->token = token;
    if (epoch > self->floor)
        self->floor = epoch;
    self->stats.accepted += held;
    if (!held) {
        //  A copy: wait for the token itself. If the others think us dead
        //  it will not come, and the orphan timeout ends us.
        self->state = WORM_RING_WAITING;
        self->quiet_since_ms = now_ms;
        if (killed)
            s_exit (self, "worm killed");
        return;
    }
    self->leaving = false;
    self->excluded = false;
    self->stepping_aside = false;
    int mine = worm_token_member_find (token, s_me (self));
    if (mine < 0) {
        //  Dropped from the list, yet we hold the token: list ourselves as
        //  gone so that we can hand it on
        worm_member_t me = self->config.self;
        me.state = WORM_MEMBER_LEFT;
        me.born_at_ms = now_ms;
        if (worm_token_member_add (token, &me)) {
            s_exit (self, "excluded from the ring");
            return;
        }
        mine = worm_token_member_find (token, s_me (self));
    }
    worm_member_t *me = worm_token_member (token, (size_t) mine);
    if (self->retired)
        me->state = WORM_MEMBER_LEFT;       //  we left: hand it straight on
    if (me->state == WORM_MEMBER_DEAD && worm_token_is_voter (token, me->id)) {
        //  Counted dead (a hop to us was given up on) but still a voter:
        //  hand the token on and wait; campaigning later shows we live.
        //  Exiting would cost the worm a voter.
        self->stepping_aside = true;
    }
    else if (me->state == WORM_MEMBER_DEAD || me->state == WORM_MEMBER_LEFT) {
        //  The ring counts us out (a hop to us was given up on, or we hold
        //  a token from before we were dropped): hand it on and exit. The
        //  population rule replaces us if need be.
        me->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        self->excluded = true;
        snprintf (self->leave_reason, sizeof self->leave_reason, "excluded from the ring");
    }
    else if (me->state == WORM_MEMBER_JOINING)
        me->state = WORM_MEMBER_LIVE;
    s_hold (self, now_ms);
    //  Deaths we learnt of while waiting are acted on now: the replacement
    //  is asked for at the start of the hold, not its end
    s_grow (self, now_ms);
}

//  --------------------------------------------------------------------------
//  Messages

//  Common envelope fields.
typedef struct {
    char type[TYPE_MAX];                        //  message type
    char worm[WORM_TOKEN_ID_MAX];               //  worm id
    char from[WORM_TOKEN_ID_MAX];               //  sender's segment id
    char endpoint[WORM_TOKEN_ENDPOINT_MAX];     //  sender's endpoint
} s_envelope_t;

static int
s_read_envelope (worm_wire_reader_t *r, s_envelope_t *env)
{
    if (worm_wire_get_str (r, r->root, "type", env->type, sizeof env->type)
        || worm_wire_get_str (r, r->root, "worm", env->worm, sizeof env->worm)
        || worm_wire_get_str (r, r->root, "from", env->from, sizeof env->from)
        || worm_wire_get_str (r, r->root, "endpoint", env->endpoint, sizeof env->endpoint))
        return -1;
    if (!env->from[0]) {
        snprintf (r->error, sizeof r->error, "field 'from': empty");
        return -1;
    }
    return 0;
}


static void
s_send_ack (worm_ring_t *self, const s_envelope_t *env, uint64_t epoch, uint64_t seq)
{
    worm_wire_writer_t w;
    s_envelope (self, &w, "ACK", 2);
    worm_wire_ku64 (&w, "epoch", epoch);
    worm_wire_ku64 (&w, "seq", seq);
    s_send_writer (self, env->from, env->endpoint, &w);
}

//  True when a token of our epoch with this seq cannot be the one we
//  handed on coming back round: we hold ours, or it advanced fewer ring
//  positions than one full round. It is a twin (a hop we gave up on that
//  arrived after all, or a campaign chosen twice) and is dropped.
static bool
s_is_twin (worm_ring_t *self, uint64_t epoch, uint64_t seq)
{
    if (!self->token || epoch != worm_token_epoch (self->token))
        return false;
    if (self->state == WORM_RING_HOLDING)
        return true;
    return self->round_epoch == epoch && seq < self->round_seq + self->round_len;
}

static int
s_on_token (worm_ring_t *self, worm_wire_reader_t *r, const s_envelope_t *env, uint64_t now_ms)
{
    uint64_t epoch, seq;
    const void *bytes;
    size_t size;
    if (worm_wire_get_u64 (r, r->root, "epoch", &epoch)
        || worm_wire_get_u64 (r, r->root, "seq", &seq)
        || worm_wire_get_bin (r, r->root, "token", &bytes, &size, WORM_TOKEN_SIZE_MAX))
        return s_fail (self, "ring: TOKEN from %s: %s", env->from, r->error);
    if ((self->token
         && (worm_token_order (epoch, seq, worm_token_epoch (self->token),
                               worm_token_seq (self->token)) <= 0
             || s_is_twin (self, epoch, seq)))
        || epoch < self->inst_base) {
        //  Stale, duplicate or twin: acknowledge, so the sender stops, and drop
        self->stats.stale++;
        s_send_ack (self, env, epoch, seq);
        return 0;
    }
    worm_token_t *token = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_decode (bytes, size, &token, err, sizeof err))
        return s_fail (self, "ring: TOKEN from %s: %s", env->from, err);
    if (worm_token_epoch (token) != epoch || worm_token_seq (token) != seq
        || strcmp (worm_token_worm_id (token), self->config.worm_id) != 0) {
        worm_token_destroy (&token);
        return s_fail (self, "ring: TOKEN from %s: envelope and token disagree", env->from);
    }
    s_send_ack (self, env, epoch, seq);
    snprintf (self->took_from, sizeof self->took_from, "%s", env->from);
    snprintf (self->took_endpoint, sizeof self->took_endpoint, "%s", env->endpoint);
    s_accept (self, token, true, now_ms);
    return 0;
}

static int
s_on_ack (worm_ring_t *self, worm_wire_reader_t *r, const s_envelope_t *env, uint64_t now_ms)
{
    uint64_t epoch, seq;
    if (worm_wire_get_u64 (r, r->root, "epoch", &epoch)
        || worm_wire_get_u64 (r, r->root, "seq", &seq))
        return s_fail (self, "ring: ACK from %s: %s", env->from, r->error);
    if (self->state != WORM_RING_FORWARDING || !self->token
        || epoch != worm_token_epoch (self->token) || seq != self->fwd_seq
        || strcmp (env->from, self->fwd_to) != 0)
        return 0;
    snprintf (self->handed_to, sizeof self->handed_to, "%s", self->fwd_to);
    self->handed_epoch = epoch;
    self->handed_seq = seq;
    if (self->took_from[0] && strcmp (self->took_from, self->fwd_to) != 0) {
        //  Tell the member that handed us the token that it got past us, so
        //  that our death from now on does not make it regenerate
        worm_wire_writer_t w;
        s_envelope (self, &w, "PASSED", 2);
        worm_wire_ku64 (&w, "epoch", epoch);
        worm_wire_ku64 (&w, "seq", seq);
        s_send_writer (self, self->took_from, self->took_endpoint, &w);
    }
    self->took_from[0] = 0;
    s_drop_forward (self);
    self->state = WORM_RING_WAITING;
    self->last_token_ms = now_ms;
    self->quiet_since_ms = now_ms;
    self->deferrals = 0;
    if (self->leaving)
        s_exit (self, self->leave_reason);
    self->stepping_aside = false;
    return 0;
}

//  The member we handed the token to had its own hand-on acknowledged: its
//  death no longer means the token's.
static int
s_on_passed (worm_ring_t *self, worm_wire_reader_t *r, const s_envelope_t *env)
{
    uint64_t epoch, seq;
    if (worm_wire_get_u64 (r, r->root, "epoch", &epoch)
        || worm_wire_get_u64 (r, r->root, "seq", &seq))
        return s_fail (self, "ring: PASSED from %s: %s", env->from, r->error);
    if (strcmp (env->from, self->handed_to) == 0 && epoch == self->handed_epoch
        && seq > self->handed_seq)
        self->handed_to[0] = 0;
    return 0;
}

//  Decodes a token field and checks it belongs to our worm; NULL on error
//  (self->error set).
static worm_token_t *
s_decode_field (worm_ring_t *self, const s_envelope_t *env, const void *bytes, size_t size)
{
    worm_token_t *token = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_decode (bytes, size, &token, err, sizeof err)) {
        s_fail (self, "ring: %s from %s: %s", env->type, env->from, err);
        return NULL;
    }
    if (strcmp (worm_token_worm_id (token), self->config.worm_id) != 0) {
        worm_token_destroy (&token);
        s_fail (self, "ring: %s from %s: token of another worm", env->type, env->from);
    }
    return token;
}

//  A candidate (CAMPAIGN, ACCEPT) has seen epoch base, newer than our copy:
//  a token of it was chosen, so its copy becomes ours (we may be excluded,
//  and exit). Returns -1 when the copy is malformed or not of epoch base.
static int
s_learn_base (worm_ring_t *self, const s_envelope_t *env, uint64_t base, const void *copy,
              size_t copy_size, uint64_t now_ms)
{
    worm_token_t *newer = s_decode_field (self, env, copy, copy_size);
    if (!newer)
        return -1;
    if (worm_token_epoch (newer) != base) {
        worm_token_destroy (&newer);
        return s_fail (self, "ring: %s from %s: copy is not of epoch %llu", env->type, env->from,
                       (unsigned long long) base);
    }
    s_accept (self, newer, false, now_ms);
    return 0;
}

//  Acceptor, phase 1.
static int
s_on_campaign (worm_ring_t *self, worm_wire_reader_t *r, const s_envelope_t *env,
               uint64_t now_ms)
{
    uint64_t base, seq, round;
    bool reconfig;
    if (worm_wire_get_u64 (r, r->root, "base", &base)
        || worm_wire_get_u64 (r, r->root, "seq", &seq)
        || worm_wire_get_u64 (r, r->root, "round", &round)
        || worm_wire_get_bool (r, r->root, "reconfig", &reconfig))
        return s_fail (self, "ring: CAMPAIGN from %s: %s", env->from, r->error);
    const void *copy;
    size_t copy_size;
    if (worm_wire_get_bin (r, r->root, "token", &copy, &copy_size, WORM_TOKEN_SIZE_MAX))
        return s_fail (self, "ring: CAMPAIGN from %s: %s", env->from, r->error);
    bool rescue = false, early = false;
    if (worm_wire_get_bool (r, r->root, "rescue", &rescue) < 0
        || worm_wire_get_bool (r, r->root, "early", &early) < 0)
        return s_fail (self, "ring: CAMPAIGN from %s: %s", env->from, r->error);
    if (!self->token) {
        //  Never joined: no say, and nothing to report. A rescue or an
        //  early campaign hears it say so (it knows of no token at all),
        //  unless it left.
        if ((rescue || early) && !self->retired) {
            worm_wire_writer_t w;
            s_envelope (self, &w, "VOTE", 8);
            worm_wire_ku64 (&w, "base", base);
            worm_wire_ku64 (&w, "round", round);
            worm_wire_kbool (&w, "granted", true);
            worm_wire_ku64 (&w, "promised", 0);
            worm_wire_ku64 (&w, "seen_epoch", 0);
            worm_wire_ku64 (&w, "seen_seq", 0);
            worm_wire_kbool (&w, "killed", self->kill_requested);
            worm_wire_ku64 (&w, "floor", self->floor);
            s_send_writer (self, env->from, env->endpoint, &w);
        }
        return 0;
    }
    if (base > worm_token_epoch (self->token)) {
        if (s_learn_base (self, env, base, copy, copy_size, now_ms))
            return -1;
        if (self->state == WORM_RING_EXITED)
            return 0;
    }
    int sender = worm_token_member_find (self->token, env->from);
    if (sender >= 0 && worm_token_member (self->token, (size_t) sender)->state == WORM_MEMBER_DEAD)
        s_idset_add (&self->alive_hints, env->from);
    s_ballot_t ballot;
    ballot.round = round;
    snprintf (ballot.id, sizeof ballot.id, "%s", env->from);
    uint64_t seen = worm_token_epoch (self->token);
    bool killed = worm_token_kill (self->token) || self->kill_requested;
    //  A token seen lately makes us refuse a campaign; not an early one:
    //  its candidate's copy is as new as ours, or our vote shows it ours
    bool busy = self->state == WORM_RING_HOLDING || self->state == WORM_RING_FORWARDING
                || (!early && now_ms - self->last_token_ms < self->config.loss_floor_ms / 2);
    bool stale = base < seen;
    bool granted = !killed && !stale && !self->retired && (reconfig || !busy)
                   && s_instance (self, base) && (rescue || !self->inst_rescue)
                   && s_ballot_cmp (&ballot, &self->inst_promised) > 0;
    if (granted) {
        self->inst_promised = ballot;
        if (rescue)
            self->inst_rescue = true;
        if (self->state == WORM_RING_CAMPAIGNING) {
            //  Outbid: our campaign cannot win now; back off as if it failed
            s_end_campaign (self);
            self->state = WORM_RING_WAITING;
            s_campaign_later (self, now_ms);
        }
        //  Give the candidate time, but not for ever: a candidate that
        //  cannot win (one that is no voter, while only a rescue can help)
        //  would otherwise keep us from campaigning ourselves
        if (self->deferrals < MAX_DEFERRALS) {
            self->deferrals++;
            self->quiet_since_ms = now_ms;
        }
    }
    if (self->inst_promised.round > self->round_seen)
        self->round_seen = self->inst_promised.round;
    bool fresher = worm_token_order (seen, worm_token_seq (self->token), base, seq) > 0;
    bool has_value = granted && self->inst_value;
    worm_wire_writer_t w;
    s_envelope (self, &w, "VOTE", 8 + (fresher ? 1 : 0) + (has_value ? 3 : 0));
    worm_wire_ku64 (&w, "floor", self->floor);
    worm_wire_ku64 (&w, "base", base);
    worm_wire_ku64 (&w, "round", round);
    worm_wire_kbool (&w, "granted", granted);
    worm_wire_ku64 (&w, "promised", self->inst_promised.round);
    worm_wire_ku64 (&w, "seen_epoch", seen);
    worm_wire_ku64 (&w, "seen_seq", worm_token_seq (self->token));
    worm_wire_kbool (&w, "killed", killed);
    if (has_value) {
        worm_wire_ku64 (&w, "accepted_round", self->inst_accepted.round);
        worm_wire_kstr (&w, "accepted_by", self->inst_accepted.id);
        worm_wire_kbin (&w, "accepted_value", self->inst_value, self->inst_value_size);
    }
    if (fresher)
        s_write_copy (self, &w);
    s_send_writer (self, env->from, env->endpoint, &w);
    return 0;
}

//  Proposer, phase 1 answers.
static int
s_on_vote (worm_ring_t *self, worm_wire_reader_t *r, const s_envelope_t *env, uint64_t now_ms)
{
    uint64_t base, round, promised, seen_epoch, seen_seq;
    bool granted, killed;
    if (worm_wire_get_u64 (r, r->root, "base", &base)
        || worm_wire_get_u64 (r, r->root, "round", &round)
        || worm_wire_get_bool (r, r->root, "granted", &granted)
        || worm_wire_get_u64 (r, r->root, "promised", &promised)
        || worm_wire_get_u64 (r, r->root, "seen_epoch", &seen_epoch)
        || worm_wire_get_u64 (r, r->root, "seen_seq", &seen_seq)
        || worm_wire_get_bool (r, r->root, "killed", &killed))
        return s_fail (self, "ring: VOTE from %s: %s", env->from, r->error);
    s_ballot_t accepted;
    memset (&accepted, 0, sizeof accepted);
    const void *value = NULL, *copy = NULL;
    size_t value_size = 0, copy_size = 0;
    int has_value = worm_wire_get_bin (r, r->root, "accepted_value", &value, &value_size,
                                       WORM_TOKEN_SIZE_MAX);
    if (has_value == 0
        && (worm_wire_get_u64 (r, r->root, "accepted_round", &accepted.round)
            || worm_wire_get_str (r, r->root, "accepted_by", accepted.id, sizeof accepted.id)))
        has_value = -1;
    int has_copy = worm_wire_get_bin (r, r->root, "token", &copy, &copy_size,
                                      WORM_TOKEN_SIZE_MAX);
    if (has_value < 0 || has_copy < 0)
        return s_fail (self, "ring: VOTE from %s: %s", env->from, r->error);
    if (promised > self->round_seen)
        self->round_seen = promised;
    if (self->camp_phase != 1 || base != self->camp_base || round != self->camp_ballot.round)
        return 0;
    if (self->camp_early
        && ((seen_epoch == base && seen_seq > self->camp_early_seq)
            || (!granted && !killed && !s_gone (self, env->from)))) {
        //  Someone saw the token after the dead member had it, holds one,
        //  or backs another candidate: the token may live on. Call the
        //  campaign off; the loss timeout still covers us
        s_end_campaign (self);
        self->state = WORM_RING_WAITING;
        self->quiet_since_ms = now_ms;
        return 0;
    }
    if (killed) {
        self->camp_kill = true;
        if (!self->camp_reconfig) {
            //  The worm was killed while its token was lost: obey
            s_exit (self, "worm killed (learnt from a vote)");
            return 0;
        }
    }
    if (has_copy == 0 && copy_size > 0
        && worm_token_order (seen_epoch, seen_seq, worm_token_epoch (self->token),
                             worm_token_seq (self->token)) > 0) {
        worm_token_t *fresher = s_decode_field (self, env, copy, copy_size);
        if (!fresher)
            return -1;
        if (worm_token_epoch (fresher) > base) {
            //  We are behind: a newer epoch exists. Stop and take its copy.
            s_accept (self, fresher, false, now_ms);
            return 0;
        }
        if (worm_token_epoch (fresher) == base
            && (!self->camp_fresher
                || worm_token_order (base, worm_token_seq (fresher), base,
                                     worm_token_seq (self->camp_fresher)) > 0)) {
            worm_token_destroy (&self->camp_fresher);
            self->camp_fresher = fresher;
            if (self->camp_rescue)
                s_campaign_widen (self);
        }
        else
            worm_token_destroy (&fresher);
    }
    uint64_t floor = 0;
    if (worm_wire_get_u64 (r, r->root, "floor", &floor) < 0)
        return s_fail (self, "ring: VOTE from %s: %s", env->from, r->error);
    if (floor > self->camp_floor)
        self->camp_floor = floor;
    if (floor > self->floor)
        self->floor = floor;        //  knowledge only grows
    if (granted && (self->camp_rescue || self->camp_early)
        && !worm_token_is_voter (self->token, env->from)) {
        s_idset_add (&self->camp_heard, env->from);
        if (s_campaign_quorum (self, &self->camp_promises))
            s_phase_two (self, now_ms);
        return 0;
    }
    if (!granted || !worm_token_is_voter (self->token, env->from))
        return 0;
    s_idset_add (&self->camp_promises, env->from);
    //  A rescue takes over only rescue values: an ordinary value may have been
    //  chosen by voters now gone, and a second one of epoch base + 1 would be
    //  a twin creator
    if (has_value == 0 && value_size > 0 && s_ballot_cmp (&accepted, &self->camp_best) > 0
        && (!self->camp_rescue
            || s_is_rescue_epoch (s_value_epoch (value, value_size), self->camp_base))) {
        self->camp_best = accepted;
        s_keep_bytes (&self->camp_value, &self->camp_value_size, value, value_size);
    }
    if (s_campaign_quorum (self, &self->camp_promises))
        s_phase_two (self, now_ms);
    return 0;
}

//  Acceptor, phase 2.
static int
s_on_accept (worm_ring_t *self, worm_wire_reader_t *r, const s_envelope_t *env,
             uint64_t now_ms)
{
    uint64_t base, round;
    const void *value;
    size_t size;
    if (worm_wire_get_u64 (r, r->root, "base", &base)
        || worm_wire_get_u64 (r, r->root, "round", &round)
        || worm_wire_get_bin (r, r->root, "value", &value, &size, WORM_TOKEN_SIZE_MAX))
        return s_fail (self, "ring: ACCEPT from %s: %s", env->from, r->error);
    if (!self->token)
        return 0;
    const void *copy = NULL;
    size_t copy_size = 0;
    if (worm_wire_get_bin (r, r->root, "token", &copy, &copy_size, WORM_TOKEN_SIZE_MAX) < 0)
        return s_fail (self, "ring: ACCEPT from %s: %s", env->from, r->error);
    if (base > worm_token_epoch (self->token) && copy_size > 0) {
        //  A voter that missed the CAMPAIGN would otherwise campaign later
        //  for an epoch whose instance it has left behind, and nobody would vote
        if (s_learn_base (self, env, base, copy, copy_size, now_ms))
            return -1;
        if (self->state == WORM_RING_EXITED)
            return 0;
    }
    //  The value must be a token of this worm for epoch base + 1
    worm_token_t *token = s_decode_field (self, env, value, size);
    if (!token)
        return -1;
    bool rescue = s_is_rescue_epoch (worm_token_epoch (token), base);
    bool valid = worm_token_epoch (token) == base + 1 || rescue;
    uint64_t value_epoch = worm_token_epoch (token);
    worm_token_destroy (&token);
    if (!valid)
        return s_fail (self, "ring: ACCEPT from %s: value is not epoch %llu", env->from,
                       (unsigned long long) base + 1);
    s_ballot_t ballot;
    ballot.round = round;
    snprintf (ballot.id, sizeof ballot.id, "%s", env->from);
    bool granted = base >= worm_token_epoch (self->token) && !self->retired
                   && s_instance (self, base) && (rescue || !self->inst_rescue)
                   && s_ballot_cmp (&ballot, &self->inst_promised) >= 0;
    if (granted) {
        if (rescue)
            self->inst_rescue = true;
        if (value_epoch > self->floor)
            self->floor = value_epoch;
        self->inst_promised = ballot;
        self->inst_accepted = ballot;
        s_keep_bytes (&self->inst_value, &self->inst_value_size, value, size);
    }
    worm_wire_writer_t w;
    s_envelope (self, &w, "ACCEPTED", 4);
    worm_wire_ku64 (&w, "base", base);
    worm_wire_ku64 (&w, "round", round);
    worm_wire_kbool (&w, "granted", granted);
    worm_wire_ku64 (&w, "promised", self->inst_promised.round);
    s_send_writer (self, env->from, env->endpoint, &w);
    return 0;
}

//  Proposer, phase 2 answers.
static int
s_on_accepted (worm_ring_t *self, worm_wire_reader_t *r, const s_envelope_t *env,
               uint64_t now_ms)
{
    uint64_t base, round, promised;
    bool granted;
    if (worm_wire_get_u64 (r, r->root, "base", &base)
        || worm_wire_get_u64 (r, r->root, "round", &round)
        || worm_wire_get_bool (r, r->root, "granted", &granted)
        || worm_wire_get_u64 (r, r->root, "promised", &promised))
        return s_fail (self, "ring: ACCEPTED from %s: %s", env->from, r->error);
    if (promised > self->round_seen)
        self->round_seen = promised;
    if (self->camp_phase != 2 || base != self->camp_base || round != self->camp_ballot.round
        || !granted || !worm_token_is_voter (self->token, env->from))
        return 0;
    s_idset_add (&self->camp_accepts, env->from);
    if (s_campaign_quorum (self, &self->camp_accepts))
        s_chosen (self, now_ms);
    return 0;
}

static void s_now_gone (worm_ring_t *self, const char *id, bool died, uint64_t now_ms);
static void s_suspect (worm_ring_t *self, const char *id, uint64_t now_ms);

//  A member heard from its host agent that segment id is gone, and we are
//  before id in its copy: a hint, which we check with id's agent ourselves.
static int
s_on_died (worm_ring_t *self, worm_wire_reader_t *r, const s_envelope_t *env, uint64_t now_ms)
{
    char id[WORM_TOKEN_ID_MAX];
    if (worm_wire_get_str (r, r->root, "id", id, sizeof id))
        return s_fail (self, "ring: DIED from %s: %s", env->from, r->error);
    s_suspect (self, id, now_ms);
    return 0;
}

int
worm_ring_receive (worm_ring_t *self, const void *data, size_t size, uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state == WORM_RING_EXITED)
        return 0;
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    s_envelope_t env;
    int rc = 0;
    if (!data || worm_wire_parse (&r, data, size, WORM_RING_MESSAGE_MAX)
        || s_read_envelope (&r, &env))
        rc = s_fail (self, "ring: bad message: %s", r.error);
    else if (strcmp (env.worm, self->config.worm_id) != 0)
        rc = s_fail (self, "ring: %s message from %s is for worm \"%s\"", env.type, env.from,
                     env.worm);
    else if (strcmp (env.type, "TOKEN") == 0)
        rc = s_on_token (self, &r, &env, now_ms);
    else if (strcmp (env.type, "ACK") == 0)
        rc = s_on_ack (self, &r, &env, now_ms);
    else if (strcmp (env.type, "CAMPAIGN") == 0)
        rc = s_on_campaign (self, &r, &env, now_ms);
    else if (strcmp (env.type, "VOTE") == 0)
        rc = s_on_vote (self, &r, &env, now_ms);
    else if (strcmp (env.type, "ACCEPT") == 0)
        rc = s_on_accept (self, &r, &env, now_ms);
    else if (strcmp (env.type, "ACCEPTED") == 0)
        rc = s_on_accepted (self, &r, &env, now_ms);
    else if (strcmp (env.type, "DIED") == 0)
        rc = s_on_died (self, &r, &env, now_ms);
    else if (strcmp (env.type, "PASSED") == 0)
        rc = s_on_passed (self, &r, &env);
    else if (strcmp (env.type, "LEAVE") == 0)
        s_now_gone (self, env.from, false, now_ms);
    else
        rc = s_fail (self, "ring: unknown message type \"%s\" from %s", env.type, env.from);
    worm_wire_reader_fini (&r);
    return rc;
}

//  --------------------------------------------------------------------------
//  Timers and other inputs

void
worm_ring_tick (worm_ring_t *self, uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state != WORM_RING_EXITED && self->leave_deadline_ms
        && now_ms >= self->leave_deadline_ms) {
        s_exit (self, self->leave_reason);
        return;
    }
    switch (self->state) {
    case WORM_RING_EXITED:
        return;
    case WORM_RING_HOLDING:
        if (self->camp_phase) {
            if (now_ms >= self->camp_deadline_ms)
                s_campaign_failed (self, now_ms);
        }
        else if (now_ms >= self->hold_until_ms)
            s_release (self, now_ms);
        return;
    case WORM_RING_FORWARDING:
        if (now_ms < self->fwd_deadline_ms)
            return;
        if (self->fwd_tries <= self->config.ack_retries) {
            if (self->fwd_tries == 1) {
                //  First missed ACK: ask the successor's host agent now, so
                //  that a confirmed death skips it before the retries run out
                int index = worm_token_member_find (self->token, self->fwd_to);
                if (index >= 0)
                    s_check (self, worm_token_member (self->token, (size_t) index));
            }
            self->fwd_tries++;
            self->fwd_deadline_ms = now_ms + self->config.ack_timeout_ms;
            s_send (self, self->fwd_to, self->fwd_endpoint, self->fwd_data, self->fwd_size);
            return;
        }
        //  No ACK: the successor is presumed dead; try the next one
        {
            int index = worm_token_member_find (self->token, self->fwd_to);
            if (index >= 0) {
                worm_member_t *dead = worm_token_member (self->token, (size_t) index);
                dead->state = WORM_MEMBER_DEAD;
                s_check (self, dead);
            }
            self->stats.skipped++;
            s_forward (self, now_ms);
        }
        return;
    case WORM_RING_CAMPAIGNING:
        if (now_ms >= self->camp_deadline_ms)
            s_campaign_failed (self, now_ms);
        return;
    case WORM_RING_WAITING:
        if (now_ms - self->last_token_ms >= self->config.orphan_timeout_ms) {
            s_exit (self, self->token ? "orphaned: no token within the orphan timeout"
                                      : "never joined: no token within the orphan timeout");
            return;
        }
        if (self->token && now_ms >= self->next_campaign_ms
            && now_ms - self->quiet_since_ms
                   >= s_loss_timeout (self) + s_rank (self) * self->config.campaign_timeout_ms)
            s_campaign_start (self, now_ms, false, false);
        return;
    }
}

static uint64_t s_deadline (const worm_ring_t *self);

uint64_t
worm_ring_deadline (const worm_ring_t *self)
{
    uint64_t deadline = s_deadline (self);
    if (self->state != WORM_RING_EXITED && self->leave_deadline_ms
        && self->leave_deadline_ms < deadline)
        deadline = self->leave_deadline_ms;
    return deadline;
}

static uint64_t
s_deadline (const worm_ring_t *self)
{
    worm_ring_t *me = (worm_ring_t *) self;     //  s_loss_timeout/s_rank only read
    switch (self->state) {
    case WORM_RING_EXITED:
        return UINT64_MAX;
    case WORM_RING_HOLDING:
        return self->camp_phase ? self->camp_deadline_ms : self->hold_until_ms;
    case WORM_RING_FORWARDING:
        return self->fwd_deadline_ms;
    case WORM_RING_CAMPAIGNING:
        return self->camp_deadline_ms;
    case WORM_RING_WAITING:
    default: {
        uint64_t deadline = self->last_token_ms + self->config.orphan_timeout_ms;
        if (self->token) {
            uint64_t loss = self->quiet_since_ms + s_loss_timeout (me)
                            + s_rank (me) * self->config.campaign_timeout_ms;
            if (loss < self->next_campaign_ms)
                loss = self->next_campaign_ms;
            if (loss < deadline)
                deadline = loss;
        }
        return deadline;
    }
    }
}

int
worm_ring_spawn_result (worm_ring_t *self, const char *spawn_id, const worm_member_t *member,
                        uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state == WORM_RING_EXITED)
        return 0;
    bool known = false;
    for (size_t i = 0; spawn_id && i < self->asked_count; i++)
        if (strcmp (self->asked[i], spawn_id) == 0)
            known = true;
    if (!known)
        return s_fail (self, "ring: spawn result for unknown spawn \"%s\"",
                       spawn_id ? spawn_id : "(null)");
    if (member
        && (!memchr (member->id, 0, sizeof member->id) || !member->id[0]
            || !memchr (member->endpoint, 0, sizeof member->endpoint)
            || !memchr (member->host, 0, sizeof member->host)
            || !memchr (member->host_id, 0, sizeof member->host_id)))
        return s_fail (self, "ring: spawn result for \"%s\": invalid member", spawn_id);
    if (self->pending_count >= MAX_PENDING)
        return s_fail (self, "ring: too many spawn results pending");
    s_pending_t *p = &self->pending[self->pending_count++];
    memset (p, 0, sizeof *p);
    snprintf (p->spawn_id, sizeof p->spawn_id, "%s", spawn_id);
    p->ok = member != NULL;
    if (member)
        p->member = *member;
    if (s_may_tend (self, now_ms)) {
        //  We hold the token: list the new member now, and once none of our
        //  spawns is in flight any more, stop waiting for them
        s_apply_spawn_results (self, now_ms);
        if (self->hold_until_ms > self->hold_end_ms && !s_awaits_spawns (self, now_ms))
            self->hold_until_ms = now_ms > self->hold_end_ms ? now_ms : self->hold_end_ms;
    }
    return 0;
}

void
worm_ring_kill (worm_ring_t *self, uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state == WORM_RING_EXITED)
        return;
    self->kill_requested = true;
    if (self->state == WORM_RING_HOLDING && !self->camp_phase)
        self->hold_until_ms = now_ms;
}

//  Segment id will never vote or forward again (died: its host agent says
//  it is gone; else it announced LEAVE): count it out of quorums, skip it if
//  we are handing the token to it, and let a campaign waiting for it
//  proceed.
static void
s_now_gone (worm_ring_t *self, const char *id, bool died, uint64_t now_ms)
{
    if (self->state == WORM_RING_EXITED || !id || !id[0] || strcmp (id, s_me (self)) == 0)
        return;
    if (self->confirmed_dead.count == WORM_TOKEN_MAX_MEMBERS) {
        //  Forget the oldest: it has long left every voter list
        memmove (self->confirmed_dead.ids[0], self->confirmed_dead.ids[1],
                 (WORM_TOKEN_MAX_MEMBERS - 1) * WORM_TOKEN_ID_MAX);
        self->confirmed_dead.count--;
    }
    s_idset_add (&self->confirmed_dead, id);
    if (self->token) {
        int index = worm_token_member_find (self->token, id);
        if (index >= 0 && worm_token_member_is_live (self->token, (size_t) index))
            worm_token_member (self->token, (size_t) index)->state = WORM_MEMBER_DEAD;
    }
    if (!self->token)
        return;
    if (worm_token_is_voter (self->token, id)) {
        //  A voter change that failed for want of this voter's vote may
        //  succeed now: do not wait out its retry delay while the next
        //  member may die (the voters would fall ever further behind).
        //  This changes only when a campaign starts, not what it needs.
        self->next_reconfig_ms = 0;
        self->camp_attempts = 0;
    }
    if (self->state == WORM_RING_FORWARDING && strcmp (self->fwd_to, id) == 0) {
        //  The hop we wait on cannot be acknowledged: skip it now
        self->stats.skipped++;
        s_forward (self, now_ms);
        return;
    }
    //  (A member that leaves in order hands the token on first.)
    if (died && self->state == WORM_RING_WAITING && !self->leaving
        && strcmp (self->handed_to, id) == 0
        && worm_token_epoch (self->token) == self->handed_epoch
        && worm_token_seq (self->token) == self->handed_seq) {
        //  The member that took the token from us is gone for good, it
        //  never told us PASSED, and no newer token has come by: the token
        //  most likely went with it. Regenerate now, not after the loss
        //  timeout; every member must agree it saw nothing newer (and the
        //  vote keeps it safe should the token live on all the same)
        self->handed_to[0] = 0;
        s_campaign_start (self, now_ms, false, true);
        return;
    }
    if (self->camp_phase == 1 && !self->camp_rescue && s_needs_rescue (self)) {
        //  No ordinary majority is left: start over as a rescue at once
        s_campaign_start (self, now_ms, self->camp_reconfig, self->camp_early);
        return;
    }
    if (self->camp_phase == 1 && s_campaign_quorum (self, &self->camp_promises))
        s_phase_two (self, now_ms);
    else if (self->camp_phase == 2 && s_campaign_quorum (self, &self->camp_accepts))
        s_chosen (self, now_ms);
    else
        //  Holding: list it left and ask for its replacement now
        s_grow (self, now_ms);
}

//  Segment id's host agent told us it is gone: tell the member before it
//  in our copy's ring order (DIED), unless that is us. That member may
//  have handed it the token (Healing (5)), and its own death notice may
//  have been lost; it asks its own CHECK on our word.
static void
s_tell_predecessor (worm_ring_t *self, const char *id)
{
    if (!self->token || s_in_idset (&self->confirmed_dead, id))
        return;
    int dead = worm_token_member_find (self->token, id);
    size_t n = worm_token_member_count (self->token);
    for (size_t step = 1; dead >= 0 && step < n; step++) {
        size_t i = ((size_t) dead + n - step) % n;
        worm_member_t *m = worm_token_member (self->token, i);
        if (!worm_token_member_is_live (self->token, i) || s_in_idset (&self->confirmed_dead, m->id))
            continue;
        if (strcmp (m->id, s_me (self)) != 0) {
            worm_wire_writer_t w;
            s_envelope (self, &w, "DIED", 1);
            worm_wire_kstr (&w, "id", id);
            s_send_writer (self, m->id, m->endpoint, &w);
        }
        return;
    }
}

void
worm_ring_confirm_dead (worm_ring_t *self, const char *id, uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state != WORM_RING_EXITED && id && strcmp (id, s_me (self)) != 0)
        s_tell_predecessor (self, id);
    s_now_gone (self, id, true, now_ms);
}

void
worm_ring_suspect (worm_ring_t *self, const char *id, uint64_t now_ms)
{
    s_clear_actions (self);
    s_suspect (self, id, now_ms);
}

static void
s_suspect (worm_ring_t *self, const char *id, uint64_t now_ms)
{
    if (self->state == WORM_RING_EXITED || !self->token || !id || !id[0]
        || strcmp (id, s_me (self)) == 0 || s_in_idset (&self->confirmed_dead, id))
        return;
    int index = worm_token_member_find (self->token, id);
    if (index < 0)
        return;     //  not a member we know: nothing to ask about
    worm_member_t *member = worm_token_member (self->token, (size_t) index);
    if (member->state == WORM_MEMBER_LEFT)
        return;     //  gone for good already
    //  At most one CHECK per member and interval: a flood of hints, true or
    //  forged, costs the host agents little
    s_suspect_t *slot = NULL;
    for (size_t i = 0; i < self->suspect_count && !slot; i++)
        if (strcmp (self->suspects[i].id, id) == 0)
            slot = &self->suspects[i];
    if (slot && now_ms - slot->at_ms < WORM_RING_SUSPECT_INTERVAL_MS)
        return;
    if (!slot && self->suspect_count < WORM_TOKEN_MAX_MEMBERS)
        slot = &self->suspects[self->suspect_count++];
    else if (!slot) {
        //  Full: reuse the oldest entry
        slot = &self->suspects[0];
        for (size_t i = 1; i < self->suspect_count; i++)
            if (self->suspects[i].at_ms < slot->at_ms)
                slot = &self->suspects[i];
    }
    snprintf (slot->id, sizeof slot->id, "%s", member->id);
    slot->at_ms = now_ms;
    s_check (self, member);
}

//  Tells every member we know but us that we leave for good (LEAVE).
static void
s_announce_leave (worm_ring_t *self)
{
    if (!self->token)
        return;
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        worm_member_t *m = worm_token_member (self->token, i);
        if (strcmp (m->id, s_me (self)) == 0 || m->state == WORM_MEMBER_LEFT
            || s_in_idset (&self->confirmed_dead, m->id))
            continue;
        worm_wire_writer_t w;
        s_envelope (self, &w, "LEAVE", 1);
        worm_wire_ku64 (&w, "epoch", worm_token_epoch (self->token));
        s_send_writer (self, m->id, m->endpoint, &w);
    }
}

int
worm_ring_leave (worm_ring_t *self, uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state == WORM_RING_EXITED)
        return 0;
    if (self->retired && self->leave_deadline_ms)
        return 0;       //  already leaving
    //  From here on we never vote: we are as good as confirmed dead
    self->retired = true;
    self->leave_deadline_ms = now_ms + self->config.ack_timeout_ms * 2;
    snprintf (self->leave_reason, sizeof self->leave_reason, "left the worm");
    s_announce_leave (self);
    if (self->state == WORM_RING_HOLDING) {
        s_end_campaign (self);      //  a voter change in progress is abandoned
        int mine = worm_token_member_find (self->token, s_me (self));
        if (mine >= 0)
            worm_token_member (self->token, (size_t) mine)->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        self->excluded = true;
        s_forward (self, now_ms);
    }
    else if (self->state == WORM_RING_FORWARDING) {
        //  The token is on its way: exit at its ACK (or the deadline)
        self->leaving = true;
        self->excluded = true;
    }
    else
        s_exit (self, self->leave_reason);
    return 0;
}

const worm_ring_action_t *
worm_ring_action (worm_ring_t *self)
{
    if (self->action_next >= self->action_count)
        return NULL;
    return &self->actions[self->action_next++].action;
}

worm_ring_state_t
worm_ring_state (const worm_ring_t *self)
{
    return self->state;
}

worm_token_t *
worm_ring_token (worm_ring_t *self)
{
    return self->token;
}

const char *
worm_ring_id (const worm_ring_t *self)
{
    return self->config.self.id;
}

const char *
worm_ring_error (const worm_ring_t *self)
{
    return self->error;
}

const worm_ring_stats_t *
worm_ring_stats (const worm_ring_t *self)
{
    return &self->stats;
}

int
worm_ring_peek (const void *data, size_t size, char *type, uint64_t *epoch, uint64_t *seq)
{
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    s_envelope_t env;
    int rc = -1;
    *epoch = 0;
    *seq = 0;
    if (data && worm_wire_parse (&r, data, size, WORM_RING_MESSAGE_MAX) == 0
        && s_read_envelope (&r, &env) == 0) {
        snprintf (type, TYPE_MAX, "%s", env.type);
        (void) worm_wire_get_u64 (&r, r.root, "epoch", epoch);
        (void) worm_wire_get_u64 (&r, r.root, "seq", seq);
        rc = 0;
    }
    worm_wire_reader_fini (&r);
    return rc;
}
