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
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/sched.h"

#include "store/store_int.h"

static kz_status bad_name(kz_store *st)
{
    return kz_store_fail(st, KZ_ERR_INVALID, "model name must be 1..63 bytes");
}

#define VERSION_COLS                                                                               \
    "name, version, status, path, exchange, symbol, timeframe, data_from, data_to, parent,"        \
    " job_id, created_ms, activated_ms, horizon, label_up, label_down, test_mlogloss,"             \
    " test_bal_acc, eval_mlogloss, eval_bal_acc"

/* A kz_sql_rows reader: one VERSION_COLS row into a kz_model_version. */
static void read_version(sqlite3_stmt *q, void *row, size_t size)
{
    kz_model_version *v = row;
    char buf[32];
    memset(v, 0, size);
    kz_sql_copy_text(q, 0, v->name, sizeof v->name);
    v->version = sqlite3_column_int(q, 1);
    kz_sql_copy_text(q, 2, buf, sizeof buf);
    v->status = KZ_VERSION_STATUS_COUNT;
    for (int k = 0; k < KZ_VERSION_STATUS_COUNT; k++) {
        if (strcmp(buf, kz_version_status_str((kz_version_status)k)) == 0) {
            v->status = (kz_version_status)k;
        }
    }
    kz_sql_copy_text(q, 3, v->path, sizeof v->path);
    kz_sql_copy_text(q, 4, v->exchange, sizeof v->exchange);
    kz_sql_copy_text(q, 5, v->symbol, sizeof v->symbol);
    kz_sql_copy_text(q, 6, buf, sizeof buf);
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
    v->label_up = kz_sql_col_real(q, 14);
    v->label_down = kz_sql_col_real(q, 15);
    v->test_mlogloss = kz_sql_col_real(q, 16);
    v->test_balanced_accuracy = kz_sql_col_real(q, 17);
    v->eval_mlogloss = kz_sql_col_real(q, 18);
    v->eval_balanced_accuracy = kz_sql_col_real(q, 19);
}

kz_status kz_registry_reserve(kz_store *st, const char *name, int *out_version)
{
    if (!st || !out_version) {
        return KZ_ERR_INVALID;
    }
    if (!kz_store_valid_name(name)) {
        return bad_name(st);
    }
    kz_status s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin reserve");
    if (s != KZ_OK) {
        return s;
    }
    sqlite3_stmt *q = NULL;
    s = kz_sql_prepare_bind(st,
                            "INSERT INTO model_names VALUES (?1, 2) ON CONFLICT (name) DO UPDATE"
                            " SET next_version = next_version + 1 RETURNING next_version - 1",
                            &q, "t", name);
    if (s == KZ_OK) {
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
    return kz_sql_end_txn(st, s);
}

kz_status kz_registry_insert(kz_store *st, const kz_model_version *v, const char *meta_json)
{
    if (!st || !v) {
        return KZ_ERR_INVALID;
    }
    if (!kz_store_valid_name(v->name) || !v->path[0] || v->version < 1) {
        return kz_store_fail(st, KZ_ERR_INVALID, "registry: name, path and version required");
    }
    int64_t next = 0;
    sqlite3_stmt *q = NULL;
    kz_status s = kz_sql_prepare_bind(st, "SELECT next_version FROM model_names WHERE name = ?", &q,
                                      "t", v->name);
    if (s == KZ_OK) {
        next = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    }
    sqlite3_finalize(q);
    if (s == KZ_OK && v->version >= next) {
        return kz_store_fail(st, KZ_ERR_INVALID, "registry: version was not reserved");
    }
    if (s != KZ_OK) {
        return s;
    }
    return kz_sql_run(
        st,
        "INSERT INTO model_versions (" VERSION_COLS ", meta) VALUES (?, ?, 'candidate',"
        " ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
        "insert model version", "tittttIIiIIirrrrrrt", v->name, v->version, v->path, v->exchange,
        v->symbol, v->tf < KZ_TF_COUNT ? kz_timeframe_str(v->tf) : "", v->data_from_ms,
        v->data_to_ms, v->parent, v->job_id, v->created_ms, v->horizon, v->label_up, v->label_down,
        v->test_mlogloss, v->test_balanced_accuracy, v->eval_mlogloss, v->eval_balanced_accuracy,
        meta_json && *meta_json ? meta_json : "{}");
}

kz_status kz_registry_get(kz_store *st, const char *name, int version, kz_model_version *out)
{
    if (!st || !out) {
        return KZ_ERR_INVALID;
    }
    if (!kz_store_valid_name(name)) {
        return bad_name(st);
    }
    sqlite3_stmt *q = NULL;
    kz_status s = kz_sql_prepare_bind(
        st,
        version > 0 ? "SELECT " VERSION_COLS " FROM model_versions WHERE name = ?1 AND version = ?2"
                    : "SELECT " VERSION_COLS
                      " FROM model_versions WHERE name = ?1 AND status = 'active'",
        &q, "ti", name, version);
    if (s == KZ_OK) {
        s = kz_sql_step_row(st, q, "read model version");
    }
    if (s == KZ_OK) {
        read_version(q, out, sizeof *out);
    } else if (s == KZ_ERR_NOT_FOUND) {
        char msg[160];
        if (version > 0) {
            snprintf(msg, sizeof msg, "model %s has no version %d", name, version);
        } else {
            snprintf(msg, sizeof msg, "model %s has no active version", name);
        }
        s = kz_store_fail(st, KZ_ERR_NOT_FOUND, msg);
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
    kz_status s =
        kz_sql_prepare_bind(st, "SELECT meta FROM model_versions WHERE name = ? AND version = ?",
                            &q, "ti", name, version);
    if (s == KZ_OK) {
        s = kz_sql_step_row(st, q, "read metadata");
    }
    if (s == KZ_OK) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        *json = kz_strdup(t ? (const char *)t : "{}");
        if (!*json) {
            s = kz_store_fail(st, KZ_ERR_NOMEM, "out of memory reading metadata");
        }
    } else if (s == KZ_ERR_NOT_FOUND) {
        s = kz_store_fail(st, KZ_ERR_NOT_FOUND, "no such model version");
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_registry_list(kz_store *st, const char *name, kz_model_version **rows, size_t *n)
{
    if (!st || !rows || !n) {
        return KZ_ERR_INVALID;
    }
    static const kz_sql_rows VERSION_ROWS = {sizeof(kz_model_version), read_version,
                                             "out of memory listing models", "list models"};
    *rows = NULL;
    *n = 0;
    void *out = NULL;
    sqlite3_stmt *q = NULL;
    kz_status s = kz_sql_prepare(st,
                                 "SELECT " VERSION_COLS " FROM model_versions WHERE ?1 IS NULL OR"
                                 " name = ?1 ORDER BY name, version",
                                 &q);
    if (s == KZ_OK) {
        if (name) {
            kz_sql_bind(q, "t", name);
        }
        s = kz_sql_collect(st, q, &VERSION_ROWS, &out, n);
        *rows = out;
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_registry_set_eval(
    kz_store *st, const char *name, int version, double mlogloss, double balanced_accuracy)
{
    if (!st || !name) {
        return KZ_ERR_INVALID;
    }
    return kz_sql_run(st,
                      "UPDATE model_versions SET eval_mlogloss = ?, eval_bal_acc = ? WHERE"
                      " name = ? AND version = ?",
                      "record evaluation", "rrti", mlogloss, balanced_accuracy, name, version);
}

/* Inside a transaction: retire the active version of name, activate `version`. */
static kz_status swap_active(kz_store *st, const char *name, int version, int64_t now_ms)
{
    kz_status s = kz_sql_run(st,
                             "UPDATE model_versions SET status = 'retired' WHERE name = ? AND"
                             " status = 'active'",
                             "retire active version", "t", name);
    if (s == KZ_OK) {
        s = kz_sql_run(st,
                       "UPDATE model_versions SET status = 'active', activated_ms = ? WHERE"
                       " name = ? AND version = ?",
                       "activate version", "Iti", now_ms, name, version);
    }
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
    if (!kz_store_valid_name(name)) {
        return bad_name(st);
    }
    kz_status s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin promote");
    if (s != KZ_OK) {
        return s;
    }
    return kz_sql_end_txn(st, swap_active(st, name, version, now_ms));
}

kz_status kz_registry_rollback(kz_store *st, const char *name, int64_t now_ms, int *out_version)
{
    if (!st) {
        return KZ_ERR_INVALID;
    }
    if (!kz_store_valid_name(name)) {
        return bad_name(st);
    }
    kz_status s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin rollback");
    if (s != KZ_OK) {
        return s;
    }
    kz_model_version cur;
    s = kz_registry_get(st, name, 0, &cur);
    sqlite3_stmt *q = NULL;
    int target = 0;
    if (s == KZ_OK) {
        s = kz_sql_prepare_bind(st,
                                "SELECT max(version) FROM model_versions WHERE name = ? AND"
                                " version < ? AND activated_ms != 0",
                                &q, "ti", name, cur.version);
    }
    if (s == KZ_OK) {
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
    s = kz_sql_end_txn(st, s);
    if (s == KZ_OK && out_version) {
        *out_version = target;
    }
    return s;
}

/* A kz_sql_rows reader for kz_registry_summaries' query. */
static void read_summary(sqlite3_stmt *q, void *row, size_t size)
{
    kz_registry_summary *r = row;
    memset(r, 0, size);
    kz_sql_copy_text(q, 0, r->name, sizeof r->name);
    r->newest_version = sqlite3_column_int(q, 1);
    r->newest_created_ms = sqlite3_column_int64(q, 2);
    r->newest_data_to_ms = sqlite3_column_int64(q, 3);
    r->active_version = sqlite3_column_int(q, 4);
}

kz_status kz_registry_summaries(kz_store *st, kz_registry_summary **rows, size_t *n)
{
    static const kz_sql_rows SUMMARY_ROWS = {sizeof(kz_registry_summary), read_summary,
                                             "out of memory reading the registry",
                                             "read the registry"};
    *rows = NULL;
    *n = 0;
    void *out = NULL;
    sqlite3_stmt *q = NULL;
    /* SQLite takes the bare columns of a max() aggregate from the row holding the maximum. */
    kz_status s = kz_sql_prepare(st,
                                 "SELECT name, max(version), created_ms, data_to, (SELECT"
                                 " a.version FROM model_versions a WHERE a.name = v.name AND"
                                 " a.status = 'active') FROM model_versions v GROUP BY name",
                                 &q);
    if (s == KZ_OK) {
        s = kz_sql_collect(st, q, &SUMMARY_ROWS, &out, n);
        *rows = out;
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_registry_prune_rows(kz_store *st, const char *name, int keep, char **paths, size_t *n)
{
    *paths = NULL;
    *n = 0;
    if (!kz_store_valid_name(name) || keep < 1) {
        return kz_store_fail(st, KZ_ERR_INVALID, "retention: name and keep >= 1 required");
    }
    kz_status s = kz_sql_exec(st, "BEGIN IMMEDIATE", "begin retention");
    if (s != KZ_OK) {
        return s;
    }
    /* Victims: beyond the newest `keep` versions and not active. */
    static const char VICTIMS[] = "FROM model_versions WHERE name = ?1 AND status != 'active' AND"
                                  " version NOT IN (SELECT version FROM model_versions WHERE"
                                  " name = ?1 ORDER BY version DESC LIMIT ?2)";
    static const kz_sql_rows PATH_ROWS = {512, kz_sql_read_text0, "out of memory in retention",
                                          "find old versions"};
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT path %s", VICTIMS);
    sqlite3_stmt *q = NULL;
    void *out = NULL;
    s = kz_sql_prepare_bind(st, sql, &q, "ti", name, keep);
    if (s == KZ_OK) {
        s = kz_sql_collect(st, q, &PATH_ROWS, &out, n);
        *paths = out;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (s == KZ_OK && *n) {
        snprintf(sql, sizeof sql, "DELETE %s", VICTIMS);
        s = kz_sql_run(st, sql, "delete old versions", "ti", name, keep);
    }
    /* A path still referenced by a kept row (a re-registered file) must survive. */
    if (s == KZ_OK && *n) {
        s = kz_sql_prepare(st, "SELECT count(*) FROM model_versions WHERE path = ?", &q);
    }
    for (size_t i = 0; s == KZ_OK && q && i < *n;) {
        sqlite3_reset(q);
        kz_sql_bind(q, "t", *paths + i * 512);
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
    s = kz_sql_end_txn(st, s);
    if (s != KZ_OK) {
        kz_free(*paths);
        *paths = NULL;
        *n = 0;
    }
    return s;
}
