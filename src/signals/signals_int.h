/* Internal declarations of the signals module: the kz_signals object with its plan from model
 * features to feature-engine columns, and the report / deadline helpers batch and stream share. */
#ifndef KZ_SIGNALS_INT_H
#define KZ_SIGNALS_INT_H

#include <stddef.h>

#include "kizashi/signals.h"

/* plan.src[j] for a model feature read from the bars: SIG_SRC_OHLCV + k, k = 0..4 for
 * Open, High, Low, Close, Volume (models trained with all_features). */
#define SIG_SRC_OHLCV ((size_t)-8)
#define SIG_N_OHLCV   5

struct kz_signals {
    kz_model *model; /* NULL without one */
    kz_model *owned; /* the same model when it was loaded from a file, else NULL */
    kz_signal_params p;
    kz_signal_reason state; /* KZ_SIGNAL_OK when the model is usable */
    kz_error detail;        /* why not */
    double prior[KZ_N_CLASSES];
    int priors_known;
    /* The plan (valid when state == KZ_SIGNAL_OK). */
    size_t n_model;     /* the model's features */
    size_t n_feat_cols; /* columns the feature engine gives for the model's params */
    size_t *src;        /* n_model: feature column index or SIG_SRC_OHLCV + k */
    const char **names; /* n_model views of the model's feature names */
    int needs_funding;  /* a model feature reads the funding rate */
    int needs_oi;       /* a model feature reads open interest */
};

/* Start a report for n bars: no fallback, the fallback triple = the priors (or 1/3). */
void sig_report_start(const kz_signals *sig, kz_signal_report *rep, size_t n_bars);
/* Count n bars as fallbacks for reason r; the first reason (and its detail, copied when not
 * NULL) is the one the report keeps. */
void sig_report_fallback(kz_signal_report *rep,
                         kz_signal_reason r,
                         size_t n,
                         const kz_error *detail);
/* Same, with the detail made from a status, field and message. */
void sig_report_failf(kz_signal_report *rep,
                      kz_signal_reason r,
                      size_t n,
                      kz_status code,
                      const char *field,
                      const char *fmt,
                      ...) __attribute__((format(printf, 6, 7)));

/* 1 if the deadline has passed (never without one). */
int sig_deadline_passed(const kz_signals *sig);

/* KZ_FG_BIT() mask of the groups whose input series is absent (as kz_feature_report says). */
unsigned sig_groups_no_input(int has_funding, int has_oi);
/* KZ_SIGNAL_OK, or KZ_SIGNAL_FEATURE_MISMATCH (why in e, written) when the model reads a series
 * the data lacks and allow_missing_inputs is off. */
kz_signal_reason sig_check_inputs(const kz_signals *sig, int has_funding, int has_oi, kz_error *e);

#endif
