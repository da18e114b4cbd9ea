/*  remote.c — the ECM runner that hands units to a factor worm. See remote.h. */
#include "remote.h"
#include "unit.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_SLICE_MS 250           //  progress is redrawn at least this often
#define LINE_EVERY_MS 5000          //  a plain progress line this often

typedef struct {
    worm_factor_runner_t runner;    //  the interface, first: its self points at us
    worm_jobclient_t *client;       //  the job
    worm_factor_progress_t progress;    //  how progress is shown
    bool verbose;                   //  the job's log goes to err
    FILE *err;                      //  where progress and the log go
    bool stopped;                   //  the job cannot go on (said once)
    uint64_t started_ms;            //  when the first unit was submitted
    uint64_t shown_ms;              //  when progress was last shown
    uint64_t curves;                //  curves run by finished units
    bool bar_drawn;                 //  a bar is on the terminal's last line
} s_remote_t;

static uint64_t
s_now (void)
{
    return (uint64_t) zclock_mono ();
}

static void
s_clear_bar (s_remote_t *self)
{
    if (self->bar_drawn) {
        fputs ("\r\033[K", self->err);
        self->bar_drawn = false;
    }
}

static void
s_log (void *arg, const char *line)
{
    s_remote_t *self = arg;
    if (!self->verbose)
        return;
    s_clear_bar (self);
    fprintf (self->err, "wormctl factor: %s\n", line);
}

//  Progress: units done of those submitted, curves a second, the segments
//  working, units given back, and when the units submitted will be done at
//  this rate.
static void
s_show (s_remote_t *self, bool force)
{
    if (self->progress == WORM_FACTOR_PROGRESS_NONE || !self->started_ms)
        return;
    uint64_t now = s_now ();
    uint64_t every = self->progress == WORM_FACTOR_PROGRESS_BAR ? WAIT_SLICE_MS : LINE_EVERY_MS;
    if (!force && now < self->shown_ms + every)
        return;
    self->shown_ms = now;
    worm_jobq_counts_t c = worm_jobclient_counts (self->client);
    double seconds = (double) (now - self->started_ms) / 1000;
    double rate = seconds > 0 ? (double) c.done / seconds : 0;
    double curves_rate = seconds > 0 ? (double) self->curves / seconds : 0;
    size_t left = c.queued + c.leased;
    char eta[32] = "?";
    if (rate > 0)
        snprintf (eta, sizeof eta, "%.0f s", (double) left / rate);
    size_t total = c.done + left;
    if (self->progress == WORM_FACTOR_PROGRESS_BAR) {
        int width = 20, filled = total ? (int) (width * c.done / total) : 0;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        fprintf (self->err, "\r\033[K[%s] %zu/%zu units, %.1f curves/s, %zu segments, "
                 "%zu reassigned, ETA %s", bar, c.done, total, curves_rate,
                 worm_jobclient_segments (self->client), c.reassigned, eta);
        self->bar_drawn = true;
    }
    else
        fprintf (self->err, "wormctl factor: %zu/%zu units done, %.1f curves/s, %zu segments, "
                 "%zu reassigned, ETA %s\n", c.done, total, curves_rate,
                 worm_jobclient_segments (self->client), c.reassigned, eta);
    fflush (self->err);
}

static int
s_capacity (void *arg)
{
    s_remote_t *self = arg;
    size_t segments = worm_jobclient_segments (self->client);
    return segments ? (int) (2 * segments) : 2;
}

static int
s_submit (void *arg, uint64_t id, const worm_factor_unit_t *unit)
{
    s_remote_t *self = arg;
    if (self->stopped)
        return -EHOSTUNREACH;
    void *body;
    size_t size;
    if (worm_factor_unit_encode (unit, &body, &size))
        return -ENOMEM;
    //  The driver's unit id is the job unit's group: a cancel by the
    //  driver's id cancels just it
    uint64_t unit_id = worm_jobclient_add (self->client, id, body, size);
    free (body);
    if (!unit_id)
        return -ENOMEM;
    if (!self->started_ms)
        self->started_ms = self->shown_ms = s_now ();
    return 0;
}

static int
s_wait (void *arg, uint64_t *id, mpz_t factor)
{
    s_remote_t *self = arg;
    while (true) {
        worm_job_event_t event;
        worm_jobclient_wait (self->client, WAIT_SLICE_MS, &event);
        switch (event.kind) {
        case WORM_JOB_RESULT: {
            bool found = false;
            uint32_t curves = 0;
            char why[200];
            *id = event.group;
            int rc = worm_factor_result_decode (event.data, event.size, &found, factor, &curves,
                                                why, sizeof why);
            free (event.data);
            if (rc) {
                s_log (self, why);
                return -EPROTO;
            }
            self->curves += curves;
            s_show (self, false);
            return found ? 1 : 0;
        }
        case WORM_JOB_FAILED:
            *id = event.group;
            s_clear_bar (self);
            fprintf (self->err, "wormctl factor: segment %s refused a unit: %s\n", event.segment,
                     event.error);
            return -EPROTO;
        case WORM_JOB_IDLE:
            return -ENOENT;
        case WORM_JOB_TIMEOUT:
            s_show (self, false);
            continue;
        case WORM_JOB_INTERRUPTED:
            s_clear_bar (self);
            return -EINTR;
        case WORM_JOB_STOPPED:
            s_clear_bar (self);
            if (!self->stopped)
                fprintf (self->err, "wormctl factor: %s\n", event.error);
            self->stopped = true;
            return -EHOSTUNREACH;
        }
    }
}

static void
s_cancel (void *arg, uint64_t id)
{
    s_remote_t *self = arg;
    worm_jobclient_cancel (self->client, id);
}

worm_factor_runner_t *
worm_factor_remote_new (const worm_jobclient_config_t *config, worm_factor_progress_t progress,
                        bool verbose, FILE *err, char *errbuf, size_t cap)
{
    s_remote_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (errbuf, cap, "out of memory");
        return NULL;
    }
    worm_jobclient_config_t mine = *config;
    mine.on_log = s_log;
    mine.arg = self;
    self->client = worm_jobclient_new (&mine, errbuf, cap);
    if (!self->client) {
        free (self);
        return NULL;
    }
    self->progress = progress;
    self->verbose = verbose;
    self->err = err;
    self->runner = (worm_factor_runner_t) {.self = self, .capacity = s_capacity,
                                           .submit = s_submit, .wait = s_wait,
                                           .cancel = s_cancel};
    return &self->runner;
}

worm_jobq_counts_t
worm_factor_remote_counts (worm_factor_runner_t *runner)
{
    return worm_jobclient_counts (((s_remote_t *) runner->self)->client);
}

void
worm_factor_remote_destroy (worm_factor_runner_t **runner_p)
{
    if (!*runner_p)
        return;
    s_remote_t *self = (*runner_p)->self;
    s_show (self, true);
    s_clear_bar (self);
    worm_jobclient_log_overhead (self->client, "unit");
    worm_jobclient_destroy (&self->client);
    free (self);
    *runner_p = NULL;
}
