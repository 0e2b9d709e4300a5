/* The collector: walks each requested series oldest first in windows of one page, validates every
 * page like an import and upserts it in its own transaction.
 *
 * DESIGN
 * - Range: [from, to) with from = the user's, else the newest stored row + 1 (incremental), else
 *   now - lookback; to = the user's, capped at "closed": a bar is stored only when ts + duration
 *   <= now, a funding/OI row when ts <= now. "now" is injectable and, when taken from the clock,
 *   capped by the server's time when the response carries it (Bybit "time"), so a local clock
 *   running ahead never lets a forming bar in.
 * - Newest-first endpoints (Bybit v5) are walked forward in windows of `limit` grid steps: the
 *   window [cur, cur + limit * step) is asked for with start/end; if it holds more rows than one
 *   page (funding paid more often than every 8 h, a smaller server page), the window is paged
 *   backwards (end = oldest - 1, or Bybit's nextPageCursor) and its pages are stored oldest
 *   first once the window is complete. Ascending endpoints (Binance) page forward from startTime
 *   (openInterestHist also in bounded windows, since a range's newest rows win there).
 * - Invariant: the stored rows of the range always form a gap-free prefix [from, cur): an
 *   interruption anywhere (cut connection, bad page, cancel, crash) loses at most the window in
 *   flight, and an incremental rerun (from = newest stored + 1) completes the range with no gap
 *   and no duplicate.
 * - Retries: transport failures (timeout, refused, cut), HTTP 5xx and the exchanges' transient
 *   codes back off exponentially (backoff_s * 2^attempt, capped); HTTP 429/418 wait Retry-After
 *   when given. Other 4xx and exchange error codes fail at once with the exchange's message.
 *   Malformed or invalid pages fail at once (retrying would get the same bytes).
 * - Rate limiting: a token bucket per documented budget (fetch_int.h), on a clock that counts
 *   injected (recorded) sleeps as elapsed so tests see the same waits without sleeping. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kizashi/core.h"

#include "core/core_int.h"
#include "fetch/fetch_int.h"

#define DAY_MS (86400LL * 1000)
/* Pages one window may need before the walk is declared runaway (a server repeating itself). */
#define MAX_WINDOW_PAGES 10000

typedef struct run {
    kz_store *st;
    kz_exchange ex;
    char symbol[32];
    kz_timeframe tf;
    kz_fetch_params p;
    char base[512];
    kz_fetch_report *rep;
    kz_error *err;
    fx_http *http;
    fx_bucket buckets[FX_MAX_BUCKETS];
    double t0;     /* monotonic seconds at the start */
    double virt_s; /* recorded sleeps that did not really pass (injected sleep function) */
    int64_t now_ms;
    int now_injected;
    char url[1024];
} run;

/* One response's rows, sorted ascending, with the raw extent before range filtering. */
typedef struct page {
    kz_bars bars;
    kz_series ser;
    size_t raw_n;
    int64_t raw_oldest, raw_newest;
    char cursor[256];
} page;

kz_fetch_params kz_fetch_params_default(void)
{
    kz_fetch_params p;
    memset(&p, 0, sizeof p);
    p.kinds = KZ_FETCH_ALL;
    p.from_ms = INT64_MIN;
    p.to_ms = INT64_MAX;
    p.lookback_ms = 30 * DAY_MS;
    p.max_retries = 4;
    p.backoff_s = 1.0;
    p.backoff_max_s = 60.0;
    p.retry_after_max_s = 600.0;
    p.timeout_s = 30.0;
    p.connect_timeout_s = 10.0;
    p.rate_scale = 1.0;
    return p;
}

/* A parameter out of its domain: KZ_ERR_INVALID naming the field. */
static kz_status param_error(kz_error *err, const char *field, const char *msg)
{
    return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, field, "%s", msg);
}

static int valid_url(const char *u)
{
    return u && strlen(u) < 512 &&
           (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           !strpbrk(u, "?# \t\r\n");
}

kz_status kz_fetch_params_check(const kz_fetch_params *p, kz_exchange ex, kz_error *err)
{
    if (!p) {
        return param_error(err, "params", "missing");
    }
    if (ex != KZ_EXCHANGE_BYBIT && ex != KZ_EXCHANGE_BINANCE) {
        return param_error(err, "exchange", "unknown exchange");
    }
    if (p->kinds == 0 || (p->kinds & ~KZ_FETCH_ALL)) {
        return param_error(err, "kinds", "must be a non-empty set of KZ_FETCH_* bits");
    }
    if (p->from_ms != INT64_MIN && p->from_ms < 0) {
        return param_error(err, "from_ms", "must be INT64_MIN (incremental) or >= 0");
    }
    if (p->to_ms <= 0 || (p->from_ms != INT64_MIN && p->from_ms >= p->to_ms)) {
        return param_error(err, "to_ms", "must be after from_ms");
    }
    if (p->lookback_ms <= 0 || p->lookback_ms > 36500 * DAY_MS) {
        return param_error(err, "lookback_ms", "must be in (0, 100 years]");
    }
    if (p->now_ms < 0) {
        return param_error(err, "now_ms", "must be 0 (the clock) or a time");
    }
    const size_t sizes[3] = {p->bars_page, p->funding_page, p->oi_page};
    static const char *const names[3] = {"bars_page", "funding_page", "oi_page"};
    for (int k = 0; k < 3; k++) {
        if (sizes[k] > fx_endpoint_of(ex, (kz_data_kind)k)->max_page) {
            return param_error(err, names[k], "above the exchange's maximum page size");
        }
    }
    if (p->max_retries < 0 || p->max_retries > 30) {
        return param_error(err, "max_retries", "must be in [0, 30]");
    }
    if (!(p->backoff_s >= 0) || !(p->backoff_max_s >= 0) || !(p->retry_after_max_s >= 0) ||
        !(p->rate_scale >= 0) || p->rate_scale > 1e6) {
        return param_error(err, "backoff_s",
                           "delays and rate_scale must be finite and non-negative");
    }
    if (!(p->timeout_s > 0) || !(p->connect_timeout_s > 0)) {
        return param_error(err, "timeout_s", "timeouts must be positive");
    }
    if (p->base_url && !valid_url(p->base_url)) {
        return param_error(err, "base_url",
                           "must start with http:// or https://, without query or spaces");
    }
    return KZ_OK;
}

/* ---------------------------------------------------------------- helpers */

static kz_status fail(run *r, kz_status code, const char *field, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static kz_status fail(run *r, kz_status code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kz_error_vset(r->err, code, r->url, 0, 0, field, fmt, ap);
    va_end(ap);
    return code;
}

static void say(run *r, kz_log_level lv, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void say(run *r, kz_log_level lv, const char *fmt, ...)
{
    if (!r->p.log) {
        return;
    }
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->p.log(lv, msg, r->p.log_ud);
}

static int cancelled(const run *r)
{
    return r->p.cancel && atomic_load(r->p.cancel) != 0;
}

static double clock_s(const run *r)
{
    return kz_monotonic_s() - r->t0 + r->virt_s;
}

/* Sleep `s` seconds: through the injected function (counted on the virtual clock), else in
 * slices of at most 100 ms so a cancel is noticed promptly. */
static void pause_for(run *r, double s)
{
    if (!(s > 0)) {
        return;
    }
    r->rep->slept_s += s;
    if (r->p.sleep) {
        r->p.sleep(s, r->p.sleep_ud);
        r->virt_s += s;
        return;
    }
    double end = kz_monotonic_s() + s;
    for (double left = s; left > 0 && !cancelled(r); left = end - kz_monotonic_s()) {
        double slice = left < 0.1 ? left : 0.1;
        struct timespec ts = {(time_t)slice, (long)((slice - (double)(time_t)slice) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static double backoff(const run *r, int attempt)
{
    double d = r->p.backoff_s;
    for (int i = 0; i < attempt && d < r->p.backoff_max_s; i++) {
        d *= 2;
    }
    return d < r->p.backoff_max_s ? d : r->p.backoff_max_s;
}

static int64_t floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    return (q - (t % step < 0)) * step;
}

/* Exclusive end of what may be stored now: bars up to the open of the one still forming (a bar
 * is closed when ts + duration <= now); funding and OI rows once their stamp has passed. */
static int64_t closed_end(const run *r, kz_data_kind kind, int64_t to)
{
    int64_t dur = kz_timeframe_ms(r->tf);
    int64_t lim = kind == KZ_DATA_BARS ? floor_to(r->now_ms - dur, dur) + dur : r->now_ms + 1;
    return to < lim ? to : lim;
}

static void page_free(page *pg)
{
    kz_bars_free(&pg->bars);
    kz_series_free(&pg->ser);
}

static size_t page_rows(const page *pg)
{
    return pg->bars.n + pg->ser.n;
}

/* Keep the rows with lo <= ts < hi (columns compacted in place); returns how many remain. */
static size_t
keep_range(int64_t *ts, double *const *cols, int ncols, size_t n, int64_t lo, int64_t hi)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ts[i] >= lo && ts[i] < hi) {
            ts[k] = ts[i];
            for (int c = 0; c < ncols; c++) {
                cols[c][k] = cols[c][i];
            }
            k++;
        }
    }
    return k;
}

/* ---------------------------------------------------------------- one request */

/* GET r->url until it yields a usable page envelope, retrying what is transient. */
static kz_status request(run *r,
                         kz_data_kind kind,
                         const fx_endpoint *ep,
                         size_t limit,
                         fx_response *resp,
                         fx_envelope *env)
{
    const char *field = r->ex == KZ_EXCHANGE_BYBIT ? "retMsg" : "msg";
    for (int attempt = 0;; attempt++) {
        if (cancelled(r)) {
            return fail(r, KZ_ERR_CANCELLED, "", "cancelled");
        }
        pause_for(
            r, fx_bucket_take(&r->buckets[ep->bucket], fx_weight(r->ex, kind, limit), clock_s(r)));
        r->rep->requests++;
        kz_status s = fx_http_get(r->http, r->url, resp);
        char why[400];
        double delay = backoff(r, attempt);
        if (s == KZ_ERR_CANCELLED || s == KZ_ERR_NOMEM || s == KZ_ERR_INVALID ||
            s == KZ_ERR_RANGE) {
            return fail(r, s, "", "%s: %s", ep->name, resp->reason);
        }
        if (s != KZ_OK) {
            snprintf(why, sizeof why, "%s", resp->reason);
        } else {
            long code = resp->status;
            s = fx_envelope_parse(r->ex, code, resp->body, resp->len, r->url, env, r->err);
            if (code >= 200 && code < 300) {
                if (s != KZ_OK) {
                    return s;
                }
                if (!env->error) {
                    return KZ_OK;
                }
                if (!env->retryable) {
                    return fail(r, KZ_ERR_INVALID, field, "%s: exchange error %ld: %s", ep->name,
                                env->code, env->msg);
                }
                snprintf(why, sizeof why, "exchange error %ld: %s", env->code, env->msg);
            } else if (code == 429 || code == 418) {
                snprintf(why, sizeof why, "HTTP %ld (%s): %s", code,
                         code == 429 ? "rate limited" : "IP banned", env->msg);
                if (resp->retry_after_s > r->p.retry_after_max_s) {
                    return fail(r, KZ_ERR_IO, "Retry-After",
                                "%s: %s; the exchange asks to wait %.0f s, more than %.0f s",
                                ep->name, why, resp->retry_after_s, r->p.retry_after_max_s);
                }
                if (resp->retry_after_s >= 0) {
                    delay = resp->retry_after_s;
                }
            } else if (code >= 500) {
                snprintf(why, sizeof why, "HTTP %ld: %s", code, env->msg);
            } else if (env->error) {
                return fail(r, KZ_ERR_INVALID, field, "%s: HTTP %ld, exchange error %ld: %s",
                            ep->name, code, env->code, env->msg);
            } else {
                return fail(r, KZ_ERR_INVALID, "http", "%s: HTTP %ld: %s", ep->name, code,
                            env->msg);
            }
        }
        if (attempt >= r->p.max_retries) {
            return fail(r, KZ_ERR_IO, "", "%s: giving up after %d attempts: %s", ep->name,
                        attempt + 1, why);
        }
        r->rep->retries++;
        say(r, KZ_LOG_WARN, "%s: %s; retry %d of %d in %.3g s", ep->name, why, attempt + 1,
            r->p.max_retries, delay);
        pause_for(r, delay);
    }
}

/* Fetch one page of [start, end] (inclusive bounds, as the exchanges take them), validate it
 * and keep its rows inside [lo, closed end of hi). */
static kz_status fetch_page(run *r,
                            kz_data_kind kind,
                            const fx_endpoint *ep,
                            const char *interval,
                            int64_t start,
                            int64_t end,
                            size_t limit,
                            const char *cursor,
                            int64_t lo,
                            int64_t hi,
                            page *pg)
{
    memset(pg, 0, sizeof *pg);
    kz_status s = fx_build_url(r->url, sizeof r->url, r->base, r->ex, ep, r->symbol, interval,
                               start, end, limit, cursor);
    if (s != KZ_OK) {
        return fail(r, s, "base_url", "request URL too long");
    }
    fx_response resp;
    fx_envelope env;
    s = request(r, kind, ep, limit, &resp, &env);
    if (s != KZ_OK) {
        return s;
    }
    if (env.server_ms > 0 && !r->now_injected && env.server_ms < r->now_ms) {
        r->now_ms = env.server_ms;
    }
    snprintf(pg->cursor, sizeof pg->cursor, "%s", env.cursor);
    pg->raw_n = env.n_rows;
    if (env.n_rows == 0) {
        return KZ_OK;
    }
    kz_read_opts o = kz_read_opts_default();
    o.tf = r->tf;
    o.check_grid = 1;
    if (kind == KZ_DATA_BARS) {
        o.format = r->ex == KZ_EXCHANGE_BYBIT ? KZ_FMT_BYBIT_JSON : KZ_FMT_BINANCE_JSON;
        s = kz_bars_read_mem(resp.body, resp.len, r->url, &o, &pg->bars, NULL, r->err);
    } else {
        o.format = KZ_FMT_SERIES_JSON;
        s = kz_series_read_mem(resp.body, resp.len, r->url, kind, &o, &pg->ser, NULL, r->err);
    }
    if (s != KZ_OK) {
        page_free(pg);
        return s;
    }
    hi = closed_end(r, kind, hi);
    size_t n;
    if (kind == KZ_DATA_BARS) {
        kz_bars *b = &pg->bars;
        double *const cols[5] = {b->open, b->high, b->low, b->close, b->volume};
        pg->raw_oldest = b->ts_ms[0];
        pg->raw_newest = b->ts_ms[b->n - 1];
        n = b->n;
        b->n = keep_range(b->ts_ms, cols, 5, b->n, lo, hi);
        r->rep->rows_dropped += n - b->n;
    } else {
        kz_series *sr = &pg->ser;
        double *const cols[1] = {sr->value};
        pg->raw_oldest = sr->ts_ms[0];
        pg->raw_newest = sr->ts_ms[sr->n - 1];
        n = sr->n;
        sr->n = keep_range(sr->ts_ms, cols, 1, sr->n, lo, hi);
        r->rep->rows_dropped += n - sr->n;
    }
    return KZ_OK;
}

/* Upsert one page in its own transaction and account for it. */
static kz_status store_page(run *r, kz_data_kind kind, const page *pg)
{
    if (page_rows(pg) == 0) {
        return KZ_OK;
    }
    kz_upsert_stats us = {0, 0, 0};
    const char *exn = kz_exchange_str(r->ex);
    kz_status s = kind == KZ_DATA_BARS
                      ? kz_store_put_bars(r->st, exn, r->symbol, r->tf, &pg->bars, &us)
                      : kz_store_put_series(r->st, kind, exn, r->symbol, &pg->ser, &us);
    if (s != KZ_OK) {
        return fail(r, s, "store", "%s", kz_store_errmsg(r->st));
    }
    kz_fetch_kind_report *kr = &r->rep->kind[kind];
    kr->pages++;
    kr->rows += page_rows(pg);
    kr->inserted += us.inserted;
    kr->updated += us.updated;
    kr->unchanged += us.unchanged;
    r->rep->pages++;
    r->rep->rows += page_rows(pg);
    return KZ_OK;
}

static kz_status progress(run *r, kz_data_kind kind, int64_t done, double t_kind)
{
    if (!r->p.progress) {
        return KZ_OK;
    }
    const kz_fetch_kind_report *kr = &r->rep->kind[kind];
    kz_fetch_progress pr;
    memset(&pr, 0, sizeof pr);
    pr.kind = kind;
    pr.pages = r->rep->pages;
    pr.rows = r->rep->rows;
    pr.from_ms = kr->from_ms;
    pr.to_ms = kr->to_ms;
    pr.done_ms = done;
    double span = (double)(kr->to_ms - kr->from_ms);
    pr.fraction = span > 0 ? (double)(done - kr->from_ms) / span : 1.0;
    pr.fraction = pr.fraction < 0 ? 0 : pr.fraction > 1 ? 1 : pr.fraction;
    pr.elapsed_s = clock_s(r);
    double spent = pr.elapsed_s - t_kind;
    pr.eta_s = pr.fraction > 0 ? spent * (1.0 - pr.fraction) / pr.fraction : -1.0;
    if (r->p.progress(&pr, r->p.progress_ud) != 0) {
        return fail(r, KZ_ERR_CANCELLED, "", "stopped by the progress callback");
    }
    return KZ_OK;
}

/* ---------------------------------------------------------------- walking a range */

/* One window [cur, w_end) of a newest-first endpoint: page backwards until the window is
 * covered, then store the pages oldest first. */
static kz_status newest_first_window(run *r,
                                     kz_data_kind kind,
                                     const fx_endpoint *ep,
                                     const char *interval,
                                     size_t limit,
                                     int64_t cur,
                                     int64_t w_end)
{
    page *pages = NULL;
    size_t n_pages = 0;
    kz_status s = KZ_OK;
    int64_t req_end = w_end - 1;
    char cursor[256] = "";
    for (;;) {
        if (n_pages >= MAX_WINDOW_PAGES) {
            s = fail(r, KZ_ERR_RANGE, "cursor", "%s: more than %d pages in one window", ep->name,
                     MAX_WINDOW_PAGES);
            goto done;
        }
        page *grown = kz_realloc_array(pages, n_pages + 1, sizeof *pages);
        if (!grown) {
            s = fail(r, KZ_ERR_NOMEM, "", "out of memory");
            goto done;
        }
        pages = grown;
        page *pg = &pages[n_pages];
        s = fetch_page(r, kind, ep, interval, cur, req_end, limit, ep->cursor ? cursor : NULL, cur,
                       w_end, pg);
        if (s != KZ_OK) {
            goto done;
        }
        n_pages++;
        if (pg->raw_n == 0) {
            break;
        }
        if (ep->cursor) {
            /* Bybit pages by cursor inside fixed bounds; a repeated cursor would loop. */
            if (!pg->cursor[0] || strcmp(pg->cursor, cursor) == 0) {
                break;
            }
            snprintf(cursor, sizeof cursor, "%s", pg->cursor);
        } else {
            if (pg->raw_n < limit || pg->raw_oldest <= cur) {
                break;
            }
            req_end = pg->raw_oldest - 1;
        }
    }
    for (size_t i = n_pages; i-- > 0 && s == KZ_OK;) {
        s = store_page(r, kind, &pages[i]);
    }
done:
    for (size_t i = 0; i < n_pages; i++) {
        page_free(&pages[i]);
    }
    kz_free(pages);
    return s;
}

/* One request of an ascending endpoint from cur; advances *cur past what it covered. */
static kz_status ascending_step(run *r,
                                kz_data_kind kind,
                                const fx_endpoint *ep,
                                const char *interval,
                                size_t limit,
                                int64_t *cur,
                                int64_t w_end)
{
    page pg;
    kz_status s = fetch_page(r, kind, ep, interval, *cur, w_end - 1, limit, NULL, *cur, w_end, &pg);
    if (s == KZ_OK) {
        s = store_page(r, kind, &pg);
    }
    if (s == KZ_OK) {
        if (pg.raw_n >= limit) {
            if (pg.raw_newest < *cur) {
                s = fail(r, KZ_ERR_PARSE, "", "%s: a full page that does not advance", ep->name);
            } else {
                *cur = pg.raw_newest + 1;
            }
        } else {
            *cur = w_end;
        }
    }
    page_free(&pg);
    return s;
}

/* The start of a kind's range: the user's, else after the newest stored row, else lookback. */
static kz_status range_start(run *r, kz_data_kind kind, int64_t step, int64_t *from)
{
    if (r->p.from_ms != INT64_MIN) {
        *from = r->p.from_ms;
        return KZ_OK;
    }
    int64_t last;
    kz_status s = kz_store_last_ts(r->st, kind, kz_exchange_str(r->ex), r->symbol, r->tf, &last);
    if (s == KZ_OK) {
        /* The next bar opens one duration later; a funding/OI row may come any time after. */
        *from = last + (kind == KZ_DATA_BARS ? kz_timeframe_ms(r->tf) : 1);
        return KZ_OK;
    }
    if (s != KZ_ERR_NOT_FOUND) {
        return fail(r, KZ_ERR_STORE, "store", "%s", kz_store_errmsg(r->st));
    }
    int64_t t = r->now_ms - r->p.lookback_ms;
    *from = floor_to(t > 0 ? t : 0, step);
    return KZ_OK;
}

static kz_status run_kind(run *r, kz_data_kind kind)
{
    const fx_endpoint *ep = fx_endpoint_of(r->ex, kind);
    const size_t sizes[3] = {r->p.bars_page, r->p.funding_page, r->p.oi_page};
    size_t limit = sizes[kind] ? sizes[kind] : ep->max_page;
    int64_t step = fx_step_ms(r->ex, kind, r->tf);
    const char *interval = NULL;
    if (kind != KZ_DATA_FUNDING && kz_fetch_interval(r->ex, kind, r->tf, &interval) != KZ_OK) {
        return fail(r, KZ_ERR_INVALID, "timeframe", "no interval for this timeframe");
    }
    kz_fetch_kind_report *kr = &r->rep->kind[kind];
    kr->fetched = 1;
    int64_t from = 0;
    kz_status s = range_start(r, kind, step, &from);
    if (s != KZ_OK) {
        return s;
    }
    if (ep->max_age_days > 0) {
        int64_t oldest = r->now_ms - ep->max_age_days * DAY_MS;
        oldest = floor_to(oldest, step) + step;
        if (from < oldest) {
            char a[32], b[32];
            kr->truncated = 1;
            say(r, KZ_LOG_WARN,
                "%s: the exchange keeps only the last %d days; asked from %s, fetching from %s",
                ep->name, ep->max_age_days, kz_time_format(from, a), kz_time_format(oldest, b));
            from = oldest;
        }
    }
    kr->from_ms = from;
    kr->to_ms = closed_end(r, kind, r->p.to_ms);
    double t_kind = clock_s(r);
    int64_t span = (int64_t)limit * step;
    int64_t cur = from;
    while (s == KZ_OK && cur < (kr->to_ms = closed_end(r, kind, r->p.to_ms))) {
        int64_t to = kr->to_ms;
        int64_t w_end = (ep->newest_first || ep->windowed) && to - cur > span ? cur + span : to;
        if (ep->newest_first) {
            s = newest_first_window(r, kind, ep, interval, limit, cur, w_end);
            cur = w_end;
        } else {
            s = ascending_step(r, kind, ep, interval, limit, &cur, w_end);
        }
        if (s == KZ_OK) {
            s = progress(r, kind, cur < kr->to_ms ? cur : kr->to_ms, t_kind);
        }
    }
    if (kr->to_ms < kr->from_ms) {
        kr->to_ms = kr->from_ms;
    }
    return s;
}

kz_status kz_fetch(kz_store *st,
                   kz_exchange ex,
                   const char *symbol,
                   kz_timeframe tf,
                   const kz_fetch_params *params,
                   kz_fetch_report *rep,
                   kz_error *err)
{
    kz_fetch_report local;
    rep = rep ? rep : &local;
    memset(rep, 0, sizeof *rep);
    kz_error_clear(err);
    run *r = kz_calloc(1, sizeof *r);
    if (!r) {
        return KZ_ERR_NOMEM;
    }
    double t0 = kz_monotonic_s();
    r->p = params ? *params : kz_fetch_params_default();
    kz_status s = kz_fetch_params_check(&r->p, ex, err);
    if (s == KZ_OK && (!st || (int)tf < 0 || tf >= KZ_TF_COUNT)) {
        s = param_error(err, st ? "tf" : "store", "missing store or invalid timeframe");
    }
    if (s == KZ_OK) {
        s = kz_symbol_normalize(symbol, r->symbol, sizeof r->symbol, err);
    }
    if (s != KZ_OK) {
        goto done;
    }
    const char *env = getenv(kz_exchange_url_env(ex));
    const char *base = r->p.base_url ? r->p.base_url
                       : env && *env ? env
                                     : kz_exchange_default_url(ex);
    if (!valid_url(base)) {
        s = param_error(err, kz_exchange_url_env(ex), "base URL must start with http(s)://");
        goto done;
    }
    snprintf(r->base, sizeof r->base, "%s", base);
    r->st = st;
    r->ex = ex;
    r->tf = tf;
    r->rep = rep;
    r->err = err;
    r->t0 = t0;
    r->now_injected = r->p.now_ms > 0;
    r->now_ms = r->now_injected ? r->p.now_ms : kz_now_ms();
    for (int b = 0; b < FX_MAX_BUCKETS; b++) {
        double w = 0, win = 0;
        if (fx_bucket_budget(ex, b, &w, &win)) {
            fx_bucket_init(&r->buckets[b], w, win, r->p.rate_scale, 0.0);
        }
    }
    s = fx_http_open(&r->p, &r->http, err);
    for (int k = 0; s == KZ_OK && k < 3; k++) {
        if (r->p.kinds & (1u << k)) {
            s = run_kind(r, (kz_data_kind)k);
        }
    }
    fx_http_close(r->http);
done:
    rep->elapsed_s = kz_monotonic_s() - t0;
    if (err && s != KZ_OK && err->code == KZ_OK) {
        err->code = s;
        snprintf(err->msg, sizeof err->msg, "%s", kz_status_str(s));
    }
    kz_free(r);
    return s;
}
