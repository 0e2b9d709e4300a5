/* Feature-local rolling windows for the per-bar engine (engine.c, their only user): static
 * inline so they compile into the per-bar code, carved from the engine's one memory block. */
#ifndef KZ_FEATURES_WINDOW_INT_H
#define KZ_FEATURES_WINDOW_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* ---------------------------------------------------------------- feature-local windows
 * The engine's hottest windows (16 means, 12 lags, 6 extrema per bar) are written here as
 * static functions the compiler inlines into the per-bar code, instead of calls into
 * src/ta/rolling.c. Each computes what the rolling.c state it replaces computes, in the same
 * floating-point operations and order (rolling_int.h documents that contract), so every value
 * is the same double; only the call and bookkeeping overhead is gone. */

/* Neumaier's compensated summation (Neumaier 1974): comp collects what the rounded sum drops. */
static inline void neumaier_add(double *sum, double *comp, double x)
{
    double t = *sum + x;
    if (fabs(*sum) >= fabs(x)) {
        *comp += (*sum - t) + x;
    } else {
        *comp += (x - t) + *sum;
    }
    *sum = t;
}

/* Pushes before an exact recomputation of a running sum: at the push that fills the window and
 * then at ring wraps at least this many pushes apart (rolling_int.h, REFRESH_LONG there). */
enum { SUM_REFRESH = 1024 };

/* Rolling mean/sum with pandas semantics (NaN until w values; NaN while the window holds a
 * non-finite value): a running sum of the finite values, updated by add/remove and recomputed
 * exactly (Neumaier) from the ring at refresh points, so drift spans at most max(w, 1024)
 * updates. It is also exact on a window of w equal values (pandas counts consecutive equal
 * values and then returns that value: roll_mean's num_consecutive_same_value). */
typedef struct rmean {
    double *buf; /* the last w values; buf[pos] is the oldest once full */
    size_t w, pos, filled, n_bad, period, countdown;
    double sum, comp;
    double last; /* previous input and length of the run of equal inputs ending there */
    size_t run;
} rmean;

static inline void rmean_layout(rmean *m, size_t w, carver *cv)
{
    double *mem = carve(cv, w * sizeof(double));
    if (mem) {
        memset(m, 0, sizeof *m);
        m->buf = mem;
        m->w = w;
        m->period = w >= SUM_REFRESH ? 1 : (SUM_REFRESH + w - 1) / w;
        m->countdown = 1;
        m->last = NAN;
    }
}

/* The window sum after pushing x (NaN when invalid), before the equal-run rule. */
static inline double rsum_push(rmean *m, double x)
{
    int full = m->filled == m->w;
    double old = 0.0;
    if (full) {
        old = m->buf[m->pos];
        if (!isfinite(old)) {
            m->n_bad--;
        }
    } else {
        m->filled++;
    }
    if (!isfinite(x)) {
        m->n_bad++;
    }
    m->buf[m->pos] = x;
    m->pos = m->pos + 1 == m->w ? 0 : m->pos + 1;
    if (m->pos == 0 && --m->countdown == 0) {
        m->countdown = m->period;
        m->sum = 0.0;
        m->comp = 0.0;
        for (size_t i = 0; i < m->w; i++) {
            if (isfinite(m->buf[i])) {
                neumaier_add(&m->sum, &m->comp, m->buf[i]);
            }
        }
    } else if (full) {
        m->sum += (isfinite(x) ? x : 0.0) - (isfinite(old) ? old : 0.0);
    }
    return m->filled == m->w && m->n_bad == 0 ? m->sum + m->comp : NAN;
}

static inline double rmean_sum(rmean *m, double x)
{
    double sum = rsum_push(m, x);
    m->run = !isfinite(x) ? 0 : (x == m->last ? m->run + 1 : 1);
    m->last = x;
    return m->run >= m->w ? x * (double)m->w : sum;
}

static inline double rmean_push(rmean *m, double x)
{
    double sum = rmean_sum(m, x);
    return m->run >= m->w ? x : sum / (double)m->w;
}

/* Lag-k ring for pandas diff(k) and pct_change(k); pad = 1 forward-fills NaN first (pandas
 * pct_change's fill_method='pad'; diff never pads). ±inf are ordinary values here. */
typedef struct lag {
    double *buf;
    size_t k, pos, filled;
    double last; /* last non-NaN input (pad mode) */
    int pad;
} lag;

static inline void lag_layout(lag *l, size_t k, int pad, carver *cv)
{
    double *mem = carve(cv, k * sizeof(double));
    if (mem) {
        l->buf = mem;
        l->k = k;
        l->pos = l->filled = 0;
        l->last = NAN;
        l->pad = pad;
    }
}

/* Stores v; returns 1 and the value stored k pushes ago in *old once k values were stored. */
static inline int lag_step(lag *l, double v, double *old)
{
    int full = l->filled == l->k;
    if (full) {
        *old = l->buf[l->pos];
    } else {
        l->filled++;
    }
    l->buf[l->pos] = v;
    l->pos = l->pos + 1 == l->k ? 0 : l->pos + 1;
    return full;
}

static inline double lag_diff_push(lag *l, double x)
{
    double old = NAN;
    return lag_step(l, x, &old) ? x - old : NAN;
}

static inline double lag_pct_push(lag *l, double x)
{
    double v = x;
    if (l->pad) {
        if (isnan(x)) {
            v = l->last;
        } else {
            l->last = x;
        }
    }
    double old = NAN;
    return lag_step(l, v, &old) ? v / old - 1.0 : NAN;
}

/* Rolling max (min) by a monotonic deque of (value, push index) in a ring of w entries: an
 * entry leaves the front when w pushes old and is dropped from the back when a later value is
 * at least as large (small), so ties resolve to the most recent value (as kz_rext). NaN until
 * w pushes and while a non-finite input is among the last w. */
typedef struct ext_entry {
    double v;
    uint64_t t;
} ext_entry;

typedef struct ext {
    ext_entry *q;
    size_t w, head, len;
    uint64_t t;        /* pushes so far */
    uint64_t last_bad; /* 1 + index of the last non-finite input (0 = none) */
} ext;

static inline void ext_layout(ext *s, size_t w, carver *cv)
{
    ext_entry *mem = carve(cv, w * sizeof(ext_entry));
    if (mem) {
        memset(s, 0, sizeof *s);
        s->q = mem;
        s->w = w;
    }
}

static inline double ext_push(ext *s, double x, int is_max)
{
    uint64_t t = s->t++;
    if (s->len && t - s->q[s->head].t >= s->w) { /* at most one entry expires per push */
        s->head = s->head + 1 == s->w ? 0 : s->head + 1;
        s->len--;
    }
    if (!isfinite(x)) {
        s->last_bad = t + 1;
    } else {
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
    return valid ? s->q[s->head].v : NAN;
}

static inline double max_push(ext *s, double x)
{
    return ext_push(s, x, 1);
}

static inline double min_push(ext *s, double x)
{
    return ext_push(s, x, 0);
}

/* Rolling quantile (pandas roll_quantile, 'linear' interpolation) over a sorted copy of the
 * window's finite values, as kz_rquant but cheaper per push: a push whose value equals the one
 * leaving the window leaves the sorted copy unchanged (funding rates are piecewise constant:
 * on 1h bars they change every 8th bar), and otherwise the leaving value's slot slides to the
 * entering value's place in ONE memmove over the values between them instead of a delete and an
 * insert that each move the tail. The sorted multiset after every push is the one kz_rquant
 * holds, so every order statistic and hence every quantile is the same double (up to the sign
 * of a zero: the quantiles feed only comparisons, where -0 == +0). */
typedef struct squant {
    double *ring, *sorted;
    size_t w, pos, filled, n_bad, n_sorted;
    double q;
} squant;

static inline void quant_layout(squant *s, size_t w, double q, carver *cv)
{
    double *mem = carve(cv, 2 * w * sizeof(double));
    if (mem) {
        s->ring = mem;
        s->sorted = mem + w;
        s->w = w;
        s->pos = s->filled = s->n_bad = s->n_sorted = 0;
        s->q = q;
    }
}

/* The first index with v[i] >= a and the first with v[i] >= b, by branch-free binary searches
 * (ranks in a window are unpredictable, so a branching search mispredicts about every other
 * step; multiplying by the comparison keeps the step branch-free where ?: compiles to a
 * branch). The two searches halve the same lengths, so they run in lockstep and overlap their
 * dependency chains of loads. */
static inline void
lower_bound2(const double *v, size_t n, double a, double b, size_t *ia, size_t *ib)
{
    if (n == 0) {
        *ia = *ib = 0;
        return;
    }
    const double *pa = v, *pb = v;
    while (n > 1) {
        size_t half = n / 2;
        pa += half * (size_t)(pa[half - 1] < a);
        pb += half * (size_t)(pb[half - 1] < b);
        n -= half;
    }
    *ia = (size_t)(pa - v) + (*pa < a);
    *ib = (size_t)(pb - v) + (*pb < b);
}

static inline size_t lower_bound(const double *v, size_t n, double x)
{
    size_t i, j;
    lower_bound2(v, n, x, x, &i, &j);
    return i;
}

/* Replaces one copy of `old` (present, so n >= 1) by x in the sorted values. */
static inline void sorted_replace(double *v, size_t n, double old, double x)
{
    size_t i, j;
    lower_bound2(v, n, old, x, &i, &j);
    if (x > old) { /* j > i: v[i] == old < x */
        memmove(v + i, v + i + 1, (j - i - 1) * sizeof(double));
        v[j - 1] = x;
    } else { /* j <= i */
        memmove(v + j + 1, v + j, (i - j) * sizeof(double));
        v[j] = x;
    }
}

static inline void sorted_delete(double *v, size_t *n, double x)
{
    size_t i = lower_bound(v, *n, x);
    memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(double));
    (*n)--;
}

static inline void sorted_insert(double *v, size_t *n, double x)
{
    size_t i = lower_bound(v, *n, x);
    memmove(v + i + 1, v + i, (*n - i) * sizeof(double));
    v[i] = x;
    (*n)++;
}

/* The q-quantile of the window after the last push: pos = q (n-1); an exact position returns
 * that order statistic, otherwise v[lo] + (v[lo+1] - v[lo]) * (pos - lo). NaN until the window
 * is full and while it holds a non-finite value (pandas min_periods = w, inf as NaN). */
static inline double squant_at(const squant *s, double q)
{
    if (s->filled != s->w || s->n_bad != 0 || s->n_sorted == 0) {
        return NAN;
    }
    double pos = q * (double)(s->n_sorted - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    if (frac == 0.0 || lo + 1 >= s->n_sorted) {
        return s->sorted[lo];
    }
    return s->sorted[lo] + (s->sorted[lo + 1] - s->sorted[lo]) * frac;
}

static inline double squant_push(squant *s, double x)
{
    double old = NAN;
    if (s->filled == s->w) {
        old = s->ring[s->pos];
        if (!isfinite(old)) {
            s->n_bad--;
        }
    } else {
        s->filled++;
    }
    if (!isfinite(x)) {
        s->n_bad++;
    }
    s->ring[s->pos] = x;
    s->pos = s->pos + 1 == s->w ? 0 : s->pos + 1;
    int old_ok = isfinite(old), x_ok = isfinite(x);
    if (old_ok && x_ok) {
        if (x != old) {
            sorted_replace(s->sorted, s->n_sorted, old, x);
        }
    } else if (old_ok) {
        sorted_delete(s->sorted, &s->n_sorted, old);
    } else if (x_ok) {
        sorted_insert(s->sorted, &s->n_sorted, x);
    }
    return squant_at(s, s->q);
}

#endif
