/* Our tree evaluator (src/model/forest.c) against XGBoost: bit-identical probabilities on random
 * rows with missing values, infinities and values exactly on split thresholds, for several model
 * shapes, before and after a save/load round trip; the strict UBJSON reader on hand-made bytes; and
 * targeted edits of a saved booster (resealed) that XGBoost 1.7.4 would trust, each refused by
 * name before XGBoost reads the bytes. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/model.h"

#include "kz_test.h"
#include "model/model_int.h"

enum { N_TRAIN = 1500 };

typedef struct shape {
    size_t p;
    int leaves, rounds, balanced;
    double nan_share; /* share of missing training values: both default directions get used */
} shape;

/* A model trained on p noisy features with a 3-class rule, some values missing. */
static kz_model *train(const shape *sh, uint64_t seed)
{
    static float y[N_TRAIN];
    const char *names[8] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    kz_frame *X = NULL;
    if (sh->p > 8 || kz_frame_new(N_TRAIN, sh->p, names, NULL, &X) != KZ_OK) {
        return NULL;
    }
    kz_rng r;
    kz_rng_seed(&r, seed);
    for (size_t i = 0; i < N_TRAIN; i++) {
        double s = 0.0;
        for (size_t j = 0; j < sh->p; j++) {
            double v = kz_rng_normal(&r) * (double)(j + 1) + (double)j;
            int missing = kz_rng_uniform(&r) < sh->nan_share;
            kz_frame_col_mut(X, j)[i] = missing ? NAN : (float)v;
            /* A missing value still moves the label: the missing branch carries information. */
            s += missing ? (j % 2 ? 1.5 : -1.5) : (v - (double)j) / (double)(j + 1);
        }
        y[i] = s > 0.8 ? 2.0f : (s < -0.8 ? 0.0f : 1.0f);
    }
    kz_split sp = {0, 1000, 1000, 1250, 1250, N_TRAIN};
    kz_booster_params bp = kz_booster_params_default();
    bp.num_boost_round = sh->rounds;
    bp.early_stopping = 0;
    bp.num_leaves = sh->leaves;
    bp.balanced = sh->balanced;
    bp.num_threads = 1;
    bp.seed = seed;
    kz_model *m = NULL;
    kz_error err;
    if (kz_model_train_frame(X, y, &sp, &bp, NULL, NULL, 0, &m, &err) != KZ_OK) {
        fprintf(stderr, "train: %s\n", err.msg);
    }
    kz_frame_free(X);
    return m;
}

/* A random scaled value: normal, missing, infinite, or exactly on (or next to) a split threshold
 * of feature j, where `<` against `<=` would show. */
static float probe_value(const model_forest *f, size_t j, kz_rng *r)
{
    double u = kz_rng_uniform(r);
    if (u < 0.15) {
        return NAN;
    }
    if (u < 0.18) {
        return u < 0.165 ? INFINITY : -INFINITY;
    }
    if (u < 0.55) {
        /* Thresholds of this feature: pick one from a random node at or after a random start. */
        size_t start = (size_t)kz_rng_int(r, 0, (int64_t)f->n_nodes - 1);
        for (size_t k = 0; k < f->n_nodes; k++) {
            const model_node *nd = &f->nodes[(start + k) % f->n_nodes];
            if (nd->left >= 0 && (nd->feat & 0x7fffffffu) == j) {
                int side = (int)kz_rng_int(r, 0, 2);
                return side == 0 ? nd->value
                                 : nextafterf(nd->value, side == 1 ? -INFINITY : INFINITY);
            }
        }
    }
    return (float)(kz_rng_normal(r) * 2.0);
}

/* n random scaled rows through XGBoost's batch prediction and our evaluator: rows that differ. */
static size_t compare_scaled(kz_model *m, size_t n, uint64_t seed, size_t *on_threshold)
{
    size_t p = m->n_features;
    float *x = kz_malloc_array(n * p, sizeof *x);
    double *px = kz_malloc_array(n * KZ_N_CLASSES, sizeof *px);
    kz_rng r;
    kz_rng_seed(&r, seed);
    *on_threshold = 0;
    for (size_t i = 0; i < n * p; i++) {
        x[i] = probe_value(m->forest, i % p, &r);
    }
    for (size_t k = 0; k < m->forest->n_nodes; k++) {
        const model_node *nd = &m->forest->nodes[k];
        for (size_t i = 0; nd->left >= 0 && i < n; i++) {
            *on_threshold += x[i * p + (nd->feat & 0x7fffffffu)] == nd->value;
        }
    }
    kz_error err;
    size_t differ = n;
    if (xgb_predict(m->booster, x, n, p, px, &err) == KZ_OK) {
        differ = 0;
        for (size_t i = 0; i < n; i++) {
            double pf[KZ_N_CLASSES];
            model_forest_predict(m->forest, x + i * p, pf);
            differ += memcmp(pf, px + i * KZ_N_CLASSES, sizeof pf) != 0;
            CHECK_NEAR(pf[0] + pf[1] + pf[2], 1.0, 1e-6);
        }
    }
    kz_free(x);
    kz_free(px);
    return differ;
}

/* The public paths: kz_model_predict (XGBoost, a frame) == kz_model_predict_row (the evaluator). */
static size_t compare_public(kz_model *m, size_t n, uint64_t seed)
{
    size_t p = kz_model_n_features(m);
    const char *names[8];
    for (size_t j = 0; j < p; j++) {
        names[j] = kz_model_feature_name(m, j);
    }
    kz_frame *X = NULL;
    double *prob = kz_malloc_array(n * KZ_N_CLASSES, sizeof *prob);
    if (kz_frame_new(n, p, names, NULL, &X) != KZ_OK || !prob) {
        kz_free(prob);
        return n;
    }
    kz_rng r;
    kz_rng_seed(&r, seed);
    for (size_t j = 0; j < p; j++) {
        for (size_t i = 0; i < n; i++) {
            double u = kz_rng_uniform(&r);
            kz_frame_col_mut(X, j)[i] = u < 0.2 ? NAN : (float)(kz_rng_normal(&r) * 3.0);
        }
    }
    size_t differ = n;
    kz_error err;
    if (kz_model_predict(m, X, prob, &err) == KZ_OK) {
        differ = 0;
        float row[8];
        for (size_t i = 0; i < n; i++) {
            double pr[KZ_N_CLASSES];
            for (size_t j = 0; j < p; j++) {
                row[j] = kz_frame_col(X, j)[i];
            }
            CHECK(kz_model_predict_row(m, row, p, pr, &err) == KZ_OK);
            differ += memcmp(pr, prob + i * KZ_N_CLASSES, sizeof pr) != 0;
        }
    }
    kz_frame_free(X);
    kz_free(prob);
    return differ;
}

static void test_identity(void)
{
    const shape shapes[] = {
        {3, 4, 5, 0, 0.0},   /* shallow, no missing values in training */
        {5, 31, 40, 0, 0.2}, /* default directions learnt from missing values */
        {8, 12, 25, 1, 0.4}, /* class weights, many missing values */
        {2, 64, 60, 0, 0.1}, /* deep trees over few features */
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        kz_model *m = train(&shapes[s], 7 + s);
        CHECK(m != NULL);
        if (!m) {
            continue;
        }
        const model_forest *f = m->forest;
        CHECK_EQ_INT(f->n_trees, (size_t)kz_model_n_rounds(m) * KZ_N_CLASSES);
        CHECK(f->base_score == 0.5f);
        size_t dl = 0, internal = 0;
        for (size_t k = 0; k < f->n_nodes; k++) {
            internal += f->nodes[k].left >= 0;
            dl += f->nodes[k].left >= 0 && (f->nodes[k].feat >> 31);
        }
        CHECK(internal > 0);
        if (shapes[s].nan_share > 0) {
            CHECK_MSG(dl > 0 && dl < internal, "shape %zu: %zu of %zu default-left", s, dl,
                      internal);
        }
        size_t on = 0;
        CHECK_EQ_INT(compare_scaled(m, 3000, 100 + s, &on), 0);
        CHECK_MSG(on > 100, "shape %zu: only %zu values on a threshold", s, on);
        CHECK_EQ_INT(compare_public(m, 500, 200 + s), 0);

        /* The loaded model rebuilds the same forest from the file: same answers again. */
        uint8_t *buf = NULL;
        size_t len = 0;
        kz_model *back = NULL;
        kz_error err;
        CHECK(kz_model_save_mem(m, &buf, &len, &err) == KZ_OK);
        CHECK(kz_model_load_mem(buf, len, &back, &err) == KZ_OK);
        if (back) {
            CHECK_EQ_INT(back->forest->n_nodes, f->n_nodes);
            CHECK(memcmp(back->forest->nodes, f->nodes, f->n_nodes * sizeof *f->nodes) == 0);
            CHECK_EQ_INT(compare_scaled(back, 1000, 300 + s, &on), 0);
            CHECK_EQ_INT(compare_public(back, 200, 400 + s), 0);
        }
        kz_model_free(back);
        kz_free(buf);
        kz_model_free(m);
    }
}

/* ---------------------------------------------------------------- UBJSON reader */
static kz_status parse_bytes(const char *bytes, size_t n, ubj_doc *doc)
{
    return model_ubj_parse((const uint8_t *)bytes, n, doc);
}

#define UBJ(s) s, sizeof(s) - 1
#define L8(n)  "L\0\0\0\0\0\0\0" n /* 'L' + big-endian int64 whose last byte is n */

static void test_ubj(void)
{
    ubj_doc doc;
    /* {"a": [$l#L 2: 1, -2], "bb": "xy", "c": [#L 2: i 5, I -300]} */
    static const char good[] = "{" L8("\1") "a[$l#" L8("\2") "\0\0\0\1\xff\xff\xff\xfe" L8(
        "\2") "bbS" L8("\2") "xy" L8("\1") "c[#" L8("\2") "i\5I\xfe\xd4}";
    CHECK(parse_bytes(UBJ(good), &doc) == KZ_OK);
    CHECK_EQ_INT(doc.n, 6);
    const ubj_val *a = model_ubj_get(&doc, &doc.v[0], "a");
    const ubj_val *bb = model_ubj_get(&doc, &doc.v[0], "bb");
    const ubj_val *c = model_ubj_get(&doc, &doc.v[0], "c");
    CHECK(a && a->kind == UBJ_TYPED && a->elem == 'l' && a->n == 2);
    CHECK(a && model_ubj_int(a, 0) == 1 && model_ubj_int(a, 1) == -2);
    CHECK(bb && bb->kind == UBJ_STR && bb->n == 2 && memcmp(bb->data, "xy", 2) == 0);
    const ubj_val *c0 = model_ubj_first(&doc, c), *c1 = c0 ? model_ubj_next(&doc, c0) : NULL;
    CHECK(c0 && c0->kind == UBJ_INT && c0->i == 5);
    CHECK(c1 && c1->kind == UBJ_INT && c1->i == -300 && !model_ubj_next(&doc, c1));
    static const char *const keys[] = {"a", "bb", "c"};
    static const char *const fewer[] = {"a", "bb"};
    CHECK(model_ubj_keys_exactly(&doc, &doc.v[0], keys, 3));
    CHECK(!model_ubj_keys_exactly(&doc, &doc.v[0], fewer, 2));
    model_ubj_free(&doc);
    /* Every strict prefix is refused (truncation anywhere). */
    size_t accepted = 0;
    for (size_t n = 0; n + 1 < sizeof good - 1; n++) {
        accepted += parse_bytes(good, n, &doc) == KZ_OK;
    }
    CHECK_EQ_INT(accepted, 0);
    /* Encodings XGBoost 1.7 does not read, and lengths that lie. */
    static const struct {
        const char *b;
        size_t n;
    } refused[] = {
        {UBJ("{" L8("\1") "aD\0\0\0\0\0\0\0\0}")},  /* float64: XGBoost refuses it */
        {UBJ("{" L8("\1") "a[i\1]}")},              /* ']'-terminated array: never written */
        {UBJ("{" L8("\1") "a[$i#" L8("\1") "\1}")}, /* typed int8 array: not read by 1.7 */
        {UBJ("{U\1a[#" L8("\0") "}")},              /* key length not as 'L' */
        {UBJ("{" L8("\1") "a[$l#L\xff\xff\xff\xff\xff\xff\xff\xff}")}, /* negative count */
        {UBJ("{" L8("\1") "a[$l#" L8("\2") "\0\0\0\1}")},              /* count past the end */
        {UBJ("{" L8("\1") "aS" L8("\x40") "xy}")},                     /* string past the end */
        {UBJ("[#" L8("\0"))},                                          /* top level not an object */
        {UBJ("{}{}")},                                                 /* trailing bytes */
    };
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        CHECK_MSG(parse_bytes(refused[k].b, refused[k].n, &doc) == KZ_ERR_FORMAT, "case %zu", k);
    }
    /* Nesting deeper than the reader's limit is refused, not recursed into. */
    char deep[600];
    size_t n = 0;
    deep[n++] = '{';
    for (int d = 0; d < 40; d++) {
        memcpy(deep + n, L8("\1") "k{", 11);
        n += 11;
    }
    memset(deep + n, '}', 41);
    CHECK(parse_bytes(deep, n + 41, &doc) == KZ_ERR_FORMAT);
}

/* ---------------------------------------------------------------- crafted boosters */
static uint64_t get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void reseal(uint8_t *b)
{
    size_t jn = (size_t)get_u64le(b + 16), bn = (size_t)get_u64le(b + 24);
    uint64_t h = kz_hash64(b, 32, 0);
    h = kz_hash64(b + 40, jn, h);
    h = kz_hash64(b + 40 + jn, bn, h);
    for (int i = 0; i < 8; i++) {
        b[32 + i] = (uint8_t)(h >> (8 * i));
    }
}

/* The value bytes of the occurrence-th key `key` in the booster section (NULL if absent). */
static uint8_t *value_of(uint8_t *b, size_t len, const char *key, int occurrence)
{
    size_t k = strlen(key), start = 40 + (size_t)get_u64le(b + 16);
    for (size_t i = start; i + 9 + k < len; i++) {
        if (b[i] == 'L' && memcmp(b + i + 1, "\0\0\0\0\0\0\0", 7) == 0 && b[i + 8] == (uint8_t)k &&
            memcmp(b + i + 9, key, k) == 0 && occurrence-- == 0) {
            return b + i + 9 + k;
        }
    }
    return NULL;
}

/* Element e of the typed array at v ("[$t#L" + 8-byte count + elements). */
static uint8_t *elem(uint8_t *v, size_t size, size_t e)
{
    return v + 13 + e * size;
}

static void put_be32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(u >> (24 - 8 * i));
    }
}

typedef struct edit {
    const char *what;
    const char *key;
    int occurrence;    /* which tree (the key's k-th occurrence) */
    int kind;          /* 0: int32 element, 1: u8 element, 2: float element, 3: raw byte */
    ptrdiff_t index;   /* element index, or byte offset from the value for kind 3 */
    int32_t value;     /* new value (kind 2: 1 = NaN, 2 = +inf) */
    const char *field; /* the field the error names */
} edit;

static void test_crafted(void)
{
    shape sh = {4, 8, 3, 0, 0.2};
    kz_model *m = train(&sh, 11);
    CHECK(m != NULL);
    uint8_t *good = NULL;
    size_t len = 0;
    kz_error err;
    if (!m || kz_model_save_mem(m, &good, &len, &err) != KZ_OK) {
        kz_model_free(m);
        CHECK(0);
        return;
    }
    int32_t n0 = (int32_t)(m->forest->n_trees > 1 ? m->forest->root[1] : 0); /* tree 0's nodes */
    const edit edits[] = {
        {"left child out of range", "left_children", 0, 0, 0, n0, "left_children"},
        {"right child not left + 1", "right_children", 0, 0, 0, 1, "left_children"},
        {"child is the root", "left_children", 0, 0, 0, 0, "left_children"},
        {"leaf with one child", "left_children", 0, 0, (ptrdiff_t)n0 - 1, 1, "left_children"},
        {"split feature past num_feature", "split_indices", 0, 0, 0, 4, "split_indices"},
        {"negative split feature", "split_indices", 1, 0, 0, -1, "split_indices"},
        {"categorical split", "split_type", 0, 1, 0, 1, "split_type"},
        {"default_left not 0/1", "default_left", 2, 1, 0, 7, "default_left"},
        {"NaN threshold", "split_conditions", 0, 2, 0, 1, "split_conditions"},
        {"infinite leaf", "split_conditions", 0, 2, (ptrdiff_t)n0 - 1, 2, "split_conditions"},
        {"wrong parent", "parents", 0, 0, 1, 2, "parents"},
        {"root with a parent", "parents", 0, 0, 0, 0, "parents"},
        {"non-finite gain", "loss_changes", 0, 2, 0, 1, "loss_changes"},
        /* kind 3 sets byte `index` of the value: strings are 'S' 'L' + 8 length bytes + text */
        {"num_nodes lies", "num_nodes", 0, 3, 10, '9', "left_children"},
        {"num_trees lies", "num_trees", 0, 3, 10, '8', "num_trees"},
        {"tree id repeated", "id", 1, 3, 1, 0, "id"},
        {"tree_info class out of range", "tree_info", 0, 3, 12, 5, "tree_info"},
        {"num_feature lies", "num_feature", 0, 3, 10, '5', "num_feature"},
        {"num_class lies", "num_class", 0, 3, 10, '4', "num_class"},
        {"objective", "name", 1, 3, 10, 'X', "objective"},
        {"booster kind", "name", 0, 3, 10, 'X', "gradient_booster"},
        {"left_children typed as float", "left_children", 0, 3, 2, 'd', "left_children"},
        {"deleted nodes", "num_deleted", 0, 3, 10, '1', "num_deleted"},
        {"categories not empty", "categories", 0, 3, 12, 1, "booster"},
        {"num_parallel_tree", "num_parallel_tree", 0, 3, 10, '2', "num_parallel_tree"},
        {"unknown key", "loss_changes", 0, 3, -2, 'X', "trees"},
        {"base_score not a number", "base_score", 0, 3, 10, 'x', "base_score"},
    };
    uint8_t *b = kz_malloc(len);
    for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        const edit *e = &edits[k];
        memcpy(b, good, len);
        uint8_t *v = value_of(b, len, e->key, e->occurrence);
        CHECK_MSG(v != NULL, "%s: key %s not found", e->what, e->key);
        if (!v) {
            continue;
        }
        if (e->kind == 0) {
            put_be32(elem(v, 4, (size_t)e->index), e->value);
        } else if (e->kind == 1) {
            *elem(v, 1, (size_t)e->index) = (uint8_t)e->value;
        } else if (e->kind == 2) {
            uint32_t bits = e->value == 1 ? 0x7fc00000u : 0x7f800000u;
            put_be32(elem(v, 4, (size_t)e->index), (int32_t)bits);
        } else {
            v[e->index] = (uint8_t)e->value;
        }
        reseal(b);
        kz_model *bad = NULL;
        kz_status s = kz_model_load_mem(b, len, &bad, &err);
        CHECK_MSG(s == KZ_ERR_FORMAT && bad == NULL, "%s: status %d", e->what, (int)s);
        if (s == KZ_ERR_FORMAT) {
            CHECK_MSG(strcmp(err.field, e->field) == 0, "%s: field '%s' (%s), expected '%s'",
                      e->what, err.field, err.msg, e->field);
        }
        kz_model_free(bad);
    }
    /* A cycle: an inner node of tree 0 gets the root's children as its own. */
    memcpy(b, good, len);
    uint8_t *lc = value_of(b, len, "left_children", 0), *rc = value_of(b, len, "right_children", 0);
    for (int32_t k = 1; lc && rc && k < n0; k++) {
        if (m->forest->nodes[k].left >= 0) {
            put_be32(elem(lc, 4, (size_t)k), 1);
            put_be32(elem(rc, 4, (size_t)k), 2);
            reseal(b);
            kz_model *bad = NULL;
            CHECK(kz_model_load_mem(b, len, &bad, &err) == KZ_ERR_FORMAT && !bad);
            CHECK_STR_CONTAINS(err.msg, "do not form a tree");
            kz_model_free(bad);
            break;
        }
    }
    /* A legal edit (another threshold) loads, and both paths still agree. */
    memcpy(b, good, len);
    uint8_t *v = value_of(b, len, "split_conditions", 0);
    if (v) {
        put_be32(elem(v, 4, 0), (int32_t)0x3f000000); /* 0.5f */
        reseal(b);
        kz_model *ok = NULL;
        CHECK(kz_model_load_mem(b, len, &ok, &err) == KZ_OK);
        if (ok) {
            size_t on = 0;
            CHECK(ok->forest->nodes[0].value == 0.5f);
            CHECK_EQ_INT(compare_scaled(ok, 500, 77, &on), 0);
        }
        kz_model_free(ok);
    }
    kz_free(b);
    kz_free(good);
    kz_model_free(m);
}

int main(void)
{
    test_ubj();
    test_identity();
    test_crafted();
    KZ_TEST_DONE();
}
