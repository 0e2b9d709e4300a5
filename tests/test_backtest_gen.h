/* Shared by the backtest tests: random strategies over a fixed column menu, field-wise strategy
 * comparison, and the fast == reference check on every metric, trade and equity value. */
#ifndef TEST_BACKTEST_GEN_H
#define TEST_BACKTEST_GEN_H

#include "kizashi/core.h"
#include "kizashi/strategy.h"

#include "kz_test.h"

/* Columns a random condition may read, with a scale to draw constants: price-like columns are
 * compared with each other or with close * U(0.97, 1.03); bounded ones with a constant. */
typedef struct gen_col {
    const char *name;
    int price_like;
    double lo, hi;
} gen_col;

static const gen_col GEN_COLS[] = {
    {"close", 1, 0, 0},
    {"open", 1, 0, 0},
    {"high", 1, 0, 0},
    {"SMA(timeperiod=20)", 1, 0, 0},
    {"EMA(50)", 1, 0, 0},
    {"BBANDS(timeperiod=20,nbdevup=2).upperband", 1, 0, 0},
    {"BBANDS(20).lowerband", 1, 0, 0},
    {"RSI(timeperiod=14)", 0, 20, 80},
    {"rsi(7)", 0, 20, 80},
    {"MACD.macdhist", 0, -50, 50},
    {"ML_UP_PROB", 0, 0.2, 0.8},
    {"funding", 0, -1e-4, 3e-4},
};
#define GEN_N_COLS (sizeof GEN_COLS / sizeof GEN_COLS[0])

static inline void gen_rule(kz_rng *r, kz_rule *rule, double ref_price, int max_conds)
{
    rule->logic = kz_rng_uniform(r) < 0.7 ? KZ_LOGIC_AND : KZ_LOGIC_OR;
    rule->n_conds = (int)kz_rng_int(r, 0, max_conds);
    for (int k = 0; k < rule->n_conds; k++) {
        kz_condition *c = &rule->conds[k];
        const gen_col *g = &GEN_COLS[kz_rng_int(r, 0, GEN_N_COLS - 1)];
        snprintf(c->left, sizeof c->left, "%s", g->name);
        c->op = (kz_cond_op)kz_rng_int(r, 0, KZ_OP_CROSS_BELOW);
        if (g->price_like) {
            if (kz_rng_uniform(r) < 0.6) {
                const gen_col *h;
                do {
                    h = &GEN_COLS[kz_rng_int(r, 0, GEN_N_COLS - 1)];
                } while (!h->price_like);
                c->right_is_const = 0;
                snprintf(c->right, sizeof c->right, "%s", h->name);
            } else {
                c->right_is_const = 1;
                c->right_value = ref_price * (0.97 + 0.06 * kz_rng_uniform(r));
            }
        } else {
            c->right_is_const = 1;
            c->right_value = g->lo + (g->hi - g->lo) * kz_rng_uniform(r);
        }
    }
}

static inline kz_strategy gen_strategy(kz_rng *r, double ref_price)
{
    kz_strategy s = kz_strategy_default();
    snprintf(s.name, sizeof s.name, "rand-%llu", (unsigned long long)(kz_rng_u64(r) % 100000));
    gen_rule(r, &s.long_entry, ref_price, 3);
    gen_rule(r, &s.short_entry, ref_price, 3);
    gen_rule(r, &s.exit, ref_price, 2);
    s.tpsl.method = (kz_tpsl_method)kz_rng_int(r, 0, KZ_TPSL_ATR);
    s.tpsl.sl_pct = kz_rng_uniform(r) < 0.1 ? 0.0 : 0.005 + 0.05 * kz_rng_uniform(r);
    if (s.tpsl.method == KZ_TPSL_RR && s.tpsl.sl_pct == 0) {
        s.tpsl.sl_pct = 0.01;
    }
    s.tpsl.tp_pct = kz_rng_uniform(r) < 0.1 ? 0.0 : 0.005 + 0.1 * kz_rng_uniform(r);
    s.tpsl.rr = 0.5 + 4 * kz_rng_uniform(r);
    s.tpsl.atr_period = (int)kz_rng_int(r, 5, 30);
    s.tpsl.atr_sl = kz_rng_uniform(r) < 0.1 ? 0.0 : 0.5 + 3 * kz_rng_uniform(r);
    s.tpsl.atr_tp = kz_rng_uniform(r) < 0.1 ? 0.0 : 1 + 6 * kz_rng_uniform(r);
    s.sizing.method = (kz_sizing_method)kz_rng_int(r, 0, KZ_SIZE_FIXED_QTY);
    s.sizing.fraction = 0.1 + 0.9 * kz_rng_uniform(r);
    s.sizing.target_vol = 0.1 + 0.8 * kz_rng_uniform(r);
    s.sizing.vol_period = (int)kz_rng_int(r, 5, 50);
    s.sizing.qty = 100000.0 / ref_price * (0.2 + kz_rng_uniform(r));
    s.leverage = 0.5 + 2.5 * kz_rng_uniform(r);
    return s;
}

static inline kz_bt_params gen_params(kz_rng *r)
{
    kz_bt_params p = kz_bt_params_default();
    p.fee_rate = kz_rng_uniform(r) < 0.2 ? 0.0 : 0.001 * kz_rng_uniform(r);
    p.slippage_bps = kz_rng_uniform(r) < 0.2 ? 0.0 : 10 * kz_rng_uniform(r);
    p.funding = kz_rng_uniform(r) < 0.8;
    return p;
}

static inline int same_rule(const kz_rule *a, const kz_rule *b)
{
    if (a->logic != b->logic || a->n_conds != b->n_conds) {
        return 0;
    }
    for (int k = 0; k < a->n_conds; k++) {
        const kz_condition *x = &a->conds[k], *y = &b->conds[k];
        if (strcmp(x->left, y->left) != 0 || x->op != y->op ||
            x->right_is_const != y->right_is_const ||
            (x->right_is_const ? x->right_value != y->right_value
                               : strcmp(x->right, y->right) != 0)) {
            return 0;
        }
    }
    return 1;
}

static inline int same_strategy(const kz_strategy *a, const kz_strategy *b)
{
    return strcmp(a->name, b->name) == 0 && same_rule(&a->long_entry, &b->long_entry) &&
           same_rule(&a->short_entry, &b->short_entry) && same_rule(&a->exit, &b->exit) &&
           a->tpsl.method == b->tpsl.method && a->tpsl.sl_pct == b->tpsl.sl_pct &&
           a->tpsl.tp_pct == b->tpsl.tp_pct && a->tpsl.rr == b->tpsl.rr &&
           a->tpsl.atr_period == b->tpsl.atr_period && a->tpsl.atr_sl == b->tpsl.atr_sl &&
           a->tpsl.atr_tp == b->tpsl.atr_tp && a->sizing.method == b->sizing.method &&
           a->sizing.fraction == b->sizing.fraction &&
           a->sizing.target_vol == b->sizing.target_vol &&
           a->sizing.vol_period == b->sizing.vol_period && a->sizing.qty == b->sizing.qty &&
           a->leverage == b->leverage;
}

/* Every metric of a and b within `tol` (relative, or absolute near zero). Returns mismatches. */
static inline int metrics_match(const kz_bt_metrics *a, const kz_bt_metrics *b, double tol)
{
    const double x[] = {
        a->final_equity,     a->total_return,  a->cagr,     a->sharpe,        a->sortino,
        a->max_drawdown,     a->calmar,        a->win_rate, a->profit_factor, a->expectancy,
        a->avg_trade_return, a->avg_bars_held, a->exposure, a->fees_paid,     a->funding_paid,
        a->buy_hold_return};
    const double y[] = {
        b->final_equity,     b->total_return,  b->cagr,     b->sharpe,        b->sortino,
        b->max_drawdown,     b->calmar,        b->win_rate, b->profit_factor, b->expectancy,
        b->avg_trade_return, b->avg_bars_held, b->exposure, b->fees_paid,     b->funding_paid,
        b->buy_hold_return};
    int bad = 0;
    for (size_t k = 0; k < sizeof x / sizeof x[0]; k++) {
        if (!kz_near(x[k], y[k], tol)) {
            fprintf(stderr, "  metric %zu: %.17g vs %.17g\n", k, x[k], y[k]);
            bad++;
        }
    }
    bad += a->n_trades != b->n_trades || a->n_long != b->n_long || a->n_short != b->n_short ||
           a->n_wins != b->n_wins || a->max_dd_bars != b->max_dd_bars;
    return bad;
}

/* Fast (metrics only and recording) against the reference: metrics to tol, trades and equity
 * bit for bit. Returns the number of trades (for coverage statistics), -1 on mismatch. */
static inline long
check_fast_vs_ref(const kz_colset *cs, const kz_strategy *s, const kz_bt_params *p, double tol)
{
    kz_bt_result fast, rec, ref;
    kz_bt_params pr = *p;
    pr.record = 1;
    kz_error err;
    if (kz_backtest(cs, s, p, &fast, &err) != KZ_OK || kz_backtest(cs, s, &pr, &rec, &err) ||
        kz_backtest_ref(cs, s, p, &ref, &err) != KZ_OK) {
        fprintf(stderr, "backtest failed: %s: %s\n", err.field, err.msg);
        return -1;
    }
    int bad = metrics_match(&fast.m, &ref.m, tol) + metrics_match(&rec.m, &fast.m, 0.0);
    bad += rec.n_trades != ref.n_trades || rec.n_equity != ref.n_equity;
    for (size_t k = 0; !bad && k < ref.n_trades; k++) {
        const kz_trade *a = &rec.trades[k], *b = &ref.trades[k];
        bad += a->side != b->side || a->entry_bar != b->entry_bar || a->exit_bar != b->exit_bar ||
               a->qty != b->qty || a->entry_price != b->entry_price ||
               a->exit_price != b->exit_price || a->pnl != b->pnl || a->funding != b->funding ||
               a->fees != b->fees || a->reason != b->reason || a->bars_held != b->bars_held;
    }
    for (size_t t = 0; !bad && t < ref.n_equity; t++) {
        bad += rec.equity[t] != ref.equity[t];
    }
    long n = bad ? -1 : (long)ref.n_trades;
    kz_bt_result_free(&fast);
    kz_bt_result_free(&rec);
    kz_bt_result_free(&ref);
    return n;
}

/* A causal pseudo-probability column with a NaN warm-up: a squashed 10-bar return. */
static inline void make_ml_column(const kz_market *m, double *out)
{
    for (size_t i = 0; i < m->bars.n; i++) {
        out[i] = i < 10 ? NAN
                        : 1.0 / (1.0 + exp(-50.0 * (m->bars.close[i] / m->bars.close[i - 10] - 1)));
    }
}

/* Run `count` random strategies; fails the test on any mismatch. Returns total trades. */
static inline long random_fast_vs_ref(kz_colset *cs, uint64_t seed, int count)
{
    kz_rng r;
    kz_rng_seed(&r, seed);
    long total = 0;
    int failures = 0;
    double ref_price = kz_colset_market(cs)->bars.close[kz_colset_n_bars(cs) / 2];
    for (int i = 0; i < count; i++) {
        kz_strategy s = gen_strategy(&r, ref_price);
        kz_bt_params p = gen_params(&r);
        kz_error err;
        kz_status st = kz_colset_prepare(cs, &s, &err);
        CHECK_MSG(st == KZ_OK, "prepare: %s: %s", err.field, err.msg);
        if (st != KZ_OK) {
            continue;
        }
        long n = check_fast_vs_ref(cs, &s, &p, 1e-9);
        if (n < 0 && failures++ < 3) {
            char *json = NULL;
            if (kz_strategy_to_json(&s, &json) == KZ_OK) {
                fprintf(stderr, "mismatch on strategy %d:\n%s\n", i, json);
            }
            kz_free(json);
        }
        total += n > 0 ? n : 0;
    }
    CHECK_EQ_INT(failures, 0);
    return total;
}

#endif
