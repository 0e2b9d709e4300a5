/* Windowed momentum oscillators, TA-Lib 0.6.4 exact: MOM, ROC, ROCP, ROCR, ROCR100, BOP, CCI,
 * WILLR, AROON, AROONOSC, ULTOSC, STOCH, STOCHF, STOCHRSI. The highest high / lowest low of
 * WILLR, AROON* and STOCH* come from extreme_int.h: TA-Lib (ta_WILLR.c, ta_AROON.c,
 * ta_STOCHF.c) keeps the extreme and its bar, rescans the window when that bar leaves it, and
 * gives ties to the most recent bar (>= / <=), which is extreme_int.h's "latest" rule. The
 * streams feed that engine one bar at a time, the batch kernels a chunk at a time, and both share
 * the rest of the arithmetic. */
#include <math.h>
#include <string.h>

#include "extreme_int.h"
#include "momentum_int.h"

/* ================================================================ MOM and the ROC family
 * TA-Lib ta_MOM.c / ta_ROC*.c: compare x[t] with x[t-p]; a zero x[t-p] gives 0. */
typedef enum roc_kind { K_MOM, K_ROC, K_ROCP, K_ROCR, K_ROCR100 } roc_kind;

typedef struct roc_state {
    int p;
    roc_kind kind;
    int64_t t;
    double ring[]; /* x of the last p bars, slot t % p */
} roc_state;

static double roc_value(roc_kind kind, double x, double old)
{
    if (kind == K_MOM) {
        return x - old;
    }
    if (old == 0.0) {
        return 0.0;
    }
    switch (kind) {
    case K_ROC:
        return ((x / old) - 1.0) * 100.0;
    case K_ROCP:
        return (x - old) / old;
    case K_ROCR:
        return x / old;
    default:
        return (x / old) * 100.0;
    }
}

static size_t roc_size(const double *params)
{
    return sizeof(roc_state) + (size_t)kz_mom_period(params, 0) * sizeof(double);
}

static void roc_init(void *state, const double *params, roc_kind kind)
{
    roc_state *s = state;
    memset(s, 0, roc_size(params));
    s->p = kz_mom_period(params, 0);
    s->kind = kind;
}

static void roc_step(void *state, const double *in, double *out)
{
    roc_state *s = state;
    size_t slot = (size_t)(s->t % s->p);
    out[0] = s->t >= s->p ? roc_value(s->kind, in[0], s->ring[slot]) : NAN;
    s->ring[slot] = in[0];
    s->t++;
}

#define ROC_ENTRY(NAME, KIND)                                                                      \
    int NAME##_lookback(const double *params)                                                      \
    {                                                                                              \
        return kz_mom_period(params, 0);                                                           \
    }                                                                                              \
    size_t NAME##_state_size(const double *params)                                                 \
    {                                                                                              \
        return roc_size(params);                                                                   \
    }                                                                                              \
    void NAME##_state_init(void *state, const double *params)                                      \
    {                                                                                              \
        roc_init(state, params, KIND);                                                             \
    }                                                                                              \
    void NAME##_state_step(void *state, const double *in, double *out)                             \
    {                                                                                              \
        roc_step(state, in, out);                                                                  \
    }                                                                                              \
    KZ_MOM_STATE_BATCH(NAME, 1, 1)

ROC_ENTRY(kz_mom_mom, K_MOM)
ROC_ENTRY(kz_mom_roc, K_ROC)
ROC_ENTRY(kz_mom_rocp, K_ROCP)
ROC_ENTRY(kz_mom_rocr, K_ROCR)
ROC_ENTRY(kz_mom_rocr100, K_ROCR100)

/* ================================================================ BOP
 * Balance of Power (Livshin 2001), TA-Lib ta_BOP.c: (close-open)/(high-low), 0 when the range is
 * below 1e-8. Inputs open, high, low, close. */
typedef struct bop_state {
    int unused;
} bop_state;

int kz_mom_bop_lookback(const double *params)
{
    (void)params;
    return 0;
}

size_t kz_mom_bop_state_size(const double *params)
{
    (void)params;
    return sizeof(bop_state);
}

void kz_mom_bop_state_init(void *state, const double *params)
{
    (void)params;
    memset(state, 0, sizeof(bop_state));
}

void kz_mom_bop_state_step(void *state, const double *in, double *out)
{
    (void)state;
    double range = in[1] - in[2];
    out[0] = KZ_MOM_IS_ZERO_OR_NEG(range) ? 0.0 : (in[3] - in[0]) / range;
}

KZ_MOM_STATE_BATCH(kz_mom_bop, 4, 1)

/* ================================================================ CCI
 * Commodity Channel Index (Lambert 1980), TA-Lib ta_CCI.c: TP = (h+l+c)/3 in a circular buffer of
 * p slots (bar t in slot t % p); mean and mean absolute deviation are summed in slot order, as
 * TA-Lib does, so the rounding matches; CCI = (TP - mean)/(0.015*MAD), 0 when either is 0.
 * O(p) per bar. */
typedef struct cci_state {
    int p;
    int64_t t;
    size_t slot; /* t % p */
    double ring[];
} cci_state;

int kz_mom_cci_lookback(const double *params)
{
    return kz_mom_period(params, 0) - 1;
}

size_t kz_mom_cci_state_size(const double *params)
{
    return sizeof(cci_state) + (size_t)kz_mom_period(params, 0) * sizeof(double);
}

void kz_mom_cci_state_init(void *state, const double *params)
{
    cci_state *s = state;
    memset(s, 0, kz_mom_cci_state_size(params));
    s->p = kz_mom_period(params, 0);
}

/* Typical price of a bar. */
static inline double cci_tp(double h, double l, double c)
{
    return (h + l + c) / 3.0;
}

/* CCI from the bar's typical price, the window mean and the summed absolute deviation. */
static inline double cci_value(double tp, double mean, double dev, int p)
{
    double num = tp - mean;
    return (num != 0.0 && dev != 0.0) ? num / (0.015 * (dev / (double)p)) : 0.0;
}

void kz_mom_cci_state_step(void *state, const double *in, double *out)
{
    cci_state *s = state;
    size_t p = (size_t)s->p;
    double tp = cci_tp(in[0], in[1], in[2]);
    s->ring[s->slot] = tp;
    s->slot = s->slot + 1 == p ? 0 : s->slot + 1;
    out[0] = NAN;
    if (s->t++ < s->p - 1) {
        return;
    }
    double mean = 0.0;
    for (size_t j = 0; j < p; j++) {
        mean += s->ring[j];
    }
    mean /= (double)s->p;
    double dev = 0.0;
    for (size_t j = 0; j < p; j++) {
        dev += fabs(s->ring[j] - mean);
    }
    out[0] = cci_value(tp, mean, dev, s->p);
}

/* ---- CCI batch. The stream's sums are serial chains of p additions (slot order must be kept
 * for bit-exactness), so one bar at a time is latency-bound. Bars of one "cycle" [a, a+p) (a a
 * multiple of p, the bar in slot 0) see the same two candidate values per slot: slot j holds
 * bar a+j once bar a+j has arrived, else bar a+j-p. So the batch sums CCI_LANES bars of a cycle
 * side by side: the same additions in the same order per bar, but independent chains. */
#define CCI_LANES 8

/* Slot-order sums of the bars a+k0 .. a+k0+CCI_LANES-1 into mean[] (then divided by p as the
 * stream does) and dev[]. tp[] holds the typical prices with p readable values before index 0
 * and after the series. Lane l (bar a+k0+l) takes bar a+j for j <= k0+l, else bar a+j-p. */
static void cci_lanes(const double *tp, size_t a, size_t p, size_t k0, double *mean, double *dev)
{
    const double *cur = tp + a, *prev = tp + a - p;
    size_t lo = k0 + 1 < p ? k0 + 1 : p;                   /* j < lo: every lane takes cur */
    size_t hi = k0 + CCI_LANES < p ? k0 + CCI_LANES : p; /* j >= hi: every lane takes prev */
    for (int l = 0; l < CCI_LANES; l++) {
        mean[l] = 0.0;
        dev[l] = 0.0;
    }
    for (size_t j = 0; j < lo; j++) {
        for (int l = 0; l < CCI_LANES; l++) {
            mean[l] += cur[j];
        }
    }
    for (size_t j = lo; j < hi; j++) {
        for (int l = 0; l < CCI_LANES; l++) {
            mean[l] += j <= k0 + (size_t)l ? cur[j] : prev[j];
        }
    }
    for (size_t j = hi; j < p; j++) {
        for (int l = 0; l < CCI_LANES; l++) {
            mean[l] += prev[j];
        }
    }
    for (int l = 0; l < CCI_LANES; l++) {
        mean[l] /= (double)p;
    }
    for (size_t j = 0; j < lo; j++) {
        for (int l = 0; l < CCI_LANES; l++) {
            dev[l] += fabs(cur[j] - mean[l]);
        }
    }
    for (size_t j = lo; j < hi; j++) {
        for (int l = 0; l < CCI_LANES; l++) {
            dev[l] += fabs((j <= k0 + (size_t)l ? cur[j] : prev[j]) - mean[l]);
        }
    }
    for (size_t j = hi; j < p; j++) {
        for (int l = 0; l < CCI_LANES; l++) {
            dev[l] += fabs(prev[j] - mean[l]);
        }
    }
}

/* Scratch: the typical prices with p zeros before and after (the lanes of the first and last
 * cycles read there, for bars that are not written). */
size_t kz_mom_cci_work(size_t n, const double *params)
{
    return kz_mom_add(n, 2 * (size_t)kz_mom_period(params, 0));
}

void kz_mom_cci_batch(size_t n, const double *const *in, const double *params, double *const *out,
                      double *work)
{
    int pi = kz_mom_period(params, 0);
    size_t p = (size_t)pi;
    double *tp = work + p;
    for (size_t j = 0; j < p; j++) {
        work[j] = 0.0;
        tp[n + j] = 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        tp[i] = cci_tp(in[0][i], in[1][i], in[2][i]);
    }
    kz_ta_nan_fill(out[0], n, p - 1);
    double mean[CCI_LANES], dev[CCI_LANES];
    for (size_t a = 0; a < n; a += p) {
        for (size_t k0 = 0; k0 < p && a + k0 < n; k0 += CCI_LANES) {
            if (a + k0 + CCI_LANES < p) {
                continue; /* the first cycle's bars before p - 1 have no value */
            }
            cci_lanes(tp, a, p, k0, mean, dev);
            for (size_t l = 0; l < CCI_LANES && k0 + l < p && a + k0 + l < n; l++) {
                size_t t = a + k0 + l;
                if (t + 1 >= p) {
                    out[0][t] = cci_value(tp[t], mean[l], dev[l], pi);
                }
            }
        }
    }
}

/* ================================================================ WILLR
 * Williams' %R, TA-Lib ta_WILLR.c: (HH - close)/((HH - LL)/-100) over p bars, 0 when HH == LL. */
typedef struct willr_state {
    kz_xhl win; /* kz_xhl_bytes(p, 1) after the struct */
} willr_state;

static inline double willr_value(double hh, double ll, double close)
{
    double diff = (hh - ll) / (-100.0);
    return diff != 0.0 ? (hh - close) / diff : 0.0;
}

int kz_mom_willr_lookback(const double *params)
{
    return kz_mom_period(params, 0) - 1;
}

size_t kz_mom_willr_state_size(const double *params)
{
    return sizeof(willr_state) + kz_xhl_bytes((size_t)kz_mom_period(params, 0), 1);
}

void kz_mom_willr_state_init(void *state, const double *params)
{
    willr_state *s = state;
    kz_xhl_init(&s->win, (size_t)kz_mom_period(params, 0), 0, 1, s + 1);
}

void kz_mom_willr_state_step(void *state, const double *in, double *out)
{
    willr_state *s = state;
    out[0] = NAN;
    if (kz_xhl_push(&s->win, in[0], in[1])) {
        out[0] = willr_value(s->win.hv[0], s->win.lv[0], in[2]);
    }
}

size_t kz_mom_willr_work(size_t n, const double *params)
{
    (void)n;
    return kz_ta_words(kz_xhl_bytes((size_t)kz_mom_period(params, 0), KZ_X_CHUNK));
}

void kz_mom_willr_batch(
    size_t n, const double *const *in, const double *params, double *const *out, double *work)
{
    size_t p = (size_t)kz_mom_period(params, 0);
    kz_xhl b;
    kz_xhl_init(&b, p, 0, KZ_X_CHUNK, work);
    kz_ta_nan_fill(out[0], n, p - 1);
    for (size_t a = 0; a < n; a += KZ_X_CHUNK) {
        size_t m = kz_x_chunk_len(n, a);
        kz_xhl_run(&b, in[0] + a, in[1] + a, m);
        for (size_t i = kz_x_first_full(a, p); i < m; i++) {
            out[0][a + i] = willr_value(b.hv[i], b.lv[i], in[2][a + i]);
        }
    }
}

/* ================================================================ AROON, AROONOSC
 * Aroon (Chande 1995), TA-Lib ta_AROON.c: over the p+1 bars [t-p, t], up = 100/p*(p - bars since
 * the highest high), down likewise with the lowest low; AROONOSC = 100/p*(iHigh - iLow). */
typedef struct aroon_state {
    int p, osc;
    kz_xhl win; /* p+1 bars; kz_xhl_bytes(p+1, 1) after the struct */
} aroon_state;

/* Outputs of bar t from the bars of the window's highest high and lowest low. */
static inline void
aroon_value(int p, int osc, int64_t t, int64_t i_high, int64_t i_low, double *out)
{
    double factor = 100.0 / (double)p;
    if (osc) {
        out[0] = factor * (double)(i_high - i_low);
    } else {
        out[0] = factor * (double)(p - (t - i_low));
        out[1] = factor * (double)(p - (t - i_high));
    }
}

static int aroon_lookback(const double *params)
{
    return kz_mom_period(params, 0);
}

static size_t aroon_size(const double *params)
{
    return sizeof(aroon_state) + kz_xhl_bytes((size_t)kz_mom_period(params, 0) + 1, 1);
}

static void aroon_init(void *state, const double *params, int osc)
{
    aroon_state *s = state;
    s->p = kz_mom_period(params, 0);
    s->osc = osc;
    kz_xhl_init(&s->win, (size_t)s->p + 1, 1, 1, s + 1);
}

static void aroon_step(void *state, const double *in, double *out)
{
    aroon_state *s = state;
    int64_t t = kz_xhl_count(&s->win);
    if (!kz_xhl_push(&s->win, in[0], in[1])) {
        out[0] = NAN;
        if (!s->osc) {
            out[1] = NAN;
        }
        return;
    }
    aroon_value(s->p, s->osc, t, s->win.hi_idx[0], s->win.lo_idx[0], out);
}

static size_t aroon_work(const double *params)
{
    return kz_ta_words(kz_xhl_bytes((size_t)kz_mom_period(params, 0) + 1, KZ_X_CHUNK));
}

static void aroon_batch(size_t n,
                        const double *const *in,
                        const double *params,
                        double *const *out,
                        int osc,
                        double *work)
{
    int p = kz_mom_period(params, 0);
    kz_xhl b;
    kz_xhl_init(&b, (size_t)p + 1, 1, KZ_X_CHUNK, work);
    int n_out = osc ? 1 : 2;
    for (int j = 0; j < n_out; j++) {
        kz_ta_nan_fill(out[j], n, (size_t)p);
    }
    for (size_t a = 0; a < n; a += KZ_X_CHUNK) {
        size_t m = kz_x_chunk_len(n, a);
        kz_xhl_run(&b, in[0] + a, in[1] + a, m);
        for (size_t i = kz_x_first_full(a, (size_t)p + 1); i < m; i++) {
            double y[2];
            aroon_value(p, osc, (int64_t)(a + i), b.hi_idx[i], b.lo_idx[i], y);
            for (int j = 0; j < n_out; j++) {
                out[j][a + i] = y[j];
            }
        }
    }
}

#define AROON_ENTRY(NAME, OSC)                                                                     \
    int NAME##_lookback(const double *params)                                                      \
    {                                                                                              \
        return aroon_lookback(params);                                                             \
    }                                                                                              \
    size_t NAME##_state_size(const double *params)                                                 \
    {                                                                                              \
        return aroon_size(params);                                                                 \
    }                                                                                              \
    void NAME##_state_init(void *state, const double *params)                                      \
    {                                                                                              \
        aroon_init(state, params, OSC);                                                            \
    }                                                                                              \
    void NAME##_state_step(void *state, const double *in, double *out)                             \
    {                                                                                              \
        aroon_step(state, in, out);                                                                \
    }                                                                                              \
    size_t NAME##_work(size_t n, const double *params)                                             \
    {                                                                                              \
        (void)n;                                                                                   \
        return aroon_work(params);                                                                 \
    }                                                                                              \
    void NAME##_batch(size_t n, const double *const *in, const double *params, double *const *out, \
                      double *work)                                                                \
    {                                                                                              \
        aroon_batch(n, in, params, out, OSC, work);                                                \
    }

AROON_ENTRY(kz_mom_aroon, 0)
AROON_ENTRY(kz_mom_aroonosc, 1)

/* ================================================================ ULTOSC
 * Ultimate Oscillator (Williams 1985), TA-Lib ta_ULTOSC.c. TA-Lib sorts the three periods first,
 * so the weights 4, 2, 1 go to the shortest, middle and longest period whatever the parameter
 * order. Terms: BP = close - min(low, prevClose), TR = true range; running sums over each period
 * primed on [L-p+1, L), L = longest period, with the leaving term subtracted after each output. */
typedef struct ultosc_state {
    int p[3]; /* ascending */
    int64_t t;
    size_t slot; /* t % L */
    double prev_close;
    double a[3], b[3];
    double ring[]; /* BP [0, L), TR [L, 2L) */
} ultosc_state;

static void ultosc_periods(const double *params, int p[3])
{
    for (int k = 0; k < 3; k++) {
        p[k] = kz_mom_period(params, k);
    }
    for (int i = 1; i < 3; i++) {
        for (int j = i; j > 0 && p[j] < p[j - 1]; j--) {
            int tmp = p[j];
            p[j] = p[j - 1];
            p[j - 1] = tmp;
        }
    }
}

int kz_mom_ultosc_lookback(const double *params)
{
    int p[3];
    ultosc_periods(params, p);
    return p[2];
}

size_t kz_mom_ultosc_state_size(const double *params)
{
    return sizeof(ultosc_state) + 2 * (size_t)kz_mom_ultosc_lookback(params) * sizeof(double);
}

void kz_mom_ultosc_state_init(void *state, const double *params)
{
    ultosc_state *s = state;
    memset(s, 0, kz_mom_ultosc_state_size(params));
    ultosc_periods(params, s->p);
}

void kz_mom_ultosc_state_step(void *state, const double *in, double *out)
{
    ultosc_state *s = state;
    int64_t t = s->t++;
    double prev_close = s->prev_close;
    s->prev_close = in[2];
    out[0] = NAN;
    if (t == 0) {
        return;
    }
    int64_t lb = s->p[2];
    size_t cap = (size_t)lb;
    double true_low = in[1] < prev_close ? in[1] : prev_close;
    double bp = in[2] - true_low;
    double tr = in[0] - in[1];
    double tmp = fabs(prev_close - in[0]);
    if (tmp > tr) {
        tr = tmp;
    }
    tmp = fabs(prev_close - in[1]);
    if (tmp > tr) {
        tr = tmp;
    }
    size_t slot = s->slot + 1 == cap ? 0 : s->slot + 1; /* t % cap (t >= 1 here) */
    s->slot = slot;
    s->ring[slot] = bp;
    s->ring[cap + slot] = tr;
    for (int k = 0; k < 3; k++) {
        if (t >= lb - s->p[k] + 1) {
            s->a[k] += bp;
            s->b[k] += tr;
        }
    }
    if (t < lb) {
        return;
    }
    /* TA-Lib adds a3/b3 unweighted; 1.0*x == x exactly, so one loop reproduces it. */
    static const double weight[3] = {4.0, 2.0, 1.0};
    double sum = 0.0;
    for (int k = 0; k < 3; k++) {
        if (!KZ_MOM_IS_ZERO(s->b[k])) {
            sum += weight[k] * (s->a[k] / s->b[k]);
        }
    }
    for (int k = 0; k < 3; k++) {
        /* slot of bar t - p[k] + 1, i.e. (t - p[k] + 1) % cap with 1 <= p[k] <= cap */
        size_t back = (size_t)s->p[k] - 1;
        size_t old = slot >= back ? slot - back : slot + cap - back;
        s->a[k] -= s->ring[old];
        s->b[k] -= s->ring[cap + old];
    }
    out[0] = 100.0 * (sum / 7.0);
}

KZ_MOM_STATE_BATCH(kz_mom_ultosc, 3, 1)

/* ================================================================ STOCHF, STOCH, STOCHRSI
 * Stochastic oscillator (Lane), TA-Lib ta_STOCHF.c / ta_STOCH.c: fast %K = (close-LL)/((HH-LL)/100)
 * over fastk_period bars (0 when HH == LL); STOCHF's %D = MA(%K); STOCH's slow %K = MA(%K) and
 * slow %D = MA(slow %K), each with its own TA-Lib MA type. STOCHRSI (ta_STOCHRSI.c) is STOCHF on
 * the RSI series (high = low = close = RSI). The MAs are ta-core's streaming MA states, which
 * kz_ta_ma runs too, so batch and stream agree bit for bit. */
typedef enum stoch_kind { ST_FAST, ST_SLOW, ST_RSI } stoch_kind;

typedef struct stoch_cfg {
    int rsi_period; /* 0 unless STOCHRSI */
    int fastk;
    int n_ma;
    int ma_period[2];
    kz_matype ma_type[2];
} stoch_cfg;

typedef struct stoch_state {
    stoch_kind kind;
    int64_t t, lookback;
    kz_mom_gl rsi;
    kz_xhl win;       /* fastk bars; kz_xhl_bytes(fastk, 1) after the struct */
    size_t ma_off[2]; /* byte offsets of the MA states, after the window's buffers */
} stoch_state;

/* params: STOCHF fastk_period, fastd_period, fastd_matype; STOCH fastk_period, slowk_period,
 * slowk_matype, slowd_period, slowd_matype; STOCHRSI timeperiod, fastk_period, fastd_period,
 * fastd_matype. */
static stoch_cfg stoch_get(const double *params, stoch_kind kind)
{
    stoch_cfg c;
    memset(&c, 0, sizeof c);
    int k = 0;
    if (kind == ST_RSI) {
        c.rsi_period = kz_mom_period(params, k++);
    }
    c.fastk = kz_mom_period(params, k++);
    c.n_ma = kind == ST_SLOW ? 2 : 1;
    for (int m = 0; m < c.n_ma; m++) {
        c.ma_period[m] = kz_mom_period(params, k++);
        c.ma_type[m] = (kz_matype)params[k++];
    }
    return c;
}

static int stoch_lookback(const double *params, stoch_kind kind)
{
    stoch_cfg c = stoch_get(params, kind);
    int lb = c.rsi_period + c.fastk - 1;
    for (int m = 0; m < c.n_ma; m++) {
        lb += kz_ta_ma_lookback(c.ma_period[m], c.ma_type[m]);
    }
    return lb;
}

static size_t stoch_size(const double *params, stoch_kind kind)
{
    stoch_cfg c = stoch_get(params, kind);
    size_t size = sizeof(stoch_state) + kz_xhl_bytes((size_t)c.fastk, 1);
    for (int m = 0; m < c.n_ma; m++) {
        size = kz_mom_add(size, kz_ta_ma_state_size(c.ma_period[m], c.ma_type[m]));
    }
    return size;
}

static void stoch_init(void *state, const double *params, stoch_kind kind)
{
    stoch_cfg c = stoch_get(params, kind);
    stoch_state *s = state;
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->lookback = stoch_lookback(params, kind);
    kz_mom_gl_init(&s->rsi, c.rsi_period);
    kz_xhl_init(&s->win, (size_t)c.fastk, 0, 1, s + 1);
    size_t off = sizeof(stoch_state) + kz_xhl_bytes((size_t)c.fastk, 1);
    for (int m = 0; m < c.n_ma; m++) {
        s->ma_off[m] = off;
        kz_ta_ma_state_init(kz_mom_at(s, off), c.ma_period[m], c.ma_type[m]);
        off += kz_ta_ma_state_size(c.ma_period[m], c.ma_type[m]);
    }
}

static inline double stoch_fastk(double hh, double ll, double close)
{
    double diff = (hh - ll) / 100.0;
    return diff != 0.0 ? (close - ll) / diff : 0.0;
}

/* The MA of a STOCH* state (0: fast %D or slow %K, 1: slow %D). */
static void *stoch_ma(stoch_state *s, int m)
{
    return kz_mom_at(s, s->ma_off[m]);
}

static void stoch_step(void *state, const double *in, double *out)
{
    stoch_state *s = state;
    int64_t t = s->t++;
    double h = in[0];
    double l;
    double c;
    out[0] = out[1] = NAN;
    if (s->kind == ST_RSI) {
        if (!kz_mom_gl_step(&s->rsi, in[0])) {
            return;
        }
        h = l = c = kz_mom_rsi_value(&s->rsi);
    } else {
        l = in[1];
        c = in[2];
    }
    double fastk = NAN;
    if (kz_xhl_push(&s->win, h, l)) {
        fastk = stoch_fastk(s->win.hv[0], s->win.lv[0], c);
    }
    double ma1 = kz_ta_ma_state_step(stoch_ma(s, 0), fastk);
    double y0 = fastk;
    double y1 = ma1;
    if (s->kind == ST_SLOW) {
        y0 = ma1;
        y1 = kz_ta_ma_state_step(stoch_ma(s, 1), ma1);
    }
    if (t >= s->lookback) {
        out[0] = y0;
        out[1] = y1;
    }
}

/* Batch scratch: the streaming state (for its RSI and MA states; its one-bar window stays
 * unused), the van Herk / Gil-Werman pair, and one chunk of values (STOCHRSI's RSI, STOCH's
 * fast %K). */
static size_t stoch_work(const double *params, stoch_kind kind)
{
    stoch_cfg c = stoch_get(params, kind);
    size_t bytes = kz_mom_add(stoch_size(params, kind), kz_xhl_bytes((size_t)c.fastk, KZ_X_CHUNK));
    return kz_ta_words(kz_mom_add(bytes, KZ_X_CHUNK * sizeof(double)));
}

/* stoch_step chunk by chunk: the window extremes from the batch engine, then each MA run over
 * the chunk (kz_ta_ma_run does what kz_ta_ma_state_step does, value by value), then the
 * warm-up bars blanked. */
static void stoch_batch(size_t n,
                        const double *const *in,
                        const double *params,
                        double *const *out,
                        stoch_kind kind,
                        double *work)
{
    stoch_cfg cfg = stoch_get(params, kind);
    stoch_state *s = (stoch_state *)(void *)work;
    stoch_init(s, params, kind);
    char *mem = (char *)work + stoch_size(params, kind);
    kz_xhl b;
    kz_xhl_init(&b, (size_t)cfg.fastk, 0, KZ_X_CHUNK, mem);
    double *chunk = (double *)(void *)(mem + kz_xhl_bytes((size_t)cfg.fastk, KZ_X_CHUNK));
    int64_t fed = 0; /* bars fed to the window so far */
    for (size_t a = 0; a < n; a += KZ_X_CHUNK) {
        size_t m = kz_x_chunk_len(n, a);
        const double *h = in[0] + a;
        const double *l = h;
        const double *c = h;
        size_t k = m;
        if (kind == ST_RSI) {
            /* the RSI starts at bar rsi_period and never stops, so the k values of this chunk
             * are its last k bars; the others are not fed on (as in stoch_step) */
            kz_mom_gl rsi = s->rsi; /* a local copy: the averages stay in registers */
            k = 0;
            for (size_t i = 0; i < m; i++) {
                if (kz_mom_gl_step(&rsi, in[0][a + i])) {
                    chunk[k++] = kz_mom_rsi_value(&rsi);
                } else {
                    out[0][a + i] = out[1][a + i] = NAN;
                }
            }
            s->rsi = rsi;
            h = l = c = chunk;
        } else {
            l = in[1] + a;
            c = in[2] + a;
        }
        kz_xhl_run(&b, h, l, k);
        size_t base = a + m - k;
        /* fast %K goes to output 0, or (STOCH) to the chunk buffer for the slow %K MA */
        double *fastk = kind == ST_SLOW ? chunk : out[0] + base;
        for (size_t j = 0; j < k; j++) {
            int full = fed + (int64_t)j >= cfg.fastk - 1;
            fastk[j] = full ? stoch_fastk(b.hv[j], b.lv[j], c[j]) : NAN;
        }
        fed += (int64_t)k;
        if (kind == ST_SLOW) {
            kz_ta_ma_run(stoch_ma(s, 0), k, fastk, out[0] + base, NULL);
            kz_ta_ma_run(stoch_ma(s, 1), k, out[0] + base, out[1] + base, NULL);
        } else {
            kz_ta_ma_run(stoch_ma(s, 0), k, fastk, out[1] + base, NULL);
        }
        for (size_t t = base; t < a + m && (int64_t)t < s->lookback; t++) {
            out[0][t] = out[1][t] = NAN;
        }
    }
}

#define STOCH_ENTRY(NAME, KIND)                                                                    \
    int NAME##_lookback(const double *params)                                                      \
    {                                                                                              \
        return stoch_lookback(params, KIND);                                                       \
    }                                                                                              \
    size_t NAME##_state_size(const double *params)                                                 \
    {                                                                                              \
        return stoch_size(params, KIND);                                                           \
    }                                                                                              \
    void NAME##_state_init(void *state, const double *params)                                      \
    {                                                                                              \
        stoch_init(state, params, KIND);                                                           \
    }                                                                                              \
    void NAME##_state_step(void *state, const double *in, double *out)                             \
    {                                                                                              \
        stoch_step(state, in, out);                                                                \
    }                                                                                              \
    size_t NAME##_work(size_t n, const double *params)                                             \
    {                                                                                              \
        (void)n;                                                                                   \
        return stoch_work(params, KIND);                                                           \
    }                                                                                              \
    void NAME##_batch(size_t n, const double *const *in, const double *params, double *const *out, \
                      double *work)                                                                \
    {                                                                                              \
        stoch_batch(n, in, params, out, KIND, work);                                               \
    }

STOCH_ENTRY(kz_mom_stochf, ST_FAST)
STOCH_ENTRY(kz_mom_stoch, ST_SLOW)
STOCH_ENTRY(kz_mom_stochrsi, ST_RSI)
