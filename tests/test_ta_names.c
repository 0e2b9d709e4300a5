/* The registry holds every indicator the project requires (the list); prints the missing.
 */
#include "kizashi/kizashi.h"

#include "kz_test.h"

static const char *const required[] = {"SMA",
                                       "EMA",
                                       "WMA",
                                       "DEMA",
                                       "TEMA",
                                       "TRIMA",
                                       "KAMA",
                                       "T3",
                                       "MA",
                                       "BBANDS",
                                       "SAR",
                                       "MIDPOINT",
                                       "MIDPRICE",
                                       "HT_TRENDLINE",
                                       "RSI",
                                       "MACD",
                                       "MACDEXT",
                                       "MACDFIX",
                                       "STOCH",
                                       "STOCHF",
                                       "STOCHRSI",
                                       "CCI",
                                       "ADX",
                                       "ADXR",
                                       "DX",
                                       "PLUS_DI",
                                       "MINUS_DI",
                                       "PLUS_DM",
                                       "MINUS_DM",
                                       "MFI",
                                       "WILLR",
                                       "AROON",
                                       "AROONOSC",
                                       "APO",
                                       "PPO",
                                       "ROC",
                                       "ROCP",
                                       "ROCR",
                                       "ROCR100",
                                       "MOM",
                                       "TRIX",
                                       "ULTOSC",
                                       "BOP",
                                       "CMO",
                                       "ATR",
                                       "NATR",
                                       "TRANGE",
                                       "STDDEV",
                                       "VAR",
                                       "OBV",
                                       "AD",
                                       "ADOSC",
                                       "LINEARREG",
                                       "LINEARREG_SLOPE",
                                       "LINEARREG_ANGLE",
                                       "LINEARREG_INTERCEPT",
                                       "TSF",
                                       "CORREL",
                                       "BETA",
                                       "AVGPRICE",
                                       "MEDPRICE",
                                       "TYPPRICE",
                                       "WCLPRICE",
                                       "HT_DCPERIOD",
                                       "HT_DCPHASE",
                                       "HT_PHASOR",
                                       "HT_SINE",
                                       "HT_TRENDMODE",
                                       "MAX",
                                       "MIN",
                                       "SUM",
                                       "CDLDOJI",
                                       "CDLHAMMER",
                                       "CDLHANGINGMAN",
                                       "CDLSHOOTINGSTAR",
                                       "CDLENGULFING",
                                       "CDLHARAMI",
                                       "CDLPIERCING",
                                       "CDL3BLACKCROWS",
                                       "CDL3WHITESOLDIERS",
                                       "CDLDARKCLOUDCOVER",
                                       "CDLMORNINGSTAR",
                                       "CDLEVENINGSTAR"};

int main(void)
{
    size_t n = sizeof required / sizeof required[0];
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) {
        const kz_ta_info *info = kz_ta_find(required[i]);
        if (!info) {
            printf("missing: %s\n", required[i]);
            missing++;
        } else {
            CHECK_MSG(strcmp(info->name, required[i]) == 0, "%s registered as %s", required[i],
                      info->name);
        }
    }
    printf("%zu of %zu required indicators registered (%zu in the registry)\n", n - missing, n,
           kz_ta_count());
    CHECK_MSG(missing == 0, "%zu required indicators are missing", missing);
    KZ_TEST_DONE();
}
