/* Candlestick patterns (TA-Lib 0.6.4 CDL* rules with its default candle settings) and the
 * registry table of the "cycle" (HT_*, cycle.c) and "pattern" (CDL*) groups.
 *
 * DESIGN: TA-Lib judges a candle against "period totals": rolling sums of a candle range (real
 * body, high-low, or both shadows) over the avgPeriod bars before the bar concerned, one total
 * per (setting, bars-ago) pair a pattern uses. Each pattern here is a table row listing those
 * slots plus a rule over the last four bars. The totals are kept exactly as TA-Lib keeps them:
 * seeded by ascending bar, then `total += new - old` after each decision.
 *
 * One engine serves the batch kernels and the O(1) streaming states. It works on bar columns in
 * three passes over a chunk of bars: (1) derive the candle-range columns the totals sum (and the
 * body top and bottom, for rules that read the shadows; see body_source), (2) run the totals,
 * the only serial recurrence, into one column per total, (3) evaluate the rule on every bar. The
 * batch kernel runs the passes over chunks of CHUNK bars of the input columns, so that passes 1
 * and 3 vectorise; the rules are branch-free (& of comparisons, a select of the signal), which
 * also spares the mispredictions that && chains cost on real data. The streaming state keeps the
 * last 16 bars as the same columns in a ring and runs the passes over a chunk of one bar. Each
 * rule therefore has one definition, and stream == batch bit for bit. Outputs are
 * -100/-80/0/80/100 as doubles, NaN before the lookback.
 *
 * The speed rests on GCC vectorising passes 1 and 3 of every kernel, which small changes can
 * undo (a && in a rule, a shadow computed next to a colour test, a slot loop left rolled): after
 * editing a rule, check with -fopt-info-vec that the bar loops of signals_pass and derive_pass
 * are still reported vectorised in every cdl_*_batch. */
#include <stdint.h>
#include <string.h>

#include "cycle_int.h"

/* Forces inlining where the specialisation matters (GCC/Clang; a plain inline elsewhere). */
#if defined(__GNUC__)
#    define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#    define ALWAYS_INLINE inline
#endif

/* Fully unrolls a loop over a pattern's slots (at most MAX_SLOTS = 8). With a constant definition
 * the slot loops must disappear for the per-bar loops around them to vectorise; GCC's default
 * unrolling limits stop short of the 8 slots of three white soldiers. */
#if defined(__GNUC__) && !defined(__clang__)
#    define UNROLL_SLOTS _Pragma("GCC unroll 8")
#else
#    define UNROLL_SLOTS
#endif

/* ---------------------------------------------------------------- candle settings */

typedef enum candle_range { RANGE_REALBODY, RANGE_HIGHLOW, RANGE_SHADOWS, N_RANGES } candle_range;

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

/* One bar as the rules see it: prices, and the top and bottom of its real body (close and open
 * of a white candle, open and close of a black one; see pattern_def.body for where they come
 * from). */
typedef struct bar {
    double o, h, l, c;
    double top, bottom;
} bar;

/* A bar from its prices. */
static ALWAYS_INLINE bar bar_make(double o, double h, double l, double c)
{
    int white = c >= o;
    bar b = {o, h, l, c, white ? c : o, white ? o : c};
    return b;
}

/* TA-Lib's min/max macros (ternaries, not fmin/fmax). */
static ALWAYS_INLINE double dmin(double a, double b)
{
    return a < b ? a : b;
}

static ALWAYS_INLINE double dmax(double a, double b)
{
    return a > b ? a : b;
}

/* TA_REALBODY, TA_UPPERSHADOW, TA_LOWERSHADOW of ta_utility.h; is_white / is_black are
 * TA_CANDLECOLOR == 1 / == -1 (a doji, close == open, counts as white). */
static ALWAYS_INLINE double real_body(const bar *b)
{
    return fabs(b->c - b->o);
}

static ALWAYS_INLINE double upper_shadow(const bar *b)
{
    return b->h - b->top;
}

static ALWAYS_INLINE double lower_shadow(const bar *b)
{
    return b->bottom - b->l;
}

static ALWAYS_INLINE int is_white(const bar *b)
{
    return b->c >= b->o;
}

static ALWAYS_INLINE int is_black(const bar *b)
{
    return !is_white(b);
}

/* TA_CANDLERANGE of one bar. */
static ALWAYS_INLINE double candle_range_of(candle_range kind, const bar *b)
{
    switch (kind) {
    case RANGE_REALBODY:
        return real_body(b);
    case RANGE_HIGHLOW:
        return b->h - b->l;
    default:
        return upper_shadow(b) + lower_shadow(b);
    }
}

/* TA_CANDLEAVERAGE: factor * (total / period, or the bar's own range when period is 0), halved
 * for the two-shadow range. Same operation order as the TA-Lib macro. */
static ALWAYS_INLINE double candle_average(candle_setting s, double total, const bar *b)
{
    double base = candle_defaults[s].period != 0 ? total / (double)candle_defaults[s].period
                                                 : candle_range_of(candle_defaults[s].range, b);
    return candle_defaults[s].factor * base /
           (candle_defaults[s].range == RANGE_SHADOWS ? 2.0 : 1.0);
}

/* ---------------------------------------------------------------- pattern rules
 * b[k] is the bar k bars ago (b[0] = the current bar), avg[j] the candle average of slot j of the
 * pattern's definition, pen the penetration parameter (0 when the pattern has none). Comments
 * quote TA-Lib's ta_CDL*.c rules. The conditions are combined with `&`, not `&&`: every
 * comparison is evaluated (they are cheap and side-effect free), which gives the same answer
 * without a branch per condition and lets the batch loop vectorise. */

#define MAX_SLOTS 8
#define MAX_BACK  3

typedef double (*pattern_rule)(const bar *b, const double *avg, double pen);

/* Where the rule pass gets a bar's body top and bottom: BODY_INLINE computes them next to the
 * rule (and drops them when the rule does not read them); BODY_COLUMNS loads them from columns
 * that the first pass derives, for rules that read the shadows: those also test the colour, and
 * with the `c >= o` select in the same loop GCC threads one test through the other into a
 * branchy form that it no longer vectorises. Either gives the same values. */
typedef enum body_source { BODY_INLINE, BODY_COLUMNS } body_source;

typedef struct pattern_def {
    int back; /* earlier bars the rule reads; lookback = max slot period + back (TA-Lib) */
    int n_slots;
    struct {
        candle_setting setting;
        int ago; /* the total averages the `period` bars before bar b[ago] */
    } slots[MAX_SLOTS];
    pattern_rule rule;
    body_source body; /* a speed choice only (see body_source) */
} pattern_def;

/* Doji: real body <= 10% of the average high-low range. */
static ALWAYS_INLINE double rule_doji(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return real_body(&b[0]) <= avg[0] ? 100.0 : 0.0;
}

/* Hammer / hanging man share the candle shape: small body, long lower shadow, (almost) no upper
 * shadow; the hammer's body sits near the prior low, the hanging man's near the prior high. */
static ALWAYS_INLINE int hammer_shape(const bar *b, const double *avg)
{
    return (real_body(&b[0]) < avg[0]) & (lower_shadow(&b[0]) > avg[1]) &
           (upper_shadow(&b[0]) < avg[2]);
}

static ALWAYS_INLINE double rule_hammer(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return hammer_shape(b, avg) & (dmin(b[0].c, b[0].o) <= b[1].l + avg[3]) ? 100.0 : 0.0;
}

static ALWAYS_INLINE double rule_hangingman(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return hammer_shape(b, avg) & (dmin(b[0].c, b[0].o) >= b[1].h - avg[3]) ? -100.0 : 0.0;
}

/* Shooting star: small body, long upper shadow, (almost) no lower shadow, body gapping up. */
static ALWAYS_INLINE double rule_shootingstar(const bar *b, const double *avg, double pen)
{
    (void)pen;
    return (real_body(&b[0]) < avg[0]) & (upper_shadow(&b[0]) > avg[1]) &
                   (lower_shadow(&b[0]) < avg[2]) & (dmin(b[0].o, b[0].c) > dmax(b[1].o, b[1].c))
               ? -100.0
               : 0.0;
}

/* Engulfing: opposite colours, the second body engulfs the first; +-80 when one end matches
 * (Greg Morris, "Candlestick Charting Explained"). The sign is the current candle's colour. */
static ALWAYS_INLINE double rule_engulfing(const bar *b, const double *avg, double pen)
{
    (void)avg;
    (void)pen;
    const bar *p = &b[1], *c = &b[0];
    int white_engulfs = is_white(c) & is_black(p) &
                        (((c->c >= p->o) & (c->o < p->c)) | ((c->c > p->o) & (c->o <= p->c)));
    int black_engulfs = is_black(c) & is_white(p) &
                        (((c->o >= p->c) & (c->c < p->o)) | ((c->o > p->c) & (c->c <= p->o)));
    double size = (c->o != p->c) & (c->c != p->o) ? 100.0 : 80.0;
    double signal = is_white(c) ? size : -size;
    return white_engulfs | black_engulfs ? signal : 0.0;
}

/* Harami: long first body, short second body inside it (100), or inside with a matching end
 * (80); the sign is opposite to the first candle's colour. */
static ALWAYS_INLINE double rule_harami(const bar *b, const double *avg, double pen)
{
    (void)pen;
    const bar *p = &b[1], *c = &b[0];
    double hi = dmax(c->c, c->o), lo = dmin(c->c, c->o);
    double phi = dmax(p->c, p->o), plo = dmin(p->c, p->o);
    int bodies = (real_body(p) > avg[0]) & (real_body(c) <= avg[1]);
    int inside = (hi <= phi) & (lo >= plo);
    double size = (hi < phi) & (lo > plo) ? 100.0 : 80.0;
    double signal = is_white(p) ? -size : size;
    return bodies & inside ? signal : 0.0;
}

/* Piercing: long black, then a long white opening below the prior low and closing inside the
 * prior body above its midpoint. */
static ALWAYS_INLINE double rule_piercing(const bar *b, const double *avg, double pen)
{
    (void)pen;
    const bar *p = &b[1], *c = &b[0];
    return is_black(p) & (real_body(p) > avg[0]) & is_white(c) & (real_body(c) > avg[1]) &
                   (c->o < p->l) & (c->c < p->o) & (c->c > p->c + real_body(p) * 0.5)
               ? 100.0
               : 0.0;
}

/* Dark cloud cover: long white, then a black opening above the prior high and closing inside
 * the prior body, at least `pen` of it down. */
static ALWAYS_INLINE double rule_darkcloudcover(const bar *b, const double *avg, double pen)
{
    const bar *p = &b[1], *c = &b[0];
    return is_white(p) & (real_body(p) > avg[0]) & is_black(c) & (c->o > p->h) & (c->c > p->o) &
                   (c->c < p->c - real_body(p) * pen)
               ? -100.0
               : 0.0;
}

/* Three black crows: a white candle, then three declining black candles with very short lower
 * shadows, each opening inside the prior body, the first closing under the white's high. */
static ALWAYS_INLINE double rule_3blackcrows(const bar *b, const double *avg, double pen)
{
    (void)pen;
    int colours = is_white(&b[3]) & is_black(&b[2]) & is_black(&b[1]) & is_black(&b[0]);
    int shadows = (lower_shadow(&b[2]) < avg[0]) & (lower_shadow(&b[1]) < avg[1]) &
                  (lower_shadow(&b[0]) < avg[2]);
    int opens = (b[1].o < b[2].o) & (b[1].o > b[2].c) & (b[0].o < b[1].o) & (b[0].o > b[1].c);
    int closes = (b[3].h > b[2].c) & (b[2].c > b[1].c) & (b[1].c > b[0].c);
    return colours & shadows & opens & closes ? -100.0 : 0.0;
}

/* Three white soldiers: three white candles with higher closes and very short upper shadows,
 * each opening within or near the prior body, none far shorter than the prior, the last not
 * short. Slots: very-short shadow at 2,1,0 bars ago, near at 2,1, far at 2,1, body short at 0. */
static ALWAYS_INLINE double rule_3whitesoldiers(const bar *b, const double *avg, double pen)
{
    (void)pen;
    int colours = is_white(&b[2]) & is_white(&b[1]) & is_white(&b[0]);
    int shadows = (upper_shadow(&b[2]) < avg[0]) & (upper_shadow(&b[1]) < avg[1]) &
                  (upper_shadow(&b[0]) < avg[2]);
    int closes = (b[0].c > b[1].c) & (b[1].c > b[2].c);
    int opens = (b[1].o > b[2].o) & (b[1].o <= b[2].c + avg[3]) & (b[0].o > b[1].o) &
                (b[0].o <= b[1].c + avg[4]);
    int bodies = (real_body(&b[1]) > real_body(&b[2]) - avg[5]) &
                 (real_body(&b[0]) > real_body(&b[1]) - avg[6]) & (real_body(&b[0]) > avg[7]);
    return colours & shadows & closes & opens & bodies ? 100.0 : 0.0;
}

/* Morning star: long black, a short body gapping down, then a white body (not short) closing
 * at least `pen` into the first body. */
static ALWAYS_INLINE double rule_morningstar(const bar *b, const double *avg, double pen)
{
    return (real_body(&b[2]) > avg[0]) & is_black(&b[2]) & (real_body(&b[1]) <= avg[1]) &
                   (dmax(b[1].o, b[1].c) < dmin(b[2].o, b[2].c)) & (real_body(&b[0]) > avg[2]) &
                   is_white(&b[0]) & (b[0].c > b[2].c + real_body(&b[2]) * pen)
               ? 100.0
               : 0.0;
}

/* Evening star: the mirror image (long white, short body gapping up, black closing down). */
static ALWAYS_INLINE double rule_eveningstar(const bar *b, const double *avg, double pen)
{
    return (real_body(&b[2]) > avg[0]) & is_white(&b[2]) & (real_body(&b[1]) <= avg[1]) &
                   (dmin(b[1].o, b[1].c) > dmax(b[2].o, b[2].c)) & (real_body(&b[0]) > avg[2]) &
                   is_black(&b[0]) & (b[0].c < b[2].c - real_body(&b[2]) * pen)
               ? -100.0
               : 0.0;
}

static const pattern_def def_doji = {0, 1, {{BODY_DOJI, 0}}, rule_doji, BODY_INLINE};
static const pattern_def def_hammer = {
    1,
    4,
    {{BODY_SHORT, 0}, {SHADOW_LONG, 0}, {SHADOW_VERY_SHORT, 0}, {NEAR, 1}},
    rule_hammer,
    BODY_COLUMNS};
static const pattern_def def_hangingman = {
    1,
    4,
    {{BODY_SHORT, 0}, {SHADOW_LONG, 0}, {SHADOW_VERY_SHORT, 0}, {NEAR, 1}},
    rule_hangingman,
    BODY_COLUMNS};
static const pattern_def def_shootingstar = {
    1,
    3,
    {{BODY_SHORT, 0}, {SHADOW_LONG, 0}, {SHADOW_VERY_SHORT, 0}},
    rule_shootingstar,
    BODY_COLUMNS};
/* No candle averages; TA_CDLENGULFING_Lookback is 2 although the rule reads one earlier bar. */
static const pattern_def def_engulfing = {2, 0, {{0}}, rule_engulfing, BODY_INLINE};
static const pattern_def def_harami = {
    1, 2, {{BODY_LONG, 1}, {BODY_SHORT, 0}}, rule_harami, BODY_INLINE};
static const pattern_def def_piercing = {
    1, 2, {{BODY_LONG, 1}, {BODY_LONG, 0}}, rule_piercing, BODY_INLINE};
static const pattern_def def_darkcloudcover = {
    1, 1, {{BODY_LONG, 1}}, rule_darkcloudcover, BODY_INLINE};
static const pattern_def def_3blackcrows = {
    3,
    3,
    {{SHADOW_VERY_SHORT, 2}, {SHADOW_VERY_SHORT, 1}, {SHADOW_VERY_SHORT, 0}},
    rule_3blackcrows,
    BODY_COLUMNS};
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
                                               rule_3whitesoldiers,
                                               BODY_COLUMNS};
static const pattern_def def_morningstar = {
    2, 3, {{BODY_LONG, 2}, {BODY_SHORT, 1}, {BODY_SHORT, 0}}, rule_morningstar, BODY_INLINE};
static const pattern_def def_eveningstar = {
    2, 3, {{BODY_LONG, 2}, {BODY_SHORT, 1}, {BODY_SHORT, 0}}, rule_eveningstar, BODY_INLINE};

/* The helpers below are called with a constant definition by the batch kernels, where they fold
 * to constants, and with the state's definition by the streaming step. */

static ALWAYS_INLINE int slot_period(const pattern_def *d, int j)
{
    return candle_defaults[d->slots[j].setting].period;
}

static ALWAYS_INLINE candle_range slot_range(const pattern_def *d, int j)
{
    return candle_defaults[d->slots[j].setting].range;
}

/* The slot whose period total slot j reads: the first slot with the same range, period and ago
 * (three white soldiers' near and far slots average the same bars; one total and one division
 * serve both, with the same value). */
static ALWAYS_INLINE int slot_total(const pattern_def *d, int j)
{
    int first = j;
    /* a constant trip count (unused slots are zero), so that the loop unrolls before the slot
     * loop around it: a bound of j would leave an empty loop inside the per-bar loops */
    UNROLL_SLOTS
    for (int k = MAX_SLOTS - 1; k >= 0; k--) {
        if (k < j && slot_range(d, k) == slot_range(d, j) &&
            slot_period(d, k) == slot_period(d, j) && d->slots[k].ago == d->slots[j].ago) {
            first = k;
        }
    }
    return first;
}

/* Whether slot j keeps a period total of its own (it has a period and is the first of its kind). */
static ALWAYS_INLINE int keeps_total(const pattern_def *d, int j)
{
    return slot_period(d, j) != 0 && slot_total(d, j) == j;
}

static ALWAYS_INLINE int pattern_lookback(const pattern_def *d)
{
    int p = 0;
    UNROLL_SLOTS
    for (int j = 0; j < d->n_slots; j++) {
        p = slot_period(d, j) > p ? slot_period(d, j) : p;
    }
    return p + d->back;
}

/* How many bars before the judged one the totals reach (ago + period of the oldest bar a total
 * drops; at most MAX_LAG). */
#define MAX_LAG 12

static ALWAYS_INLINE int pattern_lag(const pattern_def *d)
{
    int lag = 0;
    UNROLL_SLOTS
    for (int j = 0; j < d->n_slots; j++) {
        int a = slot_period(d, j) != 0 ? d->slots[j].ago + slot_period(d, j) : 0;
        lag = a > lag ? a : lag;
    }
    return lag;
}

/* Whether a period total of the pattern sums ranges of this kind (period-0 settings use the
 * bar's own range, which the rule pass computes from the prices). */
static ALWAYS_INLINE int uses_range(const pattern_def *d, candle_range kind)
{
    int used = 0;
    UNROLL_SLOTS
    for (int j = 0; j < d->n_slots; j++) {
        used |= slot_period(d, j) != 0 && slot_range(d, j) == kind;
    }
    return used;
}

/* ---------------------------------------------------------------- shared engine */

/* The engine's columns: the prices, then the values pass 1 derives from them (body top and
 * bottom for the rules, the candle ranges the totals sum). */
enum {
    COL_OPEN,
    COL_HIGH,
    COL_LOW,
    COL_CLOSE,
    COL_TOP,
    COL_BOTTOM,
    COL_RANGE, /* + candle_range */
    N_COLS = COL_RANGE + N_RANGES,
    N_DERIVED = N_COLS - COL_TOP
};

/* The columns the passes read, indexed relative to the chunk: col[k][i] is bar i of the chunk,
 * col[k][i - j] the bar j bars before it (j <= max(lag, back) of the pattern; the caller keeps
 * that many earlier bars addressable). Of the derived columns, only the range kinds uses_range
 * and, for BODY_COLUMNS, top and bottom are filled. */
typedef struct bar_cols {
    const double *col[N_COLS];
} bar_cols;

/* Bar i of the chunk for the rule pass. */
static ALWAYS_INLINE bar bar_at(const pattern_def *d, const bar_cols *x, ptrdiff_t i)
{
    if (d->body == BODY_INLINE) {
        return bar_make(x->col[COL_OPEN][i], x->col[COL_HIGH][i], x->col[COL_LOW][i],
                        x->col[COL_CLOSE][i]);
    }
    bar b = {x->col[COL_OPEN][i],  x->col[COL_HIGH][i], x->col[COL_LOW][i],
             x->col[COL_CLOSE][i], x->col[COL_TOP][i],  x->col[COL_BOTTOM][i]};
    return b;
}

/* Pass 1, bars [from, to): dst[k][i] = the derived column k (k >= COL_TOP; dst[k] addresses the
 * same bars as x->col[k]) from the prices in x: the range kinds the pattern's totals use, and the
 * body top and bottom when it takes them from columns. */
static ALWAYS_INLINE void derive_pass(
    const pattern_def *d, const bar_cols *x, double *const *dst, ptrdiff_t from, ptrdiff_t to)
{
    int used[N_RANGES];
    for (int kind = 0; kind < N_RANGES; kind++) {
        used[kind] = uses_range(d, (candle_range)kind);
    }
    for (ptrdiff_t i = from; i < to; i++) {
        bar b = bar_make(x->col[COL_OPEN][i], x->col[COL_HIGH][i], x->col[COL_LOW][i],
                         x->col[COL_CLOSE][i]);
        if (d->body == BODY_COLUMNS) {
            dst[COL_TOP][i] = b.top;
            dst[COL_BOTTOM][i] = b.bottom;
        }
        for (int kind = 0; kind < N_RANGES; kind++) {
            if (used[kind]) {
                dst[COL_RANGE + kind][i] = candle_range_of((candle_range)kind, &b);
            }
        }
    }
}

/* Warm-up bar i of the chunk, `left` bars before the lookback: adds its share of TA-Lib's seed.
 * The total of slot (setting, ago) is seeded with the ranges of the `period` bars ending `ago`
 * bars before the first judged bar, summed ascending from 0, i.e. the bar `ago` bars back is
 * added while left <= period. Those bars exist: lookback >= period + ago. */
static ALWAYS_INLINE void
seed_bar(const pattern_def *d, const bar_cols *x, ptrdiff_t i, int left, double *total)
{
    UNROLL_SLOTS
    for (int j = 0; j < d->n_slots; j++) {
        if (keeps_total(d, j) && left <= slot_period(d, j)) {
            total[j] += x->col[COL_RANGE + slot_range(d, j)][i - d->slots[j].ago];
        }
    }
}

/* Pass 2, bars [0, m) of a chunk past the warm-up: tot[j * stride + i] = the total of slot j (if
 * keeps_total) when bar i is judged; then the total moves on as in TA-Lib (new - old first, after
 * the decision). total[] carries the totals from chunk to chunk. Serial in i: the only recurrence
 * of a pattern, kept apart from the rule so that the rule pass vectorises. */
static ALWAYS_INLINE void totals_pass(
    const pattern_def *d, const bar_cols *x, size_t m, double *total, double *tot, size_t stride)
{
    for (size_t i = 0; i < m; i++) {
        UNROLL_SLOTS
        for (int j = 0; j < d->n_slots; j++) {
            if (keeps_total(d, j)) {
                const double *r = x->col[COL_RANGE + slot_range(d, j)];
                ptrdiff_t a = (ptrdiff_t)i - d->slots[j].ago;
                tot[(size_t)j * stride + i] = total[j];
                total[j] += r[a] - r[a - slot_period(d, j)];
            }
        }
    }
}

/* Pass 3, bars [0, m): out[i] = the rule's signal on bar i, from the prices and the totals of
 * pass 2 (slots without a period use the bar's own range and no total). */
static ALWAYS_INLINE void signals_pass(const pattern_def *d,
                                       const bar_cols *x,
                                       size_t m,
                                       const double *tot,
                                       size_t stride,
                                       double pen,
                                       double *restrict out)
{
    for (size_t i = 0; i < m; i++) {
        bar b[MAX_BACK + 1];
        for (int k = 0; k <= d->back; k++) {
            b[k] = bar_at(d, x, (ptrdiff_t)i - k);
        }
        double avg[MAX_SLOTS];
        UNROLL_SLOTS
        for (int j = 0; j < d->n_slots; j++) {
            double total =
                slot_period(d, j) != 0 ? tot[(size_t)slot_total(d, j) * stride + i] : 0.0;
            avg[j] = candle_average(d->slots[j].setting, total, &b[d->slots[j].ago]);
        }
        out[i] = d->rule(b, avg, pen);
    }
}

/* Batch chunk length: the chunk's derived and total columns (at most (N_DERIVED + MAX_SLOTS) *
 * CHUNK doubles, 26 KB) stay in L1 between the passes. */
#define CHUNK 256

/* Columns of the chunk starting at bar i0: the prices from `in`, the derived columns in
 * dst[COL_TOP..N_COLS) (the same bars). */
static ALWAYS_INLINE bar_cols chunk_cols(const double *const *in, size_t i0, double *const *dst)
{
    bar_cols x;
    for (int k = 0; k < N_COLS; k++) {
        x.col[k] = k < COL_TOP ? in[k] + i0 : dst[k];
    }
    return x;
}

/* The batch kernel, inlined into each pattern's entry point with its constant definition so that
 * the slot loops unroll and the rule inlines. Requires n > lookback (registry.c's run_kernel). */
static ALWAYS_INLINE void
pattern_batch(const pattern_def *d, double pen, size_t n, const double *const *in, double *out)
{
    double derived[N_DERIVED][MAX_LAG + CHUNK];
    double tot[MAX_SLOTS * CHUNK];
    double total[MAX_SLOTS] = {0.0};
    double *dst[N_COLS] = {NULL};
    for (int k = COL_TOP; k < N_COLS; k++) {
        dst[k] = derived[k - COL_TOP] + MAX_LAG; /* bar 0 of every chunk, MAX_LAG bars before it */
    }
    int lb = pattern_lookback(d);
    int lag = pattern_lag(d); /* <= lb: TA-Lib's seeds start at bar lb - ago - period >= 0 */
    /* warm-up: bars [0, lb) as one chunk (lb < CHUNK) */
    bar_cols x = chunk_cols(in, 0, dst);
    derive_pass(d, &x, dst, 0, lb);
    for (int t = 0; t < lb; t++) {
        seed_bar(d, &x, t, lb - t, total);
        out[t] = NAN;
    }
    for (size_t i0 = (size_t)lb; i0 < n; i0 += CHUNK) {
        size_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
        x = chunk_cols(in, i0, dst);
        derive_pass(d, &x, dst, -lag, (ptrdiff_t)m); /* with the lag bars the totals drop */
        totals_pass(d, &x, m, total, tot, CHUNK);
        signals_pass(d, &x, m, tot, CHUNK, pen, out + i0);
    }
}

/* Streaming: the last BAR_RING bars in the engine's columns. Each column is stored twice, at
 * `pos` and `pos + BAR_RING`, and `pos` walks upwards, so the newest bar is at pos + BAR_RING and
 * the bar j bars earlier at pos + BAR_RING - j for j < BAR_RING: one contiguous run, no index
 * wrapping, as the passes expect. BAR_RING > MAX_LAG and > MAX_BACK. */
#define BAR_RING 16
_Static_assert(BAR_RING > MAX_LAG && BAR_RING > MAX_BACK, "the ring holds the bars passes read");

typedef struct pattern_state {
    const pattern_def *def;
    double pen;
    int lookback;
    uint64_t t; /* bars pushed */
    size_t pos;
    double col[N_COLS][2 * BAR_RING];
    double total[MAX_SLOTS];
} pattern_state;

static void pattern_init(pattern_state *s, const pattern_def *def, double pen)
{
    memset(s, 0, sizeof *s);
    s->def = def;
    s->pen = pen;
    s->lookback = pattern_lookback(def);
    s->pos = BAR_RING - 1; /* the first push moves to 0 */
}

static size_t pattern_state_size(const double *params)
{
    (void)params;
    return sizeof(pattern_state);
}

/* One bar (in = open, high, low, close): the batch passes over a chunk of one bar. */
static void pattern_state_step(void *state, const double *in, double *out)
{
    pattern_state *s = state;
    const pattern_def *d = s->def;
    s->pos = (s->pos + 1) % BAR_RING;
    size_t now = s->pos + BAR_RING;
    bar_cols x;
    double *dst[N_COLS];
    for (int k = 0; k < N_COLS; k++) {
        dst[k] = &s->col[k][now];
        x.col[k] = dst[k];
    }
    for (int k = COL_OPEN; k <= COL_CLOSE; k++) {
        dst[k][0] = in[k];
    }
    derive_pass(d, &x, dst, 0, 1);
    for (int k = 0; k < N_COLS; k++) {
        s->col[k][s->pos] = s->col[k][now];
    }
    uint64_t t = s->t++;
    if (t < (uint64_t)s->lookback) {
        seed_bar(d, &x, 0, s->lookback - (int)t, s->total);
        out[0] = NAN;
        return;
    }
    double tot[MAX_SLOTS] = {0.0}; /* only the slots with a period are written and read */
    totals_pass(d, &x, 1, s->total, tot, 1);
    signals_pass(d, &x, 1, tot, 1, s->pen, out);
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
