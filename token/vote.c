/*  vote.c — campaigns: a single-decree Paxos instance per base epoch
    decides the token of the next epoch, with the base's voters as
    acceptors, so that at most one token is ever created per epoch whatever
    the faults; the holder uses the same instance to replace the voters by
    the live members. Part of the ring (ring_internal.h); docs/PROTOCOL.md,
    "Ring messages" (CAMPAIGN, VOTE, ACCEPT, ACCEPTED) and "Rules".

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
#include "ring_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESCUE_ERA_BITS 40
#define MAX_DEFERRALS 3         //  campaigns of others a segment waits out in a row

//  --------------------------------------------------------------------------
//  Helpers

//  The next number of the ring's xorshift PRNG (seeded by worm_ring_new).
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

//  Compares ballots: 1 when a is higher, 0 when equal, -1 when lower.
static int
s_ballot_cmp (const ring_ballot_t *a, const ring_ballot_t *b)
{
    if (a->round != b->round)
        return a->round > b->round ? 1 : -1;
    int order = strcmp (a->id, b->id);
    return order > 0 ? 1 : order < 0 ? -1 : 0;
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
void
vote_end (worm_ring_t *self)
{
    worm_token_destroy (&self->proposer.fresher);
    free (self->proposer.value);
    self->proposer.value = NULL;
    self->proposer.value_size = 0;
    self->proposer.phase = 0;
    self->proposer.early = false;
    self->proposer.deadline_ms = 0;
    self->proposer.sweep_ms = 0;
    self->proposer.promises.count = 0;
    self->proposer.accepts.count = 0;
    self->proposer.heard.count = 0;
    self->proposer.floor = 0;
    memset (&self->proposer.best, 0, sizeof self->proposer.best);
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
//  Campaigns: single-decree Paxos per base epoch. The value decided is the
//  encoded token of epoch base + 1; the acceptors are the base's voters.

//  Moves our acceptor to instance base when it is newer. Returns true when
//  we are (now) in instance base; false when base is older than ours.
static bool
s_instance (worm_ring_t *self, uint64_t base)
{
    if (base > self->acceptor.base) {
        self->acceptor.base = base;
        memset (&self->acceptor.promised, 0, sizeof self->acceptor.promised);
        memset (&self->acceptor.accepted, 0, sizeof self->acceptor.accepted);
        s_keep_bytes (&self->acceptor.value, &self->acceptor.value_size, NULL, 0);
        self->acceptor.rescue = false;
    }
    return base == self->acceptor.base;
}

//  The voter a decision may do without: the lowest id among the voters of
//  the base epoch that a host agent confirmed dead or that our copy lists
//  left (it retired: it never votes again; without this, a voter change
//  whose candidate's agent never confirmed the death of a voter listed
//  left waited for that vote for ever: seed 6175), or NULL. Doing without
//  ONE dead acceptor keeps every two quorums overlapping in a live one.
static const char *
s_excused (worm_ring_t *self)
{
    const char *excused = NULL;
    for (size_t i = 0; i < worm_token_voter_count (self->token); i++) {
        const char *voter = worm_token_voter (self->token, i);
        int index = worm_token_member_find (self->token, voter);
        bool gone = ring_in_idset (&self->confirmed_dead, voter)
                    || (index >= 0
                        && worm_token_member (self->token, (size_t) index)->state
                               == WORM_MEMBER_LEFT);
        if (gone && (!excused || strcmp (voter, excused) < 0))
            excused = voter;
    }
    return excused;
}

static bool
s_majority (worm_ring_t *self, const ring_idset_t *set)
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

//  The rescue quorum: every voter of the base epoch is in set or gone for
//  good, at least one is gone, and at least one is in set. See "Rescue" in
//  the file comment for why this is safe.
static bool
s_rescue_quorum (worm_ring_t *self, const ring_idset_t *set)
{
    if (self->proposer.phase == 1) {
        //  Phase 1 also hears every other member we know of, voter or not
        //  (its answer carries its copy: a newer epoch stops us)
        worm_token_t *copies[2] = {self->token, self->proposer.fresher};
        for (int c = 0; c < 2; c++)
            for (size_t i = 0; copies[c] && i < worm_token_member_count (copies[c]); i++) {
                const char *id = worm_token_member (copies[c], i)->id;
                if (strcmp (id, ring_me (self)) != 0 && !ring_in_idset (set, id)
                    && !ring_in_idset (&self->proposer.heard, id) && !deaths_gone (self, id))
                    return false;
            }
    }
    size_t answered = 0, gone = 0;
    for (size_t i = 0; i < worm_token_voter_count (self->token); i++) {
        const char *voter = worm_token_voter (self->token, i);
        if (ring_in_idset (set, voter))
            answered++;
        else if (deaths_gone (self, voter))
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
    if (self->config.unsafe_no_quorum || !worm_token_is_voter (self->token, ring_me (self)))
        return false;
    const char *excused = s_excused (self);
    size_t voters = worm_token_voter_count (self->token) - (excused ? 1 : 0), left = 0;
    for (size_t i = 0; i < worm_token_voter_count (self->token); i++)
        if (!deaths_gone (self, worm_token_voter (self->token, i)))
            left++;
    return left * 2 <= voters;
}

//  True when every member of our copy but us answered (set, or heard) or
//  is gone for good.
static bool
s_all_answered (worm_ring_t *self, const ring_idset_t *set)
{
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        const char *id = worm_token_member (self->token, i)->id;
        if (strcmp (id, ring_me (self)) != 0 && !ring_in_idset (set, id)
            && !ring_in_idset (&self->proposer.heard, id) && !deaths_gone (self, id))
            return false;
    }
    return true;
}

//  The quorum the campaign in progress needs. An early campaign's first
//  phase needs every member's answer as well.
static bool
s_campaign_quorum (worm_ring_t *self, const ring_idset_t *set)
{
    if (self->proposer.early && self->proposer.phase == 1 && !s_all_answered (self, set))
        return false;
    return self->proposer.rescue ? s_rescue_quorum (self, set) : s_majority (self, set);
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

//  Sends msg to every voter of our base epoch but us; for the first phase
//  of a rescue or an early campaign, to every member we know but us.
static void
s_to_voters (worm_ring_t *self, worm_wire_writer_t *w)
{
    worm_token_t *token = self->token;
    bool all = (self->proposer.rescue || self->proposer.early) && self->proposer.phase == 1;
    size_t count = all ? worm_token_member_count (token) : worm_token_voter_count (token);
    for (size_t i = 0; i < count; i++) {
        const char *voter = all ? worm_token_member (token, i)->id : worm_token_voter (token, i);
        if (strcmp (voter, ring_me (self)) == 0 || (all && deaths_gone (self, voter)))
            continue;
        int index = worm_token_member_find (token, voter);
        if (index < 0)
            continue;       //  no endpoint known: counts as no answer
        ring_send (self, voter, worm_token_member (token, (size_t) index)->endpoint,
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
    ring_envelope (self, w, "CAMPAIGN");
    worm_wire_ku64 (w, "base", self->proposer.base);
    worm_wire_ku64 (w, "seq", worm_token_seq (self->token));
    worm_wire_ku64 (w, "round", self->proposer.ballot.round);
    worm_wire_kbool (w, "reconfig", self->proposer.reconfig);
    worm_wire_kbool (w, "rescue", self->proposer.rescue);
    worm_wire_kbool (w, "early", self->proposer.early);
    s_write_copy (self, w);
    worm_wire_map_close (w);
}

//  Rescue, phase 1: a vote brought a fresher copy of the base epoch, whose
//  members must answer too. Asks those our own copy does not list (and
//  their host agents), or the rescue could never gather them.
static void
s_campaign_widen (worm_ring_t *self)
{
    worm_token_t *fresher = self->proposer.fresher;
    worm_wire_writer_t w;
    s_campaign_message (self, &w);
    for (size_t i = 0; i < worm_token_member_count (fresher); i++) {
        worm_member_t *m = worm_token_member (fresher, i);
        if (strcmp (m->id, ring_me (self)) == 0 || worm_token_member_find (self->token, m->id) >= 0
            || deaths_gone (self, m->id))
            continue;
        ring_send (self, m->id, m->endpoint, worm_wire_writer_data (&w),
                   worm_wire_writer_size (&w));
        deaths_check (self, m);
    }
    worm_wire_writer_fini (&w);
}

//  Phase 1: ask the voters of our epoch to promise our ballot. early: the
//  member we handed the token to died with it (deaths_now_gone); every member
//  is asked and must answer.
void
vote_start (worm_ring_t *self, uint64_t now_ms, bool reconfig, bool early)
{
    worm_token_t *token = self->token;
    uint64_t base = worm_token_epoch (token);
    vote_end (self);
    uint64_t round = self->proposer.round_seen;
    if (self->acceptor.base == base && self->acceptor.promised.round > round)
        round = self->acceptor.promised.round;
    self->proposer.phase = 1;
    self->early_again_ms = 0;
    self->proposer.reconfig = reconfig;
    self->proposer.early = early && !reconfig;
    self->proposer.early_seq = worm_token_seq (token);
    //  A rescue when no ordinary majority is left, and also when our own
    //  acceptor took part in a rescue of this base: it refuses ordinary
    //  ballots from then on, so an ordinary campaign of ours could not win
    self->proposer.rescue = s_needs_rescue (self)
                            || (self->acceptor.base == base && self->acceptor.rescue
                                && worm_token_is_voter (token, ring_me (self)) && !self->retired);
    self->proposer.base = base;
    self->proposer.ballot.round = round + 1;
    snprintf (self->proposer.ballot.id, sizeof self->proposer.ballot.id, "%s", ring_me (self));
    self->proposer.deadline_ms = now_ms + self->config.campaign_timeout_ms;
    self->proposer.kill = self->kill_requested || worm_token_kill (token);
    self->stats.campaigns++;
    if (!reconfig)
        self->state = WORM_RING_CAMPAIGNING;
    worm_wire_writer_t w;
    s_campaign_message (self, &w);
    s_to_voters (self, &w);
    if (!reconfig || self->proposer.rescue)
        //  Ask the host agents about every member that has not answered
        //  half an ACK timeout from now: those found gone let an early
        //  campaign or a rescue proceed within this campaign. Not at once:
        //  the live ones answer before that, and a host agent asked about
        //  every member of a large worm would answer the deaths it was
        //  told of only after all of them
        self->proposer.sweep_ms = now_ms + (self->config.ack_timeout_ms + 1) / 2;
    //  Our own promise, by the acceptor's rule
    if (worm_token_is_voter (token, ring_me (self)) && !self->retired && s_instance (self, base)
        && (self->proposer.rescue || !self->acceptor.rescue)
        && s_ballot_cmp (&self->proposer.ballot, &self->acceptor.promised) > 0) {
        self->acceptor.promised = self->proposer.ballot;
        if (self->proposer.rescue)
            self->acceptor.rescue = true;
        ring_idset_add (&self->proposer.promises, ring_me (self));
        if (self->acceptor.value
            && (!self->proposer.rescue
                || s_is_rescue_epoch (
                       s_value_epoch (self->acceptor.value, self->acceptor.value_size), base))) {
            self->proposer.best = self->acceptor.accepted;
            s_keep_bytes (&self->proposer.value, &self->proposer.value_size, self->acceptor.value,
                          self->acceptor.value_size);
        }
    }
    if (s_campaign_quorum (self, &self->proposer.promises))
        s_phase_two (self, now_ms);
}

void
vote_sweep (worm_ring_t *self)
{
    self->proposer.sweep_ms = 0;
    if (self->proposer.phase != 1)
        return;
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        const worm_member_t *m = worm_token_member (self->token, i);
        if (strcmp (m->id, ring_me (self)) != 0 && !ring_in_idset (&self->proposer.promises, m->id)
            && !ring_in_idset (&self->proposer.heard, m->id) && !deaths_gone (self, m->id))
            deaths_check (self, m);
    }
}

//  Our own proposal: the freshest copy of the base epoch, as epoch base + 1
//  made by us, without dead or departed members, voters = LIVE members.
static int
s_build_value (worm_ring_t *self)
{
    worm_token_t *value = worm_token_dup (self->proposer.fresher && !self->proposer.reconfig
                                              ? self->proposer.fresher
                                              : self->token);
    if (!value)
        return -1;
    uint64_t floor = self->floor > self->proposer.floor ? self->floor : self->proposer.floor;
    if (floor < self->proposer.base)
        floor = self->proposer.base;
    worm_token_set_epoch (value, self->proposer.rescue ? s_rescue_epoch (floor)
                                                   : self->proposer.base + 1);
    worm_token_set_origin (value, ring_me (self));
    if (self->proposer.kill)
        worm_token_set_kill (value, true);
    //  We will hold it: a copy that lists us dead (a hop to us was given up
    //  on) would have us step aside from our own token and campaign again
    int mine = worm_token_member_find (value, ring_me (self));
    if (mine >= 0 && worm_token_member (value, (size_t) mine)->state == WORM_MEMBER_DEAD
        && !self->proposer.reconfig
        && worm_token_live_count (value) + worm_token_spawn_count (value) < worm_token_max (value))
        worm_token_member (value, (size_t) mine)->state = WORM_MEMBER_LIVE;
    ring_set_voters (self, value);
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[WORM_TOKEN_ERROR_MAX];
    int rc = worm_token_encode (value, &bytes, &size, err, sizeof err);
    worm_token_destroy (&value);
    if (rc)
        return -1;
    free (self->proposer.value);
    self->proposer.value = bytes;
    self->proposer.value_size = size;
    return 0;
}

//  Phase 2: ask the voters to accept the value.
static void
s_phase_two (worm_ring_t *self, uint64_t now_ms)
{
    if (!self->proposer.value && s_build_value (self))
        return;     //  out of memory: the campaign times out
    self->proposer.phase = 2;
    self->proposer.deadline_ms = now_ms + self->config.campaign_timeout_ms;
    worm_wire_writer_t w;
    ring_envelope (self, &w, "ACCEPT");
    worm_wire_ku64 (&w, "base", self->proposer.base);
    worm_wire_ku64 (&w, "round", self->proposer.ballot.round);
    worm_wire_kbin (&w, "value", self->proposer.value, self->proposer.value_size);
    s_write_copy (self, &w);    //  a voter that missed our CAMPAIGN learns epoch base
    worm_wire_map_close (&w);
    s_to_voters (self, &w);
    if (worm_token_is_voter (self->token, ring_me (self)) && !self->retired
        && s_instance (self, self->proposer.base)
        && (self->proposer.rescue || !self->acceptor.rescue)
        && s_ballot_cmp (&self->proposer.ballot, &self->acceptor.promised) >= 0) {
        self->acceptor.promised = self->proposer.ballot;
        self->acceptor.accepted = self->proposer.ballot;
        if (self->proposer.rescue)
            self->acceptor.rescue = true;
        s_keep_bytes (&self->acceptor.value, &self->acceptor.value_size, self->proposer.value,
                      self->proposer.value_size);
        ring_idset_add (&self->proposer.accepts, ring_me (self));
    }
    if (s_campaign_quorum (self, &self->proposer.accepts))
        s_chosen (self, now_ms);
}

//  True when token has spawn id in flight.
static bool
s_in_flight (worm_token_t *token, const char *id)
{
    for (size_t i = 0; i < worm_token_spawn_count (token); i++)
        if (strcmp (worm_token_spawn (token, i)->id, id) == 0)
            return true;
    return false;
}

//  token, the value chosen for epoch base + 1, was made from a copy of
//  base older than ours (before: a later seq of the same epoch, hence a
//  later state of the same token). Spawns it has in flight that before
//  no longer has were settled in between (listed, failed, expired): drop
//  them, or they count against the target until the join deadline and
//  hold out the very joiners they were listed as (ring_keep_joiners).
static void
s_drop_settled (worm_token_t *token, worm_token_t *before)
{
    if (worm_token_epoch (before) + 1 != worm_token_epoch (token)
        || worm_token_seq (before) <= worm_token_seq (token))
        return;
    for (size_t i = 0; i < worm_token_spawn_count (token);) {
        char id[WORM_TOKEN_ID_MAX];
        snprintf (id, sizeof id, "%s", worm_token_spawn (token, i)->id);
        if (s_in_flight (before, id))
            i++;
        else
            worm_token_spawn_remove (token, id);
    }
}

//  A majority accepted: the value is the token of epoch base + 1, and we
//  hold it.
static void
s_chosen (worm_ring_t *self, uint64_t now_ms)
{
    worm_token_t *token = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    bool reconfig = self->proposer.reconfig;
    if (worm_token_decode (self->proposer.value, self->proposer.value_size, &token, err,
                           sizeof err)) {
        vote_end (self);
        return;
    }
    vote_end (self);
    self->proposer.attempts = 0;
    if (reconfig)
        self->stats.reconfigurations++;
    else
        self->stats.regenerations++;
    ring_drop_forward (self);
    if (!reconfig)
        self->took_from[0] = 0;     //  ours: nobody handed it to us
    //  A holder that changed the voters already held this token: no second
    //  HELD for the app, and no second hold
    self->rehold = reconfig;
    worm_token_t *before = self->token ? worm_token_dup (self->token) : NULL;
    if (before)
        s_drop_settled (token, before);
    ring_accept (self, token, true, now_ms);
    self->rehold = false;
    if (before && self->state == WORM_RING_HOLDING)
        ring_keep_joiners (self, before, now_ms);
    worm_token_destroy (&before);
    if (self->state == WORM_RING_HOLDING && reconfig)
        self->hold_until_ms = now_ms;
}

//  Counts a failed campaign; returns how long to wait before the next
//  (exponential backoff with jitter).
static uint64_t
s_backoff (worm_ring_t *self)
{
    self->proposer.attempts++;
    uint32_t shift = self->proposer.attempts < 3 ? self->proposer.attempts : 3;
    uint64_t step = self->config.campaign_timeout_ms;
    return step * ((uint64_t) 1 << shift) + s_random (self) % (step * 2);
}

//  A regeneration campaign failed: the next starts after the backoff, later
//  for higher ranks.
static void
s_campaign_later (worm_ring_t *self, uint64_t now_ms)
{
    self->proposer.next_ms
        = now_ms + s_backoff (self) + ring_rank (self) * self->config.campaign_timeout_ms;
}

//  A campaign that ran out of time.
void
vote_failed (worm_ring_t *self, uint64_t now_ms)
{
    bool reconfig = self->proposer.reconfig;
    //  Members that did not answer may be dead: ask their host agents (those
    //  of a fresher copy a vote brought too: a rescue needs them)
    worm_token_t *copies[2] = {self->token, self->proposer.fresher};
    for (int c = 0; c < 2; c++)
        for (size_t i = 0; copies[c] && i < worm_token_member_count (copies[c]); i++) {
            worm_member_t *m = worm_token_member (copies[c], i);
            if (!ring_in_idset (&self->proposer.promises, m->id)
                && !ring_in_idset (&self->proposer.heard, m->id) && !deaths_gone (self, m->id))
                deaths_check (self, m);
        }
    vote_end (self);
    if (reconfig) {
        self->next_reconfig_ms = now_ms + s_backoff (self) + ring_loss_timeout (self) / 2;
        //  Spawn results that came during the vote wait for a hold (its
        //  value was the token as it was): list them before handing on,
        //  not a round later at our next hold (a voter change that an
        //  early campaign's promises held up for its whole timeout, while
        //  a quarter of 32 was replaced, left 7 joiners unlisted for 3 s)
        ring_grow (self, now_ms);
        ring_forward (self, now_ms);
        return;
    }
    self->state = WORM_RING_WAITING;
    s_campaign_later (self, now_ms);
}

//  Decodes a token field and checks it belongs to our worm; NULL on error
//  (self->error set).
static worm_token_t *
s_decode_field (worm_ring_t *self, const ring_envelope_t *env, const void *bytes, size_t size)
{
    worm_token_t *token = NULL;
    char err[WORM_TOKEN_ERROR_MAX];
    if (worm_token_decode (bytes, size, &token, err, sizeof err)) {
        ring_fail (self, "ring: %s from %s: %s", env->type, env->from, err);
        return NULL;
    }
    if (strcmp (worm_token_worm_id (token), self->config.worm_id) != 0) {
        worm_token_destroy (&token);
        ring_fail (self, "ring: %s from %s: token of another worm", env->type, env->from);
    }
    return token;
}

//  A candidate (CAMPAIGN, ACCEPT) has seen epoch base, newer than our copy:
//  a token of it was chosen, so its copy becomes ours (we may be excluded,
//  and exit). Returns -1 when the copy is malformed or not of epoch base.
static int
s_learn_base (worm_ring_t *self, const ring_envelope_t *env, uint64_t base, const void *copy,
              size_t copy_size, uint64_t now_ms)
{
    worm_token_t *newer = s_decode_field (self, env, copy, copy_size);
    if (!newer)
        return -1;
    if (worm_token_epoch (newer) != base) {
        worm_token_destroy (&newer);
        return ring_fail (self, "ring: %s from %s: copy is not of epoch %llu", env->type, env->from,
                          (unsigned long long) base);
    }
    ring_accept (self, newer, false, now_ms);
    return 0;
}

//  We answered a voter change's CAMPAIGN or an ordinary ACCEPT of env's
//  sender: when our copy (perhaps the candidate's, just learnt) counts us out
//  on its word and the worm is whole without us, go (ring_go_out: after a
//  short grace; the candidate has our answer, and a voter change happens in
//  a living ring, so we stand between nobody and a token). A losing side of a healed split hears of
//  the winners' voter changes first, since it still holds votes there.
static void
s_after_answer (worm_ring_t *self, const ring_envelope_t *env, uint64_t now_ms)
{
    if (self->state != WORM_RING_EXITED && self->state != WORM_RING_HOLDING
        && self->state != WORM_RING_FORWARDING && ring_counted_out (self, self->token, env->from))
        ring_go_out (self, "counted out by the token: the worm is whole without us", env->from,
                     now_ms);
}

//  Acceptor, phase 1.
int
vote_on_campaign (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                  uint64_t now_ms)
{
    uint64_t base, seq, round;
    bool reconfig;
    if (worm_wire_get_u64 (r, r->root, "base", &base)
        || worm_wire_get_u64 (r, r->root, "seq", &seq)
        || worm_wire_get_u64 (r, r->root, "round", &round)
        || worm_wire_get_bool (r, r->root, "reconfig", &reconfig))
        return ring_fail (self, "ring: CAMPAIGN from %s: %s", env->from, r->error);
    const void *copy;
    size_t copy_size;
    if (worm_wire_get_bin (r, r->root, "token", &copy, &copy_size, WORM_TOKEN_SIZE_MAX))
        return ring_fail (self, "ring: CAMPAIGN from %s: %s", env->from, r->error);
    bool rescue = false, early = false;
    if (worm_wire_get_bool (r, r->root, "rescue", &rescue) < 0
        || worm_wire_get_bool (r, r->root, "early", &early) < 0)
        return ring_fail (self, "ring: CAMPAIGN from %s: %s", env->from, r->error);
    if (!self->token) {
        //  Never joined: no say, and nothing to report. A rescue or an
        //  early campaign hears it say so (it knows of no token at all),
        //  unless it left.
        if ((rescue || early) && !self->retired) {
            worm_wire_writer_t w;
            ring_envelope (self, &w, "VOTE");
            worm_wire_ku64 (&w, "base", base);
            worm_wire_ku64 (&w, "round", round);
            worm_wire_kbool (&w, "granted", true);
            worm_wire_ku64 (&w, "promised", 0);
            worm_wire_ku64 (&w, "seen_epoch", 0);
            worm_wire_ku64 (&w, "seen_seq", 0);
            worm_wire_kbool (&w, "killed", self->kill_requested);
            worm_wire_ku64 (&w, "floor", self->floor);
            ring_send_writer (self, env->from, env->endpoint, &w);
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
        ring_idset_add (&self->alive_hints, env->from);
    ring_ballot_t ballot;
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
                   && s_instance (self, base) && (rescue || !self->acceptor.rescue)
                   && s_ballot_cmp (&ballot, &self->acceptor.promised) > 0;
    if (granted) {
        self->acceptor.promised = ballot;
        if (rescue)
            self->acceptor.rescue = true;
        if (self->state == WORM_RING_CAMPAIGNING) {
            //  Outbid: our campaign cannot win now; back off as if it failed
            bool early_outbid = self->proposer.early;
            vote_end (self);
            self->state = WORM_RING_WAITING;
            s_campaign_later (self, now_ms);
            if (early_outbid && self->early_retries) {
                //  Another early campaign outbid ours: it may be one whose
                //  premise is stale (its successor died, but the token had
                //  got past it long ago), called off soon; try ours again
                //  shortly unless a newer token comes by
                self->early_again_ms = now_ms + self->config.campaign_timeout_ms / 2
                                       + s_random (self) % self->config.campaign_timeout_ms;
            }
        }
        //  Give the candidate time, but not for ever: a candidate that
        //  cannot win (one that is no voter, while only a rescue can help)
        //  would otherwise keep us from campaigning ourselves
        if (self->acceptor.deferrals < MAX_DEFERRALS) {
            self->acceptor.deferrals++;
            self->quiet_since_ms = now_ms;
        }
    }
    if (self->acceptor.promised.round > self->proposer.round_seen)
        self->proposer.round_seen = self->acceptor.promised.round;
    bool fresher = worm_token_order (seen, worm_token_seq (self->token), base, seq) > 0;
    bool has_value = granted && self->acceptor.value;
    worm_wire_writer_t w;
    ring_envelope (self, &w, "VOTE");
    worm_wire_ku64 (&w, "floor", self->floor);
    worm_wire_ku64 (&w, "base", base);
    worm_wire_ku64 (&w, "round", round);
    worm_wire_kbool (&w, "granted", granted);
    worm_wire_ku64 (&w, "promised", self->acceptor.promised.round);
    worm_wire_ku64 (&w, "seen_epoch", seen);
    worm_wire_ku64 (&w, "seen_seq", worm_token_seq (self->token));
    worm_wire_kbool (&w, "killed", killed);
    if (has_value) {
        worm_wire_ku64 (&w, "accepted_round", self->acceptor.accepted.round);
        worm_wire_kstr (&w, "accepted_by", self->acceptor.accepted.id);
        worm_wire_kbin (&w, "accepted_value", self->acceptor.value, self->acceptor.value_size);
    }
    if (fresher)
        s_write_copy (self, &w);
    ring_send_writer (self, env->from, env->endpoint, &w);
    if (reconfig && !rescue)
        s_after_answer (self, env, now_ms);
    return 0;
}

//  Proposer, phase 1 answers.
int
vote_on_vote (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env, uint64_t now_ms)
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
        return ring_fail (self, "ring: VOTE from %s: %s", env->from, r->error);
    ring_ballot_t accepted;
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
        return ring_fail (self, "ring: VOTE from %s: %s", env->from, r->error);
    if (promised > self->proposer.round_seen)
        self->proposer.round_seen = promised;
    if (self->proposer.phase != 1 || base != self->proposer.base
        || round != self->proposer.ballot.round)
        return 0;
    if (self->proposer.early
        && ((seen_epoch == base && seen_seq > self->proposer.early_seq)
            || (!granted && !killed && !deaths_gone (self, env->from)))) {
        //  Someone saw the token after the dead member had it, holds one,
        //  or backs another candidate: the token may live on. Call the
        //  campaign off (for good); the loss timeout still covers us
        self->early_retries = 0;
        vote_end (self);
        self->state = WORM_RING_WAITING;
        self->quiet_since_ms = now_ms;
        return 0;
    }
    if (killed) {
        self->proposer.kill = true;
        if (!self->proposer.reconfig) {
            //  The worm was killed while its token was lost: obey
            ring_exit (self, "worm killed (learnt from a vote)");
            return 0;
        }
    }
    if (has_copy == 0 && copy_size > 0
        && worm_token_order (seen_epoch, seen_seq, worm_token_epoch (self->token),
                             worm_token_seq (self->token)) > 0) {
        worm_token_t *fresher = s_decode_field (self, env, copy, copy_size);
        if (!fresher)
            return -1;
        //  A live voter of that copy shows the worm whole without us (a
        //  healed split left us on the losing side): go, after ring_go_out's
        //  grace ("Partition heal"). Not in a rescue, an early campaign or a voter change:
        //  those may be all that stands between the worm and its end
        bool out = !self->proposer.rescue && !self->proposer.early && !self->proposer.reconfig
                   && ring_counted_out (self, fresher, env->from);
        if (worm_token_epoch (fresher) > base) {
            //  We are behind: a newer epoch exists. Stop and take its copy.
            ring_accept (self, fresher, false, now_ms);
            if (out && self->state != WORM_RING_EXITED)
                ring_go_out (self, "counted out by a newer token: the worm is whole without us",
                             env->from, now_ms);
            return 0;
        }
        if (out) {
            worm_token_destroy (&fresher);
            vote_end (self);
            self->state = WORM_RING_WAITING;
            self->quiet_since_ms = now_ms;
            ring_go_out (self, "counted out by the token: the worm is whole without us",
                         env->from, now_ms);
            return 0;
        }
        if (worm_token_epoch (fresher) == base
            && (!self->proposer.fresher
                || worm_token_order (base, worm_token_seq (fresher), base,
                                     worm_token_seq (self->proposer.fresher)) > 0)) {
            worm_token_destroy (&self->proposer.fresher);
            self->proposer.fresher = fresher;
            if (self->proposer.rescue)
                s_campaign_widen (self);
        }
        else
            worm_token_destroy (&fresher);
    }
    uint64_t floor = 0;
    if (worm_wire_get_u64 (r, r->root, "floor", &floor) < 0)
        return ring_fail (self, "ring: VOTE from %s: %s", env->from, r->error);
    if (floor > self->proposer.floor)
        self->proposer.floor = floor;
    if (floor > self->floor)
        self->floor = floor;        //  knowledge only grows
    if (granted && (self->proposer.rescue || self->proposer.early)
        && !worm_token_is_voter (self->token, env->from)) {
        ring_idset_add (&self->proposer.heard, env->from);
        if (s_campaign_quorum (self, &self->proposer.promises))
            s_phase_two (self, now_ms);
        return 0;
    }
    if (!granted || !worm_token_is_voter (self->token, env->from))
        return 0;
    ring_idset_add (&self->proposer.promises, env->from);
    //  A rescue takes over only rescue values: an ordinary value may have been
    //  chosen by voters now gone, and a second one of epoch base + 1 would be
    //  a twin creator
    if (has_value == 0 && value_size > 0 && s_ballot_cmp (&accepted, &self->proposer.best) > 0
        && (!self->proposer.rescue
            || s_is_rescue_epoch (s_value_epoch (value, value_size), self->proposer.base))) {
        self->proposer.best = accepted;
        s_keep_bytes (&self->proposer.value, &self->proposer.value_size, value, value_size);
    }
    if (s_campaign_quorum (self, &self->proposer.promises))
        s_phase_two (self, now_ms);
    return 0;
}

//  Acceptor, phase 2.
int
vote_on_accept (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                uint64_t now_ms)
{
    uint64_t base, round;
    const void *value;
    size_t size;
    if (worm_wire_get_u64 (r, r->root, "base", &base)
        || worm_wire_get_u64 (r, r->root, "round", &round)
        || worm_wire_get_bin (r, r->root, "value", &value, &size, WORM_TOKEN_SIZE_MAX))
        return ring_fail (self, "ring: ACCEPT from %s: %s", env->from, r->error);
    if (!self->token)
        return 0;
    const void *copy = NULL;
    size_t copy_size = 0;
    if (worm_wire_get_bin (r, r->root, "token", &copy, &copy_size, WORM_TOKEN_SIZE_MAX) < 0)
        return ring_fail (self, "ring: ACCEPT from %s: %s", env->from, r->error);
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
        return ring_fail (self, "ring: ACCEPT from %s: value is not epoch %llu", env->from,
                          (unsigned long long) base + 1);
    ring_ballot_t ballot;
    ballot.round = round;
    snprintf (ballot.id, sizeof ballot.id, "%s", env->from);
    bool granted = base >= worm_token_epoch (self->token) && !self->retired
                   && s_instance (self, base) && (rescue || !self->acceptor.rescue)
                   && s_ballot_cmp (&ballot, &self->acceptor.promised) >= 0;
    if (granted) {
        if (rescue)
            self->acceptor.rescue = true;
        if (value_epoch > self->floor)
            self->floor = value_epoch;
        self->acceptor.promised = ballot;
        self->acceptor.accepted = ballot;
        s_keep_bytes (&self->acceptor.value, &self->acceptor.value_size, value, size);
    }
    worm_wire_writer_t w;
    ring_envelope (self, &w, "ACCEPTED");
    worm_wire_ku64 (&w, "base", base);
    worm_wire_ku64 (&w, "round", round);
    worm_wire_kbool (&w, "granted", granted);
    worm_wire_ku64 (&w, "promised", self->acceptor.promised.round);
    ring_send_writer (self, env->from, env->endpoint, &w);
    if (!rescue)
        s_after_answer (self, env, now_ms);
    return 0;
}

//  Proposer, phase 2 answers.
int
vote_on_accepted (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                  uint64_t now_ms)
{
    uint64_t base, round, promised;
    bool granted;
    if (worm_wire_get_u64 (r, r->root, "base", &base)
        || worm_wire_get_u64 (r, r->root, "round", &round)
        || worm_wire_get_bool (r, r->root, "granted", &granted)
        || worm_wire_get_u64 (r, r->root, "promised", &promised))
        return ring_fail (self, "ring: ACCEPTED from %s: %s", env->from, r->error);
    if (promised > self->proposer.round_seen)
        self->proposer.round_seen = promised;
    if (self->proposer.phase != 2 || base != self->proposer.base
        || round != self->proposer.ballot.round || !granted || !worm_token_is_voter (self->token, env->from))
        return 0;
    ring_idset_add (&self->proposer.accepts, env->from);
    if (s_campaign_quorum (self, &self->proposer.accepts))
        s_chosen (self, now_ms);
    return 0;
}

bool
vote_member_gone (worm_ring_t *self, uint64_t now_ms)
{
    if (self->proposer.phase == 1 && !self->proposer.rescue && s_needs_rescue (self)) {
        //  No ordinary majority is left: start over as a rescue at once
        vote_start (self, now_ms, self->proposer.reconfig, self->proposer.early);
        return true;
    }
    if (self->proposer.phase == 1 && s_campaign_quorum (self, &self->proposer.promises)) {
        s_phase_two (self, now_ms);
        return true;
    }
    if (self->proposer.phase == 2 && s_campaign_quorum (self, &self->proposer.accepts)) {
        s_chosen (self, now_ms);
        return true;
    }
    return false;
}
