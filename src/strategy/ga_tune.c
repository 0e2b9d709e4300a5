/* Tuning the GA's settings: a GP Bayesian optimiser (kizashi/optim.h) over SPEC §5's GA space,
 * maximising the out-of-sample fitness of GA runs on a tuning window (docs/optim.md).
 *
 * DESIGN: three windows of the set's n bars, IS | gap | tuning window | gap | holdout. The tuner
 * builds its own column set over a market view of bars [0, tune_end) (external columns such as
 * the ML probabilities copied in, their first tune_end values), so no GA run it starts can read a
 * holdout bar, not even for the top-K's full-period backtests. Each evaluation is one
 * kz_ga_run_window on that set with IS = [0, is_end) and OOS = the tuning window; the score is
 * the fitness (the GA's own formula, kz_ga_fitness) of the run's best IS strategy on the tuning
 * window; the optimiser minimises its negative. Ask/tell loop (not kz_bo_minimize) so progress
 * can cancel between evaluations, as src/model/tune.c. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/ga_int.h"
#include "strategy/strategy_int.h"

/* SPEC §5's GA space, in KZ_GA_TUNE_N_DIMS order. */
static const char *const DIM_NAMES[KZ_GA_TUNE_N_DIMS] = {
    "population", "generations", "crossover_rate", "mutation_rate", "sharing_radius"};
static const double REAL_LO[3] = {0.5, 0.01, 0.05};
static const double REAL_HI[3] = {0.9, 0.3, 0.3};

kz_ga_tune_params kz_ga_tune_params_default(void)
{
    kz_ga_tune_params p;
    memset(&p, 0, sizeof p);
    p.n_calls = 50;
    p.tune_fraction = 0.2;
    p.holdout_fraction = 0.2;
    p.population_min = 20;
    p.population_max = 100;
    p.generations_min = 10;
    p.generations_max = 50;
    p.bo = kz_bo_params_default();
    return p;
}

static kz_status check_tune(const kz_ga_tune_params *tp, kz_error *err)
{
    if (tp->n_calls < 1 || tp->n_calls > 100000) {
        return kz_bt_err(err, KZ_ERR_INVALID, "n_calls", "must be in 1..100000, not %zu",
                         tp->n_calls);
    }
    if (!(tp->tune_fraction > 0 && tp->holdout_fraction > 0 &&
          tp->tune_fraction + tp->holdout_fraction <= 0.8)) {
        return kz_bt_err(err, KZ_ERR_INVALID, "tune_fraction",
                         "tuning (%g) and holdout (%g) fractions must be > 0 and sum to <= 0.8",
                         tp->tune_fraction, tp->holdout_fraction);
    }
    if (tp->population_min < 2 || tp->population_max > 100000 ||
        tp->population_min > tp->population_max) {
        return kz_bt_err(err, KZ_ERR_INVALID, "population_min",
                         "population range %d..%d is not within 2..100000", tp->population_min,
                         tp->population_max);
    }
    if (tp->generations_min < 0 || tp->generations_max > 100000 ||
        tp->generations_min > tp->generations_max) {
        return kz_bt_err(err, KZ_ERR_INVALID, "generations_min",
                         "generations range %d..%d is not within 0..100000", tp->generations_min,
                         tp->generations_max);
    }
    return kz_bo_params_check(&tp->bo, err);
}

kz_status kz_ga_tune_space(const kz_ga_tune_params *tp, kz_space **out, kz_error *err)
{
    if (!out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "out", "NULL output pointer");
    }
    *out = NULL;
    kz_ga_tune_params def = kz_ga_tune_params_default();
    tp = tp ? tp : &def;
    kz_status st = check_tune(tp, err);
    kz_space *s = NULL;
    if (st != KZ_OK) {
        return st;
    }
    if ((st = kz_space_new(&s)) != KZ_OK) {
        return kz_bt_err(err, st, NULL, "out of memory");
    }
    st = kz_space_add_int(s, DIM_NAMES[0], tp->population_min, tp->population_max, err);
    if (st == KZ_OK) {
        st = kz_space_add_int(s, DIM_NAMES[1], tp->generations_min, tp->generations_max, err);
    }
    for (int k = 0; k < 3 && st == KZ_OK; k++) {
        st = kz_space_add_real(s, DIM_NAMES[2 + k], REAL_LO[k], REAL_HI[k], 0, err);
    }
    if (st != KZ_OK) {
        kz_space_free(s);
        return st;
    }
    *out = s;
    return KZ_OK;
}

void kz_ga_tune_apply(const double *x, kz_ga_params *p)
{
    p->population = (int)lround(x[0]);
    p->generations = (int)lround(x[1]);
    p->crossover_rate = x[2];
    p->mutation_rate = x[3];
    p->sharing_radius = x[4];
    p->sharing = 1;
    /* the base elite may exceed a small tuned population; half of it still leaves room to breed */
    if (p->elite > p->population / 2) {
        p->elite = p->population / 2;
    }
}

/* The three windows of n bars (see the header); KZ_ERR_INVALID when one is under 10 bars. */
static kz_status windows(size_t n,
                         const kz_ga_params *base,
                         const kz_ga_tune_params *tp,
                         kz_ga_tune_result *r,
                         kz_error *err)
{
    size_t hold = (size_t)floor((double)n * tp->holdout_fraction);
    size_t tune = (size_t)floor((double)n * tp->tune_fraction);
    size_t gap = kz_ga_gap(n, base);
    if (hold < 10 || tune < 10 || hold + tune + 2 * gap + 10 > n) {
        return kz_bt_err(err, KZ_ERR_INVALID, "tune_fraction",
                         "%zu bars cannot hold an in-sample window, a %zu-bar tuning window and a "
                         "%zu-bar holdout with gaps of %zu (at least 10 bars each)",
                         n, tune, hold, gap);
    }
    r->n_bars = n;
    r->gap = gap;
    r->holdout_begin = n - hold;
    r->tune_end = r->holdout_begin - gap;
    r->tune_begin = r->tune_end - tune;
    r->is_end = r->tune_begin - gap;
    r->n_bars_seen = r->tune_end;
    return KZ_OK;
}

/* The tuner's column set over bars [0, n_p) of cs's market: the market columns of the view plus
 * copies of every other column of cs (external ones, e.g. ML; computed ones are causal, so their
 * prefix equals what the view would compute). */
static kz_status
prefix_set(const kz_colset *cs, size_t n_p, kz_market *view, kz_colset **out, kz_error *err)
{
    kz_ga_market_view(kz_colset_market(cs), 0, n_p, view);
    kz_status st = kz_colset_new(view, out, err);
    for (size_t i = 0; st == KZ_OK && i < kz_colset_count(cs); i++) {
        const char *name = kz_colset_name(cs, i);
        if (kz_colset_find(*out, name) < 0) {
            st = kz_colset_add(*out, name, kz_colset_data(cs, i), 1, err);
        }
    }
    if (st != KZ_OK) {
        kz_colset_free(*out);
        *out = NULL;
    }
    return st;
}

typedef struct tune_ctx {
    const kz_colset *prefix;
    const kz_ga_params *base;
    const kz_ga_tune_params *tp;
    size_t win[4];
    kz_error last; /* the last failed evaluation's detail */
} tune_ctx;

/* One GA run with settings p: *fitness = its best IS strategy's fitness on the tuning window. */
static kz_status evaluate(tune_ctx *c, const kz_ga_params *p, double *fitness)
{
    kz_error_clear(&c->last);
    kz_status st = kz_ga_params_check(p, &c->last);
    if (st != KZ_OK) {
        return st;
    }
    kz_ga_result r;
    memset(&r, 0, sizeof r);
    st = kz_ga_run_window(c->prefix, p, c->win, 0, "ga-tune", &r, NULL, &c->last);
    if (st == KZ_OK) {
        if (r.n_top > 0) {
            *fitness = kz_ga_fitness(&r.top[0].oos, p);
        } else {
            st = kz_bt_err(&c->last, KZ_ERR_RANGE, "top_k", "the run reported no strategy");
        }
    }
    kz_ga_result_free(&r);
    return st;
}

/* The settings of point x: base with x applied, no callbacks. */
static kz_ga_params point_params(const kz_ga_params *base, const double *x)
{
    kz_ga_params p = *base;
    kz_ga_tune_apply(x, &p);
    p.progress = NULL;
    p.progress_ud = NULL;
    p.stop = NULL;
    return p;
}

static kz_status run_loop(tune_ctx *c, kz_bo *bo, kz_ga_tune_result *out, kz_error *err)
{
    const kz_ga_tune_params *tp = c->tp;
    double x[KZ_GA_TUNE_N_DIMS];
    kz_status s;
    while (kz_bo_n_evals(bo) < tp->n_calls) {
        double t0 = kz_monotonic_s();
        if ((s = kz_bo_suggest(bo, 1, x)) != KZ_OK) {
            return kz_bt_err(err, s, "bo", "%s", kz_bo_errmsg(bo));
        }
        kz_ga_params p = point_params(c->base, x);
        double fit = NAN;
        kz_status es = evaluate(c, &p, &fit);
        if (es == KZ_ERR_NOMEM) {
            return kz_bt_err(err, es, NULL, "out of memory");
        }
        if (es != KZ_OK || !isfinite(fit)) {
            fit = NAN;
            out->n_failed++;
        }
        /* the optimiser minimises: the negative fitness (NaN stays a failure) */
        if ((s = kz_bo_observe(bo, x, -fit, kz_monotonic_s() - t0)) != KZ_OK) {
            return kz_bt_err(err, s, "bo", "%s", kz_bo_errmsg(bo));
        }
        size_t it = kz_bo_n_evals(bo) - 1;
        if (isfinite(fit) && !(fit <= out->best_fitness)) {
            out->best_fitness = fit;
            out->best_iteration = it;
            out->best = p;
            memcpy(out->best_x, x, sizeof x);
        }
        out->n_evals = it + 1;
        if (tp->progress &&
            tp->progress(it, tp->n_calls, &p, fit,
                         isfinite(out->best_fitness) ? out->best_fitness : NAN, tp->progress_ud)) {
            return kz_bt_err(err, KZ_ERR_CANCELLED, NULL, "tuning stopped after %zu evaluations",
                             it + 1);
        }
    }
    if (!isfinite(out->best_fitness)) {
        out->best_fitness = NAN;
        if (c->last.msg[0] && err) {
            *err = c->last;
            err->code = KZ_ERR_RANGE;
            return KZ_ERR_RANGE;
        }
        return kz_bt_err(err, KZ_ERR_RANGE, "n_calls", "no evaluation succeeded");
    }
    return KZ_OK;
}

kz_status kz_ga_tune(const kz_colset *cs,
                     const kz_ga_params *base,
                     const kz_ga_tune_params *tp,
                     kz_ga_tune_result *out,
                     kz_bo **bo_out,
                     kz_error *err)
{
    if (bo_out) {
        *bo_out = NULL;
    }
    if (!cs || !out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "colset", "NULL argument");
    }
    kz_ga_params dbase = kz_ga_params_default();
    kz_ga_tune_params dtp = kz_ga_tune_params_default();
    base = base ? base : &dbase;
    tp = tp ? tp : &dtp;
    memset(out, 0, sizeof *out);
    out->best_fitness = -INFINITY;
    out->seed = tp->bo.seed;
    out->best = *base;
    out->best.progress = NULL;
    out->best.progress_ud = NULL;
    out->best.stop = NULL;
    kz_status s = check_tune(tp, err);
    if (s == KZ_OK) {
        s = kz_ga_params_check(base, err);
    }
    if (s == KZ_OK) {
        s = windows(kz_colset_n_bars(cs), base, tp, out, err);
    }
    if (s != KZ_OK) {
        return s;
    }
    tune_ctx c;
    memset(&c, 0, sizeof c);
    c.base = base;
    c.tp = tp;
    c.win[0] = 0;
    c.win[1] = out->is_end;
    c.win[2] = out->tune_begin;
    c.win[3] = out->tune_end;
    kz_market view;
    kz_colset *prefix = NULL;
    kz_space *space = NULL;
    kz_bo *bo = NULL;
    if ((s = prefix_set(cs, out->tune_end, &view, &prefix, err)) != KZ_OK ||
        (s = kz_ga_tune_space(tp, &space, err)) != KZ_OK ||
        (s = kz_bo_new(space, &tp->bo, &bo, err)) != KZ_OK) {
        goto done;
    }
    c.prefix = prefix;
    s = run_loop(&c, bo, out, err);
done:
    kz_space_free(space);
    kz_colset_free(prefix);
    if (bo_out && (s == KZ_OK || s == KZ_ERR_CANCELLED || s == KZ_ERR_RANGE)) {
        *bo_out = bo;
    } else {
        kz_bo_free(bo);
    }
    return s;
}

kz_status
kz_ga_tune_final(const kz_colset *cs, const kz_ga_tune_result *r, kz_ga_result *out, kz_error *err)
{
    if (!out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "out", "NULL output");
    }
    memset(out, 0, sizeof *out);
    if (!cs || !r) {
        return kz_bt_err(err, KZ_ERR_INVALID, "colset", "NULL argument");
    }
    size_t n = kz_colset_n_bars(cs);
    if (n != r->n_bars || r->holdout_begin < r->gap + 10 || r->holdout_begin + 10 > n) {
        return kz_bt_err(err, KZ_ERR_INVALID, "n_bars",
                         "the set has %zu bars, the tuning result's windows are for %zu", n,
                         r->n_bars);
    }
    kz_status st = kz_ga_params_check(&r->best, err);
    if (st != KZ_OK) {
        return st;
    }
    const size_t win[4] = {0, r->holdout_begin - r->gap, r->holdout_begin, n};
    char tag[32];
    snprintf(tag, sizeof tag, "ga-%llu", (unsigned long long)r->best.seed);
    return kz_ga_run_window(cs, &r->best, win, 0, tag, out, NULL, err);
}

kz_status kz_ga_tune_result_to_json(const kz_ga_tune_result *r, char **json)
{
    if (!r || !json) {
        return KZ_ERR_INVALID;
    }
    *json = NULL;
    const char *const wkeys[7] = {"n_bars",   "gap",           "is_end",     "tune_begin",
                                  "tune_end", "holdout_begin", "n_bars_seen"};
    const size_t wvals[7] = {r->n_bars,   r->gap,           r->is_end,     r->tune_begin,
                             r->tune_end, r->holdout_begin, r->n_bars_seen};
    cJSON *o = cJSON_CreateObject();
    cJSON *params = o ? cJSON_AddObjectToObject(o, "params") : NULL;
    cJSON *win = o ? cJSON_AddObjectToObject(o, "windows") : NULL;
    if (!params || !win) {
        cJSON_Delete(o);
        return KZ_ERR_NOMEM;
    }
    for (int j = 0; j < KZ_GA_TUNE_N_DIMS; j++) {
        cJSON_AddNumberToObject(params, DIM_NAMES[j], r->best_x[j]);
    }
    cJSON_AddNumberToObject(params, "elite", r->best.elite);
    cJSON_AddStringToObject(params, "mode", kz_ga_mode_str(r->best.mode));
    for (int k = 0; k < 7; k++) {
        cJSON_AddNumberToObject(win, wkeys[k], (double)wvals[k]);
    }
    cJSON_AddNumberToObject(o, "tune_fitness", r->best_fitness);
    cJSON_AddNumberToObject(o, "best_iteration", (double)r->best_iteration);
    cJSON_AddNumberToObject(o, "n_evals", (double)r->n_evals);
    cJSON_AddNumberToObject(o, "n_failed", (double)r->n_failed);
    cJSON_AddNumberToObject(o, "seed", (double)r->seed);
    cJSON_AddNumberToObject(o, "ga_seed", (double)r->best.seed);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) {
        return KZ_ERR_NOMEM;
    }
    *json = kz_strdup(text);
    cJSON_free(text);
    return *json ? KZ_OK : KZ_ERR_NOMEM;
}
