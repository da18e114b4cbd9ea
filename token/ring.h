/*  ring.h — the ring protocol of one segment, sans I/O.

    A worm's segments pass one token round a ring (../shared/DESIGN.md, "The
    token"; wire format in ../docs/PROTOCOL.md, "## Token"). This module is
    the state machine of ONE segment: it takes inputs (a message from a
    peer, a timer tick, a spawn result, a kill request), each with the time
    in milliseconds, and answers with actions the caller performs (send
    these bytes to that member, spawn a segment, exit). It owns no sockets,
    reads no clock, starts no threads; its only randomness is a PRNG seeded
    from the configuration. The segment process pumps sockets and timers
    into it; the simulator (tests/sim/) runs many of them over a simulated
    network. It is written in three files behind one private header
    (ring_internal.h): ring.c (hops, population, this API), vote.c
    (campaigns, rescue) and deaths.c (member deaths).

    Calling pattern: after every input call, drain worm_ring_action() until
    it returns NULL, then sleep until worm_ring_deadline() or the next
    message, whichever is first, and call worm_ring_tick() when the deadline
    passes. Times must never go backwards. Nothing here is thread-safe: one
    ring, one thread.

    Trust: the ring checks every message as hostile input (types, sizes,
    limits), but believes well-formed messages of its worm; keeping others
    out is the transport's job (CurveZMQ, issue 5).
*/
#ifndef WORM_RING_H_INCLUDED
#define WORM_RING_H_INCLUDED

#include "token.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Largest message the ring sends or accepts: at most two tokens (a VOTE's
//  accepted value and copy, an ACCEPT's value and copy) plus the envelope.
#define WORM_RING_MESSAGE_MAX (2 * WORM_TOKEN_SIZE_MAX + 1024)
#define WORM_RING_REASON_MAX 128

//  The ring's messages: the ring sends every one of these types (SEND
//  actions) and accepts no other (docs/PROTOCOL.md, "Ring messages", gives
//  their keys). A type name is shorter than WORM_RING_TYPE_MAX bytes.
//    TOKEN     the holder hands the token to its successor (resent until ACKed)
//    ACK       the receiver of a TOKEN: got it (also when it drops it as stale)
//    PASSED    a segment whose hand-on was ACKed, to the one that handed it the
//              token: the token got past it, its death is not the token's
//    CAMPAIGN  a candidate to the voters: promise my ballot (Paxos phase 1)
//    VOTE      a voter's answer to CAMPAIGN: promise or refusal, its copy's news
//    ACCEPT    the candidate, once a quorum promised: accept this token (phase 2)
//    ACCEPTED  a voter's answer to ACCEPT
//    DIED      to the live member before a member confirmed gone: check it too
//    LEAVE     a segment that leaves for good (worm_ring_leave), to every member
//    NEWER     a copy of a newer token than the receiver's: to the sender of a TOKEN
//              of an older epoch (a healed split), or to a spawned segment that the
//              holder will not list; a receiver the copy counts out exits at once
#define WORM_RING_TYPE_MAX 16

typedef struct {
    char worm_id[WORM_TOKEN_ID_MAX];    //  the worm; messages for another worm are refused
    worm_member_t self;                 //  this segment: id, host, host_id, endpoint, pid
    uint64_t hold_ms;                   //  pacing: the holder keeps the token this long (100)
    uint64_t ack_timeout_ms;            //  wait for an ACK before resending a hop (200)
    uint32_t ack_retries;               //  resends before the successor is marked dead (2)
    double loss_factor;                 //  token presumed lost after factor x round time (4)
    uint64_t loss_floor_ms;             //  ... but never sooner than this (2000)
    uint64_t loss_ceiling_ms;           //  ... and never later than this (30000)
    uint64_t campaign_timeout_ms;       //  a candidate waits this long for votes (400)
    uint64_t orphan_timeout_ms;         //  no token this long: exit (60000)
    uint64_t join_deadline_ms;          //  a spawn not joined by then is dropped (20000)
    uint64_t spawn_hold_ms;             //  a holder that asked for spawns keeps the token
                                        //  up to this long past the first ask, waiting for
                                        //  the results so that it lists them in this hold;
                                        //  never longer than the round's share of the loss
                                        //  timeout (see docs/PROTOCOL.md); 0 = off (400)
    uint64_t seed;                      //  seeds the backoff jitter
    bool unsafe_no_quorum;              //  TEST ONLY: a candidate needs one promise and one
                                        //  accept, not a majority; this breaks rule 1, and
                                        //  the simulator must notice
    bool unsafe_rescue_on_silence;      //  TEST ONLY: a rescue counts a member that did not
                                        //  acknowledge (listed DEAD) as gone without its host
                                        //  agent's word; this breaks rule 1 in a split
} worm_ring_config_t;

//  Fills config with the defaults shown above and an empty identity.
void worm_ring_config_defaults (worm_ring_config_t *config);

typedef enum {
    WORM_RING_SEND = 1,     //  send data/size to member `peer` at `endpoint`
    WORM_RING_SPAWN = 2,    //  ask a host agent for one new segment; answer with
                            //  worm_ring_spawn_result (spawn_id, ...)
    WORM_RING_HELD = 3,     //  this segment now holds the token: the app may act
                            //  on worm_ring_token() until the next input call;
                            //  `quorum` says whether the token lists a live
                            //  majority of its voters (a minority side's holder
                            //  holds a token whose lineage may be dead already)
    WORM_RING_EXIT = 4,     //  the segment must exit; reason says why
    WORM_RING_CHECK = 5     //  ask the host agent of member `peer` (host `host_id`,
                            //  process `pid`) whether that process still runs; if
                            //  it is gone, call worm_ring_confirm_dead (peer)
} worm_ring_action_type_t;

typedef struct {
    worm_ring_action_type_t type;               //  what to do
    char peer[WORM_TOKEN_ID_MAX];               //  SEND, CHECK: the member's segment id
    char endpoint[WORM_TOKEN_ENDPOINT_MAX];     //  SEND, CHECK: where it receives
    const uint8_t *data;                        //  SEND: message bytes, owned by the ring
    size_t size;                                //  SEND: their size
    char host_id[WORM_TOKEN_ID_MAX];            //  CHECK: the host agent to ask
    uint64_t pid;                               //  CHECK: the process to ask about
    char spawn_id[WORM_TOKEN_ID_MAX];           //  SPAWN: id to quote in the result
    char reason[WORM_RING_REASON_MAX];          //  EXIT: why, for the log
    bool quorum;                                //  HELD: a live majority of voters listed
} worm_ring_action_t;

typedef enum {
    WORM_RING_WAITING = 0,      //  not holding; waiting for the token
    WORM_RING_HOLDING = 1,      //  holding the token (pacing, or reconfiguring)
    WORM_RING_FORWARDING = 2,   //  sent the token on, waiting for its ACK
    WORM_RING_CAMPAIGNING = 3,  //  token presumed lost; asking voters to regenerate
    WORM_RING_EXITED = 4        //  gave the EXIT action; ignores every input
} worm_ring_state_t;

//  Counters for logs and the simulator.
typedef struct {
    uint64_t accepted;          //  tokens accepted (newer than the last seen)
    uint64_t stale;             //  tokens dropped by the (epoch, seq) filter
    uint64_t campaigns;         //  campaigns started (regeneration and reconfiguration)
    uint64_t regenerations;     //  campaigns won that replaced a lost token
    uint64_t reconfigurations;  //  campaigns won that changed the voters
    uint64_t skipped;           //  successors marked dead for not acknowledging
    uint64_t refused;           //  messages refused as malformed
    uint64_t newer;             //  NEWER copies adopted (a lineage of ours had lost)
} worm_ring_stats_t;

typedef struct _worm_ring_t worm_ring_t;

//  Creates the state machine of one segment that waits for its first token
//  (a spawned segment). config is copied. Returns NULL when the config is
//  unusable (empty worm or segment id, zero timeouts) or out of memory.
worm_ring_t *worm_ring_new (const worm_ring_config_t *config, uint64_t now_ms);
//  Destroys the ring and sets *self_p to NULL; NULL is fine.
void worm_ring_destroy (worm_ring_t **self_p);

//  Founds a worm: takes ownership of *token_p (sets it to NULL), which
//  carries the worm's identity, app, target and max. The ring lists itself
//  as the only member and voter, sets epoch 1, and holds the token (it will
//  spawn on the next tick). Returns 0, or -1 when the token's worm id is
//  not this ring's or this ring already has a token (the token is destroyed).
int worm_ring_found (worm_ring_t *self, worm_token_t **token_p, uint64_t now_ms);

//  A message from a peer. data is only read. Returns 0 when handled
//  (including well-formed but stale or irrelevant messages), -1 when the
//  bytes are malformed, too big or for another worm (worm_ring_error says
//  why; the caller logs it and carries on).
int worm_ring_receive (worm_ring_t *self, const void *data, size_t size, uint64_t now_ms);
//  Timers: call when now_ms >= worm_ring_deadline (calling early is harmless).
void worm_ring_tick (worm_ring_t *self, uint64_t now_ms);
//  The answer to a SPAWN action: member is the new segment (id, host,
//  host_id, endpoint, pid) when it started, NULL when the spawn failed.
//  The new member is listed at once when this segment holds the token
//  (and is not changing the voters), else the next time it holds it, if
//  the spawn is still in flight then. A holder that waits for its spawns
//  (spawn_hold_ms) hands the token on once none of them is in flight and
//  its pacing hold is over. Returns -1 when spawn_id is unknown to this
//  segment or the member record is invalid.
int worm_ring_spawn_result (worm_ring_t *self, const char *spawn_id,
                            const worm_member_t *member, uint64_t now_ms);
//  Asks the worm to die: the kill flag goes into the token the next time
//  this segment holds or regenerates it, and every segment that sees it
//  forwards it and exits.
void worm_ring_kill (worm_ring_t *self, uint64_t now_ms);

//  The answer to a CHECK action: the host agent of segment id says its
//  process is gone for good. The segment is marked dead in our copy of
//  the token; a hop waiting on it is skipped at once; a campaign may do
//  without that voter (one such voter in an ordinary majority, or all of
//  them in a rescue; see docs/PROTOCOL.md). When this segment holds the
//  token (and is not changing the voters) it marks the member left in it
//  at once and runs the population rule again, so a replacement is asked
//  for now (SPAWN); otherwise it remembers the word and applies it as soon
//  as it takes the token. It also tells the live member before id in our
//  copy (DIED), which checks with the agent itself: that member may have
//  handed id the token (docs/PROTOCOL.md, "Healing" (5)). Only call it on
//  the agent's word: a live segment wrongly confirmed dead breaks rule 1.
void worm_ring_confirm_dead (worm_ring_t *self, const char *id, uint64_t now_ms);

//  How often worm_ring_suspect asks about one member, at most.
#define WORM_RING_SUSPECT_INTERVAL_MS 500

//  A hint, unauthenticated, that segment id may be dead: e.g. its host
//  agent broadcast that the process ended abnormally. When id is a member
//  of our copy of the token that is not us and not already gone for good
//  (confirmed dead, or listed left), the ring gives a CHECK action for it,
//  at most once per WORM_RING_SUSPECT_INTERVAL_MS per id; otherwise the
//  hint is ignored. The hint itself never marks anyone dead: only the host
//  agent's answer does (worm_ring_confirm_dead), so a false or forged hint
//  costs one CHECK.
void worm_ring_suspect (worm_ring_t *self, const char *id, uint64_t now_ms);

//  Leaves the worm for good (eviction, SIGTERM): from this call on the
//  segment never votes again, which makes it as good as confirmed dead to
//  the others. It tells every member it knows (LEAVE), so that the next
//  holder lists it as left and replaces it at once; if it holds the token
//  it lists itself LEFT and hands the token on. It then gives EXIT: at once
//  when it does not hold the token, else when the hand-on is acknowledged,
//  and at the latest 2 x ack_timeout_ms after this call. Returns 0.
int worm_ring_leave (worm_ring_t *self, uint64_t now_ms);

//  Takes the next action, or NULL when none is left. The action and its
//  data belong to the ring and stay valid until the next input call
//  (receive, tick, spawn_result, kill, found, confirm_dead, suspect, leave).
//  Actions not taken by then stay queued, ahead of the new ones.
const worm_ring_action_t *worm_ring_action (worm_ring_t *self);
//  The absolute time (ms) by which worm_ring_tick must next be called;
//  UINT64_MAX when nothing is timed (exited).
uint64_t worm_ring_deadline (const worm_ring_t *self);

worm_ring_state_t worm_ring_state (const worm_ring_t *self);
//  True when the segment is on its way out of the worm: a newer token
//  counts it out and it leaves after a short grace (docs/PROTOCOL.md,
//  "Partition heal"), or it retired (it will never vote again).
bool worm_ring_going (const worm_ring_t *self);
//  The last token this segment accepted (its copy), or NULL before the
//  first. Owned by the ring. The app may change its app state only between
//  a HELD action and the next input call.
worm_token_t *worm_ring_token (worm_ring_t *self);
//  The id of this segment.
const char *worm_ring_id (const worm_ring_t *self);
//  Why the last call returned -1.
const char *worm_ring_error (const worm_ring_t *self);
//  Counters since creation.
const worm_ring_stats_t *worm_ring_stats (const worm_ring_t *self);

//  Reads the envelope of a ring message without acting on it: its type
//  (one of the list above, or any other string: it is not checked) into
//  type (WORM_RING_TYPE_MAX bytes), and its `epoch` and `seq` keys, each 0
//  when the message has none (TOKEN, ACK and PASSED have both, LEAVE an
//  epoch, CAMPAIGN a seq). Returns 0, or -1 when malformed. For tools and
//  the simulator.
int worm_ring_peek (const void *data, size_t size, char *type, uint64_t *epoch, uint64_t *seq);

#endif
