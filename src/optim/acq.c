/* Acquisition functions on the GP posterior (minimisation): expected improvement (Jones, Schonlau
 * & Welch 1998, eq. 15), probability of improvement (Kushner 1964) and the lower confidence bound
 * (Srinivas et al. 2010), with analytic gradients; maximised by dense random sampling followed by
 * bounded L-BFGS (NLopt) from the best candidates, as scikit-optimize's acq_optimizer="lbfgs". */
#include <math.h>
#include <nlopt.h>
#include <string.h>

#include "optim/optim_int.h"

#define INV_SQRT2   0.70710678118654752440
#define INV_SQRT2PI 0.39894228040143267794

enum { LOCAL_MAXEVAL = 40 };

static double norm_cdf(double z)
{
    return 0.5 * erfc(-z * INV_SQRT2);
}

static double norm_pdf(double z)
{
    return INV_SQRT2PI * exp(-0.5 * z * z);
}

double acq_value(gp *g, const acq_setup *a, const double *z, double *grad, double *scratch)
{
    size_t d = g->d;
    double mu, var;
    double *dmu = grad ? scratch : NULL, *dvar = grad ? scratch + d : NULL;
    gp_predict(g, z, &mu, &var, dmu, dvar);
    double sd = sqrt(var);
    double val, d_mu, d_sd;
    double imp = a->y_best - mu - a->xi;
    if (a->kind == KZ_ACQ_LCB) {
        /* maximise -(mu - kappa sigma) */
        val = -mu + a->kappa * sd;
        d_mu = -1.0;
        d_sd = a->kappa;
    } else if (sd < 1e-12) {
        /* no posterior uncertainty: the improvement is certain */
        val = a->kind == KZ_ACQ_EI ? fmax(imp, 0.0) : (imp > 0.0 ? 1.0 : 0.0);
        d_mu = a->kind == KZ_ACQ_EI && imp > 0.0 ? -1.0 : 0.0;
        d_sd = 0.0;
    } else {
        double zs = imp / sd, cdf = norm_cdf(zs), pdf = norm_pdf(zs);
        if (a->kind == KZ_ACQ_EI) {
            val = imp * cdf + sd * pdf;
            d_mu = -cdf;
            d_sd = pdf;
        } else {
            val = cdf;
            d_mu = -pdf / sd;
            d_sd = -zs * pdf / sd;
        }
    }
    if (grad) {
        for (size_t q = 0; q < d; q++) {
            double dsd = sd > 1e-12 ? dvar[q] / (2.0 * sd) : 0.0;
            grad[q] = d_mu * dmu[q] + d_sd * dsd;
        }
    }
    return val;
}

/* L-BFGS over the free (non-categorical) coordinates; categoricals stay at the start's values. */
typedef struct local_ctx {
    gp *g;
    const acq_setup *a;
    double *z; /* full point being evaluated */
    const size_t *free_idx;
    double *gfull;   /* d */
    double *scratch; /* 2 d */
} local_ctx;

static double local_obj(unsigned m, const double *x, double *grad, void *ud)
{
    local_ctx *c = ud;
    for (unsigned j = 0; j < m; j++) {
        c->z[c->free_idx[j]] = x[j];
    }
    double v = acq_value(c->g, c->a, c->z, grad ? c->gfull : NULL, c->scratch);
    if (grad) {
        for (unsigned j = 0; j < m; j++) {
            grad[j] = c->gfull[c->free_idx[j]];
        }
    }
    return v;
}

static int in_set(const double *u, const double *set, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(u, &set[i * d], d * sizeof *u) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Keep the k best (value, point) pairs in descending order. */
static void
top_insert(double *vals, double *pts, size_t *n_top, size_t k, size_t d, double v, const double *u)
{
    if (k == 0 || (*n_top == k && !(v > vals[k - 1]))) {
        return;
    }
    size_t pos = *n_top < k ? (*n_top)++ : k - 1;
    while (pos > 0 && v > vals[pos - 1]) {
        vals[pos] = vals[pos - 1];
        memcpy(&pts[pos * d], &pts[(pos - 1) * d], d * sizeof *pts);
        pos--;
    }
    vals[pos] = v;
    memcpy(&pts[pos * d], u, d * sizeof *u);
}

double acq_maximise(gp *g,
                    const acq_setup *a,
                    const kz_space *s,
                    kz_rng *rng,
                    const double *start,
                    const double *avoid,
                    size_t n_avoid,
                    double *u_best)
{
    size_t d = g->d, k = a->n_local ? a->n_local : 1;
    size_t n_final = 2 * k + 1; /* unpolished top-k, polished top-k, polished incumbent */
    /* one block: c, x, u, scratch (2 d), gfull, z, xf, top points, final points, top values,
     * final values */
    size_t n_dbl = d * (8 + k + n_final) + k + n_final;
    double *buf = kz_malloc_array(n_dbl, sizeof *buf);
    size_t *free_idx = kz_malloc_array(d ? d : 1, sizeof *free_idx);
    double best_v = -INFINITY;
    if (!buf || !free_idx) {
        kz_free(buf);
        kz_free(free_idx);
        return -INFINITY;
    }
    double *c = buf, *x = c + d, *u = x + d, *scratch = u + d, *gfull = scratch + 2 * d;
    double *z = gfull + d, *xf = z + d;
    double *top_pts = xf + d, *fin_pts = top_pts + k * d;
    double *top_vals = fin_pts + n_final * d, *fin_vals = top_vals + k;
    size_t n_top = 0, n_fin = 0;
    for (size_t i = 0; i < a->n_candidates; i++) {
        for (size_t q = 0; q < d; q++) {
            c[q] = kz_rng_uniform(rng);
        }
        space_from_cube(s, c, x);
        space_to_unit(s, x, u);
        top_insert(top_vals, top_pts, &n_top, k, d, acq_value(g, a, u, NULL, NULL), u);
    }
    for (size_t i = 0; i < n_top; i++) {
        memcpy(&fin_pts[n_fin * d], &top_pts[i * d], d * sizeof *u);
        fin_vals[n_fin++] = top_vals[i];
    }
    size_t m = 0;
    for (size_t q = 0; q < d; q++) {
        if (!g->is_cat[q]) {
            free_idx[m++] = q;
        }
    }
    nlopt_opt opt = m ? nlopt_create(NLOPT_LD_LBFGS, (unsigned)m) : NULL;
    local_ctx lc = {g, a, z, free_idx, gfull, scratch};
    if (opt && nlopt_set_lower_bounds1(opt, 0.0) >= 0 && nlopt_set_upper_bounds1(opt, 1.0) >= 0 &&
        nlopt_set_max_objective(opt, local_obj, &lc) >= 0 &&
        nlopt_set_maxeval(opt, LOCAL_MAXEVAL) >= 0 && nlopt_set_xtol_rel(opt, 1e-8) >= 0) {
        size_t n_starts = n_top + (start ? 1 : 0);
        for (size_t i = 0; i < n_starts; i++) {
            const double *s0 = i < n_top ? &top_pts[i * d] : start;
            memcpy(z, s0, d * sizeof *z);
            for (size_t j = 0; j < m; j++) {
                xf[j] = fmin(fmax(s0[free_idx[j]], 0.0), 1.0);
            }
            double fv = 0.0;
            (void)nlopt_optimize(opt, xf, &fv); /* any result is re-scored below */
            for (size_t j = 0; j < m; j++) {
                z[free_idx[j]] = xf[j];
            }
            /* snap integers to the grid so the GP scores exactly what will be evaluated */
            space_from_unit(s, z, x);
            space_to_unit(s, x, u);
            memcpy(&fin_pts[n_fin * d], u, d * sizeof *u);
            fin_vals[n_fin++] = acq_value(g, a, u, NULL, NULL);
        }
    }
    nlopt_destroy(opt);
    /* best finite value not already evaluated or pending; the overall best if all are */
    size_t pick = n_fin, any = n_fin;
    for (size_t i = 0; i < n_fin; i++) {
        if (!isfinite(fin_vals[i])) {
            continue;
        }
        if (any == n_fin || fin_vals[i] > fin_vals[any]) {
            any = i;
        }
        if ((pick == n_fin || fin_vals[i] > fin_vals[pick]) &&
            !in_set(&fin_pts[i * d], avoid, n_avoid, d)) {
            pick = i;
        }
    }
    if (pick == n_fin) {
        pick = any;
    }
    if (pick < n_fin) {
        memcpy(u_best, &fin_pts[pick * d], d * sizeof *u_best);
        best_v = fin_vals[pick];
    }
    kz_free(buf);
    kz_free(free_idx);
    return best_v;
}
