/* Gaussian-process regression for the optimiser: Matern 5/2 kernel with one length scale per
 * dimension (ARD), a signal variance and a noise variance, fitted by maximising the log marginal
 * likelihood with its analytic gradient (Rasmussen & Williams 2006, eqs. 4.17, 5.8, 5.9).
 *
 * DESIGN: inputs are unit coordinates (categoricals compared by equality: a Hamming distance,
 * which is the Euclidean distance of a one-hot embedding, so the kernel stays positive definite).
 * The dense linear algebra is LAPACK/OpenBLAS (the only place in the library that uses them):
 * the Cholesky factor by LAPACK's dpotf2, solves by cblas_dtrsv, products by cblas_ddot.
 * Matrices are row-major lower triangles with leading dimension n (the current number of
 * points) in cap x cap buffers; arguments are kept valid (lda >= max(1, n)) so that xerbla
 * never prints. Why these routines and not dpotrf/dpotri/dgemv: OpenBLAS runs those
 * multi-threaded from n = 64 (dpotrf), n = 20 (dpotri's dlauum) or n x d = 9216 (dgemv), which
 * changes the rounding with OPENBLAS_NUM_THREADS, and the optimiser must give the same history
 * for any thread count. dpotf2, dtrsv and ddot (n <= 10000) never split work across threads
 * (measured with 1 and 2 threads up to n = 600 / 4000 / 10000; see docs/optim.md).
 * Invariant: when `factored` is set, L and alpha belong to `theta` and the current data. */
#include <cblas.h>
#include <lapack.h>
#include <math.h>
#include <nlopt.h>
#include <stdio.h>
#include <string.h>

#include "optim/optim_int.h"

#define LOG_2PI 1.8378770664093454836

enum { FIT_MAXEVAL = 80, N_JITTER = 7, FULL_RESTART_N = 40 };

static size_t n_pairs(size_t n)
{
    return n < 2 ? 0 : n * (n - 1) / 2;
}

/* Leading dimension for BLAS/LAPACK: n, but at least 1 (an lda of 0 is an argument error). */
static blasint ld(size_t n)
{
    return (blasint)(n ? n : 1);
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
    if (n > GP_MAX_N) {
        return KZ_ERR_RANGE;
    }
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

/* Solve K x = b in place from the Cholesky factor (L L^T x = b: two triangular solves). */
static void chol_solve(const double *L, size_t n, double *b)
{
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (blasint)n, L, ld(n), b, 1);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (blasint)n, L, ld(n), b, 1);
}

/* OpenBLAS's dpotf2 tests pivots with `<= 0` only, unlike reference LAPACK's DISNAN check: a
 * NaN in K would come out as a "successful" factor full of NaN. */
static int finite_diagonal(const double *L, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(L[i * n + i])) {
            return 0;
        }
    }
    return 1;
}

/* Build K (row-major lower triangle, in U) for theta and factorise it into L with dpotf2,
 * escalating a diagonal jitter while the factorisation meets a non-positive pivot (info > 0). */
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
    /* LAPACK is column-major: the row-major lower triangle of the symmetric K is the upper one
     * of a column-major K, whose factor U = L^T is L in row-major order. The upper variant also
     * walks contiguous memory in dpotf2's dots. */
    const char uplo = 'U';
    const lapack_int ln = (lapack_int)n, lda = ld(n);
    double jitter = 0.0;
    for (int t = 0; t < N_JITTER; t++) {
        /* the factorisation overwrites its input: start every attempt from K (lower rows) */
        for (size_t i = 0; i < n; i++) {
            memcpy(&g->L[i * n], &K[i * n], (i + 1) * sizeof *K);
            g->L[i * n + i] += jitter;
        }
        lapack_int info = 0;
        LAPACK_dpotf2(&uplo, &ln, g->L, &lda, &info);
        if (info < 0 || (info == 0 && !finite_diagonal(g->L, n))) {
            return 1; /* bad arguments (cannot happen) or a NaN: no jitter would help */
        }
        if (info == 0) {
            g->jitter = jitter;
            memcpy(g->alpha, g->y, n * sizeof *g->y);
            chol_solve(g->L, n, g->alpha);
            g->factored = 1;
            return 0;
        }
        jitter = jitter == 0.0 ? 1e-10 * g->sf2 : jitter * 10.0;
    }
    return 1;
}

/* V = L^-1 into U, column c of V as row c of U from column c on (V e_c solves L x = e_c, whose
 * first c entries are zero: a triangular solve on the trailing block). K^-1 = V^T V. */
static void inverse_factor(gp *g)
{
    size_t n = g->n;
    double *V = g->U;
    for (size_t c = 0; c < n; c++) {
        double *vc = &V[c * n + c];
        memset(vc, 0, (n - c) * sizeof *vc);
        vc[0] = 1.0;
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (blasint)(n - c),
                    &g->L[c * n + c], ld(n), vc, 1);
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
    double lml =
        -0.5 * cblas_ddot((blasint)n, g->y, 1, g->alpha, 1) - logdet - 0.5 * (double)n * LOG_2PI;
    if (!grad) {
        return lml;
    }
    /* R&W eq. 5.9: d lml / d theta_j = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta_j), with
     * (K^-1)_ik = sum_{j >= i} V_ji V_jk (i >= k): a dot of two columns of V = L^-1 */
    inverse_factor(g);
    const double *a = g->alpha, *V = g->U;
    double g_sf = 0.0, g_sn = 0.0;
    for (size_t q = 0; q < d + 2; q++) {
        grad[q] = 0.0;
    }
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        const double *vi = &V[i * n + i];
        blasint len = (blasint)(n - i);
        for (size_t k = 0; k < i; k++, p++) {
            double w = a[i] * a[k] - cblas_ddot(len, vi, 1, &V[k * n + i], 1);
            g_sf += w * g->km[p];
            double wg = w * g->gk[p];
            const double *dp = &g->d2[p * d];
            for (size_t q = 0; q < d; q++) {
                grad[1 + q] += wg * dp[q];
            }
        }
        double wii = a[i] * a[i] - cblas_ddot(len, vi, 1, vi, 1);
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
    blasint bn = (blasint)n;
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
                g->dk[q * n + i] = g->is_cat[q] ? 0.0 : f * (z[q] - zi[q]) * g->inv_l2[q];
            }
        }
    }
    /* mu = k*^T alpha, var = sf2 - |L^-1 k*|^2 (R&W Alg. 2.1, latent function: no noise) */
    *mu = cblas_ddot(bn, g->kv, 1, g->alpha, 1);
    memcpy(g->w, g->kv, n * sizeof *g->w);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, bn, g->L, ld(n), g->w, 1);
    double v = g->sf2 - cblas_ddot(bn, g->w, 1, g->w, 1);
    *var = v > 0.0 ? v : 0.0;
    /* gradients: dmu_q = dk_q^T alpha, dvar_q = -2 dk_q^T K^-1 k*, with dk_q the derivative of
     * k* in z_q, stored contiguously per coordinate (d dots rather than a dgemv: see DESIGN) */
    if (dmu) {
        for (size_t q = 0; q < d; q++) {
            dmu[q] = cblas_ddot(bn, &g->dk[q * n], 1, g->alpha, 1);
        }
    }
    if (dvar) {
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, bn, g->L, ld(n), g->w,
                    1); /* w = K^-1 k* */
        for (size_t q = 0; q < d; q++) {
            dvar[q] = v > 0.0 ? -2.0 * cblas_ddot(bn, &g->dk[q * n], 1, g->w, 1) : 0.0;
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
