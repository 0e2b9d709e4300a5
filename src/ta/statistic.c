/* Statistic functions with TA-Lib 0.6.4 semantics: VAR, STDDEV, the LINEARREG family (LINEARREG,
 * _SLOPE, _ANGLE, _INTERCEPT, TSF), CORREL and BETA, on numerically stable window sums. */
#include <string.h>

#include "misc_int.h"

/* ---------------------------------------------------------------- stable window sums
 * TA-Lib keeps raw running sums (add the newest value, subtract the oldest), so Σx² of prices
 * near 1e5 cancels catastrophically in Σx²/n - (Σx/n)² and the rounding error drifts along the
 * series (the golden README measures up to 4.4e-8 relative for VAR(5)). Here the sums are of
 * deviations d = x - k from a shift k, and every `p` slides they are recomputed exactly from the
 * window with k = the window mean, so the drift never spans more than one window and the
 * cancellation is that of values around their own mean. The formulas below are invariant to
 * the shift, so the results equal TA-Lib's up to TA-Lib's own rounding error. Recomputing costs
 * O(p) every p bars: O(1) amortised per bar. */

typedef struct mwin {
    size_t p;     /* window length */
    size_t dim;   /* 1 (x) or 2 (x, y) */
    size_t count; /* values pushed, saturating at p */
    size_t pos;   /* ring slot of the next write = the oldest value once full */
    size_t age;   /* slides since the last exact recomputation */
    double k[2];  /* shifts */
    double s[2];  /* Σ d_x, Σ d_y */
    double ss[2]; /* Σ d_x², Σ d_y² */
    double sxy;   /* Σ d_x d_y */
    double sa;    /* Σ age·d_x with age 0 = newest, p-1 = oldest (LINEARREG's x axis) */
    double *ring; /* dim*p values, right after the owning state */
} mwin;

static size_t mwin_bytes(size_t p, size_t dim)
{
    return p * dim * sizeof(double);
}

static void mwin_init(mwin *w, size_t p, size_t dim, double *ring)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->dim = dim;
    w->ring = ring;
}

/* Value c of the j-th oldest element of a full window (ring of p values of dim components, the
 * oldest at slot pos). */
static double mwin_at(const double *ring, size_t p, size_t dim, size_t pos, size_t j, size_t c)
{
    size_t slot = pos + j;
    if (slot >= p) {
        slot -= p;
    }
    return ring[slot * dim + c];
}

/* The sums of a window recomputed exactly, with the shifts at the window means. */
typedef struct msums {
    double k[2], s[2], ss[2], sxy, sa;
} msums;

/* Takes the window by value, not the mwin: a batch's local copy of the state then never has
 * its address passed to a call (see STAT_BATCH). */
static msums mwin_sums(const double *ring, size_t p, size_t dim, size_t pos)
{
    msums m;
    memset(&m, 0, sizeof m);
    for (size_t c = 0; c < dim; c++) {
        double total = 0.0;
        for (size_t j = 0; j < p; j++) {
            total += mwin_at(ring, p, dim, pos, j, c);
        }
        m.k[c] = total / (double)p;
        m.s[c] = 0.0;
        m.ss[c] = 0.0;
    }
    m.sxy = 0.0;
    m.sa = 0.0;
    for (size_t j = 0; j < p; j++) {
        double dx = mwin_at(ring, p, dim, pos, j, 0) - m.k[0];
        m.s[0] += dx;
        m.ss[0] += dx * dx;
        m.sa += (double)(p - 1 - j) * dx;
        if (dim == 2) {
            double dy = mwin_at(ring, p, dim, pos, j, 1) - m.k[1];
            m.s[1] += dy;
            m.ss[1] += dy * dy;
            m.sxy += dx * dy;
        }
    }
    return m;
}

static inline void mwin_rebuild(mwin *w)
{
    msums m = mwin_sums(w->ring, w->p, w->dim, w->pos);
    for (size_t c = 0; c < 2; c++) {
        w->k[c] = m.k[c];
        w->s[c] = m.s[c];
        w->ss[c] = m.ss[c];
    }
    w->sxy = m.sxy;
    w->sa = m.sa;
    w->age = 0;
}

/* Push one value (v[0..dim)); returns 1 when the window is full and the sums describe it. One
 * call site of mwin_rebuild, so that it inlines and a batch's local copy of the state never
 * escapes (see STAT_BATCH). */
static inline int mwin_push(mwin *w, const double *v)
{
    double *slot = w->ring + w->pos * w->dim;
    double old[2] = {0.0, 0.0};
    int full = w->count == w->p;
    for (size_t c = 0; c < w->dim; c++) {
        old[c] = slot[c];
        slot[c] = v[c];
    }
    if (++w->pos == w->p) {
        w->pos = 0;
    }
    if (!full) {
        if (++w->count < w->p) {
            return 0;
        }
    } else if (++w->age < w->p) {
        double dn = v[0] - w->k[0], dold = old[0] - w->k[0];
        /* every remaining value ages by one, the newest enters at age 0, the oldest leaves */
        w->sa += w->s[0] - (double)w->p * dold;
        w->s[0] += dn - dold;
        w->ss[0] += dn * dn - dold * dold;
        if (w->dim == 2) {
            double dny = v[1] - w->k[1], doldy = old[1] - w->k[1];
            w->s[1] += dny - doldy;
            w->ss[1] += dny * dny - doldy * doldy;
            w->sxy += dn * dny - dold * doldy;
        }
        return 1;
    }
    mwin_rebuild(w);
    return 1;
}

/* n * (population variance of component c): Σd² - (Σd)²/n, never negative. */
static inline double mwin_scatter(const mwin *w, size_t c)
{
    double v = w->ss[c] - (w->s[c] * w->s[c]) / (double)w->p;
    return v > 0.0 ? v : 0.0;
}

/* Bytes of a state struct followed by its ring (periods are validated <= 100000, so the product
 * cannot overflow). */
static size_t with_ring(size_t head, size_t p, size_t dim)
{
    return head + mwin_bytes(p, dim);
}

/* ---------------------------------------------------------------- VAR, STDDEV */

typedef struct var_state {
    int stddev;
    double nbdev;
    mwin w;
} var_state;

static size_t var_size(const double *params)
{
    return with_ring(sizeof(var_state), (size_t)params[0], 1);
}

static void var_setup(void *state, const double *params, int stddev)
{
    var_state *s = state;
    s->stddev = stddev;
    s->nbdev = stddev ? params[1] : 1.0;
    mwin_init(&s->w, (size_t)params[0], 1, (double *)(s + 1));
}

static void var_init(void *state, const double *params)
{
    var_setup(state, params, 0);
}

static void stddev_init(void *state, const double *params)
{
    var_setup(state, params, 1);
}

/* Population variance (TA_INT_VAR: mean of squares minus squared mean; nbdev is accepted and
 * ignored by TA-Lib's VAR). STDDEV = sqrt(VAR)*nbdev, and 0 where VAR < 1e-8 (TA-Lib's
 * TA_IS_ZERO_OR_NEG test in ta_STDDEV.c, kept for compatibility). */
static inline void var_step(void *state, const double *in, double *out)
{
    var_state *s = state;
    if (!mwin_push(&s->w, in)) {
        out[0] = NAN;
        return;
    }
    double var = mwin_scatter(&s->w, 0) / (double)s->w.p;
    if (!s->stddev) {
        out[0] = var;
    } else {
        out[0] = kz_misc_is_zero_or_neg(var) ? 0.0 : sqrt(var) * s->nbdev;
    }
}

KZ_MISC_DEFINE_LOCAL(var, var_state, var_size, var_init, var_step, 1)
KZ_MISC_DEFINE_LOCAL(stddev, var_state, var_size, stddev_init, var_step, 1)

/* ---------------------------------------------------------------- LINEARREG family */

enum { LR_VALUE, LR_SLOPE, LR_ANGLE, LR_INTERCEPT, LR_TSF };

typedef struct linreg_state {
    int kind;
    double sum_x, divisor; /* TA-Lib's SumX and SumX² - p*SumXSqr over x = 0..p-1 */
    mwin w;
} linreg_state;

static size_t linreg_size(const double *params)
{
    return with_ring(sizeof(linreg_state), (size_t)params[0], 1);
}

static void linreg_setup(void *state, const double *params, int kind)
{
    linreg_state *s = state;
    double p = params[0];
    s->kind = kind;
    /* computed in double: TA-Lib's int products overflow for periods above ~1290 */
    s->sum_x = p * (p - 1.0) * 0.5;
    double sum_x_sqr = p * (p - 1.0) * (2.0 * p - 1.0) / 6.0;
    s->divisor = s->sum_x * s->sum_x - p * sum_x_sqr;
    mwin_init(&s->w, (size_t)p, 1, (double *)(s + 1));
}

static void linearreg_init(void *state, const double *params)
{
    linreg_setup(state, params, LR_VALUE);
}

static void slope_init(void *state, const double *params)
{
    linreg_setup(state, params, LR_SLOPE);
}

static void angle_init(void *state, const double *params)
{
    linreg_setup(state, params, LR_ANGLE);
}

static void intercept_init(void *state, const double *params)
{
    linreg_setup(state, params, LR_INTERCEPT);
}

static void tsf_init(void *state, const double *params)
{
    linreg_setup(state, params, LR_TSF);
}

/* Least squares over the window with TA-Lib's x axis (x = bars back from the newest, ta_LINEARREG
 * .c): m = (p·Σxy - Σx·Σy)/divisor is the slope per bar forward in time, b = (Σy - m·Σx)/p the
 * line's value at the oldest bar. LINEARREG = b + m(p-1) (the newest bar), TSF = b + m·p (one
 * bar ahead), ANGLE = atan(m) in degrees. Shifting y by k leaves m unchanged and shifts b by k. */
static inline void linreg_step(void *state, const double *in, double *out)
{
    linreg_state *s = state;
    if (!mwin_push(&s->w, in)) {
        out[0] = NAN;
        return;
    }
    double p = (double)s->w.p;
    double m = (p * s->w.sa - s->sum_x * s->w.s[0]) / s->divisor;
    double b = s->w.k[0] + (s->w.s[0] - m * s->sum_x) / p;
    switch (s->kind) {
    case LR_SLOPE:
        out[0] = m;
        break;
    case LR_ANGLE:
        out[0] = atan(m) * (180.0 / 3.14159265358979323846);
        break;
    case LR_INTERCEPT:
        out[0] = b;
        break;
    case LR_TSF:
        out[0] = b + m * p;
        break;
    default:
        out[0] = b + m * (p - 1.0);
        break;
    }
}

KZ_MISC_DEFINE_LOCAL(linearreg, linreg_state, linreg_size, linearreg_init, linreg_step, 1)
KZ_MISC_DEFINE_LOCAL(linearreg_slope, linreg_state, linreg_size, slope_init, linreg_step, 1)
KZ_MISC_DEFINE_LOCAL(linearreg_angle, linreg_state, linreg_size, angle_init, linreg_step, 1)
KZ_MISC_DEFINE_LOCAL(linearreg_intercept, linreg_state, linreg_size, intercept_init, linreg_step, 1)
KZ_MISC_DEFINE_LOCAL(tsf, linreg_state, linreg_size, tsf_init, linreg_step, 1)

/* ---------------------------------------------------------------- CORREL */

typedef struct pair_state {
    size_t count;
    double last[2]; /* BETA: previous prices of the two inputs */
    mwin w;
} pair_state;

static size_t pair_size(const double *params)
{
    return with_ring(sizeof(pair_state), (size_t)params[0], 2);
}

static void pair_init(void *state, const double *params)
{
    pair_state *s = state;
    s->count = 0;
    s->last[0] = 0.0;
    s->last[1] = 0.0;
    mwin_init(&s->w, (size_t)params[0], 2, (double *)(s + 1));
}

/* Pearson's r = Sxy / sqrt(Sxx·Syy) on centred sums; 0 when Sxx·Syy < 1e-8 (TA-Lib's
 * TA_IS_ZERO_OR_NEG test in ta_CORREL.c). */
static inline void correl_step(void *state, const double *in, double *out)
{
    pair_state *s = state;
    if (!mwin_push(&s->w, in)) {
        out[0] = NAN;
        return;
    }
    double sxx = mwin_scatter(&s->w, 0), syy = mwin_scatter(&s->w, 1);
    double sxy = s->w.sxy - (s->w.s[0] * s->w.s[1]) / (double)s->w.p;
    double den = sxx * syy;
    out[0] = kz_misc_is_zero_or_neg(den) ? 0.0 : sxy / sqrt(den);
}

KZ_MISC_DEFINE_LOCAL(correl, pair_state, pair_size, pair_init, correl_step, 2)

/* ---------------------------------------------------------------- BETA */

/* One-bar return as TA-Lib computes it: 0 when the previous price is within 1e-8 of zero. */
static double bar_return(double price, double prev)
{
    return kz_misc_is_zero(prev) ? 0.0 : (price - prev) / prev;
}

/* ta_BETA.c: x, y = one-bar returns of the two inputs over the last `period` returns (so the
 * first value is at bar `period`), beta = (n·Sxy - Sx·Sy)/(n·Sxx - Sx²) = centred Sxy/Sxx, and
 * 0 when the denominator is within 1e-8 of zero. Computed as n·(centred sums), which equals
 * TA-Lib's expression exactly in real arithmetic. */
static inline void beta_step(void *state, const double *in, double *out)
{
    pair_state *s = state;
    out[0] = NAN;
    if (s->count++ == 0) {
        s->last[0] = in[0];
        s->last[1] = in[1];
        return;
    }
    double r[2] = {bar_return(in[0], s->last[0]), bar_return(in[1], s->last[1])};
    s->last[0] = in[0];
    s->last[1] = in[1];
    if (!mwin_push(&s->w, r)) {
        return;
    }
    double n = (double)s->w.p;
    double den = n * mwin_scatter(&s->w, 0);
    double num = n * (s->w.sxy - (s->w.s[0] * s->w.s[1]) / n);
    out[0] = kz_misc_is_zero(den) ? 0.0 : num / den;
}

KZ_MISC_DEFINE_LOCAL(beta, pair_state, pair_size, pair_init, beta_step, 2)
