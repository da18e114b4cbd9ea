/*  jobq_test.c — leases, give-backs, duplicates and cancels of a job's units. */
#include "jobq.h"
#include "../tests/check.h"

static void
s_lease_order (void)
{
    worm_jobq_t *q = worm_jobq_new (1000);
    CHECK (worm_jobq_idle (q));
    CHECK_EQ (worm_jobq_add (q, 7, "a", 1), 1);
    CHECK_EQ (worm_jobq_add (q, 7, "b", 1), 2);
    CHECK_EQ (worm_jobq_add (q, 8, "", 0), 3);
    CHECK (!worm_jobq_idle (q));
    const worm_unit_t *u = worm_jobq_lease (q, "s1", 100);
    CHECK (u && u->id == 1 && u->size == 1 && memcmp (u->body, "a", 1) == 0);
    CHECK_STR (u->holder, "s1");
    CHECK_EQ (u->lease_until, 1100);
    u = worm_jobq_lease (q, "s2", 100);
    CHECK (u && u->id == 2);
    //  s1 dies: its unit is leased again before the fresh one, to s2
    CHECK_EQ (worm_jobq_lost (q, "s1"), 1);
    CHECK_EQ (worm_jobq_holding (q, "s1"), 0);
    u = worm_jobq_lease (q, "s2", 200);
    CHECK (u && u->id == 1 && u->leases == 2);
    CHECK_EQ (worm_jobq_holding (q, "s2"), 2);
    u = worm_jobq_lease (q, "s3", 200);
    CHECK (u && u->id == 3 && u->size == 0);
    CHECK (worm_jobq_lease (q, "s3", 200) == NULL);
    worm_jobq_counts_t c = worm_jobq_counts (q);
    CHECK_EQ (c.queued, 0);
    CHECK_EQ (c.leased, 3);
    CHECK_EQ (c.reassigned, 1);
    //  Results: the first counts, a second is a duplicate, an unknown id is refused
    CHECK_EQ (worm_jobq_done (q, 1, "s2"), 0);
    CHECK_EQ (worm_jobq_done (q, 1, "s1"), 1);
    CHECK_EQ (worm_jobq_done (q, 99, "s1"), -1);
    CHECK_EQ (worm_jobq_done (q, 0, "s1"), -1);
    CHECK_EQ (worm_jobq_done (q, 2, "s2"), 0);
    CHECK_EQ (worm_jobq_done (q, 3, "s3"), 0);
    CHECK (worm_jobq_idle (q));
    c = worm_jobq_counts (q);
    CHECK_EQ (c.done, 3);
    CHECK_EQ (c.leased, 0);
    worm_jobq_destroy (&q);
    CHECK (q == NULL);
    worm_jobq_destroy (&q);
}

static void
s_leases (void)
{
    worm_jobq_t *q = worm_jobq_new (1000);
    for (int i = 0; i < 4; i++)
        worm_jobq_add (q, 1, &i, sizeof i);
    worm_jobq_lease (q, "s1", 0);       //  1
    worm_jobq_lease (q, "s1", 0);       //  2
    worm_jobq_lease (q, "s2", 0);       //  3
    //  s1 answers at 900 holding only unit 2: unit 1 was lost there, 2 renewed
    uint64_t held[] = {2};
    CHECK_EQ (worm_jobq_held (q, "s1", held, 1, 800, 900), 1);
    CHECK_EQ (worm_jobq_unit (q, 1)->state, WORM_UNIT_QUEUED);
    CHECK_EQ (worm_jobq_unit (q, 2)->lease_until, 1900);
    //  A unit leased after the question was asked is not judged by its answer
    const worm_unit_t *late = worm_jobq_lease (q, "s1", 950);
    CHECK_EQ (late->id, 1);
    CHECK_EQ (worm_jobq_held (q, "s1", held, 1, 940, 960), 0);
    CHECK_EQ (worm_jobq_held (q, "s1", held, 1, 951, 960), 1);
    CHECK_EQ (late->state, WORM_UNIT_QUEUED);
    //  A refused unit goes back; one not leased cannot
    CHECK_EQ (worm_jobq_give_back (q, 1), -1);
    CHECK_EQ (worm_jobq_give_back (q, 77), -1);
    //  s2 never answers: at 1000 its lease lapses, s1's does not
    CHECK_EQ (worm_jobq_expire (q, 999), 0);
    CHECK_EQ (worm_jobq_expire (q, 1000), 1);
    CHECK_EQ (worm_jobq_unit (q, 3)->state, WORM_UNIT_QUEUED);
    CHECK_EQ (worm_jobq_unit (q, 2)->state, WORM_UNIT_LEASED);
    //  Given back in the order they came back, before the fresh unit 4
    const worm_unit_t *u = worm_jobq_lease (q, "s3", 1000);
    CHECK_EQ (u->id, 1);
    u = worm_jobq_lease (q, "s3", 1000);
    CHECK_EQ (u->id, 3);
    u = worm_jobq_lease (q, "s3", 1000);
    CHECK_EQ (u->id, 4);
    //  s2's late result of unit 3 still counts (first), s3's then is a duplicate
    CHECK_EQ (worm_jobq_done (q, 3, "s2"), 0);
    CHECK_STR (worm_jobq_unit (q, 3)->holder, "s2");
    CHECK_EQ (worm_jobq_done (q, 3, "s3"), 1);
    CHECK_EQ (worm_jobq_holding (q, "s3"), 2);
    CHECK_EQ (worm_jobq_counts (q).reassigned, 3);
    CHECK_EQ (worm_jobq_give_back (q, 4), 0);
    CHECK_EQ (worm_jobq_holding (q, "s3"), 1);
    CHECK_EQ (worm_jobq_lease (q, "s4", 1000)->id, 4);
    worm_jobq_destroy (&q);
}

typedef struct {
    int calls;
    char holders[64];
} s_told_t;

static void
s_tell (void *arg, const worm_unit_t *unit)
{
    s_told_t *told = arg;
    told->calls++;
    strncat (told->holders, unit->holder, sizeof told->holders - strlen (told->holders) - 1);
}

static void
s_cancel (void)
{
    worm_jobq_t *q = worm_jobq_new (500);
    worm_jobq_add (q, 1, "x", 1);   //  1
    worm_jobq_add (q, 2, "y", 1);   //  2
    worm_jobq_add (q, 1, "z", 1);   //  3
    worm_jobq_add (q, 1, "w", 1);   //  4
    worm_jobq_lease (q, "a", 0);    //  1
    worm_jobq_lease (q, "b", 0);    //  2
    worm_jobq_lease (q, "c", 0);    //  3
    CHECK_EQ (worm_jobq_done (q, 3, "c"), 0);
    //  Group 1: unit 1 leased (a is told), 4 queued, 3 done already
    s_told_t told = {0};
    CHECK_EQ (worm_jobq_cancel (q, 1, s_tell, &told), 2);
    CHECK_EQ (told.calls, 1);
    CHECK_STR (told.holders, "a");
    CHECK_EQ (worm_jobq_unit (q, 1)->state, WORM_UNIT_CANCELLED);
    CHECK_EQ (worm_jobq_unit (q, 3)->state, WORM_UNIT_DONE);
    CHECK_EQ (worm_jobq_unit (q, 4)->state, WORM_UNIT_CANCELLED);
    //  Nothing of group 1 is leased again; a late result of it is dropped
    CHECK (worm_jobq_lease (q, "a", 10) == NULL);
    CHECK_EQ (worm_jobq_done (q, 1, "a"), 1);
    CHECK_EQ (worm_jobq_cancel (q, 1, NULL, NULL), 0);
    worm_jobq_counts_t c = worm_jobq_counts (q);
    CHECK_EQ (c.cancelled, 2);
    CHECK_EQ (c.leased, 1);
    CHECK_EQ (c.queued, 0);
    CHECK (!worm_jobq_idle (q));
    //  A unit given back and then done by its old holder is done, not queued
    CHECK_EQ (worm_jobq_lost (q, "b"), 1);
    CHECK_EQ (worm_jobq_done (q, 2, "b"), 0);
    CHECK (worm_jobq_lease (q, "d", 10) == NULL);
    CHECK (worm_jobq_idle (q));
    worm_jobq_destroy (&q);
}

//  Many units through a few holders that keep dying: every unit is done
//  exactly once, and the counts add up.
static void
s_churn (void)
{
    enum { UNITS = 5000, HOLDERS = 5 };
    worm_jobq_t *q = worm_jobq_new (50);
    for (uint32_t i = 0; i < UNITS; i++)
        CHECK (worm_jobq_add (q, i % 3, &i, sizeof i) == i + 1);
    static int done_by[UNITS + 1];
    uint64_t now = 0;
    unsigned seed = 12345;
    size_t results = 0;
    while (!worm_jobq_idle (q)) {
        now += 10;
        char holder[8];
        seed = seed * 1103515245 + 12345;
        snprintf (holder, sizeof holder, "s%u", (seed >> 16) % HOLDERS);
        const worm_unit_t *u = worm_jobq_lease (q, holder, now);
        seed = seed * 1103515245 + 12345;
        unsigned roll = (seed >> 16) % 16;
        if (u && roll < 10) {
            uint32_t value;
            memcpy (&value, u->body, sizeof value);
            CHECK_EQ (value + 1, u->id);
            if (worm_jobq_done (q, u->id, holder) == 0) {
                done_by[u->id]++;
                results++;
            }
        }
        else if (roll < 12)
            worm_jobq_lost (q, holder);
        worm_jobq_expire (q, now);
    }
    CHECK_EQ (results, UNITS);
    for (int i = 1; i <= UNITS; i++)
        CHECK_EQ (done_by[i], 1);
    worm_jobq_counts_t c = worm_jobq_counts (q);
    CHECK_EQ (c.done, UNITS);
    CHECK (c.reassigned > 0);
    worm_jobq_destroy (&q);
}

int
main (void)
{
    s_lease_order ();
    s_leases ();
    s_cancel ();
    s_churn ();
    return check_done ("worm.jobq");
}
