/*  runspec_test.c — the rules of what a run may name: paths that stay
    inside the folder, environment names a client may give, signal words. */
#include "runspec.h"
#include "agent_limits.h"
#include "../tests/check.h"

#include <signal.h>

int
main (void)
{
    //  Paths: relative and down only
    CHECK (worm_runspec_path_ok ("out"));
    CHECK (worm_runspec_path_ok ("res/sub/a.txt"));
    CHECK (worm_runspec_path_ok (".hidden"));
    CHECK (worm_runspec_path_ok ("a..b"));
    CHECK (!worm_runspec_path_ok (""));
    CHECK (!worm_runspec_path_ok ("/etc/passwd"));
    CHECK (!worm_runspec_path_ok (".."));
    CHECK (!worm_runspec_path_ok ("a/../../b"));
    CHECK (!worm_runspec_path_ok ("./a"));
    CHECK (!worm_runspec_path_ok ("a//b"));
    CHECK (!worm_runspec_path_ok ("a/"));
    CHECK (!worm_runspec_path_ok ("a/."));
    char long_path[WORM_RUN_PATH_MAX + 2];
    memset (long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = 0;
    CHECK (!worm_runspec_path_ok (long_path));
    long_path[WORM_RUN_PATH_MAX] = 0;
    CHECK (worm_runspec_path_ok (long_path));
    //  Environment names: shell names, not the host's own
    CHECK (worm_runspec_env_name_ok ("CFLAGS", 6));
    CHECK (worm_runspec_env_name_ok ("_x1", 3));
    CHECK (worm_runspec_env_name_ok ("PATHX", 5));
    CHECK (worm_runspec_env_name_ok ("FOO=bar", 3));
    CHECK (!worm_runspec_env_name_ok ("PATH", 4));
    CHECK (!worm_runspec_env_name_ok ("HOME", 4));
    CHECK (!worm_runspec_env_name_ok ("WORM_GUEST_MARK", 15));
    CHECK (!worm_runspec_env_name_ok ("1A", 2));
    CHECK (!worm_runspec_env_name_ok ("A-B", 3));
    CHECK (!worm_runspec_env_name_ok ("", 0));
    //  Signals, both ways
    CHECK_EQ (worm_runspec_signal ("INT"), SIGINT);
    CHECK_EQ (worm_runspec_signal ("PIPE"), SIGPIPE);
    CHECK_EQ (worm_runspec_signal ("SEGV"), 0);
    CHECK_EQ (worm_runspec_signal ("int"), 0);
    CHECK_STR (worm_runspec_signal_name (SIGTSTP), "TSTP");
    CHECK (worm_runspec_signal_name (SIGSEGV) == NULL);
    return check_done ("runspec");
}
