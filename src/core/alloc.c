/* Allocation hooks: every library allocation goes through here, so tests can inject failures. */
#include "kizashi/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *std_malloc(size_t size, void *ud)
{
    (void)ud;
    return malloc(size);
}

static void *std_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    return realloc(p, size);
}

static void std_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* The one process-wide setting: documented as "set before any other call" in core.h. */
static kz_allocator g_alloc = {std_malloc, std_realloc, std_free, NULL};

void kz_set_allocator(const kz_allocator *a)
{
    if (a && a->malloc_fn && a->realloc_fn && a->free_fn) {
        g_alloc = *a;
    } else {
        g_alloc = (kz_allocator){std_malloc, std_realloc, std_free, NULL};
    }
}

void *kz_malloc(size_t size)
{
    return g_alloc.malloc_fn(size ? size : 1, g_alloc.ud);
}

void *kz_calloc(size_t n, size_t size)
{
    void *p = kz_malloc_array(n, size);
    if (p) {
        memset(p, 0, n * size);
    }
    return p;
}

void *kz_realloc(void *p, size_t size)
{
    return g_alloc.realloc_fn(p, size ? size : 1, g_alloc.ud);
}

void *kz_malloc_array(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    return kz_malloc(n * size);
}

void *kz_realloc_array(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    return kz_realloc(p, n * size);
}

void kz_free(void *p)
{
    if (p) {
        g_alloc.free_fn(p, g_alloc.ud);
    }
}

char *kz_strdup(const char *s)
{
    if (!s) {
        return NULL;
    }
    size_t len = strlen(s) + 1;
    char *d = kz_malloc(len);
    if (d) {
        memcpy(d, s, len);
    }
    return d;
}
