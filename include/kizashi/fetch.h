/* kizashi fetch: collect bars, funding rate and open interest from the exchanges' public REST
 * endpoints (Bybit v5 linear, Binance USDT-M) into the store, incrementally and resumably.
 * Thread contract: kz_fetch is reentrant; each call uses its own kz_store (one per thread). */
#ifndef KIZASHI_FETCH_H
#define KIZASHI_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/status.h"
#include "kizashi/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- exchanges and names */
typedef enum kz_exchange { KZ_EXCHANGE_BYBIT, KZ_EXCHANGE_BINANCE, KZ_EXCHANGE_COUNT } kz_exchange;

/* Parse "bybit" / "binance" (case-insensitive). KZ_ERR_INVALID otherwise. */
KZ_NODISCARD kz_status kz_exchange_parse(const char *s, kz_exchange *out);
/* Lower-case name, also the exchange name rows are stored under ("bybit"); "?" if invalid. */
const char *kz_exchange_str(kz_exchange ex);
/* Built-in base URL ("https://api.bybit.com", "https://fapi.binance.com"); NULL if invalid. */
const char *kz_exchange_default_url(kz_exchange ex);
/* Environment variable that overrides the base URL ("KIZASHI_BYBIT_URL"); NULL if invalid. */
const char *kz_exchange_url_env(kz_exchange ex);

/* Normalise a USDT-margined perpetual symbol to the exchanges' REST form: "BTCUSDT",
 * "btcusdt", "BTC/USDT:USDT" (ccxt), "BTC/USDT", "BTC-USDT", "BTC_USDT" and "BTCUSDT_PERP" all
 * give "BTCUSDT". `out` holds `cap` bytes. KZ_ERR_INVALID (err names the symbol) when the input
 * is empty, has characters other than letters and digits around the separators, or the settle
 * currency after ':' differs from the quote. */
KZ_NODISCARD kz_status kz_symbol_normalize(const char *in, char *out, size_t cap, kz_error *err);

/* The exchange's interval name for bars of `tf` (kind KZ_DATA_BARS: Bybit "1" "5" "15" "30"
 * "60" "240" "D"; Binance "1m" ... "1d") or for open interest sampled at `tf` (KZ_DATA_OI:
 * Bybit intervalTime "5min" "15min" "30min" "1h" "4h" "1d"; Binance period "5m" ... "1d"; 1m is
 * not offered by either and maps to the finest, 5 minutes). Funding has no interval:
 * KZ_ERR_INVALID, as for an invalid tf. *out is a static string. */
KZ_NODISCARD kz_status kz_fetch_interval(kz_exchange ex,
                                         kz_data_kind kind,
                                         kz_timeframe tf,
                                         const char **out);

/* ---------------------------------------------------------------- parameters */
/* What to fetch: bit (1u << kz_data_kind). */
#define KZ_FETCH_BARS    (1u << KZ_DATA_BARS)
#define KZ_FETCH_FUNDING (1u << KZ_DATA_FUNDING)
#define KZ_FETCH_OI      (1u << KZ_DATA_OI)
#define KZ_FETCH_ALL     (KZ_FETCH_BARS | KZ_FETCH_FUNDING | KZ_FETCH_OI)

/* Progress after each stored page (or finished kind). */
typedef struct kz_fetch_progress {
    kz_data_kind kind; /* series being fetched */
    size_t pages;      /* pages accepted so far, all kinds */
    size_t rows;       /* rows received so far, all kinds */
    int64_t from_ms;   /* range of this kind: [from_ms, to_ms) */
    int64_t to_ms;
    int64_t done_ms;  /* everything before this instant is stored */
    double fraction;  /* of this kind's range covered, 0..1 */
    double elapsed_s; /* since the call started */
    double eta_s;     /* estimated seconds left for this kind, < 0 when unknown */
} kz_fetch_progress;

/* Return non-zero to stop: the call then ends with KZ_ERR_CANCELLED (stored pages stay). */
typedef int (*kz_fetch_progress_fn)(const kz_fetch_progress *p, void *ud);
/* Sleep for `seconds` (backoff, Retry-After, rate limiting). Tests inject one that records. */
typedef void (*kz_fetch_sleep_fn)(double seconds, void *ud);

typedef struct kz_fetch_params {
    const char *base_url;     /* borrowed; NULL = $KIZASHI_<EXCHANGE>_URL, else the default */
    unsigned kinds;           /* KZ_FETCH_* bits, default KZ_FETCH_ALL */
    int64_t from_ms;          /* INT64_MIN (default) = incremental: after the newest stored row, or
                               * now - lookback_ms when the series is empty */
    int64_t to_ms;            /* exclusive; INT64_MAX (default) = now */
    int64_t lookback_ms;      /* first fetch of an empty series without from_ms, default 30 days */
    int64_t now_ms;           /* 0 (default) = the clock; also capped by the server's time when
                               * the response carries it (Bybit "time"). A bar is stored only when
                               * closed: ts + duration <= now. */
    size_t bars_page;         /* rows per request, 0 (default) = the maximum: Bybit 1000, Binance
                               * 1500 */
    size_t funding_page;      /* 0 = Bybit 200, Binance 1000 */
    size_t oi_page;           /* 0 = Bybit 200, Binance 500 */
    int max_retries;          /* per request, on 429/418, 5xx, timeouts, cut connections; 4 */
    double backoff_s;         /* first retry delay, doubled each retry, default 1 */
    double backoff_max_s;     /* cap of one delay, default 60 */
    double retry_after_max_s; /* a longer Retry-After (e.g. a 418 ban) fails at once, 600 */
    double timeout_s;         /* whole request, default 30 */
    double connect_timeout_s; /* default 10 */
    double rate_scale;        /* multiplies the documented request budgets; 0 = no limiting; 1 */
    kz_fetch_sleep_fn sleep;  /* NULL = nanosleep */
    void *sleep_ud;
    kz_fetch_progress_fn progress; /* optional */
    void *progress_ud;
    kz_log_fn log; /* optional: retries, truncations */
    void *log_ud;
    const atomic_int *cancel; /* optional: non-zero stops at the next request boundary and
                               * aborts a transfer in flight; borrowed */
} kz_fetch_params;

kz_fetch_params kz_fetch_params_default(void);
/* Validate: KZ_ERR_INVALID naming the field (kinds empty, from >= to, page sizes above the
 * exchange's maximum, negative delays). */
KZ_NODISCARD kz_status kz_fetch_params_check(const kz_fetch_params *p,
                                             kz_exchange ex,
                                             kz_error *err);

/* ---------------------------------------------------------------- report */
typedef struct kz_fetch_kind_report {
    int fetched;     /* 1 if this kind was requested */
    int64_t from_ms; /* range actually requested: [from_ms, to_ms) */
    int64_t to_ms;
    size_t pages; /* non-empty pages stored */
    size_t rows;  /* rows stored (after dropping forming bars and out-of-range rows) */
    size_t inserted, updated, unchanged;
    int truncated; /* Binance OI: from_ms was older than the 30 days the exchange keeps;
                    * from_ms above is the clipped start */
} kz_fetch_kind_report;

typedef struct kz_fetch_report {
    kz_fetch_kind_report kind[3]; /* indexed by kz_data_kind */
    size_t requests;              /* HTTP requests, retries included */
    size_t retries;
    size_t pages;        /* pages stored, all kinds */
    size_t rows;         /* rows stored, all kinds */
    size_t rows_dropped; /* rows received outside the range asked for (e.g. a forming bar) */
    double elapsed_s;
    double slept_s; /* total requested sleeping (backoff + rate limiting) */
} kz_fetch_report;

/* Fetch the kinds of `p` for `symbol` (any form kz_symbol_normalize takes; stored normalised
 * under kz_exchange_str(ex)) and timeframe `tf` into `st`. Pages are walked oldest first; each is
 * validated like an import (kz_bars_read_mem / kz_series_read_mem) and upserted in its own
 * transaction, so an interruption leaves a gap-free prefix of the range and an incremental rerun
 * continues after it. `p` NULL = defaults; `rep` optional (filled also on failure).
 * Errors (err names the URL and the exchange's message): KZ_ERR_INVALID (params, symbol, or an
 * HTTP 4xx / exchange error code: Bybit retCode/retMsg, Binance code/msg), KZ_ERR_IO (transport
 * failure or 5xx after the retries), KZ_ERR_PARSE / KZ_ERR_VALIDATION (a page failed the import
 * checks; nothing of it is stored), KZ_ERR_STORE, KZ_ERR_CANCELLED, KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_fetch(kz_store *st,
                                kz_exchange ex,
                                const char *symbol,
                                kz_timeframe tf,
                                const kz_fetch_params *p,
                                kz_fetch_report *rep,
                                kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
