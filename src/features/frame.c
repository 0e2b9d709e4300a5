/* kz_frame: a named float32 frame, column-major in one block, with row timestamps. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "kizashi/core.h"

#include "features_int.h"

struct kz_frame {
    size_t n_rows, n_cols;
    float *cells;    /* n_cols * n_rows, column j at cells + j * n_rows; inside cells_mem */
    void *cells_mem; /* the allocation holding cells and ts (see block_alloc) */
    int64_t *ts;     /* n_rows, inside cells_mem after the cells */
    char **names;    /* n_cols pointers into name_buf */
    char *name_buf;  /* the names, NUL-separated */
    size_t name_bytes;
};

void kz_frame_free(kz_frame *f)
{
    if (!f) {
        return;
    }
    kz_free(f->cells_mem);
    kz_free(f->names);
    kz_free(f->name_buf);
    kz_free(f);
}

/* The frame's cells (and timestamps, block_alloc) are first touched row block by row block
 * across all columns. With 4 KB pages that is ~94k page faults for a 376 MB frame (measured on the
 * benchmark VM: 1.0-1.2 s to first-touch 376 MB), so a large frame is placed on a 2 MB boundary and
 * marked for transparent huge pages: one fault per 2 MB (~40 ms for 376 MB of memory the VM has
 * backed before; memory it never backed costs more whatever the page size). Advice only: without
 * huge pages the frame works the same. The advised range is the cells rounded up to whole huge
 * pages: advising only the whole 2 MB pages inside the cells left the last partial one (up to 511
 * small pages, each first-touch fault several us on the VM) to 4 KB faults, which cost ~6 ms of a
 * 100k-bar batch (52.6 -> 46.6 ms best-of-N). So the allocation is up to 4 MB larger than the
 * cells: the slack before the aligned start is never touched, the one past the cells' end only as
 * part of the last huge page (at most 2 MB of memory). */
enum { HUGE_PAGE = 2u << 20, HUGE_MIN = 8u << 20 };

/* bytes (0 allocates 1) of uninitialised memory, 2 MB aligned and advised as above when large;
 * *mem is what to kz_free. NULL when out of memory. */
static void *huge_alloc(size_t bytes, void **mem)
{
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_MIN && bytes <= SIZE_MAX - 2 * (size_t)HUGE_PAGE) {
        size_t huge_bytes = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        *mem = kz_malloc(huge_bytes + HUGE_PAGE);
        if (!*mem) {
            return NULL;
        }
        uintptr_t a = ((uintptr_t)*mem + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
        (void)madvise((void *)a, huge_bytes, MADV_HUGEPAGE);
        return (void *)a;
    }
#endif
    *mem = kz_malloc(bytes ? bytes : 1);
    return *mem;
}

/* f's cells and, after them, its timestamps in one block (huge_alloc): the timestamps of a fresh
 * frame in a block of their own took 4 KB first-touch faults (200 per 100k rows) on every call
 * that did not reuse freed heap memory. Returns 0 on overflow or out of memory. */
static int block_alloc(kz_frame *f)
{
    size_t n_cells = f->n_rows * f->n_cols; /* the caller checked this fits */
    if (n_cells > SIZE_MAX / sizeof(float) - sizeof(int64_t)) {
        return 0;
    }
    size_t ts_off = (n_cells * sizeof(float) + sizeof(int64_t) - 1) & ~(sizeof(int64_t) - 1);
    if (f->n_rows > (SIZE_MAX - ts_off) / sizeof(int64_t)) {
        return 0;
    }
    char *p = huge_alloc(ts_off + f->n_rows * sizeof(int64_t), &f->cells_mem);
    if (!p) {
        return 0;
    }
    f->cells = (float *)(void *)p;
    f->ts = (int64_t *)(void *)(p + ts_off);
    return 1;
}

kz_status fe_frame_alloc(size_t n_rows, size_t n_cols, const char *const *names, kz_frame **out)
{
    *out = NULL;
    size_t name_bytes = 0;
    for (size_t j = 0; j < n_cols; j++) {
        size_t len = strlen(names[j]) + 1;
        if (name_bytes > SIZE_MAX - len) {
            return KZ_ERR_NOMEM;
        }
        name_bytes += len;
    }
    if (n_cols && n_rows > SIZE_MAX / n_cols) {
        return KZ_ERR_NOMEM;
    }
    kz_frame *f = kz_calloc(1, sizeof *f);
    if (!f) {
        return KZ_ERR_NOMEM;
    }
    f->n_rows = n_rows;
    f->n_cols = n_cols;
    f->name_bytes = name_bytes;
    /* Zero-size requests still allocate one element so NULL always means failure. */
    int block_ok = block_alloc(f);
    f->names = kz_malloc_array(n_cols ? n_cols : 1, sizeof(char *));
    f->name_buf = kz_malloc(name_bytes ? name_bytes : 1);
    if (!block_ok || !f->names || !f->name_buf) {
        kz_frame_free(f);
        return KZ_ERR_NOMEM;
    }
    char *p = f->name_buf;
    for (size_t j = 0; j < n_cols; j++) {
        size_t len = strlen(names[j]) + 1;
        memcpy(p, names[j], len);
        f->names[j] = p;
        p += len;
    }
    *out = f;
    return KZ_OK;
}

kz_status kz_frame_new(
    size_t n_rows, size_t n_cols, const char *const *names, const int64_t *ts, kz_frame **out)
{
    if (!out) {
        return KZ_ERR_INVALID;
    }
    *out = NULL;
    if (n_cols && !names) {
        return KZ_ERR_INVALID;
    }
    for (size_t j = 0; j < n_cols; j++) {
        if (!names[j] || !names[j][0]) {
            return KZ_ERR_INVALID;
        }
        for (size_t k = 0; k < j; k++) {
            if (strcmp(names[j], names[k]) == 0) {
                return KZ_ERR_INVALID;
            }
        }
    }
    kz_frame *f;
    kz_status st = fe_frame_alloc(n_rows, n_cols, names, &f);
    if (st != KZ_OK) {
        return st;
    }
    for (size_t i = 0; i < n_rows * n_cols; i++) {
        f->cells[i] = NAN;
    }
    for (size_t i = 0; i < n_rows; i++) {
        f->ts[i] = ts ? ts[i] : 0;
    }
    *out = f;
    return KZ_OK;
}

kz_status kz_frame_copy(const kz_frame *f, kz_frame **out)
{
    if (!f || !out) {
        return KZ_ERR_INVALID;
    }
    kz_frame *c;
    kz_status st = fe_frame_alloc(f->n_rows, f->n_cols, (const char *const *)f->names, &c);
    if (st != KZ_OK) {
        *out = NULL;
        return st;
    }
    memcpy(c->cells, f->cells, f->n_rows * f->n_cols * sizeof(float));
    memcpy(c->ts, f->ts, f->n_rows * sizeof(int64_t));
    *out = c;
    return KZ_OK;
}

size_t kz_frame_n_rows(const kz_frame *f)
{
    return f ? f->n_rows : 0;
}

size_t kz_frame_n_cols(const kz_frame *f)
{
    return f ? f->n_cols : 0;
}

const float *kz_frame_col(const kz_frame *f, size_t j)
{
    return f && j < f->n_cols ? f->cells + j * f->n_rows : NULL;
}

float *kz_frame_col_mut(kz_frame *f, size_t j)
{
    return f && j < f->n_cols ? f->cells + j * f->n_rows : NULL;
}

const char *kz_frame_name(const kz_frame *f, size_t j)
{
    return f && j < f->n_cols ? f->names[j] : NULL;
}

size_t kz_frame_find(const kz_frame *f, const char *name)
{
    if (!f || !name) {
        return KZ_FRAME_NPOS;
    }
    for (size_t j = 0; j < f->n_cols; j++) {
        if (strcmp(f->names[j], name) == 0) {
            return j;
        }
    }
    return KZ_FRAME_NPOS;
}

const int64_t *kz_frame_ts(const kz_frame *f)
{
    return f ? f->ts : NULL;
}

int64_t *fe_frame_ts_mut(kz_frame *f)
{
    return f->ts;
}

size_t kz_frame_bytes(const kz_frame *f)
{
    if (!f) {
        return 0;
    }
    return sizeof *f + f->n_rows * f->n_cols * sizeof(float) + f->n_rows * sizeof(int64_t) +
           f->n_cols * sizeof(char *) + f->name_bytes;
}
