/*  ring.c — the ring protocol of one segment, sans I/O: hops and acks,
    population, accepting tokens, and the public state machine (every entry
    point of ring.h). See ring.h for the API, docs/PROTOCOL.md ("## Token")
    for the messages and the rules, and ring_internal.h for the files the
    rest lives in (vote.c: campaigns and rescue; deaths.c: member deaths).

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
*/
#include "ring_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

//  --------------------------------------------------------------------------
//  Helpers

int
ring_fail (worm_ring_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
    self->stats.refused++;
    return -1;
}

ring_action_t *
ring_push (worm_ring_t *self, worm_ring_action_type_t type)
{
    if (self->action_count == self->action_cap) {
        size_t cap = self->action_cap ? self->action_cap * 2 : 8;
        ring_action_t *grown
            = (ring_action_t *) realloc (self->actions, cap * sizeof (ring_action_t));
        if (!grown)
            return NULL;
        self->actions = grown;
        self->action_cap = cap;
    }
    ring_action_t *slot = &self->actions[self->action_count++];
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
             (self->action_count - self->action_next) * sizeof (ring_action_t));
    self->action_count -= self->action_next;
    self->action_next = 0;
}

//  Queues a SEND of a copy of data.
void
ring_send (worm_ring_t *self, const char *peer, const char *endpoint, const void *data, size_t size)
{
    ring_action_t *slot = ring_push (self, WORM_RING_SEND);
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

void
ring_exit (worm_ring_t *self, const char *reason)
{
    if (self->state == WORM_RING_EXITED)
        return;
    self->state = WORM_RING_EXITED;
    free (self->fwd_data);
    self->fwd_data = NULL;
    ring_action_t *slot = ring_push (self, WORM_RING_EXIT);
    if (slot)
        snprintf (slot->action.reason, sizeof slot->action.reason, "%s", reason);
}

void
ring_envelope (worm_ring_t *self, worm_wire_writer_t *w, const char *type)
{
    worm_wire_writer_init (w);
    worm_wire_map_open (w);
    worm_wire_kstr (w, "type", type);
    worm_wire_kstr (w, "worm", self->config.worm_id);
    worm_wire_kstr (w, "from", ring_me (self));
    worm_wire_kstr (w, "endpoint", self->config.self.endpoint);
}

void
ring_send_writer (worm_ring_t *self, const char *peer, const char *endpoint,
                  worm_wire_writer_t *w)
{
    worm_wire_map_close (w);
    ring_send (self, peer, endpoint, worm_wire_writer_data (w), worm_wire_writer_size (w));
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
uint64_t
ring_loss_timeout (worm_ring_t *self)
{
    if (!self->token)
        return s_loss_for (self, 0);
    uint64_t round = worm_token_round_ms (self->token);
    uint64_t holds = self->config.hold_ms * worm_token_live_count (self->token);
    return s_loss_for (self, round > holds ? round : holds);
}

//  Our rank among the live members by id (0 = lowest id): who campaigns first.
uint64_t
ring_rank (worm_ring_t *self)
{
    uint64_t rank = 0;
    if (!self->token)
        return 0;
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        if (!worm_token_member_is_live (self->token, i))
            continue;
        if (strcmp (worm_token_member (self->token, i)->id, ring_me (self)) < 0)
            rank++;
    }
    return rank;
}

void
ring_drop_forward (worm_ring_t *self)
{
    free (self->fwd_data);
    self->fwd_data = NULL;
    self->fwd_size = 0;
}

bool
ring_idset_add (ring_idset_t *set, const char *id)
{
    if (ring_in_idset (set, id) || set->count >= WORM_TOKEN_MAX_MEMBERS)
        return false;
    snprintf (set->ids[set->count++], WORM_TOKEN_ID_MAX, "%s", id);
    return true;
}

bool
ring_in_idset (const ring_idset_t *set, const char *id)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp (set->ids[i], id) == 0)
            return true;
    return false;
}

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
           && !ring_in_idset (&self->confirmed_dead, m->id);
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
void
ring_set_voters (worm_ring_t *self, worm_token_t *token)
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
    free (self->acceptor.value);
    vote_end (self);
    worm_token_destroy (&self->token);
    free (self);
    *self_p = NULL;
}

//  True when the token lists a majority of its voters as live (doing
//  without one voter confirmed dead or listed left, as vote.c's
//  s_excused): the ring can still reach a quorum.
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
        else if (ring_in_idset (&self->confirmed_dead, voter)
                 || (index >= 0 && worm_token_member (token, (size_t) index)->state
                                       == WORM_MEMBER_LEFT))
            excused = true;
    }
    return live * 2 > voters - (excused ? 1 : 0);
}

static void s_send_newer (worm_ring_t *self, const char *peer, const char *endpoint,
                          const char *by);

bool
ring_counted_out (worm_ring_t *self, worm_token_t *copy, const char *from)
{
    int mine = worm_token_member_find (copy, ring_me (self));
    if (mine >= 0 && worm_token_member_is_live (copy, (size_t) mine))
        return false;       //  a member: the token will come
    //  On the word of a live voter of that epoch: our exit leaves one that
    //  knows it (a copy we learnt from a joiner might be all that is left)
    int sender = worm_token_member_find (copy, from);
    if (sender < 0 || worm_token_member (copy, (size_t) sender)->state != WORM_MEMBER_LIVE
        || !worm_token_is_voter (copy, from) || !s_quorum_listed (self, copy))
        return false;
    return worm_token_live_count (copy) + worm_token_spawn_count (copy)
           >= worm_token_target (copy);
}

//  Leaves the worm at once, for reason, on the word of by (the live voter
//  whose copy counts us out): never votes again, tells the members of the
//  lineage we were in that the copy does not list live (NEWER, on by's
//  word: they wait for a token that died) and every member of our copy
//  (LEAVE: they count us gone for good), and gives EXIT.
static void
s_leave_now (worm_ring_t *self, const char *reason, const char *by)
{
    for (size_t i = 0; i < self->lineage_count; i++) {
        ring_peer_t *peer = &self->lineage[i];
        int index = worm_token_member_find (self->token, peer->id);
        if (strcmp (peer->id, ring_me (self)) != 0 && strcmp (peer->id, by) != 0
            && (index < 0 || !worm_token_member_is_live (self->token, (size_t) index)))
            s_send_newer (self, peer->id, peer->endpoint, by);
    }
    self->lineage_count = 0;
    //  Segments spawned for us that we never listed: nobody else knows them
    for (size_t i = 0; i < self->pending_count; i++)
        if (self->pending[i].ok)
            s_send_newer (self, self->pending[i].member.id, self->pending[i].member.endpoint, by);
    self->pending_count = 0;
    self->retired = true;
    deaths_announce_leave (self);
    ring_exit (self, reason);
}

//  CHECKs every voter our copy lists live with its host agent.
static void
s_check_live_voters (worm_ring_t *self)
{
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        worm_member_t *m = worm_token_member (self->token, i);
        if (m->state == WORM_MEMBER_LIVE && worm_token_is_voter (self->token, m->id))
            deaths_check (self, m);
    }
}

void
ring_go_out (worm_ring_t *self, const char *reason, const char *by, uint64_t now_ms)
{
    if (self->state == WORM_RING_EXITED || self->out_at_ms)
        return;
    self->out_at_ms = now_ms + self->config.loss_floor_ms / 2;
    self->out_checked = false;
    snprintf (self->out_by, sizeof self->out_by, "%s", by);
    snprintf (self->out_reason, sizeof self->out_reason, "%s", reason);
    s_check_live_voters (self);
}

//  The grace of ring_go_out is over. Its first half: CHECK the voters our
//  copy lists live again (a crash during the grace shows now), and wait
//  the second half. Then go, unless we hold the token again, or the copy
//  no longer counts us out, or a host agent (or a death notice, see
//  deaths_suspect) said that one of those voters is gone: a lineage that
//  loses voters now may need us.
static void
s_go_out_now (worm_ring_t *self, uint64_t now_ms)
{
    self->out_at_ms = 0;
    if ((self->state != WORM_RING_WAITING && self->state != WORM_RING_CAMPAIGNING) || !self->token)
        return;
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        worm_member_t *m = worm_token_member (self->token, i);
        if (m->state == WORM_MEMBER_LIVE && worm_token_is_voter (self->token, m->id)
            && ring_in_idset (&self->confirmed_dead, m->id))
            return;
    }
    if (!ring_counted_out (self, self->token, self->out_by))
        return;
    if (!self->out_checked) {
        self->out_checked = true;
        self->out_at_ms = now_ms + self->config.loss_floor_ms / 2;
        s_check_live_voters (self);
        return;
    }
    vote_end (self);
    s_leave_now (self, self->out_reason, self->out_by);
}

static uint64_t s_spawn_hold (worm_ring_t *self);

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
    else if (self->extend_until_ms)
        //  but that wait starts again after the vote: it took its time
        //  (the voters of a worm that lost a quarter of 32 change at once),
        //  and the spawns asked before it would have no wait left
        self->extend_until_ms = now_ms + s_spawn_hold (self);
    self->last_token_ms = now_ms;
    self->quiet_since_ms = now_ms;
    self->proposer.attempts = 0;
    self->acceptor.deferrals = 0;
    bool quorum = s_quorum_listed (self, self->token);
    if (quorum)
        self->last_quorum_ms = now_ms;
    if (!self->rehold) {
        ring_action_t *held = ring_push (self, WORM_RING_HELD);
        if (held)
            held->action.quorum = quorum;
    }
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
        return ring_fail (self, "ring: cannot found: worm id differs or already has a token");
    }
    worm_member_t me = self->config.self;
    me.state = WORM_MEMBER_LIVE;
    me.born_at_ms = now_ms;
    if (worm_token_member_find (token, me.id) >= 0)
        worm_token_member_remove (token, me.id);
    if (worm_token_member_add (token, &me)) {
        worm_token_destroy (&token);
        return ring_fail (self, "ring: cannot found: member list refused us");
    }
    worm_token_set_epoch (token, 1);
    worm_token_set_seq (token, 0);
    worm_token_set_origin (token, me.id);
    self->token = token;
    ring_set_voters (self, token);
    s_hold (self, now_ms);
    return 0;
}

//  --------------------------------------------------------------------------
//  Holding and forwarding

//  Sends the token to the next live member; handles being alone.
void
ring_forward (worm_ring_t *self, uint64_t now_ms)
{
    worm_token_t *token = self->token;
    size_t distance = 0;
    int next = worm_token_successor (token, ring_me (self), NULL, 0, &distance);
    bool must_go = self->leaving && (self->excluded || worm_token_kill (token));
    if ((next < 0 || !s_quorum_listed (self, token)) && !must_go
        && now_ms >= self->next_probe_ms) {
        //  Alone, or without a live quorum: now and then try a member we
        //  could not reach, in case it is alive (after a healed split each
        //  side holds its own copy and would otherwise never hear of the other).
        //  A holder leaving the population above target tries too: until
        //  someone takes the token it may neither vote nor go
        self->next_probe_ms = now_ms + ring_loss_timeout (self);
        int mine = worm_token_member_find (token, ring_me (self));
        size_t n = worm_token_member_count (token);
        for (size_t step = 1; mine >= 0 && step < n; step++) {
            worm_member_t *m = worm_token_member (token, ((size_t) mine + step) % n);
            if (m->state == WORM_MEMBER_DEAD && !ring_in_idset (&self->confirmed_dead, m->id)
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
        int mine = worm_token_member_find (token, ring_me (self));
        if (mine >= 0)
            worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LIVE;
        self->stepping_aside = false;
    }
    if (next < 0) {
        if (self->leaving) {
            if (worm_token_kill (token) || self->excluded) {
                ring_exit (self, self->leave_reason);
                return;
            }
            //  Nobody to hand over to: stay rather than take the worm with
            //  us. But a segment that may hold a copy listing us LEFT would
            //  count us out of its quorums: we may vote again only once
            //  every such segment is confirmed gone; till then keep the
            //  token, paced, and try again
            for (size_t i = 0; i < self->left_to.count; i++)
                if (!ring_in_idset (&self->confirmed_dead, self->left_to.ids[i])) {
                    int index = worm_token_member_find (token, self->left_to.ids[i]);
                    if (index >= 0)
                        deaths_check (self, worm_token_member (token, (size_t) index));
                    worm_token_set_round_ms (token, self->config.hold_ms);
                    s_hold (self, now_ms);
                    return;
                }
            self->retired = false;
            self->left_to.count = 0;
            int mine = worm_token_member_find (token, ring_me (self));
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
            ring_exit (self, "token cannot be encoded");
            return;
        }
    }
    worm_wire_writer_t w;
    ring_envelope (self, &w, "TOKEN");
    worm_wire_ku64 (&w, "epoch", worm_token_epoch (token));
    worm_wire_ku64 (&w, "seq", worm_token_seq (token));
    worm_wire_kbin (&w, "token", bytes, size);
    worm_wire_map_close (&w);
    free (bytes);
    ring_drop_forward (self);
    self->fwd_size = worm_wire_writer_size (&w);
    self->fwd_data = (uint8_t *) msgpack_sbuffer_release (&w.sbuf);
    worm_wire_writer_fini (&w);
    snprintf (self->fwd_to, sizeof self->fwd_to, "%s", successor->id);
    snprintf (self->fwd_endpoint, sizeof self->fwd_endpoint, "%s", successor->endpoint);
    int mine_now = worm_token_member_find (token, ring_me (self));
    if (mine_now >= 0 && worm_token_member (token, (size_t) mine_now)->state == WORM_MEMBER_LEFT) {
        self->retired = true;       //  a copy listing us LEFT goes out: never vote again
        ring_idset_add (&self->left_to, successor->id);
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
    ring_send (self, self->fwd_to, self->fwd_endpoint, self->fwd_data, self->fwd_size);
}

//  Sends our copy to peer at endpoint (NEWER): it is newer than what peer
//  showed us, or peer is a spawned segment we will not list. by: NULL, or
//  the live voter of the copy on whose word we pass it on.
static void
s_send_newer (worm_ring_t *self, const char *peer, const char *endpoint, const char *by)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_encode (self->token, &bytes, &size, err, sizeof err))
        return;     //  too big: the peer learns it otherwise (a VOTE, its orphan timeout)
    worm_wire_writer_t w;
    ring_envelope (self, &w, "NEWER");
    worm_wire_kbin (&w, "token", bytes, size);
    if (by)
        worm_wire_kstr (&w, "by", by);
    free (bytes);
    ring_send_writer (self, peer, endpoint, &w);
}

//  Lists the spawns whose results came in while we did not hold the token.
static void
s_apply_spawn_results (worm_ring_t *self, uint64_t now_ms)
{
    for (size_t i = 0; i < self->pending_count; i++) {
        ring_pending_t *p = &self->pending[i];
        if (worm_token_spawn_remove (self->token, p->spawn_id) != 0) {
            //  Expired meanwhile (its join deadline passed): list the new
            //  segment all the same while the worm is below target, else
            //  end it at once (NEWER: the token does not list it), rather
            //  than let it run above the cap until its orphan timeout
            if (!p->ok)
                continue;
            worm_member_t member = p->member;
            member.state = WORM_MEMBER_JOINING;
            member.born_at_ms = now_ms;
            if (worm_token_member_find (self->token, member.id) >= 0)
                continue;
            if (worm_token_live_count (self->token) + worm_token_spawn_count (self->token)
                    >= worm_token_target (self->token)
                || worm_token_member_add (self->token, &member) != 0)
                s_send_newer (self, p->member.id, p->member.endpoint, NULL);
            continue;
        }
        if (p->ok) {
            worm_member_t member = p->member;
            member.state = WORM_MEMBER_JOINING;
            member.born_at_ms = now_ms;
            worm_token_member_add (self->token, &member);
        }
    }
    self->pending_count = 0;
    //  Others' joiners (JOINED), in a token of that epoch or a later one:
    //  listed for their requester while its spawn is in flight. One whose
    //  spawn is not in flight (a chosen value made from an older copy
    //  dropped it, or it expired) is listed too while the worm is below
    //  target and we hold a live majority of the voters, as the requester
    //  lists its own late results: else nobody but the requester would, a
    //  round later (a quarter of 32 SIGKILLed with the holder: its joiners
    //  waited 3 s for it). At or above target it is left to the requester,
    //  which alone ends its joiner.
    for (size_t i = 0; i < self->relayed_count; i++) {
        ring_relayed_t *r = &self->relayed[i];
        const worm_spawn_t *spawn = NULL;
        for (size_t k = 0; k < worm_token_spawn_count (self->token); k++)
            if (strcmp (worm_token_spawn (self->token, k)->id, r->spawn_id) == 0)
                spawn = worm_token_spawn (self->token, k);
        if ((spawn && strcmp (spawn->requester, r->requester) != 0)
            || worm_token_epoch (self->token) < r->epoch
            || worm_token_member_find (self->token, r->member.id) >= 0
            || ring_in_idset (&self->confirmed_dead, r->member.id))
            continue;
        if (!spawn
            && (worm_token_live_count (self->token) + worm_token_spawn_count (self->token)
                    >= worm_token_target (self->token)
                || !s_quorum_listed (self, self->token)))
            continue;
        worm_member_t member = r->member;
        member.state = WORM_MEMBER_JOINING;
        member.born_at_ms = now_ms;
        if (worm_token_member_add (self->token, &member) == 0 && spawn)
            worm_token_spawn_remove (self->token, r->spawn_id);
    }
    self->relayed_count = 0;
}

//  A joiner of ours came while we do not hold the token: tell every live
//  member (JOINED), so that whoever holds it next lists the joiner, not
//  only we when the token comes round to us again (a round is 3 s at 32
//  members with a hold of 100 ms).
static void
s_pass_on_joiner (worm_ring_t *self, const char *spawn_id, const worm_member_t *member)
{
    for (size_t i = 0; self->token && i < worm_token_member_count (self->token); i++) {
        const worm_member_t *m = worm_token_member (self->token, i);
        if (!worm_token_member_is_live (self->token, i) || strcmp (m->id, ring_me (self)) == 0
            || strcmp (m->id, member->id) == 0 || ring_in_idset (&self->confirmed_dead, m->id))
            continue;
        worm_wire_writer_t w;
        ring_envelope (self, &w, "JOINED");
        worm_wire_ku64 (&w, "epoch", worm_token_epoch (self->token));
        worm_wire_kstr (&w, "spawn", spawn_id);
        worm_wire_kstr (&w, "id", member->id);
        worm_wire_kstr (&w, "host", member->host);
        worm_wire_kstr (&w, "host_id", member->host_id);
        worm_wire_kstr (&w, "member_endpoint", member->endpoint);
        worm_wire_ku64 (&w, "pid", member->pid);
        ring_send_writer (self, m->id, m->endpoint, &w);
    }
}

//  True when we hold the token and may change its members now (list
//  joiners, mark the confirmed gone, ask for spawns) rather than at the
//  end of the hold: not during a voter change (its value is a copy of the
//  token as it was), nor when leaving, stepping aside, killed, stale or cut
//  off from the quorum (s_release deals with those).
static bool
s_may_tend (worm_ring_t *self, uint64_t now_ms)
{
    return self->state == WORM_RING_HOLDING && self->token && !self->proposer.phase
           && !self->leaving && !self->stepping_aside && !self->retired
           && !self->kill_requested && !worm_token_kill (self->token)
           && worm_token_epoch (self->token) >= self->acceptor.base
           && now_ms - self->last_quorum_ms < self->config.orphan_timeout_ms;
}

void
ring_keep_joiners (worm_ring_t *self, worm_token_t *before, uint64_t now_ms)
{
    worm_token_t *token = self->token;
    for (size_t i = 0; i < worm_token_member_count (before); i++) {
        worm_member_t member = *worm_token_member (before, i);
        if (member.state != WORM_MEMBER_JOINING || worm_token_member_find (token, member.id) >= 0
            || ring_in_idset (&self->confirmed_dead, member.id))
            continue;
        member.born_at_ms = now_ms;
        if (!s_may_tend (self, now_ms)
            || worm_token_live_count (token) + worm_token_spawn_count (token)
                   >= worm_token_target (token)
            || worm_token_member_add (token, &member) != 0)
            s_send_newer (self, member.id, member.endpoint, NULL);
    }
}

//  The holder's bookkeeping of members: lists the spawn results that came
//  in, takes back members listed dead that campaigned since, and marks
//  left those a host agent confirmed gone (or that said LEAVE).
static void
s_tend (worm_ring_t *self, uint64_t now_ms)
{
    worm_token_t *token = self->token;
    s_apply_spawn_results (self, now_ms);
    //  Members we marked dead that campaigned or sent us a stale token since
    //  are alive after all (a lost ACK, a healed split): take them back while
    //  the worm is below its target (above it they would only have to leave
    //  again; a NEWER copy or a VOTE tells them the worm is whole without
    //  them, and they exit: "Partition heal")
    for (size_t i = 0; i < self->alive_hints.count; i++) {
        int index = worm_token_member_find (token, self->alive_hints.ids[i]);
        if (index >= 0 && worm_token_member (token, (size_t) index)->state == WORM_MEMBER_DEAD
            && !ring_in_idset (&self->confirmed_dead, self->alive_hints.ids[i])
            && worm_token_live_count (token) + worm_token_spawn_count (token)
                   < worm_token_target (token))
            worm_token_member (token, (size_t) index)->state = WORM_MEMBER_LIVE;
        else if (index >= 0
                 && worm_token_member (token, (size_t) index)->state == WORM_MEMBER_DEAD
                 && !ring_in_idset (&self->confirmed_dead, self->alive_hints.ids[i]))
            //  The worm is whole without it: show it so (it exits)
            s_send_newer (self, worm_token_member (token, (size_t) index)->id,
                          worm_token_member (token, (size_t) index)->endpoint, NULL);
    }
    self->alive_hints.count = 0;
    //  Members we list dead that are alive after all (paused, a lost ACK, a
    //  healed split) learn, now and then, that the worm is whole without
    //  them, and go ("Partition heal" (2)): sooner than at their loss
    //  timeout's campaign, and the replacement we spawned is then the only
    //  one above them
    if (worm_token_live_count (token) >= worm_token_target (token)
        && now_ms - self->last_dead_told_ms >= self->config.loss_floor_ms / 2
        && s_quorum_listed (self, token)) {
        self->last_dead_told_ms = now_ms;
        for (size_t i = 0; i < worm_token_member_count (token); i++) {
            const worm_member_t *m = worm_token_member (token, i);
            if (m->state == WORM_MEMBER_DEAD && !ring_in_idset (&self->confirmed_dead, m->id)
                && strcmp (m->id, self->config.self.id) != 0)
                s_send_newer (self, m->id, m->endpoint, NULL);
        }
    }
    //  A spawn in flight is listed only by the segment that asked for it;
    //  one whose requester is gone for good (no longer listed, listed left,
    //  confirmed dead) never will be, and would hold back its replacement
    //  until the join deadline (chaos seed 3: a worm of 3 ran with 2 for
    //  20 s once the requester of a spawn was SIGKILLed)
    for (size_t i = 0; i < worm_token_spawn_count (token);) {
        const worm_spawn_t *spawn = worm_token_spawn (token, i);
        int index = spawn->requester[0] ? worm_token_member_find (token, spawn->requester) : 0;
        bool gone = spawn->requester[0] && strcmp (spawn->requester, ring_me (self)) != 0
                    && (index < 0
                        || worm_token_member (token, (size_t) index)->state == WORM_MEMBER_LEFT
                        || ring_in_idset (&self->confirmed_dead, spawn->requester));
        if (gone) {
            char id[WORM_TOKEN_ID_MAX];
            snprintf (id, sizeof id, "%s", spawn->id);
            worm_token_spawn_remove (token, id);
        }
        else
            i++;
    }
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
        if (strcmp (worm_token_spawn (self->token, i)->requester, ring_me (self)) == 0)
            return true;
    return false;
}

//  Asks for count spawns: lists them in flight and gives SPAWN actions.
static void
s_ask_spawns (worm_ring_t *self, uint32_t count, uint64_t now_ms)
{
    for (uint32_t i = 0; i < count; i++) {
        char id[WORM_TOKEN_ID_MAX];
        snprintf (id, sizeof id, "%.40s/%llu", ring_me (self),
                  (unsigned long long) ++self->spawn_counter);
        if (worm_token_spawn_add (self->token, id, "", ring_me (self), now_ms))
            break;
        memmove (&self->asked[1], &self->asked[0], (RING_MAX_PENDING - 1) * WORM_TOKEN_ID_MAX);
        snprintf (self->asked[0], WORM_TOKEN_ID_MAX, "%s", id);
        if (self->asked_count < RING_MAX_PENDING)
            self->asked_count++;
        ring_action_t *slot = ring_push (self, WORM_RING_SPAWN);
        if (slot)
            snprintf (slot->action.spawn_id, sizeof slot->action.spawn_id, "%s", id);
        if (!self->extend_until_ms)
            self->extend_until_ms = now_ms + s_spawn_hold (self);
    }
}

//  While we hold the token: bring its members up to date and ask for the
//  spawns the population rule wants now, not at the end of the hold (the
//  rest of the rule, leaving and voter changes, waits for s_release).
void
ring_grow (worm_ring_t *self, uint64_t now_ms)
{
    if (!s_may_tend (self, now_ms))
        return;
    s_tend (self, now_ms);
    uint32_t count = 0;
    if (worm_token_population (self->token, ring_me (self), now_ms, self->config.join_deadline_ms,
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
    if (worm_token_epoch (token) < self->acceptor.base) {
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
        int mine = worm_token_member_find (token, ring_me (self));
        if (mine >= 0)
            worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        self->excluded = true;
        snprintf (self->leave_reason, sizeof self->leave_reason,
                  "cut off from the worm's quorum for the orphan timeout");
    }
    if (self->leaving || self->stepping_aside) {
        ring_forward (self, now_ms);
        return;
    }
    if (self->kill_requested)
        worm_token_set_kill (token, true);
    int mine = worm_token_member_find (token, ring_me (self));
    if (worm_token_kill (token)) {
        if (mine >= 0)
            worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        snprintf (self->leave_reason, sizeof self->leave_reason, "worm killed");
        ring_forward (self, now_ms);
        return;
    }
    s_tend (self, now_ms);
    uint32_t count = 0;
    worm_pop_decision_t decision = worm_token_population (token, ring_me (self), now_ms,
                                                          self->config.join_deadline_ms, &count);
    //  A voter change pending goes first (a leaver may be the last live
    //  voter: it must hand its vote on before it goes)
    bool other_voter = false;
    for (size_t i = 0; i < worm_token_member_count (token); i++)
        if (worm_token_member (token, i)->state == WORM_MEMBER_LIVE
            && worm_token_is_voter (token, worm_token_member (token, i)->id)
            && strcmp (worm_token_member (token, i)->id, ring_me (self)) != 0)
            other_voter = true;
    if (decision == WORM_POP_LEAVE && mine >= 0 && other_voter
        && (s_voters_current (self, token) || now_ms < self->next_reconfig_ms)) {
        worm_token_member (token, (size_t) mine)->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        snprintf (self->leave_reason, sizeof self->leave_reason,
                  "left: population above target");
        ring_forward (self, now_ms);
        return;
    }
    //  A ring that cannot reach a quorum of its voters must not grow: it is
    //  a minority side or a leftover, and the quorum side spawns instead
    if (decision == WORM_POP_SPAWN && s_quorum_listed (self, token))
        s_ask_spawns (self, count, now_ms);
    if (now_ms >= self->next_check_ms) {
        //  Ask the host agents about voters we cannot reach, so that the
        //  dead ones can leave the voter set
        self->next_check_ms = now_ms + ring_loss_timeout (self);
        for (size_t i = 0; i < worm_token_member_count (token); i++) {
            worm_member_t *m = worm_token_member (token, i);
            if (m->state == WORM_MEMBER_DEAD && worm_token_is_voter (token, m->id))
                deaths_check (self, m);
        }
    }
    if (now_ms >= self->next_reconfig_ms && !s_voters_current (self, token)) {
        vote_start (self, now_ms, true, false);
        return;
    }
    if (s_awaits_spawns (self, now_ms)) {
        //  Our spawns may start within the hold: wait for them, so that the
        //  token lists them this round rather than the next
        self->hold_until_ms = self->extend_until_ms;
        return;
    }
    ring_forward (self, now_ms);
}

//  --------------------------------------------------------------------------
//  Accepting tokens

//  Makes token (ours now) the last seen. held: it came as a TOKEN (or was
//  chosen by our campaign) and we hold it; otherwise it is a copy learnt
//  from a vote. Exits when the token no longer lists us as live.
void
ring_accept (worm_ring_t *self, worm_token_t *token, bool held, uint64_t now_ms)
{
    //  Whatever we were doing with an older token is moot now
    ring_drop_forward (self);
    vote_end (self);
    bool killed = worm_token_kill (token);
    uint64_t epoch = worm_token_epoch (token);
    if (held && self->token && self->last_hold_ms && self->last_hold_epoch == epoch) {
        //  A round: from taking the token to taking it again (our own hold
        //  included), in one epoch
        uint64_t round = now_ms - self->last_hold_ms;
        worm_token_set_round_ms (token, (worm_token_round_ms (token) + round * 3) / 4);
    }
    if (!held && self->token && epoch > worm_token_epoch (self->token)) {
        //  A copy of a newer epoch: remember who was live in ours, should
        //  it count us out (ring_go_out tells them)
        self->lineage_count = 0;
        for (size_t i = 0; i < worm_token_member_count (self->token); i++)
            if (worm_token_member_is_live (self->token, i)) {
                worm_member_t *m = worm_token_member (self->token, i);
                ring_peer_t *peer = &self->lineage[self->lineage_count++];
                snprintf (peer->id, sizeof peer->id, "%s", m->id);
                snprintf (peer->endpoint, sizeof peer->endpoint, "%s", m->endpoint);
            }
    }
    else if (held)
        self->lineage_count = 0;
    worm_token_destroy (&self->token);
    self->token = token;
    if (epoch > self->floor)
        self->floor = epoch;
    deaths_replace_hints (self, now_ms);
    self->stats.accepted += held;
    if (!held) {
        //  A copy: wait for the token itself. If the others think us dead
        //  it will not come, and the orphan timeout ends us.
        self->state = WORM_RING_WAITING;
        self->quiet_since_ms = now_ms;
        if (killed)
            ring_exit (self, "worm killed");
        return;
    }
    self->leaving = false;
    self->excluded = false;
    self->stepping_aside = false;
    self->out_at_ms = 0;        //  we hold the token: not counted out after all
    int mine = worm_token_member_find (token, ring_me (self));
    if (mine < 0) {
        //  Dropped from the list, yet we hold the token: list ourselves as
        //  gone so that we can hand it on
        worm_member_t me = self->config.self;
        me.state = WORM_MEMBER_LEFT;
        me.born_at_ms = now_ms;
        if (worm_token_member_add (token, &me)) {
            ring_exit (self, "excluded from the ring");
            return;
        }
        mine = worm_token_member_find (token, ring_me (self));
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
    ring_grow (self, now_ms);
}

//  --------------------------------------------------------------------------
//  Messages

static int
s_read_envelope (worm_wire_reader_t *r, ring_envelope_t *env)
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
s_send_ack (worm_ring_t *self, const ring_envelope_t *env, uint64_t epoch, uint64_t seq)
{
    worm_wire_writer_t w;
    ring_envelope (self, &w, "ACK");
    worm_wire_ku64 (&w, "epoch", epoch);
    worm_wire_ku64 (&w, "seq", seq);
    ring_send_writer (self, env->from, env->endpoint, &w);
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
s_on_token (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env, uint64_t now_ms)
{
    uint64_t epoch, seq;
    const void *bytes;
    size_t size;
    if (worm_wire_get_u64 (r, r->root, "epoch", &epoch)
        || worm_wire_get_u64 (r, r->root, "seq", &seq)
        || worm_wire_get_bin (r, r->root, "token", &bytes, &size, WORM_TOKEN_SIZE_MAX))
        return ring_fail (self, "ring: TOKEN from %s: %s", env->from, r->error);
    if ((self->token
         && (worm_token_order (epoch, seq, worm_token_epoch (self->token),
                               worm_token_seq (self->token)) <= 0
             || s_is_twin (self, epoch, seq)))
        || epoch < self->acceptor.base) {
        //  Stale, duplicate or twin: acknowledge, so the sender stops, and drop
        self->stats.stale++;
        s_send_ack (self, env, epoch, seq);
        if (self->token && epoch < worm_token_epoch (self->token)) {
            //  Of an older epoch: the sender holds a lineage that lost (the
            //  other side of a healed split). Show it our copy, so that its
            //  token dies and it rejoins or goes; and take it back if the
            //  worm is below target ("Partition heal")
            int sender = worm_token_member_find (self->token, env->from);
            if (sender >= 0
                && worm_token_member (self->token, (size_t) sender)->state == WORM_MEMBER_DEAD)
                ring_idset_add (&self->alive_hints, env->from);
            s_send_newer (self, env->from, env->endpoint, NULL);
            //  The other members of that lineage wait for a token that is
            //  dead now: show them too, rather than let them find out at
            //  their loss timeout
            worm_token_t *stale = NULL;
            char err[WORM_TOKEN_ERROR_MAX];
            if (worm_token_decode (bytes, size, &stale, err, sizeof err) == 0) {
                for (size_t i = 0; i < worm_token_member_count (stale); i++) {
                    worm_member_t *m = worm_token_member (stale, i);
                    int index = worm_token_member_find (self->token, m->id);
                    if (worm_token_member_is_live (stale, i) && strcmp (m->id, env->from) != 0
                        && strcmp (m->id, ring_me (self)) != 0
                        && (index < 0 || !worm_token_member_is_live (self->token, (size_t) index)))
                        s_send_newer (self, m->id, m->endpoint, NULL);
                }
                worm_token_destroy (&stale);
            }
        }
        return 0;
    }
    worm_token_t *token = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_decode (bytes, size, &token, err, sizeof err))
        return ring_fail (self, "ring: TOKEN from %s: %s", env->from, err);
    if (worm_token_epoch (token) != epoch || worm_token_seq (token) != seq
        || strcmp (worm_token_worm_id (token), self->config.worm_id) != 0) {
        worm_token_destroy (&token);
        return ring_fail (self, "ring: TOKEN from %s: envelope and token disagree", env->from);
    }
    s_send_ack (self, env, epoch, seq);
    snprintf (self->took_from, sizeof self->took_from, "%s", env->from);
    snprintf (self->took_endpoint, sizeof self->took_endpoint, "%s", env->endpoint);
    ring_accept (self, token, true, now_ms);
    return 0;
}

static int
s_on_ack (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env, uint64_t now_ms)
{
    uint64_t epoch, seq;
    if (worm_wire_get_u64 (r, r->root, "epoch", &epoch)
        || worm_wire_get_u64 (r, r->root, "seq", &seq))
        return ring_fail (self, "ring: ACK from %s: %s", env->from, r->error);
    if (self->state != WORM_RING_FORWARDING || !self->token
        || epoch != worm_token_epoch (self->token) || seq != self->fwd_seq
        || strcmp (env->from, self->fwd_to) != 0)
        return 0;
    snprintf (self->handed_to, sizeof self->handed_to, "%s", self->fwd_to);
    self->handed_epoch = epoch;
    self->handed_seq = seq;
    self->passed_by[0] = self->passed_to[0] = 0;
    self->early_retries = 0;
    if (self->took_from[0] && strcmp (self->took_from, self->fwd_to) != 0) {
        //  Tell the member that handed us the token that it got past us, so
        //  that our death from now on does not make it regenerate
        worm_wire_writer_t w;
        ring_envelope (self, &w, "PASSED");
        worm_wire_ku64 (&w, "epoch", epoch);
        worm_wire_ku64 (&w, "seq", seq);
        worm_wire_kstr (&w, "to", self->fwd_to);
        ring_send_writer (self, self->took_from, self->took_endpoint, &w);
    }
    self->took_from[0] = 0;
    ring_drop_forward (self);
    self->state = WORM_RING_WAITING;
    self->last_token_ms = now_ms;
    self->quiet_since_ms = now_ms;
    self->acceptor.deferrals = 0;
    if (self->leaving)
        ring_exit (self, self->leave_reason);
    self->stepping_aside = false;
    return 0;
}

//  The member we handed the token to had its own hand-on acknowledged: its
//  death no longer means the token's.
static int
s_on_passed (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
             uint64_t now_ms)
{
    (void) now_ms;
    uint64_t epoch, seq;
    if (worm_wire_get_u64 (r, r->root, "epoch", &epoch)
        || worm_wire_get_u64 (r, r->root, "seq", &seq))
        return ring_fail (self, "ring: PASSED from %s: %s", env->from, r->error);
    if (strcmp (env->from, self->handed_to) == 0 && epoch == self->handed_epoch
        && seq > self->handed_seq) {
        //  Remember where it went: should both die, the token most likely
        //  died with them (an optional field; an older segment sends none)
        char to[WORM_TOKEN_ID_MAX] = "";
        if (worm_wire_field (r->root, "to")
            && worm_wire_get_str (r, r->root, "to", to, sizeof to))
            return ring_fail (self, "ring: PASSED from %s: %s", env->from, r->error);
        snprintf (self->passed_by, sizeof self->passed_by, "%s", to[0] ? self->handed_to : "");
        snprintf (self->passed_to, sizeof self->passed_to, "%s", to);
        self->handed_to[0] = 0;
    }
    return 0;
}

//  Another member's joiner came while it did not hold the token: list it
//  now if we may, else when we next hold it (s_apply_spawn_results).
static int
s_on_joined (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
             uint64_t now_ms)
{
    ring_relayed_t relayed;
    memset (&relayed, 0, sizeof relayed);
    worm_member_t *m = &relayed.member;
    if (worm_wire_get_u64 (r, r->root, "epoch", &relayed.epoch)
        || worm_wire_get_str (r, r->root, "spawn", relayed.spawn_id, sizeof relayed.spawn_id)
        || worm_wire_get_str (r, r->root, "id", m->id, sizeof m->id)
        || worm_wire_get_str (r, r->root, "host", m->host, sizeof m->host)
        || worm_wire_get_str (r, r->root, "host_id", m->host_id, sizeof m->host_id)
        || worm_wire_get_str (r, r->root, "member_endpoint", m->endpoint, sizeof m->endpoint)
        || worm_wire_get_u64 (r, r->root, "pid", &m->pid))
        return ring_fail (self, "ring: JOINED from %s: %s", env->from, r->error);
    if (!m->id[0] || !relayed.spawn_id[0])
        return ring_fail (self, "ring: JOINED from %s: empty spawn or id", env->from);
    snprintf (relayed.requester, sizeof relayed.requester, "%s", env->from);
    if (self->relayed_count == RING_MAX_PENDING) {
        //  Forget the oldest
        memmove (&self->relayed[0], &self->relayed[1],
                 (RING_MAX_PENDING - 1) * sizeof self->relayed[0]);
        self->relayed_count--;
    }
    self->relayed[self->relayed_count++] = relayed;
    if (s_may_tend (self, now_ms))
        s_apply_spawn_results (self, now_ms);
    return 0;
}

//  A copy of a token newer than ours (our TOKEN was of an older epoch, our
//  lineage lost, or a holder will not take us back), or, before we ever
//  held one, from the holder that will not list us: adopt it (our own
//  token, if we were handing one on, dies), and go when it counts us out on
//  by's word (ring_go_out: after a short grace); exit at once when we never
//  held a token and it does not list us ("Partition heal").
static int
s_on_newer (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env, uint64_t now_ms)
{
    const void *bytes;
    size_t size;
    if (worm_wire_get_bin (r, r->root, "token", &bytes, &size, WORM_TOKEN_SIZE_MAX))
        return ring_fail (self, "ring: NEWER from %s: %s", env->from, r->error);
    worm_token_t *copy = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_decode (bytes, size, &copy, err, sizeof err))
        return ring_fail (self, "ring: NEWER from %s: %s", env->from, err);
    if (strcmp (worm_token_worm_id (copy), self->config.worm_id) != 0) {
        worm_token_destroy (&copy);
        return ring_fail (self, "ring: NEWER from %s: token of another worm", env->from);
    }
    char by[WORM_TOKEN_ID_MAX];
    int has_by = worm_wire_get_str (r, r->root, "by", by, sizeof by);
    if (has_by < 0) {
        worm_token_destroy (&copy);
        return ring_fail (self, "ring: NEWER from %s: %s", env->from, r->error);
    }
    if (has_by > 0)
        snprintf (by, sizeof by, "%s", env->from);
    int mine = worm_token_member_find (copy, ring_me (self));
    bool listed = mine >= 0 && worm_token_member_is_live (copy, (size_t) mine);
    if (!self->token) {
        //  Spawned, never held the token: the holder did not list us
        worm_token_destroy (&copy);
        if (!listed)
            ring_exit (self, "spawn dropped: the token does not list us");
        return 0;
    }
    if (worm_token_order (worm_token_epoch (copy), worm_token_seq (copy),
                          worm_token_epoch (self->token), worm_token_seq (self->token))
        <= 0) {
        bool lost = worm_token_epoch (copy) < worm_token_epoch (self->token);
        worm_token_destroy (&copy);
        if (lost)
            //  Its sender's lineage lost to ours (the other side of a healed
            //  split, which lists us dead): tell it, as a TOKEN of an older
            //  epoch is told, or the two never meet
            s_send_newer (self, env->from, env->endpoint, NULL);
        return 0;       //  nothing new (a late or repeated NEWER)
    }
    bool out = ring_counted_out (self, copy, by);
    self->stats.newer++;
    ring_accept (self, copy, false, now_ms);
    if (out && self->state != WORM_RING_EXITED)
        ring_go_out (self, "counted out by a newer token: the worm is whole without us", by,
                     now_ms);
    return 0;
}

//  Every message type the ring accepts (ring.h lists them), and its handler.
static const struct {
    const char *type;
    ring_handler_fn *handler;
} s_handlers[] = {
    {"TOKEN", s_on_token},          {"ACK", s_on_ack},           {"PASSED", s_on_passed},
    {"CAMPAIGN", vote_on_campaign}, {"VOTE", vote_on_vote},      {"ACCEPT", vote_on_accept},
    {"ACCEPTED", vote_on_accepted}, {"DIED", deaths_on_died},    {"LEAVE", deaths_on_leave},
    {"NEWER", s_on_newer},          {"JOINED", s_on_joined},
};

//  The handler of message type, or NULL when the ring knows no such type.
static ring_handler_fn *
s_handler (const char *type)
{
    for (size_t i = 0; i < sizeof s_handlers / sizeof s_handlers[0]; i++)
        if (strcmp (s_handlers[i].type, type) == 0)
            return s_handlers[i].handler;
    return NULL;
}

int
worm_ring_receive (worm_ring_t *self, const void *data, size_t size, uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state == WORM_RING_EXITED)
        return 0;
    worm_wire_reader_t r;
    worm_wire_reader_init (&r);
    ring_envelope_t env;
    int rc = 0;
    if (!data || worm_wire_parse (&r, data, size, WORM_RING_MESSAGE_MAX)
        || s_read_envelope (&r, &env))
        rc = ring_fail (self, "ring: bad message: %s", r.error);
    else if (strcmp (env.worm, self->config.worm_id) != 0)
        rc = ring_fail (self, "ring: %s message from %s is for worm \"%s\"", env.type, env.from,
                        env.worm);
    else {
        ring_handler_fn *handler = s_handler (env.type);
        rc = handler ? handler (self, &r, &env, now_ms)
                     : ring_fail (self, "ring: unknown message type \"%s\" from %s", env.type,
                                  env.from);
    }
    worm_wire_reader_fini (&r);
    return rc;
}

//  --------------------------------------------------------------------------
//  Timers and other inputs

//  How long a waiting segment goes without the token before it campaigns:
//  the loss timeout plus its rank's share. A copy that does not list us
//  live (one a vote, a campaign or a NEWER brought: we were on the losing
//  side of a split, or a hop to us was given up on) will not bring the
//  token to us: then the loss floor, so that we soon learn from the
//  voters' answers whether the worm takes us back or is whole without us
//  ("Partition heal"). The measured round may be long from the split.
static uint64_t
s_quiet_ms (worm_ring_t *self)
{
    int mine = worm_token_member_find (self->token, ring_me (self));
    uint64_t loss = mine >= 0 && worm_token_member_is_live (self->token, (size_t) mine)
                        ? ring_loss_timeout (self)
                        : self->config.loss_floor_ms;
    return loss + ring_rank (self) * self->config.campaign_timeout_ms;
}

//  How long we wait without a token before we exit: the orphan timeout;
//  a spawned segment that never had one, the join deadline and a loss floor
//  (by then every holder has dropped its spawn from the token, and only its
//  requester could still list it, below target: a requester that died
//  never will), when that is sooner.
static uint64_t
s_wait_limit (const worm_ring_t *self)
{
    uint64_t limit = self->config.orphan_timeout_ms;
    if (!self->token && self->config.join_deadline_ms + self->config.loss_floor_ms < limit)
        limit = self->config.join_deadline_ms + self->config.loss_floor_ms;
    return limit;
}

void
worm_ring_tick (worm_ring_t *self, uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state != WORM_RING_EXITED && self->leave_deadline_ms
        && now_ms >= self->leave_deadline_ms) {
        ring_exit (self, self->leave_reason);
        return;
    }
    if (self->state != WORM_RING_EXITED && self->out_at_ms && now_ms >= self->out_at_ms) {
        s_go_out_now (self, now_ms);
        if (self->state == WORM_RING_EXITED)
            return;
    }
    switch (self->state) {
    case WORM_RING_EXITED:
        return;
    case WORM_RING_HOLDING:
        if (self->proposer.phase) {
            if (self->proposer.sweep_ms && now_ms >= self->proposer.sweep_ms)
                vote_sweep (self);
            if (now_ms >= self->proposer.deadline_ms)
                vote_failed (self, now_ms);
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
                    deaths_check (self, worm_token_member (self->token, (size_t) index));
            }
            self->fwd_tries++;
            self->fwd_deadline_ms = now_ms + self->config.ack_timeout_ms;
            ring_send (self, self->fwd_to, self->fwd_endpoint, self->fwd_data, self->fwd_size);
            return;
        }
        //  No ACK: the successor is presumed dead; try the next one
        {
            int index = worm_token_member_find (self->token, self->fwd_to);
            if (index >= 0) {
                worm_member_t *dead = worm_token_member (self->token, (size_t) index);
                dead->state = WORM_MEMBER_DEAD;
                deaths_check (self, dead);
            }
            self->stats.skipped++;
            ring_forward (self, now_ms);
        }
        return;
    case WORM_RING_CAMPAIGNING:
        if (self->proposer.sweep_ms && now_ms >= self->proposer.sweep_ms)
            vote_sweep (self);
        if (now_ms >= self->proposer.deadline_ms)
            vote_failed (self, now_ms);
        return;
    case WORM_RING_WAITING:
        if (now_ms - self->last_token_ms >= s_wait_limit (self)) {
            ring_exit (self, self->token ? "orphaned: no token within the orphan timeout"
                                      : "never joined: not listed within the join deadline");
            return;
        }
        if (self->early_again_ms && now_ms >= self->early_again_ms) {
            self->early_again_ms = 0;
            if (deaths_as_handed (self) && self->early_retries) {
                self->early_retries--;
                vote_start (self, now_ms, false, true);
                return;
            }
        }
        if (self->token && now_ms >= self->proposer.next_ms
            && now_ms - self->quiet_since_ms >= s_quiet_ms (self))
            vote_start (self, now_ms, false, false);
        return;
    }
}

//  The campaign's next deadline: its sweep, or giving up.
static uint64_t
s_vote_deadline (const worm_ring_t *self)
{
    if (self->proposer.sweep_ms && self->proposer.sweep_ms < self->proposer.deadline_ms)
        return self->proposer.sweep_ms;
    return self->proposer.deadline_ms;
}

static uint64_t
s_deadline (const worm_ring_t *self)
{
    worm_ring_t *me = (worm_ring_t *) self;     //  ring_loss_timeout/ring_rank only read
    switch (self->state) {
    case WORM_RING_EXITED:
        return UINT64_MAX;
    case WORM_RING_HOLDING:
        return self->proposer.phase ? s_vote_deadline (self) : self->hold_until_ms;
    case WORM_RING_FORWARDING:
        return self->fwd_deadline_ms;
    case WORM_RING_CAMPAIGNING:
        return s_vote_deadline (self);
    case WORM_RING_WAITING:
    default: {
        uint64_t deadline = self->last_token_ms + s_wait_limit (self);
        if (self->token) {
            uint64_t loss = self->quiet_since_ms + s_quiet_ms (me);
            if (loss < self->proposer.next_ms)
                loss = self->proposer.next_ms;
            if (loss < deadline)
                deadline = loss;
        }
        if (self->early_again_ms && self->early_again_ms < deadline)
            deadline = self->early_again_ms;
        return deadline;
    }
    }
}

uint64_t
worm_ring_deadline (const worm_ring_t *self)
{
    uint64_t deadline = s_deadline (self);
    if (self->state != WORM_RING_EXITED && self->leave_deadline_ms
        && self->leave_deadline_ms < deadline)
        deadline = self->leave_deadline_ms;
    if (self->state != WORM_RING_EXITED && self->out_at_ms && self->out_at_ms < deadline)
        deadline = self->out_at_ms;
    return deadline;
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
        return ring_fail (self, "ring: spawn result for unknown spawn \"%s\"",
                          spawn_id ? spawn_id : "(null)");
    if (member
        && (!memchr (member->id, 0, sizeof member->id) || !member->id[0]
            || !memchr (member->endpoint, 0, sizeof member->endpoint)
            || !memchr (member->host, 0, sizeof member->host)
            || !memchr (member->host_id, 0, sizeof member->host_id)))
        return ring_fail (self, "ring: spawn result for \"%s\": invalid member", spawn_id);
    //  A joiner says JOIN until it is listed (every 300 ms, for a round when
    //  we do not hold the token): the same result again takes its old slot
    ring_pending_t *p = NULL;
    for (size_t i = 0; i < self->pending_count && !p; i++)
        if (strcmp (self->pending[i].spawn_id, spawn_id) == 0)
            p = &self->pending[i];
    bool again = p != NULL;
    if (!p && self->pending_count >= RING_MAX_PENDING)
        return ring_fail (self, "ring: too many spawn results pending");
    if (!p)
        p = &self->pending[self->pending_count++];
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
    else if (member && !again && self->state != WORM_RING_HOLDING && !self->leaving)
        s_pass_on_joiner (self, spawn_id, member);
    return 0;
}

void
worm_ring_kill (worm_ring_t *self, uint64_t now_ms)
{
    s_clear_actions (self);
    if (self->state == WORM_RING_EXITED)
        return;
    self->kill_requested = true;
    if (self->state == WORM_RING_HOLDING && !self->proposer.phase)
        self->hold_until_ms = now_ms;
}

void
worm_ring_confirm_dead (worm_ring_t *self, const char *id, uint64_t now_ms)
{
    s_clear_actions (self);
    deaths_confirm (self, id, now_ms);
}

void
worm_ring_suspect (worm_ring_t *self, const char *id, uint64_t now_ms)
{
    s_clear_actions (self);
    deaths_suspect (self, id, now_ms);
}

int
worm_ring_leave (worm_ring_t *self, uint64_t now_ms)
{
    s_clear_actions (self);
    deaths_leave (self, now_ms);
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

bool
worm_ring_going (const worm_ring_t *self)
{
    return self->out_at_ms != 0 || self->retired;
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
    ring_envelope_t env;
    int rc = -1;
    *epoch = 0;
    *seq = 0;
    if (data && worm_wire_parse (&r, data, size, WORM_RING_MESSAGE_MAX) == 0
        && s_read_envelope (&r, &env) == 0) {
        snprintf (type, WORM_RING_TYPE_MAX, "%s", env.type);
        (void) worm_wire_get_u64 (&r, r.root, "epoch", epoch);
        (void) worm_wire_get_u64 (&r, r.root, "seq", seq);
        rc = 0;
    }
    worm_wire_reader_fini (&r);
    return rc;
}
