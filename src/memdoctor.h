/*
 * memdoctor.h — MEMORY DOCTOR's judgement: redis-server 7.0's memory
 * doctor (getMemoryDoctorReport) applied to figures the caller measured.
 *
 * A leaf: it knows nothing of the server, so every rule and every text can
 * be checked alone (tests/unit/check_memdoctor.c).  memory.c gathers the
 * figures and replies with the report.
 */
#ifndef RC_MEMDOCTOR_H
#define RC_MEMDOCTOR_H

#include <stddef.h>

/* What the doctor looks at, named after Redis's redisMemOverhead. */
struct memdoc_figures {
    size_t used;                /* used_memory */
    size_t peak;                /* used_memory_peak */
    size_t rss;                 /* the process's resident set */
    size_t allocated;           /* the allocator's allocated, active and */
    size_t active;              /* resident bytes (jemalloc's stats.*, or */
    size_t resident;            /* Redis's stand-ins without jemalloc) */
    size_t clients_normal;      /* memory of the clients that are not replicas */
    size_t nclients;            /* how many clients that is */
    size_t clients_slaves;      /* output queued for replicas */
    size_t nreplicas;           /* how many replicas */
    size_t scripts;             /* EVAL scripts cached */
    const char *allocator;      /* named in the high-total-RSS entry */
};

/* The report for f, as redis-server 7.0 words it; rc_free it. */
char *memdoc_report(const struct memdoc_figures *f, size_t *len);

#endif
