/* Model registry tests: rows (versions never reused, one active, promote, rollback, retention
 * with file deletion), the JSON config, the built-in retraining pipeline end to end with the
 * promotion rule on real models, and the follower's atomic swap under concurrent readers. */
#include <pthread.h>
#include <sys/stat.h>

#include "sched/sched_int.h"
#include "test_sched_util.h"

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void touch(const char *p)
{
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("x", f);
        fclose(f);
    }
}

/* ---------------------------------------------------------------- rows */

static void test_rows(void)
{
    scratch sc;
    scratch_init(&sc);
    kz_store *st = open_store(&sc);
    int v[4];
    for (int k = 0; k < 4; k++) {
        v[k] = add_version(st, "m", T0 + k, 1.0 + k, NULL);
        CHECK_EQ_INT(v[k], k + 1);
    }
    kz_model_version r;
    CHECK(kz_registry_get(st, "m", 0, &r) == KZ_ERR_NOT_FOUND); /* nothing active yet */
    CHECK(kz_registry_get(st, "m", 3, &r) == KZ_OK);
    CHECK_EQ_INT(r.status, KZ_VERSION_CANDIDATE);
    CHECK_EQ_INT(r.data_to_ms, T0 + 2);
    CHECK_NEAR(r.test_mlogloss, 3.0, 0);
    CHECK(isnan(r.eval_mlogloss)); /* NaN round-trips through NULL */
    CHECK_EQ_INT(r.tf, KZ_TF_1H);
    /* An unreserved version is refused. */
    kz_model_version bad = r;
    bad.version = 9;
    CHECK(kz_registry_insert(st, &bad, NULL) == KZ_ERR_INVALID);

    CHECK(kz_registry_promote(st, "m", 1, T0 + 10) == KZ_OK);
    CHECK(kz_registry_promote(st, "m", 3, T0 + 20) == KZ_OK);
    CHECK(kz_registry_promote(st, "m", 99, T0 + 30) == KZ_ERR_NOT_FOUND); /* rolled back */
    CHECK(kz_registry_get(st, "m", 0, &r) == KZ_OK && r.version == 3);
    CHECK_EQ_INT(r.activated_ms, T0 + 20);
    CHECK(kz_registry_get(st, "m", 1, &r) == KZ_OK && r.status == KZ_VERSION_RETIRED);
    /* Rollback goes to the newest earlier version that was active: 1 (2 never was). */
    int now_active = 0;
    CHECK(kz_registry_rollback(st, "m", T0 + 40, &now_active) == KZ_OK);
    CHECK_EQ_INT(now_active, 1);
    CHECK(kz_registry_get(st, "m", 3, &r) == KZ_OK && r.status == KZ_VERSION_RETIRED);
    CHECK(kz_registry_rollback(st, "m", T0 + 50, NULL) == KZ_ERR_NOT_FOUND);
    CHECK(kz_registry_get(st, "m", 0, &r) == KZ_OK && r.version == 1);

    /* Retention keeps the newest 2 and the active one; files are deleted after the commit. */
    kz_model_version *rows = NULL;
    size_t n = 0;
    char paths[4][512];
    kz_error err;
    for (int k = 0; k < 4; k++) {
        kz_model_version w;
        memset(&w, 0, sizeof w);
        snprintf(w.name, sizeof w.name, "f");
        CHECK(kz_registry_reserve(st, "f", &w.version) == KZ_OK);
        snprintf(w.path, sizeof w.path, "%s/f-v%d.kzm", sc.dir, w.version);
        touch(w.path);
        w.tf = KZ_TF_1H;
        w.label_up = w.label_down = w.test_mlogloss = w.test_balanced_accuracy = NAN;
        w.eval_mlogloss = w.eval_balanced_accuracy = NAN;
        CHECK(kz_registry_insert(st, &w, NULL) == KZ_OK);
        snprintf(paths[k], sizeof paths[k], "%s", w.path);
    }
    CHECK(kz_registry_promote(st, "f", 1, T0) == KZ_OK);
    size_t deleted = 0;
    CHECK(kz_registry_retain(st, "f", 2, &deleted, &err) == KZ_OK);
    CHECK_EQ_INT(deleted, 1); /* v2 only: v1 is active, v3/v4 are the newest two */
    CHECK(file_exists(paths[0]) && !file_exists(paths[1]));
    CHECK(file_exists(paths[2]) && file_exists(paths[3]));
    CHECK(kz_registry_list(st, "f", &rows, &n) == KZ_OK);
    CHECK_EQ_INT(n, 3);
    kz_free(rows);
    int nv = 0;
    CHECK(kz_registry_reserve(st, "f", &nv) == KZ_OK);
    CHECK_EQ_INT(nv, 5); /* never reused */
    kz_store_close(st);
    scratch_free(&sc);
}

/* ---------------------------------------------------------------- config */

static void test_config(void)
{
    scratch sc;
    scratch_init(&sc);
    char path[400];
    snprintf(path, sizeof path, "%s/sched.json", sc.dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) {
        return;
    }
    fputs("{\"check_interval_s\": 30, \"max_concurrent\": 3, \"job_timeout_s\": 600,"
          " \"history_days\": 7, \"models_dir\": \"/tmp/x\", \"promote_metric\":"
          " \"balanced_accuracy\", \"min_improvement\": 0.02, \"requeue_interrupted\": false,"
          " \"models\": [{\"name\": \"btc\", \"exchange\": \"bybit\", \"symbol\": \"BTCUSDT\","
          " \"timeframe\": \"4h\", \"every_n_closes\": 6, \"drift_threshold\": 0.2,"
          " \"horizon\": 12}]}",
          f);
    fclose(f);
    kz_sched_config cfg = kz_sched_config_default();
    kz_sched_model *models = NULL;
    size_t n = 0;
    char *strings = NULL;
    kz_error err;
    kz_status s = kz_sched_config_load(path, &cfg, &models, &n, &strings, &err);
    CHECK_MSG(s == KZ_OK, "%s: %s", err.field, err.msg);
    CHECK_EQ_INT(cfg.check_interval_ms, 30000);
    CHECK_EQ_INT(cfg.max_concurrent, 3);
    CHECK_EQ_INT(cfg.job_timeout_ms, 600000);
    CHECK_EQ_INT(cfg.history_ms, 7LL * 86400000);
    CHECK_EQ_INT(cfg.requeue_interrupted, 0);
    CHECK_EQ_INT(cfg.promote.metric, 1);
    CHECK_NEAR(cfg.promote.min_improvement, 0.02, 0);
    CHECK_EQ_INT(cfg.max_attempts, 3); /* untouched default */
    CHECK(cfg.registry.models_dir && strcmp(cfg.registry.models_dir, "/tmp/x") == 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK(strcmp(models[0].exchange, "bybit") == 0);
        CHECK_EQ_INT(models[0].tf, KZ_TF_4H);
        CHECK_EQ_INT(models[0].every_n_closes, 6);
        CHECK_EQ_INT(models[0].interval_ms, 86400000); /* default */
        CHECK_NEAR(models[0].drift_threshold, 0.2, 0);
        CHECK_NEAR(models[0].perf_margin, 0.05, 0);
        CHECK_EQ_INT(models[0].train.label.horizon, 12);
    }
    kz_free(models);
    kz_free(strings);
    /* A typo is an error naming the key; so is a wrong type. */
    const char *bad[2] = {"{\"max_concurent\": 2}",
                          "{\"models\": [{\"name\": \"x\", \"exchange\":"
                          " \"e\", \"symbol\": \"s\", \"horizon\": 1.5}]}"};
    const char *field[2] = {"max_concurent", "horizon"};
    for (int k = 0; k < 2; k++) {
        f = fopen(path, "w");
        if (!f) {
            break;
        }
        fputs(bad[k], f);
        fclose(f);
        cfg = kz_sched_config_default();
        models = NULL;
        n = 0;
        strings = NULL;
        CHECK(kz_sched_config_load(path, &cfg, &models, &n, &strings, &err) == KZ_ERR_INVALID);
        CHECK(strcmp(err.field, field[k]) == 0);
        CHECK_STR_CONTAINS(err.file, "sched.json");
        kz_free(models);
        kz_free(strings);
    }
    scratch_free(&sc);
}

/* ---------------------------------------------------------------- pipeline and promotion */

typedef struct reader_arg {
    kz_model_follower *f;
    const kz_frame *X;
    atomic_int *done;
    int errors;
    int reads;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    size_t n = kz_frame_n_rows(a->X);
    double *prob = malloc(n * 3 * sizeof *prob);
    uint64_t last_gen = 0;
    while (prob && !atomic_load(a->done)) {
        uint64_t gen = kz_model_follower_generation(a->f);
        kz_model_ref *r = kz_model_follower_acquire(a->f);
        int v = kz_model_ref_version(r);
        kz_error err;
        kz_status ps = r ? kz_model_ref_predict(r, a->X, prob, &err) : KZ_ERR_INVALID;
        if (gen < last_gen || !r || (v != 2 && v != 3) || ps != KZ_OK ||
            fabs(prob[0] + prob[1] + prob[2] - 1.0) > 1e-5) {
            fprintf(stderr, "reader: gen %llu/%llu v%d predict %s %s sum %g\n",
                    (unsigned long long)gen, (unsigned long long)last_gen, v, kz_status_str(ps),
                    ps == KZ_OK ? "" : err.msg, prob[0] + prob[1] + prob[2]);
            a->errors++;
        }
        last_gen = gen;
        kz_model_ref_release(r);
        a->reads++;
    }
    free(prob);
    return NULL;
}

static int64_t g_now = T0 + 2000 * HOUR_MS;

static int64_t fixed_now(void *ud)
{
    (void)ud;
    return g_now;
}

static kz_model_version run_retrain(kz_sched *s, kz_store *st, int rounds, kz_sched_model *m)
{
    m->train.booster.num_boost_round = rounds;
    kz_error err;
    CHECK(kz_sched_add_model(s, m, &err) == KZ_OK);
    int64_t id = 0;
    CHECK(kz_job_create(st, m->name, KZ_TRIGGER_MANUAL, "test", g_now, g_now, &id) == KZ_OK);
    kz_tick_report rep;
    CHECK(kz_sched_tick(s, &rep) == KZ_OK && rep.dispatched == 1);
    kz_sched_wait_idle(s);
    kz_job j;
    kz_model_version v;
    memset(&v, 0, sizeof v);
    CHECK(kz_job_get(st, id, &j) == KZ_OK);
    CHECK_MSG(j.status == KZ_JOB_COMPLETED, "job %lld: %s %s", (long long)id,
              kz_job_status_str(j.status), j.error);
    CHECK(kz_registry_get(st, m->name, j.result_version, &v) == KZ_OK);
    CHECK_EQ_INT(v.job_id, id);
    return v;
}

static void test_pipeline(void)
{
    scratch sc;
    scratch_init(&sc);
    kz_store *st = open_store(&sc);
    put_bars(st, 0, 1500, 0.01); /* a slow sine: momentum predicts the 4-bar direction */
    kz_sched_config cfg = kz_sched_config_default();
    cfg.clock = fixed_now;
    cfg.max_concurrent = 1;
    cfg.registry.keep_versions = 2;
    kz_sched *s = NULL;
    kz_error err;
    CHECK(kz_sched_new(sc.db, &cfg, &s, &err) == KZ_OK);
    if (!s) {
        return;
    }
    kz_sched_model m = quiet_model("btc");
    m.train_bars = 0;
    m.train.label.horizon = 4;
    m.train.label.threshold_up = 0.004;
    m.train.label.threshold_down = -0.004;
    m.train.booster.num_threads = 1;
    m.train.booster.early_stopping = 0;

    /* v1: one boosting round, barely better than the prior; first version: active at once. */
    kz_model_version v1 = run_retrain(s, st, 1, &m);
    CHECK_EQ_INT(v1.version, 1);
    CHECK_EQ_INT(v1.status, KZ_VERSION_ACTIVE);
    CHECK_EQ_INT(v1.parent, 0);
    CHECK_EQ_INT(v1.data_from_ms, T0);
    CHECK_EQ_INT(v1.data_to_ms, T0 + 1499 * HOUR_MS);
    CHECK_EQ_INT(v1.horizon, 4);
    CHECK(isfinite(v1.test_mlogloss));
    char expect[600];
    snprintf(expect, sizeof expect, "%s/models/btc/btc-v1.kzm", sc.dir);
    CHECK(strcmp(v1.path, expect) == 0 && file_exists(v1.path));
    char *meta = NULL;
    CHECK(kz_registry_meta(st, "btc", 1, &meta) == KZ_OK);
    CHECK_STR_CONTAINS(meta, "\"shares\":[");
    kz_free(meta);

    /* v2: 60 rounds: better on the same window by far more than 1%: promoted. */
    kz_model_version v2 = run_retrain(s, st, 60, &m);
    CHECK_EQ_INT(v2.version, 2);
    CHECK_EQ_INT(v2.status, KZ_VERSION_ACTIVE);
    CHECK_EQ_INT(v2.parent, 1);
    CHECK(kz_registry_get(st, "btc", 1, &v1) == KZ_OK);
    CHECK_EQ_INT(v1.status, KZ_VERSION_RETIRED);
    CHECK(v2.eval_mlogloss < v1.eval_mlogloss * 0.99);

    kz_model_follower *f = NULL;
    CHECK(kz_model_follower_new("btc", &f) == KZ_OK);
    int changed = 0;
    CHECK(kz_model_follower_refresh(f, st, &changed, &err) == KZ_OK && changed == 1);
    CHECK_EQ_INT(kz_model_follower_generation(f), 1);
    kz_model_ref *old = kz_model_follower_acquire(f);
    CHECK_EQ_INT(kz_model_ref_version(old), 2);

    /* v3: the same settings and data = the same model: equal scores, stays a candidate. */
    kz_model_version v3 = run_retrain(s, st, 60, &m);
    CHECK_EQ_INT(v3.status, KZ_VERSION_CANDIDATE);
    CHECK(kz_registry_get(st, "btc", 2, &v2) == KZ_OK);
    CHECK_NEAR(v3.eval_mlogloss, v2.eval_mlogloss, 1e-12);
    /* Retention (keep 2): v1 row and file are gone. */
    CHECK(!file_exists(v1.path) && file_exists(v2.path) && file_exists(v3.path));
    CHECK(kz_registry_get(st, "btc", 1, &v1) == KZ_ERR_NOT_FOUND);
    CHECK(kz_registry_rollback(st, "btc", g_now, NULL) == KZ_ERR_NOT_FOUND);

    /* Manual promote; the follower picks it up; the old snapshot still works. */
    CHECK(kz_model_follower_refresh(f, st, &changed, &err) == KZ_OK && changed == 0);
    CHECK(kz_registry_promote(st, "btc", 3, g_now) == KZ_OK);
    CHECK(kz_model_follower_refresh(f, st, &changed, &err) == KZ_OK && changed == 1);
    CHECK_EQ_INT(kz_model_follower_generation(f), 2);
    kz_market mk;
    memset(&mk, 0, sizeof mk);
    CHECK(kz_store_load_market(st, "test", "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, NULL, &mk) ==
          KZ_OK);
    kz_frame *X = NULL;
    CHECK(sched_model_frame(&mk, kz_model_feature_params(kz_model_ref_model(old)), 0, &X, &err) ==
          KZ_OK);
    size_t nr = kz_frame_n_rows(X);
    double *p_old = kz_malloc_array(nr * 3, sizeof *p_old);
    double *p_new = kz_malloc_array(nr * 3, sizeof *p_new);
    kz_model_ref *cur = kz_model_follower_acquire(f);
    CHECK_EQ_INT(kz_model_ref_version(cur), 3);
    CHECK(kz_model_ref_predict(old, X, p_old, &err) == KZ_OK);
    CHECK(kz_model_ref_predict(cur, X, p_new, &err) == KZ_OK);
    /* v2 and v3 are the same model trained twice: identical probabilities. */
    CHECK(memcmp(p_old, p_new, nr * 3 * sizeof *p_old) == 0);
    kz_model_ref_release(old);
    kz_model_ref_release(cur);
    kz_free(p_old);
    kz_free(p_new);
    CHECK(kz_registry_rollback(st, "btc", g_now, NULL) == KZ_OK);

    /* Readers keep predicting while the active version flips and the follower swaps. */
    atomic_int done;
    atomic_init(&done, 0);
    reader_arg ra[2] = {{f, X, &done, 0, 0}, {f, X, &done, 0, 0}};
    pthread_t th[2];
    for (int k = 0; k < 2; k++) {
        pthread_create(&th[k], NULL, reader, &ra[k]);
    }
    for (int k = 0; k < 10; k++) {
        CHECK(kz_registry_promote(st, "btc", 2 + (k % 2), g_now) == KZ_OK);
        CHECK(kz_model_follower_refresh(f, st, &changed, &err) == KZ_OK && changed == 1);
    }
    atomic_store(&done, 1);
    for (int k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
        CHECK_EQ_INT(ra[k].errors, 0);
        CHECK(ra[k].reads > 0);
    }
    CHECK_EQ_INT(kz_model_follower_generation(f), 12); /* 2 + 10 swaps */

    /* The signals facade following "the active model of btc": the values equal the facade on
     * the active version's own file, and a promotion is picked up by the next call. */
    size_t nb = mk.bars.n;
    double *sg = kz_malloc_array(nb * 3, sizeof *sg);
    double *sd = kz_malloc_array(nb * 3, sizeof *sd);
    kz_signal_report rep;
    int ver = -1;
    /* This market has no funding/OI series; the pipeline trained with those columns all NaN. */
    kz_signal_params sp = kz_signal_params_default();
    sp.allow_missing_inputs = 1;
    CHECK(kz_model_follower_signals(f, st, &mk, &sp, sg, sg + nb, sg + 2 * nb, &rep, &ver, &err) ==
          KZ_OK);
    CHECK_EQ_INT(ver, 3); /* the loop above ended on v3 */
    CHECK(!rep.fallback && rep.n_bars == nb);
    kz_signals *direct = NULL;
    CHECK(kz_signals_open(v3.path, &sp, &direct, &err) == KZ_OK);
    CHECK(kz_signals_compute(direct, &mk, sd, sd + nb, sd + 2 * nb, NULL) == KZ_OK);
    CHECK(memcmp(sg, sd, nb * 3 * sizeof *sg) == 0);
    kz_signals_free(direct);
    CHECK(kz_registry_promote(st, "btc", 2, g_now) == KZ_OK);
    CHECK(kz_model_follower_signals(f, st, &mk, &sp, sg, sg + nb, sg + 2 * nb, &rep, &ver, &err) ==
          KZ_OK);
    CHECK_EQ_INT(ver, 2);
    CHECK(!rep.fallback);
    /* A name with no active version: every bar holds the documented fallback, no error. */
    kz_model_follower *g = NULL;
    CHECK(kz_model_follower_new("nobody", &g) == KZ_OK);
    CHECK(kz_model_follower_signals(g, st, &mk, NULL, sg, sg + nb, sg + 2 * nb, &rep, &ver, &err) ==
          KZ_OK);
    CHECK_EQ_INT(ver, 0);
    CHECK(rep.fallback && rep.reason == KZ_SIGNAL_NO_MODEL && rep.n_fallback == nb);
    CHECK_NEAR(sg[0], 1.0 / 3.0, 1e-15);
    CHECK_NEAR(sg[nb - 1 + 2 * nb], 1.0 / 3.0, 1e-15);
    kz_model_follower_free(g);
    kz_free(sg);
    kz_free(sd);
    kz_frame_free(X);
    kz_market_free(&mk);
    kz_model_follower_free(f);
    kz_sched_free(s);
    kz_store_close(st);
    scratch_free(&sc);
}

int main(int argc, char **argv)
{
    /* XGBoost predicts on a libgomp thread pool whose barriers ThreadSanitizer cannot see (false
     * races inside libxgboost). libgomp reads OMP_NUM_THREADS when it loads, so re-run once with
     * one OpenMP thread: the scheduler's and the follower's own threads are what is under test. */
    if (!getenv("OMP_NUM_THREADS") && argc >= 1) {
        setenv("OMP_NUM_THREADS", "1", 1);
        execv("/proc/self/exe", argv);
    }
    test_rows();
    test_config();
    test_pipeline();
    KZ_TEST_DONE();
}
