/*  claims.c — the agent's claims and its memory of killed worms.

    A claim reserves one slot for one worm for WORM_CLAIM_TTL_MS: it is
    taken (the claim op), given back (release), turned into a guest (spawn,
    guest_spawn.c) or forgotten when its time is up. A kill stops a worm's
    local segments and leaves a tombstone by worm id, so that the worm is
    not started here again for WORM_KILL_MEMORY_MS. See agent_internal.h and
    docs/PROTOCOL.md ("Control": claim, release, kill).
*/
#include "agent_internal.h"
#include "ctl.h"
#include "random.h"

//  --------------------------------------------------------------------------
//  Claims

void
worm_claims_expire (worm_agent_t *self)
{
    int64_t now = worm_now_ms ();
    worm_claim_t *claim = zlist_first (self->claims);
    while (claim) {
        worm_claim_t *next = zlist_next (self->claims);
        if (claim->expires_ms <= now) {
            worm_log ("claim %s for worm %s expired unused", claim->id, claim->worm);
            worm_claims_drop (self, claim);
        }
        claim = next;
    }
}

worm_claim_t *
worm_claims_find (worm_agent_t *self, const char *id)
{
    for (worm_claim_t *claim = zlist_first (self->claims); claim; claim = zlist_next (self->claims))
        if (strcmp (claim->id, id) == 0)
            return claim;
    return NULL;
}

void
worm_claims_drop (worm_agent_t *self, worm_claim_t *claim)
{
    zlist_remove (self->claims, claim);
    free (claim);
}

void
worm_claims_drop_all (worm_agent_t *self)
{
    worm_claim_t *claim;
    while ((claim = zlist_pop (self->claims)))
        free (claim);
}

//  Whether worm already has a segment here (one that is not on its way
//  out) or a slot claimed for it.
static bool
s_worm_present (worm_agent_t *self, const char *worm)
{
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (!guest->stopping && strcmp (guest->worm, worm) == 0)
            return true;
    for (worm_claim_t *claim = zlist_first (self->claims); claim; claim = zlist_next (self->claims))
        if (strcmp (claim->worm, worm) == 0)
            return true;
    return false;
}

void
worm_agent_op_claim (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char worm[WORM_AGENT_NAME_MAX + 1], worm_id[WORM_TOKEN_ID_MAX] = "",
        launcher[WORM_KEY_LEN + 1], err[512];
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
    if (worm_agent_launcher (self, reader, "CLAIM", launcher, err, sizeof err)) {
        worm_agent_refuse (self, identity, "claim", worm, "%s", err);
        return;
    }
    worm_claims_expire (self);
    worm_agent_reconsider (self);
    if (!self->willing) {
        worm_log ("refused CLAIM for worm \"%s\": host is not willing (%s)", worm, self->reason);
        worm_agent_refuse (self, identity, "claim", worm,
                           "%s refused the claim for worm \"%s\": not willing (%s)",
                           self->config.name, worm, self->reason);
        return;
    }
    if (worm_claims_killed (self, worm_id, launcher)) {
        worm_log ("refused CLAIM for worm \"%s\" (id %s): it was killed", worm, worm_id);
        worm_agent_refuse (self, identity, "claim", worm,
                           "%s refused the claim: worm \"%s\" (id %s) was killed",
                           self->config.name, worm, worm_id);
        return;
    }
    if (s_worm_present (self, worm)) {
        worm_log ("refused CLAIM for worm \"%s\": it already has a segment here", worm);
        worm_agent_refuse (self, identity, "claim", worm,
                           "%s refused the claim: worm \"%s\" already has a segment here",
                           self->config.name, worm);
        return;
    }
    worm_claim_t *claim = calloc (1, sizeof *claim);
    worm_random_hex (claim->id, WORM_HOST_ID_LEN);
    snprintf (claim->worm, sizeof claim->worm, "%s", worm);
    snprintf (claim->launcher, sizeof claim->launcher, "%s", launcher);
    claim->expires_ms = worm_now_ms () + WORM_CLAIM_TTL_MS;
    zlist_append (self->claims, claim);
    worm_log ("granted claim %s for worm %s (%d/%d slots)", claim->id, worm, worm_agent_slots_used (self),
              self->config.policy.max_segments);
    worm_agent_reconsider (self);
    worm_wire_writer_t *event = worm_agent_event (self, "claim");
    worm_wire_kstr (event, "claim", claim->id);
    worm_wire_kstr (event, "worm", worm);
    if (worm_id[0])
        worm_wire_kstr (event, "worm_id", worm_id);
    worm_wire_kstr (event, "key", self->sender ? self->sender : "");
    if (!streq (launcher, self->sender ? self->sender : ""))
        worm_wire_kstr (event, "launcher", launcher);
    worm_events_commit (self->events);

    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_kstr (&writer, "claim", claim->id);
    worm_wire_ku64 (&writer, "ttl_ms", WORM_CLAIM_TTL_MS);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}

void
worm_agent_op_release (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char id[WORM_HOST_ID_LEN + 1];
    worm_claim_t *claim = NULL;
    if (worm_wire_get_str (reader, reader->root, "claim", id, sizeof id) == 0)
        claim = worm_claims_find (self, id);
    if (!claim) {
        worm_ctl_reply_error (self->router, identity, "release: no such claim");
        return;
    }
    worm_claims_drop (self, claim);
    worm_ctl_reply_ok (self->router, identity);
}

//  --------------------------------------------------------------------------
//  Killed worms

//  Forgets expired tombstones as it meets them.
bool
worm_claims_killed (worm_agent_t *self, const char *worm_id, const char *launcher)
{
    worm_tomb_t *tomb = worm_id && worm_id[0] ? zhashx_lookup (self->killed, worm_id) : NULL;
    if (tomb && tomb->forget_ms <= worm_now_ms ()) {
        zhashx_delete (self->killed, worm_id);
        return false;
    }
    return tomb && (tomb->by_owner || streq (tomb->killer, launcher));
}

//  Remembers that killer killed worm_id (WORM_KILL_MEMORY_MS). When the
//  memory is full, the expired are forgotten; if none has, the newest kill
//  is not remembered (and logged): a flood of kills cannot push out others.
static void
s_bury (worm_agent_t *self, const char *worm_id, const char *killer, bool by_owner)
{
    if (!worm_id[0])
        return;
    if (zhashx_size (self->killed) >= WORM_AGENT_MAX_TOMBSTONES && !zhashx_lookup (self->killed, worm_id)) {
        int64_t now = worm_now_ms ();
        zlistx_t *ids = zhashx_keys (self->killed);
        for (const char *id = zlistx_first (ids); id; id = zlistx_next (ids)) {
            worm_tomb_t *tomb = (worm_tomb_t *) zhashx_lookup (self->killed, id);
            if (tomb && tomb->forget_ms <= now)
                zhashx_delete (self->killed, id);
        }
        zlistx_destroy (&ids);
        if (zhashx_size (self->killed) >= WORM_AGENT_MAX_TOMBSTONES) {
            worm_log ("killed worm %s is not remembered: %d kills already are", worm_id,
                      WORM_AGENT_MAX_TOMBSTONES);
            return;
        }
    }
    worm_tomb_t *tomb = calloc (1, sizeof *tomb);
    tomb->forget_ms = worm_now_ms () + WORM_KILL_MEMORY_MS;
    snprintf (tomb->killer, sizeof tomb->killer, "%s", killer);
    tomb->by_owner = by_owner;
    zhashx_update (self->killed, worm_id, tomb);
}

//  Whether a local guest belongs to the worm a kill names: by name, and by
//  id when the kill gives one.
static bool
s_kill_matches (const worm_guest_t *guest, const char *worm, const char *worm_id)
{
    return streq (guest->worm, worm) && (!worm_id[0] || streq (guest->worm_id, worm_id));
}

//  Kills a worm's local segments (SIGTERM, the grace period, SIGKILL of the
//  tree) and refuses to start it again for a while. Only the worm's
//  launcher may, or this host's owner: a kill that would touch a segment of
//  someone else's worm is refused whole. What is remembered is the worm's
//  id, and it bars only the killer's own worms unless the owner killed it.
void
worm_agent_op_kill (worm_agent_t *self, zframe_t *identity, worm_wire_reader_t *reader)
{
    char worm[WORM_AGENT_NAME_MAX + 1], worm_id[WORM_TOKEN_ID_MAX] = "";
    if (worm_wire_get_str (reader, reader->root, "worm", worm, sizeof worm)
        || !worm_name_valid (worm)
        || worm_wire_get_str (reader, reader->root, "worm_id", worm_id, sizeof worm_id) == -1
        || (worm_id[0] && !worm_name_valid (worm_id))) {
        worm_ctl_reply_error (self->router, identity, "kill: %s",
                       reader->error[0] ? reader->error : "worm name or id is not valid");
        return;
    }
    bool owner = (self->roles & WORM_ROLE_OWNER) != 0;
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (!owner && s_kill_matches (guest, worm, worm_id)
            && !streq (guest->launcher, self->sender)) {
            worm_log ("refused KILL of worm %s from key %s: not its launcher (%s) nor the owner",
                      worm, self->sender, guest->launcher);
            worm_agent_refuse (self, identity, "kill", worm,
                               "%s refused to kill worm \"%s\": key %s neither launched it "
                               "nor owns this host", self->config.name, worm, self->sender);
            return;
        }
    s_bury (self, worm_id, self->sender, owner);
    char reason[160];
    snprintf (reason, sizeof reason, "worm killed by %s %.12s…", owner ? "the owner" : "its launcher",
              self->sender);
    uint64_t killed = 0;
    for (worm_guest_t *guest = zlist_first (self->guests); guest; guest = zlist_next (self->guests))
        if (s_kill_matches (guest, worm, worm_id)) {
            s_bury (self, guest->worm_id, self->sender, owner);
            worm_guests_stop (self, guest, false, reason);
            if (guest->kill_at_ms > guest->evict_started_ms + WORM_KILL_GRACE_MS)
                guest->kill_at_ms = guest->evict_started_ms + WORM_KILL_GRACE_MS;
            killed++;
        }
    worm_claim_t *claim = zlist_first (self->claims);
    while (claim) {
        worm_claim_t *next = zlist_next (self->claims);
        if (streq (claim->worm, worm) && (owner || streq (claim->launcher, self->sender))) {
            worm_claims_drop (self, claim);
        }
        claim = next;
    }
    worm_log ("killed worm %s%s%s: %llu local segment(s) stopping; refusing it for %d s", worm,
              worm_id[0] ? " id " : "", worm_id, (unsigned long long) killed,
              WORM_KILL_MEMORY_MS / 1000);
    worm_wire_writer_t *event = worm_agent_event (self, "kill");
    worm_wire_kstr (event, "worm", worm);
    if (worm_id[0])
        worm_wire_kstr (event, "worm_id", worm_id);
    worm_wire_kstr (event, "key", self->sender ? self->sender : "");
    worm_wire_kbool (event, "by_owner", owner);
    worm_wire_ku64 (event, "killed", killed);
    worm_events_commit (self->events);
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_wire_map_open (&writer);
    worm_wire_kbool (&writer, "ok", true);
    worm_wire_ku64 (&writer, "killed", killed);
    worm_wire_map_close (&writer);
    worm_ctl_reply (self->router, identity, &writer);
    worm_wire_writer_fini (&writer);
}
