/*  raytrace.c — the "raytrace" scene: spheres moving over a checkered plane.

    A mirror sphere in the middle, four coloured spheres circling and
    bouncing around it, a checkered floor, a sky; two point lights with hard
    shadows, Lambert and Blinn-Phong shading, reflections up to DEPTH
    bounces, SAMPLES x SAMPLES rays a pixel. The camera circles slowly.
    Time is frame / 30 s; motion comes from fmath.h's sin and cos.
*/
#include "fmath.h"
#include "scenes.h"

#define SAMPLES 2           //  rays a pixel, per side
#define DEPTH 4             //  reflection bounces, at most
#define SPHERES 5
#define LIGHTS 2
#define FADE 40.0           //  distance at which the floor has faded into the sky
#define EPSILON 1e-6        //  how far a secondary ray starts from its surface

typedef struct {
    double x, y, z;
} vec_t;

static inline vec_t
s_v (double x, double y, double z)
{
    vec_t v = {x, y, z};
    return v;
}
static inline vec_t
s_add (vec_t a, vec_t b)
{
    return s_v (a.x + b.x, a.y + b.y, a.z + b.z);
}
static inline vec_t
s_sub (vec_t a, vec_t b)
{
    return s_v (a.x - b.x, a.y - b.y, a.z - b.z);
}
static inline vec_t
s_scale (vec_t a, double k)
{
    return s_v (a.x * k, a.y * k, a.z * k);
}
static inline vec_t
s_mul (vec_t a, vec_t b)
{
    return s_v (a.x * b.x, a.y * b.y, a.z * b.z);
}
static inline double
s_dot (vec_t a, vec_t b)
{
    return a.x * b.x + a.y * b.y + a.z * b.z;
}
static inline vec_t
s_cross (vec_t a, vec_t b)
{
    return s_v (a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}
static inline vec_t
s_unit (vec_t a)
{
    return s_scale (a, 1 / sqrt (s_dot (a, a)));
}

typedef struct {
    vec_t centre;           //  where it is this frame
    double radius;
    vec_t colour;           //  diffuse colour, linear
    double mirror;          //  fraction of light reflected as a mirror
} sphere_t;

typedef struct {
    sphere_t spheres[SPHERES];
    vec_t lights[LIGHTS];       //  positions
    vec_t light_colour[LIGHTS];
} scene_t;

//  What a ray hits first: kind -1 nothing, 0..SPHERES-1 a sphere, SPHERES the floor.
typedef struct {
    int kind;
    double t;
} hit_t;

static void
s_scene_at (double time, scene_t *scene)
{
    sphere_t *s = scene->spheres;
    s[0] = (sphere_t) {s_v (0, 1.0, 0), 1.0, s_v (0.9, 0.9, 0.9), 0.8};
    static const vec_t colours[SPHERES - 1] = {
        {0.9, 0.15, 0.1}, {0.1, 0.7, 0.2}, {0.15, 0.3, 0.95}, {0.95, 0.75, 0.1}};
    for (int i = 1; i < SPHERES; i++) {
        double angle = time * (0.6 + 0.15 * i) + i * (WORM_RENDER_PI / 2);
        double orbit = 2.0 + 0.35 * i;
        double radius = 0.35 + 0.08 * i;
        double bounce = worm_render_sin (time * (2.0 + 0.5 * i) + i);
        if (bounce < 0)
            bounce = -bounce;
        s[i].centre = s_v (orbit * worm_render_cos (angle), radius + 0.8 * bounce,
                           orbit * worm_render_sin (angle));
        s[i].radius = radius;
        s[i].colour = colours[i - 1];
        s[i].mirror = 0.15;
    }
    scene->lights[0] = s_v (-4, 6, -3);
    scene->light_colour[0] = s_v (0.8, 0.75, 0.7);
    scene->lights[1] = s_v (3 * worm_render_cos (time * 0.3), 4, 3 * worm_render_sin (time * 0.3));
    scene->light_colour[1] = s_v (0.35, 0.4, 0.5);
}

//  The nearest hit of the ray from o along unit d beyond EPSILON and below limit.
static hit_t
s_trace (const scene_t *scene, vec_t o, vec_t d, double limit)
{
    hit_t hit = {-1, limit};
    for (int i = 0; i < SPHERES; i++) {
        const sphere_t *s = &scene->spheres[i];
        vec_t oc = s_sub (o, s->centre);
        double b = s_dot (oc, d);
        double c = s_dot (oc, oc) - s->radius * s->radius;
        double disc = b * b - c;
        if (disc < 0)
            continue;
        double root = sqrt (disc);
        double t = -b - root;
        if (t < EPSILON)
            t = -b + root;
        if (t > EPSILON && t < hit.t) {
            hit.kind = i;
            hit.t = t;
        }
    }
    if (d.y < 0) {                      //  the floor, y = 0
        double t = -o.y / d.y;
        if (t > EPSILON && t < hit.t) {
            hit.kind = SPHERES;
            hit.t = t;
        }
    }
    return hit;
}

static vec_t
s_sky (vec_t d)
{
    double up = d.y > 0 ? d.y : 0;
    return s_add (s_scale (s_v (0.85, 0.9, 1.0), 1 - up), s_scale (s_v (0.25, 0.45, 0.9), up));
}

//  x^32 by squaring, for the specular highlight.
static double
s_pow32 (double x)
{
    for (int i = 0; i < 5; i++)
        x = x * x;
    return x;
}

//  The light arriving along the ray from o along unit d.
static vec_t
s_radiance (const scene_t *scene, vec_t o, vec_t d)
{
    vec_t total = s_v (0, 0, 0);
    vec_t weight = s_v (1, 1, 1);
    for (int bounce = 0; bounce <= DEPTH; bounce++) {
        hit_t hit = s_trace (scene, o, d, 1e30);
        if (hit.kind < 0) {
            total = s_add (total, s_mul (weight, s_sky (d)));
            break;
        }
        vec_t p = s_add (o, s_scale (d, hit.t));
        vec_t n, colour;
        double mirror;
        if (hit.kind == SPHERES) {
            n = s_v (0, 1, 0);
            mirror = 0.25;
            double fade = hit.t / FADE;             //  the floor fades into the sky far off
            if (fade >= 1)                          //  (and p stays small enough to floor)
                colour = s_sky (s_v (0, 0, 1));
            else {
                int check = (int) (worm_render_floor (p.x) + worm_render_floor (p.z)) & 1;
                colour = check ? s_v (0.85, 0.85, 0.8) : s_v (0.15, 0.15, 0.18);
                colour = s_add (s_scale (colour, 1 - fade), s_scale (s_sky (s_v (0, 0, 1)), fade));
            }
        } else {
            const sphere_t *s = &scene->spheres[hit.kind];
            n = s_scale (s_sub (p, s->centre), 1 / s->radius);
            colour = s->colour;
            mirror = s->mirror;
        }
        vec_t lit = s_scale (colour, 0.08);         //  ambient
        for (int l = 0; l < LIGHTS; l++) {
            vec_t to = s_sub (scene->lights[l], p);
            double distance = sqrt (s_dot (to, to));
            vec_t ld = s_scale (to, 1 / distance);
            double lambert = s_dot (n, ld);
            if (lambert <= 0)
                continue;
            if (s_trace (scene, p, ld, distance).kind >= 0)
                continue;                           //  in shadow
            vec_t half = s_unit (s_sub (ld, d));
            double spec = s_dot (n, half);
            spec = spec > 0 ? s_pow32 (spec) : 0;
            lit = s_add (lit, s_mul (scene->light_colour[l],
                                     s_add (s_scale (colour, lambert), s_v (spec, spec, spec))));
        }
        total = s_add (total, s_mul (weight, s_scale (lit, 1 - mirror)));
        weight = s_scale (weight, mirror);
        if (weight.x + weight.y + weight.z < 0.01)
            break;
        d = s_sub (d, s_scale (n, 2 * s_dot (d, n)));
        o = p;
    }
    return total;
}

void
worm_render_raytrace (uint32_t frame, uint32_t w, uint32_t h, uint32_t y0, uint32_t y1,
                      uint8_t *rgb)
{
    double time = frame / 30.0;
    scene_t scene;
    s_scene_at (time, &scene);
    double around = time * 0.15;
    vec_t eye = s_v (7.5 * worm_render_sin (around), 2.6, -7.5 * worm_render_cos (around));
    vec_t ahead = s_unit (s_sub (s_v (0, 0.8, 0), eye));
    vec_t right = s_unit (s_cross (s_v (0, 1, 0), ahead));
    vec_t up = s_cross (ahead, right);
    //  The image plane at distance 1 spans 1.0 across the larger side.
    double span = 1.0 / (w > h ? w : h);

    for (uint32_t y = y0; y < y1; y++)
        for (uint32_t x = 0; x < w; x++) {
            vec_t sum = s_v (0, 0, 0);
            for (int sy = 0; sy < SAMPLES; sy++)
                for (int sx = 0; sx < SAMPLES; sx++) {
                    double u = (x + (sx + 0.5) / SAMPLES - (double) w / 2) * span;
                    double v = ((double) h / 2 - (y + (sy + 0.5) / SAMPLES)) * span;
                    vec_t d = s_unit (s_add (ahead, s_add (s_scale (right, u), s_scale (up, v))));
                    sum = s_add (sum, s_radiance (&scene, eye, d));
                }
            sum = s_scale (sum, 1.0 / (SAMPLES * SAMPLES));
            uint8_t *out = rgb + ((size_t) y * w + x) * 3;
            out[0] = worm_render_byte (worm_render_sqrt_gamma (sum.x));
            out[1] = worm_render_byte (worm_render_sqrt_gamma (sum.y));
            out[2] = worm_render_byte (worm_render_sqrt_gamma (sum.z));
        }
}
