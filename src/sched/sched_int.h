/* Scheduler internals shared by the files of src/sched/: trigger evaluation, drift histograms and
 * PSI. Not part of the public API (tests include it for the pure helpers). */
#ifndef KZ_SCHED_INT_H
#define KZ_SCHED_INT_H

#include "kizashi/sched.h"

/* PSI bins never hold less than this share, so an empty bin costs a large but finite term
 * (the usual convention, e.g. Siddiqi, "Credit Risk Scorecards", 2006, ch. 8). */
#define SCHED_PSI_FLOOR 1e-4

/* What the trigger evaluation remembers about one model between ticks. */
typedef struct sched_anchor {
    int loaded;                               /* 0 until read from the database */
    int64_t first_seen_ms;                    /* first tick that saw the model (persisted) */
    int64_t last_fired[KZ_TRIGGER_COUNT];     /* created_ms of the last first-attempt job */
    int64_t checked_bar_ms;                   /* newest bar the perf/drift checks looked at */
    int checked_version;                      /* active version at that check */
    int64_t counted_bar_ms, counted_after_ms; /* NEW_DATA count cache: last bar, data end */
    size_t counted;
} sched_anchor;

/* What one tick read in bulk for a model: its registry summary and its series' newest bar. */
typedef struct sched_facts {
    int has_version;           /* any version registered */
    int64_t newest_created_ms; /* of the newest version */
    int64_t newest_data_to_ms;
    int active_version; /* 0 = none */
    int has_bars;
    int64_t last_bar_ms; /* newest stored bar of the model's series */
} sched_facts;

/* Evaluate the triggers of m at now in the documented order (scheduled, new data, performance,
 * drift); *fired = the first that fires, or KZ_TRIGGER_COUNT. reason (why / why not) is always
 * written. Errors carry the store's message or `err`. */
KZ_NODISCARD kz_status sched_eval_triggers(kz_store *st,
                                           const kz_sched_model *m,
                                           sched_anchor *a,
                                           const sched_facts *f,
                                           int64_t now_ms,
                                           kz_trigger *fired,
                                           char *reason,
                                           size_t reason_size,
                                           kz_error *err);

/* Population stability index sum_k (a_k - e_k) ln(a_k / e_k) of two share vectors of n bins,
 * each share floored at SCHED_PSI_FLOOR. */
double sched_psi(const double *expected, const double *actual, int n);

/* Inner bin edges (n_bins - 1, ascending) = the k/n_bins quantiles of the non-NaN values of x.
 * Returns the number of non-NaN values (0: edges untouched). */
size_t sched_hist_edges(const float *x, size_t n, int n_bins, double *edges);
/* Shares of the non-NaN values of x in the bins (-inf, e0], (e0, e1], ..., (e_last, inf).
 * Returns the number of non-NaN values (0: shares all 0). */
size_t sched_hist_shares(const float *x, size_t n, const double *edges, int n_bins, double *shares);

/* Compute the frame a model with feature params `fp` and `all_features` sees on m (the model's
 * column selection), *out owned by the caller. */
KZ_NODISCARD kz_status sched_model_frame(const kz_market *m,
                                         const kz_feature_params *fp,
                                         int all_features,
                                         kz_frame **out,
                                         kz_error *err);

#endif
