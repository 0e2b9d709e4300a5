/* Walk-forward strategy search: fold windows (hand-computed, gaps, expanding and sliding), one fold
 * == the single split, bit-identical for 1 and 2 threads, no fold's search reads its OOS bars
 * (perturbing them changes nothing in-sample), the chained OOS curve and metrics, the stop flag,
 * JSON, bad parameters and out-of-memory injection. Synthetic data only (fast, ASan-sized). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/strategy.h"

#include "kz_test.h"

#define N_BARS 2000

/* GARCH bars with funding and OI; bar t >= cut is scaled by bump^(t - cut + 1) (1 = untouched):
 * a drift added from `cut` on. */
static void synth_market(size_t n, uint64_t seed, size_t cut, double bump, kz_market *m)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = n;
    sp.seed = seed;
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    kz_error err;
    CHECK(kz_synth_generate(&sp, &b, &fr, &oi, &err) == KZ_OK);
    for (size_t t = cut; t < b.n; t++) {
        double f = pow(bump, (double)(t - cut + 1));
        b.open[t] *= f;
        b.high[t] *= f;
        b.low[t] *= f;
        b.close[t] *= f;
    }
    memset(m, 0, sizeof *m);
    CHECK(kz_market_build("synth", "BTCUSDT", KZ_TF_1H, &b, &fr, &oi, 9 * 3600000LL, 0, m) ==
          KZ_OK);
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
}

static kz_ga_params small_params(int threads)
{
    kz_ga_params p = kz_ga_params_default();
    p.population = 16;
    p.generations = 4;
    p.elite = 2;
    p.top_k = 3;
    p.max_genes = 3;
    p.mode = KZ_GA_TECHNICAL;
    p.threads = threads;
    return p;
}

static int entries_equal(const kz_ga_entry *a, const kz_ga_entry *b, size_t n, int with_oos)
{
    for (size_t k = 0; k < n; k++) {
        if (!kz_genome_equal(&a[k].genome, &b[k].genome) || a[k].fitness != b[k].fitness ||
            memcmp(&a[k].is, &b[k].is, sizeof a[k].is) != 0 || a[k].dsr != b[k].dsr ||
            (with_oos && memcmp(&a[k].oos, &b[k].oos, sizeof a[k].oos) != 0)) {
            return 0;
        }
    }
    return 1;
}

/* The IS part of two searches: same trials, history and top-K (genomes, fitness, IS metrics). */
static int same_in_sample(const kz_ga_result *a, const kz_ga_result *b)
{
    return a->n_evals == b->n_evals && a->n_top == b->n_top && a->n_history == b->n_history &&
           memcmp(a->history, b->history, a->n_history * sizeof *a->history) == 0 &&
           entries_equal(a->top, b->top, a->n_top, 0);
}

static int same_wf(const kz_ga_wf_result *a, const kz_ga_wf_result *b)
{
    if (a->folds_run != b->folds_run || a->n_evals != b->n_evals || a->oos_end != b->oos_end ||
        memcmp(&a->oos, &b->oos, sizeof a->oos) != 0 ||
        memcmp(a->oos_equity, b->oos_equity, (a->oos_end - a->oos_begin) * sizeof(double)) != 0) {
        return 0;
    }
    for (int f = 0; f < a->folds_run; f++) {
        const kz_ga_result *x = &a->folds[f].run, *y = &b->folds[f].run;
        if (!same_in_sample(x, y) || !entries_equal(x->top, y->top, x->n_top, 1)) {
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- fold windows */
static void test_folds(void)
{
    kz_ga_params p = kz_ga_params_default();
    size_t b[4 * 5];
    kz_error err;
    /* n = 1000, OOS 30 % = 300 bars in 3 windows of 100, gap n/100 = 10 */
    CHECK(kz_ga_wf_folds(1000, &p, 3, KZ_WF_EXPANDING, b, &err) == KZ_OK);
    const size_t expanding[12] = {0, 690, 700, 800, 0, 790, 800, 900, 0, 890, 900, 1000};
    CHECK(memcmp(b, expanding, sizeof expanding) == 0);
    CHECK(kz_ga_wf_folds(1000, &p, 3, KZ_WF_SLIDING, b, &err) == KZ_OK);
    const size_t sliding[12] = {0, 690, 700, 800, 100, 790, 800, 900, 200, 890, 900, 1000};
    CHECK(memcmp(b, sliding, sizeof sliding) == 0);
    /* 1001 bars: floor(300.3) = 300 OOS bars, the extra bar goes to the first IS window */
    CHECK(kz_ga_wf_folds(1001, &p, 3, KZ_WF_SLIDING, b, &err) == KZ_OK);
    const size_t odd[12] = {0, 691, 701, 801, 100, 791, 801, 901, 200, 891, 901, 1001};
    CHECK(memcmp(b, odd, sizeof odd) == 0);
    /* 5 windows of 60, gap 25: invariants on every fold */
    p.gap_bars = 25;
    CHECK(kz_ga_wf_folds(1000, &p, 5, KZ_WF_SLIDING, b, &err) == KZ_OK);
    for (int f = 0; f < 5; f++) {
        const size_t *w = b + 4 * f;
        CHECK_EQ_INT(w[2] - w[1], 25);               /* the gap */
        CHECK_EQ_INT(w[3] - w[2], 60);               /* 300 / 5 */
        CHECK_EQ_INT(w[1] - w[0], 700 - 25);         /* sliding: constant IS length */
        CHECK(f == 0 || w[2] == b[4 * (f - 1) + 3]); /* OOS windows tile the end */
    }
    CHECK_EQ_INT(b[4 * 4 + 3], 1000);
    /* errors */
    p = kz_ga_params_default();
    CHECK(kz_ga_wf_folds(1000, &p, 0, KZ_WF_EXPANDING, b, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "walk_forward") == 0);
    CHECK(kz_ga_wf_folds(1000, &p, 31, KZ_WF_EXPANDING, b, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "oos_fraction") == 0); /* 300 / 31 < 10 bars per window */
    p.oos_fraction = 0;
    CHECK(kz_ga_wf_folds(1000, &p, 2, KZ_WF_EXPANDING, b, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "oos_fraction") == 0);
    kz_wf_mode m;
    CHECK(kz_wf_mode_parse("sliding", &m) == KZ_OK && m == KZ_WF_SLIDING);
    CHECK(kz_wf_mode_parse("expanding", &m) == KZ_OK && m == KZ_WF_EXPANDING);
    CHECK(kz_wf_mode_parse("anchored", &m) == KZ_ERR_INVALID);
    CHECK(strcmp(kz_wf_mode_str(KZ_WF_SLIDING), "sliding") == 0);
}

/* ---------------------------------------------------------------- runs */
/* One fold is the single split: same windows, same searches, same reports. */
static void test_one_fold_is_single_split(const kz_colset *cs)
{
    kz_ga_params p = small_params(2);
    kz_ga_result r;
    kz_ga_wf_result w;
    kz_error err;
    CHECK(kz_ga_run(cs, &p, &r, &err) == KZ_OK);
    CHECK(kz_ga_walk_forward(cs, &p, 1, KZ_WF_EXPANDING, &w, &err) == KZ_OK);
    CHECK_EQ_INT(w.folds_run, 1);
    if (w.folds_run == 1) {
        const kz_ga_result *f = &w.folds[0].run;
        CHECK_EQ_INT(f->is_end, r.is_end);
        CHECK_EQ_INT(f->oos_begin, r.oos_begin);
        CHECK(same_in_sample(f, &r));
        CHECK(entries_equal(f->top, r.top, r.n_top, 1));
        CHECK(strcmp(f->top[0].strategy.name, "ga-42-f1-1") == 0);
        /* the chained curve of one fold is the best strategy's OOS backtest (metrics recomputed
         * from the curve: equal up to summation order) */
        const kz_bt_metrics *a = &w.oos, *b = &r.top[0].oos;
        CHECK_NEAR(a->total_return, b->total_return, 1e-12);
        CHECK_NEAR(a->sharpe, b->sharpe, 1e-9);
        CHECK_NEAR(a->max_drawdown, b->max_drawdown, 1e-12);
        CHECK_NEAR(a->win_rate, b->win_rate, 1e-12);
        CHECK_NEAR(a->fees_paid, b->fees_paid, 1e-6);
        CHECK_EQ_INT(a->n_trades, b->n_trades);
        CHECK_EQ_INT(a->n_bars, b->n_bars);
    }
    kz_ga_result_free(&r);
    kz_ga_wf_result_free(&w);
}

static void check_folds(const kz_ga_wf_result *w, const kz_ga_params *p, kz_wf_mode mode)
{
    size_t b[4 * 3];
    kz_error err;
    CHECK(kz_ga_wf_folds(N_BARS, p, 3, mode, b, &err) == KZ_OK);
    CHECK_EQ_INT(w->folds_run, 3);
    CHECK_EQ_INT(w->gap, N_BARS / 100);
    CHECK_EQ_INT(w->oos_begin, b[2]);
    CHECK_EQ_INT(w->oos_end, N_BARS);
    double growth = 1;
    size_t trades = 0, evals = 0;
    for (int f = 0; f < w->folds_run; f++) {
        const kz_ga_fold *fd = &w->folds[f];
        const kz_ga_result *r = &fd->run;
        /* the fold's search ran on exactly its windows, IS ending a gap before OOS */
        CHECK_EQ_INT(fd->is_begin, b[4 * f]);
        CHECK_EQ_INT(fd->is_end, b[4 * f + 1]);
        CHECK_EQ_INT(fd->oos_begin, b[4 * f + 2]);
        CHECK_EQ_INT(r->is_begin, fd->is_begin);
        CHECK_EQ_INT(r->is_end, fd->is_end);
        CHECK_EQ_INT(r->oos_begin, fd->oos_begin);
        CHECK_EQ_INT(r->oos_end, fd->oos_end);
        CHECK_EQ_INT(fd->oos_begin - fd->is_end, w->gap);
        CHECK(r->n_top >= 1);
        CHECK_EQ_INT(r->top[0].is.n_bars, fd->is_end - fd->is_begin);
        CHECK_EQ_INT(r->top[0].oos.n_bars, fd->oos_end - fd->oos_begin);
        growth *= 1 + r->top[0].oos.total_return;
        trades += r->top[0].oos.n_trades;
        evals += r->n_evals;
    }
    /* chaining compounds the folds' OOS returns and keeps their trades */
    CHECK_NEAR(w->oos.total_return, growth - 1, 1e-9);
    CHECK_EQ_INT(w->oos.n_trades, trades);
    CHECK_EQ_INT(w->n_evals, evals);
    CHECK_EQ_INT(w->oos.n_bars, w->oos_end - w->oos_begin);
    CHECK_NEAR(w->oos_equity[w->oos_end - w->oos_begin - 1], w->oos.final_equity, 0);
}

static void test_runs(const kz_colset *cs)
{
    for (int mode = KZ_WF_EXPANDING; mode <= KZ_WF_SLIDING; mode++) {
        kz_ga_params p1 = small_params(1), p2 = small_params(2);
        kz_ga_wf_result a, b;
        kz_error err;
        CHECK(kz_ga_walk_forward(cs, &p1, 3, (kz_wf_mode)mode, &a, &err) == KZ_OK);
        CHECK(kz_ga_walk_forward(cs, &p2, 3, (kz_wf_mode)mode, &b, &err) == KZ_OK);
        CHECK(same_wf(&a, &b)); /* 1 thread == 2 threads, bit for bit */
        check_folds(&a, &p1, (kz_wf_mode)mode);
        /* folds draw from different streams: their initial populations differ */
        CHECK(!kz_genome_equal(&a.folds[0].run.top[0].genome, &a.folds[1].run.top[0].genome) ||
              a.folds[0].run.top[0].fitness != a.folds[1].run.top[0].fitness);
        char *json = NULL;
        CHECK(kz_ga_wf_result_to_json(&a, &json) == KZ_OK);
        CHECK_STR_CONTAINS(json, mode == KZ_WF_SLIDING ? "\"walk_forward\":\t\"sliding\""
                                                       : "\"walk_forward\":\t\"expanding\"");
        CHECK_STR_CONTAINS(json, "\"fold\":\t3");
        CHECK_STR_CONTAINS(json, "ga-42-f3-1");
        kz_free(json);
        kz_ga_wf_result_free(&a);
        kz_ga_wf_result_free(&b);
    }
}

/* No fold's search reads its OOS bars: with a drift of 0.1 % a bar added from fold f's IS end
 * on, fold f's search (trials, history, top-K genomes, IS fitness and metrics, DSR) is unchanged
 * while its OOS metrics change. Checked for fold 0 (expanding) and fold 1 (sliding). */
static void test_oos_untouched(void)
{
    kz_ga_params p = small_params(2);
    size_t b[4 * 3];
    kz_error err;
    CHECK(kz_ga_wf_folds(N_BARS, &p, 3, KZ_WF_EXPANDING, b, &err) == KZ_OK);
    for (int f = 0; f < 2; f++) {
        kz_wf_mode mode = f == 0 ? KZ_WF_EXPANDING : KZ_WF_SLIDING;
        size_t cut = b[4 * f + 1];
        kz_market m0, m1;
        synth_market(N_BARS, 5, cut, 1.0, &m0);
        synth_market(N_BARS, 5, cut, 1.001, &m1);
        kz_colset *c0 = NULL, *c1 = NULL;
        CHECK(kz_colset_new(&m0, &c0, &err) == KZ_OK);
        CHECK(kz_colset_new(&m1, &c1, &err) == KZ_OK);
        p.top_k = 1;
        kz_ga_wf_result w0, w1;
        CHECK(kz_ga_walk_forward(c0, &p, 3, mode, &w0, &err) == KZ_OK);
        CHECK(kz_ga_walk_forward(c1, &p, 3, mode, &w1, &err) == KZ_OK);
        for (int g = 0; g <= f; g++) {
            CHECK(same_in_sample(&w0.folds[g].run, &w1.folds[g].run));
        }
        const kz_ga_entry *e0 = w0.folds[f].run.top, *e1 = w1.folds[f].run.top;
        CHECK(e0[0].oos.buy_hold_return != e1[0].oos.buy_hold_return);
        kz_ga_wf_result_free(&w0);
        kz_ga_wf_result_free(&w1);
        kz_colset_free(c0);
        kz_colset_free(c1);
        kz_market_free(&m0);
        kz_market_free(&m1);
    }
}

/* A stop during fold 2's first generations: folds 1 and 2 are reported, fold 3 is not run. */
typedef struct stopper {
    atomic_int flag;
    int folds_started;
} stopper;

static void stop_in_fold2(const kz_ga_gen *g, int n_gen, void *ud)
{
    (void)n_gen;
    stopper *s = ud;
    s->folds_started += g->generation == 0;
    if (s->folds_started == 2 && g->generation == 1) {
        atomic_store(&s->flag, 1);
    }
}

static void test_stop_and_errors(const kz_colset *cs)
{
    stopper s;
    atomic_init(&s.flag, 0);
    s.folds_started = 0;
    kz_ga_params p = small_params(2);
    p.stop = &s.flag;
    p.progress = stop_in_fold2;
    p.progress_ud = &s;
    kz_ga_wf_result w;
    kz_error err;
    CHECK(kz_ga_walk_forward(cs, &p, 3, KZ_WF_EXPANDING, &w, &err) == KZ_OK);
    CHECK_EQ_INT(w.stopped, 1);
    CHECK_EQ_INT(w.folds_run, 2);
    CHECK_EQ_INT(w.folds[1].run.generations_run, 1);
    CHECK_EQ_INT(w.oos_end, w.folds[1].oos_end);
    CHECK_EQ_INT(w.oos.n_bars, w.oos_end - w.oos_begin);
    kz_ga_wf_result_free(&w);

    p = small_params(2);
    CHECK(kz_ga_walk_forward(cs, &p, 0, KZ_WF_EXPANDING, &w, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "walk_forward") == 0);
    CHECK(w.folds == NULL && w.oos_equity == NULL);
    p.oos_fraction = 0;
    CHECK(kz_ga_walk_forward(cs, &p, 2, KZ_WF_EXPANDING, &w, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "oos_fraction") == 0);
    p = small_params(2);
    p.population = 1;
    CHECK(kz_ga_walk_forward(cs, &p, 2, KZ_WF_EXPANDING, &w, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "population") == 0);
    CHECK(kz_ga_walk_forward(NULL, &p, 2, KZ_WF_EXPANDING, &w, &err) == KZ_ERR_INVALID);
    kz_ga_wf_result_free(NULL);
}

/* ---------------------------------------------------------------- out of memory */
typedef struct failer {
    size_t count, fail_at; /* the fail_at-th allocation (1-based) fails; 0 = none */
} failer;

static void *f_malloc(size_t size, void *ud)
{
    failer *f = ud;
    return ++f->count == f->fail_at ? NULL : malloc(size);
}

static void *f_realloc(void *p, size_t size, void *ud)
{
    failer *f = ud;
    return ++f->count == f->fail_at ? NULL : realloc(p, size);
}

static void f_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* Each allocation of a small walk-forward run fails in turn: KZ_ERR_NOMEM, an empty result and
 * (under ASan) no leak; with no failure the run equals a run without the hook. */
static void test_oom(void)
{
    kz_market m;
    synth_market(600, 9, 600, 1.0, &m);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    kz_ga_params p = small_params(1);
    p.population = 4;
    p.generations = 1;
    p.elite = 1;
    p.top_k = 1;
    kz_ga_wf_result ref, w;
    CHECK(kz_ga_walk_forward(cs, &p, 2, KZ_WF_SLIDING, &ref, &err) == KZ_OK);
    size_t bad = 0, k;
    int clean = 0;
    for (k = 1; k < 20000 && !clean; k++) {
        failer f = {0, k};
        kz_allocator a = {f_malloc, f_realloc, f_free, &f};
        kz_set_allocator(&a);
        kz_status st = kz_ga_walk_forward(cs, &p, 2, KZ_WF_SLIDING, &w, &err);
        kz_set_allocator(NULL);
        clean = f.count < k;
        if (clean) {
            bad += st != KZ_OK || !same_wf(&w, &ref);
        } else {
            bad += st != KZ_ERR_NOMEM || w.folds != NULL || w.oos_equity != NULL;
        }
        kz_ga_wf_result_free(&w);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(clean);
    CHECK(k > 20); /* the run did allocate, and failed */
    kz_ga_wf_result_free(&ref);
    kz_colset_free(cs);
    kz_market_free(&m);
}

int main(void)
{
    test_folds();
    kz_market m;
    synth_market(N_BARS, 3, N_BARS, 1.0, &m);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    if (cs) {
        test_one_fold_is_single_split(cs);
        test_runs(cs);
        test_stop_and_errors(cs);
    }
    test_oos_untouched();
    test_oom();
    kz_colset_free(cs);
    kz_market_free(&m);
    KZ_TEST_DONE();
}
