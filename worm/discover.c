/*  discover.c — query by broadcast, collect answers. See discover.h. */
#include "discover.h"
#include "ctl.h"
#include "log.h"
#include "random.h"

#include <czmq.h>
#include <poll.h>
#include <unistd.h>

#define MAX_SEEN 1024

int
worm_discover (const worm_lan_t *lan, bool all, int timeout_ms, int quiet_ms,
               worm_discover_fn *fn, void *arg, char *err, size_t cap)
{
    int fd = worm_udp_open (lan, err, cap);
    if (fd < 0)
        return -1;
    worm_beacon_t query = {.kind = WORM_BEACON_QUERY, .all = all};
    //  A random query id, so stale answers to an earlier query are ignored
    query.qid = worm_random_u64 ();
    worm_wire_writer_t writer;
    worm_wire_writer_init (&writer);
    worm_beacon_encode (&query, &writer);
    int sent = worm_udp_broadcast (fd, lan, worm_wire_writer_data (&writer),
                                   worm_wire_writer_size (&writer));
    worm_wire_writer_fini (&writer);
    if (sent) {
        snprintf (err, cap, "cannot send a query to %s:%d", lan->broadcast, lan->port);
        close (fd);
        return -1;
    }
    //  Hosts already reported (the segment's spawner thread calls this too: no statics)
    char (*seen)[WORM_HOST_ID_LEN + 1] = calloc (MAX_SEEN, sizeof *seen);
    int found = 0;
    int64_t deadline = worm_now_ms () + timeout_ms;
    int64_t quiet_until = 0;
    bool stop = false;
    while (!stop) {
        int64_t now = worm_now_ms ();
        int64_t until = deadline;
        if (quiet_ms && quiet_until && quiet_until < until)
            until = quiet_until;
        if (now >= until)
            break;
        //  In short slices: a signal caught by another thread does not
        //  wake this poll
        if (zsys_interrupted) {
            snprintf (err, cap, "interrupted");
            found = -1;
            break;
        }
        int slice = until - now < WORM_CTL_SLICE_MS ? (int) (until - now) : WORM_CTL_SLICE_MS;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll (&pfd, 1, slice) <= 0)
            continue;
        char buf[WORM_BEACON_MAX + 1];
        struct sockaddr_in from;
        ssize_t size;
        while (!stop && (size = worm_udp_recv (fd, buf, sizeof buf, &from)) >= 0) {
            worm_beacon_t answer;
            char why[WORM_WIRE_ERROR_MAX];
            if (worm_beacon_decode (buf, (size_t) size, &answer, why, sizeof why)
                || answer.kind != WORM_BEACON_ANSWER || answer.qid != query.qid)
                continue;
            bool dup = false;
            for (int i = 0; i < found && i < MAX_SEEN; i++)
                if (strcmp (seen[i], answer.host.id) == 0)
                    dup = true;
            if (dup)
                continue;
            if (found < MAX_SEEN)
                snprintf (seen[found], sizeof seen[found], "%s", answer.host.id);
            found++;
            quiet_until = worm_now_ms () + quiet_ms;
            if (fn (arg, &answer.host))
                stop = true;
        }
    }
    free (seen);
    close (fd);
    return found;
}
