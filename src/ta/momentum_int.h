/* Declarations shared by the momentum group files (momentum*.c): kernels, lookbacks and O(1)
 * streaming states that the registry table in momentum.c points to. Not installed. */
#ifndef KZ_MOMENTUM_INT_H
#define KZ_MOMENTUM_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ta_int.h"

/* TA-Lib's TA_IS_ZERO / TA_IS_ZERO_OR_NEG (ta_func.h): values within 1e-8 of zero count as zero. */
#define KZ_MOM_IS_ZERO(v)        (((-0.00000001) < (v)) && ((v) < 0.00000001))
#define KZ_MOM_IS_ZERO_OR_NEG(v) ((v) < 0.00000001)

/* Integer parameter k (validated as integral by the registry). */
static inline int kz_mom_period(const double *params, int k)
{
    return (int)params[k];
}

/* a + b, saturating at SIZE_MAX so that an absurd scratch request fails in kz_malloc_array
 * instead of wrapping around. */
static inline size_t kz_mom_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Defines the batch kernel and the scratch size of an indicator whose batch is its streaming
 * state run over the series (NAME_state_size/_init/_step must exist). */
#define KZ_MOM_STATE_BATCH(NAME, N_IN, N_OUT)                                                      \
    size_t NAME##_work(size_t n, const double *params)                                             \
    {                                                                                              \
        (void)n;                                                                                   \
        return kz_ta_words(NAME##_state_size(params));                                             \
    }                                                                                              \
    void NAME##_batch(size_t n, const double *const *in, const double *params, double *const *out, \
                      double *work)                                                                \
    {                                                                                              \
        NAME##_state_init(work, params);                                                           \
        kz_ta_drive(n, in, N_IN, out, N_OUT, work, NAME##_state_step);                             \
    }

/* The same for a fixed-size state TYPE, run in a local variable rather than in `work` (scratch 0):
 * STEP (a static inline step of the file) inlines into the loop, and the running sums then stay
 * in registers instead of making a store-to-load round trip through memory every bar (Wilder's
 * and the EMAs' recursions are latency-bound: that round trip was a third of RSI's time). */
#define KZ_MOM_LOCAL_BATCH(NAME, TYPE, STEP, N_IN, N_OUT)                                          \
    size_t NAME##_work(size_t n, const double *params)                                             \
    {                                                                                              \
        (void)n;                                                                                   \
        (void)params;                                                                              \
        return 0;                                                                                  \
    }                                                                                              \
    void NAME##_batch(size_t n, const double *const *in, const double *params, double *const *out, \
                      double *work)                                                                \
    {                                                                                              \
        (void)work;                                                                                \
        TYPE state;                                                                                \
        NAME##_state_init(&state, params);                                                         \
        kz_ta_drive(n, in, N_IN, out, N_OUT, &state, STEP);                                        \
    }

/* ---- RSI / CMO engine, shared with STOCHRSI.
 * Wilder (1978): the first average gain/loss is the simple mean of the first `p` changes, then
 * avg = (avg*(p-1) + change)/p. TA-Lib ta_RSI.c / ta_CMO.c (default compatibility, unstable period
 * 0) do exactly these operations; the first value sits on bar p. */
typedef struct kz_mom_gl {
    int p;
    int64_t t;
    double prev, gain, loss;
} kz_mom_gl;

static inline void kz_mom_gl_init(kz_mom_gl *s, int p)
{
    memset(s, 0, sizeof *s);
    s->p = p;
}

/* Feeds one value; returns 1 once gain/loss hold the Wilder averages for this bar. */
static inline int kz_mom_gl_step(kz_mom_gl *s, double x)
{
    int64_t t = s->t++;
    if (t == 0) {
        s->prev = x;
        return 0;
    }
    double d = x - s->prev;
    s->prev = x;
    if (t > s->p) {
        s->loss *= (double)(s->p - 1);
        s->gain *= (double)(s->p - 1);
    }
    /* Branch-free on purpose (the sign of a price change is a coin flip for the predictor).
     * Adding +0.0 to the other side leaves it bit-identical: gain and loss are sums of
     * non-negative terms, never -0.0. */
    s->gain += d > 0 ? d : 0.0;
    s->loss += d < 0 ? -d : 0.0;
    if (t < s->p) {
        return 0;
    }
    s->loss /= (double)s->p;
    s->gain /= (double)s->p;
    return 1;
}

static inline double kz_mom_rsi_value(const kz_mom_gl *s)
{
    double sum = s->gain + s->loss;
    return KZ_MOM_IS_ZERO(sum) ? 0.0 : 100.0 * (s->gain / sum);
}

/* Declarations of one indicator's functions. */
#define KZ_MOM_DECLARE_KERNEL(NAME)                                                                \
    int NAME##_lookback(const double *params);                                                     \
    size_t NAME##_work(size_t n, const double *params);                                            \
    void NAME##_batch(size_t n, const double *const *in, const double *params, double *const *out, \
                      double *work)
#define KZ_MOM_DECLARE_STATE(NAME)                                                                 \
    KZ_MOM_DECLARE_KERNEL(NAME);                                                                   \
    size_t NAME##_state_size(const double *params);                                                \
    void NAME##_state_init(void *state, const double *params);                                     \
    void NAME##_state_step(void *state, const double *in, double *out)

/* momentum_wilder.c: Wilder-smoothed indicators (RSI, CMO, the directional movement family, MFI).
 */
KZ_MOM_DECLARE_STATE(kz_mom_rsi);
KZ_MOM_DECLARE_STATE(kz_mom_cmo);
KZ_MOM_DECLARE_STATE(kz_mom_adx);
KZ_MOM_DECLARE_STATE(kz_mom_adxr);
KZ_MOM_DECLARE_STATE(kz_mom_dx);
KZ_MOM_DECLARE_STATE(kz_mom_plus_di);
KZ_MOM_DECLARE_STATE(kz_mom_minus_di);
KZ_MOM_DECLARE_STATE(kz_mom_plus_dm);
KZ_MOM_DECLARE_STATE(kz_mom_minus_dm);
KZ_MOM_DECLARE_STATE(kz_mom_mfi);

/* momentum_osc.c: windowed oscillators. */
KZ_MOM_DECLARE_STATE(kz_mom_mom);
KZ_MOM_DECLARE_STATE(kz_mom_roc);
KZ_MOM_DECLARE_STATE(kz_mom_rocp);
KZ_MOM_DECLARE_STATE(kz_mom_rocr);
KZ_MOM_DECLARE_STATE(kz_mom_rocr100);
KZ_MOM_DECLARE_STATE(kz_mom_bop);
KZ_MOM_DECLARE_STATE(kz_mom_cci);
KZ_MOM_DECLARE_STATE(kz_mom_willr);
KZ_MOM_DECLARE_STATE(kz_mom_aroon);
KZ_MOM_DECLARE_STATE(kz_mom_aroonosc);
KZ_MOM_DECLARE_STATE(kz_mom_ultosc);
KZ_MOM_DECLARE_STATE(kz_mom_stoch);
KZ_MOM_DECLARE_STATE(kz_mom_stochf);
KZ_MOM_DECLARE_STATE(kz_mom_stochrsi);

/* momentum_ma.c: moving-average based oscillators. */
KZ_MOM_DECLARE_STATE(kz_mom_macd);
KZ_MOM_DECLARE_STATE(kz_mom_macdfix);
KZ_MOM_DECLARE_STATE(kz_mom_trix);
KZ_MOM_DECLARE_STATE(kz_mom_macdext);
KZ_MOM_DECLARE_STATE(kz_mom_apo);
KZ_MOM_DECLARE_STATE(kz_mom_ppo);

/* Address `off` bytes into a state (composite states place MA sub-states after their header). */
static inline void *kz_mom_at(void *state, size_t off)
{
    return (char *)state + off;
}

#endif
