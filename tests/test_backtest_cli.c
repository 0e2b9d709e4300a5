/* `kizashi backtest` end to end: synthetic data into a temporary store, a strategy file, the
 * metrics table, JSON equal to the library's own run, trades/equity CSV, SVG, external columns
 * and the error paths. Skips (saying why) while the verb is not in the CLI's dispatch table. */
#include <cjson/cJSON.h>

#include "kizashi/core.h"
#include "kizashi/store.h"
#include "kizashi/strategy.h"

#include "kz_cli_test.h"

static const char STRATEGY[] =
    "{\"name\": \"rsi-trend\",\n"
    " \"long_entry\": {\"all\": [\"RSI(14) crosses_above 55\", \"close > SMA(50)\"]},\n"
    " \"short_entry\": {\"all\": [\"RSI(14) crosses_below 45\", \"close < SMA(50)\"]},\n"
    " \"exit\": {\"any\": [\"RSI(14) > 80\", \"RSI(14) < 20\"]},\n"
    " \"tpsl\": {\"method\": \"atr\", \"atr_period\": 14, \"atr_sl\": 2, \"atr_tp\": 4}}\n";

/* The library's own metrics for the same store, strategy and defaults. */
static kz_bt_metrics library_run(const char *strategy_text, kz_colset **keep, kz_market *m)
{
    kz_bt_metrics out;
    memset(&out, 0, sizeof out);
    char db[512];
    snprintf(db, sizeof db, "%s/t.db", g_dir);
    kz_store *st = NULL;
    kz_error err;
    kz_strategy s;
    kz_bt_result r;
    kz_bt_params p = kz_bt_params_default();
    memset(m, 0, sizeof *m);
    CHECK(kz_store_open(db, &st, &err) == KZ_OK);
    CHECK(kz_store_load_market(st, "synthetic", "SYNTH", KZ_TF_1H, INT64_MIN, INT64_MAX, NULL, m) ==
          KZ_OK);
    kz_store_close(st);
    CHECK(kz_strategy_from_json(strategy_text, strlen(strategy_text), "s", &s, &err) == KZ_OK);
    CHECK(kz_colset_new(m, keep, &err) == KZ_OK);
    CHECK(kz_colset_prepare(*keep, &s, &err) == KZ_OK);
    if (kz_backtest(*keep, &s, &p, &r, &err) == KZ_OK) {
        out = r.m;
    }
    return out;
}

static double json_metric(const cJSON *root, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

int main(void)
{
    cli_test_begin("bt_cli", "backtest");
    CHECK_STR_CONTAINS(g_out, "usage: kizashi backtest");
    CHECK_EQ_INT(run("--db t.db synth --bars 3000"), 0);
    CHECK(kz_write_text(g_dir, "s.json", STRATEGY) == 0);

    /* the table */
    CHECK_EQ_INT(run("--db t.db backtest --strategy s.json --exchange synthetic --symbol SYNTH "
                     "--timeframe 1h --trades tr.csv --equity eq.csv --plot eq.svg"),
                 0);
    CHECK_STR_CONTAINS(g_out, "strategy          rsi-trend");
    CHECK_STR_CONTAINS(g_out, "3000 bars");
    CHECK_STR_CONTAINS(g_out, "Sharpe");
    CHECK_STR_CONTAINS(g_out, "funding paid");

    /* JSON: the same numbers as the library run on the same data */
    CHECK_EQ_INT(run("--db t.db backtest --strategy s.json --exchange synthetic --symbol SYNTH "
                     "--json"),
                 0);
    cJSON *root = cJSON_Parse(g_out);
    CHECK(root != NULL);
    kz_colset *cs = NULL;
    kz_market m;
    kz_bt_metrics lib = library_run(STRATEGY, &cs, &m);
    CHECK(lib.n_trades > 20);
    CHECK_NEAR(json_metric(root, "final_equity"), lib.final_equity, 1e-12);
    CHECK_NEAR(json_metric(root, "sharpe"), lib.sharpe, 1e-12);
    CHECK_NEAR(json_metric(root, "funding_paid"), lib.funding_paid, 1e-12);
    CHECK_NEAR(json_metric(root, "trades"), (double)lib.n_trades, 0);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "trades")),
                 lib.n_trades);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "equity")), 3000);
    cJSON_Delete(root);

    /* files */
    char p[512];
    snprintf(p, sizeof p, "%s/tr.csv", g_dir);
    char *text = slurp(p);
    CHECK_EQ_INT(count_lines(text), (long long)lib.n_trades + 1);
    CHECK(strncmp(text, "side,entry_time,exit_time", 25) == 0);
    free(text);
    snprintf(p, sizeof p, "%s/eq.csv", g_dir);
    text = slurp(p);
    CHECK_EQ_INT(count_lines(text), 3001);
    free(text);
    snprintf(p, sizeof p, "%s/eq.svg", g_dir);
    text = slurp(p);
    CHECK(strncmp(text, "<svg", 4) == 0);
    CHECK_STR_CONTAINS(text, "rsi-trend");
    CHECK_STR_CONTAINS(text, "</svg>");
    free(text);

    /* an external column: a strategy on ML_UP_PROB needs --columns */
    CHECK(kz_write_text(g_dir, "ml.json",
                        "{\"long_entry\": {\"all\": [\"ML_UP_PROB > 0.5\"]},"
                        " \"exit\": {\"all\": [\"ML_UP_PROB < 0.5\"]}}") == 0);
    CHECK_EQ_INT(run("--db t.db backtest --strategy ml.json --exchange synthetic --symbol SYNTH"),
                 1);
    CHECK_STR_CONTAINS(g_err, "long_entry.all[0]");
    CHECK_STR_CONTAINS(g_err, "ML_UP_PROB");
    /* ML_UP_PROB = 1 for bars 10..19 only: one long trade, entered at 11, left at 21 */
    FILE *f = NULL;
    snprintf(p, sizeof p, "%s/ml.csv", g_dir);
    f = fopen(p, "w");
    if (f) {
        fprintf(f, "timestamp,ML_UP_PROB\n");
        for (size_t i = 0; i < 40; i++) {
            fprintf(f, "%lld,%s\n", (long long)m.bars.ts_ms[i], i >= 10 && i < 20 ? "1" : "0");
        }
        fclose(f);
    }
    CHECK_EQ_INT(run("--db t.db backtest --strategy ml.json --exchange synthetic --symbol SYNTH "
                     "--columns ml.csv --trades mltr.csv"),
                 0);
    CHECK_STR_CONTAINS(g_out, "trades            1 (1 long, 0 short)");
    snprintf(p, sizeof p, "%s/mltr.csv", g_dir);
    text = slurp(p);
    CHECK_STR_CONTAINS(text, ",11,21,");
    free(text);

    /* errors */
    CHECK(kz_write_text(g_dir, "bad.json", "{\"long_entry\": {\"all\": [\"close >> 3\"]}}") == 0);
    CHECK_EQ_INT(run("--db t.db backtest --strategy bad.json --exchange synthetic --symbol SYNTH"),
                 1);
    CHECK_STR_CONTAINS(g_err, "bad.json: long_entry.all[0]: unknown operator '>>'");
    CHECK_EQ_INT(run("--db t.db backtest --exchange synthetic --symbol SYNTH"), 2);
    CHECK_STR_CONTAINS(g_err, "--strategy");
    CHECK_EQ_INT(run("--db t.db backtest --strategy s.json --exchange nope --symbol SYNTH"), 1);
    CHECK_EQ_INT(run("--db t.db backtest --strategy s.json --exchange synthetic --symbol SYNTH "
                     "--fee -1"),
                 2);

    kz_colset_free(cs);
    kz_market_free(&m);
    cli_test_end();
    KZ_TEST_DONE();
}
