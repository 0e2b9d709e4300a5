/* kizashi model registry rows: versions of each model name with their file, data range, metrics,
 * parent and status (issue 9). SQL only; files, promotion decisions and retention's unlinking
 * live in src/sched/ (see jobs.c for why this file may include <sqlite3.h>).
 *
 * DESIGN
 * - Version numbers come from model_names.next_version, so they are never reused even after
 *   retention deleted old rows.
 * - At most one active version per name: promote and rollback retire the old one and activate
 *   the new one in one transaction, and a unique partial index makes a second active row
 *   impossible even for a buggy caller.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/sched.h"

#include "store/store_int.h"

static kz_status prep(kz_store *st, const char *sql, sqlite3_stmt **q)
{
    if (sqlite3_prepare_v2(kz_store_db(st), sql, -1, q, NULL) != SQLITE_OK) {
        *q = NULL;
        return kz_store_db_fail(st, "prepare");
    }
    return KZ_OK;
}

static kz_status exec(kz_store *st, const char *sql, const char *what)
{
    if (sqlite3_exec(kz_store_db(st), sql, NULL, NULL, NULL) != SQLITE_OK) {
        return kz_store_db_fail(st, what);
    }
    return KZ_OK;
}

static kz_status end_txn(kz_store *st, kz_status s)
{
    if (s == KZ_OK) {
        return exec(st, "COMMIT", "commit");
    }
    sqlite3_exec(kz_store_db(st), "ROLLBACK", NULL, NULL, NULL);
    return s;
}

static kz_status step_done(kz_store *st, sqlite3_stmt *q, const char *what)
{
    return sqlite3_step(q) == SQLITE_DONE ? KZ_OK : kz_store_db_fail(st, what);
}

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
    sqlite3_bind_text(q, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

/* NaN is stored as NULL (SQLite has no NaN) and read back as NaN. */
static void bind_real(sqlite3_stmt *q, int i, double v)
{
    if (isnan(v)) {
        sqlite3_bind_null(q, i);
    } else {
        sqlite3_bind_double(q, i, v);
    }
}

static double col_real(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q, i);
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static int valid_name(const char *s)
{
    return s && *s && strlen(s) < KZ_SCHED_NAME_MAX;
}

static kz_status bad_name(kz_store *st)
{
    return kz_store_fail(st, KZ_ERR_INVALID, "model name must be 1..63 bytes");
}

#define VERSION_COLS                                                                               \
    "name, version, status, path, exchange, symbol, timeframe, data_from, data_to, parent,"        \
    " job_id, created_ms, activated_ms, horizon, label_up, label_down, test_mlogloss,"             \
    " test_bal_acc, eval_mlogloss, eval_bal_acc"

static void read_version(sqlite3_stmt *q, kz_model_version *v)
{
    char buf[32];
    memset(v, 0, sizeof *v);
    copy_col(v->name, sizeof v->name, q, 0);
    v->version = sqlite3_column_int(q, 1);
    copy_col(buf, sizeof buf, q, 2);
    v->status = KZ_VERSION_STATUS_COUNT;
    for (int k = 0; k < KZ_VERSION_STATUS_COUNT; k++) {
        if (strcmp(buf, kz_version_status_str((kz_version_status)k)) == 0) {
            v->status = (kz_version_status)k;
        }
    }
    copy_col(v->path, sizeof v->path, q, 3);
    copy_col(v->exchange, sizeof v->exchange, q, 4);
    copy_col(v->symbol, sizeof v->symbol, q, 5);
    copy_col(buf, sizeof buf, q, 6);
    if (kz_timeframe_parse(buf, &v->tf) != KZ_OK) {
        v->tf = KZ_TF_COUNT;
    }
    v->data_from_ms = sqlite3_column_int64(q, 7);
    v->data_to_ms = sqlite3_column_int64(q, 8);
    v->parent = sqlite3_column_int(q, 9);
    v->job_id = sqlite3_column_int64(q, 10);
    v->created_ms = sqlite3_column_int64(q, 11);
    v->activated_ms = sqlite3_column_int64(q, 12);
    v->horizon = sqlite3_column_int(q, 13);
    v->label_up = col_real(q, 14);
    v->label_down = col_real(q, 15);
    v->test_mlogloss = col_real(q, 16);
    v->test_balanced_accuracy = col_real(q, 17);
    v->eval_mlogloss = col_real(q, 18);
    v->eval_balanced_accuracy = col_real(q, 19);
}

kz_status kz_registry_reserve(kz_store *st, const char *name, int *out_version)
{
    if (!st || !out_version) {
        return KZ_ERR_INVALID;
    }
    if (!valid_name(name)) {
        return bad_name(st);
    }
    kz_status s = exec(st, "BEGIN IMMEDIATE", "begin reserve");
    if (s != KZ_OK) {
        return s;
    }
    sqlite3_stmt *q = NULL;
    s = prep(st,
             "INSERT INTO model_names VALUES (?1, 2) ON CONFLICT (name) DO UPDATE SET"
             " next_version = next_version + 1 RETURNING next_version - 1",
             &q);
    if (s == KZ_OK) {
        bind_text(q, 1, name);
        if (sqlite3_step(q) == SQLITE_ROW) {
            *out_version = sqlite3_column_int(q, 0);
            /* Finish the statement so the COMMIT is not blocked by an active RETURNING row. */
            if (sqlite3_step(q) != SQLITE_DONE) {
                s = kz_store_db_fail(st, "reserve version");
            }
        } else {
            s = kz_store_db_fail(st, "reserve version");
        }
    }
    sqlite3_finalize(q);
    return end_txn(st, s);
}

kz_status kz_registry_insert(kz_store *st, const kz_model_version *v, const char *meta_json)
{
    if (!st || !v) {
        return KZ_ERR_INVALID;
    }
    if (!valid_name(v->name) || !v->path[0] || v->version < 1) {
        return kz_store_fail(st, KZ_ERR_INVALID, "registry: name, path and version required");
    }
    int64_t next = 0;
    sqlite3_stmt *q = NULL;
    kz_status s = prep(st, "SELECT next_version FROM model_names WHERE name = ?", &q);
    if (s == KZ_OK) {
        bind_text(q, 1, v->name);
        next = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (s == KZ_OK && v->version >= next) {
        return kz_store_fail(st, KZ_ERR_INVALID, "registry: version was not reserved");
    }
    if (s == KZ_OK) {
        s = prep(st,
                 "INSERT INTO model_versions (" VERSION_COLS ", meta) VALUES (?, ?, 'candidate',"
                 " ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
                 &q);
    }
    if (s == KZ_OK) {
        bind_text(q, 1, v->name);
        sqlite3_bind_int(q, 2, v->version);
        bind_text(q, 3, v->path);
        bind_text(q, 4, v->exchange);
        bind_text(q, 5, v->symbol);
        bind_text(q, 6, v->tf < KZ_TF_COUNT ? kz_timeframe_str(v->tf) : "");
        sqlite3_bind_int64(q, 7, v->data_from_ms);
        sqlite3_bind_int64(q, 8, v->data_to_ms);
        sqlite3_bind_int(q, 9, v->parent);
        sqlite3_bind_int64(q, 10, v->job_id);
        sqlite3_bind_int64(q, 11, v->created_ms);
        sqlite3_bind_int(q, 12, v->horizon);
        bind_real(q, 13, v->label_up);
        bind_real(q, 14, v->label_down);
        bind_real(q, 15, v->test_mlogloss);
        bind_real(q, 16, v->test_balanced_accuracy);
        bind_real(q, 17, v->eval_mlogloss);
        bind_real(q, 18, v->eval_balanced_accuracy);
        bind_text(q, 19, meta_json && *meta_json ? meta_json : "{}");
        s = step_done(st, q, "insert model version");
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_registry_get(kz_store *st, const char *name, int version, kz_model_version *out)
{
    if (!st || !out) {
        return KZ_ERR_INVALID;
    }
    if (!valid_name(name)) {
        return bad_name(st);
    }
    sqlite3_stmt *q = NULL;
    kz_status s = prep(st,
                       version > 0 ? "SELECT " VERSION_COLS
                                     " FROM model_versions WHERE name = ?1 AND version = ?2"
                                   : "SELECT " VERSION_COLS
                                     " FROM model_versions WHERE name = ?1 AND status = 'active'",
                       &q);
    if (s == KZ_OK) {
        bind_text(q, 1, name);
        sqlite3_bind_int(q, 2, version);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            read_version(q, out);
        } else if (rc == SQLITE_DONE) {
            char msg[160];
            if (version > 0) {
                snprintf(msg, sizeof msg, "model %s has no version %d", name, version);
            } else {
                snprintf(msg, sizeof msg, "model %s has no active version", name);
            }
            s = kz_store_fail(st, KZ_ERR_NOT_FOUND, msg);
        } else {
            s = kz_store_db_fail(st, "read model version");
        }
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_registry_meta(kz_store *st, const char *name, int version, char **json)
{
    if (!st || !json || !name) {
        return KZ_ERR_INVALID;
    }
    *json = NULL;
    sqlite3_stmt *q = NULL;
    kz_status s = prep(st, "SELECT meta FROM model_versions WHERE name = ? AND version = ?", &q);
    if (s == KZ_OK) {
        bind_text(q, 1, name);
        sqlite3_bind_int(q, 2, version);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(q, 0);
            *json = kz_strdup(t ? (const char *)t : "{}");
            if (!*json) {
                s = kz_store_fail(st, KZ_ERR_NOMEM, "out of memory reading metadata");
            }
        } else if (rc == SQLITE_DONE) {
            s = kz_store_fail(st, KZ_ERR_NOT_FOUND, "no such model version");
        } else {
            s = kz_store_db_fail(st, "read metadata");
        }
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_registry_list(kz_store *st, const char *name, kz_model_version **rows, size_t *n)
{
    if (!st || !rows || !n) {
        return KZ_ERR_INVALID;
    }
    *rows = NULL;
    *n = 0;
    size_t cap = 0;
    sqlite3_stmt *q = NULL;
    kz_status s = prep(st,
                       "SELECT " VERSION_COLS " FROM model_versions WHERE ?1 IS NULL OR name = ?1"
                       " ORDER BY name, version",
                       &q);
    if (s == KZ_OK && name) {
        bind_text(q, 1, name);
    }
    int rc = SQLITE_DONE;
    while (s == KZ_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            kz_model_version *g = kz_realloc_array(*rows, nc, sizeof *g);
            if (!g) {
                s = kz_store_fail(st, KZ_ERR_NOMEM, "out of memory listing models");
                break;
            }
            *rows = g;
            cap = nc;
        }
        read_version(q, &(*rows)[(*n)++]);
    }
    if (s == KZ_OK && rc != SQLITE_DONE) {
        s = kz_store_db_fail(st, "list models");
    }
    sqlite3_finalize(q);
    if (s != KZ_OK) {
        kz_free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return s;
}

kz_status kz_registry_set_eval(
    kz_store *st, const char *name, int version, double mlogloss, double balanced_accuracy)
{
    if (!st || !name) {
        return KZ_ERR_INVALID;
    }
    sqlite3_stmt *q = NULL;
    kz_status s = prep(st,
                       "UPDATE model_versions SET eval_mlogloss = ?, eval_bal_acc = ? WHERE"
                       " name = ? AND version = ?",
                       &q);
    if (s == KZ_OK) {
        bind_real(q, 1, mlogloss);
        bind_real(q, 2, balanced_accuracy);
        bind_text(q, 3, name);
        sqlite3_bind_int(q, 4, version);
        s = step_done(st, q, "record evaluation");
    }
    sqlite3_finalize(q);
    return s;
}

/* Inside a transaction: retire the active version of name, activate `version`. */
static kz_status swap_active(kz_store *st, const char *name, int version, int64_t now_ms)
{
    sqlite3_stmt *q = NULL;
    kz_status s = prep(st,
                       "UPDATE model_versions SET status = 'retired' WHERE name = ? AND"
                       " status = 'active'",
                       &q);
    if (s == KZ_OK) {
        bind_text(q, 1, name);
        s = step_done(st, q, "retire active version");
    }
    sqlite3_finalize(q);
    q = NULL;
    if (s == KZ_OK) {
        s = prep(st,
                 "UPDATE model_versions SET status = 'active', activated_ms = ? WHERE name = ?"
                 " AND version = ?",
                 &q);
    }
    if (s == KZ_OK) {
        sqlite3_bind_int64(q, 1, now_ms);
        bind_text(q, 2, name);
        sqlite3_bind_int(q, 3, version);
        s = step_done(st, q, "activate version");
    }
    sqlite3_finalize(q);
    if (s == KZ_OK && sqlite3_changes(kz_store_db(st)) != 1) {
        char msg[160];
        snprintf(msg, sizeof msg, "model %s has no version %d", name, version);
        s = kz_store_fail(st, KZ_ERR_NOT_FOUND, msg);
    }
    return s;
}

kz_status kz_registry_promote(kz_store *st, const char *name, int version, int64_t now_ms)
{
    if (!st) {
        return KZ_ERR_INVALID;
    }
    if (!valid_name(name)) {
        return bad_name(st);
    }
    kz_status s = exec(st, "BEGIN IMMEDIATE", "begin promote");
    if (s != KZ_OK) {
        return s;
    }
    return end_txn(st, swap_active(st, name, version, now_ms));
}

kz_status kz_registry_rollback(kz_store *st, const char *name, int64_t now_ms, int *out_version)
{
    if (!st) {
        return KZ_ERR_INVALID;
    }
    if (!valid_name(name)) {
        return bad_name(st);
    }
    kz_status s = exec(st, "BEGIN IMMEDIATE", "begin rollback");
    if (s != KZ_OK) {
        return s;
    }
    kz_model_version cur;
    s = kz_registry_get(st, name, 0, &cur);
    sqlite3_stmt *q = NULL;
    int target = 0;
    if (s == KZ_OK) {
        s = prep(st,
                 "SELECT max(version) FROM model_versions WHERE name = ? AND version < ? AND"
                 " activated_ms != 0",
                 &q);
    }
    if (s == KZ_OK) {
        bind_text(q, 1, name);
        sqlite3_bind_int(q, 2, cur.version);
        if (sqlite3_step(q) != SQLITE_ROW) {
            s = kz_store_db_fail(st, "find previous version");
        } else {
            target = sqlite3_column_int(q, 0);
        }
    }
    sqlite3_finalize(q);
    if (s == KZ_OK && target == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "model %s: no earlier active version before v%d", name,
                 cur.version);
        s = kz_store_fail(st, KZ_ERR_NOT_FOUND, msg);
    }
    if (s == KZ_OK) {
        s = swap_active(st, name, target, now_ms);
    }
    s = end_txn(st, s);
    if (s == KZ_OK && out_version) {
        *out_version = target;
    }
    return s;
}

kz_status kz_registry_summaries(kz_store *st, kz_registry_summary **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    size_t cap = 0;
    sqlite3_stmt *q = NULL;
    /* SQLite takes the bare columns of a max() aggregate from the row holding the maximum. */
    kz_status s = prep(st,
                       "SELECT name, max(version), created_ms, data_to, (SELECT a.version FROM"
                       " model_versions a WHERE a.name = v.name AND a.status = 'active')"
                       " FROM model_versions v GROUP BY name",
                       &q);
    int rc = SQLITE_DONE;
    while (s == KZ_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            kz_registry_summary *g = kz_realloc_array(*rows, nc, sizeof *g);
            if (!g) {
                s = kz_store_fail(st, KZ_ERR_NOMEM, "out of memory reading the registry");
                break;
            }
            *rows = g;
            cap = nc;
        }
        kz_registry_summary *r = &(*rows)[(*n)++];
        copy_col(r->name, sizeof r->name, q, 0);
        r->newest_version = sqlite3_column_int(q, 1);
        r->newest_created_ms = sqlite3_column_int64(q, 2);
        r->newest_data_to_ms = sqlite3_column_int64(q, 3);
        r->active_version = sqlite3_column_int(q, 4);
    }
    if (s == KZ_OK && rc != SQLITE_DONE) {
        s = kz_store_db_fail(st, "read the registry");
    }
    sqlite3_finalize(q);
    if (s != KZ_OK) {
        kz_free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return s;
}

kz_status kz_registry_prune_rows(kz_store *st, const char *name, int keep, char **paths, size_t *n)
{
    *paths = NULL;
    *n = 0;
    if (!valid_name(name) || keep < 1) {
        return kz_store_fail(st, KZ_ERR_INVALID, "retention: name and keep >= 1 required");
    }
    kz_status s = exec(st, "BEGIN IMMEDIATE", "begin retention");
    if (s != KZ_OK) {
        return s;
    }
    /* Victims: beyond the newest `keep` versions and not active. */
    static const char VICTIMS[] = "FROM model_versions WHERE name = ?1 AND status != 'active' AND"
                                  " version NOT IN (SELECT version FROM model_versions WHERE"
                                  " name = ?1 ORDER BY version DESC LIMIT ?2)";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT path %s", VICTIMS);
    sqlite3_stmt *q = NULL;
    s = prep(st, sql, &q);
    size_t cap = 0;
    int rc = SQLITE_DONE;
    if (s == KZ_OK) {
        bind_text(q, 1, name);
        sqlite3_bind_int(q, 2, keep);
    }
    while (s == KZ_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char *g = kz_realloc_array(*paths, nc, 512);
            if (!g) {
                s = kz_store_fail(st, KZ_ERR_NOMEM, "out of memory in retention");
                break;
            }
            *paths = g;
            cap = nc;
        }
        copy_col(*paths + *n * 512, 512, q, 0);
        (*n)++;
    }
    if (s == KZ_OK && rc != SQLITE_DONE) {
        s = kz_store_db_fail(st, "find old versions");
    }
    sqlite3_finalize(q);
    q = NULL;
    if (s == KZ_OK && *n) {
        snprintf(sql, sizeof sql, "DELETE %s", VICTIMS);
        s = prep(st, sql, &q);
        if (s == KZ_OK) {
            bind_text(q, 1, name);
            sqlite3_bind_int(q, 2, keep);
            s = step_done(st, q, "delete old versions");
        }
        sqlite3_finalize(q);
        q = NULL;
    }
    /* A path still referenced by a kept row (a re-registered file) must survive. */
    if (s == KZ_OK && *n) {
        s = prep(st, "SELECT count(*) FROM model_versions WHERE path = ?", &q);
    }
    for (size_t i = 0; s == KZ_OK && q && i < *n;) {
        sqlite3_reset(q);
        bind_text(q, 1, *paths + i * 512);
        if (sqlite3_step(q) != SQLITE_ROW) {
            s = kz_store_db_fail(st, "check path");
        } else if (sqlite3_column_int(q, 0) > 0) {
            memmove(*paths + i * 512, *paths + (*n - 1) * 512, 512);
            (*n)--;
        } else {
            i++;
        }
    }
    sqlite3_finalize(q);
    s = end_txn(st, s);
    if (s != KZ_OK) {
        kz_free(*paths);
        *paths = NULL;
        *n = 0;
    }
    return s;
}
