/* `kizashi backtest`: replay a strategy JSON on stored bars (with funding) and print the metrics
 * table or JSON; optionally write the trades, the equity curve and an SVG chart. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/strategy.h"

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi backtest --strategy FILE.json --exchange NAME --symbol SYMBOL [options]\n"
    "\n"
    "Rules are evaluated at each bar's close and fill at the next bar's open with slippage;\n"
    "stops and targets are checked on highs and lows; funding is charged at each settlement\n"
    "(docs/backtest.md).\n"
    "\n"
    "options:\n"
    "  --strategy FILE           strategy JSON (as written by `kizashi evolve` or by hand)\n"
    "  --exchange NAME           exchange of the bars\n"
    "  --symbol SYMBOL           instrument\n"
    "  --timeframe TF            1m 5m 15m 30m 1h 4h 1d (default 1h)\n"
    "  --from TIME, --to TIME    bars with from <= open time < to (ISO-8601 or epoch ms)\n"
    "  --funding-exchange NAME   take funding from another exchange (default: the bars')\n"
    "  --oi-exchange NAME        take open interest from another exchange (default: the bars')\n"
    "  --columns FILE.csv        extra columns (e.g. ML_UP_PROB from `kizashi signals`):\n"
    "                            timestamp(ms or ISO),NAME,... matched to bars by open time\n"
    "  --capital X               initial equity (default 100000)\n"
    "  --fee X                   commission per side, fraction of notional (default 0.00055)\n"
    "  --slippage-bps X          adverse slippage of market fills (default 2)\n"
    "  --no-funding              do not charge funding\n"
    "  --trades FILE.csv         write the trade list\n"
    "  --equity FILE.csv         write the equity curve and drawdown\n"
    "  --plot FILE.svg           write an SVG chart of equity and drawdown\n"
    "  --json                    print metrics, trades and equity as JSON instead of the table\n"
    "  --db PATH                 database file\n";

static int parse_real(const char *opt, const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtod(s, &end);
    if (errno || end == s || *end) {
        return cli_usage_error(USAGE, "--%s: '%s' is not a number", opt, s);
    }
    return CLI_CONTINUE;
}

/* Split a CSV line in place; returns the number of fields (at most max). */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (!c) {
            break;
        }
        *c = '\0';
        p = c + 1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    for (int k = 0; k < n; k++) {
        fields[k][strcspn(fields[k], "\r\n")] = '\0';
    }
    return n;
}

#define MAX_EXTRA 16

/* Read --columns: each named column aligned to the bars by timestamp (NaN where absent). */
static int load_columns(const char *path, kz_colset *cs, const kz_market *m)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error(path, "%s", strerror(errno));
        return CLI_EXIT_RUNTIME;
    }
    char line[8192];
    char *names[MAX_EXTRA + 1];
    char header[8192];
    double *cols[MAX_EXTRA] = {NULL};
    int n_cols = 0, rc = CLI_EXIT_OK;
    long lineno = 1;
    if (!fgets(header, sizeof header, f) ||
        (n_cols = split_csv(header, names, MAX_EXTRA + 1) - 1) < 1) {
        cli_error(path, "expected a header 'timestamp,NAME,...'");
        fclose(f);
        return CLI_EXIT_RUNTIME;
    }
    size_t n = m->bars.n;
    for (int k = 0; k < n_cols; k++) {
        cols[k] = malloc(n * sizeof(double));
        for (size_t i = 0; cols[k] && i < n; i++) {
            cols[k][i] = NAN;
        }
    }
    size_t bar = 0;
    while (rc == CLI_EXIT_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[MAX_EXTRA + 1];
        int nf = split_csv(line, fld, MAX_EXTRA + 1);
        int64_t ts;
        if (nf == 1 && fld[0][0] == '\0') {
            continue;
        }
        if (nf != n_cols + 1 || kz_time_parse(fld[0], strlen(fld[0]), &ts) != KZ_OK) {
            cli_error(path, "line %ld: expected %d fields starting with a timestamp", lineno,
                      n_cols + 1);
            rc = CLI_EXIT_RUNTIME;
            break;
        }
        while (bar < n && m->bars.ts_ms[bar] < ts) {
            bar++;
        }
        if (bar == n || m->bars.ts_ms[bar] != ts) {
            continue; /* outside the loaded range or not a bar time */
        }
        for (int k = 0; k < n_cols; k++) {
            char *end = NULL;
            double v = fld[k + 1][0] ? strtod(fld[k + 1], &end) : NAN;
            if (end && *end) {
                cli_error(path, "line %ld, column %d: '%s' is not a number", lineno, k + 2,
                          fld[k + 1]);
                rc = CLI_EXIT_RUNTIME;
                break;
            }
            if (cols[k]) {
                cols[k][bar] = v;
            }
        }
    }
    fclose(f);
    for (int k = 0; k < n_cols; k++) {
        kz_error err;
        if (rc == CLI_EXIT_OK && !cols[k]) {
            cli_error(path, "out of memory");
            rc = CLI_EXIT_RUNTIME;
        } else if (rc == CLI_EXIT_OK && kz_colset_add(cs, names[k + 1], cols[k], 1, &err)) {
            char buf[1024];
            cli_error(path, "%s", kz_error_format(&err, buf, sizeof buf));
            rc = CLI_EXIT_RUNTIME;
        }
        free(cols[k]);
    }
    return rc;
}

static void print_table(const kz_strategy *s, const kz_market *m, const kz_bt_metrics *x)
{
    char a[32], b[32];
    printf("strategy          %s\n", s->name[0] ? s->name : "(unnamed)");
    printf("market            %s %s %s, %zu bars, %s .. %s\n", m->exchange, m->symbol,
           kz_timeframe_str(m->tf), m->bars.n, kz_time_format(m->bars.ts_ms[0], a),
           kz_time_format(m->bars.ts_ms[m->bars.n - 1], b));
    printf("initial equity    %.2f\n", x->initial_equity);
    printf("final equity      %.2f\n", x->final_equity);
    printf("total return      %.2f %%\n", 100 * x->total_return);
    printf("buy and hold      %.2f %%\n", 100 * x->buy_hold_return);
    printf("CAGR              %.2f %%\n", 100 * x->cagr);
    printf("Sharpe            %.3f\n", x->sharpe);
    printf("Sortino           %.3f\n", x->sortino);
    printf("max drawdown      %.2f %% (%zu bars)\n", 100 * x->max_drawdown, x->max_dd_bars);
    printf("Calmar            %.3f\n", x->calmar);
    printf("trades            %zu (%zu long, %zu short)\n", x->n_trades, x->n_long, x->n_short);
    printf("win rate          %.2f %%\n", 100 * x->win_rate);
    printf("profit factor     %.3f\n", x->profit_factor);
    printf("expectancy        %.2f per trade\n", x->expectancy);
    printf("avg trade return  %.3f %%\n", 100 * x->avg_trade_return);
    printf("avg holding       %.1f bars\n", x->avg_bars_held);
    printf("exposure          %.2f %%\n", 100 * x->exposure);
    printf("fees paid         %.2f\n", x->fees_paid);
    printf("funding paid      %.2f\n", x->funding_paid);
}

/* Write the requested files; returns CLI_EXIT_OK or prints and returns CLI_EXIT_RUNTIME. */
static int write_outputs(const kz_colset *cs,
                         const kz_bt_result *r,
                         const kz_strategy *s,
                         const char *trades,
                         const char *equity,
                         const char *plot)
{
    kz_error err;
    kz_error_clear(&err);
    kz_status st = KZ_OK;
    if (trades) {
        st = kz_bt_write_trades_csv(r, trades, &err);
    }
    if (st == KZ_OK && equity) {
        st = kz_bt_write_equity_csv(cs, r, equity, &err);
    }
    if (st == KZ_OK && plot) {
        st = kz_bt_write_svg(cs, r, s->name[0] ? s->name : "backtest", plot, &err);
    }
    if (st != KZ_OK) {
        char buf[1024];
        cli_error("backtest", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

int cmd_backtest(cli_ctx *ctx, int argc, char **argv)
{
    cli_market_args mk;
    cli_market_args_init(&mk);
    const char *strat_path = NULL, *columns = NULL, *capital_s = NULL, *fee_s = NULL;
    const char *slip_s = NULL, *trades = NULL, *equity = NULL, *plot = NULL;
    int no_funding = 0, json = 0, n_pos = 0;
    const cli_opt opts[] = {
        {"strategy", CLI_STR, &strat_path, NULL},
        CLI_MARKET_OPTS(mk),
        {"columns", CLI_STR, &columns, NULL},
        {"capital", CLI_STR, &capital_s, NULL},
        {"fee", CLI_STR, &fee_s, NULL},
        {"slippage-bps", CLI_STR, &slip_s, NULL},
        {"no-funding", CLI_FLAG, NULL, &no_funding},
        {"trades", CLI_STR, &trades, NULL},
        {"equity", CLI_STR, &equity, NULL},
        {"plot", CLI_STR, &plot, NULL},
        {"json", CLI_FLAG, NULL, &json},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 0) {
        return cli_usage_error(USAGE, "unexpected argument '%s'", argv[1]);
    }
    if (!strat_path) {
        return cli_usage_error(USAGE, "--strategy is required");
    }
    kz_bt_params p = kz_bt_params_default();
    p.record = 1;
    p.funding = !no_funding;
    if ((capital_s && (rc = parse_real("capital", capital_s, &p.initial_equity)) != CLI_CONTINUE) ||
        (fee_s && (rc = parse_real("fee", fee_s, &p.fee_rate)) != CLI_CONTINUE) ||
        (slip_s && (rc = parse_real("slippage-bps", slip_s, &p.slippage_bps)) != CLI_CONTINUE)) {
        return rc;
    }
    kz_error err;
    char buf[1024];
    if (kz_bt_params_check(&p, &err) != KZ_OK) {
        return cli_usage_error(USAGE, "%s", kz_error_format(&err, buf, sizeof buf));
    }
    kz_strategy s;
    if (kz_strategy_read_file(strat_path, &s, &err) != KZ_OK) {
        cli_error("strategy", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    kz_market m;
    if ((rc = cli_load_market(ctx, USAGE, &mk, &m)) != CLI_CONTINUE) {
        return rc;
    }
    if (!m.funding && p.funding) {
        fprintf(stderr, "warning: no funding data for %s/%s: no funding charged\n",
                mk.lo.funding_exchange ? mk.lo.funding_exchange : mk.exchange, mk.symbol);
    }
    kz_colset *cs = NULL;
    kz_bt_result r;
    memset(&r, 0, sizeof r);
    rc = CLI_EXIT_RUNTIME;
    if (kz_colset_new(&m, &cs, &err) != KZ_OK) {
        cli_error("backtest", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    if (columns && (rc = load_columns(columns, cs, &m)) != CLI_EXIT_OK) {
        goto done;
    }
    rc = CLI_EXIT_RUNTIME;
    if (kz_colset_prepare(cs, &s, &err) != KZ_OK || kz_backtest(cs, &s, &p, &r, &err) != KZ_OK) {
        if (!err.file[0]) {
            snprintf(err.file, sizeof err.file, "%s", strat_path);
        }
        cli_error("backtest", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    if ((rc = write_outputs(cs, &r, &s, trades, equity, plot)) != CLI_EXIT_OK) {
        goto done;
    }
    if (json) {
        char *text = NULL;
        if (kz_bt_result_to_json(cs, &r, &text) != KZ_OK) {
            cli_error("backtest", "out of memory writing JSON");
            rc = CLI_EXIT_RUNTIME;
            goto done;
        }
        printf("%s\n", text);
        kz_free(text);
    } else {
        print_table(&s, &m, &r.m);
    }
    rc = CLI_EXIT_OK;
done:
    kz_bt_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
    return rc;
}
