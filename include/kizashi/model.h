/* kizashi model: horizon labels, a leak-free chronological split with purge and embargo, a
 * StandardScaler, 3-class gradient boosting (XGBoost, LightGBM-like settings), metrics next to
 * naive baselines, walk-forward evaluation and a checked one-file model bundle (.kzm).
 * Thread contract: a kz_model may be used for prediction from one thread at a time (XGBoost keeps
 * per-booster buffers); training and loading are reentrant (each call owns its objects). */
#ifndef KIZASHI_MODEL_H
#define KIZASHI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/features.h"
#include "kizashi/market.h"
#include "kizashi/optim.h"
#include "kizashi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Classes, in the column order of every probability output: {down, range, up}. */
enum { KZ_CLASS_DOWN = 0, KZ_CLASS_RANGE = 1, KZ_CLASS_UP = 2, KZ_N_CLASSES = 3 };

/* Current .kzm format version (files with a higher version are refused). */
#define KZ_MODEL_FORMAT_VERSION 1u

/* ---------------------------------------------------------------- labels */
typedef enum kz_label_mode {
    KZ_LABEL_FIXED, /* up if r >= threshold_up, down if r <= threshold_down */
    KZ_LABEL_VOL,   /* thresholds = +-vol_k * std(1-bar returns over vol_window, at t) * sqrt(h) */
    KZ_LABEL_QUANTILE, /* thresholds = quantiles of r over the fitting rows (training segment) */
    KZ_LABEL_MODE_COUNT
} kz_label_mode;

typedef struct kz_label_params {
    int horizon;           /* h >= 1 bars ahead (default 24, SPEC §2.1 PREDICTION_HORIZON) */
    kz_label_mode mode;    /* default KZ_LABEL_FIXED */
    double threshold_up;   /* fixed mode: > threshold_down (default 0.02) */
    double threshold_down; /* fixed mode: default -0.02 */
    double vol_k;          /* vol mode: k > 0 (default 1.0) */
    int vol_window;        /* vol mode: rolling std window >= 2 (default 168 bars) */
    double quantile_down;  /* quantile mode: share of the down class, (0, 0.5) (default 1/3) */
    double quantile_up;    /* quantile mode: share of the up class, (0, 0.5) (default 1/3) */
} kz_label_params;

kz_label_params kz_label_params_default(void);
/* "fixed" "vol" "quantile"; "?" for an invalid value. */
const char *kz_label_mode_str(kz_label_mode m);
KZ_NODISCARD kz_status kz_label_mode_parse(const char *s, kz_label_mode *out);
/* KZ_ERR_INVALID naming the field in err. */
KZ_NODISCARD kz_status kz_label_params_check(const kz_label_params *p, kz_error *err);

/* What labelling found. Counts/shares are over the labelled rows. For the vol mode the thresholds
 * are per bar, and threshold_up/down report their medians. */
typedef struct kz_label_report {
    size_t n_rows;     /* rows in */
    size_t n_labelled; /* rows with a label (not NaN) */
    size_t counts[KZ_N_CLASSES];
    double shares[KZ_N_CLASSES];
    double threshold_up, threshold_down; /* the thresholds used */
} kz_label_report;

/* Labels for n bars of close prices (borrowed, > 0): y[t] = 0 down / 1 range / 2 up as float, or
 * NaN where the horizon is unknown (the last h bars) or the threshold is (vol-mode warm-up).
 * future_return[t] = close[t+h]/close[t] - 1. Quantile thresholds are fitted on the future returns
 * of rows [0, n_fit) only (pass the training segment's end; 0 = all rows, for inspection only).
 * y (n values, written); rep optional. KZ_ERR_INVALID (bad params, NULL, non-positive close). */
KZ_NODISCARD kz_status kz_labels_compute(const double *close,
                                         size_t n,
                                         const kz_label_params *p,
                                         size_t n_fit,
                                         float *y,
                                         kz_label_report *rep,
                                         kz_error *err);

/* ---------------------------------------------------------------- chronological split */
typedef struct kz_split_params {
    double train_frac; /* default 0.70 */
    double valid_frac; /* default 0.15; test = the rest (0.15); train + valid < 1 */
    int purge;         /* gap after train and after valid; -1 (default) = the label horizon h */
    int embargo;       /* extra bars dropped after each gap, >= 0 (default 0) */
} kz_split_params;

kz_split_params kz_split_params_default(void);

/* Half-open row ranges [begin, end). train_end + purge + embargo <= valid_begin, likewise valid ->
 * test, so with purge >= h no training label's window (t .. t+h) reaches a validation bar. */
typedef struct kz_split {
    size_t train_begin, train_end;
    size_t valid_begin, valid_end;
    size_t test_begin, test_end;
} kz_split;

/* Split n_rows rows (the rows that may carry labels) for horizon h. Each segment must get at least
 * one row: KZ_ERR_INVALID (bad fractions) or KZ_ERR_RANGE (too few rows) otherwise. */
KZ_NODISCARD kz_status kz_split_compute(
    size_t n_rows, int horizon, const kz_split_params *p, kz_split *out, kz_error *err);

/* ---------------------------------------------------------------- scaler */
/* StandardScaler fitted on rows [begin, end) of every column of X: mean and population std
 * (ddof 0) over the non-NaN values; zero variance or no value -> scale 1 (mean 0 if no value).
 * mean/scale: kz_frame_n_cols(X) values each (written). KZ_ERR_INVALID on a bad range. */
KZ_NODISCARD kz_status
kz_scaler_fit(const kz_frame *X, size_t begin, size_t end, double *mean, double *scale);

/* ---------------------------------------------------------------- feature selection */
/* Non-zero if `name` is a raw level (price, volume or OI level, e.g. MA_10, VWAP, ATR_20, OI_MA_24,
 * MACD): excluded by default because it is not stationary. The list is in docs/model.md. */
int kz_model_is_level_feature(const char *name);

/* The model's input frame from a feature frame f (borrowed): by default every column except the
 * raw levels; with all_features every column, plus Open, High, Low, Close, Volume taken from m
 * (may be NULL: then none are added), as the original system did. *out owned by the caller. */
KZ_NODISCARD kz_status kz_model_select_features(
    const kz_frame *f, const kz_market *m, int all_features, kz_frame **out, kz_error *err);

/* ---------------------------------------------------------------- booster parameters */
/* SPEC §2.1's LightGBM names; xgb.c maps each to XGBoost's in one table (docs/model.md). */
typedef struct kz_booster_params {
    int num_leaves;          /* -> max_leaves, 2..131072 (default 31) */
    double learning_rate;    /* -> eta, (0, 1] (default 0.05) */
    double feature_fraction; /* -> colsample_bytree, (0, 1] (default 0.9) */
    double bagging_fraction; /* -> subsample, (0, 1] (default 0.8) */
    double min_data_in_leaf; /* -> min_child_weight (an approximation: a hessian sum), >= 0 (20) */
    double lambda_l2;        /* -> lambda, >= 0 (default 0, LightGBM's) */
    int max_bin;             /* -> max_bin, 2..65535 (default 255, LightGBM's) */
    int num_boost_round;     /* 1..100000 (default 1000) */
    int early_stopping;      /* rounds without validation mlogloss improvement, 0 = off (50) */
    int num_threads;         /* -> nthread, 0 = XGBoost's default (all cores) */
    int balanced;            /* 1: weight classes by n / (3 n_c) on the training segment (0) */
    uint64_t seed;           /* -> seed (default 42, SPEC's random_state) */
} kz_booster_params;

kz_booster_params kz_booster_params_default(void);
/* Set one parameter by its SPEC name from text ("num_leaves", "63"). KZ_ERR_INVALID naming the
 * unknown name or the out-of-range value. */
KZ_NODISCARD kz_status kz_booster_params_set(kz_booster_params *p,
                                             const char *name,
                                             const char *value,
                                             kz_error *err);
KZ_NODISCARD kz_status kz_booster_params_check(const kz_booster_params *p, kz_error *err);

/* Called after each boosting round (train_loss is NaN unless want_train_loss was set). Return
 * non-zero to stop training: the call then fails with KZ_ERR_CANCELLED. */
typedef int (*kz_train_progress_fn)(
    int round, int n_rounds, double train_loss, double valid_loss, int best_round, void *ud);

/* ---------------------------------------------------------------- metrics */
#define KZ_CALIB_BINS 10

typedef struct kz_calib_bin {
    size_t count;     /* rows whose predicted probability falls in [k/10, (k+1)/10) */
    double mean_pred; /* their mean predicted probability (NaN if count == 0) */
    double observed;  /* the share of them that truly are the class (NaN if count == 0) */
} kz_calib_bin;

typedef struct kz_metrics {
    size_t n;                 /* rows evaluated (labelled rows of the segment) */
    double accuracy;          /* argmax accuracy */
    double balanced_accuracy; /* mean per-class recall (classes with support) */
    double macro_f1;          /* mean per-class F1 (all 3 classes) */
    double mlogloss;          /* mean -log p[y], p clipped at 1e-15 */
    double precision[KZ_N_CLASSES], recall[KZ_N_CLASSES], f1[KZ_N_CLASSES];
    size_t support[KZ_N_CLASSES];
    size_t confusion[KZ_N_CLASSES][KZ_N_CLASSES]; /* [true][predicted] */
    /* Baselines: always predict the prior's majority class; predict the prior probabilities. */
    double prior[KZ_N_CLASSES]; /* class shares of the training segment */
    int baseline_class;
    double baseline_accuracy;
    double baseline_balanced_accuracy;
    double baseline_macro_f1;
    double baseline_mlogloss;
    kz_calib_bin calib_up[KZ_CALIB_BINS];   /* reliability of P(up) */
    kz_calib_bin calib_down[KZ_CALIB_BINS]; /* reliability of P(down) */
} kz_metrics;

/* Metrics of n rows: y (borrowed, 0/1/2; NaN rows are skipped), prob n x 3 row-major (borrowed),
 * prior = the baselines' class probabilities (borrowed, sums to 1). KZ_ERR_INVALID (NULL,
 * a label outside 0..2, no labelled row). */
KZ_NODISCARD kz_status kz_metrics_compute(const float *y,
                                          const double *prob,
                                          size_t n,
                                          const double prior[KZ_N_CLASSES],
                                          kz_metrics *out,
                                          kz_error *err);
/* The metrics as a JSON object text (*json allocated with kz_malloc; free with kz_free). */
KZ_NODISCARD kz_status kz_metrics_to_json(const kz_metrics *m, char **json);

/* ---------------------------------------------------------------- model */
typedef struct kz_model kz_model;

/* Everything train needs: the feature set, labels, split and booster. */
typedef struct kz_train_params {
    kz_feature_params features; /* default kz_feature_params_default() */
    int all_features;           /* 0 (default): drop raw levels; 1: SPEC's behaviour */
    kz_label_params label;
    kz_split_params split;
    kz_booster_params booster;
    kz_train_progress_fn progress; /* optional */
    void *progress_ud;
    int want_train_loss; /* 1: compute the training mlogloss each round for progress (slower) */
} kz_train_params;

kz_train_params kz_train_params_default(void);

/* Train on a frame: X (borrowed; its columns become the model's features), y (borrowed labels,
 * n_rows, NaN = unlabelled), the split (training and validation rows for early stopping on the
 * validation mlogloss; the test rows give the metrics when non-empty). The scaler is fitted on the
 * training rows. The kept booster has best_round + 1 rounds. bp, progress optional. Errors:
 * KZ_ERR_INVALID, KZ_ERR_RANGE (a segment without labelled rows), KZ_ERR_MODEL (XGBoost, its
 * message in err), KZ_ERR_CANCELLED, KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_model_train_frame(const kz_frame *X,
                                            const float *y,
                                            const kz_split *split,
                                            const kz_booster_params *bp,
                                            kz_train_progress_fn progress,
                                            void *progress_ud,
                                            int want_train_loss,
                                            kz_model **out,
                                            kz_error *err);

/* The whole pipeline on a market (borrowed): features, selection, labels (quantile thresholds
 * fitted on the training segment), split, scaler, training, test metrics, metadata (symbol,
 * timeframe, data range, feature params, label config, split). p may be NULL (defaults). */
KZ_NODISCARD kz_status kz_model_train(const kz_market *m,
                                      const kz_train_params *p,
                                      kz_model **out,
                                      kz_error *err);

void kz_model_free(kz_model *model);

size_t kz_model_n_features(const kz_model *model);
/* Feature j's name (view, valid until kz_model_free); NULL if out of range. */
const char *kz_model_feature_name(const kz_model *model, size_t j);
/* Total gain importance of feature j (0 if unused or out of range). */
double kz_model_importance(const kz_model *model, size_t j);
/* Scaler of feature j. */
double kz_model_scaler_mean(const kz_model *model, size_t j);
double kz_model_scaler_scale(const kz_model *model, size_t j);
/* Boosting rounds kept (best_round + 1) and the best round (0-based). */
int kz_model_n_rounds(const kz_model *model);
/* Test-segment metrics (view); n == 0 if there was no test segment. */
const kz_metrics *kz_model_metrics(const kz_model *model);
/* Validation mlogloss at the best round. */
double kz_model_valid_loss(const kz_model *model);
/* Training wall time in seconds (not saved in the file: it would break byte-identical files). */
double kz_model_train_seconds(const kz_model *model);
/* Label config and the thresholds used (view). */
const kz_label_params *kz_model_label_params(const kz_model *model);
const kz_label_report *kz_model_label_report(const kz_model *model);
/* Feature params the model's inputs were computed with (view) and whether raw levels were kept. */
const kz_feature_params *kz_model_feature_params(const kz_model *model);
int kz_model_all_features(const kz_model *model);
/* The class shares {down, range, up} of the model's training segment (what a model that knows
 * nothing would predict), into prior (written). Returns 1 when the model knows them (they are
 * stored with its test metrics), else 0 with prior = 1/3 each (a bare-frame model without a test
 * segment, or NULL). */
int kz_model_class_priors(const kz_model *model, double prior[KZ_N_CLASSES]);
/* The model's metadata as a pretty JSON text, as stored in the file (*json kz_malloc'ed). */
KZ_NODISCARD kz_status kz_model_info_json(const kz_model *model, char **json);

/* ---------------------------------------------------------------- prediction */
/* Probabilities {down, range, up} (each row sums to 1) for every row of X into prob (n_rows x 3,
 * row-major, written). X's column names must equal the model's, in order: KZ_ERR_MISMATCH naming
 * the first differing column otherwise. NaN = missing. */
KZ_NODISCARD kz_status kz_model_predict(kz_model *model,
                                        const kz_frame *X,
                                        double *prob,
                                        kz_error *err);
/* One row of n features in the model's order (unscaled, as the feature engine gives them);
 * n must equal kz_model_n_features: KZ_ERR_MISMATCH otherwise. */
KZ_NODISCARD kz_status kz_model_predict_row(
    kz_model *model, const float *row, size_t n, double prob[KZ_N_CLASSES], kz_error *err);
/* For streaming: map[j] = the index in names[0..n_names) of the model's feature j, so that
 * row[j] = state_row[map[j]]. map holds kz_model_n_features values (written). KZ_ERR_MISMATCH
 * naming the first model feature that names lacks. */
KZ_NODISCARD kz_status kz_model_map_columns(
    const kz_model *model, const char *const *names, size_t n_names, size_t *map, kz_error *err);

/* ---------------------------------------------------------------- file */
/* Write the .kzm bundle atomically: a temporary file in the same directory, fsync, rename over
 * path, fsync the directory. A crash leaves either the old file or the new one. KZ_ERR_IO. */
KZ_NODISCARD kz_status kz_model_save(const kz_model *model, const char *path, kz_error *err);
/* The bundle bytes in memory (*buf kz_malloc'ed, *len bytes). */
KZ_NODISCARD kz_status kz_model_save_mem(const kz_model *model,
                                         uint8_t **buf,
                                         size_t *len,
                                         kz_error *err);
/* Load and check everything (magic, version, lengths, checksum, metadata fields and sizes, the
 * booster and its feature count). KZ_ERR_IO (read), KZ_ERR_FORMAT (not a .kzm, truncated,
 * checksum mismatch, malformed metadata), KZ_ERR_MISMATCH (future format version), KZ_ERR_MODEL. */
KZ_NODISCARD kz_status kz_model_load(const char *path, kz_model **out, kz_error *err);
KZ_NODISCARD kz_status kz_model_load_mem(const uint8_t *buf,
                                         size_t len,
                                         kz_model **out,
                                         kz_error *err);

/* ---------------------------------------------------------------- walk-forward */
typedef struct kz_walkforward_params {
    int n_folds;       /* k >= 1 test blocks after the first training window (default 5) */
    int sliding;       /* 0 (default): expanding training window; 1: fixed length */
    double min_train;  /* share of labelled rows in the first training window (default 0.5) */
    double valid_frac; /* share of each training window kept for early stopping (default 0.15) */
    int purge;         /* -1 (default) = h */
    int embargo;       /* bars dropped after each test block before later training (default 0) */
} kz_walkforward_params;

kz_walkforward_params kz_walkforward_params_default(void);

#define KZ_WF_MAX_FOLDS 64

typedef struct kz_wf_fold {
    kz_split split;
    int best_round;
    double seconds;
    kz_metrics metrics;
} kz_wf_fold;

typedef struct kz_wf_result {
    int n_folds;
    kz_wf_fold folds[KZ_WF_MAX_FOLDS];
    /* mean and population std over folds: accuracy, balanced accuracy, macro-F1, mlogloss, and the
     * baselines' accuracy and mlogloss, in this order. */
    double mean[6], std[6];
} kz_wf_result;

/* Walk-forward evaluation on a market: fold i trains on rows before its test block (minus purge;
 * an embargo after every earlier test block) and tests on block i. Labels are recomputed per fold
 * for the quantile mode (thresholds from that fold's training rows only). out written. */
KZ_NODISCARD kz_status kz_walkforward(const kz_market *m,
                                      const kz_train_params *p,
                                      const kz_walkforward_params *wf,
                                      kz_wf_result *out,
                                      kz_error *err);
/* The result as JSON (*json kz_malloc'ed). */
KZ_NODISCARD kz_status kz_wf_result_to_json(const kz_wf_result *r, char **json);

/* ---------------------------------------------------------------- hyper-parameter tuning */
/* Bayesian tuning (GP, kizashi/optim.h) of the booster over SPEC §5's ML space. The objective
 * never reads the test segment: it is computed on a view of the market's first split.test_begin
 * bars only (the split kz_model_train would use), so the final model's test metrics remain an
 * out-of-sample estimate. Model -> optim is a dependency on a leaf module (optim needs only core). */
typedef enum kz_tune_objective {
    KZ_TUNE_VALID,       /* validation mlogloss at the best round of base->split (default) */
    KZ_TUNE_WALKFORWARD, /* mean fold mlogloss of kz_walkforward on the train + valid prefix */
    KZ_TUNE_OBJECTIVE_COUNT
} kz_tune_objective;

/* "valid" "walkforward"; "?" when invalid. The parser returns KZ_ERR_INVALID otherwise. */
const char *kz_tune_objective_str(kz_tune_objective o);
KZ_NODISCARD kz_status kz_tune_objective_parse(const char *s, kz_tune_objective *out);

/* Called after each evaluation: bp = the booster evaluated (borrowed), score = its objective
 * (NaN when the training failed), best = the best score so far. Return non-zero to stop: the
 * call then fails with KZ_ERR_CANCELLED (*bo_out still holds the history so far). */
typedef int (*kz_tune_progress_fn)(size_t iteration,
                                   size_t n_calls,
                                   const kz_booster_params *bp,
                                   double score,
                                   double best,
                                   void *ud);

typedef struct kz_tune_params {
    size_t n_calls;              /* evaluations, 1..100000 (default 30, SPEC §5) */
    kz_tune_objective objective; /* default KZ_TUNE_VALID */
    kz_walkforward_params wf;    /* walk-forward objective (default kz_walkforward_params_default) */
    kz_bo_params bo;             /* optimiser (default kz_bo_params_default; seed 42 as SPEC) */
    kz_tune_progress_fn progress; /* optional */
    void *progress_ud;
} kz_tune_params;

kz_tune_params kz_tune_params_default(void);

/* The tuned dimensions, in this order (SPEC §5's default ML space; learning_rate log-uniform). */
#define KZ_TUNE_N_DIMS 5
/* num_leaves int [10, 100], learning_rate real [0.01, 0.3] log-uniform, feature_fraction and
 * bagging_fraction real [0.5, 1], min_data_in_leaf int [5, 50]. *out freed with kz_space_free. */
KZ_NODISCARD kz_status kz_model_tune_space(kz_space **out, kz_error *err);
/* Copy point x (KZ_TUNE_N_DIMS values in the space's order, borrowed) into bp's fields. */
void kz_model_tune_apply(const double *x, kz_booster_params *bp);

typedef struct kz_tune_result {
    kz_booster_params best; /* base booster with the best point applied */
    double best_score;      /* its objective value (validation or walk-forward mlogloss) */
    size_t best_iteration;  /* 0-based evaluation index */
    size_t n_evals, n_failed;
    kz_tune_objective objective;
    uint64_t seed;      /* the optimiser's seed */
    kz_split split;     /* the whole market's split (what kz_model_train uses) */
    size_t n_bars_seen; /* bars the objective read: [0, split.test_begin) */
} kz_tune_result;

/* Minimise the objective over the tune space on market m (borrowed). base (may be NULL =
 * defaults) gives the features, labels, split and every booster parameter outside the space
 * (rounds, early stopping, threads, seed); its per-round progress is not called. tp may be NULL
 * (defaults). out written. bo_out optional: the optimiser with the full history (kz_bo_eval_get,
 * kz_bo_save_json, kz_bo_plot_svg; free with kz_bo_free), also set on KZ_ERR_CANCELLED and
 * KZ_ERR_RANGE. Errors: KZ_ERR_INVALID (params, naming the field), KZ_ERR_RANGE (too few bars,
 * or no evaluation succeeded: the last failure's message in err), KZ_ERR_CANCELLED,
 * KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_model_tune(const kz_market *m,
                                     const kz_train_params *base,
                                     const kz_tune_params *tp,
                                     kz_tune_result *out,
                                     kz_bo **bo_out,
                                     kz_error *err);
/* The result as JSON: objective, score, iteration, seed, split, bars seen and "params" = the five
 * tuned values by their SPEC names (*json kz_malloc'ed). */
KZ_NODISCARD kz_status kz_tune_result_to_json(const kz_tune_result *r, char **json);

#ifdef __cplusplus
}
#endif
#endif
