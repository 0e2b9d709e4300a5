/* The Bayesian optimiser: ask/tell over a named space, an initial design, then the GP +
 * acquisition loop with constant-liar batches, GP-Hedge, failure imputation and a seeded
 * random-search fallback; plus the callback driver kz_bo_minimize.
 *
 * DESIGN: every random draw of batch b comes from kz_rng_seed3(seed, b, 1) (the initial design
 * from stream (seed, UINT64_MAX, 0)), and the only state carried between batches is the history,
 * the counters, the last hyper-parameters (warm start) and the GP-Hedge gains and points. That
 * state is what the JSON file stores, so a loaded run continues bit for bit. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "optim/optim_int.h"

static const char *const ACQ_NAMES[KZ_ACQ_COUNT] = {"ei", "pi", "lcb", "hedge"};
static const char *const INIT_NAMES[KZ_INIT_COUNT] = {"random", "lhs", "sobol"};

kz_bo_params kz_bo_params_default(void)
{
    kz_bo_params p;
    memset(&p, 0, sizeof p);
    p.seed = 42;
    p.n_initial = 10;
    p.init = KZ_INIT_SOBOL;
    p.acq = KZ_ACQ_EI;
    p.xi = 0.01;
    p.kappa = 1.96;
    p.hedge_eta = 1.0;
    p.n_candidates = 2000;
    p.n_local = 10;
    p.n_restarts = 16;
    return p;
}

static kz_status param_error(kz_error *err, const char *field, const char *msg)
{
    if (err) {
        kz_error_clear(err);
        err->code = KZ_ERR_INVALID;
        snprintf(err->field, sizeof err->field, "%s", field);
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
    return KZ_ERR_INVALID;
}

kz_status kz_bo_params_check(const kz_bo_params *p, kz_error *err)
{
    if (!p) {
        return param_error(err, "", "params is NULL");
    }
    if ((unsigned)p->acq >= KZ_ACQ_COUNT) {
        return param_error(err, "acq", "unknown acquisition function");
    }
    if ((unsigned)p->init >= KZ_INIT_COUNT) {
        return param_error(err, "init", "unknown initial design");
    }
    if (!(p->xi >= 0.0) || !isfinite(p->xi)) {
        return param_error(err, "xi", "must be finite and >= 0");
    }
    if (!(p->kappa >= 0.0) || !isfinite(p->kappa)) {
        return param_error(err, "kappa", "must be finite and >= 0");
    }
    if (!(p->hedge_eta > 0.0) || !isfinite(p->hedge_eta)) {
        return param_error(err, "hedge_eta", "must be finite and > 0");
    }
    if (p->n_candidates == 0) {
        return param_error(err, "n_candidates", "must be >= 1");
    }
    return KZ_OK;
}

static const char *enum_str(const char *const *names, size_t n, unsigned v)
{
    return v < n ? names[v] : "?";
}

static kz_status enum_parse(const char *const *names, size_t n, const char *s, unsigned *out)
{
    for (unsigned i = 0; s && i < n; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = i;
            return KZ_OK;
        }
    }
    return KZ_ERR_INVALID;
}

/* kz_<what>_str and kz_<what>_parse (case-insensitive) of an enum over its name table: the
 * acquisition and initial-design enums share the pair, only the types differ. Defines
 * kz_acq_str, kz_acq_parse, kz_init_str and kz_init_parse (optim.h). */
#define ENUM_NAME_FUNCS(what, type, names, count)                                                  \
    const char *kz_##what##_str(type v)                                                            \
    {                                                                                              \
        return enum_str(names, count, (unsigned)v);                                                \
    }                                                                                              \
    kz_status kz_##what##_parse(const char *s, type *out)                                          \
    {                                                                                              \
        unsigned v = 0;                                                                            \
        kz_status st = enum_parse(names, count, s, &v);                                            \
        if (st == KZ_OK && out) {                                                                  \
            *out = (type)v;                                                                        \
        }                                                                                          \
        return st;                                                                                 \
    }

ENUM_NAME_FUNCS(acq, kz_acq_kind, ACQ_NAMES, KZ_ACQ_COUNT)
ENUM_NAME_FUNCS(init, kz_init_kind, INIT_NAMES, KZ_INIT_COUNT)

const char *bo_source_str(kz_bo_source s)
{
    static const char *const names[] = {"initial", "model", "fallback", "user"};
    return (unsigned)s < 4 ? names[s] : "?";
}

/* ---------------------------------------------------------------- lifecycle */
void kz_bo_free(kz_bo *bo)
{
    if (!bo) {
        return;
    }
    for (size_t i = 0; i < bo->n_pend; i++) {
        kz_free(bo->pend[i].x);
    }
    kz_free(bo->pend);
    kz_free(bo->xs);
    kz_free(bo->recs);
    kz_free(bo->init);
    kz_free(bo->is_cat);
    kz_free(bo->theta);
    kz_free(bo->hedge_prev);
    gp_release(&bo->g);
    kz_space_free(bo->space);
    kz_free(bo);
}

kz_status bo_create(kz_space *owned_space, const kz_bo_params *p, kz_bo **out)
{
    kz_status st = KZ_ERR_NOMEM;
    kz_bo *bo = kz_calloc(1, sizeof *bo);
    double *cube = NULL;
    if (!bo) {
        kz_space_free(owned_space);
        *out = NULL;
        return KZ_ERR_NOMEM;
    }
    bo->space = owned_space;
    bo->p = *p;
    size_t d = bo->d = owned_space->n;
    bo->is_cat = kz_malloc(d);
    bo->init = kz_malloc_array(p->n_initial ? p->n_initial : 1, d * sizeof(double));
    cube = kz_malloc_array(p->n_initial ? p->n_initial : 1, d * sizeof(double));
    bo->theta = kz_calloc(d + 2, sizeof(double));
    bo->hedge_prev = kz_calloc(BO_N_HEDGE * d, sizeof(double));
    if (!bo->is_cat || !bo->init || !cube || !bo->theta || !bo->hedge_prev) {
        goto fail;
    }
    space_cat_mask(owned_space, bo->is_cat);
    if ((st = gp_init(&bo->g, d, bo->is_cat)) != KZ_OK) {
        goto fail;
    }
    kz_rng rng;
    kz_rng_seed3(&rng, p->seed, UINT64_MAX, 0);
    if ((st = design_make(p->init, p->n_initial, d, &rng, cube)) != KZ_OK) {
        goto fail;
    }
    for (size_t i = 0; i < p->n_initial; i++) {
        space_from_cube(owned_space, &cube[i * d], &bo->init[i * d]);
    }
    kz_free(cube);
    *out = bo;
    return KZ_OK;
fail:
    kz_free(cube);
    kz_bo_free(bo);
    *out = NULL;
    return st;
}

kz_status kz_bo_new(const kz_space *space, const kz_bo_params *p, kz_bo **out, kz_error *err)
{
    if (!out) {
        return param_error(err, "out", "NULL output pointer");
    }
    *out = NULL;
    kz_status st = kz_bo_params_check(p, err);
    if (st != KZ_OK) {
        return st;
    }
    if (!space || space->n == 0) {
        return param_error(err, "space", "the search space has no dimension");
    }
    if (p->init == KZ_INIT_SOBOL && space->n > KZ_SOBOL_MAX_DIMS) {
        return param_error(err, "init", "Sobol design supports at most 21 dimensions");
    }
    kz_space *copy = NULL;
    if ((st = space_copy(space, &copy)) != KZ_OK) {
        return st;
    }
    return bo_create(copy, p, out);
}

const kz_space *kz_bo_space(const kz_bo *bo)
{
    return bo ? bo->space : NULL;
}

const char *kz_bo_errmsg(const kz_bo *bo)
{
    return bo ? bo->errmsg : "optimiser is NULL";
}

/* ---------------------------------------------------------------- history */
kz_status
bo_append(kz_bo *bo, const double *x, double y, double eval_s, double suggest_s, kz_bo_source src)
{
    size_t d = bo->d;
    if (bo->n == bo->cap) {
        size_t cap = bo->cap ? 2 * bo->cap : 64;
        double *xs = kz_realloc_array(bo->xs, cap, d * sizeof *xs);
        if (!xs) {
            return KZ_ERR_NOMEM;
        }
        bo->xs = xs;
        bo_rec *r = kz_realloc_array(bo->recs, cap, sizeof *r);
        if (!r) {
            return KZ_ERR_NOMEM;
        }
        bo->recs = r;
        bo->cap = cap;
    }
    memcpy(&bo->xs[bo->n * d], x, d * sizeof *x);
    bo_rec *r = &bo->recs[bo->n];
    r->failed = !isfinite(y);
    r->y = r->failed ? NAN : y;
    r->eval_s = eval_s;
    r->suggest_s = suggest_s;
    r->source = src;
    double prev = bo->n ? bo->recs[bo->n - 1].best_y : NAN;
    r->best_y = r->failed ? prev : (isnan(prev) || y < prev ? y : prev);
    bo->n++;
    return KZ_OK;
}

kz_status kz_bo_observe(kz_bo *bo, const double *x, double y, double eval_s)
{
    if (!bo) {
        return KZ_ERR_INVALID;
    }
    kz_error e;
    if (kz_space_check_point(bo->space, x, &e) != KZ_OK) {
        snprintf(bo->errmsg, sizeof bo->errmsg, "observe: %.200s", e.msg);
        return KZ_ERR_INVALID;
    }
    size_t d = bo->d;
    double suggest_s = 0.0;
    kz_bo_source src = KZ_BO_SRC_USER;
    for (size_t i = 0; i < bo->n_pend; i++) {
        if (memcmp(bo->pend[i].x, x, d * sizeof *x) == 0) {
            suggest_s = bo->pend[i].suggest_s;
            src = bo->pend[i].source;
            kz_free(bo->pend[i].x);
            memmove(&bo->pend[i], &bo->pend[i + 1], (bo->n_pend - i - 1) * sizeof *bo->pend);
            bo->n_pend--;
            break;
        }
    }
    kz_status st = bo_append(bo, x, y, eval_s, suggest_s, src);
    if (st != KZ_OK) {
        snprintf(bo->errmsg, sizeof bo->errmsg, "observe: out of memory");
    }
    return st;
}

static kz_status push_pending(kz_bo *bo, const double *x, double suggest_s, kz_bo_source src)
{
    if (bo->n_pend == bo->cap_pend) {
        size_t cap = bo->cap_pend ? 2 * bo->cap_pend : 8;
        bo_pending *p = kz_realloc_array(bo->pend, cap, sizeof *p);
        if (!p) {
            return KZ_ERR_NOMEM;
        }
        bo->pend = p;
        bo->cap_pend = cap;
    }
    double *copy = kz_malloc_array(bo->d, sizeof *copy);
    if (!copy) {
        return KZ_ERR_NOMEM;
    }
    memcpy(copy, x, bo->d * sizeof *x);
    bo->pend[bo->n_pend++] = (bo_pending){copy, suggest_s, src};
    return KZ_OK;
}

/* ---------------------------------------------------------------- suggestion */
typedef struct batch {
    double *z, *y; /* observed + pending points (unit coords) and targets incl. liars */
    size_t n;
    int fitted;    /* hyper-parameters fitted in this batch */
    double *u_inc; /* incumbent (unit coords) */
    double *tmp;   /* BO_N_HEDGE x d acquisition maximisers */
} batch;

/* Observed points with failures imputed by the worst value, then pending points with the
 * constant lie min(y) (Ginsbourger et al. 2010, "CL-min"). Returns 0 when no value succeeded. */
static int build_data(kz_bo *bo, batch *b)
{
    size_t d = bo->d, i_best = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < bo->n; i++) {
        if (!bo->recs[i].failed) {
            if (bo->recs[i].y < lo) {
                lo = bo->recs[i].y;
                i_best = i;
            }
            hi = fmax(hi, bo->recs[i].y);
        }
    }
    if (!isfinite(lo)) {
        return 0;
    }
    b->n = 0;
    for (size_t i = 0; i < bo->n; i++, b->n++) {
        space_to_unit(bo->space, &bo->xs[i * d], &b->z[b->n * d]);
        b->y[b->n] = bo->recs[i].failed ? hi : bo->recs[i].y;
    }
    for (size_t i = 0; i < bo->n_pend; i++, b->n++) {
        space_to_unit(bo->space, bo->pend[i].x, &b->z[b->n * d]);
        b->y[b->n] = lo;
    }
    space_to_unit(bo->space, &bo->xs[i_best * d], b->u_inc);
    return 1;
}

/* Fit (first use in the batch) or refactor (liars added) the GP on the batch data. */
static int prepare_model(kz_bo *bo, batch *b, kz_rng *rng)
{
    if (!build_data(bo, b)) {
        snprintf(bo->fallback_reason, sizeof bo->fallback_reason,
                 "no successful evaluation to fit the GP on");
        return 1;
    }
    kz_status st = gp_set_data(&bo->g, b->z, b->y, b->n);
    if (st == KZ_ERR_RANGE) {
        snprintf(bo->fallback_reason, sizeof bo->fallback_reason,
                 "more points than the GP takes (%d)", GP_MAX_N);
        return 1;
    }
    if (st != KZ_OK) {
        snprintf(bo->fallback_reason, sizeof bo->fallback_reason, "out of memory in the GP");
        return 1;
    }
    if (b->fitted) {
        return gp_refactor(&bo->g) == 0 ? 0 : 1;
    }
    char why[160];
    if (gp_fit(&bo->g, bo->has_theta ? bo->theta : NULL, bo->p.n_restarts, rng, why, sizeof why) !=
        0) {
        snprintf(bo->fallback_reason, sizeof bo->fallback_reason, "%s", why);
        return 1;
    }
    memcpy(bo->theta, bo->g.theta, (bo->d + 2) * sizeof *bo->theta);
    bo->has_theta = 1;
    b->fitted = 1;
    return 0;
}

static acq_setup setup_for(const kz_bo *bo, kz_acq_kind kind)
{
    const gp *g = &bo->g;
    acq_setup a;
    a.kind = kind;
    a.y_best = INFINITY;
    for (size_t i = 0; i < g->n; i++) {
        a.y_best = fmin(a.y_best, g->y[i]);
    }
    a.xi = bo->p.xi / g->y_sd; /* xi is in objective units, as in scikit-optimize */
    a.kappa = bo->p.kappa;
    a.n_candidates = bo->p.n_candidates;
    a.n_local = bo->p.n_local;
    return a;
}

/* The next model point (unit coords) into u; GP-Hedge (Hoffman et al. 2011, Alg. 1) picks one of
 * the EI/PI/LCB maximisers with probability softmax(eta * gains), where each gain accumulates
 * minus the posterior mean at that acquisition's previous choice. */
static void model_point(kz_bo *bo, batch *b, kz_rng *rng, int fresh_fit, double *u)
{
    gp *g = &bo->g;
    size_t d = bo->d;
    if (bo->p.acq != KZ_ACQ_HEDGE) {
        acq_setup a = setup_for(bo, bo->p.acq);
        (void)acq_maximise(g, &a, bo->space, rng, b->u_inc, g->z, g->n, u);
        return;
    }
    if (fresh_fit && bo->has_hedge_prev) {
        for (size_t k = 0; k < BO_N_HEDGE; k++) {
            double mu, var;
            gp_predict(g, &bo->hedge_prev[k * d], &mu, &var, NULL, NULL);
            bo->gains[k] -= mu;
        }
    }
    static const kz_acq_kind kinds[BO_N_HEDGE] = {KZ_ACQ_EI, KZ_ACQ_PI, KZ_ACQ_LCB};
    double gmax = -INFINITY, prob[BO_N_HEDGE], total = 0.0;
    for (size_t k = 0; k < BO_N_HEDGE; k++) {
        acq_setup a = setup_for(bo, kinds[k]);
        (void)acq_maximise(g, &a, bo->space, rng, b->u_inc, g->z, g->n, &b->tmp[k * d]);
        gmax = fmax(gmax, bo->p.hedge_eta * bo->gains[k]);
    }
    for (size_t k = 0; k < BO_N_HEDGE; k++) {
        prob[k] = exp(bo->p.hedge_eta * bo->gains[k] - gmax);
        total += prob[k];
    }
    double r = kz_rng_uniform(rng) * total;
    size_t pick = BO_N_HEDGE - 1;
    for (size_t k = 0; k < BO_N_HEDGE; k++) {
        if (r < prob[k]) {
            pick = k;
            break;
        }
        r -= prob[k];
    }
    memcpy(bo->hedge_prev, b->tmp, BO_N_HEDGE * d * sizeof *b->tmp);
    bo->has_hedge_prev = 1;
    memcpy(u, &b->tmp[pick * d], d * sizeof *u);
}

kz_status kz_bo_suggest(kz_bo *bo, size_t q, double *x)
{
    if (!bo || !x || q == 0) {
        if (bo) {
            snprintf(bo->errmsg, sizeof bo->errmsg, "suggest: q must be >= 1 and x not NULL");
        }
        return KZ_ERR_INVALID;
    }
    size_t d = bo->d, n_max = bo->n + bo->n_pend + q;
    batch b;
    memset(&b, 0, sizeof b);
    b.z = kz_malloc_array(n_max, d * sizeof(double));
    b.y = kz_malloc_array(n_max, sizeof(double));
    b.u_inc = kz_malloc_array(d, (2 + BO_N_HEDGE) * sizeof(double));
    if (!b.z || !b.y || !b.u_inc) {
        kz_free(b.z);
        kz_free(b.y);
        kz_free(b.u_inc);
        snprintf(bo->errmsg, sizeof bo->errmsg, "suggest: out of memory");
        return KZ_ERR_NOMEM;
    }
    double *u = b.u_inc + d;
    b.tmp = u + d;
    kz_rng rng;
    kz_rng_seed3(&rng, bo->p.seed, (uint64_t)bo->n_batches, 1);
    kz_status st = KZ_OK;
    int model_ok = -1; /* unknown until the first model point of the batch */
    for (size_t j = 0; j < q && st == KZ_OK; j++) {
        double t0 = kz_monotonic_s();
        double *xj = &x[j * d];
        kz_bo_source src;
        if (bo->n_asked < bo->p.n_initial) {
            memcpy(xj, &bo->init[bo->n_asked * d], d * sizeof *xj);
            src = KZ_BO_SRC_INITIAL;
        } else {
            int fresh = !b.fitted;
            if (model_ok != 0) {
                model_ok = prepare_model(bo, &b, &rng) == 0;
            } else {
                model_ok = 0; /* the GP failed earlier in this batch: stay on the fallback */
            }
            if (model_ok) {
                model_point(bo, &b, &rng, fresh, u);
                space_from_unit(bo->space, u, xj);
                src = KZ_BO_SRC_MODEL;
            } else {
                for (size_t k = 0; k < d; k++) {
                    u[k] = kz_rng_uniform(&rng);
                }
                space_from_cube(bo->space, u, xj);
                src = KZ_BO_SRC_FALLBACK;
                bo->n_fallback++;
            }
        }
        st = push_pending(bo, xj, kz_monotonic_s() - t0, src);
        bo->n_asked++;
    }
    bo->n_batches++;
    kz_free(b.z);
    kz_free(b.y);
    kz_free(b.u_inc);
    if (st != KZ_OK) {
        snprintf(bo->errmsg, sizeof bo->errmsg, "suggest: out of memory");
    }
    return st;
}

kz_status kz_bo_minimize(kz_bo *bo, kz_bo_objective f, void *ud, size_t n_evals, size_t q)
{
    if (!bo || !f || q == 0) {
        return KZ_ERR_INVALID;
    }
    double *xb = kz_malloc_array(q, bo->d * sizeof(double));
    if (!xb) {
        return KZ_ERR_NOMEM;
    }
    kz_status st = KZ_OK;
    while (st == KZ_OK && bo->n < n_evals) {
        size_t qq = n_evals - bo->n < q ? n_evals - bo->n : q;
        st = kz_bo_suggest(bo, qq, xb);
        for (size_t j = 0; j < qq && st == KZ_OK; j++) {
            double y = NAN, t0 = kz_monotonic_s();
            if (f(&xb[j * bo->d], ud, &y) != 0) {
                y = NAN;
            }
            st = kz_bo_observe(bo, &xb[j * bo->d], y, kz_monotonic_s() - t0);
        }
    }
    kz_free(xb);
    return st;
}

/* ---------------------------------------------------------------- results */
size_t kz_bo_n_evals(const kz_bo *bo)
{
    return bo ? bo->n : 0;
}

kz_status kz_bo_eval_get(const kz_bo *bo, size_t i, kz_bo_eval *out)
{
    if (!bo || !out) {
        return KZ_ERR_INVALID;
    }
    if (i >= bo->n) {
        return KZ_ERR_RANGE;
    }
    const bo_rec *r = &bo->recs[i];
    out->iteration = i;
    out->x = &bo->xs[i * bo->d];
    out->y = r->y;
    out->failed = r->failed;
    out->eval_s = r->eval_s;
    out->suggest_s = r->suggest_s;
    out->best_y = r->best_y;
    out->source = r->source;
    return KZ_OK;
}

void kz_bo_summary_get(const kz_bo *bo, kz_bo_summary *out)
{
    memset(out, 0, sizeof *out);
    out->fallback_reason = "";
    if (!bo) {
        return;
    }
    out->n_evals = bo->n;
    out->n_fallback = bo->n_fallback;
    out->seed = bo->p.seed;
    out->fallback_reason = bo->fallback_reason;
    out->best_y = NAN;
    for (size_t i = 0; i < bo->n; i++) {
        if (bo->recs[i].failed) {
            out->n_failed++;
        } else if (!out->has_best || bo->recs[i].y < out->best_y) {
            out->has_best = 1;
            out->best_y = bo->recs[i].y;
            out->best_iteration = i;
        }
    }
    out->best_x = out->has_best ? &bo->xs[out->best_iteration * bo->d] : NULL;
}

kz_status kz_bo_gp_theta(const kz_bo *bo, double *theta)
{
    if (!bo || !theta) {
        return KZ_ERR_INVALID;
    }
    if (!bo->has_theta) {
        return KZ_ERR_NOT_FOUND;
    }
    memcpy(theta, bo->theta, (bo->d + 2) * sizeof *theta);
    return KZ_OK;
}
