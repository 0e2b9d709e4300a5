/* Store: open/migrate, bit-exact round trips, upsert statistics, rollback, range bounds,
 * coverage, last_ts, as-of loading of FR/OI, schema/format rejection and OOM injection. */
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kizashi/kizashi.h"

#include "kz_test.h"
#include "store/store_int.h"

#define H 3600000LL

static char g_dir[256];

/* n hourly bars from start; values with long binary expansions so round trips are bit-exact. */
static kz_bars make_bars(size_t n, int64_t start, double base)
{
    kz_bars b = {0};
    for (size_t i = 0; i < n; i++) {
        double o = base + (double)i / 3.0, c = o + 1.0 / 7.0;
        kz_status s = kz_bars_push(&b, start + (int64_t)i * H, o, c + 0.1, o - 0.1, c,
                                   1000.0 / 3.0 + (double)i);
        CHECK(s == KZ_OK);
    }
    return b;
}

static int bars_equal(const kz_bars *a, const kz_bars *b)
{
    if (a->n != b->n) {
        return 0;
    }
    size_t dn = a->n * sizeof(double);
    return a->n == 0 || (memcmp(a->ts_ms, b->ts_ms, a->n * sizeof(int64_t)) == 0 &&
                         memcmp(a->open, b->open, dn) == 0 && memcmp(a->high, b->high, dn) == 0 &&
                         memcmp(a->low, b->low, dn) == 0 && memcmp(a->close, b->close, dn) == 0 &&
                         memcmp(a->volume, b->volume, dn) == 0);
}

static int stats_are(const kz_upsert_stats *s, size_t ins, size_t upd, size_t unch)
{
    return s->inserted == ins && s->updated == upd && s->unchanged == unch;
}

static kz_store *open_ok(const char *path)
{
    kz_store *st = NULL;
    kz_error err;
    kz_status s = kz_store_open(path, &st, &err);
    CHECK_MSG(s == KZ_OK, "open %s: %s", path, err.msg);
    return st;
}

static void test_open_and_persist(void)
{
    const char *path = kz_path_in(g_dir, "a/b/c/persist.db");
    kz_store *st = open_ok(path);
    if (!st) {
        return;
    }
    CHECK_EQ_INT(kz_store_schema_version(st), KZ_STORE_SCHEMA_VERSION);
    kz_bars b = make_bars(10, 1700000000000LL - 1700000000000LL % H, 100.0);
    kz_upsert_stats us;
    CHECK(kz_store_put_bars(st, "binance", "BTCUSDT", KZ_TF_1H, &b, &us) == KZ_OK);
    CHECK(stats_are(&us, 10, 0, 0));
    kz_store_close(st);

    st = open_ok(path); /* reopen: same version, data still there */
    if (st) {
        CHECK_EQ_INT(kz_store_schema_version(st), KZ_STORE_SCHEMA_VERSION);
        kz_bars got = {0};
        CHECK(kz_store_get_bars(st, "binance", "BTCUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, &got) ==
              KZ_OK);
        CHECK(bars_equal(&b, &got));
        kz_bars_free(&got);
        kz_store_close(st);
    }
    kz_bars_free(&b);

    /* a parent "directory" that is a file cannot be created */
    FILE *f = fopen(kz_path_in(g_dir, "plainfile"), "w");
    if (f) {
        fclose(f);
    }
    kz_error err;
    CHECK(kz_store_open(kz_path_in(g_dir, "plainfile/x.db"), &st, &err) == KZ_ERR_IO);
    CHECK(st == NULL);
    CHECK_STR_CONTAINS(err.msg, "not a directory");
}

static void test_upsert_stats_and_range(void)
{
    kz_store *st = open_ok(kz_path_in(g_dir, "upsert.db"));
    if (!st) {
        return;
    }
    const int64_t t0 = 1704067200000LL; /* 2024-01-01T00:00Z */
    kz_bars b = make_bars(100, t0, 50.0);
    kz_upsert_stats us;
    CHECK(kz_store_put_bars(st, "bx", "ETHUSDT", KZ_TF_1H, &b, &us) == KZ_OK);
    CHECK(stats_are(&us, 100, 0, 0));
    CHECK(kz_store_put_bars(st, "bx", "ETHUSDT", KZ_TF_1H, &b, &us) == KZ_OK);
    CHECK_MSG(stats_are(&us, 0, 0, 100), "%zu %zu %zu", us.inserted, us.updated, us.unchanged);

    b.close[42] = nextafter(b.close[42], 1e9); /* one ulp: still a change */
    CHECK(kz_store_put_bars(st, "bx", "ETHUSDT", KZ_TF_1H, &b, &us) == KZ_OK);
    CHECK(stats_are(&us, 0, 1, 99));
    kz_bars got = {0};
    CHECK(kz_store_get_bars(st, "bx", "ETHUSDT", KZ_TF_1H, INT64_MIN, INT64_MAX, &got) == KZ_OK);
    CHECK(bars_equal(&b, &got));
    kz_bars_free(&got);

    /* overlap: 3 stored rows (one changed) + 2 new rows */
    kz_bars ov = {0};
    for (size_t i = 97; i < 102; i++) {
        double c = i == 98 ? 7.0 : (i < 100 ? b.close[i] : 60.0);
        double o = i < 100 ? b.open[i] : 60.0, hi = i < 100 ? b.high[i] : 61.0;
        double lo = i < 100 ? b.low[i] : 5.0, v = i < 100 ? b.volume[i] : 1.0;
        CHECK(kz_bars_push(&ov, t0 + (int64_t)i * H, o, hi, lo, c, v) == KZ_OK);
    }
    CHECK(kz_store_put_bars(st, "bx", "ETHUSDT", KZ_TF_1H, &ov, &us) == KZ_OK);
    CHECK_MSG(stats_are(&us, 2, 1, 2), "%zu %zu %zu", us.inserted, us.updated, us.unchanged);

    /* duplicate timestamps inside one input: the second occurrence updates the first */
    kz_bars dup = {0};
    CHECK(kz_bars_push(&dup, t0, 1, 2, 0.5, 1.5, 10) == KZ_OK);
    CHECK(kz_bars_push(&dup, t0, 1, 2, 0.5, 1.6, 10) == KZ_OK);
    CHECK(kz_store_put_bars(st, "bx", "DUP", KZ_TF_1H, &dup, &us) == KZ_OK);
    CHECK(stats_are(&us, 1, 1, 0));
    kz_bars_free(&dup);

    /* [from, to): from inclusive, to exclusive */
    CHECK(kz_store_get_bars(st, "bx", "ETHUSDT", KZ_TF_1H, t0 + 2 * H, t0 + 5 * H, &got) == KZ_OK);
    CHECK_EQ_INT(got.n, 3);
    if (got.n == 3) {
        CHECK_EQ_INT(got.ts_ms[0], t0 + 2 * H);
        CHECK_EQ_INT(got.ts_ms[2], t0 + 4 * H);
        CHECK(got.close[1] == b.close[3]);
    }
    kz_bars_free(&got);
    CHECK(kz_store_get_bars(st, "bx", "ETHUSDT", KZ_TF_1H, t0 + 2 * H, t0 + 2 * H, &got) ==
          KZ_ERR_NOT_FOUND);
    CHECK(kz_store_get_bars(st, "bx", "ETHUSDT", KZ_TF_4H, INT64_MIN, INT64_MAX, &got) ==
          KZ_ERR_NOT_FOUND);
    CHECK(got.n == 0);

    int64_t last = 0;
    CHECK(kz_store_last_ts(st, KZ_DATA_BARS, "bx", "ETHUSDT", KZ_TF_1H, &last) == KZ_OK);
    CHECK_EQ_INT(last, t0 + 101 * H);
    CHECK(kz_store_last_ts(st, KZ_DATA_FUNDING, "bx", "ETHUSDT", KZ_TF_1H, &last) ==
          KZ_ERR_NOT_FOUND);

    /* bad arguments */
    CHECK(kz_store_put_bars(st, "", "ETHUSDT", KZ_TF_1H, &b, &us) == KZ_ERR_INVALID);
    CHECK(kz_store_put_bars(st, "bx", "ETHUSDT", KZ_TF_COUNT, &b, &us) == KZ_ERR_INVALID);
    kz_series s = {0};
    CHECK(kz_store_put_series(st, KZ_DATA_BARS, "bx", "ETHUSDT", &s, &us) == KZ_ERR_INVALID);
    kz_bars_free(&ov);
    kz_bars_free(&b);
    kz_store_close(st);
}

static void test_rollback(void)
{
    kz_store *st = open_ok(kz_path_in(g_dir, "rollback.db"));
    if (!st) {
        return;
    }
    const int64_t t0 = 1704067200000LL;
    kz_bars b = make_bars(10, t0, 10.0);
    CHECK(kz_store_put_bars(st, "x", "S", KZ_TF_1H, &b, NULL) == KZ_OK);
    /* 20 rows: 10 modified existing rows, then 10 new ones; row 15 holds a NaN, so 15 rows have
     * been written inside the transaction when it fails */
    kz_bars bad = make_bars(20, t0, 11.0);
    bad.volume[15] = NAN;
    kz_upsert_stats us = {7, 7, 7};
    CHECK(kz_store_put_bars(st, "x", "S", KZ_TF_1H, &bad, &us) == KZ_ERR_INVALID);
    CHECK(stats_are(&us, 0, 0, 0));
    CHECK_STR_CONTAINS(kz_store_errmsg(st), "volume is not finite");
    CHECK_STR_CONTAINS(kz_store_errmsg(st), "row 15");
    kz_bars got = {0};
    CHECK(kz_store_get_bars(st, "x", "S", KZ_TF_1H, INT64_MIN, INT64_MAX, &got) == KZ_OK);
    CHECK(bars_equal(&b, &got)); /* unchanged: neither the updates nor the inserts survived */
    kz_bars_free(&got);

    kz_series fr = {0};
    CHECK(kz_series_push(&fr, t0, 1e-4) == KZ_OK);
    CHECK(kz_series_push(&fr, t0 + 8 * H, INFINITY) == KZ_OK);
    CHECK(kz_store_put_series(st, KZ_DATA_FUNDING, "x", "S", &fr, &us) == KZ_ERR_INVALID);
    kz_series fg = {0};
    CHECK(kz_store_get_series(st, KZ_DATA_FUNDING, "x", "S", INT64_MIN, INT64_MAX, &fg) == KZ_OK);
    CHECK_EQ_INT(fg.n, 0);
    kz_series_free(&fr);
    kz_bars_free(&bad);
    kz_bars_free(&b);
    kz_store_close(st);
}

static void test_coverage(void)
{
    kz_store *st = open_ok(kz_path_in(g_dir, "coverage.db"));
    if (!st) {
        return;
    }
    const int64_t t0 = 1704067200000LL;
    /* hours 0 1 2 _ _ 5 6 _ _ 9: 6 bars, 2 gaps, 4 missing */
    const int hours[] = {0, 1, 2, 5, 6, 9};
    kz_bars b = {0};
    for (size_t i = 0; i < 6; i++) {
        CHECK(kz_bars_push(&b, t0 + hours[i] * H, 1, 2, 0.5, 1.5, 3) == KZ_OK);
    }
    kz_bars b4 = make_bars(3, t0, 5.0); /* stored as 1h data of another exchange */
    kz_series fr = {0}, oi = {0};
    for (int i = 0; i < 4; i++) {
        CHECK(kz_series_push(&fr, t0 + i * 8 * H, 1e-4 * i) == KZ_OK);
        CHECK(kz_series_push(&oi, t0 + i * H, 1e9 + i) == KZ_OK);
    }
    CHECK(kz_store_put_bars(st, "zeta", "BTC", KZ_TF_1H, &b, NULL) == KZ_OK);
    CHECK(kz_store_put_bars(st, "alpha", "BTC", KZ_TF_1H, &b4, NULL) == KZ_OK);
    CHECK(kz_store_put_bars(st, "zeta", "BTC", KZ_TF_15M, &b4, NULL) == KZ_OK);
    CHECK(kz_store_put_series(st, KZ_DATA_OI, "hl", "BTC", &oi, NULL) == KZ_OK);
    CHECK(kz_store_put_series(st, KZ_DATA_FUNDING, "zeta", "BTC", &fr, NULL) == KZ_OK);

    kz_coverage *rows = NULL;
    size_t n = 0;
    CHECK(kz_store_coverage(st, &rows, &n) == KZ_OK);
    CHECK_EQ_INT(n, 5);
    if (n == 5) {
        /* sorted by kind, exchange, symbol, timeframe (enum order: 15m before 1h) */
        CHECK(rows[0].kind == KZ_DATA_BARS && strcmp(rows[0].exchange, "alpha") == 0);
        CHECK(rows[1].kind == KZ_DATA_BARS && rows[1].tf == KZ_TF_15M);
        CHECK_EQ_INT(rows[1].n_gaps, 2); /* 1h-spaced bars on a 15m grid: 2 gaps of 3 */
        CHECK_EQ_INT(rows[1].n_missing, 6);
        const kz_coverage *z = &rows[2];
        CHECK(z->kind == KZ_DATA_BARS && z->tf == KZ_TF_1H && strcmp(z->exchange, "zeta") == 0);
        CHECK_EQ_INT(z->count, 6);
        CHECK_EQ_INT(z->first_ms, t0);
        CHECK_EQ_INT(z->last_ms, t0 + 9 * H);
        CHECK_EQ_INT(z->n_gaps, 2);
        CHECK_EQ_INT(z->n_missing, 4);
        CHECK_EQ_INT(rows[0].n_gaps, 0);
        CHECK(rows[3].kind == KZ_DATA_FUNDING && rows[3].count == 4 && rows[3].tf == KZ_TF_COUNT);
        CHECK_EQ_INT(rows[3].last_ms, t0 + 24 * H);
        CHECK(rows[4].kind == KZ_DATA_OI && strcmp(rows[4].exchange, "hl") == 0);
        CHECK_EQ_INT(rows[4].count, 4);
    }
    kz_free(rows);
    kz_bars_free(&b);
    kz_bars_free(&b4);
    kz_series_free(&fr);
    kz_series_free(&oi);
    kz_store_close(st);

    /* an empty store has no coverage rows */
    st = open_ok(kz_path_in(g_dir, "empty.db"));
    if (st) {
        CHECK(kz_store_coverage(st, &rows, &n) == KZ_OK);
        CHECK(n == 0 && rows == NULL);
        kz_store_close(st);
    }
}

static void test_load_market(void)
{
    kz_store *st = open_ok(kz_path_in(g_dir, "market.db"));
    if (!st) {
        return;
    }
    const int64_t day = 1704067200000LL; /* 2024-01-01T00:00Z */
    kz_bars b = {0};
    for (int h = 8; h <= 13; h++) {
        CHECK(kz_bars_push(&b, day + h * H, 100 + h, 101 + h, 99 + h, 100.5 + h, 10) == KZ_OK);
    }
    kz_series fr = {0}, oi = {0};
    CHECK(kz_series_push(&fr, day + 0 * H, 0.0001) == KZ_OK);
    CHECK(kz_series_push(&fr, day + 8 * H, 0.0002) == KZ_OK);
    CHECK(kz_series_push(&fr, day + 12 * H, 0.0003) == KZ_OK);
    CHECK(kz_series_push(&oi, day + 8 * H + H / 2, 1000) == KZ_OK);
    CHECK(kz_series_push(&oi, day + 10 * H, 2000) == KZ_OK);
    CHECK(kz_store_put_bars(st, "bn", "BTC", KZ_TF_1H, &b, NULL) == KZ_OK);
    CHECK(kz_store_put_series(st, KZ_DATA_FUNDING, "bn", "BTC", &fr, NULL) == KZ_OK);
    CHECK(kz_store_put_series(st, KZ_DATA_OI, "hl", "BTC", &oi, NULL) == KZ_OK);

    /* Load bars 09:00..13:00. Funding 08:00 lies before the range but is what bar 09 sees;
     * bar 11 closes at 12:00 exactly when 0.0003 settles: not visible to it, only to bar 12. */
    kz_load_opts o = kz_load_opts_default();
    CHECK_EQ_INT(o.funding_max_age_ms, 9 * H);
    CHECK_EQ_INT(o.oi_max_age_ms, 0);
    o.oi_exchange = "hl";
    kz_market m = {0};
    CHECK(kz_store_load_market(st, "bn", "BTC", KZ_TF_1H, day + 9 * H, INT64_MAX, &o, &m) == KZ_OK);
    CHECK_EQ_INT(m.bars.n, 5);
    if (m.bars.n == 5 && m.funding && m.oi) {
        const double want_fr[5] = {0.0002, 0.0002, 0.0002, 0.0003, 0.0003};
        /* OI max age = 2 bars: bar 12 (close 13:00) sees 10:00's value 3 h old -> NaN */
        const double want_oi[5] = {1000, 2000, 2000, NAN, NAN};
        for (int i = 0; i < 5; i++) {
            CHECK_NEAR(m.funding[i], want_fr[i], 0);
            CHECK_NEAR(m.oi[i], want_oi[i], 0);
        }
    } else {
        CHECK(!"market not loaded with funding and oi");
    }
    kz_market_free(&m);

    /* a 1 h funding age limit hides the 2 h old 08:00 settlement from bar 09 */
    o.funding_max_age_ms = H;
    memset(&m, 0, sizeof m);
    CHECK(kz_store_load_market(st, "bn", "BTC", KZ_TF_1H, day + 9 * H, INT64_MAX, &o, &m) == KZ_OK);
    if (m.funding) {
        CHECK_NEAR(m.funding[0], NAN, 0);
        CHECK_NEAR(m.funding[3], 0.0003, 0);
    }
    kz_market_free(&m);

    /* defaults: OI from the bars' exchange, where there is none -> oi NULL */
    memset(&m, 0, sizeof m);
    CHECK(kz_store_load_market(st, "bn", "BTC", KZ_TF_1H, INT64_MIN, INT64_MAX, NULL, &m) == KZ_OK);
    CHECK(m.oi == NULL);
    CHECK(m.funding != NULL);
    CHECK_EQ_INT(m.bars.n, 6);
    kz_market_free(&m);
    memset(&m, 0, sizeof m);
    CHECK(kz_store_load_market(st, "bn", "ETH", KZ_TF_1H, INT64_MIN, INT64_MAX, NULL, &m) ==
          KZ_ERR_NOT_FOUND);
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
    kz_store_close(st);
}

static void test_rejects(void)
{
    /* a database from a newer build */
    const char *path = kz_path_in(g_dir, "future.db");
    kz_store *st = open_ok(path);
    kz_store_close(st);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 0)", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    kz_error err;
    st = NULL;
    CHECK(kz_store_open(path, &st, &err) == KZ_ERR_STORE);
    CHECK(st == NULL);
    CHECK_STR_CONTAINS(err.msg, "schema version 99 is newer");

    /* not a database */
    path = kz_path_in(g_dir, "junk.db");
    FILE *f = fopen(path, "w");
    if (f) {
        for (int i = 0; i < 200; i++) {
            fputs("this is not a database ", f);
        }
        fclose(f);
    }
    CHECK(kz_store_open(path, &st, &err) == KZ_ERR_STORE);
    CHECK(st == NULL);
    CHECK_STR_CONTAINS(err.msg, "not a kizashi database");
    CHECK(kz_store_open("", &st, &err) == KZ_ERR_INVALID);
}

/* ---- OOM injection: allocation number `fail_at` fails; live allocations are counted */
static long g_allocs, g_fail_at, g_live;

static void *oom_malloc(size_t size, void *ud)
{
    (void)ud;
    if (g_allocs++ == g_fail_at) {
        return NULL;
    }
    g_live++;
    return malloc(size);
}

static void *oom_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    if (g_allocs++ == g_fail_at) {
        return NULL;
    }
    g_live += (p == NULL);
    return realloc(p, size);
}

static void oom_free(void *p, void *ud)
{
    (void)ud;
    g_live -= (p != NULL);
    free(p);
}

static void test_oom(void)
{
    const int64_t t0 = 1704067200000LL;
    kz_bars b = make_bars(300, t0, 20.0);
    kz_series fr = {0};
    CHECK(kz_series_push(&fr, t0, 1e-4) == KZ_OK);
    kz_allocator a = {oom_malloc, oom_realloc, oom_free, NULL};
    int finished = 0;
    for (long k = 0; k < 200 && !finished; k++) {
        char name[64];
        snprintf(name, sizeof name, "oom%ld.db", k);
        g_allocs = 0;
        g_fail_at = k;
        g_live = 0;
        kz_set_allocator(&a);
        kz_store *st = NULL;
        kz_bars got = {0};
        kz_market m = {0};
        kz_coverage *rows = NULL;
        size_t n = 0;
        /* run the steps in order until one fails; `step` is then the failed one */
        kz_status s = KZ_OK;
        int step = 0;
        for (; step < 6; step++) {
            switch (step) {
            case 0:
                s = kz_store_open(kz_path_in(g_dir, name), &st, NULL);
                break;
            case 1:
                s = kz_store_put_bars(st, "x", "S", KZ_TF_1H, &b, NULL);
                break;
            case 2:
                s = kz_store_put_series(st, KZ_DATA_FUNDING, "x", "S", &fr, NULL);
                break;
            case 3:
                s = kz_store_get_bars(st, "x", "S", KZ_TF_1H, INT64_MIN, INT64_MAX, &got);
                break;
            case 4:
                s = kz_store_load_market(st, "x", "S", KZ_TF_1H, INT64_MIN, INT64_MAX, NULL, &m);
                break;
            default:
                s = kz_store_coverage(st, &rows, &n);
                break;
            }
            if (s != KZ_OK) {
                break;
            }
        }
        CHECK_MSG(s == KZ_OK || s == KZ_ERR_NOMEM || s == KZ_ERR_STORE, "k=%ld status %s", k,
                  kz_status_str(s));
        if (s == KZ_OK) {
            finished = 1;
            CHECK(bars_equal(&b, &got));
            CHECK_EQ_INT(n, 2);
        } else {
            /* a failed call leaves its output empty */
            CHECK(step != 0 || st == NULL);
            CHECK(step != 3 || got.n == 0);
            CHECK(step != 4 || m.bars.n == 0);
            CHECK(step != 5 || rows == NULL);
        }
        kz_free(rows);
        kz_market_free(&m);
        kz_bars_free(&got);
        kz_store_close(st);
        kz_set_allocator(NULL);
        CHECK_MSG(g_live == 0, "k=%ld: %ld allocations leaked", k, g_live);
    }
    CHECK(finished);
    kz_series_free(&fr);
    kz_bars_free(&b);
}

int main(void)
{
    kz_tmpdir_make(g_dir, sizeof g_dir, "store");
    test_open_and_persist();
    test_upsert_stats_and_range();
    test_rollback();
    test_coverage();
    test_load_market();
    test_rejects();
    test_oom();
    kz_tmpdir_remove(g_dir);
    KZ_TEST_DONE();
}
