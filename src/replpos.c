/*
 * replpos.c — stream positions kept across restarts (see replpos.h).
 *
 * A small table keyed by sender id.  A ring has at most
 * CSTATE_MEMBERS_MAX members; senders that left it are forgotten, the
 * least recently updated first, when the table is full.
 */
#include "replpos.h"

#include <stdio.h>
#include <string.h>

#include "cstate.h"
#include "log.h"
#include "util.h"

struct pos {
    char id[CSTATE_ID_LEN + 1];
    char replid[41];
    uint64_t end;
    uint64_t touched;
};

static struct pos tab[CSTATE_MEMBERS_MAX];
static int ntab;
static uint64_t ticks;

static struct pos *find(const char *id)
{
    for (int i = 0; i < ntab; i++)
        if (memcmp(tab[i].id, id, CSTATE_ID_LEN) == 0)
            return &tab[i];
    return NULL;
}

void replpos_set(const char *id, const char *replid, uint64_t end)
{
    struct pos *p = find(id);
    if (p == NULL && ntab < CSTATE_MEMBERS_MAX) {
        p = &tab[ntab++];
    } else if (p == NULL) {
        p = &tab[0];
        for (int i = 1; i < ntab; i++)
            if (tab[i].touched < p->touched)
                p = &tab[i];
    }
    memcpy(p->id, id, CSTATE_ID_LEN);
    p->id[CSTATE_ID_LEN] = 0;
    memcpy(p->replid, replid, 40);
    p->replid[40] = 0;
    p->end = end;
    p->touched = ++ticks;
}

int replpos_get(const char *id, const char **replid, uint64_t *end)
{
    const struct pos *p = find(id);
    if (p == NULL)
        return 0;
    *replid = p->replid;
    *end = p->end;
    return 1;
}

size_t replpos_line(char *out, const char *id, const char *replid, uint64_t end)
{
    int n = snprintf(out, REPLPOS_LINE_MAX, "%.40s %.40s %llu", id, replid,
                     (unsigned long long)end);
    return n > 0 && n < REPLPOS_LINE_MAX ? (size_t)n : 0;
}

size_t replpos_format(int i, char *out)
{
    if (i < 0 || i >= ntab)
        return 0;
    return replpos_line(out, tab[i].id, tab[i].replid, tab[i].end);
}

int replpos_load(const char *p, size_t n, const char *where)
{
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    unsigned long long end;
    if (n < 83 || n > 82 + 20 || p[40] != ' ' || p[81] != ' ' || !cstate_valid_id(p, 40) ||
        !cstate_valid_id(p + 41, 40) || !rc_str2ull(p + 82, n - 82, &end)) {
        log_warn("Ignoring a malformed replication stream position in %s: '%.*s'", where,
                 (int)(n > 120 ? 120 : n), p);
        return -1;
    }
    replpos_set(p, p + 41, end);
    return 0;
}

void replpos_reset(void)
{
    ntab = 0;
}
