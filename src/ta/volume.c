/* Volume indicators, TA-Lib 0.6.4 exact: OBV (Granville 1963), the Chaikin A/D line and the
 * Chaikin A/D oscillator (TA-Lib ta_OBV.c, ta_AD.c, ta_ADOSC.c). */
#include "misc_int.h"

/* ---------------------------------------------------------------- OBV */

typedef struct obv_state {
    size_t count;
    double prev_close;
    double obv;
} obv_state;

static size_t obv_size(const double *params)
{
    (void)params;
    return sizeof(obv_state);
}

static void obv_init(void *state, const double *params)
{
    (void)params;
    obv_state *s = state;
    s->count = 0;
    s->prev_close = 0.0;
    s->obv = 0.0;
}

/* in = close, volume. TA-Lib starts the line at volume[0] on bar 0 (not at 0). */
static inline void obv_step(void *state, const double *in, double *out)
{
    obv_state *s = state;
    double close = in[0];
    if (s->count++ == 0) {
        s->obv = in[1];
    } else {
        /* Up or down is a coin flip for the branch predictor: select the term instead. x - v is
         * x + (-v) exactly, and x + (-0.0) is x bit for bit (also for x = -0.0, where + 0.0
         * would give +0.0), so this equals "+= v / -= v / leave alone". */
        double v = in[1];
        s->obv += close > s->prev_close ? v : close < s->prev_close ? -v : -0.0;
    }
    s->prev_close = close;
    out[0] = s->obv;
}

KZ_MISC_DEFINE_LOCAL(obv, obv_state, obv_size, obv_init, obv_step, 2)

/* ---------------------------------------------------------------- AD and ADOSC */

typedef struct ad_state {
    int oscillator; /* 0 = AD line, 1 = ADOSC */
    size_t count;
    size_t lookback;
    double ad;
    double fast_k, slow_k; /* EMA factors 2/(period+1) (TA-Lib PER_TO_K) */
    double fast, slow;     /* the two EMAs of the A/D line */
} ad_state;

static size_t ad_size(const double *params)
{
    (void)params;
    return sizeof(ad_state);
}

static void ad_setup(ad_state *s, int oscillator, int fast, int slow)
{
    s->oscillator = oscillator;
    s->count = 0;
    s->lookback = (size_t)(fast > slow ? fast : slow) - 1;
    s->ad = 0.0;
    s->fast_k = 2.0 / (double)(fast + 1);
    s->slow_k = 2.0 / (double)(slow + 1);
    s->fast = 0.0;
    s->slow = 0.0;
}

static void ad_init(void *state, const double *params)
{
    (void)params;
    ad_setup(state, 0, 2, 2);
}

static void adosc_init(void *state, const double *params)
{
    ad_setup(state, 1, (int)params[0], (int)params[1]);
}

/* in = high, low, close, volume. A/D accumulates the close location value times volume, skipping
 * bars with high <= low. ADOSC = EMA(fast) - EMA(slow) of that line where, unlike TA-Lib's EMA
 * function (SMA seed), both EMAs are seeded with the A/D value of bar 0 and run from bar 0
 * (TA-Lib ta_ADOSC.c, like MetaStock); the first output is at bar max(fast, slow) - 1. The
 * "fast" EMA is the one of the first parameter even when it is the slower one (as in TA-Lib). */
static void ad_step(void *state, const double *in, double *out)
{
    ad_state *s = state;
    double high = in[0], low = in[1], close = in[2];
    double range = high - low;
    if (range > 0.0) {
        s->ad += (((close - low) - (high - close)) / range) * in[3];
    }
    if (!s->oscillator) {
        out[0] = s->ad;
        return;
    }
    size_t i = s->count++;
    if (i == 0) {
        s->fast = s->ad;
        s->slow = s->ad;
    } else {
        s->fast = (s->fast_k * s->ad) + ((1.0 - s->fast_k) * s->fast);
        s->slow = (s->slow_k * s->ad) + ((1.0 - s->slow_k) * s->slow);
    }
    out[0] = i >= s->lookback ? s->fast - s->slow : NAN;
}

KZ_MISC_DEFINE(ad, ad_size, ad_init, ad_step, 4, 1)
KZ_MISC_DEFINE(adosc, ad_size, adosc_init, ad_step, 4, 1)
