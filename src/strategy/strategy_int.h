/* Internal declarations of the strategy module: the column set's layout, strategies resolved
 * against a column set (shared by the fast engine and the reference), and error helpers. */
#ifndef KZ_STRATEGY_INT_H
#define KZ_STRATEGY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/strategy.h"

typedef struct kz_colent {
    char name[KZ_COL_NAME_MAX];
    const double *data; /* view: borrowed from the market / caller, or == owned */
    double *owned;      /* NULL when borrowed */
} kz_colent;

struct kz_colset {
    const kz_market *m; /* borrowed */
    size_t n;           /* bars */
    kz_colent *cols;
    size_t n_cols, cap;
    /* Sum of the funding rates settled in each bar (0 when none): a settlement at time f belongs
     * to the first bar whose close time is after f (the bar containing f, or the next one after a
     * gap). Charged at that bar's open price. */
    double *fund_settle;
};

/* Rule indices in kz_bt_plan. */
enum { KZ_BT_LONG = 0, KZ_BT_SHORT = 1, KZ_BT_EXIT = 2, KZ_BT_N_RULES = 3 };

typedef struct kz_bt_cond {
    const double *l; /* left column */
    const double *r; /* right column, or NULL for a constant */
    double c;        /* the constant */
    kz_cond_op op;
} kz_bt_cond;

/* A strategy with every column name replaced by its data. */
typedef struct kz_bt_plan {
    kz_bt_cond conds[KZ_BT_N_RULES][KZ_RULE_MAX_CONDS];
    int n_conds[KZ_BT_N_RULES];
    kz_logic logic[KZ_BT_N_RULES];
    const double *atr;  /* KZ_TPSL_ATR only */
    const double *rvol; /* KZ_SIZE_VOL_TARGET only */
    double bars_per_year;
} kz_bt_plan;

/* Fill err (optional) and return code. `field` may be NULL. */
kz_status kz_bt_err(kz_error *err, kz_status code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Validate s and p, then resolve every column the strategy reads (never computes). */
kz_status kz_bt_resolve(const kz_colset *cs,
                        const kz_strategy *s,
                        const kz_bt_params *p,
                        kz_bt_plan *plan,
                        kz_error *err);

/* 365 days of 24 h divided by the bar duration (crypto trades around the clock). */
double kz_bt_bars_per_year(kz_timeframe tf);

/* Canonical spec strings of the columns a strategy's TP/SL and sizing need. */
void kz_bt_atr_spec(int period, char *buf, size_t size);
void kz_bt_rvol_spec(int period, char *buf, size_t size);

/* Metrics from a recorded equity curve and trade list, computed plainly (used by the reference
 * engine; the fast engine accumulates the same quantities in its loop). */
void kz_bt_metrics_from_curve(const kz_colset *cs,
                              const double *equity,
                              const kz_trade *trades,
                              size_t n_trades,
                              double initial_equity,
                              double bars_per_year,
                              kz_bt_metrics *m);

#endif
