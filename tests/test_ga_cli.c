/* `kizashi evolve` end to end: ML columns from a model file (--model, the facade's status line,
 * ml mode strategies that read them, the refusal when every bar falls back or no model is given)
 * and walk-forward folds (--walk-forward, --wf-mode, the JSON report). Synthetic data in a
 * temporary store; skips (saying why) while a verb is missing from the CLI's dispatch table. */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kizashi/core.h"

#include "kz_test.h"

static char g_dir[256];
static char *g_out, *g_err;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return calloc(1, 1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        buf[0] = '\0';
    }
    fclose(f);
    return buf;
}

/* Run the CLI ($KZ_CLI_OVERRIDE, else the built one) in the temp directory. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char args[2048], cmd[4096], p[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *cli = getenv("KZ_CLI_OVERRIDE");
    snprintf(cmd, sizeof cmd, "cd '%s' && env -u KIZASHI_DB '%s' %s >out.txt 2>err.txt", g_dir,
             cli && *cli ? cli : KZ_CLI_PATH, args);
    int st = system(cmd);
    free(g_out);
    free(g_err);
    snprintf(p, sizeof p, "%s/out.txt", g_dir);
    g_out = slurp(p);
    snprintf(p, sizeof p, "%s/err.txt", g_dir);
    g_err = slurp(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cleanup(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", g_dir);
    }
    free(g_out);
    free(g_err);
}

#define EVOLVE "--db t.db evolve --exchange synthetic --symbol SYNTH --preset fast --quiet "

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/kz_ga_cli_XXXXXX");
    if (!mkdtemp(g_dir)) {
        KZ_SKIP("cannot create a temporary directory");
    }
    if (run("evolve --help") != 0 || run("signals --help") != 0) {
        cleanup();
        KZ_SKIP("'evolve' or 'signals' is not in cli/main.c's dispatch table");
    }
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
    char p[512];
    snprintf(p, sizeof p, "%s/best.json", g_dir);
    char *best = slurp(p);
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
    snprintf(p, sizeof p, "%s/wf.json", g_dir);
    char *wf = slurp(p);
    CHECK_STR_CONTAINS(wf, "\"folds_run\":\t3");
    CHECK_STR_CONTAINS(wf, "\"walk_forward\":\t\"sliding\"");
    CHECK_STR_CONTAINS(wf, "ga-42-f3-1");
    free(wf);
    CHECK_EQ_INT(run(EVOLVE "--walk-forward 2 --wf-mode rolling"), 2);
    CHECK_EQ_INT(run(EVOLVE "--wf-mode sliding"), 2);
    CHECK_EQ_INT(run(EVOLVE "--walk-forward 0"), 2);
    CHECK_EQ_INT(run(EVOLVE "--walk-forward 200"), 1); /* 450 OOS bars cannot make 200 folds */
    CHECK_STR_CONTAINS(g_err, "oos_fraction");

    cleanup();
    KZ_TEST_DONE();
}
