/* Batch feature computation and the streaming state: both drive the per-bar engine (engine.c),
 * so a batch row and the streamed row of the same bar are the same floats. */
#include <math.h>
#include <string.h>

#include "kizashi/core.h"

#include "features_int.h"

enum { BLOCK = 64 };

struct kz_feature_state {
    fe_engine *engine;
    size_t n_cols;
    size_t cols[F_COUNT]; /* registry index of each output column */
    int64_t last_ts;
    int started;
    double row[F_COUNT]; /* scratch: the engine's full row, NaN where the engine never writes */
};

kz_status kz_feature_state_new(const kz_feature_params *p,
                               kz_timeframe tf,
                               int has_funding,
                               int has_oi,
                               kz_feature_state **out,
                               kz_error *err)
{
    kz_feature_params def = kz_feature_params_default();
    if (!out) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "out", "NULL output pointer");
    }
    *out = NULL;
    p = p ? p : &def;
    kz_status st = kz_feature_params_check(p, err);
    if (st != KZ_OK) {
        return st;
    }
    if (kz_timeframe_ms(tf) <= 0) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "tf", "invalid timeframe");
    }
    kz_feature_state *s = kz_calloc(1, sizeof *s);
    if (!s) {
        return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, "", "out of memory");
    }
    st = fe_engine_new(p, tf, has_funding, has_oi, &s->engine);
    if (st != KZ_OK) {
        kz_free(s);
        return kz_error_set(err, st, NULL, 0, 0, "", "out of memory");
    }
    for (size_t j = 0; j < F_COUNT; j++) {
        s->row[j] = NAN;
    }
    s->n_cols = kz_features_n_cols(p);
    for (size_t j = 0; j < s->n_cols; j++) {
        s->cols[j] = kz_features_col_index(p, j);
    }
    *out = s;
    return KZ_OK;
}

void kz_feature_state_free(kz_feature_state *s)
{
    if (s) {
        fe_engine_free(s->engine);
        kz_free(s);
    }
}

size_t kz_feature_state_n_cols(const kz_feature_state *s)
{
    return s ? s->n_cols : 0;
}

/* One bar through the engine into out[j * stride] (s->row with stride 1, or a row of the batch's
 * column-major block; either holds NaN in every cell the engine does not write). Returns 0 if
 * ts_ms does not increase. */
static int state_step(kz_feature_state *s,
                      double *out,
                      size_t stride,
                      int64_t ts_ms,
                      double o,
                      double h,
                      double l,
                      double c,
                      double v,
                      double fr,
                      double oi)
{
    if (s->started && ts_ms <= s->last_ts) {
        return 0;
    }
    s->started = 1;
    s->last_ts = ts_ms;
    fe_engine_push(s->engine, ts_ms, o, h, l, c, v, fr, oi, out, stride);
    return 1;
}

/* The selected columns of the last row, as the frame stores them. */
static void state_row(const kz_feature_state *s, float *dst)
{
    for (size_t j = 0; j < s->n_cols; j++) {
        dst[j] = fe_clean(s->row[s->cols[j]]);
    }
}

kz_status kz_feature_state_push(kz_feature_state *s,
                                int64_t ts_ms,
                                double open,
                                double high,
                                double low,
                                double close,
                                double volume,
                                double funding,
                                double oi,
                                float *row_out)
{
    if (!s || !row_out ||
        !state_step(s, s->row, 1, ts_ms, open, high, low, close, volume, funding, oi)) {
        return KZ_ERR_INVALID;
    }
    state_row(s, row_out);
    return KZ_OK;
}

kz_status kz_features_compute(const kz_market *m,
                              const kz_feature_params *p,
                              kz_frame **out,
                              kz_feature_report *rep,
                              kz_error *err)
{
    kz_feature_params def = kz_feature_params_default();
    if (!m || !out) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, !m ? "market" : "out",
                            "NULL argument");
    }
    *out = NULL;
    p = p ? p : &def;
    const kz_bars *b = &m->bars;
    if (b->n && (!b->ts_ms || !b->open || !b->high || !b->low || !b->close || !b->volume)) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "bars", "bars with NULL columns");
    }
    kz_feature_state *s = NULL;
    kz_frame *f = NULL;
    double(*blk)[BLOCK] = NULL;
    kz_status st = kz_feature_state_new(p, m->tf, m->funding != NULL, m->oi != NULL, &s, err);
    if (st != KZ_OK) {
        goto fail;
    }
    const char *names[F_COUNT];
    for (size_t j = 0; j < s->n_cols; j++) {
        names[j] = kz_feature_at(s->cols[j])->name;
    }
    st = fe_frame_alloc(b->n, s->n_cols, names, &f);
    if (st != KZ_OK) {
        kz_error_set(err, st, NULL, 0, 0, "", "out of memory for the feature frame");
        goto fail;
    }
    if (b->n) {
        memcpy(fe_frame_ts_mut(f), b->ts_ms, b->n * sizeof(int64_t));
    }
    float *col[F_COUNT];
    for (size_t j = 0; j < s->n_cols; j++) {
        col[j] = kz_frame_col_mut(f, j);
    }
    /* The engine writes BLOCK rows into a column-major block (blk[j][r]; NaN once where it never
     * writes), which is then cleaned and narrowed into the frame's columns by contiguous
     * loops: the frame is written in runs of BLOCK floats per column. */
    blk = kz_malloc_array(F_COUNT, sizeof *blk);
    if (!blk) {
        st = KZ_ERR_NOMEM;
        kz_error_set(err, st, NULL, 0, 0, "", "out of memory");
        goto fail;
    }
    for (size_t j = 0; j < F_COUNT; j++) {
        for (size_t r = 0; r < BLOCK; r++) {
            blk[j][r] = NAN;
        }
    }
    for (size_t i0 = 0; i0 < b->n; i0 += BLOCK) {
        size_t nb = b->n - i0 < BLOCK ? b->n - i0 : BLOCK;
        for (size_t r = 0; r < nb; r++) {
            size_t i = i0 + r;
            double fr = m->funding ? m->funding[i] : NAN, oi = m->oi ? m->oi[i] : NAN;
            if (!state_step(s, &blk[0][r], BLOCK, b->ts_ms[i], b->open[i], b->high[i], b->low[i],
                            b->close[i], b->volume[i], fr, oi)) {
                st = kz_error_set(err, KZ_ERR_VALIDATION, NULL, (long)i + 1, 0, "timestamp",
                                  "bar %zu: timestamp %lld does not follow %lld", i,
                                  (long long)b->ts_ms[i], (long long)b->ts_ms[i - 1]);
                goto fail;
            }
        }
        for (size_t j = 0; j < s->n_cols; j++) {
            const double *src = blk[s->cols[j]];
            for (size_t r = 0; r < nb; r++) {
                col[j][i0 + r] = fe_clean(src[r]);
            }
        }
    }
    if (rep) {
        memset(rep, 0, sizeof *rep);
        rep->n_rows = b->n;
        rep->n_cols = s->n_cols;
        rep->groups_no_input = fe_groups_no_input(p->groups, m->funding != NULL, m->oi != NULL);
    }
    kz_free(blk);
    kz_feature_state_free(s);
    *out = f;
    return KZ_OK;
fail:
    kz_free(blk);
    kz_feature_state_free(s);
    kz_frame_free(f);
    return st;
}
