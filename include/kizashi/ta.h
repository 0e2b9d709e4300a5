/* kizashi technical analysis: rolling-window primitives (pandas semantics) and a TA-Lib-compatible
 * indicator library driven by one registry table, in batch and one bar at a time (streaming).
 * Thread contract: everything is reentrant; a kz_ta_stream belongs to one thread at a time. */
#ifndef KIZASHI_TA_H
#define KIZASHI_TA_H

#include "kizashi/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ rolling primitives
 * All take x[0..n), a window w >= 1 and write out[0..n) (caller-allocated, may not alias x unless
 * stated). NaN semantics follow pandas `rolling(w)` with min_periods = w: out[i] is NaN for
 * i < w-1 and whenever the window [i-w+1, i] contains a NaN. Errors: KZ_ERR_INVALID (w == 0, NULL
 * pointers, ddof >= w, q outside [0,1]), KZ_ERR_NOMEM (primitives that need a scratch buffer
 * allocate it once per call through kz_malloc; none allocates inside its loop). */
KZ_NODISCARD kz_status kz_roll_sum(const double *x, size_t n, size_t w, double *out);
KZ_NODISCARD kz_status kz_roll_mean(const double *x, size_t n, size_t w, double *out);
/* Variance / standard deviation with `ddof` (1 = sample, pandas default; 0 = population).
 * Numerically stable (Welford-style window update with periodic exact recomputation), so tiny
 * returns on prices ~1e5 do not cancel catastrophically. */
KZ_NODISCARD kz_status kz_roll_var(const double *x, size_t n, size_t w, int ddof, double *out);
KZ_NODISCARD kz_status kz_roll_std(const double *x, size_t n, size_t w, int ddof, double *out);
/* Min / max by monotonic deque, O(n). */
KZ_NODISCARD kz_status kz_roll_min(const double *x, size_t n, size_t w, double *out);
KZ_NODISCARD kz_status kz_roll_max(const double *x, size_t n, size_t w, double *out);
/* Absolute index (as double) of the min / max in the window; ties -> the most recent (TA-Lib). */
KZ_NODISCARD kz_status kz_roll_argmin(const double *x, size_t n, size_t w, double *out);
KZ_NODISCARD kz_status kz_roll_argmax(const double *x, size_t n, size_t w, double *out);
/* Quantile q in [0,1] with linear interpolation between order statistics (pandas 'linear'). */
KZ_NODISCARD kz_status kz_roll_quantile(const double *x, size_t n, size_t w, double q,
                                        double *out);
/* Pearson correlation of x and y over the window; NaN when either side has zero variance. */
KZ_NODISCARD kz_status kz_roll_corr(const double *x, const double *y, size_t n, size_t w,
                                    double *out);
/* OLS slope of the window's values against 0..w-1 (np.polyfit(deg=1)); w >= 2. */
KZ_NODISCARD kz_status kz_roll_slope(const double *x, size_t n, size_t w, double *out);
/* Mean absolute deviation about the window mean: mean(|x - mean(x)|). */
KZ_NODISCARD kz_status kz_roll_mad(const double *x, size_t n, size_t w, double *out);
/* pandas ewm(alpha).mean() with adjust=True, ignore_na=False, min_periods=0: out[i] is the
 * weighted mean of x[0..i] with weights (1-alpha)^(i-j); NaN inputs are skipped but still age the
 * weights (pandas' ignore_na=False); out[i] is NaN only until the first non-NaN value. 0<alpha<=1. */
KZ_NODISCARD kz_status kz_ewm_adjusted(const double *x, size_t n, double alpha, double *out);
/* Recursive EWM (adjust=False): y[0]=x[0], y[i]=alpha*x[i]+(1-alpha)*y[i-1]; NaN carries the
 * previous value forward (pandas ignore_na semantics for adjust=False). */
KZ_NODISCARD kz_status kz_ewm_recursive(const double *x, size_t n, double alpha, double *out);
/* x[i]/x[i-k] - 1. pad = 1: pandas' default fill_method='pad' (NaN inputs are forward-filled
 * before the ratio); pad = 0: NaN in, NaN out. out[i] = NaN for i < k. k >= 1. */
KZ_NODISCARD kz_status kz_pct_change(const double *x, size_t n, size_t k, int pad, double *out);
/* x[i] - x[i-k]; out[i] = NaN for i < k. k >= 1. */
KZ_NODISCARD kz_status kz_diff(const double *x, size_t n, size_t k, double *out);

/* ================================================================ indicator registry */
#define KZ_TA_MAX_INPUTS  5
#define KZ_TA_MAX_PARAMS  8
#define KZ_TA_MAX_OUTPUTS 3

/* Bar fields an indicator reads, in the order of kz_ta_info.inputs. */
typedef enum kz_ta_input { KZ_IN_OPEN, KZ_IN_HIGH, KZ_IN_LOW, KZ_IN_CLOSE, KZ_IN_VOLUME } kz_ta_input;

typedef enum kz_ta_param_type {
    KZ_PARAM_INT,    /* integer period or count */
    KZ_PARAM_REAL,   /* real factor */
    KZ_PARAM_MATYPE  /* TA-Lib MA type 0..8, see kz_matype */
} kz_ta_param_type;

/* TA-Lib moving-average types (optInMAType). */
typedef enum kz_matype {
    KZ_MA_SMA = 0,
    KZ_MA_EMA = 1,
    KZ_MA_WMA = 2,
    KZ_MA_DEMA = 3,
    KZ_MA_TEMA = 4,
    KZ_MA_TRIMA = 5,
    KZ_MA_KAMA = 6,
    KZ_MA_MAMA = 7,
    KZ_MA_T3 = 8
} kz_matype;

/* The value scale of an output, so a strategy search can draw thresholds that make sense. */
typedef enum kz_ta_scale {
    KZ_SCALE_PRICE,      /* a price overlay: compare with close, thresholds relative to close */
    KZ_SCALE_0_100,      /* bounded oscillator 0..100 (RSI, STOCH, MFI, ...) */
    KZ_SCALE_PM100,      /* bounded -100..100 (AROONOSC, CMO, WILLR is -100..0) */
    KZ_SCALE_UNBOUNDED,  /* zero-centred, unbounded (MACD, MOM, ROC, ...) */
    KZ_SCALE_RATIO,      /* ratio around 1 or 100 (ROCR, ROCR100) */
    KZ_SCALE_VOLUME,     /* volume-like cumulative (OBV, AD) */
    KZ_SCALE_PATTERN,    /* candlestick signal: -100, 0, 100 */
    KZ_SCALE_OTHER       /* anything else (HT_DCPERIOD in bars, angles in degrees, ...) */
} kz_ta_scale;

typedef struct kz_ta_param {
    const char *name; /* TA-Lib optIn name lower-cased as in TA-Lib's Python wrapper */
    kz_ta_param_type type;
    double def, min, max;        /* default and TA-Lib's valid range (validation) */
    double search_min, search_max; /* the range a strategy search draws from (SPEC 6.4); 0,0 =
                                      use min..max */
} kz_ta_param;

/* Batch kernel: in[k] is the k-th input column (see info->inputs), params[] as in info->params
 * (already validated), out[j] the j-th output column (n values each, caller-allocated), `work`
 * scratch of info->work_size(n, params) doubles (NULL when that is 0). Writes NaN for i < lookback.
 * Never allocates. */
typedef void (*kz_ta_batch_fn)(size_t n, const double *const *in, const double *params,
                               double *const *out, double *work);
/* Number of leading bars with no output (TA-Lib's TA_XXX_Lookback). */
typedef int (*kz_ta_lookback_fn)(const double *params);
typedef size_t (*kz_ta_work_fn)(size_t n, const double *params);
/* Optional extra parameter rule (e.g. fast < slow); returns 0 if fine, else writes the message
 * into msg (size msg_size) and returns the index of the offending parameter + 1. */
typedef int (*kz_ta_check_fn)(const double *params, char *msg, size_t msg_size);
/* Optional O(1) streaming: state of state_size(params) bytes (8-aligned), init once, then one
 * step per closed bar with the bar's input values; writes the outputs (NaN during warm-up). */
typedef size_t (*kz_ta_state_size_fn)(const double *params);
typedef void (*kz_ta_state_init_fn)(void *state, const double *params);
typedef void (*kz_ta_state_step_fn)(void *state, const double *in, double *out);

/* Flags. */
#define KZ_TA_UNSTABLE 1u /* recursive: values depend on all history back to the seed (TA-Lib U) */

typedef struct kz_ta_info {
    const char *name;  /* TA-Lib function name, e.g. "BBANDS" */
    const char *group; /* "overlap", "momentum", "volatility", "volume", "cycle", "statistic",
                          "price", "math", "pattern" */
    const char *desc;
    int n_inputs;
    kz_ta_input inputs[KZ_TA_MAX_INPUTS];
    int n_params;
    kz_ta_param params[KZ_TA_MAX_PARAMS];
    int n_outputs;
    const char *outputs[KZ_TA_MAX_OUTPUTS]; /* TA-Lib Python wrapper names: "real", "upperband" */
    kz_ta_scale scales[KZ_TA_MAX_OUTPUTS];
    unsigned flags;
    kz_ta_lookback_fn lookback;
    kz_ta_batch_fn batch;
    kz_ta_work_fn work_size;       /* NULL = no scratch */
    kz_ta_check_fn check;          /* NULL = ranges only */
    kz_ta_state_size_fn state_size; /* NULL = generic streaming fallback (see kz_ta_stream_new) */
    kz_ta_state_init_fn state_init;
    kz_ta_state_step_fn state_step;
} kz_ta_info;

/* The registry: kz_ta_count() entries, stable order (by group, then name). Static storage. */
size_t kz_ta_count(void);
const kz_ta_info *kz_ta_at(size_t i);
/* Case-insensitive lookup by name; NULL if unknown. */
const kz_ta_info *kz_ta_find(const char *name);
/* Index of a parameter by name, -1 if none. */
int kz_ta_param_index(const kz_ta_info *info, const char *param_name);

/* Fill params[0..n_params) with defaults. */
void kz_ta_defaults(const kz_ta_info *info, double *params);
/* Validate params: finite, within [min, max], integral where INT/MATYPE, plus info->check.
 * KZ_ERR_INVALID with err->field = the parameter's name. */
KZ_NODISCARD kz_status kz_ta_params_check(const kz_ta_info *info, const double *params,
                                          kz_error *err);
/* Lookback for valid params. */
int kz_ta_lookback(const kz_ta_info *info, const double *params);

/* Batch run on n bars: validates params and inputs (NaN or inf input -> KZ_ERR_INVALID naming the
 * input and bar), allocates scratch once, calls the kernel. out[j] has n slots each. n < lookback
 * is fine (all NaN). */
KZ_NODISCARD kz_status kz_ta_run(const kz_ta_info *info, size_t n, const double *const *in,
                                 const double *params, double *const *out, kz_error *err);

/* One indicator of a kz_ta_run_many call. */
typedef struct kz_ta_request {
    const kz_ta_info *info;
    const double *params; /* info->n_params values (kz_ta_defaults gives the defaults) */
    double *const *out;   /* info->n_outputs arrays of n slots each, written */
} kz_ta_request;

/* Run several indicators on the same n bars. bars[KZ_IN_OPEN .. KZ_IN_VOLUME] are the columns; a
 * column that no request reads may be NULL. Every output equals what kz_ta_run gives for that
 * request, bit for bit; the differences are cost only: each input column is validated once, the
 * scratch is allocated once, and indicators that share a kernel compute it once (the HT_*
 * functions of one warm-up class share their Hilbert transform). All parameters, outputs and
 * inputs are checked before any output is written. Errors: KZ_ERR_INVALID naming the request
 * (message "NAME: ...", err->field = the parameter or input at fault), KZ_ERR_NOMEM. Borrowed
 * pointers only; nothing is retained. */
KZ_NODISCARD kz_status kz_ta_run_many(size_t n, const double *const *bars,
                                      const kz_ta_request *req, size_t count, kz_error *err);

/* Streaming: push closed bars one at a time; the outputs after bar t equal the batch outputs at
 * t. Indicators with state_* functions update in O(1); the others keep the history and recompute
 * (documented per indicator by kz_ta_stream_is_o1). */
typedef struct kz_ta_stream kz_ta_stream;
KZ_NODISCARD kz_status kz_ta_stream_new(const kz_ta_info *info, const double *params,
                                        kz_ta_stream **out, kz_error *err);
/* in: the bar's n_inputs values in info->inputs order; out: n_outputs values (written). */
KZ_NODISCARD kz_status kz_ta_stream_push(kz_ta_stream *s, const double *in, double *out);
int kz_ta_stream_is_o1(const kz_ta_stream *s);
void kz_ta_stream_free(kz_ta_stream *s);

#ifdef __cplusplus
}
#endif
#endif
