/* Model benchmark: training time on a synthetic market's features (default 100k bars x 79
 * features, 100 rounds, 2 threads) at two histogram sizes, the share of time spent outside
 * XGBoost, single-row latency of feature update + predict (p50/p99), batch prediction throughput,
 * and the booster alone per row and in batch: XGBoost against our tree evaluator (same run).
 * usage: bench_model [n_bars] [threads] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/model.h"

#include "bench_util.h"
#include "model/model_int.h"

/* The work kz_model_train_frame does itself, outside XGBoost: scaler fit, the labelled-row
 * gathers into row-major matrices, and the per-round loss over the validation rows. */
static double own_work_seconds(const kz_frame *X, const float *y, const kz_split *sp, int rounds)
{
    size_t p = kz_frame_n_cols(X), n = kz_frame_n_rows(X);
    double *mean = malloc(p * sizeof *mean), *scale = malloc(p * sizeof *scale);
    size_t *idx = malloc(n * sizeof *idx);
    double t0 = kz_monotonic_s();
    if (kz_scaler_fit(X, sp->train_begin, sp->train_end, mean, scale) != KZ_OK) {
        return NAN;
    }
    const size_t seg[3][2] = {{sp->train_begin, sp->train_end},
                              {sp->valid_begin, sp->valid_end},
                              {sp->test_begin, sp->test_end}};
    size_t n_valid = 0;
    for (int s = 0; s < 3; s++) {
        size_t k = model_labelled(y, seg[s][0], seg[s][1], idx);
        n_valid = s == 1 ? k : n_valid;
        float *rows = NULL;
        if (model_rows(X, idx, 0, k, mean, scale, &rows) == KZ_OK) {
            kz_free(rows);
        }
    }
    /* the loss loop: one log per validation row per round */
    volatile double sink = 0.0;
    for (int r = 0; r < rounds; r++) {
        double s = 0.0;
        for (size_t i = 0; i < n_valid; i++) {
            s -= log(0.3 + 1e-9 * (double)i);
        }
        sink += s;
    }
    (void)sink;
    double t = kz_monotonic_s() - t0;
    free(mean);
    free(scale);
    free(idx);
    return t;
}

/* p50/p99 of n_lat latencies in us (sorts lat). */
static void percentiles(double *lat, size_t n_lat, double *p50, double *p99)
{
    qsort(lat, n_lat, sizeof *lat, bench_cmp_double);
    *p50 = lat[n_lat / 2];
    *p99 = lat[n_lat * 99 / 100];
}

/* The booster alone, same rows, same run: XGBoost's one-row inplace prediction (1 thread, what
 * predict_row called before) against our tree evaluator (what it calls now), and batch prediction
 * of every row: XGBoost (all threads) against the evaluator (one thread). The rows are the scaled
 * rows of X; batch_xgb holds kz_model_predict's output, which both must reproduce bit for bit. */
static void predict_paths(kz_model *m, const kz_frame *X, const double *batch_xgb)
{
    size_t n = kz_frame_n_rows(X), p = kz_frame_n_cols(X);
    size_t n_lat = n < 20000 ? n : 20000;
    float *rows = NULL;
    if (model_rows(X, NULL, 0, n, m->mean, m->scale, &rows) != KZ_OK) {
        return;
    }
    double *lat_x = malloc(n_lat * sizeof *lat_x), *lat_f = malloc(n_lat * sizeof *lat_f);
    double *mine = malloc(n * 3 * sizeof *mine);
    size_t differ = 0;
    kz_error err;
    if (xgb_set_threads(m->booster, 1, &err) != KZ_OK) {
        return;
    }
    for (size_t i = 0; i < n_lat; i++) {
        const float *x = rows + (n - n_lat + i) * p;
        double px[3], pf[3];
        double a = kz_monotonic_s();
        if (xgb_predict(m->booster, x, 1, p, px, &err) != KZ_OK) {
            return;
        }
        double b = kz_monotonic_s();
        model_forest_predict(m->forest, x, pf);
        double c = kz_monotonic_s();
        lat_x[i] = (b - a) * 1e6;
        lat_f[i] = (c - b) * 1e6;
        differ += memcmp(px, pf, sizeof px) != 0;
    }
    double x50, x99, f50, f99;
    percentiles(lat_x, n_lat, &x50, &x99);
    percentiles(lat_f, n_lat, &f50, &f99);
    printf("predict one row, booster alone (%zu trees, %zu nodes): XGBoost inplace p50 %.1f us, "
           "p99 %.1f us; our evaluator p50 %.2f us, p99 %.2f us (%.0fx at p50); %zu rows differ\n",
           m->forest->n_trees, m->forest->n_nodes, x50, x99, f50, f99, x50 / f50, differ);
    double t0 = kz_monotonic_s();
    for (size_t i = 0; i < n; i++) {
        model_forest_predict(m->forest, rows + i * p, mine + 3 * i);
    }
    double t_f = kz_monotonic_s() - t0;
    differ = 0;
    for (size_t i = 0; i < n; i++) {
        differ += memcmp(mine + 3 * i, batch_xgb + 3 * i, 3 * sizeof *mine) != 0;
    }
    printf(
        "batch predict with our evaluator (1 thread): %zu rows in %.3f s = %.0f rows/s; %zu rows "
        "differ from XGBoost's batch\n",
        n, t_f, (double)n / t_f, differ);
    free(lat_x);
    free(lat_f);
    free(mine);
    kz_free(rows);
}

int main(int argc, char **argv)
{
    size_t n_bars = argc > 1 ? (size_t)atol(argv[1]) : 100000;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    kz_market m;
    if (!bench_synth_market(n_bars, "BTCUSDT", 0, 0, &m)) {
        fprintf(stderr, "synthetic market failed\n");
        return 1;
    }
    kz_frame *full = NULL, *X = NULL;
    double t0 = kz_monotonic_s();
    if (kz_features_compute(&m, NULL, &full, NULL, NULL) != KZ_OK ||
        kz_model_select_features(full, &m, 0, &X, NULL) != KZ_OK) {
        fprintf(stderr, "features failed\n");
        return 1;
    }
    double t_feat = kz_monotonic_s() - t0;
    size_t n = kz_frame_n_rows(X), p = kz_frame_n_cols(X);
    kz_label_params lp = kz_label_params_default();
    kz_split split;
    float *y = malloc(n * sizeof *y);
    kz_error err;
    kz_split_params spp = kz_split_params_default();
    if (kz_split_compute(n - 24, 24, &spp, &split, &err) != KZ_OK ||
        kz_labels_compute(m.bars.close, n, &lp, split.train_end, y, NULL, &err) != KZ_OK) {
        fprintf(stderr, "labels: %s\n", err.msg);
        return 1;
    }
    printf("bench_model: %zu bars x %zu features (features computed in %.2f s), %d threads\n", n, p,
           t_feat, threads);

    kz_model *keep = NULL;
    const int bins[2] = {255, 63};
    for (int k = 0; k < 2; k++) {
        kz_booster_params bp = kz_booster_params_default();
        bp.num_boost_round = 100;
        bp.early_stopping = 0;
        bp.num_threads = threads;
        bp.max_bin = bins[k];
        kz_model *model = NULL;
        t0 = kz_monotonic_s();
        if (kz_model_train_frame(X, y, &split, &bp, NULL, NULL, 0, &model, &err) != KZ_OK) {
            fprintf(stderr, "train: %s\n", err.msg);
            return 1;
        }
        double t_train = kz_monotonic_s() - t0;
        double t_own = own_work_seconds(X, y, &split, 100);
        printf("train 100 rounds, max_bin %3d: %.2f s, test mlogloss %.4f (baseline %.4f); "
               "outside XGBoost %.3f s = %.1f%% (target < 10%%)\n",
               bins[k], t_train, kz_model_metrics(model)->mlogloss,
               kz_model_metrics(model)->baseline_mlogloss, t_own, 100.0 * t_own / t_train);
        if (k == 0) {
            keep = model;
        } else {
            kz_model_free(model);
        }
    }

    /* Batch prediction throughput. */
    double *prob = malloc(n * 3 * sizeof *prob);
    t0 = kz_monotonic_s();
    if (kz_model_predict(keep, X, prob, &err) != KZ_OK) {
        fprintf(stderr, "predict: %s\n", err.msg);
        return 1;
    }
    double t_pred = kz_monotonic_s() - t0;
    printf("batch predict: %zu rows in %.3f s = %.0f rows/s\n", n, t_pred, (double)n / t_pred);

    /* Streaming: one bar through the feature state, then predict that row. */
    kz_feature_state *st = NULL;
    if (kz_feature_state_new(NULL, KZ_TF_1H, 1, 1, &st, NULL) != KZ_OK) {
        return 1;
    }
    size_t nc = kz_feature_state_n_cols(st);
    const char **names = malloc(nc * sizeof *names);
    for (size_t j = 0; j < nc; j++) {
        names[j] = kz_frame_name(full, j);
    }
    size_t *map = malloc(p * sizeof *map);
    float *row = malloc(nc * sizeof *row), *xr = malloc(p * sizeof *xr);
    if (kz_model_map_columns(keep, names, nc, map, &err) != KZ_OK) {
        fprintf(stderr, "map: %s\n", err.msg);
        return 1;
    }
    size_t n_lat = n < 20000 ? n : 20000, warm = n - n_lat;
    double *lat = malloc(n_lat * sizeof *lat), *lat_feat = malloc(n_lat * sizeof *lat_feat);
    const kz_bars *bb = &m.bars;
    for (size_t i = 0; i < n; i++) {
        double a = kz_monotonic_s();
        if (kz_feature_state_push(st, bb->ts_ms[i], bb->open[i], bb->high[i], bb->low[i],
                                  bb->close[i], bb->volume[i], m.funding[i], m.oi[i],
                                  row) != KZ_OK) {
            return 1;
        }
        if (i < warm) {
            continue;
        }
        double mid = kz_monotonic_s();
        double pr[3];
        for (size_t j = 0; j < p; j++) {
            xr[j] = row[map[j]];
        }
        if (kz_model_predict_row(keep, xr, p, pr, &err) != KZ_OK) {
            return 1;
        }
        double end = kz_monotonic_s();
        lat[i - warm] = (end - a) * 1e6;
        lat_feat[i - warm] = (mid - a) * 1e6;
    }
    qsort(lat, n_lat, sizeof *lat, bench_cmp_double);
    qsort(lat_feat, n_lat, sizeof *lat_feat, bench_cmp_double);
    printf("single row (feature update + predict), %zu bars: p50 %.1f us, p99 %.1f us "
           "(target p99 < 50 us); feature update alone p50 %.1f us, p99 %.1f us\n",
           n_lat, lat[n_lat / 2], lat[n_lat * 99 / 100], lat_feat[n_lat / 2],
           lat_feat[n_lat * 99 / 100]);
    printf("baseline: the original recomputes every feature, then predicts in ~1000 us for the "
           "booster alone\n");
    predict_paths(keep, X, prob);
    free(lat);
    free(lat_feat);
    free(names);
    free(map);
    free(row);
    free(xr);
    free(prob);
    free(y);
    kz_feature_state_free(st);
    kz_model_free(keep);
    kz_frame_free(full);
    kz_frame_free(X);
    kz_market_free(&m);
    return 0;
}
