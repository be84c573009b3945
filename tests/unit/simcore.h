/*
 * simcore.h — what the seeded protocol simulators (check_paxos_sim.c,
 * check_liveness_sim.c) share: the PRNG, tracing, the first violation,
 * node clocks and ids.  Included by each after it defines its own
 * struct sim, which must have the fields rng, now, verbose, fail[],
 * failed, n and nodes[] (with id, offset and rate_pm).
 */
#ifndef RC_SIMCORE_H
#define RC_SIMCORE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* splitmix64's output function: a stateless hash of x. */
static inline uint64_t mix64(uint64_t x)
{
    uint64_t z = x + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rnd(struct sim *s)
{
    s->rng += 0x9e3779b97f4a7c15ULL;
    return mix64(s->rng - 0x9e3779b97f4a7c15ULL);
}

static unsigned below(struct sim *s, unsigned n)
{
    return n ? (unsigned)(rnd(s) % n) : 0;
}

static int one_in_pm(struct sim *s, unsigned pm)
{
    return below(s, 1000) < pm;
}

static void say(struct sim *s, const char *fmt, ...)
{
    va_list ap;

    if (!s->verbose)
        return;
    fprintf(stderr, "[%6llu] ", (unsigned long long)s->now);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void sim_fail(struct sim *s, const char *fmt, ...)
{
    va_list ap;

    if (s->failed)
        return;
    s->failed = 1;
    va_start(ap, fmt);
    vsnprintf(s->fail, sizeof(s->fail), fmt, ap);
    va_end(ap);
    say(s, "VIOLATION: %s", s->fail);
}

static uint64_t clock_of(const struct sim *s, int i)
{
    return s->nodes[i].offset + s->now * s->nodes[i].rate_pm / 1000;
}

static int index_of(const struct sim *s, const char *id)
{
    int i;

    for (i = 0; i < s->n; i++)
        if (strncmp(s->nodes[i].id, id, CSTATE_ID_LEN) == 0)
            return i;
    return -1;
}

#endif
