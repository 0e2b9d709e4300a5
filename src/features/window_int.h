/* The per-bar engine's hot rolling windows (engine.c, their only user): thin wrappers over the
 * static inline pushes of src/ta/rolling_int.h, carved from the engine's one memory block. */
#ifndef KZ_FEATURES_WINDOW_INT_H
#define KZ_FEATURES_WINDOW_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
 * The engine's windows (means, lags, extrema, quantiles) run the inline pushes of rolling_int.h,
 * which the compiler inlines into the engine's phase loops: the same functions as rolling.c's
 * kz_*_push, so every value is the same double, without the call overhead. (The extrema use
 * kz_rblk, which gives the same doubles as kz_rext's deque without its data-dependent branches.) */

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
    return m->run >= m->s.r.w ? x * (double)m->s.r.w : sum;
}

/* The mean for the sum rmean_sum(m, x) has just returned: one state serves a series' rolling
 * sum and mean (VWAP's SUM(V) and Volume_MA's SMA(V)). */
static inline double rmean_of_sum(const rmean *m, double x, double sum)
{
    return m->run >= m->s.r.w ? x : sum / (double)m->s.r.w;
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

static inline void ext_layout(ext *s, size_t w, carver *cv)
{
    void *mem = carve(cv, kz_rblk_mem(w));
    if (mem) {
        kz_rblk_init(s, w, mem);
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

/* Rolling quantile (pandas roll_quantile, 'linear' interpolation) on kz_rquant's state, but
 * cheaper per push: a push whose value equals the one leaving the window leaves the sorted copy
 * unchanged (funding rates are piecewise constant: on 1h bars they change every 8th bar), and
 * otherwise the leaving value's slot slides to the entering value's place in ONE memmove over
 * the values between them instead of a delete and an insert that each move the tail. The sorted
 * multiset after every push is the one kz_rquant holds, so every order statistic and hence every
 * quantile is the same double (up to the sign of a zero: the quantiles feed only comparisons,
 * where -0 == +0). */
typedef kz_rquant_state squant;

static inline void quant_layout(squant *s, size_t w, double q, carver *cv)
{
    void *mem = carve(cv, 2 * w * sizeof(double));
    if (mem) {
        kz_rquant_init(s, w, q, mem);
    }
}

/* Replaces one copy of `old` (present, so n >= 1) by x in the sorted values. */
static inline void sorted_replace(double *v, size_t n, double old, double x)
{
    size_t i, j;
    kz_lower_bound2(v, n, old, x, &i, &j);
    if (x > old) { /* j > i: v[i] == old < x */
        memmove(v + i, v + i + 1, (j - i - 1) * sizeof(double));
        v[j - 1] = x;
    } else { /* j <= i */
        memmove(v + j + 1, v + j, (i - j) * sizeof(double));
        v[j] = x;
    }
}

/* The window's quantile at a second level, from its kz_quantile_pos(w, q) computed once. */
static inline double squant_at(const squant *s, size_t lo, double frac)
{
    return kz_ring_valid(&s->r) ? kz_sorted_quantile_at(s->sorted, s->r.w, lo, frac) : NAN;
}

static inline double squant_push(squant *s, double x)
{
    double old;
    kz_ring_push(&s->r, x, &old);
    int old_ok = isfinite(old), x_ok = isfinite(x);
    if (old_ok && x_ok) {
        if (x != old) {
            sorted_replace(s->sorted, s->n_sorted, old, x);
        }
    } else if (old_ok) {
        kz_sorted_delete(s->sorted, &s->n_sorted, old);
    } else if (x_ok) {
        kz_sorted_insert(s->sorted, &s->n_sorted, x);
    }
    return kz_rquant_value(s);
}

#endif
