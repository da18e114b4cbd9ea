/*  watch.c — one worm's segments polled again and again (see watch.h). */
#include "watch.h"
#include "ctl.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>

#define S_FIND_EVERY_MS 1000    //  the agents asked for the worm's segments this often
#define S_SLICE_MS 50           //  waits are cut in slices this long (interruptions)

//  The search for the worm's segments, in a thread of its own
typedef struct {
    wormctl_client_t *client;
    const char *name;
    pthread_mutex_t lock;
    wormctl_segments_t *found;  //  the latest search's result not yet taken, or NULL
    bool failed;                //  a search failed ...
    char err[512];              //  ... and why
    atomic_bool stop;
} s_finder_t;

static void *
s_finder_run (void *arg)
{
    s_finder_t *finder = (s_finder_t *) arg;
    while (!atomic_load (&finder->stop) && !zsys_interrupted) {
        wormctl_segments_t *found = calloc (1, sizeof *found);
        char err[512];
        int rc = wormctl_find_segments (finder->client, finder->name, false, found, NULL, err,
                                        sizeof err);
        pthread_mutex_lock (&finder->lock);
        if (rc == 0) {
            free (finder->found);
            finder->found = found;
            found = NULL;
        }
        else {
            finder->failed = true;
            snprintf (finder->err, sizeof finder->err, "%s", err);
        }
        pthread_mutex_unlock (&finder->lock);
        free (found);
        for (int slept = 0;
             slept < S_FIND_EVERY_MS && !atomic_load (&finder->stop) && !zsys_interrupted;
             slept += S_SLICE_MS)
            zclock_sleep (S_SLICE_MS);
    }
    return NULL;
}

//  One segment polled: its connection, and whether a request is in flight
typedef struct {
    wormctl_segment_t segment;  //  as found, with its last answer
    zsock_t *dealer;            //  NULL when it could not be connected
    bool waiting;               //  a request in flight
    bool seen;                  //  in the latest search
} s_peer_t;

typedef struct {
    s_peer_t *peers;
    int count;
} s_peers_t;

//  Takes a search's result: new segments are connected to, those no
//  longer found are let go; the others keep their connection and answer.
static void
s_peers_update (s_peers_t *self, const wormctl_segments_t *found)
{
    for (int p = 0; p < self->count; p++)
        self->peers[p].seen = false;
    for (int i = 0; i < found->count; i++) {
        const wormctl_segment_t *item = &found->items[i];
        s_peer_t *peer = NULL;
        for (int p = 0; p < self->count && !peer; p++)
            if (strcmp (self->peers[p].segment.id, item->id) == 0
                && strcmp (self->peers[p].segment.endpoint, item->endpoint) == 0)
                peer = &self->peers[p];
        if (peer)
            peer->segment.evicting = item->evicting;
        else if (self->count < WORMCTL_MAX_SEGMENTS) {
            peer = &self->peers[self->count++];
            memset (peer, 0, sizeof *peer);
            peer->segment = *item;
            char err[256];
            peer->dealer = worm_ctl_connect (item->endpoint, item->key, err, sizeof err);
        }
        if (peer)
            peer->seen = true;
    }
    int kept = 0;
    for (int p = 0; p < self->count; p++) {
        if (self->peers[p].seen)
            self->peers[kept++] = self->peers[p];
        else
            zsock_destroy (&self->peers[p].dealer);
    }
    self->count = kept;
}

//  One poll: a request to every segment with none in flight, then answers
//  until every request is answered or the poll's time is up. Fills view.
static void
s_poll (s_peers_t *self, const void *request, size_t size, int64_t deadline,
        wormctl_segments_t *view)
{
    zpoller_t *poller = zpoller_new (NULL);
    int waiting = 0;
    for (int p = 0; p < self->count; p++) {
        s_peer_t *peer = &self->peers[p];
        peer->segment.answered = false;
        if (peer->dealer && !peer->waiting && !peer->segment.evicting
            && zsock_send (peer->dealer, "b", request, size) == 0)
            peer->waiting = true;
        if (peer->waiting) {
            zpoller_add (poller, peer->dealer);
            waiting++;
        }
    }
    while (waiting > 0 && !zsys_interrupted) {
        int64_t left = deadline - worm_now_ms ();
        if (left <= 0)
            break;
        zsock_t *ready = (zsock_t *) zpoller_wait (poller, left < S_SLICE_MS ? (int) left
                                                                              : S_SLICE_MS);
        if (!ready)
            continue;
        zframe_t *frame = zframe_recv (ready);
        for (int p = 0; p < self->count; p++) {
            s_peer_t *peer = &self->peers[p];
            if (peer->dealer != ready)
                continue;
            peer->waiting = false;
            zpoller_remove (poller, ready);
            waiting--;
            worm_wire_reader_t reply;
            worm_wire_reader_init (&reply);
            wormctl_segment_t answer = peer->segment;
            if (frame
                && worm_wire_parse (&reply, zframe_data (frame), zframe_size (frame),
                                    WORM_CTL_MAX) == 0
                && wormctl_segment_status_parse (&reply, &answer)) {
                peer->segment = answer;
                peer->segment.answered = true;
            }
            worm_wire_reader_fini (&reply);
        }
        zframe_destroy (&frame);
    }
    zpoller_destroy (&poller);
    view->count = 0;
    for (int p = 0; p < self->count; p++)
        view->items[view->count++] = self->peers[p].segment;
}

int
wormctl_watch (wormctl_client_t *client, const char *name, int interval_ms,
               wormctl_watch_fn *fn, void *arg)
{
    s_finder_t finder = {.client = client, .name = name};
    pthread_mutex_init (&finder.lock, NULL);
    atomic_init (&finder.stop, false);
    pthread_t thread;
    bool threaded = pthread_create (&thread, NULL, s_finder_run, &finder) == 0;
    s_peers_t peers = {.peers = calloc (WORMCTL_MAX_SEGMENTS, sizeof (s_peer_t))};
    wormctl_segments_t *view = calloc (1, sizeof *view);
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "status");
    worm_wire_map_close (&request);
    bool searched = false;
    int rc = 0;
    if (!threaded) {
        fprintf (stderr, "wormctl status: cannot start a thread\n");
        rc = 1;
    }
    while (threaded && !zsys_interrupted) {
        int64_t started = worm_now_ms ();
        pthread_mutex_lock (&finder.lock);
        wormctl_segments_t *found = finder.found;
        finder.found = NULL;
        bool failed = finder.failed && !searched && !found;
        pthread_mutex_unlock (&finder.lock);
        if (failed) {
            //  Not even one search: say why (later ones keep the last list)
            fprintf (stderr, "wormctl status: %s\n", finder.err);
            rc = 1;
            break;
        }
        if (found) {
            s_peers_update (&peers, found);
            searched = true;
            free (found);
        }
        if (searched) {
            s_poll (&peers, worm_wire_writer_data (&request), worm_wire_writer_size (&request),
                    started + interval_ms, view);
            if (zsys_interrupted)
                break;
            fn (arg, view, worm_wall_ms ());
        }
        int64_t left;
        while ((left = started + interval_ms - worm_now_ms ()) > 0 && !zsys_interrupted)
            zclock_sleep (left < S_SLICE_MS ? (int) left : S_SLICE_MS);
    }
    atomic_store (&finder.stop, true);
    if (threaded)
        pthread_join (thread, NULL);
    free (finder.found);
    pthread_mutex_destroy (&finder.lock);
    for (int p = 0; p < peers.count; p++)
        zsock_destroy (&peers.peers[p].dealer);
    free (peers.peers);
    free (view);
    worm_wire_writer_fini (&request);
    return rc;
}
