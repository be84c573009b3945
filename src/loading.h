/*
 * loading.h — the start-up load (a dbfilename snapshot, or the append-only
 * log's base and incremental files) while the node already listens, as
 * Redis 7.0 loads: clients connect meanwhile and every command without the
 * `loading` flag gets -LOADING; INFO persistence shows the progress.
 *
 * A loader calls loading_begin() with the total size of what it will
 * read, loading_step() once per record (key or logged command) with the
 * record's end offset in the current file, loading_file_done() after each
 * file, and loading_end() at the end.  loading_step() applies the
 * key-load-delay debug knob and, every loading-process-events-interval-
 * bytes bytes or 1024 records, serves the clients once without blocking.
 */
#ifndef RC_LOADING_H
#define RC_LOADING_H

#include <stddef.h>
#include <time.h>

/* What INFO persistence prints while loading (loading_* fields). */
struct loading_info {
    int loading;                    /* 1 while the start-up load runs */
    time_t start_time;              /* loading_start_time */
    unsigned long long total_bytes; /* loading_total_bytes */
    unsigned long long loaded_bytes;/* loading_loaded_bytes */
    unsigned long long rdb_used_mem;/* loading_rdb_used_mem (the RDB's used-mem aux) */
    double loaded_perc;             /* loading_loaded_perc */
    long long eta_seconds;          /* loading_eta_seconds (1 until it can be computed) */
};

/* Starts the load of total_bytes bytes (server.loading becomes 1). */
void loading_begin(unsigned long long total_bytes);

/*
 * One record ends at byte file_pos of the file being loaded.  Returns 0,
 * or -1 when a shutdown was requested meanwhile (SIGTERM, SHUTDOWN): the
 * loader then stops and the node exits without saving, as Redis does.
 */
int loading_step(size_t file_pos);

/* The file being loaded, file_len bytes long, is done. */
void loading_file_done(size_t file_len);

/* The RDB being loaded says the writer used this much memory. */
void loading_set_rdb_used_mem(unsigned long long bytes);

/* server.appendonly when the load began: CONFIG SET may not change it
 * while the load runs. */
int loading_appendonly(void);

/* The load is over (server.loading becomes 0). */
void loading_end(void);

void loading_get_info(struct loading_info *out);

#endif
