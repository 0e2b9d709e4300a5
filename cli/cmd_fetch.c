/* `kizashi fetch {bars|funding|oi|all}`: collect market data from Bybit or Binance public REST
 * endpoints into the store (kz_fetch), with a progress bar on a terminal and a summary line. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kizashi/fetch.h"

#include "cli.h"

static const char USAGE[] =
    "usage: kizashi fetch {bars|funding|oi|all} --exchange {bybit|binance} --symbol SYMBOL\n"
    "                     [--timeframe TF] [--from TIME] [--to TIME] [--base-url URL] [options]\n"
    "\n"
    "Download bars, funding rates and/or open interest from the exchange's public endpoints\n"
    "(no API key) and upsert them into the store, one transaction per page. Without --from the\n"
    "fetch continues after the newest stored row (the first run takes the last --days days).\n"
    "The bar still forming is never stored. An interrupted fetch (Ctrl-C, network loss) keeps\n"
    "the whole pages it stored; run the same command again to continue.\n"
    "Binance keeps only the last 30 days of open interest: older requests are clipped.\n"
    "\n"
    "options:\n"
    "  --exchange NAME   bybit (v5 linear) or binance (USDT-M futures)\n"
    "  --symbol SYMBOL   BTCUSDT, BTC/USDT:USDT or BTC-USDT (stored as BTCUSDT)\n"
    "  --timeframe TF    bars and OI interval: 1m 5m 15m 30m 1h 4h 1d (default 1h)\n"
    "  --from TIME       start (ISO-8601 or epoch), default: incremental\n"
    "  --to TIME         end, exclusive (default now)\n"
    "  --days N          first-run lookback without --from (default 30)\n"
    "  --base-url URL    exchange base URL (default $KIZASHI_BYBIT_URL / $KIZASHI_BINANCE_URL,\n"
    "                    else https://api.bybit.com / https://fapi.binance.com)\n"
    "  --retries N       retries per request on 429/418, 5xx, timeouts (default 4)\n"
    "  --quiet           no progress bar\n"
    "  --db PATH         database file\n";

static volatile sig_atomic_t g_sigint_seen;
static atomic_int g_cancel;

static void on_sigint(int sig)
{
    (void)sig;
    g_sigint_seen = 1;
    atomic_store(&g_cancel, 1);
}

typedef struct ui {
    int tty;
    int drawn; /* a progress line is on screen */
} ui;

static const char *const KIND_NAMES[3] = {"bars", "funding", "oi"};

static void clear_line(ui *u)
{
    if (u->drawn) {
        fputs("\r\033[K", stderr);
        u->drawn = 0;
    }
}

static int on_progress(const kz_fetch_progress *p, void *ud)
{
    ui *u = ud;
    if (!u->tty) {
        return 0;
    }
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    int fill = (int)(p->fraction * WIDTH + 0.5);
    for (int i = 0; i < WIDTH; i++) {
        bar[i] = i < fill ? '#' : '-';
    }
    bar[WIDTH] = '\0';
    char eta[32] = "--:--";
    if (p->eta_s >= 0 && p->eta_s < 360000) {
        long s = (long)(p->eta_s + 0.5);
        snprintf(eta, sizeof eta, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    }
    fprintf(stderr, "\r\033[K%-7s [%s] %3.0f%%  %zu pages  %zu rows  ETA %s", KIND_NAMES[p->kind],
            bar, p->fraction * 100.0, p->pages, p->rows, eta);
    fflush(stderr);
    u->drawn = 1;
    return 0;
}

static void on_log(kz_log_level lv, const char *msg, void *ud)
{
    ui *u = ud;
    if (lv < KZ_LOG_WARN) {
        return;
    }
    clear_line(u);
    fprintf(stderr, "%s: %s\n", lv == KZ_LOG_ERROR ? "error" : "warning", msg);
}

static int parse_kinds(const char *s, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bits;
    } K[] = {{"bars", KZ_FETCH_BARS},
             {"funding", KZ_FETCH_FUNDING},
             {"oi", KZ_FETCH_OI},
             {"all", KZ_FETCH_ALL}};
    for (size_t i = 0; i < sizeof K / sizeof K[0]; i++) {
        if (strcmp(s, K[i].name) == 0) {
            *out = K[i].bits;
            return 1;
        }
    }
    return 0;
}

/* One line per fetched kind, then the totals. */
static void summary(const kz_fetch_report *r, kz_exchange ex, const char *symbol, kz_timeframe tf)
{
    for (int k = 0; k < 3; k++) {
        const kz_fetch_kind_report *kr = &r->kind[k];
        if (!kr->fetched) {
            continue;
        }
        char a[32], b[32];
        printf("%s %s %s %-7s %s .. %s: %zu rows in %zu pages -> %zu inserted, %zu updated, "
               "%zu unchanged%s\n",
               kz_exchange_str(ex), symbol, kz_timeframe_str(tf), KIND_NAMES[k],
               kz_time_format(kr->from_ms, a), kz_time_format(kr->to_ms - kr->to_ms % 1000, b),
               kr->rows, kr->pages, kr->inserted, kr->updated, kr->unchanged,
               kr->truncated ? " (clipped: the exchange keeps only the last 30 days)" : "");
    }
    printf("%zu requests, %zu retries, %.1f s (%.1f s waiting)\n", r->requests, r->retries,
           r->elapsed_s, r->slept_s);
}

int cmd_fetch(cli_ctx *ctx, int argc, char **argv)
{
    const char *ex_s = NULL, *symbol = NULL, *tf_s = "1h", *from_s = NULL, *to_s = NULL;
    const char *base = NULL, *retries_s = NULL, *days_s = NULL;
    int quiet = 0, n_pos = 0;
    const cli_opt opts[] = {
        {"exchange", CLI_STR, &ex_s, NULL},     {"symbol", CLI_STR, &symbol, NULL},
        {"timeframe", CLI_STR, &tf_s, NULL},    {"from", CLI_STR, &from_s, NULL},
        {"to", CLI_STR, &to_s, NULL},           {"base-url", CLI_STR, &base, NULL},
        {"retries", CLI_STR, &retries_s, NULL}, {"days", CLI_STR, &days_s, NULL},
        {"quiet", CLI_FLAG, NULL, &quiet},
    };
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    kz_fetch_params p = kz_fetch_params_default();
    if (n_pos != 1 || !parse_kinds(argv[1], &p.kinds)) {
        return cli_usage_error(USAGE, "expected one of bars, funding, oi, all");
    }
    kz_exchange ex;
    if (!ex_s || kz_exchange_parse(ex_s, &ex) != KZ_OK) {
        return cli_usage_error(USAGE, "--exchange: expected bybit or binance");
    }
    if (!symbol) {
        return cli_usage_error(USAGE, "--symbol is required");
    }
    char sym[32];
    kz_error err;
    if (kz_symbol_normalize(symbol, sym, sizeof sym, &err) != KZ_OK) {
        return cli_usage_error(USAGE, "--symbol: %s", err.msg);
    }
    kz_timeframe tf;
    uint64_t retries = (uint64_t)p.max_retries, days = 30;
    if ((rc = cli_parse_tf(USAGE, "timeframe", tf_s, &tf)) != CLI_CONTINUE ||
        (from_s && (rc = cli_parse_time(USAGE, "from", from_s, &p.from_ms)) != CLI_CONTINUE) ||
        (to_s && (rc = cli_parse_time(USAGE, "to", to_s, &p.to_ms)) != CLI_CONTINUE) ||
        (retries_s &&
         (rc = cli_parse_u64(USAGE, "retries", retries_s, &retries)) != CLI_CONTINUE) ||
        (days_s && (rc = cli_parse_u64(USAGE, "days", days_s, &days)) != CLI_CONTINUE)) {
        return rc;
    }
    if (retries > 30 || days < 1 || days > 36500) {
        return cli_usage_error(USAGE, "--retries must be at most 30, --days in [1, 36500]");
    }
    p.max_retries = (int)retries;
    p.lookback_ms = (int64_t)days * 86400000;
    p.base_url = base;
    if (kz_fetch_params_check(&p, ex, &err) != KZ_OK) {
        char buf[1024];
        return cli_usage_error(USAGE, "%s", kz_error_format(&err, buf, sizeof buf));
    }
    ui u = {!quiet && isatty(STDERR_FILENO), 0};
    p.progress = on_progress;
    p.progress_ud = &u;
    p.log = on_log;
    p.log_ud = &u;
    atomic_store(&g_cancel, 0);
    p.cancel = &g_cancel;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);

    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        sigaction(SIGINT, &old, NULL);
        return rc;
    }
    kz_fetch_report rep;
    kz_status s = kz_fetch(st, ex, sym, tf, &p, &rep, &err);
    sigaction(SIGINT, &old, NULL);
    clear_line(&u);
    summary(&rep, ex, sym, tf);
    kz_store_close(st);
    if (s == KZ_ERR_CANCELLED && g_sigint_seen) {
        cli_error("fetch", "interrupted; the pages stored so far are kept, run again to continue");
        return CLI_EXIT_RUNTIME;
    }
    if (s != KZ_OK) {
        char buf[1024];
        cli_error("fetch", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}
