/* Collector throughput against a local emulated exchange (a small keep-alive HTTP server on
 * 127.0.0.1 serving test_fetch_shapes.h replies): pages/s and bars/s for Bybit and Binance,
 * next to a baseline that reads and stores the same pages without HTTP, and the ceiling the
 * exchanges' documented rate limits impose. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kizashi/fetch.h"
#include "kizashi/kizashi.h"

#include "../tests/test_fetch_shapes.h"

#define H      3600000LL
#define T0     1262304000000LL /* 2010-01-01 */
#define N_BARS 200000

typedef struct server {
    int fd;
    unsigned port;
    fs_data data;
    atomic_int stop;
    pthread_t th;
    /* Replies by request target, built on the first (warm-up) run so the measured run times the
     * collector rather than the emulator's number formatting. */
    char *targets[1024];
    fs_reply replies[1024];
    int n_cached;
} server;

/* Query arguments of one request, decoded. */
typedef struct query {
    char keys[16][32];
    char vals[16][128];
    int n;
} query;

static const char *query_arg(void *ctx, const char *key)
{
    query *q = ctx;
    for (int i = 0; i < q->n; i++) {
        if (strcmp(q->keys[i], key) == 0) {
            return q->vals[i];
        }
    }
    return NULL;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

static void parse_query(const char *s, query *q)
{
    q->n = 0;
    while (*s && q->n < 16) {
        char *dst = q->keys[q->n];
        size_t cap = sizeof q->keys[0], k = 0;
        int in_val = 0;
        for (; *s && *s != '&'; s++) {
            char c = *s;
            if (c == '=' && !in_val) {
                dst[k] = '\0';
                dst = q->vals[q->n];
                cap = sizeof q->vals[0];
                k = 0;
                in_val = 1;
                continue;
            }
            if (c == '%' && s[1] && s[2]) {
                c = (char)(hexval(s[1]) * 16 + hexval(s[2]));
                s += 2;
            }
            if (k + 1 < cap) {
                dst[k++] = c;
            }
        }
        dst[k] = '\0';
        if (!in_val) {
            q->vals[q->n][0] = '\0';
        }
        q->n++;
        if (*s == '&') {
            s++;
        }
    }
}

/* End of the request head ("\r\n\r\n") in buf[0, n), or NULL. */
static char *head_end(char *buf, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++) {
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            return buf + i;
        }
    }
    return NULL;
}

/* Serve one keep-alive connection until the client closes it. */
static void serve_conn(server *sv, int c)
{
    char req[8192];
    size_t have = 0;
    for (;;) {
        char *end = NULL;
        while (!(end = head_end(req, have))) {
            if (have == sizeof req) {
                return;
            }
            ssize_t k = recv(c, req + have, sizeof req - have, 0);
            if (k <= 0) {
                return;
            }
            have += (size_t)k;
        }
        size_t used = (size_t)(end + 4 - req);
        char line[4096];
        size_t ln = (size_t)(strstr(req, "\r\n") - req);
        ln = ln < sizeof line - 1 ? ln : sizeof line - 1;
        memcpy(line, req, ln);
        line[ln] = '\0';
        memmove(req, req + used, have - used);
        have -= used;
        char *path = strchr(line, ' ');
        if (!path) {
            return;
        }
        path++;
        char *sp = strchr(path, ' ');
        if (sp) {
            *sp = '\0';
        }
        query q;
        char *qm = strchr(path, '?');
        if (qm) {
            *qm = '\0';
        }
        parse_query(qm ? qm + 1 : "", &q);
        char target[4096];
        snprintf(target, sizeof target, "%s?%s", path, qm ? qm + 1 : "");
        int hit = -1;
        for (int i = 0; i < sv->n_cached && hit < 0; i++) {
            hit = strcmp(sv->targets[i], target) == 0 ? i : -1;
        }
        if (hit < 0 && sv->n_cached < 1024) {
            hit = sv->n_cached++;
            sv->targets[hit] = strdup(target);
            fs_reply_build(&sv->data, path, query_arg, &q, &sv->replies[hit]);
        }
        fs_reply r = {0, NULL, 0};
        if (hit >= 0) {
            r = sv->replies[hit];
        } else {
            fs_reply_build(&sv->data, path, query_arg, &q, &r); /* cache full: build, free */
        }
        char head[256];
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          r.status, r.len);
        struct iovec iov[2] = {{head, (size_t)hn}, {r.body, r.len}};
        ssize_t want = hn + (ssize_t)r.len, sent = writev(c, iov, 2);
        while (sent >= 0 && sent < want) { /* finish a short write */
            ssize_t k = sent < hn ? write(c, head + sent, (size_t)(hn - sent))
                                  : write(c, r.body + (sent - hn), (size_t)(want - sent));
            sent = k > 0 ? sent + k : -1;
        }
        if (hit < 0) {
            free(r.body);
        }
        if (sent < 0) {
            return;
        }
    }
}

static void *server_main(void *arg)
{
    server *sv = arg;
    while (!atomic_load(&sv->stop)) {
        int c = accept(sv->fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve_conn(sv, c);
        close(c);
    }
    return NULL;
}

static int server_start(server *sv, const fs_data *d)
{
    memset(sv, 0, sizeof *sv);
    sv->data = *d;
    sv->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (sv->fd < 0 || bind(sv->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(sv->fd, 8) != 0 || getsockname(sv->fd, (struct sockaddr *)&sa, &len) != 0) {
        return -1;
    }
    sv->port = ntohs(sa.sin_port);
    return pthread_create(&sv->th, NULL, server_main, sv) == 0 ? 0 : -1;
}

static void server_stop(server *sv)
{
    atomic_store(&sv->stop, 1);
    shutdown(sv->fd, SHUT_RDWR);
    pthread_join(sv->th, NULL);
    close(sv->fd);
    for (int i = 0; i < sv->n_cached; i++) {
        free(sv->targets[i]);
        free(sv->replies[i].body);
    }
}

/* Baseline: read and store the same pages without HTTP (JSON built in advance). */
static double baseline(const fs_data *d, kz_exchange ex, size_t page, const char *db)
{
    const char *path = ex == KZ_EXCHANGE_BYBIT ? "/v5/market/kline" : "/fapi/v1/klines";
    size_t n_pages = (d->bars->n - 1 + page - 1) / page;
    fs_reply *rs = calloc(n_pages, sizeof *rs);
    for (size_t i = 0; i < n_pages; i++) {
        query q;
        char a[256];
        int64_t s = T0 + (int64_t)(i * page) * H, e = s + (int64_t)page * H - 1;
        snprintf(
            a, sizeof a, "category=linear&symbol=BTCUSDT&interval=%s&%s=%lld&%s=%lld&limit=%zu",
            ex == KZ_EXCHANGE_BYBIT ? "60" : "1h", ex == KZ_EXCHANGE_BYBIT ? "start" : "startTime",
            (long long)s, ex == KZ_EXCHANGE_BYBIT ? "end" : "endTime", (long long)e, page);
        parse_query(a, &q);
        fs_reply_build(d, path, query_arg, &q, &rs[i]);
    }
    kz_store *st = NULL;
    unlink(db);
    if (kz_store_open(db, &st, NULL) != KZ_OK) {
        return -1;
    }
    double t = kz_monotonic_s();
    kz_read_opts o = kz_read_opts_default();
    o.format = ex == KZ_EXCHANGE_BYBIT ? KZ_FMT_BYBIT_JSON : KZ_FMT_BINANCE_JSON;
    for (size_t i = 0; i < n_pages; i++) {
        kz_bars b = {0};
        if (kz_bars_read_mem(rs[i].body, rs[i].len, "page", &o, &b, NULL, NULL) != KZ_OK ||
            kz_store_put_bars(st, "base", "BTCUSDT", KZ_TF_1H, &b, NULL) != KZ_OK) {
            fprintf(stderr, "baseline failed at page %zu\n", i);
        }
        kz_bars_free(&b);
        free(rs[i].body);
    }
    t = kz_monotonic_s() - t;
    kz_store_close(st);
    free(rs);
    return t;
}

static void run(kz_exchange ex, const kz_bars *bars)
{
    fs_data d = {ex, KZ_TF_1H, "BTCUSDT", bars, NULL, NULL, T0 + (int64_t)(N_BARS - 1) * H + H / 2,
                 0,  0};
    server sv;
    if (server_start(&sv, &d) != 0) {
        fprintf(stderr, "cannot start the local server\n");
        exit(1);
    }
    char url[64], db[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", sv.port);
    snprintf(db, sizeof db, "/tmp/kz_bench_fetch_%d.db", (int)getpid());
    unlink(db);
    kz_fetch_params p = kz_fetch_params_default();
    p.base_url = url;
    p.kinds = KZ_FETCH_BARS;
    p.from_ms = T0;
    p.now_ms = d.now_ms;
    p.rate_scale = 0; /* measure the collector, not the exchange's budget */
    kz_fetch_report rep;
    for (int pass = 0; pass < 2; pass++) { /* pass 0 warms the server's reply cache */
        unlink(db);
        kz_store *st = NULL;
        kz_error err;
        if (kz_store_open(db, &st, NULL) != KZ_OK ||
            kz_fetch(st, ex, "BTCUSDT", KZ_TF_1H, &p, &rep, &err) != KZ_OK) {
            fprintf(stderr, "fetch failed: %s\n", err.msg);
            exit(1);
        }
        kz_store_close(st);
    }
    server_stop(&sv);
    size_t page = ex == KZ_EXCHANGE_BYBIT ? 1000 : 1500; /* the defaults: documented maxima */
    double base = baseline(&d, ex, page, db);
    unlink(db);
    /* Documented limits: Bybit 600 requests / 5 s; Binance 2400 weight / min at weight 10 for a
     * 1500-row klines page. */
    double lim_pages = ex == KZ_EXCHANGE_BYBIT ? 600.0 / 5.0 : 2400.0 / 60.0 / 10.0;
    printf("%-8s %zu pages of %zu, %zu bars in %.3f s: %.0f pages/s, %.0f bars/s\n",
           kz_exchange_str(ex), rep.pages, page, rep.rows, rep.elapsed_s,
           (double)rep.pages / rep.elapsed_s, (double)rep.rows / rep.elapsed_s);
    printf("         baseline (same pages read + stored, no HTTP): %.3f s, fetch/baseline %.2fx\n",
           base, rep.elapsed_s / base);
    printf("         exchange limit: %.0f pages/s = %.0f bars/s (the real bound)\n", lim_pages,
           lim_pages * (double)page);
}

int main(void)
{
    kz_synth_params sp = kz_synth_params_default();
    sp.n_bars = N_BARS;
    sp.start_ms = T0;
    kz_bars bars = {0};
    kz_error err;
    if (kz_synth_generate(&sp, &bars, NULL, NULL, &err) != KZ_OK) {
        fprintf(stderr, "synth: %s\n", err.msg);
        return 1;
    }
    printf("bench_fetch: %d synthetic 1h bars from a local emulated exchange (127.0.0.1)\n",
           N_BARS);
    run(KZ_EXCHANGE_BYBIT, &bars);
    run(KZ_EXCHANGE_BINANCE, &bars);
    kz_bars_free(&bars);
    return 0;
}
