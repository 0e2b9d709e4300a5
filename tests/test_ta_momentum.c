/* Unit tests of the momentum group: hand-computed values, invariants on synthetic series,
 * TA-Lib lookbacks, parameter errors, and stream == batch for non-default parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/kizashi.h"

#include "kz_test.h"
#include "ta_series.h"

enum { MAX_N = 800 };

/* Bars for the tests: columns by kz_ta_input. */
typedef struct bars {
    size_t n;
    double col[5][MAX_N];
} bars;

static void bars_set(bars *b,
                     size_t n,
                     const double *o,
                     const double *h,
                     const double *l,
                     const double *c,
                     const double *v)
{
    const double *src[5] = {o, h, l, c, v};
    memset(b, 0, sizeof *b);
    b->n = n;
    for (int k = 0; k < 5; k++) {
        for (size_t i = 0; i < n; i++) {
            b->col[k][i] = src[k] ? src[k][i] : (c ? c[i] : 0.0);
        }
    }
}

/* A seeded random walk with consistent OHLCV. */
static void bars_random(bars *b, size_t n, uint64_t seed)
{
    kz_rng r;
    kz_rng_seed(&r, seed);
    memset(b, 0, sizeof *b);
    b->n = n;
    double c = 100.0;
    for (size_t i = 0; i < n; i++) {
        double o = c;
        c = o * (1.0 + 0.01 * kz_rng_normal(&r));
        b->col[KZ_IN_OPEN][i] = o;
        b->col[KZ_IN_CLOSE][i] = c;
        b->col[KZ_IN_HIGH][i] = fmax(o, c) * (1.0 + 0.004 * kz_rng_uniform(&r));
        b->col[KZ_IN_LOW][i] = fmin(o, c) * (1.0 - 0.004 * kz_rng_uniform(&r));
        b->col[KZ_IN_VOLUME][i] = 1000.0 * (0.5 + kz_rng_uniform(&r));
    }
}

/* Parse "k=v,k=v" over the defaults. */
static const kz_ta_info *setup(const char *name, const char *spec, double *params)
{
    const kz_ta_info *info = kz_ta_find(name);
    CHECK_MSG(info != NULL, "%s not registered", name);
    if (!info) {
        return NULL;
    }
    kz_ta_defaults(info, params);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        CHECK(eq != NULL);
        if (!eq) {
            return NULL;
        }
        *eq = '\0';
        int k = kz_ta_param_index(info, tok);
        CHECK_MSG(k >= 0, "%s has no parameter %s", name, tok);
        if (k < 0) {
            return NULL;
        }
        params[k] = strtod(eq + 1, NULL);
    }
    return info;
}

/* Runs name(spec) on b; out[j] receives output j. Returns the registry entry (NULL on error). */
static const kz_ta_info *run(const char *name, const char *spec, const bars *b, double out[][MAX_N])
{
    double params[KZ_TA_MAX_PARAMS];
    const kz_ta_info *info = setup(name, spec, params);
    if (!info) {
        return NULL;
    }
    const double *in[KZ_TA_MAX_INPUTS];
    for (int k = 0; k < info->n_inputs; k++) {
        in[k] = b->col[info->inputs[k]];
    }
    double *outs[KZ_TA_MAX_OUTPUTS];
    for (int j = 0; j < info->n_outputs; j++) {
        outs[j] = out[j];
    }
    kz_error err;
    kz_error_clear(&err);
    kz_status st = kz_ta_run(info, b->n, in, params, outs, &err);
    CHECK_MSG(st == KZ_OK, "%s(%s): %s", name, spec, err.msg);
    return st == KZ_OK ? info : NULL;
}

static double out[3][MAX_N];
static double out2[3][MAX_N];

static void
check_series(const char *what, const double *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        CHECK_MSG(kz_near(got[i], want[i], tol), "%s[%zu] = %.17g, want %.17g", what, i, got[i],
                  want[i]);
    }
}

/* ---------------------------------------------------------------- hand-computed cases */

static void test_rsi_cmo_by_hand(void)
{
    static const double c[] = {44, 45, 46, 45, 47, 46};
    bars b;
    bars_set(&b, 6, NULL, NULL, NULL, c, NULL);
    /* p = 3: avg gain/loss over the first 3 changes (+1 +1 -1) = 2/3, 1/3; then Wilder:
     * +2 -> 10/9, 2/9; -1 -> 20/27, 13/27. */
    const double rsi[] = {NAN, NAN, NAN, 100.0 * 2 / 3, 100.0 * 10 / 12, 100.0 * 20 / 33};
    const double cmo[] = {NAN, NAN, NAN, 100.0 * 1 / 3, 100.0 * 8 / 12, 100.0 * 7 / 33};
    if (run("RSI", "timeperiod=3", &b, out)) {
        check_series("RSI(3)", out[0], rsi, 6, 1e-12);
    }
    if (run("CMO", "timeperiod=3", &b, out)) {
        check_series("CMO(3)", out[0], cmo, 6, 1e-12);
    }
    /* A flat series: gain + loss == 0 -> 0 (TA-Lib), not NaN. */
    static const double flat[] = {5, 5, 5, 5, 5};
    bars_set(&b, 5, NULL, NULL, NULL, flat, NULL);
    const double zero[] = {NAN, NAN, 0, 0, 0};
    if (run("RSI", "timeperiod=2", &b, out)) {
        check_series("RSI(flat)", out[0], zero, 5, 0);
    }
}

static void test_roc_family_by_hand(void)
{
    static const double c[] = {1, 2, 4, 8, 0, 3};
    bars b;
    bars_set(&b, 6, NULL, NULL, NULL, c, NULL);
    const double mom[] = {NAN, NAN, 3, 6, -4, -5};
    const double roc[] = {NAN, NAN, 300, 300, -100, -62.5};
    const double rocp[] = {NAN, NAN, 3, 3, -1, -0.625};
    const double rocr[] = {NAN, NAN, 4, 4, 0, 0.375};
    const double rocr100[] = {NAN, NAN, 400, 400, 0, 37.5};
    if (run("MOM", "timeperiod=2", &b, out)) {
        check_series("MOM(2)", out[0], mom, 6, 0);
    }
    if (run("ROC", "timeperiod=2", &b, out)) {
        check_series("ROC(2)", out[0], roc, 6, 1e-15);
    }
    if (run("ROCP", "timeperiod=2", &b, out)) {
        check_series("ROCP(2)", out[0], rocp, 6, 1e-15);
    }
    if (run("ROCR", "timeperiod=2", &b, out)) {
        check_series("ROCR(2)", out[0], rocr, 6, 1e-15);
    }
    if (run("ROCR100", "timeperiod=2", &b, out)) {
        check_series("ROCR100(2)", out[0], rocr100, 6, 1e-15);
    }
    /* A zero base gives 0 (TA-Lib), period 1 is allowed. */
    const double roc1[] = {NAN, 100, 100, 100, -100, 0};
    if (run("ROC", "timeperiod=1", &b, out)) {
        check_series("ROC(1)", out[0], roc1, 6, 1e-15);
    }
}

static void test_range_oscillators_by_hand(void)
{
    static const double h[] = {10, 12, 11, 13};
    static const double l[] = {8, 9, 7, 10};
    static const double c[] = {9, 11, 8, 12};
    static const double o[] = {9, 9, 9, 12};
    bars b;
    bars_set(&b, 4, o, h, l, c, NULL);
    /* Bar 2: HH 12, LL 7, close 8; bar 3: HH 13, LL 7, close 12. */
    const double willr[] = {NAN, NAN, -80, -100.0 / 6};
    const double fastk[] = {NAN, NAN, 20, 500.0 / 6};
    if (run("WILLR", "timeperiod=3", &b, out)) {
        check_series("WILLR(3)", out[0], willr, 4, 1e-13);
    }
    if (run("STOCHF", "fastk_period=3,fastd_period=1", &b, out)) {
        check_series("STOCHF fastk", out[0], fastk, 4, 1e-13);
        check_series("STOCHF fastd(1) = fastk", out[1], out[0], 4, 0);
    }
    /* fastd = SMA(2) of fastk from bar 3. */
    const double fastd2[] = {NAN, NAN, NAN, (20 + 500.0 / 6) / 2};
    if (run("STOCHF", "fastk_period=3,fastd_period=2", &b, out)) {
        check_series("STOCHF fastd(2)", out[1], fastd2, 4, 1e-13);
    }
    /* BOP = (c-o)/(h-l). */
    const double bop[] = {0, 2.0 / 3, -0.25, 0};
    if (run("BOP", "", &b, out)) {
        check_series("BOP", out[0], bop, 4, 1e-15);
    }
    /* CCI(2) bar 1: TP 9, 32/3; mean 59/6; MAD 5/6; (32/3 - 59/6)/(0.015*5/6) = 66.66.. */
    const double cci[] = {NAN, 200.0 / 3, -200.0 / 3, 200.0 / 3};
    if (run("CCI", "timeperiod=2", &b, out)) {
        check_series("CCI(2)", out[0], cci, 4, 1e-12);
    }
}

static void test_aroon_by_hand(void)
{
    static const double h[] = {1, 3, 2, 2};
    static const double l[] = {2, 1, 1, 3};
    bars b;
    bars_set(&b, 4, NULL, h, l, h, NULL);
    /* Window of 3 bars. Bar 2: highest at 1, lowest tie 1/2 -> most recent (2). Bar 3: highest
     * 3 at bar 1, lowest tie 1/2 -> 2. */
    const double down[] = {NAN, NAN, 100, 50};
    const double up[] = {NAN, NAN, 50, 0};
    const double osc[] = {NAN, NAN, -50, -50};
    if (run("AROON", "timeperiod=2", &b, out)) {
        check_series("AROON down", out[0], down, 4, 0);
        check_series("AROON up", out[1], up, 4, 0);
    }
    if (run("AROONOSC", "timeperiod=2", &b, out)) {
        check_series("AROONOSC", out[0], osc, 4, 0);
    }
}

/* ---------------------------------------------------------------- invariants */

/* Steady uptrend: +DM = 1, -DM = 0, TR = 2 on every bar, so the Wilder sums keep TR = 2*DM
 * exactly (scaling by 2 commutes with rounding): +DI = 50, -DI = 0, DX = ADX = ADXR = 100. */
static void test_directional_uptrend(void)
{
    bars b;
    memset(&b, 0, sizeof b);
    b.n = 120;
    for (size_t i = 0; i < b.n; i++) {
        b.col[KZ_IN_HIGH][i] = (double)i + 2;
        b.col[KZ_IN_LOW][i] = (double)i;
        b.col[KZ_IN_CLOSE][i] = (double)i + 1;
    }
    static const struct {
        const char *name;
        double value;
        size_t lookback;
    } want[] = {{"PLUS_DI", 50, 14}, {"MINUS_DI", 0, 14}, {"DX", 100, 14},
                {"ADX", 100, 27},    {"ADXR", 100, 40},   {"MINUS_DM", 0, 13}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        if (!run(want[k].name, "", &b, out)) {
            continue;
        }
        for (size_t i = 0; i < b.n; i++) {
            double w = i < want[k].lookback ? NAN : want[k].value;
            CHECK_MSG(kz_near(out[0][i], w, 1e-12), "%s[%zu] = %.17g", want[k].name, i, out[0][i]);
        }
    }
    /* PLUS_DM: sum of 13 ones, then s - s/14 + 1, converging to 14. */
    if (run("PLUS_DM", "", &b, out)) {
        CHECK(isnan(out[0][12]));
        CHECK_NEAR(out[0][13], 13.0, 0);
        CHECK_NEAR(out[0][14], 13.0 - 13.0 / 14 + 1, 1e-15);
        CHECK_NEAR(out[0][119], 14.0, 1e-3);
    }
    /* Period 1 (allowed by TA-Lib): raw one-bar values; TA-Lib's +DI(1) is DM/TR unscaled. */
    if (run("PLUS_DM", "timeperiod=1", &b, out)) {
        CHECK(isnan(out[0][0]));
        CHECK_NEAR(out[0][1], 1.0, 0);
        CHECK_NEAR(out[0][119], 1.0, 0);
    }
    if (run("PLUS_DI", "timeperiod=1", &b, out)) {
        CHECK(isnan(out[0][0]));
        CHECK_NEAR(out[0][1], 0.5, 0);
    }
    /* Typical price rises every bar: all money flow is positive. */
    for (size_t i = 0; i < b.n; i++) {
        b.col[KZ_IN_VOLUME][i] = 10.0 + (double)(i % 7);
    }
    if (run("MFI", "", &b, out)) {
        CHECK(isnan(out[0][13]));
        CHECK_NEAR(out[0][14], 100.0, 0);
        CHECK_NEAR(out[0][119], 100.0, 0);
    }
}

/* On a constant series every oscillator of price differences is 0 from its lookback on. */
static void test_constant_series(void)
{
    bars b;
    memset(&b, 0, sizeof b);
    b.n = 150;
    for (size_t i = 0; i < b.n; i++) {
        for (int k = 0; k < 5; k++) {
            b.col[k][i] = 42.5;
        }
    }
    static const char *const names[] = {"MACD", "MACDFIX", "MACDEXT", "APO", "PPO", "TRIX",
                                        "CCI",  "MOM",     "CMO",     "BOP", "DX",  "AROONOSC"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const kz_ta_info *info = run(names[k], "", &b, out);
        if (!info) {
            continue;
        }
        double params[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, params);
        size_t lb = (size_t)kz_ta_lookback(info, params);
        for (int j = 0; j < info->n_outputs; j++) {
            for (size_t i = 0; i < b.n; i++) {
                double w = i < lb ? NAN : 0.0;
                CHECK_MSG(kz_near(out[j][i], w, 1e-12), "%s out %d [%zu] = %.17g", names[k], j, i,
                          out[j][i]);
            }
        }
    }
}

/* MACDFIX against a naive re-computation: EMA k = 0.15 / 0.075, the fast one seeded on bars
 * 14..25 (aligned with the slow seed on 0..25), signal EMA(9) seeded on MACD bars 25..33. */
static void test_macdfix_reference(void)
{
    bars b;
    bars_random(&b, 200, 7);
    if (!run("MACDFIX", "", &b, out)) {
        return;
    }
    const double *x = b.col[KZ_IN_CLOSE];
    double fast = 0.0, slow = 0.0, macd[200] = {0};
    for (int i = 0; i < 26; i++) {
        slow += x[i] / 26.0;
        fast += i >= 14 ? x[i] / 12.0 : 0.0;
    }
    macd[25] = fast - slow;
    for (int i = 26; i < 200; i++) {
        slow += (x[i] - slow) * 0.075;
        fast += (x[i] - fast) * 0.15;
        macd[i] = fast - slow;
    }
    double sig = 0.0;
    for (int i = 25; i < 34; i++) {
        sig += macd[i] / 9.0;
    }
    for (int i = 0; i < 200; i++) {
        if (i > 33) {
            sig += (macd[i] - sig) * 0.2;
        }
        CHECK_NEAR(out[0][i], i < 33 ? NAN : macd[i], 1e-9);
        CHECK_NEAR(out[1][i], i < 33 ? NAN : sig, 1e-9);
        CHECK_NEAR(out[2][i], i < 33 ? NAN : macd[i] - sig, 1e-9);
    }
}

/* TA-Lib swaps fast and slow when slow < fast (MACD, MACDEXT, APO, PPO) and sorts ULTOSC's
 * periods: the results are identical bit for bit. */
static void test_order_invariance(void)
{
    static const struct {
        const char *name, *a, *b;
    } pairs[] = {
        {"MACD", "fastperiod=12,slowperiod=26", "fastperiod=26,slowperiod=12"},
        {"MACDEXT", "fastperiod=5,fastmatype=1,slowperiod=20,slowmatype=2",
         "fastperiod=20,fastmatype=2,slowperiod=5,slowmatype=1"},
        {"APO", "fastperiod=3,slowperiod=9,matype=1", "fastperiod=9,slowperiod=3,matype=1"},
        {"PPO", "fastperiod=3,slowperiod=9,matype=4", "fastperiod=9,slowperiod=3,matype=4"},
        {"ULTOSC", "timeperiod1=7,timeperiod2=14,timeperiod3=28",
         "timeperiod1=28,timeperiod2=7,timeperiod3=14"},
    };
    bars b;
    bars_random(&b, 300, 11);
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        const kz_ta_info *i1 = run(pairs[k].name, pairs[k].a, &b, out);
        const kz_ta_info *i2 = run(pairs[k].name, pairs[k].b, &b, out2);
        if (!i1 || !i2) {
            continue;
        }
        for (int j = 0; j < i1->n_outputs; j++) {
            check_series(pairs[k].name, out2[j], out[j], b.n, 0);
        }
    }
}

/* ---------------------------------------------------------------- registry contract */

static void test_lookbacks(void)
{
    static const struct {
        const char *name, *spec;
        int lookback;
    } want[] = {
        {"RSI", "", 14},
        {"CMO", "", 14},
        {"MACD", "", 33},
        {"MACD", "fastperiod=5,slowperiod=35,signalperiod=5", 38},
        {"MACDEXT", "", 33},
        {"MACDEXT", "slowmatype=3,signalmatype=8", 50 + 48},
        {"MACDFIX", "", 33},
        {"STOCH", "", 8},
        {"STOCH", "fastk_period=14,slowk_period=5,slowk_matype=1,slowd_period=4", 20},
        {"STOCHF", "", 6},
        {"STOCHRSI", "", 20},
        {"CCI", "", 13},
        {"ADX", "", 27},
        {"ADX", "timeperiod=50", 99},
        {"ADXR", "", 40},
        {"DX", "", 14},
        {"PLUS_DI", "timeperiod=1", 1},
        {"PLUS_DM", "", 13},
        {"MINUS_DM", "timeperiod=1", 1},
        {"MFI", "", 14},
        {"WILLR", "", 13},
        {"AROON", "", 14},
        {"AROONOSC", "", 14},
        {"APO", "", 25},
        {"PPO", "matype=6", 26},
        {"ROC", "", 10},
        {"MOM", "timeperiod=1", 1},
        {"TRIX", "", 88},
        {"ULTOSC", "", 28},
        {"BOP", "", 0},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        double params[KZ_TA_MAX_PARAMS];
        const kz_ta_info *info = setup(want[k].name, want[k].spec, params);
        if (info) {
            CHECK_MSG(kz_ta_lookback(info, params) == want[k].lookback, "%s(%s) lookback %d",
                      want[k].name, want[k].spec, kz_ta_lookback(info, params));
        }
    }
}

static void test_bad_params(void)
{
    static const struct {
        const char *name, *spec, *field;
    } bad[] = {
        {"RSI", "timeperiod=1", "timeperiod"},
        {"MOM", "timeperiod=0", "timeperiod"},
        {"ADX", "timeperiod=2.5", "timeperiod"},
        {"CCI", "timeperiod=100001", "timeperiod"},
        {"MACD", "signalperiod=0", "signalperiod"},
        {"MACD", "fastperiod=1", "fastperiod"},
        {"STOCH", "slowk_matype=9", "slowk_matype"},
        {"STOCHRSI", "fastd_matype=0.5", "fastd_matype"},
        {"ULTOSC", "timeperiod3=0", "timeperiod3"},
        {"APO", "slowperiod=-3", "slowperiod"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        double params[KZ_TA_MAX_PARAMS];
        const kz_ta_info *info = setup(bad[k].name, bad[k].spec, params);
        if (!info) {
            continue;
        }
        kz_error err;
        kz_error_clear(&err);
        CHECK_MSG(kz_ta_params_check(info, params, &err) == KZ_ERR_INVALID, "%s(%s) accepted",
                  bad[k].name, bad[k].spec);
        CHECK_MSG(strcmp(err.field, bad[k].field) == 0, "%s(%s): field '%s'", bad[k].name,
                  bad[k].spec, err.field);
    }
}


/* Bars where the stream of name(spec) differs from its batch outputs (out, from run) on b;
 * -1 when the stream cannot be made. */
static int stream_bad(const char *name, const char *spec, const bars *b, double out_[][MAX_N])
{
    double params[KZ_TA_MAX_PARAMS];
    const kz_ta_info *info = setup(name, spec, params);
    kz_ta_stream *s = NULL;
    kz_error err;
    kz_error_clear(&err);
    if (!info || kz_ta_stream_new(info, params, &s, &err) != KZ_OK) {
        return -1;
    }
    CHECK_MSG(kz_ta_stream_is_o1(s), "%s streams through the fallback", name);
    int bad = 0;
    for (size_t i = 0; i < b->n; i++) {
        double in[KZ_TA_MAX_INPUTS], y[KZ_TA_MAX_OUTPUTS];
        for (int j = 0; j < info->n_inputs; j++) {
            in[j] = b->col[info->inputs[j]][i];
        }
        CHECK(kz_ta_stream_push(s, in, y) == KZ_OK);
        for (int j = 0; j < info->n_outputs; j++) {
            bad += !kz_same_bits(y[j], out_[j][i]);
        }
    }
    kz_ta_stream_free(s);
    return bad;
}

/* CCI's batch sums 8 bars of one p-bar cycle side by side (src/ta/momentum_osc.c): stream ==
 * batch bit for bit for periods below, at and above 8 and lengths around multiples of p and 8. */
static void test_cci_batch_lanes(void)
{
    static const int periods[] = {2, 3, 7, 8, 9, 14, 16, 17, 33};
    bars b;
    for (size_t k = 0; k < sizeof periods / sizeof periods[0]; k++) {
        int p = periods[k];
        size_t lens[] = {(size_t)p - 1, (size_t)p,         (size_t)p + 1,     (size_t)(2 * p + 7),
                         (size_t)(8 * p), (size_t)(8 * p + 1), (size_t)(8 * p + 9), 300};
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            char spec[32];
            snprintf(spec, sizeof spec, "timeperiod=%d", p);
            bars_random(&b, lens[l] < MAX_N ? lens[l] : MAX_N, 11 + (uint64_t)l);
            if (!run("CCI", spec, &b, out)) {
                continue;
            }
            int bad = stream_bad("CCI", spec, &b, out);
            CHECK_MSG(bad == 0, "CCI(%d), %zu bars: %d streamed values differ", p, b.n, bad);
        }
    }
}

/* Stream == batch, bit for bit, for parameters the generic registry test (defaults) does not
 * reach: other MA types, swapped periods, period-1 paths, tiny windows. */
static void test_stream_nondefault(void)
{
    static const struct {
        const char *name, *spec;
    } cases[] = {
        {"MACDEXT", "fastperiod=5,fastmatype=1,slowperiod=20,slowmatype=6,signalperiod=4,"
                    "signalmatype=3"},
        {"MACDEXT", "fastperiod=30,fastmatype=7,slowperiod=10,slowmatype=8,signalmatype=5"},
        {"MACD", "fastperiod=26,slowperiod=12,signalperiod=1"},
        {"MACDFIX", "signalperiod=1"},
        {"APO", "matype=1"},
        {"PPO", "fastperiod=30,slowperiod=5,matype=2"},
        {"STOCH", "slowk_matype=1,slowd_matype=4"},
        {"STOCH", "fastk_period=1,slowk_period=1,slowd_period=1"},
        {"STOCHF", "fastd_matype=8"},
        {"STOCHRSI", "timeperiod=5,fastk_period=1,fastd_matype=1"},
        {"PLUS_DI", "timeperiod=1"},
        {"MINUS_DI", "timeperiod=1"},
        {"PLUS_DM", "timeperiod=1"},
        {"MINUS_DM", "timeperiod=2"},
        {"ADXR", "timeperiod=2"},
        {"ULTOSC", "timeperiod1=28,timeperiod2=1,timeperiod3=5"},
        {"TRIX", "timeperiod=1"},
        {"AROON", "timeperiod=2"},
        {"CCI", "timeperiod=2"},
        {"WILLR", "timeperiod=2"},
        {"MFI", "timeperiod=2"},
        {"CMO", "timeperiod=2"},
        {"ROCR", "timeperiod=1"},
    };
    bars b;
    bars_random(&b, 300, 5);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (!run(cases[k].name, cases[k].spec, &b, out)) {
            continue;
        }
        int bad = stream_bad(cases[k].name, cases[k].spec, &b, out);
        CHECK_MSG(bad == 0, "%s(%s): %d streamed values differ", cases[k].name, cases[k].spec, bad);
    }
}

/* ---------------------------------------------------------------- window extremes: edge cases
 * WILLR, AROON* and STOCH* take their highest high / lowest low from van Herk / Gil-Werman in
 * blocks of the window (src/ta/extreme_int.h), fed 256-bar chunks in batch and single bars when
 * streaming. Here: ties among equal values and between -0.0 and +0.0 (TA-Lib gives
 * ties to the latest bar; the bar decides AROON and the bits), constant and monotonic series,
 * windows of 1 and 2 bars, and windows and lengths around the block and chunk sizes; checked
 * bit for bit against a rescan of every window, and stream against batch. */


/* Highest high and lowest low of bars [t-w+1, t] and their bars, TA-Lib's way (>= / <=: the
 * latest of equal values). */
typedef struct ex_hl {
    double hh, ll;
    size_t ih, il;
} ex_hl;

static ex_hl ex_window(const bars *b, size_t t, size_t w)
{
    const double *hi = b->col[KZ_IN_HIGH], *lo = b->col[KZ_IN_LOW];
    ex_hl e = {hi[t + 1 - w], lo[t + 1 - w], t + 1 - w, t + 1 - w};
    for (size_t j = t + 2 - w; j <= t; j++) {
        if (hi[j] >= e.hh) {
            e.hh = hi[j];
            e.ih = j;
        }
        if (lo[j] <= e.ll) {
            e.ll = lo[j];
            e.il = j;
        }
    }
    return e;
}

/* Values of WILLR, AROON, AROONOSC, STOCHF's fast %K with period p on b that differ from the
 * rescans (TA-Lib's formulas, same operations). */
static int ex_check(const bars *b, size_t p)
{
    static double want[3][MAX_N];
    char spec[64];
    int bad = 0;
    const double *close = b->col[KZ_IN_CLOSE];
    if (p >= 2) {
        snprintf(spec, sizeof spec, "timeperiod=%zu", p);
        double factor = 100.0 / (double)p;
        for (size_t t = 0; t < b->n; t++) {
            want[0][t] = want[1][t] = want[2][t] = NAN;
            if (t + 1 >= p) {
                ex_hl e = ex_window(b, t, p);
                double diff = (e.hh - e.ll) / (-100.0);
                want[0][t] = diff != 0.0 ? (e.hh - close[t]) / diff : 0.0;
            }
        }
        bad += !run("WILLR", spec, b, out);
        for (size_t t = 0; t < b->n; t++) {
            bad += !kz_same_bits(out[0][t], want[0][t]);
        }
        for (size_t t = 0; t < b->n; t++) {
            want[0][t] = want[1][t] = want[2][t] = NAN;
            if (t >= p) {
                ex_hl e = ex_window(b, t, p + 1);
                want[0][t] = factor * (double)((double)p - (double)(t - e.il));
                want[1][t] = factor * (double)((double)p - (double)(t - e.ih));
                want[2][t] = factor * ((double)e.ih - (double)e.il);
            }
        }
        bad += !run("AROON", spec, b, out);
        bad += !run("AROONOSC", spec, b, out2);
        for (size_t t = 0; t < b->n; t++) {
            bad += !kz_same_bits(out[0][t], want[0][t]) + !kz_same_bits(out[1][t], want[1][t]);
            bad += !kz_same_bits(out2[0][t], want[2][t]);
        }
    }
    snprintf(spec, sizeof spec, "fastk_period=%zu,fastd_period=1", p);
    bad += !run("STOCHF", spec, b, out);
    for (size_t t = 0; t < b->n; t++) {
        double fastk = NAN;
        if (t + 1 >= p) {
            ex_hl e = ex_window(b, t, p);
            double diff = (e.hh - e.ll) / 100.0;
            fastk = diff != 0.0 ? (close[t] - e.ll) / diff : 0.0;
        }
        bad += !kz_same_bits(out[0][t], fastk);
    }
    return bad;
}

/* Stream == batch for every window-extreme indicator with window p on b. */
static int ex_check_stream(const bars *b, size_t p)
{
    static const char *const specs[] = {
        "WILLR:timeperiod=%zu",    "AROON:timeperiod=%zu",
        "AROONOSC:timeperiod=%zu", "STOCHF:fastk_period=%zu",
        "STOCH:fastk_period=%zu",  "STOCHRSI:timeperiod=3,fastk_period=%zu"};
    int bad = 0;
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        char name[16], spec[64];
        const char *colon = strchr(specs[k], ':');
        snprintf(name, sizeof name, "%.*s", (int)(colon - specs[k]), specs[k]);
        snprintf(spec, sizeof spec, colon + 1, p);
        if (p < 2 && (strcmp(name, "WILLR") == 0 || strncmp(name, "AROON", 5) == 0)) {
            continue;
        }
        bad += !run(name, spec, b, out);
        int d = stream_bad(name, spec, b, out);
        bad += d < 0 ? 1 : d;
    }
    return bad;
}

static void test_extreme_edges(void)
{
    static const size_t windows[] = {1, 2, 3, 5, 255, 256, 257, 300};
    static bars b;
    kz_rng r;
    kz_rng_seed(&r, 99);
    for (int kind = 0; kind < 6; kind++) {
        memset(&b, 0, sizeof b);
        kz_test_series(b.col[KZ_IN_HIGH], MAX_N, kind, &r);
        kz_test_series(b.col[KZ_IN_LOW], MAX_N, kind, &r);
        kz_test_series(b.col[KZ_IN_CLOSE], MAX_N, kind, &r);
        for (size_t k = 0; k < sizeof windows / sizeof windows[0]; k++) {
            size_t p = windows[k];
            const size_t lens[] = {p, p + 1, p + 2, 2 * p + 1, 255, 256, 257, 513, MAX_N};
            for (size_t m = 0; m < sizeof lens / sizeof lens[0]; m++) {
                b.n = lens[m] < MAX_N ? lens[m] : MAX_N;
                int bad = ex_check(&b, p);
                if (b.n == MAX_N) {
                    bad += ex_check_stream(&b, p);
                }
                CHECK_MSG(bad == 0, "series %d window %zu n %zu: %d values differ", kind, p, b.n,
                          bad);
            }
        }
    }
}

int main(void)
{
    test_rsi_cmo_by_hand();
    test_roc_family_by_hand();
    test_range_oscillators_by_hand();
    test_aroon_by_hand();
    test_directional_uptrend();
    test_constant_series();
    test_macdfix_reference();
    test_order_invariance();
    test_lookbacks();
    test_bad_params();
    test_stream_nondefault();
    test_cci_batch_lanes();
    test_extreme_edges();
    KZ_TEST_DONE();
}
