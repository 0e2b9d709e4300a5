/* Golden comparison against TA-Lib 0.6.4 outputs in ../shared/golden/talib (see its README):
 * the indicator runs on the first 3000 bars of binance/BTCUSDT-1h.csv, rows 0..1999 are
 * compared, empty golden cells must be NaN here, and the first valid row must be identical. */
#ifndef KZ_TA_GOLDEN_H
#define KZ_TA_GOLDEN_H

#include "kizashi/kizashi.h"
#include "kz_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct golden_bars {
    size_t n;
    double *open, *high, *low, *close, *volume;
} golden_bars;

/* Load the first 3000 bars; skips the whole test (exit 77) when ../shared is absent. */
static void golden_load_bars(golden_bars *g)
{
    const char *path = kz_shared_path("data/funding_the_fall/binance/BTCUSDT-1h.csv");
    FILE *f = fopen(path, "r");
    if (!f) {
        KZ_SKIP("%s not found: TA-Lib golden comparison needs ../shared/data", path);
    }
    memset(g, 0, sizeof *g);
    size_t cap = 3000;
    g->open = calloc(cap, sizeof(double));
    g->high = calloc(cap, sizeof(double));
    g->low = calloc(cap, sizeof(double));
    g->close = calloc(cap, sizeof(double));
    g->volume = calloc(cap, sizeof(double));
    char line[512];
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        KZ_SKIP("empty %s", path);
    }
    while (g->n < cap && fgets(line, sizeof line, f)) {
        char *p = strchr(line, ',');
        if (!p) {
            break;
        }
        double *cols[5] = {g->open, g->high, g->low, g->close, g->volume};
        for (int k = 0; k < 5; k++) {
            cols[k][g->n] = strtod(p + 1, &p);
        }
        g->n++;
    }
    fclose(f);
}

static void golden_free_bars(golden_bars *g)
{
    free(g->open);
    free(g->high);
    free(g->low);
    free(g->close);
    free(g->volume);
}

static const double *golden_input(const golden_bars *g, kz_ta_input in)
{
    switch (in) {
    case KZ_IN_OPEN: return g->open;
    case KZ_IN_HIGH: return g->high;
    case KZ_IN_LOW: return g->low;
    case KZ_IN_CLOSE: return g->close;
    case KZ_IN_VOLUME: return g->volume;
    }
    return NULL;
}

/* Parse "k=v,k=v" into params (starting from defaults). Returns 0 on error. */
static int golden_params(const kz_ta_info *info, const char *spec, double *params)
{
    kz_ta_defaults(info, params);
    if (!spec || !*spec) {
        return 1;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            return 0;
        }
        *eq = '\0';
        int k = kz_ta_param_index(info, tok);
        if (k < 0) {
            fprintf(stderr, "golden: %s has no parameter %s\n", info->name, tok);
            return 0;
        }
        params[k] = strtod(eq + 1, NULL);
    }
    return 1;
}

/* Compare `name(params)` with golden file `file` (e.g. "MACD.csv"). tol is relative with an
 * absolute floor of the same size near zero. Returns the number of mismatching cells. */
static int golden_check(const golden_bars *g, const char *file, const char *name,
                        const char *params_spec, double tol)
{
    char rel[256];
    snprintf(rel, sizeof rel, "golden/talib/%s", file);
    const char *path = kz_shared_path(rel);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "golden: %s missing (skipping this file)\n", path);
        return 0;
    }
    const kz_ta_info *info = kz_ta_find(name);
    CHECK_MSG(info != NULL, "indicator %s not in the registry", name);
    if (!info) {
        fclose(f);
        return 1;
    }
    double params[KZ_TA_MAX_PARAMS];
    CHECK_MSG(golden_params(info, params_spec, params), "%s: bad params %s", name, params_spec);
    const double *in[KZ_TA_MAX_INPUTS];
    for (int k = 0; k < info->n_inputs; k++) {
        in[k] = golden_input(g, info->inputs[k]);
    }
    /* CORREL/BETA are called on (high, low) in the golden files: the registry lists those. */
    double *out[KZ_TA_MAX_OUTPUTS];
    for (int j = 0; j < info->n_outputs; j++) {
        out[j] = malloc(g->n * sizeof(double));
    }
    kz_error err;
    kz_error_clear(&err);
    kz_status st = kz_ta_run(info, g->n, in, params, out, &err);
    CHECK_MSG(st == KZ_OK, "%s: kz_ta_run failed: %s %s", file, kz_status_str(st), err.msg);
    int bad = 0;
    char line[1024];
    size_t row = 0;
    if (st == KZ_OK && fgets(line, sizeof line, f)) {
        while (fgets(line, sizeof line, f) && row < g->n) {
            char *p = strchr(line, ',');
            for (int j = 0; j < info->n_outputs && p; j++) {
                char *q = p + 1;
                double want = NAN;
                if (*q != ',' && *q != '\n' && *q != '\r' && *q != '\0') {
                    want = strtod(q, &q);
                }
                double got = out[j][row];
                if (!kz_near(got, want, tol)) {
                    if (bad < 5) {
                        fprintf(stderr, "golden %s row %zu output %s: got %.17g want %.17g\n",
                                file, row, info->outputs[j], got, want);
                    }
                    bad++;
                }
                p = strchr(q, ',');
            }
            row++;
        }
    }
    CHECK_MSG(bad == 0, "%s: %d cells differ from TA-Lib", file, bad);
    CHECK_MSG(st != KZ_OK || row == 2000, "%s: read %zu golden rows", file, row);
    for (int j = 0; j < info->n_outputs; j++) {
        free(out[j]);
    }
    fclose(f);
    return bad;
}

#endif
