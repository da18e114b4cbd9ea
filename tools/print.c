/*  print.c — wormctl's output (see print.h). */
#include "print.h"

void
wormctl_json_string (FILE *out, const char *text)
{
    fputc ('"', out);
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf (out, "\\u%04x", *p);
        else
            fputc (*p, out);
    }
    fputc ('"', out);
}

void
wormctl_human_seconds (double seconds, char *buf, size_t cap)
{
    if (seconds < 120)
        snprintf (buf, cap, "%.0fs", seconds);
    else if (seconds < 7200)
        snprintf (buf, cap, "%.0fm", seconds / 60);
    else if (seconds < 172800)
        snprintf (buf, cap, "%.0fh", seconds / 3600);
    else
        snprintf (buf, cap, "%.0fd", seconds / 86400);
}

void
wormctl_print_hosts (const worm_hostinfo_t *hosts, int count, const double *arrival_ms,
                     bool json)
{
    if (json) {
        printf ("[");
        for (int i = 0; i < count; i++) {
            const worm_hostinfo_t *host = &hosts[i];
            printf ("%s\n  {\"name\": ", i ? "," : "");
            wormctl_json_string (stdout, host->name);
            printf (", \"id\": \"%s\", \"willing\": %s, \"reason\": ", host->id,
                    host->willing ? "true" : "false");
            wormctl_json_string (stdout, host->reason);
            printf (", \"load\": %.2f, \"idle_s\": %.1f, \"segments\": %u, \"max_segments\": %u"
                    ", \"endpoint\": ",
                    host->load, host->idle_s, host->segments, host->max_segments);
            wormctl_json_string (stdout, host->endpoint);
            printf (", \"interval_ms\": %u, \"caps\": ", host->interval_ms);
            wormctl_json_string (stdout, host->caps);
            if (arrival_ms)
                printf (", \"answer_ms\": %.3f", arrival_ms[i]);
            printf ("}");
        }
        printf ("%s]\n", count ? "\n" : "");
        return;
    }
    printf ("%-16s %-7s %-28s %6s %6s %-12s %-*s%s\n", "NAME", "WILLING", "REASON", "LOAD",
            "IDLE", "SEGMENTS/MAX", arrival_ms ? 26 : 0, "ENDPOINT", arrival_ms ? " ANSWER" : "");
    for (int i = 0; i < count; i++) {
        const worm_hostinfo_t *host = &hosts[i];
        char idle[16], slots[24], arrival[32] = "";
        wormctl_human_seconds (host->idle_s, idle, sizeof idle);
        snprintf (slots, sizeof slots, "%u/%u", host->segments, host->max_segments);
        if (arrival_ms)
            snprintf (arrival, sizeof arrival, " %.2f ms", arrival_ms[i]);
        printf ("%-16s %-7s %-28s %6.2f %6s %-12s %-*s%s\n", host->name,
                host->willing ? "yes" : "no", host->reason, host->load, idle, slots,
                arrival_ms ? 26 : 0, host->endpoint, arrival);
    }
}
