/* Volatility, volume, statistic, price-transform and math-operator indicators against TA-Lib
 * 0.6.4 golden outputs (../shared/golden/talib, see its README): every golden file of these
 * functions. VAR, STDDEV, CORREL, BETA and the LINEARREG family use stable window sums where
 * TA-Lib drifts, hence 1e-7; everything else is held to 1e-9. */
#include "ta_golden.h"

int main(void)
{
    golden_bars g;
    golden_load_bars(&g);
    /* volatility */
    golden_check(&g, "ATR.csv", "ATR", "", 1e-9);
    golden_check(&g, "ATR_7.csv", "ATR", "timeperiod=7", 1e-9);
    golden_check(&g, "ATR_50.csv", "ATR", "timeperiod=50", 1e-9);
    golden_check(&g, "NATR.csv", "NATR", "", 1e-9);
    golden_check(&g, "TRANGE.csv", "TRANGE", "", 1e-9);
    /* volume */
    golden_check(&g, "OBV.csv", "OBV", "", 1e-9);
    golden_check(&g, "AD.csv", "AD", "", 1e-9);
    golden_check(&g, "ADOSC.csv", "ADOSC", "", 1e-9);
    /* statistic */
    golden_check(&g, "VAR.csv", "VAR", "", 1e-7);
    golden_check(&g, "STDDEV.csv", "STDDEV", "", 1e-7);
    golden_check(&g, "LINEARREG.csv", "LINEARREG", "", 1e-7);
    golden_check(&g, "LINEARREG_SLOPE.csv", "LINEARREG_SLOPE", "", 1e-7);
    golden_check(&g, "LINEARREG_ANGLE.csv", "LINEARREG_ANGLE", "", 1e-7);
    golden_check(&g, "LINEARREG_INTERCEPT.csv", "LINEARREG_INTERCEPT", "", 1e-7);
    golden_check(&g, "TSF.csv", "TSF", "", 1e-7);
    golden_check(&g, "CORREL.csv", "CORREL", "", 1e-7);
    golden_check(&g, "BETA.csv", "BETA", "", 1e-7);
    /* price transforms */
    golden_check(&g, "AVGPRICE.csv", "AVGPRICE", "", 1e-9);
    golden_check(&g, "MEDPRICE.csv", "MEDPRICE", "", 1e-9);
    golden_check(&g, "TYPPRICE.csv", "TYPPRICE", "", 1e-9);
    golden_check(&g, "WCLPRICE.csv", "WCLPRICE", "", 1e-9);
    /* math operators */
    golden_check(&g, "MAX.csv", "MAX", "", 1e-9);
    golden_check(&g, "MIN.csv", "MIN", "", 1e-9);
    golden_check(&g, "SUM.csv", "SUM", "", 1e-9);
    golden_check(&g, "MAXINDEX.csv", "MAXINDEX", "", 0);
    golden_check(&g, "MININDEX.csv", "MININDEX", "", 0);
    golden_free_bars(&g);
    KZ_TEST_DONE();
}
