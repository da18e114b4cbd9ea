/*  keys_test.c — keypair files: made with a role, loaded back, never
    replaced without force, the secret file private; files that are not a
    keypair, or whose two halves do not belong together, are refused with
    the reason. All in a fresh folder, removed at the end (also when a check
    fails). */
#include "keys.h"
#include "auth.h"
#include "spawn.h"
#include "../tests/check.h"

#include <sys/stat.h>
#include <unistd.h>

static char s_dir[] = "/tmp/worm-keys-test-XXXXXX";

static void
s_cleanup (void)
{
    worm_rmtree (s_dir);
}

//  DIR/name into a static buffer (two in turn, so two can be used at once).
static const char *
s_path (const char *name)
{
    static char paths[2][512];
    static int turn;
    turn = !turn;
    snprintf (paths[turn], sizeof paths[turn], "%s/%s", s_dir, name);
    return paths[turn];
}

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    CHECK (file != NULL);
    fputs (text, file);
    CHECK_EQ (fclose (file), 0);
}

//  The whole file into a static buffer.
static const char *
s_read (const char *path)
{
    static char text[4096];
    FILE *file = fopen (path, "r");
    CHECK (file != NULL);
    size_t size = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text[size] = 0;
    return text;
}

static mode_t
s_mode (const char *path)
{
    struct stat st;
    CHECK_EQ (stat (path, &st), 0);
    return st.st_mode & 07777;
}

int
main (void)
{
    CHECK (mkdtemp (s_dir) != NULL);
    atexit (s_cleanup);
    char err[1024], path[512], secret[512];

    //  A host key, in folders that do not exist yet (made 0700)
    snprintf (path, sizeof path, "%s", s_path ("state/deep/host.cert"));
    snprintf (secret, sizeof secret, "%s_secret", path);
    mode_t old_umask = umask (0);   //  the modes must not depend on it
    zcert_t *host = worm_keys_create (path, WORM_ROLE_HOST_NAME, false, err, sizeof err);
    umask (old_umask);
    CHECK (host != NULL);
    CHECK_STR (zcert_meta (host, "role"), "host");
    CHECK (worm_key_valid (zcert_public_txt (host)));
    CHECK_EQ (s_mode (secret), 0600);
    CHECK_EQ (s_mode (s_path ("state")), 0700);
    CHECK_EQ (s_mode (s_path ("state/deep")), 0700);
    //  The public file holds the public key and the role, not the secret
    const char *text = s_read (path);
    CHECK_HAS (text, zcert_public_txt (host));
    CHECK_HAS (text, "role = \"host\"");
    CHECK (strstr (text, zcert_secret_txt (host)) == NULL);
    CHECK_HAS (s_read (secret), zcert_secret_txt (host));

    //  Loaded back: the same keys and role
    zcert_t *loaded = worm_keys_load (path, err, sizeof err);
    CHECK (loaded != NULL);
    CHECK_STR (zcert_public_txt (loaded), zcert_public_txt (host));
    CHECK_STR (zcert_secret_txt (loaded), zcert_secret_txt (host));
    CHECK_STR (zcert_meta (loaded, "role"), "host");
    zcert_destroy (&loaded);

    //  Not replaced without force, whichever half is there; both stay as they were
    char before[4096];
    snprintf (before, sizeof before, "%s", s_read (secret));
    CHECK (worm_keys_create (path, WORM_ROLE_USER_NAME, false, err, sizeof err) == NULL);
    CHECK_HAS (err, "a keypair already exists at ");
    CHECK_HAS (err, path);
    CHECK_HAS (err, "--force replaces it");
    CHECK_STR (s_read (secret), before);
    CHECK_EQ (unlink (path), 0);
    CHECK (worm_keys_create (path, WORM_ROLE_USER_NAME, false, err, sizeof err) == NULL);
    CHECK_HAS (err, "a keypair already exists at ");
    CHECK_STR (s_read (secret), before);

    //  With force: a new user key replaces it
    zcert_t *user = worm_keys_create (path, WORM_ROLE_USER_NAME, true, err, sizeof err);
    CHECK (user != NULL);
    CHECK (strcmp (zcert_public_txt (user), zcert_public_txt (host)) != 0);
    CHECK_STR (zcert_meta (user, "role"), "user");
    CHECK_EQ (s_mode (secret), 0600);
    loaded = worm_keys_load (path, err, sizeof err);
    CHECK (loaded != NULL);
    CHECK_STR (zcert_public_txt (loaded), zcert_public_txt (user));
    CHECK_STR (zcert_meta (loaded, "role"), "user");
    zcert_destroy (&loaded);

    //  The roles as a keyset reads them from the public files
    zcert_t *host2 = worm_keys_create (s_path ("state/deep/other.cert"), WORM_ROLE_HOST_NAME,
                                       false, err, sizeof err);
    CHECK (host2 != NULL);
    worm_keyset_t *keyset = worm_keyset_new (s_path ("state/deep"));
    CHECK_EQ (worm_keyset_size (keyset), 2);
    CHECK (worm_keyset_has_host (keyset, zcert_public_txt (host2)));
    CHECK (worm_keyset_has (keyset, zcert_public_txt (user)));
    CHECK (!worm_keyset_has_host (keyset, zcert_public_txt (user)));
    worm_keyset_destroy (&keyset);

    //  Loading what is not there, or not a keypair
    CHECK (worm_keys_load (s_path ("none.cert"), err, sizeof err) == NULL);
    CHECK_HAS (err, "no keypair at ");
    CHECK_HAS (err, "none.cert_secret: No such file or directory");
    //  Only the public half
    zcert_save_public (host, s_path ("public-only.cert"));
    CHECK (worm_keys_load (s_path ("public-only.cert"), err, sizeof err) == NULL);
    CHECK_HAS (err, "no keypair at ");
    //  Garbage, and a ZPL file without keys, as the secret half
    s_write (s_path ("garbage.cert_secret"), "\x01\x02 this is not ZPL ((\n   =\n");
    CHECK (worm_keys_load (s_path ("garbage.cert"), err, sizeof err) == NULL);
    CHECK_HAS (err, "garbage.cert is not a keypair file");
    s_write (s_path ("nokeys.cert_secret"), "metadata\n    role = \"host\"\n");
    CHECK (worm_keys_load (s_path ("nokeys.cert"), err, sizeof err) == NULL);
    CHECK_HAS (err, "nokeys.cert is not a keypair file");
    //  A secret half that holds no secret key (a copy of the public file)
    s_write (s_path ("copy.cert_secret"), s_read (s_path ("public-only.cert")));
    CHECK (worm_keys_load (s_path ("copy.cert"), err, sizeof err) == NULL);
    CHECK_HAS (err, "copy.cert is not a keypair file");
    //  A corrupt secret half beside a good public one: not the public key
    //  alone with a secret key of zeros
    zcert_save_public (host, s_path ("corrupt.cert"));
    s_write (s_path ("corrupt.cert_secret"), "curve\n    public-key = \"x\n");
    CHECK (worm_keys_load (s_path ("corrupt.cert"), err, sizeof err) == NULL);
    CHECK_HAS (err, "corrupt.cert is not a keypair file");
    //  A secret key that does not belong to the public key beside it
    char mixed[2048];
    snprintf (mixed, sizeof mixed,
              "curve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
              zcert_public_txt (host), zcert_secret_txt (user));
    s_write (s_path ("mixed.cert_secret"), mixed);
    CHECK (worm_keys_load (s_path ("mixed.cert"), err, sizeof err) == NULL);
    CHECK_HAS (err, "mixed.cert is not a keypair file");
    CHECK_HAS (err, "the secret key does not belong to the public key");
    //  Two good halves of different keypairs
    zcert_save_public (host, s_path ("halves.cert"));
    zcert_save_secret (user, s_path ("halves.cert_secret"));
    CHECK (worm_keys_load (s_path ("halves.cert"), err, sizeof err) == NULL);
    CHECK_HAS (err, "halves.cert and its _secret file hold different keys");

    //  A folder that cannot be made (a file is in the way), and a path that
    //  cannot be written (it is a folder)
    s_write (s_path ("file"), "x");
    CHECK (worm_keys_create (s_path ("file/sub/k.cert"), WORM_ROLE_USER_NAME, false, err,
                             sizeof err) == NULL);
    CHECK_HAS (err, "cannot create the folder of ");
    CHECK_HAS (err, "file/sub/k.cert: Not a directory");
    CHECK_EQ (mkdir (s_path ("folder.cert"), 0700), 0);
    CHECK (worm_keys_create (s_path ("folder.cert"), WORM_ROLE_USER_NAME, true, err, sizeof err)
           == NULL);
    CHECK_HAS (err, "cannot write ");
    CHECK_HAS (err, "folder.cert");

    //  The default user key
    char buf[512];
    setenv ("XDG_CONFIG_HOME", "/x/config", 1);
    setenv ("HOME", "/x/home", 1);
    worm_keys_default_path (buf, sizeof buf);
    CHECK_STR (buf, "/x/config/worm/user.cert");
    setenv ("XDG_CONFIG_HOME", "", 1);
    worm_keys_default_path (buf, sizeof buf);
    CHECK_STR (buf, "/x/home/.config/worm/user.cert");
    unsetenv ("XDG_CONFIG_HOME");
    worm_keys_default_path (buf, sizeof buf);
    CHECK_STR (buf, "/x/home/.config/worm/user.cert");
    unsetenv ("HOME");
    worm_keys_default_path (buf, sizeof buf);
    CHECK_STR (buf, "./.config/worm/user.cert");

    zcert_destroy (&host);
    zcert_destroy (&host2);
    zcert_destroy (&user);
    CHECK_EQ (worm_rmtree (s_dir), 0);
    CHECK (access (s_dir, F_OK) != 0);
    return check_done ("worm.keys");
}
