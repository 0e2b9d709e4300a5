/* The kz_model object: allocation, accessors, default feature selection (no raw levels), the
 * scaled row-major input builder, prediction for a frame or one streaming row. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "model_int.h"

kz_status model_fail(kz_error *err, kz_status code, const char *field, const char *fmt, ...)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = code;
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

kz_status model_alloc(size_t n_features, const char *const *names, kz_model **out)
{
    *out = NULL;
    kz_model *m = kz_calloc(1, sizeof *m);
    if (!m) {
        return KZ_ERR_NOMEM;
    }
    m->tf = KZ_TF_COUNT;
    m->n_features = n_features;
    m->names = kz_calloc(n_features ? n_features : 1, sizeof *m->names);
    m->mean = kz_malloc_array(n_features ? n_features : 1, sizeof *m->mean);
    m->scale = kz_malloc_array(n_features ? n_features : 1, sizeof *m->scale);
    m->importance = kz_calloc(n_features ? n_features : 1, sizeof *m->importance);
    m->rowbuf = kz_malloc_array(n_features ? n_features : 1, sizeof *m->rowbuf);
    if (!m->names || !m->mean || !m->scale || !m->importance || !m->rowbuf) {
        kz_model_free(m);
        return KZ_ERR_NOMEM;
    }
    for (size_t j = 0; j < n_features; j++) {
        m->mean[j] = 0.0;
        m->scale[j] = 1.0;
        if (!(m->names[j] = kz_strdup(names[j]))) {
            kz_model_free(m);
            return KZ_ERR_NOMEM;
        }
    }
    m->bparams = kz_booster_params_default();
    m->label = kz_label_params_default();
    m->fparams = kz_feature_params_default();
    m->valid_loss = NAN;
    m->pred_threads = -1;
    *out = m;
    return KZ_OK;
}

void kz_model_free(kz_model *m)
{
    if (!m) {
        return;
    }
    for (size_t j = 0; m->names && j < m->n_features; j++) {
        kz_free(m->names[j]);
    }
    kz_free(m->names);
    kz_free(m->mean);
    kz_free(m->scale);
    kz_free(m->importance);
    kz_free(m->rowbuf);
    xgb_free(m->booster);
    model_forest_free(m->forest);
    kz_free(m);
}

kz_status model_rows(const kz_frame *X,
                     const size_t *idx,
                     size_t begin,
                     size_t n,
                     const double *mean,
                     const double *scale,
                     float **out)
{
    size_t p = kz_frame_n_cols(X);
    if (p && n > SIZE_MAX / p) {
        return KZ_ERR_NOMEM;
    }
    float *a = kz_malloc_array((n * p) > 0 ? n * p : 1, sizeof *a);
    if (!a) {
        return KZ_ERR_NOMEM;
    }
    /* Column by column keeps the reads sequential; the writes stride by p. */
    for (size_t j = 0; j < p; j++) {
        const float *c = kz_frame_col(X, j);
        double mu = mean[j], sd = scale[j];
        /* The same expression as kz_model_predict_row, so batch and streaming agree bit for bit. */
        for (size_t i = 0; i < n; i++) {
            a[i * p + j] = (float)(((double)c[idx ? idx[i] : begin + i] - mu) / sd);
        }
    }
    *out = a;
    return KZ_OK;
}

size_t model_labelled(const float *y, size_t begin, size_t end, size_t *idx)
{
    size_t k = 0;
    for (size_t i = begin; i < end; i++) {
        if (!isnan(y[i])) {
            idx[k++] = i;
        }
    }
    return k;
}

/* ---------------------------------------------------------------- accessors */
size_t kz_model_n_features(const kz_model *m)
{
    return m ? m->n_features : 0;
}

const char *kz_model_feature_name(const kz_model *m, size_t j)
{
    return (m && j < m->n_features) ? m->names[j] : NULL;
}

double kz_model_importance(const kz_model *m, size_t j)
{
    return (m && j < m->n_features) ? m->importance[j] : 0.0;
}

double kz_model_scaler_mean(const kz_model *m, size_t j)
{
    return (m && j < m->n_features) ? m->mean[j] : NAN;
}

double kz_model_scaler_scale(const kz_model *m, size_t j)
{
    return (m && j < m->n_features) ? m->scale[j] : NAN;
}

int kz_model_n_rounds(const kz_model *m)
{
    return m ? m->n_rounds : 0;
}

const kz_metrics *kz_model_metrics(const kz_model *m)
{
    return m ? &m->metrics : NULL;
}

double kz_model_valid_loss(const kz_model *m)
{
    return m ? m->valid_loss : NAN;
}

double kz_model_train_seconds(const kz_model *m)
{
    return m ? m->train_seconds : 0.0;
}

const kz_label_params *kz_model_label_params(const kz_model *m)
{
    return m ? &m->label : NULL;
}

const kz_label_report *kz_model_label_report(const kz_model *m)
{
    return m ? &m->label_rep : NULL;
}

const kz_feature_params *kz_model_feature_params(const kz_model *m)
{
    return m ? &m->fparams : NULL;
}

int kz_model_all_features(const kz_model *m)
{
    return m ? m->all_features : 0;
}

int kz_model_class_priors(const kz_model *m, double prior[KZ_N_CLASSES])
{
    /* train.c passes the training segment's class shares to the test metrics as the baseline
     * prior, and the bundle saves them; with no test rows they were never recorded. */
    int known = m && m->metrics.n > 0;
    double sum = 0.0;
    for (int c = 0; known && c < KZ_N_CLASSES; c++) {
        double v = m->metrics.prior[c];
        known = isfinite(v) && v >= 0.0 && v <= 1.0;
        sum += v;
    }
    known = known && fabs(sum - 1.0) <= 1e-6;
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        prior[c] = known ? m->metrics.prior[c] : 1.0 / KZ_N_CLASSES;
    }
    return known;
}

/* ---------------------------------------------------------------- feature selection */
/* Raw levels: price, volume or open-interest amounts whose scale drifts with the market (SPEC §11
 * #4). Ratios, returns, flags and oscillators stay. MACD is a difference of price EMAs, so it is
 * in price units too; FR_OI_Ratio divides by the OI level. */
static const char *const LEVEL_FEATURES[] = {
    "Open",
    "High",
    "Low",
    "Close",
    "Volume",
    "MA_10",
    "MA_50",
    "TR",
    "ATR_20",
    "Volume_MA_20",
    "VWAP",
    "OI_MA_24",
    "OI_MA_168",
    "Volatility_Adjusted_OI",
    "MACD",
    "MACD_Signal",
    "MACD_Histogram",
    "MACD_Histogram_4h",
    "MACD_Histogram_1d",
    "FR_OI_Ratio",
};

int kz_model_is_level_feature(const char *name)
{
    for (size_t i = 0; name && i < sizeof LEVEL_FEATURES / sizeof LEVEL_FEATURES[0]; i++) {
        if (strcmp(name, LEVEL_FEATURES[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

kz_status kz_model_select_features(
    const kz_frame *f, const kz_market *m, int all_features, kz_frame **out, kz_error *err)
{
    if (!f || !out) {
        return model_fail(err, KZ_ERR_INVALID, "frame", "NULL argument");
    }
    *out = NULL;
    size_t nc = kz_frame_n_cols(f), nr = kz_frame_n_rows(f);
    int add_ohlcv = all_features && m && m->bars.n == nr;
    if (all_features && m && m->bars.n != nr) {
        return model_fail(err, KZ_ERR_MISMATCH, "rows", "market has %zu bars, frame %zu rows",
                          m->bars.n, nr);
    }
    size_t cap = nc + 5;
    const char **names = kz_malloc_array(cap, sizeof *names);
    size_t *src = kz_malloc_array(cap, sizeof *src);
    if (!names || !src) {
        kz_free(names);
        kz_free(src);
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    size_t k = 0;
    static const char *const OHLCV[5] = {"Open", "High", "Low", "Close", "Volume"};
    if (add_ohlcv) {
        for (size_t i = 0; i < 5; i++) {
            names[k] = OHLCV[i];
            src[k++] = KZ_FRAME_NPOS - 1 - i; /* marks a market column */
        }
    }
    for (size_t j = 0; j < nc; j++) {
        const char *nm = kz_frame_name(f, j);
        if (all_features || !kz_model_is_level_feature(nm)) {
            names[k] = nm;
            src[k++] = j;
        }
    }
    kz_frame *o = NULL;
    kz_status s = kz_frame_new(nr, k, names, kz_frame_ts(f), &o);
    if (s != KZ_OK) {
        kz_free(names);
        kz_free(src);
        return model_fail(err, s, "frame", "cannot build the input frame");
    }
    const double *bars[5] = {NULL, NULL, NULL, NULL, NULL};
    if (add_ohlcv) {
        bars[0] = m->bars.open;
        bars[1] = m->bars.high;
        bars[2] = m->bars.low;
        bars[3] = m->bars.close;
        bars[4] = m->bars.volume;
    }
    for (size_t c = 0; c < k; c++) {
        float *dst = kz_frame_col_mut(o, c);
        if (src[c] < nc) {
            memcpy(dst, kz_frame_col(f, src[c]), nr * sizeof *dst);
        } else {
            const double *b = bars[KZ_FRAME_NPOS - 1 - src[c]];
            for (size_t i = 0; i < nr; i++) {
                dst[i] = (float)b[i];
            }
        }
    }
    kz_free(names);
    kz_free(src);
    *out = o;
    return KZ_OK;
}

/* ---------------------------------------------------------------- prediction */
kz_status kz_model_map_columns(
    const kz_model *m, const char *const *names, size_t n_names, size_t *map, kz_error *err)
{
    if (!m || (!names && n_names) || !map) {
        return model_fail(err, KZ_ERR_INVALID, "names", "NULL argument");
    }
    for (size_t j = 0; j < m->n_features; j++) {
        map[j] = KZ_FRAME_NPOS;
        for (size_t i = 0; i < n_names; i++) {
            if (names[i] && strcmp(names[i], m->names[j]) == 0) {
                map[j] = i;
                break;
            }
        }
        if (map[j] == KZ_FRAME_NPOS) {
            return model_fail(err, KZ_ERR_MISMATCH, m->names[j],
                              "feature %zu '%s' of the model is missing from the input", j,
                              m->names[j]);
        }
    }
    return KZ_OK;
}

/* Switch the booster's prediction threads only when they change (XGBoost reconfigures). */
static kz_status use_threads(kz_model *m, int threads, kz_error *err)
{
    if (m->pred_threads == threads) {
        return KZ_OK;
    }
    kz_status s = xgb_set_threads(m->booster, threads, err);
    m->pred_threads = s == KZ_OK ? threads : -1;
    return s;
}

kz_status kz_model_predict(kz_model *m, const kz_frame *X, double *prob, kz_error *err)
{
    if (!m || !X || !prob) {
        return model_fail(err, KZ_ERR_INVALID, "model", "NULL argument");
    }
    size_t p = kz_frame_n_cols(X);
    for (size_t j = 0; j < m->n_features || j < p; j++) {
        const char *want = j < m->n_features ? m->names[j] : "(none)";
        const char *got = j < p ? kz_frame_name(X, j) : "(none)";
        if (strcmp(want, got) != 0) {
            return model_fail(err, KZ_ERR_MISMATCH, want,
                              "input column %zu is '%s' but the model expects '%s' (%zu model "
                              "features, %zu input columns)",
                              j, got, want, m->n_features, p);
        }
    }
    size_t n = kz_frame_n_rows(X);
    if (n == 0) {
        return KZ_OK;
    }
    /* Batch: the threads the model was trained with (0 = all cores). */
    kz_status s = use_threads(m, m->bparams.num_threads, err);
    if (s != KZ_OK) {
        return s;
    }
    float *rows = NULL;
    if (model_rows(X, NULL, 0, n, m->mean, m->scale, &rows) != KZ_OK) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    s = xgb_predict(m->booster, rows, n, p, prob, err);
    kz_free(rows);
    return s;
}

kz_status kz_model_predict_row(
    kz_model *m, const float *row, size_t n, double prob[KZ_N_CLASSES], kz_error *err)
{
    if (!m || !row || !prob) {
        return model_fail(err, KZ_ERR_INVALID, "row", "NULL argument");
    }
    if (n != m->n_features) {
        return model_fail(err, KZ_ERR_MISMATCH, "row", "row has %zu values, the model %zu features",
                          n, m->n_features);
    }
    if (!m->forest) {
        return model_fail(err, KZ_ERR_INVALID, "model", "untrained model");
    }
    for (size_t j = 0; j < n; j++) {
        m->rowbuf[j] = (float)(((double)row[j] - m->mean[j]) / m->scale[j]);
    }
    /* Our evaluator, bit-identical to XGBoost's prediction (tested), without XGBoost's JSON
     * configuration parsing and thread pool on every call: the streaming path's latency. */
    model_forest_predict(m->forest, m->rowbuf, prob);
    return KZ_OK;
}
