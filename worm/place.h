/*  place.h — placing a guest on a willing host: the requester's CLAIM then
    SPAWN (docs/PROTOCOL.md, "Control"), shared by wormctl launch and by
    segments that grow their worm.

    Asks "who is willing?", then tries the hosts in the order they answered
    (least loaded first), skipping excluded host ids: claim, then spawn. A
    host that refuses (it turned unwilling, filled up, already has a segment
    of this worm) is passed over for the next.
*/
#ifndef WORM_PLACE_H_INCLUDED
#define WORM_PLACE_H_INCLUDED

#include "beacon.h"
#include "ctl.h"
#include "segspec.h"
#include "udp.h"

#include <sys/types.h>

#define WORM_PLACE_MAX_ARGS 8           //  words a test guest is given
#define WORM_PLACE_CANDIDATES 16        //  willing hosts kept from one query
#define WORM_PLACE_REUSE_MS 1000        //  how long they may serve later placements

/*  The willing hosts one query found, kept for the placements that follow
    soon after (a worm that lost eight members asks for eight at once: one
    query, not eight). A host is dropped once tried, taken or not. */
typedef struct {
    worm_hostinfo_t hosts[WORM_PLACE_CANDIDATES];   //  in answer order
    int count;                                      //  how many are left
    int64_t found_ms;                               //  when the query was made
} worm_place_found_t;

typedef struct {
    const char *worm;                       //  worm name the slot is claimed for
    const worm_segspec_t *segment;          //  the segment to start (its worm id is
                                            //  also the claim's), or NULL for:
    const char *test_args[WORM_PLACE_MAX_ARGS + 1];  //  a test guest's words,
                                            //  NULL-terminated (agents started
                                            //  with --allow-test-guest only)
    const char *const *exclude;             //  host ids not to use
    size_t n_exclude;                       //  how many
    int timeout_ms;                         //  for discovery and each request
    bool (*cancelled) (void *arg);          //  asked between hosts: give up? (NULL: never)
    void *cancel_arg;                       //  its argument
    const worm_ctl_via_t *via;              //  our agent's relay (segments), or NULL
    const char *worm_public;                //  the worm's keypair for the guest (NULL: none)
    const char *worm_secret;
    worm_keyset_t *trusted;                 //  host keys we place on; NULL: leave the
                                            //  check to the relay (segments)
    worm_place_found_t *found;              //  the hosts an earlier query found, used
                                            //  (and refilled) while under
                                            //  WORM_PLACE_REUSE_MS old; NULL: query each time
} worm_place_t;

/*  Claims a slot for worm (worm_id: its id, NULL for none) on the host at
    endpoint (public key key), through via when not NULL; the claim's id
    goes to claim (WORM_HOST_ID_LEN + 1 bytes). Returns 0; -2 when the host
    refused (err holds its sentence); -1 when it did not answer properly. */
int worm_place_claim (const worm_ctl_via_t *via, const char *endpoint, const char *key,
                      const char *worm, const char *worm_id, int timeout_ms, char *claim,
                      char *err, size_t cap);

/*  Claims a slot on the host at endpoint (public key key) and starts the
    guest there. Returns 0 with the guest's pid; -2 when the host refused
    (err holds its sentence); -1 when it did not answer properly. */
int worm_place_on (const char *endpoint, const char *key, const worm_place_t *spec, pid_t *pid,
                   char *err, size_t cap);

/*  Finds a willing host (in spec->found first, when it is recent) and
    places the guest there. Returns 0 with the host
    and the pid; -1 with the reason in err (no willing host answered, or
    every one refused: the last refusal is quoted; or cancelled). */
int worm_place (const worm_lan_t *lan, const worm_place_t *spec, worm_hostinfo_t *host,
                pid_t *pid, char *err, size_t cap);

#endif
