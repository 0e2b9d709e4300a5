/* kizashi CLI shared helpers: option parsing, value parsing, opening the store, error output.
 * Verbs live in cmd_<verb>.c and are listed in the dispatch table in main.c. */
#ifndef KZ_CLI_H
#define KZ_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/kizashi.h"

/* Exit codes: 0 success, 1 runtime error, 2 usage error. CLI_CONTINUE = keep going. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_RUNTIME = 1, CLI_EXIT_USAGE = 2, CLI_CONTINUE = -1 };

/* State shared by every verb. */
typedef struct cli_ctx {
    const char *db_path; /* --db, else $KIZASHI_DB, else KZ_STORE_DEFAULT_PATH */
} cli_ctx;

/* A verb: argv[0] is the verb's name; returns the process exit code. */
typedef int (*cli_cmd_fn)(cli_ctx *ctx, int argc, char **argv);

typedef enum cli_opt_kind { CLI_FLAG, CLI_STR } cli_opt_kind;

/* One long option "--name" (CLI_FLAG sets *flag = 1; CLI_STR takes "--name VALUE" or
 * "--name=VALUE" into *str, a view into argv). */
typedef struct cli_opt {
    const char *name;
    cli_opt_kind kind;
    const char **str;
    int *flag;
} cli_opt;

/* Parse argv[1..argc) against `opts` plus the options every verb takes (--db PATH, --help/-h).
 * Positional arguments are moved to argv[1..*n_pos]. Returns CLI_CONTINUE, or the exit code to
 * return at once: 0 after --help (usage printed to stdout), 2 on a usage error (printed with the
 * usage to stderr). */
int cli_parse(cli_ctx *ctx,
              int argc,
              char **argv,
              const cli_opt *opts,
              size_t n_opts,
              const char *usage,
              int *n_pos);

/* Print "error: <what>: <why>" to stderr. */
void cli_error(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "error: <why>" and the usage to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Value parsers for option arguments: CLI_CONTINUE when valid, else a usage error (2) naming
 * the option. Time accepts ISO-8601 or epoch seconds/milliseconds (kz_time_parse). */
int cli_parse_tf(const char *usage, const char *opt, const char *s, kz_timeframe *out);
int cli_parse_time(const char *usage, const char *opt, const char *s, int64_t *out);
int cli_parse_u64(const char *usage, const char *opt, const char *s, uint64_t *out);

/* Open the store at ctx->db_path; on failure prints the error and returns CLI_EXIT_RUNTIME. */
int cli_open_store(const cli_ctx *ctx, kz_store **out);
/* Print "error: <what>: <store message>" and return CLI_EXIT_RUNTIME. */
int cli_store_error(const kz_store *st, const char *what);

/* Shortest decimal that reads back as the same double ("91319.2", not "91319.199999999997");
 * buf holds at least 32 bytes. Returns buf. */
char *cli_fmt_double(double v, char *buf);

/* ---- the market selection every data verb shares (--exchange --symbol --timeframe --from --to
 * --funding-exchange --oi-exchange) */
typedef struct cli_market_args {
    const char *exchange, *symbol, *tf_s, *from_s, *to_s;
    kz_load_opts lo; /* funding_exchange / oi_exchange point into argv */
} cli_market_args;

/* Usage lines for the options below. */
#define CLI_MARKET_USAGE                                                                           \
    "data:\n"                                                                                      \
    "  --exchange NAME           exchange of the bars (required)\n"                                \
    "  --symbol SYMBOL           instrument (required)\n"                                          \
    "  --timeframe TF            1m 5m 15m 30m 1h 4h 1d (default 1h)\n"                            \
    "  --from TIME, --to TIME    bars with from <= open time < to\n"                               \
    "  --funding-exchange NAME   funding rate from another exchange (default: the bars')\n"        \
    "  --oi-exchange NAME        open interest from another exchange (e.g. hyperliquid)\n"         \
    "  --db PATH                 database file\n"

/* cli_opt rows for a cli_market_args `a` (an lvalue). */
#define CLI_MARKET_OPTS(a)                                                                         \
    {"exchange", CLI_STR, &(a).exchange, NULL}, {"symbol", CLI_STR, &(a).symbol, NULL},            \
        {"timeframe", CLI_STR, &(a).tf_s, NULL}, {"from", CLI_STR, &(a).from_s, NULL},             \
        {"to", CLI_STR, &(a).to_s, NULL},                                                          \
        {"funding-exchange", CLI_STR, &(a).lo.funding_exchange, NULL},                             \
    {                                                                                              \
        "oi-exchange", CLI_STR, &(a).lo.oi_exchange, NULL                                          \
    }

/* Defaults: timeframe 1h, kz_load_opts_default(). */
void cli_market_args_init(cli_market_args *a);
/* Validate the selection and load the market from the store into *m (zeroed first). Returns
 * CLI_CONTINUE, or the exit code after printing why (usage error 2, store error 1). */
int cli_load_market(const cli_ctx *ctx, const char *usage, const cli_market_args *a, kz_market *m);

/* Print a model's test metrics next to the naive baselines; `details` adds the per-class table,
 * the confusion matrix and the calibration bins. */
void cli_print_metrics(const kz_metrics *m, int details);

/* The signals facade's status line on stderr, "<prefix>: ok: N bars from SOURCE" or
 * "<prefix>: fallback: REASON: DETAIL: K of N bars (I invalid predictions) hold d/r/u (...)". */
void cli_signals_status(const char *prefix, const char *source, const kz_signal_report *rep);
/* Add a model's ML_DOWN/RANGE/UP_PROB columns (through the signals facade) to a column set and
 * print the status line with `verb`. In the ML modes, refuses (CLI_EXIT_RUNTIME, after saying
 * why) a model that gave no prediction for any bar: constant priors make the search meaningless.
 * Returns CLI_CONTINUE on success. */
int cli_attach_model(const char *verb, kz_colset *cs, const char *path, kz_ga_mode mode);

/* Verbs (one file each). */
int cmd_import(cli_ctx *ctx, int argc, char **argv);
int cmd_data(cli_ctx *ctx, int argc, char **argv);
int cmd_synth(cli_ctx *ctx, int argc, char **argv);
int cmd_ta(cli_ctx *ctx, int argc, char **argv);
int cmd_features(cli_ctx *ctx, int argc, char **argv);
int cmd_optimize(cli_ctx *ctx, int argc, char **argv);
int cmd_fetch(cli_ctx *ctx, int argc, char **argv);
int cmd_backtest(cli_ctx *ctx, int argc, char **argv);
int cmd_train(cli_ctx *ctx, int argc, char **argv);
int cmd_evaluate(cli_ctx *ctx, int argc, char **argv);
int cmd_predict(cli_ctx *ctx, int argc, char **argv);
int cmd_model(cli_ctx *ctx, int argc, char **argv);
int cmd_signals(cli_ctx *ctx, int argc, char **argv);
int cmd_evolve(cli_ctx *ctx, int argc, char **argv);
int cmd_scheduler(cli_ctx *ctx, int argc, char **argv);
int cmd_jobs(cli_ctx *ctx, int argc, char **argv);
int cmd_retrain(cli_ctx *ctx, int argc, char **argv);
int cmd_models(cli_ctx *ctx, int argc, char **argv);

#endif
