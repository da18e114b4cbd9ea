/*  joblimits.h — the limits both halves of the job layer keep: the
    segment's (segments/job.c) and the client's (worm/jobclient.c), which
    must agree on them (docs/PROTOCOL.md, "Jobs").

    A result larger than one answer may carry (a frame of render) travels
    from the segment to its client as several job.run answers of at most
    WORM_JOB_PART_MAX bytes of it each, so that every message stays within
    a control connection's WORM_CTL_MAX (worm/ctl.h) and no socket's
    ZMQ_MAXMSGSIZE has to grow; the client puts the parts together.
*/
#ifndef WORM_JOBLIMITS_H_INCLUDED
#define WORM_JOBLIMITS_H_INCLUDED

#define WORM_JOB_SLOTS 2                        //  units a segment holds at once (one runs)
#define WORM_JOB_PART_MAX (192 * 1024)          //  bytes of a result in one answer
#define WORM_JOB_RESULT_MAX (64 * 1024 * 1024)  //  bytes of a whole result, at most

#endif
