/*  spawn.h — the one way the project starts a process.

    Starts a program in its own session and process group, in a given
    working directory, with exactly the environment given, a umask, a nice
    level and resource limits, optionally as another user, stdin from
    /dev/null and stdout/stderr to a log file. Host agents start guests
    with it; wormctl starts agents. Also here: the folder helpers that
    guests' private folders need (made for a user, reachable by it, removed
    without following anything the guest planted).
*/
#ifndef WORM_SPAWN_H_INCLUDED
#define WORM_SPAWN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    char name[33];                 //  login name
    uid_t uid;                     //  its uid
    gid_t gid;                     //  its primary group, the only group it runs with
} worm_user_t;

typedef struct {
    const char *path;              //  program to execute (absolute path)
    char *const *argv;             //  arguments, argv[0] first, NULL-terminated
    char *const *envp;             //  the whole environment, NULL-terminated
    const char *workdir;           //  working directory, or NULL to stay
    const char *log_path;          //  stdout and stderr (appended), or NULL for /dev/null
    int nice;                      //  niceness added, 0 for none
    bool sched_idle;               //  run under SCHED_IDLE where allowed
    mode_t umask;                  //  the umask the program starts with
    const worm_user_t *user;       //  run as this user (needs root), NULL to stay
    unsigned long mem_bytes;       //  RLIMIT_DATA, 0 for unchanged
    unsigned long max_files;       //  RLIMIT_NOFILE, 0 for unchanged
    unsigned long max_procs;       //  RLIMIT_NPROC (the user's processes and threads), 0 for unchanged
    bool no_new_privs;             //  PR_SET_NO_NEW_PRIVS: exec gains no privilege, for good
                                   //  (guests; wormd refuses to run under it)
    const char *stdin_text;        //  the program's stdin: a pipe holding this text (at
                                   //  most PIPE_BUF bytes, then end of file), or NULL for
                                   //  /dev/null. A secret passed this way is never in
                                   //  the environment or the command line
    const int *stdio;              //  NULL, or three descriptors that become the program's
                                   //  stdin, stdout and stderr (stdin_text and log_path
                                   //  are then unused); the caller keeps and closes them
    int parent_death_signal;       //  sent to the program when the thread that started it
                                   //  ends (PR_SET_PDEATHSIG, set after the user change),
                                   //  0 for none. A caller that dies before the program
                                   //  starts makes the start fail
    bool keeper;                   //  the program runs below a keeper (see below)
    bool private_tmp;              //  fresh tmpfs on /tmp, /var/tmp and /dev/shm in a mount
                                   //  namespace of its own (needs root; see below)
    unsigned long tmp_bytes;       //  the size of each, 0 for a quarter of the memory
    const char *const *visible;    //  with private_tmp: folders that stay visible at their
                                   //  place, NULL-terminated (NULL for none)
} worm_spawn_spec_t;

#define WORM_SPAWN_VISIBLE_MAX 20  //  entries of visible used, at most

/*  Starts the program. The log is opened before the user changes (it is
    the caller's file), then limits are set, then the user changes, then
    the working directory, so that the program's user must be able to reach
    it; the parent death signal is set after the user change. Returns its pid (also its process group id), or -1 with the reason
    in err, including a failure of exec itself; a failure in the child is
    also written to the log as one line.

    With keeper, the pid returned is the keeper's: a process that stays in
    the program's session and group, keeps the caller's uid (so the program
    cannot signal it when it runs as another user), makes itself a child
    subreaper and forks the program. Every process the program leaves
    orphaned comes back to the keeper, whatever session or environment it
    took. When the program ends the keeper SIGKILLs every process left below
    it until none is, then exits with the program's status, or dies by the
    same signal. It ignores SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
    SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU and SIGPIPE, so that those sent to
    the group reach the program alone; SIGKILL ends it. The program's parent
    death signal is then the keeper's; the keeper's own, when the caller
    ends, makes it SIGKILL the program and everything below it.

    With private_tmp (user needed: the caller is root), the program gets a
    mount namespace where / is a private recursive mount and /tmp, /var/tmp
    and /dev/shm (those that are folders, not links) are fresh tmpfs (mode
    1777, tmp_bytes each, nosuid, nodev): what it writes there is gone with
    its last process. Each folder of visible that user can reach (opened as
    that user before anything is mounted; one it cannot is left out) and
    that the new mounts hide is bound back at its real path (the workdir
    under /tmp, a shared build folder). */
pid_t worm_spawn (const worm_spawn_spec_t *spec, char *err, size_t cap);

/*  Whether this process may give a program a private /tmp (worm_spawn's
    private_tmp): tries it in a child. Returns 0, or -1 with the reason in
    err. */
int worm_spawn_private_tmp_probe (char *err, size_t cap);

/*  Looks a user up by name. Returns 0, or -1 when there is no such user
    (the reason in err). */
int worm_user_lookup (const char *name, worm_user_t *user, char *err, size_t cap);

/*  Checks, as user, that every folder from / down to path can be searched
    (entered). Returns 0, or -1 naming the folder that blocks the way, its
    mode and owner in err. Forks; needs root unless user is the caller. */
int worm_user_reach (const worm_user_t *user, const char *path, char *err, size_t cap);

/*  Creates a private folder with mode 0700 and a "tmp" folder inside, both
    owned by user (NULL: by the caller). Fails when path exists. Returns 0,
    or -1 with errno set. */
int worm_private_dir (const char *path, const worm_user_t *user);

/*  Removes a directory tree. Entries are removed relative to open folders,
    never followed through a symbolic link, so a tree its owner changes
    meanwhile cannot send the removal elsewhere. Returns 0, or -1 when
    something stayed. */
int worm_rmtree (const char *path);

/*  Creates a directory and its missing parents with exactly the given mode
    (the umask does not apply); folders that exist are left alone. Returns
    0 or -1. */
int worm_mkdirs (const char *path, mode_t mode);

/*  The directory holding the running executable, into buf. Returns 0 or -1. */
int worm_exe_dir (char *buf, size_t cap);

#endif
