/*  auth_test.c — the keyset: a folder of public key files, re-read when it
    changes, including changes made in the same clock tick as the last load
    and a key file written in place after it was created (empty) and read. */
#include "auth.h"
#include "../tests/check.h"

#include <sys/stat.h>
#include <unistd.h>

//  Writes the public key file of cert at path, in place (no rename), the
//  way `cp` or a shell redirection does.
static void
s_write_public (zcert_t *cert, const char *path)
{
    CHECK_EQ (zcert_save_public (cert, path), 0);
}

static char s_dir[] = "/tmp/worm-auth-test-XXXXXX";

//  Removes what the test made, also when a check fails (it exits).
static void
s_cleanup (void)
{
    const char *names[] = {"alice.key", "bob.key", "carol.key", "carol.key_secret"};
    char path[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf (path, sizeof path, "%s/%s", s_dir, names[i]);
        unlink (path);
    }
    rmdir (s_dir);
}

//  Waits (5 s at most) until the keyset has read its folder again; it looks
//  at most once a second, when asked about a key.
static void
s_wait_reload (worm_keyset_t *keys)
{
    size_t before = worm_keyset_loads (keys);
    int64_t deadline = zclock_mono () + 5000;
    while (worm_keyset_loads (keys) == before && zclock_mono () < deadline) {
        worm_keyset_has (keys, "nobody");
        usleep (20 * 1000);
    }
    CHECK (worm_keyset_loads (keys) > before);
}

int
main (void)
{
    CHECK (mkdtemp (s_dir));
    atexit (s_cleanup);
    const char *dir = s_dir;
    zcert_t *alice = zcert_new ();
    zcert_t *bob = zcert_new ();
    zcert_t *carol = zcert_new ();
    char path[512];

    //  Alice's key is there from the start; a stranger's is not
    snprintf (path, sizeof path, "%s/alice.key", dir);
    s_write_public (alice, path);
    worm_keyset_t *keys = worm_keyset_new (dir);
    CHECK (worm_keyset_has (keys, zcert_public_txt (alice)));
    CHECK (!worm_keyset_has (keys, zcert_public_txt (bob)));
    CHECK (!worm_keyset_has (keys, NULL));
    CHECK_EQ (worm_keyset_size (keys), 1);

    //  Bob's file is created empty and read in that state (skipped), then
    //  filled in place: the folder's mtime no longer changes, yet the key
    //  must be found at the next check
    snprintf (path, sizeof path, "%s/bob.key", dir);
    FILE *empty = fopen (path, "w");
    CHECK (empty);
    fclose (empty);
    s_wait_reload (keys);
    CHECK (!worm_keyset_has (keys, zcert_public_txt (bob)));
    s_write_public (bob, path);
    s_wait_reload (keys);
    CHECK (worm_keyset_has (keys, zcert_public_txt (bob)));
    CHECK_EQ (worm_keyset_size (keys), 2);

    //  A key removed is refused after the next check; secret files and
    //  dot files never count
    unlink (path);
    snprintf (path, sizeof path, "%s/carol.key", dir);
    CHECK_EQ (zcert_save (carol, path), 0);     //  also writes carol.key_secret
    s_wait_reload (keys);
    CHECK (!worm_keyset_has (keys, zcert_public_txt (bob)));
    CHECK (worm_keyset_has (keys, zcert_public_txt (carol)));
    CHECK_EQ (worm_keyset_size (keys), 2);

    //  Keys added by hand survive reloads
    worm_keyset_add (keys, zcert_public_txt (bob));
    snprintf (path, sizeof path, "%s/carol.key", dir);
    unlink (path);
    s_wait_reload (keys);
    CHECK (worm_keyset_has (keys, zcert_public_txt (bob)));
    CHECK (!worm_keyset_has (keys, zcert_public_txt (carol)));

    //  The folder gone: nothing but the hand-added keys
    snprintf (path, sizeof path, "%s/alice.key", dir);
    unlink (path);
    snprintf (path, sizeof path, "%s/carol.key_secret", dir);
    unlink (path);
    CHECK_EQ (rmdir (dir), 0);
    s_wait_reload (keys);
    CHECK (!worm_keyset_has (keys, zcert_public_txt (alice)));
    CHECK (worm_keyset_has (keys, zcert_public_txt (bob)));

    worm_keyset_destroy (&keys);
    CHECK (keys == NULL);
    zcert_destroy (&alice);
    zcert_destroy (&bob);
    zcert_destroy (&carol);
    return check_done ("worm.auth");
}
