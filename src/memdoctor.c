/*
 * memdoctor.c — MEMORY DOCTOR's rules and texts, as redis-server 7.0's
 * getMemoryDoctorReport has them (see memdoctor.h).
 *
 * Below 5 MB of used_memory the doctor judges nothing and says so.
 * Otherwise it names, in this order, each of:
 *
 *   peak memory       peak / used > 1.5
 *   total RSS         rss / used > 1.4 and rss - used > 10 MB
 *   allocator frag.   active / allocated > 1.1 and active - allocated > 10 MB
 *   allocator RSS     resident / active > 1.1 and resident - active > 10 MB
 *   process RSS       rss / resident > 1.1 and rss - resident > 10 MB
 *   replica buffers   any replica, and their output > 10 MB in all (7.0
 *                     compares the total, though the text says "for each")
 *   client buffers    clients' memory / their number > 200 KB
 *   scripts           more than 1000 cached EVAL scripts
 *
 * with Redis's arithmetic: ratios are floats, byte differences signed,
 * the client average an integer division.  No issue: the all-fine text.
 * The reports print no figures; only the total-RSS entry names the
 * allocator.
 */
#include "memdoctor.h"

#include <string.h>

#include "mem.h"

#define MB ((size_t)1024 * 1024)

static const char empty_text[] =
    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't "
    "be used in these conditions. Please, leave for your mission on Earth and fill it with "
    "some data. The new Sam and I will be back to our programming as soon as I finished "
    "rebooting.\n";

static const char fine_text[] =
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
    "occurs on this base.\n";

static const char head_text[] =
    "Sam, I detected a few issues in this Redis instance memory implants:\n\n";

static const char tail_text[] = "I'm here to keep you safe, Sam. I want to help you.\n";

static const char peak_text[] =
    " * Peak memory: In the past this instance used more than 150% the memory that is "
    "currently using. The allocator is normally not able to release memory after a peak, so "
    "you can expect to see a big fragmentation ratio, however this is actually harmless and "
    "is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is "
    "currently bigger than expected, the memory will be used as soon as you fill the Redis "
    "instance with more data. If the memory peak was only occasional and you want to try to "
    "reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is "
    "to shutdown and restart the instance.\n\n";

/* Followed by the allocator's name, then total_rss_end. */
static const char total_rss_text[] =
    " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than "
    "1.4 (this means that the Resident Set Size of the Redis process is much larger than the "
    "sum of the logical allocations Redis performed). This problem is usually due either to a "
    "large peak memory (check if there is a peak memory entry above in the report) or may "
    "result from a workload that causes the allocator to fragment memory a lot. If the "
    "problem is a large peak memory, then there is no issue. Otherwise, make sure you are "
    "using the Jemalloc allocator and not the default libc malloc. Note: The currently used "
    "allocator is \"";
static const char total_rss_end[] = "\".\n\n";

static const char alloc_frag_text[] =
    " * High allocator fragmentation: This instance has an allocator external fragmentation "
    "greater than 1.1. This problem is usually due either to a large peak memory (check if "
    "there is a peak memory entry above in the report) or may result from a workload that "
    "causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' "
    "config option.\n\n";

static const char alloc_rss_text[] =
    " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than "
    "1.1 (this means that the Resident Set Size of the allocator is much larger than the sum "
    "what the allocator actually holds). This problem is usually due to a large peak memory "
    "(check if there is a peak memory entry above in the report), you can try the MEMORY "
    "PURGE command to reclaim it.\n\n";

static const char proc_rss_text[] =
    " * High process RSS overhead: This instance has non-allocator RSS memory overhead is "
    "greater than 1.1 (this means that the Resident Set Size of the Redis process is much "
    "larger than the RSS the allocator holds). This problem may be due to Lua scripts or "
    "Modules.\n\n";

static const char replica_text[] =
    " * Big replica buffers: The replica output buffers in this instance are greater than "
    "10MB for each replica (on average). This likely means that there is some replica "
    "instance that is struggling receiving data, either because it is too slow or because of "
    "networking issues. As a result, data piles on the master output buffers. Please try to "
    "identify what replica is not receiving data correctly and why. You can use the INFO "
    "output in order to check the replicas delays and the CLIENT LIST command to check the "
    "output buffers of each replica.\n\n";

static const char client_text[] =
    " * Big client buffers: The clients output buffers in this instance are greater than 200K "
    "per client (on average). This may result from different causes, like Pub/Sub clients "
    "subscribed to channels bot not receiving data fast enough, so that data piles on the "
    "Redis instance output buffer, or clients sending commands with large replies or very "
    "large sequences of commands in the same pipeline. Please use the CLIENT LIST command in "
    "order to investigate the issue if it causes problems in your instance, or to understand "
    "better why certain clients are using a big amount of memory.\n\n";

static const char scripts_text[] =
    " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). "
    "This may be because scripts are generated and `EVAL`ed, instead of being parameterized "
    "(with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called "
    "periodically, the scripts' caches may end up consuming most of your memory.\n\n";

/* Is part more than `ratio` times whole and more than 10 MB above it?
 * The ratio is a float, as in Redis's redisMemOverhead. */
static int well_over(size_t part, size_t whole, double ratio)
{
    float r = whole ? (float)part / (float)whole : 0;
    return r > ratio && (long long)part - (long long)whole > (long long)(10 * MB);
}

/* The n strings of parts, one after the other, in one allocation. */
static char *join(const char *const *parts, size_t n, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(parts[i]);
    char *out = rc_malloc(total + 1);
    char *at = out;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(parts[i]);
        memcpy(at, parts[i], k);
        at += k;
    }
    *at = '\0';
    *len = total;
    return out;
}

/* One of the doctor's findings: whether it holds, and its entry in up to
 * three pieces. */
struct issue {
    int found;
    const char *text[3];
};

#define NISSUES 8

char *memdoc_report(const struct memdoc_figures *f, size_t *len)
{
    if (f->used < 5 * MB)
        return join((const char *const[]){empty_text}, 1, len);
    const struct issue issues[NISSUES] = {
        {(float)f->peak / (float)f->used > 1.5, {peak_text}},
        {well_over(f->rss, f->used, 1.4), {total_rss_text, f->allocator, total_rss_end}},
        {well_over(f->active, f->allocated, 1.1), {alloc_frag_text}},
        {well_over(f->resident, f->active, 1.1), {alloc_rss_text}},
        {well_over(f->rss, f->resident, 1.1), {proc_rss_text}},
        {f->nreplicas > 0 && f->clients_slaves > 10 * MB, {replica_text}},
        {f->nclients > 0 && f->clients_normal / f->nclients > 200 * 1024, {client_text}},
        {f->scripts > 1000, {scripts_text}},
    };
    const char *parts[2 + 3 * NISSUES];
    size_t n = 0;
    parts[n++] = head_text;
    for (int i = 0; i < NISSUES; i++)
        for (int j = 0; issues[i].found && j < 3 && issues[i].text[j]; j++)
            parts[n++] = issues[i].text[j];
    if (n == 1)
        return join((const char *const[]){fine_text}, 1, len);
    parts[n++] = tail_text;
    return join(parts, n, len);
}
