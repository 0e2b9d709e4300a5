/* Backtest throughput: bar-steps per second of the fast engine for a 4-condition strategy on 1M
 * synthetic bars (target >= 50M on one core) and on a GA-sized 8,736-bar series, against the
 * scalar reference measured in the same run. The strategy trades often and is in the market most
 * of the time, the slow path of the engine (flat stretches are skipped eight bars at a time). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/strategy.h"

static kz_strategy four_conditions(void)
{
    kz_strategy s;
    const char *json = "{\"name\": \"bench\","
                       " \"long_entry\": {\"all\": [\"RSI(14) > 55\", \"close > SMA(50)\"]},"
                       " \"short_entry\": {\"all\": [\"RSI(14) < 45\", \"close < SMA(50)\"]},"
                       " \"tpsl\": {\"method\": \"fixed\", \"sl_pct\": 0.03, \"tp_pct\": 0.06}}";
    kz_error err;
    if (kz_strategy_from_json(json, strlen(json), "bench", &s, &err) != KZ_OK) {
        fprintf(stderr, "bench strategy: %s\n", err.msg);
    }
    return s;
}

/* CPU time of this thread: the figure stays meaningful on a loaded machine, where wall time
 * would also count the time other processes hold the core. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds per call of the fast (ref = 0) or reference engine, best of 3 timed rounds (thread CPU
 * time). */
static double
time_engine(const kz_colset *cs, const kz_strategy *s, int ref, int calls, kz_bt_metrics *m)
{
    kz_bt_params p = kz_bt_params_default();
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        double t0 = cpu_s();
        for (int i = 0; i < calls; i++) {
            kz_bt_result r;
            kz_status st =
                ref ? kz_backtest_ref(cs, s, &p, &r, NULL) : kz_backtest(cs, s, &p, &r, NULL);
            if (st != KZ_OK) {
                fprintf(stderr, "backtest failed: %s\n", kz_status_str(st));
                return 0;
            }
            *m = r.m;
            kz_bt_result_free(&r);
        }
        double dt = (cpu_s() - t0) / calls;
        best = dt < best ? dt : best;
    }
    return best;
}

static void run(size_t n_bars, int calls)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = n_bars;
    kz_bars b = {0};
    kz_series f = {0};
    kz_market m;
    memset(&m, 0, sizeof m);
    if (kz_synth_generate(&sp, &b, &f, NULL, NULL) != KZ_OK ||
        kz_market_build("synth", "SYN", sp.tf, &b, &f, NULL, 9 * 3600000LL, 0, &m) != KZ_OK) {
        fprintf(stderr, "synthetic data failed\n");
        return;
    }
    kz_bars_free(&b);
    kz_series_free(&f);
    kz_colset *cs = NULL;
    kz_strategy s = four_conditions();
    if (kz_colset_new(&m, &cs, NULL) != KZ_OK || kz_colset_prepare(cs, &s, NULL) != KZ_OK) {
        fprintf(stderr, "columns failed\n");
        kz_market_free(&m);
        return;
    }
    kz_bt_metrics mf, mr;
    double fast = time_engine(cs, &s, 0, calls, &mf);
    double ref = time_engine(cs, &s, 1, calls > 10 ? calls / 10 : 1, &mr);
    printf("%8zu bars, 4 conditions, %zu trades (exposure %.0f%%):\n", n_bars, mf.n_trades,
           100 * mf.exposure);
    printf("  fast      %9.3f ms/run  %8.1f M bar-steps/s\n", fast * 1e3,
           (double)n_bars / fast / 1e6);
    printf("  reference %9.3f ms/run  %8.1f M bar-steps/s\n", ref * 1e3,
           (double)n_bars / ref / 1e6);
    printf("  fast / reference: %.1fx; final equity fast %.6g ref %.6g\n", ref / fast,
           mf.final_equity, mr.final_equity);
    kz_colset_free(cs);
    kz_market_free(&m);
}

int main(void)
{
    run(1000000, 20);
    run(8736, 2000);
    return 0;
}
