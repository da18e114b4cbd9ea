/*  apps_test.c — the one list of apps, apps/list.h, seen from both sides:
    the segments' worm_apps[] (segments/apps.c) and the names wormctl's
    `launch --app` accepts (tools/commands.c) are the same apps in the same
    order, and each app's .name is the name it is registered under.
*/
#include "app.h"
#include "commands.h"
#include "../tests/check.h"

int
main (void)
{
    int count = 0;
    while (worm_apps[count]) {
        CHECK (wormctl_app_names[count] != NULL);
        CHECK_STR (worm_apps[count]->name, wormctl_app_names[count]);
        CHECK (worm_app_find (wormctl_app_names[count]) == worm_apps[count]);
        CHECK (wormctl_app_known (worm_apps[count]->name));
        CHECK (worm_apps[count]->create && worm_apps[count]->destroy && worm_apps[count]->summary);
        count++;
    }
    CHECK (wormctl_app_names[count] == NULL);
    CHECK (count >= 1);
    CHECK (worm_app_find ("nope") == NULL);
    CHECK (!wormctl_app_known ("nope"));
    return check_done ("apps.list");
}
