/* Price transforms (AVGPRICE, MEDPRICE, TYPPRICE, WCLPRICE) and math operators (ADD, SUB, MULT,
 * DIV; windowed MAX, MIN, MAXINDEX, MININDEX, MINMAX, MINMAXINDEX, SUM), TA-Lib 0.6.4 exact. */
#include "extreme_int.h"
#include "misc_int.h"

/* ---------------------------------------------------------------- price transforms
 * Stateless; the sums are written in TA-Lib's operand order (ta_AVGPRICE.c adds high, low,
 * close, open), which matters for the last bit. */

static size_t none_size(const double *params)
{
    (void)params;
    return 0;
}

static void none_init(void *state, const double *params)
{
    (void)state;
    (void)params;
}

/* in = open, high, low, close */
static void avgprice_step(void *state, const double *in, double *out)
{
    (void)state;
    out[0] = (in[1] + in[2] + in[3] + in[0]) / 4;
}

/* in = high, low */
static void medprice_step(void *state, const double *in, double *out)
{
    (void)state;
    out[0] = (in[0] + in[1]) / 2.0;
}

/* in = high, low, close */
static void typprice_step(void *state, const double *in, double *out)
{
    (void)state;
    out[0] = (in[0] + in[1] + in[2]) / 3.0;
}

/* in = high, low, close */
static void wclprice_step(void *state, const double *in, double *out)
{
    (void)state;
    out[0] = (in[0] + in[1] + (in[2] * 2.0)) / 4.0;
}

KZ_MISC_DEFINE(avgprice, none_size, none_init, avgprice_step, 4, 1)
KZ_MISC_DEFINE(medprice, none_size, none_init, medprice_step, 2, 1)
KZ_MISC_DEFINE(typprice, none_size, none_init, typprice_step, 3, 1)
KZ_MISC_DEFINE(wclprice, none_size, none_init, wclprice_step, 3, 1)

/* ---------------------------------------------------------------- ADD, SUB, MULT, DIV
 * Element-wise operators on two series (ta_ADD.c ...); DIV does not guard a zero divisor,
 * like TA-Lib. */

/* in = real0, real1 */
static void add_step(void *state, const double *in, double *out)
{
    (void)state;
    out[0] = in[0] + in[1];
}

static void sub_step(void *state, const double *in, double *out)
{
    (void)state;
    out[0] = in[0] - in[1];
}

static void mult_step(void *state, const double *in, double *out)
{
    (void)state;
    out[0] = in[0] * in[1];
}

static void div_step(void *state, const double *in, double *out)
{
    (void)state;
    out[0] = in[0] / in[1];
}

KZ_MISC_DEFINE(add, none_size, none_init, add_step, 2, 1)
KZ_MISC_DEFINE(sub, none_size, none_init, sub_step, 2, 1)
KZ_MISC_DEFINE(mult, none_size, none_init, mult_step, 2, 1)
KZ_MISC_DEFINE(div, none_size, none_init, div_step, 2, 1)

/* ---------------------------------------------------------------- MAX, MIN, *INDEX, MINMAX*
 * TA-Lib (ta_MAX.c, ta_MAXINDEX.c, ta_MINMAX.c, ...) remembers one extreme bar: while it stays
 * in the window, a new value replaces it when >= (<= for a minimum: the newest wins); when it
 * leaves the window, and at the first full window, TA-Lib rescans the window with > (<) and
 * keeps the first (oldest) extreme. The outputs are that remembered bar or its value, which
 * depend on the path (a tie between -0.0 and +0.0 shows even in the value). talib_bar is that
 * rule, the same in both paths. The rescan's bar is the "oldest" window extreme of extreme_int.h:
 * the stream asks the engine for its bar; the batch asks only for the extreme values, which is
 * cheaper, and finds the bar by a short scan (talib_rescan). */

/* TA-Lib's remembered bar after bar t, from the one after bar t-1 (-1 before the first full
 * window; call for every t >= w-1). newer: bar t's value reaches the previous window's extreme
 * (the remembered bar's value: it is always that window's extreme). fi: the oldest extreme bar
 * of the window [t-w+1, t], needed only when the remembered bar has left the window. */
static inline int64_t talib_bar(int64_t bar, int64_t t, int64_t w, int newer, int64_t fi)
{
    if (bar + w <= t) {
        return fi;
    }
    return newer ? t : bar;
}

/* Whether x (bar t) reaches prev, the extreme of the window ending at bar t-1. */
static inline int talib_newer(double prev, double x, int is_min)
{
    return !kz_x_beyond(prev, x, is_min);
}

enum { WANT_MAX = 1, WANT_MIN = 2 };

/* Which extremes an indicator reports: one (MAX, MIN, ...) or two (MINMAX*: min first, as
 * TA-Lib's outputs), as values or bar indices. */
typedef struct extreme_cfg {
    int want_index;
    int n_trackers;
    int is_min[2];
    int64_t w; /* the period */
} extreme_cfg;

static extreme_cfg extreme_config(const double *params, int which, int want_index)
{
    extreme_cfg c = {want_index, 0, {0, 0}, (int64_t)params[0]};
    if (which & WANT_MIN) {
        c.is_min[c.n_trackers++] = 1;
    }
    if (which & WANT_MAX) {
        c.is_min[c.n_trackers++] = 0;
    }
    return c;
}

/* Streaming state: per tracker the engine (kz_x_bytes(w) after the struct), the previous
 * window's extreme, and TA-Lib's bar with its value. */
typedef struct extreme_state {
    extreme_cfg cfg;
    int64_t count; /* bars seen = absolute index of the next bar */
    int64_t bar[2];
    double value[2], prev[2];
    kz_vhgw b[2];
} extreme_state;

static size_t extreme_size(const double *params, int which)
{
    extreme_cfg c = extreme_config(params, which, 0);
    return sizeof(extreme_state) + (size_t)c.n_trackers * kz_x_bytes((size_t)c.w);
}

static void extreme_setup(void *state, extreme_cfg cfg)
{
    extreme_state *s = state;
    char *mem = (char *)(s + 1);
    s->cfg = cfg;
    s->count = 0;
    for (int k = 0; k < cfg.n_trackers; k++) {
        s->bar[k] = -1;
        s->value[k] = s->prev[k] = 0.0;
        kz_vhgw_init(&s->b[k], (size_t)cfg.w, cfg.is_min[k], mem);
        mem += kz_x_bytes((size_t)cfg.w);
    }
}

/* One tracker's output for bar t of value x (is_min a constant at the call: specialised). The
 * first full window always rescans, so `prev` does not matter there. */
static inline double extreme_track_push(extreme_state *s, int k, double x, int64_t t, int is_min)
{
    double ext;
    int64_t first;
    kz_vhgw_run(&s->b[k], &x, 1, &ext, &first, is_min, 0, 1);
    int newer = talib_newer(s->prev[k], x, is_min);
    s->prev[k] = ext;
    if (t < s->cfg.w - 1) {
        return NAN;
    }
    int64_t bar = talib_bar(s->bar[k], t, s->cfg.w, newer, first);
    if (bar != s->bar[k]) { /* now bar t (value x), or else the rescan's bar (value ext) */
        s->value[k] = bar == t ? x : ext;
        s->bar[k] = bar;
    }
    return s->cfg.want_index ? (double)bar : s->value[k];
}

static void extreme_step(void *state, const double *in, double *out)
{
    extreme_state *s = state;
    int64_t t = s->count++;
    for (int k = 0; k < s->cfg.n_trackers; k++) {
        out[k] = s->cfg.is_min[k] ? extreme_track_push(s, k, in[0], t, 1)
                                  : extreme_track_push(s, k, in[0], t, 0);
    }
}

/* Batch scratch: per tracker the van Herk / Gil-Werman buffers, then one chunk of window
 * extremes that the trackers take in turn. */
static size_t extreme_work(size_t n, const double *params, int which)
{
    (void)n;
    extreme_cfg c = extreme_config(params, which, 0);
    return kz_ta_words((size_t)c.n_trackers * kz_x_bytes((size_t)c.w) +
                       KZ_X_CHUNK * sizeof(double));
}

/* One tracker in batch: its engine, TA-Lib's bar and the previous bar's window extreme. */
typedef struct extreme_track {
    kz_vhgw b;
    int64_t bar;
    double prev;
} extreme_track;

/* The rescan in batch: the first bar from `lo` on whose value equals the window's extreme `m`
 * (compared with ==, so -0.0 finds +0.0: the bar, not the bits, is sought). Scanning instead of
 * tracking the oldest extreme's bar in the engine is cheaper, and all scans together are O(n):
 * one scans [t-w+1, found], and the next rescan comes when `found` leaves the window (w bars
 * later, or later still), so it starts after `found`. */
static inline int64_t talib_rescan(const double *x, int64_t lo, double m)
{
    while (x[lo] != m) {
        lo++;
    }
    return lo;
}

/* Bars [a, a+m) of one tracker: window extremes by van Herk / Gil-Werman, then TA-Lib's bar as
 * in extreme_track_push; its value is read back from x. Bars before the first full window are
 * left alone; the first full one always rescans, so `prev` does not matter there. */
static inline void extreme_track_chunk(extreme_track *tr,
                                       const extreme_cfg *c,
                                       const double *x,
                                       size_t a,
                                       size_t m,
                                       double *ext,
                                       double *out,
                                       int is_min)
{
    kz_vhgw_run(&tr->b, x + a, m, ext, NULL, is_min, 0, 0);
    int64_t w = c->w;
    size_t i = kz_x_first_full(a, (size_t)w);
    int64_t bar = tr->bar;
    double prev = tr->prev;
    for (; i < m; i++) {
        int64_t t = (int64_t)(a + i);
        int newer = talib_newer(prev, x[t], is_min);
        int64_t first = bar + w <= t ? talib_rescan(x, t - w + 1, ext[i]) : 0;
        bar = talib_bar(bar, t, w, newer, first);
        out[t] = c->want_index ? (double)bar : x[bar];
        prev = ext[i];
    }
    tr->bar = bar;
    tr->prev = prev;
}

static void
extreme_batch(size_t n, const double *x, extreme_cfg c, double *const *out, double *work)
{
    char *mem = (char *)work;
    extreme_track tr[2];
    for (int k = 0; k < c.n_trackers; k++) {
        kz_vhgw_init(&tr[k].b, (size_t)c.w, c.is_min[k], mem);
        mem += kz_x_bytes((size_t)c.w);
        tr[k].bar = -1;
        tr[k].prev = 0.0;
        kz_ta_nan_fill(out[k], n, (size_t)c.w - 1);
    }
    double *ext = (double *)(void *)mem;
    for (size_t a = 0; a < n; a += KZ_X_CHUNK) {
        size_t m = kz_x_chunk_len(n, a);
        for (int k = 0; k < c.n_trackers; k++) {
            if (c.is_min[k]) {
                extreme_track_chunk(&tr[k], &c, x, a, m, ext, out[k], 1);
            } else {
                extreme_track_chunk(&tr[k], &c, x, a, m, ext, out[k], 0);
            }
        }
    }
}

/* The entry points of one indicator: `which` extremes, as values or indices. */
#define EXTREME_ENTRY(name, which, want_index)                                                     \
    static size_t name##_size(const double *params)                                                \
    {                                                                                              \
        return extreme_size(params, which);                                                        \
    }                                                                                              \
    static void name##_init(void *state, const double *params)                                     \
    {                                                                                              \
        extreme_setup(state, extreme_config(params, which, want_index));                           \
    }                                                                                              \
    static size_t name##_work(size_t n, const double *params)                                      \
    {                                                                                              \
        return extreme_work(n, params, which);                                                     \
    }                                                                                              \
    static void name##_batch(size_t n, const double *const *in, const double *params,              \
                             double *const *out, double *work)                                     \
    {                                                                                              \
        extreme_batch(n, in[0], extreme_config(params, which, want_index), out, work);             \
    }                                                                                              \
    KZ_MISC_DEFINE_OWN_BATCH(name, name##_size, name##_init, extreme_step, name##_work,            \
                             name##_batch)

EXTREME_ENTRY(max, WANT_MAX, 0)
EXTREME_ENTRY(min, WANT_MIN, 0)
EXTREME_ENTRY(maxindex, WANT_MAX, 1)
EXTREME_ENTRY(minindex, WANT_MIN, 1)
EXTREME_ENTRY(minmax, WANT_MIN | WANT_MAX, 0)
EXTREME_ENTRY(minmaxindex, WANT_MIN | WANT_MAX, 1)

/* ---------------------------------------------------------------- SUM */

typedef struct sum_state {
    size_t p;
    size_t count;
    size_t pos; /* ring slot of the next write */
    double total;
    double *ring; /* the last p values */
} sum_state;

static size_t sum_size(const double *params)
{
    return sizeof(sum_state) + (size_t)params[0] * sizeof(double);
}

static void sum_init(void *state, const double *params)
{
    sum_state *s = state;
    s->p = (size_t)params[0];
    s->count = 0;
    s->pos = 0;
    s->total = 0.0;
    s->ring = (double *)(s + 1);
}

/* TA-Lib's running total (ta_SUM.c): add the newest value, output, then subtract the oldest of
 * the window. Plain running sums as in TA-Lib, so the values match it bit for bit. */
static void sum_step(void *state, const double *in, double *out)
{
    sum_state *s = state;
    size_t i = s->count++;
    s->total += in[0];
    s->ring[s->pos] = in[0];
    s->pos = s->pos + 1 == s->p ? 0 : s->pos + 1;
    if (i + 1 < s->p) {
        out[0] = NAN;
        return;
    }
    out[0] = s->total;
    s->total -= s->ring[s->pos];
}

KZ_MISC_DEFINE(sum, sum_size, sum_init, sum_step, 1, 1)
