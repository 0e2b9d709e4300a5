/* Strategy search: operators keep genomes valid (fuzzed), decode/JSON round trips, distance,
 * DSR golden values, elitism, determinism across thread counts and reruns, a bounded cache that
 * changes nothing, a planted edge found and profitable out of sample, GA beats random search,
 * ML mode, NSGA-II front, stop flag, kz_parallel_for. Synthetic data only (fast, ASan-sized). */
#include <math.h>
#include <stdatomic.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/strategy.h"

#include "kz_planted.h"
#include "kz_test.h"

/* ---------------------------------------------------------------- data */
/* GARCH bars with funding and OI, plus ML columns that are noisy functions of PAST returns
 * only (a stand-in for a model's causal predictions). */
static void synth_market(size_t n, uint64_t seed, kz_market *m)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = n;
    sp.seed = seed;
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    kz_error err;
    CHECK(kz_synth_generate(&sp, &b, &fr, &oi, &err) == KZ_OK);
    memset(m, 0, sizeof *m);
    CHECK(kz_market_build("synth", "BTCUSDT", KZ_TF_1H, &b, &fr, &oi, 9 * 3600000LL, 0, m) ==
          KZ_OK);
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
}

static void add_past_ml_columns(kz_colset *cs, const kz_market *m, uint64_t seed)
{
    size_t n = m->bars.n;
    double *up = malloc(n * sizeof *up), *dn = malloc(n * sizeof *dn), *rg = malloc(n * sizeof *rg);
    kz_rng r;
    kz_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        double past = i >= 6 ? log(m->bars.close[i] / m->bars.close[i - 6]) : 0;
        double z = 40 * past + 0.7 * kz_rng_normal(&r);
        double eu = exp(z), ed = exp(-z), er = 1.5;
        up[i] = eu / (eu + ed + er);
        dn[i] = ed / (eu + ed + er);
        rg[i] = er / (eu + ed + er);
    }
    kz_error err;
    CHECK(kz_colset_add(cs, "ML_UP_PROB", up, 1, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "ML_DOWN_PROB", dn, 1, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "ML_RANGE_PROB", rg, 1, &err) == KZ_OK);
    free(up);
    free(dn);
    free(rg);
}

static kz_colset *synth_colset(kz_market *m, size_t n, uint64_t seed)
{
    synth_market(n, seed, m);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(m, &cs, &err) == KZ_OK);
    add_past_ml_columns(cs, m, seed + 1);
    return cs;
}

static kz_ga_params small_params(int pop, int gens)
{
    kz_ga_params p = kz_ga_params_default();
    p.population = pop;
    p.generations = gens;
    p.elite = pop / 10 > 0 ? pop / 10 : 1;
    p.threads = 2;
    return p;
}

static int strategy_equal(const kz_strategy *a, const kz_strategy *b)
{
    char *ja = NULL, *jb = NULL;
    if (kz_strategy_to_json(a, &ja) != KZ_OK || kz_strategy_to_json(b, &jb) != KZ_OK) {
        kz_free(ja);
        return 0;
    }
    int eq = strcmp(ja, jb) == 0;
    kz_free(ja);
    kz_free(jb);
    return eq;
}

/* ---------------------------------------------------------------- operators */
static void test_operators_fuzz(const kz_colset *cs)
{
    kz_ga_space *sp = NULL;
    kz_error err;
    CHECK(kz_ga_space_new(cs, KZ_GA_MIXED, 5, &sp, &err) == KZ_OK);
    CHECK(kz_ga_space_count(sp) > 60); /* ~80 indicators + 3 ML + funding + OI_CHANGE */
    enum { N = 40 };
    kz_genome pop[N];
    kz_rng r;
    kz_rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        kz_genome_random(sp, &r, &pop[i]);
    }
    int bad = 0, changed = 0, ops = 0, max_genes_seen = 0;
    int kinds[3] = {0, 0, 0};
    for (int it = 0; it < 4000; it++) {
        int i = (int)kz_rng_int(&r, 0, N - 1), j = (int)kz_rng_int(&r, 0, N - 1);
        kz_genome child;
        switch (it % 3) {
        case 0:
            kz_genome_crossover(sp, &pop[i], &pop[j], &r, &child);
            break;
        case 1:
            child = pop[i];
            changed += kz_genome_mutate(sp, &child, 0.3, 1, &r);
            break;
        default:
            kz_genome_random(sp, &r, &child);
            break;
        }
        ops++;
        kz_strategy s;
        if (kz_genome_check(&child, &err) != KZ_OK ||
            kz_genome_decode(&child, "fuzz", &s, &err) != KZ_OK ||
            kz_strategy_check(&s, &err) != KZ_OK) {
            if (bad++ < 5) {
                fprintf(stderr, "invalid genome after op %d: %s: %s\n", it % 3, err.field, err.msg);
            }
        }
        for (int g = 0; g < child.n_genes; g++) {
            kinds[child.genes[g].kind]++;
        }
        max_genes_seen = child.n_genes > max_genes_seen ? child.n_genes : max_genes_seen;
        pop[(int)kz_rng_int(&r, 0, N - 1)] = child;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(max_genes_seen, 5);
    CHECK(changed > 1300 * 95 / 100); /* forced mutation changes (almost) every time */
    CHECK(kinds[KZ_GENE_TA] > 0 && kinds[KZ_GENE_ML] > 0 && kinds[KZ_GENE_MARKET] > 0);
    /* every column a decoded genome reads is computable: prepare a sample on a real set */
    kz_colset *work = NULL;
    CHECK(kz_colset_new(kz_colset_market(cs), &work, &err) == KZ_OK);
    for (size_t i = 0; i < kz_colset_count(cs); i++) {
        if (kz_colset_find(work, kz_colset_name(cs, i)) < 0) {
            CHECK(kz_colset_add(work, kz_colset_name(cs, i), kz_colset_data(cs, i), 0, &err) ==
                  KZ_OK);
        }
    }
    kz_bt_params bp = kz_bt_params_default();
    for (int i = 0; i < N; i++) {
        kz_strategy s;
        kz_bt_result res;
        CHECK(kz_genome_decode(&pop[i], NULL, &s, &err) == KZ_OK);
        CHECK_MSG(kz_colset_prepare(work, &s, &err) == KZ_OK, "%s: %s", err.field, err.msg);
        CHECK(kz_backtest(work, &s, &bp, &res, &err) == KZ_OK);
        kz_bt_result_free(&res);
    }
    kz_colset_free(work);
    kz_ga_space_free(sp);
    printf("operators: %d ops, %d mutations changed the genome\n", ops, changed);
}

static void test_decode_roundtrip_and_distance(const kz_colset *cs)
{
    kz_ga_space *sp = NULL;
    kz_error err;
    CHECK(kz_ga_space_new(cs, KZ_GA_MIXED, 5, &sp, &err) == KZ_OK);
    kz_rng r;
    kz_rng_seed(&r, 11);
    for (int it = 0; it < 300; it++) {
        kz_genome g, h;
        kz_genome_random(sp, &r, &g);
        kz_genome_random(sp, &r, &h);
        kz_strategy s1, s2, back;
        CHECK(kz_genome_decode(&g, "rt", &s1, &err) == KZ_OK);
        CHECK(kz_genome_decode(&g, "rt", &s2, &err) == KZ_OK);
        CHECK(strategy_equal(&s1, &s2)); /* deterministic decoding */
        char *json = NULL;
        CHECK(kz_strategy_to_json(&s1, &json) == KZ_OK);
        CHECK(kz_strategy_from_json(json, strlen(json), "rt", &back, &err) == KZ_OK);
        CHECK(strategy_equal(&s1, &back));
        CHECK(memcmp(&s1.tpsl, &back.tpsl, sizeof s1.tpsl) == 0);
        CHECK(memcmp(&s1.sizing, &back.sizing, sizeof s1.sizing) == 0);
        for (int k = 0; k < s1.long_entry.n_conds; k++) {
            CHECK(strcmp(s1.long_entry.conds[k].left, back.long_entry.conds[k].left) == 0);
            CHECK(s1.long_entry.conds[k].right_value == back.long_entry.conds[k].right_value);
        }
        kz_free(json);
        CHECK(kz_genome_equal(&g, &g));
        CHECK(kz_genome_distance(&g, &g) == 0);
        double d = kz_genome_distance(&g, &h);
        CHECK(d >= 0 && d <= 1);
        CHECK(d == kz_genome_distance(&h, &g));
        if (!kz_genome_equal(&g, &h)) {
            CHECK(d > 0 || g.tpsl.rr != h.tpsl.rr || g.genes[0].params[0] != h.genes[0].params[0]);
        }
    }
    /* a hand-made genome decodes to the rule text we expect */
    kz_genome g;
    memset(&g, 0, sizeof g);
    g.n_genes = 2;
    g.genes[0].kind = KZ_GENE_TA;
    snprintf(g.genes[0].name, sizeof g.genes[0].name, "RSI");
    g.genes[0].params[0] = 14;
    g.genes[1].kind = KZ_GENE_ML;
    snprintf(g.genes[1].name, sizeof g.genes[1].name, "ML_UP_PROB");
    g.long_entry.n_conds = 2;
    g.long_entry.conds[0] = (kz_gcond){0, 0, KZ_OP_CROSS_ABOVE, KZ_RHS_CONST, 0, 0, 30};
    g.long_entry.conds[1] = (kz_gcond){1, 0, KZ_OP_GT, KZ_RHS_CONST, 0, 0, 0.62};
    g.short_entry.n_conds = 1;
    g.short_entry.conds[0] = (kz_gcond){0, 0, KZ_OP_GT, KZ_RHS_CONST, 0, 0, 70};
    g.tpsl = kz_strategy_default().tpsl;
    g.sizing = kz_strategy_default().sizing;
    kz_strategy s;
    CHECK(kz_genome_decode(&g, "hand", &s, &err) == KZ_OK);
    char *json = NULL;
    CHECK(kz_strategy_to_json(&s, &json) == KZ_OK);
    CHECK_STR_CONTAINS(json, "RSI(timeperiod=14) crosses_above 30");
    CHECK_STR_CONTAINS(json, "ML_UP_PROB > 0.62");
    kz_free(json);
    /* an unused gene, a bad index and a bad parameter are rejected with the field named */
    kz_genome bad = g;
    bad.n_genes = 3;
    bad.genes[2] = g.genes[0];
    CHECK(kz_genome_check(&bad, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "genes[2]") == 0);
    bad = g;
    bad.long_entry.conds[1].gene = 4;
    CHECK(kz_genome_check(&bad, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "long_entry[1]") == 0);
    bad = g;
    bad.genes[0].params[0] = 1; /* RSI needs >= 2 */
    CHECK(kz_genome_check(&bad, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "genes[0].params") == 0);
    kz_ga_space_free(sp);
}

static void test_dsr_golden(void)
{
    /* references: Python statistics.NormalDist with the same formulas (docs/ga.md) */
    CHECK_NEAR(kz_deflated_sharpe(0.1, 101, 0, 3, 1, 0), 0.8407413278013518, 1e-12);
    CHECK_NEAR(kz_deflated_sharpe(0.08, 2000, -0.5, 6, 100, 0.0004), 0.9003410332584769, 1e-10);
    /* more trials deflate more */
    CHECK(kz_deflated_sharpe(0.05, 2000, 0, 3, 1000, 0.0004) <
          kz_deflated_sharpe(0.05, 2000, 0, 3, 10, 0.0004));
    CHECK(isnan(kz_deflated_sharpe(0.05, 1, 0, 3, 10, 0.0004)));
}

static void test_params(void)
{
    kz_ga_params p = kz_ga_params_default();
    kz_error err;
    CHECK_EQ_INT(p.population, 100);
    CHECK_EQ_INT(p.generations, 50);
    CHECK_NEAR(p.crossover_rate, 0.8, 0);
    CHECK_NEAR(p.mutation_rate, 0.1, 0);
    CHECK_EQ_INT(p.elite, 10);
    CHECK(kz_ga_params_check(&p, &err) == KZ_OK);
    CHECK(kz_ga_params_preset(&p, "thorough") == KZ_OK);
    CHECK_EQ_INT(p.population, 200);
    CHECK_EQ_INT(p.generations, 100);
    CHECK_EQ_INT(p.elite, 20);
    CHECK(kz_ga_params_preset(&p, "fast") == KZ_OK);
    CHECK_EQ_INT(p.population, 10);
    CHECK_EQ_INT(p.max_genes, 3);
    CHECK(kz_ga_params_preset(&p, "fastest") == KZ_ERR_INVALID);
    p.elite = p.population;
    CHECK(kz_ga_params_check(&p, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "elite") == 0);
    kz_ga_mode m;
    CHECK(kz_ga_mode_parse("ML", &m) == KZ_OK && m == KZ_GA_ML);
    CHECK(kz_ga_mode_parse("deep", &m) == KZ_ERR_INVALID);
}

/* ---------------------------------------------------------------- runs */
static void stop_after_two(const kz_ga_gen *g, int n_gen, void *ud)
{
    (void)n_gen;
    if (g->generation == 2) {
        atomic_store((atomic_int *)ud, 1);
    }
}

static int same_result(const kz_ga_result *a, const kz_ga_result *b)
{
    int eq = a->n_evals == b->n_evals && a->n_top == b->n_top && a->n_history == b->n_history &&
             a->trials_sharpe_var == b->trials_sharpe_var;
    for (size_t g = 0; eq && g < a->n_history; g++) {
        kz_ga_gen x = a->history[g], y = b->history[g];
        x.n_columns = y.n_columns = 0; /* the cache's size is not part of the result */
        eq = memcmp(&x, &y, sizeof x) == 0;
    }
    for (size_t k = 0; eq && k < a->n_top; k++) {
        eq = kz_genome_equal(&a->top[k].genome, &b->top[k].genome) &&
             a->top[k].fitness == b->top[k].fitness &&
             memcmp(&a->top[k].oos, &b->top[k].oos, sizeof a->top[k].oos) == 0 &&
             a->top[k].dsr == b->top[k].dsr;
    }
    return eq;
}

static void test_run_invariants(const kz_colset *cs)
{
    kz_ga_params p = small_params(24, 6);
    kz_ga_result r1, r2, r4, again;
    kz_error err;
    p.threads = 1;
    CHECK(kz_ga_run(cs, &p, &r1, &err) == KZ_OK);
    p.threads = 2;
    CHECK(kz_ga_run(cs, &p, &r2, &err) == KZ_OK);
    p.threads = 4;
    CHECK(kz_ga_run(cs, &p, &r4, &err) == KZ_OK);
    CHECK(kz_ga_run(cs, &p, &again, &err) == KZ_OK);
    CHECK(same_result(&r1, &r2));
    CHECK(same_result(&r1, &r4));
    CHECK(same_result(&r4, &again));
    /* elitism: the best fitness never decreases; history has every generation */
    CHECK_EQ_INT(r1.n_history, 7);
    for (size_t g = 1; g < r1.n_history; g++) {
        CHECK(r1.history[g].best_fitness >= r1.history[g - 1].best_fitness);
        CHECK(r1.history[g].n_evals > r1.history[g - 1].n_evals);
        CHECK(r1.history[g].mean_fitness <= r1.history[g].best_fitness);
    }
    /* evaluations: the initial population, then every non-elite child */
    CHECK_EQ_INT(r1.n_evals, 24 + 6 * (24 - p.elite));
    /* top-K: sorted, distinct, the best equals the last generation's best */
    CHECK_EQ_INT(r1.n_top, 5);
    CHECK(r1.top[0].fitness == r1.history[r1.n_history - 1].best_fitness);
    for (size_t k = 1; k < r1.n_top; k++) {
        CHECK(r1.top[k].fitness <= r1.top[k - 1].fitness);
        CHECK(!kz_genome_equal(&r1.top[k].genome, &r1.top[k - 1].genome));
    }
    /* split: default 30 % OOS with a gap of n/100 */
    size_t n = kz_colset_n_bars(cs);
    size_t oos = (size_t)floor((double)n * 0.3);
    CHECK_EQ_INT(r1.oos_end, n);
    CHECK_EQ_INT(r1.oos_begin, n - oos);
    CHECK_EQ_INT(r1.is_end, n - oos - n / 100);
    CHECK_EQ_INT(r1.top[0].is.n_bars, r1.is_end);
    CHECK_EQ_INT(r1.top[0].oos.n_bars, oos);
    CHECK(r1.top[0].dsr >= 0 && r1.top[0].dsr <= 1);
    CHECK(r1.trials_sharpe_var > 0);
    /* the strategy JSON replays exactly on all bars */
    const kz_market *m = kz_colset_market(cs);
    char *json = NULL;
    kz_strategy s;
    CHECK(kz_strategy_to_json(&r1.top[0].strategy, &json) == KZ_OK);
    CHECK(kz_strategy_from_json(json, strlen(json), "top", &s, &err) == KZ_OK);
    kz_free(json);
    kz_colset *fresh = NULL;
    CHECK(kz_colset_new(m, &fresh, &err) == KZ_OK);
    for (size_t i = 0; i < kz_colset_count(cs); i++) {
        if (kz_colset_find(fresh, kz_colset_name(cs, i)) < 0) {
            CHECK(kz_colset_add(fresh, kz_colset_name(cs, i), kz_colset_data(cs, i), 1, &err) ==
                  KZ_OK);
        }
    }
    kz_bt_params bp = kz_bt_params_default();
    kz_bt_result br;
    CHECK(kz_colset_prepare(fresh, &s, &err) == KZ_OK);
    CHECK(kz_backtest(fresh, &s, &bp, &br, &err) == KZ_OK);
    CHECK(memcmp(&br.m, &r1.top[0].full, sizeof br.m) == 0);
    kz_bt_result_free(&br);
    kz_colset_free(fresh);
    /* a tiny cache bound forces rebuilds and changes nothing */
    kz_ga_result rb;
    p.max_columns = 64;
    CHECK(kz_ga_run(cs, &p, &rb, &err) == KZ_OK);
    CHECK(rb.n_cache_rebuilds > 0);
    CHECK(same_result(&r1, &rb));
    printf("run: best IS fitness %.4f (Sharpe %.2f, OOS Sharpe %.2f, DSR %.3f), %zu evals, "
           "%zu cache rebuilds at 64 columns\n",
           r1.top[0].fitness, r1.top[0].is.sharpe, r1.top[0].oos.sharpe, r1.top[0].dsr, r1.n_evals,
           rb.n_cache_rebuilds);
    /* JSON report */
    char *text = NULL;
    CHECK(kz_ga_result_to_json(&r1, &text) == KZ_OK);
    CHECK_STR_CONTAINS(text, "\"out_of_sample\"");
    CHECK_STR_CONTAINS(text, "\"dsr\"");
    CHECK_STR_CONTAINS(text, "\"long_entry\"");
    kz_free(text);
    /* stop flag: ends after generation 2 with the best so far */
    atomic_int stop;
    atomic_init(&stop, 0);
    kz_ga_result rs;
    p.max_columns = 0;
    p.stop = &stop;
    p.progress = stop_after_two;
    p.progress_ud = &stop;
    CHECK(kz_ga_run(cs, &p, &rs, &err) == KZ_OK);
    CHECK(rs.stopped == 1);
    CHECK_EQ_INT(rs.generations_run, 2);
    CHECK_EQ_INT(rs.n_history, 3);
    CHECK(rs.n_top == 5 && rs.top[0].fitness == rs.history[2].best_fitness);
    CHECK(memcmp(rs.history, r1.history, 3 * sizeof *rs.history) == 0);
    kz_ga_result_free(&rs);
    kz_ga_result_free(&rb);
    kz_ga_result_free(&r1);
    kz_ga_result_free(&r2);
    kz_ga_result_free(&r4);
    kz_ga_result_free(&again);
}

/* Mean best IS fitness of the GA vs random search with the same number of evaluations. */
static void test_beats_random(const kz_colset *cs)
{
    double ga = 0, rnd = 0;
    kz_error err;
    const int seeds = 3;
    for (int k = 0; k < seeds; k++) {
        kz_ga_params p = small_params(30, 15);
        p.mode = KZ_GA_TECHNICAL;
        p.seed = 100 + (uint64_t)k;
        kz_ga_result a, b;
        CHECK(kz_ga_run(cs, &p, &a, &err) == KZ_OK);
        p.population = (int)a.n_evals;
        p.generations = 0;
        p.elite = 0;
        CHECK(kz_ga_run(cs, &p, &b, &err) == KZ_OK);
        CHECK_EQ_INT(b.n_evals, a.n_evals);
        ga += a.top[0].fitness / seeds;
        rnd += b.top[0].fitness / seeds;
        kz_ga_result_free(&a);
        kz_ga_result_free(&b);
    }
    printf("GA vs random search (same evaluations, mean of %d seeds): %.4f vs %.4f\n", seeds, ga,
           rnd);
    CHECK(ga > rnd);
}

static int reads(const kz_strategy *s, const char *col)
{
    const kz_rule *rules[2] = {&s->long_entry, &s->short_entry};
    for (int r = 0; r < 2; r++) {
        for (int k = 0; k < rules[r]->n_conds; k++) {
            const kz_condition *c = &rules[r]->conds[k];
            if (strcmp(c->left, col) == 0 || (!c->right_is_const && strcmp(c->right, col) == 0)) {
                return 1;
            }
        }
    }
    return 0;
}

static void test_planted_edge_ml_mode(void)
{
    kz_market m;
    double *cols[3];
    kz_planted_market(3000, 5, 3000, 1.0, &m, cols);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    /* ML mode refuses without ML columns */
    kz_ga_params p = small_params(30, 8);
    p.mode = KZ_GA_ML;
    kz_ga_result r;
    CHECK(kz_ga_run(cs, &p, &r, &err) == KZ_ERR_NOT_FOUND);
    CHECK(strcmp(err.field, "ML_UP_PROB") == 0);
    CHECK(kz_colset_add(cs, "ML_UP_PROB", cols[0], 0, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "ML_DOWN_PROB", cols[1], 0, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "ML_RANGE_PROB", cols[2], 0, &err) == KZ_OK);
    CHECK(kz_ga_run(cs, &p, &r, &err) == KZ_OK);
    const kz_ga_entry *b = &r.top[0];
    CHECK(reads(&b->strategy, "ML_UP_PROB") || reads(&b->strategy, "ML_DOWN_PROB"));
    for (size_t k = 0; k < r.n_top; k++) { /* ML mode: only ML columns */
        for (int g = 0; g < r.top[k].genome.n_genes; g++) {
            CHECK(r.top[k].genome.genes[g].kind == KZ_GENE_ML);
        }
    }
    CHECK(b->oos.total_return > 0.2);
    CHECK(b->oos.sharpe > 2);
    CHECK(b->oos_psr > 0.95);
    printf("planted edge: IS Sharpe %.2f, OOS Sharpe %.2f, OOS return %.1f %%, %zu OOS trades\n",
           b->is.sharpe, b->oos.sharpe, 100 * b->oos.total_return, b->oos.n_trades);
    kz_ga_result_free(&r);
    /* mixed mode finds it too, among ~85 other gene kinds */
    p.mode = KZ_GA_MIXED;
    p.population = 40;
    p.generations = 10;
    CHECK(kz_ga_run(cs, &p, &r, &err) == KZ_OK);
    CHECK(reads(&r.top[0].strategy, "ML_UP_PROB") || reads(&r.top[0].strategy, "ML_DOWN_PROB"));
    CHECK(r.top[0].oos.total_return > 0);
    kz_ga_result_free(&r);
    /* NSGA-II: the front is mutually non-dominated on (IS return, IS drawdown) */
    p.nsga2 = 1;
    p.population = 24;
    p.generations = 5;
    CHECK(kz_ga_run(cs, &p, &r, &err) == KZ_OK);
    CHECK(r.n_front >= 1);
    for (size_t i = 0; i < r.n_front; i++) {
        if (i > 0) {
            CHECK(r.front[i].is.cagr <= r.front[i - 1].is.cagr);
        }
        for (size_t j = 0; j < r.n_front; j++) {
            const kz_bt_metrics *x = &r.front[i].is, *y = &r.front[j].is;
            int dom = x->cagr >= y->cagr && x->max_drawdown <= y->max_drawdown &&
                      (x->cagr > y->cagr || x->max_drawdown < y->max_drawdown);
            CHECK(!(dom && r.front[j].is.n_trades >= 10 && r.front[j].is.max_drawdown <= 0.3 &&
                    x->n_trades >= 10 && x->max_drawdown <= 0.3));
        }
    }
    kz_ga_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
    for (int k = 0; k < 3; k++) {
        free(cols[k]);
    }
}

static void add_index(size_t i, void *ud)
{
    atomic_fetch_add((atomic_size_t *)ud, i + 1);
}

static void test_parallel_for(void)
{
    for (int t = 0; t <= 5; t++) {
        atomic_size_t sum;
        atomic_init(&sum, 0);
        kz_parallel_for(1000, t, add_index, &sum);
        CHECK_EQ_INT(atomic_load(&sum), 1000 * 1001 / 2);
    }
    CHECK(kz_cpu_count() >= 1);
}

int main(void)
{
    test_params();
    test_dsr_golden();
    test_parallel_for();
    kz_market m;
    kz_colset *cs = synth_colset(&m, 3000, 3);
    test_operators_fuzz(cs);
    test_decode_roundtrip_and_distance(cs);
    test_run_invariants(cs);
    test_beats_random(cs);
    kz_colset_free(cs);
    kz_market_free(&m);
    test_planted_edge_ml_mode();
    KZ_TEST_DONE();
}
