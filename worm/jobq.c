/*  jobq.c — a job's work units and their leases. See jobq.h. */
#include "jobq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A first-in first-out list of unit ids.
typedef struct {
    uint64_t *ids;          //  the ids, from head to count
    size_t head;            //  index of the first not yet taken
    size_t count;           //  ids stored
    size_t cap;             //  room in ids
} s_fifo_t;

struct worm_jobq_t {
    uint64_t lease_ms;          //  how long a lease lasts unless renewed
    worm_unit_t *units;         //  every unit added, id i at index i - 1
    size_t count;               //  units added
    size_t cap;                 //  room in units
    s_fifo_t fresh;             //  queued units never leased, in the order added
    s_fifo_t again;             //  queued units given back, leased before the fresh ones
    uint64_t *leased;           //  ids of the units leased now, in no order
    size_t nleased;             //  how many
    size_t leased_cap;          //  room in leased
    worm_jobq_counts_t counts;  //  kept as the units move
};

static int
s_grow (void **array, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap * 2 : 16;
    while (cap2 < need)
        cap2 *= 2;
    void *bigger = realloc (*array, cap2 * item);
    if (!bigger)
        return -1;
    *array = bigger;
    *cap = cap2;
    return 0;
}

static int
s_fifo_push (s_fifo_t *fifo, uint64_t id)
{
    if (fifo->head > 0 && fifo->count == fifo->cap) {
        //  Reuse the room of ids already taken
        memmove (fifo->ids, fifo->ids + fifo->head, (fifo->count - fifo->head) * sizeof (uint64_t));
        fifo->count -= fifo->head;
        fifo->head = 0;
    }
    if (s_grow ((void **) &fifo->ids, &fifo->cap, fifo->count + 1, sizeof (uint64_t)))
        return -1;
    fifo->ids[fifo->count++] = id;
    return 0;
}

//  The next id of fifo, or 0 when it is empty.
static uint64_t
s_fifo_pop (s_fifo_t *fifo)
{
    if (fifo->head == fifo->count)
        return 0;
    return fifo->ids[fifo->head++];
}

worm_jobq_t *
worm_jobq_new (uint64_t lease_ms)
{
    worm_jobq_t *self = calloc (1, sizeof *self);
    if (self)
        self->lease_ms = lease_ms;
    return self;
}

void
worm_jobq_destroy (worm_jobq_t **self_p)
{
    worm_jobq_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        free (self->units[i].body);
    free (self->units);
    free (self->fresh.ids);
    free (self->again.ids);
    free (self->leased);
    free (self);
    *self_p = NULL;
}

uint64_t
worm_jobq_add (worm_jobq_t *self, uint64_t group, const void *body, size_t size)
{
    if (s_grow ((void **) &self->units, &self->cap, self->count + 1, sizeof (worm_unit_t)))
        return 0;
    void *copy = malloc (size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy (copy, body, size);
    uint64_t id = self->count + 1;
    if (s_fifo_push (&self->fresh, id)) {
        free (copy);
        return 0;
    }
    self->units[self->count++] = (worm_unit_t) {
        .id = id, .group = group, .state = WORM_UNIT_QUEUED, .body = copy, .size = size};
    self->counts.queued++;
    return id;
}

const worm_unit_t *
worm_jobq_unit (worm_jobq_t *self, uint64_t id)
{
    return id >= 1 && id <= self->count ? &self->units[id - 1] : NULL;
}

//  Takes id out of the set of leased units.
static void
s_unlease (worm_jobq_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->nleased; i++)
        if (self->leased[i] == id) {
            self->leased[i] = self->leased[--self->nleased];
            self->counts.leased--;
            return;
        }
}

//  A leased unit goes back to the queue, before the fresh ones.
static void
s_give_back (worm_jobq_t *self, worm_unit_t *unit)
{
    s_unlease (self, unit->id);
    unit->state = WORM_UNIT_QUEUED;
    self->counts.queued++;
    //  The again list holds at most the units leased once, so it has room
    //  unless memory ran out; then the unit stays queued in name only and
    //  is found again by worm_jobq_lease's scan
    s_fifo_push (&self->again, unit->id);
}

//  The next queued unit, or NULL.
static worm_unit_t *
s_next_queued (worm_jobq_t *self)
{
    for (s_fifo_t *fifo = &self->again; fifo; fifo = fifo == &self->again ? &self->fresh : NULL) {
        uint64_t id;
        while ((id = s_fifo_pop (fifo)))
            if (self->units[id - 1].state == WORM_UNIT_QUEUED)
                return &self->units[id - 1];
    }
    //  A give-back that found no memory for its list
    if (self->counts.queued)
        for (size_t i = 0; i < self->count; i++)
            if (self->units[i].state == WORM_UNIT_QUEUED)
                return &self->units[i];
    return NULL;
}

const worm_unit_t *
worm_jobq_lease (worm_jobq_t *self, const char *holder, uint64_t now_ms)
{
    if (s_grow ((void **) &self->leased, &self->leased_cap, self->nleased + 1, sizeof (uint64_t)))
        return NULL;
    worm_unit_t *unit = s_next_queued (self);
    if (!unit)
        return NULL;
    unit->state = WORM_UNIT_LEASED;
    snprintf (unit->holder, sizeof unit->holder, "%s", holder);
    unit->leased_at = now_ms;
    unit->lease_until = now_ms + self->lease_ms;
    if (unit->leases++ > 0)
        self->counts.reassigned++;
    self->leased[self->nleased++] = unit->id;
    self->counts.queued--;
    self->counts.leased++;
    return unit;
}

size_t
worm_jobq_held (worm_jobq_t *self, const char *holder, const uint64_t *ids, size_t count,
                uint64_t asked_ms, uint64_t now_ms)
{
    size_t back = 0;
    for (size_t i = 0; i < self->nleased;) {
        worm_unit_t *unit = &self->units[self->leased[i] - 1];
        if (strcmp (unit->holder, holder) != 0) {
            i++;
            continue;
        }
        bool held = unit->leased_at >= asked_ms;
        for (size_t j = 0; j < count && !held; j++)
            held = ids[j] == unit->id;
        if (held) {
            unit->lease_until = now_ms + self->lease_ms;
            i++;
        }
        else {
            s_give_back (self, unit);   //  swaps another id into slot i
            back++;
        }
    }
    return back;
}

int
worm_jobq_done (worm_jobq_t *self, uint64_t id, const char *holder)
{
    worm_unit_t *unit = id >= 1 && id <= self->count ? &self->units[id - 1] : NULL;
    if (!unit)
        return -1;
    if (unit->state == WORM_UNIT_DONE || unit->state == WORM_UNIT_CANCELLED)
        return 1;
    if (unit->state == WORM_UNIT_LEASED)
        s_unlease (self, id);
    else
        self->counts.queued--;      //  given back, then its result came after all
    unit->state = WORM_UNIT_DONE;
    snprintf (unit->holder, sizeof unit->holder, "%s", holder);
    self->counts.done++;
    return 0;
}

size_t
worm_jobq_lost (worm_jobq_t *self, const char *holder)
{
    return worm_jobq_held (self, holder, NULL, 0, UINT64_MAX, 0);
}

int
worm_jobq_give_back (worm_jobq_t *self, uint64_t id)
{
    worm_unit_t *unit = id >= 1 && id <= self->count ? &self->units[id - 1] : NULL;
    if (!unit || unit->state != WORM_UNIT_LEASED)
        return -1;
    s_give_back (self, unit);
    return 0;
}

size_t
worm_jobq_expire (worm_jobq_t *self, uint64_t now_ms)
{
    size_t back = 0;
    for (size_t i = 0; i < self->nleased;) {
        worm_unit_t *unit = &self->units[self->leased[i] - 1];
        if (unit->lease_until <= now_ms) {
            s_give_back (self, unit);
            back++;
        }
        else
            i++;
    }
    return back;
}

size_t
worm_jobq_cancel (worm_jobq_t *self, uint64_t group,
                  void (*on_leased) (void *arg, const worm_unit_t *unit), void *arg)
{
    size_t cancelled = 0;
    for (size_t i = 0; i < self->count; i++) {
        worm_unit_t *unit = &self->units[i];
        if (unit->group != group)
            continue;
        if (unit->state == WORM_UNIT_LEASED) {
            if (on_leased)
                on_leased (arg, unit);
            s_unlease (self, unit->id);
        }
        else if (unit->state == WORM_UNIT_QUEUED)
            self->counts.queued--;
        else
            continue;
        unit->state = WORM_UNIT_CANCELLED;
        self->counts.cancelled++;
        cancelled++;
    }
    return cancelled;
}

worm_jobq_counts_t
worm_jobq_counts (worm_jobq_t *self)
{
    return self->counts;
}

size_t
worm_jobq_holding (worm_jobq_t *self, const char *holder)
{
    size_t n = 0;
    for (size_t i = 0; i < self->nleased; i++)
        n += strcmp (self->units[self->leased[i] - 1].holder, holder) == 0;
    return n;
}

bool
worm_jobq_idle (worm_jobq_t *self)
{
    return self->counts.queued == 0 && self->counts.leased == 0;
}
