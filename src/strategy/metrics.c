/* Backtest parameters, metrics from an equity curve and trade list, and the result's CSV/JSON
 * outputs. Sharpe (1966/1994) and Sortino & Price (1994) on per-bar returns, annualised by
 * sqrt(bars per year); Calmar = CAGR / max drawdown (Young 1991). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/strategy_int.h"

kz_bt_params kz_bt_params_default(void)
{
    kz_bt_params p;
    memset(&p, 0, sizeof p);
    p.initial_equity = 100000.0;
    p.fee_rate = 0.00055;
    p.slippage_bps = 2.0;
    p.funding = 1;
    p.record = 0;
    return p;
}

kz_status kz_bt_params_check(const kz_bt_params *p, kz_error *err)
{
    if (!p) {
        return kz_bt_err(err, KZ_ERR_INVALID, "params", "NULL params");
    }
    if (!isfinite(p->initial_equity) || p->initial_equity <= 0) {
        return kz_bt_err(err, KZ_ERR_INVALID, "initial_equity", "must be > 0");
    }
    if (!isfinite(p->fee_rate) || p->fee_rate < 0 || p->fee_rate >= 0.1) {
        return kz_bt_err(err, KZ_ERR_INVALID, "fee_rate", "must be in [0, 0.1)");
    }
    if (!isfinite(p->slippage_bps) || p->slippage_bps < 0 || p->slippage_bps >= 1000) {
        return kz_bt_err(err, KZ_ERR_INVALID, "slippage_bps", "must be in [0, 1000)");
    }
    return KZ_OK;
}

const char *kz_exit_reason_str(kz_exit_reason r)
{
    switch (r) {
    case KZ_EXIT_SIGNAL:
        return "signal";
    case KZ_EXIT_STOP:
        return "stop";
    case KZ_EXIT_TAKE:
        return "take";
    case KZ_EXIT_END:
        return "end";
    }
    return "?";
}

void kz_bt_result_free(kz_bt_result *r)
{
    if (r) {
        kz_free(r->trades);
        kz_free(r->equity);
        memset(r, 0, sizeof *r);
    }
}

void kz_bt_metrics_from_curve(const kz_colset *cs,
                              const double *equity,
                              const kz_trade *trades,
                              size_t n_trades,
                              double initial_equity,
                              double bars_per_year,
                              kz_bt_metrics *m)
{
    size_t n = cs->n;
    const double *close = cs->m->bars.close;
    memset(m, 0, sizeof *m);
    m->n_bars = n;
    m->bars_per_year = bars_per_year;
    m->initial_equity = initial_equity;
    m->final_equity = equity[n - 1];
    m->total_return = m->final_equity / initial_equity - 1.0;
    double years = (double)n / bars_per_year;
    m->cagr = m->final_equity > 0 ? pow(m->final_equity / initial_equity, 1.0 / years) - 1.0 : -1.0;
    m->buy_hold_return = close[n - 1] / close[0] - 1.0;

    /* per-bar returns r_t = E_t / E_{t-1} - 1, t = 1..n-1 (0 once equity is gone) */
    size_t n_r = n - 1;
    double mean = 0, var = 0, down = 0;
    for (size_t t = 1; t < n; t++) {
        mean += equity[t - 1] > 0 ? equity[t] / equity[t - 1] - 1.0 : 0.0;
    }
    mean = n_r > 0 ? mean / (double)n_r : 0.0;
    for (size_t t = 1; t < n; t++) {
        double r = equity[t - 1] > 0 ? equity[t] / equity[t - 1] - 1.0 : 0.0;
        var += (r - mean) * (r - mean);
        down += r < 0 ? r * r : 0.0;
    }
    var = n_r > 1 ? var / (double)(n_r - 1) : 0.0;
    down = n_r > 0 ? sqrt(down / (double)n_r) : 0.0;
    double ann = sqrt(bars_per_year);
    m->sharpe = var > 0 ? mean / sqrt(var) * ann : 0.0;
    m->sortino = down > 0 ? mean / down * ann : 0.0;

    double peak = initial_equity;
    size_t last_peak = 0;
    for (size_t t = 0; t < n; t++) {
        if (equity[t] >= peak) {
            peak = equity[t];
            last_peak = t;
        }
        double dd = (peak - equity[t]) / peak;
        if (dd > m->max_drawdown) {
            m->max_drawdown = dd;
        }
        if (t - last_peak > m->max_dd_bars) {
            m->max_dd_bars = t - last_peak;
        }
    }
    m->calmar = m->max_drawdown > 0 ? m->cagr / m->max_drawdown : 0.0;

    double gross_win = 0, gross_loss = 0, sum_ret = 0, sum_pnl = 0;
    size_t held = 0;
    for (size_t k = 0; k < n_trades; k++) {
        const kz_trade *tr = &trades[k];
        m->n_long += tr->side > 0;
        m->n_short += tr->side < 0;
        if (tr->pnl > 0) {
            m->n_wins++;
            gross_win += tr->pnl;
        } else {
            gross_loss -= tr->pnl;
        }
        sum_pnl += tr->pnl;
        sum_ret += tr->ret;
        held += tr->bars_held;
        m->fees_paid += tr->fees;
        m->funding_paid += tr->funding;
    }
    m->n_trades = n_trades;
    if (n_trades > 0) {
        m->win_rate = (double)m->n_wins / (double)n_trades;
        m->expectancy = sum_pnl / (double)n_trades;
        m->avg_trade_return = sum_ret / (double)n_trades;
        m->avg_bars_held = (double)held / (double)n_trades;
    }
    m->profit_factor = gross_loss > 0 ? gross_win / gross_loss : (gross_win > 0 ? INFINITY : 0.0);
    m->exposure = (double)held / (double)n;
}

/* ---------------------------------------------------------------- outputs */
static kz_status open_out(const char *path, FILE **f, kz_error *err)
{
    *f = path ? fopen(path, "w") : NULL;
    if (!*f) {
        kz_status st = kz_bt_err(err, KZ_ERR_IO, "", "cannot write: %s", strerror(errno));
        if (err && path) {
            snprintf(err->file, sizeof err->file, "%s", path);
        }
        return st;
    }
    return KZ_OK;
}

static kz_status close_out(FILE *f, const char *path, kz_error *err)
{
    int bad = ferror(f);
    bad |= fclose(f);
    if (bad) {
        kz_status st = kz_bt_err(err, KZ_ERR_IO, "", "write error");
        if (err) {
            snprintf(err->file, sizeof err->file, "%s", path);
        }
        return st;
    }
    return KZ_OK;
}

kz_status kz_bt_write_trades_csv(const kz_bt_result *r, const char *path, kz_error *err)
{
    FILE *f = NULL;
    kz_status st = open_out(path, &f, err);
    if (st != KZ_OK || !r) {
        return st;
    }
    fprintf(f, "side,entry_time,exit_time,entry_bar,exit_bar,qty,entry_price,exit_price,fees,"
               "funding,pnl,return,bars_held,reason\n");
    for (size_t k = 0; k < r->n_trades; k++) {
        const kz_trade *t = &r->trades[k];
        char a[32], b[32];
        fprintf(f, "%s,%s,%s,%zu,%zu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%zu,%s\n",
                t->side > 0 ? "long" : "short", kz_time_format(t->entry_ms, a),
                kz_time_format(t->exit_ms, b), t->entry_bar, t->exit_bar, t->qty, t->entry_price,
                t->exit_price, t->fees, t->funding, t->pnl, t->ret, t->bars_held,
                kz_exit_reason_str(t->reason));
    }
    return close_out(f, path, err);
}

kz_status
kz_bt_write_equity_csv(const kz_colset *cs, const kz_bt_result *r, const char *path, kz_error *err)
{
    if (!cs || !r || r->n_equity != cs->n) {
        return kz_bt_err(err, KZ_ERR_INVALID, "equity", "no recorded equity curve for this set");
    }
    FILE *f = NULL;
    kz_status st = open_out(path, &f, err);
    if (st != KZ_OK) {
        return st;
    }
    fprintf(f, "timestamp,equity,drawdown\n");
    double peak = r->m.initial_equity;
    for (size_t t = 0; t < r->n_equity; t++) {
        char ts[32];
        peak = r->equity[t] > peak ? r->equity[t] : peak;
        fprintf(f, "%s,%.17g,%.17g\n", kz_time_format(cs->m->bars.ts_ms[t], ts), r->equity[t],
                (peak - r->equity[t]) / peak);
    }
    return close_out(f, path, err);
}

static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v)) {
        cJSON_AddNumberToObject(o, k, v);
    } else {
        cJSON_AddNullToObject(o, k);
    }
}

static void metrics_json(cJSON *o, const kz_bt_metrics *m)
{
    const struct {
        const char *k;
        double v;
    } rows[] = {{"initial_equity", m->initial_equity},
                {"final_equity", m->final_equity},
                {"total_return", m->total_return},
                {"cagr", m->cagr},
                {"sharpe", m->sharpe},
                {"sortino", m->sortino},
                {"max_drawdown", m->max_drawdown},
                {"max_drawdown_bars", (double)m->max_dd_bars},
                {"calmar", m->calmar},
                {"trades", (double)m->n_trades},
                {"long_trades", (double)m->n_long},
                {"short_trades", (double)m->n_short},
                {"win_rate", m->win_rate},
                {"profit_factor", m->profit_factor},
                {"expectancy", m->expectancy},
                {"avg_trade_return", m->avg_trade_return},
                {"avg_bars_held", m->avg_bars_held},
                {"exposure", m->exposure},
                {"fees_paid", m->fees_paid},
                {"funding_paid", m->funding_paid},
                {"buy_hold_return", m->buy_hold_return},
                {"bars", (double)m->n_bars},
                {"bars_per_year", m->bars_per_year}};
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        add_num(o, rows[k].k, rows[k].v);
    }
}

kz_status kz_bt_result_to_json(const kz_colset *cs, const kz_bt_result *r, char **out)
{
    if (!cs || !r || !out) {
        return KZ_ERR_INVALID;
    }
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(root, "metrics");
    cJSON *trades = cJSON_AddArrayToObject(root, "trades");
    cJSON *eq = cJSON_AddArrayToObject(root, "equity");
    if (!root || !m || !trades || !eq) {
        cJSON_Delete(root);
        return KZ_ERR_NOMEM;
    }
    metrics_json(m, &r->m);
    for (size_t k = 0; k < r->n_trades; k++) {
        const kz_trade *t = &r->trades[k];
        cJSON *o = cJSON_CreateObject();
        char a[32], b[32];
        cJSON_AddStringToObject(o, "side", t->side > 0 ? "long" : "short");
        cJSON_AddStringToObject(o, "entry_time", kz_time_format(t->entry_ms, a));
        cJSON_AddStringToObject(o, "exit_time", kz_time_format(t->exit_ms, b));
        add_num(o, "qty", t->qty);
        add_num(o, "entry_price", t->entry_price);
        add_num(o, "exit_price", t->exit_price);
        add_num(o, "fees", t->fees);
        add_num(o, "funding", t->funding);
        add_num(o, "pnl", t->pnl);
        add_num(o, "return", t->ret);
        add_num(o, "bars_held", (double)t->bars_held);
        cJSON_AddStringToObject(o, "reason", kz_exit_reason_str(t->reason));
        cJSON_AddItemToArray(trades, o);
    }
    for (size_t t = 0; t < r->n_equity && r->n_equity == cs->n; t++) {
        cJSON *o = cJSON_CreateObject();
        char ts[32];
        cJSON_AddStringToObject(o, "timestamp", kz_time_format(cs->m->bars.ts_ms[t], ts));
        add_num(o, "equity", r->equity[t]);
        cJSON_AddItemToArray(eq, o);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) {
        return KZ_ERR_NOMEM;
    }
    *out = kz_strdup(text);
    cJSON_free(text);
    return *out ? KZ_OK : KZ_ERR_NOMEM;
}
