/* Horizon labels (fixed, volatility-scaled, quantile-on-train thresholds), the chronological split
 * with purge and embargo, and the StandardScaler. SPEC §2.2 gives the labelling rule; §11 #2, #5
 * list what the original got wrong (shuffled split, 1-bar labels), which this file fixes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/core.h"

#include "model_int.h"

static const char *const MODE_NAMES[KZ_LABEL_MODE_COUNT] = {"fixed", "vol", "quantile"};

kz_label_params kz_label_params_default(void)
{
    kz_label_params p;
    p.horizon = 24;
    p.mode = KZ_LABEL_FIXED;
    p.threshold_up = 0.02;
    p.threshold_down = -0.02;
    p.vol_k = 1.0;
    p.vol_window = 168;
    p.quantile_down = 1.0 / 3.0;
    p.quantile_up = 1.0 / 3.0;
    return p;
}

const char *kz_label_mode_str(kz_label_mode m)
{
    return ((unsigned)m < KZ_LABEL_MODE_COUNT) ? MODE_NAMES[m] : "?";
}

kz_status kz_label_mode_parse(const char *s, kz_label_mode *out)
{
    for (int i = 0; s && i < KZ_LABEL_MODE_COUNT; i++) {
        if (strcmp(s, MODE_NAMES[i]) == 0) {
            *out = (kz_label_mode)i;
            return KZ_OK;
        }
    }
    return KZ_ERR_INVALID;
}

kz_status kz_label_params_check(const kz_label_params *p, kz_error *err)
{
    if (!p) {
        return model_fail(err, KZ_ERR_INVALID, "label", "NULL parameters");
    }
    if (p->horizon < 1 || p->horizon > 100000) {
        return model_fail(err, KZ_ERR_INVALID, "horizon", "must be in 1..100000, got %d",
                          p->horizon);
    }
    if ((unsigned)p->mode >= KZ_LABEL_MODE_COUNT) {
        return model_fail(err, KZ_ERR_INVALID, "mode", "unknown threshold mode %d", (int)p->mode);
    }
    if (p->mode == KZ_LABEL_FIXED && !(isfinite(p->threshold_up) && isfinite(p->threshold_down) &&
                                       p->threshold_up > p->threshold_down)) {
        return model_fail(err, KZ_ERR_INVALID, "threshold",
                          "need finite threshold_up > threshold_down, got %g and %g",
                          p->threshold_up, p->threshold_down);
    }
    if (p->mode == KZ_LABEL_VOL &&
        (!(p->vol_k > 0.0 && isfinite(p->vol_k)) || p->vol_window < 2 || p->vol_window > 100000)) {
        return model_fail(err, KZ_ERR_INVALID, "vol_k",
                          "need vol_k > 0 and vol_window in 2..100000");
    }
    if (p->mode == KZ_LABEL_QUANTILE && !(p->quantile_down > 0.0 && p->quantile_down < 0.5 &&
                                          p->quantile_up > 0.0 && p->quantile_up < 0.5)) {
        return model_fail(err, KZ_ERR_INVALID, "quantile",
                          "class shares must be in (0, 0.5), got %g and %g", p->quantile_down,
                          p->quantile_up);
    }
    return KZ_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n) with linear interpolation (numpy's default, "linear"). */
static double quantile_sorted(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return v[lo] + (v[hi] - v[lo]) * frac;
}

/* Sample std (ddof 1, as pandas rolling std) of the w one-bar returns ending at bar t. */
static double return_std(const double *close, size_t t, size_t w)
{
    double sum = 0.0, sq = 0.0;
    for (size_t i = t + 1 - w; i <= t; i++) {
        double r = close[i] / close[i - 1] - 1.0;
        sum += r;
        sq += r * r;
    }
    double mean = sum / (double)w;
    double var = (sq - (double)w * mean * mean) / (double)(w - 1);
    return var > 0.0 ? sqrt(var) : 0.0;
}

static float classify(double fr, double up, double down)
{
    if (fr >= up) {
        return (float)KZ_CLASS_UP;
    }
    return fr <= down ? (float)KZ_CLASS_DOWN : (float)KZ_CLASS_RANGE;
}

/* Quantile thresholds from the defined future returns of rows [0, n_fit). */
static kz_status fit_quantiles(const double *close,
                               size_t n,
                               size_t h,
                               size_t n_fit,
                               const kz_label_params *p,
                               double *up,
                               double *down,
                               kz_error *err)
{
    size_t m = n_fit < n - h ? n_fit : n - h;
    if (m < 2) {
        return model_fail(err, KZ_ERR_RANGE, "n_fit", "need >= 2 labelled fitting rows, got %zu",
                          m);
    }
    double *v = kz_malloc_array(m, sizeof *v);
    if (!v) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    for (size_t t = 0; t < m; t++) {
        v[t] = close[t + h] / close[t] - 1.0;
    }
    qsort(v, m, sizeof *v, cmp_double);
    *down = quantile_sorted(v, m, p->quantile_down);
    *up = quantile_sorted(v, m, 1.0 - p->quantile_up);
    kz_free(v);
    return KZ_OK;
}

kz_status kz_labels_compute(const double *close,
                            size_t n,
                            const kz_label_params *p,
                            size_t n_fit,
                            float *y,
                            kz_label_report *rep,
                            kz_error *err)
{
    kz_status s = kz_label_params_check(p, err);
    if (s != KZ_OK) {
        return s;
    }
    if (!close || !y) {
        return model_fail(err, KZ_ERR_INVALID, "close", "NULL input or output");
    }
    for (size_t t = 0; t < n; t++) {
        if (!(close[t] > 0.0) || !isfinite(close[t])) {
            return model_fail(err, KZ_ERR_INVALID, "close", "row %zu: price must be > 0", t);
        }
    }
    size_t h = (size_t)p->horizon;
    double up = p->threshold_up, down = p->threshold_down;
    if (p->mode == KZ_LABEL_QUANTILE && n > h) {
        s = fit_quantiles(close, n, h, n_fit ? n_fit : n, p, &up, &down, err);
        if (s != KZ_OK) {
            return s;
        }
    }
    double *vol_thr = NULL; /* vol mode: per-bar up thresholds of labelled rows, for the median */
    size_t n_thr = 0;
    if (p->mode == KZ_LABEL_VOL && n > 0 && !(vol_thr = kz_malloc_array(n, sizeof *vol_thr))) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    kz_label_report r;
    memset(&r, 0, sizeof r);
    r.n_rows = n;
    size_t w = (size_t)p->vol_window;
    for (size_t t = 0; t < n; t++) {
        y[t] = NAN;
        if (t + h >= n) {
            continue;
        }
        double fr = close[t + h] / close[t] - 1.0;
        if (p->mode == KZ_LABEL_VOL) {
            if (t < w) {
                continue; /* warm-up: the threshold is unknown, never guessed */
            }
            /* Causal: the std uses returns up to bar t only; sqrt(h) scales 1-bar vol to h bars. */
            double thr = p->vol_k * return_std(close, t, w) * sqrt((double)h);
            up = thr;
            down = -thr;
            vol_thr[n_thr++] = thr;
        }
        y[t] = classify(fr, up, down);
        r.counts[(int)y[t]]++;
        r.n_labelled++;
    }
    if (p->mode == KZ_LABEL_VOL) {
        if (n_thr > 0) {
            qsort(vol_thr, n_thr, sizeof *vol_thr, cmp_double);
            up = quantile_sorted(vol_thr, n_thr, 0.5);
            down = -up;
        } else {
            up = down = NAN;
        }
        kz_free(vol_thr);
    }
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        r.shares[c] = r.n_labelled ? (double)r.counts[c] / (double)r.n_labelled : NAN;
    }
    r.threshold_up = up;
    r.threshold_down = down;
    if (rep) {
        *rep = r;
    }
    return KZ_OK;
}

kz_split_params kz_split_params_default(void)
{
    kz_split_params p;
    p.train_frac = 0.70;
    p.valid_frac = 0.15;
    p.purge = -1;
    p.embargo = 0;
    return p;
}

kz_status
kz_split_compute(size_t n_rows, int horizon, const kz_split_params *p, kz_split *out, kz_error *err)
{
    if (!p || !out) {
        return model_fail(err, KZ_ERR_INVALID, "split", "NULL argument");
    }
    if (!(p->train_frac > 0.0 && p->valid_frac > 0.0 && p->train_frac + p->valid_frac < 1.0)) {
        return model_fail(err, KZ_ERR_INVALID, "train_frac",
                          "need train_frac > 0, valid_frac > 0, sum < 1 (got %g, %g)",
                          p->train_frac, p->valid_frac);
    }
    if (horizon < 1 || p->purge < -1 || p->embargo < 0) {
        return model_fail(err, KZ_ERR_INVALID, "purge",
                          "need horizon >= 1, purge >= -1, "
                          "embargo >= 0");
    }
    size_t gap = (size_t)(p->purge < 0 ? horizon : p->purge) + (size_t)p->embargo;
    if (n_rows <= 2 * gap + 3) {
        return model_fail(err, KZ_ERR_RANGE, "rows", "%zu rows are too few for two gaps of %zu",
                          n_rows, gap);
    }
    size_t usable = n_rows - 2 * gap;
    size_t n_train = (size_t)floor((double)usable * p->train_frac);
    size_t n_valid = (size_t)floor((double)usable * p->valid_frac);
    if (n_train < 1 || n_valid < 1 || n_train + n_valid >= usable) {
        return model_fail(err, KZ_ERR_RANGE, "rows", "%zu rows leave an empty segment", n_rows);
    }
    out->train_begin = 0;
    out->train_end = n_train;
    out->valid_begin = n_train + gap;
    out->valid_end = out->valid_begin + n_valid;
    out->test_begin = out->valid_end + gap;
    out->test_end = n_rows;
    return KZ_OK;
}

kz_status kz_scaler_fit(const kz_frame *X, size_t begin, size_t end, double *mean, double *scale)
{
    if (!X || !mean || !scale || begin > end || end > kz_frame_n_rows(X)) {
        return KZ_ERR_INVALID;
    }
    size_t p = kz_frame_n_cols(X);
    for (size_t j = 0; j < p; j++) {
        const float *c = kz_frame_col(X, j);
        /* Two passes (mean, then squared deviations) for accuracy on large levels. */
        double sum = 0.0;
        size_t cnt = 0;
        for (size_t i = begin; i < end; i++) {
            if (!isnan(c[i])) {
                sum += (double)c[i];
                cnt++;
            }
        }
        double mu = cnt ? sum / (double)cnt : 0.0, ss = 0.0;
        for (size_t i = begin; i < end; i++) {
            if (!isnan(c[i])) {
                double d = (double)c[i] - mu;
                ss += d * d;
            }
        }
        double sd = cnt ? sqrt(ss / (double)cnt) : 0.0;
        mean[j] = mu;
        /* sklearn's StandardScaler: a zero-variance column keeps scale 1. */
        scale[j] = (sd > 0.0 && isfinite(sd)) ? sd : 1.0;
    }
    return KZ_OK;
}
