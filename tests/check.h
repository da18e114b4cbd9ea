/*  check.h — assertions for the project's C tests.

    Each failing check prints the file, the line, the expression and both
    sides of a comparison ("3 != 4"), then exits 1 so CTest sees a failure.
    check_done() prints how many checks ran; a test that ran none fails.
*/
#ifndef WORM_CHECK_H_INCLUDED
#define WORM_CHECK_H_INCLUDED

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long check_count_ = 0;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        check_count_++;                                                                        \
        if (!(cond)) {                                                                         \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
            exit (1);                                                                          \
        }                                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                                         \
    do {                                                                                       \
        check_count_++;                                                                        \
        long long a_ = (long long) (a), b_ = (long long) (b);                                  \
        if (a_ != b_) {                                                                        \
            fprintf (stderr, "%s:%d: CHECK_EQ failed: %s == %s: %lld != %lld\n", __FILE__,     \
                     __LINE__, #a, #b, a_, b_);                                                \
            exit (1);                                                                          \
        }                                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                                        \
    do {                                                                                       \
        check_count_++;                                                                        \
        const char *a_ = (a), *b_ = (b);                                                       \
        if (!a_ || !b_ || strcmp (a_, b_) != 0) {                                              \
            fprintf (stderr, "%s:%d: CHECK_STR failed: %s == %s: \"%s\" != \"%s\"\n",          \
                     __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");      \
            exit (1);                                                                          \
        }                                                                                      \
    } while (0)

//  Checks that string a contains b.
#define CHECK_HAS(a, b)                                                                        \
    do {                                                                                       \
        check_count_++;                                                                        \
        const char *a_ = (a), *b_ = (b);                                                       \
        if (!a_ || !b_ || !strstr (a_, b_)) {                                                  \
            fprintf (stderr, "%s:%d: CHECK_HAS failed: \"%s\" does not contain \"%s\"\n",      \
                     __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)");              \
            exit (1);                                                                          \
        }                                                                                      \
    } while (0)

static inline int
check_done (const char *name)
{
    if (check_count_ == 0) {
        fprintf (stderr, "%s: no check ran\n", name);
        return 1;
    }
    printf ("%s: %ld checks passed\n", name, check_count_);
    return 0;
}

#endif
