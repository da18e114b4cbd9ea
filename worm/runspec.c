/*  runspec.c — what a run may name. See runspec.h. */
#include "runspec.h"
#include "agent_limits.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
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

int
worm_runspec_chunk_read (worm_wire_reader_t *reader, worm_runspec_chunk_t *chunk, char *err,
                         size_t cap)
{
    char type[8];
    uint64_t mode = 0;
    memset (chunk, 0, sizeof *chunk);
    if (worm_wire_get_str (reader, reader->root, "path", chunk->path, sizeof chunk->path)
        || worm_wire_get_str (reader, reader->root, "type", type, sizeof type)
        || worm_wire_get_u64 (reader, reader->root, "mode", &mode)
        || worm_wire_get_bin (reader, reader->root, "data", &chunk->data, &chunk->size,
                              WORM_RUN_CHUNK)
               == -1
        || worm_wire_get_bool (reader, reader->root, "more", &chunk->more) == -1) {
        snprintf (err, cap, "%s", reader->error);
        return -1;
    }
    if (!worm_runspec_path_ok (chunk->path)) {
        snprintf (err, cap, "'%s' is not a relative path without '.' or '..'", chunk->path);
        return -1;
    }
    if (strcmp (type, "file") && strcmp (type, "dir")) {
        snprintf (err, cap, "type '%s' is neither file nor dir", type);
        return -1;
    }
    chunk->dir = !strcmp (type, "dir");
    chunk->mode = (unsigned) (mode & 0777);
    return 0;
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
