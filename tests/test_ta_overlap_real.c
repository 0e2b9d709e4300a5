/* Overlap studies against TA-Lib 0.6.4 golden outputs (../shared/golden/talib, see its README). */
#include "ta_golden.h"

int main(void)
{
    golden_bars g;
    golden_load_bars(&g);
    golden_check(&g, "SMA.csv", "SMA", "", 1e-9);
    golden_check(&g, "SMA_7.csv", "SMA", "timeperiod=7", 1e-9);
    golden_check(&g, "SMA_50.csv", "SMA", "timeperiod=50", 1e-9);
    golden_check(&g, "EMA.csv", "EMA", "", 1e-9);
    golden_check(&g, "EMA_7.csv", "EMA", "timeperiod=7", 1e-9);
    golden_check(&g, "EMA_50.csv", "EMA", "timeperiod=50", 1e-9);
    golden_check(&g, "WMA.csv", "WMA", "", 1e-9);
    golden_check(&g, "DEMA.csv", "DEMA", "", 1e-9);
    golden_check(&g, "TEMA.csv", "TEMA", "", 1e-9);
    golden_check(&g, "TRIMA.csv", "TRIMA", "", 1e-9);
    golden_check(&g, "KAMA.csv", "KAMA", "", 1e-9);
    golden_check(&g, "T3.csv", "T3", "", 1e-9);
    static const char *const ma_types[] = {"SMA",   "EMA",  "WMA",  "DEMA", "TEMA",
                                           "TRIMA", "KAMA", "MAMA", "T3"};
    for (int t = 0; t < 9; t++) {
        char file[64], spec[64];
        snprintf(file, sizeof file, "MA_30_%s.csv", ma_types[t]);
        snprintf(spec, sizeof spec, "timeperiod=30,matype=%d", t);
        golden_check(&g, file, "MA", spec, 1e-9);
    }
    golden_check(&g, "BBANDS.csv", "BBANDS", "", 1e-7);
    golden_check(&g, "BBANDS_50_2.5_2.5_SMA.csv", "BBANDS",
                 "timeperiod=50,nbdevup=2.5,nbdevdn=2.5,matype=0", 1e-7);
    golden_check(&g, "BBANDS_20_2.5_1.5_EMA.csv", "BBANDS",
                 "timeperiod=20,nbdevup=2.5,nbdevdn=1.5,matype=1", 1e-7);
    golden_check(&g, "SAR.csv", "SAR", "", 1e-9);
    golden_check(&g, "MIDPOINT.csv", "MIDPOINT", "", 1e-9);
    golden_check(&g, "MIDPRICE.csv", "MIDPRICE", "", 1e-9);
    golden_free_bars(&g);
    KZ_TEST_DONE();
}
