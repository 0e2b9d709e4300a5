/* Optimiser unit tests: space validation, Sobol/LHS designs, the GP likelihood and acquisition
 * gradients against finite differences, determinism, exact resume from JSON, failures and the
 * random-search fallback, batches, JSON errors and the SVG plot. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/optim.h"

#include "kz_test.h"
#include "optim/optim_int.h"

static void test_space_validation(void)
{
    kz_space *s = NULL;
    kz_error err;
    CHECK(kz_space_new(&s) == KZ_OK);
    CHECK(kz_space_add_real(s, "lr", 0.01, 0.3, 1, &err) == KZ_OK);
    CHECK(kz_space_add_real(s, "bad", 1.0, 1.0, 0, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "bad");
    CHECK_STR_CONTAINS(err.msg, "low must be < high");
    CHECK(kz_space_add_real(s, "neg_log", -1.0, 1.0, 1, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "neg_log");
    CHECK(kz_space_add_real(s, "lr", 0.0, 1.0, 0, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "duplicate");
    CHECK(kz_space_add_real(s, "inf", 0.0, INFINITY, 0, &err) == KZ_ERR_INVALID);
    CHECK(kz_space_add_int(s, "leaves", 50, 10, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "leaves");
    CHECK(kz_space_add_int(s, "leaves", 10, 100, &err) == KZ_OK);
    const char *dup[] = {"a", "b", "a"};
    CHECK(kz_space_add_cat(s, "kind", dup, 3, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "kind");
    CHECK(kz_space_add_cat(s, "kind", dup, 0, &err) == KZ_ERR_INVALID);
    CHECK(kz_space_add_cat(s, "kind", dup, 2, &err) == KZ_OK);
    CHECK_EQ_INT(kz_space_n_dims(s), 3);
    size_t idx = 99;
    CHECK(kz_space_find(s, "kind", &idx) == KZ_OK);
    CHECK_EQ_INT(idx, 2);
    CHECK(kz_space_find(s, "nope", &idx) == KZ_ERR_NOT_FOUND);
    CHECK(strcmp(kz_space_category(s, 2, 1), "b") == 0);
    CHECK(kz_space_category(s, 0, 0) == NULL);
    kz_dim_info info;
    CHECK(kz_space_dim(s, 1, &info) == KZ_OK);
    CHECK(info.kind == KZ_DIM_INT && info.low == 10.0 && info.high == 100.0);
    CHECK(kz_space_dim(s, 3, &info) == KZ_ERR_RANGE);

    double ok[3] = {0.1, 42, 1}, off[3] = {0.5, 42, 1}, frac[3] = {0.1, 42.5, 1};
    CHECK(kz_space_check_point(s, ok, &err) == KZ_OK);
    CHECK(kz_space_check_point(s, off, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "lr");
    CHECK(kz_space_check_point(s, frac, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "leaves");

    /* encodings: log scale maps the geometric midpoint to 0.5; integers round-trip */
    double x[3] = {sqrt(0.01 * 0.3), 55, 1}, u[3], back[3];
    space_to_unit(s, x, u);
    CHECK_NEAR(u[0], 0.5, 1e-12);
    CHECK_NEAR(u[1], 0.5, 1e-12);
    CHECK_NEAR(u[2], 1.0, 0.0);
    space_from_unit(s, u, back);
    CHECK_NEAR(back[0], x[0], 1e-12);
    CHECK_EQ_INT((long long)back[1], 55);

    /* parameter checks name the field; an empty space is refused */
    kz_bo_params p = kz_bo_params_default();
    p.xi = -1.0;
    CHECK(kz_bo_params_check(&p, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "xi");
    kz_space *empty = NULL;
    kz_bo *bo = NULL;
    CHECK(kz_space_new(&empty) == KZ_OK);
    p = kz_bo_params_default();
    CHECK(kz_bo_new(empty, &p, &bo, &err) == KZ_ERR_INVALID && bo == NULL);
    CHECK_STR_CONTAINS(err.field, "space");
    kz_space_free(empty);
    kz_space_free(s);
}

static void test_designs(void)
{
    /* unscrambled Sobol, Gray-code order (scipy.stats.qmc.Sobol(scramble=False)) */
    static const double want[8][2] = {{0, 0},         {0.5, 0.5},     {0.75, 0.25},
                                      {0.25, 0.75},   {0.375, 0.375}, {0.875, 0.875},
                                      {0.625, 0.125}, {0.125, 0.625}};
    for (uint64_t i = 0; i < 8; i++) {
        double p[2];
        sobol_point(i, 2, p);
        CHECK_NEAR(p[0], want[i][0], 0.0);
        CHECK_NEAR(p[1], want[i][1], 0.0);
    }
    /* the first 2^m points put exactly one point in each 1/2^m bin of every dimension */
    enum { M = 6, N = 1 << M, D = KZ_SOBOL_MAX_DIMS };
    static double pts[N * D];
    for (uint64_t i = 0; i < N; i++) {
        sobol_point(i, D, &pts[i * D]);
    }
    int strat_ok = 1, lhs_ok = 1;
    for (size_t j = 0; j < D; j++) {
        int seen[N] = {0};
        for (size_t i = 0; i < N; i++) {
            seen[(int)(pts[i * D + j] * N)]++;
        }
        for (size_t b = 0; b < N; b++) {
            strat_ok &= seen[b] == 1;
        }
    }
    CHECK(strat_ok);
    /* Latin hypercube: one point per stratum per dimension */
    kz_rng rng;
    kz_rng_seed(&rng, 7);
    CHECK(design_make(KZ_INIT_LHS, N, 3, &rng, pts) == KZ_OK);
    for (size_t j = 0; j < 3; j++) {
        int seen[N] = {0};
        for (size_t i = 0; i < N; i++) {
            seen[(int)(pts[i * 3 + j] * N)]++;
        }
        for (size_t b = 0; b < N; b++) {
            lhs_ok &= seen[b] == 1;
        }
    }
    CHECK(lhs_ok);
    CHECK(design_make(KZ_INIT_SOBOL, 4, D + 1, &rng, pts) == KZ_ERR_INVALID);
}

/* A GP with 12 points in 3 dims (the last categorical) and random targets. */
static void make_gp(gp *g, unsigned char *is_cat)
{
    is_cat[0] = 0;
    is_cat[1] = 0;
    is_cat[2] = 1;
    CHECK(gp_init(g, 3, is_cat) == KZ_OK);
    kz_rng rng;
    kz_rng_seed(&rng, 3);
    double z[36], y[12];
    for (size_t i = 0; i < 12; i++) {
        z[i * 3] = kz_rng_uniform(&rng);
        z[i * 3 + 1] = kz_rng_uniform(&rng);
        z[i * 3 + 2] = (double)kz_rng_int(&rng, 0, 2);
        y[i] = sin(6.0 * z[i * 3]) + z[i * 3 + 1] * z[i * 3 + 1] + 0.3 * z[i * 3 + 2];
    }
    CHECK(gp_set_data(g, z, y, 12) == KZ_OK);
}

static void test_lml_gradient(void)
{
    gp g;
    unsigned char is_cat[3];
    make_gp(&g, is_cat);
    const double thetas[2][5] = {{0.2, log(0.3), log(0.5), log(1.5), log(1e-3)},
                                 {-1.0, log(0.1), log(2.0), log(0.4), log(0.05)}};
    for (size_t t = 0; t < 2; t++) {
        double th[5], grad[5];
        memcpy(th, thetas[t], sizeof th);
        double f = gp_lml(&g, th, grad);
        CHECK(isfinite(f));
        for (size_t j = 0; j < 5; j++) {
            const double h = 1e-6;
            double tp[5], tm[5];
            memcpy(tp, th, sizeof tp);
            memcpy(tm, th, sizeof tm);
            tp[j] += h;
            tm[j] -= h;
            double fd = (gp_lml(&g, tp, NULL) - gp_lml(&g, tm, NULL)) / (2.0 * h);
            CHECK_MSG(fabs(fd - grad[j]) <= 1e-5 * fmax(1.0, fabs(fd)),
                      "theta %zu: fd %.10g vs %.10g", j, fd, grad[j]);
        }
    }
    /* the fit maximises the likelihood: no better value at the default start */
    kz_rng rng;
    kz_rng_seed(&rng, 5);
    char why[128];
    CHECK(gp_fit(&g, NULL, 8, &rng, why, sizeof why) == 0);
    double best[5];
    memcpy(best, g.theta, sizeof best);
    double f_fit = gp_lml(&g, best, NULL);
    CHECK(f_fit >= gp_lml(&g, thetas[0], NULL));
    CHECK(f_fit >= gp_lml(&g, thetas[1], NULL));
    gp_release(&g);
}

static void test_acq_gradient(void)
{
    gp g;
    unsigned char is_cat[3];
    make_gp(&g, is_cat);
    const double th[5] = {0.0, log(0.3), log(0.4), log(1.0), log(1e-4)};
    CHECK(isfinite(gp_lml(&g, th, NULL)));
    const kz_acq_kind kinds[3] = {KZ_ACQ_EI, KZ_ACQ_PI, KZ_ACQ_LCB};
    const double z[3] = {0.37, 0.61, 1.0};
    for (size_t k = 0; k < 3; k++) {
        acq_setup a = {kinds[k], -1.2, 0.01, 1.96, 10, 1};
        double grad[3], scratch[6];
        (void)acq_value(&g, &a, z, grad, scratch);
        for (size_t q = 0; q < 2; q++) {
            const double h = 1e-6;
            double zp[3], zm[3];
            memcpy(zp, z, sizeof zp);
            memcpy(zm, z, sizeof zm);
            zp[q] += h;
            zm[q] -= h;
            double fd =
                (acq_value(&g, &a, zp, NULL, NULL) - acq_value(&g, &a, zm, NULL, NULL)) / (2 * h);
            CHECK_MSG(fabs(fd - grad[q]) <= 1e-5 * fmax(1e-3, fabs(fd)),
                      "%s dim %zu: %.10g vs %.10g", kz_acq_str(kinds[k]), q, fd, grad[q]);
        }
        CHECK_NEAR(grad[2], 0.0, 0.0); /* categorical coordinate: no gradient */
    }
    /* posterior at a training point of a near-noiseless GP interpolates its target */
    double mu, var;
    gp_predict(&g, &g.z[0], &mu, &var, NULL, NULL);
    CHECK_NEAR(mu, g.y[0], 1e-3);
    CHECK(var < 1e-3);
    gp_release(&g);
}

static int quad_obj(const double *x, void *ud, double *y)
{
    (void)ud;
    *y = (x[0] - 0.3) * (x[0] - 0.3) + (x[1] - 2.0) * (x[1] - 2.0) * 0.01 + (x[2] == 1 ? 0 : 0.5);
    return 0;
}

static kz_space *mixed_space(void)
{
    kz_space *s = NULL;
    const char *cats[] = {"x", "y", "z"};
    if (kz_space_new(&s) != KZ_OK || kz_space_add_real(s, "a", 0.0, 1.0, 0, NULL) != KZ_OK ||
        kz_space_add_int(s, "n", -5, 5, NULL) != KZ_OK ||
        kz_space_add_cat(s, "c", cats, 3, NULL) != KZ_OK) {
        kz_space_free(s);
        return NULL;
    }
    return s;
}

static kz_bo *run(const kz_space *s, kz_bo_params p, size_t n, size_t q)
{
    kz_bo *bo = NULL;
    if (kz_bo_new(s, &p, &bo, NULL) != KZ_OK) {
        return NULL;
    }
    if (kz_bo_minimize(bo, quad_obj, NULL, n, q) != KZ_OK) {
        kz_bo_free(bo);
        return NULL;
    }
    return bo;
}

/* Same points and values, in order. */
static int same_history(const kz_bo *a, const kz_bo *b)
{
    if (!a || !b || kz_bo_n_evals(a) != kz_bo_n_evals(b)) {
        return 0;
    }
    size_t d = kz_space_n_dims(kz_bo_space(a));
    for (size_t i = 0; i < kz_bo_n_evals(a); i++) {
        kz_bo_eval ea, eb;
        if (kz_bo_eval_get(a, i, &ea) != KZ_OK || kz_bo_eval_get(b, i, &eb) != KZ_OK ||
            memcmp(ea.x, eb.x, d * sizeof(double)) != 0 || !kz_near(ea.y, eb.y, 0.0) ||
            ea.source != eb.source) {
            return 0;
        }
    }
    return 1;
}

static void test_determinism_and_resume(void)
{
    kz_space *s = mixed_space();
    CHECK(s != NULL);
    const char *path = "optim_resume_test.json";
    const kz_acq_kind acqs[2] = {KZ_ACQ_EI, KZ_ACQ_HEDGE};
    for (size_t k = 0; k < 2; k++) {
        kz_bo_params p = kz_bo_params_default();
        p.acq = acqs[k];
        p.n_candidates = 300;
        kz_bo *a = run(s, p, 24, 1), *b = run(s, p, 24, 1);
        CHECK(same_history(a, b));
        /* interrupted after 13 evaluations, saved, loaded, continued */
        kz_bo *c = run(s, p, 13, 1), *r = NULL;
        kz_error err;
        CHECK(c && kz_bo_save_json(c, path, &err) == KZ_OK);
        CHECK(kz_bo_load_json(path, &r, &err) == KZ_OK);
        CHECK(r && kz_bo_minimize(r, quad_obj, NULL, 24, 1) == KZ_OK);
        CHECK_MSG(same_history(a, r), "resume differs (%s)", kz_acq_str(acqs[k]));
        double ta[5], tr[5];
        CHECK(kz_bo_gp_theta(a, ta) == KZ_OK && kz_bo_gp_theta(r, tr) == KZ_OK);
        CHECK(memcmp(ta, tr, sizeof ta) == 0);
        /* batches: q = 3 is reproducible, and differs from q = 1 after the initial design */
        kz_bo *q1 = run(s, p, 18, 3), *q2 = run(s, p, 18, 3);
        CHECK(same_history(q1, q2));
        CHECK(!same_history(q1, a));
        p.seed = 43;
        kz_bo *other = run(s, p, 24, 1);
        CHECK(other && !same_history(a, other));
        kz_bo_free(a);
        kz_bo_free(b);
        kz_bo_free(c);
        kz_bo_free(r);
        kz_bo_free(q1);
        kz_bo_free(q2);
        kz_bo_free(other);
    }
    remove(path);
    kz_space_free(s);
}

static void test_batch_ask_tell(void)
{
    kz_space *s = mixed_space();
    kz_bo_params p = kz_bo_params_default();
    p.n_initial = 4;
    p.n_candidates = 200;
    kz_bo *bo = NULL;
    CHECK(kz_bo_new(s, &p, &bo, NULL) == KZ_OK);
    double x[4 * 3];
    CHECK(kz_bo_suggest(bo, 4, x) == KZ_OK);
    for (size_t i = 4; i-- > 0;) { /* told in reverse order */
        double y;
        (void)quad_obj(&x[i * 3], NULL, &y);
        CHECK(kz_bo_observe(bo, &x[i * 3], y, 0.0) == KZ_OK);
    }
    CHECK(kz_bo_suggest(bo, 4, x) == KZ_OK);
    /* constant liar: the four model points of one batch are distinct */
    int distinct = 1;
    for (size_t i = 0; i < 4; i++) {
        CHECK(kz_space_check_point(s, &x[i * 3], NULL) == KZ_OK);
        for (size_t j = 0; j < i; j++) {
            distinct &= memcmp(&x[i * 3], &x[j * 3], 3 * sizeof(double)) != 0;
        }
    }
    CHECK(distinct);
    for (size_t i = 0; i < 4; i++) {
        CHECK(kz_bo_observe(bo, &x[i * 3], 1.0, 0.0) == KZ_OK);
    }
    kz_bo_eval e;
    CHECK(kz_bo_eval_get(bo, 0, &e) == KZ_OK && e.source == KZ_BO_SRC_INITIAL);
    CHECK(kz_bo_eval_get(bo, 7, &e) == KZ_OK && e.source == KZ_BO_SRC_MODEL);
    CHECK(kz_bo_eval_get(bo, 8, &e) == KZ_ERR_RANGE);
    double bad[3] = {2.0, 0, 0};
    CHECK(kz_bo_observe(bo, bad, 1.0, 0.0) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(kz_bo_errmsg(bo), "'a'");
    double user[3] = {0.3, 2, 1};
    CHECK(kz_bo_observe(bo, user, 0.0, 0.0) == KZ_OK);
    CHECK(kz_bo_eval_get(bo, 8, &e) == KZ_OK && e.source == KZ_BO_SRC_USER);
    kz_bo_summary sm;
    kz_bo_summary_get(bo, &sm);
    CHECK_EQ_INT(sm.best_iteration, 8);
    CHECK_NEAR(sm.best_y, 0.0, 0.0);
    kz_bo_free(bo);
    kz_space_free(s);
}

static int always_fails(const double *x, void *ud, double *y)
{
    (void)x;
    (void)ud;
    *y = 0.0;
    return 1;
}

static int fails_right(const double *x, void *ud, double *y)
{
    (void)ud;
    if (x[0] > 0.7) {
        *y = NAN;
        return 0;
    }
    *y = (x[0] - 0.6) * (x[0] - 0.6);
    return 0;
}

static void test_failures_and_fallback(void)
{
    kz_space *s = NULL;
    CHECK(kz_space_new(&s) == KZ_OK && kz_space_add_real(s, "a", 0, 1, 0, NULL) == KZ_OK);
    kz_bo_params p = kz_bo_params_default();
    p.n_initial = 3;
    kz_bo *bo = NULL;
    CHECK(kz_bo_new(s, &p, &bo, NULL) == KZ_OK);
    CHECK(kz_bo_minimize(bo, always_fails, NULL, 8, 1) == KZ_OK);
    kz_bo_summary sm;
    kz_bo_summary_get(bo, &sm);
    CHECK_EQ_INT(sm.n_evals, 8);
    CHECK_EQ_INT(sm.n_failed, 8);
    CHECK_EQ_INT(sm.n_fallback, 5);
    CHECK(!sm.has_best && sm.best_x == NULL);
    CHECK_STR_CONTAINS(sm.fallback_reason, "no successful evaluation");
    kz_bo_eval e;
    CHECK(kz_bo_eval_get(bo, 7, &e) == KZ_OK && e.source == KZ_BO_SRC_FALLBACK && e.failed);
    CHECK(isnan(e.y) && isnan(e.best_y));
    /* the fallback is seeded: a second run proposes the same points */
    kz_bo *bo2 = NULL;
    CHECK(kz_bo_new(s, &p, &bo2, NULL) == KZ_OK);
    CHECK(kz_bo_minimize(bo2, always_fails, NULL, 8, 1) == KZ_OK);
    CHECK(same_history(bo, bo2));
    kz_bo_free(bo);
    kz_bo_free(bo2);

    /* partial failures are recorded and the optimum next to the failing region is still found */
    CHECK(kz_bo_new(s, &p, &bo, NULL) == KZ_OK);
    CHECK(kz_bo_minimize(bo, fails_right, NULL, 20, 1) == KZ_OK);
    kz_bo_summary_get(bo, &sm);
    CHECK(sm.has_best && sm.n_fallback == 0);
    CHECK(sm.n_failed >= 1 && sm.n_failed < 10);
    CHECK_NEAR(sm.best_x[0], 0.6, 0.01);
    kz_bo_free(bo);
    kz_space_free(s);
}

static void test_json_and_svg(void)
{
    kz_space *s = mixed_space();
    kz_bo_params p = kz_bo_params_default();
    p.n_candidates = 200;
    kz_bo *bo = run(s, p, 12, 1);
    kz_error err;
    CHECK(bo && kz_bo_save_json(bo, "optim_json_test.json", &err) == KZ_OK);
    FILE *f = fopen("optim_json_test.json", "r");
    static char text[1 << 16];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f) {
        fclose(f);
    }
    CHECK_STR_CONTAINS(text, "\"kizashi-bo\"");
    CHECK_STR_CONTAINS(text, "\"categories\"");
    CHECK_STR_CONTAINS(text, "\"convergence\"");
    CHECK_STR_CONTAINS(text, "\"42\""); /* the seed, as a string (exact for any uint64) */
    CHECK(kz_bo_plot_svg(bo, "optim_plot_test.svg", &err) == KZ_OK);
    f = fopen("optim_plot_test.svg", "r");
    n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f) {
        fclose(f);
    }
    CHECK_STR_CONTAINS(text, "<svg");
    CHECK_STR_CONTAINS(text, "<polyline");
    remove("optim_plot_test.svg");

    /* malformed JSON names the line; a foreign file is refused; a bad space names the dim */
    f = fopen("optim_json_bad.json", "w");
    if (f) {
        fputs("{\n  \"format\": \"kizashi-bo\",\n  \"version\": oops\n}\n", f);
        fclose(f);
    }
    kz_bo *r = NULL;
    CHECK(kz_bo_load_json("optim_json_bad.json", &r, &err) == KZ_ERR_PARSE && r == NULL);
    CHECK_EQ_INT(err.line, 3);
    f = fopen("optim_json_bad.json", "w");
    if (f) {
        fputs("{\"format\": \"other\"}", f);
        fclose(f);
    }
    CHECK(kz_bo_load_json("optim_json_bad.json", &r, &err) == KZ_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.field, "format");
    /* edit the saved run: make dimension "a" empty */
    f = fopen("optim_json_test.json", "r");
    n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f) {
        fclose(f);
    }
    char *hi = strstr(text, "\"high\":");
    CHECK(hi != NULL);
    if (hi) {
        hi += 7;
        while (*hi == ' ' || *hi == '\t') {
            hi++;
        }
        CHECK(*hi == '1');
        *hi = '0';
    }
    f = fopen("optim_json_bad.json", "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    CHECK(kz_bo_load_json("optim_json_bad.json", &r, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "a");
    CHECK(kz_bo_load_json("does/not/exist.json", &r, &err) == KZ_ERR_IO);
    remove("optim_json_bad.json");
    remove("optim_json_test.json");
    kz_bo_free(bo);
    kz_space_free(s);
}

static void test_bench_format(void)
{
    kz_bo_bench_params p = kz_bo_bench_params_default();
    kz_bo_bench_row rows[2] = {{"branin",
                                10,
                                0.397887,
                                {0.39800, 0.39795},
                                {0.3979, 0.3979},
                                {0.3990, 0.3985},
                                {1.1e-4, 6e-5},
                                {2.0, 6.0}},
                               {"hartmann6",
                                10,
                                -3.32237,
                                {-3.25, -3.31},
                                {-3.32, -3.32},
                                {-3.0, -3.2},
                                {0.07, 0.01},
                                {2.5, 7.5}}};
    char buf[4096];
    size_t need = kz_bo_bench_format(&p, rows, 2, buf, sizeof buf);
    CHECK(need < sizeof buf && need == strlen(buf));
    CHECK_STR_CONTAINS(buf, "branin gap after 50 <= 2e-4: 1.10e-04  PASS");
    CHECK_STR_CONTAINS(buf, "hartmann6 best after 50 <= -3.20: -3.2500  PASS");
    CHECK_STR_CONTAINS(buf, "7.50  PASS (79x)");
    char small[16];
    CHECK(kz_bo_bench_format(&p, rows, 2, small, sizeof small) == need);
    CHECK(strlen(small) == sizeof small - 1);
}

int main(void)
{
    test_space_validation();
    test_designs();
    test_lml_gradient();
    test_acq_gradient();
    test_determinism_and_resume();
    test_batch_ask_tell();
    test_failures_and_fallback();
    test_json_and_svg();
    test_bench_format();
    KZ_TEST_DONE();
}
