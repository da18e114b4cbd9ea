/*  segspec.h — what a segment is started with: the one description of a
    segment's start that wormctl launch and a growing worm send in a SPAWN,
    that the host agent checks and turns into worm-segment's command line,
    and that worm-segment reads back from that command line.

    A requester never names a program or passes arguments through: a spawn
    carries a guest kind ("segment") and this record, the agent checks every
    field (docs/PROTOCOL.md, "Control", spawn) and builds the arguments
    itself, so no request can start anything but a segment with settings a
    segment accepts.
*/
#ifndef WORM_SEGSPEC_H_INCLUDED
#define WORM_SEGSPEC_H_INCLUDED

#include "opts.h"
#include "token.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

#define WORM_SEGSPEC_MAX_MS 3600000     //  hold and orphan timeout, at most
#define WORM_SEGSPEC_ROLE_MAX 7         //  bytes of a role: "found" or "join"
#define WORM_SEGSPEC_MAX_ARGV (16 + WORM_TOKEN_MAX_PARAMS)  //  words of the command line

typedef struct {
    bool found;                             //  found a new worm (else join one)
    char worm_id[WORM_TOKEN_ID_MAX];        //  the worm's id
    char worm[WORM_TOKEN_NAME_MAX];         //  its name
    char app[WORM_TOKEN_NAME_MAX];          //  its app
    uint32_t size;                          //  found: target population
    uint32_t max;                           //  found: hard cap (0: size + 1)
    char params[WORM_TOKEN_MAX_PARAMS][WORM_TOKEN_PARAM_MAX];   //  found: app parameters
    int nparams;                            //  how many
    char spawner[WORM_TOKEN_ENDPOINT_MAX];  //  join: the segment that asked for us
    char spawn_id[WORM_TOKEN_ID_MAX];       //  join: its spawn id
    char spawner_host[WORM_TOKEN_ID_MAX];   //  join: the spawner's host id ("": unknown)
    uint64_t spawner_pid;                   //  join: the spawner's pid (0: unknown)
    uint64_t hold_ms;                       //  pacing hold at each holder (0: default)
    uint64_t orphan_ms;                     //  exit after this long without a token (0: default)
} worm_segspec_t;

/*  Checks a spec as a whole: ids and names are [A-Za-z0-9._-] and fit; a
    founder has 1 <= size <= max <= WORM_TOKEN_MAX_MEMBERS (max 0 becomes
    size + 1, or size at the cap) and parameters KEY=VALUE; a joiner names
    a tcp:// spawner and a spawn id (and may name the spawner's host id and
    pid, both or neither); hold and orphan timeout at most
    WORM_SEGSPEC_MAX_MS. Returns 0, or -1 with one phrase naming the field
    in err. Fills in max. */
int worm_segspec_check (worm_segspec_t *spec, char *err, size_t cap);

/*  A joiner's spawner: its segment id, the spawn id before the last slash,
    into id (cap bytes). false (id "") for a founder, or a spawn id with no
    slash (one a person typed). */
bool worm_segspec_spawner_id (const worm_segspec_t *spec, char *id, size_t cap);

/*  Writes spec as one msgpack map (the spawn request's "segment"). */
void worm_segspec_write (worm_wire_writer_t *writer, const worm_segspec_t *spec);

/*  Reads the map at obj (already checked against the request table's
    types) into spec and checks it with worm_segspec_check. Returns 0, or -1
    with the reason in err. */
int worm_segspec_read (worm_wire_reader_t *reader, const msgpack_object *obj,
                       worm_segspec_t *spec, char *err, size_t cap);

/*  Builds worm-segment's command line from a checked spec: argv[0] is
    program, then "--found" or "--join" and one "--name=value" word per
    setting, then NULL. The strings are the caller's, to free with
    worm_segspec_argv_free. Returns the number of words. */
int worm_segspec_argv (const worm_segspec_t *spec, const char *program,
                       char *argv[WORM_SEGSPEC_MAX_ARGV + 1]);
void worm_segspec_argv_free (char *argv[WORM_SEGSPEC_MAX_ARGV + 1]);

/*  Parses worm-segment's command line (argv[1..], as worm_segspec_argv
    builds it or a person types it) into spec and checks it. Returns 0, or
    -1 with the reason in err. */
int worm_segspec_parse (int argc, char **argv, worm_segspec_t *spec, char *err, size_t cap);

/*  worm-segment's options, for its --help. */
extern const worm_opt_t worm_segspec_options[];

#endif
