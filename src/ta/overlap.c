/* Overlap studies group table: the moving averages (engine in overlap_ma.c), BBANDS, SAR,
 * MIDPOINT and MIDPRICE, each with a batch kernel and an O(1) streaming state. */
#include <string.h>

#include "extreme_int.h"
#include "ta_int.h"

#define PERIOD(p, k) ((int)(p)[k])

/* ================================================================ moving-average entries
 * Every MA entry's batch kernel runs the streaming state over the array (state in `work`), so
 * batch and stream share one code path and are bit-identical by construction. */

static void ma_state_step(void *state, const double *in, double *out)
{
    out[0] = kz_ta_ma_state_step(state, in[0]);
}

/* SMA .. KAMA: one period parameter, fixed MA type. */
#define MA_FIXED(name, type)                                                                       \
    static int name##_lookback(const double *p)                                                    \
    {                                                                                              \
        return kz_ta_ma_lookback(PERIOD(p, 0), type);                                              \
    }                                                                                              \
    static size_t name##_work(size_t n, const double *p)                                           \
    {                                                                                              \
        return kz_ta_ma_work(n, PERIOD(p, 0), type);                                               \
    }                                                                                              \
    static void name##_batch(size_t n, const double *const *in, const double *p,                   \
                             double *const *out, double *work)                                     \
    {                                                                                              \
        kz_ta_ma(n, in[0], PERIOD(p, 0), type, out[0], work);                                      \
    }                                                                                              \
    static size_t name##_state_size(const double *p)                                               \
    {                                                                                              \
        return kz_ta_ma_state_size(PERIOD(p, 0), type);                                            \
    }                                                                                              \
    static void name##_state_init(void *s, const double *p)                                        \
    {                                                                                              \
        kz_ta_ma_state_init(s, PERIOD(p, 0), type);                                                \
    }

MA_FIXED(sma, KZ_MA_SMA)
MA_FIXED(ema, KZ_MA_EMA)
MA_FIXED(wma, KZ_MA_WMA)
MA_FIXED(dema, KZ_MA_DEMA)
MA_FIXED(tema, KZ_MA_TEMA)
MA_FIXED(trima, KZ_MA_TRIMA)
MA_FIXED(kama, KZ_MA_KAMA)

#undef MA_FIXED

/* MA: period + matype (TA_MA: MAMA ignores the period, T3 uses vfactor 0.7). */
static kz_matype matype_of(const double *p, int k)
{
    return (kz_matype)(int)p[k];
}

static int ma_lookback(const double *p)
{
    return kz_ta_ma_lookback(PERIOD(p, 0), matype_of(p, 1));
}

static size_t ma_work(size_t n, const double *p)
{
    return kz_ta_ma_work(n, PERIOD(p, 0), matype_of(p, 1));
}

static void
ma_batch(size_t n, const double *const *in, const double *p, double *const *out, double *work)
{
    kz_ta_ma(n, in[0], PERIOD(p, 0), matype_of(p, 1), out[0], work);
}

static size_t ma_state_size(const double *p)
{
    return kz_ta_ma_state_size(PERIOD(p, 0), matype_of(p, 1));
}

static void ma_state_init(void *s, const double *p)
{
    kz_ta_ma_state_init(s, PERIOD(p, 0), matype_of(p, 1));
}

/* T3: period + vfactor. */
static int t3_lookback(const double *p)
{
    return kz_ta_ma_lookback(PERIOD(p, 0), KZ_MA_T3);
}

static size_t t3_work(size_t n, const double *p)
{
    return kz_ta_ma_work(n, PERIOD(p, 0), KZ_MA_T3);
}

static size_t t3_state_size(const double *p)
{
    return kz_ta_ma_state_size(PERIOD(p, 0), KZ_MA_T3);
}

static void t3_state_init(void *s, const double *p)
{
    kz_ta_ma_state_init_t3(s, PERIOD(p, 0), p[1]);
}

static void
t3_batch(size_t n, const double *const *in, const double *p, double *const *out, double *work)
{
    t3_state_init(work, p);
    kz_ta_ma_run(work, n, in[0], out[0], NULL);
}

/* MAMA: fastlimit, slowlimit; outputs mama, fama. Lookback 32 (ta_MAMA.c). */
static int mama_lookback(const double *p)
{
    (void)p;
    return 32;
}

static size_t mama_state_size(const double *p)
{
    (void)p;
    return kz_ta_ma_state_size(2, KZ_MA_MAMA);
}

static size_t mama_work(size_t n, const double *p)
{
    (void)n;
    return (mama_state_size(p) + sizeof(double) - 1) / sizeof(double);
}

static void mama_state_init(void *s, const double *p)
{
    kz_ta_ma_state_init_mama(s, p[0], p[1]);
}

static void mama_state_step(void *s, const double *in, double *out)
{
    out[0] = kz_ta_ma_state_step(s, in[0]);
    out[1] = kz_ta_ma_state_fama(s);
}

static void
mama_batch(size_t n, const double *const *in, const double *p, double *const *out, double *work)
{
    mama_state_init(work, p);
    kz_ta_ma_run(work, n, in[0], out[0], out[1]);
}

/* ================================================================ BBANDS
 * ta_BBANDS.c: middle = MA(close, period, matype); sd = population standard deviation of the
 * window. With SMA, TA-Lib reuses the SMA (TA_INT_stddev_using_precalc_ma: sqrt(mean(x^2) -
 * sma^2)); otherwise it calls TA_STDDEV from the MA's first output bar, whose rolling sums then
 * start at (lookback - period + 1), not at bar 0. Both use TA-Lib's rolling sums and its
 * "variance < 1e-8 -> 0" rule. Deviation from TA-Lib: for MAMA with period > 33 TA-Lib misaligns
 * the deviation with the middle band (it would read later bars); here the lookback becomes
 * period - 1 instead. Layout: bb_state, ring[period], MA state. */

typedef struct bb_state {
    size_t period, start, lookback, count, pos;
    int sma_path;
    double up, dn, t1, t2;
} bb_state;

static double *bb_ring(bb_state *bb)
{
    return (double *)(void *)(bb + 1);
}

static void *bb_ma(bb_state *bb)
{
    return bb_ring(bb) + bb->period;
}

static int bb_lookback(const double *p)
{
    int lb = kz_ta_ma_lookback(PERIOD(p, 0), matype_of(p, 3));
    return lb > PERIOD(p, 0) - 1 ? lb : PERIOD(p, 0) - 1;
}

static size_t bb_state_size(const double *p)
{
    return sizeof(bb_state) + (size_t)PERIOD(p, 0) * sizeof(double) +
           kz_ta_ma_state_size(PERIOD(p, 0), matype_of(p, 3));
}

static size_t bb_work(size_t n, const double *p)
{
    (void)n;
    return (bb_state_size(p) + sizeof(double) - 1) / sizeof(double);
}

static void bb_state_init(void *s, const double *p)
{
    bb_state *bb = s;
    memset(bb, 0, sizeof *bb);
    bb->period = (size_t)PERIOD(p, 0);
    bb->up = p[1];
    bb->dn = p[2];
    bb->sma_path = matype_of(p, 3) == KZ_MA_SMA;
    bb->lookback = (size_t)bb_lookback(p);
    bb->start = bb->lookback + 1 - bb->period;
    bb->pos = bb->period - 1;
    for (size_t i = 0; i < bb->period; i++) {
        bb_ring(bb)[i] = 0.0;
    }
    kz_ta_ma_state_init(bb_ma(bb), PERIOD(p, 0), matype_of(p, 3));
}

/* TA_IS_ZERO_OR_NEG (ta_utility.h): a variance below 1e-8 counts as zero. */
static double sd_of_var(double v)
{
    return v < 0.00000001 ? 0.0 : sqrt(v);
}

/* Warm-up bar c < lookback: accumulate x into the rolling sums once the sums' window starts. */
static inline void bb_warm(bb_state *bb, double x)
{
    if (bb->count++ >= bb->start) {
        double sq = x * x;
        bb->t1 += x;
        bb->t2 += sq;
    }
}

/* Bar c >= lookback: add x, drop old = x[c-p+1] (the window's oldest value) after use, and write
 * the bands around `mid`. */
static inline void bb_full(bb_state *bb, double x, double old, double mid, double *up, double *lo)
{
    bb->count++;
    double sq = x * x;
    bb->t1 += x;
    bb->t2 += sq;
    double dp = (double)bb->period;
    double var;
    if (bb->sma_path) {
        double m2 = bb->t2 / dp;
        bb->t2 -= old * old;
        m2 -= mid * mid;
        var = m2;
    } else {
        double m1 = bb->t1 / dp;
        double m2 = bb->t2 / dp;
        bb->t1 -= old;
        bb->t2 -= old * old;
        var = m2 - m1 * m1;
    }
    double sd = sd_of_var(var);
    *up = mid + sd * bb->up;
    *lo = mid - sd * bb->dn;
}

static void bb_state_step(void *s, const double *in, double *out)
{
    bb_state *bb = s;
    double x = in[0];
    double mid = kz_ta_ma_state_step(bb_ma(bb), x);
    size_t p = bb->period;
    double *ring = bb_ring(bb);
    if (++bb->pos == p) {
        bb->pos = 0;
    }
    ring[bb->pos] = x;
    if (bb->count < bb->lookback) {
        bb_warm(bb, x);
        out[0] = out[1] = out[2] = NAN;
        return;
    }
    bb_full(bb, x, ring[bb->pos + 1 == p ? 0 : bb->pos + 1], mid, &out[0], &out[2]);
    out[1] = mid;
}

static void
bb_batch(size_t n, const double *const *in, const double *p, double *const *out, double *work)
{
    bb_state *bb = (bb_state *)(void *)work;
    bb_state_init(bb, p);
    const double *x = in[0];
    double *up = out[0], *mid = out[1], *lo = out[2];
    kz_ta_ma_run(bb_ma(bb), n, x, mid, NULL);
    size_t lb = bb->lookback < n ? bb->lookback : n;
    for (size_t i = 0; i < lb; i++) {
        bb_warm(bb, x[i]);
        up[i] = mid[i] = lo[i] = NAN;
    }
    size_t back = bb->period - 1;
    for (size_t i = lb; i < n; i++) {
        bb_full(bb, x[i], x[i - back], mid[i], &up[i], &lo[i]);
    }
}

/* ================================================================ MIDPOINT / MIDPRICE
 * ta_MIDPOINT.c / ta_MIDPRICE.c: (highest + lowest) / 2 over the period. TA-Lib rescans the
 * window; the window extremes of extreme_int.h give the same values, the stream one bar at a
 * time, the batch chunk by chunk. MIDPOINT is MIDPRICE with high = low = close. */

typedef struct mid_state {
    kz_xhl win; /* kz_xhl_bytes(period, 1) after the struct */
} mid_state;

static int mid_lookback(const double *p)
{
    return PERIOD(p, 0) - 1;
}

static size_t mid_state_size(const double *p)
{
    return sizeof(mid_state) + kz_xhl_bytes((size_t)PERIOD(p, 0), 1);
}

static void mid_state_init(void *s, const double *p)
{
    mid_state *m = s;
    kz_xhl_init(&m->win, (size_t)PERIOD(p, 0), 0, 1, m + 1);
}

static inline double mid_value(double highest, double lowest)
{
    return (highest + lowest) / 2.0;
}

static inline double mid_step(mid_state *m, double hi, double lo)
{
    if (!kz_xhl_push(&m->win, hi, lo)) {
        return NAN;
    }
    return mid_value(m->win.hv[0], m->win.lv[0]);
}

static void midpoint_state_step(void *s, const double *in, double *out)
{
    out[0] = mid_step(s, in[0], in[0]);
}

static void midprice_state_step(void *s, const double *in, double *out)
{
    out[0] = mid_step(s, in[0], in[1]);
}

static size_t mid_work(size_t n, const double *p)
{
    (void)n;
    return kz_ta_words(kz_xhl_bytes((size_t)PERIOD(p, 0), KZ_X_CHUNK));
}

/* Batch over chunks of bars; hi / lo are the high and low columns (both close for MIDPOINT). */
static void
mid_batch(size_t n, const double *hi, const double *lo, size_t period, double *out, double *work)
{
    kz_xhl b;
    kz_xhl_init(&b, period, 0, KZ_X_CHUNK, work);
    kz_ta_nan_fill(out, n, period - 1);
    for (size_t a = 0; a < n; a += KZ_X_CHUNK) {
        size_t m = kz_x_chunk_len(n, a);
        kz_xhl_run(&b, hi + a, lo + a, m);
        for (size_t i = kz_x_first_full(a, period); i < m; i++) {
            out[a + i] = mid_value(b.hv[i], b.lv[i]);
        }
    }
}

static void
midpoint_batch(size_t n, const double *const *in, const double *p, double *const *out, double *work)
{
    mid_batch(n, in[0], in[0], (size_t)PERIOD(p, 0), out[0], work);
}

static void
midprice_batch(size_t n, const double *const *in, const double *p, double *const *out, double *work)
{
    mid_batch(n, in[0], in[1], (size_t)PERIOD(p, 0), out[0], work);
}

/* ================================================================ SAR
 * ta_SAR.c (Wilder 1978, Parabolic Time/Price System) as TA-Lib does it: the first bar is
 * consumed; the initial direction is short iff bar 1 has a positive -DM(1); the first SAR is
 * bar 0's low (long) or high (short); every SAR is clamped into the previous and current bar's
 * range. An acceleration above the maximum is lowered to the maximum. */

typedef struct sar_state {
    double accel, max, af, ep, sar, new_high, new_low, h0, l0;
    int is_long;
    size_t count;
} sar_state;

static int sar_lookback(const double *p)
{
    (void)p;
    return 1;
}

static size_t sar_state_size(const double *p)
{
    (void)p;
    return sizeof(sar_state);
}

static size_t sar_work(size_t n, const double *p)
{
    (void)n;
    (void)p;
    return 0;
}

static void sar_state_init(void *s, const double *p)
{
    sar_state *st = s;
    memset(st, 0, sizeof *st);
    st->accel = p[0] > p[1] ? p[1] : p[0];
    st->max = p[1];
    st->af = st->accel;
}

static inline double sar_step(sar_state *st, double high, double low)
{
    size_t c = st->count++;
    if (c == 0) {
        st->h0 = high;
        st->l0 = low;
        return NAN;
    }
    if (c == 1) {
        double diff_p = high - st->h0;
        double diff_m = st->l0 - low;
        st->is_long = !(diff_m > 0 && diff_p < diff_m); /* TA_MINUS_DM(period 1) > 0 -> short */
        st->ep = st->is_long ? high : low;
        st->sar = st->is_long ? st->l0 : st->h0;
        st->new_low = low;
        st->new_high = high;
    }
    double prev_low = st->new_low, prev_high = st->new_high;
    st->new_low = low;
    st->new_high = high;
    double out;
    if (st->is_long) {
        if (low <= st->sar) {
            st->is_long = 0;
            st->sar = fmax(fmax(st->ep, prev_high), high);
            out = st->sar;
            st->af = st->accel;
            st->ep = low;
            st->sar = st->sar + st->af * (st->ep - st->sar);
            st->sar = fmax(fmax(st->sar, prev_high), high);
        } else {
            out = st->sar;
            if (high > st->ep) {
                st->ep = high;
                st->af += st->accel;
                if (st->af > st->max) {
                    st->af = st->max;
                }
            }
            st->sar = st->sar + st->af * (st->ep - st->sar);
            st->sar = fmin(fmin(st->sar, prev_low), low);
        }
    } else if (high >= st->sar) {
        st->is_long = 1;
        st->sar = fmin(fmin(st->ep, prev_low), low);
        out = st->sar;
        st->af = st->accel;
        st->ep = high;
        st->sar = st->sar + st->af * (st->ep - st->sar);
        st->sar = fmin(fmin(st->sar, prev_low), low);
    } else {
        out = st->sar;
        if (low < st->ep) {
            st->ep = low;
            st->af += st->accel;
            if (st->af > st->max) {
                st->af = st->max;
            }
        }
        st->sar = st->sar + st->af * (st->ep - st->sar);
        st->sar = fmax(fmax(st->sar, prev_high), high);
    }
    return out;
}

static void sar_state_step(void *s, const double *in, double *out)
{
    out[0] = sar_step(s, in[0], in[1]);
}

/* The state is a local variable here, not `work`: its fields then stay in registers instead of
 * going through memory every bar (out[] stores could alias `work`). */
static void
sar_batch(size_t n, const double *const *in, const double *p, double *const *out, double *work)
{
    (void)work;
    sar_state st;
    sar_state_init(&st, p);
    for (size_t i = 0; i < n; i++) {
        out[0][i] = sar_step(&st, in[0][i], in[1][i]);
    }
}

/* ================================================================ the table */

#define BIG 3e37 /* TA_REAL_MAX-like bound TA-Lib uses for unbounded real factors */
#define P_PERIOD(def, mn, smin, smax)                                                              \
    {                                                                                              \
        "timeperiod", KZ_PARAM_INT, def, mn, 100000, smin, smax                                    \
    }
#define P_MATYPE(name)                                                                             \
    {                                                                                              \
        name, KZ_PARAM_MATYPE, 0, 0, 8, 0, 8                                                       \
    }
#define IN_CLOSE                                                                                   \
    1,                                                                                             \
    {                                                                                              \
        KZ_IN_CLOSE                                                                                \
    }
#define OUT_REAL                                                                                   \
    1, {"real"},                                                                                   \
    {                                                                                              \
        KZ_SCALE_PRICE                                                                             \
    }
#define STATE(pre, step) pre##_state_size, pre##_state_init, step

#define MA_ROW(NAME, pre, desc, flags)                                                             \
    {                                                                                              \
        NAME, "overlap", desc, IN_CLOSE, 1, {P_PERIOD(30, 2, 2, 200)}, OUT_REAL, flags,            \
            pre##_lookback, pre##_batch, pre##_work, NULL, STATE(pre, ma_state_step)               \
    }

static const kz_ta_info table[] = {
    {"BBANDS",
     "overlap",
     "Bollinger Bands",
     IN_CLOSE,
     4,
     {P_PERIOD(5, 2, 2, 100),
      {"nbdevup", KZ_PARAM_REAL, 2, -BIG, BIG, 0.5, 5},
      {"nbdevdn", KZ_PARAM_REAL, 2, -BIG, BIG, 0.5, 5},
      P_MATYPE("matype")},
     3,
     {"upperband", "middleband", "lowerband"},
     {KZ_SCALE_PRICE, KZ_SCALE_PRICE, KZ_SCALE_PRICE},
     0,
     bb_lookback,
     bb_batch,
     bb_work,
     NULL,
     STATE(bb, bb_state_step)},
    MA_ROW("DEMA", dema, "Double Exponential Moving Average", KZ_TA_UNSTABLE),
    MA_ROW("EMA", ema, "Exponential Moving Average", KZ_TA_UNSTABLE),
    MA_ROW("KAMA", kama, "Kaufman Adaptive Moving Average", KZ_TA_UNSTABLE),
    {"MA",
     "overlap",
     "Moving average of any TA-Lib MA type",
     IN_CLOSE,
     2,
     {P_PERIOD(30, 1, 2, 200), P_MATYPE("matype")},
     OUT_REAL,
     KZ_TA_UNSTABLE,
     ma_lookback,
     ma_batch,
     ma_work,
     NULL,
     STATE(ma, ma_state_step)},
    {"MAMA",
     "overlap",
     "MESA Adaptive Moving Average",
     IN_CLOSE,
     2,
     {{"fastlimit", KZ_PARAM_REAL, 0.5, 0.01, 0.99, 0.1, 0.9},
      {"slowlimit", KZ_PARAM_REAL, 0.05, 0.01, 0.99, 0.01, 0.1}},
     2,
     {"mama", "fama"},
     {KZ_SCALE_PRICE, KZ_SCALE_PRICE},
     KZ_TA_UNSTABLE,
     mama_lookback,
     mama_batch,
     mama_work,
     NULL,
     STATE(mama, mama_state_step)},
    {"MIDPOINT",
     "overlap",
     "MidPoint over period",
     IN_CLOSE,
     1,
     {P_PERIOD(14, 2, 2, 100)},
     OUT_REAL,
     0,
     mid_lookback,
     midpoint_batch,
     mid_work,
     NULL,
     STATE(mid, midpoint_state_step)},
    {"MIDPRICE",
     "overlap",
     "Midpoint Price over period",
     2,
     {KZ_IN_HIGH, KZ_IN_LOW},
     1,
     {P_PERIOD(14, 2, 2, 100)},
     OUT_REAL,
     0,
     mid_lookback,
     midprice_batch,
     mid_work,
     NULL,
     STATE(mid, midprice_state_step)},
    {"SAR",
     "overlap",
     "Parabolic SAR",
     2,
     {KZ_IN_HIGH, KZ_IN_LOW},
     2,
     {{"acceleration", KZ_PARAM_REAL, 0.02, 0, BIG, 0.01, 0.1},
      {"maximum", KZ_PARAM_REAL, 0.2, 0, BIG, 0.1, 1.0}},
     OUT_REAL,
     KZ_TA_UNSTABLE,
     sar_lookback,
     sar_batch,
     sar_work,
     NULL,
     STATE(sar, sar_state_step)},
    MA_ROW("SMA", sma, "Simple Moving Average", 0),
    {"T3",
     "overlap",
     "Triple Exponential Moving Average (T3)",
     IN_CLOSE,
     2,
     {P_PERIOD(5, 2, 2, 50), {"vfactor", KZ_PARAM_REAL, 0.7, 0, 1, 0, 1}},
     OUT_REAL,
     KZ_TA_UNSTABLE,
     t3_lookback,
     t3_batch,
     t3_work,
     NULL,
     STATE(t3, ma_state_step)},
    MA_ROW("TEMA", tema, "Triple Exponential Moving Average", KZ_TA_UNSTABLE),
    MA_ROW("TRIMA", trima, "Triangular Moving Average", 0),
    MA_ROW("WMA", wma, "Weighted Moving Average", 0),
};

const kz_ta_info *const kz_ta_overlap_table = table;
const size_t kz_ta_overlap_count = sizeof table / sizeof table[0];
