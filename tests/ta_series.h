/* Synthetic series for the TA tests that probe ties, signed zeros and window edges (shared by
 * test_ta_misc.c and test_ta_momentum.c). Needs kizashi/core.h (kz_rng) before it. */
#ifndef KZ_TA_SERIES_H
#define KZ_TA_SERIES_H

/* x[0..n) of `kind`: 0 constant, 1 random in {-0, +0, -1, +1}, 2 random small integers,
 * 3 falling, 4 rising, 5 random walk. */
static void kz_test_series(double *x, size_t n, int kind, kz_rng *rng)
{
    static const double zeros[4] = {-0.0, 0.0, -1.0, 1.0};
    double walk = 100.0;
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0:
            x[i] = 7.0;
            break;
        case 1:
            x[i] = zeros[kz_rng_int(rng, 0, 3)];
            break;
        case 2:
            x[i] = (double)kz_rng_int(rng, 0, 3);
            break;
        case 3:
            x[i] = -0.5 * (double)i;
            break;
        case 4:
            x[i] = 0.25 * (double)i;
            break;
        default:
            walk *= 1.0 + 0.01 * kz_rng_normal(rng);
            x[i] = walk;
            break;
        }
    }
}

#endif
