/* `kizashi features`: the feature frame of stored bars (with funding rate and open interest
 * aligned as-of) as CSV on stdout, or the feature listing (--list). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/features.h"

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi features --symbol SYMBOL [options] > features.csv\n"
    "       kizashi features --list\n"
    "\n"
    "Computes the feature set of docs/features.md over stored bars and prints it as CSV:\n"
    "timestamp(ms, bar open),<feature columns>; an empty cell is NaN (warm-up or unknown input).\n"
    "Funding rate and open interest are aligned as-of (the last value stamped before the bar's\n"
    "close); when one is absent its columns are empty and a warning names the groups.\n"
    "\n"
    "options:\n"
    "  --list                    list the features: name, group, window, inputs\n"
    "  --exchange NAME           exchange of the bars (default binance)\n"
    "  --symbol SYMBOL           instrument\n"
    "  --timeframe TF            1m 5m 15m 30m 1h 4h 1d (default 1h)\n"
    "  --groups LIST             comma-separated groups (default all): price, volatility, volume,\n"
    "                            funding, open_interest, composite, regime, momentum, pattern,\n"
    "                            time, mtf\n"
    "  --from TIME, --to TIME    bars with from <= open time < to (ISO-8601 or epoch ms); the\n"
    "                            features see only these bars, so early rows are warm-up\n"
    "  --funding-exchange NAME   take funding from another exchange (default: the bars')\n"
    "  --oi-exchange NAME        take open interest from another exchange (e.g. hyperliquid)\n"
    "  --short-ma N --long-ma N --volatility N --momentum N --volume N\n"
    "                            lookbacks (defaults 10 50 20 14 20)\n"
    "  --db PATH                 database file\n";

static int print_list(void)
{
    printf("%-26s %-14s %-8s %s\n", "name", "group", "window", "inputs");
    for (size_t i = 0; i < kz_features_count(); i++) {
        const kz_feature_info *f = kz_feature_at(i);
        printf("%-26s %-14s %-8s %s\n", f->name, kz_feature_group_str(f->group), f->window,
               f->inputs);
    }
    return CLI_EXIT_OK;
}

/* Shortest decimal that reads back as the same float. */
static const char *fmt_float(float v, char *buf, size_t size)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) {
            break;
        }
    }
    return buf;
}

static void print_frame(const kz_frame *f)
{
    size_t n = kz_frame_n_rows(f), nc = kz_frame_n_cols(f);
    fputs("timestamp", stdout);
    for (size_t j = 0; j < nc; j++) {
        printf(",%s", kz_frame_name(f, j));
    }
    fputc('\n', stdout);
    const int64_t *ts = kz_frame_ts(f);
    char buf[48];
    for (size_t i = 0; i < n; i++) {
        printf("%lld", (long long)ts[i]);
        for (size_t j = 0; j < nc; j++) {
            float v = kz_frame_col(f, j)[i];
            fputc(',', stdout);
            if (!isnan(v)) {
                fputs(fmt_float(v, buf, sizeof buf), stdout);
            }
        }
        fputc('\n', stdout);
    }
}

/* Parses an optional lookback option into *dst (unchanged when s is NULL). */
static int parse_lookback(const char *opt, const char *s, int *dst)
{
    uint64_t v;
    int rc = s ? cli_parse_u64(USAGE, opt, s, &v) : CLI_CONTINUE;
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (s) {
        if (v > 1000000) {
            return cli_usage_error(USAGE, "--%s: %s is too large", opt, s);
        }
        *dst = (int)v;
    }
    return CLI_CONTINUE;
}

int cmd_features(cli_ctx *ctx, int argc, char **argv)
{
    const char *exchange = "binance", *symbol = NULL, *tf_s = "1h", *from_s = NULL, *to_s = NULL;
    const char *groups_s = NULL, *lb_s[5] = {NULL, NULL, NULL, NULL, NULL};
    kz_load_opts lo = kz_load_opts_default();
    int list = 0, n_pos = 0;
    const cli_opt opts[] = {
        {"list", CLI_FLAG, NULL, &list},
        {"exchange", CLI_STR, &exchange, NULL},
        {"symbol", CLI_STR, &symbol, NULL},
        {"timeframe", CLI_STR, &tf_s, NULL},
        {"groups", CLI_STR, &groups_s, NULL},
        {"from", CLI_STR, &from_s, NULL},
        {"to", CLI_STR, &to_s, NULL},
        {"funding-exchange", CLI_STR, &lo.funding_exchange, NULL},
        {"oi-exchange", CLI_STR, &lo.oi_exchange, NULL},
        {"short-ma", CLI_STR, &lb_s[0], NULL},
        {"long-ma", CLI_STR, &lb_s[1], NULL},
        {"volatility", CLI_STR, &lb_s[2], NULL},
        {"momentum", CLI_STR, &lb_s[3], NULL},
        {"volume", CLI_STR, &lb_s[4], NULL},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 0) {
        return cli_usage_error(USAGE, "unexpected argument '%s'", argv[1]);
    }
    if (list) {
        return print_list();
    }
    if (!symbol) {
        return cli_usage_error(USAGE, "--symbol is required (or --list)");
    }
    kz_feature_params p = kz_feature_params_default();
    kz_error err;
    kz_timeframe tf;
    int64_t from = INT64_MIN, to = INT64_MAX;
    int *lb[5] = {&p.short_ma, &p.long_ma, &p.volatility, &p.momentum, &p.volume};
    static const char *const lb_names[5] = {"short-ma", "long-ma", "volatility", "momentum",
                                            "volume"};
    for (int k = 0; k < 5; k++) {
        if ((rc = parse_lookback(lb_names[k], lb_s[k], lb[k])) != CLI_CONTINUE) {
            return rc;
        }
    }
    if ((rc = cli_parse_tf(USAGE, "timeframe", tf_s, &tf)) != CLI_CONTINUE ||
        (from_s && (rc = cli_parse_time(USAGE, "from", from_s, &from)) != CLI_CONTINUE) ||
        (to_s && (rc = cli_parse_time(USAGE, "to", to_s, &to)) != CLI_CONTINUE)) {
        return rc;
    }
    if (groups_s && kz_feature_groups_parse(groups_s, &p.groups, &err) != KZ_OK) {
        return cli_usage_error(USAGE, "--groups: %s", err.msg);
    }
    if (kz_feature_params_check(&p, &err) != KZ_OK) {
        return cli_usage_error(USAGE, "%s", err.msg);
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    kz_market m;
    memset(&m, 0, sizeof m);
    if (kz_store_load_market(st, exchange, symbol, tf, from, to, &lo, &m) != KZ_OK) {
        rc = cli_store_error(st, "features");
        kz_store_close(st);
        return rc;
    }
    kz_store_close(st);
    kz_frame *f = NULL;
    kz_feature_report rep;
    if (kz_features_compute(&m, &p, &f, &rep, &err) != KZ_OK) {
        char buf[1024];
        cli_error("features", "%s", kz_error_format(&err, buf, sizeof buf));
        kz_market_free(&m);
        return CLI_EXIT_RUNTIME;
    }
    if (rep.groups_no_input) {
        char buf[160];
        fprintf(stderr, "warning: no input for group(s) %s: their columns are empty\n",
                kz_feature_groups_format(rep.groups_no_input, buf, sizeof buf));
    }
    print_frame(f);
    kz_frame_free(f);
    kz_market_free(&m);
    return CLI_EXIT_OK;
}
