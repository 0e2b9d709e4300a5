/* The strategy search's result as JSON (single split and walk-forward): run facts, the top-K
 * and the Pareto front with their strategies (in kz_strategy_to_json form, replayable by
 * `kizashi backtest`), IS/OOS/full metrics and DSR, the generation history, the folds. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/ga_int.h"

static void num(cJSON *o, const char *k, double v)
{
    if (isfinite(v)) {
        cJSON_AddNumberToObject(o, k, v);
    } else {
        cJSON_AddNullToObject(o, k);
    }
}

static cJSON *metrics(const kz_bt_metrics *m)
{
    cJSON *o = cJSON_CreateObject();
    num(o, "total_return", m->total_return);
    num(o, "cagr", m->cagr);
    num(o, "sharpe", m->sharpe);
    num(o, "sortino", m->sortino);
    num(o, "max_drawdown", m->max_drawdown);
    num(o, "calmar", m->calmar);
    num(o, "n_trades", (double)m->n_trades);
    num(o, "n_long", (double)m->n_long);
    num(o, "n_short", (double)m->n_short);
    num(o, "win_rate", m->win_rate);
    num(o, "profit_factor", m->profit_factor);
    num(o, "exposure", m->exposure);
    num(o, "fees_paid", m->fees_paid);
    num(o, "funding_paid", m->funding_paid);
    num(o, "buy_hold_return", m->buy_hold_return);
    num(o, "n_bars", (double)m->n_bars);
    return o;
}

static cJSON *entries(const kz_ga_entry *e, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; arr && k < n; k++) {
        cJSON *o = cJSON_CreateObject();
        char *text = NULL;
        cJSON *strat = NULL;
        if (kz_strategy_to_json(&e[k].strategy, &text) == KZ_OK) {
            strat = cJSON_Parse(text);
        }
        kz_free(text);
        num(o, "rank", (double)(k + 1));
        num(o, "fitness", e[k].fitness);
        num(o, "dsr", e[k].dsr);
        num(o, "oos_psr", e[k].oos_psr);
        num(o, "generation", e[k].generation);
        cJSON_AddItemToObject(o, "in_sample", metrics(&e[k].is));
        cJSON_AddItemToObject(o, "out_of_sample", metrics(&e[k].oos));
        cJSON_AddItemToObject(o, "all_bars", metrics(&e[k].full));
        if (strat) {
            cJSON_AddItemToObject(o, "strategy", strat);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

kz_status kz_ga_result_to_json(const kz_ga_result *r, char **out)
{
    if (!r || !out) {
        return KZ_ERR_INVALID;
    }
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        return KZ_ERR_NOMEM;
    }
    num(root, "seed", (double)r->seed);
    num(root, "generations_run", r->generations_run);
    cJSON_AddBoolToObject(root, "stopped", r->stopped);
    num(root, "n_evals", (double)r->n_evals);
    num(root, "trials_sharpe_var", r->trials_sharpe_var);
    cJSON *split = cJSON_AddObjectToObject(root, "split");
    if (split) {
        num(split, "is_begin", (double)r->is_begin);
        num(split, "is_end", (double)r->is_end);
        num(split, "oos_begin", (double)r->oos_begin);
        num(split, "oos_end", (double)r->oos_end);
    }
    cJSON_AddItemToObject(root, "strategies", entries(r->top, r->n_top));
    if (r->n_front) {
        cJSON_AddItemToObject(root, "pareto_front", entries(r->front, r->n_front));
    }
    cJSON *hist = cJSON_AddArrayToObject(root, "history");
    for (size_t k = 0; hist && k < r->n_history; k++) {
        const kz_ga_gen *g = &r->history[k];
        cJSON *o = cJSON_CreateObject();
        num(o, "generation", g->generation);
        num(o, "best_fitness", g->best_fitness);
        num(o, "mean_fitness", g->mean_fitness);
        num(o, "best_return", g->best_return);
        num(o, "best_drawdown", g->best_drawdown);
        num(o, "n_evals", (double)g->n_evals);
        num(o, "n_columns", (double)g->n_columns);
        cJSON_AddItemToArray(hist, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        return KZ_ERR_NOMEM;
    }
    *out = kz_strdup(text);
    cJSON_free(text);
    return *out ? KZ_OK : KZ_ERR_NOMEM;
}

kz_status kz_ga_wf_result_to_json(const kz_ga_wf_result *r, char **out)
{
    if (!r || !out) {
        return KZ_ERR_INVALID;
    }
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        return KZ_ERR_NOMEM;
    }
    kz_status st = KZ_OK;
    num(root, "seed", (double)r->seed);
    cJSON_AddStringToObject(root, "walk_forward", kz_wf_mode_str(r->mode));
    num(root, "n_folds", r->n_folds);
    num(root, "folds_run", r->folds_run);
    cJSON_AddBoolToObject(root, "stopped", r->stopped);
    num(root, "gap", (double)r->gap);
    num(root, "n_evals", (double)r->n_evals);
    cJSON *oos = cJSON_AddObjectToObject(root, "out_of_sample");
    if (oos) {
        num(oos, "begin", (double)r->oos_begin);
        num(oos, "end", (double)r->oos_end);
        cJSON_AddItemToObject(oos, "metrics", metrics(&r->oos));
        cJSON *eq = cJSON_AddArrayToObject(oos, "equity");
        for (size_t t = 0; eq && t < r->oos_end - r->oos_begin; t++) {
            cJSON_AddItemToArray(eq, cJSON_CreateNumber(r->oos_equity[t]));
        }
    }
    cJSON *folds = cJSON_AddArrayToObject(root, "folds");
    for (int f = 0; folds && st == KZ_OK && f < r->folds_run; f++) {
        const kz_ga_fold *fd = &r->folds[f];
        char *text = NULL;
        if ((st = kz_ga_result_to_json(&fd->run, &text)) != KZ_OK) {
            break;
        }
        cJSON *o = cJSON_Parse(text);
        kz_free(text);
        if (!o) {
            st = KZ_ERR_NOMEM;
            break;
        }
        num(o, "fold", f + 1);
        cJSON_AddItemToArray(folds, o);
    }
    char *text = st == KZ_OK ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        return st == KZ_OK ? KZ_ERR_NOMEM : st;
    }
    *out = kz_strdup(text);
    cJSON_free(text);
    return *out ? KZ_OK : KZ_ERR_NOMEM;
}
