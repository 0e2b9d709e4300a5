/* kizashi command-line entry point: global options, then a dispatch table of verbs
 * (cmd_<verb>.c). The CLI is the only code that prints or exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_version(cli_ctx *ctx, int argc, char **argv)
{
    static const char usage[] = "usage: kizashi version\n\nPrint the kizashi version.\n";
    int n_pos = 0;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, usage, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos != 0) {
        return cli_usage_error(usage, "unexpected argument '%s'", argv[1]);
    }
    printf("kizashi %s\n", kz_version());
    return CLI_EXIT_OK;
}

typedef struct verb {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} verb;

/* Adding a verb = one line here plus its cmd_<verb>.c. */
static const verb VERBS[] = {
    {"import", cmd_import, "import bars, funding or open-interest files into the store"},
    {"data", cmd_data, "list stored series (data list) or print bars as CSV (data show)"},
    {"fetch", cmd_fetch, "download bars, funding and open interest from Bybit or Binance"},
    {"synth", cmd_synth, "generate and store synthetic bars, funding and open interest"},
    {"ta", cmd_ta, "list indicators or compute one over stored bars"},
    {"features", cmd_features, "compute the feature frame (CSV) or list the features"},
    {"train", cmd_train, "train the down/range/up model on stored data and save a .kzm file"},
    {"evaluate", cmd_evaluate, "walk-forward evaluation of the model (table or --json)"},
    {"predict", cmd_predict, "probabilities of a saved model over stored bars (CSV)"},
    {"model", cmd_model, "model info FILE: check a .kzm file and print its metadata"},
    {"signals", cmd_signals, "ML indicator columns of a model over stored bars (CSV)"},
    {"backtest", cmd_backtest, "replay a strategy JSON on stored bars: metrics, trades, equity"},
    {"evolve", cmd_evolve,
     "evolve strategies with a genetic algorithm (top-K with IS/OOS metrics and DSR)"},
    {"optimize", cmd_optimize, "Bayesian optimiser: benchmark table or a test-function run"},
    {"scheduler", cmd_scheduler, "retraining daemon (scheduler run --config F) and its status"},
    {"jobs", cmd_jobs, "list, show or cancel retraining jobs"},
    {"retrain", cmd_retrain, "queue a manual retraining job for a model"},
    {"models", cmd_models, "model registry: list, show, promote, rollback"},
    {"version", cmd_version, "print the version"},
};
#define N_VERBS (sizeof VERBS / sizeof VERBS[0])

static void print_usage(FILE *f)
{
    fprintf(f, "usage: kizashi [--db PATH] <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_VERBS; i++) {
        fprintf(f, "  %-9s %s\n", VERBS[i].name, VERBS[i].summary);
    }
    fprintf(f,
            "\nglobal options:\n"
            "  --db PATH   database file (default: $KIZASHI_DB, else %s)\n"
            "  --help      this help; `kizashi <command> --help` for a command's options\n",
            KZ_STORE_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
    cli_ctx ctx;
    const char *env = getenv("KIZASHI_DB");
    ctx.db_path = (env && *env) ? env : KZ_STORE_DEFAULT_PATH;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            ctx.db_path = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0) {
            ctx.db_path = a + 5;
        } else {
            fprintf(stderr, "error: unknown or incomplete option '%s'\n", a);
            print_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (i == argc) {
        fprintf(stderr, "error: no command given\n");
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    for (size_t k = 0; k < N_VERBS; k++) {
        if (strcmp(argv[i], VERBS[k].name) == 0) {
            return VERBS[k].fn(&ctx, argc - i, argv + i);
        }
    }
    fprintf(stderr, "error: unknown command '%s'\n", argv[i]);
    print_usage(stderr);
    return CLI_EXIT_USAGE;
}
