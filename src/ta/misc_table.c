/* Registry table of the volatility, volume, statistic, price-transform and math-operator
 * indicators (kz_ta_volatility_table) and their lookback functions. */
#include "misc_int.h"

/* Lookbacks (TA_<NAME>_Lookback with unstable period 0). */
static int lb_zero(const double *params)
{
    (void)params;
    return 0;
}

static int lb_one(const double *params)
{
    (void)params;
    return 1;
}

static int lb_period(const double *params)
{
    return (int)params[0];
}

static int lb_period_m1(const double *params)
{
    return (int)params[0] - 1;
}

/* TA_ADOSC_Lookback = TA_EMA_Lookback(max(fast, slow)). */
static int lb_adosc(const double *params)
{
    int fast = (int)params[0], slow = (int)params[1];
    return (fast > slow ? fast : slow) - 1;
}

/* ---------------------------------------------------------------- the table */

#define BIG 3e37 /* TA-Lib's TA_REAL_MIN..TA_REAL_MAX bound for real factors */

/* Row fragments; clang-format would split these brace lists over many lines. */
/* clang-format off */
#define PERIOD(def, mn, smin, smax) {"timeperiod", KZ_PARAM_INT, def, mn, 100000, smin, smax}
#define NO_PARAMS                   0, {{NULL, KZ_PARAM_INT, 0, 0, 0, 0, 0}}
#define ONE_PARAM(...)              1, {__VA_ARGS__}
#define REAL_OUT(scale)             1, {"real"}, {scale}
#define INT_OUT                     1, {"integer"}, {KZ_SCALE_OTHER}
#define IN_HLC                      3, {KZ_IN_HIGH, KZ_IN_LOW, KZ_IN_CLOSE}
#define IN_HLCV                     4, {KZ_IN_HIGH, KZ_IN_LOW, KZ_IN_CLOSE, KZ_IN_VOLUME}
#define IN_HL                       2, {KZ_IN_HIGH, KZ_IN_LOW}
#define IN_CLOSE                    1, {KZ_IN_CLOSE}
/* batch, work size, no extra check, O(1) state: all from one KZ_MISC_DEFINE */
#define IMPL(x) kz_misc_##x##_batch, kz_misc_##x##_work, NULL, \
                kz_misc_##x##_size, kz_misc_##x##_init, kz_misc_##x##_step
/* One row of a single-input, single-period function on close. */
#define CLOSE_ROW(name, x, group, desc, period, scale) \
    {name, group, desc, IN_CLOSE, ONE_PARAM(period), REAL_OUT(scale), 0, lb_period_m1, IMPL(x)}
/* clang-format on */

static const kz_ta_info table[] = {
    /* volatility */
    {"ATR", "volatility", "Average True Range", IN_HLC, ONE_PARAM(PERIOD(14, 1, 2, 100)),
     REAL_OUT(KZ_SCALE_OTHER), KZ_TA_UNSTABLE, lb_period, IMPL(atr)},
    {"NATR", "volatility", "Normalized Average True Range", IN_HLC,
     ONE_PARAM(PERIOD(14, 1, 2, 100)), REAL_OUT(KZ_SCALE_OTHER), KZ_TA_UNSTABLE, lb_period,
     IMPL(natr)},
    {"TRANGE", "volatility", "True Range", IN_HLC, NO_PARAMS, REAL_OUT(KZ_SCALE_OTHER), 0, lb_one,
     IMPL(trange)},
    /* volume: AD and OBV are cumulative from bar 0, so flagged like the recursive ones */
    {"AD", "volume", "Chaikin A/D Line", IN_HLCV, NO_PARAMS, REAL_OUT(KZ_SCALE_VOLUME),
     KZ_TA_UNSTABLE, lb_zero, IMPL(ad)},
    {"ADOSC",
     "volume",
     "Chaikin A/D Oscillator",
     IN_HLCV,
     2,
     {{"fastperiod", KZ_PARAM_INT, 3, 2, 100000, 2, 50},
      {"slowperiod", KZ_PARAM_INT, 10, 2, 100000, 2, 100}},
     REAL_OUT(KZ_SCALE_VOLUME),
     KZ_TA_UNSTABLE,
     lb_adosc,
     IMPL(adosc)},
    {"OBV",
     "volume",
     "On Balance Volume",
     2,
     {KZ_IN_CLOSE, KZ_IN_VOLUME},
     NO_PARAMS,
     REAL_OUT(KZ_SCALE_VOLUME),
     KZ_TA_UNSTABLE,
     lb_zero,
     IMPL(obv)},
    /* statistic: BETA and CORREL read (high, low) as in the golden files and SPEC 6.4 */
    {"BETA", "statistic", "Beta", IN_HL, ONE_PARAM(PERIOD(5, 1, 2, 100)), REAL_OUT(KZ_SCALE_OTHER),
     0, lb_period, IMPL(beta)},
    {"CORREL", "statistic", "Pearson's Correlation Coefficient (r)", IN_HL,
     ONE_PARAM(PERIOD(30, 1, 2, 100)), REAL_OUT(KZ_SCALE_OTHER), 0, lb_period_m1, IMPL(correl)},
    CLOSE_ROW("LINEARREG",
              linearreg,
              "statistic",
              "Linear Regression",
              PERIOD(14, 2, 2, 100),
              KZ_SCALE_PRICE),
    CLOSE_ROW("LINEARREG_ANGLE",
              linearreg_angle,
              "statistic",
              "Linear Regression Angle",
              PERIOD(14, 2, 2, 100),
              KZ_SCALE_OTHER),
    CLOSE_ROW("LINEARREG_INTERCEPT",
              linearreg_intercept,
              "statistic",
              "Linear Regression Intercept",
              PERIOD(14, 2, 2, 100),
              KZ_SCALE_PRICE),
    CLOSE_ROW("LINEARREG_SLOPE",
              linearreg_slope,
              "statistic",
              "Linear Regression Slope",
              PERIOD(14, 2, 2, 100),
              KZ_SCALE_UNBOUNDED),
    {"STDDEV",
     "statistic",
     "Standard Deviation",
     IN_CLOSE,
     2,
     {PERIOD(5, 2, 2, 100), {"nbdev", KZ_PARAM_REAL, 1, -BIG, BIG, 0.1, 5.0}},
     REAL_OUT(KZ_SCALE_OTHER),
     0,
     lb_period_m1,
     IMPL(stddev)},
    CLOSE_ROW(
        "TSF", tsf, "statistic", "Time Series Forecast", PERIOD(14, 2, 2, 100), KZ_SCALE_PRICE),
    {"VAR",
     "statistic",
     "Variance",
     IN_CLOSE,
     2,
     {PERIOD(5, 1, 2, 100), {"nbdev", KZ_PARAM_REAL, 1, -BIG, BIG, 0.1, 5.0}},
     REAL_OUT(KZ_SCALE_OTHER),
     0,
     lb_period_m1,
     IMPL(var)},
    /* price transforms */
    {"AVGPRICE",
     "price",
     "Average Price",
     4,
     {KZ_IN_OPEN, KZ_IN_HIGH, KZ_IN_LOW, KZ_IN_CLOSE},
     NO_PARAMS,
     REAL_OUT(KZ_SCALE_PRICE),
     0,
     lb_zero,
     IMPL(avgprice)},
    {"MEDPRICE", "price", "Median Price", IN_HL, NO_PARAMS, REAL_OUT(KZ_SCALE_PRICE), 0, lb_zero,
     IMPL(medprice)},
    {"TYPPRICE", "price", "Typical Price", IN_HLC, NO_PARAMS, REAL_OUT(KZ_SCALE_PRICE), 0, lb_zero,
     IMPL(typprice)},
    {"WCLPRICE", "price", "Weighted Close Price", IN_HLC, NO_PARAMS, REAL_OUT(KZ_SCALE_PRICE), 0,
     lb_zero, IMPL(wclprice)},
    /* math operators: the two-input ones read (high, low) as in SPEC 6.4 */
    {"ADD", "math", "Vector Arithmetic Add", IN_HL, NO_PARAMS, REAL_OUT(KZ_SCALE_OTHER), 0, lb_zero,
     IMPL(add)},
    {"DIV", "math", "Vector Arithmetic Div", IN_HL, NO_PARAMS, REAL_OUT(KZ_SCALE_RATIO), 0, lb_zero,
     IMPL(div)},
    CLOSE_ROW("MAX",
              max,
              "math",
              "Highest value over a specified period",
              PERIOD(30, 2, 2, 200),
              KZ_SCALE_PRICE),
    {"MAXINDEX", "math", "Index of highest value over a specified period", IN_CLOSE,
     ONE_PARAM(PERIOD(30, 2, 2, 200)), INT_OUT, 0, lb_period_m1, IMPL(maxindex)},
    CLOSE_ROW("MIN",
              min,
              "math",
              "Lowest value over a specified period",
              PERIOD(30, 2, 2, 200),
              KZ_SCALE_PRICE),
    {"MININDEX", "math", "Index of lowest value over a specified period", IN_CLOSE,
     ONE_PARAM(PERIOD(30, 2, 2, 200)), INT_OUT, 0, lb_period_m1, IMPL(minindex)},
    {"MINMAX",
     "math",
     "Lowest and highest values over a specified period",
     IN_CLOSE,
     ONE_PARAM(PERIOD(30, 2, 2, 200)),
     2,
     {"min", "max"},
     {KZ_SCALE_PRICE, KZ_SCALE_PRICE},
     0,
     lb_period_m1,
     IMPL(minmax)},
    {"MINMAXINDEX",
     "math",
     "Indexes of lowest and highest values over a specified period",
     IN_CLOSE,
     ONE_PARAM(PERIOD(30, 2, 2, 200)),
     2,
     {"minidx", "maxidx"},
     {KZ_SCALE_OTHER, KZ_SCALE_OTHER},
     0,
     lb_period_m1,
     IMPL(minmaxindex)},
    {"MULT", "math", "Vector Arithmetic Mult", IN_HL, NO_PARAMS, REAL_OUT(KZ_SCALE_OTHER), 0,
     lb_zero, IMPL(mult)},
    {"SUB", "math", "Vector Arithmetic Subtraction", IN_HL, NO_PARAMS, REAL_OUT(KZ_SCALE_OTHER), 0,
     lb_zero, IMPL(sub)},
    CLOSE_ROW("SUM", sum, "math", "Summation", PERIOD(30, 2, 2, 200), KZ_SCALE_OTHER),
};

const kz_ta_info *const kz_ta_volatility_table = table;
const size_t kz_ta_volatility_count = sizeof table / sizeof table[0];
