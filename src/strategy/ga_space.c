/* The strategy search's gene space: which registry indicators, ML columns and market columns a
 * genome may use, each operand's scale and threshold range, and canonical operand names. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kizashi/core.h"

#include "strategy/ga_int.h"
#include "strategy/strategy_int.h"

_Static_assert(KZ_GA_MAX_PARAMS == KZ_TA_MAX_PARAMS, "genome parameter slots");
_Static_assert(KZ_GA_MAX_CONDS <= KZ_RULE_MAX_CONDS, "genome rule size");

static const char *const ML_COLUMNS[] = {"ML_UP_PROB", "ML_DOWN_PROB", "ML_RANGE_PROB"};
static const char *const MARKET_COLUMNS[] = {"funding", "OI_CHANGE"};

/* Threshold ranges the registry's scale alone does not give: unbounded or "other" outputs
 * whose typical span is known (CCI by Lambert's 0.015 constant lives mostly in +-200; ROC in
 * percent, ROCP as a fraction, ...). Unbounded outputs not listed are in price units, so only
 * their zero line is meaningful (MACD, APO, MOM, slopes); "other" outputs not listed are levels
 * in price or volume units and are not drawn. */
static const struct {
    const char *name;
    double lo, hi;
} RANGES[] = {
    {"CCI", -250, 250},   {"BOP", -1, 1},           {"ROC", -5, 5},         {"ROCP", -0.05, 0.05},
    {"PPO", -3, 3},       {"TRIX", -0.3, 0.3},      {"HT_SINE", -1, 1},     {"ROCR", 0.95, 1.05},
    {"ROCR100", 95, 105}, {"DIV", 1, 1.05},         {"WILLR", -100, 0},     {"CORREL", -1, 1},
    {"NATR", 0, 3},       {"HT_DCPHASE", -45, 315}, {"HT_TRENDMODE", 0, 1}, {"HT_DCPERIOD", 10, 45},
};

int kz_ga_gene_outputs(const kz_gene *g)
{
    if (g->kind != KZ_GENE_TA) {
        return 1;
    }
    const kz_ta_info *info = kz_ta_find(g->name);
    return info ? info->n_outputs : 0;
}

static int table_range(const char *name, double *lo, double *hi)
{
    for (size_t k = 0; k < sizeof RANGES / sizeof RANGES[0]; k++) {
        if (strcasecmp(RANGES[k].name, name) == 0) {
            *lo = RANGES[k].lo;
            *hi = RANGES[k].hi;
            return 1;
        }
    }
    return 0;
}

void kz_ga_operand(const kz_gene *g, int output, ga_operand *o)
{
    memset(o, 0, sizeof *o);
    if (g->kind == KZ_GENE_ML) {
        *o = (ga_operand){1, 0, GA_SCALE_PROB, 0.0, 1.0};
        return;
    }
    if (g->kind == KZ_GENE_MARKET) {
        if (strcmp(g->name, "funding") == 0) {
            /* 8-hourly rates: 1e-4 is the usual level, spikes reach a few 1e-4 */
            *o = (ga_operand){1, 0, GA_SCALE_FUNDING, -0.0005, 0.0005};
        } else {
            *o = (ga_operand){1, 0, GA_SCALE_OI_CHANGE, -0.02, 0.02};
        }
        return;
    }
    const kz_ta_info *info = kz_ta_find(g->name);
    if (!info || output < 0 || output >= info->n_outputs) {
        return;
    }
    kz_ta_scale sc = info->scales[output];
    o->scale = (int)sc;
    o->usable = 1;
    double lo = 0, hi = 0;
    int listed = table_range(info->name, &lo, &hi);
    switch (sc) {
    case KZ_SCALE_PRICE:
        o->price = 1;
        return;
    case KZ_SCALE_0_100:
        lo = 0;
        hi = 100;
        break;
    case KZ_SCALE_PM100:
        if (!listed) {
            lo = -100;
            hi = 100;
        }
        break;
    case KZ_SCALE_PATTERN:
        lo = -100;
        hi = 100;
        break;
    case KZ_SCALE_UNBOUNDED:
        if (!listed) {
            lo = hi = 0; /* price units: the zero line */
        }
        break;
    case KZ_SCALE_RATIO:
    case KZ_SCALE_OTHER:
        o->usable = listed;
        break;
    case KZ_SCALE_VOLUME:
    default:
        o->usable = 0;
        break;
    }
    o->lo = lo;
    o->hi = hi;
}

size_t kz_ga_operand_name(const kz_gene *g, int output, char *buf, size_t size)
{
    if (g->kind != KZ_GENE_TA) {
        return (size_t)snprintf(buf, size, "%s", g->name);
    }
    const kz_ta_info *info = kz_ta_find(g->name);
    if (!info) {
        return (size_t)snprintf(buf, size, "%s", g->name);
    }
    /* the same form as the column set's canon_ta: NAME(p1=v1,...)[.output], %.17g values */
    char tmp[256];
    size_t used = (size_t)snprintf(tmp, sizeof tmp, "%s(", info->name);
    for (int k = 0; k < info->n_params && used < sizeof tmp; k++) {
        used += (size_t)snprintf(tmp + used, sizeof tmp - used, "%s%s=%.17g", k ? "," : "",
                                 info->params[k].name, g->params[k]);
    }
    if (used < sizeof tmp) {
        used += (size_t)snprintf(tmp + used, sizeof tmp - used, ")");
    }
    if (info->n_outputs > 1 && used < sizeof tmp && output >= 0 && output < info->n_outputs) {
        used += (size_t)snprintf(tmp + used, sizeof tmp - used, ".%s", info->outputs[output]);
    }
    snprintf(buf, size, "%s", tmp);
    return used;
}

void kz_ga_param_range(const kz_ta_info *info, int k, double *lo, double *hi)
{
    const kz_ta_param *p = &info->params[k];
    *lo = p->search_min;
    *hi = p->search_max;
    if (*lo == 0 && *hi == 0) {
        *lo = p->min;
        *hi = p->max;
    }
    if (*lo < p->min) {
        *lo = p->min;
    }
    if (*hi > p->max) {
        *hi = p->max;
    }
}

/* Power-of-two grid of about 64 steps over a REAL parameter's range: m * 2^-k prints exactly in
 * at most k decimals, so column specs stay short and exact. */
static double real_step(double lo, double hi)
{
    double range = hi - lo;
    if (!(range > 0) || !isfinite(range)) {
        return 1.0;
    }
    int k = (int)ceil(log2(64.0 / range));
    k = k < 0 ? 0 : (k > 20 ? 20 : k);
    return ldexp(1.0, -k);
}

/* The longest operand name a kind can produce, to keep every spec under KZ_COL_NAME_MAX. */
static size_t longest_name(const ga_kind *k)
{
    kz_gene g;
    memset(&g, 0, sizeof g);
    g.kind = KZ_GENE_TA;
    snprintf(g.name, sizeof g.name, "%s", k->info->name);
    for (int j = 0; j < k->info->n_params; j++) {
        double lo, hi;
        kz_ga_param_range(k->info, j, &lo, &hi);
        g.params[j] = k->info->params[j].type == KZ_PARAM_REAL ? floor(hi) + k->step[j] : hi;
        if (k->info->params[j].type == KZ_PARAM_REAL && lo < 0) {
            g.params[j] = -g.params[j];
        }
    }
    size_t worst = 0;
    for (int o = 0; o < k->info->n_outputs; o++) {
        char buf[256];
        size_t len = kz_ga_operand_name(&g, o, buf, sizeof buf);
        worst = len > worst ? len : worst;
    }
    return worst;
}

static int has_usable_output(const ga_kind *k)
{
    kz_gene g;
    memset(&g, 0, sizeof g);
    g.kind = k->kind;
    snprintf(g.name, sizeof g.name, "%s", k->name);
    int n = kz_ga_gene_outputs(&g);
    for (int o = 0; o < n; o++) {
        ga_operand op;
        kz_ga_operand(&g, o, &op);
        if (op.usable) {
            return 1;
        }
    }
    return 0;
}

kz_status kz_ga_space_new(
    const kz_colset *cs, kz_ga_mode mode, int max_genes, kz_ga_space **out, kz_error *err)
{
    if (!out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "out", "NULL output");
    }
    *out = NULL;
    if (!cs || (unsigned)mode > KZ_GA_MIXED || max_genes < 1 || max_genes > KZ_GA_MAX_GENES) {
        return kz_bt_err(err, KZ_ERR_INVALID, cs ? "mode" : "colset",
                         "a column set, a known mode and 1..%d genes are required",
                         KZ_GA_MAX_GENES);
    }
    size_t cap = kz_ta_count() + 8;
    kz_ga_space *sp = kz_calloc(1, sizeof *sp);
    ga_kind *kinds = kz_calloc(cap, sizeof *kinds);
    if (!sp || !kinds) {
        kz_free(sp);
        kz_free(kinds);
        return kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
    }
    sp->mode = mode;
    sp->max_genes = max_genes;
    sp->kinds = kinds;
    size_t n = 0;
    if (mode != KZ_GA_ML) {
        for (size_t i = 0; i < kz_ta_count(); i++) {
            const kz_ta_info *info = kz_ta_at(i);
            ga_kind *k = &kinds[n];
            memset(k, 0, sizeof *k);
            k->kind = KZ_GENE_TA;
            k->info = info;
            if (strlen(info->name) >= sizeof k->name) {
                continue;
            }
            snprintf(k->name, sizeof k->name, "%s", info->name);
            for (int j = 0; j < info->n_params; j++) {
                double lo, hi;
                kz_ga_param_range(info, j, &lo, &hi);
                k->step[j] = info->params[j].type == KZ_PARAM_REAL ? real_step(lo, hi) : 1.0;
            }
            if (has_usable_output(k) && longest_name(k) < KZ_COL_NAME_MAX) {
                n++;
            }
        }
    }
    sp->n_ta = n;
    if (mode != KZ_GA_TECHNICAL) {
        for (size_t i = 0; i < sizeof ML_COLUMNS / sizeof ML_COLUMNS[0]; i++) {
            if (kz_colset_find(cs, ML_COLUMNS[i]) < 0) {
                kz_ga_space_free(sp);
                return kz_bt_err(err, KZ_ERR_NOT_FOUND, ML_COLUMNS[i],
                                 "mode %s needs the ML columns (ML_UP_PROB, ML_DOWN_PROB, "
                                 "ML_RANGE_PROB) in the column set: kz_colset_add them",
                                 kz_ga_mode_str(mode));
            }
            kinds[n].kind = KZ_GENE_ML;
            snprintf(kinds[n].name, sizeof kinds[n].name, "%s", ML_COLUMNS[i]);
            n++;
        }
    }
    sp->n_ml = n - sp->n_ta;
    if (mode != KZ_GA_ML) {
        for (size_t i = 0; i < sizeof MARKET_COLUMNS / sizeof MARKET_COLUMNS[0]; i++) {
            if (kz_colset_find(cs, MARKET_COLUMNS[i]) >= 0) {
                kinds[n].kind = KZ_GENE_MARKET;
                snprintf(kinds[n].name, sizeof kinds[n].name, "%s", MARKET_COLUMNS[i]);
                n++;
            }
        }
    }
    sp->n_market = n - sp->n_ta - sp->n_ml;
    sp->n_kinds = n;
    *out = sp;
    return KZ_OK;
}

void kz_ga_space_free(kz_ga_space *sp)
{
    if (sp) {
        kz_free(sp->kinds);
        kz_free(sp);
    }
}

size_t kz_ga_space_count(const kz_ga_space *sp)
{
    return sp ? sp->n_kinds : 0;
}

kz_status kz_ga_mode_parse(const char *s, kz_ga_mode *out)
{
    static const char *const names[] = {"technical", "ml", "mixed"};
    for (int k = 0; s && k < 3; k++) {
        if (strcasecmp(s, names[k]) == 0) {
            *out = (kz_ga_mode)k;
            return KZ_OK;
        }
    }
    return KZ_ERR_INVALID;
}

const char *kz_ga_mode_str(kz_ga_mode m)
{
    switch (m) {
    case KZ_GA_TECHNICAL:
        return "technical";
    case KZ_GA_ML:
        return "ml";
    case KZ_GA_MIXED:
        return "mixed";
    }
    return "?";
}
