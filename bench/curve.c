/*  worm-bench-curve — what CurveZMQ costs on the loopback, with and without
    it, on the sockets the project uses (DEALER client, ROUTER server):

    - round trip of a 1 KB message on an open connection (a token hop and
      its ACK ride an open connection);
    - one control call the way worm_ctl_call makes it: new socket, connect,
      handshake (with a ZAP check when CURVE is on), request, reply, close
      (wormctl find asks every host this way).

    Prints median, p95 and p99 in microseconds for each.
    Usage: worm-bench-curve [--count N]   (default 2000 round trips, N/5 calls)
*/
#include "auth.h"
#include "ctl.h"
#include "log.h"
#include "opts.h"

#include <czmq.h>

static zcert_t *s_server_cert;

static bool
s_allow_all (void *arg, const char *key, char *why, size_t cap)
{
    (void) arg, (void) key, (void) why, (void) cap;
    return true;
}

//  The server: a ROUTER that echoes, and the ZAP handler, in one thread.
static void
s_server (zsock_t *pipe, void *arg)
{
    bool curve = *(bool *) arg;
    char err[256];
    worm_auth_t *auth = curve ? worm_auth_new (s_allow_all, NULL, err, sizeof err) : NULL;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    if (curve)
        worm_curve_server (router, s_server_cert);
    char endpoint[128] = "";
    worm_ctl_bind (router, "127.0.0.1", endpoint, sizeof endpoint);
    zsock_signal (pipe, 0);
    zstr_send (pipe, endpoint);
    zpoller_t *poller = zpoller_new (pipe, router, auth ? worm_auth_socket (auth) : NULL, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == router) {
            zmsg_t *msg = zmsg_recv (router);
            zmsg_send (&msg, router);
        }
        else if (auth && which == worm_auth_socket (auth))
            worm_auth_handle (auth);
        else
            break;
    }
    zpoller_destroy (&poller);
    zsock_destroy (&router);
    worm_auth_destroy (&auth);
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static void
s_report (const char *what, double *us, int n)
{
    qsort (us, (size_t) n, sizeof *us, s_compare);
    printf ("  %-44s n=%-5d median %7.1f us   p95 %7.1f us   p99 %7.1f us\n", what, n,
            us[n / 2], us[(int) (n * 0.95)], us[(int) (n * 0.99)]);
}

static void
s_measure (bool curve, zcert_t *client_cert, int count)
{
    zactor_t *server = zactor_new (s_server, &curve);
    char *endpoint = zstr_recv (server);
    const char *server_key = zcert_public_txt (s_server_cert);
    printf ("%s:\n", curve ? "CURVE on" : "CURVE off (plain TCP)");
    //  Round trips of 1 KB on one open connection
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (curve)
        worm_curve_client (dealer, client_cert, server_key);
    zsock_connect (dealer, "%s", endpoint);
    char payload[1024];
    memset (payload, 'x', sizeof payload);
    double *us = calloc ((size_t) count, sizeof *us);
    for (int i = -50; i < count; i++) {     //  the first 50 warm up
        int64_t start = zclock_usecs ();
        zmq_send (zsock_resolve (dealer), payload, sizeof payload, 0);
        zmq_recv (zsock_resolve (dealer), payload, sizeof payload, 0);
        if (i >= 0)
            us[i] = (double) (zclock_usecs () - start);
    }
    s_report ("1 KB round trip, open connection", us, count);
    zsock_destroy (&dealer);
    //  Whole control calls: socket, connect, handshake, request, reply
    int calls = count / 5 > 10 ? count / 5 : 10;
    for (int i = 0; i < calls; i++) {
        int64_t start = zclock_usecs ();
        zsock_t *call = zsock_new (ZMQ_DEALER);
        zsock_set_linger (call, 0);
        if (curve)
            worm_curve_client (call, client_cert, server_key);
        zsock_connect (call, "%s", endpoint);
        zmq_send (zsock_resolve (call), "{}", 2, 0);
        char reply[16];
        zmq_recv (zsock_resolve (call), reply, sizeof reply, 0);
        zsock_destroy (&call);
        us[i] = (double) (zclock_usecs () - start);
    }
    s_report ("control call: connect + handshake + reply", us, calls);
    free (us);
    zstr_free (&endpoint);
    zactor_destroy (&server);
}

static int
s_set (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    (void) name;
    return worm_parse_int (value, 10, 1000000, (long *) arg, err, cap);
}

int
main (int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"count", "N", "round trips per setting (default 2000)"},
        {NULL, NULL, NULL},
    };
    long count = 2000;
    char err[256];
    int index = 1;
    if (worm_opts_parse (options, argc, argv, &index, s_set, &count, err,
                         sizeof err)) {
        fprintf (stderr, "worm-bench-curve: %s\n", err);
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    s_server_cert = zcert_new ();
    zcert_t *client_cert = zcert_new ();
    s_measure (false, client_cert, (int) count);
    s_measure (true, client_cert, (int) count);
    zcert_destroy (&client_cert);
    zcert_destroy (&s_server_cert);
    return 0;
}
