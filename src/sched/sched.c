/* kizashi scheduler: the decision step (tick), worker threads that run retraining callbacks,
 * timeouts and cancellation, retries with backoff and crash recovery.
 *
 * DESIGN
 * - Data flow: tick (one thread: the caller of kz_sched_tick / kz_sched_run) reads the job store
 *   on its own connection, creates jobs from triggers, claims due jobs (pending -> running in
 *   SQLite) and pushes them on an in-memory queue; worker threads pop them, run the callback
 *   with no lock held, and record the outcome (and any retry) on their own connection.
 * - Invariants: a job is claimed in the database before it is queued, so a crash leaves it
 *   `running` and the next start marks it interrupted and re-queues it (kz_jobs_recover). Busy
 *   slots (queued + running) never exceed max_concurrent, and no two slots hold the same model.
 *   Only the tick thread fills slots, so a snapshot of the free slots taken under the mutex
 *   stays valid while it works unlocked (workers only ever free slots).
 * - Locking order: the scheduler mutex is a leaf: nothing (no SQLite call, no callback, no log)
 *   runs while it is held. Stop requests are C11 atomics (the shutdown flag, each slot's stop
 *   reason), so callbacks poll them without the mutex. Shutdown = stop flag + broadcast + join;
 *   workers drain the queue, recording never-started jobs as interrupted.
 * - One scheduler per database: an fcntl write lock on <db>.sched.lock (released by the kernel
 *   when the process dies, so a crash never leaves a stale lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kizashi/core.h"

#include "sched/sched_int.h"
#include "store/store_int.h"

enum { STOP_NONE, STOP_CANCEL, STOP_TIMEOUT, STOP_SHUTDOWN };

typedef struct slot {
    int used;
    int64_t job_id;
    char model[KZ_SCHED_NAME_MAX];
    int64_t deadline_ms;
    atomic_int stop; /* STOP_* reason, set once */
} slot;

/* One queued job with copies of everything the worker needs (no shared tables). */
typedef struct work {
    kz_job job;
    kz_sched_model model;
    kz_retrain_fn fn;
    void *ud;
    slot *slot;
} work;

typedef struct model_entry {
    kz_sched_model m;
    sched_anchor a;
} model_entry;

typedef struct callback {
    char name[KZ_SCHED_NAME_MAX];
    kz_retrain_fn fn;
    void *ud;
} callback;

/* One worker thread and its own database connection. */
typedef struct worker {
    kz_sched *s;
    kz_store *st;
    pthread_t thread;
} worker;

struct kz_job_ctx {
    kz_sched *s;
    work *w;
    kz_store *st;
    int result_version;
    char error[512];
};

struct kz_sched {
    kz_sched_config cfg;
    char db_path[512];
    char models_dir[512];
    kz_store *st; /* the tick thread's connection */
    int lock_fd;
    model_entry *models;
    size_t n_models;
    callback *cbs;
    size_t n_cbs;
    kz_retrain_fn default_fn;
    void *default_ud;
    int64_t last_prune_ms;
    char errmsg[768];

    pthread_mutex_t mu;     /* guards queue, n_queue, slots[].used/job_id/model, n_busy */
    pthread_cond_t work_cv; /* work queued or shutdown */
    pthread_cond_t idle_cv; /* a slot became free */
    work **queue;
    size_t n_queue;
    slot *slots;
    size_t n_busy;
    worker *workers;
    int n_threads;       /* workers started */
    atomic_int stop;     /* shutdown */
    atomic_int run_stop; /* kz_sched_request_stop */
};

/* ---------------------------------------------------------------- small helpers */

static int64_t now_of(const kz_sched *s)
{
    return s->cfg.clock ? s->cfg.clock(s->cfg.clock_ud) : kz_now_ms();
}

static void logf_(const kz_sched *s, kz_log_level lv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(const kz_sched *s, kz_log_level lv, const char *fmt, ...)
{
    if (!s->cfg.log) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->cfg.log(lv, msg, s->cfg.log_ud);
}

static kz_status set_err(kz_sched *s, kz_status code, const char *what, const char *detail)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s: %s", what, detail);
    return code;
}

const char *kz_sched_errmsg(const kz_sched *s)
{
    return s ? s->errmsg : "no scheduler";
}

/* ---------------------------------------------------------------- job context */

const kz_job *kz_job_ctx_job(const kz_job_ctx *c)
{
    return &c->w->job;
}

const kz_sched_model *kz_job_ctx_model(const kz_job_ctx *c)
{
    return &c->w->model;
}

const kz_sched_config *kz_job_ctx_config(const kz_job_ctx *c)
{
    return &c->s->cfg;
}

kz_store *kz_job_ctx_store(kz_job_ctx *c)
{
    return c->st;
}

int64_t kz_job_ctx_now(const kz_job_ctx *c)
{
    return now_of(c->s);
}

int kz_job_ctx_should_stop(const kz_job_ctx *c)
{
    slot *sl = c->w->slot;
    /* The deadline is checked here too, so a timeout is exact rather than tick-granular. */
    if (atomic_load(&sl->stop) == STOP_NONE && now_of(c->s) >= sl->deadline_ms) {
        int expected = STOP_NONE;
        atomic_compare_exchange_strong(&sl->stop, &expected, STOP_TIMEOUT);
    }
    return atomic_load(&sl->stop) != STOP_NONE || atomic_load(&c->s->stop);
}

void kz_job_ctx_set_result(kz_job_ctx *c, int version)
{
    c->result_version = version;
}

kz_status kz_job_ctx_fail(kz_job_ctx *c, kz_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    return code;
}

/* ---------------------------------------------------------------- workers */

/* Retry time for the job's next attempt, or -1 when attempts are exhausted. Backoff doubles
 * per attempt: backoff * 2^(attempts-1), capped. */
static int64_t retry_at(const kz_sched *s, const kz_job *j, int64_t now, int backoff)
{
    if (j->attempts >= s->cfg.max_attempts) {
        return -1;
    }
    if (!backoff) {
        return now;
    }
    int64_t d = s->cfg.retry_backoff_ms;
    for (int k = 1; k < j->attempts && d < s->cfg.retry_backoff_max_ms; k++) {
        d *= 2;
    }
    return now + (d < s->cfg.retry_backoff_max_ms ? d : s->cfg.retry_backoff_max_ms);
}

static void run_job(kz_sched *s, kz_store *st, work *w)
{
    kz_job_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.w = w;
    c.st = st;
    kz_status rc = KZ_ERR_CANCELLED;
    if (!atomic_load(&s->stop)) {
        logf_(s, KZ_LOG_INFO, "job %lld (%s, %s) started, attempt %d", (long long)w->job.id,
              w->job.model, kz_trigger_str(w->job.trigger), w->job.attempts);
        rc = w->fn(&c, w->ud);
    }
    int why = atomic_load(&w->slot->stop);
    if (why == STOP_NONE && atomic_load(&s->stop)) {
        why = STOP_SHUTDOWN;
    }
    int64_t now = now_of(s);
    int status = KZ_JOB_COMPLETED;
    int64_t again = -1;
    char error[600] = "";
    if (rc == KZ_OK) {
        status = KZ_JOB_COMPLETED;
    } else if (why == STOP_CANCEL) {
        status = KZ_JOB_CANCELLED;
        snprintf(error, sizeof error, "cancelled on request");
    } else if (why == STOP_SHUTDOWN) {
        status = KZ_JOB_INTERRUPTED;
        snprintf(error, sizeof error, "interrupted: the scheduler shut down");
        again = s->cfg.requeue_interrupted ? retry_at(s, &w->job, now, 0) : -1;
    } else {
        status = KZ_JOB_FAILED;
        if (why == STOP_TIMEOUT) {
            snprintf(error, sizeof error, "timed out after %lld s",
                     (long long)(s->cfg.job_timeout_ms / 1000));
        } else {
            snprintf(error, sizeof error, "%s: %s", kz_status_str(rc),
                     c.error[0] ? c.error : "the callback failed");
        }
        again = retry_at(s, &w->job, now, 1);
    }
    int64_t retry_id = 0;
    if (kz_jobs_finish(st, w->job.id, status, error, rc == KZ_OK ? c.result_version : 0, now, again,
                       &retry_id) != KZ_OK) {
        logf_(s, KZ_LOG_ERROR, "job %lld: cannot record its end: %s", (long long)w->job.id,
              kz_store_errmsg(st));
        return;
    }
    logf_(s, status == KZ_JOB_COMPLETED ? KZ_LOG_INFO : KZ_LOG_WARN, "job %lld (%s) %s%s%s%s",
          (long long)w->job.id, w->job.model, kz_job_status_str((kz_job_status)status),
          error[0] ? ": " : "", error, retry_id ? ", retry queued" : "");
}

static void *worker_main(void *arg)
{
    worker *me = arg;
    kz_sched *s = me->s;
    kz_store *st = me->st;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->n_queue == 0 && !atomic_load(&s->stop)) {
            pthread_cond_wait(&s->work_cv, &s->mu);
        }
        if (s->n_queue == 0) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        work *w = s->queue[0];
        memmove(s->queue, s->queue + 1, (s->n_queue - 1) * sizeof *s->queue);
        s->n_queue--;
        pthread_mutex_unlock(&s->mu);

        run_job(s, st, w);

        pthread_mutex_lock(&s->mu);
        w->slot->used = 0;
        s->n_busy--;
        pthread_cond_broadcast(&s->idle_cv);
        pthread_mutex_unlock(&s->mu);
        kz_free(w);
    }
    return NULL;
}

/* ---------------------------------------------------------------- lifecycle */

static kz_status take_lock(kz_sched *s, kz_error *err)
{
    char path[600];
    snprintf(path, sizeof path, "%s.sched.lock", s->db_path);
    s->lock_fd = open(path, O_RDWR | O_CREAT, 0644);
    if (s->lock_fd < 0) {
        snprintf(err->msg, sizeof err->msg, "%.400s: %s", path, strerror(errno));
        return KZ_ERR_IO;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(s->lock_fd, F_SETLK, &fl) != 0) {
        snprintf(err->msg, sizeof err->msg, "%.400s: another scheduler runs on this database",
                 path);
        return KZ_ERR_INVALID;
    }
    return KZ_OK;
}

void kz_sched_free(kz_sched *s)
{
    if (!s) {
        return;
    }
    if (s->n_threads > 0) {
        atomic_store(&s->stop, 1);
        pthread_mutex_lock(&s->mu);
        for (int i = 0; i < s->cfg.max_concurrent; i++) {
            int expected = STOP_NONE;
            atomic_compare_exchange_strong(&s->slots[i].stop, &expected, STOP_SHUTDOWN);
        }
        pthread_cond_broadcast(&s->work_cv);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < s->n_threads; i++) {
            pthread_join(s->workers[i].thread, NULL);
        }
    }
    if (s->workers) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->work_cv);
        pthread_cond_destroy(&s->idle_cv);
        for (int i = 0; i < s->cfg.max_concurrent; i++) {
            kz_store_close(s->workers[i].st);
        }
    }
    kz_store_close(s->st);
    if (s->lock_fd >= 0) {
        close(s->lock_fd);
    }
    kz_free(s->workers);
    kz_free(s->queue);
    kz_free(s->slots);
    kz_free(s->models);
    kz_free(s->cbs);
    kz_free(s);
}

kz_status
kz_sched_new(const char *db_path, const kz_sched_config *cfg, kz_sched **out, kz_error *err)
{
    kz_error local;
    if (!err) {
        err = &local;
    }
    kz_error_clear(err);
    if (!out || !db_path || !cfg || strlen(db_path) >= 512) {
        snprintf(err->msg, sizeof err->msg, "scheduler: database path and config required");
        return err->code = KZ_ERR_INVALID;
    }
    *out = NULL;
    kz_status s = kz_sched_config_check(cfg, err);
    if (s != KZ_OK) {
        return s;
    }
    kz_sched *sc = kz_calloc(1, sizeof *sc);
    if (!sc) {
        return err->code = KZ_ERR_NOMEM;
    }
    sc->lock_fd = -1;
    sc->cfg = *cfg;
    sc->default_fn = kz_retrain_builtin;
    snprintf(sc->db_path, sizeof sc->db_path, "%s", db_path);
    if (cfg->registry.models_dir) {
        snprintf(sc->models_dir, sizeof sc->models_dir, "%s", cfg->registry.models_dir);
    } else {
        /* Default: "models" beside the database file. */
        const char *slash = strrchr(db_path, '/');
        snprintf(sc->models_dir, sizeof sc->models_dir, "%.*smodels",
                 slash ? (int)(slash - db_path + 1) : 0, db_path);
    }
    sc->cfg.registry.models_dir = sc->models_dir;
    int n = cfg->max_concurrent;
    s = take_lock(sc, err);
    if (s == KZ_OK) {
        s = kz_store_open(db_path, &sc->st, err);
    }
    if (s == KZ_OK) {
        size_t ni = 0, nr = 0;
        if (kz_jobs_recover(sc->st, now_of(sc), cfg->max_attempts, cfg->requeue_interrupted, &ni,
                            &nr) != KZ_OK) {
            snprintf(err->msg, sizeof err->msg, "%s", kz_store_errmsg(sc->st));
            s = KZ_ERR_STORE;
        } else if (ni) {
            logf_(sc, KZ_LOG_WARN,
                  "recovery: %zu job(s) left running by a dead process marked"
                  " interrupted, %zu re-queued",
                  ni, nr);
        }
    }
    atomic_init(&sc->stop, 0);
    atomic_init(&sc->run_stop, 0);
    sc->queue = s == KZ_OK ? kz_calloc((size_t)n, sizeof *sc->queue) : NULL;
    sc->slots = s == KZ_OK ? kz_calloc((size_t)n, sizeof *sc->slots) : NULL;
    if (s == KZ_OK && (!sc->queue || !sc->slots)) {
        s = err->code = KZ_ERR_NOMEM;
    }
    if (s == KZ_OK) {
        sc->workers = kz_calloc((size_t)n, sizeof *sc->workers);
        if (!sc->workers) {
            s = err->code = KZ_ERR_NOMEM;
        } else {
            pthread_mutex_init(&sc->mu, NULL);
            pthread_cond_init(&sc->work_cv, NULL);
            pthread_cond_init(&sc->idle_cv, NULL);
        }
    }
    /* Each worker gets its own connection (opened here, so a failure fails kz_sched_new). */
    for (int i = 0; s == KZ_OK && i < n; i++) {
        sc->workers[i].s = sc;
        s = kz_store_open(db_path, &sc->workers[i].st, err);
        atomic_init(&sc->slots[i].stop, STOP_NONE);
    }
    if (s == KZ_OK) {
        for (int i = 0; i < n; i++) {
            if (pthread_create(&sc->workers[i].thread, NULL, worker_main, &sc->workers[i]) != 0) {
                snprintf(err->msg, sizeof err->msg, "cannot start worker thread");
                s = err->code = KZ_ERR_INTERNAL;
                break;
            }
            sc->n_threads++;
        }
    }
    if (s != KZ_OK) {
        err->code = s;
        kz_sched_free(sc);
        return s;
    }
    *out = sc;
    return KZ_OK;
}

kz_status kz_sched_add_model(kz_sched *s, const kz_sched_model *m, kz_error *err)
{
    if (!s || kz_sched_model_check(m, err) != KZ_OK) {
        return KZ_ERR_INVALID;
    }
    for (size_t i = 0; i < s->n_models; i++) {
        if (strcmp(s->models[i].m.name, m->name) == 0) {
            s->models[i].m = *m;
            return KZ_OK;
        }
    }
    model_entry *g = kz_realloc_array(s->models, s->n_models + 1, sizeof *g);
    if (!g) {
        return KZ_ERR_NOMEM;
    }
    s->models = g;
    memset(&g[s->n_models], 0, sizeof g[0]);
    g[s->n_models++].m = *m;
    return KZ_OK;
}

kz_status kz_sched_set_callback(kz_sched *s, const char *name, kz_retrain_fn fn, void *ud)
{
    if (!s || (name && (!*name || strlen(name) >= KZ_SCHED_NAME_MAX))) {
        return KZ_ERR_INVALID;
    }
    if (!name) {
        s->default_fn = fn;
        s->default_ud = ud;
        return KZ_OK;
    }
    for (size_t i = 0; i < s->n_cbs; i++) {
        if (strcmp(s->cbs[i].name, name) == 0) {
            if (fn) {
                s->cbs[i].fn = fn;
                s->cbs[i].ud = ud;
            } else {
                s->cbs[i] = s->cbs[--s->n_cbs];
            }
            return KZ_OK;
        }
    }
    if (!fn) {
        return KZ_OK;
    }
    callback *g = kz_realloc_array(s->cbs, s->n_cbs + 1, sizeof *g);
    if (!g) {
        return KZ_ERR_NOMEM;
    }
    s->cbs = g;
    snprintf(g[s->n_cbs].name, sizeof g[0].name, "%s", name);
    g[s->n_cbs].fn = fn;
    g[s->n_cbs++].ud = ud;
    return KZ_OK;
}

/* ---------------------------------------------------------------- tick */

static model_entry *find_model(kz_sched *s, const char *name)
{
    for (size_t i = 0; i < s->n_models; i++) {
        if (strcmp(s->models[i].m.name, name) == 0) {
            return &s->models[i];
        }
    }
    return NULL;
}

static int name_in(const char *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names + i * KZ_SCHED_NAME_MAX, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Deadlines and cancel requests of running jobs. */
static kz_status enforce_stops(kz_sched *s, int64_t now, kz_tick_report *rep)
{
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (kz_jobs_cancel_requests(s->st, &ids, &n_ids) != KZ_OK) {
        return set_err(s, KZ_ERR_STORE, "cancel requests", kz_store_errmsg(s->st));
    }
    int64_t timed[64], cancelled[64];
    size_t nt = 0, nc = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->cfg.max_concurrent; i++) {
        slot *sl = &s->slots[i];
        if (!sl->used) {
            continue;
        }
        int want = STOP_NONE;
        for (size_t k = 0; k < n_ids; k++) {
            want = ids[k] == sl->job_id ? STOP_CANCEL : want;
        }
        if (want == STOP_NONE && now >= sl->deadline_ms) {
            want = STOP_TIMEOUT;
        }
        int expected = STOP_NONE;
        if (want != STOP_NONE && atomic_compare_exchange_strong(&sl->stop, &expected, want)) {
            if (want == STOP_CANCEL) {
                cancelled[nc++] = sl->job_id;
            } else {
                timed[nt++] = sl->job_id;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t k = 0; k < nt; k++) {
        logf_(s, KZ_LOG_WARN, "job %lld reached its %lld s timeout: asked to stop",
              (long long)timed[k], (long long)(s->cfg.job_timeout_ms / 1000));
    }
    for (size_t k = 0; k < nc; k++) {
        logf_(s, KZ_LOG_INFO, "job %lld cancelled on request: asked to stop",
              (long long)cancelled[k]);
    }
    rep->timed_out += nt;
    rep->cancelled += nc;
    kz_free(ids);
    return KZ_OK;
}

/* The facts of model m: its registry summary (rows sorted by name) and its series' newest bar,
 * read once per distinct series per tick (series_ts caches them). */
static kz_status model_facts(kz_sched *s,
                             const kz_sched_model *m,
                             const kz_registry_summary *sum,
                             size_t n_sum,
                             kz_sched_model *series,
                             int64_t *series_ts,
                             size_t *n_series,
                             sched_facts *f)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n_sum; i++) {
        if (strcmp(sum[i].name, m->name) == 0) {
            f->has_version = 1;
            f->newest_created_ms = sum[i].newest_created_ms;
            f->newest_data_to_ms = sum[i].newest_data_to_ms;
            f->active_version = sum[i].active_version;
        }
    }
    for (size_t k = 0; k < *n_series; k++) {
        if (series[k].tf == m->tf && strcmp(series[k].exchange, m->exchange) == 0 &&
            strcmp(series[k].symbol, m->symbol) == 0) {
            f->has_bars = series_ts[k] != INT64_MIN;
            f->last_bar_ms = series_ts[k];
            return KZ_OK;
        }
    }
    int64_t ts = INT64_MIN;
    kz_status st = kz_store_last_ts(s->st, KZ_DATA_BARS, m->exchange, m->symbol, m->tf, &ts);
    if (st != KZ_OK && st != KZ_ERR_NOT_FOUND) {
        return set_err(s, st, "newest bar", kz_store_errmsg(s->st));
    }
    ts = st == KZ_OK ? ts : INT64_MIN;
    series[*n_series] = *m;
    series_ts[(*n_series)++] = ts;
    f->has_bars = ts != INT64_MIN;
    f->last_bar_ms = ts;
    return KZ_OK;
}

/* Evaluate every idle model's triggers; at most one job per model per tick. The registry and
 * the busy set are read in bulk, so a steady tick costs a handful of statements, not a few per
 * model. */
static kz_status fire_triggers(kz_sched *s, int64_t now, kz_tick_report *rep)
{
    char *busy = NULL;
    size_t nb = 0, n_sum = 0, n_series = 0;
    kz_registry_summary *sum = NULL;
    kz_sched_model *series = kz_malloc_array(s->n_models ? s->n_models : 1, sizeof *series);
    int64_t *series_ts = kz_malloc_array(s->n_models ? s->n_models : 1, sizeof *series_ts);
    kz_status first = KZ_OK;
    if (!series || !series_ts) {
        first = set_err(s, KZ_ERR_NOMEM, "tick", "out of memory");
    } else if (kz_jobs_busy_models(s->st, &busy, &nb) != KZ_OK ||
               kz_registry_summaries(s->st, &sum, &n_sum) != KZ_OK) {
        first = set_err(s, KZ_ERR_STORE, "tick", kz_store_errmsg(s->st));
    }
    int ready = first == KZ_OK;
    for (size_t i = 0; ready && i < s->n_models; i++) {
        model_entry *e = &s->models[i];
        if (name_in(busy, nb, e->m.name)) {
            continue; /* a pending or running job already covers it */
        }
        sched_facts f;
        kz_trigger t;
        char reason[512];
        kz_error err;
        kz_error_clear(&err);
        kz_status st = model_facts(s, &e->m, sum, n_sum, series, series_ts, &n_series, &f);
        if (st != KZ_OK) {
            first = st;
            break; /* the store failed: the other models would fail alike */
        }
        st = sched_eval_triggers(s->st, &e->m, &e->a, &f, now, &t, reason, sizeof reason, &err);
        int64_t id = 0;
        if (st == KZ_OK && t != KZ_TRIGGER_COUNT) {
            if (kz_job_create(s->st, e->m.name, t, reason, now, now, &id) != KZ_OK) {
                st = KZ_ERR_STORE;
                snprintf(err.msg, sizeof err.msg, "%s", kz_store_errmsg(s->st));
            } else {
                e->a.last_fired[t] = now;
                rep->created++;
                logf_(s, KZ_LOG_INFO, "%s: %s fired: %s -> job %lld", e->m.name, kz_trigger_str(t),
                      reason, (long long)id);
            }
        } else if (st == KZ_OK) {
            logf_(s, KZ_LOG_DEBUG, "%s: %s", e->m.name, reason);
        }
        if (st != KZ_OK) {
            logf_(s, KZ_LOG_ERROR, "%s: trigger check failed: %s", e->m.name, err.msg);
            if (first == KZ_OK) {
                first = set_err(s, st, e->m.name, err.msg);
            }
        }
    }
    kz_free(busy);
    kz_free(sum);
    kz_free(series);
    kz_free(series_ts);
    return first;
}

/* Hand due pending jobs to free slots: oldest first, never two of one model. */
static kz_status dispatch(kz_sched *s, int64_t now, kz_tick_report *rep)
{
    char running[64 * KZ_SCHED_NAME_MAX];
    size_t n_running = 0;
    int free_idx[64];
    int n_free = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->cfg.max_concurrent; i++) {
        if (s->slots[i].used) {
            memcpy(running + n_running++ * KZ_SCHED_NAME_MAX, s->slots[i].model, KZ_SCHED_NAME_MAX);
        } else {
            free_idx[n_free++] = i;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (n_free == 0) {
        return KZ_OK;
    }
    kz_job *due = NULL;
    size_t n_due = 0;
    /* Extra rows so that jobs of already-running models do not hide the others. */
    if (kz_jobs_due(s->st, now, (size_t)n_free + 256, &due, &n_due) != KZ_OK) {
        return set_err(s, KZ_ERR_STORE, "due jobs", kz_store_errmsg(s->st));
    }
    kz_status first = KZ_OK;
    int used = 0;
    for (size_t k = 0; k < n_due && used < n_free; k++) {
        kz_job *j = &due[k];
        if (name_in(running, n_running, j->model)) {
            continue;
        }
        int claimed = 0;
        if (kz_jobs_claim(s->st, j->id, now, &claimed) != KZ_OK) {
            first = set_err(s, KZ_ERR_STORE, "claim job", kz_store_errmsg(s->st));
            break;
        }
        if (!claimed) {
            continue;
        }
        model_entry *e = find_model(s, j->model);
        kz_retrain_fn fn = s->default_fn;
        void *ud = s->default_ud;
        for (size_t c = 0; c < s->n_cbs; c++) {
            if (strcmp(s->cbs[c].name, j->model) == 0) {
                fn = s->cbs[c].fn;
                ud = s->cbs[c].ud;
            }
        }
        work *w = (e && fn) ? kz_calloc(1, sizeof *w) : NULL;
        if (!w) {
            const char *why = !e ? "no such model in the scheduler configuration"
                                 : (!fn ? "no retraining callback registered" : "out of memory");
            if (kz_jobs_finish(s->st, j->id, KZ_JOB_FAILED, why, 0, now, -1, NULL) != KZ_OK) {
                first = set_err(s, KZ_ERR_STORE, "fail job", kz_store_errmsg(s->st));
            }
            logf_(s, KZ_LOG_ERROR, "job %lld (%s) failed: %s", (long long)j->id, j->model, why);
            continue;
        }
        w->job = *j;
        w->job.status = KZ_JOB_RUNNING;
        w->job.started_ms = now;
        w->model = e->m;
        w->fn = fn;
        w->ud = ud;
        memcpy(running + n_running++ * KZ_SCHED_NAME_MAX, j->model, KZ_SCHED_NAME_MAX);
        pthread_mutex_lock(&s->mu);
        slot *sl = &s->slots[free_idx[used++]];
        sl->used = 1;
        sl->job_id = j->id;
        memcpy(sl->model, j->model, KZ_SCHED_NAME_MAX);
        sl->deadline_ms = now + s->cfg.job_timeout_ms;
        atomic_store(&sl->stop, STOP_NONE);
        w->slot = sl;
        s->queue[s->n_queue++] = w;
        s->n_busy++;
        pthread_cond_signal(&s->work_cv);
        pthread_mutex_unlock(&s->mu);
        rep->dispatched++;
        logf_(s, KZ_LOG_INFO, "job %lld (%s, %s) dispatched", (long long)j->id, j->model,
              kz_trigger_str(j->trigger));
    }
    kz_free(due);
    return first;
}

kz_status kz_sched_tick(kz_sched *s, kz_tick_report *rep)
{
    kz_tick_report local;
    if (!rep) {
        rep = &local;
    }
    memset(rep, 0, sizeof *rep);
    if (!s) {
        return KZ_ERR_INVALID;
    }
    int64_t now = now_of(s);
    rep->now_ms = now;
    kz_status st = enforce_stops(s, now, rep);
    kz_status t = fire_triggers(s, now, rep);
    kz_status d = dispatch(s, now, rep);
    if (now - s->last_prune_ms >= 3600 * 1000) {
        if (kz_jobs_prune(s->st, now - s->cfg.history_ms, &rep->pruned) == KZ_OK) {
            s->last_prune_ms = now;
        }
    }
    pthread_mutex_lock(&s->mu);
    rep->running = s->n_busy;
    pthread_mutex_unlock(&s->mu);
    return st != KZ_OK ? st : (t != KZ_OK ? t : d);
}

void kz_sched_wait_idle(kz_sched *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->n_busy > 0) {
        pthread_cond_wait(&s->idle_cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

void kz_sched_request_stop(kz_sched *s)
{
    atomic_store(&s->run_stop, 1);
}

kz_status kz_sched_run(kz_sched *s)
{
    logf_(s, KZ_LOG_INFO, "scheduler running: %zu model(s), %d worker(s), tick every %lld s",
          s->n_models, s->cfg.max_concurrent, (long long)(s->cfg.check_interval_ms / 1000));
    while (!atomic_load(&s->run_stop)) {
        kz_tick_report rep;
        kz_status st = kz_sched_tick(s, &rep);
        if (st != KZ_OK) {
            logf_(s, KZ_LOG_ERROR, "tick failed: %s", s->errmsg);
        }
        /* Sleep the interval in 100 ms slices so a stop request is seen promptly. */
        for (int64_t slept = 0; slept < s->cfg.check_interval_ms && !atomic_load(&s->run_stop);
             slept += 100) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    logf_(s, KZ_LOG_INFO, "scheduler stopping");
    return KZ_OK;
}
