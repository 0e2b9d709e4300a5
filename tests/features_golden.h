/* Feature goldens (tests/golden/features, written by tests/reference/features_ref.py): load a
 * golden CSV, build the market its inputs describe, compare a frame cell by cell. Shared by
 * test_features.c and test_features_real.c. */
#ifndef KZ_FEATURES_GOLDEN_H
#define KZ_FEATURES_GOLDEN_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/features.h"
#include "kizashi/market.h"

#include "kz_test.h"

/* Golden tolerance (float32 storage of double values): relative 1e-5 or absolute 1e-7. */
#define FG_REL 1e-5
#define FG_ABS 1e-7

typedef struct fg_golden {
    size_t n_rows, n_cols;
    char **names; /* n_cols feature names (timestamp excluded) */
    int64_t *ts;  /* n_rows */
    double *v;    /* row-major n_rows x n_cols, NaN for empty cells */
} fg_golden;

static void fg_free(fg_golden *g)
{
    for (size_t j = 0; j < g->n_cols; j++) {
        free(g->names[j]);
    }
    free(g->names);
    free(g->ts);
    free(g->v);
    memset(g, 0, sizeof *g);
}

/* Reads a golden; returns 0 (and says why) if the file cannot be read. */
static int fg_load(const char *path, fg_golden *g)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 0;
    }
    static char line[1 << 16];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return 0;
    }
    line[strcspn(line, "\r\n")] = '\0';
    char *save = NULL;
    char *tok = strtok_r(line, ",", &save); /* "timestamp" */
    size_t cap = 128;
    g->names = calloc(cap, sizeof(char *));
    while ((tok = strtok_r(NULL, ",", &save)) != NULL && g->n_cols < cap) {
        g->names[g->n_cols++] = strdup(tok);
    }
    size_t rcap = 1024;
    g->ts = malloc(rcap * sizeof(int64_t));
    g->v = malloc(rcap * g->n_cols * sizeof(double));
    while (fgets(line, sizeof line, f)) {
        if (g->n_rows == rcap) {
            rcap *= 2;
            g->ts = realloc(g->ts, rcap * sizeof(int64_t));
            g->v = realloc(g->v, rcap * g->n_cols * sizeof(double));
        }
        char *p = line;
        g->ts[g->n_rows] = strtoll(p, &p, 10);
        for (size_t j = 0; j < g->n_cols; j++) {
            double *cell = &g->v[g->n_rows * g->n_cols + j];
            if (*p == ',') {
                p++;
            }
            if (*p == ',' || *p == '\n' || *p == '\r' || *p == '\0') {
                *cell = NAN;
            } else {
                *cell = strtod(p, &p);
            }
        }
        g->n_rows++;
    }
    fclose(f);
    return 1;
}

/* Source-tree path of a golden file. */
static const char *fg_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/tests/golden/features/%s", KZ_SOURCE_DIR, rel);
    return buf;
}

/* Builds a market from bar / funding / OI files (funding, oi may be NULL) with the reference's
 * max ages (funding 9 h, OI 2 bars); keeps the first `head` bars when head > 0. */
static int fg_market(const char *bars_path,
                     const char *fr_path,
                     const char *oi_path,
                     kz_timeframe tf,
                     size_t head,
                     kz_market *m)
{
    kz_read_opts o = kz_read_opts_default();
    o.tf = tf;
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    kz_error err;
    int ok = kz_bars_read_file(bars_path, &o, &b, NULL, &err) == KZ_OK;
    if (ok && fr_path) {
        ok = kz_series_read_file(fr_path, KZ_DATA_FUNDING, &o, &fr, NULL, &err) == KZ_OK;
    }
    if (ok && oi_path) {
        ok = kz_series_read_file(oi_path, KZ_DATA_OI, &o, &oi, NULL, &err) == KZ_OK;
    }
    if (!ok) {
        char buf[1024];
        fprintf(stderr, "read failed: %s\n", kz_error_format(&err, buf, sizeof buf));
    }
    if (ok && head && head < b.n) {
        b.n = head;
    }
    memset(m, 0, sizeof *m);
    int64_t tf_ms = kz_timeframe_ms(tf);
    ok = ok && kz_market_build("test", "TEST", tf, &b, fr_path ? &fr : NULL, oi_path ? &oi : NULL,
                               9 * INT64_C(3600000), 2 * tf_ms, m) == KZ_OK;
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
    return ok;
}

static int fg_cell_ok(double got, double want)
{
    if (isnan(want) || isnan(got)) {
        return isnan(want) && isnan(got);
    }
    double d = fabs(got - want);
    return d <= FG_ABS || d <= FG_REL * fabs(want);
}

/* Compares every cell of `f` (columns matched by name, all golden columns must exist) with the
 * golden; prints the first bad cells and the worst column. Returns the number of bad cells. */
static size_t fg_compare(const char *label, const kz_frame *f, const fg_golden *g)
{
    size_t bad = 0, worst_bad = 0;
    const char *worst = "";
    double worst_err = 0.0;
    CHECK_EQ_INT(kz_frame_n_rows(f), g->n_rows);
    CHECK_EQ_INT(kz_frame_n_cols(f), g->n_cols);
    for (size_t j = 0; j < g->n_cols && kz_frame_n_rows(f) == g->n_rows; j++) {
        size_t fj = kz_frame_find(f, g->names[j]);
        if (fj == KZ_FRAME_NPOS) {
            fprintf(stderr, "%s: column %s missing\n", label, g->names[j]);
            bad++;
            continue;
        }
        CHECK_STR_CONTAINS(kz_frame_name(f, j), g->names[j]);
        const float *col = kz_frame_col(f, fj);
        size_t col_bad = 0;
        double col_err = 0.0;
        for (size_t i = 0; i < g->n_rows; i++) {
            double want = g->v[i * g->n_cols + j], got = (double)col[i];
            if (!fg_cell_ok(got, want)) {
                if (bad < 10) {
                    fprintf(stderr, "%s: %s row %zu: got %.17g want %.17g\n", label, g->names[j], i,
                            got, want);
                }
                bad++;
                col_bad++;
            } else if (!isnan(want)) {
                double e = fabs(got - want) / fmax(fabs(want), FG_ABS / FG_REL);
                col_err = fmax(col_err, e);
            }
        }
        if (col_bad > worst_bad || (worst_bad == 0 && col_bad == 0 && col_err > worst_err)) {
            worst_bad = col_bad;
            worst_err = col_err;
            worst = g->names[j];
        }
    }
    printf("%s: %zu rows x %zu cols, %zu bad cells; worst column %s (%zu bad, scaled err %.3g)\n",
           label, g->n_rows, g->n_cols, bad, worst, worst_bad, worst_err);
    CHECK_MSG(bad == 0, "%s: %zu cells differ from the golden", label, bad);
    const int64_t *ts = kz_frame_ts(f);
    for (size_t i = 0; i < g->n_rows && kz_frame_n_rows(f) == g->n_rows; i++) {
        if (ts[i] != g->ts[i]) {
            CHECK_MSG(0, "%s: timestamp row %zu", label, i);
            break;
        }
    }
    return bad;
}

/* Streams the market bar by bar and checks every row equals the batch frame bit for bit. */
static void fg_check_stream(const char *label,
                            const kz_market *m,
                            const kz_feature_params *p,
                            const kz_frame *f)
{
    kz_feature_state *s = NULL;
    CHECK(kz_feature_state_new(p, m->tf, m->funding != NULL, m->oi != NULL, &s, NULL) == KZ_OK);
    if (!s) {
        return;
    }
    size_t nc = kz_feature_state_n_cols(s), mismatches = 0;
    CHECK_EQ_INT(nc, kz_frame_n_cols(f));
    float row[128];
    const kz_bars *b = &m->bars;
    for (size_t i = 0; i < b->n; i++) {
        kz_status st = kz_feature_state_push(
            s, b->ts_ms[i], b->open[i], b->high[i], b->low[i], b->close[i], b->volume[i],
            m->funding ? m->funding[i] : NAN, m->oi ? m->oi[i] : NAN, row);
        CHECK(st == KZ_OK);
        for (size_t j = 0; j < nc; j++) {
            float want = kz_frame_col(f, j)[i];
            if (memcmp(&row[j], &want, sizeof want) != 0 && !(isnan(row[j]) && isnan(want))) {
                mismatches++;
            }
        }
    }
    CHECK_MSG(mismatches == 0, "%s: %zu streamed cells differ from batch", label, mismatches);
    /* A bar that does not move time forward is refused and leaves the state unchanged. */
    CHECK(kz_feature_state_push(s, b->ts_ms[b->n - 1], 1, 1, 1, 1, 1, NAN, NAN, row) ==
          KZ_ERR_INVALID);
    kz_feature_state_free(s);
}

#endif
