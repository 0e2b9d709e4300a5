/* Internal declarations shared by the files of src/ta/ (not installed). */
#ifndef KZ_TA_INT_H
#define KZ_TA_INT_H

#include <math.h>
#include <stddef.h>

#include "kizashi/core.h"
#include "kizashi/ta.h"

/* Registry groups: each group file defines its table (sorted by name) and count. registry.c
 * concatenates them in this order: overlap, momentum, volatility, volume, cycle, statistic,
 * price, math, pattern. A group with no entry yet defines table = NULL, count = 0. */
extern const kz_ta_info *const kz_ta_overlap_table;
extern const size_t kz_ta_overlap_count;
extern const kz_ta_info *const kz_ta_momentum_table;
extern const size_t kz_ta_momentum_count;
extern const kz_ta_info
    *const kz_ta_volatility_table; /* volatility + volume + statistic + price + math */
extern const size_t kz_ta_volatility_count;
extern const kz_ta_info *const kz_ta_cycle_table; /* HT_* and candlestick patterns */
extern const size_t kz_ta_cycle_count;

/* ---- moving averages of any TA-Lib MA type (implemented in overlap.c), used by every indicator
 * with a matype parameter (MACDEXT, STOCH, BBANDS, APO, PPO, ADOSC, STOCHRSI, ...).
 * in[0..n) -> out[0..n) with NaN for i < lookback. `work` holds kz_ta_ma_work(n, period, type)
 * doubles. Lookback equals TA-Lib's TA_MA_Lookback(period, type) (MAMA: fast 0.5, slow 0.05;
 * T3: vfactor 0.7). `in` may contain leading NaNs: the MA then starts `lead` bars later, i.e.
 * it is computed on in[lead..n) and written to out[lead..n) (TA-Lib composes functions this
 * way: the inner output's begIdx offsets the outer call). */
int kz_ta_ma_lookback(int period, kz_matype type);
size_t kz_ta_ma_work(size_t n, int period, kz_matype type);
void kz_ta_ma(size_t n, const double *in, int period, kz_matype type, double *out, double *work);

/* ---- streaming moving averages (overlap_ma.c): the same operations as kz_ta_ma one value at a
 * time, so composite indicators can stream in O(1) and stay bit-identical to their batch kernel.
 * A state is kz_ta_ma_state_size(period, type) bytes (8-aligned; kz_ta_ma_work doubles). Leading
 * NaN inputs give NaN and do not start the average (the composition rule above); after the
 * first non-NaN input every input must be finite. */
size_t kz_ta_ma_state_size(int period, kz_matype type);
void kz_ta_ma_state_init(void *state, int period, kz_matype type);
/* T3 with an explicit volume factor; MAMA with explicit limits (size: kz_ta_ma_state_size(2,
 * KZ_MA_MAMA)). */
void kz_ta_ma_state_init_t3(void *state, int period, double vfactor);
void kz_ta_ma_state_init_mama(void *state, double fastlimit, double slowlimit);
/* Push one value, return the MA at this bar (NaN during warm-up). */
double kz_ta_ma_state_step(void *state, double x);
/* MAMA only: the FAMA of the last step (NaN during warm-up or for other types). */
double kz_ta_ma_state_fama(const void *state);
/* Push in[0..n) and write out[0..n) (and the FAMA into fama[] when not NULL); out may alias in.
 * kz_ta_ma(n, in, p, t, out, work) == kz_ta_ma_state_init(work, p, t) + kz_ta_ma_run(...). */
void kz_ta_ma_run(void *state, size_t n, const double *in, double *out, double *fama);

/* TA-Lib's true range (TRUE_RANGE in ta_utility.h): the largest of high-low, |high-prevClose|,
 * |low-prevClose|, compared in that order. Conditional moves, not branches: which term wins is
 * unpredictable bar to bar. (|prevClose-high| and |high-prevClose| are the same bits.) */
static inline double kz_ta_true_range(double high, double low, double prev_close)
{
    double greatest = high - low;
    double v = fabs(prev_close - high);
    greatest = v > greatest ? v : greatest;
    v = fabs(low - prev_close);
    return v > greatest ? v : greatest;
}

/* Fill out[0..k) with NaN (k clamped to n). */
static inline void kz_ta_nan_fill(double *out, size_t n, size_t k)
{
    if (k > n) {
        k = n;
    }
    for (size_t i = 0; i < k; i++) {
        out[i] = NAN;
    }
}

/* Doubles needed to hold `bytes` bytes (streaming states double as batch scratch). */
static inline size_t kz_ta_words(size_t bytes)
{
    return (bytes + sizeof(double) - 1) / sizeof(double);
}

/* Batch = the streaming state stepped over every bar, so both paths do the same floating-point
 * operations in the same order and agree bit for bit. static inline so that, called with a
 * file-local step function, the compiler inlines the step into the loop. */
static inline void kz_ta_drive(size_t n,
                               const double *const *in,
                               int n_in,
                               double *const *out,
                               int n_out,
                               void *state,
                               kz_ta_state_step_fn step)
{
    double x[KZ_TA_MAX_INPUTS];
    double y[KZ_TA_MAX_OUTPUTS];
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < n_in; k++) {
            x[k] = in[k][i];
        }
        step(state, x, y);
        for (int j = 0; j < n_out; j++) {
            out[j][i] = y[j];
        }
    }
}

#endif
