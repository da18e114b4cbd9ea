/*  agent.c — the host agent's reactor. See agent.h and docs/PROTOCOL.md. */
#include "agent.h"
#include "auth.h"
#include "beacon.h"
#include "ctl.h"
#include "keys.h"
#include "lock.h"
#include "log.h"
#include "proctree.h"
#include "random.h"
#include "registry.h"
#include "request.h"
#include "segspec.h"
#include "spawn.h"
#include "udp.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARG_LEN 1024
#define MAX_ENV 32
#define REAP_INTERVAL_MS 100
#define STOP_WAIT_MS 3000
#define SWEEP_WAIT_MS 2000      //  a former life's leftovers have this long to go after SIGKILL
#define GUESTS_RECORD "guests.list"
#define MAX_TOMBSTONES 4096             //  killed worms remembered at once, at most
#define SPAWN_BACKOFF_MS 5000           //  unwilling this long after a spawn failed here,
#define SPAWN_BACKOFF_MAX_MS 300000     //  doubling with each failure in a row up to this

//  The programs an agent starts, by guest kind: nothing else, and never
//  itself or wormctl (docs/PROTOCOL.md, "Control", spawn)
#define SEGMENT_PROGRAM "worm-segment"
#define TEST_PROGRAM "worm-test-guest"

typedef struct {
    char id[32];                //  guest id, unique on this host
    char program[65];           //  program name under programs_dir
    char worm[65];              //  worm the guest belongs to
    char workdir[PATH_MAX];     //  its private folder, removed when it ends
    pid_t pid;                  //  its pid, also its process group
    unsigned long long started_ticks;   //  its start in /proc (tells it from a later pid), 0 until read
    int64_t started_wall_ms;    //  when it started, wall clock
    char segment_id[64];        //  a segment: its id, once it registered
    char worm_id[64];           //  a segment: its worm's id
    char endpoint[128];         //  a segment: where it listens
    char worm_key[WORM_KEY_LEN + 1];    //  a segment: its worm's public key ("" for none)
    char launcher[WORM_KEY_LEN + 1];    //  the key of whoever launched its worm
    zsock_t *dealer;            //  a segment: our connection to it, made on first use
    bool stopping;              //  being stopped (evicted or its worm killed): SIGTERM sent
    bool evicting;              //  and that is an eviction (it gets a receipt)
    char evict_reason[96];      //  why, in words
    int64_t evict_started_ms;   //  when the agent decided to stop it (monotonic)
    int64_t kill_at_ms;         //  when the grace period ends
    bool killed;                //  SIGKILL was needed
} s_guest_t;

typedef struct {
    int64_t at_wall_ms;         //  when the eviction started, wall clock
    char guest[32];             //  guest id
    char worm[65];              //  its worm
    char segment[64];           //  its segment id, when it had registered
    char reason[96];            //  why it was evicted
    int64_t released_ms;        //  decision to process gone (CPU released)
    bool killed;                //  SIGKILL was needed after the grace period
    int leftover_processes;     //  processes of its tree still alive after it exited
    bool leftover_files;        //  its folder could not be removed
} s_receipt_t;

#define MAX_RECEIPTS 64

typedef struct {
    char id[WORM_HOST_ID_LEN + 1];   //  claim id handed to the requester
    char worm[65];                   //  worm the slot is reserved for
    char launcher[WORM_KEY_LEN + 1]; //  whose worm: the claimer, or the launcher a host named
    int64_t expires_ms;              //  monotonic expiry
} s_claim_t;

//  A killed worm, by worm id: its segments are not started here again for
//  a while. It binds only worms of the key that killed it, unless the
//  host's owner did, so no one can bar another user's worm.
typedef struct {
    int64_t forget_ms;               //  monotonic: when it is forgotten
    char killer[WORM_KEY_LEN + 1];   //  who killed it
    bool by_owner;                   //  the host's owner did
} s_tomb_t;


typedef struct {
    worm_agent_t *agent;        //  who answers
    struct sockaddr_in to;      //  the querier's address
    uint64_t qid;               //  its query id
} s_answer_t;

struct worm_agent_t {
    worm_config_t config;           //  settings, policy included (policy-set changes it)
    worm_lock_t *lock;              //  the state folder's, held from before we touched it
    worm_lan_t lan;                 //  broadcast address, local address, port
    char host_id[WORM_HOST_ID_LEN + 1];   //  stable random id
    char endpoint[128];             //  the control endpoint we bound
    char guests_dir[PATH_MAX];      //  STATE/guests
    zsock_t *router;                //  control endpoint (CURVE server)
    zcert_t *cert;                  //  the host keypair
    worm_keyset_t *authorized;      //  keys allowed in
    worm_keyset_t *owners;          //  keys of the host's owners (--owners), besides the host key
    worm_auth_t *auth;              //  answers libzmq's handshakes (ZAP)
    zactor_t *relay;                //  makes guests' requests to other hosts
    const char *sender;             //  the public key behind the request in hand
    unsigned roles;                 //  and its roles (WORM_ROLE_*)
    int listen_fd;                  //  beacon port listener
    int send_fd;                    //  broadcasts and answers go out here
    zloop_t *loop;                  //  the reactor
    int check_timer;                //  zloop timer id of the check
    worm_registry_t *registry;      //  hosts heard
    worm_sample_t sample;           //  last availability sample
    bool willing;                   //  last decision
    char reason[96];                //  its reason in words
    bool decided;                   //  a decision has been made
    zlist_t *guests;                //  s_guest_t *, running guests
    zlist_t *claims;                //  s_claim_t *, outstanding claims
    zlist_t *answers;               //  s_answer_t *, answers waiting for their delay
    zhashx_t *killed;               //  worm id -> s_tomb_t *, the worms killed lately
    int spawn_failures;             //  spawns that failed here in a row
    int64_t spawn_retry_ms;         //  monotonic: unwilling until then, after a failure
    char spawn_error[96];           //  the last failure, for the reason
    zlist_t *receipts;              //  s_receipt_t *, the latest evictions, oldest first
    uint64_t guest_seq;             //  numbers guest ids
    worm_log_limiter_t bad_datagram;    //  rate limit for undecodable datagrams
    worm_log_limiter_t bad_request;     //  and for undecodable requests
    worm_log_limiter_t sample_failed;   //  and for sampling failures
};

//  --------------------------------------------------------------------------
//  Helpers

static void
s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

static int
s_write_file (const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    char tmp[PATH_MAX + 80];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *file = fopen (tmp, "w");
    if (!file)
        return -1;
    fputs (text, file);
    if (fclose (file))
        return -1;
    return rename (tmp, path);
}

static void
s_remove_file (const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    unlink (path);
}

//  Reads the host id from the state folder, or makes and saves one.
static int
s_host_id (worm_agent_t *self)
{
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/host-id", self->config.state_dir);
    FILE *file = fopen (path, "r");
    if (file) {
        char line[64] = "";
        if (!fgets (line, sizeof line, file))
            line[0] = 0;
        fclose (file);
        line[strcspn (line, "\n")] = 0;
        if (strlen (line) == WORM_HOST_ID_LEN
            && strspn (line, "0123456789abcdef") == WORM_HOST_ID_LEN) {
            snprintf (self->host_id, sizeof self->host_id, "%s", line);
            return 0;
        }
    }
    worm_random_hex (self->host_id, WORM_HOST_ID_LEN);
    char text[32];
    snprintf (text, sizeof text, "%s\n", self->host_id);
    return s_write_file (self->config.state_dir, "host-id", text);
}

//  The owner's own key, or one of the authorized keys.
static bool
s_key_trusted (worm_agent_t *self, const char *key)
{
    return key && (streq (key, zcert_public_txt (self->cert))
                   || worm_keyset_has (self->authorized, key));
}

//  The local guest whose worm speaks with key, or NULL.
static s_guest_t *
s_guest_by_key (worm_agent_t *self, const char *key)
{
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (guest->worm_key[0] && key && streq (guest->worm_key, key))
            return guest;
    return NULL;
}

//  The roles of key here (WORM_ROLE_*; docs/PROTOCOL.md, "Security"): our
//  own key is the owner and a host; keys in --owners are owners; authorized
//  keys are users, and hosts when their file says so; our guests' worm keys
//  are guests.
static unsigned
s_roles (worm_agent_t *self, const char *key)
{
    if (!key)
        return 0;
    unsigned roles = 0;
    if (streq (key, zcert_public_txt (self->cert)))
        roles |= WORM_ROLE_OWNER | WORM_ROLE_HOST;
    if (self->owners && worm_keyset_has (self->owners, key))
        roles |= WORM_ROLE_OWNER;
    if (worm_keyset_has (self->authorized, key))
        roles |= WORM_ROLE_USER
                 | (worm_keyset_has_host (self->authorized, key) ? WORM_ROLE_HOST : 0);
    if (s_guest_by_key (self, key))
        roles |= WORM_ROLE_GUEST;
    return roles;
}

//  ZAP: who may connect: any key with a role here. What each may ask is the
//  request table's to say.
static bool
s_auth_rule (void *arg, const char *key, char *why, size_t cap)
{
    worm_agent_t *self = (worm_agent_t *) arg;
    if (s_roles (self, key))
        return true;
    snprintf (why, cap, "not an authorized key");
    return false;
}

static int
s_slots_used (worm_agent_t *self)
{
    return (int) (zlist_size (self->guests) + zlist_size (self->claims));
}

static void
s_hostinfo (worm_agent_t *self, worm_hostinfo_t *host)
{
    memset (host, 0, sizeof *host);
    snprintf (host->id, sizeof host->id, "%s", self->host_id);
    snprintf (host->name, sizeof host->name, "%s", self->config.name);
    snprintf (host->endpoint, sizeof host->endpoint, "%s", self->endpoint);
    snprintf (host->key, sizeof host->key, "%s", zcert_public_txt (self->cert));
    host->willing = self->willing;
    snprintf (host->reason, sizeof host->reason, "%s", self->reason);
    host->load = self->sample.load;
    host->idle_s = self->sample.idle_s;
    host->segments = (uint32_t) s_slots_used (self);
    host->max_segments = (uint32_t) self->config.policy.max_segments;
    host->interval_ms = (uint32_t) lround (self->config.policy.check_interval_s * 1000);
    snprintf (host->caps, sizeof host->caps, "spawn");
}

//  Sends a datagram to one address, or broadcasts it when to is NULL.
static void
s_send_datagram (worm_agent_t *self, const worm_beacon_t *msg, const struct sockaddr_in *to)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_beacon_encode (msg, &writer);
    int rc = to ? worm_udp_sendto (self->send_fd, to, worm_wire_writer_data (&writer),
                                   worm_wire_writer_size (&writer))
                : worm_udp_broadcast (self->send_fd, &self->lan, worm_wire_writer_data (&writer),
                                      worm_wire_writer_size (&writer));
    if (rc)
        worm_log ("cannot send a %s: %s", to ? "query answer" : "datagram", strerror (errno));
    worm_wire_writer_fini (&writer);
}

static void
s_broadcast (worm_agent_t *self, const worm_beacon_t *msg)
{
    s_send_datagram (self, msg, NULL);
}

static void
s_send_beacon (worm_agent_t *self, worm_beacon_kind_t kind, uint64_t qid,
               const struct sockaddr_in *to)
{
    worm_beacon_t msg = {.kind = kind, .qid = qid};
    s_hostinfo (self, &msg.host);
    s_send_datagram (self, &msg, to);
}

//  Samples availability and decides. exclude: slots not to count (a claim
//  being turned into a guest). Returns true when willingness changed.
static bool
s_evaluate (worm_agent_t *self, int exclude)
{
    char err[256];
    worm_sample_t sample;
    if (worm_avail_sample (&self->config.avail, &sample, err, sizeof err)) {
        worm_log_limited (&self->sample_failed, 10000, "cannot sample availability: %s", err);
        sample = self->sample;
        sample.idle_s = 0;      //  knowing nothing, refuse guests
    }
    sample.segments = s_slots_used (self) - exclude;
    char reason[96];
    bool willing = worm_policy_willing (&self->config.policy, &sample, reason, sizeof reason);
    int64_t retry_in_ms = self->spawn_retry_ms - worm_now_ms ();
    if (willing && retry_in_ms > 0) {
        //  A host whose spawns fail is no use to anyone: say so, try later
        willing = false;
        snprintf (reason, sizeof reason, "spawns fail here (%s); next try in %.0f s",
                  self->spawn_error, ceil (retry_in_ms / 1000.0));
    }
    bool changed = !self->decided || willing != self->willing;
    if (changed && !exclude)
        worm_log ("%s (%s)", willing ? "willing" : "not willing", reason);
    self->sample = sample;
    self->willing = willing;
    snprintf (self->reason, sizeof self->reason, "%s", reason);
    self->decided = true;
    return changed;
}

//  --------------------------------------------------------------------------
//  Guests

//  The environment entry that marks every process of a guest: unique across
//  agents, which matters when virtual hosts share one machine's processes.
static void
s_marker (worm_agent_t *self, const s_guest_t *guest, char *buf, size_t cap)
{
    snprintf (buf, cap, "WORM_GUEST_MARK=%s/%s", self->host_id, guest->id);
}

//  The last line a guest wrote to its log, into buf ("" when none).
static void
s_last_words (const s_guest_t *guest, char *buf, size_t cap)
{
    buf[0] = 0;
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/guest.log", guest->workdir);
    //  The folder is the guest's: follow no link it planted, wait on no fifo
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    FILE *file = fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode) ? fdopen (fd, "r") : NULL;
    if (!file) {
        if (fd >= 0)
            close (fd);
        return;
    }
    char tail[512];
    if (fseek (file, -(long) (sizeof tail - 1), SEEK_END))
        rewind (file);
    size_t size = fread (tail, 1, sizeof tail - 1, file);
    fclose (file);
    tail[size] = 0;
    while (size && tail[size - 1] == '\n')
        tail[--size] = 0;
    char *line = strrchr (tail, '\n');
    snprintf (buf, cap, "%s", line ? line + 1 : tail);
}

//  Writes STATE/guests.list: one line "ID PID START" per running guest
//  (START its start time in /proc), so that the next agent on this folder
//  can end what we leave running if we die without stopping our guests.
//  Written whole and renamed into place; a failure is logged.
static void
s_save_guests (worm_agent_t *self)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf (path, sizeof path, "%s/%s", self->config.state_dir, GUESTS_RECORD);
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *file = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (!file) {
        if (fd >= 0)
            close (fd);
        worm_log ("cannot write %s: %s", tmp, strerror (errno));
        return;
    }
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests)) {
        if (!guest->started_ticks)
            worm_proc_started (guest->pid, &guest->started_ticks);
        fprintf (file, "%s %d %llu\n", guest->id, (int) guest->pid, guest->started_ticks);
    }
    if (fclose (file) || rename (tmp, path))
        worm_log ("cannot write %s: %s", path, strerror (errno));
}

//  At start, under the lock: ends whatever a former agent on this folder
//  left running (it was killed, or its host crashed): the processes of the
//  guests it recorded, and every process marked with our host id (the
//  marker finds those that left their guest's session, where we may read
//  their environment). Then their folders may go.
static void
s_sweep (worm_agent_t *self)
{
    static pid_t pids[WORM_PROCTREE_MAX];
    int count = 0, recorded = 0;
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s", self->config.state_dir, GUESTS_RECORD);
    FILE *file = fopen (path, "r");
    char line[160];
    while (file && fgets (line, sizeof line, file)) {
        char id[32];
        int pid;
        unsigned long long started;
        if (sscanf (line, "%31s %d %llu", id, &pid, &started) != 3 || pid <= 1 || !started)
            continue;
        recorded++;
        count += worm_proctree_leftovers ((pid_t) pid, started, NULL, pids + count,
                                          WORM_PROCTREE_MAX - count);
    }
    if (file)
        fclose (file);
    char prefix[64];
    snprintf (prefix, sizeof prefix, "WORM_GUEST_MARK=%s/", self->host_id);
    count += worm_proctree_leftovers (0, 0, prefix, pids + count, WORM_PROCTREE_MAX - count);
    //  A process found by its guest's record and by its marker counts once
    int unique = 0;
    for (int i = 0; i < count; i++) {
        int k = 0;
        while (k < unique && pids[k] != pids[i])
            k++;
        if (k == unique)
            pids[unique++] = pids[i];
    }
    count = unique;
    if (!count)
        return;
    for (int i = 0; i < count; i++)
        kill (pids[i], SIGKILL);
    //  They are not our children: init reaps them; wait until none can run
    int64_t deadline = worm_now_ms () + SWEEP_WAIT_MS;
    int left = count;
    while (left && worm_now_ms () < deadline) {
        left = 0;
        for (int i = 0; i < count; i++)
            left += !worm_proc_gone (pids[i]);
        if (left)
            zclock_sleep (10);
    }
    worm_log ("a former agent on %s left %d process(es) of its guests running (%d guest(s) "
              "recorded); killed them%s", self->config.state_dir, count, recorded,
              left ? ", and some still run" : "");
}

//  At start: guests of another user must pass through the state folder and
//  the guests folder to reach their own, so both get search permission for
//  others, never read (0711); every folder above, and the programs, must
//  already be reachable by that user, or the agent refuses to start.
static int
s_guests_prepare (worm_agent_t *self, char *err, size_t cap)
{
    const worm_config_t *config = &self->config;
    if (config->guest_user_other) {
        if (chmod (config->state_dir, 0711) || chmod (self->guests_dir, 0711)) {
            snprintf (err, cap, "cannot open %s to guests: %s", self->guests_dir,
                      strerror (errno));
            return -1;
        }
        if (worm_user_reach (&config->guest_user, self->guests_dir, err, cap)
            || worm_user_reach (&config->guest_user, config->programs_dir, err, cap))
            return -1;
    }
    //  0 leaves wormd's own limit
    char memory[32] = "none", files[32] = "wormd's", procs[32] = "wormd's";
    if (config->guest_memory)
        snprintf (memory, sizeof memory, "%lu MiB", config->guest_memory >> 20);
    if (config->guest_files)
        snprintf (files, sizeof files, "%lu", config->guest_files);
    if (config->guest_procs)
        snprintf (procs, sizeof procs, "%lu", config->guest_procs);
    worm_log ("guests run as %s (uid %u, gid %u) at nice 19, limits: data %s, open files %s, "
              "the user's processes %s",
              config->guest_user.name, (unsigned) config->guest_user.uid,
              (unsigned) config->guest_user.gid, memory, files, procs);
    return 0;
}

//  Sends a registered segment one request {"op": op, key: value} that gets no
//  reply (evict, suspect), without waiting, over the connection we keep to
//  it (made on first use, CURVE with its worm's key).
static void
s_tell_guest (s_guest_t *guest, const char *op, const char *key, const char *value)
{
    char err[256];
    if (!guest->dealer && guest->endpoint[0] && guest->worm_key[0]) {
        guest->dealer = worm_ctl_connect (guest->endpoint, guest->worm_key, err, sizeof err);
        //  Linger: a request should leave even while the agent shuts down
        if (guest->dealer)
            zsock_set_linger (guest->dealer, 100);
    }
    if (!guest->dealer)
        return;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kstr (&writer, "op", op);
    worm_wire_kstr (&writer, key, value);
    zmq_send (zsock_resolve (guest->dealer), worm_wire_writer_data (&writer),
              worm_wire_writer_size (&writer), ZMQ_DONTWAIT);
    worm_wire_writer_fini (&writer);
}

static void
s_guest_ended (worm_agent_t *self, s_guest_t *guest, int status)
{
    char last[256];
    s_last_words (guest, last, sizeof last);
    //  Whatever the guest left running goes with it
    char marker[80];
    s_marker (self, guest, marker, sizeof marker);
    int leftovers = worm_proctree_signal (guest->pid, marker, SIGKILL);
    if (leftovers)
        worm_log ("guest %s left %d process(es) behind; killed them", guest->id, leftovers);
    if (WIFEXITED (status))
        worm_log ("guest %s (%s, worm %s, pid %d) exited with status %d%s%s", guest->id,
                  guest->program, guest->worm, (int) guest->pid, WEXITSTATUS (status),
                  last[0] ? "; its last words: " : "", last);
    else if (WIFSIGNALED (status))
        worm_log ("guest %s (%s, worm %s, pid %d) killed by signal %d", guest->id,
                  guest->program, guest->worm, (int) guest->pid, WTERMSIG (status));
    //  A segment that died without leaving: tell the LAN, so that its worm
    //  replaces it without waiting for the token to come round (a hint; the
    //  worm asks us over CURVE whether the segment is really gone)
    bool crashed = WIFSIGNALED (status) || (WIFEXITED (status) && WEXITSTATUS (status) != 0);
    if (crashed && guest->segment_id[0] && guest->worm_id[0] && !guest->stopping) {
        worm_beacon_t notice = {.kind = WORM_BEACON_DEAD};
        snprintf (notice.worm_id, sizeof notice.worm_id, "%s", guest->worm_id);
        snprintf (notice.segment, sizeof notice.segment, "%s", guest->segment_id);
        s_broadcast (self, &notice);
    }
    zsock_destroy (&guest->dealer);
    bool files_left = worm_rmtree (guest->workdir) != 0;
    if (files_left)
        worm_log ("guest %s: could not remove %s", guest->id, guest->workdir);
    if (guest->evicting) {
        s_receipt_t *receipt = calloc (1, sizeof *receipt);
        receipt->at_wall_ms = worm_wall_ms () - (worm_now_ms () - guest->evict_started_ms);
        snprintf (receipt->guest, sizeof receipt->guest, "%s", guest->id);
        snprintf (receipt->worm, sizeof receipt->worm, "%s", guest->worm);
        snprintf (receipt->segment, sizeof receipt->segment, "%s", guest->segment_id);
        snprintf (receipt->reason, sizeof receipt->reason, "%s", guest->evict_reason);
        receipt->released_ms = worm_now_ms () - guest->evict_started_ms;
        receipt->killed = guest->killed;
        receipt->leftover_processes = leftovers;
        receipt->leftover_files = files_left;
        worm_log ("eviction receipt: guest %s (worm %s) gone %lld ms after the decision, "
                  "signals %s, left over: %d process(es), %s",
                  guest->id, guest->worm, (long long) receipt->released_ms,
                  guest->killed ? "SIGTERM then SIGKILL" : "SIGTERM", leftovers,
                  files_left ? "its folder" : "no file");
        zlist_append (self->receipts, receipt);
        if (zlist_size (self->receipts) > MAX_RECEIPTS)
            free (zlist_pop (self->receipts));
    }
    zlist_remove (self->guests, guest);
    free (guest);
    s_save_guests (self);
}

//  Starts stopping a guest: SIGTERM to its whole tree (and SIGCONT, so a
//  stopped process gets it too), SIGKILL when the grace period ends (see
//  s_on_reap). An eviction first tells the segment (EVICT) and ends with a
//  receipt; a kill of its worm does neither.
static void
s_stop_guest (worm_agent_t *self, s_guest_t *guest, bool evicting, const char *reason)
{
    if (guest->stopping)
        return;
    guest->stopping = true;
    guest->evicting = evicting;
    snprintf (guest->evict_reason, sizeof guest->evict_reason, "%s", reason);
    guest->evict_started_ms = worm_now_ms ();
    guest->kill_at_ms = guest->evict_started_ms + (int64_t) (self->config.policy.grace_s * 1000);
    worm_log ("%s guest %s (worm %s, pid %d): %s", evicting ? "evicting" : "stopping",
              guest->id, guest->worm, (int) guest->pid, reason);
    if (evicting)
        s_tell_guest (guest, "evict", "reason", reason);
    char marker[80];
    s_marker (self, guest, marker, sizeof marker);
    worm_proctree_signal (guest->pid, marker, SIGTERM);
    worm_proctree_signal (guest->pid, marker, SIGCONT);
}

//  The owner's policy against the guests: when the host is unwilling for
//  any reason but being full, every guest goes; when the policy allows
//  fewer guests than run, the newest go.
static void
s_enforce (worm_agent_t *self)
{
    int staying = 0;
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        staying += !guest->stopping;
    if (!staying)
        return;
    bool owner_back = !self->willing && strncmp (self->reason, "full", 4) != 0;
    int surplus = owner_back ? staying : staying - self->config.policy.max_segments;
    if (surplus <= 0)
        return;
    char reason[96];
    if (owner_back)
        snprintf (reason, sizeof reason, "%s", self->reason);
    else
        snprintf (reason, sizeof reason, "policy allows %d guest(s)",
                  self->config.policy.max_segments);
    //  Newest first: walk the list (oldest first) and take the last ones
    int index = 0;
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (!guest->stopping && index++ >= staying - surplus)
            s_stop_guest (self, guest, true, reason);
    //  Outstanding claims are void too
    s_claim_t *claim;
    while (owner_back && (claim = zlist_pop (self->claims)))
        free (claim);
}

//  Reaps every child that ended; returns how many were guests.
static int
s_reap (worm_agent_t *self)
{
    int reaped = 0;
    int status;
    pid_t pid;
    while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
        for (s_guest_t *guest = zlist_first (self->guests); guest;
             guest = zlist_next (self->guests))
            if (guest->pid == pid) {
                s_guest_ended (self, guest, status);
                reaped++;
                break;
            }
    }
    return reaped;
}

static void
s_stop_guests (worm_agent_t *self)
{
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        kill (-guest->pid, SIGTERM);
    int64_t grace_ms = (int64_t) (self->config.policy.grace_s * 1000);
    int64_t deadline = worm_now_ms () + (grace_ms < STOP_WAIT_MS ? grace_ms : STOP_WAIT_MS);
    while (zlist_size (self->guests) && worm_now_ms () < deadline) {
        s_reap (self);
        zclock_sleep (20);
    }
    while (zlist_size (self->guests)) {
        s_guest_t *guest = zlist_first (self->guests);
        kill (-guest->pid, SIGKILL);
        int status = 0;
        if (waitpid (guest->pid, &status, 0) < 0)
            status = 0;
        s_guest_ended (self, guest, status);
    }
}

//  --------------------------------------------------------------------------
//  Control requests


static void
s_write_policy (worm_wire_writer_t *writer, const worm_policy_t *policy)
{
    size_t count = 0;
    while (worm_policy_keys[count])
        count++;
    worm_wire_map (writer, count);
    for (size_t i = 0; i < count; i++) {
        double value = 0;
        worm_policy_get (policy, worm_policy_keys[i], &value);
        worm_wire_kf64 (writer, worm_policy_keys[i], value);
    }
}

static void
s_op_status (worm_agent_t *self, zframe_t *identity)
{
    worm_hostinfo_t host;
    s_hostinfo (self, &host);
    //  The policy is the owner's to read
    bool owner = (self->roles & WORM_ROLE_OWNER) != 0;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, owner ? 8 : 7);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_str (&writer, "host");
    worm_hostinfo_write (&writer, &host);
    if (owner) {
        worm_wire_str (&writer, "policy");
        s_write_policy (&writer, &self->config.policy);
    }
    worm_wire_ku64 (&writer, "pid", (uint64_t) getpid ());
    worm_wire_ku64 (&writer, "registry", worm_registry_size (self->registry));
    worm_wire_ku64 (&writer, "guests", zlist_size (self->guests));
    worm_wire_ku64 (&writer, "claims", zlist_size (self->claims));
    worm_wire_kstr (&writer, "state_dir", self->config.state_dir);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

static void
s_op_registry (worm_agent_t *self, zframe_t *identity)
{
    size_t count = worm_registry_size (self->registry);
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_str (&writer, "hosts");
    worm_wire_array (&writer, count);
    for (size_t i = 0; i < count; i++)
        worm_hostinfo_write (&writer, worm_registry_at (self->registry, i));
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

static void
s_op_policy (worm_agent_t *self, zframe_t *identity)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_str (&writer, "policy");
    s_write_policy (&writer, &self->config.policy);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

static int s_on_check (zloop_t *loop, int timer_id, void *arg);

static void
s_op_policy_set (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    const msgpack_object *changes;
    if (worm_wire_get_map (reader, reader->root, "policy", &changes)) {
        worm_ctl_reply_error (self->router, identity, "policy-set: %s", reader->error);
        return;
    }
    worm_policy_t policy = self->config.policy;
    for (uint32_t i = 0; i < changes->via.map.size; i++) {
        char key[32], err[256];
        double value;
        if (worm_wire_obj_str (reader, &changes->via.map.ptr[i].key, "policy key", key,
                               sizeof key)) {
            worm_ctl_reply_error (self->router, identity, "policy-set: %s", reader->error);
            return;
        }
        if (worm_wire_get_f64 (reader, changes, key, &value)) {
            worm_ctl_reply_error (self->router, identity, "policy-set: %s", reader->error);
            return;
        }
        if (worm_policy_set (&policy, key, value, err, sizeof err)) {
            worm_ctl_reply_error (self->router, identity, "policy-set: %s", err);
            return;
        }
    }
    bool new_interval = policy.check_interval_s != self->config.policy.check_interval_s;
    self->config.policy = policy;
    worm_log ("policy changed: max-segments %d, max-load %.2f, min-idle %.1f s, "
              "min-free-mem %.0f%%, check-interval %.2f s, grace %.1f s",
              policy.max_segments, policy.max_load, policy.min_idle_s, policy.min_free_mem_pct,
              policy.check_interval_s, policy.grace_s);
    if (new_interval) {
        zloop_timer_end (self->loop, self->check_timer);
        self->check_timer = zloop_timer (
            self->loop, (size_t) lround (policy.check_interval_s * 1000), 0, s_on_check, self);
    }
    if (s_evaluate (self, 0))
        s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);
    s_enforce (self);
    s_op_policy (self, identity);
}

static void
s_op_guests (worm_agent_t *self, zframe_t *identity)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_str (&writer, "guests");
    worm_wire_array (&writer, zlist_size (self->guests));
    for (s_guest_t *guest = zlist_first (self->guests); guest;
         guest = zlist_next (self->guests)) {
        worm_wire_map (&writer, 6);
        worm_wire_kstr (&writer, "id", guest->id);
        worm_wire_ku64 (&writer, "pid", (uint64_t) guest->pid);
        worm_wire_kstr (&writer, "program", guest->program);
        worm_wire_kstr (&writer, "worm", guest->worm);
        worm_wire_kstr (&writer, "workdir", guest->workdir);
        worm_wire_ki64 (&writer, "started", guest->started_wall_ms);
    }
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

static void
s_expire_claims (worm_agent_t *self)
{
    int64_t now = worm_now_ms ();
    s_claim_t *claim = zlist_first (self->claims);
    while (claim) {
        s_claim_t *next = zlist_next (self->claims);
        if (claim->expires_ms <= now) {
            worm_log ("claim %s for worm %s expired unused", claim->id, claim->worm);
            zlist_remove (self->claims, claim);
            free (claim);
        }
        claim = next;
    }
}

//  Whether worm already has a segment here (one that is not on its way
//  out) or a slot claimed for it.
static bool
s_worm_present (worm_agent_t *self, const char *worm)
{
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (!guest->stopping && strcmp (guest->worm, worm) == 0)
            return true;
    for (s_claim_t *claim = zlist_first (self->claims); claim; claim = zlist_next (self->claims))
        if (strcmp (claim->worm, worm) == 0)
            return true;
    return false;
}

//  The tombstone that bars worm_id launched by launcher here, or NULL: one
//  the owner left, or one its launcher left. Forgets expired ones.
static s_tomb_t *
s_tomb (worm_agent_t *self, const char *worm_id, const char *launcher)
{
    s_tomb_t *tomb = worm_id && worm_id[0] ? zhashx_lookup (self->killed, worm_id) : NULL;
    if (tomb && tomb->forget_ms <= worm_now_ms ()) {
        zhashx_delete (self->killed, worm_id);
        return NULL;
    }
    return tomb && (tomb->by_owner || streq (tomb->killer, launcher)) ? tomb : NULL;
}

//  Remembers that killer killed worm_id (WORM_KILL_MEMORY_MS). When the
//  memory is full, the expired are forgotten; if none has, the newest kill
//  is not remembered (and logged): a flood of kills cannot push out others.
static void
s_bury (worm_agent_t *self, const char *worm_id, const char *killer, bool by_owner)
{
    if (!worm_id[0])
        return;
    if (zhashx_size (self->killed) >= MAX_TOMBSTONES && !zhashx_lookup (self->killed, worm_id)) {
        int64_t now = worm_now_ms ();
        zlistx_t *ids = zhashx_keys (self->killed);
        for (const char *id = zlistx_first (ids); id; id = zlistx_next (ids)) {
            s_tomb_t *tomb = (s_tomb_t *) zhashx_lookup (self->killed, id);
            if (tomb && tomb->forget_ms <= now)
                zhashx_delete (self->killed, id);
        }
        zlistx_destroy (&ids);
        if (zhashx_size (self->killed) >= MAX_TOMBSTONES) {
            worm_log ("killed worm %s is not remembered: %d kills already are", worm_id,
                      MAX_TOMBSTONES);
            return;
        }
    }
    s_tomb_t *tomb = calloc (1, sizeof *tomb);
    tomb->forget_ms = worm_now_ms () + WORM_KILL_MEMORY_MS;
    snprintf (tomb->killer, sizeof tomb->killer, "%s", killer);
    tomb->by_owner = by_owner;
    zhashx_update (self->killed, worm_id, tomb);
}

//  The launcher a request speaks for: the key that sent it, or, from a host
//  relaying for a segment of the worm, the launcher that host names. A key
//  that is no host naming a launcher is refused (-1, a sentence in err).
static int
s_launcher (worm_agent_t *self, worm_wire_reader_t *reader, const char *op, char *launcher,
            char *err, size_t cap)
{
    snprintf (launcher, WORM_KEY_LEN + 1, "%s", self->sender ? self->sender : "");
    char named[WORM_KEY_LEN + 1];
    if (worm_wire_get_str (reader, reader->root, "launcher", named, sizeof named) != 0)
        return 0;
    if (!(self->roles & WORM_ROLE_HOST)) {
        worm_log ("refused %s from key %s: it names launcher %s, and only a host's key may",
                  op, self->sender, named);
        snprintf (err, cap, "%s refused %s: key %s names a launcher, which only a host relaying "
                            "for one of the worm's segments may do", self->config.name, op,
                  self->sender);
        return -1;
    }
    snprintf (launcher, WORM_KEY_LEN + 1, "%s", named);
    return 0;
}

static void
s_op_claim (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char worm[65], worm_id[WORM_TOKEN_ID_MAX] = "", launcher[WORM_KEY_LEN + 1], err[512];
    if (worm_wire_get_str (reader, reader->root, "worm", worm, sizeof worm)
        || !worm_name_valid (worm)) {
        worm_ctl_reply_error (self->router, identity, "claim: %s",
                       reader->error[0] ? reader->error : "worm name is not [A-Za-z0-9._-]{1,64}");
        return;
    }
    if (worm_wire_get_str (reader, reader->root, "worm_id", worm_id, sizeof worm_id) == -1) {
        worm_ctl_reply_error (self->router, identity, "claim: %s", reader->error);
        return;
    }
    if (s_launcher (self, reader, "CLAIM", launcher, err, sizeof err)) {
        worm_ctl_reply_error (self->router, identity, "%s", err);
        return;
    }
    s_expire_claims (self);
    if (s_evaluate (self, 0))
        s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);
    if (!self->willing) {
        worm_log ("refused CLAIM for worm \"%s\": host is not willing (%s)", worm, self->reason);
        worm_ctl_reply_error (self->router, identity, "%s refused the claim for worm \"%s\": not willing (%s)",
                       self->config.name, worm, self->reason);
        return;
    }
    if (s_tomb (self, worm_id, launcher)) {
        worm_log ("refused CLAIM for worm \"%s\" (id %s): it was killed", worm, worm_id);
        worm_ctl_reply_error (self->router, identity, "%s refused the claim: worm \"%s\" (id %s) was killed",
                       self->config.name, worm, worm_id);
        return;
    }
    if (s_worm_present (self, worm)) {
        worm_log ("refused CLAIM for worm \"%s\": it already has a segment here", worm);
        worm_ctl_reply_error (self->router, identity, "%s refused the claim: worm \"%s\" already has a segment here",
                       self->config.name, worm);
        return;
    }
    s_claim_t *claim = calloc (1, sizeof *claim);
    worm_random_hex (claim->id, WORM_HOST_ID_LEN);
    snprintf (claim->worm, sizeof claim->worm, "%s", worm);
    snprintf (claim->launcher, sizeof claim->launcher, "%s", launcher);
    claim->expires_ms = worm_now_ms () + WORM_CLAIM_TTL_MS;
    zlist_append (self->claims, claim);
    worm_log ("granted claim %s for worm %s (%d/%d slots)", claim->id, worm, s_slots_used (self),
              self->config.policy.max_segments);
    if (s_evaluate (self, 0))
        s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);

    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 3);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kstr (&writer, "claim", claim->id);
    worm_wire_ku64 (&writer, "ttl_ms", WORM_CLAIM_TTL_MS);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

static s_claim_t *
s_find_claim (worm_agent_t *self, const char *id)
{
    for (s_claim_t *claim = zlist_first (self->claims); claim; claim = zlist_next (self->claims))
        if (strcmp (claim->id, id) == 0)
            return claim;
    return NULL;
}

static void
s_op_release (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char id[WORM_HOST_ID_LEN + 1];
    s_claim_t *claim = NULL;
    if (worm_wire_get_str (reader, reader->root, "claim", id, sizeof id) == 0)
        claim = s_find_claim (self, id);
    if (!claim) {
        worm_ctl_reply_error (self->router, identity, "release: no such claim");
        return;
    }
    zlist_remove (self->claims, claim);
    free (claim);
    worm_ctl_reply_ok (self->router, identity);
}

//  Checks an environment variable name a requester may set.
static bool
s_env_name_ok (const char *name)
{
    return strncmp (name, "WORM_APP_", 9) == 0 && strlen (name) > 9
           && strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen (name);
}

//  Builds the guest's environment: ours first, then the requester's.
static char **
s_guest_env (worm_agent_t *self, const s_guest_t *guest, const msgpack_object *env,
             worm_wire_reader_t *reader, char *err, size_t cap)
{
    size_t extra = env ? env->via.map.size : 0;
    char **envp = calloc (20 + extra, sizeof (char *));
    size_t n = 0;
    envp[n++] = zsys_sprintf ("PATH=/usr/local/bin:/usr/bin:/bin");
    envp[n++] = zsys_sprintf ("HOME=%s", guest->workdir);
    envp[n++] = zsys_sprintf ("TMPDIR=%s/tmp", guest->workdir);
    envp[n++] = zsys_sprintf ("LANG=C.UTF-8");
    envp[n++] = zsys_sprintf ("WORM_HOST=%s", self->config.name);
    envp[n++] = zsys_sprintf ("WORM_HOST_ID=%s", self->host_id);
    envp[n++] = zsys_sprintf ("WORM_AGENT=%s", self->endpoint);
    envp[n++] = zsys_sprintf ("WORM_GUEST_ID=%s", guest->id);
    char marker[80];
    s_marker (self, guest, marker, sizeof marker);
    envp[n++] = zsys_sprintf ("%s", marker);
    envp[n++] = zsys_sprintf ("WORM_WORM=%s", guest->worm);
    envp[n++] = zsys_sprintf ("WORM_BROADCAST=%s", self->lan.broadcast);
    envp[n++] = zsys_sprintf ("WORM_LOCAL_ADDR=%s", self->lan.local);
    envp[n++] = zsys_sprintf ("WORM_BEACON_PORT=%d", self->lan.port);
    //  Keys: ours, the launcher's, and the worm's public key (its secret
    //  comes on stdin: other guests run as the same user, and could read
    //  an environment in /proc)
    envp[n++] = zsys_sprintf ("WORM_AGENT_KEY=%s", zcert_public_txt (self->cert));
    envp[n++] = zsys_sprintf ("WORM_LAUNCHER_KEY=%s", guest->launcher);
    if (guest->worm_key[0])
        envp[n++] = zsys_sprintf ("WORM_KEY_PUBLIC=%s", guest->worm_key);
    for (size_t i = 0; i < extra; i++) {
        char name[64], value[MAX_ARG_LEN];
        if (worm_wire_obj_str (reader, &env->via.map.ptr[i].key, "env name", name, sizeof name)
            || worm_wire_obj_str (reader, &env->via.map.ptr[i].val, "env value", value,
                                  sizeof value)) {
            snprintf (err, cap, "%s", reader->error);
            goto fail;
        }
        if (!s_env_name_ok (name)) {
            snprintf (err, cap, "environment name '%s' is not WORM_APP_[A-Z0-9_]+", name);
            goto fail;
        }
        envp[n++] = zsys_sprintf ("%s=%s", name, value);
    }
    return envp;
fail:
    for (size_t i = 0; i < n; i++)
        zstr_free (&envp[i]);
    free (envp);
    return NULL;
}

static void
s_free_strings (char **strings)
{
    if (!strings)
        return;
    for (size_t i = 0; strings[i]; i++)
        zstr_free (&strings[i]);
    free (strings);
}

//  A spawn failed for a reason of this host's own (its guest program is
//  missing, a folder cannot be made, fork or exec refused): the host says
//  it is not willing for a while, longer with each failure in a row, so
//  that worms stop choosing it.
static void
s_spawn_failed (worm_agent_t *self, const char *err)
{
    int shift = self->spawn_failures < 6 ? self->spawn_failures : 6;
    self->spawn_failures++;
    int64_t backoff = (int64_t) SPAWN_BACKOFF_MS << shift;
    if (backoff > SPAWN_BACKOFF_MAX_MS)
        backoff = SPAWN_BACKOFF_MAX_MS;
    self->spawn_retry_ms = worm_now_ms () + backoff;
    snprintf (self->spawn_error, sizeof self->spawn_error, "%.90s", err);
    worm_log ("spawns fail here (%d in a row): not willing for %lld s", self->spawn_failures,
              (long long) (backoff / 1000));
    if (s_evaluate (self, 0))
        s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);
}

//  A test guest's words: [A-Za-z0-9=:._-], as worm-test-guest takes them.
static bool
s_test_word_ok (const char *word)
{
    return word[0] && strspn (word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789=:._-") == strlen (word);
}

//  The command line of the guest a spawn asks for, built here from checked
//  fields: a segment of the claim's worm, or (with --allow-test-guest) the
//  test guest. Fills program (the file under programs_dir), argv (the
//  caller frees it with s_free_strings) and, for a segment, worm_id.
//  Returns 0, or -1 with the refusal in err.
static int
s_guest_command (worm_agent_t *self, worm_wire_reader_t *reader, const char *kind,
                 const s_claim_t *claim, const char *launcher, const char **program,
                 char ***argv_p, char *worm_id, char *err, size_t cap)
{
    *argv_p = NULL;
    if (streq (kind, "segment")) {
        const msgpack_object *record = worm_wire_field (reader->root, "segment");
        worm_segspec_t spec;
        if (!record) {
            snprintf (err, cap, "spawn: a segment needs the field 'segment'");
            return -1;
        }
        if (worm_segspec_read (reader, record, &spec, err, cap))
            return -1;
        if (!streq (spec.worm, claim->worm)) {
            snprintf (err, cap, "spawn: a segment of worm \"%s\" on a claim for worm \"%s\"",
                      spec.worm, claim->worm);
            return -1;
        }
        if (s_tomb (self, spec.worm_id, launcher)) {
            worm_log ("refused SPAWN for worm \"%s\" (id %s): it was killed", spec.worm,
                      spec.worm_id);
            snprintf (err, cap, "%s refused to spawn: worm \"%s\" (id %s) was killed",
                      self->config.name, spec.worm, spec.worm_id);
            return -1;
        }
        *program = SEGMENT_PROGRAM;
        char **argv = calloc (WORM_SEGSPEC_MAX_ARGV + 1, sizeof (char *));
        worm_segspec_argv (&spec, SEGMENT_PROGRAM, argv);
        *argv_p = argv;
        snprintf (worm_id, WORM_TOKEN_ID_MAX, "%s", spec.worm_id);
        return 0;
    }
    if (streq (kind, "test")) {
        if (!self->config.allow_test_guest) {
            snprintf (err, cap, "%s refused to spawn: guest kind 'test' is not allowed here "
                                "(wormd --allow-test-guest)", self->config.name);
            return -1;
        }
        const msgpack_object_array *args = NULL;
        if (worm_wire_get_array (reader, reader->root, "args", &args,
                                 WORM_REQUEST_MAX_TEST_ARGS) == -1) {
            snprintf (err, cap, "spawn: %s", reader->error);
            return -1;
        }
        char **argv = calloc (WORM_REQUEST_MAX_TEST_ARGS + 2, sizeof (char *));
        argv[0] = zsys_sprintf ("%s", TEST_PROGRAM);
        for (uint32_t i = 0; args && i < args->size; i++) {
            char word[65];
            if (worm_wire_obj_str (reader, &args->ptr[i], "args[]", word, sizeof word)
                || !s_test_word_ok (word)) {
                snprintf (err, cap, "spawn: args[%u] is not a word of [A-Za-z0-9=:._-]", i);
                s_free_strings (argv);
                return -1;
            }
            argv[i + 1] = zsys_sprintf ("%s", word);
        }
        *program = TEST_PROGRAM;
        *argv_p = argv;
        worm_id[0] = 0;
        return 0;
    }
    snprintf (err, cap, "spawn: unknown guest kind '%s' (this host starts: segment)", kind);
    return -1;
}

//  Gives back the claim of a spawn that did not happen, and says why.
static void
s_spawn_refused (worm_agent_t *self, zframe_t *identity, s_claim_t *claim, const char *err)
{
    zlist_remove (self->claims, claim);
    free (claim);
    s_evaluate (self, 0);
    worm_ctl_reply_error (self->router, identity, "%s (claim released)", err);
}

static void
s_op_spawn (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char claim_id[WORM_HOST_ID_LEN + 1], kind[16], err[512];
    const msgpack_object *env = NULL;
    if (worm_wire_get_str (reader, reader->root, "claim", claim_id, sizeof claim_id)
        || worm_wire_get_str (reader, reader->root, "guest", kind, sizeof kind)
        || worm_wire_get_map (reader, reader->root, "env", &env) == -1) {
        worm_ctl_reply_error (self->router, identity, "spawn: %s", reader->error);
        return;
    }
    //  The worm's launcher: the requester, or the user a host relays for
    char launcher[WORM_KEY_LEN + 1], worm_public[WORM_KEY_LEN + 1] = "",
        worm_secret[WORM_KEY_LEN + 1] = "";
    if (s_launcher (self, reader, "SPAWN", launcher, err, sizeof err)) {
        worm_ctl_reply_error (self->router, identity, "%s", err);
        return;
    }
    if (worm_wire_get_str (reader, reader->root, "worm_public", worm_public,
                           sizeof worm_public) == -1
        || worm_wire_get_str (reader, reader->root, "worm_secret", worm_secret,
                              sizeof worm_secret) == -1) {
        worm_ctl_reply_error (self->router, identity, "spawn: %s", reader->error);
        return;
    }
    if (!s_key_trusted (self, launcher)) {
        worm_log ("refused SPAWN: worm launched by key %s, which is not authorized", launcher);
        worm_ctl_reply_error (self->router, identity, "%s refused to spawn: the worm's launcher %s is not an "
                       "authorized key", self->config.name, launcher);
        return;
    }
    if (worm_public[0] || worm_secret[0]) {
        zcert_t *worm_cert = worm_cert_from_text (worm_public, worm_secret, err, sizeof err);
        if (!worm_cert) {
            worm_ctl_reply_error (self->router, identity, "spawn: worm keypair: %s", err);
            return;
        }
        zcert_destroy (&worm_cert);
    }
    s_expire_claims (self);
    s_claim_t *claim = s_find_claim (self, claim_id);
    if (!claim) {
        worm_ctl_reply_error (self->router, identity, "spawn: claim %s is unknown or expired", claim_id);
        return;
    }
    //  From here on a spawn that does not happen gives its claim back
    if (!streq (claim->launcher, launcher)) {
        snprintf (err, sizeof err, "spawn: claim %s was made for another launcher's worm", claim_id);
        s_spawn_refused (self, identity, claim, err);
        return;
    }
    const char *program = NULL;
    char **argv = NULL, worm_id[WORM_TOKEN_ID_MAX] = "";
    if (s_guest_command (self, reader, kind, claim, launcher, &program, &argv, worm_id, err,
                         sizeof err)) {
        s_spawn_refused (self, identity, claim, err);
        return;
    }
    //  Check again: the owner may have come back since the claim
    s_evaluate (self, 1);
    if (!self->willing) {
        worm_log ("refused SPAWN for worm \"%s\": host is not willing (%s)", claim->worm,
                  self->reason);
        snprintf (err, sizeof err, "%s refused to spawn worm \"%s\": not willing (%s)",
                  self->config.name, claim->worm, self->reason);
        s_free_strings (argv);
        s_spawn_refused (self, identity, claim, err);
        return;
    }
    s_guest_t *guest = calloc (1, sizeof *guest);
    snprintf (guest->id, sizeof guest->id, "g%llu", (unsigned long long) ++self->guest_seq);
    snprintf (guest->worm_key, sizeof guest->worm_key, "%s", worm_public);
    snprintf (guest->launcher, sizeof guest->launcher, "%s", launcher);
    snprintf (guest->program, sizeof guest->program, "%s", program);
    snprintf (guest->worm, sizeof guest->worm, "%s", claim->worm);
    snprintf (guest->worm_id, sizeof guest->worm_id, "%s", worm_id);
    snprintf (guest->workdir, sizeof guest->workdir, "%s/%s-%s", self->guests_dir, guest->id,
              claim->worm);
    err[0] = 0;
    char **envp = s_guest_env (self, guest, env, reader, err, sizeof err);
    if (!envp) {
        s_free_strings (argv);
        free (guest);
        s_spawn_refused (self, identity, claim, err);
        return;
    }
    //  Failures from here on are the host's own
    char path[PATH_MAX + 80];
    snprintf (path, sizeof path, "%s/%s", self->config.programs_dir, program);
    char log_path[PATH_MAX + 16];
    snprintf (log_path, sizeof log_path, "%s/guest.log", guest->workdir);
    pid_t pid = -1;
    const worm_user_t *user = self->config.guest_user_other ? &self->config.guest_user : NULL;
    if (access (path, X_OK))
        snprintf (err, sizeof err, "no guest program %s: %s", path, strerror (errno));
    else if (worm_private_dir (guest->workdir, user))
        snprintf (err, sizeof err, "cannot create %s: %s", guest->workdir, strerror (errno));
    else {
        worm_spawn_spec_t spec = {.path = path,
                                  .argv = argv,
                                  .envp = envp,
                                  .workdir = guest->workdir,
                                  .log_path = log_path,
                                  .nice = 19,
                                  .sched_idle = true,
                                  .umask = 077,
                                  .user = user,
                                  .no_new_privs = true,
                                  .mem_bytes = self->config.guest_memory,
                                  .max_files = self->config.guest_files,
                                  .max_procs = self->config.guest_procs,
                                  .stdin_text = worm_secret[0] ? worm_secret : NULL,
                                  .parent_death_signal = SIGKILL};
        pid = worm_spawn (&spec, err, sizeof err);
    }
    s_free_strings (argv);
    s_free_strings (envp);
    if (pid < 0) {
        worm_log ("spawn of %s for worm %s failed: %s", program, claim->worm, err);
        worm_rmtree (guest->workdir);
        free (guest);
        char reply[600];
        snprintf (reply, sizeof reply, "%s cannot spawn: %s", self->config.name, err);
        s_spawn_refused (self, identity, claim, reply);
        s_spawn_failed (self, err);
        return;
    }
    self->spawn_failures = 0;
    self->spawn_retry_ms = 0;
    guest->pid = pid;
    guest->started_wall_ms = worm_wall_ms ();
    zlist_append (self->guests, guest);
    s_save_guests (self);
    zlist_remove (self->claims, claim);
    free (claim);
    worm_log ("spawned guest %s: %s for worm %s, pid %d", guest->id, program, guest->worm,
              (int) pid);
    if (s_evaluate (self, 0))
        s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);

    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 3);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kstr (&writer, "guest", guest->id);
    worm_wire_ku64 (&writer, "pid", (uint64_t) pid);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

static s_guest_t *
s_find_guest (worm_agent_t *self, const char *id)
{
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (strcmp (guest->id, id) == 0)
            return guest;
    return NULL;
}

//  A segment we started says who it is and where it listens.
static void
s_op_segment (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char guest_id[32], segment_id[64], worm_id[64], endpoint[128];
    if (worm_wire_get_str (reader, reader->root, "guest", guest_id, sizeof guest_id)
        || worm_wire_get_str (reader, reader->root, "id", segment_id, sizeof segment_id)
        || worm_wire_get_str (reader, reader->root, "worm_id", worm_id, sizeof worm_id)
        || worm_wire_get_str (reader, reader->root, "endpoint", endpoint, sizeof endpoint)) {
        worm_ctl_reply_error (self->router, identity, "segment: %s", reader->error);
        return;
    }
    //  A guest registers itself, never another
    s_guest_t *guest = s_find_guest (self, guest_id);
    if (!guest || guest != s_guest_by_key (self, self->sender)) {
        worm_ctl_reply_error (self->router, identity, "segment: no guest %s here with key %s",
                              guest_id, self->sender);
        return;
    }
    if (guest->worm_id[0] && !streq (guest->worm_id, worm_id)) {
        worm_ctl_reply_error (self->router, identity,
                              "segment: guest %s was started for worm id %s, not %s", guest_id,
                              guest->worm_id, worm_id);
        return;
    }
    if (strncmp (endpoint, "tcp://", 6) != 0) {
        worm_ctl_reply_error (self->router, identity, "segment: endpoint is not tcp://");
        return;
    }
    snprintf (guest->segment_id, sizeof guest->segment_id, "%s", segment_id);
    snprintf (guest->worm_id, sizeof guest->worm_id, "%s", worm_id);
    snprintf (guest->endpoint, sizeof guest->endpoint, "%s", endpoint);
    worm_log ("guest %s is segment %s of worm %s at %s", guest->id, segment_id, guest->worm,
              endpoint);
    worm_ctl_reply_ok (self->router, identity);
}

//  The local segments of one worm, or of every worm when none is named.
static void
s_op_find (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char worm[65] = "";
    if (worm_wire_get_str (reader, reader->root, "worm", worm, sizeof worm) == -1) {
        worm_ctl_reply_error (self->router, identity, "find: %s", reader->error);
        return;
    }
    size_t count = 0;
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (guest->segment_id[0] && (!worm[0] || strcmp (guest->worm, worm) == 0))
            count++;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_str (&writer, "segments");
    worm_wire_array (&writer, count);
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (guest->segment_id[0] && (!worm[0] || strcmp (guest->worm, worm) == 0)) {
            worm_wire_map (&writer, 9);
            worm_wire_kstr (&writer, "worm", guest->worm);
            worm_wire_kstr (&writer, "key", guest->worm_key);
            worm_wire_kstr (&writer, "worm_id", guest->worm_id);
            worm_wire_kstr (&writer, "id", guest->segment_id);
            worm_wire_kstr (&writer, "guest", guest->id);
            worm_wire_ku64 (&writer, "pid", (uint64_t) guest->pid);
            worm_wire_kstr (&writer, "host", self->config.name);
            worm_wire_kstr (&writer, "endpoint", guest->endpoint);
            worm_wire_kbool (&writer, "evicting", guest->stopping);
        }
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

static void
s_op_evictions (worm_agent_t *self, zframe_t *identity)
{
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_str (&writer, "evictions");
    worm_wire_array (&writer, zlist_size (self->receipts));
    for (s_receipt_t *receipt = zlist_first (self->receipts); receipt;
         receipt = zlist_next (self->receipts)) {
        worm_wire_map (&writer, 9);
        worm_wire_ki64 (&writer, "at", receipt->at_wall_ms);
        worm_wire_kstr (&writer, "guest", receipt->guest);
        worm_wire_kstr (&writer, "worm", receipt->worm);
        worm_wire_kstr (&writer, "segment", receipt->segment);
        worm_wire_kstr (&writer, "reason", receipt->reason);
        worm_wire_ki64 (&writer, "released_ms", receipt->released_ms);
        worm_wire_kstr (&writer, "signals", receipt->killed ? "SIGTERM,SIGKILL" : "SIGTERM");
        worm_wire_ku64 (&writer, "leftover_processes", (uint64_t) receipt->leftover_processes);
        worm_wire_kbool (&writer, "leftover_files", receipt->leftover_files);
    }
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  Whether a process is one of our running guests (a ring confirming a death).
static void
s_op_alive (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    uint64_t pid;
    if (worm_wire_get_u64 (reader, reader->root, "pid", &pid)) {
        worm_ctl_reply_error (self->router, identity, "alive: %s", reader->error);
        return;
    }
    s_reap (self);
    bool alive = false;
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if ((uint64_t) guest->pid == pid)
            alive = true;
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kbool (&writer, "alive", alive);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  Whether a local guest belongs to the worm a kill names: by name, and by
//  id when the kill gives one.
static bool
s_kill_matches (const s_guest_t *guest, const char *worm, const char *worm_id)
{
    return streq (guest->worm, worm) && (!worm_id[0] || streq (guest->worm_id, worm_id));
}

//  Kills a worm's local segments (SIGTERM, the grace period, SIGKILL of the
//  tree) and refuses to start it again for a while. Only the worm's
//  launcher may, or this host's owner: a kill that would touch a segment of
//  someone else's worm is refused whole. What is remembered is the worm's
//  id, and it bars only the killer's own worms unless the owner killed it.
static void
s_op_kill (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char worm[65], worm_id[WORM_TOKEN_ID_MAX] = "";
    if (worm_wire_get_str (reader, reader->root, "worm", worm, sizeof worm)
        || !worm_name_valid (worm)
        || worm_wire_get_str (reader, reader->root, "worm_id", worm_id, sizeof worm_id) == -1
        || (worm_id[0] && !worm_name_valid (worm_id))) {
        worm_ctl_reply_error (self->router, identity, "kill: %s",
                       reader->error[0] ? reader->error : "worm name or id is not valid");
        return;
    }
    bool owner = (self->roles & WORM_ROLE_OWNER) != 0;
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (!owner && s_kill_matches (guest, worm, worm_id)
            && !streq (guest->launcher, self->sender)) {
            worm_log ("refused KILL of worm %s from key %s: not its launcher (%s) nor the owner",
                      worm, self->sender, guest->launcher);
            worm_ctl_reply_error (self->router, identity,
                           "%s refused to kill worm \"%s\": key %s neither launched it nor "
                           "owns this host", self->config.name, worm, self->sender);
            return;
        }
    s_bury (self, worm_id, self->sender, owner);
    char reason[160];
    snprintf (reason, sizeof reason, "worm killed by %s %.12s…", owner ? "the owner" : "its launcher",
              self->sender);
    uint64_t killed = 0;
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (s_kill_matches (guest, worm, worm_id)) {
            s_bury (self, guest->worm_id, self->sender, owner);
            s_stop_guest (self, guest, false, reason);
            killed++;
        }
    s_claim_t *claim = zlist_first (self->claims);
    while (claim) {
        s_claim_t *next = zlist_next (self->claims);
        if (streq (claim->worm, worm) && (owner || streq (claim->launcher, self->sender))) {
            zlist_remove (self->claims, claim);
            free (claim);
        }
        claim = next;
    }
    worm_log ("killed worm %s%s%s: %llu local segment(s) stopping; refusing it for %d s", worm,
              worm_id[0] ? " id " : "", worm_id, (unsigned long long) killed,
              WORM_KILL_MEMORY_MS / 1000);
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map (&writer, 2);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_ku64 (&writer, "killed", killed);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

//  --------------------------------------------------------------------------
//  Relay: a guest's request to another host, made with the host's key

#define RELAY_TIMEOUT_MS 1500

//  The relay thread: [identity, endpoint, key, request] in, [identity, reply]
//  out. One request at a time; the reactor never waits on another host.
static void
s_relay_actor (zsock_t *pipe, void *arg)
{
    (void) arg;
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            continue;
        if (zmsg_size (msg) != 4) {
            zmsg_destroy (&msg);
            break;          //  $TERM
        }
        zframe_t *identity = zmsg_pop (msg);
        char *endpoint = zmsg_popstr (msg);
        char *key = zmsg_popstr (msg);
        zframe_t *request = zmsg_pop (msg);
        char err[512];
        int rc;
        zframe_t *reply = worm_ctl_exchange (endpoint, key, zframe_data (request),
                                             zframe_size (request), RELAY_TIMEOUT_MS, &rc, err,
                                             sizeof err);
        if (!reply)
            reply = worm_ctl_error_frame (err);
        zmsg_t *out = zmsg_new ();
        zmsg_append (out, &identity);
        zmsg_append (out, &reply);
        zmsg_send (&out, pipe);
        zstr_free (&endpoint);
        zstr_free (&key);
        zframe_destroy (&request);
        zmsg_destroy (&msg);
    }
}

static int
s_on_relayed (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void) loop;
    worm_agent_t *self = (worm_agent_t *) arg;
    zmsg_t *msg = zmsg_recv (pipe);
    if (msg && zmsg_size (msg) == 2)
        zmsg_send (&msg, self->router);
    zmsg_destroy (&msg);
    return 0;
}

//  A guest asks us to pass a request to another host's agent, vouching
//  for it: the other host trusts our key, and learns whose worm it is.
static void
s_op_relay (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    s_guest_t *guest = s_guest_by_key (self, self->sender);
    char to[128], key[WORM_KEY_LEN + 1], op[32];
    const msgpack_object *inner = NULL;
    if (worm_wire_get_str (reader, reader->root, "to", to, sizeof to)
        || worm_wire_get_str (reader, reader->root, "key", key, sizeof key)
        || worm_wire_get_map (reader, reader->root, "request", &inner)
        || worm_wire_get_str (reader, inner, "op", op, sizeof op)) {
        worm_ctl_reply_error (self->router, identity, "relay: %s", reader->error);
        return;
    }
    if (!guest) {
        worm_ctl_reply_error (self->router, identity, "relay: only a guest segment may ask for a relay");
        return;
    }
    if (!streq (op, "claim") && !streq (op, "spawn") && !streq (op, "release")
        && !streq (op, "alive")) {
        worm_ctl_reply_error (self->router, identity, "relay: op '%s' is not relayed", op);
        return;
    }
    if (strncmp (to, "tcp://", 6) != 0 || !s_key_trusted (self, key)) {
        //  A forged beacon can name any key: we only talk to hosts we trust
        worm_log_limited (&self->bad_request, 5000,
                          "refused to relay %s for worm %s to %s: host key %s is not authorized",
                          op, guest->worm, to, key);
        worm_ctl_reply_error (self->router, identity, "relay: host key %s at %s is not authorized", key, to);
        return;
    }
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    //  The request as it came, less any launcher the guest named (the request
    //  check let no key appear twice): we name the launcher of a claim or a
    //  spawn ourselves, and the other host believes it because we are a host
    bool vouch = streq (op, "spawn") || streq (op, "claim");
    const msgpack_object *named = worm_wire_field (inner, "launcher");
    worm_wire_map (&writer, inner->via.map.size - (named != NULL) + vouch);
    for (uint32_t i = 0; i < inner->via.map.size; i++)
        if (&inner->via.map.ptr[i].val != named) {
            msgpack_pack_object (&writer.pk, inner->via.map.ptr[i].key);
            msgpack_pack_object (&writer.pk, inner->via.map.ptr[i].val);
        }
    if (vouch)
        worm_wire_kstr (&writer, "launcher", guest->launcher);
    zmsg_t *job = zmsg_new ();
    zframe_t *copy = zframe_dup (identity);
    zmsg_append (job, &copy);
    zmsg_addstr (job, to);
    zmsg_addstr (job, key);
    zmsg_addmem (job, worm_wire_writer_data (&writer), worm_wire_writer_size (&writer));
    zmsg_send (&job, self->relay);
    worm_wire_writer_fini (&writer);
}

static int
s_on_request (zloop_t *loop, zsock_t *router, void *arg)
{
    (void) loop;
    worm_agent_t *self = (worm_agent_t *) arg;
    zmsg_t *msg = zmsg_recv (router);
    if (!msg)
        return 0;
    zframe_t *identity = zmsg_pop (msg);
    zframe_t *payload = zmsg_pop (msg);
    if (!identity || !payload || zmsg_size (msg) != 0) {
        worm_log_limited (&self->bad_request, 5000, "dropped a control message of %zu frames",
                          zmsg_size (msg) + (identity != NULL) + (payload != NULL));
        if (identity && payload)
            worm_ctl_reply_error (self->router, identity, "a request is exactly one frame");
        goto done;
    }
    self->sender = worm_curve_sender (payload);
    self->roles = s_roles (self, self->sender);
    worm_wire_reader_t reader;
    worm_wire_reader_init (&reader);
    char op[32], why[WORM_REQUEST_ERROR_MAX] = "";
    //  Every field's type and size is checked here, before any handler
    if (worm_request_check (zframe_data (payload), zframe_size (payload), &worm_request_agent,
                            &reader, why, sizeof why)
        || worm_wire_get_str (&reader, reader.root, "op", op, sizeof op)) {
        worm_log_limited (&self->bad_request, 5000, "refused a control request: %s", why);
        worm_ctl_reply_error (self->router, identity, "%s", why);
    }
    else if (!worm_request_allowed (&worm_request_agent, op, self->roles)) {
        worm_log_limited (&self->bad_request, 5000, "refused op '%s' from key %s: not allowed",
                          op, self->sender ? self->sender : "(none)");
        worm_ctl_reply_error (self->router, identity,
                              "%s refused op '%s' from key %s: not allowed for it",
                              self->config.name, op, self->sender ? self->sender : "(none)");
    }
    else if (strcmp (op, "status") == 0)
        s_op_status (self, identity);
    else if (strcmp (op, "registry") == 0)
        s_op_registry (self, identity);
    else if (strcmp (op, "policy") == 0)
        s_op_policy (self, identity);
    else if (strcmp (op, "policy-set") == 0)
        s_op_policy_set (self, identity, &reader);
    else if (strcmp (op, "guests") == 0)
        s_op_guests (self, identity);
    else if (strcmp (op, "claim") == 0)
        s_op_claim (self, identity, &reader);
    else if (strcmp (op, "release") == 0)
        s_op_release (self, identity, &reader);
    else if (strcmp (op, "spawn") == 0)
        s_op_spawn (self, identity, &reader);
    else if (strcmp (op, "segment") == 0)
        s_op_segment (self, identity, &reader);
    else if (strcmp (op, "find") == 0)
        s_op_find (self, identity, &reader);
    else if (strcmp (op, "kill") == 0)
        s_op_kill (self, identity, &reader);
    else if (strcmp (op, "alive") == 0)
        s_op_alive (self, identity, &reader);
    else if (strcmp (op, "relay") == 0)
        s_op_relay (self, identity, &reader);
    else if (strcmp (op, "evictions") == 0)
        s_op_evictions (self, identity);
    else {
        worm_log_limited (&self->bad_request, 5000, "refused unknown op '%s'", op);
        worm_ctl_reply_error (self->router, identity, "unknown op '%s'", op);
    }
    worm_wire_reader_fini (&reader);
done:
    self->sender = NULL;
    self->roles = 0;
    zframe_destroy (&identity);
    zframe_destroy (&payload);
    zmsg_destroy (&msg);
    return 0;
}

//  --------------------------------------------------------------------------
//  Discovery

int
worm_agent_answer_delay_ms (double load)
{
    double delay = load * WORM_ANSWER_MS_PER_LOAD;
    if (delay > WORM_ANSWER_MAX_DELAY_MS)
        delay = WORM_ANSWER_MAX_DELAY_MS;
    return delay > 0 ? (int) lround (delay) : 0;
}

static int
s_on_answer_due (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_answer_t *answer = (s_answer_t *) arg;
    worm_agent_t *self = answer->agent;
    if (self->willing)
        s_send_beacon (self, WORM_BEACON_ANSWER, answer->qid, &answer->to);
    zlist_remove (self->answers, answer);
    free (answer);
    return 0;
}

static void
s_on_query (worm_agent_t *self, const worm_beacon_t *query, const struct sockaddr_in *from)
{
    if (query->all) {
        s_send_beacon (self, WORM_BEACON_ANSWER, query->qid, from);
        return;
    }
    if (!self->willing)
        return;
    int delay = worm_agent_answer_delay_ms (self->sample.load);
    if (delay == 0) {
        s_send_beacon (self, WORM_BEACON_ANSWER, query->qid, from);
        return;
    }
    s_answer_t *answer = calloc (1, sizeof *answer);
    answer->agent = self;
    answer->to = *from;
    answer->qid = query->qid;
    zlist_append (self->answers, answer);
    zloop_timer (self->loop, (size_t) delay, 1, s_on_answer_due, answer);
}

//  A host says a segment of worm W died there: our local segments of W hear
//  it at once ("suspect"), and check it with that host themselves.
static void
s_on_death_notice (worm_agent_t *self, const worm_beacon_t *notice)
{
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests)) {
        if (!guest->segment_id[0] || !guest->worm_key[0] || guest->stopping
            || strcmp (guest->worm_id, notice->worm_id) != 0
            || strcmp (guest->segment_id, notice->segment) == 0)
            continue;
        s_tell_guest (guest, "suspect", "id", notice->segment);
    }
}

static int
s_on_datagram (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    worm_agent_t *self = (worm_agent_t *) arg;
    char buf[WORM_BEACON_MAX + 1];
    struct sockaddr_in from;
    ssize_t size;
    while ((size = worm_udp_recv (self->listen_fd, buf, sizeof buf, &from)) >= 0) {
        worm_beacon_t msg;
        char err[WORM_WIRE_ERROR_MAX];
        if (worm_beacon_decode (buf, (size_t) size, &msg, err, sizeof err)) {
            char address[INET_ADDRSTRLEN] = "?";
            inet_ntop (AF_INET, &from.sin_addr, address, sizeof address);
            worm_log_limited (&self->bad_datagram, 5000, "dropped a datagram from %s:%d: %s",
                              address, ntohs (from.sin_port), err);
            continue;
        }
        if (msg.kind == WORM_BEACON_ANNOUNCE) {
            int rc = worm_registry_update (self->registry, &msg.host, worm_now_ms ());
            if (rc == 1)
                worm_log ("heard host %s at %s", msg.host.name, msg.host.endpoint);
            else if (rc < 0)
                worm_log_limited (&self->bad_datagram, 5000, "registry full, ignored host %s",
                                  msg.host.name);
        }
        else if (msg.kind == WORM_BEACON_QUERY)
            s_on_query (self, &msg, &from);
        else if (msg.kind == WORM_BEACON_DEAD)
            s_on_death_notice (self, &msg);
    }
    return 0;
}

static int
s_on_check (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    worm_agent_t *self = (worm_agent_t *) arg;
    s_reap (self);
    s_expire_claims (self);
    s_evaluate (self, 0);
    s_enforce (self);
    s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);
    int64_t now = worm_now_ms ();
    //  Before dropping silent hosts, make sure our own entry is fresh
    worm_hostinfo_t me;
    s_hostinfo (self, &me);
    if (worm_registry_find (self->registry, me.id))
        worm_registry_update (self->registry, &me, now);
    size_t before = worm_registry_size (self->registry);
    if (worm_registry_expire (self->registry, now))
        worm_log ("dropped %zu silent host(s)", before - worm_registry_size (self->registry));
    return 0;
}

static int
s_on_reap (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    worm_agent_t *self = (worm_agent_t *) arg;
    if (s_reap (self) && s_evaluate (self, 0))
        s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);
    int64_t now = worm_now_ms ();
    for (s_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (guest->stopping && !guest->killed && now >= guest->kill_at_ms) {
            char marker[80];
            s_marker (self, guest, marker, sizeof marker);
            int count = worm_proctree_signal (guest->pid, marker, SIGKILL);
            guest->killed = true;
            worm_log ("guest %s ignored SIGTERM for %.1f s: SIGKILL to %d process(es)", guest->id,
                      self->config.policy.grace_s, count);
        }
    return 0;
}

static int
s_on_zap (zloop_t *loop, zsock_t *handler, void *arg)
{
    (void) loop;
    (void) handler;
    worm_agent_t *self = (worm_agent_t *) arg;
    worm_auth_handle (self->auth);
    return 0;
}

//  --------------------------------------------------------------------------
//  Life cycle

worm_agent_t *
worm_agent_new (const worm_config_t *config, worm_lock_t **lock_p, char *err, size_t cap)
{
    worm_agent_t *self = calloc (1, sizeof *self);
    self->config = *config;
    self->lock = *lock_p;
    *lock_p = NULL;
    self->listen_fd = self->send_fd = -1;
    self->guests = zlist_new ();
    self->claims = zlist_new ();
    self->answers = zlist_new ();
    self->receipts = zlist_new ();
    self->killed = zhashx_new ();
    zhashx_set_destructor (self->killed, s_free_item);
    self->registry = worm_registry_new ();
    if (!self->config.programs_dir[0] && worm_exe_dir (self->config.programs_dir,
                                                       sizeof self->config.programs_dir)) {
        snprintf (err, cap, "cannot find the folder of wormd");
        goto fail;
    }
    if (worm_lan_resolve (config->broadcast, config->interface, config->beacon_port, &self->lan,
                          err, cap))
        goto fail;
    //  Orphans of guests come back to us, so no guest process escapes eviction
    if (worm_proctree_subreaper ())
        worm_log ("cannot become a child subreaper: %s", strerror (errno));
    snprintf (self->guests_dir, sizeof self->guests_dir, "%s/guests", config->state_dir);
    if (!self->lock) {
        snprintf (err, cap, "the state folder %s is not locked", config->state_dir);
        goto fail;
    }
    if (s_host_id (self)) {
        snprintf (err, cap, "cannot write in state folder %s: %s", config->state_dir,
                  strerror (errno));
        goto fail;
    }
    //  Leave nothing behind from an agent that died without cleaning up:
    //  its guests' processes first, then their folders
    s_sweep (self);
    worm_rmtree (self->guests_dir);
    if (worm_mkdirs (self->guests_dir, 0700)) {
        snprintf (err, cap, "cannot write in state folder %s: %s", config->state_dir,
                  strerror (errno));
        goto fail;
    }
    s_save_guests (self);
    //  Keys: ours (made on first start), and the folder of authorized ones
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/host.cert", config->state_dir);
    const char *key_file = config->key_file[0] ? config->key_file : path;
    self->cert = worm_keys_load (key_file, err, cap);
    if (!self->cert && access (key_file, F_OK) != 0)
        self->cert = worm_keys_create (key_file, WORM_ROLE_HOST_NAME, false, err, cap);
    if (!self->cert)
        goto fail;
    worm_ctl_set_identity (self->cert);
    snprintf (path, sizeof path, "%s/authorized", config->state_dir);
    self->authorized = worm_keyset_new (config->authorized_dir[0] ? config->authorized_dir : path);
    if (config->owners_dir[0])
        self->owners = worm_keyset_new (config->owners_dir);
    //  The ZAP handler must be in place before the CURVE socket binds
    self->auth = worm_auth_new (s_auth_rule, self, err, cap);
    if (!self->auth)
        goto fail;
    self->relay = zactor_new (s_relay_actor, NULL);
    if (s_guests_prepare (self, err, cap))
        goto fail;
    self->router = zsock_new (ZMQ_ROUTER);
    zsock_set_maxmsgsize (self->router, WORM_CTL_WIRE_MAX);
    zsock_set_linger (self->router, 0);
    worm_curve_server (self->router, self->cert);
    if (worm_ctl_bind (self->router, self->lan.local, self->endpoint, sizeof self->endpoint)) {
        snprintf (err, cap, "cannot bind the control endpoint on %s", self->lan.local);
        goto fail;
    }
    self->listen_fd = worm_udp_listen (&self->lan, err, cap);
    if (self->listen_fd < 0)
        goto fail;
    self->send_fd = worm_udp_open (&self->lan, err, cap);
    if (self->send_fd < 0)
        goto fail;
    char text[160];
    snprintf (text, sizeof text, "%s\n", self->endpoint);
    if (s_write_file (config->state_dir, "endpoint", text)) {
        snprintf (err, cap, "cannot write %s/endpoint", config->state_dir);
        goto fail;
    }
    snprintf (text, sizeof text, "%d\n", (int) getpid ());
    s_write_file (config->state_dir, "wormd.pid", text);
    return self;
fail:
    worm_agent_destroy (&self);
    return NULL;
}

void
worm_agent_destroy (worm_agent_t **self_p)
{
    worm_agent_t *self = *self_p;
    if (!self)
        return;
    s_stop_guests (self);
    s_claim_t *claim;
    while ((claim = zlist_pop (self->claims)))
        free (claim);
    s_answer_t *answer;
    while ((answer = zlist_pop (self->answers)))
        free (answer);
    zlist_destroy (&self->guests);
    zlist_destroy (&self->claims);
    zlist_destroy (&self->answers);
    zhashx_destroy (&self->killed);
    s_receipt_t *receipt;
    while ((receipt = zlist_pop (self->receipts)))
        free (receipt);
    zlist_destroy (&self->receipts);
    worm_registry_destroy (&self->registry);
    zloop_destroy (&self->loop);
    zsock_destroy (&self->router);
    zactor_destroy (&self->relay);
    worm_auth_destroy (&self->auth);
    worm_keyset_destroy (&self->authorized);
    worm_keyset_destroy (&self->owners);
    zcert_destroy (&self->cert);
    if (self->listen_fd >= 0)
        close (self->listen_fd);
    if (self->send_fd >= 0)
        close (self->send_fd);
    if (self->endpoint[0]) {
        s_remove_file (self->config.state_dir, "endpoint");
        s_remove_file (self->config.state_dir, "wormd.pid");
        s_remove_file (self->config.state_dir, GUESTS_RECORD);
        rmdir (self->guests_dir);
    }
    //  Last: the folder is free for another agent only once we are done with it
    worm_lock_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
worm_agent_run (worm_agent_t *self)
{
    self->loop = zloop_new ();
    zloop_reader (self->loop, self->router, s_on_request, self);
    zloop_reader (self->loop, worm_auth_socket (self->auth), s_on_zap, self);
    zloop_reader (self->loop, (zsock_t *) self->relay, s_on_relayed, self);
    zmq_pollitem_t datagrams = {.fd = self->listen_fd, .events = ZMQ_POLLIN};
    zloop_poller (self->loop, &datagrams, s_on_datagram, self);
    self->check_timer = zloop_timer (
        self->loop, (size_t) lround (self->config.policy.check_interval_s * 1000), 0, s_on_check,
        self);
    zloop_timer (self->loop, REAP_INTERVAL_MS, 0, s_on_reap, self);
    worm_log ("serving %s on %s, beacons to %s:%d, state in %s", self->config.name,
              self->endpoint, self->lan.broadcast, self->lan.port, self->config.state_dir);
    s_evaluate (self, 0);
    s_send_beacon (self, WORM_BEACON_ANNOUNCE, 0, NULL);
    zloop_start (self->loop);
    worm_log ("stopping");
    return 0;
}
