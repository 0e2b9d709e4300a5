/* Rolling-window primitives with pandas semantics (kizashi/ta.h) and their O(1) streaming states
 * (rolling_int.h). Each batch function is a loop over the streaming push, so they cannot drift. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/ta.h"

#include "rolling_int.h"

/* ================================================================ ring of the last w values */

/* The moment states recompute exactly at the push that fills the window and then at ring wraps
 * at least `min_refresh` pushes apart, so their O(1) updates accumulate at most
 * max(w, min_refresh) roundings. Sums and slopes take REFRESH_LONG (their rounding errors are
 * relative to the values, so a rare O(w) pass keeps small windows cheap); variance and
 * correlation refresh at every wrap, because their errors are relative to M2, which a window of
 * nearly equal values makes tiny. */
enum { REFRESH_EVERY_WRAP = 1, REFRESH_LONG = 1024 };

static void ring_init(kz_ring *r, size_t w, double *buf, size_t min_refresh)
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

/* Stores x; returns 1 and the value pushed w pushes ago in *old when the ring was full. */
static int ring_push(kz_ring *r, double x, double *old)
{
    int full = r->filled == r->w;
    if (full) {
        *old = r->buf[r->pos];
        if (!isfinite(*old)) {
            r->n_bad--;
        }
    } else {
        *old = NAN;
        r->filled++;
    }
    if (!isfinite(x)) {
        r->n_bad++;
    }
    r->buf[r->pos] = x;
    r->pos = r->pos + 1 == r->w ? 0 : r->pos + 1;
    r->refresh = r->pos == 0 && --r->countdown == 0;
    if (r->refresh) {
        r->countdown = r->period;
    }
    return full;
}

/* True right after a push where the moment states recompute exactly (see ring_init); the ring
 * has just wrapped, so buf[0..w) is in chronological order. */
static int ring_refresh(const kz_ring *r)
{
    return r->refresh;
}

/* A full window without NaN/inf (pandas min_periods = w after inf -> NaN). */
static int ring_valid(const kz_ring *r)
{
    return r->filled == r->w && r->n_bad == 0;
}

static size_t doubles_mem(size_t count)
{
    return count && count <= SIZE_MAX / sizeof(double) ? count * sizeof(double) : 0;
}

/* ================================================================ sum / mean */

/* Neumaier's compensated summation (Neumaier 1974): the error term catches what t drops. */
static void neumaier_add(double *sum, double *comp, double x)
{
    double t = *sum + x;
    if (fabs(*sum) >= fabs(x)) {
        *comp += (*sum - t) + x;
    } else {
        *comp += (x - t) + *sum;
    }
    *sum = t;
}

size_t kz_rsum_mem(size_t w)
{
    return doubles_mem(w);
}

void kz_rsum_init(kz_rsum_state *s, size_t w, void *mem)
{
    ring_init(&s->r, w, mem, REFRESH_LONG);
    s->sum = 0.0;
    s->comp = 0.0;
}

double kz_rsum_push(kz_rsum_state *s, double x)
{
    double old;
    int full = ring_push(&s->r, x, &old);
    if (ring_refresh(&s->r)) {
        s->sum = 0.0;
        s->comp = 0.0;
        for (size_t i = 0; i < s->r.w; i++) {
            if (isfinite(s->r.buf[i])) {
                neumaier_add(&s->sum, &s->comp, s->r.buf[i]);
            }
        }
    } else if (full) {
        /* Plain add/remove: the drift of the < max(w, REFRESH_LONG) updates since the exact
         * recomputation stays near that many eps * max|x|, and a short dependency chain keeps
         * the update at a few ns. */
        s->sum += (isfinite(x) ? x : 0.0) - (isfinite(old) ? old : 0.0);
    }
    return ring_valid(&s->r) ? s->sum + s->comp : NAN;
}

double kz_rsum_mean(const kz_rsum_state *s)
{
    return ring_valid(&s->r) ? (s->sum + s->comp) / (double)s->r.w : NAN;
}

/* ================================================================ Welford moments */

/* Welford (1962) update adding x to a set that now has n members; returns the deviation from
 * the previous mean, which the co-moment update needs. */
static double moments_add(kz_moments *m, double n, double x)
{
    double z = x - m->shift;
    double d = z - m->mean;
    m->mean += d / n;
    m->m2 += d * (z - m->mean);
    return d;
}

/* The inverse update: removes x from a set that now has n >= 1 members. */
static double moments_remove(kz_moments *m, double n, double x)
{
    double z = x - m->shift;
    double d = z - m->mean;
    m->mean -= d / n;
    m->m2 -= d * (z - m->mean);
    return d;
}

static int pair_ok(const double *y, size_t i, double xi)
{
    return isfinite(xi) && (!y || isfinite(y[i]));
}

/* Exact moments of the finite values x[0..w) (pairs with y when y != NULL): shift = the mean,
 * then the corrected two-pass formula M2 = sum d^2 - (sum d)^2 / n (Chan, Golub & LeVeque 1983).
 * Returns the number of values used. */
static size_t moments_exact(
    const double *x, const double *y, size_t w, kz_moments *mx, kz_moments *my, double *cxy)
{
    size_t n = 0;
    double sx = 0.0, sy = 0.0;
    for (size_t i = 0; i < w; i++) {
        if (pair_ok(y, i, x[i])) {
            sx += x[i];
            sy += y ? y[i] : 0.0;
            n++;
        }
    }
    double dn = n ? (double)n : 1.0;
    mx->shift = sx / dn;
    double dx = 0.0, dxx = 0.0, dy = 0.0, dyy = 0.0, dxy = 0.0;
    if (y) {
        my->shift = sy / dn;
    }
    for (size_t i = 0; i < w; i++) {
        if (!pair_ok(y, i, x[i])) {
            continue;
        }
        double zx = x[i] - mx->shift;
        dx += zx;
        dxx += zx * zx;
        if (y) {
            double zy = y[i] - my->shift;
            dy += zy;
            dyy += zy * zy;
            dxy += zx * zy;
        }
    }
    mx->mean = dx / dn;
    mx->m2 = dxx - dx * dx / dn;
    if (y) {
        my->mean = dy / dn;
        my->m2 = dyy - dy * dy / dn;
        *cxy = dxy - dx * dy / dn;
    }
    return n;
}

/* Length of the run of equal finite values ending at x: a run of w means a constant window,
 * whose variance is exactly 0 (pandas counts consecutive equal values for the same reason). */
static size_t run_update(size_t run, double *last, double x)
{
    size_t r = !isfinite(x) ? 0 : (x == *last ? run + 1 : 1);
    *last = x;
    return r;
}

size_t kz_rvar_mem(size_t w)
{
    return doubles_mem(w);
}

void kz_rvar_init(kz_rvar_state *s, size_t w, int ddof, void *mem)
{
    ring_init(&s->r, w, mem, REFRESH_EVERY_WRAP);
    s->m = (kz_moments){0.0, 0.0, 0.0};
    s->n_ok = 0;
    s->run = 0;
    s->last = NAN;
    s->ddof = ddof;
}

double kz_rvar_push(kz_rvar_state *s, double x)
{
    double old;
    int full = ring_push(&s->r, x, &old);
    s->run = run_update(s->run, &s->last, x);
    if (ring_refresh(&s->r)) {
        s->n_ok = moments_exact(s->r.buf, NULL, s->r.w, &s->m, NULL, NULL);
    } else if (full) {
        /* Add before remove so n never reaches 0 in the middle of a slide. */
        if (isfinite(x)) {
            s->n_ok++;
            moments_add(&s->m, (double)s->n_ok, x);
        }
        if (isfinite(old)) {
            s->n_ok--;
            if (s->n_ok == 0) {
                s->m.mean = s->m.m2 = 0.0;
            } else {
                moments_remove(&s->m, (double)s->n_ok, old);
            }
        }
    }
    if (!ring_valid(&s->r)) {
        return NAN;
    }
    if (s->run >= s->r.w) {
        return 0.0;
    }
    return fmax(s->m.m2, 0.0) / (double)(s->r.w - (size_t)s->ddof);
}

/* ================================================================ correlation */

size_t kz_rcorr_mem(size_t w)
{
    return w <= SIZE_MAX / 2 ? doubles_mem(2 * w) : 0;
}

void kz_rcorr_init(kz_rcorr_state *s, size_t w, void *mem)
{
    ring_init(&s->rx, w, mem, REFRESH_EVERY_WRAP);
    ring_init(&s->ry, w, (double *)mem + w, REFRESH_EVERY_WRAP);
    s->mx = (kz_moments){0.0, 0.0, 0.0};
    s->my = s->mx;
    s->cxy = 0.0;
    s->n_ok = 0;
    s->run_x = s->run_y = 0;
    s->last_x = s->last_y = NAN;
}

/* Bivariate Welford: the co-moment takes dx (before) times y's deviation from the new mean. */
static void corr_add(kz_rcorr_state *s, double x, double y)
{
    s->n_ok++;
    double dx = moments_add(&s->mx, (double)s->n_ok, x);
    moments_add(&s->my, (double)s->n_ok, y);
    s->cxy += dx * ((y - s->my.shift) - s->my.mean);
}

static void corr_remove(kz_rcorr_state *s, double x, double y)
{
    s->n_ok--;
    if (s->n_ok == 0) {
        s->mx.mean = s->mx.m2 = s->my.mean = s->my.m2 = s->cxy = 0.0;
        return;
    }
    double dx = moments_remove(&s->mx, (double)s->n_ok, x);
    moments_remove(&s->my, (double)s->n_ok, y);
    s->cxy -= dx * ((y - s->my.shift) - s->my.mean);
}

double kz_rcorr_push(kz_rcorr_state *s, double x, double y)
{
    double ox, oy;
    int full = ring_push(&s->rx, x, &ox);
    ring_push(&s->ry, y, &oy);
    s->run_x = run_update(s->run_x, &s->last_x, x);
    s->run_y = run_update(s->run_y, &s->last_y, y);
    if (ring_refresh(&s->rx)) {
        s->n_ok = moments_exact(s->rx.buf, s->ry.buf, s->rx.w, &s->mx, &s->my, &s->cxy);
    } else if (full) {
        if (isfinite(x) && isfinite(y)) {
            corr_add(s, x, y);
        }
        if (isfinite(ox) && isfinite(oy)) {
            corr_remove(s, ox, oy);
        }
    }
    if (!ring_valid(&s->rx) || !ring_valid(&s->ry) || s->run_x >= s->rx.w || s->run_y >= s->ry.w ||
        s->mx.m2 <= 0.0 || s->my.m2 <= 0.0) {
        return NAN;
    }
    return s->cxy / (sqrt(s->mx.m2) * sqrt(s->my.m2));
}

/* ================================================================ OLS slope */

size_t kz_rslope_mem(size_t w)
{
    return doubles_mem(w);
}

void kz_rslope_init(kz_rslope_state *s, size_t w, void *mem)
{
    ring_init(&s->r, w, mem, REFRESH_LONG);
    s->shift = 0.0;
    s->s = 0.0;
    s->num = 0.0;
}

/* Non-finite values count as 0: the accumulators stay well defined and the output is NaN while
 * such a value is in the window anyway. */
static double slope_z(const kz_rslope_state *s, double x)
{
    return isfinite(x) ? x - s->shift : 0.0;
}

double kz_rslope_push(kz_rslope_state *s, double x)
{
    double old;
    int full = ring_push(&s->r, x, &old);
    double w = (double)s->r.w;
    double c = (w - 1.0) / 2.0;
    if (ring_refresh(&s->r)) {
        double sum = 0.0;
        size_t n = 0;
        for (size_t i = 0; i < s->r.w; i++) {
            if (isfinite(s->r.buf[i])) {
                sum += s->r.buf[i];
                n++;
            }
        }
        s->shift = n ? sum / (double)n : 0.0;
        s->s = 0.0;
        s->num = 0.0;
        for (size_t i = 0; i < s->r.w; i++) {
            double z = slope_z(s, s->r.buf[i]);
            s->s += z;
            s->num += ((double)i - c) * z;
        }
    } else if (full) {
        /* Sliding v_0..v_{w-1} to v_1..v_{w-1},x shifts every weight j - c down by one:
         * N' = N - S + (c + 1) v_0 + c x (with the old S); S' = S - v_0 + x. */
        double z0 = slope_z(s, old), z = slope_z(s, x);
        s->num += (c + 1.0) * z0 + c * z - s->s;
        s->s += z - z0;
    }
    return ring_valid(&s->r) ? s->num / (w * (w * w - 1.0) / 12.0) : NAN;
}

/* ================================================================ min / max (monotonic deque) */

size_t kz_rext_mem(size_t w)
{
    return w && w <= SIZE_MAX / sizeof(kz_rext_entry) ? w * sizeof(kz_rext_entry) : 0;
}

void kz_rext_init(kz_rext_state *s, size_t w, int is_max, void *mem)
{
    s->q = mem;
    s->w = w;
    s->head = 0;
    s->len = 0;
    s->t = 0;
    s->last_bad = 0;
    s->is_max = is_max;
}

/* Whether the deque's back entry can never be the answer again once v arrives; popping equal
 * values makes ties resolve to the most recent index (TA-Lib MININDEX/MAXINDEX). */
static int ext_dominated(const kz_rext_state *s, double back, double v)
{
    return s->is_max ? back <= v : back >= v;
}

double kz_rext_push(kz_rext_state *s, double x, double *index)
{
    uint64_t t = s->t++;
    /* Deque entries have distinct increasing indices within the last w pushes: at most w. */
    while (s->len && t - s->q[s->head].t >= s->w) {
        s->head = s->head + 1 == s->w ? 0 : s->head + 1;
        s->len--;
    }
    if (!isfinite(x)) {
        s->last_bad = t + 1;
    } else {
        while (s->len) {
            size_t back = s->head + s->len - 1;
            back = back >= s->w ? back - s->w : back;
            if (!ext_dominated(s, s->q[back].v, x)) {
                break;
            }
            s->len--;
        }
        size_t slot = s->head + s->len;
        slot = slot >= s->w ? slot - s->w : slot;
        s->q[slot] = (kz_rext_entry){x, t};
        s->len++;
    }
    int valid = t + 1 >= s->w && (s->last_bad == 0 || t + 1 - s->last_bad >= s->w);
    if (index) {
        *index = valid ? (double)s->q[s->head].t : NAN;
    }
    return valid ? s->q[s->head].v : NAN;
}

/* ================================================================ quantile (sorted window) */

size_t kz_rquant_mem(size_t w)
{
    return w <= SIZE_MAX / 2 ? doubles_mem(2 * w) : 0;
}

void kz_rquant_init(kz_rquant_state *s, size_t w, double q, void *mem)
{
    ring_init(&s->r, w, mem, REFRESH_EVERY_WRAP);
    s->sorted = (double *)mem + w;
    s->n_sorted = 0;
    s->q = q;
}

/* First index i with v[i] >= x. */
static size_t lower_bound(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* pandas roll_quantile 'linear': pos = q (n-1); exact positions return the order statistic
 * itself, otherwise v[lo] + (v[lo+1] - v[lo]) * (pos - lo). */
static double sorted_quantile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    if (frac == 0.0 || lo + 1 >= n) {
        return v[lo];
    }
    return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

double kz_rquant_push(kz_rquant_state *s, double x)
{
    double old;
    ring_push(&s->r, x, &old);
    if (isfinite(old)) {
        size_t i = lower_bound(s->sorted, s->n_sorted, old);
        memmove(s->sorted + i, s->sorted + i + 1, (s->n_sorted - i - 1) * sizeof(double));
        s->n_sorted--;
    }
    if (isfinite(x)) {
        size_t i = lower_bound(s->sorted, s->n_sorted, x);
        memmove(s->sorted + i + 1, s->sorted + i, (s->n_sorted - i) * sizeof(double));
        s->sorted[i] = x;
        s->n_sorted++;
    }
    return ring_valid(&s->r) ? sorted_quantile(s->sorted, s->n_sorted, s->q) : NAN;
}

/* ================================================================ mean absolute deviation */

size_t kz_rmad_mem(size_t w)
{
    return doubles_mem(w);
}

void kz_rmad_init(kz_rmad_state *s, size_t w, void *mem)
{
    ring_init(&s->r, w, mem, REFRESH_EVERY_WRAP);
}

/* Two passes over the ring: the pass is O(w) anyway, and an exact mean keeps a constant window
 * at exactly 0 (a running sum's rounding would not). */
double kz_rmad_push(kz_rmad_state *s, double x)
{
    double old;
    ring_push(&s->r, x, &old);
    if (!ring_valid(&s->r)) {
        return NAN;
    }
    double mean = 0.0, acc = 0.0;
    for (size_t i = 0; i < s->r.w; i++) {
        mean += s->r.buf[i];
    }
    mean /= (double)s->r.w;
    for (size_t i = 0; i < s->r.w; i++) {
        acc += fabs(s->r.buf[i] - mean);
    }
    return acc / (double)s->r.w;
}

/* ================================================================ exponential weighting */

void kz_ewma_init(kz_ewma_state *s, double alpha)
{
    s->avg = NAN;
    s->old_wt = 1.0;
    s->decay = 1.0 - alpha;
}

/* pandas window/aggregations.pyx ewm() with adjust=True (new weight 1), ignore_na=False: once
 * started, every bar (observed or not) ages the old weight; an observation is merged as
 * (old_wt * avg + x) / (old_wt + 1) and then joins the old weight. */
double kz_ewma_push(kz_ewma_state *s, double x)
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

void kz_ewmr_init(kz_ewmr_state *s, double alpha)
{
    s->y = NAN;
    s->alpha = alpha;
}

double kz_ewmr_push(kz_ewmr_state *s, double x)
{
    if (isfinite(x)) {
        s->y = isnan(s->y) ? x : s->alpha * x + (1.0 - s->alpha) * s->y;
    }
    return s->y;
}

/* ================================================================ lag (diff, pct_change) */

size_t kz_lag_mem(size_t k)
{
    return doubles_mem(k);
}

void kz_lag_init(kz_lag_state *s, size_t k, int pad, void *mem)
{
    ring_init(&s->r, k, mem, REFRESH_EVERY_WRAP);
    s->last = NAN;
    s->pad = pad;
}

double kz_lag_diff_push(kz_lag_state *s, double x)
{
    double old;
    return ring_push(&s->r, x, &old) ? x - old : NAN;
}

/* pandas pct_change(fill_method='pad'): ffill first (only NaN is filled), then x / x.shift(k) - 1.
 */
double kz_lag_pct_push(kz_lag_state *s, double x)
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
    return ring_push(&s->r, v, &old) ? v / old - 1.0 : NAN;
}

/* ================================================================ batch entry points */

static void fill_nan(double *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = NAN;
    }
}

/* Shared argument check and scratch allocation of the windowed primitives. On KZ_OK with
 * *mem == NULL the output is already complete (w > n: all NaN, nothing to allocate). */
static kz_status
batch_begin(const double *x, size_t n, size_t w, double *out, size_t bytes, void **mem)
{
    *mem = NULL;
    if (!x || !out || w == 0) {
        return KZ_ERR_INVALID;
    }
    if (w > n) {
        fill_nan(out, n);
        return KZ_OK;
    }
    *mem = bytes ? kz_malloc(bytes) : NULL;
    return *mem ? KZ_OK : KZ_ERR_NOMEM;
}

/* sum and mean share the running-sum loop. */
static kz_status roll_sum_kind(const double *x, size_t n, size_t w, double *out, int mean)
{
    void *mem;
    kz_status st = batch_begin(x, n, w, out, kz_rsum_mem(w), &mem);
    if (st != KZ_OK || !mem) {
        return st;
    }
    kz_rsum_state s;
    kz_rsum_init(&s, w, mem);
    for (size_t i = 0; i < n; i++) {
        double sum = kz_rsum_push(&s, x[i]);
        out[i] = mean ? kz_rsum_mean(&s) : sum;
    }
    kz_free(mem);
    return KZ_OK;
}

kz_status kz_roll_sum(const double *x, size_t n, size_t w, double *out)
{
    return roll_sum_kind(x, n, w, out, 0);
}

kz_status kz_roll_mean(const double *x, size_t n, size_t w, double *out)
{
    return roll_sum_kind(x, n, w, out, 1);
}

kz_status kz_roll_mad(const double *x, size_t n, size_t w, double *out)
{
    void *mem;
    kz_status st = batch_begin(x, n, w, out, kz_rmad_mem(w), &mem);
    if (st != KZ_OK || !mem) {
        return st;
    }
    kz_rmad_state s;
    kz_rmad_init(&s, w, mem);
    for (size_t i = 0; i < n; i++) {
        out[i] = kz_rmad_push(&s, x[i]);
    }
    kz_free(mem);
    return KZ_OK;
}

static kz_status
roll_var_impl(const double *x, size_t n, size_t w, int ddof, double *out, int take_sqrt)
{
    if (ddof < 0 || (size_t)ddof >= w) {
        return KZ_ERR_INVALID;
    }
    void *mem;
    kz_status st = batch_begin(x, n, w, out, kz_rvar_mem(w), &mem);
    if (st != KZ_OK || !mem) {
        return st;
    }
    kz_rvar_state s;
    kz_rvar_init(&s, w, ddof, mem);
    for (size_t i = 0; i < n; i++) {
        double v = kz_rvar_push(&s, x[i]);
        out[i] = take_sqrt ? sqrt(v) : v;
    }
    kz_free(mem);
    return KZ_OK;
}

kz_status kz_roll_var(const double *x, size_t n, size_t w, int ddof, double *out)
{
    return roll_var_impl(x, n, w, ddof, out, 0);
}

kz_status kz_roll_std(const double *x, size_t n, size_t w, int ddof, double *out)
{
    return roll_var_impl(x, n, w, ddof, out, 1);
}

/* min / max / argmin / argmax share one deque loop. */
static kz_status
roll_ext(const double *x, size_t n, size_t w, double *out, int is_max, int want_index)
{
    void *mem;
    kz_status st = batch_begin(x, n, w, out, kz_rext_mem(w), &mem);
    if (st != KZ_OK || !mem) {
        return st;
    }
    kz_rext_state s;
    kz_rext_init(&s, w, is_max, mem);
    for (size_t i = 0; i < n; i++) {
        double index;
        double v = kz_rext_push(&s, x[i], &index);
        out[i] = want_index ? index : v;
    }
    kz_free(mem);
    return KZ_OK;
}

kz_status kz_roll_min(const double *x, size_t n, size_t w, double *out)
{
    return roll_ext(x, n, w, out, 0, 0);
}

kz_status kz_roll_max(const double *x, size_t n, size_t w, double *out)
{
    return roll_ext(x, n, w, out, 1, 0);
}

kz_status kz_roll_argmin(const double *x, size_t n, size_t w, double *out)
{
    return roll_ext(x, n, w, out, 0, 1);
}

kz_status kz_roll_argmax(const double *x, size_t n, size_t w, double *out)
{
    return roll_ext(x, n, w, out, 1, 1);
}

kz_status kz_roll_quantile(const double *x, size_t n, size_t w, double q, double *out)
{
    if (!(q >= 0.0 && q <= 1.0)) {
        return KZ_ERR_INVALID;
    }
    void *mem;
    kz_status st = batch_begin(x, n, w, out, kz_rquant_mem(w), &mem);
    if (st != KZ_OK || !mem) {
        return st;
    }
    kz_rquant_state s;
    kz_rquant_init(&s, w, q, mem);
    for (size_t i = 0; i < n; i++) {
        out[i] = kz_rquant_push(&s, x[i]);
    }
    kz_free(mem);
    return KZ_OK;
}

kz_status kz_roll_corr(const double *x, const double *y, size_t n, size_t w, double *out)
{
    if (!y) {
        return KZ_ERR_INVALID;
    }
    void *mem;
    kz_status st = batch_begin(x, n, w, out, kz_rcorr_mem(w), &mem);
    if (st != KZ_OK || !mem) {
        return st;
    }
    kz_rcorr_state s;
    kz_rcorr_init(&s, w, mem);
    for (size_t i = 0; i < n; i++) {
        out[i] = kz_rcorr_push(&s, x[i], y[i]);
    }
    kz_free(mem);
    return KZ_OK;
}

kz_status kz_roll_slope(const double *x, size_t n, size_t w, double *out)
{
    if (w < 2) {
        return KZ_ERR_INVALID;
    }
    void *mem;
    kz_status st = batch_begin(x, n, w, out, kz_rslope_mem(w), &mem);
    if (st != KZ_OK || !mem) {
        return st;
    }
    kz_rslope_state s;
    kz_rslope_init(&s, w, mem);
    for (size_t i = 0; i < n; i++) {
        out[i] = kz_rslope_push(&s, x[i]);
    }
    kz_free(mem);
    return KZ_OK;
}

static int alpha_ok(double alpha)
{
    return alpha > 0.0 && alpha <= 1.0;
}

kz_status kz_ewm_adjusted(const double *x, size_t n, double alpha, double *out)
{
    if (!x || !out || !alpha_ok(alpha)) {
        return KZ_ERR_INVALID;
    }
    kz_ewma_state s;
    kz_ewma_init(&s, alpha);
    for (size_t i = 0; i < n; i++) {
        out[i] = kz_ewma_push(&s, x[i]);
    }
    return KZ_OK;
}

kz_status kz_ewm_recursive(const double *x, size_t n, double alpha, double *out)
{
    if (!x || !out || !alpha_ok(alpha)) {
        return KZ_ERR_INVALID;
    }
    kz_ewmr_state s;
    kz_ewmr_init(&s, alpha);
    for (size_t i = 0; i < n; i++) {
        out[i] = kz_ewmr_push(&s, x[i]);
    }
    return KZ_OK;
}

/* diff and pct_change share the lag ring; pad < 0 selects diff. */
static kz_status lag_batch(const double *x, size_t n, size_t k, int pad, double *out)
{
    void *mem;
    kz_status st = batch_begin(x, n, k, out, kz_lag_mem(k), &mem);
    if (st != KZ_OK || !mem) {
        return st;
    }
    kz_lag_state s;
    kz_lag_init(&s, k, pad > 0, mem);
    for (size_t i = 0; i < n; i++) {
        out[i] = pad < 0 ? kz_lag_diff_push(&s, x[i]) : kz_lag_pct_push(&s, x[i]);
    }
    kz_free(mem);
    return KZ_OK;
}

kz_status kz_pct_change(const double *x, size_t n, size_t k, int pad, double *out)
{
    return lag_batch(x, n, k, pad != 0, out);
}

kz_status kz_diff(const double *x, size_t n, size_t k, double *out)
{
    return lag_batch(x, n, k, -1, out);
}
