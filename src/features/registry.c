/* Feature registry (the 94 columns of docs/features.md, in order), group names and parsing,
 * parameters with defaults and checks, and the column selection of a group mask. */
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "features_int.h"

/* Rows in the F_* enum order; formulas in the notation of docs/features.md (SPEC §1.3-1.6). */
static const kz_feature_info FEATURES[F_COUNT] = {
    {"MA_10", KZ_FG_PRICE, "SMA(C,s) (intermediate)", "s", "C"},
    {"MA_50", KZ_FG_PRICE, "SMA(C,l) (intermediate)", "l", "C"},
    {"Price_MA_Ratio_Short", KZ_FG_PRICE, "C / MA_10", "s", "C"},
    {"Price_MA_Ratio_Long", KZ_FG_PRICE, "C / MA_50", "l", "C"},
    {"Price_Momentum_14", KZ_FG_PRICE, "pct(C,m)", "m+1", "C"},
    {"High_Low_Position", KZ_FG_PRICE, "(C-L)/(H-L+1e-8)", "1", "H,L,C"},
    {"Price_Change_1", KZ_FG_PRICE, "pct(C,1)", "2", "C"},
    {"Price_Change_5", KZ_FG_PRICE, "pct(C,5)", "6", "C"},
    {"Price_Change_20", KZ_FG_PRICE, "pct(C,20)", "21", "C"},
    {"Price_Range", KZ_FG_PRICE, "(H-L)/C", "1", "H,L,C"},
    {"Body_Size", KZ_FG_PRICE, "|C-O|/C", "1", "O,C"},
    {"Upper_Shadow", KZ_FG_PRICE, "(H - max(O,C))/C", "1", "O,H,C"},
    {"Lower_Shadow", KZ_FG_PRICE, "(min(O,C) - L)/C", "1", "O,L,C"},
    {"Price_Position", KZ_FG_PRICE,
     "sdiv(C - MIN(C,v), MAX(C,v) - MIN(C,v), 0.5) (close range, warm-up 0.5)", "v", "C"},
    {"Gap", KZ_FG_PRICE, "sdiv(O - C[t-1], C[t-1], 0) (row 0: 0)", "2", "O,C"},
    {"Returns", KZ_FG_VOLATILITY, "pct(C,1) (intermediate)", "2", "C"},
    {"Realized_Volatility_20", KZ_FG_VOLATILITY,
     "STD(r,v)*sqrt(24) (sqrt(24) on every timeframe, as the original)", "v+1", "C"},
    {"Volatility_Spike", KZ_FG_VOLATILITY, "sdiv(RV, SMA(RV,v), 1)", "2v", "C"},
    {"TR", KZ_FG_VOLATILITY, "max(H-L, |H-C[t-1]|, |L-C[t-1]|), NaN on row 0 (intermediate)", "2",
     "H,L,C"},
    {"ATR_20", KZ_FG_VOLATILITY, "SMA(TR,v)", "v+1", "H,L,C"},
    {"ATR_Normalized", KZ_FG_VOLATILITY, "ATR_20 / C", "v+1", "H,L,C"},
    {"High_Vol_Regime", KZ_FG_VOLATILITY, "flag RV > Q(RV, 2v, 0.8)", "3v", "C"},
    {"Vol_Change", KZ_FG_VOLATILITY, "pct(RV,1)", "v+2", "C"},
    {"Volume_MA_20", KZ_FG_VOLUME, "SMA(V,vol) (intermediate)", "vol", "V"},
    {"Volume_Ratio", KZ_FG_VOLUME, "sdiv(V, Volume_MA_20, 1)", "vol", "V"},
    {"Price_Volume_Trend", KZ_FG_VOLUME, "pct(C,1)*pct(V,1)", "2", "C,V"},
    {"VWAP", KZ_FG_VOLUME,
     "sdiv(SUM_vol(TP*V), SUM_vol(V), TP) (warm-up: TP; zero volume: 0) (intermediate)", "vol",
     "H,L,C,V"},
    {"VWAP_Deviation", KZ_FG_VOLUME, "sdiv(C - VWAP, VWAP, 0)", "vol", "H,L,C,V"},
    {"Volume_Spike", KZ_FG_VOLUME, "flag V > Q(V, vol, 0.9)", "vol", "V"},
    {"Volume_Trend", KZ_FG_VOLUME, "sdiv(SMA(V,5), SMA(V,vol), 1)", "vol", "V"},
    {"FR_MA_24", KZ_FG_FUNDING, "SMA(FR,24)", "24", "FR"},
    {"FR_MA_168", KZ_FG_FUNDING, "SMA(FR,168)", "168", "FR"},
    {"FR_Change", KZ_FG_FUNDING, "diff(FR)", "2", "FR"},
    {"FR_Change_Rate", KZ_FG_FUNDING, "pct(FR,1) (previous FR 0 -> +-inf -> NaN)", "2", "FR"},
    {"Price_FR_Divergence", KZ_FG_FUNDING, "r - FR", "2", "C,FR"},
    {"FR_Extreme_High", KZ_FG_FUNDING, "flag FR > Q(FR,168,0.9)", "168", "FR"},
    {"FR_Extreme_Low", KZ_FG_FUNDING, "flag FR < Q(FR,168,0.1)", "168", "FR"},
    {"FR_Normalized", KZ_FG_FUNDING, "snorm(FR,168)", "168", "FR"},
    {"FR_Trend", KZ_FG_FUNDING, "FR_MA_24 - FR_MA_168", "168", "FR"},
    {"FR_Volatility", KZ_FG_FUNDING, "STD(FR,24)", "24", "FR"},
    {"OI_Change_Rate", KZ_FG_OPEN_INTEREST, "pct(OI,1)", "2", "OI"},
    {"OI_Change_Rate_24h", KZ_FG_OPEN_INTEREST, "pct(OI,24)", "25", "OI"},
    {"OI_Surge", KZ_FG_OPEN_INTEREST, "flag OI > Q(OI,168,0.9)", "168", "OI"},
    {"Volatility_Adjusted_OI", KZ_FG_OPEN_INTEREST,
     "sdiv(OI, STD(r,24), OI) (usually > 1e10, hence NaN)", "25", "C,OI"},
    {"OI_MA_24", KZ_FG_OPEN_INTEREST, "SMA(OI,24) (intermediate)", "24", "OI"},
    {"OI_MA_168", KZ_FG_OPEN_INTEREST, "SMA(OI,168) (intermediate)", "168", "OI"},
    {"OI_Trend", KZ_FG_OPEN_INTEREST, "OI_MA_24 / OI_MA_168 - 1", "168", "OI"},
    {"OI_Price_Correlation", KZ_FG_OPEN_INTEREST, "scorr(r, pct(OI,1), 24)", "25", "C,OI"},
    {"OI_Normalized", KZ_FG_OPEN_INTEREST, "snorm(OI,168)", "168", "OI"},
    {"FR_OI_Ratio", KZ_FG_COMPOSITE, "sdiv(FR, OI, 0)", "1", "FR,OI"},
    {"Market_Heat_Index", KZ_FG_COMPOSITE, "FR * pct(OI,1)", "2", "FR,OI"},
    {"Market_Stress", KZ_FG_COMPOSITE, "sqrt(snorm(FR,168)^2 + snorm(OI,168)^2)", "168", "FR,OI"},
    {"Market_Balance", KZ_FG_COMPOSITE, "flag (FR > 0) and (pct(OI,1) > 0)", "2", "FR,OI"},
    {"Trend_Strength", KZ_FG_REGIME, "sdiv(SMA(C,s) - SMA(C,l), SMA(C,l), 0)", "l", "C"},
    {"Range_Bound_Ratio", KZ_FG_REGIME, "sdiv(C - LL_v, HH_v - LL_v, 0.5)", "v", "H,L,C"},
    {"Breakout_Strength", KZ_FG_REGIME,
     "C > HH_v[t-1]: (C - HH_v[t-1])/HH_v[t-1]; elif C < LL_v[t-1]: (LL_v[t-1] - C)/LL_v[t-1]; "
     "else 0 (warm-up 0)",
     "v+1", "H,L,C"},
    {"Market_Efficiency", KZ_FG_REGIME,
     "over the last v returns x0..x(v-1): Pearson corr(x0..x(v-2), x1..x(v-1)) (np.corrcoef); NaN "
     "for a constant window",
     "v+1", "C"},
    {"RSI", KZ_FG_MOMENTUM,
     "gain = SMA(max(dC,0),14), loss = SMA(max(-dC,0),14) with dC[0] counted as 0; rs = sdiv(gain, "
     "loss, 1); 100 - 100/(1+rs) (simple means, warm-up 50)",
     "14", "C"},
    {"MACD", KZ_FG_MOMENTUM, "EWM(C,12) - EWM(C,26)", "all", "C"},
    {"MACD_Signal", KZ_FG_MOMENTUM, "EWM(MACD,9)", "all", "C"},
    {"MACD_Histogram", KZ_FG_MOMENTUM, "MACD - MACD_Signal", "all", "C"},
    {"Stochastic_K", KZ_FG_MOMENTUM, "100*sdiv(C - LL_14, HH_14 - LL_14, 0.5) (warm-up 50)", "14",
     "H,L,C"},
    {"Stochastic_D", KZ_FG_MOMENTUM, "SMA(Stochastic_K,3)", "3", "H,L,C"},
    {"Williams_R", KZ_FG_MOMENTUM, "-100*(HH_14 - C)/(HH_14 - LL_14 + 1e-8)", "14", "H,L,C"},
    {"CCI", KZ_FG_MOMENTUM,
     "(TP - SMA(TP,20)) / (0.015*MAD_20 + 1e-8), MAD = mean|x - mean(x)| over the window", "20",
     "H,L,C"},
    {"ROC", KZ_FG_MOMENTUM, "pct(C,12)*100", "13", "C"},
    {"Momentum", KZ_FG_MOMENTUM, "C / C[t-10]", "11", "C"},
    {"Bear_Divergence", KZ_FG_PATTERN, "flag slope10(C) > 0 and slope10(RSI) < 0", "10", "C"},
    {"Bull_Divergence", KZ_FG_PATTERN, "flag slope10(C) < 0 and slope10(RSI) > 0", "10", "C"},
    {"Support_Distance", KZ_FG_PATTERN, "(C - LL_v)/C", "v", "H,L,C"},
    {"Resistance_Distance", KZ_FG_PATTERN, "(HH_v - C)/C", "v", "H,L,C"},
    {"Pivot_Distance", KZ_FG_PATTERN, "(C - P)/P, P = (H[t-1] + L[t-1] + C[t-1])/3", "2", "H,L,C"},
    {"Fib_236_Distance", KZ_FG_PATTERN, "|C - (LL_v + (HH_v - LL_v)*0.236)|/C", "v", "H,L,C"},
    {"Fib_382_Distance", KZ_FG_PATTERN, "same with 0.382", "v", "H,L,C"},
    {"Fib_500_Distance", KZ_FG_PATTERN, "same with 0.5", "v", "H,L,C"},
    {"Fib_618_Distance", KZ_FG_PATTERN, "same with 0.618", "v", "H,L,C"},
    {"Fib_786_Distance", KZ_FG_PATTERN, "same with 0.786", "v", "H,L,C"},
    {"Gap_Up", KZ_FG_PATTERN, "flag g > 0.01, g = (O - C[t-1])/C[t-1]", "2", "O,C"},
    {"Gap_Down", KZ_FG_PATTERN, "flag g < -0.01", "2", "O,C"},
    {"Gap_Size", KZ_FG_PATTERN, "|g|", "2", "O,C"},
    {"Hour_Sin", KZ_FG_TIME, "sin(2pi*h/24), h = UTC hour of the bar's open time", "1",
     "timestamp"},
    {"Hour_Cos", KZ_FG_TIME, "cos(2pi*h/24)", "1", "timestamp"},
    {"DOW_Sin", KZ_FG_TIME, "sin(2pi*d/7), d = UTC day of week of the open time, Monday = 0", "1",
     "timestamp"},
    {"DOW_Cos", KZ_FG_TIME, "cos(2pi*d/7)", "1", "timestamp"},
    {"Returns_4h", KZ_FG_MTF, "Returns on 4h bars, read from the last closed 4h bar", "2 HTF", "C"},
    {"Realized_Volatility_20_4h", KZ_FG_MTF, "Realized_Volatility_20 on 4h bars", "v+1 HTF", "C"},
    {"RSI_4h", KZ_FG_MTF, "RSI on 4h bars", "14 HTF", "C"},
    {"MACD_Histogram_4h", KZ_FG_MTF, "MACD_Histogram on 4h bars", "all", "C"},
    {"Trend_Strength_4h", KZ_FG_MTF, "Trend_Strength on 4h bars", "l HTF", "C"},
    {"Returns_1d", KZ_FG_MTF, "Returns on 1d bars", "2 HTF", "C"},
    {"Realized_Volatility_20_1d", KZ_FG_MTF, "Realized_Volatility_20 on 1d bars", "v+1 HTF", "C"},
    {"RSI_1d", KZ_FG_MTF, "RSI on 1d bars", "14 HTF", "C"},
    {"MACD_Histogram_1d", KZ_FG_MTF, "MACD_Histogram on 1d bars", "all", "C"},
    {"Trend_Strength_1d", KZ_FG_MTF, "Trend_Strength on 1d bars", "l HTF", "C"},
};

static const char *const GROUP_NAMES[KZ_FG_COUNT] = {
    "price",  "volatility", "volume",  "funding", "open_interest", "composite",
    "regime", "momentum",   "pattern", "time",    "mtf",
};

size_t kz_features_count(void)
{
    return F_COUNT;
}

const kz_feature_info *kz_feature_at(size_t i)
{
    return i < F_COUNT ? &FEATURES[i] : NULL;
}

const char *kz_feature_group_str(kz_feature_group g)
{
    return (unsigned)g < KZ_FG_COUNT ? GROUP_NAMES[g] : "?";
}

kz_status kz_feature_groups_parse(const char *list, unsigned *mask, kz_error *err)
{
    if (!list || !mask) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "groups", "NULL argument");
    }
    unsigned m = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        int found = 0;
        if (len == 3 && strncmp(p, "all", 3) == 0) {
            m |= KZ_FG_ALL;
            found = 1;
        }
        for (unsigned g = 0; g < KZ_FG_COUNT && !found; g++) {
            if (strlen(GROUP_NAMES[g]) == len && strncmp(p, GROUP_NAMES[g], len) == 0) {
                m |= KZ_FG_BIT(g);
                found = 1;
            }
        }
        if (!found) {
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "groups",
                                "unknown feature group '%.*s' (expected all or %s)",
                                (int)(len > 64 ? 64 : len), p,
                                "price,volatility,volume,funding,open_interest,composite,regime,"
                                "momentum,pattern,time,mtf");
        }
        if (p[len] == '\0') {
            break;
        }
        p += len + 1;
    }
    *mask = m;
    return KZ_OK;
}

char *kz_feature_groups_format(unsigned mask, char *buf, size_t size)
{
    if (!buf || size == 0) {
        return buf;
    }
    buf[0] = '\0';
    size_t used = 0;
    for (unsigned g = 0; g < KZ_FG_COUNT; g++) {
        if (mask & KZ_FG_BIT(g)) {
            int k = snprintf(buf + used, size - used, "%s%s", used ? "," : "", GROUP_NAMES[g]);
            if (k < 0 || (size_t)k >= size - used) {
                break;
            }
            used += (size_t)k;
        }
    }
    return buf;
}

kz_feature_params kz_feature_params_default(void)
{
    kz_feature_params p;
    p.short_ma = 10;
    p.long_ma = 50;
    p.volatility = 20;
    p.momentum = 14;
    p.volume = 20;
    p.groups = KZ_FG_ALL;
    return p;
}

/* Upper bound of every lookback: keeps the rolling windows' memory and O(w) quantile updates
 * bounded while allowing any realistic window. */
enum { MAX_LOOKBACK = 10000 };

static int lookback_ok(const char *name, int v, int lo, kz_error *err)
{
    if (v >= lo && v <= MAX_LOOKBACK) {
        return 1;
    }
    kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, name, "%s = %d is outside %d..%d", name, v, lo,
                 (int)MAX_LOOKBACK);
    return 0;
}

kz_status kz_feature_params_check(const kz_feature_params *p, kz_error *err)
{
    if (!p) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "params", "NULL params");
    }
    /* volatility >= 3: Market_Efficiency correlates v-1 >= 2 pairs and STD needs ddof < v. */
    if (!lookback_ok("short_ma", p->short_ma, 1, err) ||
        !lookback_ok("long_ma", p->long_ma, 1, err) ||
        !lookback_ok("volatility", p->volatility, 3, err) ||
        !lookback_ok("momentum", p->momentum, 1, err) ||
        !lookback_ok("volume", p->volume, 1, err)) {
        return KZ_ERR_INVALID;
    }
    if (p->groups == 0 || (p->groups & ~KZ_FG_ALL) != 0) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "groups",
                            "groups must be a non-empty mask of KZ_FG_BIT() values");
    }
    return KZ_OK;
}

size_t kz_features_n_cols(const kz_feature_params *p)
{
    size_t n = 0;
    for (size_t i = 0; i < F_COUNT; i++) {
        n += (p->groups & KZ_FG_BIT(FEATURES[i].group)) != 0;
    }
    return n;
}

size_t kz_features_col_index(const kz_feature_params *p, size_t j)
{
    for (size_t i = 0; i < F_COUNT; i++) {
        if ((p->groups & KZ_FG_BIT(FEATURES[i].group)) && j-- == 0) {
            return i;
        }
    }
    return KZ_FRAME_NPOS;
}

unsigned fe_groups_no_input(unsigned groups, int has_funding, int has_oi)
{
    unsigned m = 0;
    if (!has_funding) {
        m |= KZ_FG_BIT(KZ_FG_FUNDING) | KZ_FG_BIT(KZ_FG_COMPOSITE);
    }
    if (!has_oi) {
        m |= KZ_FG_BIT(KZ_FG_OPEN_INTEREST) | KZ_FG_BIT(KZ_FG_COMPOSITE);
    }
    return m & groups;
}
