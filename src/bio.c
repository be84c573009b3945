/*
 * bio.c — one background thread with a FIFO job queue.
 *
 * Jobs own their data completely: the loop hands a value or a set of
 * tables over and never touches them again, so the thread needs no other
 * lock than the queue's.  Freeing goes through the allocator shim, whose
 * counter is atomic.
 */
#include "bio.h"

#include <pthread.h>
#include <stdlib.h>

#include "dict.h"
#include "mem.h"
#include "object.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "stream.h"
#include "t_zset.h"

/* Values with fewer allocations than this are freed on the spot: handing
 * them to the thread would cost more than freeing them. */
#define LAZY_FREE_THRESHOLD 64

enum job_kind { JOB_FREE_KV, JOB_FREE_TABLES };

struct job {
    struct job *next;
    enum job_kind kind;
    void *ptr;
    struct dict **tables;
    size_t ntables;
    struct dict *expires;
};

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static unsigned long pending;
static int running;
static int stopping;

static void run_job(struct job *j)
{
    switch (j->kind) {
    case JOB_FREE_KV:
        kv_free(j->ptr);
        break;
    case JOB_FREE_TABLES:
        for (size_t i = 0; i < j->ntables; i++)
            dict_destroy(&j->tables[i]);
        rc_free(j->tables);
        dict_destroy(&j->expires);
        break;
    }
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (head == NULL && !stopping)
            pthread_cond_wait(&cond, &lock);
        if (head == NULL && stopping)
            break;
        struct job *j = head;
        head = j->next;
        if (head == NULL)
            tail = NULL;
        pthread_mutex_unlock(&lock);
        run_job(j);
        free(j);
        pthread_mutex_lock(&lock);
        pending--;
        if (pending == 0)
            pthread_cond_broadcast(&idle_cond);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

void bio_init(void)
{
    if (running)
        return;
    stopping = 0;
    if (pthread_create(&thread, NULL, worker, NULL) == 0)
        running = 1;
}

void bio_deinit(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    running = 0;
}

static void submit(struct job *j)
{
    if (!running) {
        run_job(j);
        free(j);
        return;
    }
    pthread_mutex_lock(&lock);
    j->next = NULL;
    if (tail)
        tail->next = j;
    else
        head = j;
    tail = j;
    pending++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

/* Job records use plain malloc: they are bookkeeping, not data, and must
 * not show up in used_memory after the job is done. */
static struct job *job_new(enum job_kind kind)
{
    struct job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->kind = kind;
    return j;
}

static size_t kv_free_effort(const struct kv *o)
{
    if (o->type == OBJ_STRING)
        return 1;
    if (o->type == OBJ_HASH)
        return hash_free_effort(o->enc, o->v.ptr);
    if (o->type == OBJ_LIST)
        return list_free_effort(o->enc, o->v.ptr);
    if (o->type == OBJ_SET)
        return set_free_effort(o->enc, o->v.ptr);
    if (o->type == OBJ_ZSET)
        return zset_free_effort(o->enc, o->v.ptr);
    if (o->type == OBJ_STREAM)
        return stream_free_effort(o->v.ptr);
    return LAZY_FREE_THRESHOLD;   /* aggregates: decided by their modules later */
}

void bio_free_kv(struct kv *o, int lazy)
{
    if (!lazy || kv_free_effort(o) < LAZY_FREE_THRESHOLD) {
        kv_free(o);
        return;
    }
    struct job *j = job_new(JOB_FREE_KV);
    j->ptr = o;
    submit(j);
}

void bio_free_tables(struct dict **tables, size_t n, struct dict *expires)
{
    struct job *j = job_new(JOB_FREE_TABLES);
    j->tables = tables;
    j->ntables = n;
    j->expires = expires;
    submit(j);
}

unsigned long bio_pending(void)
{
    pthread_mutex_lock(&lock);
    unsigned long n = pending;
    pthread_mutex_unlock(&lock);
    return n;
}
