/* kizashi store SQL helpers: prepare / bind / step / collect patterns shared by store.c, jobs.c
 * and registry.c, so each query is written once as SQL plus its bindings (declared in store_int.h).
 */
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/sched.h"

#include "store/store_int.h"

kz_status kz_sql_prepare(kz_store *st, const char *sql, sqlite3_stmt **q)
{
    if (sqlite3_prepare_v2(kz_store_db(st), sql, -1, q, NULL) != SQLITE_OK) {
        *q = NULL;
        return kz_store_db_fail(st, "prepare");
    }
    return KZ_OK;
}

kz_status kz_sql_exec(kz_store *st, const char *sql, const char *what)
{
    if (sqlite3_exec(kz_store_db(st), sql, NULL, NULL, NULL) != SQLITE_OK) {
        return kz_store_db_fail(st, what);
    }
    return KZ_OK;
}

kz_status kz_sql_end_txn(kz_store *st, kz_status s)
{
    if (s == KZ_OK) {
        return kz_sql_exec(st, "COMMIT", "commit");
    }
    sqlite3_exec(kz_store_db(st), "ROLLBACK", NULL, NULL, NULL);
    return s;
}

static void vbind(sqlite3_stmt *q, const char *types, va_list ap)
{
    for (int i = 0; types[i]; i++) {
        int pos = i + 1;
        switch (types[i]) {
        case 't': {
            const char *s = va_arg(ap, const char *);
            sqlite3_bind_text(q, pos, s ? s : "", -1, SQLITE_TRANSIENT);
            break;
        }
        case 'i':
            sqlite3_bind_int(q, pos, va_arg(ap, int));
            break;
        case 'I':
            sqlite3_bind_int64(q, pos, va_arg(ap, int64_t));
            break;
        default: {
            /* 'r': SQLite has no NaN; NaN is stored as NULL and read back as NaN (col_real). */
            double v = va_arg(ap, double);
            if (isnan(v)) {
                sqlite3_bind_null(q, pos);
            } else {
                sqlite3_bind_double(q, pos, v);
            }
            break;
        }
        }
    }
}

void kz_sql_bind(sqlite3_stmt *q, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    vbind(q, types, ap);
    va_end(ap);
}

kz_status
kz_sql_prepare_bind(kz_store *st, const char *sql, sqlite3_stmt **q, const char *types, ...)
{
    kz_status s = kz_sql_prepare(st, sql, q);
    if (s == KZ_OK) {
        va_list ap;
        va_start(ap, types);
        vbind(*q, types, ap);
        va_end(ap);
    }
    return s;
}

kz_status kz_sql_step_done(kz_store *st, sqlite3_stmt *q, const char *what)
{
    return sqlite3_step(q) == SQLITE_DONE ? KZ_OK : kz_store_db_fail(st, what);
}

kz_status kz_sql_run(kz_store *st, const char *sql, const char *what, const char *types, ...)
{
    sqlite3_stmt *q = NULL;
    kz_status s = kz_sql_prepare(st, sql, &q);
    if (s == KZ_OK) {
        va_list ap;
        va_start(ap, types);
        vbind(q, types, ap);
        va_end(ap);
        s = kz_sql_step_done(st, q, what);
    }
    sqlite3_finalize(q);
    return s;
}

kz_status kz_sql_step_row(kz_store *st, sqlite3_stmt *q, const char *what)
{
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        return KZ_OK;
    }
    return rc == SQLITE_DONE ? KZ_ERR_NOT_FOUND : kz_store_db_fail(st, what);
}

void kz_sql_copy_text(sqlite3_stmt *q, int col, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

double kz_sql_col_real(sqlite3_stmt *q, int col)
{
    return sqlite3_column_type(q, col) == SQLITE_NULL ? NAN : sqlite3_column_double(q, col);
}

void kz_sql_read_text0(sqlite3_stmt *q, void *row, size_t size)
{
    kz_sql_copy_text(q, 0, row, size);
}

kz_status
kz_sql_collect(kz_store *st, sqlite3_stmt *q, const kz_sql_rows *spec, void **rows, size_t *n)
{
    unsigned char *out = NULL;
    size_t cap = 0, count = 0;
    kz_status s = KZ_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (count == cap) {
            size_t nc = cap ? cap * 2 : 16;
            unsigned char *g = kz_realloc_array(out, nc, spec->size);
            if (!g) {
                s = kz_store_fail(st, KZ_ERR_NOMEM, spec->oom_msg);
                break;
            }
            out = g;
            cap = nc;
        }
        spec->read(q, out + count * spec->size, spec->size);
        count++;
    }
    if (s == KZ_OK && rc != SQLITE_DONE) {
        s = kz_store_db_fail(st, spec->what);
    }
    if (s != KZ_OK) {
        kz_free(out);
        out = NULL;
        count = 0;
    }
    *rows = out;
    *n = count;
    return s;
}

int kz_store_valid_name(const char *s)
{
    return s && *s && strlen(s) < KZ_SCHED_NAME_MAX;
}
