/* The fast backtester. DESIGN: every rule is first evaluated for the whole series into one byte
 * per bar (vectorisable loops, bit 0 long, 1 short, 2 exit, 3 "exactly one entry side"); the event
 * loop then jumps over flat stretches by scanning for bit 3 eight bytes at a time and steps bar by
 * bar only while a position is open. Metrics accumulate in the loop, so a metrics-only run
 * allocates nothing but the mask. Semantics (docs/backtest.md) equal backtest_ref.c's. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/strategy_int.h"

enum { SIG_LONG = 1, SIG_SHORT = 2, SIG_EXIT = 4, SIG_ENTRY = 8 };

/* Inlined into the event loop so the state stays in registers instead of behind a pointer. */
#if defined(__GNUC__) || defined(__clang__)
#    define HOT_INLINE static inline __attribute__((always_inline))
#else
#    define HOT_INLINE static inline
#endif

/* ---------------------------------------------------------------- resolving names */
static kz_status resolve_rule(
    const kz_colset *cs, const kz_rule *r, const char *rname, kz_bt_cond *out, kz_error *err)
{
    for (int k = 0; k < r->n_conds; k++) {
        const kz_condition *c = &r->conds[k];
        int li = kz_colset_find(cs, c->left);
        int ri = c->right_is_const ? 0 : kz_colset_find(cs, c->right);
        if (li < 0 || ri < 0) {
            char f[64];
            snprintf(f, sizeof f, "%s.%s[%d].%s", rname, r->logic == KZ_LOGIC_OR ? "any" : "all", k,
                     li < 0 ? "left" : "right");
            return kz_bt_err(err, KZ_ERR_NOT_FOUND, f,
                             "column '%s' is not in the column set (kz_colset_prepare adds it)",
                             li < 0 ? c->left : c->right);
        }
        out[k].l = cs->cols[li].data;
        out[k].r = c->right_is_const ? NULL : cs->cols[ri].data;
        out[k].c = c->right_is_const ? c->right_value : 0.0;
        out[k].op = c->op;
    }
    return KZ_OK;
}

static kz_status resolve_spec(
    const kz_colset *cs, const char *spec, const char *field, const double **out, kz_error *err)
{
    int i = kz_colset_find(cs, spec);
    if (i < 0) {
        return kz_bt_err(err, KZ_ERR_NOT_FOUND, field,
                         "column '%s' is not in the column set (kz_colset_prepare adds it)", spec);
    }
    *out = cs->cols[i].data;
    return KZ_OK;
}

kz_status kz_bt_resolve(const kz_colset *cs,
                        const kz_strategy *s,
                        const kz_bt_params *p,
                        kz_bt_plan *plan,
                        kz_error *err)
{
    if (!cs || !s || !p) {
        return kz_bt_err(err, KZ_ERR_INVALID, NULL, "NULL argument");
    }
    kz_status st = kz_bt_params_check(p, err);
    if (st != KZ_OK || (st = kz_strategy_check(s, err)) != KZ_OK) {
        return st;
    }
    memset(plan, 0, sizeof *plan);
    const kz_rule *rules[KZ_BT_N_RULES] = {&s->long_entry, &s->short_entry, &s->exit};
    const char *names[KZ_BT_N_RULES] = {"long_entry", "short_entry", "exit"};
    for (int k = 0; k < KZ_BT_N_RULES; k++) {
        plan->n_conds[k] = rules[k]->n_conds;
        plan->logic[k] = rules[k]->logic;
        if ((st = resolve_rule(cs, rules[k], names[k], plan->conds[k], err)) != KZ_OK) {
            return st;
        }
    }
    char spec[KZ_COL_NAME_MAX];
    if (s->tpsl.method == KZ_TPSL_ATR) {
        kz_bt_atr_spec(s->tpsl.atr_period, spec, sizeof spec);
        if ((st = resolve_spec(cs, spec, "tpsl.atr_period", &plan->atr, err)) != KZ_OK) {
            return st;
        }
    }
    if (s->sizing.method == KZ_SIZE_VOL_TARGET) {
        kz_bt_rvol_spec(s->sizing.vol_period, spec, sizeof spec);
        if ((st = resolve_spec(cs, spec, "sizing.vol_period", &plan->rvol, err)) != KZ_OK) {
            return st;
        }
    }
    plan->bars_per_year = kz_bt_bars_per_year(cs->m->tf);
    return KZ_OK;
}

/* ---------------------------------------------------------------- masks */
enum { MODE_SET, MODE_AND, MODE_OR };

/* One loop per (operator, operand kind, combine mode): each is a plain compare-and-store that
 * the compiler vectorises. IEEE comparisons with NaN are false, which is the rule we want. */
#define MASK_LOOP(FROM, EXPR)                                                                      \
    do {                                                                                           \
        if (mode == MODE_SET) {                                                                    \
            for (size_t i = (FROM); i < n; i++) {                                                  \
                m[i] = (uint8_t)(EXPR);                                                            \
            }                                                                                      \
        } else if (mode == MODE_AND) {                                                             \
            for (size_t i = (FROM); i < n; i++) {                                                  \
                m[i] = (uint8_t)(m[i] & (EXPR));                                                   \
            }                                                                                      \
        } else {                                                                                   \
            for (size_t i = (FROM); i < n; i++) {                                                  \
                m[i] = (uint8_t)(m[i] | (EXPR));                                                   \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void cond_mask(const kz_bt_cond *c, size_t n, int mode, uint8_t *restrict m)
{
    const double *restrict l = c->l;
    const double *restrict r = c->r;
    const double k = c->c;
    if (c->op == KZ_OP_CROSS_ABOVE || c->op == KZ_OP_CROSS_BELOW) {
        if (mode != MODE_OR) {
            m[0] = 0; /* no bar before the first */
        }
    }
    switch (c->op) {
    case KZ_OP_GT:
        if (r) {
            MASK_LOOP(0, l[i] > r[i]);
        } else {
            MASK_LOOP(0, l[i] > k);
        }
        break;
    case KZ_OP_LT:
        if (r) {
            MASK_LOOP(0, l[i] < r[i]);
        } else {
            MASK_LOOP(0, l[i] < k);
        }
        break;
    case KZ_OP_GE:
        if (r) {
            MASK_LOOP(0, l[i] >= r[i]);
        } else {
            MASK_LOOP(0, l[i] >= k);
        }
        break;
    case KZ_OP_LE:
        if (r) {
            MASK_LOOP(0, l[i] <= r[i]);
        } else {
            MASK_LOOP(0, l[i] <= k);
        }
        break;
    case KZ_OP_CROSS_ABOVE:
        if (r) {
            MASK_LOOP(1, (l[i - 1] <= r[i - 1]) & (l[i] > r[i]));
        } else {
            MASK_LOOP(1, (l[i - 1] <= k) & (l[i] > k));
        }
        break;
    case KZ_OP_CROSS_BELOW:
        if (r) {
            MASK_LOOP(1, (l[i - 1] >= r[i - 1]) & (l[i] < r[i]));
        } else {
            MASK_LOOP(1, (l[i - 1] >= k) & (l[i] < k));
        }
        break;
    }
}

/* sig[i] = bits of every rule at bar i; tmp is n bytes of scratch. */
static void
build_signals(const kz_bt_plan *plan, size_t n, uint8_t *restrict sig, uint8_t *restrict tmp)
{
    memset(sig, 0, n);
    for (int rule = 0; rule < KZ_BT_N_RULES; rule++) {
        int nc = plan->n_conds[rule];
        if (nc == 0) {
            continue; /* an empty rule never fires */
        }
        int comb = plan->logic[rule] == KZ_LOGIC_OR ? MODE_OR : MODE_AND;
        for (int k = 0; k < nc; k++) {
            cond_mask(&plan->conds[rule][k], n, k == 0 ? MODE_SET : comb, tmp);
        }
        for (size_t i = 0; i < n; i++) {
            sig[i] = (uint8_t)(sig[i] | (tmp[i] << rule));
        }
    }
    for (size_t i = 0; i < n; i++) {
        sig[i] = (uint8_t)(sig[i] | (((sig[i] ^ (sig[i] >> 1)) & 1u) << 3));
    }
}

/* First i in [from, lim) with SIG_ENTRY set, else lim. */
static size_t scan_entry(const uint8_t *sig, size_t from, size_t lim)
{
    const uint64_t bits = 0x0808080808080808ull;
    size_t i = from;
    while (i + 8 <= lim) {
        uint64_t w;
        memcpy(&w, sig + i, 8);
        if (w & bits) {
            break;
        }
        i += 8;
    }
    while (i < lim && !(sig[i] & SIG_ENTRY)) {
        i++;
    }
    return i;
}

/* ---------------------------------------------------------------- the event loop */
typedef struct fast_state {
    double slip, fee, cash;
    int pos;
    double qty, entry, stop, take, eq_before, fees, funding;
    size_t entry_bar;
    /* trade statistics */
    size_t n_trades, n_long, n_short, n_wins, held;
    double gross_win, gross_loss, sum_pnl, sum_ret, fees_paid, funding_paid;
    /* recording (NULL when off) */
    int record;
    kz_trade *trades;
    size_t cap;
    const int64_t *ts;
    kz_status st;
} fast_state;

HOT_INLINE void fs_close(fast_state *s, double price, kz_exit_reason why, size_t bar, size_t held)
{
    double fee_out = s->fee * s->qty * price;
    double gross = s->pos * s->qty * (price - s->entry);
    s->cash += gross - fee_out;
    double fees = s->fees + fee_out;
    double pnl = gross - fees - s->funding;
    double ret = pnl / s->eq_before;
    s->n_trades++;
    s->n_long += s->pos > 0;
    s->n_short += s->pos < 0;
    if (pnl > 0) {
        s->n_wins++;
        s->gross_win += pnl;
    } else {
        s->gross_loss -= pnl;
    }
    s->sum_pnl += pnl;
    s->sum_ret += ret;
    s->held += held;
    s->fees_paid += fees;
    s->funding_paid += s->funding;
    if (s->record) {
        if (s->n_trades > s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            kz_trade *nt = kz_realloc_array(s->trades, cap, sizeof *nt);
            if (!nt) {
                s->st = KZ_ERR_NOMEM;
                s->record = 0;
                s->pos = 0;
                return;
            }
            s->trades = nt;
            s->cap = cap;
        }
        kz_trade *tr = &s->trades[s->n_trades - 1];
        memset(tr, 0, sizeof *tr);
        tr->side = s->pos;
        tr->entry_bar = s->entry_bar;
        tr->exit_bar = bar;
        tr->entry_ms = s->ts[s->entry_bar];
        tr->exit_ms = s->ts[bar];
        tr->qty = s->qty;
        tr->entry_price = s->entry;
        tr->exit_price = price;
        tr->fees = fees;
        tr->funding = s->funding;
        tr->pnl = pnl;
        tr->ret = ret;
        tr->bars_held = held;
        tr->reason = why;
    }
    s->pos = 0;
}

/* Entry at bar t's open for the signal of bar t-1; see open_position in backtest_ref.c. */
HOT_INLINE void fs_open(
    fast_state *s, const kz_strategy *st, const kz_bt_plan *plan, int side, double open, size_t t)
{
    if (!(s->cash > 0)) {
        return;
    }
    double fill = open * (1.0 + side * s->slip);
    double qty;
    if (st->sizing.method == KZ_SIZE_FIXED_QTY) {
        qty = st->sizing.qty;
    } else if (st->sizing.method == KZ_SIZE_VOL_TARGET) {
        double v = plan->rvol[t - 1];
        if (!(v > 0) || !isfinite(v)) {
            return;
        }
        double e = st->sizing.target_vol / v;
        qty = s->cash * (e > st->leverage ? st->leverage : e) / fill;
    } else {
        qty = s->cash * st->sizing.fraction * st->leverage / fill;
    }
    double stop = side > 0 ? -INFINITY : INFINITY, take = -stop;
    const kz_tpsl *tp = &st->tpsl;
    if (tp->method == KZ_TPSL_FIXED || tp->method == KZ_TPSL_RR) {
        double tpp = tp->method == KZ_TPSL_RR ? tp->sl_pct * tp->rr : tp->tp_pct;
        stop = tp->sl_pct > 0 ? fill * (1.0 - side * tp->sl_pct) : stop;
        take = tpp > 0 ? fill * (1.0 + side * tpp) : take;
    } else if (tp->method == KZ_TPSL_ATR) {
        double a = plan->atr[t - 1];
        if (!isfinite(a)) {
            return;
        }
        stop = tp->atr_sl > 0 ? fill - side * tp->atr_sl * a : stop;
        take = tp->atr_tp > 0 ? fill + side * tp->atr_tp * a : take;
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
}

kz_status kz_backtest(const kz_colset *cs,
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
    const size_t n = b->n;
    const double *O = b->open, *H = b->high, *L = b->low, *C = b->close;
    const double *fund = cs->fund_settle;
    uint8_t *sig = kz_malloc_array(n, 2);
    double *eq = p->record ? kz_malloc_array(n, sizeof *eq) : NULL;
    if (!sig || (p->record && !eq)) {
        kz_free(sig);
        kz_free(eq);
        return kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
    }
    build_signals(&plan, n, sig, sig + n);

    fast_state s;
    memset(&s, 0, sizeof s);
    s.slip = p->slippage_bps * 1e-4;
    s.fee = p->fee_rate;
    s.cash = p->initial_equity;
    s.record = p->record;
    s.ts = b->ts_ms;
    const int charge_funding = p->funding;
    double e_prev = s.cash, peak = s.cash, max_dd = 0, sum_r = 0, sum_r2 = 0, down2 = 0;
    size_t last_peak = 0, max_dur = 0;
    int want_side = 0, want_exit = 0;
    size_t t = 0;
    while (t < n) {
        if (s.pos == 0 && want_side == 0) {
            /* flat: equity is the cash for every bar up to the next entry signal */
            size_t e = s.cash > 0 ? scan_entry(sig, t, n - 1) : n - 1;
            if (s.cash >= peak) {
                peak = s.cash;
                last_peak = e;
            } else {
                double dd = (peak - s.cash) / peak;
                max_dd = dd > max_dd ? dd : max_dd;
                max_dur = e - last_peak > max_dur ? e - last_peak : max_dur;
            }
            if (eq) {
                for (size_t i = t; i <= e; i++) {
                    eq[i] = s.cash;
                }
            }
            if (e >= n - 1) {
                break;
            }
            want_side = (sig[e] & SIG_LONG) ? 1 : -1;
            e_prev = s.cash;
            t = e + 1;
            continue;
        }
        const double o = O[t];
        if (s.pos != 0) {
            if (want_exit) {
                fs_close(&s, o * (1.0 - s.pos * s.slip), KZ_EXIT_SIGNAL, t, t - s.entry_bar);
            } else if (s.pos > 0 ? o <= s.stop : o >= s.stop) {
                fs_close(&s, o * (1.0 - s.pos * s.slip), KZ_EXIT_STOP, t, t - s.entry_bar);
            } else if (s.pos > 0 ? o >= s.take : o <= s.take) {
                fs_close(&s, o, KZ_EXIT_TAKE, t, t - s.entry_bar);
            }
        }
        if (want_side != 0 && s.pos == 0) {
            fs_open(&s, strat, &plan, want_side, o, t);
        }
        want_exit = 0;
        want_side = 0;
        if (s.pos != 0) {
            if (charge_funding && fund[t] != 0) {
                double pay = s.pos * s.qty * o * fund[t];
                s.cash -= pay;
                s.funding += pay;
            }
            if (s.pos > 0) {
                if (L[t] <= s.stop) {
                    fs_close(&s, s.stop * (1.0 - s.slip), KZ_EXIT_STOP, t, t - s.entry_bar + 1);
                } else if (H[t] >= s.take) {
                    fs_close(&s, s.take, KZ_EXIT_TAKE, t, t - s.entry_bar + 1);
                }
            } else {
                if (H[t] >= s.stop) {
                    fs_close(&s, s.stop * (1.0 + s.slip), KZ_EXIT_STOP, t, t - s.entry_bar + 1);
                } else if (L[t] <= s.take) {
                    fs_close(&s, s.take, KZ_EXIT_TAKE, t, t - s.entry_bar + 1);
                }
            }
            if (s.pos != 0 && t == n - 1) {
                fs_close(&s, C[t] * (1.0 - s.pos * s.slip), KZ_EXIT_END, t, t - s.entry_bar + 1);
            }
        }
        const double e = s.pos != 0 ? s.cash + s.pos * s.qty * (C[t] - s.entry) : s.cash;
        const double r = e_prev > 0 ? e / e_prev - 1.0 : 0.0;
        sum_r += r;
        sum_r2 += r * r;
        down2 += r < 0 ? r * r : 0.0;
        if (e >= peak) {
            peak = e;
            last_peak = t;
        } else {
            double dd = (peak - e) / peak;
            max_dd = dd > max_dd ? dd : max_dd;
            max_dur = t - last_peak > max_dur ? t - last_peak : max_dur;
        }
        e_prev = e;
        if (eq) {
            eq[t] = e;
        }
        if (t + 1 < n) {
            const unsigned g = sig[t];
            const int dir = (g & SIG_ENTRY) ? ((g & SIG_LONG) ? 1 : -1) : 0;
            if (s.pos == 0) {
                want_side = dir;
            } else if ((g & SIG_EXIT) || dir == -s.pos) {
                want_exit = 1;
                want_side = dir == -s.pos ? dir : 0;
            }
        }
        t++;
    }
    kz_free(sig);
    if (s.st != KZ_OK) {
        kz_free(eq);
        kz_free(s.trades);
        return kz_bt_err(err, s.st, NULL, "out of memory recording trades");
    }

    kz_bt_metrics *m = &res->m;
    const double ann = sqrt(plan.bars_per_year);
    const double n_r = (double)(n - 1);
    m->n_bars = n;
    m->bars_per_year = plan.bars_per_year;
    m->initial_equity = p->initial_equity;
    m->final_equity = s.cash;
    m->total_return = s.cash / p->initial_equity - 1.0;
    m->cagr =
        s.cash > 0 ? pow(s.cash / p->initial_equity, plan.bars_per_year / (double)n) - 1.0 : -1.0;
    double mean = n > 1 ? sum_r / n_r : 0.0;
    double var = n > 2 ? (sum_r2 - sum_r * mean) / (n_r - 1.0) : 0.0;
    double down = n > 1 ? sqrt(down2 / n_r) : 0.0;
    m->sharpe = var > 0 ? mean / sqrt(var) * ann : 0.0;
    m->sortino = down > 0 ? mean / down * ann : 0.0;
    m->max_drawdown = max_dd;
    m->max_dd_bars = max_dur;
    m->calmar = max_dd > 0 ? m->cagr / max_dd : 0.0;
    m->n_trades = s.n_trades;
    m->n_long = s.n_long;
    m->n_short = s.n_short;
    m->n_wins = s.n_wins;
    if (s.n_trades > 0) {
        double nt = (double)s.n_trades;
        m->win_rate = (double)s.n_wins / nt;
        m->expectancy = s.sum_pnl / nt;
        m->avg_trade_return = s.sum_ret / nt;
        m->avg_bars_held = (double)s.held / nt;
    }
    m->profit_factor =
        s.gross_loss > 0 ? s.gross_win / s.gross_loss : (s.gross_win > 0 ? INFINITY : 0.0);
    m->exposure = (double)s.held / (double)n;
    m->fees_paid = s.fees_paid;
    m->funding_paid = s.funding_paid;
    m->buy_hold_return = C[n - 1] / C[0] - 1.0;
    if (p->record) {
        res->equity = eq;
        res->n_equity = n;
        res->trades = s.trades;
        res->n_trades = s.n_trades;
    }
    return KZ_OK;
}
