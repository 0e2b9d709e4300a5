/* `kizashi synth`: generate synthetic bars, funding and open interest (kz_synth_generate) and
 * store them. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi synth [options]\n"
    "\n"
    "Generate a synthetic market (GARCH volatility, fat tails, 8-hourly funding, open interest)\n"
    "and upsert bars, funding and open interest into the store. Same seed = same data.\n"
    "\n"
    "options:\n"
    "  --symbol SYMBOL     instrument name (default SYNTH)\n"
    "  --exchange NAME     exchange name (default synthetic)\n"
    "  --timeframe TF      1m 5m 15m 30m 1h 4h 1d (default 1h)\n"
    "  --bars N            number of bars (default 10000)\n"
    "  --seed S            random seed (default 42)\n"
    "  --start TIME        first bar's open time (default 2024-01-01T00:00Z)\n"
    "  --db PATH           database file\n";

/* Print one stored series' upsert line. */
static void report(const char *what, size_t n, const kz_upsert_stats *us)
{
    printf("  %-8s %8zu rows -> %zu inserted, %zu updated, %zu unchanged\n", what, n, us->inserted,
           us->updated, us->unchanged);
}

int cmd_synth(cli_ctx *ctx, int argc, char **argv)
{
    const char *symbol = "SYNTH", *exchange = "synthetic", *tf_s = "1h", *bars_s = NULL;
    const char *seed_s = NULL, *start_s = NULL;
    int n_pos = 0;
    const cli_opt opts[] = {
        {"symbol", CLI_STR, &symbol, NULL},  {"exchange", CLI_STR, &exchange, NULL},
        {"timeframe", CLI_STR, &tf_s, NULL}, {"bars", CLI_STR, &bars_s, NULL},
        {"seed", CLI_STR, &seed_s, NULL},    {"start", CLI_STR, &start_s, NULL},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 0) {
        return cli_usage_error(USAGE, "unexpected argument '%s'", argv[1]);
    }
    kz_synth_params p = kz_synth_params_default();
    uint64_t n_bars = p.n_bars;
    if ((rc = cli_parse_tf(USAGE, "timeframe", tf_s, &p.tf)) != CLI_CONTINUE ||
        (bars_s && (rc = cli_parse_u64(USAGE, "bars", bars_s, &n_bars)) != CLI_CONTINUE) ||
        (seed_s && (rc = cli_parse_u64(USAGE, "seed", seed_s, &p.seed)) != CLI_CONTINUE) ||
        (start_s && (rc = cli_parse_time(USAGE, "start", start_s, &p.start_ms)) != CLI_CONTINUE)) {
        return rc;
    }
    p.n_bars = (size_t)n_bars;
    kz_error err;
    if (kz_synth_params_check(&p, &err) != KZ_OK) {
        char buf[1024];
        return cli_usage_error(USAGE, "%s", kz_error_format(&err, buf, sizeof buf));
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    kz_bars bars = {0};
    kz_series fr = {0}, oi = {0};
    kz_upsert_stats ub, uf, uo;
    if (kz_synth_generate(&p, &bars, &fr, &oi, &err) != KZ_OK) {
        char buf[1024];
        cli_error("synth", "%s", kz_error_format(&err, buf, sizeof buf));
        rc = CLI_EXIT_RUNTIME;
    } else if (kz_store_put_bars(st, exchange, symbol, p.tf, &bars, &ub) != KZ_OK ||
               kz_store_put_series(st, KZ_DATA_FUNDING, exchange, symbol, &fr, &uf) != KZ_OK ||
               kz_store_put_series(st, KZ_DATA_OI, exchange, symbol, &oi, &uo) != KZ_OK) {
        rc = cli_store_error(st, "synth");
    } else {
        char first[32], last[32];
        printf("synthetic %s/%s %s, seed %llu: %s .. %s\n", exchange, symbol,
               kz_timeframe_str(p.tf), (unsigned long long)p.seed,
               kz_time_format(bars.ts_ms[0], first), kz_time_format(bars.ts_ms[bars.n - 1], last));
        report("bars", bars.n, &ub);
        report("funding", fr.n, &uf);
        report("oi", oi.n, &uo);
        rc = CLI_EXIT_OK;
    }
    kz_bars_free(&bars);
    kz_series_free(&fr);
    kz_series_free(&oi);
    kz_store_close(st);
    return rc;
}
