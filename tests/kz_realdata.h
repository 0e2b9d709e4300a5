/* Real-data test helper: the Binance BTCUSDT 1h market with Binance funding and Hyperliquid open
 * interest from ../shared/data/funding_the_fall (see its README), as the realdata tests use it. */
#ifndef KZ_REALDATA_H
#define KZ_REALDATA_H

#include <stdio.h>
#include <string.h>

#include "kizashi/market.h"
#include "kizashi/model.h"

#include "kz_test.h"

/* 1 = loaded, 0 = the bars file is absent, -1 = present but reading or building failed. The
 * open interest is added when with_oi (as-of values at most oi_age_ms old; 0 = any age). */
static inline int kz_real_btc_load_with(kz_market *m, int with_oi, int64_t oi_age_ms)
{
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    kz_read_opts o = kz_read_opts_default();
    char bars_p[4096], fr_p[4096], oi_p[4096];
    snprintf(bars_p, sizeof bars_p, "%s",
             kz_shared_path("data/funding_the_fall/binance/BTCUSDT-1h.csv"));
    snprintf(fr_p, sizeof fr_p, "%s",
             kz_shared_path("data/funding_the_fall/binance/BTCUSDT-funding.csv"));
    snprintf(oi_p, sizeof oi_p, "%s",
             kz_shared_path("data/funding_the_fall/hyperliquid/BTC-open-interest-1h.csv"));
    FILE *f = fopen(bars_p, "r");
    if (!f) {
        return 0;
    }
    fclose(f);
    int ok = kz_bars_read_file(bars_p, &o, &b, NULL, NULL) == KZ_OK &&
             kz_series_read_file(fr_p, KZ_DATA_FUNDING, &o, &fr, NULL, NULL) == KZ_OK &&
             (!with_oi || kz_series_read_file(oi_p, KZ_DATA_OI, &o, &oi, NULL, NULL) == KZ_OK) &&
             kz_market_build("binance", "BTCUSDT", KZ_TF_1H, &b, &fr, with_oi ? &oi : NULL,
                             9 * 3600000LL, oi_age_ms, m) == KZ_OK;
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
    return ok ? 1 : -1;
}

/* Load the market into *m (zeroed first) as kz_real_btc_load_with, skipping the test when the
 * data is absent; a failed load is a failed check. Returns whether the market loaded. */
static inline int kz_real_btc_market_with(kz_market *m, int with_oi, int64_t oi_age_ms)
{
    memset(m, 0, sizeof *m);
    int got = kz_real_btc_load_with(m, with_oi, oi_age_ms);
    if (got == 0) {
        KZ_SKIP("%s is absent", kz_shared_path("data/funding_the_fall"));
    }
    CHECK(got == 1);
    return got == 1;
}

/* The market with funding and open interest of any age. */
static inline int kz_real_btc_market(kz_market *m)
{
    return kz_real_btc_market_with(m, 1, 0);
}

/* Train on m (a check), printing the error when it fails; NULL then. */
static inline kz_model *kz_real_train(const kz_market *m, const kz_train_params *p)
{
    kz_model *model = NULL;
    kz_error err;
    CHECK(kz_model_train(m, p, &model, &err) == KZ_OK);
    if (!model) {
        fprintf(stderr, "train: %s\n", err.msg);
    }
    return model;
}

#endif
