/*  config.h — the host agent's configuration: defaults, options, ZPL file.

    Every setting has one name, used as the long option (--max-load 1.5) and
    as a key under "wormd" in a czmq ZPL file given with --config; options
    on the command line win over the file. One setter checks every value.
*/
#ifndef WORM_CONFIG_H_INCLUDED
#define WORM_CONFIG_H_INCLUDED

#include "avail.h"
#include "opts.h"
#include "policy.h"

#include <limits.h>
#include <netinet/in.h>

#define WORM_DEFAULT_BEACON_PORT 5670

typedef struct {
    char name[65];                    //  host name, default the hostname
    char state_dir[PATH_MAX];         //  host id, guests' folders, endpoint file
    char broadcast[INET_ADDRSTRLEN];  //  broadcast address
    char interface[64];               //  or the interface to broadcast on
    int beacon_port;                  //  UDP port of beacons and queries
    char programs_dir[PATH_MAX];      //  where guest programs are looked up
    char key_file[PATH_MAX];          //  the host keypair, "" for STATE/host.cert
    char authorized_dir[PATH_MAX];    //  authorized public keys, "" for STATE/authorized
    bool daemon;                      //  detach and log to the state dir
    worm_policy_t policy;             //  the owner's policy
    worm_avail_config_t avail;        //  where availability is read from
} worm_config_t;

extern const worm_opt_t worm_config_options[];

/*  Fills in the defaults (state dir derived from the name when not set). */
void worm_config_defaults (worm_config_t *config);

/*  Sets one setting by name. Returns 0, or -1 with the reason in err. */
int worm_config_set (worm_config_t *config, const char *name, const char *value, char *err,
                     size_t cap);

/*  Builds the configuration from argv (after the program name): --config
    FILE is read first, then the other options. Returns 0; 1 when --help was
    asked (help printed); or -1 with the reason in err. */
int worm_config_load (worm_config_t *config, int argc, char **argv, char *err, size_t cap);

#endif
