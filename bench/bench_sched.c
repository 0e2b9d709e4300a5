/* Scheduler decision-loop cost: ms per kz_sched_tick with 100 models (every trigger enabled) and
 * 10,000 finished jobs in the history, against an empty scheduler's tick in the same run. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kizashi/sched.h"

#include "store/store_int.h"

#define N_MODELS 100
#define N_JOBS   10000
#define N_TICKS  300
#define T0       1704067200000LL

static _Atomic int64_t g_now = T0;

static int64_t bench_now(void *ud)
{
    (void)ud;
    return atomic_load(&g_now);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_sched: %s: %s\n", what, why);
    exit(1);
}

/* Tick n times one simulated second apart; returns ms per tick in t[] (sorted). */
static void run_ticks(kz_sched *s, double *t, int n)
{
    for (int i = 0; i < n; i++) {
        atomic_fetch_add(&g_now, 1000);
        double a = kz_monotonic_s();
        kz_tick_report r;
        if (kz_sched_tick(s, &r) != KZ_OK) {
            die("tick", kz_sched_errmsg(s));
        }
        t[i] = (kz_monotonic_s() - a) * 1e3;
        if (r.created || r.dispatched) {
            die("tick", "the steady state must not create or dispatch jobs");
        }
    }
    qsort(t, (size_t)n, sizeof *t, cmp_d);
}

static void report(const char *label, const double *t, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        sum += t[i];
    }
    printf("%-34s mean %7.3f ms  p50 %7.3f  p99 %7.3f  max %7.3f\n", label, sum / n, t[n / 2],
           t[n * 99 / 100], t[n - 1]);
}

int main(void)
{
    char dir[] = "/tmp/kz_bench_sched_XXXXXX";
    if (!mkdtemp(dir)) {
        die("mkdtemp", "failed");
    }
    char db[128];
    snprintf(db, sizeof db, "%s/kz.db", dir);
    kz_store *st = NULL;
    kz_error err;
    if (kz_store_open(db, &st, &err) != KZ_OK) {
        die(db, err.msg);
    }
    /* 2000 bars of one series shared by every model. */
    kz_bars b = {0};
    for (int i = 0; i < 2000; i++) {
        double c = 100.0 + (double)(i % 50);
        if (kz_bars_push(&b, T0 - (2000 - i) * 3600000LL, c, c + 1, c - 1, c, 1000) != KZ_OK) {
            die("bars", "oom");
        }
    }
    if (kz_store_put_bars(st, "bench", "BTCUSDT", KZ_TF_1H, &b, NULL) != KZ_OK) {
        die("bars", kz_store_errmsg(st));
    }
    kz_bars_free(&b);
    /* One active version per model, 10,000 finished jobs spread over the models. */
    double t_setup = kz_monotonic_s();
    char name[32];
    for (int m = 0; m < N_MODELS; m++) {
        snprintf(name, sizeof name, "model-%03d", m);
        kz_model_version v;
        memset(&v, 0, sizeof v);
        snprintf(v.name, sizeof v.name, "%s", name);
        snprintf(v.path, sizeof v.path, "%s/%s-v1.kzm", dir, name);
        snprintf(v.exchange, sizeof v.exchange, "bench");
        snprintf(v.symbol, sizeof v.symbol, "BTCUSDT");
        v.tf = KZ_TF_1H;
        v.data_to_ms = T0 - 3600000LL;
        v.created_ms = T0;
        v.horizon = 24;
        v.test_mlogloss = 1.0;
        v.test_balanced_accuracy = v.eval_mlogloss = v.eval_balanced_accuracy = 0.0 / 0.0;
        v.label_up = 0.02;
        v.label_down = -0.02;
        if (kz_registry_reserve(st, name, &v.version) != KZ_OK ||
            kz_registry_insert(st, &v, NULL) != KZ_OK ||
            kz_registry_promote(st, name, v.version, T0) != KZ_OK) {
            die("registry", kz_store_errmsg(st));
        }
    }
    for (int j = 0; j < N_JOBS; j++) {
        snprintf(name, sizeof name, "model-%03d", j % N_MODELS);
        int64_t id = 0, t = T0 - (N_JOBS - j) * 60000LL;
        int claimed = 0;
        if (kz_job_create(st, name, (kz_trigger)(j % KZ_TRIGGER_COUNT), "history", t, t, &id) !=
                KZ_OK ||
            kz_jobs_claim(st, id, t, &claimed) != KZ_OK ||
            kz_jobs_finish(st, id, j % 7 ? KZ_JOB_COMPLETED : KZ_JOB_FAILED, "", 1, t + 1000, -1,
                           NULL) != KZ_OK) {
            die("jobs", kz_store_errmsg(st));
        }
    }
    printf("setup: %d models, %d jobs in %.2f s\n", N_MODELS, N_JOBS, kz_monotonic_s() - t_setup);

    kz_sched_config cfg = kz_sched_config_default();
    cfg.clock = bench_now;
    cfg.history_ms = 3650LL * 86400000; /* keep the whole history in the tables */
    double t[N_TICKS];

    /* Baseline: the same database, no models (cancel requests + busy set + due jobs only). */
    kz_sched *s = NULL;
    if (kz_sched_new(db, &cfg, &s, &err) != KZ_OK) {
        die("scheduler", err.msg);
    }
    run_ticks(s, t, N_TICKS);
    report("baseline: 0 models", t, N_TICKS);
    double base = t[N_TICKS / 2];
    kz_sched_free(s);

    if (kz_sched_new(db, &cfg, &s, &err) != KZ_OK) {
        die("scheduler", err.msg);
    }
    for (int m = 0; m < N_MODELS; m++) {
        kz_sched_model sm;
        snprintf(name, sizeof name, "model-%03d", m);
        if (kz_sched_model_default(name, &sm) != KZ_OK) {
            die("model", name);
        }
        snprintf(sm.exchange, sizeof sm.exchange, "bench");
        snprintf(sm.symbol, sizeof sm.symbol, "BTCUSDT");
        sm.interval_ms = 86400000LL; /* not due during the run */
        sm.every_n_closes = 24 * 30; /* monthly: not due either */
        sm.new_data_bars = 5000;     /* 1 new bar < 5000 */
        sm.perf_min_balanced = 0.2;  /* performance check enabled (no predictions logged) */
        sm.drift_threshold = 0.1;    /* drift check enabled (no histograms stored) */
        if (kz_sched_add_model(s, &sm, &err) != KZ_OK) {
            die("model", err.msg);
        }
    }
    double a = kz_monotonic_s();
    kz_tick_report r;
    if (kz_sched_tick(s, &r) != KZ_OK) {
        die("tick", kz_sched_errmsg(s));
    }
    printf("%-34s %7.3f ms\n", "first tick (loads 100 anchors)", (kz_monotonic_s() - a) * 1e3);
    run_ticks(s, t, N_TICKS);
    report("100 models, 10000 jobs: per tick", t, N_TICKS);
    printf("ratio to baseline (p50): %.1fx; target < 10 ms per tick: %s\n", t[N_TICKS / 2] / base,
           t[N_TICKS / 2] < 10.0 ? "met" : "MISSED");
    kz_sched_free(s);
    kz_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
