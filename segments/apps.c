/*  apps.c — the registered apps: apps/list.h, expanded. */
#include "app.h"

#include <string.h>

#define WORM_APP(name) extern const worm_app_t worm_app_##name;
#include "apps/list.h"

const worm_app_t *const worm_apps[] = {
#define WORM_APP(name) &worm_app_##name,
#include "apps/list.h"
    NULL,
};

const worm_app_t *
worm_app_find (const char *name)
{
    for (int i = 0; worm_apps[i]; i++)
        if (strcmp (worm_apps[i]->name, name) == 0)
            return worm_apps[i];
    return NULL;
}

int
worm_app_no_state_create (void **state, const worm_token_t *token, char *err, size_t cap)
{
    (void) token;
    (void) err;
    (void) cap;
    *state = NULL;
    return 0;
}

void
worm_app_no_state_destroy (void **state)
{
    *state = NULL;
}
