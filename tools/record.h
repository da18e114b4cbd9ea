/*  record.h — the local cluster's record, DIR/cluster.zpl: the loopback
    broadcast and beacon port that 'wormctl up' chose and its agents' pids.
    Every command that talks to a local cluster reads it (wormctl_lan);
    'up' writes it and 'down' reads the pids it stops.
*/
#ifndef WORMCTL_RECORD_H_INCLUDED
#define WORMCTL_RECORD_H_INCLUDED

#include "client.h"

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    char broadcast[64];                 //  the cluster's broadcast address
    int port;                           //  its beacon port
    int hosts;                          //  how many hosts it started
    pid_t pids[WORMCTL_MAX_HOSTS];      //  their agents' pids, host1 first
} wormctl_cluster_t;

/*  Reads DIR/cluster.zpl into cluster. Returns 0, or -1 with err: there is
    none (a sentence telling how to start one), it is not ZPL, or it lacks
    the broadcast or the port. A host count out of range reads as 0. */
int wormctl_cluster_read (const char *dir, wormctl_cluster_t *cluster, char *err, size_t cap);

/*  Writes cluster to DIR/cluster.zpl. Returns 0, or -1. */
int wormctl_cluster_write (const char *dir, const wormctl_cluster_t *cluster);

#endif
