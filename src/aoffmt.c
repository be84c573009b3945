/*
 * aoffmt.c — append-only log formats: CRC-64, checksum annotations, the
 * Redis 7.0 manifest and the framing scanner.  See aoffmt.h.
 */
#include "aoffmt.h"

#include <stdio.h>
#include <string.h>

#include "crc64.h"
#include "mem.h"

/* ---- annotation ---- */

static const char ann_prefix[] = "#RC crc64 ";

size_t aoffmt_annotation(char *out, uint64_t crc, size_t len)
{
    /* Once per batch on the write path: formatted by hand, not snprintf. */
    static const char hex[] = "0123456789abcdef";
    size_t pl = sizeof(ann_prefix) - 1;
    memcpy(out, ann_prefix, pl);
    for (int i = 0; i < 16; i++)
        out[pl + (size_t)i] = hex[(crc >> (60 - 4 * i)) & 0xf];
    size_t n = pl + 16;
    memcpy(out + n, " len ", 5);
    n += 5;
    char digits[24];
    size_t d = 0;
    do {
        digits[d++] = (char)('0' + len % 10);
        len /= 10;
    } while (len);
    while (d)
        out[n++] = digits[--d];
    out[n++] = '\r';
    out[n++] = '\n';
    return n;
}

int aoffmt_parse_annotation(const char *line, size_t n, uint64_t *crc, size_t *len)
{
    size_t pl = sizeof(ann_prefix) - 1;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n < pl + 16 + 5 || memcmp(line, ann_prefix, pl) != 0)
        return -1;
    uint64_t c = 0;
    const char *p = line + pl;
    for (int i = 0; i < 16; i++) {
        int d;
        if (p[i] >= '0' && p[i] <= '9')
            d = p[i] - '0';
        else if (p[i] >= 'a' && p[i] <= 'f')
            d = p[i] - 'a' + 10;
        else
            return -1;
        c = (c << 4) | (uint64_t)d;
    }
    p += 16;
    size_t rest = n - pl - 16;
    if (rest < 6 || memcmp(p, " len ", 5) != 0)
        return -1;
    p += 5;
    rest -= 5;
    size_t v = 0;
    if (rest == 0 || rest > 19)
        return -1;
    for (size_t i = 0; i < rest; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        if (v > (SIZE_MAX - 9) / 10)
            return -1;
        v = v * 10 + (size_t)(p[i] - '0');
    }
    *crc = c;
    *len = v;
    return 0;
}

/* ---- manifest ---- */

static int name_ok(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch == '"' || ch == '\'' || ch == '\\' || ch == 0x7f)
            return 0;
    }
    return 1;
}

static int add_entry(struct aoffmt_manifest *m, const char *name, size_t nlen, long long seq,
                     int type)
{
    if (!name_ok(name, nlen))
        return -1;
    struct aoffmt_entry e = {rc_strndup(name, nlen), seq, type};
    if (type == AOFFMT_BASE) {
        if (m->base) {
            rc_free(m->base->name);
            rc_free(m->base);
        }
        m->base = rc_malloc(sizeof(*m->base));
        *m->base = e;
        return 0;
    }
    if (m->nincr == m->incr_cap) {
        m->incr_cap = m->incr_cap ? m->incr_cap * 2 : 4;
        m->incr = rc_realloc(m->incr, m->incr_cap * sizeof(*m->incr));
    }
    m->incr[m->nincr++] = e;
    return 0;
}

int aoffmt_manifest_add(struct aoffmt_manifest *m, const char *name, long long seq, int type)
{
    return add_entry(m, name, strlen(name), seq, type);
}

/* Parse a positive decimal within [s, s+n). */
static int parse_seq(const char *s, size_t n, long long *out)
{
    long long v = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v <= 0)
        return -1;
    *out = v;
    return 0;
}

int aoffmt_manifest_parse(const char *text, size_t len, struct aoffmt_manifest *m,
                          char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    size_t pos = 0;
    int lineno = 0;
    int nbase = 0;
    long long last_incr_seq = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        lineno++;
        size_t lend = end;
        if (lend > pos && text[lend - 1] == '\r')
            lend--;
        const char *line = text + pos;
        size_t n = lend - pos;
        pos = end < len ? end + 1 : end;
        if (n == 0 || line[0] == '#')
            continue;

        /* Tokens: pairs of key and value separated by spaces. */
        const char *tok[16];
        size_t tlen[16];
        int nt = 0;
        size_t i = 0;
        while (i < n) {
            while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
            if (i >= n)
                break;
            if (nt == 16) {
                snprintf(err, errlen, "Invalid AOF manifest file format at line %d: too many "
                         "fields", lineno);
                goto fail;
            }
            size_t s = i;
            while (i < n && line[i] != ' ' && line[i] != '\t')
                i++;
            tok[nt] = line + s;
            tlen[nt] = i - s;
            nt++;
        }
        if (nt % 2 != 0 || nt == 0) {
            snprintf(err, errlen, "Invalid AOF manifest file format at line %d", lineno);
            goto fail;
        }
        const char *name = NULL;
        size_t namelen = 0;
        long long seq = 0;
        int type = 0;
        for (int k = 0; k < nt; k += 2) {
            if (tlen[k] == 4 && memcmp(tok[k], "file", 4) == 0) {
                name = tok[k + 1];
                namelen = tlen[k + 1];
            } else if (tlen[k] == 3 && memcmp(tok[k], "seq", 3) == 0) {
                if (parse_seq(tok[k + 1], tlen[k + 1], &seq) != 0) {
                    snprintf(err, errlen, "Invalid AOF manifest file format at line %d: bad "
                             "seq", lineno);
                    goto fail;
                }
            } else if (tlen[k] == 4 && memcmp(tok[k], "type", 4) == 0) {
                if (tlen[k + 1] != 1 || (tok[k + 1][0] != 'b' && tok[k + 1][0] != 'h' &&
                                         tok[k + 1][0] != 'i')) {
                    snprintf(err, errlen, "Invalid AOF manifest file format at line %d: bad "
                             "type", lineno);
                    goto fail;
                }
                type = tok[k + 1][0];
            }
            /* Unknown keys are ignored, as Redis does, for later versions. */
        }
        if (name == NULL || seq == 0 || type == 0) {
            snprintf(err, errlen, "Invalid AOF manifest file format at line %d: missing "
                     "file, seq or type", lineno);
            goto fail;
        }
        if (type == AOFFMT_HIST)
            continue;
        if (type == AOFFMT_BASE && ++nbase > 1) {
            snprintf(err, errlen, "Found duplicate base file information at line %d", lineno);
            goto fail;
        }
        if (type == AOFFMT_INCR) {
            if (seq <= last_incr_seq) {
                snprintf(err, errlen, "Found a non-monotonic sequence number at line %d",
                         lineno);
                goto fail;
            }
            last_incr_seq = seq;
        }
        if (add_entry(m, name, namelen, seq, type) != 0) {
            snprintf(err, errlen, "Invalid AOF manifest file format at line %d: bad file "
                     "name", lineno);
            goto fail;
        }
    }
    if (m->base == NULL && m->nincr == 0) {
        snprintf(err, errlen, "Found an empty AOF manifest");
        goto fail;
    }
    return 0;
fail:
    aoffmt_manifest_free(m);
    return -1;
}

char *aoffmt_manifest_format(const struct aoffmt_manifest *m, size_t *len)
{
    size_t cap = 64;
    if (m->base)
        cap += strlen(m->base->name) + 48;
    for (size_t i = 0; i < m->nincr; i++)
        cap += strlen(m->incr[i].name) + 48;
    char *out = rc_malloc(cap);
    size_t used = 0;
    if (m->base)
        used += (size_t)snprintf(out + used, cap - used, "file %s seq %lld type b\n",
                                 m->base->name, m->base->seq);
    for (size_t i = 0; i < m->nincr; i++)
        used += (size_t)snprintf(out + used, cap - used, "file %s seq %lld type i\n",
                                 m->incr[i].name, m->incr[i].seq);
    *len = used;
    return out;
}

void aoffmt_manifest_free(struct aoffmt_manifest *m)
{
    if (m->base) {
        rc_free(m->base->name);
        rc_free(m->base);
    }
    for (size_t i = 0; i < m->nincr; i++)
        rc_free(m->incr[i].name);
    rc_free(m->incr);
    memset(m, 0, sizeof(*m));
}

/* ---- scanning ---- */

/* Read "<c><digits>\r\n" at buf[*pos]: returns 1 and the number, -1 when
 * incomplete, -2 when malformed.  Numbers are bounded by max. */
static int read_header(const char *buf, size_t len, size_t *pos, char c, size_t max,
                       size_t *out)
{
    size_t p = *pos;
    if (p >= len)
        return -1;
    if (buf[p] != c)
        return -2;
    p++;
    size_t v = 0;
    size_t digits = 0;
    while (p < len && buf[p] >= '0' && buf[p] <= '9') {
        if (v > (max - (size_t)(buf[p] - '0')) / 10)
            return -2;
        v = v * 10 + (size_t)(buf[p] - '0');
        p++;
        digits++;
    }
    if (p >= len)
        return -1;
    if (digits == 0 || buf[p] != '\r')
        return -2;
    if (p + 1 >= len)
        return -1;
    if (buf[p + 1] != '\n')
        return -2;
    *pos = p + 2;
    *out = v;
    return 1;
}

/* Bounds that keep a damaged header from describing absurd sizes. */
#define MAX_ARGS ((size_t)1 << 30)
#define MAX_BULK ((size_t)1 << 40)

int aoffmt_next(const char *buf, size_t len, size_t *pos, const char **argv, size_t *lens,
                size_t maxargs, size_t *argc)
{
    size_t p = *pos;
    if (p >= len)
        return -1;
    if (buf[p] == '#') {
        const char *nl = memchr(buf + p, '\n', len - p);
        if (nl == NULL)
            return -1;
        *pos = (size_t)(nl - buf) + 1;
        return 0;
    }
    size_t n;
    int r = read_header(buf, len, &p, '*', MAX_ARGS, &n);
    if (r != 1)
        return r;
    if (n == 0)
        return -2;
    *argc = n;
    int too_many = n > maxargs;
    for (size_t i = 0; i < n; i++) {
        size_t bl;
        r = read_header(buf, len, &p, '$', MAX_BULK, &bl);
        if (r != 1)
            return r;
        if (bl > len - p || len - p - bl < 2)
            return -1;
        if (buf[p + bl] != '\r' || buf[p + bl + 1] != '\n')
            return -2;
        if (!too_many) {
            argv[i] = buf + p;
            lens[i] = bl;
        }
        p += bl + 2;
    }
    *pos = p;
    return too_many ? -3 : 1;
}

/* Is there one of our annotation lines, complete, at or after from? */
static int annotation_after(const char *buf, size_t len, size_t from)
{
    size_t p = from;
    while (p < len) {
        const char *hit = NULL;
        if (p == 0 || buf[p - 1] == '\n') {
            if (buf[p] == '#')
                hit = buf + p;
        }
        if (hit == NULL) {
            const char *nl = memchr(buf + p, '\n', len - p);
            if (nl == NULL)
                return 0;
            p = (size_t)(nl - buf) + 1;
            continue;
        }
        const char *nl = memchr(hit, '\n', len - p);
        if (nl == NULL)
            return 0;
        uint64_t crc;
        size_t bl;
        if (aoffmt_parse_annotation(hit, (size_t)(nl - hit), &crc, &bl) == 0)
            return 1;
        p = (size_t)(nl - buf) + 1;
    }
    return 0;
}

void aoffmt_scan(const char *buf, size_t len, struct aoffmt_scan *out)
{
    memset(out, 0, sizeof(*out));
    size_t pos = 0;
    size_t last_cp = 0;         /* end of the last verified annotation */
    size_t last_cmd = 0;        /* end of the last complete command or line */
    size_t cmds_at_cp = 0, cmds = 0;
    const char *argv[1];
    size_t lens[1];
    if (len >= AOFFMT_HEADER_LEN && memcmp(buf, AOFFMT_HEADER, AOFFMT_HEADER_LEN) == 0) {
        out->framed = 1;
        pos = last_cp = last_cmd = AOFFMT_HEADER_LEN;
    } else if (len < AOFFMT_HEADER_LEN && memcmp(buf, AOFFMT_HEADER, len) == 0) {
        /* A torn header: an empty file. */
        out->status = len ? AOFFMT_TRUNCATED : AOFFMT_OK;
        out->why = "partial header";
        return;
    }
    while (pos < len) {
        size_t start = pos;
        size_t argc;
        int r = aoffmt_next(buf, len, &pos, argv, lens, 0, &argc);
        if (r == -3 || r == 1) {
            cmds++;
            last_cmd = pos;
            continue;
        }
        if (r == 0) {
            uint64_t crc;
            size_t bl;
            size_t lend = pos - 1;
            if (aoffmt_parse_annotation(buf + start, lend - start, &crc, &bl) != 0) {
                last_cmd = pos;         /* someone else's annotation (#TS:...) */
                continue;
            }
            if (bl > start || start - bl < last_cp || (last_cp > 0 && start - bl != last_cp)) {
                out->status = AOFFMT_CORRUPT;
                out->bad_offset = last_cp;
                out->why = "checksum annotation does not match the batch length";
                out->valid_end = last_cp;
                out->commands = cmds_at_cp;
                out->framed = 1;
                return;
            }
            if (crc64(0, buf + start - bl, bl) != crc) {
                out->status = AOFFMT_CORRUPT;
                out->bad_offset = start - bl;
                out->why = "checksum mismatch in the batch starting here";
                out->valid_end = last_cp;
                out->commands = cmds_at_cp;
                out->framed = 1;
                return;
            }
            out->framed = 1;
            last_cp = pos;
            last_cmd = pos;
            cmds_at_cp = cmds;
            continue;
        }
        /* Incomplete or malformed at start. */
        int later = annotation_after(buf, len, start + 1);
        if (later) {
            out->status = AOFFMT_CORRUPT;
            out->bad_offset = out->framed ? last_cp : start;
            out->why = r == -2 ? "malformed command" : "command overruns later records";
            out->valid_end = last_cp;
            out->commands = cmds_at_cp;
            out->framed = 1;
            return;
        }
        if (out->framed) {
            out->status = AOFFMT_TRUNCATED;
            out->valid_end = last_cp;
            out->commands = cmds_at_cp;
            out->why = r == -2 ? "unreadable records after the last checksum"
                               : "partial command after the last checksum";
            return;
        }
        if (r == -2) {
            out->status = AOFFMT_CORRUPT;
            out->bad_offset = start;
            out->why = "malformed command";
            out->valid_end = last_cmd;
            out->commands = cmds;
            return;
        }
        out->status = AOFFMT_TRUNCATED;
        out->valid_end = last_cmd;
        out->commands = cmds;
        out->why = "partial command at the end of the file";
        return;
    }
    if (out->framed && last_cp < len) {
        out->status = AOFFMT_TRUNCATED;
        out->valid_end = last_cp;
        out->commands = cmds_at_cp;
        out->why = "records after the last checksum";
        return;
    }
    out->status = AOFFMT_OK;
    out->valid_end = len;
    out->commands = cmds;
}
