/* Candlestick patterns (TA-Lib 0.6.4 CDL* rules with its default candle settings) and the
 * registry table of the "cycle" (HT_*, cycle.c) and "pattern" (CDL*) groups.
 *
 * DESIGN: TA-Lib judges a candle against "period totals": rolling sums of a candle range (real
 * body, high-low, or both shadows) over the avgPeriod bars before the bar concerned, one total
 * per (setting, bars-ago) pair a pattern uses. Each pattern here is a table row listing those
 * slots plus a rule over the last four bars; one shared engine keeps the totals (the same
 * additions in the same order as TA-Lib: seed by ascending bar, then `total += new - old` after
 * each decision) and a 16-bar ring, so a pattern is an O(1) streaming state and its batch kernel
 * is a loop over the same step. Outputs are -100/-80/0/80/100 as doubles, NaN before the
 * lookback. */
#include <stdint.h>
#include <string.h>

#include "cycle_int.h"

/* Forces inlining where the specialisation matters (GCC/Clang; a plain inline elsewhere). */
#if defined(__GNUC__)
#    define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#    define ALWAYS_INLINE inline
#endif

/* ---------------------------------------------------------------- candle settings */

typedef enum candle_range { RANGE_REALBODY, RANGE_HIGHLOW, RANGE_SHADOWS } candle_range;

typedef enum candle_setting {
    BODY_LONG,
    BODY_VERY_LONG,
    BODY_SHORT,
    BODY_DOJI,
    SHADOW_LONG,
    SHADOW_VERY_LONG,
    SHADOW_SHORT,
    SHADOW_VERY_SHORT,
    NEAR,
    FAR,
    EQUAL,
    N_SETTINGS
} candle_setting;

/* TA_RestoreCandleDefaultSettings (ta_global.c): range type, averaging period, factor. */
static const struct {
    candle_range range;
    int period;
    double factor;
} candle_defaults[N_SETTINGS] = {
    [BODY_LONG] = {RANGE_REALBODY, 10, 1.0},   [BODY_VERY_LONG] = {RANGE_REALBODY, 10, 3.0},
    [BODY_SHORT] = {RANGE_REALBODY, 10, 1.0},  [BODY_DOJI] = {RANGE_HIGHLOW, 10, 0.1},
    [SHADOW_LONG] = {RANGE_REALBODY, 0, 1.0},  [SHADOW_VERY_LONG] = {RANGE_REALBODY, 0, 2.0},
    [SHADOW_SHORT] = {RANGE_SHADOWS, 10, 1.0}, [SHADOW_VERY_SHORT] = {RANGE_HIGHLOW, 10, 0.1},
    [NEAR] = {RANGE_HIGHLOW, 5, 0.2},          [FAR] = {RANGE_HIGHLOW, 5, 0.6},
    [EQUAL] = {RANGE_HIGHLOW, 5, 0.05},
};

typedef struct bar {
    double o, h, l, c;
    double range[3]; /* the bar's candle ranges by candle_range, filled when it enters the ring */
} bar;

/* TA-Lib's min/max macros (ternaries, not fmin/fmax). */
static double dmin(double a, double b)
{
    return a < b ? a : b;
}

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

/* TA_REALBODY, TA_UPPERSHADOW, TA_LOWERSHADOW, TA_CANDLECOLOR of ta_utility.h. */
static double real_body(const bar *b)
{
    return fabs(b->c - b->o);
}

static double upper_shadow(const bar *b)
{
    return b->h - (b->c >= b->o ? b->c : b->o);
}

static double lower_shadow(const bar *b)
{
    return (b->c >= b->o ? b->o : b->c) - b->l;
}

static int color(const bar *b)
{
    return b->c >= b->o ? 1 : -1;
}

/* TA_CANDLERANGE of each range type; the ring caches them per bar so that the period totals,
 * which add and drop a range for every slot at every bar, do not recompute them. */
static void candle_ranges(bar *b)
{
    b->range[RANGE_REALBODY] = real_body(b);
    b->range[RANGE_HIGHLOW] = b->h - b->l;
    b->range[RANGE_SHADOWS] = upper_shadow(b) + lower_shadow(b);
}

static ALWAYS_INLINE double candle_range_of(candle_setting s, const bar *b)
{
    return b->range[candle_defaults[s].range];
}

/* TA_CANDLEAVERAGE: factor * (total / period, or the bar's own range when period is 0), halved
 * for the two-shadow range. Same operation order as the TA-Lib macro. */
static ALWAYS_INLINE double candle_average(candle_setting s, double total, const bar *b)
{
    double base = candle_defaults[s].period != 0 ? total / (double)candle_defaults[s].period
                                                 : candle_range_of(s, b);
    return candle_defaults[s].factor * base /
           (candle_defaults[s].range == RANGE_SHADOWS ? 2.0 : 1.0);
}

/* ---------------------------------------------------------------- pattern rules
 * b[k] is the bar k bars ago (b[0] = the current bar), avg[j] the candle average of slot j of the
 * pattern's definition, pen the penetration parameter (0 when the pattern has none). Comments
 * quote TA-Lib's ta_CDL*.c rules. */

#define MAX_SLOTS 8
#define MAX_BACK  3

typedef double (*pattern_rule)(const bar *b, const double *avg, double pen);

typedef struct pattern_def {
    int back; /* earlier bars the rule reads; lookback = max slot period + back (TA-Lib) */
    int n_slots;
    struct {
        candle_setting setting;
        int ago; /* the total averages the `period` bars before bar b[ago] */
    } slots[MAX_SLOTS];
    pattern_rule rule;
} pattern_def;

/* Doji: real body <= 10% of the average high-low range. */
static double rule_doji(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return real_body(&b[0]) <= avg[0] ? 100.0 : 0.0;
}

/* Hammer / hanging man share the candle shape: small body, long lower shadow, (almost) no upper
 * shadow; the hammer's body sits near the prior low, the hanging man's near the prior high. */
static int hammer_shape(const bar *b, const double *avg)
{
    return real_body(&b[0]) < avg[0] && lower_shadow(&b[0]) > avg[1] &&
           upper_shadow(&b[0]) < avg[2];
}

static double rule_hammer(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return hammer_shape(b, avg) && dmin(b[0].c, b[0].o) <= b[1].l + avg[3] ? 100.0 : 0.0;
}

static double rule_hangingman(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return hammer_shape(b, avg) && dmin(b[0].c, b[0].o) >= b[1].h - avg[3] ? -100.0 : 0.0;
}

/* Shooting star: small body, long upper shadow, (almost) no lower shadow, body gapping up. */
static double rule_shootingstar(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return real_body(&b[0]) < avg[0] && upper_shadow(&b[0]) > avg[1] &&
                   lower_shadow(&b[0]) < avg[2] && dmin(b[0].o, b[0].c) > dmax(b[1].o, b[1].c)
               ? -100.0
               : 0.0;
}

/* Engulfing: opposite colours, the second body engulfs the first; +-80 when one end matches
 * (Greg Morris, "Candlestick Charting Explained"). */
static double rule_engulfing(const bar *b, const double *avg, double pen)
{
    (void)avg;
    (void)pen;
    const bar *p = &b[1], *c = &b[0];
    int white_engulfs = color(c) == 1 && color(p) == -1 &&
                        ((c->c >= p->o && c->o < p->c) || (c->c > p->o && c->o <= p->c));
    int black_engulfs = color(c) == -1 && color(p) == 1 &&
                        ((c->o >= p->c && c->c < p->o) || (c->o > p->c && c->c <= p->o));
    if (!white_engulfs && !black_engulfs) {
        return 0.0;
    }
    return (double)color(c) * (c->o != p->c && c->c != p->o ? 100.0 : 80.0);
}

/* Harami: long first body, short second body inside it; sign opposite to the first candle. */
static double rule_harami(const bar *b, const double *avg, double pen)
{
    (void)pen;
    const bar *p = &b[1], *c = &b[0];
    if (!(real_body(p) > avg[0] && real_body(c) <= avg[1])) {
        return 0.0;
    }
    double hi = dmax(c->c, c->o), lo = dmin(c->c, c->o);
    double phi = dmax(p->c, p->o), plo = dmin(p->c, p->o);
    if (hi < phi && lo > plo) {
        return (double)-color(p) * 100.0;
    }
    if (hi <= phi && lo >= plo) {
        return (double)-color(p) * 80.0;
    }
    return 0.0;
}

/* Piercing: long black, then a long white opening below the prior low and closing inside the
 * prior body above its midpoint. */
static double rule_piercing(const bar *b, const double *avg, double pen)
{
    (void)pen;
    const bar *p = &b[1], *c = &b[0];
    return color(p) == -1 && real_body(p) > avg[0] && color(c) == 1 && real_body(c) > avg[1] &&
                   c->o < p->l && c->c < p->o && c->c > p->c + real_body(p) * 0.5
               ? 100.0
               : 0.0;
}

/* Dark cloud cover: long white, then a black opening above the prior high and closing inside
 * the prior body, at least `pen` of it down. */
static double rule_darkcloudcover(const bar *b, const double *avg, double pen)
{
    const bar *p = &b[1], *c = &b[0];
    return color(p) == 1 && real_body(p) > avg[0] && color(c) == -1 && c->o > p->h && c->c > p->o &&
                   c->c < p->c - real_body(p) * pen
               ? -100.0
               : 0.0;
}

/* Three black crows: a white candle, then three declining black candles with very short lower
 * shadows, each opening inside the prior body, the first closing under the white's high. */
static double rule_3blackcrows(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return color(&b[3]) == 1 && color(&b[2]) == -1 && lower_shadow(&b[2]) < avg[0] &&
                   color(&b[1]) == -1 && lower_shadow(&b[1]) < avg[1] && color(&b[0]) == -1 &&
                   lower_shadow(&b[0]) < avg[2] && b[1].o < b[2].o && b[1].o > b[2].c &&
                   b[0].o < b[1].o && b[0].o > b[1].c && b[3].h > b[2].c && b[2].c > b[1].c &&
                   b[1].c > b[0].c
               ? -100.0
               : 0.0;
}

/* Three white soldiers: three white candles with higher closes and very short upper shadows,
 * each opening within or near the prior body, none far shorter than the prior, the last not
 * short. Slots: very-short shadow at 2,1,0 bars ago, near at 2,1, far at 2,1, body short at 0. */
static double rule_3whitesoldiers(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return color(&b[2]) == 1 && upper_shadow(&b[2]) < avg[0] && color(&b[1]) == 1 &&
                   upper_shadow(&b[1]) < avg[1] && color(&b[0]) == 1 &&
                   upper_shadow(&b[0]) < avg[2] && b[0].c > b[1].c && b[1].c > b[2].c &&
                   b[1].o > b[2].o && b[1].o <= b[2].c + avg[3] && b[0].o > b[1].o &&
                   b[0].o <= b[1].c + avg[4] && real_body(&b[1]) > real_body(&b[2]) - avg[5] &&
                   real_body(&b[0]) > real_body(&b[1]) - avg[6] && real_body(&b[0]) > avg[7]
               ? 100.0
               : 0.0;
}

/* Morning star: long black, a short body gapping down, then a white body (not short) closing
 * at least `pen` into the first body. */
static double rule_morningstar(const bar *b, const double *avg, double pen)
{
    return real_body(&b[2]) > avg[0] && color(&b[2]) == -1 && real_body(&b[1]) <= avg[1] &&
                   dmax(b[1].o, b[1].c) < dmin(b[2].o, b[2].c) && real_body(&b[0]) > avg[2] &&
                   color(&b[0]) == 1 && b[0].c > b[2].c + real_body(&b[2]) * pen
               ? 100.0
               : 0.0;
}

/* Evening star: the mirror image (long white, short body gapping up, black closing down). */
static double rule_eveningstar(const bar *b, const double *avg, double pen)
{
    return real_body(&b[2]) > avg[0] && color(&b[2]) == 1 && real_body(&b[1]) <= avg[1] &&
                   dmin(b[1].o, b[1].c) > dmax(b[2].o, b[2].c) && real_body(&b[0]) > avg[2] &&
                   color(&b[0]) == -1 && b[0].c < b[2].c - real_body(&b[2]) * pen
               ? -100.0
               : 0.0;
}

static const pattern_def def_doji = {0, 1, {{BODY_DOJI, 0}}, rule_doji};
static const pattern_def def_hammer = {
    1, 4, {{BODY_SHORT, 0}, {SHADOW_LONG, 0}, {SHADOW_VERY_SHORT, 0}, {NEAR, 1}}, rule_hammer};
static const pattern_def def_hangingman = {
    1, 4, {{BODY_SHORT, 0}, {SHADOW_LONG, 0}, {SHADOW_VERY_SHORT, 0}, {NEAR, 1}}, rule_hangingman};
static const pattern_def def_shootingstar = {
    1, 3, {{BODY_SHORT, 0}, {SHADOW_LONG, 0}, {SHADOW_VERY_SHORT, 0}}, rule_shootingstar};
/* No candle averages; TA_CDLENGULFING_Lookback is 2 although the rule reads one earlier bar. */
static const pattern_def def_engulfing = {2, 0, {{0}}, rule_engulfing};
static const pattern_def def_harami = {1, 2, {{BODY_LONG, 1}, {BODY_SHORT, 0}}, rule_harami};
static const pattern_def def_piercing = {1, 2, {{BODY_LONG, 1}, {BODY_LONG, 0}}, rule_piercing};
static const pattern_def def_darkcloudcover = {1, 1, {{BODY_LONG, 1}}, rule_darkcloudcover};
static const pattern_def def_3blackcrows = {
    3,
    3,
    {{SHADOW_VERY_SHORT, 2}, {SHADOW_VERY_SHORT, 1}, {SHADOW_VERY_SHORT, 0}},
    rule_3blackcrows};
static const pattern_def def_3whitesoldiers = {2,
                                               8,
                                               {{SHADOW_VERY_SHORT, 2},
                                                {SHADOW_VERY_SHORT, 1},
                                                {SHADOW_VERY_SHORT, 0},
                                                {NEAR, 2},
                                                {NEAR, 1},
                                                {FAR, 2},
                                                {FAR, 1},
                                                {BODY_SHORT, 0}},
                                               rule_3whitesoldiers};
static const pattern_def def_morningstar = {
    2, 3, {{BODY_LONG, 2}, {BODY_SHORT, 1}, {BODY_SHORT, 0}}, rule_morningstar};
static const pattern_def def_eveningstar = {
    2, 3, {{BODY_LONG, 2}, {BODY_SHORT, 1}, {BODY_SHORT, 0}}, rule_eveningstar};

static int pattern_lookback(const pattern_def *d)
{
    int p = 0;
    for (int j = 0; j < d->n_slots; j++) {
        int sp = candle_defaults[d->slots[j].setting].period;
        p = sp > p ? sp : p;
    }
    return p + d->back;
}

/* ---------------------------------------------------------------- shared engine */

/* Bars kept: the rule reads MAX_BACK earlier bars, the totals drop the bar period + ago back
 * (at most 10 + 2); 16 covers both. Each bar is stored twice, at slot `pos` and `pos + 16`, and
 * `pos` walks downwards, so the last 16 bars are always the contiguous run ring[pos..pos+16)
 * newest first: the rule and the totals read b[k] (k bars ago) through one pointer, no copy
 * and no index wrapping. */
#define BAR_RING 16

typedef struct pattern_state {
    const pattern_def *def;
    double pen;
    int lookback;
    uint64_t t;
    size_t pos; /* ring[pos] = the newest bar */
    bar ring[2 * BAR_RING];
    double total[MAX_SLOTS];
} pattern_state;

static void pattern_init(pattern_state *s, const pattern_def *def, double pen)
{
    memset(s, 0, sizeof *s);
    s->def = def;
    s->pen = pen;
    s->lookback = pattern_lookback(def);
    s->pos = BAR_RING; /* the first push moves to BAR_RING - 1 */
}

/* One bar; returns the signal, NaN during the lookback. TA-Lib's period total for a slot (S,
 * ago) starts at bar lookback - ago - period and sums ascending, one bar per step. `d` is the
 * state's definition, passed separately so that batch kernels, which call this with a constant
 * definition, get the slot loops unrolled and the rule inlined. */
static ALWAYS_INLINE double pattern_step(pattern_state *s, const pattern_def *d, const bar *in)
{
    uint64_t t = s->t++;
    s->pos = s->pos == 0 ? BAR_RING - 1 : s->pos - 1;
    s->ring[s->pos] = *in;
    candle_ranges(&s->ring[s->pos]);
    s->ring[s->pos + BAR_RING] = s->ring[s->pos];
    const bar *b = &s->ring[s->pos];
    uint64_t lb = (uint64_t)s->lookback;
    if (t < lb) {
        for (int j = 0; j < d->n_slots; j++) {
            candle_setting set = d->slots[j].setting;
            uint64_t period = (uint64_t)candle_defaults[set].period;
            if (t + period >= lb) {
                s->total[j] += candle_range_of(set, &b[d->slots[j].ago]);
            }
        }
        return NAN;
    }
    double avg[MAX_SLOTS];
    for (int j = 0; j < d->n_slots; j++) {
        avg[j] = candle_average(d->slots[j].setting, s->total[j], &b[d->slots[j].ago]);
    }
    double signal = d->rule(b, avg, s->pen);
    /* after the decision: add the newest range, drop the oldest (TA-Lib: new - old first) */
    for (int j = 0; j < d->n_slots; j++) {
        candle_setting set = d->slots[j].setting;
        int period = candle_defaults[set].period;
        if (period != 0) {
            int ago = d->slots[j].ago;
            s->total[j] += candle_range_of(set, &b[ago]) - candle_range_of(set, &b[ago + period]);
        }
    }
    return signal;
}

static size_t pattern_state_size(const double *params)
{
    (void)params;
    return sizeof(pattern_state);
}

static void pattern_state_step(void *state, const double *in, double *out)
{
    pattern_state *s = state;
    bar b = {in[0], in[1], in[2], in[3], {0.0, 0.0, 0.0}};
    out[0] = pattern_step(s, s->def, &b);
}

/* Inlined into each pattern's batch kernel with its constant definition. */
static ALWAYS_INLINE void
pattern_batch(const pattern_def *def, double pen, size_t n, const double *const *in, double *out)
{
    pattern_state s;
    pattern_init(&s, def, pen);
    for (size_t i = 0; i < n; i++) {
        bar b = {in[0][i], in[1][i], in[2][i], in[3][i], {0.0, 0.0, 0.0}};
        out[i] = pattern_step(&s, def, &b);
    }
}

/* Per-pattern entry points of the registry row; `pen_param` says whether params[0] is the
 * penetration. */
#define PATTERN_FUNCTIONS(name, pen_param)                                                         \
    static int cdl_##name##_lookback(const double *params)                                         \
    {                                                                                              \
        (void)params;                                                                              \
        return pattern_lookback(&def_##name);                                                      \
    }                                                                                              \
    static void cdl_##name##_init(void *state, const double *params)                               \
    {                                                                                              \
        pattern_init(state, &def_##name, (pen_param) ? params[0] : 0.0);                           \
    }                                                                                              \
    static void cdl_##name##_batch(size_t n, const double *const *in, const double *params,        \
                                   double *const *out, double *work)                               \
    {                                                                                              \
        (void)work;                                                                                \
        pattern_batch(&def_##name, (pen_param) ? params[0] : 0.0, n, in, out[0]);                  \
    }

PATTERN_FUNCTIONS(3blackcrows, 0)
PATTERN_FUNCTIONS(3whitesoldiers, 0)
PATTERN_FUNCTIONS(darkcloudcover, 1)
PATTERN_FUNCTIONS(doji, 0)
PATTERN_FUNCTIONS(engulfing, 0)
PATTERN_FUNCTIONS(eveningstar, 1)
PATTERN_FUNCTIONS(hammer, 0)
PATTERN_FUNCTIONS(hangingman, 0)
PATTERN_FUNCTIONS(harami, 0)
PATTERN_FUNCTIONS(morningstar, 1)
PATTERN_FUNCTIONS(piercing, 0)
PATTERN_FUNCTIONS(shootingstar, 0)

/* ---------------------------------------------------------------- registry rows */

#define OHLC                                                                                       \
    4,                                                                                             \
    {                                                                                              \
        KZ_IN_OPEN, KZ_IN_HIGH, KZ_IN_LOW, KZ_IN_CLOSE                                             \
    }
/* TA-Lib's optInPenetration range is 0..3e37; the strategy search draws 0.1..1 (SPEC 6.4). */
#define PENETRATION(def)                                                                           \
    1,                                                                                             \
    {                                                                                              \
        {                                                                                          \
            "penetration", KZ_PARAM_REAL, def, 0.0, 3e37, 0.1, 1.0                                 \
        }                                                                                          \
    }
#define HT_ROW(NAME, desc, lookback, fn, nout, outs, scales)                                       \
    {                                                                                              \
        NAME, "cycle", desc, 1, {KZ_IN_CLOSE}, 0, {{0}}, nout, outs, scales, KZ_TA_UNSTABLE,       \
            lookback, kz_ht_##fn##_batch, NULL, NULL, kz_ht_state_size, kz_ht_##fn##_init,         \
            kz_ht_state_step                                                                       \
    }
#define CDL_ROW(NAME, desc, params, fn)                                                            \
    {                                                                                              \
        NAME, "pattern", desc, OHLC, params, 1, {"integer"}, {KZ_SCALE_PATTERN}, 0,                \
            cdl_##fn##_lookback, cdl_##fn##_batch, NULL, NULL, pattern_state_size,                 \
            cdl_##fn##_init, pattern_state_step                                                    \
    }
#define NO_PARAMS                                                                                  \
    0,                                                                                             \
    {                                                                                              \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define LIST(...)                                                                                  \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

/* Sorted by group then name. HT_TRENDLINE is in TA-Lib's "Overlap Studies" group; it is listed
 * here under "cycle" because it shares the Hilbert-transform core with the HT_* functions. */
static const kz_ta_info rows[] = {
    HT_ROW("HT_DCPERIOD",
           "Hilbert Transform - Dominant Cycle Period",
           kz_ht_lookback_short,
           dcperiod,
           1,
           {"real"},
           {KZ_SCALE_OTHER}),
    HT_ROW("HT_DCPHASE",
           "Hilbert Transform - Dominant Cycle Phase",
           kz_ht_lookback_long,
           dcphase,
           1,
           {"real"},
           {KZ_SCALE_OTHER}),
    HT_ROW("HT_PHASOR",
           "Hilbert Transform - Phasor Components",
           kz_ht_lookback_short,
           phasor,
           2,
           LIST("inphase", "quadrature"),
           LIST(KZ_SCALE_UNBOUNDED, KZ_SCALE_UNBOUNDED)),
    HT_ROW("HT_SINE",
           "Hilbert Transform - SineWave",
           kz_ht_lookback_long,
           sine,
           2,
           LIST("sine", "leadsine"),
           LIST(KZ_SCALE_UNBOUNDED, KZ_SCALE_UNBOUNDED)),
    HT_ROW("HT_TRENDLINE",
           "Hilbert Transform - Instantaneous Trendline",
           kz_ht_lookback_long,
           trendline,
           1,
           {"real"},
           {KZ_SCALE_PRICE}),
    HT_ROW("HT_TRENDMODE",
           "Hilbert Transform - Trend vs Cycle Mode",
           kz_ht_lookback_long,
           trendmode,
           1,
           {"integer"},
           {KZ_SCALE_OTHER}),
    CDL_ROW("CDL3BLACKCROWS", "Three Black Crows", NO_PARAMS, 3blackcrows),
    CDL_ROW("CDL3WHITESOLDIERS", "Three Advancing White Soldiers", NO_PARAMS, 3whitesoldiers),
    CDL_ROW("CDLDARKCLOUDCOVER", "Dark Cloud Cover", PENETRATION(0.5), darkcloudcover),
    CDL_ROW("CDLDOJI", "Doji", NO_PARAMS, doji),
    CDL_ROW("CDLENGULFING", "Engulfing Pattern", NO_PARAMS, engulfing),
    CDL_ROW("CDLEVENINGSTAR", "Evening Star", PENETRATION(0.3), eveningstar),
    CDL_ROW("CDLHAMMER", "Hammer", NO_PARAMS, hammer),
    CDL_ROW("CDLHANGINGMAN", "Hanging Man", NO_PARAMS, hangingman),
    CDL_ROW("CDLHARAMI", "Harami Pattern", NO_PARAMS, harami),
    CDL_ROW("CDLMORNINGSTAR", "Morning Star", PENETRATION(0.3), morningstar),
    CDL_ROW("CDLPIERCING", "Piercing Pattern", NO_PARAMS, piercing),
    CDL_ROW("CDLSHOOTINGSTAR", "Shooting Star", NO_PARAMS, shootingstar),
};

const kz_ta_info *const kz_ta_cycle_table = rows;
const size_t kz_ta_cycle_count = sizeof rows / sizeof rows[0];
