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
    "  --groups LIST             comma-separated groups (default all): price, volatility, volume,\n"
    "                            funding, open_interest, composite, regime, momentum, pattern,\n"
    "                            time, mtf\n"
    "  --short-ma N --long-ma N --volatility N --momentum N --volume N\n"
    "                            lookbacks (defaults 10 50 20 14 20)\n"
    "\n" CLI_MARKET_USAGE
    "(the features see only the bars of --from..--to: early rows are warm-up;\n"
    "--exchange defaults to binance here)\n";

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
    cli_market_args mk;
    cli_market_args_init(&mk);
    mk.exchange = "binance";
    const char *groups_s = NULL, *lb_s[5] = {NULL, NULL, NULL, NULL, NULL};
    int list = 0, n_pos = 0;
    const cli_opt opts[] = {
        {"list", CLI_FLAG, NULL, &list},       CLI_MARKET_OPTS(mk),
        {"groups", CLI_STR, &groups_s, NULL},  {"short-ma", CLI_STR, &lb_s[0], NULL},
        {"long-ma", CLI_STR, &lb_s[1], NULL},  {"volatility", CLI_STR, &lb_s[2], NULL},
        {"momentum", CLI_STR, &lb_s[3], NULL}, {"volume", CLI_STR, &lb_s[4], NULL},
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
    if (!mk.symbol) {
        return cli_usage_error(USAGE, "--symbol is required (or --list)");
    }
    kz_feature_params p = kz_feature_params_default();
    kz_error err;
    int *lb[5] = {&p.short_ma, &p.long_ma, &p.volatility, &p.momentum, &p.volume};
    static const char *const lb_names[5] = {"short-ma", "long-ma", "volatility", "momentum",
                                            "volume"};
    for (int k = 0; k < 5; k++) {
        if ((rc = parse_lookback(lb_names[k], lb_s[k], lb[k])) != CLI_CONTINUE) {
            return rc;
        }
    }
    if (groups_s && kz_feature_groups_parse(groups_s, &p.groups, &err) != KZ_OK) {
        return cli_usage_error(USAGE, "--groups: %s", err.msg);
    }
    if (kz_feature_params_check(&p, &err) != KZ_OK) {
        return cli_usage_error(USAGE, "%s", err.msg);
    }
    kz_market m;
    if ((rc = cli_load_market(ctx, USAGE, &mk, &m)) != CLI_CONTINUE) {
        return rc;
    }
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
