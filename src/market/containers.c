/* Columnar containers (kz_bars, kz_series), gap counting, as-of alignment and kz_market
 * assembly. */
#include <math.h>
#include <string.h>

#include "market/market_int.h"

/* Next capacity for `need` rows: geometric growth from 64; 0 on overflow. */
static size_t grow_cap(size_t cap, size_t need)
{
    size_t c = cap ? cap : 64;
    while (c < need) {
        if (c > SIZE_MAX / 2) {
            return need;
        }
        c *= 2;
    }
    return c;
}

/* Grow one column to `cap` elements of `size` bytes. The old block stays valid on failure,
 * so a partially grown set of columns is harmless: contents and `cap` are unchanged. */
static int grow_col(void **col, size_t cap, size_t size)
{
    void *p = kz_realloc_array(*col, cap, size);
    if (!p) {
        return -1;
    }
    *col = p;
    return 0;
}

kz_status kz_bars_reserve(kz_bars *b, size_t cap)
{
    if (!b) {
        return KZ_ERR_INVALID;
    }
    if (cap <= b->cap) {
        return KZ_OK;
    }
    void **cols[6] = {(void **)&b->ts_ms, (void **)&b->open,  (void **)&b->high,
                      (void **)&b->low,   (void **)&b->close, (void **)&b->volume};
    for (int i = 0; i < 6; i++) {
        if (grow_col(cols[i], cap, 8)) {
            return KZ_ERR_NOMEM;
        }
    }
    b->cap = cap;
    return KZ_OK;
}

kz_status kz_bars_push(
    kz_bars *b, int64_t ts_ms, double open, double high, double low, double close, double volume)
{
    if (!b) {
        return KZ_ERR_INVALID;
    }
    if (b->n == b->cap) {
        if (b->n == SIZE_MAX) {
            return KZ_ERR_NOMEM;
        }
        kz_status st = kz_bars_reserve(b, grow_cap(b->cap, b->n + 1));
        if (st != KZ_OK) {
            return st;
        }
    }
    size_t i = b->n++;
    b->ts_ms[i] = ts_ms;
    b->open[i] = open;
    b->high[i] = high;
    b->low[i] = low;
    b->close[i] = close;
    b->volume[i] = volume;
    return KZ_OK;
}

void kz_bars_free(kz_bars *b)
{
    if (!b) {
        return;
    }
    kz_free(b->ts_ms);
    kz_free(b->open);
    kz_free(b->high);
    kz_free(b->low);
    kz_free(b->close);
    kz_free(b->volume);
    memset(b, 0, sizeof *b);
}

kz_status kz_series_reserve(kz_series *s, size_t cap)
{
    if (!s) {
        return KZ_ERR_INVALID;
    }
    if (cap <= s->cap) {
        return KZ_OK;
    }
    if (grow_col((void **)&s->ts_ms, cap, 8) || grow_col((void **)&s->value, cap, 8)) {
        return KZ_ERR_NOMEM;
    }
    s->cap = cap;
    return KZ_OK;
}

kz_status kz_series_push(kz_series *s, int64_t ts_ms, double value)
{
    if (!s) {
        return KZ_ERR_INVALID;
    }
    if (s->n == s->cap) {
        if (s->n == SIZE_MAX) {
            return KZ_ERR_NOMEM;
        }
        kz_status st = kz_series_reserve(s, grow_cap(s->cap, s->n + 1));
        if (st != KZ_OK) {
            return st;
        }
    }
    s->ts_ms[s->n] = ts_ms;
    s->value[s->n] = value;
    s->n++;
    return KZ_OK;
}

void kz_series_free(kz_series *s)
{
    if (!s) {
        return;
    }
    kz_free(s->ts_ms);
    kz_free(s->value);
    memset(s, 0, sizeof *s);
}

void kz_bars_gaps(const kz_bars *b, kz_timeframe tf, size_t *n_gaps, size_t *n_missing)
{
    size_t gaps = 0, missing = 0;
    int64_t dur = kz_timeframe_ms(tf);
    if (b && dur > 0) {
        for (size_t i = 1; i < b->n; i++) {
            if (b->ts_ms[i] <= b->ts_ms[i - 1]) {
                continue;
            }
            /* Unsigned difference: no overflow even for extreme stamps. Steps beyond one bar
             * are missing bars; off-grid remainders are not counted. */
            uint64_t d = (uint64_t)b->ts_ms[i] - (uint64_t)b->ts_ms[i - 1];
            if (d > (uint64_t)dur) {
                uint64_t k = d / (uint64_t)dur - 1;
                if (k > 0) {
                    gaps++;
                    missing += (size_t)k;
                }
            }
        }
    }
    if (n_gaps) {
        *n_gaps = gaps;
    }
    if (n_missing) {
        *n_missing = missing;
    }
}

static int is_sorted_ts(const int64_t *ts, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (ts[i] < ts[i - 1]) {
            return 0;
        }
    }
    return 1;
}

kz_status kz_align_asof(
    const kz_bars *bars, kz_timeframe tf, const kz_series *src, int64_t max_age_ms, double *out)
{
    int64_t dur = kz_timeframe_ms(tf);
    if (!bars || dur <= 0 || (bars->n && !out)) {
        return KZ_ERR_INVALID;
    }
    size_t m = src ? src->n : 0;
    /* The single forward sweep below is only correct on sorted inputs. */
    if (!is_sorted_ts(bars->ts_ms, bars->n) || (m && !is_sorted_ts(src->ts_ms, m))) {
        return KZ_ERR_INVALID;
    }
    size_t j = 0; /* number of points stamped strictly before the current bar's close */
    for (size_t i = 0; i < bars->n; i++) {
        int64_t t = bars->ts_ms[i];
        int64_t close_t = t > INT64_MAX - dur ? INT64_MAX : t + dur;
        while (j < m && src->ts_ms[j] < close_t) {
            j++;
        }
        double v = NAN;
        if (j > 0) {
            uint64_t age = (uint64_t)close_t - (uint64_t)src->ts_ms[j - 1];
            if (max_age_ms <= 0 || age <= (uint64_t)max_age_ms) {
                v = src->value[j - 1];
            }
        }
        out[i] = v;
    }
    return KZ_OK;
}

void kz_market_free(kz_market *m)
{
    if (!m) {
        return;
    }
    kz_bars_free(&m->bars);
    kz_free(m->funding);
    kz_free(m->oi);
    kz_series_free(&m->funding_raw);
    memset(m, 0, sizeof *m);
}

static void copy_label(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
    }
    if (n) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}

/* Allocate and fill an aligned column for `src`. */
static kz_status aligned_column(
    const kz_bars *bars, kz_timeframe tf, const kz_series *src, int64_t max_age, double **out)
{
    *out = kz_malloc_array(bars->n, sizeof **out);
    if (!*out) {
        return KZ_ERR_NOMEM;
    }
    return kz_align_asof(bars, tf, src, max_age, *out);
}

/* Copy `src` into `dst` (empty), exactly n rows. */
static kz_status bars_copy(kz_bars *dst, const kz_bars *src)
{
    kz_status st = kz_bars_reserve(dst, src->n);
    if (st != KZ_OK || src->n == 0) {
        return st;
    }
    size_t n = src->n;
    memcpy(dst->ts_ms, src->ts_ms, n * sizeof *src->ts_ms);
    memcpy(dst->open, src->open, n * sizeof(double));
    memcpy(dst->high, src->high, n * sizeof(double));
    memcpy(dst->low, src->low, n * sizeof(double));
    memcpy(dst->close, src->close, n * sizeof(double));
    memcpy(dst->volume, src->volume, n * sizeof(double));
    dst->n = n;
    return KZ_OK;
}

kz_status kz_market_build(const char *exchange,
                          const char *symbol,
                          kz_timeframe tf,
                          const kz_bars *bars,
                          const kz_series *funding,
                          const kz_series *oi,
                          int64_t funding_max_age_ms,
                          int64_t oi_max_age_ms,
                          kz_market *out)
{
    if (!out) {
        return KZ_ERR_INVALID;
    }
    memset(out, 0, sizeof *out);
    if (!bars || (bars->n && (!bars->ts_ms || !bars->open || !bars->high || !bars->low ||
                              !bars->close || !bars->volume))) {
        return KZ_ERR_INVALID;
    }
    kz_bars copy = {0};
    kz_status st = bars_copy(&copy, bars);
    if (st != KZ_OK) {
        kz_bars_free(&copy);
        return st;
    }
    return kz_market_build_take(exchange, symbol, tf, &copy, funding, oi, funding_max_age_ms,
                                oi_max_age_ms, out);
}

kz_status kz_market_build_take(const char *exchange,
                               const char *symbol,
                               kz_timeframe tf,
                               kz_bars *bars,
                               const kz_series *funding,
                               const kz_series *oi,
                               int64_t funding_max_age_ms,
                               int64_t oi_max_age_ms,
                               kz_market *out)
{
    if (!out) {
        kz_bars_free(bars);
        return KZ_ERR_INVALID;
    }
    memset(out, 0, sizeof *out);
    int64_t dur = kz_timeframe_ms(tf);
    if (!bars || dur <= 0 ||
        (bars->n && (!bars->ts_ms || !bars->open || !bars->high || !bars->low || !bars->close ||
                     !bars->volume))) {
        kz_bars_free(bars);
        return KZ_ERR_INVALID;
    }
    copy_label(out->exchange, sizeof out->exchange, exchange);
    copy_label(out->symbol, sizeof out->symbol, symbol);
    out->tf = tf;
    /* Move the arrays: loading a million bars should not pay for a second copy. */
    out->bars = *bars;
    memset(bars, 0, sizeof *bars);
    size_t n = out->bars.n;
    kz_status st = KZ_OK;
    if (funding) {
        st = aligned_column(&out->bars, tf, funding, funding_max_age_ms, &out->funding);
        if (st != KZ_OK) {
            goto fail;
        }
        /* Raw settlements inside [first bar open, last bar close): the backtester charges them. */
        if (n) {
            int64_t lo = out->bars.ts_ms[0], hi = out->bars.ts_ms[n - 1] + dur;
            for (size_t k = 0; k < funding->n; k++) {
                if (funding->ts_ms[k] >= lo && funding->ts_ms[k] < hi) {
                    st = kz_series_push(&out->funding_raw, funding->ts_ms[k], funding->value[k]);
                    if (st != KZ_OK) {
                        goto fail;
                    }
                }
            }
        }
    }
    if (oi) {
        st = aligned_column(&out->bars, tf, oi, oi_max_age_ms, &out->oi);
        if (st != KZ_OK) {
            goto fail;
        }
    }
    return KZ_OK;
fail:
    kz_market_free(out);
    return st;
}
