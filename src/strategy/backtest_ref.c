/* Reference backtester: docs/backtest.md's rules written out bar by bar, for clarity rather than
 * speed. The tests require the fast engine (backtest.c) to reproduce it on random strategies. */
#include <math.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/strategy_int.h"

typedef struct ref_state {
    const kz_bars *b;
    double slip, fee;
    double cash;
    int pos; /* +1 long, -1 short, 0 flat */
    double qty, entry, stop, take, eq_before, fees, funding;
    size_t entry_bar;
    kz_trade *trades;
    size_t n_trades, cap;
    kz_status st;
} ref_state;

static int cond_true(const kz_bt_cond *c, size_t t)
{
    double l = c->l[t];
    double r = c->r ? c->r[t] : c->c;
    if (isnan(l) || isnan(r)) {
        return 0;
    }
    if (c->op == KZ_OP_GT) {
        return l > r;
    }
    if (c->op == KZ_OP_LT) {
        return l < r;
    }
    if (c->op == KZ_OP_GE) {
        return l >= r;
    }
    if (c->op == KZ_OP_LE) {
        return l <= r;
    }
    if (t == 0) {
        return 0;
    }
    double lp = c->l[t - 1];
    double rp = c->r ? c->r[t - 1] : c->c;
    if (isnan(lp) || isnan(rp)) {
        return 0;
    }
    if (c->op == KZ_OP_CROSS_ABOVE) {
        return lp <= rp && l > r;
    }
    return lp >= rp && l < r;
}

static int rule_true(const kz_bt_plan *plan, int rule, size_t t)
{
    int n = plan->n_conds[rule];
    if (n == 0) {
        return 0;
    }
    int any = 0, all = 1;
    for (int k = 0; k < n; k++) {
        int v = cond_true(&plan->conds[rule][k], t);
        any = any || v;
        all = all && v;
    }
    return plan->logic[rule] == KZ_LOGIC_OR ? any : all;
}

static void close_position(ref_state *s, double price, kz_exit_reason why, size_t bar, size_t held)
{
    double fee_out = s->fee * s->qty * price;
    double gross = s->pos * s->qty * (price - s->entry);
    s->cash += gross - fee_out;
    if (s->n_trades == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        kz_trade *nt = kz_realloc_array(s->trades, cap, sizeof *nt);
        if (!nt) {
            s->st = KZ_ERR_NOMEM;
            s->pos = 0;
            return;
        }
        s->trades = nt;
        s->cap = cap;
    }
    kz_trade *tr = &s->trades[s->n_trades++];
    memset(tr, 0, sizeof *tr);
    tr->side = s->pos;
    tr->entry_bar = s->entry_bar;
    tr->exit_bar = bar;
    tr->entry_ms = s->b->ts_ms[s->entry_bar];
    tr->exit_ms = s->b->ts_ms[bar];
    tr->qty = s->qty;
    tr->entry_price = s->entry;
    tr->exit_price = price;
    tr->fees = s->fees + fee_out;
    tr->funding = s->funding;
    tr->pnl = gross - tr->fees - tr->funding;
    tr->ret = tr->pnl / s->eq_before;
    tr->bars_held = held;
    tr->reason = why;
    s->pos = 0;
}

/* Open a position at bar t's open on the signal of bar t-1; returns 0 if the entry is skipped
 * (no equity, or the sizing/stop input of the signal bar is NaN). */
static int
open_position(ref_state *s, const kz_strategy *st, const kz_bt_plan *plan, int side, size_t t)
{
    size_t sig = t - 1;
    if (!(s->cash > 0)) {
        return 0;
    }
    double fill = s->b->open[t] * (1.0 + side * s->slip);
    double qty;
    if (st->sizing.method == KZ_SIZE_FIXED_QTY) {
        qty = st->sizing.qty;
    } else if (st->sizing.method == KZ_SIZE_VOL_TARGET) {
        double v = plan->rvol[sig];
        if (!(v > 0) || !isfinite(v)) {
            return 0;
        }
        double exposure = st->sizing.target_vol / v;
        if (exposure > st->leverage) {
            exposure = st->leverage;
        }
        qty = s->cash * exposure / fill;
    } else {
        qty = s->cash * st->sizing.fraction * st->leverage / fill;
    }
    double stop = side > 0 ? -INFINITY : INFINITY;
    double take = -stop;
    const kz_tpsl *tp = &st->tpsl;
    if (tp->method == KZ_TPSL_FIXED || tp->method == KZ_TPSL_RR) {
        double tp_pct = tp->method == KZ_TPSL_RR ? tp->sl_pct * tp->rr : tp->tp_pct;
        if (tp->sl_pct > 0) {
            stop = fill * (1.0 - side * tp->sl_pct);
        }
        if (tp_pct > 0) {
            take = fill * (1.0 + side * tp_pct);
        }
    } else if (tp->method == KZ_TPSL_ATR) {
        double atr = plan->atr[sig];
        if (!isfinite(atr)) {
            return 0;
        }
        if (tp->atr_sl > 0) {
            stop = fill - side * tp->atr_sl * atr;
        }
        if (tp->atr_tp > 0) {
            take = fill + side * tp->atr_tp * atr;
        }
    }
    s->pos = side;
    s->qty = qty;
    s->entry = fill;
    s->stop = stop;
    s->take = take;
    s->eq_before = s->cash;
    s->fees = s->fee * qty * fill;
    s->funding = 0;
    s->entry_bar = t;
    s->cash -= s->fees;
    return 1;
}

/* Funding settled in each bar, mapped by binary search (struct kz_colset explains the rule). */
static kz_status settle_per_bar(const kz_market *m, double **out)
{
    const kz_bars *b = &m->bars;
    int64_t dur = kz_timeframe_ms(m->tf);
    double *f = kz_calloc(b->n, sizeof *f);
    if (!f) {
        return KZ_ERR_NOMEM;
    }
    for (size_t k = 0; k < m->funding_raw.n; k++) {
        int64_t ts = m->funding_raw.ts_ms[k];
        if (ts < b->ts_ms[0] || ts >= b->ts_ms[b->n - 1] + dur) {
            continue;
        }
        size_t lo = 0, hi = b->n - 1; /* first bar with ts_ms + dur > ts */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (b->ts_ms[mid] + dur > ts) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        f[lo] += m->funding_raw.value[k];
    }
    *out = f;
    return KZ_OK;
}

kz_status kz_backtest_ref(const kz_colset *cs,
                          const kz_strategy *strat,
                          const kz_bt_params *p,
                          kz_bt_result *res,
                          kz_error *err)
{
    if (!res) {
        return kz_bt_err(err, KZ_ERR_INVALID, "res", "NULL result");
    }
    memset(res, 0, sizeof *res);
    kz_bt_plan plan;
    kz_status st = kz_bt_resolve(cs, strat, p, &plan, err);
    if (st != KZ_OK) {
        return st;
    }
    const kz_bars *b = &cs->m->bars;
    size_t n = b->n;
    double *fund = NULL;
    double *equity = kz_malloc_array(n, sizeof *equity);
    if (!equity || settle_per_bar(cs->m, &fund) != KZ_OK) {
        kz_free(equity);
        return kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
    }
    ref_state s;
    memset(&s, 0, sizeof s);
    s.b = b;
    s.slip = p->slippage_bps * 1e-4;
    s.fee = p->fee_rate;
    s.cash = p->initial_equity;
    int want_exit = 0, want_side = 0;
    for (size_t t = 0; t < n; t++) {
        double o = b->open[t], h = b->high[t], l = b->low[t], c = b->close[t];
        /* 1. the open: orders decided at the previous close, then stops/targets gapped through */
        if (s.pos != 0 && want_exit) {
            close_position(&s, o * (1.0 - s.pos * s.slip), KZ_EXIT_SIGNAL, t, t - s.entry_bar);
        } else if (s.pos > 0 && o <= s.stop) {
            close_position(&s, o * (1.0 - s.slip), KZ_EXIT_STOP, t, t - s.entry_bar);
        } else if (s.pos > 0 && o >= s.take) {
            close_position(&s, o, KZ_EXIT_TAKE, t, t - s.entry_bar);
        } else if (s.pos < 0 && o >= s.stop) {
            close_position(&s, o * (1.0 + s.slip), KZ_EXIT_STOP, t, t - s.entry_bar);
        } else if (s.pos < 0 && o <= s.take) {
            close_position(&s, o, KZ_EXIT_TAKE, t, t - s.entry_bar);
        }
        if (want_side != 0 && s.pos == 0) {
            open_position(&s, strat, &plan, want_side, t);
        }
        want_exit = 0;
        want_side = 0;
        /* 2. funding settled in this bar, at its open price */
        if (s.pos != 0 && p->funding && fund[t] != 0) {
            double pay = s.pos * s.qty * o * fund[t];
            s.cash -= pay;
            s.funding += pay;
        }
        /* 3. inside the bar: the stop first when both levels are touched */
        if (s.pos > 0 && l <= s.stop) {
            close_position(&s, s.stop * (1.0 - s.slip), KZ_EXIT_STOP, t, t - s.entry_bar + 1);
        } else if (s.pos > 0 && h >= s.take) {
            close_position(&s, s.take, KZ_EXIT_TAKE, t, t - s.entry_bar + 1);
        } else if (s.pos < 0 && h >= s.stop) {
            close_position(&s, s.stop * (1.0 + s.slip), KZ_EXIT_STOP, t, t - s.entry_bar + 1);
        } else if (s.pos < 0 && l <= s.take) {
            close_position(&s, s.take, KZ_EXIT_TAKE, t, t - s.entry_bar + 1);
        }
        /* 4. the close: end of data, mark to market, decide for the next open */
        if (s.pos != 0 && t == n - 1) {
            close_position(&s, c * (1.0 - s.pos * s.slip), KZ_EXIT_END, t, t - s.entry_bar + 1);
        }
        equity[t] = s.pos != 0 ? s.cash + s.pos * s.qty * (c - s.entry) : s.cash;
        if (t + 1 < n) {
            int lg = rule_true(&plan, KZ_BT_LONG, t);
            int sh = rule_true(&plan, KZ_BT_SHORT, t);
            int dir = (lg && !sh) ? 1 : ((sh && !lg) ? -1 : 0);
            if (s.pos == 0) {
                want_side = dir;
            } else if (rule_true(&plan, KZ_BT_EXIT, t) || dir == -s.pos) {
                want_exit = 1;
                want_side = dir == -s.pos ? dir : 0;
            }
        }
    }
    kz_free(fund);
    if (s.st != KZ_OK) {
        kz_free(equity);
        kz_free(s.trades);
        return kz_bt_err(err, s.st, NULL, "out of memory");
    }
    kz_bt_metrics_from_curve(cs, equity, s.trades, s.n_trades, p->initial_equity,
                             plan.bars_per_year, &res->m);
    res->equity = equity;
    res->n_equity = n;
    res->trades = s.trades;
    res->n_trades = s.n_trades;
    return KZ_OK;
}
