/* Internal declarations shared by the volatility, volume, statistic, price-transform and
 * math-operator indicators (volatility.c, volume.c, statistic.c, price.c) and their table. */
#ifndef KZ_MISC_INT_H
#define KZ_MISC_INT_H

#include "ta_int.h"

/* Every indicator of these groups is written once, as an O(1) streaming state machine
 * (size / init / step). Its batch kernel usually initialises the same state in the kernel's
 * scratch (`work`) and steps it over the bars, so batch and stream perform the same
 * floating-point operations in the same order and agree bit for bit by construction. The window
 * extremes (MAX, MIN, ...) have a faster batch kernel of their own (KZ_MISC_DEFINE_OWN_BATCH)
 * that finds the same bars (extreme_int.h) and shares the rest of the arithmetic. */

/* TA-Lib's zero tests (ta_utility.h, 0.6.4): |v| < 1e-8 and v < 1e-8. */
static inline int kz_misc_is_zero(double v)
{
    return -0.00000001 < v && v < 0.00000001;
}

static inline int kz_misc_is_zero_or_neg(double v)
{
    return v < 0.00000001;
}

/* The registry entry points of indicator `name`: batch kernel, scratch size and the streaming
 * state functions. */
#define KZ_MISC_DECL(name)                                                                         \
    void kz_misc_##name##_batch(size_t n, const double *const *in, const double *params,           \
                                double *const *out, double *work);                                 \
    size_t kz_misc_##name##_work(size_t n, const double *params);                                  \
    size_t kz_misc_##name##_size(const double *params);                                            \
    void kz_misc_##name##_init(void *state, const double *params);                                 \
    void kz_misc_##name##_step(void *state, const double *in, double *out)

/* Define the streaming entry points of `name` (size, init, step) from file-local state
 * functions. */
#define KZ_MISC_DEFINE_STATE(name, size_fn, init_fn, step_fn)                                      \
    size_t kz_misc_##name##_size(const double *params)                                             \
    {                                                                                              \
        return size_fn(params);                                                                    \
    }                                                                                              \
    void kz_misc_##name##_init(void *state, const double *params)                                  \
    {                                                                                              \
        init_fn(state, params);                                                                    \
    }                                                                                              \
    void kz_misc_##name##_step(void *state, const double *in, double *out)                         \
    {                                                                                              \
        step_fn(state, in, out);                                                                   \
    }

/* Define the entry points of `name` from file-local state functions (several indicators share
 * one state machine with a different init); batch = the state stepped over every bar. n_in /
 * n_out = the registry row's counts. */
#define KZ_MISC_DEFINE(name, size_fn, init_fn, step_fn, n_in, n_out)                               \
    KZ_MISC_DEFINE_STATE(name, size_fn, init_fn, step_fn)                                          \
    size_t kz_misc_##name##_work(size_t n, const double *params)                                   \
    {                                                                                              \
        (void)n;                                                                                   \
        return kz_ta_words(size_fn(params));                                                       \
    }                                                                                              \
    void kz_misc_##name##_batch(size_t n, const double *const *in, const double *params,           \
                                double *const *out, double *work)                                  \
    {                                                                                              \
        init_fn(work, params);                                                                     \
        kz_ta_drive(n, in, n_in, out, n_out, work, step_fn);                                       \
    }

/* The same for an indicator with its own batch kernel (work_fn, batch_fn: the registry's
 * kz_ta_work_fn / kz_ta_batch_fn), which must give the streaming state's outputs bit for bit. */
#define KZ_MISC_DEFINE_OWN_BATCH(name, size_fn, init_fn, step_fn, work_fn, batch_fn)               \
    KZ_MISC_DEFINE_STATE(name, size_fn, init_fn, step_fn)                                          \
    size_t kz_misc_##name##_work(size_t n, const double *params)                                   \
    {                                                                                              \
        return work_fn(n, params);                                                                 \
    }                                                                                              \
    void kz_misc_##name##_batch(size_t n, const double *const *in, const double *params,           \
                                double *const *out, double *work)                                  \
    {                                                                                              \
        batch_fn(n, in, params, out, work);                                                        \
    }

/* The same with a batch kernel that steps a local copy of the state's fixed part (TYPE; any
 * ring after it stays in `work`, where init_fn puts the whole state): the running sums then
 * live in registers, whereas in `work` they would make a store-to-load round trip every bar,
 * since the out[] stores may alias them. Same steps, same operations, one output. */
#define KZ_MISC_DEFINE_LOCAL(name, TYPE, size_fn, init_fn, step_fn, n_in)                          \
    static size_t name##_local_work(size_t n, const double *params)                                \
    {                                                                                              \
        (void)n;                                                                                   \
        return kz_ta_words(size_fn(params));                                                       \
    }                                                                                              \
    static void name##_local_batch(size_t n, const double *const *in, const double *params,        \
                                   double *const *out, double *work)                               \
    {                                                                                              \
        init_fn(work, params);                                                                     \
        TYPE s = *(TYPE *)(void *)work;                                                            \
        kz_ta_drive(n, in, n_in, out, 1, &s, step_fn);                                             \
    }                                                                                              \
    KZ_MISC_DEFINE_OWN_BATCH(name, size_fn, init_fn, step_fn, name##_local_work,                   \
                             name##_local_batch)

/* volatility.c */
KZ_MISC_DECL(atr);
KZ_MISC_DECL(natr);
KZ_MISC_DECL(trange);
/* volume.c */
KZ_MISC_DECL(ad);
KZ_MISC_DECL(adosc);
KZ_MISC_DECL(obv);
/* statistic.c */
KZ_MISC_DECL(beta);
KZ_MISC_DECL(correl);
KZ_MISC_DECL(linearreg);
KZ_MISC_DECL(linearreg_angle);
KZ_MISC_DECL(linearreg_intercept);
KZ_MISC_DECL(linearreg_slope);
KZ_MISC_DECL(stddev);
KZ_MISC_DECL(tsf);
KZ_MISC_DECL(var);
/* price.c: price transforms and math operators */
KZ_MISC_DECL(avgprice);
KZ_MISC_DECL(medprice);
KZ_MISC_DECL(typprice);
KZ_MISC_DECL(wclprice);
KZ_MISC_DECL(add);
KZ_MISC_DECL(div);
KZ_MISC_DECL(max);
KZ_MISC_DECL(maxindex);
KZ_MISC_DECL(min);
KZ_MISC_DECL(minindex);
KZ_MISC_DECL(minmax);
KZ_MISC_DECL(minmaxindex);
KZ_MISC_DECL(mult);
KZ_MISC_DECL(sub);
KZ_MISC_DECL(sum);

#endif
