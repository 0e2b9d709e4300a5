/* Hilbert-transform cycle indicators HT_DCPERIOD, HT_DCPHASE, HT_PHASOR, HT_SINE, HT_TRENDLINE and
 * HT_TRENDMODE (J. Ehlers, "Rocket Science for Traders", 2001), bit-compatible with TA-Lib 0.6.4.
 *
 * DESIGN: one O(1) state machine (ht_state) implements the algorithm of TA-Lib's ta_HT_*.c; the six
 * functions differ only in how many warm-up bars the price smoother runs before the transform
 * starts (9 or 34), which optional stages run (dominant-cycle phase, sine, trendline, trend mode)
 * and which values they emit. Floating-point operations follow TA-Lib's order exactly (the values
 * are recursive: TA-Lib's "unstable period" flag, here KZ_TA_UNSTABLE, reproduced from bar 0).
 *
 * Each bar runs three stages: (A) the price smoother and the transform, a recursive chain whose
 * latency (one atan per bar) bounds the speed; (B) the sums over one dominant cycle (the phase's
 * DFT, the trendline's average), which depend on nothing but the price histories and the period;
 * (C) the phase, sine, trendline and trend mode. The streaming step runs A, B, C for its bar. The
 * batch kernel, once past the warm-up, runs A over a chunk of bars, then B and C over the chunk:
 * the same stage functions with the same operands, so the values are bit-identical, but B's long
 * add chains and C's sin/atan calls of different bars no longer wait behind A's chain. */
#include <stdint.h>
#include <string.h>

#include "cycle_int.h"

enum ht_kind { HT_DCPERIOD, HT_DCPHASE, HT_PHASOR, HT_SINE, HT_TRENDLINE, HT_TRENDMODE };

/* TA-Lib keeps the last 50 smoothed prices (the dominant cycle is clamped to 6..50 bars); the
 * trendline averages up to 50 raw prices and the smoother trails the price 3 bars back. Both
 * histories are "doubled rings" of HIST slots: each value is written at slot j and j + HIST, so
 * the last HIST values are always the contiguous run ending at ring[j + HIST] (newest), and the
 * stage-B sums read newest[-i] through one pointer, as the batch kernel does on plain arrays. */
#define HIST 50

/* The phase stage's DFT over one dominant cycle of p bars (1 <= p <= 50) weighs the smoothed
 * prices with sin and cos of i*2pi/p, i < p. Those 50*51/2 terms depend only on (p, i), so each
 * state tabulates them once at init, from the very expression TA-Lib evaluates per bar (same
 * operands, same order), which keeps every value bit-identical while the per-bar cost drops from
 * up to 50 sin/cos evaluations to table reads. Row p starts at DFT_ROW(p). */
#define DFT_MAX    HIST
#define DFT_ROW(p) ((size_t)(p) * (size_t)((p)-1) / 2)
#define DFT_SIZE   DFT_ROW(DFT_MAX + 1)

/* Bars per batch chunk: the chunk's stage-A results and histories stay in L1. */
#define CHUNK 256

/* Ehlers' Hilbert FIR (0.0962, 0.5769) run separately on odd and even bars, as TA-Lib does
 * (HILBERT_VARIABLES / DO_HILBERT_TRANSFORM in ta_utility.h). */
#define HT_A 0.0962
#define HT_B 0.5769

typedef struct hilbert_filter {
    double buf[2][3];     /* [parity][hilbert index]: a*input of the last three same-parity bars */
    double prev[2];       /* b * the previous same-parity input, subtracted then added */
    double prev_input[2]; /* the previous same-parity input */
} hilbert_filter;

#define HT_BIT(kind) (1u << (kind))
/* The functions whose transform starts after the long warm-up (34 bars) and so share one. */
#define HT_LONG_WARM                                                                               \
    (HT_BIT(HT_DCPHASE) | HT_BIT(HT_SINE) | HT_BIT(HT_TRENDLINE) | HT_BIT(HT_TRENDMODE))

typedef struct ht_state {
    unsigned want; /* HT_BIT of each function whose outputs this state produces */
    int warm;      /* bars the WMA smoother runs after its 3-bar seed before the transform starts */
    int lookback;  /* first bar with an output */
    int phase;     /* run the dominant-cycle phase stage (DCPHASE, SINE, TRENDMODE) */
    int sine;      /* compute the sine and lead sine (SINE, TRENDMODE) */
    int trend;     /* run the trendline stage (TRENDLINE, TRENDMODE) */
    int mode;      /* run the trend-mode stage (TRENDMODE) */
    uint64_t t;    /* bars seen */
    int price_j, smooth_j; /* doubled-ring write slots (see HIST) */
    double price[2 * HIST];
    double smooth[2 * HIST]; /* smoothed prices of the bars since the transform started */
    /* 4-3-2-1 weighted moving average of the price (TA-Lib's DO_PRICE_WMA) */
    double wma_sub, wma_sum, wma_trail;
    int hidx; /* index into hilbert_filter.buf, advanced on even bars only */
    hilbert_filter detrender, q1, ji, jq;
    double i1_odd2, i1_odd3, i1_even2, i1_even3; /* detrender delayed 2 and 3 same-parity bars */
    double prev_i2, prev_q2, re, im, period, smooth_period;
    double dc_phase, sine_v, lead_sine;
    double itrend1, itrend2, itrend3;
    int days_in_trend;
    double rad2deg, deg2rad, deg2rad_by360;
    double dft_sin[DFT_SIZE], dft_cos[DFT_SIZE]; /* filled only when `phase` is set */
} ht_state;

/* Stage-A results of one bar, and stage-B sums. */
typedef struct ht_core {
    double smoothed, i1, q1, smooth_period;
} ht_core;

typedef struct ht_sums {
    double real_part, imag_part; /* phase DFT */
    double avg;                  /* trendline price average over one cycle */
} ht_sums;

/* Values of the current bar, picked by each function. */
typedef struct ht_values {
    double i1, q1, smooth_period, dc_phase, sine, lead_sine, trendline, trend;
} ht_values;

/* Append x to a doubled ring (HIST slots, write slot *j); returns the pointer to the newest value,
 * preceded by the HIST - 1 previous ones. */
static inline const double *ring_push(double *ring, int *j, double x)
{
    ring[*j] = x;
    ring[*j + HIST] = x;
    const double *newest = &ring[*j + HIST];
    if (++*j == HIST) {
        *j = 0;
    }
    return newest;
}

/* Pointer to the newest value of a doubled ring, after the push that returned it. */
static inline const double *ring_newest(const double *ring, int j)
{
    return &ring[(j == 0 ? HIST : j) - 1 + HIST];
}

/* DO_HILBERT_TRANSFORM of TA-Lib, same operations in the same order. */
static double hilbert(hilbert_filter *f, int parity, int hidx, double input, double adjusted)
{
    double scaled = HT_A * input;
    double v = -f->buf[parity][hidx];
    f->buf[parity][hidx] = scaled;
    v += scaled;
    v -= f->prev[parity];
    f->prev[parity] = HT_B * f->prev_input[parity];
    v += f->prev[parity];
    f->prev_input[parity] = input;
    v *= adjusted;
    return v;
}

/* The DFT angle of term i over a cycle of p bars, exactly as ta_HT_DCPHASE.c computes it. */
static double dft_angle(const ht_state *s, int i, int p)
{
    return ((double)i * s->deg2rad_by360) / (double)p;
}

/* `want`: HT_BIT of one function, or of several that share the warm-up class (all in or all
 * out of HT_LONG_WARM). */
static void ht_init(ht_state *s, unsigned want)
{
    memset(s, 0, sizeof *s);
    s->want = want;
    int long_warm = (want & HT_LONG_WARM) != 0;
    s->warm = long_warm ? 34 : 9;
    s->lookback = long_warm ? 63 : 32;
    s->phase = (want & (HT_BIT(HT_DCPHASE) | HT_BIT(HT_SINE) | HT_BIT(HT_TRENDMODE))) != 0;
    s->sine = (want & (HT_BIT(HT_SINE) | HT_BIT(HT_TRENDMODE))) != 0;
    s->trend = (want & (HT_BIT(HT_TRENDLINE) | HT_BIT(HT_TRENDMODE))) != 0;
    s->mode = (want & HT_BIT(HT_TRENDMODE)) != 0;
    /* TA-Lib derives its constants from atan(1); 180/(4*atan(1)) used by HT_DCPERIOD equals
     * 45/atan(1) bit for bit (scaling by 4 is exact). */
    double quarter_pi = atan(1.0);
    s->rad2deg = 45.0 / quarter_pi;
    s->deg2rad = 1.0 / s->rad2deg;
    s->deg2rad_by360 = quarter_pi * 8.0;
    if (s->phase) {
        for (int p = 1; p <= DFT_MAX; p++) {
            for (int i = 0; i < p; i++) {
                double angle = dft_angle(s, i, p);
                s->dft_sin[DFT_ROW(p) + (size_t)i] = sin(angle);
                s->dft_cos[DFT_ROW(p) + (size_t)i] = cos(angle);
            }
        }
    }
}

/* The in-phase / quadrature stages and the period estimate (shared by all six functions). */
static inline void ht_transform(ht_state *s, double smoothed, ht_core *c)
{
    double adjusted = (0.075 * s->period) + 0.54;
    double i2, q2;
    if (s->t % 2 == 0) {
        double det = hilbert(&s->detrender, 1, s->hidx, smoothed, adjusted);
        double q1 = hilbert(&s->q1, 1, s->hidx, det, adjusted);
        double ji = hilbert(&s->ji, 1, s->hidx, s->i1_even3, adjusted);
        double jq = hilbert(&s->jq, 1, s->hidx, q1, adjusted);
        if (++s->hidx == 3) {
            s->hidx = 0;
        }
        q2 = (0.2 * (q1 + ji)) + (0.8 * s->prev_q2);
        i2 = (0.2 * (s->i1_even3 - jq)) + (0.8 * s->prev_i2);
        c->i1 = s->i1_even3;
        c->q1 = q1;
        s->i1_odd3 = s->i1_odd2;
        s->i1_odd2 = det;
    } else {
        double det = hilbert(&s->detrender, 0, s->hidx, smoothed, adjusted);
        double q1 = hilbert(&s->q1, 0, s->hidx, det, adjusted);
        double ji = hilbert(&s->ji, 0, s->hidx, s->i1_odd3, adjusted);
        double jq = hilbert(&s->jq, 0, s->hidx, q1, adjusted);
        q2 = (0.2 * (q1 + ji)) + (0.8 * s->prev_q2);
        i2 = (0.2 * (s->i1_odd3 - jq)) + (0.8 * s->prev_i2);
        c->i1 = s->i1_odd3;
        c->q1 = q1;
        s->i1_even3 = s->i1_even2;
        s->i1_even2 = det;
    }
    /* Homodyne discriminator: period from the phase advance between bars, limited to change
     * by at most x1.5 / x0.67 per bar and to 6..50 bars, then smoothed twice. */
    s->re = (0.2 * ((i2 * s->prev_i2) + (q2 * s->prev_q2))) + (0.8 * s->re);
    s->im = (0.2 * ((i2 * s->prev_q2) - (q2 * s->prev_i2))) + (0.8 * s->im);
    s->prev_q2 = q2;
    s->prev_i2 = i2;
    double prev_period = s->period;
    if (s->im != 0.0 && s->re != 0.0) {
        s->period = 360.0 / (atan(s->im / s->re) * s->rad2deg);
    }
    double limit = 1.5 * prev_period;
    if (s->period > limit) {
        s->period = limit;
    }
    limit = 0.67 * prev_period;
    if (s->period < limit) {
        s->period = limit;
    }
    if (s->period < 6) {
        s->period = 6;
    } else if (s->period > 50) {
        s->period = 50;
    }
    s->period = (0.2 * s->period) + (0.8 * prev_period);
    s->smooth_period = (0.33 * s->period) + (0.67 * s->smooth_period);
    c->smooth_period = s->smooth_period;
}

/* Stage A: advance the smoother (and, once warm, the transform) by bar x. Returns 1 when `c`
 * holds this bar's transform (the transform has started), 0 during the smoother's seed and
 * warm-up. */
static inline int ht_stage_a(ht_state *s, double x, ht_core *c)
{
    uint64_t t = s->t;
    const double *price = ring_push(s->price, &s->price_j, x);
    if (t < 3) {
        /* seed of the 4-3-2-1 WMA: weights 1, 2, 3 on the first three prices */
        s->wma_sub += x;
        s->wma_sum += x * (double)(t + 1);
        s->t++;
        return 0;
    }
    s->wma_sub += x;
    s->wma_sub -= s->wma_trail;
    s->wma_sum += x * 4.0;
    s->wma_trail = price[-3];
    double smoothed = s->wma_sum * 0.1;
    s->wma_sum -= s->wma_sub;
    if (t < 3 + (uint64_t)s->warm) {
        s->t++;
        return 0;
    }
    if (s->phase) {
        (void)ring_push(s->smooth, &s->smooth_j, smoothed);
    }
    c->smoothed = smoothed;
    ht_transform(s, smoothed, c);
    s->t++;
    return 1;
}

/* Stage B: the sums over one dominant cycle of int(smooth_period + 0.5) bars, read backwards
 * from the newest smoothed price / raw price (pointers into histories of at least HIST values). */
static inline void ht_stage_b(const ht_state *s,
                              double smooth_period,
                              const double *smooth_newest,
                              const double *price_newest,
                              ht_sums *b)
{
    int dc_period = (int)(smooth_period + 0.5);
    if (s->phase) {
        double real_part = 0.0, imag_part = 0.0;
        if (dc_period >= 1 && dc_period <= DFT_MAX) {
            const double *sin_row = s->dft_sin + DFT_ROW(dc_period);
            const double *cos_row = s->dft_cos + DFT_ROW(dc_period);
            for (int i = 0; i < dc_period; i++) {
                double value = smooth_newest[-i];
                real_part += sin_row[i] * value;
                imag_part += cos_row[i] * value;
            }
        }
        /* dc_period outside 1..50 is unreachable while the period clamp (6..50) holds; TA-Lib
         * would read beyond its 50-value history there, so no sum is formed */
        b->real_part = real_part;
        b->imag_part = imag_part;
    }
    if (s->trend) {
        /* the price averaged over one dominant cycle (TA_HT_TRENDLINE) */
        double avg = 0.0;
        int n = dc_period < HIST ? dc_period : HIST;
        for (int i = 0; i < n; i++) {
            avg += price_newest[-i];
        }
        if (dc_period > 0) {
            avg = avg / (double)dc_period;
        }
        b->avg = avg;
    }
}

/* Dominant-cycle phase from the DFT sums (TA_HT_DCPHASE), then the sine lines (TA_HT_SINE). */
static inline void ht_phase(ht_state *s, const ht_core *c, const ht_sums *b, ht_values *v)
{
    double real_part = b->real_part, imag_part = b->imag_part;
    double mag = fabs(imag_part);
    if (mag > 0.0) {
        s->dc_phase = atan(real_part / imag_part) * s->rad2deg;
    } else if (mag <= 0.01) {
        /* TA-Lib quirk: with a zero imaginary part the previous phase is moved by +-90. */
        if (real_part < 0.0) {
            s->dc_phase -= 90.0;
        } else if (real_part > 0.0) {
            s->dc_phase += 90.0;
        }
    }
    s->dc_phase += 90.0;
    /* compensate for the one-bar lag of the weighted moving average */
    s->dc_phase += 360.0 / c->smooth_period;
    if (imag_part < 0.0) {
        s->dc_phase += 180.0;
    }
    if (s->dc_phase > 315.0) {
        s->dc_phase -= 360.0;
    }
    v->dc_phase = s->dc_phase;
    if (s->sine) {
        s->sine_v = sin(s->dc_phase * s->deg2rad);
        s->lead_sine = sin((s->dc_phase + 45) * s->deg2rad);
        v->sine = s->sine_v;
        v->lead_sine = s->lead_sine;
    }
}

/* Instantaneous trendline: a 4-3-2-1 WMA of the per-cycle price averages (TA_HT_TRENDLINE). */
static inline void ht_trendline(ht_state *s, double avg, ht_values *v)
{
    v->trendline = (4.0 * avg + 3.0 * s->itrend1 + 2.0 * s->itrend2 + s->itrend3) / 10.0;
    s->itrend3 = s->itrend2;
    s->itrend2 = s->itrend1;
    s->itrend1 = avg;
}

/* Trend (1) versus cycle (0) mode (TA_HT_TRENDMODE): cycle mode right after a crossing of the
 * sine and lead-sine lines, for half a cycle after it, and while the phase advances at the
 * cycle's rate; trend mode whenever the smoothed price is 1.5% or more away from the trendline. */
static inline void ht_trendmode(ht_state *s,
                                const ht_core *c,
                                double prev_phase,
                                double prev_sine,
                                double prev_lead,
                                ht_values *v)
{
    int trend = 1;
    if ((s->sine_v > s->lead_sine && prev_sine <= prev_lead) ||
        (s->sine_v < s->lead_sine && prev_sine >= prev_lead)) {
        s->days_in_trend = 0;
        trend = 0;
    }
    s->days_in_trend++;
    if (s->days_in_trend < (0.5 * c->smooth_period)) {
        trend = 0;
    }
    double advance = s->dc_phase - prev_phase;
    if (c->smooth_period != 0.0 && advance > (0.67 * 360.0 / c->smooth_period) &&
        advance < (1.5 * 360.0 / c->smooth_period)) {
        trend = 0;
    }
    if (v->trendline != 0.0 && fabs((c->smoothed - v->trendline) / v->trendline) >= 0.015) {
        trend = 1;
    }
    v->trend = (double)trend;
}

/* Stage C: the optional stages of this function, in TA-Lib's order. */
static inline void ht_stage_c(ht_state *s, const ht_core *c, const ht_sums *b, ht_values *v)
{
    double prev_phase = s->dc_phase, prev_sine = s->sine_v, prev_lead = s->lead_sine;
    v->i1 = c->i1;
    v->q1 = c->q1;
    v->smooth_period = c->smooth_period;
    if (s->phase) {
        ht_phase(s, c, b, v);
    }
    if (s->trend) {
        ht_trendline(s, b->avg, v);
    }
    if (s->mode) {
        ht_trendmode(s, c, prev_phase, prev_sine, prev_lead, v);
    }
}

/* Where one function's outputs go: arrays indexed by bar (batch) or one-slot arrays (stream). */
typedef struct ht_target {
    int kind;
    double *o0, *o1; /* o1: second output of HT_PHASOR / HT_SINE, else unused (may be NULL) */
} ht_target;

/* The outputs of bar t (NaN before the lookback) into slot i of each target. */
static inline void
ht_emit(const ht_state *s, uint64_t t, const ht_values *v, const ht_target *tg, int nt, size_t i)
{
    for (int j = 0; j < nt; j++) {
        double a = NAN, b = NAN;
        if (t >= (uint64_t)s->lookback) {
            switch (tg[j].kind) {
            case HT_DCPERIOD:
                a = v->smooth_period;
                break;
            case HT_DCPHASE:
                a = v->dc_phase;
                break;
            case HT_PHASOR:
                a = v->i1;
                b = v->q1;
                break;
            case HT_SINE:
                a = v->sine;
                b = v->lead_sine;
                break;
            case HT_TRENDLINE:
                a = v->trendline;
                break;
            default:
                a = v->trend;
                break;
            }
        }
        tg[j].o0[i] = a;
        if (tg[j].kind == HT_PHASOR || tg[j].kind == HT_SINE) {
            tg[j].o1[i] = b;
        }
    }
}

/* The function a single-function state computes. */
static int ht_kind_of(const ht_state *s)
{
    int kind = 0;
    while (!(s->want & HT_BIT(kind))) {
        kind++;
    }
    return kind;
}

size_t kz_ht_state_size(const double *params)
{
    (void)params;
    return sizeof(ht_state);
}

void kz_ht_state_step(void *state, const double *in, double *out)
{
    ht_state *s = state;
    uint64_t t = s->t;
    ht_target tg = {ht_kind_of(s), &out[0], &out[1]};
    ht_core c;
    ht_values v = {0};
    if (!ht_stage_a(s, in[0], &c)) {
        ht_emit(s, 0, &v, &tg, 1, 0); /* bar 0 < lookback: NaN */
        return;
    }
    ht_sums b;
    ht_stage_b(s, c.smooth_period, ring_newest(s->smooth, s->smooth_j),
               ring_newest(s->price, s->price_j), &b);
    ht_stage_c(s, &c, &b, &v);
    ht_emit(s, t, &v, &tg, 1, 0);
}

int kz_ht_lookback_short(const double *params)
{
    (void)params;
    return 32;
}

int kz_ht_lookback_long(const double *params)
{
    (void)params;
    return 63;
}

/* Batch of the functions in `want` (one warm-up class) into nt targets: stage A alone through
 * the warm-up, then chunks of stage A, B, C. A chunk keeps the last HIST values of both
 * histories before its first bar (copied from the state's rings) followed by its own bars, so
 * stage B reads exactly what the streaming step reads. */
/* One chunk of up to CHUNK bars: stage A's results, and the last HIST values of both histories
 * before its first bar (copied from the state's rings) followed by its own bars, so that stage B
 * reads exactly what the streaming step reads. */
typedef struct ht_chunk {
    size_t first, m; /* bar index of core[0]; bars held */
    double hsmooth[HIST + CHUNK], hprice[HIST + CHUNK];
    ht_core core[CHUNK];
} ht_chunk;

static void ht_chunk_open(const ht_state *s, ht_chunk *c, size_t first, size_t m)
{
    c->first = first;
    c->m = m;
    memcpy(c->hsmooth, ring_newest(s->smooth, s->smooth_j) - (HIST - 1), HIST * sizeof(double));
    memcpy(c->hprice, ring_newest(s->price, s->price_j) - (HIST - 1), HIST * sizeof(double));
}

static inline void ht_chunk_a(ht_state *s, ht_chunk *c, size_t k, double x)
{
    (void)ht_stage_a(s, x, &c->core[k]);
    c->hsmooth[HIST + k] = c->core[k].smoothed;
    c->hprice[HIST + k] = x;
}

static inline void
ht_chunk_bc(ht_state *s, const ht_chunk *c, size_t k, const ht_target *tg, int nt)
{
    ht_sums b;
    ht_values v = {0};
    ht_stage_b(s, c->core[k].smooth_period, &c->hsmooth[HIST + k], &c->hprice[HIST + k], &b);
    ht_stage_c(s, &c->core[k], &b, &v);
    ht_emit(s, c->first + k, &v, tg, nt, c->first + k);
}

/* Batch of the functions in `want` (one warm-up class) into nt targets: stage A alone through
 * the warm-up, then software-pipelined chunks: stage A of chunk j and stages B, C of chunk j-1
 * in the same loop. Stage A is one latency-bound chain per bar (its atan); B and C of an earlier
 * bar do not depend on it, so the CPU executes them while the chain waits. Each stage still sees
 * its bars in order (A's state, C's state), and B reads the chunk's copies: same doubles. */
static void ht_batch(unsigned want, size_t n, const double *in, const ht_target *tg, int nt)
{
    ht_state s;
    ht_init(&s, want);
    size_t i = 0;
    size_t start = 3 + (size_t)s.warm; /* first bar whose stage A returns 1 */
    ht_values none = {0};
    for (; i < n && i < start; i++) {
        ht_core c;
        (void)ht_stage_a(&s, in[i], &c);
        ht_emit(&s, 0, &none, tg, nt, i);
    }
    ht_chunk chunk[2];
    ht_chunk *cur = &chunk[0], *prev = NULL;
    while (i < n) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        ht_chunk_open(&s, cur, i, m);
        size_t k = 0;
        if (prev) { /* prev is full: every chunk but the last holds CHUNK bars */
            for (; k < m; k++) {
                ht_chunk_a(&s, cur, k, in[i + k]);
                ht_chunk_bc(&s, prev, k, tg, nt);
            }
            for (; k < prev->m; k++) {
                ht_chunk_bc(&s, prev, k, tg, nt);
            }
        } else {
            for (; k < m; k++) {
                ht_chunk_a(&s, cur, k, in[i + k]);
            }
        }
        prev = cur;
        cur = cur == &chunk[0] ? &chunk[1] : &chunk[0];
        i += m;
    }
    for (size_t k = 0; prev && k < prev->m; k++) {
        ht_chunk_bc(&s, prev, k, tg, nt);
    }
}

#define HT_FUNCTIONS(name, kind)                                                                   \
    void kz_ht_##name##_init(void *state, const double *params)                                    \
    {                                                                                              \
        (void)params;                                                                              \
        ht_init(state, HT_BIT(kind));                                                              \
    }                                                                                              \
    void kz_ht_##name##_batch(size_t n, const double *const *in, const double *params,             \
                              double *const *out, double *work)                                    \
    {                                                                                              \
        (void)params;                                                                              \
        (void)work;                                                                                \
        ht_target tg = {kind, out[0], (kind == HT_PHASOR || kind == HT_SINE) ? out[1] : NULL};     \
        ht_batch(HT_BIT(kind), n, in[0], &tg, 1);                                                  \
    }

HT_FUNCTIONS(dcperiod, HT_DCPERIOD)
HT_FUNCTIONS(dcphase, HT_DCPHASE)
HT_FUNCTIONS(phasor, HT_PHASOR)
HT_FUNCTIONS(sine, HT_SINE)
HT_FUNCTIONS(trendline, HT_TRENDLINE)
HT_FUNCTIONS(trendmode, HT_TRENDMODE)

/* The HT function of a registry row, -1 for other rows. */
static int ht_kind_of_info(const kz_ta_info *info)
{
    static const kz_ta_state_init_fn inits[] = {
        [HT_DCPERIOD] = kz_ht_dcperiod_init,   [HT_DCPHASE] = kz_ht_dcphase_init,
        [HT_PHASOR] = kz_ht_phasor_init,       [HT_SINE] = kz_ht_sine_init,
        [HT_TRENDLINE] = kz_ht_trendline_init, [HT_TRENDMODE] = kz_ht_trendmode_init,
    };
    for (int k = 0; k < (int)(sizeof inits / sizeof inits[0]); k++) {
        if (info->state_init == inits[k]) {
            return k;
        }
    }
    return -1;
}

void kz_ht_run_shared(
    size_t n, const double *close, const kz_ta_request *req, size_t count, unsigned char *done)
{
    for (int long_class = 0; long_class <= 1; long_class++) {
        ht_target tg[64];
        unsigned want = 0;
        int nt = 0;
        for (size_t r = 0; r < count; r++) {
            int kind = done[r] ? -1 : ht_kind_of_info(req[r].info);
            if (kind < 0 || ((HT_BIT(kind) & HT_LONG_WARM) != 0) != long_class) {
                continue;
            }
            tg[nt].kind = kind;
            tg[nt].o0 = req[r].out[0];
            tg[nt].o1 = (kind == HT_PHASOR || kind == HT_SINE) ? req[r].out[1] : NULL;
            want |= HT_BIT(kind);
            done[r] = 1;
            if (++nt == (int)(sizeof tg / sizeof tg[0])) {
                ht_batch(want, n, close, tg, nt); /* a full batch of targets: run it, go on */
                want = 0;
                nt = 0;
            }
        }
        if (nt > 0) {
            ht_batch(want, n, close, tg, nt);
        }
    }
}
