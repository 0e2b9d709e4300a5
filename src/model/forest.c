/* The booster's trees as flat arrays: a strict validator of XGBoost 1.7.4's UBJSON model (run
 * before XGBoost reads the bytes, whose loader trusts them) and a single-row evaluator that gives
 * XGBoost's probabilities bit for bit without XGBoost's per-call JSON configuration (~25 us a
 * call).
 *
 * What XGBoost 1.7.4 trusts, and so what we check (src/gbm/gbtree_model.cc, src/tree/tree_model.cc,
 * src/predictor/predict_fn.h): num_trees against the "trees" and "tree_info" arrays, each tree's
 * "id" as an index, tree_info as a class index, array lengths against num_nodes, child indices
 * (the predictor goes to LeftChild() + !(x < cond), so the right child must be left + 1), split
 * indices against num_feature, categorical splits (we allow none), deleted nodes (none). We accept
 * exactly the keys and types XGBoost 1.7.4 writes for a multi:softprob gbtree model and nothing
 * else, so the file cannot steer XGBoost into code we did not validate for. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/core.h"

#include "model_int.h"

#define MAX_TREE_NODES ((int64_t)1 << 24)
#define ROOT_PARENT                                                                                \
    2147483647 /* XGBoost writes the root's parent as kInvalidNodeId & 0x7fffffff                  \
                */
#define DEFAULT_LEFT 0x80000000u

/* Validation context: the document, the feature count, the first failure. */
typedef struct checker {
    const ubj_doc *doc;
    size_t p;
    kz_error *err;
    kz_status s;
} checker;

static int bad(checker *c, const char *field, const char *what)
{
    if (c->s == KZ_OK) {
        c->s = model_fail(c->err, KZ_ERR_FORMAT, field, "booster: %s", what);
    }
    return 0;
}

/* A string value that is a plain decimal number (digits only, no sign or leading zero), <= 1e9. */
static int str_uint(const ubj_val *v, int64_t *out)
{
    if (!v || v->kind != UBJ_STR || v->n < 1 || v->n > 9 || (v->n > 1 && v->data[0] == '0')) {
        return 0;
    }
    int64_t x = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->data[i] < '0' || v->data[i] > '9') {
            return 0;
        }
        x = x * 10 + (v->data[i] - '0');
    }
    *out = x;
    return 1;
}

/* The string field key of obj equals the decimal number want. */
static int str_is_uint(checker *c, const ubj_val *obj, const char *key, int64_t want)
{
    int64_t v;
    if (!str_uint(model_ubj_get(c->doc, obj, key), &v) || v != want) {
        return bad(c, key, "unexpected value");
    }
    return 1;
}

static int str_equals(const ubj_val *v, const char *s)
{
    size_t k = strlen(s);
    return v && v->kind == UBJ_STR && v->n == k && memcmp(v->data, s, k) == 0;
}

/* base_score: a decimal float text (XGBoost writes "5E-1"), finite, as float32. */
static int base_score(checker *c, const ubj_val *v, float *out)
{
    char buf[32];
    if (!v || v->kind != UBJ_STR || v->n < 1 || v->n >= sizeof buf) {
        return bad(c, "base_score", "base_score is not a number");
    }
    for (size_t i = 0; i < v->n; i++) {
        if (!strchr("0123456789.eE+-", v->data[i])) {
            return bad(c, "base_score", "base_score is not a decimal number");
        }
    }
    memcpy(buf, v->data, v->n);
    buf[v->n] = '\0';
    char *end = NULL;
    float f = strtof(buf, &end);
    if (!end || *end || !isfinite(f)) {
        return bad(c, "base_score", "base_score is not a finite number");
    }
    *out = f;
    return 1;
}

/* learner: {attributes, feature_names, feature_types, gradient_booster, learner_model_param,
 * objective} of a 3-class multi:softprob gbtree over p features without feature names. */
static int learner_ok(checker *c, const ubj_val *lr, float *base)
{
    static const char *const LEARNER[] = {"attributes",          "feature_names",
                                          "feature_types",       "gradient_booster",
                                          "learner_model_param", "objective"};
    static const char *const LMP[] = {"base_score", "boost_from_average", "num_class",
                                      "num_feature", "num_target"};
    static const char *const OBJ[] = {"name", "softmax_multiclass_param"};
    static const char *const SMP[] = {"num_class"};
    const ubj_doc *d = c->doc;
    if (!model_ubj_keys_exactly(d, lr, LEARNER, 6)) {
        return bad(c, "learner", "unexpected learner keys");
    }
    const ubj_val *attrs = model_ubj_get(d, lr, "attributes");
    if (attrs->kind != UBJ_OBJECT) {
        return bad(c, "attributes", "attributes is not an object");
    }
    for (const ubj_val *a = model_ubj_first(d, attrs); a; a = model_ubj_next(d, a)) {
        if (a->kind != UBJ_STR) {
            return bad(c, "attributes", "an attribute is not a string");
        }
    }
    const ubj_val *fn = model_ubj_get(d, lr, "feature_names");
    const ubj_val *ft = model_ubj_get(d, lr, "feature_types");
    if (fn->kind != UBJ_ARRAY || fn->n != 0 || ft->kind != UBJ_ARRAY || ft->n != 0) {
        return bad(c, "feature_names", "feature names or types are set (kizashi sets none)");
    }
    const ubj_val *lmp = model_ubj_get(d, lr, "learner_model_param");
    const ubj_val *bfa = model_ubj_get(d, lmp, "boost_from_average");
    if (!model_ubj_keys_exactly(d, lmp, LMP, 5) ||
        !(str_equals(bfa, "0") || str_equals(bfa, "1"))) {
        return bad(c, "learner_model_param", "unexpected learner_model_param");
    }
    if (!str_is_uint(c, lmp, "num_class", KZ_N_CLASSES) ||
        !str_is_uint(c, lmp, "num_feature", (int64_t)c->p) ||
        !str_is_uint(c, lmp, "num_target", 1) ||
        !base_score(c, model_ubj_get(d, lmp, "base_score"), base)) {
        return 0;
    }
    const ubj_val *obj = model_ubj_get(d, lr, "objective");
    const ubj_val *smp = model_ubj_get(d, obj, "softmax_multiclass_param");
    if (!model_ubj_keys_exactly(d, obj, OBJ, 2) ||
        !str_equals(model_ubj_get(d, obj, "name"), "multi:softprob") ||
        !model_ubj_keys_exactly(d, smp, SMP, 1) ||
        !str_is_uint(c, smp, "num_class", KZ_N_CLASSES)) {
        return bad(c, "objective", "the objective is not multi:softprob with 3 classes");
    }
    return 1;
}

/* A typed array field of tree t: element type elem, n elements; NULL (and c->s set) otherwise. */
static const ubj_val *typed(checker *c, const ubj_val *t, const char *key, uint8_t elem, size_t n)
{
    const ubj_val *v = model_ubj_get(c->doc, t, key);
    if (!v || v->kind != UBJ_TYPED || v->elem != elem || v->n != n) {
        bad(c, key, "a tree array has the wrong type or length");
        return NULL;
    }
    return v;
}

/* The nodes of one tree (validated tree_param: n nodes) into f->nodes[base..base+n). scratch holds
 * 2n int32 for the traversal. */
static int
tree_nodes(checker *c, const ubj_val *t, int64_t n, size_t base, model_forest *f, int32_t *scratch)
{
    size_t nn = (size_t)n;
    const ubj_val *left = typed(c, t, "left_children", 'l', nn);
    const ubj_val *right = typed(c, t, "right_children", 'l', nn);
    const ubj_val *parent = typed(c, t, "parents", 'l', nn);
    const ubj_val *feat = typed(c, t, "split_indices", 'l', nn);
    const ubj_val *cond = typed(c, t, "split_conditions", 'd', nn);
    const ubj_val *dl = typed(c, t, "default_left", 'U', nn);
    const ubj_val *stype = typed(c, t, "split_type", 'U', nn);
    const ubj_val *stats[3] = {typed(c, t, "loss_changes", 'd', nn),
                               typed(c, t, "sum_hessian", 'd', nn),
                               typed(c, t, "base_weights", 'd', nn)};
    /* No categorical split: every categories array is empty. */
    if (!typed(c, t, "categories", 'l', 0) || !typed(c, t, "categories_nodes", 'l', 0) ||
        !typed(c, t, "categories_segments", 'L', 0) || !typed(c, t, "categories_sizes", 'L', 0) ||
        c->s != KZ_OK) {
        return 0;
    }
    for (size_t i = 0; i < nn; i++) {
        for (int k = 0; k < 3; k++) {
            if (!isfinite(model_ubj_f32(stats[k]->data + 4 * i))) {
                return bad(c, "loss_changes",
                           "a node statistic (gain, hessian, weight) is not finite");
            }
        }
        int64_t l = model_ubj_int(left, i), r = model_ubj_int(right, i);
        int64_t fi = model_ubj_int(feat, i), dflt = model_ubj_int(dl, i);
        float v = model_ubj_f32(cond->data + 4 * i);
        model_node *nd = &f->nodes[base + i];
        if (!isfinite(v)) {
            return bad(c, "split_conditions", "a threshold or leaf value is not finite");
        }
        if (model_ubj_int(stype, i) != 0) {
            return bad(c, "split_type", "a categorical split (kizashi trains none)");
        }
        if (dflt > 1) {
            return bad(c, "default_left", "default_left is not 0 or 1");
        }
        if (fi < 0 || fi >= (int64_t)c->p) {
            return bad(c, "split_indices", "a split feature is out of range");
        }
        if (l == -1 && r == -1) {
            nd->left = -1;
            nd->feat = 0;
        } else if (l >= 1 && l < n - 1 && r == l + 1) {
            nd->left = (int32_t)(base + (size_t)l);
            nd->feat = (uint32_t)fi | (dflt ? DEFAULT_LEFT : 0u);
        } else {
            return bad(c, "left_children", "a node's children are out of range");
        }
        nd->value = v;
    }
    /* Depth-first from the root: every node reached exactly once (a tree: no cycle, no sharing,
     * no orphan) and every child's parent entry names its parent. */
    int32_t *stack = scratch, *seen = scratch + nn;
    memset(seen, 0, nn * sizeof *seen);
    size_t top = 0, reached = 0;
    if (model_ubj_int(parent, 0) != ROOT_PARENT) {
        return bad(c, "parents", "the root has a parent");
    }
    stack[top++] = 0;
    seen[0] = 1;
    while (top > 0) {
        int32_t i = stack[--top];
        reached++;
        const model_node *nd = &f->nodes[base + (size_t)i];
        if (nd->left < 0) {
            continue;
        }
        int32_t l = nd->left - (int32_t)base;
        for (int32_t ch = l; ch <= l + 1; ch++) {
            if (seen[ch]) {
                return bad(c, "left_children", "the nodes do not form a tree");
            }
            if (model_ubj_int(parent, (size_t)ch) != i) {
                return bad(c, "parents", "a node's parent entry is wrong");
            }
            seen[ch] = 1;
            stack[top++] = ch;
        }
    }
    return reached == nn ? 1 : bad(c, "left_children", "a node is not reachable from the root");
}

static int64_t tree_size(checker *c, const ubj_val *t)
{
    static const char *const TREE[] = {"base_weights",
                                       "categories",
                                       "categories_nodes",
                                       "categories_segments",
                                       "categories_sizes",
                                       "default_left",
                                       "id",
                                       "left_children",
                                       "loss_changes",
                                       "parents",
                                       "right_children",
                                       "split_conditions",
                                       "split_indices",
                                       "split_type",
                                       "sum_hessian",
                                       "tree_param"};
    static const char *const TP[] = {"num_deleted", "num_feature", "num_nodes", "size_leaf_vector"};
    const ubj_val *tp = model_ubj_get(c->doc, t, "tree_param");
    int64_t n = 0;
    if (!model_ubj_keys_exactly(c->doc, t, TREE, 16) ||
        !model_ubj_keys_exactly(c->doc, tp, TP, 4)) {
        bad(c, "trees", "unexpected tree keys");
        return -1;
    }
    if (!str_uint(model_ubj_get(c->doc, tp, "num_nodes"), &n) || n < 1 || n > MAX_TREE_NODES) {
        bad(c, "num_nodes", "bad num_nodes");
        return -1;
    }
    if (!str_is_uint(c, tp, "num_deleted", 0) ||
        !str_is_uint(c, tp, "num_feature", (int64_t)c->p) ||
        !str_is_uint(c, tp, "size_leaf_vector", 0)) {
        return -1;
    }
    return n;
}

/* gradient_booster: {model: {gbtree_model_param, tree_info, trees}, name: "gbtree"}. */
static int booster_ok(checker *c, const ubj_val *gb, model_forest *f)
{
    static const char *const GB[] = {"model", "name"};
    static const char *const MODEL[] = {"gbtree_model_param", "tree_info", "trees"};
    static const char *const GMP[] = {"num_parallel_tree", "num_trees", "size_leaf_vector"};
    const ubj_doc *d = c->doc;
    const ubj_val *model = model_ubj_get(d, gb, "model");
    const ubj_val *gmp = model_ubj_get(d, model, "gbtree_model_param");
    if (!model_ubj_keys_exactly(d, gb, GB, 2) ||
        !str_equals(model_ubj_get(d, gb, "name"), "gbtree") ||
        !model_ubj_keys_exactly(d, model, MODEL, 3) || !model_ubj_keys_exactly(d, gmp, GMP, 3)) {
        return bad(c, "gradient_booster", "the booster is not a gbtree model");
    }
    const ubj_val *trees = model_ubj_get(d, model, "trees");
    const ubj_val *info = model_ubj_get(d, model, "tree_info");
    int64_t nt = 0;
    if (!str_uint(model_ubj_get(d, gmp, "num_trees"), &nt) || trees->kind != UBJ_ARRAY ||
        info->kind != UBJ_ARRAY || (size_t)nt != trees->n || (size_t)nt != info->n || nt < 1 ||
        nt % KZ_N_CLASSES != 0) {
        return bad(c, "num_trees", "num_trees, trees and tree_info disagree");
    }
    if (!str_is_uint(c, gmp, "num_parallel_tree", 1) ||
        !str_is_uint(c, gmp, "size_leaf_vector", 0)) {
        return 0;
    }
    /* Pass 1: sizes, so the node table is allocated once. Every node takes >= 28 bytes of arrays,
     * so a total above the buffer's length is a lie caught in pass 2 anyway; bound it here. */
    size_t total = 0, biggest = 0, k = 0;
    for (const ubj_val *t = model_ubj_first(d, trees); t; t = model_ubj_next(d, t)) {
        int64_t n = tree_size(c, t);
        const ubj_val *id = model_ubj_get(d, t, "id");
        if (n < 0) {
            return 0;
        }
        if (!id || id->kind != UBJ_INT || id->i != (int64_t)k) {
            return bad(c, "id", "tree ids are not 0, 1, 2, ...");
        }
        total += (size_t)n;
        biggest = (size_t)n > biggest ? (size_t)n : biggest;
        if (total > (size_t)INT32_MAX) {
            return bad(c, "num_nodes", "too many nodes");
        }
        k++;
    }
    k = 0;
    for (const ubj_val *g = model_ubj_first(d, info); g; g = model_ubj_next(d, g)) {
        if (g->kind != UBJ_INT || g->i != (int64_t)(k % KZ_N_CLASSES)) {
            return bad(c, "tree_info", "tree_info is not the class cycle 0, 1, 2, ...");
        }
        k++;
    }
    f->n_trees = (size_t)nt;
    f->n_nodes = total;
    f->nodes = kz_malloc_array(total, sizeof *f->nodes);
    f->root = kz_malloc_array(f->n_trees, sizeof *f->root);
    f->group = kz_malloc_array(f->n_trees, sizeof *f->group);
    int32_t *scratch = kz_malloc_array(biggest, 2 * sizeof *scratch);
    int ok = f->nodes && f->root && f->group && scratch;
    if (!ok) {
        c->s = model_fail(c->err, KZ_ERR_NOMEM, "", "out of memory");
    }
    size_t base = 0;
    k = 0;
    for (const ubj_val *t = model_ubj_first(d, trees); ok && t; t = model_ubj_next(d, t)) {
        int64_t n = tree_size(c, t);
        ok = tree_nodes(c, t, n, base, f, scratch);
        f->root[k] = (uint32_t)base;
        f->group[k] = (uint8_t)(k % KZ_N_CLASSES);
        base += (size_t)n;
        k++;
    }
    kz_free(scratch);
    return ok;
}

void model_forest_free(model_forest *f)
{
    if (f) {
        kz_free(f->nodes);
        kz_free(f->root);
        kz_free(f->group);
        kz_free(f);
    }
}

kz_status
model_forest_build(const uint8_t *buf, size_t len, size_t p, model_forest **out, kz_error *err)
{
    static const char *const ROOT[] = {"learner", "version"};
    *out = NULL;
    ubj_doc doc;
    kz_status s = model_ubj_parse(buf, len, &doc);
    if (s != KZ_OK) {
        return s == KZ_ERR_NOMEM
                   ? model_fail(err, s, "", "out of memory")
                   : model_fail(err, s, "booster", "booster section is not well-formed UBJSON");
    }
    checker c = {&doc, p, err, KZ_OK};
    model_forest *f = kz_calloc(1, sizeof *f);
    const ubj_val *root = &doc.v[0], *lr = model_ubj_get(&doc, root, "learner");
    const ubj_val *ver = model_ubj_get(&doc, root, "version");
    if (!f) {
        c.s = model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    } else if (!model_ubj_keys_exactly(&doc, root, ROOT, 2) || ver->kind != UBJ_ARRAY ||
               ver->n != 3) {
        bad(&c, "booster", "not an XGBoost model (learner, version)");
    } else {
        for (const ubj_val *v = model_ubj_first(&doc, ver); v; v = model_ubj_next(&doc, v)) {
            if (v->kind != UBJ_INT || v->i < 0) {
                bad(&c, "version", "bad XGBoost version");
            }
        }
        f->n_features = p;
        if (c.s == KZ_OK && learner_ok(&c, lr, &f->base_score)) {
            booster_ok(&c, model_ubj_get(&doc, lr, "gradient_booster"), f);
        }
    }
    model_ubj_free(&doc);
    if (c.s != KZ_OK) {
        model_forest_free(f);
        return c.s;
    }
    *out = f;
    return KZ_OK;
}

void model_forest_predict(const model_forest *f, const float *x, double prob[KZ_N_CLASSES])
{
    /* XGBoost 1.7.4 cpu_predictor.cc: out_preds start at base_score and each tree's leaf value is
     * added to its class's float margin, in tree order. predict_fn.h GetNextNode: missing -> the
     * default child, else LeftChild() + !(x < split_cond). */
    float margin[KZ_N_CLASSES] = {f->base_score, f->base_score, f->base_score};
    const model_node *nodes = f->nodes;
    for (size_t t = 0; t < f->n_trees; t++) {
        const model_node *nd = nodes + f->root[t];
        while (nd->left >= 0) {
            float v = x[nd->feat & ~DEFAULT_LEFT];
            int right = isnan(v) ? !(nd->feat & DEFAULT_LEFT) : !(v < nd->value);
            nd = nodes + nd->left + right;
        }
        margin[f->group[t]] += nd->value;
    }
    /* XGBoost's common::Softmax (src/common/math.h): float max and exp, a double sum, then each
     * float divided by the sum rounded to float. */
    float wmax = margin[0];
    for (int k = 1; k < KZ_N_CLASSES; k++) {
        wmax = fmaxf(margin[k], wmax);
    }
    double wsum = 0.0;
    for (int k = 0; k < KZ_N_CLASSES; k++) {
        margin[k] = expf(margin[k] - wmax);
        wsum += (double)margin[k];
    }
    for (int k = 0; k < KZ_N_CLASSES; k++) {
        prob[k] = (double)(margin[k] / (float)wsum);
    }
}

kz_status model_attach_forest(kz_model *m, kz_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    kz_status s = xgb_save(m->booster, &buf, &len, err);
    if (s == KZ_OK) {
        s = model_forest_build(buf, len, m->n_features, &m->forest, err);
    }
    kz_free(buf);
    return s;
}

kz_status model_forest_check(kz_model *m, kz_error *err)
{
    /* Probe rows: all missing, all zero, and two mixed patterns around the scaled range. */
    enum { N_PROBE = 4 };
    size_t p = m->n_features;
    float *x = kz_malloc_array(p, N_PROBE * sizeof *x);
    double xp[N_PROBE * KZ_N_CLASSES], fp[N_PROBE * KZ_N_CLASSES];
    if (!x) {
        return model_fail(err, KZ_ERR_NOMEM, "", "out of memory");
    }
    for (size_t j = 0; j < p; j++) {
        x[j] = NAN;
        x[p + j] = 0.0f;
        x[2 * p + j] = (j % 5 == 4) ? NAN : 0.25f * (float)((int)(j % 9) - 4);
        x[3 * p + j] = (j % 3 == 0) ? NAN : 0.5f * (float)((int)(j % 7) - 3);
    }
    kz_status s = xgb_predict(m->booster, x, N_PROBE, p, xp, err);
    for (size_t i = 0; s == KZ_OK && i < N_PROBE; i++) {
        model_forest_predict(m->forest, x + i * p, fp + i * KZ_N_CLASSES);
    }
    kz_free(x);
    if (s == KZ_OK && memcmp(xp, fp, sizeof xp) != 0) {
        s = model_fail(err, KZ_ERR_MODEL, "booster",
                       "the tree evaluator disagrees with XGBoost on this booster");
    }
    return s;
}
