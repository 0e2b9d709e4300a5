/* Streaming (one value at a time) states behind the rolling primitives of kizashi/ta.h; the batch
 * functions in rolling.c are loops over these pushes, so batch and stream are bit-identical.
 *
 * DESIGN. Every windowed state keeps the last w inputs in a ring inside caller-provided memory
 * (kz_r*_mem(w) bytes, 8-aligned, borrowed: it must outlive the state; a state must not be copied
 * to another address while it points at its memory). Semantics follow pandas rolling(w) with
 * min_periods = w: the value is NaN until w inputs were pushed and while the window holds a NaN.
 * Like pandas (Window._prep_values), +-inf is treated as NaN by every rolling and EWM state.
 * Moment states (sum, var, corr, slope) update in O(1) per push and recompute their accumulators
 * exactly from the ring at the push that fills the window and then at ring wraps (var, corr:
 * every wrap; sum, slope: about every max(w, 1024) pushes), so rounding drift never spans more
 * than that many updates (amortised O(1)).
 * Preconditions of the init functions are those of the batch functions (w >= 1, ...); they are
 * not re-checked. Thread contract: a state belongs to one thread at a time. */
#ifndef KZ_ROLLING_INT_H
#define KZ_ROLLING_INT_H

#include <stddef.h>
#include <stdint.h>

/* The last w values; n_bad counts the non-finite ones currently held; refresh says whether the
 * last push is one where the moment states recompute exactly (every `period` wraps). */
typedef struct kz_ring {
    double *buf;
    size_t w, pos, filled, n_bad;
    size_t period, countdown;
    int refresh;
} kz_ring;

/* Running rolling sum of the finite values (Neumaier-compensated exact recomputation). */
typedef struct kz_rsum_state {
    kz_ring r;
    double sum, comp;
} kz_rsum_state;
size_t kz_rsum_mem(size_t w);
void kz_rsum_init(kz_rsum_state *s, size_t w, void *mem);
/* Returns the window sum (NaN during warm-up / with a NaN in the window). */
double kz_rsum_push(kz_rsum_state *s, double x);
/* The mean of the window after the last push. */
double kz_rsum_mean(const kz_rsum_state *s);

/* Welford moments of (x - shift): the shift is the window mean at the last exact recomputation,
 * so the accumulators see deviations (~ the window's spread), not levels (~1e5 for prices). */
typedef struct kz_moments {
    double shift, mean, m2;
} kz_moments;

/* Rolling variance with ddof (Welford add/remove on shifted data + periodic recomputation). */
typedef struct kz_rvar_state {
    kz_ring r;
    kz_moments m;
    size_t n_ok; /* finite values in the window */
    size_t run;  /* length of the run of equal values ending at the last push */
    double last;
    int ddof;
} kz_rvar_state;
size_t kz_rvar_mem(size_t w);
void kz_rvar_init(kz_rvar_state *s, size_t w, int ddof, void *mem);
/* Returns the variance (0 exactly when all w values are equal, as pandas). */
double kz_rvar_push(kz_rvar_state *s, double x);

/* Rolling Pearson correlation of (x, y) pairs. */
typedef struct kz_rcorr_state {
    kz_ring rx, ry;
    kz_moments mx, my;
    double cxy;
    size_t n_ok;
    size_t run_x, run_y;
    double last_x, last_y;
} kz_rcorr_state;
size_t kz_rcorr_mem(size_t w);
void kz_rcorr_init(kz_rcorr_state *s, size_t w, void *mem);
/* Returns corr; NaN when either side is constant over the window. */
double kz_rcorr_push(kz_rcorr_state *s, double x, double y);

/* Rolling OLS slope against 0..w-1 (w >= 2): keeps S = sum z and N = sum (j - (w-1)/2) z_j of
 * the shifted values z = x - shift; slope = N / (w (w^2 - 1) / 12). */
typedef struct kz_rslope_state {
    kz_ring r;
    double shift, s, num;
} kz_rslope_state;
size_t kz_rslope_mem(size_t w);
void kz_rslope_init(kz_rslope_state *s, size_t w, void *mem);
double kz_rslope_push(kz_rslope_state *s, double x);

/* Rolling min or max by a monotonic deque of (value, absolute index); ties -> the most recent. */
typedef struct kz_rext_entry {
    double v;
    uint64_t t;
} kz_rext_entry;
typedef struct kz_rext_state {
    kz_rext_entry *q;
    size_t w, head, len;
    uint64_t t;        /* number of pushes so far */
    uint64_t last_bad; /* 1 + absolute index of the last non-finite input (0 = none) */
    int is_max;
} kz_rext_state;
size_t kz_rext_mem(size_t w);
void kz_rext_init(kz_rext_state *s, size_t w, int is_max, void *mem);
/* Returns the min (max); *index gets its absolute index (pushes before it) as a double, or NaN.
 * index may be NULL. */
double kz_rext_push(kz_rext_state *s, double x, double *index);

/* Rolling quantile (pandas 'linear'): a sorted copy of the window's finite values, binary-search
 * insert/delete (O(w) memmove, fine for w up to a few hundred). */
typedef struct kz_rquant_state {
    kz_ring r;
    double *sorted;
    size_t n_sorted;
    double q;
} kz_rquant_state;
size_t kz_rquant_mem(size_t w);
void kz_rquant_init(kz_rquant_state *s, size_t w, double q, void *mem);
double kz_rquant_push(kz_rquant_state *s, double x);

/* Rolling mean absolute deviation: two O(w) passes over the ring per push (no O(1) update
 * exists for sum |x - mean| as the mean moves). */
typedef struct kz_rmad_state {
    kz_ring r;
} kz_rmad_state;
size_t kz_rmad_mem(size_t w);
void kz_rmad_init(kz_rmad_state *s, size_t w, void *mem);
double kz_rmad_push(kz_rmad_state *s, double x);

/* pandas ewm(alpha, adjust=True, ignore_na=False).mean(): no memory beyond the struct. */
typedef struct kz_ewma_state {
    double avg, old_wt, decay;
} kz_ewma_state;
void kz_ewma_init(kz_ewma_state *s, double alpha);
double kz_ewma_push(kz_ewma_state *s, double x);

/* Recursive EWM y = alpha x + (1 - alpha) y_prev; NaN inputs carry y forward. */
typedef struct kz_ewmr_state {
    double y, alpha;
} kz_ewmr_state;
void kz_ewmr_init(kz_ewmr_state *s, double alpha);
double kz_ewmr_push(kz_ewmr_state *s, double x);

/* Lag-k state for diff and pct_change (k >= 1); pad = 1 forward-fills NaN before the ratio
 * (pct_change only; diff never pads). Unlike the rolling states, +-inf are ordinary values. */
typedef struct kz_lag_state {
    kz_ring r;
    double last; /* last non-NaN input (pct_change pad mode) */
    int pad;
} kz_lag_state;
size_t kz_lag_mem(size_t k);
void kz_lag_init(kz_lag_state *s, size_t k, int pad, void *mem);
double kz_lag_diff_push(kz_lag_state *s, double x);
double kz_lag_pct_push(kz_lag_state *s, double x);

#endif
