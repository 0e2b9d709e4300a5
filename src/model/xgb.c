/* The XGBoost boundary (the only file that includes it): SPEC §2.1 parameter names mapped to
 * XGBoost's in one table, training with our own early stopping on the validation mlogloss,
 * prediction, gain importance and UBJSON (de)serialisation. Every call is checked and
 * XGBGetLastError() is copied into the caller's kz_error at once; XGBoost's buffers are copied
 * before the next call. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "kizashi/core.h"

#include "model_int.h"

/* ---------------------------------------------------------------- parameter table */
typedef enum ptype { P_INT, P_DOUBLE, P_U64 } ptype;

typedef struct param_row {
    const char *spec; /* SPEC §2.1 / LightGBM name */
    const char *xgb;  /* XGBoost name; NULL = handled by our training loop */
    ptype type;
    size_t offset; /* in kz_booster_params */
    double lo, hi; /* inclusive range */
} param_row;

#define OFF(f) offsetof(kz_booster_params, f)
/* LightGBM -> XGBoost (docs/model.md explains each approximation). */
static const param_row PARAMS[] = {
    {"num_leaves", "max_leaves", P_INT, OFF(num_leaves), 2, 131072},
    {"learning_rate", "eta", P_DOUBLE, OFF(learning_rate), 1e-9, 1},
    {"feature_fraction", "colsample_bytree", P_DOUBLE, OFF(feature_fraction), 1e-9, 1},
    {"bagging_fraction", "subsample", P_DOUBLE, OFF(bagging_fraction), 1e-9, 1},
    {"min_data_in_leaf", "min_child_weight", P_DOUBLE, OFF(min_data_in_leaf), 0, 1e12},
    {"lambda_l2", "lambda", P_DOUBLE, OFF(lambda_l2), 0, 1e12},
    {"max_bin", "max_bin", P_INT, OFF(max_bin), 2, 65535},
    {"num_threads", "nthread", P_INT, OFF(num_threads), 0, 4096},
    {"seed", "seed", P_U64, OFF(seed), 0, 0},
    {"num_boost_round", NULL, P_INT, OFF(num_boost_round), 1, 100000},
    {"early_stopping_rounds", NULL, P_INT, OFF(early_stopping), 0, 100000},
    {"balanced", NULL, P_INT, OFF(balanced), 0, 1},
};
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])

/* Settings that make XGBoost behave like SPEC's LightGBM and are not user parameters. */
static const char *const FIXED[][2] = {
    {"objective", "multi:softprob"}, /* LightGBM multiclass: softmax probabilities */
    {"num_class", "3"},
    {"tree_method", "hist"},      /* histogram-based, like LightGBM */
    {"grow_policy", "lossguide"}, /* leaf-wise growth, like LightGBM */
    {"max_depth", "0"},           /* LightGBM's max_depth -1: only max_leaves limits a tree */
    {"eval_metric", "mlogloss"},  /* multi_logloss */
    {"seed_per_iteration", "1"},  /* row/column sampling depends on (seed, round) only */
    {"verbosity", "0"},           /* the library never prints */
};

kz_booster_params kz_booster_params_default(void)
{
    kz_booster_params p;
    p.num_leaves = 31;
    p.learning_rate = 0.05;
    p.feature_fraction = 0.9;
    p.bagging_fraction = 0.8;
    p.min_data_in_leaf = 20;
    p.lambda_l2 = 0.0;
    p.max_bin = 255;
    p.num_boost_round = 1000;
    p.early_stopping = 50;
    p.num_threads = 0;
    p.balanced = 0;
    p.seed = 42;
    return p;
}

static double get_value(const kz_booster_params *p, const param_row *r)
{
    const char *base = (const char *)p + r->offset;
    if (r->type == P_INT) {
        return (double)*(const int *)(const void *)base;
    }
    if (r->type == P_DOUBLE) {
        return *(const double *)(const void *)base;
    }
    return 0.0;
}

kz_status kz_booster_params_check(const kz_booster_params *p, kz_error *err)
{
    if (!p) {
        return model_fail(err, KZ_ERR_INVALID, "params", "NULL parameters");
    }
    for (size_t i = 0; i < N_PARAMS; i++) {
        const param_row *r = &PARAMS[i];
        if (r->type == P_U64) {
            continue;
        }
        double v = get_value(p, r);
        if (!(v >= r->lo && v <= r->hi)) {
            return model_fail(err, KZ_ERR_INVALID, r->spec, "%g is outside [%g, %g]", v, r->lo,
                              r->hi);
        }
    }
    return KZ_OK;
}

kz_status
kz_booster_params_set(kz_booster_params *p, const char *name, const char *value, kz_error *err)
{
    if (!p || !name || !value) {
        return model_fail(err, KZ_ERR_INVALID, "param", "NULL argument");
    }
    for (size_t i = 0; i < N_PARAMS; i++) {
        const param_row *r = &PARAMS[i];
        if (strcmp(name, r->spec) != 0) {
            continue;
        }
        char *end = NULL;
        errno = 0;
        void *dst = (char *)p + r->offset;
        if (r->type == P_U64) {
            unsigned long long u = strtoull(value, &end, 10);
            if (!*value || *end || errno || value[0] == '-') {
                return model_fail(err, KZ_ERR_INVALID, name, "'%s' is not an unsigned integer",
                                  value);
            }
            *(uint64_t *)dst = (uint64_t)u;
            return KZ_OK;
        }
        double v = strtod(value, &end);
        if (!*value || *end || errno || !(v >= r->lo && v <= r->hi) ||
            (r->type == P_INT && v != floor(v))) {
            return model_fail(err, KZ_ERR_INVALID, name, "'%s' is not a %s in [%g, %g]", value,
                              r->type == P_INT ? "whole number" : "number", r->lo, r->hi);
        }
        if (r->type == P_INT) {
            *(int *)dst = (int)v;
        } else {
            *(double *)dst = v;
        }
        return KZ_OK;
    }
    return model_fail(err, KZ_ERR_INVALID, name,
                      "unknown parameter (known: num_leaves, learning_rate, feature_fraction, "
                      "bagging_fraction, min_data_in_leaf, lambda_l2, max_bin, num_threads, seed, "
                      "num_boost_round, early_stopping_rounds, balanced)");
}

/* ---------------------------------------------------------------- calls */
static kz_status xfail(kz_error *err, const char *what)
{
    const char *m = XGBGetLastError();
    m = (m && *m) ? m : "failed";
    /* Keep the first line: XGBoost appends a stack trace. */
    const char *nl = strchr(m, '\n');
    int len = nl ? (int)(nl - m) : (int)strlen(m);
    return model_fail(err, KZ_ERR_MODEL, "xgboost", "%s: %.*s", what, len, m);
}

#define XCALL(call, what)                                                                          \
    do {                                                                                           \
        if ((call) != 0) {                                                                         \
            s = xfail(err, what);                                                                  \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

static kz_status set_params(BoosterHandle b, const kz_booster_params *bp, kz_error *err)
{
    kz_status s = KZ_OK;
    char buf[64];
    for (size_t i = 0; i < sizeof FIXED / sizeof FIXED[0]; i++) {
        XCALL(XGBoosterSetParam(b, FIXED[i][0], FIXED[i][1]), FIXED[i][0]);
    }
    for (size_t i = 0; i < N_PARAMS; i++) {
        const param_row *r = &PARAMS[i];
        if (!r->xgb || (r->offset == OFF(num_threads) && bp->num_threads == 0)) {
            continue;
        }
        if (r->type == P_U64) {
            /* XGBoost's seed is a 64-bit integer parameter. */
            snprintf(buf, sizeof buf, "%" PRId64, (int64_t)(bp->seed & 0x7fffffffffffffffULL));
        } else if (r->type == P_INT) {
            snprintf(buf, sizeof buf, "%d", (int)get_value(bp, r));
        } else {
            snprintf(buf, sizeof buf, "%.17g", get_value(bp, r));
        }
        XCALL(XGBoosterSetParam(b, r->xgb, buf), r->xgb);
    }
fail:
    return s;
}

static kz_status
make_dmatrix(const xgb_data *d, size_t p, int nthread, DMatrixHandle *out, kz_error *err)
{
    kz_status s = KZ_OK;
    *out = NULL;
    XCALL(XGDMatrixCreateFromMat_omp(d->X, (bst_ulong)d->n, (bst_ulong)p, NAN, out, nthread),
          "XGDMatrixCreateFromMat");
    XCALL(XGDMatrixSetFloatInfo(*out, "label", d->y, (bst_ulong)d->n), "set label");
    if (d->w) {
        XCALL(XGDMatrixSetFloatInfo(*out, "weight", d->w, (bst_ulong)d->n), "set weight");
    }
    return KZ_OK;
fail:
    XGDMatrixFree(*out);
    *out = NULL;
    return s;
}

static const char PREDICT_CFG[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                  "\"iteration_end\": 0, \"strict_shape\": false}";

/* Mean -log p[y] of the cached prediction of d (consumed before any other XGBoost call). */
static kz_status
dmatrix_loss(BoosterHandle b, DMatrixHandle dm, const xgb_data *d, double *loss, kz_error *err)
{
    kz_status s = KZ_OK;
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    XCALL(XGBoosterPredictFromDMatrix(b, dm, PREDICT_CFG, &shape, &dim, &res), "predict");
    if (dim != 2 || shape[0] != (bst_ulong)d->n || shape[1] != KZ_N_CLASSES) {
        return model_fail(err, KZ_ERR_MODEL, "xgboost", "unexpected prediction shape");
    }
    double sum = 0.0, wsum = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double w = d->w ? (double)d->w[i] : 1.0;
        double pr = (double)res[i * KZ_N_CLASSES + (size_t)d->y[i]];
        sum -= w * log(pr > 1e-15 ? pr : 1e-15);
        wsum += w;
    }
    *loss = sum / wsum;
fail:
    return s;
}

kz_status xgb_train(const xgb_data *train,
                    const xgb_data *valid,
                    size_t p,
                    const kz_booster_params *bp,
                    kz_train_progress_fn progress,
                    void *ud,
                    int want_train_loss,
                    xgb_train_out *out,
                    kz_error *err)
{
    kz_status s = KZ_OK;
    DMatrixHandle dtrain = NULL, dvalid = NULL;
    BoosterHandle b = NULL, sliced = NULL;
    memset(out, 0, sizeof *out);
    if ((s = make_dmatrix(train, p, bp->num_threads, &dtrain, err)) != KZ_OK ||
        (s = make_dmatrix(valid, p, bp->num_threads, &dvalid, err)) != KZ_OK) {
        goto fail;
    }
    /* Both matrices are cached so each round's prediction only adds the new trees. */
    DMatrixHandle cache[2] = {dtrain, dvalid};
    XCALL(XGBoosterCreate(cache, 2, &b), "XGBoosterCreate");
    if ((s = set_params(b, bp, err)) != KZ_OK) {
        goto fail;
    }
    int best = -1;
    double best_loss = INFINITY;
    for (int it = 0; it < bp->num_boost_round; it++) {
        XCALL(XGBoosterUpdateOneIter(b, it, dtrain), "XGBoosterUpdateOneIter");
        double vloss = NAN, tloss = NAN;
        if ((s = dmatrix_loss(b, dvalid, valid, &vloss, err)) != KZ_OK ||
            (want_train_loss && (s = dmatrix_loss(b, dtrain, train, &tloss, err)) != KZ_OK)) {
            goto fail;
        }
        /* LightGBM's early_stopping: keep the first round with the lowest validation loss. */
        if (vloss < best_loss) {
            best_loss = vloss;
            best = it;
        }
        if (progress && progress(it, bp->num_boost_round, tloss, vloss, best, ud)) {
            s = model_fail(err, KZ_ERR_CANCELLED, "train", "stopped by the progress callback");
            goto fail;
        }
        if (bp->early_stopping > 0 && it - best >= bp->early_stopping) {
            break;
        }
    }
    if (best < 0) {
        s = model_fail(err, KZ_ERR_MODEL, "train", "validation loss is not finite");
        goto fail;
    }
    XCALL(XGBoosterSlice(b, 0, best + 1, 1, &sliced), "XGBoosterSlice");
    out->booster = sliced;
    out->best_round = best;
    out->best_valid_loss = best_loss;
    sliced = NULL;
fail:
    XGBoosterFree(sliced);
    XGBoosterFree(b);
    XGDMatrixFree(dtrain);
    XGDMatrixFree(dvalid);
    return s;
}

kz_status
xgb_predict(void *booster, const float *X, size_t n, size_t p, double *prob, kz_error *err)
{
    kz_status s = KZ_OK;
    char iface[192];
    /* __array_interface__ (version 3) describing the caller's row-major float32 matrix. */
    snprintf(iface, sizeof iface,
             "{\"data\": [%" PRIuPTR ", true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
             "\"version\": 3}",
             (uintptr_t)X, n, p);
    static const char cfg[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                              "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, "
                              "\"cache_id\": 0}";
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    XCALL(XGBoosterPredictFromDense((BoosterHandle)booster, iface, cfg, NULL, &shape, &dim, &res),
          "predict");
    if (dim != 2 || shape[0] != (bst_ulong)n || shape[1] != KZ_N_CLASSES) {
        return model_fail(err, KZ_ERR_MODEL, "xgboost", "unexpected prediction shape");
    }
    for (size_t i = 0; i < n * KZ_N_CLASSES; i++) {
        prob[i] = (double)res[i];
    }
fail:
    return s;
}

kz_status xgb_importance(void *booster, size_t p, double *out, kz_error *err)
{
    kz_status s = KZ_OK;
    bst_ulong n_feat = 0, dim = 0;
    const char **names = NULL;
    const bst_ulong *shape = NULL;
    const float *scores = NULL;
    for (size_t j = 0; j < p; j++) {
        out[j] = 0.0;
    }
    XCALL(XGBoosterFeatureScore((BoosterHandle)booster, "{\"importance_type\": \"total_gain\"}",
                                &n_feat, &names, &dim, &shape, &scores),
          "XGBoosterFeatureScore");
    /* Without feature names XGBoost calls feature j "f<j>". */
    for (bst_ulong i = 0; i < n_feat; i++) {
        char *end = NULL;
        if (!names[i] || names[i][0] != 'f') {
            continue;
        }
        unsigned long j = strtoul(names[i] + 1, &end, 10);
        if (end && !*end && j < p) {
            out[j] = (double)scores[i];
        }
    }
fail:
    return s;
}

kz_status xgb_save(void *booster, uint8_t **buf, size_t *len, kz_error *err)
{
    kz_status s = KZ_OK;
    bst_ulong n = 0;
    const char *raw = NULL;
    *buf = NULL;
    *len = 0;
    XCALL(XGBoosterSaveModelToBuffer((BoosterHandle)booster, "{\"format\": \"ubj\"}", &n, &raw),
          "XGBoosterSaveModelToBuffer");
    if (!(*buf = kz_malloc(n ? (size_t)n : 1))) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    memcpy(*buf, raw, (size_t)n);
    *len = (size_t)n;
fail:
    return s;
}

kz_status xgb_load(const uint8_t *buf, size_t len, size_t p, void **booster, kz_error *err)
{
    kz_status s = KZ_OK;
    BoosterHandle b = NULL;
    bst_ulong nf = 0;
    int rounds = 0;
    *booster = NULL;
    /* buf passed model_forest_build: XGBoost only reads what that validated. */
    XCALL(XGBoosterCreate(NULL, 0, &b), "XGBoosterCreate");
    XCALL(XGBoosterLoadModelFromBuffer(b, buf, (bst_ulong)len), "XGBoosterLoadModelFromBuffer");
    XCALL(XGBoosterGetNumFeature(b, &nf), "XGBoosterGetNumFeature");
    XCALL(XGBoosterBoostedRounds(b, &rounds), "XGBoosterBoostedRounds");
    if ((size_t)nf != p || rounds < 1) {
        s = model_fail(err, KZ_ERR_FORMAT, "booster",
                       "booster has %llu features and %d rounds, metadata says %zu features",
                       (unsigned long long)nf, rounds, p);
        goto fail;
    }
    XCALL(XGBoosterSetParam(b, "verbosity", "0"), "verbosity");
    *booster = b;
    return KZ_OK;
fail:
    XGBoosterFree(b);
    return s;
}

kz_status xgb_set_threads(void *booster, int threads, kz_error *err)
{
    kz_status s = KZ_OK;
    char buf[16];
    snprintf(buf, sizeof buf, "%d", threads);
    XCALL(XGBoosterSetParam((BoosterHandle)booster, "nthread", buf), "nthread");
fail:
    return s;
}

void xgb_free(void *booster)
{
    if (booster) {
        XGBoosterFree((BoosterHandle)booster);
    }
}

void xgb_version_str(char *buf, size_t size)
{
    int major = 0, minor = 0, patch = 0;
    XGBoostVersion(&major, &minor, &patch);
    snprintf(buf, size, "%d.%d.%d", major, minor, patch);
}
