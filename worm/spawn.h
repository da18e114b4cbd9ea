/*  spawn.h — the one way the project starts a process.

    Starts a program in its own session and process group, in a given
    working directory, with exactly the environment given, a umask, a nice
    level and resource limits, stdin from /dev/null and stdout/stderr to a
    log file. Host agents start guests with it; wormctl starts agents.
*/
#ifndef WORM_SPAWN_H_INCLUDED
#define WORM_SPAWN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    const char *path;              //  program to execute (absolute path)
    char *const *argv;             //  arguments, argv[0] first, NULL-terminated
    char *const *envp;             //  the whole environment, NULL-terminated
    const char *workdir;           //  working directory, or NULL to stay
    const char *log_path;          //  stdout and stderr (appended), or NULL for /dev/null
    int nice;                      //  niceness added, 0 for none
    bool sched_idle;               //  run under SCHED_IDLE where allowed
    mode_t umask;                  //  the umask the program starts with
    unsigned long mem_bytes;       //  RLIMIT_AS, 0 for unchanged
    unsigned long max_files;       //  RLIMIT_NOFILE, 0 for unchanged
} worm_spawn_spec_t;

/*  Starts the program. Returns its pid (also its process group id), or -1
    with the reason in err, including a failure of exec itself. */
pid_t worm_spawn (const worm_spawn_spec_t *spec, char *err, size_t cap);

/*  Removes a directory tree. Returns 0, or -1 when something stayed. */
int worm_rmtree (const char *path);

/*  Creates a directory and its parents with the given mode. Returns 0 or -1. */
int worm_mkdirs (const char *path, mode_t mode);

/*  The directory holding the running executable, into buf. Returns 0 or -1. */
int worm_exe_dir (char *buf, size_t cap);

#endif
