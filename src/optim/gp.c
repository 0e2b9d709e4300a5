/* Gaussian-process regression for the optimiser: Matern 5/2 kernel with one length scale per
 * dimension (ARD), a signal variance and a noise variance, fitted by maximising the log marginal
 * likelihood with its analytic gradient (Rasmussen & Williams 2006, eqs. 4.17, 5.8, 5.9).
 *
 * DESIGN: inputs are unit coordinates (categoricals compared by equality: a Hamming distance,
 * which is the Euclidean distance of a one-hot embedding, so the kernel stays positive definite).
 * The linear algebra is plain C on row-major lower triangles: n is at most a few hundred, where
 * a tuned but multi-threaded BLAS buys little, and plain loops give bit-identical results on
 * every machine and thread count without touching OpenBLAS's process-global thread setting.
 * Invariant: when `factored` is set, L and alpha belong to `theta` and the current data. */
#include <math.h>
#include <nlopt.h>
#include <stdio.h>
#include <string.h>

#include "optim/optim_int.h"

#define LOG_2PI 1.8378770664093454836
#define SQRT5   2.2360679774997896964

enum { FIT_MAXEVAL = 80, N_JITTER = 7, FULL_RESTART_N = 40 };

static size_t n_pairs(size_t n)
{
    return n < 2 ? 0 : n * (n - 1) / 2;
}

/* Dot product with four accumulators (fixed summation order: deterministic, and fast enough
 * without -ffast-math). */
static double dot(const double *a, const double *b, size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) {
        s0 += a[i] * b[i];
    }
    return (s0 + s1) + (s2 + s3);
}

kz_status gp_init(gp *g, size_t d, const unsigned char *is_cat)
{
    memset(g, 0, sizeof *g);
    g->d = d;
    g->is_cat = is_cat;
    g->theta = kz_calloc(d + 2, sizeof *g->theta);
    g->inv_l2 = kz_calloc(d ? d : 1, sizeof *g->inv_l2);
    if (!g->theta || !g->inv_l2) {
        gp_release(g);
        return KZ_ERR_NOMEM;
    }
    return KZ_OK;
}

void gp_release(gp *g)
{
    kz_free(g->z);
    kz_free(g->y);
    kz_free(g->theta);
    kz_free(g->inv_l2);
    kz_free(g->L);
    kz_free(g->alpha);
    kz_free(g->d2);
    kz_free(g->km);
    kz_free(g->gk);
    kz_free(g->U);
    kz_free(g->kv);
    kz_free(g->w);
    kz_free(g->dk);
    memset(g, 0, sizeof *g);
}

static kz_status grow(double **p, size_t n, size_t size)
{
    double *q = kz_realloc_array(*p, n ? n : 1, size);
    if (!q) {
        return KZ_ERR_NOMEM;
    }
    *p = q;
    return KZ_OK;
}

static kz_status ensure_cap(gp *g, size_t n)
{
    if (n <= g->cap) {
        return KZ_OK;
    }
    size_t cap = g->cap ? 2 * g->cap : 32;
    if (cap < n) {
        cap = n;
    }
    size_t d = g->d ? g->d : 1;
    size_t np = n_pairs(cap);
    if (cap > SIZE_MAX / cap || np > SIZE_MAX / d || cap > SIZE_MAX / d) {
        return KZ_ERR_NOMEM;
    }
    const size_t sz = sizeof(double);
    if (grow(&g->z, cap * d, sz) || grow(&g->y, cap, sz) || grow(&g->L, cap * cap, sz) ||
        grow(&g->alpha, cap, sz) || grow(&g->d2, np * d, sz) || grow(&g->km, np, sz) ||
        grow(&g->gk, np, sz) || grow(&g->U, cap * cap, sz) || grow(&g->kv, cap, sz) ||
        grow(&g->w, cap, sz) || grow(&g->dk, cap * d, sz)) {
        return KZ_ERR_NOMEM;
    }
    g->cap = cap;
    return KZ_OK;
}

kz_status gp_set_data(gp *g, const double *z, const double *y_raw, size_t n)
{
    kz_status st = ensure_cap(g, n);
    if (st != KZ_OK) {
        return st;
    }
    size_t d = g->d;
    g->n = n;
    g->factored = 0;
    memcpy(g->z, z, n * d * sizeof *z);
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) {
        mean += y_raw[i];
    }
    mean = n ? mean / (double)n : 0.0;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        ss += (y_raw[i] - mean) * (y_raw[i] - mean);
    }
    double sd = n ? sqrt(ss / (double)n) : 0.0;
    /* constant targets: keep unit scale so the normalised targets are all zero */
    if (!(sd > 1e-12 * fmax(1.0, fabs(mean))) || !isfinite(sd)) {
        sd = 1.0;
    }
    g->y_mean = mean;
    g->y_sd = sd;
    for (size_t i = 0; i < n; i++) {
        g->y[i] = (y_raw[i] - mean) / sd;
    }
    size_t p = 0;
    for (size_t i = 1; i < n; i++) {
        for (size_t k = 0; k < i; k++, p++) {
            for (size_t q = 0; q < d; q++) {
                double a = g->z[i * d + q], b = g->z[k * d + q];
                double diff = g->is_cat[q] ? (a != b ? 1.0 : 0.0) : a - b;
                g->d2[p * d + q] = diff * diff;
            }
        }
    }
    return KZ_OK;
}

/* Row-major lower Cholesky of A + jitter I into L (stride n). 0 on success. */
static int cholesky(const double *A, double *L, size_t n, double jitter)
{
    for (size_t i = 0; i < n; i++) {
        const double *Li = &L[i * n];
        for (size_t k = 0; k <= i; k++) {
            double s = A[i * n + k] - dot(Li, &L[k * n], k);
            if (k == i) {
                s += jitter;
                if (!(s > 0.0) || !isfinite(s)) {
                    return 1;
                }
                L[i * n + i] = sqrt(s);
            } else {
                L[i * n + k] = s / L[k * n + k];
            }
        }
    }
    return 0;
}

/* Solve L x = b in place (b <- x). */
static void solve_lower(const double *L, size_t n, double *b)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = (b[i] - dot(&L[i * n], b, i)) / L[i * n + i];
    }
}

/* Solve L^T x = b in place, row-oriented (column sweeps of L^T are rows of L). */
static void solve_upper_t(const double *L, size_t n, double *b)
{
    for (size_t i = n; i-- > 0;) {
        const double *Li = &L[i * n];
        b[i] /= Li[i];
        double xi = b[i];
        for (size_t j = 0; j < i; j++) {
            b[j] -= Li[j] * xi;
        }
    }
}

static void set_theta(gp *g, const double *theta)
{
    if (g->theta != theta) {
        memcpy(g->theta, theta, (g->d + 2) * sizeof *theta);
    }
    g->sf2 = exp(theta[0]);
    g->sn2 = exp(theta[g->d + 1]);
    for (size_t q = 0; q < g->d; q++) {
        g->inv_l2[q] = exp(-2.0 * theta[1 + q]);
    }
}

/* Build K (lower triangle, in U) for theta and factorise it into L with jitter escalation. */
static int factorise(gp *g, const double *theta)
{
    size_t n = g->n, d = g->d;
    set_theta(g, theta);
    g->factored = 0;
    double *K = g->U;
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++, p++) {
            const double *dp = &g->d2[p * d];
            double r2 = 0.0;
            for (size_t q = 0; q < d; q++) {
                r2 += dp[q] * g->inv_l2[q];
            }
            double s = sqrt(5.0 * r2), e = exp(-s);
            /* Matern 5/2 (R&W eq. 4.17) and its log-length-scale derivative factor */
            g->km[p] = g->sf2 * (1.0 + s + s * s / 3.0) * e;
            g->gk[p] = g->sf2 * (5.0 / 3.0) * (1.0 + s) * e;
            K[i * n + k] = g->km[p];
        }
        K[i * n + i] = g->sf2 + g->sn2;
    }
    double jitter = 0.0;
    for (int t = 0; t < N_JITTER; t++) {
        if (cholesky(K, g->L, n, jitter) == 0) {
            g->jitter = jitter;
            memcpy(g->alpha, g->y, n * sizeof *g->y);
            solve_lower(g->L, n, g->alpha);
            solve_upper_t(g->L, n, g->alpha);
            g->factored = 1;
            return 0;
        }
        jitter = jitter == 0.0 ? 1e-10 * g->sf2 : jitter * 10.0;
    }
    return 1;
}

/* K^-1 into the lower triangle of U, via U = L^-T (row c of U = column c of L^-1). */
static void inverse(gp *g)
{
    size_t n = g->n;
    const double *L = g->L;
    double *U = g->U;
    for (size_t c = 0; c < n; c++) {
        double *Uc = &U[c * n];
        Uc[c] = 1.0 / L[c * n + c];
        for (size_t j = c + 1; j < n; j++) {
            Uc[j] = -dot(&L[j * n + c], &Uc[c], j - c) / L[j * n + j];
        }
    }
    /* K^-1_ik = sum_{j >= i} U_ij U_kj (i >= k); the lower part of U is free and each entry is
     * written after the last read of the upper-triangle values it overwrites. */
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k <= i; k++) {
            U[i * n + k] = dot(&U[i * n + i], &U[k * n + i], n - i);
        }
    }
}

double gp_lml(gp *g, const double *theta, double *grad)
{
    size_t n = g->n, d = g->d;
    if (n == 0 || factorise(g, theta) != 0) {
        return -INFINITY;
    }
    double logdet = 0.0;
    for (size_t i = 0; i < n; i++) {
        logdet += log(g->L[i * n + i]);
    }
    double lml = -0.5 * dot(g->y, g->alpha, n) - logdet - 0.5 * (double)n * LOG_2PI;
    if (!grad) {
        return lml;
    }
    /* R&W eq. 5.9: d lml / d theta_j = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta_j) */
    inverse(g);
    const double *a = g->alpha, *U = g->U;
    double g_sf = 0.0, g_sn = 0.0;
    for (size_t q = 0; q < d + 2; q++) {
        grad[q] = 0.0;
    }
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++, p++) {
            double w = a[i] * a[k] - U[i * n + k];
            g_sf += w * g->km[p];
            double wg = w * g->gk[p];
            const double *dp = &g->d2[p * d];
            for (size_t q = 0; q < d; q++) {
                grad[1 + q] += wg * dp[q];
            }
        }
        double wii = a[i] * a[i] - U[i * n + i];
        g_sf += 0.5 * wii * g->sf2;
        g_sn += 0.5 * wii * g->sn2;
    }
    grad[0] = g_sf;
    for (size_t q = 0; q < d; q++) {
        grad[1 + q] *= g->inv_l2[q];
    }
    grad[d + 1] = g_sn;
    return lml;
}

int gp_refactor(gp *g)
{
    return factorise(g, g->theta);
}

void gp_predict(gp *g, const double *z, double *mu, double *var, double *dmu, double *dvar)
{
    size_t n = g->n, d = g->d;
    int want_grad = dmu || dvar;
    for (size_t i = 0; i < n; i++) {
        const double *zi = &g->z[i * d];
        double r2 = 0.0;
        for (size_t q = 0; q < d; q++) {
            double diff = g->is_cat[q] ? (z[q] != zi[q] ? 1.0 : 0.0) : z[q] - zi[q];
            r2 += diff * diff * g->inv_l2[q];
        }
        double s = sqrt(5.0 * r2), e = exp(-s);
        g->kv[i] = g->sf2 * (1.0 + s + s * s / 3.0) * e;
        if (want_grad) {
            double f = -g->sf2 * (5.0 / 3.0) * (1.0 + s) * e;
            for (size_t q = 0; q < d; q++) {
                g->dk[i * d + q] = g->is_cat[q] ? 0.0 : f * (z[q] - zi[q]) * g->inv_l2[q];
            }
        }
    }
    *mu = dot(g->kv, g->alpha, n);
    memcpy(g->w, g->kv, n * sizeof *g->w);
    solve_lower(g->L, n, g->w);
    double v = g->sf2 - dot(g->w, g->w, n);
    *var = v > 0.0 ? v : 0.0;
    if (dmu) {
        for (size_t q = 0; q < d; q++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++) {
                s += g->alpha[i] * g->dk[i * d + q];
            }
            dmu[q] = s;
        }
    }
    if (dvar) {
        solve_upper_t(g->L, n, g->w); /* w = K^-1 k* */
        for (size_t q = 0; q < d; q++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++) {
                s += g->w[i] * g->dk[i * d + q];
            }
            dvar[q] = v > 0.0 ? -2.0 * s : 0.0;
        }
    }
}

/* ---- hyper-parameter fit ---- */
typedef struct fit_ctx {
    gp *g;
    double best_f;
    double *best_theta;
    int n_eval;
} fit_ctx;

static double neg_lml(unsigned m, const double *theta, double *grad, void *ud)
{
    fit_ctx *c = ud;
    double f = gp_lml(c->g, theta, grad);
    c->n_eval++;
    if (!isfinite(f)) {
        if (grad) {
            memset(grad, 0, m * sizeof *grad);
        }
        return 1e300;
    }
    if (grad) {
        for (unsigned j = 0; j < m; j++) {
            grad[j] = -grad[j];
        }
    }
    if (-f < c->best_f) {
        c->best_f = -f;
        memcpy(c->best_theta, theta, m * sizeof *theta);
    }
    return -f;
}

static void theta_bounds(size_t d, double *lb, double *ub)
{
    lb[0] = log(GP_SF2_MIN);
    ub[0] = log(GP_SF2_MAX);
    for (size_t q = 0; q < d; q++) {
        lb[1 + q] = log(GP_LS_MIN);
        ub[1 + q] = log(GP_LS_MAX);
    }
    lb[d + 1] = log(GP_SN2_MIN);
    ub[d + 1] = log(GP_SN2_MAX);
}

static double uniform_in(kz_rng *rng, double lo, double hi)
{
    return log(lo) + kz_rng_uniform(rng) * (log(hi) - log(lo));
}

int gp_fit(gp *g, const double *warm, size_t n_restarts, kz_rng *rng, char *why, size_t why_size)
{
    size_t m = g->d + 2;
    int rc = 1;
    double *buf = kz_malloc_array(m, 6 * sizeof(double));
    nlopt_opt opt = NULL;
    if (!buf) {
        snprintf(why, why_size, "out of memory in the GP fit");
        return 1;
    }
    double *lb = buf, *ub = buf + m, *x0 = buf + 2 * m, *x1 = buf + 3 * m, *best = buf + 4 * m;
    double *cand = buf + 5 * m;
    theta_bounds(g->d, lb, ub);
    if (warm) {
        memcpy(x0, warm, m * sizeof *x0);
    } else {
        x0[0] = 0.0;
        for (size_t q = 0; q < g->d; q++) {
            x0[1 + q] = log(0.3);
        }
        x0[m - 1] = log(1e-4);
    }
    for (size_t j = 0; j < m; j++) {
        x0[j] = fmin(fmax(x0[j], lb[j]), ub[j]);
    }
    /* screen random starts by the likelihood alone (a Cholesky each); polish the best one too
     * when there is no warm start, while data are few (the likelihood surface still moves a
     * lot), or when it screens better than the warm start. With a warm start and more data the
     * previous optimum is almost always the basin again, and the second polish would double the
     * cost of a fit for nothing. */
    double f0 = gp_lml(g, x0, NULL), f1 = -INFINITY;
    for (size_t r = 0; r < n_restarts; r++) {
        cand[0] = uniform_in(rng, 0.1, 10.0);
        for (size_t q = 0; q < g->d; q++) {
            cand[1 + q] = uniform_in(rng, 0.03, 3.0);
        }
        cand[m - 1] = uniform_in(rng, 1e-6, 1e-1);
        double f = gp_lml(g, cand, NULL);
        if (f > f1) {
            f1 = f;
            memcpy(x1, cand, m * sizeof *x1);
        }
    }
    opt = nlopt_create(NLOPT_LD_LBFGS, (unsigned)m);
    if (!opt) {
        snprintf(why, why_size, "NLopt could not create the L-BFGS optimiser");
        goto done;
    }
    fit_ctx c = {g, INFINITY, best, 0};
    if (nlopt_set_lower_bounds(opt, lb) < 0 || nlopt_set_upper_bounds(opt, ub) < 0 ||
        nlopt_set_min_objective(opt, neg_lml, &c) < 0 || nlopt_set_maxeval(opt, FIT_MAXEVAL) < 0 ||
        nlopt_set_ftol_rel(opt, 1e-9) < 0 || nlopt_set_xtol_rel(opt, 1e-6) < 0) {
        snprintf(why, why_size, "NLopt rejected the fit settings");
        goto done;
    }
    double fval = 0.0;
    (void)nlopt_optimize(opt, x0, &fval); /* failures are judged by the best value seen */
    if (isfinite(f1) && (!warm || g->n <= FULL_RESTART_N || f1 > f0)) {
        (void)nlopt_optimize(opt, x1, &fval);
    }
    if (!isfinite(c.best_f)) {
        snprintf(why, why_size, "the likelihood is not finite at any hyper-parameter tried");
        goto done;
    }
    if (factorise(g, best) != 0) {
        snprintf(why, why_size, "Cholesky failed even with jitter at the fitted hyper-parameters");
        goto done;
    }
    rc = 0;
done:
    nlopt_destroy(opt);
    kz_free(buf);
    return rc;
}
