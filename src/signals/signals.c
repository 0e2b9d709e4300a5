/* The kz_signals object: the model (loaded or borrowed), its fallback priors, the plan from the
 * model's feature names to the feature engine's columns, and the helpers batch and stream share:
 * reports, the cooperative deadline, probability validation. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "signals_int.h"

static const char *const COLUMN_NAMES[KZ_N_CLASSES] = {KZ_SIGNAL_COL_DOWN, KZ_SIGNAL_COL_RANGE,
                                                       KZ_SIGNAL_COL_UP};

static const char *const REASON_NAMES[KZ_SIGNAL_REASON_COUNT] = {"ok",
                                                                 "no_model",
                                                                 "load_failed",
                                                                 "feature_mismatch",
                                                                 "feature_error",
                                                                 "booster_error",
                                                                 "deadline",
                                                                 "memory_budget",
                                                                 "nomem",
                                                                 "invalid_prob"};

static const char *const OHLCV_NAMES[SIG_N_OHLCV] = {"Open", "High", "Low", "Close", "Volume"};

const char *kz_signal_column_name(int c)
{
    return (c >= 0 && c < KZ_N_CLASSES) ? COLUMN_NAMES[c] : NULL;
}

const char *kz_signal_reason_str(kz_signal_reason r)
{
    return ((int)r >= 0 && r < KZ_SIGNAL_REASON_COUNT) ? REASON_NAMES[r] : "?";
}

int kz_signal_probs_valid(const double p[KZ_N_CLASSES])
{
    double sum = 0.0;
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        /* isfinite rejects NaN and +-inf before the range test. */
        if (!isfinite(p[c]) || p[c] < 0.0 || p[c] > 1.0) {
            return 0;
        }
        sum += p[c];
    }
    return fabs(sum - 1.0) <= 1e-6;
}

kz_signal_params kz_signal_params_default(void)
{
    kz_signal_params p;
    memset(&p, 0, sizeof p);
    p.chunk_rows = 8192;
    return p;
}

/* ---------------------------------------------------------------- reports and clock */
void sig_report_start(const kz_signals *sig, kz_signal_report *rep, size_t n_bars)
{
    memset(rep, 0, sizeof *rep);
    rep->n_bars = n_bars;
    rep->priors_known = sig ? sig->priors_known : 0;
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        rep->fallback_prob[c] = sig ? sig->prior[c] : 1.0 / KZ_N_CLASSES;
    }
}

void sig_report_fallback(kz_signal_report *rep,
                         kz_signal_reason r,
                         size_t n,
                         const kz_error *detail)
{
    if (n == 0) {
        return;
    }
    if (!rep->fallback) {
        rep->fallback = 1;
        rep->reason = r;
        if (detail) {
            rep->detail = *detail;
        }
    }
    rep->n_fallback += n;
}

void sig_report_failf(kz_signal_report *rep,
                      kz_signal_reason r,
                      size_t n,
                      kz_status code,
                      const char *field,
                      const char *fmt,
                      ...)
{
    kz_error e;
    memset(&e, 0, sizeof e);
    e.code = code;
    snprintf(e.field, sizeof e.field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    sig_report_fallback(rep, r, n, &e);
}

int sig_deadline_passed(const kz_signals *sig)
{
    if (sig->p.deadline_s <= 0.0) {
        return 0;
    }
    double now = sig->p.clock ? sig->p.clock(sig->p.clock_ud) : kz_monotonic_s();
    return !(now < sig->p.deadline_s);
}

void kz_signals_set_deadline(kz_signals *sig, double deadline_s)
{
    if (sig) {
        sig->p.deadline_s = deadline_s;
    }
}

/* ---------------------------------------------------------------- inputs */
unsigned sig_groups_no_input(int has_funding, int has_oi)
{
    unsigned mask = 0;
    if (!has_funding) {
        mask |= KZ_FG_BIT(KZ_FG_FUNDING);
    }
    if (!has_oi) {
        mask |= KZ_FG_BIT(KZ_FG_OPEN_INTEREST);
    }
    if (!has_funding || !has_oi) {
        mask |= KZ_FG_BIT(KZ_FG_COMPOSITE);
    }
    return mask;
}

kz_signal_reason sig_check_inputs(const kz_signals *sig, int has_funding, int has_oi, kz_error *e)
{
    if (sig->p.allow_missing_inputs) {
        return KZ_SIGNAL_OK;
    }
    const char *lack = NULL;
    if (sig->needs_funding && !has_funding) {
        lack = "funding";
    } else if (sig->needs_oi && !has_oi) {
        lack = "open_interest";
    }
    if (!lack) {
        return KZ_SIGNAL_OK;
    }
    kz_error_set(e, KZ_ERR_MISMATCH, NULL, 0, 0, lack,
                 "the model reads %s features but the data has no %s series (its features would "
                 "all be missing, unlike in training)",
                 lack, lack);
    return KZ_SIGNAL_FEATURE_MISMATCH;
}

/* ---------------------------------------------------------------- plan */
static void set_state(kz_signals *sig, kz_signal_reason r, const kz_error *e)
{
    sig->state = r;
    sig->detail = *e;
}

/* Resolve every model feature to a column of the feature frame the model's own feature params
 * give (or to a bar series). A name the engine does not make is a mismatch: the model was
 * trained on other inputs (a bare frame, another feature version). */
static kz_status build_plan(kz_signals *sig)
{
    kz_error e;
    kz_error_clear(&e);
    const kz_feature_params *fp = kz_model_feature_params(sig->model);
    if (kz_feature_params_check(fp, &e) != KZ_OK) {
        set_state(sig, KZ_SIGNAL_FEATURE_MISMATCH, &e);
        return KZ_OK;
    }
    size_t nm = kz_model_n_features(sig->model), nf = kz_features_n_cols(fp);
    sig->n_model = nm;
    sig->n_feat_cols = nf;
    sig->src = kz_malloc_array(nm ? nm : 1, sizeof *sig->src);
    sig->names = kz_malloc_array(nm ? nm : 1, sizeof *sig->names);
    if (!sig->src || !sig->names) {
        return KZ_ERR_NOMEM;
    }
    for (size_t j = 0; j < nm; j++) {
        const char *name = kz_model_feature_name(sig->model, j);
        sig->names[j] = name;
        sig->src[j] = KZ_FRAME_NPOS;
        for (size_t k = 0; k < nf && sig->src[j] == KZ_FRAME_NPOS; k++) {
            const kz_feature_info *fi = kz_feature_at(kz_features_col_index(fp, k));
            if (strcmp(fi->name, name) == 0) {
                sig->src[j] = k;
                sig->needs_funding |= strstr(fi->inputs, "FR") != NULL;
                sig->needs_oi |= strstr(fi->inputs, "OI") != NULL;
            }
        }
        for (size_t k = 0; k < SIG_N_OHLCV && sig->src[j] == KZ_FRAME_NPOS; k++) {
            if (strcmp(OHLCV_NAMES[k], name) == 0) {
                sig->src[j] = SIG_SRC_OHLCV + k;
            }
        }
        if (sig->src[j] == KZ_FRAME_NPOS) {
            char groups[128];
            kz_error_set(&e, KZ_ERR_MISMATCH, NULL, 0, (int)(j + 1), name,
                         "model feature %zu '%s' is not made by the feature engine with the "
                         "model's feature settings (groups %s)",
                         j, name, kz_feature_groups_format(fp->groups, groups, sizeof groups));
            set_state(sig, KZ_SIGNAL_FEATURE_MISMATCH, &e);
            return KZ_OK;
        }
    }
    return KZ_OK;
}

/* Common construction: params copied and checked, priors, plan. */
static kz_status
make(kz_model *model, kz_model *owned, const kz_signal_params *p, kz_signals **out, kz_error *err)
{
    kz_signal_params defaults = kz_signal_params_default();
    p = p ? p : &defaults;
    if (p->chunk_rows == 0 || !(p->deadline_s >= 0.0)) {
        kz_model_free(owned);
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0,
                            p->chunk_rows == 0 ? "chunk_rows" : "deadline_s",
                            "chunk_rows must be >= 1 and deadline_s >= 0 (0 = none)");
    }
    kz_signals *sig = kz_calloc(1, sizeof *sig);
    if (!sig) {
        kz_model_free(owned);
        return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    sig->model = model;
    sig->owned = owned;
    sig->p = *p;
    sig->priors_known = kz_model_class_priors(model, sig->prior);
    if (model && build_plan(sig) != KZ_OK) {
        kz_signals_free(sig);
        return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    *out = sig;
    return KZ_OK;
}

kz_status
kz_signals_new(kz_model *model, const kz_signal_params *p, kz_signals **out, kz_error *err)
{
    if (!out) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "out", "NULL output pointer");
    }
    *out = NULL;
    kz_status s = make(model, NULL, p, out, err);
    if (s == KZ_OK && !model) {
        kz_error e;
        kz_error_set(&e, KZ_ERR_INVALID, NULL, 0, 0, "model", "no model was given");
        set_state(*out, KZ_SIGNAL_NO_MODEL, &e);
    }
    return s;
}

kz_status
kz_signals_open(const char *path, const kz_signal_params *p, kz_signals **out, kz_error *err)
{
    if (!out) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "out", "NULL output pointer");
    }
    *out = NULL;
    if (!path || !*path) {
        return kz_signals_new(NULL, p, out, err);
    }
    kz_model *model = NULL;
    kz_error le;
    kz_error_clear(&le);
    kz_status ls = kz_model_load(path, &model, &le);
    kz_status s = make(ls == KZ_OK ? model : NULL, ls == KZ_OK ? model : NULL, p, out, err);
    if (s == KZ_OK && ls != KZ_OK) {
        /* kz_model_load names the field; the file is what the caller needs to see. */
        le.code = ls;
        snprintf(le.file, sizeof le.file, "%s", path);
        set_state(*out, KZ_SIGNAL_LOAD_FAILED, &le);
    }
    return s;
}

void kz_signals_free(kz_signals *sig)
{
    if (!sig) {
        return;
    }
    kz_free(sig->src);
    kz_free(sig->names);
    kz_model_free(sig->owned);
    kz_free(sig);
}

kz_signal_reason kz_signals_state(const kz_signals *sig, kz_error *detail)
{
    if (!sig) {
        kz_error_set(detail, KZ_ERR_INVALID, NULL, 0, 0, "signals", "NULL object");
        return KZ_SIGNAL_NO_MODEL;
    }
    if (detail) {
        *detail = sig->detail;
    }
    return sig->state;
}

kz_model *kz_signals_model(const kz_signals *sig)
{
    return sig ? sig->model : NULL;
}
