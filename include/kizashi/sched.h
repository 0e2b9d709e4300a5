/* kizashi sched: automatic retraining. A persistent job store, a model registry (versions,
 * promotion, rollback, retention, a "follow the active model" handle) and a scheduler whose
 * triggers (scheduled, new data, performance degradation, data drift, manual) create jobs that
 * worker threads run through per-model retraining callbacks. Jobs and the registry live in the
 * store's SQLite file (src/store/jobs.c, registry.c); the rest is in src/sched/.
 * Thread contract: the kz_store-level functions follow store.h (one connection per thread); a
 * kz_sched is driven by one thread (tick/run/free) while its workers run jobs on their own
 * connections; a kz_model_follower may be shared by any number of threads. */
#ifndef KIZASHI_SCHED_H
#define KIZASHI_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/core.h"
#include "kizashi/market.h"
#include "kizashi/model.h"
#include "kizashi/signals.h"
#include "kizashi/status.h"
#include "kizashi/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- enums */
typedef enum kz_trigger {
    KZ_TRIGGER_SCHEDULED,   /* an interval elapsed, or the N-th candle close */
    KZ_TRIGGER_NEW_DATA,    /* N new bars since the last training */
    KZ_TRIGGER_PERFORMANCE, /* live mlogloss / balanced accuracy degraded */
    KZ_TRIGGER_DRIFT,       /* PSI of the top features above the threshold */
    KZ_TRIGGER_MANUAL,      /* asked for (API, `kizashi retrain`) */
    KZ_TRIGGER_COUNT
} kz_trigger;

typedef enum kz_job_status {
    KZ_JOB_PENDING,
    KZ_JOB_RUNNING,
    KZ_JOB_COMPLETED,
    KZ_JOB_FAILED,
    KZ_JOB_CANCELLED,
    KZ_JOB_INTERRUPTED, /* the process died or stopped while the job ran */
    KZ_JOB_STATUS_COUNT
} kz_job_status;

typedef enum kz_version_status {
    KZ_VERSION_CANDIDATE,
    KZ_VERSION_ACTIVE, /* at most one per name (a unique partial index enforces it) */
    KZ_VERSION_RETIRED,
    KZ_VERSION_STATUS_COUNT
} kz_version_status;

/* Lower-case names ("scheduled", "new_data", "performance_degradation", "data_drift", "manual";
 * "pending" ...; "candidate" ...); "?" for invalid values. Parsers: KZ_ERR_INVALID. */
const char *kz_trigger_str(kz_trigger t);
const char *kz_job_status_str(kz_job_status s);
const char *kz_version_status_str(kz_version_status s);
KZ_NODISCARD kz_status kz_trigger_parse(const char *s, kz_trigger *out);
KZ_NODISCARD kz_status kz_job_status_parse(const char *s, kz_job_status *out);

#define KZ_SCHED_NAME_MAX 64

/* ---------------------------------------------------------------- jobs (src/store/jobs.c) */
/* One persisted job. Each record runs at most once; a retry or a re-queue after an interruption
 * is a new record pointing at the previous one (retry_of) with attempts + 1. Times are ms UTC,
 * 0 = not yet. */
typedef struct kz_job {
    int64_t id; /* unique for the database's lifetime (SQLite AUTOINCREMENT, never reused) */
    char model[KZ_SCHED_NAME_MAX];
    kz_trigger trigger;
    kz_job_status status;
    char reason[256]; /* why the trigger fired */
    int64_t created_ms, scheduled_ms, started_ms, finished_ms;
    int attempts;         /* 1 for a first run; previous record's + 1 for a retry */
    int64_t retry_of;     /* 0 = none */
    int cancel_requested; /* set by kz_job_cancel on a running job */
    char error[512];      /* "" unless failed / cancelled / interrupted */
    int result_version;   /* registry version produced, 0 = none */
} kz_job;

/* Create a pending job due at scheduled_ms. *out_id optional. KZ_ERR_INVALID (empty name). */
KZ_NODISCARD kz_status kz_job_create(kz_store *st,
                                     const char *model,
                                     kz_trigger trigger,
                                     const char *reason,
                                     int64_t scheduled_ms,
                                     int64_t now_ms,
                                     int64_t *out_id);
/* KZ_ERR_NOT_FOUND for an unknown id. */
KZ_NODISCARD kz_status kz_job_get(kz_store *st, int64_t id, kz_job *out);
/* Jobs newest first (by id): model NULL = all, status_mask = OR of (1u << kz_job_status), 0 =
 * all; limit 0 = no limit. *rows kz_malloc'ed (kz_free), NULL when *n == 0. */
KZ_NODISCARD kz_status kz_job_list(
    kz_store *st, const char *model, unsigned status_mask, size_t limit, kz_job **rows, size_t *n);
/* Cancel: a pending job becomes cancelled at once; a running one gets cancel_requested and the
 * scheduler that runs it stops it cooperatively at its next tick. *was_running optional.
 * KZ_ERR_NOT_FOUND; KZ_ERR_INVALID if the job already finished. */
KZ_NODISCARD kz_status kz_job_cancel(kz_store *st, int64_t id, int64_t now_ms, int *was_running);

/* ---------------------------------------------------------------- registry (src/store/registry.c)
 */
/* One registered model version. NaN = unknown metric. */
typedef struct kz_model_version {
    char name[KZ_SCHED_NAME_MAX];
    int version; /* 1, 2, ... per name, never reused */
    kz_version_status status;
    char path[512]; /* the .kzm file */
    char exchange[32], symbol[32];
    kz_timeframe tf;
    int64_t data_from_ms, data_to_ms; /* open times of the first and last training bars */
    int parent;                       /* version active when this one was trained, 0 = none */
    int64_t job_id;                   /* job that produced it, 0 = none */
    int64_t created_ms, activated_ms; /* activated_ms: last promotion, 0 = never active */
    int horizon;                      /* label horizon h (bars) */
    double label_up, label_down;      /* the return thresholds the labels used */
    double test_mlogloss, test_balanced_accuracy; /* the model's own test segment */
    double eval_mlogloss, eval_balanced_accuracy; /* the promotion window (NaN if none) */
} kz_model_version;

/* Reserve the next version number of `name` (never reused, even after retention). */
KZ_NODISCARD kz_status kz_registry_reserve(kz_store *st, const char *name, int *out_version);
/* Insert v (name, version from kz_registry_reserve, path, data and metrics fields) as a candidate;
 * created_ms from v. meta_json (optional) is a JSON object stored with it (drift histograms).
 * KZ_ERR_INVALID (empty name/path, version not reserved), KZ_ERR_STORE (duplicate). */
KZ_NODISCARD kz_status kz_registry_insert(kz_store *st,
                                          const kz_model_version *v,
                                          const char *meta_json);
/* Version `version` of name; version 0 = the active one. KZ_ERR_NOT_FOUND. */
KZ_NODISCARD kz_status kz_registry_get(kz_store *st,
                                       const char *name,
                                       int version,
                                       kz_model_version *out);
/* The stored metadata JSON (*json kz_malloc'ed). */
KZ_NODISCARD kz_status kz_registry_meta(kz_store *st, const char *name, int version, char **json);
/* Versions ordered by name then version; name NULL = all. *rows kz_malloc'ed. */
KZ_NODISCARD kz_status kz_registry_list(kz_store *st,
                                        const char *name,
                                        kz_model_version **rows,
                                        size_t *n);
/* Record the promotion-window metrics of a version. */
KZ_NODISCARD kz_status kz_registry_set_eval(
    kz_store *st, const char *name, int version, double mlogloss, double balanced_accuracy);
/* Make `version` active (the former active one becomes retired) in one transaction. */
KZ_NODISCARD kz_status kz_registry_promote(kz_store *st,
                                           const char *name,
                                           int version,
                                           int64_t now_ms);
/* Retire the active version and reactivate the newest older version that was active before
 * (activated_ms != 0). *out_version (optional) = the version now active. KZ_ERR_NOT_FOUND if
 * there is no active version or no earlier one to go back to. */
KZ_NODISCARD kz_status kz_registry_rollback(kz_store *st,
                                            const char *name,
                                            int64_t now_ms,
                                            int *out_version);

/* Log one live prediction {down, range, up} of `version` for the bar opened at ts_ms (upsert).
 * The performance trigger compares these with the realised labels once the horizon passed. */
KZ_NODISCARD kz_status kz_predlog_put(
    kz_store *st, const char *name, int version, int64_t ts_ms, const double prob[KZ_N_CLASSES]);

/* ---------------------------------------------------------------- registry files (src/sched/) */
/* Where model files go and how many versions are kept. */
typedef struct kz_registry_params {
    const char *models_dir; /* files are <models_dir>/<name>/<name>-v<version>.kzm (required) */
    int keep_versions;      /* retention: newest N versions kept (the active one always), 10 */
    int drift_top_features; /* histograms stored for the k most important features (default 5) */
    int drift_bins;         /* decile bins (default 10) */
} kz_registry_params;

kz_registry_params kz_registry_params_default(void);

/* Register a trained model: reserve a version, write the file atomically, insert the row as a
 * candidate with its data range and test metrics, and store in the metadata the histograms of
 * the top features over `train_market` (borrowed, optional: no drift data without it). parent =
 * the version active at training time (0 none). *out_version optional. */
KZ_NODISCARD kz_status kz_registry_register(kz_store *st,
                                            const kz_registry_params *rp,
                                            const char *name,
                                            const kz_model *model,
                                            const kz_market *train_market,
                                            int parent,
                                            int64_t job_id,
                                            int64_t now_ms,
                                            int *out_version,
                                            kz_error *err);
/* Retention: delete the rows of versions beyond the newest keep_versions (never the active
 * one), commit, then unlink their files (a crash in between leaves an orphan file, never a row
 * without a file). *n_deleted optional. */
KZ_NODISCARD kz_status kz_registry_retain(
    kz_store *st, const char *name, int keep_versions, size_t *n_deleted, kz_error *err);

/* Promotion rule settings. */
typedef struct kz_promote_params {
    int metric;             /* 0 (default): mlogloss (lower is better); 1: balanced accuracy */
    double min_improvement; /* relative: mlogloss must drop by this share, balanced accuracy rise
                               by it (default 0.01 = 1%) */
} kz_promote_params;

kz_promote_params kz_promote_params_default(void);

/* What the promotion decision saw. */
typedef struct kz_promote_result {
    int promoted;       /* 1 if the candidate is now active */
    int active_version; /* the active version compared against (0 = none: promoted at once) */
    size_t n_window;    /* labelled rows of the evaluation window */
    double candidate_mlogloss, candidate_balanced_accuracy;
    double active_mlogloss, active_balanced_accuracy; /* NaN if no active version */
    char reason[256];
} kz_promote_result;

/* Decide whether candidate `version` of `name` replaces the active version: both models are
 * scored on the same window, the last kz_model_metrics(candidate)->n labelled rows of `m` (the
 * candidate's test segment: out of sample for it), with the candidate's labels. Promotes when
 * there is no active version or the candidate is better by min_improvement; otherwise it stays
 * a candidate. The window metrics are recorded in both rows. */
KZ_NODISCARD kz_status kz_registry_decide(kz_store *st,
                                          const char *name,
                                          int version,
                                          kz_model *candidate,
                                          const kz_market *m,
                                          const kz_promote_params *pp,
                                          int64_t now_ms,
                                          kz_promote_result *out,
                                          kz_error *err);

/* ---------------------------------------------------------------- following the active model */
/* A refcounted, immutable snapshot of one loaded version. Prediction through it is serialised
 * by the snapshot's own mutex (kz_model allows one predicting thread at a time). */
typedef struct kz_model_ref kz_model_ref;
/* Follows "the active model of a name": kz_model_follower_refresh loads a newly promoted version
 * completely, then swaps the current-snapshot pointer under a mutex and bumps a generation
 * counter; readers take a reference (kz_model_follower_acquire) and so never see a half-loaded
 * model, and an old snapshot lives until its last reader releases it. */
typedef struct kz_model_follower kz_model_follower;

KZ_NODISCARD kz_status kz_model_follower_new(const char *name, kz_model_follower **out);
void kz_model_follower_free(kz_model_follower *f);
/* Look up the active version with the caller's store (borrowed) and load it if it changed.
 * *changed (optional) = 1 if a new snapshot was installed. KZ_ERR_NOT_FOUND if the name has no
 * active version (the current snapshot, if any, is kept). */
KZ_NODISCARD kz_status kz_model_follower_refresh(kz_model_follower *f,
                                                 kz_store *st,
                                                 int *changed,
                                                 kz_error *err);
/* The current snapshot with one more reference (release it), or NULL before the first load. */
kz_model_ref *kz_model_follower_acquire(kz_model_follower *f);
/* Incremented at every swap. */
uint64_t kz_model_follower_generation(const kz_model_follower *f);
void kz_model_ref_release(kz_model_ref *r);
int kz_model_ref_version(const kz_model_ref *r);
/* The model for read-only queries (names, metrics); use kz_model_ref_predict to predict. */
const kz_model *kz_model_ref_model(const kz_model_ref *r);
KZ_NODISCARD kz_status kz_model_ref_predict(kz_model_ref *r,
                                            const kz_frame *X,
                                            double *prob,
                                            kz_error *err);

/* The signals facade following the active model of the follower's name: refreshes the follower
 * from `st` (borrowed; NULL = no refresh), so a promotion is picked up by the next call without
 * a restart (a failed refresh keeps the current snapshot), then computes the ML columns of `m`
 * with the current snapshot (held for the whole call, so a concurrent swap never mixes two
 * versions). Same contract and fallbacks as kz_signals_compute: with no active model every bar
 * holds the fallback, reason KZ_SIGNAL_NO_MODEL. *version (optional) = the version used, 0 for
 * none. p may be NULL (defaults). Errors: KZ_ERR_INVALID (NULL f, m or outputs), KZ_ERR_NOMEM. */
KZ_NODISCARD kz_status kz_model_follower_signals(kz_model_follower *f,
                                                 kz_store *st,
                                                 const kz_market *m,
                                                 const kz_signal_params *p,
                                                 double *down,
                                                 double *range,
                                                 double *up,
                                                 kz_signal_report *rep,
                                                 int *version,
                                                 kz_error *err);

/* ---------------------------------------------------------------- scheduler configuration */
/* One model under the scheduler: its data, its triggers, its training settings. 0 = off. */
typedef struct kz_sched_model {
    char name[KZ_SCHED_NAME_MAX];
    char exchange[32], symbol[32];
    kz_timeframe tf;             /* default KZ_TF_1H */
    int64_t interval_ms;         /* SCHEDULED: every interval since the last training (1 day) */
    int every_n_closes;          /* SCHEDULED: at each N-th candle close on the epoch grid (0) */
    int new_data_bars;           /* NEW_DATA: N bars stored after the newest version's data (0) */
    double perf_margin;          /* PERFORMANCE: live mlogloss > test * (1 + margin) (0.05) */
    double perf_min_balanced;    /* PERFORMANCE: live balanced accuracy below this (0 = off) */
    int perf_window;             /* newest matured predictions scored (168) */
    int perf_min_samples;        /* fewer matured predictions never fire (48) */
    double drift_threshold;      /* DRIFT: max PSI over the top features above this (0.1) */
    int drift_window_bars;       /* recent bars compared with the training histograms (720) */
    int64_t trigger_cooldown_ms; /* PERFORMANCE/DRIFT fire at most once per this (1 day) */
    int train_bars;              /* built-in pipeline: newest N bars (0 = all) (8760) */
    kz_train_params train;       /* built-in pipeline: kz_train_params_default() */
} kz_sched_model;

KZ_NODISCARD kz_status kz_sched_model_default(const char *name, kz_sched_model *out);
/* KZ_ERR_INVALID naming the field. */
KZ_NODISCARD kz_status kz_sched_model_check(const kz_sched_model *m, kz_error *err);

typedef int64_t (*kz_clock_fn)(void *ud);

typedef struct kz_sched_config {
    kz_clock_fn clock; /* NULL = kz_now_ms; tests inject a fake clock */
    void *clock_ud;
    kz_log_fn log; /* every decision with its reason (optional) */
    void *log_ud;
    int64_t check_interval_ms;    /* kz_sched_run: time between ticks (60 s) */
    int max_concurrent;           /* worker threads = concurrent jobs, 1..64 (2) */
    int64_t job_timeout_ms;       /* cooperative cancellation after this (7200 s) */
    int max_attempts;             /* attempts per job chain incl. re-queues (3) */
    int64_t retry_backoff_ms;     /* retry k waits backoff * 2^(k-1) (60 s) ... */
    int64_t retry_backoff_max_ms; /* ... capped at this (1 h) */
    int requeue_interrupted;      /* 1: jobs found running at start are re-queued (1) */
    int64_t history_ms;           /* finished jobs older than this are deleted (90 days) */
    kz_registry_params registry;  /* models_dir NULL = "<db dir>/models" */
    kz_promote_params promote;
} kz_sched_config;

kz_sched_config kz_sched_config_default(void);
KZ_NODISCARD kz_status kz_sched_config_check(const kz_sched_config *c, kz_error *err);

/* Read a JSON config (format in docs/scheduler.md) over cfg's current values; models are
 * appended to *models (kz_malloc'ed array of *n_models, free with kz_free). Strings of cfg that
 * point into the file (models_dir) are copied into *strings (kz_free it after the scheduler).
 * KZ_ERR_IO, KZ_ERR_PARSE / KZ_ERR_INVALID naming the file and field. */
KZ_NODISCARD kz_status kz_sched_config_load(const char *path,
                                            kz_sched_config *cfg,
                                            kz_sched_model **models,
                                            size_t *n_models,
                                            char **strings,
                                            kz_error *err);

/* ---------------------------------------------------------------- retraining callbacks */
typedef struct kz_job_ctx kz_job_ctx;
/* A retraining callback: return KZ_OK after setting the result version, or an error (with
 * kz_job_ctx_fail's message). Long work must poll kz_job_ctx_should_stop. */
typedef kz_status (*kz_retrain_fn)(kz_job_ctx *ctx, void *ud);

/* The job being run (view). */
const kz_job *kz_job_ctx_job(const kz_job_ctx *c);
/* The model's scheduler entry (view). */
const kz_sched_model *kz_job_ctx_model(const kz_job_ctx *c);
const kz_sched_config *kz_job_ctx_config(const kz_job_ctx *c);
/* The worker thread's own connection (borrowed for the call). */
kz_store *kz_job_ctx_store(kz_job_ctx *c);
/* The scheduler's (possibly injected) clock. */
int64_t kz_job_ctx_now(const kz_job_ctx *c);
/* Non-zero once the job must stop: cancelled, timed out, or the scheduler is shutting down. */
int kz_job_ctx_should_stop(const kz_job_ctx *c);
void kz_job_ctx_set_result(kz_job_ctx *c, int version);
/* Record why the job failed (kept in the job row). Returns `code` for `return kz_job_ctx_fail`. */
kz_status kz_job_ctx_fail(kz_job_ctx *c, kz_status code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The built-in pipeline: load the newest train_bars bars of the model's series from the store,
 * compute features, train (stopping when kz_job_ctx_should_stop), register, decide promotion on
 * the candidate's test window, apply retention. ud is unused. */
KZ_NODISCARD kz_status kz_retrain_builtin(kz_job_ctx *ctx, void *ud);

/* ---------------------------------------------------------------- scheduler */
typedef struct kz_sched kz_sched;

/* Open a scheduler on the database at db_path (its own connection), take the per-database
 * scheduler lock (<db>.sched.lock: a second scheduler gets KZ_ERR_INVALID), recover jobs left
 * running by a dead process (interrupted; re-queued per policy) and start max_concurrent worker
 * threads. cfg is copied. */
KZ_NODISCARD kz_status kz_sched_new(const char *db_path,
                                    const kz_sched_config *cfg,
                                    kz_sched **out,
                                    kz_error *err);
/* Stop: stop flag, wake and join the workers. A job still running is asked to stop; if it
 * stops because of the shutdown it is recorded interrupted and re-queued per policy. */
void kz_sched_free(kz_sched *s);
/* Add (or replace, by name) a model; copied. KZ_ERR_INVALID from kz_sched_model_check. */
KZ_NODISCARD kz_status kz_sched_add_model(kz_sched *s, const kz_sched_model *m, kz_error *err);
/* Callback for one model name (NULL name = the default for every model; the default default is
 * kz_retrain_builtin). fn NULL removes the entry. */
KZ_NODISCARD kz_status kz_sched_set_callback(kz_sched *s,
                                             const char *name,
                                             kz_retrain_fn fn,
                                             void *ud);

/* What one decision step did. */
typedef struct kz_tick_report {
    int64_t now_ms;
    size_t created;    /* jobs created by triggers */
    size_t dispatched; /* pending jobs handed to workers */
    size_t timed_out;  /* running jobs asked to stop at their deadline */
    size_t cancelled;  /* running jobs asked to stop by kz_job_cancel */
    size_t running;    /* jobs running after the step */
    size_t pruned;     /* old finished jobs deleted */
} kz_tick_report;

/* One deterministic decision step at the clock's current time: enforce deadlines and cancel
 * requests, evaluate every model's triggers (creating at most one job per model), dispatch due
 * pending jobs (oldest first, at most max_concurrent running, never two of one model), prune
 * history. rep optional. */
KZ_NODISCARD kz_status kz_sched_tick(kz_sched *s, kz_tick_report *rep);
/* Block until no job is running or queued (finished jobs are recorded). */
void kz_sched_wait_idle(kz_sched *s);
/* Tick every check_interval_ms (real time) until kz_sched_request_stop; returns the first
 * tick error, or KZ_OK after a stop. */
KZ_NODISCARD kz_status kz_sched_run(kz_sched *s);
/* Ask kz_sched_run to return (async-signal-safe: one lock-free atomic store). */
void kz_sched_request_stop(kz_sched *s);
/* Detail of the last failed call. */
const char *kz_sched_errmsg(const kz_sched *s);

#ifdef __cplusplus
}
#endif
#endif
