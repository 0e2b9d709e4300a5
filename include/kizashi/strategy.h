/* kizashi strategies: rules over named columns, take-profit/stop-loss and sizing, their JSON form,
 * the column set they read, and an honest bar-by-bar backtester (docs/backtest.md).
 * Thread contract: a kz_colset is read-only during backtests, so any number of threads may run
 * kz_backtest on one set at once; adding columns must not overlap with any other call on it. */
#ifndef KIZASHI_STRATEGY_H
#define KIZASHI_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/market.h"
#include "kizashi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ strategy representation
 * Plain data with fixed-size arrays: a strategy is copied with `=`, compared field by field and
 * never owns memory, so a genetic algorithm can treat it as a genome directly. */
#define KZ_COL_NAME_MAX   96 /* column name or spec string, NUL included */
#define KZ_RULE_MAX_CONDS 4  /* conditions per rule */

/* Condition operators. Crosses compare bar t-1 and bar t:
 * crosses_above: left[t-1] <= right[t-1] and left[t] > right[t] (crosses_below mirrored).
 * A NaN in any operand value the condition reads makes it false. */
typedef enum kz_cond_op {
    KZ_OP_GT,
    KZ_OP_LT,
    KZ_OP_GE,
    KZ_OP_LE,
    KZ_OP_CROSS_ABOVE,
    KZ_OP_CROSS_BELOW
} kz_cond_op;

/* `left op right`: left is a column, right a column or a constant. */
typedef struct kz_condition {
    char left[KZ_COL_NAME_MAX]; /* column name or spec, see kz_colset_require */
    kz_cond_op op;
    int right_is_const; /* 1: compare with right_value; 0: with column `right` */
    double right_value;
    char right[KZ_COL_NAME_MAX];
} kz_condition;

typedef enum kz_logic { KZ_LOGIC_AND, KZ_LOGIC_OR } kz_logic;

/* A rule: the AND (all) or OR (any) of its conditions. A rule with no conditions never fires. */
typedef struct kz_rule {
    kz_logic logic;
    int n_conds; /* 0..KZ_RULE_MAX_CONDS */
    kz_condition conds[KZ_RULE_MAX_CONDS];
} kz_rule;

typedef enum kz_tpsl_method {
    KZ_TPSL_NONE,  /* no take-profit or stop-loss */
    KZ_TPSL_FIXED, /* stop sl_pct and target tp_pct from the entry price (0 = that side off) */
    KZ_TPSL_RR,    /* stop sl_pct, target sl_pct * rr */
    KZ_TPSL_ATR    /* stop atr_sl * ATR, target atr_tp * ATR (ATR(atr_period) at the signal bar;
                      0 = that side off) */
} kz_tpsl_method;

typedef struct kz_tpsl {
    kz_tpsl_method method;
    double sl_pct;  /* fraction of the entry price, e.g. 0.03; FIXED and RR; in [0, 1) */
    double tp_pct;  /* FIXED; >= 0 */
    double rr;      /* RR: reward/risk ratio > 0 */
    int atr_period; /* ATR: Wilder ATR period (TA-Lib ATR), >= 1 */
    double atr_sl;  /* ATR multiples >= 0 */
    double atr_tp;
} kz_tpsl;

typedef enum kz_sizing_method {
    KZ_SIZE_FRACTION,   /* notional = equity * fraction * leverage */
    KZ_SIZE_VOL_TARGET, /* notional = equity * min(leverage, target_vol / RVOL(vol_period)) */
    KZ_SIZE_FIXED_QTY   /* qty units of the instrument whatever the equity (leverage ignored) */
} kz_sizing_method;

typedef struct kz_sizing {
    kz_sizing_method method;
    double fraction;   /* FRACTION: (0, 1] */
    double target_vol; /* VOL_TARGET: annualised volatility target, e.g. 0.2 */
    int vol_period;    /* VOL_TARGET: bars of the realised-volatility window, >= 2 */
    double qty;        /* FIXED_QTY: > 0 */
} kz_sizing;

typedef struct kz_strategy {
    char name[64];
    kz_rule long_entry;  /* evaluated at each bar's close when flat or short */
    kz_rule short_entry; /* evaluated at each bar's close when flat or long */
    kz_rule exit;        /* closes any open position */
    kz_tpsl tpsl;
    kz_sizing sizing;
    double leverage; /* default 1, in (0, 100] */
} kz_strategy;

/* Empty rules, no TP/SL, all of the equity (fraction 1), leverage 1, name "". */
kz_strategy kz_strategy_default(void);
/* Validate ranges and operands (non-empty column names, finite constants, known ops).
 * KZ_ERR_INVALID with err->field naming the field, e.g. "long_entry.all[1].right". */
KZ_NODISCARD kz_status kz_strategy_check(const kz_strategy *s, kz_error *err);
/* Canonical operator names: ">", "<", ">=", "<=", "crosses_above", "crosses_below". */
const char *kz_cond_op_str(kz_cond_op op);

/* ---- JSON (cJSON). The form reads as rules:
 * {"name": "...", "long_entry": {"all": ["RSI(timeperiod=14) crosses_above 30",
 *  "ML_UP_PROB > 0.62"]}, "short_entry": {"any": [...]}, "exit": {"all": []},
 *  "tpsl": {"method": "atr", "atr_period": 14, "sl": 2, "tp": 4},
 *  "sizing": {"method": "fraction", "fraction": 1}, "leverage": 1}
 * A condition is "LEFT OP RIGHT" (whitespace-separated outside parentheses) or an object
 * {"left": ..., "op": ..., "right": name-or-number}. Missing members take the defaults. */
/* Parse `len` bytes; `name` labels errors (file). KZ_ERR_PARSE (malformed JSON, with line and
 * column) or KZ_ERR_INVALID (err->field names the member, e.g. "tpsl.method"). */
KZ_NODISCARD kz_status kz_strategy_from_json(
    const char *text, size_t len, const char *name, kz_strategy *out, kz_error *err);
KZ_NODISCARD kz_status kz_strategy_read_file(const char *path, kz_strategy *out, kz_error *err);
/* Serialise (numbers with 17 significant digits: reading it back gives the same strategy).
 * *out is allocated with kz_malloc; free it with kz_free. */
KZ_NODISCARD kz_status kz_strategy_to_json(const kz_strategy *s, char **out);

/* ================================================================ column sets
 * Named double columns aligned with a market's bars, which rules refer to by name:
 * - market columns: open high low close volume, funding (alias funding_rate; as-of aligned),
 *   oi (alias open_interest) and OI_CHANGE (oi[t]/oi[t-1] - 1);
 * - indicator specs from the TA registry: "RSI", "RSI(14)", "RSI(timeperiod=14)",
 *   "BBANDS(timeperiod=20,nbdevup=2).upperband" (positional or named parameters, the rest at their
 *   defaults; the first output unless ".output" names one); names are case-insensitive and equal
 *   specs share one column whatever their spelling;
 * - RVOL(timeperiod=N): annualised realised volatility, the sample standard deviation of the
 *   last N log close-to-close returns times sqrt(bars per year);
 * - external columns supplied by the caller (ML_UP_PROB, ...).
 * The set borrows the market (it must outlive the set) and precomputes the funding settlements
 * per bar the backtester charges. */
typedef struct kz_colset kz_colset;

/* New set over `m` with the market columns. KZ_ERR_INVALID (no bars), KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_colset_new(const kz_market *m, kz_colset **out, kz_error *err);
void kz_colset_free(kz_colset *cs);
const kz_market *kz_colset_market(const kz_colset *cs);
size_t kz_colset_n_bars(const kz_colset *cs);
size_t kz_colset_count(const kz_colset *cs);
/* Name (canonical for computed columns) and values (view) of column i < count. */
const char *kz_colset_name(const kz_colset *cs, size_t i);
const double *kz_colset_data(const kz_colset *cs, size_t i);
/* Index of a column by name or equivalent spec; -1 if absent (never computes). */
int kz_colset_find(const kz_colset *cs, const char *name);
/* Add an external column of n_bars values: copied (`copy` = 1) or borrowed (must outlive the set).
 * KZ_ERR_INVALID if the name is empty, too long or already present. */
KZ_NODISCARD kz_status
kz_colset_add(kz_colset *cs, const char *name, const double *values, int copy, kz_error *err);
/* Find `spec`, computing it (indicator or RVOL) if needed; *index (optional) receives its index.
 * KZ_ERR_NOT_FOUND for a name that is neither present nor computable (err->field = spec),
 * KZ_ERR_INVALID for a bad spec (unknown parameter or output, value out of range). */
KZ_NODISCARD kz_status kz_colset_require(kz_colset *cs,
                                         const char *spec,
                                         int *index,
                                         kz_error *err);
/* Require every column the strategy reads (operands, ATR for ATR stops, RVOL for volatility
 * targeting); err->field names the strategy field at fault. */
KZ_NODISCARD kz_status kz_colset_prepare(kz_colset *cs, const kz_strategy *s, kz_error *err);

/* ================================================================ backtest */
typedef struct kz_bt_params {
    double initial_equity; /* default 100000 */
    double fee_rate;       /* commission per side, fraction of notional; default 0.00055 */
    double slippage_bps;   /* adverse slippage on market fills, basis points; default 2 */
    int funding;           /* 1 (default): charge funding settlements (market.funding_raw) */
    int record;            /* 1: fill result.trades and result.equity; 0 (default): metrics only,
                              no allocation proportional to trades */
} kz_bt_params;

kz_bt_params kz_bt_params_default(void);
KZ_NODISCARD kz_status kz_bt_params_check(const kz_bt_params *p, kz_error *err);

typedef enum kz_exit_reason {
    KZ_EXIT_SIGNAL, /* exit rule or opposite entry, filled at the next open */
    KZ_EXIT_STOP,   /* stop-loss */
    KZ_EXIT_TAKE,   /* take-profit */
    KZ_EXIT_END     /* still open at the last bar: closed at its close */
} kz_exit_reason;

const char *kz_exit_reason_str(kz_exit_reason r);

typedef struct kz_trade {
    int side;           /* +1 long, -1 short */
    size_t entry_bar;   /* bar whose open filled the entry (signal bar + 1) */
    size_t exit_bar;    /* bar in which the exit filled */
    int64_t entry_ms;   /* open time of entry_bar */
    int64_t exit_ms;    /* open time of exit_bar */
    double qty;         /* units of the instrument (> 0) */
    double entry_price; /* fill prices, slippage included */
    double exit_price;
    double fees;      /* commission of both fills */
    double funding;   /* funding paid (> 0) or received (< 0) while open */
    double pnl;       /* side*qty*(exit-entry) - fees - funding */
    double ret;       /* pnl / equity before the entry */
    size_t bars_held; /* bars during which the position was open (see docs) */
    kz_exit_reason reason;
} kz_trade;

/* Ratios are fractions (0.12 = 12 %); money is in the equity's currency. Every field is finite
 * except profit_factor (+inf when there are winners and no losers). */
typedef struct kz_bt_metrics {
    double initial_equity, final_equity;
    double total_return; /* final/initial - 1 */
    double cagr;         /* (final/initial)^(1/years) - 1, years = n_bars / bars per year */
    double sharpe;       /* mean/std (ddof 1) of per-bar equity returns * sqrt(bars/year) */
    double sortino;      /* mean / sqrt(mean(min(r,0)^2)) * sqrt(bars/year) */
    double max_drawdown; /* largest (peak - equity)/peak over bar closes, >= 0 */
    size_t max_dd_bars;  /* longest span from a peak to recovery (or the end), in bars */
    double calmar;       /* cagr / max_drawdown (0 if no drawdown) */
    size_t n_trades, n_long, n_short, n_wins;
    double win_rate;         /* wins (pnl > 0) / trades */
    double profit_factor;    /* gross profit / gross loss */
    double expectancy;       /* mean trade pnl */
    double avg_trade_return; /* mean trade ret */
    double avg_bars_held;
    double exposure; /* bars with a position / n_bars */
    double fees_paid;
    double funding_paid;    /* net: paid minus received */
    double buy_hold_return; /* close[last]/close[0] - 1 */
    size_t n_bars;
    double bars_per_year; /* from the timeframe: 365 days of 24 h */
} kz_bt_metrics;

typedef struct kz_bt_result {
    kz_bt_metrics m;
    size_t n_trades;  /* trades recorded (params.record) */
    kz_trade *trades; /* owned; NULL unless params.record */
    size_t n_equity;  /* n_bars when recorded */
    double *equity;   /* owned; equity at each bar's close; NULL unless params.record */
} kz_bt_result;

/* Release the owned arrays and zero the struct. Accepts NULL. */
void kz_bt_result_free(kz_bt_result *r);

/* Backtest `s` on the set's market with its columns (borrowed; run kz_colset_prepare first).
 * Rules are evaluated at bar t's close on data <= t and fill at bar t+1's open; see
 * docs/backtest.md for every rule. `res` is written (free with kz_bt_result_free); on failure it
 * is zeroed. KZ_ERR_INVALID (bad strategy or params, err->field), KZ_ERR_NOT_FOUND (a column the
 * strategy reads is not in the set), KZ_ERR_NOMEM. Allocates one byte per bar of scratch. */
KZ_NODISCARD kz_status kz_backtest(const kz_colset *cs,
                                   const kz_strategy *s,
                                   const kz_bt_params *p,
                                   kz_bt_result *res,
                                   kz_error *err);
/* The same semantics written plainly, bar by bar, for verification (slow). Always records. */
KZ_NODISCARD kz_status kz_backtest_ref(const kz_colset *cs,
                                       const kz_strategy *s,
                                       const kz_bt_params *p,
                                       kz_bt_result *res,
                                       kz_error *err);

/* ---- outputs (the library writes to files it is given, never to stdout) */
/* Trades as CSV: header + one row per trade. KZ_ERR_IO naming the path. */
KZ_NODISCARD kz_status kz_bt_write_trades_csv(const kz_bt_result *r,
                                              const char *path,
                                              kz_error *err);
/* Equity curve as CSV: timestamp,equity,drawdown (needs the set's timestamps). */
KZ_NODISCARD kz_status kz_bt_write_equity_csv(const kz_colset *cs,
                                              const kz_bt_result *r,
                                              const char *path,
                                              kz_error *err);
/* Metrics, trades and equity as one JSON document (*out allocated with kz_malloc). Non-finite
 * numbers are written as null. */
KZ_NODISCARD kz_status kz_bt_result_to_json(const kz_colset *cs, const kz_bt_result *r, char **out);
/* SVG chart of the equity curve (top) and drawdown (bottom), plain text. */
KZ_NODISCARD kz_status kz_bt_write_svg(
    const kz_colset *cs, const kz_bt_result *r, const char *title, const char *path, kz_error *err);

/* ================================================================ strategy search (docs/ga.md)
 * A genetic algorithm over genomes that decode deterministically to kz_strategy. Genomes are plain
 * data (copy with `=`); unused fields are zero so equal genomes compare equal field by field.
 * Thread contract: kz_ga_space is immutable after creation (any number of threads may read it);
 * kz_ga_run reads the caller's column set (which must not change during the call) and runs its
 * backtests on kz_parallel_for threads. */
#include <stdatomic.h>

#include "kizashi/core.h"

#define KZ_GA_MAX_GENES  5  /* indicator genes per genome */
#define KZ_GA_MAX_CONDS  3  /* AND-conditions per genome rule (<= KZ_RULE_MAX_CONDS) */
#define KZ_GA_MAX_PARAMS 8  /* == KZ_TA_MAX_PARAMS */
#define KZ_GA_NAME_MAX   24 /* gene name, NUL included */

typedef enum kz_gene_kind {
    KZ_GENE_TA,    /* a TA registry indicator with its parameters */
    KZ_GENE_ML,    /* an external probability column (ML_UP_PROB, ML_DOWN_PROB, ML_RANGE_PROB) */
    KZ_GENE_MARKET /* a market column: "funding" or "OI_CHANGE" */
} kz_gene_kind;

/* One indicator gene. params[] holds the TA parameters in registry order (zero past n_params;
 * integers stored exactly, reals on a dyadic grid so the column spec stays short and exact). */
typedef struct kz_gene {
    kz_gene_kind kind;
    char name[KZ_GA_NAME_MAX]; /* TA function ("RSI"), column name ("ML_UP_PROB", "funding") */
    double params[KZ_GA_MAX_PARAMS];
} kz_gene;

/* What the right side of a genome condition is. */
typedef enum kz_rhs_kind {
    KZ_RHS_CONST, /* `threshold`, on the left operand's scale */
    KZ_RHS_CLOSE, /* the close (price overlays only) */
    KZ_RHS_GENE   /* output rhs_output of gene rhs_gene (same scale as the left operand) */
} kz_rhs_kind;

/* `genes[gene].outputs[output] op rhs`. Unused fields: rhs_gene = rhs_output = 0, threshold 0. */
typedef struct kz_gcond {
    int gene, output;
    kz_cond_op op; /* > < crosses_above crosses_below */
    kz_rhs_kind rhs;
    int rhs_gene, rhs_output;
    double threshold;
} kz_gcond;

typedef struct kz_grule {
    int n_conds; /* entries 1..KZ_GA_MAX_CONDS, exit 0..KZ_GA_MAX_CONDS (AND) */
    kz_gcond conds[KZ_GA_MAX_CONDS];
} kz_grule;

/* Everything that decides a trade. Every gene is referenced by at least one condition. */
typedef struct kz_genome {
    int n_genes; /* 1..KZ_GA_MAX_GENES */
    kz_gene genes[KZ_GA_MAX_GENES];
    kz_grule long_entry, short_entry, exit;
    kz_tpsl tpsl;     /* fields the method does not use keep kz_strategy_default's values */
    kz_sizing sizing; /* likewise; leverage is 1 */
} kz_genome;

/* Structural validity: indices in range, known TA names with valid parameters, rule sizes, ops,
 * finite thresholds, every gene used. KZ_ERR_INVALID with err->field, e.g. "genes[2].params". */
KZ_NODISCARD kz_status kz_genome_check(const kz_genome *g, kz_error *err);
/* Decode to a strategy (named `name`, may be NULL): canonical column specs, AND rules, the TP/SL
 * and sizing genes, leverage 1. Deterministic; KZ_ERR_INVALID as kz_genome_check. */
KZ_NODISCARD kz_status kz_genome_decode(const kz_genome *g,
                                        const char *name,
                                        kz_strategy *out,
                                        kz_error *err);
/* 1 if equal field by field (names by content). */
int kz_genome_equal(const kz_genome *a, const kz_genome *b);
/* Distance in [0, 1] for fitness sharing (docs/ga.md): 0.4 Jaccard distance of the gene sets +
 * 0.4 of the condition-signature sets + 0.1 TP/SL method differs + 0.1 sizing method differs. */
double kz_genome_distance(const kz_genome *a, const kz_genome *b);

/* Search modes: which gene kinds are drawn. */
typedef enum kz_ga_mode {
    KZ_GA_TECHNICAL, /* TA registry indicators and market columns */
    KZ_GA_ML,        /* ML probability columns only */
    KZ_GA_MIXED      /* all of them */
} kz_ga_mode;

/* "technical", "ml", "mixed"; KZ_ERR_INVALID otherwise. */
KZ_NODISCARD kz_status kz_ga_mode_parse(const char *s, kz_ga_mode *out);
const char *kz_ga_mode_str(kz_ga_mode m);

/* The gene space of a run: the drawable gene kinds of `mode` given the columns of `cs` (ML
 * columns and funding/OI present), with each operand's threshold range (docs/ga.md). */
typedef struct kz_ga_space kz_ga_space;
/* KZ_ERR_NOT_FOUND if the mode needs ML columns the set lacks (err->field names one),
 * KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_ga_space_new(const kz_colset *cs,
                                       kz_ga_mode mode,
                                       int max_genes,
                                       kz_ga_space **out,
                                       kz_error *err);
void kz_ga_space_free(kz_ga_space *sp);
/* Number of drawable gene kinds. */
size_t kz_ga_space_count(const kz_ga_space *sp);

/* Genome operators. Each result is a valid genome (kz_genome_check passes) whose genes all
 * belong to the space. */
void kz_genome_random(const kz_ga_space *sp, kz_rng *rng, kz_genome *out);
/* Child of a and b: gene-wise (slots swapped) or rule-wise (whole rules imported with the genes
 * they read), TP/SL and sizing genes each from either parent. */
void kz_genome_crossover(const kz_ga_space *sp,
                         const kz_genome *a,
                         const kz_genome *b,
                         kz_rng *rng,
                         kz_genome *child);
/* Mutate in place: each elementary change (parameter perturbation, threshold / operator / operand
 * change, add or remove a gene or a condition, new TP/SL or sizing) happens with probability
 * `rate`; if none did and `force`, one random change is made. Returns 1 if g changed. */
int kz_genome_mutate(const kz_ga_space *sp, kz_genome *g, double rate, int force, kz_rng *rng);

/* One generation's statistics (no timing, so runs compare bit for bit). */
typedef struct kz_ga_gen {
    int generation;      /* 0 = the initial population */
    double best_fitness; /* best in-sample fitness in the population */
    double mean_fitness;
    double best_return;   /* IS CAGR of the best individual */
    double best_drawdown; /* its max drawdown */
    size_t n_evals;       /* backtests run so far (cumulative) */
    size_t n_columns;     /* indicator columns held by the cache after this generation */
} kz_ga_gen;

/* Called after each generation (e.g. to print best/mean fitness and an ETA). */
typedef void (*kz_ga_progress_fn)(const kz_ga_gen *g, int n_generations, void *ud);

typedef struct kz_ga_params {
    kz_ga_mode mode;       /* default KZ_GA_MIXED */
    int population;        /* 2..100000, default 100 (SPEC 6.1) */
    int generations;       /* 0..100000, default 50; 0 = initial population only (random search) */
    double crossover_rate; /* default 0.8 */
    double mutation_rate;  /* per elementary change, default 0.1 */
    int elite;             /* best individuals copied unchanged, 0..population-1; default 10 */
    int tournament;        /* tournament size >= 1, default 3 */
    int max_genes;         /* 1..KZ_GA_MAX_GENES, default 5 */
    int sharing;           /* 1: fitness sharing in selection (default 0) */
    double sharing_radius; /* sigma_share in genome-distance units (0, 1], default 0.25 */
    int nsga2;             /* 1: NSGA-II on (IS return, IS max drawdown); result.front filled */
    /* fitness (docs/ga.md): w_sharpe * Sharpe + w_return * CAGR - w_drawdown * maxDD
     * + w_win_rate * win rate - penalty * (trade shortfall + drawdown excess) */
    double w_sharpe, w_return, w_drawdown, w_win_rate; /* 0.35 0.25 0.2 0.1, renormalised */
    int min_trades;      /* default 10 */
    double max_drawdown; /* default 0.3 */
    double penalty;      /* fitness units per unit of relative violation, default 2 */
    /* in-sample / out-of-sample split: IS = [0, n - oos - gap), OOS = the last oos bars */
    double oos_fraction; /* [0, 0.9], default 0.3 (0 = no OOS) */
    long gap_bars;       /* bars between IS and OOS; -1 (default) = n / 100 */
    int top_k;           /* best distinct strategies reported, default 5 */
    kz_bt_params bt;     /* costs of every backtest (record is ignored) */
    uint64_t seed;       /* default 42 */
    int threads;         /* 0 (default) = online CPUs */
    size_t max_columns;  /* indicator cache bound; 0 (default) = 256 MB worth, at least 64 */
    const atomic_int *stop; /* optional: non-zero ends the run after the current generation */
    kz_ga_progress_fn progress; /* optional */
    void *progress_ud;
} kz_ga_params;

kz_ga_params kz_ga_params_default(void);
/* Apply a preset from SPEC 6.1 on top of p: "fast" (population 10, 5 generations, elite 2,
 * 3 genes), "default", "thorough" (200, 100, crossover 0.85, mutation 0.05, elite 20).
 * KZ_ERR_INVALID for another name. */
KZ_NODISCARD kz_status kz_ga_params_preset(kz_ga_params *p, const char *name);
KZ_NODISCARD kz_status kz_ga_params_check(const kz_ga_params *p, kz_error *err);

/* A reported strategy with its in-sample and out-of-sample backtests. */
typedef struct kz_ga_entry {
    kz_genome genome;
    kz_strategy strategy; /* decoded; named "ga-<seed>-<rank>" */
    double fitness;       /* in-sample fitness */
    kz_bt_metrics is, oos, full; /* IS window, OOS window (zero if none), every bar */
    double dsr; /* Deflated Sharpe Ratio of the IS Sharpe given n_evals trials (Bailey & Lopez de
                   Prado 2014), a probability in [0, 1] */
    double oos_psr; /* Probabilistic Sharpe Ratio OOS: P(true Sharpe > 0); NaN without OOS */
    int generation; /* first generation in which it was evaluated */
} kz_ga_entry;

typedef struct kz_ga_result {
    uint64_t seed;
    int generations_run; /* generations completed after the initial population */
    int stopped;         /* 1 if the stop flag ended the run early (best so far returned) */
    size_t n_evals;      /* backtests run = strategies tried (the DSR's N) */
    size_t is_begin, is_end, oos_begin, oos_end; /* bar ranges [begin, end) */
    double trials_sharpe_var; /* variance of the trials' per-bar IS Sharpe ratios */
    kz_ga_entry *top;         /* owned: best distinct strategies by IS fitness, best first */
    size_t n_top;
    kz_ga_entry *front; /* owned: NSGA-II Pareto front of the last population by IS return */
    size_t n_front;
    kz_ga_gen *history; /* owned: one entry per generation, initial population first */
    size_t n_history;
    size_t n_cache_rebuilds; /* times the indicator cache was emptied to respect max_columns */
} kz_ga_result;

void kz_ga_result_free(kz_ga_result *r);

/* Evolve strategies on the columns of `cs` (borrowed: ML columns come in as external columns;
 * indicator columns are computed in a private bounded cache). Fitness uses the IS window only;
 * the top-K (and the front) are re-run on the OOS window and on all bars. Bit-identical for any
 * thread count and across reruns with the same seed. With a stop flag set, returns KZ_OK with
 * the best so far and result.stopped = 1. Errors: KZ_ERR_INVALID (params, err->field; too few
 * bars for the split), KZ_ERR_NOT_FOUND (ML columns missing for the mode), KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_ga_run(const kz_colset *cs,
                                 const kz_ga_params *p,
                                 kz_ga_result *out,
                                 kz_error *err);
/* The result as JSON: run facts, top-K and front entries (strategy JSON as kz_strategy_to_json,
 * IS/OOS/full metrics, DSR) and the history. *out allocated with kz_malloc. */
KZ_NODISCARD kz_status kz_ga_result_to_json(const kz_ga_result *r, char **out);

/* Deflated Sharpe Ratio (Bailey & Lopez de Prado 2014, docs/ga.md): the probability that the
 * true per-bar Sharpe exceeds the expected maximum of n_trials unskilled trials whose Sharpe
 * variance is trials_var, given the observed per-bar Sharpe `sr` over n_obs returns with
 * skewness `skew` and (non-excess) kurtosis `kurt`. n_trials = 1 gives the PSR against 0. */
double kz_deflated_sharpe(
    double sr, double n_obs, double skew, double kurt, double n_trials, double trials_var);

/* ================================================================ ML columns (docs/signals.md)
 * The signals facade's three probability columns as external columns of a set, so rules and the
 * strategy search can read them. (Here rather than in signals.h: strategy sits above signals.) */
#include "kizashi/signals.h"

/* Add the three columns (kz_colset_n_bars(cs) values each, copied) as ML_DOWN_PROB,
 * ML_RANGE_PROB, ML_UP_PROB. KZ_ERR_INVALID (NULL, a name already present: nothing is added). */
KZ_NODISCARD kz_status kz_colset_add_ml(
    kz_colset *cs, const double *down, const double *range, const double *up, kz_error *err);
/* kz_signals_compute over the set's market, then kz_colset_add_ml. rep (optional) says whether
 * and why bars fell back: a fallback is reported, not an error. KZ_ERR_INVALID, KZ_ERR_NOMEM
 * (the column buffers). */
KZ_NODISCARD kz_status kz_colset_attach_signals(kz_colset *cs,
                                                kz_signals *sig,
                                                kz_signal_report *rep,
                                                kz_error *err);

/* ================================================================ walk-forward (docs/ga.md)
 * k folds over time: the last floor(n * oos_fraction) bars are cut into k equal out-of-sample
 * windows of W bars (the remainder goes to the first in-sample window); fold f's OOS window is
 * [o + f*W, o + (f+1)*W) with o = n - k*W, its in-sample window ends `gap` bars before it
 * (gap_bars, or n/100) and starts at 0 (expanding) or f*W (sliding: every IS window has the
 * length of the first). The GA evolves on each IS window alone; the fold's top-K are re-run on
 * its OOS window. One fold is exactly kz_ga_run's single split. */
typedef enum kz_wf_mode {
    KZ_WF_EXPANDING, /* anchored: IS = [0, OOS begin - gap) */
    KZ_WF_SLIDING    /* rolling: IS of constant length, moved by W each fold */
} kz_wf_mode;

/* "expanding", "sliding"; KZ_ERR_INVALID otherwise. */
KZ_NODISCARD kz_status kz_wf_mode_parse(const char *s, kz_wf_mode *out);
const char *kz_wf_mode_str(kz_wf_mode m);

/* The fold windows for n_bars: bounds[4f .. 4f+3] = {is_begin, is_end, oos_begin, oos_end} of
 * fold f (bounds written, 4 * n_folds values). KZ_ERR_INVALID (err->field "walk_forward" or
 * "oos_fraction") when n_folds < 1 or the bars cannot hold 10-bar windows. */
KZ_NODISCARD kz_status kz_ga_wf_folds(size_t n_bars,
                                      const kz_ga_params *p,
                                      int n_folds,
                                      kz_wf_mode mode,
                                      size_t *bounds,
                                      kz_error *err);

typedef struct kz_ga_fold {
    size_t is_begin, is_end, oos_begin, oos_end; /* bar ranges [begin, end) */
    kz_ga_result run; /* the fold's search; run.top[k].oos = metrics on this fold's OOS window */
} kz_ga_fold;

typedef struct kz_ga_wf_result {
    uint64_t seed;
    kz_wf_mode mode;
    int n_folds;       /* folds requested */
    int folds_run;     /* folds searched (fewer after a stop) */
    int stopped;       /* 1 if the stop flag ended the run early */
    size_t gap;        /* bars between each IS window and its OOS window */
    size_t n_evals;    /* backtests over all folds */
    kz_ga_fold *folds; /* owned: folds_run entries */
    /* Concatenated out of sample: each fold's best strategy (top[0]) on its own OOS window,
     * chained so fold f starts with the equity fold f-1 ended with. */
    size_t oos_begin, oos_end; /* bars [begin, end) covered by the folds run */
    double *oos_equity;        /* owned: oos_end - oos_begin values at the bars' closes */
    kz_bt_metrics oos;         /* metrics of that curve and the chained trades */
} kz_ga_wf_result;

void kz_ga_wf_result_free(kz_ga_wf_result *r);

/* Walk-forward search: kz_ga_run on each fold's IS window (random streams from (seed, fold,
 * generation, individual): bit-identical for any thread count), the fold's top-K re-run on its
 * OOS window, and the concatenated OOS curve. progress is called per generation of each fold
 * (generation 0 starts a fold); a stop ends the current fold with its best so far and runs no
 * more folds (KZ_OK, stopped = 1). Errors as kz_ga_run and kz_ga_wf_folds. */
KZ_NODISCARD kz_status kz_ga_walk_forward(const kz_colset *cs,
                                          const kz_ga_params *p,
                                          int n_folds,
                                          kz_wf_mode mode,
                                          kz_ga_wf_result *out,
                                          kz_error *err);
/* Run facts, per-fold windows with their kz_ga_result_to_json report, and the concatenated OOS
 * metrics and curve. *out allocated with kz_malloc. */
KZ_NODISCARD kz_status kz_ga_wf_result_to_json(const kz_ga_wf_result *r, char **out);

/* ================================================================ tuning the GA (docs/optim.md)
 * Bayesian optimisation (kizashi/optim.h) of the GA's own settings over SPEC 5's GA space,
 * maximising the out-of-sample fitness of GA runs. Three windows, so the reported figure stays
 * out of sample for the tuner too: the GA evolves on IS = [0, tune_begin - gap), the objective
 * scores the best IS strategy's fitness on the tuning window [tune_begin, tune_end), and the final
 * holdout [holdout_begin, n) (after another gap) is never read while tuning: evaluations run on a
 * column set over bars [0, tune_end) only. kz_ga_tune_final then runs the GA once with the chosen
 * settings on [0, holdout_begin - gap) and scores its strategies on the holdout. Every evaluation
 * uses the base seed (common random numbers: scores differ by the settings, not by seed luck).
 * SPEC's short_bias_rate is not tuned: genomes always carry both a long and a short entry rule,
 * drawn and mutated alike, so there is no side bias to set (docs/ga.md). */
#include "kizashi/optim.h"

#define KZ_GA_TUNE_N_DIMS 5

/* Called after each evaluation: p = the GA settings evaluated (borrowed), fitness = the tuning
 * window fitness (NaN when the run failed), best = the best so far. Non-zero stops the tuning
 * (KZ_ERR_CANCELLED; *bo_out still holds the history). */
typedef int (*kz_ga_tune_progress_fn)(
    size_t iteration, size_t n_calls, const kz_ga_params *p, double fitness, double best, void *ud);

typedef struct kz_ga_tune_params {
    size_t n_calls;          /* evaluations = GA runs, 1..100000 (default 50) */
    double tune_fraction;    /* tuning window, fraction of all bars (default 0.2) */
    double holdout_fraction; /* final holdout, fraction of all bars (default 0.2); the two sum to
                                at most 0.8 */
    /* integer ranges of the space (defaults SPEC 5: population 20..100, generations 10..50) */
    int population_min, population_max, generations_min, generations_max;
    kz_bo_params bo;                 /* optimiser (default kz_bo_params_default) */
    kz_ga_tune_progress_fn progress; /* optional */
    void *progress_ud;
} kz_ga_tune_params;

kz_ga_tune_params kz_ga_tune_params_default(void);

/* The tuned dimensions in this order: population int, generations int (the ranges of tp, which may
 * be NULL = defaults), crossover_rate real [0.5, 0.9], mutation_rate real [0.01, 0.3],
 * sharing_radius real [0.05, 0.3]. *out freed with kz_space_free. KZ_ERR_INVALID (bad ranges). */
KZ_NODISCARD kz_status kz_ga_tune_space(const kz_ga_tune_params *tp, kz_space **out, kz_error *err);
/* Apply point x (KZ_GA_TUNE_N_DIMS values) to p: the five fields, sharing on (its radius is
 * tuned), elite capped at population / 2. */
void kz_ga_tune_apply(const double *x, kz_ga_params *p);

typedef struct kz_ga_tune_result {
    kz_ga_params best;     /* base with the best point applied (progress/stop/ud cleared) */
    double best_x[KZ_GA_TUNE_N_DIMS];
    double best_fitness;   /* tuning-window fitness of the best run's top strategy (maximised) */
    size_t best_iteration; /* 0-based evaluation index */
    size_t n_evals, n_failed;
    uint64_t seed;         /* the optimiser's seed (the GA's is best.seed) */
    size_t n_bars;         /* bars of the whole set */
    size_t gap;            /* bars between IS and tuning window, and before the holdout */
    size_t is_end, tune_begin, tune_end, holdout_begin; /* windows, see above */
    size_t n_bars_seen;    /* bars the objective read: [0, tune_end) */
} kz_ga_tune_result;

/* Tune on the set `cs` (borrowed: external columns such as the ML ones are copied into the
 * tuner's own prefix set). base (NULL = kz_ga_params_default) gives every GA setting outside the
 * space (mode, elite, fitness, costs, seed, threads, gap_bars; oos_fraction is ignored); its
 * progress and stop are not used. tp may be NULL. bo_out optional as kz_model_tune's (also set on
 * KZ_ERR_CANCELLED and KZ_ERR_RANGE). Bit-identical for any thread count. Errors: KZ_ERR_INVALID
 * (params or too few bars for the three windows, naming the field), KZ_ERR_RANGE (no evaluation
 * succeeded; the last failure in err), KZ_ERR_CANCELLED, KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_ga_tune(const kz_colset *cs,
                                  const kz_ga_params *base,
                                  const kz_ga_tune_params *tp,
                                  kz_ga_tune_result *out,
                                  kz_bo **bo_out,
                                  kz_error *err);
/* The final run: kz_ga_run on cs with r->best, IS = [0, holdout_begin - gap) and OOS = the
 * holdout, so out->top[k].oos are the holdout metrics (read once, after tuning). */
KZ_NODISCARD kz_status kz_ga_tune_final(const kz_colset *cs,
                                        const kz_ga_tune_result *r,
                                        kz_ga_result *out,
                                        kz_error *err);
/* The result as JSON: "params" by SPEC names, fitness, iteration, counts, seeds and windows
 * (*json kz_malloc'ed). */
KZ_NODISCARD kz_status kz_ga_tune_result_to_json(const kz_ga_tune_result *r, char **json);

#ifdef __cplusplus
}
#endif
#endif
