/* Internal declarations of the feature engine: the column enum (registry order), the per-bar
 * engine shared by batch and streaming, and the registry helpers. */
#ifndef KZ_FEATURES_INT_H
#define KZ_FEATURES_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kizashi/features.h"

/* Columns of the full set, in registry (= docs/features.md) order. */
enum {
    F_MA_10,
    F_MA_50,
    F_PRICE_MA_RATIO_SHORT,
    F_PRICE_MA_RATIO_LONG,
    F_PRICE_MOMENTUM_14,
    F_HIGH_LOW_POSITION,
    F_PRICE_CHANGE_1,
    F_PRICE_CHANGE_5,
    F_PRICE_CHANGE_20,
    F_PRICE_RANGE,
    F_BODY_SIZE,
    F_UPPER_SHADOW,
    F_LOWER_SHADOW,
    F_PRICE_POSITION,
    F_GAP,
    F_RETURNS,
    F_REALIZED_VOLATILITY_20,
    F_VOLATILITY_SPIKE,
    F_TR,
    F_ATR_20,
    F_ATR_NORMALIZED,
    F_HIGH_VOL_REGIME,
    F_VOL_CHANGE,
    F_VOLUME_MA_20,
    F_VOLUME_RATIO,
    F_PRICE_VOLUME_TREND,
    F_VWAP,
    F_VWAP_DEVIATION,
    F_VOLUME_SPIKE,
    F_VOLUME_TREND,
    F_FR_MA_24,
    F_FR_MA_168,
    F_FR_CHANGE,
    F_FR_CHANGE_RATE,
    F_PRICE_FR_DIVERGENCE,
    F_FR_EXTREME_HIGH,
    F_FR_EXTREME_LOW,
    F_FR_NORMALIZED,
    F_FR_TREND,
    F_FR_VOLATILITY,
    F_OI_CHANGE_RATE,
    F_OI_CHANGE_RATE_24H,
    F_OI_SURGE,
    F_VOLATILITY_ADJUSTED_OI,
    F_OI_MA_24,
    F_OI_MA_168,
    F_OI_TREND,
    F_OI_PRICE_CORRELATION,
    F_OI_NORMALIZED,
    F_FR_OI_RATIO,
    F_MARKET_HEAT_INDEX,
    F_MARKET_STRESS,
    F_MARKET_BALANCE,
    F_TREND_STRENGTH,
    F_RANGE_BOUND_RATIO,
    F_BREAKOUT_STRENGTH,
    F_MARKET_EFFICIENCY,
    F_RSI,
    F_MACD,
    F_MACD_SIGNAL,
    F_MACD_HISTOGRAM,
    F_STOCHASTIC_K,
    F_STOCHASTIC_D,
    F_WILLIAMS_R,
    F_CCI,
    F_ROC,
    F_MOMENTUM,
    F_BEAR_DIVERGENCE,
    F_BULL_DIVERGENCE,
    F_SUPPORT_DISTANCE,
    F_RESISTANCE_DISTANCE,
    F_PIVOT_DISTANCE,
    F_FIB_236_DISTANCE,
    F_FIB_382_DISTANCE,
    F_FIB_500_DISTANCE,
    F_FIB_618_DISTANCE,
    F_FIB_786_DISTANCE,
    F_GAP_UP,
    F_GAP_DOWN,
    F_GAP_SIZE,
    F_HOUR_SIN,
    F_HOUR_COS,
    F_DOW_SIN,
    F_DOW_COS,
    F_RETURNS_4H,
    F_REALIZED_VOLATILITY_20_4H,
    F_RSI_4H,
    F_MACD_HISTOGRAM_4H,
    F_TREND_STRENGTH_4H,
    F_RETURNS_1D,
    F_REALIZED_VOLATILITY_20_1D,
    F_RSI_1D,
    F_MACD_HISTOGRAM_1D,
    F_TREND_STRENGTH_1D,
    F_COUNT
};

/* The per-bar engine: every rolling state of every selected group (engine.c). */
typedef struct fe_engine fe_engine;

/* One closed bar with its as-of FR and OI (NaN = unknown). */
typedef struct fe_bar {
    int64_t ts_ms;
    double o, h, l, c, v, fr, oi;
} fe_bar;

/* Most bars fe_engine_run takes at once (the batch's block length). */
enum { FE_CHUNK = 64 };

/* Instruction-set versions of the engine's vectorised code (fe_engine_run's formula loops,
 * window.c's counting pass): engines use the widest the CPU runs, or the one a test forces. All
 * versions give the same doubles (tested: test_features runs the frame under each). */
typedef enum { FE_ISA_PLAIN, FE_ISA_SSE2, FE_ISA_AVX2, FE_ISA_AVX512 } fe_isa;
/* Whether this build and this CPU run isa. */
int fe_isa_available(fe_isa isa);
/* The version engines created from now on use. */
fe_isa fe_isa_current(void);
/* Tests: engines created from now on use isa (returns 0, changing nothing, if it is not
 * available); fe_isa_auto() goes back to the widest. Not thread-safe: call with no engine being
 * created in another thread. */
int fe_isa_force(fe_isa isa);
void fe_isa_auto(void);

/* p must already be checked. KZ_ERR_NOMEM. */
kz_status fe_engine_new(
    const kz_feature_params *p, kz_timeframe tf, int has_funding, int has_oi, fe_engine **out);
void fe_engine_free(fe_engine *e);
/* Runs n (1..FE_CHUNK) consecutive bars, timestamps already checked to increase: writes the raw
 * (uncleaned, see fe_clean) values of the selected groups' columns, bar r's column j at
 * out[j * stride + r]; the other cells are not touched, so the caller fills them with NaN once.
 * The values do not depend on how the bars are split into calls (engine.c, PHASES), so a batch
 * block and the same bars streamed one by one give the same doubles. */
void fe_engine_run(fe_engine *e, const fe_bar *bars, size_t n, double *out, size_t stride);

/* SPEC §1.7 steps 1-2 without the median fill: ±inf and |x| > 1e10 become NaN (one comparison
 * covers all three: NaN compares false and |inf| > 1e10). */
static inline double fe_clean_wide(double x)
{
    return fabs(x) <= 1e10 ? x : NAN;
}

/* The stored float: fe_clean_wide, then narrowed. The batch's loop over a block column
 * vectorises (a compare, a blend, a narrowing) because src/features is compiled with
 * -fno-trapping-math (CMakeLists.txt): otherwise the narrowing sits on one branch only, a
 * conditional floating-point operation GCC may not speculate, and the loop stays scalar. */
static inline float fe_clean(double x)
{
    return (float)fe_clean_wide(x);
}

/* A frame like kz_frame_new's but with cells and timestamps uninitialised (the caller writes
 * every one); names are copied. KZ_ERR_NOMEM. */
kz_status fe_frame_alloc(size_t n_rows, size_t n_cols, const char *const *names, kz_frame **out);
/* Writable row timestamps. */
int64_t *fe_frame_ts_mut(kz_frame *f);

/* Groups whose input series is absent (see kz_feature_report.groups_no_input). */
unsigned fe_groups_no_input(unsigned groups, int has_funding, int has_oi);

#endif
