/* kizashi ML indicator facade: per-bar ML_DOWN_PROB / ML_RANGE_PROB / ML_UP_PROB columns from a
 * model (a .kzm file or a caller's loaded kz_model), in batch over a market or one closed bar at a
 * time, that never fail the caller and never hide a fallback (docs/signals.md).
 * Thread contract: a kz_signals (and the model it holds or borrows) and its streams are used from
 * one thread at a time; different kz_signals objects may run in different threads at once (no
 * signals, no globals: the deadline is cooperative). */
#ifndef KIZASHI_SIGNALS_H
#define KIZASHI_SIGNALS_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/features.h"
#include "kizashi/market.h"
#include "kizashi/model.h"
#include "kizashi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Column names, in the model's class order {down, range, up}. */
#define KZ_SIGNAL_COL_DOWN  "ML_DOWN_PROB"
#define KZ_SIGNAL_COL_RANGE "ML_RANGE_PROB"
#define KZ_SIGNAL_COL_UP    "ML_UP_PROB"

/* Name of class c's column (KZ_CLASS_DOWN..KZ_CLASS_UP); NULL out of range. Static string. */
const char *kz_signal_column_name(int c);

/* Why values are fallbacks. KZ_SIGNAL_OK = every value is the model's prediction. */
typedef enum kz_signal_reason {
    KZ_SIGNAL_OK,
    KZ_SIGNAL_NO_MODEL,         /* no path and no model were given */
    KZ_SIGNAL_LOAD_FAILED,      /* the .kzm could not be loaded (missing, corrupt, newer format) */
    KZ_SIGNAL_FEATURE_MISMATCH, /* the model's inputs cannot be produced for this data */
    KZ_SIGNAL_FEATURE_ERROR,    /* the feature engine refused the bars (order, bad values) */
    KZ_SIGNAL_BOOSTER_ERROR,    /* the booster failed to predict */
    KZ_SIGNAL_DEADLINE,         /* the cooperative deadline passed */
    KZ_SIGNAL_MEMORY_BUDGET,    /* the run would need more than max_bytes */
    KZ_SIGNAL_NOMEM,            /* an allocation failed */
    KZ_SIGNAL_INVALID_PROB,     /* a row's probabilities failed validation */
    KZ_SIGNAL_REASON_COUNT
} kz_signal_reason;

/* "ok", "no_model", "load_failed", "feature_mismatch", "feature_error", "booster_error",
 * "deadline", "memory_budget", "nomem", "invalid_prob"; "?" for an invalid value. */
const char *kz_signal_reason_str(kz_signal_reason r);

/* 1 if p is a valid probability triple: each finite and in [0, 1], sum within 1 +- 1e-6. */
int kz_signal_probs_valid(const double p[KZ_N_CLASSES]);

/* Called with each block of fresh predictions (rows [begin, begin + n) of the run, n x 3
 * row-major) BEFORE they are validated; it may change them. For tests (invalid probabilities)
 * and instrumentation. In streaming mode begin is the bar's index in the stream and n is 1. */
typedef void (*kz_signal_tap_fn)(double *prob, size_t begin, size_t n, void *ud);

/* A clock in seconds: kz_monotonic_s by default; injectable so tests can expire a deadline at a
 * chosen check. */
typedef double (*kz_signal_clock_fn)(void *ud);

typedef struct kz_signal_params {
    /* Absolute deadline on the clock (kz_monotonic_s() + budget); 0 (default) = none. Checked
     * before the features, after them and before each prediction chunk (and before each
     * streaming prediction): bars not predicted by then get the fallback. */
    double deadline_s;
    /* Memory budget in bytes for a batch run's working buffers (features, one chunk's model input
     * and probabilities; docs/signals.md gives the estimate), checked before allocating; 0
     * (default) = none. Streams are not budgeted: their memory is fixed at creation. */
    size_t max_bytes;
    size_t chunk_rows; /* rows per prediction chunk, >= 1 (default 8192) */
    /* 1: run a model whose funding / open-interest features have no input series in the data
     * (those columns are all NaN: missing to the booster). 0 (default): that is a
     * KZ_SIGNAL_FEATURE_MISMATCH, since the model never saw such inputs in training. */
    int allow_missing_inputs;
    kz_feature_cache *cache; /* optional (borrowed): batch features go through it */
    kz_signal_tap_fn tap;    /* optional, see above */
    void *tap_ud;
    kz_signal_clock_fn clock; /* optional, see above */
    void *clock_ud;
} kz_signal_params;

kz_signal_params kz_signal_params_default(void);

/* What a run (or one streaming bar) produced. */
typedef struct kz_signal_report {
    int fallback;            /* 1 if any bar holds fallback values */
    kz_signal_reason reason; /* why (the first reason met); KZ_SIGNAL_OK if fallback == 0 */
    size_t n_bars;           /* bars written */
    size_t n_fallback;       /* of them holding fallback values */
    size_t n_invalid;        /* of those, rows whose prediction failed validation */
    /* The fallback triple: the model's training class priors when known (priors_known = 1,
     * kz_model_class_priors), else 1/3 each. Streams fall back to the last good prediction
     * first (see kz_signal_stream_push). */
    double fallback_prob[KZ_N_CLASSES];
    int priors_known;
    unsigned groups_no_input; /* KZ_FG_BIT() mask of feature groups without input data */
    kz_error detail;          /* the underlying error (code, field, message); code KZ_OK if none */
} kz_signal_report;

/* ---------------------------------------------------------------- the facade object */
/* A model and the plan from its feature names to the feature engine's columns. Opaque. */
typedef struct kz_signals kz_signals;

/* From a .kzm file. A missing, unreadable or corrupt file is NOT an error: the object is made in
 * the KZ_SIGNAL_LOAD_FAILED state (path NULL or "": KZ_SIGNAL_NO_MODEL) and every run returns the
 * fallback with that reason. p may be NULL (defaults; copied). Errors: KZ_ERR_INVALID (out NULL,
 * bad params), KZ_ERR_NOMEM; *out is NULL then. */
KZ_NODISCARD kz_status kz_signals_open(const char *path,
                                       const kz_signal_params *p,
                                       kz_signals **out,
                                       kz_error *err);
/* From a loaded model (borrowed: it must outlive the object, e.g. a registry's active model);
 * NULL = KZ_SIGNAL_NO_MODEL. Same contract as kz_signals_open. */
KZ_NODISCARD kz_status kz_signals_new(kz_model *model,
                                      const kz_signal_params *p,
                                      kz_signals **out,
                                      kz_error *err);
void kz_signals_free(kz_signals *sig);

/* KZ_SIGNAL_OK if the model is usable, else the reason every run falls back (its detail in
 * detail, optional). */
kz_signal_reason kz_signals_state(const kz_signals *sig, kz_error *detail);
/* The model (view; NULL without one). */
kz_model *kz_signals_model(const kz_signals *sig);
/* Replace the deadline of later runs and streams' pushes (0 = none). */
void kz_signals_set_deadline(kz_signals *sig, double deadline_s);

/* Batch: probabilities for every bar of m (borrowed) into down, range, up (m->bars.n values
 * each, written). The value at bar t comes from the features of bar t alone (causal; warm-up
 * bars are predicted with NaN = missing). On any fallback the affected bars get the fallback
 * triple and rep says why and how many: the call still returns KZ_OK. rep optional. Errors
 * (nothing written): KZ_ERR_INVALID (NULL sig, m or outputs). */
KZ_NODISCARD kz_status kz_signals_compute(kz_signals *sig,
                                          const kz_market *m,
                                          double *down,
                                          double *range,
                                          double *up,
                                          kz_signal_report *rep);

/* ---------------------------------------------------------------- streaming */
/* One closed bar in, three probabilities out: feature state + single-row predict. Borrows sig. */
typedef struct kz_signal_stream kz_signal_stream;

/* has_funding / has_oi: whether funding rate / open interest will be fed (see
 * kz_feature_state_new). A model that cannot run on these inputs makes a stream in the fallback
 * state (KZ_SIGNAL_FEATURE_MISMATCH, unless allow_missing_inputs). Errors: KZ_ERR_INVALID (NULL
 * sig or out), KZ_ERR_NOMEM; *out is NULL then. */
KZ_NODISCARD kz_status kz_signal_stream_new(kz_signals *sig,
                                            kz_timeframe tf,
                                            int has_funding,
                                            int has_oi,
                                            kz_signal_stream **out,
                                            kz_error *err);
void kz_signal_stream_free(kz_signal_stream *s);
/* Push one closed bar (as kz_feature_state_push: ts_ms strictly increasing, funding / oi aligned
 * as-of, NaN = unknown) and write its probabilities to prob (written). The fallback is the last
 * good prediction of this stream, else the priors / 1/3 triple; rep (optional) describes this bar
 * (n_bars 1). The bar still advances the feature state when the prediction falls back, so later
 * bars are right. Returns KZ_OK, or KZ_ERR_INVALID (NULL s/prob; ts_ms not increasing: the bar is
 * ignored, prob = the fallback, reason KZ_SIGNAL_FEATURE_ERROR). */
KZ_NODISCARD kz_status kz_signal_stream_push(kz_signal_stream *s,
                                             int64_t ts_ms,
                                             double open,
                                             double high,
                                             double low,
                                             double close,
                                             double volume,
                                             double funding,
                                             double oi,
                                             double prob[KZ_N_CLASSES],
                                             kz_signal_report *rep);
/* Totals since creation (n_bars = bars pushed; reason = the latest fallback's). */
void kz_signal_stream_report(const kz_signal_stream *s, kz_signal_report *rep);

#ifdef __cplusplus
}
#endif
#endif
