/* Price transforms (AVGPRICE, MEDPRICE, TYPPRICE, WCLPRICE) and math operators (ADD, SUB, MULT,
 * DIV; windowed MAX, MIN, MAXINDEX, MININDEX, MINMAX, MINMAXINDEX, SUM), TA-Lib 0.6.4 exact. */
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
 * A monotonic deque over a ring of `period` slots gives the window extreme in O(1) amortised.
 * The index outputs reproduce TA-Lib's tie rule (ta_MAX.c, ta_MAXINDEX.c, ta_MINMAX.c): TA-Lib
 * remembers one extreme; while it stays in the window a new value replaces it when >= (newest
 * wins), and when it leaves the window TA-Lib rescans and keeps the first (oldest) extreme.
 * Equal values stay in the deque, so its front is exactly that oldest extreme. */

typedef struct extreme {
    int is_min;
    size_t p;
    size_t head, len; /* deque in the ring slots below */
    int have_best;    /* TA-Lib's remembered extreme (index and value) */
    size_t best;
    double best_value;
    double *val; /* p values */
    size_t *idx; /* p absolute bar indices */
} extreme;

/* Bytes of the ring of one tracker. */
static size_t extreme_bytes(size_t p)
{
    return p * (sizeof(double) + sizeof(size_t));
}

/* Set up a tracker whose ring starts at `mem`; returns the end of its ring. */
static char *extreme_init(extreme *e, int is_min, size_t p, char *mem)
{
    e->is_min = is_min;
    e->p = p;
    e->head = 0;
    e->len = 0;
    e->have_best = 0;
    e->best = 0;
    e->best_value = 0.0;
    e->val = (double *)(void *)mem;
    e->idx = (size_t *)(void *)(mem + p * sizeof(double));
    return mem + extreme_bytes(p);
}

/* a strictly beyond b in the direction sought */
static inline int beyond(const extreme *e, double a, double b)
{
    return e->is_min ? a < b : a > b;
}

/* Push value x of bar i; once the window is full (i >= p-1) update TA-Lib's extreme. */
static inline void extreme_push(extreme *e, double x, size_t i)
{
    while (e->len > 0 && e->idx[e->head] + e->p <= i) {
        e->head = e->head + 1 == e->p ? 0 : e->head + 1;
        e->len--;
    }
    /* slot of the deque's back (head + len - 1, wrapped without a division: head, len < p) */
    size_t tail = e->head + e->len;
    tail = tail >= e->p ? tail - e->p : tail;
    while (e->len > 0) {
        size_t back = tail == 0 ? e->p - 1 : tail - 1;
        if (!beyond(e, x, e->val[back])) {
            break;
        }
        tail = back;
        e->len--;
    }
    size_t slot = tail;
    e->val[slot] = x;
    e->idx[slot] = i;
    e->len++;
    if (i + 1 < e->p) {
        return;
    }
    if (!e->have_best || e->best + e->p <= i) {
        e->have_best = 1;
        e->best = e->idx[e->head];
        e->best_value = e->val[e->head];
    } else if (!beyond(e, e->best_value, x)) {
        e->best = i;
        e->best_value = x;
    }
}

enum { WANT_MAX = 1, WANT_MIN = 2 };

typedef struct minmax_state {
    int want_index;
    int n_trackers; /* 1 (MAX, MIN, ...) or 2 (MINMAX*: min first, as TA-Lib's outputs) */
    size_t count;   /* bars seen = absolute index of the next bar */
    extreme e[2];
} minmax_state;

static size_t minmax_one_size(const double *params)
{
    return sizeof(minmax_state) + extreme_bytes((size_t)params[0]);
}

static size_t minmax_two_size(const double *params)
{
    return sizeof(minmax_state) + 2 * extreme_bytes((size_t)params[0]);
}

static void minmax_setup(void *state, const double *params, int which, int want_index)
{
    minmax_state *s = state;
    size_t p = (size_t)params[0];
    char *mem = (char *)(s + 1);
    s->want_index = want_index;
    s->count = 0;
    s->n_trackers = 0;
    if (which & WANT_MIN) {
        mem = extreme_init(&s->e[s->n_trackers++], 1, p, mem);
    }
    if (which & WANT_MAX) {
        extreme_init(&s->e[s->n_trackers++], 0, p, mem);
    }
}

static void max_init(void *state, const double *params)
{
    minmax_setup(state, params, WANT_MAX, 0);
}

static void min_init(void *state, const double *params)
{
    minmax_setup(state, params, WANT_MIN, 0);
}

static void maxindex_init(void *state, const double *params)
{
    minmax_setup(state, params, WANT_MAX, 1);
}

static void minindex_init(void *state, const double *params)
{
    minmax_setup(state, params, WANT_MIN, 1);
}

static void minmax_init(void *state, const double *params)
{
    minmax_setup(state, params, WANT_MIN | WANT_MAX, 0);
}

static void minmaxindex_init(void *state, const double *params)
{
    minmax_setup(state, params, WANT_MIN | WANT_MAX, 1);
}

static void minmax_step(void *state, const double *in, double *out)
{
    minmax_state *s = state;
    size_t i = s->count++;
    for (int t = 0; t < s->n_trackers; t++) {
        extreme *e = &s->e[t];
        extreme_push(e, in[0], i);
        if (i + 1 < e->p) {
            out[t] = NAN;
        } else {
            out[t] = s->want_index ? (double)e->best : e->best_value;
        }
    }
}

KZ_MISC_DEFINE(max, minmax_one_size, max_init, minmax_step, 1, 1)
KZ_MISC_DEFINE(min, minmax_one_size, min_init, minmax_step, 1, 1)
KZ_MISC_DEFINE(maxindex, minmax_one_size, maxindex_init, minmax_step, 1, 1)
KZ_MISC_DEFINE(minindex, minmax_one_size, minindex_init, minmax_step, 1, 1)
KZ_MISC_DEFINE(minmax, minmax_two_size, minmax_init, minmax_step, 1, 2)
KZ_MISC_DEFINE(minmaxindex, minmax_two_size, minmaxindex_init, minmax_step, 1, 2)

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
