/*  sim.c — worm-sim: a deterministic discrete-event simulator of the ring.

    Runs the real token/ring.c state machine for every segment of one worm
    over a simulated network and host pool, one seeded schedule per seed:
    crashes (one at a time, or a majority at once), orderly leaves, message
    loss, duplication, delay (hence reordering), partitions, spawns that
    take a while and sometimes fail, and host agents that answer CHECK
    truthfully but are sometimes unreachable. After every event it checks the
    safety rules (one creator per epoch, no segment going back, the hard
    cap); after the faults stop it checks that the worm converges to one
    token and exactly the target population; a third of the seeds then kill
    the worm and check that every segment ends. docs/PROTOCOL.md ("## Token",
    "Simulator") states the schedule, the bounds and the guarantee.

    worm-sim [--seeds N] [--first S] [--replay SEED] [-v] [--unsafe-no-quorum]
             [--serial-crashes]  (every 8th seed: a non-holder, never the last live
                                  voter, crashes after each heal, for 3 orphan timeouts)
             [--unsafe-rescue] [--no-notices] [--spawn-hold MS]
             [--heal N]          (instead of the fault schedules: a worm of N with the
                                  segment process's timing loses one non-holder per
                                  seed; prints the heal time p50/p95)
             [--spawn-ms LO-HI]  (--heal: spawn results come LO to HI ms after the ask,
                                  default 60-100)
             [--holder]          (--heal: the segment holding the token crashes instead;
                                  exactly one regeneration is allowed, and it must
                                  come after the crash)
             [--kills K]         (--heal: K segments crash at once, the holder among
                                  them with --holder, the others non-holders; the
                                  heal ends when N run and the token lists none of them)
             [--bound-ms MS]     (--heal: grown, and healed, within MS instead of 30 s)
             [--partition-heal]  (instead of the fault schedules: a whole worm splits in
                                  two halves for 1-6 s and heals; one token and exactly
                                  target segments, all listed, within 5 s of the heal)

    Death notices: when a segment crashes, its host agent tells the others
    (worm_ring_suspect) after a while, and some notices are lost; in a
    quarter of the seeds false notices about live segments come too.
    --no-notices switches them off; --spawn-hold sets spawn_hold_ms.

    -v traces every event, message and token; SIM_STATES=1 adds every
    segment's state after each event; SIM_SHOW_OUTSIDE=1 lists the seeds
    whose worm lost its quorum to crashes. Exit status 0 when every seed
    passed, 1 otherwise (each failing seed is printed with the command that
    replays it), 2 on a usage error.
*/
#include "ring.h"
#include "token.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  The pools scale with SIM_SCALE: 1 for worm-sim, larger for worm-sim-wide
//  (tests/sim/CMakeLists.txt), which is this file compiled with the token's
//  WORM_TOKEN_MAX_MEMBERS raised so that --heal and --scale reach 1000.
#ifndef SIM_SCALE
#define SIM_SCALE 1
#endif
#define MAX_SEGS (400 * SIM_SCALE)          //  segments ever started in one seed
#define MAX_SIM_SPAWNS (256 * SIM_SCALE)    //  spawns asked of host agents, in flight
#define MAX_CONFIRMS (512 * SIM_SCALE)      //  host agents' answers to CHECK, in flight
#define MAX_NOTICES (1024 * SIM_SCALE)      //  death notices in flight
//  --heal N and --scale N: at most this (worm-sim: 32; the wide one: its
//  hard cap less one, the worm's max being N + 1)
#if SIM_SCALE > 1
#define HEAL_N_MAX (WORM_TOKEN_MAX_MEMBERS - 1)
#else
#define HEAL_N_MAX 32
#endif
#define MAX_EPOCHS 4096
#define STABLE_MS 1500          //  converged this long = done
#define CONVERGE_BOUND_MS 30000 //  after the faults stop, converge within this
#define KILL_BOUND_MS 8000      //  after a kill, every segment gone within this
#define CRASH_GAP_MS 2500       //  crashes at least this far apart

//  Simulation timing, shared by every segment (ms); --heal uses the
//  segment process's (worm_ring_config_defaults, loss floor 1000).
static const uint64_t HOLD = 20, ACK = 40, RETRIES = 2, CAMPAIGN = 150;
static const uint64_t LOSS_FLOOR = 400, LOSS_CEIL = 3000, ORPHAN = 8000, JOIN = 2500;
#define HEAL_SETTLE_MS 2000     //  --heal: the worm is whole this long before the crash,
                                //  and at least 3 rounds of 100 ms holds
#define HEAL_BOUND_MS 30000     //  --heal: grown, and healed, within this
#define SPLIT_SETTLE_MS 1000    //  --partition-heal: whole this long before the split
#define SPLIT_MIN_MS 1000       //  --partition-heal: the split lasts this long ...
#define SPLIT_MAX_MS 6000       //  ... to this (below the orphan timeout, ORPHAN)
#ifndef MERGE_BOUND_MS
#define MERGE_BOUND_MS 5000     //  --partition-heal: merged within this of the heal
#endif

//  --scale counts the messages sent by type: the ring's types (ring.h), and
//  anything else last.
static const char *s_types[] = {"TOKEN", "ACK",   "PASSED", "CAMPAIGN", "VOTE", "ACCEPT",
                                "ACCEPTED", "DIED", "LEAVE", "NEWER", "JOINED", "?"};
#define SIM_TYPES ((int) (sizeof s_types / sizeof s_types[0]))

typedef struct {
    uint64_t at;            //  delivery time
    uint64_t order;         //  tie-break: send order
    int to;                 //  receiver index
    uint8_t *data;          //  bytes
    size_t size;            //  their size
    bool token;             //  a TOKEN message
    uint64_t epoch, seq;    //  its (epoch, seq) when a TOKEN
} s_msg_t;

typedef struct {
    uint64_t at;            //  when the host answers
    int requester;          //  who asked
    char spawn_id[WORM_TOKEN_ID_MAX];
    bool fail;              //  the host refuses
} s_spawn_t;

typedef struct {
    uint64_t at;            //  when the host agent answers
    int asker;              //  who asked
    char id[WORM_TOKEN_ID_MAX];   //  about whom
} s_confirm_t;

typedef struct {
    uint64_t at;            //  when the notice reaches the segment
    int to;                 //  which segment
    char id[WORM_TOKEN_ID_MAX];   //  about whom
} s_notice_t;

typedef struct {
    worm_ring_t *ring;      //  NULL once gone
    bool gone;              //  exited or crashed
    bool left;              //  told to leave (worm_ring_leave): no voter any more
    int group;              //  partition side
    uint64_t last_epoch, last_seq;   //  last checked token
    uint64_t deadline;      //  worm_ring_deadline after the last input call (it
                            //  changes only then; asking every segment at every
                            //  event costs O(N^2) at a thousand segments)
    uint64_t last_held;     //  --scale: when it last took the token (0: not in the window)
} s_seg_t;

typedef struct {
    uint64_t seed;
    bool verbose;
    bool unsafe;
    bool unsafe_rescue;
    bool serial_crashes;        //  --serial-crashes: every 8th seed crashes non-holders serially
    bool notices_on;            //  death notices on (not --no-notices)
    int64_t spawn_hold;         //  --spawn-hold MS, or -1 for the default
    uint32_t heal_n;            //  --heal N, or 0
    bool heal_holder;           //  --holder: the holder crashes
    uint32_t heal_kills;        //  --kills K: this many crash at once (default 1)
    uint64_t heal_spawn_lo, heal_spawn_hi;  //  --spawn-ms LO-HI (--heal)
    bool split;                 //  --partition-heal: one split in halves, then the heal
    uint64_t split_whole_since; //  ... 0, or since when the worm is whole before the split
    int split_sides[2];         //  ... live segments on each side at the split
    int losers[MAX_SEGS];       //  ... at the heal: live segments the newest token
    int nlosers;                //      does not list live or joining (the losing side)
    int max_alive_after;        //  ... most segments alive at once after the heal
    int losers_back;            //  ... of the losing side, how many run at the end (taken back)
    uint64_t rng;
    uint64_t now;
    //  worm
    uint32_t target, max;
    s_seg_t segs[MAX_SEGS];
    int nsegs;
    //  network
    s_msg_t *msgs;
    size_t nmsgs, capmsgs;
    uint64_t order;
    //  host pool
    s_spawn_t spawns[MAX_SIM_SPAWNS];
    int nspawns;
    s_confirm_t confirms[MAX_CONFIRMS];
    int nconfirms;
    uint64_t spawn_lo, spawn_hi;    //  a spawn's result comes this long after the ask
    uint64_t check_lo, check_hi;    //  a host agent answers CHECK this long after
    //  death notices
    s_notice_t notices[MAX_NOTICES];
    int nnotices;
    double notice_loss;         //  chance that one notice does not arrive
    uint64_t notice_lo, notice_hi;  //  its delay
    uint64_t false_next;        //  0, or when the next false notice comes
    //  --heal
    uint64_t heal_whole_since;  //  0, or since when the worm is whole, before the crash
    uint64_t heal_crash_at;     //  when the victim crashed (0: not yet)
    uint64_t heal_done_at;      //  when the worm was whole again (0: not yet)
    uint64_t heal_bound;        //  grown, and healed, within this (HEAL_BOUND_MS but
                                //  for --scale, whose rounds outgrow it)
    uint64_t healed_bound;      //  healed within this of the crash (--bound-ms, else
                                //  heal_bound)
    //  --scale: figures of the steady window (from heal_whole_since, the worm
    //  whole, to the crash); counting only, never a draw of the generator
    bool scale;                 //  --scale: the figures below are wanted
    uint64_t grown_at;          //  when the worm was first whole (0: not yet)
    int ref;                    //  the first segment to hold in the window (-1: none)
    uint64_t ref_held;          //  ... when it last took the token
    uint64_t cur[SIM_TYPES];    //  messages sent since then, by type (s_types)
    uint64_t cur_bytes;         //  ... their bytes
    uint64_t cur_token;         //  ... the largest TOKEN message among them
    uint64_t sent[SIM_TYPES];   //  the same for the last whole round of ref (its hold
    uint64_t sent_bytes;        //  to its next) before the crash: a steady round
    uint64_t token_size;
    uint64_t sent_round_ms;     //  ... that round's length (0: no whole round)
    uint64_t win[SIM_TYPES];    //  every message sent in the window, by type
    uint64_t win_bytes;         //  ... their bytes
    uint64_t last_held_any;     //  the last HELD in it, any segment
    uint64_t hop_sum, hops;     //  HELD to the next HELD, any segment
    uint64_t round_sum, rounds; //  HELD to the same segment's next HELD
    uint64_t window_ms;         //  at the crash: how long the window was
    uint64_t token_round_ms;    //  the token's round_ms at the last HELD in it
    uint64_t last_exit;
    //  schedule
    uint64_t faults_end;
    double loss, dup;
    uint64_t max_delay;
    uint64_t crash_at[4];
    int ncrash;
    uint64_t mass_at;           //  0, or when a majority crashes at once
    bool mass_done;             //  ... it happened
    uint64_t leave_at[2];       //  when a segment leaves on purpose (eviction)
    int nleave;
    double agent_loss;          //  chance that a host agent does not answer a CHECK
    uint64_t part_start[2], part_end[2];
    int nparts;
    bool do_kill;
    double spawn_fail;
    bool serial;                //  serial crashes: a non-holder crashes each time
                                //  the worm has healed, for 3 orphan timeouts
    uint64_t serial_next;       //  ... when the next one crashes (0: await healing)
    int serial_count;           //  ... how many crashed
    //  checks
    uint64_t epoch_of[MAX_EPOCHS];      //  epoch numbers seen ...
    char origin_of[MAX_EPOCHS][WORM_TOKEN_ID_MAX];   //  ... and who made each
    int nepochs;
    char failure[512];
    bool quorum_lost;           //  every voter of the newest epoch is gone
    int kind;                   //  the event being handled (see s_run)
    char exit_reason[WORM_RING_REASON_MAX];   //  a segment exited in this event: why
    char lost_cause[160];       //  what made the quorum lost, when it was
    uint64_t converged_since;   //  0 = not converged
    uint64_t kill_at;
    //  figures
    uint64_t dup_epochs;
    bool outside;               //  failed only after losing its quorum
    uint64_t converge_ms;
    uint64_t kill_ms;
    uint64_t stale, regenerations, reconfigs, skipped, events;
} s_sim_t;

static uint64_t
s_rand (s_sim_t *sim)
{
    uint64_t x = sim->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sim->rng = x;
    return x;
}

static double
s_unit (s_sim_t *sim)
{
    return (double) (s_rand (sim) >> 11) / 9007199254740992.0;
}

static uint64_t
s_between (s_sim_t *sim, uint64_t lo, uint64_t hi)
{
    return lo + s_rand (sim) % (hi - lo + 1);
}

static void
s_log (s_sim_t *sim, const char *fmt, ...)
{
    if (!sim->verbose)
        return;
    printf ("%7" PRIu64 " ", sim->now);
    va_list args;
    va_start (args, fmt);
    vprintf (fmt, args);
    va_end (args);
    printf ("\n");
}

static void
s_fail (s_sim_t *sim, const char *fmt, ...)
{
    if (sim->failure[0])
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (sim->failure, sizeof sim->failure, fmt, args);
    va_end (args);
    s_log (sim, "FAIL: %s", sim->failure);
}

static int
s_index_of (const char *id)
{
    if (id[0] != 's')
        return -1;
    int index = atoi (id + 1);
    return index >= 0 && index < MAX_SEGS ? index : -1;
}

static bool
s_faulty (s_sim_t *sim)
{
    return sim->now < sim->faults_end;
}

static bool
s_partitioned (s_sim_t *sim)
{
    for (int i = 0; i < sim->nparts; i++)
        if (sim->now >= sim->part_start[i] && sim->now < sim->part_end[i])
            return true;
    return false;
}

//  --scale: the steady window is open (the worm whole, no crash yet).
static bool
s_in_window (s_sim_t *sim)
{
    return sim->scale && sim->heal_whole_since && !sim->heal_crash_at;
}

//  --scale: the steady window starts now (the worm has just become whole).
static void
s_window_start (s_sim_t *sim)
{
    if (!sim->scale)
        return;
    if (!sim->grown_at)
        sim->grown_at = sim->now;
    memset (sim->sent, 0, sizeof sim->sent);
    memset (sim->cur, 0, sizeof sim->cur);
    sim->sent_bytes = sim->token_size = sim->sent_round_ms = 0;
    sim->cur_bytes = sim->cur_token = 0;
    sim->ref = -1;
    memset (sim->win, 0, sizeof sim->win);
    sim->win_bytes = 0;
    sim->last_held_any = sim->hop_sum = sim->hops = sim->round_sum = sim->rounds = 0;
    for (int i = 0; i < sim->nsegs; i++)
        sim->segs[i].last_held = 0;
}

//  --scale: counts one message sent in the steady window, by type.
static void
s_count_sent (s_sim_t *sim, const uint8_t *data, size_t size)
{
    char type[16];
    uint64_t epoch = 0, seq = 0;
    if (worm_ring_peek (data, size, type, &epoch, &seq) != 0)
        type[0] = 0;
    int kind = 0;
    while (kind < SIM_TYPES - 1 && strcmp (type, s_types[kind]) != 0)
        kind++;
    sim->cur[kind]++;
    sim->cur_bytes += size;
    sim->win[kind]++;
    sim->win_bytes += size;
    if (kind == 0 && size > sim->cur_token)
        sim->cur_token = size;
}

static void
s_enqueue (s_sim_t *sim, int from, int to, const uint8_t *data, size_t size)
{
    if (s_in_window (sim))
        s_count_sent (sim, data, size);
    if (to < 0 || to >= sim->nsegs)
        return;
    int copies = 1;
    if (s_faulty (sim)) {
        if (s_unit (sim) < sim->loss)
            return;
        if (s_partitioned (sim) && sim->segs[from].group != sim->segs[to].group)
            return;
        if (s_unit (sim) < sim->dup)
            copies = 2;
    }
    char type[16];
    uint64_t epoch = 0, seq = 0;
    bool token = worm_ring_peek (data, size, type, &epoch, &seq) == 0
                 && strcmp (type, "TOKEN") == 0;
    for (int c = 0; c < copies; c++) {
        if (sim->nmsgs == sim->capmsgs) {
            sim->capmsgs = sim->capmsgs ? sim->capmsgs * 2 : 64;
            sim->msgs = (s_msg_t *) realloc (sim->msgs, sim->capmsgs * sizeof (s_msg_t));
        }
        s_msg_t *m = &sim->msgs[sim->nmsgs++];
        uint64_t delay = s_faulty (sim) ? s_between (sim, 1, sim->max_delay) : s_between (sim, 1, 3);
        m->at = sim->now + delay;
        m->order = sim->order++;
        m->to = to;
        m->data = (uint8_t *) malloc (size);
        memcpy (m->data, data, size);
        m->size = size;
        m->token = token;
        m->epoch = epoch;
        m->seq = seq;
    }
}

static void s_new_segment (s_sim_t *sim, int index);

//  Performs the actions segment i queued.
static void
s_actions (s_sim_t *sim, int i)
{
    s_seg_t *seg = &sim->segs[i];
    const worm_ring_action_t *a;
    bool exited = false;
    while (seg->ring && (a = worm_ring_action (seg->ring))) {
        switch (a->type) {
        case WORM_RING_SEND:
            s_enqueue (sim, i, s_index_of (a->peer), a->data, a->size);
            break;
        case WORM_RING_SPAWN:
            if (sim->nspawns < MAX_SIM_SPAWNS) {
                s_spawn_t *s = &sim->spawns[sim->nspawns++];
                s->at = sim->now + s_between (sim, sim->spawn_lo, sim->spawn_hi);
                s->requester = i;
                snprintf (s->spawn_id, sizeof s->spawn_id, "%s", a->spawn_id);
                s->fail = s_unit (sim) < sim->spawn_fail;
            }
            s_log (sim, "s%03d asks for a spawn (%s)", i, a->spawn_id);
            break;
        case WORM_RING_HELD: {
            if (s_in_window (sim)) {
                if (sim->last_held_any) {
                    sim->hop_sum += sim->now - sim->last_held_any;
                    sim->hops++;
                }
                if (seg->last_held) {
                    sim->round_sum += sim->now - seg->last_held;
                    sim->rounds++;
                }
                sim->last_held_any = seg->last_held = sim->now;
                sim->token_round_ms = worm_token_round_ms (worm_ring_token (seg->ring));
                if (sim->ref == i) {
                    //  A whole round of ref: keep its counts
                    memcpy (sim->sent, sim->cur, sizeof sim->sent);
                    sim->sent_bytes = sim->cur_bytes;
                    sim->token_size = sim->cur_token;
                    sim->sent_round_ms = sim->now - sim->ref_held;
                }
                if (sim->ref < 0 || sim->ref == i) {
                    sim->ref = i;
                    sim->ref_held = sim->now;
                    memset (sim->cur, 0, sizeof sim->cur);
                    sim->cur_bytes = sim->cur_token = 0;
                }
            }
            //  The app: keep a counter in the app state
            worm_token_t *token = worm_ring_token (seg->ring);
            size_t size = 0;
            const uint8_t *state = (const uint8_t *) worm_token_app_state (token, &size);
            uint8_t next[8] = {0};
            if (size == 8)
                memcpy (next, state, 8);
            next[0]++;
            worm_token_set_app_state (token, next, 8);
            break;
        }
        case WORM_RING_EXIT:
            s_log (sim, "s%03d exits: %s", i, a->reason);
            snprintf (sim->exit_reason, sizeof sim->exit_reason, "%s", a->reason);
            if (sim->quorum_lost && strncmp (sim->lost_cause, "other", 5) == 0)
                //  The last voter retired on a timer (it was on its way out,
                //  s_voter_of), and now goes: that is what took it
                snprintf (sim->lost_cause, sizeof sim->lost_cause, "own exit: %.*s",
                          (int) strcspn (a->reason, ":"), a->reason);
            if (sim->serial && !sim->kill_at && strstr (a->reason, "cut off"))
                s_fail (sim, "s%03d exits after %d serial crashes, each healed: %s", i,
                        sim->serial_count, a->reason);
            exited = true;
            break;
        case WORM_RING_CHECK: {
            //  The host agent knows the truth; it answers only when the
            //  process is gone, and now and then it cannot be reached
            int about = s_index_of (a->peer);
            if (about >= 0 && about < sim->nsegs && sim->segs[about].gone
                && sim->nconfirms < MAX_CONFIRMS && s_unit (sim) >= sim->agent_loss) {
                s_confirm_t *c = &sim->confirms[sim->nconfirms++];
                c->at = sim->now + s_between (sim, sim->check_lo, sim->check_hi);
                c->asker = i;
                snprintf (c->id, sizeof c->id, "%s", a->peer);
            }
            break;
        }
        }
    }
    if (exited) {
        worm_ring_destroy (&seg->ring);
        seg->gone = true;
        sim->last_exit = sim->now;
    }
    if (seg->ring)
        seg->deadline = worm_ring_deadline (seg->ring);
}

static void
s_config (s_sim_t *sim, int index, worm_ring_config_t *config)
{
    worm_ring_config_defaults (config);
    snprintf (config->worm_id, sizeof config->worm_id, "w-sim");
    snprintf (config->self.id, sizeof config->self.id, "s%03d", index);
    snprintf (config->self.host, sizeof config->self.host, "h%03d", index);
    snprintf (config->self.host_id, sizeof config->self.host_id, "H%03d", index);
    snprintf (config->self.endpoint, sizeof config->self.endpoint, "sim://%d", index);
    config->self.pid = (uint64_t) (1000 + index);
    if (sim->heal_n)
        config->loss_floor_ms = 1000;       //  as the segment process sets it
    else {
        config->hold_ms = HOLD;
        config->ack_timeout_ms = ACK;
        config->ack_retries = (uint32_t) RETRIES;
        config->campaign_timeout_ms = CAMPAIGN;
        config->loss_floor_ms = LOSS_FLOOR;
        config->loss_ceiling_ms = LOSS_CEIL;
        config->orphan_timeout_ms = ORPHAN;
        config->join_deadline_ms = JOIN;
    }
    if (sim->spawn_hold >= 0)
        config->spawn_hold_ms = (uint64_t) sim->spawn_hold;
    config->seed = sim->seed * 1000 + (uint64_t) index;
    config->unsafe_no_quorum = sim->unsafe;
    config->unsafe_rescue_on_silence = sim->unsafe_rescue;
}

static void
s_new_segment (s_sim_t *sim, int index)
{
    worm_ring_config_t config;
    s_config (sim, index, &config);
    s_seg_t *seg = &sim->segs[index];
    memset (seg, 0, sizeof *seg);
    seg->ring = worm_ring_new (&config, sim->now);
    if (!seg->ring)
        s_fail (sim, "worm_ring_new refused s%03d", index);
    else
        seg->deadline = worm_ring_deadline (seg->ring);
}

//  --------------------------------------------------------------------------
//  Checks

//  The newest token any live segment but skip (-1: none skipped) holds
//  or copies, or NULL. staying: only segments that are not on their way
//  out (told to leave, or worm_ring_going): what they know goes with them.
static worm_token_t *
s_newest_but (s_sim_t *sim, int skip, bool staying)
{
    worm_token_t *newest = NULL;
    for (int i = 0; i < sim->nsegs; i++) {
        bool out = sim->segs[i].ring && (sim->segs[i].left || worm_ring_going (sim->segs[i].ring));
        worm_token_t *token = i != skip && sim->segs[i].ring && !(staying && out)
                                  ? worm_ring_token (sim->segs[i].ring)
                                  : NULL;
        if (token && (!newest || worm_token_order (worm_token_epoch (token), worm_token_seq (token),
                                                   worm_token_epoch (newest),
                                                   worm_token_seq (newest)) > 0))
            newest = token;
    }
    return newest;
}

//  The newest token any live segment holds or copies, or NULL.
static worm_token_t *
s_newest (s_sim_t *sim)
{
    return s_newest_but (sim, -1, false);
}

//  True when segment i lives and is a voter of token (one that the token
//  lists LEFT is on its way out: it has retired; so is one that a newer
//  token counts out and that leaves after a grace, worm_ring_going).
static bool
s_voter_of (s_sim_t *sim, worm_token_t *token, int i)
{
    char id[16];
    snprintf (id, sizeof id, "s%03d", i);
    if (!token || !sim->segs[i].ring || sim->segs[i].left || worm_ring_going (sim->segs[i].ring)
        || !worm_token_is_voter (token, id))
        return false;
    int index = worm_token_member_find (token, id);
    return index < 0 || worm_token_member (token, (size_t) index)->state != WORM_MEMBER_LEFT;
}

//  True when some voter of the newest token is alive (s_voter_of). It walks
//  the voters, not the segments, and stops at the first: asking every
//  segment would cost O(N^2) string compares at every event at N = 1000.
static bool
s_any_live_voter (s_sim_t *sim)
{
    worm_token_t *newest = s_newest (sim);
    if (!newest)
        return false;
    for (size_t v = 0; v < worm_token_voter_count (newest); v++) {
        const char *voter = worm_token_voter (newest, v);
        int i = s_index_of (voter);
        char id[16];
        if (i < 0 || i >= sim->nsegs)
            continue;
        snprintf (id, sizeof id, "s%03d", i);
        if (strcmp (id, voter) == 0 && s_voter_of (sim, newest, i))
            return true;
    }
    return false;
}

//  True when the worm could still replace its token without segment k:
//  another live segment is a voter of the newest epoch that the others
//  staying know ("Limits" in docs/PROTOCOL.md). Not "a voter of the newest epoch
//  lives": a voter of an epoch made while it was cut off by a partition
//  never saw that epoch; once every segment that knew it is gone, nobody
//  can tell it, and it cannot act for it.
static bool
s_survives_without (s_sim_t *sim, int k)
{
    worm_token_t *newest = s_newest_but (sim, k, true);
    for (int i = 0; i < sim->nsegs; i++)
        if (i != k && s_voter_of (sim, newest, i))
            return true;
    return false;
}

//  Records what made the worm lose its last voter of the newest epoch: the
//  event being handled, and a segment's own exit in it (its reason up to
//  the first ':').
static void
s_lost_cause (s_sim_t *sim)
{
    const char *event = sim->kind == 4 || sim->kind == 9 || sim->kind == 12 ? "crash"
                        : sim->kind == 7                                     ? "majority crash"
                        : sim->kind == 8                                     ? "leave"
                                                                             : NULL;
    if (!event && strcmp (sim->exit_reason, "left the worm") == 0)
        event = "leave";        //  the exit of a segment told to leave
    if (event)
        snprintf (sim->lost_cause, sizeof sim->lost_cause, "%s", event);
    else if (sim->exit_reason[0])
        snprintf (sim->lost_cause, sizeof sim->lost_cause, "own exit: %.*s",
                  (int) strcspn (sim->exit_reason, ":"), sim->exit_reason);
    else
        snprintf (sim->lost_cause, sizeof sim->lost_cause, "other (event %d)", sim->kind);
}

//  Whether the worm can still replace its newest token: some voter of the
//  newest epoch any live segment knows must live (see "Limits" in
//  docs/PROTOCOL.md). Left as it was when no live segment has a token.
static void
s_check_quorum (s_sim_t *sim)
{
    worm_token_t *newest = s_newest (sim);
    if (!newest) {
        //  Nobody left who could campaign: crashes took the whole ring
        bool anyone = false;
        for (int i = 0; i < sim->nsegs; i++)
            if (sim->segs[i].ring)
                anyone = true;
        if (anyone || sim->nspawns)
            sim->quorum_lost = true;
        return;
    }
    bool lost = !s_any_live_voter (sim);
    if (lost && !sim->quorum_lost) {
        s_log (sim, "quorum of epoch %" PRIu64 " lost: no voter of it lives",
               worm_token_epoch (newest));
        s_lost_cause (sim);
    }
    sim->quorum_lost = lost;
}

static void
s_check_safety (s_sim_t *sim)
{
    for (int i = 0; i < sim->nsegs; i++) {
        s_seg_t *seg = &sim->segs[i];
        if (!seg->ring)
            continue;
        worm_token_t *token = worm_ring_token (seg->ring);
        if (!token)
            continue;
        uint64_t epoch = worm_token_epoch (token), seq = worm_token_seq (token);
        if (epoch == seg->last_epoch && seq == seg->last_seq)
            continue;
        if (worm_token_order (epoch, seq, seg->last_epoch, seg->last_seq) < 0)
            s_fail (sim, "s%03d went back from e%" PRIu64 "/s%" PRIu64 " to e%" PRIu64
                         "/s%" PRIu64, i, seg->last_epoch, seg->last_seq, epoch, seq);
        seg->last_epoch = epoch;
        seg->last_seq = seq;
        //  Rule 1: one creator per epoch number
        const char *origin = worm_token_origin (token);
        int found = -1;
        for (int e = 0; e < sim->nepochs; e++)
            if (sim->epoch_of[e] == epoch)
                found = e;
        if (found < 0 && sim->nepochs < MAX_EPOCHS) {
            sim->epoch_of[sim->nepochs] = epoch;
            snprintf (sim->origin_of[sim->nepochs], WORM_TOKEN_ID_MAX, "%s", origin);
            sim->nepochs++;
            s_log (sim, "new epoch %" PRIu64 " by %s", epoch, origin);
        }
        else if (found >= 0 && strcmp (sim->origin_of[found], origin) != 0) {
            sim->dup_epochs++;
            s_fail (sim, "two tokens in epoch %" PRIu64 ": made by %s and by %s", epoch,
                    sim->origin_of[found], origin);
        }
        //  Rule 2: never above the hard cap, counting spawns in flight
        size_t population = worm_token_live_count (token) + worm_token_spawn_count (token);
        if (population > worm_token_max (token))
            s_fail (sim, "s%03d holds a token with %zu live + in flight > max %u", i, population,
                    worm_token_max (token));
        if (sim->verbose) {
            char line[600];
            worm_token_describe (token, line, sizeof line);
            s_log (sim, "s%03d has %s (%s)", i, line,
                   worm_ring_state (seg->ring) == WORM_RING_HOLDING ? "holding" : "copy");
        }
    }
}

//  True when exactly one token circulates, every live segment agrees on
//  its epoch, and the population is exactly the target.
static bool
s_converged (s_sim_t *sim)
{
    if (sim->nspawns > 0)
        return false;
    int alive = 0;
    int tokens = 0;
    uint64_t epoch = 0;
    worm_token_t *freshest = NULL;
    for (int i = 0; i < sim->nsegs; i++) {
        s_seg_t *seg = &sim->segs[i];
        if (!seg->ring)
            continue;
        alive++;
        worm_token_t *token = worm_ring_token (seg->ring);
        if (!token)
            return false;
        if (epoch && worm_token_epoch (token) != epoch)
            return false;
        epoch = worm_token_epoch (token);
        if (worm_ring_state (seg->ring) == WORM_RING_HOLDING)
            tokens++;
        if (!freshest || worm_token_order (worm_token_epoch (token), worm_token_seq (token),
                                           worm_token_epoch (freshest),
                                           worm_token_seq (freshest)) > 0)
            freshest = token;
    }
    for (size_t m = 0; m < sim->nmsgs; m++) {
        s_msg_t *msg = &sim->msgs[m];
        if (!msg->token || !sim->segs[msg->to].ring)
            continue;
        worm_token_t *seen = worm_ring_token (sim->segs[msg->to].ring);
        if (!seen || worm_token_order (msg->epoch, msg->seq, worm_token_epoch (seen),
                                       worm_token_seq (seen)) > 0)
            tokens++;
    }
    if (tokens != 1 || alive != (int) sim->target || !freshest)
        return false;
    if (worm_token_spawn_count (freshest) != 0 || worm_token_live_count (freshest) != sim->target)
        return false;
    for (size_t m = 0; m < worm_token_member_count (freshest); m++) {
        if (!worm_token_member_is_live (freshest, m))
            continue;
        int index = s_index_of (worm_token_member (freshest, m)->id);
        if (index < 0 || !sim->segs[index].ring)
            return false;
    }
    return true;
}

//  --------------------------------------------------------------------------
//  One seed

//  No loss, duplication, spawn failure, crash, majority crash, leave or
//  partition: where the special schedules start from.
static void
s_no_faults (s_sim_t *sim)
{
    sim->loss = 0;
    sim->dup = 0;
    sim->spawn_fail = 0;
    sim->ncrash = 0;
    sim->mass_at = 0;
    sim->nleave = 0;
    sim->nparts = 0;
}

static void
s_schedule (s_sim_t *sim)
{
    sim->target = (uint32_t) s_between (sim, 1, 5);
    sim->max = sim->target + (uint32_t) s_between (sim, 1, 2);
    sim->faults_end = s_between (sim, 2000, 9000);
    sim->loss = s_unit (sim) * 0.15;
    sim->dup = s_unit (sim) * 0.10;
    sim->max_delay = s_between (sim, 2, 60);
    sim->spawn_fail = s_unit (sim) * 0.3;
    sim->ncrash = (int) s_between (sim, 0, 3);
    //  Crashes at least CRASH_GAP_MS apart, so that the worm can replace
    //  a lost voter before the next (see "Limits" in docs/PROTOCOL.md)
    for (int i = 0; i < sim->ncrash; i++)
        sim->crash_at[i] = 1500 + (uint64_t) i * CRASH_GAP_MS + s_between (sim, 0, 1000);
    while (sim->ncrash > 0 && sim->crash_at[sim->ncrash - 1] > sim->faults_end)
        sim->ncrash--;
    //  A third of the seeds crash a majority at once (2 of 3, 3 of 5, ...)
    sim->mass_at = s_rand (sim) % 3 == 0 ? s_between (sim, 1500, sim->faults_end) : 0;
    //  A quarter see one or two segments leave on purpose (eviction)
    sim->nleave = s_rand (sim) % 4 == 0 ? (int) s_between (sim, 1, 2) : 0;
    for (int i = 0; i < sim->nleave; i++)
        sim->leave_at[i] = s_between (sim, 1000, sim->faults_end);
    sim->agent_loss = s_unit (sim) * 0.3;
    sim->nparts = (int) s_between (sim, 0, 2);
    for (int i = 0; i < sim->nparts; i++) {
        sim->part_start[i] = s_between (sim, 200, sim->faults_end);
        sim->part_end[i] = sim->part_start[i] + s_between (sim, 100, 3000);
        if (sim->part_end[i] > sim->faults_end)
            sim->part_end[i] = sim->faults_end;
    }
    sim->do_kill = s_rand (sim) % 3 == 0;
    sim->spawn_lo = 20;
    sim->spawn_hi = 300;
    sim->check_lo = 10;
    sim->check_hi = 200;
    //  Death notices: up to half lost, 1 to 20-150 ms late; a quarter of
    //  the seeds also see false ones (the hint must never kill anyone)
    sim->notice_loss = s_unit (sim) * 0.5;
    sim->notice_lo = 1;
    sim->notice_hi = s_between (sim, 20, 150);
    if (sim->notices_on && s_rand (sim) % 4 == 0)
        sim->false_next = s_between (sim, 100, 1000);
    if (sim->serial_crashes && sim->seed % 8 == 0) {
        //  Every eighth seed: serial crashes. Target 3, a mild network, and
        //  a non-holder crashes shortly after each time the worm has healed,
        //  for three orphan timeouts: the voters must keep up with the
        //  deaths and the newcomers, or the ring loses its listed quorum
        sim->serial = true;
        sim->target = 3;
        sim->max = 4 + (uint32_t) (s_rand (sim) % 2);
        sim->faults_end = 3 * ORPHAN + s_between (sim, 0, 2000);
        s_no_faults (sim);
        sim->max_delay = s_between (sim, 2, 10);
        sim->agent_loss = s_unit (sim) * 0.2;
    }
    if (sim->split) {
        //  --partition-heal: a mild network, no crash, no leave, no kill;
        //  once the worm has been whole for SPLIT_SETTLE_MS the network
        //  splits in two halves for SPLIT_MIN_MS to SPLIT_MAX_MS, and heals
        //  (part_start/part_end and faults_end are set then)
        sim->target = (uint32_t) s_between (sim, 2, 6);
        sim->max = sim->target + (uint32_t) s_between (sim, 1, 2);
        sim->faults_end = UINT64_MAX / 2;
        s_no_faults (sim);
        sim->max_delay = s_between (sim, 2, 10);
        sim->do_kill = false;
        sim->serial = false;
        sim->false_next = 0;
    }
    if (sim->heal_n) {
        //  --heal: no faults but one crash, at the segment process's timing
        //  (hold 100, ACK 200, loss floor 1000), hops of 1-3 ms, spawns of
        //  60-100 ms, agents that answer in 2-20 ms, notices in 2-20 ms of
        //  which 10 % are lost. The crash comes once the worm has been
        //  whole for HEAL_SETTLE_MS and 3 rounds (every segment has a copy
        //  of the token by then); faults_end is set when it healed.
        sim->target = sim->heal_n;
        sim->max = sim->heal_n + 1;
        sim->faults_end = UINT64_MAX / 2;
        s_no_faults (sim);
        sim->max_delay = 3;
        sim->agent_loss = 0;
        sim->do_kill = false;
        sim->serial = false;
        sim->spawn_lo = sim->heal_spawn_lo;
        sim->spawn_hi = sim->heal_spawn_hi;
        sim->check_lo = 2;
        sim->check_hi = 20;
        sim->notice_loss = 0.1;
        sim->notice_lo = 2;
        sim->notice_hi = 20;
        sim->false_next = 0;
    }
}

static void
s_repartition (s_sim_t *sim)
{
    if (!sim->split) {
        for (int i = 0; i < sim->nsegs; i++)
            sim->segs[i].group = (int) (s_rand (sim) % 2);
        return;
    }
    //  --partition-heal: the live segments in two halves (a random half of
    //  them, rounded down, on side 1), the gone anywhere
    int alive[MAX_SEGS], n = 0;
    for (int i = 0; i < sim->nsegs; i++) {
        sim->segs[i].group = 0;
        if (sim->segs[i].ring)
            alive[n++] = i;
    }
    for (int i = n - 1; i > 0; i--) {
        int j = (int) (s_rand (sim) % (uint64_t) (i + 1)), t = alive[i];
        alive[i] = alive[j];
        alive[j] = t;
    }
    for (int i = 0; i < n / 2; i++)
        sim->segs[alive[i]].group = 1;
    sim->split_sides[0] = n - n / 2;
    sim->split_sides[1] = n / 2;
}

//  --partition-heal, at the heal: the losing side is every live segment that
//  the newest token does not list live or joining.
static void
s_note_losers (s_sim_t *sim)
{
    worm_token_t *newest = s_newest (sim);
    sim->nlosers = 0;
    for (int i = 0; i < sim->nsegs; i++) {
        if (!sim->segs[i].ring || !newest)
            continue;
        char id[16];
        snprintf (id, sizeof id, "s%03d", i);
        int index = worm_token_member_find (newest, id);
        if (index < 0 || !worm_token_member_is_live (newest, (size_t) index))
            sim->losers[sim->nlosers++] = i;
    }
}

//  True when segment i may crash or leave as far as the worm's guarantee
//  goes: the others can still replace the token (s_survives_without), or
//  they could not anyway.
static bool
s_may_lose (s_sim_t *sim, int i)
{
    return s_survives_without (sim, i) || !s_survives_without (sim, -1);
}

//  A random live segment that may crash or leave: never the last one, nor
//  one without which no live segment is a voter of the newest epoch the
//  others know (the worm's guarantee ends there: see "Limits" in
//  docs/PROTOCOL.md). -1 when there is none.
static int
s_victim (s_sim_t *sim)
{
    int alive[MAX_SEGS], n = 0;
    for (int i = 0; i < sim->nsegs; i++)
        if (sim->segs[i].ring && !sim->segs[i].left && s_may_lose (sim, i))
            alive[n++] = i;
    int total = 0;
    for (int i = 0; i < sim->nsegs; i++)
        if (sim->segs[i].ring)
            total++;
    if (n == 0 || total <= 1)
        return -1;
    return alive[s_rand (sim) % (uint64_t) n];
}

//  Serial crashes: the worm has healed when target segments run and the
//  newest token lists them all (joining or live), as a user sees it.
static bool
s_healed (s_sim_t *sim)
{
    int alive = 0;
    for (int i = 0; i < sim->nsegs; i++)
        if (sim->segs[i].ring)
            alive++;
    worm_token_t *newest = s_newest (sim);
    if (alive != (int) sim->target || !newest)
        return false;
    int listed = 0;
    for (size_t m = 0; m < worm_token_member_count (newest); m++) {
        worm_member_t *member = worm_token_member (newest, m);
        int index = s_index_of (member->id);
        if ((member->state == WORM_MEMBER_LIVE || member->state == WORM_MEMBER_JOINING)
            && index >= 0 && sim->segs[index].ring)
            listed++;
    }
    return listed == (int) sim->target;
}

//  A random live segment that does not hold the token (and that the worm
//  may lose, s_may_lose), or -1.
static int
s_serial_victim (s_sim_t *sim)
{
    int alive[MAX_SEGS], n = 0;
    for (int i = 0; i < sim->nsegs; i++)
        if (sim->segs[i].ring && worm_ring_state (sim->segs[i].ring) != WORM_RING_HOLDING
            && s_may_lose (sim, i))
            alive[n++] = i;
    return n ? alive[s_rand (sim) % (uint64_t) n] : -1;
}

//  --heal --holder: the segment holding the token, or -1 (in flight).
static int
s_holder (s_sim_t *sim)
{
    for (int i = 0; i < sim->nsegs; i++)
        if (sim->segs[i].ring && worm_ring_state (sim->segs[i].ring) == WORM_RING_HOLDING)
            return i;
    return -1;
}

//  Segment k dies abnormally: its host agent notices (its parent) and tells
//  the agents of the others, which hand the notice to their segments. A
//  notice is lost as a message would be (loss, partition) or with the
//  seed's notice loss, and comes notice_lo to notice_hi ms later.
static void
s_kill_segment (s_sim_t *sim, int k)
{
    worm_ring_destroy (&sim->segs[k].ring);
    sim->segs[k].gone = true;
    if (!sim->notices_on)
        return;
    for (int i = 0; i < sim->nsegs; i++) {
        if (!sim->segs[i].ring || sim->nnotices >= MAX_NOTICES)
            continue;
        if (s_unit (sim) < sim->notice_loss)
            continue;
        if (s_faulty (sim) && (s_unit (sim) < sim->loss
                               || (s_partitioned (sim) && sim->segs[k].group != sim->segs[i].group)))
            continue;
        s_notice_t *n = &sim->notices[sim->nnotices++];
        n->at = sim->now + s_between (sim, sim->notice_lo, sim->notice_hi);
        n->to = i;
        snprintf (n->id, sizeof n->id, "s%03d", k);
    }
}

//  Crashes count live segments at once (as many as s_victim allows).
static void
s_crash (s_sim_t *sim, int count)
{
    for (int c = 0; c < count; c++) {
        int k = s_victim (sim);
        if (k < 0)
            return;
        s_log (sim, "s%03d crashes", k);
        s_kill_segment (sim, k);
    }
}

//  --heal: the worm is whole: target segments run, and the token (the
//  holder's, else the newest copy) lists exactly them, live or joining.
static bool
s_whole (s_sim_t *sim)
{
    int alive = 0;
    worm_token_t *view = NULL;
    for (int i = 0; i < sim->nsegs; i++)
        if (sim->segs[i].ring) {
            alive++;
            if (worm_ring_state (sim->segs[i].ring) == WORM_RING_HOLDING)
                view = worm_ring_token (sim->segs[i].ring);
        }
    if (!view)
        view = s_newest (sim);
    if (alive != (int) sim->target || !view)
        return false;
    int listed = 0;
    for (size_t m = 0; m < worm_token_member_count (view); m++) {
        if (!worm_token_member_is_live (view, m))
            continue;
        int index = s_index_of (worm_token_member (view, m)->id);
        if (index < 0 || !sim->segs[index].ring)
            return false;
        listed++;
    }
    return listed == (int) sim->target;
}

//  Runs one seed; returns true when it passed.
static bool
s_run (s_sim_t *sim)
{
    s_schedule (sim);
    s_log (sim, "target %u max %u, faults until %" PRIu64 ": loss %.2f dup %.2f delay <=%" PRIu64
                ", %d crashes, %d partitions, spawn failure %.2f%s",
           sim->target, sim->max, sim->faults_end, sim->loss, sim->dup, sim->max_delay,
           sim->ncrash, sim->nparts, sim->spawn_fail, sim->do_kill ? ", then a kill" : "");
    //  The founder
    sim->nsegs = 1;
    s_new_segment (sim, 0);
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, "w-sim");
    worm_token_set_worm_name (token, "sim");
    worm_token_set_app_name (token, "counter");
    worm_token_set_population (token, sim->target, sim->max);
    if (worm_ring_found (sim->segs[0].ring, &token, 0))
        s_fail (sim, "found refused: %s", worm_ring_error (sim->segs[0].ring));
    s_actions (sim, 0);
    int next_crash = 0;
    int next_part = 0;
    int next_leave = 0;
    uint64_t end = sim->faults_end + CONVERGE_BOUND_MS;
    uint64_t heal_next = 0;         //  --heal: when the victim crashes

    while (!sim->failure[0]) {
        //  Next event time
        uint64_t t = UINT64_MAX;
        int kind = 0, who = -1;     //  1 msg, 2 timer, 3 spawn, 4 crash, 5 partition, 6 agent,
                                    //  7 majority crash, 8 leave, 9 serial crash, 10 notice,
                                    //  11 false notice, 12 --heal crash
        for (size_t m = 0; m < sim->nmsgs; m++)
            if (sim->msgs[m].at < t || (kind == 1 && sim->msgs[m].at == t
                                        && sim->msgs[m].order < sim->msgs[who].order)) {
                t = sim->msgs[m].at;
                kind = 1;
                who = (int) m;
            }
        for (int i = 0; i < sim->nsegs; i++)
            if (sim->segs[i].ring) {
                uint64_t d = sim->segs[i].deadline;
                if (d < sim->now)
                    d = sim->now;
                if (d < t) {
                    t = d;
                    kind = 2;
                    who = i;
                }
            }
        for (int s = 0; s < sim->nspawns; s++)
            if (sim->spawns[s].at < t) {
                t = sim->spawns[s].at;
                kind = 3;
                who = s;
            }
        for (int c = 0; c < sim->nconfirms; c++)
            if (sim->confirms[c].at < t) {
                t = sim->confirms[c].at;
                kind = 6;
                who = c;
            }
        if (next_crash < sim->ncrash && sim->crash_at[next_crash] < t) {
            t = sim->crash_at[next_crash];
            kind = 4;
        }
        if (sim->mass_at && sim->mass_at < t) {
            t = sim->mass_at;
            kind = 7;
        }
        if (next_leave < sim->nleave && sim->leave_at[next_leave] < t) {
            t = sim->leave_at[next_leave];
            kind = 8;
        }
        if (next_part < sim->nparts && sim->part_start[next_part] < t) {
            t = sim->part_start[next_part];
            kind = 5;
        }
        if (sim->serial_next && sim->serial_next < t) {
            t = sim->serial_next;
            kind = 9;
        }
        for (int n = 0; n < sim->nnotices; n++)
            if (sim->notices[n].at < t) {
                t = sim->notices[n].at;
                kind = 10;
                who = n;
            }
        if (sim->false_next && sim->false_next < t) {
            t = sim->false_next;
            kind = 11;
        }
        if (heal_next && heal_next < t) {
            t = heal_next;
            kind = 12;
        }
        if (t > end)
            t = end;
        if (t < sim->now)
            t = sim->now;
        sim->now = t;

        //  Phase checks at this time
        if (!sim->kill_at) {
            if (sim->now >= sim->faults_end) {
                if (s_converged (sim)) {
                    if (!sim->converged_since)
                        sim->converged_since = sim->now;
                }
                else
                    sim->converged_since = 0;
                if (sim->converged_since && sim->now - sim->converged_since >= STABLE_MS) {
                    sim->converge_ms = sim->converged_since - sim->faults_end;
                    if (!sim->do_kill)
                        break;
                    //  Kill the worm from a random live segment
                    int alive[MAX_SEGS], n = 0;
                    for (int i = 0; i < sim->nsegs; i++)
                        if (sim->segs[i].ring)
                            alive[n++] = i;
                    int k = alive[s_rand (sim) % (uint64_t) n];
                    sim->kill_at = sim->now;
                    end = sim->now + KILL_BOUND_MS;
                    s_log (sim, "kill requested at s%03d", k);
                    worm_ring_kill (sim->segs[k].ring, sim->now);
                    s_actions (sim, k);
                    continue;
                }
            }
            if (sim->now >= end) {
                if (sim->quorum_lost && !sim->serial) {
                    //  Outside the guarantee: more voters crashed than the
                    //  epoch tolerates (see docs/PROTOCOL.md, "Limits")
                    sim->outside = true;
                    s_log (sim, "not converged, but the quorum was lost: outside the guarantee");
                }
                else
                    s_fail (sim, "not converged %d ms after the faults stopped",
                            CONVERGE_BOUND_MS);
                break;
            }
        }
        else {
            bool any = sim->nspawns > 0;
            for (int i = 0; i < sim->nsegs; i++)
                if (sim->segs[i].ring)
                    any = true;
            if (!any) {
                sim->kill_ms = sim->last_exit - sim->kill_at;
                break;
            }
            if (sim->now >= end) {
                s_fail (sim, "segments still alive %d ms after the kill", KILL_BOUND_MS);
                break;
            }
        }
        if (kind == 0)
            continue;
        sim->events++;
        sim->kind = kind;
        sim->exit_reason[0] = 0;
        if (sim->verbose && getenv ("SIM_STATES"))
            for (int i = 0; i < sim->nsegs; i++)
                if (sim->segs[i].ring)
                    s_log (sim, "    s%03d state %d deadline %" PRIu64, i,
                           (int) worm_ring_state (sim->segs[i].ring),
                           worm_ring_deadline (sim->segs[i].ring));

        if (kind == 1) {
            s_msg_t msg = sim->msgs[who];
            sim->msgs[who] = sim->msgs[--sim->nmsgs];
            s_seg_t *seg = &sim->segs[msg.to];
            if (sim->verbose) {
                char type[16];
                uint64_t e, q;
                if (worm_ring_peek (msg.data, msg.size, type, &e, &q) == 0)
                    s_log (sim, "  -> s%03d %s e%" PRIu64 "/s%" PRIu64 "%s", msg.to, type, e, q,
                           seg->ring ? "" : " (gone)");
            }
            if (seg->ring) {
                if (worm_ring_receive (seg->ring, msg.data, msg.size, sim->now))
                    s_fail (sim, "s%03d refused a message: %s", msg.to,
                            worm_ring_error (seg->ring));
                s_actions (sim, msg.to);
            }
            free (msg.data);
        }
        else if (kind == 2) {
            worm_ring_tick (sim->segs[who].ring, sim->now);
            s_actions (sim, who);
        }
        else if (kind == 3) {
            s_spawn_t spawn = sim->spawns[who];
            sim->spawns[who] = sim->spawns[--sim->nspawns];
            bool fail = spawn.fail && s_faulty (sim);
            s_seg_t *requester = &sim->segs[spawn.requester];
            if (fail || sim->nsegs >= MAX_SEGS) {
                s_log (sim, "spawn %s failed", spawn.spawn_id);
                if (requester->ring) {
                    worm_ring_spawn_result (requester->ring, spawn.spawn_id, NULL, sim->now);
                    s_actions (sim, spawn.requester);
                }
            }
            else {
                int index = sim->nsegs++;
                s_new_segment (sim, index);
                sim->segs[index].group = requester->group;
                s_log (sim, "spawn %s started as s%03d", spawn.spawn_id, index);
                if (requester->ring) {
                    worm_ring_config_t config;
                    s_config (sim, index, &config);
                    if (worm_ring_spawn_result (requester->ring, spawn.spawn_id, &config.self,
                                                sim->now))
                        s_fail (sim, "spawn result refused: %s",
                                worm_ring_error (requester->ring));
                    s_actions (sim, spawn.requester);
                }
            }
        }
        else if (kind == 4) {
            next_crash++;
            s_crash (sim, 1);
        }
        else if (kind == 7) {
            sim->mass_at = 0;
            sim->mass_done = true;
            int alive = 0;
            for (int i = 0; i < sim->nsegs; i++)
                if (sim->segs[i].ring)
                    alive++;
            s_crash (sim, alive / 2 + 1);
        }
        else if (kind == 8) {
            next_leave++;
            int k = s_victim (sim);
            if (k >= 0) {
                s_log (sim, "s%03d leaves (evicted)", k);
                sim->segs[k].left = true;
                worm_ring_leave (sim->segs[k].ring, sim->now);
                s_actions (sim, k);
            }
        }
        else if (kind == 6) {
            s_confirm_t c = sim->confirms[who];
            sim->confirms[who] = sim->confirms[--sim->nconfirms];
            if (sim->segs[c.asker].ring) {
                s_log (sim, "agent confirms to s%03d that %s is gone", c.asker, c.id);
                worm_ring_confirm_dead (sim->segs[c.asker].ring, c.id, sim->now);
                s_actions (sim, c.asker);
            }
        }
        else if (kind == 10) {
            s_notice_t n = sim->notices[who];
            sim->notices[who] = sim->notices[--sim->nnotices];
            if (sim->segs[n.to].ring) {
                s_log (sim, "s%03d hears that %s died", n.to, n.id);
                worm_ring_suspect (sim->segs[n.to].ring, n.id, sim->now);
                s_actions (sim, n.to);
            }
        }
        else if (kind == 11) {
            //  A false notice: about a segment that lives (the host agent
            //  will not confirm it, and nothing else may happen)
            sim->false_next = s_faulty (sim) ? sim->now + s_between (sim, 100, 1000) : 0;
            int alive[MAX_SEGS], n = 0;
            for (int i = 0; i < sim->nsegs; i++)
                if (sim->segs[i].ring)
                    alive[n++] = i;
            if (n >= 2) {
                int to = alive[s_rand (sim) % (uint64_t) n];
                int about = alive[s_rand (sim) % (uint64_t) n];
                char id[WORM_TOKEN_ID_MAX];
                snprintf (id, sizeof id, "s%03d", about);
                s_log (sim, "s%03d hears, falsely, that %s died", to, id);
                worm_ring_suspect (sim->segs[to].ring, id, sim->now);
                s_actions (sim, to);
            }
        }
        else if (kind == 12) {
            heal_next = 0;
            int k = sim->heal_holder ? s_holder (sim) : s_serial_victim (sim);
            if (k < 0 && sim->heal_holder)
                heal_next = sim->now + 1;   //  the token is in flight: a little later
            else if (k < 0)
                s_fail (sim, "--heal: nobody to crash");
            else {
                s_log (sim, "s%03d crashes (--heal; round %" PRIu64 " ms)", k,
                       worm_token_round_ms (s_newest (sim)));
                if (sim->scale)
                    sim->window_ms = sim->now - sim->heal_whole_since;
                sim->heal_crash_at = sim->now;
                s_kill_segment (sim, k);
                //  --kills K: K - 1 more at the same moment, none of them
                //  the holder (with --holder it is dead already)
                for (uint32_t c = 1; c < sim->heal_kills; c++) {
                    int more = s_serial_victim (sim);
                    if (more < 0)
                        break;
                    s_log (sim, "s%03d crashes too (--kills)", more);
                    s_kill_segment (sim, more);
                }
            }
        }
        else if (kind == 9) {
            sim->serial_next = 0;
            int k = s_serial_victim (sim);
            if (k >= 0) {
                s_log (sim, "s%03d crashes (serial %d)", k, ++sim->serial_count);
                s_kill_segment (sim, k);
            }
        }
        else if (kind == 5) {
            next_part++;
            s_repartition (sim);
            s_log (sim, "partition until %" PRIu64, sim->part_end[next_part - 1]);
        }
        s_check_safety (sim);
        s_check_quorum (sim);
        if (sim->serial && !sim->serial_next && s_faulty (sim) && s_healed (sim))
            sim->serial_next = sim->now + s_between (sim, 0, 300);
        if (sim->split && !sim->nparts) {
            //  Whole for a while: the split comes within the next round
            if (!s_whole (sim))
                sim->split_whole_since = 0;
            else if (!sim->split_whole_since)
                sim->split_whole_since = sim->now;
            else if (sim->now - sim->split_whole_since >= SPLIT_SETTLE_MS) {
                worm_token_t *newest = s_newest (sim);
                sim->nparts = 1;
                sim->part_start[0] = sim->now + s_between (sim, 0, worm_token_round_ms (newest));
                sim->part_end[0] = sim->part_start[0] + s_between (sim, SPLIT_MIN_MS, SPLIT_MAX_MS);
                sim->faults_end = sim->part_end[0];
                end = sim->faults_end + CONVERGE_BOUND_MS;
            }
            if (sim->now >= HEAL_BOUND_MS)
                s_fail (sim, "--partition-heal: the worm did not grow to %u within %d ms",
                        sim->target, HEAL_BOUND_MS);
        }
        if (sim->split && sim->nparts && sim->now >= sim->faults_end) {
            if (!sim->nlosers && !sim->max_alive_after)
                s_note_losers (sim);
            int alive = 0;
            for (int i = 0; i < sim->nsegs; i++)
                alive += sim->segs[i].ring != NULL;
            if (alive > sim->max_alive_after)
                sim->max_alive_after = alive;
            if (!sim->converged_since && sim->now - sim->faults_end > MERGE_BOUND_MS)
                s_fail (sim, "--partition-heal: not merged to one token and %u segments "
                             "within %d ms of the heal (%d run)", sim->target, MERGE_BOUND_MS,
                        alive);
        }
        if (sim->heal_n && !sim->heal_crash_at && !heal_next) {
            //  Whole for a while: the victim crashes within the next round
            if (!s_whole (sim))
                sim->heal_whole_since = 0;
            else if (!sim->heal_whole_since) {
                sim->heal_whole_since = sim->now;
                s_window_start (sim);
            }
            else if (sim->now - sim->heal_whole_since >= HEAL_SETTLE_MS
                     && sim->now - sim->heal_whole_since >= 3 * 100 * (uint64_t) sim->target) {
                worm_token_t *newest = s_newest (sim);
                heal_next = sim->now + s_between (sim, 0, worm_token_round_ms (newest));
            }
            if (sim->now >= sim->heal_bound)
                s_fail (sim, "--heal: the worm did not grow to %u within %" PRIu64 " ms",
                        sim->target, sim->heal_bound);
        }
        if (sim->heal_n) {
            //  No faults but the crash of a non-holder: no token may be
            //  regenerated (a holder waiting for its spawns must stay within
            //  its share of the loss timeout; a campaign started on a
            //  death notice must be called off when the token lives on).
            //  The crash of the holder: one regeneration, after it
            uint64_t regens = 0;
            for (int i = 0; i < sim->nsegs; i++)
                if (sim->segs[i].ring)
                    regens += worm_ring_stats (sim->segs[i].ring)->regenerations;
            //  (--kills K, K > 1: one too, the holder or not: the token
            //  may be in flight between two victims and die with them)
            uint64_t allowed
                = (sim->heal_holder || sim->heal_kills > 1) && sim->heal_crash_at ? 1 : 0;
            if (regens > allowed)
                s_fail (sim, "--heal: %" PRIu64 " regenerations (allowed %" PRIu64
                             "): a token that lived was regenerated", regens, allowed);
        }
        if (sim->heal_n && sim->heal_crash_at && !sim->heal_done_at) {
            if (s_whole (sim)) {
                sim->heal_done_at = sim->now;
                s_log (sim, "healed in %" PRIu64 " ms", sim->now - sim->heal_crash_at);
                sim->faults_end = sim->now;
                end = sim->now + CONVERGE_BOUND_MS;
            }
            else if (sim->now - sim->heal_crash_at >= sim->healed_bound)
                s_fail (sim, "--heal: not healed within %" PRIu64 " ms of the crash",
                        sim->healed_bound);
        }
    }
    //  Figures
    for (int l = 0; l < sim->nlosers; l++)
        sim->losers_back += sim->segs[sim->losers[l]].ring != NULL;
    for (int i = 0; i < sim->nsegs; i++)
        if (sim->segs[i].ring) {
            const worm_ring_stats_t *st = worm_ring_stats (sim->segs[i].ring);
            sim->stale += st->stale;
            sim->regenerations += st->regenerations;
            sim->reconfigs += st->reconfigurations;
            sim->skipped += st->skipped;
        }
    for (int i = 0; i < sim->nsegs; i++)
        worm_ring_destroy (&sim->segs[i].ring);
    for (size_t m = 0; m < sim->nmsgs; m++)
        free (sim->msgs[m].data);
    free (sim->msgs);
    return sim->failure[0] == 0;
}

static int
s_compare (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

//  --------------------------------------------------------------------------
//  --scale: the --heal run at each size, with figures

//  One size's figures, over its seeds and both crashes.
typedef struct {
    uint64_t grow[64], heal[64], heal_holder[64];   //  ms, one per seed that got there
    size_t ngrow, nheal, nheal_holder;
    uint64_t round_sum, rounds, hop_sum, hops;      //  measured, every window
    uint64_t token_round_sum, windows, window_ms;   //  the token's round_ms; windows' length
    uint64_t sent[SIM_TYPES], sent_bytes, token_size;   //  summed over steady rounds
    uint64_t steady;                                //  how many (one a seed at most)
    uint64_t win[SIM_TYPES], win_bytes;             //  summed over windows
    double cpu_s, sim_s;
    size_t failures;
    char failure[640];                              //  the first one, with its seed
} s_scale_row_t;

static double
s_cpu_now (void)
{
    struct timespec t;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

//  p-th percentile (0..100) of the n values, sorted in place; 0 when none.
static uint64_t
s_percentile (uint64_t *values, size_t n, int p)
{
    if (!n)
        return 0;
    qsort (values, n, sizeof (uint64_t), s_compare);
    return values[n * (size_t) p / 100 < n ? n * (size_t) p / 100 : n - 1];
}

//  Runs --heal N for each size, seeds seeds from first, once with a
//  non-holder crashing and once with the holder, and prints one row of
//  figures per size (docs/PROTOCOL.md, "Simulator"). The growth and heal
//  bound is HEAL_BOUND_MS or 4 rounds of holds, whichever is longer (a
//  round of 1000 holds of 100 ms is 100 s); times above HEAL_BOUND_MS are
//  marked '!'. Returns the exit status: 1 when a seed failed.
static int
s_scale (const uint32_t *sizes, int nsizes, uint64_t seeds, uint64_t first, bool verbose,
         bool notices, int64_t spawn_hold, uint64_t spawn_lo, uint64_t spawn_hi)
{
    if (seeds > 64)
        seeds = 64;
    printf ("worm-sim --scale: %" PRIu64 " seeds from %" PRIu64 " per size and crash; the "
            "segment process's timing (hold 100 ms, ACK 200 ms x 2 retries, loss 4 rounds in "
            "1000..30000 ms, orphan 60 s), spawns %" PRIu64 "-%" PRIu64 " ms, hops 1-3 ms; "
            "hard cap %d members, token at most %d bytes\n",
            seeds, first, spawn_lo, spawn_hi, WORM_TOKEN_MAX_MEMBERS, WORM_TOKEN_SIZE_MAX);
    printf ("  grow: founder alone to N listed; round: one segment's hold to its next (token's "
            "round_ms in brackets); hop: a hold to the next one's; msgs: sent in one steady "
            "round, the last before the crash (TOKEN/ACK/PASSED/other); heal: crash to N listed again, p50/p95 ms; "
            "cpu: the simulator's CPU s per simulated s. '!' = above the %d ms bound of --heal\n",
            HEAL_BOUND_MS);
    printf ("%6s %9s %16s %7s %9s %22s %11s %11s %11s %8s %s\n", "N", "grow_s", "round_s",
            "hop_ms", "token_B", "msgs_per_round", "KiB/round", "heal_ms", "holder_ms",
            "cpu", "failed");
    int status = 0;
    for (int z = 0; z < nsizes; z++) {
        s_scale_row_t *row = (s_scale_row_t *) calloc (1, sizeof *row);
        for (int holder = 0; holder < 2; holder++)
            for (uint64_t s = first; s < first + seeds; s++) {
                s_sim_t *sim = (s_sim_t *) calloc (1, sizeof (s_sim_t));
                sim->seed = s;
                sim->verbose = verbose;
                sim->notices_on = notices;
                sim->spawn_hold = spawn_hold;
                sim->heal_n = sizes[z];
                sim->heal_holder = holder;
                sim->heal_spawn_lo = spawn_lo;
                sim->heal_spawn_hi = spawn_hi;
                sim->heal_bound = 4 * 100 * (uint64_t) sizes[z];
                if (sim->heal_bound < HEAL_BOUND_MS)
                    sim->heal_bound = HEAL_BOUND_MS;
                sim->healed_bound = sim->heal_bound;
                sim->scale = true;
                sim->rng = s * 0x9E3779B97F4A7C15ull + 12345;
                double cpu = s_cpu_now ();
                bool ok = s_run (sim);
                row->cpu_s += s_cpu_now () - cpu;
                row->sim_s += (double) sim->now / 1000.0;
                if (sim->grown_at)
                    row->grow[row->ngrow++] = sim->grown_at;
                //  A seed that failed before its crash: its last window so far
                //  (the worm may not be whole any more: then its hops only)
                if (!sim->window_ms && sim->heal_whole_since && !sim->heal_crash_at)
                    sim->window_ms = sim->now - sim->heal_whole_since;
                if (sim->window_ms || sim->hops) {
                    row->windows++;
                    row->window_ms += sim->window_ms;
                    row->token_round_sum += sim->token_round_ms;
                    row->round_sum += sim->round_sum;
                    row->rounds += sim->rounds;
                    row->hop_sum += sim->hop_sum;
                    row->hops += sim->hops;
                    for (int k = 0; k < SIM_TYPES; k++)
                        row->win[k] += sim->win[k];
                    row->win_bytes += sim->win_bytes;
                }
                if (sim->sent_round_ms) {
                    row->steady++;
                    for (int k = 0; k < SIM_TYPES; k++)
                        row->sent[k] += sim->sent[k];
                    row->sent_bytes += sim->sent_bytes;
                    if (sim->token_size > row->token_size)
                        row->token_size = sim->token_size;
                }
                if (ok && sim->heal_done_at) {
                    uint64_t ms = sim->heal_done_at - sim->heal_crash_at;
                    if (holder)
                        row->heal_holder[row->nheal_holder++] = ms;
                    else
                        row->heal[row->nheal++] = ms;
                }
                if (!ok) {
                    row->failures++;
                    status = 1;
                    if (!row->failure[0])
                        snprintf (row->failure, sizeof row->failure,
                                  "seed %" PRIu64 "%s: %s (t=%" PRIu64 " ms); replay: "
                                  "--scale %u --first %" PRIu64 " --seeds 1 -v",
                                  s, holder ? " (holder)" : "", sim->failure, sim->now,
                                  sizes[z], s);
                }
                free (sim);
            }
        //  Per round: the window's counts scaled by round / window
        double round = row->rounds ? (double) row->round_sum / (double) row->rounds : 0;
        double per_round = row->steady ? 1.0 / (double) row->steady : 0;
        char msgs[64], rounds[40], others[400] = "";
        double other = 0;
        for (int k = 3; k < SIM_TYPES; k++)
            other += (double) row->sent[k];
        //  The whole window: the rounds right after growth change the voters
        double per_window = row->windows ? 1.0 / (double) row->windows : 0;
        for (int k = 0; k < SIM_TYPES; k++)
            if (row->win[k]) {
                size_t used = strlen (others);
                snprintf (others + used, sizeof others - used, " %s %.0f", s_types[k],
                          (double) row->win[k] * per_window);
            }
        snprintf (msgs, sizeof msgs, "%.0f/%.0f/%.0f/%.0f",
                  (double) row->sent[0] * per_round, (double) row->sent[1] * per_round,
                  (double) row->sent[2] * per_round, other * per_round);
        snprintf (rounds, sizeof rounds, "%.2f (%.2f)", round / 1000.0,
                  row->windows ? (double) row->token_round_sum / (double) row->windows / 1000.0
                               : 0.0);
        uint64_t grow = s_percentile (row->grow, row->ngrow, 50);
        uint64_t h50 = s_percentile (row->heal, row->nheal, 50);
        uint64_t h95 = s_percentile (row->heal, row->nheal, 95);
        uint64_t o50 = s_percentile (row->heal_holder, row->nheal_holder, 50);
        uint64_t o95 = s_percentile (row->heal_holder, row->nheal_holder, 95);
        char grow_s[24], heal[32], heal_holder[32];
        snprintf (grow_s, sizeof grow_s, "%s%.1f", grow > HEAL_BOUND_MS ? "!" : "",
                  row->ngrow ? (double) grow / 1000.0 : 0.0);
        if (row->nheal)
            snprintf (heal, sizeof heal, "%s%" PRIu64 "/%" PRIu64,
                      h95 > HEAL_BOUND_MS ? "!" : "", h50, h95);
        else
            snprintf (heal, sizeof heal, "-");
        if (row->nheal_holder)
            snprintf (heal_holder, sizeof heal_holder, "%s%" PRIu64 "/%" PRIu64,
                      o95 > HEAL_BOUND_MS ? "!" : "", o50, o95);
        else
            snprintf (heal_holder, sizeof heal_holder, "-");
        printf ("%6u %9s %16s %7.1f %9" PRIu64 " %22s %11.1f %11s %11s %8.3f %zu/%" PRIu64
                "\n", sizes[z], grow_s, rounds,
                row->hops ? (double) row->hop_sum / (double) row->hops : 0.0, row->token_size,
                msgs, (double) row->sent_bytes * per_round / 1024.0, heal, heal_holder,
                row->sim_s > 0 ? row->cpu_s / row->sim_s : 0.0, row->failures, 2 * seeds);
        if (others[0])
            printf ("       N=%u, grown to crash (%.1f s, %.1f rounds): sent%s; %.1f MiB\n",
                    sizes[z], (double) row->window_ms * per_window / 1000.0,
                    round > 0 ? (double) row->window_ms * per_window / round : 0.0, others,
                    (double) row->win_bytes * per_window / 1048576.0);
        if (row->failure[0])
            printf ("       first failure at N=%u: %s\n", sizes[z], row->failure);
        fflush (stdout);
        free (row);
    }
    return status;
}

int
main (int argc, char **argv)
{
    uint64_t seeds = 2000, first = 1;
    bool verbose = false, unsafe = false, unsafe_rescue = false, serial_crashes = false;
    bool notices = true;
    int64_t spawn_hold = -1;
    uint32_t heal_n = 0;
    uint32_t scale_n[32];
    int nscale = 0;
    bool seeds_given = false;
    bool heal_holder = false, split = false;
    uint32_t heal_kills = 1;
    uint64_t heal_bound = HEAL_BOUND_MS;
    uint64_t spawn_lo = 60, spawn_hi = 100;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv[i], "--seeds") && i + 1 < argc) {
            seeds = strtoull (argv[++i], NULL, 10);
            seeds_given = true;
        }
        else if (!strcmp (argv[i], "--first") && i + 1 < argc)
            first = strtoull (argv[++i], NULL, 10);
        else if (!strcmp (argv[i], "--replay") && i + 1 < argc) {
            first = strtoull (argv[++i], NULL, 10);
            seeds = 1;
        }
        else if (!strcmp (argv[i], "-v"))
            verbose = true;
        else if (!strcmp (argv[i], "--serial-crashes"))
            serial_crashes = true;
        else if (!strcmp (argv[i], "--unsafe-no-quorum"))
            unsafe = true;
        else if (!strcmp (argv[i], "--unsafe-rescue"))
            unsafe_rescue = true;
        else if (!strcmp (argv[i], "--no-notices"))
            notices = false;
        else if (!strcmp (argv[i], "--spawn-hold") && i + 1 < argc)
            spawn_hold = (int64_t) strtoull (argv[++i], NULL, 10);
        else if (!strcmp (argv[i], "--spawn-ms") && i + 1 < argc) {
            char *dash = NULL;
            spawn_lo = strtoull (argv[++i], &dash, 10);
            spawn_hi = dash && *dash == '-' ? strtoull (dash + 1, NULL, 10) : spawn_lo;
            if (spawn_hi < spawn_lo || spawn_hi > 60000) {
                fprintf (stderr, "worm-sim: --spawn-ms %s: want LO-HI, 0 <= LO <= HI <= 60000\n",
                         argv[i]);
                return 2;
            }
        }
        else if (!strcmp (argv[i], "--holder"))
            heal_holder = true;
        else if (!strcmp (argv[i], "--bound-ms") && i + 1 < argc) {
            char *end = NULL;
            unsigned long ms = strtoul (argv[++i], &end, 10);
            if (end == argv[i] || *end || ms < 100 || ms > HEAL_BOUND_MS) {
                fprintf (stderr, "worm-sim: --bound-ms %s: want 100 to %d\n", argv[i],
                         HEAL_BOUND_MS);
                return 2;
            }
            heal_bound = ms;
        }
        else if (!strcmp (argv[i], "--kills") && i + 1 < argc) {
            char *end = NULL;
            unsigned long k = strtoul (argv[++i], &end, 10);
            if (end == argv[i] || *end || k < 1 || k > HEAL_N_MAX) {
                fprintf (stderr, "worm-sim: --kills %s: want 1 to %d segments\n", argv[i],
                         HEAL_N_MAX);
                return 2;
            }
            heal_kills = (uint32_t) k;
        }
        else if (!strcmp (argv[i], "--partition-heal"))
            split = true;
        else if (!strcmp (argv[i], "--heal") && i + 1 < argc) {
            heal_n = (uint32_t) strtoul (argv[++i], NULL, 10);
            if (heal_n < 2 || heal_n > HEAL_N_MAX) {
                fprintf (stderr, "worm-sim: --heal %s: the worm's size must be 2 to %d\n",
                         argv[i], HEAL_N_MAX);
                return 2;
            }
        }
        else if (!strcmp (argv[i], "--scale") && i + 1 < argc) {
            const char *list = argv[++i];
            char *end = NULL;
            nscale = 0;
            do {
                unsigned long n = strtoul (list, &end, 10);
                if (end == list || n < 2 || n > HEAL_N_MAX || nscale == 32
                    || (*end && *end != ',')) {
                    fprintf (stderr, "worm-sim: --scale %s: want up to 32 sizes N[,N...], "
                                     "each 2 to %d\n", argv[i], HEAL_N_MAX);
                    return 2;
                }
                scale_n[nscale++] = (uint32_t) n;
                list = end + 1;
            } while (*end);
        }
        else {
            fprintf (stderr,
                     "usage: worm-sim [--seeds N] [--first S] [--replay SEED] [-v] "
                     "[--unsafe-no-quorum] [--unsafe-rescue] [--serial-crashes] "
                     "[--no-notices] [--spawn-hold MS] [--heal N [--spawn-ms LO-HI] "
                     "[--holder] [--kills K] [--bound-ms MS]] [--partition-heal] "
                     "[--scale N[,N...] [--spawn-ms LO-HI]]\n");
            return 2;
        }
    }
    if (heal_holder && !heal_n) {
        fprintf (stderr, "worm-sim: --holder: only with --heal N\n");
        return 2;
    }
    if (heal_kills > 1 && (!heal_n || heal_kills * 2 >= heal_n)) {
        fprintf (stderr, "worm-sim: --kills %u: only with --heal N, and fewer than half of N\n",
                 heal_kills);
        return 2;
    }
    if (split && (heal_n || serial_crashes)) {
        fprintf (stderr, "worm-sim: --partition-heal: not with --heal or --serial-crashes\n");
        return 2;
    }
    if (nscale && (heal_n || split || serial_crashes || heal_holder || unsafe || unsafe_rescue)) {
        fprintf (stderr, "worm-sim: --scale: only with --seeds, --first, --spawn-ms, "
                         "--spawn-hold, --no-notices, -v\n");
        return 2;
    }
    if (nscale)
        return s_scale (scale_n, nscale, seeds_given ? seeds : 3, first, verbose, notices,
                        spawn_hold, spawn_lo, spawn_hi);
    size_t splits = 0, losers = 0, losers_back = 0, split_excess = 0;
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    uint64_t *converge = (uint64_t *) calloc (seeds ? seeds : 1, sizeof (uint64_t));
    uint64_t *killed = (uint64_t *) calloc (seeds ? seeds : 1, sizeof (uint64_t));
    uint64_t *healed = (uint64_t *) calloc (seeds ? seeds : 1, sizeof (uint64_t));
    size_t nhealed = 0;
    size_t nconverge = 0, nkilled = 0, failures = 0, outside = 0, outside_crash_only = 0;
    size_t crash_only = 0, majority_crashes = 0, leaves = 0;
    struct {
        char cause[160];        //  what made the worm lose its last voter (s_lost_cause)
        size_t count[2];        //  deaths without, with partitions
    } causes[16];
    size_t ncauses = 0;
    memset (causes, 0, sizeof causes);
    uint64_t dup_epochs = 0, events = 0, stale = 0, regens = 0, reconfigs = 0, skipped = 0;
    for (uint64_t s = first; s < first + seeds; s++) {
        s_sim_t *sim = (s_sim_t *) calloc (1, sizeof (s_sim_t));
        sim->seed = s;
        sim->verbose = verbose;
        sim->unsafe = unsafe;
        sim->unsafe_rescue = unsafe_rescue;
        sim->serial_crashes = serial_crashes;
        sim->notices_on = notices;
        sim->spawn_hold = spawn_hold;
        sim->heal_n = heal_n;
        sim->split = split;
        sim->heal_holder = heal_holder;
        sim->heal_kills = heal_kills;
        sim->heal_spawn_lo = spawn_lo;
        sim->heal_spawn_hi = spawn_hi;
        sim->heal_bound = HEAL_BOUND_MS;
        sim->healed_bound = heal_bound;
        sim->rng = s * 0x9E3779B97F4A7C15ull + 12345;
        bool ok = s_run (sim);
        if (sim->nparts == 0 && (sim->ncrash > 0 || sim->mass_done))
            crash_only++;
        majority_crashes += sim->mass_done;
        leaves += (size_t) sim->nleave;
        if (!ok) {
            failures++;
            char heal_args[64] = "";
            if (heal_n)
                snprintf (heal_args, sizeof heal_args, " --heal %u%s --kills %u", heal_n,
                          heal_holder ? " --holder" : "", heal_kills);
            printf ("FAIL seed %" PRIu64 ": %s (t=%" PRIu64 " ms)\n  replay: worm-sim --replay %"
                    PRIu64 " -v%s%s%s\n", s, sim->failure, sim->now, s,
                    unsafe ? " --unsafe-no-quorum" : unsafe_rescue ? " --unsafe-rescue" : "",
                    split ? " --partition-heal" : "", heal_args);
        }
        else if (sim->outside) {
            outside++;
            if (sim->nparts == 0)
                outside_crash_only++;
            if (verbose || getenv ("SIM_SHOW_OUTSIDE"))
                printf ("outside the guarantee, seed %" PRIu64 ": quorum lost (%s)%s\n", s,
                        sim->lost_cause, sim->nparts ? ", with partitions" : "");
            size_t c = 0;
            while (c < ncauses && strcmp (causes[c].cause, sim->lost_cause) != 0)
                c++;
            if (c == ncauses && ncauses < sizeof causes / sizeof causes[0])
                snprintf (causes[ncauses++].cause, sizeof causes[c].cause, "%s", sim->lost_cause);
            if (c < ncauses)
                causes[c].count[sim->nparts ? 1 : 0]++;
        }
        else {
            converge[nconverge++] = sim->converge_ms;
            if (sim->kill_at)
                killed[nkilled++] = sim->kill_ms;
        }
        if (ok && sim->heal_done_at)
            healed[nhealed++] = sim->heal_done_at - sim->heal_crash_at;
        if (sim->split && sim->nparts) {
            splits++;
            losers += (size_t) sim->nlosers;
            losers_back += (size_t) sim->losers_back;
            if (sim->max_alive_after > (int) sim->target
                && (size_t) sim->max_alive_after - sim->target > split_excess)
                split_excess = (size_t) sim->max_alive_after - sim->target;
        }
        dup_epochs += sim->dup_epochs;
        events += sim->events;
        stale += sim->stale;
        regens += sim->regenerations;
        reconfigs += sim->reconfigs;
        skipped += sim->skipped;
        free (sim);
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    qsort (converge, nconverge, sizeof (uint64_t), s_compare);
    qsort (killed, nkilled, sizeof (uint64_t), s_compare);
    qsort (healed, nhealed, sizeof (uint64_t), s_compare);
    printf ("worm-sim: %" PRIu64 " seeds from %" PRIu64 ", %zu failed, %.1f s, %" PRIu64
            " events\n", seeds, first, failures, secs, events);
    printf ("  tokens accepted twice in one epoch (two creators): %" PRIu64 "\n", dup_epochs);
    printf ("  converged %zu; lost their quorum (no voter of the newest epoch left) and died: "
            "%zu with partitions, %zu crash-only (target 0)\n",
            nconverge, outside - outside_crash_only, outside_crash_only);
    if (ncauses) {
        printf ("  died, by what took the last voter of the newest epoch the others knew:");
        for (size_t c = 0; c < ncauses; c++)
            printf ("%s %s %zu (%zu with partitions)", c ? "," : "", causes[c].cause,
                    causes[c].count[0] + causes[c].count[1], causes[c].count[1]);
        printf ("\n");
    }
    printf ("  schedules: %zu crash-only, %zu with a majority crashing at once, %zu leaves\n",
            crash_only, majority_crashes, leaves);
    if (nconverge)
        printf ("  convergence after faults stop (ms): min %" PRIu64 " median %" PRIu64
                " p95 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 " (bound %d)\n",
                converge[0], converge[nconverge / 2], converge[nconverge * 95 / 100],
                converge[nconverge * 99 / 100], converge[nconverge - 1], CONVERGE_BOUND_MS);
    if (split)
        printf ("  partition heal: %zu splits in halves for %d-%d ms; after the heal, merged "
                "within %d ms (the convergence above); segments above target at once after a "
                "heal, at most %zu; losing side (not listed by the newest token at the heal): "
                "%zu segments, %zu exited, %zu taken back\n",
                splits, SPLIT_MIN_MS, SPLIT_MAX_MS, MERGE_BOUND_MS, split_excess, losers,
                losers - losers_back, losers_back);
    if (nkilled)
        printf ("  kill to last exit (ms), %zu kills: median %" PRIu64 " max %" PRIu64
                " (bound %d)\n", nkilled, killed[nkilled / 2], killed[nkilled - 1],
                KILL_BOUND_MS);
    printf ("  stale tokens dropped %" PRIu64 ", regenerations %" PRIu64 ", voter changes %"
            PRIu64 ", successors skipped %" PRIu64 " (live segments at the end)\n",
            stale, regens, reconfigs, skipped);
    if (nhealed) {
        double mean = 0;
        for (size_t i = 0; i < nhealed; i++)
            mean += (double) healed[i] / (double) nhealed;
        char what[64];
        if (heal_kills > 1)
            snprintf (what, sizeof what, "%u at once, %s", heal_kills,
                      heal_holder ? "the holder among them" : "none the holder");
        else
            snprintf (what, sizeof what, "%s", heal_holder ? "the holder" : "a non-holder");
        printf ("  heal of N=%u (crash of %s -> %u run, all listed; notices %s, "
                "spawn hold %s, spawns %" PRIu64 "-%" PRIu64 " ms), %zu heals (ms): p50 %" PRIu64
                " p95 %" PRIu64 " max %" PRIu64 " mean %.0f\n",
                heal_n, what, heal_n,
                notices ? "on" : "off",
                spawn_hold < 0 ? "default" : spawn_hold == 0 ? "off" : "set", spawn_lo, spawn_hi,
                nhealed,
                healed[nhealed / 2], healed[nhealed * 95 / 100], healed[nhealed - 1], mean);
    }
    free (healed);
    free (converge);
    free (killed);
    return failures ? 1 : 0;
}
