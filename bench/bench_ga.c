/* Strategy-search speed: population 100 x 50 generations, mixed mode with ML columns, on the
 * 8,736 real BTCUSDT 1h bars (synthetic bars if the data folder is absent), with 2 threads and
 * with 1: wall seconds (target < 5 s on 2 cores), process CPU seconds, evaluations per second
 * and the 1-thread / 2-thread ratio. The ML columns come from a small model trained here (20
 * rounds, 1 thread) through the signals facade; if training or the facade fails, causal
 * stand-ins from past returns are used instead, and the output says which. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/model.h"
#include "kizashi/signals.h"
#include "kizashi/strategy.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int load_real(kz_market *m)
{
    const char *dir = KZ_SHARED_DIR "/data/funding_the_fall";
    char bars[4096], fr[4096], oi[4096];
    snprintf(bars, sizeof bars, "%s/binance/BTCUSDT-1h.csv", dir);
    snprintf(fr, sizeof fr, "%s/binance/BTCUSDT-funding.csv", dir);
    snprintf(oi, sizeof oi, "%s/hyperliquid/BTC-open-interest-1h.csv", dir);
    kz_read_opts o = kz_read_opts_default();
    kz_bars b = {0};
    kz_series s_fr = {0}, s_oi = {0};
    kz_error err;
    int ok = kz_bars_read_file(bars, &o, &b, NULL, &err) == KZ_OK &&
             kz_series_read_file(fr, KZ_DATA_FUNDING, &o, &s_fr, NULL, &err) == KZ_OK &&
             kz_series_read_file(oi, KZ_DATA_OI, &o, &s_oi, NULL, &err) == KZ_OK &&
             kz_market_build("binance", "BTCUSDT", KZ_TF_1H, &b, &s_fr, &s_oi, 9 * 3600000LL,
                             2 * 3600000LL, m) == KZ_OK;
    kz_bars_free(&b);
    kz_series_free(&s_fr);
    kz_series_free(&s_oi);
    return ok;
}

static int load_synth(kz_market *m)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = 8736;
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    kz_error err;
    int ok =
        kz_synth_generate(&sp, &b, &fr, &oi, &err) == KZ_OK &&
        kz_market_build("synth", "BTCUSDT", KZ_TF_1H, &b, &fr, &oi, 9 * 3600000LL, 0, m) == KZ_OK;
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
    return ok;
}

/* Stand-in probabilities from past 12-bar returns plus noise: no look-ahead. */
static int add_standin_ml(kz_colset *cs, const kz_market *m)
{
    size_t n = m->bars.n;
    double *c[3] = {kz_malloc_array(n, sizeof(double)), kz_malloc_array(n, sizeof(double)),
                    kz_malloc_array(n, sizeof(double))};
    int ok = c[0] && c[1] && c[2];
    kz_rng r;
    kz_rng_seed(&r, 9);
    for (size_t i = 0; ok && i < n; i++) {
        double past = i >= 12 ? log(m->bars.close[i] / m->bars.close[i - 12]) : 0;
        double z = 30 * past + 0.5 * kz_rng_normal(&r);
        double s = exp(z) + exp(-z) + 1.5;
        c[0][i] = exp(z) / s;
        c[1][i] = exp(-z) / s;
        c[2][i] = 1.5 / s;
    }
    kz_error err;
    ok = ok && kz_colset_add_ml(cs, c[1], c[2], c[0], &err) == KZ_OK;
    for (int k = 0; k < 3; k++) {
        kz_free(c[k]);
    }
    return ok;
}

/* A small model (few rounds, 1 thread) trained on these bars' own chronological split, its
 * columns attached through the facade. Returns 1 if at least some bars got the model's
 * predictions. On the bars it was trained on they are in-sample predictions: right for a speed
 * figure, not for judging the strategies found. */
static int add_model_ml(kz_colset *cs, const kz_market *m, double *train_s)
{
    kz_train_params tp = kz_train_params_default();
    tp.booster.num_boost_round = 20;
    tp.booster.early_stopping = 0;
    tp.booster.num_threads = 1;
    tp.booster.max_bin = 64;
    tp.booster.num_leaves = 15;
    kz_model *model = NULL;
    kz_signals *sig = NULL;
    kz_signal_report rep;
    kz_error err;
    double t0 = kz_monotonic_s();
    int ok = kz_model_train(m, &tp, &model, &err) == KZ_OK;
    *train_s = kz_monotonic_s() - t0;
    if (!ok) {
        printf("model training failed (%s: %s)\n", err.field, err.msg);
    }
    ok = ok && kz_signals_new(model, NULL, &sig, &err) == KZ_OK &&
         kz_colset_attach_signals(cs, sig, &rep, &err) == KZ_OK;
    if (ok && rep.fallback) {
        printf("signals fell back on %zu of %zu bars (%s)\n", rep.n_fallback, rep.n_bars,
               kz_signal_reason_str(rep.reason));
        ok = rep.n_fallback < rep.n_bars;
    }
    kz_signals_free(sig);
    kz_model_free(model);
    return ok;
}

static int run(const kz_colset *cs, int threads, double *wall, double *cpu, kz_ga_result *r)
{
    kz_ga_params p = kz_ga_params_default();
    p.threads = threads;
    kz_error err;
    double w0 = kz_monotonic_s(), c0 = cpu_s();
    kz_status st = kz_ga_run(cs, &p, r, &err);
    *wall = kz_monotonic_s() - w0;
    *cpu = cpu_s() - c0;
    if (st != KZ_OK) {
        fprintf(stderr, "bench_ga: %s: %s\n", err.field, err.msg);
        return 0;
    }
    return 1;
}

int main(void)
{
    kz_market m;
    memset(&m, 0, sizeof m);
    int real = load_real(&m);
    if (!real) {
        kz_market_free(&m);
        memset(&m, 0, sizeof m);
        printf("real data not found under %s: using 8,736 synthetic bars\n", KZ_SHARED_DIR);
        if (!load_synth(&m)) {
            fprintf(stderr, "bench_ga: cannot build synthetic bars\n");
            return 1;
        }
    }
    kz_colset *cs = NULL;
    kz_error err;
    if (kz_colset_new(&m, &cs, &err) != KZ_OK) {
        fprintf(stderr, "bench_ga: column set\n");
        return 1;
    }
    double train_s = 0;
    int model_ml = add_model_ml(cs, &m, &train_s);
    if (!model_ml) {
        /* a failed attach adds nothing, so the stand-ins can take the names */
        if (kz_colset_find(cs, KZ_SIGNAL_COL_UP) >= 0 || !add_standin_ml(cs, &m)) {
            fprintf(stderr, "bench_ga: ML columns\n");
            return 1;
        }
    }
    printf("%s %s, %zu bars; mixed mode, population 100 x 50 generations; ML columns: %s",
           m.exchange, m.symbol, m.bars.n,
           model_ml ? "a real model's predictions through the signals facade"
                    : "synthetic stand-ins (past returns + noise): no model could be trained");
    if (model_ml) {
        printf(" (20 rounds, 1 thread, trained in %.2f s, not counted below)", train_s);
    }
    printf("\n");
    kz_ga_result r2, r1;
    double w2, c2, w1, c1;
    if (!run(cs, 2, &w2, &c2, &r2) || !run(cs, 1, &w1, &c1, &r1)) {
        return 1;
    }
    int same = r1.n_evals == r2.n_evals &&
               memcmp(r1.history, r2.history, r1.n_history * sizeof *r1.history) == 0;
    printf("2 threads: %.2f s wall (target < 5 s), %.2f s CPU, %zu evaluations, %.0f "
           "evaluations/s\n",
           w2, c2, r2.n_evals, (double)r2.n_evals / w2);
    printf("1 thread:  %.2f s wall, %.2f s CPU, %.0f evaluations/s\n", w1, c1,
           (double)r1.n_evals / w1);
    printf("speed-up 1 -> 2 threads: %.2fx (wall); results identical: %s\n", w1 / w2,
           same ? "yes" : "NO");
    printf("cache: %zu indicator columns at the end, %zu rebuilds; best IS fitness %.3f, IS "
           "Sharpe %.2f, OOS Sharpe %.2f, DSR %.3f\n",
           r2.history[r2.n_history - 1].n_columns, r2.n_cache_rebuilds, r2.top[0].fitness,
           r2.top[0].is.sharpe, r2.top[0].oos.sharpe, r2.top[0].dsr);
    kz_ga_result_free(&r1);
    kz_ga_result_free(&r2);
    kz_colset_free(cs);
    kz_market_free(&m);
    return same ? 0 : 1;
}
