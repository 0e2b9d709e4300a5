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

/* The same double bit for bit (-0.0 differs from +0.0), or both NaN: the "bit-identical" of
 * stream == batch and of kernels that must keep every output bit. */
static inline int kz_same_bits(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
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

/* ---- a private temporary directory for a test's files (tests build with _POSIX_C_SOURCE) */

/* Create /tmp/kz_test_<tag>_XXXXXX into dir (cap >= 64); a test that cannot is a failed test. */
static inline void kz_tmpdir_make(char *dir, size_t cap, const char *tag)
{
    snprintf(dir, cap, "/tmp/kz_test_%s_XXXXXX", tag);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot create a temporary directory %s\n", dir);
        exit(1);
    }
}

/* Remove dir and everything in it; returns 0 on success (after a warning otherwise). */
static inline int kz_tmpdir_remove(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "warning: could not remove %s\n", dir);
    }
    return rc;
}

/* "dir/name" in one of four rotating static buffers (so a call can take two paths). */
static inline const char *kz_path_in(const char *dir, const char *name)
{
    static char buf[4][768];
    static int k = 0;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Write text to dir/name (truncating); returns 0 on success. */
static inline int kz_write_text(const char *dir, const char *name, const char *text)
{
    FILE *f = fopen(kz_path_in(dir, name), "w");
    if (!f) {
        return -1;
    }
    int rc = fputs(text, f) < 0;
    return fclose(f) != 0 || rc ? -1 : 0;
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
