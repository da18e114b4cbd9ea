/*  apps.c — the registered apps: one line each. */
#include "app.h"

#include <string.h>

extern const worm_app_t worm_app_existential;

const worm_app_t *const worm_apps[] = {
    &worm_app_existential,
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
