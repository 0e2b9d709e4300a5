/* Internal declarations of the optimiser module: space encoding, initial designs, the Gaussian
 * process, the acquisition maximiser and the optimiser object shared by bo.c and bo_json.c. */
#ifndef KZ_OPTIM_INT_H
#define KZ_OPTIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/core.h"
#include "kizashi/optim.h"

/* ---------------------------------------------------------------- space (space.c) */
typedef struct dim {
    char *name;
    kz_dim_kind kind;
    double low, high;
    int log_uniform;
    char **cats;
    size_t n_cats;
} dim;

struct kz_space {
    dim *dims;
    size_t n, cap;
};

/* The GP works in "unit" coordinates: reals and integers mapped to [0,1] (log scale for
 * log-uniform reals), categoricals kept as their index (the kernel compares them by equality). */
void space_to_unit(const kz_space *s, const double *x, double *u);
/* Decode unit coordinates to a point (integers rounded, reals clamped). */
void space_from_unit(const kz_space *s, const double *u, double *x);
/* Map a point of the cube [0,1)^d to the space (designs and random sampling). */
void space_from_cube(const kz_space *s, const double *c, double *x);
/* 1 per categorical dimension, else 0 (n_dims entries, written). */
void space_cat_mask(const kz_space *s, unsigned char *mask);
KZ_NODISCARD kz_status space_copy(const kz_space *s, kz_space **out);

/* ---------------------------------------------------------------- designs (design.c) */
#define KZ_SOBOL_MAX_DIMS 21
/* n points of the cube [0,1)^d (row-major, written) for the given design; rng drives the random
 * parts (LHS permutations and jitter, the Sobol random shift, random points). */
KZ_NODISCARD kz_status design_make(kz_init_kind kind, size_t n, size_t d, kz_rng *rng, double *c);
/* Unshifted Sobol point `index` (d <= KZ_SOBOL_MAX_DIMS), exposed for the tests. */
void sobol_point(uint64_t index, size_t d, double *out);

/* ---------------------------------------------------------------- Gaussian process (gp.c) */
typedef struct gp {
    size_t d;                    /* input dimensions */
    const unsigned char *is_cat; /* d flags (borrowed) */
    size_t n, cap;               /* observations, capacity */
    double *z;                   /* cap x d unit coordinates */
    double *y;                   /* cap normalised targets */
    double y_mean, y_sd;         /* target normalisation */
    double *theta;               /* d + 2: log sf2, log l_1..l_d, log sn2 */
    double sf2, sn2, jitter;     /* of the current factorisation */
    double *inv_l2;              /* d: 1 / l_p^2 */
    double *L;                   /* lower Cholesky factor of K (row-major, lda n; cap x cap) */
    double *alpha;               /* cap: K^-1 y */
    double *d2;                  /* pairs x d squared coordinate differences */
    double *km;                  /* pairs: kernel values sf2 * M(r) */
    double *gk;                  /* pairs: kernel derivative factor (likelihood gradient) */
    double *U;                   /* cap x cap scratch like L: K, then L^-1 (lower triangles) */
    double *kv, *w, *dk;         /* prediction scratch: cap, cap, d columns of n (stride n) */
    int factored;                /* L/alpha valid for theta */
} gp;

/* Hyper-parameter bounds (normalised targets, unit inputs). */
#define GP_SF2_MIN 1e-2
#define GP_SF2_MAX 1e2
#define GP_LS_MIN  1e-2
#define GP_LS_MAX  1e2
#define GP_SN2_MIN 1e-6
#define GP_SN2_MAX 1.0
/* Most observations the GP takes: OpenBLAS splits ddot across threads beyond 10000 (see gp.c),
 * and a likelihood evaluation would take minutes there anyway. */
#define GP_MAX_N 10000

KZ_NODISCARD kz_status gp_init(gp *g, size_t d, const unsigned char *is_cat);
void gp_release(gp *g);
/* Copy n points (unit coordinates) and raw targets; normalises targets. KZ_ERR_RANGE when
 * n > GP_MAX_N, KZ_ERR_NOMEM when the buffers cannot grow. */
KZ_NODISCARD kz_status gp_set_data(gp *g, const double *z, const double *y_raw, size_t n);
/* Log marginal likelihood at theta (Rasmussen & Williams 2006 eq. 5.8) and, when grad is not
 * NULL, its gradient (eq. 5.9). Leaves the factorisation of theta in g. -INFINITY on failure. */
double gp_lml(gp *g, const double *theta, double *grad);
/* Fit theta by maximising the likelihood: L-BFGS from the warm start (or the default) and from
 * the best of n_restarts random starts. 0 on success; otherwise why[] says what failed. */
int gp_fit(gp *g, const double *warm, size_t n_restarts, kz_rng *rng, char *why, size_t why_size);
/* Factorise with the current theta (after gp_set_data with extra liar points). 0 on success. */
int gp_refactor(gp *g);
/* Posterior mean and variance of the latent function at unit point z (normalised scale) and,
 * when dmu/dvar are not NULL, their gradients in the d coordinates. */
void gp_predict(gp *g, const double *z, double *mu, double *var, double *dmu, double *dvar);

/* ---------------------------------------------------------------- acquisition (acq.c) */
typedef struct acq_setup {
    kz_acq_kind kind; /* EI, PI or LCB (never HEDGE here) */
    double y_best;    /* best normalised target */
    double xi;        /* margin on the normalised scale */
    double kappa;
    size_t n_candidates, n_local;
} acq_setup;

/* Maximise the acquisition over the space: score n_candidates random points (from rng), polish
 * the best n_local (and the incumbent `start`, unit coords, may be NULL) with bounded L-BFGS over
 * the non-categorical coordinates, and return in u_best (unit coords) the best point that is not
 * in `avoid` (n_avoid unit points). Returns the acquisition value there. */
double acq_maximise(gp *g,
                    const acq_setup *a,
                    const kz_space *s,
                    kz_rng *rng,
                    const double *start,
                    const double *avoid,
                    size_t n_avoid,
                    double *u_best);
/* Acquisition value (to maximise) at unit point z; when grad != NULL its gradient (d values),
 * using scratch (2 d doubles). */
double acq_value(gp *g, const acq_setup *a, const double *z, double *grad, double *scratch);

/* ---------------------------------------------------------------- optimiser (bo.c) */
typedef struct bo_rec {
    double y;
    int failed;
    double eval_s, suggest_s, best_y;
    kz_bo_source source;
} bo_rec;

typedef struct bo_pending {
    double *x;
    double suggest_s;
    kz_bo_source source;
} bo_pending;

#define BO_N_HEDGE 3

struct kz_bo {
    kz_space *space;
    kz_bo_params p;
    size_t d;
    unsigned char *is_cat;
    double *init; /* n_initial x d design points (user units) */
    /* history */
    size_t n, cap;
    double *xs; /* cap x d */
    bo_rec *recs;
    /* pending suggestions (told later) */
    bo_pending *pend;
    size_t n_pend, cap_pend;
    /* state that must survive save/load for an exact resume */
    size_t n_asked, n_batches, n_fallback;
    int has_theta;
    double *theta; /* d + 2 */
    double gains[BO_N_HEDGE];
    int has_hedge_prev;
    double *hedge_prev; /* BO_N_HEDGE x d unit points chosen by each acquisition last time */
    char fallback_reason[160];
    /* work */
    gp g;
    char errmsg[256];
};

/* Allocate an optimiser from validated parts (used by kz_bo_new and the JSON loader). */
KZ_NODISCARD kz_status bo_create(kz_space *owned_space, const kz_bo_params *p, kz_bo **out);
/* Append one evaluation as kz_bo_observe does, with its source and timing. */
KZ_NODISCARD kz_status
bo_append(kz_bo *bo, const double *x, double y, double eval_s, double suggest_s, kz_bo_source src);
const char *bo_source_str(kz_bo_source s);

#endif
