/* kizashi CLI shared helpers: long-option parser, value parsers, store opening, error output. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "error: %s: ", what);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", usage);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

static const cli_opt *find_opt(const cli_opt *opts, size_t n_opts, const char *name, size_t len)
{
    for (size_t i = 0; i < n_opts; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

/* The value of "--name=VALUE" or "--name VALUE" (advancing *i); NULL if missing. */
static const char *option_value(int argc, char **argv, int *i, const char *eq)
{
    if (eq) {
        return eq + 1;
    }
    return *i + 1 < argc ? argv[++*i] : NULL;
}

int cli_parse(cli_ctx *ctx,
              int argc,
              char **argv,
              const cli_opt *opts,
              size_t n_opts,
              const char *usage,
              int *n_pos)
{
    int npos = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            argv[1 + npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = a[1] == '-' ? find_opt(opts, n_opts, name, len) : NULL;
        int is_db = !o && a[1] == '-' && len == 2 && strncmp(name, "db", 2) == 0;
        if (!o && !is_db) {
            return cli_usage_error(usage, "unknown option '%s'", a);
        }
        if (o && o->kind == CLI_FLAG) {
            if (eq) {
                return cli_usage_error(usage, "option --%s takes no value", o->name);
            }
            *o->flag = 1;
            continue;
        }
        const char *v = option_value(argc, argv, &i, eq);
        if (!v) {
            return cli_usage_error(usage, "option --%.*s needs a value", (int)len, name);
        }
        if (is_db) {
            ctx->db_path = v;
        } else {
            *o->str = v;
        }
    }
    *n_pos = npos;
    return CLI_CONTINUE;
}

int cli_parse_tf(const char *usage, const char *opt, const char *s, kz_timeframe *out)
{
    if (kz_timeframe_parse(s, out) != KZ_OK) {
        return cli_usage_error(usage, "--%s: '%s' is not a timeframe (1m 5m 15m 30m 1h 4h 1d)", opt,
                               s);
    }
    return CLI_CONTINUE;
}

int cli_parse_time(const char *usage, const char *opt, const char *s, int64_t *out)
{
    if (kz_time_parse(s, strlen(s), out) != KZ_OK) {
        return cli_usage_error(usage, "--%s: '%s' is not a time (ISO-8601 or epoch ms)", opt, s);
    }
    return CLI_CONTINUE;
}

int cli_parse_u64(const char *usage, const char *opt, const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] == '-' || s[0] == '\0' || *end != '\0' || errno == ERANGE) {
        return cli_usage_error(usage, "--%s: '%s' is not a non-negative integer", opt, s);
    }
    *out = (uint64_t)v;
    return CLI_CONTINUE;
}

int cli_open_store(const cli_ctx *ctx, kz_store **out)
{
    kz_error err;
    if (kz_store_open(ctx->db_path, out, &err) != KZ_OK) {
        cli_error(ctx->db_path, "%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    return CLI_CONTINUE;
}

int cli_store_error(const kz_store *st, const char *what)
{
    cli_error(what, "%s", kz_store_errmsg(st));
    return CLI_EXIT_RUNTIME;
}

char *cli_fmt_double(double v, char *buf)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v) {
            break;
        }
    }
    return buf;
}

/* ---------------------------------------------------------------- market selection, metrics */

void cli_market_args_init(cli_market_args *a)
{
    memset(a, 0, sizeof *a);
    a->tf_s = "1h";
    a->lo = kz_load_opts_default();
}

int cli_load_market(const cli_ctx *ctx, const char *usage, const cli_market_args *d, kz_market *m)
{
    if (!d->exchange || !d->symbol) {
        return cli_usage_error(usage, "--exchange and --symbol are required");
    }
    kz_timeframe tf;
    int64_t from = INT64_MIN, to = INT64_MAX;
    int rc;
    if ((rc = cli_parse_tf(usage, "timeframe", d->tf_s, &tf)) != CLI_CONTINUE ||
        (d->from_s && (rc = cli_parse_time(usage, "from", d->from_s, &from)) != CLI_CONTINUE) ||
        (d->to_s && (rc = cli_parse_time(usage, "to", d->to_s, &to)) != CLI_CONTINUE)) {
        return rc;
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    memset(m, 0, sizeof *m);
    if (kz_store_load_market(st, d->exchange, d->symbol, tf, from, to, &d->lo, m) != KZ_OK) {
        rc = cli_store_error(st, "load market");
        kz_store_close(st);
        return rc;
    }
    kz_store_close(st);
    return CLI_CONTINUE;
}

static const char *const CLASS_NAMES[KZ_N_CLASSES] = {"down", "range", "up"};

void cli_print_metrics(const kz_metrics *m, int details)
{
    printf("test rows %zu\n", m->n);
    printf("%-20s %10s %10s\n", "metric", "model", "baseline");
    printf("%-20s %10.4f %10.4f\n", "accuracy", m->accuracy, m->baseline_accuracy);
    printf("%-20s %10.4f %10.4f\n", "balanced accuracy", m->balanced_accuracy,
           m->baseline_balanced_accuracy);
    printf("%-20s %10.4f %10.4f\n", "macro F1", m->macro_f1, m->baseline_macro_f1);
    printf("%-20s %10.4f %10.4f\n", "mlogloss", m->mlogloss, m->baseline_mlogloss);
    printf("(baseline: always '%s' for accuracy/F1; training class shares for mlogloss)\n",
           CLASS_NAMES[m->baseline_class]);
    if (!details) {
        return;
    }
    printf("\n%-6s %9s %9s %9s %8s   confusion (pred down/range/up)\n", "class", "precision",
           "recall", "F1", "support");
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        printf("%-6s %9.4f %9.4f %9.4f %8zu   %6zu %6zu %6zu\n", CLASS_NAMES[c], m->precision[c],
               m->recall[c], m->f1[c], m->support[c], m->confusion[c][0], m->confusion[c][1],
               m->confusion[c][2]);
    }
    printf("\ncalibration    P(up): predicted -> observed (n)    P(down): predicted -> observed "
           "(n)\n");
    for (int k = 0; k < KZ_CALIB_BINS; k++) {
        const kz_calib_bin *u = &m->calib_up[k], *d = &m->calib_down[k];
        if (u->count == 0 && d->count == 0) {
            continue;
        }
        printf("[%.1f, %.1f)     %6.3f -> %6.3f (%5zu)          %6.3f -> %6.3f (%5zu)\n", k / 10.0,
               (k + 1) / 10.0, u->mean_pred, u->observed, u->count, d->mean_pred, d->observed,
               d->count);
    }
}

/* ---------------------------------------------------------------- ML columns */

void cli_signals_status(const char *prefix, const char *source, const kz_signal_report *rep)
{
    if (!rep->fallback) {
        fprintf(stderr, "%s: ok: %zu bars from %s\n", prefix, rep->n_bars, source);
        return;
    }
    char detail[1024];
    fprintf(stderr,
            "%s: fallback: %s: %s: %zu of %zu bars (%zu invalid predictions) hold "
            "%.6f/%.6f/%.6f (%s)\n",
            prefix, kz_signal_reason_str(rep->reason),
            kz_error_format(&rep->detail, detail, sizeof detail), rep->n_fallback, rep->n_bars,
            rep->n_invalid, rep->fallback_prob[0], rep->fallback_prob[1], rep->fallback_prob[2],
            rep->priors_known ? "the model's training class shares" : "1/3 each: priors unknown");
}

int cli_attach_model(const char *verb, kz_colset *cs, const char *path, kz_ga_mode mode)
{
    kz_signals *sig = NULL;
    kz_signal_report rep;
    kz_error err;
    char buf[1024], prefix[64];
    int rc = CLI_EXIT_RUNTIME;
    if (kz_signals_open(path, NULL, &sig, &err) != KZ_OK ||
        kz_colset_attach_signals(cs, sig, &rep, &err) != KZ_OK) {
        cli_error(verb, "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    snprintf(prefix, sizeof prefix, "%s: ML signals", verb);
    cli_signals_status(prefix, path, &rep);
    if (mode != KZ_GA_TECHNICAL && rep.n_bars > 0 && rep.n_fallback == rep.n_bars) {
        cli_error(verb,
                  "--mode %s: the model gave no prediction for any bar (%s), so the ML columns "
                  "are constant priors and a search over them is meaningless; fix the model or "
                  "the data, or use --mode technical",
                  kz_ga_mode_str(mode), kz_signal_reason_str(rep.reason));
        goto done;
    }
    rc = CLI_CONTINUE;
done:
    kz_signals_free(sig);
    return rc;
}
