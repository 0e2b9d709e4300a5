/* Wilder-smoothed momentum indicators, TA-Lib 0.6.4 exact: RSI, CMO, the directional movement
 * family (PLUS/MINUS_DM, PLUS/MINUS_DI, DX, ADX, ADXR) and MFI. */
#include <math.h>
#include <string.h>

#include "momentum_int.h"

/* ================================================================ batch kernels
 * Batch = the streaming step run over the series (kz_ta_drive). Fixed-size states use
 * KZ_MOM_LOCAL_BATCH (momentum_int.h); states with a variable-size tail stay in `work`. */
#define BATCH_LOCAL(NAME, TYPE, STEP, N_IN) KZ_MOM_LOCAL_BATCH(NAME, TYPE, STEP, N_IN, 1)

#define BATCH_WORK(NAME, STEP, N_IN)                                                               \
    size_t NAME##_work(size_t n, const double *params)                                             \
    {                                                                                              \
        (void)n;                                                                                   \
        return kz_ta_words(NAME##_state_size(params));                                            \
    }                                                                                              \
    void NAME##_batch(size_t n, const double *const *in, const double *params, double *const *out, \
                      double *work)                                                                \
    {                                                                                              \
        NAME##_state_init(work, params);                                                           \
        kz_ta_drive(n, in, N_IN, out, 1, work, STEP);                                        \
    }

/* ================================================================ RSI and CMO
 * (the Wilder gain/loss engine, kz_mom_gl, is in momentum_int.h: STOCHRSI uses it too). */

/* Chande's CMO as TA-Lib computes it: Wilder-smoothed gains and losses, 100*(G-L)/(G+L). */
static double cmo_value(const kz_mom_gl *s)
{
    double sum = s->gain + s->loss;
    return KZ_MOM_IS_ZERO(sum) ? 0.0 : 100.0 * ((s->gain - s->loss) / sum);
}

int kz_mom_rsi_lookback(const double *params)
{
    return kz_mom_period(params, 0);
}

size_t kz_mom_rsi_state_size(const double *params)
{
    (void)params;
    return sizeof(kz_mom_gl);
}

void kz_mom_rsi_state_init(void *state, const double *params)
{
    kz_mom_gl_init(state, kz_mom_period(params, 0));
}

static inline void rsi_step(void *state, const double *in, double *out)
{
    kz_mom_gl *s = state;
    out[0] = kz_mom_gl_step(s, in[0]) ? kz_mom_rsi_value(s) : NAN;
}

void kz_mom_rsi_state_step(void *state, const double *in, double *out)
{
    rsi_step(state, in, out);
}

BATCH_LOCAL(kz_mom_rsi, kz_mom_gl, rsi_step, 1)

int kz_mom_cmo_lookback(const double *params)
{
    return kz_mom_period(params, 0);
}

size_t kz_mom_cmo_state_size(const double *params)
{
    (void)params;
    return sizeof(kz_mom_gl);
}

void kz_mom_cmo_state_init(void *state, const double *params)
{
    kz_mom_gl_init(state, kz_mom_period(params, 0));
}

static inline void cmo_step(void *state, const double *in, double *out)
{
    kz_mom_gl *s = state;
    out[0] = kz_mom_gl_step(s, in[0]) ? cmo_value(s) : NAN;
}

void kz_mom_cmo_state_step(void *state, const double *in, double *out)
{
    cmo_step(state, in, out);
}

BATCH_LOCAL(kz_mom_cmo, kz_mom_gl, cmo_step, 1)

/* ================================================================ directional movement
 * Wilder (1978), "New Concepts in Technical Trading Systems", as TA-Lib implements it
 * (ta_ADX.c, ta_DX.c, ta_PLUS_DI.c, ta_PLUS_DM.c, ...): the one-bar +DM/-DM and true range are
 * summed over bars 1..p-1, then smoothed with sum = sum - sum/p + today. DI = 100*DM/TR,
 * DX = 100*|+DI - -DI|/(+DI + -DI), the first ADX is the mean of p DX values, then
 * ADX = (ADX*(p-1) + DX)/p, ADXR = (ADX[t] + ADX[t-(p-1)])/2. */
typedef enum dm_kind { DM_PLUS, DM_MINUS, DI_PLUS, DI_MINUS, DM_DX, DM_ADX, DM_ADXR } dm_kind;

typedef struct dm_state {
    int p;
    dm_kind kind;
    int64_t t;
    double ph, pl, pc;   /* previous bar's high, low, close */
    double pdm, mdm, tr; /* Wilder sums of +DM, -DM, TR */
    double dx;           /* last DX (DX repeats it while undefined) */
    double sum_dx, adx;  /* ADX: seed sum, current value */
    double ring[];       /* ADXR: ADX of the last p-1 bars, slot t % (p-1) */
} dm_state;

static size_t dm_size(const double *params, dm_kind kind)
{
    size_t ring = kind == DM_ADXR ? (size_t)kz_mom_period(params, 0) - 1 : 0;
    return sizeof(dm_state) + ring * sizeof(double);
}

static void dm_init(void *state, const double *params, dm_kind kind)
{
    dm_state *s = state;
    memset(s, 0, sizeof *s);
    s->p = kz_mom_period(params, 0);
    s->kind = kind;
}

/* Directional indicator from a smoothed DM. TA-Lib's period-1 path returns DM/TR unscaled. */
static inline double dm_di(const dm_state *s, double dm)
{
    if (KZ_MOM_IS_ZERO(s->tr)) {
        return 0.0;
    }
    return s->p == 1 ? dm / s->tr : 100.0 * (dm / s->tr);
}

/* DX of the current sums; returns 0 when undefined (TR or +DI + -DI is zero). */
static inline int dm_dx(const dm_state *s, double *dx)
{
    if (KZ_MOM_IS_ZERO(s->tr)) {
        return 0;
    }
    double minus_di = 100.0 * (s->mdm / s->tr);
    double plus_di = 100.0 * (s->pdm / s->tr);
    double sum = minus_di + plus_di;
    if (KZ_MOM_IS_ZERO(sum)) {
        return 0;
    }
    *dx = 100.0 * (fabs(minus_di - plus_di) / sum);
    return 1;
}

/* Advances the Wilder sums by one bar (t >= 1). */
static inline void dm_update(dm_state *s, double h, double l, double c)
{
    double diff_p = h - s->ph;
    double diff_m = s->pl - l;
    double tr = kz_ta_true_range(h, l, s->pc);
    double p = (double)s->p;
    int seeding = s->t < s->p;
    if (!seeding) {
        /* Each sum's decay is a division on its own chain; skip the ones this kind never reads
         * (with the kind known at compile time in the local batch, the test folds away). */
        if (s->kind != DM_PLUS && s->kind != DI_PLUS) {
            s->mdm -= s->mdm / p;
        }
        if (s->kind != DM_MINUS && s->kind != DI_MINUS) {
            s->pdm -= s->pdm / p;
        }
    }
    /* TA-Lib: -DM when diff_m > 0 and diff_p < diff_m, else +DM when diff_p > 0 and diff_p >
     * diff_m. Evaluated without branches (the winner is a coin flip for the predictor); adding
     * +0.0 to the other sum leaves it bit-identical since both are sums of non-negative terms,
     * never -0.0. */
    int minus = (diff_m > 0) & (diff_p < diff_m);
    int plus = !minus & (diff_p > 0) & (diff_p > diff_m);
    s->mdm += minus ? diff_m : 0.0;
    s->pdm += plus ? diff_p : 0.0;
    if (s->kind != DM_PLUS && s->kind != DM_MINUS) { /* PLUS_DM / MINUS_DM never read TR */
        s->tr = seeding ? s->tr + tr : s->tr - (s->tr / p) + tr;
    }
    s->ph = h;
    s->pl = l;
    s->pc = c;
}

/* ADX for bar t (t >= p); returns 1 once the first ADX (bar 2p-1) exists. */
static inline int dm_adx(dm_state *s)
{
    double dx = 0.0;
    int have = dm_dx(s, &dx);
    int64_t first = 2 * (int64_t)s->p - 1;
    if (s->t < first) {
        if (have) {
            s->sum_dx += dx;
        }
        return 0;
    }
    if (s->t == first) {
        if (have) {
            s->sum_dx += dx;
        }
        s->adx = s->sum_dx / (double)s->p;
    } else if (have) {
        s->adx = ((s->adx * (double)(s->p - 1)) + dx) / (double)s->p;
    }
    return 1;
}

static inline double dm_output(dm_state *s)
{
    int64_t t = s->t;
    int64_t p = s->p;
    switch (s->kind) {
    case DM_PLUS:
        return t >= (p > 1 ? p - 1 : 1) ? s->pdm : NAN;
    case DM_MINUS:
        return t >= (p > 1 ? p - 1 : 1) ? s->mdm : NAN;
    case DI_PLUS:
        return t >= p ? dm_di(s, s->pdm) : NAN;
    case DI_MINUS:
        return t >= p ? dm_di(s, s->mdm) : NAN;
    case DM_DX: {
        if (t < p) {
            return NAN;
        }
        double dx;
        if (dm_dx(s, &dx)) {
            s->dx = dx;
        } else if (t == p) {
            s->dx = 0.0;
        }
        return s->dx;
    }
    case DM_ADX:
        return t >= p && dm_adx(s) ? s->adx : NAN;
    case DM_ADXR: {
        if (t < p || !dm_adx(s)) {
            return NAN;
        }
        size_t slot = (size_t)(t % (p - 1));
        double old = s->ring[slot];
        s->ring[slot] = s->adx;
        return t >= 3 * p - 2 ? (s->adx + old) / 2.0 : NAN;
    }
    }
    return NAN;
}

static inline void dm_step(void *state, const double *in, double *out)
{
    dm_state *s = state;
    if (s->t == 0) {
        s->ph = in[0];
        s->pl = in[1];
        s->pc = s->kind == DM_PLUS || s->kind == DM_MINUS ? 0.0 : in[2];
        out[0] = NAN;
    } else {
        dm_update(s, in[0], in[1], s->kind == DM_PLUS || s->kind == DM_MINUS ? 0.0 : in[2]);
        out[0] = dm_output(s);
    }
    s->t++;
}

static int dm_lookback(const double *params, dm_kind kind)
{
    int p = kz_mom_period(params, 0);
    switch (kind) {
    case DM_PLUS:
    case DM_MINUS:
        return p > 1 ? p - 1 : 1;
    case DI_PLUS:
    case DI_MINUS:
    case DM_DX:
        return p;
    case DM_ADX:
        return 2 * p - 1;
    case DM_ADXR:
        return 3 * p - 2;
    }
    return 0;
}

/* The per-indicator entry points of the directional movement family. PLUS_DM/MINUS_DM read only
 * (high, low): their true range is computed against a zero close and never used. Only ADXR has
 * a ring after the struct (BATCH_WORK); the others' batch state is a local dm_state. */
#define DM_ENTRY(NAME, KIND, N_IN, BATCH)                                                          \
    int NAME##_lookback(const double *params)                                                      \
    {                                                                                              \
        return dm_lookback(params, KIND);                                                          \
    }                                                                                              \
    size_t NAME##_state_size(const double *params)                                                 \
    {                                                                                              \
        return dm_size(params, KIND);                                                              \
    }                                                                                              \
    void NAME##_state_init(void *state, const double *params)                                      \
    {                                                                                              \
        dm_init(state, params, KIND);                                                              \
    }                                                                                              \
    void NAME##_state_step(void *state, const double *in, double *out)                             \
    {                                                                                              \
        dm_step(state, in, out);                                                                   \
    }                                                                                              \
    BATCH

DM_ENTRY(kz_mom_plus_dm, DM_PLUS, 2, BATCH_LOCAL(kz_mom_plus_dm, dm_state, dm_step, 2))
DM_ENTRY(kz_mom_minus_dm, DM_MINUS, 2, BATCH_LOCAL(kz_mom_minus_dm, dm_state, dm_step, 2))
DM_ENTRY(kz_mom_plus_di, DI_PLUS, 3, BATCH_LOCAL(kz_mom_plus_di, dm_state, dm_step, 3))
DM_ENTRY(kz_mom_minus_di, DI_MINUS, 3, BATCH_LOCAL(kz_mom_minus_di, dm_state, dm_step, 3))
DM_ENTRY(kz_mom_dx, DM_DX, 3, BATCH_LOCAL(kz_mom_dx, dm_state, dm_step, 3))
DM_ENTRY(kz_mom_adx, DM_ADX, 3, BATCH_LOCAL(kz_mom_adx, dm_state, dm_step, 3))
DM_ENTRY(kz_mom_adxr, DM_ADXR, 3, BATCH_WORK(kz_mom_adxr, dm_step, 3))

/* ================================================================ MFI
 * Money Flow Index (Quong & Soudack 1989) as TA-Lib ta_MFI.c: typical price (h+l+c)/3 times
 * volume is positive or negative flow by the sign of the typical-price change (neither when
 * unchanged); sums over the last p bars kept by subtracting the value leaving the window;
 * MFI = 100*pos/(pos+neg), 0 when pos+neg < 1. */
typedef struct mfi_state {
    int p;
    int64_t t;
    size_t idx;
    double prev_tp, pos, neg;
    double ring[]; /* pos flow [0, p), neg flow [p, 2p) */
} mfi_state;

int kz_mom_mfi_lookback(const double *params)
{
    return kz_mom_period(params, 0);
}

size_t kz_mom_mfi_state_size(const double *params)
{
    return sizeof(mfi_state) + 2 * (size_t)kz_mom_period(params, 0) * sizeof(double);
}

void kz_mom_mfi_state_init(void *state, const double *params)
{
    mfi_state *s = state;
    memset(s, 0, kz_mom_mfi_state_size(params));
    s->p = kz_mom_period(params, 0);
}

static inline void mfi_step(void *state, const double *in, double *out)
{
    mfi_state *s = state;
    size_t p = (size_t)s->p;
    double tp = (in[0] + in[1] + in[2]) / 3.0;
    int64_t t = s->t++;
    out[0] = NAN;
    if (t == 0) {
        s->prev_tp = tp;
        return;
    }
    double *pos = s->ring;
    double *neg = s->ring + p;
    if (t > s->p) {
        s->pos -= pos[s->idx];
        s->neg -= neg[s->idx];
    }
    double diff = tp - s->prev_tp;
    s->prev_tp = tp;
    double flow = tp * in[3];
    pos[s->idx] = 0.0;
    neg[s->idx] = 0.0;
    if (diff < 0) {
        neg[s->idx] = flow;
        s->neg += flow;
    } else if (diff > 0) {
        pos[s->idx] = flow;
        s->pos += flow;
    }
    s->idx = s->idx + 1 == p ? 0 : s->idx + 1;
    if (t >= s->p) {
        double sum = s->pos + s->neg;
        out[0] = sum < 1.0 ? 0.0 : 100.0 * (s->pos / sum);
    }
}

void kz_mom_mfi_state_step(void *state, const double *in, double *out)
{
    mfi_step(state, in, out);
}

BATCH_WORK(kz_mom_mfi, mfi_step, 4)
