/*  registry.c — hosts heard, in name order, with expiry. See registry.h. */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    worm_hostinfo_t host;    //  what the host last said
    int64_t heard_ms;        //  when we last heard it
} s_entry_t;

struct worm_registry_t {
    s_entry_t *entries;      //  sorted by host name, then id
    size_t size;             //  entries in use
    size_t capacity;         //  entries allocated
};

worm_registry_t *
worm_registry_new (void)
{
    return calloc (1, sizeof (worm_registry_t));
}

void
worm_registry_destroy (worm_registry_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->entries);
        free (*self_p);
        *self_p = NULL;
    }
}

static int
s_order (const worm_hostinfo_t *a, const worm_hostinfo_t *b)
{
    int cmp = strcmp (a->name, b->name);
    return cmp ? cmp : strcmp (a->id, b->id);
}

int
worm_registry_update (worm_registry_t *self, const worm_hostinfo_t *host, int64_t now_ms)
{
    for (size_t i = 0; i < self->size; i++)
        if (strcmp (self->entries[i].host.id, host->id) == 0) {
            //  Remove and re-insert: the name may have changed
            memmove (&self->entries[i], &self->entries[i + 1],
                     (self->size - i - 1) * sizeof (s_entry_t));
            self->size--;
            worm_registry_update (self, host, now_ms);
            return 0;
        }
    if (self->size == WORM_REGISTRY_MAX)
        return -1;
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        s_entry_t *entries = realloc (self->entries, capacity * sizeof (s_entry_t));
        if (!entries)
            return -1;
        self->entries = entries;
        self->capacity = capacity;
    }
    size_t at = 0;
    while (at < self->size && s_order (&self->entries[at].host, host) < 0)
        at++;
    memmove (&self->entries[at + 1], &self->entries[at], (self->size - at) * sizeof (s_entry_t));
    self->entries[at].host = *host;
    self->entries[at].heard_ms = now_ms;
    self->size++;
    return 1;
}

int
worm_registry_expire (worm_registry_t *self, int64_t now_ms)
{
    size_t kept = 0;
    int dropped = 0;
    for (size_t i = 0; i < self->size; i++) {
        int64_t silence = now_ms - self->entries[i].heard_ms;
        if (silence > 3 * (int64_t) self->entries[i].host.interval_ms)
            dropped++;
        else
            self->entries[kept++] = self->entries[i];
    }
    self->size = kept;
    return dropped;
}

size_t
worm_registry_size (worm_registry_t *self)
{
    return self->size;
}

const worm_hostinfo_t *
worm_registry_at (worm_registry_t *self, size_t index)
{
    return index < self->size ? &self->entries[index].host : NULL;
}

const worm_hostinfo_t *
worm_registry_find (worm_registry_t *self, const char *id_or_name)
{
    for (size_t i = 0; i < self->size; i++)
        if (strcmp (self->entries[i].host.id, id_or_name) == 0
            || strcmp (self->entries[i].host.name, id_or_name) == 0)
            return &self->entries[i].host;
    return NULL;
}
