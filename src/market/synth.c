/* Synthetic market generator: GARCH(1,1) returns with Student-t shocks (Bollerslev 1986;
 * Bollerslev 1987 for t innovations), OHLC from a Brownian-bridge intrabar path, volume tied to
 * |return|, 8-hourly mean-reverting funding that follows the trend, and open interest as a
 * positive random walk correlated with price. Each output has its own RNG stream, so the bars do
 * not depend on whether funding/OI are requested. */
#include <math.h>
#include <string.h>

#include "market/market_int.h"

#define MS_PER_YEAR (365.0 * 86400000.0)
#define FUNDING_MS  28800000 /* 8 h: settlements at 00/08/16 UTC */
#define SUBSTEPS    4        /* intrabar path points between open and close */

kz_synth_params kz_synth_params_default(void)
{
    kz_synth_params p;
    memset(&p, 0, sizeof p);
    p.n_bars = 10000;
    p.tf = KZ_TF_1H;
    p.start_ms = 1704067200000; /* 2024-01-01T00:00Z */
    p.start_price = 50000;
    p.annual_vol = 0.6;
    p.garch_alpha = 0.08;
    p.garch_beta = 0.90;
    p.tail_dof = 4;
    p.base_volume = 1000;
    p.funding_mean = 1e-4;
    p.oi_start_usd = 5e9;
    p.seed = 42;
    return p;
}

static kz_status bad(kz_error *err, const char *field, const char *why)
{
    return kz_error_set(err, KZ_ERR_INVALID, "", 0, 0, field, "%s", why);
}

kz_status kz_synth_params_check(const kz_synth_params *p, kz_error *err)
{
    kz_error_clear(err);
    if (!p) {
        return bad(err, "params", "no parameters given");
    }
    int64_t dur = kz_timeframe_ms(p->tf);
    if (dur <= 0) {
        return bad(err, "tf", "unknown timeframe");
    }
    if (p->n_bars == 0 || p->n_bars > (size_t)1 << 32) {
        return bad(err, "n_bars", "must be in [1, 2^32]");
    }
    if (p->start_ms % dur != 0) {
        return bad(err, "start_ms", "must lie on the timeframe grid");
    }
    /* The last bar's close must stay far from int64 overflow. */
    if (p->start_ms < 0 || p->start_ms > INT64_MAX / 2 ||
        (int64_t)p->n_bars > (INT64_MAX / 2 - p->start_ms) / dur) {
        return bad(err, "start_ms", "time span out of range");
    }
    if (!(p->start_price > 0) || !isfinite(p->start_price)) {
        return bad(err, "start_price", "must be positive and finite");
    }
    if (!(p->annual_vol > 0) || !(p->annual_vol <= 10)) {
        return bad(err, "annual_vol", "must be in (0, 10]");
    }
    if (!(p->garch_alpha >= 0) || !(p->garch_alpha < 1)) {
        return bad(err, "garch_alpha", "must be in [0, 1)");
    }
    if (!(p->garch_beta >= 0) || !(p->garch_beta < 1)) {
        return bad(err, "garch_beta", "must be in [0, 1)");
    }
    if (!(p->garch_alpha + p->garch_beta < 1)) {
        return bad(err, "garch_beta", "garch_alpha + garch_beta must be < 1 (stationarity)");
    }
    if (!(p->tail_dof > 2) || !isfinite(p->tail_dof)) {
        return bad(err, "tail_dof", "must be > 2 (finite variance)");
    }
    if (!(p->base_volume > 0) || !isfinite(p->base_volume)) {
        return bad(err, "base_volume", "must be positive and finite");
    }
    if (!(fabs(p->funding_mean) < 0.01)) {
        return bad(err, "funding_mean", "must be finite with |funding_mean| < 0.01");
    }
    if (!(p->oi_start_usd > 0) || !isfinite(p->oi_start_usd)) {
        return bad(err, "oi_start_usd", "must be positive and finite");
    }
    return KZ_OK;
}

/* Standard normals in pairs by Marsaglia's polar method (one log and sqrt per pair, no trig):
 * the intrabar path and volume noise need many of them. The spare is kept in the struct, so the
 * stream stays deterministic. */
typedef struct normals {
    kz_rng rng;
    double spare;
    int has_spare;
} normals;

static double normal_next(normals *g)
{
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * kz_rng_uniform(&g->rng) - 1.0;
        v = 2.0 * kz_rng_uniform(&g->rng) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    g->spare = v * f;
    g->has_spare = 1;
    return u * f;
}

static int is_empty_bars(const kz_bars *b)
{
    return b && b->n == 0 && !b->ts_ms;
}

static int is_empty_series(const kz_series *s)
{
    return !s || (s->n == 0 && !s->ts_ms);
}

/* Bars plus OI (stamped at each bar open from the previous bar's return). */
static kz_status gen_bars(const kz_synth_params *p, kz_bars *bars, kz_series *oi)
{
    size_t n = p->n_bars;
    int64_t dur = kz_timeframe_ms(p->tf);
    if (kz_bars_reserve(bars, n) != KZ_OK || (oi && kz_series_reserve(oi, n) != KZ_OK)) {
        return KZ_ERR_NOMEM;
    }
    kz_rng r, ro;
    normals path = {.has_spare = 0}, vn = {.has_spare = 0};
    kz_rng_seed3(&r, p->seed, 1, 0);
    kz_rng_seed3(&path.rng, p->seed, 1, 1);
    kz_rng_seed3(&vn.rng, p->seed, 2, 0);
    kz_rng_seed3(&ro, p->seed, 3, 0);
    double var_lr = p->annual_vol * p->annual_vol * (double)dur / MS_PER_YEAR;
    double sd_lr = sqrt(var_lr);
    double omega = var_lr * (1.0 - p->garch_alpha - p->garch_beta);
    double h = var_lr;
    double log_oi = log(p->oi_start_usd);
    double price = p->start_price;
    /* E|z| of a unit-variance shock is about 0.8: this keeps mean volume near base_volume. */
    const double vol_noise = 0.25;
    for (size_t i = 0; i < n; i++) {
        double sd = sqrt(h);
        double ret = sd * kz_rng_student_t(&r, p->tail_dof);
        /* Brownian bridge from 0 to ret in SUBSTEPS steps: x_k given x_{k-1} and the end point
         * has mean x_{k-1} + (ret - x_{k-1}) / (S - k + 1) and variance dt (S - k) / (S - k + 1).
         */
        double x = 0.0, hi = ret > 0 ? ret : 0, lo = ret < 0 ? ret : 0;
        double dt = h / SUBSTEPS;
        for (int k = 1; k < SUBSTEPS; k++) {
            double left = (double)(SUBSTEPS - k);
            x += (ret - x) / (left + 1.0) + sqrt(dt * left / (left + 1.0)) * normal_next(&path);
            hi = x > hi ? x : hi;
            lo = x < lo ? x : lo;
        }
        /* Wicks: the true path maximum lies above the sampled points. */
        hi += sqrt(dt) * 0.5 * kz_rng_uniform(&r);
        lo -= sqrt(dt) * 0.5 * kz_rng_uniform(&r);
        double open = price, close = price * exp(ret);
        double vol = p->base_volume * (0.4 + 0.6 * fabs(ret) / (0.8 * sd_lr)) *
                     exp(vol_noise * normal_next(&vn) - 0.5 * vol_noise * vol_noise);
        int64_t ts = p->start_ms + (int64_t)i * dur;
        size_t j = bars->n++;
        bars->ts_ms[j] = ts;
        bars->open[j] = open;
        bars->close[j] = close;
        bars->high[j] = fmax(open * exp(hi), fmax(open, close));
        bars->low[j] = fmin(open * exp(lo), fmin(open, close));
        bars->volume[j] = vol;
        if (oi) {
            /* Known at the bar's open; then it follows this bar's return (beta 0.5) plus its
             * own noise into the next open. */
            oi->ts_ms[oi->n] = ts;
            oi->value[oi->n] = exp(log_oi);
            oi->n++;
            log_oi += 0.5 * ret + 0.5 * sd_lr * kz_rng_normal(&ro);
        }
        h = omega + p->garch_alpha * ret * ret + p->garch_beta * h;
        price = close;
    }
    return KZ_OK;
}

/* Log price known at time t: close of the last bar closed at or before t (start price if none). */
static double log_price_at(const kz_synth_params *p, const kz_bars *b, int64_t dur, int64_t t)
{
    int64_t k = (t - p->start_ms) / dur - 1;
    if (k < 0) {
        return log(p->start_price);
    }
    if ((size_t)k >= b->n) {
        k = (int64_t)b->n - 1;
    }
    return log(b->close[k]);
}

/* Funding settlements at 00/08/16 UTC inside [start, end): AR(1) around funding_mean, pushed by
 * the last 8 h return (longs pay when price has been rising), clamped to +-0.75%. */
static kz_status gen_funding(const kz_synth_params *p, const kz_bars *b, kz_series *f)
{
    int64_t dur = kz_timeframe_ms(p->tf);
    int64_t end = p->start_ms + (int64_t)p->n_bars * dur;
    int64_t t = (p->start_ms + FUNDING_MS - 1) / FUNDING_MS * FUNDING_MS;
    kz_rng r;
    kz_rng_seed3(&r, p->seed, 4, 0);
    double rate = p->funding_mean;
    double noise = 0.3 * fabs(p->funding_mean) + 2e-5;
    for (; t < end; t += FUNDING_MS) {
        double trend = log_price_at(p, b, dur, t) - log_price_at(p, b, dur, t - FUNDING_MS);
        rate = p->funding_mean + 0.7 * (rate - p->funding_mean) + 0.01 * trend +
               noise * kz_rng_normal(&r);
        rate = fmax(-0.0075, fmin(0.0075, rate));
        if (kz_series_push(f, t, rate) != KZ_OK) {
            return KZ_ERR_NOMEM;
        }
    }
    return KZ_OK;
}

kz_status kz_synth_generate(
    const kz_synth_params *p, kz_bars *bars, kz_series *funding, kz_series *oi, kz_error *err)
{
    kz_status st = kz_synth_params_check(p, err);
    if (st != KZ_OK) {
        return st;
    }
    if (!is_empty_bars(bars) || !is_empty_series(funding) || !is_empty_series(oi)) {
        return kz_error_set(err, KZ_ERR_INVALID, "", 0, 0, "bars",
                            "outputs must be non-NULL (bars) and empty on entry");
    }
    st = gen_bars(p, bars, oi);
    if (st == KZ_OK && funding) {
        st = gen_funding(p, bars, funding);
    }
    if (st != KZ_OK) {
        kz_bars_free(bars);
        kz_series_free(funding);
        kz_series_free(oi);
        return kz_error_set(err, st, "", 0, 0, "", "out of memory generating %zu bars", p->n_bars);
    }
    return KZ_OK;
}
