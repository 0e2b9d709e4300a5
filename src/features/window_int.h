/* The per-bar engine's hot rolling windows (engine.c, their only user): thin wrappers over the
 * static inline pushes of src/ta/rolling_int.h and the quantile windows, carved from the
 * engine's one memory block. */
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

/* ---------------------------------------------------------------- quantile windows
 * Rolling q-quantiles (pandas roll_quantile, 'linear': pos = q (w - 1), lo = floor(pos),
 * Q = s[lo] + (s[lo+1] - s[lo]) frac over the sorted window s) from the few values at one END
 * of the window instead of the whole sorted window. Q needs only the order statistics s[lo] and
 * s[lo+1]; for q >= 0.5 both are among the k = w - lo largest values (k = 18 of 168 at q = 0.9),
 * for q < 0.5 among the k = lo + 2 smallest. An end keeps at least those k values, sorted (the
 * kept set); the other values of the window stay where they are, in the ring. Most pushes then
 * cost two comparisons: the leaving value was outside the kept set and the entering one does
 * not beat the kept set's innermost value. Otherwise one value enters or leaves a short sorted
 * array, and now and then the kept set is trimmed or refilled from a scan of the ring (qend).
 * The sorted copy of the whole window (kz_rquant) moved ~w/3 values per push through memmove,
 * and its searches and moves formed one long dependency chain per window: it was a third of the
 * engine's time for its four windows, this is about a quarter less.
 * The kept set is, as a multiset, the n >= k largest (smallest) values of the window, so s[lo] and
 * s[lo+1] are the same values the sorted window holds and Q is the same double (up to the sign
 * of a zero between equal values: the quantiles feed only comparisons, where -0 == +0). Like
 * kz_rquant, Q is NaN until the window is full and while it holds a non-finite value; the ends
 * are rebuilt from the ring (O(w k)) at the push that makes the window valid again. */

/* One end: keys are sign * x (sign -1 for the smallest values), so both ends keep LARGEST keys.
 * key[p] is the key of ring slot p when that value is outside the kept set and -inf when it is
 * kept (valid windows hold finite values only, so -inf marks nothing else). The kept set is the
 * n largest keys, tv[0..n) in ascending order with their slots ts[], and n stays within
 * [k, kmax]: the slack means that neither a run of rising values (each enters the kept set, the
 * innermost must leave) nor a run of falling ones (each kept value leaving must be replaced from
 * outside) costs more than O(1) per push plus, once per ~(kmax - k) / 2 pushes, a trim or a
 * refill (a scan of the ring) back to kmid. Ascending order puts the usual entering and leaving
 * values of a trend (the extreme ones) at the end of the array, where they move nothing. */
typedef struct qend {
    double sign;
    size_t k, kmid, kmax, n;
    size_t lo; /* kz_quantile_pos(w, q) */
    double frac;
    double *key, *tv;
    size_t *ts;
} qend;

enum { QUANT_MAX_ENDS = 2 };

typedef struct squant {
    kz_ring r;
    int fresh; /* the ends hold the window after the last push (it was valid) */
    size_t n_end;
    qend end[QUANT_MAX_ENDS];
} squant;

/* Lays out a window of w values with n_q (1..QUANT_MAX_ENDS) quantiles q[], read back by their
 * index with squant_value. */
static inline void quant_layout(squant *s, size_t w, const double *q, size_t n_q, carver *cv)
{
    double *ring = carve(cv, w * sizeof(double));
    for (size_t i = 0; i < n_q; i++) {
        size_t lo;
        double frac;
        kz_quantile_pos(w, q[i], &lo, &frac);
        int top = q[i] >= 0.5;
        /* top: s[lo..w) are the w - lo largest; bottom: s[0..lo+2) the lo + 2 smallest */
        size_t k = top ? w - lo : (lo + 2 < w ? lo + 2 : w);
        /* slack k + 8: measured on random walks and noise at w = 20, 40, 168 */
        size_t kmax = 2 * k + 8 < w ? 2 * k + 8 : w;
        double *key = carve(cv, w * sizeof(double));
        double *tv = carve(cv, (kmax + 1) * sizeof(double));
        size_t *ts = carve(cv, (kmax + 1) * sizeof(size_t));
        if (ring) {
            s->end[i] = (qend){top ? 1.0 : -1.0, k, (k + kmax) / 2, kmax, 0, lo, frac, key, tv, ts};
        }
    }
    if (ring) {
        kz_ring_init(&s->r, w, ring, KZ_REFRESH_EVERY_WRAP);
        s->fresh = 0;
        s->n_end = n_q;
    }
}

/* Inserts key kx of slot p (larger than tv[0] if n > 0) into the kept set; room for one more. */
static inline void qend_insert(qend *e, double kx, size_t p)
{
    size_t j = e->n++;
    while (j > 0 && e->tv[j - 1] > kx) {
        e->tv[j] = e->tv[j - 1];
        e->ts[j] = e->ts[j - 1];
        j--;
    }
    e->tv[j] = kx;
    e->ts[j] = p;
}

/* The index of slot p's entry (present), searched from the largest end. */
static inline size_t qend_find(const qend *e, size_t p)
{
    const size_t *ts = e->ts;
    size_t i = e->n - 1;
    while (ts[i] != p) {
        i--;
    }
    return i;
}

/* Removes entry i from the kept set. */
static inline void qend_remove_at(qend *e, size_t i)
{
    double *tv = e->tv;
    size_t *ts = e->ts;
    for (size_t n = --e->n; i < n; i++) {
        tv[i] = tv[i + 1];
        ts[i] = ts[i + 1];
    }
}

/* Entry i leaves and key kx of slot p enters (kx > the smallest key left): the hole at i moves
 * to kx's place, after the keys <= kx, moving only the entries in between. The same array as
 * qend_remove_at then qend_insert, which moved every entry above i down and then those above
 * kx's place back up: when a kept value leaves as a larger one enters (common when a window is
 * mostly kept, as the volume window's 14 of 20), one pass instead of two. */
static inline void qend_replace_at(qend *e, size_t i, double kx, size_t p)
{
    double *tv = e->tv;
    size_t *ts = e->ts;
    size_t h = i, n = e->n;
    while (h + 1 < n && tv[h + 1] <= kx) {
        tv[h] = tv[h + 1];
        ts[h] = ts[h + 1];
        h++;
    }
    while (h > 0 && tv[h - 1] > kx) {
        tv[h] = tv[h - 1];
        ts[h] = ts[h - 1];
        h--;
    }
    tv[h] = kx;
    ts[h] = p;
}

/* Trims the kept set to its kmid largest: the others go back outside. */
static inline void qend_trim(qend *e)
{
    size_t d = e->n - e->kmid;
    for (size_t i = 0; i < d; i++) {
        e->key[e->ts[i]] = e->tv[i];
    }
    memmove(e->tv, e->tv + d, e->kmid * sizeof(double));
    memmove(e->ts, e->ts + d, e->kmid * sizeof(size_t));
    e->n = e->kmid;
}

/* Refills the kept set up to kmid (or all w values) with the largest keys outside it, which are
 * all <= tv[0]: they go below the kept ones, collected in ascending order by a scan of key[]. */
static inline void qend_refill(qend *e, size_t w)
{
    size_t want = (e->kmid < w ? e->kmid : w) - e->n;
    memmove(e->tv + want, e->tv, e->n * sizeof(double));
    memmove(e->ts + want, e->ts, e->n * sizeof(size_t));
    double *b = e->tv;
    size_t *bs = e->ts, m = 0;
    for (size_t i = 0; i < w; i++) {
        double kv = e->key[i];
        if (kv == -INFINITY || (m == want && kv <= b[0])) {
            continue;
        }
        size_t j;
        if (m < want) { /* insert from the top */
            for (j = m++; j > 0 && b[j - 1] > kv; j--) {
                b[j] = b[j - 1];
                bs[j] = bs[j - 1];
            }
        } else { /* b[0] leaves; insert from the bottom */
            for (j = 0; j + 1 < m && b[j + 1] < kv; j++) {
                b[j] = b[j + 1];
                bs[j] = bs[j + 1];
            }
        }
        b[j] = kv;
        bs[j] = i;
    }
    for (size_t j = 0; j < want; j++) {
        e->key[bs[j]] = -INFINITY;
    }
    e->n += want;
}

/* The kept set of the whole (valid) window buf[0..w), from scratch. */
static inline void qend_rebuild(qend *e, const double *buf, size_t w)
{
    for (size_t p = 0; p < w; p++) {
        e->key[p] = e->sign * buf[p];
    }
    e->n = 0;
    qend_refill(e, w);
}

/* The window's slot p now holds x (finite), replacing a value of the previous (valid) window. */
static inline void qend_step(qend *e, size_t w, size_t p, double x)
{
    double kx = e->sign * x;
    if (e->key[p] == -INFINITY) {
        size_t i = qend_find(e, p);
        /* the smallest key once entry i has left (n >= 2: one is left) */
        if (e->n >= 2 && kx > e->tv[i == 0 ? 1 : 0]) {
            qend_replace_at(e, i, kx, p); /* key[p] stays -inf: p is kept */
            return;
        }
        qend_remove_at(e, i);
    }
    if (e->n > 0 && kx > e->tv[0]) {
        qend_insert(e, kx, p);
        e->key[p] = -INFINITY;
        if (e->n > e->kmax) {
            qend_trim(e);
        }
    } else {
        e->key[p] = kx;
        if (e->n < e->k) {
            qend_refill(e, w);
        }
    }
}

static inline void squant_push(squant *s, double x)
{
    size_t p = s->r.pos;
    double old;
    kz_ring_push(&s->r, x, &old);
    if (!kz_ring_valid(&s->r)) {
        s->fresh = 0;
        return;
    }
    for (size_t i = 0; i < s->n_end; i++) {
        if (s->fresh) {
            qend_step(&s->end[i], s->r.w, p, x);
        } else {
            qend_rebuild(&s->end[i], s->r.buf, s->r.w);
        }
    }
    s->fresh = 1;
}

/* Quantile i of the window after the last push (NaN while it is not full or holds a non-finite
 * value), by kz_sorted_quantile_at's formula on {s[lo], s[lo+1]}: the same double. */
static inline double squant_value(const squant *s, size_t i)
{
    if (!s->fresh) {
        return NAN;
    }
    const qend *e = &s->end[i];
    size_t w = s->r.w, lo = e->lo;
    double pair[2];
    const double *t = e->tv + e->n - 1; /* t[-j]: the (j+1)-th largest key */
    if (e->sign > 0.0) {                /* s[i] = t[-(w - 1 - i)] */
        pair[0] = t[-(ptrdiff_t)(w - 1 - lo)];
        pair[1] = lo + 1 < w ? t[-(ptrdiff_t)(w - 2 - lo)] : 0.0;
    } else { /* s[i] = -t[-i] */
        pair[0] = -t[-(ptrdiff_t)lo];
        pair[1] = lo + 1 < w ? -t[-(ptrdiff_t)(lo + 1)] : 0.0;
    }
    return kz_sorted_quantile_at(pair, lo + 1 < w ? 2 : 1, 0, e->frac);
}

#endif
