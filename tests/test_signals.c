/* ML indicator facade on synthetic data: batch == kz_model_predict, causality, every fallback
 * path with its exact values and report, probability validation, streaming == batch (bit for bit)
 * and its last-good fallback, OOM injection, and the column-set helper. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/signals.h"
#include "kizashi/strategy.h"

#include "kz_test.h"

#define N_BARS 1500

/* ---------------------------------------------------------------- fixtures */
static void synth_market(size_t n, int with_fr, int with_oi, kz_market *mk)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = n;
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    memset(mk, 0, sizeof *mk);
    if (kz_synth_generate(&sp, &b, &fr, &oi, NULL) != KZ_OK ||
        kz_market_build("synth", "BTCUSDT", KZ_TF_1H, &b, with_fr ? &fr : NULL,
                        with_oi ? &oi : NULL, 0, 0, mk) != KZ_OK) {
        fprintf(stderr, "synth market failed\n");
    }
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
}

/* A small, fast model: 10 rounds, 8 leaves, 32 bins, 1 thread. */
static kz_model *train_small(const kz_market *m, unsigned groups, int all_features)
{
    kz_train_params p = kz_train_params_default();
    p.features.groups = groups;
    p.all_features = all_features;
    p.booster.num_boost_round = 10;
    p.booster.early_stopping = 0;
    p.booster.num_threads = 1;
    p.booster.max_bin = 32;
    p.booster.num_leaves = 8;
    p.label.mode = KZ_LABEL_QUANTILE;
    kz_model *model = NULL;
    kz_error err;
    if (kz_model_train(m, &p, &model, &err) != KZ_OK) {
        fprintf(stderr, "train: %s\n", err.msg);
    }
    return model;
}

/* The reference: the model's own batch prediction on kz_model_select_features' frame. */
static double *reference(kz_model *model, const kz_market *m)
{
    kz_frame *f = NULL, *x = NULL;
    double *prob = kz_malloc_array(m->bars.n, 3 * sizeof *prob);
    int ok = prob &&
             kz_features_compute(m, kz_model_feature_params(model), &f, NULL, NULL) == KZ_OK &&
             kz_model_select_features(f, m, kz_model_all_features(model), &x, NULL) == KZ_OK &&
             kz_model_predict(model, x, prob, NULL) == KZ_OK;
    kz_frame_free(f);
    kz_frame_free(x);
    if (!ok) {
        kz_free(prob);
        return NULL;
    }
    return prob;
}

typedef struct cols {
    size_t n;
    double *c[3];
} cols;

static void cols_init(cols *o, size_t n)
{
    o->n = n;
    for (int k = 0; k < 3; k++) {
        o->c[k] = kz_malloc_array(n ? n : 1, sizeof(double));
        for (size_t i = 0; i < n; i++) {
            o->c[k][i] = -7.0; /* proves every value is written */
        }
    }
}

static void cols_free(cols *o)
{
    for (int k = 0; k < 3; k++) {
        kz_free(o->c[k]);
    }
}

static kz_status run(kz_signals *sig, const kz_market *m, cols *o, kz_signal_report *rep)
{
    return kz_signals_compute(sig, m, o->c[0], o->c[1], o->c[2], rep);
}

/* Bars [b, e) of o equal ref (n x 3 row-major) bit for bit. */
static size_t count_equal(const cols *o, const double *ref, size_t b, size_t e)
{
    size_t same = 0;
    for (size_t i = b; i < e; i++) {
        int eq = 1;
        for (int k = 0; k < 3; k++) {
            eq &= memcmp(&o->c[k][i], &ref[3 * i + (size_t)k], sizeof(double)) == 0;
        }
        same += (size_t)eq;
    }
    return same;
}

/* Bars [b, e) of o hold exactly the triple t. */
static size_t count_triple(const cols *o, const double t[3], size_t b, size_t e)
{
    size_t same = 0;
    for (size_t i = b; i < e; i++) {
        same += (size_t)(o->c[0][i] == t[0] && o->c[1][i] == t[1] && o->c[2][i] == t[2]);
    }
    return same;
}

static const double THIRD[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};

/* ---------------------------------------------------------------- validation and names */
static void test_validation(void)
{
    const double ok1[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, ok2[3] = {0.5, 0.5, 1e-7},
                 ok3[3] = {0.0, 0.0, 1.0}, bad_sum[3] = {0.5, 0.5, 2e-6},
                 bad_neg[3] = {0.6, 0.6, -0.2}, bad_big[3] = {1.5, -0.25, -0.25},
                 bad_nan[3] = {NAN, 0.5, 0.5}, bad_inf[3] = {INFINITY, 0.0, 0.0};
    CHECK(kz_signal_probs_valid(ok1));
    CHECK(kz_signal_probs_valid(ok2));
    CHECK(kz_signal_probs_valid(ok3));
    CHECK(!kz_signal_probs_valid(bad_sum));
    CHECK(!kz_signal_probs_valid(bad_neg));
    CHECK(!kz_signal_probs_valid(bad_big));
    CHECK(!kz_signal_probs_valid(bad_nan));
    CHECK(!kz_signal_probs_valid(bad_inf));
    CHECK(strcmp(kz_signal_column_name(KZ_CLASS_DOWN), "ML_DOWN_PROB") == 0);
    CHECK(strcmp(kz_signal_column_name(KZ_CLASS_RANGE), "ML_RANGE_PROB") == 0);
    CHECK(strcmp(kz_signal_column_name(KZ_CLASS_UP), "ML_UP_PROB") == 0);
    CHECK(kz_signal_column_name(3) == NULL);
    CHECK(strcmp(kz_signal_reason_str(KZ_SIGNAL_MEMORY_BUDGET), "memory_budget") == 0);
    CHECK(strcmp(kz_signal_reason_str(KZ_SIGNAL_REASON_COUNT), "?") == 0);

    kz_signal_params p = kz_signal_params_default();
    CHECK_EQ_INT(p.chunk_rows, 8192);
    p.chunk_rows = 0;
    kz_signals *sig = (kz_signals *)&p;
    kz_error err;
    CHECK(kz_signals_new(NULL, &p, &sig, &err) == KZ_ERR_INVALID);
    CHECK(sig == NULL);
    CHECK(strcmp(err.field, "chunk_rows") == 0);
}

/* ---------------------------------------------------------------- batch */
static void test_batch(kz_model *model, const kz_market *m)
{
    double *ref = reference(model, m);
    CHECK(ref != NULL);
    kz_signal_params p = kz_signal_params_default();
    p.chunk_rows = 700; /* two full chunks and a tail of 100 */
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    CHECK(kz_signals_state(sig, NULL) == KZ_SIGNAL_OK);
    CHECK(kz_signals_model(sig) == model);
    cols o;
    cols_init(&o, m->bars.n);
    kz_signal_report rep;
    CHECK(run(sig, m, &o, &rep) == KZ_OK);
    CHECK_EQ_INT(rep.fallback, 0);
    CHECK_EQ_INT(rep.reason, KZ_SIGNAL_OK);
    CHECK_EQ_INT(rep.n_bars, m->bars.n);
    CHECK_EQ_INT(rep.n_fallback, 0);
    CHECK_EQ_INT(rep.groups_no_input, 0);
    if (ref) {
        /* Every bar, warm-up included (row 0 has NaN features: still the model's own output). */
        CHECK_EQ_INT(count_equal(&o, ref, 0, m->bars.n), m->bars.n);
    }
    /* Not a broadcast: the probabilities move from bar to bar. */
    size_t changes = 0;
    for (size_t i = 1; i < m->bars.n; i++) {
        changes += o.c[2][i] != o.c[2][i - 1];
    }
    CHECK(changes > m->bars.n / 2);
    /* The default chunk (one chunk for these bars) gives the same values. */
    kz_signals *one = NULL;
    CHECK(kz_signals_new(model, NULL, &one, NULL) == KZ_OK);
    cols o1;
    cols_init(&o1, m->bars.n);
    CHECK(run(one, m, &o1, NULL) == KZ_OK);
    if (ref) {
        CHECK_EQ_INT(count_equal(&o1, ref, 0, m->bars.n), m->bars.n);
    }
    /* Through a feature cache: the same values, the second run served from the cache. */
    kz_feature_cache *cache = NULL;
    CHECK(kz_feature_cache_new(64u << 20, &cache) == KZ_OK);
    p.cache = cache;
    kz_signals *cached = NULL;
    CHECK(kz_signals_new(model, &p, &cached, NULL) == KZ_OK);
    for (int r = 0; r < 2 && ref; r++) {
        CHECK(run(cached, m, &o1, &rep) == KZ_OK);
        CHECK_EQ_INT(count_equal(&o1, ref, 0, m->bars.n), m->bars.n);
    }
    kz_feature_cache_stats cst;
    kz_feature_cache_stats_get(cache, &cst);
    CHECK_EQ_INT(cst.hits, 1);
    kz_signals_free(cached);
    kz_feature_cache_free(cache);
    /* Bad arguments write nothing. */
    CHECK(kz_signals_compute(sig, m, NULL, o.c[1], o.c[2], &rep) == KZ_ERR_INVALID);
    CHECK(kz_signals_compute(NULL, m, o.c[0], o.c[1], o.c[2], NULL) == KZ_ERR_INVALID);
    cols_free(&o);
    cols_free(&o1);
    kz_signals_free(sig);
    kz_signals_free(one);
    kz_free(ref);
}

/* Changing bars after t changes no probability at or before t. */
static void test_causality(kz_model *model, const kz_market *m)
{
    size_t n = m->bars.n, t = 1000;
    kz_bars b = {0};
    CHECK(kz_bars_reserve(&b, n) == KZ_OK);
    for (size_t i = 0; i < n; i++) {
        double k = i > t ? 1.0 + 0.001 * (double)(i - t) : 1.0;
        CHECK(kz_bars_push(&b, m->bars.ts_ms[i], m->bars.open[i] * k, m->bars.high[i] * k,
                           m->bars.low[i] * k, m->bars.close[i] * k,
                           m->bars.volume[i] * (i > t ? 3.0 : 1.0)) == KZ_OK);
    }
    /* The same funding / OI values on the bars, changed after t as well. */
    kz_market m2;
    memset(&m2, 0, sizeof m2);
    CHECK(kz_market_build("synth", "BTCUSDT", KZ_TF_1H, &b, NULL, NULL, 0, 0, &m2) == KZ_OK);
    m2.funding = kz_malloc_array(n, sizeof(double));
    m2.oi = kz_malloc_array(n, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        m2.funding[i] = i > t ? -m->funding[i] : m->funding[i];
        m2.oi[i] = i > t ? 2.0 * m->oi[i] : m->oi[i];
    }
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, NULL, &sig, NULL) == KZ_OK);
    cols a, c;
    cols_init(&a, n);
    cols_init(&c, n);
    CHECK(run(sig, m, &a, NULL) == KZ_OK);
    CHECK(run(sig, &m2, &c, NULL) == KZ_OK);
    size_t same_before = 0, diff_after = 0;
    for (size_t i = 0; i < n; i++) {
        int same = memcmp(&a.c[0][i], &c.c[0][i], sizeof(double)) == 0 &&
                   memcmp(&a.c[1][i], &c.c[1][i], sizeof(double)) == 0 &&
                   memcmp(&a.c[2][i], &c.c[2][i], sizeof(double)) == 0;
        if (i <= t) {
            same_before += (size_t)same;
        } else {
            diff_after += (size_t)!same;
        }
    }
    CHECK_EQ_INT(same_before, t + 1);
    CHECK(diff_after > (n - t) / 2); /* the change after t did reach the model */
    cols_free(&a);
    cols_free(&c);
    kz_signals_free(sig);
    kz_bars_free(&b);
    kz_market_free(&m2);
}

/* ---------------------------------------------------------------- fallbacks */
/* Run sig over m and check the whole run fell back with reason r and the triple t. */
static void check_all_fallback(kz_signals *sig,
                               const kz_market *m,
                               kz_signal_reason r,
                               const double t[3],
                               kz_signal_report *rep)
{
    cols o;
    cols_init(&o, m->bars.n);
    CHECK(run(sig, m, &o, rep) == KZ_OK);
    CHECK_EQ_INT(rep->fallback, 1);
    CHECK_MSG(rep->reason == r, "reason %s, expected %s", kz_signal_reason_str(rep->reason),
              kz_signal_reason_str(r));
    CHECK_EQ_INT(rep->n_bars, m->bars.n);
    CHECK_EQ_INT(rep->n_fallback, m->bars.n);
    CHECK_EQ_INT(count_triple(&o, t, 0, m->bars.n), m->bars.n);
    CHECK(memcmp(rep->fallback_prob, t, sizeof rep->fallback_prob) == 0);
    cols_free(&o);
}

static void test_fallback_no_model_and_files(kz_model *model, const kz_market *m)
{
    kz_signal_report rep;
    kz_signals *sig = NULL;
    kz_error e;
    CHECK(kz_signals_new(NULL, NULL, &sig, NULL) == KZ_OK);
    CHECK(kz_signals_state(sig, &e) == KZ_SIGNAL_NO_MODEL);
    check_all_fallback(sig, m, KZ_SIGNAL_NO_MODEL, THIRD, &rep);
    CHECK_EQ_INT(rep.priors_known, 0);
    kz_signals_free(sig);
    CHECK(kz_signals_open(NULL, NULL, &sig, NULL) == KZ_OK);
    check_all_fallback(sig, m, KZ_SIGNAL_NO_MODEL, THIRD, &rep);
    kz_signals_free(sig);

    const char *missing = "/nonexistent-kizashi-dir/model.kzm";
    CHECK(kz_signals_open(missing, NULL, &sig, NULL) == KZ_OK);
    CHECK(kz_signals_model(sig) == NULL);
    check_all_fallback(sig, m, KZ_SIGNAL_LOAD_FAILED, THIRD, &rep);
    CHECK_EQ_INT(rep.detail.code, KZ_ERR_IO);
    CHECK(strcmp(rep.detail.file, missing) == 0);
    kz_signals_free(sig);

    /* A corrupted copy of a good file: one byte flipped in the middle -> checksum mismatch. */
    uint8_t *buf = NULL;
    size_t len = 0;
    char path[256];
    snprintf(path, sizeof path, "test_signals_%ld.kzm", (long)kz_now_ms());
    CHECK(kz_model_save_mem(model, &buf, &len, NULL) == KZ_OK);
    if (buf) {
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f) {
            CHECK(fwrite(buf, 1, len, f) == len);
            fclose(f);
        }
        CHECK(kz_signals_open(path, NULL, &sig, NULL) == KZ_OK); /* the good file loads */
        CHECK(kz_signals_state(sig, NULL) == KZ_SIGNAL_OK);
        double prior[3];
        CHECK_EQ_INT(kz_model_class_priors(kz_signals_model(sig), prior), 1);
        kz_signals_free(sig);
        buf[len / 2] ^= 0x5a;
        f = fopen(path, "wb");
        if (f) {
            CHECK(fwrite(buf, 1, len, f) == len);
            fclose(f);
        }
        CHECK(kz_signals_open(path, NULL, &sig, NULL) == KZ_OK);
        check_all_fallback(sig, m, KZ_SIGNAL_LOAD_FAILED, THIRD, &rep);
        CHECK_EQ_INT(rep.detail.code, KZ_ERR_FORMAT);
        kz_signals_free(sig);
        remove(path);
    }
    kz_free(buf);
}

/* A model trained on a bare frame whose columns the feature engine does not make. */
static void test_fallback_bare_frame_model(const kz_market *m)
{
    size_t n = 400;
    const char *names[3] = {"x0", "x1", "x2"};
    kz_frame *x = NULL;
    CHECK(kz_frame_new(n, 3, names, NULL, &x) == KZ_OK);
    float *y = kz_malloc_array(n, sizeof *y);
    kz_rng r;
    kz_rng_seed(&r, 7);
    for (size_t i = 0; x && y && i < n; i++) {
        for (size_t j = 0; j < 3; j++) {
            kz_frame_col_mut(x, j)[i] = (float)kz_rng_normal(&r);
        }
        y[i] = (float)(i % 3);
    }
    kz_split sp = {0, 200, 210, 300, 310, 400};
    kz_booster_params bp = kz_booster_params_default();
    bp.num_boost_round = 3;
    bp.num_threads = 1;
    kz_model *bare = NULL;
    CHECK(kz_model_train_frame(x, y, &sp, &bp, NULL, NULL, 0, &bare, NULL) == KZ_OK);
    double prior[3];
    CHECK_EQ_INT(kz_model_class_priors(bare, prior), 1);
    /* The training rows 0..199 cycle 0,1,2: shares 67/200, 67/200, 66/200. */
    CHECK(prior[0] == 67.0 / 200 && prior[1] == 67.0 / 200 && prior[2] == 66.0 / 200);
    kz_signals *sig = NULL;
    kz_error e;
    CHECK(kz_signals_new(bare, NULL, &sig, NULL) == KZ_OK);
    CHECK(kz_signals_state(sig, &e) == KZ_SIGNAL_FEATURE_MISMATCH);
    CHECK(strcmp(e.field, "x0") == 0);
    CHECK_STR_CONTAINS(e.msg, "not made by the feature engine");
    kz_signal_report rep;
    check_all_fallback(sig, m, KZ_SIGNAL_FEATURE_MISMATCH, prior, &rep);
    CHECK_EQ_INT(rep.priors_known, 1);
    kz_signals_free(sig);
    kz_model_free(bare);

    /* Without a test segment the priors are not recorded: 1/3 each. */
    kz_split sp2 = {0, 200, 210, 300, 400, 400};
    CHECK(kz_model_train_frame(x, y, &sp2, &bp, NULL, NULL, 0, &bare, NULL) == KZ_OK);
    CHECK_EQ_INT(kz_model_class_priors(bare, prior), 0);
    CHECK(memcmp(prior, THIRD, sizeof prior) == 0);
    kz_model_free(bare);
    kz_frame_free(x);
    kz_free(y);
}

/* A model trained with funding and OI features on a market that has no OI series. */
static void test_fallback_missing_inputs(kz_model *model, const kz_market *m_no_oi)
{
    double prior[3];
    CHECK_EQ_INT(kz_model_class_priors(model, prior), 1);
    CHECK_NEAR(prior[0] + prior[1] + prior[2], 1.0, 1e-12);
    CHECK(memcmp(prior, kz_model_metrics(model)->prior, sizeof prior) == 0);
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, NULL, &sig, NULL) == KZ_OK);
    CHECK(kz_signals_state(sig, NULL) == KZ_SIGNAL_OK);
    kz_signal_report rep;
    check_all_fallback(sig, m_no_oi, KZ_SIGNAL_FEATURE_MISMATCH, prior, &rep);
    CHECK(strcmp(rep.detail.field, "open_interest") == 0);
    CHECK_EQ_INT(rep.detail.code, KZ_ERR_MISMATCH);
    CHECK(rep.groups_no_input & KZ_FG_BIT(KZ_FG_OPEN_INTEREST));
    kz_signals_free(sig);

    /* Allowed on request: the OI columns are missing to the booster, as kz_model_predict. */
    kz_signal_params p = kz_signal_params_default();
    p.allow_missing_inputs = 1;
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    double *ref = reference(model, m_no_oi);
    cols o;
    cols_init(&o, m_no_oi->bars.n);
    CHECK(run(sig, m_no_oi, &o, &rep) == KZ_OK);
    CHECK_EQ_INT(rep.fallback, 0);
    CHECK(ref && count_equal(&o, ref, 0, m_no_oi->bars.n) == m_no_oi->bars.n);
    cols_free(&o);
    kz_free(ref);
    kz_signals_free(sig);
}

/* Fake clock: returns 1, 2, 3, ... on successive reads. */
static double tick(void *ud)
{
    double *t = ud;
    return *t += 1.0;
}

static void test_fallback_deadline(kz_model *model, const kz_market *m)
{
    double prior[3];
    kz_model_class_priors(model, prior);
    kz_signal_params p = kz_signal_params_default();
    p.deadline_s = 1e-9; /* long gone */
    kz_signals *sig = NULL;
    kz_signal_report rep;
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    check_all_fallback(sig, m, KZ_SIGNAL_DEADLINE, prior, &rep);
    CHECK_EQ_INT(rep.detail.code, KZ_ERR_CANCELLED);
    CHECK_STR_CONTAINS(rep.detail.msg, "before the features");
    kz_signals_free(sig);

    /* Checks read the clock before the features (1), after them (2), then before each chunk
     * (3, 4, ...): a deadline of 3.5 lets exactly the first chunk through. */
    double now = 0.0;
    p.deadline_s = 3.5;
    p.clock = tick;
    p.clock_ud = &now;
    p.chunk_rows = 400;
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    double *ref = reference(model, m);
    cols o;
    cols_init(&o, m->bars.n);
    CHECK(run(sig, m, &o, &rep) == KZ_OK);
    CHECK_EQ_INT(rep.fallback, 1);
    CHECK_EQ_INT(rep.reason, KZ_SIGNAL_DEADLINE);
    CHECK_EQ_INT(rep.n_fallback, m->bars.n - 400);
    CHECK_STR_CONTAINS(rep.detail.msg, "after 400 of 1500 bars");
    CHECK(ref && count_equal(&o, ref, 0, 400) == 400);
    CHECK_EQ_INT(count_triple(&o, prior, 400, m->bars.n), m->bars.n - 400);
    /* Deadline lifted: everything predicted again. */
    kz_signals_set_deadline(sig, 0.0);
    CHECK(run(sig, m, &o, &rep) == KZ_OK);
    CHECK_EQ_INT(rep.fallback, 0);
    CHECK(ref && count_equal(&o, ref, 0, m->bars.n) == m->bars.n);
    cols_free(&o);
    kz_free(ref);
    kz_signals_free(sig);
}

/* Counting allocator: proves the budget check comes before any allocation; fails at fail_at. */
typedef struct counting {
    size_t calls;
    size_t fail_at; /* 0 = never */
} counting;

/* Count a call; 1 if it must fail (this call and every later one). */
static int c_fail(void *ud)
{
    counting *c = ud;
    c->calls++;
    return c->fail_at && c->calls >= c->fail_at;
}

static void *c_malloc(size_t n, void *ud)
{
    return c_fail(ud) ? NULL : malloc(n);
}

static void *c_realloc(void *q, size_t n, void *ud)
{
    return c_fail(ud) ? NULL : realloc(q, n);
}

static void c_free(void *q, void *ud)
{
    (void)ud;
    free(q);
}

static void test_fallback_memory_budget(kz_model *model, const kz_market *m)
{
    double prior[3];
    kz_model_class_priors(model, prior);
    kz_signal_params p = kz_signal_params_default();
    p.max_bytes = 64 * 1024; /* 1500 bars x ~100 float features is ~0.6 MB */
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    cols o;
    cols_init(&o, m->bars.n);
    counting cnt = {0, 0};
    kz_allocator a = {c_malloc, c_realloc, c_free, &cnt};
    kz_set_allocator(&a);
    kz_signal_report rep;
    kz_status s = run(sig, m, &o, &rep);
    kz_set_allocator(NULL);
    CHECK(s == KZ_OK);
    CHECK_EQ_INT(cnt.calls, 0);
    CHECK_EQ_INT(rep.reason, KZ_SIGNAL_MEMORY_BUDGET);
    CHECK_EQ_INT(rep.n_fallback, m->bars.n);
    CHECK_EQ_INT(rep.detail.code, KZ_ERR_RANGE);
    CHECK_EQ_INT(count_triple(&o, prior, 0, m->bars.n), m->bars.n);
    cols_free(&o);
    kz_signals_free(sig);

    p.max_bytes = 64u << 20; /* ample */
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    cols_init(&o, m->bars.n);
    CHECK(run(sig, m, &o, &rep) == KZ_OK);
    CHECK_EQ_INT(rep.fallback, 0);
    CHECK_EQ_INT(rep.n_fallback, 0);
    cols_free(&o);
    kz_signals_free(sig);
}

/* OOM at every allocation of a run: always KZ_OK, every bar a valid triple, fallback = NOMEM. */
static void test_oom(kz_model *model, const kz_market *m)
{
    kz_signal_params p = kz_signal_params_default();
    p.chunk_rows = 64;
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    double *ref = reference(model, m);
    cols o;
    cols_init(&o, m->bars.n);
    size_t bad = 0, k;
    int clean = 0;
    for (k = 1; k < 5000 && !clean; k++) {
        counting cnt = {0, k};
        kz_allocator a = {c_malloc, c_realloc, c_free, &cnt};
        kz_signal_report rep;
        kz_set_allocator(&a);
        kz_status s = run(sig, m, &o, &rep);
        kz_set_allocator(NULL);
        bad += s != KZ_OK || (rep.fallback && rep.reason != KZ_SIGNAL_NOMEM);
        for (size_t i = 0; i < m->bars.n; i++) {
            const double t[3] = {o.c[0][i], o.c[1][i], o.c[2][i]};
            bad += !kz_signal_probs_valid(t);
        }
        clean = !rep.fallback;
        /* Bars predicted before the failure keep their predictions. */
        bad += ref &&
               count_equal(&o, ref, 0, m->bars.n - rep.n_fallback) != m->bars.n - rep.n_fallback;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(clean);
    CHECK(k > 10); /* the features and chunks did allocate, and failed */
    cols_free(&o);
    kz_free(ref);
    kz_signals_free(sig);
}

/* Tap hook: spoils chosen rows of the fresh predictions. */
static void spoil(double *prob, size_t begin, size_t n, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < n; i++) {
        double *pr = prob + 3 * i;
        switch (begin + i) {
        case 5:
            pr[0] = pr[1] = pr[2] = 0.5;
            break; /* sums to 1.5 */
        case 17:
            pr[1] = NAN;
            break; /* not finite */
        case 33:
            pr[0] = 1.5, pr[1] = -0.25, pr[2] = -0.25;
            break; /* sums to 1, out of range */
        case 40:
            pr[0] = 0.2, pr[1] = 0.3, pr[2] = 0.5 + 2e-6;
            break; /* off by 2e-6 */
        case 41:
            pr[0] = 0.2, pr[1] = 0.3, pr[2] = 0.5 + 5e-7;
            break; /* within 1e-6: kept */
        default:
            break;
        }
    }
}

static void test_fallback_invalid_probs(kz_model *model, const kz_market *m)
{
    double prior[3];
    kz_model_class_priors(model, prior);
    double *ref = reference(model, m);
    kz_signal_params p = kz_signal_params_default();
    p.tap = spoil;
    p.chunk_rows = 16; /* the spoiled rows fall in different chunks */
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    cols o;
    cols_init(&o, m->bars.n);
    kz_signal_report rep;
    CHECK(run(sig, m, &o, &rep) == KZ_OK);
    CHECK_EQ_INT(rep.fallback, 1);
    CHECK_EQ_INT(rep.reason, KZ_SIGNAL_INVALID_PROB);
    CHECK_EQ_INT(rep.n_invalid, 4);
    CHECK_EQ_INT(rep.n_fallback, 4);
    CHECK_STR_CONTAINS(rep.detail.msg, "bar 5:");
    const size_t spoiled[4] = {5, 17, 33, 40};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(count_triple(&o, prior, spoiled[i], spoiled[i] + 1), 1);
    }
    CHECK(o.c[2][41] == 0.5 + 5e-7);
    if (ref) {
        CHECK_EQ_INT(count_equal(&o, ref, 0, m->bars.n), m->bars.n - 5);
    }
    cols_free(&o);
    kz_free(ref);
    kz_signals_free(sig);
}

/* ---------------------------------------------------------------- streaming */
static kz_status
push(kz_signal_stream *s, const kz_market *m, size_t i, double pr[3], kz_signal_report *rep)
{
    const kz_bars *b = &m->bars;
    return kz_signal_stream_push(s, b->ts_ms[i], b->open[i], b->high[i], b->low[i], b->close[i],
                                 b->volume[i], m->funding ? m->funding[i] : NAN,
                                 m->oi ? m->oi[i] : NAN, pr, rep);
}

/* Every bar's streamed triple equals the batch triple bit for bit. */
static void check_stream_equals_batch(kz_model *model, const kz_market *m)
{
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, NULL, &sig, NULL) == KZ_OK);
    cols o;
    cols_init(&o, m->bars.n);
    CHECK(run(sig, m, &o, NULL) == KZ_OK);
    kz_signal_stream *st = NULL;
    CHECK(kz_signal_stream_new(sig, m->tf, m->funding != NULL, m->oi != NULL, &st, NULL) == KZ_OK);
    size_t same = 0, fallbacks = 0;
    for (size_t i = 0; st && i < m->bars.n; i++) {
        double pr[3];
        kz_signal_report rep;
        CHECK(push(st, m, i, pr, &rep) == KZ_OK);
        fallbacks += rep.n_fallback;
        same += (size_t)(memcmp(&pr[0], &o.c[0][i], 8) == 0 && memcmp(&pr[1], &o.c[1][i], 8) == 0 &&
                         memcmp(&pr[2], &o.c[2][i], 8) == 0);
    }
    CHECK_EQ_INT(same, m->bars.n);
    CHECK_EQ_INT(fallbacks, 0);
    kz_signal_report tot;
    kz_signal_stream_report(st, &tot);
    CHECK_EQ_INT(tot.n_bars, m->bars.n);
    CHECK_EQ_INT(tot.fallback, 0);
    kz_signal_stream_free(st);
    kz_signals_free(sig);
    cols_free(&o);
}

/* Tap hook for a stream: spoils bar 50. */
static void spoil_50(double *prob, size_t begin, size_t n, void *ud)
{
    (void)ud;
    if (begin == 50 && n == 1) {
        prob[0] = NAN;
    }
}

static void test_stream_fallbacks(kz_model *model, const kz_market *m)
{
    double prior[3];
    kz_model_class_priors(model, prior);
    double *ref = reference(model, m);
    kz_signal_params p = kz_signal_params_default();
    p.tap = spoil_50;
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, &p, &sig, NULL) == KZ_OK);
    kz_signal_stream *st = NULL;
    CHECK(kz_signal_stream_new(sig, m->tf, 1, 1, &st, NULL) == KZ_OK);
    size_t same = 0, expect_same = 0;
    double pr[3];
    kz_signal_report rep;
    for (size_t i = 0; st && ref && i < 120; i++) {
        if (i == 60) {
            kz_signals_set_deadline(sig, 1e-9);
        } else if (i == 70) {
            kz_signals_set_deadline(sig, 0.0);
        }
        if (i == 90) {
            /* A repeated bar is refused: the last good prediction, the state unchanged. */
            CHECK(push(st, m, i - 1, pr, &rep) == KZ_ERR_INVALID);
            CHECK_EQ_INT(rep.reason, KZ_SIGNAL_FEATURE_ERROR);
            CHECK(memcmp(pr, ref + 3 * 89, sizeof pr) == 0);
        }
        CHECK(push(st, m, i, pr, &rep) == KZ_OK);
        if (i == 50) {
            CHECK_EQ_INT(rep.reason, KZ_SIGNAL_INVALID_PROB);
            CHECK_EQ_INT(rep.n_invalid, 1);
            CHECK(memcmp(pr, ref + 3 * 49, sizeof pr) == 0); /* bar 49's, the last good */
        } else if (i >= 60 && i < 70) {
            CHECK_EQ_INT(rep.reason, KZ_SIGNAL_DEADLINE);
            CHECK_EQ_INT(rep.n_fallback, 1);
            CHECK(memcmp(pr, ref + 3 * 59, sizeof pr) == 0); /* bar 59's */
        } else {
            expect_same++;
            same += memcmp(pr, ref + 3 * i, sizeof pr) == 0;
        }
    }
    CHECK_EQ_INT(same, expect_same);
    kz_signal_report tot;
    kz_signal_stream_report(st, &tot);
    CHECK_EQ_INT(tot.n_bars, 121);
    CHECK_EQ_INT(tot.n_fallback, 12);
    CHECK_EQ_INT(tot.n_invalid, 1);
    CHECK_EQ_INT(tot.reason, KZ_SIGNAL_FEATURE_ERROR); /* the latest */
    kz_signal_stream_free(st);

    /* Before any good prediction the fallback is the priors. */
    kz_signals_set_deadline(sig, 1e-9);
    CHECK(kz_signal_stream_new(sig, m->tf, 1, 1, &st, NULL) == KZ_OK);
    CHECK(st && push(st, m, 0, pr, &rep) == KZ_OK);
    CHECK(memcmp(pr, prior, sizeof pr) == 0);
    CHECK_EQ_INT(rep.reason, KZ_SIGNAL_DEADLINE);
    kz_signal_stream_free(st);
    /* A stream without the OI the model reads falls back on every bar. */
    kz_signals_set_deadline(sig, 0.0);
    CHECK(kz_signal_stream_new(sig, m->tf, 1, 0, &st, NULL) == KZ_OK);
    CHECK(st && push(st, m, 0, pr, &rep) == KZ_OK);
    CHECK_EQ_INT(rep.reason, KZ_SIGNAL_FEATURE_MISMATCH);
    CHECK(memcmp(pr, prior, sizeof pr) == 0);
    kz_signal_stream_free(st);
    kz_signals_free(sig);

    /* No model: 1/3 each on every bar. */
    CHECK(kz_signals_new(NULL, NULL, &sig, NULL) == KZ_OK);
    CHECK(kz_signal_stream_new(sig, m->tf, 1, 1, &st, NULL) == KZ_OK);
    for (size_t i = 0; st && i < 3; i++) {
        CHECK(push(st, m, i, pr, &rep) == KZ_OK);
        CHECK(memcmp(pr, THIRD, sizeof pr) == 0);
        CHECK_EQ_INT(rep.reason, KZ_SIGNAL_NO_MODEL);
    }
    CHECK(kz_signal_stream_push(st, 0, 1, 1, 1, 1, 1, 0, 0, NULL, &rep) == KZ_ERR_INVALID);
    kz_signal_stream_free(st);
    CHECK(kz_signal_stream_new(NULL, m->tf, 1, 1, &st, NULL) == KZ_ERR_INVALID);
    CHECK(st == NULL);
    kz_signals_free(sig);
    kz_free(ref);
}

/* ---------------------------------------------------------------- strategy columns */
static void test_colset(kz_model *model, const kz_market *m)
{
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(m, &cs, &err) == KZ_OK);
    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, NULL, &sig, NULL) == KZ_OK);
    size_t before = kz_colset_count(cs);
    kz_signal_report rep;
    CHECK(kz_colset_attach_signals(cs, sig, &rep, &err) == KZ_OK);
    CHECK_EQ_INT(rep.fallback, 0);
    CHECK_EQ_INT(kz_colset_count(cs), before + 3);
    double *ref = reference(model, m);
    for (int c = 0; c < 3 && ref; c++) {
        int idx = kz_colset_find(cs, kz_signal_column_name(c));
        CHECK(idx >= 0);
        const double *d = idx >= 0 ? kz_colset_data(cs, (size_t)idx) : NULL;
        size_t same = 0;
        for (size_t i = 0; d && i < m->bars.n; i++) {
            same += d[i] == ref[3 * i + (size_t)c];
        }
        CHECK_EQ_INT(same, m->bars.n);
    }
    int idx = -1;
    CHECK(kz_colset_require(cs, "ML_UP_PROB", &idx, &err) == KZ_OK && idx >= 0);
    /* A second attach clashes and adds nothing. */
    CHECK(kz_colset_attach_signals(cs, sig, NULL, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "ML_DOWN_PROB") == 0);
    CHECK_EQ_INT(kz_colset_count(cs), before + 3);
    CHECK(kz_colset_add_ml(cs, NULL, NULL, NULL, &err) == KZ_ERR_INVALID);
    kz_free(ref);
    kz_signals_free(sig);
    kz_colset_free(cs);
}

int main(void)
{
    kz_market m, m_no_oi;
    synth_market(N_BARS, 1, 1, &m);
    synth_market(N_BARS, 1, 0, &m_no_oi);
    test_validation();
    kz_model *full = train_small(&m, KZ_FG_ALL, 0);
    /* Price-only groups with the raw levels and OHLCV: runs without OI, reads the bars. */
    kz_model *lean = train_small(
        &m_no_oi, KZ_FG_BIT(KZ_FG_PRICE) | KZ_FG_BIT(KZ_FG_VOLATILITY) | KZ_FG_BIT(KZ_FG_MOMENTUM),
        1);
    CHECK(full && lean);
    if (full && lean) {
        CHECK(kz_model_feature_name(lean, 0) &&
              strcmp(kz_model_feature_name(lean, 0), "Open") == 0);
        test_batch(full, &m);
        test_batch(lean, &m_no_oi);
        test_causality(full, &m);
        test_fallback_no_model_and_files(full, &m);
        test_fallback_bare_frame_model(&m);
        test_fallback_missing_inputs(full, &m_no_oi);
        test_fallback_deadline(full, &m);
        test_fallback_memory_budget(full, &m);
        test_fallback_invalid_probs(full, &m);
        check_stream_equals_batch(full, &m);
        check_stream_equals_batch(lean, &m_no_oi);
        test_stream_fallbacks(full, &m);
        test_colset(full, &m);
        kz_market small;
        synth_market(300, 1, 1, &small);
        test_oom(full, &small);
        kz_market_free(&small);
    }
    kz_model_free(full);
    kz_model_free(lean);
    kz_market_free(&m);
    kz_market_free(&m_no_oi);
    KZ_TEST_DONE();
}
