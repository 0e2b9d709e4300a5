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
 * The scalars (mama_core) are apart from the Hilbert FIR buffers (mama_fir, indexed by bar
 * parity and position) so that a batch copy of the scalars can live in registers: period, re,
 * im, prev_i2 and prev_q2 sit on the bar-to-bar chain. */
typedef struct mama_core {
    double fast, slow;
    double wma_sub, wma_sum, wma_trail;
    double prev_i2, prev_q2, re, im, period, prev_phase;
    double mama, fama;
} mama_core;

/* Index 0 of each pair = the "even bar" variables, 1 = the "odd bar" ones. */
typedef struct mama_fir {
    int hidx;
    double det[2][3], q1[2][3], ji[2][3], jq[2][3];
    double prev_det[2], prev_det_in[2], prev_q1[2], prev_q1_in[2];
    double prev_ji[2], prev_ji_in[2], prev_jq[2], prev_jq_in[2];
    double i1_prev2[2], i1_prev3[2];
} mama_fir;

/* The scalar state of every other type. Kept apart from the ring so that a batch loop can run
 * the steps on a local copy: the compiler then holds the running sums in registers, where the
 * same fields in the caller's state would go through memory on every bar (the ring and out[]
 * stores may alias them), adding a store-to-load round trip to each latency-bound recursion. */
typedef struct ma_core {
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
} ma_core;

typedef struct ma_state {
    ma_core c;
    mama_core m;
    mama_fir f;
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
    ma_core *c = &st->c;
    memset(st, 0, sizeof *st);
    c->type = period <= 1 ? MA_COPY : type;
    c->period = period;
    c->ring_n = rn;
    c->pos = rn ? rn - 1 : 0;
    for (size_t i = 0; i < rn; i++) {
        st->ring[i] = 0.0;
    }
    c->k = 2.0 / (double)(period + 1); /* TA-Lib PER_TO_K */
    c->one_minus_k = 1.0 - c->k;
    if (type == KZ_MA_WMA) {
        long long p = period;
        c->factor = (double)((p * (p + 1)) >> 1);
    } else if (type == KZ_MA_TRIMA) {
        int h = period >> 1;
        long long w = (period % 2 == 1) ? (long long)(h + 1) * (h + 1) : (long long)h * (h + 1);
        c->factor = 1.0 / (double)w;
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
    ma_core *c = &st->c;
    state_init(st, period, KZ_MA_T3);
    /* ta_T3.c: T3 = c1*e6 + c2*e5 + c3*e4 + c4*e3 (Tillson, TASC 1998), TA-Lib's expression
     * order kept for bit-exactness. The EMA factor is written 2/(p+1.0) there. */
    c->k = 2.0 / ((double)period + 1.0);
    c->one_minus_k = 1.0 - c->k;
    double t = vfactor * vfactor;
    c->c1 = 0.0 - t * vfactor;
    c->c2 = 3.0 * (t - c->c1);
    c->c3 = -6.0 * t - 3.0 * (vfactor - c->c1);
    c->c4 = 1.0 + 3.0 * vfactor - c->c1 + 3.0 * t;
}

void kz_ta_ma_state_init_mama(void *state, double fastlimit, double slowlimit)
{
    ma_state *st = state;
    state_init(st, 2, KZ_MA_MAMA); /* MAMA ignores the period */
    st->m.fast = fastlimit;
    st->m.slow = slowlimit;
}

/* ---------------------------------------------------------------- ring helpers
 * Every step below takes the scalar state `c` and the ring separately (see ma_core). */

static inline void ring_push(ma_core *c, double *ring, double x)
{
    if (++c->pos == c->ring_n) {
        c->pos = 0;
    }
    ring[c->pos] = x;
}

/* The input j bars ago (0 = newest); j < ring_n. */
static inline double ring_back(const ma_core *c, const double *ring, size_t j)
{
    size_t i = c->pos >= j ? c->pos - j : c->pos + c->ring_n - j;
    return ring[i];
}

/* ---------------------------------------------------------------- per-type steps */

/* ta_SMA.c (TA_INT_SMA): running total, add newest, emit, then subtract the oldest. */
static inline double sma_step(ma_core *c, double *ring, double x)
{
    size_t n = c->count++;
    size_t p = (size_t)c->period;
    ring_push(c, ring, x);
    c->sum += x;
    if (n + 1 < p) {
        return NAN;
    }
    double t = c->sum;
    c->sum -= ring_back(c, ring, p - 1);
    return t / (double)c->period;
}

/* One SMA-seeded EMA (ta_EMA.c, TA_COMPATIBILITY_DEFAULT): the first value is the mean of the
 * first p inputs, then e = (x - e) * k + e. Shared by EMA, DEMA and TEMA. */
static inline double ema_core(ma_core *c, int level, double x)
{
    size_t n = c->ecount[level]++;
    size_t p = (size_t)c->period;
    if (n < p) {
        c->esum[level] += x;
        if (n + 1 < p) {
            return NAN;
        }
        c->e[level] = c->esum[level] / (double)c->period;
        return c->e[level];
    }
    c->e[level] = (x - c->e[level]) * c->k + c->e[level];
    return c->e[level];
}

static inline double ema_step(ma_core *c, double *ring, double x)
{
    (void)ring;
    c->count++;
    return ema_core(c, 0, x);
}

/* ta_DEMA.c: 2*EMA - EMA(EMA), the inner EMA seeded on the outer's first p values. */
static inline double dema_step(ma_core *c, double *ring, double x)
{
    (void)ring;
    c->count++;
    double e1 = ema_core(c, 0, x);
    if (isnan(e1)) {
        return NAN;
    }
    double e2 = ema_core(c, 1, e1);
    return isnan(e2) ? NAN : (2.0 * e1) - e2;
}

/* ta_TEMA.c: EMA3 + (3*EMA1 - 3*EMA2). */
static inline double tema_step(ma_core *c, double *ring, double x)
{
    (void)ring;
    c->count++;
    double e1 = ema_core(c, 0, x);
    if (isnan(e1)) {
        return NAN;
    }
    double e2 = ema_core(c, 1, e1);
    if (isnan(e2)) {
        return NAN;
    }
    double e3 = ema_core(c, 2, e2);
    return isnan(e3) ? NAN : e3 + (3.0 * e1 - 3.0 * e2);
}

/* ta_WMA.c: weights 1..p; periodSum drops a whole periodSub each bar. */
static inline double wma_step(ma_core *c, double *ring, double x)
{
    size_t n = c->count++;
    size_t p = (size_t)c->period;
    ring_push(c, ring, x);
    if (n + 1 < p) {
        c->sub += x;
        c->sum += x * (double)(n + 1);
        return NAN;
    }
    c->sub += x;
    c->sub -= c->trail;
    c->sum += x * (double)c->period;
    c->trail = ring_back(c, ring, p - 1);
    double out = c->sum / c->factor;
    c->sum -= c->sub;
    return out;
}

/* ta_TRIMA.c: numerator = triangular weighted sum, updated with the two half sums
 * (numeratorSub over the older half, numeratorAdd over the newer half). */
static inline double trima_step(ma_core *c, double *ring, double x)
{
    size_t n = c->count++;
    size_t p = (size_t)c->period;
    size_t h = p >> 1;
    int odd = (p % 2) == 1;
    ring_push(c, ring, x);
    if (n + 1 < p) {
        return NAN;
    }
    if (n + 1 == p) {
        /* First window w[0..p) (w[0] oldest) in TA-Lib's summation order. */
        size_t mid = odd ? h : h - 1;
        c->sub = 0.0;
        c->sum = 0.0;
        for (size_t i = mid + 1; i-- > 0;) {
            c->sub += ring_back(c, ring, p - 1 - i);
            c->sum += c->sub;
        }
        c->add = 0.0;
        for (size_t i = mid + 1; i < p; i++) {
            c->add += ring_back(c, ring, p - 1 - i);
            c->sum += c->add;
        }
        return c->sum * c->factor;
    }
    double old = ring_back(c, ring, p);
    double mid = ring_back(c, ring, h);
    c->sum -= c->sub;
    c->sub -= old;
    c->sub += mid;
    if (odd) {
        c->sum += c->add;
        c->add -= mid;
    } else {
        c->add -= mid;
        c->sum += c->add;
    }
    c->add += x;
    c->sum += x;
    return c->sum * c->factor;
}

/* ta_KAMA.c (Kaufman 1995): efficiency ratio over p bars, smoothing constant
 * (ER*(2/3 - 2/31) + 2/31)^2; TA-Lib's test `sumROC1 <= periodROC` (not |periodROC|) kept. */
static inline double kama_step(ma_core *c, double *ring, double x)
{
    static const double const_max = 2.0 / (30.0 + 1.0);
    const double const_diff = 2.0 / (2.0 + 1.0) - const_max;
    size_t n = c->count++;
    size_t p = (size_t)c->period;
    ring_push(c, ring, x);
    if (n == 0) {
        return NAN;
    }
    double period_roc;
    if (n <= p) {
        double t = ring_back(c, ring, 1);
        t -= x;
        c->sum += fabs(t);
        if (n < p) {
            return NAN;
        }
        c->prev = ring_back(c, ring, 1);
        double first = ring_back(c, ring, p);
        period_roc = x - first;
        c->trail = first;
    } else {
        double old = ring_back(c, ring, p);
        period_roc = x - old;
        c->sum -= fabs(c->trail - old);
        c->sum += fabs(x - ring_back(c, ring, 1));
        c->trail = old;
    }
    double er;
    if (c->sum <= period_roc || (c->sum > -1e-8 && c->sum < 1e-8)) {
        er = 1.0;
    } else {
        er = fabs(period_roc / c->sum);
    }
    er = er * const_diff + const_max;
    er *= er;
    c->prev = (x - c->prev) * er + c->prev;
    return c->prev;
}

/* ta_T3.c: six cascaded EMAs, each seeded with the mean of its first p values. */
static inline double t3_step(ma_core *c, double *ring, double x)
{
    (void)ring;
    size_t n = c->count++;
    size_t p = (size_t)c->period;
    const double k = c->k, omk = c->one_minus_k;
    double *e = c->e;
    if (n < p) {
        c->sum += x;
        if (n + 1 == p) {
            e[0] = c->sum / (double)c->period;
            c->sum = e[0];
        }
        return NAN;
    }
    size_t seeded = (n - p) / (p - 1) + 1; /* EMA level being seeded (1..5), 6+ = all done */
    size_t levels = seeded < 6 ? seeded : 6;
    e[0] = k * x + omk * e[0];
    for (size_t j = 1; j < levels; j++) {
        e[j] = k * e[j - 1] + omk * e[j];
    }
    if (seeded < 6) {
        c->sum += e[seeded - 1];
        if ((n - p) % (p - 1) != p - 2) {
            return NAN;
        }
        e[seeded] = c->sum / (double)c->period;
        c->sum = e[seeded];
        if (seeded < 5) {
            return NAN;
        }
    }
    return c->c1 * e[5] + c->c2 * e[4] + c->c3 * e[3] + c->c4 * e[2];
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

/* Degrees per radian as ta_MAMA.c writes it. */
static inline double mama_rad2deg(void)
{
    return 180.0 / (4.0 * atan(1));
}

/* MAMA is split in two so that the batch can stage it like the HT_* kernels (cycle.c): the
 * front is the recursive chain (smoother, transform, homodyne period estimate, whose atan feeds
 * the next bar), the back the adaptive averages. The back's phase atan depends on nothing of the
 * back, so over a chunk of fronts the phases of different bars are independent libm calls that
 * overlap; the streaming step runs front, phase, back on one bar. Same operations either way.
 *
 * mama_front: pushes x and runs the recursive chain of bar c (0-based); returns 0 during the
 * warm-up (c < 12: no phase yet), else 1 with the bar's quadrature q1 and in-phase i1 (the
 * phase's operands). */
static inline int mama_front(ma_core *c, mama_core *m, mama_fir *f, double *ring, double x,
                             double *q1_out, double *i1_out)
{
    size_t n = c->count++;
    ring_push(c, ring, x);
    if (n < 3) {
        /* WMA(4) price smoother warm-up: weights 1, 2, 3. */
        m->wma_sub += x;
        m->wma_sum += x * (double)(n + 1);
        return 0;
    }
    double adj = 0.075 * m->period + 0.54;
    m->wma_sub += x;
    m->wma_sub -= m->wma_trail;
    m->wma_sum += x * 4.0;
    m->wma_trail = ring_back(c, ring, 3);
    double smoothed = m->wma_sum * 0.1;
    m->wma_sum -= m->wma_sub;
    if (n < 12) {
        return 0;
    }
    int par = (int)(n % 2);
    int other = 1 - par;
    int hi = f->hidx;
    double det = ht_stage(f->det[par], &f->prev_det[par], &f->prev_det_in[par], hi, smoothed, adj);
    double q1 = ht_stage(f->q1[par], &f->prev_q1[par], &f->prev_q1_in[par], hi, det, adj);
    double i1 = f->i1_prev3[par];
    double ji = ht_stage(f->ji[par], &f->prev_ji[par], &f->prev_ji_in[par], hi, i1, adj);
    double jq = ht_stage(f->jq[par], &f->prev_jq[par], &f->prev_jq_in[par], hi, q1, adj);
    if (par == 0 && ++f->hidx == 3) {
        f->hidx = 0;
    }
    double q2 = 0.2 * (q1 + ji) + 0.8 * m->prev_q2;
    double i2 = 0.2 * (i1 - jq) + 0.8 * m->prev_i2;
    f->i1_prev3[other] = f->i1_prev2[other];
    f->i1_prev2[other] = det;
    /* Homodyne discriminator: next bar's period estimate. */
    m->re = 0.2 * (i2 * m->prev_i2 + q2 * m->prev_q2) + 0.8 * m->re;
    m->im = 0.2 * (i2 * m->prev_q2 - q2 * m->prev_i2) + 0.8 * m->im;
    m->prev_q2 = q2;
    m->prev_i2 = i2;
    double prev_period = m->period;
    if (m->im != 0.0 && m->re != 0.0) {
        m->period = 360.0 / (atan(m->im / m->re) * mama_rad2deg());
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
    *q1_out = q1;
    *i1_out = i1;
    return 1;
}

/* The phase in degrees of a bar whose front gave q1, i1. */
static inline double mama_phase(double q1, double i1)
{
    return i1 != 0.0 ? atan(q1 / i1) * mama_rad2deg() : 0.0;
}

/* mama_back: the adaptive MAMA and FAMA updates of bar n (0-based) with input x and phase;
 * returns MAMA (NaN before bar 32, TA-Lib's lookback). */
static inline double mama_back(mama_core *m, size_t n, double x, double phase)
{
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
    return n >= 32 ? m->mama : NAN;
}

/* The FAMA after `count` bars (NaN during the warm-up). */
static inline double mama_fama(const mama_core *m, size_t count)
{
    return count > 32 ? m->fama : NAN;
}

static inline double mama_step(ma_core *c, mama_core *m, mama_fir *f, double *ring, double x)
{
    double q1, i1;
    size_t n = c->count;
    if (!mama_front(c, m, f, ring, x, &q1, &i1)) {
        return NAN;
    }
    return mama_back(m, n, x, mama_phase(q1, i1));
}

/* Bars per staged MAMA chunk: the chunk's fronts stay in L1. */
#define MAMA_CHUNK 256

/* Batch MAMA: bar by bar through the warm-up, then software-pipelined chunks: the fronts of
 * chunk j and the phases and backs of chunk j-1 in one loop (the back of an earlier bar does not
 * depend on the front's latency-bound chain, so the CPU runs it while the chain waits; the front
 * and the back touch disjoint fields of mama_core). Each stage still sees its bars in order:
 * same doubles. Works on local copies of the state (see ma_core), written back at the end. */
static void mama_run(ma_state *st, size_t n, const double *in, double *out, double *fama)
{
    ma_core c = st->c;
    mama_core m = st->m;
    size_t i = 0;
    for (; i < n && c.count < 12; i++) {
        out[i] = mama_step(&c, &m, &st->f, st->ring, in[i]);
        if (fama) {
            fama[i] = mama_fama(&m, c.count);
        }
    }
    /* [chunk parity][bar]: the fronts' q1 and i1 */
    double q1[2][MAMA_CHUNK], i1[2][MAMA_CHUNK];
    int cur = 0;
    size_t prev_i = 0, prev_len = 0, prev_n0 = 0; /* the chunk whose backs are pending */
    while (i < n || prev_len > 0) {
        size_t len = n - i < MAMA_CHUNK ? n - i : MAMA_CHUNK;
        size_t n0 = c.count;
        int prev = 1 - cur;
        size_t steps = len > prev_len ? len : prev_len;
        for (size_t k = 0; k < steps; k++) {
            if (k < len) {
                (void)mama_front(&c, &m, &st->f, st->ring, in[i + k], &q1[cur][k], &i1[cur][k]);
            }
            if (k < prev_len) {
                double phase = mama_phase(q1[prev][k], i1[prev][k]);
                out[prev_i + k] = mama_back(&m, prev_n0 + k, in[prev_i + k], phase);
                if (fama) {
                    fama[prev_i + k] = mama_fama(&m, prev_n0 + k + 1);
                }
            }
        }
        prev_i = i;
        prev_len = len;
        prev_n0 = n0;
        cur = prev;
        i += len;
    }
    st->c = c;
    st->m = m;
}

/* ---------------------------------------------------------------- dispatch */

static inline double step_any(ma_state *st, double x)
{
    ma_core *c = &st->c;
    switch (c->type) {
    case KZ_MA_SMA:
        return sma_step(c, st->ring, x);
    case KZ_MA_EMA:
        return ema_step(c, st->ring, x);
    case KZ_MA_WMA:
        return wma_step(c, st->ring, x);
    case KZ_MA_DEMA:
        return dema_step(c, st->ring, x);
    case KZ_MA_TEMA:
        return tema_step(c, st->ring, x);
    case KZ_MA_TRIMA:
        return trima_step(c, st->ring, x);
    case KZ_MA_KAMA:
        return kama_step(c, st->ring, x);
    case KZ_MA_MAMA:
        return mama_step(c, &st->m, &st->f, st->ring, x);
    case KZ_MA_T3:
        return t3_step(c, st->ring, x);
    default:
        c->count++;
        return x;
    }
}

double kz_ta_ma_state_step(void *state, double x)
{
    ma_state *st = state;
    if (st->c.count == 0 && isnan(x)) {
        return NAN; /* leading NaN of a composed input: not started yet */
    }
    return step_any(st, x);
}

double kz_ta_ma_state_fama(const void *state)
{
    const ma_state *st = state;
    return st->c.type == KZ_MA_MAMA ? mama_fama(&st->m, st->c.count) : NAN;
}

/* The per-type loops are written out so each step inlines into a tight loop (batch speed), on a
 * local copy of the scalar state (see ma_core). */
#define RUN_LOOP(stepfn)                                                                           \
    do {                                                                                           \
        ma_core c = st->c;                                                                         \
        for (; i < n; i++) {                                                                       \
            out[i] = stepfn(&c, st->ring, in[i]);                                                  \
        }                                                                                          \
        st->c = c;                                                                                 \
    } while (0)

void kz_ta_ma_run(void *state, size_t n, const double *in, double *out, double *fama)
{
    ma_state *st = state;
    size_t i = 0;
    if (st->c.count == 0) {
        while (i < n && isnan(in[i])) {
            out[i] = NAN;
            if (fama) {
                fama[i] = NAN;
            }
            i++;
        }
    }
    if (st->c.type == KZ_MA_MAMA) {
        mama_run(st, n - i, in + i, out + i, fama ? fama + i : NULL);
        return;
    }
    if (fama) {
        kz_ta_nan_fill(fama + i, n - i, n - i); /* FAMA exists for MAMA only */
    }
    switch (st->c.type) {
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
        /* On the state itself: measured, KAMA's loop on a local copy runs twice as slow
         * (12.4 vs 5.6 ms per 1M bars) for reasons the generated code does not make obvious. */
        for (; i < n; i++) {
            out[i] = kama_step(&st->c, st->ring, in[i]);
        }
        break;
    case KZ_MA_T3:
        RUN_LOOP(t3_step);
        break;
    default:
        for (; i < n; i++) {
            out[i] = in[i];
            st->c.count++;
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
