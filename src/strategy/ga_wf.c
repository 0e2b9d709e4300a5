/* Walk-forward strategy search: the GA on each fold's in-sample window, the fold's best strategies
 * re-run on the next out-of-sample window, and the folds' OOS curves chained into one.
 *
 * DESIGN. Folds run one after another; each is a complete kz_ga_run_window (its own column cache,
 * parallel backtests inside) whose random streams carry the fold number, so folds never share a
 * draw and the whole run is bit-identical for any thread count. The OOS windows tile the last
 * k*W bars without overlap; an IS window ends `gap` bars before its OOS window, and the columns,
 * computed on all bars, are causal, so nothing a fold's fitness reads comes from its OOS bars
 * (the tests perturb those bars and find the fold's search unchanged). */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/ga_int.h"
#include "strategy/strategy_int.h"

kz_status kz_wf_mode_parse(const char *s, kz_wf_mode *out)
{
    if (!s || !out) {
        return KZ_ERR_INVALID;
    }
    if (strcmp(s, "expanding") == 0) {
        *out = KZ_WF_EXPANDING;
    } else if (strcmp(s, "sliding") == 0) {
        *out = KZ_WF_SLIDING;
    } else {
        return KZ_ERR_INVALID;
    }
    return KZ_OK;
}

const char *kz_wf_mode_str(kz_wf_mode m)
{
    return m == KZ_WF_SLIDING ? "sliding" : "expanding";
}

kz_status kz_ga_wf_folds(
    size_t n, const kz_ga_params *p, int n_folds, kz_wf_mode mode, size_t *bounds, kz_error *err)
{
    if (!p || !bounds) {
        return kz_bt_err(err, KZ_ERR_INVALID, "params", "NULL argument");
    }
    if (n_folds < 1 || n_folds > 1000) {
        return kz_bt_err(err, KZ_ERR_INVALID, "walk_forward", "folds must be in 1..1000");
    }
    if ((unsigned)mode > KZ_WF_SLIDING) {
        return kz_bt_err(err, KZ_ERR_INVALID, "wf_mode", "unknown walk-forward mode");
    }
    size_t k = (size_t)n_folds;
    size_t w = (size_t)floor((double)n * p->oos_fraction) / k;
    size_t gap = kz_ga_gap(n, p);
    /* the first IS window [0, o - gap) must hold 10 bars; so must every OOS window */
    if (w < 10 || k * w + gap + 10 > n) {
        return kz_bt_err(err, KZ_ERR_INVALID, "oos_fraction",
                         "%zu bars with out-of-sample fraction %g cannot hold %d folds of at "
                         "least 10 out-of-sample bars, a gap of %zu and a 10-bar in-sample window",
                         n, p->oos_fraction, n_folds, gap);
    }
    size_t o = n - k * w;
    for (size_t f = 0; f < k; f++) {
        size_t *b = bounds + 4 * f;
        b[2] = o + f * w;
        b[3] = b[2] + w;
        b[1] = b[2] - gap;
        b[0] = mode == KZ_WF_SLIDING ? f * w : 0;
    }
    return KZ_OK;
}

void kz_ga_wf_result_free(kz_ga_wf_result *r)
{
    if (r) {
        for (int f = 0; r->folds && f < r->folds_run; f++) {
            kz_ga_result_free(&r->folds[f].run);
        }
        kz_free(r->folds);
        kz_free(r->oos_equity);
        memset(r, 0, sizeof *r);
    }
}

/* Append fold f's recorded OOS backtest to the chained curve: equity and money amounts scaled by
 * the equity the previous folds ended with over the initial equity (returns are unchanged). */
static void chain(kz_ga_wf_result *out,
                  const kz_bt_result *r,
                  size_t at,
                  double initial,
                  kz_trade *trades,
                  size_t *n_trades)
{
    double scale = at > 0 ? out->oos_equity[at - 1] / initial : 1.0;
    for (size_t t = 0; t < r->n_equity; t++) {
        out->oos_equity[at + t] = r->equity[t] * scale;
    }
    for (size_t k = 0; k < r->n_trades; k++) {
        kz_trade *tr = &trades[(*n_trades)++];
        *tr = r->trades[k];
        tr->qty *= scale;
        tr->pnl *= scale;
        tr->fees *= scale;
        tr->funding *= scale;
    }
}

/* Metrics of the chained curve over bars [oos_begin, oos_end). */
static kz_status chained_metrics(const kz_colset *cs,
                                 const kz_ga_params *p,
                                 kz_ga_wf_result *out,
                                 const kz_trade *trades,
                                 size_t n_trades,
                                 kz_error *err)
{
    kz_market view;
    kz_colset *win = NULL;
    kz_ga_market_view(kz_colset_market(cs), out->oos_begin, out->oos_end, &view);
    kz_status st = kz_colset_new(&view, &win, err);
    if (st == KZ_OK) {
        kz_bt_metrics_from_curve(win, out->oos_equity, trades, n_trades, p->bt.initial_equity,
                                 kz_bt_bars_per_year(view.tf), &out->oos);
    }
    kz_colset_free(win);
    return st;
}

kz_status kz_ga_walk_forward(const kz_colset *cs,
                             const kz_ga_params *p,
                             int n_folds,
                             kz_wf_mode mode,
                             kz_ga_wf_result *out,
                             kz_error *err)
{
    if (!out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "out", "NULL output");
    }
    memset(out, 0, sizeof *out);
    if (!cs) {
        return kz_bt_err(err, KZ_ERR_INVALID, "colset", "NULL column set");
    }
    size_t n = kz_colset_n_bars(cs);
    kz_status st = kz_ga_params_check(p, err);
    if (st != KZ_OK) {
        return st;
    }
    if (n_folds < 1 || n_folds > 1000) {
        return kz_bt_err(err, KZ_ERR_INVALID, "walk_forward", "folds must be in 1..1000");
    }
    size_t *bounds = kz_malloc_array((size_t)n_folds, 4 * sizeof *bounds);
    kz_trade *trades = NULL;
    size_t n_trades = 0;
    if (!bounds) {
        return kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
    }
    if ((st = kz_ga_wf_folds(n, p, n_folds, mode, bounds, err)) != KZ_OK) {
        goto done;
    }
    out->seed = p->seed;
    out->mode = mode;
    out->n_folds = n_folds;
    out->gap = bounds[2] - bounds[1];
    out->oos_begin = out->oos_end = bounds[2];
    out->folds = kz_calloc((size_t)n_folds, sizeof *out->folds);
    out->oos_equity = kz_malloc_array(n - bounds[2], sizeof *out->oos_equity);
    if (!out->folds || !out->oos_equity) {
        st = kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    for (int f = 0; f < n_folds && !out->stopped; f++) {
        kz_ga_fold *fold = &out->folds[f];
        const size_t *b = bounds + 4 * f;
        fold->is_begin = b[0];
        fold->is_end = b[1];
        fold->oos_begin = b[2];
        fold->oos_end = b[3];
        char tag[48];
        snprintf(tag, sizeof tag, "ga-%llu-f%d", (unsigned long long)p->seed, f + 1);
        kz_bt_result best;
        st = kz_ga_run_window(cs, p, b, (uint64_t)f, tag, &fold->run, &best, err);
        if (st != KZ_OK) {
            goto done;
        }
        out->folds_run = f + 1;
        out->stopped = fold->run.stopped;
        out->n_evals += fold->run.n_evals;
        /* a fold with an OOS window always records its best entry's OOS backtest */
        assert(best.n_equity == b[3] - b[2]);
        kz_trade *grown = kz_realloc_array(trades, n_trades + best.n_trades + 1, sizeof *trades);
        if (!grown) {
            kz_bt_result_free(&best);
            st = kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
            goto done;
        }
        trades = grown;
        chain(out, &best, b[2] - bounds[2], p->bt.initial_equity, trades, &n_trades);
        out->oos_end = b[3];
        kz_bt_result_free(&best);
    }
    st = chained_metrics(cs, p, out, trades, n_trades, err);
done:
    kz_free(bounds);
    kz_free(trades);
    if (st != KZ_OK) {
        kz_ga_wf_result_free(out);
    }
    return st;
}
