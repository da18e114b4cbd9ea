/*  udp.c — broadcast and unicast datagrams for discovery. See udp.h. */
#include "udp.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
worm_lan_resolve (const char *broadcast, const char *interface, int port, worm_lan_t *lan,
                  char *err, size_t cap)
{
    memset (lan, 0, sizeof *lan);
    lan->port = port;
    struct in_addr probe;
    if (broadcast && *broadcast && inet_pton (AF_INET, broadcast, &probe) != 1) {
        snprintf (err, cap, "broadcast address '%s' is not an IPv4 address", broadcast);
        return -1;
    }
    if (broadcast && *broadcast && !(interface && *interface)
        && (ntohl (probe.s_addr) >> 24) == 127) {
        snprintf (lan->broadcast, sizeof lan->broadcast, "%s", broadcast);
        snprintf (lan->local, sizeof lan->local, "127.0.0.1");
        return 0;
    }
    if (!(interface && *interface) && !(broadcast && *broadcast)) {
        snprintf (err, cap, "no broadcast address or interface given");
        return -1;
    }
    ziflist_t *interfaces = ziflist_new ();
    for (const char *name = ziflist_first (interfaces); name; name = ziflist_next (interfaces)) {
        bool by_name = interface && *interface && strcmp (name, interface) == 0;
        bool by_broadcast = !(interface && *interface)
                            && strcmp (ziflist_broadcast (interfaces), broadcast) == 0;
        if (by_name || by_broadcast) {
            snprintf (lan->local, sizeof lan->local, "%s", ziflist_address (interfaces));
            snprintf (lan->broadcast, sizeof lan->broadcast, "%s",
                      broadcast && *broadcast ? broadcast : ziflist_broadcast (interfaces));
            break;
        }
    }
    ziflist_destroy (&interfaces);
    if (!lan->local[0]) {
        if (interface && *interface)
            snprintf (err, cap,
                      "interface '%s' not found or has no IPv4 broadcast address "
                      "(for the loopback use --broadcast 127.255.255.255)",
                      interface);
        else
            snprintf (err, cap, "no interface has broadcast address %s", broadcast);
        return -1;
    }
    return 0;
}

static int
s_socket (const char *address, int port, bool reuse, char *err, size_t cap)
{
    int fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf (err, cap, "socket: %s", strerror (errno));
        return -1;
    }
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
    if (reuse) {
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    inet_pton (AF_INET, address, &addr.sin_addr);
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr)) {
        snprintf (err, cap, "bind %s:%d: %s", address, port, strerror (errno));
        close (fd);
        return -1;
    }
    return fd;
}

int
worm_udp_listen (const worm_lan_t *lan, char *err, size_t cap)
{
    return s_socket (lan->broadcast, lan->port, true, err, cap);
}

int
worm_udp_open (const worm_lan_t *lan, char *err, size_t cap)
{
    return s_socket (lan->local, 0, false, err, cap);
}

int
worm_udp_broadcast (int fd, const worm_lan_t *lan, const void *data, size_t size)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) lan->port)};
    inet_pton (AF_INET, lan->broadcast, &to.sin_addr);
    return worm_udp_sendto (fd, &to, data, size);
}

int
worm_udp_sendto (int fd, const struct sockaddr_in *to, const void *data, size_t size)
{
    ssize_t sent = sendto (fd, data, size, 0, (const struct sockaddr *) to, sizeof *to);
    return sent == (ssize_t) size ? 0 : -1;
}

ssize_t
worm_udp_recv (int fd, void *buf, size_t cap, struct sockaddr_in *from)
{
    socklen_t len = sizeof *from;
    return recvfrom (fd, buf, cap, 0, (struct sockaddr *) from, &len);
}

int
worm_udp_free_port (void)
{
    //  Ask the kernel for a free UDP port on the loopback, then let it go.
    int fd = socket (AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET};
    inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
    socklen_t len = sizeof addr;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
        && getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    close (fd);
    return port;
}
