/* kz_parallel_for: the library's only worker threads (DESIGN 7). Workers take indices from one
 * atomic counter; results must depend on the index alone, so thread count never changes them. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "kizashi/core.h"

#define MAX_THREADS 256

typedef struct pool {
    size_t n;
    atomic_size_t next;
    void (*fn)(size_t i, void *ud);
    void *ud;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->n) {
            return NULL;
        }
        p->fn(i, p->ud);
    }
}

int kz_cpu_count(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c < 1 ? 1 : (c > MAX_THREADS ? MAX_THREADS : (int)c);
}

void kz_parallel_for(size_t n, int n_threads, void (*fn)(size_t i, void *ud), void *ud)
{
    if (n == 0 || !fn) {
        return;
    }
    int nt = n_threads <= 0 ? kz_cpu_count() : (n_threads > MAX_THREADS ? MAX_THREADS : n_threads);
    if ((size_t)nt > n) {
        nt = (int)n;
    }
    pool p;
    p.n = n;
    atomic_init(&p.next, 0);
    p.fn = fn;
    p.ud = ud;
    pthread_t tid[MAX_THREADS];
    int started = 0;
    for (int t = 1; t < nt; t++) {
        if (pthread_create(&tid[started], NULL, worker, &p) != 0) {
            break; /* fewer threads: the caller and the started ones finish the work */
        }
        started++;
    }
    worker(&p);
    for (int t = 0; t < started; t++) {
        pthread_join(tid[t], NULL);
    }
}
