/* Market module unit tests: timeframes, timestamps, containers, gaps, as-of alignment,
 * kz_market_build and the synthetic generator. */
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/market.h"

#include "kz_test.h"

#define H 3600000LL

static void test_timeframes(void)
{
    kz_timeframe tf;
    CHECK(kz_timeframe_parse("1h", &tf) == KZ_OK && tf == KZ_TF_1H);
    CHECK(kz_timeframe_parse("1H", &tf) == KZ_OK && tf == KZ_TF_1H);
    CHECK(kz_timeframe_parse("15m", &tf) == KZ_OK && tf == KZ_TF_15M);
    CHECK(kz_timeframe_parse("1D", &tf) == KZ_OK && tf == KZ_TF_1D);
    CHECK(kz_timeframe_parse("2h", &tf) == KZ_ERR_INVALID);
    CHECK(kz_timeframe_parse("", &tf) == KZ_ERR_INVALID);
    CHECK(kz_timeframe_parse("1hh", &tf) == KZ_ERR_INVALID);
    CHECK(kz_timeframe_parse(NULL, &tf) == KZ_ERR_INVALID);
    const char *names[] = {"1m", "5m", "15m", "30m", "1h", "4h", "1d"};
    const int64_t ms[] = {60000, 300000, 900000, 1800000, 3600000, 14400000, 86400000};
    for (int i = 0; i < (int)KZ_TF_COUNT; i++) {
        CHECK(strcmp(kz_timeframe_str((kz_timeframe)i), names[i]) == 0);
        CHECK_EQ_INT(kz_timeframe_ms((kz_timeframe)i), ms[i]);
        CHECK(kz_timeframe_parse(names[i], &tf) == KZ_OK && (int)tf == i);
    }
    CHECK(strcmp(kz_timeframe_str(KZ_TF_COUNT), "?") == 0);
    CHECK_EQ_INT(kz_timeframe_ms(KZ_TF_COUNT), 0);
}

static int64_t tparse(const char *s, kz_status *st)
{
    int64_t v = -12345;
    *st = kz_time_parse(s, strlen(s), &v);
    return v;
}

static void test_time_parse(void)
{
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {
        {"1700000000", 1700000000000LL},
        {"1700000000123", 1700000000123LL},
        {"1700000000123456", 1700000000123LL},
        {"1700000000123456789", 1700000000123LL},
        {"1700000000.5", 1700000000500LL},
        {"1700000000.1239", 1700000000123LL},
        {"1741449600001", 1741449600001LL},
        {"1741258800000.0", 1741258800000LL},
        {"0", 0},
        {"2024-01-01", 1704067200000LL},
        {"2024-01-01T00:00:00Z", 1704067200000LL},
        {"2024-01-01T00:00Z", 1704067200000LL},
        {"2024-01-01 09:00:00+09:00", 1704067200000LL},
        {"2024-01-01T09:00+0900", 1704067200000LL},
        {"2023-12-31T23:00:00-01:00", 1704067200000LL},
        {"2024-02-29T12:34:56.789", 1709210096789LL},
        {"2024-02-29T12:34:56.789123Z", 1709210096789LL},
        {"1999-12-31T23:59:59", 946684799000LL},
        {"1900-03-01", -2203891200000LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        kz_status st;
        int64_t v = tparse(ok[i].s, &st);
        CHECK_MSG(st == KZ_OK && v == ok[i].ms, "%s -> %lld (status %d)", ok[i].s, (long long)v,
                  (int)st);
    }
    static const char *bad[] = {"",
                                "abc",
                                "2024-13-01",
                                "2023-02-29",
                                "2024-01-00",
                                "2024-01-01T24:00",
                                "2024-01-01T10:60",
                                "2024-01-01T10:00:00+25:00",
                                "2024-01-01X",
                                "2024-1-01",
                                "12a",
                                "1.2.3",
                                "1.",
                                "-5",
                                "1e12",
                                "12345678901234567890",
                                " 1700000000",
                                "2024-01-01T10:00:00."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kz_status st;
        (void)tparse(bad[i], &st);
        CHECK_MSG(st == KZ_ERR_PARSE, "'%s' accepted", bad[i]);
    }
    /* Not NUL-terminated: only len bytes count. */
    int64_t v;
    CHECK(kz_time_parse("17000000009999", 10, &v) == KZ_OK && v == 1700000000000LL);
}

static void test_time_format(void)
{
    char buf[32];
    CHECK(strcmp(kz_time_format(1704067200000LL, buf), "2024-01-01T00:00:00Z") == 0);
    CHECK(strcmp(kz_time_format(1709210096789LL, buf), "2024-02-29T12:34:56.789Z") == 0);
    CHECK(strcmp(kz_time_format(-1, buf), "1969-12-31T23:59:59.999Z") == 0);
    CHECK(strcmp(kz_time_format(0, buf), "1970-01-01T00:00:00Z") == 0);
    kz_rng r;
    kz_rng_seed(&r, 7);
    for (int i = 0; i < 20000; i++) {
        int64_t ms = kz_rng_int(&r, -2000000000000LL, 4000000000000LL);
        int64_t back = 0;
        kz_time_format(ms, buf);
        CHECK_MSG(kz_time_parse(buf, strlen(buf), &back) == KZ_OK && back == ms, "%s", buf);
    }
}

static void test_containers(void)
{
    kz_bars b = {0};
    for (int i = 0; i < 1000; i++) {
        CHECK(kz_bars_push(&b, i * H, 1.0 + i, 2.0 + i, 0.5 + i, 1.5 + i, (double)i) == KZ_OK);
    }
    CHECK_EQ_INT(b.n, 1000);
    CHECK(b.cap >= 1000);
    CHECK_EQ_INT(b.ts_ms[999], 999 * H);
    CHECK_NEAR(b.open[500], 501.0, 0);
    CHECK_NEAR(b.high[500], 502.0, 0);
    CHECK_NEAR(b.low[500], 500.5, 0);
    CHECK_NEAR(b.close[500], 501.5, 0);
    CHECK_NEAR(b.volume[500], 500.0, 0);
    CHECK(kz_bars_reserve(&b, 5000) == KZ_OK && b.cap == 5000 && b.n == 1000);
    CHECK(kz_bars_reserve(&b, 10) == KZ_OK && b.cap == 5000);
    CHECK_NEAR(b.close[999], 1000.5, 0);
    kz_bars_free(&b);
    CHECK(b.n == 0 && b.cap == 0 && b.ts_ms == NULL && b.volume == NULL);
    kz_bars_free(NULL);

    kz_series s = {0};
    for (int i = 0; i < 300; i++) {
        CHECK(kz_series_push(&s, i, i * 0.5) == KZ_OK);
    }
    CHECK_EQ_INT(s.n, 300);
    CHECK_NEAR(s.value[299], 149.5, 0);
    CHECK(kz_series_reserve(&s, 1000) == KZ_OK && s.cap == 1000);
    kz_series_free(&s);
    CHECK(s.n == 0 && s.ts_ms == NULL && s.value == NULL);
    kz_series_free(NULL);
}

static void push_ts(kz_bars *b, const int64_t *ts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(kz_bars_push(b, ts[i], 1, 1, 1, 1, 1) == KZ_OK);
    }
}

static void test_gaps(void)
{
    kz_bars b = {0};
    const int64_t ts[] = {0, H, 2 * H, 5 * H, 6 * H, 10 * H};
    push_ts(&b, ts, 6);
    size_t g = 99, m = 99;
    kz_bars_gaps(&b, KZ_TF_1H, &g, &m);
    CHECK_EQ_INT(g, 2);
    CHECK_EQ_INT(m, 5);
    kz_bars_gaps(&b, KZ_TF_4H, &g, &m); /* 4h grid: only 6h -> 10h... no full 4h step lost */
    CHECK_EQ_INT(g, 0);
    CHECK_EQ_INT(m, 0);
    kz_bars_free(&b);
    kz_bars_gaps(&b, KZ_TF_1H, &g, &m);
    CHECK(g == 0 && m == 0);
}

static void test_align_hand(void)
{
    kz_bars b = {0};
    const int64_t ts[] = {0, H, 2 * H};
    push_ts(&b, ts, 3);
    double out[3];

    /* Stamped exactly at bar 0's close: not visible to bar 0, visible to bar 1. */
    kz_series s = {0};
    CHECK(kz_series_push(&s, H, 6.0) == KZ_OK);
    CHECK(kz_align_asof(&b, KZ_TF_1H, &s, 0, out) == KZ_OK);
    CHECK_NEAR(out[0], NAN, 0);
    CHECK_NEAR(out[1], 6.0, 0);
    CHECK_NEAR(out[2], 6.0, 0);
    kz_series_free(&s);

    /* 1 ms before the close is visible; later points replace it. */
    CHECK(kz_series_push(&s, H - 1, 5.0) == KZ_OK);
    CHECK(kz_series_push(&s, H, 6.0) == KZ_OK);
    CHECK(kz_series_push(&s, 2 * H + 30 * 60000, 7.0) == KZ_OK);
    CHECK(kz_align_asof(&b, KZ_TF_1H, &s, 0, out) == KZ_OK);
    CHECK_NEAR(out[0], 5.0, 0);
    CHECK_NEAR(out[1], 6.0, 0);
    CHECK_NEAR(out[2], 7.0, 0);
    kz_series_free(&s);

    /* Max age: bar close - stamp > max_age -> NaN; equal to max_age is still fresh. */
    CHECK(kz_series_push(&s, 0, 1.0) == KZ_OK);
    CHECK(kz_align_asof(&b, KZ_TF_1H, &s, H, out) == KZ_OK);
    CHECK_NEAR(out[0], 1.0, 0);
    CHECK_NEAR(out[1], NAN, 0);
    CHECK_NEAR(out[2], NAN, 0);
    CHECK(kz_align_asof(&b, KZ_TF_1H, &s, 0, out) == KZ_OK);
    CHECK_NEAR(out[2], 1.0, 0);
    CHECK(kz_align_asof(&b, KZ_TF_1H, &s, -5, out) == KZ_OK);
    CHECK_NEAR(out[2], 1.0, 0);
    /* Bars of 4h: the same point is visible (its close is later). */
    CHECK(kz_align_asof(&b, KZ_TF_4H, &s, 4 * H, out) == KZ_OK);
    CHECK_NEAR(out[0], 1.0, 0);
    kz_series_free(&s);

    /* Empty / absent series: all NaN. */
    CHECK(kz_align_asof(&b, KZ_TF_1H, NULL, 0, out) == KZ_OK);
    CHECK_NEAR(out[1], NAN, 0);
    CHECK(kz_align_asof(&b, KZ_TF_1H, &s, 0, out) == KZ_OK);
    CHECK_NEAR(out[2], NAN, 0);
    /* Bad arguments. */
    CHECK(kz_align_asof(&b, KZ_TF_COUNT, &s, 0, out) == KZ_ERR_INVALID);
    CHECK(kz_align_asof(&b, KZ_TF_1H, &s, 0, NULL) == KZ_ERR_INVALID);
    CHECK(kz_series_push(&s, 5, 1.0) == KZ_OK && kz_series_push(&s, 4, 1.0) == KZ_OK);
    CHECK(kz_align_asof(&b, KZ_TF_1H, &s, 0, out) == KZ_ERR_INVALID); /* unsorted source */
    kz_series_free(&s);
    kz_bars_free(&b);
}

/* Randomised: each bar sees exactly the last value stamped strictly before its close. */
static void test_align_property(void)
{
    kz_rng r;
    kz_rng_seed(&r, 12345);
    for (int trial = 0; trial < 200; trial++) {
        kz_bars b = {0};
        kz_series s = {0};
        kz_timeframe tf = (kz_timeframe)kz_rng_int(&r, 0, KZ_TF_COUNT - 1);
        int64_t dur = kz_timeframe_ms(tf);
        size_t n = (size_t)kz_rng_int(&r, 0, 60), m = (size_t)kz_rng_int(&r, 0, 60);
        int64_t t = kz_rng_int(&r, 0, 1000) * dur;
        for (size_t i = 0; i < n; i++) {
            CHECK(kz_bars_push(&b, t, 1, 1, 1, 1, 1) == KZ_OK);
            t += dur * kz_rng_int(&r, 1, 3);
        }
        int64_t u = kz_rng_int(&r, 0, dur * 1000);
        for (size_t j = 0; j < m; j++) {
            /* Stamps sometimes land exactly on bar boundaries, sometimes 1 ms off them. */
            int64_t step = kz_rng_int(&r, 0, 2) == 0 ? dur : kz_rng_int(&r, 0, 2 * dur);
            u += step + kz_rng_int(&r, -1, 1);
            if (j > 0 && u < s.ts_ms[j - 1]) {
                u = s.ts_ms[j - 1];
            }
            CHECK(kz_series_push(&s, u, (double)j) == KZ_OK);
        }
        int64_t max_age = kz_rng_int(&r, 0, 1) ? 0 : kz_rng_int(&r, 1, 3 * dur);
        double *out = malloc((n ? n : 1) * sizeof *out);
        CHECK(kz_align_asof(&b, tf, &s, max_age, out) == KZ_OK);
        for (size_t i = 0; i < n; i++) {
            int64_t close = b.ts_ms[i] + dur;
            long last = -1;
            for (size_t j = 0; j < s.n; j++) {
                if (s.ts_ms[j] < close) {
                    last = (long)j;
                }
            }
            double want = NAN;
            if (last >= 0 && (max_age <= 0 || close - s.ts_ms[last] <= max_age)) {
                want = s.value[last];
            }
            CHECK_NEAR(out[i], want, 0);
            if (!isnan(out[i])) {
                CHECK(s.ts_ms[(size_t)out[i]] < close); /* never a value from the future */
            }
        }
        free(out);
        kz_bars_free(&b);
        kz_series_free(&s);
    }
}

static void test_market_build(void)
{
    kz_bars b = {0};
    for (int i = 0; i < 24; i++) {
        CHECK(kz_bars_push(&b, i * H, 10, 11, 9, 10.5, 100) == KZ_OK);
    }
    kz_series f = {0}, oi = {0};
    for (int k = -1; k <= 3; k++) {
        CHECK(kz_series_push(&f, k * 8 * H, 0.0001 * (k + 2)) == KZ_OK);
    }
    for (int i = 0; i < 24; i += 2) {
        CHECK(kz_series_push(&oi, i * H + 60000, 1e9 + i) == KZ_OK);
    }
    kz_market m;
    CHECK(kz_market_build("binance", "BTCUSDT-with-a-very-long-symbol-name", KZ_TF_1H, &b, &f, &oi,
                          0, 2 * H, &m) == KZ_OK);
    CHECK(strcmp(m.exchange, "binance") == 0);
    CHECK_EQ_INT(strlen(m.symbol), 31);
    CHECK(m.tf == KZ_TF_1H);
    CHECK_EQ_INT(m.bars.n, 24);
    CHECK(m.bars.ts_ms != b.ts_ms); /* copied */
    CHECK_NEAR(m.bars.close[23], 10.5, 0);
    /* funding_raw: events in [0, 24h): 0, 8h, 16h. */
    CHECK_EQ_INT(m.funding_raw.n, 3);
    CHECK_EQ_INT(m.funding_raw.ts_ms[0], 0);
    CHECK_EQ_INT(m.funding_raw.ts_ms[2], 16 * H);
    /* Bar 7 (close 8h) sees the 0h event, bar 8 (close 9h) the 8h event. */
    CHECK_NEAR(m.funding[7], 0.0002, 1e-15);
    CHECK_NEAR(m.funding[8], 0.0003, 1e-15);
    /* OI stamped at 1 min past even hours: bar 0 sees the 0:01 print, bar 1 too (age 1h59). */
    CHECK_NEAR(m.oi[0], 1e9, 0);
    CHECK_NEAR(m.oi[1], 1e9, 0);
    CHECK_NEAR(m.oi[3], 1e9 + 2, 0);
    kz_market_free(&m);
    CHECK(m.funding == NULL && m.bars.n == 0);
    kz_market_free(NULL);

    CHECK(kz_market_build(NULL, NULL, KZ_TF_1H, &b, NULL, NULL, 0, 0, &m) == KZ_OK);
    CHECK(m.funding == NULL && m.oi == NULL && m.funding_raw.n == 0 && m.exchange[0] == 0);
    kz_market_free(&m);
    CHECK(kz_market_build("x", "y", KZ_TF_COUNT, &b, NULL, NULL, 0, 0, &m) == KZ_ERR_INVALID);
    kz_bars_free(&b);
    kz_series_free(&f);
    kz_series_free(&oi);
}

static void test_synth(void)
{
    kz_synth_params p = kz_synth_params_default();
    p.n_bars = 20000;
    kz_bars a = {0}, b = {0}, c = {0};
    kz_series fa = {0}, oa = {0};
    kz_error err;
    CHECK(kz_synth_generate(&p, &a, &fa, &oa, &err) == KZ_OK);
    CHECK(kz_synth_generate(&p, &b, NULL, NULL, &err) == KZ_OK);
    CHECK_EQ_INT(a.n, 20000);
    CHECK_EQ_INT(b.n, 20000);
    /* Deterministic, and independent of whether funding/OI are requested. */
    CHECK(memcmp(a.close, b.close, a.n * sizeof(double)) == 0);
    CHECK(memcmp(a.volume, b.volume, a.n * sizeof(double)) == 0);
    p.seed = 43;
    CHECK(kz_synth_generate(&p, &c, NULL, NULL, &err) == KZ_OK);
    CHECK(memcmp(a.close, c.close, a.n * sizeof(double)) != 0);

    int ok = 1;
    double sum_r = 0, sum_r2 = 0, sum_r4 = 0, sum_v = 0;
    for (size_t i = 0; i < a.n; i++) {
        ok &= a.ts_ms[i] == 1704067200000LL + (int64_t)i * H;
        ok &= a.high[i] >= fmax(a.open[i], a.close[i]) && a.low[i] <= fmin(a.open[i], a.close[i]);
        ok &= a.low[i] > 0 && a.volume[i] > 0 && isfinite(a.high[i]);
        ok &= i == 0 || a.open[i] == a.close[i - 1];
        double r = log(a.close[i] / a.open[i]);
        sum_r += r;
        sum_r2 += r * r;
        sum_r4 += r * r * r * r;
        sum_v += a.volume[i];
    }
    CHECK(ok);
    CHECK_NEAR(a.open[0], 50000, 0);
    double n = (double)a.n, var = sum_r2 / n - (sum_r / n) * (sum_r / n);
    double ann = sqrt(var * 24 * 365);
    CHECK_MSG(ann > 0.45 && ann < 0.75, "annualised vol %g", ann);
    double kurt = (sum_r4 / n) / ((sum_r2 / n) * (sum_r2 / n));
    CHECK_MSG(kurt > 4.0, "kurtosis %g (fat tails expected)", kurt);
    CHECK_MSG(sum_v / n > 700 && sum_v / n < 1300, "mean volume %g", sum_v / n);
    /* Volatility clustering: squared returns are autocorrelated; volume tracks |return|. */
    double m2 = sum_r2 / n, cov = 0, vv = 0, sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
    for (size_t i = 1; i < a.n; i++) {
        double r0 = log(a.close[i - 1] / a.open[i - 1]), r1 = log(a.close[i] / a.open[i]);
        cov += (r0 * r0 - m2) * (r1 * r1 - m2);
        vv += (r1 * r1 - m2) * (r1 * r1 - m2);
        double x = fabs(r1), y = a.volume[i];
        sx += x;
        sy += y;
        sxy += x * y;
        sxx += x * x;
        syy += y * y;
    }
    CHECK_MSG(cov / vv > 0.05, "ACF(r^2, 1) = %g", cov / vv);
    double k = n - 1, corr = (sxy - sx * sy / k) / sqrt((sxx - sx * sx / k) * (syy - sy * sy / k));
    CHECK_MSG(corr > 0.4, "corr(|r|, volume) = %g", corr);

    /* Funding: 00/08/16 UTC inside the span, mean near funding_mean. */
    CHECK_EQ_INT(fa.n, 20000 / 8);
    double fsum = 0;
    ok = 1;
    for (size_t i = 0; i < fa.n; i++) {
        ok &= fa.ts_ms[i] % (8 * H) == 0 && fa.ts_ms[i] >= a.ts_ms[0];
        ok &= fa.ts_ms[i] < a.ts_ms[a.n - 1] + H && fabs(fa.value[i]) <= 0.0075;
        fsum += fa.value[i];
    }
    CHECK(ok);
    CHECK_MSG(fabs(fsum / (double)fa.n - 1e-4) < 5e-5, "mean funding %g", fsum / (double)fa.n);
    /* OI at every bar open, positive. */
    CHECK_EQ_INT(oa.n, a.n);
    ok = 1;
    for (size_t i = 0; i < oa.n; i++) {
        ok &= oa.ts_ms[i] == a.ts_ms[i] && oa.value[i] > 0 && isfinite(oa.value[i]);
    }
    CHECK(ok);
    CHECK_NEAR(oa.value[0], 5e9, 1e-12);

    /* Outputs must be empty on entry. */
    CHECK(kz_synth_generate(&p, &a, NULL, NULL, &err) == KZ_ERR_INVALID);
    kz_bars_free(&a);
    kz_bars_free(&b);
    kz_bars_free(&c);
    kz_series_free(&fa);
    kz_series_free(&oa);

    /* A 4h series starting on its grid. */
    p = kz_synth_params_default();
    p.tf = KZ_TF_4H;
    p.n_bars = 100;
    CHECK(kz_synth_generate(&p, &a, &fa, NULL, &err) == KZ_OK);
    CHECK_EQ_INT(a.ts_ms[1] - a.ts_ms[0], 4 * H);
    CHECK_EQ_INT(fa.n, 50);
    kz_bars_free(&a);
    kz_series_free(&fa);
}

static void expect_bad_param(kz_synth_params p, const char *field)
{
    kz_error err;
    CHECK(kz_synth_params_check(&p, &err) == KZ_ERR_INVALID);
    CHECK_MSG(strcmp(err.field, field) == 0, "field '%s', want '%s'", err.field, field);
    CHECK(err.msg[0] != '\0');
    kz_bars b = {0};
    CHECK(kz_synth_generate(&p, &b, NULL, NULL, &err) == KZ_ERR_INVALID && b.n == 0);
}

static void test_synth_check(void)
{
    kz_synth_params d = kz_synth_params_default();
    kz_error err;
    CHECK(kz_synth_params_check(&d, &err) == KZ_OK);
    CHECK(d.n_bars == 10000 && d.tf == KZ_TF_1H && d.start_ms == 1704067200000LL);
    CHECK(d.seed == 42 && d.tail_dof == 4 && d.annual_vol == 0.6);
    kz_synth_params p;
    p = d, p.n_bars = 0, expect_bad_param(p, "n_bars");
    p = d, p.tf = KZ_TF_COUNT, expect_bad_param(p, "tf");
    p = d, p.start_ms += 1, expect_bad_param(p, "start_ms");
    p = d, p.start_price = -1, expect_bad_param(p, "start_price");
    p = d, p.start_price = NAN, expect_bad_param(p, "start_price");
    p = d, p.annual_vol = 0, expect_bad_param(p, "annual_vol");
    p = d, p.garch_alpha = -0.1, expect_bad_param(p, "garch_alpha");
    p = d, p.garch_alpha = 0.5, p.garch_beta = 0.5, expect_bad_param(p, "garch_beta");
    p = d, p.tail_dof = 2, expect_bad_param(p, "tail_dof");
    p = d, p.base_volume = 0, expect_bad_param(p, "base_volume");
    p = d, p.funding_mean = INFINITY, expect_bad_param(p, "funding_mean");
    p = d, p.oi_start_usd = 0, expect_bad_param(p, "oi_start_usd");
}

int main(void)
{
    test_timeframes();
    test_time_parse();
    test_time_format();
    test_containers();
    test_gaps();
    test_align_hand();
    test_align_property();
    test_market_build();
    test_synth();
    test_synth_check();
    KZ_TEST_DONE();
}
