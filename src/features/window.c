/* The counting pass of the quantile comparisons (window_int.h, qwin_flags): #{y < x} or
 * #{y > x} over a window, once per window (twice for two levels) per bar. It is most of their cost
 * (w = 168 for the FR and OI windows), so it comes in one version per x86 vector width, chosen at
 * run time from what the CPU supports: the counts are exact integers, the same whichever version
 * runs. */
#include <stddef.h>
#include <stdint.h>

#include "window_int.h"

/* Any target: the plain loop. */
static size_t count_plain(const double *y, size_t w, double x, int above)
{
    size_t c = 0;
    for (size_t i = 0; i < w; i++) {
        c += above ? y[i] > x : y[i] < x;
    }
    return c;
}

#if defined(__x86_64__) && defined(__GNUC__)
#    include <immintrin.h>

/* AVX-512: eight values per compare into a mask register, counted by popcount; the rest one by
 * one. */
__attribute__((target("avx512f,popcnt"))) static size_t
count_avx512(const double *y, size_t w, double x, int above)
{
    const __m512d vx = _mm512_set1_pd(x);
    size_t c = 0, i = 0;
    for (; i + 8 <= w; i += 8) {
        __m512d v = _mm512_loadu_pd(y + i);
        __mmask8 k =
            above ? _mm512_cmp_pd_mask(v, vx, _CMP_GT_OQ) : _mm512_cmp_pd_mask(v, vx, _CMP_LT_OQ);
        c += (size_t)__builtin_popcount(k);
    }
    return c + count_plain(y + i, w - i, x, above);
}

/* AVX2: four values per compare, counted from the sign-bit mask; the rest one by one. */
__attribute__((target("avx2,popcnt"))) static size_t
count_avx2(const double *y, size_t w, double x, int above)
{
    const __m256d vx = _mm256_set1_pd(x);
    size_t c = 0, i = 0;
    for (; i + 4 <= w; i += 4) {
        __m256d v = _mm256_loadu_pd(y + i);
        __m256d k = above ? _mm256_cmp_pd(v, vx, _CMP_GT_OQ) : _mm256_cmp_pd(v, vx, _CMP_LT_OQ);
        c += (size_t)__builtin_popcount((unsigned)_mm256_movemask_pd(k));
    }
    return c + count_plain(y + i, w - i, x, above);
}

/* SSE2 (every x86-64): two values per compare; a true lane is all ones, i.e. -1 as an integer,
 * so subtracting the mask counts it. */
static size_t count_sse2(const double *y, size_t w, double x, int above)
{
    const __m128d vx = _mm_set1_pd(x);
    __m128i acc = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 2 <= w; i += 2) {
        __m128d v = _mm_loadu_pd(y + i);
        __m128d k = above ? _mm_cmpgt_pd(v, vx) : _mm_cmplt_pd(v, vx);
        acc = _mm_sub_epi64(acc, _mm_castpd_si128(k));
    }
    uint64_t c[2];
    _mm_storeu_si128((__m128i *)c, acc);
    return (size_t)(c[0] + c[1]) + count_plain(y + i, w - i, x, above);
}
#endif

fe_count_fn fe_count_variant(fe_isa isa)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init(); /* idempotent; needed if called before the constructors ran */
    switch (isa) {
    case FE_ISA_SSE2:
        return count_sse2;
    case FE_ISA_AVX2:
        return __builtin_cpu_supports("avx2") ? count_avx2 : NULL;
    case FE_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") ? count_avx512 : NULL;
    default:
        break;
    }
#endif
    return isa == FE_ISA_PLAIN ? count_plain : NULL;
}

int fe_isa_available(fe_isa isa)
{
    return fe_count_variant(isa) != NULL;
}

static int forced_isa = -1; /* fe_isa_force; -1: the widest available */

fe_isa fe_isa_current(void)
{
    if (forced_isa >= 0) {
        return (fe_isa)forced_isa;
    }
    static const fe_isa order[] = {FE_ISA_AVX512, FE_ISA_AVX2, FE_ISA_SSE2};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (fe_isa_available(order[i])) {
            return order[i];
        }
    }
    return FE_ISA_PLAIN;
}

int fe_isa_force(fe_isa isa)
{
    if (!fe_isa_available(isa)) {
        return 0;
    }
    forced_isa = (int)isa;
    return 1;
}

void fe_isa_auto(void)
{
    forced_isa = -1;
}

fe_count_fn fe_count_best(void)
{
    return fe_count_variant(fe_isa_current());
}
