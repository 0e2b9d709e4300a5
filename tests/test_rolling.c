/* Tests of the rolling primitives (kizashi/ta.h) and their streaming states (ta/rolling_int.h):
 * fast == naive long-double reference, pandas literals, stability, stream == batch, errors, OOM. */
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/ta.h"

#include "kz_test.h"
#include "ta/rolling_int.h"

typedef long double ld;

/* ================================================================ naive references
 * Each recomputes its window from scratch in long double (two-pass where it matters). pandas
 * semantics: NaN before w values and whenever the window holds a NaN or +-inf. */

static int win_ok(const double *x, size_t i, size_t w)
{
    if (i + 1 < w) {
        return 0;
    }
    for (size_t j = i + 1 - w; j <= i; j++) {
        if (!isfinite(x[j])) {
            return 0;
        }
    }
    return 1;
}

static ld win_mean(const double *x, size_t i, size_t w)
{
    ld s = 0;
    for (size_t j = i + 1 - w; j <= i; j++) {
        s += x[j];
    }
    return s / (ld)w;
}

typedef enum ref_kind {
    R_SUM,
    R_MEAN,
    R_VAR0,
    R_VAR1,
    R_STD1,
    R_MIN,
    R_MAX,
    R_ARGMIN,
    R_ARGMAX,
    R_MAD,
    R_SLOPE
} ref_kind;

static double ref_window(const double *x, size_t i, size_t w, ref_kind k)
{
    ld m = win_mean(x, i, w), acc = 0;
    size_t first = i + 1 - w, best = first;
    for (size_t j = first; j <= i; j++) {
        ld d = (ld)x[j] - m;
        switch (k) {
        case R_VAR0:
        case R_VAR1:
        case R_STD1:
            acc += d * d;
            break;
        case R_MAD:
            acc += fabsl(d);
            break;
        case R_SLOPE:
            acc += ((ld)(j - first) - (ld)(w - 1) / 2) * d;
            break;
        case R_MIN:
        case R_ARGMIN:
            best = x[j] <= x[best] ? j : best; /* ties -> most recent */
            break;
        case R_MAX:
        case R_ARGMAX:
            best = x[j] >= x[best] ? j : best;
            break;
        default:
            break;
        }
    }
    switch (k) {
    case R_SUM:
        return (double)(m * (ld)w);
    case R_MEAN:
        return (double)m;
    case R_VAR0:
        return (double)(acc / (ld)w);
    case R_VAR1:
        return (double)(acc / (ld)(w - 1));
    case R_STD1:
        return (double)sqrtl(acc / (ld)(w - 1));
    case R_MIN:
    case R_MAX:
        return x[best];
    case R_ARGMIN:
    case R_ARGMAX:
        return (double)best;
    case R_MAD:
        return (double)(acc / (ld)w);
    case R_SLOPE:
        return (double)(acc / ((ld)w * ((ld)w * (ld)w - 1) / 12));
    }
    return NAN;
}

static void ref_roll(const double *x, size_t n, size_t w, ref_kind k, double *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = win_ok(x, i, w) ? ref_window(x, i, w, k) : NAN;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

static void ref_quantile(const double *x, size_t n, size_t w, double q, double *out, double *tmp)
{
    for (size_t i = 0; i < n; i++) {
        if (!win_ok(x, i, w)) {
            out[i] = NAN;
            continue;
        }
        memcpy(tmp, x + i + 1 - w, w * sizeof(double));
        qsort(tmp, w, sizeof(double), cmp_double);
        double pos = q * (double)(w - 1);
        size_t lo = (size_t)floor(pos);
        out[i] = lo + 1 < w ? tmp[lo] + (tmp[lo + 1] - tmp[lo]) * (pos - (double)lo) : tmp[lo];
    }
}

static void ref_corr(const double *x, const double *y, size_t n, size_t w, double *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = NAN;
        if (!win_ok(x, i, w) || !win_ok(y, i, w)) {
            continue;
        }
        ld mx = win_mean(x, i, w), my = win_mean(y, i, w), sxx = 0, syy = 0, sxy = 0;
        for (size_t j = i + 1 - w; j <= i; j++) {
            sxx += ((ld)x[j] - mx) * ((ld)x[j] - mx);
            syy += ((ld)y[j] - my) * ((ld)y[j] - my);
            sxy += ((ld)x[j] - mx) * ((ld)y[j] - my);
        }
        if (sxx > 0 && syy > 0) {
            out[i] = (double)(sxy / sqrtl(sxx * syy));
        }
    }
}

/* Closed form of pandas ewm(adjust=True, ignore_na=False): weights (1-a)^(i-j) over the finite
 * x[j], j <= i; a NaN position still counts in the exponent. */
static void ref_ewm_adjusted(const double *x, size_t n, double a, double *out)
{
    for (size_t i = 0; i < n; i++) {
        ld num = 0, den = 0, last = NAN;
        for (size_t j = 0; j <= i; j++) {
            if (isfinite(x[j])) {
                ld wt = powl(1.0L - (ld)a, (ld)(i - j));
                num += wt * x[j];
                den += wt;
                last = x[j];
            }
        }
        /* den == 0 only for alpha = 1 after a NaN: the limit is the last finite value. */
        out[i] = (double)(den > 0 ? num / den : last);
    }
}

/* adjust=False skipping non-finite inputs: y = (1-a)^m f_0 + sum_k a (1-a)^(m-k) f_k over the
 * finite values f_0..f_m seen so far. */
static void ref_ewm_recursive(const double *x, size_t n, double a, double *out)
{
    for (size_t i = 0; i < n; i++) {
        size_t m = 0;
        for (size_t j = 0; j <= i; j++) {
            m += isfinite(x[j]) ? 1u : 0u;
        }
        ld y = 0;
        size_t k = 0;
        for (size_t j = 0; j <= i; j++) {
            if (isfinite(x[j])) {
                ld wt = powl(1.0L - (ld)a, (ld)(m - 1 - k)) * (k == 0 ? 1.0L : (ld)a);
                y += wt * x[j];
                k++;
            }
        }
        out[i] = m ? (double)y : NAN;
    }
}

/* pandas pct_change: optional ffill of NaN, then x / x.shift(k) - 1; diff when pad < 0. */
static void ref_lag(const double *x, size_t n, size_t k, int pad, double *out, double *tmp)
{
    for (size_t i = 0; i < n; i++) {
        tmp[i] = pad > 0 && isnan(x[i]) && i > 0 ? tmp[i - 1] : x[i];
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = i < k ? NAN : pad < 0 ? x[i] - x[i - k] : tmp[i] / tmp[i - k] - 1.0;
    }
}

/* ================================================================ helpers */

/* a == b (NaN == NaN), or |a - b| <= tol * max(|a|, |b|, scale). */
static int close_to(double a, double b, double tol, double scale)
{
    if (isnan(a) || isnan(b)) {
        return isnan(a) && isnan(b);
    }
    return a == b || fabs(a - b) <= tol * fmax(fmax(fabs(a), fabs(b)), scale);
}

/* One CHECK per series, reporting the first mismatch. tol < 0: bit-identical. Otherwise relative
 * error <= tol against max(|value|, scale), scale = max(the series' largest |value|, unit): values
 * that cancel to ~0 (sums, slopes, corr of noise) are judged at the data's scale. unit < 0:
 * purely element-wise relative error (the stability criterion). */
static void expect_series(const char *what,
                          size_t n,
                          size_t w,
                          const double *got,
                          const double *want,
                          double tol,
                          double unit)
{
    double scale = fmax(unit, 0.0);
    for (size_t i = 0; i < n && unit >= 0; i++) {
        scale = isfinite(want[i]) ? fmax(scale, fabs(want[i])) : scale;
    }
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++) {
        if (tol < 0 ? !kz_same_bits(got[i], want[i]) : !close_to(got[i], want[i], tol, scale)) {
            bad = i;
        }
    }
    CHECK_MSG(bad == n, "%s n=%zu w=%zu: [%zu] got %.17g want %.17g", what, n, w, bad,
              bad < n ? got[bad] : 0.0, bad < n ? want[bad] : 0.0);
}

static void expect_values(const char *what, const double *got, const double *want, size_t n)
{
    expect_series(what, n, 0, got, want, 1e-12, 0.0);
}

typedef enum gen_kind { G_NORMAL, G_NORMAL_NAN, G_DISCRETE_NAN, G_PRICE } gen_kind;

/* Inputs: Gaussian; Gaussian with ~5% NaN and a few +-inf; small integers (ties, constant
 * windows) with NaN; a price random walk ~1e5 with tiny steps. */
static void gen(kz_rng *r, double *x, size_t n, gen_kind g)
{
    double level = 1e5;
    for (size_t i = 0; i < n; i++) {
        double u = kz_rng_uniform(r);
        switch (g) {
        case G_NORMAL:
            x[i] = kz_rng_normal(r);
            break;
        case G_NORMAL_NAN:
            x[i] = u < 0.05   ? NAN
                   : u < 0.06 ? (u < 0.055 ? INFINITY : -INFINITY)
                              : kz_rng_normal(r);
            break;
        case G_DISCRETE_NAN:
            x[i] = u < 0.04 ? NAN : floor(kz_rng_uniform(r) * 3.0);
            break;
        case G_PRICE:
            level += 1e-3 * kz_rng_normal(r);
            x[i] = level;
            break;
        }
    }
}

/* ================================================================ fast == reference */

static void test_fast_vs_ref(void)
{
    static const size_t ns[] = {0, 1, 5, 37, 200, 600};
    static const size_t ws[] = {1, 2, 3, 5, 7, 13, 20, 50};
    enum { NMAX = 600 };
    static double x[NMAX], y[NMAX], got[NMAX], want[NMAX], tmp[NMAX];
    kz_rng r;
    kz_rng_seed(&r, 20240611);
    for (int g = G_NORMAL; g <= G_PRICE; g++) {
        for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
            size_t n = ns[a];
            gen(&r, x, n, (gen_kind)g);
            gen(&r, y, n, (gen_kind)g);
            for (size_t b = 0; b < sizeof ws / sizeof ws[0]; b++) {
                size_t w = ws[b];
                /* Relative tolerances. MAD on the price series (1e5 + 1e-3 steps): the window
                 * mean rounded to double is off by up to ~1e-11, i.e. 1e-8 of a MAD ~1e-3. */
                double tv = 1e-9, tmad = g == G_PRICE ? 1e-7 : 1e-12;
                /* Data scale: O(1) values, or the price steps (1e-3) whose statistics are tiny. */
                double unit = g == G_PRICE ? 0.0 : 1.0;
#define RUN_REF(name, call, kind, tol)                                                             \
    do {                                                                                           \
        CHECK_EQ_INT(call, KZ_OK);                                                                 \
        ref_roll(x, n, w, kind, want);                                                             \
        expect_series(name, n, w, got, want, tol, unit);                                           \
    } while (0)
                RUN_REF("sum", kz_roll_sum(x, n, w, got), R_SUM, 1e-12);
                RUN_REF("mean", kz_roll_mean(x, n, w, got), R_MEAN, 1e-12);
                RUN_REF("min", kz_roll_min(x, n, w, got), R_MIN, 0.0);
                RUN_REF("max", kz_roll_max(x, n, w, got), R_MAX, 0.0);
                RUN_REF("argmin", kz_roll_argmin(x, n, w, got), R_ARGMIN, 0.0);
                RUN_REF("argmax", kz_roll_argmax(x, n, w, got), R_ARGMAX, 0.0);
                RUN_REF("mad", kz_roll_mad(x, n, w, got), R_MAD, tmad);
                RUN_REF("var0", kz_roll_var(x, n, w, 0, got), R_VAR0, tv);
                if (w >= 2) {
                    RUN_REF("var1", kz_roll_var(x, n, w, 1, got), R_VAR1, tv);
                    RUN_REF("std1", kz_roll_std(x, n, w, 1, got), R_STD1, tv);
                    RUN_REF("slope", kz_roll_slope(x, n, w, got), R_SLOPE, tv);
                }
#undef RUN_REF
                static const double qs[] = {0.0, 0.1, 0.5, 0.9, 1.0};
                for (size_t c = 0; c < 5; c++) {
                    CHECK_EQ_INT(kz_roll_quantile(x, n, w, qs[c], got), KZ_OK);
                    ref_quantile(x, n, w, qs[c], want, tmp);
                    expect_series("quantile", n, w, got, want, 1e-12, unit);
                }
                CHECK_EQ_INT(kz_roll_corr(x, y, n, w, got), KZ_OK);
                ref_corr(x, y, n, w, want);
                expect_series("corr", n, w, got, want, tv, unit);
                CHECK_EQ_INT(kz_pct_change(x, n, w, 1, got), KZ_OK);
                ref_lag(x, n, w, 1, want, tmp);
                expect_series("pct_pad", n, w, got, want, 0.0, unit);
                CHECK_EQ_INT(kz_pct_change(x, n, w, 0, got), KZ_OK);
                ref_lag(x, n, w, 0, want, tmp);
                expect_series("pct", n, w, got, want, 0.0, unit);
                CHECK_EQ_INT(kz_diff(x, n, w, got), KZ_OK);
                ref_lag(x, n, w, -1, want, tmp);
                expect_series("diff", n, w, got, want, 0.0, unit);
            }
            if (n <= 200) {
                static const double alphas[] = {1.0, 0.5, 2.0 / 21.0, 0.01};
                for (size_t c = 0; c < 4; c++) {
                    CHECK_EQ_INT(kz_ewm_adjusted(x, n, alphas[c], got), KZ_OK);
                    ref_ewm_adjusted(x, n, alphas[c], want);
                    expect_series("ewm_adjusted", n, 0, got, want, 1e-12, 1.0);
                    CHECK_EQ_INT(kz_ewm_recursive(x, n, alphas[c], got), KZ_OK);
                    ref_ewm_recursive(x, n, alphas[c], want);
                    expect_series("ewm_recursive", n, 0, got, want, 1e-12, 1.0);
                }
            }
        }
    }
}

/* ================================================================ pandas literals */

static void test_pandas_literals(void)
{
    double out[8];
    /* pd.Series([3,1,4,1.5,9,2]).rolling(5).quantile(0.9 / 0.25) */
    const double qx[] = {3.0, 1.0, 4.0, 1.5, 9.0, 2.0};
    CHECK_EQ_INT(kz_roll_quantile(qx, 6, 5, 0.9, out), KZ_OK);
    expect_values("quantile .9", out, (const double[]){NAN, NAN, NAN, NAN, 7.0, 7.0}, 6);
    CHECK_EQ_INT(kz_roll_quantile(qx, 6, 5, 0.25, out), KZ_OK);
    expect_values("quantile .25", out, (const double[]){NAN, NAN, NAN, NAN, 1.5, 1.5}, 6);

    /* ewm(alpha).mean(), adjust=True: the NaN still ages the weight of the 1. */
    CHECK_EQ_INT(kz_ewm_adjusted((const double[]){1.0, NAN, 3.0}, 3, 0.5, out), KZ_OK);
    expect_values("ewm [1,nan,3]", out, (const double[]){1.0, 1.0, 2.6}, 3);
    const double ex[] = {NAN, 2.0, NAN, NAN, 5.0, 1.0};
    CHECK_EQ_INT(kz_ewm_adjusted(ex, 6, 0.3, out), KZ_OK);
    expect_values("ewm adjust", out,
                  (const double[]){NAN, 2.0, 2.0, 2.0, 4.233804914370812, 2.5669810834493068}, 6);
    /* adjust=False, ignore_na=True */
    CHECK_EQ_INT(kz_ewm_recursive(ex, 6, 0.3, out), KZ_OK);
    expect_values("ewm recursive", out, (const double[]){NAN, 2.0, 2.0, 2.0, 2.9, 2.33}, 6);

    /* x.rolling(4).corr(y), .var(), .std(); x.rolling(3).mean() */
    const double cx[] = {2.0, 7.0, 1.0, 8.0, 2.5, 8.0, 1.5, 9.0};
    const double cy[] = {1.0, -3.0, 2.0, 0.5, 4.0, -2.0, 6.0, 0.0};
    CHECK_EQ_INT(kz_roll_corr(cx, cy, 8, 4, out), KZ_OK);
    expect_values("corr", out,
                  (const double[]){NAN, NAN, NAN, -0.6656041856957602, -0.7029852214908379,
                                   -0.7900097337088414, -0.950870353452182, -0.9376517218269728},
                  8);
    CHECK_EQ_INT(kz_roll_var(cx, 8, 4, 1, out), KZ_OK);
    expect_values("var", out,
                  (const double[]){NAN, NAN, NAN, 12.333333333333334, 11.5625, 13.395833333333334,
                                   12.166666666666666, 14.416666666666666},
                  8);
    CHECK_EQ_INT(kz_roll_std(cx, 8, 4, 1, out), KZ_OK);
    expect_values("std", out,
                  (const double[]){NAN, NAN, NAN, 3.5118845842842465, 3.400367627183861,
                                   3.660031875999625, 3.488074922742725, 3.7969285832981723},
                  8);
    CHECK_EQ_INT(kz_roll_mean(cx, 8, 3, out), KZ_OK);
    expect_values("mean", out,
                  (const double[]){NAN, NAN, 3.3333333333333335, 5.333333333333333,
                                   3.8333333333333335, 6.166666666666667, 4.0, 6.166666666666667},
                  8);

    /* Constant window: var exactly 0, corr NaN (pandas). */
    const double k5[] = {2.0, 2.0, 2.0, 2.0, 5.0}, d5[] = {1.0, 3.0, 2.0, 5.0, 4.0};
    CHECK_EQ_INT(kz_roll_var(k5, 5, 3, 1, out), KZ_OK);
    CHECK(out[2] == 0.0 && out[3] == 0.0);
    CHECK_NEAR(out[4], 3.0, 1e-12);
    CHECK_EQ_INT(kz_roll_corr(k5, d5, 5, 3, out), KZ_OK);
    expect_values("corr const", out, (const double[]){NAN, NAN, NAN, NAN, 0.18898223650461396}, 5);

    /* pct_change pad / k=2 / fill_method=None */
    const double px[] = {1.0, NAN, 2.0, NAN, NAN, 4.0};
    CHECK_EQ_INT(kz_pct_change(px, 6, 1, 1, out), KZ_OK);
    expect_values("pct pad", out, (const double[]){NAN, 0.0, 1.0, 0.0, 0.0, 1.0}, 6);
    CHECK_EQ_INT(kz_pct_change(px, 6, 2, 1, out), KZ_OK);
    expect_values("pct pad 2", out, (const double[]){NAN, NAN, 1.0, 1.0, 0.0, 1.0}, 6);
    CHECK_EQ_INT(kz_pct_change(px, 6, 1, 0, out), KZ_OK);
    expect_values("pct none", out, (const double[]){NAN, NAN, NAN, NAN, NAN, NAN}, 6);
    CHECK_EQ_INT(kz_diff((const double[]){1.0, 4.0, 9.0, 16.0}, 4, 2, out), KZ_OK);
    expect_values("diff 2", out, (const double[]){NAN, NAN, 8.0, 12.0}, 4);

    /* rolling(4).apply(np.polyfit slope / mean |x - mean|) */
    const double sx[] = {1.0, 4.0, 2.0, 8.0, 5.0, 7.0};
    CHECK_EQ_INT(kz_roll_slope(sx, 6, 4, out), KZ_OK);
    expect_values("slope", out, (const double[]){NAN, NAN, NAN, 1.9, 0.9, 1.2}, 6);
    CHECK_EQ_INT(kz_roll_mad(sx, 6, 4, out), KZ_OK);
    expect_values("mad", out, (const double[]){NAN, NAN, NAN, 2.25, 1.75, 2.0}, 6);

    /* pandas turns inf into NaN before every rolling kernel. */
    const double ix[] = {1.0, INFINITY, 2.0, 3.0, 4.0};
    CHECK_EQ_INT(kz_roll_sum(ix, 5, 2, out), KZ_OK);
    expect_values("sum inf", out, (const double[]){NAN, NAN, NAN, 5.0, 7.0}, 5);
    CHECK_EQ_INT(kz_roll_max(ix, 5, 2, out), KZ_OK);
    expect_values("max inf", out, (const double[]){NAN, NAN, NAN, 3.0, 4.0}, 5);
    CHECK_EQ_INT(kz_roll_var(ix, 5, 2, 1, out), KZ_OK);
    expect_values("var inf", out, (const double[]){NAN, NAN, NAN, 0.5, 0.5}, 5);

    /* Ties -> the most recent index (TA-Lib MININDEX / MAXINDEX). */
    const double tx[] = {3.0, 1.0, 2.0, 1.0, 5.0, 5.0};
    CHECK_EQ_INT(kz_roll_argmin(tx, 6, 3, out), KZ_OK);
    expect_values("argmin ties", out, (const double[]){NAN, NAN, 1.0, 3.0, 3.0, 3.0}, 6);
    CHECK_EQ_INT(kz_roll_argmax(tx, 6, 3, out), KZ_OK);
    expect_values("argmax ties", out, (const double[]){NAN, NAN, 0.0, 2.0, 4.0, 5.0}, 6);
}

/* ================================================================ numerical stability */

/* Prices ~1e5 with 1e-3 noise (and a trend): var/std/corr/slope against two-pass long double,
 * relative error <= 1e-9 on every bar. */
static void test_stability(void)
{
    enum { N = 4000 };
    static double x[N], y[N], got[N], want[N];
    kz_rng r;
    kz_rng_seed(&r, 7);
    for (int trend = 0; trend < 2; trend++) {
        for (size_t i = 0; i < N; i++) {
            double base = 1e5 + (trend ? 0.05 * (double)i : 0.0);
            x[i] = base + 1e-3 * kz_rng_normal(&r);
            y[i] = 2e5 - 1e-3 * x[i] + 1e-3 * kz_rng_normal(&r);
        }
        static const size_t ws[] = {20, 168};
        for (size_t b = 0; b < 2; b++) {
            size_t w = ws[b];
            CHECK_EQ_INT(kz_roll_var(x, N, w, 1, got), KZ_OK);
            ref_roll(x, N, w, R_VAR1, want);
            expect_series("stable var", N, w, got, want, 1e-9, -1.0);
            CHECK_EQ_INT(kz_roll_std(x, N, w, 1, got), KZ_OK);
            ref_roll(x, N, w, R_STD1, want);
            expect_series("stable std", N, w, got, want, 1e-9, -1.0);
            CHECK_EQ_INT(kz_roll_corr(x, y, N, w, got), KZ_OK);
            ref_corr(x, y, N, w, want);
            expect_series("stable corr", N, w, got, want, 1e-9, -1.0);
            CHECK_EQ_INT(kz_roll_slope(x, N, w, got), KZ_OK);
            ref_roll(x, N, w, R_SLOPE, want);
            expect_series("stable slope", N, w, got, want, 1e-9, -1.0);
        }
    }
}

/* ================================================================ stream == batch */

/* All streaming states pushed side by side (so none can lean on hidden shared state) must
 * reproduce the batch outputs bit for bit. */
static void test_stream_equals_batch(void)
{
    enum { N = 700, W = 11, K = 3, NOUT = 15 };
    static double x[N], y[N], batch[NOUT][N], stream[NOUT][N];
    kz_rng r;
    kz_rng_seed(&r, 99);
    gen(&r, x, N, G_NORMAL_NAN);
    gen(&r, y, N, G_DISCRETE_NAN);

    kz_status st[NOUT] = {kz_roll_sum(x, N, W, batch[0]),
                          kz_roll_mean(x, N, W, batch[1]),
                          kz_roll_var(x, N, W, 1, batch[2]),
                          kz_roll_corr(x, y, N, W, batch[3]),
                          kz_roll_slope(x, N, W, batch[4]),
                          kz_roll_min(y, N, W, batch[5]),
                          kz_roll_argmax(x, N, W, batch[6]),
                          kz_roll_quantile(x, N, W, 0.3, batch[7]),
                          kz_roll_mad(x, N, W, batch[8]),
                          kz_ewm_adjusted(x, N, 0.2, batch[9]),
                          kz_ewm_recursive(x, N, 0.2, batch[10]),
                          kz_pct_change(x, N, K, 1, batch[11]),
                          kz_diff(x, N, K, batch[12]),
                          kz_roll_max(y, N, W, batch[13]),
                          kz_roll_argmin(x, N, W, batch[14])};
    for (size_t k = 0; k < NOUT; k++) {
        CHECK_EQ_INT(st[k], KZ_OK);
    }

    double m_sum[W], m_var[W], m_corr[2 * W], m_slope[W], m_quant[2 * W], m_mad[W], m_lag[K],
        m_lag2[K];
    kz_rext_entry m_min[W], m_amax[W], m_max[W], m_amin[W];
    CHECK(kz_rsum_mem(W) == sizeof m_sum && kz_rcorr_mem(W) == sizeof m_corr);
    CHECK(kz_rext_mem(W) == sizeof m_min && kz_rquant_mem(W) == sizeof m_quant);
    kz_rsum_state s_sum;
    kz_rvar_state s_var;
    kz_rcorr_state s_corr;
    kz_rslope_state s_slope;
    kz_rext_state s_min, s_amax, s_max, s_amin;
    kz_rquant_state s_quant;
    kz_rmad_state s_mad;
    kz_ewma_state s_ewma;
    kz_ewmr_state s_ewmr;
    kz_lag_state s_pct, s_diff;
    kz_rsum_init(&s_sum, W, m_sum);
    kz_rvar_init(&s_var, W, 1, m_var);
    kz_rcorr_init(&s_corr, W, m_corr);
    kz_rslope_init(&s_slope, W, m_slope);
    kz_rext_init(&s_min, W, 0, m_min);
    kz_rext_init(&s_amax, W, 1, m_amax);
    kz_rext_init(&s_max, W, 1, m_max);
    kz_rext_init(&s_amin, W, 0, m_amin);
    kz_rquant_init(&s_quant, W, 0.3, m_quant);
    kz_rmad_init(&s_mad, W, m_mad);
    kz_ewma_init(&s_ewma, 0.2);
    kz_ewmr_init(&s_ewmr, 0.2);
    kz_lag_init(&s_pct, K, 1, m_lag);
    kz_lag_init(&s_diff, K, 0, m_lag2);
    for (size_t i = 0; i < N; i++) {
        stream[0][i] = kz_rsum_push(&s_sum, x[i]);
        stream[1][i] = kz_rsum_mean(&s_sum);
        stream[2][i] = kz_rvar_push(&s_var, x[i]);
        stream[3][i] = kz_rcorr_push(&s_corr, x[i], y[i]);
        stream[4][i] = kz_rslope_push(&s_slope, x[i]);
        stream[5][i] = kz_rext_push(&s_min, y[i], NULL);
        kz_rext_push(&s_amax, x[i], &stream[6][i]);
        stream[7][i] = kz_rquant_push(&s_quant, x[i]);
        stream[8][i] = kz_rmad_push(&s_mad, x[i]);
        stream[9][i] = kz_ewma_push(&s_ewma, x[i]);
        stream[10][i] = kz_ewmr_push(&s_ewmr, x[i]);
        stream[11][i] = kz_lag_pct_push(&s_pct, x[i]);
        stream[12][i] = kz_lag_diff_push(&s_diff, x[i]);
        stream[13][i] = kz_rext_push(&s_max, y[i], NULL);
        kz_rext_push(&s_amin, x[i], &stream[14][i]);
    }
    for (size_t k = 0; k < NOUT; k++) {
        expect_series("stream", N, k, stream[k], batch[k], -1.0, 0.0);
    }
}

/* No look-ahead: a prefix's outputs equal the full run's first values. */
static void test_prefix_stability(void)
{
    enum { N = 300, P = 173, W = 9 };
    static double x[N], y[N], full[N], pre[P];
    kz_rng r;
    kz_rng_seed(&r, 5);
    gen(&r, x, N, G_NORMAL_NAN);
    gen(&r, y, N, G_NORMAL);
#define PREFIX(call_n, call_p)                                                                     \
    do {                                                                                           \
        CHECK_EQ_INT(call_n, KZ_OK);                                                               \
        CHECK_EQ_INT(call_p, KZ_OK);                                                               \
        expect_series(#call_p, P, W, pre, full, -1.0, 0.0);                                        \
    } while (0)
    PREFIX(kz_roll_var(x, N, W, 1, full), kz_roll_var(x, P, W, 1, pre));
    PREFIX(kz_roll_corr(x, y, N, W, full), kz_roll_corr(x, y, P, W, pre));
    PREFIX(kz_roll_slope(x, N, W, full), kz_roll_slope(x, P, W, pre));
    PREFIX(kz_roll_quantile(x, N, W, 0.8, full), kz_roll_quantile(x, P, W, 0.8, pre));
    PREFIX(kz_roll_argmax(x, N, W, full), kz_roll_argmax(x, P, W, pre));
    PREFIX(kz_ewm_adjusted(x, N, 0.1, full), kz_ewm_adjusted(x, P, 0.1, pre));
    PREFIX(kz_pct_change(x, N, W, 1, full), kz_pct_change(x, P, W, 1, pre));
#undef PREFIX
}

/* ================================================================ errors and OOM */

/* kz_rblk (the feature engine's branch-free extrema) returns the same doubles as kz_rext's deque,
 * bit for bit: ties between +0 and -0 must resolve to the most recent one, as the deque does,
 * and NaN / +-inf must blank exactly the windows that hold them. */
static void test_block_extrema_equal_deque(void)
{
    enum { N = 1500, WMAX = 25 };
    static double x[N];
    kz_rng r;
    kz_rng_seed(&r, 4242);
    for (size_t i = 0; i < N; i++) {
        double u = kz_rng_uniform(&r);
        /* mostly a few small integers and signed zeros (ties), some NaN and infinities */
        x[i] = u < 0.03   ? NAN
               : u < 0.04 ? (u < 0.035 ? INFINITY : -INFINITY)
               : u < 0.30 ? (u < 0.17 ? 0.0 : -0.0)
                          : floor(kz_rng_uniform(&r) * 4.0) - 1.0;
    }
    size_t ws[] = {1, 2, 3, 5, 14, 20, WMAX};
    for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) {
        size_t w = ws[k];
        for (int is_max = 0; is_max <= 1; is_max++) {
            kz_rext_entry qmem[WMAX];
            double bmem[2 * (WMAX + 1)];
            kz_rext_state dq;
            kz_rblk_state bl;
            CHECK(kz_rblk_mem(w) <= sizeof bmem);
            kz_rext_init(&dq, w, is_max, qmem);
            kz_rblk_init(&bl, w, is_max, bmem);
            size_t bad = N;
            for (size_t i = 0; i < N; i++) {
                double want = kz_rext_push(&dq, x[i], NULL), got = kz_rblk_step(&bl, x[i], is_max);
                int same_bits = kz_same_bits(want, got);
                if (!same_bits && bad == N) {
                    bad = i;
                }
            }
            CHECK_MSG(bad == N, "rblk %s w=%zu differs from the deque at %zu",
                      is_max ? "max" : "min", w, bad);
        }
    }
}

static void test_bad_arguments(void)
{
    double x[4] = {1, 2, 3, 4}, out[4];
    CHECK_EQ_INT(kz_roll_sum(x, 4, 0, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_mean(NULL, 4, 2, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_max(x, 4, 2, NULL), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_var(x, 4, 2, 2, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_std(x, 4, 2, -1, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_var(x, 4, 0, 0, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_quantile(x, 4, 2, -0.1, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_quantile(x, 4, 2, 1.5, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_quantile(x, 4, 2, NAN, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_corr(x, NULL, 4, 2, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_slope(x, 4, 1, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_argmin(x, 4, 0, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_roll_mad(x, 4, 0, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_ewm_adjusted(x, 4, 0.0, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_ewm_adjusted(x, 4, NAN, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_ewm_recursive(x, 4, 1.5, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_pct_change(x, 4, 0, 1, out), KZ_ERR_INVALID);
    CHECK_EQ_INT(kz_diff(x, 4, 0, out), KZ_ERR_INVALID);
    /* A window longer than the series is valid: all NaN, no allocation. */
    CHECK_EQ_INT(kz_roll_quantile(x, 4, SIZE_MAX, 0.5, out), KZ_OK);
    CHECK(isnan(out[0]) && isnan(out[3]));
}

typedef struct oom_ctl {
    int fail;         /* 1 = every allocation fails */
    long live, calls; /* outstanding blocks, allocation calls */
} oom_ctl;

static void *oom_malloc(size_t size, void *ud)
{
    oom_ctl *c = ud;
    c->calls++;
    if (c->fail) {
        return NULL;
    }
    c->live++;
    return malloc(size);
}

static void *oom_realloc(void *p, size_t size, void *ud)
{
    oom_ctl *c = ud;
    c->calls++;
    return c->fail ? NULL : realloc(p, size);
}

static void oom_free(void *p, void *ud)
{
    oom_ctl *c = ud;
    if (p) {
        c->live--;
    }
    free(p);
}

/* Every windowed primitive allocates its scratch once: NOMEM when that fails, no leak when not. */
static void test_oom(void)
{
    double x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, out[10];
    oom_ctl c = {0, 0, 0};
    kz_allocator a = {oom_malloc, oom_realloc, oom_free, &c};
    kz_set_allocator(&a);
    for (int fail = 1; fail >= 0; fail--) {
        c.fail = fail;
        c.calls = 0;
        kz_status want = fail ? KZ_ERR_NOMEM : KZ_OK;
        CHECK_EQ_INT(kz_roll_sum(x, 10, 3, out), want);
        CHECK_EQ_INT(kz_roll_mean(x, 10, 3, out), want);
        CHECK_EQ_INT(kz_roll_var(x, 10, 3, 1, out), want);
        CHECK_EQ_INT(kz_roll_std(x, 10, 3, 1, out), want);
        CHECK_EQ_INT(kz_roll_min(x, 10, 3, out), want);
        CHECK_EQ_INT(kz_roll_max(x, 10, 3, out), want);
        CHECK_EQ_INT(kz_roll_argmin(x, 10, 3, out), want);
        CHECK_EQ_INT(kz_roll_argmax(x, 10, 3, out), want);
        CHECK_EQ_INT(kz_roll_quantile(x, 10, 3, 0.5, out), want);
        CHECK_EQ_INT(kz_roll_corr(x, x, 10, 3, out), want);
        CHECK_EQ_INT(kz_roll_slope(x, 10, 3, out), want);
        CHECK_EQ_INT(kz_roll_mad(x, 10, 3, out), want);
        CHECK_EQ_INT(kz_pct_change(x, 10, 3, 1, out), want);
        CHECK_EQ_INT(kz_diff(x, 10, 3, out), want);
        CHECK_EQ_INT(c.calls, 14); /* exactly one allocation per call */
        CHECK_EQ_INT(c.live, 0);
        /* EWMs need no scratch. */
        CHECK_EQ_INT(kz_ewm_adjusted(x, 10, 0.5, out), KZ_OK);
        CHECK_EQ_INT(kz_ewm_recursive(x, 10, 0.5, out), KZ_OK);
        CHECK_EQ_INT(c.calls, 14);
    }
    CHECK(out[9] == 9.001953125); /* y = (x + y) / 2 over 1..10, exact in binary */
    kz_set_allocator(NULL);
}

/* The ring's bookkeeping (empty slots as NaN, n_bad counting them, refresh at wraps): validity is
 * exactly "the last w inputs exist and are finite" (win_ok), including non-finite values entering
 * during the warm-up and leaving at every position, and the moment states refresh exactly at the
 * push that fills the ring and then every `period` wraps (period = ceil(min_refresh / w), 1 for
 * w >= min_refresh). */
static void test_ring_bookkeeping(void)
{
    enum { N = 5000, WMAX = 40 };
    static double x[N];
    kz_rng r;
    kz_rng_seed(&r, 777);
    gen(&r, x, N, G_NORMAL_NAN);
    x[0] = NAN; /* non-finite values among the first pushes, leaving at the fill */
    x[2] = -INFINITY;
    static const size_t ws[] = {1, 2, 3, 7, 24, WMAX};
    static const size_t mins[] = {KZ_REFRESH_EVERY_WRAP, 5, KZ_REFRESH_LONG};
    for (size_t a = 0; a < sizeof ws / sizeof ws[0]; a++) {
        for (size_t b = 0; b < sizeof mins / sizeof mins[0]; b++) {
            size_t w = ws[a], min_refresh = mins[b];
            size_t period = w >= min_refresh ? 1 : (min_refresh + w - 1) / w;
            double buf[WMAX];
            kz_ring ring;
            kz_ring_init(&ring, w, buf, min_refresh);
            size_t bad_valid = N, bad_refresh = N, bad_old = N;
            for (size_t i = 0; i < N; i++) {
                double old;
                int refresh = kz_ring_step(&ring, x[i], &old);
                int want_refresh = i + 1 >= w && (i + 1 - w) % (period * w) == 0;
                double want_old = i >= w ? x[i - w] : NAN;
                if (kz_ring_valid(&ring) != win_ok(x, i, w) && bad_valid == N) {
                    bad_valid = i;
                }
                if (refresh != want_refresh && bad_refresh == N) {
                    bad_refresh = i;
                }
                if (!kz_same_bits(old, want_old) && bad_old == N) {
                    bad_old = i;
                }
            }
            CHECK_MSG(bad_valid == N, "ring w=%zu: validity differs at push %zu", w, bad_valid);
            CHECK_MSG(bad_refresh == N, "ring w=%zu min_refresh=%zu: refresh differs at push %zu",
                      w, min_refresh, bad_refresh);
            CHECK_MSG(bad_old == N, "ring w=%zu: leaving value differs at push %zu", w, bad_old);
        }
    }
}

/* Correlation windows are valid when both sides are (one ring counts the pairs): NaN and +-inf on
 * one side only, also during the warm-up, blank exactly the windows that hold them; and a lag
 * state made with any nonzero pad forward-fills as pad = 1. */
static void test_pair_validity_and_pad(void)
{
    enum { N = 400, W = 6 };
    static double x[N], y[N], got[N], want[N], tmp[N];
    kz_rng r;
    kz_rng_seed(&r, 31337);
    gen(&r, x, N, G_NORMAL);
    gen(&r, y, N, G_NORMAL_NAN);
    x[1] = INFINITY;
    x[100] = NAN;
    CHECK_EQ_INT(kz_roll_corr(x, y, N, W, got), KZ_OK);
    ref_corr(x, y, N, W, want);
    expect_series("corr one-sided NaN", N, W, got, want, 1e-9, 1.0);

    gen(&r, x, N, G_NORMAL_NAN);
    double lmem[3];
    kz_lag_state lag;
    kz_lag_init(&lag, 3, 2, lmem);
    for (size_t i = 0; i < N; i++) {
        got[i] = kz_lag_pct_push(&lag, x[i]);
    }
    ref_lag(x, N, 3, 1, want, tmp);
    expect_series("pct pad=2", N, 3, got, want, 0.0, 1.0);
}

int main(void)
{
    test_fast_vs_ref();
    test_pandas_literals();
    test_stability();
    test_stream_equals_batch();
    test_prefix_stability();
    test_block_extrema_equal_deque();
    test_bad_arguments();
    test_oom();
    test_ring_bookkeeping();
    test_pair_validity_and_pad();
    KZ_TEST_DONE();
}
