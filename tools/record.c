/*  record.c — the local cluster's record, DIR/cluster.zpl (see record.h). */
#include "record.h"

#include <czmq.h>
#include <unistd.h>

int
wormctl_cluster_read (const char *dir, wormctl_cluster_t *cluster, char *err, size_t cap)
{
    memset (cluster, 0, sizeof *cluster);
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/cluster.zpl", dir);
    if (access (path, R_OK)) {
        snprintf (err, cap, "no local cluster in %s (start one with 'wormctl up', or give "
                            "--broadcast or --interface)", dir);
        return -1;
    }
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        snprintf (err, cap, "%s is not a valid ZPL file", path);
        return -1;
    }
    snprintf (cluster->broadcast, sizeof cluster->broadcast, "%s",
              zconfig_get (root, "cluster/broadcast", ""));
    cluster->port = atoi (zconfig_get (root, "cluster/beacon-port", "0"));
    cluster->hosts = atoi (zconfig_get (root, "cluster/hosts", "0"));
    if (cluster->hosts < 0 || cluster->hosts > WORMCTL_MAX_HOSTS)
        cluster->hosts = 0;
    for (int i = 0; i < cluster->hosts; i++) {
        char key[64];
        snprintf (key, sizeof key, "cluster/host%d/pid", i + 1);
        cluster->pids[i] = (pid_t) atoi (zconfig_get (root, key, "0"));
    }
    zconfig_destroy (&root);
    if (!cluster->broadcast[0] || cluster->port <= 0) {
        snprintf (err, cap, "%s lacks cluster/broadcast or cluster/beacon-port", path);
        return -1;
    }
    return 0;
}

int
wormctl_cluster_write (const char *dir, const wormctl_cluster_t *cluster)
{
    zconfig_t *root = zconfig_new ("root", NULL);
    zconfig_put (root, "cluster/broadcast", cluster->broadcast);
    zconfig_putf (root, "cluster/beacon-port", "%d", cluster->port);
    zconfig_putf (root, "cluster/hosts", "%d", cluster->hosts);
    for (int i = 0; i < cluster->hosts; i++) {
        char key[64];
        snprintf (key, sizeof key, "cluster/host%d/pid", i + 1);
        zconfig_putf (root, key, "%d", (int) cluster->pids[i]);
    }
    char path[PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/cluster.zpl", dir);
    int rc = zconfig_save (root, path);
    zconfig_destroy (&root);
    return rc;
}
