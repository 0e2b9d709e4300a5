/* Moving averages of every TA-Lib MA type (SMA EMA WMA DEMA TEMA TRIMA KAMA MAMA T3) as O(1)
 * state machines: batch = the same step run over the array, so streaming is bit-identical.
 *
 * DESIGN: one ma_state (header + ring of recent inputs in a flexible array) per average. Each
 * step does exactly the floating-point operations of the TA-Lib 0.6.4 function (ta_SMA.c,
 * ta_EMA.c, ... in TA-Lib/ta-lib src/ta_func), in the same order, including TA-Lib's seeding
 * (SMA-seeded EMA, the TRIMA/KAMA/T3 warm-up sums, MAMA's WMA price smoother). Leading NaN
 * inputs are skipped so that a composed MA starts where its input starts (TA-Lib's begIdx). */
#include <stdint.h>
#include <string.h>

#include "ta_int.h"

enum { MA_COPY = -1 }; /* TA_MA with period 1 copies its input */

/* MAMA (Ehlers, "MESA Adaptive Moving Average", TASC 2001) as coded in TA-Lib ta_MAMA.c.
 * Index 0 of each pair = the "even bar" variables, 1 = the "odd bar" ones. */
typedef struct mama_core {
    double fast, slow;
    double wma_sub, wma_sum, wma_trail;
    int hidx;
    double det[2][3], q1[2][3], ji[2][3], jq[2][3];
    double prev_det[2], prev_det_in[2], prev_q1[2], prev_q1_in[2];
    double prev_ji[2], prev_ji_in[2], prev_jq[2], prev_jq_in[2];
    double i1_prev2[2], i1_prev3[2];
    double prev_i2, prev_q2, re, im, period, prev_phase;
    double mama, fama;
} mama_core;

typedef struct ma_state {
    int type, period;
    size_t count;          /* non-NaN inputs consumed (bar index relative to the first one) */
    size_t ring_n, pos;    /* ring of the last ring_n inputs; ring[pos] = newest */
    double k, one_minus_k; /* EMA family smoothing 2/(p+1) */
    double sum, sub, add, trail, prev;
    double factor;    /* WMA divider / TRIMA 1/sum-of-weights */
    double e[6];      /* DEMA/TEMA/T3 cascaded EMAs */
    size_t ecount[3]; /* DEMA/TEMA: values consumed by each cascaded EMA */
    double esum[3];
    double c1, c2, c3, c4; /* T3 coefficients */
    mama_core m;
    double ring[];
} ma_state;

/* ---------------------------------------------------------------- sizes and lookbacks */

int kz_ta_ma_lookback(int period, kz_matype type)
{
    if (period <= 1) {
        return 0; /* TA_MA_Lookback: period 1 is a copy */
    }
    switch (type) {
    case KZ_MA_SMA:
    case KZ_MA_EMA:
    case KZ_MA_WMA:
    case KZ_MA_TRIMA:
        return period - 1;
    case KZ_MA_DEMA:
        return 2 * (period - 1);
    case KZ_MA_TEMA:
        return 3 * (period - 1);
    case KZ_MA_KAMA:
        return period;
    case KZ_MA_MAMA:
        return 32;
    case KZ_MA_T3:
        return 6 * (period - 1);
    }
    return 0;
}

static size_t ring_len(int period, kz_matype type)
{
    if (period <= 1) {
        return 0;
    }
    switch (type) {
    case KZ_MA_SMA:
    case KZ_MA_WMA:
        return (size_t)period;
    case KZ_MA_TRIMA:
    case KZ_MA_KAMA:
        return (size_t)period + 1;
    case KZ_MA_MAMA:
        return 4;
    default:
        return 0;
    }
}

size_t kz_ta_ma_state_size(int period, kz_matype type)
{
    return sizeof(ma_state) + ring_len(period, type) * sizeof(double);
}

size_t kz_ta_ma_work(size_t n, int period, kz_matype type)
{
    (void)n;
    return (kz_ta_ma_state_size(period, type) + sizeof(double) - 1) / sizeof(double);
}

/* ---------------------------------------------------------------- init */

static void state_init(ma_state *st, int period, int type)
{
    size_t rn = ring_len(period, (kz_matype)type);
    memset(st, 0, sizeof *st);
    st->type = period <= 1 ? MA_COPY : type;
    st->period = period;
    st->ring_n = rn;
    st->pos = rn ? rn - 1 : 0;
    for (size_t i = 0; i < rn; i++) {
        st->ring[i] = 0.0;
    }
    st->k = 2.0 / (double)(period + 1); /* TA-Lib PER_TO_K */
    st->one_minus_k = 1.0 - st->k;
    if (type == KZ_MA_WMA) {
        long long p = period;
        st->factor = (double)((p * (p + 1)) >> 1);
    } else if (type == KZ_MA_TRIMA) {
        int h = period >> 1;
        long long w = (period % 2 == 1) ? (long long)(h + 1) * (h + 1) : (long long)h * (h + 1);
        st->factor = 1.0 / (double)w;
    }
}

void kz_ta_ma_state_init(void *state, int period, kz_matype type)
{
    ma_state *st = state;
    state_init(st, period, (int)type);
    if (type == KZ_MA_T3) {
        kz_ta_ma_state_init_t3(state, period, 0.7);
    } else if (type == KZ_MA_MAMA && period > 1) {
        kz_ta_ma_state_init_mama(state, 0.5, 0.05);
    }
}

void kz_ta_ma_state_init_t3(void *state, int period, double vfactor)
{
    ma_state *st = state;
    state_init(st, period, KZ_MA_T3);
    /* ta_T3.c: T3 = c1*e6 + c2*e5 + c3*e4 + c4*e3 (Tillson, TASC 1998), TA-Lib's expression
     * order kept for bit-exactness. The EMA factor is written 2/(p+1.0) there. */
    st->k = 2.0 / ((double)period + 1.0);
    st->one_minus_k = 1.0 - st->k;
    double t = vfactor * vfactor;
    st->c1 = 0.0 - t * vfactor;
    st->c2 = 3.0 * (t - st->c1);
    st->c3 = -6.0 * t - 3.0 * (vfactor - st->c1);
    st->c4 = 1.0 + 3.0 * vfactor - st->c1 + 3.0 * t;
}

void kz_ta_ma_state_init_mama(void *state, double fastlimit, double slowlimit)
{
    ma_state *st = state;
    state_init(st, 2, KZ_MA_MAMA); /* MAMA ignores the period */
    st->m.fast = fastlimit;
    st->m.slow = slowlimit;
}

/* ---------------------------------------------------------------- ring helpers */

static inline void ring_push(ma_state *st, double x)
{
    if (++st->pos == st->ring_n) {
        st->pos = 0;
    }
    st->ring[st->pos] = x;
}

/* The input j bars ago (0 = newest); j < ring_n. */
static inline double ring_back(const ma_state *st, size_t j)
{
    size_t i = st->pos >= j ? st->pos - j : st->pos + st->ring_n - j;
    return st->ring[i];
}

/* ---------------------------------------------------------------- per-type steps */

/* ta_SMA.c (TA_INT_SMA): running total, add newest, emit, then subtract the oldest. */
static inline double sma_step(ma_state *st, double x)
{
    size_t c = st->count++;
    size_t p = (size_t)st->period;
    ring_push(st, x);
    st->sum += x;
    if (c + 1 < p) {
        return NAN;
    }
    double t = st->sum;
    st->sum -= ring_back(st, p - 1);
    return t / (double)st->period;
}

/* One SMA-seeded EMA (ta_EMA.c, TA_COMPATIBILITY_DEFAULT): the first value is the mean of the
 * first p inputs, then e = (x - e) * k + e. Shared by EMA, DEMA and TEMA. */
static inline double ema_core(ma_state *st, int level, double x)
{
    size_t c = st->ecount[level]++;
    size_t p = (size_t)st->period;
    if (c < p) {
        st->esum[level] += x;
        if (c + 1 < p) {
            return NAN;
        }
        st->e[level] = st->esum[level] / (double)st->period;
        return st->e[level];
    }
    st->e[level] = (x - st->e[level]) * st->k + st->e[level];
    return st->e[level];
}

static inline double ema_step(ma_state *st, double x)
{
    st->count++;
    return ema_core(st, 0, x);
}

/* ta_DEMA.c: 2*EMA - EMA(EMA), the inner EMA seeded on the outer's first p values. */
static inline double dema_step(ma_state *st, double x)
{
    st->count++;
    double e1 = ema_core(st, 0, x);
    if (isnan(e1)) {
        return NAN;
    }
    double e2 = ema_core(st, 1, e1);
    return isnan(e2) ? NAN : (2.0 * e1) - e2;
}

/* ta_TEMA.c: EMA3 + (3*EMA1 - 3*EMA2). */
static inline double tema_step(ma_state *st, double x)
{
    st->count++;
    double e1 = ema_core(st, 0, x);
    if (isnan(e1)) {
        return NAN;
    }
    double e2 = ema_core(st, 1, e1);
    if (isnan(e2)) {
        return NAN;
    }
    double e3 = ema_core(st, 2, e2);
    return isnan(e3) ? NAN : e3 + (3.0 * e1 - 3.0 * e2);
}

/* ta_WMA.c: weights 1..p; periodSum drops a whole periodSub each bar. */
static inline double wma_step(ma_state *st, double x)
{
    size_t c = st->count++;
    size_t p = (size_t)st->period;
    ring_push(st, x);
    if (c + 1 < p) {
        st->sub += x;
        st->sum += x * (double)(c + 1);
        return NAN;
    }
    st->sub += x;
    st->sub -= st->trail;
    st->sum += x * (double)st->period;
    st->trail = ring_back(st, p - 1);
    double out = st->sum / st->factor;
    st->sum -= st->sub;
    return out;
}

/* ta_TRIMA.c: numerator = triangular weighted sum, updated with the two half sums
 * (numeratorSub over the older half, numeratorAdd over the newer half). */
static inline double trima_step(ma_state *st, double x)
{
    size_t c = st->count++;
    size_t p = (size_t)st->period;
    size_t h = p >> 1;
    int odd = (p % 2) == 1;
    ring_push(st, x);
    if (c + 1 < p) {
        return NAN;
    }
    if (c + 1 == p) {
        /* First window w[0..p) (w[0] oldest) in TA-Lib's summation order. */
        size_t mid = odd ? h : h - 1;
        st->sub = 0.0;
        st->sum = 0.0;
        for (size_t i = mid + 1; i-- > 0;) {
            st->sub += ring_back(st, p - 1 - i);
            st->sum += st->sub;
        }
        st->add = 0.0;
        for (size_t i = mid + 1; i < p; i++) {
            st->add += ring_back(st, p - 1 - i);
            st->sum += st->add;
        }
        return st->sum * st->factor;
    }
    double old = ring_back(st, p);
    double mid = ring_back(st, h);
    st->sum -= st->sub;
    st->sub -= old;
    st->sub += mid;
    if (odd) {
        st->sum += st->add;
        st->add -= mid;
    } else {
        st->add -= mid;
        st->sum += st->add;
    }
    st->add += x;
    st->sum += x;
    return st->sum * st->factor;
}

/* ta_KAMA.c (Kaufman 1995): efficiency ratio over p bars, smoothing constant
 * (ER*(2/3 - 2/31) + 2/31)^2; TA-Lib's test `sumROC1 <= periodROC` (not |periodROC|) kept. */
static inline double kama_step(ma_state *st, double x)
{
    static const double const_max = 2.0 / (30.0 + 1.0);
    const double const_diff = 2.0 / (2.0 + 1.0) - const_max;
    size_t c = st->count++;
    size_t p = (size_t)st->period;
    ring_push(st, x);
    if (c == 0) {
        return NAN;
    }
    double period_roc;
    if (c <= p) {
        double t = ring_back(st, 1);
        t -= x;
        st->sum += fabs(t);
        if (c < p) {
            return NAN;
        }
        st->prev = ring_back(st, 1);
        double first = ring_back(st, p);
        period_roc = x - first;
        st->trail = first;
    } else {
        double old = ring_back(st, p);
        period_roc = x - old;
        st->sum -= fabs(st->trail - old);
        st->sum += fabs(x - ring_back(st, 1));
        st->trail = old;
    }
    double er;
    if (st->sum <= period_roc || (st->sum > -1e-8 && st->sum < 1e-8)) {
        er = 1.0;
    } else {
        er = fabs(period_roc / st->sum);
    }
    er = er * const_diff + const_max;
    er *= er;
    st->prev = (x - st->prev) * er + st->prev;
    return st->prev;
}

/* ta_T3.c: six cascaded EMAs, each seeded with the mean of its first p values. */
static inline double t3_step(ma_state *st, double x)
{
    size_t c = st->count++;
    size_t p = (size_t)st->period;
    const double k = st->k, omk = st->one_minus_k;
    double *e = st->e;
    if (c < p) {
        st->sum += x;
        if (c + 1 == p) {
            e[0] = st->sum / (double)st->period;
            st->sum = e[0];
        }
        return NAN;
    }
    size_t seeded = (c - p) / (p - 1) + 1; /* EMA level being seeded (1..5), 6+ = all done */
    size_t levels = seeded < 6 ? seeded : 6;
    e[0] = k * x + omk * e[0];
    for (size_t j = 1; j < levels; j++) {
        e[j] = k * e[j - 1] + omk * e[j];
    }
    if (seeded < 6) {
        st->sum += e[seeded - 1];
        if ((c - p) % (p - 1) != p - 2) {
            return NAN;
        }
        e[seeded] = st->sum / (double)st->period;
        st->sum = e[seeded];
        if (seeded < 5) {
            return NAN;
        }
    }
    return st->c1 * e[5] + st->c2 * e[4] + st->c3 * e[3] + st->c4 * e[2];
}

/* One Hilbert-transform FIR stage of ta_MAMA.c (Ehlers' 0.0962/0.5769 kernel over bars t, t-2,
 * t-4, t-6, run separately on even and odd bars), same operation order as TA-Lib's macro. */
static inline double
ht_stage(double *buf, double *prev, double *prev_in, int idx, double in, double adj)
{
    const double a = 0.0962, b = 0.5769;
    double h = a * in;
    double r = 0.0 - buf[idx];
    buf[idx] = h;
    r += h;
    r -= *prev;
    *prev = b * *prev_in;
    r += *prev;
    *prev_in = in;
    r *= adj;
    return r;
}

static inline double mama_step(ma_state *st, double x)
{
    size_t c = st->count++;
    mama_core *m = &st->m;
    ring_push(st, x);
    if (c < 3) {
        /* WMA(4) price smoother warm-up: weights 1, 2, 3. */
        m->wma_sub += x;
        m->wma_sum += x * (double)(c + 1);
        return NAN;
    }
    double adj = 0.075 * m->period + 0.54;
    m->wma_sub += x;
    m->wma_sub -= m->wma_trail;
    m->wma_sum += x * 4.0;
    m->wma_trail = ring_back(st, 3);
    double smoothed = m->wma_sum * 0.1;
    m->wma_sum -= m->wma_sub;
    if (c < 12) {
        return NAN;
    }
    const double rad2deg = 180.0 / (4.0 * atan(1));
    int par = (int)(c % 2);
    int other = 1 - par;
    int hi = m->hidx;
    double det = ht_stage(m->det[par], &m->prev_det[par], &m->prev_det_in[par], hi, smoothed, adj);
    double q1 = ht_stage(m->q1[par], &m->prev_q1[par], &m->prev_q1_in[par], hi, det, adj);
    double i1 = m->i1_prev3[par];
    double ji = ht_stage(m->ji[par], &m->prev_ji[par], &m->prev_ji_in[par], hi, i1, adj);
    double jq = ht_stage(m->jq[par], &m->prev_jq[par], &m->prev_jq_in[par], hi, q1, adj);
    if (par == 0 && ++m->hidx == 3) {
        m->hidx = 0;
    }
    double q2 = 0.2 * (q1 + ji) + 0.8 * m->prev_q2;
    double i2 = 0.2 * (i1 - jq) + 0.8 * m->prev_i2;
    m->i1_prev3[other] = m->i1_prev2[other];
    m->i1_prev2[other] = det;
    double phase = i1 != 0.0 ? atan(q1 / i1) * rad2deg : 0.0;
    double delta = m->prev_phase - phase;
    m->prev_phase = phase;
    if (delta < 1.0) {
        delta = 1.0;
    }
    double alpha;
    if (delta > 1.0) {
        alpha = m->fast / delta;
        if (alpha < m->slow) {
            alpha = m->slow;
        }
    } else {
        alpha = m->fast;
    }
    m->mama = alpha * x + (1.0 - alpha) * m->mama;
    alpha *= 0.5;
    m->fama = alpha * m->mama + (1.0 - alpha) * m->fama;
    double out = c >= 32 ? m->mama : NAN;
    /* Homodyne discriminator: next bar's period estimate. */
    m->re = 0.2 * (i2 * m->prev_i2 + q2 * m->prev_q2) + 0.8 * m->re;
    m->im = 0.2 * (i2 * m->prev_q2 - q2 * m->prev_i2) + 0.8 * m->im;
    m->prev_q2 = q2;
    m->prev_i2 = i2;
    double prev_period = m->period;
    if (m->im != 0.0 && m->re != 0.0) {
        m->period = 360.0 / (atan(m->im / m->re) * rad2deg);
    }
    double lim = 1.5 * prev_period;
    if (m->period > lim) {
        m->period = lim;
    }
    lim = 0.67 * prev_period;
    if (m->period < lim) {
        m->period = lim;
    }
    if (m->period < 6) {
        m->period = 6;
    } else if (m->period > 50) {
        m->period = 50;
    }
    m->period = 0.2 * m->period + 0.8 * prev_period;
    return out;
}

/* ---------------------------------------------------------------- dispatch */

static inline double step_any(ma_state *st, double x)
{
    switch (st->type) {
    case KZ_MA_SMA:
        return sma_step(st, x);
    case KZ_MA_EMA:
        return ema_step(st, x);
    case KZ_MA_WMA:
        return wma_step(st, x);
    case KZ_MA_DEMA:
        return dema_step(st, x);
    case KZ_MA_TEMA:
        return tema_step(st, x);
    case KZ_MA_TRIMA:
        return trima_step(st, x);
    case KZ_MA_KAMA:
        return kama_step(st, x);
    case KZ_MA_MAMA:
        return mama_step(st, x);
    case KZ_MA_T3:
        return t3_step(st, x);
    default:
        st->count++;
        return x;
    }
}

double kz_ta_ma_state_step(void *state, double x)
{
    ma_state *st = state;
    if (st->count == 0 && isnan(x)) {
        return NAN; /* leading NaN of a composed input: not started yet */
    }
    return step_any(st, x);
}

double kz_ta_ma_state_fama(const void *state)
{
    const ma_state *st = state;
    return st->type == KZ_MA_MAMA && st->count > 32 ? st->m.fama : NAN;
}

/* The per-type loops are written out so each step inlines into a tight loop (batch speed). */
#define RUN_LOOP(stepfn)                                                                           \
    for (; i < n; i++) {                                                                           \
        out[i] = stepfn(st, in[i]);                                                                \
    }

void kz_ta_ma_run(void *state, size_t n, const double *in, double *out, double *fama)
{
    ma_state *st = state;
    size_t i = 0;
    if (st->count == 0) {
        while (i < n && isnan(in[i])) {
            out[i] = NAN;
            if (fama) {
                fama[i] = NAN;
            }
            i++;
        }
    }
    if (fama) {
        for (; i < n; i++) {
            out[i] = step_any(st, in[i]);
            fama[i] = kz_ta_ma_state_fama(st);
        }
        return;
    }
    switch (st->type) {
    case KZ_MA_SMA:
        RUN_LOOP(sma_step);
        break;
    case KZ_MA_EMA:
        RUN_LOOP(ema_step);
        break;
    case KZ_MA_WMA:
        RUN_LOOP(wma_step);
        break;
    case KZ_MA_DEMA:
        RUN_LOOP(dema_step);
        break;
    case KZ_MA_TEMA:
        RUN_LOOP(tema_step);
        break;
    case KZ_MA_TRIMA:
        RUN_LOOP(trima_step);
        break;
    case KZ_MA_KAMA:
        RUN_LOOP(kama_step);
        break;
    case KZ_MA_MAMA:
        RUN_LOOP(mama_step);
        break;
    case KZ_MA_T3:
        RUN_LOOP(t3_step);
        break;
    default:
        for (; i < n; i++) {
            out[i] = in[i];
            st->count++;
        }
        break;
    }
}

#undef RUN_LOOP

void kz_ta_ma(size_t n, const double *in, int period, kz_matype type, double *out, double *work)
{
    kz_ta_ma_state_init(work, period, type);
    kz_ta_ma_run(work, n, in, out, NULL);
}
