/*  manifest.c — what 'wormctl up' made, DIR/cluster.manifest (see
    manifest.h).
*/
#include "manifest.h"
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
wormctl_manifest_load (const char *dir, wormctl_manifest_t *manifest, char *err, size_t cap)
{
    memset (manifest, 0, sizeof *manifest);
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/" WORMCTL_MANIFEST, dir);
    FILE *file = fopen (path, "r");
    if (!file)
        return errno == ENOENT ? 1 : (snprintf (err, cap, "cannot read %s: %s", path,
                                                strerror (errno)), -1);
    char line[512];
    int number = 0, rc = 0;
    while (fgets (line, sizeof line, file)) {
        number++;
        line[strcspn (line, "\n")] = 0;
        if (number == 1 && strcmp (line, WORMCTL_MANIFEST_HEAD) == 0)
            continue;
        char *space = strchr (line, ' ');
        if (number == 1 || !space || manifest->count >= (int) (sizeof manifest->items
                                                               / sizeof manifest->items[0])) {
            snprintf (err, cap, "%s, line %d, is not what 'wormctl up' writes", path, number);
            rc = -1;
            break;
        }
        *space = 0;
        wormctl_made_t *item = &manifest->items[manifest->count];
        const char *rel = space + 1;
        bool kind_ok = strcmp (line, "dir") == 0 || strcmp (line, "file") == 0
                       || strcmp (line, "tree") == 0;
        if (!kind_ok || !rel[0] || rel[0] == '/' || strstr (rel, "..")
            || strlen (rel) >= sizeof item->path) {
            snprintf (err, cap, "%s, line %d, is not what 'wormctl up' writes", path, number);
            rc = -1;
            break;
        }
        snprintf (item->kind, sizeof item->kind, "%s", line);
        snprintf (item->path, sizeof item->path, "%s", rel);
        manifest->count++;
    }
    fclose (file);
    return rc;
}

wormctl_made_t *
wormctl_manifest_find (wormctl_manifest_t *manifest, const char *rel)
{
    for (int i = 0; i < manifest->count; i++)
        if (strcmp (manifest->items[i].path, rel) == 0)
            return &manifest->items[i];
    return NULL;
}

int wormctl_manifest_add (const char *dir, wormctl_manifest_t *manifest, const char *kind,
                          const char *rel, char *err, size_t cap)
{
    if (wormctl_manifest_find (manifest, rel))
        return 0;
    if (manifest->count >= (int) (sizeof manifest->items / sizeof manifest->items[0])) {
        snprintf (err, cap, "too many things in %s/" WORMCTL_MANIFEST, dir);
        return -1;
    }
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/" WORMCTL_MANIFEST, dir);
    bool fresh = access (path, F_OK) != 0;
    FILE *file = fopen (path, "a");
    if (!file || (fresh && fprintf (file, "%s\n", WORMCTL_MANIFEST_HEAD) < 0)
        || fprintf (file, "%s %s\n", kind, rel) < 0 || fclose (file)) {
        snprintf (err, cap, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    wormctl_made_t *item = &manifest->items[manifest->count++];
    memset (item, 0, sizeof *item);
    snprintf (item->kind, sizeof item->kind, "%s", kind);
    snprintf (item->path, sizeof item->path, "%s", rel);
    return 0;
}

bool wormctl_manifest_foreign (const char *dir, wormctl_manifest_t *manifest, const char *rel,
                               char *out, size_t cap)
{
    char path[PATH_MAX + 256];
    snprintf (path, sizeof path, "%s%s%s", dir, rel[0] ? "/" : "", rel);
    DIR *folder = opendir (path);
    if (!folder) {
        snprintf (out, cap, "%s", path);
        return true;
    }
    struct dirent *entry;
    bool found = false;
    while (!found && (entry = readdir (folder))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        char child[512];
        snprintf (child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", entry->d_name);
        if (!rel[0] && strcmp (child, WORMCTL_MANIFEST) == 0 && manifest && manifest->count)
            continue;
        wormctl_made_t *item = manifest ? wormctl_manifest_find (manifest, child) : NULL;
        char full[PATH_MAX + 512];
        snprintf (full, sizeof full, "%s/%s", dir, child);
        struct stat st;
        bool is_dir = lstat (full, &st) == 0 && S_ISDIR (st.st_mode);
        if (!item || (strcmp (item->kind, "file") == 0 && is_dir)
            || (strcmp (item->kind, "file") != 0 && !is_dir)) {
            //  Name a file in a folder of someone else's, not just the folder
            if (!is_dir || !wormctl_manifest_foreign (full, NULL, "", out, cap))
                snprintf (out, cap, "%s", full);
            found = true;
        }
        else if (strcmp (item->kind, "dir") == 0)
            found = wormctl_manifest_foreign (dir, manifest, child, out, cap);
    }
    closedir (folder);
    return found;
}

int
wormctl_manifest_remove (const char *dir, wormctl_manifest_t *manifest, bool keep_dir)
{
    char path[PATH_MAX + 256];
    bool made_dir = false;
    for (int i = manifest->count - 1; i >= 0; i--) {
        wormctl_made_t *item = &manifest->items[i];
        if (strcmp (item->path, ".") == 0) {
            made_dir = true;
            continue;
        }
        if (item->keep)
            continue;
        snprintf (path, sizeof path, "%s/%s", dir, item->path);
        struct stat st;
        if (strcmp (item->kind, "tree") == 0)
            worm_rmtree (path);
        else if (strcmp (item->kind, "dir") == 0)
            rmdir (path);
        else
            unlink (path);
        //  Still there (a folder that something else was put into): keep
        //  it on the record
        item->keep = lstat (path, &st) == 0;
    }
    int left = 0;
    for (int i = 0; i < manifest->count; i++)
        left += manifest->items[i].keep;
    snprintf (path, sizeof path, "%s/" WORMCTL_MANIFEST, dir);
    if (left == 0 && !(made_dir && keep_dir)) {
        unlink (path);
        if (made_dir)
            rmdir (dir);
        return 0;
    }
    FILE *file = fopen (path, "w");
    if (file) {
        fprintf (file, "%s\n", WORMCTL_MANIFEST_HEAD);
        for (int i = 0; i < manifest->count; i++)
            if (manifest->items[i].keep || strcmp (manifest->items[i].path, ".") == 0)
                fprintf (file, "%s %s\n", manifest->items[i].kind, manifest->items[i].path);
        fclose (file);
    }
    return left;
}
