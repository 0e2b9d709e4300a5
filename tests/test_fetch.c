/* Collector: symbols, intervals, params; then Bybit and Binance emulated on 127.0.0.1 from
 * synthetic data: paging both ways, newest-first order, cursors, retries (429 + Retry-After,
 * 5xx, cut body), errors passed through, interruption + rerun, incremental runs, forming bar,
 * 30-day OI truncation, rate limiting, cancellation; fetched rows equal a direct import. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "kizashi/fetch.h"
#include "kizashi/kizashi.h"

#include "kz_test.h"
#include "test_fetch_server.h"

#define H      3600000LL
#define T0     1704067200000LL /* 2024-01-01T00:00Z */
#define N      2000
#define NOW    (T0 + (N - 1) * H + H / 2) /* bar N-1 is still forming */
#define CLOSED (N - 1)

static kz_bars g_bars;
static kz_series g_fund, g_fund_hourly, g_oi;
static char g_dir[256];

typedef struct recorder {
    double s[64];
    int n;
} recorder;
static recorder g_rec;

static void rec_sleep(double s, void *ud)
{
    recorder *r = ud;
    if (r->n < 64) {
        r->s[r->n] = s;
    }
    r->n++;
}

static kz_fetch_params params_for(const fs_server *s, unsigned kinds)
{
    kz_fetch_params p = kz_fetch_params_default();
    p.base_url = s->url;
    p.kinds = kinds;
    p.now_ms = NOW;
    p.from_ms = T0;
    p.rate_scale = 0;
    p.backoff_s = 0.5;
    p.sleep = rec_sleep;
    p.sleep_ud = &g_rec;
    memset(&g_rec, 0, sizeof g_rec);
    return p;
}

/* Stored bars of (exchange, BTCUSDT, 1h) equal ref[i0, i1) bit for bit. */
static int bars_match(kz_store *st, const char *ex, const kz_bars *ref, size_t i0, size_t i1)
{
    kz_bars b = {0};
    kz_status s = kz_store_get_bars(st, ex, "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, &b);
    size_t n = i1 - i0, dn = n * sizeof(double);
    int ok = s == KZ_OK && b.n == n && memcmp(b.ts_ms, ref->ts_ms + i0, n * sizeof(int64_t)) == 0 &&
             memcmp(b.open, ref->open + i0, dn) == 0 && memcmp(b.high, ref->high + i0, dn) == 0 &&
             memcmp(b.low, ref->low + i0, dn) == 0 && memcmp(b.close, ref->close + i0, dn) == 0 &&
             memcmp(b.volume, ref->volume + i0, dn) == 0;
    if (!ok) {
        fprintf(stderr, "bars_match: status %d, %zu stored, %zu expected\n", (int)s, b.n, n);
    }
    kz_bars_free(&b);
    return ok;
}

/* Stored series equal the rows of ref with from <= ts <= to, bit for bit. */
static int series_match(
    kz_store *st, kz_data_kind kind, const char *ex, const kz_series *ref, int64_t from, int64_t to)
{
    kz_series s = {0};
    kz_status rc = kz_store_get_series(st, kind, ex, "BTCUSDT", INT64_MIN, INT64_MAX, &s);
    size_t i0 = 0;
    while (i0 < ref->n && ref->ts_ms[i0] < from) {
        i0++;
    }
    size_t i1 = i0;
    while (i1 < ref->n && ref->ts_ms[i1] <= to) {
        i1++;
    }
    size_t n = i1 - i0;
    int ok = rc == KZ_OK && s.n == n && n > 0 &&
             memcmp(s.ts_ms, ref->ts_ms + i0, n * sizeof(int64_t)) == 0 &&
             memcmp(s.value, ref->value + i0, n * sizeof(double)) == 0;
    if (!ok) {
        fprintf(stderr, "series_match: status %d, %zu stored, %zu expected\n", (int)rc, s.n, n);
    }
    kz_series_free(&s);
    return ok;
}

static size_t stored_gaps(kz_store *st)
{
    kz_coverage *rows = NULL;
    size_t n = 0, gaps = 0;
    if (kz_store_coverage(st, &rows, &n) == KZ_OK) {
        for (size_t i = 0; i < n; i++) {
            gaps += rows[i].kind == KZ_DATA_BARS ? rows[i].n_gaps : 0;
        }
    }
    kz_free(rows);
    return gaps;
}

static void start_server(fs_server *s, kz_exchange ex, const kz_series *funding)
{
    fs_data d = {ex, KZ_TF_1H, "BTCUSDT", &g_bars, funding, &g_oi, NOW, 0, 0};
    if (fs_start(s, &d) != 0) {
        KZ_SKIP("cannot start a libmicrohttpd server on 127.0.0.1");
    }
}

/* ---------------------------------------------------------------- pure functions */

static void test_symbols(void)
{
    static const char *const ok[] = {"BTCUSDT",    "btcusdt",  "BTC/USDT:USDT", "BTC/USDT",
                                     " BTC-USDT ", "BTC_USDT", "BTCUSDT_PERP",  "btc-usdt-perp"};
    char out[32];
    kz_error err;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_MSG(kz_symbol_normalize(ok[i], out, sizeof out, &err) == KZ_OK, "%s", ok[i]);
        CHECK_MSG(strcmp(out, "BTCUSDT") == 0, "%s -> %s", ok[i], out);
    }
    CHECK(kz_symbol_normalize("1000PEPE/USDT:USDT", out, sizeof out, &err) == KZ_OK);
    CHECK(strcmp(out, "1000PEPEUSDT") == 0);
    static const char *const bad[] = {"",      "BTC/USD:BTC", "BTC/USDT/X",  "BTC$USDT",
                                      "/USDT", "BTC-",        "BTCUSDT:USDT"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(kz_symbol_normalize(bad[i], out, sizeof out, &err) == KZ_ERR_INVALID, "%s",
                  bad[i]);
        CHECK(strcmp(err.field, "symbol") == 0);
    }
    CHECK(kz_symbol_normalize("BTC/USD:BTC", out, sizeof out, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "linear");
    CHECK(kz_symbol_normalize("BTCUSDT", out, 4, &err) == KZ_ERR_INVALID);
}

static void test_names_intervals(void)
{
    kz_exchange ex;
    CHECK(kz_exchange_parse("Bybit", &ex) == KZ_OK && ex == KZ_EXCHANGE_BYBIT);
    CHECK(kz_exchange_parse("binance", &ex) == KZ_OK && ex == KZ_EXCHANGE_BINANCE);
    CHECK(kz_exchange_parse("binancex", &ex) == KZ_ERR_INVALID);
    CHECK(kz_exchange_parse("okx", &ex) == KZ_ERR_INVALID);
    CHECK(strcmp(kz_exchange_str(KZ_EXCHANGE_BINANCE), "binance") == 0);
    CHECK(strcmp(kz_exchange_default_url(KZ_EXCHANGE_BYBIT), "https://api.bybit.com") == 0);
    CHECK(strcmp(kz_exchange_default_url(KZ_EXCHANGE_BINANCE), "https://fapi.binance.com") == 0);
    CHECK(strcmp(kz_exchange_url_env(KZ_EXCHANGE_BINANCE), "KIZASHI_BINANCE_URL") == 0);
    static const char *const want[4][KZ_TF_COUNT] = {
        {"1", "5", "15", "30", "60", "240", "D"},
        {"5min", "5min", "15min", "30min", "1h", "4h", "1d"},
        {"1m", "5m", "15m", "30m", "1h", "4h", "1d"},
        {"5m", "5m", "15m", "30m", "1h", "4h", "1d"},
    };
    for (int row = 0; row < 4; row++) {
        kz_exchange e = row < 2 ? KZ_EXCHANGE_BYBIT : KZ_EXCHANGE_BINANCE;
        kz_data_kind k = row % 2 ? KZ_DATA_OI : KZ_DATA_BARS;
        for (int tf = 0; tf < KZ_TF_COUNT; tf++) {
            const char *s = NULL;
            CHECK(kz_fetch_interval(e, k, (kz_timeframe)tf, &s) == KZ_OK);
            CHECK_MSG(s && strcmp(s, want[row][tf]) == 0, "row %d tf %d: %s", row, tf, s);
        }
    }
    const char *s;
    CHECK(kz_fetch_interval(KZ_EXCHANGE_BYBIT, KZ_DATA_FUNDING, KZ_TF_1H, &s) == KZ_ERR_INVALID);
    CHECK(kz_fetch_interval(KZ_EXCHANGE_BYBIT, KZ_DATA_BARS, KZ_TF_COUNT, &s) == KZ_ERR_INVALID);
}

static void test_params(void)
{
    kz_fetch_params p = kz_fetch_params_default();
    kz_error err;
    CHECK(p.kinds == KZ_FETCH_ALL && p.from_ms == INT64_MIN && p.to_ms == INT64_MAX);
    CHECK(p.lookback_ms == 30 * 86400000LL && p.max_retries == 4 && p.rate_scale == 1.0);
    CHECK(kz_fetch_params_check(&p, KZ_EXCHANGE_BYBIT, &err) == KZ_OK);
    p.bars_page = 1001;
    CHECK(kz_fetch_params_check(&p, KZ_EXCHANGE_BYBIT, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "bars_page") == 0);
    CHECK(kz_fetch_params_check(&p, KZ_EXCHANGE_BINANCE, &err) == KZ_OK); /* Binance: 1500 */
    p = kz_fetch_params_default();
    p.from_ms = T0;
    p.to_ms = T0;
    CHECK(kz_fetch_params_check(&p, KZ_EXCHANGE_BYBIT, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "to_ms") == 0);
    p = kz_fetch_params_default();
    p.base_url = "ftp://example.com";
    CHECK(kz_fetch_params_check(&p, KZ_EXCHANGE_BYBIT, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "base_url") == 0);
    p = kz_fetch_params_default();
    p.kinds = 0;
    CHECK(kz_fetch_params_check(&p, KZ_EXCHANGE_BYBIT, &err) == KZ_ERR_INVALID);
    p = kz_fetch_params_default();
    p.backoff_s = -1;
    CHECK(kz_fetch_params_check(&p, KZ_EXCHANGE_BYBIT, &err) == KZ_ERR_INVALID);
}

/* ---------------------------------------------------------------- full runs */

/* Bybit: kline windows (newest-first pages), funding paid hourly so each window pages backwards
 * by endTime, OI capped at 50 rows a page so each window follows nextPageCursor. The result
 * equals a direct import of the same rows. */
static void test_bybit_all(void)
{
    fs_server srv;
    start_server(&srv, KZ_EXCHANGE_BYBIT, &g_fund_hourly);
    srv.data.oi_cap = 50;
    kz_store *st = fs_store_fresh(g_dir, "bybit_all");
    kz_fetch_params p = params_for(&srv, KZ_FETCH_ALL);
    p.bars_page = 100;
    p.funding_page = 20;
    p.oi_page = 200;
    kz_fetch_report rep;
    kz_error err;
    kz_status s = kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTC/USDT:USDT", KZ_TF_1H, &p, &rep, &err);
    CHECK_MSG(s == KZ_OK, "%s", err.msg);
    CHECK(bars_match(st, "bybit", &g_bars, 0, CLOSED));
    CHECK(series_match(st, KZ_DATA_FUNDING, "bybit", &g_fund_hourly, T0, NOW));
    CHECK(series_match(st, KZ_DATA_OI, "bybit", &g_oi, T0, NOW));
    /* 1999 closed bars in windows of 100: 20 pages, one request each. */
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].pages, 20);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].inserted, CLOSED);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].from_ms, T0);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].to_ms, T0 + (N - 1) * H); /* the forming bar's open */
    /* Hourly funding, windows of 20 * 8 h = 160 rows, pages of 20: 8 backward pages each. */
    size_t nf = rep.kind[KZ_DATA_FUNDING].rows;
    CHECK_EQ_INT(nf, N); /* hourly stamps T0 .. T0 + 1999 h are all <= NOW */
    CHECK_EQ_INT(rep.kind[KZ_DATA_FUNDING].pages, N / 20);
    /* OI: windows of 200 rows, served 50 a page through the cursor. */
    CHECK_EQ_INT(rep.kind[KZ_DATA_OI].pages, N / 50);
    CHECK_EQ_INT(rep.retries, 0);
    CHECK_EQ_INT(rep.requests, fs_requests(&srv));
    CHECK_EQ_INT(rep.rows, CLOSED + 2 * N);
    /* The direct import of the same rows gives the same store content. */
    kz_store *direct = fs_store_fresh(g_dir, "bybit_direct");
    kz_bars closed = g_bars;
    closed.n = CLOSED;
    CHECK(kz_store_put_bars(direct, "bybit", "BTCUSDT", KZ_TF_1H, &closed, NULL) == KZ_OK);
    kz_bars a = {0}, b = {0};
    CHECK(kz_store_get_bars(st, "bybit", "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, &a) == KZ_OK);
    CHECK(kz_store_get_bars(direct, "bybit", "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, &b) ==
          KZ_OK);
    CHECK(a.n == b.n && memcmp(a.close, b.close, a.n * sizeof(double)) == 0 &&
          memcmp(a.ts_ms, b.ts_ms, a.n * sizeof(int64_t)) == 0);
    kz_bars_free(&a);
    kz_bars_free(&b);
    kz_store_close(direct);
    /* A second run of the same range re-reads everything and changes nothing. */
    s = kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err);
    CHECK(s == KZ_OK);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].unchanged, CLOSED);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].inserted + rep.kind[KZ_DATA_BARS].updated, 0);
    kz_store_close(st);
    fs_stop(&srv);
}

/* Binance: klines and fundingRate page forward from startTime; openInterestHist keeps 30 days
 * (the start is clipped and the report says so) and favours a range's newest rows. */
static int g_warned_30d;
static void on_log(kz_log_level lv, const char *msg, void *ud)
{
    (void)ud;
    if (lv == KZ_LOG_WARN && strstr(msg, "last 30 days")) {
        g_warned_30d = 1;
    }
}

static void test_binance_all(void)
{
    fs_server srv;
    start_server(&srv, KZ_EXCHANGE_BINANCE, &g_fund);
    kz_store *st = fs_store_fresh(g_dir, "binance_all");
    kz_fetch_params p = params_for(&srv, KZ_FETCH_ALL);
    p.bars_page = 500;
    p.funding_page = 100;
    p.oi_page = 100;
    p.log = on_log;
    kz_fetch_report rep;
    kz_error err;
    g_warned_30d = 0;
    kz_status s = kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTC-USDT", KZ_TF_1H, &p, &rep, &err);
    CHECK_MSG(s == KZ_OK, "%s", err.msg);
    CHECK(bars_match(st, "binance", &g_bars, 0, CLOSED));
    CHECK(series_match(st, KZ_DATA_FUNDING, "binance", &g_fund, T0, NOW));
    int64_t oi_from = (NOW - 30 * 86400000LL) / H * H + H;
    CHECK(series_match(st, KZ_DATA_OI, "binance", &g_oi, oi_from, NOW));
    CHECK(rep.kind[KZ_DATA_OI].truncated == 1 && g_warned_30d);
    CHECK_EQ_INT(rep.kind[KZ_DATA_OI].from_ms, oi_from);
    CHECK(rep.kind[KZ_DATA_BARS].truncated == 0);
    /* 1999 bars, pages of 500: 500, 500, 500, 499 (short page ends the walk). */
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].pages, 4);
    CHECK_EQ_INT(rep.kind[KZ_DATA_OI].pages, 8); /* 720 hourly rows in windows of 100 */
    kz_store_close(st);
    fs_stop(&srv);
}

/* ---------------------------------------------------------------- retries and errors */

static void test_retries(void)
{
    fs_server srv;
    start_server(&srv, KZ_EXCHANGE_BINANCE, &g_fund);
    kz_fetch_report rep;
    kz_error err;
    /* 429 twice with Retry-After: 2, then success: both waits are the server's 2 s. */
    kz_store *st = fs_store_fresh(g_dir, "retry429");
    kz_fetch_params p = params_for(&srv, KZ_FETCH_BARS);
    fs_faults f = {0};
    f.n_429 = 2;
    f.retry_after = 2;
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK_EQ_INT(rep.retries, 2);
    CHECK(g_rec.n == 2 && g_rec.s[0] == 2.0 && g_rec.s[1] == 2.0);
    CHECK(rep.slept_s == 4.0);
    CHECK(bars_match(st, "binance", &g_bars, 0, CLOSED));
    kz_store_close(st);

    /* 500 then success: one exponential backoff of backoff_s. */
    st = fs_store_fresh(g_dir, "retry500");
    p = params_for(&srv, KZ_FETCH_BARS);
    memset(&f, 0, sizeof f);
    f.n_500 = 1;
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK(rep.retries == 1 && g_rec.n == 1 && g_rec.s[0] == 0.5);
    CHECK(bars_match(st, "binance", &g_bars, 0, CLOSED));
    kz_store_close(st);

    /* 500 forever: backoff doubles (0.5, 1, 2), then a clear I/O error; nothing stored. */
    st = fs_store_fresh(g_dir, "retry500x");
    p = params_for(&srv, KZ_FETCH_BARS);
    p.max_retries = 3;
    f.n_500 = 100;
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_ERR_IO);
    CHECK(g_rec.n == 3 && g_rec.s[0] == 0.5 && g_rec.s[1] == 1.0 && g_rec.s[2] == 2.0);
    CHECK_STR_CONTAINS(err.msg, "giving up after 4 attempts");
    CHECK_STR_CONTAINS(err.msg, "HTTP 500");
    CHECK_STR_CONTAINS(err.file, srv.url);
    CHECK_EQ_INT(rep.requests, 4);
    kz_store_close(st);

    /* A Retry-After longer than retry_after_max_s (an IP ban) fails at once. */
    st = fs_store_fresh(g_dir, "retry_ban");
    p = params_for(&srv, KZ_FETCH_BARS);
    memset(&f, 0, sizeof f);
    f.n_429 = 1;
    f.retry_after = 7200;
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_ERR_IO);
    CHECK_STR_CONTAINS(err.msg, "7200 s");
    CHECK(g_rec.n == 0 && rep.requests == 1);
    kz_store_close(st);

    /* A body cut half-way is a transport error: retried, never stored in part. */
    st = fs_store_fresh(g_dir, "partial");
    p = params_for(&srv, KZ_FETCH_BARS);
    p.bars_page = 500;
    memset(&f, 0, sizeof f);
    f.partial_at = 2;
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK(rep.retries == 1 && rep.kind[KZ_DATA_BARS].pages == 4);
    CHECK(bars_match(st, "binance", &g_bars, 0, CLOSED));
    kz_store_close(st);
    fs_stop(&srv);
}

/* Bybit reports errors as retCode/retMsg in a 200; Binance as {code, msg} with a 4xx. */
static void test_exchange_errors(void)
{
    kz_error err;
    kz_fetch_report rep;
    fs_server by, bn;
    start_server(&by, KZ_EXCHANGE_BYBIT, &g_fund);
    start_server(&bn, KZ_EXCHANGE_BINANCE, &g_fund);
    kz_store *st = fs_store_fresh(g_dir, "errors");
    kz_fetch_params p = params_for(&by, KZ_FETCH_BARS);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BYBIT, "ETHUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "params error: symbol invalid");
    CHECK_STR_CONTAINS(err.msg, "10001");
    CHECK(strcmp(err.field, "retMsg") == 0);
    CHECK_STR_CONTAINS(err.file, "/v5/market/kline?category=linear&symbol=ETHUSDT&interval=60");
    CHECK(rep.retries == 0 && rep.requests == 1);
    p = params_for(&bn, KZ_FETCH_FUNDING);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "ETH/USDT:USDT", KZ_TF_1H, &p, &rep, &err) ==
          KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "Invalid symbol.");
    CHECK_STR_CONTAINS(err.msg, "HTTP 400");
    CHECK_STR_CONTAINS(err.msg, "-1121");
    CHECK(strcmp(err.field, "msg") == 0);
    /* A wrong base path: the 404 page's text is passed through. */
    char base[96];
    snprintf(base, sizeof base, "%s/nope", bn.url);
    p.base_url = base;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "HTTP 404");
    CHECK_STR_CONTAINS(err.msg, "Not Found");
    /* Nothing listens: transport errors are retried, then reported. */
    fs_stop(&bn);
    p = params_for(&bn, KZ_FETCH_BARS);
    p.max_retries = 1;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_ERR_IO);
    CHECK_STR_CONTAINS(err.msg, "giving up after 2 attempts");
    kz_coverage *cov = NULL;
    size_t ncov = 0;
    CHECK(kz_store_coverage(st, &cov, &ncov) == KZ_OK && ncov == 0);
    kz_free(cov);
    kz_store_close(st);
    fs_stop(&by);
}

/* A malformed body or an invalid row fails with a clear error; nothing of that page is stored,
 * the pages before it are, and a rerun completes the range. */
static void test_bad_pages(void)
{
    kz_error err;
    kz_fetch_report rep;
    fs_server srv;
    start_server(&srv, KZ_EXCHANGE_BYBIT, &g_fund);
    kz_store *st = fs_store_fresh(g_dir, "malformed");
    kz_fetch_params p = params_for(&srv, KZ_FETCH_BARS);
    p.bars_page = 500;
    fs_faults f = {0};
    f.malformed_at = 3;
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_ERR_PARSE);
    CHECK_STR_CONTAINS(err.msg, "malformed JSON");
    CHECK_STR_CONTAINS(err.file, "127.0.0.1");
    CHECK(err.line >= 1 && err.column > 1);
    CHECK_EQ_INT(rep.requests, 3);
    CHECK(bars_match(st, "bybit", &g_bars, 0, 1000));
    memset(&f, 0, sizeof f);
    fs_set_faults(&srv, &f);
    p.from_ms = INT64_MIN; /* incremental: continues after the stored prefix */
    CHECK(kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK(bars_match(st, "bybit", &g_bars, 0, CLOSED));
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].inserted, CLOSED - 1000);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].unchanged, 0);
    kz_store_close(st);

    st = fs_store_fresh(g_dir, "badrow");
    p = params_for(&srv, KZ_FETCH_BARS);
    p.bars_page = 500;
    f.badrow_at = 2;
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) ==
          KZ_ERR_VALIDATION);
    CHECK_STR_CONTAINS(err.msg, "below low");
    CHECK(strcmp(err.field, "high") == 0);
    CHECK(bars_match(st, "bybit", &g_bars, 0, 500));
    kz_store_close(st);
    fs_stop(&srv);
}

/* The connection drops for good mid-run: the store holds a gap-free prefix of whole pages; a
 * rerun (incremental) completes the range with no duplicate and no gap. */
static void test_cut_and_rerun(void)
{
    kz_error err;
    kz_fetch_report rep;
    fs_server srv;
    start_server(&srv, KZ_EXCHANGE_BINANCE, &g_fund);
    kz_store *st = fs_store_fresh(g_dir, "cut");
    kz_fetch_params p = params_for(&srv, KZ_FETCH_BARS | KZ_FETCH_FUNDING);
    p.bars_page = 200;
    p.max_retries = 1;
    fs_faults f = {0};
    f.cut_from = 4;
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_ERR_IO);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].rows, 600);
    CHECK(bars_match(st, "binance", &g_bars, 0, 600));
    CHECK_EQ_INT(stored_gaps(st), 0);
    memset(&f, 0, sizeof f);
    fs_set_faults(&srv, &f);
    p = params_for(&srv, KZ_FETCH_BARS | KZ_FETCH_FUNDING);
    p.from_ms = INT64_MIN;
    p.lookback_ms = NOW - T0; /* for the empty funding series: from T0 */
    p.bars_page = 200;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].from_ms, T0 + 600 * H);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].inserted, CLOSED - 600);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].unchanged, 0);
    CHECK(bars_match(st, "binance", &g_bars, 0, CLOSED));
    CHECK(series_match(st, KZ_DATA_FUNDING, "binance", &g_fund, T0, NOW));
    CHECK_EQ_INT(stored_gaps(st), 0);
    kz_store_close(st);
    fs_stop(&srv);
}

/* Incremental runs continue after the newest stored bar; the forming bar is never stored, also
 * when "now" is the clock and only the server's time says the bar is still open. */
static void test_incremental_and_forming(void)
{
    kz_error err;
    kz_fetch_report rep;
    fs_server srv;
    start_server(&srv, KZ_EXCHANGE_BYBIT, &g_fund);
    kz_store *st = fs_store_fresh(g_dir, "incr");
    int64_t now1 = T0 + 1000 * H + H / 2;
    fs_set_now(&srv, now1, 0);
    kz_fetch_params p = params_for(&srv, KZ_FETCH_BARS);
    p.from_ms = INT64_MIN;
    p.lookback_ms = now1 - T0; /* empty store: start at T0 */
    p.now_ms = now1;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK(bars_match(st, "bybit", &g_bars, 0, 1000)); /* bar 1000 was forming at now1 */
    int64_t now2 = T0 + 1500 * H + H / 2;
    fs_set_now(&srv, now2, 0);
    p.now_ms = now2;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].from_ms, T0 + 1000 * H);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].inserted, 500);
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].unchanged, 0);
    CHECK_EQ_INT(rep.requests, 1);
    CHECK(bars_match(st, "bybit", &g_bars, 0, 1500));
    /* Nothing new yet: no request at all. */
    CHECK(kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK(rep.requests == 0 && rep.rows == 0);
    /* now from the clock (years later); the server's "time" caps it inside bar 1999. */
    fs_set_now(&srv, NOW, NOW);
    p.now_ms = 0;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK(bars_match(st, "bybit", &g_bars, 0, CLOSED));
    CHECK_EQ_INT(rep.rows_dropped, 1); /* bar N-1 came back but was still forming */
    kz_store_close(st);
    fs_stop(&srv);
}

/* ---------------------------------------------------------------- control */

static int g_stop_after;
static int g_progress_calls;
static double g_last_fraction;
static int stop_cb(const kz_fetch_progress *pr, void *ud)
{
    (void)ud;
    g_progress_calls++;
    g_last_fraction = pr->fraction;
    return g_stop_after && g_progress_calls >= g_stop_after;
}

static void test_control(void)
{
    kz_error err;
    kz_fetch_report rep;
    fs_server srv;
    start_server(&srv, KZ_EXCHANGE_BINANCE, &g_fund);
    /* Progress reaches 1 and may stop the run; stored pages stay. */
    kz_store *st = fs_store_fresh(g_dir, "progress");
    kz_fetch_params p = params_for(&srv, KZ_FETCH_BARS);
    p.bars_page = 500;
    p.progress = stop_cb;
    g_progress_calls = 0;
    g_stop_after = 0;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    CHECK(g_progress_calls == 4 && g_last_fraction == 1.0);
    kz_store_close(st);
    st = fs_store_fresh(g_dir, "stopped");
    g_progress_calls = 0;
    g_stop_after = 2;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) ==
          KZ_ERR_CANCELLED);
    CHECK(bars_match(st, "binance", &g_bars, 0, 1000));
    /* A raised cancel flag stops before the first request. */
    atomic_int flag;
    atomic_init(&flag, 1);
    p.progress = NULL;
    p.cancel = &flag;
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) ==
          KZ_ERR_CANCELLED);
    CHECK(rep.requests == 0);
    kz_store_close(st);

    /* Rate limiting: fundingRate's 500 requests / 5 min = one per 0.6 s after a burst of 10. */
    st = fs_store_fresh(g_dir, "rate");
    p = params_for(&srv, KZ_FETCH_FUNDING);
    p.funding_page = 10;
    p.rate_scale = 1.0;
    fs_faults f = {0};
    fs_set_faults(&srv, &f);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    /* Real time passing while the test runs refills the bucket too (500 / 300 per second). */
    double want = (double)(rep.requests - 10) * 0.6, refill = rep.elapsed_s * 0.6 * 500 / 300;
    CHECK(rep.requests > 20);
    CHECK_MSG(rep.slept_s <= want + 1e-9 && rep.slept_s >= want - refill - 1e-9,
              "slept %g, want %g - up to %g", rep.slept_s, want, refill);
    CHECK(series_match(st, KZ_DATA_FUNDING, "binance", &g_fund, T0, NOW));
    kz_store_close(st);

    /* The base URL can come from KIZASHI_BINANCE_URL. */
    st = fs_store_fresh(g_dir, "env");
    p = params_for(&srv, KZ_FETCH_BARS);
    p.base_url = NULL;
    setenv("KIZASHI_BINANCE_URL", srv.url, 1);
    CHECK(kz_fetch(st, KZ_EXCHANGE_BINANCE, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) == KZ_OK);
    unsetenv("KIZASHI_BINANCE_URL");
    CHECK(bars_match(st, "binance", &g_bars, 0, CLOSED));
    kz_store_close(st);
    fs_stop(&srv);
}

/* ---------------------------------------------------------------- out of memory */

static long g_alloc_left;
static void *oom_malloc(size_t n, void *ud)
{
    (void)ud;
    return g_alloc_left-- > 0 ? malloc(n) : NULL;
}
static void *oom_realloc(void *q, size_t n, void *ud)
{
    (void)ud;
    return g_alloc_left-- > 0 ? realloc(q, n) : NULL;
}
static void oom_free(void *q, void *ud)
{
    (void)ud;
    free(q);
}

/* Every allocation failure ends the call with KZ_ERR_NOMEM (or a store error when the store's
 * own allocation failed), never a crash or a leak (ASan), and whole pages only. */
static void test_oom(void)
{
    fs_server srv;
    start_server(&srv, KZ_EXCHANGE_BYBIT, &g_fund);
    kz_store *st = fs_store_fresh(g_dir, "oom");
    const kz_allocator a = {oom_malloc, oom_realloc, oom_free, NULL};
    int ok = 0;
    for (long k = 0; k < 400 && !ok; k++) {
        kz_fetch_params p = params_for(&srv, KZ_FETCH_BARS | KZ_FETCH_FUNDING);
        p.to_ms = T0 + 300 * H;
        p.bars_page = 100;
        kz_fetch_report rep;
        kz_error err;
        g_alloc_left = k;
        kz_set_allocator(&a);
        kz_status s = kz_fetch(st, KZ_EXCHANGE_BYBIT, "BTCUSDT", KZ_TF_1H, &p, &rep, &err);
        kz_set_allocator(NULL);
        CHECK_MSG(s == KZ_OK || s == KZ_ERR_NOMEM || s == KZ_ERR_STORE, "k %ld: %d %s", k, (int)s,
                  err.msg);
        ok = s == KZ_OK;
    }
    CHECK(ok);
    CHECK(bars_match(st, "bybit", &g_bars, 0, 300));
    CHECK_EQ_INT(stored_gaps(st), 0);
    kz_store_close(st);
    fs_stop(&srv);
}

int main(void)
{
    kz_tmpdir_make(g_dir, sizeof g_dir, "fetch");
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = N;
    sp.start_ms = T0;
    kz_error err;
    if (kz_synth_generate(&sp, &g_bars, &g_fund, &g_oi, &err) != KZ_OK) {
        fprintf(stderr, "synth: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < N; i++) {
        CHECK(kz_series_push(&g_fund_hourly, T0 + (int64_t)i * H,
                             1e-4 * (double)((int)(i % 17) - 8) / 3.0) == KZ_OK);
    }
    test_symbols();
    test_names_intervals();
    test_params();
    test_bybit_all();
    test_binance_all();
    test_retries();
    test_exchange_errors();
    test_bad_pages();
    test_cut_and_rerun();
    test_incremental_and_forming();
    test_control();
    test_oom();
    kz_bars_free(&g_bars);
    kz_series_free(&g_fund);
    kz_series_free(&g_fund_hourly);
    kz_series_free(&g_oi);
    CHECK(kz_tmpdir_remove(g_dir) == 0);
    KZ_TEST_DONE();
}
