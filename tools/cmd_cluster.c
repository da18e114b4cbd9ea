/*  cmd_cluster.c — wormctl's local cluster: up starts N virtual hosts (wormd
    processes on the loopback broadcast, with their keys) and records them
    (record.h) and everything it made (manifest.h); down stops exactly
    those agents (agents.h) and removes exactly what up made.
*/
#include "agents.h"
#include "client.h"
#include "ctl.h"
#include "keys.h"
#include "log.h"
#include "manifest.h"
#include "record.h"
#include "spawn.h"
#include "udp.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_WAIT_S 15     //  --timeout's default: the wait for the hosts to hear each other

extern char **environ;

//  Asks one agent how many hosts it has heard; -1 when it does not answer.
static int
s_heard (const char *endpoint, const char *key)
{
    worm_wire_writer_t request;
    worm_wire_writer_init (&request);
    worm_wire_map_open (&request);
    worm_wire_kstr (&request, "op", "status");
    worm_wire_map_close (&request);
    worm_wire_reader_t reply;
    worm_wire_reader_init (&reply);
    char err[256];
    uint64_t heard = 0;
    int rc = -1;
    if (worm_ctl_call (endpoint, key, &request, 1000, &reply, err, sizeof err) == 0
        && worm_wire_get_u64 (&reply, reply.root, "registry", &heard) == 0)
        rc = (int) heard;
    worm_wire_writer_fini (&request);
    worm_wire_reader_fini (&reply);
    return rc;
}

static int
s_read_endpoint (const char *dir, int n, char *buf, size_t cap)
{
    char path[PATH_MAX + 48];
    snprintf (path, sizeof path, "%s/host%d/endpoint", dir, n);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    if (!fgets (buf, (int) cap, file))
        buf[0] = 0;
    fclose (file);
    buf[strcspn (buf, "\n")] = 0;
    return buf[0] ? 0 : -1;
}


//  Prints the last lines of an agent's log, indented, for a failed 'up'
//  (which removes the log with the rest).
static void
s_print_log_tail (const char *path, int lines)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "  (no log at %s)\n", path);
        return;
    }
    static char ring[16][512];
    int count = 0;
    while (fgets (ring[count % 16], sizeof ring[0], file))
        count++;
    fclose (file);
    if (lines > 16)
        lines = 16;
    int first = count > lines ? count - lines : 0;
    if (count == 0)
        fprintf (stderr, "  (its log %s is empty)\n", path);
    for (int i = first; i < count; i++) {
        char *line = ring[i % 16];
        line[strcspn (line, "\n")] = 0;
        fprintf (stderr, "  %s\n", line);
    }
}

//  wormctl down: stops the agents up started in DIR and removes what it made.
static int
s_cmd_down (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    int index = 0;
    int rc = wormctl_options (
        client, options, argc, argv, &index,
        "Usage: wormctl [--dir DIR] down\n\n"
        "Stops exactly the host agents that 'wormctl up' started in DIR (by their\n"
        "recorded pids, checked to still be those agents), which stop their guests,\n"
        "and removes exactly what 'up' made there (listed in DIR/" WORMCTL_MANIFEST ").\n"
        "The state folder of an agent that still runs there (one restarted by hand)\n"
        "is left, and so are the cluster's shared files; it then exits 1 saying so.\n");
    if (rc >= 0)
        return rc;
    if (index < argc)
        return wormctl_usage_error (client, "unexpected argument '%s'", argv[index]);
    const char *dir = client->dir;
    char err[512];
    wormctl_cluster_t cluster;
    wormctl_manifest_t *manifest = calloc (1, sizeof *manifest);
    int listed = wormctl_manifest_load (dir, manifest, err, sizeof err);
    rc = 1;
    if (listed < 0) {
        fprintf (stderr, "wormctl down: %s\n", err);
        goto done;
    }
    if (wormctl_cluster_read (dir, &cluster, err, sizeof err)) {
        if (listed == 1) {
            fprintf (stderr, "wormctl down: %s\n", err);
            goto done;
        }
        //  'up' failed or crashed before it wrote cluster.zpl
        memset (&cluster, 0, sizeof cluster);
    }
    int running = 0;
    int stopped = wormctl_stop_agents (dir, &cluster, 10000, false, &running);
    if (zsys_interrupted) {
        wormctl_say_interrupted (client,
                                 "stopped %d host agent(s); %d still stopping; the files in %s "
                                 "are left ('wormctl down' again to finish)",
                                 stopped, running, dir);
        goto done;
    }
    if (listed == 1) {
        fprintf (stderr, "wormctl down: stopped %d host agent(s); %s has no " WORMCTL_MANIFEST
                         " saying what 'up' made there: no file removed\n", stopped, dir);
        goto done;
    }
    //  An agent still there (restarted by hand, or one that would not stop)
    //  keeps its folder, and the files every agent shares
    int kept = 0;
    for (int i = 0; i < manifest->count; i++) {
        wormctl_made_t *item = &manifest->items[i];
        if (strcmp (item->kind, "tree") != 0)
            continue;
        char state[PATH_MAX + 256];
        snprintf (state, sizeof state, "%s/%s", dir, item->path);
        pid_t pid = wormctl_agent_in (state);
        if (pid) {
            fprintf (stderr, "wormctl down: left %s: wormd pid %d runs there%s\n", state,
                     (int) pid, running ? "" : " (not one 'wormctl up' started; stop it, then "
                                               "'wormctl down' again)");
            item->keep = true;
            kept++;
        }
    }
    if (kept)
        for (int i = 0; i < manifest->count; i++)
            if (strcmp (manifest->items[i].kind, "tree") != 0
                && strcmp (manifest->items[i].path, ".") != 0)
                manifest->items[i].keep = true;
    int left = wormctl_manifest_remove (dir, manifest, false);
    printf ("stopped %d host agent(s) of the cluster in %s\n", stopped, dir);
    if (left)
        fprintf (stderr, "wormctl down: %d thing(s) 'up' made are left in %s (listed in "
                         "%s/" WORMCTL_MANIFEST ")\n", left, dir, dir);
    rc = left ? 1 : 0;
done:
    free (manifest);
    return rc;
}

static int
s_up_option (void *arg, const char *name, const char *value, char *err, size_t cap)
{
    long *hosts = (long *) arg;
    if (strcmp (name, "help") == 0) {
        *hosts = -1;
        return 0;
    }
    return worm_parse_int (value, 1, WORMCTL_MAX_HOSTS, hosts, err, cap);
}

//  Whether the wormd options passed through say how to ring alarms.
static bool
s_passed_ring (char **passed, int npassed)
{
    for (int k = 0; k < npassed; k++)
        if (strncmp (passed[k], "--ring-command", 14) == 0
            || strncmp (passed[k], "--ring-log", 10) == 0)
            return true;
    return false;
}

//  wormctl up: starts a local cluster of --hosts N agents and waits until they hear each other.
static int
s_cmd_up (wormctl_client_t *client, int argc, char **argv)
{
    static const worm_opt_t options[] = {
        {"hosts", "N", "how many virtual hosts (1 to 256)"},
        {"help", NULL, "print this help"},
        {NULL, NULL, NULL},
    };
    char err[PATH_MAX + 512];
    long hosts = 0;
    int index = 0;
    if (worm_opts_parse (options, argc, argv, &index, s_up_option, &hosts, err, sizeof err))
        return wormctl_usage_error (client, "%s%s", err,
                                    strncmp (err, "unknown option", 14) == 0
                                        ? " (wormd options go after --)"
                                        : "");
    if (hosts < 0 || client->help) {
        wormctl_help (client,
                "Usage: wormctl [--dir DIR] up --hosts N [-- WORMD-OPTIONS...]\n\n"
                "Starts N virtual hosts on this machine: wormd processes named host1..hostN,\n"
                "each with its state folder and activity file under DIR (touch\n"
                "DIR/hostK/activity to play its user). They broadcast on the loopback\n"
                "broadcast 127.255.255.255, never on a real interface, on a beacon port of\n"
                "their own, recorded in DIR/cluster.zpl. Returns once all N hear each other.\n"
                "Options after -- go to every wormd (e.g. -- --min-idle 2). The hosts ring\n"
                "alarms by appending 'WORM-ID/ALARM-ID HOST DUE MESSAGE' to DIR/rings.log,\n"
                "unless those options say --ring-command or --ring-log.\n\n"
                "DIR must be new, empty, or hold only what an earlier 'up' made there: 'up'\n"
                "lists what it makes in DIR/" WORMCTL_MANIFEST ", and a failed 'up' (its\n"
                "agents' last log lines are printed) or 'down' removes exactly that. Run by\n"
                "root, it makes DIR passable for the guests' user (o+x) when it is ours.\n",
                options);
        return 0;
    }
    if (hosts == 0)
        return wormctl_usage_error (client, "say how many hosts with --hosts N");
    //  Whatever follows is handed to every wormd
    if (index < argc && (index == 0 || strcmp (argv[index - 1], "--") != 0))
        return wormctl_usage_error (client, "unexpected argument '%s' (wormd options go after --)",
                                    argv[index]);
    char **passed = argv + index;
    int npassed = argc - index;

    const char *dir = client->dir;
    wormctl_cluster_t cluster;
    if (wormctl_cluster_read (dir, &cluster, err, sizeof err) == 0)
        for (int i = 0; i < cluster.hosts; i++)
            if (wormctl_is_cluster_agent (cluster.pids[i], dir, i + 1)) {
                fprintf (stderr, "wormctl up: a cluster of %d hosts already runs in %s "
                                 "('wormctl down' first)\n", cluster.hosts, dir);
                return 1;
            }
    char wormd[PATH_MAX + 8];
    if (worm_exe_dir (wormd, sizeof wormd - 8)) {
        fprintf (stderr, "wormctl up: cannot find the folder of wormctl\n");
        return 1;
    }
    strcat (wormd, "/wormd");
    if (access (wormd, X_OK)) {
        fprintf (stderr, "wormctl up: no wormd beside wormctl (%s)\n", wormd);
        return 1;
    }
    wormctl_manifest_t *manifest = calloc (1, sizeof *manifest);
    memset (&cluster, 0, sizeof cluster);
    int rc = 1;
    //  The folder: new (ours, on the record), or holding nothing but what
    //  an earlier 'up' made (its manifest says)
    struct stat st;
    bool made_dir = false;
    if (stat (dir, &st) == 0) {
        if (!S_ISDIR (st.st_mode)) {
            fprintf (stderr, "wormctl up: %s is not a folder\n", dir);
            goto out;
        }
        char foreign[PATH_MAX + 512];
        if (wormctl_manifest_load (dir, manifest, err, sizeof err) < 0) {
            fprintf (stderr, "wormctl up: %s; refusing to use %s\n", err, dir);
            goto out;
        }
        if (wormctl_manifest_foreign (dir, manifest, "", foreign, sizeof foreign)) {
            fprintf (stderr, "wormctl up: %s was not made by 'wormctl up'; refusing to use %s "
                             "(name a new or empty folder with --dir)\n", foreign, dir);
            goto out;
        }
        for (int i = 0; i < manifest->count; i++) {
            char state[PATH_MAX + 256];
            snprintf (state, sizeof state, "%s/%s", dir, manifest->items[i].path);
            pid_t pid =
                strcmp (manifest->items[i].kind, "tree") == 0 ? wormctl_agent_in (state) : 0;
            if (pid) {
                fprintf (stderr, "wormctl up: wormd pid %d runs in %s; stop it first\n",
                         (int) pid, state);
                goto out;
            }
        }
        //  Agents run by root run their guests as another user, who must
        //  pass through this folder to reach theirs
        if (geteuid () == 0 && !(st.st_mode & S_IXOTH)) {
            if (st.st_uid != geteuid () || chmod (dir, (st.st_mode & 07777) | S_IXOTH)) {
                fprintf (stderr, "wormctl up: guests (another user) cannot pass through %s "
                                 "(mode %04o, owner uid %u): chmod o+x it, or choose another "
                                 "--dir\n", dir, (unsigned) (st.st_mode & 07777),
                         (unsigned) st.st_uid);
                goto out;
            }
            fprintf (stderr, "wormctl up: %s was mode %04o; made it %04o (o+x) so that guests, "
                             "run as another user, can pass through it\n", dir,
                     (unsigned) (st.st_mode & 07777), (unsigned) ((st.st_mode & 07777) | S_IXOTH));
        }
        //  What the earlier cluster left goes, but for its user key (a
        //  WORM_KEY may point at it)
        for (int i = 0; i < manifest->count; i++)
            manifest->items[i].keep = strcmp (manifest->items[i].path, "user.cert") == 0
                                      || strcmp (manifest->items[i].path, "user.cert_secret") == 0;
        wormctl_manifest_remove (dir, manifest, true);
        wormctl_manifest_load (dir, manifest, err, sizeof err);
    }
    else {
        //  Agents run by root run their guests as another user, who must pass
        //  through this folder to reach theirs: search, never read, for others
        if (worm_mkdirs (dir, geteuid () == 0 ? 0711 : 0700)) {
            fprintf (stderr, "wormctl up: cannot create %s: %s\n", dir, strerror (errno));
            goto out;
        }
        made_dir = true;
    }
    if (made_dir && wormctl_manifest_add (dir, manifest, "dir", ".", err, sizeof err)) {
        fprintf (stderr, "wormctl up: %s\n", err);
        rmdir (dir);
        goto out;
    }
    snprintf (cluster.broadcast, sizeof cluster.broadcast, "127.255.255.255");
    cluster.port = worm_udp_free_port ();
    if (cluster.port <= 0) {
        fprintf (stderr, "wormctl up: no free UDP port\n");
        goto fail;
    }
    //  Keys: one per host, the cluster's user key, and a folder that
    //  authorizes them all (and the key we speak with, when it is another)
    static char host_keys[WORMCTL_MAX_HOSTS][41];
    char authorized[PATH_MAX + 16], owners[PATH_MAX + 16], path[PATH_MAX + 64];
    snprintf (authorized, sizeof authorized, "%s/authorized", dir);
    snprintf (owners, sizeof owners, "%s/owners", dir);
    snprintf (path, sizeof path, "%s/user.cert", dir);
    zcert_t *user = wormctl_manifest_find (manifest, "user.cert")
                        ? worm_keys_load (path, err, sizeof err) : NULL;
    if (!user &&
        (wormctl_manifest_add (dir, manifest, "file", "user.cert", err, sizeof err) ||
         wormctl_manifest_add (dir, manifest, "file", "user.cert_secret", err, sizeof err)))
        goto fail_said;
    if (!user)
        user = worm_keys_create (path, WORM_ROLE_USER_NAME, true, err, sizeof err);
    if (!user)
        goto fail_said;
    if (wormctl_manifest_add (dir, manifest, "dir", "authorized", err, sizeof err)
        || worm_mkdirs (authorized, 0700)
        || wormctl_manifest_add (dir, manifest, "dir", "owners", err, sizeof err)
        || worm_mkdirs (owners, 0700) || wormctl_client_keys (client, err, sizeof err)
        || wormctl_manifest_add (dir, manifest, "file", "authorized/user.cert", err, sizeof err)
        || wormctl_manifest_add (dir, manifest, "file", "owners/user.cert", err, sizeof err)) {
        zcert_destroy (&user);
        goto fail_said;
    }
    //  The cluster's user (and the key we speak with) own every virtual host
    for (int k = 0; k < 2; k++) {
        const char *folder = k == 0 ? authorized : owners;
        snprintf (path, sizeof path, "%s/user.cert", folder);
        zcert_save_public (user, path);
        if (zcert_eq (user, client->cert))
            continue;
        char entry[64];
        snprintf (entry, sizeof entry, "%s/wormctl-user.cert", k == 0 ? "authorized" : "owners");
        if (wormctl_manifest_add (dir, manifest, "file", entry, err, sizeof err)) {
            zcert_destroy (&user);
            goto fail_said;
        }
        snprintf (path, sizeof path, "%s/wormctl-user.cert", folder);
        zcert_save_public (client->cert, path);
    }
    zcert_destroy (&user);
    if (wormctl_manifest_add (dir, manifest, "file", "cluster.zpl", err, sizeof err)
        || wormctl_manifest_add (dir, manifest, "file", "rings.log", err, sizeof err))
        goto fail_said;
    for (int i = 0; i < (int) hosts && !zsys_interrupted; i++) {
        char name[16], state[PATH_MAX + 32], activity[PATH_MAX + 48], log_path[PATH_MAX + 48],
            port[16], rel[64];
        snprintf (name, sizeof name, "host%d", i + 1);
        snprintf (state, sizeof state, "%s/%s", dir, name);
        snprintf (activity, sizeof activity, "%s/activity", state);
        snprintf (log_path, sizeof log_path, "%s/wormd.log", state);
        snprintf (port, sizeof port, "%d", cluster.port);
        snprintf (rel, sizeof rel, "authorized/%s.cert", name);
        if (wormctl_manifest_add (dir, manifest, "tree", name, err, sizeof err)
            || wormctl_manifest_add (dir, manifest, "file", rel, err, sizeof err))
            goto fail_said;
        worm_mkdirs (state, 0700);
        snprintf (path, sizeof path, "%s/host.cert", state);
        zcert_t *host = worm_keys_create (path, WORM_ROLE_HOST_NAME, true, err, sizeof err);
        if (!host)
            goto fail_said;
        snprintf (host_keys[i], sizeof host_keys[i], "%s", zcert_public_txt (host));
        snprintf (path, sizeof path, "%s/%s.cert", authorized, name);
        zcert_save_public (host, path);
        zcert_destroy (&host);
        char *args[32 + 64] = {"wormd", "--name", name, "--state-dir", state,
                               "--broadcast", cluster.broadcast, "--beacon-port", port,
                               "--activity-file", activity, "--idle-sources", "file",
                               "--min-idle", "10", "--authorized", authorized,
                               "--owners", owners};
        int n = 19;
        //  Virtual hosts ring alarms into one shared log, unless told how
        char rings[PATH_MAX + 16];
        snprintf (rings, sizeof rings, "%s/rings.log", dir);
        if (!s_passed_ring (passed, npassed)) {
            args[n++] = "--ring-log";
            args[n++] = rings;
        }
        for (int k = 0; k < npassed && k < 64; k++)
            args[n++] = passed[k];
        args[n] = NULL;
        worm_spawn_spec_t spec = {
            .path = wormd, .argv = args, .envp = environ, .log_path = log_path, .umask = 022};
        pid_t pid = worm_spawn (&spec, err, sizeof err);
        if (pid < 0)
            goto fail_said;
        cluster.pids[cluster.hosts++] = pid;
    }
    if (zsys_interrupted)
        goto interrupted;
    if (wormctl_cluster_write (dir, &cluster)) {
        fprintf (stderr, "wormctl up: cannot write %s/cluster.zpl\n", dir);
        goto fail;
    }
    //  Wait until every host hears all of them
    int64_t deadline = worm_now_ms () + wormctl_timeout_ms (client, S_WAIT_S);
    char endpoints[WORMCTL_MAX_HOSTS][128];
    int ready = 0;
    while (ready < cluster.hosts && worm_now_ms () < deadline) {
        ready = 0;
        for (int i = 0; i < cluster.hosts && !zsys_interrupted; i++) {
            int status = 0;
            if (waitpid (cluster.pids[i], &status, WNOHANG) == cluster.pids[i]) {
                char how[64];
                if (WIFEXITED (status))
                    snprintf (how, sizeof how, "exited with status %d", WEXITSTATUS (status));
                else
                    snprintf (how, sizeof how, "was killed by signal %d", WTERMSIG (status));
                fprintf (stderr, "wormctl up: host%d's wormd %s; the last lines of its log "
                                 "(removed with the cluster):\n", i + 1, how);
                char log_path[PATH_MAX + 48];
                snprintf (log_path, sizeof log_path, "%s/host%d/wormd.log", dir, i + 1);
                s_print_log_tail (log_path, 10);
                cluster.pids[i] = 0;
                goto fail;
            }
            if (s_read_endpoint (dir, i + 1, endpoints[i], sizeof endpoints[i]) == 0
                && s_heard (endpoints[i], host_keys[i]) >= cluster.hosts)
                ready++;
        }
        if (zsys_interrupted)
            goto interrupted;
        if (ready < cluster.hosts && wormctl_sleep (50))
            goto interrupted;
    }
    if (ready < cluster.hosts) {
        fprintf (stderr, "wormctl up: only %d of %d hosts hear all the others after %d ms\n",
                 ready, cluster.hosts, wormctl_timeout_ms (client, S_WAIT_S));
        goto fail;
    }
    printf ("local cluster of %d hosts in %s (loopback broadcast %s, beacon port %d)\n",
            cluster.hosts, dir, cluster.broadcast, cluster.port);
    printf ("%-8s %-8s %-26s %s\n", "HOST", "PID", "ENDPOINT", "ACTIVITY FILE");
    for (int i = 0; i < cluster.hosts; i++)
        printf ("host%-4d %-8d %-26s %s/host%d/activity\n", i + 1, (int) cluster.pids[i],
                endpoints[i], dir, i + 1);
    rc = 0;
    goto out;
interrupted: {
        //  Agents this young hold no guests: a short wait, then SIGKILL
        int running = 0;
        int stopped = wormctl_stop_agents (dir, &cluster, 150, true, &running);
        int left = running ? 0 : wormctl_manifest_remove (dir, manifest, false);
        if (running || left)
            wormctl_say_interrupted (client, "stopped %d of the %d host agent(s) it had started; "
                                     "what it made stays in %s ('wormctl down' removes it)",
                               stopped, cluster.hosts, dir);
        else
            wormctl_say_interrupted (client,
                                     "stopped the %d host agent(s) it had started and removed "
                                     "what it made in %s",
                                     stopped, dir);
        goto out;
    }
fail_said:
    fprintf (stderr, "wormctl up: %s\n", err);
fail: {
        int running = 0;
        wormctl_stop_agents (dir, &cluster, 10000, true, &running);
        if (!running)
            wormctl_manifest_remove (dir, manifest, false);
    }
out:
    free (manifest);
    return rc;
}

const wormctl_command_t wormctl_cluster_commands[] = {
    //  up makes the cluster's keys, then loads them itself
    {"up", "--hosts N [-- WORMD-OPTIONS]", "start a local cluster of N virtual hosts",
     "how long to wait for the N hosts to hear each other (default " WORMCTL_STR (S_WAIT_S)
     " s)",
     false, s_cmd_up},
    {"down", "", "stop the local cluster's hosts", NULL, false, s_cmd_down},
    {NULL, NULL, NULL, NULL, false, NULL},
};
