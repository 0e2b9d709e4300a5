/* Feature engine tests: synthetic goldens from the pandas reference, stream == batch, group
 * selection and the no-input report, params checks, the content-keyed LRU cache, OOM injection. */
#include "kizashi/core.h"

#include "features/window_int.h"
#include "features_golden.h"

/* ---------------------------------------------------------------- synthetic market */

static kz_market synth_market(size_t n, int with_fr, int with_oi)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = n;
    kz_bars b = {0};
    kz_series fr = {0}, oi = {0};
    kz_market m;
    memset(&m, 0, sizeof m);
    CHECK(kz_synth_generate(&sp, &b, &fr, &oi, NULL) == KZ_OK);
    CHECK(kz_market_build("synth", "SYN", KZ_TF_1H, &b, with_fr ? &fr : NULL, with_oi ? &oi : NULL,
                          9 * INT64_C(3600000), 2 * INT64_C(3600000), &m) == KZ_OK);
    kz_bars_free(&b);
    kz_series_free(&fr);
    kz_series_free(&oi);
    return m;
}

static int frames_identical(const kz_frame *a, const kz_frame *b)
{
    if (kz_frame_n_rows(a) != kz_frame_n_rows(b) || kz_frame_n_cols(a) != kz_frame_n_cols(b)) {
        return 0;
    }
    size_t n = kz_frame_n_rows(a);
    for (size_t j = 0; j < kz_frame_n_cols(a); j++) {
        if (strcmp(kz_frame_name(a, j), kz_frame_name(b, j)) != 0 ||
            memcmp(kz_frame_col(a, j), kz_frame_col(b, j), n * sizeof(float)) != 0) {
            return 0;
        }
    }
    return memcmp(kz_frame_ts(a), kz_frame_ts(b), n * sizeof(int64_t)) == 0;
}

static size_t count_nan(const float *x, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += isnan(x[i]) != 0;
    }
    return k;
}

/* ---------------------------------------------------------------- registry, params, groups */

static void test_registry_and_params(void)
{
    CHECK_EQ_INT(kz_features_count(), 94);
    CHECK(strcmp(kz_feature_at(0)->name, "MA_10") == 0);
    CHECK(strcmp(kz_feature_at(93)->name, "Trend_Strength_1d") == 0);
    CHECK(kz_feature_at(94) == NULL);
    CHECK(kz_feature_at(57)->group == KZ_FG_MOMENTUM &&
          strcmp(kz_feature_at(57)->name, "RSI") == 0);
    size_t per_group[KZ_FG_COUNT] = {0};
    for (size_t i = 0; i < kz_features_count(); i++) {
        per_group[kz_feature_at(i)->group]++;
        CHECK(kz_feature_at(i)->formula[0] && kz_feature_at(i)->window[0] &&
              kz_feature_at(i)->inputs[0]);
    }
    const size_t want[KZ_FG_COUNT] = {15, 8, 7, 10, 9, 4, 4, 10, 13, 4, 10};
    for (int g = 0; g < KZ_FG_COUNT; g++) {
        CHECK_EQ_INT(per_group[g], want[g]);
    }

    unsigned mask = 0;
    kz_error err;
    CHECK(kz_feature_groups_parse("price,open_interest,mtf", &mask, &err) == KZ_OK);
    CHECK_EQ_INT(mask,
                 KZ_FG_BIT(KZ_FG_PRICE) | KZ_FG_BIT(KZ_FG_OPEN_INTEREST) | KZ_FG_BIT(KZ_FG_MTF));
    CHECK(kz_feature_groups_parse("all", &mask, &err) == KZ_OK && mask == KZ_FG_ALL);
    CHECK(kz_feature_groups_parse("price,bogus", &mask, &err) == KZ_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "bogus");
    CHECK(kz_feature_groups_parse("", &mask, &err) == KZ_ERR_INVALID);
    char buf[128];
    CHECK(strcmp(kz_feature_groups_format(KZ_FG_BIT(KZ_FG_FUNDING) | KZ_FG_BIT(KZ_FG_COMPOSITE),
                                          buf, sizeof buf),
                 "funding,composite") == 0);
    CHECK(strcmp(kz_feature_groups_format(0, buf, sizeof buf), "") == 0);
    CHECK(strcmp(kz_feature_group_str(KZ_FG_OPEN_INTEREST), "open_interest") == 0);

    kz_feature_params p = kz_feature_params_default();
    CHECK(p.short_ma == 10 && p.long_ma == 50 && p.volatility == 20 && p.momentum == 14 &&
          p.volume == 20 && p.groups == KZ_FG_ALL);
    CHECK(kz_feature_params_check(&p, &err) == KZ_OK);
    struct {
        int *field;
        int bad;
        const char *name;
    } cases[] = {{&p.short_ma, 0, "short_ma"},
                 {&p.long_ma, -5, "long_ma"},
                 {&p.volatility, 2, "volatility"},
                 {&p.momentum, 10001, "momentum"},
                 {&p.volume, 0, "volume"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        kz_feature_params q = kz_feature_params_default();
        int *field = (int *)((char *)&q + ((char *)cases[k].field - (char *)&p));
        *field = cases[k].bad;
        CHECK(kz_feature_params_check(&q, &err) == KZ_ERR_INVALID);
        CHECK(strcmp(err.field, cases[k].name) == 0);
        kz_market m = synth_market(50, 0, 0);
        kz_frame *f = (kz_frame *)&m; /* must be reset to NULL on failure */
        CHECK(kz_features_compute(&m, &q, &f, NULL, NULL) == KZ_ERR_INVALID && f == NULL);
        kz_market_free(&m);
    }
    p.groups = 0;
    CHECK(kz_feature_params_check(&p, &err) == KZ_ERR_INVALID && strcmp(err.field, "groups") == 0);
    p.groups = KZ_FG_ALL + 1;
    CHECK(kz_feature_params_check(&p, &err) == KZ_ERR_INVALID);
    CHECK(kz_feature_params_check(NULL, &err) == KZ_ERR_INVALID);
}

/* A selection yields exactly the selected groups' columns, equal to the full computation's. */
static void test_group_selection(void)
{
    kz_market m = synth_market(400, 1, 1);
    kz_frame *full = NULL, *sub = NULL;
    CHECK(kz_features_compute(&m, NULL, &full, NULL, NULL) == KZ_OK);
    kz_feature_params p = kz_feature_params_default();
    p.groups = KZ_FG_BIT(KZ_FG_COMPOSITE) | KZ_FG_BIT(KZ_FG_PATTERN) | KZ_FG_BIT(KZ_FG_MTF);
    CHECK_EQ_INT(kz_features_n_cols(&p), 4 + 13 + 10);
    kz_feature_report rep;
    CHECK(kz_features_compute(&m, &p, &sub, &rep, NULL) == KZ_OK);
    if (full && sub) {
        CHECK_EQ_INT(kz_frame_n_cols(sub), 27);
        CHECK_EQ_INT(rep.n_cols, 27);
        CHECK(strcmp(kz_frame_name(sub, 0), "FR_OI_Ratio") == 0);
        CHECK(strcmp(kz_frame_name(sub, 4), "Bear_Divergence") == 0);
        CHECK(kz_frame_find(sub, "RSI") == KZ_FRAME_NPOS);
        for (size_t j = 0; j < kz_frame_n_cols(sub); j++) {
            size_t fj = kz_frame_find(full, kz_frame_name(sub, j));
            CHECK(fj != KZ_FRAME_NPOS);
            CHECK(memcmp(kz_frame_col(sub, j), kz_frame_col(full, fj), 400 * sizeof(float)) == 0);
        }
        size_t mstress = kz_frame_find(sub, "Market_Stress");
        CHECK(count_nan(kz_frame_col(sub, mstress), 400) < 400);
    }
    kz_frame_free(full);
    kz_frame_free(sub);
    kz_market_free(&m);
}

/* Without OI the OI and composite columns are present and all NaN, and the report says so. */
static void test_no_input_report(void)
{
    kz_market m = synth_market(300, 1, 0);
    kz_frame *f = NULL;
    kz_feature_report rep;
    CHECK(kz_features_compute(&m, NULL, &f, &rep, NULL) == KZ_OK);
    CHECK_EQ_INT(rep.groups_no_input, KZ_FG_BIT(KZ_FG_OPEN_INTEREST) | KZ_FG_BIT(KZ_FG_COMPOSITE));
    CHECK_EQ_INT(kz_frame_n_cols(f), 94);
    for (size_t j = 0; f && j < kz_frame_n_cols(f); j++) {
        kz_feature_group g = kz_feature_at(j)->group;
        size_t nan = count_nan(kz_frame_col(f, j), 300);
        if (g == KZ_FG_OPEN_INTEREST || g == KZ_FG_COMPOSITE) {
            CHECK_EQ_INT(nan, 300);
        } else if (g == KZ_FG_FUNDING) {
            CHECK(nan < 300); /* FR exists: flags are 0/1, not NaN */
        }
    }
    kz_frame_free(f);
    kz_feature_params p = kz_feature_params_default();
    p.groups = KZ_FG_BIT(KZ_FG_PRICE) | KZ_FG_BIT(KZ_FG_FUNDING);
    CHECK(kz_features_compute(&m, &p, &f, &rep, NULL) == KZ_OK);
    CHECK_EQ_INT(rep.groups_no_input, 0);
    kz_frame_free(f);
    /* Non-increasing timestamps are a validation error naming the row. */
    m.bars.ts_ms[10] = m.bars.ts_ms[9];
    kz_error err;
    CHECK(kz_features_compute(&m, NULL, &f, &rep, &err) == KZ_ERR_VALIDATION && f == NULL);
    CHECK_EQ_INT(err.line, 11);
    CHECK_STR_CONTAINS(err.msg, "bar 10");
    kz_market_free(&m);
}

/* ---------------------------------------------------------------- frame and cache */

static void test_frame(void)
{
    const char *names[3] = {"a", "b", "c"};
    const int64_t ts[2] = {5, 7};
    kz_frame *f = NULL, *c = NULL;
    CHECK(kz_frame_new(2, 3, names, ts, &f) == KZ_OK);
    CHECK(kz_frame_find(f, "c") == 2 && kz_frame_find(f, "d") == KZ_FRAME_NPOS);
    CHECK(isnan(kz_frame_col(f, 1)[1]) && kz_frame_ts(f)[1] == 7);
    kz_frame_col_mut(f, 1)[1] = 2.5f;
    CHECK(kz_frame_copy(f, &c) == KZ_OK && frames_identical(f, c));
    CHECK(kz_frame_col(f, 3) == NULL && kz_frame_name(f, 3) == NULL);
    kz_frame_free(f);
    kz_frame_free(c);
    const char *dup[2] = {"x", "x"};
    CHECK(kz_frame_new(1, 2, dup, NULL, &f) == KZ_ERR_INVALID && f == NULL);
}

static void test_cache(void)
{
    kz_market a = synth_market(500, 1, 1), b = synth_market(500, 1, 1);
    kz_frame *direct = NULL, *f1 = NULL, *f2 = NULL;
    CHECK(kz_features_compute(&a, NULL, &direct, NULL, NULL) == KZ_OK);
    size_t entry_bytes = kz_frame_bytes(direct) + 256;
    kz_feature_cache *c = NULL;
    CHECK(kz_feature_cache_new(0, &c) == KZ_ERR_INVALID && c == NULL);
    CHECK(kz_feature_cache_new(entry_bytes * 5 / 2, &c) == KZ_OK);
    kz_feature_report rep;
    kz_feature_cache_stats st;

    CHECK(kz_feature_cache_compute(c, &a, NULL, &f1, &rep, NULL) == KZ_OK && rep.cache_hit == 0);
    CHECK(kz_feature_cache_compute(c, &a, NULL, &f2, &rep, NULL) == KZ_OK && rep.cache_hit == 1);
    kz_feature_cache_stats_get(c, &st);
    CHECK(st.hits == 1 && st.misses == 1 && st.entries == 1);
    CHECK(frames_identical(f1, direct) && frames_identical(f2, direct));
    CHECK(f1 != f2); /* a hit is a copy the caller owns */
    kz_frame_free(f1);
    kz_frame_free(f2);

    /* One changed input value (same shape) misses; so does a changed parameter. */
    b.bars.close[321] *= 1.000001;
    CHECK(kz_feature_cache_compute(c, &b, NULL, &f1, &rep, NULL) == KZ_OK && rep.cache_hit == 0);
    CHECK(!frames_identical(f1, direct));
    kz_frame_free(f1);
    kz_feature_params p = kz_feature_params_default();
    p.volume = 21;
    CHECK(kz_feature_cache_compute(c, &a, &p, &f1, &rep, NULL) == KZ_OK && rep.cache_hit == 0);
    kz_frame_free(f1);
    kz_feature_cache_stats_get(c, &st);
    CHECK(st.misses == 3 && st.entries == 2 && st.evictions == 1 && st.bytes <= st.max_bytes);

    /* LRU: touch (b), then a new entry (a with the changed FR) evicts the least recent. */
    CHECK(kz_feature_cache_compute(c, &b, NULL, &f1, &rep, NULL) == KZ_OK && rep.cache_hit == 1);
    kz_frame_free(f1);
    a.funding[400] = a.funding[400] + 1e-6;
    CHECK(kz_feature_cache_compute(c, &a, NULL, &f1, &rep, NULL) == KZ_OK && rep.cache_hit == 0);
    kz_frame_free(f1);
    CHECK(kz_feature_cache_compute(c, &b, NULL, &f1, &rep, NULL) == KZ_OK && rep.cache_hit == 1);
    kz_frame_free(f1);
    CHECK(kz_feature_cache_compute(c, &a, &p, &f1, &rep, NULL) == KZ_OK && rep.cache_hit == 0);
    kz_frame_free(f1);
    kz_feature_cache_stats_get(c, &st);
    CHECK(st.hits == 3 && st.misses == 5 && st.entries == 2 && st.evictions == 3);
    kz_feature_cache_clear(c);
    kz_feature_cache_stats_get(c, &st);
    CHECK(st.entries == 0 && st.bytes == 0 && st.hits == 3);
    kz_feature_cache_free(c);

    /* A frame bigger than the whole budget is returned but not kept. */
    CHECK(kz_feature_cache_new(1000, &c) == KZ_OK);
    CHECK(kz_feature_cache_compute(c, &a, NULL, &f1, &rep, NULL) == KZ_OK && f1 != NULL);
    kz_feature_cache_stats_get(c, &st);
    CHECK(st.entries == 0 && st.misses == 1);
    kz_frame_free(f1);
    kz_feature_cache_free(c);
    kz_frame_free(direct);
    kz_market_free(&a);
    kz_market_free(&b);
}

/* ---------------------------------------------------------------- OOM injection */

static long oom_budget; /* allocations left before failing; < 0 = unlimited */

static void *oom_malloc(size_t size, void *ud)
{
    (void)ud;
    if (oom_budget == 0) {
        return NULL;
    }
    oom_budget--;
    return malloc(size);
}

static void *oom_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    if (oom_budget == 0) {
        return NULL;
    }
    oom_budget--;
    return realloc(p, size);
}

static void oom_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* Every allocation of batch, streaming and cache paths fails once: the call reports
 * KZ_ERR_NOMEM (or succeeds without caching), leaves *out NULL and leaks nothing (ASan). */
static void test_oom(void)
{
    kz_market m = synth_market(200, 1, 1);
    kz_frame *want = NULL;
    CHECK(kz_features_compute(&m, NULL, &want, NULL, NULL) == KZ_OK);
    const kz_allocator a = {oom_malloc, oom_realloc, oom_free, NULL};
    int saw_ok = 0, saw_nomem = 0;
    for (long k = 0; k < 64 && !saw_ok; k++) {
        kz_set_allocator(&a);
        oom_budget = k;
        kz_frame *f = NULL;
        kz_status st = kz_features_compute(&m, NULL, &f, NULL, NULL);
        kz_feature_state *s = NULL;
        oom_budget = k;
        kz_status st2 = kz_feature_state_new(NULL, KZ_TF_1H, 1, 1, &s, NULL);
        kz_feature_cache *c = NULL;
        kz_frame *g = NULL;
        oom_budget = k;
        kz_status st3 = kz_feature_cache_new(1u << 30, &c);
        if (st3 == KZ_OK) {
            st3 = kz_feature_cache_compute(c, &m, NULL, &g, NULL, NULL);
        }
        kz_set_allocator(NULL);
        CHECK(st == KZ_OK || (st == KZ_ERR_NOMEM && f == NULL));
        CHECK(st2 == KZ_OK || (st2 == KZ_ERR_NOMEM && s == NULL));
        CHECK(st3 == KZ_OK || (st3 == KZ_ERR_NOMEM && g == NULL));
        saw_nomem |= st == KZ_ERR_NOMEM;
        if (st == KZ_OK) {
            saw_ok = 1;
            CHECK(frames_identical(f, want));
        }
        if (st3 == KZ_OK) {
            CHECK(frames_identical(g, want));
        }
        kz_frame_free(f);
        kz_frame_free(g);
        kz_feature_state_free(s);
        kz_feature_cache_free(c);
    }
    CHECK(saw_ok && saw_nomem);
    kz_frame_free(want);
    kz_market_free(&m);
}

/* ---------------------------------------------------------------- synthetic goldens */

typedef struct gcase {
    const char *golden, *prefix; /* inputs/<prefix>_{bars,funding,oi}.csv */
    int has_fr, has_oi;
    kz_timeframe tf;
    int lookbacks; /* 1: short 5, long 30, volatility 10, momentum 7, volume 15 */
} gcase;

static const gcase CASES[] = {
    {"constant.csv", "constant", 1, 1, KZ_TF_1H, 0},
    {"zero_volume.csv", "zero_volume", 0, 0, KZ_TF_1H, 0},
    {"gap.csv", "gap", 1, 1, KZ_TF_1H, 0},
    {"fr_zero.csv", "fr_zero", 1, 1, KZ_TF_1H, 0},
    {"oi_missing.csv", "oi_missing", 1, 0, KZ_TF_1H, 0},
    {"random_walk.csv", "random_walk", 1, 1, KZ_TF_1H, 0},
    {"random_walk_lookbacks.csv", "random_walk", 1, 1, KZ_TF_1H, 1},
    {"random_walk_4h.csv", "random_walk_4h", 1, 1, KZ_TF_4H, 0},
};

static int case_market(const gcase *gc, kz_market *m)
{
    char bars[4096], fr[4096], oi[4096];
    snprintf(bars, sizeof bars, "%s", fg_path(""));
    size_t base = strlen(bars);
    snprintf(bars + base, sizeof bars - base, "inputs/%s_bars.csv", gc->prefix);
    snprintf(fr, sizeof fr, "%.*sinputs/%s_funding.csv", (int)base, bars, gc->prefix);
    snprintf(oi, sizeof oi, "%.*sinputs/%s_oi.csv", (int)base, bars, gc->prefix);
    return fg_market(bars, gc->has_fr ? fr : NULL, gc->has_oi ? oi : NULL, gc->tf, 0, m);
}

static kz_feature_params case_params(const gcase *gc)
{
    kz_feature_params p = kz_feature_params_default();
    if (gc->lookbacks) {
        p.short_ma = 5;
        p.long_ma = 30;
        p.volatility = 10;
        p.momentum = 7;
        p.volume = 15;
    }
    return p;
}

static void test_goldens(void)
{
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        const gcase *gc = &CASES[k];
        fg_golden g;
        kz_market m;
        CHECK(fg_load(fg_path(gc->golden), &g));
        CHECK(case_market(gc, &m));
        kz_feature_params p = case_params(gc);
        kz_frame *f = NULL;
        kz_feature_report rep;
        kz_error err;
        CHECK(kz_features_compute(&m, &p, &f, &rep, &err) == KZ_OK);
        if (f && g.n_rows) {
            fg_compare(gc->golden, f, &g);
            fg_check_stream(gc->golden, &m, &p, f);
            unsigned want = 0;
            if (!gc->has_fr) {
                want |= KZ_FG_BIT(KZ_FG_FUNDING) | KZ_FG_BIT(KZ_FG_COMPOSITE);
            }
            if (!gc->has_oi) {
                want |= KZ_FG_BIT(KZ_FG_OPEN_INTEREST) | KZ_FG_BIT(KZ_FG_COMPOSITE);
            }
            CHECK_EQ_INT(rep.groups_no_input, want);
            CHECK_EQ_INT(rep.n_cols, 94);
            CHECK_EQ_INT(rep.n_rows, g.n_rows);
        }
        kz_frame_free(f);
        kz_market_free(&m);
        fg_free(&g);
    }
}

/* ---------------------------------------------------------------- quantile comparisons */

/* Every counting version the build and CPU run gives the naive counts (ties, signed zeros,
 * lengths around the vector widths). */
static void test_quantile_counts(void)
{
    static double y[200];
    kz_rng r;
    kz_rng_seed(&r, 4242);
    for (size_t i = 0; i < 200; i++) {
        double u = kz_rng_uniform(&r);
        y[i] = u < 0.1 ? 0.0 : u < 0.2 ? -0.0 : floor(u * 7.0) - 3.0;
    }
    size_t n_variants = 0;
    for (int isa = FE_ISA_PLAIN; isa <= FE_ISA_AVX512; isa++) {
        fe_count_fn f = fe_count_variant((fe_isa)isa);
        if (!f) {
            continue;
        }
        n_variants++;
        for (size_t w = 0; w <= 200; w += w < 40 ? 1 : 32) {
            for (double x = -3.0; x <= 3.0; x += 0.5) {
                size_t want_lt = 0, want_gt = 0;
                for (size_t i = 0; i < w; i++) {
                    want_lt += y[i] < x;
                    want_gt += y[i] > x;
                }
                size_t lt = f(y, w, x, 0), gt = f(y, w, x, 1);
                CHECK_MSG(lt == want_lt && gt == want_gt,
                          "isa %d w=%zu x=%g: lt %zu gt %zu want %zu %zu", isa, w, x, lt, gt,
                          want_lt, want_gt);
            }
        }
    }
    CHECK(n_variants >= 1 && fe_count_best() != NULL);
}

/* The engine's quantile comparisons (window_int.h: x > Q and x < Q from x's rank in the window)
 * equal the comparisons with the quantiles of kz_rquant's whole sorted window, at every push,
 * with every counting version. The series mixes ties (small integers, signed zeros), values held
 * for several pushes (the rank kept from the previous push), rising and falling ramps, noise,
 * magnitudes near the double range (the sorted fallback) and NaN/inf bursts; the levels include
 * one whose fraction is within 2^-50 of 1 at w = 2 and 3 (the sorted fallback again). */
static void test_quantile_flags_equal_sorted(void)
{
    enum { N = 7000, WMAX = 168 };
    static double x[N];
    kz_rng r;
    kz_rng_seed(&r, 777);
    double held = 0.0;
    for (size_t i = 0; i < N; i++) {
        double u = kz_rng_uniform(&r);
        size_t seg = (i / 500) % 6; /* ties, ramp up, noise, ramp down, held, huge */
        if (i % 8 == 0) {
            held = floor(u * 9.0) * 1e-4 - 4e-4;
        }
        x[i] = seg == 0   ? (u < 0.2 ? (u < 0.1 ? 0.0 : -0.0) : floor(u * 5.0) - 2.0)
               : seg == 1 ? (double)i + u
               : seg == 2 ? u
               : seg == 3 ? -(double)i + u
               : seg == 4 ? held
                          : (u - 0.5) * 1.7e308 * 2.0;
        if (i % 1700 > 1690) {
            x[i] = i % 3 ? NAN : INFINITY;
        }
    }
    static const size_t ws[] = {1, 2, 3, 5, 20, 40, WMAX};
    const double q_near1 = 0x1.fffffffffffffp-1; /* 1 - 2^-53 */
    const double qs[][2] = {{0.9, 0.1}, {0.8, 0.5}, {0.1, 0.9}, {0.0, 1.0}, {q_near1, 0.37}};
    static double mem[4 * WMAX + 64], rmem[2 * WMAX];
    size_t n_exact_levels = 0;
    for (int isa = FE_ISA_PLAIN; isa <= FE_ISA_AVX512; isa++) {
        fe_count_fn f = fe_count_variant((fe_isa)isa);
        for (size_t a = 0; f && a < sizeof ws / sizeof ws[0]; a++) {
            for (size_t b = 0; b < sizeof qs / sizeof qs[0]; b++) {
                size_t w = ws[a];
                qwin sq;
                carver cv = {NULL, 0};
                qwin_layout(&sq, w, qs[b], 2, &cv);
                CHECK(cv.off <= sizeof mem);
                cv = (carver){(char *)mem, 0};
                qwin_layout(&sq, w, qs[b], 2, &cv);
                sq.count = f;
                n_exact_levels += !sq.rank_ok[0];
                kz_rquant_state ref;
                CHECK(kz_rquant_mem(w) <= sizeof rmem);
                kz_rquant_init(&ref, w, qs[b][0], rmem);
                size_t bad = N;
                for (size_t i = 0; i < N && bad == N; i++) {
                    int above, below;
                    qwin_push(&sq, x[i]);
                    qwin_flags(&sq, x[i], &above, &below);
                    kz_rquant_push(&ref, x[i]);
                    int want_above = x[i] > kz_rquant_at(&ref, qs[b][0]);
                    int want_below = x[i] < kz_rquant_at(&ref, qs[b][1]);
                    if (above != want_above || below != want_below) {
                        bad = i;
                    }
                }
                CHECK_MSG(bad == N, "isa %d w=%zu q={%g, %g}: flags differ at push %zu", isa, w,
                          qs[b][0], qs[b][1], bad);
            }
        }
    }
    CHECK(n_exact_levels > 0); /* the fraction test sent some level to the sorted fallback */
}

/* ---------------------------------------------------------------- huge-page frames */

/* Frames of >= 8 MB take frame.c's huge-page path (2 MB aligned, advised up to the next 2 MB
 * boundary); sizes that are not a multiple of 2 MB exercise the partial last huge page. A
 * batch above the threshold must give the same cells as a prefix below it (the small path). */
static void test_frame_huge_pages(void)
{
    const char *names[3] = {"a", "b", "c"};
    const size_t n = 700001; /* 3 x 700001 floats = 8.4 MB */
    kz_frame *f = NULL, *c = NULL;
    CHECK(kz_frame_new(n, 3, names, NULL, &f) == KZ_OK);
    if (f) {
        CHECK(isnan(kz_frame_col(f, 2)[n - 1]) && kz_frame_ts(f)[n - 1] == 0);
        kz_frame_col_mut(f, 2)[n - 1] = 1.5f;
        kz_frame_col_mut(f, 0)[0] = -2.0f;
        CHECK(kz_frame_copy(f, &c) == KZ_OK && frames_identical(f, c));
        CHECK(kz_frame_bytes(f) >= 3 * n * sizeof(float));
    }
    kz_frame_free(f);
    kz_frame_free(c);

    kz_market m = synth_market(22501, 1, 1); /* 94 x 22501 floats = 8.5 MB */
    kz_market part = m;                      /* shallow: the arrays are only read */
    part.bars.n = 20000;                     /* 7.5 MB */
    kz_frame *full = NULL, *pre = NULL;
    CHECK(kz_features_compute(&m, NULL, &full, NULL, NULL) == KZ_OK);
    CHECK(kz_features_compute(&part, NULL, &pre, NULL, NULL) == KZ_OK);
    if (full && pre) {
        CHECK_EQ_INT(kz_frame_n_cols(full), 94);
        for (size_t j = 0; j < kz_frame_n_cols(full); j++) {
            CHECK(memcmp(kz_frame_col(full, j), kz_frame_col(pre, j),
                         part.bars.n * sizeof(float)) == 0);
        }
        CHECK(memcmp(kz_frame_ts(full), m.bars.ts_ms, m.bars.n * sizeof(int64_t)) == 0);
    }
    kz_frame_free(full);
    kz_frame_free(pre);
    kz_market_free(&m);
}

/* ---------------------------------------------------------------- instruction sets */

/* The engine's raw doubles for m's bars in chunks of 64 (the batch's), all columns of every bar,
 * computed by an engine created under the current fe_isa; caller frees. */
static double *engine_doubles(const kz_market *m, const kz_feature_params *p)
{
    fe_engine *e = NULL;
    size_t n = m->bars.n;
    double *out = calloc(n * F_COUNT, sizeof(double));
    CHECK(out && fe_engine_new(p, m->tf, 1, 1, &e) == KZ_OK);
    if (!out || !e) {
        free(out);
        fe_engine_free(e);
        return NULL;
    }
    static double blk[F_COUNT * FE_CHUNK];
    for (size_t i0 = 0; i0 < n; i0 += FE_CHUNK) {
        size_t nb = n - i0 < FE_CHUNK ? n - i0 : FE_CHUNK;
        fe_bar bars[FE_CHUNK];
        for (size_t r = 0; r < nb; r++) {
            size_t i = i0 + r;
            const kz_bars *b = &m->bars;
            bars[r] = (fe_bar){b->ts_ms[i], b->open[i],   b->high[i],    b->low[i],
                               b->close[i], b->volume[i], m->funding[i], m->oi[i]};
        }
        for (size_t k = 0; k < F_COUNT * FE_CHUNK; k++) {
            blk[k] = NAN;
        }
        fe_engine_run(e, bars, nb, blk, FE_CHUNK);
        for (size_t j = 0; j < F_COUNT; j++) {
            memcpy(out + j * n + i0, blk + j * FE_CHUNK, nb * sizeof(double));
        }
    }
    fe_engine_free(e);
    return out;
}

/* Every instruction-set version of the engine this CPU runs (features_int.h, fe_isa) gives the
 * baseline version's doubles, on a market with NaN, inf, zero volumes and held values, for the
 * default lookbacks and the shortest ones, and so does the frame kz_features_compute returns. */
static void test_isa_versions_identical(void)
{
    kz_market m = synth_market(3000, 1, 1);
    for (size_t i = 0; i < m.bars.n; i++) {
        if (i % 397 == 5) {
            m.bars.volume[i] = NAN;
        }
        if (i % 499 == 7) {
            m.oi[i] = INFINITY;
        }
        if (i % 601 < 30) {
            m.bars.volume[i] = 0.0;
        }
    }
    kz_feature_params ps[3] = {kz_feature_params_default(), kz_feature_params_default(),
                               kz_feature_params_default()};
    ps[1] = (kz_feature_params){1, 3, 3, 1, 1, KZ_FG_ALL};
    ps[2] = (kz_feature_params){7, 33, 9, 5, 13, KZ_FG_ALL};
    size_t n_versions = 0;
    for (size_t k = 0; k < 3; k++) {
        CHECK(fe_isa_force(FE_ISA_PLAIN));
        double *want = engine_doubles(&m, &ps[k]);
        kz_frame *want_f = NULL;
        CHECK(kz_features_compute(&m, &ps[k], &want_f, NULL, NULL) == KZ_OK);
        for (int isa = FE_ISA_SSE2; isa <= FE_ISA_AVX512; isa++) {
            if (!fe_isa_force((fe_isa)isa)) {
                continue;
            }
            n_versions += k == 0;
            double *got = engine_doubles(&m, &ps[k]);
            size_t bad = SIZE_MAX;
            for (size_t c = 0; want && got && c < m.bars.n * F_COUNT && bad == SIZE_MAX; c++) {
                bad = kz_same_bits(want[c], got[c]) ? SIZE_MAX : c;
            }
            CHECK_MSG(want && got && bad == SIZE_MAX,
                      "params %zu isa %d: column %zu bar %zu differs", k, isa, bad / m.bars.n,
                      bad % m.bars.n);
            kz_frame *f = NULL;
            CHECK(kz_features_compute(&m, &ps[k], &f, NULL, NULL) == KZ_OK);
            CHECK(f && want_f && frames_identical(f, want_f));
            kz_frame_free(f);
            free(got);
        }
        free(want);
        kz_frame_free(want_f);
    }
    fe_isa_auto();
    printf("instruction-set versions compared with the baseline: %zu\n", n_versions);
    kz_market_free(&m);
}

int main(void)
{
    test_goldens();
    test_registry_and_params();
    test_group_selection();
    test_no_input_report();
    test_frame();
    test_cache();
    test_oom();
    test_quantile_counts();
    test_quantile_flags_equal_sorted();
    test_frame_huge_pages();
    test_isa_versions_identical();
    KZ_TEST_DONE();
}
