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
#include "spawn.h"

#include <limits.h>
#include <netinet/in.h>

#define WORM_DEFAULT_BEACON_PORT 5670
#define WORM_DEFAULT_GUEST_USER "worm"      //  guests' user when wormd runs as root
#define WORM_DEFAULT_GUEST_FILES 1024       //  RLIMIT_NOFILE of a guest
#define WORM_DEFAULT_GUEST_PROCS 4096       //  RLIMIT_NPROC: the guest user's processes and threads
#define WORM_DEFAULT_RING_TIMEOUT_S 10      //  a ring command is killed after this long
//  RLIMIT_DATA of a guest. AddressSanitizer maps terabytes of shadow memory
//  as private writable data, which any data or address-space limit refuses,
//  so sanitizer builds set none unless told to.
#if defined(__SANITIZE_ADDRESS__)
#define WORM_DEFAULT_GUEST_MEMORY 0UL
#define WORM_DEFAULT_GUEST_MEMORY_TEXT "none in this sanitizer build"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORM_DEFAULT_GUEST_MEMORY 0UL
#define WORM_DEFAULT_GUEST_MEMORY_TEXT "none in this sanitizer build"
#endif
#endif
#ifndef WORM_DEFAULT_GUEST_MEMORY
#define WORM_DEFAULT_GUEST_MEMORY (2UL << 30)
#define WORM_DEFAULT_GUEST_MEMORY_TEXT "2G"
#endif

typedef struct {
    char name[65];                    //  host name, default the hostname
    char state_dir[PATH_MAX];         //  host id, guests' folders, endpoint file
    char broadcast[INET_ADDRSTRLEN];  //  broadcast address
    char interface[64];               //  or the interface to broadcast on
    int beacon_port;                  //  UDP port of beacons and queries
    char programs_dir[PATH_MAX];      //  where guest programs are looked up
    char key_file[PATH_MAX];          //  the host keypair, "" for STATE/host.cert
    char authorized_dir[PATH_MAX];    //  authorized public keys, "" for STATE/authorized
    char owners_dir[PATH_MAX];        //  the owners' public keys, "" for none but the host key
    bool allow_test_guest;            //  the kind "test" (worm-test-guest) may be spawned
    bool allow_run;                   //  the owner lets users run commands here (wormctl run)
    bool daemon;                      //  detach and log to the state dir
    char user[33];                    //  --user as given, "" for the default
    worm_user_t guest_user;           //  who guests run as, resolved by worm_config_load
    bool guest_user_other;            //  guests run as another uid than wormd (wormd is root)
    unsigned long guest_memory;       //  guests' RLIMIT_DATA in bytes, 0 for none
    unsigned long guest_files;        //  guests' RLIMIT_NOFILE, 0 for wormd's own
    unsigned long guest_procs;        //  guests' RLIMIT_NPROC, 0 for wormd's own
    char ring_command[1024];          //  rings an alarm (sh -c), "" for none
    char ring_log[PATH_MAX];          //  or a file to append a line to, "" for none
    double ring_timeout_s;            //  a ring command is killed after this long
    unsigned long log_max;            //  the event log's size cap per file, 0 for no log
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
    FILE is read first, then the other options; then the guests' user is
    looked up (it must exist; when wormd is not root it can only be wormd's
    own user) and the guests' limits checked against what wormd may grant.
    A file must hold exactly one section, "wormd", of known settings, each
    once and without settings under it. Returns 0; 1 when --help was asked
    (before anything is read; the caller prints the help); or -1 with one
    line in err naming the option, or the file and the key, and the reason. */
int worm_config_load (worm_config_t *config, int argc, char **argv, char *err, size_t cap);

#endif
