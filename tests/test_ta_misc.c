/* Unit tests of the volatility, volume, statistic, price-transform and math-operator indicators:
 * hand-computed cases, TA-Lib quirks, naive two-pass references, numerical stability on large
 * price levels, stream == batch (bit for bit), prefix stability and bad parameters. */
#include <stdint.h>

#include "kizashi/kizashi.h"

#include "kz_test.h"
#include "ta_series.h"

#define PI 3.14159265358979323846

/* Run `name` on columns `in` with params (NULL = defaults) into the output columns outs. */
static kz_status run_outs(const char *name,
                          const double *params,
                          size_t n,
                          const double *const *in,
                          double *const *outs,
                          kz_error *err)
{
    const kz_ta_info *info = kz_ta_find(name);
    CHECK_MSG(info != NULL, "%s missing from the registry", name);
    if (!info) {
        return KZ_ERR_INVALID;
    }
    double p[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(info, p);
    for (int k = 0; params && k < info->n_params; k++) {
        p[k] = params[k];
    }
    return kz_ta_run(info, n, in, p, outs, err);
}

/* Single-output form. */
static kz_status run(const char *name,
                     const double *params,
                     size_t n,
                     const double *const *in,
                     double *out,
                     kz_error *err)
{
    double *outs[1] = {out};
    return run_outs(name, params, n, in, outs, err);
}

/* Run and require success. */
static void
run_ok(const char *name, const double *params, size_t n, const double *const *in, double *out)
{
    kz_error err;
    kz_status st = run(name, params, n, in, out, &err);
    CHECK_MSG(st == KZ_OK, "%s: %s %s", name, kz_status_str(st), err.msg);
}

static int same_bits(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Random OHLCV walk around `level`; every 17th bar is flat (high == low) to exercise the
 * zero-range branches, closes are rounded to a 0.5 grid so MAX/MIN see ties. */
typedef struct bars {
    size_t n;
    double *open, *high, *low, *close, *volume;
} bars;

static bars bars_make(size_t n, uint64_t seed, double level)
{
    bars b = {n,
              malloc(n * sizeof(double)),
              malloc(n * sizeof(double)),
              malloc(n * sizeof(double)),
              malloc(n * sizeof(double)),
              malloc(n * sizeof(double))};
    kz_rng rng;
    kz_rng_seed(&rng, seed);
    double prev = level;
    for (size_t i = 0; i < n; i++) {
        double c = floor(prev * (1.0 + 0.01 * kz_rng_normal(&rng)) * 2.0) / 2.0;
        double o = prev;
        b.open[i] = o;
        b.close[i] = c;
        if (i % 17 == 5) {
            b.open[i] = b.close[i] = b.high[i] = b.low[i] = c;
        } else {
            b.high[i] = fmax(o, c) + level * 0.004 * kz_rng_uniform(&rng);
            b.low[i] = fmin(o, c) - level * 0.004 * kz_rng_uniform(&rng);
        }
        b.volume[i] = 1000.0 * (0.5 + kz_rng_uniform(&rng));
        prev = c;
    }
    return b;
}

static void bars_free(bars *b)
{
    free(b->open);
    free(b->high);
    free(b->low);
    free(b->close);
    free(b->volume);
}

static const double *bars_col(const bars *b, kz_ta_input in)
{
    switch (in) {
    case KZ_IN_OPEN:
        return b->open;
    case KZ_IN_HIGH:
        return b->high;
    case KZ_IN_LOW:
        return b->low;
    case KZ_IN_CLOSE:
        return b->close;
    case KZ_IN_VOLUME:
        return b->volume;
    }
    return NULL;
}

static int is_misc_group(const char *g)
{
    return !strcmp(g, "volatility") || !strcmp(g, "volume") || !strcmp(g, "statistic") ||
           !strcmp(g, "price") || !strcmp(g, "math");
}

/* ---------------------------------------------------------------- registry rows */

static void test_registry(void)
{
    static const struct {
        const char *name, *group;
        int n_inputs, lookback;
    } rows[] = {
        {"ATR", "volatility", 3, 14},
        {"NATR", "volatility", 3, 14},
        {"TRANGE", "volatility", 3, 1},
        {"AD", "volume", 4, 0},
        {"ADOSC", "volume", 4, 9},
        {"OBV", "volume", 2, 0},
        {"BETA", "statistic", 2, 5},
        {"CORREL", "statistic", 2, 29},
        {"LINEARREG", "statistic", 1, 13},
        {"LINEARREG_ANGLE", "statistic", 1, 13},
        {"LINEARREG_INTERCEPT", "statistic", 1, 13},
        {"LINEARREG_SLOPE", "statistic", 1, 13},
        {"STDDEV", "statistic", 1, 4},
        {"TSF", "statistic", 1, 13},
        {"VAR", "statistic", 1, 4},
        {"AVGPRICE", "price", 4, 0},
        {"MEDPRICE", "price", 2, 0},
        {"TYPPRICE", "price", 3, 0},
        {"WCLPRICE", "price", 3, 0},
        {"ADD", "math", 2, 0},
        {"DIV", "math", 2, 0},
        {"MAX", "math", 1, 29},
        {"MAXINDEX", "math", 1, 29},
        {"MIN", "math", 1, 29},
        {"MININDEX", "math", 1, 29},
        {"MINMAX", "math", 1, 29},
        {"MINMAXINDEX", "math", 1, 29},
        {"MULT", "math", 2, 0},
        {"SUB", "math", 2, 0},
        {"SUM", "math", 1, 29},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const kz_ta_info *info = kz_ta_find(rows[r].name);
        CHECK_MSG(info != NULL, "%s not registered", rows[r].name);
        if (!info) {
            continue;
        }
        double p[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, p);
        CHECK_MSG(!strcmp(info->group, rows[r].group), "%s group %s", info->name, info->group);
        CHECK_EQ_INT(info->n_inputs, rows[r].n_inputs);
        CHECK_EQ_INT(kz_ta_lookback(info, p), rows[r].lookback);
        CHECK(info->state_size && info->state_init && info->state_step);
    }
    CHECK(kz_ta_find("correl")->inputs[0] == KZ_IN_HIGH);
    CHECK(kz_ta_find("BETA")->inputs[1] == KZ_IN_LOW);
    CHECK(!strcmp(kz_ta_find("MAXINDEX")->outputs[0], "integer"));
    /* within each of these groups the rows are sorted by name */
    for (size_t i = 1; i < kz_ta_count(); i++) {
        const kz_ta_info *a = kz_ta_at(i - 1), *b = kz_ta_at(i);
        if (is_misc_group(a->group) && !strcmp(a->group, b->group)) {
            CHECK_MSG(strcmp(a->name, b->name) < 0, "%s before %s", a->name, b->name);
        }
    }
}

/* ---------------------------------------------------------------- volatility */

static void test_trange_atr_natr(void)
{
    double h[] = {10, 12, 11, 13, 12}, l[] = {8, 9, 9, 10, 10}, c[] = {9, 11, 10, 12, 11};
    const double *in[] = {h, l, c};
    double out[5];
    /* TR: bar1 max(3, |9-12|, |9-9|) = 3; bar2 max(2, 0, 2) = 2; bar3 3; bar4 2 */
    run_ok("TRANGE", NULL, 5, in, out);
    CHECK(isnan(out[0]));
    CHECK_NEAR(out[1], 3, 0);
    CHECK_NEAR(out[2], 2, 0);
    CHECK_NEAR(out[3], 3, 0);
    CHECK_NEAR(out[4], 2, 0);
    /* ATR(2): seed (3+2)/2 at bar 2, then Wilder (prev*1 + TR)/2 */
    double p2[] = {2};
    run_ok("ATR", p2, 5, in, out);
    CHECK(isnan(out[0]) && isnan(out[1]));
    CHECK_NEAR(out[2], 2.5, 0);
    CHECK_NEAR(out[3], 2.75, 0);
    CHECK_NEAR(out[4], 2.375, 0);
    run_ok("NATR", p2, 5, in, out);
    CHECK_NEAR(out[2], 25.0, 1e-15);
    CHECK_NEAR(out[3], 2.75 / 12 * 100, 1e-15);
    CHECK_NEAR(out[4], 2.375 / 11 * 100, 1e-15);
    /* TA-Lib quirk: period 1 returns the raw true range, also for NATR */
    double p1[] = {1};
    run_ok("NATR", p1, 5, in, out);
    CHECK(isnan(out[0]));
    CHECK_NEAR(out[1], 3, 0);
    CHECK_NEAR(out[4], 2, 0);
}

/* ---------------------------------------------------------------- volume */

static void test_obv_ad(void)
{
    double c[] = {10, 11, 11, 10, 12}, v[] = {100, 200, 300, 400, 500};
    const double *in_obv[] = {c, v};
    double out[5];
    run_ok("OBV", NULL, 5, in_obv, out);
    double want_obv[] = {100, 300, 300, -100, 400};
    for (int i = 0; i < 5; i++) {
        CHECK_NEAR(out[i], want_obv[i], 0);
    }
    /* AD: close location value ((c-l)-(h-c))/(h-l) times volume, skipped when h == l */
    double h[] = {12, 10, 10}, l[] = {8, 10, 6}, cc[] = {11, 10, 6}, vv[] = {100, 50, 10};
    const double *in_ad[] = {h, l, cc, vv};
    run_ok("AD", NULL, 3, in_ad, out);
    CHECK_NEAR(out[0], 50, 0);
    CHECK_NEAR(out[1], 50, 0);
    CHECK_NEAR(out[2], 40, 0);
}

/* ADOSC = EMA(fast) - EMA(slow) of the A/D line, both seeded with A/D of bar 0. */
static void test_adosc_reference(void)
{
    bars b = bars_make(300, 11, 100.0);
    const double *in[] = {b.high, b.low, b.close, b.volume};
    double out[300];
    int fast = 4, slow = 7;
    double p[] = {fast, slow};
    run_ok("ADOSC", p, b.n, in, out);
    double ad = 0, ef = 0, es = 0, kf = 2.0 / (fast + 1), ks = 2.0 / (slow + 1);
    for (size_t i = 0; i < b.n; i++) {
        double range = b.high[i] - b.low[i];
        if (range > 0) {
            ad += ((b.close[i] - b.low[i]) - (b.high[i] - b.close[i])) / range * b.volume[i];
        }
        ef = i == 0 ? ad : kf * ad + (1 - kf) * ef;
        es = i == 0 ? ad : ks * ad + (1 - ks) * es;
        CHECK_NEAR(out[i], i < (size_t)(slow - 1) ? NAN : ef - es, 1e-9);
    }
    /* swapped periods: the first parameter's EMA is still the minuend (TA-Lib) */
    double out2[300], q[] = {slow, fast};
    run_ok("ADOSC", q, b.n, in, out2);
    for (size_t i = (size_t)slow; i < b.n; i++) {
        CHECK_NEAR(out2[i], -out[i], 1e-9);
    }
    bars_free(&b);
}

/* ---------------------------------------------------------------- math operators */

static void test_sum(void)
{
    double x[10], out[10];
    for (int i = 0; i < 10; i++) {
        x[i] = i + 1;
    }
    const double *in[] = {x};
    double p[] = {3};
    run_ok("SUM", p, 10, in, out);
    CHECK(isnan(out[0]) && isnan(out[1]));
    for (int i = 2; i < 10; i++) {
        CHECK_NEAR(out[i], 3 * i, 0); /* (i-1) + i + (i+1) */
    }
}

/* TA-Lib's MAX/MAXINDEX algorithm (ta_MAX.c) verbatim in spirit: remember one extreme, rescan
 * the window (first strictly greater wins) when it falls out, else take a new value >= it. */
static void talib_minmax(const double *x, size_t n, size_t p, int is_min, double *val, double *idx)
{
    long best = -1;
    double bv = 0;
    for (size_t today = 0; today < n; today++) {
        if (today + 1 < p) {
            val[today] = idx[today] = NAN;
            continue;
        }
        long trailing = (long)(today + 1 - p);
        double t = x[today];
        if (best < trailing) {
            best = trailing;
            bv = x[best];
            for (size_t i = (size_t)best + 1; i <= today; i++) {
                if (is_min ? x[i] < bv : x[i] > bv) {
                    best = (long)i;
                    bv = x[i];
                }
            }
        } else if (is_min ? t <= bv : t >= bv) {
            best = (long)today;
            bv = t;
        }
        val[today] = bv;
        idx[today] = (double)best;
    }
}

static void test_minmax(void)
{
    double x[] = {1, 3, 3, 2, 1, 1, 0}, out[7];
    const double *in[] = {x};
    double p[] = {3};
    double nan = NAN;
    double want_max[] = {nan, nan, 3, 3, 3, 2, 1}, want_maxi[] = {nan, nan, 1, 1, 2, 3, 4};
    double want_min[] = {nan, nan, 1, 2, 1, 1, 0}, want_mini[] = {nan, nan, 0, 3, 4, 5, 6};
    run_ok("MAX", p, 7, in, out);
    for (int i = 0; i < 7; i++) {
        CHECK_NEAR(out[i], want_max[i], 0);
    }
    run_ok("MAXINDEX", p, 7, in, out);
    for (int i = 0; i < 7; i++) {
        CHECK_NEAR(out[i], want_maxi[i], 0);
    }
    run_ok("MIN", p, 7, in, out);
    for (int i = 0; i < 7; i++) {
        CHECK_NEAR(out[i], want_min[i], 0);
    }
    run_ok("MININDEX", p, 7, in, out);
    for (int i = 0; i < 7; i++) {
        CHECK_NEAR(out[i], want_mini[i], 0);
    }
    /* many ties: TA-Lib's remembered-extreme tie rule reproduced exactly */
    enum { N = 2000 };
    static double r[N], val[N], idx[N], got[N], got2[N];
    kz_rng rng;
    kz_rng_seed(&rng, 5);
    for (int i = 0; i < N; i++) {
        r[i] = (double)kz_rng_int(&rng, 0, 4);
    }
    const double *rin[] = {r};
    static const double periods[] = {2, 3, 7, 30};
    for (int t = 0; t < 4; t++) {
        for (int is_min = 0; is_min < 2; is_min++) {
            talib_minmax(r, N, (size_t)periods[t], is_min, val, idx);
            int bad_v = 0, bad_i = 0;
            run_ok(is_min ? "MIN" : "MAX", &periods[t], N, rin, got);
            for (int i = 0; i < N; i++) {
                bad_v += !same_bits(got[i], val[i]);
            }
            run_ok(is_min ? "MININDEX" : "MAXINDEX", &periods[t], N, rin, got);
            for (int i = 0; i < N; i++) {
                bad_i += !same_bits(got[i], idx[i]);
            }
            CHECK_MSG(bad_v == 0 && bad_i == 0, "period %g min %d: %d values, %d indices differ",
                      periods[t], is_min, bad_v, bad_i);
            /* MINMAX / MINMAXINDEX: outputs (min, max), each the same as MIN / MAX */
            double *two[2] = {got, got2};
            int bad_mm = 0;
            kz_error err;
            CHECK(run_outs("MINMAX", &periods[t], N, rin, two, &err) == KZ_OK);
            for (int i = 0; i < N; i++) {
                bad_mm += !same_bits(two[!is_min][i], val[i]);
            }
            CHECK(run_outs("MINMAXINDEX", &periods[t], N, rin, two, &err) == KZ_OK);
            for (int i = 0; i < N; i++) {
                bad_mm += !same_bits(two[!is_min][i], idx[i]);
            }
            CHECK_MSG(bad_mm == 0, "MINMAX* period %g: %d differ", periods[t], bad_mm);
        }
    }
}

/* ---------------------------------------------------------------- window extremes: edge cases
 * Window extremes come from van Herk / Gil-Werman in blocks of `period` bars
 * (src/ta/extreme_int.h), fed 256-bar chunks in batch and single bars when streaming. Here: ties
 * among equal values and between -0.0 and +0.0 (the tie rule decides which bar, hence which
 * bits), constant and monotonic series (a TA-Lib rescan on every bar), the shortest periods, and
 * periods and lengths around the block and chunk sizes; checked bit for bit against talib_minmax
 * and a naive MIDPOINT / MIDPRICE (which share the engine), and stream against batch. */

enum { EX_N = 777 };



/* Bars where a stream of `name` differs from its batch outputs `want` over n bars. */
static int stream_diff(
    const char *name, const double *params, size_t n, const double *const *in, double *const *want)
{
    const kz_ta_info *info = kz_ta_find(name);
    kz_ta_stream *s = NULL;
    kz_error err;
    if (kz_ta_stream_new(info, params, &s, &err) != KZ_OK) {
        return -1;
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double bar[KZ_TA_MAX_INPUTS], o[KZ_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++) {
            bar[k] = in[k][i];
        }
        if (kz_ta_stream_push(s, bar, o) != KZ_OK) {
            bad++;
            break;
        }
        for (int j = 0; j < info->n_outputs; j++) {
            bad += !kz_same_bits(o[j], want[j][i]);
        }
    }
    kz_ta_stream_free(s);
    return bad;
}

/* MAX .. MINMAXINDEX on x[0..n) against talib_minmax; stream == batch when `stream`. Returns the
 * number of differing values. */
static int ex_check_minmax(const double *x, size_t n, double period, int stream)
{
    static double val[2][EX_N], idx[2][EX_N], got[2][EX_N];
    const double *in[] = {x};
    double *one[1] = {got[0]}, *two[2] = {got[0], got[1]};
    kz_error err;
    int bad = 0;
    for (int is_min = 0; is_min < 2; is_min++) {
        talib_minmax(x, n, (size_t)period, is_min, val[is_min], idx[is_min]);
        for (int want_idx = 0; want_idx < 2; want_idx++) {
            const char *name =
                is_min ? (want_idx ? "MININDEX" : "MIN") : (want_idx ? "MAXINDEX" : "MAX");
            const double *want = want_idx ? idx[is_min] : val[is_min];
            bad += run_outs(name, &period, n, in, one, &err) != KZ_OK;
            for (size_t i = 0; i < n; i++) {
                bad += !kz_same_bits(got[0][i], want[i]);
            }
            bad += stream ? stream_diff(name, &period, n, in, one) : 0;
        }
    }
    for (int want_idx = 0; want_idx < 2; want_idx++) {
        const char *name = want_idx ? "MINMAXINDEX" : "MINMAX";
        bad += run_outs(name, &period, n, in, two, &err) != KZ_OK;
        for (int k = 0; k < 2; k++) { /* outputs (min, max) */
            const double *want = want_idx ? idx[1 - k] : val[1 - k];
            for (size_t i = 0; i < n; i++) {
                bad += !kz_same_bits(two[k][i], want[i]);
            }
        }
        bad += stream ? stream_diff(name, &period, n, in, two) : 0;
    }
    return bad;
}

/* MIDPRICE (high, low) against a rescan of every window (ties to the latest bar, as TA-Lib's
 * >= / <= scan), and MIDPOINT (close = high) likewise. */
static int ex_check_mid(const double *hi, const double *lo, size_t n, double period, int stream)
{
    static double want[EX_N], got[EX_N];
    size_t p = (size_t)period;
    int bad = 0;
    for (int point = 0; point < 2; point++) {
        const double *l = point ? hi : lo;
        for (size_t t = 0; t < n; t++) {
            want[t] = NAN;
            if (t + 1 < p) {
                continue;
            }
            double hh = hi[t + 1 - p], ll = l[t + 1 - p];
            for (size_t j = t + 2 - p; j <= t; j++) {
                hh = hi[j] >= hh ? hi[j] : hh;
                ll = l[j] <= ll ? l[j] : ll;
            }
            want[t] = (hh + ll) / 2.0;
        }
        const char *name = point ? "MIDPOINT" : "MIDPRICE";
        const double *in[] = {hi, lo};
        double *outs[1] = {got};
        kz_error err;
        bad += run_outs(name, &period, n, in, outs, &err) != KZ_OK;
        for (size_t t = 0; t < n; t++) {
            bad += !kz_same_bits(got[t], want[t]);
        }
        bad += stream ? stream_diff(name, &period, n, in, outs) : 0;
    }
    return bad;
}

static void test_extreme_edges(void)
{
    static const double periods[] = {2, 3, 5, 255, 256, 257, 300};
    static double x[EX_N], y[EX_N];
    kz_rng rng;
    kz_rng_seed(&rng, 77);
    for (int kind = 0; kind < 6; kind++) {
        kz_test_series(x, EX_N, kind, &rng);
        kz_test_series(y, EX_N, kind, &rng);
        for (size_t k = 0; k < sizeof periods / sizeof periods[0]; k++) {
            size_t p = (size_t)periods[k];
            const size_t lens[] = {p - 1, p, p + 1, 2 * p, 2 * p + 1, 255, 256, 257, 513, EX_N};
            for (size_t m = 0; m < sizeof lens / sizeof lens[0]; m++) {
                size_t n = lens[m] < EX_N ? lens[m] : EX_N;
                int stream = m + 1 == sizeof lens / sizeof lens[0];
                int bad = ex_check_minmax(x, n, periods[k], stream);
                /* high x, low y: MIDPRICE needs no low <= high, and ties stay */
                bad += ex_check_mid(x, y, n, periods[k], stream);
                CHECK_MSG(bad == 0, "series %d period %zu n %zu: %d values differ", kind, p, n,
                          bad);
            }
        }
    }
}

/* ---------------------------------------------------------------- price transforms */

static void test_price(void)
{
    double o[] = {1}, h[] = {4}, l[] = {2}, c[] = {3}, out[1];
    const double *ohlc[] = {o, h, l, c}, *hl[] = {h, l}, *hlc[] = {h, l, c};
    run_ok("AVGPRICE", NULL, 1, ohlc, out);
    CHECK_NEAR(out[0], 2.5, 0);
    run_ok("MEDPRICE", NULL, 1, hl, out);
    CHECK_NEAR(out[0], 3, 0);
    run_ok("TYPPRICE", NULL, 1, hlc, out);
    CHECK_NEAR(out[0], 3, 0);
    run_ok("WCLPRICE", NULL, 1, hlc, out);
    CHECK_NEAR(out[0], 3, 0);
    run_ok("ADD", NULL, 1, hl, out);
    CHECK_NEAR(out[0], 6, 0);
    run_ok("SUB", NULL, 1, hl, out);
    CHECK_NEAR(out[0], 2, 0);
    run_ok("MULT", NULL, 1, hl, out);
    CHECK_NEAR(out[0], 8, 0);
    run_ok("DIV", NULL, 1, hl, out);
    CHECK_NEAR(out[0], 2, 0);
}

/* ---------------------------------------------------------------- statistic */

/* Two-pass references over the window ending at i. */
static double ref_var(const double *x, size_t i, size_t p)
{
    double m = 0, v = 0;
    for (size_t j = i + 1 - p; j <= i; j++) {
        m += x[j];
    }
    m /= (double)p;
    for (size_t j = i + 1 - p; j <= i; j++) {
        v += (x[j] - m) * (x[j] - m);
    }
    return v / (double)p;
}

/* slope and value at the oldest bar of the least-squares line over t = 0..p-1 */
static void ref_line(const double *x, size_t i, size_t p, double *slope, double *intercept)
{
    double tm = (double)(p - 1) / 2, ym = 0, sty = 0, stt = 0;
    for (size_t j = i + 1 - p; j <= i; j++) {
        ym += x[j];
    }
    ym /= (double)p;
    for (size_t j = i + 1 - p; j <= i; j++) {
        double t = (double)(j - (i + 1 - p)) - tm;
        sty += t * (x[j] - ym);
        stt += t * t;
    }
    *slope = sty / stt;
    *intercept = ym - *slope * tm;
}

/* covariance-type sums of (x, y) over [a, b] */
static void
ref_cov(const double *x, const double *y, size_t a, size_t b, double *sxx, double *syy, double *sxy)
{
    double mx = 0, my = 0, n = (double)(b - a + 1);
    for (size_t j = a; j <= b; j++) {
        mx += x[j];
        my += y[j];
    }
    mx /= n;
    my /= n;
    *sxx = *syy = *sxy = 0;
    for (size_t j = a; j <= b; j++) {
        *sxx += (x[j] - mx) * (x[j] - mx);
        *syy += (y[j] - my) * (y[j] - my);
        *sxy += (x[j] - mx) * (y[j] - my);
    }
}

static void test_var_stddev(void)
{
    double x[] = {1, 2, 3, 4, 5, 6}, out[6];
    const double *in[] = {x};
    double p[] = {5, 1};
    run_ok("VAR", p, 6, in, out);
    CHECK(isnan(out[3]));
    CHECK_NEAR(out[4], 2, 1e-15);
    CHECK_NEAR(out[5], 2, 1e-15);
    double q[] = {5, 2};
    run_ok("STDDEV", q, 6, in, out);
    CHECK_NEAR(out[4], 2 * sqrt(2), 1e-15);
    double one[] = {1, 1};
    run_ok("VAR", one, 6, in, out);
    for (int i = 0; i < 6; i++) {
        CHECK_NEAR(out[i], 0, 0);
    }
    /* TA-Lib quirk: STDDEV is 0 where the variance is below 1e-8; VAR itself is kept */
    double tiny[8], out2[8];
    for (int i = 0; i < 8; i++) {
        tiny[i] = (i % 2) * 1e-5;
    }
    const double *tin[] = {tiny};
    double p4[] = {4, 1};
    run_ok("VAR", p4, 8, tin, out2);
    CHECK_NEAR(out2[7], 2.5e-11, 1e-9);
    run_ok("STDDEV", p4, 8, tin, out2);
    CHECK_NEAR(out2[7], 0, 0);
}

/* Prices near 1e9 drifting upward: raw running sums (TA-Lib) lose most digits of a variance
 * ~1e2 against Σx² ~ 1e19; the stable window sums stay within 1e-9 of a two-pass reference. */
static void test_var_stability(void)
{
    enum { N = 20000 };
    static double x[N], out[N];
    kz_rng rng;
    kz_rng_seed(&rng, 9);
    for (int i = 0; i < N; i++) {
        x[i] = 1e9 + 50.0 * i + 10.0 * kz_rng_normal(&rng);
    }
    const double *in[] = {x};
    double p[] = {20, 1};
    run_ok("VAR", p, N, in, out);
    int bad = 0;
    for (size_t i = 19; i < N; i++) {
        bad += !kz_near(out[i], ref_var(x, i, 20), 1e-9);
    }
    CHECK_MSG(bad == 0, "%d VAR values off the two-pass reference", bad);
    double q[] = {20};
    run_ok("LINEARREG_SLOPE", q, N, in, out);
    bad = 0;
    for (size_t i = 19; i < N; i++) {
        double m, b0;
        ref_line(x, i, 20, &m, &b0);
        bad += !kz_near(out[i], m, 1e-9);
    }
    CHECK_MSG(bad == 0, "%d slopes off the reference", bad);
}

static void test_linreg(void)
{
    double y[10], out[10];
    for (int t = 0; t < 10; t++) {
        y[t] = 5 + 2 * t;
    }
    const double *in[] = {y};
    double p[] = {4};
    run_ok("LINEARREG_SLOPE", p, 10, in, out);
    CHECK(isnan(out[2]));
    CHECK_NEAR(out[3], 2, 1e-12);
    CHECK_NEAR(out[9], 2, 1e-12);
    run_ok("LINEARREG", p, 10, in, out);
    CHECK_NEAR(out[9], y[9], 1e-12);
    run_ok("LINEARREG_INTERCEPT", p, 10, in, out);
    CHECK_NEAR(out[9], y[6], 1e-12);
    run_ok("TSF", p, 10, in, out);
    CHECK_NEAR(out[9], y[9] + 2, 1e-12);
    run_ok("LINEARREG_ANGLE", p, 10, in, out);
    CHECK_NEAR(out[9], atan(2.0) * 180 / PI, 1e-12);

    bars b = bars_make(500, 3, 100.0);
    const double *cin[] = {b.close};
    size_t pp = 9;
    double p9[] = {9};
    static double val[500], slo[500], ang[500], icp[500], tsf[500];
    run_ok("LINEARREG", p9, b.n, cin, val);
    run_ok("LINEARREG_SLOPE", p9, b.n, cin, slo);
    run_ok("LINEARREG_ANGLE", p9, b.n, cin, ang);
    run_ok("LINEARREG_INTERCEPT", p9, b.n, cin, icp);
    run_ok("TSF", p9, b.n, cin, tsf);
    int bad = 0;
    for (size_t i = pp - 1; i < b.n; i++) {
        double m, b0;
        ref_line(b.close, i, pp, &m, &b0);
        bad += !kz_near(slo[i], m, 1e-9) + !kz_near(icp[i], b0, 1e-9) +
               !kz_near(val[i], b0 + m * (double)(pp - 1), 1e-9) +
               !kz_near(tsf[i], b0 + m * (double)pp, 1e-9) +
               !kz_near(ang[i], atan(m) * 180 / PI, 1e-9);
    }
    CHECK_MSG(bad == 0, "%d LINEARREG family values off the reference", bad);
    bars_free(&b);
}

static void test_correl_beta(void)
{
    bars b = bars_make(400, 7, 100.0);
    size_t n = b.n;
    double *y = malloc(n * sizeof(double)), *out = malloc(n * sizeof(double));
    const double *in[] = {b.close, y};
    double p[] = {10};
    for (size_t i = 0; i < n; i++) {
        y[i] = 3 * b.close[i] + 1;
    }
    run_ok("CORREL", p, n, in, out);
    CHECK(isnan(out[8]));
    CHECK_NEAR(out[9], 1, 1e-12);
    CHECK_NEAR(out[n - 1], 1, 1e-12);
    for (size_t i = 0; i < n; i++) {
        y[i] = -2 * b.close[i] + 5;
    }
    run_ok("CORREL", p, n, in, out);
    CHECK_NEAR(out[n - 1], -1, 1e-12);
    for (size_t i = 0; i < n; i++) {
        y[i] = 7;
    }
    run_ok("CORREL", p, n, in, out);
    CHECK_NEAR(out[n - 1], 0, 0); /* zero variance: TA-Lib returns 0 */

    /* against Pearson's r from two-pass sums, on high vs low */
    const double *hl[] = {b.high, b.low};
    run_ok("CORREL", p, n, hl, out);
    int bad = 0;
    for (size_t i = 9; i < n; i++) {
        double sxx, syy, sxy;
        ref_cov(b.high, b.low, i - 9, i, &sxx, &syy, &sxy);
        bad += !kz_near(out[i], sxy / sqrt(sxx * syy), 1e-9);
    }
    CHECK_MSG(bad == 0, "%d CORREL values off the reference", bad);

    /* BETA: returns of y are exactly twice those of x, so the regression slope is 2 */
    y[0] = 50;
    for (size_t i = 1; i < n; i++) {
        y[i] = y[i - 1] * (1 + 2 * (b.close[i] - b.close[i - 1]) / b.close[i - 1]);
    }
    double p5[] = {5};
    run_ok("BETA", p5, n, in, out);
    CHECK(isnan(out[4]));
    CHECK_NEAR(out[5], 2, 1e-9);
    CHECK_NEAR(out[n - 1], 2, 1e-9);
    /* against the returns regression on high vs low */
    double *rx = malloc(n * sizeof(double)), *ry = malloc(n * sizeof(double));
    for (size_t i = 1; i < n; i++) {
        rx[i] = (b.high[i] - b.high[i - 1]) / b.high[i - 1];
        ry[i] = (b.low[i] - b.low[i - 1]) / b.low[i - 1];
    }
    run_ok("BETA", p5, n, hl, out);
    bad = 0;
    for (size_t i = 5; i < n; i++) {
        double sxx, syy, sxy;
        ref_cov(rx, ry, i - 4, i, &sxx, &syy, &sxy);
        bad += !kz_near(out[i], sxy / sxx, 1e-9);
    }
    CHECK_MSG(bad == 0, "%d BETA values off the reference", bad);
    free(rx);
    free(ry);
    free(y);
    free(out);
    bars_free(&b);
}

/* ---------------------------------------------------------------- every entry: stream, prefix */

static void check_entry(const kz_ta_info *info, const double *params, const bars *b)
{
    size_t n = b->n, cut = n / 2 + 3;
    int m = info->n_outputs;
    const double *in[KZ_TA_MAX_INPUTS];
    for (int k = 0; k < info->n_inputs; k++) {
        in[k] = bars_col(b, info->inputs[k]);
    }
    double *full[KZ_TA_MAX_OUTPUTS], *part[KZ_TA_MAX_OUTPUTS];
    for (int j = 0; j < m; j++) {
        full[j] = malloc(n * sizeof(double));
        part[j] = malloc(n * sizeof(double));
    }
    kz_error err;
    CHECK(kz_ta_run(info, n, in, params, full, &err) == KZ_OK);
    CHECK(kz_ta_run(info, cut, in, params, part, &err) == KZ_OK);
    int lb = kz_ta_lookback(info, params);
    int bad_prefix = 0, bad_stream = 0, bad_warm = 0;
    for (int j = 0; j < m; j++) {
        for (size_t i = 0; i < cut; i++) {
            bad_prefix += !same_bits(part[j][i], full[j][i]);
        }
        for (size_t i = 0; i < n; i++) {
            bad_warm += (i < (size_t)lb) != (isnan(full[j][i]) != 0);
        }
    }
    kz_ta_stream *s = NULL;
    CHECK(kz_ta_stream_new(info, params, &s, &err) == KZ_OK);
    CHECK(kz_ta_stream_is_o1(s));
    for (size_t i = 0; s && i < n; i++) {
        double bar[KZ_TA_MAX_INPUTS], o[KZ_TA_MAX_OUTPUTS];
        for (int k = 0; k < info->n_inputs; k++) {
            bar[k] = in[k][i];
        }
        CHECK(kz_ta_stream_push(s, bar, o) == KZ_OK);
        for (int j = 0; j < m; j++) {
            bad_stream += !same_bits(o[j], full[j][i]);
        }
    }
    kz_ta_stream_free(s);
    CHECK_MSG(bad_prefix == 0, "%s: %d values change when bars are appended", info->name,
              bad_prefix);
    CHECK_MSG(bad_warm == 0, "%s: NaN warm-up differs from lookback %d", info->name, lb);
    CHECK_MSG(bad_stream == 0, "%s: %d stream values differ from batch", info->name, bad_stream);
    for (int j = 0; j < m; j++) {
        free(full[j]);
        free(part[j]);
    }
}

static void test_every_entry(void)
{
    bars b = bars_make(700, 21, 30000.0);
    int seen = 0;
    for (size_t i = 0; i < kz_ta_count(); i++) {
        const kz_ta_info *info = kz_ta_at(i);
        if (!is_misc_group(info->group)) {
            continue;
        }
        seen++;
        double p[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, p);
        check_entry(info, p, &b);
        int k = kz_ta_param_index(info, "timeperiod");
        if (k >= 0) { /* short and long windows (several exact recomputations) */
            p[k] = info->params[k].min;
            check_entry(info, p, &b);
            p[k] = 3;
            check_entry(info, p, &b);
            p[k] = 150;
            check_entry(info, p, &b);
        }
    }
    CHECK_EQ_INT(seen, 30);
    bars_free(&b);
}

/* ---------------------------------------------------------------- bad parameters, OOM */

static void expect_invalid(const char *name, int k, double v, const char *field)
{
    const kz_ta_info *info = kz_ta_find(name);
    double p[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(info, p);
    p[k] = v;
    double x[40] = {0}, out[40];
    const double *in[] = {x, x, x, x, x};
    double *outs[1] = {out};
    kz_error err;
    kz_status st = kz_ta_run(info, 40, in, p, outs, &err);
    CHECK_MSG(st == KZ_ERR_INVALID, "%s with %s = %g accepted", name, field, v);
    CHECK_MSG(!strcmp(err.field, field), "%s: field '%s', want '%s'", name, err.field, field);
}

static void test_bad_params(void)
{
    expect_invalid("ATR", 0, 0, "timeperiod");
    expect_invalid("NATR", 0, 100001, "timeperiod");
    expect_invalid("STDDEV", 0, 1, "timeperiod"); /* TA-Lib: 2..100000 (VAR allows 1) */
    expect_invalid("STDDEV", 1, NAN, "nbdev");
    expect_invalid("LINEARREG", 0, 1, "timeperiod");
    expect_invalid("CORREL", 0, 0, "timeperiod");
    expect_invalid("SUM", 0, 2.5, "timeperiod");
    expect_invalid("MAXINDEX", 0, 1, "timeperiod");
    expect_invalid("ADOSC", 0, 1, "fastperiod");
    expect_invalid("ADOSC", 1, 3.5, "slowperiod");
    /* non-finite input names the column and bar */
    double x[3] = {1, INFINITY, 3}, out[3];
    const double *in[] = {x};
    kz_error err;
    CHECK(run("SUM", NULL, 3, in, out, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.field, "close");
    CHECK_EQ_INT(err.line, 2);
}

static void *fail_malloc(size_t size, void *ud)
{
    (void)size;
    (void)ud;
    return NULL;
}

static void *fail_realloc(void *p, size_t size, void *ud)
{
    (void)p;
    (void)size;
    (void)ud;
    return NULL;
}

static void plain_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static void test_oom(void)
{
    double x[50], out[50];
    for (int i = 0; i < 50; i++) {
        x[i] = i;
    }
    const double *in[] = {x};
    kz_allocator a = {fail_malloc, fail_realloc, plain_free, NULL};
    kz_set_allocator(&a);
    kz_error err;
    kz_status st = run("VAR", NULL, 50, in, out, &err);
    kz_ta_stream *s = (kz_ta_stream *)&err; /* must be reset to NULL on failure */
    kz_status st2 = kz_ta_stream_new(kz_ta_find("MAX"), (const double[]){30}, &s, NULL);
    kz_set_allocator(NULL);
    CHECK(st == KZ_ERR_NOMEM);
    CHECK(st2 == KZ_ERR_NOMEM);
    CHECK(s == NULL);
}

int main(void)
{
    test_registry();
    test_trange_atr_natr();
    test_obv_ad();
    test_adosc_reference();
    test_sum();
    test_minmax();
    test_extreme_edges();
    test_price();
    test_var_stddev();
    test_var_stability();
    test_linreg();
    test_correl_beta();
    test_every_entry();
    test_bad_params();
    test_oom();
    KZ_TEST_DONE();
}
