/* Genomes as data: structural check, deterministic decoding to a kz_strategy (canonical column
 * specs, so `kizashi backtest` replays exactly what was evaluated), equality and distance. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/ga_int.h"
#include "strategy/strategy_int.h"

static const char *const RULE_FIELDS[3] = {"long_entry", "short_entry", "exit"};

static const kz_grule *grule_at(const kz_genome *g, int k)
{
    return k == 0 ? &g->long_entry : (k == 1 ? &g->short_entry : &g->exit);
}

static int op_allowed(kz_cond_op op)
{
    return op == KZ_OP_GT || op == KZ_OP_LT || op == KZ_OP_CROSS_ABOVE || op == KZ_OP_CROSS_BELOW;
}

static kz_status check_gene(const kz_gene *g, int i, kz_error *err)
{
    char field[64];
    snprintf(field, sizeof field, "genes[%d]", i);
    if (!memchr(g->name, '\0', sizeof g->name) || !g->name[0]) {
        return kz_bt_err(err, KZ_ERR_INVALID, field, "empty or unterminated name");
    }
    if ((unsigned)g->kind > KZ_GENE_MARKET) {
        return kz_bt_err(err, KZ_ERR_INVALID, field, "unknown gene kind");
    }
    int n_params = 0;
    if (g->kind == KZ_GENE_TA) {
        const kz_ta_info *info = kz_ta_find(g->name);
        if (!info) {
            return kz_bt_err(err, KZ_ERR_INVALID, field, "unknown indicator '%s'", g->name);
        }
        kz_error perr;
        if (kz_ta_params_check(info, g->params, &perr) != KZ_OK) {
            snprintf(field, sizeof field, "genes[%d].params", i);
            return kz_bt_err(err, KZ_ERR_INVALID, field, "%s: %s", perr.field, perr.msg);
        }
        n_params = info->n_params;
        for (int o = 0; o < info->n_outputs; o++) {
            char buf[256];
            if (kz_ga_operand_name(g, o, buf, sizeof buf) >= KZ_COL_NAME_MAX) {
                return kz_bt_err(err, KZ_ERR_INVALID, field, "column spec too long");
            }
        }
    }
    for (int k = n_params; k < KZ_GA_MAX_PARAMS; k++) {
        if (g->params[k] != 0) {
            snprintf(field, sizeof field, "genes[%d].params", i);
            return kz_bt_err(err, KZ_ERR_INVALID, field, "unused parameter slots must be 0");
        }
    }
    return KZ_OK;
}

static kz_status
check_cond(const kz_genome *g, const kz_gcond *c, const char *field, int *used, kz_error *err)
{
    if (c->gene < 0 || c->gene >= g->n_genes || c->output < 0 ||
        c->output >= kz_ga_gene_outputs(&g->genes[c->gene])) {
        return kz_bt_err(err, KZ_ERR_INVALID, field, "left operand out of range");
    }
    used[c->gene] = 1;
    if (!op_allowed(c->op)) {
        return kz_bt_err(err, KZ_ERR_INVALID, field,
                         "operator must be > < crosses_above "
                         "crosses_below");
    }
    switch (c->rhs) {
    case KZ_RHS_CONST:
        if (!isfinite(c->threshold)) {
            return kz_bt_err(err, KZ_ERR_INVALID, field, "threshold must be finite");
        }
        break;
    case KZ_RHS_CLOSE:
        break;
    case KZ_RHS_GENE:
        if (c->rhs_gene < 0 || c->rhs_gene >= g->n_genes || c->rhs_output < 0 ||
            c->rhs_output >= kz_ga_gene_outputs(&g->genes[c->rhs_gene])) {
            return kz_bt_err(err, KZ_ERR_INVALID, field, "right operand out of range");
        }
        used[c->rhs_gene] = 1;
        break;
    default:
        return kz_bt_err(err, KZ_ERR_INVALID, field, "unknown right-hand side kind");
    }
    return KZ_OK;
}

kz_status kz_genome_check(const kz_genome *g, kz_error *err)
{
    if (!g) {
        return kz_bt_err(err, KZ_ERR_INVALID, "genome", "NULL genome");
    }
    if (g->n_genes < 1 || g->n_genes > KZ_GA_MAX_GENES) {
        return kz_bt_err(err, KZ_ERR_INVALID, "n_genes", "must be in 1..%d", KZ_GA_MAX_GENES);
    }
    kz_status st;
    for (int i = 0; i < g->n_genes; i++) {
        if ((st = check_gene(&g->genes[i], i, err)) != KZ_OK) {
            return st;
        }
    }
    int used[KZ_GA_MAX_GENES] = {0};
    for (int r = 0; r < 3; r++) {
        const kz_grule *rule = grule_at(g, r);
        int lo = r < 2 ? 1 : 0;
        if (rule->n_conds < lo || rule->n_conds > KZ_GA_MAX_CONDS) {
            return kz_bt_err(err, KZ_ERR_INVALID, RULE_FIELDS[r], "must have %d..%d conditions", lo,
                             KZ_GA_MAX_CONDS);
        }
        for (int k = 0; k < rule->n_conds; k++) {
            char field[64];
            snprintf(field, sizeof field, "%s[%d]", RULE_FIELDS[r], k);
            if ((st = check_cond(g, &rule->conds[k], field, used, err)) != KZ_OK) {
                return st;
            }
        }
    }
    for (int i = 0; i < g->n_genes; i++) {
        if (!used[i]) {
            char field[64];
            snprintf(field, sizeof field, "genes[%d]", i);
            return kz_bt_err(err, KZ_ERR_INVALID, field, "gene not used by any condition");
        }
    }
    return KZ_OK;
}

static kz_cond_op mirror(kz_cond_op op)
{
    switch (op) {
    case KZ_OP_GT:
        return KZ_OP_LT;
    case KZ_OP_LT:
        return KZ_OP_GT;
    case KZ_OP_CROSS_ABOVE:
        return KZ_OP_CROSS_BELOW;
    case KZ_OP_CROSS_BELOW:
        return KZ_OP_CROSS_ABOVE;
    default:
        return op;
    }
}

static void decode_cond(const kz_genome *g, const kz_gcond *c, kz_condition *out)
{
    memset(out, 0, sizeof *out);
    char lhs[KZ_COL_NAME_MAX];
    kz_ga_operand_name(&g->genes[c->gene], c->output, lhs, sizeof lhs);
    if (c->rhs == KZ_RHS_CLOSE) {
        /* "X < close" reads better as "close > X"; the two are the same condition (crosses
         * too: X crosses_above close <=> close crosses_below X, docs/backtest.md) */
        snprintf(out->left, sizeof out->left, "close");
        out->op = mirror(c->op);
        snprintf(out->right, sizeof out->right, "%s", lhs);
        return;
    }
    snprintf(out->left, sizeof out->left, "%s", lhs);
    out->op = c->op;
    if (c->rhs == KZ_RHS_CONST) {
        out->right_is_const = 1;
        out->right_value = c->threshold;
    } else {
        kz_ga_operand_name(&g->genes[c->rhs_gene], c->rhs_output, out->right, sizeof out->right);
    }
}

kz_status kz_genome_decode(const kz_genome *g, const char *name, kz_strategy *out, kz_error *err)
{
    if (!out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "out", "NULL output");
    }
    *out = kz_strategy_default();
    kz_status st = kz_genome_check(g, err);
    if (st != KZ_OK) {
        return st;
    }
    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    kz_rule *rules[3] = {&out->long_entry, &out->short_entry, &out->exit};
    for (int r = 0; r < 3; r++) {
        const kz_grule *gr = grule_at(g, r);
        rules[r]->logic = KZ_LOGIC_AND;
        rules[r]->n_conds = gr->n_conds;
        for (int k = 0; k < gr->n_conds; k++) {
            decode_cond(g, &gr->conds[k], &rules[r]->conds[k]);
        }
    }
    out->tpsl = g->tpsl;
    out->sizing = g->sizing;
    out->leverage = 1.0;
    return kz_strategy_check(out, err);
}

static int gene_equal(const kz_gene *a, const kz_gene *b)
{
    return a->kind == b->kind && strcmp(a->name, b->name) == 0 &&
           memcmp(a->params, b->params, sizeof a->params) == 0;
}

static int cond_equal(const kz_gcond *a, const kz_gcond *b)
{
    return a->gene == b->gene && a->output == b->output && a->op == b->op && a->rhs == b->rhs &&
           a->rhs_gene == b->rhs_gene && a->rhs_output == b->rhs_output &&
           a->threshold == b->threshold;
}

int kz_genome_equal(const kz_genome *a, const kz_genome *b)
{
    if (a->n_genes != b->n_genes) {
        return 0;
    }
    for (int i = 0; i < a->n_genes; i++) {
        if (!gene_equal(&a->genes[i], &b->genes[i])) {
            return 0;
        }
    }
    for (int r = 0; r < 3; r++) {
        const kz_grule *x = grule_at(a, r), *y = grule_at(b, r);
        if (x->n_conds != y->n_conds) {
            return 0;
        }
        for (int k = 0; k < x->n_conds; k++) {
            if (!cond_equal(&x->conds[k], &y->conds[k])) {
                return 0;
            }
        }
    }
    const kz_tpsl *t = &a->tpsl, *u = &b->tpsl;
    const kz_sizing *s = &a->sizing, *z = &b->sizing;
    return t->method == u->method && t->sl_pct == u->sl_pct && t->tp_pct == u->tp_pct &&
           t->rr == u->rr && t->atr_period == u->atr_period && t->atr_sl == u->atr_sl &&
           t->atr_tp == u->atr_tp && s->method == z->method && s->fraction == z->fraction &&
           s->target_vol == z->target_vol && s->vol_period == z->vol_period && s->qty == z->qty;
}

/* A condition's signature for the distance: which indicator kinds it compares and how, not the
 * exact parameters or threshold (those are what local search tunes within a niche). */
typedef struct sig {
    int rule, output, rhs, rhs_output;
    kz_cond_op op;
    const char *lhs, *rhs_name;
} sig;

static size_t signatures(const kz_genome *g, sig *out)
{
    size_t n = 0;
    for (int r = 0; r < 3; r++) {
        const kz_grule *gr = grule_at(g, r);
        for (int k = 0; k < gr->n_conds; k++) {
            const kz_gcond *c = &gr->conds[k];
            sig *s = &out[n++];
            s->rule = r;
            s->output = c->output;
            s->op = c->op;
            s->rhs = (int)c->rhs;
            s->lhs = g->genes[c->gene].name;
            s->rhs_name = c->rhs == KZ_RHS_GENE ? g->genes[c->rhs_gene].name : "";
            s->rhs_output = c->rhs == KZ_RHS_GENE ? c->rhs_output : 0;
        }
    }
    return n;
}

static int sig_equal(const sig *a, const sig *b)
{
    return a->rule == b->rule && a->output == b->output && a->op == b->op && a->rhs == b->rhs &&
           a->rhs_output == b->rhs_output && strcmp(a->lhs, b->lhs) == 0 &&
           strcmp(a->rhs_name, b->rhs_name) == 0;
}

/* 1 - |A n B| / |A u B| over sets given as arrays (duplicates inside one array count once). */
static double jaccard_distance(size_t na,
                               size_t nb,
                               const void *a,
                               const void *b,
                               size_t size,
                               int (*eq)(const void *, const void *))
{
    size_t uniq_a = 0, inter = 0, uniq_b = 0;
    const char *pa = a, *pb = b;
    for (size_t i = 0; i < na; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++) {
            dup = eq(pa + i * size, pa + j * size);
        }
        if (dup) {
            continue;
        }
        uniq_a++;
        for (size_t j = 0; j < nb; j++) {
            if (eq(pa + i * size, pb + j * size)) {
                inter++;
                break;
            }
        }
    }
    for (size_t i = 0; i < nb; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++) {
            dup = eq(pb + i * size, pb + j * size);
        }
        uniq_b += !dup;
    }
    size_t uni = uniq_a + uniq_b - inter;
    return uni ? 1.0 - (double)inter / (double)uni : 0.0;
}

static int gene_eq_v(const void *a, const void *b)
{
    return gene_equal(a, b);
}

static int sig_eq_v(const void *a, const void *b)
{
    return sig_equal(a, b);
}

double kz_genome_distance(const kz_genome *a, const kz_genome *b)
{
    sig sa[3 * KZ_GA_MAX_CONDS], sb[3 * KZ_GA_MAX_CONDS];
    size_t na = signatures(a, sa), nb = signatures(b, sb);
    double dg = jaccard_distance((size_t)a->n_genes, (size_t)b->n_genes, a->genes, b->genes,
                                 sizeof(kz_gene), gene_eq_v);
    double dc = jaccard_distance(na, nb, sa, sb, sizeof(sig), sig_eq_v);
    return 0.4 * dg + 0.4 * dc + 0.1 * (a->tpsl.method != b->tpsl.method) +
           0.1 * (a->sizing.method != b->sizing.method);
}
