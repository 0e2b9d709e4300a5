/* Volatility indicators, TA-Lib 0.6.4 exact: TRANGE, ATR and NATR (Wilder 1978, "New Concepts
 * in Technical Trading Systems"; TA-Lib ta_TRANGE.c, ta_ATR.c, ta_NATR.c). */
#include "misc_int.h"

enum { MODE_TRANGE, MODE_ATR, MODE_NATR };

typedef struct atr_state {
    int mode;
    int period;
    size_t count;      /* bars seen */
    double prev_close; /* close of the previous bar */
    double value;      /* running TR sum during the seed window, then the ATR */
} atr_state;

static size_t atr_size(const double *params)
{
    (void)params;
    return sizeof(atr_state);
}

static void atr_setup(void *state, int mode, int period)
{
    atr_state *s = state;
    s->mode = mode;
    s->period = period;
    s->count = 0;
    s->prev_close = 0.0;
    s->value = 0.0;
}

static void trange_init(void *state, const double *params)
{
    (void)params;
    atr_setup(state, MODE_TRANGE, 1);
}

static void atr_init(void *state, const double *params)
{
    atr_setup(state, MODE_ATR, (int)params[0]);
}

static void natr_init(void *state, const double *params)
{
    atr_setup(state, MODE_NATR, (int)params[0]);
}

/* in = high, low, close. Bar 0 has no true range. ATR: the first value (bar `period`) is the
 * plain mean of TR over bars 1..period summed left to right from 0 (TA-Lib's INT_SMA seed),
 * then Wilder's smoothing prev = (prev*(period-1) + TR)/period as three separate operations.
 * TA-Lib quirk kept: with period 1 both ATR and NATR return the raw TRANGE (NATR is then not
 * normalised). NATR = ATR/close*100, and 0 when close is within 1e-8 of zero (TA-Lib means
 * the same but, by a typo, writes that 0 into its first output slot instead). */
static inline void atr_step(void *state, const double *in, double *out)
{
    atr_state *s = state;
    size_t i = s->count++;
    double close = in[2];
    out[0] = NAN;
    if (i == 0) {
        s->prev_close = close;
        return;
    }
    double tr = kz_ta_true_range(in[0], in[1], s->prev_close);
    s->prev_close = close;
    if (s->mode == MODE_TRANGE || s->period <= 1) {
        out[0] = tr;
        return;
    }
    size_t p = (size_t)s->period;
    if (i < p) {
        s->value += tr;
        return;
    }
    if (i == p) {
        s->value += tr;
        s->value = s->value / (double)s->period;
    } else {
        s->value *= (double)(s->period - 1);
        s->value += tr;
        s->value /= (double)s->period;
    }
    if (s->mode == MODE_ATR) {
        out[0] = s->value;
    } else {
        out[0] = kz_misc_is_zero(close) ? 0.0 : (s->value / close) * 100.0;
    }
}

KZ_MISC_DEFINE_LOCAL(atr, atr_state, atr_size, atr_init, atr_step, 3)
KZ_MISC_DEFINE_LOCAL(natr, atr_state, atr_size, natr_init, atr_step, 3)
KZ_MISC_DEFINE_LOCAL(trange, atr_state, atr_size, trange_init, atr_step, 3)
