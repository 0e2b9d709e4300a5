/* Scheduler tests on a fake clock: the job store, every trigger firing exactly when it should
 * (and not one millisecond before), retries with backoff, timeouts, cancellation, the
 * concurrency limit and one job per model, persistence across restarts, and a SIGKILL crash. */
#include <signal.h>
#include <sys/wait.h>

#include "sched/sched_int.h"
#include "store/store_int.h"
#include "test_sched_util.h"

/* ---------------------------------------------------------------- a controllable callback */

typedef struct gate {
    atomic_int release;   /* 1: callbacks may return */
    atomic_int wait_stop; /* 1: callbacks run until told to stop */
    atomic_int fail;      /* 1: callbacks fail */
    atomic_int calls, running, max_running, a_running, max_a;
} gate;

static void raise_max(atomic_int *max, int v)
{
    int cur = atomic_load(max);
    while (v > cur && !atomic_compare_exchange_weak(max, &cur, v)) {
    }
}

static kz_status gate_cb(kz_job_ctx *c, void *ud)
{
    gate *g = ud;
    int is_a = strcmp(kz_job_ctx_job(c)->model, "a") == 0;
    raise_max(&g->max_running, atomic_fetch_add(&g->running, 1) + 1);
    if (is_a) {
        raise_max(&g->max_a, atomic_fetch_add(&g->a_running, 1) + 1);
    }
    atomic_fetch_add(&g->calls, 1);
    kz_status s = KZ_OK;
    while (atomic_load(&g->wait_stop) || !atomic_load(&g->release)) {
        if (kz_job_ctx_should_stop(c)) {
            s = KZ_ERR_CANCELLED;
            break;
        }
        tiny_pause();
    }
    if (s == KZ_OK && atomic_load(&g->fail)) {
        s = kz_job_ctx_fail(c, KZ_ERR_MODEL, "injected failure");
    } else if (s == KZ_OK) {
        kz_job_ctx_set_result(c, 7);
    }
    if (is_a) {
        atomic_fetch_sub(&g->a_running, 1);
    }
    atomic_fetch_sub(&g->running, 1);
    return s;
}

static void gate_init(gate *g, int release)
{
    atomic_init(&g->release, release);
    atomic_init(&g->wait_stop, 0);
    atomic_init(&g->fail, 0);
    atomic_init(&g->calls, 0);
    atomic_init(&g->running, 0);
    atomic_init(&g->max_running, 0);
    atomic_init(&g->a_running, 0);
    atomic_init(&g->max_a, 0);
}

static void wait_calls(gate *g, int n)
{
    while (atomic_load(&g->calls) < n) {
        tiny_pause();
    }
}

static kz_sched *new_sched(const scratch *sc, fake_clock *clk, gate *g, kz_sched_config *cfg_in)
{
    kz_sched_config cfg = cfg_in ? *cfg_in : kz_sched_config_default();
    cfg.clock = fake_now;
    cfg.clock_ud = clk;
    kz_sched *s = NULL;
    kz_error err;
    if (kz_sched_new(sc->db, &cfg, &s, &err) != KZ_OK) {
        fprintf(stderr, "kz_sched_new: %s\n", err.msg);
        exit(1);
    }
    if (kz_sched_set_callback(s, NULL, gate_cb, g) != KZ_OK) {
        exit(1);
    }
    return s;
}

static void add(kz_sched *s, const kz_sched_model *m)
{
    kz_error err;
    if (kz_sched_add_model(s, m, &err) != KZ_OK) {
        fprintf(stderr, "add model: %s\n", err.msg);
        exit(1);
    }
}

static size_t tick_created(kz_sched *s)
{
    kz_tick_report r;
    kz_status st = kz_sched_tick(s, &r);
    CHECK_MSG(st == KZ_OK, "tick: %s", kz_sched_errmsg(s));
    kz_sched_wait_idle(s);
    return r.created;
}

/* Number of jobs of model (NULL: all) with a status in mask (0: any); the newest into *newest
 * (optional; zeroed when there is none). (size_t)-1 when listing fails. */
static size_t list_jobs(kz_store *st, const char *model, unsigned mask, kz_job *newest)
{
    kz_job *rows = NULL;
    size_t n = 0;
    if (newest) {
        memset(newest, 0, sizeof *newest);
    }
    if (kz_job_list(st, model, mask, 0, &rows, &n) != KZ_OK) {
        return (size_t)-1;
    }
    if (newest && n) {
        *newest = rows[0];
    }
    kz_free(rows);
    return n;
}

static size_t count_jobs(kz_store *st, const char *model, unsigned mask)
{
    return list_jobs(st, model, mask, NULL);
}

/* One scheduler test's world: a scratch database, a fake clock, a gate, a scheduler using them,
 * and a second connection to the same database for the test's own reads and writes. */
typedef struct fixture {
    scratch sc;
    fake_clock clk;
    gate g;
    kz_sched *s;
    kz_store *st;
} fixture;

/* The clock at t0; the gate released or not (release) and holding callbacks until stopped
 * (wait_stop); cfg NULL = the default configuration. */
static void fx_init(fixture *f, int64_t t0, int release, int wait_stop, kz_sched_config *cfg)
{
    scratch_init(&f->sc);
    fake_set(&f->clk, t0);
    gate_init(&f->g, release);
    atomic_store(&f->g.wait_stop, wait_stop);
    f->s = new_sched(&f->sc, &f->clk, &f->g, cfg);
    f->st = open_store(&f->sc);
}

static void fx_free(fixture *f)
{
    kz_store_close(f->st);
    kz_sched_free(f->s);
    scratch_free(&f->sc);
}

#define BIT(s) (1u << (s))

/* ---------------------------------------------------------------- job store */

static void test_job_store(void)
{
    scratch sc;
    scratch_init(&sc);
    kz_store *st = open_store(&sc);
    CHECK_EQ_INT(kz_store_schema_version(st), KZ_STORE_SCHEMA_VERSION);
    int64_t a = 0, b = 0, c = 0, d = 0;
    /* Same model, trigger and millisecond: still two jobs (the original collided). */
    CHECK(kz_job_create(st, "m", KZ_TRIGGER_MANUAL, "why", T0, T0, &a) == KZ_OK);
    CHECK(kz_job_create(st, "m", KZ_TRIGGER_MANUAL, "why", T0, T0, &b) == KZ_OK);
    CHECK(a > 0 && b > a);
    kz_job j;
    CHECK(kz_job_get(st, a, &j) == KZ_OK);
    CHECK_EQ_INT(j.status, KZ_JOB_PENDING);
    CHECK_EQ_INT(j.trigger, KZ_TRIGGER_MANUAL);
    CHECK_EQ_INT(j.attempts, 1);
    CHECK_EQ_INT(j.created_ms, T0);
    CHECK(strcmp(j.reason, "why") == 0 && strcmp(j.model, "m") == 0);
    kz_job *rows = NULL;
    size_t n = 0;
    CHECK(kz_job_list(st, NULL, 0, 0, &rows, &n) == KZ_OK);
    CHECK_EQ_INT(n, 2);
    CHECK(n == 2 && rows[0].id == b); /* newest first */
    kz_free(rows);
    CHECK_EQ_INT(count_jobs(st, "m", BIT(KZ_JOB_PENDING)), 2);
    CHECK_EQ_INT(count_jobs(st, "other", 0), 0);
    int was_running = -1;
    CHECK(kz_job_cancel(st, a, T0 + 5, &was_running) == KZ_OK);
    CHECK_EQ_INT(was_running, 0);
    CHECK(kz_job_get(st, a, &j) == KZ_OK);
    CHECK_EQ_INT(j.status, KZ_JOB_CANCELLED);
    CHECK_EQ_INT(j.finished_ms, T0 + 5);
    CHECK(kz_job_cancel(st, a, T0 + 6, NULL) == KZ_ERR_INVALID);
    CHECK(kz_job_cancel(st, 999, T0, NULL) == KZ_ERR_NOT_FOUND);
    CHECK(kz_job_create(st, "", KZ_TRIGGER_MANUAL, "", T0, T0, NULL) == KZ_ERR_INVALID);
    kz_store_close(st);

    /* Reopen: rows persist; pruning the newest id never lets it be reused. */
    st = open_store(&sc);
    CHECK(kz_job_get(st, b, &j) == KZ_OK && j.status == KZ_JOB_PENDING);
    CHECK(kz_job_create(st, "m", KZ_TRIGGER_SCHEDULED, "", T0, T0, &c) == KZ_OK);
    CHECK(c > b);
    CHECK(kz_job_cancel(st, c, T0, NULL) == KZ_OK);
    size_t pruned = 0;
    CHECK(kz_jobs_prune(st, T0 + 6, &pruned) == KZ_OK);
    CHECK_EQ_INT(pruned, 2); /* a and c */
    CHECK(kz_job_create(st, "m", KZ_TRIGGER_MANUAL, "", T0, T0, &d) == KZ_OK);
    CHECK(d > c);
    kz_trigger t;
    kz_job_status js;
    CHECK(kz_trigger_parse("data_drift", &t) == KZ_OK && t == KZ_TRIGGER_DRIFT);
    CHECK(kz_job_status_parse("interrupted", &js) == KZ_OK && js == KZ_JOB_INTERRUPTED);
    CHECK(kz_trigger_parse("nope", &t) == KZ_ERR_INVALID);
    kz_store_close(st);
    scratch_free(&sc);
}

/* ---------------------------------------------------------------- triggers */

static void test_interval_and_candles(void)
{
    fixture fx;
    fx_init(&fx, T0 + HOUR_MS, 1, 0, NULL); /* first sight: 01:00 */
    kz_sched *s = fx.s;
    fake_clock *clk = &fx.clk;
    kz_sched_model iv = quiet_model("interval");
    iv.interval_ms = 2 * HOUR_MS;
    kz_sched_model cc = quiet_model("candles");
    cc.every_n_closes = 4; /* every 4th 1h close: 04:00, 08:00, ... */
    add(s, &iv);
    add(s, &cc);
    CHECK_EQ_INT(tick_created(s), 0);
    fake_set(clk, T0 + 3 * HOUR_MS - 1); /* interval: 1 ms early */
    CHECK_EQ_INT(tick_created(s), 0);
    fake_set(clk, T0 + 3 * HOUR_MS);
    CHECK_EQ_INT(tick_created(s), 1);
    fake_set(clk, T0 + 4 * HOUR_MS - 1); /* candle boundary: 1 ms early */
    CHECK_EQ_INT(tick_created(s), 0);
    fake_set(clk, T0 + 4 * HOUR_MS);
    CHECK_EQ_INT(tick_created(s), 1);
    fake_set(clk, T0 + 5 * HOUR_MS - 1); /* interval restarts from its last run (03:00) */
    CHECK_EQ_INT(tick_created(s), 0);
    fake_set(clk, T0 + 5 * HOUR_MS);
    CHECK_EQ_INT(tick_created(s), 1);
    fake_set(clk, T0 + 8 * HOUR_MS - 1);
    CHECK_EQ_INT(tick_created(s), 1); /* the interval again (07:00), not the candle */
    fake_set(clk, T0 + 8 * HOUR_MS);
    CHECK_EQ_INT(tick_created(s), 1); /* the 08:00 close */
    kz_store *st = fx.st;
    CHECK_EQ_INT(count_jobs(st, "interval", BIT(KZ_JOB_COMPLETED)), 3);
    CHECK_EQ_INT(count_jobs(st, "candles", BIT(KZ_JOB_COMPLETED)), 2);
    kz_job j;
    CHECK(list_jobs(st, "candles", 0, &j) >= 1);
    CHECK_EQ_INT(j.trigger, KZ_TRIGGER_SCHEDULED);
    CHECK_EQ_INT(j.result_version, 7);
    CHECK_EQ_INT(j.started_ms, T0 + 8 * HOUR_MS);
    CHECK_STR_CONTAINS(j.reason, "2024-01-01T08:00:00Z");
    fx_free(&fx);
}

static void test_new_data(void)
{
    fixture fx;
    fx_init(&fx, T0, 1, 0, NULL);
    kz_sched *s = fx.s;
    kz_store *st = fx.st;
    kz_sched_model m = quiet_model("nd");
    m.new_data_bars = 10;
    add(s, &m);
    put_bars(st, 0, 9, 0.01);
    CHECK_EQ_INT(tick_created(s), 0); /* 9 bars, never trained */
    put_bars(st, 9, 1, 0.01);
    CHECK_EQ_INT(tick_created(s), 1); /* the 10th */
    /* A training that ended at bar 9 resets the count. */
    int v = add_version(st, "nd", T0 + 9 * HOUR_MS, 1.0, NULL);
    CHECK(v == 1);
    put_bars(st, 10, 9, 0.01);
    CHECK_EQ_INT(tick_created(s), 0);
    put_bars(st, 19, 1, 0.01);
    CHECK_EQ_INT(tick_created(s), 1);
    kz_job j;
    CHECK_EQ_INT(list_jobs(st, "nd", 0, &j), 2);
    CHECK_EQ_INT(j.trigger, KZ_TRIGGER_NEW_DATA);
    CHECK_STR_CONTAINS(j.reason, "10 new bars");
    fx_free(&fx);
}

/* Log predictions p for bars [0, n) of a model's version. */
static void log_preds(kz_store *st, const char *name, int v, size_t n, const double p[3])
{
    for (size_t i = 0; i < n; i++) {
        CHECK(kz_predlog_put(st, name, v, T0 + (int64_t)i * HOUR_MS, p) == KZ_OK);
    }
}

static void test_performance(void)
{
    fixture fx;
    fx_init(&fx, T0 + 100 * HOUR_MS, 1, 0, NULL);
    kz_sched *s = fx.s;
    kz_store *st = fx.st;
    /* Bars 0..20 rise by ~0.6% per 2 bars: every realised label (h=2, +-0.1%) is "up". */
    put_bars(st, 0, 6, 0.01);
    static const double bad[3] = {0.90, 0.05, 0.05};   /* loss -ln 0.05 = 3.0 */
    static const double good[3] = {0.05, 0.05, 0.90};  /* loss 0.105 */
    static const double wrong[3] = {0.40, 0.25, 0.35}; /* loss 1.05, argmax wrong */
    const char *names[3] = {"bad", "good", "floor"};
    const double *preds[3] = {bad, good, wrong};
    for (int k = 0; k < 3; k++) {
        kz_sched_model m = quiet_model(names[k]);
        m.perf_margin = 0.05;
        m.perf_window = 10;
        m.perf_min_samples = 5;
        m.perf_min_balanced = k == 2 ? 0.4 : 0.0;
        add(s, &m);
        int v = add_version(st, names[k], T0, k == 2 ? 2.0 : 0.5, NULL);
        CHECK(kz_registry_promote(st, names[k], v, T0) == KZ_OK);
        log_preds(st, names[k], v, 12, preds[k]);
    }
    /* Bars 0..5 stored: predictions 0..3 have matured (3 + h = 5): 4 < 5 samples. */
    CHECK_EQ_INT(tick_created(s), 0);
    put_bars(st, 6, 1, 0.01); /* the 5th matures */
    CHECK_EQ_INT(tick_created(s), 2);
    kz_job j;
    CHECK_EQ_INT(list_jobs(st, "bad", 0, &j), 1);
    CHECK_EQ_INT(count_jobs(st, "good", 0), 0);
    CHECK_EQ_INT(count_jobs(st, "floor", 0), 1);
    CHECK_EQ_INT(j.trigger, KZ_TRIGGER_PERFORMANCE);
    /* mean -ln(0.05) over 5 predictions vs 0.5 * 1.05 */
    CHECK_STR_CONTAINS(j.reason, "live mlogloss 2.9957 vs limit 0.5250");
    /* Cooldown: another matured bar within a day does not fire again. */
    put_bars(st, 7, 1, 0.01);
    CHECK_EQ_INT(tick_created(s), 0);
    fx_free(&fx);
}

static void test_drift(void)
{
    fixture fx;
    fx_init(&fx, T0 + 2000 * HOUR_MS, 1, 0, NULL);
    kz_sched *s = fx.s;
    kz_store *st = fx.st;
    put_bars(st, 0, 600, 0.01);
    /* Training histogram of Price_Range = (H-L)/C over the 600 training bars. */
    kz_market mk;
    memset(&mk, 0, sizeof mk);
    CHECK(kz_store_load_market(st, "test", "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, NULL, &mk) ==
          KZ_OK);
    kz_feature_params fp = kz_feature_params_default();
    kz_frame *X = NULL;
    kz_error err;
    CHECK(sched_model_frame(&mk, &fp, 0, &X, &err) == KZ_OK);
    size_t col = kz_frame_find(X, "Price_Range");
    CHECK(col != KZ_FRAME_NPOS);
    double edges[9], shares[10];
    CHECK_EQ_INT(sched_hist_edges(kz_frame_col(X, col), kz_frame_n_rows(X), 10, edges), 600);
    sched_hist_shares(kz_frame_col(X, col), kz_frame_n_rows(X), edges, 10, shares);
    char meta[2048];
    int len = snprintf(meta, sizeof meta,
                       "{\"drift\":{\"feature_params\":{\"groups\":%u},\"bins\":10,\"features\":"
                       "[{\"name\":\"Price_Range\",\"importance\":1,\"edges\":[",
                       fp.groups);
    for (int k = 0; k < 9; k++) {
        len += snprintf(meta + len, sizeof meta - (size_t)len, "%s%.17g", k ? "," : "", edges[k]);
    }
    len += snprintf(meta + len, sizeof meta - (size_t)len, "],\"shares\":[");
    for (int k = 0; k < 10; k++) {
        len += snprintf(meta + len, sizeof meta - (size_t)len, "%s%.17g", k ? "," : "", shares[k]);
    }
    snprintf(meta + len, sizeof meta - (size_t)len, "]}]}}");
    kz_frame_free(X);
    kz_market_free(&mk);
    int v = add_version(st, "dr", T0 + 599 * HOUR_MS, 1.0, meta);
    CHECK(kz_registry_promote(st, "dr", v, T0) == KZ_OK);
    kz_sched_model m = quiet_model("dr");
    m.drift_threshold = 0.1;
    m.drift_window_bars = 200;
    add(s, &m);
    CHECK_EQ_INT(tick_created(s), 0); /* same regime */
    /* 150 bars with 5x the range: 150 of the 200 window rows land in the top bin. */
    put_bars(st, 600, 150, 0.05);
    CHECK_EQ_INT(tick_created(s), 1);
    kz_job j;
    CHECK_EQ_INT(list_jobs(st, "dr", 0, &j), 1);
    CHECK_EQ_INT(j.trigger, KZ_TRIGGER_DRIFT);
    CHECK_STR_CONTAINS(j.reason, "(Price_Range)");
    fx_free(&fx);
}

static void test_psi_and_hist(void)
{
    double e[2] = {0.5, 0.5}, a[2] = {0.25, 0.75};
    /* (0.25-0.5) ln(0.5) + (0.75-0.5) ln(1.5) */
    CHECK_NEAR(sched_psi(e, a, 2), 0.25 * log(2.0) + 0.25 * log(1.5), 1e-15);
    CHECK_NEAR(sched_psi(e, e, 2), 0.0, 0);
    double z[2] = {0.0, 1.0};
    CHECK_NEAR(sched_psi(e, z, 2), (1e-4 - 0.5) * log(1e-4 / 0.5) + 0.5 * log(2.0), 1e-12);
    float x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    double edges[4], sh[5];
    x[9] = NAN;
    CHECK_EQ_INT(sched_hist_edges(x, 10, 5, edges), 9);
    /* ranks floor(9k/5) = 1, 3, 5, 7 of 1..9 */
    CHECK_NEAR(edges[0], 2, 0);
    CHECK_NEAR(edges[3], 8, 0);
    CHECK_EQ_INT(sched_hist_shares(x, 10, edges, 5, sh), 9);
    CHECK_NEAR(sh[0], 2.0 / 9, 1e-15); /* 1, 2 */
    CHECK_NEAR(sh[4], 1.0 / 9, 1e-15); /* 9 */
}

/* ---------------------------------------------------------------- execution */

static void test_concurrency(void)
{
    fixture fx;
    fx_init(&fx, T0, 0, 0, NULL);
    kz_sched *s = fx.s;
    kz_store *st = fx.st;
    gate *g = &fx.g;
    const char *names[3] = {"a", "b", "c"};
    for (int k = 0; k < 3; k++) {
        kz_sched_model m = quiet_model(names[k]);
        add(s, &m);
    }
    int64_t ids[4];
    CHECK(kz_job_create(st, "a", KZ_TRIGGER_MANUAL, "", T0, T0, &ids[0]) == KZ_OK);
    CHECK(kz_job_create(st, "a", KZ_TRIGGER_MANUAL, "", T0, T0, &ids[1]) == KZ_OK);
    CHECK(kz_job_create(st, "b", KZ_TRIGGER_MANUAL, "", T0, T0, &ids[2]) == KZ_OK);
    CHECK(kz_job_create(st, "c", KZ_TRIGGER_MANUAL, "", T0, T0, &ids[3]) == KZ_OK);
    CHECK(kz_job_create(st, "zzz", KZ_TRIGGER_MANUAL, "", T0 + 1, T0, NULL) == KZ_OK);
    kz_tick_report r;
    CHECK(kz_sched_tick(s, &r) == KZ_OK);
    CHECK_EQ_INT(r.dispatched, 2); /* a and b: the second a waits, c has no slot */
    CHECK_EQ_INT(r.running, 2);
    wait_calls(g, 2);
    CHECK_EQ_INT(count_jobs(st, NULL, BIT(KZ_JOB_RUNNING)), 2);
    CHECK(kz_sched_tick(s, &r) == KZ_OK);
    CHECK_EQ_INT(r.dispatched, 0);
    atomic_store(&g->release, 1);
    kz_sched_wait_idle(s);
    CHECK(kz_sched_tick(s, &r) == KZ_OK);
    CHECK_EQ_INT(r.dispatched, 2); /* a (second) and c */
    kz_sched_wait_idle(s);
    fake_set(&fx.clk, T0 + 1);
    CHECK(kz_sched_tick(s, &r) == KZ_OK); /* "zzz" is not configured: failed at once */
    kz_sched_wait_idle(s);
    CHECK_EQ_INT(atomic_load(&g->max_running), 2);
    CHECK_EQ_INT(atomic_load(&g->max_a), 1);
    CHECK_EQ_INT(atomic_load(&g->calls), 4);
    CHECK_EQ_INT(count_jobs(st, NULL, BIT(KZ_JOB_COMPLETED)), 4);
    kz_job j;
    CHECK(kz_job_get(st, ids[1], &j) == KZ_OK && j.started_ms == T0);
    CHECK_EQ_INT(list_jobs(st, "zzz", 0, &j), 1);
    CHECK_EQ_INT(j.status, KZ_JOB_FAILED);
    CHECK_STR_CONTAINS(j.error, "no such model");
    fx_free(&fx);
}

static void test_timeout_and_retries(void)
{
    kz_sched_config cfg = kz_sched_config_default();
    cfg.job_timeout_ms = 100 * 1000;
    cfg.retry_backoff_ms = 60 * 1000;
    cfg.max_attempts = 3;
    fixture fx;
    fx_init(&fx, T0, 1, 1, &cfg);
    kz_sched *s = fx.s;
    kz_store *st = fx.st;
    gate *g = &fx.g;
    fake_clock *clk = &fx.clk;
    kz_sched_model m = quiet_model("a");
    add(s, &m);
    int64_t id1 = 0;
    CHECK(kz_job_create(st, "a", KZ_TRIGGER_MANUAL, "go", T0, T0, &id1) == KZ_OK);
    kz_tick_report r;
    CHECK(kz_sched_tick(s, &r) == KZ_OK && r.dispatched == 1);
    wait_calls(g, 1);
    fake_set(clk, T0 + 100 * 1000 - 1);
    CHECK(kz_sched_tick(s, &r) == KZ_OK);
    CHECK_EQ_INT(r.timed_out, 0);
    CHECK_EQ_INT(r.running, 1);
    fake_set(clk, T0 + 100 * 1000); /* the deadline: the job is told to stop */
    kz_sched_wait_idle(s);
    kz_job j;
    CHECK(kz_job_get(st, id1, &j) == KZ_OK);
    CHECK_EQ_INT(j.status, KZ_JOB_FAILED);
    CHECK_STR_CONTAINS(j.error, "timed out after 100 s");
    CHECK_EQ_INT(j.finished_ms, T0 + 100 * 1000);
    /* Retry 2 after 60 s, retry 3 after 120 s more, then no more (max_attempts 3). */
    atomic_store(&g->wait_stop, 0);
    atomic_store(&g->fail, 1);
    int64_t due = T0 + 160 * 1000;
    for (int attempt = 2; attempt <= 3; attempt++) {
        fake_set(clk, due - 1);
        CHECK(kz_sched_tick(s, &r) == KZ_OK);
        CHECK_EQ_INT(r.dispatched, 0);
        fake_set(clk, due);
        CHECK(kz_sched_tick(s, &r) == KZ_OK);
        CHECK_EQ_INT(r.dispatched, 1);
        kz_sched_wait_idle(s);
        due += 120 * 1000;
    }
    kz_job *rows = NULL;
    size_t n = 0;
    CHECK(kz_job_list(st, "a", 0, 0, &rows, &n) == KZ_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        CHECK_EQ_INT(rows[0].attempts, 3);
        CHECK_EQ_INT(rows[0].retry_of, rows[1].id);
        CHECK_EQ_INT(rows[1].retry_of, id1);
        CHECK_EQ_INT(rows[1].scheduled_ms, T0 + 160 * 1000);
        CHECK_EQ_INT(rows[0].scheduled_ms, T0 + 280 * 1000);
        CHECK_EQ_INT(rows[0].status, KZ_JOB_FAILED);
        CHECK_STR_CONTAINS(rows[0].error, "injected failure");
    }
    kz_free(rows);
    fx_free(&fx);
}

static void test_cancel_running(void)
{
    fixture fx;
    fx_init(&fx, T0, 1, 1, NULL);
    kz_sched *s = fx.s;
    kz_store *st = fx.st;
    kz_sched_model m = quiet_model("a");
    add(s, &m);
    int64_t id = 0;
    CHECK(kz_job_create(st, "a", KZ_TRIGGER_MANUAL, "", T0, T0, &id) == KZ_OK);
    kz_tick_report r;
    CHECK(kz_sched_tick(s, &r) == KZ_OK && r.dispatched == 1);
    wait_calls(&fx.g, 1);
    int was_running = 0;
    CHECK(kz_job_cancel(st, id, T0, &was_running) == KZ_OK); /* another connection */
    CHECK_EQ_INT(was_running, 1);
    CHECK(kz_sched_tick(s, &r) == KZ_OK);
    CHECK_EQ_INT(r.cancelled, 1);
    kz_sched_wait_idle(s);
    kz_job j;
    CHECK(kz_job_get(st, id, &j) == KZ_OK);
    CHECK_EQ_INT(j.status, KZ_JOB_CANCELLED);
    CHECK_EQ_INT(count_jobs(st, "a", 0), 1); /* no retry after a cancellation */
    fx_free(&fx);
}

static void test_restart(void)
{
    fixture fx;
    fx_init(&fx, T0, 1, 1, NULL);
    kz_store *st = fx.st;
    kz_sched_model m = quiet_model("a");
    m.interval_ms = HOUR_MS;
    kz_sched_model mb = quiet_model("b");
    add(fx.s, &m);
    add(fx.s, &mb);
    CHECK_EQ_INT(tick_created(fx.s), 0); /* first sight of "a" at T0, persisted */
    int64_t run_id = 0, pend_id = 0;
    CHECK(kz_job_create(st, "b", KZ_TRIGGER_MANUAL, "", T0, T0, &run_id) == KZ_OK);
    kz_tick_report r;
    CHECK(kz_sched_tick(fx.s, &r) == KZ_OK && r.dispatched == 1);
    wait_calls(&fx.g, 1);
    CHECK(kz_job_create(st, "b", KZ_TRIGGER_MANUAL, "", T0, T0, &pend_id) == KZ_OK);
    /* A graceful stop interrupts the running job and re-queues it. */
    kz_sched_free(fx.s);
    kz_job j;
    CHECK(kz_job_get(st, run_id, &j) == KZ_OK);
    CHECK_EQ_INT(j.status, KZ_JOB_INTERRUPTED);
    CHECK_EQ_INT(count_jobs(st, "b", BIT(KZ_JOB_PENDING)), 2);

    atomic_store(&fx.g.wait_stop, 0);
    fake_set(&fx.clk, T0 + HOUR_MS / 2);
    fx.s = new_sched(&fx.sc, &fx.clk, &fx.g, NULL);
    add(fx.s, &m);
    add(fx.s, &mb);
    CHECK_EQ_INT(tick_created(fx.s), 0); /* the restart does not reset the interval's anchor */
    CHECK(kz_job_get(st, pend_id, &j) == KZ_OK && j.status == KZ_JOB_COMPLETED);
    CHECK(kz_sched_tick(fx.s, &r) == KZ_OK && r.dispatched == 1); /* the re-queued one */
    kz_sched_wait_idle(fx.s);
    fake_set(&fx.clk, T0 + HOUR_MS - 1);
    CHECK_EQ_INT(tick_created(fx.s), 0);
    fake_set(&fx.clk, T0 + HOUR_MS);
    CHECK_EQ_INT(tick_created(fx.s), 1);
    CHECK_EQ_INT(count_jobs(st, "b", BIT(KZ_JOB_COMPLETED)), 2);
    fx_free(&fx);
}

/* ---------------------------------------------------------------- crash */

static int crash_pipe = -1;

/* "Training" that reserves a version, tells the parent it is mid-way, and never returns. */
static kz_status crash_cb(kz_job_ctx *c, void *ud)
{
    (void)ud;
    int v = 0;
    if (kz_registry_reserve(kz_job_ctx_store(c), "a", &v) != KZ_OK) {
        return KZ_ERR_STORE;
    }
    char ch = 'S';
    if (write(crash_pipe, &ch, 1) != 1) {
        return KZ_ERR_IO;
    }
    for (;;) {
        pause();
    }
}

static void crash_child(const scratch *sc)
{
    kz_sched_config cfg = kz_sched_config_default();
    kz_sched *s = NULL;
    char ch = 'E';
    if (kz_sched_new(sc->db, &cfg, &s, NULL) != KZ_OK ||
        kz_sched_set_callback(s, "a", crash_cb, NULL) != KZ_OK) {
        if (write(crash_pipe, &ch, 1) != 1) {
            _exit(3);
        }
        _exit(2);
    }
    kz_sched_model m = quiet_model("a");
    kz_store *st = open_store(sc);
    if (kz_sched_add_model(s, &m, NULL) != KZ_OK ||
        kz_job_create(st, "a", KZ_TRIGGER_MANUAL, "crash", kz_now_ms(), kz_now_ms(), NULL) !=
            KZ_OK ||
        kz_sched_tick(s, NULL) != KZ_OK) {
        if (write(crash_pipe, &ch, 1) != 1) {
            _exit(3);
        }
        _exit(2);
    }
    for (;;) {
        pause();
    }
}

static void test_crash(void)
{
    scratch sc;
    scratch_init(&sc);
    kz_store *st = open_store(&sc);
    int v1 = add_version(st, "a", T0, 1.0, NULL);
    CHECK(kz_registry_promote(st, "a", v1, T0) == KZ_OK);
    kz_store_close(st);
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        crash_pipe = fds[1];
        crash_child(&sc);
    }
    close(fds[1]);
    char ch = 0;
    CHECK(read(fds[0], &ch, 1) == 1);
    CHECK(ch == 'S');
    /* While the child lives, a second scheduler on the database is refused. */
    kz_sched_config cfg = kz_sched_config_default();
    kz_sched *other = NULL;
    kz_error err;
    CHECK(kz_sched_new(sc.db, &cfg, &other, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "another scheduler");
    kill(pid, SIGKILL);
    int wst = 0;
    waitpid(pid, &wst, 0);
    CHECK(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
    close(fds[0]);

    st = open_store(&sc);
    kz_job j;
    CHECK(kz_job_get(st, 1, &j) == KZ_OK && j.status == KZ_JOB_RUNNING); /* as the crash left it */
    fake_clock clk;
    fake_set(&clk, kz_now_ms());
    gate g;
    gate_init(&g, 1);
    kz_sched *s = new_sched(&sc, &clk, &g, NULL);
    CHECK(kz_job_get(st, 1, &j) == KZ_OK);
    CHECK_EQ_INT(j.status, KZ_JOB_INTERRUPTED);
    CHECK_STR_CONTAINS(j.error, "interrupted");
    CHECK(kz_job_get(st, 2, &j) == KZ_OK);
    CHECK_EQ_INT(j.status, KZ_JOB_PENDING);
    CHECK_EQ_INT(j.attempts, 2);
    CHECK_EQ_INT(j.retry_of, 1);
    CHECK_EQ_INT(j.trigger, KZ_TRIGGER_MANUAL);
    /* The registry and its active version are intact; the half-done version has no row. */
    kz_model_version v;
    CHECK(kz_registry_get(st, "a", 0, &v) == KZ_OK && v.version == v1);
    kz_model_version *rows = NULL;
    size_t n = 0;
    CHECK(kz_registry_list(st, "a", &rows, &n) == KZ_OK && n == 1);
    kz_free(rows);
    /* The re-queued job runs. */
    kz_sched_model m = quiet_model("a");
    add(s, &m);
    kz_tick_report r;
    CHECK(kz_sched_tick(s, &r) == KZ_OK && r.dispatched == 1);
    kz_sched_wait_idle(s);
    CHECK(kz_job_get(st, 2, &j) == KZ_OK && j.status == KZ_JOB_COMPLETED);
    kz_sched_free(s);
    kz_store_close(st);
    scratch_free(&sc);
}

int main(void)
{
    test_crash(); /* first: fork before this process has started any thread */
    test_job_store();
    test_psi_and_hist();
    test_interval_and_candles();
    test_new_data();
    test_performance();
    test_drift();
    test_concurrency();
    test_timeout_and_retries();
    test_cancel_running();
    test_restart();
    KZ_TEST_DONE();
}
