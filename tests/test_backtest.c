/* Backtester: hand-computed trades (fees, slippage, funding, stops, targets, gaps, ATR stops,
 * volatility sizing, crosses, reversal), fast == reference on random strategies over synthetic
 * data, no look-ahead, column specs, strategy JSON round trip and errors. */
#include <math.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/strategy.h"
#include "kizashi/ta.h"

#include "kz_test.h"
#include "test_backtest_gen.h"

#define T0   1704067200000LL /* 2024-01-01T00:00Z */
#define HOUR 3600000LL

/* Market of n hourly bars from rows {open, high, low, close} and optional funding settlements. */
static void make_market(kz_market *m,
                        size_t n,
                        const double (*ohlc)[4],
                        const int64_t *fts,
                        const double *frate,
                        size_t nf)
{
    kz_bars b = {0};
    kz_series f = {0};
    for (size_t i = 0; i < n; i++) {
        CHECK(kz_bars_push(&b, T0 + (int64_t)i * HOUR, ohlc[i][0], ohlc[i][1], ohlc[i][2],
                           ohlc[i][3], 1.0) == KZ_OK);
    }
    for (size_t k = 0; k < nf; k++) {
        CHECK(kz_series_push(&f, fts[k], frate[k]) == KZ_OK);
    }
    memset(m, 0, sizeof *m);
    CHECK(kz_market_build("test", "TEST", KZ_TF_1H, &b, nf ? &f : NULL, NULL, 0, 0, m) == KZ_OK);
    kz_bars_free(&b);
    kz_series_free(&f);
}

static void cond(kz_rule *r, const char *left, kz_cond_op op, double value)
{
    kz_condition *c = &r->conds[r->n_conds++];
    snprintf(c->left, sizeof c->left, "%s", left);
    c->op = op;
    c->right_is_const = 1;
    c->right_value = value;
}

/* Run both engines (they must agree exactly on this small case) and return the recorded result. */
static kz_bt_result run_case(kz_colset *cs, const kz_strategy *s, const kz_bt_params *p)
{
    kz_error err;
    kz_bt_result r;
    kz_bt_params pr = *p;
    pr.record = 1;
    CHECK(kz_colset_prepare(cs, s, &err) == KZ_OK);
    CHECK(kz_backtest(cs, s, &pr, &r, &err) == KZ_OK);
    CHECK(check_fast_vs_ref(cs, s, p, 1e-12) >= 0);
    return r;
}

static kz_bt_params plain_params(void)
{
    kz_bt_params p = kz_bt_params_default();
    p.initial_equity = 10000;
    return p;
}

/* One long trade: fee 0.00055 per side, 2 bps slippage, two funding payments (a third settles
 * after the exit and must not be charged). */
static void test_long_fee_slippage_funding(void)
{
    static const double bars[8][4] = {
        {100, 101, 99, 100},  {100, 102, 99, 101},  {102, 104, 101, 103}, {103, 105, 102, 104},
        {105, 107, 104, 106}, {106, 109, 105, 108}, {110, 111, 109, 110}, {110, 111, 109, 110}};
    const int64_t fts[] = {T0 + 2 * HOUR, T0 + 4 * HOUR + 1, T0 + 7 * HOUR};
    const double frate[] = {0.0001, 0.0003, 0.01};
    const double sig[8] = {1, 0, 0, 0, 0, -1, 0, 0};
    kz_market m;
    make_market(&m, 8, bars, fts, frate, 3);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "SIG", sig, 1, &err) == KZ_OK);
    kz_strategy s = kz_strategy_default();
    cond(&s.long_entry, "SIG", KZ_OP_GT, 0.5);
    cond(&s.exit, "SIG", KZ_OP_LT, -0.5);
    kz_bt_params p = plain_params();
    kz_bt_result r = run_case(cs, &s, &p);

    /* signal at bar 0's close -> buy at bar 1's open 100 + 2 bps = 100.02 with all 10000 */
    double fill = 100.0 * (1 + 0.0002);
    double qty = 10000.0 / fill; /* 99.98000399920016 */
    double fee_in = 0.00055 * qty * fill;
    /* settlements in bar 2 (at its open 102) and bar 4 (105; stamped 1 ms late): long pays */
    double f1 = qty * 102 * 0.0001, f2 = qty * 105 * 0.0003;
    /* exit signal at bar 5's close -> sell at bar 6's open 110 - 2 bps */
    double out = 110.0 * (1 - 0.0002);
    double fee_out = 0.00055 * qty * out;
    double final = 10000 - fee_in - f1 - f2 + qty * (out - fill) - fee_out;
    CHECK_NEAR(final, 10979.884133173367, 1e-9);
    CHECK_EQ_INT(r.n_trades, 1);
    if (r.n_trades == 1) {
        const kz_trade *t = &r.trades[0];
        CHECK_EQ_INT(t->side, 1);
        CHECK_EQ_INT(t->entry_bar, 1);
        CHECK_EQ_INT(t->exit_bar, 6);
        CHECK_EQ_INT(t->entry_ms, T0 + HOUR);
        CHECK_EQ_INT(t->bars_held, 5);
        CHECK_EQ_INT(t->reason, KZ_EXIT_SIGNAL);
        CHECK_NEAR(t->qty, qty, 1e-15);
        CHECK_NEAR(t->entry_price, fill, 1e-15);
        CHECK_NEAR(t->exit_price, out, 1e-15);
        CHECK_NEAR(t->funding, f1 + f2, 1e-12);
        CHECK_NEAR(t->fees, fee_in + fee_out, 1e-12);
        CHECK_NEAR(t->pnl, final - 10000, 1e-9);
        CHECK_NEAR(t->ret, (final - 10000) / 10000, 1e-12);
    }
    CHECK_NEAR(r.m.final_equity, final, 1e-12);
    CHECK_NEAR(r.m.funding_paid, f1 + f2, 1e-12);
    CHECK_NEAR(r.m.fees_paid, fee_in + fee_out, 1e-12);
    CHECK_NEAR(r.m.exposure, 5.0 / 8.0, 1e-15);
    CHECK_NEAR(r.m.buy_hold_return, 0.10, 1e-12);
    CHECK_NEAR(r.m.win_rate, 1.0, 0);
    CHECK(isinf(r.m.profit_factor));
    /* marked to market at bar 3's close: cash after fee and the first funding + open profit */
    CHECK_NEAR(r.equity[3], 10000 - fee_in - f1 + qty * (104 - fill), 1e-12);
    CHECK_NEAR(r.equity[0], 10000, 0);
    CHECK_NEAR(r.equity[7], final, 1e-12);
    /* the same with funding switched off: only the two payments differ */
    kz_bt_result r2;
    kz_bt_params p2 = p;
    p2.funding = 0;
    CHECK(kz_backtest(cs, &s, &p2, &r2, &err) == KZ_OK);
    CHECK_NEAR(r2.m.final_equity, final + f1 + f2, 1e-9);
    kz_bt_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
}

/* Fixed 2 % stop / 3 % target, no costs, entry at bar 1's open 100: stop 98, target 103. */
static double stop_case(const double (*bars)[4], size_t n, double slip_bps, kz_trade *out)
{
    const double sig[6] = {1, 0, 0, 0, 0, 0};
    kz_market m;
    make_market(&m, n, bars, NULL, NULL, 0);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "SIG", sig, 1, &err) == KZ_OK);
    kz_strategy s = kz_strategy_default();
    cond(&s.long_entry, "SIG", KZ_OP_GT, 0.5);
    s.tpsl.method = KZ_TPSL_FIXED;
    s.tpsl.sl_pct = 0.02;
    s.tpsl.tp_pct = 0.03;
    kz_bt_params p = plain_params();
    p.fee_rate = 0;
    p.slippage_bps = slip_bps;
    kz_bt_result r = run_case(cs, &s, &p);
    CHECK_EQ_INT(r.n_trades, 1);
    memset(out, 0, sizeof *out);
    if (r.n_trades >= 1) {
        *out = r.trades[0];
    }
    double fe = r.m.final_equity;
    kz_bt_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
    return fe;
}

static void test_stops_and_targets(void)
{
    kz_trade t;
    /* both levels inside bar 2 (low 97 <= 98, high 104 >= 103): the stop is assumed first */
    static const double both[4][4] = {
        {100, 101, 99, 100}, {100, 101, 99.5, 100.5}, {100, 104, 97, 101}, {101, 102, 100, 101}};
    CHECK_NEAR(stop_case(both, 4, 0, &t), 10000 - 100 * 2.0, 1e-9);
    CHECK_EQ_INT(t.reason, KZ_EXIT_STOP);
    CHECK_EQ_INT(t.exit_bar, 2);
    CHECK_EQ_INT(t.bars_held, 2);
    CHECK_NEAR(t.exit_price, 98, 1e-12);
    /* the stop is a market order: 2 bps of slippage below the level */
    /* ... and the levels are relative to the fill 100.02: stop 98.0196 */
    CHECK_NEAR(stop_case(both, 4, 2, &t),
               10000 + (10000 / 100.02) * (100.02 * 0.98 * 0.9998 - 100.02), 1e-9);
    CHECK_NEAR(t.exit_price, 100.02 * 0.98 * 0.9998, 1e-12);
    /* bar 2 gaps below the stop: filled at the open 96, not at 98 */
    static const double gap[4][4] = {
        {100, 101, 99, 100}, {100, 101, 99.5, 100.5}, {96, 97, 95, 96}, {96, 97, 95, 96}};
    CHECK_NEAR(stop_case(gap, 4, 0, &t), 10000 - 100 * 4.0, 1e-9);
    CHECK_EQ_INT(t.reason, KZ_EXIT_STOP);
    CHECK_EQ_INT(t.bars_held, 1);
    /* the target: a limit order, filled at the level without slippage */
    static const double take[4][4] = {
        {100, 101, 99, 100}, {100, 101, 99.5, 100.5}, {101, 103.5, 100, 103}, {103, 104, 102, 103}};
    CHECK_NEAR(stop_case(take, 4, 0, &t), 10000 + 100 * 3.0, 1e-9);
    CHECK_EQ_INT(t.reason, KZ_EXIT_TAKE);
    CHECK_NEAR(t.exit_price, 103, 1e-12);
    /* a gap above the target fills at the (better) open */
    static const double tgap[4][4] = {
        {100, 101, 99, 100}, {100, 101, 99.5, 100.5}, {105, 106, 104, 105}, {105, 106, 104, 105}};
    CHECK_NEAR(stop_case(tgap, 4, 0, &t), 10000 + 100 * 5.0, 1e-9);
    /* the entry bar itself is checked after the fill: low 97.5 hits the stop in bar 1 */
    static const double entry_bar[4][4] = {
        {100, 101, 99, 100}, {100, 101, 97.5, 99}, {99, 100, 98.5, 99}, {99, 100, 98.5, 99}};
    CHECK_NEAR(stop_case(entry_bar, 4, 0, &t), 10000 - 100 * 2.0, 1e-9);
    CHECK_EQ_INT(t.exit_bar, 1);
    CHECK_EQ_INT(t.bars_held, 1);
}

/* A short with positive funding: the short receives it. Closed at the last close. */
static void test_short_funding_received(void)
{
    static const double bars[4][4] = {
        {100, 101, 99, 100}, {100, 101, 98, 99}, {99, 100, 97, 98}, {98, 99, 96, 97}};
    const int64_t fts[] = {T0 + 2 * HOUR};
    const double frate[] = {0.0005};
    const double sig[4] = {-1, 0, 0, 0};
    kz_market m;
    make_market(&m, 4, bars, fts, frate, 1);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "SIG", sig, 1, &err) == KZ_OK);
    kz_strategy s = kz_strategy_default();
    cond(&s.short_entry, "SIG", KZ_OP_LT, -0.5);
    kz_bt_params p = plain_params();
    kz_bt_result r = run_case(cs, &s, &p);
    double fill = 100 * (1 - 0.0002); /* selling: slippage lowers the price */
    double qty = 10000 / fill;
    double recv = qty * 99 * 0.0005; /* bar 2's open 99 */
    double out = 97 * (1 + 0.0002);  /* buying back at the last close */
    double final = 10000 - 0.00055 * qty * fill + recv - qty * (out - fill) - 0.00055 * qty * out;
    CHECK_EQ_INT(r.n_trades, 1);
    CHECK_EQ_INT(r.m.n_short, 1);
    if (r.n_trades == 1) {
        CHECK_EQ_INT(r.trades[0].side, -1);
        CHECK_EQ_INT(r.trades[0].reason, KZ_EXIT_END);
        CHECK_EQ_INT(r.trades[0].bars_held, 3);
        CHECK_NEAR(r.trades[0].funding, -recv, 1e-12);
    }
    CHECK_NEAR(r.m.final_equity, final, 1e-9);
    CHECK_NEAR(r.m.funding_paid, -recv, 1e-12);
    kz_bt_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
}

/* Signals on the last bar have no next open: no trade. Long and short together: no trade. */
static void test_no_trade_cases(void)
{
    static const double bars[4][4] = {
        {100, 101, 99, 100}, {100, 101, 99, 100}, {100, 101, 99, 100}, {100, 101, 99, 100}};
    const double last[4] = {0, 0, 0, 1};
    const double both[4] = {1, 1, 0, 0};
    kz_market m;
    make_market(&m, 4, bars, NULL, NULL, 0);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "LAST", last, 1, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "BOTH", both, 1, &err) == KZ_OK);
    kz_strategy s = kz_strategy_default();
    cond(&s.long_entry, "LAST", KZ_OP_GT, 0.5);
    kz_bt_params p = plain_params();
    kz_bt_result r = run_case(cs, &s, &p);
    CHECK_EQ_INT(r.m.n_trades, 0);
    CHECK_NEAR(r.m.final_equity, 10000, 0);
    CHECK_NEAR(r.m.sharpe, 0, 0);
    CHECK_NEAR(r.m.exposure, 0, 0);
    kz_bt_result_free(&r);
    s = kz_strategy_default();
    cond(&s.long_entry, "BOTH", KZ_OP_GT, 0.5);
    cond(&s.short_entry, "BOTH", KZ_OP_GT, 0.5);
    r = run_case(cs, &s, &p);
    CHECK_EQ_INT(r.m.n_trades, 0);
    kz_bt_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
}

/* Crosses use bars t-1 and t; NaN on either side is false; an opposite entry reverses. */
static void test_crosses_nan_reversal(void)
{
    double bars[12][4];
    for (int i = 0; i < 12; i++) {
        bars[i][0] = bars[i][3] = 100 + i;
        bars[i][1] = 101 + i;
        bars[i][2] = 99 + i;
    }
    const double x[12] = {0, 1, 1, 0, 0, 1, 0, 0, NAN, 1, 1, 1};
    const double y[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    kz_market m;
    make_market(&m, 12, (const double(*)[4])bars, NULL, NULL, 0);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "X", x, 1, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "Y", y, 1, &err) == KZ_OK);
    kz_strategy s = kz_strategy_default();
    cond(&s.long_entry, "X", KZ_OP_CROSS_ABOVE, 0.5);
    cond(&s.exit, "X", KZ_OP_CROSS_BELOW, 0.5);
    kz_bt_params p = plain_params();
    kz_bt_result r = run_case(cs, &s, &p);
    /* crosses above at closes 1 and 5 (not at 9: bar 8 is NaN); below at 3 and 6 */
    CHECK_EQ_INT(r.n_trades, 2);
    if (r.n_trades == 2) {
        CHECK_EQ_INT(r.trades[0].entry_bar, 2);
        CHECK_EQ_INT(r.trades[0].exit_bar, 4);
        CHECK_EQ_INT(r.trades[1].entry_bar, 6);
        CHECK_EQ_INT(r.trades[1].exit_bar, 7);
    }
    kz_bt_result_free(&r);
    /* OR: long when X > 0.5 or Y > 0.5; short when Y > 0.5 alone reverses at bar 11 */
    s = kz_strategy_default();
    s.long_entry.logic = KZ_LOGIC_OR;
    cond(&s.long_entry, "X", KZ_OP_CROSS_ABOVE, 0.5);
    cond(&s.long_entry, "Y", KZ_OP_LT, -1);
    cond(&s.short_entry, "Y", KZ_OP_GT, 0.5);
    r = run_case(cs, &s, &p);
    CHECK_EQ_INT(r.n_trades, 2);
    if (r.n_trades == 2) {
        CHECK_EQ_INT(r.trades[0].side, 1);
        CHECK_EQ_INT(r.trades[0].entry_bar, 2);
        CHECK_EQ_INT(r.trades[0].exit_bar, 11);
        CHECK_EQ_INT(r.trades[0].bars_held, 9);
        CHECK_EQ_INT(r.trades[1].side, -1);
        CHECK_EQ_INT(r.trades[1].entry_bar, 11);
        CHECK_EQ_INT(r.trades[1].reason, KZ_EXIT_END);
    }
    kz_bt_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
}

/* ATR-multiple stop: every true range is 2, so ATR(3) = 2; entry at 105 -> stop 101, target 111.
 * Volatility-target sizing against an independently computed realised volatility. */
static void test_atr_stop_and_vol_sizing(void)
{
    double bars[14][4];
    for (int i = 0; i < 14; i++) {
        double c = 100 + 0.5 * i;
        bars[i][0] = i ? 100 + 0.5 * (i - 1) : c;
        bars[i][1] = c + 1;
        bars[i][2] = c - 1;
        bars[i][3] = c;
    }
    bars[12][0] = 105.5; /* bar 12 falls through the stop */
    bars[12][1] = 106;
    bars[12][2] = 100;
    bars[12][3] = 100.5;
    bars[13][0] = 100.5;
    bars[13][1] = 101.5;
    bars[13][2] = 100;
    bars[13][3] = 101;
    double sig[14] = {0};
    sig[10] = 1;
    kz_market m;
    make_market(&m, 14, (const double(*)[4])bars, NULL, NULL, 0);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    CHECK(kz_colset_add(cs, "SIG", sig, 1, &err) == KZ_OK);
    kz_strategy s = kz_strategy_default();
    cond(&s.long_entry, "SIG", KZ_OP_GT, 0.5);
    s.tpsl.method = KZ_TPSL_ATR;
    s.tpsl.atr_period = 3;
    s.tpsl.atr_sl = 2;
    s.tpsl.atr_tp = 3;
    kz_bt_params p = plain_params();
    p.slippage_bps = 0;
    p.fee_rate = 0;
    kz_bt_result r = run_case(cs, &s, &p);
    int ai = kz_colset_find(cs, "ATR(3)");
    CHECK(ai >= 0);
    if (ai >= 0) {
        CHECK_NEAR(kz_colset_data(cs, (size_t)ai)[10], 2.0, 1e-12);
    }
    CHECK_EQ_INT(r.n_trades, 1);
    if (r.n_trades == 1) {
        CHECK_NEAR(r.trades[0].entry_price, 105, 1e-12);
        CHECK_NEAR(r.trades[0].exit_price, 101, 1e-9);
        CHECK_EQ_INT(r.trades[0].reason, KZ_EXIT_STOP);
        CHECK_EQ_INT(r.trades[0].exit_bar, 12);
    }
    kz_bt_result_free(&r);

    /* volatility target 0.5 with RVOL(5) at the signal bar 10, capped by leverage 3 */
    s.tpsl.method = KZ_TPSL_NONE;
    s.sizing.method = KZ_SIZE_VOL_TARGET;
    s.sizing.target_vol = 0.5;
    s.sizing.vol_period = 5;
    s.leverage = 3;
    r = run_case(cs, &s, &p);
    double lr[5], mean = 0, var = 0;
    for (int k = 0; k < 5; k++) {
        lr[k] = log(bars[6 + k][3] / bars[5 + k][3]);
        mean += lr[k] / 5;
    }
    for (int k = 0; k < 5; k++) {
        var += (lr[k] - mean) * (lr[k] - mean) / 4;
    }
    double rvol = sqrt(var) * sqrt(8760.0);
    double exposure = fmin(3.0, 0.5 / rvol);
    CHECK_EQ_INT(r.n_trades, 1);
    if (r.n_trades == 1) {
        CHECK_NEAR(r.trades[0].qty, 10000 * exposure / 105, 1e-9);
    }
    kz_bt_result_free(&r);
    kz_colset_free(cs);
    kz_market_free(&m);
}

/* ------------------------------------------------------------------ synthetic data */
static void synth_market(kz_market *m, size_t n, uint64_t seed)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = n;
    sp.seed = seed;
    kz_bars b = {0};
    kz_series f = {0}, oi = {0};
    CHECK(kz_synth_generate(&sp, &b, &f, &oi, NULL) == KZ_OK);
    memset(m, 0, sizeof *m);
    CHECK(kz_market_build("synth", "SYN", KZ_TF_1H, &b, &f, &oi, 9 * HOUR, 0, m) == KZ_OK);
    kz_bars_free(&b);
    kz_series_free(&f);
    kz_series_free(&oi);
}

static void test_fast_equals_reference_synthetic(void)
{
    kz_market m;
    synth_market(&m, 3000, 7);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    double *ml = malloc(m.bars.n * sizeof *ml);
    make_ml_column(&m, ml);
    CHECK(kz_colset_add(cs, "ML_UP_PROB", ml, 1, &err) == KZ_OK);
    free(ml);
    long trades = random_fast_vs_ref(cs, 1234, 2000);
    printf("synthetic: 2000 random strategies, %ld trades\n", trades);
    CHECK(trades > 20000); /* the strategies do trade: the comparison is not vacuous */
    kz_colset_free(cs);
    kz_market_free(&m);
}

/* Changing bars after T changes no decision, trade or equity value before T. */
static void test_no_look_ahead(void)
{
    kz_market a, b;
    synth_market(&a, 1500, 11);
    synth_market(&b, 1500, 11);
    const size_t T = 900;
    for (size_t i = T; i < b.bars.n; i++) {
        double k = 1.0 + 0.05 * sin((double)i);
        b.bars.open[i] *= k;
        b.bars.high[i] *= k * 1.01;
        b.bars.low[i] *= k * 0.99;
        b.bars.close[i] *= k;
    }
    kz_colset *ca = NULL, *cb = NULL;
    kz_error err;
    CHECK(kz_colset_new(&a, &ca, &err) == KZ_OK);
    CHECK(kz_colset_new(&b, &cb, &err) == KZ_OK);
    double *ml = malloc(a.bars.n * sizeof *ml);
    make_ml_column(&a, ml);
    CHECK(kz_colset_add(ca, "ML_UP_PROB", ml, 1, &err) == KZ_OK);
    make_ml_column(&b, ml);
    CHECK(kz_colset_add(cb, "ML_UP_PROB", ml, 1, &err) == KZ_OK);
    free(ml);
    kz_rng r;
    kz_rng_seed(&r, 99);
    int bad = 0, compared = 0;
    for (int i = 0; i < 300; i++) {
        kz_strategy s = gen_strategy(&r, a.bars.close[T / 2]);
        kz_bt_params p = gen_params(&r);
        p.record = 1;
        kz_bt_result ra, rb;
        if (kz_colset_prepare(ca, &s, &err) != KZ_OK || kz_colset_prepare(cb, &s, &err) != KZ_OK ||
            kz_backtest(ca, &s, &p, &ra, &err) != KZ_OK ||
            kz_backtest(cb, &s, &p, &rb, &err) != KZ_OK) {
            bad++;
            continue;
        }
        for (size_t t = 0; t < T; t++) {
            bad += ra.equity[t] != rb.equity[t];
        }
        for (size_t k = 0; k < ra.n_trades && ra.trades[k].entry_bar <= T; k++) {
            /* every decision made at a close before T is the same, hence the same entry bar */
            bad += k >= rb.n_trades || ra.trades[k].entry_bar != rb.trades[k].entry_bar ||
                   ra.trades[k].side != rb.trades[k].side;
            if (ra.trades[k].exit_bar < T) {
                bad += k >= rb.n_trades || ra.trades[k].pnl != rb.trades[k].pnl ||
                       ra.trades[k].exit_bar != rb.trades[k].exit_bar;
                compared++;
            }
        }
        kz_bt_result_free(&ra);
        kz_bt_result_free(&rb);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(compared > 1000);
    kz_colset_free(ca);
    kz_colset_free(cb);
    kz_market_free(&a);
    kz_market_free(&b);
}

/* ------------------------------------------------------------------ columns */
static void test_columns(void)
{
    kz_market m;
    synth_market(&m, 400, 3);
    kz_colset *cs = NULL;
    kz_error err;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    int a = -1, b = -1, c = -1, u = -1;
    CHECK(kz_colset_require(cs, "RSI(14)", &a, &err) == KZ_OK);
    CHECK(kz_colset_require(cs, "rsi ( timeperiod = 14 )", &b, &err) == KZ_OK);
    CHECK(kz_colset_require(cs, "RSI", &c, &err) == KZ_OK);
    CHECK(a >= 0 && a == b && a == c);
    CHECK(strcmp(kz_colset_name(cs, (size_t)a), "RSI(timeperiod=14)") == 0);
    /* values are the registry's own */
    const kz_ta_info *info = kz_ta_find("BBANDS");
    double params[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(info, params);
    params[0] = 10;
    size_t n = m.bars.n;
    double *o0 = malloc(n * sizeof(double)), *o1 = malloc(n * sizeof(double)),
           *o2 = malloc(n * sizeof(double));
    double *outs[3] = {o0, o1, o2};
    const double *in[1] = {m.bars.close};
    CHECK(kz_ta_run(info, n, in, params, outs, &err) == KZ_OK);
    CHECK(kz_colset_require(cs, "BBANDS(10).lowerband", &u, &err) == KZ_OK);
    int mid = kz_colset_find(cs, "bbands(timeperiod=10).middleband"); /* computed alongside */
    CHECK(mid >= 0 && u >= 0);
    int same = 1;
    for (size_t i = 0; u >= 0 && mid >= 0 && i < n; i++) {
        same &= kz_near(kz_colset_data(cs, (size_t)u)[i], o2[i], 0) &&
                kz_near(kz_colset_data(cs, (size_t)mid)[i], o1[i], 0);
    }
    CHECK(same);
    free(o0);
    free(o1);
    free(o2);
    /* market columns and aliases */
    CHECK(kz_colset_find(cs, "close") == 3);
    CHECK(kz_colset_find(cs, "funding_rate") == kz_colset_find(cs, "funding"));
    CHECK(kz_colset_find(cs, "funding") >= 0);
    int oc = kz_colset_find(cs, "oi_change");
    CHECK(oc >= 0);
    if (oc >= 0) {
        CHECK_NEAR(kz_colset_data(cs, (size_t)oc)[5], m.oi[5] / m.oi[4] - 1, 1e-15);
    }
    /* errors */
    CHECK(kz_colset_require(cs, "ML_UP_PROB", NULL, &err) == KZ_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(err.field, "ML_UP_PROB");
    CHECK(kz_colset_require(cs, "RSI(timeperiod=1)", NULL, &err) == KZ_ERR_INVALID);
    CHECK(kz_colset_require(cs, "RSI(period=14)", NULL, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "no parameter 'period'");
    CHECK(kz_colset_require(cs, "BBANDS.top", NULL, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "no output 'top'");
    CHECK(kz_colset_require(cs, "NOSUCH(3)", NULL, &err) == KZ_ERR_NOT_FOUND);
    const double ext[1] = {0};
    CHECK(kz_colset_add(cs, "close", ext, 0, &err) == KZ_ERR_INVALID);
    kz_colset_free(cs);
    kz_market_free(&m);
}

/* ------------------------------------------------------------------ JSON */
static void test_json_round_trip(void)
{
    kz_rng r;
    kz_rng_seed(&r, 5);
    int bad = 0;
    for (int i = 0; i < 500; i++) {
        kz_strategy s = gen_strategy(&r, 43210.123456789);
        char *json = NULL;
        kz_strategy back;
        kz_error err;
        CHECK(kz_strategy_to_json(&s, &json) == KZ_OK);
        kz_status st = kz_strategy_from_json(json, strlen(json), "rt", &back, &err);
        if (st != KZ_OK || !same_strategy(&s, &back)) {
            if (bad++ == 0) {
                fprintf(stderr, "round trip failed (%s: %s):\n%s\n", err.field, err.msg, json);
            }
        }
        kz_free(json);
    }
    CHECK_EQ_INT(bad, 0);
    /* the readable form, with spaces inside a spec and an object condition */
    const char *text = "{\"name\": \"demo\", \"long_entry\": {\"all\": ["
                       "\"RSI(timeperiod = 14) crosses_above 30\", "
                       "{\"left\": \"ML_UP_PROB\", \"op\": \">\", \"right\": 0.62}]},"
                       "\"short_entry\": [\"close < BBANDS(20).lowerband\"],"
                       "\"tpsl\": {\"method\": \"rr\", \"sl_pct\": 0.02, \"rr\": 3},"
                       "\"leverage\": 2}";
    kz_strategy s;
    kz_error err;
    CHECK(kz_strategy_from_json(text, strlen(text), "demo.json", &s, &err) == KZ_OK);
    CHECK(strcmp(s.name, "demo") == 0);
    CHECK_EQ_INT(s.long_entry.n_conds, 2);
    CHECK(strcmp(s.long_entry.conds[0].left, "RSI(timeperiod=14)") == 0);
    CHECK_EQ_INT(s.long_entry.conds[0].op, KZ_OP_CROSS_ABOVE);
    CHECK_NEAR(s.long_entry.conds[0].right_value, 30, 0);
    CHECK_NEAR(s.long_entry.conds[1].right_value, 0.62, 0);
    CHECK_EQ_INT(s.short_entry.n_conds, 1);
    CHECK(!s.short_entry.conds[0].right_is_const);
    CHECK(strcmp(s.short_entry.conds[0].right, "BBANDS(20).lowerband") == 0);
    CHECK_EQ_INT(s.tpsl.method, KZ_TPSL_RR);
    CHECK_NEAR(s.tpsl.rr, 3, 0);
    CHECK_NEAR(s.leverage, 2, 0);
    CHECK_EQ_INT(s.exit.n_conds, 0);
}

static void
expect_json_error(const char *text, kz_status code, const char *field, const char *msg_part)
{
    kz_strategy s;
    kz_error err;
    kz_status st = kz_strategy_from_json(text, strlen(text), "bad.json", &s, &err);
    CHECK_MSG(st == code, "%s -> %d (%s)", text, (int)st, err.msg);
    CHECK_MSG(strcmp(err.field, field) == 0, "%s: field '%s' != '%s'", text, err.field, field);
    CHECK_STR_CONTAINS(err.msg, msg_part);
    CHECK(strcmp(err.file, "bad.json") == 0);
}

static void test_json_errors(void)
{
    expect_json_error("{\"long_entry\": {\"all\": [\"RSI crosses 30\"]}}", KZ_ERR_INVALID,
                      "long_entry.all[0]", "unknown operator 'crosses'");
    expect_json_error("{\"exit\": {\"any\": [\"close >\"]}}", KZ_ERR_INVALID, "exit.any[0]",
                      "expected 'LEFT OP RIGHT'");
    expect_json_error("{\"tpsl\": {\"method\": \"trailing\"}}", KZ_ERR_INVALID, "tpsl.method",
                      "unknown method 'trailing'");
    expect_json_error("{\"tpsl\": {\"method\": \"fixed\", \"sl\": 0.1}}", KZ_ERR_INVALID, "tpsl.sl",
                      "unknown member");
    expect_json_error("{\"tpsl\": {\"method\": \"fixed\", \"sl_pct\": 1.5}}", KZ_ERR_INVALID,
                      "tpsl.sl_pct", "[0, 1)");
    expect_json_error("{\"sizing\": {\"method\": \"fraction\", \"fraction\": 2}}", KZ_ERR_INVALID,
                      "sizing.fraction", "(0, 1]");
    expect_json_error("{\"leverage\": 0}", KZ_ERR_INVALID, "leverage", "(0, 100]");
    expect_json_error("{\"levrage\": 2}", KZ_ERR_INVALID, "levrage", "unknown member");
    expect_json_error("{\"long_entry\": {\"all\": [\"a > 1\", \"b > 1\", \"c > 1\", \"d > 1\", "
                      "\"e > 1\"]}}",
                      KZ_ERR_INVALID, "long_entry", "at most 4");
    expect_json_error("{\"long_entry\": {\"some\": []}}", KZ_ERR_INVALID, "long_entry", "\"all\"");
    kz_strategy s;
    kz_error err;
    const char *broken = "{\n  \"name\": \"x\",\n  \"leverage\": ]\n}";
    CHECK(kz_strategy_from_json(broken, strlen(broken), "b.json", &s, &err) == KZ_ERR_PARSE);
    CHECK_EQ_INT(err.line, 3);
    CHECK(err.column > 0);
    CHECK(kz_strategy_read_file("/nonexistent/s.json", &s, &err) == KZ_ERR_IO);
    CHECK(strcmp(err.file, "/nonexistent/s.json") == 0);

    /* a strategy naming a column the market does not have */
    kz_market m;
    synth_market(&m, 50, 1);
    kz_colset *cs = NULL;
    CHECK(kz_colset_new(&m, &cs, &err) == KZ_OK);
    const char *text = "{\"long_entry\": {\"all\": [\"close > 1\", \"ML_UP_PROB > 0.6\"]}}";
    CHECK(kz_strategy_from_json(text, strlen(text), "s", &s, &err) == KZ_OK);
    CHECK(kz_colset_prepare(cs, &s, &err) == KZ_ERR_NOT_FOUND);
    CHECK(strcmp(err.field, "long_entry.all[1]") == 0);
    CHECK_STR_CONTAINS(err.msg, "ML_UP_PROB");
    kz_bt_result r;
    kz_bt_params p = kz_bt_params_default();
    CHECK(kz_backtest(cs, &s, &p, &r, &err) == KZ_ERR_NOT_FOUND);
    CHECK(strcmp(err.field, "long_entry.all[1].left") == 0);
    p.fee_rate = -1;
    CHECK(kz_backtest(cs, &s, &p, &r, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "fee_rate") == 0);
    kz_colset_free(cs);
    kz_market_free(&m);
}

/* Out-of-memory injection: every allocation failing in turn gives KZ_ERR_NOMEM, never a crash. */
static int g_fail_at = -1, g_allocs = 0;
static void *oom_malloc(size_t size, void *ud)
{
    (void)ud;
    return g_allocs++ == g_fail_at ? NULL : malloc(size);
}
static void *oom_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    return g_allocs++ == g_fail_at ? NULL : realloc(p, size);
}
static void oom_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static void test_oom(void)
{
    kz_market m;
    synth_market(&m, 300, 2);
    kz_strategy s = kz_strategy_default();
    cond(&s.long_entry, "RSI(5)", KZ_OP_LT, 40);
    cond(&s.exit, "RSI(5)", KZ_OP_GT, 60);
    s.tpsl.method = KZ_TPSL_ATR;
    kz_allocator a = {oom_malloc, oom_realloc, oom_free, NULL};
    int nomem = 0, ok = 0;
    for (g_fail_at = 0; g_fail_at < 40; g_fail_at++) {
        g_allocs = 0;
        kz_set_allocator(&a);
        kz_colset *cs = NULL;
        kz_bt_result r;
        kz_bt_params p = kz_bt_params_default();
        p.record = 1;
        kz_status st = kz_colset_new(&m, &cs, NULL);
        if (st == KZ_OK) {
            st = kz_colset_prepare(cs, &s, NULL);
        }
        if (st == KZ_OK) {
            st = kz_backtest(cs, &s, &p, &r, NULL);
            if (st == KZ_OK) {
                kz_bt_result_free(&r);
            }
        }
        kz_colset_free(cs);
        kz_set_allocator(NULL);
        nomem += st == KZ_ERR_NOMEM;
        ok += st == KZ_OK;
        CHECK(st == KZ_OK || st == KZ_ERR_NOMEM);
    }
    CHECK(nomem > 5 && ok > 0);
    kz_market_free(&m);
}

int main(void)
{
    test_long_fee_slippage_funding();
    test_stops_and_targets();
    test_short_funding_received();
    test_no_trade_cases();
    test_crosses_nan_reversal();
    test_atr_stop_and_vol_sizing();
    test_columns();
    test_json_round_trip();
    test_json_errors();
    test_fast_equals_reference_synthetic();
    test_no_look_ahead();
    test_oom();
    KZ_TEST_DONE();
}
