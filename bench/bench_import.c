/* Store benchmark: upsert throughput (fresh and unchanged re-import) against a plain
 * INSERT OR REPLACE baseline, loading 1M bars as a market, and CSV parsing of the same bars. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/kizashi.h"

#include "store/store_int.h"

#define N_BARS 1000000

static void row(const char *what, size_t n, double secs, const char *note)
{
    printf("%-34s %10zu rows %8.3f s %12.0f rows/s  %s\n", what, n, secs,
           secs > 0 ? (double)n / secs : 0.0, note);
}

static kz_store *open_or_die(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    kz_store *st = NULL;
    kz_error err;
    if (kz_store_open(path, &st, &err) != KZ_OK) {
        fprintf(stderr, "error: %s: %s\n", path, err.msg);
        exit(1);
    }
    return st;
}

static void check(kz_status s, kz_store *st, const char *what)
{
    if (s != KZ_OK) {
        fprintf(stderr, "error: %s: %s (%s)\n", what, kz_status_str(s), kz_store_errmsg(st));
        exit(1);
    }
}

/* Write bars as a generic CSV; returns 0 on success. */
static int write_csv(const char *path, const kz_bars *b)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "timestamp,open,high,low,close,volume\n");
    for (size_t i = 0; i < b->n; i++) {
        fprintf(f, "%lld,%.17g,%.17g,%.17g,%.17g,%.17g\n", (long long)b->ts_ms[i], b->open[i],
                b->high[i], b->low[i], b->close[i], b->volume[i]);
    }
    return fclose(f);
}

int main(void)
{
    char dir[] = "/tmp/kz_bench_import_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    kz_synth_params p = kz_synth_params_default();
    p.n_bars = N_BARS;
    p.tf = KZ_TF_1M;
    kz_bars bars = {0};
    kz_series fr = {0}, oi = {0};
    kz_error err;
    if (kz_synth_generate(&p, &bars, &fr, &oi, &err) != KZ_OK) {
        fprintf(stderr, "error: synth: %s\n", err.msg);
        return 1;
    }
    printf("bench_import: %zu synthetic 1m bars, %zu funding rows, %zu OI rows (dir %s)\n\n",
           bars.n, fr.n, oi.n, dir);

    kz_store *a = open_or_die(dir, "upsert.db"), *b = open_or_die(dir, "replace.db");
    kz_upsert_stats us;
    double t = kz_monotonic_s();
    check(kz_store_put_bars_replace(b, "bench", "SYN", KZ_TF_1M, &bars, &us), b, "replace");
    double t_base = kz_monotonic_s() - t;
    t = kz_monotonic_s();
    check(kz_store_put_bars(a, "bench", "SYN", KZ_TF_1M, &bars, &us), a, "upsert");
    double t_ins = kz_monotonic_s() - t;
    if (us.inserted != bars.n) {
        fprintf(stderr, "error: expected %zu inserted, got %zu\n", bars.n, us.inserted);
        return 1;
    }
    t = kz_monotonic_s();
    check(kz_store_put_bars(a, "bench", "SYN", KZ_TF_1M, &bars, &us), a, "re-upsert");
    double t_same = kz_monotonic_s() - t;
    if (us.unchanged != bars.n) {
        fprintf(stderr, "error: expected %zu unchanged, got %zu\n", bars.n, us.unchanged);
        return 1;
    }
    t = kz_monotonic_s();
    check(kz_store_put_bars_replace(b, "bench", "SYN", KZ_TF_1M, &bars, &us), b, "re-replace");
    double t_base_same = kz_monotonic_s() - t;
    check(kz_store_put_series(a, KZ_DATA_FUNDING, "bench", "SYN", &fr, NULL), a, "funding");
    check(kz_store_put_series(a, KZ_DATA_OI, "bench", "SYN", &oi, NULL), a, "oi");

    /* Loads: best of 3 (the first run also pays for reading the file into the page cache). */
    kz_market m;
    memset(&m, 0, sizeof m);
    double t_load = 1e30, t_bars = 1e30, t_nooi = 1e30;
    kz_load_opts no_oi = kz_load_opts_default();
    no_oi.oi_exchange = "none"; /* no such series: bars + funding only */
    for (int rep = 0; rep < 3; rep++) {
        kz_market_free(&m);
        t = kz_monotonic_s();
        check(kz_store_load_market(a, "bench", "SYN", KZ_TF_1M, INT64_MIN, INT64_MAX, NULL, &m), a,
              "load market");
        double dt = kz_monotonic_s() - t;
        t_load = dt < t_load ? dt : t_load;
        kz_market_free(&m);
        t = kz_monotonic_s();
        check(kz_store_load_market(a, "bench", "SYN", KZ_TF_1M, INT64_MIN, INT64_MAX, &no_oi, &m),
              a, "load market without OI");
        dt = kz_monotonic_s() - t;
        t_nooi = dt < t_nooi ? dt : t_nooi;
        kz_market_free(&m);
        check(kz_store_load_market(a, "bench", "SYN", KZ_TF_1M, INT64_MIN, INT64_MAX, NULL, &m), a,
              "load market");
        kz_bars only = {0};
        t = kz_monotonic_s();
        check(kz_store_get_bars(a, "bench", "SYN", KZ_TF_1M, INT64_MIN, INT64_MAX, &only), a,
              "get bars");
        dt = kz_monotonic_s() - t;
        t_bars = dt < t_bars ? dt : t_bars;
        kz_bars_free(&only);
    }

    char note[128];
    snprintf(note, sizeof note, "(upsert / replace = %.2fx the time)", t_ins / t_base);
    row("baseline INSERT OR REPLACE, fresh", bars.n, t_base, "");
    row("upsert with change detection, fresh", bars.n, t_ins, note);
    snprintf(note, sizeof note, "(%.2fx the time of replacing them)", t_same / t_base_same);
    row("baseline INSERT OR REPLACE, again", bars.n, t_base_same, "");
    row("upsert of unchanged rows", bars.n, t_same, note);
    snprintf(note, sizeof note, "(bars + FR + 1M OI rows aligned; target < 0.5 s)");
    row("load_market", m.bars.n, t_load, note);
    row("load_market, bars + FR only", m.bars.n, t_nooi, "(target < 0.5 s)");
    row("get_bars (bars only)", m.bars.n, t_bars, "");

    char csv[512];
    snprintf(csv, sizeof csv, "%s/bars.csv", dir);
    if (write_csv(csv, &bars) == 0) {
        kz_read_opts ro = kz_read_opts_default();
        ro.tf = KZ_TF_1M;
        kz_bars parsed = {0};
        t = kz_monotonic_s();
        kz_status s = kz_bars_read_file(csv, &ro, &parsed, NULL, &err);
        double t_csv = kz_monotonic_s() - t;
        if (s == KZ_OK) {
            row("CSV parse (kz_bars_read_file)", parsed.n, t_csv, "");
        } else {
            printf("CSV parse failed: %s\n", err.msg);
        }
        kz_bars_free(&parsed);
    }

    kz_market_free(&m);
    kz_store_close(a);
    kz_store_close(b);
    kz_bars_free(&bars);
    kz_series_free(&fr);
    kz_series_free(&oi);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
