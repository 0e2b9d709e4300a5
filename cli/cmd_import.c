/* `kizashi import {bars|funding|oi}`: read exchange files and upsert them into the store, one
 * transaction per file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi import {bars|funding|oi} --exchange NAME --symbol SYMBOL [options] FILE...\n"
    "\n"
    "Read each FILE and upsert its rows into the store. Each file is one transaction: a file\n"
    "with a bad row (without --skip-bad) writes nothing and stops the import with exit 1;\n"
    "files before it stay imported. Re-importing a file reports its rows as unchanged.\n"
    "\n"
    "options:\n"
    "  --exchange NAME   exchange the data belongs to (e.g. binance, bybit, hyperliquid)\n"
    "  --symbol SYMBOL   instrument (e.g. BTCUSDT)\n"
    "  --timeframe TF    bars: 1m 5m 15m 30m 1h 4h 1d (default 1h); timestamps must lie on its "
    "grid\n"
    "  --format F        auto (default), csv, binance-csv, binance-json, bybit-json,\n"
    "                    freqtrade-json, series-csv, series-json\n"
    "  --skip-bad        skip bad rows (each reported on stderr as a warning) instead of failing\n"
    "  --db PATH         database file\n";

static int parse_format(const char *s, kz_format *out)
{
    for (int f = KZ_FMT_AUTO; f <= KZ_FMT_SERIES_JSON; f++) {
        if (strcmp(s, kz_format_str((kz_format)f)) == 0) {
            *out = (kz_format)f;
            return 1;
        }
    }
    return 0;
}

static void on_skip(const kz_error *e, void *ud)
{
    (void)ud;
    char buf[1024];
    fprintf(stderr, "warning: %s\n", kz_error_format(e, buf, sizeof buf));
}

/* Read one file and upsert it; prints one summary line. Returns CLI_CONTINUE or 1. */
static int import_file(kz_store *st,
                       kz_data_kind kind,
                       const char *exchange,
                       const char *symbol,
                       const kz_read_opts *ro,
                       const char *path)
{
    kz_bars bars = {0};
    kz_series ser = {0};
    kz_read_report rep;
    kz_error err;
    kz_upsert_stats us = {0, 0, 0};
    memset(&rep, 0, sizeof rep);
    kz_status s = kind == KZ_DATA_BARS ? kz_bars_read_file(path, ro, &bars, &rep, &err)
                                       : kz_series_read_file(path, kind, ro, &ser, &rep, &err);
    if (s != KZ_OK) {
        char buf[1024];
        fprintf(stderr, "error: %s\n", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    s = kind == KZ_DATA_BARS ? kz_store_put_bars(st, exchange, symbol, ro->tf, &bars, &us)
                             : kz_store_put_series(st, kind, exchange, symbol, &ser, &us);
    kz_bars_free(&bars);
    kz_series_free(&ser);
    if (s != KZ_OK) {
        return cli_store_error(st, path);
    }
    printf("%s: %zu rows (%s), %zu duplicates dropped, %zu skipped", path, rep.n_rows,
           kz_format_str(rep.format), rep.n_duplicates, rep.n_skipped);
    if (kind == KZ_DATA_BARS) {
        printf(", %zu gaps (%zu missing bars)", rep.n_gaps, rep.n_missing);
    }
    printf(" -> %zu inserted, %zu updated, %zu unchanged\n", us.inserted, us.updated, us.unchanged);
    return CLI_CONTINUE;
}

int cmd_import(cli_ctx *ctx, int argc, char **argv)
{
    const char *exchange = NULL, *symbol = NULL, *tf_s = "1h", *fmt_s = "auto";
    int skip_bad = 0, n_pos = 0;
    const cli_opt opts[] = {
        {"exchange", CLI_STR, &exchange, NULL},  {"symbol", CLI_STR, &symbol, NULL},
        {"timeframe", CLI_STR, &tf_s, NULL},     {"format", CLI_STR, &fmt_s, NULL},
        {"skip-bad", CLI_FLAG, NULL, &skip_bad},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos < 1) {
        return cli_usage_error(USAGE, "missing kind (bars, funding or oi)");
    }
    kz_data_kind kind;
    if (strcmp(argv[1], "bars") == 0) {
        kind = KZ_DATA_BARS;
    } else if (strcmp(argv[1], "funding") == 0) {
        kind = KZ_DATA_FUNDING;
    } else if (strcmp(argv[1], "oi") == 0) {
        kind = KZ_DATA_OI;
    } else {
        return cli_usage_error(USAGE, "unknown kind '%s' (bars, funding or oi)", argv[1]);
    }
    if (!exchange || !symbol) {
        return cli_usage_error(USAGE, "--exchange and --symbol are required");
    }
    if (n_pos < 2) {
        return cli_usage_error(USAGE, "no FILE given");
    }
    kz_read_opts ro = kz_read_opts_default();
    ro.skip_bad = skip_bad;
    ro.on_skip = on_skip;
    if ((rc = cli_parse_tf(USAGE, "timeframe", tf_s, &ro.tf)) != CLI_CONTINUE) {
        return rc;
    }
    if (!parse_format(fmt_s, &ro.format)) {
        return cli_usage_error(USAGE, "--format: unknown format '%s'", fmt_s);
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    rc = CLI_EXIT_OK;
    for (int i = 2; i <= n_pos && rc == CLI_EXIT_OK; i++) {
        int r = import_file(st, kind, exchange, symbol, &ro, argv[i]);
        rc = r == CLI_CONTINUE ? CLI_EXIT_OK : r;
    }
    kz_store_close(st);
    return rc;
}
