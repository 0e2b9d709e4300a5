/* The strategy search: a generational GA (or NSGA-II) over genomes, evaluated on the in-sample
 * window, with the top-K re-run out of sample and deflated for the number of trials.
 *
 * DESIGN. Data flow per generation: variation (single thread; every random draw from
 * kz_rng_seed3(seed, generation, individual)) -> decode -> kz_colset_prepare on the private
 * full-length cache `work` (single thread: it mutates the set) -> new columns mirrored as views
 * into the IS window set -> kz_backtest of each new individual on kz_parallel_for threads (read
 * only; each writes its own slot) -> fitness, statistics, hall of fame in index order. Nothing
 * depends on which thread ran what, so any thread count gives the same bits.
 * Invariants: `work` holds the market columns, the caller's columns (borrowed) and computed
 * indicator columns; when those exceed max_columns at a generation boundary the cache is rebuilt
 * empty (the views with it) and refilled with the current population's columns only. Columns are
 * computed on all bars, which is causal (no value depends on a later bar), and the IS/OOS sets
 * borrow windows of them, so the OOS backtest starts with warmed-up indicators. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/ga_int.h"
#include "strategy/strategy_int.h"

kz_ga_params kz_ga_params_default(void)
{
    kz_ga_params p;
    memset(&p, 0, sizeof p);
    p.mode = KZ_GA_MIXED;
    p.population = 100;
    p.generations = 50;
    p.crossover_rate = 0.8;
    p.mutation_rate = 0.1;
    p.elite = 10;
    p.tournament = 3;
    p.max_genes = KZ_GA_MAX_GENES;
    p.sharing = 0;
    p.sharing_radius = 0.25;
    /* SPEC 6.1 dataclass weights without balance_score (0.1), which we do not compute: the
     * remaining 0.9 are renormalised by kz_ga_fitness */
    p.w_sharpe = 0.35;
    p.w_return = 0.25;
    p.w_drawdown = 0.2;
    p.w_win_rate = 0.1;
    p.min_trades = 10;
    p.max_drawdown = 0.3;
    p.penalty = 2.0;
    p.oos_fraction = 0.3;
    p.gap_bars = -1;
    p.top_k = 5;
    p.bt = kz_bt_params_default();
    p.seed = 42;
    return p;
}

kz_status kz_ga_params_preset(kz_ga_params *p, const char *name)
{
    if (!p || !name) {
        return KZ_ERR_INVALID;
    }
    if (strcmp(name, "fast") == 0) {
        p->population = 10;
        p->generations = 5;
        p->elite = 2;
        p->max_genes = 3;
    } else if (strcmp(name, "default") == 0) {
        p->population = 100;
        p->generations = 50;
        p->crossover_rate = 0.8;
        p->mutation_rate = 0.1;
        p->elite = 10;
        p->max_genes = 5;
    } else if (strcmp(name, "thorough") == 0) {
        p->population = 200;
        p->generations = 100;
        p->crossover_rate = 0.85;
        p->mutation_rate = 0.05;
        p->elite = 20;
        p->max_genes = 5;
    } else {
        return KZ_ERR_INVALID;
    }
    return KZ_OK;
}

static int rate_ok(double x)
{
    return x >= 0 && x <= 1;
}

kz_status kz_ga_params_check(const kz_ga_params *p, kz_error *err)
{
    if (!p) {
        return kz_bt_err(err, KZ_ERR_INVALID, "params", "NULL params");
    }
    struct {
        int bad;
        const char *field, *why;
    } rules[] = {
        {(unsigned)p->mode > KZ_GA_MIXED, "mode", "unknown mode"},
        {p->population < 2 || p->population > 100000, "population", "must be in 2..100000"},
        {p->generations < 0 || p->generations > 100000, "generations", "must be in 0..100000"},
        {!rate_ok(p->crossover_rate), "crossover_rate", "must be in [0, 1]"},
        {!rate_ok(p->mutation_rate), "mutation_rate", "must be in [0, 1]"},
        {p->elite < 0 || p->elite >= p->population, "elite", "must be in 0..population-1"},
        {p->tournament < 1 || p->tournament > p->population, "tournament",
         "must be in 1..population"},
        {p->max_genes < 1 || p->max_genes > KZ_GA_MAX_GENES, "max_genes", "must be in 1..5"},
        {!(p->sharing_radius > 0 && p->sharing_radius <= 1), "sharing_radius", "must be in (0, 1]"},
        {!(p->w_sharpe >= 0 && p->w_return >= 0 && p->w_drawdown >= 0 && p->w_win_rate >= 0) ||
             !(p->w_sharpe + p->w_return + p->w_drawdown + p->w_win_rate > 0),
         "weights", "must be >= 0 with a positive sum"},
        {p->min_trades < 0, "min_trades", "must be >= 0"},
        {!(p->max_drawdown >= 0 && p->max_drawdown <= 1), "max_drawdown", "must be in [0, 1]"},
        {!(p->penalty >= 0 && isfinite(p->penalty)), "penalty", "must be >= 0"},
        {!(p->oos_fraction >= 0 && p->oos_fraction <= 0.9), "oos_fraction", "must be in [0, 0.9]"},
        {p->gap_bars < -1, "gap_bars", "must be >= 0 (or -1 for n/100)"},
        {p->top_k < 1 || p->top_k > 1000, "top_k", "must be in 1..1000"},
        {p->threads < 0, "threads", "must be >= 0"},
    };
    for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
        if (rules[k].bad) {
            return kz_bt_err(err, KZ_ERR_INVALID, rules[k].field, "%s", rules[k].why);
        }
    }
    kz_bt_params bt = p->bt;
    return kz_bt_params_check(&bt, err);
}

void kz_ga_result_free(kz_ga_result *r)
{
    if (r) {
        kz_free(r->top);
        kz_free(r->front);
        kz_free(r->history);
        memset(r, 0, sizeof *r);
    }
}

/* ---------------------------------------------------------------- the run's column sets */
typedef struct win {
    size_t b, e;
    kz_market view; /* arrays borrowed from the market, offset by b; never freed */
    kz_colset *cs;
    size_t synced; /* columns of `work` mirrored so far */
} win;

typedef struct run {
    const kz_colset *src;
    const kz_market *m;
    kz_ga_params p;
    uint64_t fold;   /* walk-forward fold (0 for a single split): part of every random stream */
    const char *tag; /* entry name prefix, e.g. "ga-42" or "ga-42-f2" */
    kz_ga_space *sp;
    kz_colset *work;
    size_t base_cols, max_cols, n_rebuilds;
    win is, oos;
    double bpy;
    /* trials: per-bar IS Sharpe ratios (Welford) for the DSR */
    size_t n_evals;
    double sr_mean, sr_m2;
} run;

void kz_ga_market_view(const kz_market *m, size_t b, size_t e, kz_market *v)
{
    *v = *m;
    v->bars.n = v->bars.cap = e - b;
    v->bars.ts_ms = m->bars.ts_ms + b;
    v->bars.open = m->bars.open + b;
    v->bars.high = m->bars.high + b;
    v->bars.low = m->bars.low + b;
    v->bars.close = m->bars.close + b;
    v->bars.volume = m->bars.volume + b;
    v->funding = m->funding ? m->funding + b : NULL;
    v->oi = m->oi ? m->oi + b : NULL;
}

/* Mirror the new columns of `work` into a window's set as borrowed views. */
static kz_status sync_window(run *R, win *w, kz_error *err)
{
    if (!w->cs) {
        return KZ_OK;
    }
    size_t n = kz_colset_count(R->work);
    for (; w->synced < n; w->synced++) {
        const char *name = kz_colset_name(R->work, w->synced);
        if (kz_colset_find(w->cs, name) >= 0) {
            continue; /* market columns: the window set has its own */
        }
        kz_status st =
            kz_colset_add(w->cs, name, kz_colset_data(R->work, w->synced) + w->b, 0, err);
        if (st != KZ_OK) {
            return st;
        }
    }
    return KZ_OK;
}

static void free_sets(run *R)
{
    kz_colset_free(R->is.cs);
    kz_colset_free(R->oos.cs);
    kz_colset_free(R->work);
    R->is.cs = R->oos.cs = R->work = NULL;
}

/* (Re)build the cache: market columns plus the caller's columns, borrowed. */
static kz_status build_sets(run *R, kz_error *err)
{
    free_sets(R);
    kz_status st = kz_colset_new(R->m, &R->work, err);
    for (size_t i = 0; st == KZ_OK && i < kz_colset_count(R->src); i++) {
        const char *name = kz_colset_name(R->src, i);
        if (kz_colset_find(R->work, name) < 0) {
            st = kz_colset_add(R->work, name, kz_colset_data(R->src, i), 0, err);
        }
    }
    if (st != KZ_OK) {
        return st;
    }
    R->base_cols = kz_colset_count(R->work);
    win *ws[2] = {&R->is, &R->oos};
    for (int k = 0; k < 2; k++) {
        ws[k]->synced = 0;
        if (ws[k]->e > ws[k]->b) {
            kz_ga_market_view(R->m, ws[k]->b, ws[k]->e, &ws[k]->view);
            if ((st = kz_colset_new(&ws[k]->view, &ws[k]->cs, err)) != KZ_OK ||
                (st = sync_window(R, ws[k], err)) != KZ_OK) {
                return st;
            }
        }
    }
    return KZ_OK;
}

/* Decode and prepare strategies (single thread), then mirror new columns into the windows. */
static kz_status
prepare(run *R, const kz_genome *g, kz_strategy *s, const size_t *idx, size_t n, kz_error *err)
{
    for (size_t k = 0; k < n; k++) {
        kz_status st = kz_genome_decode(&g[idx[k]], NULL, &s[idx[k]], err);
        if (st == KZ_OK) {
            st = kz_colset_prepare(R->work, &s[idx[k]], err);
        }
        if (st != KZ_OK) {
            return st;
        }
    }
    kz_status st = sync_window(R, &R->is, err);
    return st == KZ_OK ? sync_window(R, &R->oos, err) : st;
}

/* ---------------------------------------------------------------- parallel evaluation */
typedef struct eval_job {
    const kz_colset *cs;
    const kz_strategy *s;
    const size_t *idx;
    kz_bt_params bt;
    kz_bt_metrics *m;
    kz_status *st;
} eval_job;

static void eval_one(size_t k, void *ud)
{
    eval_job *j = ud;
    size_t i = j->idx[k];
    kz_bt_result r;
    kz_error err;
    j->st[i] = kz_backtest(j->cs, &j->s[i], &j->bt, &r, &err);
    j->m[i] = r.m;
    kz_bt_result_free(&r);
}

/* Population storage: genomes, decoded strategies, metrics and fitness (2n slots for NSGA-II). */
typedef struct pop {
    kz_genome *g;
    kz_strategy *s;
    kz_bt_metrics *m;
    double *fit, *viol, *sel, *crowd;
    int *rank, *born;
    kz_status *st;
    size_t *idx;
} pop;

static void pop_free(pop *P)
{
    kz_free(P->g);
    kz_free(P->s);
    kz_free(P->m);
    kz_free(P->fit);
    kz_free(P->viol);
    kz_free(P->sel);
    kz_free(P->crowd);
    kz_free(P->rank);
    kz_free(P->born);
    kz_free(P->st);
    kz_free(P->idx);
    memset(P, 0, sizeof *P);
}

static kz_status pop_alloc(pop *P, size_t n)
{
    memset(P, 0, sizeof *P);
    P->g = kz_calloc(n, sizeof *P->g);
    P->s = kz_calloc(n, sizeof *P->s);
    P->m = kz_calloc(n, sizeof *P->m);
    P->fit = kz_calloc(n, sizeof *P->fit);
    P->viol = kz_calloc(n, sizeof *P->viol);
    P->sel = kz_calloc(n, sizeof *P->sel);
    P->crowd = kz_calloc(n, sizeof *P->crowd);
    P->rank = kz_calloc(n, sizeof *P->rank);
    P->born = kz_calloc(n, sizeof *P->born);
    P->st = kz_calloc(n, sizeof *P->st);
    P->idx = kz_calloc(n, sizeof *P->idx);
    if (!P->g || !P->s || !P->m || !P->fit || !P->viol || !P->sel || !P->crowd || !P->rank ||
        !P->born || !P->st || !P->idx) {
        pop_free(P);
        return KZ_ERR_NOMEM;
    }
    return KZ_OK;
}

/* Evaluate slots idx[0..n) of P on the IS window: prepare, backtest in parallel, then fitness
 * and trial statistics in index order. */
static kz_status evaluate(run *R, pop *P, const size_t *idx, size_t n, kz_error *err)
{
    if (kz_colset_count(R->work) >= R->max_cols) {
        kz_status st = build_sets(R, err);
        if (st != KZ_OK) {
            return st;
        }
        R->n_rebuilds++;
    }
    kz_status st = prepare(R, P->g, P->s, idx, n, err);
    if (st != KZ_OK) {
        return st;
    }
    eval_job job = {R->is.cs, P->s, idx, R->p.bt, P->m, P->st};
    job.bt.record = 0;
    kz_parallel_for(n, R->p.threads, eval_one, &job);
    for (size_t k = 0; k < n; k++) {
        size_t i = idx[k];
        if (P->st[i] != KZ_OK) {
            return kz_bt_err(err, P->st[i], "strategy", "backtest of individual %zu failed: %s", i,
                             kz_status_str(P->st[i]));
        }
        P->fit[i] = kz_ga_fitness(&P->m[i], &R->p);
        P->viol[i] = kz_ga_violation(&P->m[i], &R->p);
        double sr = P->m[i].sharpe / sqrt(R->bpy);
        R->n_evals++;
        double d = sr - R->sr_mean;
        R->sr_mean += d / (double)R->n_evals;
        R->sr_m2 += d * (sr - R->sr_mean);
    }
    return KZ_OK;
}

/* ---------------------------------------------------------------- hall of fame (top-K) */
typedef struct hof {
    kz_ga_entry *e;
    size_t n, cap;
} hof;

static void hof_offer(hof *H, const pop *P, size_t i)
{
    for (size_t k = 0; k < H->n; k++) {
        if (kz_genome_equal(&H->e[k].genome, &P->g[i])) {
            return;
        }
    }
    if (H->n == H->cap && !(P->fit[i] > H->e[H->n - 1].fitness)) {
        return;
    }
    size_t pos = H->n < H->cap ? H->n++ : H->cap - 1;
    while (pos > 0 && H->e[pos - 1].fitness < P->fit[i]) {
        H->e[pos] = H->e[pos - 1];
        pos--;
    }
    kz_ga_entry *e = &H->e[pos];
    memset(e, 0, sizeof *e);
    e->genome = P->g[i];
    e->fitness = P->fit[i];
    e->is = P->m[i];
    e->generation = P->born[i];
}

/* ---------------------------------------------------------------- selection */
/* Tournament on `key` (higher wins; ties to the lower index). */
static size_t tournament(const double *key, size_t n, int k, kz_rng *r)
{
    size_t best = (size_t)kz_rng_int(r, 0, (int64_t)n - 1);
    for (int t = 1; t < k; t++) {
        size_t c = (size_t)kz_rng_int(r, 0, (int64_t)n - 1);
        if (key[c] > key[best] || (key[c] == key[best] && c < best)) {
            best = c;
        }
    }
    return best;
}

/* Crowded-comparison tournament (NSGA-II): lower rank, then larger crowding distance. */
static size_t crowded_tournament(const pop *P, size_t n, int k, kz_rng *r)
{
    size_t best = (size_t)kz_rng_int(r, 0, (int64_t)n - 1);
    for (int t = 1; t < k; t++) {
        size_t c = (size_t)kz_rng_int(r, 0, (int64_t)n - 1);
        if (P->rank[c] < P->rank[best] ||
            (P->rank[c] == P->rank[best] && P->crowd[c] > P->crowd[best]) ||
            (P->rank[c] == P->rank[best] && P->crowd[c] == P->crowd[best] && c < best)) {
            best = c;
        }
    }
    return best;
}

/* The random stream of (seed, fold, generation, individual): the fold goes in the high half of
 * the generation word (generations < 2^32), so fold 0 is the single split's stream. */
static void stream(const run *R, int gen, size_t individual, kz_rng *r)
{
    kz_rng_seed3(r, R->p.seed, (R->fold << 32) | (uint64_t)gen, (uint64_t)individual);
}

/* Child `slot` of generation `gen` from parents in P[0..n), written to Q. */
static void breed(const run *R,
                  const pop *P,
                  size_t n,
                  const double *key,
                  int gen,
                  size_t slot,
                  pop *Q,
                  size_t qi)
{
    kz_rng r;
    stream(R, gen, slot, &r);
    size_t a = R->p.nsga2 ? crowded_tournament(P, n, R->p.tournament, &r)
                          : tournament(key, n, R->p.tournament, &r);
    kz_genome child;
    int force = 1;
    if (kz_rng_uniform(&r) < R->p.crossover_rate) {
        size_t b = R->p.nsga2 ? crowded_tournament(P, n, R->p.tournament, &r)
                              : tournament(key, n, R->p.tournament, &r);
        kz_genome_crossover(R->sp, &P->g[a], &P->g[b], &r, &child);
        force = kz_genome_equal(&child, &P->g[a]) || kz_genome_equal(&child, &P->g[b]);
    } else {
        child = P->g[a];
    }
    (void)kz_genome_mutate(R->sp, &child, R->p.mutation_rate, force, &r);
    Q->g[qi] = child;
    Q->born[qi] = gen;
}

static void copy_slot(pop *dst, size_t di, const pop *src, size_t si)
{
    dst->g[di] = src->g[si];
    dst->s[di] = src->s[si];
    dst->m[di] = src->m[si];
    dst->fit[di] = src->fit[si];
    dst->viol[di] = src->viol[si];
    dst->born[di] = src->born[si];
}

/* Indices sorted by fitness (desc), ties by index. */
static void order_by_fitness(const double *fit, size_t n, size_t *ord)
{
    for (size_t i = 0; i < n; i++) {
        size_t b = i;
        ord[i] = i;
        while (b > 0 && fit[ord[b - 1]] < fit[i]) {
            ord[b] = ord[b - 1];
            b--;
        }
        ord[b] = i;
    }
}

static void gen_stats(const run *R, const pop *P, size_t n, int gen, kz_ga_gen *h)
{
    size_t best = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += P->fit[i];
        if (P->fit[i] > P->fit[best]) {
            best = i;
        }
    }
    memset(h, 0, sizeof *h);
    h->generation = gen;
    h->best_fitness = P->fit[best];
    h->mean_fitness = sum / (double)n;
    h->best_return = P->m[best].cagr;
    h->best_drawdown = P->m[best].max_drawdown;
    h->n_evals = R->n_evals;
    h->n_columns = kz_colset_count(R->work) - R->base_cols;
}

/* ---------------------------------------------------------------- reporting */
/* Re-run an entry on the IS window (recorded, for the return moments), the OOS window and all
 * bars; fill the DSR given the run's trials. keep_oos (optional) receives the recorded OOS
 * backtest (zeroed without an OOS window). */
static kz_status
report_entry(run *R, kz_ga_entry *e, const char *name, kz_bt_result *keep_oos, kz_error *err)
{
    kz_status st = kz_genome_decode(&e->genome, name, &e->strategy, err);
    if (st == KZ_OK) {
        st = kz_colset_prepare(R->work, &e->strategy, err);
    }
    if (st == KZ_OK) {
        st = sync_window(R, &R->is, err);
    }
    if (st == KZ_OK) {
        st = sync_window(R, &R->oos, err);
    }
    if (st != KZ_OK) {
        return st;
    }
    kz_bt_params bt = R->p.bt;
    bt.record = 1;
    kz_bt_result r;
    if ((st = kz_backtest(R->is.cs, &e->strategy, &bt, &r, err)) != KZ_OK) {
        return st;
    }
    double skew, kurt;
    e->is = r.m;
    kz_ga_return_moments(r.equity, 0, r.n_equity, &skew, &kurt);
    double var = R->n_evals > 1 ? R->sr_m2 / (double)(R->n_evals - 1) : 0;
    e->dsr = kz_deflated_sharpe(r.m.sharpe / sqrt(R->bpy), (double)r.n_equity - 1, skew, kurt,
                                (double)R->n_evals, var);
    kz_bt_result_free(&r);
    e->oos_psr = NAN;
    memset(&e->oos, 0, sizeof e->oos);
    if (R->oos.cs) {
        if ((st = kz_backtest(R->oos.cs, &e->strategy, &bt, &r, err)) != KZ_OK) {
            return st;
        }
        e->oos = r.m;
        kz_ga_return_moments(r.equity, 0, r.n_equity, &skew, &kurt);
        e->oos_psr =
            kz_deflated_sharpe(r.m.sharpe / sqrt(R->bpy), (double)r.n_equity - 1, skew, kurt, 1, 0);
        if (keep_oos) {
            *keep_oos = r;
        } else {
            kz_bt_result_free(&r);
        }
    }
    bt.record = 0;
    if ((st = kz_backtest(R->work, &e->strategy, &bt, &r, err)) != KZ_OK) {
        return st;
    }
    e->full = r.m;
    kz_bt_result_free(&r);
    return KZ_OK;
}

/* ---------------------------------------------------------------- NSGA-II */
static kz_status nsga_rank(pop *P, size_t n, double *f1, double *f2)
{
    for (size_t i = 0; i < n; i++) {
        f1[i] = P->m[i].cagr;
        f2[i] = -P->m[i].max_drawdown;
    }
    return kz_ga_nsga_rank(n, f1, f2, P->viol, P->rank, P->crowd);
}

/* Keep the best n of the 2n slots of P (rank, then crowding, then index) in Q[0..n). */
static void nsga_survivors(pop *P, size_t n, pop *Q)
{
    size_t m = 2 * n;
    size_t *ord = P->idx;
    for (size_t i = 0; i < m; i++) {
        size_t b = i;
        while (b > 0) {
            size_t o = ord[b - 1];
            int better =
                P->rank[i] < P->rank[o] || (P->rank[i] == P->rank[o] && P->crowd[i] > P->crowd[o]);
            if (!better) {
                break;
            }
            ord[b] = o;
            b--;
        }
        ord[b] = i;
    }
    for (size_t k = 0; k < n; k++) {
        copy_slot(Q, k, P, ord[k]);
    }
}

/* ---------------------------------------------------------------- the run */
/* The single IS/OOS split of n bars: IS = [0, n - oos - gap), OOS = the last oos bars. */
static kz_status split(size_t n, const kz_ga_params *p, size_t bounds[4], kz_error *err)
{
    size_t oos = (size_t)floor((double)n * p->oos_fraction);
    size_t gap = oos == 0 ? 0 : kz_ga_gap(n, p);
    if (oos + gap + 10 > n || (oos > 0 && oos < 10)) {
        return kz_bt_err(err, KZ_ERR_INVALID, "oos_fraction",
                         "%zu bars cannot hold an in-sample window, a gap of %zu and %zu "
                         "out-of-sample bars (at least 10 bars each)",
                         n, gap, oos);
    }
    bounds[0] = 0;
    bounds[1] = n - oos - gap;
    bounds[2] = n - oos;
    bounds[3] = oos ? n : n - oos;
    return KZ_OK;
}

size_t kz_ga_gap(size_t n, const kz_ga_params *p)
{
    return p->gap_bars < 0 ? n / 100 : (size_t)p->gap_bars;
}

static kz_status run_loop(run *R, pop *P, pop *Q, hof *H, kz_ga_result *out, kz_error *err)
{
    size_t N = (size_t)R->p.population;
    size_t *todo = Q->idx; /* Q->idx is free while P is being bred into Q */
    double *f1 = Q->sel, *f2 = Q->crowd;
    kz_status st;
    for (size_t i = 0; i < N; i++) {
        kz_rng r;
        stream(R, 0, i, &r);
        kz_genome_random(R->sp, &r, &P->g[i]);
        P->born[i] = 0;
        P->idx[i] = i;
    }
    if ((st = evaluate(R, P, P->idx, N, err)) != KZ_OK) {
        return st;
    }
    for (size_t i = 0; i < N; i++) {
        hof_offer(H, P, i);
    }
    if (R->p.nsga2 && (st = nsga_rank(P, N, f1, f2)) != KZ_OK) {
        return st;
    }
    gen_stats(R, P, N, 0, &out->history[out->n_history++]);
    if (R->p.progress) {
        R->p.progress(&out->history[0], R->p.generations, R->p.progress_ud);
    }
    for (int gen = 1; gen <= R->p.generations; gen++) {
        if (R->p.stop && atomic_load(R->p.stop)) {
            out->stopped = 1;
            break;
        }
        size_t k = 0;
        if (R->p.nsga2) {
            for (size_t i = 0; i < N; i++) {
                breed(R, P, N, NULL, gen, i, P, N + i);
                todo[k++] = N + i;
            }
            if ((st = evaluate(R, P, todo, k, err)) != KZ_OK ||
                (st = nsga_rank(P, 2 * N, f1, f2)) != KZ_OK) {
                return st;
            }
            for (size_t i = 0; i < k; i++) {
                hof_offer(H, P, todo[i]);
            }
            nsga_survivors(P, N, Q);
        } else {
            if (R->p.sharing) {
                kz_ga_share(P->g, P->fit, N, R->p.sharing_radius, P->sel);
            } else {
                memcpy(P->sel, P->fit, N * sizeof *P->sel);
            }
            order_by_fitness(P->fit, N, P->idx);
            for (size_t i = 0; i < (size_t)R->p.elite; i++) {
                copy_slot(Q, i, P, P->idx[i]);
            }
            for (size_t i = (size_t)R->p.elite; i < N; i++) {
                breed(R, P, N, P->sel, gen, i, Q, i);
                todo[k++] = i;
            }
            if ((st = evaluate(R, Q, todo, k, err)) != KZ_OK) {
                return st;
            }
            for (size_t i = 0; i < k; i++) {
                hof_offer(H, Q, todo[i]);
            }
        }
        pop t = *P;
        *P = *Q;
        *Q = t;
        todo = Q->idx;
        f1 = Q->sel;
        f2 = Q->crowd;
        if (R->p.nsga2 && (st = nsga_rank(P, N, f1, f2)) != KZ_OK) {
            return st;
        }
        out->generations_run = gen;
        gen_stats(R, P, N, gen, &out->history[out->n_history++]);
        if (R->p.progress) {
            R->p.progress(&out->history[out->n_history - 1], R->p.generations, R->p.progress_ud);
        }
    }
    return KZ_OK;
}

/* The distinct rank-0 members of the final population, by IS return (desc). */
static kz_status collect_front(run *R, pop *P, kz_ga_result *out, kz_error *err)
{
    size_t N = (size_t)R->p.population;
    out->front = kz_calloc(N, sizeof *out->front);
    if (!out->front) {
        return kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t i = 0; i < N; i++) {
        int dup = P->rank[i] != 0;
        for (size_t k = 0; k < out->n_front && !dup; k++) {
            dup = kz_genome_equal(&out->front[k].genome, &P->g[i]);
        }
        if (dup) {
            continue;
        }
        size_t pos = out->n_front++;
        while (pos > 0 && out->front[pos - 1].is.cagr < P->m[i].cagr) {
            out->front[pos] = out->front[pos - 1];
            pos--;
        }
        memset(&out->front[pos], 0, sizeof out->front[pos]);
        out->front[pos].is = P->m[i];
        out->front[pos].genome = P->g[i];
        out->front[pos].fitness = P->fit[i];
        out->front[pos].generation = P->born[i];
    }
    for (size_t k = 0; k < out->n_front; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s-front-%zu", R->tag, k + 1);
        kz_status st = report_entry(R, &out->front[k], name, NULL, err);
        if (st != KZ_OK) {
            return st;
        }
    }
    return KZ_OK;
}

kz_status kz_ga_run_window(const kz_colset *cs,
                           const kz_ga_params *params,
                           const size_t bounds[4],
                           uint64_t fold,
                           const char *tag,
                           kz_ga_result *out,
                           kz_bt_result *best_oos,
                           kz_error *err)
{
    memset(out, 0, sizeof *out);
    if (best_oos) {
        memset(best_oos, 0, sizeof *best_oos);
    }
    run R;
    memset(&R, 0, sizeof R);
    R.src = cs;
    R.m = kz_colset_market(cs);
    R.p = *params;
    R.fold = fold;
    R.tag = tag;
    R.bpy = kz_bt_bars_per_year(R.m->tf);
    R.is.b = bounds[0];
    R.is.e = bounds[1];
    R.oos.b = bounds[2];
    R.oos.e = bounds[3];
    size_t n = R.m->bars.n;
    size_t budget = (size_t)256 << 20;
    if (R.p.max_columns) {
        R.max_cols = R.p.max_columns;
    } else {
        /* 256 MB of columns, but at most 1024: the backtester finds columns by name */
        R.max_cols = budget / (n * sizeof(double));
        R.max_cols = R.max_cols < 64 ? 64 : (R.max_cols > 1024 ? 1024 : R.max_cols);
    }
    size_t N = (size_t)R.p.population;
    size_t slots = R.p.nsga2 ? 2 * N : N;
    pop P, Q;
    memset(&P, 0, sizeof P);
    memset(&Q, 0, sizeof Q);
    hof H = {NULL, 0, (size_t)R.p.top_k};
    kz_status st;
    if ((st = kz_ga_space_new(cs, R.p.mode, R.p.max_genes, &R.sp, err)) != KZ_OK ||
        (st = build_sets(&R, err)) != KZ_OK) {
        goto done;
    }
    out->history = kz_calloc((size_t)R.p.generations + 1, sizeof *out->history);
    H.e = kz_calloc(H.cap, sizeof *H.e);
    if (!out->history || !H.e || pop_alloc(&P, slots) != KZ_OK || pop_alloc(&Q, slots) != KZ_OK) {
        st = kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    out->seed = R.p.seed;
    out->is_begin = R.is.b;
    out->is_end = R.is.e;
    out->oos_begin = R.oos.b;
    out->oos_end = R.oos.e;
    if ((st = run_loop(&R, &P, &Q, &H, out, err)) != KZ_OK) {
        goto done;
    }
    out->n_evals = R.n_evals;
    out->trials_sharpe_var = R.n_evals > 1 ? R.sr_m2 / (double)(R.n_evals - 1) : 0;
    out->n_cache_rebuilds = R.n_rebuilds;
    for (size_t k = 0; k < H.n; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%zu", tag, k + 1);
        if ((st = report_entry(&R, &H.e[k], name, k == 0 ? best_oos : NULL, err)) != KZ_OK) {
            goto done;
        }
    }
    out->top = H.e;
    out->n_top = H.n;
    H.e = NULL;
    if (R.p.nsga2) {
        st = collect_front(&R, &P, out, err);
    }
done:
    kz_free(H.e);
    pop_free(&P);
    pop_free(&Q);
    free_sets(&R);
    kz_ga_space_free(R.sp);
    if (st != KZ_OK) {
        kz_ga_result_free(out);
        kz_bt_result_free(best_oos);
    }
    return st;
}

kz_status
kz_ga_run(const kz_colset *cs, const kz_ga_params *params, kz_ga_result *out, kz_error *err)
{
    if (!out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "out", "NULL output");
    }
    memset(out, 0, sizeof *out);
    if (!cs) {
        return kz_bt_err(err, KZ_ERR_INVALID, "colset", "NULL column set");
    }
    size_t bounds[4];
    kz_status st = kz_ga_params_check(params, err);
    if (st != KZ_OK || (st = split(kz_colset_n_bars(cs), params, bounds, err)) != KZ_OK) {
        return st;
    }
    char tag[32];
    snprintf(tag, sizeof tag, "ga-%llu", (unsigned long long)params->seed);
    return kz_ga_run_window(cs, params, bounds, 0, tag, out, NULL, err);
}
