/* `kizashi signals` end to end: synthetic data in a temporary store, a small model from
 * `kizashi train`, the CSV equal to the library's kz_signals_compute on the same bars, the status
 * line for ok and for fallbacks (--strict), usage errors, and the CSV as backtest --columns.
 * Skips (saying why) while the verb is not in the CLI's dispatch table. */
#include <stdlib.h>

#include "kizashi/core.h"
#include "kizashi/signals.h"
#include "kizashi/store.h"

#include "kz_cli_test.h"

/* Parse the CSV's rows into ts and three columns (n rows at most); returns the rows read, or
 * -1 on a malformed line. */
static long parse_csv(const char *text, size_t n, int64_t *ts, double *col)
{
    const char *s = strchr(text, '\n');
    long rows = 0;
    while (s && s[1]) {
        long long t;
        double a, b, c;
        int used = 0;
        if (sscanf(s + 1, "%lld,%lf,%lf,%lf%n", &t, &a, &b, &c, &used) != 4 || (size_t)rows >= n) {
            return -1;
        }
        ts[rows] = (int64_t)t;
        col[rows] = a;
        col[n + (size_t)rows] = b;
        col[2 * n + (size_t)rows] = c;
        rows++;
        s = strchr(s + 1, '\n');
    }
    return rows;
}

/* The library's signals for the stored market and the model file. */
static int library_signals(kz_market *m, double **col)
{
    char db[512], model[512];
    snprintf(db, sizeof db, "%s/t.db", g_dir);
    snprintf(model, sizeof model, "%s/m.kzm", g_dir);
    kz_store *st = NULL;
    memset(m, 0, sizeof *m);
    if (kz_store_open(db, &st, NULL) != KZ_OK ||
        kz_store_load_market(st, "synthetic", "SYNTH", KZ_TF_1H, INT64_MIN, INT64_MAX, NULL, m) !=
            KZ_OK) {
        kz_store_close(st);
        return 0;
    }
    kz_store_close(st);
    size_t n = m->bars.n;
    kz_signals *sig = NULL;
    kz_signal_report rep;
    *col = kz_malloc_array(n, 3 * sizeof **col);
    int ok = *col && kz_signals_open(model, NULL, &sig, NULL) == KZ_OK &&
             kz_signals_compute(sig, m, *col, *col + n, *col + 2 * n, &rep) == KZ_OK &&
             !rep.fallback;
    kz_signals_free(sig);
    return ok;
}

int main(void)
{
    cli_test_begin("signals_cli", "signals");
    CHECK_STR_CONTAINS(g_out, "usage: kizashi signals");
    CHECK_EQ_INT(run("--db t.db synth --bars 1500"), 0);
    CHECK_EQ_INT(run("--db t.db train --exchange synthetic --symbol SYNTH --param "
                     "num_boost_round=5 --param num_threads=1 --param max_bin=32 --quiet --out "
                     "m.kzm"),
                 0);

    /* ok: the CSV is the library's output, every value round-tripped exactly */
    CHECK_EQ_INT(run("--db t.db signals --model m.kzm --exchange synthetic --symbol SYNTH "
                     "--timeframe 1h"),
                 0);
    CHECK(strncmp(g_out, "timestamp,ML_DOWN_PROB,ML_RANGE_PROB,ML_UP_PROB\n", 48) == 0);
    CHECK_STR_CONTAINS(g_err, "signals: ok: 1500 bars from m.kzm");
    kz_market m;
    double *lib = NULL;
    CHECK(library_signals(&m, &lib));
    size_t n = m.bars.n;
    int64_t *ts = kz_malloc_array(n ? n : 1, sizeof *ts);
    double *col = kz_malloc_array(n ? n : 1, 3 * sizeof *col);
    CHECK_EQ_INT(parse_csv(g_out, n, ts, col), 1500);
    size_t same = 0;
    for (size_t i = 0; lib && i < n; i++) {
        same += ts[i] == m.bars.ts_ms[i] && col[i] == lib[i] && col[n + i] == lib[n + i] &&
                col[2 * n + i] == lib[2 * n + i];
    }
    CHECK_EQ_INT(same, 1500);

    /* fallbacks: exit 0 with the status line, exit 1 with --strict */
    CHECK_EQ_INT(run("--db t.db signals --model nope.kzm --exchange synthetic --symbol SYNTH"), 0);
    CHECK_STR_CONTAINS(g_err, "signals: fallback: load_failed:");
    CHECK_STR_CONTAINS(g_err, "1500 of 1500 bars");
    CHECK_STR_CONTAINS(g_err, "1/3 each");
    CHECK_STR_CONTAINS(g_out, ",0.3333333333333333,0.3333333333333333,0.3333333333333333\n");
    CHECK_EQ_INT(run("--db t.db signals --model nope.kzm --exchange synthetic --symbol SYNTH "
                     "--strict"),
                 1);
    CHECK_EQ_INT(run("--db t.db signals --model m.kzm --exchange synthetic --symbol SYNTH "
                     "--max-mb 0.01"),
                 0);
    CHECK_STR_CONTAINS(g_err, "signals: fallback: memory_budget:");
    CHECK_STR_CONTAINS(g_err, "training class shares");

    /* usage and runtime errors */
    CHECK_EQ_INT(run("--db t.db signals --exchange synthetic --symbol SYNTH"), 2);
    CHECK_STR_CONTAINS(g_err, "--model");
    CHECK_EQ_INT(run("--db t.db signals --model m.kzm --exchange synthetic --symbol SYNTH "
                     "--timeout -1"),
                 2);
    CHECK_EQ_INT(run("--db t.db signals --model m.kzm --exchange nope --symbol SYNTH"), 1);

    /* the CSV feeds a backtest as external columns */
    CHECK_EQ_INT(run("--db t.db signals --model m.kzm --exchange synthetic --symbol SYNTH"), 0);
    CHECK(kz_write_text(g_dir, "ml.csv", g_out) == 0);
    CHECK(kz_write_text(g_dir, "s.json",
                        "{\"long_entry\": {\"all\": [\"ML_UP_PROB > ML_DOWN_PROB\"]},"
                        " \"exit\": {\"all\": [\"ML_UP_PROB < ML_DOWN_PROB\"]}}") == 0);
    CHECK_EQ_INT(run("--db t.db backtest --strategy s.json --exchange synthetic --symbol SYNTH "
                     "--columns ml.csv"),
                 0);
    CHECK_STR_CONTAINS(g_out, "1500 bars");

    kz_free(ts);
    kz_free(col);
    kz_free(lib);
    kz_market_free(&m);
    cli_test_end();
    KZ_TEST_DONE();
}
