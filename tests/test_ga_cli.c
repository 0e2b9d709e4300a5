/* `kizashi evolve` end to end: ML columns from a model file (--model, the facade's status line,
 * ml mode strategies that read them, the refusal when every bar falls back or no model is given)
 * and walk-forward folds (--walk-forward, --wf-mode, the JSON report). Synthetic data in a
 * temporary store; skips (saying why) while a verb is missing from the CLI's dispatch table. */
#include "kz_cli_test.h"

#define EVOLVE "--db t.db evolve --exchange synthetic --symbol SYNTH --preset fast --quiet "

int main(void)
{
    cli_test_begin("ga_cli", "evolve");
    CHECK_EQ_INT(run("signals --help"), 0);
    CHECK_STR_CONTAINS(g_out, "usage: kizashi signals");
    CHECK_EQ_INT(run("--db t.db synth --bars 1500"), 0);
    CHECK_EQ_INT(run("--db t.db train --exchange synthetic --symbol SYNTH --param "
                     "num_boost_round=5 --param num_threads=1 --param max_bin=32 --quiet --out "
                     "m.kzm"),
                 0);

    /* ML mode with the model's columns: status ok, every reported rule reads ML columns only */
    CHECK_EQ_INT(run(EVOLVE "--model m.kzm --mode ml --top 2 --best best.json"), 0);
    CHECK_STR_CONTAINS(g_err, "evolve: ML signals: ok: 1500 bars from m.kzm");
    CHECK_STR_CONTAINS(g_out, "top strategies by in-sample fitness");
    CHECK_STR_CONTAINS(g_out, "      long   ML_");
    CHECK_STR_CONTAINS(g_out, "      short  ML_");
    char *best = slurp(kz_path_in(g_dir, "best.json"));
    CHECK_STR_CONTAINS(best, "_PROB ");
    CHECK(strstr(best, "RSI") == NULL && strstr(best, "OI_CHANGE") == NULL);
    free(best);
    /* --model alone means mixed mode */
    CHECK_EQ_INT(run(EVOLVE "--model m.kzm"), 0);
    CHECK_STR_CONTAINS(g_err, "evolve: ML signals: ok:");

    /* a model that cannot load: every bar is a fallback, so the ML modes refuse (exit 1) ... */
    CHECK_EQ_INT(run(EVOLVE "--model nope.kzm --mode mixed"), 1);
    CHECK_STR_CONTAINS(g_err, "evolve: ML signals: fallback: load_failed:");
    CHECK_STR_CONTAINS(g_err, "1500 of 1500 bars");
    CHECK_STR_CONTAINS(g_err, "meaningless");
    /* ... while technical mode reports the fallback and runs */
    CHECK_EQ_INT(run(EVOLVE "--model nope.kzm --mode technical"), 0);
    CHECK_STR_CONTAINS(g_err, "fallback: load_failed:");
    /* ML modes without a model are usage errors */
    CHECK_EQ_INT(run(EVOLVE "--mode ml"), 2);
    CHECK_STR_CONTAINS(g_err, "--model");

    /* walk-forward: 3 sliding folds, the fold table, the concatenated OOS line, the report */
    CHECK_EQ_INT(run(EVOLVE "--walk-forward 3 --wf-mode sliding --out wf.json"), 0);
    CHECK_STR_CONTAINS(g_out, "walk-forward: synthetic SYNTH 1h, 3 sliding folds (3 run), gap 15");
    CHECK_STR_CONTAINS(g_out, "concatenated out of sample");
    CHECK_STR_CONTAINS(g_out, "fold 3: top strategies");
    char *wf = slurp(kz_path_in(g_dir, "wf.json"));
    CHECK_STR_CONTAINS(wf, "\"folds_run\":\t3");
    CHECK_STR_CONTAINS(wf, "\"walk_forward\":\t\"sliding\"");
    CHECK_STR_CONTAINS(wf, "ga-42-f3-1");
    free(wf);
    CHECK_EQ_INT(run(EVOLVE "--walk-forward 2 --wf-mode rolling"), 2);
    CHECK_EQ_INT(run(EVOLVE "--wf-mode sliding"), 2);
    CHECK_EQ_INT(run(EVOLVE "--walk-forward 0"), 2);
    CHECK_EQ_INT(run(EVOLVE "--walk-forward 200"), 1); /* 450 OOS bars cannot make 200 folds */
    CHECK_STR_CONTAINS(g_err, "oos_fraction");

    cli_test_end();
    KZ_TEST_DONE();
}
