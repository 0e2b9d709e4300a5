/* Optimiser runs as JSON (space, params, resumable state, best point, history, convergence trace)
 * and the SVG convergence plot. Doubles are written with %.17g (cJSON's own printer may drop the
 * last bit), so a loaded run continues bit for bit. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "optim/optim_int.h"

#define FORMAT_NAME    "kizashi-bo"
#define FORMAT_VERSION 1

static kz_status
set_err(kz_error *err, kz_status code, const char *path, const char *field, const char *msg)
{
    if (err) {
        kz_error_clear(err);
        err->code = code;
        snprintf(err->file, sizeof err->file, "%s", path ? path : "");
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
    return code;
}

/* ---------------------------------------------------------------- writing */
static cJSON *num(double v)
{
    if (!isfinite(v)) {
        return cJSON_CreateNull();
    }
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    return cJSON_CreateRaw(b);
}

static int add_num(cJSON *o, const char *name, double v)
{
    cJSON *n = num(v);
    return n && cJSON_AddItemToObject(o, name, n);
}

static cJSON *num_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *e = num(v[i]);
        if (!e || !cJSON_AddItemToArray(a, e)) {
            cJSON_Delete(e);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static int add_array(cJSON *o, const char *name, const double *v, size_t n)
{
    cJSON *a = num_array(v, n);
    if (!a || !cJSON_AddItemToObject(o, name, a)) {
        cJSON_Delete(a);
        return 0;
    }
    return 1;
}

/* {"name": value} with category labels for categorical dimensions. */
static cJSON *named_params(const kz_space *s, const double *x)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < s->n; i++) {
        const dim *d = &s->dims[i];
        int ok = d->kind == KZ_DIM_CAT
                     ? cJSON_AddStringToObject(o, d->name, d->cats[(size_t)x[i]]) != NULL
                     : add_num(o, d->name, x[i]);
        if (!ok) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static cJSON *space_json(const kz_space *s)
{
    static const char *const kinds[] = {"real", "integer", "categorical"};
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < s->n; i++) {
        const dim *d = &s->dims[i];
        cJSON *o = cJSON_CreateObject();
        int ok = o && cJSON_AddItemToArray(a, o) && cJSON_AddStringToObject(o, "name", d->name) &&
                 cJSON_AddStringToObject(o, "type", kinds[d->kind]);
        if (ok && d->kind == KZ_DIM_CAT) {
            cJSON *c = cJSON_CreateStringArray((const char *const *)d->cats, (int)d->n_cats);
            ok = c && cJSON_AddItemToObject(o, "categories", c);
        } else if (ok) {
            ok = add_num(o, "low", d->low) && add_num(o, "high", d->high) &&
                 cJSON_AddStringToObject(o, "prior", d->log_uniform ? "log-uniform" : "uniform");
        }
        if (!ok) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *params_json(const kz_bo_params *p)
{
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, p->seed);
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "seed", seed) ||
        !add_num(o, "n_initial", (double)p->n_initial) ||
        !cJSON_AddStringToObject(o, "init", kz_init_str(p->init)) ||
        !cJSON_AddStringToObject(o, "acq", kz_acq_str(p->acq)) || !add_num(o, "xi", p->xi) ||
        !add_num(o, "kappa", p->kappa) || !add_num(o, "hedge_eta", p->hedge_eta) ||
        !add_num(o, "n_candidates", (double)p->n_candidates) ||
        !add_num(o, "n_local", (double)p->n_local) ||
        !add_num(o, "n_restarts", (double)p->n_restarts)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *state_json(const kz_bo *bo)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && add_num(o, "n_asked", (double)bo->n_asked) &&
             add_num(o, "n_batches", (double)bo->n_batches) &&
             add_num(o, "n_fallback", (double)bo->n_fallback) &&
             cJSON_AddStringToObject(o, "fallback_reason", bo->fallback_reason) &&
             add_array(o, "hedge_gains", bo->gains, BO_N_HEDGE);
    if (ok) {
        ok = bo->has_theta ? add_array(o, "theta", bo->theta, bo->d + 2)
                           : cJSON_AddNullToObject(o, "theta") != NULL;
    }
    if (ok) {
        ok = bo->has_hedge_prev ? add_array(o, "hedge_points", bo->hedge_prev, BO_N_HEDGE * bo->d)
                                : cJSON_AddNullToObject(o, "hedge_points") != NULL;
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *history_json(const kz_bo *bo, cJSON *conv)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < bo->n; i++) {
        const bo_rec *r = &bo->recs[i];
        const double *x = &bo->xs[i * bo->d];
        cJSON *o = cJSON_CreateObject(), *pj = o ? named_params(bo->space, x) : NULL;
        cJSON *c = num(r->best_y);
        int ok = o && pj && c && cJSON_AddItemToArray(a, o) && cJSON_AddItemToArray(conv, c) &&
                 add_num(o, "iteration", (double)i) && cJSON_AddItemToObject(o, "params", pj) &&
                 add_array(o, "x", x, bo->d) && add_num(o, "value", r->y) &&
                 cJSON_AddBoolToObject(o, "failed", r->failed) && add_num(o, "eval_s", r->eval_s) &&
                 add_num(o, "suggest_s", r->suggest_s) &&
                 cJSON_AddStringToObject(o, "source", bo_source_str(r->source)) &&
                 add_num(o, "best", r->best_y);
        if (!ok) {
            if (!o || !cJSON_IsObject(o) || !pj) {
                cJSON_Delete(pj);
            }
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *run_json(const kz_bo *bo)
{
    kz_bo_summary sm;
    kz_bo_summary_get(bo, &sm);
    cJSON *root = cJSON_CreateObject(), *conv = cJSON_CreateArray();
    cJSON *best = NULL;
    int ok = root && conv && cJSON_AddStringToObject(root, "format", FORMAT_NAME) &&
             add_num(root, "version", FORMAT_VERSION) &&
             cJSON_AddItemToObject(root, "space", space_json(bo->space)) &&
             cJSON_AddItemToObject(root, "params", params_json(&bo->p)) &&
             cJSON_AddItemToObject(root, "state", state_json(bo)) &&
             add_num(root, "n_evals", (double)sm.n_evals) &&
             add_num(root, "n_failed", (double)sm.n_failed);
    if (ok && sm.has_best) {
        best = cJSON_CreateObject();
        ok = best && cJSON_AddItemToObject(root, "best", best) &&
             add_num(best, "iteration", (double)sm.best_iteration) &&
             add_num(best, "value", sm.best_y) &&
             cJSON_AddItemToObject(best, "params", named_params(bo->space, sm.best_x));
    } else if (ok) {
        ok = cJSON_AddNullToObject(root, "best") != NULL;
    }
    ok = ok && cJSON_AddItemToObject(root, "history", history_json(bo, conv)) &&
         cJSON_AddItemToObject(root, "convergence", conv);
    if (!ok) {
        if (!cJSON_GetObjectItem(root, "convergence")) {
            cJSON_Delete(conv);
        }
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static kz_status write_text(const char *path, const char *text, kz_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return set_err(err, KZ_ERR_IO, path, "", strerror(errno));
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    return bad ? set_err(err, KZ_ERR_IO, path, "", "write failed") : KZ_OK;
}

kz_status kz_bo_save_json(const kz_bo *bo, const char *path, kz_error *err)
{
    if (!bo || !path) {
        return set_err(err, KZ_ERR_INVALID, path, "", "NULL optimiser or path");
    }
    cJSON *root = run_json(bo);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        return set_err(err, KZ_ERR_NOMEM, path, "", "out of memory building the JSON");
    }
    kz_status st = write_text(path, text, err);
    cJSON_free(text);
    return st;
}

/* ---------------------------------------------------------------- reading */
typedef struct reader {
    const char *path;
    kz_error *err;
} reader;

static kz_status bad(const reader *r, const char *field, const char *msg)
{
    return set_err(r->err, KZ_ERR_VALIDATION, r->path, field, msg);
}

static int get_num(const cJSON *o, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return 1;
    }
    if (!cJSON_IsNumber(v)) {
        return 0;
    }
    *out = v->valuedouble;
    return 1;
}

static int get_count(const cJSON *o, const char *name, size_t *out)
{
    double v;
    if (!get_num(o, name, &v) || !(v >= 0.0) || v > 9007199254740992.0 || v != floor(v)) {
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

/* Array of exactly n numbers (null = NaN). */
static int get_array(const cJSON *o, const char *name, double *out, size_t n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n) {
        return 0;
    }
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (cJSON_IsNull(e)) {
            out[i++] = NAN;
        } else if (cJSON_IsNumber(e)) {
            out[i++] = e->valuedouble;
        } else {
            return 0;
        }
    }
    return 1;
}

static kz_status read_space(const reader *r, const cJSON *arr, kz_space **out)
{
    kz_space *s = NULL;
    kz_status st = kz_space_new(&s);
    const cJSON *e;
    if (st == KZ_OK && !cJSON_IsArray(arr)) {
        st = bad(r, "space", "missing or not an array");
    }
    cJSON_ArrayForEach(e, arr)
    {
        if (st != KZ_OK) {
            break;
        }
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type"));
        const char *prior = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "prior"));
        double lo = NAN, hi = NAN;
        (void)get_num(e, "low", &lo);
        (void)get_num(e, "high", &hi);
        if (!name || !type) {
            st = bad(r, "space", "dimension without name or type");
        } else if (strcmp(type, "real") == 0) {
            int lg = prior && strcmp(prior, "log-uniform") == 0;
            st = kz_space_add_real(s, name, lo, hi, lg, r->err);
        } else if (strcmp(type, "integer") == 0) {
            st = isfinite(lo) && isfinite(hi)
                     ? kz_space_add_int(s, name, (int64_t)lo, (int64_t)hi, r->err)
                     : bad(r, name, "integer bounds missing");
        } else if (strcmp(type, "categorical") == 0) {
            const cJSON *cats = cJSON_GetObjectItemCaseSensitive(e, "categories");
            size_t nc = cJSON_IsArray(cats) ? (size_t)cJSON_GetArraySize(cats) : 0;
            const char **labels = kz_calloc(nc ? nc : 1, sizeof *labels);
            size_t k = 0;
            const cJSON *c;
            cJSON_ArrayForEach(c, cats)
            {
                if (labels) {
                    labels[k++] = cJSON_GetStringValue(c);
                }
            }
            st = labels ? kz_space_add_cat(s, name, labels, nc, r->err) : KZ_ERR_NOMEM;
            kz_free((void *)labels);
        } else {
            st = bad(r, name, "unknown dimension type");
        }
        if (st == KZ_ERR_INVALID && r->err) {
            snprintf(r->err->file, sizeof r->err->file, "%s", r->path);
        }
    }
    if (st == KZ_OK && s->n == 0) {
        st = bad(r, "space", "no dimension");
    }
    if (st != KZ_OK) {
        kz_space_free(s);
        s = NULL;
    }
    *out = s;
    return st;
}

static kz_status read_params(const reader *r, const cJSON *o, kz_bo_params *p)
{
    *p = kz_bo_params_default();
    const char *seed = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "seed"));
    const char *init = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "init"));
    const char *acq = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "acq"));
    char *end = NULL;
    if (!seed || !*seed) {
        return bad(r, "params.seed", "missing");
    }
    errno = 0;
    p->seed = (uint64_t)strtoull(seed, &end, 10);
    if (errno || *end) {
        return bad(r, "params.seed", "not an unsigned integer");
    }
    if (kz_init_parse(init, &p->init) != KZ_OK || kz_acq_parse(acq, &p->acq) != KZ_OK) {
        return bad(r, "params", "unknown init or acq");
    }
    if (!get_count(o, "n_initial", &p->n_initial) || !get_num(o, "xi", &p->xi) ||
        !get_num(o, "kappa", &p->kappa) || !get_num(o, "hedge_eta", &p->hedge_eta) ||
        !get_count(o, "n_candidates", &p->n_candidates) || !get_count(o, "n_local", &p->n_local) ||
        !get_count(o, "n_restarts", &p->n_restarts)) {
        return bad(r, "params", "a numeric field is missing or invalid");
    }
    kz_status st = kz_bo_params_check(p, r->err);
    if (st != KZ_OK && r->err) {
        snprintf(r->err->file, sizeof r->err->file, "%s", r->path);
    }
    return st;
}

static kz_status read_state(const reader *r, const cJSON *o, kz_bo *bo)
{
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "fallback_reason"));
    if (!get_count(o, "n_asked", &bo->n_asked) || !get_count(o, "n_batches", &bo->n_batches) ||
        !get_count(o, "n_fallback", &bo->n_fallback) ||
        !get_array(o, "hedge_gains", bo->gains, BO_N_HEDGE)) {
        return bad(r, "state", "counters or hedge_gains missing");
    }
    snprintf(bo->fallback_reason, sizeof bo->fallback_reason, "%s", why ? why : "");
    if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "theta"))) {
        if (!get_array(o, "theta", bo->theta, bo->d + 2)) {
            return bad(r, "state.theta", "expected n_dims + 2 numbers");
        }
        bo->has_theta = 1;
    }
    if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "hedge_points"))) {
        if (!get_array(o, "hedge_points", bo->hedge_prev, BO_N_HEDGE * bo->d)) {
            return bad(r, "state.hedge_points", "expected 3 x n_dims numbers");
        }
        bo->has_hedge_prev = 1;
    }
    return KZ_OK;
}

static kz_status read_history(const reader *r, const cJSON *arr, kz_bo *bo, double *x)
{
    static const char *const srcs[] = {"initial", "model", "fallback", "user"};
    const cJSON *e;
    if (!cJSON_IsArray(arr)) {
        return bad(r, "history", "missing or not an array");
    }
    cJSON_ArrayForEach(e, arr)
    {
        double y, es, ss;
        const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "source"));
        unsigned k = 0;
        while (k < 4 && src && strcmp(src, srcs[k]) != 0) {
            k++;
        }
        if (!get_array(e, "x", x, bo->d) || !get_num(e, "value", &y) ||
            !get_num(e, "eval_s", &es) || !get_num(e, "suggest_s", &ss) || k == 4) {
            return bad(r, "history", "an entry lacks x, value, eval_s, suggest_s or source");
        }
        kz_error pe;
        if (kz_space_check_point(bo->space, x, &pe) != KZ_OK) {
            return bad(r, pe.field, "history point outside the space");
        }
        kz_status st = bo_append(bo, x, y, es, ss, (kz_bo_source)k);
        if (st != KZ_OK) {
            return set_err(r->err, st, r->path, "", "out of memory");
        }
    }
    return KZ_OK;
}

/* Line and column of a parse error position. */
static void locate(const char *text, const char *at, kz_error *err)
{
    long line = 1;
    int col = 1;
    for (const char *p = text; at && p < at; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (err) {
        err->line = line;
        err->column = col;
    }
}

kz_status kz_bo_load_json(const char *path, kz_bo **out, kz_error *err)
{
    if (!path || !out) {
        return set_err(err, KZ_ERR_INVALID, path, "", "NULL path or output");
    }
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    kz_status st = kz_read_file(path, 0, &text, &len, err);
    if (st != KZ_OK) {
        return st;
    }
    reader r = {path, err};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    kz_space *space = NULL;
    kz_bo *bo = NULL;
    double *x = NULL;
    if (!root) {
        st = set_err(err, KZ_ERR_PARSE, path, "", "malformed JSON");
        locate(text, end ? end : cJSON_GetErrorPtr(), err);
        goto done;
    }
    const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "format"));
    double ver = 0.0;
    if (!fmt || strcmp(fmt, FORMAT_NAME) != 0) {
        st = set_err(err, KZ_ERR_FORMAT, path, "format", "not a kizashi optimiser run");
        goto done;
    }
    if (!get_num(root, "version", &ver) || ver != FORMAT_VERSION) {
        st = set_err(err, KZ_ERR_FORMAT, path, "version", "unsupported version");
        goto done;
    }
    kz_bo_params p;
    if ((st = read_params(&r, cJSON_GetObjectItemCaseSensitive(root, "params"), &p)) != KZ_OK ||
        (st = read_space(&r, cJSON_GetObjectItemCaseSensitive(root, "space"), &space)) != KZ_OK) {
        goto done;
    }
    if ((st = bo_create(space, &p, &bo)) != KZ_OK) {
        space = NULL; /* owned (and freed) by bo_create */
        set_err(err, st, path, "", "could not create the optimiser");
        goto done;
    }
    space = NULL;
    x = kz_malloc_array(bo->d, sizeof *x);
    if (!x) {
        st = set_err(err, KZ_ERR_NOMEM, path, "", "out of memory");
        goto done;
    }
    if ((st = read_state(&r, cJSON_GetObjectItemCaseSensitive(root, "state"), bo)) != KZ_OK ||
        (st = read_history(&r, cJSON_GetObjectItemCaseSensitive(root, "history"), bo, x)) !=
            KZ_OK) {
        goto done;
    }
done:
    kz_free(x);
    cJSON_Delete(root);
    kz_free(text);
    kz_space_free(space);
    if (st != KZ_OK) {
        kz_bo_free(bo);
        bo = NULL;
    }
    *out = bo;
    return st;
}

/* ---------------------------------------------------------------- SVG plot */
enum { W = 720, H = 420, ML = 80, MR = 20, MT = 40, MB = 50 };

kz_status kz_bo_plot_svg(const kz_bo *bo, const char *path, kz_error *err)
{
    if (!bo || !path) {
        return set_err(err, KZ_ERR_INVALID, path, "", "NULL optimiser or path");
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < bo->n; i++) {
        if (!bo->recs[i].failed) {
            lo = fmin(lo, bo->recs[i].y);
            hi = fmax(hi, bo->recs[i].y);
        }
    }
    if (!isfinite(lo)) {
        lo = 0.0;
        hi = 1.0;
    }
    if (hi - lo < 1e-12) {
        hi = lo + 1.0;
    }
    double nx = bo->n > 1 ? (double)(bo->n - 1) : 1.0;
    size_t cap = 1024 + bo->n * 160;
    char *t = kz_malloc(cap);
    if (!t) {
        return set_err(err, KZ_ERR_NOMEM, path, "", "out of memory");
    }
    size_t len = 0;
#define PUT(...) len += (size_t)snprintf(t + len, len < cap ? cap - len : 0, __VA_ARGS__)
    PUT("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n",
        W, H);
    PUT("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    PUT("<text x=\"%d\" y=\"24\" font-size=\"15\">Convergence: best value so far (line), every "
        "evaluation (dots)</text>\n",
        ML);
    PUT("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", ML,
        MT, W - ML - MR, H - MT - MB);
    PUT("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.6g</text>\n", ML - 6, MT + 4, hi);
    PUT("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.6g</text>\n", ML - 6, H - MB, lo);
    PUT("<text x=\"%d\" y=\"%d\">0</text>\n", ML, H - MB + 18);
    PUT("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%zu</text>\n", W - MR, H - MB + 18,
        bo->n ? bo->n - 1 : 0);
    PUT("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">evaluation</text>\n", (ML + W - MR) / 2,
        H - 12);
    double sx = (double)(W - ML - MR) / nx, sy = (double)(H - MT - MB) / (hi - lo);
    for (size_t i = 0; i < bo->n; i++) {
        if (!bo->recs[i].failed) {
            PUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#888\"/>\n", ML + sx * (double)i,
                MT + sy * (hi - bo->recs[i].y));
        }
    }
    PUT("<polyline fill=\"none\" stroke=\"#c00\" stroke-width=\"2\" points=\"");
    for (size_t i = 0; i < bo->n; i++) {
        if (!isnan(bo->recs[i].best_y)) {
            PUT("%.1f,%.1f ", ML + sx * (double)i, MT + sy * (hi - bo->recs[i].best_y));
        }
    }
    PUT("\"/>\n</svg>\n");
#undef PUT
    kz_status st = len < cap ? write_text(path, t, err)
                             : set_err(err, KZ_ERR_INTERNAL, path, "", "plot buffer too small");
    kz_free(t);
    return st;
}
