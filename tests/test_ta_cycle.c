/* Unit tests of the Hilbert-transform indicators and candlestick patterns (src/ta/cycle.c,
 * src/ta/pattern.c): properties of the HT functions on synthetic cycles, hand-built bars on which
 * each pattern fires (expected signals derived from TA-Lib 0.6.4's rules), stream == batch, and
 * parameter errors. The TA-Lib golden comparison is in test_ta_cycle_real.c. */
#include <math.h>

#include "kizashi/kizashi.h"

#include "kz_test.h"

#define TWO_PI 6.283185307179586

static const kz_ta_info *find(const char *name)
{
    const kz_ta_info *info = kz_ta_find(name);
    CHECK_MSG(info != NULL, "%s not in the registry", name);
    if (!info) {
        exit(1);
    }
    return info;
}

/* Run a one-input indicator with default parameters. */
static void run1(const char *name, const double *x, size_t n, double *o0, double *o1)
{
    const kz_ta_info *info = find(name);
    const double *in[1] = {x};
    double *out[2] = {o0, o1};
    double params[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(info, params);
    kz_error err;
    CHECK_EQ_INT(kz_ta_run(info, n, in, params, out, &err), KZ_OK);
}

/* Smallest angle between two phases in degrees. */
static double phase_diff(double a, double b)
{
    double d = fmod(fabs(a - b), 360.0);
    return d > 180.0 ? 360.0 - d : d;
}

enum { NS = 600 };

static void test_ht_lookback_and_warmup(void)
{
    static const struct {
        const char *name;
        int lookback;
    } want[] = {{"HT_DCPERIOD", 32}, {"HT_DCPHASE", 63},   {"HT_PHASOR", 32},
                {"HT_SINE", 63},     {"HT_TRENDLINE", 63}, {"HT_TRENDMODE", 63}};
    double x[100], o0[100], o1[100];
    for (int i = 0; i < 100; i++) {
        x[i] = 100.0 + 5.0 * sin(TWO_PI * i / 17.0) + 0.1 * i;
    }
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const kz_ta_info *info = find(want[k].name);
        CHECK_EQ_INT(kz_ta_lookback(info, NULL), want[k].lookback);
        CHECK((info->flags & KZ_TA_UNSTABLE) != 0);
        CHECK(info->state_size != NULL);
        run1(want[k].name, x, 100, o0, o1);
        int lb = want[k].lookback;
        CHECK_MSG(isnan(o0[lb - 1]) && isfinite(o0[lb]), "%s warm-up ends at %d", want[k].name, lb);
        for (int j = 0; j < info->n_outputs; j++) {
            const double *o = j == 0 ? o0 : o1;
            int nans = 0;
            for (int i = 0; i < 100; i++) {
                nans += isnan(o[i]);
            }
            CHECK_EQ_INT(nans, lb);
        }
        /* fewer bars than the lookback: all NaN, no error */
        run1(want[k].name, x, (size_t)lb, o0, o1);
        CHECK(isnan(o0[0]) && isnan(o0[lb - 1]));
    }
}

/* Ehlers' homodyne discriminator measures the period of a pure cycle: after the warm-up the
 * dominant cycle period is within 2% of the true period, the phase follows the true phase, the
 * sine output is the sine of that phase, and the trendline (price averaged over one cycle)
 * removes the cycle entirely. */
static void test_ht_pure_cycle(void)
{
    static const int periods[] = {10, 15, 20, 30, 40};
    static double x[NS], o0[NS], o1[NS], tl[NS];
    for (size_t k = 0; k < sizeof periods / sizeof periods[0]; k++) {
        double p = periods[k];
        for (int i = 0; i < NS; i++) {
            x[i] = 100.0 + 10.0 * sin(TWO_PI * i / p);
        }
        run1("HT_DCPERIOD", x, NS, o0, NULL);
        run1("HT_TRENDLINE", x, NS, tl, NULL);
        double worst_period = 0.0, worst_trend = 0.0;
        for (int i = 300; i < NS; i++) {
            worst_period = fmax(worst_period, fabs(o0[i] - p) / p);
            worst_trend = fmax(worst_trend, fabs(tl[i] - 100.0));
        }
        CHECK_MSG(worst_period < 0.02, "period %g: HT_DCPERIOD off by %g", p, worst_period);
        CHECK_MSG(worst_trend < 1e-6, "period %g: HT_TRENDLINE off by %g", p, worst_trend);
    }
    for (int i = 0; i < NS; i++) {
        x[i] = 100.0 + 10.0 * sin(TWO_PI * i / 20.0);
    }
    run1("HT_DCPHASE", x, NS, o0, NULL);
    double worst_phase = 0.0;
    for (int i = 300; i < NS; i++) {
        worst_phase = fmax(worst_phase, phase_diff(o0[i], 360.0 * (i % 20) / 20.0));
    }
    CHECK_MSG(worst_phase < 1.0, "HT_DCPHASE off by %g degrees", worst_phase);
    run1("HT_SINE", x, NS, o0, o1);
    double *phase = tl;
    run1("HT_DCPHASE", x, NS, phase, NULL);
    for (int i = 63; i < NS; i++) {
        double rad = phase[i] * (TWO_PI / 360.0);
        CHECK_NEAR(o0[i], sin(rad), 1e-12);
        CHECK_NEAR(o1[i], sin(rad + TWO_PI / 8.0), 1e-12);
    }
    /* the phasor's quadrature of a pure cycle is a cycle too: it changes sign every half
     * period, so 600 bars of a 20-bar cycle give about 2 * (600 - 100) / 20 sign changes */
    run1("HT_PHASOR", x, NS, o0, o1);
    int flips = 0;
    for (int i = 101; i < NS; i++) {
        flips += (o1[i] > 0) != (o1[i - 1] > 0);
    }
    CHECK_MSG(flips >= 48 && flips <= 52, "quadrature sign changes: %d", flips);
}

/* HT_TRENDMODE: a steady ramp is trend mode on every bar; a small cycle (0.5% of the price,
 * below TA-Lib's 1.5% trendline distance) is mostly cycle mode. A constant price has the
 * constant as its trendline. */
static void test_ht_trend_mode_and_constant(void)
{
    static double x[NS], o[NS];
    for (int i = 0; i < NS; i++) {
        x[i] = 100.0 + 0.5 * i;
    }
    run1("HT_TRENDMODE", x, NS, o, NULL);
    int trend = 0;
    for (int i = 100; i < NS; i++) {
        trend += o[i] == 1.0;
    }
    CHECK_EQ_INT(trend, NS - 100);
    for (int i = 0; i < NS; i++) {
        x[i] = 100.0 + 0.5 * sin(TWO_PI * i / 20.0);
    }
    run1("HT_TRENDMODE", x, NS, o, NULL);
    int cycle = 0;
    for (int i = 300; i < NS; i++) {
        CHECK(o[i] == 0.0 || o[i] == 1.0);
        cycle += o[i] == 0.0;
    }
    CHECK_MSG(cycle > 250, "cycle mode on %d of 300 bars", cycle);
    for (int i = 0; i < NS; i++) {
        x[i] = 250.0;
    }
    run1("HT_TRENDLINE", x, NS, o, NULL);
    for (int i = 63; i < NS; i++) {
        CHECK(o[i] == 250.0);
    }
}

/* ---------------------------------------------------------------- patterns */

typedef struct bar {
    double o, h, l, c;
} bar;

enum { MAXB = 32 };

/* Background: identical white bars, body 1, high-low 2, shadows 0.5 each; so before any pattern
 * bar the candle averages are BodyLong = BodyShort = 1, BodyDoji = ShadowVeryShort = 0.2,
 * Near = 0.4, Far = 1.2. */
static const bar BG = {100.0, 101.5, 99.5, 101.0};

/* Run pattern `name` (penetration `pen` if it has one) on bars[0..n) into out; returns the
 * lookback and checks that the warm-up is NaN. */
static int pattern_run(const char *name, const bar *bars, int n, double pen, double *out)
{
    const kz_ta_info *info = find(name);
    double o[MAXB], h[MAXB], l[MAXB], c[MAXB];
    for (int i = 0; i < n; i++) {
        o[i] = bars[i].o;
        h[i] = bars[i].h;
        l[i] = bars[i].l;
        c[i] = bars[i].c;
    }
    const double *in[4] = {o, h, l, c};
    double *outs[1] = {out};
    double params[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(info, params);
    if (info->n_params == 1) {
        params[0] = pen;
    }
    kz_error err;
    CHECK_EQ_INT(kz_ta_run(info, (size_t)n, in, params, outs, &err), KZ_OK);
    int lb = kz_ta_lookback(info, params);
    CHECK(lb < n && isnan(out[lb - 1]) && !isnan(out[lb]));
    return lb;
}

/* Run pattern `name` on `n_bg` background bars followed by `pat`; returns the signal of the last
 * bar and checks that no earlier bar fired. */
static double pattern_last(const char *name, int n_bg, const bar *pat, int n_pat, double pen)
{
    bar bars[MAXB];
    double out[MAXB];
    int n = n_bg + n_pat;
    for (int i = 0; i < n; i++) {
        bars[i] = i < n_bg ? BG : pat[i - n_bg];
    }
    int lb = pattern_run(name, bars, n, pen, out);
    for (int i = lb; i < n - 1; i++) {
        CHECK_MSG(out[i] == 0.0, "%s fired %g at bar %d", name, out[i], i);
    }
    return out[n - 1];
}

/* TA-Lib averages a candle range over the `period` bars BEFORE the bar judged: a wide bar 11
 * bars back or the judged bar's own range do not count, a wide bar 10 bars back does. */
static void test_average_window(void)
{
    bar bars[MAXB];
    double out[MAXB];
    bar wide = {100.0, 150.0, 50.0, 101.0};       /* high-low 100 */
    bar small_body = {100.0, 101.0, 99.0, 100.5}; /* body 0.5: > 0.1 * 2, < 0.1 * 11.8 */
    for (int i = 0; i < 14; i++) {
        bars[i] = BG;
    }
    bars[12] = small_body;
    bars[1] = wide; /* 11 bars before bar 12: outside its window */
    pattern_run("CDLDOJI", bars, 14, 0, out);
    /* windows 0..9 and 1..10 hold the wide bar: background body 1 <= 0.1 * 11.8 */
    CHECK(out[10] == 100.0 && out[11] == 100.0);
    CHECK(out[12] == 0.0 && out[13] == 0.0);
    bars[1] = BG;
    bars[2] = wide; /* 10 bars before bar 12: inside */
    pattern_run("CDLDOJI", bars, 14, 0, out);
    CHECK(out[10] == 100.0 && out[11] == 100.0 && out[12] == 100.0);
    CHECK(out[13] == 0.0); /* the wide bar has left the window */
    bars[2] = BG;
    bars[12] = (bar){100.0, 200.0, 0.0, 100.5}; /* its own range 200 is not averaged */
    pattern_run("CDLDOJI", bars, 14, 0, out);
    CHECK(out[12] == 0.0);
}

static void test_single_bar_patterns(void)
{
    /* doji: body 0.05 <= 0.1 * average high-low 2 */
    bar doji = {100.0, 101.0, 99.0, 100.05};
    CHECK(pattern_last("CDLDOJI", 12, &doji, 1, 0) == 100.0);
    bar not_doji = {100.0, 101.0, 99.0, 100.25};
    CHECK(pattern_last("CDLDOJI", 12, &not_doji, 1, 0) == 0.0);

    /* hammer: body 0.3 < 1, lower shadow 1.5 > its own body, upper 0.05 < 0.2, body bottom 99.5
     * <= prior low 99.5 + Near 0.4; as a hanging man its body is not near the prior high */
    bar hammer = {99.5, 99.85, 98.0, 99.8};
    CHECK(pattern_last("CDLHAMMER", 12, &hammer, 1, 0) == 100.0);
    CHECK(pattern_last("CDLHANGINGMAN", 12, &hammer, 1, 0) == 0.0);
    bar hammer_high_shadow = {99.5, 100.0, 98.0, 99.8}; /* upper shadow 0.2 is not < 0.2 */
    CHECK(pattern_last("CDLHAMMER", 12, &hammer_high_shadow, 1, 0) == 0.0);

    /* hanging man: same shape with the body bottom 101.3 >= prior high 101.5 - 0.4 */
    bar hanging = {101.3, 101.65, 100.0, 101.6};
    CHECK(pattern_last("CDLHANGINGMAN", 12, &hanging, 1, 0) == -100.0);
    CHECK(pattern_last("CDLHAMMER", 12, &hanging, 1, 0) == 0.0);

    /* shooting star: body 0.1, upper shadow 1.3 > 0.1, lower 0.02 < 0.2, body above the prior
     * body top 101 */
    bar star = {101.2, 102.5, 101.08, 101.1};
    CHECK(pattern_last("CDLSHOOTINGSTAR", 12, &star, 1, 0) == -100.0);
    bar star_no_gap = {101.0, 102.5, 100.88, 100.9}; /* body bottom 100.9 is inside 100..101 */
    CHECK(pattern_last("CDLSHOOTINGSTAR", 12, &star_no_gap, 1, 0) == 0.0);
}

static void test_two_bar_patterns(void)
{
    /* engulfing: black 101 -> 100, then white 99.8 -> 101.2 engulfs it (+100); opening exactly
     * at the prior close is the one-end match (+80); a black bar engulfing a white one: -100 */
    bar bull[2] = {{101.0, 101.5, 99.5, 100.0}, {99.8, 101.3, 99.7, 101.2}};
    CHECK(pattern_last("CDLENGULFING", 12, bull, 2, 0) == 100.0);
    bar bull80[2] = {{101.0, 101.5, 99.5, 100.0}, {100.0, 101.3, 99.9, 101.2}};
    CHECK(pattern_last("CDLENGULFING", 12, bull80, 2, 0) == 80.0);
    bar bear = {101.2, 101.3, 99.7, 99.8};
    CHECK(pattern_last("CDLENGULFING", 12, &bear, 1, 0) == -100.0);
    bar bear80 = {101.2, 101.3, 99.9, 100.0}; /* closes exactly at the prior open */
    CHECK(pattern_last("CDLENGULFING", 12, &bear80, 1, 0) == -80.0);

    /* harami: long white 100 -> 103 (body 3 > 1), then black 102 -> 101.5 (body 0.5 <= average
     * (9 + 3) / 10 = 1.2) strictly inside: -100; touching the top of the first body: -80 */
    bar harami[2] = {{100.0, 103.2, 99.8, 103.0}, {102.0, 102.1, 101.4, 101.5}};
    CHECK(pattern_last("CDLHARAMI", 12, harami, 2, 0) == -100.0);
    bar harami80[2] = {{100.0, 103.2, 99.8, 103.0}, {103.0, 103.1, 102.2, 102.3}};
    CHECK(pattern_last("CDLHARAMI", 12, harami80, 2, 0) == -80.0);

    /* piercing: long black 103 -> 100, then a long white opening 99.5 below the low 99.8 and
     * closing at 102, inside the body and above its midpoint 101.5 */
    bar pierce[2] = {{103.0, 103.2, 99.8, 100.0}, {99.5, 102.1, 99.4, 102.0}};
    CHECK(pattern_last("CDLPIERCING", 12, pierce, 2, 0) == 100.0);
    bar pierce_low[2] = {{103.0, 103.2, 99.8, 100.0}, {99.5, 101.5, 99.4, 101.4}};
    CHECK(pattern_last("CDLPIERCING", 12, pierce_low, 2, 0) == 0.0);

    /* dark cloud cover: long white 100 -> 103, then black opening 103.5 above the high 103.2 and
     * closing 101.2 < 103 - 3 * pen for pen 0.5 (101.5) but not for pen 0.7 (100.9) */
    bar cloud[2] = {{100.0, 103.2, 99.8, 103.0}, {103.5, 103.6, 101.1, 101.2}};
    CHECK(pattern_last("CDLDARKCLOUDCOVER", 12, cloud, 2, 0.5) == -100.0);
    CHECK(pattern_last("CDLDARKCLOUDCOVER", 12, cloud, 2, 0.7) == 0.0);
}

static void test_three_bar_patterns(void)
{
    /* three black crows: a white bar, then three black bars each opening inside the prior body,
     * closing lower, lower shadows 0.05 (< 0.1 * average high-low ~ 0.2) */
    bar crows[3] = {
        {101.2, 101.3, 100.15, 100.2}, {100.8, 100.9, 99.55, 99.6}, {100.2, 100.3, 98.95, 99.0}};
    CHECK(pattern_last("CDL3BLACKCROWS", 14, crows, 3, 0) == -100.0);
    bar crows_long_shadow[3] = {
        {101.2, 101.3, 100.15, 100.2}, {100.8, 100.9, 99.55, 99.6}, {100.2, 100.3, 98.5, 99.0}};
    CHECK(pattern_last("CDL3BLACKCROWS", 14, crows_long_shadow, 3, 0) == 0.0);

    /* three white soldiers: higher closes, upper shadows 0.05, each opening inside the prior
     * body (101.8 <= 102 + Near 0.4, 102.8 <= 103 + 0.366), bodies 1, 1.2, 1.2, the last above
     * the average body 1.02 */
    bar soldiers[3] = {{101.0, 102.05, 100.9, 102.0},
                       {101.8, 103.05, 101.7, 103.0},
                       {102.8, 104.05, 102.7, 104.0}};
    CHECK(pattern_last("CDL3WHITESOLDIERS", 12, soldiers, 3, 0) == 100.0);
    bar soldiers_far_open[3] = {{101.0, 102.05, 100.9, 102.0},
                                {101.8, 103.05, 101.7, 103.0},
                                {103.5, 104.75, 103.4, 104.7}};
    CHECK(pattern_last("CDL3WHITESOLDIERS", 12, soldiers_far_open, 3, 0) == 0.0);

    /* morning star: long black 103 -> 100, a short body 99.5..99.7 gapping below it, then a
     * white body 1.7 (> average 1.12) closing 101.5 > 100 + 3 * pen for pen 0.3 (100.9), not
     * for pen 0.6 (101.8) */
    bar morning[3] = {
        {103.0, 103.1, 99.9, 100.0}, {99.5, 99.8, 99.4, 99.7}, {99.8, 101.6, 99.7, 101.5}};
    CHECK(pattern_last("CDLMORNINGSTAR", 12, morning, 3, 0.3) == 100.0);
    CHECK(pattern_last("CDLMORNINGSTAR", 12, morning, 3, 0.6) == 0.0);

    /* evening star: the mirror image */
    bar evening[3] = {
        {100.0, 103.1, 99.9, 103.0}, {103.3, 103.6, 103.2, 103.5}, {103.2, 103.3, 101.4, 101.5}};
    CHECK(pattern_last("CDLEVENINGSTAR", 12, evening, 3, 0.3) == -100.0);
    CHECK(pattern_last("CDLEVENINGSTAR", 12, evening, 3, 0.6) == 0.0);
}

/* Every entry of the cycle and pattern groups: pushing bars one at a time through a stream
 * gives exactly the batch values (the batch kernels are loops over the same O(1) step). */
static void test_stream_equals_batch(void)
{
    enum { N = 400 };
    static double col[5][N], out[3][N];
    kz_rng rng;
    kz_rng_seed(&rng, 42);
    double price = 100.0;
    for (int i = 0; i < N; i++) {
        /* gaps and varied bodies so that most patterns fire somewhere */
        double open = price + 0.8 * kz_rng_normal(&rng);
        double close = open + 1.5 * kz_rng_normal(&rng);
        double top = fmax(open, close), bot = fmin(open, close);
        col[0][i] = open;
        col[1][i] = top + fabs(0.7 * kz_rng_normal(&rng));
        col[2][i] = bot - fabs(0.7 * kz_rng_normal(&rng));
        col[3][i] = close;
        col[4][i] = 1000.0;
        price = close;
    }
    int groups = 0, fired = 0;
    for (size_t k = 0; k < kz_ta_count(); k++) {
        const kz_ta_info *info = kz_ta_at(k);
        int is_pattern = strcmp(info->group, "pattern") == 0;
        if (!is_pattern && strncmp(info->name, "HT_", 3) != 0) {
            continue;
        }
        groups++;
        const double *in[KZ_TA_MAX_INPUTS];
        for (int j = 0; j < info->n_inputs; j++) {
            in[j] = col[info->inputs[j]];
        }
        double *outs[3] = {out[0], out[1], out[2]};
        double params[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, params);
        kz_error err;
        CHECK_EQ_INT(kz_ta_run(info, N, in, params, outs, &err), KZ_OK);
        kz_ta_stream *s = NULL;
        CHECK_EQ_INT(kz_ta_stream_new(info, params, &s, &err), KZ_OK);
        CHECK(kz_ta_stream_is_o1(s));
        int mismatch = 0;
        for (int i = 0; i < N; i++) {
            double bar_in[KZ_TA_MAX_INPUTS], got[3];
            for (int j = 0; j < info->n_inputs; j++) {
                bar_in[j] = in[j][i];
            }
            CHECK_EQ_INT(kz_ta_stream_push(s, bar_in, got), KZ_OK);
            for (int j = 0; j < info->n_outputs; j++) {
                int same = (isnan(got[j]) && isnan(out[j][i])) || got[j] == out[j][i];
                mismatch += !same;
            }
            if (is_pattern && out[0][i] != 0.0 && !isnan(out[0][i])) {
                fired++;
            }
        }
        CHECK_MSG(mismatch == 0, "%s: %d stream values differ from batch", info->name, mismatch);
        kz_ta_stream_free(s);
    }
    CHECK_EQ_INT(groups, 18);
    CHECK(fired > 0);
}

/* The pattern batch kernels run in chunks of 256 bars (CHUNK in pattern.c), the first starting at
 * the lookback, and carry the period totals across chunks. At lengths up to, at and across the
 * chunk boundaries, every batch output equals the streaming output bit for bit (so the batch
 * values do not depend on the length either). Prices on a coarse grid make ties (dojis, equal
 * opens and closes) common, where the rules' strict and non-strict comparisons differ. */
static void test_pattern_chunk_boundaries(void)
{
    enum { N = 1100 };
    static double col[4][N], streamed[N], out[N];
    kz_rng rng;
    kz_rng_seed(&rng, 7);
    double price = 100.0;
    for (int i = 0; i < N; i++) {
        double open = price + floor(3.0 * kz_rng_normal(&rng)) * 0.25;
        double close = open + floor(2.0 * kz_rng_normal(&rng)) * 0.25;
        col[0][i] = open;
        col[1][i] = fmax(open, close) + floor(fabs(2.0 * kz_rng_normal(&rng))) * 0.25;
        col[2][i] = fmin(open, close) - floor(fabs(2.0 * kz_rng_normal(&rng))) * 0.25;
        col[3][i] = close;
        price = close;
    }
    const double *in[4] = {col[0], col[1], col[2], col[3]};
    double *outs[1] = {out};
    static const double pens[] = {0.0, 0.3, 1.0};
    int runs = 0, fired = 0;
    for (size_t k = 0; k < kz_ta_count(); k++) {
        const kz_ta_info *info = kz_ta_at(k);
        if (strcmp(info->group, "pattern") != 0) {
            continue;
        }
        for (int p = 0; p < (info->n_params == 1 ? 3 : 1); p++) {
            double params[KZ_TA_MAX_PARAMS];
            kz_ta_defaults(info, params);
            double pen = info->n_params == 1 ? (params[0] = pens[p]) : 0.0;
            kz_error err;
            kz_ta_stream *s = NULL;
            CHECK_EQ_INT(kz_ta_stream_new(info, params, &s, &err), KZ_OK);
            for (int i = 0; i < N; i++) {
                double bar_in[4] = {col[0][i], col[1][i], col[2][i], col[3][i]};
                CHECK_EQ_INT(kz_ta_stream_push(s, bar_in, &streamed[i]), KZ_OK);
                fired += streamed[i] != 0.0 && !isnan(streamed[i]);
            }
            kz_ta_stream_free(s);
            size_t lb = (size_t)kz_ta_lookback(info, params);
            const size_t lens[] = {lb + 1, 255, 256, 257,      lb + 255, lb + 256, lb + 257,
                                   511,    512, 513, lb + 511, lb + 512, lb + 513, N};
            for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
                size_t n = lens[j];
                CHECK_EQ_INT(kz_ta_run(info, n, in, params, outs, &err), KZ_OK);
                CHECK_MSG(memcmp(out, streamed, n * sizeof(double)) == 0,
                          "%s (penetration %g): batch of %zu bars differs from the stream",
                          info->name, pen, n);
                runs++;
            }
        }
    }
    CHECK_EQ_INT(runs, (12 + 3 * 2) * 14); /* 12 patterns, 3 of them at 3 penetrations */
    CHECK(fired > 100);
}

static void test_bad_params(void)
{
    const char *pen_patterns[] = {"CDLDARKCLOUDCOVER", "CDLMORNINGSTAR", "CDLEVENINGSTAR"};
    const double defaults[] = {0.5, 0.3, 0.3};
    for (int k = 0; k < 3; k++) {
        const kz_ta_info *info = find(pen_patterns[k]);
        CHECK_EQ_INT(info->n_params, 1);
        CHECK(strcmp(info->params[0].name, "penetration") == 0);
        CHECK(info->params[0].def == defaults[k]);
        double bad[2] = {-0.1, NAN};
        for (int j = 0; j < 2; j++) {
            kz_error err;
            kz_error_clear(&err);
            CHECK_EQ_INT(kz_ta_params_check(info, &bad[j], &err), KZ_ERR_INVALID);
            CHECK(strcmp(err.field, "penetration") == 0);
        }
        double zero = 0.0;
        CHECK_EQ_INT(kz_ta_params_check(info, &zero, NULL), KZ_OK);
    }
    /* NaN input is rejected naming the column and bar */
    const kz_ta_info *doji = find("CDLDOJI");
    double o[3] = {1, 1, 1}, h[3] = {2, 2, 2}, l[3] = {0, NAN, 0}, c[3] = {1, 1, 1}, out[3];
    const double *in[4] = {o, h, l, c};
    double *outs[1] = {out};
    kz_error err;
    CHECK_EQ_INT(kz_ta_run(doji, 3, in, NULL, outs, &err), KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "low") == 0);
}

static void test_registry_rows(void)
{
    static const char *order[] = {"HT_DCPERIOD",    "HT_DCPHASE",        "HT_PHASOR",
                                  "HT_SINE",        "HT_TRENDLINE",      "HT_TRENDMODE",
                                  "CDL3BLACKCROWS", "CDL3WHITESOLDIERS", "CDLDARKCLOUDCOVER",
                                  "CDLDOJI",        "CDLENGULFING",      "CDLEVENINGSTAR",
                                  "CDLHAMMER",      "CDLHANGINGMAN",     "CDLHARAMI",
                                  "CDLMORNINGSTAR", "CDLPIERCING",       "CDLSHOOTINGSTAR"};
    static const int lookback[] = {32, 63, 32, 63, 63, 63, 13, 12, 11,
                                   10, 2,  12, 11, 11, 11, 12, 11, 11};
    for (int k = 0; k < 18; k++) {
        const kz_ta_info *info = find(order[k]);
        double params[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, params);
        CHECK_MSG(kz_ta_lookback(info, params) == lookback[k], "%s lookback %d", order[k],
                  kz_ta_lookback(info, params));
        if (k > 0) {
            const kz_ta_info *prev = find(order[k - 1]);
            CHECK_MSG(info == prev + 1, "%s does not follow %s", order[k], order[k - 1]);
        }
        if (k >= 6) {
            CHECK(strcmp(info->group, "pattern") == 0 && info->n_inputs == 4);
            CHECK(info->scales[0] == KZ_SCALE_PATTERN);
            CHECK(strcmp(info->outputs[0], "integer") == 0);
        } else {
            CHECK(strcmp(info->group, "cycle") == 0 && info->n_inputs == 1);
        }
    }
    CHECK(strcmp(find("HT_PHASOR")->outputs[0], "inphase") == 0);
    CHECK(strcmp(find("HT_PHASOR")->outputs[1], "quadrature") == 0);
    CHECK(strcmp(find("HT_SINE")->outputs[0], "sine") == 0);
    CHECK(strcmp(find("HT_SINE")->outputs[1], "leadsine") == 0);
}

int main(void)
{
    test_ht_lookback_and_warmup();
    test_ht_pure_cycle();
    test_ht_trend_mode_and_constant();
    test_average_window();
    test_single_bar_patterns();
    test_two_bar_patterns();
    test_three_bar_patterns();
    test_stream_equals_batch();
    test_pattern_chunk_boundaries();
    test_bad_params();
    test_registry_rows();
    KZ_TEST_DONE();
}
