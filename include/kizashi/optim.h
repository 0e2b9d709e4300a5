/* kizashi optim: Bayesian optimisation with a Gaussian-process surrogate (Matern 5/2 ARD) over a
 * named search space of real / integer / categorical dimensions; ask/tell and a callback driver,
 * JSON save + exact resume, an SVG convergence plot, standard test functions and a benchmark.
 * Thread contract: a kz_space or kz_bo is used from one thread at a time; calls on different
 * objects are independent (no globals). Results do not depend on any thread count. */
#ifndef KIZASHI_OPTIM_H
#define KIZASHI_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/core.h"
#include "kizashi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- search space */
/* A point is `n_dims` doubles in user units: the real value, the integer value (integral
 * double), or the 0-based category index (as a double) for a categorical dimension. */
typedef enum kz_dim_kind { KZ_DIM_REAL, KZ_DIM_INT, KZ_DIM_CAT } kz_dim_kind;

typedef struct kz_space kz_space;

/* Description of one dimension; `name` is a view valid while the space lives. */
typedef struct kz_dim_info {
    const char *name;
    kz_dim_kind kind;
    double low, high;    /* bounds (inclusive); categorical: 0 and n_categories - 1 */
    int log_uniform;     /* real only: sampled and modelled on log scale */
    size_t n_categories; /* categorical only, else 0 */
} kz_dim_info;

KZ_NODISCARD kz_status kz_space_new(kz_space **out);
void kz_space_free(kz_space *s);
/* Add a dimension (the space copies everything). Errors (KZ_ERR_INVALID, err->field = the name):
 * empty or duplicate name, non-finite bounds, low >= high (low > high for integers), log-uniform
 * with low <= 0, integers beyond +-2^53, fewer than 1 category, empty or duplicate category. */
KZ_NODISCARD kz_status kz_space_add_real(
    kz_space *s, const char *name, double low, double high, int log_uniform, kz_error *err);
KZ_NODISCARD kz_status
kz_space_add_int(kz_space *s, const char *name, int64_t low, int64_t high, kz_error *err);
KZ_NODISCARD kz_status kz_space_add_cat(kz_space *s,
                                        const char *name,
                                        const char *const *categories,
                                        size_t n_categories,
                                        kz_error *err);
size_t kz_space_n_dims(const kz_space *s);
/* KZ_ERR_RANGE when i >= n_dims. */
KZ_NODISCARD kz_status kz_space_dim(const kz_space *s, size_t i, kz_dim_info *out);
/* Category label k of dimension dim (view), or NULL when out of range / not categorical. */
const char *kz_space_category(const kz_space *s, size_t dim, size_t k);
/* Index of the dimension called `name`; KZ_ERR_NOT_FOUND otherwise. */
KZ_NODISCARD kz_status kz_space_find(const kz_space *s, const char *name, size_t *index);
/* Check that x (n_dims values) lies in the space: finite, in bounds, integral where it must be.
 * KZ_ERR_INVALID naming the dimension in err->field. */
KZ_NODISCARD kz_status kz_space_check_point(const kz_space *s, const double *x, kz_error *err);

/* ---------------------------------------------------------------- optimiser parameters */
typedef enum kz_acq_kind {
    KZ_ACQ_EI,    /* expected improvement (Jones et al. 1998) */
    KZ_ACQ_PI,    /* probability of improvement */
    KZ_ACQ_LCB,   /* lower confidence bound mu - kappa sigma (Srinivas et al. 2010) */
    KZ_ACQ_HEDGE, /* GP-Hedge portfolio of EI, PI, LCB (Hoffman et al. 2011) */
    KZ_ACQ_COUNT
} kz_acq_kind;

typedef enum kz_init_kind {
    KZ_INIT_RANDOM, /* uniform random points */
    KZ_INIT_LHS,    /* Latin hypercube */
    KZ_INIT_SOBOL,  /* Sobol (Joe-Kuo direction numbers, <= 21 dims), random shift */
    KZ_INIT_COUNT
} kz_init_kind;

typedef struct kz_bo_params {
    uint64_t seed;       /* every random draw derives from it (default 42) */
    size_t n_initial;    /* points of the initial design before the GP is used (default 10) */
    kz_init_kind init;   /* initial design (default KZ_INIT_SOBOL) */
    kz_acq_kind acq;     /* acquisition (default KZ_ACQ_EI) */
    double xi;           /* EI/PI margin in objective units, >= 0 (default 0.01, as skopt) */
    double kappa;        /* LCB exploration weight, >= 0 (default 1.96, as skopt) */
    double hedge_eta;    /* GP-Hedge learning rate, > 0 (default 1.0) */
    size_t n_candidates; /* random candidates scored per acquisition, >= 1 (default 2000) */
    size_t n_local;      /* bounded L-BFGS polishes from the best candidates (default 10) */
    size_t n_restarts;   /* random hyper-parameter starts screened per fit (default 16) */
} kz_bo_params;

kz_bo_params kz_bo_params_default(void);
/* KZ_ERR_INVALID naming the field in err. */
KZ_NODISCARD kz_status kz_bo_params_check(const kz_bo_params *p, kz_error *err);
/* "ei" "pi" "lcb" "hedge" / "random" "lhs" "sobol"; "?" when invalid. Parsers accept the same
 * names (case-insensitive) and return KZ_ERR_INVALID otherwise. */
const char *kz_acq_str(kz_acq_kind a);
KZ_NODISCARD kz_status kz_acq_parse(const char *s, kz_acq_kind *out);
const char *kz_init_str(kz_init_kind k);
KZ_NODISCARD kz_status kz_init_parse(const char *s, kz_init_kind *out);

/* ---------------------------------------------------------------- optimiser */
typedef struct kz_bo kz_bo;

/* Where an evaluated point came from. */
typedef enum kz_bo_source {
    KZ_BO_SRC_INITIAL,  /* initial design */
    KZ_BO_SRC_MODEL,    /* maximiser of the acquisition on the GP */
    KZ_BO_SRC_FALLBACK, /* seeded random point because the GP could not be fitted */
    KZ_BO_SRC_USER      /* told without having been suggested */
} kz_bo_source;

/* One evaluation of the history (views valid until the next mutating call). */
typedef struct kz_bo_eval {
    size_t iteration;    /* 0-based evaluation index */
    const double *x;     /* n_dims values, user units */
    double y;            /* objective value; NaN when the evaluation failed */
    int failed;          /* the objective reported a failure or a non-finite value */
    double eval_s;       /* seconds spent in the objective (as told) */
    double suggest_s;    /* seconds the optimiser spent producing the point (fit + acquisition) */
    double best_y;       /* convergence trace: best value over evaluations 0..iteration (NaN if
                            none succeeded yet) */
    kz_bo_source source; /* how the point was produced */
} kz_bo_eval;

typedef struct kz_bo_summary {
    size_t n_evals;              /* evaluations told */
    size_t n_failed;             /* of which failed */
    size_t n_fallback;           /* suggestions made by the random-search fallback */
    int has_best;                /* 0 when no evaluation succeeded */
    size_t best_iteration;       /* index of the best evaluation */
    double best_y;               /* best (lowest) value */
    const double *best_x;        /* view, n_dims values; NULL when !has_best */
    uint64_t seed;               /* the run's seed */
    const char *fallback_reason; /* why the GP was last unusable ("" if never); view */
} kz_bo_summary;

/* Create an optimiser over a copy of `space` (borrowed). *out NULL on failure. */
KZ_NODISCARD kz_status kz_bo_new(const kz_space *space,
                                 const kz_bo_params *p,
                                 kz_bo **out,
                                 kz_error *err);
void kz_bo_free(kz_bo *bo);
/* The optimiser's space (view) and last error message (never NULL). */
const kz_space *kz_bo_space(const kz_bo *bo);
const char *kz_bo_errmsg(const kz_bo *bo);

/* Ask: write q >= 1 points (q * n_dims doubles, written) to evaluate next. Points from earlier
 * suggestions that were not told yet are treated as pending (constant liar: the best value seen).
 * Seeded: the same sequence of calls gives the same points. */
KZ_NODISCARD kz_status kz_bo_suggest(kz_bo *bo, size_t q, double *x);
/* Tell: the value y at x (n_dims, borrowed, must lie in the space). A NaN/inf y records a failed
 * evaluation (the GP sees the worst value observed so far there). eval_s = objective seconds. */
KZ_NODISCARD kz_status kz_bo_observe(kz_bo *bo, const double *x, double y, double eval_s);

/* Objective: write f(x) to *y and return 0; any non-zero return (or non-finite *y) is a failed
 * evaluation, recorded and not fatal. x is n_dims values in user units. */
typedef int (*kz_bo_objective)(const double *x, void *ud, double *y);

/* Run until `n_evals` evaluations are in the history (so a loaded run continues where it stopped),
 * suggesting q points at a time and evaluating them in order. */
KZ_NODISCARD kz_status
kz_bo_minimize(kz_bo *bo, kz_bo_objective f, void *ud, size_t n_evals, size_t q);

size_t kz_bo_n_evals(const kz_bo *bo);
/* KZ_ERR_RANGE when i >= n_evals. */
KZ_NODISCARD kz_status kz_bo_eval_get(const kz_bo *bo, size_t i, kz_bo_eval *out);
void kz_bo_summary_get(const kz_bo *bo, kz_bo_summary *out);
/* The GP hyper-parameters of the last fit: theta = (log signal variance, log length scale per
 * dimension, log noise variance), n_dims + 2 values written; KZ_ERR_NOT_FOUND before any fit. */
KZ_NODISCARD kz_status kz_bo_gp_theta(const kz_bo *bo, double *theta);

/* Save the run (space, params, optimiser state, best, history, convergence) as JSON; loading it
 * gives an optimiser that continues exactly as the uninterrupted run would (save between batches:
 * pending suggestions are not saved). Errors in kz_bo_errmsg / err. */
KZ_NODISCARD kz_status kz_bo_save_json(const kz_bo *bo, const char *path, kz_error *err);
KZ_NODISCARD kz_status kz_bo_load_json(const char *path, kz_bo **out, kz_error *err);
/* Write an SVG plot of the convergence trace (best so far) and every value. */
KZ_NODISCARD kz_status kz_bo_plot_svg(const kz_bo *bo, const char *path, kz_error *err);

/* ---------------------------------------------------------------- test functions, benchmark */
#define KZ_TESTFN_MAX_DIMS 6

typedef struct kz_testfn {
    const char *name; /* "branin" "hartmann3" "hartmann6" "rosenbrock" */
    size_t n_dims;
    double low[KZ_TESTFN_MAX_DIMS], high[KZ_TESTFN_MAX_DIMS];
    double f_min; /* known global minimum */
    double (*f)(const double *x);
} kz_testfn;

/* The built-in test functions (static table); NULL when unknown. */
const kz_testfn *kz_testfn_get(const char *name);
/* Real uniform space x0..x{n-1} over the function's box (written *out, free with kz_space_free). */
KZ_NODISCARD kz_status kz_testfn_space(const kz_testfn *fn, kz_space **out);

typedef struct kz_bo_bench_params {
    const char *const *functions; /* names; NULL = {"branin", "hartmann6"} */
    size_t n_functions;
    size_t n_seeds;     /* default 10 (seeds 1..n_seeds) */
    size_t n_evals_lo;  /* first checkpoint (default 50) */
    size_t n_evals_hi;  /* second checkpoint (default 100) */
    kz_bo_params bo;    /* optimiser settings (seed overwritten per run) */
    kz_log_fn progress; /* optional: one INFO message per finished run */
    void *progress_ud;
} kz_bo_bench_params;

typedef struct kz_bo_bench_row {
    const char *function; /* static name */
    size_t n_seeds;
    double f_min;
    double best_med[2], best_min[2], best_max[2]; /* after n_evals_lo / n_evals_hi */
    double gap_med[2];                            /* median of best - f_min */
    double ms_med[2]; /* median ms per iteration (fit + acquisition) at lo / hi observations */
} kz_bo_bench_row;

kz_bo_bench_params kz_bo_bench_params_default(void);
/* Run the benchmark; rows (n_functions entries, written). */
KZ_NODISCARD kz_status kz_bo_bench_run(const kz_bo_bench_params *p, kz_bo_bench_row *rows);
/* Format the table (with the scikit-optimize reference and targets) into buf like
 * snprintf: returns the length the full text needs. */
size_t kz_bo_bench_format(const kz_bo_bench_params *p,
                          const kz_bo_bench_row *rows,
                          size_t n_rows,
                          char *buf,
                          size_t size);

#ifdef __cplusplus
}
#endif
#endif
