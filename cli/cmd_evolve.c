/* `kizashi evolve`: the strategy search (docs/ga.md) on stored bars with funding and open
 * interest, plus a model's ML probability columns (--model); a single IS/OOS split or walk-forward
 * folds. Prints progress on stderr and the top-K table (in-sample and out-of-sample metrics, DSR),
 * writes the full report and the best strategy as JSON. Ctrl-C stops after the current
 * generation and reports the best so far. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kizashi/strategy.h"

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi evolve --exchange NAME --symbol SYMBOL [options]\n"
    "\n"
    "Evolve strategies with a genetic algorithm over TA indicators, market columns (funding,\n"
    "open-interest change) and ML probability columns. Fitness uses the in-sample window; the\n"
    "best strategies are re-run out of sample and deflated for the number of trials (DSR).\n"
    "\n"
    "options:\n"
    "  --exchange NAME          exchange of the bars\n"
    "  --symbol SYMBOL          instrument\n"
    "  --timeframe TF           1m 5m 15m 30m 1h 4h 1d (default 1h)\n"
    "  --from TIME, --to TIME   bars with from <= open time < to\n"
    "  --funding-exchange NAME  funding from another exchange (default: the bars')\n"
    "  --oi-exchange NAME       open interest from another exchange (default: the bars')\n"
    "  --model FILE.kzm         a trained model: its ML_DOWN/RANGE/UP_PROB columns (signals\n"
    "                           facade) join the search; the facade's status goes to stderr\n"
    "  --mode MODE              technical, ml or mixed (default: mixed with --model, else\n"
    "                           technical); ml and mixed need --model and refuse a model that\n"
    "                           fell back to constant priors on every bar\n"
    "  --preset NAME            fast, default or thorough (SPEC 6.1); options below override\n"
    "  --population N           individuals (default 100)\n"
    "  --generations N          generations after the initial population (default 50)\n"
    "  --elite N                best individuals kept unchanged (default 10)\n"
    "  --crossover X            crossover probability (default 0.8)\n"
    "  --mutation X             probability of each kind of mutation (default 0.1)\n"
    "  --max-genes N            indicator genes per strategy, 1..5 (default 5)\n"
    "  --sharing                fitness sharing (penalise crowded niches)\n"
    "  --nsga2                  multi-objective: Pareto front of return vs drawdown\n"
    "  --oos X                  out-of-sample fraction at the end (default 0.3)\n"
    "  --gap N                  bars between in-sample and out-of-sample (default n/100)\n"
    "  --walk-forward K         K folds: the last --oos fraction cut into K out-of-sample\n"
    "                           windows, each searched on the bars before it (minus the gap)\n"
    "  --wf-mode MODE           expanding (default: IS from the first bar) or sliding (IS of\n"
    "                           constant length)\n"
    "  --min-trades N           fewer in-sample trades are penalised (default 10)\n"
    "  --max-drawdown X         deeper in-sample drawdowns are penalised (default 0.3)\n"
    "  --top N                  strategies reported (default 5)\n"
    "  --seed N                 random seed (default 42); a run is reproducible bit for bit\n"
    "  --threads N              evaluation threads (default: all cores; results identical)\n"
    "  --fee X, --slippage-bps X  costs (defaults 0.00055 and 2)\n"
    "  --out FILE.json          full report: strategies, metrics, DSR, history\n"
    "  --best FILE.json         the best strategy alone, for `kizashi backtest --strategy`\n"
    "                           (walk-forward: the last fold's best)\n"
    "  --quiet                  no progress on stderr\n"
    "  --db PATH                database file\n";

static atomic_int g_stop;

static void on_sigint(int sig)
{
    (void)sig;
    atomic_store(&g_stop, 1);
}

typedef struct progress_ui {
    double t0;
    int quiet;
    int n_folds, fold; /* walk-forward: folds in all, current fold (1-based); 0 = single split */
} progress_ui;

static void on_progress(const kz_ga_gen *g, int n_gen, void *ud)
{
    progress_ui *u = ud;
    if (u->n_folds > 0 && g->generation == 0) {
        u->fold++;
        u->t0 = kz_monotonic_s(); /* the ETA is the fold's */
    }
    if (u->quiet) {
        return;
    }
    double el = kz_monotonic_s() - u->t0;
    double eta = g->generation > 0 ? el / g->generation * (n_gen - g->generation) : 0;
    if (u->n_folds > 0) {
        fprintf(stderr, "fold %d/%d  ", u->fold, u->n_folds);
    }
    fprintf(stderr,
            "gen %3d/%d  best %8.4f  mean %8.4f  evals %6zu  elapsed %6.1f s  ETA %6.1f s\n",
            g->generation, n_gen, g->best_fitness, g->mean_fitness, g->n_evals, el, eta);
}

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    uint64_t v;
    int rc = cli_parse_u64(USAGE, opt, s, &v);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (v < (uint64_t)lo || v > (uint64_t)hi) {
        return cli_usage_error(USAGE, "--%s: must be in %d..%d", opt, lo, hi);
    }
    *out = (int)v;
    return CLI_CONTINUE;
}

static int parse_real(const char *opt, const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(*out)) {
        return cli_usage_error(USAGE, "--%s: '%s' is not a number", opt, s);
    }
    return CLI_CONTINUE;
}

static void print_rule(const char *label, const kz_rule *r)
{
    printf("      %-6s ", label);
    if (r->n_conds == 0) {
        printf("(none)\n");
        return;
    }
    for (int k = 0; k < r->n_conds; k++) {
        const kz_condition *c = &r->conds[k];
        char num[32];
        printf("%s%s %s %s", k ? " and " : "", c->left, kz_cond_op_str(c->op),
               c->right_is_const ? cli_fmt_double(c->right_value, num) : c->right);
    }
    printf("\n");
}

static void print_table(
    const kz_ga_result *r, const kz_market *m, const kz_ga_entry *e, size_t n, const char *title)
{
    char a[32], b[32], c[32], d[32];
    printf("%s: %s %s %s, IS %s .. %s, OOS %s .. %s; %zu strategies tried, seed %llu%s\n", title,
           m->exchange, m->symbol, kz_timeframe_str(m->tf),
           kz_time_format(m->bars.ts_ms[r->is_begin], a),
           kz_time_format(m->bars.ts_ms[r->is_end - 1], b),
           r->oos_end > r->oos_begin ? kz_time_format(m->bars.ts_ms[r->oos_begin], c) : "-",
           r->oos_end > r->oos_begin ? kz_time_format(m->bars.ts_ms[r->oos_end - 1], d) : "-",
           r->n_evals, (unsigned long long)r->seed, r->stopped ? " (stopped early)" : "");
    printf("%4s %8s | %8s %6s %6s %6s | %8s %6s %6s %6s | %6s\n", "rank", "fitness", "IS ret%",
           "Sharpe", "maxDD%", "trades", "OOS ret%", "Sharpe", "maxDD%", "trades", "DSR");
    for (size_t k = 0; k < n; k++) {
        const kz_ga_entry *x = &e[k];
        printf("%4zu %8.3f | %8.2f %6.2f %6.2f %6zu | %8.2f %6.2f %6.2f %6zu | %6.3f\n", k + 1,
               x->fitness, 100 * x->is.total_return, x->is.sharpe, 100 * x->is.max_drawdown,
               x->is.n_trades, 100 * x->oos.total_return, x->oos.sharpe, 100 * x->oos.max_drawdown,
               x->oos.n_trades, x->dsr);
    }
    for (size_t k = 0; k < n; k++) {
        printf("  %zu. %s\n", k + 1, e[k].strategy.name);
        print_rule("long", &e[k].strategy.long_entry);
        print_rule("short", &e[k].strategy.short_entry);
        print_rule("exit", &e[k].strategy.exit);
        const kz_tpsl *t = &e[k].strategy.tpsl;
        const kz_sizing *z = &e[k].strategy.sizing;
        printf("      risk   ");
        if (t->method == KZ_TPSL_FIXED) {
            printf("stop %.2f %%, target %.2f %%", 100 * t->sl_pct, 100 * t->tp_pct);
        } else if (t->method == KZ_TPSL_RR) {
            printf("stop %.2f %%, reward/risk %.2f", 100 * t->sl_pct, t->rr);
        } else if (t->method == KZ_TPSL_ATR) {
            printf("stop %.2f ATR, target %.2f ATR (ATR %d)", t->atr_sl, t->atr_tp, t->atr_period);
        } else {
            printf("no stop or target");
        }
        if (z->method == KZ_SIZE_VOL_TARGET) {
            printf("; volatility target %.0f %% (%d bars)\n", 100 * z->target_vol, z->vol_period);
        } else {
            printf("; %.0f %% of equity\n", 100 * z->fraction);
        }
    }
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0) {
        cli_error(path, "%s", strerror(errno));
        if (f) {
            fclose(f);
        }
        return CLI_EXIT_RUNTIME;
    }
    if (fclose(f) != 0) {
        cli_error(path, "%s", strerror(errno));
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

/* --out: the report (walk-forward or single split); --best: the best strategy (walk-forward:
 * the last fold's, the one searched on the most recent bars). */
static int
write_outputs(const kz_ga_result *r, const kz_ga_wf_result *wf, const char *out, const char *best)
{
    char *text = NULL;
    int rc = CLI_EXIT_OK;
    if (out) {
        kz_status st = wf ? kz_ga_wf_result_to_json(wf, &text) : kz_ga_result_to_json(r, &text);
        if (st != KZ_OK) {
            cli_error("evolve", "out of memory writing JSON");
            return CLI_EXIT_RUNTIME;
        }
        rc = write_text(out, text);
        kz_free(text);
    }
    if (rc == CLI_EXIT_OK && best && r->n_top > 0) {
        if (kz_strategy_to_json(&r->top[0].strategy, &text) != KZ_OK) {
            cli_error("evolve", "out of memory writing JSON");
            return CLI_EXIT_RUNTIME;
        }
        rc = write_text(best, text);
        kz_free(text);
    }
    return rc;
}

/* Options that map onto kz_ga_params; parsed after the preset so they override it. */
typedef struct ga_opts {
    const char *mode, *preset, *pop, *gens, *elite, *cx, *mut, *genes, *oos, *gap, *min_trades;
    const char *max_dd, *top, *seed, *threads, *fee, *slip;
    int sharing, nsga2;
} ga_opts;

static int apply_opts(const ga_opts *o, kz_ga_params *p)
{
    int rc = CLI_CONTINUE;
    uint64_t u;
    int gap = -1;
    if (o->preset && kz_ga_params_preset(p, o->preset) != KZ_OK) {
        return cli_usage_error(USAGE, "--preset: '%s' is not fast, default or thorough", o->preset);
    }
    if (o->mode && kz_ga_mode_parse(o->mode, &p->mode) != KZ_OK) {
        return cli_usage_error(USAGE, "--mode: '%s' is not technical, ml or mixed", o->mode);
    }
    if ((o->pop &&
         (rc = parse_int("population", o->pop, 2, 100000, &p->population)) != CLI_CONTINUE) ||
        (o->gens &&
         (rc = parse_int("generations", o->gens, 0, 100000, &p->generations)) != CLI_CONTINUE) ||
        (o->elite && (rc = parse_int("elite", o->elite, 0, 100000, &p->elite)) != CLI_CONTINUE) ||
        (o->genes && (rc = parse_int("max-genes", o->genes, 1, KZ_GA_MAX_GENES, &p->max_genes)) !=
                         CLI_CONTINUE) ||
        (o->gap && (rc = parse_int("gap", o->gap, 0, 1000000000, &gap)) != CLI_CONTINUE) ||
        (o->min_trades && (rc = parse_int("min-trades", o->min_trades, 0, 1000000,
                                          &p->min_trades)) != CLI_CONTINUE) ||
        (o->top && (rc = parse_int("top", o->top, 1, 1000, &p->top_k)) != CLI_CONTINUE) ||
        (o->threads &&
         (rc = parse_int("threads", o->threads, 1, 256, &p->threads)) != CLI_CONTINUE) ||
        (o->cx && (rc = parse_real("crossover", o->cx, &p->crossover_rate)) != CLI_CONTINUE) ||
        (o->mut && (rc = parse_real("mutation", o->mut, &p->mutation_rate)) != CLI_CONTINUE) ||
        (o->oos && (rc = parse_real("oos", o->oos, &p->oos_fraction)) != CLI_CONTINUE) ||
        (o->max_dd &&
         (rc = parse_real("max-drawdown", o->max_dd, &p->max_drawdown)) != CLI_CONTINUE) ||
        (o->fee && (rc = parse_real("fee", o->fee, &p->bt.fee_rate)) != CLI_CONTINUE) ||
        (o->slip &&
         (rc = parse_real("slippage-bps", o->slip, &p->bt.slippage_bps)) != CLI_CONTINUE) ||
        (o->seed && (rc = cli_parse_u64(USAGE, "seed", o->seed, &u)) != CLI_CONTINUE)) {
        return rc;
    }
    if (o->seed) {
        p->seed = u;
    }
    p->gap_bars = gap;
    p->sharing = o->sharing;
    p->nsga2 = o->nsga2;
    if (p->elite >= p->population && !o->elite) {
        p->elite = p->population / 10; /* a small --population with the default elite */
    }
    kz_error err;
    char buf[1024];
    if (kz_ga_params_check(p, &err) != KZ_OK) {
        return cli_usage_error(USAGE, "%s", kz_error_format(&err, buf, sizeof buf));
    }
    return CLI_CONTINUE;
}

static void print_folds(const kz_ga_wf_result *w, const kz_market *m)
{
    char a[32], b[32], c[32], d[32];
    printf("walk-forward: %s %s %s, %d %s folds (%d run), gap %zu bars; %zu strategies tried, "
           "seed %llu%s\n",
           m->exchange, m->symbol, kz_timeframe_str(m->tf), w->n_folds, kz_wf_mode_str(w->mode),
           w->folds_run, w->gap, w->n_evals, (unsigned long long)w->seed,
           w->stopped ? " (stopped early)" : "");
    printf("%4s %-20s %-20s %-20s %-20s %8s | %8s %6s | %8s %6s %6s %6s | %6s\n", "fold", "IS from",
           "IS to", "OOS from", "OOS to", "fitness", "IS ret%", "Sharpe", "OOS ret%", "Sharpe",
           "maxDD%", "trades", "DSR");
    for (int f = 0; f < w->folds_run; f++) {
        const kz_ga_fold *fd = &w->folds[f];
        const kz_ga_entry *x = &fd->run.top[0];
        printf("%4d %-20s %-20s %-20s %-20s %8.3f | %8.2f %6.2f | %8.2f %6.2f %6.2f %6zu | %6.3f\n",
               f + 1, kz_time_format(m->bars.ts_ms[fd->is_begin], a),
               kz_time_format(m->bars.ts_ms[fd->is_end - 1], b),
               kz_time_format(m->bars.ts_ms[fd->oos_begin], c),
               kz_time_format(m->bars.ts_ms[fd->oos_end - 1], d), x->fitness,
               100 * x->is.total_return, x->is.sharpe, 100 * x->oos.total_return, x->oos.sharpe,
               100 * x->oos.max_drawdown, x->oos.n_trades, x->dsr);
    }
    const kz_bt_metrics *o = &w->oos;
    printf("concatenated out of sample (each fold's best on its window): %s .. %s, return %.2f %%, "
           "Sharpe %.2f, max drawdown %.2f %%, %zu trades, win rate %.1f %% (buy and hold "
           "%.2f %%)\n",
           kz_time_format(m->bars.ts_ms[w->oos_begin], a),
           kz_time_format(m->bars.ts_ms[w->oos_end - 1], b), 100 * o->total_return, o->sharpe,
           100 * o->max_drawdown, o->n_trades, 100 * o->win_rate, 100 * o->buy_hold_return);
}

/* The search itself with Ctrl-C as the stop flag; prints the tables. */
static int search(kz_colset *cs,
                  const kz_market *m,
                  kz_ga_params *p,
                  int folds,
                  kz_wf_mode wf_mode,
                  int quiet,
                  const char *out,
                  const char *best)
{
    kz_ga_result r;
    kz_ga_wf_result w;
    memset(&r, 0, sizeof r);
    memset(&w, 0, sizeof w);
    kz_error err;
    char buf[1024];
    progress_ui u = {kz_monotonic_s(), quiet, folds, 0};
    p->progress = on_progress;
    p->progress_ud = &u;
    atomic_store(&g_stop, 0);
    p->stop = &g_stop;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    kz_status s = folds > 0 ? kz_ga_walk_forward(cs, p, folds, wf_mode, &w, &err)
                            : kz_ga_run(cs, p, &r, &err);
    sigaction(SIGINT, &old, NULL);
    if (s != KZ_OK) {
        cli_error("evolve", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    const kz_ga_result *last = folds > 0 ? &w.folds[w.folds_run - 1].run : &r;
    if (folds > 0) {
        print_folds(&w, m);
        char title[64];
        snprintf(title, sizeof title, "fold %d: top strategies by in-sample fitness", w.folds_run);
        print_table(last, m, last->top, last->n_top, title);
    } else {
        print_table(&r, m, r.top, r.n_top, "top strategies by in-sample fitness");
        if (r.n_front) {
            print_table(&r, m, r.front, r.n_front, "Pareto front (in-sample return vs drawdown)");
        }
    }
    int rc = write_outputs(last, folds > 0 ? &w : NULL, out, best);
    kz_ga_result_free(&r);
    kz_ga_wf_result_free(&w);
    return rc;
}

int cmd_evolve(cli_ctx *ctx, int argc, char **argv)
{
    cli_market_args mk;
    cli_market_args_init(&mk);
    const char *out = NULL, *best = NULL, *model = NULL, *wf_s = NULL, *wf_mode_s = NULL;
    int quiet = 0, n_pos = 0, folds = 0;
    kz_wf_mode wf_mode = KZ_WF_EXPANDING;
    ga_opts o;
    memset(&o, 0, sizeof o);
    const cli_opt opts[] = {
        CLI_MARKET_OPTS(mk),
        {"model", CLI_STR, &model, NULL},
        {"mode", CLI_STR, &o.mode, NULL},
        {"preset", CLI_STR, &o.preset, NULL},
        {"population", CLI_STR, &o.pop, NULL},
        {"generations", CLI_STR, &o.gens, NULL},
        {"elite", CLI_STR, &o.elite, NULL},
        {"crossover", CLI_STR, &o.cx, NULL},
        {"mutation", CLI_STR, &o.mut, NULL},
        {"max-genes", CLI_STR, &o.genes, NULL},
        {"sharing", CLI_FLAG, NULL, &o.sharing},
        {"nsga2", CLI_FLAG, NULL, &o.nsga2},
        {"oos", CLI_STR, &o.oos, NULL},
        {"gap", CLI_STR, &o.gap, NULL},
        {"walk-forward", CLI_STR, &wf_s, NULL},
        {"wf-mode", CLI_STR, &wf_mode_s, NULL},
        {"min-trades", CLI_STR, &o.min_trades, NULL},
        {"max-drawdown", CLI_STR, &o.max_dd, NULL},
        {"top", CLI_STR, &o.top, NULL},
        {"seed", CLI_STR, &o.seed, NULL},
        {"threads", CLI_STR, &o.threads, NULL},
        {"fee", CLI_STR, &o.fee, NULL},
        {"slippage-bps", CLI_STR, &o.slip, NULL},
        {"out", CLI_STR, &out, NULL},
        {"best", CLI_STR, &best, NULL},
        {"quiet", CLI_FLAG, NULL, &quiet},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 0) {
        return cli_usage_error(USAGE, "unexpected argument '%s'", argv[1]);
    }
    kz_ga_params p = kz_ga_params_default();
    p.mode = model ? KZ_GA_MIXED : KZ_GA_TECHNICAL;
    if ((rc = apply_opts(&o, &p)) != CLI_CONTINUE ||
        (wf_s && (rc = parse_int("walk-forward", wf_s, 1, 1000, &folds)) != CLI_CONTINUE)) {
        return rc;
    }
    if (wf_mode_s && (!wf_s || kz_wf_mode_parse(wf_mode_s, &wf_mode) != KZ_OK)) {
        return cli_usage_error(USAGE, "--wf-mode: '%s' is not expanding or sliding%s", wf_mode_s,
                               wf_s ? "" : " (or --walk-forward is missing)");
    }
    if (p.mode != KZ_GA_TECHNICAL && !model) {
        /* refusing beats silently searching without the columns the mode is about */
        return cli_usage_error(USAGE,
                               "--mode %s needs ML probability columns: give a trained model "
                               "with --model FILE.kzm, or use --mode technical",
                               kz_ga_mode_str(p.mode));
    }
    kz_market m;
    if ((rc = cli_load_market(ctx, USAGE, &mk, &m)) != CLI_CONTINUE) {
        return rc;
    }
    if (!m.funding && p.bt.funding) {
        fprintf(stderr, "warning: no funding data for %s/%s: no funding charged, no funding gene\n",
                mk.lo.funding_exchange ? mk.lo.funding_exchange : mk.exchange, mk.symbol);
    }
    if (!m.oi) {
        fprintf(stderr, "warning: no open interest for %s/%s: no OI_CHANGE gene\n",
                mk.lo.oi_exchange ? mk.lo.oi_exchange : mk.exchange, mk.symbol);
    }
    kz_colset *cs = NULL;
    kz_error err;
    char buf[1024];
    rc = CLI_EXIT_RUNTIME;
    if (kz_colset_new(&m, &cs, &err) != KZ_OK) {
        cli_error("evolve", "%s", kz_error_format(&err, buf, sizeof buf));
    } else if (!model || (rc = cli_attach_model("evolve", cs, model, p.mode)) == CLI_CONTINUE) {
        rc = search(cs, &m, &p, folds, wf_mode, quiet, out, best);
    }
    kz_colset_free(cs);
    kz_market_free(&m);
    return rc;
}
