/* kizashi scheduler configuration: defaults (every one documented in docs/scheduler.md), checks,
 * and the JSON config file, read through one field table per object so that an unknown or
 * out-of-range key is an error naming the key rather than a silent default. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/core.h"

#include "core/core_int.h"
#include "sched/sched_int.h"

#define DAY_MS (86400LL * 1000)

kz_status kz_sched_model_default(const char *name, kz_sched_model *out)
{
    if (!out || !name || !*name || strlen(name) >= KZ_SCHED_NAME_MAX) {
        return KZ_ERR_INVALID;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->tf = KZ_TF_1H;
    out->interval_ms = DAY_MS; /* SPEC §4 daily_incremental */
    out->perf_margin = 0.05;   /* SPEC §2.1 PERF_DEGRADATION */
    out->perf_window = 168;    /* one week of 1h predictions */
    out->perf_min_samples = 48;
    out->drift_threshold = 0.1; /* SPEC §2.1 DRIFT */
    out->drift_window_bars = 720;
    out->trigger_cooldown_ms = DAY_MS;
    out->train_bars = 8760; /* one year of 1h bars */
    out->train = kz_train_params_default();
    return KZ_OK;
}

static kz_status bad(kz_error *err, const char *field, const char *msg)
{
    if (err) {
        err->code = KZ_ERR_INVALID;
        snprintf(err->field, sizeof err->field, "%s", field);
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
    return KZ_ERR_INVALID;
}

kz_status kz_sched_model_check(const kz_sched_model *m, kz_error *err)
{
    if (!m || !m->name[0]) {
        return bad(err, "name", "model name required");
    }
    if (!m->exchange[0] || !m->symbol[0]) {
        return bad(err, "exchange", "exchange and symbol required");
    }
    if ((unsigned)m->tf >= KZ_TF_COUNT) {
        return bad(err, "timeframe", "invalid timeframe");
    }
    if (m->interval_ms < 0 || m->every_n_closes < 0 || m->new_data_bars < 0) {
        return bad(err, "interval", "schedule values must be >= 0");
    }
    if (!(m->perf_margin >= 0) || !(m->perf_min_balanced >= 0 && m->perf_min_balanced <= 1)) {
        return bad(err, "perf_margin", "perf_margin >= 0, perf_min_balanced in [0, 1]");
    }
    if (m->perf_window < 1 || m->perf_min_samples < 1 || m->perf_min_samples > m->perf_window) {
        return bad(err, "perf_window", "1 <= perf_min_samples <= perf_window");
    }
    if (!(m->drift_threshold >= 0) || m->drift_window_bars < 10) {
        return bad(err, "drift_threshold", "drift_threshold >= 0, drift_window_bars >= 10");
    }
    if (m->trigger_cooldown_ms < 0 || m->train_bars < 0) {
        return bad(err, "cooldown", "cooldown and train_bars must be >= 0");
    }
    kz_status s = kz_label_params_check(&m->train.label, err);
    return s == KZ_OK ? kz_booster_params_check(&m->train.booster, err) : s;
}

kz_sched_config kz_sched_config_default(void)
{
    kz_sched_config c;
    memset(&c, 0, sizeof c);
    c.check_interval_ms = 60 * 1000;
    c.max_concurrent = 2;             /* SPEC §4 max_concurrent_jobs */
    c.job_timeout_ms = 7200LL * 1000; /* SPEC §4 job_timeout, now enforced */
    c.max_attempts = 3;
    c.retry_backoff_ms = 60 * 1000;
    c.retry_backoff_max_ms = 3600LL * 1000;
    c.requeue_interrupted = 1;
    c.history_ms = 90 * DAY_MS; /* SPEC §4 data_retention_days */
    c.registry = kz_registry_params_default();
    c.promote = kz_promote_params_default();
    return c;
}

kz_status kz_sched_config_check(const kz_sched_config *c, kz_error *err)
{
    if (!c) {
        return bad(err, "config", "NULL");
    }
    if (c->check_interval_ms < 1 || c->job_timeout_ms < 1) {
        return bad(err, "check_interval", "check interval and job timeout must be > 0");
    }
    if (c->max_concurrent < 1 || c->max_concurrent > 64) {
        return bad(err, "max_concurrent", "1..64");
    }
    if (c->max_attempts < 1 || c->retry_backoff_ms < 0 || c->retry_backoff_max_ms < 0) {
        return bad(err, "max_attempts", "max_attempts >= 1, backoffs >= 0");
    }
    if (c->history_ms < 0 || c->registry.keep_versions < 1) {
        return bad(err, "keep_versions", "history >= 0, keep_versions >= 1");
    }
    if (c->registry.drift_top_features < 0 || c->registry.drift_bins < 2 ||
        c->registry.drift_bins > 64) {
        return bad(err, "drift_bins", "drift_top_features >= 0, drift_bins 2..64");
    }
    if ((c->promote.metric != 0 && c->promote.metric != 1) ||
        !(c->promote.min_improvement >= 0 && c->promote.min_improvement < 1)) {
        return bad(err, "min_improvement", "metric mlogloss|balanced_accuracy, 0 <= x < 1");
    }
    return KZ_OK;
}

/* ---------------------------------------------------------------- JSON */

typedef enum fkind { F_INT, F_MS_FROM_S, F_DOUBLE, F_BOOL } fkind;

typedef struct field {
    const char *key;
    fkind kind;
    size_t off;
} field;

static const field CONFIG_FIELDS[] = {
    {"check_interval_s", F_MS_FROM_S, offsetof(kz_sched_config, check_interval_ms)},
    {"max_concurrent", F_INT, offsetof(kz_sched_config, max_concurrent)},
    {"job_timeout_s", F_MS_FROM_S, offsetof(kz_sched_config, job_timeout_ms)},
    {"max_attempts", F_INT, offsetof(kz_sched_config, max_attempts)},
    {"retry_backoff_s", F_MS_FROM_S, offsetof(kz_sched_config, retry_backoff_ms)},
    {"retry_backoff_max_s", F_MS_FROM_S, offsetof(kz_sched_config, retry_backoff_max_ms)},
    {"requeue_interrupted", F_BOOL, offsetof(kz_sched_config, requeue_interrupted)},
    {"keep_versions", F_INT, offsetof(kz_sched_config, registry.keep_versions)},
    {"drift_top_features", F_INT, offsetof(kz_sched_config, registry.drift_top_features)},
    {"drift_bins", F_INT, offsetof(kz_sched_config, registry.drift_bins)},
    {"min_improvement", F_DOUBLE, offsetof(kz_sched_config, promote.min_improvement)},
};

static const field MODEL_FIELDS[] = {
    {"interval_s", F_MS_FROM_S, offsetof(kz_sched_model, interval_ms)},
    {"every_n_closes", F_INT, offsetof(kz_sched_model, every_n_closes)},
    {"new_data_bars", F_INT, offsetof(kz_sched_model, new_data_bars)},
    {"perf_margin", F_DOUBLE, offsetof(kz_sched_model, perf_margin)},
    {"perf_min_balanced", F_DOUBLE, offsetof(kz_sched_model, perf_min_balanced)},
    {"perf_window", F_INT, offsetof(kz_sched_model, perf_window)},
    {"perf_min_samples", F_INT, offsetof(kz_sched_model, perf_min_samples)},
    {"drift_threshold", F_DOUBLE, offsetof(kz_sched_model, drift_threshold)},
    {"drift_window_bars", F_INT, offsetof(kz_sched_model, drift_window_bars)},
    {"cooldown_s", F_MS_FROM_S, offsetof(kz_sched_model, trigger_cooldown_ms)},
    {"train_bars", F_INT, offsetof(kz_sched_model, train_bars)},
    {"horizon", F_INT, offsetof(kz_sched_model, train.label.horizon)},
    {"threshold_up", F_DOUBLE, offsetof(kz_sched_model, train.label.threshold_up)},
    {"threshold_down", F_DOUBLE, offsetof(kz_sched_model, train.label.threshold_down)},
    {"num_boost_round", F_INT, offsetof(kz_sched_model, train.booster.num_boost_round)},
    {"learning_rate", F_DOUBLE, offsetof(kz_sched_model, train.booster.learning_rate)},
    {"num_threads", F_INT, offsetof(kz_sched_model, train.booster.num_threads)},
};

static kz_status json_err(kz_error *err, const char *path, const char *key, const char *msg)
{
    err->code = KZ_ERR_INVALID;
    snprintf(err->file, sizeof err->file, "%s", path);
    snprintf(err->field, sizeof err->field, "%s", key);
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return KZ_ERR_INVALID;
}

/* Apply one key through a field table; returns 1 if the key was in the table. */
static int apply_field(const field *tab,
                       size_t n,
                       const cJSON *it,
                       char *base,
                       kz_status *s,
                       const char *path,
                       kz_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(tab[i].key, it->string) != 0) {
            continue;
        }
        int ok = tab[i].kind == F_BOOL ? cJSON_IsBool(it) : cJSON_IsNumber(it);
        double v = cJSON_IsNumber(it) ? it->valuedouble : (cJSON_IsTrue(it) ? 1.0 : 0.0);
        if (ok && (tab[i].kind == F_INT || tab[i].kind == F_MS_FROM_S)) {
            ok = v == floor(v) && fabs(v) < 1e12 && (tab[i].kind != F_INT || fabs(v) < 2e9);
        }
        if (!ok) {
            *s = json_err(err, path, it->string, "wrong type or not an integer");
            return 1;
        }
        char *p = base + tab[i].off;
        if (tab[i].kind == F_DOUBLE) {
            memcpy(p, &v, sizeof v);
        } else if (tab[i].kind == F_MS_FROM_S) {
            int64_t ms = (int64_t)v * 1000;
            memcpy(p, &ms, sizeof ms);
        } else {
            int iv = (int)v;
            memcpy(p, &iv, sizeof iv);
        }
        return 1;
    }
    return 0;
}

static kz_status load_model(const cJSON *o, const char *path, kz_sched_model *m, kz_error *err)
{
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(nm) || kz_sched_model_default(nm->valuestring, m) != KZ_OK) {
        return json_err(err, path, "name", "each model needs a name of 1..63 bytes");
    }
    kz_status s = KZ_OK;
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (s != KZ_OK) {
            break;
        }
        const char *k = it->string;
        if (strcmp(k, "name") == 0) {
            continue;
        }
        if (strcmp(k, "exchange") == 0 || strcmp(k, "symbol") == 0) {
            char *dst = k[0] == 'e' ? m->exchange : m->symbol;
            if (!cJSON_IsString(it) || strlen(it->valuestring) >= 32) {
                s = json_err(err, path, k, "a string of at most 31 bytes");
            } else {
                snprintf(dst, 32, "%s", it->valuestring);
            }
        } else if (strcmp(k, "timeframe") == 0) {
            if (!cJSON_IsString(it) || kz_timeframe_parse(it->valuestring, &m->tf) != KZ_OK) {
                s = json_err(err, path, k, "one of 1m 5m 15m 30m 1h 4h 1d");
            }
        } else if (!apply_field(MODEL_FIELDS, sizeof MODEL_FIELDS / sizeof MODEL_FIELDS[0], it,
                                (char *)m, &s, path, err)) {
            s = json_err(err, path, k, "unknown model key");
        }
    }
    if (s == KZ_OK && kz_sched_model_check(m, err) != KZ_OK) {
        snprintf(err->file, sizeof err->file, "%s", path);
        s = KZ_ERR_INVALID;
    }
    return s;
}

kz_status kz_sched_config_load(const char *path,
                               kz_sched_config *cfg,
                               kz_sched_model **models,
                               size_t *n_models,
                               char **strings,
                               kz_error *err)
{
    kz_error local;
    if (!err) {
        err = &local;
    }
    kz_error_clear(err);
    if (!path || !cfg || !models || !n_models || !strings) {
        return json_err(err, path ? path : "", "", "NULL argument");
    }
    char *text = NULL;
    size_t len = 0;
    kz_status s = kz_read_file(path, 0, &text, &len, err);
    cJSON *root = NULL;
    if (s == KZ_OK) {
        root = cJSON_Parse(text);
        if (!cJSON_IsObject(root)) {
            err->code = s = KZ_ERR_PARSE;
            snprintf(err->file, sizeof err->file, "%s", path);
            snprintf(err->msg, sizeof err->msg, "not a JSON object (near byte %ld)",
                     cJSON_GetErrorPtr() ? (long)(cJSON_GetErrorPtr() - text) : 0L);
        }
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, (s == KZ_OK ? root : NULL))
    {
        if (s != KZ_OK) {
            break;
        }
        const char *k = it->string;
        if (strcmp(k, "models") == 0) {
            size_t n = (size_t)cJSON_GetArraySize(it);
            kz_sched_model *g =
                cJSON_IsArray(it) ? kz_realloc_array(*models, *n_models + n + 1, sizeof *g) : NULL;
            if (!g) {
                s = json_err(err, path, k, "an array of model objects");
                break;
            }
            *models = g;
            const cJSON *mo;
            cJSON_ArrayForEach(mo, it)
            {
                if (s == KZ_OK) {
                    s = load_model(mo, path, &g[*n_models], err);
                    *n_models += s == KZ_OK;
                }
            }
        } else if (strcmp(k, "models_dir") == 0) {
            if (!cJSON_IsString(it) || !(*strings = kz_strdup(it->valuestring))) {
                s = json_err(err, path, k, "a directory path");
            } else {
                cfg->registry.models_dir = *strings;
            }
        } else if (strcmp(k, "promote_metric") == 0) {
            int mlog = cJSON_IsString(it) && strcmp(it->valuestring, "mlogloss") == 0;
            int bal = cJSON_IsString(it) && strcmp(it->valuestring, "balanced_accuracy") == 0;
            if (!mlog && !bal) {
                s = json_err(err, path, k, "mlogloss or balanced_accuracy");
            }
            cfg->promote.metric = bal;
        } else if (strcmp(k, "history_days") == 0) {
            if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 36500) {
                s = json_err(err, path, k, "0..36500 days");
            } else {
                cfg->history_ms = (int64_t)it->valuedouble * DAY_MS;
            }
        } else if (!apply_field(CONFIG_FIELDS, sizeof CONFIG_FIELDS / sizeof CONFIG_FIELDS[0], it,
                                (char *)cfg, &s, path, err)) {
            s = json_err(err, path, k, "unknown key");
        }
    }
    if (s == KZ_OK && kz_sched_config_check(cfg, err) != KZ_OK) {
        snprintf(err->file, sizeof err->file, "%s", path);
        s = KZ_ERR_INVALID;
    }
    cJSON_Delete(root);
    kz_free(text);
    return s;
}
