/* `kizashi optimize bench|run|ml|ga`: the Bayesian optimiser's benchmark table (the same as
 * bench/bench_bayesopt), a single run on a standard test function with JSON save, resume and an
 * SVG convergence plot, and the tuning of the model's hyper-parameters and of the strategy GA's
 * settings on stored market data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/model.h"
#include "kizashi/optim.h"
#include "kizashi/signals.h"
#include "kizashi/strategy.h"

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi optimize bench [options]\n"
    "       kizashi optimize run --function NAME [options]\n"
    "       kizashi optimize ml --symbol SYMBOL [options]\n"
    "       kizashi optimize ga --symbol SYMBOL [options]\n"
    "\n"
    "bench: Branin and Hartmann-6 over several seeds; median/min/max best value after 50 and\n"
    "       100 evaluations, median ms per iteration (GP fit + acquisition), next to the\n"
    "       scikit-optimize reference and the targets of issue 8.\n"
    "run:   minimise one test function (branin hartmann3 hartmann6 rosenbrock) and print the\n"
    "       best point; --json saves the run, --resume continues a saved run exactly.\n"
    "ml:    tune num_leaves, learning_rate (log), feature_fraction, bagging_fraction and\n"
    "       min_data_in_leaf (SPEC 5's space) by minimising the validation (or walk-forward)\n"
    "       mlogloss; only the bars before the test segment are read while tuning. Then trains\n"
    "       the final model with the best params and prints its TEST metrics once.\n"
    "ga:    tune the GA's population, generations, crossover and mutation rates and sharing\n"
    "       radius (SPEC 5's space) by maximising the fitness of each run's best strategy on a\n"
    "       tuning window after its in-sample window; the last bars (the holdout) are never\n"
    "       read while tuning. Then runs the GA once with the best settings and prints the\n"
    "       HOLDOUT metrics of its strategies.\n"
    "\n"
    "options:\n"
    "  --seeds N          bench: seeds 1..N (default 10)\n"
    "  --calls N          run, ga: total evaluations (default 50); ml: trainings (default 30)\n"
    "  --seed N           run, ml, ga: random seed (default 42; ga: also the GA runs' seed)\n"
    "  --batch Q          run: points suggested per batch (constant liar, default 1)\n"
    "  --acq NAME         ei pi lcb hedge (default ei)\n"
    "  --init NAME        initial design: sobol lhs random (default sobol)\n"
    "  --initial N        initial design size (default 10; ml: min(10, calls/3) as SPEC 5)\n"
    "  --json FILE        run, ml, ga: save the run (params, history, convergence) as JSON\n"
    "  --resume FILE      run: continue the run saved in FILE up to --calls evaluations\n"
    "  --plot FILE        run, ml, ga: write the convergence plot as SVG\n"
    "ml and ga options:\n"
    "  --exchange NAME    exchange of the bars (default binance)\n"
    "  --symbol SYMBOL    instrument (required)\n"
    "  --timeframe TF     1m 5m 15m 30m 1h 4h 1d (default 1h)\n"
    "  --from TIME, --to TIME  bars with from <= open time < to\n"
    "  --funding-exchange NAME, --oi-exchange NAME  FR / OI from another exchange\n"
    "  --objective NAME   valid (default) or walkforward (mean fold mlogloss on train+valid)\n"
    "  --folds K          walkforward objective: folds (default 5)\n"
    "  --horizon H        label horizon in bars (default 24)\n"
    "  --threshold-mode M fixed (default), vol, quantile\n"
    "  --rounds N         num_boost_round of every training (default 1000, early stopping 50)\n"
    "  --threads N        booster / GA threads (default 0 = all cores; GA results identical)\n"
    "  --out FILE         write the best params and score as JSON\n"
    "  --train-out FILE   save the final model (.kzm)\n"
    "  --quiet            no per-evaluation progress\n"
    "ga options:\n"
    "  --model FILE.kzm   a trained model: its ML_DOWN/RANGE/UP_PROB columns\n"
    "  --mode MODE        technical, ml or mixed (default: mixed with --model, else technical)\n"
    "  --tune-fraction F  tuning window, fraction of the bars (default 0.2)\n"
    "  --holdout-fraction F  final holdout, fraction of the bars (default 0.2)\n";

typedef struct opt_args {
    const char *seeds, *calls, *seed, *batch, *acq, *init, *initial, *json, *resume, *plot,
        *function;
    /* ml */
    cli_market_args mk;
    const char *objective, *folds, *horizon, *mode, *rounds, *threads, *out, *train_out;
    int quiet;
    /* ga */
    const char *model, *ga_mode, *tune_fraction, *holdout_fraction;
} opt_args;

static int parse_params(const opt_args *a, kz_bo_params *p)
{
    uint64_t v = 0;
    int rc;
    if (a->acq && kz_acq_parse(a->acq, &p->acq) != KZ_OK) {
        return cli_usage_error(USAGE, "--acq: unknown acquisition '%s'", a->acq);
    }
    if (a->init && kz_init_parse(a->init, &p->init) != KZ_OK) {
        return cli_usage_error(USAGE, "--init: unknown design '%s'", a->init);
    }
    if (a->initial) {
        if ((rc = cli_parse_u64(USAGE, "initial", a->initial, &v)) != CLI_CONTINUE) {
            return rc;
        }
        p->n_initial = (size_t)v;
    }
    if (a->seed) {
        if ((rc = cli_parse_u64(USAGE, "seed", a->seed, &v)) != CLI_CONTINUE) {
            return rc;
        }
        p->seed = v;
    }
    return CLI_CONTINUE;
}

static void progress(kz_log_level level, const char *msg, void *ud)
{
    (void)level;
    (void)ud;
    fprintf(stderr, "  %s\n", msg);
}

static int do_bench(const opt_args *a)
{
    kz_bo_bench_params p = kz_bo_bench_params_default();
    int rc = parse_params(a, &p.bo);
    uint64_t v = 0;
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (a->seeds) {
        if ((rc = cli_parse_u64(USAGE, "seeds", a->seeds, &v)) != CLI_CONTINUE) {
            return rc;
        }
        if (v == 0 || v > 1000) {
            return cli_usage_error(USAGE, "--seeds: must be in 1..1000");
        }
        p.n_seeds = (size_t)v;
    }
    p.progress = progress;
    kz_bo_bench_row rows[2];
    kz_status st = kz_bo_bench_run(&p, rows);
    if (st != KZ_OK) {
        cli_error("optimize bench", "%s", kz_status_str(st));
        return CLI_EXIT_RUNTIME;
    }
    size_t need = kz_bo_bench_format(&p, rows, 2, NULL, 0) + 1;
    char *text = malloc(need);
    if (!text) {
        cli_error("optimize bench", "out of memory");
        return CLI_EXIT_RUNTIME;
    }
    kz_bo_bench_format(&p, rows, 2, text, need);
    fputs(text, stdout);
    free(text);
    return CLI_EXIT_OK;
}

static int testfn_obj(const double *x, void *ud, double *y)
{
    const kz_testfn *fn = ud;
    *y = fn->f(x);
    return 0;
}

static int do_run(const opt_args *a)
{
    const kz_testfn *fn = kz_testfn_get(a->function);
    kz_bo_params p = kz_bo_params_default();
    uint64_t calls = 50, q = 1;
    int rc;
    if (!a->function) {
        return cli_usage_error(USAGE, "run: --function is required");
    }
    if (!fn) {
        return cli_usage_error(USAGE, "--function: unknown test function '%s'", a->function);
    }
    if ((rc = parse_params(a, &p)) != CLI_CONTINUE ||
        (a->calls && (rc = cli_parse_u64(USAGE, "calls", a->calls, &calls)) != CLI_CONTINUE) ||
        (a->batch && (rc = cli_parse_u64(USAGE, "batch", a->batch, &q)) != CLI_CONTINUE)) {
        return rc;
    }
    if (q == 0 || q > 1000) {
        return cli_usage_error(USAGE, "--batch: must be in 1..1000");
    }
    kz_error err;
    kz_space *space = NULL;
    kz_bo *bo = NULL;
    rc = CLI_EXIT_RUNTIME;
    kz_status st = a->resume                              ? kz_bo_load_json(a->resume, &bo, &err)
                   : kz_testfn_space(fn, &space) == KZ_OK ? kz_bo_new(space, &p, &bo, &err)
                                                          : KZ_ERR_NOMEM;
    if (st != KZ_OK) {
        char buf[1024];
        cli_error(a->resume ? a->resume : "optimize run", "%s",
                  st == KZ_ERR_NOMEM ? "out of memory" : kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    if (kz_space_n_dims(kz_bo_space(bo)) != fn->n_dims) {
        cli_error("optimize run", "the saved run has %zu dimensions, %s has %zu",
                  kz_space_n_dims(kz_bo_space(bo)), fn->name, fn->n_dims);
        goto done;
    }
    if ((st = kz_bo_minimize(bo, testfn_obj, (void *)fn, (size_t)calls, (size_t)q)) != KZ_OK) {
        cli_error("optimize run", "%s", kz_bo_errmsg(bo));
        goto done;
    }
    kz_bo_summary sm;
    kz_bo_summary_get(bo, &sm);
    char b1[32], b2[32];
    printf("function %s, %zu evaluations (%zu failed, %zu fallback), seed %llu\n", fn->name,
           sm.n_evals, sm.n_failed, sm.n_fallback, (unsigned long long)sm.seed);
    if (sm.has_best) {
        printf("best %s at evaluation %zu (known minimum %s):", cli_fmt_double(sm.best_y, b1),
               sm.best_iteration, cli_fmt_double(fn->f_min, b2));
        for (size_t j = 0; j < fn->n_dims; j++) {
            printf(" %s", cli_fmt_double(sm.best_x[j], b1));
        }
        printf("\n");
    }
    if (a->json && kz_bo_save_json(bo, a->json, &err) != KZ_OK) {
        char buf[1024];
        cli_error("--json", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    if (a->plot && kz_bo_plot_svg(bo, a->plot, &err) != KZ_OK) {
        char buf[1024];
        cli_error("--plot", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    kz_bo_free(bo);
    kz_space_free(space);
    return rc;
}

/* ---------------------------------------------------------------- optimize ml */
/* Parse an integer option into [lo, hi]. */
static int parse_int_in(const char *opt, const char *s, uint64_t lo, uint64_t hi, int *out)
{
    uint64_t v = 0;
    int rc = cli_parse_u64(USAGE, opt, s, &v);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (v < lo || v > hi) {
        return cli_usage_error(USAGE, "--%s: must be in %llu..%llu", opt, (unsigned long long)lo,
                               (unsigned long long)hi);
    }
    *out = (int)v;
    return CLI_CONTINUE;
}

/* Training and tuning settings from the ml options. */
static int ml_params(const opt_args *a, kz_train_params *p, kz_tune_params *t)
{
    int rc, v = 0;
    if ((rc = parse_params(a, &t->bo)) != CLI_CONTINUE) {
        return rc;
    }
    if (a->calls) {
        if ((rc = parse_int_in("calls", a->calls, 1, 100000, &v)) != CLI_CONTINUE) {
            return rc;
        }
        t->n_calls = (size_t)v;
    }
    if (!a->initial) {
        /* SPEC §5: n_initial_points = min(10, n_calls // 3), at least one. */
        size_t k = t->n_calls / 3;
        t->bo.n_initial = k < 1 ? 1 : (k > 10 ? 10 : k);
    }
    if (a->objective && kz_tune_objective_parse(a->objective, &t->objective) != KZ_OK) {
        return cli_usage_error(USAGE, "--objective: '%s' is not valid or walkforward",
                               a->objective);
    }
    if (a->folds && (rc = parse_int_in("folds", a->folds, 1, KZ_WF_MAX_FOLDS, &t->wf.n_folds)) !=
                        CLI_CONTINUE) {
        return rc;
    }
    if (a->horizon &&
        (rc = parse_int_in("horizon", a->horizon, 1, 100000, &p->label.horizon)) != CLI_CONTINUE) {
        return rc;
    }
    if (a->mode && kz_label_mode_parse(a->mode, &p->label.mode) != KZ_OK) {
        return cli_usage_error(USAGE, "--threshold-mode: '%s' is not fixed, vol or quantile",
                               a->mode);
    }
    if (a->rounds && (rc = parse_int_in("rounds", a->rounds, 1, 100000,
                                        &p->booster.num_boost_round)) != CLI_CONTINUE) {
        return rc;
    }
    if (a->threads && (rc = parse_int_in("threads", a->threads, 0, 1024,
                                         &p->booster.num_threads)) != CLI_CONTINUE) {
        return rc;
    }
    return CLI_CONTINUE;
}

static void print_booster(const kz_booster_params *b)
{
    char v[32];
    printf("  num_leaves        %d\n", b->num_leaves);
    printf("  learning_rate     %s\n", cli_fmt_double(b->learning_rate, v));
    printf("  feature_fraction  %s\n", cli_fmt_double(b->feature_fraction, v));
    printf("  bagging_fraction  %s\n", cli_fmt_double(b->bagging_fraction, v));
    printf("  min_data_in_leaf  %g\n", b->min_data_in_leaf);
}

static int
on_eval(size_t it, size_t n, const kz_booster_params *b, double score, double best, void *ud)
{
    (void)ud;
    fprintf(stderr,
            "eval %3zu/%zu  mlogloss %.5f  best %.5f  (num_leaves %d, learning_rate %.4f, "
            "feature_fraction %.3f, bagging_fraction %.3f, min_data_in_leaf %g)\n",
            it + 1, n, score, best, b->num_leaves, b->learning_rate, b->feature_fraction,
            b->bagging_fraction, b->min_data_in_leaf);
    return 0;
}

/* Write text to path; CLI_EXIT_OK or CLI_EXIT_RUNTIME after printing why. */
static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) {
        ok = 0;
    }
    if (!ok) {
        cli_error(path, "cannot write the file");
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

/* After tuning: report, save the run, train the final model and print its test metrics. */
/* The files a tuning run writes: --out (the result JSON `js`, freed here; NULL without --out),
 * --json (the optimiser's history) and --plot (its convergence SVG). CLI_EXIT_OK or
 * CLI_EXIT_RUNTIME after printing why. */
static int write_outputs(const opt_args *a, const kz_bo *bo, char *js)
{
    kz_error err;
    char buf[1024];
    int rc = js ? write_text(a->out, js) : CLI_EXIT_OK;
    kz_free(js);
    if (rc == CLI_EXIT_OK && a->json && kz_bo_save_json(bo, a->json, &err) != KZ_OK) {
        cli_error("--json", "%s", kz_error_format(&err, buf, sizeof buf));
        rc = CLI_EXIT_RUNTIME;
    }
    if (rc == CLI_EXIT_OK && a->plot && kz_bo_plot_svg(bo, a->plot, &err) != KZ_OK) {
        cli_error("--plot", "%s", kz_error_format(&err, buf, sizeof buf));
        rc = CLI_EXIT_RUNTIME;
    }
    return rc;
}

static int ml_finish(const opt_args *a,
                     const kz_market *m,
                     const kz_train_params *p,
                     const kz_tune_result *r,
                     const kz_bo *bo)
{
    kz_error err;
    char buf[1024];
    printf("best of %zu evaluations (%zu failed): evaluation %zu, seed %llu\n", r->n_evals,
           r->n_failed, r->best_iteration + 1, (unsigned long long)r->seed);
    print_booster(&r->best);
    printf("%s mlogloss %.5f\n\n",
           r->objective == KZ_TUNE_VALID ? "validation" : "walk-forward (mean of folds)",
           r->best_score);
    char *js = NULL;
    if (a->out && kz_tune_result_to_json(r, &js) != KZ_OK) {
        cli_error("--out", "out of memory");
        return CLI_EXIT_RUNTIME;
    }
    int rc = write_outputs(a, bo, js);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    kz_train_params fin = *p;
    fin.booster = r->best;
    kz_model *model = NULL;
    if (kz_model_train(m, &fin, &model, &err) != KZ_OK) {
        cli_error("train", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    printf("final model: %zu features, %d rounds, validation mlogloss %.5f\n",
           kz_model_n_features(model), kz_model_n_rounds(model), kz_model_valid_loss(model));
    printf("TEST metrics of the final model (read once, after tuning):\n");
    cli_print_metrics(kz_model_metrics(model), 0);
    if (a->train_out) {
        if (kz_model_save(model, a->train_out, &err) != KZ_OK) {
            cli_error("--train-out", "%s", kz_error_format(&err, buf, sizeof buf));
            rc = CLI_EXIT_RUNTIME;
        } else {
            printf("saved %s\n", a->train_out);
        }
    }
    kz_model_free(model);
    return rc;
}

static int do_ml(cli_ctx *ctx, opt_args *a)
{
    kz_train_params p = kz_train_params_default();
    kz_tune_params t = kz_tune_params_default();
    int rc;
    if ((rc = ml_params(a, &p, &t)) != CLI_CONTINUE) {
        return rc;
    }
    kz_market m;
    if ((rc = cli_load_market(ctx, USAGE, &a->mk, &m)) != CLI_CONTINUE) {
        return rc;
    }
    if (!a->quiet) {
        t.progress = on_eval;
    }
    kz_tune_result r;
    kz_bo *bo = NULL;
    kz_error err;
    kz_status s = kz_model_tune(&m, &p, &t, &r, &bo, &err);
    if (s == KZ_OK) {
        printf("tuned %s %s %s on %zu bars: objective %s, read bars [0, %zu) only; test segment "
               "rows [%zu, %zu) untouched\n",
               a->mk.exchange, a->mk.symbol, a->mk.tf_s, m.bars.n,
               kz_tune_objective_str(r.objective), r.n_bars_seen, r.split.test_begin,
               r.split.test_end);
        rc = ml_finish(a, &m, &p, &r, bo);
    } else {
        char buf[1024];
        cli_error("optimize ml", "%s", kz_error_format(&err, buf, sizeof buf));
        rc = CLI_EXIT_RUNTIME;
    }
    kz_bo_free(bo);
    kz_market_free(&m);
    return rc;
}

/* ---------------------------------------------------------------- optimize ga */
/* Parse a fraction option into (0, 0.8]. */
static int parse_fraction(const char *opt, const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0 && v <= 0.8)) {
        return cli_usage_error(USAGE, "--%s: '%s' is not a fraction in (0, 0.8]", opt, s);
    }
    *out = v;
    return CLI_CONTINUE;
}

/* GA and tuning settings from the ga options. */
static int ga_params(const opt_args *a, kz_ga_params *p, kz_ga_tune_params *t)
{
    int rc, v = 0;
    if ((rc = parse_params(a, &t->bo)) != CLI_CONTINUE) {
        return rc;
    }
    p->seed = t->bo.seed;
    if (a->calls) {
        if ((rc = parse_int_in("calls", a->calls, 1, 100000, &v)) != CLI_CONTINUE) {
            return rc;
        }
        t->n_calls = (size_t)v;
    }
    if (!a->initial) {
        /* as optimize ml (SPEC 5): min(10, n_calls // 3) initial points, at least one */
        size_t k = t->n_calls / 3;
        t->bo.n_initial = k < 1 ? 1 : (k > 10 ? 10 : k);
    }
    p->mode = a->model ? KZ_GA_MIXED : KZ_GA_TECHNICAL;
    if (a->ga_mode && kz_ga_mode_parse(a->ga_mode, &p->mode) != KZ_OK) {
        return cli_usage_error(USAGE, "--mode: '%s' is not technical, ml or mixed", a->ga_mode);
    }
    if (p->mode != KZ_GA_TECHNICAL && !a->model) {
        return cli_usage_error(USAGE,
                               "--mode %s needs ML probability columns: give a trained model "
                               "with --model FILE.kzm, or use --mode technical",
                               kz_ga_mode_str(p->mode));
    }
    if (a->threads &&
        (rc = parse_int_in("threads", a->threads, 0, 1024, &p->threads)) != CLI_CONTINUE) {
        return rc;
    }
    if ((a->tune_fraction && (rc = parse_fraction("tune-fraction", a->tune_fraction,
                                                  &t->tune_fraction)) != CLI_CONTINUE) ||
        (a->holdout_fraction && (rc = parse_fraction("holdout-fraction", a->holdout_fraction,
                                                     &t->holdout_fraction)) != CLI_CONTINUE)) {
        return rc;
    }
    return CLI_CONTINUE;
}

static int on_ga_eval(size_t it, size_t n, const kz_ga_params *p, double fit, double best, void *ud)
{
    (void)ud;
    fprintf(stderr,
            "eval %3zu/%zu  tuning fitness %.4f  best %.4f  (population %d, generations %d, "
            "crossover %.3f, mutation %.3f, sharing_radius %.3f)\n",
            it + 1, n, fit, best, p->population, p->generations, p->crossover_rate,
            p->mutation_rate, p->sharing_radius);
    return 0;
}

static void print_window(const char *what, const kz_market *m, size_t b, size_t e)
{
    char t0[32], t1[32];
    printf("  %-15s bars [%zu, %zu)  %s .. %s\n", what, b, e, kz_time_format(m->bars.ts_ms[b], t0),
           kz_time_format(m->bars.ts_ms[e - 1], t1));
}

/* After tuning: report, save, run the GA once with the best settings, print its holdout. */
static int
ga_finish(const opt_args *a, const kz_colset *cs, const kz_ga_tune_result *r, const kz_bo *bo)
{
    kz_error err;
    char buf[1024];
    const kz_ga_params *b = &r->best;
    printf("best of %zu evaluations (%zu failed): evaluation %zu, optimiser seed %llu, GA seed "
           "%llu\n",
           r->n_evals, r->n_failed, r->best_iteration + 1, (unsigned long long)r->seed,
           (unsigned long long)b->seed);
    printf("  population      %d\n  generations     %d\n", b->population, b->generations);
    printf("  crossover_rate  %.4f\n  mutation_rate   %.4f\n  sharing_radius  %.4f\n",
           b->crossover_rate, b->mutation_rate, b->sharing_radius);
    printf("  (elite %d, sharing on, mode %s; short_bias_rate not tuned: see docs/ga.md)\n",
           b->elite, kz_ga_mode_str(b->mode));
    printf("tuning-window fitness of the best strategy %.4f\n\n", r->best_fitness);
    char *js = NULL;
    if (a->out && kz_ga_tune_result_to_json(r, &js) != KZ_OK) {
        cli_error("--out", "out of memory");
        return CLI_EXIT_RUNTIME;
    }
    int rc = write_outputs(a, bo, js);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    kz_ga_result fin;
    if (kz_ga_tune_final(cs, r, &fin, &err) != KZ_OK) {
        cli_error("final run", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    printf("final GA run with these settings: in-sample [0, %zu), %zu strategies tried\n",
           fin.is_end, fin.n_evals);
    printf("HOLDOUT metrics (read once, after tuning):\n");
    printf("%4s %8s | %8s %6s | %8s %7s %7s %6s %6s %6s\n", "rank", "fitness", "IS ret%", "Sharpe",
           "ret%", "Sharpe", "maxDD%", "trades", "win%", "PSR");
    for (size_t k = 0; k < fin.n_top; k++) {
        const kz_ga_entry *x = &fin.top[k];
        printf("%4zu %8.3f | %8.2f %6.2f | %8.2f %7.2f %7.2f %6zu %6.1f %6.3f\n", k + 1, x->fitness,
               100 * x->is.total_return, x->is.sharpe, 100 * x->oos.total_return, x->oos.sharpe,
               100 * x->oos.max_drawdown, x->oos.n_trades, 100 * x->oos.win_rate, x->oos_psr);
    }
    if (fin.n_top > 0) {
        printf("buy and hold over the holdout: %.2f %%\n", 100 * fin.top[0].oos.buy_hold_return);
    }
    kz_ga_result_free(&fin);
    return CLI_EXIT_OK;
}

static int do_ga(cli_ctx *ctx, opt_args *a)
{
    kz_ga_params p = kz_ga_params_default();
    kz_ga_tune_params t = kz_ga_tune_params_default();
    int rc;
    if ((rc = ga_params(a, &p, &t)) != CLI_CONTINUE) {
        return rc;
    }
    kz_market m;
    if ((rc = cli_load_market(ctx, USAGE, &a->mk, &m)) != CLI_CONTINUE) {
        return rc;
    }
    kz_colset *cs = NULL;
    kz_bo *bo = NULL;
    kz_error err;
    char buf[1024];
    rc = CLI_EXIT_RUNTIME;
    if (kz_colset_new(&m, &cs, &err) != KZ_OK) {
        cli_error("optimize ga", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    if (a->model && (rc = cli_attach_model("optimize ga", cs, a->model, p.mode)) != CLI_CONTINUE) {
        goto done;
    }
    if (!a->quiet) {
        t.progress = on_ga_eval;
    }
    kz_ga_tune_result r;
    if (kz_ga_tune(cs, &p, &t, &r, &bo, &err) != KZ_OK) {
        cli_error("optimize ga", "%s", kz_error_format(&err, buf, sizeof buf));
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    printf("tuned the GA on %s %s %s, %zu bars, mode %s; the tuner read bars [0, %zu) only:\n",
           a->mk.exchange, a->mk.symbol, a->mk.tf_s, m.bars.n, kz_ga_mode_str(p.mode),
           r.n_bars_seen);
    print_window("in-sample", &m, 0, r.is_end);
    print_window("tuning window", &m, r.tune_begin, r.tune_end);
    print_window("holdout", &m, r.holdout_begin, r.n_bars);
    rc = ga_finish(a, cs, &r, bo);
done:
    kz_bo_free(bo);
    kz_colset_free(cs);
    kz_market_free(&m);
    return rc;
}

/* Sub-verbs. */
typedef struct sub_verb {
    const char *name;
    int (*fn)(cli_ctx *ctx, opt_args *a);
} sub_verb;

static int bench_verb(cli_ctx *ctx, opt_args *a)
{
    (void)ctx;
    return do_bench(a);
}

static int run_verb(cli_ctx *ctx, opt_args *a)
{
    (void)ctx;
    return do_run(a);
}

static const sub_verb SUB_VERBS[] = {
    {"bench", bench_verb}, {"run", run_verb}, {"ml", do_ml}, {"ga", do_ga}};

int cmd_optimize(cli_ctx *ctx, int argc, char **argv)
{
    opt_args a;
    memset(&a, 0, sizeof a);
    cli_market_args_init(&a.mk);
    a.mk.exchange = "binance";
    int n_pos = 0;
    const cli_opt opts[] = {
        {"seeds", CLI_STR, &a.seeds, NULL},
        {"calls", CLI_STR, &a.calls, NULL},
        {"seed", CLI_STR, &a.seed, NULL},
        {"batch", CLI_STR, &a.batch, NULL},
        {"acq", CLI_STR, &a.acq, NULL},
        {"init", CLI_STR, &a.init, NULL},
        {"initial", CLI_STR, &a.initial, NULL},
        {"json", CLI_STR, &a.json, NULL},
        {"resume", CLI_STR, &a.resume, NULL},
        {"plot", CLI_STR, &a.plot, NULL},
        {"function", CLI_STR, &a.function, NULL},
        CLI_MARKET_OPTS(a.mk),
        {"objective", CLI_STR, &a.objective, NULL},
        {"folds", CLI_STR, &a.folds, NULL},
        {"horizon", CLI_STR, &a.horizon, NULL},
        {"threshold-mode", CLI_STR, &a.mode, NULL},
        {"rounds", CLI_STR, &a.rounds, NULL},
        {"threads", CLI_STR, &a.threads, NULL},
        {"out", CLI_STR, &a.out, NULL},
        {"train-out", CLI_STR, &a.train_out, NULL},
        {"quiet", CLI_FLAG, NULL, &a.quiet},
        {"model", CLI_STR, &a.model, NULL},
        {"mode", CLI_STR, &a.ga_mode, NULL},
        {"tune-fraction", CLI_STR, &a.tune_fraction, NULL},
        {"holdout-fraction", CLI_STR, &a.holdout_fraction, NULL},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 1) {
        return cli_usage_error(USAGE, n_pos ? "unexpected argument '%s'" : "missing sub-command%s",
                               n_pos ? argv[2] : "");
    }
    for (size_t i = 0; i < sizeof SUB_VERBS / sizeof SUB_VERBS[0]; i++) {
        if (strcmp(argv[1], SUB_VERBS[i].name) == 0) {
            return SUB_VERBS[i].fn(ctx, &a);
        }
    }
    return cli_usage_error(USAGE, "unknown sub-command '%s'", argv[1]);
}
