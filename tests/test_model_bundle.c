/* .kzm loader robustness: truncation at every length, bit flips, bad magic, future version,
 * bounded random mutations of the header, metadata and booster with the checksum recomputed (so
 * the JSON and booster checks run, and a crafted booster never reaches XGBoost unchecked),
 * out-of-memory injection on load, and thread-count determinism of the saved bytes. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/model.h"

#include "kz_test.h"

/* A small trained model's bytes. */
static uint8_t *small_model(int threads, size_t *len)
{
    enum { N = 1200, P = 3 };
    static float y[N];
    const char *names[P] = {"alpha", "beta", "gamma"};
    kz_frame *X = NULL;
    if (kz_frame_new(N, P, names, NULL, &X) != KZ_OK) {
        return NULL;
    }
    kz_rng r;
    kz_rng_seed(&r, 99);
    for (size_t i = 0; i < N; i++) {
        double s = 0.0;
        for (size_t j = 0; j < P; j++) {
            double v = kz_rng_normal(&r);
            kz_frame_col_mut(X, j)[i] = (float)v;
            s += v * (double)(j + 1);
        }
        y[i] = s > 1 ? 2.0f : (s < -1 ? 0.0f : 1.0f);
    }
    kz_split sp = {0, 800, 800, 1000, 1000, N};
    kz_booster_params bp = kz_booster_params_default();
    bp.num_boost_round = 8;
    bp.num_leaves = 6;
    bp.num_threads = threads;
    kz_model *m = NULL;
    uint8_t *buf = NULL;
    if (kz_model_train_frame(X, y, &sp, &bp, NULL, NULL, 0, &m, NULL) == KZ_OK) {
        if (kz_model_save_mem(m, &buf, len, NULL) != KZ_OK) {
            buf = NULL;
        }
    }
    kz_model_free(m);
    kz_frame_free(X);
    return buf;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Recompute the checksum the way the format defines it (bundle.c header comment). */
static void reseal_as(uint8_t *b, size_t jn, size_t bn)
{
    uint64_t h = kz_hash64(b, 32, 0);
    h = kz_hash64(b + 40, jn, h);
    put_u64(b + 32, kz_hash64(b + 40 + jn, bn, h));
}

/* Reseal with the section lengths the header announces (they must be intact). */
static void reseal(uint8_t *b)
{
    reseal_as(b, (size_t)get_u64(b + 16), (size_t)get_u64(b + 24));
}

static kz_status load(const uint8_t *b, size_t n, kz_error *err)
{
    kz_model *m = NULL;
    kz_status s = kz_model_load_mem(b, n, &m, err);
    CHECK((s == KZ_OK) == (m != NULL));
    kz_model_free(m);
    return s;
}

static void test_corruption(const uint8_t *good, size_t len)
{
    kz_error err;
    CHECK(load(good, len, &err) == KZ_OK);
    uint8_t *b = kz_malloc(len + 16);
    /* Every truncation is a clean KZ_ERR_FORMAT. */
    size_t bad = 0;
    for (size_t n = 0; n < len; n += (n < 64 ? 1 : 97)) {
        bad += load(good, n, &err) != KZ_ERR_FORMAT;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(load(good, len - 1, &err) == KZ_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "truncated");
    /* Trailing garbage too. */
    memcpy(b, good, len);
    b[len] = 0;
    CHECK(load(b, len + 1, &err) == KZ_ERR_FORMAT);
    /* Any single flipped bit is caught (magic, header or checksum). */
    bad = 0;
    for (size_t i = 0; i < len; i += (i < 64 ? 1 : 31)) {
        memcpy(b, good, len);
        b[i] ^= (uint8_t)(1u << (i % 8));
        bad += load(b, len, &err) == KZ_OK;
    }
    CHECK_EQ_INT(bad, 0);
    memcpy(b, good, len);
    b[100] ^= 0x20;
    CHECK(load(b, len, &err) == KZ_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "checksum");
    memcpy(b, good, len);
    b[0] = 'X';
    CHECK(load(b, len, &err) == KZ_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "magic");
    /* A future format version is refused by name, before anything else is read. */
    memcpy(b, good, len);
    b[8] = (uint8_t)(KZ_MODEL_FORMAT_VERSION + 1);
    reseal(b);
    CHECK(load(b, len, &err) == KZ_ERR_MISMATCH);
    CHECK_STR_CONTAINS(err.msg, "newer");
    /* A resealed metadata edit: a missing field is named. */
    memcpy(b, good, len);
    char *hit = strstr((char *)b + 40, "\"scaler\"");
    if (hit) {
        hit[1] = 'S';
        reseal(b);
        CHECK(load(b, len, &err) == KZ_ERR_FORMAT);
        CHECK_STR_CONTAINS(err.msg, "'scaler'");
    }
    memcpy(b, good, len);
    hit = strstr((char *)b + 40, "\"beta\"");
    if (hit) {
        hit[1] = 'B'; /* renamed feature: loads, and predicting a frame named "beta" mismatches */
        reseal(b);
        kz_model *m = NULL;
        CHECK(kz_model_load_mem(b, len, &m, &err) == KZ_OK);
        CHECK(m && strcmp(kz_model_feature_name(m, 1), "Beta") == 0);
        kz_model_free(m);
    }
    kz_free(b);
}

/* Random byte mutations of the header and the metadata, resealed so that the parsers run. */
static void test_mutations(const uint8_t *good, size_t len)
{
    uint8_t *b = kz_malloc(len);
    size_t jn = (size_t)get_u64(good + 16);
    kz_rng r;
    kz_rng_seed(&r, 2024);
    size_t ok = 0, failed = 0;
    for (int trial = 0; trial < 400; trial++) {
        memcpy(b, good, len);
        int k = (int)kz_rng_int(&r, 1, 4);
        /* One trial in eight hits the header, the rest the JSON metadata. */
        size_t lo = (trial % 8) ? 40 : 0, hi = (trial % 8) ? 40 + jn : 40;
        for (int i = 0; i < k; i++) {
            size_t pos = (size_t)kz_rng_int(&r, (int64_t)lo, (int64_t)hi - 1);
            b[pos] = (uint8_t)kz_rng_u64(&r);
        }
        reseal_as(b, jn, len - 40 - jn); /* the true lengths: a mutated header stays wrong */
        kz_error err;
        kz_status s = load(b, len, &err);
        if (s == KZ_OK) {
            ok++;
        } else {
            failed++;
            CHECK(err.msg[0] != '\0');
        }
    }
    /* Never a crash; most mutations are caught. */
    CHECK(failed > 200);
    CHECK(ok + failed == 400);
    kz_free(b);
}

/* 1 if the model's two prediction paths (XGBoost on a frame, our evaluator per row) agree bit
 * for bit on rows of X, missing values included. */
static int paths_agree(kz_model *m, const kz_frame *X)
{
    size_t n = kz_frame_n_rows(X), p = kz_frame_n_cols(X);
    double prob[64 * 3], pr[3];
    float row[3];
    if (n > 64 || p != 3 || kz_model_predict(m, X, prob, NULL) != KZ_OK) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++) {
            row[j] = kz_frame_col(X, j)[i];
        }
        if (kz_model_predict_row(m, row, p, pr, NULL) != KZ_OK ||
            memcmp(pr, prob + 3 * i, sizeof pr) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Random mutations of the booster section, resealed: the bytes XGBoost 1.7.4's loader would trust
 * (array lengths, child and feature indices, counts). Each file must load or fail cleanly before
 * XGBoost reads it; a file that loads (a changed threshold, leaf value or statistic) predicts the
 * same through both paths. Byte values are random or chosen to make lengths and indices extreme. */
static void test_booster_mutations(const uint8_t *good, size_t len)
{
    static const uint8_t EXTREME[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, 'L', 'l', '['};
    enum { TRIALS = 1500, ROWS = 40 };
    uint8_t *b = kz_malloc(len);
    size_t jn = (size_t)get_u64(good + 16), bn = len - 40 - jn;
    const char *names[3] = {"alpha", "beta", "gamma"};
    kz_frame *X = NULL;
    CHECK(kz_frame_new(ROWS, 3, names, NULL, &X) == KZ_OK);
    kz_rng r;
    kz_rng_seed(&r, 77);
    for (size_t i = 0; X && i < ROWS * 3; i++) {
        kz_frame_col_mut(X, i % 3)[i / 3] =
            kz_rng_uniform(&r) < 0.2 ? NAN : (float)kz_rng_normal(&r);
    }
    size_t loaded = 0, refused = 0, disagree = 0, by_field[4] = {0, 0, 0, 0};
    for (int trial = 0; trial < TRIALS; trial++) {
        memcpy(b, good, len);
        int k = (int)kz_rng_int(&r, 1, 3);
        for (int i = 0; i < k; i++) {
            size_t pos = 40 + jn + (size_t)kz_rng_int(&r, 0, (int64_t)bn - 1);
            b[pos] = trial % 2 ? (uint8_t)kz_rng_u64(&r)
                               : EXTREME[kz_rng_int(&r, 0, (int64_t)sizeof EXTREME - 1)];
        }
        reseal(b);
        kz_model *m = NULL;
        kz_error err;
        kz_status s = kz_model_load_mem(b, len, &m, &err);
        CHECK((s == KZ_OK) == (m != NULL));
        if (s == KZ_OK) {
            loaded++;
            disagree += X && !paths_agree(m, X);
        } else {
            refused++;
            CHECK_MSG(s == KZ_ERR_FORMAT && err.msg[0], "status %d: %s", (int)s, err.msg);
            /* What caught it: the UBJSON reader, a tree check, or the rest of the schema. */
            by_field[strstr(err.msg, "well-formed") ? 0
                     : (strcmp(err.field, "left_children") == 0 ||
                        strcmp(err.field, "parents") == 0 ||
                        strcmp(err.field, "split_indices") == 0)
                         ? 1
                     : strstr(err.msg, "booster:") ? 2
                                                   : 3]++;
        }
        kz_model_free(m);
    }
    printf("booster mutations: %zu loaded (all agreeing: %s), %zu refused: %zu by the UBJSON "
           "reader, %zu by tree structure checks, %zu by other booster checks, %zu elsewhere\n",
           loaded, disagree ? "NO" : "yes", refused, by_field[0], by_field[1], by_field[2],
           by_field[3]);
    CHECK_EQ_INT(loaded + refused, TRIALS);
    CHECK_EQ_INT(disagree, 0);
    /* Both outcomes are exercised in volume, and every layer of checks fires. */
    CHECK(loaded > 100 && refused > 300);
    CHECK(by_field[0] > 20 && by_field[1] > 20 && by_field[2] > 20);
    kz_frame_free(X);
    kz_free(b);
}

/* Allocator failing the k-th allocation. */
static long oom_countdown = -1;
static void *oom_malloc(size_t n, void *ud)
{
    (void)ud;
    if (oom_countdown == 0) {
        return NULL;
    }
    oom_countdown--;
    return malloc(n);
}
static void *oom_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (oom_countdown == 0) {
        return NULL;
    }
    oom_countdown--;
    return realloc(p, n);
}
static void oom_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static void test_oom(const uint8_t *good, size_t len)
{
    kz_allocator a = {oom_malloc, oom_realloc, oom_free, NULL};
    kz_set_allocator(&a);
    int succeeded = 0;
    size_t nomem = 0;
    for (long k = 0; k < 500 && !succeeded; k++) {
        oom_countdown = k;
        kz_model *m = NULL;
        kz_error err;
        kz_status s = kz_model_load_mem(good, len, &m, &err);
        if (s == KZ_OK) {
            succeeded = 1;
        } else {
            nomem += s == KZ_ERR_NOMEM;
            CHECK(m == NULL);
        }
        kz_model_free(m);
    }
    oom_countdown = -1;
    kz_set_allocator(NULL);
    CHECK(succeeded);
    CHECK(nomem > 3);
}

int main(void)
{
    size_t len = 0, len2 = 0;
    uint8_t *good = small_model(1, &len);
    CHECK(good != NULL && len > 200);
    if (!good) {
        KZ_TEST_DONE();
    }
    test_corruption(good, len);
    test_mutations(good, len);
    test_booster_mutations(good, len);
    test_oom(good, len);
    /* hist is deterministic for a given thread count; 1 and 2 threads give the same bytes too. */
    uint8_t *two = small_model(2, &len2);
    CHECK(two && len2 == len && memcmp(two, good, len) == 0);
    kz_free(two);
    kz_free(good);
    KZ_TEST_DONE();
}
