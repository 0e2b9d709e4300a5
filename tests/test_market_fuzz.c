/* Bounded mutation fuzz of every reader: byte flips, truncation, insertions and deletions of
 * valid CSV and JSON inputs. Each call must return KZ_OK with valid output or an error with a
 * message and empty output. Deterministic seed; buffers are exact-size so ASan sees overreads. */
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/market.h"

#include "kz_test.h"

static const char *const seeds[] = {
    "timestamp,open,high,low,close,volume\n1704067200000,100,110,90,105,12.5\n"
    "1704070800000,105,106,101,102.1,3\n1704074400000,102,103,99,100,0\n",
    "1704067200,100,110,90,105,12.5\r\n1704070800,105,106,101,102.1,3\r\n",
    "Volume,Close,Low,High,Open,Date\n12.5,105,90,110,100,2024-01-01T00:00:00Z\n"
    "\"3\",\"102.1\",101,106,105,2024-01-01 10:00:00+09:00",
    "1704067200000,100,110,90,105,12.5,1704070799999,1300,10,5,500,0\n"
    "1704070800000,105,106,101,102.1,3,1704074399999,300,10,1,100,0\n",
    "[[1704067200000,\"100\",\"110\",\"90\",\"105\",\"12.5\",1704070799999,\"1300\",10,\"5\","
    "\"500\",\"0\"],[1704070800000,105,106,101,102.1,3,1704074399999,\"0\",0,\"0\",\"0\",\"0\"]]",
    "[[1704067200000,100,110,90,105,12.5],[1704070800000,105,106,101,102.1,3]]",
    "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"linear\",\"list\":["
    "[\"1704070800000\",\"105\",\"106\",\"101\",\"102.1\",\"3\",\"306\"],"
    "[\"1704067200000\",\"100\",\"110\",\"90\",\"105\",\"12.5\",\"1300\"]]}}",
    "timestamp,funding_rate\n1741449600001,0.00001208\n1741478400001,-0.00002779\n",
    "[{\"symbol\":\"BTCUSDT\",\"fundingTime\":1704067200000,\"fundingRate\":\"0.0001\"},"
    "{\"symbol\":\"BTCUSDT\",\"fundingTime\":1704096000001,\"fundingRate\":\"-0.00002\"}]",
    "{\"retCode\":0,\"result\":{\"list\":[{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"0.0003\","
    "\"fundingRateTimestamp\":\"1704096000000\"}]}}",
    "timestamp,open_interest_usd\n1704067200000,898745447.79\n1704070800000,908244314.91\n",
    "[{\"sumOpenInterest\":\"20403.6\",\"sumOpenInterestValue\":\"150570784.07\","
    "\"timestamp\":1704067200000}]",
    "{\"result\":{\"list\":[{\"openInterest\":\"461134384.00\",\"timestamp\":\"1669571400000\"}]}}",
};

static const char inserts[] = "0123456789,,\"\"[]{}\n\r-.eE+:TZ nNaI \t";

/* Apply 1..4 random mutations to buf (capacity cap), returning the new length. */
static size_t mutate(kz_rng *r, char *buf, size_t len, size_t cap)
{
    int n_mut = (int)kz_rng_int(r, 1, 4);
    for (int m = 0; m < n_mut; m++) {
        size_t pos = len ? (size_t)kz_rng_int(r, 0, (int64_t)len - 1) : 0;
        switch (kz_rng_int(r, 0, 4)) {
        case 0: /* flip a byte */
            if (len) {
                buf[pos] = (char)kz_rng_int(r, 0, 255);
            }
            break;
        case 1: /* truncate */
            len = pos;
            break;
        case 2: /* insert a structural character */
            if (len < cap) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = inserts[kz_rng_int(r, 0, (int64_t)sizeof inserts - 2)];
                len++;
            }
            break;
        case 3: /* delete a byte */
            if (len) {
                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                len--;
            }
            break;
        default: { /* duplicate a chunk (repeats rows, creating duplicates and disorder) */
            size_t n = (size_t)kz_rng_int(r, 0, 40);
            if (pos + n > len) {
                n = len - pos;
            }
            if (len + n <= cap) {
                size_t at = len ? (size_t)kz_rng_int(r, 0, (int64_t)len) : 0;
                char tmp[64];
                memcpy(tmp, buf + pos, n);
                memmove(buf + at + n, buf + at, len - at);
                memcpy(buf + at, tmp, n);
                len += n;
            }
            break;
        }
        }
    }
    return len;
}

static int bars_ok(const kz_bars *b, const kz_read_opts *o)
{
    int64_t dur = kz_timeframe_ms(o->tf);
    for (size_t i = 0; i < b->n; i++) {
        double op = b->open[i], h = b->high[i], l = b->low[i], c = b->close[i];
        if (!(isfinite(op) && isfinite(h) && isfinite(l) && isfinite(c) &&
              isfinite(b->volume[i]))) {
            return 0;
        }
        if (!(l > 0 && h >= l && h >= fmax(op, c) && l <= fmin(op, c) && b->volume[i] >= 0)) {
            return 0;
        }
        if (i && b->ts_ms[i] <= b->ts_ms[i - 1]) {
            return 0;
        }
        if (o->check_grid && b->ts_ms[i] % dur != 0) {
            return 0;
        }
    }
    return 1;
}

static int series_ok(const kz_series *s, kz_data_kind kind)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!isfinite(s->value[i]) || (kind == KZ_DATA_OI && s->value[i] < 0)) {
            return 0;
        }
        if (i && s->ts_ms[i] <= s->ts_ms[i - 1]) {
            return 0;
        }
    }
    return 1;
}

static void count_skip(const kz_error *e, void *ud)
{
    size_t *n = ud;
    (*n) += e->msg[0] != '\0' && e->line > 0;
}

static void run_one(const char *buf, size_t len, kz_rng *r, int *n_ok)
{
    kz_read_opts o = kz_read_opts_default();
    size_t skipped_cb = 0;
    o.skip_bad = (int)kz_rng_int(r, 0, 1);
    o.check_grid = (int)kz_rng_int(r, 0, 1);
    o.on_skip = count_skip;
    o.on_skip_ud = &skipped_cb;
    kz_bars b = {0};
    kz_read_report rep;
    kz_error err;
    kz_status st = kz_bars_read_mem(buf, len, "fuzz", &o, &b, &rep, &err);
    if (st == KZ_OK) {
        (*n_ok)++;
        CHECK(bars_ok(&b, &o));
        CHECK(rep.n_rows == b.n);
        CHECK(skipped_cb == rep.n_skipped);
    } else {
        CHECK(st != KZ_ERR_INTERNAL && st != KZ_ERR_NOMEM);
        CHECK(err.code == st && err.msg[0] != '\0');
        CHECK(b.n == 0 && b.ts_ms == NULL);
    }
    kz_bars_free(&b);
    for (int k = 0; k < 2; k++) {
        kz_data_kind kind = k ? KZ_DATA_OI : KZ_DATA_FUNDING;
        kz_series s = {0};
        st = kz_series_read_mem(buf, len, "fuzz", kind, &o, &s, &rep, &err);
        if (st == KZ_OK) {
            (*n_ok)++;
            CHECK(series_ok(&s, kind));
            CHECK(rep.n_rows == s.n);
        } else {
            CHECK(st != KZ_ERR_INTERNAL && st != KZ_ERR_NOMEM);
            CHECK(err.code == st && err.msg[0] != '\0');
            CHECK(s.n == 0 && s.ts_ms == NULL);
        }
        kz_series_free(&s);
    }
}

int main(void)
{
    kz_rng r;
    kz_rng_seed(&r, 20240601);
    const size_t n_seeds = sizeof seeds / sizeof seeds[0];
    int n_ok = 0;
    char work[1024];
    /* Every seed is valid for at least one reader. */
    for (size_t i = 0; i < n_seeds; i++) {
        int before = n_ok;
        run_one(seeds[i], strlen(seeds[i]), &r, &n_ok);
        CHECK_MSG(n_ok > before, "seed %zu rejected by every reader", i);
    }
    for (int it = 0; it < 3000; it++) {
        const char *s = seeds[kz_rng_int(&r, 0, (int64_t)n_seeds - 1)];
        size_t len = strlen(s);
        memcpy(work, s, len);
        len = mutate(&r, work, len, sizeof work);
        /* Exact-size heap copy: a read past `len` is an ASan error. */
        char *buf = malloc(len ? len : 1);
        memcpy(buf, work, len);
        run_one(buf, len, &r, &n_ok);
        free(buf);
    }
    printf("%d successful reads\n", n_ok);
    CHECK(n_ok > 500); /* mutations keep many inputs valid: the invariants were exercised */
    KZ_TEST_DONE();
}
