/*
 * ringcache-check — offline verifier of a ringcache (or Redis 7.0) data
 * directory, for operators and scripts.
 *
 *     ringcache-check [--fix] [--quiet] <datadir | file.rdb | appendonlydir
 *                                        | file.manifest | file.aof>
 *
 * What it verifies:
 *   - the multi-part AOF manifest (syntax, as aoffmt_manifest_parse()
 *     reads it) and that every file it references exists;
 *   - RDB files (dump.rdb, an RDB base): signature, version, the trailing
 *     CRC-64, and the structure: every opcode is walked and every value is
 *     decoded with the bounds-checked decoders of rdb.h;
 *   - AOF files (base and incremental): the RESP framing of every command
 *     and the `#RC crc64` batch checksums (aoffmt_scan()), and that the
 *     last file does not end inside a MULTI without its EXEC.
 * It reports the first bad file and byte offset.  With --fix it truncates
 * a torn tail of the LAST incremental file only (the only place where a
 * crash can leave one); damage anywhere else is never touched.
 *
 * Exit codes (stable, documented in --help):
 *   0  everything verified;
 *   1  damage found (in the middle of a file, a bad RDB, a bad or
 *      incomplete manifest, a missing file, or a torn tail in a file
 *      that is not the last one); nothing was changed;
 *   2  the last log file ends with a torn tail: without --fix nothing was
 *      changed; with --fix it was truncated to its last complete record
 *      and the directory now verifies;
 *   3  usage error, or an I/O error (unreadable path, failed truncate).
 * The directory is only ever read, except by the truncation of --fix.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aoffmt.h"
#include "crc64.h"
#include "mem.h"
#include "rdb.h"
#include "rdbstream.h"
#include "stream.h"

enum { EXIT_OK = 0, EXIT_DAMAGE = 1, EXIT_TORN = 2, EXIT_ERROR = 3 };

static int opt_fix = 0;
static int opt_quiet = 0;

/* The worst result so far: DAMAGE and ERROR outrank TORN, which
 * outranks OK.  ERROR wins over DAMAGE only when nothing could be read. */
static int result = EXIT_OK;

static void note_result(int r)
{
    static const int rank[] = {0, 2, 1, 3};
    if (rank[r] > rank[result])
        result = r;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    if (opt_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* Problems always go to stdout (so that a script sees them in order with
 * the OK lines) even with --quiet. */
static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* ---- files ---- */

/* A read-only mapping of a whole file. */
struct mapped {
    const unsigned char *p;
    size_t len;
    void *map;
};

/* Maps path.  Returns 0, or -1 with errno set. */
static int map_file(const char *path, struct mapped *m)
{
    memset(m, 0, sizeof(*m));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    m->len = (size_t)st.st_size;
    m->p = (const unsigned char *)"";
    if (m->len > 0) {
        void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        m->map = p;
        m->p = p;
    }
    close(fd);
    return 0;
}

static void unmap_file(struct mapped *m)
{
    if (m->map)
        munmap(m->map, m->len);
    m->map = NULL;
}

/* dir + "/" + name, rc_malloc'ed. */
static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = rc_malloc(a + b + 2);
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- RDB ---- */

/* A sink that accepts every element: decoding alone validates. */
static int s_begin(void *arg, enum rdb_kind kind, uint64_t hint)
{
    (void)arg, (void)kind, (void)hint;
    return 0;
}
static int s_elem(void *arg, const unsigned char *p, size_t len)
{
    (void)arg, (void)p, (void)len;
    return 0;
}
static int s_zelem(void *arg, const unsigned char *p, size_t len, double score)
{
    (void)arg, (void)p, (void)len, (void)score;
    return 0;
}
static int s_pair(void *arg, const unsigned char *f, size_t flen, const unsigned char *v,
                  size_t vlen)
{
    (void)arg, (void)f, (void)flen, (void)v, (void)vlen;
    return 0;
}

static const struct rdb_sink check_sink = {NULL, s_begin, s_elem, s_zelem, s_pair, NULL};

static int rdb_bad(const char *path, size_t off, const char *what)
{
    problem("%s: damage at byte offset %zu: %s\n", path, off, what);
    note_result(EXIT_DAMAGE);
    return -1;
}

/*
 * Verifies the RDB bytes p[0..len) of the file path.  Returns 0 when
 * they are a complete, valid RDB file (reported), -1 after reporting the
 * first problem.
 */
static int check_rdb_bytes(const char *path, const unsigned char *p, size_t len)
{
    if (len < 9 || memcmp(p, "REDIS", 5) != 0)
        return rdb_bad(path, 0, "wrong signature (not an RDB file)");
    int version = 0;
    for (int i = 5; i < 9; i++) {
        if (p[i] < '0' || p[i] > '9')
            return rdb_bad(path, 5, "bad version number");
        version = version * 10 + (p[i] - '0');
    }
    if (version < 1 || version > RDB_VERSION) {
        char why[64];
        snprintf(why, sizeof(why), "unsupported RDB format version %d", version);
        return rdb_bad(path, 5, why);
    }
    struct rdb_in in = {p, len, 9};
    int checksummed = 0;
    if (version >= 5) {
        if (len < 9 + 1 + 8)
            return rdb_bad(path, len, "truncated file (no room for the checksum)");
        uint64_t want = 0;
        for (int i = 7; i >= 0; i--)
            want = want << 8 | p[len - 8 + (size_t)i];
        if (want != 0) {
            uint64_t got = crc64(0, p, len - 8);
            if (got != want) {
                char why[128];
                snprintf(why, sizeof(why),
                         "CRC64 mismatch (stored %016llx, computed %016llx): the file is "
                         "damaged or truncated",
                         (unsigned long long)want, (unsigned long long)got);
                return rdb_bad(path, len - 8, why);
            }
            checksummed = 1;
        }
        in.len = len - 8;
    }
    unsigned long long keys = 0, expires = 0;
    int pending_expire = 0;
    for (;;) {
        size_t at = in.pos;
        unsigned char type;
        uint64_t a, b;
        if (rdb_in_byte(&in, &type) < 0)
            return rdb_bad(path, at, "unexpected end of file (no EOF opcode)");
        if (type == RDB_OPCODE_EOF)
            break;
        switch (type) {
        case RDB_OPCODE_EXPIRETIME_MS:
            if (rdb_in_u64le(&in, &a) < 0)
                return rdb_bad(path, at, "truncated expire time");
            pending_expire = 1;
            continue;
        case RDB_OPCODE_EXPIRETIME: {
            const unsigned char *q;
            if (rdb_in_bytes(&in, &q, 4) < 0)
                return rdb_bad(path, at, "truncated expire time");
            pending_expire = 1;
            continue;
        }
        case RDB_OPCODE_FREQ: {
            unsigned char fr;
            if (rdb_in_byte(&in, &fr) < 0)
                return rdb_bad(path, at, "truncated LFU frequency");
            continue;
        }
        case RDB_OPCODE_IDLE:
            if (rdb_in_len(&in, &a, NULL) < 0)
                return rdb_bad(path, at, "truncated LRU idle time");
            continue;
        case RDB_OPCODE_SELECTDB:
            if (rdb_in_len(&in, &a, NULL) < 0)
                return rdb_bad(path, at, "truncated SELECTDB");
            if (a > 0xffffff)
                return rdb_bad(path, at, "DB index out of range");
            continue;
        case RDB_OPCODE_RESIZEDB:
            if (rdb_in_len(&in, &a, NULL) < 0 || rdb_in_len(&in, &b, NULL) < 0)
                return rdb_bad(path, at, "truncated RESIZEDB");
            continue;
        case RDB_OPCODE_AUX: {
            struct rdb_str k, v;
            if (rdb_in_string(&in, &k) < 0)
                return rdb_bad(path, at, "bad AUX field name");
            rdb_str_free(&k);
            if (rdb_in_string(&in, &v) < 0)
                return rdb_bad(path, at, "bad AUX field value");
            rdb_str_free(&v);
            continue;
        }
        case RDB_OPCODE_MODULE_AUX:
        case RDB_OPCODE_FUNCTION:
        case RDB_OPCODE_FUNCTION2:
            return rdb_bad(path, at, "module data or functions (not supported by ringcache)");
        default:
            break;
        }
        if (!rdb_type_supported(type) && !rdb_is_stream_type(type)) {
            char why[64];
            snprintf(why, sizeof(why), "unsupported value type %u", (unsigned)type);
            return rdb_bad(path, at, why);
        }
        struct rdb_str key;
        if (rdb_in_string(&in, &key) < 0)
            return rdb_bad(path, at, "bad key");
        rdb_str_free(&key);
        if (rdb_is_stream_type(type)) {
            struct stream *s = rdb_get_stream(&in, type);
            if (s == NULL)
                return rdb_bad(path, at, "bad value (the stream does not decode)");
            stream_destroy(&s);
        } else if (rdb_decode_value(&in, type, &check_sink) < 0)
            return rdb_bad(path, at, "bad value (the key's value does not decode)");
        keys++;
        expires += (unsigned long long)pending_expire;
        pending_expire = 0;
    }
    if (version >= 5 && in.pos != in.len)
        return rdb_bad(path, in.pos, "data after the end-of-file opcode");
    say("%s: OK (RDB version %d, %llu keys, %llu with a TTL, %s)\n", path, version, keys,
        expires, checksummed ? "CRC64 verified" : "no checksum stored");
    return 0;
}

/* Verifies an RDB file.  Returns 0 if valid, -1 otherwise (reported). */
static int check_rdb_file(const char *path)
{
    struct mapped m;
    if (map_file(path, &m) != 0) {
        problem("%s: cannot read: %s\n", path, strerror(errno));
        note_result(errno == ENOENT ? EXIT_DAMAGE : EXIT_ERROR);
        return -1;
    }
    int rc = check_rdb_bytes(path, m.p, m.len);
    unmap_file(&m);
    return rc;
}

/* ---- AOF ---- */

static int word_is(const char *p, size_t len, const char *w)
{
    return strlen(w) == len && strncasecmp(p, w, len) == 0;
}

/*
 * Where the bytes p[0..len) (already scanned) leave a MULTI open: the
 * offset of that MULTI, or len when every MULTI has its EXEC (or when a
 * command does not parse, which aoffmt_scan() has reported already).
 */
static size_t open_multi(const unsigned char *p, size_t len)
{
    size_t pos = 0, multi = len;
    const char *argv[1];
    size_t lens[1];
    while (pos < len) {
        size_t start = pos, argc = 0;
        int r = aoffmt_next((const char *)p, len, &pos, argv, lens, 1, &argc);
        if (r == 0)
            continue;
        if (r == -3) {
            /* More arguments than room: parse again with room for all;
             * only the command name is looked at. */
            const char **av = rc_malloc(argc * sizeof(*av));
            size_t *al = rc_malloc(argc * sizeof(*al));
            size_t n = argc;
            pos = start;
            r = aoffmt_next((const char *)p, len, &pos, av, al, n, &argc);
            if (r == 1) {
                argv[0] = av[0];
                lens[0] = al[0];
            }
            rc_free(av);
            rc_free(al);
        }
        if (r != 1)
            return len;
        if (argc == 0)
            continue;
        if (word_is(argv[0], lens[0], "multi"))
            multi = start;
        else if (word_is(argv[0], lens[0], "exec") || word_is(argv[0], lens[0], "discard"))
            multi = len;
    }
    return multi;
}

/* Truncates path to keep bytes and syncs it.  Returns 0 or -1 (reported). */
static int truncate_file(const char *path, size_t keep)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)keep) != 0 || fsync(fd) != 0) {
        problem("%s: cannot truncate: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        note_result(EXIT_ERROR);
        return -1;
    }
    close(fd);
    return 0;
}

/*
 * Verifies a log file.  is_last: the last file of its set, where a torn
 * tail is the expected result of a crash (and --fix may cut it); a torn
 * tail anywhere else is damage.  Returns 0 when the file verifies (maybe
 * after a fix), 1 for a torn tail left in place, -1 on damage or error.
 */
static int check_aof_file(const char *path, int is_last)
{
    struct mapped m;
    if (map_file(path, &m) != 0) {
        problem("%s: cannot read: %s\n", path, strerror(errno));
        note_result(errno == ENOENT ? EXIT_DAMAGE : EXIT_ERROR);
        return -1;
    }
    struct aoffmt_scan sc;
    aoffmt_scan((const char *)m.p, m.len, &sc);
    if (sc.status == AOFFMT_CORRUPT) {
        problem("%s: damage at byte offset %zu: %s (records before offset %zu are intact; "
                "this is not a torn tail and is never repaired by --fix)\n",
                path, sc.bad_offset, sc.why, sc.valid_end);
        unmap_file(&m);
        note_result(EXIT_DAMAGE);
        return -1;
    }
    size_t keep = sc.valid_end;
    const char *why = sc.why;
    size_t multi = open_multi(m.p, keep);
    if (multi < keep) {
        keep = multi;
        why = "a MULTI without its EXEC at the end of the file";
        if (sc.status == AOFFMT_OK)
            sc.status = AOFFMT_TRUNCATED;
    }
    size_t len = m.len;
    unmap_file(&m);
    if (sc.status == AOFFMT_OK) {
        say("%s: OK (%zu commands, %s)\n", path, sc.commands,
            sc.framed ? "batch checksums verified" : "no batch checksums");
        return 0;
    }
    /* A torn tail. */
    if (!is_last) {
        problem("%s: damage at byte offset %zu: %s, but this is not the last log file\n",
                path, keep, why);
        note_result(EXIT_DAMAGE);
        return -1;
    }
    if (!opt_fix) {
        problem("%s: torn tail at byte offset %zu: %s (%zu bytes after the last complete "
                "record; run with --fix to truncate them)\n",
                path, keep, why, len - keep);
        note_result(EXIT_TORN);
        return 1;
    }
    if (truncate_file(path, keep) != 0)
        return -1;
    problem("%s: torn tail at byte offset %zu (%s): truncated from %zu to %zu bytes\n", path,
            keep, why, len, keep);
    note_result(EXIT_TORN);
    return 0;
}

/* Reads a whole small file (a manifest) as a NUL-terminated string;
 * NULL with errno set on failure. */
static char *slurp(const char *path, size_t *len)
{
    struct mapped m;
    if (map_file(path, &m) != 0)
        return NULL;
    if (m.len > (64u << 20)) {
        unmap_file(&m);
        errno = EFBIG;
        return NULL;
    }
    char *s = rc_malloc(m.len + 1);
    memcpy(s, m.p, m.len);
    s[m.len] = '\0';
    *len = m.len;
    unmap_file(&m);
    return s;
}

/* Does the file at path start with the RDB signature? */
static int looks_like_rdb(const char *path)
{
    unsigned char head[5];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    return n == (ssize_t)sizeof(head) && memcmp(head, "REDIS", 5) == 0;
}

/*
 * Verifies the manifest at manpath and every file it names (relative to
 * dir).  Stops at the first bad file.
 */
static void check_manifest(const char *dir, const char *manpath)
{
    size_t len = 0;
    char *text = slurp(manpath, &len);
    if (text == NULL) {
        problem("%s: cannot read: %s\n", manpath, strerror(errno));
        note_result(EXIT_ERROR);
        return;
    }
    struct aoffmt_manifest man;
    memset(&man, 0, sizeof(man));
    char err[256];
    if (aoffmt_manifest_parse(text, len, &man, err, sizeof(err)) != 0) {
        problem("%s: bad manifest: %s\n", manpath, err);
        note_result(EXIT_DAMAGE);
        rc_free(text);
        return;
    }
    rc_free(text);
    if (man.base == NULL && man.nincr == 0) {
        problem("%s: bad manifest: it names no file\n", manpath);
        note_result(EXIT_DAMAGE);
        aoffmt_manifest_free(&man);
        return;
    }
    /* Every referenced file must exist before anything is read. */
    int missing = 0;
    for (size_t i = 0; i <= man.nincr; i++) {
        const struct aoffmt_entry *e = i == 0 ? man.base : &man.incr[i - 1];
        if (e == NULL)
            continue;
        char *p = path_join(dir, e->name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            problem("%s: the manifest references %s, which is missing or not a regular "
                    "file\n", manpath, p);
            missing = 1;
        }
        rc_free(p);
    }
    if (missing) {
        note_result(EXIT_DAMAGE);
        aoffmt_manifest_free(&man);
        return;
    }
    say("%s: OK (%s base, %zu incremental file%s)\n", manpath, man.base ? "a" : "no",
        man.nincr, man.nincr == 1 ? "" : "s");
    int ok = 1;
    if (man.base) {
        char *p = path_join(dir, man.base->name);
        if (has_suffix(p, ".rdb") || looks_like_rdb(p))
            ok = check_rdb_file(p) == 0;
        else
            ok = check_aof_file(p, man.nincr == 0) >= 0;
        rc_free(p);
    }
    for (size_t i = 0; ok && i < man.nincr; i++) {
        char *p = path_join(dir, man.incr[i].name);
        ok = check_aof_file(p, i + 1 == man.nincr) >= 0;
        rc_free(p);
    }
    aoffmt_manifest_free(&man);
}

/*
 * Verifies every *.manifest directly in dir.  Returns how many it found.
 */
static int check_aof_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".manifest"))
            continue;
        names = rc_realloc(names, (n + 1) * sizeof(*names));
        names[n++] = rc_strndup(de->d_name, strlen(de->d_name));
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        char *p = path_join(dir, names[i]);
        check_manifest(dir, p);
        rc_free(p);
        rc_free(names[i]);
    }
    rc_free(names);
    return (int)n;
}

/*
 * A data directory: dump.rdb if present, and every subdirectory holding a
 * manifest (appendonlydir by default), or the directory itself when it
 * holds a manifest.  Returns how many things were checked.
 */
static int check_dir(const char *dir)
{
    int found = check_aof_dir(dir);
    if (found)
        return found;
    char *rdb = path_join(dir, "dump.rdb");
    struct stat st;
    if (stat(rdb, &st) == 0) {
        check_rdb_file(rdb);
        found++;
    }
    rc_free(rdb);
    DIR *d = opendir(dir);
    if (d == NULL) {
        problem("%s: cannot read: %s\n", dir, strerror(errno));
        note_result(EXIT_ERROR);
        return found ? found : -1;
    }
    char **subs = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *p = path_join(dir, de->d_name);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            subs = rc_realloc(subs, (n + 1) * sizeof(*subs));
            subs[n++] = p;
        } else {
            rc_free(p);
        }
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        found += check_aof_dir(subs[i]);
        rc_free(subs[i]);
    }
    rc_free(subs);
    return found;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ringcache-check [--fix] [--quiet] <path>\n"
            "\n"
            "Verifies a ringcache (or Redis 7.0) data directory offline.  <path> is\n"
            "  - a data directory: its dump.rdb and every subdirectory holding an AOF\n"
            "    manifest (appendonlydir);\n"
            "  - an AOF directory (holding *.manifest), or a manifest file: the manifest\n"
            "    syntax, that every file it names exists, then each file;\n"
            "  - an RDB file (signature REDIS): version, CRC64, and every opcode and\n"
            "    value decoded;\n"
            "  - any other file: checked as a single AOF file.\n"
            "Log files are checked for RESP framing and the '#RC crc64' batch checksums.\n"
            "The first bad file and byte offset are reported on standard output.\n"
            "\n"
            "Options:\n"
            "  --fix    truncate a torn tail of the last incremental log file (records\n"
            "           after its last complete, checksummed batch).  Damage anywhere else\n"
            "           is never modified.\n"
            "  --quiet  print only problems.\n"
            "\n"
            "Exit codes:\n"
            "  0  everything verified;\n"
            "  1  damage found (bad RDB, bad or incomplete manifest, missing file, damage\n"
            "     in the middle of a log, or a torn tail in a log file that is not the\n"
            "     last); nothing was changed, even with --fix;\n"
            "  2  the last log file has a torn tail: without --fix it was left in place;\n"
            "     with --fix it was truncated and the data now verifies;\n"
            "  3  usage error, or I/O error (unreadable path, failed truncation).\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fix") == 0) {
            opt_fix = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            opt_quiet = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--") == 0 && i + 1 == argc - 1) {
            path = argv[++i];
        } else if (argv[i][0] == '-' || path != NULL) {
            usage(stderr);
            return EXIT_ERROR;
        } else {
            path = argv[i];
        }
    }
    if (path == NULL) {
        usage(stderr);
        return EXIT_ERROR;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "ringcache-check: %s: %s\n", path, strerror(errno));
        return EXIT_ERROR;
    }
    if (S_ISDIR(st.st_mode)) {
        int n = check_dir(path);
        if (n == 0) {
            fprintf(stderr, "ringcache-check: %s holds neither dump.rdb nor an AOF manifest\n",
                    path);
            return EXIT_ERROR;
        }
    } else if (has_suffix(path, ".manifest")) {
        char *dir = rc_strndup(path, strlen(path));
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        check_manifest(slash ? dir : ".", path);
        rc_free(dir);
    } else if (looks_like_rdb(path)) {
        check_rdb_file(path);
    } else {
        check_aof_file(path, 1);
    }
    if (result == EXIT_OK)
        say("ringcache-check: OK\n");
    else if (result == EXIT_TORN)
        say("ringcache-check: %s\n", opt_fix ? "torn tail truncated; the data now verifies"
                                             : "torn tail found (run with --fix to truncate)");
    return result;
}
