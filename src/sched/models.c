/* kizashi model registry, file side: registering a trained model (atomic .kzm file, row, drift
 * histograms), retention with safe deletion, the promotion decision, and the follower handle
 * that swaps in a newly promoted model without readers ever seeing a half-loaded one. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kizashi/core.h"

#include "sched/sched_int.h"
#include "store/store_int.h"

kz_registry_params kz_registry_params_default(void)
{
    kz_registry_params p;
    p.models_dir = NULL;
    p.keep_versions = 10; /* SPEC §2.1 MAX_MODEL_VERSIONS */
    p.drift_top_features = 5;
    p.drift_bins = 10;
    return p;
}

kz_promote_params kz_promote_params_default(void)
{
    kz_promote_params p;
    p.metric = 0;
    p.min_improvement = 0.01;
    return p;
}

static kz_status fail(kz_error *err, kz_status code, const char *what, const char *detail)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof err->msg, "%.150s: %.350s", what, detail);
    }
    return code;
}

/* mkdir -p for a directory path. */
static kz_status make_dirs(const char *dir, kz_error *err)
{
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        return fail(err, KZ_ERR_INVALID, dir, "path too long");
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                return fail(err, KZ_ERR_IO, buf, strerror(errno));
            }
            *p = c;
            if (c == '\0') {
                break;
            }
        }
    }
    return KZ_OK;
}

/* ---------------------------------------------------------------- register */

/* {"feature_params": {...}, "bins": B, "features": [{name, importance, edges, shares}]} over the
 * training market, for the k most important features. */
static kz_status drift_json(const kz_model *model,
                            const kz_market *m,
                            const kz_registry_params *rp,
                            cJSON *d,
                            kz_error *err)
{
    const kz_feature_params *fp = kz_model_feature_params(model);
    cJSON *p = cJSON_AddObjectToObject(d, "feature_params");
    cJSON_AddNumberToObject(p, "short_ma", fp->short_ma);
    cJSON_AddNumberToObject(p, "long_ma", fp->long_ma);
    cJSON_AddNumberToObject(p, "volatility", fp->volatility);
    cJSON_AddNumberToObject(p, "momentum", fp->momentum);
    cJSON_AddNumberToObject(p, "volume", fp->volume);
    cJSON_AddNumberToObject(p, "groups", fp->groups);
    cJSON_AddBoolToObject(p, "all_features", kz_model_all_features(model));
    cJSON_AddNumberToObject(d, "bins", rp->drift_bins);
    cJSON *feats = cJSON_AddArrayToObject(d, "features");
    kz_frame *X = NULL;
    kz_status s = sched_model_frame(m, fp, kz_model_all_features(model), &X, err);
    size_t nf = kz_model_n_features(model);
    unsigned char *taken = s == KZ_OK ? kz_calloc(nf ? nf : 1, 1) : NULL;
    if (s == KZ_OK && !taken) {
        s = fail(err, KZ_ERR_NOMEM, "drift histograms", "out of memory");
    }
    for (int r = 0; s == KZ_OK && r < rp->drift_top_features; r++) {
        size_t best = nf;
        for (size_t j = 0; j < nf; j++) {
            if (!taken[j] && kz_model_importance(model, j) > 0 &&
                (best == nf || kz_model_importance(model, j) > kz_model_importance(model, best))) {
                best = j;
            }
        }
        if (best == nf) {
            break;
        }
        taken[best] = 1;
        const char *name = kz_model_feature_name(model, best);
        size_t c = kz_frame_find(X, name);
        double edges[64], shares[64];
        int nb = rp->drift_bins;
        const float *x = c == KZ_FRAME_NPOS ? NULL : kz_frame_col(X, c);
        size_t nr = kz_frame_n_rows(X);
        if (!x || sched_hist_edges(x, nr, nb, edges) == 0) {
            continue;
        }
        sched_hist_shares(x, nr, edges, nb, shares);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "name", name);
        cJSON_AddNumberToObject(f, "importance", kz_model_importance(model, best));
        cJSON_AddItemToObject(f, "edges", cJSON_CreateDoubleArray(edges, nb - 1));
        cJSON_AddItemToObject(f, "shares", cJSON_CreateDoubleArray(shares, nb));
        cJSON_AddItemToArray(feats, f);
    }
    kz_free(taken);
    kz_frame_free(X);
    return s;
}

/* Data fields of the row from the model's own metadata (exchange, symbol, timeframe, range). */
static void version_from_model(const kz_model *model, kz_model_version *v)
{
    char *json = NULL;
    v->tf = KZ_TF_COUNT;
    if (kz_model_info_json(model, &json) == KZ_OK) {
        cJSON *root = cJSON_Parse(json);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");
        const cJSON *it;
        if ((it = cJSON_GetObjectItemCaseSensitive(d, "exchange")) && cJSON_IsString(it)) {
            snprintf(v->exchange, sizeof v->exchange, "%s", it->valuestring);
        }
        if ((it = cJSON_GetObjectItemCaseSensitive(d, "symbol")) && cJSON_IsString(it)) {
            snprintf(v->symbol, sizeof v->symbol, "%s", it->valuestring);
        }
        if ((it = cJSON_GetObjectItemCaseSensitive(d, "timeframe")) && cJSON_IsString(it) &&
            kz_timeframe_parse(it->valuestring, &v->tf) != KZ_OK) {
            v->tf = KZ_TF_COUNT;
        }
        if ((it = cJSON_GetObjectItemCaseSensitive(d, "first_ts")) && cJSON_IsNumber(it)) {
            v->data_from_ms = (int64_t)it->valuedouble;
        }
        if ((it = cJSON_GetObjectItemCaseSensitive(d, "last_ts")) && cJSON_IsNumber(it)) {
            v->data_to_ms = (int64_t)it->valuedouble;
        }
        cJSON_Delete(root);
    }
    kz_free(json);
    const kz_metrics *mt = kz_model_metrics(model);
    v->horizon = kz_model_label_params(model)->horizon;
    v->label_up = kz_model_label_report(model)->threshold_up;
    v->label_down = kz_model_label_report(model)->threshold_down;
    v->test_mlogloss = mt->n ? mt->mlogloss : NAN;
    v->test_balanced_accuracy = mt->n ? mt->balanced_accuracy : NAN;
    v->eval_mlogloss = NAN;
    v->eval_balanced_accuracy = NAN;
}

kz_status kz_registry_register(kz_store *st,
                               const kz_registry_params *rp,
                               const char *name,
                               const kz_model *model,
                               const kz_market *train_market,
                               int parent,
                               int64_t job_id,
                               int64_t now_ms,
                               int *out_version,
                               kz_error *err)
{
    kz_error local;
    if (!err) {
        err = &local;
    }
    kz_error_clear(err);
    if (!st || !rp || !rp->models_dir || !*rp->models_dir || !name || !model ||
        rp->drift_bins < 2 || rp->drift_bins > 64) {
        return fail(err, KZ_ERR_INVALID, "register", "store, models_dir, name, model, bins 2..64");
    }
    kz_model_version v;
    memset(&v, 0, sizeof v);
    snprintf(v.name, sizeof v.name, "%s", name);
    char dir[400];
    snprintf(dir, sizeof dir, "%.300s/%s", rp->models_dir, name);
    cJSON *meta = cJSON_CreateObject();
    char *meta_text = NULL;
    kz_status s = meta ? KZ_OK : fail(err, KZ_ERR_NOMEM, "register", "out of memory");
    if (s == KZ_OK && train_market) {
        s = drift_json(model, train_market, rp, cJSON_AddObjectToObject(meta, "drift"), err);
    }
    if (s == KZ_OK) {
        meta_text = cJSON_PrintUnformatted(meta);
        s = meta_text ? KZ_OK : fail(err, KZ_ERR_NOMEM, "register", "out of memory");
    }
    if (s == KZ_OK) {
        s = make_dirs(dir, err);
    }
    if (s == KZ_OK && kz_registry_reserve(st, name, &v.version) != KZ_OK) {
        s = fail(err, KZ_ERR_STORE, "register", kz_store_errmsg(st));
    }
    /* File first, row second: a crash in between leaves an orphan file, never a row whose file
     * is missing. kz_model_save writes atomically (temporary file, fsync, rename). */
    if (s == KZ_OK) {
        if (snprintf(v.path, sizeof v.path, "%s/%s-v%d.kzm", dir, name, v.version) >=
            (int)sizeof v.path) {
            s = fail(err, KZ_ERR_INVALID, "register", "models_dir path too long");
        }
    }
    if (s == KZ_OK) {
        s = kz_model_save(model, v.path, err);
    }
    if (s == KZ_OK) {
        version_from_model(model, &v);
        v.parent = parent;
        v.job_id = job_id;
        v.created_ms = now_ms;
        if (kz_registry_insert(st, &v, meta_text) != KZ_OK) {
            s = fail(err, KZ_ERR_STORE, "register", kz_store_errmsg(st));
        }
    }
    if (s == KZ_OK && out_version) {
        *out_version = v.version;
    }
    cJSON_free(meta_text);
    cJSON_Delete(meta);
    return s;
}

kz_status kz_registry_retain(
    kz_store *st, const char *name, int keep_versions, size_t *n_deleted, kz_error *err)
{
    char *paths = NULL;
    size_t n = 0;
    if (n_deleted) {
        *n_deleted = 0;
    }
    if (!st) {
        return fail(err, KZ_ERR_INVALID, "retention", "no store");
    }
    if (kz_registry_prune_rows(st, name, keep_versions, &paths, &n) != KZ_OK) {
        return fail(err, KZ_ERR_STORE, "retention", kz_store_errmsg(st));
    }
    /* Rows are gone (committed): now the files. A reader that loaded one keeps its copy. */
    kz_status s = KZ_OK;
    for (size_t i = 0; i < n; i++) {
        const char *p = paths + i * 512;
        if (unlink(p) != 0 && errno != ENOENT && s == KZ_OK) {
            s = fail(err, KZ_ERR_IO, p, strerror(errno));
        }
    }
    if (n_deleted) {
        *n_deleted = n;
    }
    kz_free(paths);
    return s;
}

/* ---------------------------------------------------------------- promotion */

/* Metrics of `model` on rows idx[0..w) of m (its own feature selection) against labels y. */
static kz_status score_window(kz_model *model,
                              const kz_market *m,
                              const float *y,
                              const size_t *idx,
                              size_t w,
                              kz_metrics *out,
                              kz_error *err)
{
    kz_frame *X = NULL;
    double *prob = NULL, *pw = NULL;
    float *yw = NULL;
    size_t n = m->bars.n;
    kz_status s =
        sched_model_frame(m, kz_model_feature_params(model), kz_model_all_features(model), &X, err);
    if (s == KZ_OK) {
        prob = kz_malloc_array(n, KZ_N_CLASSES * sizeof *prob);
        pw = kz_malloc_array(w, KZ_N_CLASSES * sizeof *pw);
        yw = kz_malloc_array(w, sizeof *yw);
        s = (prob && pw && yw) ? kz_model_predict(model, X, prob, err)
                               : fail(err, KZ_ERR_NOMEM, "promotion", "out of memory");
    }
    for (size_t i = 0; s == KZ_OK && i < w; i++) {
        yw[i] = y[idx[i]];
        memcpy(pw + i * KZ_N_CLASSES, prob + idx[i] * KZ_N_CLASSES, KZ_N_CLASSES * sizeof *pw);
    }
    if (s == KZ_OK) {
        static const double uniform[KZ_N_CLASSES] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
        s = kz_metrics_compute(yw, pw, w, uniform, out, err);
    }
    kz_frame_free(X);
    kz_free(prob);
    kz_free(pw);
    kz_free(yw);
    return s;
}

/* Is metric value `c` better than `a` by the relative margin? */
static int better(const kz_promote_params *pp, double c, double a)
{
    if (pp->metric == 1) {
        return c > a * (1.0 + pp->min_improvement);
    }
    return c < a * (1.0 - pp->min_improvement);
}

kz_status kz_registry_decide(kz_store *st,
                             const char *name,
                             int version,
                             kz_model *candidate,
                             const kz_market *m,
                             const kz_promote_params *pp,
                             int64_t now_ms,
                             kz_promote_result *out,
                             kz_error *err)
{
    kz_error local;
    if (!err) {
        err = &local;
    }
    kz_error_clear(err);
    if (!st || !name || !candidate || !m || !pp || !out || (pp->metric != 0 && pp->metric != 1) ||
        !(pp->min_improvement >= 0 && pp->min_improvement < 1)) {
        return fail(err, KZ_ERR_INVALID, "promotion",
                    "arguments (metric 0/1, 0 <= min_improvement < 1)");
    }
    memset(out, 0, sizeof *out);
    out->active_mlogloss = out->active_balanced_accuracy = NAN;
    out->candidate_mlogloss = out->candidate_balanced_accuracy = NAN;
    kz_model_version act;
    kz_model *active = NULL;
    float *y = NULL;
    size_t *idx = NULL;
    kz_status s = kz_registry_get(st, name, 0, &act);
    if (s == KZ_ERR_NOT_FOUND) {
        s = kz_registry_promote(st, name, version, now_ms);
        if (s != KZ_OK) {
            return fail(err, s, "promotion", kz_store_errmsg(st));
        }
        out->promoted = 1;
        snprintf(out->reason, sizeof out->reason, "v%d promoted: no active version", version);
        return KZ_OK;
    }
    if (s != KZ_OK) {
        return fail(err, s, "promotion", kz_store_errmsg(st));
    }
    out->active_version = act.version;
    size_t n = m->bars.n;
    size_t w_want = kz_model_metrics(candidate)->n;
    kz_label_params lp = *kz_model_label_params(candidate);
    lp.mode = KZ_LABEL_FIXED;
    lp.threshold_up = kz_model_label_report(candidate)->threshold_up;
    lp.threshold_down = kz_model_label_report(candidate)->threshold_down;
    y = kz_malloc_array(n ? n : 1, sizeof *y);
    idx = kz_malloc_array(w_want ? w_want : 1, sizeof *idx);
    s = (y && idx) ? kz_labels_compute(m->bars.close, n, &lp, 0, y, NULL, err)
                   : fail(err, KZ_ERR_NOMEM, "promotion", "out of memory");
    size_t w = 0;
    for (size_t i = n; s == KZ_OK && i > 0 && w < w_want; i--) {
        if (!isnan(y[i - 1])) {
            idx[w_want - 1 - w++] = i - 1;
        }
    }
    if (s == KZ_OK && w == 0) {
        snprintf(out->reason, sizeof out->reason, "v%d stays a candidate: empty evaluation window",
                 version);
        goto done;
    }
    const size_t *win = idx + (w_want - w);
    out->n_window = w;
    kz_metrics mc, ma;
    if (s == KZ_OK) {
        s = score_window(candidate, m, y, win, w, &mc, err);
    }
    if (s == KZ_OK) {
        s = kz_model_load(act.path, &active, err);
    }
    if (s == KZ_OK) {
        s = score_window(active, m, y, win, w, &ma, err);
    }
    if (s != KZ_OK) {
        goto done;
    }
    out->candidate_mlogloss = mc.mlogloss;
    out->candidate_balanced_accuracy = mc.balanced_accuracy;
    out->active_mlogloss = ma.mlogloss;
    out->active_balanced_accuracy = ma.balanced_accuracy;
    if (kz_registry_set_eval(st, name, version, mc.mlogloss, mc.balanced_accuracy) != KZ_OK ||
        kz_registry_set_eval(st, name, act.version, ma.mlogloss, ma.balanced_accuracy) != KZ_OK) {
        s = fail(err, KZ_ERR_STORE, "promotion", kz_store_errmsg(st));
        goto done;
    }
    double c = pp->metric ? mc.balanced_accuracy : mc.mlogloss;
    double a = pp->metric ? ma.balanced_accuracy : ma.mlogloss;
    out->promoted = better(pp, c, a);
    snprintf(out->reason, sizeof out->reason,
             "v%d %s: %s %.5f vs active v%d %.5f over the same %zu rows (min improvement %.2f%%)",
             version, out->promoted ? "promoted" : "stays a candidate",
             pp->metric ? "balanced accuracy" : "mlogloss", c, act.version, a, w,
             pp->min_improvement * 100.0);
    if (out->promoted && kz_registry_promote(st, name, version, now_ms) != KZ_OK) {
        s = fail(err, KZ_ERR_STORE, "promotion", kz_store_errmsg(st));
    }
done:
    kz_model_free(active);
    kz_free(y);
    kz_free(idx);
    return s;
}

/* ---------------------------------------------------------------- follower */

struct kz_model_ref {
    atomic_int refs;
    int version;
    pthread_mutex_t predict_mu; /* kz_model predicts from one thread at a time */
    kz_model *model;
};

struct kz_model_follower {
    char name[KZ_SCHED_NAME_MAX];
    pthread_mutex_t mu; /* guards cur; held only for the pointer swap and the reference count */
    kz_model_ref *cur;
    _Atomic uint64_t generation;
};

kz_status kz_model_follower_new(const char *name, kz_model_follower **out)
{
    if (!out) {
        return KZ_ERR_INVALID;
    }
    *out = NULL;
    if (!name || !*name || strlen(name) >= KZ_SCHED_NAME_MAX) {
        return KZ_ERR_INVALID;
    }
    kz_model_follower *f = kz_calloc(1, sizeof *f);
    if (!f) {
        return KZ_ERR_NOMEM;
    }
    if (pthread_mutex_init(&f->mu, NULL) != 0) {
        kz_free(f);
        return KZ_ERR_NOMEM;
    }
    snprintf(f->name, sizeof f->name, "%s", name);
    atomic_init(&f->generation, 0);
    *out = f;
    return KZ_OK;
}

void kz_model_ref_release(kz_model_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        kz_model_free(r->model);
        pthread_mutex_destroy(&r->predict_mu);
        kz_free(r);
    }
}

void kz_model_follower_free(kz_model_follower *f)
{
    if (!f) {
        return;
    }
    kz_model_ref_release(f->cur);
    pthread_mutex_destroy(&f->mu);
    kz_free(f);
}

kz_model_ref *kz_model_follower_acquire(kz_model_follower *f)
{
    pthread_mutex_lock(&f->mu);
    kz_model_ref *r = f->cur;
    if (r) {
        atomic_fetch_add(&r->refs, 1);
    }
    pthread_mutex_unlock(&f->mu);
    return r;
}

uint64_t kz_model_follower_generation(const kz_model_follower *f)
{
    return atomic_load(&f->generation);
}

kz_status kz_model_follower_refresh(kz_model_follower *f, kz_store *st, int *changed, kz_error *err)
{
    if (changed) {
        *changed = 0;
    }
    if (!f || !st) {
        return fail(err, KZ_ERR_INVALID, "follow", "follower and store required");
    }
    kz_model_version v;
    kz_status s = kz_registry_get(st, f->name, 0, &v);
    if (s != KZ_OK) {
        return fail(err, s, "follow", kz_store_errmsg(st));
    }
    kz_model_ref *cur = kz_model_follower_acquire(f);
    int same = cur && cur->version == v.version;
    kz_model_ref_release(cur);
    if (same) {
        return KZ_OK;
    }
    /* Load completely before publishing: readers only ever see a finished snapshot. */
    kz_model_ref *r = kz_calloc(1, sizeof *r);
    if (!r || pthread_mutex_init(&r->predict_mu, NULL) != 0) {
        kz_free(r);
        return fail(err, KZ_ERR_NOMEM, "follow", "out of memory");
    }
    s = kz_model_load(v.path, &r->model, err);
    if (s != KZ_OK) {
        pthread_mutex_destroy(&r->predict_mu);
        kz_free(r);
        return s;
    }
    r->version = v.version;
    atomic_init(&r->refs, 1);
    pthread_mutex_lock(&f->mu);
    kz_model_ref *old = f->cur;
    f->cur = r;
    atomic_fetch_add(&f->generation, 1);
    pthread_mutex_unlock(&f->mu);
    kz_model_ref_release(old);
    if (changed) {
        *changed = 1;
    }
    return KZ_OK;
}

int kz_model_ref_version(const kz_model_ref *r)
{
    return r ? r->version : 0;
}

const kz_model *kz_model_ref_model(const kz_model_ref *r)
{
    return r ? r->model : NULL;
}

kz_status kz_model_follower_signals(kz_model_follower *f,
                                    kz_store *st,
                                    const kz_market *m,
                                    const kz_signal_params *p,
                                    double *down,
                                    double *range,
                                    double *up,
                                    kz_signal_report *rep,
                                    int *version,
                                    kz_error *err)
{
    if (!f || !m || !down || !range || !up) {
        return fail(err, KZ_ERR_INVALID, "follower signals", "NULL argument");
    }
    if (st) {
        /* Not finding an active version (or a transient store error) keeps the snapshot we have:
         * the facade's job is to keep answering. */
        kz_error ignored;
        kz_status refreshed = kz_model_follower_refresh(f, st, NULL, &ignored);
        (void)refreshed;
    }
    kz_model_ref *r = kz_model_follower_acquire(f);
    if (r) {
        pthread_mutex_lock(&r->predict_mu);
    }
    kz_signals *sig = NULL;
    kz_status s = kz_signals_new(r ? r->model : NULL, p, &sig, err);
    if (s == KZ_OK) {
        s = kz_signals_compute(sig, m, down, range, up, rep);
        kz_signals_free(sig);
    }
    if (version) {
        *version = r ? r->version : 0;
    }
    if (r) {
        pthread_mutex_unlock(&r->predict_mu);
        kz_model_ref_release(r);
    }
    return s;
}

kz_status kz_model_ref_predict(kz_model_ref *r, const kz_frame *X, double *prob, kz_error *err)
{
    if (!r) {
        return fail(err, KZ_ERR_INVALID, "predict", "no model snapshot");
    }
    pthread_mutex_lock(&r->predict_mu);
    kz_status s = kz_model_predict(r->model, X, prob, err);
    pthread_mutex_unlock(&r->predict_mu);
    return s;
}
