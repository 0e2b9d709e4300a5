/* kizashi store: the embedded SQLite database that keeps bars, funding rate and open interest.
 * Thread contract: one kz_store per thread (each thread opens its own connection); a kz_store
 * must not be used by two threads at once. Several processes may open the same file (WAL). */
#ifndef KIZASHI_STORE_H
#define KIZASHI_STORE_H

#include "kizashi/market.h"
#include "kizashi/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kz_store kz_store;

/* Default database path when neither --db nor KIZASHI_DB is given. */
#define KZ_STORE_DEFAULT_PATH "kizashi-data/kizashi.db"

/* Open (creating if needed, with parent directory) the database at `path` and migrate its schema
 * to the current version. On failure *out is NULL and `err` (optional) says why:
 * KZ_ERR_IO (directory or file), KZ_ERR_STORE (not a database, newer schema than this build). */
KZ_NODISCARD kz_status kz_store_open(const char *path, kz_store **out, kz_error *err);
/* Close and free. Accepts NULL. */
void kz_store_close(kz_store *st);
/* Detail of the last failed call on this store (static-lifetime until the next call). */
const char *kz_store_errmsg(const kz_store *st);
/* Schema version the database is at. */
int kz_store_schema_version(const kz_store *st);

/* What an upsert did. */
typedef struct kz_upsert_stats {
    size_t inserted;  /* new rows */
    size_t updated;   /* existing rows whose values changed */
    size_t unchanged; /* existing rows with identical values */
} kz_upsert_stats;

/* Upsert bars of (exchange, symbol, tf) in one transaction: all rows or none. Bars are borrowed.
 * Errors: KZ_ERR_INVALID (empty names), KZ_ERR_STORE (database). `stats` optional. */
KZ_NODISCARD kz_status kz_store_put_bars(kz_store *st, const char *exchange, const char *symbol,
                                         kz_timeframe tf, const kz_bars *bars,
                                         kz_upsert_stats *stats);
/* Upsert a funding (KZ_DATA_FUNDING) or open-interest (KZ_DATA_OI) series of (exchange, symbol)
 * in one transaction. */
KZ_NODISCARD kz_status kz_store_put_series(kz_store *st, kz_data_kind kind, const char *exchange,
                                           const char *symbol, const kz_series *s,
                                           kz_upsert_stats *stats);

/* Read bars of (exchange, symbol, tf) with from_ms <= ts < to_ms (INT64_MIN/INT64_MAX for open
 * ends) into `out` (must be empty). KZ_ERR_NOT_FOUND if no bar matches. */
KZ_NODISCARD kz_status kz_store_get_bars(kz_store *st, const char *exchange, const char *symbol,
                                         kz_timeframe tf, int64_t from_ms, int64_t to_ms,
                                         kz_bars *out);
/* Read a series with from_ms <= ts < to_ms into `out` (must be empty); empty result is KZ_OK. */
KZ_NODISCARD kz_status kz_store_get_series(kz_store *st, kz_data_kind kind, const char *exchange,
                                           const char *symbol, int64_t from_ms, int64_t to_ms,
                                           kz_series *out);

/* Where FR/OI come from when loading a market, and how old a value may be. */
typedef struct kz_load_opts {
    const char *funding_exchange; /* NULL = same exchange as the bars */
    const char *oi_exchange;      /* NULL = same exchange as the bars */
    int64_t funding_max_age_ms;   /* default 9 h: a missed settlement shows as NaN, not stale */
    int64_t oi_max_age_ms;        /* default 0 = 2 bars (bar duration * 2) */
} kz_load_opts;

kz_load_opts kz_load_opts_default(void);

/* Load bars of [from_ms, to_ms) plus FR and OI aligned as-of onto them (see kz_align_asof) into
 * `out` (zero it first; free with kz_market_free). Series with no rows leave funding/oi NULL.
 * `opts` may be NULL for defaults. KZ_ERR_NOT_FOUND if there are no bars. */
KZ_NODISCARD kz_status kz_store_load_market(kz_store *st, const char *exchange, const char *symbol,
                                            kz_timeframe tf, int64_t from_ms, int64_t to_ms,
                                            const kz_load_opts *opts, kz_market *out);

/* One stored series and its coverage. */
typedef struct kz_coverage {
    kz_data_kind kind;
    char exchange[32];
    char symbol[32];
    kz_timeframe tf; /* bars only; KZ_TF_COUNT for FR/OI */
    int64_t first_ms, last_ms;
    size_t count;
    size_t n_gaps;    /* bars only: runs of missing bars */
    size_t n_missing; /* bars only: missing bars inside [first, last] */
} kz_coverage;

/* All stored series, sorted by kind, exchange, symbol, timeframe. *rows is allocated with
 * kz_malloc (free with kz_free); *n may be 0 (then *rows is NULL). */
KZ_NODISCARD kz_status kz_store_coverage(kz_store *st, kz_coverage **rows, size_t *n);

/* Timestamp of the newest stored row of a series, KZ_ERR_NOT_FOUND if empty. tf is ignored for
 * FR/OI. */
KZ_NODISCARD kz_status kz_store_last_ts(kz_store *st, kz_data_kind kind, const char *exchange,
                                        const char *symbol, kz_timeframe tf, int64_t *out_ms);

#ifdef __cplusplus
}
#endif
#endif
