/* Store internals shared with benchmarks: the plain-replace baseline of the bars upsert.
 * Not part of the public API. */
#ifndef KZ_STORE_INT_H
#define KZ_STORE_INT_H

#include "kizashi/store.h"

/* Current schema version (the length of the migration list in store.c). */
#define KZ_STORE_SCHEMA_VERSION 2

/* Baseline for bench_import: the same transaction and prepared-statement loop as
 * kz_store_put_bars, but a plain `INSERT OR REPLACE` with no change detection and no counting
 * (every row is reported as inserted). Lets the benchmark price the change detection. */
KZ_NODISCARD kz_status kz_store_put_bars_replace(kz_store *st,
                                                 const char *exchange,
                                                 const char *symbol,
                                                 kz_timeframe tf,
                                                 const kz_bars *bars,
                                                 kz_upsert_stats *stats);

/* ---- connection handling shared by the other files of src/store/ (jobs.c, registry.c: the
 * scheduler's job store and the model registry, issue 9), so <sqlite3.h> stays in src/store/. */
typedef struct sqlite3 sqlite3;
/* The store's connection (borrowed). */
sqlite3 *kz_store_db(kz_store *st);
/* The database path the store was opened with. */
const char *kz_store_path(const kz_store *st);
/* Set the store's message to "<path>: <msg>" and return code. */
kz_status kz_store_fail(kz_store *st, kz_status code, const char *msg);
/* Set the store's message to "<path>: <what>: <SQLite's message>"; KZ_ERR_STORE (or NOMEM). */
kz_status kz_store_db_fail(kz_store *st, const char *what);

/* ---- SQL helpers (sql.c) shared by store.c, jobs.c and registry.c: a query is its SQL plus a
 * type string for its bindings, and every failure sets the store's message. */
typedef struct sqlite3_stmt sqlite3_stmt;
/* Prepare sql; on failure *q is NULL. */
KZ_NODISCARD kz_status kz_sql_prepare(kz_store *st, const char *sql, sqlite3_stmt **q);
/* Run SQL with no result (BEGIN, COMMIT, DDL); `what` names it in the message. */
KZ_NODISCARD kz_status kz_sql_exec(kz_store *st, const char *sql, const char *what);
/* End a transaction: COMMIT when s is KZ_OK, else ROLLBACK (keeping s and its message). */
KZ_NODISCARD kz_status kz_sql_end_txn(kz_store *st, kz_status s);
/* Bind ?1, ?2, ... in order from the variadic arguments, one letter each: 't' const char *
 * (NULL binds ""), 'i' int, 'I' int64_t, 'r' double (NaN binds NULL). */
void kz_sql_bind(sqlite3_stmt *q, const char *types, ...);
/* kz_sql_prepare then kz_sql_bind. */
KZ_NODISCARD kz_status
kz_sql_prepare_bind(kz_store *st, const char *sql, sqlite3_stmt **q, const char *types, ...);
/* Step a statement that returns no row. */
KZ_NODISCARD kz_status kz_sql_step_done(kz_store *st, sqlite3_stmt *q, const char *what);
/* Prepare, bind (as kz_sql_bind), step to the end and finalise a statement returning no row. */
KZ_NODISCARD kz_status
kz_sql_run(kz_store *st, const char *sql, const char *what, const char *types, ...);
/* Step to the first row: KZ_OK on a row, KZ_ERR_NOT_FOUND (no message set) when there is none,
 * else the store's error naming `what`. */
KZ_NODISCARD kz_status kz_sql_step_row(kz_store *st, sqlite3_stmt *q, const char *what);
/* Copy a text column into dst (NULL reads as ""). */
void kz_sql_copy_text(sqlite3_stmt *q, int col, char *dst, size_t size);
/* A real column; NULL reads as NaN (the 'r' binding's inverse). */
double kz_sql_col_real(sqlite3_stmt *q, int col);
/* How kz_sql_collect reads rows: `size` bytes each, filled by read(q, row, size). */
typedef struct kz_sql_rows {
    size_t size;
    void (*read)(sqlite3_stmt *q, void *row, size_t size);
    const char *oom_msg; /* the message when the array cannot grow */
    const char *what;    /* what failed when stepping fails */
} kz_sql_rows;
/* A kz_sql_rows reader for fixed-size text rows: column 0 copied into the row. */
void kz_sql_read_text0(sqlite3_stmt *q, void *row, size_t size);
/* Step a prepared, bound statement to the end, appending one row per result row into a growing
 * array (*rows kz_malloc'ed, NULL when empty); on failure *rows is NULL and *n 0. The caller
 * finalises q. */
KZ_NODISCARD kz_status
kz_sql_collect(kz_store *st, sqlite3_stmt *q, const kz_sql_rows *spec, void **rows, size_t *n);
/* A scheduler model name: 1..KZ_SCHED_NAME_MAX - 1 bytes. */
int kz_store_valid_name(const char *s);

/* ---- scheduler queries (jobs.c, registry.c) used by src/sched/; public types in sched.h. */
struct kz_job;
/* pending -> running with started_ms = now; *claimed = 0 if the job was no longer pending. */
KZ_NODISCARD kz_status kz_jobs_claim(kz_store *st, int64_t id, int64_t now_ms, int *claimed);
/* Record a running job's end (status, error, result version) and, when retry_at_ms >= 0, create
 * its retry (same model and trigger, attempts + 1, retry_of = id) in the same transaction.
 * *retry_id optional (0 if none). */
KZ_NODISCARD kz_status kz_jobs_finish(kz_store *st,
                                      int64_t id,
                                      int status,
                                      const char *error,
                                      int result_version,
                                      int64_t now_ms,
                                      int64_t retry_at_ms,
                                      int64_t *retry_id);
/* Crash recovery: every running job becomes interrupted; with requeue, those with attempts <
 * max_attempts get a pending retry due now. One transaction. Counts optional. */
KZ_NODISCARD kz_status kz_jobs_recover(kz_store *st,
                                       int64_t now_ms,
                                       int max_attempts,
                                       int requeue,
                                       size_t *n_interrupted,
                                       size_t *n_requeued);
/* Pending jobs with scheduled_ms <= now, oldest first (scheduled_ms, id), at most limit. */
KZ_NODISCARD kz_status
kz_jobs_due(kz_store *st, int64_t now_ms, size_t limit, struct kz_job **rows, size_t *n);
/* Names of models with a pending or running job (*names: n * 64-byte names, kz_free). */
KZ_NODISCARD kz_status kz_jobs_busy_models(kz_store *st, char **names, size_t *n);
/* Ids of running jobs whose cancellation was requested (*ids kz_free). */
KZ_NODISCARD kz_status kz_jobs_cancel_requests(kz_store *st, int64_t **ids, size_t *n);
/* created_ms of the newest first-attempt job (retry_of = 0) of (model, trigger); 0 if none. */
KZ_NODISCARD kz_status kz_jobs_last_fired(kz_store *st,
                                          const char *model,
                                          int trigger,
                                          int64_t *out_ms);
/* Delete finished jobs with finished_ms < before_ms. */
KZ_NODISCARD kz_status kz_jobs_prune(kz_store *st, int64_t before_ms, size_t *n_deleted);
/* The first time a scheduler saw `model` (recorded now if it never did). */
KZ_NODISCARD kz_status kz_sched_first_seen(kz_store *st,
                                           const char *model,
                                           int64_t now_ms,
                                           int64_t *out_ms);
/* Number of stored bars of a series with ts > after_ms. */
KZ_NODISCARD kz_status kz_store_count_bars_after(kz_store *st,
                                                 const char *exchange,
                                                 const char *symbol,
                                                 kz_timeframe tf,
                                                 int64_t after_ms,
                                                 size_t *n);
/* The newest `limit` logged predictions of (model, version) with ts <= max_ts, oldest first:
 * *ts (n) and *prob (n x 3) kz_malloc'ed. */
KZ_NODISCARD kz_status kz_predlog_matured(kz_store *st,
                                          const char *model,
                                          int version,
                                          int64_t max_ts,
                                          size_t limit,
                                          int64_t **ts,
                                          double **prob,
                                          size_t *n);
/* Per model name: the newest version's number, created_ms and data_to, and the active version
 * (0 if none). One query for all names, so a scheduler tick costs O(1) statements. */
typedef struct kz_registry_summary {
    char name[64];
    int newest_version;
    int64_t newest_created_ms, newest_data_to_ms;
    int active_version;
} kz_registry_summary;
KZ_NODISCARD kz_status kz_registry_summaries(kz_store *st, kz_registry_summary **rows, size_t *n);
/* Delete (one transaction) the rows of `name` beyond the newest keep versions, never the active
 * one; their paths (no longer referenced by any row) go to *paths (n * 512 bytes, kz_free). */
KZ_NODISCARD kz_status
kz_registry_prune_rows(kz_store *st, const char *name, int keep, char **paths, size_t *n);
#endif
