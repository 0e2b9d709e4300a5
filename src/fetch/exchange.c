/* Exchange knowledge: names, base URLs, symbol normalisation, interval names, the endpoint
 * tables with their documented page sizes and rate budgets, request URLs and response envelopes.
 * Sources: Bybit v5 API docs (market/kline, market/history-fund-rate, market/open-interest,
 * rate-limit), Binance USDT-M futures docs (klines, fundingRate, openInterestHist, limits). */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fetch/fetch_int.h"

static const char *const NAMES[KZ_EXCHANGE_COUNT] = {"bybit", "binance"};
static const char *const URLS[KZ_EXCHANGE_COUNT] = {"https://api.bybit.com",
                                                    "https://fapi.binance.com"};
static const char *const ENVS[KZ_EXCHANGE_COUNT] = {"KIZASHI_BYBIT_URL", "KIZASHI_BINANCE_URL"};

static int valid_ex(kz_exchange ex)
{
    return (int)ex >= 0 && ex < KZ_EXCHANGE_COUNT;
}

static int valid_kind(kz_data_kind k)
{
    return k == KZ_DATA_BARS || k == KZ_DATA_FUNDING || k == KZ_DATA_OI;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

kz_status kz_exchange_parse(const char *s, kz_exchange *out)
{
    if (!s || !out) {
        return KZ_ERR_INVALID;
    }
    for (int e = 0; e < KZ_EXCHANGE_COUNT; e++) {
        size_t n = strlen(NAMES[e]), i = 0;
        while (i < n && s[i] && upper(s[i]) == upper(NAMES[e][i])) {
            i++;
        }
        if (i == n && s[i] == '\0') {
            *out = (kz_exchange)e;
            return KZ_OK;
        }
    }
    return KZ_ERR_INVALID;
}

const char *kz_exchange_str(kz_exchange ex)
{
    return valid_ex(ex) ? NAMES[ex] : "?";
}

const char *kz_exchange_default_url(kz_exchange ex)
{
    return valid_ex(ex) ? URLS[ex] : NULL;
}

const char *kz_exchange_url_env(kz_exchange ex)
{
    return valid_ex(ex) ? ENVS[ex] : NULL;
}

/* ---------------------------------------------------------------- symbols */

static int is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static kz_status bad_symbol(kz_error *err, const char *in, const char *why)
{
    return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "symbol", "symbol '%.100s': %s",
                        in ? in : "", why);
}

kz_status kz_symbol_normalize(const char *in, char *out, size_t cap, kz_error *err)
{
    char s[64];
    size_t n = 0;
    if (!in || !out || cap == 0) {
        return bad_symbol(err, in, "missing");
    }
    while (*in == ' ' || *in == '\t') {
        in++;
    }
    for (const char *p = in; *p && n + 1 < sizeof s; p++) {
        s[n++] = upper(*p);
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        n--;
    }
    s[n] = '\0';
    if (n == 0 || n + 1 >= sizeof s) {
        return bad_symbol(err, in, n ? "too long" : "empty");
    }
    /* A "_PERP" / "-PERP" suffix names the same perpetual. */
    if (n > 5 && strcmp(s + n - 5, "_PERP") == 0) {
        s[n -= 5] = '\0';
    } else if (n > 5 && strcmp(s + n - 5, "-PERP") == 0) {
        s[n -= 5] = '\0';
    }
    /* ccxt's BASE/QUOTE:SETTLE: only linear contracts (settled in the quote) are collected. */
    char *colon = strchr(s, ':');
    const char *settle = NULL;
    if (colon) {
        *colon = '\0';
        settle = colon + 1;
        n = (size_t)(colon - s);
    }
    char *sep = NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/' || s[i] == '-' || s[i] == '_') {
            if (sep) {
                return bad_symbol(err, in, "more than one base/quote separator");
            }
            sep = s + i;
        } else if (!is_alnum(s[i])) {
            return bad_symbol(err, in, "only letters and digits around one separator");
        }
    }
    if (sep && (sep == s || sep == s + n - 1)) {
        return bad_symbol(err, in, "base or quote currency missing");
    }
    if (settle) {
        for (const char *p = settle; *p; p++) {
            if (!is_alnum(*p)) {
                return bad_symbol(err, in, "bad settle currency");
            }
        }
        if (!sep || strcmp(settle, sep + 1) != 0) {
            return bad_symbol(
                err, in, "only linear perpetuals (settled in the quote currency) are supported");
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s + i != sep) {
            s[k++] = s[i];
        }
    }
    s[k] = '\0';
    if (k < 2 || k + 1 > cap || k >= 32) {
        return bad_symbol(err, in, k < 2 ? "too short" : "too long");
    }
    memcpy(out, s, k + 1);
    return KZ_OK;
}

/* ---------------------------------------------------------------- intervals */

static const char *const BYBIT_KLINE[KZ_TF_COUNT] = {"1", "5", "15", "30", "60", "240", "D"};
static const char *const BINANCE_KLINE[KZ_TF_COUNT] = {"1m", "5m", "15m", "30m", "1h", "4h", "1d"};
/* Neither exchange samples OI every minute: 1m maps to the finest interval, 5 minutes. */
static const char *const BYBIT_OI[KZ_TF_COUNT] = {"5min", "5min", "15min", "30min",
                                                  "1h",   "4h",   "1d"};
static const char *const BINANCE_OI[KZ_TF_COUNT] = {"5m", "5m", "15m", "30m", "1h", "4h", "1d"};

kz_status kz_fetch_interval(kz_exchange ex, kz_data_kind kind, kz_timeframe tf, const char **out)
{
    if (!out || !valid_ex(ex) || (int)tf < 0 || tf >= KZ_TF_COUNT ||
        (kind != KZ_DATA_BARS && kind != KZ_DATA_OI)) {
        return KZ_ERR_INVALID;
    }
    int bybit = ex == KZ_EXCHANGE_BYBIT;
    if (kind == KZ_DATA_BARS) {
        *out = bybit ? BYBIT_KLINE[tf] : BINANCE_KLINE[tf];
    } else {
        *out = bybit ? BYBIT_OI[tf] : BINANCE_OI[tf];
    }
    return KZ_OK;
}

int64_t fx_step_ms(kz_exchange ex, kz_data_kind kind, kz_timeframe tf)
{
    (void)ex;
    if (kind == KZ_DATA_FUNDING) {
        return 8LL * 3600 * 1000;
    }
    if (kind == KZ_DATA_OI && tf == KZ_TF_1M) {
        return kz_timeframe_ms(KZ_TF_5M);
    }
    return kz_timeframe_ms(tf);
}

/* ---------------------------------------------------------------- endpoints and budgets */

/* Indexed [exchange][kind]. Page maxima and the 30-day OI history are the documented values. */
static const fx_endpoint ENDPOINTS[KZ_EXCHANGE_COUNT][3] = {
    {
        {"/v5/market/kline", "bybit kline", 1000, 1, 0, 0, 0, 0, "start", "end"},
        {"/v5/market/funding/history", "bybit funding", 200, 1, 0, 0, 0, 0, "startTime", "endTime"},
        {"/v5/market/open-interest", "bybit open interest", 200, 1, 1, 0, 0, 0, "startTime",
         "endTime"},
    },
    {
        {"/fapi/v1/klines", "binance klines", 1500, 0, 0, 0, 0, 0, "startTime", "endTime"},
        {"/fapi/v1/fundingRate", "binance funding", 1000, 0, 0, 0, 0, 1, "startTime", "endTime"},
        {"/futures/data/openInterestHist", "binance open interest", 500, 0, 0, 1, 30, 2,
         "startTime", "endTime"},
    },
};

const fx_endpoint *fx_endpoint_of(kz_exchange ex, kz_data_kind kind)
{
    return valid_ex(ex) && valid_kind(kind) ? &ENDPOINTS[ex][kind] : NULL;
}

double fx_weight(kz_exchange ex, kz_data_kind kind, size_t limit)
{
    if (ex != KZ_EXCHANGE_BINANCE || kind != KZ_DATA_BARS) {
        return 1.0;
    }
    /* Binance klines: weight 1 / 2 / 5 / 10 for limit < 100 / < 500 / <= 1000 / above. */
    return limit < 100 ? 1.0 : limit < 500 ? 2.0 : limit <= 1000 ? 5.0 : 10.0;
}

int fx_bucket_budget(kz_exchange ex, int b, double *weight, double *window_s)
{
    /* Bybit: 600 requests per 5 s per IP for every endpoint. Binance: 2400 weight per minute;
     * fundingRate 500 requests per 5 min; openInterestHist 1000 requests per 5 min. */
    static const double BUDGET[KZ_EXCHANGE_COUNT][FX_MAX_BUCKETS][2] = {
        {{600, 5}, {0, 0}, {0, 0}},
        {{2400, 60}, {500, 300}, {1000, 300}},
    };
    if (!valid_ex(ex) || b < 0 || b >= FX_MAX_BUCKETS || BUDGET[ex][b][0] <= 0) {
        return 0;
    }
    *weight = BUDGET[ex][b][0];
    *window_s = BUDGET[ex][b][1];
    return 1;
}

/* ---------------------------------------------------------------- URLs */

/* Append printf-style text; returns 0, or -1 once the buffer is full. */
static int append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = *len < cap ? vsnprintf(buf + *len, cap - *len, fmt, ap) : -1;
    va_end(ap);
    if (k < 0 || (size_t)k >= cap - *len) {
        return -1;
    }
    *len += (size_t)k;
    return 0;
}

/* Cursors are opaque; Bybit sends them already percent-encoded ("lastid%3D110"), so only bytes
 * outside the unreserved set and '%' are encoded. */
static int append_escaped(char *buf, size_t cap, size_t *len, const char *s)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~%", *p);
        int r = plain ? append(buf, cap, len, "%c", *p)
                      : append(buf, cap, len, "%%%c%c", HEX[*p >> 4], HEX[*p & 15]);
        if (r != 0) {
            return -1;
        }
    }
    return 0;
}

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
                       const char *cursor)
{
    size_t len = 0, blen = strlen(base);
    while (blen && base[blen - 1] == '/') {
        blen--;
    }
    int r = append(buf, cap, &len, "%.*s%s?", (int)blen, base, ep->path);
    if (ex == KZ_EXCHANGE_BYBIT) {
        r |= append(buf, cap, &len, "category=linear&");
    }
    r |= append(buf, cap, &len, "symbol=%s", symbol);
    if (interval) {
        const char *key = ep == &ENDPOINTS[KZ_EXCHANGE_BYBIT][KZ_DATA_OI]     ? "intervalTime"
                          : ep == &ENDPOINTS[KZ_EXCHANGE_BINANCE][KZ_DATA_OI] ? "period"
                                                                              : "interval";
        r |= append(buf, cap, &len, "&%s=%s", key, interval);
    }
    r |= append(buf, cap, &len, "&%s=%lld&%s=%lld&limit=%zu", ep->start_key, (long long)start_ms,
                ep->end_key, (long long)end_ms, limit);
    if (cursor && *cursor) {
        r |= append(buf, cap, &len, "&cursor=");
        r |= append_escaped(buf, cap, &len, cursor);
    }
    return r == 0 ? KZ_OK : KZ_ERR_RANGE;
}

/* ---------------------------------------------------------------- envelopes */

static void copy_str(char *dst, size_t cap, const cJSON *it)
{
    const char *s = cJSON_IsString(it) && it->valuestring ? it->valuestring : "";
    snprintf(dst, cap, "%s", s);
}

/* 1-based line and column of `at` in buf, for malformed-JSON messages. */
static void locate(const char *buf, const char *at, long *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = buf; p < at; p++) {
        if (*p == '\n') {
            ++*line;
            *col = 1;
        } else if (*col < 1 << 30) {
            ++*col;
        }
    }
}

static kz_status shape_error(kz_error *err, const char *label, const char *what)
{
    return kz_error_set(err, KZ_ERR_PARSE, label, 0, 0, NULL, "unexpected response: %s", what);
}

/* Bybit v5: {"retCode":0,"retMsg":"OK","result":{"list":[...],"nextPageCursor":"..."},
 * "time":1672025956592}. retCode 10006 = too many visits, 10016 = server busy/error. */
static kz_status
bybit_envelope(const cJSON *root, const char *label, fx_envelope *env, kz_error *err)
{
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(root, "retCode");
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(rc)) {
        return shape_error(err, label, "no Bybit retCode");
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "time");
    if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 9e15) {
        env->server_ms = (int64_t)t->valuedouble;
    }
    if (rc->valuedouble != 0) {
        env->error = 1;
        env->code = (long)rc->valuedouble;
        env->retryable = env->code == 10006 || env->code == 10016;
        copy_str(env->msg, sizeof env->msg, cJSON_GetObjectItemCaseSensitive(root, "retMsg"));
        return KZ_OK;
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(res, "list");
    if (!cJSON_IsArray(list)) {
        return shape_error(err, label, "Bybit result.list is missing");
    }
    env->n_rows = (size_t)cJSON_GetArraySize(list);
    copy_str(env->cursor, sizeof env->cursor,
             cJSON_GetObjectItemCaseSensitive(res, "nextPageCursor"));
    return KZ_OK;
}

/* Binance: a JSON array of rows, or {"code":-1121,"msg":"Invalid symbol."} on error. */
static kz_status
binance_envelope(const cJSON *root, const char *label, fx_envelope *env, kz_error *err)
{
    if (cJSON_IsArray(root)) {
        env->n_rows = (size_t)cJSON_GetArraySize(root);
        return KZ_OK;
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    if (cJSON_IsObject(root) && cJSON_IsNumber(code)) {
        env->error = 1;
        env->code = (long)code->valuedouble;
        /* -1003: too many requests; -1001: internal disconnect; -1007: backend timeout. */
        env->retryable = env->code == -1003 || env->code == -1001 || env->code == -1007;
        copy_str(env->msg, sizeof env->msg, cJSON_GetObjectItemCaseSensitive(root, "msg"));
        return KZ_OK;
    }
    return shape_error(err, label, "expected a Binance JSON array");
}

kz_status fx_envelope_parse(kz_exchange ex,
                            long status,
                            const char *body,
                            size_t len,
                            const char *label,
                            fx_envelope *env,
                            kz_error *err)
{
    memset(env, 0, sizeof *env);
    const char *endp = NULL;
    cJSON *root = len ? cJSON_ParseWithLengthOpts(body, len, &endp, 0) : NULL;
    int ok_status = status >= 200 && status < 300;
    if (!root && !ok_status) {
        /* An error page from a proxy or the exchange's edge: keep its start as the message. */
        size_t k = 0;
        for (size_t i = 0; i < len && k + 1 < sizeof env->msg; i++) {
            char c = body[i];
            env->msg[k++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
        }
        env->msg[k] = '\0';
        return KZ_OK;
    }
    if (!root) {
        if (!endp || endp < body || endp > body + len) {
            endp = body;
        }
        long line;
        int col;
        locate(body, len ? endp : body, &line, &col);
        return kz_error_set(err, KZ_ERR_PARSE, label, line, col, NULL,
                            "malformed JSON in the response (%zu bytes)", len);
    }
    kz_status st = ex == KZ_EXCHANGE_BYBIT ? bybit_envelope(root, label, env, err)
                                           : binance_envelope(root, label, env, err);
    cJSON_Delete(root);
    if (st != KZ_OK && !ok_status) {
        st = KZ_OK; /* a non-exchange JSON error body: the HTTP status speaks */
    }
    return st;
}
