/* Signals benchmark: batch ML columns for a synthetic market (default 100k bars, features
 * included; target < 0.5 s) against the direct path (features + select + kz_model_predict), and
 * streaming latency per closed bar (feature state + single-row predict; p50/p99, target p99 <
 * 60 us) against the feature update alone. The model is trained here on the first 5000 bars.
 * usage: bench_signals [n_bars] [rounds] [threads] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kizashi/core.h"
#include "kizashi/signals.h"

#include "bench_util.h"

/* Best of 3 wall times of the direct path: features, selection, kz_model_predict. */
static double direct_seconds(kz_model *model, const kz_market *m, double *prob)
{
    double best = INFINITY;
    for (int r = 0; r < 3; r++) {
        double t0 = kz_monotonic_s();
        kz_frame *f = NULL, *x = NULL;
        if (kz_features_compute(m, kz_model_feature_params(model), &f, NULL, NULL) != KZ_OK ||
            kz_model_select_features(f, m, 0, &x, NULL) != KZ_OK ||
            kz_model_predict(model, x, prob, NULL) != KZ_OK) {
            return NAN;
        }
        kz_frame_free(f);
        kz_frame_free(x);
        best = fmin(best, kz_monotonic_s() - t0);
    }
    return best;
}

/* Best of 3 wall times of the features alone. */
static double features_seconds(kz_model *model, const kz_market *m)
{
    double best = INFINITY;
    for (int r = 0; r < 3; r++) {
        double t0 = kz_monotonic_s();
        kz_frame *f = NULL;
        if (kz_features_compute(m, kz_model_feature_params(model), &f, NULL, NULL) != KZ_OK) {
            return NAN;
        }
        kz_frame_free(f);
        best = fmin(best, kz_monotonic_s() - t0);
    }
    return best;
}

/* Streaming latencies (us) of the last n_lat bars: signals (state + predict) and the feature
 * state alone, sorted. */
static int
stream_latency(kz_signals *sig, const kz_market *m, size_t n_lat, double *lat, double *lat_feat)
{
    const kz_bars *b = &m->bars;
    size_t n = b->n, warm = n - n_lat;
    kz_signal_stream *st = NULL;
    kz_feature_state *fs = NULL;
    const kz_model *model = kz_signals_model(sig);
    if (kz_signal_stream_new(sig, m->tf, 1, 1, &st, NULL) != KZ_OK ||
        kz_feature_state_new(kz_model_feature_params(model), m->tf, 1, 1, &fs, NULL) != KZ_OK) {
        return 0;
    }
    float *row = malloc(kz_feature_state_n_cols(fs) * sizeof *row);
    size_t n_fallback = 0;
    for (size_t i = 0; i < n; i++) {
        double pr[3];
        kz_signal_report rep;
        double t0 = kz_monotonic_s();
        if (kz_signal_stream_push(st, b->ts_ms[i], b->open[i], b->high[i], b->low[i], b->close[i],
                                  b->volume[i], m->funding[i], m->oi[i], pr, &rep) != KZ_OK) {
            return 0;
        }
        double t1 = kz_monotonic_s();
        if (kz_feature_state_push(fs, b->ts_ms[i], b->open[i], b->high[i], b->low[i], b->close[i],
                                  b->volume[i], m->funding[i], m->oi[i], row) != KZ_OK) {
            return 0;
        }
        double t2 = kz_monotonic_s();
        n_fallback += rep.n_fallback;
        if (i >= warm) {
            lat[i - warm] = (t1 - t0) * 1e6;
            lat_feat[i - warm] = (t2 - t1) * 1e6;
        }
    }
    qsort(lat, n_lat, sizeof *lat, bench_cmp_double);
    qsort(lat_feat, n_lat, sizeof *lat_feat, bench_cmp_double);
    free(row);
    kz_feature_state_free(fs);
    kz_signal_stream_free(st);
    return n_fallback == 0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    int rounds = argc > 2 ? atoi(argv[2]) : 30;
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    if (n < 6000 || rounds < 1) {
        fprintf(stderr, "usage: bench_signals [n_bars >= 6000] [rounds >= 1] [threads]\n");
        return 2;
    }
    kz_market m, train_m;
    if (!bench_synth_market(n, "BTCUSDT", 0, 0, &m) ||
        !bench_synth_market(5000, "BTCUSDT", 0, 0, &train_m)) {
        fprintf(stderr, "synthetic market failed\n");
        return 1;
    }
    kz_train_params p = kz_train_params_default();
    p.booster.num_boost_round = rounds;
    p.booster.early_stopping = 0;
    p.booster.num_threads = threads;
    p.booster.num_leaves = 15;
    p.booster.max_bin = 63;
    kz_model *model = NULL;
    kz_error err;
    if (kz_model_train(&train_m, &p, &model, &err) != KZ_OK) {
        fprintf(stderr, "train: %s\n", err.msg);
        return 1;
    }
    printf("bench_signals: %zu bars, model of %d rounds x 15 leaves, %zu features, %d thread(s) "
           "(trained on 5000 bars in %.2f s)\n",
           n, kz_model_n_rounds(model), kz_model_n_features(model), threads,
           kz_model_train_seconds(model));

    kz_signals *sig = NULL;
    double *col = malloc(3 * n * sizeof *col), *prob = malloc(3 * n * sizeof *prob);
    if (kz_signals_new(model, NULL, &sig, &err) != KZ_OK || !col || !prob) {
        fprintf(stderr, "signals: %s\n", err.msg);
        return 1;
    }
    double best = INFINITY, best_cpu = INFINITY;
    kz_signal_report rep;
    for (int r = 0; r < 3; r++) {
        double t0 = kz_monotonic_s(), c0 = bench_cpu_s();
        if (kz_signals_compute(sig, &m, col, col + n, col + 2 * n, &rep) != KZ_OK || rep.fallback) {
            fprintf(stderr, "signals fell back: %s: %s\n", kz_signal_reason_str(rep.reason),
                    rep.detail.msg);
            return 1;
        }
        best = fmin(best, kz_monotonic_s() - t0);
        best_cpu = fmin(best_cpu, bench_cpu_s() - c0);
    }
    double t_direct = direct_seconds(model, &m, prob), t_feat = features_seconds(model, &m);
    size_t same = 0;
    for (size_t i = 0; i < n; i++) {
        same += col[i] == prob[3 * i] && col[n + i] == prob[3 * i + 1] &&
                col[2 * n + i] == prob[3 * i + 2];
    }
    printf(
        "batch signals incl. features: %.3f s wall, %.3f s CPU = %.0f bars/CPU-s (target < 0.5 s "
        "for 100k); "
        "features alone %.3f s; direct path (features + select + predict) %.3f s, ratio %.2f; "
        "%zu/%zu bars equal to the direct path\n",
        best, best_cpu, (double)n / best_cpu, t_feat, t_direct, best / t_direct, same, n);

    size_t n_lat = n < 20000 ? n : 20000;
    double *lat = malloc(n_lat * sizeof *lat), *lat_feat = malloc(n_lat * sizeof *lat_feat);
    if (!stream_latency(sig, &m, n_lat, lat, lat_feat)) {
        fprintf(stderr, "streaming failed\n");
        return 1;
    }
    printf("streaming per closed bar, last %zu of %zu bars: p50 %.1f us, p99 %.1f us, max %.1f us "
           "(target p99 < 60 us); feature state alone p50 %.1f us, p99 %.1f us\n",
           n_lat, n, lat[n_lat / 2], lat[n_lat * 99 / 100], lat[n_lat - 1], lat_feat[n_lat / 2],
           lat_feat[n_lat * 99 / 100]);
    printf("baseline: the original predicted once from the last bar and broadcast it over every "
           "bar (SPEC §3), so it had no per-bar figure to compare\n");
    free(lat);
    free(lat_feat);
    free(col);
    free(prob);
    kz_signals_free(sig);
    kz_model_free(model);
    kz_market_free(&m);
    kz_market_free(&train_m);
    return 0;
}
