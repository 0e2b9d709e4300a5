/* JSON readers: Binance REST klines, freqtrade OHLCV, Bybit v5 kline / funding / open interest
 * (result.list, newest first) and arrays of exchange objects (Binance fundingRate and
 * openInterestHist). Values may be numbers or numeric strings. Locations are element numbers. */
#include <cjson/cJSON.h>
#include <string.h>

#include "market/market_int.h"

/* Trimmed string span of a cJSON string item. */
static void str_span(const cJSON *it, const char **p, size_t *n)
{
    const char *s = it->valuestring;
    size_t len = strlen(s);
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    *p = s;
    *n = len;
}

static int json_ts(const cJSON *it, int64_t *out)
{
    if (cJSON_IsNumber(it)) {
        return kz_time_from_double(it->valuedouble, out) == KZ_OK ? 0 : -1;
    }
    if (cJSON_IsString(it) && it->valuestring) {
        const char *p;
        size_t n;
        str_span(it, &p, &n);
        return kz_time_parse(p, n, out) == KZ_OK ? 0 : -1;
    }
    return -1;
}

static int json_num(const cJSON *it, double *out)
{
    if (cJSON_IsNumber(it)) {
        *out = it->valuedouble;
        return 0;
    }
    if (cJSON_IsString(it) && it->valuestring) {
        const char *p;
        size_t n;
        str_span(it, &p, &n);
        return kz_parse_double(p, n, out);
    }
    return -1;
}

/* Bad value report naming the element, the position in it and the field. */
static kz_status bad_value(kz_reader *rd, long elem, int col, const char *field, const char *what)
{
    return kz_reader_bad_row(rd, KZ_ERR_PARSE, elem, col, field, "element %ld: %s", elem, what);
}

static kz_status bar_row(kz_reader *rd, const cJSON *row, long elem)
{
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) < 6) {
        return kz_reader_bad_row(rd, KZ_ERR_PARSE, elem, 0, "",
                                 "element %ld: expected an array of at least 6 values", elem);
    }
    static const int cols[F_NBAR] = {1, 2, 3, 4, 5, 6};
    const cJSON *it = row->child;
    int64_t ts;
    if (json_ts(it, &ts) != 0) {
        return bad_value(rd, elem, 1, "timestamp", "bad timestamp");
    }
    double v[F_NBAR - 1];
    for (int k = 0; k < 5; k++) {
        it = it->next;
        if (json_num(it, &v[k]) != 0) {
            return bad_value(rd, elem, k + 2, kz_bar_field_names[k + 1], "non-numeric value");
        }
    }
    return kz_reader_add_bar(rd, elem, cols, ts, v);
}

static kz_status series_row(kz_reader *rd, const cJSON *row, long elem)
{
    const char *vname = KZ_SERIES_FIELD(rd->kind);
    const cJSON *ts_it = NULL, *val_it = NULL;
    int ts_col = 1, val_col = 2;
    if (cJSON_IsArray(row) && cJSON_GetArraySize(row) >= 2) {
        ts_it = row->child;
        val_it = row->child->next;
    } else if (cJSON_IsObject(row)) {
        int ts_rank = 1 << 20, val_rank = 1 << 20, pos = 0;
        for (const cJSON *c = row->child; c; c = c->next) {
            pos++;
            if (!c->string) {
                continue;
            }
            char nm[64];
            kz_name_norm(c->string, strlen(c->string), nm, sizeof nm);
            int r = kz_name_rank(rd->kind, 0, nm);
            if (r >= 0 && r < ts_rank) {
                ts_rank = r;
                ts_it = c;
                ts_col = pos;
            }
            r = kz_name_rank(rd->kind, 1, nm);
            if (r >= 0 && r < val_rank) {
                val_rank = r;
                val_it = c;
                val_col = pos;
            }
        }
        if (!ts_it) {
            return bad_value(rd, elem, 0, "timestamp", "no timestamp field");
        }
        if (!val_it) {
            return bad_value(rd, elem, 0, vname, "no value field");
        }
    } else {
        return kz_reader_bad_row(rd, KZ_ERR_PARSE, elem, 0, "",
                                 "element %ld: expected an object or a [timestamp, value] array",
                                 elem);
    }
    int64_t ts;
    double v;
    if (json_ts(ts_it, &ts) != 0) {
        return bad_value(rd, elem, ts_col, "timestamp", "bad timestamp");
    }
    if (json_num(val_it, &v) != 0) {
        return bad_value(rd, elem, val_col, vname, "non-numeric value");
    }
    return kz_reader_add_point(rd, elem, val_col, vname, ts, v);
}

/* 1-based line and column of offset `at` in buf. */
static void locate(const char *buf, const char *at, long *line, int *col)
{
    long l = 1;
    int c = 1;
    for (const char *p = buf; p < at; p++) {
        if (*p == '\n') {
            l++;
            c = 1;
        } else if (c < 1 << 30) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Find the row array and the format of a parsed document. */
static kz_status
classify(kz_reader *rd, const cJSON *root, const cJSON **rows, int *reverse, kz_format *found)
{
    int bars = rd->kind == KZ_DATA_BARS;
    *reverse = 0;
    if (cJSON_IsObject(root)) {
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(root, "retCode");
        if (cJSON_IsNumber(rc) && rc->valuedouble != 0) {
            const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "retMsg");
            return kz_reader_fail(rd, KZ_ERR_FORMAT, 0, 0, "retCode",
                                  "exchange error response: retCode %.0f, retMsg '%.200s'",
                                  rc->valuedouble,
                                  cJSON_IsString(msg) && msg->valuestring ? msg->valuestring : "");
        }
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(res, "list");
        if (!cJSON_IsArray(list)) {
            return kz_reader_fail(rd, KZ_ERR_FORMAT, 0, 0, "result.list",
                                  "unrecognised JSON object: expected a Bybit v5 result.list");
        }
        *rows = list;
        *reverse = 1; /* Bybit v5 lists are newest first */
        *found = bars ? KZ_FMT_BYBIT_JSON : KZ_FMT_SERIES_JSON;
        return KZ_OK;
    }
    if (!cJSON_IsArray(root)) {
        return kz_reader_fail(rd, KZ_ERR_FORMAT, 0, 0, "", "JSON must be an array or an object");
    }
    *rows = root;
    if (!bars) {
        *found = KZ_FMT_SERIES_JSON;
    } else {
        /* freqtrade rows are exactly [ts, o, h, l, c, v]; Binance REST rows carry 12 values. */
        const cJSON *first = root->child;
        *found = cJSON_IsArray(first) && cJSON_GetArraySize(first) == 6 ? KZ_FMT_FREQTRADE_JSON
                                                                        : KZ_FMT_BINANCE_JSON;
    }
    return KZ_OK;
}

static int compatible(kz_format want, kz_format found)
{
    if (want == found) {
        return 1;
    }
    int a = want == KZ_FMT_BINANCE_JSON || want == KZ_FMT_FREQTRADE_JSON;
    int b = found == KZ_FMT_BINANCE_JSON || found == KZ_FMT_FREQTRADE_JSON;
    return a && b;
}

kz_status kz_json_read(kz_reader *rd, const char *buf, size_t len, kz_format *fmt)
{
    const char *endp = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &endp, 0);
    long line;
    int col;
    if (!root) {
        if (!endp || endp < buf || endp > buf + len) {
            endp = buf;
        }
        locate(buf, endp, &line, &col);
        return kz_reader_fail(rd, KZ_ERR_PARSE, line, col, "", "malformed JSON");
    }
    kz_status st = KZ_OK;
    const char *tail = endp && endp >= buf && endp <= buf + len ? endp : buf + len;
    while (tail < buf + len &&
           (*tail == ' ' || *tail == '\t' || *tail == '\r' || *tail == '\n' || *tail == '\0')) {
        tail++;
    }
    if (tail < buf + len) {
        locate(buf, tail, &line, &col);
        st = kz_reader_fail(rd, KZ_ERR_PARSE, line, col, "", "unexpected data after the JSON");
        goto done;
    }
    const cJSON *rows = NULL;
    int reverse = 0;
    kz_format found = KZ_FMT_AUTO;
    st = classify(rd, root, &rows, &reverse, &found);
    if (st != KZ_OK) {
        goto done;
    }
    if (*fmt == KZ_FMT_AUTO) {
        *fmt = found;
    } else if (!compatible(*fmt, found)) {
        st = kz_reader_fail(rd, KZ_ERR_FORMAT, 0, 0, "", "content looks like %s, not %s",
                            kz_format_str(found), kz_format_str(*fmt));
        goto done;
    }
    rd->ts_col = 1;
    st = kz_reader_reserve(rd, (size_t)cJSON_GetArraySize(rows));
    long elem = 0;
    for (const cJSON *row = rows->child; row && st == KZ_OK; row = row->next) {
        elem++;
        st = rd->kind == KZ_DATA_BARS ? bar_row(rd, row, elem) : series_row(rd, row, elem);
    }
    if (st == KZ_OK && reverse) {
        kz_reader_reverse(rd);
    }
done:
    cJSON_Delete(root);
    return st;
}
