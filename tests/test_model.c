/* Model module tests: labels (hand-computed cases, quantile fitted on train only, vol-scaled
 * against a naive reference), split purge property, scaler, metrics by hand, parameters,
 * feature selection, training on a learnable problem, determinism, save/load round trip,
 * streaming row == batch, feature-name mismatch, the market pipeline and walk-forward. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/model.h"

#include "kz_test.h"

static void test_labels_fixed(void)
{
    /* h = 2, +-2%: r0 = 103/100-1 = +3% up; r1 = 99/101-1 = -1.98% range; r2 = 100/103-1 = -2.9%
     * down; r3 = 100/99-1 = +1.01% range; the last two rows have no label. */
    const double close[6] = {100, 101, 103, 99, 100, 100};
    float y[6];
    kz_label_params p = kz_label_params_default();
    p.horizon = 2;
    kz_label_report rep;
    CHECK(kz_labels_compute(close, 6, &p, 0, y, &rep, NULL) == KZ_OK);
    CHECK_NEAR(y[0], 2, 0);
    CHECK_NEAR(y[1], 1, 0);
    CHECK_NEAR(y[2], 0, 0);
    CHECK_NEAR(y[3], 1, 0);
    CHECK(isnan(y[4]) && isnan(y[5]));
    CHECK_EQ_INT(rep.n_labelled, 4);
    CHECK_EQ_INT(rep.counts[0], 1);
    CHECK_EQ_INT(rep.counts[1], 2);
    CHECK_EQ_INT(rep.counts[2], 1);
    CHECK_NEAR(rep.shares[1], 0.5, 1e-15);

    /* Boundaries are inclusive: exactly +50% is up, exactly -50% is down. */
    const double c2[3] = {100, 150, 75};
    p.horizon = 1;
    p.threshold_up = 0.5;
    p.threshold_down = -0.5;
    CHECK(kz_labels_compute(c2, 3, &p, 0, y, NULL, NULL) == KZ_OK);
    CHECK_NEAR(y[0], 2, 0);
    CHECK_NEAR(y[1], 0, 0);
    CHECK(isnan(y[2]));

    /* Fewer bars than the horizon: everything unknown, nothing guessed. */
    p.horizon = 5;
    CHECK(kz_labels_compute(c2, 3, &p, 0, y, &rep, NULL) == KZ_OK);
    CHECK(isnan(y[0]) && isnan(y[1]) && isnan(y[2]));
    CHECK_EQ_INT(rep.n_labelled, 0);

    kz_error err;
    p = kz_label_params_default();
    p.horizon = 0;
    CHECK(kz_labels_compute(close, 6, &p, 0, y, NULL, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "horizon");
    p = kz_label_params_default();
    p.threshold_up = -0.05;
    CHECK(kz_labels_compute(close, 6, &p, 0, y, NULL, &err) == KZ_ERR_INVALID);
    p = kz_label_params_default();
    const double bad[3] = {100, 0, 100};
    CHECK(kz_labels_compute(bad, 3, &p, 0, y, NULL, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "row 1");
}

static void random_walk(double *c, size_t n, uint64_t seed)
{
    kz_rng r;
    kz_rng_seed(&r, seed);
    c[0] = 100.0;
    for (size_t i = 1; i < n; i++) {
        c[i] = c[i - 1] * exp(0.01 * kz_rng_normal(&r));
    }
}

static void test_labels_quantile(void)
{
    enum { N = 2000, FIT = 1200, H = 5 };
    static double c[N], c2[N];
    static float y[N], y2[N];
    random_walk(c, N, 7);
    kz_label_params p = kz_label_params_default();
    p.horizon = H;
    p.mode = KZ_LABEL_QUANTILE;
    kz_label_report rep, rep2;
    CHECK(kz_labels_compute(c, N, &p, FIT, y, &rep, NULL) == KZ_OK);
    /* Balanced on the fitting rows: each class about 1/3 of rows [0, FIT). */
    size_t cnt[3] = {0, 0, 0};
    for (size_t t = 0; t < FIT; t++) {
        cnt[(int)y[t]]++;
    }
    for (int k = 0; k < 3; k++) {
        CHECK_NEAR((double)cnt[k] / FIT, 1.0 / 3.0, 0.01);
    }
    CHECK(rep.threshold_down < 0 && rep.threshold_up > 0);
    /* Thresholds see rows < FIT only: changing later prices (beyond FIT + H) changes nothing. */
    memcpy(c2, c, sizeof c);
    for (size_t t = FIT + H; t < N; t++) {
        c2[t] *= 3.0;
    }
    CHECK(kz_labels_compute(c2, N, &p, FIT, y2, &rep2, NULL) == KZ_OK);
    CHECK(rep2.threshold_up == rep.threshold_up && rep2.threshold_down == rep.threshold_down);
    CHECK(memcmp(y, y2, (FIT - 1) * sizeof *y) == 0);
}

static void test_labels_vol(void)
{
    enum { N = 400, H = 4, W = 30 };
    static double c[N];
    static float y[N];
    random_walk(c, N, 11);
    kz_label_params p = kz_label_params_default();
    p.horizon = H;
    p.mode = KZ_LABEL_VOL;
    p.vol_window = W;
    p.vol_k = 0.8;
    CHECK(kz_labels_compute(c, N, &p, 0, y, NULL, NULL) == KZ_OK);
    size_t mism = 0;
    for (size_t t = 0; t < N; t++) {
        if (t < W || t + H >= N) {
            mism += isnan(y[t]) ? 0u : 1u;
            continue;
        }
        /* naive reference: sample std of the W returns ending at t */
        double r[W], mean = 0.0, ss = 0.0;
        for (size_t k = 0; k < W; k++) {
            r[k] = c[t - W + 1 + k] / c[t - W + k] - 1.0;
            mean += r[k] / W;
        }
        for (size_t k = 0; k < W; k++) {
            ss += (r[k] - mean) * (r[k] - mean);
        }
        double thr = 0.8 * sqrt(ss / (W - 1)) * sqrt((double)H);
        double fr = c[t + H] / c[t] - 1.0;
        /* rows within 1e-12 of a threshold could flip on rounding; none occur for this seed */
        float want = fr >= thr ? 2.0f : (fr <= -thr ? 0.0f : 1.0f);
        mism += y[t] != want;
    }
    CHECK_EQ_INT(mism, 0);
}

static void test_split_purge(void)
{
    kz_split sp;
    kz_split_params p = kz_split_params_default();
    CHECK(kz_split_compute(1000, 24, &p, &sp, NULL) == KZ_OK);
    /* usable = 1000 - 48 = 952: train 666, valid 142, test the rest */
    CHECK_EQ_INT(sp.train_end, 666);
    CHECK_EQ_INT(sp.valid_begin, 690);
    CHECK_EQ_INT(sp.valid_end, 832);
    CHECK_EQ_INT(sp.test_begin, 856);
    CHECK_EQ_INT(sp.test_end, 1000);
    /* Property: no training label's window [t, t+h] reaches a validation bar, and no validation
     * label's window reaches a test bar, for many sizes, horizons, purges and embargoes. */
    size_t bad = 0, tried = 0;
    for (size_t n = 60; n < 3000; n += 37) {
        for (int h = 1; h <= 48; h += 7) {
            for (int e = 0; e <= 10; e += 5) {
                p.purge = -1;
                p.embargo = e;
                if (kz_split_compute(n, h, &p, &sp, NULL) != KZ_OK) {
                    continue;
                }
                tried++;
                size_t last_train = sp.train_end - 1, last_valid = sp.valid_end - 1;
                bad += !(last_train + (size_t)h < sp.valid_begin);
                bad += !(last_valid + (size_t)h < sp.test_begin);
                bad += !(sp.valid_begin - sp.train_end == (size_t)(h + e));
                bad += !(sp.train_begin < sp.train_end && sp.valid_begin < sp.valid_end &&
                         sp.test_begin < sp.test_end && sp.test_end == n);
            }
        }
    }
    CHECK(tried > 500);
    CHECK_EQ_INT(bad, 0);
    kz_error err;
    p = kz_split_params_default();
    CHECK(kz_split_compute(40, 24, &p, &sp, &err) == KZ_ERR_RANGE);
    p.train_frac = 0.9;
    p.valid_frac = 0.2;
    CHECK(kz_split_compute(1000, 24, &p, &sp, &err) == KZ_ERR_INVALID);
}

static kz_frame *frame_from(size_t n, size_t p, const float *cols)
{
    char names[8][24];
    const char *np[8];
    for (size_t j = 0; j < p; j++) {
        snprintf(names[j], sizeof names[j], "f%zu", j);
        np[j] = names[j];
    }
    kz_frame *f = NULL;
    if (kz_frame_new(n, p, np, NULL, &f) != KZ_OK) {
        return NULL;
    }
    for (size_t j = 0; j < p; j++) {
        memcpy(kz_frame_col_mut(f, j), cols + j * n, n * sizeof(float));
    }
    return f;
}

static void test_scaler(void)
{
    /* col 0: train rows {1, 2, NaN, 3} -> mean 2, population std sqrt(2/3); col 1 constant -> 1;
     * rows 4..5 are outside the fit range and must not matter. */
    const float cols[12] = {1, 2, NAN, 3, 1000, -1000, 5, 5, 5, 5, 7, 9};
    kz_frame *f = frame_from(6, 2, cols);
    double mean[2], scale[2];
    CHECK(kz_scaler_fit(f, 0, 4, mean, scale) == KZ_OK);
    CHECK_NEAR(mean[0], 2.0, 1e-15);
    CHECK_NEAR(scale[0], sqrt(2.0 / 3.0), 1e-15);
    CHECK_NEAR(mean[1], 5.0, 0);
    CHECK_NEAR(scale[1], 1.0, 0);
    CHECK(kz_scaler_fit(f, 3, 7, mean, scale) == KZ_ERR_INVALID);
    kz_frame_free(f);
}

static void test_metrics_hand(void)
{
    /* 4 rows: true 0,1,2,2; predicted argmax 0,2,2,1. */
    const float y[5] = {0, 1, 2, 2, NAN};
    const double prob[15] = {0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.2, 0.6, 0.1, 0.5, 0.4, 0, 0, 1};
    const double prior[3] = {0.2, 0.5, 0.3};
    kz_metrics m;
    CHECK(kz_metrics_compute(y, prob, 5, prior, &m, NULL) == KZ_OK);
    CHECK_EQ_INT(m.n, 4);
    CHECK_NEAR(m.accuracy, 0.5, 1e-15);
    CHECK_EQ_INT(m.confusion[2][1], 1);
    CHECK_EQ_INT(m.confusion[1][2], 1);
    /* class 0: P=R=F1=1; class 1: P=0 R=0; class 2: P=1/2 R=1/2 F1=1/2 */
    CHECK_NEAR(m.f1[0], 1.0, 1e-15);
    CHECK_NEAR(m.f1[1], 0.0, 0);
    CHECK_NEAR(m.precision[2], 0.5, 1e-15);
    CHECK_NEAR(m.macro_f1, 0.5, 1e-15);
    CHECK_NEAR(m.balanced_accuracy, 0.5, 1e-15);
    double ll = -(log(0.7) + log(0.3) + log(0.6) + log(0.4)) / 4;
    CHECK_NEAR(m.mlogloss, ll, 1e-14);
    /* Baseline: always "range" (prior 0.5): right once out of 4; prior log loss. */
    CHECK_EQ_INT(m.baseline_class, 1);
    CHECK_NEAR(m.baseline_accuracy, 0.25, 1e-15);
    CHECK_NEAR(m.baseline_mlogloss, -(log(0.2) + log(0.5) + 2 * log(0.3)) / 4, 1e-14);
    CHECK_NEAR(m.baseline_balanced_accuracy, 1.0 / 3.0, 1e-15);
    /* Calibration of P(up): values 0.1, 0.6, 0.6, 0.4 -> bins 1, 6 (x2), 4; bin 6 has 1 of 2 up. */
    CHECK_EQ_INT(m.calib_up[6].count, 2);
    CHECK_NEAR(m.calib_up[6].observed, 0.5, 0);
    CHECK_NEAR(m.calib_up[6].mean_pred, 0.6, 1e-15);
    CHECK(isnan(m.calib_up[0].mean_pred));
    char *js = NULL;
    CHECK(kz_metrics_to_json(&m, &js) == KZ_OK);
    CHECK_STR_CONTAINS(js, "\"baseline\"");
    CHECK_STR_CONTAINS(js, "\"calibration_up\"");
    kz_free(js);
    const float ybad[1] = {3};
    CHECK(kz_metrics_compute(ybad, prob, 1, prior, &m, NULL) == KZ_ERR_INVALID);
}

static void test_params(void)
{
    kz_booster_params p = kz_booster_params_default();
    kz_error err;
    CHECK(kz_booster_params_set(&p, "num_leaves", "63", &err) == KZ_OK);
    CHECK_EQ_INT(p.num_leaves, 63);
    CHECK(kz_booster_params_set(&p, "learning_rate", "0.1", &err) == KZ_OK);
    CHECK_NEAR(p.learning_rate, 0.1, 0);
    CHECK(kz_booster_params_set(&p, "seed", "18446744073709551615", &err) == KZ_OK);
    CHECK(p.seed == UINT64_MAX);
    CHECK(kz_booster_params_set(&p, "num_leafs", "3", &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "num_leafs");
    CHECK(kz_booster_params_set(&p, "num_leaves", "1", &err) == KZ_ERR_INVALID);
    CHECK(kz_booster_params_set(&p, "num_leaves", "3.5", &err) == KZ_ERR_INVALID);
    CHECK(kz_booster_params_set(&p, "bagging_fraction", "1.5", &err) == KZ_ERR_INVALID);
    CHECK_EQ_INT(p.num_leaves, 63);
    p.feature_fraction = 0;
    CHECK(kz_booster_params_check(&p, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "feature_fraction");
}

/* A learnable problem: y depends on f0 (and f1 a little); f2 is noise, some cells missing. */
static void make_problem(size_t n, uint64_t seed, kz_frame **X, float *y)
{
    static float cols[4 * 4000];
    kz_rng r;
    kz_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        double a = kz_rng_normal(&r), b = kz_rng_normal(&r), c = kz_rng_normal(&r);
        cols[i] = (float)(a * 3 + 10);
        cols[n + i] = (float)b;
        cols[2 * n + i] = (i % 17 == 0) ? NAN : (float)c;
        cols[3 * n + i] = (float)(i % 5);
        double s = a + 0.3 * b + 0.2 * kz_rng_normal(&r);
        y[i] = s > 0.5 ? 2.0f : (s < -0.5 ? 0.0f : 1.0f);
    }
    *X = frame_from(n, 4, cols);
}

static void test_train_predict(void)
{
    enum { N = 3000 };
    static float y[N];
    kz_frame *X = NULL;
    make_problem(N, 5, &X, y);
    kz_split sp = {0, 2000, 2000, 2500, 2500, N};
    kz_booster_params bp = kz_booster_params_default();
    bp.num_boost_round = 60;
    bp.early_stopping = 10;
    bp.learning_rate = 0.2;
    bp.num_threads = 1; /* the tests run beside others: no spinning threads */
    kz_model *m = NULL, *m2 = NULL, *ml = NULL;
    kz_error err;
    CHECK(kz_model_train_frame(X, y, &sp, &bp, NULL, NULL, 0, &m, &err) == KZ_OK);
    if (!m) {
        fprintf(stderr, "train: %s\n", err.msg);
        kz_frame_free(X);
        return;
    }
    const kz_metrics *mt = kz_model_metrics(m);
    CHECK_EQ_INT(mt->n, 500);
    CHECK(mt->accuracy > 0.85);
    CHECK(mt->mlogloss < mt->baseline_mlogloss - 0.4);
    CHECK(mt->accuracy > mt->baseline_accuracy + 0.3);
    CHECK(kz_model_n_rounds(m) >= 1 && kz_model_n_rounds(m) <= 60);
    /* Importance: the informative feature has the most gain. */
    CHECK(kz_model_importance(m, 0) > kz_model_importance(m, 2));
    CHECK(kz_model_importance(m, 0) > kz_model_importance(m, 3));
    /* Scaler fitted on the training rows: mean of f0 near 10. */
    CHECK_NEAR(kz_model_scaler_mean(m, 0), 10.0, 0.3);

    static double prob[N * 3], prob2[N * 3];
    CHECK(kz_model_predict(m, X, prob, &err) == KZ_OK);
    size_t badsum = 0;
    for (size_t i = 0; i < N; i++) {
        double s = prob[3 * i] + prob[3 * i + 1] + prob[3 * i + 2];
        badsum += !(fabs(s - 1.0) < 1e-6);
    }
    CHECK_EQ_INT(badsum, 0);
    /* Streaming row == batch row, bit for bit. */
    size_t rows_differ = 0;
    for (size_t i = 0; i < N; i += 97) {
        float row[4];
        double pr[3];
        for (size_t j = 0; j < 4; j++) {
            row[j] = kz_frame_col(X, j)[i];
        }
        CHECK(kz_model_predict_row(m, row, 4, pr, NULL) == KZ_OK);
        rows_differ += memcmp(pr, prob + 3 * i, sizeof pr) != 0;
    }
    CHECK_EQ_INT(rows_differ, 0);

    /* Determinism: the same data, params and seed give a byte-identical file. */
    CHECK(kz_model_train_frame(X, y, &sp, &bp, NULL, NULL, 0, &m2, &err) == KZ_OK);
    uint8_t *b1 = NULL, *b2 = NULL, *b3 = NULL;
    size_t n1 = 0, n2 = 0, n3 = 0;
    CHECK(kz_model_save_mem(m, &b1, &n1, &err) == KZ_OK);
    CHECK(m2 && kz_model_save_mem(m2, &b2, &n2, &err) == KZ_OK);
    CHECK(n1 == n2 && b1 && b2 && memcmp(b1, b2, n1) == 0);

    /* Save -> load -> identical predictions, and the reloaded model saves to the same bytes. */
    CHECK(kz_model_load_mem(b1, n1, &ml, &err) == KZ_OK);
    if (ml) {
        CHECK(kz_model_predict(ml, X, prob2, &err) == KZ_OK);
        CHECK(memcmp(prob, prob2, sizeof prob) == 0);
        CHECK(kz_model_save_mem(ml, &b3, &n3, &err) == KZ_OK);
        CHECK(n3 == n1 && b3 && memcmp(b1, b3, n1) == 0);
        CHECK_NEAR(kz_model_metrics(ml)->mlogloss, mt->mlogloss, 0);
        CHECK_EQ_INT(kz_model_n_rounds(ml), kz_model_n_rounds(m));
    }
    /* File round trip through the atomic writer. */
    char path[] = "test_model_rt.kzm";
    kz_model *mf = NULL;
    CHECK(kz_model_save(m, path, &err) == KZ_OK);
    CHECK(kz_model_load(path, &mf, &err) == KZ_OK);
    kz_model_free(mf);
    remove(path);

    /* Feature-name mismatch names the first differing feature. */
    const char *wrong[4] = {"f0", "f1", "fX", "f3"};
    kz_frame *W = NULL;
    CHECK(kz_frame_new(2, 4, wrong, NULL, &W) == KZ_OK);
    CHECK(kz_model_predict(m, W, prob2, &err) == KZ_ERR_MISMATCH);
    CHECK_STR_CONTAINS(err.msg, "'fX'");
    CHECK_STR_CONTAINS(err.msg, "'f2'");
    kz_frame_free(W);
    const char *fewer[3] = {"f0", "f1", "f2"};
    CHECK(kz_frame_new(2, 3, fewer, NULL, &W) == KZ_OK);
    CHECK(kz_model_predict(m, W, prob2, &err) == KZ_ERR_MISMATCH);
    CHECK_STR_CONTAINS(err.msg, "'f3'");
    kz_frame_free(W);
    float row3[3] = {0, 0, 0};
    double pr[3];
    CHECK(kz_model_predict_row(m, row3, 3, pr, &err) == KZ_ERR_MISMATCH);
    /* Column mapping for streaming rows. */
    const char *state_names[6] = {"a", "f3", "f2", "b", "f1", "f0"};
    size_t map[4];
    CHECK(kz_model_map_columns(m, state_names, 6, map, &err) == KZ_OK);
    CHECK(map[0] == 5 && map[1] == 4 && map[2] == 2 && map[3] == 1);
    CHECK(kz_model_map_columns(m, state_names, 3, map, &err) == KZ_ERR_MISMATCH);
    CHECK_STR_CONTAINS(err.msg, "'f0'");

    /* Balanced class weights still train; an empty validation segment is refused. */
    kz_split nolab = {0, 2000, 2000, 2001, 2001, 2001};
    float ysave = y[2000];
    y[2000] = NAN;
    kz_model *mb = NULL;
    CHECK(kz_model_train_frame(X, y, &nolab, &bp, NULL, NULL, 0, &mb, &err) == KZ_ERR_RANGE);
    CHECK(mb == NULL);
    CHECK_STR_CONTAINS(err.msg, "valid");
    y[2000] = ysave;
    bp.balanced = 1;
    CHECK(kz_model_train_frame(X, y, &sp, &bp, NULL, NULL, 0, &mb, &err) == KZ_OK);
    CHECK(mb && kz_model_metrics(mb)->balanced_accuracy > 0.8);
    kz_model_free(mb);

    kz_free(b1);
    kz_free(b2);
    kz_free(b3);
    kz_model_free(m);
    kz_model_free(m2);
    kz_model_free(ml);
    kz_frame_free(X);
}

typedef struct progress_log {
    int calls, last_round, stop_at;
    double last_valid;
} progress_log;

static int on_progress(int round, int n_rounds, double tl, double vl, int best, void *ud)
{
    progress_log *p = ud;
    p->calls++;
    p->last_round = round;
    p->last_valid = vl;
    (void)n_rounds;
    (void)best;
    (void)tl;
    return p->stop_at >= 0 && round >= p->stop_at;
}

static void test_early_stopping_and_progress(void)
{
    enum { N = 2000 };
    static float y[N];
    kz_frame *X = NULL;
    make_problem(N, 9, &X, y);
    /* Labels of the validation rows are shuffled noise: the loss stops improving quickly. */
    kz_rng r;
    kz_rng_seed(&r, 3);
    for (size_t i = 1500; i < N; i++) {
        y[i] = (float)kz_rng_int(&r, 0, 2);
    }
    kz_split sp = {0, 1500, 1500, N, N, N};
    kz_booster_params bp = kz_booster_params_default();
    bp.num_boost_round = 300;
    bp.early_stopping = 5;
    bp.learning_rate = 0.3;
    bp.num_threads = 1;
    progress_log log = {0, -1, -1, NAN};
    kz_model *m = NULL;
    kz_error err;
    CHECK(kz_model_train_frame(X, y, &sp, &bp, on_progress, &log, 1, &m, &err) == KZ_OK);
    /* Stopped 5 rounds after the best, far before 300; the kept model has best + 1 rounds. */
    CHECK(log.calls < 100);
    CHECK_EQ_INT(log.last_round, kz_model_n_rounds(m) - 1 + 5);
    CHECK(kz_model_metrics(m)->n == 0); /* no test segment */
    kz_model_free(m);
    log.stop_at = 2;
    CHECK(kz_model_train_frame(X, y, &sp, &bp, on_progress, &log, 0, &m, &err) == KZ_ERR_CANCELLED);
    CHECK(m == NULL);
    kz_frame_free(X);
}

static void synth_market(size_t n, kz_market *mk)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = n;
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    memset(mk, 0, sizeof *mk);
    if (kz_synth_generate(&sp, &b, &fr, &oi, NULL) != KZ_OK ||
        kz_market_build("synth", "BTCUSDT", KZ_TF_1H, &b, &fr, &oi, 0, 0, mk) != KZ_OK) {
        fprintf(stderr, "synth market failed\n");
    }
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
}

static void test_selection_and_pipeline(void)
{
    kz_market mk;
    synth_market(2500, &mk);
    kz_frame *f = NULL, *sel = NULL, *all = NULL;
    kz_error err;
    CHECK(kz_features_compute(&mk, NULL, &f, NULL, &err) == KZ_OK);
    CHECK(kz_model_select_features(f, &mk, 0, &sel, &err) == KZ_OK);
    CHECK(kz_model_select_features(f, &mk, 1, &all, &err) == KZ_OK);
    if (f && sel && all) {
        CHECK_EQ_INT(kz_frame_n_cols(f), 94);
        CHECK_EQ_INT(kz_frame_n_cols(sel), 79);
        CHECK_EQ_INT(kz_frame_n_cols(all), 99);
        CHECK(kz_frame_find(sel, "MA_10") == KZ_FRAME_NPOS);
        CHECK(kz_frame_find(sel, "VWAP") == KZ_FRAME_NPOS);
        CHECK(kz_frame_find(sel, "Price_MA_Ratio_Short") != KZ_FRAME_NPOS);
        CHECK(kz_frame_find(all, "MA_10") != KZ_FRAME_NPOS);
        size_t jc = kz_frame_find(all, "Close");
        CHECK(jc != KZ_FRAME_NPOS && kz_frame_col(all, jc)[100] == (float)mk.bars.close[100]);
    }
    CHECK(kz_model_is_level_feature("OI_MA_168") && !kz_model_is_level_feature("OI_Trend"));
    kz_frame_free(f);
    kz_frame_free(sel);
    kz_frame_free(all);

    kz_train_params p = kz_train_params_default();
    p.booster.num_boost_round = 15;
    p.booster.early_stopping = 5;
    p.booster.num_threads = 1;
    /* Few bins and leaves: split search over 79 features dominates at this size. */
    p.booster.max_bin = 32;
    p.booster.num_leaves = 8;
    p.label.mode = KZ_LABEL_QUANTILE;
    kz_model *m = NULL;
    CHECK(kz_model_train(&mk, &p, &m, &err) == KZ_OK);
    if (m) {
        const kz_metrics *mt = kz_model_metrics(m);
        CHECK(mt->n > 300);
        CHECK(mt->mlogloss > 0.5 && mt->mlogloss < 2.0);
        CHECK(mt->baseline_mlogloss > 0.9 && mt->baseline_mlogloss < 1.3);
        CHECK_EQ_INT(kz_model_n_features(m), 79);
        const kz_label_report *lr = kz_model_label_report(m);
        CHECK_EQ_INT(lr->n_labelled, 2500 - 24);
        CHECK(lr->threshold_up > 0 && lr->threshold_down < 0);
        char *info = NULL;
        CHECK(kz_model_info_json(m, &info) == KZ_OK);
        CHECK_STR_CONTAINS(info, "\"BTCUSDT\"");
        CHECK_STR_CONTAINS(info, "\"quantile\"");
        kz_free(info);
    } else {
        fprintf(stderr, "pipeline: %s\n", err.msg);
    }
    kz_model_free(m);

    /* Walk-forward: 3 expanding folds; each training window ends a purge before its test block. */
    kz_walkforward_params w = kz_walkforward_params_default();
    w.n_folds = 3;
    kz_wf_result r;
    p.label.mode = KZ_LABEL_FIXED;
    CHECK(kz_walkforward(&mk, &p, &w, &r, &err) == KZ_OK);
    CHECK_EQ_INT(r.n_folds, 3);
    double acc = 0.0;
    for (int i = 0; i < r.n_folds; i++) {
        const kz_split *s = &r.folds[i].split;
        CHECK(s->train_end + 24 <= s->valid_begin && s->valid_end + 24 <= s->test_begin);
        CHECK(i == 0 || s->test_begin == r.folds[i - 1].split.test_end);
        CHECK(s->train_begin == 0);
        acc += r.folds[i].metrics.accuracy / 3;
    }
    CHECK_EQ_INT(r.folds[2].split.test_end, 2500 - 24);
    CHECK_NEAR(r.mean[0], acc, 1e-12);
    char *js = NULL;
    CHECK(kz_wf_result_to_json(&r, &js) == KZ_OK);
    CHECK_STR_CONTAINS(js, "\"folds\"");
    kz_free(js);
    w.sliding = 1;
    CHECK(kz_walkforward(&mk, &p, &w, &r, &err) == KZ_OK);
    CHECK(r.folds[2].split.train_begin > 0);
    CHECK_EQ_INT(r.folds[2].split.valid_end - r.folds[2].split.train_begin,
                 r.folds[0].split.valid_end - r.folds[0].split.train_begin);
    w.min_train = 0.995; /* 13 rows left for 20 test blocks */
    w.n_folds = 20;
    CHECK(kz_walkforward(&mk, &p, &w, &r, &err) == KZ_ERR_RANGE);
    kz_market_free(&mk);
}

int main(void)
{
    test_labels_fixed();
    test_labels_quantile();
    test_labels_vol();
    test_split_purge();
    test_scaler();
    test_metrics_hand();
    test_params();
    test_train_predict();
    test_early_stopping_and_progress();
    test_selection_and_pipeline();
    KZ_TEST_DONE();
}
