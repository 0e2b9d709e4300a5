/* ML indicator facade on real data: Binance BTCUSDT 1h with Binance funding and Hyperliquid open
 * interest (../shared/data/funding_the_fall). A small model, then signals over the whole range:
 * no fallback, every row a valid distribution, equal to kz_model_predict on the feature frame,
 * and the stream equal to the batch over the last bars. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/signals.h"

#include "kz_realdata.h"

int main(void)
{
    kz_market m;
    kz_real_btc_market(&m);
    size_t n = m.bars.n;
    CHECK_EQ_INT(n, 8736);

    kz_train_params p = kz_train_params_default();
    p.booster.num_boost_round = 20;
    p.booster.early_stopping = 0;
    p.booster.num_threads = 1;
    p.booster.max_bin = 32;
    p.booster.num_leaves = 8;
    kz_model *model = kz_real_train(&m, &p);
    if (!model) {
        kz_market_free(&m);
        KZ_TEST_DONE();
    }

    /* The reference: the model's own prediction on its feature frame. */
    kz_frame *f = NULL, *x = NULL;
    double *ref = kz_malloc_array(n, 3 * sizeof *ref);
    double *col = kz_malloc_array(n, 3 * sizeof *col);
    CHECK(kz_features_compute(&m, kz_model_feature_params(model), &f, NULL, NULL) == KZ_OK);
    CHECK(kz_model_select_features(f, &m, 0, &x, NULL) == KZ_OK);
    CHECK(x && kz_model_predict(model, x, ref, NULL) == KZ_OK);

    kz_signals *sig = NULL;
    CHECK(kz_signals_new(model, NULL, &sig, NULL) == KZ_OK);
    kz_signal_report rep;
    CHECK(kz_signals_compute(sig, &m, col, col + n, col + 2 * n, &rep) == KZ_OK);
    CHECK_EQ_INT(rep.fallback, 0);
    CHECK_EQ_INT(rep.n_bars, n);
    CHECK_EQ_INT(rep.n_fallback, 0);
    CHECK_EQ_INT(rep.priors_known, 1);
    size_t valid = 0, equal = 0, nan = 0;
    double max_dev = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double t[3] = {col[i], col[n + i], col[2 * n + i]};
        valid += (size_t)kz_signal_probs_valid(t);
        nan += (size_t)(isnan(t[0]) || isnan(t[1]) || isnan(t[2]));
        max_dev = fmax(max_dev, fabs(t[0] + t[1] + t[2] - 1.0));
        equal += (size_t)(memcmp(t, ref + 3 * i, sizeof t) == 0);
    }
    CHECK_EQ_INT(valid, n);
    CHECK_EQ_INT(nan, 0);
    CHECK(max_dev <= 1e-6);
    CHECK_EQ_INT(equal, n);
    /* Warm-up rows (MA_50, OI_MA_168, ...) are still the model's predictions, not fallbacks. */
    size_t jw = kz_frame_find(f, "OI_MA_168");
    CHECK(jw != KZ_FRAME_NPOS && isnan(kz_frame_col(f, jw)[0]));
    printf("BTCUSDT 1h: %zu bars, mean P(down/range/up) = ", n);
    for (int c = 0; c < 3; c++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) {
            s += col[(size_t)c * n + i];
        }
        printf("%.4f%s", s / (double)n, c < 2 ? " / " : "");
    }
    printf(", max |sum - 1| = %.2g\n", max_dev);

    /* Streaming over every bar equals the batch bit for bit (checked on the last 500). */
    kz_signal_stream *st = NULL;
    CHECK(kz_signal_stream_new(sig, KZ_TF_1H, 1, 1, &st, NULL) == KZ_OK);
    size_t same = 0;
    for (size_t i = 0; st && i < n; i++) {
        double pr[3];
        const kz_bars *b = &m.bars;
        CHECK(kz_signal_stream_push(st, b->ts_ms[i], b->open[i], b->high[i], b->low[i], b->close[i],
                                    b->volume[i], m.funding[i], m.oi[i], pr, NULL) == KZ_OK);
        if (i + 500 >= n) {
            same += (size_t)(memcmp(pr, ref + 3 * i, sizeof pr) == 0);
        }
    }
    CHECK_EQ_INT(same, 500);
    kz_signal_stream_free(st);
    kz_signals_free(sig);
    kz_frame_free(f);
    kz_frame_free(x);
    kz_free(ref);
    kz_free(col);
    kz_model_free(model);
    kz_market_free(&m);
    KZ_TEST_DONE();
}
