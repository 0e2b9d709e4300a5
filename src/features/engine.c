/* The per-bar feature engine: every closed bar updates every rolling state of the selected groups
 * and writes the full row. Batch (compute.c) and streaming run the same code, so batch == stream
 * bit for bit.
 *
 * DESIGN. Formulas and numeric conventions are docs/features.md (SPEC §1.2-1.6 with kizashi's
 * fixes), mirrored from tests/reference/features_ref.py. Rolling windows are O(1) states of
 * src/ta/rolling_int.h (inlined pushes: the means, lags and extrema through window_int.h,
 * variance, correlation and EWM directly) and window_int.h's quantile comparisons, all living in
 * one block carved by a two-pass layout (size, then init), so a push never allocates. The rolling
 * mean is exact on a window of equal values (pandas 1.5 roll_mean/roll_var track runs of equal
 * values; a zero-volume window must give VWAP = 0 exactly, docs/features.md "Points the formulas
 * leave open"), and slope10 is the reference's mirrored formula (so a constant window has slope
 * exactly 0 and the divergence flags match bit for bit). The close-only "core" (returns, realized
 * volatility, RSI, MACD, trend strength) is shared by the base bars and by each higher timeframe of
 * the mtf group.
 *
 * PHASES. fe_engine_run takes a chunk of up to FE_CHUNK bars and runs it phase by phase: the base
 * phase (close history and the close-only core) over the whole chunk, then the moments phase
 * (every variance and correlation state), the quantile phase (every quantile window), then the
 * groups' phases (price, volatility, ...), each over the whole chunk. Each rolling state belongs
 * to exactly one phase and still sees its inputs bar after bar in order, so the values do not
 * depend on the chunk length (streaming passes chunks of 1 bar, the batch chunks of FE_CHUNK):
 * same states, same pushes, same doubles. What a later phase needs from an earlier one (C[t-1],
 * the core's columns, the standard deviations, the quantile flags, HH/LL, the FR/OI normals) goes
 * through the chunk's columns fe_ctx; what a phase carries from one bar to the next (the previous
 * high, low, HH, LL, return) is that phase's own state. Within a phase the states run bar by bar
 * and the formulas column by column (see "block columns"), which the compiler vectorises.
 *
 * ISA. The engine's body is compiled for AVX-512, AVX2 and baseline x86-64 (GCC on x86-64;
 * elsewhere once), and each engine runs the version for fe_isa_current() (the widest the CPU
 * runs; tests force each in turn): wider vectors for the formula loops. Every operation is the
 * same IEEE operation in every version, and none may be fused into an FMA (-std=c11 turns
 * contraction off; FMA is not among the targets), so all versions give the same doubles
 * (test_features compares the frames they compute bit for bit).
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

/* Where the cells go: bar r's column j at v[j * stride + r] (stride 1 for the stream's one row;
 * the batch writes a column-major block, so that cleaning and narrowing it into the frame is a
 * contiguous pass). */
typedef struct fe_row {
    double *v;
    size_t stride;
} fe_row;

/* Bar r's cell of column j (a formula loop's store: contiguous in r for the batch's block). */
static inline void put_at(fe_row rows, size_t j, size_t r, double x)
{
    rows.v[j * rows.stride + r] = x;
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

/* ================================================================ block columns
 * A phase runs its rolling states bar after bar (they are sequential), keeping what they give
 * per bar in block columns, and then computes its formulas over the block column by column in
 * loops without state, which the compiler vectorises: most of the engine's arithmetic, and above
 * all its ~70 divisions per bar (a scalar division costs ~4x a lane of a packed one here),
 * runs two (SSE2) or more lanes at a time. Each value is the same expression on the same doubles
 * as computed bar by bar, so the same double: IEEE operations are exact per lane, and -std=c11
 * allows no contraction into FMA. */

/* Before a loop over a block's columns: each iteration reads and writes only its own row r of
 * every column, so no iteration depends on another whatever the columns' addresses. Without it
 * GCC wants run-time overlap checks for every pair of columns a loop touches, gives up past ten,
 * and leaves the loop scalar. */
#if defined(__GNUC__) && !defined(__clang__)
#    define FE_IVDEP _Pragma("GCC ivdep")
#else
#    define FE_IVDEP
#endif

typedef double col[FE_CHUNK];

/* rmean pushes of a block, for the means computed after (rmean_at): the inputs, rmean_sum's
 * results and whether the run of equal values covers the window (1.0 or 0.0). */
typedef struct rmean_blk {
    col x, sum, full;
} rmean_blk;

static inline void rmean_put(rmean *m, double x, rmean_blk *b, size_t r)
{
    b->x[r] = x;
    b->sum[r] = rmean_sum(m, x);
    b->full[r] = m->run >= m->s.r.w ? 1.0 : 0.0;
}

/* rmean_of_sum for bar r of the block; w is the window length (rmean_w). */
static inline double rmean_at(const rmean_blk *b, size_t r, double w)
{
    return rmean_mean(b->full[r] != 0.0, b->x[r], b->sum[r], w);
}

static inline double rmean_w(const rmean *m)
{
    return kz_count_d(m->s.r.w);
}

/* pct_change pushes of a block: lag_pct_push(l, x) = v / old - 1, v the padded input and old
 * the padded input k pushes earlier (NaN until then, so the ratio is NaN too). */
typedef struct pct_blk {
    col v, old;
} pct_blk;

static inline void pct_put(lag *l, double x, pct_blk *b, size_t r)
{
    double old;
    b->old[r] = kz_lag_pct_pair(l, x, &b->v[r], &old) ? old : NAN;
}

static inline double pct_at(const pct_blk *b, size_t r)
{
    return b->v[r] / b->old[r] - 1.0;
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

/* The core's columns over a block. */
typedef struct core_cols {
    col r, rv, rsi, macd, signal, hist, ma_s, ma_l, trend;
} core_cols;

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

/* The core over n closes without its variance state: every column but rv (core_rv). */
static void core_run_but_rv(close_core *c, const double *close, size_t n, core_cols *o)
{
    pct_blk ret;
    rmean_blk g, l, ms, ml;
    for (size_t r = 0; r < n; r++) {
        double x = close[r];
        pct_put(&c->r_lag, x, &ret, r);
        /* SPEC §1.6 RSI with simple means; the NaN first difference counts as 0 gain and 0
         * loss. */
        double d = lag_diff_push(&c->d_lag, x);
        rmean_put(&c->gain, d > 0.0 ? d : 0.0, &g, r);
        rmean_put(&c->loss, d < 0.0 ? -d : 0.0, &l, r);
        double macd = kz_ewma_step(&c->e12, x) - kz_ewma_step(&c->e26, x);
        o->macd[r] = macd;
        o->signal[r] = kz_ewma_step(&c->e9, macd);
        rmean_put(&c->ma_s, x, &ms, r);
        rmean_put(&c->ma_l, x, &ml, r);
    }
    double wg = rmean_w(&c->gain), wl = rmean_w(&c->loss);
    double ws = rmean_w(&c->ma_s), wL = rmean_w(&c->ma_l);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        o->r[r] = pct_at(&ret, r);
        double gain = rmean_at(&g, r, wg), loss = rmean_at(&l, r, wl);
        o->rsi[r] = 100.0 - 100.0 / (1.0 + sdiv(gain, loss, 1.0));
        o->hist[r] = o->macd[r] - o->signal[r];
        double ma_s = rmean_at(&ms, r, ws), ma_l = rmean_at(&ml, r, wL);
        o->ma_s[r] = ma_s;
        o->ma_l[r] = ma_l;
        o->trend[r] = sdiv(ma_s - ma_l, ma_l, 0.0);
    }
}

/* Realized volatility from the standard deviation of the returns: sqrt(24) on every timeframe,
 * as the original (SPEC §1.4). */
static inline double rv_of_std(double sd)
{
    return sd * sqrt(24.0);
}

/* rv of bar r from the return core_run_but_rv has computed (a higher timeframe's bar; the base
 * bars' rv is finished over the block in moments_phase). */
static inline void core_rv(close_core *c, core_cols *o, size_t r)
{
    o->rv[r] = rv_of_std(std_push(&c->r_var, o->r[r]));
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
    core_cols o;
    core_run_but_rv(&h->core, &h->close, 1, &o);
    core_rv(&h->core, &o, 0);
    h->reading[0] = o.r[0];
    h->reading[1] = o.rv[0];
    h->reading[2] = o.rsi[0];
    h->reading[3] = o.hist[0];
    h->reading[4] = o.trend[0];
    h->open = 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static void htf_push(
    htf_state *h, int64_t ts_ms, int64_t tf_ms, double close, fe_row rows, size_t r, size_t first)
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
        put_at(rows, first + k, r, h->reading[k]);
    }
}

/* ================================================================ the engine */

/* A chunk's columns: its inputs and what later phases read from earlier ones. */
typedef struct fe_ctx {
    int64_t ts[FE_CHUNK];
    col o, h, l, c, v, fr, oi;
    col c1, c10; /* C[t-1], C[t-10] (NaN before the series is long enough) */
    core_cols co;
    /* moments phase: standard deviations and correlations */
    col fr_sd24, fr_sd168, oi_sd168, r_sd24, oi_corr, eff;
    col oi_change; /* pct(OI,1) */
    /* quantile phase: the bar's value against its window's quantile (after this bar's push) */
    int rv_high[FE_CHUNK], v_spike[FE_CHUNK], fr_high[FE_CHUNK], fr_low[FE_CHUNK],
        oi_surge[FE_CHUNK];
    col hh, ll;             /* MAX(H,v), MIN(L,v) (need_hlv) */
    col snorm_fr, snorm_oi; /* for composite; NaN when not computed */
} fe_ctx;

typedef void (*fe_run_fn)(fe_engine *e, const fe_bar *bars, size_t n, double *out, size_t stride);
static fe_run_fn run_for(fe_isa isa);

struct fe_engine {
    fe_run_fn run; /* the body for fe_isa_current() at creation (ISA) */
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
    qwin rv_q;
    lag rv_pct;
    /* volume */
    rmean v_sum, v_ma5, tpv_sum; /* v_sum: SUM(V,vol) and SMA(V,vol) */
    lag v_pct;
    qwin v_q;
    /* funding */
    rmean fr_ma24, fr_ma168;
    kz_rvar_state fr_var24, fr_var168;
    lag fr_diff, fr_pct;
    qwin fr_q; /* quantiles 0.9 and 0.1 */
    /* open interest */
    lag oi_pct1, oi_pct24;
    qwin oi_q90;
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
    fe_ctx ctx;
};

static int sel(const fe_engine *e, kz_feature_group g)
{
    return (e->g & KZ_FG_BIT(g)) != 0;
}

/* The quantile levels of the quantile windows (qwin_layout takes arrays). */
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
        qwin_layout(&e->rv_q, 2 * v, &Q80, 1, cv);
        lag_layout(&e->rv_pct, 1, 1, cv);
    }
    if (sel(e, KZ_FG_VOLUME)) {
        rmean_layout(&e->v_ma5, 5, cv);
        rmean_layout(&e->tpv_sum, vol, cv);
        rmean_layout(&e->v_sum, vol, cv);
        lag_layout(&e->v_pct, 1, 1, cv);
        qwin_layout(&e->v_q, vol, &Q90, 1, cv);
    }
    if (e->need_fr) {
        rmean_layout(&e->fr_ma24, 24, cv);
        rmean_layout(&e->fr_ma168, 168, cv);
        var_layout(&e->fr_var24, 24, cv);
        var_layout(&e->fr_var168, 168, cv);
        lag_layout(&e->fr_diff, 1, 0, cv);
        lag_layout(&e->fr_pct, 1, 1, cv);
        qwin_layout(&e->fr_q, 168, FR_Q, 2, cv);
    }
    if (e->need_oi) {
        lag_layout(&e->oi_pct1, 1, 1, cv);
        lag_layout(&e->oi_pct24, 24, 1, cv);
        qwin_layout(&e->oi_q90, 168, &Q90, 1, cv);
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
    e->run = run_for(fe_isa_current());
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
 * Each phase runs its group over the n bars of the chunk (see "block columns"): the states bar
 * by bar, then the formulas column by column, bar r's cell j going to out[j * stride + r]. */

/* Close history and the close-only core: C[t-1], C[t-10] and the core's columns for every later
 * phase (rv: moments_phase). */
static void base_phase(fe_engine *e, fe_ctx *cx, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        hist_push(&e->ch, cx->c[r]);
        cx->c1[r] = hist_lag(&e->ch, 1);
        cx->c10[r] = hist_lag(&e->ch, 10);
    }
    core_run_but_rv(&e->core, cx->c, n, &cx->co);
}

/* FE_FLATTEN: inline every call in the function's body (GCC/Clang; elsewhere a no-op). The
 * engine's body is flattened into each instruction-set version (run_base, run_avx2, run_avx512).
 * Besides the vector width, this gives every window its own copy of the pushes' data-dependent
 * branches (kz_rvar_update, kz_rcorr_update, the quantile windows' pushes): out of line, every
 * window shared one copy, and each window's pattern (a run of equal funding rates, a refresh)
 * trained the predictor against the next window's (callgrind's branch simulation: -15%
 * mispredicts). The per-window arithmetic is unchanged, so are the doubles. */
#if defined(__GNUC__)
#    define FE_FLATTEN __attribute__((flatten))
#else
#    define FE_FLATTEN
#endif

/* Variance and correlation pushes of a block, finished after the loop (std_at, corr_at): the
 * division and square roots at the end of each update then vectorise instead of lengthening the
 * bar's chain (kz_rvar_state_of, kz_rcorr_state_of). */
typedef struct var_blk {
    col flag, m2;
} var_blk;

static inline void var_put(kz_rvar_state *s, double x, var_blk *b, size_t r)
{
    kz_rvar_update(s, x);
    b->flag[r] = kz_rvar_state_of(s, &b->m2[r]);
}

/* std_push's value for bar r; den = kz_rvar_den. */
static inline double std_at(const var_blk *b, size_t r, double den)
{
    return sqrt(kz_var_finish(b->flag[r], b->m2[r], den));
}

typedef struct corr_blk {
    col flag, cxy, m2x, m2y;
} corr_blk;

static inline void corr_put(kz_rcorr_state *s, double x, double y, corr_blk *b, size_t r)
{
    double c[3];
    kz_rcorr_update(s, x, y);
    b->flag[r] = kz_rcorr_state_of(s, c);
    b->cxy[r] = c[0];
    b->m2x[r] = c[1];
    b->m2y[r] = c[2];
}

static inline double corr_at(const corr_blk *b, size_t r)
{
    return kz_corr_finish(b->flag[r], b->cxy[r], b->m2x[r], b->m2y[r]);
}

/* Every Welford state (the core's STD(r,v), the FR/OI standard deviations, the correlations) in
 * one loop: each update is a chain of two dependent divisions, and independent chains side by
 * side are what the CPU can overlap; the values are finished over the block after it. */
static void moments_phase(fe_engine *e, fe_ctx *cx, size_t n)
{
    int regime = sel(e, KZ_FG_REGIME);
    var_blk rv, f168, f24, o168, r24;
    corr_blk oc, ef;
    for (size_t r = 0; r < n; r++) {
        double ret = cx->co.r[r];
        var_put(&e->core.r_var, ret, &rv, r);
        if (e->need_fr) {
            var_put(&e->fr_var168, cx->fr[r], &f168, r);
            var_put(&e->fr_var24, cx->fr[r], &f24, r);
        }
        if (e->need_oi) {
            double ch = lag_pct_push(&e->oi_pct1, cx->oi[r]);
            cx->oi_change[r] = ch;
            corr_put(&e->oi_corr, ret, ch, &oc, r);
            var_put(&e->oi_var168, cx->oi[r], &o168, r);
            var_put(&e->r_var24, ret, &r24, r);
        }
        if (regime) {
            /* Lag-1 autocorrelation of the last v returns = corr of the v-1 pairs
             * (r[t-1], r[t]). */
            corr_put(&e->eff, e->prev_r, ret, &ef, r);
            e->prev_r = ret;
        }
    }
    double d_rv = kz_rvar_den(&e->core.r_var);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        cx->co.rv[r] = rv_of_std(std_at(&rv, r, d_rv));
    }
    if (e->need_fr) {
        double d168 = kz_rvar_den(&e->fr_var168), d24 = kz_rvar_den(&e->fr_var24);
        FE_IVDEP
        for (size_t r = 0; r < n; r++) {
            cx->fr_sd168[r] = std_at(&f168, r, d168);
            cx->fr_sd24[r] = std_at(&f24, r, d24);
        }
    }
    if (e->need_oi) {
        double d168 = kz_rvar_den(&e->oi_var168), d24 = kz_rvar_den(&e->r_var24);
        FE_IVDEP
        for (size_t r = 0; r < n; r++) {
            cx->oi_corr[r] = corr_at(&oc, r);
            cx->oi_sd168[r] = std_at(&o168, r, d168);
            cx->r_sd24[r] = std_at(&r24, r, d24);
        }
    }
    if (regime) {
        FE_IVDEP
        for (size_t r = 0; r < n; r++) {
            cx->eff[r] = corr_at(&ef, r);
        }
    }
}

/* Every quantile window in one loop, likewise (qwin: a ring push and a counting pass). */
static void quantile_phase(fe_engine *e, fe_ctx *cx, size_t n)
{
    int vola = sel(e, KZ_FG_VOLATILITY), volu = sel(e, KZ_FG_VOLUME);
    for (size_t r = 0; r < n; r++) {
        if (vola) {
            qwin_push(&e->rv_q, cx->co.rv[r]);
            qwin_flags(&e->rv_q, cx->co.rv[r], &cx->rv_high[r], NULL);
        }
        if (volu) {
            qwin_push(&e->v_q, cx->v[r]);
            qwin_flags(&e->v_q, cx->v[r], &cx->v_spike[r], NULL);
        }
        if (e->need_fr) {
            qwin_push(&e->fr_q, cx->fr[r]);
            qwin_flags(&e->fr_q, cx->fr[r], &cx->fr_high[r], &cx->fr_low[r]);
        }
        if (e->need_oi) {
            qwin_push(&e->oi_q90, cx->oi[r]);
            qwin_flags(&e->oi_q90, cx->oi[r], &cx->oi_surge[r], NULL);
        }
    }
}

static void price_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    pct_blk mom, c5, c20;
    col cmin, cmax;
    for (size_t r = 0; r < n; r++) {
        double c = cx->c[r];
        pct_put(&e->c_mom, c, &mom, r);
        pct_put(&e->c_5, c, &c5, r);
        pct_put(&e->c_20, c, &c20, r);
        cmin[r] = min_push(&e->cmin, c);
        cmax[r] = max_push(&e->cmax, c);
    }
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double o = cx->o[r], h = cx->h[r], l = cx->l[r], c = cx->c[r], c1 = cx->c1[r];
        /* the selects before the first store, or GCC does not if-convert the loop */
        double upper = (h - max2(o, c)) / c, lower = (min2(o, c) - l) / c;
        double pos = sdiv(c - cmin[r], cmax[r] - cmin[r], 0.5), gap = sdiv(o - c1, c1, 0.0);
        put_at(rows, F_MA_10, r, cx->co.ma_s[r]);
        put_at(rows, F_MA_50, r, cx->co.ma_l[r]);
        put_at(rows, F_PRICE_MA_RATIO_SHORT, r, c / cx->co.ma_s[r]);
        put_at(rows, F_PRICE_MA_RATIO_LONG, r, c / cx->co.ma_l[r]);
        put_at(rows, F_PRICE_MOMENTUM_14, r, pct_at(&mom, r));
        put_at(rows, F_HIGH_LOW_POSITION, r, (c - l) / (h - l + EPS));
        put_at(rows, F_PRICE_CHANGE_1, r, cx->co.r[r]);
        put_at(rows, F_PRICE_CHANGE_5, r, pct_at(&c5, r));
        put_at(rows, F_PRICE_CHANGE_20, r, pct_at(&c20, r));
        put_at(rows, F_PRICE_RANGE, r, (h - l) / c);
        put_at(rows, F_BODY_SIZE, r, fabs(c - o) / c);
        put_at(rows, F_UPPER_SHADOW, r, upper);
        put_at(rows, F_LOWER_SHADOW, r, lower);
        put_at(rows, F_PRICE_POSITION, r, pos);
        put_at(rows, F_GAP, r, gap);
    }
}

/* np.maximum propagates NaN: TR is NaN on row 0 (SPEC §1.4). */
static inline double true_range(double h, double l, double c1)
{
    double tr = max2(h - l, max2(fabs(h - c1), fabs(l - c1)));
    return isnan(c1) || isnan(h) || isnan(l) ? NAN : tr;
}

static void volatility_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    col tr;
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        tr[r] = true_range(cx->h[r], cx->l[r], cx->c1[r]);
    }
    rmean_blk atr, rvm;
    pct_blk rvp;
    for (size_t r = 0; r < n; r++) {
        rmean_put(&e->tr_ma, tr[r], &atr, r);
        rmean_put(&e->rv_ma, cx->co.rv[r], &rvm, r);
        pct_put(&e->rv_pct, cx->co.rv[r], &rvp, r);
    }
    double wa = rmean_w(&e->tr_ma), wr = rmean_w(&e->rv_ma);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double a = rmean_at(&atr, r, wa);
        put_at(rows, F_TR, r, tr[r]);
        put_at(rows, F_RETURNS, r, cx->co.r[r]);
        put_at(rows, F_REALIZED_VOLATILITY_20, r, cx->co.rv[r]);
        put_at(rows, F_VOLATILITY_SPIKE, r, sdiv(cx->co.rv[r], rmean_at(&rvm, r, wr), 1.0));
        put_at(rows, F_ATR_20, r, a);
        put_at(rows, F_ATR_NORMALIZED, r, a / cx->c[r]);
        put_at(rows, F_HIGH_VOL_REGIME, r, flag(cx->rv_high[r]));
        put_at(rows, F_VOL_CHANGE, r, pct_at(&rvp, r));
    }
}

static void volume_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    col tp;
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        tp[r] = (cx->h[r] + cx->l[r] + cx->c[r]) / 3.0;
    }
    rmean_blk vs, tpv, v5;
    pct_blk vp;
    for (size_t r = 0; r < n; r++) {
        double v = cx->v[r];
        rmean_put(&e->v_sum, v, &vs, r);
        rmean_put(&e->tpv_sum, tp[r] * v, &tpv, r);
        rmean_put(&e->v_ma5, v, &v5, r);
        pct_put(&e->v_pct, v, &vp, r);
    }
    double wv = rmean_w(&e->v_sum), w5 = rmean_w(&e->v_ma5);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double v = cx->v[r], c = cx->c[r];
        double vma = rmean_at(&vs, r, wv);
        double vwap = sdiv(tpv.sum[r], vs.sum[r], tp[r]);
        put_at(rows, F_VOLUME_MA_20, r, vma);
        put_at(rows, F_VOLUME_RATIO, r, sdiv(v, vma, 1.0));
        put_at(rows, F_PRICE_VOLUME_TREND, r, cx->co.r[r] * pct_at(&vp, r));
        put_at(rows, F_VWAP, r, vwap);
        put_at(rows, F_VWAP_DEVIATION, r, sdiv(c - vwap, vwap, 0.0));
        put_at(rows, F_VOLUME_SPIKE, r, flag(cx->v_spike[r]));
        put_at(rows, F_VOLUME_TREND, r, sdiv(rmean_at(&v5, r, w5), vma, 1.0));
    }
}

/* snorm(x,n) = sdiv(x - SMA(x,n), STD(x,n), 0), from the already pushed SMA and STD. */
static inline double snorm(double x, double ma, double sd)
{
    return sdiv(x - ma, sd, 0.0);
}

/* Also when only composite is selected (its snorm(FR,168)): the funding columns are then written
 * into the block or row too, and not copied to the frame. */
static void funding_phase(fe_engine *e, fe_ctx *cx, size_t n, fe_row rows)
{
    rmean_blk m24, m168;
    pct_blk fp;
    for (size_t r = 0; r < n; r++) {
        double fr = cx->fr[r];
        rmean_put(&e->fr_ma24, fr, &m24, r);
        rmean_put(&e->fr_ma168, fr, &m168, r);
        put_at(rows, F_FR_CHANGE, r, lag_diff_push(&e->fr_diff, fr));
        pct_put(&e->fr_pct, fr, &fp, r);
    }
    double w24 = rmean_w(&e->fr_ma24), w168 = rmean_w(&e->fr_ma168);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double fr = cx->fr[r];
        double ma24 = rmean_at(&m24, r, w24), ma168 = rmean_at(&m168, r, w168);
        double z = snorm(fr, ma168, cx->fr_sd168[r]);
        cx->snorm_fr[r] = z;
        put_at(rows, F_FR_MA_24, r, ma24);
        put_at(rows, F_FR_MA_168, r, ma168);
        put_at(rows, F_FR_CHANGE_RATE, r, pct_at(&fp, r));
        put_at(rows, F_PRICE_FR_DIVERGENCE, r, cx->co.r[r] - fr);
        put_at(rows, F_FR_EXTREME_HIGH, r, flag(cx->fr_high[r]));
        put_at(rows, F_FR_EXTREME_LOW, r, flag(cx->fr_low[r]));
        put_at(rows, F_FR_NORMALIZED, r, z);
        put_at(rows, F_FR_TREND, r, ma24 - ma168);
        put_at(rows, F_FR_VOLATILITY, r, cx->fr_sd24[r]);
    }
}

static void oi_phase(fe_engine *e, fe_ctx *cx, size_t n, fe_row rows)
{
    rmean_blk m24, m168;
    pct_blk p24;
    for (size_t r = 0; r < n; r++) {
        double oi = cx->oi[r];
        rmean_put(&e->oi_ma24, oi, &m24, r);
        rmean_put(&e->oi_ma168, oi, &m168, r);
        pct_put(&e->oi_pct24, oi, &p24, r);
    }
    double w24 = rmean_w(&e->oi_ma24), w168 = rmean_w(&e->oi_ma168);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double oi = cx->oi[r], k = cx->oi_corr[r];
        double ma24 = rmean_at(&m24, r, w24), ma168 = rmean_at(&m168, r, w168);
        double z = snorm(oi, ma168, cx->oi_sd168[r]);
        cx->snorm_oi[r] = z;
        put_at(rows, F_OI_CHANGE_RATE, r, cx->oi_change[r]);
        put_at(rows, F_OI_CHANGE_RATE_24H, r, pct_at(&p24, r));
        put_at(rows, F_OI_SURGE, r, flag(cx->oi_surge[r]));
        put_at(rows, F_VOLATILITY_ADJUSTED_OI, r, sdiv(oi, cx->r_sd24[r], oi));
        put_at(rows, F_OI_MA_24, r, ma24);
        put_at(rows, F_OI_MA_168, r, ma168);
        put_at(rows, F_OI_TREND, r, ma24 / ma168 - 1.0);
        /* safe_correlation: NaN / ±inf -> 0. */
        put_at(rows, F_OI_PRICE_CORRELATION, r, isfinite(k) ? k : 0.0);
        put_at(rows, F_OI_NORMALIZED, r, z);
    }
}

static void composite_phase(const fe_ctx *cx, size_t n, fe_row rows)
{
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double fr = cx->fr[r], oi_change = cx->oi_change[r];
        double zf = cx->snorm_fr[r], zo = cx->snorm_oi[r];
        put_at(rows, F_FR_OI_RATIO, r, sdiv(fr, cx->oi[r], 0.0));
        put_at(rows, F_MARKET_HEAT_INDEX, r, fr * oi_change);
        put_at(rows, F_MARKET_STRESS, r, sqrt(zf * zf + zo * zo));
        put_at(rows, F_MARKET_BALANCE, r, flag(fr > 0.0 && oi_change > 0.0));
    }
}

/* HH/LL over the volatility lookback, shared by regime and pattern. */
static void hlv_phase(fe_engine *e, fe_ctx *cx, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        cx->hh[r] = max_push(&e->hh_v, cx->h[r]);
        cx->ll[r] = min_push(&e->ll_v, cx->l[r]);
    }
}

/* The column shifted by one bar: prev[r] = x[r-1], prev[0] = *carry, which then takes x[n-1]
 * (the phases' state of the previous bar). */
static inline void shift1(const double *x, size_t n, double *carry, double *prev)
{
    prev[0] = *carry;
    for (size_t r = 1; r < n; r++) {
        prev[r] = x[r - 1];
    }
    *carry = x[n - 1];
}

static void regime_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    col hh1, ll1;
    shift1(cx->hh, n, &e->prev_hh, hh1);
    shift1(cx->ll, n, &e->prev_ll, ll1);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double c = cx->c[r], hh = cx->hh[r], ll = cx->ll[r];
        /* NaN comparisons are false: warm-up rows give 0 (np.where) */
        double up = (c - hh1[r]) / hh1[r], down = (ll1[r] - c) / ll1[r];
        put_at(rows, F_TREND_STRENGTH, r, cx->co.trend[r]);
        put_at(rows, F_RANGE_BOUND_RATIO, r, sdiv(c - ll, hh - ll, 0.5));
        put_at(rows, F_BREAKOUT_STRENGTH, r, c > hh1[r] ? up : c < ll1[r] ? down : 0.0);
        put_at(rows, F_MARKET_EFFICIENCY, r, cx->eff[r]);
    }
}

static void momentum_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    col hh, ll, tp, tp_ma, mad, k;
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        tp[r] = (cx->h[r] + cx->l[r] + cx->c[r]) / 3.0;
    }
    for (size_t r = 0; r < n; r++) {
        hh[r] = max_push(&e->hh14, cx->h[r]);
        ll[r] = min_push(&e->ll14, cx->l[r]);
        double m = rmean_push(&e->tp_ma20, tp[r]);
        tp_ma[r] = m;
        mad[r] = NAN;
        if (!isnan(m)) {
            /* Mean absolute deviation about the (run-exact) window mean; the ring holds the
             * window. */
            const double *w = e->tp_ma20.s.r.buf;
            double acc = 0.0;
            for (size_t i = 0; i < 20; i++) {
                acc += fabs(w[i] - m);
            }
            mad[r] = acc / 20.0;
        }
    }
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        k[r] = 100.0 * sdiv(cx->c[r] - ll[r], hh[r] - ll[r], 0.5);
    }
    rmean_blk d;
    pct_blk roc;
    for (size_t r = 0; r < n; r++) {
        rmean_put(&e->k_ma3, k[r], &d, r);
        pct_put(&e->c_12, cx->c[r], &roc, r);
    }
    double wd = rmean_w(&e->k_ma3);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double c = cx->c[r];
        put_at(rows, F_RSI, r, cx->co.rsi[r]);
        put_at(rows, F_MACD, r, cx->co.macd[r]);
        put_at(rows, F_MACD_SIGNAL, r, cx->co.signal[r]);
        put_at(rows, F_MACD_HISTOGRAM, r, cx->co.hist[r]);
        put_at(rows, F_STOCHASTIC_K, r, k[r]);
        put_at(rows, F_STOCHASTIC_D, r, rmean_at(&d, r, wd));
        put_at(rows, F_WILLIAMS_R, r, -100.0 * (hh[r] - c) / (hh[r] - ll[r] + EPS));
        put_at(rows, F_CCI, r, (tp[r] - tp_ma[r]) / (0.015 * mad[r] + EPS));
        put_at(rows, F_ROC, r, pct_at(&roc, r) * 100.0);
        put_at(rows, F_MOMENTUM, r, c / cx->c10[r]);
    }
}

static void pattern_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    static const double FIB[5] = {0.236, 0.382, 0.5, 0.618, 0.786};
    col ps, rs, h1, l1;
    for (size_t r = 0; r < n; r++) {
        ps[r] = slope10_push(&e->sl_c, cx->c[r]);
        rs[r] = slope10_push(&e->sl_rsi, cx->co.rsi[r]);
    }
    shift1(cx->h, n, &e->prev_h, h1);
    shift1(cx->l, n, &e->prev_l, l1);
    FE_IVDEP
    for (size_t r = 0; r < n; r++) {
        double o = cx->o[r], c = cx->c[r], hh = cx->hh[r], ll = cx->ll[r], c1 = cx->c1[r];
        double pivot = (h1[r] + l1[r] + c1) / 3.0;
        double g = (o - c1) / c1;
        put_at(rows, F_BEAR_DIVERGENCE, r, flag(ps[r] > 0.0 && rs[r] < 0.0));
        put_at(rows, F_BULL_DIVERGENCE, r, flag(ps[r] < 0.0 && rs[r] > 0.0));
        put_at(rows, F_SUPPORT_DISTANCE, r, (c - ll) / c);
        put_at(rows, F_RESISTANCE_DISTANCE, r, (hh - c) / c);
        put_at(rows, F_PIVOT_DISTANCE, r, (c - pivot) / pivot);
        put_at(rows, F_GAP_UP, r, flag(g > 0.01));
        put_at(rows, F_GAP_DOWN, r, flag(g < -0.01));
        put_at(rows, F_GAP_SIZE, r, fabs(g));
    }
    for (size_t k = 0; k < 5; k++) {
        FE_IVDEP
        for (size_t r = 0; r < n; r++) {
            double c = cx->c[r], hh = cx->hh[r], ll = cx->ll[r];
            put_at(rows, F_FIB_236_DISTANCE + k, r, fabs(c - (ll + (hh - ll) * FIB[k])) / c);
        }
    }
}

static void time_phase(const fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t r = 0; r < n; r++) {
        int64_t ts_ms = cx->ts[r];
        int64_t day = floor_div(ts_ms, DAY_MS);
        size_t hour = (size_t)((ts_ms - day * DAY_MS) / HOUR_MS);
        /* 1970-01-01 was a Thursday: with Monday = 0 the day of week is (day + 3) mod 7. */
        int64_t dow = (day + 3) % 7;
        size_t d = (size_t)(dow < 0 ? dow + 7 : dow);
        put_at(rows, F_HOUR_SIN, r, e->hour_sin[hour]);
        put_at(rows, F_HOUR_COS, r, e->hour_cos[hour]);
        put_at(rows, F_DOW_SIN, r, e->dow_sin[d]);
        put_at(rows, F_DOW_COS, r, e->dow_cos[d]);
    }
}

static void mtf_phase(fe_engine *e, const fe_ctx *cx, size_t n, fe_row rows)
{
    for (size_t k = 0; k < N_HTF; k++) {
        if (!e->htf[k].active) {
            continue;
        }
        for (size_t r = 0; r < n; r++) {
            htf_push(&e->htf[k], cx->ts[r], e->tf_ms, cx->c[r], rows, r, F_RETURNS_4H + k * N_MTF);
        }
    }
}

/* The engine's body: every phase over one chunk, inlined with every phase into one function per
 * instruction set (see ISA at the top; a phase called out of line would run its baseline code). */
#if defined(__GNUC__)
#    define FE_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#    define FE_ALWAYS_INLINE inline
#endif

static FE_ALWAYS_INLINE void
engine_run(fe_engine *e, const fe_bar *bars, size_t n, double *out, size_t stride)
{
    fe_row rows = {out, stride};
    fe_ctx *cx = &e->ctx;
    for (size_t r = 0; r < n; r++) {
        cx->ts[r] = bars[r].ts_ms;
        cx->o[r] = bars[r].o;
        cx->h[r] = bars[r].h;
        cx->l[r] = bars[r].l;
        cx->c[r] = bars[r].c;
        cx->v[r] = bars[r].v;
        cx->fr[r] = bars[r].fr;
        cx->oi[r] = bars[r].oi;
        cx->hh[r] = cx->ll[r] = NAN;
        cx->snorm_fr[r] = cx->snorm_oi[r] = cx->oi_change[r] = NAN;
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

FE_FLATTEN static void
run_base(fe_engine *e, const fe_bar *bars, size_t n, double *out, size_t stride)
{
    engine_run(e, bars, n, out, stride);
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((flatten, target("avx2"))) static void
run_avx2(fe_engine *e, const fe_bar *bars, size_t n, double *out, size_t stride)
{
    engine_run(e, bars, n, out, stride);
}

__attribute__((flatten, target("avx512f"))) static void
run_avx512(fe_engine *e, const fe_bar *bars, size_t n, double *out, size_t stride)
{
    engine_run(e, bars, n, out, stride);
}
#endif

static fe_run_fn run_for(fe_isa isa)
{
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    if (isa == FE_ISA_AVX512) {
        return run_avx512;
    }
    if (isa == FE_ISA_AVX2) {
        return run_avx2;
    }
#endif
    (void)isa;
    return run_base;
}

void fe_engine_run(fe_engine *e, const fe_bar *bars, size_t n, double *out, size_t stride)
{
    e->run(e, bars, n, out, stride);
}
