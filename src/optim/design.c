/* Initial designs on the unit cube: uniform random, Latin hypercube (McKay et al. 1979) and a
 * randomly shifted Sobol sequence (Sobol 1967; direction numbers of Joe & Kuo 2008,
 * "new-joe-kuo-6.21201", first 21 dimensions; Gray-code order as in Bratley & Fox 1988). */
#include "optim/optim_int.h"

enum { SOBOL_BITS = 32, JK_MAX_S = 7 };

/* Joe-Kuo rows for dimensions 2..21: degree s, coefficient a, initial m_1..m_s. */
static const struct {
    unsigned s, a;
    unsigned m[JK_MAX_S];
} JOE_KUO[KZ_SOBOL_MAX_DIMS - 1] = {
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},
};

/* Direction numbers v_1..v_32 of dimension j (0-based), scaled to 32 bits. */
static void directions(size_t j, uint32_t *v)
{
    if (j == 0) {
        for (unsigned k = 0; k < SOBOL_BITS; k++) {
            v[k] = (uint32_t)1u << (SOBOL_BITS - 1 - k);
        }
        return;
    }
    unsigned s = JOE_KUO[j - 1].s, a = JOE_KUO[j - 1].a;
    for (unsigned k = 0; k < SOBOL_BITS; k++) {
        if (k < s) {
            v[k] = (uint32_t)JOE_KUO[j - 1].m[k] << (SOBOL_BITS - 1 - k);
        } else {
            /* Joe & Kuo 2008 eq. (3): the primitive polynomial's recurrence */
            uint32_t x = v[k - s] ^ (v[k - s] >> s);
            for (unsigned l = 1; l < s; l++) {
                if ((a >> (s - 1 - l)) & 1u) {
                    x ^= v[k - l];
                }
            }
            v[k] = x;
        }
    }
}

void sobol_point(uint64_t index, size_t d, double *out)
{
    uint64_t gray = index ^ (index >> 1);
    for (size_t j = 0; j < d && j < KZ_SOBOL_MAX_DIMS; j++) {
        uint32_t v[SOBOL_BITS];
        directions(j, v);
        uint32_t x = 0;
        for (unsigned k = 0; k < SOBOL_BITS; k++) {
            if ((gray >> k) & 1u) {
                x ^= v[k];
            }
        }
        out[j] = (double)x * 0x1.0p-32;
    }
}

kz_status design_make(kz_init_kind kind, size_t n, size_t d, kz_rng *rng, double *c)
{
    if (kind == KZ_INIT_SOBOL) {
        if (d > KZ_SOBOL_MAX_DIMS) {
            return KZ_ERR_INVALID;
        }
        double shift[KZ_SOBOL_MAX_DIMS];
        for (size_t j = 0; j < d; j++) {
            shift[j] = kz_rng_uniform(rng);
        }
        for (size_t i = 0; i < n; i++) {
            sobol_point((uint64_t)i, d, &c[i * d]);
            for (size_t j = 0; j < d; j++) {
                /* Cranley-Patterson rotation keeps the net's stratification */
                double v = c[i * d + j] + shift[j];
                c[i * d + j] = v >= 1.0 ? v - 1.0 : v;
            }
        }
        return KZ_OK;
    }
    if (kind == KZ_INIT_LHS) {
        size_t *perm = kz_malloc_array(n ? n : 1, sizeof *perm);
        if (!perm) {
            return KZ_ERR_NOMEM;
        }
        for (size_t j = 0; j < d; j++) {
            for (size_t i = 0; i < n; i++) {
                perm[i] = i;
            }
            for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
                size_t k = (size_t)kz_rng_int(rng, 0, (int64_t)(i - 1));
                size_t t = perm[i - 1];
                perm[i - 1] = perm[k];
                perm[k] = t;
            }
            for (size_t i = 0; i < n; i++) {
                c[i * d + j] = ((double)perm[i] + kz_rng_uniform(rng)) / (double)n;
            }
        }
        kz_free(perm);
        return KZ_OK;
    }
    for (size_t i = 0; i < n * d; i++) {
        c[i] = kz_rng_uniform(rng);
    }
    return KZ_OK;
}
