/* kizashi core services: allocation hooks, deterministic RNG, hashing, logging callback.
 * Thread contract: kz_rng objects are not shared between threads; the allocator must be set
 * before any other kizashi call and never changed while other calls are running. */
#ifndef KIZASHI_CORE_H
#define KIZASHI_CORE_H

#include "kizashi/status.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- allocation hooks (used by tests for out-of-memory injection) ---- */
typedef struct kz_allocator {
    void *(*malloc_fn)(size_t size, void *ud);
    void *(*realloc_fn)(void *p, size_t size, void *ud);
    void (*free_fn)(void *p, void *ud);
    void *ud;
} kz_allocator;

/* Install an allocator (NULL restores the C library's). Not thread-safe: call at start-up. */
void kz_set_allocator(const kz_allocator *a);

/* Library allocation entry points; all go through the installed hooks.
 * kz_malloc_array/kz_realloc_array return NULL on overflow of n*size as well as on OOM. */
void *kz_malloc(size_t size);
void *kz_calloc(size_t n, size_t size);
void *kz_realloc(void *p, size_t size);
void *kz_malloc_array(size_t n, size_t size);
void *kz_realloc_array(void *p, size_t n, size_t size);
void kz_free(void *p);
/* Duplicate a string with kz_malloc (NULL on OOM or NULL input). Caller frees with kz_free. */
char *kz_strdup(const char *s);

/* ---- deterministic random numbers: xoshiro256** seeded by splitmix64 ---- */
typedef struct kz_rng {
    uint64_t s[4];
} kz_rng;

/* Seed from one 64-bit value. */
void kz_rng_seed(kz_rng *r, uint64_t seed);
/* Derive an independent stream from (seed, a, b), e.g. (seed, generation, individual). */
void kz_rng_seed3(kz_rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t kz_rng_u64(kz_rng *r);
/* Uniform double in [0, 1). */
double kz_rng_uniform(kz_rng *r);
/* Uniform integer in [lo, hi] (inclusive); lo <= hi required. */
int64_t kz_rng_int(kz_rng *r, int64_t lo, int64_t hi);
/* Standard normal (Box-Muller, no cached spare so the stream stays position-independent). */
double kz_rng_normal(kz_rng *r);
/* Student-t with `dof` degrees of freedom, scaled to unit variance (dof > 2). */
double kz_rng_student_t(kz_rng *r, double dof);

/* ---- hashing ---- */
/* XXH64 content hash of `len` bytes; `seed` lets callers chain hashes. */
uint64_t kz_hash64(const void *data, size_t len, uint64_t seed);

/* ---- logging callback: the library never prints ---- */
typedef enum kz_log_level { KZ_LOG_DEBUG, KZ_LOG_INFO, KZ_LOG_WARN, KZ_LOG_ERROR } kz_log_level;
typedef void (*kz_log_fn)(kz_log_level level, const char *msg, void *ud);

/* ---- wall and monotonic clocks ---- */
/* Milliseconds since the Unix epoch (UTC). */
int64_t kz_now_ms(void);
/* Monotonic seconds, for durations only. */
double kz_monotonic_s(void);

/* ---- parallel for: the library's one worker pool (DESIGN 7) ---- */
/* Call fn(i, ud) for every i in [0, n) on up to n_threads threads (<= 0: online CPUs); the
 * caller's thread works too. Which thread runs which i is unspecified, so fn must make each i's
 * result depend on i alone. Returns when all calls are done. If threads cannot be started the
 * remaining work runs on the calling thread. */
void kz_parallel_for(size_t n, int n_threads, void (*fn)(size_t i, void *ud), void *ud);
/* Online CPUs (at least 1). */
int kz_cpu_count(void);

#ifdef __cplusplus
}
#endif
#endif
