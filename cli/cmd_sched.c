/* `kizashi scheduler run|status`, `jobs list|show|cancel`, `retrain NAME`, `models
 * list|show|promote|rollback`: the automatic retraining daemon, its job store and the registry. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/sched.h"

#include "cli.h"

static const char SCHED_USAGE[] =
    "usage: kizashi scheduler run --config FILE.json\n"
    "       kizashi scheduler status\n"
    "\n"
    "run:    foreground daemon: ticks every check_interval_s, logs each decision with its reason\n"
    "        to stderr; SIGINT/SIGTERM stop it gracefully (running jobs are interrupted and\n"
    "        re-queued; all state is in the database). Config format: docs/scheduler.md.\n"
    "status: job counts by status, running jobs, and the active version of every model.\n"
    "  --db PATH                 database file\n";

static const char JOBS_USAGE[] =
    "usage: kizashi jobs list [--model NAME] [--status STATUS] [--limit N]\n"
    "       kizashi jobs show ID\n"
    "       kizashi jobs cancel ID\n"
    "\n"
    "list:   newest first (default limit 50); STATUS is pending, running, completed, failed,\n"
    "        cancelled or interrupted.\n"
    "cancel: a pending job is cancelled at once; a running one is stopped by the scheduler at\n"
    "        its next tick.\n";

static const char RETRAIN_USAGE[] =
    "usage: kizashi retrain NAME [--reason TEXT]\n"
    "\n"
    "Queue a manual retraining job for model NAME; the running scheduler picks it up.\n";

static const char MODELS_USAGE[] =
    "usage: kizashi models list [NAME]\n"
    "       kizashi models show NAME [VERSION]\n"
    "       kizashi models promote NAME VERSION\n"
    "       kizashi models rollback NAME\n"
    "\n"
    "show:     a version (default: the active one) with its metadata JSON.\n"
    "promote:  make VERSION active (the active one is retired).\n"
    "rollback: reactivate the newest earlier version that was active before.\n";

/* ---------------------------------------------------------------- helpers */

static const char *fmt_time(int64_t ms, char *buf)
{
    return ms ? kz_time_format(ms, buf) : "-";
}

static int parse_id(const char *usage, const char *s, int64_t *out)
{
    uint64_t v = 0;
    int rc = cli_parse_u64(usage, "ID", s, &v);
    if (rc == CLI_CONTINUE && (v == 0 || v > (uint64_t)INT64_MAX)) {
        return cli_usage_error(usage, "invalid id '%s'", s);
    }
    *out = (int64_t)v;
    return rc;
}

/* Parse a sub-verb's options; returns CLI_CONTINUE and the positional count. */
static int sub_parse(cli_ctx *ctx,
                     int argc,
                     char **argv,
                     const cli_opt *opts,
                     size_t n_opts,
                     const char *usage,
                     int min_pos,
                     int max_pos,
                     int *n_pos)
{
    int rc = cli_parse(ctx, argc, argv, opts, n_opts, usage, n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (*n_pos < min_pos || *n_pos > max_pos) {
        return cli_usage_error(usage, "wrong number of arguments");
    }
    return CLI_CONTINUE;
}

static int is_help(int argc, char **argv)
{
    return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
}

/* ---------------------------------------------------------------- scheduler */

static kz_sched *g_running; /* for the signal handler only */

static void on_signal(int sig)
{
    (void)sig;
    if (g_running) {
        kz_sched_request_stop(g_running);
    }
}

static void log_stderr(kz_log_level lv, const char *msg, void *ud)
{
    (void)ud;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    char t[32];
    fprintf(stderr, "%s %-5s %s\n", kz_time_format(kz_now_ms(), t), names[lv], msg);
}

static int sched_run(cli_ctx *ctx, int argc, char **argv)
{
    const char *config = NULL;
    int verbose = 0, n_pos = 0;
    const cli_opt opts[] = {{"config", CLI_STR, &config, NULL},
                            {"verbose", CLI_FLAG, NULL, &verbose}};
    int rc = sub_parse(ctx, argc, argv, opts, 2, SCHED_USAGE, 0, 0, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    if (!config) {
        return cli_usage_error(SCHED_USAGE, "--config is required");
    }
    kz_sched_config cfg = kz_sched_config_default();
    kz_sched_model *models = NULL;
    size_t n_models = 0;
    char *strings = NULL;
    kz_error err;
    char buf[1024];
    if (kz_sched_config_load(config, &cfg, &models, &n_models, &strings, &err) != KZ_OK) {
        cli_error("config", "%s", kz_error_format(&err, buf, sizeof buf));
        kz_free(models);
        kz_free(strings);
        return CLI_EXIT_RUNTIME;
    }
    cfg.log = log_stderr;
    kz_sched *s = NULL;
    rc = CLI_EXIT_OK;
    if (kz_sched_new(ctx->db_path, &cfg, &s, &err) != KZ_OK) {
        cli_error("scheduler", "%s", kz_error_format(&err, buf, sizeof buf));
        rc = CLI_EXIT_RUNTIME;
    }
    for (size_t i = 0; rc == CLI_EXIT_OK && i < n_models; i++) {
        if (kz_sched_add_model(s, &models[i], &err) != KZ_OK) {
            cli_error(models[i].name, "%s", err.msg);
            rc = CLI_EXIT_RUNTIME;
        }
    }
    if (rc == CLI_EXIT_OK) {
        g_running = s;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (kz_sched_run(s) != KZ_OK) {
            cli_error("scheduler", "%s", kz_sched_errmsg(s));
            rc = CLI_EXIT_RUNTIME;
        }
        g_running = NULL;
    }
    kz_sched_free(s);
    kz_free(models);
    kz_free(strings);
    return rc;
}

static int sched_status(cli_ctx *ctx, int argc, char **argv)
{
    int n_pos = 0;
    int rc = sub_parse(ctx, argc, argv, NULL, 0, SCHED_USAGE, 0, 0, &n_pos);
    kz_store *st = NULL;
    if (rc != CLI_CONTINUE || (rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    printf("jobs:");
    for (int k = 0; k < KZ_JOB_STATUS_COUNT; k++) {
        kz_job *rows = NULL;
        size_t n = 0;
        if (kz_job_list(st, NULL, 1u << k, 0, &rows, &n) != KZ_OK) {
            rc = cli_store_error(st, "scheduler status");
            kz_store_close(st);
            return rc;
        }
        printf(" %s %zu", kz_job_status_str((kz_job_status)k), n);
        if (k == KZ_JOB_RUNNING) {
            for (size_t i = 0; i < n; i++) {
                char t[32];
                printf("%s#%lld %s since %s", i ? ", " : " (", (long long)rows[i].id, rows[i].model,
                       fmt_time(rows[i].started_ms, t));
            }
            printf("%s", n ? ")" : "");
        }
        kz_free(rows);
    }
    printf("\n");
    kz_model_version *vs = NULL;
    size_t nv = 0;
    if (kz_registry_list(st, NULL, &vs, &nv) != KZ_OK) {
        rc = cli_store_error(st, "scheduler status");
        kz_store_close(st);
        return rc;
    }
    for (size_t i = 0; i < nv; i++) {
        if (vs[i].status == KZ_VERSION_ACTIVE) {
            char t[32];
            printf("model %s: active v%d since %s\n", vs[i].name, vs[i].version,
                   fmt_time(vs[i].activated_ms, t));
        }
    }
    kz_free(vs);
    kz_store_close(st);
    return CLI_EXIT_OK;
}

int cmd_scheduler(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        return sched_run(ctx, argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "status") == 0) {
        return sched_status(ctx, argc - 1, argv + 1);
    }
    if (is_help(argc, argv)) {
        fputs(SCHED_USAGE, stdout);
        return CLI_EXIT_OK;
    }
    return cli_usage_error(SCHED_USAGE, "expected 'scheduler run' or 'scheduler status'");
}

/* ---------------------------------------------------------------- jobs */

static void print_job(const kz_job *j)
{
    char a[32], b[32], c[32], d[32];
    printf("id %lld\nmodel %s\ntrigger %s\nstatus %s\nreason %s\ncreated %s\nscheduled %s\n"
           "started %s\nfinished %s\nattempts %d\nretry_of %lld\ncancel_requested %d\n"
           "error %s\nresult_version %d\n",
           (long long)j->id, j->model, kz_trigger_str(j->trigger), kz_job_status_str(j->status),
           j->reason, fmt_time(j->created_ms, a), fmt_time(j->scheduled_ms, b),
           fmt_time(j->started_ms, c), fmt_time(j->finished_ms, d), j->attempts,
           (long long)j->retry_of, j->cancel_requested, j->error, j->result_version);
}

static int jobs_list(cli_ctx *ctx, int argc, char **argv)
{
    const char *model = NULL, *status_s = NULL, *limit_s = NULL;
    const cli_opt opts[] = {{"model", CLI_STR, &model, NULL},
                            {"status", CLI_STR, &status_s, NULL},
                            {"limit", CLI_STR, &limit_s, NULL}};
    int n_pos = 0;
    int rc = sub_parse(ctx, argc, argv, opts, 3, JOBS_USAGE, 0, 0, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    unsigned mask = 0;
    kz_job_status js;
    if (status_s) {
        if (kz_job_status_parse(status_s, &js) != KZ_OK) {
            return cli_usage_error(JOBS_USAGE, "unknown status '%s'", status_s);
        }
        mask = 1u << js;
    }
    uint64_t limit = 50;
    if (limit_s && (rc = cli_parse_u64(JOBS_USAGE, "limit", limit_s, &limit)) != CLI_CONTINUE) {
        return rc;
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    kz_job *rows = NULL;
    size_t n = 0;
    if (kz_job_list(st, model, mask, (size_t)limit, &rows, &n) != KZ_OK) {
        rc = cli_store_error(st, "jobs list");
        kz_store_close(st);
        return rc;
    }
    printf("%-6s %-16s %-24s %-11s %-24s %-24s %3s %s\n", "id", "model", "trigger", "status",
           "scheduled", "finished", "try", "version/error");
    for (size_t i = 0; i < n; i++) {
        char a[32], b[32];
        const kz_job *j = &rows[i];
        printf("%-6lld %-16s %-24s %-11s %-24s %-24s %3d ", (long long)j->id, j->model,
               kz_trigger_str(j->trigger), kz_job_status_str(j->status),
               fmt_time(j->scheduled_ms, a), fmt_time(j->finished_ms, b), j->attempts);
        if (j->result_version) {
            printf("v%d\n", j->result_version);
        } else {
            printf("%s\n", j->error);
        }
    }
    kz_free(rows);
    kz_store_close(st);
    return CLI_EXIT_OK;
}

static int jobs_one(cli_ctx *ctx, int argc, char **argv, int cancel)
{
    int n_pos = 0;
    int64_t id = 0;
    int rc = sub_parse(ctx, argc, argv, NULL, 0, JOBS_USAGE, 1, 1, &n_pos);
    kz_store *st = NULL;
    if (rc != CLI_CONTINUE || (rc = parse_id(JOBS_USAGE, argv[1], &id)) != CLI_CONTINUE ||
        (rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    kz_job j;
    int was_running = 0;
    if (cancel) {
        if (kz_job_cancel(st, id, kz_now_ms(), &was_running) != KZ_OK) {
            rc = cli_store_error(st, "jobs cancel");
        } else {
            printf("job %lld: %s\n", (long long)id,
                   was_running ? "cancellation requested (the scheduler stops it at its next tick)"
                               : "cancelled");
            rc = CLI_EXIT_OK;
        }
    } else if (kz_job_get(st, id, &j) != KZ_OK) {
        rc = cli_store_error(st, "jobs show");
    } else {
        print_job(&j);
        rc = CLI_EXIT_OK;
    }
    kz_store_close(st);
    return rc;
}

int cmd_jobs(cli_ctx *ctx, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        return jobs_list(ctx, argc - 1, argv + 1);
    }
    if (argc >= 2 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "cancel") == 0)) {
        return jobs_one(ctx, argc - 1, argv + 1, argv[1][0] == 'c');
    }
    if (is_help(argc, argv)) {
        fputs(JOBS_USAGE, stdout);
        return CLI_EXIT_OK;
    }
    return cli_usage_error(JOBS_USAGE, "expected 'jobs list', 'jobs show' or 'jobs cancel'");
}

/* ---------------------------------------------------------------- retrain */

int cmd_retrain(cli_ctx *ctx, int argc, char **argv)
{
    const char *reason = "manual (kizashi retrain)";
    const cli_opt opts[] = {{"reason", CLI_STR, &reason, NULL}};
    int n_pos = 0;
    int rc = sub_parse(ctx, argc, argv, opts, 1, RETRAIN_USAGE, 1, 1, &n_pos);
    kz_store *st = NULL;
    if (rc != CLI_CONTINUE || (rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    int64_t id = 0, now = kz_now_ms();
    if (kz_job_create(st, argv[1], KZ_TRIGGER_MANUAL, reason, now, now, &id) != KZ_OK) {
        rc = cli_store_error(st, "retrain");
    } else {
        printf("queued job %lld: manual retraining of %s\n", (long long)id, argv[1]);
        rc = CLI_EXIT_OK;
    }
    kz_store_close(st);
    return rc;
}

/* ---------------------------------------------------------------- models */

static void print_metric(const char *name, double v)
{
    char buf[32];
    printf("%s %s\n", name, v == v ? cli_fmt_double(v, buf) : "-");
}

static int models_list(kz_store *st, const char *name)
{
    kz_model_version *vs = NULL;
    size_t n = 0;
    if (kz_registry_list(st, name, &vs, &n) != KZ_OK) {
        return cli_store_error(st, "models list");
    }
    printf("%-16s %4s %-9s %-12s %-3s %-20s %-20s %9s %9s %s\n", "name", "ver", "status", "symbol",
           "tf", "data_to", "created", "test_ll", "eval_ll", "parent");
    for (size_t i = 0; i < n; i++) {
        const kz_model_version *v = &vs[i];
        char a[32], b[32];
        printf("%-16s %4d %-9s %-12s %-3s %-20s %-20s %9.4f %9.4f %d\n", v->name, v->version,
               kz_version_status_str(v->status), v->symbol,
               v->tf < KZ_TF_COUNT ? kz_timeframe_str(v->tf) : "-", fmt_time(v->data_to_ms, a),
               fmt_time(v->created_ms, b), v->test_mlogloss, v->eval_mlogloss, v->parent);
    }
    kz_free(vs);
    return CLI_EXIT_OK;
}

static int models_show(kz_store *st, const char *name, int version)
{
    kz_model_version v;
    char *meta = NULL;
    if (kz_registry_get(st, name, version, &v) != KZ_OK ||
        kz_registry_meta(st, name, v.version, &meta) != KZ_OK) {
        return cli_store_error(st, "models show");
    }
    char a[32], b[32], c[32], d[32];
    printf("name %s\nversion %d\nstatus %s\npath %s\nexchange %s\nsymbol %s\ntimeframe %s\n"
           "data_from %s\ndata_to %s\nparent %d\njob %lld\ncreated %s\nactivated %s\nhorizon %d\n",
           v.name, v.version, kz_version_status_str(v.status), v.path, v.exchange, v.symbol,
           v.tf < KZ_TF_COUNT ? kz_timeframe_str(v.tf) : "-", fmt_time(v.data_from_ms, a),
           fmt_time(v.data_to_ms, b), v.parent, (long long)v.job_id, fmt_time(v.created_ms, c),
           fmt_time(v.activated_ms, d), v.horizon);
    print_metric("label_up", v.label_up);
    print_metric("label_down", v.label_down);
    print_metric("test_mlogloss", v.test_mlogloss);
    print_metric("test_balanced_accuracy", v.test_balanced_accuracy);
    print_metric("eval_mlogloss", v.eval_mlogloss);
    print_metric("eval_balanced_accuracy", v.eval_balanced_accuracy);
    printf("metadata %s\n", meta);
    kz_free(meta);
    return CLI_EXIT_OK;
}

int cmd_models(cli_ctx *ctx, int argc, char **argv)
{
    if (is_help(argc, argv) || argc < 2) {
        if (argc < 2) {
            return cli_usage_error(MODELS_USAGE, "expected a sub-command");
        }
        fputs(MODELS_USAGE, stdout);
        return CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    int lo = 0, hi = 0;
    if (strcmp(sub, "list") == 0) {
        hi = 1;
    } else if (strcmp(sub, "show") == 0) {
        lo = 1;
        hi = 2;
    } else if (strcmp(sub, "promote") == 0) {
        lo = hi = 2;
    } else if (strcmp(sub, "rollback") == 0) {
        lo = hi = 1;
    } else {
        return cli_usage_error(MODELS_USAGE, "unknown sub-command '%s'", sub);
    }
    int n_pos = 0;
    int rc = sub_parse(ctx, argc - 1, argv + 1, NULL, 0, MODELS_USAGE, lo, hi, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    char **pos = argv + 2; /* positionals of the sub-command */
    uint64_t version = 0;
    if (n_pos == 2 &&
        (rc = cli_parse_u64(MODELS_USAGE, "VERSION", pos[1], &version)) != CLI_CONTINUE) {
        return rc;
    }
    if (version > 1000000000) {
        return cli_usage_error(MODELS_USAGE, "invalid version '%s'", pos[1]);
    }
    kz_store *st = NULL;
    if ((rc = cli_open_store(ctx, &st)) != CLI_CONTINUE) {
        return rc;
    }
    int now_active = 0;
    if (sub[0] == 'l') {
        rc = models_list(st, n_pos ? pos[0] : NULL);
    } else if (sub[0] == 's') {
        rc = models_show(st, pos[0], (int)version);
    } else if (sub[0] == 'p') {
        rc = kz_registry_promote(st, pos[0], (int)version, kz_now_ms()) != KZ_OK
                 ? cli_store_error(st, "models promote")
                 : (printf("%s: v%d is active\n", pos[0], (int)version), CLI_EXIT_OK);
    } else {
        rc = kz_registry_rollback(st, pos[0], kz_now_ms(), &now_active) != KZ_OK
                 ? cli_store_error(st, "models rollback")
                 : (printf("%s: rolled back to v%d\n", pos[0], now_active), CLI_EXIT_OK);
    }
    kz_store_close(st);
    return rc;
}
