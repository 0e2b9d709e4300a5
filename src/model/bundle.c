/* The .kzm model bundle: a 40-byte header (magic, format version, flags, section lengths, XXH64
 * checksum), JSON metadata (cJSON) and the XGBoost booster as UBJSON. Saved atomically (temporary
 * file in the same directory, fsync, rename, fsync of the directory); loaded with every check, so
 * a truncated, corrupted or future-version file is a clear error and never a crash.
 *
 * Layout (little-endian):  0 magic "KZMODEL\x1a" | 8 u32 version | 12 u32 flags (0)
 *                          16 u64 json_len | 24 u64 booster_len | 32 u64 checksum
 *                          40 json | 40+json_len booster
 * checksum = kz_hash64(booster, booster_len, kz_hash64(json, json_len, kz_hash64(header[0..32),
 * 32, 0))). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kizashi/core.h"
#include "kizashi/kizashi.h"

#include "model_int.h"

#define HEADER_LEN 40
static const uint8_t MAGIC[8] = {'K', 'Z', 'M', 'O', 'D', 'E', 'L', 0x1a};
/* A sanity bound on the file size (a booster of 100k trees is far below it). */
#define MAX_FILE_BYTES ((size_t)1 << 31)

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint64_t
checksum(const uint8_t *header, const uint8_t *json, size_t jn, const uint8_t *bst, size_t bn)
{
    uint64_t h = kz_hash64(header, 32, 0);
    h = kz_hash64(json, jn, h);
    return kz_hash64(bst, bn, h);
}

/* ---------------------------------------------------------------- metadata -> JSON */
static cJSON *num_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    }
    return a;
}

static cJSON *metadata_json(const kz_model *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        return NULL;
    }
    char buf[128];
    cJSON_AddStringToObject(o, "format", "kizashi-model");
    cJSON_AddNumberToObject(o, "format_version", KZ_MODEL_FORMAT_VERSION);
    cJSON_AddStringToObject(o, "kizashi_version", KZ_VERSION_STRING);
    cJSON_AddStringToObject(o, "xgboost_version", m->xgb_version);
    cJSON *d = cJSON_AddObjectToObject(o, "data");
    if (d) {
        cJSON_AddStringToObject(d, "exchange", m->exchange);
        cJSON_AddStringToObject(d, "symbol", m->symbol);
        cJSON_AddStringToObject(d, "timeframe", m->tf < KZ_TF_COUNT ? kz_timeframe_str(m->tf) : "");
        cJSON_AddNumberToObject(d, "first_ts", (double)m->first_ms);
        cJSON_AddNumberToObject(d, "last_ts", (double)m->last_ms);
        cJSON_AddNumberToObject(d, "n_rows", (double)m->n_rows);
    }
    cJSON *f = cJSON_AddObjectToObject(o, "features");
    if (f) {
        cJSON *names = cJSON_AddArrayToObject(f, "names");
        for (size_t j = 0; names && j < m->n_features; j++) {
            cJSON_AddItemToArray(names, cJSON_CreateString(m->names[j]));
        }
        cJSON_AddStringToObject(f, "groups",
                                kz_feature_groups_format(m->fparams.groups, buf, sizeof buf));
        cJSON_AddBoolToObject(f, "all_features", m->all_features);
        cJSON_AddNumberToObject(f, "short_ma", m->fparams.short_ma);
        cJSON_AddNumberToObject(f, "long_ma", m->fparams.long_ma);
        cJSON_AddNumberToObject(f, "volatility", m->fparams.volatility);
        cJSON_AddNumberToObject(f, "momentum", m->fparams.momentum);
        cJSON_AddNumberToObject(f, "volume", m->fparams.volume);
    }
    cJSON *l = cJSON_AddObjectToObject(o, "label");
    if (l) {
        const kz_label_params *lp = &m->label;
        const kz_label_report *r = &m->label_rep;
        cJSON_AddNumberToObject(l, "horizon", lp->horizon);
        cJSON_AddStringToObject(l, "mode", kz_label_mode_str(lp->mode));
        cJSON_AddNumberToObject(l, "threshold_up", lp->threshold_up);
        cJSON_AddNumberToObject(l, "threshold_down", lp->threshold_down);
        cJSON_AddNumberToObject(l, "vol_k", lp->vol_k);
        cJSON_AddNumberToObject(l, "vol_window", lp->vol_window);
        cJSON_AddNumberToObject(l, "quantile_down", lp->quantile_down);
        cJSON_AddNumberToObject(l, "quantile_up", lp->quantile_up);
        cJSON_AddNumberToObject(l, "n_labelled", (double)r->n_labelled);
        double counts[KZ_N_CLASSES];
        for (int c = 0; c < KZ_N_CLASSES; c++) {
            counts[c] = (double)r->counts[c];
        }
        cJSON_AddItemToObject(l, "counts", num_array(counts, KZ_N_CLASSES));
        cJSON_AddItemToObject(l, "shares", num_array(r->shares, KZ_N_CLASSES));
        cJSON_AddNumberToObject(l, "used_threshold_up", r->threshold_up);
        cJSON_AddNumberToObject(l, "used_threshold_down", r->threshold_down);
    }
    cJSON *s = cJSON_AddObjectToObject(o, "split");
    if (s) {
        const kz_split *sp = &m->split;
        double v[6] = {(double)sp->train_begin, (double)sp->train_end,  (double)sp->valid_begin,
                       (double)sp->valid_end,   (double)sp->test_begin, (double)sp->test_end};
        cJSON_AddItemToObject(s, "rows", num_array(v, 6));
    }
    cJSON *sc = cJSON_AddObjectToObject(o, "scaler");
    if (sc) {
        cJSON_AddItemToObject(sc, "mean", num_array(m->mean, m->n_features));
        cJSON_AddItemToObject(sc, "scale", num_array(m->scale, m->n_features));
    }
    cJSON *p = cJSON_AddObjectToObject(o, "params");
    if (p) {
        const kz_booster_params *b = &m->bparams;
        cJSON_AddNumberToObject(p, "num_leaves", b->num_leaves);
        cJSON_AddNumberToObject(p, "learning_rate", b->learning_rate);
        cJSON_AddNumberToObject(p, "feature_fraction", b->feature_fraction);
        cJSON_AddNumberToObject(p, "bagging_fraction", b->bagging_fraction);
        cJSON_AddNumberToObject(p, "min_data_in_leaf", b->min_data_in_leaf);
        cJSON_AddNumberToObject(p, "lambda_l2", b->lambda_l2);
        cJSON_AddNumberToObject(p, "max_bin", b->max_bin);
        cJSON_AddNumberToObject(p, "num_boost_round", b->num_boost_round);
        cJSON_AddNumberToObject(p, "early_stopping_rounds", b->early_stopping);
        cJSON_AddNumberToObject(p, "balanced", b->balanced);
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)b->seed); /* u64: exact as text */
        cJSON_AddStringToObject(p, "seed", buf);
    }
    cJSON *t = cJSON_AddObjectToObject(o, "training");
    if (t) {
        cJSON_AddNumberToObject(t, "n_rounds", m->n_rounds);
        cJSON_AddNumberToObject(t, "best_iteration", m->n_rounds - 1);
        cJSON_AddNumberToObject(t, "valid_mlogloss", m->valid_loss);
        cJSON_AddItemToObject(t, "importance_gain", num_array(m->importance, m->n_features));
    }
    if (m->metrics.n > 0) {
        cJSON_AddItemToObject(o, "test_metrics", model_metrics_json(&m->metrics));
    }
    return o;
}

kz_status kz_model_info_json(const kz_model *m, char **json)
{
    if (!m || !json) {
        return KZ_ERR_INVALID;
    }
    *json = NULL;
    return model_json_text(metadata_json(m), 1, json);
}

kz_status kz_model_save_mem(const kz_model *m, uint8_t **buf, size_t *len, kz_error *err)
{
    if (!m || !buf || !len || !m->booster) {
        return model_fail(err, KZ_ERR_INVALID, "model", "NULL or untrained model");
    }
    *buf = NULL;
    *len = 0;
    char *json = NULL;
    uint8_t *bst = NULL;
    size_t bn = 0;
    kz_status s = model_json_text(metadata_json(m), 0, &json);
    if (s != KZ_OK) {
        return model_fail(err, s, "", "out of memory");
    }
    if ((s = xgb_save(m->booster, &bst, &bn, err)) != KZ_OK) {
        kz_free(json);
        return s;
    }
    size_t jn = strlen(json), total = HEADER_LEN + jn + bn;
    uint8_t *out = kz_malloc(total);
    if (!out) {
        kz_free(json);
        kz_free(bst);
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    memcpy(out, MAGIC, 8);
    put_u32(out + 8, KZ_MODEL_FORMAT_VERSION);
    put_u32(out + 12, 0);
    put_u64(out + 16, (uint64_t)jn);
    put_u64(out + 24, (uint64_t)bn);
    memcpy(out + HEADER_LEN, json, jn);
    memcpy(out + HEADER_LEN + jn, bst, bn);
    put_u64(out + 32, checksum(out, out + HEADER_LEN, jn, out + HEADER_LEN + jn, bn));
    kz_free(json);
    kz_free(bst);
    *buf = out;
    *len = total;
    return KZ_OK;
}

/* Write all of buf to fd, retrying short writes and EINTR. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t k = write(fd, buf, len);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return -1;
        }
        buf += k;
        len -= (size_t)k;
    }
    return 0;
}

kz_status kz_model_save(const kz_model *m, const char *path, kz_error *err)
{
    if (!path || !*path) {
        return model_fail(err, KZ_ERR_INVALID, "path", "empty path");
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    kz_status s = kz_model_save_mem(m, &buf, &len, err);
    if (s != KZ_OK) {
        return s;
    }
    size_t pn = strlen(path);
    char *tmp = kz_malloc(pn + 16), *dir = kz_malloc(pn + 2);
    if (!tmp || !dir) {
        kz_free(tmp);
        kz_free(dir);
        kz_free(buf);
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    /* The temporary file lives beside the target so rename() stays within one file system. */
    snprintf(tmp, pn + 16, "%s.tmp.XXXXXX", path);
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t dn = (size_t)(slash - path);
        memcpy(dir, path, dn ? dn : 1);
        dir[dn ? dn : 1] = '\0';
    } else {
        snprintf(dir, pn + 2, ".");
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s = model_fail(err, KZ_ERR_IO, "path", "%s: cannot create a temporary file: %s", path,
                       strerror(errno));
        goto done;
    }
    /* mkstemp creates 0600; a model file is ordinary data. */
    if (fchmod(fd, 0644) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        s = model_fail(err, KZ_ERR_IO, "path", "%s: write failed: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto done;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        s = model_fail(err, KZ_ERR_IO, "path", "%s: cannot replace: %s", path, strerror(errno));
        unlink(tmp);
        goto done;
    }
    /* Make the rename itself durable. */
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        if (fsync(dfd) != 0 && errno != EINVAL) {
            s = model_fail(err, KZ_ERR_IO, "path", "%s: fsync of the directory failed: %s", dir,
                           strerror(errno));
        }
        close(dfd);
    }
done:
    kz_free(tmp);
    kz_free(dir);
    kz_free(buf);
    return s;
}

/* ---------------------------------------------------------------- JSON -> metadata */
/* A reader that records the first problem and turns later reads into no-ops. */
typedef struct reader {
    kz_error *err;
    kz_status s;
} reader;

static const cJSON *get(reader *r, const cJSON *o, const char *key, int (*is)(const cJSON *))
{
    if (r->s != KZ_OK) {
        return NULL;
    }
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!it || !is(it)) {
        r->s = model_fail(r->err, KZ_ERR_FORMAT, key,
                          "metadata field '%s' is missing or has "
                          "the wrong type",
                          key);
        return NULL;
    }
    return it;
}

static int is_num_or_null(const cJSON *it)
{
    return cJSON_IsNumber(it) || cJSON_IsNull(it);
}

static int is_object(const cJSON *it)
{
    return cJSON_IsObject(it);
}

static int is_array(const cJSON *it)
{
    return cJSON_IsArray(it);
}

static int is_string(const cJSON *it)
{
    return cJSON_IsString(it) && it->valuestring;
}

static int is_bool(const cJSON *it)
{
    return cJSON_IsBool(it);
}

/* A number in [lo, hi] (null reads as NaN, accepted only when allow_nan). */
static double num(reader *r, const cJSON *o, const char *key, double lo, double hi, int allow_nan)
{
    const cJSON *it = get(r, o, key, is_num_or_null);
    if (!it) {
        return NAN;
    }
    double v = cJSON_IsNull(it) ? NAN : it->valuedouble;
    if (isnan(v) ? !allow_nan : !(v >= lo && v <= hi)) {
        r->s = model_fail(r->err, KZ_ERR_FORMAT, key, "metadata field '%s' = %g is out of range",
                          key, v);
        return NAN;
    }
    return v;
}

static int inum(reader *r, const cJSON *o, const char *key, double lo, double hi)
{
    double v = num(r, o, key, lo, hi, 0);
    if (r->s == KZ_OK && v != floor(v)) {
        r->s = model_fail(r->err, KZ_ERR_FORMAT, key, "metadata field '%s' is not whole", key);
    }
    return r->s == KZ_OK ? (int)v : 0;
}

static size_t znum(reader *r, const cJSON *o, const char *key)
{
    double v = num(r, o, key, 0, 9007199254740992.0, 0);
    return r->s == KZ_OK ? (size_t)v : 0;
}

/* An array of exactly n numbers (null = NaN when allow_nan) into out. */
static void
num_list(reader *r, const cJSON *o, const char *key, double *out, size_t n, int allow_nan)
{
    const cJSON *a = get(r, o, key, is_array);
    if (!a) {
        return;
    }
    if ((size_t)cJSON_GetArraySize(a) != n) {
        r->s = model_fail(r->err, KZ_ERR_FORMAT, key,
                          "metadata array '%s' has %d values, "
                          "expected %zu",
                          key, cJSON_GetArraySize(a), n);
        return;
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!is_num_or_null(it) || (cJSON_IsNull(it) && !allow_nan)) {
            r->s = model_fail(r->err, KZ_ERR_FORMAT, key,
                              "metadata array '%s' value %zu is "
                              "not a number",
                              key, i);
            return;
        }
        out[i++] = cJSON_IsNull(it) ? NAN : it->valuedouble;
    }
}

static void copy_str(reader *r, const cJSON *o, const char *key, char *dst, size_t size)
{
    const cJSON *it = get(r, o, key, is_string);
    if (it) {
        if (strlen(it->valuestring) >= size) {
            r->s = model_fail(r->err, KZ_ERR_FORMAT, key, "metadata field '%s' is too long", key);
            return;
        }
        snprintf(dst, size, "%s", it->valuestring);
    }
}

static void read_calib(reader *r, const cJSON *o, const char *key, kz_calib_bin *bins)
{
    const cJSON *a = get(r, o, key, is_array);
    if (a && cJSON_GetArraySize(a) != KZ_CALIB_BINS) {
        r->s = model_fail(r->err, KZ_ERR_FORMAT, key, "expected %d bins", KZ_CALIB_BINS);
        return;
    }
    for (int k = 0; a && r->s == KZ_OK && k < KZ_CALIB_BINS; k++) {
        const cJSON *b = cJSON_GetArrayItem(a, k);
        if (!cJSON_IsObject(b)) {
            r->s = model_fail(r->err, KZ_ERR_FORMAT, key, "bin %d is not an object", k);
            return;
        }
        bins[k].count = znum(r, b, "count");
        bins[k].mean_pred = num(r, b, "mean_pred", 0, 1, 1);
        bins[k].observed = num(r, b, "observed", 0, 1, 1);
    }
}

static const char *const CLASS_KEYS[KZ_N_CLASSES] = {"down", "range", "up"};

static void read_metrics(reader *r, const cJSON *o, kz_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->n = znum(r, o, "n");
    m->accuracy = num(r, o, "accuracy", 0, 1, 0);
    m->balanced_accuracy = num(r, o, "balanced_accuracy", 0, 1, 0);
    m->macro_f1 = num(r, o, "macro_f1", 0, 1, 0);
    m->mlogloss = num(r, o, "mlogloss", 0, 1e6, 0);
    const cJSON *pc = get(r, o, "per_class", is_object);
    const cJSON *cm = get(r, o, "confusion", is_array);
    num_list(r, o, "prior", m->prior, KZ_N_CLASSES, 0);
    for (int c = 0; r->s == KZ_OK && c < KZ_N_CLASSES; c++) {
        const cJSON *k = get(r, pc, CLASS_KEYS[c], is_object);
        m->precision[c] = num(r, k, "precision", 0, 1, 0);
        m->recall[c] = num(r, k, "recall", 0, 1, 0);
        m->f1[c] = num(r, k, "f1", 0, 1, 0);
        m->support[c] = znum(r, k, "support");
        double row[KZ_N_CLASSES];
        const cJSON *holder = cJSON_GetArrayItem(cm, c);
        if (r->s == KZ_OK && !cJSON_IsArray(holder)) {
            r->s = model_fail(r->err, KZ_ERR_FORMAT, "confusion", "row %d is not an array", c);
            return;
        }
        /* num_list wants an object: wrap the row check by hand. */
        if (r->s == KZ_OK && cJSON_GetArraySize(holder) != KZ_N_CLASSES) {
            r->s = model_fail(r->err, KZ_ERR_FORMAT, "confusion", "row %d needs 3 values", c);
            return;
        }
        for (int j = 0; r->s == KZ_OK && j < KZ_N_CLASSES; j++) {
            const cJSON *v = cJSON_GetArrayItem(holder, j);
            row[j] = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
            if (!(row[j] >= 0.0 && row[j] <= 9007199254740992.0)) {
                r->s = model_fail(r->err, KZ_ERR_FORMAT, "confusion", "bad count in row %d", c);
                return;
            }
            m->confusion[c][j] = (size_t)row[j];
        }
    }
    const cJSON *b = get(r, o, "baseline", is_object);
    const cJSON *mc = get(r, b, "majority_class", is_string);
    m->baseline_class = -1;
    for (int c = 0; mc && c < KZ_N_CLASSES; c++) {
        if (strcmp(mc->valuestring, CLASS_KEYS[c]) == 0) {
            m->baseline_class = c;
        }
    }
    if (r->s == KZ_OK && m->baseline_class < 0) {
        r->s = model_fail(r->err, KZ_ERR_FORMAT, "majority_class", "unknown class name");
        return;
    }
    m->baseline_accuracy = num(r, b, "accuracy", 0, 1, 0);
    m->baseline_balanced_accuracy = num(r, b, "balanced_accuracy", 0, 1, 0);
    m->baseline_macro_f1 = num(r, b, "macro_f1", 0, 1, 0);
    m->baseline_mlogloss = num(r, b, "mlogloss", 0, 1e6, 0);
    read_calib(r, o, "calibration_up", m->calib_up);
    read_calib(r, o, "calibration_down", m->calib_down);
}

/* The model's names from the metadata, then everything else into m. */
static kz_status
read_metadata(const cJSON *root, const uint8_t *bst, size_t bn, kz_model **out, kz_error *err)
{
    reader rd = {err, KZ_OK}, *r = &rd;
    const cJSON *f = get(r, root, "features", is_object);
    const cJSON *names = get(r, f, "names", is_array);
    if (r->s != KZ_OK) {
        return r->s;
    }
    int nf = cJSON_GetArraySize(names);
    if (nf < 1 || nf > 1000000) {
        return model_fail(err, KZ_ERR_FORMAT, "names", "bad feature count %d", nf);
    }
    const char **nm = kz_malloc_array((size_t)nf, sizeof *nm);
    if (!nm) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    size_t j = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
    {
        if (!is_string(it) || !it->valuestring[0]) {
            kz_free(nm);
            return model_fail(err, KZ_ERR_FORMAT, "names", "feature %zu is not a name", j);
        }
        nm[j++] = it->valuestring;
    }
    kz_model *m = NULL;
    kz_status s = model_alloc((size_t)nf, nm, &m);
    kz_free(nm);
    if (s != KZ_OK) {
        return model_fail(err, s, "", "out of memory");
    }
    size_t p = m->n_features;
    copy_str(r, root, "xgboost_version", m->xgb_version, sizeof m->xgb_version);
    const cJSON *d = get(r, root, "data", is_object);
    copy_str(r, d, "exchange", m->exchange, sizeof m->exchange);
    copy_str(r, d, "symbol", m->symbol, sizeof m->symbol);
    const cJSON *tf = get(r, d, "timeframe", is_string);
    if (tf && tf->valuestring[0] && kz_timeframe_parse(tf->valuestring, &m->tf) != KZ_OK) {
        r->s =
            model_fail(err, KZ_ERR_FORMAT, "timeframe", "unknown timeframe '%s'", tf->valuestring);
    }
    m->first_ms = (int64_t)num(r, d, "first_ts", -9e15, 9e15, 0);
    m->last_ms = (int64_t)num(r, d, "last_ts", -9e15, 9e15, 0);
    m->n_rows = znum(r, d, "n_rows");
    const cJSON *groups = get(r, f, "groups", is_string);
    if (groups) {
        kz_error gerr;
        if (groups->valuestring[0] &&
            kz_feature_groups_parse(groups->valuestring, &m->fparams.groups, &gerr) != KZ_OK) {
            r->s = model_fail(err, KZ_ERR_FORMAT, "groups", "%s", gerr.msg);
        }
    }
    const cJSON *af = get(r, f, "all_features", is_bool);
    m->all_features = af ? cJSON_IsTrue(af) : 0;
    m->fparams.short_ma = inum(r, f, "short_ma", 1, 1e6);
    m->fparams.long_ma = inum(r, f, "long_ma", 1, 1e6);
    m->fparams.volatility = inum(r, f, "volatility", 1, 1e6);
    m->fparams.momentum = inum(r, f, "momentum", 1, 1e6);
    m->fparams.volume = inum(r, f, "volume", 1, 1e6);

    const cJSON *l = get(r, root, "label", is_object);
    kz_label_params *lp = &m->label;
    lp->horizon = inum(r, l, "horizon", 1, 1e5);
    const cJSON *mode = get(r, l, "mode", is_string);
    if (mode && kz_label_mode_parse(mode->valuestring, &lp->mode) != KZ_OK) {
        r->s = model_fail(err, KZ_ERR_FORMAT, "mode", "unknown label mode '%s'", mode->valuestring);
    }
    lp->threshold_up = num(r, l, "threshold_up", -1e9, 1e9, 0);
    lp->threshold_down = num(r, l, "threshold_down", -1e9, 1e9, 0);
    lp->vol_k = num(r, l, "vol_k", -1e9, 1e9, 0);
    lp->vol_window = inum(r, l, "vol_window", -1e9, 1e9);
    lp->quantile_down = num(r, l, "quantile_down", -1e9, 1e9, 0);
    lp->quantile_up = num(r, l, "quantile_up", -1e9, 1e9, 0);
    kz_label_report *rep = &m->label_rep;
    rep->n_labelled = znum(r, l, "n_labelled");
    double counts[KZ_N_CLASSES] = {0, 0, 0};
    num_list(r, l, "counts", counts, KZ_N_CLASSES, 0);
    num_list(r, l, "shares", rep->shares, KZ_N_CLASSES, 1);
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        rep->counts[c] = (counts[c] >= 0 && counts[c] < 9e15) ? (size_t)counts[c] : 0;
    }
    rep->n_rows = m->n_rows;
    rep->threshold_up = num(r, l, "used_threshold_up", -1e9, 1e9, 1);
    rep->threshold_down = num(r, l, "used_threshold_down", -1e9, 1e9, 1);

    double rows[6] = {0, 0, 0, 0, 0, 0};
    num_list(r, get(r, root, "split", is_object), "rows", rows, 6, 0);
    for (int k = 0; k < 6; k++) {
        if (r->s == KZ_OK && !(rows[k] >= 0 && rows[k] <= (double)m->n_rows)) {
            r->s = model_fail(err, KZ_ERR_FORMAT, "split", "row bound %g out of range", rows[k]);
        }
    }
    m->split = (kz_split){(size_t)rows[0], (size_t)rows[1], (size_t)rows[2],
                          (size_t)rows[3], (size_t)rows[4], (size_t)rows[5]};
    m->has_split = 1;
    const cJSON *sc = get(r, root, "scaler", is_object);
    num_list(r, sc, "mean", m->mean, p, 0);
    num_list(r, sc, "scale", m->scale, p, 0);
    for (size_t k = 0; r->s == KZ_OK && k < p; k++) {
        if (!isfinite(m->mean[k]) || !(m->scale[k] > 0.0) || !isfinite(m->scale[k])) {
            r->s = model_fail(err, KZ_ERR_FORMAT, "scaler", "feature %zu: bad mean/scale", k);
        }
    }

    const cJSON *pp = get(r, root, "params", is_object);
    kz_booster_params *b = &m->bparams;
    b->num_leaves = inum(r, pp, "num_leaves", -1e9, 1e9);
    b->learning_rate = num(r, pp, "learning_rate", -1e9, 1e9, 0);
    b->feature_fraction = num(r, pp, "feature_fraction", -1e9, 1e9, 0);
    b->bagging_fraction = num(r, pp, "bagging_fraction", -1e9, 1e9, 0);
    b->min_data_in_leaf = num(r, pp, "min_data_in_leaf", -1e12, 1e12, 0);
    b->lambda_l2 = num(r, pp, "lambda_l2", -1e12, 1e12, 0);
    b->max_bin = inum(r, pp, "max_bin", -1e9, 1e9);
    b->num_boost_round = inum(r, pp, "num_boost_round", -1e9, 1e9);
    b->early_stopping = inum(r, pp, "early_stopping_rounds", -1e9, 1e9);
    b->num_threads = 0; /* a runtime choice, not saved: files do not depend on it */
    b->balanced = inum(r, pp, "balanced", 0, 1);
    const cJSON *seed = get(r, pp, "seed", is_string);
    if (seed) {
        char *end = NULL;
        errno = 0;
        b->seed = (uint64_t)strtoull(seed->valuestring, &end, 10);
        if (errno || !end || *end || !seed->valuestring[0]) {
            r->s = model_fail(err, KZ_ERR_FORMAT, "seed", "seed is not an unsigned integer");
        }
    }
    if (r->s == KZ_OK && kz_booster_params_check(b, err) != KZ_OK) {
        r->s = KZ_ERR_FORMAT;
        err->code = KZ_ERR_FORMAT;
    }

    const cJSON *t = get(r, root, "training", is_object);
    m->n_rounds = inum(r, t, "n_rounds", 1, 1e6);
    m->valid_loss = num(r, t, "valid_mlogloss", 0, 1e6, 1);
    num_list(r, t, "importance_gain", m->importance, p, 0);
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(root, "test_metrics");
    if (tm && r->s == KZ_OK) {
        if (!cJSON_IsObject(tm)) {
            r->s = model_fail(err, KZ_ERR_FORMAT, "test_metrics", "not an object");
        } else {
            read_metrics(r, tm, &m->metrics);
        }
    }
    if (r->s == KZ_OK) {
        /* Validate every byte XGBoost would trust before it sees the buffer. */
        r->s = model_forest_build(bst, bn, p, &m->forest, err);
    }
    if (r->s == KZ_OK) {
        r->s = xgb_load(bst, bn, p, &m->booster, err);
    }
    if (r->s == KZ_OK) {
        r->s = model_forest_check(m, err);
    }
    if (r->s != KZ_OK) {
        kz_model_free(m);
        return r->s;
    }
    *out = m;
    return KZ_OK;
}

kz_status kz_model_load_mem(const uint8_t *buf, size_t len, kz_model **out, kz_error *err)
{
    if (!out) {
        return model_fail(err, KZ_ERR_INVALID, "out", "NULL output pointer");
    }
    *out = NULL;
    if (!buf && len) {
        return model_fail(err, KZ_ERR_INVALID, "buf", "NULL buffer");
    }
    if (len < HEADER_LEN) {
        return model_fail(err, KZ_ERR_FORMAT, "header",
                          "truncated: %zu bytes, a .kzm header alone has %d", len, HEADER_LEN);
    }
    if (memcmp(buf, MAGIC, 8) != 0) {
        return model_fail(err, KZ_ERR_FORMAT, "magic", "not a kizashi model file (bad magic)");
    }
    uint32_t version = get_u32(buf + 8);
    if (version > KZ_MODEL_FORMAT_VERSION) {
        return model_fail(err, KZ_ERR_MISMATCH, "format_version",
                          "file format version %u is newer than this build reads (%u): upgrade "
                          "kizashi",
                          version, KZ_MODEL_FORMAT_VERSION);
    }
    if (version == 0 || get_u32(buf + 12) != 0) {
        return model_fail(err, KZ_ERR_FORMAT, "format_version", "bad version %u or flags %u",
                          version, get_u32(buf + 12));
    }
    uint64_t jn = get_u64(buf + 16), bn = get_u64(buf + 24);
    if (jn > len || bn > len || HEADER_LEN + jn + bn != (uint64_t)len) {
        return model_fail(err, KZ_ERR_FORMAT, "length",
                          "truncated or padded: the header announces %llu + %llu + %d bytes, the "
                          "file has %zu",
                          (unsigned long long)jn, (unsigned long long)bn, HEADER_LEN, len);
    }
    const uint8_t *json = buf + HEADER_LEN, *bst = json + jn;
    if (checksum(buf, json, (size_t)jn, bst, (size_t)bn) != get_u64(buf + 32)) {
        return model_fail(err, KZ_ERR_FORMAT, "checksum",
                          "checksum mismatch: the file is "
                          "corrupted");
    }
    cJSON *root = cJSON_ParseWithLength((const char *)json, (size_t)jn);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return model_fail(err, KZ_ERR_FORMAT, "metadata", "metadata is not a JSON object");
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    kz_status s;
    if (!is_string(fmt) || strcmp(fmt->valuestring, "kizashi-model") != 0) {
        s = model_fail(err, KZ_ERR_FORMAT, "format", "metadata is not kizashi-model metadata");
    } else {
        s = read_metadata(root, bst, (size_t)bn, out, err);
    }
    cJSON_Delete(root);
    return s;
}

kz_status kz_model_load(const char *path, kz_model **out, kz_error *err)
{
    if (!out) {
        return model_fail(err, KZ_ERR_INVALID, "out", "NULL output pointer");
    }
    *out = NULL;
    if (!path) {
        return model_fail(err, KZ_ERR_INVALID, "path", "NULL path");
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        return model_fail(err, KZ_ERR_IO, "path", "%s: %s", path, strerror(errno));
    }
    struct stat st;
    kz_status s = KZ_OK;
    uint8_t *buf = NULL;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > MAX_FILE_BYTES) {
        s = model_fail(err, KZ_ERR_IO, "path", "%s: not a regular file of a sane size", path);
        goto done;
    }
    size_t len = (size_t)st.st_size;
    if (!(buf = kz_malloc(len ? len : 1))) {
        s = model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
        goto done;
    }
    if (fread(buf, 1, len, f) != len) {
        s = model_fail(err, KZ_ERR_IO, "path", "%s: short read", path);
        goto done;
    }
    s = kz_model_load_mem(buf, len, out, err);
    if (s != KZ_OK && err) {
        snprintf(err->file, sizeof err->file, "%s", path);
    }
done:
    kz_free(buf);
    fclose(f);
    return s;
}
