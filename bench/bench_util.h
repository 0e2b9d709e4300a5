/* Helpers shared by the benchmark programs: percentile sorting, process CPU time and the
 * synthetic market (kz_synth_generate + kz_market_build) they all time against. */
#ifndef KZ_BENCH_UTIL_H
#define KZ_BENCH_UTIL_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "kizashi/market.h"

/* qsort comparator for ascending doubles (latency percentiles). */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Process CPU seconds (all threads): the machine may be shared, and with one thread this is
 * what the run would take alone. */
static inline double bench_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* n synthetic 1h bars with funding and open interest as synth/<symbol>, aligned with the given
 * maximum ages (0 = kz_market_build's defaults). *m is zeroed first; returns 1 on success. */
static inline int
bench_synth_market(size_t n, const char *symbol, int64_t fr_age, int64_t oi_age, kz_market *m)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = n;
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    memset(m, 0, sizeof *m);
    int ok = kz_synth_generate(&sp, &b, &fr, &oi, NULL) == KZ_OK &&
             kz_market_build("synth", symbol, KZ_TF_1H, &b, &fr, &oi, fr_age, oi_age, m) == KZ_OK;
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
    return ok;
}

#endif
