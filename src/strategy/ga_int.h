/* Internal declarations of the strategy search: operand scales and names, the gene space, the
 * fitness function, NSGA-II ranking and the statistics the report needs (docs/ga.md). */
#ifndef KZ_GA_INT_H
#define KZ_GA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/strategy.h"
#include "kizashi/ta.h"

/* Scale ids beyond kz_ta_scale for non-registry operands. */
enum { GA_SCALE_PROB = 100, GA_SCALE_FUNDING = 101, GA_SCALE_OI_CHANGE = 102 };

/* What an operand may be compared with. */
typedef struct ga_operand {
    int usable;    /* 0: no meaningful threshold (volume levels, price-unit widths): never drawn */
    int price;     /* 1: a price overlay, compared with close or another overlay */
    int scale;     /* kz_ta_scale or GA_SCALE_*: RHS_GENE needs equal scales and ranges */
    double lo, hi; /* threshold range on the operand's scale; lo == hi is a fixed line (0) */
} ga_operand;

/* Number of outputs of a gene (TA outputs; 1 for ML and market columns); 0 if unknown. */
int kz_ga_gene_outputs(const kz_gene *g);
/* Scale and threshold range of output `output` of g. */
void kz_ga_operand(const kz_gene *g, int output, ga_operand *o);
/* Canonical column spec of an operand, identical to the column set's canonical name, so the
 * backtester resolves it by exact match. Returns the length (>= size means truncated). */
size_t kz_ga_operand_name(const kz_gene *g, int output, char *buf, size_t size);

/* A drawable gene kind. */
typedef struct ga_kind {
    kz_gene_kind kind;
    const kz_ta_info *info; /* TA only */
    char name[KZ_GA_NAME_MAX];
    double step[KZ_GA_MAX_PARAMS]; /* grid of REAL parameters (a power of two) */
} ga_kind;

struct kz_ga_space {
    kz_ga_mode mode;
    int max_genes;
    ga_kind *kinds; /* TA kinds, then ML, then market */
    size_t n_kinds, n_ta, n_ml, n_market;
};

/* Search range of parameter k of a TA indicator (search_min/max, else min/max). */
void kz_ga_param_range(const kz_ta_info *info, int k, double *lo, double *hi);

/* ---- fitness (ga_fitness.c) */
/* Scalar IS fitness of a backtest's metrics (docs/ga.md). */
double kz_ga_fitness(const kz_bt_metrics *m, const kz_ga_params *p);
/* Constraint violation (trade shortfall + drawdown excess, relative), 0 when feasible. */
double kz_ga_violation(const kz_bt_metrics *m, const kz_ga_params *p);
/* Shared fitness for selection: niche count m_i = sum_j sh(d_ij) with the triangular kernel
 * sh(d) = 1 - d/sigma for d < sigma (Goldberg & Richardson 1987); f/m_i for f >= 0, f*m_i for
 * f < 0 so crowding always lowers the selection value. */
void kz_ga_share(const kz_genome *pop, const double *fit, size_t n, double sigma, double *out);
/* Skewness and (non-excess) kurtosis of the per-bar returns of an equity curve [b, e). */
void kz_ga_return_moments(const double *equity, size_t b, size_t e, double *skew, double *kurt);

/* ---- NSGA-II (ga_nsga.c, Deb et al. 2002) */
/* Rank n points maximising both objectives with constrained domination (lower violation wins
 * between infeasible points): rank[i] = front index (0 = Pareto front), crowd[i] = crowding
 * distance within its front. KZ_ERR_NOMEM (allocates 3n size_t). */
kz_status kz_ga_nsga_rank(
    size_t n, const double *f1, const double *f2, const double *viol, int *rank, double *crowd);

/* ---- runs (ga.c), shared with walk-forward (ga_wf.c) */
/* A market whose arrays are views of bars [b, e) of m (nothing owned: never free it). */
void kz_ga_market_view(const kz_market *m, size_t b, size_t e, kz_market *v);
/* Bars between an in-sample window and its out-of-sample window: gap_bars, or n/100 if -1. */
size_t kz_ga_gap(size_t n, const kz_ga_params *p);
/* The search on windows win = {is_begin, is_end, oos_begin, oos_end} of the set's bars (params
 * already checked, windows valid), with random streams (seed, fold, generation, individual) and
 * entries named "<tag>-<rank>". best_oos (optional) receives the recorded OOS backtest of the
 * best entry (zeroed without an OOS window); free it with kz_bt_result_free. */
kz_status kz_ga_run_window(const kz_colset *cs,
                           const kz_ga_params *params,
                           const size_t win[4],
                           uint64_t fold,
                           const char *tag,
                           kz_ga_result *out,
                           kz_bt_result *best_oos,
                           kz_error *err);

#endif
