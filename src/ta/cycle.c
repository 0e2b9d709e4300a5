/* Hilbert-transform cycle indicators HT_DCPERIOD, HT_DCPHASE, HT_PHASOR, HT_SINE, HT_TRENDLINE and
 * HT_TRENDMODE (J. Ehlers, "Rocket Science for Traders", 2001), bit-compatible with TA-Lib 0.6.4.
 *
 * DESIGN: one O(1) state machine (ht_state) implements the algorithm of TA-Lib's ta_HT_*.c; the six
 * functions differ only in how many warm-up bars the price smoother runs before the transform
 * starts (9 or 34), which optional stages run (dominant-cycle phase, trendline, trend mode) and
 * which values they emit. Every batch kernel is a loop over the same step function, so streaming
 * equals batch bit for bit. Floating-point operations follow TA-Lib's order exactly (the values
 * are recursive: TA-Lib's "unstable period" flag, here KZ_TA_UNSTABLE, reproduced from bar 0). */
#include <stdint.h>
#include <string.h>

#include "cycle_int.h"

enum ht_kind { HT_DCPERIOD, HT_DCPHASE, HT_PHASOR, HT_SINE, HT_TRENDLINE, HT_TRENDMODE };

/* TA-Lib keeps the last 50 smoothed prices (the dominant cycle is clamped to 6..50 bars); raw
 * prices are kept for the trendline's average over the cycle and the smoother's trailing value. */
#define SMOOTH_SIZE 50
#define PRICE_RING  64 /* power of two >= 50 */

/* The phase stage's DFT over one dominant cycle of p bars (1 <= p <= 50) weighs the smoothed
 * prices with sin and cos of i*2pi/p, i < p. Those 50*51/2 terms depend only on (p, i), so each
 * state tabulates them once at init, from the very expression TA-Lib evaluates per bar (same
 * operands, same order), which keeps every value bit-identical while the per-bar cost drops from
 * up to 50 sin/cos evaluations to table reads. Row p starts at DFT_ROW(p). */
#define DFT_MAX    SMOOTH_SIZE
#define DFT_ROW(p) ((size_t)(p) * (size_t)((p)-1) / 2)
#define DFT_SIZE   DFT_ROW(DFT_MAX + 1)

/* Ehlers' Hilbert FIR (0.0962, 0.5769) run separately on odd and even bars, as TA-Lib does
 * (HILBERT_VARIABLES / DO_HILBERT_TRANSFORM in ta_utility.h). */
#define HT_A 0.0962
#define HT_B 0.5769

typedef struct hilbert_filter {
    double buf[2][3];     /* [parity][hilbert index]: a*input of the last three same-parity bars */
    double prev[2];       /* b * the previous same-parity input, subtracted then added */
    double prev_input[2]; /* the previous same-parity input */
} hilbert_filter;

typedef struct ht_state {
    int kind;
    int warm;     /* bars the WMA smoother runs after its 3-bar seed before the transform starts */
    int lookback; /* first bar with an output */
    int phase;    /* run the dominant-cycle phase stage (DCPHASE, SINE, TRENDMODE) */
    int trend;    /* run the trendline stage (TRENDLINE, TRENDMODE) */
    uint64_t t;   /* bars seen */
    double price[PRICE_RING];
    /* 4-3-2-1 weighted moving average of the price (TA-Lib's DO_PRICE_WMA) */
    double wma_sub, wma_sum, wma_trail;
    int hidx; /* index into hilbert_filter.buf, advanced on even bars only */
    hilbert_filter detrender, q1, ji, jq;
    double i1_odd2, i1_odd3, i1_even2, i1_even3; /* detrender delayed 2 and 3 same-parity bars */
    double prev_i2, prev_q2, re, im, period, smooth_period;
    double smooth[SMOOTH_SIZE];
    int smooth_idx;
    double dc_phase, sine, lead_sine;
    double itrend1, itrend2, itrend3;
    int days_in_trend;
    double rad2deg, deg2rad, deg2rad_by360;
    double dft_sin[DFT_SIZE], dft_cos[DFT_SIZE]; /* filled only when `phase` is set */
} ht_state;

/* Values of the current bar, picked by each function. */
typedef struct ht_values {
    double i1, q1, smooth_period, dc_phase, sine, lead_sine, trendline, trend;
} ht_values;

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

static void ht_init(ht_state *s, int kind)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->warm = (kind == HT_DCPERIOD || kind == HT_PHASOR) ? 9 : 34;
    s->lookback = (kind == HT_DCPERIOD || kind == HT_PHASOR) ? 32 : 63;
    s->phase = kind == HT_DCPHASE || kind == HT_SINE || kind == HT_TRENDMODE;
    s->trend = kind == HT_TRENDLINE || kind == HT_TRENDMODE;
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
static void ht_transform(ht_state *s, double smoothed, ht_values *v)
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
        v->i1 = s->i1_even3;
        v->q1 = q1;
        s->i1_odd3 = s->i1_odd2;
        s->i1_odd2 = det;
    } else {
        double det = hilbert(&s->detrender, 0, s->hidx, smoothed, adjusted);
        double q1 = hilbert(&s->q1, 0, s->hidx, det, adjusted);
        double ji = hilbert(&s->ji, 0, s->hidx, s->i1_odd3, adjusted);
        double jq = hilbert(&s->jq, 0, s->hidx, q1, adjusted);
        q2 = (0.2 * (q1 + ji)) + (0.8 * s->prev_q2);
        i2 = (0.2 * (s->i1_odd3 - jq)) + (0.8 * s->prev_i2);
        v->i1 = s->i1_odd3;
        v->q1 = q1;
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
    v->smooth_period = s->smooth_period;
}

/* Dominant-cycle phase: DFT of the smoothed prices over one dominant cycle (TA_HT_DCPHASE). */
static void ht_phase(ht_state *s, ht_values *v)
{
    int dc_period = (int)(s->smooth_period + 0.5);
    double real_part = 0.0, imag_part = 0.0;
    int idx = s->smooth_idx;
    if (dc_period >= 1 && dc_period <= DFT_MAX) {
        const double *sin_row = s->dft_sin + DFT_ROW(dc_period);
        const double *cos_row = s->dft_cos + DFT_ROW(dc_period);
        for (int i = 0; i < dc_period; i++) {
            double value = s->smooth[idx];
            real_part += sin_row[i] * value;
            imag_part += cos_row[i] * value;
            idx = idx == 0 ? SMOOTH_SIZE - 1 : idx - 1;
        }
    } else {
        /* unreachable while the period clamp holds (6..50); kept for robustness */
        for (int i = 0; i < dc_period; i++) {
            double angle = dft_angle(s, i, dc_period);
            double value = s->smooth[idx];
            real_part += sin(angle) * value;
            imag_part += cos(angle) * value;
            idx = idx == 0 ? SMOOTH_SIZE - 1 : idx - 1;
        }
    }
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
    s->dc_phase += 360.0 / s->smooth_period;
    if (imag_part < 0.0) {
        s->dc_phase += 180.0;
    }
    if (s->dc_phase > 315.0) {
        s->dc_phase -= 360.0;
    }
    s->sine = sin(s->dc_phase * s->deg2rad);
    s->lead_sine = sin((s->dc_phase + 45) * s->deg2rad);
    v->dc_phase = s->dc_phase;
    v->sine = s->sine;
    v->lead_sine = s->lead_sine;
}

/* Instantaneous trendline: the price averaged over one dominant cycle, then a 4-3-2-1 WMA of
 * those averages (TA_HT_TRENDLINE). */
static void ht_trendline(ht_state *s, ht_values *v)
{
    int dc_period = (int)(s->smooth_period + 0.5);
    double avg = 0.0;
    for (int i = 0; i < dc_period; i++) {
        avg += s->price[(s->t - (uint64_t)i) & (PRICE_RING - 1)];
    }
    if (dc_period > 0) {
        avg = avg / (double)dc_period;
    }
    v->trendline = (4.0 * avg + 3.0 * s->itrend1 + 2.0 * s->itrend2 + s->itrend3) / 10.0;
    s->itrend3 = s->itrend2;
    s->itrend2 = s->itrend1;
    s->itrend1 = avg;
}

/* Trend (1) versus cycle (0) mode (TA_HT_TRENDMODE): cycle mode right after a crossing of the
 * sine and lead-sine lines, for half a cycle after it, and while the phase advances at the
 * cycle's rate; trend mode whenever the smoothed price is 1.5% or more away from the trendline. */
static void
ht_trendmode(ht_state *s, double prev_phase, double prev_sine, double prev_lead, ht_values *v)
{
    int trend = 1;
    if ((s->sine > s->lead_sine && prev_sine <= prev_lead) ||
        (s->sine < s->lead_sine && prev_sine >= prev_lead)) {
        s->days_in_trend = 0;
        trend = 0;
    }
    s->days_in_trend++;
    if (s->days_in_trend < (0.5 * s->smooth_period)) {
        trend = 0;
    }
    double advance = s->dc_phase - prev_phase;
    if (s->smooth_period != 0.0 && advance > (0.67 * 360.0 / s->smooth_period) &&
        advance < (1.5 * 360.0 / s->smooth_period)) {
        trend = 0;
    }
    double smoothed = s->smooth[s->smooth_idx];
    if (v->trendline != 0.0 && fabs((smoothed - v->trendline) / v->trendline) >= 0.015) {
        trend = 1;
    }
    v->trend = (double)trend;
}

/* Advance by one bar. Returns 1 when `v` holds this bar's values (the transform has started),
 * 0 during the smoother's seed and warm-up. */
static int ht_advance(ht_state *s, double x, ht_values *v)
{
    uint64_t t = s->t;
    s->price[t & (PRICE_RING - 1)] = x;
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
    s->wma_trail = s->price[(t - 3) & (PRICE_RING - 1)];
    double smoothed = s->wma_sum * 0.1;
    s->wma_sum -= s->wma_sub;
    if (t < 3 + (uint64_t)s->warm) {
        s->t++;
        return 0;
    }
    if (s->phase) {
        s->smooth[s->smooth_idx] = smoothed;
    }
    ht_transform(s, smoothed, v);
    double prev_phase = s->dc_phase, prev_sine = s->sine, prev_lead = s->lead_sine;
    if (s->phase) {
        ht_phase(s, v);
    }
    if (s->trend) {
        ht_trendline(s, v);
    }
    if (s->kind == HT_TRENDMODE) {
        ht_trendmode(s, prev_phase, prev_sine, prev_lead, v);
    }
    if (++s->smooth_idx == SMOOTH_SIZE) {
        s->smooth_idx = 0;
    }
    s->t++;
    return 1;
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
    ht_values v = {0};
    int ready = ht_advance(s, in[0], &v);
    if (!ready || t < (uint64_t)s->lookback) {
        out[0] = NAN;
        if (s->kind == HT_PHASOR || s->kind == HT_SINE) {
            out[1] = NAN;
        }
        return;
    }
    switch (s->kind) {
    case HT_DCPERIOD:
        out[0] = v.smooth_period;
        break;
    case HT_DCPHASE:
        out[0] = v.dc_phase;
        break;
    case HT_PHASOR:
        out[0] = v.i1;
        out[1] = v.q1;
        break;
    case HT_SINE:
        out[0] = v.sine;
        out[1] = v.lead_sine;
        break;
    case HT_TRENDLINE:
        out[0] = v.trendline;
        break;
    default:
        out[0] = v.trend;
        break;
    }
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

/* Batch = the streaming step over every bar (no scratch: the state lives on the stack). */
static void ht_batch(int kind, size_t n, const double *const *in, double *const *out)
{
    ht_state s;
    ht_init(&s, kind);
    int two = kind == HT_PHASOR || kind == HT_SINE;
    double o[2];
    for (size_t i = 0; i < n; i++) {
        kz_ht_state_step(&s, &in[0][i], o);
        out[0][i] = o[0];
        if (two) {
            out[1][i] = o[1];
        }
    }
}

#define HT_FUNCTIONS(name, kind)                                                                   \
    void kz_ht_##name##_init(void *state, const double *params)                                    \
    {                                                                                              \
        (void)params;                                                                              \
        ht_init(state, kind);                                                                      \
    }                                                                                              \
    void kz_ht_##name##_batch(size_t n, const double *const *in, const double *params,             \
                              double *const *out, double *work)                                    \
    {                                                                                              \
        (void)params;                                                                              \
        (void)work;                                                                                \
        ht_batch(kind, n, in, out);                                                                \
    }

HT_FUNCTIONS(dcperiod, HT_DCPERIOD)
HT_FUNCTIONS(dcphase, HT_DCPHASE)
HT_FUNCTIONS(phasor, HT_PHASOR)
HT_FUNCTIONS(sine, HT_SINE)
HT_FUNCTIONS(trendline, HT_TRENDLINE)
HT_FUNCTIONS(trendmode, HT_TRENDMODE)
