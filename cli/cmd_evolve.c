/* `kizashi evolve`: the strategy search (docs/ga.md) on stored bars with funding and open
 * interest; prints progress on stderr and the top-K table (in-sample and out-of-sample metrics,
 * DSR), writes the full report and the best strategy as JSON. Ctrl-C stops after the current
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
    "  --mode MODE              technical (default), ml or mixed; ml and mixed need ML\n"
    "                           columns from a model, which this build cannot compute yet\n"
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
    "  --min-trades N           fewer in-sample trades are penalised (default 10)\n"
    "  --max-drawdown X         deeper in-sample drawdowns are penalised (default 0.3)\n"
    "  --top N                  strategies reported (default 5)\n"
    "  --seed N                 random seed (default 42); a run is reproducible bit for bit\n"
    "  --threads N              evaluation threads (default: all cores; results identical)\n"
    "  --fee X, --slippage-bps X  costs (defaults 0.00055 and 2)\n"
    "  --out FILE.json          full report: strategies, metrics, DSR, history\n"
    "  --best FILE.json         the best strategy alone, for `kizashi backtest --strategy`\n"
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
} progress_ui;

static void on_progress(const kz_ga_gen *g, int n_gen, void *ud)
{
    progress_ui *u = ud;
    if (u->quiet) {
        return;
    }
    double el = kz_monotonic_s() - u->t0;
    double eta = g->generation > 0 ? el / g->generation * (n_gen - g->generation) : 0;
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

static int write_outputs(const kz_ga_result *r, const char *out, const char *best)
{
    char *text = NULL;
    int rc = CLI_EXIT_OK;
    if (out) {
        if (kz_ga_result_to_json(r, &text) != KZ_OK) {
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

int cmd_evolve(cli_ctx *ctx, int argc, char **argv)
{
    const char *exchange = NULL, *symbol = NULL, *tf_s = "1h", *from_s = NULL, *to_s = NULL;
    const char *out = NULL, *best = NULL;
    int quiet = 0, n_pos = 0;
    ga_opts o;
    memset(&o, 0, sizeof o);
    kz_load_opts lo = kz_load_opts_default();
    const cli_opt opts[] = {
        {"exchange", CLI_STR, &exchange, NULL},
        {"symbol", CLI_STR, &symbol, NULL},
        {"timeframe", CLI_STR, &tf_s, NULL},
        {"from", CLI_STR, &from_s, NULL},
        {"to", CLI_STR, &to_s, NULL},
        {"funding-exchange", CLI_STR, &lo.funding_exchange, NULL},
        {"oi-exchange", CLI_STR, &lo.oi_exchange, NULL},
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
    if (!exchange || !symbol) {
        return cli_usage_error(USAGE, "--exchange and --symbol are required");
    }
    kz_ga_params p = kz_ga_params_default();
    p.mode = KZ_GA_TECHNICAL; /* no model here: ML columns cannot be computed (docs/ga.md) */
    kz_timeframe tf;
    int64_t from = INT64_MIN, to = INT64_MAX;
    if ((rc = apply_opts(&o, &p)) != CLI_CONTINUE ||
        (rc = cli_parse_tf(USAGE, "timeframe", tf_s, &tf)) != CLI_CONTINUE ||
        (from_s && (rc = cli_parse_time(USAGE, "from", from_s, &from)) != CLI_CONTINUE) ||
        (to_s && (rc = cli_parse_time(USAGE, "to", to_s, &to)) != CLI_CONTINUE)) {
        return rc;
    }
    if (p.mode != KZ_GA_TECHNICAL) {
        /* the ML columns come from a trained model through the signals facade (--model, not
         * wired yet); refusing beats silently searching without them */
        return cli_usage_error(USAGE,
                               "--mode %s needs ML probability columns from a model (--model), "
                               "which this build does not support yet; use --mode technical",
                               kz_ga_mode_str(p.mode));
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    kz_market m;
    memset(&m, 0, sizeof m);
    if (kz_store_load_market(st, exchange, symbol, tf, from, to, &lo, &m) != KZ_OK) {
        rc = cli_store_error(st, "evolve");
        kz_store_close(st);
        return rc;
    }
    kz_store_close(st);
    if (!m.funding && p.bt.funding) {
        fprintf(stderr, "warning: no funding data for %s/%s: no funding charged, no funding gene\n",
                lo.funding_exchange ? lo.funding_exchange : exchange, symbol);
    }
    if (!m.oi) {
        fprintf(stderr, "warning: no open interest for %s/%s: no OI_CHANGE gene\n",
                lo.oi_exchange ? lo.oi_exchange : exchange, symbol);
    }
    kz_colset *cs = NULL;
    kz_ga_result r;
    memset(&r, 0, sizeof r);
    kz_error err;
    char buf[1024];
    rc = CLI_EXIT_RUNTIME;
    if (kz_colset_new(&m, &cs, &err) != KZ_OK) {
        cli_error("evolve", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    progress_ui u = {kz_monotonic_s(), quiet};
    p.progress = on_progress;
    p.progress_ud = &u;
    atomic_store(&g_stop, 0);
    p.stop = &g_stop;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    kz_status s = kz_ga_run(cs, &p, &r, &err);
    sigaction(SIGINT, &old, NULL);
    if (s != KZ_OK) {
        cli_error("evolve", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    print_table(&r, &m, r.top, r.n_top, "top strategies by in-sample fitness");
    if (r.n_front) {
        print_table(&r, &m, r.front, r.n_front, "Pareto front (in-sample return vs drawdown)");
    }
    rc = write_outputs(&r, out, best);
done:
    kz_ga_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
    return rc;
}
