/* Indicator registry: concatenates the group tables, validates parameters and inputs, runs batch
 * kernels with one scratch allocation, and drives streaming (O(1) states or a generic fallback). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cycle_int.h"
#include "ta_int.h"

/* ---------------------------------------------------------------- table access */

enum { N_GROUPS = 4 };

/* The group tables are extern constants defined in other translation units, so they cannot sit
 * in a static initializer: look them up through a switch. */
static const kz_ta_info *group_table(int g, size_t *count)
{
    switch (g) {
    case 0:
        *count = kz_ta_overlap_count;
        return kz_ta_overlap_table;
    case 1:
        *count = kz_ta_momentum_count;
        return kz_ta_momentum_table;
    case 2:
        *count = kz_ta_volatility_count;
        return kz_ta_volatility_table;
    default:
        *count = kz_ta_cycle_count;
        return kz_ta_cycle_table;
    }
}

size_t kz_ta_count(void)
{
    size_t total = 0;
    for (int g = 0; g < N_GROUPS; g++) {
        size_t c;
        if (group_table(g, &c)) {
            total += c;
        }
    }
    return total;
}

const kz_ta_info *kz_ta_at(size_t i)
{
    for (int g = 0; g < N_GROUPS; g++) {
        size_t c;
        const kz_ta_info *t = group_table(g, &c);
        if (!t) {
            continue;
        }
        if (i < c) {
            return &t[i];
        }
        i -= c;
    }
    return NULL;
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int equal_nocase(const char *a, const char *b)
{
    while (*a && *b) {
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b)) {
            return 0;
        }
        a++;
        b++;
    }
    return *a == *b;
}

const kz_ta_info *kz_ta_find(const char *name)
{
    if (!name) {
        return NULL;
    }
    size_t n = kz_ta_count();
    for (size_t i = 0; i < n; i++) {
        const kz_ta_info *info = kz_ta_at(i);
        if (equal_nocase(info->name, name)) {
            return info;
        }
    }
    return NULL;
}

int kz_ta_param_index(const kz_ta_info *info, const char *param_name)
{
    if (!info || !param_name) {
        return -1;
    }
    for (int k = 0; k < info->n_params; k++) {
        if (equal_nocase(info->params[k].name, param_name)) {
            return k;
        }
    }
    return -1;
}

void kz_ta_defaults(const kz_ta_info *info, double *params)
{
    if (!info || !params) {
        return;
    }
    for (int k = 0; k < info->n_params; k++) {
        params[k] = info->params[k].def;
    }
}

/* ---------------------------------------------------------------- validation */

kz_status kz_ta_params_check(const kz_ta_info *info, const double *params, kz_error *err)
{
    if (!info) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, NULL, "no indicator");
    }
    if (info->n_params > 0 && !params) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, NULL, "%s: no parameters given",
                            info->name);
    }
    for (int k = 0; k < info->n_params; k++) {
        const kz_ta_param *p = &info->params[k];
        double v = params[k];
        if (!isfinite(v)) {
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, p->name,
                                "%s: %s must be a finite number", info->name, p->name);
        }
        if (v < p->min || v > p->max) {
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, p->name,
                                "%s: %s = %g is outside [%g, %g]", info->name, p->name, v, p->min,
                                p->max);
        }
        if (p->type != KZ_PARAM_REAL && v != floor(v)) {
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, p->name,
                                "%s: %s = %g must be an integer", info->name, p->name, v);
        }
    }
    if (info->check) {
        char msg[256] = "";
        int bad = info->check(params, msg, sizeof msg);
        if (bad > 0) {
            const char *field = bad <= info->n_params ? info->params[bad - 1].name : NULL;
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, field, "%s: %s", info->name, msg);
        }
    }
    if (err) {
        kz_error_clear(err);
    }
    return KZ_OK;
}

int kz_ta_lookback(const kz_ta_info *info, const double *params)
{
    return info->lookback(params);
}

static const char *input_name(kz_ta_input in)
{
    switch (in) {
    case KZ_IN_OPEN:
        return "open";
    case KZ_IN_HIGH:
        return "high";
    case KZ_IN_LOW:
        return "low";
    case KZ_IN_CLOSE:
        return "close";
    case KZ_IN_VOLUME:
        return "volume";
    }
    return "input";
}

/* Index of the first non-finite value of x[0..n), n if all are finite. */
static size_t first_nonfinite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            return i;
        }
    }
    return n;
}

/* KZ_ERR_INVALID for input column k (kind `in`) of `name` holding a non-finite value at bar i. */
static kz_status nonfinite_error(kz_error *err, const char *name, kz_ta_input in, int k, size_t i)
{
    kz_status st = kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, input_name(in),
                                "%s: non-finite %s at bar %zu", name, input_name(in), i);
    if (err) {
        err->line = (long)(i + 1);
        err->column = k + 1;
    }
    return st;
}

static kz_status
inputs_check(const kz_ta_info *info, size_t n, const double *const *in, kz_error *err)
{
    for (int k = 0; k < info->n_inputs; k++) {
        if (n > 0 && !in[k]) {
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, input_name(info->inputs[k]),
                                "%s: no %s column", info->name, input_name(info->inputs[k]));
        }
        size_t bad = first_nonfinite(in[k], n);
        if (bad < n) {
            return nonfinite_error(err, info->name, info->inputs[k], k, bad);
        }
    }
    return KZ_OK;
}

/* Run the kernel on n bars with caller scratch. Kernels are only called with n > lookback: when
 * there is no full window the outputs are simply all NaN. */
static void run_kernel(const kz_ta_info *info,
                       size_t n,
                       const double *const *in,
                       const double *params,
                       double *const *out,
                       double *work)
{
    int lb = info->lookback(params);
    if (lb < 0 || n <= (size_t)lb) {
        for (int j = 0; j < info->n_outputs; j++) {
            kz_ta_nan_fill(out[j], n, n);
        }
        return;
    }
    info->batch(n, in, params, out, work);
}

static size_t work_doubles(const kz_ta_info *info, size_t n, const double *params)
{
    return info->work_size ? info->work_size(n, params) : 0;
}

kz_status kz_ta_run(const kz_ta_info *info,
                    size_t n,
                    const double *const *in,
                    const double *params,
                    double *const *out,
                    kz_error *err)
{
    kz_status st = kz_ta_params_check(info, params, err);
    if (st != KZ_OK) {
        return st;
    }
    if (n > 0 && (!in || !out)) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, NULL, "%s: NULL input or output array",
                            info->name);
    }
    for (int j = 0; n > 0 && j < info->n_outputs; j++) {
        if (!out[j]) {
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, info->outputs[j],
                                "%s: NULL output %s", info->name, info->outputs[j]);
        }
    }
    if (n == 0) {
        return KZ_OK;
    }
    st = inputs_check(info, n, in, err);
    if (st != KZ_OK) {
        return st;
    }
    size_t nw = work_doubles(info, n, params);
    double *work = NULL;
    if (nw > 0) {
        work = kz_malloc_array(nw, sizeof(double));
        if (!work) {
            return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL,
                                "%s: cannot allocate %zu scratch values", info->name, nw);
        }
    }
    run_kernel(info, n, in, params, out, work);
    kz_free(work);
    return KZ_OK;
}

/* Validate request r of a kz_ta_run_many call (everything but the input values). */
static kz_status
request_check(size_t n, const double *const *bars, const kz_ta_request *r, kz_error *err)
{
    if (!r->info) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, NULL, "request without an indicator");
    }
    kz_status st = kz_ta_params_check(r->info, r->params, err);
    if (st != KZ_OK || n == 0) {
        return st;
    }
    if (!r->out || !bars) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, NULL, "%s: NULL input or output array",
                            r->info->name);
    }
    for (int j = 0; j < r->info->n_outputs; j++) {
        if (!r->out[j]) {
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, r->info->outputs[j],
                                "%s: NULL output %s", r->info->name, r->info->outputs[j]);
        }
    }
    for (int k = 0; k < r->info->n_inputs; k++) {
        if (!bars[r->info->inputs[k]]) {
            const char *name = input_name(r->info->inputs[k]);
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, name, "%s: no %s column",
                                r->info->name, name);
        }
    }
    return KZ_OK;
}

kz_status kz_ta_run_many(
    size_t n, const double *const *bars, const kz_ta_request *req, size_t count, kz_error *err)
{
    if (count > 0 && !req) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, NULL, "NULL request array");
    }
    size_t nw = 0;
    int used[KZ_TA_MAX_INPUTS] = {0}; /* request + 1 of the first reader of each column */
    for (size_t r = 0; r < count; r++) {
        kz_status st = request_check(n, bars, &req[r], err);
        if (st != KZ_OK) {
            return st;
        }
        for (int k = 0; k < req[r].info->n_inputs; k++) {
            if (!used[req[r].info->inputs[k]]) {
                used[req[r].info->inputs[k]] = (int)r + 1;
            }
        }
        size_t w = work_doubles(req[r].info, n, req[r].params);
        nw = w > nw ? w : nw;
    }
    if (n == 0 || count == 0) {
        return KZ_OK;
    }
    for (int c = 0; c < KZ_TA_MAX_INPUTS; c++) {
        size_t bad = used[c] ? first_nonfinite(bars[c], n) : n;
        if (bad < n) {
            const kz_ta_info *first = req[used[c] - 1].info;
            int k = 0;
            while (first->inputs[k] != (kz_ta_input)c) {
                k++;
            }
            return nonfinite_error(err, first->name, (kz_ta_input)c, k, bad);
        }
    }
    double *work = NULL;
    unsigned char *done = kz_calloc(count, 1);
    if (!done || (nw > 0 && !(work = kz_malloc_array(nw, sizeof(double))))) {
        kz_free(done);
        return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL,
                            "cannot allocate scratch for %zu indicators", count);
    }
    if (bars[KZ_IN_CLOSE]) {
        kz_ht_run_shared(n, bars[KZ_IN_CLOSE], req, count, done);
    }
    for (size_t r = 0; r < count; r++) {
        if (done[r]) {
            continue;
        }
        const double *in[KZ_TA_MAX_INPUTS];
        for (int k = 0; k < req[r].info->n_inputs; k++) {
            in[k] = bars[req[r].info->inputs[k]];
        }
        run_kernel(req[r].info, n, in, req[r].params, req[r].out, work);
    }
    kz_free(work);
    kz_free(done);
    if (err) {
        kz_error_clear(err);
    }
    return KZ_OK;
}

/* ---------------------------------------------------------------- streaming
 * Indicators with state_* functions step an O(1) state. The others use the generic fallback:
 * the stream keeps every input bar in growable columns and re-runs the batch kernel over the
 * whole history at each push, returning the last row. That is exact (the same kernel, the same
 * operations) but costs O(history) per bar; kz_ta_stream_is_o1() tells which path is used. */

struct kz_ta_stream {
    const kz_ta_info *info;
    double params[KZ_TA_MAX_PARAMS];
    void *state; /* O(1) path */
    /* fallback path: history of n bars, capacity cap; outputs and scratch sized to cap */
    size_t n, cap, work_cap;
    double *hist[KZ_TA_MAX_INPUTS];
    double *outs[KZ_TA_MAX_OUTPUTS];
    double *work;
};

kz_status
kz_ta_stream_new(const kz_ta_info *info, const double *params, kz_ta_stream **out, kz_error *err)
{
    if (!out) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, NULL, "NULL output pointer");
    }
    *out = NULL;
    kz_status st = kz_ta_params_check(info, params, err);
    if (st != KZ_OK) {
        return st;
    }
    kz_ta_stream *s = kz_calloc(1, sizeof *s);
    if (!s) {
        return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL, "%s: cannot allocate a stream",
                            info->name);
    }
    s->info = info;
    for (int k = 0; k < info->n_params; k++) {
        s->params[k] = params[k];
    }
    if (info->state_size && info->state_init && info->state_step) {
        size_t sz = info->state_size(s->params);
        s->state = kz_malloc(sz > 0 ? sz : 1);
        if (!s->state) {
            kz_free(s);
            return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL,
                                "%s: cannot allocate %zu bytes of state", info->name, sz);
        }
        info->state_init(s->state, s->params);
    }
    *out = s;
    return KZ_OK;
}

int kz_ta_stream_is_o1(const kz_ta_stream *s)
{
    return s && s->state != NULL;
}

/* Grow the fallback buffers to hold at least `need` bars. On failure nothing observable
 * changes (buffers that did grow just keep their larger capacity). */
static kz_status fallback_reserve(kz_ta_stream *s, size_t need)
{
    const kz_ta_info *info = s->info;
    if (need > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) {
                return KZ_ERR_NOMEM;
            }
            cap *= 2;
        }
        for (int k = 0; k < info->n_inputs; k++) {
            double *p = kz_realloc_array(s->hist[k], cap, sizeof(double));
            if (!p) {
                return KZ_ERR_NOMEM;
            }
            s->hist[k] = p;
        }
        for (int j = 0; j < info->n_outputs; j++) {
            double *p = kz_realloc_array(s->outs[j], cap, sizeof(double));
            if (!p) {
                return KZ_ERR_NOMEM;
            }
            s->outs[j] = p;
        }
        s->cap = cap;
    }
    size_t nw = work_doubles(info, need, s->params);
    if (nw > s->work_cap) {
        size_t wc = nw < SIZE_MAX / 2 ? nw * 2 : nw;
        double *p = kz_realloc_array(s->work, wc, sizeof(double));
        if (!p) {
            return KZ_ERR_NOMEM;
        }
        s->work = p;
        s->work_cap = wc;
    }
    return KZ_OK;
}

kz_status kz_ta_stream_push(kz_ta_stream *s, const double *in, double *out)
{
    if (!s || (!in && s->info->n_inputs > 0) || !out) {
        return KZ_ERR_INVALID;
    }
    const kz_ta_info *info = s->info;
    for (int k = 0; k < info->n_inputs; k++) {
        if (!isfinite(in[k])) {
            return KZ_ERR_INVALID;
        }
    }
    if (s->state) {
        info->state_step(s->state, in, out);
        return KZ_OK;
    }
    if (s->n == SIZE_MAX || fallback_reserve(s, s->n + 1) != KZ_OK) {
        return KZ_ERR_NOMEM;
    }
    for (int k = 0; k < info->n_inputs; k++) {
        s->hist[k][s->n] = in[k];
    }
    s->n++;
    const double *cols[KZ_TA_MAX_INPUTS] = {NULL};
    for (int k = 0; k < info->n_inputs; k++) {
        cols[k] = s->hist[k];
    }
    run_kernel(info, s->n, cols, s->params, s->outs, s->work);
    for (int j = 0; j < info->n_outputs; j++) {
        out[j] = s->outs[j][s->n - 1];
    }
    return KZ_OK;
}

void kz_ta_stream_free(kz_ta_stream *s)
{
    if (!s) {
        return;
    }
    kz_free(s->state);
    for (int k = 0; k < KZ_TA_MAX_INPUTS; k++) {
        kz_free(s->hist[k]);
    }
    for (int j = 0; j < KZ_TA_MAX_OUTPUTS; j++) {
        kz_free(s->outs[j]);
    }
    kz_free(s->work);
    kz_free(s);
}
