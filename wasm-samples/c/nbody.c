/*
 * nbody: gravitational n-body simulation of 8 pseudo-random bodies with
 * softening, symplectic Euler steps, n steps. Stresses f64 arithmetic,
 * division and sqrt (f64.sqrt in wasm), small arrays of structs.
 *
 * run(n) -> i64: a hash of the raw bits of the total energy before and after,
 * and of every final position (exact: fixed operation order, no FMA).
 */
#include "common.h"

#define BODIES 8
#define DT 0.001
#define SOFTENING 0.01

struct body {
    double x, y, z;
    double vx, vy, vz;
    double mass;
};

static struct body bodies[BODIES];

static double energy(void) {
    double e = 0.0;
    for (int i = 0; i < BODIES; i++) {
        const struct body *b = &bodies[i];
        e += 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (int j = i + 1; j < BODIES; j++) {
            const struct body *o = &bodies[j];
            double dx = b->x - o->x, dy = b->y - o->y, dz = b->z - o->z;
            e -= b->mass * o->mass / __builtin_sqrt(dx * dx + dy * dy + dz * dz + SOFTENING);
        }
    }
    return e;
}

static void step(void) {
    for (int i = 0; i < BODIES; i++) {
        struct body *b = &bodies[i];
        for (int j = i + 1; j < BODIES; j++) {
            struct body *o = &bodies[j];
            double dx = b->x - o->x, dy = b->y - o->y, dz = b->z - o->z;
            double d2 = dx * dx + dy * dy + dz * dz + SOFTENING;
            double mag = DT / (d2 * __builtin_sqrt(d2));
            double mb = o->mass * mag, mo = b->mass * mag;
            b->vx -= dx * mb;
            b->vy -= dy * mb;
            b->vz -= dz * mb;
            o->vx += dx * mo;
            o->vy += dy * mo;
            o->vz += dz * mo;
        }
    }
    for (int i = 0; i < BODIES; i++) {
        struct body *b = &bodies[i];
        b->x += DT * b->vx;
        b->y += DT * b->vy;
        b->z += DT * b->vz;
    }
}

EXPORT_RUN int64_t nbody_run(int32_t n) {
    uint64_t seed = 0xB0D1E5ULL;
    double px = 0.0, py = 0.0, pz = 0.0, total = 0.0;
    for (int i = 0; i < BODIES; i++) {
        struct body *b = &bodies[i];
        b->x = 10.0 * rng_unit(&seed);
        b->y = 10.0 * rng_unit(&seed);
        b->z = rng_unit(&seed);
        b->vx = 0.5 * rng_unit(&seed);
        b->vy = 0.5 * rng_unit(&seed);
        b->vz = 0.05 * rng_unit(&seed);
        b->mass = 1.0 + rng_unit(&seed) * 0.5;
        px += b->vx * b->mass;
        py += b->vy * b->mass;
        pz += b->vz * b->mass;
        total += b->mass;
    }
    /* Remove the net momentum so the system stays near the origin. */
    for (int i = 0; i < BODIES; i++) {
        bodies[i].vx -= px / total;
        bodies[i].vy -= py / total;
        bodies[i].vz -= pz / total;
    }
    uint64_t h = f64_bits(energy());
    for (int32_t s = 0; s < n; s++) step();
    h = mix64(h, f64_bits(energy()));
    for (int i = 0; i < BODIES; i++) {
        h = mix64(h, f64_bits(bodies[i].x));
        h = mix64(h, f64_bits(bodies[i].y));
        h = mix64(h, f64_bits(bodies[i].z));
    }
    return (int64_t)h;
}
