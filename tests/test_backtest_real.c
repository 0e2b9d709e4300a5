/* Backtester on real data (Binance BTCUSDT 1h with Binance funding): fast == reference on
 * thousands of random strategies (every metric to 1e-9), and a held-throughout long checked
 * against a hand-written sum of its funding payments. */
#include <math.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/strategy.h"

#include "kz_realdata.h"
#include "kz_test.h"
#include "test_backtest_gen.h"

/* Long from bar 1's open to the last close: the final equity written out by hand. */
static void test_buy_and_hold_with_funding(const kz_market *m, kz_colset *cs)
{
    kz_strategy s = kz_strategy_default();
    s.long_entry.n_conds = 1;
    snprintf(s.long_entry.conds[0].left, KZ_COL_NAME_MAX, "close");
    s.long_entry.conds[0].op = KZ_OP_GT;
    s.long_entry.conds[0].right_is_const = 1;
    s.long_entry.conds[0].right_value = 0;
    kz_bt_params p = kz_bt_params_default();
    kz_bt_result r;
    kz_error err;
    CHECK(kz_backtest(cs, &s, &p, &r, &err) == KZ_OK);
    const kz_bars *b = &m->bars;
    size_t n = b->n;
    double slip = 2e-4, fee = 0.00055, e0 = 100000;
    double fill = b->open[1] * (1 + slip);
    double qty = e0 / fill;
    double funding = 0;
    for (size_t k = 0; k < m->funding_raw.n; k++) {
        /* no gaps in this file: the settlement's bar is (t - t0) / 1 h; the first bar's open has
         * no position yet */
        int64_t f = m->funding_raw.ts_ms[k];
        size_t bar = (size_t)((f - b->ts_ms[0]) / 3600000LL);
        if (bar >= 1 && bar < n) {
            funding += qty * b->open[bar] * m->funding_raw.value[k];
        }
    }
    double out = b->close[n - 1] * (1 - slip);
    double final = e0 - fee * qty * fill - funding + qty * (out - fill) - fee * qty * out;
    CHECK_NEAR(r.m.final_equity, final, 1e-9);
    CHECK_NEAR(r.m.funding_paid, funding, 1e-9);
    CHECK(fabs(funding) > 100); /* a year of BTC funding on 100k is material */
    CHECK_EQ_INT(r.m.n_trades, 1);
    CHECK_NEAR(r.m.exposure, (double)(n - 1) / (double)n, 1e-12);
    printf("buy and hold: return %.4f (bars %.4f), funding paid %.2f\n", r.m.total_return,
           r.m.buy_hold_return, r.m.funding_paid);
}

int main(void)
{
    kz_market m;
    if (!kz_real_btc_market_with(&m, 0, 0)) {
        KZ_TEST_DONE();
    }
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    double *ml = malloc(m.bars.n * sizeof *ml);
    make_ml_column(&m, ml);
    CHECK(kz_colset_add(cs, "ML_UP_PROB", ml, 1, &err) == KZ_OK);
    free(ml);
    test_buy_and_hold_with_funding(&m, cs);
#ifdef __SANITIZE_ADDRESS__
    const int count = 1000; /* keeps the sanitizer build under ~20 s */
#else
    const int count = 3000;
#endif
    long trades = random_fast_vs_ref(cs, 20240601, count);
    printf("real BTCUSDT 1h (%zu bars): %d random strategies, %ld trades\n", m.bars.n, count,
           trades);
    CHECK(trades > 100 * count);
    kz_colset_free(cs);
    kz_market_free(&m);
    KZ_TEST_DONE();
}
