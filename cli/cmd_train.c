/* `kizashi train | evaluate | predict`: train the 3-class model on stored data and save a .kzm
 * bundle, walk-forward evaluation (table or JSON), and probabilities of a saved model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/model.h"

#include "cli.h"

#define MODEL_OPTS                                                                                 \
    "labels and training:\n"                                                                       \
    "  --horizon H               bars ahead (default 24)\n"                                        \
    "  --threshold X             up if the H-bar return >= X, down if <= -X (default 0.02)\n"      \
    "  --threshold-down X        a separate down threshold (negative)\n"                           \
    "  --threshold-mode M        fixed (default), vol (k * rolling std * sqrt(H)), quantile\n"     \
    "                            (balanced classes, thresholds from the training rows)\n"          \
    "  --vol-k K                 vol mode multiplier (default 1)\n"                                \
    "  --param NAME=VALUE        booster parameter by its SPEC name, repeatable: num_leaves,\n"    \
    "                            learning_rate, feature_fraction, bagging_fraction,\n"             \
    "                            min_data_in_leaf, lambda_l2, max_bin, num_threads, seed,\n"       \
    "                            num_boost_round, early_stopping_rounds, balanced\n"               \
    "  --all-features            keep raw price/volume/OI levels and OHLCV (SPEC's behaviour)\n"   \
    "  --embargo N               bars dropped after each purge gap (default 0)\n"

static const char TRAIN_USAGE[] =
    "usage: kizashi train --exchange NAME --symbol SYMBOL [options] --out FILE.kzm\n"
    "\n"
    "Train the down/range/up model (XGBoost, LightGBM-like settings) on a chronological\n"
    "70/15/15 split with a purge gap of H bars, early stopping on the validation segment, and\n"
    "print the test metrics next to the naive baselines. Progress goes to stderr.\n"
    "\n" CLI_MARKET_USAGE MODEL_OPTS
    "  --out FILE                model file to write (atomically)\n"
    "  --quiet                   no progress\n"
    "  --json                    print the metrics as JSON instead of a table\n";

static const char EVAL_USAGE[] =
    "usage: kizashi evaluate --exchange NAME --symbol SYMBOL [options]\n"
    "\n"
    "Walk-forward evaluation: k test blocks after a first training window; each fold trains on\n"
    "the rows before its block (minus a purge of H bars) with early stopping on the window's\n"
    "last share, and is scored on its block. Prints per-fold metrics and their mean/std.\n"
    "\n" CLI_MARKET_USAGE MODEL_OPTS "walk-forward:\n"
    "  --folds K                 test blocks (default 5)\n"
    "  --sliding                 fixed-length training window (default: expanding)\n"
    "  --min-train F             share of rows before the first block (default 0.5)\n"
    "  --json                    JSON instead of the table\n";

static const char PREDICT_USAGE[] =
    "usage: kizashi predict --model FILE.kzm --exchange NAME --symbol SYMBOL [options]\n"
    "\n"
    "Probabilities of a saved model as CSV: timestamp,down,range,up (each row sums to 1).\n"
    "Features are recomputed with the model's settings and checked against its feature names.\n"
    "\n" CLI_MARKET_USAGE "  --model FILE              the .kzm model\n"
    "  --last N                  only the last N bars (default all)\n";

/* Pull every "--param NAME=VALUE" out of argv (the option parser keeps one value per option). */
static int take_params(int *argc, char **argv, const char *usage, kz_booster_params *bp)
{
    int w = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *kv = NULL;
        if (strcmp(a, "--param") == 0) {
            if (i + 1 >= *argc) {
                return cli_usage_error(usage, "--param needs NAME=VALUE");
            }
            kv = argv[++i];
        } else if (strncmp(a, "--param=", 8) == 0) {
            kv = a + 8;
        } else {
            argv[w++] = argv[i];
            continue;
        }
        const char *eq = strchr(kv, '=');
        char name[64];
        if (!eq || (size_t)(eq - kv) >= sizeof name) {
            return cli_usage_error(usage, "--param: '%s' is not NAME=VALUE", kv);
        }
        memcpy(name, kv, (size_t)(eq - kv));
        name[eq - kv] = '\0';
        kz_error err;
        if (kz_booster_params_set(bp, name, eq + 1, &err) != KZ_OK) {
            return cli_usage_error(usage, "--param %s: %s", name, err.msg);
        }
    }
    *argc = w;
    return CLI_CONTINUE;
}

/* Label and split options. */
typedef struct model_args {
    const char *horizon_s, *thr_s, *thr_down_s, *mode_s, *volk_s, *embargo_s;
    int all_features;
} model_args;

#define MODEL_OPT_ROWS(a)                                                                          \
    {"horizon", CLI_STR, &(a).horizon_s, NULL}, {"threshold", CLI_STR, &(a).thr_s, NULL},          \
        {"threshold-down", CLI_STR, &(a).thr_down_s, NULL},                                        \
        {"threshold-mode", CLI_STR, &(a).mode_s, NULL}, {"vol-k", CLI_STR, &(a).volk_s, NULL},     \
        {"embargo", CLI_STR, &(a).embargo_s, NULL},                                                \
    {                                                                                              \
        "all-features", CLI_FLAG, NULL, &(a).all_features                                          \
    }

static int parse_double(const char *usage, const char *opt, const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v)) {
        return cli_usage_error(usage, "--%s: '%s' is not a number", opt, s);
    }
    *out = v;
    return CLI_CONTINUE;
}

static int apply_model_args(const char *usage, const model_args *a, kz_train_params *p)
{
    uint64_t u = 0;
    double v = 0.0;
    int rc = CLI_CONTINUE;
    if (a->horizon_s) {
        if ((rc = cli_parse_u64(usage, "horizon", a->horizon_s, &u)) != CLI_CONTINUE) {
            return rc;
        }
        p->label.horizon = u > 100000 ? 0 : (int)u;
    }
    if (a->mode_s && kz_label_mode_parse(a->mode_s, &p->label.mode) != KZ_OK) {
        return cli_usage_error(usage, "--threshold-mode: '%s' is not fixed, vol or quantile",
                               a->mode_s);
    }
    if (a->thr_s) {
        if ((rc = parse_double(usage, "threshold", a->thr_s, &v)) != CLI_CONTINUE) {
            return rc;
        }
        p->label.threshold_up = v;
        p->label.threshold_down = -v;
    }
    if (a->thr_down_s && (rc = parse_double(usage, "threshold-down", a->thr_down_s,
                                            &p->label.threshold_down)) != CLI_CONTINUE) {
        return rc;
    }
    if (a->volk_s &&
        (rc = parse_double(usage, "vol-k", a->volk_s, &p->label.vol_k)) != CLI_CONTINUE) {
        return rc;
    }
    if (a->embargo_s) {
        if ((rc = cli_parse_u64(usage, "embargo", a->embargo_s, &u)) != CLI_CONTINUE) {
            return rc;
        }
        p->split.embargo = u > 100000 ? 100000 : (int)u;
    }
    p->all_features = a->all_features;
    kz_error err;
    if (kz_label_params_check(&p->label, &err) != KZ_OK) {
        return cli_usage_error(usage, "%s: %s", err.field, err.msg);
    }
    return CLI_CONTINUE;
}

/* Progress on stderr: round, losses, best round, ETA; at most ~4 lines a second. */
typedef struct progress {
    double t0, last;
    int fold, show_fold;
} progress;

static int on_progress(int round, int n_rounds, double tl, double vl, int best, void *ud)
{
    progress *pg = ud;
    double now = kz_monotonic_s();
    if (round == 0) {
        pg->t0 = now;
        pg->fold++;
    }
    if (now - pg->last < 0.25 && round + 1 < n_rounds) {
        return 0;
    }
    pg->last = now;
    double per = (now - pg->t0) / (round + 1);
    if (pg->show_fold) {
        fprintf(stderr, "\rfold %d ", pg->fold);
    } else {
        fputc('\r', stderr);
    }
    fprintf(stderr,
            "round %4d/%d  train mlogloss %.5f  valid mlogloss %.5f  best %4d  ETA <= %.0f s   ",
            round + 1, n_rounds, tl, vl, best + 1, per * (n_rounds - round - 1));
    return 0;
}

int cmd_train(cli_ctx *ctx, int argc, char **argv)
{
    cli_market_args d;
    cli_market_args_init(&d);
    model_args a;
    memset(&a, 0, sizeof a);
    const char *out = NULL;
    int quiet = 0, json = 0, n_pos = 0;
    kz_train_params p = kz_train_params_default();
    int rc = take_params(&argc, argv, TRAIN_USAGE, &p.booster);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    const cli_opt opts[] = {CLI_MARKET_OPTS(d),
                            MODEL_OPT_ROWS(a),
                            {"out", CLI_STR, &out, NULL},
                            {"quiet", CLI_FLAG, NULL, &quiet},
                            {"json", CLI_FLAG, NULL, &json}};
    if ((rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], TRAIN_USAGE,
                        &n_pos)) != CLI_CONTINUE) {
        return rc;
    }
    if (n_pos) {
        return cli_usage_error(TRAIN_USAGE, "unexpected argument '%s'", argv[1]);
    }
    if (!out) {
        return cli_usage_error(TRAIN_USAGE, "--out is required");
    }
    if ((rc = apply_model_args(TRAIN_USAGE, &a, &p)) != CLI_CONTINUE) {
        return rc;
    }
    kz_market m;
    if ((rc = cli_load_market(ctx, TRAIN_USAGE, &d, &m)) != CLI_CONTINUE) {
        return rc;
    }
    progress pg = {0, 0, 0, 0};
    if (!quiet) {
        p.progress = on_progress;
        p.progress_ud = &pg;
        p.want_train_loss = 1;
        fprintf(stderr, "training on %zu bars of %s %s %s\n", m.bars.n, d.exchange, d.symbol,
                d.tf_s);
    }
    kz_model *model = NULL;
    kz_error err;
    kz_status s = kz_model_train(&m, &p, &model, &err);
    if (!quiet) {
        fputc('\n', stderr);
    }
    kz_market_free(&m);
    if (s != KZ_OK) {
        char buf[1024];
        cli_error("train", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    if (kz_model_save(model, out, &err) != KZ_OK) {
        char buf[1024];
        cli_error("save", "%s", kz_error_format(&err, buf, sizeof buf));
        kz_model_free(model);
        return CLI_EXIT_RUNTIME;
    }
    const kz_metrics *mt = kz_model_metrics(model);
    if (json) {
        char *js = NULL;
        if (kz_metrics_to_json(mt, &js) == KZ_OK) {
            printf("%s\n", js);
        }
        kz_free(js);
    } else {
        const kz_label_report *lr = kz_model_label_report(model);
        printf("model %s: %zu features, %d rounds (best iteration %d), valid mlogloss %.5f, "
               "%.1f s\n",
               out, kz_model_n_features(model), kz_model_n_rounds(model),
               kz_model_n_rounds(model) - 1, kz_model_valid_loss(model),
               kz_model_train_seconds(model));
        printf("labels: %s, horizon %d, thresholds %+.5f / %+.5f, shares down %.3f range %.3f "
               "up %.3f\n\n",
               kz_label_mode_str(p.label.mode), p.label.horizon, lr->threshold_down,
               lr->threshold_up, lr->shares[0], lr->shares[1], lr->shares[2]);
        cli_print_metrics(mt, 1);
    }
    kz_model_free(model);
    return CLI_EXIT_OK;
}

int cmd_evaluate(cli_ctx *ctx, int argc, char **argv)
{
    cli_market_args d;
    cli_market_args_init(&d);
    model_args a;
    memset(&a, 0, sizeof a);
    const char *folds_s = NULL, *min_train_s = NULL;
    int sliding = 0, json = 0, n_pos = 0;
    kz_train_params p = kz_train_params_default();
    kz_walkforward_params w = kz_walkforward_params_default();
    int rc = take_params(&argc, argv, EVAL_USAGE, &p.booster);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    const cli_opt opts[] = {CLI_MARKET_OPTS(d),
                            MODEL_OPT_ROWS(a),
                            {"folds", CLI_STR, &folds_s, NULL},
                            {"min-train", CLI_STR, &min_train_s, NULL},
                            {"sliding", CLI_FLAG, NULL, &sliding},
                            {"json", CLI_FLAG, NULL, &json}};
    if ((rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], EVAL_USAGE, &n_pos)) !=
        CLI_CONTINUE) {
        return rc;
    }
    if (n_pos) {
        return cli_usage_error(EVAL_USAGE, "unexpected argument '%s'", argv[1]);
    }
    uint64_t k = 0;
    if ((rc = apply_model_args(EVAL_USAGE, &a, &p)) != CLI_CONTINUE ||
        (folds_s && (rc = cli_parse_u64(EVAL_USAGE, "folds", folds_s, &k)) != CLI_CONTINUE) ||
        (min_train_s &&
         (rc = parse_double(EVAL_USAGE, "min-train", min_train_s, &w.min_train)) != CLI_CONTINUE)) {
        return rc;
    }
    if (folds_s) {
        w.n_folds = k > KZ_WF_MAX_FOLDS ? 0 : (int)k;
    }
    w.sliding = sliding;
    w.embargo = p.split.embargo;
    kz_market m;
    if ((rc = cli_load_market(ctx, EVAL_USAGE, &d, &m)) != CLI_CONTINUE) {
        return rc;
    }
    progress pg = {0, 0, 0, 1};
    p.progress = on_progress;
    p.progress_ud = &pg;
    kz_wf_result *r = malloc(sizeof *r);
    kz_error err;
    kz_status s = r ? kz_walkforward(&m, &p, &w, r, &err) : KZ_ERR_NOMEM;
    fputc('\n', stderr);
    kz_market_free(&m);
    if (s != KZ_OK) {
        char buf[1024];
        cli_error("evaluate", "%s", r ? kz_error_format(&err, buf, sizeof buf) : "out of memory");
        free(r);
        return CLI_EXIT_RUNTIME;
    }
    if (json) {
        char *js = NULL;
        if (kz_wf_result_to_json(r, &js) == KZ_OK) {
            printf("%s\n", js);
        }
        kz_free(js);
    } else {
        printf("%-4s %-15s %7s %6s %8s %8s %8s %9s %9s %9s\n", "fold", "test rows", "n", "best",
               "acc", "bal.acc", "macroF1", "mlogloss", "base acc", "base ll");
        for (int i = 0; i < r->n_folds; i++) {
            const kz_wf_fold *f = &r->folds[i];
            const kz_metrics *mt = &f->metrics;
            char span[32];
            snprintf(span, sizeof span, "%zu-%zu", f->split.test_begin, f->split.test_end);
            printf("%-4d %-15s %7zu %6d %8.4f %8.4f %8.4f %9.4f %9.4f %9.4f\n", i + 1, span, mt->n,
                   f->best_round + 1, mt->accuracy, mt->balanced_accuracy, mt->macro_f1,
                   mt->mlogloss, mt->baseline_accuracy, mt->baseline_mlogloss);
        }
        printf("%-4s %-15s %7s %6s %8.4f %8.4f %8.4f %9.4f %9.4f %9.4f\n", "mean", "", "", "",
               r->mean[0], r->mean[1], r->mean[2], r->mean[3], r->mean[4], r->mean[5]);
        printf("%-4s %-15s %7s %6s %8.4f %8.4f %8.4f %9.4f %9.4f %9.4f\n", "std", "", "", "",
               r->std[0], r->std[1], r->std[2], r->std[3], r->std[4], r->std[5]);
    }
    free(r);
    return CLI_EXIT_OK;
}

int cmd_predict(cli_ctx *ctx, int argc, char **argv)
{
    cli_market_args d;
    cli_market_args_init(&d);
    const char *model_path = NULL, *last_s = NULL;
    int n_pos = 0;
    const cli_opt opts[] = {CLI_MARKET_OPTS(d),
                            {"model", CLI_STR, &model_path, NULL},
                            {"last", CLI_STR, &last_s, NULL}};
    int rc = cli_parse(ctx, argc, argv, opts, sizeof opts / sizeof opts[0], PREDICT_USAGE, &n_pos);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    uint64_t last = 0;
    if (n_pos) {
        return cli_usage_error(PREDICT_USAGE, "unexpected argument '%s'", argv[1]);
    }
    if (!model_path) {
        return cli_usage_error(PREDICT_USAGE, "--model is required");
    }
    if (last_s && (rc = cli_parse_u64(PREDICT_USAGE, "last", last_s, &last)) != CLI_CONTINUE) {
        return rc;
    }
    kz_model *model = NULL;
    kz_error err;
    char buf[1024];
    if (kz_model_load(model_path, &model, &err) != KZ_OK) {
        cli_error("predict", "%s", kz_error_format(&err, buf, sizeof buf));
        return CLI_EXIT_RUNTIME;
    }
    kz_market m;
    if ((rc = cli_load_market(ctx, PREDICT_USAGE, &d, &m)) != CLI_CONTINUE) {
        kz_model_free(model);
        return rc;
    }
    kz_frame *f = NULL, *X = NULL;
    double *prob = NULL;
    rc = CLI_EXIT_RUNTIME;
    if (kz_features_compute(&m, kz_model_feature_params(model), &f, NULL, &err) != KZ_OK ||
        kz_model_select_features(f, &m, kz_model_all_features(model), &X, &err) != KZ_OK) {
        cli_error("features", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    size_t n = kz_frame_n_rows(X);
    if (!(prob = malloc((n ? n : 1) * 3 * sizeof *prob))) {
        cli_error("predict", "out of memory");
        goto done;
    }
    if (kz_model_predict(model, X, prob, &err) != KZ_OK) {
        cli_error("predict", "%s", kz_error_format(&err, buf, sizeof buf));
        goto done;
    }
    printf("timestamp,down,range,up\n");
    const int64_t *ts = kz_frame_ts(X);
    for (size_t i = (last && last < n) ? n - (size_t)last : 0; i < n; i++) {
        printf("%lld,%.6f,%.6f,%.6f\n", (long long)ts[i], prob[3 * i], prob[3 * i + 1],
               prob[3 * i + 2]);
    }
    rc = CLI_EXIT_OK;
done:
    free(prob);
    kz_frame_free(f);
    kz_frame_free(X);
    kz_market_free(&m);
    kz_model_free(model);
    return rc;
}
