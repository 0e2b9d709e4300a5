/* Search space of named dimensions (real uniform / log-uniform, integer, categorical): validation
 * with errors naming the dimension, and the encodings between user units, the unit cube and the
 * GP's unit coordinates. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "optim/optim_int.h"

#define INT_LIMIT 9007199254740992.0 /* 2^53: integers stay exact as doubles */

static kz_status fail(kz_error *err, const char *name, const char *msg)
{
    if (err) {
        kz_error_clear(err);
        err->code = KZ_ERR_INVALID;
        snprintf(err->field, sizeof err->field, "%s", name ? name : "");
        snprintf(err->msg, sizeof err->msg, "dimension '%s': %s", name ? name : "", msg);
    }
    return KZ_ERR_INVALID;
}

kz_status kz_space_new(kz_space **out)
{
    if (!out) {
        return KZ_ERR_INVALID;
    }
    *out = kz_calloc(1, sizeof **out);
    return *out ? KZ_OK : KZ_ERR_NOMEM;
}

static void dim_release(dim *d)
{
    kz_free(d->name);
    for (size_t k = 0; k < d->n_cats; k++) {
        kz_free(d->cats[k]);
    }
    kz_free(d->cats);
}

void kz_space_free(kz_space *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        dim_release(&s->dims[i]);
    }
    kz_free(s->dims);
    kz_free(s);
}

/* Common checks on the name; returns a slot (zeroed, name set) or NULL with err filled. */
static kz_status new_dim(kz_space *s, const char *name, dim **slot, kz_error *err)
{
    if (!s) {
        return fail(err, name, "space is NULL");
    }
    if (!name || !*name) {
        return fail(err, "", "empty name");
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->dims[i].name, name) == 0) {
            return fail(err, name, "duplicate name");
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        dim *nd = kz_realloc_array(s->dims, cap, sizeof *nd);
        if (!nd) {
            return KZ_ERR_NOMEM;
        }
        s->dims = nd;
        s->cap = cap;
    }
    dim *d = &s->dims[s->n];
    memset(d, 0, sizeof *d);
    d->name = kz_strdup(name);
    if (!d->name) {
        return KZ_ERR_NOMEM;
    }
    *slot = d;
    return KZ_OK;
}

kz_status kz_space_add_real(
    kz_space *s, const char *name, double low, double high, int log_uniform, kz_error *err)
{
    if (!isfinite(low) || !isfinite(high)) {
        return fail(err, name, "bounds must be finite");
    }
    if (!(low < high)) {
        return fail(err, name, "low must be < high");
    }
    if (log_uniform && !(low > 0.0)) {
        return fail(err, name, "log-uniform needs low > 0");
    }
    dim *d = NULL;
    kz_status st = new_dim(s, name, &d, err);
    if (st != KZ_OK) {
        return st;
    }
    d->kind = KZ_DIM_REAL;
    d->low = low;
    d->high = high;
    d->log_uniform = log_uniform ? 1 : 0;
    s->n++;
    return KZ_OK;
}

kz_status kz_space_add_int(kz_space *s, const char *name, int64_t low, int64_t high, kz_error *err)
{
    if (low > high) {
        return fail(err, name, "low must be <= high");
    }
    if (fabs((double)low) > INT_LIMIT || fabs((double)high) > INT_LIMIT) {
        return fail(err, name, "integer bounds must lie within +-2^53");
    }
    dim *d = NULL;
    kz_status st = new_dim(s, name, &d, err);
    if (st != KZ_OK) {
        return st;
    }
    d->kind = KZ_DIM_INT;
    d->low = (double)low;
    d->high = (double)high;
    s->n++;
    return KZ_OK;
}

kz_status kz_space_add_cat(kz_space *s,
                           const char *name,
                           const char *const *categories,
                           size_t n_categories,
                           kz_error *err)
{
    if (!categories || n_categories == 0) {
        return fail(err, name, "needs at least one category");
    }
    for (size_t k = 0; k < n_categories; k++) {
        if (!categories[k] || !*categories[k]) {
            return fail(err, name, "empty category label");
        }
        for (size_t j = 0; j < k; j++) {
            if (strcmp(categories[j], categories[k]) == 0) {
                return fail(err, name, "duplicate category label");
            }
        }
    }
    dim *d = NULL;
    kz_status st = new_dim(s, name, &d, err);
    if (st != KZ_OK) {
        return st;
    }
    d->kind = KZ_DIM_CAT;
    d->low = 0.0;
    d->high = (double)(n_categories - 1);
    d->cats = kz_calloc(n_categories, sizeof *d->cats);
    if (!d->cats) {
        dim_release(d);
        return KZ_ERR_NOMEM;
    }
    d->n_cats = n_categories;
    for (size_t k = 0; k < n_categories; k++) {
        d->cats[k] = kz_strdup(categories[k]);
        if (!d->cats[k]) {
            dim_release(d);
            return KZ_ERR_NOMEM;
        }
    }
    s->n++;
    return KZ_OK;
}

size_t kz_space_n_dims(const kz_space *s)
{
    return s ? s->n : 0;
}

kz_status kz_space_dim(const kz_space *s, size_t i, kz_dim_info *out)
{
    if (!s || !out) {
        return KZ_ERR_INVALID;
    }
    if (i >= s->n) {
        return KZ_ERR_RANGE;
    }
    const dim *d = &s->dims[i];
    out->name = d->name;
    out->kind = d->kind;
    out->low = d->low;
    out->high = d->high;
    out->log_uniform = d->log_uniform;
    out->n_categories = d->n_cats;
    return KZ_OK;
}

const char *kz_space_category(const kz_space *s, size_t i, size_t k)
{
    if (!s || i >= s->n || s->dims[i].kind != KZ_DIM_CAT || k >= s->dims[i].n_cats) {
        return NULL;
    }
    return s->dims[i].cats[k];
}

kz_status kz_space_find(const kz_space *s, const char *name, size_t *index)
{
    if (!s || !name || !index) {
        return KZ_ERR_INVALID;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->dims[i].name, name) == 0) {
            *index = i;
            return KZ_OK;
        }
    }
    return KZ_ERR_NOT_FOUND;
}

kz_status kz_space_check_point(const kz_space *s, const double *x, kz_error *err)
{
    if (!s || !x) {
        return fail(err, "", "NULL space or point");
    }
    for (size_t i = 0; i < s->n; i++) {
        const dim *d = &s->dims[i];
        if (!isfinite(x[i])) {
            return fail(err, d->name, "value is not finite");
        }
        if (x[i] < d->low || x[i] > d->high) {
            return fail(err, d->name, "value out of bounds");
        }
        if (d->kind != KZ_DIM_REAL && x[i] != floor(x[i])) {
            return fail(err, d->name, "value must be an integer (category index)");
        }
    }
    return KZ_OK;
}

kz_status space_copy(const kz_space *s, kz_space **out)
{
    kz_space *c = NULL;
    kz_status st = kz_space_new(&c);
    for (size_t i = 0; st == KZ_OK && i < s->n; i++) {
        const dim *d = &s->dims[i];
        if (d->kind == KZ_DIM_REAL) {
            st = kz_space_add_real(c, d->name, d->low, d->high, d->log_uniform, NULL);
        } else if (d->kind == KZ_DIM_INT) {
            st = kz_space_add_int(c, d->name, (int64_t)d->low, (int64_t)d->high, NULL);
        } else {
            st = kz_space_add_cat(c, d->name, (const char *const *)d->cats, d->n_cats, NULL);
        }
    }
    if (st != KZ_OK) {
        kz_space_free(c);
        c = NULL;
    }
    *out = c;
    return st;
}

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

void space_to_unit(const kz_space *s, const double *x, double *u)
{
    for (size_t i = 0; i < s->n; i++) {
        const dim *d = &s->dims[i];
        if (d->kind == KZ_DIM_CAT) {
            u[i] = x[i];
        } else if (d->kind == KZ_DIM_INT && d->high == d->low) {
            u[i] = 0.0;
        } else if (d->log_uniform) {
            u[i] = clamp01(log(x[i] / d->low) / log(d->high / d->low));
        } else {
            u[i] = clamp01((x[i] - d->low) / (d->high - d->low));
        }
    }
}

/* Real or integer value at unit coordinate u (before integer rounding). */
static double value_at(const dim *d, double u)
{
    if (d->log_uniform) {
        return d->low * exp(clamp01(u) * log(d->high / d->low));
    }
    return d->low + clamp01(u) * (d->high - d->low);
}

static double clamp_dim(const dim *d, double v)
{
    return v < d->low ? d->low : (v > d->high ? d->high : v);
}

void space_from_unit(const kz_space *s, const double *u, double *x)
{
    for (size_t i = 0; i < s->n; i++) {
        const dim *d = &s->dims[i];
        double v = d->kind == KZ_DIM_CAT ? nearbyint(u[i]) : value_at(d, u[i]);
        if (d->kind == KZ_DIM_INT) {
            v = nearbyint(v);
        }
        x[i] = clamp_dim(d, v);
    }
}

void space_from_cube(const kz_space *s, const double *c, double *x)
{
    for (size_t i = 0; i < s->n; i++) {
        const dim *d = &s->dims[i];
        if (d->kind == KZ_DIM_REAL) {
            x[i] = clamp_dim(d, value_at(d, c[i]));
        } else {
            /* equal-probability bins over the integers / categories */
            double span = d->high - d->low + 1.0;
            x[i] = clamp_dim(d, d->low + floor(c[i] * span));
        }
    }
}

void space_cat_mask(const kz_space *s, unsigned char *mask)
{
    for (size_t i = 0; i < s->n; i++) {
        mask[i] = s->dims[i].kind == KZ_DIM_CAT ? 1 : 0;
    }
}
