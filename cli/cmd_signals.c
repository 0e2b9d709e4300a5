/* `kizashi signals`: the ML indicator columns of a saved model over stored bars as CSV on stdout,
 * and a status line on stderr saying ok or fallback, why, and for how many bars. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/signals.h"

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi signals --model FILE.kzm --exchange NAME --symbol SYMBOL [options] > ml.csv\n"
    "\n"
    "Per-bar ML columns as CSV: timestamp,ML_DOWN_PROB,ML_RANGE_PROB,ML_UP_PROB (the value at a\n"
    "bar comes from that bar's features only). The model never fails the run: when it cannot\n"
    "predict (missing or corrupt file, features it cannot get, deadline, memory budget, invalid\n"
    "output) the affected bars hold the fallback (the model's training class shares, else 1/3\n"
    "each) and the status line on stderr says so: 'signals: ok ...' or 'signals: fallback ...'.\n"
    "\n"
    "  --model FILE              the .kzm model\n"
    "  --model-name NAME         instead: the registry's active version of NAME (`kizashi "
    "models`)\n"
    "  --timeout SECONDS         deadline for the whole computation (default none)\n"
    "  --max-mb MB               memory budget for the working buffers (default none)\n"
    "  --allow-missing-inputs    run a model whose funding/OI series is absent (NaN inputs)\n"
    "  --strict                  exit 1 when any bar is a fallback\n"
    "\n" CLI_MARKET_USAGE;

/* A positive decimal; CLI_CONTINUE or a usage error. */
static int parse_positive(const char *opt, const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !(v > 0.0)) {
        return cli_usage_error(USAGE, "--%s: '%s' is not a positive number", opt, s);
    }
    *out = v;
    return CLI_CONTINUE;
}

typedef struct args {
    cli_market_args mk;
    const char *model, *model_name, *timeout_s, *max_mb_s;
    int allow_missing, strict;
} args;

/* --model-name: the registry's active version of NAME, through the follower (kz_sched). */
static int follow_active(cli_ctx *ctx,
                         const char *name,
                         const kz_market *m,
                         const kz_signal_params *p,
                         double *col,
                         kz_signal_report *rep,
                         char *source,
                         size_t source_size)
{
    kz_store *st = NULL;
    int rc = cli_open_store(ctx, &st);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    kz_model_follower *f = NULL;
    kz_error err;
    char buf[1024];
    int version = 0;
    size_t n = m->bars.n;
    rc = CLI_EXIT_RUNTIME;
    if (kz_model_follower_new(name, &f) != KZ_OK) {
        cli_error("signals", "--model-name: invalid name '%s'", name);
    } else if (kz_model_follower_signals(f, st, m, p, col, col + n, col + 2 * n, rep, &version,
                                         &err) != KZ_OK) {
        cli_error("signals", "%s", kz_error_format(&err, buf, sizeof buf));
    } else {
        snprintf(source, source_size, "the active model of '%s' (version %d)", name, version);
        rc = CLI_CONTINUE;
    }
    kz_model_follower_free(f);
    kz_store_close(st);
    return rc;
}

int cmd_signals(cli_ctx *ctx, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    cli_market_args_init(&a.mk);
    int n_pos = 0;
    const cli_opt opts[] = {
        {"model", CLI_STR, &a.model, NULL},
        {"model-name", CLI_STR, &a.model_name, NULL},
        CLI_MARKET_OPTS(a.mk),
        {"timeout", CLI_STR, &a.timeout_s, NULL},
        {"max-mb", CLI_STR, &a.max_mb_s, NULL},
        {"allow-missing-inputs", CLI_FLAG, NULL, &a.allow_missing},
        {"strict", CLI_FLAG, NULL, &a.strict},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos) {
        return cli_usage_error(USAGE, "unexpected argument '%s'", argv[1]);
    }
    if (!a.model == !a.model_name) {
        return cli_usage_error(USAGE, "give exactly one of --model FILE and --model-name NAME");
    }
    kz_signal_params p = kz_signal_params_default();
    p.allow_missing_inputs = a.allow_missing;
    double timeout = 0.0, max_mb = 0.0;
    if ((a.timeout_s && (rc = parse_positive("timeout", a.timeout_s, &timeout)) != CLI_CONTINUE) ||
        (a.max_mb_s && (rc = parse_positive("max-mb", a.max_mb_s, &max_mb)) != CLI_CONTINUE)) {
        return rc;
    }
    if (max_mb > 0.0) {
        p.max_bytes = max_mb >= (double)(SIZE_MAX >> 20) ? SIZE_MAX : (size_t)(max_mb * 1048576.0);
    }
    kz_market m;
    if ((rc = cli_load_market(ctx, USAGE, &a.mk, &m)) != CLI_CONTINUE) {
        return rc;
    }
    /* The deadline counts from here: loading the bars is not the model's time. */
    p.deadline_s = timeout > 0.0 ? kz_monotonic_s() + timeout : 0.0;
    kz_signals *sig = NULL;
    kz_error err;
    char buf[1024];
    size_t n = m.bars.n;
    double *col = malloc((n ? n : 1) * 3 * sizeof *col);
    rc = CLI_EXIT_RUNTIME;
    if (!col) {
        cli_error("signals", "out of memory");
        goto done;
    }
    kz_signal_report rep;
    char source[256];
    if (a.model_name) {
        if ((rc = follow_active(ctx, a.model_name, &m, &p, col, &rep, source, sizeof source)) !=
            CLI_CONTINUE) {
            goto done;
        }
        rc = CLI_EXIT_RUNTIME;
    } else {
        snprintf(source, sizeof source, "%s", a.model);
        if (kz_signals_open(a.model, &p, &sig, &err) != KZ_OK) {
            cli_error("signals", "%s", kz_error_format(&err, buf, sizeof buf));
            goto done;
        }
        if (kz_signals_compute(sig, &m, col, col + n, col + 2 * n, &rep) != KZ_OK) {
            cli_error("signals", "%s", kz_error_format(&rep.detail, buf, sizeof buf));
            goto done;
        }
    }
    printf("timestamp,%s,%s,%s\n", KZ_SIGNAL_COL_DOWN, KZ_SIGNAL_COL_RANGE, KZ_SIGNAL_COL_UP);
    for (size_t i = 0; i < n; i++) {
        char v[3][32];
        printf("%lld,%s,%s,%s\n", (long long)m.bars.ts_ms[i], cli_fmt_double(col[i], v[0]),
               cli_fmt_double(col[n + i], v[1]), cli_fmt_double(col[2 * n + i], v[2]));
    }
    if (fflush(stdout) != 0) {
        cli_error("signals", "cannot write the output");
        goto done;
    }
    cli_signals_status("signals", source, &rep);
    rc = (a.strict && rep.fallback) ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
done:
    free(col);
    kz_signals_free(sig);
    kz_market_free(&m);
    return rc;
}
