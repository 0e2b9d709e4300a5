/* The per-bar engine's hot rolling windows (engine.c, their only user): thin wrappers over the
 * static inline pushes of src/ta/rolling_int.h and the quantile comparisons (with window.c's
 * counting pass), carved from the engine's one memory block. */
#ifndef KZ_FEATURES_WINDOW_INT_H
#define KZ_FEATURES_WINDOW_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "features_int.h"
#include "ta/rolling_int.h"

/* ================================================================ memory layout */

/* Two-pass carving: with base == NULL it only sums the 8-aligned sizes. */
typedef struct carver {
    char *base;
    size_t off;
} carver;

static inline void *carve(carver *cv, size_t bytes)
{
    size_t b = (bytes + 7u) & ~(size_t)7u;
    void *p = cv->base ? cv->base + cv->off : NULL;
    cv->off += b;
    return p;
}

/* ---------------------------------------------------------------- windows
 * The engine's windows (means, lags, extrema) run the inline pushes of rolling_int.h, which the
 * compiler inlines into the engine's phase loops: the same functions as rolling.c's kz_*_push,
 * so every value is the same double, without the call overhead. (The extrema use kz_rblk, which
 * gives the same doubles as kz_rext's deque without its data-dependent branches; the quantiles,
 * below, their own windows, which give the same quantiles as kz_rquant's sorted window.) */

/* Rolling mean/sum with pandas semantics (kz_rsum: NaN until w values and while the window
 * holds a non-finite value), also exact on a window of w equal values (pandas counts consecutive
 * equal values and then returns that value: roll_mean's num_consecutive_same_value). */
typedef struct rmean {
    kz_rsum_state s;
    double last; /* previous input and length of the run of equal inputs ending there */
    size_t run;
} rmean;

static inline void rmean_layout(rmean *m, size_t w, carver *cv)
{
    double *mem = carve(cv, w * sizeof(double));
    if (mem) {
        kz_rsum_init(&m->s, w, mem);
        m->last = NAN;
        m->run = 0;
    }
}

static inline double rmean_sum(rmean *m, double x)
{
    double sum = kz_rsum_step(&m->s, x);
    m->run = kz_run_update(m->run, &m->last, x);
    return m->run >= m->s.r.w ? x * kz_count_d(m->s.r.w) : sum;
}

/* The mean of a window of w values whose sum is sum (rmean_sum's result) and whose last value
 * is x: x itself when the run of equal values covers the window (full), as pandas. */
static inline double rmean_mean(int full, double x, double sum, double w)
{
    return full ? x : sum / w;
}

/* The mean for the sum rmean_sum(m, x) has just returned: one state serves a series' rolling
 * sum and mean (VWAP's SUM(V) and Volume_MA's SMA(V)). */
static inline double rmean_of_sum(const rmean *m, double x, double sum)
{
    return rmean_mean(m->run >= m->s.r.w, x, sum, kz_count_d(m->s.r.w));
}

static inline double rmean_push(rmean *m, double x)
{
    return rmean_of_sum(m, x, rmean_sum(m, x));
}

/* Lag-k ring for pandas diff(k) and pct_change(k) (kz_lag_state). */
typedef kz_lag_state lag;

static inline void lag_layout(lag *l, size_t k, int pad, carver *cv)
{
    double *mem = carve(cv, k * sizeof(double));
    if (mem) {
        kz_lag_init(l, k, pad, mem);
    }
}

static inline double lag_diff_push(lag *l, double x)
{
    return kz_lag_diff_step(l, x);
}

static inline double lag_pct_push(lag *l, double x)
{
    return kz_lag_pct_step(l, x);
}

/* Rolling max or min (kz_rblk: branch-free blocks; the same doubles as kz_rext's deque). */
typedef kz_rblk_state ext;

static inline void ext_layout(ext *s, size_t w, int is_max, carver *cv)
{
    void *mem = carve(cv, kz_rblk_mem(w));
    if (mem) {
        kz_rblk_init(s, w, is_max, mem);
    }
}

static inline double max_push(ext *s, double x)
{
    return kz_rblk_step(s, x, 1);
}

static inline double min_push(ext *s, double x)
{
    return kz_rblk_step(s, x, 0);
}

/* ---------------------------------------------------------------- quantile comparisons
 * The engine reads its rolling quantiles (pandas roll_quantile, 'linear': pos = q (w - 1),
 * lo = floor(pos), frac = pos - lo, Q = s[lo] + (s[lo+1] - s[lo]) frac over the sorted window s;
 * NaN until the window is full and while it holds a non-finite value) only to compare them with
 * the value x just pushed: x > Q (volatility regime, volume spike, FR extreme high, OI surge) and
 * x < Q (FR extreme low). Those flags follow from x's rank in the window, one branch-free counting
 * pass over the w values (vectorised), instead of keeping the window sorted: a sorted window moved
 * ~w/3 values per push, and a kept sorted tail (the previous version) cost ~30 ns per push, most
 * of it branch mispredictions on the entering and leaving values.
 *
 * Why the rank decides. x is in the window, so x = s[i] for some i. With lt = #{y < x} and
 * gt = #{y > x} (le = w - gt = #{y <= x}):
 *   x > Q: lt <= lo means x <= s[lo] <= Q (a + t >= a for t >= 0, and rounding is monotonic):
 *          false. lt >= lo + 2 means x > s[lo+1] >= Q: true. lt = lo + 1 means s[lo] < x = s[lo+1],
 *          and Q is computed from s[lo] = max{y < x} and x.
 *   x < Q: le >= lo + 2 means x >= s[lo+1] >= Q: false. le <= lo means x < s[lo] <= Q: true.
 *          le = lo + 1 means x = s[lo] < s[lo+1] = min{y > x}, from which Q is computed.
 * Q is then computed by kz_sorted_quantile_at's formula on the same two doubles, so the flag is
 * the one the sorted window gives (a -0 for +0 among the pair changes no flag: x - (-0) = x - 0).
 * Q <= s[lo+1] holds in floating point when frac < 1 - 2^-50 and b - a does not overflow:
 * fl(b - a) <= (b - a)(1 + u) and fl(d frac) <= d frac (1 + u) (u = 2^-53) leave a + t below b.
 * The engine's levels (0.8, 0.9, 0.1) give frac <= 0.9 + 1e-15; for any other level, and while
 * the window holds a value of magnitude above 1e300 (b - a could overflow), the flags come from a
 * sorted copy of the window instead (qwin_exact). */

/* The counting pass: #{y > x} if above, else #{y < x}, over y[0..w) (window.c: one version per
 * instruction set; all give the same counts). */
typedef size_t (*fe_count_fn)(const double *y, size_t w, double x, int above);
/* The version for isa (features_int.h), or NULL where this build or CPU lacks it. */
fe_count_fn fe_count_variant(fe_isa isa);
/* The version for fe_isa_current(). */
fe_count_fn fe_count_best(void);

enum { QWIN_MAX_LEVELS = 2 };

/* Window of w values with one or two quantile levels (qwin_flags: level 0 for x > Q, level 1
 * for x < Q). */
typedef struct qwin {
    kz_ring r;
    size_t n_huge; /* values held with |y| > 1e300 (NaN is not counted) */
    size_t n_level;
    size_t lo[QWIN_MAX_LEVELS];
    double frac[QWIN_MAX_LEVELS];
    int rank_ok[QWIN_MAX_LEVELS]; /* the rank decides (frac small enough, see above) */
    double *sorted;               /* w doubles: qwin_exact's scratch */
    fe_count_fn count;
    /* The rank of the last value pushed, kept for the next push: when the next value is equal
     * (funding rates are as-of values that hold for hours), its rank in the new window follows
     * from the value that left, without a counting pass. */
    int rank_kept;
    double rank_x;
    size_t rank_lt, rank_gt;
} qwin;

static inline int qwin_huge(double x)
{
    return fabs(x) > 1e300 && isfinite(x);
}

/* Lays out a window of w values with n_q (1..QWIN_MAX_LEVELS) levels q[], read back by index. */
static inline void qwin_layout(qwin *s, size_t w, const double *q, size_t n_q, carver *cv)
{
    double *ring = carve(cv, w * sizeof(double));
    double *sorted = carve(cv, w * sizeof(double));
    if (!ring) {
        return;
    }
    kz_ring_init(&s->r, w, ring, KZ_REFRESH_EVERY_WRAP);
    s->n_huge = 0;
    s->n_level = n_q;
    s->sorted = sorted;
    s->count = fe_count_best();
    s->rank_kept = 0;
    s->rank_lt = s->rank_gt = 0;
    for (size_t i = 0; i < n_q; i++) {
        kz_quantile_pos(w, q[i], &s->lo[i], &s->frac[i]);
        s->rank_ok[i] = s->frac[i] < 1.0 - 0x1p-50;
    }
}

/* Pushes x; updates or drops the kept rank (see qwin). */
static inline void qwin_push(qwin *s, double x)
{
    double old;
    int full = kz_ring_push(&s->r, x, &old);
    s->n_huge += (size_t)qwin_huge(x) - (size_t)(full && qwin_huge(old));
    /* kept only for a valid window, so old is finite; x == rank_x means x is finite too */
    if (s->rank_kept && x == s->rank_x) {
        s->rank_lt -= old < x;
        if (s->n_level == 2) {
            s->rank_gt -= old > x;
        }
    } else {
        s->rank_kept = 0;
    }
}

/* For the tie cases of qwin_rank_above/below, the nearest values on each side of x: max{y < x}
 * and min{y > x}, scanned only when needed (rarely: when x is next to the quantile's position).
 * Order-free, so any scan order gives the same doubles (up to the sign of a zero among equal
 * candidates, which changes no flag, see above). */
static inline double qwin_max_below(const double *y, size_t w, double x)
{
    double m = -INFINITY;
    for (size_t i = 0; i < w; i++) {
        m = y[i] < x && y[i] > m ? y[i] : m;
    }
    return m;
}

static inline double qwin_min_above(const double *y, size_t w, double x)
{
    double m = INFINITY;
    for (size_t i = 0; i < w; i++) {
        m = y[i] > x && y[i] < m ? y[i] : m;
    }
    return m;
}

/* Whether the flags of level i come from the rank (otherwise qwin_exact). */
static inline int qwin_by_rank(const qwin *s, size_t i)
{
    return s->rank_ok[i] && s->n_huge == 0;
}

/* x > Q_i from x's rank (rank_lt; qwin_by_rank). */
static inline int qwin_rank_above(const qwin *s, size_t i, double x)
{
    size_t lo = s->lo[i], w = s->r.w, lt = s->rank_lt;
    double f = s->frac[i];
    if (f == 0.0 || lo + 1 >= w) { /* Q = s[lo] */
        return lt >= lo + 1;
    }
    if (lt != lo + 1) {
        return lt > lo + 1;
    }
    const double pair[2] = {qwin_max_below(s->r.buf, w, x), x};
    return x > kz_sorted_quantile_at(pair, 2, 0, f);
}

/* x < Q_i from x's rank (rank_gt: a two-level window's level 1; qwin_by_rank). */
static inline int qwin_rank_below(const qwin *s, size_t i, double x)
{
    size_t lo = s->lo[i], w = s->r.w, le = w - s->rank_gt;
    double f = s->frac[i];
    if (f == 0.0 || lo + 1 >= w) {
        return le <= lo;
    }
    if (le != lo + 1) {
        return le < lo + 1;
    }
    const double pair[2] = {x, qwin_min_above(s->r.buf, w, x)};
    return x < kz_sorted_quantile_at(pair, 2, 0, f);
}

/* Q_i from a sorted copy of the (valid) window: the slow path for levels or values the rank
 * cannot decide (see above). */
static inline double qwin_exact(const qwin *s, size_t i)
{
    size_t n = 0;
    for (size_t p = 0; p < s->r.w; p++) {
        kz_sorted_insert(s->sorted, &n, s->r.buf[p]);
    }
    return kz_sorted_quantile_at(s->sorted, n, s->lo[i], s->frac[i]);
}

/* x (the value just pushed) > Q_0 in *above and, for a window with two levels, x < Q_1 in *below
 * (NULL for a one-level window); both false while the window is not valid (a NaN quantile
 * compares false). */
static inline void qwin_flags(qwin *s, double x, int *above, int *below)
{
    *above = 0;
    if (below) {
        *below = 0;
    }
    if (!kz_ring_valid(&s->r)) {
        s->rank_kept = 0;
        return;
    }
    if (!s->rank_kept) { /* rank_gt: the two-level windows only */
        s->rank_lt = s->count(s->r.buf, s->r.w, x, 0);
        if (s->n_level == 2) {
            s->rank_gt = s->count(s->r.buf, s->r.w, x, 1);
        }
        s->rank_kept = 1;
        s->rank_x = x;
    }
    *above = qwin_by_rank(s, 0) ? qwin_rank_above(s, 0, x) : x > qwin_exact(s, 0);
    if (below) {
        *below = qwin_by_rank(s, 1) ? qwin_rank_below(s, 1, x) : x < qwin_exact(s, 1);
    }
}

#endif
