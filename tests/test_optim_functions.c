/* Optimiser on functions with known minima: Branin (three global minima), Hartmann-3/6,
 * Rosenbrock, a noisy quadratic, and a mixed real/integer/categorical function whose optimum sits
 * at a known integer and category. Fewer evaluations than bench/bench_bayesopt, fixed seeds. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/optim.h"

#include "kz_test.h"

#define PI 3.14159265358979323846

static int testfn_obj(const double *x, void *ud, double *y)
{
    const kz_testfn *fn = ud;
    *y = fn->f(x);
    return 0;
}

/* Best value after n evaluations of a named test function; best point into xbest. */
static double run_fn(const char *name, uint64_t seed, size_t n, double *xbest)
{
    const kz_testfn *fn = kz_testfn_get(name);
    kz_space *s = NULL;
    kz_bo *bo = NULL;
    kz_bo_params p = kz_bo_params_default();
    p.seed = seed;
    double best = NAN;
    if (fn && kz_testfn_space(fn, &s) == KZ_OK && kz_bo_new(s, &p, &bo, NULL) == KZ_OK &&
        kz_bo_minimize(bo, testfn_obj, (void *)fn, n, 1) == KZ_OK) {
        kz_bo_summary sm;
        kz_bo_summary_get(bo, &sm);
        best = sm.best_y;
        memcpy(xbest, sm.best_x, fn->n_dims * sizeof *xbest);
        CHECK_EQ_INT(sm.n_fallback, 0);
    }
    kz_bo_free(bo);
    kz_space_free(s);
    return best;
}

static void test_reference_values(void)
{
    /* the table's minima hold at the published minimisers */
    const double br[3][2] = {{-PI, 12.275}, {PI, 2.275}, {9.42478, 2.475}};
    for (size_t i = 0; i < 3; i++) {
        CHECK_NEAR(kz_testfn_get("branin")->f(br[i]), 0.397887, 1e-5);
    }
    const double h3[3] = {0.114614, 0.555649, 0.852547};
    CHECK_NEAR(kz_testfn_get("hartmann3")->f(h3), -3.86278, 1e-5);
    const double h6[6] = {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573};
    CHECK_NEAR(kz_testfn_get("hartmann6")->f(h6), -3.32237, 1e-5);
    const double rb[2] = {1.0, 1.0};
    CHECK_NEAR(kz_testfn_get("rosenbrock")->f(rb), 0.0, 0.0);
    CHECK(kz_testfn_get("nope") == NULL);
}

static void test_branin(void)
{
    const double mins[3][2] = {{-PI, 12.275}, {PI, 2.275}, {9.42478, 2.475}};
    for (uint64_t seed = 1; seed <= 2; seed++) {
        double x[2];
        double best = run_fn("branin", seed, 40, x);
        CHECK_MSG(best - 0.397887 < 2e-3, "seed %llu: best %.6f", (unsigned long long)seed, best);
        double dmin = INFINITY;
        for (size_t i = 0; i < 3; i++) {
            dmin = fmin(dmin, hypot(x[0] - mins[i][0], x[1] - mins[i][1]));
        }
        CHECK_MSG(dmin < 0.1, "best point %.4f %.4f is %.3f from a global minimum", x[0], x[1],
                  dmin);
    }
}

static void test_hartmann(void)
{
    double x[6];
    double h3 = run_fn("hartmann3", 1, 35, x);
    CHECK_MSG(h3 < -3.86278 + 0.01, "hartmann3 best %.5f", h3);
    double h6 = run_fn("hartmann6", 2, 60, x);
    CHECK_MSG(h6 < -3.32237 + 0.1, "hartmann6 best %.5f", h6);
}

static void test_rosenbrock(void)
{
    double x[2];
    double best = run_fn("rosenbrock", 1, 50, x);
    CHECK_MSG(best < 0.05, "rosenbrock best %.5f at %.3f %.3f", best, x[0], x[1]);
}

/* (x - 0.3)^2 plus Gaussian noise of sd 0.05: the GP must model the noise. */
typedef struct noisy_ctx {
    kz_rng rng;
} noisy_ctx;

static int noisy_obj(const double *x, void *ud, double *y)
{
    noisy_ctx *c = ud;
    *y = 4.0 * (x[0] - 0.3) * (x[0] - 0.3) + 0.05 * kz_rng_normal(&c->rng);
    return 0;
}

static void test_noisy(void)
{
    kz_space *s = NULL;
    kz_bo *bo = NULL;
    CHECK(kz_space_new(&s) == KZ_OK && kz_space_add_real(s, "x", 0.0, 1.0, 0, NULL) == KZ_OK);
    kz_bo_params p = kz_bo_params_default();
    noisy_ctx c;
    kz_rng_seed(&c.rng, 11);
    CHECK(kz_bo_new(s, &p, &bo, NULL) == KZ_OK);
    CHECK(kz_bo_minimize(bo, noisy_obj, &c, 30, 1) == KZ_OK);
    double th[3];
    CHECK(kz_bo_gp_theta(bo, th) == KZ_OK);
    /* fitted noise variance (normalised scale) is far above its floor: noise was detected */
    CHECK_MSG(exp(th[2]) > 1e-3, "noise variance %.3g", exp(th[2]));
    /* the evaluations concentrate around the true minimiser: median of the last 10 */
    double last[10];
    for (size_t i = 0; i < 10; i++) {
        kz_bo_eval e;
        CHECK(kz_bo_eval_get(bo, 20 + i, &e) == KZ_OK);
        last[i] = e.x[0];
    }
    for (size_t i = 1; i < 10; i++) { /* insertion sort */
        double v = last[i];
        size_t j = i;
        for (; j > 0 && last[j - 1] > v; j--) {
            last[j] = last[j - 1];
        }
        last[j] = v;
    }
    CHECK_NEAR(0.5 * (last[4] + last[5]), 0.3, 0.1);
    kz_bo_free(bo);
    kz_space_free(s);
}

/* Optimum at lr = 0.03 (log scale), depth = 7, kind = "gbdt". */
static int mixed_obj(const double *x, void *ud, double *y)
{
    (void)ud;
    double l = log10(x[0] / 0.03);
    *y = l * l + 0.05 * (x[1] - 7.0) * (x[1] - 7.0) + (x[2] == 1.0 ? 0.0 : 1.0 + x[2] * 0.2);
    return 0;
}

static void test_mixed(void)
{
    kz_space *s = NULL;
    kz_bo *bo = NULL;
    const char *kinds[] = {"dart", "gbdt", "goss", "rf"};
    CHECK(kz_space_new(&s) == KZ_OK);
    CHECK(kz_space_add_real(s, "lr", 0.001, 1.0, 1, NULL) == KZ_OK);
    CHECK(kz_space_add_int(s, "depth", 1, 16, NULL) == KZ_OK);
    CHECK(kz_space_add_cat(s, "kind", kinds, 4, NULL) == KZ_OK);
    kz_bo_params p = kz_bo_params_default();
    CHECK(kz_bo_new(s, &p, &bo, NULL) == KZ_OK);
    CHECK(kz_bo_minimize(bo, mixed_obj, NULL, 35, 1) == KZ_OK);
    kz_bo_summary sm;
    kz_bo_summary_get(bo, &sm);
    CHECK(sm.has_best);
    if (sm.has_best) {
        CHECK(strcmp(kz_space_category(s, 2, (size_t)sm.best_x[2]), "gbdt") == 0);
        CHECK_MSG(fabs(sm.best_x[1] - 7.0) <= 1.0, "depth %g", sm.best_x[1]);
        CHECK_MSG(sm.best_y < 0.06, "best %.4f at lr %.4f", sm.best_y, sm.best_x[0]);
        CHECK_NEAR(sm.best_x[1], floor(sm.best_x[1]), 0.0);
    }
    /* every evaluated point lies in the space (integers integral, categories in range) */
    for (size_t i = 0; i < kz_bo_n_evals(bo); i++) {
        kz_bo_eval e;
        CHECK(kz_bo_eval_get(bo, i, &e) == KZ_OK && kz_space_check_point(s, e.x, NULL) == KZ_OK);
    }
    kz_bo_free(bo);
    kz_space_free(s);
}

int main(void)
{
    test_reference_values();
    test_branin();
    test_hartmann();
    test_rosenbrock();
    test_noisy();
    test_mixed();
    KZ_TEST_DONE();
}
