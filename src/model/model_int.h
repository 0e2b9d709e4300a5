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
    char **names;                /* n_features strings */
    double *mean;                /* scaler, n_features */
    double *scale;               /* scaler, n_features */
    double *importance;          /* total gain, n_features */
    void *booster;               /* XGBoost BoosterHandle (only xgb.c looks inside) */
    struct model_forest *forest; /* the same trees, flattened for kz_model_predict_row */
    float *rowbuf;               /* n_features scratch for kz_model_predict_row */
    int pred_threads;            /* threads the booster predicts with now; -1 = not set by us */
    int n_rounds;                /* rounds kept = best_round + 1 */
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

/* ---- ubj.c: the strict UBJSON subset XGBoost 1.7 writes, parsed into a table of values */
typedef enum ubj_kind {
    UBJ_INT,
    UBJ_FLOAT,
    UBJ_BOOL,
    UBJ_NULL,
    UBJ_STR,
    UBJ_ARRAY,
    UBJ_TYPED,
    UBJ_OBJECT
} ubj_kind;

typedef struct ubj_val {
    ubj_kind kind;
    uint8_t elem;       /* UBJ_TYPED: element marker 'U' (u8), 'l' (i32), 'L' (i64), 'd' (f32) */
    const uint8_t *key; /* item of an object: its key (not NUL-terminated), else NULL */
    size_t key_len;
    const uint8_t *data; /* UBJ_STR: the bytes; UBJ_TYPED: the big-endian elements */
    size_t n;            /* UBJ_STR: bytes; UBJ_ARRAY/UBJ_OBJECT: items; UBJ_TYPED: elements */
    int64_t i;           /* UBJ_INT, UBJ_BOOL */
    double f;            /* UBJ_FLOAT */
    size_t first, next;  /* table indices: first item of a container, next sibling (0 = none) */
} ubj_val;

typedef struct ubj_doc {
    ubj_val *v; /* v[0] is the root object */
    size_t n;
} ubj_doc;

/* Parse buf (one object spanning len bytes). KZ_ERR_FORMAT or KZ_ERR_NOMEM; doc views buf. */
kz_status model_ubj_parse(const uint8_t *buf, size_t len, ubj_doc *doc);
void model_ubj_free(ubj_doc *doc);
/* Items of an array or object, in file order (NULL after the last or for a scalar). */
const ubj_val *model_ubj_first(const ubj_doc *doc, const ubj_val *v);
const ubj_val *model_ubj_next(const ubj_doc *doc, const ubj_val *item);
int model_ubj_key_is(const ubj_val *item, const char *key);
/* The first item of object obj named key; NULL if absent or obj is not an object. */
const ubj_val *model_ubj_get(const ubj_doc *doc, const ubj_val *obj, const char *key);
/* 1 if obj is an object whose keys are exactly keys[0..n_keys), each once. */
int model_ubj_keys_exactly(const ubj_doc *doc,
                           const ubj_val *obj,
                           const char *const *keys,
                           size_t n_keys);
/* Element k of an integer typed array ('U', 'l', 'L'); a big-endian float32. */
int64_t model_ubj_int(const ubj_val *v, size_t k);
float model_ubj_f32(const uint8_t *p);

/* ---- forest.c: the booster's trees as flat arrays, our single-row evaluator */
typedef struct model_node {
    int32_t left;  /* left child (absolute index); the right child is left + 1; -1 = leaf */
    uint32_t feat; /* split feature, bit 31 = missing goes left */
    float value;   /* split threshold (go left if x < value), or the leaf value */
} model_node;

typedef struct model_forest {
    size_t n_trees, n_nodes, n_features;
    model_node *nodes; /* every tree's nodes, tree after tree */
    uint32_t *root;    /* n_trees: the index of each tree's root in nodes */
    uint8_t *group;    /* n_trees: the class each tree adds to */
    float base_score;  /* the initial margin of every class */
} model_forest;

/* Validate everything XGBoost 1.7.4's loader would trust in UBJSON booster bytes (the exact key
 * sets, types, lengths, a 3-class multi:softprob gbtree over p features, every tree a tree) and
 * flatten the trees. KZ_ERR_FORMAT naming the part at fault, KZ_ERR_NOMEM. */
kz_status
model_forest_build(const uint8_t *buf, size_t len, size_t p, model_forest **out, kz_error *err);
void model_forest_free(model_forest *f);
/* {down, range, up} of one scaled row (p floats, NaN = missing), bit-identical to XGBoost's
 * prediction: float32 margins summed in tree order from base_score, XGBoost's float softmax. */
void model_forest_predict(const model_forest *f, const float *x, double prob[KZ_N_CLASSES]);
/* The forest of m's booster (after training), into m->forest. */
kz_status model_attach_forest(kz_model *m, kz_error *err);
/* Load-time cross-check: XGBoost and the forest agree bit for bit on a few probe rows. */
kz_status model_forest_check(kz_model *m, kz_error *err);

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
/* A booster from UBJSON bytes that model_forest_build accepted; checks features and rounds. */
kz_status xgb_load(const uint8_t *buf, size_t len, size_t p, void **booster, kz_error *err);
/* Prediction threads (0 = XGBoost's default, all cores). */
kz_status xgb_set_threads(void *booster, int threads, kz_error *err);
void xgb_free(void *booster);
/* "1.7.4" into buf (>= 32 bytes). */
void xgb_version_str(char *buf, size_t size);

#endif
