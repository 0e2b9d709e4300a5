/* kizashi scheduler triggers: when a model needs retraining (scheduled, new data, performance
 * degradation, data drift), each rule deterministic in the injected clock and the store's data.
 * The exact firing rules are in docs/scheduler.md; the comments here say why. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/core.h"

#include "sched/sched_int.h"
#include "store/store_int.h"

/* ---------------------------------------------------------------- histograms and PSI */

double sched_psi(const double *expected, const double *actual, int n)
{
    double psi = 0.0;
    for (int k = 0; k < n; k++) {
        double e = fmax(expected[k], SCHED_PSI_FLOOR);
        double a = fmax(actual[k], SCHED_PSI_FLOOR);
        psi += (a - e) * log(a / e);
    }
    return psi;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

size_t sched_hist_edges(const float *x, size_t n, int n_bins, double *edges)
{
    double *v = kz_malloc_array(n ? n : 1, sizeof *v);
    size_t m = 0;
    if (!v) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) {
            v[m++] = (double)x[i];
        }
    }
    if (m > 0) {
        qsort(v, m, sizeof *v, cmp_double);
        /* Lower empirical quantile: the value at rank floor(k m / n_bins). */
        for (int k = 1; k < n_bins; k++) {
            size_t r = (size_t)((double)m * (double)k / (double)n_bins);
            edges[k - 1] = v[r < m ? r : m - 1];
        }
    }
    kz_free(v);
    return m;
}

size_t sched_hist_shares(const float *x, size_t n, const double *edges, int n_bins, double *shares)
{
    size_t m = 0;
    for (int k = 0; k < n_bins; k++) {
        shares[k] = 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) {
            continue;
        }
        double v = (double)x[i];
        int lo = 0, hi = n_bins - 1; /* first bin whose upper edge is >= v */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (v <= edges[mid]) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        shares[lo] += 1.0;
        m++;
    }
    for (int k = 0; m && k < n_bins; k++) {
        shares[k] /= (double)m;
    }
    return m;
}

kz_status sched_model_frame(const kz_market *m,
                            const kz_feature_params *fp,
                            int all_features,
                            kz_frame **out,
                            kz_error *err)
{
    kz_frame *f = NULL;
    kz_status s = kz_features_compute(m, fp, &f, NULL, err);
    if (s == KZ_OK) {
        s = kz_model_select_features(f, m, all_features, out, err);
    }
    kz_frame_free(f);
    return s;
}

/* ---------------------------------------------------------------- rules */

static int64_t max3(int64_t a, int64_t b, int64_t c)
{
    int64_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* SCHEDULED: the interval since the last training (or scheduled run, or first sight), or a new
 * multiple of N candle periods on the epoch grid (N=24 on 1h = every 00:00 UTC close). */
static int rule_scheduled(const kz_sched_model *m,
                          const sched_anchor *a,
                          int64_t latest_created,
                          int64_t now,
                          char *reason,
                          size_t rn)
{
    char t[32];
    if (m->interval_ms > 0) {
        int64_t anchor =
            max3(a->first_seen_ms, a->last_fired[KZ_TRIGGER_SCHEDULED], latest_created);
        if (now >= anchor + m->interval_ms) {
            snprintf(reason, rn, "interval %lld s elapsed since %s",
                     (long long)(m->interval_ms / 1000), kz_time_format(anchor, t));
            return 1;
        }
    }
    if (m->every_n_closes > 0) {
        int64_t period = kz_timeframe_ms(m->tf) * m->every_n_closes;
        int64_t boundary = (now / period) * period;
        int64_t anchor = a->first_seen_ms > a->last_fired[KZ_TRIGGER_SCHEDULED]
                             ? a->first_seen_ms
                             : a->last_fired[KZ_TRIGGER_SCHEDULED];
        if (boundary > anchor) {
            snprintf(reason, rn, "candle close %s is a multiple of %d x %s",
                     kz_time_format(boundary, t), m->every_n_closes, kz_timeframe_str(m->tf));
            return 1;
        }
    }
    return 0;
}

/* Index of the bar opened at ts in b (binary search), or (size_t)-1. */
static size_t find_bar(const kz_bars *b, int64_t ts)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->ts_ms[mid] < ts) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (lo < b->n && b->ts_ms[lo] == ts) ? lo : (size_t)-1;
}

/* PERFORMANCE: score the newest matured live predictions of the active version against the
 * labels realised from stored closes (the model's horizon and thresholds). */
static kz_status rule_performance(kz_store *st,
                                  const kz_sched_model *m,
                                  const kz_model_version *v,
                                  int64_t last_bar,
                                  int *fire,
                                  char *reason,
                                  size_t rn,
                                  kz_error *err)
{
    int64_t tf_ms = kz_timeframe_ms(m->tf);
    int64_t *ts = NULL;
    double *prob = NULL;
    float *y = NULL;
    size_t n = 0;
    kz_bars bars = {0};
    *fire = 0;
    kz_status s =
        kz_predlog_matured(st, m->name, v->version, last_bar - (int64_t)v->horizon * tf_ms,
                           (size_t)m->perf_window, &ts, &prob, &n);
    if (s != KZ_OK || n < (size_t)m->perf_min_samples) {
        if (s == KZ_OK) {
            snprintf(reason, rn, "performance: %zu matured predictions < %d", n,
                     m->perf_min_samples);
        }
        goto done;
    }
    s = kz_store_get_bars(st, m->exchange, m->symbol, m->tf, ts[0],
                          ts[n - 1] + (int64_t)v->horizon * tf_ms + 1, &bars);
    y = kz_malloc_array(n, sizeof *y);
    if (s == KZ_OK && !y) {
        s = KZ_ERR_NOMEM;
    }
    size_t n_lab = 0;
    for (size_t i = 0; s == KZ_OK && i < n; i++) {
        size_t b0 = find_bar(&bars, ts[i]);
        size_t b1 = find_bar(&bars, ts[i] + (int64_t)v->horizon * tf_ms);
        y[i] = NAN;
        if (b0 != (size_t)-1 && b1 != (size_t)-1 && bars.close[b0] > 0) {
            double r = bars.close[b1] / bars.close[b0] - 1.0;
            y[i] = r >= v->label_up ? 2.0f : (r <= v->label_down ? 0.0f : 1.0f);
            n_lab++;
        }
    }
    if (s == KZ_OK && n_lab < (size_t)m->perf_min_samples) {
        snprintf(reason, rn, "performance: %zu realised labels < %d", n_lab, m->perf_min_samples);
        goto done;
    }
    if (s == KZ_OK) {
        static const double uniform[KZ_N_CLASSES] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
        kz_metrics mt;
        s = kz_metrics_compute(y, prob, n, uniform, &mt, err);
        if (s == KZ_OK) {
            double limit = v->test_mlogloss * (1.0 + m->perf_margin);
            int loss_bad = !isnan(v->test_mlogloss) && mt.mlogloss > limit;
            int bal_bad = m->perf_min_balanced > 0 && mt.balanced_accuracy < m->perf_min_balanced;
            *fire = loss_bad || bal_bad;
            snprintf(reason, rn,
                     "performance over %zu predictions of v%d: live mlogloss %.4f vs limit %.4f"
                     " (test %.4f + %.0f%%), balanced accuracy %.4f vs floor %.4f",
                     mt.n, v->version, mt.mlogloss, limit, v->test_mlogloss, m->perf_margin * 100.0,
                     mt.balanced_accuracy, m->perf_min_balanced);
        }
    } else if (s != KZ_OK && s != KZ_ERR_NOMEM) {
        snprintf(err->msg, sizeof err->msg, "performance check: %s", kz_store_errmsg(st));
    }
done:
    kz_bars_free(&bars);
    kz_free(ts);
    kz_free(prob);
    kz_free(y);
    return s;
}

/* Read the drift section of a version's metadata: feature params and per-feature histograms. */
static kz_feature_params meta_fparams(const cJSON *d, int *all_features)
{
    kz_feature_params fp = kz_feature_params_default();
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "feature_params");
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(p, "short_ma")) && cJSON_IsNumber(it)) {
        fp.short_ma = it->valueint;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(p, "long_ma")) && cJSON_IsNumber(it)) {
        fp.long_ma = it->valueint;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(p, "volatility")) && cJSON_IsNumber(it)) {
        fp.volatility = it->valueint;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(p, "momentum")) && cJSON_IsNumber(it)) {
        fp.momentum = it->valueint;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(p, "volume")) && cJSON_IsNumber(it)) {
        fp.volume = it->valueint;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(p, "groups")) && cJSON_IsNumber(it)) {
        fp.groups = (unsigned)it->valuedouble;
    }
    it = cJSON_GetObjectItemCaseSensitive(p, "all_features");
    *all_features = cJSON_IsTrue(it);
    return fp;
}

/* PSI of one stored histogram against the last `window` rows of column x. NaN if unusable. */
static double feature_psi(const cJSON *feat, const float *x, size_t n_rows, size_t window)
{
    const cJSON *edges = cJSON_GetObjectItemCaseSensitive(feat, "edges");
    const cJSON *shares = cJSON_GetObjectItemCaseSensitive(feat, "shares");
    int nb = cJSON_GetArraySize(shares);
    if (nb < 2 || nb > 64 || cJSON_GetArraySize(edges) != nb - 1) {
        return NAN;
    }
    double e[64], exp_sh[64], act[64];
    for (int k = 0; k < nb; k++) {
        exp_sh[k] = cJSON_GetArrayItem(shares, k)->valuedouble;
        if (k < nb - 1) {
            e[k] = cJSON_GetArrayItem(edges, k)->valuedouble;
        }
    }
    size_t w = window < n_rows ? window : n_rows;
    if (sched_hist_shares(x + (n_rows - w), w, e, nb, act) == 0) {
        return NAN;
    }
    return sched_psi(exp_sh, act, nb);
}

/* DRIFT: PSI of the stored top features (training histograms in the registry metadata) over the
 * newest drift_window_bars bars; fires on the largest. The window is loaded with as many bars
 * again before it so the features are past their warm-up. */
static kz_status rule_drift(kz_store *st,
                            const kz_sched_model *m,
                            const kz_model_version *v,
                            int64_t last_bar,
                            int *fire,
                            char *reason,
                            size_t rn,
                            kz_error *err)
{
    char *json = NULL;
    cJSON *root = NULL;
    kz_frame *X = NULL;
    kz_market mk;
    memset(&mk, 0, sizeof mk);
    *fire = 0;
    kz_status s = kz_registry_meta(st, m->name, v->version, &json);
    if (s != KZ_OK) {
        snprintf(err->msg, sizeof err->msg, "drift check: %s", kz_store_errmsg(st));
        goto done;
    }
    root = cJSON_Parse(json);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "drift");
    const cJSON *feats = cJSON_GetObjectItemCaseSensitive(d, "features");
    if (!cJSON_IsArray(feats) || cJSON_GetArraySize(feats) == 0) {
        snprintf(reason, rn, "drift: v%d has no training histograms", v->version);
        goto done;
    }
    int all_features = 0;
    kz_feature_params fp = meta_fparams(d, &all_features);
    int64_t tf_ms = kz_timeframe_ms(m->tf);
    int64_t from = last_bar - (2 * (int64_t)m->drift_window_bars - 1) * tf_ms;
    s = kz_store_load_market(st, m->exchange, m->symbol, m->tf, from, last_bar + 1, NULL, &mk);
    if (s == KZ_OK) {
        s = sched_model_frame(&mk, &fp, all_features, &X, err);
    } else {
        snprintf(err->msg, sizeof err->msg, "drift check: %s", kz_store_errmsg(st));
    }
    double worst = -1.0;
    const char *worst_name = "";
    const cJSON *feat;
    cJSON_ArrayForEach(feat, (s == KZ_OK ? feats : NULL))
    {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(feat, "name");
        size_t j = cJSON_IsString(nm) ? kz_frame_find(X, nm->valuestring) : KZ_FRAME_NPOS;
        if (j == KZ_FRAME_NPOS) {
            continue;
        }
        double psi =
            feature_psi(feat, kz_frame_col(X, j), kz_frame_n_rows(X), (size_t)m->drift_window_bars);
        if (!isnan(psi) && psi > worst) {
            worst = psi;
            worst_name = nm->valuestring;
        }
    }
    if (s == KZ_OK) {
        *fire = worst > m->drift_threshold;
        snprintf(reason, rn, "drift: max PSI %.4f (%s) over %d bars vs threshold %.3f", worst,
                 worst_name, m->drift_window_bars, m->drift_threshold);
    }
done:
    kz_frame_free(X);
    kz_market_free(&mk);
    cJSON_Delete(root);
    kz_free(json);
    return s;
}

/* ---------------------------------------------------------------- evaluation */

static kz_status load_anchor(kz_store *st, const kz_sched_model *m, sched_anchor *a, int64_t now)
{
    kz_status s = kz_sched_first_seen(st, m->name, now, &a->first_seen_ms);
    for (int t = 0; s == KZ_OK && t < KZ_TRIGGER_COUNT; t++) {
        s = kz_jobs_last_fired(st, m->name, t, &a->last_fired[t]);
    }
    a->loaded = s == KZ_OK;
    a->checked_bar_ms = INT64_MIN;
    a->counted_bar_ms = INT64_MIN;
    return s;
}

kz_status sched_eval_triggers(kz_store *st,
                              const kz_sched_model *m,
                              sched_anchor *a,
                              const sched_facts *f,
                              int64_t now,
                              kz_trigger *fired,
                              char *reason,
                              size_t rn,
                              kz_error *err)
{
    *fired = KZ_TRIGGER_COUNT;
    snprintf(reason, rn, "no trigger due");
    kz_status s = a->loaded ? KZ_OK : load_anchor(st, m, a, now);
    if (s != KZ_OK) {
        snprintf(err->msg, sizeof err->msg, "triggers of %s: %s", m->name, kz_store_errmsg(st));
        return s;
    }
    if (rule_scheduled(m, a, f->has_version ? f->newest_created_ms : INT64_MIN, now, reason, rn)) {
        *fired = KZ_TRIGGER_SCHEDULED;
        return KZ_OK;
    }
    int64_t after = f->has_version ? f->newest_data_to_ms : INT64_MIN;
    if (m->new_data_bars > 0 && f->has_bars && f->last_bar_ms > after) {
        /* Count again only when the series or the training end moved. */
        if (a->counted_bar_ms != f->last_bar_ms || a->counted_after_ms != after) {
            s = kz_store_count_bars_after(st, m->exchange, m->symbol, m->tf, after, &a->counted);
            if (s != KZ_OK) {
                snprintf(err->msg, sizeof err->msg, "new data of %s: %s", m->name,
                         kz_store_errmsg(st));
                return s;
            }
            a->counted_bar_ms = f->last_bar_ms;
            a->counted_after_ms = after;
        }
        if (a->counted >= (size_t)m->new_data_bars) {
            snprintf(reason, rn, "%zu new bars since the last training (threshold %d)", a->counted,
                     m->new_data_bars);
            *fired = KZ_TRIGGER_NEW_DATA;
            return KZ_OK;
        }
    }
    int want_perf = m->perf_margin > 0 || m->perf_min_balanced > 0;
    int want_drift = m->drift_threshold > 0;
    /* The expensive checks run once per new bar or new active version, not every tick. */
    if (!(want_perf || want_drift) || !f->active_version || !f->has_bars ||
        (f->last_bar_ms == a->checked_bar_ms && f->active_version == a->checked_version)) {
        return KZ_OK;
    }
    kz_model_version v;
    s = kz_registry_get(st, m->name, f->active_version, &v);
    if (s != KZ_OK) {
        snprintf(err->msg, sizeof err->msg, "triggers of %s: %s", m->name, kz_store_errmsg(st));
        return s;
    }
    a->checked_bar_ms = f->last_bar_ms;
    a->checked_version = f->active_version;
    int fire = 0;
    if (want_perf && now >= a->last_fired[KZ_TRIGGER_PERFORMANCE] + m->trigger_cooldown_ms) {
        s = rule_performance(st, m, &v, f->last_bar_ms, &fire, reason, rn, err);
        if (s == KZ_OK && fire) {
            *fired = KZ_TRIGGER_PERFORMANCE;
            return KZ_OK;
        }
    }
    if (s == KZ_OK && want_drift &&
        now >= a->last_fired[KZ_TRIGGER_DRIFT] + m->trigger_cooldown_ms) {
        s = rule_drift(st, m, &v, f->last_bar_ms, &fire, reason, rn, err);
        if (s == KZ_OK && fire) {
            *fired = KZ_TRIGGER_DRIFT;
        }
    }
    return s;
}
