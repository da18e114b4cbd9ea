/*  agent_internal.h — what the parts of the host agent share, and no one
    else sees: the agent's struct, its guests, claims and killed worms, and
    the calls each part makes on the others.

    The parts, one concern each (see agent.h for the whole):
      agent.c       the reactor, the decision (willing or not), roles, ZAP
      agent_ops.c   the one table of control ops: fields, roles, handler
      guests.c      the running guests: reaping, stopping, evicting, receipts,
                    the guests.list record and the sweep after a restart
      guest_spawn.c starting a guest: its command line, environment and
                    kinds, and the back-off after failures
      claims.c      claims, and the memory of killed worms (tombstones)
      run.c         commands run as guests (the run ops): their stdio streamed
                    to the client with flow control, signals, their end
      run_files.c   and their files: inputs put in, outputs sent back
      relay.c       the relay actor that makes guests' requests elsewhere
      rings.c       ringing alarms (the ring op): the ring command and log,
                    and the memory of the alarm ids rung here
      announce.c    beacons, answers to queries, death notices: an actor
                    of its own (announce.h)
      agent_log.c   the event log's agent side: the events the other parts
                    record through it (refusals), and the log op that reads
                    it back (the log itself, on disk, is events.h)
    Every call here runs on the reactor's thread, but worm_relay_actor: it
    is the relay's own.
*/
#ifndef WORM_AGENT_INTERNAL_H_INCLUDED
#define WORM_AGENT_INTERNAL_H_INCLUDED

#include "agent.h"
#include "agent_limits.h"
#include "announce.h"
#include "auth.h"
#include "beacon.h"
#include "events.h"
#include "log.h"
#include "registry.h"
#include "request.h"
#include "ringing.h"
#include "token.h"
#include "udp.h"

#include <czmq.h>
#include <limits.h>

//  The programs an agent starts, by guest kind: nothing else, and never
//  itself or wormctl (docs/PROTOCOL.md, "Control", spawn)
#define WORM_AGENT_SEGMENT_PROGRAM "worm-segment"
#define WORM_AGENT_TEST_PROGRAM "worm-test-guest"
#define WORM_AGENT_GUESTS_RECORD "guests.list"  //  in the state folder, see worm_guests_save

//  A limit as text, for a scanf width
#define WORM_AGENT_STR(x) WORM_AGENT_STR_ (x)
#define WORM_AGENT_STR_(x) #x

typedef struct _worm_run_t worm_run_t;     //  a command run as a guest (run.c)

typedef struct {
    char id[WORM_AGENT_GUEST_ID_MAX + 1];       //  guest id, unique on this host
    char program[WORM_AGENT_NAME_MAX + 1];      //  program name under programs_dir
    char worm[WORM_AGENT_NAME_MAX + 1];         //  worm the guest belongs to
    char workdir[PATH_MAX];     //  its private folder, removed when it ends
    pid_t pid;                  //  its pid, also its process group (a run's: its keeper's)
    bool keeper;                //  a run: pid is the keeper of its command (spawn.h)
    unsigned long long started_ticks;   //  its start in /proc (tells it from a later pid), 0 until read
    int64_t started_wall_ms;    //  when it started, wall clock
    char segment_id[WORM_TOKEN_ID_MAX];         //  a segment: its id, once it registered
    char worm_id[WORM_TOKEN_ID_MAX];            //  a segment: its worm's id
    char endpoint[WORM_TOKEN_ENDPOINT_MAX];     //  a segment: where it listens
    char worm_key[WORM_KEY_LEN + 1];    //  a segment: its worm's public key ("" for none)
    char launcher[WORM_KEY_LEN + 1];    //  the key of whoever launched its worm
    zsock_t *dealer;            //  a segment: our connection to it, made on first use
    bool stopping;              //  being stopped (evicted or its worm killed): SIGTERM sent
    bool evicting;              //  and that is an eviction (it gets a receipt)
    char evict_reason[WORM_AGENT_REASON_MAX + 1];   //  why, in words
    int64_t evict_started_ms;   //  when the agent decided to stop it (monotonic)
    int64_t kill_at_ms;         //  when the grace period ends
    bool killed;                //  SIGKILL was needed
    int64_t cpu_ms;             //  CPU time it and its reaped descendants used, once it ended
    mode_t umask;               //  the umask it starts with (077; a run's: its client's)
    worm_run_t *run;            //  a run: its stream (run.c), else NULL
} worm_guest_t;

typedef struct {
    int64_t at_wall_ms;         //  when the eviction started, wall clock
    char guest[WORM_AGENT_GUEST_ID_MAX + 1];    //  guest id
    char worm[WORM_AGENT_NAME_MAX + 1];         //  its worm
    char segment[WORM_TOKEN_ID_MAX];            //  its segment id, when it had registered
    char reason[WORM_AGENT_REASON_MAX + 1];     //  why it was evicted
    int64_t released_ms;        //  decision to process gone (CPU released)
    bool killed;                //  SIGKILL was needed after the grace period
    int leftover_processes;     //  processes of its tree still alive after it exited
    bool leftover_files;        //  its folder could not be removed
} worm_receipt_t;

typedef struct {
    char id[WORM_HOST_ID_LEN + 1];   //  claim id handed to the requester
    char worm[WORM_AGENT_NAME_MAX + 1];  //  worm the slot is reserved for
    char launcher[WORM_KEY_LEN + 1]; //  whose worm: the claimer, or the launcher a host named
    int64_t expires_ms;              //  monotonic expiry
} worm_claim_t;

//  A killed worm, by worm id: its segments are not started here again for
//  a while. It binds only worms of the key that killed it, unless the
//  host's owner did, so no one can bar another user's worm.
typedef struct {
    int64_t forget_ms;               //  monotonic: when it is forgotten
    char killer[WORM_KEY_LEN + 1];   //  who killed it
    bool by_owner;                   //  the host's owner did
} worm_tomb_t;

//  An alarm rung here: its dedupe key and when
typedef struct {
    char key[WORM_RINGING_KEY_MAX];  //  "WORM-ID/ALARM-ID"
    int64_t at_wall_ms;              //  when it was rung, wall clock
} worm_rung_t;

//  A ring command that runs
typedef struct {
    pid_t pid;                       //  its pid, also its process group
    char key[WORM_RINGING_KEY_MAX];  //  the alarm it rings
    int64_t kill_at_ms;              //  monotonic: killed if still running then
    bool killed;                     //  it was
} worm_ringer_t;

struct worm_agent_t {
    //  Who we are (agent.c)
    worm_config_t config;           //  settings, policy included (policy-set changes it)
    worm_lock_t *lock;              //  the state folder's, held from before we touched it
    worm_lan_t lan;                 //  broadcast address, local address, port
    char host_id[WORM_HOST_ID_LEN + 1];   //  stable random id
    char endpoint[WORM_AGENT_ENDPOINT_MAX + 1]; //  the control endpoint we bound
    zcert_t *cert;                  //  the host keypair
    worm_keyset_t *authorized;      //  keys allowed in
    worm_keyset_t *owners;          //  keys of the host's owners (--owners), besides the host key
    worm_auth_t *auth;              //  answers libzmq's handshakes (ZAP)
    //  The reactor and the request in hand (agent.c)
    zloop_t *loop;                  //  the reactor
    int check_timer;                //  zloop timer id of the check
    zsock_t *router;                //  control endpoint (CURVE server)
    const char *sender;             //  the public key behind the request in hand
    unsigned roles;                 //  and its roles (WORM_ROLE_*)
    worm_log_limiter_t bad_request;     //  rate limit for undecodable requests
    worm_log_limiter_t sample_failed;   //  and for sampling failures
    //  The event log (agent_log.c, events.h)
    worm_events_t *events;          //  STATE/log: what happened here
    int64_t refusals_period_ms;     //  monotonic: when the current period of refusals began
    unsigned refusals_recorded;     //  refusals recorded in it
    unsigned refusals_dropped;      //  refusals past the limit, not recorded yet
    //  The decision (agent.c)
    worm_sample_t sample;           //  last availability sample
    bool willing;                   //  last decision
    char reason[WORM_AGENT_REASON_MAX + 1];   //  its reason in words
    bool decided;                   //  a decision has been made
    //  Guests (guests.c, guest_spawn.c)
    char guests_dir[PATH_MAX];      //  STATE/guests
    zlist_t *guests;                //  worm_guest_t *, running guests
    zlist_t *receipts;              //  worm_receipt_t *, the latest evictions, oldest first
    uint64_t guest_seq;             //  numbers guest ids
    int spawn_failures;             //  spawns that failed here in a row
    int64_t spawn_retry_ms;         //  monotonic: unwilling until then, after a failure
    char spawn_error[WORM_AGENT_REASON_MAX + 1];  //  the last failure, for the reason
    bool private_tmp;               //  runs get a private /tmp, /var/tmp, /dev/shm (root only)
    //  Runs (run.c)
    zlist_t *runs;                  //  worm_run_t *, every run from its op to its exit
    //  Claims and killed worms (claims.c)
    zlist_t *claims;                //  worm_claim_t *, outstanding claims
    zhashx_t *killed;               //  worm id -> worm_tomb_t *, the worms killed lately
    //  Relay (relay.c)
    zactor_t *relay;                //  makes guests' requests to other hosts
    //  Rings (rings.c)
    worm_rung_t *rung;              //  the alarms rung here, a circle of RINGS_REMEMBERED
    size_t rung_next;               //  where the next one goes in it
    zhashx_t *rung_by_key;          //  key -> its entry in rung (not owned)
    FILE *rung_record;              //  STATE/rings.seen, appended to
    size_t rung_lines;              //  lines in it
    zlist_t *ringers;               //  worm_ringer_t *, ring commands running
    //  Discovery (announce.c, an actor: we tell it our record, it tells us what it hears)
    worm_announce_t *announce;      //  says what the LAN hears from us
    worm_registry_t *registry;      //  hosts heard
    worm_log_limiter_t registry_full;   //  rate limit for hosts the registry had no room for
};

//  --------------------------------------------------------------------------
//  The op table (agent_ops.c)

//  Serves one request that passed its check (worm/request.h) and whose
//  caller holds a role the op lets in; replies on self->router to identity.
typedef void (worm_agent_handler_fn) (worm_agent_t *self, zframe_t *identity,
                                      worm_wire_reader_t *reader);

typedef struct {
    worm_request_op_t op;           //  name, fields and roles: first, for worm/request.c
    worm_agent_handler_fn *handler; //  what serves it
} worm_agent_op_t;

//  The handlers, by the part they belong to
worm_agent_handler_fn worm_agent_op_status, worm_agent_op_registry, worm_agent_op_policy,
    worm_agent_op_policy_set;                                               //  agent_ops.c
worm_agent_handler_fn worm_agent_op_guests, worm_agent_op_segment, worm_agent_op_find,
    worm_agent_op_alive, worm_agent_op_evictions;                           //  guests.c
worm_agent_handler_fn worm_agent_op_spawn;                                  //  guest_spawn.c
worm_agent_handler_fn worm_agent_op_claim, worm_agent_op_release,
    worm_agent_op_kill;                                                     //  claims.c
worm_agent_handler_fn worm_agent_op_relay;                                  //  relay.c
worm_agent_handler_fn worm_agent_op_ring;                                   //  rings.c
worm_agent_handler_fn worm_agent_op_log;                                    //  agent_log.c
worm_agent_handler_fn worm_agent_op_run, worm_agent_op_run_put, worm_agent_op_run_start,
    worm_agent_op_run_in, worm_agent_op_run_ack, worm_agent_op_run_signal;  //  run.c

//  --------------------------------------------------------------------------
//  agent.c

/*  Samples availability and decides. exclude: slots not to count (a claim
    being turned into a guest). Returns true when willingness changed. */
bool worm_agent_evaluate (worm_agent_t *self, int exclude);

/*  Decides again, and announces at once when willingness changed. */
void worm_agent_reconsider (worm_agent_t *self);

/*  Broadcasts a beacon of this host now, with its record as it is. */
void worm_agent_announce (worm_agent_t *self);

/*  Tells the announcer this host's record, when it changed since it was
    last told: so that answers to queries say what is so now. */
void worm_agent_tell_host (worm_agent_t *self);

/*  Guests plus outstanding claims. */
int worm_agent_slots_used (worm_agent_t *self);

/*  This host as the beacons and status describe it. */
void worm_agent_hostinfo (worm_agent_t *self, worm_hostinfo_t *host);

/*  Whether key is our own or an authorized one. */
bool worm_agent_key_trusted (worm_agent_t *self, const char *key);

/*  The launcher the request in hand speaks for, into launcher (WORM_KEY_LEN
    + 1 bytes): the key that sent it, or, from a host relaying for a segment
    of the worm, the launcher that host names. A key that is no host naming
    a launcher is refused: -1 and a sentence in err (op names the request
    in it). Returns 0 otherwise. */
int worm_agent_launcher (worm_agent_t *self, worm_wire_reader_t *reader, const char *op,
                         char *launcher, char *err, size_t cap);

/*  The policy's check interval changed: the check timer follows it. */
void worm_agent_interval_changed (worm_agent_t *self);

//  --------------------------------------------------------------------------
//  guests.c

/*  At start, under the lock: ends whatever a former agent on this folder
    left running (see guests.c). Logs what it did; never fails. */
void worm_guests_sweep (worm_agent_t *self);

/*  At start: opens the state and guests folders to a guest user of its
    own, checks it can reach them and the programs, logs the guests'
    limits. Returns 0, or -1 with the reason in err. */
int worm_guests_prepare (worm_agent_t *self, char *err, size_t cap);

/*  Writes STATE/guests.list for the guests running now; a failure is logged. */
void worm_guests_save (worm_agent_t *self);

/*  The environment entry that marks every process of guest, into buf. */
void worm_guests_marker (worm_agent_t *self, const worm_guest_t *guest, char *buf, size_t cap);

/*  The local guest whose worm speaks with key, or NULL. */
worm_guest_t *worm_guests_by_key (worm_agent_t *self, const char *key);

/*  Reaps every child that ended; returns how many were guests. */
int worm_guests_reap (worm_agent_t *self);

/*  SIGKILL to the tree of every stopping guest whose grace period is over. */
void worm_guests_kill_late (worm_agent_t *self);

/*  Starts stopping guest: SIGTERM to its tree (and SIGCONT), SIGKILL when
    the grace period ends. An eviction first tells the segment (EVICT) and
    ends with a receipt; a kill of its worm does neither. */
void worm_guests_stop (worm_agent_t *self, worm_guest_t *guest, bool evicting,
                       const char *reason);

/*  Holds the owner's policy against the guests (evicting what it no
    longer allows, and voiding claims when the owner is back). */
void worm_guests_enforce (worm_agent_t *self);

/*  At shutdown: every guest stopped within a few seconds, and reaped. */
void worm_guests_stop_all (worm_agent_t *self);

/*  A host says a segment of a worm died: our other segments of that worm
    hear it at once ("suspect"). */
void worm_guests_death_notice (worm_agent_t *self, const worm_beacon_t *notice);

/*  A new guest's record for claim (its id, worm, launcher's key, program
    name and folder path; umask 077), not started and in no list. The
    caller owns it. */
worm_guest_t *worm_guests_new (worm_agent_t *self, const worm_claim_t *claim,
                               const char *launcher, const char *program);

/*  Begins an event of kind about guest in the log: its id, worm, worm id
    (a segment's), program and pid, for the caller to add the rest and
    worm_events_commit (self->events). */
worm_wire_writer_t *worm_guests_event (worm_agent_t *self, const char *kind,
                                       const worm_guest_t *guest);

/*  Frees a NULL-terminated array of strings (argv, envp) and the strings. */
void worm_guests_free_strings (char **strings);

/*  Starts guest, whose folder exists, with worm_spawn as the guest user
    under the guest limits, at nice 19 (and SCHED_IDLE with sched_idle),
    with no_new_privs and SIGKILL as parent death signal: output to
    log_path and stdin_text as stdin, or stdio's three descriptors. With
    visible (a run's: its folder and the folders it shares, NULL-terminated)
    the program runs below a keeper, and in a private /tmp, /var/tmp and
    /dev/shm where the agent can give one (spawn.h); guest->pid is then the
    keeper's. Returns its pid, and the guest is in the list (and
    guests.list) from then on; or -1 with the reason in err, and the guest
    is still the caller's. */
pid_t worm_guests_launch (worm_agent_t *self, worm_guest_t *guest, const char *path,
                          char **argv, char **envp, const char *log_path,
                          const char *stdin_text, const int *stdio, bool sched_idle,
                          const char *const *visible, char *err, size_t cap);

/*  SIGKILL to every process of guest's tree; a run's keeper is spared and
    sent SIGCONT instead, so that it kills what was forked meanwhile and
    ends. Returns how many processes were signalled. */
int worm_guests_kill (worm_agent_t *self, worm_guest_t *guest);

//  --------------------------------------------------------------------------
//  run.c

/*  Runs that hold a slot without a guest yet (their inputs coming). */
int worm_runs_loading (worm_agent_t *self);

/*  The guest of run ended with status (waitpid's), its tree killed: its
    output is read to the end, its outputs sent, then its exit. Returns
    true when the run keeps the guest's folder (to send outputs from; it
    removes it itself), false when the caller removes it now. */
bool worm_run_guest_ended (worm_agent_t *self, worm_run_t *run, const worm_guest_t *guest,
                           int status);

/*  Every reap interval: clients silent too long, time limits, output
    pipes that a stray process keeps open, keepalives to clients. */
void worm_runs_tick (worm_agent_t *self);

/*  The owner is back: runs still loading their inputs are evicted. */
void worm_runs_evict_loading (worm_agent_t *self, const char *reason);

/*  At shutdown, after the guests: every run told and freed, folders gone. */
void worm_runs_destroy_all (worm_agent_t *self);

//  --------------------------------------------------------------------------
//  claims.c

/*  Forgets claims whose time is up. */
void worm_claims_expire (worm_agent_t *self);

/*  The outstanding claim called id, or NULL. */
worm_claim_t *worm_claims_find (worm_agent_t *self, const char *id);

/*  Gives a claim back (it is freed). */
void worm_claims_drop (worm_agent_t *self, worm_claim_t *claim);

/*  Gives every claim back. */
void worm_claims_drop_all (worm_agent_t *self);

/*  Whether worm_id launched by launcher was killed here lately, in a way
    that bars it (by the owner, or by that launcher). */
bool worm_claims_killed (worm_agent_t *self, const char *worm_id, const char *launcher);

//  --------------------------------------------------------------------------
//  rings.c

/*  Whether this host can ring alarms (--ring-command or --ring-log): it
    then advertises the capability 'ring'. */
bool worm_rings_enabled (worm_agent_t *self);

/*  At start: the memory of the alarms rung here, from STATE/rings.seen.
    Returns 0, or -1 with the reason in err. */
int worm_rings_start (worm_agent_t *self, char *err, size_t cap);

/*  A child that is no guest ended (reaped by worm_guests_reap): if it was
    a ring command, it is logged and forgotten. */
void worm_rings_reaped (worm_agent_t *self, pid_t pid, int status);

/*  SIGKILL to every ring command past its timeout. */
void worm_rings_kill_late (worm_agent_t *self);

/*  At shutdown: every ring command killed and reaped, the memory freed. */
void worm_rings_stop (worm_agent_t *self);

//  --------------------------------------------------------------------------
//  agent_log.c

/*  Records a refusal in the event log: op refused to key (NULL: none
    known) for worm ("" or NULL: none), with the reason given to the
    caller. At most WORM_AGENT_REFUSALS_RECORDED are recorded per
    WORM_AGENT_REFUSALS_PERIOD_MS (a stranger hammering on the door must
    not push every other event out of the log); those past it are counted,
    and the count goes with the next one recorded ("dropped"). */
void worm_agent_refusal (worm_agent_t *self, const char *op, const char *key, const char *worm,
                         const char *reason);

/*  Refuses the request in hand: the sentence (fmt) goes to identity as
    the error, and into the log as a refusal of op for worm by the key in
    hand (worm_agent_refusal). */
void worm_agent_refuse (worm_agent_t *self, zframe_t *identity, const char *op, const char *worm,
                        const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

/*  Begins an event of kind in the log (worm_events_begin), for the caller
    to add its fields and worm_events_commit (self->events). */
worm_wire_writer_t *worm_agent_event (worm_agent_t *self, const char *kind);

/*  Writes key and text into an event, text cut to WORM_AGENT_EVENT_TEXT_MAX
    bytes (at a character's start) so that a record stays small. */
void worm_agent_event_kstr (worm_wire_writer_t *writer, const char *key, const char *text);
/*  The same for a value alone (an array's element). */
void worm_agent_event_str (worm_wire_writer_t *writer, const char *text);

//  --------------------------------------------------------------------------
//  relay.c

/*  The relay actor (zactor_new (worm_relay_actor, NULL)). */
void worm_relay_actor (zsock_t *pipe, void *arg);

/*  The reactor's reader of the relay's pipe: answers back to their guests. */
int worm_relay_on_answer (zloop_t *loop, zsock_t *pipe, void *arg);

#endif
