/* kizashi store: bars, funding rate and open interest in one SQLite file (the only file that
 * includes <sqlite3.h>).
 *
 * DESIGN
 * - One connection per kz_store; WAL journal so readers in other processes never block the
 *   writer; `synchronous=NORMAL`, which in WAL mode is durable against application crashes and
 *   only loses the last commits on power loss (never corrupts): the right trade for re-importable
 *   market data, and what makes >= 500k rows/s possible.
 * - Schema: `schema_version` records every applied migration; MIGRATIONS below is the ordered
 *   list (v1 = market tables). A later issue appends an entry; nothing else changes. A database
 *   whose version is newer than this build is refused with KZ_ERR_STORE.
 * - Every table is keyed (series keys..., ts) WITHOUT ROWID, so range reads are one b-tree walk
 *   in time order. All SQL is generated from the TABLES descriptors (one per kz_data_kind), so
 *   bars and the two scalar series share one code path for put, get, last and coverage.
 * - Writes: one BEGIN IMMEDIATE transaction per call, one prepared statement reused for all rows,
 *   rollback on any failure (the store is unchanged). The upsert updates a row only when a value
 *   differs (`... DO UPDATE ... WHERE excluded.x IS NOT t.x OR ...`), so sqlite3_changes() is 1
 *   for an insert or a real update and 0 for an identical row. Inserts and updates are told
 *   apart by counting the stored rows in the input's [min ts, max ts] before and after (two
 *   index range counts, far cheaper than a lookup per row); when nothing was stored there and
 *   the input is strictly increasing, every change is an insert and the second count is skipped.
 */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kizashi/core.h"

#include "store/store_int.h"

struct kz_store {
    sqlite3 *db;
    int schema_version;
    char path[512];
    char errmsg[768];
};

/* ---------------------------------------------------------------- schema */

typedef struct migration {
    int version;
    const char *sql;
} migration;

/* Ordered, append-only. Each entry runs once, inside the transaction that records it. */
static const migration MIGRATIONS[] = {
    {1, "CREATE TABLE bars (exchange TEXT NOT NULL, symbol TEXT NOT NULL, timeframe TEXT NOT NULL,"
        " ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,"
        " close REAL NOT NULL, volume REAL NOT NULL,"
        " PRIMARY KEY (exchange, symbol, timeframe, ts)) WITHOUT ROWID;"
        "CREATE TABLE funding (exchange TEXT NOT NULL, symbol TEXT NOT NULL,"
        " ts INTEGER NOT NULL, rate REAL NOT NULL,"
        " PRIMARY KEY (exchange, symbol, ts)) WITHOUT ROWID;"
        "CREATE TABLE open_interest (exchange TEXT NOT NULL, symbol TEXT NOT NULL,"
        " ts INTEGER NOT NULL, value REAL NOT NULL,"
        " PRIMARY KEY (exchange, symbol, ts)) WITHOUT ROWID;"},
    /* v2: the scheduler's jobs, the model registry, live predictions and per-model scheduler
     * state (issue 9; read and written by jobs.c and registry.c). AUTOINCREMENT: job ids are never
     * reused, even after history pruning. The partial unique index allows one active version. */
    {2, "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL,"
        " trigger TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
        " created_ms INTEGER NOT NULL, scheduled_ms INTEGER NOT NULL,"
        " started_ms INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER NOT NULL DEFAULT 0,"
        " attempts INTEGER NOT NULL DEFAULT 1, retry_of INTEGER NOT NULL DEFAULT 0,"
        " cancel_requested INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',"
        " result_version INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX jobs_by_status ON jobs (status, scheduled_ms);"
        "CREATE INDEX jobs_by_model ON jobs (model, trigger, scheduled_ms);"
        "CREATE TABLE model_names (name TEXT PRIMARY KEY, next_version INTEGER NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TABLE model_versions (name TEXT NOT NULL, version INTEGER NOT NULL,"
        " status TEXT NOT NULL, path TEXT NOT NULL, exchange TEXT NOT NULL, symbol TEXT NOT NULL,"
        " timeframe TEXT NOT NULL, data_from INTEGER NOT NULL, data_to INTEGER NOT NULL,"
        " parent INTEGER NOT NULL, job_id INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
        " activated_ms INTEGER NOT NULL DEFAULT 0, horizon INTEGER NOT NULL,"
        " label_up REAL, label_down REAL, test_mlogloss REAL, test_bal_acc REAL,"
        " eval_mlogloss REAL, eval_bal_acc REAL, meta TEXT NOT NULL DEFAULT '{}',"
        " PRIMARY KEY (name, version)) WITHOUT ROWID;"
        "CREATE UNIQUE INDEX one_active_version ON model_versions (name) WHERE status = 'active';"
        "CREATE TABLE predictions (model TEXT NOT NULL, version INTEGER NOT NULL,"
        " ts INTEGER NOT NULL, p_down REAL NOT NULL, p_range REAL NOT NULL, p_up REAL NOT NULL,"
        " PRIMARY KEY (model, version, ts)) WITHOUT ROWID;"
        "CREATE TABLE sched_state (model TEXT PRIMARY KEY, first_seen_ms INTEGER NOT NULL)"
        " WITHOUT ROWID;"},
};
#define N_MIGRATIONS (sizeof MIGRATIONS / sizeof MIGRATIONS[0])

_Static_assert(KZ_STORE_SCHEMA_VERSION == (int)N_MIGRATIONS,
               "KZ_STORE_SCHEMA_VERSION must equal the number of migrations");

/* One market table: its key columns (before ts) and value columns (after ts). */
typedef struct table_desc {
    const char *name;
    int n_keys; /* exchange, symbol[, timeframe] */
    int n_cols;
    const char *cols[5];
} table_desc;

static const char *const KEY_NAMES[3] = {"exchange", "symbol", "timeframe"};

/* Indexed by kz_data_kind. */
static const table_desc TABLES[3] = {
    {"bars", 3, 5, {"open", "high", "low", "close", "volume"}},
    {"funding", 2, 1, {"rate"}},
    {"open_interest", 2, 1, {"value"}},
};

/* ---------------------------------------------------------------- errors */

static kz_status set_err(kz_store *st, kz_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static kz_status set_err(kz_store *st, kz_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->errmsg, sizeof st->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

/* Record SQLite's message for `what` and map its code. */
static kz_status db_err(kz_store *st, const char *what)
{
    int rc = sqlite3_errcode(st->db);
    kz_status code = (rc == SQLITE_NOMEM) ? KZ_ERR_NOMEM : KZ_ERR_STORE;
    return set_err(st, code, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

const char *kz_store_errmsg(const kz_store *st)
{
    return st ? st->errmsg : "no store";
}

int kz_store_schema_version(const kz_store *st)
{
    return st ? st->schema_version : 0;
}

/* ---------------------------------------------------------------- SQL helpers */

/* Run a one-row integer query (`SELECT count(*)`, `SELECT max(ts)`); *is_null says whether the
 * value was NULL (an empty max). */
static kz_status query_int64(kz_store *st, sqlite3_stmt *q, int64_t *out, int *is_null)
{
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        return db_err(st, "query");
    }
    if (is_null) {
        *is_null = sqlite3_column_type(q, 0) == SQLITE_NULL;
    }
    *out = (int64_t)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return KZ_OK;
}

/* A bounded string builder for the generated SQL (every statement is well under 1 KiB). */
typedef struct sqlbuf {
    char s[1024];
    size_t n;
} sqlbuf;

static void sb_add(sqlbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(sqlbuf *b, const char *fmt, ...)
{
    if (b->n >= sizeof b->s) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    if (k > 0) {
        b->n += (size_t)k;
    }
}

/* "exchange = ?1 AND symbol = ?2[ AND timeframe = ?3]" */
static void sb_where_keys(sqlbuf *b, const table_desc *t)
{
    sb_add(b, " WHERE ");
    for (int i = 0; i < t->n_keys; i++) {
        sb_add(b, "%s%s = ?%d", i ? " AND " : "", KEY_NAMES[i], i + 1);
    }
}

/* "exchange, symbol[, timeframe], ts" */
static void sb_key_list(sqlbuf *b, const table_desc *t)
{
    for (int i = 0; i < t->n_keys; i++) {
        sb_add(b, "%s, ", KEY_NAMES[i]);
    }
    sb_add(b, "ts");
}

typedef enum sql_kind {
    SQL_UPSERT,  /* insert, update only when a value differs */
    SQL_REPLACE, /* plain INSERT OR REPLACE (benchmark baseline) */
    SQL_COUNT,   /* rows with lo <= ts <= hi */
    SQL_RANGE,   /* ts, values with lo <= ts < hi, in time order */
    SQL_MAX_TS,  /* newest ts (with ts < hi) */
    SQL_SPAN,    /* oldest and newest ts with lo <= ts < hi (two index look-ups) */
    SQL_SCAN     /* keys, ts of the whole table in key order (coverage) */
} sql_kind;

static void build_sql(const table_desc *t, sql_kind kind, sqlbuf *b)
{
    b->n = 0;
    b->s[0] = '\0';
    int k = t->n_keys;
    switch (kind) {
    case SQL_UPSERT:
    case SQL_REPLACE:
        sb_add(b, "INSERT %sINTO %s (", kind == SQL_REPLACE ? "OR REPLACE " : "", t->name);
        sb_key_list(b, t);
        for (int i = 0; i < t->n_cols; i++) {
            sb_add(b, ", %s", t->cols[i]);
        }
        sb_add(b, ") VALUES (");
        for (int i = 0; i < k + 1 + t->n_cols; i++) {
            sb_add(b, "%s?%d", i ? ", " : "", i + 1);
        }
        sb_add(b, ")");
        if (kind == SQL_UPSERT) {
            sb_add(b, " ON CONFLICT (");
            sb_key_list(b, t);
            sb_add(b, ") DO UPDATE SET ");
            for (int i = 0; i < t->n_cols; i++) {
                sb_add(b, "%s%s = excluded.%s", i ? ", " : "", t->cols[i], t->cols[i]);
            }
            sb_add(b, " WHERE ");
            for (int i = 0; i < t->n_cols; i++) {
                sb_add(b, "%sexcluded.%s IS NOT %s.%s", i ? " OR " : "", t->cols[i], t->name,
                       t->cols[i]);
            }
        }
        break;
    case SQL_COUNT:
        sb_add(b, "SELECT count(*) FROM %s", t->name);
        sb_where_keys(b, t);
        sb_add(b, " AND ts BETWEEN ?%d AND ?%d", k + 1, k + 2);
        break;
    case SQL_RANGE:
        sb_add(b, "SELECT ts");
        for (int i = 0; i < t->n_cols; i++) {
            sb_add(b, ", %s", t->cols[i]);
        }
        sb_add(b, " FROM %s", t->name);
        sb_where_keys(b, t);
        sb_add(b, " AND ts >= ?%d AND ts < ?%d ORDER BY ts", k + 1, k + 2);
        break;
    case SQL_MAX_TS:
        sb_add(b, "SELECT max(ts) FROM %s", t->name);
        sb_where_keys(b, t);
        sb_add(b, " AND ts < ?%d", k + 1);
        break;
    case SQL_SPAN:
        /* Two scalar subqueries so SQLite answers each min/max from the primary key. */
        for (int j = 0; j < 2; j++) {
            sb_add(b, "%s(SELECT %s(ts) FROM %s", j ? ", " : "SELECT ", j ? "max" : "min", t->name);
            sb_where_keys(b, t);
            sb_add(b, " AND ts >= ?%d AND ts < ?%d)", k + 1, k + 2);
        }
        break;
    case SQL_SCAN:
        sb_add(b, "SELECT ");
        sb_key_list(b, t);
        sb_add(b, " FROM %s ORDER BY ", t->name);
        sb_key_list(b, t);
        break;
    }
}

/* Validate the series keys and bind them to ?1..?n_keys (static: they outlive the statement). */
static kz_status check_keys(
    kz_store *st, kz_data_kind kind, const char *exchange, const char *symbol, kz_timeframe tf)
{
    if (!exchange || !*exchange || !symbol || !*symbol) {
        return set_err(st, KZ_ERR_INVALID, "exchange and symbol must be non-empty");
    }
    /* kz_coverage and kz_market hold names in char[32]. */
    if (strlen(exchange) >= 32 || strlen(symbol) >= 32) {
        return set_err(st, KZ_ERR_INVALID, "exchange/symbol '%s'/'%s': longer than 31 bytes",
                       exchange, symbol);
    }
    if ((int)kind < 0 || (int)kind > (int)KZ_DATA_OI) {
        return set_err(st, KZ_ERR_INVALID, "invalid data kind %d", (int)kind);
    }
    if (kind == KZ_DATA_BARS && ((int)tf < 0 || (int)tf >= (int)KZ_TF_COUNT)) {
        return set_err(st, KZ_ERR_INVALID, "invalid timeframe %d", (int)tf);
    }
    return KZ_OK;
}

static void bind_keys(
    sqlite3_stmt *q, const table_desc *t, const char *exchange, const char *symbol, kz_timeframe tf)
{
    sqlite3_bind_text(q, 1, exchange, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, symbol, -1, SQLITE_STATIC);
    if (t->n_keys == 3) {
        sqlite3_bind_text(q, 3, kz_timeframe_str(tf), -1, SQLITE_STATIC);
    }
}

/* Validate the series keys, prepare the `kind` statement of the data kind's table and bind the
 * keys; the caller binds the rest (?n_keys+1, ...). */
static kz_status prepare_keyed(kz_store *st,
                               kz_data_kind data,
                               sql_kind kind,
                               const char *exchange,
                               const char *symbol,
                               kz_timeframe tf,
                               sqlite3_stmt **q)
{
    *q = NULL;
    kz_status s = check_keys(st, data, exchange, symbol, tf);
    if (s == KZ_OK) {
        sqlbuf sql;
        build_sql(&TABLES[data], kind, &sql);
        s = kz_sql_prepare(st, sql.s, q);
    }
    if (s == KZ_OK) {
        bind_keys(*q, &TABLES[data], exchange, symbol, tf);
    }
    return s;
}

/* ---------------------------------------------------------------- open / close */

/* mkdir -p of the directory part of `path` ("a/b/c.db" -> a, a/b). */
static kz_status make_parent_dirs(const char *path, kz_error *err)
{
    char buf[512];
    size_t len = strlen(path);
    if (len >= sizeof buf) {
        snprintf(err->msg, sizeof err->msg, "path longer than %zu bytes", sizeof buf - 1);
        return KZ_ERR_INVALID;
    }
    memcpy(buf, path, len + 1);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) {
        return KZ_OK;
    }
    *slash = '\0';
    for (char *p = buf + 1;; p++) {
        int end = (*p == '\0');
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                snprintf(err->msg, sizeof err->msg, "cannot create directory %.400s: %s", buf,
                         strerror(errno));
                return KZ_ERR_IO;
            }
            struct stat sb;
            if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
                snprintf(err->msg, sizeof err->msg, "%.400s exists and is not a directory", buf);
                return KZ_ERR_IO;
            }
            if (end) {
                break;
            }
            *p = '/';
        }
    }
    return KZ_OK;
}

/* Current version: 0 for a fresh file (no schema_version table yet). */
static kz_status read_version(kz_store *st, int *out)
{
    sqlite3_stmt *q = NULL;
    int64_t v = 0, has = 0;
    kz_status s = kz_sql_prepare(st,
                                 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                 "name = 'schema_version'",
                                 &q);
    if (s == KZ_OK) {
        s = query_int64(st, q, &has, NULL);
    }
    sqlite3_finalize(q);
    q = NULL;
    if (s == KZ_OK && has) {
        s = kz_sql_prepare(st, "SELECT coalesce(max(version), 0) FROM schema_version", &q);
        if (s == KZ_OK) {
            s = query_int64(st, q, &v, NULL);
        }
        sqlite3_finalize(q);
    }
    *out = (int)v;
    return s;
}

static kz_status check_not_newer(kz_store *st, int v)
{
    if (v > KZ_STORE_SCHEMA_VERSION) {
        return set_err(st, KZ_ERR_STORE,
                       "%s: database schema version %d is newer than this build supports (%d); "
                       "use a newer kizashi",
                       st->path, v, KZ_STORE_SCHEMA_VERSION);
    }
    return KZ_OK;
}

/* Apply the pending migrations in one write transaction (re-reading the version under the write
 * lock, so two processes opening a fresh file at once migrate it once). */
static kz_status migrate(kz_store *st)
{
    int v = 0;
    kz_status s = read_version(st, &v);
    if (s == KZ_OK) {
        s = check_not_newer(st, v);
    }
    if (s != KZ_OK || v == KZ_STORE_SCHEMA_VERSION) {
        st->schema_version = v;
        return s;
    }
    s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin migration");
    if (s != KZ_OK) {
        return s;
    }
    s = kz_sql_exec(st,
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                    " applied_ms INTEGER NOT NULL)",
                    "create schema_version");
    if (s == KZ_OK) {
        s = read_version(st, &v);
    }
    if (s == KZ_OK) {
        s = check_not_newer(st, v);
    }
    for (size_t i = 0; s == KZ_OK && i < N_MIGRATIONS; i++) {
        if (MIGRATIONS[i].version <= v) {
            continue;
        }
        char what[64], rec[128];
        snprintf(what, sizeof what, "migration to schema version %d", MIGRATIONS[i].version);
        s = kz_sql_exec(st, MIGRATIONS[i].sql, what);
        snprintf(rec, sizeof rec, "INSERT INTO schema_version VALUES (%d, %lld)",
                 MIGRATIONS[i].version, (long long)kz_now_ms());
        if (s == KZ_OK) {
            s = kz_sql_exec(st, rec, what);
        }
        if (s == KZ_OK) {
            v = MIGRATIONS[i].version;
        }
    }
    if (s == KZ_OK) {
        s = kz_sql_exec(st, "COMMIT", "commit migration");
    }
    if (s != KZ_OK) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return s;
    }
    st->schema_version = v;
    return KZ_OK;
}

kz_status kz_store_open(const char *path, kz_store **out, kz_error *err)
{
    kz_error local;
    if (!err) {
        err = &local;
    }
    kz_error_clear(err);
    if (out) {
        *out = NULL;
    }
    kz_status s = KZ_OK;
    kz_store *st = NULL;
    if (!path || !*path || !out) {
        s = KZ_ERR_INVALID;
        snprintf(err->msg, sizeof err->msg, "database path must be non-empty");
        goto fail;
    }
    snprintf(err->file, sizeof err->file, "%s", path);
    s = make_parent_dirs(path, err);
    if (s != KZ_OK) {
        goto fail;
    }
    st = kz_calloc(1, sizeof *st);
    if (!st) {
        s = KZ_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        goto fail;
    }
    snprintf(st->path, sizeof st->path, "%s", path);
    /* NOMUTEX: a kz_store is used by one thread at a time (store.h), so SQLite's per-call
     * connection mutex is pure overhead. */
    int rc = sqlite3_open_v2(
        path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        s = (rc == SQLITE_NOMEM) ? KZ_ERR_NOMEM : KZ_ERR_IO;
        snprintf(err->msg, sizeof err->msg, "cannot open database: %s",
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
    /* journal_mode is the first statement that reads the file header: a non-database file fails
     * here with SQLITE_NOTADB. */
    s = kz_sql_exec(st, "PRAGMA journal_mode = WAL", "set WAL mode");
    /* synchronous=NORMAL: see DESIGN above. A 32 MiB page cache and 256 MiB of memory-mapped
     * reads let range loads of millions of rows skip a read() and a copy per page. */
    if (s == KZ_OK) {
        s = kz_sql_exec(st,
                        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                        " PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456",
                        "set pragmas");
    }
    if (s == KZ_OK) {
        s = migrate(st);
    }
    if (s != KZ_OK) {
        if (sqlite3_errcode(st->db) == SQLITE_NOTADB) {
            snprintf(err->msg, sizeof err->msg, "not a kizashi database (%s)",
                     sqlite3_errmsg(st->db));
        } else {
            snprintf(err->msg, sizeof err->msg, "%.500s", st->errmsg);
        }
        goto fail;
    }
    *out = st;
    return KZ_OK;
fail:
    err->code = s;
    kz_store_close(st);
    return s;
}

void kz_store_close(kz_store *st)
{
    if (!st) {
        return;
    }
    sqlite3_close(st->db);
    kz_free(st);
}

/* ---------------------------------------------------------------- writes */

/* The rows of one put: timestamps and n_cols value columns (table order). */
typedef struct rows_view {
    size_t n;
    const int64_t *ts;
    const double *cols[5];
} rows_view;

static kz_status
count_range(kz_store *st, sqlite3_stmt *q, int n_keys, int64_t lo, int64_t hi, int64_t *out)
{
    sqlite3_bind_int64(q, n_keys + 1, lo);
    sqlite3_bind_int64(q, n_keys + 2, hi);
    return query_int64(st, q, out, NULL);
}

/* Shared write path of every put (see DESIGN at the top). */
static kz_status put_rows(kz_store *st,
                          kz_data_kind kind,
                          const char *exchange,
                          const char *symbol,
                          kz_timeframe tf,
                          const rows_view *rv,
                          sql_kind mode,
                          kz_upsert_stats *stats)
{
    const table_desc *t = &TABLES[kind];
    sqlite3_stmt *ins = NULL, *cnt = NULL;
    int in_txn = 0;
    size_t changed = 0;
    int64_t before = 0, after = 0, lo = INT64_MAX, hi = INT64_MIN;
    int increasing = 1;
    if (stats) {
        *stats = (kz_upsert_stats){0, 0, 0};
    }
    kz_status s = check_keys(st, kind, exchange, symbol, tf);
    if (s != KZ_OK || rv->n == 0) {
        return s;
    }
    for (size_t i = 0; i < rv->n; i++) {
        lo = rv->ts[i] < lo ? rv->ts[i] : lo;
        hi = rv->ts[i] > hi ? rv->ts[i] : hi;
        increasing &= (i == 0 || rv->ts[i] > rv->ts[i - 1]);
    }
    s = prepare_keyed(st, kind, mode, exchange, symbol, tf, &ins);
    if (s == KZ_OK && mode == SQL_UPSERT) {
        s = prepare_keyed(st, kind, SQL_COUNT, exchange, symbol, tf, &cnt);
    }
    if (s == KZ_OK) {
        s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin");
        in_txn = (s == KZ_OK);
    }
    if (s != KZ_OK) {
        goto done;
    }
    if (cnt) {
        s = count_range(st, cnt, t->n_keys, lo, hi, &before);
        if (s != KZ_OK) {
            goto done;
        }
    }
    int ts_pos = t->n_keys + 1;
    for (size_t i = 0; i < rv->n; i++) {
        sqlite3_bind_int64(ins, ts_pos, rv->ts[i]);
        for (int c = 0; c < t->n_cols; c++) {
            double v = rv->cols[c][i];
            /* SQLite would store NaN as NULL: refuse it with a message naming the row. */
            if (!isfinite(v)) {
                s = set_err(st, KZ_ERR_INVALID, "%s %s/%s row %zu (ts %lld): %s is not finite",
                            t->name, exchange, symbol, i, (long long)rv->ts[i], t->cols[c]);
                goto done;
            }
            sqlite3_bind_double(ins, ts_pos + 1 + c, v);
        }
        if (sqlite3_step(ins) != SQLITE_DONE) {
            char what[128];
            snprintf(what, sizeof what, "%s %s/%s row %zu (ts %lld)", t->name, exchange, symbol, i,
                     (long long)rv->ts[i]);
            s = db_err(st, what);
            goto done;
        }
        changed += (size_t)sqlite3_changes(st->db);
        sqlite3_reset(ins);
    }
    if (cnt) {
        if (before == 0 && increasing) {
            after = (int64_t)changed;
        } else {
            s = count_range(st, cnt, t->n_keys, lo, hi, &after);
            if (s != KZ_OK) {
                goto done;
            }
        }
    }
    s = kz_sql_exec(st, "COMMIT", "commit");
    in_txn = (s != KZ_OK);
    if (s == KZ_OK && stats) {
        size_t inserted = cnt ? (size_t)(after - before) : changed;
        stats->inserted = inserted;
        stats->updated = changed - inserted;
        stats->unchanged = rv->n - changed;
    }
done:
    sqlite3_finalize(ins);
    sqlite3_finalize(cnt);
    if (in_txn) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return s;
}

/* The bars puts (upsert and the benchmark's replace) differ only in the statement. */
static kz_status put_bars(kz_store *st,
                          const char *exchange,
                          const char *symbol,
                          kz_timeframe tf,
                          const kz_bars *b,
                          sql_kind mode,
                          kz_upsert_stats *stats)
{
    if (!st || !b) {
        return KZ_ERR_INVALID;
    }
    rows_view rv = {b->n, b->ts_ms, {b->open, b->high, b->low, b->close, b->volume}};
    return put_rows(st, KZ_DATA_BARS, exchange, symbol, tf, &rv, mode, stats);
}

kz_status kz_store_put_bars(kz_store *st,
                            const char *exchange,
                            const char *symbol,
                            kz_timeframe tf,
                            const kz_bars *bars,
                            kz_upsert_stats *stats)
{
    return put_bars(st, exchange, symbol, tf, bars, SQL_UPSERT, stats);
}

kz_status kz_store_put_bars_replace(kz_store *st,
                                    const char *exchange,
                                    const char *symbol,
                                    kz_timeframe tf,
                                    const kz_bars *bars,
                                    kz_upsert_stats *stats)
{
    return put_bars(st, exchange, symbol, tf, bars, SQL_REPLACE, stats);
}

kz_status kz_store_put_series(kz_store *st,
                              kz_data_kind kind,
                              const char *exchange,
                              const char *symbol,
                              const kz_series *s,
                              kz_upsert_stats *stats)
{
    if (!st || !s) {
        return KZ_ERR_INVALID;
    }
    if (kind != KZ_DATA_FUNDING && kind != KZ_DATA_OI) {
        return set_err(st, KZ_ERR_INVALID, "put_series: kind must be funding or open interest");
    }
    rows_view rv = {s->n, s->ts_ms, {s->value}};
    return put_rows(st, kind, exchange, symbol, KZ_TF_COUNT, &rv, SQL_UPSERT, stats);
}

/* ---------------------------------------------------------------- reads */

/* Stream rows of [from_ms, to_ms) into bars (kind BARS) or a series. */
/* Reserve the output once before reading: growing a million-row result geometrically costs
 * copies and first-touch page faults that dominate the load. Bars are on the timeframe grid, so
 * the span gives an upper bound (exact without gaps); series use count(*). */
static kz_status reserve_rows(kz_store *st,
                              const table_desc *t,
                              kz_data_kind kind,
                              const char *exchange,
                              const char *symbol,
                              kz_timeframe tf,
                              int64_t from_ms,
                              int64_t to_ms,
                              kz_bars *bars,
                              kz_series *series)
{
    if (series && series->cap > 0) {
        return KZ_OK; /* the caller reserved already (kz_store_load_market) */
    }
    sqlite3_stmt *q = NULL;
    kz_status s = prepare_keyed(st, kind, bars ? SQL_SPAN : SQL_COUNT, exchange, symbol, tf, &q);
    if (s != KZ_OK) {
        return s;
    }
    sqlite3_bind_int64(q, t->n_keys + 1, from_ms);
    /* SQL_COUNT's range is inclusive: [from, to - 1]. */
    sqlite3_bind_int64(q, t->n_keys + 2, bars || to_ms == INT64_MIN ? to_ms : to_ms - 1);
    size_t want = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        if (bars && sqlite3_column_type(q, 0) != SQLITE_NULL) {
            int64_t lo = sqlite3_column_int64(q, 0), hi = sqlite3_column_int64(q, 1);
            int64_t dur = kz_timeframe_ms(tf);
            uint64_t span = (uint64_t)hi - (uint64_t)lo;
            if (dur > 0 && span / (uint64_t)dur < ((uint64_t)1 << 32)) {
                want = (size_t)(span / (uint64_t)dur) + 1;
            }
        } else if (!bars) {
            want = (size_t)sqlite3_column_int64(q, 0);
        }
    }
    sqlite3_finalize(q);
    if (want == 0) {
        return KZ_OK;
    }
    s = bars ? kz_bars_reserve(bars, want) : kz_series_reserve(series, want);
    if (s != KZ_OK) {
        s = set_err(st, s, "read %s %s/%s: out of memory", t->name, exchange, symbol);
    }
    return s;
}

static kz_status get_rows(kz_store *st,
                          kz_data_kind kind,
                          const char *exchange,
                          const char *symbol,
                          kz_timeframe tf,
                          int64_t from_ms,
                          int64_t to_ms,
                          kz_bars *bars,
                          kz_series *series)
{
    const table_desc *t = &TABLES[kind];
    sqlite3_stmt *q = NULL;
    kz_status s = prepare_keyed(st, kind, SQL_RANGE, exchange, symbol, tf, &q);
    if (s != KZ_OK) {
        return s;
    }
    sqlite3_bind_int64(q, t->n_keys + 1, from_ms);
    sqlite3_bind_int64(q, t->n_keys + 2, to_ms);
    s = reserve_rows(st, t, kind, exchange, symbol, tf, from_ms, to_ms, bars, series);
    int rc = SQLITE_DONE;
    while (s == KZ_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t ts = (int64_t)sqlite3_column_int64(q, 0);
        if (bars) {
            s = kz_bars_push(bars, ts, sqlite3_column_double(q, 1), sqlite3_column_double(q, 2),
                             sqlite3_column_double(q, 3), sqlite3_column_double(q, 4),
                             sqlite3_column_double(q, 5));
        } else {
            s = kz_series_push(series, ts, sqlite3_column_double(q, 1));
        }
        if (s != KZ_OK) {
            s = set_err(st, s, "read %s %s/%s: out of memory", t->name, exchange, symbol);
            break;
        }
    }
    if (s == KZ_OK && rc != SQLITE_DONE) {
        s = db_err(st, "read");
    }
    sqlite3_finalize(q);
    if (s != KZ_OK) {
        kz_bars_free(bars);
        kz_series_free(series);
    }
    return s;
}

kz_status kz_store_get_bars(kz_store *st,
                            const char *exchange,
                            const char *symbol,
                            kz_timeframe tf,
                            int64_t from_ms,
                            int64_t to_ms,
                            kz_bars *out)
{
    if (!st || !out) {
        return KZ_ERR_INVALID;
    }
    if (out->n != 0) {
        return set_err(st, KZ_ERR_INVALID, "get_bars: output bars must be empty");
    }
    kz_status s = get_rows(st, KZ_DATA_BARS, exchange, symbol, tf, from_ms, to_ms, out, NULL);
    if (s == KZ_OK && out->n == 0) {
        s = set_err(st, KZ_ERR_NOT_FOUND, "no %s bars for %s/%s in the requested range",
                    kz_timeframe_str(tf), exchange, symbol);
    }
    return s;
}

kz_status kz_store_get_series(kz_store *st,
                              kz_data_kind kind,
                              const char *exchange,
                              const char *symbol,
                              int64_t from_ms,
                              int64_t to_ms,
                              kz_series *out)
{
    if (!st || !out) {
        return KZ_ERR_INVALID;
    }
    if (out->n != 0) {
        return set_err(st, KZ_ERR_INVALID, "get_series: output series must be empty");
    }
    if (kind != KZ_DATA_FUNDING && kind != KZ_DATA_OI) {
        return set_err(st, KZ_ERR_INVALID, "get_series: kind must be funding or open interest");
    }
    return get_rows(st, kind, exchange, symbol, KZ_TF_COUNT, from_ms, to_ms, NULL, out);
}

/* Newest ts < before_ms of a series; KZ_ERR_NOT_FOUND if none. */
static kz_status max_ts_before(kz_store *st,
                               kz_data_kind kind,
                               const char *exchange,
                               const char *symbol,
                               kz_timeframe tf,
                               int64_t before_ms,
                               int64_t *out_ms)
{
    const table_desc *t = &TABLES[kind];
    sqlite3_stmt *q = NULL;
    kz_status s = prepare_keyed(st, kind, SQL_MAX_TS, exchange, symbol, tf, &q);
    if (s != KZ_OK) {
        return s;
    }
    sqlite3_bind_int64(q, t->n_keys + 1, before_ms);
    int is_null = 1;
    s = query_int64(st, q, out_ms, &is_null);
    sqlite3_finalize(q);
    if (s == KZ_OK && is_null) {
        s = set_err(st, KZ_ERR_NOT_FOUND, "no %s rows for %s/%s", t->name, exchange, symbol);
    }
    return s;
}

kz_status kz_store_last_ts(kz_store *st,
                           kz_data_kind kind,
                           const char *exchange,
                           const char *symbol,
                           kz_timeframe tf,
                           int64_t *out_ms)
{
    if (!st || !out_ms) {
        return KZ_ERR_INVALID;
    }
    return max_ts_before(st, kind, exchange, symbol, tf, INT64_MAX, out_ms);
}

kz_load_opts kz_load_opts_default(void)
{
    kz_load_opts o = {NULL, NULL, 9LL * 3600 * 1000, 0};
    return o;
}

/* The series rows a market over bars needs: from the last row before the first bar's close (the
 * value that bar sees) up to the last bar's close. Empty if the series has no such rows. */
static kz_status load_aligned_series(kz_store *st,
                                     kz_data_kind kind,
                                     const char *exchange,
                                     const char *symbol,
                                     const kz_bars *bars,
                                     int64_t dur,
                                     kz_series *out)
{
    int64_t first_close = bars->ts_ms[0] + dur, last_close = bars->ts_ms[bars->n - 1] + dur;
    int64_t from = INT64_MIN;
    kz_status s = max_ts_before(st, kind, exchange, symbol, KZ_TF_COUNT, first_close, &from);
    if (s == KZ_ERR_NOT_FOUND) {
        from = INT64_MIN;
        s = KZ_OK;
    }
    /* A series has at most about one point per bar in practice (OI), often far fewer (funding):
     * reserving one slot per bar up front costs address space only (untouched pages are never
     * faulted in) and saves get_rows its count(*) scan. */
    if (s == KZ_OK && kz_series_reserve(out, bars->n + 2) != KZ_OK) {
        s = set_err(st, KZ_ERR_NOMEM, "load market: out of memory");
    }
    if (s == KZ_OK) {
        s = kz_store_get_series(st, kind, exchange, symbol, from, last_close, out);
    }
    return s;
}

kz_status kz_store_load_market(kz_store *st,
                               const char *exchange,
                               const char *symbol,
                               kz_timeframe tf,
                               int64_t from_ms,
                               int64_t to_ms,
                               const kz_load_opts *opts,
                               kz_market *out)
{
    if (!st || !out) {
        return KZ_ERR_INVALID;
    }
    kz_load_opts o = opts ? *opts : kz_load_opts_default();
    kz_bars bars = {0};
    kz_series fr = {0}, oi = {0};
    kz_status s = kz_store_get_bars(st, exchange, symbol, tf, from_ms, to_ms, &bars);
    if (s != KZ_OK) {
        return s;
    }
    int64_t dur = kz_timeframe_ms(tf);
    const char *fr_ex = o.funding_exchange ? o.funding_exchange : exchange;
    const char *oi_ex = o.oi_exchange ? o.oi_exchange : exchange;
    int64_t oi_age = o.oi_max_age_ms > 0 ? o.oi_max_age_ms : 2 * dur;
    s = load_aligned_series(st, KZ_DATA_FUNDING, fr_ex, symbol, &bars, dur, &fr);
    if (s == KZ_OK) {
        s = load_aligned_series(st, KZ_DATA_OI, oi_ex, symbol, &bars, dur, &oi);
    }
    if (s == KZ_OK) {
        kz_error err;
        kz_error_clear(&err);
        s = kz_market_build_take(exchange, symbol, tf, &bars, fr.n ? &fr : NULL, oi.n ? &oi : NULL,
                                 o.funding_max_age_ms, oi_age, out);
        if (s != KZ_OK) {
            set_err(st, s, "load market %s/%s %s: %s", exchange, symbol, kz_timeframe_str(tf),
                    kz_status_str(s));
        }
    }
    kz_bars_free(&bars);
    kz_series_free(&fr);
    kz_series_free(&oi);
    return s;
}

/* ---------------------------------------------------------------- coverage */

static int coverage_cmp(const void *a, const void *b)
{
    const kz_coverage *x = a, *y = b;
    if (x->kind != y->kind) {
        return (int)x->kind < (int)y->kind ? -1 : 1;
    }
    int c = strcmp(x->exchange, y->exchange);
    if (c == 0) {
        c = strcmp(x->symbol, y->symbol);
    }
    if (c == 0 && x->tf != y->tf) {
        c = (int)x->tf < (int)y->tf ? -1 : 1;
    }
    return c;
}

/* Append an empty coverage row, growing the array geometrically. */
static kz_coverage *coverage_push(kz_coverage **rows, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        kz_coverage *p = kz_realloc_array(*rows, ncap, sizeof *p);
        if (!p) {
            return NULL;
        }
        *rows = p;
        *cap = ncap;
    }
    kz_coverage *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    return r;
}

/* One pass over a table in key order (its primary key: no sort), one coverage row per series.
 * Gaps are counted while streaming so they are exact even for off-grid timestamps. */
static kz_status
scan_table(kz_store *st, kz_data_kind kind, kz_coverage **rows, size_t *n, size_t *cap)
{
    const table_desc *t = &TABLES[kind];
    sqlite3_stmt *q = NULL;
    sqlbuf sql;
    build_sql(t, SQL_SCAN, &sql);
    kz_status s = kz_sql_prepare(st, sql.s, &q);
    if (s != KZ_OK) {
        return s;
    }
    kz_coverage *cur = NULL;
    int64_t dur = 0, prev = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *ex = (const char *)sqlite3_column_text(q, 0);
        const char *sym = (const char *)sqlite3_column_text(q, 1);
        const char *tfs = t->n_keys == 3 ? (const char *)sqlite3_column_text(q, 2) : NULL;
        int64_t ts = (int64_t)sqlite3_column_int64(q, t->n_keys);
        if (!ex || !sym) {
            s = set_err(st, KZ_ERR_NOMEM, "coverage: out of memory");
            break;
        }
        kz_timeframe tf = KZ_TF_COUNT;
        if (tfs && kz_timeframe_parse(tfs, &tf) != KZ_OK) {
            tf = KZ_TF_COUNT;
        }
        if (!cur || strcmp(cur->exchange, ex) != 0 || strcmp(cur->symbol, sym) != 0 ||
            cur->tf != tf) {
            cur = coverage_push(rows, n, cap);
            if (!cur) {
                s = set_err(st, KZ_ERR_NOMEM, "coverage: out of memory");
                break;
            }
            cur->kind = kind;
            snprintf(cur->exchange, sizeof cur->exchange, "%s", ex);
            snprintf(cur->symbol, sizeof cur->symbol, "%s", sym);
            cur->tf = tf;
            cur->first_ms = ts;
            dur = (kind == KZ_DATA_BARS) ? kz_timeframe_ms(tf) : 0;
        } else if (dur > 0 && ts - prev > dur) {
            cur->n_gaps++;
            cur->n_missing += (size_t)((ts - prev) / dur - 1);
        }
        cur->last_ms = ts;
        cur->count++;
        prev = ts;
    }
    if (s == KZ_OK && rc != SQLITE_DONE) {
        s = db_err(st, "coverage");
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_store_coverage(kz_store *st, kz_coverage **rows, size_t *n)
{
    if (!st || !rows || !n) {
        return KZ_ERR_INVALID;
    }
    *rows = NULL;
    *n = 0;
    size_t cap = 0;
    kz_status s = KZ_OK;
    for (int k = KZ_DATA_BARS; s == KZ_OK && k <= KZ_DATA_OI; k++) {
        s = scan_table(st, (kz_data_kind)k, rows, n, &cap);
    }
    if (s != KZ_OK) {
        kz_free(*rows);
        *rows = NULL;
        *n = 0;
        return s;
    }
    if (*n > 1) {
        qsort(*rows, *n, sizeof **rows, coverage_cmp);
    }
    return KZ_OK;
}

/* ---------------------------------------------------------------- shared with jobs.c, registry.c
 */

sqlite3 *kz_store_db(kz_store *st)
{
    return st->db;
}

const char *kz_store_path(const kz_store *st)
{
    return st->path;
}

kz_status kz_store_fail(kz_store *st, kz_status code, const char *msg)
{
    return set_err(st, code, "%s: %s", st->path, msg);
}

kz_status kz_store_db_fail(kz_store *st, const char *what)
{
    return db_err(st, what);
}
