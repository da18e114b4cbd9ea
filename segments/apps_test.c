/*  apps_test.c — the app registry (app.h): every registered app is found
    by its own name and has the hooks a segment cannot do without; a name
    that is no app's, or only part of one, finds nothing. */
#include "app.h"
#include "../tests/check.h"

int
main (void)
{
    size_t count = 0;
    for (const worm_app_t *const *app = worm_apps; *app; app++, count++) {
        CHECK ((*app)->name && (*app)->name[0]);
        CHECK ((*app)->summary && (*app)->summary[0]);
        CHECK ((*app)->create != NULL);
        CHECK ((*app)->destroy != NULL);
        CHECK (worm_app_find ((*app)->name) == *app);
        //  Names are distinct, so a name finds one app
        for (const worm_app_t *const *other = worm_apps; other != app; other++)
            CHECK (strcmp ((*other)->name, (*app)->name) != 0);
    }
    CHECK (count >= 1);
    //  The built-in app, and names that are not an app's
    const worm_app_t *existential = worm_app_find ("existential");
    CHECK (existential != NULL);
    CHECK_STR (existential->name, "existential");
    CHECK (worm_app_find ("nope") == NULL);
    CHECK (worm_app_find ("") == NULL);
    CHECK (worm_app_find ("existentia") == NULL);
    CHECK (worm_app_find ("existential2") == NULL);
    CHECK (worm_app_find ("Existential") == NULL);
    //  The built-in app's state comes and goes
    worm_token_t *token = worm_token_new ();
    worm_token_set_worm_id (token, "w-1");
    void *state = (void *) &count;
    char err[256] = "";
    CHECK_EQ (existential->create (&state, token, err, sizeof err), 0);
    CHECK_STR (err, "");
    existential->destroy (&state);
    CHECK (state == NULL);
    worm_token_destroy (&token);
    return check_done ("apps");
}
