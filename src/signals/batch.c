/* Batch signals over a market: features once, prediction in chunks with the deadline checked
 * between them, per-row validation, fallbacks counted. */
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"

#include "signals_int.h"

/* Saturating arithmetic: an estimate that overflows is simply over any budget. */
static size_t sat_mul(size_t a, size_t b)
{
    return (a && b > SIZE_MAX / a) ? SIZE_MAX : a * b;
}

static size_t sat_add(size_t a, size_t b)
{
    return b > SIZE_MAX - a ? SIZE_MAX : a + b;
}

/* Working bytes of a run over n bars with chunks of `chunk` rows (docs/signals.md): the feature
 * frame (float cells + an int64 timestamp per row; the cache keeps a copy of its own), and per
 * chunk row two chunk frames (full + tail), the model's scaled row-major copy, the probabilities
 * in double and XGBoost's float output. */
static size_t batch_bytes(const kz_signals *sig, size_t n, size_t chunk)
{
    size_t frame = sat_mul(n, sat_add(sat_mul(sig->n_feat_cols, sizeof(float)), sizeof(int64_t)));
    if (sig->p.cache) {
        frame = sat_mul(frame, 2);
    }
    size_t per_row = sat_add(sat_mul(sig->n_model, 3 * sizeof(float)),
                             2 * sizeof(int64_t) + KZ_N_CLASSES * (sizeof(double) + sizeof(float)));
    return sat_add(frame, sat_mul(chunk, per_row));
}

/* Write the report's fallback triple to bars [b, e). */
static void fill(double *const out[KZ_N_CLASSES], size_t b, size_t e, const kz_signal_report *rep)
{
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        for (size_t i = b; i < e; i++) {
            out[c][i] = rep->fallback_prob[c];
        }
    }
}

/* Chunk rows [b, b + len) of the model's input: feature columns copied as they are (the model
 * scales them, exactly as for a streaming row), bar series narrowed to float as
 * kz_model_select_features does. */
static void gather(const kz_signals *sig,
                   const kz_frame *f,
                   const kz_market *m,
                   size_t b,
                   size_t len,
                   kz_frame *dst)
{
    const double *bars[SIG_N_OHLCV] = {m->bars.open, m->bars.high, m->bars.low, m->bars.close,
                                       m->bars.volume};
    for (size_t j = 0; j < sig->n_model; j++) {
        float *d = kz_frame_col_mut(dst, j);
        if (sig->src[j] < sig->n_feat_cols) {
            memcpy(d, kz_frame_col(f, sig->src[j]) + b, len * sizeof *d);
        } else {
            const double *s = bars[sig->src[j] - SIG_SRC_OHLCV] + b;
            for (size_t i = 0; i < len; i++) {
                d[i] = (float)s[i];
            }
        }
    }
}

/* Features of the whole market with the model's settings (through the cache when given). */
static kz_signal_reason
features(const kz_signals *sig, const kz_market *m, kz_frame **f, kz_signal_report *rep)
{
    kz_feature_report frep;
    memset(&frep, 0, sizeof frep);
    kz_error e;
    kz_error_clear(&e);
    const kz_feature_params *fp = kz_model_feature_params(sig->model);
    kz_status s = sig->p.cache ? kz_feature_cache_compute(sig->p.cache, m, fp, f, &frep, &e)
                               : kz_features_compute(m, fp, f, &frep, &e);
    rep->groups_no_input = frep.groups_no_input;
    if (s != KZ_OK) {
        e.code = s;
        sig_report_fallback(rep, s == KZ_ERR_NOMEM ? KZ_SIGNAL_NOMEM : KZ_SIGNAL_FEATURE_ERROR,
                            m->bars.n, &e);
        return rep->reason;
    }
    if (sig_check_inputs(sig, m->funding != NULL, m->oi != NULL, &e) != KZ_SIGNAL_OK) {
        sig_report_fallback(rep, KZ_SIGNAL_FEATURE_MISMATCH, m->bars.n, &e);
        return rep->reason;
    }
    return KZ_SIGNAL_OK;
}

/* Predict bars [0, n) chunk by chunk into out; returns the bars done (the rest fall back). */
static size_t predict(kz_signals *sig,
                      const kz_frame *f,
                      const kz_market *m,
                      double *const out[KZ_N_CLASSES],
                      kz_signal_report *rep)
{
    size_t n = m->bars.n, chunk = sig->p.chunk_rows < n ? sig->p.chunk_rows : n;
    size_t tail = n % chunk, done = 0;
    kz_frame *full = NULL, *part = NULL;
    double *prob = kz_malloc_array(chunk, KZ_N_CLASSES * sizeof *prob);
    if (!prob || kz_frame_new(chunk, sig->n_model, sig->names, NULL, &full) != KZ_OK ||
        (tail && kz_frame_new(tail, sig->n_model, sig->names, NULL, &part) != KZ_OK)) {
        sig_report_failf(rep, KZ_SIGNAL_NOMEM, n, KZ_ERR_NOMEM, NULL,
                         "out of memory for a %zu-row prediction chunk", chunk);
        goto done;
    }
    while (done < n) {
        if (sig_deadline_passed(sig)) {
            sig_report_failf(rep, KZ_SIGNAL_DEADLINE, n - done, KZ_ERR_CANCELLED, "deadline_s",
                             "deadline passed after %zu of %zu bars", done, n);
            break;
        }
        size_t len = n - done < chunk ? n - done : chunk;
        kz_frame *x = len == chunk ? full : part;
        gather(sig, f, m, done, len, x);
        kz_error e;
        kz_error_clear(&e);
        kz_status s = kz_model_predict(sig->model, x, prob, &e);
        if (s != KZ_OK) {
            e.code = s;
            sig_report_fallback(rep, s == KZ_ERR_NOMEM ? KZ_SIGNAL_NOMEM : KZ_SIGNAL_BOOSTER_ERROR,
                                n - done, &e);
            break;
        }
        if (sig->p.tap) {
            sig->p.tap(prob, done, len, sig->p.tap_ud);
        }
        for (size_t i = 0; i < len; i++) {
            const double *pr = prob + KZ_N_CLASSES * i;
            int ok = kz_signal_probs_valid(pr);
            if (!ok) {
                rep->n_invalid++;
                sig_report_failf(rep, KZ_SIGNAL_INVALID_PROB, 1, KZ_ERR_MODEL, "prob",
                                 "bar %zu: probabilities %.17g %.17g %.17g are not a valid "
                                 "distribution",
                                 done + i, pr[0], pr[1], pr[2]);
            }
            for (int c = 0; c < KZ_N_CLASSES; c++) {
                out[c][done + i] = ok ? pr[c] : rep->fallback_prob[c];
            }
        }
        done += len;
    }
done:
    kz_free(prob);
    kz_frame_free(full);
    kz_frame_free(part);
    return done;
}

kz_status kz_signals_compute(kz_signals *sig,
                             const kz_market *m,
                             double *down,
                             double *range,
                             double *up,
                             kz_signal_report *rep)
{
    kz_signal_report local;
    rep = rep ? rep : &local;
    if (!sig || !m || !down || !range || !up) {
        sig_report_start(sig, rep, 0);
        kz_error_set(&rep->detail, KZ_ERR_INVALID, NULL, 0, 0, "signals",
                     "NULL signals object, market or output column");
        return KZ_ERR_INVALID;
    }
    size_t n = m->bars.n, done = 0;
    double *const out[KZ_N_CLASSES] = {down, range, up};
    sig_report_start(sig, rep, n);
    if (n == 0) {
        return KZ_OK;
    }
    if (sig->state != KZ_SIGNAL_OK) {
        sig_report_fallback(rep, sig->state, n, &sig->detail);
        goto finish;
    }
    if (sig_deadline_passed(sig)) {
        sig_report_failf(rep, KZ_SIGNAL_DEADLINE, n, KZ_ERR_CANCELLED, "deadline_s",
                         "deadline passed before the features");
        goto finish;
    }
    size_t chunk = sig->p.chunk_rows < n ? sig->p.chunk_rows : n;
    size_t need = batch_bytes(sig, n, chunk);
    if (sig->p.max_bytes && need > sig->p.max_bytes) {
        sig_report_failf(rep, KZ_SIGNAL_MEMORY_BUDGET, n, KZ_ERR_RANGE, "max_bytes",
                         "%zu bars need about %zu bytes, over the budget of %zu", n, need,
                         sig->p.max_bytes);
        goto finish;
    }
    kz_frame *f = NULL;
    if (features(sig, m, &f, rep) == KZ_SIGNAL_OK) {
        if (sig_deadline_passed(sig)) {
            sig_report_failf(rep, KZ_SIGNAL_DEADLINE, n, KZ_ERR_CANCELLED, "deadline_s",
                             "deadline passed after the features");
        } else {
            done = predict(sig, f, m, out, rep);
        }
    }
    kz_frame_free(f);
finish:
    fill(out, done, n, rep);
    return KZ_OK;
}
