/*  runspec.c — what a run may name. See runspec.h. */
#include "runspec.h"
#include "agent_limits.h"

#include <ctype.h>
#include <signal.h>
#include <string.h>

bool
worm_runspec_path_ok (const char *path)
{
    if (!*path || *path == '/' || strlen (path) > WORM_RUN_PATH_MAX)
        return false;
    for (const char *part = path; part;) {
        const char *slash = strchr (part, '/');
        size_t len = slash ? (size_t) (slash - part) : strlen (part);
        if (len == 0 || (len == 1 && part[0] == '.') || (len == 2 && !strncmp (part, "..", 2)))
            return false;
        part = slash ? slash + 1 : NULL;
    }
    return true;
}

bool
worm_runspec_env_name_ok (const char *name, size_t len)
{
    if (!len || len > WORM_RUN_ENV_NAME_MAX
        || !(isalpha ((unsigned char) name[0]) || name[0] == '_'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char) name[i]) && name[i] != '_')
            return false;
    return !(len == 4 && !strncmp (name, "PATH", 4)) && !(len == 4 && !strncmp (name, "HOME", 4))
           && !(len >= 5 && !strncmp (name, "WORM_", 5));
}

static const struct {
    const char *name;
    int number;
} s_signals[] = {{"INT", SIGINT},   {"TERM", SIGTERM}, {"HUP", SIGHUP},   {"QUIT", SIGQUIT},
                 {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TSTP", SIGTSTP}, {"CONT", SIGCONT},
                 {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {NULL, 0}};

int
worm_runspec_signal (const char *name)
{
    for (int i = 0; s_signals[i].name; i++)
        if (!strcmp (s_signals[i].name, name))
            return s_signals[i].number;
    return 0;
}

const char *
worm_runspec_signal_name (int number)
{
    for (int i = 0; s_signals[i].name; i++)
        if (s_signals[i].number == number)
            return s_signals[i].name;
    return NULL;
}
