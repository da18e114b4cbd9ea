/*  agent_limits.h — every limit of the host agent, in one place: how much
    it keeps (guests' receipts, killed worms, claims' life), how long it
    waits (reaping, stopping, relaying), and how big the strings of its
    requests may be. The request table (worm/agent_ops.c) and the buffers
    its handlers copy into both take their sizes from here: a *_MAX is
    the bytes of content, the buffer is one byte more.
*/
#ifndef WORM_AGENT_LIMITS_H_INCLUDED
#define WORM_AGENT_LIMITS_H_INCLUDED

//  Time
#define WORM_CLAIM_TTL_MS 5000          //  an unused claim expires after this
#define WORM_ANSWER_MS_PER_LOAD 10      //  answer delay per unit of load
#define WORM_ANSWER_MAX_DELAY_MS 30     //  and its ceiling
#define WORM_KILL_MEMORY_MS 60000       //  a killed worm is refused this long
#define WORM_KILL_GRACE_MS 200          //  and its segments get SIGKILL this soon after
                                        //  SIGTERM (the owner's grace is for evictions:
                                        //  a killed worm has no one left to hand on to)
#define WORM_AGENT_REAP_INTERVAL_MS 100     //  how often ended guests are looked for
#define WORM_AGENT_STOP_WAIT_MS 3000        //  at shutdown, guests get at most this after SIGTERM
#define WORM_AGENT_SWEEP_WAIT_MS 2000       //  a former life's leftovers have this long to go
                                            //  after SIGKILL
#define WORM_AGENT_SPAWN_BACKOFF_MS 5000    //  unwilling this long after a spawn failed here,
#define WORM_AGENT_SPAWN_BACKOFF_MAX_MS 300000  //  doubling with each failure in a row up to this
#define WORM_AGENT_RELAY_TIMEOUT_MS 1500    //  a relayed request's answer is awaited this long
#define WORM_AGENT_TELL_LINGER_MS 100       //  what we tell a segment may still leave this long
                                            //  after we close its connection
#define WORM_AGENT_STOP_KEEPER_MS 1000     //  at shutdown, a run's keeper gets this to end its tree
#define WORM_AGENT_STOP_POLL_MS 20          //  at shutdown, how often ended guests are looked for
#define WORM_AGENT_SWEEP_POLL_MS 10         //  at start, how often a former life's are
#define WORM_AGENT_LOG_PERIOD_MS 5000       //  a rate-limited log line comes at most this often
#define WORM_AGENT_SAMPLE_LOG_PERIOD_MS 10000   //  and one on failed sampling

//  Rings (rings.c)
#define WORM_AGENT_RINGS_REMEMBERED 16384   //  alarm ids rung here that are remembered, the latest
#define WORM_AGENT_RINGS_RUNNING 16         //  ring commands running at once, at most
#define WORM_AGENT_RINGS_RECORD "rings.seen"    //  in the state folder: the ids rung, one a line

//  The event log (agent_log.c)
#define WORM_AGENT_REFUSALS_PERIOD_MS 10000 //  refusals recorded are counted over this period,
#define WORM_AGENT_REFUSALS_RECORDED 50     //  and at most this many recorded in one
#define WORM_AGENT_LOG_PAGE 256             //  events in one reply of the log op, at most
#define WORM_AGENT_LOG_PAGE_BYTES (160 << 10)   //  and bytes of them (a reply is at most 256 KiB)
#define WORM_AGENT_EVENT_TEXT_MAX 300       //  bytes of a reason or a word recorded, at most
#define WORM_AGENT_EVENT_ARGV_MAX 16        //  words of a run's command recorded, at most

//  Guests
#define WORM_AGENT_GUEST_NICE 19            //  the nice value guests run at

//  What the agent keeps
#define WORM_AGENT_MAX_RECEIPTS 64          //  eviction receipts kept, the latest
#define WORM_AGENT_MAX_TOMBSTONES 4096      //  killed worms remembered at once, at most

//  Strings, in bytes (buffers are one more)
#define WORM_AGENT_NAME_MAX 64          //  a worm's name (worm_name_valid)
#define WORM_AGENT_GUEST_ID_MAX 31      //  a guest's id ("g" and a number)
#define WORM_AGENT_KIND_MAX 15          //  a guest kind in a spawn ("segment", "test")
#define WORM_AGENT_REASON_MAX 95        //  a reason in words (an eviction's, willingness')
#define WORM_AGENT_OP_MAX 31            //  an op's name
#define WORM_AGENT_POLICY_KEYS 16       //  policy keys in one policy-set, at most
#define WORM_AGENT_POLICY_KEY_MAX 31    //  a policy key's name
#define WORM_AGENT_ENDPOINT_MAX 127     //  an endpoint, a relay's "to" included
#define WORM_AGENT_MARKER_MAX 79        //  a guest's marker: WORM_GUEST_MARK=HOST_ID/GUEST_ID

//  A spawn request's
#define WORM_REQUEST_MAX_TEST_ARGS 8    //  words of a test guest
#define WORM_REQUEST_TEST_ARG_MAX 64    //  bytes in one word of a test guest
#define WORM_REQUEST_ARG_MAX 1023       //  bytes in one argument or environment value
#define WORM_REQUEST_MAX_ENV 32         //  environment variables
#define WORM_REQUEST_ENV_NAME_MAX 63    //  bytes in one environment name

//  A run's (worm/run.c, docs/PROTOCOL.md "Run")
#define WORM_RUN_CHUNK 65536            //  bytes of data in one message, at most
#define WORM_RUN_WINDOW 16              //  messages a side may have unacknowledged
#define WORM_RUN_MAX_ARGS 256           //  words of a command
#define WORM_RUN_ARG_MAX 4095           //  bytes in one word or environment value
#define WORM_RUN_MAX_ENV 64             //  environment variables a client names
#define WORM_RUN_ENV_NAME_MAX 63        //  bytes in one environment name
#define WORM_RUN_MAX_OUTPUTS 64         //  outputs a client asks for
#define WORM_RUN_MAX_SHARES 16          //  folders a command keeps seeing in its private /tmp
#define WORM_RUN_PATH_MAX 1023          //  bytes in a path inside a run's folder
#define WORM_RUN_TYPE_MAX 7             //  "file" or "dir"
#define WORM_RUN_SIGNAL_MAX 15          //  a signal's name ("USR1")

#endif
