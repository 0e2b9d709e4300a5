/* Batch feature computation and the streaming state: both drive the engine (engine.c), the
 * batch with blocks of FE_CHUNK bars and the stream with one bar at a time, which give the same
 * doubles (fe_engine_run), so a batch row and the streamed row of the same bar are the same floats.
 */
#include <math.h>
#include <string.h>

#include "kizashi/core.h"

#include "features_int.h"

enum { BLOCK = FE_CHUNK };

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

/* n bars (1..FE_CHUNK) through the engine, bar r's column j into out[j * stride + r] (s->row
 * with n = stride = 1, or the batch's column-major block; either holds NaN in every cell the
 * engine does not write). Returns the index of the first bar whose timestamp does not increase
 * (nothing is run then), or n. */
static size_t
state_run(kz_feature_state *s, const fe_bar *bars, size_t n, double *out, size_t stride)
{
    for (size_t r = 0; r < n; r++) {
        if ((s->started || r > 0) && bars[r].ts_ms <= (r ? bars[r - 1].ts_ms : s->last_ts)) {
            return r;
        }
    }
    if (n) {
        s->started = 1;
        s->last_ts = bars[n - 1].ts_ms;
        fe_engine_run(s->engine, bars, n, out, stride);
    }
    return n;
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
    fe_bar bar = {ts_ms, open, high, low, close, volume, funding, oi};
    if (!s || !row_out || state_run(s, &bar, 1, s->row, 1) != 1) {
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
        fe_bar bars[BLOCK];
        for (size_t r = 0; r < nb; r++) {
            size_t i = i0 + r;
            bars[r] = (fe_bar){b->ts_ms[i],
                               b->open[i],
                               b->high[i],
                               b->low[i],
                               b->close[i],
                               b->volume[i],
                               m->funding ? m->funding[i] : NAN,
                               m->oi ? m->oi[i] : NAN};
        }
        size_t ok = state_run(s, bars, nb, &blk[0][0], BLOCK);
        if (ok < nb) {
            size_t i = i0 + ok;
            st = kz_error_set(err, KZ_ERR_VALIDATION, NULL, (long)i + 1, 0, "timestamp",
                              "bar %zu: timestamp %lld does not follow %lld", i,
                              (long long)b->ts_ms[i], (long long)b->ts_ms[i - 1]);
            goto fail;
        }
        for (size_t j = 0; j < s->n_cols; j++) {
            /* One vectorised loop (fe_clean); the cells the engine never writes stay NaN. */
            const double *src = blk[s->cols[j]];
            float *dst = col[j] + i0;
            for (size_t r = 0; r < nb; r++) {
                dst[r] = fe_clean(src[r]);
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
