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

#ifdef __cplusplus
}
#endif
#endif
