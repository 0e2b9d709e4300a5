/* Window extremes (highest / lowest of the last w bars, with the bar where it sits) for the
 * indicators built on them: MAX, MIN, *INDEX, MINMAX* (price.c), MIDPOINT, MIDPRICE (overlap.c),
 * WILLR, AROON, AROONOSC, STOCH, STOCHF, STOCHRSI (momentum_osc.c), and the feature engine's
 * rolling max/min (kz_rblk in rolling_int.h). Not installed.
 *
 * DESIGN. One engine, kz_vhgw: van Herk (1992) / Gil & Werman (1993). The series is cut into
 * blocks of w bars; the window ending at bar t covers the tail of one block and the head of the
 * next, so its extreme = combine(suffix extreme from bar t-w+1 to its block's end, prefix
 * extreme from the next block's start to t). Three comparisons per bar and no data-dependent
 * branch (a monotonic deque's pop loop mispredicts on every trend change; TA-Lib's rescans cost
 * O(w) each and can come at every bar). Batch kernels feed it chunks of KZ_X_CHUNK bars, streams
 * one bar at a time: the same code on the same state, so both find the same bars; the suffix pass
 * at the end of each block makes a stream update O(w) once every w bars, O(1) amortised.
 * Among equal values the engine keeps one bar by a fixed rule (kz_x_take_later), which decides
 * index outputs and even values' bits (-0.0 and +0.0 compare equal):
 *  - latest: the most recent of the equal extremes (TA-Lib's WILLR, AROON, STOCHF rescan and
 *    update with >= / <=, which keeps the newest; MIDPOINT/MIDPRICE's former deques did too);
 *  - oldest: the first of them (TA-Lib's MAX/MIN rescan with > / <; price.c applies TA-Lib's
 *    remembered-extreme rule on top).
 * Inputs must be finite (the registry rejects NaN/inf): the engine starts from +-inf. */
#ifndef KZ_EXTREME_INT_H
#define KZ_EXTREME_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Bars per chunk of the batch kernels: their per-bar buffers (extremes, indices) hold this many
 * entries, so the scratch stays in L1 whatever n is. */
enum { KZ_X_CHUNK = 256 };

/* Bars in the batch chunk that starts at bar a of n. */
static inline size_t kz_x_chunk_len(size_t n, size_t a)
{
    return n - a < KZ_X_CHUNK ? n - a : KZ_X_CHUNK;
}

/* Offset, in the chunk that starts at bar a, of the first bar with a full window of w bars
 * behind it (bar w-1; the offset may be past the chunk's end). */
static inline size_t kz_x_first_full(size_t a, size_t w)
{
    return a + 1 < w ? w - 1 - a : 0;
}

/* a strictly beyond b in the direction sought (above for a maximum, below for a minimum) */
static inline int kz_x_beyond(double a, double b, int is_min)
{
    return is_min ? a < b : a > b;
}

/* Of two candidates, one from an earlier bar and one from a later bar, whether the rule keeps
 * the later: when it is strictly beyond, or on a tie when `latest`. */
static inline int kz_x_take_later(double early, double late, int is_min, int latest)
{
    return latest ? !kz_x_beyond(early, late, is_min) : kz_x_beyond(late, early, is_min);
}

/* The value kz_x_take_later keeps, written as a ? a : b on a comparison of a and b so that the
 * compiler emits maxsd / minsd (same result on ties: b) instead of a branch. */
static inline double kz_x_keep(double early, double late, int is_min, int latest)
{
    return latest ? (kz_x_beyond(early, late, is_min) ? early : late)
                  : (kz_x_beyond(late, early, is_min) ? late : early);
}

/* c ? a : b on bar indices by masking: a conditional select the compiler cannot turn back into
 * a branch (it does when a value is selected on the same condition). */
static inline int64_t kz_x_select(int c, int64_t a, int64_t b)
{
    return b ^ ((a ^ b) & -(int64_t)c);
}

/* Bytes of one engine's buffers for a window of w bars (8-byte multiples, so consecutive buffers
 * in one scratch stay aligned). */
static inline size_t kz_x_bytes(size_t w)
{
    return (w + 1) * (sizeof(double) + sizeof(int64_t));
}

/* ---------------------------------------------------------------- the engine
 * buf[m] holds, for the previous block, the suffix extreme from its slot m to its end (and
 * ibuf[m] that bar); slot w is a sentinel (the identity, -inf for a maximum) that the block's
 * last bar combines with, since its window is exactly the current block. While a block is read
 * forward, slot m is overwritten with the new bar once slot m+1 has been read, and when the
 * block is complete one backward pass turns it, in place, into the suffix extremes for the next
 * block. The running prefix extreme of the current block is (pv, pi). */
typedef struct kz_vhgw {
    size_t w;
    size_t pos; /* slot of the next bar in its block; w = block complete */
    int64_t t;  /* absolute index of the next bar */
    double pv;
    int64_t pi;
    double *buf;   /* w + 1 */
    int64_t *ibuf; /* w + 1 */
} kz_vhgw;

/* Set up for windows of w >= 1 bars on kz_x_bytes(w) bytes at `mem`. */
static inline void kz_vhgw_init(kz_vhgw *b, size_t w, int is_min, void *mem)
{
    double identity = is_min ? INFINITY : -INFINITY;
    b->w = w;
    b->pos = 0;
    b->t = 0;
    b->pv = identity;
    b->pi = -1;
    b->buf = mem;
    b->ibuf = (int64_t *)(void *)(b->buf + w + 1);
    for (size_t m = 0; m <= w; m++) {
        b->buf[m] = identity;
        b->ibuf[m] = -1;
    }
}

/* The completed block in buf -> its suffix extremes (backward, in place); start a new block. */
static inline void kz_vhgw_next_block(kz_vhgw *b, int is_min, int latest, int want_idx)
{
    double *restrict buf = b->buf;
    int64_t *restrict ibuf = b->ibuf;
    double s = buf[b->w - 1];
    int64_t si = ibuf[b->w - 1];
    for (size_t m = b->w - 1; m-- > 0;) {
        double v = buf[m];
        if (want_idx) {
            si = kz_x_select(kz_x_take_later(v, s, is_min, latest), si, ibuf[m]);
            ibuf[m] = si;
        }
        s = kz_x_keep(v, s, is_min, latest);
        buf[m] = s;
    }
    b->pos = 0;
    b->pv = is_min ? INFINITY : -INFINITY;
}

/* Feed the next `count` bars x[0..count) and write, for each, the extreme of the window of w
 * bars ending there into val[] (and its absolute bar index into idx[] when want_idx); for the
 * first w-1 bars of the series the window is the bars so far. is_min, latest, want_idx are
 * the same on every call (pass constants: the function is inlined and specialised). */
static inline void kz_vhgw_run(kz_vhgw *b,
                               const double *restrict x,
                               size_t count,
                               double *restrict val,
                               int64_t *restrict idx,
                               int is_min,
                               int latest,
                               int want_idx)
{
    size_t done = 0;
    while (done < count) {
        if (b->pos == b->w) {
            kz_vhgw_next_block(b, is_min, latest, want_idx);
        }
        size_t m = b->w - b->pos;
        m = m < count - done ? m : count - done;
        double *restrict buf = b->buf + b->pos;
        int64_t *restrict ibuf = b->ibuf + b->pos;
        double pv = b->pv;
        int64_t pi = b->pi;
        int64_t t = b->t;
        for (size_t k = 0; k < m; k++) {
            double v = x[done + k];
            double s = buf[k + 1];
            if (want_idx) {
                pi = kz_x_select(kz_x_take_later(pv, v, is_min, latest), t + (int64_t)k, pi);
            }
            pv = kz_x_keep(pv, v, is_min, latest);
            if (want_idx) {
                idx[done + k] =
                    kz_x_select(kz_x_take_later(s, pv, is_min, latest), pi, ibuf[k + 1]);
                ibuf[k] = t + (int64_t)k;
            }
            val[done + k] = kz_x_keep(s, pv, is_min, latest);
            buf[k] = v;
        }
        b->pv = pv;
        b->pi = pi;
        b->t = t + (int64_t)m;
        b->pos += m;
        done += m;
    }
}

/* ---------------------------------------------------------------- highest high, lowest low
 * The pair of windows most indicators want (MIDPOINT, MIDPRICE, WILLR, AROON*, STOCH*): the
 * maximum of one series and the minimum of another over the same w bars, latest rule. After
 * kz_xhl_run on the next m <= n_chunk bars, hv[i], lv[i] (and hi_idx[i], lo_idx[i], absolute bar
 * indices, when want_idx) hold the extremes of the window ending at the i-th of them; during the
 * first w-1 bars of the series, of the bars so far. Batch kernels use n_chunk = KZ_X_CHUNK,
 * streams n_chunk = 1 (kz_xhl_push). */
typedef struct kz_xhl {
    kz_vhgw hi, lo;
    int want_idx;
    double *hv, *lv;
    int64_t *hi_idx, *lo_idx;
} kz_xhl;

/* Bytes of a pair for windows of w bars and chunks of n_chunk bars. */
static inline size_t kz_xhl_bytes(size_t w, size_t n_chunk)
{
    return 2 * kz_x_bytes(w) + 2 * n_chunk * (sizeof(double) + sizeof(int64_t));
}

/* Set up on kz_xhl_bytes(w, n_chunk) bytes at `mem`. */
static inline void kz_xhl_init(kz_xhl *b, size_t w, int want_idx, size_t n_chunk, void *mem)
{
    char *p = mem;
    kz_vhgw_init(&b->hi, w, 0, p);
    p += kz_x_bytes(w);
    kz_vhgw_init(&b->lo, w, 1, p);
    p += kz_x_bytes(w);
    b->want_idx = want_idx;
    b->hv = (double *)(void *)p;
    b->lv = b->hv + n_chunk;
    b->hi_idx = (int64_t *)(void *)(b->lv + n_chunk);
    b->lo_idx = b->hi_idx + n_chunk;
}

static inline void kz_xhl_run(kz_xhl *b, const double *high, const double *low, size_t m)
{
    if (b->want_idx) {
        kz_vhgw_run(&b->hi, high, m, b->hv, b->hi_idx, 0, 1, 1);
        kz_vhgw_run(&b->lo, low, m, b->lv, b->lo_idx, 1, 1, 1);
    } else {
        kz_vhgw_run(&b->hi, high, m, b->hv, NULL, 0, 1, 0);
        kz_vhgw_run(&b->lo, low, m, b->lv, NULL, 1, 1, 0);
    }
}

/* Streams: push one bar; returns 1 once the window is full (its extremes are then hv[0],
 * lv[0], hi_idx[0], lo_idx[0]). */
static inline int kz_xhl_push(kz_xhl *b, double high, double low)
{
    kz_xhl_run(b, &high, &low, 1);
    return b->hi.t >= (int64_t)b->hi.w;
}

/* Bars pushed so far. */
static inline int64_t kz_xhl_count(const kz_xhl *b)
{
    return b->hi.t;
}

#endif
