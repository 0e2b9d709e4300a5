/* CSV parse throughput: kz_bars_read_mem on 1M synthetic rows vs a naive strtok_r + strtod
 * parse of the same buffer (best of 3 each), plus the synthetic generator's speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kizashi/market.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU time too: on a shared machine wall time overstates the cost. */
static double cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* Baseline: what a quick hand-rolled loader does (copy, strtok_r lines and fields, strtod). */
static size_t naive_parse(const char *buf, size_t len, kz_bars *out)
{
    char *copy = malloc(len + 1);
    memcpy(copy, buf, len);
    copy[len] = '\0';
    size_t n = 0;
    char *save_line = NULL;
    for (char *line = strtok_r(copy, "\n", &save_line); line;
         line = strtok_r(NULL, "\n", &save_line)) {
        char *save_f = NULL;
        char *f = strtok_r(line, ",", &save_f);
        double v[6];
        int k = 0;
        for (; f && k < 6; f = strtok_r(NULL, ",", &save_f)) {
            v[k++] = strtod(f, NULL);
        }
        if (k == 6 && n < out->cap) {
            out->ts_ms[n] = (int64_t)v[0];
            out->open[n] = v[1];
            out->high[n] = v[2];
            out->low[n] = v[3];
            out->close[n] = v[4];
            out->volume[n] = v[5];
            n++;
        }
    }
    free(copy);
    return n;
}

int main(int argc, char **argv)
{
    size_t n_rows = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    kz_synth_params p = kz_synth_params_default();
    p.n_bars = n_rows;
    p.tf = KZ_TF_1M;
    kz_bars syn = {0};
    kz_error err;
    double t0 = now_s(), c0 = cpu_s();
    if (kz_synth_generate(&p, &syn, NULL, NULL, &err) != KZ_OK) {
        fprintf(stderr, "synth: %s\n", err.msg);
        return 1;
    }
    double t_synth = now_s() - t0, c_synth = cpu_s() - c0;
    printf("synth: %zu bars in %.3f s wall, %.3f s cpu (%.2f M bars/s cpu)\n", syn.n, t_synth,
           c_synth, (double)syn.n / c_synth / 1e6);

    size_t cap = n_rows * 96 + 64, len = 0;
    char *buf = malloc(cap);
    len += (size_t)snprintf(buf, cap, "timestamp,open,high,low,close,volume\n");
    for (size_t i = 0; i < syn.n; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%lld,%.2f,%.2f,%.2f,%.2f,%.3f\n",
                                (long long)syn.ts_ms[i], syn.open[i], syn.high[i], syn.low[i],
                                syn.close[i], syn.volume[i]);
    }
    double mb = (double)len / 1e6;

    kz_read_opts o = kz_read_opts_default();
    o.tf = KZ_TF_1M;
    double best = 1e30, best_cpu = 1e30;
    size_t rows = 0;
    for (int rep = 0; rep < 3; rep++) {
        kz_bars b = {0};
        t0 = now_s();
        c0 = cpu_s();
        kz_status st = kz_bars_read_mem(buf, len, "bench", &o, &b, NULL, &err);
        double t = now_s() - t0, c = cpu_s() - c0;
        best_cpu = c < best_cpu ? c : best_cpu;
        if (st != KZ_OK) {
            fprintf(stderr, "read: %s (line %ld)\n", err.msg, err.line);
            return 1;
        }
        rows = b.n;
        best = t < best ? t : best;
        kz_bars_free(&b);
    }
    kz_bars nb = {0};
    if (kz_bars_reserve(&nb, n_rows) != KZ_OK) {
        return 1;
    }
    double best_naive = 1e30, best_naive_cpu = 1e30;
    size_t rows_naive = 0;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now_s();
        c0 = cpu_s();
        rows_naive = naive_parse(buf, len, &nb);
        double t = now_s() - t0, c = cpu_s() - c0;
        best_naive_cpu = c < best_naive_cpu ? c : best_naive_cpu;
        best_naive = t < best_naive ? t : best_naive;
    }
    printf("input: %zu rows, %.1f MB\n", rows, mb);
    printf("kz_bars_read_mem:    wall %.3f s %.2f M rows/s %.0f MB/s | cpu %.3f s %.2f M rows/s "
           "%.0f MB/s (validated)\n",
           best, (double)rows / best / 1e6, mb / best, best_cpu, (double)rows / best_cpu / 1e6,
           mb / best_cpu);
    printf("naive strtok+strtod: wall %.3f s %.2f M rows/s %.0f MB/s | cpu %.3f s %.2f M rows/s "
           "%.0f MB/s (%zu rows, no validation)\n",
           best_naive, (double)rows_naive / best_naive / 1e6, mb / best_naive, best_naive_cpu,
           (double)rows_naive / best_naive_cpu / 1e6, mb / best_naive_cpu, rows_naive);
    printf("speedup vs naive: %.2fx wall, %.2fx cpu\n", best_naive / best,
           best_naive_cpu / best_cpu);
    kz_bars_free(&nb);
    kz_bars_free(&syn);
    free(buf);
    return 0;
}
