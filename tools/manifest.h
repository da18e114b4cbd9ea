/*  manifest.h — what 'wormctl up' made: DIR/cluster.manifest, one line a
    thing, "KIND PATH" with PATH relative to DIR, in the order they were
    made: "dir ." (DIR itself), "dir P" (a folder, removed once empty),
    "file P", "tree P" (an agent's state folder, removed whole once no agent
    runs there). A failed 'up' and 'down' remove exactly these, newest
    first; 'up' refuses a folder that holds anything else.
*/
#ifndef WORMCTL_MANIFEST_H_INCLUDED
#define WORMCTL_MANIFEST_H_INCLUDED

#include "client.h"

#include <stdbool.h>
#include <stddef.h>

#define WORMCTL_MANIFEST "cluster.manifest"
#define WORMCTL_MANIFEST_HEAD "# made by 'wormctl up'; 'wormctl down' removes exactly these"

typedef struct {
    char kind[8];               //  "dir", "file" or "tree"
    char path[256];             //  relative to the cluster folder
    bool keep;                  //  wormctl_manifest_remove leaves it
} wormctl_made_t;

typedef struct {
    wormctl_made_t items[WORMCTL_MAX_HOSTS * 2 + 32];   //  what was made, oldest first
    int count;                                          //  how many
} wormctl_manifest_t;

/*  Reads DIR/cluster.manifest into manifest. Returns 0, 1 when there is
    none, or -1 with err when it is not one of ours. */
int wormctl_manifest_load (const char *dir, wormctl_manifest_t *manifest, char *err, size_t cap);

/*  The item of path rel, or NULL. */
wormctl_made_t *wormctl_manifest_find (wormctl_manifest_t *manifest, const char *rel);

/*  Records that up is about to make rel (KIND as above), before it makes
    it, so that a crash leaves nothing unrecorded; an item already listed
    is not added again. Returns 0, or -1 with err. */
int wormctl_manifest_add (const char *dir, wormctl_manifest_t *manifest, const char *kind,
                          const char *rel, char *err, size_t cap);

/*  Finds the first thing under DIR/rel (rel "" for DIR) that the manifest
    (NULL: none) does not account for, a file rather than its folder when
    it can; writes its path into out and returns true. */
bool wormctl_manifest_foreign (const char *dir, wormctl_manifest_t *manifest, const char *rel,
                               char *out, size_t cap);

/*  Removes what the manifest lists, newest first, except items marked
    keep (and marks keep what could not be removed); rewrites the manifest
    with what is left, or removes it (and DIR, when up made it, unless
    keep_dir) when nothing is. Returns how many items are left, DIR itself
    not counted. */
int wormctl_manifest_remove (const char *dir, wormctl_manifest_t *manifest, bool keep_dir);

#endif
