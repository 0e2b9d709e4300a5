/* Training: a frame + labels + split -> scaler, XGBoost booster (early stopping on validation),
 * importance and test metrics; the whole market pipeline; walk-forward evaluation. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "model_int.h"

kz_train_params kz_train_params_default(void)
{
    kz_train_params p;
    memset(&p, 0, sizeof p);
    p.features = kz_feature_params_default();
    p.all_features = 0;
    p.label = kz_label_params_default();
    p.split = kz_split_params_default();
    p.booster = kz_booster_params_default();
    return p;
}

/* One segment's labelled rows as XGBoost input. */
typedef struct segment {
    size_t *idx;
    float *X;
    float *y;
    float *w;
    size_t n;
} segment;

static void segment_free(segment *s)
{
    kz_free(s->idx);
    kz_free(s->X);
    kz_free(s->y);
    kz_free(s->w);
    memset(s, 0, sizeof *s);
}

static kz_status segment_build(const kz_frame *X,
                               const float *y,
                               size_t begin,
                               size_t end,
                               const kz_model *m,
                               const char *name,
                               segment *s,
                               kz_error *err)
{
    memset(s, 0, sizeof *s);
    size_t len = end - begin;
    if (!(s->idx = kz_malloc_array(len ? len : 1, sizeof *s->idx))) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    s->n = model_labelled(y, begin, end, s->idx);
    if (s->n == 0) {
        return model_fail(err, KZ_ERR_RANGE, name, "the %s segment [%zu, %zu) has no labelled row",
                          name, begin, end);
    }
    if (!(s->y = kz_malloc_array(s->n, sizeof *s->y)) ||
        model_rows(X, s->idx, 0, s->n, m->mean, m->scale, &s->X) != KZ_OK) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < s->n; i++) {
        s->y[i] = y[s->idx[i]];
    }
    return KZ_OK;
}

/* Class shares of a segment, and balanced weights n / (3 n_c) when asked. */
static kz_status class_prior(segment *s, int balanced, double prior[KZ_N_CLASSES], kz_error *err)
{
    size_t cnt[KZ_N_CLASSES] = {0, 0, 0};
    for (size_t i = 0; i < s->n; i++) {
        if (!(s->y[i] == 0.0f || s->y[i] == 1.0f || s->y[i] == 2.0f)) {
            return model_fail(err, KZ_ERR_INVALID, "y", "row %zu: label %g is not 0, 1 or 2",
                              s->idx[i], (double)s->y[i]);
        }
        cnt[(int)s->y[i]]++;
    }
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        prior[c] = (double)cnt[c] / (double)s->n;
    }
    if (balanced) {
        if (!(s->w = kz_malloc_array(s->n, sizeof *s->w))) {
            return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
        }
        for (size_t i = 0; i < s->n; i++) {
            s->w[i] = (float)((double)s->n / (KZ_N_CLASSES * (double)cnt[(int)s->y[i]]));
        }
    }
    return KZ_OK;
}

static kz_status check_split(const kz_split *sp, size_t n)
{
    int ok = sp->train_begin < sp->train_end && sp->train_end <= sp->valid_begin &&
             sp->valid_begin < sp->valid_end && sp->valid_end <= sp->test_begin &&
             sp->test_begin <= sp->test_end && sp->test_end <= n;
    return ok ? KZ_OK : KZ_ERR_INVALID;
}

/* Test-segment metrics (no-op for an empty test segment). */
static kz_status test_metrics(kz_model *m,
                              const kz_frame *X,
                              const float *y,
                              const kz_split *sp,
                              const double prior[KZ_N_CLASSES],
                              kz_error *err)
{
    segment t;
    memset(&t, 0, sizeof t);
    size_t len = sp->test_end - sp->test_begin;
    if (len == 0) {
        return KZ_OK;
    }
    kz_status s = KZ_OK;
    double *prob = NULL;
    float *yt = NULL;
    if (!(t.idx = kz_malloc_array(len, sizeof *t.idx))) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    t.n = model_labelled(y, sp->test_begin, sp->test_end, t.idx);
    if (t.n == 0) {
        goto done;
    }
    prob = kz_malloc_array(t.n, KZ_N_CLASSES * sizeof *prob);
    yt = kz_malloc_array(t.n, sizeof *yt);
    if (!prob || !yt || model_rows(X, t.idx, 0, t.n, m->mean, m->scale, &t.X) != KZ_OK) {
        s = model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < t.n; i++) {
        yt[i] = y[t.idx[i]];
    }
    if ((s = xgb_predict(m->booster, t.X, t.n, m->n_features, prob, err)) == KZ_OK) {
        s = kz_metrics_compute(yt, prob, t.n, prior, &m->metrics, err);
    }
done:
    kz_free(prob);
    kz_free(yt);
    segment_free(&t);
    return s;
}

kz_status kz_model_train_frame(const kz_frame *X,
                               const float *y,
                               const kz_split *split,
                               const kz_booster_params *bp,
                               kz_train_progress_fn progress,
                               void *progress_ud,
                               int want_train_loss,
                               kz_model **out,
                               kz_error *err)
{
    if (!out) {
        return model_fail(err, KZ_ERR_INVALID, "out", "NULL output pointer");
    }
    *out = NULL;
    if (!X || !y || !split) {
        return model_fail(err, KZ_ERR_INVALID, "X", "NULL argument");
    }
    kz_booster_params defaults = kz_booster_params_default();
    bp = bp ? bp : &defaults;
    kz_status s = kz_booster_params_check(bp, err);
    if (s != KZ_OK) {
        return s;
    }
    size_t n = kz_frame_n_rows(X), p = kz_frame_n_cols(X);
    if (p == 0 || check_split(split, n) != KZ_OK) {
        return model_fail(err, KZ_ERR_INVALID, "split",
                          "need >= 1 column and ordered segments inside %zu rows", n);
    }
    double t0 = kz_monotonic_s();
    const char **names = kz_malloc_array(p, sizeof *names);
    if (!names) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    for (size_t j = 0; j < p; j++) {
        names[j] = kz_frame_name(X, j);
    }
    kz_model *m = NULL;
    s = model_alloc(p, names, &m);
    kz_free(names);
    if (s != KZ_OK) {
        return model_fail(err, s, "", "out of memory");
    }
    segment tr, va;
    memset(&tr, 0, sizeof tr);
    memset(&va, 0, sizeof va);
    double prior[KZ_N_CLASSES];
    xgb_train_out xo;
    /* The scaler sees the training rows only (SPEC §2.2: fit on the train part). */
    if ((s = kz_scaler_fit(X, split->train_begin, split->train_end, m->mean, m->scale)) != KZ_OK ||
        (s = segment_build(X, y, split->train_begin, split->train_end, m, "train", &tr, err)) !=
            KZ_OK ||
        (s = segment_build(X, y, split->valid_begin, split->valid_end, m, "valid", &va, err)) !=
            KZ_OK ||
        (s = class_prior(&tr, bp->balanced, prior, err)) != KZ_OK) {
        goto fail;
    }
    double vprior[KZ_N_CLASSES];
    if ((s = class_prior(&va, 0, vprior, err)) != KZ_OK) {
        goto fail;
    }
    xgb_data dtr = {tr.X, tr.y, tr.w, tr.n}, dva = {va.X, va.y, NULL, va.n};
    if ((s = xgb_train(&dtr, &dva, p, bp, progress, progress_ud, want_train_loss, &xo, err)) !=
        KZ_OK) {
        goto fail;
    }
    m->booster = xo.booster;
    if ((s = model_attach_forest(m, err)) != KZ_OK) {
        goto fail;
    }
    m->n_rounds = xo.best_round + 1;
    m->valid_loss = xo.best_valid_loss;
    m->bparams = *bp;
    m->split = *split;
    m->has_split = 1;
    xgb_version_str(m->xgb_version, sizeof m->xgb_version);
    if ((s = xgb_importance(m->booster, p, m->importance, err)) != KZ_OK ||
        (s = test_metrics(m, X, y, split, prior, err)) != KZ_OK) {
        goto fail;
    }
    if (kz_frame_n_rows(X) > 0) {
        m->first_ms = kz_frame_ts(X)[0];
        m->last_ms = kz_frame_ts(X)[n - 1];
        m->n_rows = n;
    }
    segment_free(&tr);
    segment_free(&va);
    m->train_seconds = kz_monotonic_s() - t0;
    *out = m;
    return KZ_OK;
fail:
    segment_free(&tr);
    segment_free(&va);
    kz_model_free(m);
    return s;
}

/* Features of a market selected for the model (default: no raw levels). */
static kz_status
model_inputs(const kz_market *mk, const kz_train_params *p, kz_frame **X, kz_error *err)
{
    kz_frame *f = NULL;
    kz_status s = kz_features_compute(mk, &p->features, &f, NULL, err);
    if (s != KZ_OK) {
        return s;
    }
    s = kz_model_select_features(f, mk, p->all_features, X, err);
    kz_frame_free(f);
    return s;
}

kz_status
kz_model_train(const kz_market *mk, const kz_train_params *p, kz_model **out, kz_error *err)
{
    if (!out) {
        return model_fail(err, KZ_ERR_INVALID, "out", "NULL output pointer");
    }
    *out = NULL;
    if (!mk) {
        return model_fail(err, KZ_ERR_INVALID, "market", "NULL market");
    }
    kz_train_params defaults = kz_train_params_default();
    p = p ? p : &defaults;
    kz_status s = kz_label_params_check(&p->label, err);
    if (s != KZ_OK) {
        return s;
    }
    size_t n = mk->bars.n, h = (size_t)p->label.horizon;
    if (n <= h) {
        return model_fail(err, KZ_ERR_RANGE, "bars", "%zu bars cannot carry %zu-bar labels", n, h);
    }
    kz_split sp;
    /* Only the first n - h rows can have a label: split those. */
    if ((s = kz_split_compute(n - h, p->label.horizon, &p->split, &sp, err)) != KZ_OK) {
        return s;
    }
    kz_frame *X = NULL;
    float *y = kz_malloc_array(n, sizeof *y);
    kz_label_report rep;
    kz_model *m = NULL;
    if (!y) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    if ((s = kz_labels_compute(mk->bars.close, n, &p->label, sp.train_end, y, &rep, err)) !=
            KZ_OK ||
        (s = model_inputs(mk, p, &X, err)) != KZ_OK ||
        (s = kz_model_train_frame(X, y, &sp, &p->booster, p->progress, p->progress_ud,
                                  p->want_train_loss, &m, err)) != KZ_OK) {
        goto done;
    }
    m->label = p->label;
    m->label_rep = rep;
    m->fparams = p->features;
    m->all_features = p->all_features;
    snprintf(m->exchange, sizeof m->exchange, "%s", mk->exchange);
    snprintf(m->symbol, sizeof m->symbol, "%s", mk->symbol);
    m->tf = mk->tf;
    *out = m;
done:
    kz_frame_free(X);
    kz_free(y);
    return s;
}

/* ---------------------------------------------------------------- walk-forward */
kz_walkforward_params kz_walkforward_params_default(void)
{
    kz_walkforward_params w;
    w.n_folds = 5;
    w.sliding = 0;
    w.min_train = 0.5;
    w.valid_frac = 0.15;
    w.purge = -1;
    w.embargo = 0;
    return w;
}

/* Fold i's split: test block i, the training window before it minus purge + embargo, its last
 * valid_frac share (after another purge) for early stopping. */
static kz_status
fold_split(size_t L, size_t gap, const kz_walkforward_params *w, int i, kz_split *sp)
{
    size_t t0 = (size_t)floor((double)L * w->min_train);
    size_t block = (L - t0) / (size_t)w->n_folds;
    if (t0 <= gap || block < 1) {
        return KZ_ERR_RANGE;
    }
    sp->test_begin = t0 + (size_t)i * block;
    sp->test_end = (i == w->n_folds - 1) ? L : sp->test_begin + block;
    size_t wend = sp->test_begin - gap;
    size_t first_len = t0 - gap;
    size_t wbeg = (w->sliding && wend > first_len) ? wend - first_len : 0;
    size_t n_valid = (size_t)floor((double)(wend - wbeg) * w->valid_frac);
    if (n_valid < 1 || wend - wbeg < n_valid + gap + 1) {
        return KZ_ERR_RANGE;
    }
    sp->valid_end = wend;
    sp->valid_begin = wend - n_valid;
    sp->train_begin = wbeg;
    sp->train_end = sp->valid_begin - gap;
    return KZ_OK;
}

static void wf_stats(kz_wf_result *r)
{
    for (int k = 0; k < 6; k++) {
        double sum = 0.0, sq = 0.0;
        for (int i = 0; i < r->n_folds; i++) {
            const kz_metrics *m = &r->folds[i].metrics;
            double v[6] = {m->accuracy, m->balanced_accuracy, m->macro_f1,
                           m->mlogloss, m->baseline_accuracy, m->baseline_mlogloss};
            sum += v[k];
            sq += v[k] * v[k];
        }
        double mean = sum / r->n_folds, var = sq / r->n_folds - mean * mean;
        r->mean[k] = mean;
        r->std[k] = var > 0.0 ? sqrt(var) : 0.0;
    }
}

kz_status kz_walkforward(const kz_market *mk,
                         const kz_train_params *p,
                         const kz_walkforward_params *w,
                         kz_wf_result *out,
                         kz_error *err)
{
    if (!mk || !out) {
        return model_fail(err, KZ_ERR_INVALID, "market", "NULL argument");
    }
    kz_train_params dp = kz_train_params_default();
    kz_walkforward_params dw = kz_walkforward_params_default();
    p = p ? p : &dp;
    w = w ? w : &dw;
    if (w->n_folds < 1 || w->n_folds > KZ_WF_MAX_FOLDS || !(w->min_train > 0.0) ||
        !(w->min_train < 1.0) || !(w->valid_frac > 0.0 && w->valid_frac < 1.0) || w->purge < -1 ||
        w->embargo < 0) {
        return model_fail(err, KZ_ERR_INVALID, "walkforward",
                          "need 1..%d folds, min_train and valid_frac in (0, 1), purge >= -1, "
                          "embargo >= 0",
                          KZ_WF_MAX_FOLDS);
    }
    kz_status s = kz_label_params_check(&p->label, err);
    if (s != KZ_OK) {
        return s;
    }
    size_t n = mk->bars.n, h = (size_t)p->label.horizon;
    if (n <= h) {
        return model_fail(err, KZ_ERR_RANGE, "bars", "%zu bars cannot carry %zu-bar labels", n, h);
    }
    size_t L = n - h,
           gap = (size_t)(w->purge < 0 ? p->label.horizon : w->purge) + (size_t)w->embargo;
    memset(out, 0, sizeof *out);
    kz_frame *X = NULL;
    float *y = kz_malloc_array(n, sizeof *y);
    if (!y) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    if ((s = model_inputs(mk, p, &X, err)) != KZ_OK) {
        goto done;
    }
    for (int i = 0; i < w->n_folds; i++) {
        kz_wf_fold *f = &out->folds[i];
        if (fold_split(L, gap, w, i, &f->split) != KZ_OK) {
            s = model_fail(err, KZ_ERR_RANGE, "n_folds",
                           "%zu labelled rows are too few for %d folds with a gap of %zu", L,
                           w->n_folds, gap);
            goto done;
        }
        /* Quantile thresholds come from this fold's past only. */
        if ((s = kz_labels_compute(mk->bars.close, n, &p->label, f->split.train_end, y, NULL,
                                   err)) != KZ_OK) {
            goto done;
        }
        kz_model *m = NULL;
        if ((s = kz_model_train_frame(X, y, &f->split, &p->booster, p->progress, p->progress_ud,
                                      p->want_train_loss, &m, err)) != KZ_OK) {
            goto done;
        }
        f->metrics = m->metrics;
        f->best_round = m->n_rounds - 1;
        f->seconds = m->train_seconds;
        kz_model_free(m);
        out->n_folds = i + 1;
    }
    wf_stats(out);
done:
    kz_frame_free(X);
    kz_free(y);
    return s;
}
