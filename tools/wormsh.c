/*  wormsh — a shell for make that runs each recipe line on a willing host:
    make -j8 SHELL=wormsh. It is 'wormctl run --shell': the line runs there
    in the folder of the same path as ours, which must be shared (README.md,
    "wormsh"), or here when no host is willing.

    $WORMSH_OPTIONS holds wormctl's global options (e.g. --dir DIR) and
    $WORMSH_RUN_OPTIONS run's (e.g. --retry 2 --env CC), each split at
    blanks; the wormctl next to this program runs, else the one on PATH.
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAX_WORDS 64  //  option words taken from each variable, at most

//  Appends the blank-separated words of $name to words; returns their count
//  after, or -1 when there are too many.
static int
s_split (const char *name, char *text, size_t cap, char **words, int count, int max)
{
    const char *value = getenv (name);
    snprintf (text, cap, "%s", value ? value : "");
    for (char *word = strtok (text, " \t\n"); word; word = strtok (NULL, " \t\n")) {
        if (count >= max) {
            fprintf (stderr, "wormsh: $%s has more than %d words\n", name, S_MAX_WORDS);
            return -1;
        }
        words[count++] = word;
    }
    return count;
}

int
main (int argc, char **argv)
{
    static char global[4096], local[4096];
    char *words[2 * S_MAX_WORDS + 8 + 16];
    int max = 2 * S_MAX_WORDS + 4, count = 0;
    if (argc > 16) {
        fprintf (stderr, "wormsh: usage: wormsh [-e] -c 'COMMAND LINE'\n");
        return 2;
    }
    //  The wormctl beside us (a build folder, an install), else PATH's
    char wormctl[PATH_MAX];
    ssize_t size = readlink ("/proc/self/exe", wormctl, sizeof wormctl - 16);
    char *slash = size > 0 ? memrchr (wormctl, '/', (size_t) size) : NULL;
    if (slash)
        strcpy (slash + 1, "wormctl");
    words[count++] = slash && access (wormctl, X_OK) == 0 ? wormctl : "wormctl";
    if ((count = s_split ("WORMSH_OPTIONS", global, sizeof global, words, count, max)) < 0)
        return 2;
    words[count++] = "run";
    words[count++] = "--shell";
    if ((count = s_split ("WORMSH_RUN_OPTIONS", local, sizeof local, words, count, max)) < 0)
        return 2;
    words[count++] = "--";
    for (int i = 1; i < argc; i++)
        words[count++] = argv[i];
    words[count] = NULL;
    execvp (words[0], words);
    fprintf (stderr, "wormsh: cannot run %s: %s\n", words[0], strerror (errno));
    return 127;
}
