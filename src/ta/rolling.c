/* Rolling-window primitives with pandas semantics (kizashi/ta.h) and their O(1) streaming states
 * (rolling_int.h). Each batch function is a loop over the streaming push, so they cannot drift. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/ta.h"

#include "rolling_int.h"

/* Bytes of `count` doubles, 0 on overflow (the *_mem functions' contract). */
static size_t doubles_mem(size_t count)
{
    return count && count <= SIZE_MAX / sizeof(double) ? count * sizeof(double) : 0;
}

/* ================================================================ sum / mean */

size_t kz_rsum_mem(size_t w)
{
    return doubles_mem(w);
}

void kz_rsum_init(kz_rsum_state *s, size_t w, void *mem)
{
    kz_ring_init(&s->r, w, mem, KZ_REFRESH_LONG);
    s->sum = 0.0;
    s->comp = 0.0;
}

void kz_rsum_exact(kz_rsum_state *s)
{
    s->sum = 0.0;
    s->comp = 0.0;
    for (size_t i = 0; i < s->r.w; i++) {
        if (isfinite(s->r.buf[i])) {
            kz_neumaier_add(&s->sum, &s->comp, s->r.buf[i]);
        }
    }
}

double kz_rsum_push(kz_rsum_state *s, double x)
{
    return kz_rsum_step(s, x);
}

double kz_rsum_mean(const kz_rsum_state *s)
{
    return kz_ring_valid(&s->r) ? (s->sum + s->comp) / (double)s->r.w : NAN;
}

/* ================================================================ Welford moments */

static int pair_ok(const double *y, size_t i, double xi)
{
    return isfinite(xi) && (!y || isfinite(y[i]));
}

size_t kz_moments_exact(
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

size_t kz_rvar_mem(size_t w)
{
    return doubles_mem(w);
}

void kz_rvar_init(kz_rvar_state *s, size_t w, int ddof, void *mem)
{
    kz_ring_init(&s->r, w, mem, KZ_REFRESH_EVERY_WRAP);
    s->m = (kz_moments){0.0, 0.0, 0.0};
    s->n_ok = 0;
    s->run = 0;
    s->last = NAN;
    s->ddof = ddof;
}

double kz_rvar_push(kz_rvar_state *s, double x)
{
    return kz_rvar_step(s, x);
}

/* ================================================================ correlation */

size_t kz_rcorr_mem(size_t w)
{
    return w <= SIZE_MAX / 2 ? doubles_mem(2 * w) : 0;
}

void kz_rcorr_init(kz_rcorr_state *s, size_t w, void *mem)
{
    kz_ring_init(&s->r, w, mem, KZ_REFRESH_EVERY_WRAP);
    s->y = (double *)mem + w;
    for (size_t i = 0; i < w; i++) {
        s->y[i] = NAN; /* empty slots, as the ring's */
    }
    s->c.mx = (kz_moments){0.0, 0.0, 0.0};
    s->c.my = s->c.mx;
    s->c.cxy = 0.0;
    s->c.n_ok = 0;
    s->run_x = s->run_y = 0;
    s->last_x = s->last_y = NAN;
}

double kz_rcorr_push(kz_rcorr_state *s, double x, double y)
{
    return kz_rcorr_step(s, x, y);
}

/* ================================================================ OLS slope */

size_t kz_rslope_mem(size_t w)
{
    return doubles_mem(w);
}

void kz_rslope_init(kz_rslope_state *s, size_t w, void *mem)
{
    kz_ring_init(&s->r, w, mem, KZ_REFRESH_LONG);
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
    int refresh = kz_ring_step(&s->r, x, &old);
    double w = (double)s->r.w;
    double c = (w - 1.0) / 2.0;
    if (refresh) {
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
    } else {
        /* (While the ring fills, old is NaN (z0 = 0) and the push that fills it refreshes.)
         * Sliding v_0..v_{w-1} to v_1..v_{w-1},x shifts every weight j - c down by one:
         * N' = N - S + (c + 1) v_0 + c x (with the old S); S' = S - v_0 + x. */
        double z0 = slope_z(s, old), z = slope_z(s, x);
        s->num += (c + 1.0) * z0 + c * z - s->s;
        s->s += z - z0;
    }
    return kz_ring_valid(&s->r) ? s->num / (w * (w * w - 1.0) / 12.0) : NAN;
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

double kz_rext_push(kz_rext_state *s, double x, double *index)
{
    return kz_rext_step(s, x, s->is_max, index);
}

/* ================================================================ quantile (sorted window) */

size_t kz_rquant_mem(size_t w)
{
    return w <= SIZE_MAX / 2 ? doubles_mem(2 * w) : 0;
}

void kz_rquant_init(kz_rquant_state *s, size_t w, double q, void *mem)
{
    kz_ring_init(&s->r, w, mem, KZ_REFRESH_EVERY_WRAP);
    s->sorted = (double *)mem + w;
    s->n_sorted = 0;
    s->q = q;
    kz_quantile_pos(w, q, &s->lo, &s->frac);
}

double kz_rquant_push(kz_rquant_state *s, double x)
{
    double old;
    kz_ring_push(&s->r, x, &old);
    if (isfinite(old)) {
        kz_sorted_delete(s->sorted, &s->n_sorted, old);
    }
    if (isfinite(x)) {
        kz_sorted_insert(s->sorted, &s->n_sorted, x);
    }
    return kz_rquant_value(s);
}

/* ================================================================ mean absolute deviation */

size_t kz_rmad_mem(size_t w)
{
    return doubles_mem(w);
}

void kz_rmad_init(kz_rmad_state *s, size_t w, void *mem)
{
    kz_ring_init(&s->r, w, mem, KZ_REFRESH_EVERY_WRAP);
}

/* Two passes over the ring: the pass is O(w) anyway, and an exact mean keeps a constant window
 * at exactly 0 (a running sum's rounding would not). */
double kz_rmad_push(kz_rmad_state *s, double x)
{
    double old;
    kz_ring_push(&s->r, x, &old);
    if (!kz_ring_valid(&s->r)) {
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

double kz_ewma_push(kz_ewma_state *s, double x)
{
    return kz_ewma_step(s, x);
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
    kz_ring_init(&s->r, k, mem, KZ_REFRESH_EVERY_WRAP);
    s->last = NAN;
    s->pad = pad;
}

double kz_lag_diff_push(kz_lag_state *s, double x)
{
    return kz_lag_diff_step(s, x);
}

double kz_lag_pct_push(kz_lag_state *s, double x)
{
    return kz_lag_pct_step(s, x);
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
