/* Benchmark of the rolling primitives: batch Melem/s on 1M doubles (w = 20 and 168), streaming
 * ns/update, and the naive per-window recomputation (w = 20, 100k elements) as baseline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/ta.h"

#include "ta/rolling_int.h"

enum { N = 1000000, N_NAIVE = 100000, W_MAX = 168, REPS = 3 }; /* best of REPS runs */

typedef enum prim {
    P_SUM,
    P_MEAN,
    P_VAR,
    P_STD,
    P_MIN,
    P_MAX,
    P_ARGMIN,
    P_ARGMAX,
    P_QUANTILE,
    P_CORR,
    P_SLOPE,
    P_MAD,
    P_EWM_ADJ,
    P_EWM_REC,
    P_PCT,
    P_DIFF,
    P_COUNT
} prim;

static const char *const names[P_COUNT] = {
    "sum",      "mean", "var",   "std", "min",     "max",     "argmin",     "argmax",
    "quantile", "corr", "slope", "mad", "ewm_adj", "ewm_rec", "pct_change", "diff"};

static int windowed(prim p)
{
    return p < P_EWM_ADJ;
}

static kz_status
run_batch(prim p, const double *x, const double *y, size_t n, size_t w, double *out)
{
    switch (p) {
    case P_SUM:
        return kz_roll_sum(x, n, w, out);
    case P_MEAN:
        return kz_roll_mean(x, n, w, out);
    case P_VAR:
        return kz_roll_var(x, n, w, 1, out);
    case P_STD:
        return kz_roll_std(x, n, w, 1, out);
    case P_MIN:
        return kz_roll_min(x, n, w, out);
    case P_MAX:
        return kz_roll_max(x, n, w, out);
    case P_ARGMIN:
        return kz_roll_argmin(x, n, w, out);
    case P_ARGMAX:
        return kz_roll_argmax(x, n, w, out);
    case P_QUANTILE:
        return kz_roll_quantile(x, n, w, 0.9, out);
    case P_CORR:
        return kz_roll_corr(x, y, n, w, out);
    case P_SLOPE:
        return kz_roll_slope(x, n, w, out);
    case P_MAD:
        return kz_roll_mad(x, n, w, out);
    case P_EWM_ADJ:
        return kz_ewm_adjusted(x, n, 2.0 / ((double)w + 1.0), out);
    case P_EWM_REC:
        return kz_ewm_recursive(x, n, 2.0 / ((double)w + 1.0), out);
    case P_PCT:
        return kz_pct_change(x, n, w, 1, out);
    case P_DIFF:
        return kz_diff(x, n, w, out);
    default:
        return KZ_ERR_INVALID;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

static double win_mean(const double *x, size_t w)
{
    double m = 0.0;
    for (size_t j = 0; j < w; j++) {
        m += x[j];
    }
    return m / (double)w;
}

/* sum_j a(j) (x_j - mean x) (y_j - mean y) with a = 1, or a = j - (w-1)/2 when `centred_index`. */
static double win_comoment(const double *x, const double *y, size_t w, int centred_index)
{
    double mx = centred_index ? 0.0 : win_mean(x, w), my = win_mean(y, w), c = 0.0;
    for (size_t j = 0; j < w; j++) {
        double a = centred_index ? (double)j - (double)(w - 1) / 2.0 : x[j] - mx;
        c += a * (y[j] - my);
    }
    return c;
}

/* The obvious implementation: recompute each window from scratch (two-pass, a scan for the
 * extremes, a sort for the quantile). */
static double naive_window(prim p, const double *x, const double *y, size_t w, double *tmp)
{
    switch (p) {
    case P_SUM:
        return win_mean(x, w) * (double)w;
    case P_MEAN:
        return win_mean(x, w);
    case P_VAR:
        return win_comoment(x, x, w, 0) / (double)(w - 1);
    case P_STD:
        return sqrt(win_comoment(x, x, w, 0) / (double)(w - 1));
    case P_MIN:
    case P_MAX:
    case P_ARGMIN:
    case P_ARGMAX: {
        size_t best = 0;
        for (size_t j = 1; j < w; j++) {
            int lower = x[j] <= x[best];
            if ((p == P_MIN || p == P_ARGMIN) ? lower : x[j] >= x[best]) {
                best = j;
            }
        }
        return p == P_MIN || p == P_MAX ? x[best] : (double)best;
    }
    case P_QUANTILE: {
        memcpy(tmp, x, w * sizeof(double));
        qsort(tmp, w, sizeof(double), cmp_double);
        double pos = 0.9 * (double)(w - 1);
        size_t lo = (size_t)pos;
        return tmp[lo] + (tmp[lo + 1] - tmp[lo]) * (pos - (double)lo);
    }
    case P_CORR:
        return win_comoment(x, y, w, 0) / sqrt(win_comoment(x, x, w, 0) * win_comoment(y, y, w, 0));
    case P_SLOPE:
        return win_comoment(x, x, w, 1) / ((double)w * ((double)w * (double)w - 1.0) / 12.0);
    case P_MAD: {
        double m = win_mean(x, w), ad = 0.0;
        for (size_t j = 0; j < w; j++) {
            ad += fabs(x[j] - m);
        }
        return ad / (double)w;
    }
    default:
        return NAN;
    }
}

/* Streaming: push n values through the state of p; returns a checksum so nothing is elided. */
static double run_stream(prim p, const double *x, const double *y, size_t n, size_t w, void *mem)
{
    double acc = 0.0, idx;
    union {
        kz_rsum_state sum;
        kz_rvar_state var;
        kz_rcorr_state corr;
        kz_rslope_state slope;
        kz_rext_state ext;
        kz_rquant_state quant;
        kz_rmad_state mad;
        kz_ewma_state ewma;
        kz_ewmr_state ewmr;
        kz_lag_state lag;
    } s;
    switch (p) {
    case P_SUM:
    case P_MEAN:
        kz_rsum_init(&s.sum, w, mem);
        for (size_t i = 0; i < n; i++) {
            acc += kz_rsum_push(&s.sum, x[i]);
        }
        break;
    case P_VAR:
    case P_STD:
        kz_rvar_init(&s.var, w, 1, mem);
        for (size_t i = 0; i < n; i++) {
            acc += kz_rvar_push(&s.var, x[i]);
        }
        break;
    case P_MIN:
    case P_MAX:
    case P_ARGMIN:
    case P_ARGMAX:
        kz_rext_init(&s.ext, w, p == P_MAX || p == P_ARGMAX, mem);
        for (size_t i = 0; i < n; i++) {
            acc += kz_rext_push(&s.ext, x[i], &idx) + idx;
        }
        break;
    case P_QUANTILE:
        kz_rquant_init(&s.quant, w, 0.9, mem);
        for (size_t i = 0; i < n; i++) {
            acc += kz_rquant_push(&s.quant, x[i]);
        }
        break;
    case P_CORR:
        kz_rcorr_init(&s.corr, w, mem);
        for (size_t i = 0; i < n; i++) {
            acc += kz_rcorr_push(&s.corr, x[i], y[i]);
        }
        break;
    case P_SLOPE:
        kz_rslope_init(&s.slope, w, mem);
        for (size_t i = 0; i < n; i++) {
            acc += kz_rslope_push(&s.slope, x[i]);
        }
        break;
    case P_MAD:
        kz_rmad_init(&s.mad, w, mem);
        for (size_t i = 0; i < n; i++) {
            acc += kz_rmad_push(&s.mad, x[i]);
        }
        break;
    case P_EWM_ADJ:
        kz_ewma_init(&s.ewma, 2.0 / ((double)w + 1.0));
        for (size_t i = 0; i < n; i++) {
            acc += kz_ewma_push(&s.ewma, x[i]);
        }
        break;
    case P_EWM_REC:
        kz_ewmr_init(&s.ewmr, 2.0 / ((double)w + 1.0));
        for (size_t i = 0; i < n; i++) {
            acc += kz_ewmr_push(&s.ewmr, x[i]);
        }
        break;
    case P_PCT:
    case P_DIFF:
        kz_lag_init(&s.lag, w, 1, mem);
        for (size_t i = 0; i < n; i++) {
            acc += p == P_PCT ? kz_lag_pct_push(&s.lag, x[i]) : kz_lag_diff_push(&s.lag, x[i]);
        }
        break;
    default:
        break;
    }
    return acc;
}

int main(void)
{
    double *x = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double));
    double *out = malloc(N * sizeof(double));
    static double mem[2 * W_MAX * 2], tmp[W_MAX];
    if (!x || !y || !out) {
        fprintf(stderr, "bench_rolling: out of memory\n");
        return 1;
    }
    kz_rng r;
    kz_rng_seed(&r, 42);
    double level = 1e5;
    for (size_t i = 0; i < N; i++) {
        level += kz_rng_normal(&r);
        x[i] = level;
        y[i] = kz_rng_normal(&r);
    }
    printf(
        "bench_rolling: n = %d doubles (random walk), naive baseline on %d, w = 20, best of %d\n",
        N, N_NAIVE, REPS);
    printf("%-11s %12s %12s %12s %12s %12s %9s\n", "primitive", "w20 Melem/s", "w168 Melem/s",
           "w20 ns/upd", "w168 ns/upd", "naive Mel/s", "fast/naive");
    double sink = 0.0;
    memset(out, 0, N * sizeof(double)); /* first touch outside the timings */
    for (int p = 0; p < P_COUNT; p++) {
        double mps[2], ns[2];
        static const size_t ws[2] = {20, W_MAX};
        for (int k = 0; k < 2; k++) {
            double best_batch = INFINITY, best_stream = INFINITY;
            for (int rep = 0; rep < REPS; rep++) {
                double t0 = kz_monotonic_s();
                if (run_batch((prim)p, x, y, N, ws[k], out) != KZ_OK) {
                    fprintf(stderr, "bench_rolling: %s failed\n", names[p]);
                    return 1;
                }
                double t1 = kz_monotonic_s();
                sink += run_stream((prim)p, x, y, N, ws[k], mem);
                double t2 = kz_monotonic_s();
                sink += out[N - 1];
                best_batch = fmin(best_batch, t1 - t0);
                best_stream = fmin(best_stream, t2 - t1);
            }
            mps[k] = (double)N / best_batch / 1e6;
            ns[k] = best_stream / (double)N * 1e9;
        }
        printf("%-11s %12.1f %12.1f %12.2f %12.2f", names[p], mps[0], mps[1], ns[0], ns[1]);
        if (windowed((prim)p)) {
            double best = INFINITY;
            for (int rep = 0; rep < REPS; rep++) {
                double t0 = kz_monotonic_s();
                for (size_t i = 19; i < N_NAIVE; i++) {
                    sink += naive_window((prim)p, x + i - 19, y + i - 19, 20, tmp);
                }
                best = fmin(best, kz_monotonic_s() - t0);
            }
            double naive = (double)(N_NAIVE - 19) / best / 1e6;
            printf(" %12.1f %8.1fx\n", naive, mps[0] / naive);
        } else {
            printf(" %12s %9s\n", "-", "-");
        }
    }
    printf("(checksum %g)\n", sink);
    free(x);
    free(y);
    free(out);
    return 0;
}
