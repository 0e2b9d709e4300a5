/* Reader tests: every format on small fixtures, detection, each validation error with its exact
 * line/column/field, skip_bad reporting, sorting, duplicates, CSV edge cases, OOM injection. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kizashi/core.h"
#include "kizashi/market.h"

#include "kz_test.h"

#define T0 1704067200000LL /* 2024-01-01T00:00Z */
#define H  3600000LL

static kz_status
rbars(const char *txt, const kz_read_opts *o, kz_bars *b, kz_read_report *rep, kz_error *err)
{
    return kz_bars_read_mem(txt, strlen(txt), "fixture", o, b, rep, err);
}

static kz_status
rseries(const char *txt, kz_data_kind kind, kz_series *s, kz_read_report *rep, kz_error *err)
{
    return kz_series_read_mem(txt, strlen(txt), "fixture", kind, NULL, s, rep, err);
}

/* The three-bar fixture every bar format encodes. */
static void check_three(const kz_bars *b)
{
    CHECK_EQ_INT(b->n, 3);
    if (b->n != 3) {
        return;
    }
    CHECK_EQ_INT(b->ts_ms[0], T0);
    CHECK_EQ_INT(b->ts_ms[2], T0 + 2 * H);
    CHECK_NEAR(b->open[0], 100, 0);
    CHECK_NEAR(b->high[0], 110, 0);
    CHECK_NEAR(b->low[0], 90, 0);
    CHECK_NEAR(b->close[0], 105, 0);
    CHECK_NEAR(b->volume[0], 12.5, 0);
    CHECK_NEAR(b->close[1], 102.1, 0); /* exact: the correctly rounded double of "102.1" */
    CHECK_NEAR(b->volume[2], 0, 0);
}

static void expect_format(const char *txt, kz_format want)
{
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    kz_status st = rbars(txt, NULL, &b, &rep, &err);
    CHECK_MSG(st == KZ_OK, "%s", err.msg);
    CHECK_MSG(rep.format == want, "format %s, want %s", kz_format_str(rep.format),
              kz_format_str(want));
    CHECK_EQ_INT(rep.n_rows, b.n);
    CHECK_EQ_INT(rep.was_unsorted, 0);
    check_three(&b);
    kz_bars_free(&b);
}

static void test_bar_formats(void)
{
    expect_format("timestamp,open,high,low,close,volume\n"
                  "1704067200000,100,110,90,105,12.5\n"
                  "1704070800000,105,106,101,102.1,3\n"
                  "1704074400000,102,103,99,100,0\n",
                  KZ_FMT_CSV);
    /* Header-less, seconds stamps. */
    expect_format("1704067200,100,110,90,105,12.5\n"
                  "1704070800,105,106,101,102.1,3\n"
                  "1704074400,102,103,99,100,0\n",
                  KZ_FMT_CSV);
    /* Any column order, case-insensitive names, `Date` as ISO, extra columns, CRLF, BOM, blank
     * line, quoted fields, no final newline. */
    expect_format("\xEF\xBB\xBF"
                  "Volume,Close,Extra,Low,High,Open,Date\r\n"
                  "12.5,105,x,90,110,100,2024-01-01T00:00:00Z\r\n"
                  "\r\n"
                  "\"3\",\"102.1\",\"a,b\",101,106,105,2024-01-01 10:00:00+09:00\r\n"
                  "0 , 100 ,y, 99,103,102,2024-01-01T02:00",
                  KZ_FMT_CSV);
    /* open_time header with extra columns (the binance_api export style). */
    expect_format("open_time,open,high,low,close,volume,quote_volume,trades\n"
                  "1704067200000,100,110,90,105,12.5,1,2\n"
                  "1704070800000,105,106,101,102.1,3,1,2\n"
                  "1704074400000,102,103,99,100,0,1,2\n",
                  KZ_FMT_CSV);
    /* Binance kline CSV with Binance's header, and header-less with microsecond stamps. */
    expect_format("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
                  "taker_buy_volume,taker_buy_quote_volume,ignore\n"
                  "1704067200000,100,110,90,105,12.5,1704070799999,1300,10,5,500,0\n"
                  "1704070800000,105,106,101,102.1,3,1704074399999,300,10,1,100,0\n"
                  "1704074400000,102,103,99,100,0,1704077999999,0,0,0,0,0\n",
                  KZ_FMT_BINANCE_CSV);
    expect_format("1704067200000000,100,110,90,105,12.5,1704070799999999,1300,10,5,500,0\n"
                  "1704070800000000,105,106,101,102.1,3,1704074399999999,300,10,1,100,0\n"
                  "1704074400000000,102,103,99,100,0,1704077999999999,0,0,0,0,0",
                  KZ_FMT_BINANCE_CSV);
    /* Binance REST JSON: strings and numbers mixed. */
    expect_format(
        "[[1704067200000,\"100\",\"110\",\"90\",\"105\",\"12.5\",1704070799999,\"1300\","
        "10,\"5\",\"500\",\"0\"],\n"
        " [1704070800000,\"105\",\"106\",\"101\",\"102.1\",\"3\",1704074399999,\"300\",10,"
        "\"1\",\"100\",\"0\"],\n"
        " [1704074400000,102,103,99,100,0,1704077999999,\"0\",0,\"0\",\"0\",\"0\"]]",
        KZ_FMT_BINANCE_JSON);
    expect_format("[[1704067200000,100,110,90,105,12.5],[1704070800000,105,106,101,102.1,3],"
                  "[1704074400000,102,103,99,100,0]]",
                  KZ_FMT_FREQTRADE_JSON);
    /* Bybit v5: newest first, comes back ascending without an "unsorted" flag. */
    expect_format("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"linear\","
                  "\"symbol\":\"BTCUSDT\",\"list\":["
                  "[\"1704074400000\",\"102\",\"103\",\"99\",\"100\",\"0\",\"0\"],"
                  "[\"1704070800000\",\"105\",\"106\",\"101\",\"102.1\",\"3\",\"306\"],"
                  "[\"1704067200000\",\"100\",\"110\",\"90\",\"105\",\"12.5\",\"1300\"]]},"
                  "\"time\":1704078000000}",
                  KZ_FMT_BYBIT_JSON);
}

static void test_explicit_format(void)
{
    const char *csv = "1704067200000,100,110,90,105,12.5\n";
    kz_read_opts o = kz_read_opts_default();
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    o.format = KZ_FMT_BINANCE_CSV;
    CHECK(rbars(csv, &o, &b, &rep, &err) == KZ_OK && rep.format == KZ_FMT_BINANCE_CSV);
    kz_bars_free(&b);
    o.format = KZ_FMT_BYBIT_JSON;
    CHECK(rbars("[[1704067200000,100,110,90,105,12.5]]", &o, &b, &rep, &err) == KZ_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "freqtrade-json");
    o.format = KZ_FMT_SERIES_CSV;
    CHECK(rbars(csv, &o, &b, &rep, &err) == KZ_ERR_INVALID);
    o = kz_read_opts_default();
    o.tf = KZ_TF_COUNT;
    CHECK(rbars(csv, &o, &b, &rep, &err) == KZ_ERR_INVALID);
    CHECK(b.n == 0 && b.ts_ms == NULL);
    /* Output must be empty on entry. */
    CHECK(rbars(csv, NULL, &b, &rep, &err) == KZ_OK);
    CHECK(rbars(csv, NULL, &b, &rep, &err) == KZ_ERR_INVALID);
    CHECK_EQ_INT(b.n, 1); /* untouched */
    kz_bars_free(&b);
    CHECK(strcmp(kz_format_str(KZ_FMT_SERIES_JSON), "series-json") == 0);
    CHECK(strcmp(kz_format_str(KZ_FMT_BINANCE_CSV), "binance-csv") == 0);
}

/* A read that must fail with `code` at (line, column, field); output must stay empty. */
static void expect_bar_error(const char *txt,
                             const kz_read_opts *o,
                             kz_status code,
                             long line,
                             int column,
                             const char *field,
                             const char *msg_part)
{
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    kz_status st = rbars(txt, o, &b, &rep, &err);
    char buf[800];
    CHECK_MSG(st == code, "status %s, want %s (%s)", kz_status_str(st), kz_status_str(code),
              kz_error_format(&err, buf, sizeof buf));
    CHECK_MSG(err.code == code && err.line == line && err.column == column &&
                  strcmp(err.field, field) == 0,
              "got %s; want line %ld col %d field %s", kz_error_format(&err, buf, sizeof buf), line,
              column, field);
    CHECK(strcmp(err.file, "fixture") == 0);
    CHECK_STR_CONTAINS(err.msg, msg_part);
    CHECK(b.n == 0 && b.ts_ms == NULL && b.open == NULL);
    CHECK_EQ_INT(rep.n_rows, 0);
}

#define HDR "timestamp,open,high,low,close,volume\n"
#define R1  "1704067200000,100,110,90,105,1\n"
#define R3  "1704074400000,100,110,90,105,1\n"

static void test_validation_errors(void)
{
    expect_bar_error(HDR R1 "1704070800000,105,abc,101,102,3\n", NULL, KZ_ERR_PARSE, 3, 3, "high",
                     "non-numeric value 'abc'");
    expect_bar_error(HDR R1 "1704070800000,105,106,101,,3\n", NULL, KZ_ERR_PARSE, 3, 5, "close",
                     "empty field");
    expect_bar_error(HDR R1 "1704070800000,105,106,101,nan,3\n", NULL, KZ_ERR_VALIDATION, 3, 5,
                     "close", "not finite");
    expect_bar_error(HDR R1 "1704070800000,105,106,101,102,inf\n", NULL, KZ_ERR_VALIDATION, 3, 6,
                     "volume", "not finite");
    expect_bar_error(HDR R1 "1704070800000,100,95,96,97,1\n", NULL, KZ_ERR_VALIDATION, 3, 3, "high",
                     "below low");
    expect_bar_error(HDR R1 "1704070800000,100,104,90,105,1\n", NULL, KZ_ERR_VALIDATION, 3, 3,
                     "high", "below max(open, close)");
    expect_bar_error(HDR R1 "1704070800000,100,110,101,105,1\n", NULL, KZ_ERR_VALIDATION, 3, 4,
                     "low", "above min(open, close)");
    expect_bar_error(HDR R1 "1704070800000,0,110,90,105,1\n", NULL, KZ_ERR_VALIDATION, 3, 2, "open",
                     "positive");
    expect_bar_error(HDR R1 "1704070800000,100,110,-90,105,1\n", NULL, KZ_ERR_VALIDATION, 3, 4,
                     "low", "positive");
    expect_bar_error(HDR R1 "1704070800000,100,110,90,105,-1\n", NULL, KZ_ERR_VALIDATION, 3, 6,
                     "volume", "negative");
    expect_bar_error(HDR R1 "1704070800000,100,110,90,105,1\n" R3
                            "1704070800000,100,110,90,106,1\n",
                     NULL, KZ_ERR_VALIDATION, 5, 1, "timestamp", "first at line 3");
    expect_bar_error(HDR R1 "1704070800001,100,110,90,105,1\n", NULL, KZ_ERR_VALIDATION, 3, 1,
                     "timestamp", "off the 1h grid");
    expect_bar_error(HDR R1 "2024-13-01,100,110,90,105,1\n", NULL, KZ_ERR_PARSE, 3, 1, "timestamp",
                     "bad timestamp");
    expect_bar_error(HDR R1 "1704070800000,100,110\n", NULL, KZ_ERR_PARSE, 3, 4, "low",
                     "at least 6 fields");
    expect_bar_error(HDR R1 "1704070800000,\"100,110,90,105,1\n", NULL, KZ_ERR_PARSE, 3, 2, "",
                     "unterminated quote");
    expect_bar_error("timestamp,open,high,low,volume\n" R1, NULL, KZ_ERR_FORMAT, 1, 0, "close",
                     "no 'close' column");
    expect_bar_error("", NULL, KZ_ERR_FORMAT, 0, 0, "", "empty input");
    expect_bar_error(" \r\n\n", NULL, KZ_ERR_FORMAT, 0, 0, "", "empty input");
    expect_bar_error(HDR, NULL, KZ_ERR_PARSE, 0, 0, "", "no data rows");
    expect_bar_error("[]", NULL, KZ_ERR_PARSE, 0, 0, "", "no data rows");
    expect_bar_error("[[1704067200000,1,2,\n3", NULL, KZ_ERR_PARSE, 2, 1, "", "malformed JSON");
    expect_bar_error("[[1704067200000,1,1,1,1,1]] x", NULL, KZ_ERR_PARSE, 1, 29, "",
                     "unexpected data");
    expect_bar_error("[[1704067200000,100,110,90,105,1],[1704070800000,100,\"abc\",90,105,1]]",
                     NULL, KZ_ERR_PARSE, 2, 3, "high", "element 2");
    expect_bar_error("[[1704067200000,100,110,90,105,1],[1704070800000,100,99,90,105,1]]", NULL,
                     KZ_ERR_VALIDATION, 2, 3, "high", "below max(open, close)");
    expect_bar_error("[[1704067200000,100,110,90,105,1],[1704070800000,100,110]]", NULL,
                     KZ_ERR_PARSE, 2, 0, "", "at least 6 values");
    expect_bar_error("[[\"yesterday\",100,110,90,105,1]]", NULL, KZ_ERR_PARSE, 1, 1, "timestamp",
                     "bad timestamp");
    expect_bar_error("{\"retCode\":10001,\"retMsg\":\"params error\",\"result\":{}}", NULL,
                     KZ_ERR_FORMAT, 0, 0, "retCode", "params error");
    expect_bar_error("{\"data\":[]}", NULL, KZ_ERR_FORMAT, 0, 0, "result.list", "Bybit");
    /* Grid check can be turned off; the 4h grid rejects an hourly stamp. */
    kz_read_opts o = kz_read_opts_default();
    o.check_grid = 0;
    kz_bars b = {0};
    kz_error err;
    CHECK(rbars(HDR R1 "1704070800001,100,110,90,105,1\n", &o, &b, NULL, &err) == KZ_OK);
    CHECK_EQ_INT(b.n, 2);
    kz_bars_free(&b);
    o = kz_read_opts_default();
    o.tf = KZ_TF_4H;
    expect_bar_error(HDR R1 "1704070800000,100,110,90,105,1\n", &o, KZ_ERR_VALIDATION, 3, 1,
                     "timestamp", "off the 4h grid");
}

typedef struct skips {
    long lines[16];
    kz_status codes[16];
    int n;
} skips;

static void on_skip(const kz_error *e, void *ud)
{
    skips *s = ud;
    if (s->n < 16) {
        s->lines[s->n] = e->line;
        s->codes[s->n] = e->code;
        s->n++;
    }
}

static void test_skip_bad(void)
{
    const char *txt = HDR R1                      /* line 2 */
        "1704070800000,100,95,96,97,1\n"          /* 3: high < low */
        "1704070800000,100,110,90,105,1\n"        /* 4 */
        "1704074400000,100,x,90,105,1\n"          /* 5: non-numeric */
        R3                                        /* 6 */
        "1704067200000,100,110,90,104,1\n"        /* 7: duplicate, other values */
        "1704078000000,100,110,90,105,1,extra\n"; /* 8 */
    kz_read_opts o = kz_read_opts_default();
    skips s = {0};
    o.skip_bad = 1;
    o.on_skip = on_skip;
    o.on_skip_ud = &s;
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    CHECK(rbars(txt, &o, &b, &rep, &err) == KZ_OK);
    CHECK_EQ_INT(rep.n_skipped, 3);
    CHECK_EQ_INT(s.n, 3);
    CHECK(s.lines[0] == 3 && s.lines[1] == 5 && s.lines[2] == 7);
    CHECK(s.codes[0] == KZ_ERR_VALIDATION && s.codes[1] == KZ_ERR_PARSE &&
          s.codes[2] == KZ_ERR_VALIDATION);
    CHECK_EQ_INT(b.n, 4);
    CHECK_EQ_INT(rep.n_rows, 4);
    CHECK_NEAR(b.close[0], 105, 0); /* the first of the conflicting duplicates is kept */
    CHECK_EQ_INT(b.ts_ms[3], T0 + 3 * H);
    kz_bars_free(&b);
    /* All rows bad in skip mode: OK with zero rows. */
    CHECK(rbars(HDR "1704067200000,1,x,1,1,1\n", &o, &b, &rep, &err) == KZ_OK);
    CHECK(b.n == 0 && rep.n_skipped == 1);
    kz_bars_free(&b);
    /* Without on_skip the rows are still counted. */
    o.on_skip = NULL;
    CHECK(rbars(txt, &o, &b, &rep, &err) == KZ_OK && rep.n_skipped == 3 && b.n == 4);
    kz_bars_free(&b);
}

static void test_sort_dedup_gaps(void)
{
    const char *txt = HDR "1704074400000,3,3,3,3,3\n"
                          "1704067200000,1,1,1,1,1\n"
                          "1704088800000,5,5,5,5,5\n"
                          "1704070800000,2,2,2,2,2\n"
                          "1704067200000,1,1,1,1,1\n"; /* identical duplicate */
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    CHECK(rbars(txt, NULL, &b, &rep, &err) == KZ_OK);
    CHECK_EQ_INT(rep.was_unsorted, 1);
    CHECK_EQ_INT(rep.n_duplicates, 1);
    CHECK_EQ_INT(b.n, 4);
    for (size_t i = 0; i + 1 < b.n; i++) {
        CHECK(b.ts_ms[i] < b.ts_ms[i + 1]);
    }
    /* Values travel with their timestamps. */
    CHECK_NEAR(b.open[0], 1, 0);
    CHECK_NEAR(b.open[1], 2, 0);
    CHECK_NEAR(b.volume[2], 3, 0);
    CHECK_NEAR(b.close[3], 5, 0);
    /* 02:00 -> 06:00 misses 03, 04, 05. */
    CHECK_EQ_INT(rep.n_gaps, 1);
    CHECK_EQ_INT(rep.n_missing, 3);
    kz_bars_free(&b);
    /* A large reversed input exercises the merge sort. */
    size_t n = 5000;
    char *big = malloc(n * 64 + 64);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        long long ts = T0 + (long long)(n - 1 - i) * H;
        off +=
            (size_t)sprintf(big + off, "%lld,%zu,%zu,%zu,%zu,1\n", ts, i + 1, i + 1, i + 1, i + 1);
    }
    CHECK(kz_bars_read_mem(big, off, "big", NULL, &b, &rep, &err) == KZ_OK);
    CHECK(rep.was_unsorted == 1 && b.n == n && rep.n_gaps == 0);
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        ok &= b.ts_ms[i] == T0 + (long long)i * H && b.open[i] == (double)(n - i);
    }
    CHECK(ok);
    kz_bars_free(&b);
    free(big);
}

static void expect_series(const char *txt,
                          kz_data_kind kind,
                          size_t n,
                          int64_t ts0,
                          double v0,
                          int64_t ts_last,
                          double v_last,
                          kz_format fmt)
{
    kz_series s = {0};
    kz_read_report rep;
    kz_error err;
    kz_status st = rseries(txt, kind, &s, &rep, &err);
    CHECK_MSG(st == KZ_OK, "%s: %s", kz_status_str(st), err.msg);
    CHECK_MSG(rep.format == fmt, "%s", kz_format_str(rep.format));
    CHECK_EQ_INT(s.n, n);
    if (s.n == n && n > 0) {
        CHECK_EQ_INT(s.ts_ms[0], ts0);
        CHECK_NEAR(s.value[0], v0, 0);
        CHECK_EQ_INT(s.ts_ms[n - 1], ts_last);
        CHECK_NEAR(s.value[n - 1], v_last, 0);
    }
    CHECK_EQ_INT(rep.was_unsorted, 0);
    kz_series_free(&s);
}

static void test_series_formats(void)
{
    /* Binance funding stamps carry ms jitter: accepted as is. */
    expect_series("timestamp,funding_rate\n1741449600001,0.00001208\n1741478400001,-0.00002779\n",
                  KZ_DATA_FUNDING, 2, 1741449600001LL, 0.00001208, 1741478400001LL, -0.00002779,
                  KZ_FMT_SERIES_CSV);
    expect_series("symbol,fundingRate,fundingTime\nBTCUSDT,0.0001,2024-01-01T00:00:00Z\n"
                  "BTCUSDT,0.0002,2024-01-01T08:00:00Z\n",
                  KZ_DATA_FUNDING, 2, T0, 0.0001, T0 + 8 * H, 0.0002, KZ_FMT_SERIES_CSV);
    expect_series("1704067200000,0.0001\n1704096000000,0.0003\n", KZ_DATA_FUNDING, 2, T0, 0.0001,
                  T0 + 8 * H, 0.0003, KZ_FMT_SERIES_CSV);
    expect_series(
        "[{\"symbol\":\"BTCUSDT\",\"fundingTime\":1704067200000,\"fundingRate\":"
        "\"0.00010000\",\"markPrice\":\"42000.1\"},{\"symbol\":\"BTCUSDT\","
        "\"fundingTime\":1704096000001,\"fundingRate\":\"-0.00002\",\"markPrice\":\"1\"}]",
        KZ_DATA_FUNDING, 2, T0, 0.0001, T0 + 8 * H + 1, -0.00002, KZ_FMT_SERIES_JSON);
    expect_series("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"linear\",\"list\":["
                  "{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"0.0003\",\"fundingRateTimestamp\":"
                  "\"1704096000000\"},{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"0.0001\","
                  "\"fundingRateTimestamp\":\"1704067200000\"}]}}",
                  KZ_DATA_FUNDING, 2, T0, 0.0001, T0 + 8 * H, 0.0003, KZ_FMT_SERIES_JSON);
    expect_series("timestamp,open_interest_usd\n1704067200000,898745447.7910928\n"
                  "1704070800000,908244314.9104182\n",
                  KZ_DATA_OI, 2, T0, 898745447.7910928, T0 + H, 908244314.9104182,
                  KZ_FMT_SERIES_CSV);
    /* Binance openInterestHist: the USD value is preferred over the contract count. */
    expect_series("[{\"symbol\":\"BTCUSDT\",\"sumOpenInterest\":\"20403.637\","
                  "\"sumOpenInterestValue\":\"150570784.07\",\"timestamp\":1704067200000},"
                  "{\"symbol\":\"BTCUSDT\",\"sumOpenInterest\":\"20401\","
                  "\"sumOpenInterestValue\":\"150000000\",\"timestamp\":\"1704067500000\"}]",
                  KZ_DATA_OI, 2, T0, 150570784.07, T0 + 300000, 150000000, KZ_FMT_SERIES_JSON);
    expect_series("timestamp,sumOpenInterest,sumOpenInterestValue\n1704067200000,20403,1.5e8\n",
                  KZ_DATA_OI, 1, T0, 1.5e8, T0, 1.5e8, KZ_FMT_SERIES_CSV);
    expect_series("{\"retCode\":0,\"result\":{\"symbol\":\"BTCUSDT\",\"category\":\"linear\","
                  "\"list\":[{\"openInterest\":\"461134384.00\",\"timestamp\":\"1704070800000\"},"
                  "{\"openInterest\":\"461134000.50\",\"timestamp\":\"1704067200000\"}],"
                  "\"nextPageCursor\":\"\"}}",
                  KZ_DATA_OI, 2, T0, 461134000.5, T0 + H, 461134384.0, KZ_FMT_SERIES_JSON);
    expect_series("[[1704067200000, 5e9], [1704070800000, \"5.5e9\"]]", KZ_DATA_OI, 2, T0, 5e9,
                  T0 + H, 5.5e9, KZ_FMT_SERIES_JSON);

    kz_series s = {0};
    kz_error err;
    kz_read_report rep;
    CHECK(rseries("timestamp,open_interest\n1704067200000,-5\n", KZ_DATA_OI, &s, &rep, &err) ==
          KZ_ERR_VALIDATION);
    CHECK(err.line == 2 && err.column == 2 && strcmp(err.field, "open_interest") == 0);
    CHECK(s.n == 0 && s.ts_ms == NULL);
    CHECK(rseries("timestamp,funding_rate\n1704067200000,0.1\n1704067200000,0.2\n", KZ_DATA_FUNDING,
                  &s, &rep, &err) == KZ_ERR_VALIDATION);
    CHECK(err.line == 3 && strcmp(err.field, "timestamp") == 0);
    CHECK(rseries("timestamp,funding_rate\n1704067200000,NaN\n", KZ_DATA_FUNDING, &s, &rep, &err) ==
          KZ_ERR_VALIDATION);
    CHECK(err.line == 2 && strcmp(err.field, "funding_rate") == 0);
    CHECK(rseries("timestamp,price\n1704067200000,1\n", KZ_DATA_FUNDING, &s, &rep, &err) ==
          KZ_ERR_FORMAT);
    CHECK(strcmp(err.field, "funding_rate") == 0);
    CHECK(rseries("[{\"fundingTime\":1704067200000}]", KZ_DATA_FUNDING, &s, &rep, &err) ==
          KZ_ERR_PARSE);
    CHECK(err.line == 1 && strcmp(err.field, "funding_rate") == 0);
    CHECK(rseries("[{\"fundingRate\":\"x\",\"fundingTime\":1704067200000}]", KZ_DATA_FUNDING, &s,
                  &rep, &err) == KZ_ERR_PARSE);
    CHECK(err.line == 1 && err.column == 1 && strcmp(err.field, "funding_rate") == 0);
    CHECK(kz_series_read_mem("1,2\n", 4, "x", KZ_DATA_BARS, NULL, &s, &rep, &err) ==
          KZ_ERR_INVALID);
    /* Unsorted funding is sorted and flagged. */
    CHECK(rseries("1704096000000,0.3\n1704067200000,0.1\n", KZ_DATA_FUNDING, &s, &rep, &err) ==
          KZ_OK);
    CHECK(rep.was_unsorted == 1 && s.n == 2 && s.ts_ms[0] == T0 && s.value[0] == 0.1);
    kz_series_free(&s);
}

static char *write_temp(const char *txt)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/kz_market_test_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        return NULL;
    }
    size_t len = strlen(txt);
    CHECK(write(fd, txt, len) == (ssize_t)len);
    close(fd);
    return path;
}

static void test_files(void)
{
    char *path = write_temp("timestamp,open,high,low,close,volume\n"
                            "1704067200000,100,110,90,105,12.5\n"
                            "1704070800000,105,106,101,102.1,3\n"
                            "1704074400000,102,103,99,100,0");
    CHECK(path != NULL);
    if (!path) {
        return;
    }
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    CHECK(kz_bars_read_file(path, NULL, &b, &rep, &err) == KZ_OK);
    check_three(&b);
    CHECK(rep.format == KZ_FMT_CSV);
    kz_bars_free(&b);
    unlink(path);
    path = write_temp("timestamp,funding_rate\n1704067200000,0.0001\n1704096000000,x\n");
    kz_series s = {0};
    CHECK(kz_series_read_file(path, KZ_DATA_FUNDING, NULL, &s, &rep, &err) == KZ_ERR_PARSE);
    CHECK(strcmp(err.file, path) == 0 && err.line == 3 && err.column == 2);
    unlink(path);
    CHECK(kz_bars_read_file("/nonexistent/kz.csv", NULL, &b, &rep, &err) == KZ_ERR_IO);
    CHECK(strcmp(err.file, "/nonexistent/kz.csv") == 0);
    CHECK_STR_CONTAINS(err.msg, "cannot open");
    CHECK(kz_series_read_file("/nonexistent/kz.csv", KZ_DATA_OI, NULL, &s, &rep, &err) ==
          KZ_ERR_IO);
    CHECK(b.n == 0 && s.n == 0);
}

/* ---- OOM injection: fail the k-th allocation, count live blocks to catch leaks. */
static long g_alloc_count, g_fail_at, g_live;

static void *t_malloc(size_t n, void *ud)
{
    (void)ud;
    if (++g_alloc_count == g_fail_at) {
        return NULL;
    }
    void *p = malloc(n);
    g_live += p != NULL;
    return p;
}

static void *t_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (++g_alloc_count == g_fail_at) {
        return NULL;
    }
    void *q = realloc(p, n);
    g_live += q != NULL && p == NULL;
    return q;
}

static void t_free(void *p, void *ud)
{
    (void)ud;
    g_live -= p != NULL;
    free(p);
}

static void oom_case(const char *txt, kz_data_kind kind, const char *path)
{
    kz_allocator a = {t_malloc, t_realloc, t_free, NULL};
    int completed = 0;
    for (long k = 1; k < 200 && !completed; k++) {
        g_alloc_count = 0;
        g_fail_at = k;
        g_live = 0;
        kz_set_allocator(&a);
        kz_bars b = {0};
        kz_series s = {0};
        kz_error err;
        kz_status st;
        if (kind == KZ_DATA_BARS) {
            st = path ? kz_bars_read_file(path, NULL, &b, NULL, &err)
                      : kz_bars_read_mem(txt, strlen(txt), "oom", NULL, &b, NULL, &err);
        } else {
            st = path ? kz_series_read_file(path, kind, NULL, &s, NULL, &err)
                      : kz_series_read_mem(txt, strlen(txt), "oom", kind, NULL, &s, NULL, &err);
        }
        CHECK_MSG(st == KZ_OK || st == KZ_ERR_NOMEM, "k=%ld: %s", k, kz_status_str(st));
        if (st == KZ_ERR_NOMEM) {
            CHECK(b.n == 0 && b.ts_ms == NULL && s.n == 0 && s.ts_ms == NULL);
            CHECK(err.msg[0] != '\0');
        }
        completed = g_alloc_count < k; /* the injected failure was never reached */
        if (completed) {
            CHECK(st == KZ_OK);
        }
        kz_bars_free(&b);
        kz_series_free(&s);
        kz_set_allocator(NULL);
        CHECK_MSG(g_live == 0, "k=%ld: %ld blocks leaked", k, g_live);
    }
    CHECK(completed);
}

static void test_oom(void)
{
    const char *unsorted = HDR "1704074400000,3,3,3,3,3\n1704067200000,1,1,1,1,1\n"
                               "1704070800000,2,2,2,2,2\n1704067200000,1,1,1,1,1\n";
    oom_case(unsorted, KZ_DATA_BARS, NULL);
    oom_case("[[1704070800000,1,1,1,1,1],[1704067200000,1,1,1,1,1]]", KZ_DATA_BARS, NULL);
    oom_case("{\"retCode\":0,\"result\":{\"list\":[[\"1704070800000\",\"1\",\"1\",\"1\",\"1\","
             "\"1\",\"1\"]]}}",
             KZ_DATA_BARS, NULL);
    oom_case("timestamp,funding_rate\n1704096000000,0.3\n1704067200000,0.1\n", KZ_DATA_FUNDING,
             NULL);
    oom_case("[{\"sumOpenInterestValue\":\"1e9\",\"timestamp\":1704067200000}]", KZ_DATA_OI, NULL);
    char *path = write_temp(unsorted);
    if (path) {
        oom_case(NULL, KZ_DATA_BARS, path);
        unlink(path);
    }
    /* Containers and kz_market_build under OOM. */
    kz_allocator a = {t_malloc, t_realloc, t_free, NULL};
    kz_bars src = {0};
    kz_series f = {0};
    CHECK(kz_bars_push(&src, 0, 1, 1, 1, 1, 1) == KZ_OK && kz_series_push(&f, 0, 1) == KZ_OK);
    for (long k = 1; k <= 12; k++) {
        g_alloc_count = 0;
        g_fail_at = k;
        g_live = 0;
        kz_set_allocator(&a);
        kz_market m;
        kz_status st = kz_market_build("x", "y", KZ_TF_1H, &src, &f, &f, 0, 0, &m);
        CHECK(st == KZ_OK || st == KZ_ERR_NOMEM);
        if (st == KZ_ERR_NOMEM) {
            CHECK(m.bars.n == 0 && m.funding == NULL && m.oi == NULL);
        }
        kz_market_free(&m);
        kz_set_allocator(NULL);
        CHECK_EQ_INT(g_live, 0);
    }
    kz_bars_free(&src);
    kz_series_free(&f);
}

int main(void)
{
    test_bar_formats();
    test_explicit_format();
    test_validation_errors();
    test_skip_bad();
    test_sort_dedup_gaps();
    test_series_formats();
    test_files();
    test_oom();
    KZ_TEST_DONE();
}
