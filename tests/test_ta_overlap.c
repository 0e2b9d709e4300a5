/* Overlap studies on hand-computed cases: MA types, the kz_ta_ma composition rule, BBANDS,
 * MIDPOINT/MIDPRICE, SAR, lookbacks and parameter validation (no shared data needed). */
#include "kizashi/kizashi.h"

#include "kz_test.h"
#include "ta/ta_int.h"

static double lin[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

/* Run a one-output close-only indicator with "k=v" overrides on x[0..n). */
static kz_status run1(const char *name,
                      const double *params_override,
                      int n_override,
                      const double *x,
                      size_t n,
                      double *out,
                      kz_error *err)
{
    const kz_ta_info *info = kz_ta_find(name);
    double params[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(info, params);
    for (int k = 0; k < n_override; k++) {
        params[k] = params_override[k];
    }
    const double *in[1] = {x};
    double *outs[1] = {out};
    return kz_ta_run(info, n, in, params, outs, err);
}

static void test_simple_averages(void)
{
    double out[10];
    kz_error err;
    double p3[] = {3};
    CHECK(run1("SMA", p3, 1, lin, 10, out, &err) == KZ_OK);
    CHECK(isnan(out[0]) && isnan(out[1]));
    CHECK_NEAR(out[2], 2.0, 0);
    CHECK_NEAR(out[9], 9.0, 0);

    /* EMA(3): seed = mean(1,2,3) = 2, k = 0.5; on a line the EMA lags by exactly 1. */
    CHECK(run1("EMA", p3, 1, lin, 10, out, &err) == KZ_OK);
    CHECK(isnan(out[1]));
    for (int i = 2; i < 10; i++) {
        CHECK_NEAR(out[i], lin[i] - 1.0, 0);
    }

    /* WMA(3) weights 1,2,3 / 6. */
    CHECK(run1("WMA", p3, 1, lin, 10, out, &err) == KZ_OK);
    CHECK_NEAR(out[2], 14.0 / 6.0, 1e-15);
    CHECK_NEAR(out[9], 56.0 / 6.0, 1e-15);

    /* TRIMA(4) weights 1,2,2,1 / 6; TRIMA(5) weights 1,2,3,2,1 / 9. */
    double p4[] = {4}, p5[] = {5};
    CHECK(run1("TRIMA", p4, 1, lin, 10, out, &err) == KZ_OK);
    CHECK(isnan(out[2]));
    CHECK_NEAR(out[3], 15.0 / 6.0, 1e-15);
    CHECK_NEAR(out[9], (7 + 16 + 18 + 10) / 6.0, 1e-15);
    CHECK(run1("TRIMA", p5, 1, lin, 10, out, &err) == KZ_OK);
    CHECK_NEAR(out[4], 3.0, 1e-15);
    CHECK_NEAR(out[9], 8.0, 1e-15);

    /* DEMA and TEMA reproduce a straight line exactly once warmed up (zero lag on trends). */
    CHECK(run1("DEMA", p3, 1, lin, 10, out, &err) == KZ_OK);
    CHECK(isnan(out[3]));
    for (int i = 4; i < 10; i++) {
        CHECK_NEAR(out[i], lin[i], 1e-12);
    }
    CHECK(run1("TEMA", p3, 1, lin, 10, out, &err) == KZ_OK);
    CHECK(isnan(out[5]));
    for (int i = 6; i < 10; i++) {
        CHECK_NEAR(out[i], lin[i], 1e-12);
    }

    /* KAMA(3) on a line: ER = 1, sc = (2/3)^2; first value at bar 3 from prev = x[2]. */
    CHECK(run1("KAMA", p3, 1, lin, 10, out, &err) == KZ_OK);
    CHECK(isnan(out[2]));
    double sc = (2.0 / 3.0) * (2.0 / 3.0), k = 3.0;
    k = (4.0 - k) * sc + k;
    CHECK_NEAR(out[3], k, 1e-15);
    k = (5.0 - k) * sc + k;
    CHECK_NEAR(out[4], k, 1e-15);

    /* T3 of a constant is the constant. */
    double flat[40];
    for (int i = 0; i < 40; i++) {
        flat[i] = 42.5;
    }
    double out40[40];
    CHECK(run1("T3", p3, 1, flat, 40, out40, &err) == KZ_OK);
    CHECK(isnan(out40[11]));
    CHECK_NEAR(out40[12], 42.5, 1e-12);
    CHECK_NEAR(out40[39], 42.5, 1e-12);
}

static void test_ma_engine(void)
{
    /* Lookbacks at period 30 = the golden files' first valid rows (TA_MA_Lookback). */
    static const int want[9] = {29, 29, 29, 58, 87, 29, 30, 32, 174};
    for (int t = 0; t < 9; t++) {
        CHECK_EQ_INT(kz_ta_ma_lookback(30, (kz_matype)t), want[t]);
        CHECK_EQ_INT(kz_ta_ma_lookback(1, (kz_matype)t), 0);
    }

    /* Leading NaNs shift the MA: SMA(3) of [NaN, NaN, 1..10] starts at bar 4. */
    double in[12], out[12];
    in[0] = in[1] = NAN;
    for (int i = 0; i < 10; i++) {
        in[i + 2] = lin[i];
    }
    double *work = malloc(kz_ta_ma_work(12, 3, KZ_MA_SMA) * sizeof(double));
    kz_ta_ma(12, in, 3, KZ_MA_SMA, out, work);
    CHECK(isnan(out[3]));
    CHECK_NEAR(out[4], 2.0, 0);
    CHECK_NEAR(out[11], 9.0, 0);
    free(work);

    /* Period 1 copies (TA_MA); every type streams like its batch, also in place. */
    kz_rng r;
    kz_rng_seed(&r, 3);
    double x[200], a[200], b[200];
    x[0] = x[1] = x[2] = NAN;
    for (int i = 3; i < 200; i++) {
        x[i] = 100.0 + 10.0 * kz_rng_normal(&r);
    }
    for (int t = 0; t < 9; t++) {
        for (int period = 1; period <= 9; period += 4) {
            size_t nw = kz_ta_ma_work(200, period, (kz_matype)t);
            work = malloc(nw * sizeof(double));
            kz_ta_ma(200, x, period, (kz_matype)t, a, work);
            void *st = malloc(kz_ta_ma_state_size(period, (kz_matype)t));
            kz_ta_ma_state_init(st, period, (kz_matype)t);
            int bad = 0, early = 0;
            int lb = kz_ta_ma_lookback(period, (kz_matype)t);
            for (int i = 0; i < 200; i++) {
                double v = kz_ta_ma_state_step(st, x[i]);
                bad += !(v == a[i] || (isnan(v) && isnan(a[i])));
                early += (i < lb + 3) != isnan(a[i]);
            }
            CHECK_MSG(bad == 0, "MA type %d period %d: stream != batch (%d)", t, period, bad);
            CHECK_MSG(early == 0, "MA type %d period %d: first valid row != 3 + lookback", t,
                      period);
            if (period == 1) {
                CHECK(a[50] == x[50]);
            }
            memcpy(b, x, sizeof x);
            kz_ta_ma(200, b, period, (kz_matype)t, b, work);
            CHECK_MSG(memcmp(a, b, sizeof a) == 0, "MA type %d: in-place run differs", t);
            free(st);
            free(work);
        }
    }
}

static void test_bands_and_ranges(void)
{
    const kz_ta_info *bb = kz_ta_find("bbands");
    CHECK(bb != NULL && bb->n_outputs == 3);
    double params[4] = {3, 2, 1, 0};
    double up[10], mid[10], lo[10];
    const double *in[1] = {lin};
    double *out[3] = {up, mid, lo};
    kz_error err;
    CHECK(kz_ta_run(bb, 10, in, params, out, &err) == KZ_OK);
    /* window {1,2,3}: mean 2, population sd sqrt(2/3). */
    double sd = sqrt(2.0 / 3.0);
    CHECK(isnan(up[1]) && isnan(mid[1]) && isnan(lo[1]));
    CHECK_NEAR(mid[2], 2.0, 1e-12);
    CHECK_NEAR(up[2], 2.0 + 2.0 * sd, 1e-12);
    CHECK_NEAR(lo[2], 2.0 - sd, 1e-12);
    CHECK_NEAR(up[9] - mid[9], 2.0 * sd, 1e-9);

    double zig[5] = {5, 1, 4, 2, 8};
    double m[5];
    double p3[] = {3};
    CHECK(run1("MIDPOINT", p3, 1, zig, 5, m, &err) == KZ_OK);
    CHECK(isnan(m[1]));
    CHECK_NEAR(m[2], 3.0, 0);
    CHECK_NEAR(m[3], 2.5, 0);
    CHECK_NEAR(m[4], 5.0, 0);

    const kz_ta_info *mp = kz_ta_find("MIDPRICE");
    double hi[4] = {10, 12, 11, 9}, low[4] = {8, 9, 7, 8};
    const double *hl[2] = {hi, low};
    double *o1[1] = {m};
    double p2[1] = {2};
    CHECK(kz_ta_run(mp, 4, hl, p2, o1, &err) == KZ_OK);
    CHECK_NEAR(m[1], (12 + 8) / 2.0, 0);
    CHECK_NEAR(m[2], (12 + 7) / 2.0, 0);
    CHECK_NEAR(m[3], (11 + 7) / 2.0, 0);

    /* SAR on a steady uptrend: long from bar 1 at bar 0's low, then AF 0.02 steps. */
    const kz_ta_info *sar = kz_ta_find("SAR");
    double sh[4] = {10, 11, 12, 13}, sl[4] = {9, 10, 11, 12};
    const double *shl[2] = {sh, sl};
    double sp[2] = {0.02, 0.2};
    CHECK(kz_ta_run(sar, 4, shl, sp, o1, &err) == KZ_OK);
    CHECK(isnan(m[0]));
    CHECK_NEAR(m[1], 9.0, 0);
    double s2 = 9.0 + 0.02 * (11.0 - 9.0); /* ep = high[1] = 11 */
    CHECK_NEAR(m[2], s2, 1e-15);
    CHECK_NEAR(m[3], s2 + 0.04 * (12.0 - s2), 1e-15); /* new high 12: af 0.04 */
}

static void expect_invalid(const char *name, const double *params, const char *field)
{
    const kz_ta_info *info = kz_ta_find(name);
    kz_error err;
    CHECK_MSG(kz_ta_params_check(info, params, &err) == KZ_ERR_INVALID, "%s accepted", name);
    CHECK_MSG(strcmp(err.field, field) == 0, "%s: field '%s', want '%s'", name, err.field, field);
    CHECK(err.msg[0] != '\0');
}

static void test_bad_params(void)
{
    double p0[] = {0}, p1[] = {1}, pf[] = {2.5}, pbig[] = {100001};
    expect_invalid("SMA", p0, "timeperiod");
    expect_invalid("SMA", p1, "timeperiod");
    expect_invalid("EMA", pf, "timeperiod");
    expect_invalid("WMA", pbig, "timeperiod");
    double ma_bad[] = {30, 9}, ma_frac[] = {30, 1.5};
    expect_invalid("MA", ma_bad, "matype");
    expect_invalid("MA", ma_frac, "matype");
    double t3_bad[] = {5, 1.5};
    expect_invalid("T3", t3_bad, "vfactor");
    double bb_nan[] = {5, NAN, 2, 0};
    expect_invalid("BBANDS", bb_nan, "nbdevup");
    double sar_neg[] = {-0.1, 0.2};
    expect_invalid("SAR", sar_neg, "acceleration");
    double mama_bad[] = {0.5, 1.0};
    expect_invalid("MAMA", mama_bad, "slowlimit");
    /* MA allows period 1 (a copy), as TA_MA does. */
    double ma_one[] = {1, 0};
    kz_error err;
    CHECK(kz_ta_params_check(kz_ta_find("MA"), ma_one, &err) == KZ_OK);
}

int main(void)
{
    test_simple_averages();
    test_ma_engine();
    test_bands_and_ranges();
    test_bad_params();
    KZ_TEST_DONE();
}
