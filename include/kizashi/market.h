/* kizashi market data: timeframes, timestamps, columnar bars and FR/OI series, file readers with
 * validation, as-of alignment and a synthetic generator.
 * Thread contract: all functions are reentrant; a kz_bars/kz_series/kz_market is not shared
 * between threads while it is being modified. */
#ifndef KIZASHI_MARKET_H
#define KIZASHI_MARKET_H

#include "kizashi/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- timeframes and time */
typedef enum kz_timeframe {
    KZ_TF_1M,
    KZ_TF_5M,
    KZ_TF_15M,
    KZ_TF_30M,
    KZ_TF_1H,
    KZ_TF_4H,
    KZ_TF_1D,
    KZ_TF_COUNT
} kz_timeframe;

/* Parse "1m" "5m" "15m" "30m" "1h" "4h" "1d" (case-insensitive). KZ_ERR_INVALID otherwise. */
KZ_NODISCARD kz_status kz_timeframe_parse(const char *s, kz_timeframe *out);
/* Canonical name ("1h"); "?" for an invalid value. Static string. */
const char *kz_timeframe_str(kz_timeframe tf);
/* Bar duration in milliseconds; 0 for an invalid value. */
int64_t kz_timeframe_ms(kz_timeframe tf);

/* Parse a timestamp of `len` bytes (not necessarily NUL-terminated) into ms since the epoch (UTC).
 * Accepts integer seconds (< 1e11), milliseconds (< 1e14), microseconds (< 1e17), nanoseconds,
 * optionally with a fractional part, and ISO-8601 "YYYY-MM-DD[( |T)hh:mm[:ss[.fff]]][Z|±hh[:]mm]"
 * (zone-less = UTC). Returns KZ_ERR_PARSE on anything else. */
KZ_NODISCARD kz_status kz_time_parse(const char *s, size_t len, int64_t *out_ms);
/* Format ms since the epoch as "YYYY-MM-DDThh:mm:ssZ" (".mmm" added when ms % 1000 != 0).
 * buf must hold at least 32 bytes. Returns buf. */
char *kz_time_format(int64_t ms, char *buf);

/* ---------------------------------------------------------------- columnar containers */
/* OHLCV bars, struct of arrays, owned by the struct. ts_ms is the bar's open time (UTC).
 * Initialise with `kz_bars b = {0};` and release with kz_bars_free. */
typedef struct kz_bars {
    size_t n;   /* number of bars */
    size_t cap; /* allocated capacity (internal) */
    int64_t *ts_ms;
    double *open, *high, *low, *close, *volume;
} kz_bars;

/* A timestamped scalar series (funding rate or open interest), owned by the struct. */
typedef struct kz_series {
    size_t n;
    size_t cap;
    int64_t *ts_ms;
    double *value;
} kz_series;

/* Ensure capacity for `cap` rows. KZ_ERR_NOMEM on failure (contents unchanged). */
KZ_NODISCARD kz_status kz_bars_reserve(kz_bars *b, size_t cap);
/* Append one bar (grows geometrically). */
KZ_NODISCARD kz_status kz_bars_push(kz_bars *b, int64_t ts_ms, double open, double high, double low,
                                    double close, double volume);
/* Release the arrays and zero the struct. Accepts NULL. */
void kz_bars_free(kz_bars *b);
KZ_NODISCARD kz_status kz_series_reserve(kz_series *s, size_t cap);
KZ_NODISCARD kz_status kz_series_push(kz_series *s, int64_t ts_ms, double value);
void kz_series_free(kz_series *s);

/* Market = bars plus funding rate and open interest aligned onto them (as-of), and the raw
 * funding events (needed to charge funding payments in a backtest). Everything is owned. */
typedef struct kz_market {
    char exchange[32];
    char symbol[32];
    kz_timeframe tf;
    kz_bars bars;
    double *funding;      /* n = bars.n, aligned as-of (NaN = unknown), or NULL if no FR data */
    double *oi;           /* n = bars.n, aligned as-of (NaN = unknown), or NULL if no OI data */
    kz_series funding_raw; /* funding settlements inside the bars' span (may be empty) */
} kz_market;

void kz_market_free(kz_market *m);

/* ---------------------------------------------------------------- readers */
typedef enum kz_data_kind { KZ_DATA_BARS, KZ_DATA_FUNDING, KZ_DATA_OI } kz_data_kind;

/* Input formats. AUTO detects from the header and content. */
typedef enum kz_format {
    KZ_FMT_AUTO,
    KZ_FMT_CSV,            /* timestamp,open,high,low,close,volume[,...], header optional */
    KZ_FMT_BINANCE_CSV,    /* Binance kline CSV: open_time,o,h,l,c,v,close_time,... */
    KZ_FMT_BINANCE_JSON,   /* Binance REST klines: [[open_time,"o","h","l","c","v",close_time,...]] */
    KZ_FMT_BYBIT_JSON,     /* Bybit v5 kline: {"result":{"list":[["ts","o","h","l","c","v","turnover"]]}} */
    KZ_FMT_FREQTRADE_JSON, /* freqtrade: [[ts,o,h,l,c,v],...] */
    KZ_FMT_SERIES_CSV,     /* timestamp,<value>[,...] for funding / open interest */
    KZ_FMT_SERIES_JSON     /* JSON array of objects (exchange field names), or Bybit/Binance shapes */
} kz_format;

/* Name of a format ("csv", "binance-csv", ...); static string. */
const char *kz_format_str(kz_format f);

/* Called once per skipped row in skip_bad mode; `e` names file, line, column and reason. */
typedef void (*kz_skip_fn)(const kz_error *e, void *ud);

typedef struct kz_read_opts {
    kz_format format;  /* KZ_FMT_AUTO by default */
    kz_timeframe tf;   /* for bars: grid check (ts % duration == 0); default KZ_TF_1H */
    int check_grid;    /* 1 (default): timestamps off the timeframe grid are errors */
    int skip_bad;      /* 0 (default): the first bad row fails the read; 1: skip and report it */
    kz_skip_fn on_skip; /* optional, see above */
    void *on_skip_ud;
} kz_read_opts;

kz_read_opts kz_read_opts_default(void);

/* What a read found. Rows are sorted by time on return; exact duplicate rows are dropped. */
typedef struct kz_read_report {
    kz_format format;     /* the detected (or given) format */
    size_t n_rows;        /* rows returned */
    size_t n_skipped;     /* bad rows skipped (skip_bad mode) */
    size_t n_duplicates;  /* identical duplicate rows dropped */
    int was_unsorted;     /* 1 if the input was not in ascending time order */
    size_t n_gaps;        /* bars: number of gaps (missing grid steps runs); never filled */
    size_t n_missing;     /* bars: number of missing bars inside the span */
} kz_read_report;

/* Read bars from a file (CSV or JSON, see kz_format). On success `out` (which must be empty:
 * `kz_bars b = {0}`) holds the sorted rows. On failure `out` is left empty and `err` (optional)
 * names file, line, column/field and the reason:
 *   KZ_ERR_IO (open/read), KZ_ERR_FORMAT (undetectable), KZ_ERR_PARSE (non-numeric field, bad
 *   timestamp, malformed JSON), KZ_ERR_VALIDATION (NaN/inf, high < low, high < max(open, close),
 *   low > min(open, close), price <= 0, volume < 0, duplicate timestamp with different values,
 *   timestamp off the timeframe grid). `rep` is optional. */
KZ_NODISCARD kz_status kz_bars_read_file(const char *path, const kz_read_opts *opts, kz_bars *out,
                                         kz_read_report *rep, kz_error *err);
/* Same from memory; `name` labels error messages (e.g. "<stdin>"). */
KZ_NODISCARD kz_status kz_bars_read_mem(const char *buf, size_t len, const char *name,
                                        const kz_read_opts *opts, kz_bars *out,
                                        kz_read_report *rep, kz_error *err);

/* Read a funding-rate (kind = KZ_DATA_FUNDING) or open-interest (KZ_DATA_OI) series. Value
 * columns recognised: funding_rate, fundingRate, rate / open_interest, openInterest,
 * open_interest_usd, sumOpenInterest, sumOpenInterestValue, oi; timestamps: timestamp,
 * fundingTime, fundingRateTimestamp, time, ts. Without a header: first column timestamp, second
 * value. Validation: finite values; OI >= 0; duplicate timestamp with different values. */
KZ_NODISCARD kz_status kz_series_read_file(const char *path, kz_data_kind kind,
                                           const kz_read_opts *opts, kz_series *out,
                                           kz_read_report *rep, kz_error *err);
KZ_NODISCARD kz_status kz_series_read_mem(const char *buf, size_t len, const char *name,
                                          kz_data_kind kind, const kz_read_opts *opts,
                                          kz_series *out, kz_read_report *rep, kz_error *err);

/* Count gaps in sorted bars on the grid of `tf`: runs of missing bars and the missing total. */
void kz_bars_gaps(const kz_bars *b, kz_timeframe tf, size_t *n_gaps, size_t *n_missing);

/* ---------------------------------------------------------------- as-of alignment */
/* For each bar i, out[i] = the value of the last point of `src` (sorted by time) whose timestamp
 * is strictly before the bar's close (ts_ms[i] + duration(tf)), i.e. known when the bar's close
 * price is known. If there is none, or it is older than max_age_ms (bar close - stamp >
 * max_age_ms; max_age_ms <= 0 means no limit), out[i] = NaN. O(n + m). `out` has bars->n slots. */
KZ_NODISCARD kz_status kz_align_asof(const kz_bars *bars, kz_timeframe tf, const kz_series *src,
                                     int64_t max_age_ms, double *out);

/* Build a kz_market from bars and optional series (copied; NULL = absent). */
KZ_NODISCARD kz_status kz_market_build(const char *exchange, const char *symbol, kz_timeframe tf,
                                       const kz_bars *bars, const kz_series *funding,
                                       const kz_series *oi, int64_t funding_max_age_ms,
                                       int64_t oi_max_age_ms, kz_market *out);

/* Same, but takes ownership of `bars`' arrays (moved into out->bars, no copy): `bars` is left
 * empty on success AND on failure (freed). For callers that built the bars only to make a market
 * (the store's loader). */
KZ_NODISCARD kz_status kz_market_build_take(const char *exchange, const char *symbol,
                                            kz_timeframe tf, kz_bars *bars,
                                            const kz_series *funding, const kz_series *oi,
                                            int64_t funding_max_age_ms, int64_t oi_max_age_ms,
                                            kz_market *out);

/* ---------------------------------------------------------------- synthetic data */
typedef struct kz_synth_params {
    size_t n_bars;         /* default 10000 */
    kz_timeframe tf;       /* default 1h */
    int64_t start_ms;      /* default 2024-01-01T00:00Z */
    double start_price;    /* default 50000 */
    double annual_vol;     /* long-run annualised volatility, default 0.6 */
    double garch_alpha;    /* GARCH(1,1) shock weight, default 0.08 */
    double garch_beta;     /* GARCH(1,1) persistence, default 0.90 */
    double tail_dof;       /* Student-t degrees of freedom for shocks (fat tails), default 4 */
    double base_volume;    /* mean volume per bar in base units, default 1000 */
    double funding_mean;   /* mean 8-hourly funding rate, default 1e-4 */
    double oi_start_usd;   /* default 5e9 */
    uint64_t seed;         /* default 42 */
} kz_synth_params;

kz_synth_params kz_synth_params_default(void);
/* Validate params: KZ_ERR_INVALID with the field named in err. */
KZ_NODISCARD kz_status kz_synth_params_check(const kz_synth_params *p, kz_error *err);
/* Generate bars (volatility clustering via GARCH(1,1), Student-t shocks, volume tied to
 * |return|), 8-hourly funding (00/08/16 UTC, mean-reverting, follows recent trend) and hourly-or-
 * bar-frequency open interest. All outputs must be empty on entry; funding/oi may be NULL.
 * Deterministic for a given seed. */
KZ_NODISCARD kz_status kz_synth_generate(const kz_synth_params *p, kz_bars *bars,
                                         kz_series *funding, kz_series *oi, kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
