/* kizashi job store: the scheduler's jobs and per-model state in the store's SQLite file (issue 9).
 * With registry.c this widens "store.c is the only file that includes <sqlite3.h>" to "only
 * src/store/ does": the connection and its error handling stay in store.c (store_int.h).
 *
 * DESIGN
 * - A job row runs at most once: pending -> running -> completed | failed | cancelled |
 *   interrupted, or pending -> cancelled. A retry (after a failure) or a re-queue (after a crash)
 *   is a new row with retry_of = the old id and attempts + 1, so history is never rewritten and
 *   max_attempts bounds crash loops too.
 * - Ids are INTEGER PRIMARY KEY AUTOINCREMENT: unique for the file's lifetime, whatever the clock
 *   says (the original keyed jobs by the second and overwrote collisions).
 * - Every multi-statement change is one BEGIN IMMEDIATE transaction; statements are finalised on
 *   every path.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/sched.h"

#include "store/store_int.h"

/* ---------------------------------------------------------------- names */

static const char *const TRIGGER_NAMES[KZ_TRIGGER_COUNT] = {
    "scheduled", "new_data", "performance_degradation", "data_drift", "manual"};
static const char *const JOB_STATUS_NAMES[KZ_JOB_STATUS_COUNT] = {
    "pending", "running", "completed", "failed", "cancelled", "interrupted"};
static const char *const VERSION_STATUS_NAMES[KZ_VERSION_STATUS_COUNT] = {"candidate", "active",
                                                                          "retired"};

const char *kz_trigger_str(kz_trigger t)
{
    return ((unsigned)t < KZ_TRIGGER_COUNT) ? TRIGGER_NAMES[t] : "?";
}

const char *kz_job_status_str(kz_job_status s)
{
    return ((unsigned)s < KZ_JOB_STATUS_COUNT) ? JOB_STATUS_NAMES[s] : "?";
}

const char *kz_version_status_str(kz_version_status s)
{
    return ((unsigned)s < KZ_VERSION_STATUS_COUNT) ? VERSION_STATUS_NAMES[s] : "?";
}

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

kz_status kz_trigger_parse(const char *s, kz_trigger *out)
{
    int i = name_index(TRIGGER_NAMES, KZ_TRIGGER_COUNT, s);
    if (i < 0 || !out) {
        return KZ_ERR_INVALID;
    }
    *out = (kz_trigger)i;
    return KZ_OK;
}

kz_status kz_job_status_parse(const char *s, kz_job_status *out)
{
    int i = name_index(JOB_STATUS_NAMES, KZ_JOB_STATUS_COUNT, s);
    if (i < 0 || !out) {
        return KZ_ERR_INVALID;
    }
    *out = (kz_job_status)i;
    return KZ_OK;
}

/* ---------------------------------------------------------------- helpers */

#define JOB_COLS                                                                                   \
    "id, model, trigger, status, reason, created_ms, scheduled_ms, started_ms, finished_ms,"       \
    " attempts, retry_of, cancel_requested, error, result_version"

/* A kz_sql_rows reader: one JOB_COLS row into a kz_job. */
static void read_job(sqlite3_stmt *q, void *row, size_t size)
{
    kz_job *j = row;
    char buf[64];
    memset(j, 0, size);
    j->id = sqlite3_column_int64(q, 0);
    kz_sql_copy_text(q, 1, j->model, sizeof j->model);
    kz_sql_copy_text(q, 2, buf, sizeof buf);
    if (kz_trigger_parse(buf, &j->trigger) != KZ_OK) {
        j->trigger = KZ_TRIGGER_COUNT;
    }
    kz_sql_copy_text(q, 3, buf, sizeof buf);
    if (kz_job_status_parse(buf, &j->status) != KZ_OK) {
        j->status = KZ_JOB_STATUS_COUNT;
    }
    kz_sql_copy_text(q, 4, j->reason, sizeof j->reason);
    j->created_ms = sqlite3_column_int64(q, 5);
    j->scheduled_ms = sqlite3_column_int64(q, 6);
    j->started_ms = sqlite3_column_int64(q, 7);
    j->finished_ms = sqlite3_column_int64(q, 8);
    j->attempts = sqlite3_column_int(q, 9);
    j->retry_of = sqlite3_column_int64(q, 10);
    j->cancel_requested = sqlite3_column_int(q, 11);
    kz_sql_copy_text(q, 12, j->error, sizeof j->error);
    j->result_version = sqlite3_column_int(q, 13);
}

static const kz_sql_rows JOB_ROWS = {sizeof(kz_job), read_job, "out of memory listing jobs",
                                     "read jobs"};

/* Run a prepared job query (finalising it) and collect every row. */
static kz_status collect_jobs(kz_store *st, kz_status s, sqlite3_stmt *q, kz_job **rows, size_t *n)
{
    void *out = NULL;
    *rows = NULL;
    *n = 0;
    if (s == KZ_OK) {
        s = kz_sql_collect(st, q, &JOB_ROWS, &out, n);
        *rows = out;
    }
    sqlite3_finalize(q);
    return s;
}

/* Insert one pending job; the caller owns the transaction (if any). */
static kz_status insert_job(kz_store *st,
                            const char *model,
                            const char *trigger,
                            const char *reason,
                            int64_t scheduled_ms,
                            int64_t now_ms,
                            int attempts,
                            int64_t retry_of,
                            int64_t *out_id)
{
    kz_status s = kz_sql_run(st,
                             "INSERT INTO jobs (model, trigger, status, reason, created_ms,"
                             " scheduled_ms, attempts, retry_of) VALUES (?, ?, 'pending', ?, ?, ?,"
                             " ?, ?)",
                             "insert job", "tttIIiI", model, trigger, reason, now_ms, scheduled_ms,
                             attempts, retry_of);
    if (s == KZ_OK && out_id) {
        *out_id = sqlite3_last_insert_rowid(kz_store_db(st));
    }
    return s;
}

/* ---------------------------------------------------------------- public */

kz_status kz_job_create(kz_store *st,
                        const char *model,
                        kz_trigger trigger,
                        const char *reason,
                        int64_t scheduled_ms,
                        int64_t now_ms,
                        int64_t *out_id)
{
    if (!st) {
        return KZ_ERR_INVALID;
    }
    if (!kz_store_valid_name(model) || (unsigned)trigger >= KZ_TRIGGER_COUNT) {
        return kz_store_fail(st, KZ_ERR_INVALID, "job: model name (1..63 bytes) and trigger");
    }
    return insert_job(st, model, kz_trigger_str(trigger), reason, scheduled_ms, now_ms, 1, 0,
                      out_id);
}

kz_status kz_job_get(kz_store *st, int64_t id, kz_job *out)
{
    if (!st || !out) {
        return KZ_ERR_INVALID;
    }
    sqlite3_stmt *q = NULL;
    kz_status s =
        kz_sql_prepare_bind(st, "SELECT " JOB_COLS " FROM jobs WHERE id = ?", &q, "I", id);
    if (s == KZ_OK) {
        s = kz_sql_step_row(st, q, "read job");
    }
    if (s == KZ_OK) {
        read_job(q, out, sizeof *out);
    } else if (s == KZ_ERR_NOT_FOUND) {
        char msg[64];
        snprintf(msg, sizeof msg, "no job %lld", (long long)id);
        s = kz_store_fail(st, KZ_ERR_NOT_FOUND, msg);
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_job_list(
    kz_store *st, const char *model, unsigned status_mask, size_t limit, kz_job **rows, size_t *n)
{
    if (!st || !rows || !n) {
        return KZ_ERR_INVALID;
    }
    /* The status filter is a fixed IN list built from the mask's bits (known names only). */
    char sql[512];
    int len =
        snprintf(sql, sizeof sql, "SELECT " JOB_COLS " FROM jobs WHERE (?1 IS NULL OR model = ?1)");
    if (status_mask) {
        len += snprintf(sql + len, sizeof sql - (size_t)len, " AND status IN (''");
        for (int i = 0; i < KZ_JOB_STATUS_COUNT; i++) {
            if (status_mask & (1u << i)) {
                len += snprintf(sql + len, sizeof sql - (size_t)len, ", '%s'", JOB_STATUS_NAMES[i]);
            }
        }
        len += snprintf(sql + len, sizeof sql - (size_t)len, ")");
    }
    snprintf(sql + len, sizeof sql - (size_t)len, " ORDER BY id DESC LIMIT ?2");
    sqlite3_stmt *q = NULL;
    kz_status s = kz_sql_prepare(st, sql, &q);
    if (s == KZ_OK) {
        if (model) {
            kz_sql_bind(q, "t", model);
        }
        sqlite3_bind_int64(q, 2, limit ? (int64_t)(limit > INT64_MAX ? INT64_MAX : limit) : -1);
    }
    return collect_jobs(st, s, q, rows, n);
}

kz_status kz_job_cancel(kz_store *st, int64_t id, int64_t now_ms, int *was_running)
{
    if (!st) {
        return KZ_ERR_INVALID;
    }
    if (was_running) {
        *was_running = 0;
    }
    kz_status s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin cancel");
    if (s != KZ_OK) {
        return s;
    }
    kz_job j;
    s = kz_job_get(st, id, &j);
    sqlite3_stmt *q = NULL;
    if (s == KZ_OK && j.status == KZ_JOB_PENDING) {
        s = kz_sql_prepare(st,
                           "UPDATE jobs SET status = 'cancelled', finished_ms = ?2,"
                           " error = 'cancelled before it started' WHERE id = ?1",
                           &q);
    } else if (s == KZ_OK && j.status == KZ_JOB_RUNNING) {
        s = kz_sql_prepare(st, "UPDATE jobs SET cancel_requested = 1 WHERE id = ?1", &q);
        if (was_running) {
            *was_running = 1;
        }
    } else if (s == KZ_OK) {
        char msg[128];
        snprintf(msg, sizeof msg, "job %lld already finished (%s)", (long long)id,
                 kz_job_status_str(j.status));
        s = kz_store_fail(st, KZ_ERR_INVALID, msg);
    }
    if (s == KZ_OK) {
        kz_sql_bind(q, "II", id, now_ms);
        s = kz_sql_step_done(st, q, "cancel job");
    }
    sqlite3_finalize(q);
    return kz_sql_end_txn(st, s);
}

/* ---------------------------------------------------------------- scheduler internals */

kz_status kz_jobs_claim(kz_store *st, int64_t id, int64_t now_ms, int *claimed)
{
    *claimed = 0;
    kz_status s = kz_sql_run(st,
                             "UPDATE jobs SET status = 'running', started_ms = ? WHERE id = ? AND"
                             " status = 'pending'",
                             "claim job", "II", now_ms, id);
    if (s == KZ_OK) {
        *claimed = sqlite3_changes(kz_store_db(st)) == 1;
    }
    return s;
}

/* Create the retry of job `j` due at `at` (inside the caller's transaction). */
static kz_status insert_retry(
    kz_store *st, const kz_job *j, const char *why, int64_t at, int64_t now_ms, int64_t *retry_id)
{
    char reason[256];
    snprintf(reason, sizeof reason, "attempt %d: %s job %lld (%.150s)", j->attempts + 1, why,
             (long long)j->id, j->reason);
    return insert_job(st, j->model, kz_trigger_str(j->trigger), reason, at, now_ms, j->attempts + 1,
                      j->id, retry_id);
}

kz_status kz_jobs_finish(kz_store *st,
                         int64_t id,
                         int status,
                         const char *error,
                         int result_version,
                         int64_t now_ms,
                         int64_t retry_at_ms,
                         int64_t *retry_id)
{
    if (retry_id) {
        *retry_id = 0;
    }
    if ((unsigned)status >= KZ_JOB_STATUS_COUNT) {
        return kz_store_fail(st, KZ_ERR_INVALID, "job status");
    }
    kz_status s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin job end");
    if (s != KZ_OK) {
        return s;
    }
    s = kz_sql_run(st,
                   "UPDATE jobs SET status = ?, error = ?, result_version = ?, finished_ms = ?"
                   " WHERE id = ?",
                   "finish job", "ttiII", JOB_STATUS_NAMES[status], error, result_version, now_ms,
                   id);
    if (s == KZ_OK && retry_at_ms >= 0) {
        kz_job j;
        s = kz_job_get(st, id, &j);
        if (s == KZ_OK) {
            s = insert_retry(st, &j, "retry of", retry_at_ms, now_ms, retry_id);
        }
    }
    return kz_sql_end_txn(st, s);
}

kz_status kz_jobs_recover(kz_store *st,
                          int64_t now_ms,
                          int max_attempts,
                          int requeue,
                          size_t *n_interrupted,
                          size_t *n_requeued)
{
    size_t ni = 0, nr = 0;
    kz_status s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin recovery");
    if (s != KZ_OK) {
        return s;
    }
    sqlite3_stmt *q = NULL;
    kz_job *rows = NULL;
    size_t n = 0;
    s = kz_sql_prepare(st, "SELECT " JOB_COLS " FROM jobs WHERE status = 'running' ORDER BY id",
                       &q);
    s = collect_jobs(st, s, q, &rows, &n);
    q = NULL;
    if (s == KZ_OK) {
        s = kz_sql_prepare(st,
                           "UPDATE jobs SET status = 'interrupted', finished_ms = ?,"
                           " error = 'interrupted: the scheduler process ended while the job ran'"
                           " WHERE id = ?",
                           &q);
    }
    for (size_t i = 0; s == KZ_OK && i < n; i++) {
        sqlite3_reset(q);
        kz_sql_bind(q, "II", now_ms, rows[i].id);
        s = kz_sql_step_done(st, q, "mark interrupted");
        ni++;
        if (s == KZ_OK && requeue && rows[i].attempts < max_attempts) {
            s = insert_retry(st, &rows[i], "re-queue of interrupted", now_ms, now_ms, NULL);
            nr++;
        }
    }
    sqlite3_finalize(q);
    kz_free(rows);
    s = kz_sql_end_txn(st, s);
    if (n_interrupted) {
        *n_interrupted = s == KZ_OK ? ni : 0;
    }
    if (n_requeued) {
        *n_requeued = s == KZ_OK ? nr : 0;
    }
    return s;
}

kz_status kz_jobs_due(kz_store *st, int64_t now_ms, size_t limit, kz_job **rows, size_t *n)
{
    sqlite3_stmt *q = NULL;
    kz_status s = kz_sql_prepare_bind(st,
                                      "SELECT " JOB_COLS " FROM jobs WHERE status = 'pending' AND"
                                      " scheduled_ms <= ? ORDER BY scheduled_ms, id LIMIT ?",
                                      &q, "II", now_ms, (int64_t)limit);
    return collect_jobs(st, s, q, rows, n);
}

kz_status kz_jobs_busy_models(kz_store *st, char **names, size_t *n)
{
    static const kz_sql_rows NAME_ROWS = {KZ_SCHED_NAME_MAX, kz_sql_read_text0,
                                          "out of memory reading busy models", "read busy models"};
    sqlite3_stmt *q = NULL;
    void *out = NULL;
    *names = NULL;
    *n = 0;
    kz_status s = kz_sql_prepare(
        st, "SELECT DISTINCT model FROM jobs WHERE status IN ('pending', 'running')", &q);
    if (s == KZ_OK) {
        s = kz_sql_collect(st, q, &NAME_ROWS, &out, n);
        *names = out;
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_jobs_cancel_requests(kz_store *st, int64_t **ids, size_t *n)
{
    kz_job *rows = NULL;
    sqlite3_stmt *q = NULL;
    *ids = NULL;
    *n = 0;
    kz_status s = kz_sql_prepare(st,
                                 "SELECT " JOB_COLS " FROM jobs WHERE status = 'running' AND"
                                 " cancel_requested = 1",
                                 &q);
    s = collect_jobs(st, s, q, &rows, n);
    if (s == KZ_OK && *n) {
        *ids = kz_malloc_array(*n, sizeof **ids);
        if (!*ids) {
            *n = 0;
            s = kz_store_fail(st, KZ_ERR_NOMEM, "out of memory reading cancel requests");
        }
        for (size_t i = 0; *ids && i < *n; i++) {
            (*ids)[i] = rows[i].id;
        }
    }
    kz_free(rows);
    return s;
}

/* Run a one-value integer query binding ?1, ?2 (text) and ?3 (integer); bindings the SQL does
 * not use are ignored by SQLite (SQLITE_RANGE). */
static kz_status
query_i64(kz_store *st, const char *sql, const char *a, const char *b, int64_t c, int64_t *out)
{
    sqlite3_stmt *q = NULL;
    kz_status s = kz_sql_prepare_bind(st, sql, &q, "ttI", a, b, c);
    if (s == KZ_OK) {
        if (sqlite3_step(q) == SQLITE_ROW) {
            *out = sqlite3_column_int64(q, 0);
        } else {
            s = kz_store_db_fail(st, "query");
        }
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_jobs_last_fired(kz_store *st, const char *model, int trigger, int64_t *out_ms)
{
    return query_i64(st,
                     "SELECT coalesce(max(created_ms), 0) FROM jobs WHERE model = ?1 AND"
                     " trigger = ?2 AND retry_of = 0",
                     model, kz_trigger_str((kz_trigger)trigger), 0, out_ms);
}

kz_status kz_jobs_prune(kz_store *st, int64_t before_ms, size_t *n_deleted)
{
    kz_status s = kz_sql_run(st,
                             "DELETE FROM jobs WHERE status IN ('completed', 'failed', 'cancelled',"
                             " 'interrupted') AND finished_ms < ?",
                             "prune jobs", "I", before_ms);
    if (n_deleted) {
        *n_deleted = s == KZ_OK ? (size_t)sqlite3_changes(kz_store_db(st)) : 0;
    }
    return s;
}

kz_status kz_sched_first_seen(kz_store *st, const char *model, int64_t now_ms, int64_t *out_ms)
{
    kz_status s = kz_sql_run(st, "INSERT OR IGNORE INTO sched_state VALUES (?, ?)", "record model",
                             "tI", model, now_ms);
    if (s == KZ_OK) {
        s = query_i64(st, "SELECT first_seen_ms FROM sched_state WHERE model = ?1", model, "", 0,
                      out_ms);
    }
    return s;
}

kz_status kz_store_count_bars_after(kz_store *st,
                                    const char *exchange,
                                    const char *symbol,
                                    kz_timeframe tf,
                                    int64_t after_ms,
                                    size_t *n)
{
    /* The bars table is keyed (exchange, symbol, timeframe, ts): one index range count. */
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM bars WHERE exchange = ?1 AND symbol = ?2 AND"
             " timeframe = '%s' AND ts > ?3",
             kz_timeframe_str(tf));
    int64_t c = 0;
    kz_status s = query_i64(st, sql, exchange, symbol, after_ms, &c);
    *n = (s == KZ_OK && c > 0) ? (size_t)c : 0;
    return s;
}

kz_status kz_predlog_put(
    kz_store *st, const char *name, int version, int64_t ts_ms, const double prob[KZ_N_CLASSES])
{
    if (!st || !kz_store_valid_name(name) || !prob) {
        return st ? kz_store_fail(st, KZ_ERR_INVALID, "prediction: name and probabilities")
                  : KZ_ERR_INVALID;
    }
    return kz_sql_run(st, "INSERT OR REPLACE INTO predictions VALUES (?, ?, ?, ?, ?, ?)",
                      "log prediction", "tiIrrr", name, version, ts_ms, prob[0], prob[1], prob[2]);
}

kz_status kz_predlog_matured(kz_store *st,
                             const char *model,
                             int version,
                             int64_t max_ts,
                             size_t limit,
                             int64_t **ts,
                             double **prob,
                             size_t *n)
{
    *ts = NULL;
    *prob = NULL;
    *n = 0;
    sqlite3_stmt *q = NULL;
    kz_status s = kz_sql_prepare_bind(st,
                                      "SELECT ts, p_down, p_range, p_up FROM predictions WHERE"
                                      " model = ? AND version = ? AND ts <= ? ORDER BY ts DESC"
                                      " LIMIT ?",
                                      &q, "tiII", model, version, max_ts, (int64_t)limit);
    if (s == KZ_OK) {
        *ts = kz_malloc_array(limit ? limit : 1, sizeof **ts);
        *prob = kz_malloc_array(limit ? limit : 1, KZ_N_CLASSES * sizeof **prob);
        if (!*ts || !*prob) {
            s = kz_store_fail(st, KZ_ERR_NOMEM, "out of memory reading predictions");
        }
    }
    int rc = SQLITE_DONE;
    while (s == KZ_OK && *n < limit && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        (*ts)[*n] = sqlite3_column_int64(q, 0);
        for (int k = 0; k < KZ_N_CLASSES; k++) {
            (*prob)[*n * KZ_N_CLASSES + (size_t)k] = sqlite3_column_double(q, 1 + k);
        }
        (*n)++;
    }
    if (s == KZ_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        s = kz_store_db_fail(st, "read predictions");
    }
    sqlite3_finalize(q);
    if (s != KZ_OK) {
        kz_free(*ts);
        kz_free(*prob);
        *ts = NULL;
        *prob = NULL;
        *n = 0;
        return s;
    }
    /* Newest first from the query; the caller wants time order. */
    for (size_t i = 0, k = *n ? *n - 1 : 0; i < k; i++, k--) {
        int64_t t = (*ts)[i];
        (*ts)[i] = (*ts)[k];
        (*ts)[k] = t;
        for (int c = 0; c < KZ_N_CLASSES; c++) {
            double p = (*prob)[i * KZ_N_CLASSES + (size_t)c];
            (*prob)[i * KZ_N_CLASSES + (size_t)c] = (*prob)[k * KZ_N_CLASSES + (size_t)c];
            (*prob)[k * KZ_N_CLASSES + (size_t)c] = p;
        }
    }
    return KZ_OK;
}
