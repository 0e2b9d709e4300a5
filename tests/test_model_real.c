/* Real-data training: Binance BTCUSDT 1h with Binance funding and Hyperliquid open interest
 * (../shared/data/funding_the_fall). Asserts the metrics lie in plausible ranges, prints them next
 * to the baselines, and checks the streaming path (feature state + predict_row, our tree evaluator)
 * against batch (XGBoost) bit for bit, on every row, before and after a save/load round trip. */
#include <math.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/model.h"

#include "kz_realdata.h"

/* Rows of X whose kz_model_predict_row result differs in any bit from prob (n x 3). */
static size_t rows_differing(kz_model *model, const kz_frame *X, const double *prob)
{
    size_t n = kz_frame_n_rows(X), p = kz_frame_n_cols(X), differ = 0;
    float *row = kz_malloc_array(p, sizeof *row);
    for (size_t i = 0; row && i < n; i++) {
        double pr[3];
        for (size_t j = 0; j < p; j++) {
            row[j] = kz_frame_col(X, j)[i];
        }
        differ += kz_model_predict_row(model, row, p, pr, NULL) != KZ_OK ||
                  memcmp(pr, prob + 3 * i, sizeof pr) != 0;
    }
    kz_free(row);
    return row ? differ : n;
}

int main(void)
{
    kz_market m;
    kz_real_btc_market(&m);
    CHECK_EQ_INT(m.bars.n, 8736);

    kz_train_params p = kz_train_params_default();
    p.booster.num_boost_round = 200;
    p.booster.num_threads = 1;
    p.booster.max_bin = 63; /* keeps the test fast; the CLI default is 255 */
    kz_model *model = kz_real_train(&m, &p);
    if (!model) {
        kz_market_free(&m);
        KZ_TEST_DONE();
    }
    kz_error err;
    const kz_metrics *mt = kz_model_metrics(model);
    const kz_label_report *lr = kz_model_label_report(model);
    printf("BTCUSDT 1h, h=24, +-2%%: %zu labelled (down %.3f range %.3f up %.3f), %zu features, "
           "best iteration %d, valid mlogloss %.4f, %.1f s\n",
           lr->n_labelled, lr->shares[0], lr->shares[1], lr->shares[2], kz_model_n_features(model),
           kz_model_n_rounds(model) - 1, kz_model_valid_loss(model), kz_model_train_seconds(model));
    printf("test (%zu rows)      model   baseline\n", mt->n);
    printf("accuracy           %.4f   %.4f\n", mt->accuracy, mt->baseline_accuracy);
    printf("balanced accuracy  %.4f   %.4f\n", mt->balanced_accuracy,
           mt->baseline_balanced_accuracy);
    printf("macro F1           %.4f   %.4f\n", mt->macro_f1, mt->baseline_macro_f1);
    printf("mlogloss           %.4f   %.4f\n", mt->mlogloss, mt->baseline_mlogloss);

    /* 8736 bars - 24 unlabelled, split 70/15/15 after two 24-bar gaps. */
    CHECK_EQ_INT(lr->n_labelled, 8712);
    CHECK(mt->n > 1250 && mt->n < 1350);
    CHECK(lr->shares[1] > 0.5 && lr->shares[1] < 0.9);
    CHECK(mt->accuracy > 0.3 && mt->accuracy < 0.9);
    CHECK(mt->balanced_accuracy > 0.25 && mt->balanced_accuracy < 0.8);
    CHECK(mt->mlogloss > 0.5 && mt->mlogloss < 1.5);
    CHECK(mt->baseline_mlogloss > 0.7 && mt->baseline_mlogloss < 1.2);
    CHECK(kz_model_n_rounds(model) >= 1 && kz_model_n_rounds(model) <= 200);
    CHECK(kz_model_valid_loss(model) < 1.1);

    /* Streaming: push every bar through a feature state; the last row's prediction equals the
     * batch prediction of the last row. */
    kz_feature_state *st = NULL;
    CHECK(kz_feature_state_new(kz_model_feature_params(model), KZ_TF_1H, 1, 1, &st, NULL) == KZ_OK);
    kz_frame *full = NULL, *X = NULL;
    CHECK(kz_features_compute(&m, kz_model_feature_params(model), &full, NULL, NULL) == KZ_OK);
    CHECK(kz_model_select_features(full, &m, 0, &X, NULL) == KZ_OK);
    if (st && full && X) {
        size_t nc = kz_feature_state_n_cols(st), p_model = kz_model_n_features(model);
        const char **names = kz_malloc_array(nc, sizeof *names);
        size_t *map = kz_malloc_array(p_model, sizeof *map);
        float *row = kz_malloc_array(nc, sizeof *row), *xr = kz_malloc_array(p_model, sizeof *xr);
        double *prob = kz_malloc_array(m.bars.n * 3, sizeof *prob);
        for (size_t j = 0; j < nc; j++) {
            names[j] = kz_frame_name(full, j);
        }
        CHECK(kz_model_map_columns(model, names, nc, map, &err) == KZ_OK);
        CHECK(kz_model_predict(model, X, prob, &err) == KZ_OK);
        size_t differ = 0;
        for (size_t i = 0; i < m.bars.n; i++) {
            const kz_bars *b = &m.bars;
            CHECK(kz_feature_state_push(st, b->ts_ms[i], b->open[i], b->high[i], b->low[i],
                                        b->close[i], b->volume[i], m.funding[i], m.oi[i],
                                        row) == KZ_OK);
            if (i + 50 >= m.bars.n) {
                double pr[3];
                for (size_t j = 0; j < p_model; j++) {
                    xr[j] = row[map[j]];
                }
                CHECK(kz_model_predict_row(model, xr, p_model, pr, NULL) == KZ_OK);
                differ += memcmp(pr, prob + 3 * i, sizeof pr) != 0;
            }
        }
        CHECK_EQ_INT(differ, 0);
        /* Every row of the frame: our evaluator (predict_row) == XGBoost (predict), bit for bit,
         * on the trained model and on the model read back from its file. */
        uint8_t *buf = NULL;
        size_t len = 0;
        kz_model *back = NULL;
        CHECK(kz_model_save_mem(model, &buf, &len, &err) == KZ_OK);
        CHECK(kz_model_load_mem(buf, len, &back, &err) == KZ_OK);
        CHECK_EQ_INT(rows_differing(model, X, prob), 0);
        if (back) {
            double *prob2 = kz_malloc_array(m.bars.n * 3, sizeof *prob2);
            CHECK(kz_model_predict(back, X, prob2, &err) == KZ_OK);
            CHECK(memcmp(prob, prob2, m.bars.n * 3 * sizeof *prob) == 0);
            CHECK_EQ_INT(rows_differing(back, X, prob2), 0);
            kz_free(prob2);
        }
        kz_model_free(back);
        kz_free(buf);
        kz_free(names);
        kz_free(map);
        kz_free(row);
        kz_free(xr);
        kz_free(prob);
    }
    kz_feature_state_free(st);
    kz_frame_free(full);
    kz_frame_free(X);
    kz_model_free(model);
    kz_market_free(&m);
    KZ_TEST_DONE();
}
