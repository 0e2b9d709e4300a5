/* Strategy-search fitness in consistent units, fitness sharing, return moments and the
 * Deflated Sharpe Ratio (Bailey & Lopez de Prado 2014). */
#include <math.h>
#include <string.h>

#include "strategy/ga_int.h"

double kz_ga_violation(const kz_bt_metrics *m, const kz_ga_params *p)
{
    double v = 0;
    if (p->min_trades > 0 && m->n_trades < (size_t)p->min_trades) {
        v += (double)((size_t)p->min_trades - m->n_trades) / (double)p->min_trades;
    }
    if (p->max_drawdown > 0 && m->max_drawdown > p->max_drawdown) {
        v += (m->max_drawdown - p->max_drawdown) / p->max_drawdown;
    }
    return v;
}

/* Weighted mean of annualised Sharpe (dimensionless), CAGR (fraction per year), max drawdown
 * (fraction, subtracted) and win rate (fraction), minus `penalty` per unit of relative
 * constraint violation: a strategy with no trades scores -penalty, below any that trades. */
double kz_ga_fitness(const kz_bt_metrics *m, const kz_ga_params *p)
{
    double w = p->w_sharpe + p->w_return + p->w_drawdown + p->w_win_rate;
    double f = (p->w_sharpe * m->sharpe + p->w_return * m->cagr - p->w_drawdown * m->max_drawdown +
                p->w_win_rate * m->win_rate) /
               w;
    f -= p->penalty * kz_ga_violation(m, p);
    return isfinite(f) ? f : -1e9;
}

void kz_ga_share(const kz_genome *pop, const double *fit, size_t n, double sigma, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double niche = 0;
        for (size_t j = 0; j < n; j++) {
            double d = i == j ? 0 : kz_genome_distance(&pop[i], &pop[j]);
            if (d < sigma) {
                niche += 1.0 - d / sigma;
            }
        }
        out[i] = fit[i] >= 0 ? fit[i] / niche : fit[i] * niche;
    }
}

void kz_ga_return_moments(const double *equity, size_t b, size_t e, double *skew, double *kurt)
{
    *skew = 0;
    *kurt = 3;
    if (e < b + 3) {
        return;
    }
    double n = 0, mean = 0;
    for (size_t t = b + 1; t < e; t++) {
        double r = equity[t - 1] > 0 ? equity[t] / equity[t - 1] - 1 : 0;
        n += 1;
        mean += (r - mean) / n;
    }
    double m2 = 0, m3 = 0, m4 = 0;
    for (size_t t = b + 1; t < e; t++) {
        double d = (equity[t - 1] > 0 ? equity[t] / equity[t - 1] - 1 : 0) - mean;
        m2 += d * d;
        m3 += d * d * d;
        m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    if (m2 > 0) {
        *skew = m3 / pow(m2, 1.5);
        *kurt = m4 / (m2 * m2);
    }
}

static double norm_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* Inverse standard normal CDF: Acklam's rational approximation (relative error 1.15e-9) with one
 * Halley step against erfc, which brings it to double precision. */
static double norm_ppf(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (!(p > 0)) {
        return -INFINITY;
    }
    if (!(p < 1)) {
        return INFINITY;
    }
    double x, q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double e = norm_cdf(x) - p;
    double u = e * 2.5066282746310002 /* sqrt(2 pi) */ * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

/* DSR = PSR(SR0) = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1)/4 SR^2)) with the
 * expected maximum Sharpe of N unskilled trials
 * SR0 = sqrt(V[SR_n]) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e))),
 * gamma = Euler-Mascheroni (Bailey & Lopez de Prado 2014, "The Deflated Sharpe Ratio", JPM 40(5);
 * PSR from Bailey & Lopez de Prado 2012). Sharpe ratios are per observation (not annualised). */
double kz_deflated_sharpe(
    double sr, double n_obs, double skew, double kurt, double n_trials, double trials_var)
{
    const double gamma = 0.5772156649015329;
    if (!isfinite(sr) || n_obs < 2) {
        return NAN;
    }
    double sr0 = 0;
    if (n_trials > 1 && trials_var > 0) {
        sr0 = sqrt(trials_var) * ((1 - gamma) * norm_ppf(1 - 1 / n_trials) +
                                  gamma * norm_ppf(1 - 1 / (n_trials * 2.718281828459045)));
    }
    double denom = 1 - skew * sr + (kurt - 1) / 4 * sr * sr;
    if (!(denom > 1e-12)) {
        denom = 1e-12;
    }
    return norm_cdf((sr - sr0) * sqrt(n_obs - 1) / sqrt(denom));
}
