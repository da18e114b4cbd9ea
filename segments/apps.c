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
