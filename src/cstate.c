/*
 * cstate.c — the cluster state record, changes to it, and the nodes.conf
 * record, with their strict text encodings (format in cstate.h).
 *
 * The decoders read from a byte range with an explicit length, never rely
 * on a NUL, check every limit before allocating, and accept exactly the
 * canonical encoding: encode(decode(x)) == x for every x they accept.
 */
#include "cstate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "util.h"

#define LINE_TAG "cs1"
#define RECORD_HEADER "ringcache-nodes 1"

/* ---- a small growable output buffer ---- */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = rc_realloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_u64(struct buf *b, uint64_t v)
{
    char tmp[RC_LONG_STR_SIZE];
    size_t n = rc_ull2str(tmp, sizeof(tmp), v);
    buf_add(b, tmp, n);
}

/* ---- a token reader over one line ---- */

struct tok {
    const char *p;
    size_t len, pos;
};

/* The next space-separated token; 0 at the end of the line or on an empty
 * token (two spaces, a leading or trailing space). */
static int tok_next(struct tok *t, const char **s, size_t *n)
{
    const char *sp;
    size_t left;

    if (t->pos >= t->len)
        return 0;
    left = t->len - t->pos;
    sp = memchr(t->p + t->pos, ' ', left);
    *s = t->p + t->pos;
    *n = sp ? (size_t)(sp - *s) : left;
    t->pos += *n + (sp ? 1 : 0);
    if (*n == 0)
        return 0;
    /* "a " ends with an empty token: refuse the trailing space too. */
    if (sp && t->pos == t->len)
        return 0;
    return 1;
}

static int tok_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

static int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    unsigned long long v;

    if (!rc_str2ull(s, n, &v) || v > max)
        return 0;
    *out = v;
    return 1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- field checks ---- */

int cstate_valid_id(const char *s, size_t len)
{
    size_t i;

    if (len != CSTATE_ID_LEN)
        return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

/* Printable ASCII without space: what hosts and zones are made of. */
static int valid_word(const char *s, size_t len, size_t max)
{
    size_t i;

    if (len == 0 || len > max)
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static int valid_status(int st)
{
    return st == CSTATE_UP || st == CSTATE_FAILED || st == CSTATE_JOINING || st == CSTATE_ADDING ||
           st == CSTATE_REMOVING;
}

int cstate_valid_member(const struct cstate_member *m, const char **why)
{
    size_t hl = strnlen(m->host, sizeof(m->host));
    size_t zl = strnlen(m->zone, sizeof(m->zone));
    const char *w = NULL;

    if (!cstate_valid_id(m->id, strnlen(m->id, sizeof(m->id))))
        w = "bad member id";
    else if (hl == sizeof(m->host) || !valid_word(m->host, hl, CSTATE_HOST_MAX))
        w = "bad host";
    else if (m->port < 1 || m->port > 65535)
        w = "bad port";
    else if (zl == sizeof(m->zone) ||
             (zl > 0 && (!valid_word(m->zone, zl, CSTATE_ZONE_MAX) ||
                         strcmp(m->zone, "-") == 0)))
        w = "bad zone";
    else if (m->vnodes < 1 || m->vnodes > CSTATE_VNODES_MAX)
        w = "bad vnodes";
    else if (!valid_status((int)m->status))
        w = "bad status";
    else if (m->upto != 0 && (m->status == CSTATE_UP || m->status == CSTATE_ADDING))
        w = "an up or adding member has no last up epoch";
    if (w && why)
        *why = w;
    return w == NULL;
}

const char *cstate_status_name(enum cstate_status st)
{
    switch (st) {
    case CSTATE_UP: return "up";
    case CSTATE_FAILED: return "failed";
    case CSTATE_JOINING: return "joining";
    case CSTATE_ADDING: return "adding";
    case CSTATE_REMOVING: return "removing";
    }
    return "?";
}

/* ---- states ---- */

struct cstate *cstate_create(void)
{
    struct cstate *s = rc_calloc(sizeof(*s));

    memset(s->ring, '0', CSTATE_ID_LEN);
    return s;
}

void cstate_destroy(struct cstate **s)
{
    if (*s == NULL)
        return;
    rc_free((*s)->members);
    rc_free((*s)->holds);
    rc_free(*s);
    *s = NULL;
}

static void reserve(struct cstate *s, size_t n)
{
    if (n <= s->cap)
        return;
    s->cap = n < 4 ? 4 : n;
    s->members = rc_realloc(s->members, s->cap * sizeof(*s->members));
}

struct cstate *cstate_bootstrap(const char *ring, const struct cstate_member *first,
                                int replicas)
{
    struct cstate *s;

    if (ring == NULL || strnlen(ring, CSTATE_ID_LEN + 1) != CSTATE_ID_LEN ||
        !cstate_valid_id(ring, CSTATE_ID_LEN) ||
        replicas < 0 || replicas > CSTATE_REPLICAS_MAX ||
        !cstate_valid_member(first, NULL))
        return NULL;
    s = cstate_create();
    memcpy(s->ring, ring, CSTATE_ID_LEN);
    s->epoch = 1;
    s->replicas = replicas;
    reserve(s, 1);
    s->members[0] = *first;
    s->nmembers = 1;
    return s;
}

struct cstate *cstate_clone(const struct cstate *s)
{
    struct cstate *c = rc_malloc(sizeof(*c));

    *c = *s;
    c->cap = s->nmembers;
    c->members = NULL;
    if (s->nmembers) {
        c->members = rc_malloc(s->nmembers * sizeof(*c->members));
        memcpy(c->members, s->members, s->nmembers * sizeof(*c->members));
    }
    c->holds = NULL;
    if (s->nholds) {
        c->holds = rc_malloc(s->nholds * sizeof(*c->holds));
        memcpy(c->holds, s->holds, s->nholds * sizeof(*c->holds));
    }
    return c;
}

static int member_equal(const struct cstate_member *a, const struct cstate_member *b)
{
    return strcmp(a->id, b->id) == 0 && strcmp(a->host, b->host) == 0 &&
           a->port == b->port && strcmp(a->zone, b->zone) == 0 &&
           a->vnodes == b->vnodes && a->status == b->status && a->upto == b->upto;
}

int cstate_equal(const struct cstate *a, const struct cstate *b)
{
    size_t i;

    if (a->epoch != b->epoch || a->replicas != b->replicas ||
        a->nmembers != b->nmembers || strcmp(a->ring, b->ring) != 0)
        return 0;
    for (i = 0; i < a->nmembers; i++)
        if (!member_equal(&a->members[i], &b->members[i]))
            return 0;
    if (a->nholds != b->nholds)
        return 0;
    for (i = 0; i < a->nholds; i++)
        if (cstate_hold_cmp(&a->holds[i], &b->holds[i]) != 0 || a->holds[i].nh != b->holds[i].nh ||
            memcmp(a->holds[i].h, b->holds[i].h, a->holds[i].nh * sizeof(uint16_t)) != 0)
            return 0;
    return 1;
}

/* ---- holders ---- */

int cstate_hold_cmp(const struct cstate_hold *a, const struct cstate_hold *b)
{
    for (int k = 0; k < a->n && k < b->n; k++)
        if (a->list[k] != b->list[k])
            return a->list[k] < b->list[k] ? -1 : 1;
    return a->n == b->n ? 0 : a->n < b->n ? -1 : 1;
}

const struct cstate_hold *cstate_hold_find(const struct cstate *s, const uint16_t *list, int n)
{
    struct cstate_hold key;
    size_t lo = 0, hi = s->nholds;

    if (n < 1 || n > CSTATE_LIST_MAX)
        return NULL;
    key.n = (uint8_t)n;
    memcpy(key.list, list, (size_t)n * sizeof(*list));
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cstate_hold_cmp(&s->holds[mid], &key);
        if (c == 0)
            return &s->holds[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int cstate_default_holders(const struct cstate *s, const uint16_t *list, int n, uint16_t *h)
{
    int nh = 0;
    for (int k = 0; k < n && nh < 2; k++)
        if (list[k] < s->nmembers && s->members[list[k]].status == CSTATE_UP)
            h[nh++] = list[k];
    return nh;
}

int cstate_holders(const struct cstate *s, const uint16_t *list, int n, uint16_t *h)
{
    const struct cstate_hold *e = cstate_hold_find(s, list, n);
    if (e == NULL)
        return cstate_default_holders(s, list, n, h);
    memcpy(h, e->h, e->nh * sizeof(*h));
    return e->nh;
}

static int says_default(const struct cstate *s, const struct cstate_hold *e)
{
    uint16_t d[2];
    int nd = cstate_default_holders(s, e->list, e->n, d);
    return nd == e->nh && memcmp(d, e->h, (size_t)nd * sizeof(*d)) == 0;
}

void cstate_set_holds(struct cstate *s, const struct cstate_hold *hs, size_t n)
{
    struct cstate_hold *out = n ? rc_malloc(n * sizeof(*out)) : NULL;
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (!says_default(s, &hs[i]))
            out[k++] = hs[i];
    rc_free(s->holds);
    s->holds = k ? out : NULL;
    s->nholds = k;
    if (k == 0)
        rc_free(out);
}

/* Member indexes at or after `at` moved by delta (+1: a member inserted
 * at `at`; -1: the member at `at` removed, and with it every entry whose
 * list holds it). */
static void holds_reindex(struct cstate *s, uint16_t at, int delta)
{
    size_t k = 0;
    for (size_t i = 0; i < s->nholds; i++) {
        struct cstate_hold e = s->holds[i];
        int drop = 0;
        for (int j = 0; j < e.n; j++) {
            if (delta < 0 && e.list[j] == at)
                drop = 1;
            else if (e.list[j] >= at)
                e.list[j] = (uint16_t)(e.list[j] + delta);
        }
        for (int j = 0; j < e.nh; j++)
            if (e.h[j] >= at && !(delta < 0 && e.h[j] == at))
                e.h[j] = (uint16_t)(e.h[j] + delta);
        if (!drop)
            s->holds[k++] = e;
    }
    s->nholds = k;
}

/* Binary search; returns the index of id, or -(insertion point) - 1. */
static long search(const struct cstate *s, const char *id)
{
    size_t lo = 0, hi = s->nmembers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(s->members[mid].id, id, CSTATE_ID_LEN);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

long cstate_index(const struct cstate *s, const char *id)
{
    long i = search(s, id);
    return i >= 0 ? i : -1;
}

const struct cstate_member *cstate_find(const struct cstate *s, const char *id)
{
    long i = search(s, id);
    return i >= 0 ? &s->members[i] : NULL;
}

int cstate_add(struct cstate *s, const struct cstate_member *m, const char **why)
{
    long at;

    if (!cstate_valid_member(m, why))
        return -1;
    if (s->nmembers >= CSTATE_MEMBERS_MAX) {
        if (why)
            *why = "too many members";
        return -1;
    }
    at = search(s, m->id);
    if (at >= 0) {
        if (why)
            *why = "duplicate member id";
        return -1;
    }
    at = -at - 1;
    reserve(s, s->nmembers + 1);
    memmove(&s->members[at + 1], &s->members[at],
            (s->nmembers - (size_t)at) * sizeof(*s->members));
    s->members[at] = *m;
    s->nmembers++;
    holds_reindex(s, (uint16_t)at, 1);
    return 0;
}

int cstate_remove(struct cstate *s, const char *id)
{
    long at = search(s, id);

    if (at < 0)
        return -1;
    memmove(&s->members[at], &s->members[at + 1],
            (s->nmembers - (size_t)at - 1) * sizeof(*s->members));
    s->nmembers--;
    holds_reindex(s, (uint16_t)at, -1);
    return 0;
}

int cstate_set_status(struct cstate *s, const char *id, enum cstate_status st)
{
    long at = search(s, id);

    if (at < 0 || !valid_status((int)st))
        return -1;
    struct cstate_member *m = &s->members[at];
    if (st == CSTATE_UP || st == CSTATE_ADDING)
        m->upto = 0;
    else if (m->status == CSTATE_UP)
        m->upto = s->epoch;
    m->status = st;
    return 0;
}

/* ---- state line ---- */

static void encode_into(struct buf *b, const struct cstate *s)
{
    size_t i;

    buf_str(b, LINE_TAG " ");
    buf_u64(b, s->epoch);
    buf_str(b, " ");
    buf_add(b, s->ring, CSTATE_ID_LEN);
    buf_str(b, " ");
    buf_u64(b, (uint64_t)s->replicas);
    buf_str(b, " ");
    buf_u64(b, s->nmembers);
    for (i = 0; i < s->nmembers; i++) {
        const struct cstate_member *m = &s->members[i];
        buf_str(b, " ");
        buf_str(b, m->id);
        buf_str(b, " ");
        buf_str(b, m->host);
        buf_str(b, " ");
        buf_u64(b, m->port);
        buf_str(b, " ");
        buf_str(b, m->zone[0] ? m->zone : "-");
        buf_str(b, " ");
        buf_u64(b, m->vnodes);
        buf_str(b, " ");
        buf_str(b, cstate_status_name(m->status));
        if (m->upto) {
            buf_str(b, ":");
            buf_u64(b, m->upto);
        }
    }
    if (s->nholds == 0)
        return;
    buf_str(b, " holders ");
    buf_u64(b, s->nholds);
    for (i = 0; i < s->nholds; i++) {
        const struct cstate_hold *e = &s->holds[i];
        for (int k = 0; k < e->n; k++) {
            buf_str(b, k ? "." : " ");
            buf_u64(b, e->list[k]);
        }
        for (int k = 0; k < e->nh; k++) {
            buf_str(b, k ? "." : "/");
            buf_u64(b, e->h[k]);
        }
    }
}

char *cstate_encode(const struct cstate *s, size_t *len)
{
    struct buf b = {NULL, 0, 0};

    encode_into(&b, s);
    if (len)
        *len = b.len;
    return b.p;
}

/* Decode one member's six tokens into *m; NULL on success, else why. */
static const char *decode_member(struct tok *t, struct cstate_member *m)
{
    const char *s;
    size_t n;
    uint64_t v;

    memset(m, 0, sizeof(*m));
    if (!tok_next(t, &s, &n) || !cstate_valid_id(s, n))
        return "bad member id";
    memcpy(m->id, s, n);
    if (!tok_next(t, &s, &n) || !valid_word(s, n, CSTATE_HOST_MAX))
        return "bad host";
    memcpy(m->host, s, n);
    if (!tok_next(t, &s, &n) || !parse_u64(s, n, 65535, &v) || v == 0)
        return "bad port";
    m->port = (unsigned)v;
    if (!tok_next(t, &s, &n) || !valid_word(s, n, CSTATE_ZONE_MAX))
        return "bad zone";
    if (!tok_is(s, n, "-"))
        memcpy(m->zone, s, n);
    if (!tok_next(t, &s, &n) || !parse_u64(s, n, CSTATE_VNODES_MAX, &v) || v == 0)
        return "bad vnodes";
    m->vnodes = (unsigned)v;
    if (!tok_next(t, &s, &n))
        return "bad status";
    const char *colon = memchr(s, ':', n);
    if (colon) {
        /* Canonical: no leading zero, never ":0" (parse_u64 refuses both
         * a leading zero and an empty number; 0 is written as nothing). */
        if (!parse_u64(colon + 1, n - (size_t)(colon + 1 - s), UINT64_MAX, &v) || v == 0)
            return "bad last up epoch";
        m->upto = v;
        n = (size_t)(colon - s);
    }
    if (tok_is(s, n, "up"))
        m->status = CSTATE_UP;
    else if (tok_is(s, n, "failed"))
        m->status = CSTATE_FAILED;
    else if (tok_is(s, n, "joining"))
        m->status = CSTATE_JOINING;
    else if (tok_is(s, n, "adding"))
        m->status = CSTATE_ADDING;
    else if (tok_is(s, n, "removing"))
        m->status = CSTATE_REMOVING;
    else
        return "bad status";
    if (m->upto && (m->status == CSTATE_UP || m->status == CSTATE_ADDING))
        return "bad status";
    return NULL;
}

/* Up to max indexes of members of st, joined by '.', from s[0..n);
 * returns how many, or -1. */
static int decode_indexes(const struct cstate *st, const char *s, size_t n, uint16_t *out,
                          int max)
{
    int k = 0;
    while (n > 0) {
        const char *dot = memchr(s, '.', n);
        size_t len = dot ? (size_t)(dot - s) : n;
        uint64_t v;
        if (k == max || !parse_u64(s, len, st->nmembers - 1, &v))
            return -1;
        out[k++] = (uint16_t)v;
        if (dot == NULL)
            return k;
        s = dot + 1;
        n -= len + 1;
        if (n == 0)
            return -1;  /* a trailing dot */
    }
    return -1;
}

/* Position of member index v in e's list, or -1. */
static int list_pos(const struct cstate_hold *e, uint16_t v)
{
    for (int k = 0; k < e->n; k++)
        if (e->list[k] == v)
            return k;
    return -1;
}

int cstate_hold_lags(const struct cstate *s, const struct cstate_hold *e, uint16_t m, uint16_t p)
{
    int up = 0, only = 1;
    if (list_pos(e, m) < 0)
        return 0;
    for (int k = 0; k < e->nh; k++) {
        if (e->h[k] == m)
            return 0;
        if (s->members[e->h[k]].status != CSTATE_UP)
            continue;
        up++;
        only &= e->h[k] == p;
    }
    return up == 1 && only;
}

/* "holders <k> <entry>*k" after the members; NULL on success, else why. */
static const char *decode_holds(struct tok *t, struct cstate *st)
{
    const char *s;
    size_t n;
    uint64_t count;

    if (!tok_next(t, &s, &n) || !tok_is(s, n, "holders"))
        return "trailing bytes after the members";
    if (!tok_next(t, &s, &n) || !parse_u64(s, n, CSTATE_HOLDS_MAX, &count) || count == 0)
        return "holders: bad count";
    if (st->nmembers == 0)
        return "holders: no members";
    st->holds = rc_malloc((size_t)count * sizeof(*st->holds));
    for (size_t i = 0; i < count; i++) {
        struct cstate_hold *e = &st->holds[i];
        memset(e, 0, sizeof(*e));
        if (!tok_next(t, &s, &n))
            return "holders: missing entry";
        const char *slash = memchr(s, '/', n);
        if (slash == NULL)
            return "holders: entry without '/'";
        int nl = decode_indexes(st, s, (size_t)(slash - s), e->list, CSTATE_LIST_MAX);
        int nh = decode_indexes(st, slash + 1, n - (size_t)(slash + 1 - s), e->h, 2);
        if (nl < 1 || nh < 1)
            return "holders: bad entry";
        e->n = (uint8_t)nl;
        e->nh = (uint8_t)nh;
        for (int k = 0; k < nl; k++)
            for (int j = 0; j < k; j++)
                if (e->list[j] == e->list[k])
                    return "holders: a member twice in a list";
        if (list_pos(e, e->h[0]) < 0 || (nh == 2 && list_pos(e, e->h[1]) <= list_pos(e, e->h[0])))
            return "holders: holders not members of the list in its order";
        if (i > 0 && cstate_hold_cmp(&st->holds[i - 1], e) >= 0)
            return "holders: entries not in ascending order";
        st->nholds++;
    }
    return NULL;
}

struct cstate *cstate_decode(const char *buf, size_t len, char *err, size_t errlen)
{
    struct tok t = {buf, len, 0};
    struct cstate *st;
    const char *s, *why;
    size_t n, i;
    uint64_t v, count;

    if (len > CSTATE_LINE_MAX) {
        set_err(err, errlen, "state line too long");
        return NULL;
    }
    if (!tok_next(&t, &s, &n) || !tok_is(s, n, LINE_TAG)) {
        set_err(err, errlen, "not a state line (expected '" LINE_TAG "')");
        return NULL;
    }
    st = cstate_create();
    if (!tok_next(&t, &s, &n) || !parse_u64(s, n, UINT64_MAX, &st->epoch)) {
        set_err(err, errlen, "bad epoch");
        goto fail;
    }
    if (!tok_next(&t, &s, &n) || !cstate_valid_id(s, n)) {
        set_err(err, errlen, "bad ring id");
        goto fail;
    }
    memcpy(st->ring, s, n);
    if (!tok_next(&t, &s, &n) || !parse_u64(s, n, CSTATE_REPLICAS_MAX, &v)) {
        set_err(err, errlen, "bad replicas");
        goto fail;
    }
    st->replicas = (int)v;
    if (!tok_next(&t, &s, &n) || !parse_u64(s, n, UINT64_MAX, &count)) {
        set_err(err, errlen, "bad member count");
        goto fail;
    }
    if (count > CSTATE_MEMBERS_MAX) {
        set_err(err, errlen, "too many members");
        goto fail;
    }
    if ((st->epoch == 0) != (count == 0)) {
        set_err(err, errlen, "epoch 0 has no members and only epoch 0");
        goto fail;
    }
    reserve(st, (size_t)count);
    for (i = 0; i < count; i++) {
        struct cstate_member *m = &st->members[i];
        why = decode_member(&t, m);
        if (why != NULL) {
            set_err(err, errlen, "member %zu: %s", i + 1, why);
            goto fail;
        }
        if (m->upto >= st->epoch) {
            set_err(err, errlen, "member %zu: last up epoch not before the state's", i + 1);
            goto fail;
        }
        if (i > 0) {
            int c = memcmp(st->members[i - 1].id, m->id, CSTATE_ID_LEN);
            if (c >= 0) {
                set_err(err, errlen, "member %zu: %s", i + 1,
                        c == 0 ? "duplicate member id" : "members not sorted by id");
                goto fail;
            }
        }
        st->nmembers++;
    }
    if (t.pos != len && (why = decode_holds(&t, st)) != NULL) {
        set_err(err, errlen, "%s", why);
        goto fail;
    }
    if (t.pos != len) {
        set_err(err, errlen, "trailing bytes after the members");
        goto fail;
    }
    return st;
fail:
    cstate_destroy(&st);
    return NULL;
}

/* ---- changes ---- */

/* A replacement applies to a state where the old member is failed and the
 * new one absent; it is done where the old one is being removed (or gone)
 * and the new one is there as given. */
static enum cstate_verdict replace_check(const struct cstate *s, const struct cstate_change *c,
                                         const char **why)
{
    const struct cstate_member *old = cstate_find(s, c->id);
    const struct cstate_member *m = cstate_find(s, c->member.id);

    if (!cstate_valid_member(&c->member, why))
        return CSTATE_INVALID;
    if (strcmp(c->id, c->member.id) == 0) {
        *why = "a member cannot replace itself";
        return CSTATE_INVALID;
    }
    if (m != NULL) {
        /* Its status may have moved on since (it came up, or failed). */
        struct cstate_member same = *m;
        same.status = c->member.status;
        same.upto = c->member.upto;
        if (!member_equal(&same, &c->member)) {
            *why = "a member with that id exists with other settings";
            return CSTATE_INVALID;
        }
        if (old == NULL || old->status == CSTATE_REMOVING)
            return CSTATE_DONE;
        *why = "the new member is already in the ring";
        return CSTATE_INVALID;
    }
    if (old == NULL || old->status != CSTATE_FAILED) {
        *why = old == NULL ? "no such member" : "only a failed member can be replaced";
        return CSTATE_INVALID;
    }
    if (s->nmembers >= CSTATE_MEMBERS_MAX) {
        *why = "too many members";
        return CSTATE_INVALID;
    }
    return CSTATE_APPLIES;
}

unsigned cstate_debug_bugs;

static int count_status(const struct cstate *s, enum cstate_status st)
{
    if (cstate_debug_bugs & CSTATE_BUG_HALVES)
        return 0;       /* as if nothing else were changing */
    int n = 0;
    for (size_t i = 0; i < s->nmembers; i++)
        n += s->members[i].status == st;
    return n;
}

/* CSTATE_ADD_HOLDER: judge it against s, and with apply set (and s's
 * epoch the change's) make member c->id the second holder of every list
 * whose only up holder is c->member.id (a list of which c->id is an up
 * member but no holder: it lags, and the SYNCED marker it received from
 * that holder at this epoch says it no longer does). */
static enum cstate_verdict add_holder(struct cstate *s, const struct cstate_change *c, int apply,
                                      const char **why)
{
    long me = cstate_index(s, c->id), from = cstate_index(s, c->member.id);
    if (me < 0 || from < 0 || me == from || s->members[me].status != CSTATE_UP ||
        s->members[from].status != CSTATE_UP) {
        *why = "both members must be up";
        return CSTATE_INVALID;
    }
    int found = 0;
    for (size_t i = 0; i < s->nholds; i++) {
        struct cstate_hold *e = &s->holds[i];
        if (!cstate_hold_lags(s, e, (uint16_t)me, (uint16_t)from))
            continue;
        int pm = list_pos(e, (uint16_t)me), pf = list_pos(e, (uint16_t)from);
        if (!found && s->epoch != c->epoch) {
            *why = "the state moved on since the marker";
            return CSTATE_INVALID;
        }
        found = 1;
        if (apply) {
            e->nh = 2;
            e->h[0] = (uint16_t)(pf < pm ? from : me);
            e->h[1] = (uint16_t)(pf < pm ? me : from);
        }
    }
    /* An entry may now say what the default says: holders_settle(),
     * which every built value goes through, drops it (dropping it here
     * would make it read as the previous state's holders). */
    return found ? CSTATE_APPLIES : CSTATE_DONE;
}

enum cstate_verdict cstate_change_check(const struct cstate *s, const struct cstate_change *c,
                                        const char **why)
{
    const struct cstate_member *m;
    const char *w = NULL;
    enum cstate_verdict v = CSTATE_APPLIES;

    switch (c->kind) {
    case CSTATE_ADD_MEMBER:
        if (!cstate_valid_member(&c->member, &w)) {
            v = CSTATE_INVALID;
            break;
        }
        m = cstate_find(s, c->member.id);
        if (m == NULL) {
            if (s->nmembers >= CSTATE_MEMBERS_MAX) {
                w = "too many members";
                v = CSTATE_INVALID;
            }
        } else if (member_equal(m, &c->member)) {
            v = CSTATE_DONE;
        } else {
            w = "a member with that id exists with other settings";
            v = CSTATE_INVALID;
        }
        break;
    case CSTATE_REMOVE_MEMBER:
        m = cstate_find(s, c->id);
        if (m == NULL)
            v = CSTATE_DONE;
        else if (s->nmembers == 1) {
            w = "cannot remove the last member";
            v = CSTATE_INVALID;
        } else if (m->status != CSTATE_ADDING && m->status != CSTATE_REMOVING) {
            /* A removal proposed while a member was being added, chosen
             * after it came up, would drop it with slots it alone holds. */
            w = "only a member being added or removed can be removed";
            v = CSTATE_INVALID;
        } else if (m->status == CSTATE_REMOVING && count_status(s, CSTATE_ADDING) > 0) {
            w = "members are being added: the change ends whole (commit)";
            v = CSTATE_INVALID;
        }
        break;
    case CSTATE_SET_STATUS:
        m = cstate_find(s, c->id);
        if (m == NULL || !valid_status((int)c->status)) {
            w = m == NULL ? "no such member" : "bad status";
            v = CSTATE_INVALID;
        } else if (m->status == c->status)
            v = CSTATE_DONE;
        else if (m->status == CSTATE_ADDING ? c->status != CSTATE_UP : c->status == CSTATE_ADDING) {
            /* A member being added comes up (or is removed); no member
             * goes back to being added. */
            w = "a member being added can only come up";
            v = CSTATE_INVALID;
        } else if (m->status == CSTATE_ADDING && count_status(s, CSTATE_REMOVING) > 0) {
            w = "members are being removed: the change ends whole (commit)";
            v = CSTATE_INVALID;
        } else if (m->status == CSTATE_REMOVING ||
                   (c->status == CSTATE_REMOVING && m->status != CSTATE_FAILED)) {
            /* Only a failed member is removed, and only by its removal. */
            w = "only a failed member can be removed";
            v = CSTATE_INVALID;
        }
        break;
    case CSTATE_REPLACE_MEMBER:
        v = replace_check(s, c, &w);
        break;
    case CSTATE_COMMIT:
        if (count_status(s, CSTATE_ADDING) + count_status(s, CSTATE_REMOVING) == 0)
            v = CSTATE_DONE;
        else if (s->epoch != c->epoch) {
            w = "the state moved on since the change was judged ready";
            v = CSTATE_INVALID;
        }
        break;
    case CSTATE_ADD_HOLDER:
        v = add_holder((struct cstate *)s, c, 0, &w);
        break;
    case CSTATE_SET_REPLICAS:
        if (c->replicas < 0 || c->replicas > CSTATE_REPLICAS_MAX) {
            w = "bad replicas";
            v = CSTATE_INVALID;
        } else if (s->replicas == c->replicas)
            v = CSTATE_DONE;
        break;
    default:
        w = "unknown change";
        v = CSTATE_INVALID;
    }
    if (s->epoch == 0 && v != CSTATE_INVALID) {
        w = "no cluster state yet";
        v = CSTATE_INVALID;
    }
    if (why && w)
        *why = w;
    return v;
}

int cstate_change_apply(struct cstate *s, const struct cstate_change *c)
{
    if (cstate_change_check(s, c, NULL) != CSTATE_APPLIES)
        return -1;
    switch (c->kind) {
    case CSTATE_ADD_MEMBER: return cstate_add(s, &c->member, NULL);
    case CSTATE_REMOVE_MEMBER: return cstate_remove(s, c->id);
    case CSTATE_SET_STATUS: return cstate_set_status(s, c->id, c->status);
    case CSTATE_SET_REPLICAS: s->replicas = c->replicas; return 0;
    case CSTATE_REPLACE_MEMBER:
        return cstate_set_status(s, c->id, CSTATE_REMOVING) == 0 ? cstate_add(s, &c->member, NULL)
                                                                 : -1;
    case CSTATE_ADD_HOLDER:
    {
        const char *w;
        return add_holder(s, c, 1, &w) == CSTATE_APPLIES ? 0 : -1;
    }
    case CSTATE_COMMIT:
        for (size_t i = s->nmembers; i-- > 0;) {
            if (s->members[i].status == CSTATE_ADDING)
                s->members[i].status = CSTATE_UP;
            else if (s->members[i].status == CSTATE_REMOVING && s->nmembers > 1)
                cstate_remove(s, s->members[i].id);
        }
        return 0;
    }
    return -1;
}

/* ---- ballots and the persistent record ---- */

int cstate_ballot_cmp(const struct cstate_ballot *a, const struct cstate_ballot *b)
{
    int c;

    if (a->round != b->round)
        return a->round < b->round ? -1 : 1;
    if (a->round == 0)
        return 0; /* "none" carries no id */
    c = memcmp(a->id, b->id, CSTATE_ID_LEN);
    return c < 0 ? -1 : c > 0;
}

void cstate_acceptor_reset(struct cstate_acceptor *a)
{
    memset(&a->promised, 0, sizeof(a->promised));
    memset(&a->accepted, 0, sizeof(a->accepted));
    cstate_destroy(&a->value);
}

void cstate_record_init(struct cstate_record *r, const char *myid)
{
    memset(r, 0, sizeof(*r));
    memcpy(r->myid, myid, CSTATE_ID_LEN);
    r->state = cstate_create();
}

void cstate_record_deinit(struct cstate_record *r)
{
    cstate_destroy(&r->state);
    cstate_acceptor_reset(&r->acc);
}

void cstate_record_copy(struct cstate_record *dst, const struct cstate_record *src)
{
    *dst = *src;
    dst->state = cstate_clone(src->state);
    dst->acc.value = src->acc.value ? cstate_clone(src->acc.value) : NULL;
}

int cstate_record_equal(const struct cstate_record *a, const struct cstate_record *b)
{
    if (strcmp(a->myid, b->myid) != 0 || !cstate_equal(a->state, b->state) ||
        cstate_ballot_cmp(&a->acc.promised, &b->acc.promised) != 0 ||
        cstate_ballot_cmp(&a->acc.accepted, &b->acc.accepted) != 0 ||
        (a->acc.value == NULL) != (b->acc.value == NULL))
        return 0;
    return a->acc.value == NULL || cstate_equal(a->acc.value, b->acc.value);
}

static void encode_ballot(struct buf *b, const struct cstate_ballot *bal)
{
    buf_u64(b, bal->round);
    buf_str(b, " ");
    buf_add(b, bal->id, CSTATE_ID_LEN);
}

char *cstate_record_encode(const struct cstate_record *r, size_t *len)
{
    struct buf b = {NULL, 0, 0};

    buf_str(&b, RECORD_HEADER "\nmyid ");
    buf_add(&b, r->myid, CSTATE_ID_LEN);
    buf_str(&b, "\nstate ");
    encode_into(&b, r->state);
    buf_str(&b, "\npromised ");
    if (r->acc.promised.round == 0)
        buf_str(&b, "none");
    else
        encode_ballot(&b, &r->acc.promised);
    buf_str(&b, "\naccepted ");
    if (r->acc.accepted.round == 0 || r->acc.value == NULL) {
        buf_str(&b, "none");
    } else {
        encode_ballot(&b, &r->acc.accepted);
        buf_str(&b, " ");
        encode_into(&b, r->acc.value);
    }
    buf_str(&b, "\n");
    if (len)
        *len = b.len;
    return b.p;
}

/* Parse "<round> <id>" from the token reader into *bal. */
static int decode_ballot(struct tok *t, struct cstate_ballot *bal)
{
    const char *s;
    size_t n;

    memset(bal, 0, sizeof(*bal));
    if (!tok_next(t, &s, &n) || !parse_u64(s, n, UINT64_MAX, &bal->round) || bal->round == 0)
        return 0;
    if (!tok_next(t, &s, &n) || !cstate_valid_id(s, n))
        return 0;
    memcpy(bal->id, s, n);
    return 1;
}

/* Cut the next "\n"-terminated line out of buf; 0 if there is none. */
static int next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n)
{
    const char *nl;

    if (*pos >= len)
        return 0;
    nl = memchr(buf + *pos, '\n', len - *pos);
    if (nl == NULL)
        return 0;
    *line = buf + *pos;
    *n = (size_t)(nl - *line);
    *pos += *n + 1;
    return 1;
}

/* If line starts with "<key> ", point *rest past it. */
static int line_key(const char *line, size_t n, const char *key, const char **rest,
                    size_t *restn)
{
    size_t kl = strlen(key);

    if (n <= kl || memcmp(line, key, kl) != 0 || line[kl] != ' ')
        return 0;
    *rest = line + kl + 1;
    *restn = n - kl - 1;
    return 1;
}

int cstate_record_decode(const char *buf, size_t len, struct cstate_record *r,
                         char *err, size_t errlen)
{
    const char *line, *rest, *s;
    size_t n, rn, sn, pos = 0;
    struct tok t;
    char sub[160];

    memset(r, 0, sizeof(*r));
    if (len > CSTATE_RECORD_MAX) {
        set_err(err, errlen, "nodes.conf too long");
        return -1;
    }
    if (!next_line(buf, len, &pos, &line, &n) || !tok_is(line, n, RECORD_HEADER)) {
        set_err(err, errlen, "line 1: expected '" RECORD_HEADER "'");
        return -1;
    }
    if (!next_line(buf, len, &pos, &line, &n) || !line_key(line, n, "myid", &rest, &rn) ||
        !cstate_valid_id(rest, rn)) {
        set_err(err, errlen, "line 2: expected 'myid <40 hex>'");
        return -1;
    }
    memcpy(r->myid, rest, rn);
    if (!next_line(buf, len, &pos, &line, &n) || !line_key(line, n, "state", &rest, &rn)) {
        set_err(err, errlen, "line 3: expected 'state <state>'");
        goto fail;
    }
    r->state = cstate_decode(rest, rn, sub, sizeof(sub));
    if (r->state == NULL) {
        set_err(err, errlen, "line 3: %s", sub);
        goto fail;
    }
    if (!next_line(buf, len, &pos, &line, &n) || !line_key(line, n, "promised", &rest, &rn)) {
        set_err(err, errlen, "line 4: expected 'promised none|<round> <id>'");
        goto fail;
    }
    if (!tok_is(rest, rn, "none")) {
        t = (struct tok){rest, rn, 0};
        if (!decode_ballot(&t, &r->acc.promised) || t.pos != rn) {
            set_err(err, errlen, "line 4: bad promised ballot");
            goto fail;
        }
    }
    if (!next_line(buf, len, &pos, &line, &n) || !line_key(line, n, "accepted", &rest, &rn)) {
        set_err(err, errlen, "line 5: expected 'accepted none|<round> <id> <state>'");
        goto fail;
    }
    if (!tok_is(rest, rn, "none")) {
        t = (struct tok){rest, rn, 0};
        if (!decode_ballot(&t, &r->acc.accepted) || t.pos >= rn) {
            set_err(err, errlen, "line 5: bad accepted ballot");
            goto fail;
        }
        s = rest + t.pos;
        sn = rn - t.pos;
        r->acc.value = cstate_decode(s, sn, sub, sizeof(sub));
        if (r->acc.value == NULL) {
            set_err(err, errlen, "line 5: %s", sub);
            goto fail;
        }
        if (r->state->epoch == UINT64_MAX || r->acc.value->epoch != r->state->epoch + 1 ||
            strcmp(r->acc.value->ring, r->state->ring) != 0) {
            set_err(err, errlen, "line 5: accepted value is not the next state of this ring");
            goto fail;
        }
        if (cstate_ballot_cmp(&r->acc.accepted, &r->acc.promised) > 0) {
            set_err(err, errlen, "line 5: accepted ballot above the promised one");
            goto fail;
        }
    }
    if (r->state->epoch == 0 && r->acc.promised.round != 0) {
        set_err(err, errlen, "line 4: a promise without a cluster state");
        goto fail;
    }
    if (pos != len) {
        set_err(err, errlen, "trailing bytes after line 5");
        goto fail;
    }
    return 0;
fail:
    cstate_record_deinit(r);
    return -1;
}
