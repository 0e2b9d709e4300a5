/* `kizashi optimize bench|run`: the Bayesian optimiser's benchmark table (the same as
 * bench/bench_bayesopt) and a single run on a standard test function with JSON save, resume and
 * an SVG convergence plot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/optim.h"

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi optimize bench [options]\n"
    "       kizashi optimize run --function NAME [options]\n"
    "\n"
    "bench: Branin and Hartmann-6 over several seeds; median/min/max best value after 50 and\n"
    "       100 evaluations, median ms per iteration (GP fit + acquisition), next to the\n"
    "       scikit-optimize reference and the targets of issue 8.\n"
    "run:   minimise one test function (branin hartmann3 hartmann6 rosenbrock) and print the\n"
    "       best point; --json saves the run, --resume continues a saved run exactly.\n"
    "\n"
    "options:\n"
    "  --seeds N          bench: seeds 1..N (default 10)\n"
    "  --calls N          run: total evaluations (default 50)\n"
    "  --seed N           run: random seed (default 42)\n"
    "  --batch Q          run: points suggested per batch (constant liar, default 1)\n"
    "  --acq NAME         ei pi lcb hedge (default ei)\n"
    "  --init NAME        initial design: sobol lhs random (default sobol)\n"
    "  --initial N        initial design size (default 10)\n"
    "  --json FILE        run: save the run (params, history, convergence) as JSON\n"
    "  --resume FILE      run: continue the run saved in FILE up to --calls evaluations\n"
    "  --plot FILE        run: write the convergence plot as SVG\n";

typedef struct opt_args {
    const char *seeds, *calls, *seed, *batch, *acq, *init, *initial, *json, *resume, *plot,
        *function;
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

int cmd_optimize(cli_ctx *ctx, int argc, char **argv)
{
    opt_args a;
    memset(&a, 0, sizeof a);
    int n_pos = 0;
    const cli_opt opts[] = {
        {"seeds", CLI_STR, &a.seeds, NULL},       {"calls", CLI_STR, &a.calls, NULL},
        {"seed", CLI_STR, &a.seed, NULL},         {"batch", CLI_STR, &a.batch, NULL},
        {"acq", CLI_STR, &a.acq, NULL},           {"init", CLI_STR, &a.init, NULL},
        {"initial", CLI_STR, &a.initial, NULL},   {"json", CLI_STR, &a.json, NULL},
        {"resume", CLI_STR, &a.resume, NULL},     {"plot", CLI_STR, &a.plot, NULL},
        {"function", CLI_STR, &a.function, NULL},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 1) {
        return cli_usage_error(USAGE, n_pos ? "unexpected argument '%s'" : "missing sub-command%s",
                               n_pos ? argv[2] : "");
    }
    if (strcmp(argv[1], "bench") == 0) {
        return do_bench(&a);
    }
    if (strcmp(argv[1], "run") == 0) {
        return do_run(&a);
    }
    return cli_usage_error(USAGE, "unknown sub-command '%s'", argv[1]);
}
