/* kizashi built-in retraining callback: store -> features -> train -> evaluate -> register ->
 * promote-if-better -> retention, stopping cooperatively when the job must stop. */
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "sched/sched_int.h"

/* kz_train_progress_fn: a non-zero return stops training with KZ_ERR_CANCELLED. */
static int stop_training(int round, int n_rounds, double tl, double vl, int best, void *ud)
{
    (void)round;
    (void)n_rounds;
    (void)tl;
    (void)vl;
    (void)best;
    return kz_job_ctx_should_stop(ud);
}

static void log_info(kz_job_ctx *ctx, const char *msg)
{
    const kz_sched_config *cfg = kz_job_ctx_config(ctx);
    if (cfg->log) {
        cfg->log(KZ_LOG_INFO, msg, cfg->log_ud);
    }
}

kz_status kz_retrain_builtin(kz_job_ctx *ctx, void *ud)
{
    (void)ud;
    const kz_sched_model *m = kz_job_ctx_model(ctx);
    const kz_sched_config *cfg = kz_job_ctx_config(ctx);
    kz_store *st = kz_job_ctx_store(ctx);
    kz_market mk;
    memset(&mk, 0, sizeof mk);
    kz_model *model = NULL;
    kz_error err;
    kz_error_clear(&err);
    int64_t last = 0;
    kz_status s = kz_store_last_ts(st, KZ_DATA_BARS, m->exchange, m->symbol, m->tf, &last);
    if (s != KZ_OK) {
        return kz_job_ctx_fail(ctx, s, "no bars for %s %s %s: %s", m->exchange, m->symbol,
                               kz_timeframe_str(m->tf), kz_store_errmsg(st));
    }
    int64_t from = m->train_bars > 0 ? last - (int64_t)(m->train_bars - 1) * kz_timeframe_ms(m->tf)
                                     : INT64_MIN;
    s = kz_store_load_market(st, m->exchange, m->symbol, m->tf, from, last + 1, NULL, &mk);
    if (s != KZ_OK) {
        kz_job_ctx_fail(ctx, s, "load market: %s", kz_store_errmsg(st));
        goto done;
    }
    kz_model_version act;
    int parent = kz_registry_get(st, m->name, 0, &act) == KZ_OK ? act.version : 0;
    kz_train_params p = m->train;
    p.progress = stop_training;
    p.progress_ud = ctx;
    s = kz_model_train(&mk, &p, &model, &err);
    if (s == KZ_OK && kz_job_ctx_should_stop(ctx)) {
        s = KZ_ERR_CANCELLED;
    }
    if (s != KZ_OK) {
        kz_job_ctx_fail(ctx, s, "train: %s", err.msg);
        goto done;
    }
    int version = 0;
    s = kz_registry_register(st, &cfg->registry, m->name, model, &mk, parent,
                             kz_job_ctx_job(ctx)->id, kz_job_ctx_now(ctx), &version, &err);
    if (s != KZ_OK) {
        kz_job_ctx_fail(ctx, s, "register: %s", err.msg);
        goto done;
    }
    kz_job_ctx_set_result(ctx, version);
    kz_promote_result pr;
    s = kz_registry_decide(st, m->name, version, model, &mk, &cfg->promote, kz_job_ctx_now(ctx),
                           &pr, &err);
    if (s != KZ_OK) {
        kz_job_ctx_fail(ctx, s, "promotion: %s", err.msg);
        goto done;
    }
    char msg[400];
    snprintf(msg, sizeof msg, "%s: %s", m->name, pr.reason);
    log_info(ctx, msg);
    s = kz_registry_retain(st, m->name, cfg->registry.keep_versions, NULL, &err);
    if (s != KZ_OK) {
        kz_job_ctx_fail(ctx, s, "retention: %s", err.msg);
    }
done:
    kz_model_free(model);
    kz_market_free(&mk);
    return s;
}
