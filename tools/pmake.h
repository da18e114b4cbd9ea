/*  pmake.h — many commands at once, as Sprite's pmake spread a build over
    the network: wormctl run -j N reads one shell command per line and runs
    up to N of them at a time on willing hosts (tools/runner.h does each
    run) and up to M here, keeps each one's output and prints it whole, in
    the order of the lines.
*/
#ifndef WORMCTL_PMAKE_H_INCLUDED
#define WORMCTL_PMAKE_H_INCLUDED

#include "runner.h"

#include <stdio.h>

#define WORMCTL_PMAKE_MAX_JOBS 256       //  -j and --local-jobs, at most
#define WORMCTL_PMAKE_MAX_COMMANDS 100000  //  lines read, at most

typedef struct {
    const wormctl_run_spec_t *spec;  //  what each command gets (env, umask, inputs...):
                                     //  its argv and output are the command's own
    int jobs;                        //  commands on willing hosts at a time
    int local_jobs;                  //  and here
    bool keep_going;                 //  a failure does not stop the rest (make -k)
    bool tag;                        //  each line of output starts with "[LINE] "
    bool headers;                    //  without tag: "==> line N: TEXT <==" on stdout before
                                     //  the output of each command that wrote any
    long retries;                    //  a command evicted this often goes elsewhere
    int signal_fd;                   //  one byte per signal that came to us
} wormctl_pmake_opts_t;

/*  Reads the commands from in (blank lines and lines starting with '#'
    are skipped), runs each as 'sh -c LINE' with no stdin, and prints their
    stdout on ours and their stderr on ours, each command's whole and in
    the order of the lines; says on stderr how each failed one ended.
    SIGINT, SIGTERM, SIGHUP and the other signals that come go to every
    running command; the first three also stop new ones starting.
    Returns 0 when every command exited 0; 128 + N after signal N; 1
    otherwise (one line on stderr says which lines failed); 2 for an input
    that cannot be read or a line that is too long (said, nothing run). */
int wormctl_pmake (wormctl_client_t *client, const wormctl_pmake_opts_t *opts, FILE *in);

#endif
