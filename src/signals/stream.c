/* Streaming signals: one closed bar -> feature state row -> the model's row -> single-row predict,
 * with the last good prediction as the fallback and running totals. */
#include <string.h>

#include "kizashi/core.h"

#include "signals_int.h"

struct kz_signal_stream {
    kz_signals *sig;        /* borrowed */
    kz_feature_state *fs;   /* NULL when the stream can only fall back */
    kz_signal_reason state; /* KZ_SIGNAL_OK, or why every push falls back */
    kz_error detail;
    float *row;  /* the feature state's row (n_feat_cols) */
    float *xrow; /* the model's row (n_model) */
    double last[KZ_N_CLASSES];
    int have_last;
    kz_signal_report total;
};

void kz_signal_stream_free(kz_signal_stream *s)
{
    if (!s) {
        return;
    }
    kz_feature_state_free(s->fs);
    kz_free(s->row);
    kz_free(s->xrow);
    kz_free(s);
}

kz_status kz_signal_stream_new(kz_signals *sig,
                               kz_timeframe tf,
                               int has_funding,
                               int has_oi,
                               kz_signal_stream **out,
                               kz_error *err)
{
    if (!out) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "out", "NULL output pointer");
    }
    *out = NULL;
    if (!sig) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "signals", "NULL signals object");
    }
    kz_signal_stream *s = kz_calloc(1, sizeof *s);
    if (!s) {
        return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    s->sig = sig;
    sig_report_start(sig, &s->total, 0);
    s->state = sig->state;
    s->detail = sig->detail;
    if (s->state == KZ_SIGNAL_OK) {
        s->state = sig_check_inputs(sig, has_funding, has_oi, &s->detail);
    }
    s->total.groups_no_input = sig_groups_no_input(has_funding, has_oi);
    if (s->state == KZ_SIGNAL_OK) {
        kz_error e;
        kz_status st = kz_feature_state_new(kz_model_feature_params(sig->model), tf, has_funding,
                                            has_oi, &s->fs, &e);
        if (st == KZ_ERR_NOMEM ||
            (st == KZ_OK &&
             (!(s->row =
                    kz_malloc_array(sig->n_feat_cols ? sig->n_feat_cols : 1, sizeof *s->row)) ||
              !(s->xrow = kz_malloc_array(sig->n_model ? sig->n_model : 1, sizeof *s->xrow))))) {
            kz_signal_stream_free(s);
            return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL, "out of memory");
        }
        if (st != KZ_OK) {
            /* A bad timeframe: the feature engine cannot run, so every push falls back. */
            e.code = st;
            s->state = KZ_SIGNAL_FEATURE_ERROR;
            s->detail = e;
        }
    }
    *out = s;
    return KZ_OK;
}

/* The model's row from the state's row and the bar (bar series narrowed to float, as batch). */
static void gather_row(const kz_signal_stream *s, const double bar[SIG_N_OHLCV])
{
    const kz_signals *sig = s->sig;
    for (size_t j = 0; j < sig->n_model; j++) {
        size_t k = sig->src[j];
        s->xrow[j] = k < sig->n_feat_cols ? s->row[k] : (float)bar[k - SIG_SRC_OHLCV];
    }
}

/* The prediction of one bar into prob; the reason it fell back (its detail in e), or OK. */
static kz_signal_reason predict_bar(kz_signal_stream *s,
                                    size_t index,
                                    const double bar[SIG_N_OHLCV],
                                    double prob[KZ_N_CLASSES],
                                    kz_error *e)
{
    kz_signals *sig = s->sig;
    if (sig_deadline_passed(sig)) {
        kz_error_set(e, KZ_ERR_CANCELLED, NULL, 0, 0, "deadline_s", "deadline passed at bar %zu",
                     index);
        return KZ_SIGNAL_DEADLINE;
    }
    gather_row(s, bar);
    kz_status st = kz_model_predict_row(sig->model, s->xrow, sig->n_model, prob, e);
    if (st != KZ_OK) {
        e->code = st;
        return st == KZ_ERR_NOMEM ? KZ_SIGNAL_NOMEM : KZ_SIGNAL_BOOSTER_ERROR;
    }
    if (sig->p.tap) {
        sig->p.tap(prob, index, 1, sig->p.tap_ud);
    }
    if (!kz_signal_probs_valid(prob)) {
        kz_error_set(e, KZ_ERR_MODEL, NULL, 0, 0, "prob",
                     "bar %zu: probabilities %.17g %.17g %.17g are not a valid distribution", index,
                     prob[0], prob[1], prob[2]);
        return KZ_SIGNAL_INVALID_PROB;
    }
    return KZ_SIGNAL_OK;
}

kz_status kz_signal_stream_push(kz_signal_stream *s,
                                int64_t ts_ms,
                                double open,
                                double high,
                                double low,
                                double close,
                                double volume,
                                double funding,
                                double oi,
                                double prob[KZ_N_CLASSES],
                                kz_signal_report *rep)
{
    kz_signal_report local;
    rep = rep ? rep : &local;
    sig_report_start(s ? s->sig : NULL, rep, 1);
    if (!s || !prob) {
        kz_error_set(&rep->detail, KZ_ERR_INVALID, NULL, 0, 0, "stream", "NULL stream or output");
        return KZ_ERR_INVALID;
    }
    rep->groups_no_input = s->total.groups_no_input;
    if (s->have_last) {
        memcpy(rep->fallback_prob, s->last, sizeof s->last);
    }
    size_t index = s->total.n_bars;
    kz_status ret = KZ_OK;
    kz_error e;
    kz_error_clear(&e);
    kz_signal_reason r = s->state;
    if (r != KZ_SIGNAL_OK) {
        e = s->detail;
    } else if (kz_feature_state_push(s->fs, ts_ms, open, high, low, close, volume, funding, oi,
                                     s->row) != KZ_OK) {
        ret = kz_error_set(&e, KZ_ERR_INVALID, NULL, 0, 0, "ts_ms",
                           "bar %zu: timestamp %lld does not follow the previous bar's", index,
                           (long long)ts_ms);
        r = KZ_SIGNAL_FEATURE_ERROR;
    } else {
        const double bar[SIG_N_OHLCV] = {open, high, low, close, volume};
        r = predict_bar(s, index, bar, prob, &e);
    }
    if (r == KZ_SIGNAL_OK) {
        memcpy(s->last, prob, sizeof s->last);
        s->have_last = 1;
    } else {
        rep->n_invalid = r == KZ_SIGNAL_INVALID_PROB ? 1 : 0;
        sig_report_fallback(rep, r, 1, &e);
        memcpy(prob, rep->fallback_prob, sizeof rep->fallback_prob);
    }
    /* Totals: the latest fallback's reason and detail. */
    kz_signal_report *t = &s->total;
    t->n_bars++;
    t->n_fallback += rep->n_fallback;
    t->n_invalid += rep->n_invalid;
    memcpy(t->fallback_prob, rep->fallback_prob, sizeof t->fallback_prob);
    if (rep->fallback) {
        t->fallback = 1;
        t->reason = rep->reason;
        t->detail = rep->detail;
    }
    return ret;
}

void kz_signal_stream_report(const kz_signal_stream *s, kz_signal_report *rep)
{
    if (!rep) {
        return;
    }
    if (!s) {
        sig_report_start(NULL, rep, 0);
        return;
    }
    *rep = s->total;
}
