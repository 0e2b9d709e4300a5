/* Registry table of the momentum group (TA-Lib 0.6.4 names, parameters, defaults and ranges);
 * the kernels live in momentum_wilder.c, momentum_osc.c and momentum_ma.c. */
#include "momentum_int.h"

/* A table reads best one indicator per block; clang-format would split every initializer. */
/* clang-format off */

/* TA-Lib's integer range is 1 or 2 .. 100000; the search range follows SPEC 6.4. */
#define PERIOD(NAME, DEF, MIN, SMIN, SMAX) {NAME, KZ_PARAM_INT, DEF, MIN, 100000, SMIN, SMAX}
#define MATYPE(NAME) {NAME, KZ_PARAM_MATYPE, 0, 0, 8, 0, 8}
#define P_TIME(DEF, MIN, SMIN, SMAX) 1, {PERIOD("timeperiod", DEF, MIN, SMIN, SMAX)}

#define IN_C 1, {KZ_IN_CLOSE}
#define IN_HL 2, {KZ_IN_HIGH, KZ_IN_LOW}
#define IN_HLC 3, {KZ_IN_HIGH, KZ_IN_LOW, KZ_IN_CLOSE}
#define IN_HLCV 4, {KZ_IN_HIGH, KZ_IN_LOW, KZ_IN_CLOSE, KZ_IN_VOLUME}
#define IN_OHLC 4, {KZ_IN_OPEN, KZ_IN_HIGH, KZ_IN_LOW, KZ_IN_CLOSE}

#define OUT_REAL(SCALE) 1, {"real"}, {SCALE}
#define OUT_MACD 3, {"macd", "macdsignal", "macdhist"}, \
    {KZ_SCALE_UNBOUNDED, KZ_SCALE_UNBOUNDED, KZ_SCALE_UNBOUNDED}
#define OUT_2(A, B) 2, {A, B}, {KZ_SCALE_0_100, KZ_SCALE_0_100}

/* Every momentum indicator has an O(1) streaming state; batch runs the same state. */
#define FNS(FN) .lookback = FN##_lookback, .batch = FN##_batch, .work_size = FN##_work, \
    .state_size = FN##_state_size, .state_init = FN##_state_init, .state_step = FN##_state_step

#define U KZ_TA_UNSTABLE

/* U marks TA-Lib's unstable-period functions and everything built on an EMA or on a selectable
 * MA type (which may be recursive). Sorted by name. */
static const kz_ta_info table[] = {
    {"ADX", "momentum", "Average Directional Movement Index",
     IN_HLC, P_TIME(14, 2, 2, 100), OUT_REAL(KZ_SCALE_0_100), U, FNS(kz_mom_adx)},
    {"ADXR", "momentum", "Average Directional Movement Index Rating",
     IN_HLC, P_TIME(14, 2, 2, 100), OUT_REAL(KZ_SCALE_0_100), U, FNS(kz_mom_adxr)},
    {"APO", "momentum", "Absolute Price Oscillator",
     IN_C, 3, {PERIOD("fastperiod", 12, 2, 2, 100), PERIOD("slowperiod", 26, 2, 2, 200),
               MATYPE("matype")},
     OUT_REAL(KZ_SCALE_UNBOUNDED), U, FNS(kz_mom_apo)},
    {"AROON", "momentum", "Aroon",
     IN_HL, P_TIME(14, 2, 2, 100), OUT_2("aroondown", "aroonup"), 0, FNS(kz_mom_aroon)},
    {"AROONOSC", "momentum", "Aroon Oscillator",
     IN_HL, P_TIME(14, 2, 2, 100), OUT_REAL(KZ_SCALE_PM100), 0, FNS(kz_mom_aroonosc)},
    /* BOP is bounded -1..1 and zero-centred. */
    {"BOP", "momentum", "Balance Of Power",
     IN_OHLC, 0, {{0}}, OUT_REAL(KZ_SCALE_UNBOUNDED), 0, FNS(kz_mom_bop)},
    {"CCI", "momentum", "Commodity Channel Index",
     IN_HLC, P_TIME(14, 2, 5, 50), OUT_REAL(KZ_SCALE_UNBOUNDED), 0, FNS(kz_mom_cci)},
    {"CMO", "momentum", "Chande Momentum Oscillator",
     IN_C, P_TIME(14, 2, 2, 100), OUT_REAL(KZ_SCALE_PM100), U, FNS(kz_mom_cmo)},
    {"DX", "momentum", "Directional Movement Index",
     IN_HLC, P_TIME(14, 2, 2, 100), OUT_REAL(KZ_SCALE_0_100), U, FNS(kz_mom_dx)},
    {"MACD", "momentum", "Moving Average Convergence/Divergence",
     IN_C, 3, {PERIOD("fastperiod", 12, 2, 2, 50), PERIOD("slowperiod", 26, 2, 10, 100),
               PERIOD("signalperiod", 9, 1, 2, 50)},
     OUT_MACD, U, FNS(kz_mom_macd)},
    {"MACDEXT", "momentum", "MACD with controllable MA type",
     IN_C, 6, {PERIOD("fastperiod", 12, 2, 2, 50), MATYPE("fastmatype"),
               PERIOD("slowperiod", 26, 2, 10, 100), MATYPE("slowmatype"),
               PERIOD("signalperiod", 9, 1, 2, 50), MATYPE("signalmatype")},
     OUT_MACD, U, FNS(kz_mom_macdext)},
    {"MACDFIX", "momentum", "Moving Average Convergence/Divergence Fix 12/26",
     IN_C, 1, {PERIOD("signalperiod", 9, 1, 2, 50)}, OUT_MACD, U, FNS(kz_mom_macdfix)},
    {"MFI", "momentum", "Money Flow Index",
     IN_HLCV, P_TIME(14, 2, 2, 100), OUT_REAL(KZ_SCALE_0_100), U, FNS(kz_mom_mfi)},
    {"MINUS_DI", "momentum", "Minus Directional Indicator",
     IN_HLC, P_TIME(14, 1, 2, 100), OUT_REAL(KZ_SCALE_0_100), U, FNS(kz_mom_minus_di)},
    /* A Wilder sum of price moves: price-difference scale, not a price level. */
    {"MINUS_DM", "momentum", "Minus Directional Movement",
     IN_HL, P_TIME(14, 1, 2, 100), OUT_REAL(KZ_SCALE_OTHER), U, FNS(kz_mom_minus_dm)},
    {"MOM", "momentum", "Momentum",
     IN_C, P_TIME(10, 1, 1, 100), OUT_REAL(KZ_SCALE_UNBOUNDED), 0, FNS(kz_mom_mom)},
    {"PLUS_DI", "momentum", "Plus Directional Indicator",
     IN_HLC, P_TIME(14, 1, 2, 100), OUT_REAL(KZ_SCALE_0_100), U, FNS(kz_mom_plus_di)},
    {"PLUS_DM", "momentum", "Plus Directional Movement",
     IN_HL, P_TIME(14, 1, 2, 100), OUT_REAL(KZ_SCALE_OTHER), U, FNS(kz_mom_plus_dm)},
    {"PPO", "momentum", "Percentage Price Oscillator",
     IN_C, 3, {PERIOD("fastperiod", 12, 2, 2, 100), PERIOD("slowperiod", 26, 2, 2, 200),
               MATYPE("matype")},
     OUT_REAL(KZ_SCALE_UNBOUNDED), U, FNS(kz_mom_ppo)},
    {"ROC", "momentum", "Rate of change : ((price/prevPrice)-1)*100",
     IN_C, P_TIME(10, 1, 1, 100), OUT_REAL(KZ_SCALE_UNBOUNDED), 0, FNS(kz_mom_roc)},
    {"ROCP", "momentum", "Rate of change Percentage: (price-prevPrice)/prevPrice",
     IN_C, P_TIME(10, 1, 1, 100), OUT_REAL(KZ_SCALE_UNBOUNDED), 0, FNS(kz_mom_rocp)},
    {"ROCR", "momentum", "Rate of change ratio: (price/prevPrice)",
     IN_C, P_TIME(10, 1, 1, 100), OUT_REAL(KZ_SCALE_RATIO), 0, FNS(kz_mom_rocr)},
    {"ROCR100", "momentum", "Rate of change ratio 100 scale: (price/prevPrice)*100",
     IN_C, P_TIME(10, 1, 1, 100), OUT_REAL(KZ_SCALE_RATIO), 0, FNS(kz_mom_rocr100)},
    {"RSI", "momentum", "Relative Strength Index",
     IN_C, P_TIME(14, 2, 2, 100), OUT_REAL(KZ_SCALE_0_100), U, FNS(kz_mom_rsi)},
    {"STOCH", "momentum", "Stochastic",
     IN_HLC, 5, {PERIOD("fastk_period", 5, 1, 1, 30), PERIOD("slowk_period", 3, 1, 1, 10),
                 MATYPE("slowk_matype"), PERIOD("slowd_period", 3, 1, 1, 10),
                 MATYPE("slowd_matype")},
     OUT_2("slowk", "slowd"), U, FNS(kz_mom_stoch)},
    {"STOCHF", "momentum", "Stochastic Fast",
     IN_HLC, 3, {PERIOD("fastk_period", 5, 1, 1, 100), PERIOD("fastd_period", 3, 1, 1, 100),
                 MATYPE("fastd_matype")},
     OUT_2("fastk", "fastd"), U, FNS(kz_mom_stochf)},
    {"STOCHRSI", "momentum", "Stochastic Relative Strength Index",
     IN_C, 4, {PERIOD("timeperiod", 14, 2, 2, 100), PERIOD("fastk_period", 5, 1, 1, 30),
               PERIOD("fastd_period", 3, 1, 1, 10), MATYPE("fastd_matype")},
     OUT_2("fastk", "fastd"), U, FNS(kz_mom_stochrsi)},
    {"TRIX", "momentum", "1-day Rate-Of-Change (ROC) of a Triple Smooth EMA",
     IN_C, P_TIME(30, 1, 1, 100), OUT_REAL(KZ_SCALE_UNBOUNDED), U, FNS(kz_mom_trix)},
    {"ULTOSC", "momentum", "Ultimate Oscillator",
     IN_HLC, 3, {PERIOD("timeperiod1", 7, 1, 1, 100), PERIOD("timeperiod2", 14, 1, 1, 100),
                 PERIOD("timeperiod3", 28, 1, 1, 100)},
     OUT_REAL(KZ_SCALE_0_100), 0, FNS(kz_mom_ultosc)},
    {"WILLR", "momentum", "Williams' %R",
     IN_HLC, P_TIME(14, 2, 2, 100), OUT_REAL(KZ_SCALE_PM100), 0, FNS(kz_mom_willr)},
};

/* clang-format on */

const kz_ta_info *const kz_ta_momentum_table = table;
const size_t kz_ta_momentum_count = sizeof table / sizeof table[0];
