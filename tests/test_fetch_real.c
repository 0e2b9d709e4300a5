/* Collector on real data: a year of BTCUSDT 1h bars, funding and open interest from
 * ../shared/data served in Bybit's and Binance's exact JSON shapes on 127.0.0.1; the fetched
 * store must equal a direct import of the same files, bit for bit. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "kizashi/fetch.h"
#include "kizashi/kizashi.h"

#include "kz_test.h"
#include "test_fetch_server.h"

static char g_dir[256];

static int same_bars(kz_store *a, kz_store *b, const char *ex)
{
    kz_bars x = {0}, y = {0};
    int ok = kz_store_get_bars(a, ex, "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, &x) == KZ_OK &&
             kz_store_get_bars(b, ex, "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, &y) == KZ_OK &&
             x.n == y.n && x.n > 0;
    size_t dn = x.n * sizeof(double);
    ok = ok && memcmp(x.ts_ms, y.ts_ms, x.n * sizeof(int64_t)) == 0 &&
         memcmp(x.open, y.open, dn) == 0 && memcmp(x.high, y.high, dn) == 0 &&
         memcmp(x.low, y.low, dn) == 0 && memcmp(x.close, y.close, dn) == 0 &&
         memcmp(x.volume, y.volume, dn) == 0;
    if (!ok) {
        fprintf(stderr, "%s bars differ: %zu fetched, %zu imported\n", ex, x.n, y.n);
    }
    kz_bars_free(&x);
    kz_bars_free(&y);
    return ok;
}

static int same_series(kz_store *a, kz_store *b, kz_data_kind kind, const char *ex, int64_t from)
{
    kz_series x = {0}, y = {0};
    int ok = kz_store_get_series(a, kind, ex, "BTCUSDT", from, INT64_MAX, &x) == KZ_OK &&
             kz_store_get_series(b, kind, ex, "BTCUSDT", from, INT64_MAX, &y) == KZ_OK &&
             x.n == y.n && x.n > 0 && memcmp(x.ts_ms, y.ts_ms, x.n * sizeof(int64_t)) == 0 &&
             memcmp(x.value, y.value, x.n * sizeof(double)) == 0;
    if (!ok) {
        fprintf(stderr, "%s series %d differs: %zu fetched, %zu imported\n", ex, (int)kind, x.n,
                y.n);
    }
    kz_series_free(&x);
    kz_series_free(&y);
    return ok;
}

/* Import the three files into `direct` and serve them as `ex`; fetch everything into a fresh
 * store and compare. */
static void run_exchange(kz_exchange ex, const char *sub)
{
    const char *exn = kz_exchange_str(ex);
    char bars_p[600], fund_p[600], oi_p[600];
    snprintf(bars_p, sizeof bars_p, "%sfunding_the_fall/%s/BTCUSDT-1h.csv", kz_shared_path("data/"),
             sub);
    snprintf(fund_p, sizeof fund_p, "%sfunding_the_fall/%s/BTCUSDT-funding.csv",
             kz_shared_path("data/"), sub);
    snprintf(oi_p, sizeof oi_p, "%sfunding_the_fall/hyperliquid/BTC-open-interest-1h.csv",
             kz_shared_path("data/"));
    kz_read_opts ro = kz_read_opts_default();
    kz_bars bars = {0};
    kz_series fund = {0}, oi = {0};
    kz_error err;
    if (kz_bars_read_file(bars_p, &ro, &bars, NULL, &err) != KZ_OK ||
        kz_series_read_file(fund_p, KZ_DATA_FUNDING, &ro, &fund, NULL, &err) != KZ_OK ||
        kz_series_read_file(oi_p, KZ_DATA_OI, &ro, &oi, NULL, &err) != KZ_OK) {
        KZ_SKIP("real data not readable (%s): %s", err.file, err.msg);
    }
    kz_store *direct = fs_store_fresh(g_dir, exn);
    CHECK(kz_store_put_bars(direct, exn, "BTCUSDT", KZ_TF_1H, &bars, NULL) == KZ_OK);
    CHECK(kz_store_put_series(direct, KZ_DATA_FUNDING, exn, "BTCUSDT", &fund, NULL) == KZ_OK);
    CHECK(kz_store_put_series(direct, KZ_DATA_OI, exn, "BTCUSDT", &oi, NULL) == KZ_OK);

    int64_t first = bars.ts_ms[0], last = bars.ts_ms[bars.n - 1];
    /* Now: the newest bar has just closed and every funding and OI row is known. */
    int64_t now = last + 3600000;
    now = now > fund.ts_ms[fund.n - 1] ? now : fund.ts_ms[fund.n - 1];
    now = now > oi.ts_ms[oi.n - 1] ? now : oi.ts_ms[oi.n - 1];
    fs_data d = {ex, KZ_TF_1H, "BTCUSDT", &bars, &fund, &oi, now, 0, 0};
    fs_server srv;
    if (fs_start(&srv, &d) != 0) {
        KZ_SKIP("cannot start a libmicrohttpd server on 127.0.0.1");
    }
    char name[64];
    snprintf(name, sizeof name, "%s_fetched", exn);
    kz_store *st = fs_store_fresh(g_dir, name);
    kz_fetch_params p = kz_fetch_params_default();
    p.base_url = srv.url;
    p.from_ms = first < fund.ts_ms[0] ? first : fund.ts_ms[0];
    p.from_ms = p.from_ms < oi.ts_ms[0] ? p.from_ms : oi.ts_ms[0];
    p.now_ms = now;
    p.rate_scale = 0;
    kz_fetch_report rep;
    kz_status s = kz_fetch(st, ex, "BTC/USDT:USDT", KZ_TF_1H, &p, &rep, &err);
    CHECK_MSG(s == KZ_OK, "%s: %s", err.file, err.msg);
    CHECK(same_bars(st, direct, exn));
    CHECK(same_series(st, direct, KZ_DATA_FUNDING, exn, INT64_MIN));
    /* Binance keeps 30 days of open interest: compare from where the fetch was clipped. */
    int64_t oi_from = rep.kind[KZ_DATA_OI].truncated ? rep.kind[KZ_DATA_OI].from_ms : INT64_MIN;
    CHECK(rep.kind[KZ_DATA_OI].truncated == (ex == KZ_EXCHANGE_BINANCE));
    CHECK(same_series(st, direct, KZ_DATA_OI, exn, oi_from));
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].rows, bars.n);
    CHECK_EQ_INT(rep.kind[KZ_DATA_FUNDING].rows, fund.n);
    /* Full pages of the documented maxima: 8736 bars = 9 Bybit pages or 6 Binance pages. */
    size_t page = ex == KZ_EXCHANGE_BYBIT ? 1000 : 1500;
    CHECK_EQ_INT(rep.kind[KZ_DATA_BARS].pages, (bars.n + page - 1) / page);
    CHECK_EQ_INT(rep.retries, 0);
    printf("%s: %zu requests, %zu pages, %zu rows in %.2f s\n", exn, rep.requests, rep.pages,
           rep.rows, rep.elapsed_s);
    kz_store_close(st);
    kz_store_close(direct);
    fs_stop(&srv);
    kz_bars_free(&bars);
    kz_series_free(&fund);
    kz_series_free(&oi);
}

int main(void)
{
    if (access(kz_shared_path("data/funding_the_fall/bybit/BTCUSDT-1h.csv"), R_OK) != 0) {
        KZ_SKIP("%s is absent", kz_shared_path("data/funding_the_fall"));
    }
    kz_tmpdir_make(g_dir, sizeof g_dir, "fetch_real");
    run_exchange(KZ_EXCHANGE_BYBIT, "bybit");
    run_exchange(KZ_EXCHANGE_BINANCE, "binance");
    CHECK(kz_tmpdir_remove(g_dir) == 0);
    KZ_TEST_DONE();
}
