/* Hyper-parameter tuning: a GP Bayesian optimiser (kizashi/optim.h) over SPEC §5's ML space,
 * minimising the validation (or walk-forward) mlogloss computed on the bars before the test
 * segment.
 *
 * DESIGN: the whole market's split is computed exactly as kz_model_train does; the objective then
 * sees a prefix view of the market, bars [0, split.test_begin), so no feature, label, scaler or
 * early-stopping decision can depend on a test bar. For the validation objective, features and
 * labels of the prefix are computed once and every evaluation trains on the same rows: causal
 * features and labels (prefix stability) make the tuned score equal to the final model's
 * validation mlogloss when the purge is >= h. Ask/tell loop (not kz_bo_minimize) so progress can
 * cancel between evaluations. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kizashi/core.h"

#include "model_int.h"

static const char *const OBJECTIVE_NAMES[KZ_TUNE_OBJECTIVE_COUNT] = {"valid", "walkforward"};

/* SPEC §5 (BayesianOptimizer, model_type "lightgbm"): the space's order is KZ_TUNE_N_DIMS's. */
static const char *const DIM_NAMES[KZ_TUNE_N_DIMS] = {
    "num_leaves", "learning_rate", "feature_fraction", "bagging_fraction", "min_data_in_leaf"};

const char *kz_tune_objective_str(kz_tune_objective o)
{
    return (o >= 0 && o < KZ_TUNE_OBJECTIVE_COUNT) ? OBJECTIVE_NAMES[o] : "?";
}

kz_status kz_tune_objective_parse(const char *s, kz_tune_objective *out)
{
    for (int i = 0; s && out && i < KZ_TUNE_OBJECTIVE_COUNT; i++) {
        if (strcasecmp(s, OBJECTIVE_NAMES[i]) == 0) {
            *out = (kz_tune_objective)i;
            return KZ_OK;
        }
    }
    return KZ_ERR_INVALID;
}

kz_tune_params kz_tune_params_default(void)
{
    kz_tune_params p;
    memset(&p, 0, sizeof p);
    p.n_calls = 30;
    p.objective = KZ_TUNE_VALID;
    p.wf = kz_walkforward_params_default();
    p.bo = kz_bo_params_default();
    return p;
}

kz_status kz_model_tune_space(kz_space **out, kz_error *err)
{
    if (!out) {
        return model_fail(err, KZ_ERR_INVALID, "out", "NULL output pointer");
    }
    kz_space *s = NULL;
    kz_status st = kz_space_new(&s);
    if (st != KZ_OK) {
        *out = NULL;
        return model_fail(err, st, "", "out of memory");
    }
    if ((st = kz_space_add_int(s, DIM_NAMES[0], 10, 100, err)) != KZ_OK ||
        (st = kz_space_add_real(s, DIM_NAMES[1], 0.01, 0.3, 1, err)) != KZ_OK ||
        (st = kz_space_add_real(s, DIM_NAMES[2], 0.5, 1.0, 0, err)) != KZ_OK ||
        (st = kz_space_add_real(s, DIM_NAMES[3], 0.5, 1.0, 0, err)) != KZ_OK ||
        (st = kz_space_add_int(s, DIM_NAMES[4], 5, 50, err)) != KZ_OK) {
        kz_space_free(s);
        s = NULL;
    }
    *out = s;
    return st;
}

void kz_model_tune_apply(const double *x, kz_booster_params *bp)
{
    bp->num_leaves = (int)lround(x[0]);
    bp->learning_rate = x[1];
    bp->feature_fraction = x[2];
    bp->bagging_fraction = x[3];
    bp->min_data_in_leaf = (double)lround(x[4]);
}

/* What one evaluation needs: the prefix market, the base params and, for the validation
 * objective, the prefix's frame, labels and split (computed once). */
typedef struct tune_ctx {
    kz_market prefix; /* shallow view of the caller's market: never freed */
    const kz_train_params *base;
    const kz_tune_params *tp;
    kz_frame *X;
    float *y;
    kz_split split; /* train/valid rows; the test segment is empty */
    kz_error last;  /* the last failed evaluation's detail */
} tune_ctx;

/* The market's first n bars (views of its arrays) and the funding settlements before bar n. */
static kz_market prefix_view(const kz_market *m, size_t n)
{
    kz_market v = *m;
    v.bars.n = n;
    v.bars.cap = n;
    size_t k = 0;
    while (n < m->bars.n && k < m->funding_raw.n && m->funding_raw.ts_ms[k] < m->bars.ts_ms[n]) {
        k++;
    }
    v.funding_raw.n = k;
    v.funding_raw.cap = k;
    return v;
}

/* Features and labels of the prefix, and the split with an empty test segment at its end. */
static kz_status prepare_valid(tune_ctx *c, const kz_split *full, kz_error *err)
{
    const kz_train_params *p = c->base;
    size_t n = c->prefix.bars.n;
    kz_frame *f = NULL;
    kz_status s = kz_features_compute(&c->prefix, &p->features, &f, NULL, err);
    if (s != KZ_OK) {
        return s;
    }
    s = kz_model_select_features(f, &c->prefix, p->all_features, &c->X, err);
    kz_frame_free(f);
    if (s != KZ_OK) {
        return s;
    }
    if (!(c->y = kz_malloc_array(n, sizeof *c->y))) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    /* Quantile thresholds are fitted on the training rows, as kz_model_train does. */
    if ((s = kz_labels_compute(c->prefix.bars.close, n, &p->label, full->train_end, c->y, NULL,
                               err)) != KZ_OK) {
        return s;
    }
    c->split = *full;
    c->split.test_begin = n;
    c->split.test_end = n;
    return KZ_OK;
}

/* The objective at booster bp: 0 and *score, or the status (detail in c->last). */
static kz_status evaluate(tune_ctx *c, const kz_booster_params *bp, double *score)
{
    kz_error_clear(&c->last);
    if (c->tp->objective == KZ_TUNE_WALKFORWARD) {
        kz_train_params p = *c->base;
        p.booster = *bp;
        p.progress = NULL;
        p.want_train_loss = 0;
        kz_wf_result *r = kz_malloc(sizeof *r);
        if (!r) {
            return model_fail(&c->last, KZ_ERR_NOMEM, "", "out of memory");
        }
        kz_status s = kz_walkforward(&c->prefix, &p, &c->tp->wf, r, &c->last);
        *score = r->mean[3]; /* mean fold mlogloss (kz_wf_result's order) */
        kz_free(r);
        return s;
    }
    kz_model *m = NULL;
    kz_status s = kz_model_train_frame(c->X, c->y, &c->split, bp, NULL, NULL, 0, &m, &c->last);
    if (s == KZ_OK) {
        *score = kz_model_valid_loss(m);
    }
    kz_model_free(m);
    return s;
}

static kz_status check_params(const kz_tune_params *tp, const kz_train_params *base, kz_error *err)
{
    if (tp->n_calls < 1 || tp->n_calls > 100000) {
        return model_fail(err, KZ_ERR_INVALID, "n_calls", "must be in 1..100000, not %zu",
                          tp->n_calls);
    }
    if (tp->objective < 0 || tp->objective >= KZ_TUNE_OBJECTIVE_COUNT) {
        return model_fail(err, KZ_ERR_INVALID, "objective", "unknown objective %d",
                          (int)tp->objective);
    }
    kz_status s = kz_bo_params_check(&tp->bo, err);
    if (s == KZ_OK) {
        s = kz_label_params_check(&base->label, err);
    }
    if (s == KZ_OK) {
        s = kz_booster_params_check(&base->booster, err);
    }
    return s;
}

/* The optimiser's ask/tell loop; fills out's counters and best. */
static kz_status run_loop(tune_ctx *c, kz_bo *bo, kz_tune_result *out, kz_error *err)
{
    const kz_tune_params *tp = c->tp;
    double x[KZ_TUNE_N_DIMS];
    kz_status s = KZ_OK;
    while (kz_bo_n_evals(bo) < tp->n_calls) {
        double t0 = kz_monotonic_s();
        if ((s = kz_bo_suggest(bo, 1, x)) != KZ_OK) {
            return model_fail(err, s, "bo", "%s", kz_bo_errmsg(bo));
        }
        kz_booster_params bp = c->base->booster;
        kz_model_tune_apply(x, &bp);
        double score = NAN;
        kz_status es = evaluate(c, &bp, &score);
        if (es == KZ_ERR_NOMEM) {
            return model_fail(err, es, "", "out of memory");
        }
        if (es != KZ_OK || !isfinite(score)) {
            score = NAN;
            out->n_failed++;
        }
        if ((s = kz_bo_observe(bo, x, score, kz_monotonic_s() - t0)) != KZ_OK) {
            return model_fail(err, s, "bo", "%s", kz_bo_errmsg(bo));
        }
        size_t it = kz_bo_n_evals(bo) - 1;
        if (isfinite(score) && !(score >= out->best_score)) {
            out->best_score = score;
            out->best_iteration = it;
            out->best = bp;
        }
        out->n_evals = it + 1;
        if (tp->progress &&
            tp->progress(it, tp->n_calls, &bp, score,
                         isfinite(out->best_score) ? out->best_score : NAN, tp->progress_ud)) {
            return model_fail(err, KZ_ERR_CANCELLED, "", "tuning stopped after %zu evaluations",
                              it + 1);
        }
    }
    if (!isfinite(out->best_score)) {
        out->best_score = NAN;
        if (c->last.msg[0] && err) {
            *err = c->last;
            err->code = KZ_ERR_RANGE;
            return KZ_ERR_RANGE;
        }
        return model_fail(err, KZ_ERR_RANGE, "n_calls", "no evaluation succeeded");
    }
    return KZ_OK;
}

kz_status kz_model_tune(const kz_market *m,
                        const kz_train_params *base,
                        const kz_tune_params *tp,
                        kz_tune_result *out,
                        kz_bo **bo_out,
                        kz_error *err)
{
    if (bo_out) {
        *bo_out = NULL;
    }
    if (!m || !out) {
        return model_fail(err, KZ_ERR_INVALID, "market", "NULL argument");
    }
    kz_train_params dbase = kz_train_params_default();
    kz_tune_params dtp = kz_tune_params_default();
    base = base ? base : &dbase;
    tp = tp ? tp : &dtp;
    memset(out, 0, sizeof *out);
    out->best_score = INFINITY;
    kz_status s = check_params(tp, base, err);
    if (s != KZ_OK) {
        return s;
    }
    size_t n = m->bars.n, h = (size_t)base->label.horizon;
    if (n <= h) {
        return model_fail(err, KZ_ERR_RANGE, "bars", "%zu bars cannot carry %zu-bar labels", n, h);
    }
    kz_split full;
    if ((s = kz_split_compute(n - h, base->label.horizon, &base->split, &full, err)) != KZ_OK) {
        return s;
    }
    tune_ctx c;
    memset(&c, 0, sizeof c);
    c.base = base;
    c.tp = tp;
    c.prefix = prefix_view(m, full.test_begin);
    out->objective = tp->objective;
    out->seed = tp->bo.seed;
    out->split = full;
    out->n_bars_seen = full.test_begin;
    out->best = base->booster;
    kz_space *space = NULL;
    kz_bo *bo = NULL;
    if ((s = kz_model_tune_space(&space, err)) != KZ_OK ||
        (s = kz_bo_new(space, &tp->bo, &bo, err)) != KZ_OK) {
        goto done;
    }
    if (tp->objective == KZ_TUNE_VALID && (s = prepare_valid(&c, &full, err)) != KZ_OK) {
        goto done;
    }
    s = run_loop(&c, bo, out, err);
done:
    kz_space_free(space);
    kz_frame_free(c.X);
    kz_free(c.y);
    if (bo_out && (s == KZ_OK || s == KZ_ERR_CANCELLED || s == KZ_ERR_RANGE)) {
        *bo_out = bo;
    } else {
        kz_bo_free(bo);
    }
    return s;
}

kz_status kz_tune_result_to_json(const kz_tune_result *r, char **json)
{
    if (!r || !json) {
        return KZ_ERR_INVALID;
    }
    *json = NULL;
    const kz_booster_params *b = &r->best;
    const double vals[KZ_TUNE_N_DIMS] = {(double)b->num_leaves, b->learning_rate,
                                         b->feature_fraction, b->bagging_fraction,
                                         b->min_data_in_leaf};
    const char *const skeys[6] = {"train_begin", "train_end",  "valid_begin",
                                  "valid_end",   "test_begin", "test_end"};
    const size_t svals[6] = {r->split.train_begin, r->split.train_end,  r->split.valid_begin,
                             r->split.valid_end,   r->split.test_begin, r->split.test_end};
    cJSON *o = cJSON_CreateObject();
    cJSON *params = o ? cJSON_AddObjectToObject(o, "params") : NULL;
    cJSON *split = o ? cJSON_AddObjectToObject(o, "split") : NULL;
    if (!params || !split) {
        cJSON_Delete(o);
        return KZ_ERR_NOMEM;
    }
    for (int j = 0; j < KZ_TUNE_N_DIMS; j++) {
        cJSON_AddNumberToObject(params, DIM_NAMES[j], vals[j]);
    }
    for (int k = 0; k < 6; k++) {
        cJSON_AddNumberToObject(split, skeys[k], (double)svals[k]);
    }
    cJSON_AddStringToObject(o, "objective", kz_tune_objective_str(r->objective));
    cJSON_AddNumberToObject(o, "score_mlogloss", r->best_score);
    cJSON_AddNumberToObject(o, "best_iteration", (double)r->best_iteration);
    cJSON_AddNumberToObject(o, "n_evals", (double)r->n_evals);
    cJSON_AddNumberToObject(o, "n_failed", (double)r->n_failed);
    cJSON_AddNumberToObject(o, "seed", (double)r->seed);
    cJSON_AddNumberToObject(o, "n_bars_seen", (double)r->n_bars_seen);
    return model_json_text(o, 1, json);
}
