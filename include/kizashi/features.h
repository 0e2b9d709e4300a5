/* kizashi feature engine: the SPEC §1 feature set (with kizashi's fixes, docs/features.md) plus
 * time and multi-timeframe groups, as a float32 column-major frame, in batch, one bar at a time
 * (streaming, same values bit for bit) and through a content-keyed LRU cache.
 * Thread contract: kz_features_compute is reentrant; a kz_frame may be read from many threads; a
 * kz_feature_state or kz_feature_cache belongs to one thread at a time. */
#ifndef KIZASHI_FEATURES_H
#define KIZASHI_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/market.h"
#include "kizashi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- frame */
/* A named float32 frame: n_rows x n_cols, column-major, with one int64 timestamp per row (the
 * bar's open time, ms UTC). NaN = missing. Opaque; free with kz_frame_free. */
typedef struct kz_frame kz_frame;

/* Returned by kz_frame_find for an unknown name. */
#define KZ_FRAME_NPOS ((size_t)-1)

/* A new frame with every cell NaN. names[j] (n_cols strings) and ts (n_rows values, may be NULL
 * = all 0) are copied. KZ_ERR_INVALID (NULL names, empty or duplicate name), KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_frame_new(
    size_t n_rows, size_t n_cols, const char *const *names, const int64_t *ts, kz_frame **out);
/* Deep copy. */
KZ_NODISCARD kz_status kz_frame_copy(const kz_frame *f, kz_frame **out);
void kz_frame_free(kz_frame *f);

size_t kz_frame_n_rows(const kz_frame *f);
size_t kz_frame_n_cols(const kz_frame *f);
/* Column j (view, n_rows values, valid until kz_frame_free); NULL if j >= n_cols. */
const float *kz_frame_col(const kz_frame *f, size_t j);
/* Writable column j, for code that builds frames (model inputs, tests); NULL if out of range. */
float *kz_frame_col_mut(kz_frame *f, size_t j);
/* Name of column j (view); NULL if out of range. */
const char *kz_frame_name(const kz_frame *f, size_t j);
/* Index of the column called `name`, or KZ_FRAME_NPOS. */
size_t kz_frame_find(const kz_frame *f, const char *name);
/* Row timestamps (view, n_rows values). */
const int64_t *kz_frame_ts(const kz_frame *f);
/* Bytes held by the frame (cells, timestamps, names): what a cache entry costs. */
size_t kz_frame_bytes(const kz_frame *f);

/* ---------------------------------------------------------------- groups and listing */
typedef enum kz_feature_group {
    KZ_FG_PRICE,
    KZ_FG_VOLATILITY,
    KZ_FG_VOLUME,
    KZ_FG_FUNDING,       /* needs funding rate */
    KZ_FG_OPEN_INTEREST, /* needs open interest */
    KZ_FG_COMPOSITE,     /* needs both */
    KZ_FG_REGIME,
    KZ_FG_MOMENTUM,
    KZ_FG_PATTERN,
    KZ_FG_TIME,
    KZ_FG_MTF,
    KZ_FG_COUNT
} kz_feature_group;

#define KZ_FG_BIT(g) (1u << (unsigned)(g))
#define KZ_FG_ALL    ((1u << (unsigned)KZ_FG_COUNT) - 1u)

/* "price", "volatility", ..., "open_interest", ..., "mtf"; "?" for an invalid value. */
const char *kz_feature_group_str(kz_feature_group g);
/* Parse a comma-separated list of group names (or "all") into a bitmask of KZ_FG_BIT().
 * KZ_ERR_INVALID naming the unknown group in err (field "groups"). */
KZ_NODISCARD kz_status kz_feature_groups_parse(const char *list, unsigned *mask, kz_error *err);
/* Write the names of the groups in `mask`, comma-separated ("" for none), into buf (always
 * NUL-terminated, truncated to size). Returns buf. */
char *kz_feature_groups_format(unsigned mask, char *buf, size_t size);

/* One row of the feature registry (static storage). */
typedef struct kz_feature_info {
    const char *name; /* column name, e.g. "Realized_Volatility_20" */
    kz_feature_group group;
    const char *formula; /* short formula in the notation of docs/features.md */
    const char *window;  /* bars a value depends on, in lookback symbols: "v+1", "l", "all" */
    const char *inputs;  /* "O,H,L,C,V,FR,OI,timestamp" subset, e.g. "H,L,C" */
} kz_feature_info;

/* Number of features in the full set (94), in the fixed column order of docs/features.md. */
size_t kz_features_count(void);
/* Feature i (NULL if i >= kz_features_count()). */
const kz_feature_info *kz_feature_at(size_t i);

/* ---------------------------------------------------------------- parameters */
typedef struct kz_feature_params {
    int short_ma;    /* s: MA_10 window (default 10), 1..10000 */
    int long_ma;     /* l: MA_50 window (default 50), 1..10000 */
    int volatility;  /* v: realized volatility, ATR, HH/LL windows (default 20), 3..10000 */
    int momentum;    /* m: Price_Momentum_14 lag (default 14), 1..10000 */
    int volume;      /* vol: volume windows (default 20), 1..10000 */
    unsigned groups; /* KZ_FG_BIT() mask of the groups to compute (default KZ_FG_ALL), non-zero */
} kz_feature_params;

kz_feature_params kz_feature_params_default(void);
/* KZ_ERR_INVALID with the field named in err. */
KZ_NODISCARD kz_status kz_feature_params_check(const kz_feature_params *p, kz_error *err);

/* Number of columns a params' group selection yields, and the registry index of column j of
 * such a frame (columns are the selected groups' features, in registry order). */
size_t kz_features_n_cols(const kz_feature_params *p);
size_t kz_features_col_index(const kz_feature_params *p, size_t j);

/* ---------------------------------------------------------------- batch */
/* What a computation found. */
typedef struct kz_feature_report {
    size_t n_rows;
    size_t n_cols;
    /* KZ_FG_BIT() mask of selected groups whose input series is absent from the market
     * (funding: m->funding == NULL; open_interest: m->oi == NULL; composite: either). Their
     * columns are present and entirely NaN (the column set never depends on the data). */
    unsigned groups_no_input;
    int cache_hit; /* 1 if kz_feature_cache_compute served the frame from the cache */
} kz_feature_report;

/* Compute the selected groups' features for every bar of `m` (borrowed) into a new frame
 * (*out, owned by the caller). p may be NULL (defaults). Columns: the selected groups' features
 * in registry order (an unselected group contributes no column). Row t depends only on bars
 * [0..t] (no look-ahead). Values are computed in double; ±inf and |x| > 1e10 become NaN; NaN
 * stays NaN. rep and err are optional. Errors: KZ_ERR_INVALID (NULL m/out, bad params),
 * KZ_ERR_VALIDATION (timestamps not strictly increasing; err names the row), KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_features_compute(const kz_market *m,
                                           const kz_feature_params *p,
                                           kz_frame **out,
                                           kz_feature_report *rep,
                                           kz_error *err);

/* ---------------------------------------------------------------- streaming */
/* One closed bar at a time, O(1) amortised per bar; row t equals the batch row t bit for bit.
 * Opaque; free with kz_feature_state_free. */
typedef struct kz_feature_state kz_feature_state;

/* has_funding / has_oi say whether the FR / OI series exist (as m->funding / m->oi != NULL in
 * batch): without them those groups' columns are NaN, with them an unknown value (NaN) is
 * treated as the batch treats it. p may be NULL (defaults). KZ_ERR_INVALID, KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_feature_state_new(const kz_feature_params *p,
                                            kz_timeframe tf,
                                            int has_funding,
                                            int has_oi,
                                            kz_feature_state **out,
                                            kz_error *err);
void kz_feature_state_free(kz_feature_state *s);
/* Columns of a row (= kz_features_n_cols(p)). */
size_t kz_feature_state_n_cols(const kz_feature_state *s);
/* Push one closed bar: ts_ms = its open time (strictly after the previous bar's), OHLCV, and the
 * funding rate / open interest aligned as-of for this bar (kz_align_asof; NaN = unknown, ignored
 * when the state was made without that series). Writes n_cols values to row_out (written).
 * KZ_ERR_INVALID (NULL, ts_ms not increasing; the state is unchanged). */
KZ_NODISCARD kz_status kz_feature_state_push(kz_feature_state *s,
                                             int64_t ts_ms,
                                             double open,
                                             double high,
                                             double low,
                                             double close,
                                             double volume,
                                             double funding,
                                             double oi,
                                             float *row_out);

/* ---------------------------------------------------------------- cache */
/* LRU cache of computed frames, bounded by bytes (kz_frame_bytes). The key is an XXH64 hash of
 * the input CONTENTS (timeframe, timestamps, OHLCV, FR and OI arrays with their presence) and of
 * the parameters, never of shapes. A hit returns a deep COPY the caller owns and frees (the
 * cache keeps its own), so callers never share mutable state with the cache. */
typedef struct kz_feature_cache kz_feature_cache;

typedef struct kz_feature_cache_stats {
    uint64_t hits, misses, evictions;
    size_t entries, bytes, max_bytes;
} kz_feature_cache_stats;

/* max_bytes > 0. A frame larger than max_bytes is computed and returned but not kept. */
KZ_NODISCARD kz_status kz_feature_cache_new(size_t max_bytes, kz_feature_cache **out);
void kz_feature_cache_free(kz_feature_cache *c);
/* kz_features_compute through the cache (same contract; rep->cache_hit says which). */
KZ_NODISCARD kz_status kz_feature_cache_compute(kz_feature_cache *c,
                                                const kz_market *m,
                                                const kz_feature_params *p,
                                                kz_frame **out,
                                                kz_feature_report *rep,
                                                kz_error *err);
void kz_feature_cache_stats_get(const kz_feature_cache *c, kz_feature_cache_stats *out);
/* Drop every entry (counters are kept). */
void kz_feature_cache_clear(kz_feature_cache *c);

#ifdef __cplusplus
}
#endif
#endif
