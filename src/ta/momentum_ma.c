/* Moving-average based momentum indicators, TA-Lib 0.6.4 exact: MACD, MACDFIX, MACDEXT, APO, PPO,
 * TRIX. */
#include <math.h>
#include <string.h>

#include "momentum_int.h"

/* ================================================================ EMA with an explicit k
 * TA-Lib's INT_EMA (ta_EMA.c) in its default compatibility: seeded with the simple mean of the
 * first p values, then e = (x - e)*k + e. MACD and TRIX call INT_EMA directly and MACDFIX passes
 * k = 0.15 / 0.075 instead of 2/(p+1), which kz_ta_ma cannot express; keeping the recursion here
 * also gives these indicators an O(1) streaming state that matches the batch bit for bit. */
typedef struct ema {
    int p, n;
    double k, sum, value;
} ema;

static double per_to_k(int p)
{
    return 2.0 / (double)(p + 1);
}

static void ema_init(ema *e, int p, double k)
{
    memset(e, 0, sizeof *e);
    e->p = p;
    e->k = k;
}

/* Feeds x; returns 1 and sets *y once the EMA is defined (from the p-th value on). */
static int ema_step(ema *e, double x, double *y)
{
    if (e->n < e->p) {
        e->sum += x;
        if (++e->n < e->p) {
            return 0;
        }
        e->value = e->sum / (double)e->p;
    } else {
        e->value = ((x - e->value) * e->k) + e->value;
    }
    *y = e->value;
    return 1;
}

/* ================================================================ MACD, MACDFIX
 * Appel's MACD as TA-Lib INT_MACD (ta_MACD.c): EMA(fast) - EMA(slow), signal = EMA of the MACD
 * line, hist = MACD - signal. TA-Lib quirk kept: both EMAs are seeded so that their first value
 * falls on bar slow-1, i.e. the fast EMA starts on bar slow-fast, not bar 0. A slow period shorter
 * than the fast one is swapped, as TA-Lib does. */
typedef struct macd_state {
    ema fast, slow, signal;
    int64_t t, fast_start, macd_start;
} macd_state;

static void macd_setup(macd_state *s, int fast, double k_fast, int slow, double k_slow, int signal)
{
    memset(s, 0, sizeof *s);
    ema_init(&s->fast, fast, k_fast);
    ema_init(&s->slow, slow, k_slow);
    ema_init(&s->signal, signal, per_to_k(signal));
    s->fast_start = slow - fast;
    s->macd_start = slow - 1;
}

static void macd_step(void *state, const double *in, double *out)
{
    macd_state *s = state;
    int64_t t = s->t++;
    double slow = 0.0;
    double fast = 0.0;
    double signal = 0.0;
    out[0] = out[1] = out[2] = NAN;
    ema_step(&s->slow, in[0], &slow);
    if (t < s->fast_start || !ema_step(&s->fast, in[0], &fast) || t < s->macd_start) {
        return;
    }
    double macd = fast - slow;
    if (ema_step(&s->signal, macd, &signal)) {
        out[0] = macd;
        out[1] = signal;
        out[2] = macd - signal;
    }
}

static void macd_periods(const double *params, int *fast, int *slow)
{
    *fast = kz_mom_period(params, 0);
    *slow = kz_mom_period(params, 1);
    if (*slow < *fast) {
        int tmp = *slow;
        *slow = *fast;
        *fast = tmp;
    }
}

/* params: fastperiod, slowperiod, signalperiod. */
int kz_mom_macd_lookback(const double *params)
{
    int fast, slow;
    macd_periods(params, &fast, &slow);
    return slow - 1 + kz_mom_period(params, 2) - 1;
}

size_t kz_mom_macd_state_size(const double *params)
{
    (void)params;
    return sizeof(macd_state);
}

void kz_mom_macd_state_init(void *state, const double *params)
{
    int fast, slow;
    macd_periods(params, &fast, &slow);
    macd_setup(state, fast, per_to_k(fast), slow, per_to_k(slow), kz_mom_period(params, 2));
}

void kz_mom_macd_state_step(void *state, const double *in, double *out)
{
    macd_step(state, in, out);
}

KZ_MOM_LOCAL_BATCH(kz_mom_macd, macd_state, kz_mom_macd_state_step, 1, 3)

/* MACDFIX: periods fixed at 12/26 with TA-Lib's hard-wired k = 0.15 and 0.075 (not 2/13, 2/27).
 * params: signalperiod. */
int kz_mom_macdfix_lookback(const double *params)
{
    return 26 - 1 + kz_mom_period(params, 0) - 1;
}

size_t kz_mom_macdfix_state_size(const double *params)
{
    (void)params;
    return sizeof(macd_state);
}

void kz_mom_macdfix_state_init(void *state, const double *params)
{
    macd_setup(state, 12, 0.15, 26, 0.075, kz_mom_period(params, 0));
}

void kz_mom_macdfix_state_step(void *state, const double *in, double *out)
{
    macd_step(state, in, out);
}

KZ_MOM_LOCAL_BATCH(kz_mom_macdfix, macd_state, kz_mom_macdfix_state_step, 1, 3)

/* ================================================================ TRIX
 * Hutson's TRIX, TA-Lib ta_TRIX.c: 1-bar ROC (in %) of EMA(EMA(EMA(x))), each EMA seeded with the
 * mean of its own first p inputs; 0 when the previous triple EMA is 0. */
typedef struct trix_state {
    ema e1, e2, e3;
    int have_prev;
    double prev;
} trix_state;

int kz_mom_trix_lookback(const double *params)
{
    return 3 * (kz_mom_period(params, 0) - 1) + 1;
}

size_t kz_mom_trix_state_size(const double *params)
{
    (void)params;
    return sizeof(trix_state);
}

void kz_mom_trix_state_init(void *state, const double *params)
{
    trix_state *s = state;
    int p = kz_mom_period(params, 0);
    memset(s, 0, sizeof *s);
    ema_init(&s->e1, p, per_to_k(p));
    ema_init(&s->e2, p, per_to_k(p));
    ema_init(&s->e3, p, per_to_k(p));
}

void kz_mom_trix_state_step(void *state, const double *in, double *out)
{
    trix_state *s = state;
    double v1, v2, v3;
    out[0] = NAN;
    if (!ema_step(&s->e1, in[0], &v1) || !ema_step(&s->e2, v1, &v2) || !ema_step(&s->e3, v2, &v3)) {
        return;
    }
    if (s->have_prev) {
        out[0] = s->prev != 0.0 ? ((v3 / s->prev) - 1.0) * 100.0 : 0.0;
    }
    s->prev = v3;
    s->have_prev = 1;
}

KZ_MOM_LOCAL_BATCH(kz_mom_trix, trix_state, kz_mom_trix_state_step, 1, 1)

/* ================================================================ MA pairs (APO, PPO, MACDEXT)
 * TA-Lib computes both averages from the same start bar (the larger lookback Lmax), so an average
 * with lookback L starts on bar Lmax - L; for recursive MA types that moves its seed, exactly like
 * MACD's aligned EMAs. The averages are ta-core's streaming MA states (the ones kz_ta_ma runs). */
typedef struct ma_pair {
    int64_t t, lmax;
    int64_t start[2]; /* first bar fed to the slow [0] and fast [1] average */
    size_t off[2];    /* byte offsets of their states from the enclosing state */
} ma_pair;

static int64_t max_i64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static size_t ma_pair_size(int slow, kz_matype slow_type, int fast, kz_matype fast_type)
{
    return kz_mom_add(kz_ta_ma_state_size(slow, slow_type), kz_ta_ma_state_size(fast, fast_type));
}

/* Initialises the pair of a state `base` whose MA states start at byte `off`. */
static void ma_pair_init(ma_pair *mp,
                         void *base,
                         size_t off,
                         int slow,
                         kz_matype slow_type,
                         int fast,
                         kz_matype fast_type)
{
    int64_t ls = kz_ta_ma_lookback(slow, slow_type);
    int64_t lf = kz_ta_ma_lookback(fast, fast_type);
    memset(mp, 0, sizeof *mp);
    mp->lmax = max_i64(ls, lf);
    mp->start[0] = mp->lmax - ls;
    mp->start[1] = mp->lmax - lf;
    mp->off[0] = off;
    mp->off[1] = off + kz_ta_ma_state_size(slow, slow_type);
    kz_ta_ma_state_init(kz_mom_at(base, mp->off[0]), slow, slow_type);
    kz_ta_ma_state_init(kz_mom_at(base, mp->off[1]), fast, fast_type);
}

/* Feeds x; returns 1 from bar Lmax on, with both averages in v[0] (slow) and v[1] (fast). */
static int ma_pair_step(ma_pair *mp, void *base, double x, double v[2])
{
    int64_t t = mp->t++;
    for (int k = 0; k < 2; k++) {
        v[k] = t >= mp->start[k] ? kz_ta_ma_state_step(kz_mom_at(base, mp->off[k]), x) : NAN;
    }
    return t >= mp->lmax;
}

/* Batch of a fresh pair over x[0..n): the slow average into slow[] and the fast one into fast[],
 * each from its start bar on (entries before it are left alone). kz_ta_ma_run does what the
 * states' steps in ma_pair_step do, value by value, so the values are the streaming ones. */
static void ma_pair_run(ma_pair *mp, void *base, size_t n, const double *x, double *slow,
                        double *fast)
{
    double *dst[2] = {slow, fast};
    for (int k = 0; k < 2; k++) {
        size_t s0 = (size_t)mp->start[k];
        if (s0 < n) {
            kz_ta_ma_run(kz_mom_at(base, mp->off[k]), n - s0, x + s0, dst[k] + s0, NULL);
        }
    }
    mp->t += (int64_t)n;
}

/* Scratch of a pair batch: the state, then one column of n doubles for the slow average. */
static size_t ma_pair_work(size_t n, size_t state_size)
{
    return kz_mom_add(kz_ta_words(state_size), n);
}

/* APO / PPO (TA-Lib INT_PO): MA(fast) - MA(slow), PPO as a percentage of MA(slow) (0 when that is
 * within 1e-8 of zero). params: fastperiod, slowperiod, matype. */
typedef struct po_state {
    int percent;
    ma_pair pair;
} po_state;

static size_t po_size(const double *params)
{
    kz_matype type = (kz_matype)params[2];
    return sizeof(po_state) +
           ma_pair_size(kz_mom_period(params, 1), type, kz_mom_period(params, 0), type);
}

static void po_init(void *state, const double *params, int percent)
{
    po_state *s = state;
    int fast, slow;
    macd_periods(params, &fast, &slow);
    kz_matype type = (kz_matype)params[2];
    s->percent = percent;
    ma_pair_init(&s->pair, s, sizeof(po_state), slow, type, fast, type);
}

/* The oscillator from the fast and slow averages of one bar. */
static inline double po_value(int percent, double fast, double slow)
{
    if (!percent) {
        return fast - slow;
    }
    return KZ_MOM_IS_ZERO(slow) ? 0.0 : ((fast - slow) / slow) * 100.0;
}

static void po_step(void *state, const double *in, double *out)
{
    po_state *s = state;
    double v[2];
    out[0] = NAN;
    if (!ma_pair_step(&s->pair, s, in[0], v)) {
        return;
    }
    out[0] = po_value(s->percent, v[1], v[0]);
}

/* Batch: both averages over the whole series first (tight per-type loops), then combined. */
static void po_batch(size_t n, const double *const *in, const double *params, double *const *out,
                     double *work, int percent)
{
    po_state *s = (po_state *)(void *)work;
    po_init(s, params, percent);
    double *slow = work + kz_ta_words(po_size(params));
    double *y = out[0];
    ma_pair_run(&s->pair, s, n, in[0], slow, y);
    size_t lmax = (size_t)s->pair.lmax < n ? (size_t)s->pair.lmax : n;
    kz_ta_nan_fill(y, n, lmax);
    for (size_t i = lmax; i < n; i++) {
        y[i] = po_value(percent, y[i], slow[i]);
    }
}

static int po_lookback(const double *params)
{
    int fast, slow;
    macd_periods(params, &fast, &slow);
    return kz_ta_ma_lookback(slow, (kz_matype)params[2]);
}

#define PO_ENTRY(NAME, PERCENT)                                                                    \
    int NAME##_lookback(const double *params)                                                      \
    {                                                                                              \
        return po_lookback(params);                                                                \
    }                                                                                              \
    size_t NAME##_state_size(const double *params)                                                 \
    {                                                                                              \
        return po_size(params);                                                                    \
    }                                                                                              \
    void NAME##_state_init(void *state, const double *params)                                      \
    {                                                                                              \
        po_init(state, params, PERCENT);                                                           \
    }                                                                                              \
    void NAME##_state_step(void *state, const double *in, double *out)                             \
    {                                                                                              \
        po_step(state, in, out);                                                                   \
    }                                                                                              \
    size_t NAME##_work(size_t n, const double *params)                                             \
    {                                                                                              \
        return ma_pair_work(n, po_size(params));                                                   \
    }                                                                                              \
    void NAME##_batch(size_t n, const double *const *in, const double *params, double *const *out, \
                      double *work)                                                                \
    {                                                                                              \
        po_batch(n, in, params, out, work, PERCENT);                                               \
    }

PO_ENTRY(kz_mom_apo, 0)
PO_ENTRY(kz_mom_ppo, 1)

/* MACDEXT (TA-Lib ta_MACDEXT.c): MACD with a TA-Lib MA type per average; fast/slow (with their
 * types) are swapped when slow < fast. params: fastperiod, fastmatype, slowperiod, slowmatype,
 * signalperiod, signalmatype. */
typedef struct macdext_cfg {
    int fast, slow, signal;
    kz_matype fast_type, slow_type, signal_type;
} macdext_cfg;

typedef struct macdext_state {
    ma_pair pair;
    int64_t lookback;
    size_t signal_off;
} macdext_state;

static macdext_cfg macdext_get(const double *params)
{
    macdext_cfg m;
    m.fast = kz_mom_period(params, 0);
    m.fast_type = (kz_matype)params[1];
    m.slow = kz_mom_period(params, 2);
    m.slow_type = (kz_matype)params[3];
    m.signal = kz_mom_period(params, 4);
    m.signal_type = (kz_matype)params[5];
    if (m.slow < m.fast) {
        int p = m.slow;
        kz_matype t = m.slow_type;
        m.slow = m.fast;
        m.slow_type = m.fast_type;
        m.fast = p;
        m.fast_type = t;
    }
    return m;
}

int kz_mom_macdext_lookback(const double *params)
{
    macdext_cfg m = macdext_get(params);
    int ls = kz_ta_ma_lookback(m.slow, m.slow_type);
    int lf = kz_ta_ma_lookback(m.fast, m.fast_type);
    return (ls > lf ? ls : lf) + kz_ta_ma_lookback(m.signal, m.signal_type);
}

size_t kz_mom_macdext_state_size(const double *params)
{
    macdext_cfg m = macdext_get(params);
    size_t pair = ma_pair_size(m.slow, m.slow_type, m.fast, m.fast_type);
    return kz_mom_add(sizeof(macdext_state) + kz_ta_ma_state_size(m.signal, m.signal_type), pair);
}

void kz_mom_macdext_state_init(void *state, const double *params)
{
    macdext_cfg m = macdext_get(params);
    macdext_state *s = state;
    s->lookback = kz_mom_macdext_lookback(params);
    s->signal_off = sizeof(macdext_state);
    kz_ta_ma_state_init(kz_mom_at(s, s->signal_off), m.signal, m.signal_type);
    ma_pair_init(&s->pair, s, s->signal_off + kz_ta_ma_state_size(m.signal, m.signal_type), m.slow,
                 m.slow_type, m.fast, m.fast_type);
}

void kz_mom_macdext_state_step(void *state, const double *in, double *out)
{
    macdext_state *s = state;
    int64_t t = s->pair.t;
    double v[2];
    out[0] = out[1] = out[2] = NAN;
    if (!ma_pair_step(&s->pair, s, in[0], v)) {
        return;
    }
    double macd = v[1] - v[0];
    double signal = kz_ta_ma_state_step(kz_mom_at(s, s->signal_off), macd);
    if (t >= s->lookback) {
        out[0] = macd;
        out[1] = signal;
        out[2] = macd - signal;
    }
}

size_t kz_mom_macdext_work(size_t n, const double *params)
{
    return ma_pair_work(n, kz_mom_macdext_state_size(params));
}

/* Batch: the pair over the series (fast into out[0], slow into scratch), the MACD line in out[0],
 * the signal average over it from bar Lmax on (as the step feeds it), then the NaN head. */
void kz_mom_macdext_batch(size_t n, const double *const *in, const double *params,
                          double *const *out, double *work)
{
    macdext_state *s = (macdext_state *)(void *)work;
    kz_mom_macdext_state_init(s, params);
    double *slow = work + kz_ta_words(kz_mom_macdext_state_size(params));
    double *macd = out[0], *signal = out[1], *hist = out[2];
    ma_pair_run(&s->pair, s, n, in[0], slow, macd);
    size_t lmax = (size_t)s->pair.lmax < n ? (size_t)s->pair.lmax : n;
    for (size_t i = lmax; i < n; i++) {
        macd[i] = macd[i] - slow[i];
    }
    kz_ta_ma_run(kz_mom_at(s, s->signal_off), n - lmax, macd + lmax, signal + lmax, NULL);
    size_t lb = (size_t)s->lookback < n ? (size_t)s->lookback : n;
    for (int j = 0; j < 3; j++) {
        kz_ta_nan_fill(out[j], n, lb);
    }
    for (size_t i = lb; i < n; i++) {
        hist[i] = macd[i] - signal[i];
    }
}
