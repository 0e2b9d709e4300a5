/* CLI: runs the built `kizashi` binary on temporary directories and checks its output, exit
 * codes and the store's contents (import counts, re-import, bad rows, data show round trip,
 * usage errors, --help, synth, KIZASHI_DB). */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kz_test.h"

static char g_dir[256];
static char g_out[1 << 16], g_err[1 << 16];

static void slurp(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        return;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Run `cd DIR && <prefix> CLI <args>`; stdout/stderr land in g_out/g_err. Returns the exit code. */
static int run_env(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int run_env(const char *prefix, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' %s >'%s/out.txt' 2>'%s/err.txt'", g_dir, prefix,
             KZ_CLI_PATH, args, g_dir, g_dir);
    int st = system(cmd);
    slurp(kz_path_in(g_dir, "out.txt"), g_out, sizeof g_out);
    slurp(kz_path_in(g_dir, "err.txt"), g_err, sizeof g_err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define run(...) run_env("env -u KIZASHI_DB", __VA_ARGS__)

/* Row count of the first `data list` line for kind/exchange/symbol; -1 if absent. */
static long listed_count(const char *kind, const char *exchange, const char *symbol)
{
    char *save = NULL, copy[sizeof g_out];
    snprintf(copy, sizeof copy, "%s", g_out);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char k[16], e[32], s[32], tf[8], first[32], last[32];
        long count = 0;
        if (sscanf(line, "%15s %31s %31s %7s %31s %31s %ld", k, e, s, tf, first, last, &count) ==
                7 &&
            strcmp(k, kind) == 0 && strcmp(e, exchange) == 0 && strcmp(s, symbol) == 0) {
            return count;
        }
    }
    return -1;
}

static const char BARS_CSV[] = "timestamp,open,high,low,close,volume\n"
                               "1704067200000,100,110,95,105,12.5\n"
                               "1704070800000,105,106.25,101,102.75,8\n"
                               "1704074400000,102.75,103,99.5,100.125,0\n";

static void test_import_and_show(void)
{
    CHECK(kz_write_text(g_dir, "bars.csv", BARS_CSV) == 0);
    CHECK_EQ_INT(run("--db t.db import bars --exchange ex --symbol BTC bars.csv"), 0);
    CHECK_STR_CONTAINS(g_out, "bars.csv: 3 rows (csv)");
    CHECK_STR_CONTAINS(g_out, "3 inserted, 0 updated, 0 unchanged");
    CHECK_STR_CONTAINS(g_out, "0 gaps");

    CHECK_EQ_INT(run("import bars --exchange ex --symbol BTC --db t.db bars.csv"), 0);
    CHECK_STR_CONTAINS(g_out, "0 inserted, 0 updated, 3 unchanged");

    /* data show prints exactly the imported rows */
    CHECK_EQ_INT(run("--db t.db data show --exchange ex --symbol BTC --timeframe 1h"), 0);
    CHECK(strcmp(g_out, BARS_CSV) == 0);
    CHECK_EQ_INT(run("--db t.db data show --exchange ex --symbol BTC --last 1"), 0);
    CHECK(strcmp(g_out, "timestamp,open,high,low,close,volume\n"
                        "1704074400000,102.75,103,99.5,100.125,0\n") == 0);
    CHECK_EQ_INT(run("--db t.db data show --exchange ex --symbol BTC --from 2024-01-01T01:00Z "
                     "--to 1704074400000"),
                 0);
    CHECK(strcmp(g_out, "timestamp,open,high,low,close,volume\n"
                        "1704070800000,105,106.25,101,102.75,8\n") == 0);

    /* a bad row: exit 1, error names file and line, nothing of that file is written */
    CHECK(kz_write_text(g_dir, "bad.csv",
                        "timestamp,open,high,low,close,volume\n"
                        "1704078000000,100,101,99,100,1\n"
                        "1704081600000,100,90,95,92,1\n") == 0);
    CHECK_EQ_INT(run("--db t.db import bars --exchange ex --symbol BTC bad.csv"), 1);
    CHECK_STR_CONTAINS(g_err, "error: bad.csv:3");
    CHECK_EQ_INT(run("--db t.db data list"), 0);
    CHECK_EQ_INT(listed_count("bars", "ex", "BTC"), 3);
    /* ... and with --skip-bad the good row goes in and the bad one is reported */
    CHECK_EQ_INT(run("--db t.db import bars --exchange ex --symbol BTC --skip-bad bad.csv"), 0);
    CHECK_STR_CONTAINS(g_err, "warning: bad.csv:3");
    CHECK_STR_CONTAINS(g_out, "1 skipped");
    CHECK_STR_CONTAINS(g_out, "1 inserted, 0 updated, 0 unchanged");
    CHECK_EQ_INT(run("--db t.db data list"), 0);
    CHECK_EQ_INT(listed_count("bars", "ex", "BTC"), 4);
    CHECK_STR_CONTAINS(g_out, "2024-01-01T00:00:00Z");
    CHECK_STR_CONTAINS(g_out, "2024-01-01T03:00:00Z");

    /* funding aligned as-of; OI from an exchange with none: empty cells and a warning */
    CHECK(kz_write_text(g_dir, "fr.csv", "timestamp,funding_rate\n1704067200000,0.0001\n") == 0);
    CHECK_EQ_INT(run("--db t.db import funding --exchange ex --symbol BTC fr.csv"), 0);
    CHECK_STR_CONTAINS(g_out, "1 inserted");
    CHECK_EQ_INT(run("--db t.db data show --exchange ex --symbol BTC --with-fr --with-oi "
                     "--last 2"),
                 0);
    CHECK(strcmp(g_out, "timestamp,open,high,low,close,volume,funding_rate,open_interest\n"
                        "1704074400000,102.75,103,99.5,100.125,0,0.0001,\n"
                        "1704078000000,100,101,99,100,1,0.0001,\n") == 0);
    CHECK_STR_CONTAINS(g_err, "warning: no open-interest data");
    CHECK_EQ_INT(run("--db t.db data list"), 0);
    CHECK_EQ_INT(listed_count("funding", "ex", "BTC"), 1);

    /* a missing file is a runtime error naming it */
    CHECK_EQ_INT(run("--db t.db import bars --exchange ex --symbol BTC nosuch.csv"), 1);
    CHECK_STR_CONTAINS(g_err, "nosuch.csv");
}

static void test_usage_and_help(void)
{
    CHECK_EQ_INT(run("%s", ""), 2);
    CHECK_STR_CONTAINS(g_err, "usage: kizashi");
    CHECK_EQ_INT(run("frobnicate"), 2);
    CHECK_STR_CONTAINS(g_err, "unknown command 'frobnicate'");
    CHECK_EQ_INT(run("import"), 2);
    CHECK_EQ_INT(run("import bars --exchange x --symbol y"), 2);
    CHECK_STR_CONTAINS(g_err, "no FILE");
    CHECK_EQ_INT(run("import candles --exchange x --symbol y f.csv"), 2);
    CHECK_EQ_INT(run("import bars --exchange x --symbol y --timeframe 2h f.csv"), 2);
    CHECK_STR_CONTAINS(g_err, "'2h' is not a timeframe");
    CHECK_EQ_INT(run("import bars --bogus"), 2);
    CHECK_EQ_INT(run("data"), 2);
    CHECK_EQ_INT(run("data show --symbol BTC"), 2);
    CHECK_EQ_INT(run("data show --exchange x --symbol y --from yesterday"), 2);
    CHECK_EQ_INT(run("synth --bars many"), 2);
    CHECK_EQ_INT(run("version extra"), 2);

    const char *helps[] = {"--help",           "import --help", "data --help",   "data list --help",
                           "data show --help", "synth --help",  "version --help"};
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        CHECK_MSG(run("%s", helps[i]) == 0, "%s", helps[i]);
        CHECK_STR_CONTAINS(g_out, "usage: kizashi");
    }
    CHECK_EQ_INT(run("version"), 0);
    CHECK_STR_CONTAINS(g_out, "kizashi 0.");
}

static void test_synth_and_db_location(void)
{
    CHECK_EQ_INT(run("--db s.db synth --bars 500 --seed 7"), 0);
    CHECK_STR_CONTAINS(g_out, "500 inserted");
    CHECK_EQ_INT(run("--db s.db synth --bars 500 --seed 7"), 0);
    CHECK_STR_CONTAINS(g_out, "0 inserted, 0 updated, 500 unchanged");
    CHECK_EQ_INT(run("--db s.db data list"), 0);
    CHECK_EQ_INT(listed_count("bars", "synthetic", "SYNTH"), 500);
    CHECK(listed_count("funding", "synthetic", "SYNTH") > 0);
    CHECK(listed_count("oi", "synthetic", "SYNTH") > 0);

    /* KIZASHI_DB is honoured (nested directories created), --db overrides it */
    char env[512], p[512];
    snprintf(env, sizeof env, "KIZASHI_DB='%s/envdir/sub/e.db'", g_dir);
    CHECK_EQ_INT(run_env(env, "synth --bars 50 --symbol ENV"), 0);
    snprintf(p, sizeof p, "%s/envdir/sub/e.db", g_dir);
    CHECK(access(p, F_OK) == 0);
    CHECK_EQ_INT(run_env(env, "data list"), 0);
    CHECK_EQ_INT(listed_count("bars", "synthetic", "ENV"), 50);
    CHECK_EQ_INT(run_env(env, "--db s.db data list"), 0);
    CHECK_EQ_INT(listed_count("bars", "synthetic", "ENV"), -1);

    /* default location relative to the current directory */
    CHECK_EQ_INT(run("synth --bars 20"), 0);
    snprintf(p, sizeof p, "%s/kizashi-data/kizashi.db", g_dir);
    CHECK(access(p, F_OK) == 0);

    /* an unusable database is a runtime error */
    CHECK(kz_write_text(g_dir, "junk.db",
                        "not a database, not at all, definitely not a database file\n") == 0);
    CHECK_EQ_INT(run("--db junk.db data list"), 1);
    CHECK_STR_CONTAINS(g_err, "error: junk.db: not a kizashi database");
}

int main(void)
{
    if (access(KZ_CLI_PATH, X_OK) != 0) {
        KZ_SKIP("CLI binary %s not built", KZ_CLI_PATH);
    }
    kz_tmpdir_make(g_dir, sizeof g_dir, "cli");
    test_import_and_show();
    test_usage_and_help();
    test_synth_and_db_location();
    kz_tmpdir_remove(g_dir);
    KZ_TEST_DONE();
}
