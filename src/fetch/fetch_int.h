/* Internal declarations of the fetch module: endpoint tables and response envelopes
 * (exchange.c), the HTTP client with retries' building blocks and rate limiting (http.c). */
#ifndef KZ_FETCH_INT_H
#define KZ_FETCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/fetch.h"

/* One REST endpoint serving one kind of data on one exchange. */
typedef struct fx_endpoint {
    const char *path;      /* e.g. "/v5/market/kline" */
    const char *name;      /* short label for messages: "bybit kline" */
    size_t max_page;       /* documented maximum `limit` */
    int newest_first;      /* rows come newest first; a request returns the newest `limit` rows of
                            * [start, end] (Bybit v5) */
    int cursor;            /* pagination inside a window follows result.nextPageCursor */
    int windowed;          /* ascending, but requests must be bounded to `limit` grid steps
                            * because the range's newest rows win (Binance openInterestHist) */
    int max_age_days;      /* history kept by the exchange, 0 = unlimited */
    int bucket;            /* rate-limit bucket index (per exchange), see fx_bucket_budget */
    const char *start_key; /* query names of the range bounds (inclusive, ms) */
    const char *end_key;
} fx_endpoint;

/* The endpoint of (ex, kind); never NULL for valid arguments. */
const fx_endpoint *fx_endpoint_of(kz_exchange ex, kz_data_kind kind);
/* Request weight of one call with `limit` rows (Binance klines weigh by limit; others 1). */
double fx_weight(kz_exchange ex, kz_data_kind kind, size_t limit);
/* Documented budget of bucket `b` of `ex`: `weight` per `window_s` seconds. 0 if no bucket. */
int fx_bucket_budget(kz_exchange ex, int b, double *weight, double *window_s);
#define FX_MAX_BUCKETS 3

/* Grid step of the rows of (kind, tf): bar duration, OI interval, nominal funding spacing (8 h);
 * used to size windows. */
int64_t fx_step_ms(kz_exchange ex, kz_data_kind kind, kz_timeframe tf);

/* Build the request URL into buf (cap bytes). `interval` may be NULL (funding), `cursor` NULL or
 * "". KZ_ERR_RANGE if it does not fit. */
kz_status fx_build_url(char *buf,
                       size_t cap,
                       const char *base,
                       kz_exchange ex,
                       const fx_endpoint *ep,
                       const char *symbol,
                       const char *interval,
                       int64_t start_ms,
                       int64_t end_ms,
                       size_t limit,
                       const char *cursor);

/* What the envelope of a response says, before its rows are read. */
typedef struct fx_envelope {
    int error;         /* 1: the exchange reported an error (code, msg) */
    int retryable;     /* the error is transient (rate limit, busy) */
    long code;         /* Bybit retCode / Binance code */
    char msg[256];     /* Bybit retMsg / Binance msg / start of a non-JSON body */
    size_t n_rows;     /* rows in the list (before validation) */
    int64_t server_ms; /* server time in the body (Bybit "time"), 0 if absent */
    char cursor[256];  /* Bybit result.nextPageCursor, "" if none */
} fx_envelope;

/* Parse the envelope of a response body of HTTP `status`. KZ_OK with env filled when the body is
 * a well-formed response or error of the exchange; KZ_ERR_PARSE (err filled with `label`, line,
 * column) when it is not JSON of the expected shape. For a non-2xx status a non-JSON body is not
 * an error: its start goes to env->msg. */
kz_status fx_envelope_parse(kz_exchange ex,
                            long status,
                            const char *body,
                            size_t len,
                            const char *label,
                            fx_envelope *env,
                            kz_error *err);

/* ---------------------------------------------------------------- HTTP (http.c) */
typedef struct fx_http fx_http;

typedef struct fx_response {
    long status;      /* HTTP status, 0 when the transfer failed */
    const char *body; /* view into the client's buffer, valid until the next request */
    size_t len;
    double retry_after_s; /* Retry-After (seconds or HTTP date), < 0 if absent */
    char reason[256];     /* transport failure text */
} fx_response;

kz_status fx_http_open(const kz_fetch_params *p, fx_http **out, kz_error *err);
void fx_http_close(fx_http *h);
/* GET `url`. KZ_OK: a response arrived (any status). KZ_ERR_IO: the transfer failed (timeout,
 * refused, cut: retryable; reason filled). KZ_ERR_CANCELLED: the cancel flag stopped it.
 * KZ_ERR_NOMEM / KZ_ERR_RANGE (body over the size cap). */
kz_status fx_http_get(fx_http *h, const char *url, fx_response *r);

/* Token bucket: `rate` weight per second, `cap` at most; time is a caller-owned clock so sleeps
 * that are only recorded (tests) still count as elapsed. */
typedef struct fx_bucket {
    double rate, cap, tokens, t_last;
} fx_bucket;

void fx_bucket_init(fx_bucket *b, double weight, double window_s, double scale, double now_s);
/* Seconds to wait before spending `w` at time now_s (0 when available); spends it. */
double fx_bucket_take(fx_bucket *b, double w, double now_s);

#endif
