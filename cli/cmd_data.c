/* `kizashi data list|show`: the coverage table of the store, and stored bars (with aligned
 * funding rate and open interest) as CSV. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi data list\n"
    "       kizashi data show --exchange NAME --symbol SYMBOL [options]\n"
    "\n"
    "list: one row per stored series: kind, exchange, symbol, timeframe, first and last\n"
    "      timestamp (UTC), row count, and for bars the gaps (runs of missing bars) and missing "
    "bars.\n"
    "show: bars as CSV on stdout: timestamp(ms),open,high,low,close,volume[,funding_rate]\n"
    "      [,open_interest]; funding/OI aligned as-of (the last value stamped before the bar's\n"
    "      close); an empty cell means unknown.\n"
    "\n"
    "show options:\n"
    "  --exchange NAME           exchange of the bars\n"
    "  --symbol SYMBOL           instrument\n"
    "  --timeframe TF            1m 5m 15m 30m 1h 4h 1d (default 1h)\n"
    "  --from TIME, --to TIME    bars with from <= open time < to (ISO-8601 or epoch ms)\n"
    "  --last N                  only the last N bars of the range\n"
    "  --with-fr, --with-oi      add the funding_rate / open_interest columns\n"
    "  --funding-exchange NAME   take funding from another exchange (default: the bars')\n"
    "  --oi-exchange NAME        take open interest from another exchange (e.g. hyperliquid)\n"
    "  --db PATH                 database file\n";

static const char *kind_name(kz_data_kind k)
{
    return k == KZ_DATA_BARS ? "bars" : (k == KZ_DATA_FUNDING ? "funding" : "oi");
}

static int data_list(cli_ctx *ctx)
{
    kz_store *st = NULL;
    int rc = cli_open_store(ctx, &st);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    kz_coverage *rows = NULL;
    size_t n = 0;
    if (kz_store_coverage(st, &rows, &n) != KZ_OK) {
        rc = cli_store_error(st, "data list");
        kz_store_close(st);
        return rc;
    }
    if (n == 0) {
        printf("no data in %s\n", ctx->db_path);
    } else {
        printf("%-8s %-12s %-12s %-3s %-24s %-24s %9s %6s %8s\n", "kind", "exchange", "symbol",
               "tf", "first", "last", "count", "gaps", "missing");
    }
    for (size_t i = 0; i < n; i++) {
        const kz_coverage *r = &rows[i];
        char first[32], last[32];
        kz_time_format(r->first_ms, first);
        kz_time_format(r->last_ms, last);
        if (r->kind == KZ_DATA_BARS) {
            printf("%-8s %-12s %-12s %-3s %-24s %-24s %9zu %6zu %8zu\n", kind_name(r->kind),
                   r->exchange, r->symbol, kz_timeframe_str(r->tf), first, last, r->count,
                   r->n_gaps, r->n_missing);
        } else {
            printf("%-8s %-12s %-12s %-3s %-24s %-24s %9zu %6s %8s\n", kind_name(r->kind),
                   r->exchange, r->symbol, "-", first, last, r->count, "-", "-");
        }
    }
    kz_free(rows);
    kz_store_close(st);
    return CLI_EXIT_OK;
}

/* Print one optional CSV cell: empty for NaN. */
static void print_cell(const double *col, size_t i)
{
    char buf[32];
    if (col && col[i] == col[i]) {
        printf(",%s", cli_fmt_double(col[i], buf));
    } else {
        fputc(',', stdout);
    }
}

static void print_bars_csv(const kz_market *m, size_t first, int with_fr, int with_oi)
{
    printf("timestamp,open,high,low,close,volume%s%s\n", with_fr ? ",funding_rate" : "",
           with_oi ? ",open_interest" : "");
    const kz_bars *b = &m->bars;
    char o[32], h[32], l[32], c[32], v[32];
    for (size_t i = first; i < b->n; i++) {
        printf("%lld,%s,%s,%s,%s,%s", (long long)b->ts_ms[i], cli_fmt_double(b->open[i], o),
               cli_fmt_double(b->high[i], h), cli_fmt_double(b->low[i], l),
               cli_fmt_double(b->close[i], c), cli_fmt_double(b->volume[i], v));
        if (with_fr) {
            print_cell(m->funding, i);
        }
        if (with_oi) {
            print_cell(m->oi, i);
        }
        fputc('\n', stdout);
    }
}

static int data_show(cli_ctx *ctx, int argc, char **argv)
{
    const char *exchange = NULL, *symbol = NULL, *tf_s = "1h", *from_s = NULL, *to_s = NULL;
    const char *last_s = NULL;
    kz_load_opts lo = kz_load_opts_default();
    int with_fr = 0, with_oi = 0, n_pos = 0;
    const cli_opt opts[] = {
        {"exchange", CLI_STR, &exchange, NULL},
        {"symbol", CLI_STR, &symbol, NULL},
        {"timeframe", CLI_STR, &tf_s, NULL},
        {"from", CLI_STR, &from_s, NULL},
        {"to", CLI_STR, &to_s, NULL},
        {"last", CLI_STR, &last_s, NULL},
        {"with-fr", CLI_FLAG, NULL, &with_fr},
        {"with-oi", CLI_FLAG, NULL, &with_oi},
        {"funding-exchange", CLI_STR, &lo.funding_exchange, NULL},
        {"oi-exchange", CLI_STR, &lo.oi_exchange, NULL},
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
    kz_timeframe tf;
    int64_t from = INT64_MIN, to = INT64_MAX;
    uint64_t last = 0;
    if ((rc = cli_parse_tf(USAGE, "timeframe", tf_s, &tf)) != CLI_CONTINUE ||
        (from_s && (rc = cli_parse_time(USAGE, "from", from_s, &from)) != CLI_CONTINUE) ||
        (to_s && (rc = cli_parse_time(USAGE, "to", to_s, &to)) != CLI_CONTINUE) ||
        (last_s && (rc = cli_parse_u64(USAGE, "last", last_s, &last)) != CLI_CONTINUE)) {
        return rc;
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    kz_market m;
    memset(&m, 0, sizeof m);
    kz_status s = (with_fr || with_oi)
                      ? kz_store_load_market(st, exchange, symbol, tf, from, to, &lo, &m)
                      : kz_store_get_bars(st, exchange, symbol, tf, from, to, &m.bars);
    if (s != KZ_OK) {
        rc = cli_store_error(st, "data show");
        kz_store_close(st);
        return rc;
    }
    if (with_fr && !m.funding) {
        fprintf(stderr, "warning: no funding data for %s/%s\n",
                lo.funding_exchange ? lo.funding_exchange : exchange, symbol);
    }
    if (with_oi && !m.oi) {
        fprintf(stderr, "warning: no open-interest data for %s/%s\n",
                lo.oi_exchange ? lo.oi_exchange : exchange, symbol);
    }
    size_t first = (last_s && last < m.bars.n) ? m.bars.n - (size_t)last : 0;
    print_bars_csv(&m, first, with_fr, with_oi);
    kz_market_free(&m);
    kz_store_close(st);
    return CLI_EXIT_OK;
}

int cmd_data(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        int n_pos = 0;
        int rc = cli_parse(ctx, argc - 1, argv + 1, NULL, 0, USAGE, &n_pos);
        if (rc != CLI_CONTINUE) {
            return rc;
        }
        return n_pos ? cli_usage_error(USAGE, "unexpected argument '%s'", argv[2]) : data_list(ctx);
    }
    if (argc >= 2 && strcmp(argv[1], "show") == 0) {
        return data_show(ctx, argc - 1, argv + 1);
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE, stdout);
        return CLI_EXIT_OK;
    }
    return cli_usage_error(USAGE, "expected 'data list' or 'data show'");
}
