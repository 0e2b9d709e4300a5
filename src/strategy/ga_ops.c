/* Genome operators: random genomes, repair (every operator ends with it, so results are always
 * valid), gene-wise and rule-wise crossover, and mutation. Ranges of the TP/SL and sizing genes
 * follow SPEC 6.3; thresholds are drawn on each operand's scale (ga_space.c). */
#include <math.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/ga_int.h"

static const kz_cond_op OPS[4] = {KZ_OP_GT, KZ_OP_LT, KZ_OP_CROSS_ABOVE, KZ_OP_CROSS_BELOW};

static kz_grule *rule_at(kz_genome *g, int k)
{
    return k == 0 ? &g->long_entry : (k == 1 ? &g->short_entry : &g->exit);
}

static const kz_grule *crule_at(const kz_genome *g, int k)
{
    return k == 0 ? &g->long_entry : (k == 1 ? &g->short_entry : &g->exit);
}

static int rule_min(int k)
{
    return k < 2 ? 1 : 0;
}

static double uniform(kz_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * kz_rng_uniform(r);
}

static int pick(kz_rng *r, int n)
{
    return (int)kz_rng_int(r, 0, n - 1);
}

/* Round to `digits` decimals so JSON shows 62.3, not 62.29817...; exact after a round trip. */
static double round_dec(double v, int digits)
{
    double s = pow(10.0, digits);
    return round(v * s) / s;
}

/* ---------------------------------------------------------------- thresholds */
static int threshold_digits(const ga_operand *o)
{
    double range = o->hi - o->lo;
    return range > 0 ? (int)ceil(3.0 - log10(range)) : 0;
}

static double clamp_threshold(const ga_operand *o, double v)
{
    v = round_dec(v, threshold_digits(o)) + 0.0; /* + 0.0: no "-0" in the JSON */
    return v < o->lo ? o->lo : (v > o->hi ? o->hi : v);
}

static double draw_threshold(const ga_operand *o, kz_rng *r)
{
    return clamp_threshold(o, uniform(r, o->lo, o->hi));
}

/* ---------------------------------------------------------------- genes */
static void quantise_param(const ga_kind *k, int j, double *v)
{
    double lo, hi;
    kz_ga_param_range(k->info, j, &lo, &hi);
    if (k->info->params[j].type == KZ_PARAM_REAL) {
        double st = k->step[j];
        *v = round(*v / st) * st;
        if (*v < lo) {
            *v = ceil(lo / st) * st;
        }
        if (*v > hi) {
            *v = floor(hi / st) * st;
        }
    } else {
        *v = round(*v);
        *v = *v < lo ? ceil(lo) : (*v > hi ? floor(hi) : *v);
    }
}

static int params_ok(const ga_kind *k, const double *params)
{
    kz_gene g;
    memset(&g, 0, sizeof g);
    g.kind = KZ_GENE_TA;
    memcpy(g.name, k->name, sizeof g.name);
    memcpy(g.params, params, sizeof g.params);
    if (kz_ta_params_check(k->info, params, NULL) != KZ_OK) {
        return 0;
    }
    for (int o = 0; o < k->info->n_outputs; o++) {
        char buf[256];
        if (kz_ga_operand_name(&g, o, buf, sizeof buf) >= KZ_COL_NAME_MAX) {
            return 0;
        }
    }
    return 1;
}

static void draw_param(const ga_kind *k, int j, kz_rng *r, double *v)
{
    double lo, hi;
    kz_ga_param_range(k->info, j, &lo, &hi);
    if (k->info->params[j].type == KZ_PARAM_REAL) {
        *v = uniform(r, lo, hi);
    } else {
        *v = (double)kz_rng_int(r, (int64_t)ceil(lo), (int64_t)floor(hi));
    }
    quantise_param(k, j, v);
}

static void random_params(const ga_kind *k, kz_rng *r, double *params)
{
    memset(params, 0, KZ_GA_MAX_PARAMS * sizeof *params);
    for (int attempt = 0; attempt < 32; attempt++) {
        for (int j = 0; j < k->info->n_params; j++) {
            draw_param(k, j, r, &params[j]);
        }
        if (params_ok(k, params)) {
            return;
        }
    }
    kz_ta_defaults(k->info, params); /* the registry's defaults always pass its own checks */
}

static const ga_kind *find_kind(const kz_ga_space *sp, const kz_gene *g)
{
    for (size_t i = 0; i < sp->n_kinds; i++) {
        if (sp->kinds[i].kind == g->kind && strcmp(sp->kinds[i].name, g->name) == 0) {
            return &sp->kinds[i];
        }
    }
    return NULL;
}

/* Category first (TA 0.5, ML 0.3, market 0.2, renormalised over those present), then a kind
 * uniformly inside it: a uniform draw over all kinds would almost never pick the 3 ML columns
 * next to ~80 indicators (the original's 3/104). */
static void random_gene(const kz_ga_space *sp, kz_rng *r, kz_gene *g)
{
    double w[3] = {sp->n_ta ? 0.5 : 0, sp->n_ml ? 0.3 : 0, sp->n_market ? 0.2 : 0};
    double u = kz_rng_uniform(r) * (w[0] + w[1] + w[2]);
    size_t base, count;
    if (u < w[0]) {
        base = 0;
        count = sp->n_ta;
    } else if (u < w[0] + w[1]) {
        base = sp->n_ta;
        count = sp->n_ml;
    } else {
        base = sp->n_ta + sp->n_ml;
        count = sp->n_market;
    }
    const ga_kind *k = &sp->kinds[base + (size_t)kz_rng_int(r, 0, (int64_t)count - 1)];
    memset(g, 0, sizeof *g);
    g->kind = k->kind;
    memcpy(g->name, k->name, sizeof g->name);
    if (k->kind == KZ_GENE_TA) {
        random_params(k, r, g->params);
    }
}

/* ---------------------------------------------------------------- conditions */
static int usable_outputs(const kz_gene *g, int *outs)
{
    int n = 0, total = kz_ga_gene_outputs(g);
    for (int o = 0; o < total; o++) {
        ga_operand op;
        kz_ga_operand(g, o, &op);
        if (op.usable) {
            outs[n++] = o;
        }
    }
    return n;
}

static int compatible(const ga_operand *a, const ga_operand *b)
{
    if (a->price || b->price) {
        return a->price && b->price;
    }
    return a->usable && b->usable && a->scale == b->scale && a->lo == b->lo && a->hi == b->hi &&
           a->lo < a->hi;
}

/* Operands (gene, output) of g compatible with `left`, other than itself. */
static int partners(const kz_genome *g, int gene, int output, int *pg, int *po)
{
    ga_operand l;
    kz_ga_operand(&g->genes[gene], output, &l);
    int n = 0;
    for (int i = 0; i < g->n_genes; i++) {
        int total = kz_ga_gene_outputs(&g->genes[i]);
        for (int o = 0; o < total; o++) {
            ga_operand x;
            kz_ga_operand(&g->genes[i], o, &x);
            if ((i != gene || o != output) && compatible(&l, &x)) {
                pg[n] = i;
                po[n] = o;
                n++;
            }
        }
    }
    return n;
}

static void normalise_cond(kz_gcond *c)
{
    if (c->rhs != KZ_RHS_CONST) {
        c->threshold = 0;
    }
    if (c->rhs != KZ_RHS_GENE) {
        c->rhs_gene = c->rhs_output = 0;
    }
}

/* A fresh condition on gene `gene`: price overlays against close (or, 30 %, another overlay);
 * scaled operands against a threshold (or, 15 %, a compatible operand: MACD vs its signal,
 * ML_UP_PROB vs ML_DOWN_PROB). Returns 0 if the gene has no usable output. */
static int random_cond(const kz_genome *g, int gene, kz_rng *r, kz_gcond *c)
{
    int outs[KZ_TA_MAX_OUTPUTS];
    int n = usable_outputs(&g->genes[gene], outs);
    if (n == 0) {
        return 0;
    }
    memset(c, 0, sizeof *c);
    c->gene = gene;
    c->output = outs[pick(r, n)];
    c->op = OPS[pick(r, 4)];
    ga_operand l;
    kz_ga_operand(&g->genes[gene], c->output, &l);
    int pg[KZ_GA_MAX_GENES * KZ_TA_MAX_OUTPUTS], po[KZ_GA_MAX_GENES * KZ_TA_MAX_OUTPUTS];
    int np = partners(g, gene, c->output, pg, po);
    double u = kz_rng_uniform(r);
    if (np > 0 && u < (l.price ? 0.3 : 0.15)) {
        int k = pick(r, np);
        c->rhs = KZ_RHS_GENE;
        c->rhs_gene = pg[k];
        c->rhs_output = po[k];
    } else if (l.price) {
        c->rhs = KZ_RHS_CLOSE;
    } else {
        c->rhs = KZ_RHS_CONST;
        c->threshold = draw_threshold(&l, r);
    }
    normalise_cond(c);
    return 1;
}

/* Make one condition valid for its genes; 0 if it must be dropped. */
static int repair_cond(const kz_genome *g, kz_gcond *c, kz_rng *r)
{
    if (c->gene < 0 || c->gene >= g->n_genes) {
        return 0;
    }
    const kz_gene *lg = &g->genes[c->gene];
    ga_operand l;
    kz_ga_operand(lg, c->output, &l);
    if (c->output < 0 || c->output >= kz_ga_gene_outputs(lg) || !l.usable) {
        int outs[KZ_TA_MAX_OUTPUTS];
        int n = usable_outputs(lg, outs);
        if (n == 0) {
            return 0;
        }
        c->output = outs[pick(r, n)];
        kz_ga_operand(lg, c->output, &l);
    }
    if (c->op != KZ_OP_GT && c->op != KZ_OP_LT && c->op != KZ_OP_CROSS_ABOVE &&
        c->op != KZ_OP_CROSS_BELOW) {
        c->op = OPS[pick(r, 4)];
    }
    if (c->rhs == KZ_RHS_GENE) {
        int ok = c->rhs_gene >= 0 && c->rhs_gene < g->n_genes && c->rhs_output >= 0 &&
                 c->rhs_output < kz_ga_gene_outputs(&g->genes[c->rhs_gene]) &&
                 (c->rhs_gene != c->gene || c->rhs_output != c->output);
        if (ok) {
            ga_operand x;
            kz_ga_operand(&g->genes[c->rhs_gene], c->rhs_output, &x);
            ok = compatible(&l, &x);
        }
        if (!ok) {
            c->rhs = l.price ? KZ_RHS_CLOSE : KZ_RHS_CONST;
            c->threshold = l.price ? 0 : draw_threshold(&l, r);
        }
    } else if (l.price) {
        c->rhs = KZ_RHS_CLOSE;
    } else if (c->rhs != KZ_RHS_CONST || !isfinite(c->threshold)) {
        c->rhs = KZ_RHS_CONST;
        c->threshold = draw_threshold(&l, r);
    } else {
        c->threshold = clamp_threshold(&l, c->threshold);
    }
    normalise_cond(c);
    return 1;
}

/* ---------------------------------------------------------------- TP/SL and sizing genes */
static void random_tpsl(kz_rng *r, kz_tpsl *t)
{
    *t = kz_strategy_default().tpsl;
    t->method = (kz_tpsl_method)pick(r, 4);
    switch (t->method) {
    case KZ_TPSL_FIXED:
        t->sl_pct = round_dec(uniform(r, 0.01, 0.08), 4);
        t->tp_pct = round_dec(uniform(r, 0.02, 0.20), 4);
        break;
    case KZ_TPSL_RR:
        t->sl_pct = round_dec(uniform(r, 0.01, 0.08), 4);
        t->rr = round_dec(uniform(r, 1.2, 4.0), 2);
        break;
    case KZ_TPSL_ATR:
        t->atr_period = (int)kz_rng_int(r, 10, 30);
        t->atr_sl = round_dec(uniform(r, 1.0, 4.0), 2);
        t->atr_tp = round_dec(uniform(r, 1.5, 8.0), 2);
        break;
    case KZ_TPSL_NONE:
        break;
    }
}

static double scale_in(kz_rng *r, double v, double lo, double hi, int digits)
{
    v = round_dec(v * uniform(r, 0.8, 1.2), digits);
    return v < lo ? lo : (v > hi ? hi : v);
}

static void perturb_tpsl(kz_rng *r, kz_tpsl *t)
{
    switch (t->method) {
    case KZ_TPSL_FIXED:
        t->sl_pct = scale_in(r, t->sl_pct, 0.01, 0.08, 4);
        t->tp_pct = scale_in(r, t->tp_pct, 0.02, 0.20, 4);
        break;
    case KZ_TPSL_RR:
        t->sl_pct = scale_in(r, t->sl_pct, 0.01, 0.08, 4);
        t->rr = scale_in(r, t->rr, 1.2, 4.0, 2);
        break;
    case KZ_TPSL_ATR:
        t->atr_period = (int)scale_in(r, t->atr_period, 10, 30, 0);
        t->atr_sl = scale_in(r, t->atr_sl, 1.0, 4.0, 2);
        t->atr_tp = scale_in(r, t->atr_tp, 1.5, 8.0, 2);
        break;
    case KZ_TPSL_NONE:
        random_tpsl(r, t);
        break;
    }
}

static void random_sizing(kz_rng *r, kz_sizing *z)
{
    *z = kz_strategy_default().sizing;
    if (kz_rng_uniform(r) < 0.5) {
        z->method = KZ_SIZE_FRACTION;
        z->fraction = round_dec(uniform(r, 0.1, 1.0), 2);
    } else {
        z->method = KZ_SIZE_VOL_TARGET;
        z->target_vol = round_dec(uniform(r, 0.1, 1.0), 2);
        z->vol_period = (int)kz_rng_int(r, 10, 200);
    }
}

static void perturb_sizing(kz_rng *r, kz_sizing *z)
{
    if (z->method == KZ_SIZE_VOL_TARGET) {
        z->target_vol = scale_in(r, z->target_vol, 0.1, 1.0, 2);
        z->vol_period = (int)scale_in(r, z->vol_period, 10, 200, 0);
    } else {
        z->fraction = scale_in(r, z->fraction, 0.1, 1.0, 2);
    }
}

/* ---------------------------------------------------------------- repair */
static void remap_genes(kz_genome *g, const int *map)
{
    for (int k = 0; k < 3; k++) {
        kz_grule *rule = rule_at(g, k);
        for (int c = 0; c < rule->n_conds; c++) {
            rule->conds[c].gene = map[rule->conds[c].gene];
            if (rule->conds[c].rhs == KZ_RHS_GENE) {
                rule->conds[c].rhs_gene = map[rule->conds[c].rhs_gene];
            }
        }
    }
}

/* Merge duplicate genes, then drop genes no condition reads (conditions must be valid). */
static void prune(kz_genome *g)
{
    int map[KZ_GA_MAX_GENES];
    for (int i = 0; i < g->n_genes; i++) {
        map[i] = i;
        for (int j = 0; j < i; j++) {
            if (map[j] == j && g->genes[j].kind == g->genes[i].kind &&
                strcmp(g->genes[j].name, g->genes[i].name) == 0 &&
                memcmp(g->genes[j].params, g->genes[i].params, sizeof g->genes[i].params) == 0) {
                map[i] = j;
                break;
            }
        }
    }
    remap_genes(g, map);
    int used[KZ_GA_MAX_GENES] = {0};
    for (int k = 0; k < 3; k++) {
        kz_grule *rule = rule_at(g, k);
        for (int c = 0; c < rule->n_conds; c++) {
            used[rule->conds[c].gene] = 1;
            if (rule->conds[c].rhs == KZ_RHS_GENE) {
                used[rule->conds[c].rhs_gene] = 1;
            }
        }
    }
    int n = 0;
    for (int i = 0; i < g->n_genes; i++) {
        map[i] = used[i] ? n : -1;
        if (used[i]) {
            g->genes[n++] = g->genes[i];
        }
    }
    for (int i = n; i < KZ_GA_MAX_GENES; i++) {
        memset(&g->genes[i], 0, sizeof g->genes[i]);
    }
    g->n_genes = n;
    remap_genes(g, map);
}

static void add_gene_with_cond(const kz_ga_space *sp, kz_genome *g, int rule, kz_rng *r);

/* Any genome -> a valid one whose genes belong to the space. */
static void repair(const kz_ga_space *sp, kz_genome *g, kz_rng *r)
{
    if (g->n_genes < 0 || g->n_genes > sp->max_genes) {
        g->n_genes = g->n_genes < 0 ? 0 : sp->max_genes;
    }
    for (int i = 0; i < g->n_genes; i++) {
        if (!find_kind(sp, &g->genes[i])) {
            random_gene(sp, r, &g->genes[i]);
        }
    }
    for (int k = 0; k < 3; k++) {
        kz_grule *rule = rule_at(g, k);
        if (rule->n_conds < 0 || rule->n_conds > KZ_GA_MAX_CONDS) {
            rule->n_conds = rule->n_conds < 0 ? 0 : KZ_GA_MAX_CONDS;
        }
        int n = 0;
        for (int c = 0; c < rule->n_conds; c++) {
            kz_gcond cond = rule->conds[c];
            if (repair_cond(g, &cond, r)) {
                rule->conds[n++] = cond;
            }
        }
        for (int c = n; c < KZ_GA_MAX_CONDS; c++) {
            memset(&rule->conds[c], 0, sizeof rule->conds[c]);
        }
        rule->n_conds = n;
    }
    prune(g);
    for (int k = 0; k < 2; k++) {
        kz_grule *rule = rule_at(g, k);
        while (rule->n_conds < 1) {
            if (g->n_genes == 0 || (g->n_genes < sp->max_genes && kz_rng_uniform(r) < 0.5)) {
                add_gene_with_cond(sp, g, k, r);
            } else {
                kz_gcond c;
                if (random_cond(g, pick(r, g->n_genes), r, &c)) {
                    rule->conds[rule->n_conds++] = c;
                }
            }
        }
    }
}

/* Append a random gene and a condition on it to `rule` (replacing a random condition when the
 * rule is full). Needs n_genes < max_genes. */
static void add_gene_with_cond(const kz_ga_space *sp, kz_genome *g, int rule, kz_rng *r)
{
    if (g->n_genes >= sp->max_genes) {
        return;
    }
    kz_gene *ng = &g->genes[g->n_genes++];
    random_gene(sp, r, ng);
    kz_gcond c;
    if (!random_cond(g, g->n_genes - 1, r, &c)) {
        g->n_genes--; /* cannot happen: every kind has a usable output */
        return;
    }
    kz_grule *ru = rule_at(g, rule);
    if (ru->n_conds < KZ_GA_MAX_CONDS) {
        ru->conds[ru->n_conds++] = c;
    } else {
        ru->conds[pick(r, ru->n_conds)] = c;
    }
}

/* ---------------------------------------------------------------- public operators */
void kz_genome_random(const kz_ga_space *sp, kz_rng *r, kz_genome *out)
{
    memset(out, 0, sizeof *out);
    int n_genes = (int)kz_rng_int(r, 1, sp->max_genes);
    for (int i = 0; i < n_genes; i++) {
        random_gene(sp, r, &out->genes[i]);
    }
    out->n_genes = n_genes;
    int n_conds[3] = {(int)kz_rng_int(r, 1, KZ_GA_MAX_CONDS),
                      (int)kz_rng_int(r, 1, KZ_GA_MAX_CONDS), (int)kz_rng_int(r, 0, 2)};
    int next = 0; /* the first conditions visit every gene once, so none is drawn for nothing */
    for (int k = 0; k < 3; k++) {
        kz_grule *rule = rule_at(out, k);
        for (int c = 0; c < n_conds[k]; c++) {
            int gene = next < n_genes ? next++ : pick(r, n_genes);
            if (random_cond(out, gene, r, &rule->conds[rule->n_conds])) {
                rule->n_conds++;
            }
        }
    }
    random_tpsl(r, &out->tpsl);
    random_sizing(r, &out->sizing);
    repair(sp, out, r);
}

/* Bring rule `which` of b into the child with the genes it reads (equal genes are shared).
 * Returns 0 (child unchanged) if they do not fit in max_genes. */
static int import_rule(const kz_ga_space *sp, kz_genome *child, const kz_genome *b, int which)
{
    kz_genome t = *child;
    rule_at(&t, which)->n_conds = 0;
    prune(&t);
    int map[KZ_GA_MAX_GENES];
    for (int i = 0; i < KZ_GA_MAX_GENES; i++) {
        map[i] = -1;
    }
    kz_grule src = *crule_at(b, which);
    for (int c = 0; c < src.n_conds; c++) {
        int refs[2] = {src.conds[c].gene,
                       src.conds[c].rhs == KZ_RHS_GENE ? src.conds[c].rhs_gene : -1};
        for (int q = 0; q < 2; q++) {
            int bi = refs[q];
            if (bi < 0 || map[bi] >= 0) {
                continue;
            }
            for (int i = 0; i < t.n_genes && map[bi] < 0; i++) {
                if (t.genes[i].kind == b->genes[bi].kind &&
                    strcmp(t.genes[i].name, b->genes[bi].name) == 0 &&
                    memcmp(t.genes[i].params, b->genes[bi].params, sizeof t.genes[i].params) == 0) {
                    map[bi] = i;
                }
            }
            if (map[bi] < 0) {
                if (t.n_genes >= sp->max_genes) {
                    return 0;
                }
                t.genes[t.n_genes] = b->genes[bi];
                map[bi] = t.n_genes++;
            }
        }
        src.conds[c].gene = map[src.conds[c].gene];
        if (src.conds[c].rhs == KZ_RHS_GENE) {
            src.conds[c].rhs_gene = map[src.conds[c].rhs_gene];
        }
    }
    *rule_at(&t, which) = src;
    *child = t;
    return 1;
}

void kz_genome_crossover(
    const kz_ga_space *sp, const kz_genome *a, const kz_genome *b, kz_rng *r, kz_genome *child)
{
    *child = *a;
    if (kz_rng_uniform(r) < 0.5) {
        /* gene-wise: uniform crossover of the gene slots both parents have; the conditions keep
         * reading their slot and are repaired onto the new gene's outputs and scale */
        int n = a->n_genes < b->n_genes ? a->n_genes : b->n_genes;
        for (int i = 0; i < n; i++) {
            if (kz_rng_uniform(r) < 0.5) {
                child->genes[i] = b->genes[i];
            }
        }
    } else {
        /* rule-wise: each rule from either parent, with the genes it reads */
        for (int k = 0; k < 3; k++) {
            if (kz_rng_uniform(r) < 0.5) {
                (void)import_rule(sp, child, b, k);
            }
        }
    }
    if (kz_rng_uniform(r) < 0.5) {
        child->tpsl = b->tpsl;
    }
    if (kz_rng_uniform(r) < 0.5) {
        child->sizing = b->sizing;
    }
    repair(sp, child, r);
}

enum {
    MUT_PARAM,
    MUT_THRESHOLD,
    MUT_OP,
    MUT_REDRAW_COND,
    MUT_ADD_GENE,
    MUT_REMOVE_GENE,
    MUT_REPLACE_GENE,
    MUT_ADD_COND,
    MUT_REMOVE_COND,
    MUT_TPSL,
    MUT_SIZING,
    MUT_COUNT
};

/* A random condition: its rule index and position; 0 if the genome has none. */
static kz_gcond *random_cond_ref(kz_genome *g, kz_rng *r)
{
    int total = g->long_entry.n_conds + g->short_entry.n_conds + g->exit.n_conds;
    if (total == 0) {
        return NULL;
    }
    int k = pick(r, total);
    for (int q = 0; q < 3; q++) {
        kz_grule *rule = rule_at(g, q);
        if (k < rule->n_conds) {
            return &rule->conds[k];
        }
        k -= rule->n_conds;
    }
    return NULL;
}

static void perturb_param(const kz_ga_space *sp, kz_genome *g, kz_rng *r)
{
    int i = pick(r, g->n_genes);
    const ga_kind *k = find_kind(sp, &g->genes[i]);
    if (!k || k->kind != KZ_GENE_TA || k->info->n_params == 0) {
        return;
    }
    int j = pick(r, k->info->n_params);
    double lo, hi, params[KZ_GA_MAX_PARAMS];
    memcpy(params, g->genes[i].params, sizeof params);
    kz_ga_param_range(k->info, j, &lo, &hi);
    const kz_ta_param *p = &k->info->params[j];
    if (p->type == KZ_PARAM_MATYPE) {
        draw_param(k, j, r, &params[j]);
    } else {
        /* Gaussian step of a tenth of the range, at least one unit for integers */
        double sd = 0.1 * (hi - lo);
        double step = kz_rng_normal(r) * sd;
        if (p->type == KZ_PARAM_INT && fabs(step) < 1) {
            step = step < 0 ? -1 : 1;
        }
        params[j] += step;
        quantise_param(k, j, &params[j]);
    }
    if (params_ok(k, params)) {
        memcpy(g->genes[i].params, params, sizeof params);
    }
}

static void mutate_once(const kz_ga_space *sp, kz_genome *g, int op, kz_rng *r)
{
    kz_gcond *c;
    switch (op) {
    case MUT_PARAM:
        perturb_param(sp, g, r);
        break;
    case MUT_THRESHOLD:
        if ((c = random_cond_ref(g, r)) && c->rhs == KZ_RHS_CONST) {
            ga_operand l;
            kz_ga_operand(&g->genes[c->gene], c->output, &l);
            c->threshold =
                clamp_threshold(&l, c->threshold + 0.1 * (l.hi - l.lo) * kz_rng_normal(r));
        }
        break;
    case MUT_OP:
        if ((c = random_cond_ref(g, r))) {
            c->op = OPS[pick(r, 4)];
        }
        break;
    case MUT_REDRAW_COND:
        if ((c = random_cond_ref(g, r))) {
            (void)random_cond(g, c->gene, r, c);
        }
        break;
    case MUT_ADD_GENE:
        add_gene_with_cond(sp, g, pick(r, 3), r);
        break;
    case MUT_REMOVE_GENE:
        if (g->n_genes > 1) {
            int i = pick(r, g->n_genes);
            for (int k = 0; k < 3; k++) {
                kz_grule *rule = rule_at(g, k);
                for (int q = 0; q < rule->n_conds; q++) {
                    if (rule->conds[q].gene == i ||
                        (rule->conds[q].rhs == KZ_RHS_GENE && rule->conds[q].rhs_gene == i)) {
                        rule->conds[q].gene = -1; /* repair drops it */
                    }
                }
            }
        }
        break;
    case MUT_REPLACE_GENE: {
        int i = pick(r, g->n_genes);
        random_gene(sp, r, &g->genes[i]);
        for (int k = 0; k < 3; k++) {
            kz_grule *rule = rule_at(g, k);
            for (int q = 0; q < rule->n_conds; q++) {
                if (rule->conds[q].gene == i) {
                    (void)random_cond(g, i, r, &rule->conds[q]);
                }
            }
        }
        break;
    }
    case MUT_ADD_COND: {
        int k = pick(r, 3);
        kz_grule *rule = rule_at(g, k);
        kz_gcond nc;
        if (rule->n_conds < KZ_GA_MAX_CONDS && random_cond(g, pick(r, g->n_genes), r, &nc)) {
            rule->conds[rule->n_conds++] = nc;
        }
        break;
    }
    case MUT_REMOVE_COND: {
        int k = pick(r, 3);
        kz_grule *rule = rule_at(g, k);
        if (rule->n_conds > rule_min(k)) {
            int q = pick(r, rule->n_conds);
            memmove(&rule->conds[q], &rule->conds[q + 1],
                    (size_t)(rule->n_conds - q - 1) * sizeof rule->conds[0]);
            rule->n_conds--;
            memset(&rule->conds[rule->n_conds], 0, sizeof rule->conds[0]);
        }
        break;
    }
    case MUT_TPSL:
        if (kz_rng_uniform(r) < 0.5) {
            random_tpsl(r, &g->tpsl);
        } else {
            perturb_tpsl(r, &g->tpsl);
        }
        break;
    case MUT_SIZING:
        if (kz_rng_uniform(r) < 0.5) {
            random_sizing(r, &g->sizing);
        } else {
            perturb_sizing(r, &g->sizing);
        }
        break;
    default:
        break;
    }
    repair(sp, g, r);
}

int kz_genome_mutate(const kz_ga_space *sp, kz_genome *g, double rate, int force, kz_rng *r)
{
    kz_genome before = *g;
    for (int op = 0; op < MUT_COUNT; op++) {
        if (kz_rng_uniform(r) < rate) {
            mutate_once(sp, g, op, r);
        }
    }
    /* some changes can be no-ops (a parameter at its bound, a full rule): try a few others */
    for (int attempt = 0; force && attempt < 32 && kz_genome_equal(g, &before); attempt++) {
        mutate_once(sp, g, pick(r, MUT_COUNT), r);
    }
    return !kz_genome_equal(g, &before);
}
