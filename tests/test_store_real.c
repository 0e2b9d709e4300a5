/* Store on real data: import all of data/funding_the_fall through the library into a temporary
 * database, exact counts, idempotent re-import, and a BTCUSDT market with Hyperliquid OI checked
 * against the raw files by hand. */
#include <sys/stat.h>
#include <unistd.h>

#include "kizashi/kizashi.h"

#include "kz_test.h"

static const char *const COINS[4] = {"BTC", "ETH", "SOL", "DOGE"};

/* Import one file (bars when kind == KZ_DATA_BARS); returns the upsert stats via *us and the
 * number of rows read. */
static size_t import(kz_store *st,
                     kz_data_kind kind,
                     const char *rel,
                     const char *exchange,
                     const char *symbol,
                     kz_upsert_stats *us)
{
    kz_read_opts ro = kz_read_opts_default();
    kz_error err;
    kz_bars b = {0};
    kz_series s = {0};
    kz_status rs = kind == KZ_DATA_BARS
                       ? kz_bars_read_file(kz_shared_path(rel), &ro, &b, NULL, &err)
                       : kz_series_read_file(kz_shared_path(rel), kind, &ro, &s, NULL, &err);
    CHECK_MSG(rs == KZ_OK, "%s: %s", rel, err.msg);
    kz_status ps = kind == KZ_DATA_BARS ? kz_store_put_bars(st, exchange, symbol, KZ_TF_1H, &b, us)
                                        : kz_store_put_series(st, kind, exchange, symbol, &s, us);
    CHECK_MSG(ps == KZ_OK, "%s: %s", rel, kz_store_errmsg(st));
    size_t n = kind == KZ_DATA_BARS ? b.n : s.n;
    kz_bars_free(&b);
    kz_series_free(&s);
    return n;
}

/* Import everything; `again` = 1 checks the idempotent re-import. */
static void import_all(kz_store *st, int again)
{
    kz_upsert_stats us;
    char rel[256], sym[32];
    for (int c = 0; c < 4; c++) {
        snprintf(sym, sizeof sym, "%sUSDT", COINS[c]);
        const char *exchanges[2] = {"binance", "bybit"};
        for (int e = 0; e < 2; e++) {
            snprintf(rel, sizeof rel, "data/funding_the_fall/%s/%s-1h.csv", exchanges[e], sym);
            CHECK_EQ_INT(import(st, KZ_DATA_BARS, rel, exchanges[e], sym, &us), 8736);
            CHECK_EQ_INT(us.inserted, again ? 0 : 8736);
            CHECK_EQ_INT(us.updated, 0);
            CHECK_EQ_INT(us.unchanged, again ? 8736 : 0);
            snprintf(rel, sizeof rel, "data/funding_the_fall/%s/%s-funding.csv", exchanges[e], sym);
            CHECK_EQ_INT(import(st, KZ_DATA_FUNDING, rel, exchanges[e], sym, &us), 1092);
            CHECK_EQ_INT(us.inserted, again ? 0 : 1092);
            CHECK_EQ_INT(us.updated, 0);
        }
        snprintf(rel, sizeof rel, "data/funding_the_fall/hyperliquid/%s-open-interest-1h.csv",
                 COINS[c]);
        CHECK_EQ_INT(import(st, KZ_DATA_OI, rel, "hyperliquid", sym, &us), 8718);
        CHECK_EQ_INT(us.inserted, again ? 0 : 8718);
        CHECK_EQ_INT(us.updated, 0);
        CHECK_EQ_INT(us.unchanged, again ? 8718 : 0);
    }
}

static void check_coverage(kz_store *st)
{
    kz_coverage *rows = NULL;
    size_t n = 0;
    CHECK(kz_store_coverage(st, &rows, &n) == KZ_OK);
    CHECK_EQ_INT(n, 20); /* 8 bars + 8 funding + 4 OI series */
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind == KZ_DATA_BARS) {
            CHECK_EQ_INT(rows[i].count, 8736);
            CHECK_EQ_INT(rows[i].n_gaps, 0);
            CHECK(rows[i].tf == KZ_TF_1H);
        }
    }
    if (n == 20) {
        CHECK(strcmp(rows[0].exchange, "binance") == 0 && strcmp(rows[0].symbol, "BTCUSDT") == 0);
        CHECK_EQ_INT(rows[0].first_ms, 1741258800000LL); /* 2025-03-06T11:00Z, the file's first */
        CHECK(rows[19].kind == KZ_DATA_OI && strcmp(rows[19].exchange, "hyperliquid") == 0);
    }
    kz_free(rows);
}

static void check_market(kz_store *st)
{
    kz_load_opts o = kz_load_opts_default();
    o.oi_exchange = "hyperliquid";
    kz_market m;
    memset(&m, 0, sizeof m);
    CHECK(kz_store_load_market(st, "binance", "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, &o, &m) ==
          KZ_OK);
    CHECK_EQ_INT(m.bars.n, 8736);
    if (!m.funding || !m.oi) {
        CHECK(!"funding and OI expected");
        kz_market_free(&m);
        return;
    }
    /* 8,666 bars see both. Bars start 2025-03-06T11:00Z; the first funding settlement is
     * 2025-03-08T16:00:00.001Z, visible from the 16:00 bar on: 53 bars without FR. Hyperliquid OI
     * starts 2025-03-08T08:00Z: 45 bars without OI, all inside the 53. The 19 h OI gap (last
     * stamp 2026-01-18T23:00Z, next 2026-01-19T18:00Z) leaves the bars 01:00..17:00 (17 bars)
     * with OI older than the 2-bar limit. 8736 - 53 - 17 = 8666. Funding is never older than 9 h
     * after the first settlement (8-hourly, a few ms of jitter). */
    size_t n_fr = 0, n_oi = 0, n_both = 0;
    for (size_t i = 0; i < m.bars.n; i++) {
        int f = !isnan(m.funding[i]), q = !isnan(m.oi[i]);
        n_fr += (size_t)f;
        n_oi += (size_t)q;
        n_both += (size_t)(f && q);
    }
    CHECK_EQ_INT(n_fr, 8736 - 53);
    CHECK_EQ_INT(n_oi, 8736 - 45 - 17);
    CHECK_EQ_INT(n_both, 8666);

    /* By hand from the raw files, around the 2025-10-10 cascade:
     * bar 2025-10-10T21:00Z (1760130000000) closes at 22:00; the last funding stamp before is
     * 1760112000014 (16:00:00.014) = 0.00001013; the last OI stamp before is 21:00 =
     * 2995805229.681638. Bar 23:00 closes at 2025-10-11T00:00:00.000, exactly the stamp of the
     * 0.0001 settlement, which it must not see; the 00:00 bar does. */
    int found = 0;
    for (size_t i = 0; i + 3 < m.bars.n; i++) {
        if (m.bars.ts_ms[i] == 1760130000000LL) {
            found = 1;
            CHECK(m.bars.close[i] == 113253.6); /* the file's row for that bar */
            CHECK(m.funding[i] == 0.00001013);
            CHECK(m.oi[i] == 2995805229.681638);
            CHECK_EQ_INT(m.bars.ts_ms[i + 2], 1760137200000LL); /* 23:00 */
            CHECK(m.funding[i + 2] == 0.00001013);
            CHECK(m.funding[i + 3] == 0.0001);
        }
    }
    CHECK(found);
    kz_market_free(&m);
}

int main(void)
{
    struct stat sb;
    if (stat(kz_shared_path("data/funding_the_fall/binance/BTCUSDT-1h.csv"), &sb) != 0) {
        KZ_SKIP("real data not found at %s", kz_shared_path("data/funding_the_fall"));
    }
    char dir[64];
    kz_tmpdir_make(dir, sizeof dir, "store_real");
    const char *path = kz_path_in(dir, "real.db");
    kz_store *st = NULL;
    kz_error err;
    CHECK(kz_store_open(path, &st, &err) == KZ_OK);
    if (st) {
        import_all(st, 0);
        import_all(st, 1);
        check_coverage(st);
        check_market(st);
        kz_store_close(st);
    }
    kz_tmpdir_remove(dir);
    KZ_TEST_DONE();
}
