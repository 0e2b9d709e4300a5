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

/* The last w values. Slots are written in order 0, 1, ..., w-1, 0, ... and start as NaN (init
 * fills them), so the value leaving a slot is NaN until the ring is full and no push needs a
 * "full yet?" test for it. n_bad counts the slots that do not hold a finite value: the
 * non-finite inputs held plus, until the ring is full, the empty (NaN) slots; so n_bad == 0
 * exactly when the window is full and finite (kz_ring_valid). The moment states recompute at
 * every `period`-th wrap (countdown counts the wraps left). Lag rings (kz_ring_store) keep only
 * buf, pos and full. */
typedef struct kz_ring {
    double *buf; /* hot: every push reads and writes these */
    size_t w, pos;
    size_t n_bad;
    int full;                 /* the ring has wrapped: every slot holds an input */
    size_t countdown, period; /* read at wraps only */
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

/* The accumulators of a correlation window: both sides' moments and the co-moment. */
typedef struct kz_comoments {
    kz_moments mx, my;
    double cxy;  /* co-moment sum (x - mean_x)(y - mean_y) */
    size_t n_ok; /* pairs in the window with both members finite */
} kz_comoments;

/* Rolling Pearson correlation of (x, y) pairs: one ring for both sides (r.buf holds x, y the y
 * values slot for slot), whose n_bad counts the pairs with a non-finite member (the window is
 * valid when both sides are full and finite, as pandas requires of both). */
typedef struct kz_rcorr_state {
    kz_ring r;
    double *y;
    kz_comoments c;
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

/* Lag-k state for diff and pct_change (k >= 1); pad != 0 forward-fills NaN before the ratio
 * (pct_change only; diff never pads). Unlike the rolling states, +-inf are ordinary values (the
 * ring's n_bad and countdown are not kept: kz_ring_store). */
typedef struct kz_lag_state {
    kz_ring r;
    double last; /* pad mode: the last non-NaN input (otherwise the last input, unused) */
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

/* Memory: buf[0..w) (written: every slot starts as NaN, the value of an empty slot). */
static inline void kz_ring_init(kz_ring *r, size_t w, double *buf, size_t min_refresh)
{
    for (size_t i = 0; i < w; i++) {
        buf[i] = NAN;
    }
    r->buf = buf;
    r->w = w;
    r->pos = 0;
    r->n_bad = w;
    r->period = w >= min_refresh ? 1 : (min_refresh + w - 1) / w;
    r->countdown = 1;
    r->full = 0;
}

/* Puts x in the current slot and returns the value it held: the value stored w pushes ago, or
 * NaN while the ring is filling. Does not advance. */
static inline double kz_ring_swap(kz_ring *r, double x)
{
    double old = r->buf[r->pos];
    r->buf[r->pos] = x;
    return old;
}

/* Stores x; *old gets the value stored w pushes ago (NaN while the ring was not full); returns
 * whether the ring was full. No bookkeeping of non-finite values or refreshes: that is
 * kz_ring_step (a lag ring needs neither). */
static inline int kz_ring_store(kz_ring *r, double x, double *old)
{
    int full = r->full;
    *old = kz_ring_swap(r, x);
    size_t p = r->pos + 1;
    if (p == r->w) {
        p = 0;
        r->full = 1;
    }
    r->pos = p;
    return full;
}

/* Adds a slot's entering and leaving finiteness to n_bad (integer arithmetic: both tests are
 * plain comparisons, with no branch to mispredict on bursts of bad values). */
static inline void kz_ring_count(kz_ring *r, int in_ok, int out_ok)
{
    r->n_bad += (size_t)!in_ok - (size_t)!out_ok;
}

/* Advances past the slot just written; returns 1 when this push refreshes the moment states:
 * it wraps the ring (buf[0..w) is then in chronological order) and it is the wrap that fills
 * the ring or the period-th since the last refresh. Everything but the increment sits behind the
 * wrap test, taken once per w pushes. */
static inline int kz_ring_advance(kz_ring *r)
{
    size_t p = r->pos + 1;
    int refresh = 0;
    if (p == r->w) {
        p = 0;
        r->full = 1;
        refresh = --r->countdown == 0;
        r->countdown = refresh ? r->period : r->countdown;
    }
    r->pos = p;
    return refresh;
}

/* One push of a window: stores x, *old = the value leaving (NaN while the ring was not full),
 * keeps n_bad; returns whether the moment states refresh at this push (kz_ring_advance). */
static inline int kz_ring_step(kz_ring *r, double x, double *old)
{
    *old = kz_ring_swap(r, x);
    kz_ring_count(r, isfinite(x), isfinite(*old));
    return kz_ring_advance(r);
}

/* kz_ring_step returning whether the ring was full before the push instead (the quantile and
 * MAD windows, which have nothing to refresh). */
static inline int kz_ring_push(kz_ring *r, double x, double *old)
{
    int full = r->full;
    kz_ring_step(r, x, old);
    return full;
}

/* A full window without NaN/inf (pandas min_periods = w after inf -> NaN). */
static inline int kz_ring_valid(const kz_ring *r)
{
    return r->n_bad == 0;
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

/* The exact recomputation of a refresh push: the Neumaier sum of the finite values of the ring,
 * which has just wrapped (buf[0..w) is in chronological order). Out of line (rolling.c): it runs
 * once per max(w, KZ_REFRESH_LONG) pushes. */
void kz_rsum_exact(kz_rsum_state *s);

static inline double kz_rsum_step(kz_rsum_state *s, double x)
{
    double old;
    if (kz_ring_step(&s->r, x, &old)) {
        kz_rsum_exact(s);
    } else {
        /* Plain add/remove: the drift of the < max(w, KZ_REFRESH_LONG) updates since the exact
         * recomputation stays near that many eps * max|x|, and a short dependency chain keeps
         * the update at a few ns. While the ring fills, old is NaN and the sum runs unchecked:
         * the push that fills the ring refreshes it, and until then the result is NaN. */
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
 * The push split in two, for a caller that divides later (the feature engine, over a block of
 * bars): the padded input in *v and the padded input k pushes earlier in *old; returns whether
 * the ring was full (otherwise *old is meaningless and the change is NaN). kz_lag_pct_step is
 * the whole push. */
static inline int kz_lag_pct_pair(kz_lag_state *s, double x, double *v, double *old)
{
    /* One select and an unconditional store: without pad, last is written but never read. */
    *v = s->pad && isnan(x) ? s->last : x;
    s->last = *v;
    return kz_ring_store(&s->r, *v, old);
}

static inline double kz_lag_pct_step(kz_lag_state *s, double x)
{
    double v, old;
    return kz_lag_pct_pair(s, x, &v, &old) ? v / old - 1.0 : NAN;
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
    uint64_t t;        /* number of pushes so far */
    uint64_t clean_at; /* the first push (0-based) whose window is full and finite, so far */
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
    s->clean_at = w - 1;
}

static inline double kz_rblk_step(kz_rblk_state *s, double x, int is_max)
{
    uint64_t t = s->t++;
    int ok = isfinite(x);
    double v = ok ? x : (is_max ? -INFINITY : INFINITY);
    /* A non-finite value at push t stays in the windows of pushes t .. t + w - 1: one compare
     * per push instead of kz_rext's "full, and no bad value or the last one w pushes back". */
    s->clean_at = ok ? s->clean_at : t + s->b.w;
    double r = NAN; /* written by the run; initialised for the compiler's flow analysis */
    kz_vhgw_run(&s->b, &v, 1, &r, NULL, !is_max, 1, 0);
    return t >= s->clean_at ? r : NAN;
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

/* (double)n for a count of values in a window: the same double as the unsigned conversion (a
 * window's count is far below 2^63), which SSE2 lacks and the compiler spells out with a branch. */
static inline double kz_count_d(size_t n)
{
    return (double)(int64_t)n;
}

/* Welford add/remove of the pushes that do not refresh. Also while the ring fills (old is the
 * empty slots' NaN then, so only adds run): the push that fills it refreshes every accumulator. */
static inline void kz_rvar_update(kz_rvar_state *s, double x)
{
    double old;
    int refresh = kz_ring_step(&s->r, x, &old);
    s->run = kz_run_update(s->run, &s->last, x);
    if (refresh) {
        s->n_ok = kz_moments_exact(s->r.buf, NULL, s->r.w, &s->m, NULL, NULL);
    } else {
        /* In locals, so that the mean the add leaves reaches the remove in a register instead of
         * through a store and a reload (the Welford chain is the push's latency). Add before
         * remove so n never reaches 0 in the middle of a slide. */
        kz_moments m = s->m;
        size_t n = s->n_ok;
        if (isfinite(x)) {
            n++;
            kz_moments_add(&m, kz_count_d(n), x);
        }
        if (isfinite(old)) {
            n--;
            if (n > 0) { /* the usual case first: the compiler lays it out fall-through */
                kz_moments_remove(&m, kz_count_d(n), old);
            } else {
                m.mean = m.m2 = 0.0;
            }
        }
        s->m = m;
        s->n_ok = n;
    }
}

/* What the variance after a push depends on, for callers that finish it later (the feature
 * engine, over a block of bars, where the division and square root vectorise): *m2 the
 * accumulated M2; returns NaN while the window is not valid, 0 when it holds w equal values
 * (pandas: exactly 0) and 1 otherwise. */
static inline double kz_rvar_state_of(const kz_rvar_state *s, double *m2)
{
    *m2 = s->m.m2;
    return !kz_ring_valid(&s->r) ? NAN : s->run >= s->r.w ? 0.0 : 1.0;
}

/* The variance from kz_rvar_state_of's flag and M2, den = w - ddof. */
static inline double kz_var_finish(double flag, double m2, double den)
{
    /* fmax(m2, 0) without libm's call: NaN and -0 give +0, as fmax does. */
    double v = (m2 > 0.0 ? m2 : 0.0) / den;
    return flag != flag ? NAN : flag == 0.0 ? 0.0 : v;
}

static inline double kz_rvar_den(const kz_rvar_state *s)
{
    return kz_count_d(s->r.w - (size_t)s->ddof);
}

static inline double kz_rvar_step(kz_rvar_state *s, double x)
{
    kz_rvar_update(s, x);
    double m2, flag = kz_rvar_state_of(s, &m2);
    return kz_var_finish(flag, m2, kz_rvar_den(s));
}

/* Bivariate Welford: the co-moment takes dx (before) times y's deviation from the new mean. */
static inline void kz_corr_add(kz_comoments *c, double x, double y)
{
    c->n_ok++;
    double dx = kz_moments_add(&c->mx, kz_count_d(c->n_ok), x);
    kz_moments_add(&c->my, kz_count_d(c->n_ok), y);
    c->cxy += dx * ((y - c->my.shift) - c->my.mean);
}

static inline void kz_corr_remove(kz_comoments *c, double x, double y)
{
    c->n_ok--;
    if (c->n_ok > 0) { /* the usual case first (fall-through) */
        double dx = kz_moments_remove(&c->mx, kz_count_d(c->n_ok), x);
        kz_moments_remove(&c->my, kz_count_d(c->n_ok), y);
        c->cxy -= dx * ((y - c->my.shift) - c->my.mean);
    } else {
        c->mx.mean = c->mx.m2 = c->my.mean = c->my.m2 = c->cxy = 0.0;
    }
}

/* As kz_rvar_step, on pairs: a pair takes part when both members are finite. */
static inline void kz_rcorr_update(kz_rcorr_state *s, double x, double y)
{
    size_t p = s->r.pos;
    double oy = s->y[p];
    s->y[p] = y;
    double ox = kz_ring_swap(&s->r, x);
    int in_ok = isfinite(x) && isfinite(y), out_ok = isfinite(ox) && isfinite(oy);
    kz_ring_count(&s->r, in_ok, out_ok);
    int refresh = kz_ring_advance(&s->r);
    s->run_x = kz_run_update(s->run_x, &s->last_x, x);
    s->run_y = kz_run_update(s->run_y, &s->last_y, y);
    if (refresh) {
        s->c.n_ok = kz_moments_exact(s->r.buf, s->y, s->r.w, &s->c.mx, &s->c.my, &s->c.cxy);
    } else {
        kz_comoments c = s->c; /* in registers across add and remove, as kz_rvar_step's */
        if (in_ok) {
            kz_corr_add(&c, x, y);
        }
        if (out_ok) {
            kz_corr_remove(&c, ox, oy);
        }
        s->c = c;
    }
}

/* What the correlation after a push depends on (as kz_rvar_state_of): the co-moment and the two
 * M2 in c; returns 0 when the correlation is NaN (window not valid, a side constant: a run of w
 * equal values or M2 <= 0), 1 otherwise. */
static inline double kz_rcorr_state_of(const kz_rcorr_state *s, double c[3])
{
    c[0] = s->c.cxy;
    c[1] = s->c.mx.m2;
    c[2] = s->c.my.m2;
    return kz_ring_valid(&s->r) && s->run_x < s->r.w && s->run_y < s->r.w && c[1] > 0.0 &&
                   c[2] > 0.0
               ? 1.0
               : 0.0;
}

/* The correlation from kz_rcorr_state_of's flag, co-moment and M2s. */
static inline double kz_corr_finish(double flag, double cxy, double m2x, double m2y)
{
    /* the clamp only keeps sqrt from a negative M2 (and errno) where the flag discards r */
    double r = cxy / (sqrt(m2x > 0.0 ? m2x : 0.0) * sqrt(m2y > 0.0 ? m2y : 0.0));
    return flag != 0.0 ? r : NAN;
}

static inline double kz_rcorr_step(kz_rcorr_state *s, double x, double y)
{
    kz_rcorr_update(s, x, y);
    double c[3], flag = kz_rcorr_state_of(s, c);
    return kz_corr_finish(flag, c[0], c[1], c[2]);
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
