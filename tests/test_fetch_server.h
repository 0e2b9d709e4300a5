/* A local exchange for the collector's tests: libmicrohttpd on an ephemeral 127.0.0.1 port,
 * serving test_fetch_shapes.h replies, with injectable faults (429 + Retry-After, 5xx, a
 * dropped connection, a body cut in the middle, a malformed body, an invalid row). */
#ifndef KZ_TEST_FETCH_SERVER_H
#define KZ_TEST_FETCH_SERVER_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kizashi/store.h"

#include "test_fetch_shapes.h"

/* A new empty store dir/name.db (any older file of that name is removed); exits on failure. */
static inline kz_store *fs_store_fresh(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    unlink(path);
    kz_store *st = NULL;
    kz_error err;
    if (kz_store_open(path, &st, &err) != KZ_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, err.msg);
        exit(1);
    }
    return st;
}

/* Faults apply to requests by their 1-based index (fs_server.n_requests after the increment). */
typedef struct fs_faults {
    int n_429;         /* the first n_429 requests get 429 with Retry-After: retry_after */
    int retry_after;   /* seconds; 0 = no header */
    int n_500;         /* the next n_500 requests get 500 */
    long cut_from;     /* requests >= cut_from are dropped without a reply (0 = never) */
    long partial_at;   /* this request's body stops half-way (connection closed) */
    long malformed_at; /* this request gets a truncated JSON body with 200 */
    long badrow_at;    /* this request gets a row with high < low */
} fs_faults;

typedef struct fs_server {
    struct MHD_Daemon *d;
    unsigned port;
    char url[64];
    fs_data data;
    fs_faults f;
    long n_requests;
    long n_served; /* 200 replies with data */
    pthread_mutex_t mu;
} fs_server;

static inline const char *fs_mhd_arg(void *ctx, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_GET_ARGUMENT_KIND, key);
}

typedef struct fs_partial {
    char *body;
    size_t len;
} fs_partial;

static inline ssize_t fs_partial_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    fs_partial *p = cls;
    size_t half = p->len / 2;
    if (pos >= half) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t k = half - (size_t)pos < max ? half - (size_t)pos : max;
    memcpy(buf, p->body + pos, k);
    return (ssize_t)k;
}

static inline void fs_partial_free(void *cls)
{
    fs_partial *p = cls;
    free(p->body);
    free(p);
}

/* Make the first data row of a reply invalid: the high becomes far below the low. */
static inline void fs_break_row(fs_reply *r, kz_exchange ex)
{
    /* Row layout: [ts,"open","high",... (Bybit: "ts","open","high"). Find the third value. */
    char *p = strstr(r->body, ex == KZ_EXCHANGE_BYBIT ? "[[\"" : "[[");
    for (int commas = 0; p && *p && commas < 2; p++) {
        commas += *p == ',';
    }
    if (!p) {
        return;
    }
    char *q = p + 1;
    while (*q && *q != '"') {
        q++;
    }
    /* Replace the high's digits with "1" padded by spaces inside the string (same length). */
    p[1] = '1';
    for (char *z = p + 2; z < q; z++) {
        *z = ' ';
    }
}

static inline enum MHD_Result fs_handler(void *cls,
                                         struct MHD_Connection *c,
                                         const char *url,
                                         const char *method,
                                         const char *version,
                                         const char *upload,
                                         size_t *upload_size,
                                         void **con_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    fs_server *s = cls;
    if (strcmp(method, "GET") != 0) {
        return MHD_NO;
    }
    pthread_mutex_lock(&s->mu);
    long k = ++s->n_requests;
    fs_faults f = s->f;
    int is429 = k <= f.n_429, is500 = !is429 && k <= f.n_429 + f.n_500;
    int cut = f.cut_from > 0 && k >= f.cut_from;
    fs_reply r = {0, NULL, 0};
    if (!is429 && !is500 && !cut) {
        fs_reply_build(&s->data, url, fs_mhd_arg, c, &r);
        s->n_served += r.status == 200;
    }
    pthread_mutex_unlock(&s->mu);
    if (cut) {
        return MHD_NO; /* close the connection without a reply */
    }
    struct MHD_Response *resp;
    unsigned code = (unsigned)r.status;
    if (is429 || is500) {
        static const char m429[] = "{\"code\":-1003,\"msg\":\"Too many requests; current limit "
                                   "is 2400 requests per minute.\"}";
        static const char m500[] = "<html><body>500 Internal Server Error</body></html>";
        const char *m = is429 ? m429 : m500;
        resp = MHD_create_response_from_buffer(strlen(m), (void *)m, MHD_RESPMEM_PERSISTENT);
        code = is429 ? 429 : 500;
        if (is429 && f.retry_after > 0) {
            char ra[16];
            snprintf(ra, sizeof ra, "%d", f.retry_after);
            MHD_add_response_header(resp, "Retry-After", ra);
        }
    } else if (k == f.partial_at) {
        fs_partial *p = malloc(sizeof *p);
        p->body = r.body;
        p->len = r.len;
        resp = MHD_create_response_from_callback(r.len, 4096, fs_partial_read, p, fs_partial_free);
    } else {
        if (k == f.malformed_at && r.len > 10) {
            r.len = r.len * 2 / 3; /* a body that ends in the middle of the JSON */
        }
        if (k == f.badrow_at) {
            fs_break_row(&r, s->data.ex);
        }
        resp = MHD_create_response_from_buffer(r.len, r.body ? r.body : (void *)"",
                                               r.body ? MHD_RESPMEM_MUST_FREE
                                                      : MHD_RESPMEM_PERSISTENT);
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Start on 127.0.0.1 with an ephemeral port. Returns 0 on success. */
static inline int fs_start(fs_server *s, const fs_data *d)
{
    memset(s, 0, sizeof *s);
    s->data = *d;
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TURBO, 0, NULL, NULL, fs_handler,
                         s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!s->d) {
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", s->port);
    return s->port ? 0 : -1;
}

static inline void fs_set_faults(fs_server *s, const fs_faults *f)
{
    pthread_mutex_lock(&s->mu);
    s->f = *f;
    s->n_requests = 0;
    s->n_served = 0;
    pthread_mutex_unlock(&s->mu);
}

static inline void fs_set_now(fs_server *s, int64_t now_ms, int64_t server_time_ms)
{
    pthread_mutex_lock(&s->mu);
    s->data.now_ms = now_ms;
    s->data.server_time_ms = server_time_ms;
    pthread_mutex_unlock(&s->mu);
}

static inline long fs_requests(fs_server *s)
{
    pthread_mutex_lock(&s->mu);
    long n = s->n_requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static inline void fs_stop(fs_server *s)
{
    if (s->d) {
        MHD_stop_daemon(s->d);
        s->d = NULL;
    }
    pthread_mutex_destroy(&s->mu);
}

#endif
