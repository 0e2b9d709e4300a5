/* Hyper-parameter tuning tests: SPEC §5's space, results inside it, history length, determinism,
 * the chosen params reproduce the best validation mlogloss, and the objective never reads the
 * test segment (changing test bars changes nothing; changing validation bars does). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/model.h"

#include "kz_test.h"

enum { N_BARS = 1500, H = 6, N_CALLS = 6 };

/* Bars whose log returns are a persistent AR(1) drift plus noise: past returns predict the next
 * H bars' return, so the model can beat the prior. scale multiplies bars from `from` on. */
static void make_market(kz_market *mk, size_t from, double scale)
{
    kz_rng r;
    kz_rng_seed(&r, 11);
    kz_bars b = {0};
    double close = 100.0, drift = 0.0;
    for (size_t i = 0; i < N_BARS; i++) {
        drift = 0.97 * drift + 0.0008 * kz_rng_normal(&r);
        double open = close;
        close = open * exp(drift + 0.004 * kz_rng_normal(&r));
        double hi = fmax(open, close) * 1.001, lo = fmin(open, close) * 0.999;
        double vol = 100.0 + 50.0 * fabs(kz_rng_normal(&r)), k = i >= from ? scale : 1.0;
        if (kz_bars_push(&b, 1704067200000 + (int64_t)i * 3600000, open * k, hi * k, lo * k,
                         close * k, vol * k) != KZ_OK) {
            fprintf(stderr, "push failed\n");
        }
    }
    memset(mk, 0, sizeof *mk);
    if (kz_market_build("synth", "BTCUSDT", KZ_TF_1H, &b, NULL, NULL, 0, 0, mk) != KZ_OK) {
        fprintf(stderr, "market build failed\n");
    }
    kz_bars_free(&b);
}

static kz_train_params small_base(void)
{
    kz_train_params p = kz_train_params_default();
    p.label.horizon = H;
    p.label.mode = KZ_LABEL_QUANTILE;
    p.booster.num_boost_round = 20;
    p.booster.early_stopping = 5;
    p.booster.num_threads = 1;
    p.booster.max_bin = 32;
    return p;
}

static kz_tune_params small_tune(void)
{
    kz_tune_params t = kz_tune_params_default();
    t.n_calls = N_CALLS;
    t.bo.n_initial = 3;
    t.bo.seed = 7;
    return t;
}

/* History values (y) of a run, n_calls of them. */
static void history(const kz_bo *bo, double *y, double *x)
{
    for (size_t i = 0; i < kz_bo_n_evals(bo); i++) {
        kz_bo_eval e;
        if (kz_bo_eval_get(bo, i, &e) == KZ_OK) {
            y[i] = e.y;
            memcpy(x + i * KZ_TUNE_N_DIMS, e.x, KZ_TUNE_N_DIMS * sizeof *x);
        }
    }
}

static void test_space_and_params(void)
{
    kz_space *s = NULL;
    kz_error err;
    CHECK(kz_model_tune_space(&s, &err) == KZ_OK);
    CHECK_EQ_INT(kz_space_n_dims(s), KZ_TUNE_N_DIMS);
    static const char *const names[KZ_TUNE_N_DIMS] = {
        "num_leaves", "learning_rate", "feature_fraction", "bagging_fraction", "min_data_in_leaf"};
    static const double lo[KZ_TUNE_N_DIMS] = {10, 0.01, 0.5, 0.5, 5};
    static const double hi[KZ_TUNE_N_DIMS] = {100, 0.3, 1.0, 1.0, 50};
    static const kz_dim_kind kind[KZ_TUNE_N_DIMS] = {KZ_DIM_INT, KZ_DIM_REAL, KZ_DIM_REAL,
                                                     KZ_DIM_REAL, KZ_DIM_INT};
    for (size_t j = 0; j < KZ_TUNE_N_DIMS; j++) {
        kz_dim_info d;
        CHECK(kz_space_dim(s, j, &d) == KZ_OK);
        CHECK(strcmp(d.name, names[j]) == 0);
        CHECK(d.kind == kind[j]);
        CHECK_NEAR(d.low, lo[j], 0);
        CHECK_NEAR(d.high, hi[j], 0);
        CHECK_EQ_INT(d.log_uniform, j == 1);
    }
    kz_space_free(s);

    const double x[KZ_TUNE_N_DIMS] = {63, 0.02, 0.7, 0.6, 12};
    kz_booster_params bp = kz_booster_params_default();
    kz_model_tune_apply(x, &bp);
    CHECK_EQ_INT(bp.num_leaves, 63);
    CHECK_NEAR(bp.learning_rate, 0.02, 0);
    CHECK_NEAR(bp.feature_fraction, 0.7, 0);
    CHECK_NEAR(bp.bagging_fraction, 0.6, 0);
    CHECK_NEAR(bp.min_data_in_leaf, 12, 0);
    CHECK_EQ_INT(bp.num_boost_round, 1000); /* outside the space: untouched */

    kz_tune_objective o;
    CHECK(kz_tune_objective_parse("WalkForward", &o) == KZ_OK && o == KZ_TUNE_WALKFORWARD);
    CHECK(kz_tune_objective_parse("test", &o) == KZ_ERR_INVALID);
    CHECK(strcmp(kz_tune_objective_str(KZ_TUNE_VALID), "valid") == 0);
    kz_tune_params d = kz_tune_params_default();
    CHECK_EQ_INT(d.n_calls, 30);
    CHECK(d.objective == KZ_TUNE_VALID);

    kz_market mk;
    make_market(&mk, N_BARS, 1.0);
    kz_tune_result r;
    kz_bo *bo = NULL;
    d.n_calls = 0;
    CHECK(kz_model_tune(&mk, NULL, &d, &r, &bo, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "n_calls") == 0 && bo == NULL);
    d = kz_tune_params_default();
    d.bo.xi = -1.0;
    CHECK(kz_model_tune(&mk, NULL, &d, &r, &bo, &err) == KZ_ERR_INVALID);
    kz_train_params p = small_base();
    p.label.horizon = N_BARS;
    CHECK(kz_model_tune(&mk, &p, NULL, &r, &bo, &err) == KZ_ERR_RANGE);
    CHECK(kz_model_tune(NULL, NULL, NULL, &r, &bo, &err) == KZ_ERR_INVALID);
    kz_market_free(&mk);
}

typedef struct cancel_log {
    size_t calls;
    double last_best;
} cancel_log;

static int stop_after_two(
    size_t it, size_t n, const kz_booster_params *bp, double score, double best, void *ud)
{
    cancel_log *c = ud;
    (void)n;
    (void)bp;
    c->calls++;
    c->last_best = best;
    return it >= 1 && isfinite(score);
}

static void test_tune_valid(void)
{
    kz_market mk, mk_test, mk_valid;
    make_market(&mk, N_BARS, 1.0);
    kz_train_params base = small_base();
    kz_tune_params tp = small_tune();
    kz_split sp;
    kz_error err;
    CHECK(kz_split_compute(N_BARS - H, H, &base.split, &sp, &err) == KZ_OK);
    /* Same bars, except every test-segment bar is 30% higher with 30% more volume. */
    make_market(&mk_test, sp.test_begin, 1.3);
    /* Control: the change starts inside the validation segment. */
    make_market(&mk_valid, sp.valid_begin + 50, 1.3);

    kz_tune_result r, r2, rt, rv;
    kz_bo *bo = NULL, *bo2 = NULL, *bot = NULL, *bov = NULL;
    CHECK(kz_model_tune(&mk, &base, &tp, &r, &bo, &err) == KZ_OK);
    CHECK(kz_model_tune(&mk, &base, &tp, &r2, &bo2, &err) == KZ_OK);
    CHECK(kz_model_tune(&mk_test, &base, &tp, &rt, &bot, &err) == KZ_OK);
    CHECK(kz_model_tune(&mk_valid, &base, &tp, &rv, &bov, &err) == KZ_OK);
    if (!bo || !bo2 || !bot || !bov) {
        fprintf(stderr, "tune: %s\n", err.msg);
        goto done;
    }
    CHECK_EQ_INT(kz_bo_n_evals(bo), N_CALLS);
    CHECK_EQ_INT(r.n_evals, N_CALLS);
    CHECK_EQ_INT(r.n_failed, 0);
    CHECK_EQ_INT(r.seed, 7);
    CHECK(r.objective == KZ_TUNE_VALID);

    /* The objective read only the bars before the test segment. */
    CHECK(memcmp(&r.split, &sp, sizeof sp) == 0);
    CHECK_EQ_INT(r.n_bars_seen, sp.test_begin);
    CHECK(r.n_bars_seen < (size_t)N_BARS);

    double y[N_CALLS], y2[N_CALLS], yt[N_CALLS], yv[N_CALLS];
    double x[N_CALLS * KZ_TUNE_N_DIMS], x2[N_CALLS * KZ_TUNE_N_DIMS], xt[N_CALLS * KZ_TUNE_N_DIMS],
        xv[N_CALLS * KZ_TUNE_N_DIMS];
    history(bo, y, x);
    history(bo2, y2, x2);
    history(bot, yt, xt);
    history(bov, yv, xv);

    /* Every point lies in the space; the best is the history's minimum. */
    size_t arg = 0;
    for (size_t i = 0; i < N_CALLS; i++) {
        CHECK(kz_space_check_point(kz_bo_space(bo), x + i * KZ_TUNE_N_DIMS, &err) == KZ_OK);
        CHECK(isfinite(y[i]) && y[i] > 0.0);
        arg = y[i] < y[arg] ? i : arg;
    }
    CHECK_EQ_INT(r.best_iteration, arg);
    CHECK_NEAR(r.best_score, y[arg], 0);
    const kz_booster_params *b = &r.best;
    CHECK(b->num_leaves >= 10 && b->num_leaves <= 100);
    CHECK(b->learning_rate >= 0.01 && b->learning_rate <= 0.3);
    CHECK(b->feature_fraction >= 0.5 && b->feature_fraction <= 1.0);
    CHECK(b->bagging_fraction >= 0.5 && b->bagging_fraction <= 1.0);
    CHECK(b->min_data_in_leaf >= 5 && b->min_data_in_leaf <= 50);
    CHECK_EQ_INT(b->num_leaves, x[arg * KZ_TUNE_N_DIMS]);
    CHECK_NEAR(b->learning_rate, x[arg * KZ_TUNE_N_DIMS + 1], 0);
    CHECK_EQ_INT(b->num_boost_round, 20); /* outside the space: from base */
    /* The signal is learnable: the best beats the uninformed log(3) loss. */
    CHECK(r.best_score < log(3.0));

    /* Determinism for a seed: the same points and the same values. */
    CHECK(memcmp(x, x2, sizeof x) == 0);
    CHECK(memcmp(y, y2, sizeof y) == 0);
    CHECK(memcmp(&r.best, &r2.best, sizeof r.best) == 0);

    /* Test bars changed: bit-identical run. Validation bars changed: the values move. */
    CHECK(memcmp(x, xt, sizeof x) == 0);
    CHECK(memcmp(y, yt, sizeof y) == 0);
    CHECK(memcmp(y, yv, sizeof y) != 0);

    /* The chosen params give the best validation mlogloss on the full pipeline, and the test
     * metrics are computed once, afterwards. */
    kz_train_params fin = base;
    fin.booster = r.best;
    kz_model *m = NULL;
    CHECK(kz_model_train(&mk, &fin, &m, &err) == KZ_OK);
    if (m) {
        CHECK_NEAR(kz_model_valid_loss(m), r.best_score, 1e-12);
        const kz_metrics *mt = kz_model_metrics(m);
        CHECK_EQ_INT(mt->n, sp.test_end - sp.test_begin);
        CHECK(mt->mlogloss < mt->baseline_mlogloss);
    }
    kz_model_free(m);

    char *js = NULL;
    CHECK(kz_tune_result_to_json(&r, &js) == KZ_OK);
    CHECK_STR_CONTAINS(js, "\"num_leaves\":");
    CHECK_STR_CONTAINS(js, "\"min_data_in_leaf\":");
    CHECK_STR_CONTAINS(js, "\"objective\":\t\"valid\"");
    kz_free(js);

    /* Progress sees each evaluation and can stop the run; the history so far is kept. */
    kz_bo_free(bo2);
    bo2 = NULL;
    cancel_log log = {0, NAN};
    tp.progress = stop_after_two;
    tp.progress_ud = &log;
    CHECK(kz_model_tune(&mk, &base, &tp, &r2, &bo2, &err) == KZ_ERR_CANCELLED);
    CHECK_EQ_INT(log.calls, 2);
    CHECK(bo2 && kz_bo_n_evals(bo2) == 2);
    CHECK_NEAR(log.last_best, fmin(y[0], y[1]), 0);
done:
    kz_bo_free(bo);
    kz_bo_free(bo2);
    kz_bo_free(bot);
    kz_bo_free(bov);
    kz_market_free(&mk);
    kz_market_free(&mk_test);
    kz_market_free(&mk_valid);
}

static void test_tune_walkforward(void)
{
    kz_market mk, mk_test;
    make_market(&mk, N_BARS, 1.0);
    kz_train_params base = small_base();
    kz_tune_params tp = small_tune();
    tp.objective = KZ_TUNE_WALKFORWARD;
    tp.n_calls = 3;
    tp.bo.n_initial = 3;
    tp.wf.n_folds = 2;
    kz_split sp;
    kz_error err;
    CHECK(kz_split_compute(N_BARS - H, H, &base.split, &sp, &err) == KZ_OK);
    make_market(&mk_test, sp.test_begin, 1.3);
    kz_tune_result r, rt;
    kz_bo *bo = NULL, *bot = NULL;
    CHECK(kz_model_tune(&mk, &base, &tp, &r, &bo, &err) == KZ_OK);
    CHECK(kz_model_tune(&mk_test, &base, &tp, &rt, &bot, &err) == KZ_OK);
    if (bo && bot) {
        CHECK_EQ_INT(kz_bo_n_evals(bo), 3);
        double y[3], yt[3], x[3 * KZ_TUNE_N_DIMS], xt[3 * KZ_TUNE_N_DIMS];
        history(bo, y, x);
        history(bot, yt, xt);
        CHECK(memcmp(y, yt, sizeof y) == 0);
        CHECK_NEAR(r.best_score, fmin(y[0], fmin(y[1], y[2])), 0);
        /* The score is the mean fold mlogloss of walk-forward on the prefix, recomputed here. */
        kz_market pre = mk;
        pre.bars.n = r.n_bars_seen;
        kz_train_params p = base;
        p.booster = r.best;
        kz_wf_result *wr = kz_malloc(sizeof *wr);
        CHECK(wr && kz_walkforward(&pre, &p, &tp.wf, wr, &err) == KZ_OK);
        if (wr) {
            CHECK_NEAR(wr->mean[3], r.best_score, 0);
            CHECK(wr->folds[1].split.test_end <= sp.test_begin);
        }
        kz_free(wr);
    } else {
        fprintf(stderr, "walk-forward tune: %s\n", err.msg);
    }
    kz_bo_free(bo);
    kz_bo_free(bot);
    kz_market_free(&mk);
    kz_market_free(&mk_test);
}

int main(void)
{
    test_space_and_params();
    test_tune_valid();
    test_tune_walkforward();
    KZ_TEST_DONE();
}
