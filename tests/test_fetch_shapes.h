/* Exchange REST emulation for the collector's tests and benchmark: builds the exact documented
 * JSON replies of Bybit v5 (kline, funding/history, open-interest) and Binance USDT-M (klines,
 * fundingRate, openInterestHist) from in-memory series, honouring each endpoint's paging rules. */
#ifndef KZ_TEST_FETCH_SHAPES_H
#define KZ_TEST_FETCH_SHAPES_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/fetch.h"

/* What the emulated exchange holds. The newest bar (ts <= now) may still be forming. */
typedef struct fs_data {
    kz_exchange ex;
    kz_timeframe tf;
    const char *symbol; /* the one valid symbol, "BTCUSDT" */
    const kz_bars *bars;
    const kz_series *funding;
    const kz_series *oi;
    int64_t now_ms;         /* rows after this do not exist yet */
    int64_t server_time_ms; /* Bybit "time" field; 0 = now_ms */
    size_t oi_cap;          /* server-side cap of an OI page (0 = none): forces Bybit cursors */
} fs_data;

typedef struct fs_buf {
    char *p;
    size_t n, cap;
} fs_buf;

static inline void fs_put(fs_buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k >= 0 && b->p && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)k + 1) {
            cap *= 2;
        }
        char *q = realloc(b->p, cap);
        if (!q) {
            abort();
        }
        b->p = q;
        b->cap = cap;
    }
}

/* Shortest decimal text that reads back as the same double, like the exchanges' short prices. */
static inline void fs_num(fs_buf *b, double v)
{
    char t[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) {
            break;
        }
    }
    fs_put(b, "%s", t);
}

typedef const char *(*fs_arg_fn)(void *ctx, const char *key);

typedef struct fs_reply {
    int status;
    char *body; /* malloc'd */
    size_t len;
} fs_reply;

static inline int64_t fs_i64(fs_arg_fn arg, void *ctx, const char *key, int64_t dflt)
{
    const char *s = arg(ctx, key);
    return s && *s ? (int64_t)strtoll(s, NULL, 10) : dflt;
}

/* Index range [lo, hi) of ts in [a, b] (inclusive), ts sorted. */
static inline void
fs_span(const int64_t *ts, size_t n, int64_t a, int64_t b, size_t *lo, size_t *hi)
{
    size_t i = 0;
    while (i < n && ts[i] < a) {
        i++;
    }
    size_t j = i;
    while (j < n && ts[j] <= b) {
        j++;
    }
    *lo = i;
    *hi = j;
}

static inline void fs_bybit_error(fs_buf *b, int code, const char *msg)
{
    fs_put(b, "{\"retCode\":%d,\"retMsg\":\"%s\",\"result\":{},\"retExtInfo\":{},\"time\":0}", code,
           msg);
}

static inline void
fs_bybit(const fs_data *d, const char *path, fs_arg_fn arg, void *ctx, fs_reply *r, fs_buf *b)
{
    const char *sym = arg(ctx, "symbol"), *cat = arg(ctx, "category");
    int64_t tnow = d->server_time_ms ? d->server_time_ms : d->now_ms;
    r->status = 200;
    if (!sym || strcmp(sym, d->symbol) != 0 || !cat || strcmp(cat, "linear") != 0) {
        fs_bybit_error(b, 10001, "params error: symbol invalid");
        return;
    }
    int kline = strcmp(path, "/v5/market/kline") == 0;
    int fund = strcmp(path, "/v5/market/funding/history") == 0;
    int oi = strcmp(path, "/v5/market/open-interest") == 0;
    if (!kline && !fund && !oi) {
        r->status = 404;
        fs_put(b, "Not Found");
        return;
    }
    const char *iv = arg(ctx, kline ? "interval" : "intervalTime");
    const char *want = NULL;
    if (!fund &&
        (kz_fetch_interval(d->ex, kline ? KZ_DATA_BARS : KZ_DATA_OI, d->tf, &want) != KZ_OK ||
         !iv || strcmp(iv, want) != 0)) {
        fs_bybit_error(b, 10001, "params error: invalid interval");
        return;
    }
    int64_t start = fs_i64(arg, ctx, kline ? "start" : "startTime", INT64_MIN);
    int64_t end = fs_i64(arg, ctx, kline ? "end" : "endTime", tnow);
    size_t maxl = kline ? 1000 : 200;
    int64_t limit = fs_i64(arg, ctx, "limit", kline ? 200 : fund ? 200 : 50);
    if (limit < 1 || (size_t)limit > maxl) {
        fs_bybit_error(b, 10001, "params error: limit");
        return;
    }
    if (fund && arg(ctx, "startTime") && !arg(ctx, "endTime")) {
        /* Documented: passing only startTime returns an error. */
        fs_bybit_error(b, 10001, "params error: endTime is required with startTime");
        return;
    }
    const int64_t *ts = kline ? d->bars->ts_ms : fund ? d->funding->ts_ms : d->oi->ts_ms;
    size_t n = kline ? d->bars->n : fund ? d->funding->n : d->oi->n, lo, hi;
    fs_span(ts, n, start, end < d->now_ms ? end : d->now_ms, &lo, &hi);
    size_t skip = 0, take = (size_t)limit;
    if (oi) {
        const char *cur = arg(ctx, "cursor");
        if (cur && strncmp(cur, "lastid=", 7) == 0) {
            skip = (size_t)strtoull(cur + 7, NULL, 10);
        }
        if (d->oi_cap && take > d->oi_cap) {
            take = d->oi_cap;
        }
    }
    fs_put(b,
           "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"symbol\":\"%s\",\"category\":\"linear\","
           "\"list\":[",
           d->symbol);
    size_t k = 0;
    for (size_t i = hi; i-- > lo;) { /* newest first */
        if (k >= skip + take) {
            break;
        }
        if (k++ < skip) {
            continue;
        }
        fs_put(b, k > skip + 1 ? "," : "");
        if (kline) {
            const kz_bars *x = d->bars;
            fs_put(b, "[\"%" PRId64 "\",\"", x->ts_ms[i]);
            const double v[5] = {x->open[i], x->high[i], x->low[i], x->close[i], x->volume[i]};
            for (int c = 0; c < 5; c++) {
                fs_num(b, v[c]);
                fs_put(b, "\",\"");
            }
            fs_num(b, x->volume[i] * x->close[i]);
            fs_put(b, "\"]");
        } else if (fund) {
            fs_put(b, "{\"symbol\":\"%s\",\"fundingRate\":\"", d->symbol);
            fs_num(b, d->funding->value[i]);
            fs_put(b, "\",\"fundingRateTimestamp\":\"%" PRId64 "\"}", ts[i]);
        } else {
            fs_put(b, "{\"openInterest\":\"");
            fs_num(b, d->oi->value[i]);
            fs_put(b, "\",\"timestamp\":\"%" PRId64 "\"}", ts[i]);
        }
    }
    fs_put(b, "]");
    if (oi) {
        int more = hi - lo > skip + take;
        if (more) {
            fs_put(b, ",\"nextPageCursor\":\"lastid%%3D%zu\"", skip + take);
        } else {
            fs_put(b, ",\"nextPageCursor\":\"\"");
        }
    }
    fs_put(b, "},\"retExtInfo\":{},\"time\":%" PRId64 "}", tnow);
}

static inline void
fs_binance(const fs_data *d, const char *path, fs_arg_fn arg, void *ctx, fs_reply *r, fs_buf *b)
{
    const char *sym = arg(ctx, "symbol");
    int kl = strcmp(path, "/fapi/v1/klines") == 0;
    int fund = strcmp(path, "/fapi/v1/fundingRate") == 0;
    int oi = strcmp(path, "/futures/data/openInterestHist") == 0;
    r->status = 400;
    if (!kl && !fund && !oi) {
        r->status = 404;
        fs_put(b, "<html><body>Not Found</body></html>");
        return;
    }
    if (!sym || strcmp(sym, d->symbol) != 0) {
        fs_put(b, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
        return;
    }
    const char *iv = arg(ctx, kl ? "interval" : "period"), *want = NULL;
    if (!fund && (kz_fetch_interval(d->ex, kl ? KZ_DATA_BARS : KZ_DATA_OI, d->tf, &want) != KZ_OK ||
                  !iv || strcmp(iv, want) != 0)) {
        fs_put(b, "{\"code\":-1120,\"msg\":\"Invalid interval.\"}");
        return;
    }
    int64_t maxl = kl ? 1500 : fund ? 1000 : 500;
    int64_t limit = fs_i64(arg, ctx, "limit", kl ? 500 : fund ? 100 : 30);
    if (limit < 1 || limit > maxl) {
        fs_put(b, "{\"code\":-1130,\"msg\":\"Data sent for parameter 'limit' is not valid.\"}");
        return;
    }
    r->status = 200;
    const int64_t *ts = kl ? d->bars->ts_ms : fund ? d->funding->ts_ms : d->oi->ts_ms;
    size_t n = kl ? d->bars->n : fund ? d->funding->n : d->oi->n, lo, hi;
    int64_t start = fs_i64(arg, ctx, "startTime", 0);
    int64_t end = fs_i64(arg, ctx, "endTime", d->now_ms);
    if (oi && start < d->now_ms - 30LL * 86400000) {
        start = d->now_ms - 30LL * 86400000; /* only the latest 30 days are kept */
    }
    fs_span(ts, n, start, end < d->now_ms ? end : d->now_ms, &lo, &hi);
    if (hi - lo > (size_t)limit) {
        /* klines/fundingRate page forward from startTime; openInterestHist keeps the newest. */
        if (oi) {
            lo = hi - (size_t)limit;
        } else {
            hi = lo + (size_t)limit;
        }
    }
    fs_put(b, "[");
    for (size_t i = lo; i < hi; i++) {
        fs_put(b, i > lo ? "," : "");
        if (kl) {
            const kz_bars *x = d->bars;
            fs_put(b, "[%" PRId64 ",\"", x->ts_ms[i]);
            const double v[5] = {x->open[i], x->high[i], x->low[i], x->close[i], x->volume[i]};
            for (int c = 0; c < 5; c++) {
                fs_num(b, v[c]);
                fs_put(b, c < 4 ? "\",\"" : "\",");
            }
            fs_put(b, "%" PRId64 ",\"", x->ts_ms[i] + kz_timeframe_ms(d->tf) - 1);
            fs_num(b, x->volume[i] * x->close[i]);
            fs_put(b, "\",1234,\"0\",\"0\",\"0\"]");
        } else if (fund) {
            fs_put(b, "{\"symbol\":\"%s\",\"fundingTime\":%" PRId64 ",\"fundingRate\":\"",
                   d->symbol, ts[i]);
            fs_num(b, d->funding->value[i]);
            fs_put(b, "\",\"markPrice\":\"50000.1\"}");
        } else {
            fs_put(b, "{\"symbol\":\"%s\",\"sumOpenInterest\":\"", d->symbol);
            fs_num(b, d->oi->value[i] / 50000.0);
            fs_put(b, "\",\"sumOpenInterestValue\":\"");
            fs_num(b, d->oi->value[i]);
            fs_put(b, "\",\"timestamp\":%" PRId64 "}", ts[i]);
        }
    }
    fs_put(b, "]");
}

/* The reply of the emulated exchange to GET `path` with query arguments looked up by `arg`. */
static inline void
fs_reply_build(const fs_data *d, const char *path, fs_arg_fn arg, void *ctx, fs_reply *r)
{
    fs_buf b = {NULL, 0, 0};
    if (d->ex == KZ_EXCHANGE_BYBIT) {
        fs_bybit(d, path, arg, ctx, r, &b);
    } else {
        fs_binance(d, path, arg, ctx, r, &b);
    }
    r->body = b.p;
    r->len = b.n;
}

#endif
