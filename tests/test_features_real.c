/* Feature engine on real data: the first 3,000 Binance BTCUSDT 1h bars with Binance funding and
 * Hyperliquid open interest against the pandas reference golden (every cell), prefix stability
 * (no look-ahead) at random cut points, and stream == batch. Skips when ../shared is absent. */
#include "kizashi/core.h"

#include "features_golden.h"

enum { N_BARS = 3000, N_PREFIXES = 24 };

/* Rows [0..n) of every column of `part` must be bit-identical to those of `full`. */
static size_t prefix_diff(const kz_frame *part, const kz_frame *full)
{
    size_t n = kz_frame_n_rows(part), diff = 0;
    for (size_t j = 0; j < kz_frame_n_cols(full); j++) {
        const float *a = kz_frame_col(part, j), *b = kz_frame_col(full, j);
        for (size_t i = 0; i < n; i++) {
            if (memcmp(&a[i], &b[i], sizeof(float)) != 0 && !(isnan(a[i]) && isnan(b[i]))) {
                diff++;
            }
        }
    }
    return diff;
}

static void test_prefix_stability(const kz_market *m, const kz_frame *full)
{
    kz_rng rng;
    kz_rng_seed(&rng, 20240601);
    for (int k = 0; k < N_PREFIXES; k++) {
        /* Cut points across the whole span, including the first bars and the MTF buckets. */
        size_t t = k == 0 ? 0 : (size_t)kz_rng_int(&rng, 1, (int64_t)m->bars.n - 2);
        kz_market part = *m; /* shallow: the arrays are only read */
        part.bars.n = t + 1;
        kz_frame *f = NULL;
        CHECK(kz_features_compute(&part, NULL, &f, NULL, NULL) == KZ_OK);
        if (f) {
            CHECK_EQ_INT(kz_frame_n_rows(f), t + 1);
            size_t d = prefix_diff(f, full);
            CHECK_MSG(d == 0, "prefix [0..%zu]: %zu cells differ from the full computation", t, d);
        }
        kz_frame_free(f);
    }
}

int main(void)
{
    const char *dir = "data/funding_the_fall";
    char bars[4096], fr[4096], oi[4096];
    snprintf(bars, sizeof bars, "%s/binance/BTCUSDT-1h.csv", kz_shared_path(dir));
    snprintf(fr, sizeof fr, "%s/binance/BTCUSDT-funding.csv", kz_shared_path(dir));
    snprintf(oi, sizeof oi, "%s/hyperliquid/BTC-open-interest-1h.csv", kz_shared_path(dir));
    FILE *probe = fopen(bars, "r");
    if (!probe) {
        KZ_SKIP("%s not found: the real-data feature test needs ../shared/data", bars);
    }
    fclose(probe);

    kz_market m;
    fg_golden g;
    CHECK(fg_market(bars, fr, oi, KZ_TF_1H, N_BARS, &m));
    CHECK(fg_load(fg_path("btc_1h_3000.csv"), &g));
    CHECK_EQ_INT(m.bars.n, N_BARS);
    CHECK_EQ_INT(g.n_rows, N_BARS);
    CHECK(m.funding != NULL && m.oi != NULL);

    kz_frame *f = NULL;
    kz_feature_report rep;
    CHECK(kz_features_compute(&m, NULL, &f, &rep, NULL) == KZ_OK);
    if (f && g.n_rows == N_BARS) {
        fg_compare("btc_1h_3000", f, &g);
        CHECK_EQ_INT(rep.groups_no_input, 0);
        test_prefix_stability(&m, f);
        fg_check_stream("btc_1h_3000 stream", &m, NULL, f);
    }
    kz_frame_free(f);
    kz_market_free(&m);
    fg_free(&g);
    KZ_TEST_DONE();
}
