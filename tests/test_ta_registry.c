/* Generic tests over every indicator registry entry: stream == batch (bit-identical), prefix
 * stability (no look-ahead), output canaries, warm-up/lookback rules, bad params and inputs, OOM,
 * and the registry's own consistency. Runs on synthetic OHLCV so it needs no shared data. */
#include <ctype.h>
#include <stdint.h>

#include "kizashi/kizashi.h"

#include "kz_test.h"

#define N_BARS   600
#define CANARY   4
#define SENTINEL (-7.25e300)

static double bars[5][N_BARS]; /* open, high, low, close, volume */

static void make_bars(void)
{
    kz_rng r;
    kz_rng_seed(&r, 20240611);
    double close = 30000.0;
    for (int i = 0; i < N_BARS; i++) {
        double open = close;
        close = open * exp(0.01 * kz_rng_normal(&r));
        double hi = fmax(open, close) * (1.0 + 0.004 * fabs(kz_rng_normal(&r)));
        double lo = fmin(open, close) * (1.0 - 0.004 * fabs(kz_rng_normal(&r)));
        bars[KZ_IN_OPEN][i] = open;
        bars[KZ_IN_HIGH][i] = hi;
        bars[KZ_IN_LOW][i] = lo;
        bars[KZ_IN_CLOSE][i] = close;
        bars[KZ_IN_VOLUME][i] = 1000.0 * (1.0 + kz_rng_uniform(&r));
    }
}

static int is_pattern(const kz_ta_info *info)
{
    return strcmp(info->group, "pattern") == 0 || info->scales[0] == KZ_SCALE_PATTERN;
}

typedef struct outbuf {
    double *col[KZ_TA_MAX_OUTPUTS];
} outbuf;

static void out_alloc(const kz_ta_info *info, size_t n, outbuf *o)
{
    for (int j = 0; j < info->n_outputs; j++) {
        o->col[j] = malloc((n + CANARY) * sizeof(double));
        for (size_t i = 0; i < n + CANARY; i++) {
            o->col[j][i] = SENTINEL;
        }
    }
}

static void out_free(const kz_ta_info *info, outbuf *o)
{
    for (int j = 0; j < info->n_outputs; j++) {
        free(o->col[j]);
    }
}

static void inputs_of(const kz_ta_info *info, const double **in)
{
    for (int k = 0; k < info->n_inputs; k++) {
        in[k] = bars[info->inputs[k]];
    }
}

static kz_status
run_n(const kz_ta_info *info, const double *params, size_t n, outbuf *o, kz_error *err)
{
    const double *in[KZ_TA_MAX_INPUTS];
    inputs_of(info, in);
    return kz_ta_run(info, n, in, params, o->col, err);
}

static void describe(const kz_ta_info *info, const double *params, char *buf, size_t size)
{
    int used = snprintf(buf, size, "%s(", info->name);
    for (int k = 0; k < info->n_params && used > 0 && (size_t)used < size; k++) {
        used += snprintf(buf + used, size - (size_t)used, "%s%s=%g", k ? "," : "",
                         info->params[k].name, params[k]);
    }
    if (used > 0 && (size_t)used < size) {
        snprintf(buf + used, size - (size_t)used, ")");
    }
}

/* (a) stream == batch and prefix stability; (b) canary; (c) short inputs; (d) first valid row. */
static void check_behaviour(const kz_ta_info *info, const double *params, int check_first_row)
{
    char name[256];
    describe(info, params, name, sizeof name);
    kz_error err;
    int lb = kz_ta_lookback(info, params);
    CHECK_MSG(lb >= 0, "%s: negative lookback %d", name, lb);

    outbuf full;
    out_alloc(info, N_BARS, &full);
    kz_status st = run_n(info, params, N_BARS, &full, &err);
    CHECK_MSG(st == KZ_OK, "%s: run failed: %s", name, err.msg);
    if (st != KZ_OK) {
        out_free(info, &full);
        return;
    }
    for (int j = 0; j < info->n_outputs; j++) {
        for (int c = 0; c < CANARY; c++) {
            CHECK_MSG(full.col[j][N_BARS + c] == SENTINEL, "%s: output %s wrote past n", name,
                      info->outputs[j]);
        }
        int early = 0;
        for (int i = 0; i < lb && i < N_BARS; i++) {
            early += !isnan(full.col[j][i]);
        }
        CHECK_MSG(early == 0, "%s: %s has %d values before lookback %d", name, info->outputs[j],
                  early, lb);
        if (check_first_row && lb < N_BARS) {
            CHECK_MSG(isfinite(full.col[j][lb]), "%s: %s[lookback=%d] = %g", name, info->outputs[j],
                      lb, full.col[j][lb]);
        }
    }

    /* Streaming, one bar at a time. */
    kz_ta_stream *s = NULL;
    st = kz_ta_stream_new(info, params, &s, &err);
    CHECK_MSG(st == KZ_OK && s, "%s: stream_new: %s", name, err.msg);
    if (s) {
        int bad = 0;
        for (int i = 0; i < N_BARS; i++) {
            double in[KZ_TA_MAX_INPUTS], out[KZ_TA_MAX_OUTPUTS];
            for (int k = 0; k < info->n_inputs; k++) {
                in[k] = bars[info->inputs[k]][i];
            }
            if (kz_ta_stream_push(s, in, out) != KZ_OK) {
                bad++;
                continue;
            }
            for (int j = 0; j < info->n_outputs; j++) {
                if (!kz_same_bits(out[j], full.col[j][i])) {
                    if (bad < 3) {
                        fprintf(stderr, "%s: stream %s[%d] = %.17g, batch %.17g (%s)\n", name,
                                info->outputs[j], i, out[j], full.col[j][i],
                                kz_ta_stream_is_o1(s) ? "O(1)" : "fallback");
                    }
                    bad++;
                }
            }
        }
        CHECK_MSG(bad == 0, "%s: %d streamed values differ from batch", name, bad);
        kz_ta_stream_free(s);
    }

    /* Prefix stability: batch on bars [0, t) equals the full run's first t rows. */
    size_t prefixes[] = {1, 2, 3, 7, 100, N_BARS, (size_t)lb, (size_t)lb + 1, (size_t)lb + 2};
    for (size_t q = 0; q < sizeof prefixes / sizeof prefixes[0]; q++) {
        size_t t = prefixes[q];
        if (t == 0 || t > N_BARS) {
            continue;
        }
        outbuf part;
        out_alloc(info, t, &part);
        st = run_n(info, params, t, &part, &err);
        CHECK_MSG(st == KZ_OK, "%s: run on %zu bars: %s", name, t, err.msg);
        int bad = 0;
        for (int j = 0; j < info->n_outputs && st == KZ_OK; j++) {
            for (size_t i = 0; i < t; i++) {
                bad += !kz_same_bits(part.col[j][i], full.col[j][i]);
            }
            for (int c = 0; c < CANARY; c++) {
                bad += part.col[j][t + (size_t)c] != SENTINEL;
            }
        }
        CHECK_MSG(bad == 0, "%s: prefix of %zu bars differs in %d cells", name, t, bad);
        out_free(info, &part);
    }

    /* n == 0 is fine; n <= lookback gives all NaN. */
    outbuf none;
    out_alloc(info, 0, &none);
    CHECK_MSG(run_n(info, params, 0, &none, &err) == KZ_OK, "%s: n = 0 failed", name);
    out_free(info, &none);
    out_free(info, &full);
}

/* Draw a parameter set from the search ranges (INT/MATYPE rounded); 0 if the check rejects it. */
static int random_params(const kz_ta_info *info, kz_rng *r, double *params)
{
    for (int k = 0; k < info->n_params; k++) {
        const kz_ta_param *p = &info->params[k];
        double lo = p->search_min, hi = p->search_max;
        if (lo == 0 && hi == 0) {
            lo = p->min;
            hi = p->max;
        }
        if (p->type == KZ_PARAM_REAL) {
            params[k] = lo + (hi - lo) * kz_rng_uniform(r);
        } else {
            /* keep periods modest so the O(history) fallback stays fast */
            double top = fmin(hi, lo + 60);
            params[k] = (double)kz_rng_int(r, (int64_t)ceil(lo), (int64_t)floor(top));
        }
    }
    kz_error err;
    return kz_ta_params_check(info, params, &err) == KZ_OK;
}

/* (e) bad parameters and inputs. */
static void check_rejections(const kz_ta_info *info)
{
    double params[KZ_TA_MAX_PARAMS];
    kz_error err;
    outbuf o;
    out_alloc(info, N_BARS, &o);
    for (int k = 0; k < info->n_params; k++) {
        const kz_ta_param *p = &info->params[k];
        kz_ta_defaults(info, params);
        if (p->type != KZ_PARAM_REAL) {
            params[k] = p->min - 1;
            kz_status st = run_n(info, params, N_BARS, &o, &err);
            CHECK_MSG(st == KZ_ERR_INVALID && strcmp(err.field, p->name) == 0,
                      "%s: %s below min: status %d field '%s'", info->name, p->name, (int)st,
                      err.field);
            if (p->min + 0.5 <= p->max) {
                params[k] = p->min + 0.5;
                st = kz_ta_params_check(info, params, &err);
                CHECK_MSG(st == KZ_ERR_INVALID && strcmp(err.field, p->name) == 0,
                          "%s: non-integer %s accepted", info->name, p->name);
            }
        }
        params[k] = NAN;
        kz_status st = run_n(info, params, N_BARS, &o, &err);
        CHECK_MSG(st == KZ_ERR_INVALID && strcmp(err.field, p->name) == 0,
                  "%s: NaN %s: status %d field '%s'", info->name, p->name, (int)st, err.field);
        kz_ta_stream *s = NULL;
        st = kz_ta_stream_new(info, params, &s, &err);
        CHECK_MSG(st == KZ_ERR_INVALID && s == NULL, "%s: stream with NaN %s", info->name, p->name);
    }
    /* NaN / inf input in each column -> invalid, naming the column and the bar. */
    kz_ta_defaults(info, params);
    for (int k = 0; k < info->n_inputs; k++) {
        double *col = bars[info->inputs[k]];
        double keep = col[N_BARS / 2];
        col[N_BARS / 2] = (k % 2) ? INFINITY : NAN;
        kz_status st = run_n(info, params, N_BARS, &o, &err);
        CHECK_MSG(st == KZ_ERR_INVALID && err.field[0] != '\0', "%s: bad input %d accepted",
                  info->name, k);
        CHECK_MSG(err.line == N_BARS / 2 + 1, "%s: bad input reported at line %ld", info->name,
                  err.line);
        col[N_BARS / 2] = keep;
        kz_ta_stream *s = NULL;
        if (kz_ta_stream_new(info, params, &s, &err) == KZ_OK) {
            double in[KZ_TA_MAX_INPUTS] = {0}, out[KZ_TA_MAX_OUTPUTS];
            for (int m = 0; m < info->n_inputs; m++) {
                in[m] = 100.0;
            }
            in[k] = NAN;
            CHECK_MSG(kz_ta_stream_push(s, in, out) == KZ_ERR_INVALID, "%s: stream NaN input",
                      info->name);
            kz_ta_stream_free(s);
        }
    }
    out_free(info, &o);
}

/* (f) registry sanity for one entry. */
static void check_entry(const kz_ta_info *info, const kz_ta_info *prev)
{
    CHECK_MSG(info->name && info->name[0], "entry without a name");
    CHECK_MSG(kz_ta_find(info->name) == info, "%s: find does not return it (duplicate?)",
              info->name);
    char lower[64];
    size_t len = strlen(info->name);
    for (size_t i = 0; i <= len && i < sizeof lower; i++) {
        lower[i] = (char)tolower((unsigned char)info->name[i]);
    }
    lower[sizeof lower - 1] = '\0';
    CHECK_MSG(kz_ta_find(lower) == info, "%s: case-insensitive find", info->name);
    if (prev && strcmp(prev->group, info->group) == 0) {
        CHECK_MSG(strcmp(prev->name, info->name) < 0, "%s after %s: not sorted in group %s",
                  info->name, prev->name, info->group);
    }
    CHECK_MSG(info->n_inputs >= 1 && info->n_inputs <= KZ_TA_MAX_INPUTS, "%s: n_inputs",
              info->name);
    CHECK_MSG(info->n_params >= 0 && info->n_params <= KZ_TA_MAX_PARAMS, "%s: n_params",
              info->name);
    CHECK_MSG(info->n_outputs >= 1 && info->n_outputs <= KZ_TA_MAX_OUTPUTS, "%s: n_outputs",
              info->name);
    CHECK_MSG(info->batch && info->lookback, "%s: no kernel or lookback", info->name);
    CHECK_MSG(!info->state_size == !info->state_init && !info->state_size == !info->state_step,
              "%s: partial state functions", info->name);
    for (int j = 0; j < info->n_outputs; j++) {
        CHECK_MSG(info->outputs[j] && info->outputs[j][0], "%s: output %d unnamed", info->name, j);
    }
    for (int k = 0; k < info->n_params; k++) {
        const kz_ta_param *p = &info->params[k];
        CHECK_MSG(p->name && p->name[0], "%s: param %d unnamed", info->name, k);
        CHECK_MSG(kz_ta_param_index(info, p->name) == k, "%s: param %s index", info->name, p->name);
        CHECK_MSG(p->min <= p->def && p->def <= p->max, "%s: %s default %g outside [%g, %g]",
                  info->name, p->name, p->def, p->min, p->max);
        CHECK_MSG(p->type == KZ_PARAM_REAL || p->def == floor(p->def), "%s: %s default %g",
                  info->name, p->name, p->def);
        if (p->search_min != 0 || p->search_max != 0) {
            CHECK_MSG(p->min <= p->search_min && p->search_min <= p->search_max &&
                          p->search_max <= p->max,
                      "%s: %s search range [%g, %g] outside [%g, %g]", info->name, p->name,
                      p->search_min, p->search_max, p->min, p->max);
        }
        if (p->type == KZ_PARAM_MATYPE) {
            CHECK_MSG(p->min == 0 && p->max == 8, "%s: %s MA type range", info->name, p->name);
        }
    }
    CHECK_MSG(kz_ta_param_index(info, "no_such_param") == -1, "%s: unknown param found",
              info->name);
    double params[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(info, params);
    kz_error err;
    CHECK_MSG(kz_ta_params_check(info, params, &err) == KZ_OK, "%s: defaults rejected: %s",
              info->name, err.msg);
}

/* ---------------------------------------------------------------- OOM injection */
static int fail_allocs = 0;

static void *oom_malloc(size_t size, void *ud)
{
    (void)ud;
    return fail_allocs ? NULL : malloc(size);
}

static void *oom_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    return fail_allocs ? NULL : realloc(p, size);
}

static void oom_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static void check_oom(void)
{
    kz_allocator a = {oom_malloc, oom_realloc, oom_free, NULL};
    kz_set_allocator(&a);
    size_t n = kz_ta_count();
    for (size_t i = 0; i < n; i++) {
        const kz_ta_info *info = kz_ta_at(i);
        double params[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, params);
        kz_error err;
        fail_allocs = 1;
        kz_ta_stream *s = NULL;
        kz_status st = kz_ta_stream_new(info, params, &s, &err);
        CHECK_MSG(st == KZ_ERR_NOMEM && s == NULL, "%s: stream_new under OOM: %d", info->name,
                  (int)st);
        if (info->work_size && info->work_size(N_BARS, params) > 0) {
            outbuf o;
            out_alloc(info, N_BARS, &o);
            st = run_n(info, params, N_BARS, &o, &err);
            CHECK_MSG(st == KZ_ERR_NOMEM, "%s: run under OOM: %d", info->name, (int)st);
            out_free(info, &o);
        }
        /* A fallback stream that cannot grow reports NOMEM and stays usable. */
        fail_allocs = 0;
        if (kz_ta_stream_new(info, params, &s, &err) == KZ_OK) {
            double in[KZ_TA_MAX_INPUTS], out[KZ_TA_MAX_OUTPUTS];
            for (int k = 0; k < info->n_inputs; k++) {
                in[k] = bars[info->inputs[k]][0];
            }
            if (!kz_ta_stream_is_o1(s)) {
                fail_allocs = 1;
                CHECK(kz_ta_stream_push(s, in, out) == KZ_ERR_NOMEM);
                fail_allocs = 0;
            }
            CHECK(kz_ta_stream_push(s, in, out) == KZ_OK);
            kz_ta_stream_free(s);
        }
    }
    fail_allocs = 0;
    kz_set_allocator(NULL);
}

/* kz_ta_run_many over the whole registry (random params, every HT function twice so that
 * shared passes have several targets, at several lengths around the warm-up and chunk sizes)
 * == kz_ta_run of each request, bit for bit, canaries intact; then its rejections. */
static void check_run_many(void)
{
    size_t count = kz_ta_count();
    size_t nreq = 0;
    kz_ta_request *req = calloc(2 * count, sizeof *req);
    double(*params)[KZ_TA_MAX_PARAMS] = calloc(2 * count, sizeof *params);
    outbuf *many = calloc(2 * count, sizeof *many);
    kz_rng r;
    kz_rng_seed(&r, 99);
    for (size_t i = 0; i < count; i++) {
        const kz_ta_info *info = kz_ta_at(i);
        int copies = strncmp(info->name, "HT_", 3) == 0 ? 2 : 1;
        for (int c = 0; c < copies; c++) {
            kz_ta_defaults(info, params[nreq]);
            if (c == 1 || (i % 2 == 1 && !random_params(info, &r, params[nreq]))) {
                kz_ta_defaults(info, params[nreq]);
            }
            req[nreq].info = info;
            req[nreq].params = params[nreq];
            nreq++;
        }
    }
    const double *cols[5] = {bars[0], bars[1], bars[2], bars[3], bars[4]};
    static const size_t lengths[] = {0, 1, 36, 37, 38, 63, 64, 293, 294, 550, N_BARS};
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        size_t n = lengths[li];
        for (size_t q = 0; q < nreq; q++) {
            out_alloc(req[q].info, n, &many[q]);
            req[q].out = many[q].col;
        }
        kz_error err;
        kz_status st = kz_ta_run_many(n, cols, req, nreq, &err);
        CHECK_MSG(st == KZ_OK, "run_many n=%zu: %s", n, err.msg);
        for (size_t q = 0; q < nreq && st == KZ_OK; q++) {
            const kz_ta_info *info = req[q].info;
            outbuf one;
            out_alloc(info, n, &one);
            CHECK(run_n(info, params[q], n, &one, &err) == KZ_OK);
            size_t diff = 0;
            for (int j = 0; j < info->n_outputs; j++) {
                for (size_t i = 0; i < n + CANARY; i++) {
                    diff += !kz_same_bits(one.col[j][i], many[q].col[j][i]);
                }
            }
            CHECK_MSG(diff == 0, "run_many n=%zu: %s differs from kz_ta_run in %zu values", n,
                      info->name, diff);
            out_free(info, &one);
        }
        for (size_t q = 0; q < nreq; q++) {
            out_free(req[q].info, &many[q]);
        }
    }

    /* rejections: nothing written, the culprit named */
    const kz_ta_info *rsi = kz_ta_find("RSI"), *atr = kz_ta_find("ATR");
    double p_rsi[KZ_TA_MAX_PARAMS], p_atr[KZ_TA_MAX_PARAMS];
    kz_ta_defaults(rsi, p_rsi);
    kz_ta_defaults(atr, p_atr);
    outbuf o1, o2;
    out_alloc(rsi, N_BARS, &o1);
    out_alloc(atr, N_BARS, &o2);
    kz_ta_request two[2] = {{rsi, p_rsi, o1.col}, {atr, p_atr, o2.col}};
    kz_error err;
    p_atr[0] = 0;
    CHECK(kz_ta_run_many(N_BARS, cols, two, 2, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "timeperiod") == 0 && strstr(err.msg, "ATR") != NULL);
    CHECK(o1.col[0][N_BARS - 1] == SENTINEL);
    kz_ta_defaults(atr, p_atr);
    const double *no_high[5] = {bars[0], NULL, bars[2], bars[3], bars[4]};
    CHECK(kz_ta_run_many(N_BARS, no_high, two, 2, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "high") == 0 && strstr(err.msg, "ATR") != NULL);
    static double bad_close[N_BARS];
    memcpy(bad_close, bars[KZ_IN_CLOSE], sizeof bad_close);
    bad_close[123] = NAN;
    const double *nan_close[5] = {bars[0], bars[1], bars[2], bad_close, bars[4]};
    CHECK(kz_ta_run_many(N_BARS, nan_close, two, 2, &err) == KZ_ERR_INVALID);
    CHECK(strcmp(err.field, "close") == 0 && err.line == 124 && strstr(err.msg, "RSI") != NULL);
    CHECK(o1.col[0][N_BARS - 1] == SENTINEL && o2.col[0][N_BARS - 1] == SENTINEL);
    kz_ta_request none = {NULL, NULL, NULL};
    CHECK(kz_ta_run_many(N_BARS, cols, &none, 1, &err) == KZ_ERR_INVALID);
    CHECK(kz_ta_run_many(N_BARS, cols, NULL, 0, &err) == KZ_OK);
    out_free(rsi, &o1);
    out_free(atr, &o2);
    free(req);
    free(params);
    free(many);
}

int main(void)
{
    make_bars();
    size_t n = kz_ta_count();
    printf("%zu registry entries\n", n);
    CHECK(kz_ta_at(n) == NULL);
    CHECK(kz_ta_find("no_such_indicator") == NULL);
    CHECK(kz_ta_find(NULL) == NULL);
    kz_rng r;
    kz_rng_seed(&r, 7);
    size_t n_o1 = 0;
    for (size_t i = 0; i < n; i++) {
        const kz_ta_info *info = kz_ta_at(i);
        check_entry(info, i ? kz_ta_at(i - 1) : NULL);
        double params[KZ_TA_MAX_PARAMS];
        kz_ta_defaults(info, params);
        check_behaviour(info, params, !is_pattern(info));
        for (int rep = 0; rep < 3; rep++) {
            if (random_params(info, &r, params)) {
                check_behaviour(info, params, 0);
            }
        }
        check_rejections(info);
        n_o1 += info->state_size != NULL;
    }
    printf("%zu of %zu indicators stream in O(1)\n", n_o1, n);
    check_oom();
    check_run_many();
    KZ_TEST_DONE();
}
