/*  ring_internal.h — the ring's state and the calls between its files.

    Private to token/: never installed, never included outside ring.c,
    vote.c and deaths.c. ring.h is the public API; this header is how the
    one state machine it describes is kept in three files, one concern each:

      ring.c    hops and acks, population (spawns, leaving), accepting tokens,
                the message dispatch and every public entry point
      vote.c    campaigns: the Paxos instance per base epoch (acceptor and
                proposer), voter changes, rescue (docs/PROTOCOL.md, "Rescue")
      deaths.c  member deaths: CHECK, "gone for good", DIED, suspects, LEAVE

    Functions declared here carry their file's name as prefix (ring_, vote_,
    deaths_); helpers used in one file only stay static there (s_). None of
    them clears the action queue: only the public entry points in ring.c do
    (ring.h, "worm_ring_action"). Same thread rule as ring.h: one ring, one
    thread.
*/
#ifndef WORM_RING_INTERNAL_H_INCLUDED
#define WORM_RING_INTERNAL_H_INCLUDED

#include "ring.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAX_PENDING 16     //  spawn results, and spawn ids, remembered
#define RING_EARLY_RETRIES 3    //  an early campaign out of time is tried again this often
#define RING_HINT_KEEP_MS 10000 //  a hint about a segment we do not know yet is kept this long

//  A spawn result waiting for this segment to hold the token.
typedef struct {
    char spawn_id[WORM_TOKEN_ID_MAX];   //  which spawn
    bool ok;                            //  started, or failed
    worm_member_t member;               //  the new segment when ok
} ring_pending_t;

//  A spawn result another member passed on (JOINED): the segment that
//  asked for spawn_id did not hold the token when its joiner came. Whoever
//  holds the token next lists it, if the spawn is still in flight for
//  that member.
typedef struct {
    char spawn_id[WORM_TOKEN_ID_MAX];   //  which spawn
    char requester[WORM_TOKEN_ID_MAX];  //  who asked for it (and sent JOINED)
    uint64_t epoch;                     //  of its copy then: listed only in that epoch
    worm_member_t member;               //  the new segment
} ring_relayed_t;

//  One queued action plus the bytes it owns.
typedef struct {
    worm_ring_action_t action;          //  what the caller sees
    uint8_t *owned;                     //  SEND data, freed when the queue is cleared
} ring_action_t;

//  A member we may have to tell something: its id and endpoint.
typedef struct {
    char id[WORM_TOKEN_ID_MAX];                 //  segment id
    char endpoint[WORM_TOKEN_ENDPOINT_MAX];     //  where it listens
} ring_peer_t;

//  When we last asked a host agent about a suspect (worm_ring_suspect).
typedef struct {
    char id[WORM_TOKEN_ID_MAX];         //  the member
    uint64_t at_ms;                     //  when
} ring_suspect_t;

//  A Paxos ballot: a round number, ties broken by the proposer's id.
typedef struct {
    uint64_t round;                     //  0 = none
    char id[WORM_TOKEN_ID_MAX];         //  proposer
} ring_ballot_t;

//  A set of segment ids (who promised, who accepted).
typedef struct {
    char ids[WORM_TOKEN_MAX_MEMBERS][WORM_TOKEN_ID_MAX];   //  members
    size_t count;                       //  how many
} ring_idset_t;

//  Acceptor (voter) state: one Paxos instance, deciding the successor of
//  epoch base (vote.c).
typedef struct {
    uint64_t base;                      //  the instance's base epoch
    ring_ballot_t promised;             //  highest ballot promised in it
    ring_ballot_t accepted;             //  ballot of the value accepted, if any
    bool rescue;                        //  we promised a rescue ballot or accepted a
                                        //  rescue value in it: no normal ballot any more
    uint8_t *value;                     //  that value: an encoded token, or NULL
    size_t value_size;                  //  its size
    uint32_t deferrals;                 //  campaigns we granted and waited out since we
                                        //  last had the token
} ring_acceptor_t;

//  Proposer (candidate) state: the campaign in progress, if any, and what
//  carries over from one campaign to the next (vote.c).
typedef struct {
    int phase;                          //  0 none, 1 collecting promises, 2 accepts
    bool reconfig;                      //  true: the holder changing voters
    bool rescue;                        //  true: a rescue (every voter answers or is gone)
    ring_idset_t heard;                 //  rescue: members not voters that promised
    uint64_t floor;                     //  rescue: highest epoch the answers knew of
    uint64_t base;                      //  epoch whose successor we propose
    ring_ballot_t ballot;               //  our ballot
    uint64_t deadline_ms;               //  give up then
    uint64_t sweep_ms;                  //  0, or when to ask the host agents about
                                        //  the members that have not answered yet
    ring_idset_t promises;              //  voters that promised
    ring_idset_t accepts;               //  voters that accepted
    ring_ballot_t best;                 //  highest accepted ballot among promises
    uint8_t *value;                     //  value to propose: best accepted, or ours
    size_t value_size;                  //  its size
    worm_token_t *fresher;              //  fresher copy of the base epoch from votes
    bool early;                         //  started on a holder's death, before the loss
                                        //  timeout: every member must answer, and it is
                                        //  called off when one refuses or shows the
    uint64_t early_seq;                 //  token got past this seq (it lives on)
    bool kill;                          //  someone reported the worm killed
    //  Across campaigns
    uint64_t round_seen;                //  highest round heard of, for our next ballot
    uint32_t attempts;                  //  consecutive failures, for backoff
    uint64_t next_ms;                   //  no regeneration campaign before this
} ring_proposer_t;

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
    ring_idset_t left_to;               //  whom we sent a copy listing us LEFT
    uint64_t leave_deadline_ms;         //  worm_ring_leave: exit by then at the latest
    uint64_t last_hold_ms;              //  when we last took the token (round time)
    uint64_t last_hold_epoch;           //  ... in which epoch
    uint64_t last_quorum_ms;            //  last time a token we held listed a live
                                        //  majority of its voters
    uint64_t last_dead_told_ms;         //  when we last sent the members we list dead
                                        //  (not confirmed) our copy, the worm being
                                        //  whole without them (s_tend)
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
    char passed_by[WORM_TOKEN_ID_MAX];  //  our successor, once it said PASSED for that token,
    char passed_to[WORM_TOKEN_ID_MAX];  //  and the member it handed it to (PASSED's "to")
    uint32_t early_retries;             //  early campaigns that may still be tried again
    uint64_t early_again_ms;            //  0, or when to try an outbid early campaign again
                                        //  if we still wait with the copy we handed on
                                        //  for the token handed as below (one that ran out
                                        //  of time while members it waited for were dead
                                        //  but not yet confirmed): at the next death confirmed
    char took_from[WORM_TOKEN_ID_MAX];  //  who handed us the token we hold (empty: a
                                        //  campaign of ours made it): told PASSED once our
    char took_endpoint[WORM_TOKEN_ENDPOINT_MAX];  //  hand-on is acknowledged, at this endpoint
    //  The vote
    ring_acceptor_t acceptor;           //  our voter in the instance we are in
    ring_proposer_t proposer;           //  our campaigns
    uint64_t next_reconfig_ms;          //  holder: no voter change before this
    uint64_t next_check_ms;             //  holder: next CHECK of unreachable voters
    uint64_t next_probe_ms;             //  alone: next try of an unreachable member
    uint64_t floor;                     //  highest epoch we have seen in any token, copy
                                        //  or value (a rescue goes past it)
    ring_peer_t lineage[WORM_TOKEN_MAX_MEMBERS];   //  live members of our copy when a
    size_t lineage_count;               //  copy of a newer epoch replaced it: told NEWER
                                        //  when that copy counts us out (ring_go_out)
    uint64_t out_at_ms;                 //  0, or when we go, counted out (ring_go_out)
    bool out_checked;                   //  ... the second CHECK of its voters is out
    char out_by[WORM_TOKEN_ID_MAX];     //  ... on whose word
    char out_reason[WORM_RING_REASON_MAX];   //  ... and why
    //  Member deaths
    ring_idset_t confirmed_dead;        //  segments whose host agent said they are gone
    ring_idset_t alive_hints;           //  members listed dead that campaigned since
    ring_suspect_t suspects[WORM_TOKEN_MAX_MEMBERS];   //  CHECKs asked on a hint, to
                                        //  rate-limit them per member
    size_t suspect_count;               //  how many remembered
    ring_suspect_t unplaced[RING_MAX_PENDING];  //  hints about segments our copy did
                                        //  not list (or before we had one): asked
    size_t unplaced_count;              //  about once a copy lists them
    //  Spawns
    ring_pending_t pending[RING_MAX_PENDING];   //  results waiting for the token
    size_t pending_count;               //  how many
    ring_relayed_t relayed[RING_MAX_PENDING];   //  others' results passed on, oldest first
    size_t relayed_count;               //  how many
    char asked[RING_MAX_PENDING][WORM_TOKEN_ID_MAX];   //  spawn ids we asked for, recent first
    size_t asked_count;                 //  how many remembered
    uint64_t spawn_counter;             //  makes spawn ids unique
    //  Output
    ring_action_t *actions;             //  queue of actions
    size_t action_count;                //  queued
    size_t action_cap;                  //  allocated
    size_t action_next;                 //  next to hand out
    uint64_t rng;                       //  xorshift state for jitter
    worm_ring_stats_t stats;            //  counters
    char error[WORM_TOKEN_ERROR_MAX];   //  why the last call failed
};

//  The envelope every ring message carries (docs/PROTOCOL.md, "Ring messages").
typedef struct {
    char type[WORM_RING_TYPE_MAX];              //  message type
    char worm[WORM_TOKEN_ID_MAX];               //  worm id
    char from[WORM_TOKEN_ID_MAX];               //  sender's segment id
    char endpoint[WORM_TOKEN_ENDPOINT_MAX];     //  sender's endpoint
} ring_envelope_t;

//  A handler of one message type: r holds the parsed message, env its
//  envelope (already checked to be of our worm). Returns 0 when handled
//  (stale or irrelevant included), -1 when malformed (ring_fail said why).
typedef int(ring_handler_fn) (worm_ring_t *self, worm_wire_reader_t *r,
                              const ring_envelope_t *env, uint64_t now_ms);

//  This segment's id.
static inline const char *
ring_me (worm_ring_t *self)
{
    return self->config.self.id;
}

//  --------------------------------------------------------------------------
//  ring.c: actions, messages, holding and forwarding

//  Records why the call fails (printf format) and counts a refusal; returns -1.
int ring_fail (worm_ring_t *self, const char *fmt, ...);
//  Queues an action of type, zeroed; NULL when out of memory (the action is lost).
ring_action_t *ring_push (worm_ring_t *self, worm_ring_action_type_t type);
//  Queues a SEND of a copy of data (size bytes) to peer at endpoint.
void ring_send (worm_ring_t *self, const char *peer, const char *endpoint, const void *data,
                size_t size);
//  Gives EXIT with reason, once; from then on the ring ignores every input.
void ring_exit (worm_ring_t *self, const char *reason);
//  Starts w (initialises it) with a counted map holding the envelope of
//  type: the caller adds its fields, then ring_send_writer (or, to use the
//  bytes otherwise, worm_wire_map_close first).
void ring_envelope (worm_ring_t *self, worm_wire_writer_t *w, const char *type);
//  Closes w's message, queues a SEND of its bytes to peer at endpoint, and finishes w.
void ring_send_writer (worm_ring_t *self, const char *peer, const char *endpoint,
                       worm_wire_writer_t *w);
//  The loss timeout now: from the measured round, at least a round of holds.
uint64_t ring_loss_timeout (worm_ring_t *self);
//  Our rank among the live members of our copy by id (0 = lowest).
uint64_t ring_rank (worm_ring_t *self);
//  Forgets the TOKEN message kept for resends.
void ring_drop_forward (worm_ring_t *self);
//  Adds id to set; false when it was there already or the set is full.
bool ring_idset_add (ring_idset_t *set, const char *id);
//  True when id is in set.
bool ring_in_idset (const ring_idset_t *set, const char *id);
//  Makes token's voters the wanted ones (live members, and voters only
//  unreachable), dropping members gone and no voter any more.
void ring_set_voters (worm_ring_t *self, worm_token_t *token);
//  Hands our token to the next live member (or keeps it when alone, or
//  exits when leaving and nobody is left): state FORWARDING, HOLDING or EXITED.
void ring_forward (worm_ring_t *self, uint64_t now_ms);
//  Makes token (ownership taken) our copy, ending any campaign and hop of
//  ours. held: we hold it now (it came as a TOKEN, or our campaign chose
//  it: HOLDING, with HELD unless self->rehold); else a copy learnt from a
//  vote, and we wait (or exit, when it is killed). A held token that counts
//  us out is handed on at the end of the hold, and we exit.
void ring_accept (worm_ring_t *self, worm_token_t *token, bool held, uint64_t now_ms);
//  While we hold the token (and may change it): lists the spawn results and
//  the members gone, and asks for the spawns the population rule wants now.
void ring_grow (worm_ring_t *self, uint64_t now_ms);
//  True when copy, a token newer than ours that member from (a live voter
//  of it) showed us, counts us out and the worm is whole without us: it
//  lists us neither live nor joining, a live majority of its voters, and
//  live members plus spawns in flight at least its target (docs/PROTOCOL.md,
//  "Partition heal"). Then we may go (ring_go_out).
bool ring_counted_out (worm_ring_t *self, worm_token_t *copy, const char *from);
//  We hold a token that a campaign chose, and before held (or copied)
//  before: joiners before listed that the token lacks (the value was made
//  from an older copy) are listed again while the worm is below target
//  and s_may_tend allows, else ended at once (NEWER), rather than left to
//  wait out their orphan timeout above the cap.
void ring_keep_joiners (worm_ring_t *self, worm_token_t *before, uint64_t now_ms);
//  Our copy counts us out on the word of by (ring_counted_out): leave the
//  worm, for reason, after a grace of loss_floor_ms in which we CHECK the
//  voters it lists live (a copy can be older than the crash of all of
//  them). Then, unless we hold the token again or an agent said that by,
//  or so many of them that no live majority is left, are gone: never vote
//  again, tell the members of the lineage we were in that the copy does
//  not list live (NEWER, on by's word: they wait for a token that died)
//  and every member of our copy (LEAVE: they count us gone for good), and
//  give EXIT. Nothing when a grace runs already.
void ring_go_out (worm_ring_t *self, const char *reason, const char *by, uint64_t now_ms);

//  --------------------------------------------------------------------------
//  vote.c: campaigns and rescue

//  Forgets the campaign in progress, if any (keeps what carries over).
void vote_end (worm_ring_t *self);
//  Starts a campaign for the successor of our copy's epoch (phase 1).
//  reconfig: the holder changing voters (state stays HOLDING); else a
//  regeneration (state CAMPAIGNING). early: the member we handed the token
//  to died with it, every member must answer. May win at once (alone).
void vote_start (worm_ring_t *self, uint64_t now_ms, bool reconfig, bool early);
//  The campaign in progress ran out of time: CHECKs the silent, backs off;
//  a voter change hands the token on instead.
void vote_failed (worm_ring_t *self, uint64_t now_ms);
//  The campaign's sweep is due (proposer.sweep_ms): asks the host agents
//  about every member that has neither answered nor is known gone.
void vote_sweep (worm_ring_t *self);
//  A member is gone for good: a campaign in phase 1 that no majority can
//  win any more starts over as a rescue; one whose quorum is complete now
//  goes on (phase 2, or chosen). Returns true when it did one of these,
//  false when there was nothing for the campaign to do.
bool vote_member_gone (worm_ring_t *self, uint64_t now_ms);
//  The acceptor's and proposer's messages (ring_handler_fn).
int vote_on_campaign (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                      uint64_t now_ms);
int vote_on_vote (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                  uint64_t now_ms);
int vote_on_accept (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                    uint64_t now_ms);
int vote_on_accepted (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                      uint64_t now_ms);

//  --------------------------------------------------------------------------
//  deaths.c: member deaths

//  Queues a CHECK of member with its host agent, unless it is us or
//  already confirmed dead.
void deaths_check (worm_ring_t *self, const worm_member_t *member);
//  Tells every member of our copy but us that we leave for good (LEAVE).
void deaths_announce_leave (worm_ring_t *self);
//  True when segment id will never vote again: confirmed dead, announced
//  LEAVE, or listed LEFT in our copy or the fresher one a vote brought.
bool deaths_gone (worm_ring_t *self, const char *id);
//  Segment id will never vote or forward again (died: its host agent says
//  so; else it announced LEAVE). See worm_ring_confirm_dead.
void deaths_now_gone (worm_ring_t *self, const char *id, bool died, uint64_t now_ms);
//  worm_ring_confirm_dead, worm_ring_suspect, worm_ring_leave, after
//  ring.c cleared the action queue.
void deaths_confirm (worm_ring_t *self, const char *id, uint64_t now_ms);
void deaths_suspect (worm_ring_t *self, const char *id, uint64_t now_ms);
//  True while we wait with the very copy we handed on: no newer token has
//  come by since (the early campaign's condition).
bool deaths_as_handed (const worm_ring_t *self);
//  A new copy of the token was taken: the hints it could not place before
//  (deaths_suspect) are acted on now if it lists those segments.
void deaths_replace_hints (worm_ring_t *self, uint64_t now_ms);
void deaths_leave (worm_ring_t *self, uint64_t now_ms);
//  DIED and LEAVE (ring_handler_fn).
int deaths_on_died (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                    uint64_t now_ms);
int deaths_on_leave (worm_ring_t *self, worm_wire_reader_t *r, const ring_envelope_t *env,
                     uint64_t now_ms);

#endif
