/*
 * bio.h — the background thread: work that must not block the event loop
 * (freeing big values and whole databases now; fsync and file closing
 * with persistence).
 */
#ifndef RC_BIO_H
#define RC_BIO_H

#include <stddef.h>

struct kv;
struct dict;

void bio_init(void);
void bio_deinit(void);          /* drains the queue, joins the thread */

/* Free an entry: in the background when lazy and the value is big enough
 * for that to pay off, else right away. */
void bio_free_kv(struct kv *o, int lazy);

/* Free an array of slot tables (and an expires table) in the background.
 * Takes ownership of the array and the tables. */
void bio_free_tables(struct dict **tables, size_t n, struct dict *expires);

/* Jobs queued and not yet done. */
unsigned long bio_pending(void);

#endif
