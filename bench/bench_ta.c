/* Benchmark of the indicator registry on 1M synthetic bars: batch bars/s per indicator (best of
 * 3, via kz_ta_run, defaults), the whole list's total, and streaming ns/update for O(1) states.
 * Baseline in the same run: a plain copy of the close column (memory-bound floor). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/ta.h"

enum { N = 1000000, REPS = 3 };

static double *cols[5]; /* open, high, low, close, volume */

static void make_bars(void)
{
    kz_rng r;
    kz_rng_seed(&r, 1);
    for (int k = 0; k < 5; k++) {
        cols[k] = malloc(N * sizeof(double));
    }
    double close = 30000.0;
    for (size_t i = 0; i < N; i++) {
        double open = close;
        close = open * exp(0.005 * kz_rng_normal(&r));
        cols[KZ_IN_OPEN][i] = open;
        cols[KZ_IN_HIGH][i] = fmax(open, close) * (1.0 + 0.002 * fabs(kz_rng_normal(&r)));
        cols[KZ_IN_LOW][i] = fmin(open, close) * (1.0 - 0.002 * fabs(kz_rng_normal(&r)));
        cols[KZ_IN_CLOSE][i] = close;
        cols[KZ_IN_VOLUME][i] = 1000.0 * (1.0 + kz_rng_uniform(&r));
    }
}

static int is_simple(const char *name)
{
    static const char *const simple[] = {"SMA", "EMA", "RSI", "ATR", "BBANDS", "MACD"};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        if (strcmp(simple[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Best-of-REPS seconds for one batch run; -1 on error. */
static double time_batch(const kz_ta_info *info, const double *params, double *const *out)
{
    const double *in[KZ_TA_MAX_INPUTS];
    for (int k = 0; k < info->n_inputs; k++) {
        in[k] = cols[info->inputs[k]];
    }
    double best = INFINITY;
    for (int rep = 0; rep < REPS; rep++) {
        kz_error err;
        double t0 = kz_monotonic_s();
        if (kz_ta_run(info, N, in, params, out, &err) != KZ_OK) {
            fprintf(stderr, "%s: %s\n", info->name, err.msg);
            return -1;
        }
        best = fmin(best, kz_monotonic_s() - t0);
    }
    return best;
}

/* ns per kz_ta_stream_push over all N bars; -1 if the indicator uses the O(history) fallback. */
static double time_stream(const kz_ta_info *info, const double *params, double *sink)
{
    kz_ta_stream *s = NULL;
    kz_error err;
    if (kz_ta_stream_new(info, params, &s, &err) != KZ_OK) {
        return -1;
    }
    if (!kz_ta_stream_is_o1(s)) {
        kz_ta_stream_free(s);
        return -1;
    }
    double in[KZ_TA_MAX_INPUTS], out[KZ_TA_MAX_OUTPUTS] = {0};
    double acc = 0;
    double t0 = kz_monotonic_s();
    for (size_t i = 0; i < N; i++) {
        for (int k = 0; k < info->n_inputs; k++) {
            in[k] = cols[info->inputs[k]][i];
        }
        if (kz_ta_stream_push(s, in, out) != KZ_OK) {
            break;
        }
        acc += out[0] == out[0] ? 1.0 : 0.0;
    }
    double dt = kz_monotonic_s() - t0;
    *sink += acc;
    kz_ta_stream_free(s);
    return dt * 1e9 / N;
}

/* Best-of-REPS seconds for the whole registry at default parameters in one kz_ta_run_many call
 * (every output has its own array, touched before timing like the single-indicator runs'). */
static double time_many(size_t count)
{
    kz_ta_request *req = calloc(count, sizeof *req);
    double(*params)[KZ_TA_MAX_PARAMS] = calloc(count, sizeof *params);
    double *(*outs)[KZ_TA_MAX_OUTPUTS] = calloc(count, sizeof *outs);
    double best = INFINITY;
    for (size_t i = 0; req && params && outs && i < count; i++) {
        req[i].info = kz_ta_at(i);
        kz_ta_defaults(req[i].info, params[i]);
        req[i].params = params[i];
        for (int j = 0; j < req[i].info->n_outputs; j++) {
            outs[i][j] = calloc(N, sizeof(double));
        }
        req[i].out = outs[i];
    }
    const double *bars[5] = {cols[0], cols[1], cols[2], cols[3], cols[4]};
    for (int rep = 0; rep < REPS && req && params && outs; rep++) {
        kz_error err;
        double t0 = kz_monotonic_s();
        if (kz_ta_run_many(N, bars, req, count, &err) != KZ_OK) {
            fprintf(stderr, "kz_ta_run_many: %s\n", err.msg);
            best = -1;
            break;
        }
        best = fmin(best, kz_monotonic_s() - t0);
    }
    for (size_t i = 0; outs && req && i < count; i++) {
        for (int j = 0; j < req[i].info->n_outputs; j++) {
            free(outs[i][j]);
        }
    }
    free(req);
    free(params);
    free(outs);
    return best;
}

int main(void)
{
    make_bars();
    double *outbuf[KZ_TA_MAX_OUTPUTS];
    for (int j = 0; j < KZ_TA_MAX_OUTPUTS; j++) {
        outbuf[j] = malloc(N * sizeof(double));
    }
    /* Baseline: copying the close column (no arithmetic). */
    double base = INFINITY;
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = kz_monotonic_s();
        memcpy(outbuf[0], cols[KZ_IN_CLOSE], N * sizeof(double));
        base = fmin(base, kz_monotonic_s() - t0);
    }
    printf("bench_ta: %d synthetic bars, batch = best of %d runs at default parameters\n", N, REPS);
    printf("baseline memcpy of one column: %.0f Mbars/s\n\n", N / base / 1e6);
    printf("%-20s %-10s %12s %9s %14s  %s\n", "indicator", "group", "batch Mbar/s", "vs copy",
           "stream ns/upd", "target");
    size_t n = kz_ta_count();
    double total = 0, sink = 0;
    int misses = 0;
    for (size_t i = 0; i < n; i++) {
        const kz_ta_info *info = kz_ta_at(i);
        double params[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, params);
        double t = time_batch(info, params, outbuf);
        if (t < 0) {
            continue;
        }
        total += t;
        double ns = time_stream(info, params, &sink);
        double mbars = N / t / 1e6;
        char stream[32];
        if (ns < 0) {
            snprintf(stream, sizeof stream, "fallback");
        } else {
            snprintf(stream, sizeof stream, "%.1f", ns);
        }
        const char *target = "";
        if (is_simple(info->name)) {
            int ok = mbars >= 100.0 && ns >= 0 && ns <= 20.0;
            target = ok ? ">=100M/s, <=20ns: ok" : ">=100M/s, <=20ns: MISSED";
            misses += !ok;
        }
        printf("%-20s %-10s %12.1f %8.2fx %14s  %s\n", info->name, info->group, mbars, base / t,
               stream, target);
    }
    double many = time_many(n);
    printf("\nwhole list (%zu indicators, %d bars), one kz_ta_run per indicator: %.3f s  "
           "[target < 1 s: %s]\n",
           n, N, total, total < 1.0 ? "ok" : "MISSED");
    printf("whole list, one kz_ta_run_many call (inputs checked once, HT transform shared): %.3f s  "
           "[target < 1 s: %s]\n",
           many, many < 1.0 ? "ok" : "MISSED");
    printf("simple indicators missing their targets: %d\n", misses);
    if (sink < 0) {
        printf("%g\n", sink);
    }
    for (int k = 0; k < 5; k++) {
        free(cols[k]);
    }
    for (int j = 0; j < KZ_TA_MAX_OUTPUTS; j++) {
        free(outbuf[j]);
    }
    return 0;
}
