/* HTTP GET over libcurl (the only file that includes <curl/curl.h>) and the token-bucket rate
 * limiter. One easy handle per fetch keeps the connection alive across pages. */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fetch/fetch_int.h"

/* A response body over 64 MiB is not a market-data page: refuse it rather than grow forever. */
#define BODY_CAP ((size_t)64 << 20)

struct fx_http {
    CURL *curl;
    const atomic_int *cancel;
    char *buf;
    size_t len, cap;
    int too_big, nomem;
    char errbuf[CURL_ERROR_SIZE];
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    fx_http *h = ud;
    size_t n = size * nmemb;
    if (h->len + n + 1 > BODY_CAP) {
        h->too_big = 1;
        return 0;
    }
    if (h->len + n + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 65536;
        while (cap < h->len + n + 1) {
            cap *= 2;
        }
        char *p = kz_realloc(h->buf, cap);
        if (!p) {
            h->nomem = 1;
            return 0;
        }
        h->buf = p;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, data, n);
    h->len += n;
    h->buf[h->len] = '\0';
    return n;
}

/* Aborts a transfer in flight once the cancel flag is raised. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    const fx_http *h = ud;
    return h->cancel && atomic_load(h->cancel) ? 1 : 0;
}

static long to_ms(double s)
{
    return s <= 0 ? 0 : s > 1e6 ? 1000000000L : (long)(s * 1000.0);
}

kz_status fx_http_open(const kz_fetch_params *p, fx_http **out, kz_error *err)
{
    *out = NULL;
    fx_http *h = kz_calloc(1, sizeof *h);
    if (!h) {
        return KZ_ERR_NOMEM;
    }
    h->cancel = p->cancel;
    h->curl = curl_easy_init();
    if (!h->curl) {
        kz_free(h);
        return kz_error_set(err, KZ_ERR_IO, NULL, 0, 0, NULL, "libcurl could not be initialised");
    }
    CURL *c = h->curl;
    CURLcode rc = CURLE_OK;
    rc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    rc |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    rc |= curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    rc |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    rc |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    rc |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    /* No signals: the library may run in any thread, and SIGALRM-based DNS timeouts are unsafe. */
    rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, to_ms(p->timeout_s));
    rc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, to_ms(p->connect_timeout_s));
    rc |= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    rc |= curl_easy_setopt(c, CURLOPT_USERAGENT, "kizashi/0.1");
    rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc != CURLE_OK) {
        fx_http_close(h);
        return kz_error_set(err, KZ_ERR_IO, NULL, 0, 0, NULL, "libcurl rejected an option");
    }
    *out = h;
    return KZ_OK;
}

void fx_http_close(fx_http *h)
{
    if (!h) {
        return;
    }
    curl_easy_cleanup(h->curl);
    kz_free(h->buf);
    kz_free(h);
}

kz_status fx_http_get(fx_http *h, const char *url, fx_response *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
    h->len = 0;
    h->too_big = 0;
    h->nomem = 0;
    h->errbuf[0] = '\0';
    if (h->buf) {
        h->buf[0] = '\0';
    }
    if (curl_easy_setopt(h->curl, CURLOPT_URL, url) != CURLE_OK) {
        snprintf(r->reason, sizeof r->reason, "bad URL");
        return KZ_ERR_INVALID;
    }
    CURLcode rc = curl_easy_perform(h->curl);
    if (h->nomem) {
        return KZ_ERR_NOMEM;
    }
    if (h->too_big) {
        snprintf(r->reason, sizeof r->reason, "response larger than %zu bytes", BODY_CAP);
        return KZ_ERR_RANGE;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(r->reason, sizeof r->reason, "cancelled");
        return KZ_ERR_CANCELLED;
    }
    if (rc != CURLE_OK) {
        snprintf(r->reason, sizeof r->reason, "%s",
                 h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
        return rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ? KZ_ERR_INVALID
                                                                             : KZ_ERR_IO;
    }
    long status = 0;
    curl_off_t after = -1;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    /* CURLINFO_RETRY_AFTER understands both delta-seconds and an HTTP date (curl >= 7.66). */
    if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0) {
        r->retry_after_s = (double)after;
    }
    r->status = status;
    r->body = h->buf ? h->buf : "";
    r->len = h->len;
    return KZ_OK;
}

/* ---------------------------------------------------------------- rate limiting */

void fx_bucket_init(fx_bucket *b, double weight, double window_s, double scale, double now_s)
{
    b->rate = scale > 0 && window_s > 0 ? weight * scale / window_s : 0;
    /* At most one second's budget in a burst (and room for the heaviest request, weight 10):
     * keeps well inside fixed-window limits shared with other clients of the same IP. */
    b->cap = fmax(b->rate, 10.0);
    b->tokens = b->cap;
    b->t_last = now_s;
}

double fx_bucket_take(fx_bucket *b, double w, double now_s)
{
    if (b->rate <= 0) {
        return 0;
    }
    if (now_s > b->t_last) {
        b->tokens = fmin(b->cap, b->tokens + (now_s - b->t_last) * b->rate);
        b->t_last = now_s;
    }
    if (b->tokens >= w) {
        b->tokens -= w;
        return 0;
    }
    /* The missing weight accrues after t_last, which may lie ahead of now after a wait. */
    double fill = (w - b->tokens) / b->rate;
    double wait = fill + fmax(0.0, b->t_last - now_s);
    b->tokens = 0;
    b->t_last += fill;
    return wait;
}
