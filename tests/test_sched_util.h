/* Shared helpers of the scheduler and registry tests: a fake clock, a scratch database in a
 * temporary directory, deterministic bars, and a registry row without a model file. */
#ifndef KZ_TEST_SCHED_UTIL_H
#define KZ_TEST_SCHED_UTIL_H

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kizashi/sched.h"

#include "kz_test.h"

/* 2024-01-01T00:00:00Z: a 1h, 4h and 1d grid point. */
#define T0      1704067200000LL
#define HOUR_MS 3600000LL

typedef struct fake_clock {
    _Atomic int64_t now;
} fake_clock;

static inline int64_t fake_now(void *ud)
{
    return atomic_load(&((fake_clock *)ud)->now);
}

static inline void fake_set(fake_clock *c, int64_t t)
{
    atomic_store(&c->now, t);
}

/* A fresh scratch directory with db path "<dir>/kz.db". */
typedef struct scratch {
    char dir[256];
    char db[300];
} scratch;

static inline void scratch_init(scratch *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/kz_sched_test_XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(s->db, sizeof s->db, "%s/kz.db", s->dir);
}

static inline void scratch_free(scratch *s)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", s->dir);
    }
}

static kz_store *open_store(const scratch *s)
{
    kz_store *st = NULL;
    kz_error err;
    if (kz_store_open(s->db, &st, &err) != KZ_OK) {
        fprintf(stderr, "open %s: %s\n", s->db, err.msg);
        exit(1);
    }
    return st;
}

/* Store n 1h bars of test/BTCUSDT from bar index first: close[i] follows a slow sine, bar range
 * (H-L)/C = range * (1 + 0.5 sin(1.3 i)) so distributions have distinct deciles. */
static inline void put_bars(kz_store *st, size_t first, size_t n, double range)
{
    kz_bars b = {0};
    for (size_t k = first; k < first + n; k++) {
        double i = (double)k;
        double c = 100.0 * (1.0 + 0.05 * sin(i / 17.0));
        double r = range * (1.0 + 0.5 * sin(1.3 * i));
        if (kz_bars_push(&b, T0 + (int64_t)k * HOUR_MS, c, c * (1 + r / 2), c * (1 - r / 2), c,
                         1000.0 + 10.0 * sin(i)) != KZ_OK) {
            exit(1);
        }
    }
    if (kz_store_put_bars(st, "test", "BTCUSDT", KZ_TF_1H, &b, NULL) != KZ_OK) {
        fprintf(stderr, "put bars: %s\n", kz_store_errmsg(st));
        exit(1);
    }
    kz_bars_free(&b);
}

/* A model entry on test/BTCUSDT 1h with every trigger off. */
static inline kz_sched_model quiet_model(const char *name)
{
    kz_sched_model m;
    if (kz_sched_model_default(name, &m) != KZ_OK) {
        exit(1);
    }
    snprintf(m.exchange, sizeof m.exchange, "test");
    snprintf(m.symbol, sizeof m.symbol, "BTCUSDT");
    m.interval_ms = 0;
    m.perf_margin = 0;
    m.drift_threshold = 0;
    return m;
}

/* Reserve and insert a version row (no file) with the given data end and test mlogloss. */
static inline int
add_version(kz_store *st, const char *name, int64_t data_to, double test_ll, const char *meta)
{
    kz_model_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.name, sizeof v.name, "%s", name);
    if (kz_registry_reserve(st, name, &v.version) != KZ_OK) {
        return 0;
    }
    snprintf(v.path, sizeof v.path, "/nonexistent/%s-v%d.kzm", name, v.version);
    snprintf(v.exchange, sizeof v.exchange, "test");
    snprintf(v.symbol, sizeof v.symbol, "BTCUSDT");
    v.tf = KZ_TF_1H;
    v.data_from_ms = T0;
    v.data_to_ms = data_to;
    v.created_ms = T0;
    v.horizon = 2;
    v.label_up = 0.001;
    v.label_down = -0.001;
    v.test_mlogloss = test_ll;
    v.test_balanced_accuracy = NAN;
    v.eval_mlogloss = NAN;
    v.eval_balanced_accuracy = NAN;
    if (kz_registry_insert(st, &v, meta) != KZ_OK) {
        fprintf(stderr, "insert: %s\n", kz_store_errmsg(st));
        return 0;
    }
    return v.version;
}

/* Real-time micro pause for callbacks that poll a flag (never used to let clock time pass). */
static inline void tiny_pause(void)
{
    struct timespec ts = {0, 200000L};
    nanosleep(&ts, NULL);
}

#endif
