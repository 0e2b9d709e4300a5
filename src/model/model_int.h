/* Internal declarations of the model module: the kz_model object, the error helper, the row-major
 * input builder and the XGBoost boundary (xgb.c is the only file that includes XGBoost). */
#ifndef KZ_MODEL_INT_H
#define KZ_MODEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/model.h"

/* The model: features, scaler, booster, and the metadata written to the .kzm file. */
struct kz_model {
    size_t n_features;
    char **names;       /* n_features strings */
    double *mean;       /* scaler, n_features */
    double *scale;      /* scaler, n_features */
    double *importance; /* total gain, n_features */
    void *booster;      /* XGBoost BoosterHandle (only xgb.c looks inside) */
    float *rowbuf;      /* n_features scratch for kz_model_predict_row */
    int pred_threads;   /* threads the booster predicts with now; -1 = not set by us */
    int n_rounds;       /* rounds kept = best_round + 1 */
    double valid_loss;
    double train_seconds;
    kz_metrics metrics;
    kz_booster_params bparams;
    kz_label_params label;
    kz_label_report label_rep;
    kz_feature_params fparams;
    int all_features;
    int has_split;
    kz_split split;
    /* data description (empty / KZ_TF_COUNT / 0 when trained on a bare frame) */
    char exchange[32];
    char symbol[32];
    kz_timeframe tf;
    int64_t first_ms, last_ms;
    size_t n_rows;
    char xgb_version[32]; /* of the XGBoost that trained the model */
};

/* Fill err (optional) with code, field and a printf-style message; returns code. */
kz_status model_fail(kz_error *err, kz_status code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An empty model with n_features names copied and the arrays allocated (scaler 0/1). */
kz_status model_alloc(size_t n_features, const char *const *names, kz_model **out);

/* n rows of X (idx[0..n), or begin..begin+n when idx is NULL), scaled with mean/scale, as a
 * row-major float matrix (kz_malloc'ed). */
kz_status model_rows(const kz_frame *X,
                     const size_t *idx,
                     size_t begin,
                     size_t n,
                     const double *mean,
                     const double *scale,
                     float **out);

/* Label-bearing rows of [begin, end): their indices into idx (caller-allocated end-begin). */
size_t model_labelled(const float *y, size_t begin, size_t end, size_t *idx);

/* ---- metrics.c (JSON through cJSON) */
struct cJSON;
/* The metrics as a cJSON object (NULL on OOM). */
struct cJSON *model_metrics_json(const kz_metrics *m);
/* Print o (pretty or compact) into *json (kz_malloc'ed) and delete o; KZ_ERR_NOMEM. */
kz_status model_json_text(struct cJSON *o, int pretty, char **json);

/* ---- ubj.c */
/* 1 if buf is one well-formed UBJSON object spanning len bytes (lengths, counts and nesting
 * checked), else 0. */
int model_ubj_valid(const uint8_t *buf, size_t len);

/* ---- xgb.c */
/* One training set for xgb_train: row-major X (n x p), labels, optional weights. */
typedef struct xgb_data {
    const float *X;
    const float *y;
    const float *w; /* NULL = unweighted */
    size_t n;
} xgb_data;

typedef struct xgb_train_out {
    void *booster; /* sliced to best_round + 1 rounds */
    int best_round;
    double best_valid_loss;
} xgb_train_out;

kz_status xgb_train(const xgb_data *train,
                    const xgb_data *valid,
                    size_t p,
                    const kz_booster_params *bp,
                    kz_train_progress_fn progress,
                    void *ud,
                    int want_train_loss,
                    xgb_train_out *out,
                    kz_error *err);
/* Probabilities of n rows (row-major n x p, scaled) into prob (n x 3 doubles). */
kz_status
xgb_predict(void *booster, const float *X, size_t n, size_t p, double *prob, kz_error *err);
/* Total gain per feature (p values, 0 for unused). */
kz_status xgb_importance(void *booster, size_t p, double *out, kz_error *err);
/* UBJSON model bytes (kz_malloc'ed copy). */
kz_status xgb_save(void *booster, uint8_t **buf, size_t *len, kz_error *err);
/* A booster from UBJSON bytes; checks the feature count and 3 classes. */
kz_status xgb_load(const uint8_t *buf, size_t len, size_t p, void **booster, kz_error *err);
/* Prediction threads (0 = XGBoost's default, all cores). */
kz_status xgb_set_threads(void *booster, int threads, kz_error *err);
void xgb_free(void *booster);
/* "1.7.4" into buf (>= 32 bytes). */
void xgb_version_str(char *buf, size_t size);

#endif
