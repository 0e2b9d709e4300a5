/* Minimal test harness: CHECK / CHECK_NEAR (NaN == NaN) / skip, non-zero exit on failure. */
#ifndef KZ_TEST_H
#define KZ_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kz_test_failures = 0;
static int kz_test_checks = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        kz_test_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            kz_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        kz_test_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            kz_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* a and b equal within abs tolerance `tol` or relative `tol`; NaN equals NaN. */
static inline int kz_near(double a, double b, double tol)
{
    if (isnan(a) || isnan(b)) {
        return isnan(a) && isnan(b);
    }
    if (a == b) {
        return 1;
    }
    double d = fabs(a - b);
    return d <= tol || d <= tol * fmax(fabs(a), fabs(b));
}

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double kz_a_ = (double)(a), kz_b_ = (double)(b);                                           \
        kz_test_checks++;                                                                          \
        if (!kz_near(kz_a_, kz_b_, (tol))) {                                                       \
            kz_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.17g, %s = %.17g (tol %g)\n",         \
                    __FILE__, __LINE__, #a, kz_a_, #b, kz_b_, (double)(tol));                      \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long kz_a_ = (long long)(a), kz_b_ = (long long)(b);                                  \
        kz_test_checks++;                                                                          \
        if (kz_a_ != kz_b_) {                                                                      \
            kz_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", __FILE__, __LINE__,  \
                    #a, kz_a_, #b, kz_b_);                                                         \
        }                                                                                          \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        const char *kz_h_ = (hay);                                                                 \
        kz_test_checks++;                                                                          \
        if (!kz_h_ || !strstr(kz_h_, (needle))) {                                                  \
            kz_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__,             \
                    kz_h_ ? kz_h_ : "(null)", (needle));                                           \
        }                                                                                          \
    } while (0)

/* Path of a file under ../shared (or $KZ_SHARED); NULL-free static buffer. */
static inline const char *kz_shared_path(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("KZ_SHARED");
    snprintf(buf, sizeof buf, "%s/%s", base && *base ? base : KZ_SHARED_DIR, rel);
    return buf;
}

/* Exit with ctest's skip code after saying why. */
#define KZ_SKIP(...)                                                                               \
    do {                                                                                           \
        fprintf(stdout, "SKIPPED: ");                                                              \
        fprintf(stdout, __VA_ARGS__);                                                              \
        fputc('\n', stdout);                                                                       \
        exit(77);                                                                                  \
    } while (0)

/* Call at the end of main. */
#define KZ_TEST_DONE()                                                                             \
    do {                                                                                           \
        printf("%d checks, %d failed\n", kz_test_checks, kz_test_failures);                        \
        return kz_test_failures ? 1 : 0;                                                           \
    } while (0)

#endif
