/* Classification metrics next to naive baselines (majority class; class-prior probabilities),
 * reliability bins for P(up) and P(down), and their JSON form (cJSON). Definitions follow
 * scikit-learn: precision/recall/F1 with zero_division=0, balanced accuracy = mean recall over
 * classes present, log loss with probabilities clipped at 1e-15. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "kizashi/core.h"

#include "model_int.h"

static const char *const CLASS_NAMES[KZ_N_CLASSES] = {"down", "range", "up"};

/* Precision, recall, F1 per class from a confusion matrix; returns macro-F1 and writes balanced
 * accuracy (mean recall over classes with support). */
static double per_class(const size_t cm[KZ_N_CLASSES][KZ_N_CLASSES],
                        double *prec,
                        double *rec,
                        double *f1,
                        size_t *support,
                        double *balanced)
{
    double f1_sum = 0.0, rec_sum = 0.0;
    int n_present = 0;
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        size_t tp = cm[c][c], pred = 0, truth = 0;
        for (int k = 0; k < KZ_N_CLASSES; k++) {
            pred += cm[k][c];
            truth += cm[c][k];
        }
        double pr = pred ? (double)tp / (double)pred : 0.0;
        double re = truth ? (double)tp / (double)truth : 0.0;
        double f = (pr + re > 0.0) ? 2.0 * pr * re / (pr + re) : 0.0;
        if (prec) {
            prec[c] = pr;
            rec[c] = re;
            f1[c] = f;
            support[c] = truth;
        }
        f1_sum += f;
        if (truth) {
            rec_sum += re;
            n_present++;
        }
    }
    *balanced = n_present ? rec_sum / n_present : 0.0;
    return f1_sum / KZ_N_CLASSES;
}

static int argmax3(const double *p)
{
    int best = 0;
    for (int c = 1; c < KZ_N_CLASSES; c++) {
        if (p[c] > p[best]) {
            best = c;
        }
    }
    return best;
}

static void calib_add(kz_calib_bin *bins, double p, int hit)
{
    int k = (int)floor(p * KZ_CALIB_BINS);
    k = k < 0 ? 0 : (k >= KZ_CALIB_BINS ? KZ_CALIB_BINS - 1 : k);
    bins[k].count++;
    bins[k].mean_pred += p;
    bins[k].observed += hit;
}

static void calib_finish(kz_calib_bin *bins)
{
    for (int k = 0; k < KZ_CALIB_BINS; k++) {
        if (bins[k].count) {
            bins[k].mean_pred /= (double)bins[k].count;
            bins[k].observed /= (double)bins[k].count;
        } else {
            bins[k].mean_pred = bins[k].observed = NAN;
        }
    }
}

kz_status kz_metrics_compute(const float *y,
                             const double *prob,
                             size_t n,
                             const double prior[KZ_N_CLASSES],
                             kz_metrics *out,
                             kz_error *err)
{
    if (!y || !prob || !prior || !out) {
        return model_fail(err, KZ_ERR_INVALID, "metrics", "NULL argument");
    }
    kz_metrics m;
    memset(&m, 0, sizeof m);
    size_t base_cm[KZ_N_CLASSES][KZ_N_CLASSES];
    memset(base_cm, 0, sizeof base_cm);
    int base = argmax3(prior);
    double loss = 0.0, base_loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(y[i])) {
            continue;
        }
        if (!(y[i] == 0.0f || y[i] == 1.0f || y[i] == 2.0f)) {
            return model_fail(err, KZ_ERR_INVALID, "y", "row %zu: label %g is not 0, 1 or 2", i,
                              (double)y[i]);
        }
        int t = (int)y[i];
        const double *p = prob + i * KZ_N_CLASSES;
        m.confusion[t][argmax3(p)]++;
        base_cm[t][base]++;
        loss -= log(fmax(p[t], 1e-15));
        base_loss -= log(fmax(prior[t], 1e-15));
        calib_add(m.calib_up, p[KZ_CLASS_UP], t == KZ_CLASS_UP);
        calib_add(m.calib_down, p[KZ_CLASS_DOWN], t == KZ_CLASS_DOWN);
        m.n++;
    }
    if (m.n == 0) {
        return model_fail(err, KZ_ERR_INVALID, "y", "no labelled row to evaluate");
    }
    size_t hits = 0;
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        hits += m.confusion[c][c];
        m.prior[c] = prior[c];
    }
    m.accuracy = (double)hits / (double)m.n;
    m.macro_f1 = per_class((const size_t(*)[KZ_N_CLASSES])m.confusion, m.precision, m.recall, m.f1,
                           m.support, &m.balanced_accuracy);
    m.mlogloss = loss / (double)m.n;
    m.baseline_class = base;
    m.baseline_accuracy = (double)base_cm[base][base] / (double)m.n;
    m.baseline_macro_f1 = per_class((const size_t(*)[KZ_N_CLASSES])base_cm, NULL, NULL, NULL, NULL,
                                    &m.baseline_balanced_accuracy);
    m.baseline_mlogloss = base_loss / (double)m.n;
    calib_finish(m.calib_up);
    calib_finish(m.calib_down);
    *out = m;
    return KZ_OK;
}

/* cJSON prints NaN as null, which is what a reader should see for "undefined". */
static cJSON *calib_json(const kz_calib_bin *bins)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; a && k < KZ_CALIB_BINS; k++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddNumberToObject(o, "lo", (double)k / KZ_CALIB_BINS);
        cJSON_AddNumberToObject(o, "hi", (double)(k + 1) / KZ_CALIB_BINS);
        cJSON_AddNumberToObject(o, "count", (double)bins[k].count);
        cJSON_AddNumberToObject(o, "mean_pred", bins[k].mean_pred);
        cJSON_AddNumberToObject(o, "observed", bins[k].observed);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

cJSON *model_metrics_json(const kz_metrics *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        return NULL;
    }
    cJSON_AddNumberToObject(o, "n", (double)m->n);
    cJSON_AddNumberToObject(o, "accuracy", m->accuracy);
    cJSON_AddNumberToObject(o, "balanced_accuracy", m->balanced_accuracy);
    cJSON_AddNumberToObject(o, "macro_f1", m->macro_f1);
    cJSON_AddNumberToObject(o, "mlogloss", m->mlogloss);
    cJSON *pc = cJSON_AddObjectToObject(o, "per_class");
    cJSON *cm = cJSON_AddArrayToObject(o, "confusion");
    cJSON *pr = cJSON_AddArrayToObject(o, "prior");
    for (int c = 0; pc && cm && pr && c < KZ_N_CLASSES; c++) {
        cJSON *k = cJSON_AddObjectToObject(pc, CLASS_NAMES[c]);
        if (k) {
            cJSON_AddNumberToObject(k, "precision", m->precision[c]);
            cJSON_AddNumberToObject(k, "recall", m->recall[c]);
            cJSON_AddNumberToObject(k, "f1", m->f1[c]);
            cJSON_AddNumberToObject(k, "support", (double)m->support[c]);
        }
        cJSON *row = cJSON_CreateArray();
        for (int j = 0; row && j < KZ_N_CLASSES; j++) {
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)m->confusion[c][j]));
        }
        cJSON_AddItemToArray(cm, row);
        cJSON_AddItemToArray(pr, cJSON_CreateNumber(m->prior[c]));
    }
    cJSON *b = cJSON_AddObjectToObject(o, "baseline");
    if (b) {
        cJSON_AddStringToObject(b, "majority_class", CLASS_NAMES[m->baseline_class]);
        cJSON_AddNumberToObject(b, "accuracy", m->baseline_accuracy);
        cJSON_AddNumberToObject(b, "balanced_accuracy", m->baseline_balanced_accuracy);
        cJSON_AddNumberToObject(b, "macro_f1", m->baseline_macro_f1);
        cJSON_AddNumberToObject(b, "mlogloss", m->baseline_mlogloss);
    }
    cJSON_AddItemToObject(o, "calibration_up", calib_json(m->calib_up));
    cJSON_AddItemToObject(o, "calibration_down", calib_json(m->calib_down));
    return o;
}

kz_status model_json_text(cJSON *o, int pretty, char **json)
{
    char *txt = o ? (pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o)) : NULL;
    cJSON_Delete(o);
    if (!txt) {
        return KZ_ERR_NOMEM;
    }
    *json = kz_strdup(txt);
    cJSON_free(txt);
    return *json ? KZ_OK : KZ_ERR_NOMEM;
}

kz_status kz_metrics_to_json(const kz_metrics *m, char **json)
{
    if (!m || !json) {
        return KZ_ERR_INVALID;
    }
    *json = NULL;
    return model_json_text(model_metrics_json(m), 1, json);
}

kz_status kz_wf_result_to_json(const kz_wf_result *r, char **json)
{
    static const char *const KEYS[6] = {"accuracy", "balanced_accuracy", "macro_f1",
                                        "mlogloss", "baseline_accuracy", "baseline_mlogloss"};
    if (!r || !json) {
        return KZ_ERR_INVALID;
    }
    *json = NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *folds = o ? cJSON_AddArrayToObject(o, "folds") : NULL;
    cJSON *mean = o ? cJSON_AddObjectToObject(o, "mean") : NULL;
    cJSON *sd = o ? cJSON_AddObjectToObject(o, "std") : NULL;
    if (!folds || !mean || !sd) {
        cJSON_Delete(o);
        return KZ_ERR_NOMEM;
    }
    for (int i = 0; i < r->n_folds; i++) {
        const kz_wf_fold *f = &r->folds[i];
        cJSON *fo = cJSON_CreateObject();
        if (!fo) {
            cJSON_Delete(o);
            return KZ_ERR_NOMEM;
        }
        cJSON_AddNumberToObject(fo, "train_begin", (double)f->split.train_begin);
        cJSON_AddNumberToObject(fo, "train_end", (double)f->split.train_end);
        cJSON_AddNumberToObject(fo, "valid_begin", (double)f->split.valid_begin);
        cJSON_AddNumberToObject(fo, "valid_end", (double)f->split.valid_end);
        cJSON_AddNumberToObject(fo, "test_begin", (double)f->split.test_begin);
        cJSON_AddNumberToObject(fo, "test_end", (double)f->split.test_end);
        cJSON_AddNumberToObject(fo, "best_iteration", f->best_round);
        cJSON_AddNumberToObject(fo, "train_seconds", f->seconds);
        cJSON_AddItemToObject(fo, "metrics", model_metrics_json(&f->metrics));
        cJSON_AddItemToArray(folds, fo);
    }
    for (int k = 0; k < 6; k++) {
        cJSON_AddNumberToObject(mean, KEYS[k], r->mean[k]);
        cJSON_AddNumberToObject(sd, KEYS[k], r->std[k]);
    }
    return model_json_text(o, 1, json);
}
