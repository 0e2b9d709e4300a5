/* A market with a planted, learnable edge for the strategy-search tests: ML probability columns
 * drawn at random (they leak nothing) and 1h bars BUILT from them: after ML_UP_PROB[t] > 0.6 the
 * next 6 bars drift up, after ML_DOWN_PROB[t] > 0.6 down, so the column at t is known before the
 * move it announces. Bars t >= from are scaled by bump^(t - from + 1) and their ML columns
 * shuffled (a perturbation of that segment only; from = n, bump = 1 changes nothing).
 * cols[0..2] = up, down, range (malloc'ed, caller frees). */
#ifndef KZ_PLANTED_H
#define KZ_PLANTED_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/kizashi.h"

#include "kz_test.h"

static void
kz_planted_market(size_t n, uint64_t seed, size_t from, double bump, kz_market *m, double **cols)
{
    kz_rng r;
    kz_rng_seed(&r, seed);
    double *drift = calloc(n + 8, sizeof *drift);
    for (int k = 0; k < 3; k++) {
        cols[k] = malloc(n * sizeof(double));
    }
    for (size_t i = 0; i < n; i++) {
        double a = kz_rng_uniform(&r), b = kz_rng_uniform(&r), c = kz_rng_uniform(&r);
        double s = a * a * a + b * b * b + c * c * c;
        cols[0][i] = a * a * a / s;
        cols[1][i] = b * b * b / s;
        cols[2][i] = c * c * c / s;
        for (size_t h = 1; h <= 6; h++) {
            drift[i + h] += cols[0][i] > 0.6 ? 0.003 : (cols[1][i] > 0.6 ? -0.003 : 0);
        }
    }
    kz_bars b = {0};
    double px = 30000;
    for (size_t i = 0; i < n; i++) {
        double f = i >= from ? pow(bump, (double)(i - from + 1)) : 1.0;
        double o = px, c = o * exp(drift[i] + 0.006 * kz_rng_normal(&r));
        double h = fmax(o, c) * (1 + 0.002 * fabs(kz_rng_normal(&r)));
        double l = fmin(o, c) * (1 - 0.002 * fabs(kz_rng_normal(&r)));
        CHECK(kz_bars_push(&b, 1704067200000LL + (int64_t)i * 3600000LL, o * f, h * f, l * f, c * f,
                           100) == KZ_OK);
        px = c;
    }
    for (size_t i = from; i + 1 < n; i += 2) { /* swap neighbours' ML values */
        double t = cols[0][i];
        cols[0][i] = cols[1][i + 1];
        cols[1][i + 1] = t;
    }
    memset(m, 0, sizeof *m);
    CHECK(kz_market_build("planted", "EDGE", KZ_TF_1H, &b, NULL, NULL, 0, 0, m) == KZ_OK);
    kz_bars_free(&b);
    free(drift);
}

#endif
