/* The per-bar feature engine: every closed bar updates every rolling state of the selected groups
 * and writes the full row. Batch (compute.c) and streaming run the same code, so batch == stream
 * bit for bit.
 *
 * DESIGN. Formulas and numeric conventions are docs/features.md (SPEC §1.2-1.6 with kizashi's
 * fixes), mirrored from tests/reference/features_ref.py. Rolling windows are O(1) states of
 * src/ta/rolling_int.h (inlined pushes: the means, lags, extrema and quantiles through
 * window_int.h, variance, correlation and EWM directly), all living in one block carved by a
 * two-pass layout (size, then init), so a push never allocates. The rolling mean is exact on a
 * window of equal values (pandas 1.5 roll_mean/roll_var track runs of equal values; a zero-volume
 * window must give VWAP = 0 exactly, docs/features.md "Points the formulas leave open"), and
 * slope10 is the reference's mirrored formula (so a constant window has slope exactly 0 and the
 * divergence flags match bit for bit). The close-only "core" (returns, realized volatility, RSI,
 * MACD, trend strength) is shared by the base bars and by each higher timeframe of the mtf group.
 *
 * PHASES. fe_engine_run takes a chunk of up to FE_CHUNK bars and runs it phase by phase: the base
 * phase (close history and the close-only core) over the whole chunk, then the moments phase
 * (every variance and correlation state), the quantile phase (every quantile window), then the
 * groups' phases (price, volatility, ...), each over the whole chunk. Each rolling state belongs
 * to exactly one phase and still sees its inputs bar after bar in order, so the values do not
 * depend on the chunk length (streaming passes chunks of 1 bar, the batch chunks of FE_CHUNK):
 * same states, same pushes, same doubles. What a later phase needs from an earlier one (C[t-1],
 * the core outputs, the standard deviations and quantiles, HH/LL, the FR/OI normals) goes through
 * the per-bar context fe_ctx; what a phase carries from one bar to the next (the previous high,
 * low, HH, LL, return) is that phase's own state. Short loops over a block let the CPU overlap
 * the work of consecutive bars and of independent states (measured: ~5-10% of the batch time
 * against one pass over all 94 columns per bar).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"

#include "features_int.h"
#include "ta/rolling_int.h"
#include "window_int.h"

#define EPS     1e-8 /* SPEC §1.2 safe_divide epsilon */
#define PI      3.14159265358979323846
#define HOUR_MS INT64_C(3600000)
#define DAY_MS  INT64_C(86400000)

/* ================================================================ small primitives */

/* SPEC §1.2 safe_divide: a / (b + 1e-8); ±inf or NaN results take d. */
static inline double sdiv(double a, double b, double d)
{
    double r = a / (b + EPS);
    return isfinite(r) ? r : d;
}

/* fmax and fmin inline (libm's are calls on the per-bar path), with the same results: a NaN
 * argument loses to a number, and equal arguments (+0 and -0) give y, as glibc's maxsd/minsd
 * based versions do. */
static inline double max2(double x, double y)
{
    return isnan(x) ? y : isnan(y) ? x : (x > y ? x : y);
}

static inline double min2(double x, double y)
{
    return isnan(x) ? y : isnan(y) ? x : (x < y ? x : y);
}

/* Where a row's cells go: column j at v[j * stride] (1 for a plain row; the batch writes a
 * column-major block, so that cleaning and narrowing it into the frame is a contiguous pass). */
typedef struct fe_row {
    double *v;
    size_t stride;
} fe_row;

static inline void put(fe_row row, size_t j, double x)
{
    row.v[j * row.stride] = x;
}

static inline double flag(int cond)
{
    return cond ? 1.0 : 0.0;
}

static void var_layout(kz_rvar_state *s, size_t w, carver *cv)
{
    void *mem = carve(cv, kz_rvar_mem(w));
    if (mem) {
        kz_rvar_init(s, w, 1, mem);
    }
}

static inline double std_push(kz_rvar_state *s, double x)
{
    return sqrt(kz_rvar_step(s, x));
}

static void corr_layout(kz_rcorr_state *s, size_t w, carver *cv)
{
    void *mem = carve(cv, kz_rcorr_mem(w));
    if (mem) {
        kz_rcorr_init(s, w, mem);
    }
}

/* The last 10 values, for the reference's slope10, stored twice (v[k] and v[k + 10]) so the
 * window is always the contiguous v[pos .. pos + 10), oldest first, without index arithmetic. */
typedef struct ring10 {
    double v[20];
    size_t pos, n;
} ring10;

/* OLS slope of the last 10 values against 0..9 written as the reference's slope10:
 * sum_k (9-2k)/2 (y[9-k] - y[k]) / 82.5 with 82.5 = sum_i (i - 4.5)^2; a window whose mirrored
 * values are equal has slope exactly 0. NaN until 10 values. */
static inline double slope10_push(ring10 *r, double x)
{
    r->v[r->pos] = x;
    r->v[r->pos + 10] = x;
    r->pos = r->pos == 9 ? 0 : r->pos + 1;
    if (r->n < 10) {
        r->n++;
    }
    if (r->n < 10) {
        return NAN;
    }
    const double *y = r->v + r->pos;
    double num = 0.0;
    for (size_t k = 0; k < 5; k++) {
        num += (double)(9 - 2 * (int)k) / 2.0 * (y[9 - k] - y[k]);
    }
    return num / 82.5;
}

/* The last few closes, for unpadded shifts (C[t-1], C[t-10]); stored twice like ring10, so
 * v[pos + HIST - 1 - k] is C[t-k]. */
enum { HIST = 11 };
typedef struct close_hist {
    double v[2 * HIST];
    size_t pos, n;
} close_hist;

static inline void hist_push(close_hist *h, double x)
{
    h->v[h->pos] = x;
    h->v[h->pos + HIST] = x;
    h->pos = h->pos + 1 == HIST ? 0 : h->pos + 1;
    if (h->n < HIST) {
        h->n++;
    }
}

/* C[t-k] after the push of C[t] (k < HIST); NaN before the series is long enough. */
static inline double hist_lag(const close_hist *h, size_t k)
{
    return k < h->n ? h->v[h->pos + HIST - 1 - k] : NAN;
}

/* ================================================================ close-only core */

/* Features that need only the close: base bars and each higher timeframe. */
typedef struct close_core {
    lag r_lag;           /* pct(C,1) */
    kz_rvar_state r_var; /* STD(r,v) */
    lag d_lag;           /* diff(C) for RSI */
    rmean gain, loss;    /* SMA(.,14) */
    kz_ewma_state e12, e26, e9;
    rmean ma_s, ma_l;
} close_core;

typedef struct core_out {
    double r, rv, rsi, macd, signal, hist, ma_s, ma_l, trend;
} core_out;

static void core_layout(close_core *c, const kz_feature_params *p, carver *cv)
{
    lag_layout(&c->r_lag, 1, 1, cv);
    var_layout(&c->r_var, (size_t)p->volatility, cv);
    lag_layout(&c->d_lag, 1, 0, cv);
    rmean_layout(&c->gain, 14, cv);
    rmean_layout(&c->loss, 14, cv);
    rmean_layout(&c->ma_s, (size_t)p->short_ma, cv);
    rmean_layout(&c->ma_l, (size_t)p->long_ma, cv);
    if (cv->base) {
        /* pandas ewm(span=s): alpha = 2 / (s + 1). */
        kz_ewma_init(&c->e12, 2.0 / 13.0);
        kz_ewma_init(&c->e26, 2.0 / 27.0);
        kz_ewma_init(&c->e9, 2.0 / 10.0);
    }
}

/* The core without its variance state: every output but rv (which core_rv completes). */
static void core_push_but_rv(close_core *c, double close, core_out *o)
{
    o->r = lag_pct_push(&c->r_lag, close);
    /* SPEC §1.6 RSI with simple means; the NaN first difference counts as 0 gain and 0 loss. */
    double d = lag_diff_push(&c->d_lag, close);
    double gain = rmean_push(&c->gain, d > 0.0 ? d : 0.0);
    double loss = rmean_push(&c->loss, d < 0.0 ? -d : 0.0);
    o->rsi = 100.0 - 100.0 / (1.0 + sdiv(gain, loss, 1.0));
    o->macd = kz_ewma_step(&c->e12, close) - kz_ewma_step(&c->e26, close);
    o->signal = kz_ewma_step(&c->e9, o->macd);
    o->hist = o->macd - o->signal;
    o->ma_s = rmean_push(&c->ma_s, close);
    o->ma_l = rmean_push(&c->ma_l, close);
    o->trend = sdiv(o->ma_s - o->ma_l, o->ma_l, 0.0);
}

/* rv from the return core_push_but_rv has just computed. */
static inline void core_rv(close_core *c, core_out *o)
{
    /* sqrt(24) on every timeframe, as the original (SPEC §1.4). */
    o->rv = std_push(&c->r_var, o->r) * sqrt(24.0);
}

static void core_push(close_core *c, double close, core_out *o)
{
    core_push_but_rv(c, close, o);
    core_rv(c, o);
}

/* ================================================================ higher timeframes */

enum { N_HTF = 2, N_MTF = 5 };
static const kz_timeframe HTF_TF[N_HTF] = {KZ_TF_4H, KZ_TF_1D};

/* Bars grouped into UTC-aligned buckets of htf_ms; a bucket is final when a bar closes at (or
 * after) its end or a bar of a later bucket arrives, and is then read until the next one is
 * final: the last HTF bar whose close <= the base bar's close (docs/features.md, mtf). */
typedef struct htf_state {
    int64_t htf_ms;
    int active; /* htf >= base timeframe; otherwise the columns are NaN */
    int open;   /* a bucket is being filled */
    int seen;   /* bucket holds the bucket of the last bar */
    int64_t bucket;
    double close; /* last close of the open bucket */
    close_core core;
    double reading[N_MTF];
} htf_state;

static void
htf_layout(htf_state *h, const kz_feature_params *p, int64_t tf_ms, kz_timeframe htf, carver *cv)
{
    core_layout(&h->core, p, cv);
    if (cv->base) {
        h->htf_ms = kz_timeframe_ms(htf);
        h->active = h->htf_ms >= tf_ms;
        h->open = 0;
        h->seen = 0;
        for (size_t k = 0; k < N_MTF; k++) {
            h->reading[k] = NAN;
        }
    }
}

static void htf_finalize(htf_state *h)
{
    core_out o;
    core_push(&h->core, h->close, &o);
    h->reading[0] = o.r;
    h->reading[1] = o.rv;
    h->reading[2] = o.rsi;
    h->reading[3] = o.hist;
    h->reading[4] = o.trend;
    h->open = 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static void
htf_push(htf_state *h, int64_t ts_ms, int64_t tf_ms, double close, fe_row row, size_t first)
{
    /* Bars arrive in time order, so most share the last bar's bucket: that test saves the
     * 64-bit division by the (run-time) bucket length on most bars. */
    int64_t b = h->seen && ts_ms >= h->bucket && ts_ms - h->bucket < h->htf_ms
                    ? h->bucket
                    : floor_div(ts_ms, h->htf_ms) * h->htf_ms;
    h->seen = 1;
    if (h->open && b != h->bucket) {
        htf_finalize(h);
    }
    h->bucket = b;
    h->close = close;
    h->open = 1;
    if (ts_ms + tf_ms >= b + h->htf_ms) {
        htf_finalize(h);
    }
    for (size_t k = 0; k < N_MTF; k++) {
        put(row, first + k, h->reading[k]);
    }
}

/* ================================================================ the engine */

/* One bar of a chunk: its inputs and what later phases read from earlier ones. */
typedef struct fe_ctx {
    fe_bar in;
    double c1, c10; /* C[t-1], C[t-10] (NaN before the series is long enough) */
    core_out co;
    /* moments phase: standard deviations and correlations */
    double fr_sd24, fr_sd168, oi_sd168, r_sd24, oi_corr, eff;
    double oi_change; /* pct(OI,1) */
    /* quantile phase: the windows' quantiles after this bar's push */
    double rv_q80, v_q90, fr_q90, fr_q10, oi_q90;
    double hh, ll;             /* MAX(H,v), MIN(L,v) (need_hlv) */
    double snorm_fr, snorm_oi; /* for composite; NaN when not computed */
} fe_ctx;

struct fe_engine {
    kz_feature_params p;
    int64_t tf_ms;
    unsigned g; /* selected groups */
    int need_fr, need_oi, need_hlv;
    void *mem;
    close_hist ch;
    double prev_h, prev_l;   /* pattern phase: the previous bar's H, L */
    double prev_hh, prev_ll; /* regime phase: the previous bar's HH, LL */
    double prev_r;           /* moments phase (regime's efficiency): the previous bar's r */
    close_core core;
    /* price */
    lag c_mom, c_5, c_20;
    ext cmin, cmax;
    /* volatility */
    rmean rv_ma, tr_ma;
    squant rv_q;
    lag rv_pct;
    /* volume */
    rmean v_sum, v_ma5, tpv_sum; /* v_sum: SUM(V,vol) and SMA(V,vol) */
    lag v_pct;
    squant v_q;
    /* funding */
    rmean fr_ma24, fr_ma168;
    kz_rvar_state fr_var24, fr_var168;
    lag fr_diff, fr_pct;
    squant fr_q; /* quantiles 0.9 and 0.1 */
    /* open interest */
    lag oi_pct1, oi_pct24;
    squant oi_q90;
    kz_rvar_state r_var24, oi_var168;
    rmean oi_ma24, oi_ma168;
    kz_rcorr_state oi_corr;
    /* regime and pattern */
    ext hh_v, ll_v;
    kz_rcorr_state eff;
    /* momentum */
    ext hh14, ll14;
    rmean k_ma3, tp_ma20;
    lag c_12;
    /* pattern */
    ring10 sl_c, sl_rsi;
    /* mtf */
    htf_state htf[N_HTF];
    /* time */
    double hour_sin[24], hour_cos[24], dow_sin[7], dow_cos[7];
    fe_ctx ctx[FE_CHUNK];
};

static int sel(const fe_engine *e, kz_feature_group g)
{
    return (e->g & KZ_FG_BIT(g)) != 0;
}

/* The quantile levels of the quantile windows (quant_layout takes arrays). */
static const double Q80 = 0.8, Q90 = 0.9, FR_Q[2] = {0.9, 0.1};

/* Lays out (base == NULL: sizes) the states of the selected groups. */
static void engine_layout(fe_engine *e, carver *cv)
{
    const kz_feature_params *p = &e->p;
    size_t v = (size_t)p->volatility, vol = (size_t)p->volume;
    core_layout(&e->core, p, cv);
    if (sel(e, KZ_FG_PRICE)) {
        lag_layout(&e->c_mom, (size_t)p->momentum, 1, cv);
        lag_layout(&e->c_5, 5, 1, cv);
        lag_layout(&e->c_20, 20, 1, cv);
        ext_layout(&e->cmin, v, 0, cv);
        ext_layout(&e->cmax, v, 1, cv);
    }
    if (sel(e, KZ_FG_VOLATILITY)) {
        rmean_layout(&e->rv_ma, v, cv);
        rmean_layout(&e->tr_ma, v, cv);
        quant_layout(&e->rv_q, 2 * v, &Q80, 1, cv);
        lag_layout(&e->rv_pct, 1, 1, cv);
    }
    if (sel(e, KZ_FG_VOLUME)) {
        rmean_layout(&e->v_ma5, 5, cv);
        rmean_layout(&e->tpv_sum, vol, cv);
        rmean_layout(&e->v_sum, vol, cv);
        lag_layout(&e->v_pct, 1, 1, cv);
        quant_layout(&e->v_q, vol, &Q90, 1, cv);
    }
    if (e->need_fr) {
        rmean_layout(&e->fr_ma24, 24, cv);
        rmean_layout(&e->fr_ma168, 168, cv);
        var_layout(&e->fr_var24, 24, cv);
        var_layout(&e->fr_var168, 168, cv);
        lag_layout(&e->fr_diff, 1, 0, cv);
        lag_layout(&e->fr_pct, 1, 1, cv);
        quant_layout(&e->fr_q, 168, FR_Q, 2, cv);
    }
    if (e->need_oi) {
        lag_layout(&e->oi_pct1, 1, 1, cv);
        lag_layout(&e->oi_pct24, 24, 1, cv);
        quant_layout(&e->oi_q90, 168, &Q90, 1, cv);
        var_layout(&e->r_var24, 24, cv);
        var_layout(&e->oi_var168, 168, cv);
        rmean_layout(&e->oi_ma24, 24, cv);
        rmean_layout(&e->oi_ma168, 168, cv);
        corr_layout(&e->oi_corr, 24, cv);
    }
    if (e->need_hlv) {
        ext_layout(&e->hh_v, v, 1, cv);
        ext_layout(&e->ll_v, v, 0, cv);
    }
    if (sel(e, KZ_FG_REGIME)) {
        corr_layout(&e->eff, v - 1, cv);
    }
    if (sel(e, KZ_FG_MOMENTUM)) {
        ext_layout(&e->hh14, 14, 1, cv);
        ext_layout(&e->ll14, 14, 0, cv);
        rmean_layout(&e->k_ma3, 3, cv);
        rmean_layout(&e->tp_ma20, 20, cv);
        lag_layout(&e->c_12, 12, 1, cv);
    }
    if (sel(e, KZ_FG_MTF)) {
        for (size_t k = 0; k < N_HTF; k++) {
            htf_layout(&e->htf[k], p, e->tf_ms, HTF_TF[k], cv);
        }
    }
}

/* sin/cos of hour-of-day and day-of-week angles, tabulated once with the reference's expression
 * (2 pi k / period) so the table lookups are the same doubles as computing them per bar. */
static void time_tables_init(double *sin_t, double *cos_t, int period)
{
    for (int k = 0; k < period; k++) {
        double x = (double)k;
        sin_t[k] = sin(2.0 * PI * x / (double)period);
        cos_t[k] = cos(2.0 * PI * x / (double)period);
    }
}

kz_status fe_engine_new(
    const kz_feature_params *p, kz_timeframe tf, int has_funding, int has_oi, fe_engine **out)
{
    *out = NULL;
    fe_engine *e = kz_calloc(1, sizeof *e);
    if (!e) {
        return KZ_ERR_NOMEM;
    }
    e->p = *p;
    e->g = p->groups;
    e->tf_ms = kz_timeframe_ms(tf);
    e->need_fr = has_funding && (sel(e, KZ_FG_FUNDING) || sel(e, KZ_FG_COMPOSITE));
    e->need_oi = has_oi && (sel(e, KZ_FG_OPEN_INTEREST) || sel(e, KZ_FG_COMPOSITE));
    e->need_hlv = sel(e, KZ_FG_REGIME) || sel(e, KZ_FG_PATTERN);
    /* Composite needs both series; without one of them its columns stay NaN. */
    if (!has_funding || !has_oi) {
        e->g &= ~KZ_FG_BIT(KZ_FG_COMPOSITE);
    }
    if (!has_funding) {
        e->g &= ~KZ_FG_BIT(KZ_FG_FUNDING);
    }
    if (!has_oi) {
        e->g &= ~KZ_FG_BIT(KZ_FG_OPEN_INTEREST);
    }
    carver cv = {NULL, 0};
    engine_layout(e, &cv);
    e->mem = kz_malloc(cv.off ? cv.off : 1);
    if (!e->mem) {
        kz_free(e);
        return KZ_ERR_NOMEM;
    }
    cv.base = e->mem;
    cv.off = 0;
    engine_layout(e, &cv);
    e->prev_h = e->prev_l = e->prev_hh = e->prev_ll = e->prev_r = NAN;
    time_tables_init(e->hour_sin, e->hour_cos, 24);
    time_tables_init(e->dow_sin, e->dow_cos, 7);
    *out = e;
    return KZ_OK;
}

void fe_engine_free(fe_engine *e)
{
    if (e) {
        kz_free(e->mem);
        kz_free(e);
    }
}

/* ---------------------------------------------------------------- phases, SPEC §1.3-1.6
 * Each phase runs its group over the n bars of the chunk: bar r's cells go to row_at(row, r). */

static inline fe_row row_at(fe_row row, size_t r)
{
    return (fe_row){row.v + r, row.stride};
}

/* Close history and the close-only core: C[t-1], C[t-10] and core_out for every later phase
 * (rv: moments_phase). */
static void base_phase(fe_engine *e, fe_ctx *cx, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        hist_push(&e->ch, cx[r].in.c);
        cx[r].c1 = hist_lag(&e->ch, 1);
        cx[r].c10 = hist_lag(&e->ch, 10);
        core_push_but_rv(&e->core, cx[r].in.c, &cx[r].co);
    }
}

/* FE_FLATTEN: inline every call in the function's body (GCC/Clang; elsewhere a no-op). For the
 * moments and quantile phases: the compiler keeps kz_rvar_step, kz_rcorr_step and squant_push
 * out of line (too large to inline at each of their 5, 2 and 4 call sites), so every window
 * shared one copy of their data-dependent branches, and each window's pattern (a quantile
 * window's entering and leaving values, a run of equal funding rates) trained the predictor
 * against the next window's. A copy per window keeps the patterns apart (callgrind's branch
 * simulation: -15% mispredicts; with qend_replace_at 2-4% of the batch time on 100k bars). The
 * per-window arithmetic is unchanged, so are the doubles. */
#if defined(__GNUC__)
#    define FE_FLATTEN __attribute__((flatten))
#else
#    define FE_FLATTEN
#endif

/* Every Welford state (the core's STD(r,v), the FR/OI standard deviations, the correlations) in
 * one loop: each update is a chain of two dependent divisions, and independent chains side by
 * side are what the CPU can overlap. */
FE_FLATTEN static void moments_phase(fe_engine *e, fe_ctx *cx, size_t n)
{
    int regime = sel(e, KZ_FG_REGIME);
    for (size_t r = 0; r < n; r++) {
        double ret = cx[r].co.r;
        core_rv(&e->core, &cx[r].co);
        if (e->need_fr) {
            cx[r].fr_sd168 = std_push(&e->fr_var168, cx[r].in.fr);
            cx[r].fr_sd24 = std_push(&e->fr_var24, cx[r].in.fr);
        }
        if (e->need_oi) {
            double ch = lag_pct_push(&e->oi_pct1, cx[r].in.oi);
            cx[r].oi_change = ch;
            cx[r].oi_corr = kz_rcorr_step(&e->oi_corr, ret, ch);
            cx[r].oi_sd168 = std_push(&e->oi_var168, cx[r].in.oi);
            cx[r].r_sd24 = std_push(&e->r_var24, ret);
        }
        if (regime) {
            /* Lag-1 autocorrelation of the last v returns = corr of the v-1 pairs
             * (r[t-1], r[t]). */
            cx[r].eff = kz_rcorr_step(&e->eff, e->prev_r, ret);
            e->prev_r = ret;
        }
    }
}

/* Every quantile window in one loop, likewise: a push is a short chain of comparisons (now and
 * then a move or a scan) through the window's own memory, independent of the other windows'. */
FE_FLATTEN static void quantile_phase(fe_engine *e, fe_ctx *cx, size_t n)
{
    int vola = sel(e, KZ_FG_VOLATILITY), volu = sel(e, KZ_FG_VOLUME);
    for (size_t r = 0; r < n; r++) {
        if (vola) {
            squant_push(&e->rv_q, cx[r].co.rv);
            cx[r].rv_q80 = squant_value(&e->rv_q, 0);
        }
        if (volu) {
            squant_push(&e->v_q, cx[r].in.v);
            cx[r].v_q90 = squant_value(&e->v_q, 0);
        }
        if (e->need_fr) {
            squant_push(&e->fr_q, cx[r].in.fr);
            cx[r].fr_q90 = squant_value(&e->fr_q, 0);
            cx[r].fr_q10 = squant_value(&e->fr_q, 1);
        }
        if (e->need_oi) {
            squant_push(&e->oi_q90, cx[r].in.oi);
            cx[r].oi_q90 = squant_value(&e->oi_q90, 0);
        }
    }
}

static void price_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        const fe_bar *b = &cx[r].in;
        const core_out *co = &cx[r].co;
        double o = b->o, h = b->h, l = b->l, c = b->c, c1 = cx[r].c1;
        fe_row row = row_at(rows, r);
        put(row, F_MA_10, co->ma_s);
        put(row, F_MA_50, co->ma_l);
        put(row, F_PRICE_MA_RATIO_SHORT, c / co->ma_s);
        put(row, F_PRICE_MA_RATIO_LONG, c / co->ma_l);
        put(row, F_PRICE_MOMENTUM_14, lag_pct_push(&e->c_mom, c));
        put(row, F_HIGH_LOW_POSITION, (c - l) / (h - l + EPS));
        put(row, F_PRICE_CHANGE_1, co->r);
        put(row, F_PRICE_CHANGE_5, lag_pct_push(&e->c_5, c));
        put(row, F_PRICE_CHANGE_20, lag_pct_push(&e->c_20, c));
        put(row, F_PRICE_RANGE, (h - l) / c);
        put(row, F_BODY_SIZE, fabs(c - o) / c);
        put(row, F_UPPER_SHADOW, (h - max2(o, c)) / c);
        put(row, F_LOWER_SHADOW, (min2(o, c) - l) / c);
        double cmin = min_push(&e->cmin, c), cmax = max_push(&e->cmax, c);
        put(row, F_PRICE_POSITION, sdiv(c - cmin, cmax - cmin, 0.5));
        put(row, F_GAP, sdiv(o - c1, c1, 0.0));
    }
}

/* np.maximum propagates NaN: TR is NaN on row 0 (SPEC §1.4). */
static double true_range(double h, double l, double c1)
{
    if (isnan(c1) || isnan(h) || isnan(l)) {
        return NAN;
    }
    return max2(h - l, max2(fabs(h - c1), fabs(l - c1)));
}

static void volatility_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        const core_out *co = &cx[r].co;
        fe_row row = row_at(rows, r);
        double tr = true_range(cx[r].in.h, cx[r].in.l, cx[r].c1);
        double atr = rmean_push(&e->tr_ma, tr);
        put(row, F_RETURNS, co->r);
        put(row, F_REALIZED_VOLATILITY_20, co->rv);
        put(row, F_VOLATILITY_SPIKE, sdiv(co->rv, rmean_push(&e->rv_ma, co->rv), 1.0));
        put(row, F_TR, tr);
        put(row, F_ATR_20, atr);
        put(row, F_ATR_NORMALIZED, atr / cx[r].in.c);
        put(row, F_HIGH_VOL_REGIME, flag(co->rv > cx[r].rv_q80));
        put(row, F_VOL_CHANGE, lag_pct_push(&e->rv_pct, co->rv));
    }
}

static void volume_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        const fe_bar *b = &cx[r].in;
        double c = b->c, v = b->v;
        fe_row row = row_at(rows, r);
        double vsum = rmean_sum(&e->v_sum, v), vma = rmean_of_sum(&e->v_sum, v, vsum);
        double tp = (b->h + b->l + c) / 3.0;
        double vwap = sdiv(rmean_sum(&e->tpv_sum, tp * v), vsum, tp);
        put(row, F_VOLUME_MA_20, vma);
        put(row, F_VOLUME_RATIO, sdiv(v, vma, 1.0));
        put(row, F_PRICE_VOLUME_TREND, cx[r].co.r * lag_pct_push(&e->v_pct, v));
        put(row, F_VWAP, vwap);
        put(row, F_VWAP_DEVIATION, sdiv(c - vwap, vwap, 0.0));
        put(row, F_VOLUME_SPIKE, flag(v > cx[r].v_q90));
        put(row, F_VOLUME_TREND, sdiv(rmean_push(&e->v_ma5, v), vma, 1.0));
    }
}

/* snorm(x,n) = sdiv(x - SMA(x,n), STD(x,n), 0), from the already pushed SMA and STD. */
static double snorm(double x, double ma, double sd)
{
    return sdiv(x - ma, sd, 0.0);
}

/* Also when only composite is selected (its snorm(FR,168)): the funding columns are then written
 * into the block or row too, and not copied to the frame. */
static void funding_phase(fe_engine *e, fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        double fr = cx[r].in.fr;
        fe_row row = row_at(rows, r);
        double ma24 = rmean_push(&e->fr_ma24, fr), ma168 = rmean_push(&e->fr_ma168, fr);
        cx[r].snorm_fr = snorm(fr, ma168, cx[r].fr_sd168);
        put(row, F_FR_MA_24, ma24);
        put(row, F_FR_MA_168, ma168);
        put(row, F_FR_CHANGE, lag_diff_push(&e->fr_diff, fr));
        put(row, F_FR_CHANGE_RATE, lag_pct_push(&e->fr_pct, fr));
        put(row, F_PRICE_FR_DIVERGENCE, cx[r].co.r - fr);
        put(row, F_FR_EXTREME_HIGH, flag(fr > cx[r].fr_q90));
        put(row, F_FR_EXTREME_LOW, flag(fr < cx[r].fr_q10));
        put(row, F_FR_NORMALIZED, cx[r].snorm_fr);
        put(row, F_FR_TREND, ma24 - ma168);
        put(row, F_FR_VOLATILITY, cx[r].fr_sd24);
    }
}

static void oi_phase(fe_engine *e, fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        double oi = cx[r].in.oi, corr = cx[r].oi_corr;
        fe_row row = row_at(rows, r);
        double ma24 = rmean_push(&e->oi_ma24, oi), ma168 = rmean_push(&e->oi_ma168, oi);
        cx[r].snorm_oi = snorm(oi, ma168, cx[r].oi_sd168);
        put(row, F_OI_CHANGE_RATE, cx[r].oi_change);
        put(row, F_OI_CHANGE_RATE_24H, lag_pct_push(&e->oi_pct24, oi));
        put(row, F_OI_SURGE, flag(oi > cx[r].oi_q90));
        put(row, F_VOLATILITY_ADJUSTED_OI, sdiv(oi, cx[r].r_sd24, oi));
        put(row, F_OI_MA_24, ma24);
        put(row, F_OI_MA_168, ma168);
        put(row, F_OI_TREND, ma24 / ma168 - 1.0);
        /* safe_correlation: NaN / ±inf -> 0. */
        put(row, F_OI_PRICE_CORRELATION, isfinite(corr) ? corr : 0.0);
        put(row, F_OI_NORMALIZED, cx[r].snorm_oi);
    }
}

static void composite_phase(const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        double fr = cx[r].in.fr, oi_change = cx[r].oi_change;
        double zf = cx[r].snorm_fr, zo = cx[r].snorm_oi;
        fe_row row = row_at(rows, r);
        put(row, F_FR_OI_RATIO, sdiv(fr, cx[r].in.oi, 0.0));
        put(row, F_MARKET_HEAT_INDEX, fr * oi_change);
        put(row, F_MARKET_STRESS, sqrt(zf * zf + zo * zo));
        put(row, F_MARKET_BALANCE, flag(fr > 0.0 && oi_change > 0.0));
    }
}

/* HH/LL over the volatility lookback, shared by regime and pattern. */
static void hlv_phase(fe_engine *e, fe_ctx *cx, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        cx[r].hh = max_push(&e->hh_v, cx[r].in.h);
        cx[r].ll = min_push(&e->ll_v, cx[r].in.l);
    }
}

static void regime_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        double c = cx[r].in.c, hh = cx[r].hh, ll = cx[r].ll;
        double hh1 = e->prev_hh, ll1 = e->prev_ll;
        fe_row row = row_at(rows, r);
        double brk = 0.0; /* NaN comparisons are false: warm-up rows give 0 (np.where) */
        if (c > hh1) {
            brk = (c - hh1) / hh1;
        } else if (c < ll1) {
            brk = (ll1 - c) / ll1;
        }
        put(row, F_TREND_STRENGTH, cx[r].co.trend);
        put(row, F_RANGE_BOUND_RATIO, sdiv(c - ll, hh - ll, 0.5));
        put(row, F_BREAKOUT_STRENGTH, brk);
        put(row, F_MARKET_EFFICIENCY, cx[r].eff);
        e->prev_hh = hh;
        e->prev_ll = ll;
    }
}

static void momentum_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        const fe_bar *b = &cx[r].in;
        const core_out *co = &cx[r].co;
        double h = b->h, l = b->l, c = b->c;
        fe_row row = row_at(rows, r);
        double hh = max_push(&e->hh14, h), ll = min_push(&e->ll14, l);
        double k = 100.0 * sdiv(c - ll, hh - ll, 0.5);
        double tp = (h + l + c) / 3.0;
        double tp_ma = rmean_push(&e->tp_ma20, tp);
        double mad = NAN;
        if (!isnan(tp_ma)) {
            /* Mean absolute deviation about the (run-exact) window mean; the ring holds the
             * window. */
            const double *w = e->tp_ma20.s.r.buf;
            double acc = 0.0;
            for (size_t i = 0; i < 20; i++) {
                acc += fabs(w[i] - tp_ma);
            }
            mad = acc / 20.0;
        }
        put(row, F_RSI, co->rsi);
        put(row, F_MACD, co->macd);
        put(row, F_MACD_SIGNAL, co->signal);
        put(row, F_MACD_HISTOGRAM, co->hist);
        put(row, F_STOCHASTIC_K, k);
        put(row, F_STOCHASTIC_D, rmean_push(&e->k_ma3, k));
        put(row, F_WILLIAMS_R, -100.0 * (hh - c) / (hh - ll + EPS));
        put(row, F_CCI, (tp - tp_ma) / (0.015 * mad + EPS));
        put(row, F_ROC, lag_pct_push(&e->c_12, c) * 100.0);
        put(row, F_MOMENTUM, c / cx[r].c10);
    }
}

static void pattern_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    static const double FIB[5] = {0.236, 0.382, 0.5, 0.618, 0.786};
    for (size_t r = 0; r < n; r++) {
        const fe_bar *b = &cx[r].in;
        double o = b->o, c = b->c, hh = cx[r].hh, ll = cx[r].ll, c1 = cx[r].c1;
        fe_row row = row_at(rows, r);
        double ps = slope10_push(&e->sl_c, c), rs = slope10_push(&e->sl_rsi, cx[r].co.rsi);
        double pivot = (e->prev_h + e->prev_l + c1) / 3.0;
        double g = (o - c1) / c1;
        put(row, F_BEAR_DIVERGENCE, flag(ps > 0.0 && rs < 0.0));
        put(row, F_BULL_DIVERGENCE, flag(ps < 0.0 && rs > 0.0));
        put(row, F_SUPPORT_DISTANCE, (c - ll) / c);
        put(row, F_RESISTANCE_DISTANCE, (hh - c) / c);
        put(row, F_PIVOT_DISTANCE, (c - pivot) / pivot);
        for (size_t k = 0; k < 5; k++) {
            put(row, F_FIB_236_DISTANCE + k, fabs(c - (ll + (hh - ll) * FIB[k])) / c);
        }
        put(row, F_GAP_UP, flag(g > 0.01));
        put(row, F_GAP_DOWN, flag(g < -0.01));
        put(row, F_GAP_SIZE, fabs(g));
        e->prev_h = b->h;
        e->prev_l = b->l;
    }
}

static void time_phase(const fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        int64_t ts_ms = cx[r].in.ts_ms;
        int64_t day = floor_div(ts_ms, DAY_MS);
        size_t hour = (size_t)((ts_ms - day * DAY_MS) / HOUR_MS);
        /* 1970-01-01 was a Thursday: with Monday = 0 the day of week is (day + 3) mod 7. */
        int64_t dow = (day + 3) % 7;
        size_t d = (size_t)(dow < 0 ? dow + 7 : dow);
        fe_row row = row_at(rows, r);
        put(row, F_HOUR_SIN, e->hour_sin[hour]);
        put(row, F_HOUR_COS, e->hour_cos[hour]);
        put(row, F_DOW_SIN, e->dow_sin[d]);
        put(row, F_DOW_COS, e->dow_cos[d]);
    }
}

static void mtf_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t k = 0; k < N_HTF; k++) {
        if (!e->htf[k].active) {
            continue;
        }
        for (size_t r = 0; r < n; r++) {
            htf_push(&e->htf[k], cx[r].in.ts_ms, e->tf_ms, cx[r].in.c, row_at(rows, r),
                     F_RETURNS_4H + k * N_MTF);
        }
    }
}

void fe_engine_run(fe_engine *e, const fe_bar *bars, size_t n, double *out, size_t stride)
{
    fe_row rows = {out, stride};
    fe_ctx *cx = e->ctx;
    for (size_t r = 0; r < n; r++) {
        cx[r].in = bars[r];
        cx[r].hh = cx[r].ll = NAN;
        cx[r].snorm_fr = cx[r].snorm_oi = cx[r].oi_change = NAN;
    }
    base_phase(e, cx, n);
    moments_phase(e, cx, n);
    quantile_phase(e, cx, n);
    if (sel(e, KZ_FG_PRICE)) {
        price_phase(e, cx, n, rows);
    }
    if (sel(e, KZ_FG_VOLATILITY)) {
        volatility_phase(e, cx, n, rows);
    }
    if (sel(e, KZ_FG_VOLUME)) {
        volume_phase(e, cx, n, rows);
    }
    if (e->need_fr) {
        funding_phase(e, cx, n, rows);
    }
    if (e->need_oi) {
        oi_phase(e, cx, n, rows);
    }
    if (sel(e, KZ_FG_COMPOSITE)) {
        composite_phase(cx, n, rows);
    }
    if (e->need_hlv) {
        hlv_phase(e, cx, n);
    }
    if (sel(e, KZ_FG_REGIME)) {
        regime_phase(e, cx, n, rows);
    }
    if (sel(e, KZ_FG_MOMENTUM)) {
        momentum_phase(e, cx, n, rows);
    }
    if (sel(e, KZ_FG_PATTERN)) {
        pattern_phase(e, cx, n, rows);
    }
    if (sel(e, KZ_FG_TIME)) {
        time_phase(e, cx, n, rows);
    }
    if (sel(e, KZ_FG_MTF)) {
        mtf_phase(e, cx, n, rows);
    }
}
