/*  udp_test.c — the broadcast medium on the loopback only: a LAN resolved
    from 127.255.255.255, two listeners on one kernel-picked port both hear
    a broadcast, an answer comes back to the sender's own port, and the
    refusals (bad address, unknown interface, a port held without reuse,
    an address not on this machine) say why. Nothing is sent anywhere but
    127.0.0.0/8. */
#include "udp.h"
#include "log.h"
#include <czmq.h>
#include "../tests/check.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

//  Waits (2 s at most) for a datagram on fd and returns its size, or -1.
static ssize_t
s_recv_within (int fd, char *buf, size_t cap, struct sockaddr_in *from)
{
    int64_t deadline = worm_now_ms () + 2000;
    while (worm_now_ms () < deadline) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll (&pfd, 1, (int) (deadline - worm_now_ms ())) > 0)
            return worm_udp_recv (fd, buf, cap, from);
    }
    return -1;
}

//  The port fd is bound to.
static int
s_port_of (int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    CHECK_EQ (getsockname (fd, (struct sockaddr *) &addr, &len), 0);
    return ntohs (addr.sin_port);
}

//  A documentation address (RFC 5737) that no interface here has as its
//  broadcast (broadcast true) or its own address.
static const char *
s_not_here (bool broadcast)
{
    static const char *broadcasts[] = {"198.51.100.255", "203.0.113.255", "192.0.2.255"};
    static const char *addresses[] = {"198.51.100.77", "203.0.113.77", "192.0.2.77"};
    const char **candidates = broadcast ? broadcasts : addresses;
    for (int i = 0; i < 3; i++) {
        bool taken = false;
        ziflist_t *interfaces = ziflist_new ();
        for (const char *name = ziflist_first (interfaces); name;
             name = ziflist_next (interfaces))
            if (strcmp (broadcast ? ziflist_broadcast (interfaces) : ziflist_address (interfaces),
                        candidates[i]) == 0)
                taken = true;
        ziflist_destroy (&interfaces);
        if (!taken)
            return candidates[i];
    }
    CHECK (!"every candidate address is in use here");
    return NULL;
}

int
main (void)
{
    worm_lan_t lan;
    char err[256];

    //  Resolving: the loopback broadcast pairs with 127.0.0.1, whatever the
    //  rest of 127/8
    int port = worm_udp_free_port ();
    CHECK (port > 0 && port < 65536);
    CHECK_EQ (worm_lan_resolve ("127.255.255.255", NULL, port, &lan, err, sizeof err), 0);
    CHECK_STR (lan.broadcast, "127.255.255.255");
    CHECK_STR (lan.local, "127.0.0.1");
    CHECK_EQ (lan.port, port);
    worm_lan_t other;
    CHECK_EQ (worm_lan_resolve ("127.1.255.255", "", 9, &other, err, sizeof err), 0);
    CHECK_STR (other.broadcast, "127.1.255.255");
    CHECK_STR (other.local, "127.0.0.1");
    //  Refusals (they only read the interface list)
    CHECK_EQ (worm_lan_resolve ("banana", NULL, port, &other, err, sizeof err), -1);
    CHECK_STR (err, "broadcast address 'banana' is not an IPv4 address");
    CHECK_EQ (worm_lan_resolve (NULL, NULL, port, &other, err, sizeof err), -1);
    CHECK_STR (err, "no broadcast address or interface given");
    CHECK_EQ (worm_lan_resolve ("", "", port, &other, err, sizeof err), -1);
    CHECK_STR (err, "no broadcast address or interface given");
    CHECK_EQ (worm_lan_resolve (NULL, "no-such-if0", port, &other, err, sizeof err), -1);
    CHECK_HAS (err, "interface 'no-such-if0' not found or has no IPv4 broadcast address");
    CHECK_HAS (err, "--broadcast 127.255.255.255");
    const char *no_broadcast = s_not_here (true);
    CHECK_EQ (worm_lan_resolve (no_broadcast, NULL, port, &other, err, sizeof err), -1);
    char want[128];
    snprintf (want, sizeof want, "no interface has broadcast address %s", no_broadcast);
    CHECK_STR (err, want);
    //  The machine's first interface with a broadcast address, if any, by
    //  name and by its broadcast address (read, not sent to)
    ziflist_t *interfaces = ziflist_new ();
    const char *name = ziflist_first (interfaces);
    if (name) {
        CHECK_EQ (worm_lan_resolve (NULL, name, 7, &other, err, sizeof err), 0);
        CHECK_STR (other.local, ziflist_address (interfaces));
        CHECK_STR (other.broadcast, ziflist_broadcast (interfaces));
        CHECK_EQ (other.port, 7);
        CHECK_EQ (worm_lan_resolve (ziflist_broadcast (interfaces), NULL, 7, &other, err,
                                    sizeof err), 0);
        CHECK_STR (other.local, ziflist_address (interfaces));
    }
    ziflist_destroy (&interfaces);

    //  Two listeners share the port; a sender gets an ephemeral port of its own
    int one = worm_udp_listen (&lan, err, sizeof err);
    CHECK (one >= 0);
    int two = worm_udp_listen (&lan, err, sizeof err);
    CHECK (two >= 0);
    int sender = worm_udp_open (&lan, err, sizeof err);
    CHECK (sender >= 0);
    int sender_port = s_port_of (sender);
    CHECK (sender_port != port && sender_port > 0);

    //  Nothing there yet: recv does not block
    char buf[2048];
    struct sockaddr_in from;
    int64_t start = worm_now_ms ();
    CHECK_EQ (worm_udp_recv (one, buf, sizeof buf, &from), -1);
    CHECK (worm_now_ms () - start < 500);

    //  A broadcast reaches both listeners, from the sender's address and port
    const char hello[] = "who is willing?";
    CHECK_EQ (worm_udp_broadcast (sender, &lan, hello, sizeof hello), 0);
    int listeners[] = {one, two};
    for (int i = 0; i < 2; i++) {
        memset (buf, 0, sizeof buf);
        CHECK_EQ (s_recv_within (listeners[i], buf, sizeof buf, &from), (ssize_t) sizeof hello);
        CHECK_STR (buf, hello);
        CHECK_STR (inet_ntoa (from.sin_addr), "127.0.0.1");
        CHECK_EQ (ntohs (from.sin_port), sender_port);
    }
    //  Each heard it once
    CHECK_EQ (worm_udp_recv (one, buf, sizeof buf, &from), -1);
    CHECK_EQ (worm_udp_recv (two, buf, sizeof buf, &from), -1);

    //  The answer goes to the querier's address directly, from a replier's
    //  own socket; the listeners do not hear it
    int replier = worm_udp_open (&lan, err, sizeof err);
    CHECK (replier >= 0);
    const char answer[] = "me";
    CHECK_EQ (worm_udp_sendto (replier, &from, answer, sizeof answer), 0);
    struct sockaddr_in back;
    memset (buf, 0, sizeof buf);
    CHECK_EQ (s_recv_within (sender, buf, sizeof buf, &back), (ssize_t) sizeof answer);
    CHECK_STR (buf, answer);
    CHECK_EQ (ntohs (back.sin_port), s_port_of (replier));
    CHECK_EQ (worm_udp_recv (one, buf, sizeof buf, &from), -1);

    //  A datagram larger than UDP allows is not sent
    static char huge[70000];
    CHECK_EQ (worm_udp_broadcast (sender, &lan, huge, sizeof huge), -1);
    CHECK_EQ (worm_udp_recv (one, buf, sizeof buf, &from), -1);

    //  A LAN on another port hears nothing of ours
    int other_port = worm_udp_free_port ();
    CHECK (other_port > 0);
    worm_lan_t elsewhere = lan;
    elsewhere.port = other_port;
    if (other_port != port) {
        int three = worm_udp_listen (&elsewhere, err, sizeof err);
        CHECK (three >= 0);
        CHECK_EQ (worm_udp_broadcast (sender, &lan, hello, sizeof hello), 0);
        CHECK (s_recv_within (one, buf, sizeof buf, &from) > 0);
        CHECK_EQ (worm_udp_recv (three, buf, sizeof buf, &from), -1);
        close (three);
    }

    //  A socket that holds the port without SO_REUSEPORT keeps listeners out
    int plain = socket (AF_INET, SOCK_DGRAM, 0);
    CHECK (plain >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) other_port)};
    inet_pton (AF_INET, "127.255.255.255", &addr.sin_addr);
    CHECK_EQ (bind (plain, (struct sockaddr *) &addr, sizeof addr), 0);
    CHECK_EQ (worm_udp_listen (&elsewhere, err, sizeof err), -1);
    snprintf (want, sizeof want, "bind 127.255.255.255:%d: Address already in use", other_port);
    CHECK_STR (err, want);
    close (plain);

    //  A local address that is not this machine's
    worm_lan_t foreign = lan;
    snprintf (foreign.local, sizeof foreign.local, "%s", s_not_here (false));
    CHECK_EQ (worm_udp_open (&foreign, err, sizeof err), -1);
    snprintf (want, sizeof want, "bind %s:0: Cannot assign requested address", foreign.local);
    CHECK_STR (err, want);

    close (replier);
    close (sender);
    close (two);
    close (one);
    return check_done ("worm.udp");
}
