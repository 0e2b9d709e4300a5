/* Golden test of the momentum group against TA-Lib 0.6.4 outputs on BTCUSDT 1h (every momentum
 * file listed in ../shared/golden/talib/README.md). */
#include "ta_golden.h"

typedef struct golden_case {
    const char *file, *name, *params;
} golden_case;

static const golden_case cases[] = {
    {"ADX.csv", "ADX", ""},
    {"ADX_7.csv", "ADX", "timeperiod=7"},
    {"ADX_50.csv", "ADX", "timeperiod=50"},
    {"ADXR.csv", "ADXR", ""},
    {"APO.csv", "APO", ""},
    {"AROON.csv", "AROON", ""},
    {"AROONOSC.csv", "AROONOSC", ""},
    {"BOP.csv", "BOP", ""},
    {"CCI.csv", "CCI", ""},
    {"CCI_7.csv", "CCI", "timeperiod=7"},
    {"CCI_50.csv", "CCI", "timeperiod=50"},
    {"CMO.csv", "CMO", ""},
    {"DX.csv", "DX", ""},
    {"MACD.csv", "MACD", ""},
    {"MACD_5_35_5.csv", "MACD", "fastperiod=5,slowperiod=35,signalperiod=5"},
    {"MACDEXT.csv", "MACDEXT", ""},
    {"MACDFIX.csv", "MACDFIX", ""},
    {"MFI.csv", "MFI", ""},
    {"MINUS_DI.csv", "MINUS_DI", ""},
    {"MINUS_DM.csv", "MINUS_DM", ""},
    {"MOM.csv", "MOM", ""},
    {"PLUS_DI.csv", "PLUS_DI", ""},
    {"PLUS_DM.csv", "PLUS_DM", ""},
    {"PPO.csv", "PPO", ""},
    {"ROC.csv", "ROC", ""},
    {"ROCP.csv", "ROCP", ""},
    {"ROCR.csv", "ROCR", ""},
    {"ROCR100.csv", "ROCR100", ""},
    {"RSI.csv", "RSI", ""},
    {"RSI_7.csv", "RSI", "timeperiod=7"},
    {"RSI_50.csv", "RSI", "timeperiod=50"},
    {"STOCH.csv", "STOCH", ""},
    {"STOCH_14_3_SMA_3_SMA.csv", "STOCH", "fastk_period=14"},
    {"STOCH_14_5_EMA_4_SMA.csv", "STOCH",
     "fastk_period=14,slowk_period=5,slowk_matype=1,slowd_period=4,slowd_matype=0"},
    {"STOCHF.csv", "STOCHF", ""},
    {"STOCHRSI.csv", "STOCHRSI", ""},
    {"TRIX.csv", "TRIX", ""},
    {"ULTOSC.csv", "ULTOSC", ""},
    {"WILLR.csv", "WILLR", ""},
};

int main(void)
{
    golden_bars g;
    golden_load_bars(&g);
    CHECK_EQ_INT(g.n, 3000);
    int bad_files = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const golden_case *c = &cases[i];
        bad_files += golden_check(&g, c->file, c->name, c->params, 1e-9) != 0;
    }
    CHECK_EQ_INT(bad_files, 0);
    golden_free_bars(&g);
    KZ_TEST_DONE();
}
