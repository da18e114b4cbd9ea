/*  worm-segment — one segment of a worm; started by a host agent, with the
    command line the agent builds from a checked spawn (worm/segspec.h). */
#include "app.h"
#include "log.h"
#include "segment.h"
#include "worker.h"

#include <czmq.h>
#include <sys/prctl.h>

int
main (int argc, char **argv)
{
    //  A unit of an app whose units each run in a process of their own
    //  (segments/worker.h, worm_worker_isolate): the segment's worker
    //  started us with the unit on fd 3
    if (argc == 3 && strcmp (argv[1], "--unit") == 0) {
        const worm_app_t *app = worm_app_find (argv[2]);
        if (!app || !app->unit || !app->unit_in_child) {
            fprintf (stderr, "worm-segment --unit: no app '%s' whose units run apart\n", argv[2]);
            return 2;
        }
        //  Told apart from the segments: ps and /proc/PID/comm say worm-unit
        prctl (PR_SET_NAME, "worm-unit", 0, 0, 0);
        return worm_worker_unit_main (app->unit, NULL);
    }
    bool help = false;
    for (int i = 1; i < argc; i++)
        help |= strcmp (argv[i], "--help") == 0;
    if (help) {
        printf ("Usage: worm-segment (--found | --join) [OPTIONS]\n\n"
                "One segment of a worm. Host agents start it (wormctl launch, or a segment\n"
                "growing its worm); it is not meant to be run by hand.\n\nOptions:\n");
        worm_opts_help (stdout, worm_segspec_options);
        return 0;
    }
    worm_log_init ("worm-segment", NULL);
    worm_segment_config_t config;
    char err[512];
    if (worm_segspec_parse (argc, argv, &config, err, sizeof err)) {
        fprintf (stderr, "worm-segment: %s\n", err);
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    int rc = worm_segment_run (&config, err, sizeof err);
    if (rc)
        worm_log ("cannot start: %s", err);
    return rc;
}
