/* Deterministic RNG: xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64, plus the
 * few distributions the library needs. Streams are derived from (seed, a, b) so parallel work is
 * reproducible for any thread count. Also the clocks and the content hash. */
#define _POSIX_C_SOURCE 200809L
#include "kizashi/core.h"

#include <math.h>
#include <time.h>
#include <xxhash.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void kz_rng_seed(kz_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
}

void kz_rng_seed3(kz_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (a * 0xD6E8FEB86659FD93ull);
    h = splitmix64(&x);
    x = h ^ (b * 0xA0761D6478BD642Full);
    kz_rng_seed(r, splitmix64(&x));
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t kz_rng_u64(kz_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double kz_rng_uniform(kz_rng *r)
{
    return (double)(kz_rng_u64(r) >> 11) * 0x1.0p-53;
}

int64_t kz_rng_int(kz_rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1u;
    if (span == 0) { /* full 64-bit range */
        return (int64_t)kz_rng_u64(r);
    }
    /* Lemire-style rejection to avoid modulo bias. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % span);
    uint64_t v;
    do {
        v = kz_rng_u64(r);
    } while (v >= limit);
    return lo + (int64_t)(v % span);
}

double kz_rng_normal(kz_rng *r)
{
    double u1 = kz_rng_uniform(r);
    double u2 = kz_rng_uniform(r);
    if (u1 < 1e-300) {
        u1 = 1e-300;
    }
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

double kz_rng_student_t(kz_rng *r, double dof)
{
    /* t = Z / sqrt(V/dof), V ~ chi^2(dof) as a sum of squares for integral dof, else via gamma
     * approximation by Wilson-Hilferty; scaled by sqrt((dof-2)/dof) to unit variance. */
    double z = kz_rng_normal(r);
    double v;
    int k = (int)dof;
    if ((double)k == dof && k <= 30) {
        v = 0.0;
        for (int i = 0; i < k; i++) {
            double g = kz_rng_normal(r);
            v += g * g;
        }
    } else {
        double g = kz_rng_normal(r);
        double c = 1.0 - 2.0 / (9.0 * dof) + g * sqrt(2.0 / (9.0 * dof));
        v = dof * c * c * c;
        if (v < 1e-12) {
            v = 1e-12;
        }
    }
    double t = z / sqrt(v / dof);
    return dof > 2.0 ? t * sqrt((dof - 2.0) / dof) : t;
}

uint64_t kz_hash64(const void *data, size_t len, uint64_t seed)
{
    return (uint64_t)XXH64(data, len, (XXH64_hash_t)seed);
}

int64_t kz_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double kz_monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
