/*  udp.h — the broadcast medium that beacons and queries travel on.

    A "LAN" here is a broadcast address, the local address that goes with it
    and the beacon port. The local cluster uses the loopback broadcast
    127.255.255.255 (never a real interface); hosts in network namespaces
    name their interface and the broadcast address is looked up with czmq's
    ziflist. Listeners bind the broadcast address itself with SO_REUSEPORT,
    so every agent of a LAN on one machine hears every datagram.
*/
#ifndef WORM_UDP_H_INCLUDED
#define WORM_UDP_H_INCLUDED

#include <netinet/in.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    char broadcast[INET_ADDRSTRLEN];   //  where announcements and queries go
    char local[INET_ADDRSTRLEN];       //  this host's address on that LAN
    int port;                          //  the beacon port
} worm_lan_t;

/*  Fills lan from a broadcast address and/or an interface name (at least
    one). With only a broadcast address, 127.255.255.255 pairs with
    127.0.0.1 and any other is matched against the interfaces. Returns 0,
    or -1 with the reason in err. */
int worm_lan_resolve (const char *broadcast, const char *interface, int port, worm_lan_t *lan,
                      char *err, size_t cap);

/*  A listener on the LAN's beacon port. Returns the fd, or -1 with err. */
int worm_udp_listen (const worm_lan_t *lan, char *err, size_t cap);
/*  A sender/replier on an ephemeral port of the local address, allowed to
    broadcast. Returns the fd, or -1 with err. */
int worm_udp_open (const worm_lan_t *lan, char *err, size_t cap);
/*  Sends one datagram to the LAN's broadcast address and beacon port. */
int worm_udp_broadcast (int fd, const worm_lan_t *lan, const void *data, size_t size);
/*  Sends one datagram to one address. */
int worm_udp_sendto (int fd, const struct sockaddr_in *to, const void *data, size_t size);
/*  Receives one datagram without blocking; returns its size, or -1. */
ssize_t worm_udp_recv (int fd, void *buf, size_t cap, struct sockaddr_in *from);

/*  Picks a beacon port that no socket on this machine holds now, for a new
    local cluster. Returns the port or -1. */
int worm_udp_free_port (void);

#endif
