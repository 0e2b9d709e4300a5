/* NSGA-II ranking (Deb, Pratap, Agarwal & Meyarivan 2002, IEEE TEC 6(2)): fast non-dominated
 * sorting with constrained domination (section VI) and crowding distances (section III-B). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/ga_int.h"

/* 1 if point i constrained-dominates j (both objectives maximised). */
static int dominates(size_t i, size_t j, const double *f1, const double *f2, const double *viol)
{
    if (viol[i] > 0 || viol[j] > 0) {
        return viol[i] < viol[j];
    }
    return f1[i] >= f1[j] && f2[i] >= f2[j] && (f1[i] > f1[j] || f2[i] > f2[j]);
}

/* Insertion sort of a front's members by one objective, ties by index (deterministic). */
static void sort_by(size_t *m, size_t n, const double *f)
{
    for (size_t a = 1; a < n; a++) {
        size_t x = m[a], b = a;
        while (b > 0 && (f[m[b - 1]] > f[x] || (f[m[b - 1]] == f[x] && m[b - 1] > x))) {
            m[b] = m[b - 1];
            b--;
        }
        m[b] = x;
    }
}

static void crowding(size_t *m, size_t n, const double *f1, const double *f2, double *crowd)
{
    for (size_t a = 0; a < n; a++) {
        crowd[m[a]] = 0;
    }
    const double *fs[2] = {f1, f2};
    for (int k = 0; k < 2; k++) {
        sort_by(m, n, fs[k]);
        double span = fs[k][m[n - 1]] - fs[k][m[0]];
        crowd[m[0]] = crowd[m[n - 1]] = INFINITY;
        for (size_t a = 1; a + 1 < n; a++) {
            if (span > 0 && isfinite(crowd[m[a]])) {
                crowd[m[a]] += (fs[k][m[a + 1]] - fs[k][m[a - 1]]) / span;
            }
        }
    }
}

kz_status kz_ga_nsga_rank(
    size_t n, const double *f1, const double *f2, const double *viol, int *rank, double *crowd)
{
    size_t *count = kz_calloc(n, sizeof *count);       /* how many dominate i */
    size_t *front = kz_malloc_array(n, sizeof *front); /* current front, then the next */
    size_t *next = kz_malloc_array(n, sizeof *next);
    if (n && (!count || !front || !next)) {
        kz_free(count);
        kz_free(front);
        kz_free(next);
        return KZ_ERR_NOMEM;
    }
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            count[i] += j != i && dominates(j, i, f1, f2, viol);
        }
        rank[i] = -1;
        if (count[i] == 0) {
            front[nf++] = i;
        }
    }
    /* O(n^2) per front instead of storing the dominated sets: populations are small and this
     * needs no n^2 memory */
    for (int r = 0; nf > 0; r++) {
        for (size_t a = 0; a < nf; a++) {
            rank[front[a]] = r;
        }
        crowding(front, nf, f1, f2, crowd);
        size_t nn = 0;
        for (size_t a = 0; a < nf; a++) {
            for (size_t j = 0; j < n; j++) {
                if (rank[j] < 0 && dominates(front[a], j, f1, f2, viol) && --count[j] == 0) {
                    next[nn++] = j;
                }
            }
        }
        sort_by(next, nn, f1); /* any order works; keep it independent of discovery order */
        memcpy(front, next, nn * sizeof *front);
        nf = nn;
    }
    kz_free(count);
    kz_free(front);
    kz_free(next);
    return KZ_OK;
}
