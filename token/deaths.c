/*  deaths.c — member deaths, for the ring of one segment: asking a host
    agent whether a member lives (CHECK), what counts as gone for good, the
    agent's word (worm_ring_confirm_dead) and what it sets off (a skipped
    hop, an early campaign, a rescue, a replacement), telling the dead
    member's predecessor (DIED), hints (worm_ring_suspect), and leaving for
    good (worm_ring_leave, LEAVE). Part of the ring (ring_internal.h);
    docs/PROTOCOL.md, "Healing" and "Rescue".
*/
#include "ring_internal.h"

#include <stdio.h>
#include <string.h>

//  Queues a CHECK of member with its host agent, unless already confirmed.
void
deaths_check (worm_ring_t *self, const worm_member_t *member)
{
    if (ring_in_idset (&self->confirmed_dead, member->id)
        || strcmp (member->id, ring_me (self)) == 0)
        return;
    ring_action_t *slot = ring_push (self, WORM_RING_CHECK);
    if (!slot)
        return;
    snprintf (slot->action.peer, sizeof slot->action.peer, "%s", member->id);
    snprintf (slot->action.endpoint, sizeof slot->action.endpoint, "%s", member->endpoint);
    snprintf (slot->action.host_id, sizeof slot->action.host_id, "%s", member->host_id);
    slot->action.pid = member->pid;
}

//  True when segment id will never vote again: its host agent confirmed it
//  gone, it announced LEAVE, or our copy (or the fresher one a vote
//  brought) lists it LEFT (only the segment itself, once retired, or a
//  holder on its agent's word marks a member LEFT).
bool
deaths_gone (worm_ring_t *self, const char *id)
{
    if (ring_in_idset (&self->confirmed_dead, id))
        return true;
    worm_token_t *copies[2] = {self->token, self->proposer.fresher};
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

//  A member heard from its host agent that segment id is gone, and we are
//  before id in its copy: a hint, which we check with id's agent ourselves.
int
deaths_on_died (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                uint64_t now_ms)
{
    char id[WORM_TOKEN_ID_MAX];
    if (worm_wire_get_str (r, r->root, "id", id, sizeof id))
        return ring_fail (self, "ring: DIED from %s: %s", env->from, r->error);
    deaths_suspect (self, id, now_ms);
    return 0;
}

//  A member leaves for good (worm_ring_leave): it counts as gone for good.
int
deaths_on_leave (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                 uint64_t now_ms)
{
    (void) r;
    deaths_now_gone (self, env->from, false, now_ms);
    return 0;
}

//  Segment id will never vote or forward again (died: its host agent says
//  it is gone; else it announced LEAVE): count it out of quorums, skip it if
//  we are handing the token to it, and let a campaign waiting for it
//  proceed.
void
deaths_now_gone (worm_ring_t *self, const char *id, bool died, uint64_t now_ms)
{
    if (self->state == WORM_RING_EXITED || !id || !id[0] || strcmp (id, ring_me (self)) == 0)
        return;
    if (self->confirmed_dead.count == WORM_TOKEN_MAX_MEMBERS) {
        //  Forget the oldest: it has long left every voter list
        memmove (self->confirmed_dead.ids[0], self->confirmed_dead.ids[1],
                 (WORM_TOKEN_MAX_MEMBERS - 1) * WORM_TOKEN_ID_MAX);
        self->confirmed_dead.count--;
    }
    ring_idset_add (&self->confirmed_dead, id);
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
        self->proposer.attempts = 0;
    }
    if (self->state == WORM_RING_FORWARDING && strcmp (self->fwd_to, id) == 0) {
        //  The hop we wait on cannot be acknowledged: skip it now
        self->stats.skipped++;
        ring_forward (self, now_ms);
        return;
    }
    //  (A member that leaves in order hands the token on first.) We wait
    //  with the very copy we handed on: no newer token has come by since
    bool as_handed = died && deaths_as_handed (self);
    if (as_handed && strcmp (self->handed_to, id) == 0) {
        //  The member that took the token from us is gone for good, it
        //  never told us PASSED: the token most likely went with it.
        //  Regenerate now, not after the loss timeout; every member must
        //  agree it saw nothing newer (and the vote keeps it safe should
        //  the token live on all the same)
        self->handed_to[0] = 0;
        self->early_retries = RING_EARLY_RETRIES;
        vote_start (self, now_ms, false, true);
        return;
    }
    if (as_handed && !self->proposer.phase && self->passed_by[0]
        && ring_in_idset (&self->confirmed_dead, self->passed_by)
        && ring_in_idset (&self->confirmed_dead, self->passed_to)) {
        //  The token got past our successor to the member after it, and
        //  both are gone for good: the token most likely went with them (a
        //  holder and the member before it SIGKILLed at once; the one that
        //  could have campaigned early is dead). Campaign early ourselves;
        //  a member that saw the token later calls it off
        self->passed_by[0] = 0;
        self->early_retries = RING_EARLY_RETRIES;
        vote_start (self, now_ms, false, true);
        return;
    }
    if (as_handed && !self->proposer.phase && self->early_retries) {
        //  Our early campaign ran out of time: it waited for members that
        //  died with the holder (8 of 32 SIGKILLed at once) and that their
        //  agents confirm gone one after another. With this one gone it may
        //  succeed: try again rather than wait out the loss timeout (13 s
        //  at 32 members)
        self->early_retries--;
        vote_start (self, now_ms, false, true);
        return;
    }
    if (!vote_member_gone (self, now_ms))
        //  Holding: list it left and ask for its replacement now
        ring_grow (self, now_ms);
}

bool
deaths_as_handed (const worm_ring_t *self)
{
    return self->token && self->state == WORM_RING_WAITING && !self->leaving
           && worm_token_epoch (self->token) == self->handed_epoch
           && worm_token_seq (self->token) == self->handed_seq;
}

//  Segment id's host agent told us it is gone: tell the member before it
//  in our copy's ring order (DIED), unless that is us. That member may
//  have handed it the token (Healing (5)), and its own death notice may
//  have been lost; it asks its own CHECK on our word.
static void
s_tell_predecessor (worm_ring_t *self, const char *id)
{
    if (!self->token || ring_in_idset (&self->confirmed_dead, id))
        return;
    const char *gone[WORM_TOKEN_MAX_MEMBERS];
    for (size_t i = 0; i < self->confirmed_dead.count; i++)
        gone[i] = self->confirmed_dead.ids[i];
    int before = worm_token_predecessor (self->token, id, gone, self->confirmed_dead.count);
    if (before < 0)
        return;
    worm_member_t *m = worm_token_member (self->token, (size_t) before);
    if (strcmp (m->id, ring_me (self)) != 0) {
        worm_wire_writer_t w;
        ring_envelope (self, &w, "DIED");
        worm_wire_kstr (&w, "id", id);
        ring_send_writer (self, m->id, m->endpoint, &w);
    }
}

void
deaths_confirm (worm_ring_t *self, const char *id, uint64_t now_ms)
{
    if (self->state != WORM_RING_EXITED && id && strcmp (id, ring_me (self)) != 0)
        s_tell_predecessor (self, id);
    deaths_now_gone (self, id, true, now_ms);
}

//  The entry for id in list (count of them), or NULL.
static ring_suspect_t *
s_hint_find (ring_suspect_t *list, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (list[i].id, id) == 0)
            return &list[i];
    return NULL;
}

//  A slot for a new entry in list: the next free one, or when all cap are
//  taken the oldest.
static ring_suspect_t *
s_hint_slot (ring_suspect_t *list, size_t *count, size_t cap)
{
    if (*count < cap)
        return &list[(*count)++];
    ring_suspect_t *oldest = &list[0];
    for (size_t i = 1; i < *count; i++)
        if (list[i].at_ms < oldest->at_ms)
            oldest = &list[i];
    return oldest;
}

//  Keeps a hint about a segment our copy does not list (a segment that
//  joined has no copy at all until its first token, and hears the death
//  notices of a quarter of the worm SIGKILLed as it waits): it is acted on
//  when a copy lists that segment, within RING_HINT_KEEP_MS.
static void
s_keep_hint (worm_ring_t *self, const char *id, uint64_t now_ms)
{
    ring_suspect_t *slot = s_hint_find (self->unplaced, self->unplaced_count, id);
    if (!slot)
        slot = s_hint_slot (self->unplaced, &self->unplaced_count, RING_MAX_PENDING);
    snprintf (slot->id, sizeof slot->id, "%s", id);
    slot->at_ms = now_ms;
}

void
deaths_replace_hints (worm_ring_t *self, uint64_t now_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->unplaced_count; i++) {
        ring_suspect_t hint = self->unplaced[i];
        if (now_ms - hint.at_ms > RING_HINT_KEEP_MS)
            continue;
        if (self->token && worm_token_member_find (self->token, hint.id) >= 0)
            deaths_suspect (self, hint.id, now_ms);
        else
            self->unplaced[kept++] = hint;
    }
    self->unplaced_count = kept;
}

void
deaths_suspect (worm_ring_t *self, const char *id, uint64_t now_ms)
{
    if (self->state == WORM_RING_EXITED || !id || !id[0] || strcmp (id, ring_me (self)) == 0
        || ring_in_idset (&self->confirmed_dead, id))
        return;
    int index = self->token ? worm_token_member_find (self->token, id) : -1;
    if (index < 0) {
        //  Not a member we know (yet): ask once a copy lists it
        s_keep_hint (self, id, now_ms);
        return;
    }
    if (self->out_at_ms && worm_token_member_is_live (self->token, (size_t) index)
        && worm_token_is_voter (self->token, id))
        //  Counted out, about to go (ring_go_out), and one of the voters
        //  whose word that was may be dead: stay, we may be needed (a hint
        //  suffices: a false one only keeps us till the orphan timeout or
        //  the next word)
        self->out_at_ms = 0;
    worm_member_t *member = worm_token_member (self->token, (size_t) index);
    if (member->state == WORM_MEMBER_LEFT)
        return;     //  gone for good already
    //  At most one CHECK per member and interval: a flood of hints, true or
    //  forged, costs the host agents little
    ring_suspect_t *slot = s_hint_find (self->suspects, self->suspect_count, id);
    if (slot && now_ms - slot->at_ms < WORM_RING_SUSPECT_INTERVAL_MS)
        return;
    if (!slot)
        slot = s_hint_slot (self->suspects, &self->suspect_count, WORM_TOKEN_MAX_MEMBERS);
    snprintf (slot->id, sizeof slot->id, "%s", member->id);
    slot->at_ms = now_ms;
    deaths_check (self, member);
}

void
deaths_announce_leave (worm_ring_t *self)
{
    if (!self->token)
        return;
    for (size_t i = 0; i < worm_token_member_count (self->token); i++) {
        worm_member_t *m = worm_token_member (self->token, i);
        if (strcmp (m->id, ring_me (self)) == 0 || m->state == WORM_MEMBER_LEFT
            || ring_in_idset (&self->confirmed_dead, m->id))
            continue;
        worm_wire_writer_t w;
        ring_envelope (self, &w, "LEAVE");
        worm_wire_ku64 (&w, "epoch", worm_token_epoch (self->token));
        ring_send_writer (self, m->id, m->endpoint, &w);
    }
}

void
deaths_leave (worm_ring_t *self, uint64_t now_ms)
{
    if (self->state == WORM_RING_EXITED)
        return;
    if (self->retired && self->leave_deadline_ms)
        return;         //  already leaving
    //  From here on we never vote: we are as good as confirmed dead
    self->retired = true;
    self->leave_deadline_ms = now_ms + self->config.ack_timeout_ms * 2;
    snprintf (self->leave_reason, sizeof self->leave_reason, "left the worm");
    deaths_announce_leave (self);
    if (self->state == WORM_RING_HOLDING) {
        vote_end (self);      //  a voter change in progress is abandoned
        int mine = worm_token_member_find (self->token, ring_me (self));
        if (mine >= 0)
            worm_token_member (self->token, (size_t) mine)->state = WORM_MEMBER_LEFT;
        self->leaving = true;
        self->excluded = true;
        ring_forward (self, now_ms);
    }
    else if (self->state == WORM_RING_FORWARDING) {
        //  The token is on its way: exit at its ACK (or the deadline)
        self->leaving = true;
        self->excluded = true;
    }
    else
        ring_exit (self, self->leave_reason);
}
