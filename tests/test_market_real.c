/* Real-data reader test: every file under ../shared/data imports with the right kind and
 * timeframe; exact row counts, first/last stamps and gaps (see data/README.md). */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "kizashi/market.h"

#include "kz_test.h"

#define H 3600000LL

static const char *const coins[4] = {"BTC", "ETH", "SOL", "DOGE"};

static void
check_bars(const char *rel, kz_timeframe tf, size_t n, int64_t first, int64_t last, size_t gaps)
{
    kz_read_opts o = kz_read_opts_default();
    o.tf = tf;
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    char eb[800];
    kz_status st = kz_bars_read_file(kz_shared_path(rel), &o, &b, &rep, &err);
    CHECK_MSG(st == KZ_OK, "%s: %s", rel, kz_error_format(&err, eb, sizeof eb));
    CHECK_MSG(b.n == n, "%s: %zu rows, want %zu", rel, b.n, n);
    CHECK(rep.format == KZ_FMT_CSV && rep.n_skipped == 0 && rep.n_duplicates == 0);
    CHECK(rep.was_unsorted == 0);
    CHECK_MSG(rep.n_gaps == gaps, "%s: %zu gaps", rel, rep.n_gaps);
    if (b.n == n && n) {
        CHECK_EQ_INT(b.ts_ms[0], first);
        CHECK_EQ_INT(b.ts_ms[n - 1], last);
        /* No gaps: the span is exactly n bars. */
        if (gaps == 0) {
            CHECK_EQ_INT(last - first, (int64_t)(n - 1) * kz_timeframe_ms(tf));
        }
    }
    kz_bars_free(&b);
}

static void check_series(const char *rel,
                         kz_data_kind kind,
                         size_t n,
                         int64_t first,
                         int64_t last,
                         int64_t *max_step,
                         size_t *n_irregular,
                         int64_t regular)
{
    kz_series s = {0};
    kz_read_report rep;
    kz_error err;
    char eb[800];
    kz_status st = kz_series_read_file(kz_shared_path(rel), kind, NULL, &s, &rep, &err);
    CHECK_MSG(st == KZ_OK, "%s: %s", rel, kz_error_format(&err, eb, sizeof eb));
    CHECK_MSG(s.n == n, "%s: %zu rows, want %zu", rel, s.n, n);
    CHECK(rep.format == KZ_FMT_SERIES_CSV && rep.n_skipped == 0 && rep.was_unsorted == 0);
    *max_step = 0;
    *n_irregular = 0;
    if (s.n == n && n) {
        CHECK_EQ_INT(s.ts_ms[0], first);
        CHECK_EQ_INT(s.ts_ms[n - 1], last);
        for (size_t i = 1; i < n; i++) {
            int64_t d = s.ts_ms[i] - s.ts_ms[i - 1];
            *max_step = d > *max_step ? d : *max_step;
            /* Binance funding jitter is a few ms: irregular means off by more than 1 s. */
            *n_irregular += (d < regular - 1000 || d > regular + 1000) ? 1u : 0u;
            CHECK(isfinite(s.value[i]));
        }
    }
    kz_series_free(&s);
}

static void test_hourly_bars(void)
{
    char rel[128];
    for (int v = 0; v < 2; v++) {
        const char *venue = v ? "bybit" : "binance";
        for (int c = 0; c < 4; c++) {
            snprintf(rel, sizeof rel, "data/funding_the_fall/%s/%sUSDT-1h.csv", venue, coins[c]);
            int early = c < 2; /* BTC and ETH start an hour earlier than SOL and DOGE */
            check_bars(rel, KZ_TF_1H, 8736, early ? 1741258800000LL : 1741262400000LL,
                       early ? 1772704800000LL : 1772708400000LL, 0);
        }
    }
}

static void test_funding_and_oi(void)
{
    char rel[128];
    int64_t max_step;
    size_t irregular;
    for (int c = 0; c < 4; c++) {
        snprintf(rel, sizeof rel, "data/funding_the_fall/binance/%sUSDT-funding.csv", coins[c]);
        check_series(rel, KZ_DATA_FUNDING, 1092, 1741449600001LL, 1772870400012LL, &max_step,
                     &irregular, 8 * H);
        CHECK_EQ_INT(irregular, 0);
        snprintf(rel, sizeof rel, "data/funding_the_fall/bybit/%sUSDT-funding.csv", coins[c]);
        check_series(rel, KZ_DATA_FUNDING, 1092, 1741449600000LL, 1772870400000LL, &max_step,
                     &irregular, 8 * H);
        CHECK_EQ_INT(irregular, 0);
        CHECK_EQ_INT(max_step, 8 * H);
        /* Hyperliquid OI: hourly with one 19 h step (2026-01-18 23:00 -> 2026-01-19 18:00). */
        snprintf(rel, sizeof rel, "data/funding_the_fall/hyperliquid/%s-open-interest-1h.csv",
                 coins[c]);
        check_series(rel, KZ_DATA_OI, 8718, 1741420800000LL, 1772866800000LL, &max_step, &irregular,
                     H);
        CHECK_EQ_INT(irregular, 1);
        CHECK_EQ_INT(max_step, 19 * H);
    }
}

/* binance_api exports: extra columns, last line without a newline. data/README.md says 4,499
 * and 799 rows, but the files hold 4,500 and 800 complete, gap-free rows (the last line is the
 * one a newline-counting tool misses). */
static void test_binance_api(void)
{
    const char *sym[2] = {"BTC", "ETH"};
    char rel[128];
    for (int i = 0; i < 2; i++) {
        snprintf(rel, sizeof rel, "data/binance_api/4h/%sUSDT.csv", sym[i]);
        check_bars(rel, KZ_TF_4H, 4500, 1709150400000LL, 1773936000000LL, 0);
        snprintf(rel, sizeof rel, "data/binance_api/1d/%sUSDT.csv", sym[i]);
        check_bars(rel, KZ_TF_1D, 800, 1704844800000LL, 1773878400000LL, 0);
    }
    /* The 4h file read with the default 1h timeframe still passes the grid check (4h stamps
     * are on the 1h grid) and shows 3 missing hours between every pair of bars. */
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    CHECK(kz_bars_read_file(kz_shared_path("data/binance_api/4h/BTCUSDT.csv"), NULL, &b, &rep,
                            &err) == KZ_OK);
    CHECK_EQ_INT(rep.n_missing, 3 * 4499);
    CHECK_NEAR(b.close[b.n - 1], 70349.60, 0); /* the final, newline-less row */
    kz_bars_free(&b);
}

/* A full market: BTC bars, Binance funding, Hyperliquid OI; as-of values never come from the
 * future and funding_raw covers the bar span. */
static void test_market(void)
{
    kz_bars b = {0};
    kz_series f = {0}, oi = {0};
    kz_error err;
    CHECK(kz_bars_read_file(kz_shared_path("data/funding_the_fall/binance/BTCUSDT-1h.csv"), NULL,
                            &b, NULL, &err) == KZ_OK);
    CHECK(kz_series_read_file(kz_shared_path("data/funding_the_fall/binance/BTCUSDT-funding.csv"),
                              KZ_DATA_FUNDING, NULL, &f, NULL, &err) == KZ_OK);
    CHECK(kz_series_read_file(
              kz_shared_path("data/funding_the_fall/hyperliquid/BTC-open-interest-1h.csv"),
              KZ_DATA_OI, NULL, &oi, NULL, &err) == KZ_OK);
    kz_market m;
    CHECK(kz_market_build("binance", "BTCUSDT", KZ_TF_1H, &b, &f, &oi, 9 * H, 2 * H, &m) == KZ_OK);
    CHECK_EQ_INT(m.bars.n, 8736);
    /* funding_raw = the settlements in [first bar open, last bar close). */
    size_t want_raw = 0;
    for (size_t k = 0; k < f.n; k++) {
        want_raw += (f.ts_ms[k] >= b.ts_ms[0] && f.ts_ms[k] < b.ts_ms[b.n - 1] + H) ? 1u : 0u;
    }
    CHECK_EQ_INT(m.funding_raw.n, want_raw);
    CHECK(want_raw > 1080 && want_raw < 1092); /* funding runs a few days past the candles */
    size_t n_fr = 0, n_oi = 0;
    for (size_t i = 0; i < m.bars.n; i++) {
        n_fr += isnan(m.funding[i]) ? 0u : 1u;
        n_oi += isnan(m.oi[i]) ? 0u : 1u;
    }
    /* Funding starts 2025-03-08 16:00:00.001: the bar opening at 15:00 closes at 16:00, before
     * the stamp, so the first bar that sees it opens at 16:00. */
    size_t first_fr = 0;
    while (first_fr < m.bars.n && isnan(m.funding[first_fr])) {
        first_fr++;
    }
    CHECK_EQ_INT(m.bars.ts_ms[first_fr], 1741449600000LL);
    CHECK_EQ_INT(n_fr, m.bars.n - first_fr);
    /* OI starts 2025-03-08 08:00: first seen by the bar opening at 08:00 (a stamp equal to a
     * bar's close is not visible to it). The 19 h hole leaves the 17 bars opening 01:00..17:00
     * older than the 2 h max age. */
    size_t first_oi = 0;
    while (first_oi < m.bars.n && isnan(m.oi[first_oi])) {
        first_oi++;
    }
    CHECK_EQ_INT(m.bars.ts_ms[first_oi], 1741420800000LL);
    CHECK_EQ_INT(n_oi, m.bars.n - first_oi - 17);
    kz_market_free(&m);
    kz_bars_free(&b);
    kz_series_free(&f);
    kz_series_free(&oi);
}

int main(void)
{
    struct stat st;
    if (stat(kz_shared_path("data/funding_the_fall"), &st) != 0) {
        KZ_SKIP("real data not found at %s", kz_shared_path("data"));
    }
    test_hourly_bars();
    test_funding_and_oi();
    test_binance_api();
    test_market();
    KZ_TEST_DONE();
}
