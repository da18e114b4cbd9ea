/*  worms.h — a worm's segments, found through the host agents (their
    'find' op), not through its token: what launch, find, status and kill
    see of a worm, and each segment's own view when asked ('status').
*/
#ifndef WORMCTL_WORMS_H_INCLUDED
#define WORMCTL_WORMS_H_INCLUDED

#include "client.h"
#include "token.h"

#define WORMCTL_MAX_SEGMENTS 1024   //  segments one search collects, at most

typedef struct {
    char worm[65];          //  worm name
    char worm_id[64];       //  worm id
    char id[64];            //  segment id
    char host[65];          //  host name
    char endpoint[128];     //  the segment's endpoint
    char key[41];           //  its worm's public key (the segment serves with it)
    uint64_t pid;           //  its pid on that host
    bool evicting;          //  its host is evicting it: it is on its way out
    //  From the segment itself (status), when it answered:
    bool answered;          //  it answered
    bool holds_token;       //  it holds the token now
    char app[65];           //  the worm's app
    char state[16];         //  its ring state
    uint64_t epoch, seq, live, target, round_ms;   //  from its copy of the token
    uint64_t live_pids[WORM_TOKEN_MAX_MEMBERS];     //  the pids of the members it lists
    int live_pids_count;                            //  live or joining, in ring order
} wormctl_segment_t;

typedef struct {
    wormctl_segment_t items[WORMCTL_MAX_SEGMENTS];  //  segments found
    int count;                                      //  how many
    int hosts;                                      //  hosts that answered the broadcast
    int silent;                                     //  of those, hosts that did not answer
                                                    //  'find' (or refused us)
    char silent_name[WORMCTL_MAX_HOSTS][65];        //  their names
    char silent_why[WORMCTL_MAX_HOSTS][256];        //  and why, as the request said
    int answered;                                   //  hosts that answered 'find'
    char answered_name[WORMCTL_MAX_HOSTS][65];      //  their names
    int ignored;                                    //  hosts whose key we do not trust
    char ignored_why[WORMCTL_MAX_HOSTS][256];       //  why each was ignored
} wormctl_segments_t;

//  Host names already told about, so a command that polls says each
//  failure once (wormctl_tell_once)
typedef struct {
    char names[WORMCTL_MAX_HOSTS * 2][300];     //  host names, or "!why" for ignored hosts
    int count;                                  //  how many
} wormctl_told_t;

/*  Reads a segment's reply to 'status' into segment's status fields; false
    when it is not a good one. */
bool wormctl_segment_status_parse (worm_wire_reader_t *reply, wormctl_segment_t *segment);

/*  Asks every segment in found for its status again, in parallel, each
    within timeout_ms (answered and the status fields are set anew). */
void wormctl_ask_segments (wormctl_segments_t *found, int timeout_ms);

/*  Finds the segments of one worm (or of all, worm NULL) through the
    agents of every trusted host that answers a query; with ask, asks each
    segment for its status too (in parallel, 1 s each). The hosts asked go
    to agents when it is not NULL. Each agent's 'find' waits --timeout
    (default WORMCTL_REQUEST_S). Returns 0, or -1 with err (also "interrupted"
    once interrupted). */
int wormctl_find_segments (wormctl_client_t *client, const char *worm, bool ask,
                           wormctl_segments_t *found, wormctl_found_t *agents, char *err,
                           size_t cap);

/*  The same through the agents of hosts (found earlier), without a query. */
int wormctl_find_segments_at (wormctl_client_t *client, const char *worm, bool ask,
                              wormctl_segments_t *found, const wormctl_found_t *hosts,
                              char *err, size_t cap);

/*  What --timeout bounds in wormctl_find_segments, and its defaults, for a
    command's --help. */
#define WORMCTL_SEARCH_TIMEOUT                                                                 \
    "the query's answers, then for each agent's 'find' (default " WORMCTL_STR (WORMCTL_QUERY_S) \
    " s, then " WORMCTL_STR (WORMCTL_REQUEST_S) " s)"

/*  wormctl_find_segments of worm (NULL: all) with each segment asked, for
    a command that shows what it found: says on stderr which hosts did not
    answer. Returns the segments (the caller frees them), or NULL after
    saying on stderr why there is nothing to show (the search failed, or no
    host answered 'find'). */
wormctl_segments_t *wormctl_search (wormctl_client_t *client, const char *worm);

/*  The segments to start a job in (worm/jobclient.h) of worm, which must
    run app: wormctl_find_segments with each asked, then the endpoints of
    those that answered and are not being evicted, at most cap - 1 of them,
    into endpoints (NULL-terminated; they point into found), and the worm's
    key into key. Returns 0, or 1 after saying on stderr in one line
    ("wormctl COMMAND: ...") why there is no worm to work in: the search
    failed, no worm of that name (with how to start one), no live segment
    that answers, or a worm of another app ("worm W runs app A, not APP").
    While no worm of that name is found, or none of its segments answers,
    it looks again every WORMCTL_JOB_LOOK_MS for up to wait_ms (a worm
    healing from a lost host, or on a host cut off for a moment, is back
    within seconds), saying so once on stderr unless quiet. */
#define WORMCTL_JOB_LOOK_MS 500
#define WORMCTL_JOB_WAIT_S 10   //  the default of factor's and render's --wait
#define WORMCTL_JOB_WAIT_OPTION                                                                \
    {"wait", "SECONDS",                                                                        \
     "how long to look again for the worm while it is not found or none of its segments "    \
     "answers (default " WORMCTL_STR (WORMCTL_JOB_WAIT_S) "; 0: give up at once)"}
/*  A job's way back to its worm through the host agents (worm/jobclient.h,
    refind): arg is a wormctl_refind_t; writes the endpoints of the worm's
    segments that are not being evicted, up to cap; returns how many. */
typedef struct {
    wormctl_client_t *client;
    const char *worm;
} wormctl_refind_t;
int wormctl_refind (void *arg, char (*endpoints)[WORM_TOKEN_ENDPOINT_MAX], int cap);

/*  Parses --wait's value (0 to 3600 seconds) into *ms; -1 with err set. */
int wormctl_job_wait_parse (const char *value, int *ms, char *err, size_t cap);
int wormctl_job_segments (wormctl_client_t *client, const char *worm, const char *app,
                          int wait_ms, bool quiet,
                          wormctl_segments_t *found, const char **endpoints, size_t cap,
                          char *key, size_t key_cap);

/*  True the first time it is asked about name in told; records it. */
bool wormctl_tell_once (wormctl_told_t *told, const char *name);

/*  Says on stderr, for the client's command, which hosts of the last
    search did not answer 'find' or were ignored; each host once per told
    (NULL: every time). */
void wormctl_report_silent (const wormctl_client_t *client, const wormctl_segments_t *found,
                            wormctl_told_t *told);

/*  When no host answered 'find' (none answered the query, or every one
    that did refused or fell silent), says so on stderr and returns true. */
bool wormctl_nobody_answered (const wormctl_client_t *client, const wormctl_segments_t *found);

/*  Whether host name answered the last search's 'find'. */
bool wormctl_host_answered (const wormctl_segments_t *found, const char *name);

/*  "host2, host4": the hosts of found's segments, into buf. */
void wormctl_host_list (const wormctl_segments_t *found, char *buf, size_t cap);

#endif
