/*
 * elements.c — elements_walk(): the members of a list, set or sorted set.
 */
#include "elements.h"

#include "listpack.h"
#include "object.h"
#include "quicklist.h"
#include "t_set.h"
#include "t_zset.h"

struct zwalk {
    elements_fn *fn;
    void *arg;
};

static int zset_member(void *arg, const char *m, size_t mlen, double score)
{
    struct zwalk *z = arg;
    (void)score;
    z->fn(z->arg, m, mlen);
    return 1;
}

void elements_walk(const struct kv *o, elements_fn *fn, void *arg)
{
    if (o->type == OBJ_LIST) {
        struct ql_iter it;
        struct ql_entry e;
        char buf[LP_INTBUF_SIZE];
        ql_iter_init(&it, o->v.ptr, QL_HEAD);
        while (ql_iter_next(&it, &e)) {
            size_t len;
            const char *p = ql_entry_str(&e, buf, &len);
            fn(arg, p, len);
        }
    } else if (o->type == OBJ_SET) {
        struct set_iter it;
        struct set_elem e;
        set_iter_init(&it, o);
        while (set_iter_next(&it, &e)) {
            const char *p;
            size_t len;
            set_elem_bytes(&e, &p, &len);
            fn(arg, p, len);
        }
        set_iter_done(&it);
    } else if (o->type == OBJ_ZSET) {
        struct zwalk z = {fn, arg};
        zset_walk_all(o, zset_member, &z);
    }
}
