/* Bayesian tuning of the GA's settings (kz_ga_tune): hand-computed windows, the space, points in
 * the space, history length, best == best of the history, each score == an independent GA run on
 * a hand-built prefix, bit-identical for 1 and 2 threads, the holdout never read (perturbed
 * holdout bars -> identical history, perturbed tuning bars -> a different one), the final run ==
 * kz_ga_run on the holdout split, JSON, cancel and bad parameters. Tiny GAs on a planted edge. */
#include <math.h>
#include <stdlib.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/optim.h"
#include "kizashi/strategy.h"

#include "kz_planted.h"
#include "kz_test.h"
#include "strategy/ga_int.h"

#define N_BARS 1500
/* windows of N_BARS with fractions 0.2 / 0.2 and gap N/100 = 15 */
#define HOLD_BEGIN 1200
#define TUNE_END   1185
#define TUNE_BEGIN 885
#define IS_END     870

typedef struct fixture {
    kz_market m;
    double *cols[3];
    kz_colset *cs;
} fixture;

static void fixture_make(fixture *f, size_t from, double bump)
{
    kz_error err;
    kz_planted_market(N_BARS, 7, from, bump, &f->m, f->cols);
    CHECK(kz_colset_new(&f->m, &f->cs, &err) == KZ_OK);
    CHECK(kz_colset_add(f->cs, "ML_UP_PROB", f->cols[0], 0, &err) == KZ_OK);
    CHECK(kz_colset_add(f->cs, "ML_DOWN_PROB", f->cols[1], 0, &err) == KZ_OK);
    CHECK(kz_colset_add(f->cs, "ML_RANGE_PROB", f->cols[2], 0, &err) == KZ_OK);
}

static void fixture_free(fixture *f)
{
    kz_colset_free(f->cs);
    kz_market_free(&f->m);
    for (int k = 0; k < 3; k++) {
        free(f->cols[k]);
    }
}

static kz_ga_params base_params(int threads)
{
    kz_ga_params p = kz_ga_params_default();
    p.mode = KZ_GA_ML;
    p.elite = 2;
    p.top_k = 3;
    p.max_genes = 2;
    p.min_trades = 5;
    p.threads = threads;
    p.seed = 11;
    return p;
}

static kz_ga_tune_params tune_params(void)
{
    kz_ga_tune_params t = kz_ga_tune_params_default();
    t.n_calls = 5;
    t.population_min = 6;
    t.population_max = 14;
    t.generations_min = 1;
    t.generations_max = 3;
    t.bo.n_initial = 3;
    t.bo.n_candidates = 300;
    t.bo.n_local = 2;
    t.bo.n_restarts = 4;
    t.bo.seed = 3;
    return t;
}

/* Tune and return the optimiser (history) and result. */
static kz_bo *tune(const fixture *f, int threads, kz_ga_tune_result *r)
{
    kz_ga_params p = base_params(threads);
    kz_ga_tune_params t = tune_params();
    kz_bo *bo = NULL;
    kz_error err;
    kz_status st = kz_ga_tune(f->cs, &p, &t, r, &bo, &err);
    CHECK_MSG(st == KZ_OK, "%s: %s", kz_status_str(st), err.msg);
    return bo;
}

/* Same points and values, bit for bit. */
static int same_history(const kz_bo *a, const kz_bo *b)
{
    if (kz_bo_n_evals(a) != kz_bo_n_evals(b)) {
        return 0;
    }
    for (size_t i = 0; i < kz_bo_n_evals(a); i++) {
        kz_bo_eval ea, eb;
        if (kz_bo_eval_get(a, i, &ea) != KZ_OK || kz_bo_eval_get(b, i, &eb) != KZ_OK ||
            memcmp(ea.x, eb.x, KZ_GA_TUNE_N_DIMS * sizeof(double)) != 0 ||
            !(ea.y == eb.y || (isnan(ea.y) && isnan(eb.y)))) {
            return 0;
        }
    }
    return 1;
}

static void test_space_and_params(void)
{
    kz_space *s = NULL;
    kz_error err;
    CHECK(kz_ga_tune_space(NULL, &s, &err) == KZ_OK);
    CHECK_EQ_INT(kz_space_n_dims(s), KZ_GA_TUNE_N_DIMS);
    const char *names[5] = {"population", "generations", "crossover_rate", "mutation_rate",
                            "sharing_radius"};
    const double lo[5] = {20, 10, 0.5, 0.01, 0.05}, hi[5] = {100, 50, 0.9, 0.3, 0.3};
    for (size_t j = 0; j < 5; j++) {
        kz_dim_info d;
        CHECK(kz_space_dim(s, j, &d) == KZ_OK);
        CHECK(strcmp(d.name, names[j]) == 0);
        CHECK(d.kind == (j < 2 ? KZ_DIM_INT : KZ_DIM_REAL));
        CHECK(d.low == lo[j] && d.high == hi[j] && !d.log_uniform);
    }
    kz_space_free(s);
    /* apply: fields set, sharing on, elite capped at population / 2 */
    kz_ga_params p = kz_ga_params_default();
    const double x[5] = {12, 4, 0.7, 0.05, 0.2};
    kz_ga_tune_apply(x, &p);
    CHECK(p.population == 12 && p.generations == 4 && p.crossover_rate == 0.7 &&
          p.mutation_rate == 0.05 && p.sharing_radius == 0.2 && p.sharing == 1 && p.elite == 6);
    CHECK(kz_ga_params_check(&p, &err) == KZ_OK);
    /* bad parameters name their field */
    kz_ga_tune_params t = kz_ga_tune_params_default();
    t.tune_fraction = 0.5;
    t.holdout_fraction = 0.4;
    CHECK(kz_ga_tune_space(&t, &s, &err) == KZ_ERR_INVALID && s == NULL);
    CHECK(strcmp(err.field, "tune_fraction") == 0);
    t = kz_ga_tune_params_default();
    t.population_min = 50;
    t.population_max = 40;
    CHECK(kz_ga_tune_space(&t, &s, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "population_min") == 0);
    t = kz_ga_tune_params_default();
    t.n_calls = 0;
    fixture f;
    fixture_make(&f, N_BARS, 1.0);
    kz_ga_tune_result r;
    kz_bo *bo = NULL;
    CHECK(kz_ga_tune(f.cs, NULL, &t, &r, &bo, &err) == KZ_ERR_INVALID && bo == NULL);
    CHECK(strcmp(err.field, "n_calls") == 0);
    /* too few bars for three 10-bar windows and the gaps */
    kz_market small;
    kz_colset *cs = NULL;
    kz_ga_market_view(&f.m, 0, 40, &small);
    CHECK(kz_colset_new(&small, &cs, &err) == KZ_OK);
    t = kz_ga_tune_params_default();
    CHECK(kz_ga_tune(cs, NULL, &t, &r, NULL, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "tune_fraction") == 0);
    kz_colset_free(cs);
    fixture_free(&f);
}

/* The score of point x computed independently: kz_ga_run on a hand-built set over bars
 * [0, TUNE_END) whose single split is IS [0, IS_END), OOS [TUNE_BEGIN, TUNE_END). */
static double independent_score(const fixture *f, const kz_ga_params *p)
{
    kz_market v;
    kz_colset *cs = NULL;
    kz_error err;
    kz_ga_market_view(&f->m, 0, TUNE_END, &v);
    CHECK(kz_colset_new(&v, &cs, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "ML_UP_PROB", f->cols[0], 1, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "ML_DOWN_PROB", f->cols[1], 1, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "ML_RANGE_PROB", f->cols[2], 1, &err) == KZ_OK);
    kz_ga_params q = *p;
    q.gap_bars = 15;
    q.oos_fraction = 300.5 / TUNE_END; /* floor(TUNE_END * q.oos_fraction) = 300 */
    kz_ga_result r;
    double fit = NAN;
    CHECK(kz_ga_run(cs, &q, &r, &err) == KZ_OK);
    CHECK(r.is_end == IS_END && r.oos_begin == TUNE_BEGIN && r.oos_end == TUNE_END);
    if (r.n_top > 0) {
        fit = kz_ga_fitness(&r.top[0].oos, &q);
    }
    kz_ga_result_free(&r);
    kz_colset_free(cs);
    return fit;
}

static int
stop_after_two(size_t it, size_t n, const kz_ga_params *p, double fit, double best, void *ud)
{
    (void)n;
    (void)p;
    (void)fit;
    (void)best;
    (*(int *)ud)++;
    return it == 1;
}

static void test_tune(void)
{
    fixture f, g;
    fixture_make(&f, N_BARS, 1.0);
    kz_ga_tune_result r, r2;
    kz_bo *bo = tune(&f, 1, &r);
    if (!bo) {
        fixture_free(&f);
        return;
    }
    /* windows, hand-computed */
    CHECK(r.n_bars == N_BARS && r.gap == 15 && r.holdout_begin == HOLD_BEGIN &&
          r.tune_end == TUNE_END && r.tune_begin == TUNE_BEGIN && r.is_end == IS_END &&
          r.n_bars_seen == TUNE_END);
    /* history: n_calls points in the space; the best is the history's maximum fitness */
    CHECK_EQ_INT(kz_bo_n_evals(bo), 5);
    CHECK_EQ_INT(r.n_evals, 5);
    double best = -INFINITY;
    size_t best_i = 0, n_failed = 0;
    kz_error err;
    for (size_t i = 0; i < kz_bo_n_evals(bo); i++) {
        kz_bo_eval e;
        CHECK(kz_bo_eval_get(bo, i, &e) == KZ_OK);
        CHECK(kz_space_check_point(kz_bo_space(bo), e.x, &err) == KZ_OK);
        n_failed += e.failed ? 1u : 0u;
        if (!e.failed && -e.y > best) {
            best = -e.y;
            best_i = i;
        }
    }
    CHECK_EQ_INT(n_failed, r.n_failed);
    CHECK(r.best_fitness == best && r.best_iteration == best_i);
    kz_bo_eval eb;
    CHECK(kz_bo_eval_get(bo, best_i, &eb) == KZ_OK);
    CHECK(memcmp(eb.x, r.best_x, sizeof r.best_x) == 0);
    CHECK(r.best.population == (int)eb.x[0] && r.best.generations == (int)eb.x[1] &&
          r.best.crossover_rate == eb.x[2] && r.best.sharing == 1 && r.best.seed == 11);
    /* the best score equals an independent GA run with those settings */
    CHECK(independent_score(&f, &r.best) == r.best_fitness);
    /* 2 threads: bit-identical */
    kz_bo *bo2 = tune(&f, 2, &r2);
    CHECK(bo2 && same_history(bo, bo2) && r2.best_fitness == r.best_fitness);
    kz_bo_free(bo2);
    /* holdout bars and ML values perturbed: the tuning is unchanged */
    fixture_make(&g, HOLD_BEGIN, 1.01);
    bo2 = tune(&g, 2, &r2);
    CHECK(bo2 && same_history(bo, bo2));
    kz_bo_free(bo2);
    fixture_free(&g);
    /* ... while perturbing the tuning window changes the scores (the check above can fail) */
    fixture_make(&g, TUNE_BEGIN, 1.01);
    bo2 = tune(&g, 2, &r2);
    CHECK(bo2 && !same_history(bo, bo2));
    kz_bo_free(bo2);
    fixture_free(&g);
    /* final run == kz_ga_run with the holdout as its OOS window */
    kz_ga_result fin, ref;
    CHECK(kz_ga_tune_final(f.cs, &r, &fin, &err) == KZ_OK);
    CHECK(fin.is_end == HOLD_BEGIN - 15 && fin.oos_begin == HOLD_BEGIN && fin.oos_end == N_BARS);
    CHECK(fin.n_top > 0 && fin.top[0].oos.n_bars == N_BARS - HOLD_BEGIN);
    kz_ga_params q = r.best;
    q.gap_bars = 15;
    q.oos_fraction = 300.5 / N_BARS;
    CHECK(kz_ga_run(f.cs, &q, &ref, &err) == KZ_OK);
    CHECK(ref.n_top == fin.n_top && ref.n_evals == fin.n_evals);
    for (size_t k = 0; k < fin.n_top && k < ref.n_top; k++) {
        CHECK(kz_genome_equal(&fin.top[k].genome, &ref.top[k].genome));
        CHECK(memcmp(&fin.top[k].oos, &ref.top[k].oos, sizeof fin.top[k].oos) == 0);
    }
    printf("tuned GA: population %d, generations %d, tuning fitness %.4f; holdout return %.2f %%, "
           "Sharpe %.2f, %zu trades\n",
           r.best.population, r.best.generations, r.best_fitness, 100 * fin.top[0].oos.total_return,
           fin.top[0].oos.sharpe, fin.top[0].oos.n_trades);
    kz_ga_result_free(&fin);
    kz_ga_result_free(&ref);
    /* a result for another set is refused */
    kz_ga_tune_result bad = r;
    bad.n_bars = N_BARS + 1;
    CHECK(kz_ga_tune_final(f.cs, &bad, &fin, &err) == KZ_ERR_INVALID);
    /* JSON names the SPEC parameters and the windows */
    char *js = NULL;
    CHECK(kz_ga_tune_result_to_json(&r, &js) == KZ_OK);
    CHECK_STR_CONTAINS(js, "\"sharing_radius\"");
    CHECK_STR_CONTAINS(js, "\"holdout_begin\":\t1200");
    CHECK_STR_CONTAINS(js, "\"tune_fitness\"");
    kz_free(js);
    kz_bo_free(bo);
    /* progress can cancel: KZ_ERR_CANCELLED with the history so far */
    kz_ga_params p = base_params(2);
    kz_ga_tune_params t = tune_params();
    int calls = 0;
    t.progress = stop_after_two;
    t.progress_ud = &calls;
    CHECK(kz_ga_tune(f.cs, &p, &t, &r, &bo, &err) == KZ_ERR_CANCELLED);
    CHECK(calls == 2 && bo && kz_bo_n_evals(bo) == 2 && r.n_evals == 2);
    kz_bo_free(bo);
    fixture_free(&f);
}

int main(void)
{
    test_space_and_params();
    test_tune();
    KZ_TEST_DONE();
}
