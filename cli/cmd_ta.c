/* `kizashi ta list|run`: the indicator registry as a table, and one indicator computed over
 * stored bars, written as CSV (timestamp + the indicator's outputs, empty during warm-up). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_ta(cli_ctx *ctx, int argc, char **argv);

static const char USAGE[] =
    "usage: kizashi ta list\n"
    "       kizashi ta run NAME --exchange NAME --symbol SYMBOL [options]\n"
    "\n"
    "list: every indicator: name, group, inputs, lookback at the defaults, outputs and\n"
    "      parameters as name=default[min..max] (TA-Lib 0.6.4 names, defaults and ranges).\n"
    "run:  compute indicator NAME (case-insensitive, e.g. RSI, BBANDS) over stored bars and\n"
    "      print CSV on stdout: timestamp(ms),<outputs>; cells are empty during the warm-up.\n"
    "\n"
    "run options:\n"
    "  --exchange NAME           exchange of the bars\n"
    "  --symbol SYMBOL           instrument\n"
    "  --timeframe TF            1m 5m 15m 30m 1h 4h 1d (default 1h)\n"
    "  --param K=V[,K=V...]      set a parameter (repeatable), e.g. --param timeperiod=20\n"
    "  --from TIME, --to TIME    bars with from <= open time < to (ISO-8601 or epoch ms)\n"
    "  --db PATH                 database file\n";

static const char *input_name(kz_ta_input in)
{
    static const char *const names[] = {"open", "high", "low", "close", "volume"};
    return (unsigned)in < 5 ? names[in] : "?";
}

static void print_param(const kz_ta_param *p)
{
    char d[32], lo[32], hi[32];
    if (p->type == KZ_PARAM_REAL) {
        printf(" %s=%s[%s..%s]", p->name, cli_fmt_double(p->def, d), cli_fmt_double(p->min, lo),
               cli_fmt_double(p->max, hi));
    } else {
        printf(" %s=%.0f[%.0f..%.0f]", p->name, p->def, p->min, p->max);
    }
}

static int ta_list(void)
{
    printf("%-20s %-10s %-26s %8s  %-32s %s\n", "name", "group", "inputs", "lookback", "outputs",
           "params");
    size_t n = kz_ta_count();
    for (size_t i = 0; i < n; i++) {
        const kz_ta_info *info = kz_ta_at(i);
        char inputs[64] = "", outputs[96] = "";
        size_t used = 0;
        for (int k = 0; k < info->n_inputs; k++) {
            used += (size_t)snprintf(inputs + used, sizeof inputs - used, "%s%s", k ? "," : "",
                                     input_name(info->inputs[k]));
        }
        used = 0;
        for (int j = 0; j < info->n_outputs; j++) {
            used += (size_t)snprintf(outputs + used, sizeof outputs - used, "%s%s", j ? "," : "",
                                     info->outputs[j]);
        }
        double params[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, params);
        printf("%-20s %-10s %-26s %8d  %-32s", info->name, info->group, inputs,
               kz_ta_lookback(info, params), outputs);
        for (int k = 0; k < info->n_params; k++) {
            print_param(&info->params[k]);
        }
        if (info->n_params == 0) {
            printf(" -");
        }
        fputc('\n', stdout);
    }
    printf("%zu indicators\n", n);
    return CLI_EXIT_OK;
}

/* Move every "--param X" / "--param=X" out of argv (cli_parse keeps only one value per option);
 * returns the new argc. The values are views into argv. */
static int take_params(int argc, char **argv, const char **vals, int *n_vals, int max_vals)
{
    int w = 0;
    *n_vals = 0;
    for (int r = 0; r < argc; r++) {
        const char *v = NULL;
        if (strcmp(argv[r], "--param") == 0 && r + 1 < argc) {
            v = argv[++r];
        } else if (strncmp(argv[r], "--param=", 8) == 0) {
            v = argv[r] + 8;
        }
        if (v) {
            if (*n_vals < max_vals) {
                vals[(*n_vals)++] = v;
            } else {
                return -1;
            }
            continue;
        }
        argv[w++] = argv[r];
    }
    return w;
}

/* Apply "k=v[,k=v]" to params. Returns CLI_CONTINUE or a usage error. */
static int apply_params(const kz_ta_info *info, const char *spec, double *params)
{
    char buf[512];
    if (strlen(spec) >= sizeof buf) {
        return cli_usage_error(USAGE, "--param '%s' is too long", spec);
    }
    strcpy(buf, spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || eq[1] == '\0') {
            return cli_usage_error(USAGE, "--param expects K=V, got '%s'", tok);
        }
        *eq = '\0';
        int k = kz_ta_param_index(info, tok);
        if (k < 0) {
            return cli_usage_error(USAGE, "%s has no parameter '%s'", info->name, tok);
        }
        char *end = NULL;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end != '\0') {
            return cli_usage_error(USAGE, "--param %s: '%s' is not a number", tok, eq + 1);
        }
        params[k] = v;
    }
    return CLI_CONTINUE;
}

static const double *bars_column(const kz_bars *b, kz_ta_input in)
{
    switch (in) {
    case KZ_IN_OPEN:
        return b->open;
    case KZ_IN_HIGH:
        return b->high;
    case KZ_IN_LOW:
        return b->low;
    case KZ_IN_CLOSE:
        return b->close;
    case KZ_IN_VOLUME:
        return b->volume;
    }
    return NULL;
}

static void print_csv(const kz_ta_info *info, const kz_bars *b, double *const *out)
{
    printf("timestamp");
    for (int j = 0; j < info->n_outputs; j++) {
        printf(",%s", info->outputs[j]);
    }
    fputc('\n', stdout);
    char buf[32];
    for (size_t i = 0; i < b->n; i++) {
        printf("%lld", (long long)b->ts_ms[i]);
        for (int j = 0; j < info->n_outputs; j++) {
            if (isnan(out[j][i])) {
                fputc(',', stdout);
            } else {
                printf(",%s", cli_fmt_double(out[j][i], buf));
            }
        }
        fputc('\n', stdout);
    }
}

/* Compute and print; the store is already open. */
static int compute(const kz_ta_info *info, const double *params, const kz_bars *b)
{
    double *out[KZ_TA_MAX_OUTPUTS] = {NULL};
    const double *in[KZ_TA_MAX_INPUTS];
    int rc = CLI_EXIT_OK;
    for (int k = 0; k < info->n_inputs; k++) {
        in[k] = bars_column(b, info->inputs[k]);
    }
    for (int j = 0; j < info->n_outputs; j++) {
        out[j] = kz_malloc_array(b->n ? b->n : 1, sizeof(double));
        if (!out[j]) {
            cli_error("ta run", "out of memory for %zu bars", b->n);
            rc = CLI_EXIT_RUNTIME;
            goto done;
        }
    }
    kz_error err;
    kz_error_clear(&err);
    kz_status s = kz_ta_run(info, b->n, in, params, out, &err);
    if (s != KZ_OK) {
        char msg[1024];
        cli_error("ta run", "%s", kz_error_format(&err, msg, sizeof msg));
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    print_csv(info, b, out);
done:
    for (int j = 0; j < info->n_outputs; j++) {
        kz_free(out[j]);
    }
    return rc;
}

static int ta_run(cli_ctx *ctx, int argc, char **argv)
{
    const char *pvals[32];
    int n_pvals = 0;
    argc = take_params(argc, argv, pvals, &n_pvals, 32);
    if (argc < 0) {
        return cli_usage_error(USAGE, "too many --param options");
    }
    const char *exchange = NULL, *symbol = NULL, *tf_s = "1h", *from_s = NULL, *to_s = NULL;
    const cli_opt opts[] = {
        {"exchange", CLI_STR, &exchange, NULL}, {"symbol", CLI_STR, &symbol, NULL},
        {"timeframe", CLI_STR, &tf_s, NULL},    {"from", CLI_STR, &from_s, NULL},
        {"to", CLI_STR, &to_s, NULL},
    };
    int n_pos = 0;
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 1) {
        return cli_usage_error(USAGE, "expected one indicator NAME");
    }
    const kz_ta_info *info = kz_ta_find(argv[1]);
    if (!info) {
        return cli_usage_error(USAGE, "unknown indicator '%s' (see `kizashi ta list`)", argv[1]);
    }
    if (!exchange || !symbol) {
        return cli_usage_error(USAGE, "--exchange and --symbol are required");
    }
    double params[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(info, params);
    for (int i = 0; i < n_pvals; i++) {
        if ((rc = apply_params(info, pvals[i], params)) != CLI_CONTINUE) {
            return rc;
        }
    }
    kz_error err;
    if (kz_ta_params_check(info, params, &err) != KZ_OK) {
        return cli_usage_error(USAGE, "%s", err.msg);
    }
    kz_timeframe tf;
    int64_t from = INT64_MIN, to = INT64_MAX;
    if ((rc = cli_parse_tf(USAGE, "timeframe", tf_s, &tf)) != CLI_CONTINUE ||
        (from_s && (rc = cli_parse_time(USAGE, "from", from_s, &from)) != CLI_CONTINUE) ||
        (to_s && (rc = cli_parse_time(USAGE, "to", to_s, &to)) != CLI_CONTINUE)) {
        return rc;
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    kz_bars bars;
    memset(&bars, 0, sizeof bars);
    if (kz_store_get_bars(st, exchange, symbol, tf, from, to, &bars) != KZ_OK) {
        rc = cli_store_error(st, "ta run");
    } else {
        rc = compute(info, params, &bars);
    }
    kz_bars_free(&bars);
    kz_store_close(st);
    return rc;
}

int cmd_ta(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        int n_pos = 0;
        int rc = cli_parse(ctx, argc - 1, argv + 1, NULL, 0, USAGE, &n_pos);
        if (rc != CLI_CONTINUE) {
            return rc;
        }
        return n_pos ? cli_usage_error(USAGE, "unexpected argument '%s'", argv[2]) : ta_list();
    }
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        return ta_run(ctx, argc - 1, argv + 1);
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE, stdout);
        return CLI_EXIT_OK;
    }
    return cli_usage_error(USAGE, "expected 'ta list' or 'ta run'");
}
