/* Streaming (one value at a time) states behind the rolling primitives of kizashi/ta.h; the batch
 * functions in rolling.c are loops over these pushes, so batch and stream are bit-identical.
 *
 * DESIGN. Every windowed state keeps the last w inputs in a ring inside caller-provided memory
 * (kz_r*_mem(w) bytes, 8-aligned, borrowed: it must outlive the state; a state must not be copied
 * to another address while it points at its memory). Semantics follow pandas rolling(w) with
 * min_periods = w: the value is NaN until w inputs were pushed and while the window holds a NaN.
 * Like pandas (Window._prep_values), +-inf is treated as NaN by every rolling and EWM state.
 * Moment states (sum, var, corr, slope) update in O(1) per push and recompute their accumulators
 * exactly from the ring at the push that fills the window and then at ring wraps (var, corr:
 * every wrap; sum, slope: about every max(w, 1024) pushes), so rounding drift never spans more
 * than that many updates (amortised O(1)).
 * Preconditions of the init functions are those of the batch functions (w >= 1, ...); they are
 * not re-checked. Thread contract: a state belongs to one thread at a time. */
#ifndef KZ_ROLLING_INT_H
#define KZ_ROLLING_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "extreme_int.h"

/* The last w values; n_bad counts the non-finite ones currently held; refresh says whether the
 * last push is one where the moment states recompute exactly (every `period` wraps). */
typedef struct kz_ring {
    double *buf;
    size_t w, pos, filled, n_bad;
    size_t period, countdown;
    int refresh;
} kz_ring;

/* The moment states recompute exactly at the push that fills the window and then at ring wraps
 * at least `min_refresh` pushes apart, so their O(1) updates accumulate at most
 * max(w, min_refresh) roundings. Sums and slopes take KZ_REFRESH_LONG (their rounding errors are
 * relative to the values, so a rare O(w) pass keeps small windows cheap); variance and
 * correlation refresh at every wrap, because their errors are relative to M2, which a window of
 * nearly equal values makes tiny. */
enum { KZ_REFRESH_EVERY_WRAP = 1, KZ_REFRESH_LONG = 1024 };

/* Running rolling sum of the finite values (Neumaier-compensated exact recomputation). */
typedef struct kz_rsum_state {
    kz_ring r;
    double sum, comp;
} kz_rsum_state;
size_t kz_rsum_mem(size_t w);
void kz_rsum_init(kz_rsum_state *s, size_t w, void *mem);
/* Returns the window sum (NaN during warm-up / with a NaN in the window). */
double kz_rsum_push(kz_rsum_state *s, double x);
/* The mean of the window after the last push. */
double kz_rsum_mean(const kz_rsum_state *s);

/* Welford moments of (x - shift): the shift is the window mean at the last exact recomputation,
 * so the accumulators see deviations (~ the window's spread), not levels (~1e5 for prices). */
typedef struct kz_moments {
    double shift, mean, m2;
} kz_moments;

/* Rolling variance with ddof (Welford add/remove on shifted data + periodic recomputation). */
typedef struct kz_rvar_state {
    kz_ring r;
    kz_moments m;
    size_t n_ok; /* finite values in the window */
    size_t run;  /* length of the run of equal values ending at the last push */
    double last;
    int ddof;
} kz_rvar_state;
size_t kz_rvar_mem(size_t w);
void kz_rvar_init(kz_rvar_state *s, size_t w, int ddof, void *mem);
/* Returns the variance (0 exactly when all w values are equal, as pandas). */
double kz_rvar_push(kz_rvar_state *s, double x);

/* Rolling Pearson correlation of (x, y) pairs. */
typedef struct kz_rcorr_state {
    kz_ring rx, ry;
    kz_moments mx, my;
    double cxy;
    size_t n_ok;
    size_t run_x, run_y;
    double last_x, last_y;
} kz_rcorr_state;
size_t kz_rcorr_mem(size_t w);
void kz_rcorr_init(kz_rcorr_state *s, size_t w, void *mem);
/* Returns corr; NaN when either side is constant over the window. */
double kz_rcorr_push(kz_rcorr_state *s, double x, double y);

/* Rolling OLS slope against 0..w-1 (w >= 2): keeps S = sum z and N = sum (j - (w-1)/2) z_j of
 * the shifted values z = x - shift; slope = N / (w (w^2 - 1) / 12). */
typedef struct kz_rslope_state {
    kz_ring r;
    double shift, s, num;
} kz_rslope_state;
size_t kz_rslope_mem(size_t w);
void kz_rslope_init(kz_rslope_state *s, size_t w, void *mem);
double kz_rslope_push(kz_rslope_state *s, double x);

/* Rolling min or max by a monotonic deque of (value, absolute index); ties -> the most recent. */
typedef struct kz_rext_entry {
    double v;
    uint64_t t;
} kz_rext_entry;
typedef struct kz_rext_state {
    kz_rext_entry *q;
    size_t w, head, len;
    uint64_t t;        /* number of pushes so far */
    uint64_t last_bad; /* 1 + absolute index of the last non-finite input (0 = none) */
    int is_max;
} kz_rext_state;
size_t kz_rext_mem(size_t w);
void kz_rext_init(kz_rext_state *s, size_t w, int is_max, void *mem);
/* Returns the min (max); *index gets its absolute index (pushes before it) as a double, or NaN.
 * index may be NULL. */
double kz_rext_push(kz_rext_state *s, double x, double *index);

/* Rolling quantile (pandas 'linear'): a sorted copy of the window's finite values, binary-search
 * insert/delete (O(w) memmove, fine for w up to a few hundred). */
typedef struct kz_rquant_state {
    kz_ring r;
    double *sorted;
    size_t n_sorted;
    double q;
    size_t lo; /* kz_quantile_pos(w, q): where a full window's quantile lies */
    double frac;
} kz_rquant_state;
size_t kz_rquant_mem(size_t w);
void kz_rquant_init(kz_rquant_state *s, size_t w, double q, void *mem);
double kz_rquant_push(kz_rquant_state *s, double x);

/* Rolling mean absolute deviation: two O(w) passes over the ring per push (no O(1) update
 * exists for sum |x - mean| as the mean moves). */
typedef struct kz_rmad_state {
    kz_ring r;
} kz_rmad_state;
size_t kz_rmad_mem(size_t w);
void kz_rmad_init(kz_rmad_state *s, size_t w, void *mem);
double kz_rmad_push(kz_rmad_state *s, double x);

/* pandas ewm(alpha, adjust=True, ignore_na=False).mean(): no memory beyond the struct. */
typedef struct kz_ewma_state {
    double avg, old_wt, decay;
} kz_ewma_state;
void kz_ewma_init(kz_ewma_state *s, double alpha);
double kz_ewma_push(kz_ewma_state *s, double x);

/* Recursive EWM y = alpha x + (1 - alpha) y_prev; NaN inputs carry y forward. */
typedef struct kz_ewmr_state {
    double y, alpha;
} kz_ewmr_state;
void kz_ewmr_init(kz_ewmr_state *s, double alpha);
double kz_ewmr_push(kz_ewmr_state *s, double x);

/* Lag-k state for diff and pct_change (k >= 1); pad = 1 forward-fills NaN before the ratio
 * (pct_change only; diff never pads). Unlike the rolling states, +-inf are ordinary values (the
 * ring's n_bad and refresh are not kept). */
typedef struct kz_lag_state {
    kz_ring r;
    double last; /* last non-NaN input (pct_change pad mode) */
    int pad;
} kz_lag_state;
size_t kz_lag_mem(size_t k);
void kz_lag_init(kz_lag_state *s, size_t k, int pad, void *mem);
double kz_lag_diff_push(kz_lag_state *s, double x);
double kz_lag_pct_push(kz_lag_state *s, double x);

/* ================================================================ inline per-push updates
 * The bodies of the pushes above, static inline so that the feature engine (src/features) can
 * compile them into its per-bar code: rolling.c's kz_*_push and the engine run these same
 * functions, so they give the same doubles by construction. */

static inline void kz_ring_init(kz_ring *r, size_t w, double *buf, size_t min_refresh)
{
    r->buf = buf;
    r->w = w;
    r->pos = 0;
    r->filled = 0;
    r->n_bad = 0;
    r->period = w >= min_refresh ? 1 : (min_refresh + w - 1) / w;
    r->countdown = 1;
    r->refresh = 0;
}

/* Stores x; returns 1 and the value stored w pushes ago in *old when the ring was full (*old =
 * NaN otherwise). No bookkeeping of non-finite values or refreshes: that is kz_ring_push. */
static inline int kz_ring_store(kz_ring *r, double x, double *old)
{
    int full = r->filled == r->w;
    if (full) {
        *old = r->buf[r->pos];
    } else {
        *old = NAN;
        r->filled++;
    }
    r->buf[r->pos] = x;
    r->pos = r->pos + 1 == r->w ? 0 : r->pos + 1;
    return full;
}

/* kz_ring_store plus the count of non-finite values held and the refresh flag (kz_ring). */
static inline int kz_ring_push(kz_ring *r, double x, double *old)
{
    int full = kz_ring_store(r, x, old);
    if (full && !isfinite(*old)) {
        r->n_bad--;
    }
    if (!isfinite(x)) {
        r->n_bad++;
    }
    r->refresh = r->pos == 0 && --r->countdown == 0;
    if (r->refresh) {
        r->countdown = r->period;
    }
    return full;
}

/* A full window without NaN/inf (pandas min_periods = w after inf -> NaN). */
static inline int kz_ring_valid(const kz_ring *r)
{
    return r->filled == r->w && r->n_bad == 0;
}

/* Neumaier's compensated summation (Neumaier 1974): the error term catches what t drops. */
static inline void kz_neumaier_add(double *sum, double *comp, double x)
{
    double t = *sum + x;
    if (fabs(*sum) >= fabs(x)) {
        *comp += (*sum - t) + x;
    } else {
        *comp += (x - t) + *sum;
    }
    *sum = t;
}

/* Length of the run of equal finite values ending at x: a run of w means a constant window,
 * whose variance is exactly 0 and whose mean is x (pandas counts consecutive equal values for
 * the same reason: roll_mean/roll_var's num_consecutive_same_value). */
static inline size_t kz_run_update(size_t run, double *last, double x)
{
    size_t r = !isfinite(x) ? 0 : (x == *last ? run + 1 : 1);
    *last = x;
    return r;
}

static inline double kz_rsum_step(kz_rsum_state *s, double x)
{
    double old;
    int full = kz_ring_push(&s->r, x, &old);
    if (s->r.refresh) { /* the ring has just wrapped: buf[0..w) is in chronological order */
        s->sum = 0.0;
        s->comp = 0.0;
        for (size_t i = 0; i < s->r.w; i++) {
            if (isfinite(s->r.buf[i])) {
                kz_neumaier_add(&s->sum, &s->comp, s->r.buf[i]);
            }
        }
    } else if (full) {
        /* Plain add/remove: the drift of the < max(w, KZ_REFRESH_LONG) updates since the exact
         * recomputation stays near that many eps * max|x|, and a short dependency chain keeps
         * the update at a few ns. */
        s->sum += (isfinite(x) ? x : 0.0) - (isfinite(old) ? old : 0.0);
    }
    return kz_ring_valid(&s->r) ? s->sum + s->comp : NAN;
}

static inline double kz_lag_diff_step(kz_lag_state *s, double x)
{
    double old;
    return kz_ring_store(&s->r, x, &old) ? x - old : NAN;
}

/* pandas pct_change(fill_method='pad'): ffill first (only NaN is filled), then x / x.shift(k) - 1.
 */
static inline double kz_lag_pct_step(kz_lag_state *s, double x)
{
    double v = x;
    if (s->pad) {
        if (isnan(x)) {
            v = s->last;
        } else {
            s->last = x;
        }
    }
    double old;
    return kz_ring_store(&s->r, v, &old) ? v / old - 1.0 : NAN;
}

/* kz_rext_push with the direction as an argument, so a constant is_max specialises the loop. */
static inline double kz_rext_step(kz_rext_state *s, double x, int is_max, double *index)
{
    uint64_t t = s->t++;
    /* Entries have distinct increasing indices and every earlier push dropped those older than
     * w pushes, so at most the front entry (index t - w) expires now. */
    if (s->len && t - s->q[s->head].t >= s->w) {
        s->head = s->head + 1 == s->w ? 0 : s->head + 1;
        s->len--;
    }
    if (!isfinite(x)) {
        s->last_bad = t + 1;
    } else {
        /* Pop back entries that can never be the answer again once x arrives; popping equal
         * values makes ties resolve to the most recent index (TA-Lib MININDEX/MAXINDEX). */
        while (s->len) {
            size_t back = s->head + s->len - 1;
            back = back >= s->w ? back - s->w : back;
            double b = s->q[back].v;
            if (is_max ? b > x : b < x) {
                break;
            }
            s->len--;
        }
        size_t slot = s->head + s->len;
        slot = slot >= s->w ? slot - s->w : slot;
        s->q[slot].v = x;
        s->q[slot].t = t;
        s->len++;
    }
    int valid = t + 1 >= s->w && (s->last_bad == 0 || t + 1 - s->last_bad >= s->w);
    if (index) {
        *index = valid ? (double)s->q[s->head].t : NAN;
    }
    return valid ? s->q[s->head].v : NAN;
}

/* ---------------------------------------------------------------- block extrema (values only)
 * Rolling max or min without the deque's data-dependent pops, for the feature engine's hot
 * path: the indicators' van Herk / Gil-Werman engine (kz_vhgw, extreme_int.h), fed one value per
 * push, with kz_rext's pandas semantics on top. Ties resolve to the most recent value (the
 * engine's "latest" rule), as kz_rext's deque does, so the result is the same double (the sign of
 * a zero included); non-finite inputs enter as the identity (-inf for max, +inf for min), and the
 * result is NaN while one is in the window, as kz_rext. Memory: kz_rblk_mem(w) bytes. */
typedef struct kz_rblk_state {
    kz_vhgw b;
    uint64_t t, last_bad; /* as kz_rext_state */
} kz_rblk_state;

static inline size_t kz_rblk_mem(size_t w)
{
    return w && w <= SIZE_MAX / (4 * sizeof(double)) ? kz_x_bytes(w) : 0;
}

/* is_max: the same on every kz_rblk_step of this state. */
static inline void kz_rblk_init(kz_rblk_state *s, size_t w, int is_max, void *mem)
{
    kz_vhgw_init(&s->b, w, !is_max, mem);
    s->t = 0;
    s->last_bad = 0;
}

static inline double kz_rblk_step(kz_rblk_state *s, double x, int is_max)
{
    uint64_t t = s->t++;
    int ok = isfinite(x);
    double v = ok ? x : (is_max ? -INFINITY : INFINITY);
    s->last_bad = ok ? s->last_bad : t + 1;
    double r = NAN; /* written by the run; initialised for the compiler's flow analysis */
    kz_vhgw_run(&s->b, &v, 1, &r, NULL, !is_max, 1, 0);
    int valid = t + 1 >= s->b.w && (s->last_bad == 0 || t + 1 - s->last_bad >= s->b.w);
    return valid ? r : NAN;
}

/* ---------------------------------------------------------------- moments (var, corr) */

/* Welford (1962) update adding x to a set that now has n members; returns the deviation from
 * the previous mean, which the co-moment update needs. */
static inline double kz_moments_add(kz_moments *m, double n, double x)
{
    double z = x - m->shift;
    double d = z - m->mean;
    m->mean += d / n;
    m->m2 += d * (z - m->mean);
    return d;
}

/* The inverse update: removes x from a set that now has n >= 1 members. */
static inline double kz_moments_remove(kz_moments *m, double n, double x)
{
    double z = x - m->shift;
    double d = z - m->mean;
    m->mean -= d / n;
    m->m2 -= d * (z - m->mean);
    return d;
}

/* Exact moments of the finite values x[0..w) (pairs with y when y != NULL): shift = the mean,
 * then the corrected two-pass formula M2 = sum d^2 - (sum d)^2 / n (Chan, Golub & LeVeque 1983).
 * Returns the number of values used. (rolling.c; the O(w) refresh, out of line.) */
size_t kz_moments_exact(
    const double *x, const double *y, size_t w, kz_moments *mx, kz_moments *my, double *cxy);

static inline double kz_rvar_step(kz_rvar_state *s, double x)
{
    double old;
    int full = kz_ring_push(&s->r, x, &old);
    s->run = kz_run_update(s->run, &s->last, x);
    if (s->r.refresh) {
        s->n_ok = kz_moments_exact(s->r.buf, NULL, s->r.w, &s->m, NULL, NULL);
    } else if (full) {
        /* Add before remove so n never reaches 0 in the middle of a slide. */
        if (isfinite(x)) {
            s->n_ok++;
            kz_moments_add(&s->m, (double)s->n_ok, x);
        }
        if (isfinite(old)) {
            s->n_ok--;
            if (s->n_ok == 0) {
                s->m.mean = s->m.m2 = 0.0;
            } else {
                kz_moments_remove(&s->m, (double)s->n_ok, old);
            }
        }
    }
    if (!kz_ring_valid(&s->r)) {
        return NAN;
    }
    if (s->run >= s->r.w) {
        return 0.0;
    }
    /* fmax(m2, 0) without libm's call: NaN and -0 give +0, as fmax does. */
    return (s->m.m2 > 0.0 ? s->m.m2 : 0.0) / (double)(s->r.w - (size_t)s->ddof);
}

/* Bivariate Welford: the co-moment takes dx (before) times y's deviation from the new mean. */
static inline void kz_corr_add(kz_rcorr_state *s, double x, double y)
{
    s->n_ok++;
    double dx = kz_moments_add(&s->mx, (double)s->n_ok, x);
    kz_moments_add(&s->my, (double)s->n_ok, y);
    s->cxy += dx * ((y - s->my.shift) - s->my.mean);
}

static inline void kz_corr_remove(kz_rcorr_state *s, double x, double y)
{
    s->n_ok--;
    if (s->n_ok == 0) {
        s->mx.mean = s->mx.m2 = s->my.mean = s->my.m2 = s->cxy = 0.0;
        return;
    }
    double dx = kz_moments_remove(&s->mx, (double)s->n_ok, x);
    kz_moments_remove(&s->my, (double)s->n_ok, y);
    s->cxy -= dx * ((y - s->my.shift) - s->my.mean);
}

static inline double kz_rcorr_step(kz_rcorr_state *s, double x, double y)
{
    double ox, oy;
    int full = kz_ring_push(&s->rx, x, &ox);
    kz_ring_push(&s->ry, y, &oy);
    s->run_x = kz_run_update(s->run_x, &s->last_x, x);
    s->run_y = kz_run_update(s->run_y, &s->last_y, y);
    if (s->rx.refresh) {
        s->n_ok = kz_moments_exact(s->rx.buf, s->ry.buf, s->rx.w, &s->mx, &s->my, &s->cxy);
    } else if (full) {
        if (isfinite(x) && isfinite(y)) {
            kz_corr_add(s, x, y);
        }
        if (isfinite(ox) && isfinite(oy)) {
            kz_corr_remove(s, ox, oy);
        }
    }
    if (!kz_ring_valid(&s->rx) || !kz_ring_valid(&s->ry) || s->run_x >= s->rx.w ||
        s->run_y >= s->ry.w || s->mx.m2 <= 0.0 || s->my.m2 <= 0.0) {
        return NAN;
    }
    return s->cxy / (sqrt(s->mx.m2) * sqrt(s->my.m2));
}

/* pandas window/aggregations.pyx ewm() with adjust=True (new weight 1), ignore_na=False: once
 * started, every bar (observed or not) ages the old weight; an observation is merged as
 * (old_wt * avg + x) / (old_wt + 1) and then joins the old weight. */
static inline double kz_ewma_step(kz_ewma_state *s, double x)
{
    int observed = isfinite(x);
    if (!isnan(s->avg)) {
        s->old_wt *= s->decay;
        if (observed) {
            if (s->avg != x) {
                s->avg = (s->old_wt * s->avg + x) / (s->old_wt + 1.0);
            }
            s->old_wt += 1.0;
        }
    } else if (observed) {
        s->avg = x;
        s->old_wt = 1.0;
    }
    return s->avg;
}

/* ---------------------------------------------------------------- sorted windows (quantiles) */

/* step if v < a, else 0, without a branch (ranks in a window are unpredictable, so a branching
 * search mispredicts about every other step, and ?: may compile to a branch). */
static inline size_t kz_step_if_less(double v, double a, size_t step)
{
    return step & ((size_t)0 - (size_t)(v < a));
}

/* The first index with v[i] >= a and the first with v[i] >= b, by branch-free searches. The
 * search is a chain of dependent loads, so its length is the cost: while 8 or more candidates
 * remain, a step compares three independent pivots at once and keeps a quarter (the last part
 * may be longer: it keeps n - 3q, overlapping its neighbour, which is harmless in a sorted
 * array), then binary steps finish: 5 steps instead of 8 for w = 168. The two searches shrink
 * the same lengths, so they run in lockstep and overlap their chains. */
static inline void
kz_lower_bound2(const double *v, size_t n, double a, double b, size_t *ia, size_t *ib)
{
    if (n == 0) {
        *ia = *ib = 0;
        return;
    }
    const double *pa = v, *pb = v;
    while (n >= 8) {
        size_t q = n / 4;
        pa += kz_step_if_less(pa[q - 1], a, q) + kz_step_if_less(pa[2 * q - 1], a, q) +
              kz_step_if_less(pa[3 * q - 1], a, q);
        pb += kz_step_if_less(pb[q - 1], b, q) + kz_step_if_less(pb[2 * q - 1], b, q) +
              kz_step_if_less(pb[3 * q - 1], b, q);
        n -= 3 * q;
    }
    while (n > 1) {
        size_t half = n / 2;
        pa += kz_step_if_less(pa[half - 1], a, half);
        pb += kz_step_if_less(pb[half - 1], b, half);
        n -= half;
    }
    *ia = (size_t)(pa - v) + (*pa < a);
    *ib = (size_t)(pb - v) + (*pb < b);
}

static inline size_t kz_lower_bound(const double *v, size_t n, double x)
{
    size_t i, j;
    kz_lower_bound2(v, n, x, x, &i, &j);
    return i;
}

/* Removes one copy of x (present) from the sorted values. */
static inline void kz_sorted_delete(double *v, size_t *n, double x)
{
    size_t i = kz_lower_bound(v, *n, x);
    memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(double));
    (*n)--;
}

/* Inserts x before the values equal to it. */
static inline void kz_sorted_insert(double *v, size_t *n, double x)
{
    size_t i = kz_lower_bound(v, *n, x);
    memmove(v + i + 1, v + i, (*n - i) * sizeof(double));
    v[i] = x;
    (*n)++;
}

/* pandas roll_quantile 'linear' over n >= 1 sorted values: pos = q (n-1), lo = floor(pos),
 * frac = pos - lo (kz_quantile_pos); exact positions return the order statistic itself,
 * otherwise v[lo] + (v[lo+1] - v[lo]) * frac. */
static inline void kz_quantile_pos(size_t n, double q, size_t *lo, double *frac)
{
    double pos = q * (double)(n - 1);
    *lo = (size_t)pos;
    *frac = pos - (double)*lo;
}

static inline double kz_sorted_quantile_at(const double *v, size_t n, size_t lo, double frac)
{
    if (frac == 0.0 || lo + 1 >= n) {
        return v[lo];
    }
    return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

static inline double kz_sorted_quantile(const double *v, size_t n, double q)
{
    size_t lo;
    double frac;
    kz_quantile_pos(n, q, &lo, &frac);
    return kz_sorted_quantile_at(v, n, lo, frac);
}

/* The q-quantile of the window after the last push, NaN while it is not full or holds a
 * non-finite value (pandas min_periods = w, inf as NaN). */
static inline double kz_rquant_at(const kz_rquant_state *s, double q)
{
    return kz_ring_valid(&s->r) ? kz_sorted_quantile(s->sorted, s->n_sorted, q) : NAN;
}

/* kz_rquant_at(s, s->q) from the position precomputed at init: a valid window holds w finite
 * values, so n = w and pos, lo and frac are the same numbers every push. */
static inline double kz_rquant_value(const kz_rquant_state *s)
{
    return kz_ring_valid(&s->r) ? kz_sorted_quantile_at(s->sorted, s->r.w, s->lo, s->frac) : NAN;
}

#endif
