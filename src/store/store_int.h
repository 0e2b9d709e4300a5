/* Store internals shared with benchmarks: the plain-replace baseline of the bars upsert.
 * Not part of the public API. */
#ifndef KZ_STORE_INT_H
#define KZ_STORE_INT_H

#include "kizashi/store.h"

/* Current schema version (the length of the migration list in store.c). */
#define KZ_STORE_SCHEMA_VERSION 1

/* Baseline for bench_import: the same transaction and prepared-statement loop as
 * kz_store_put_bars, but a plain `INSERT OR REPLACE` with no change detection and no counting
 * (every row is reported as inserted). Lets the benchmark price the change detection. */
KZ_NODISCARD kz_status kz_store_put_bars_replace(kz_store *st,
                                                 const char *exchange,
                                                 const char *symbol,
                                                 kz_timeframe tf,
                                                 const kz_bars *bars,
                                                 kz_upsert_stats *stats);

#endif
