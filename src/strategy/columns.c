/* Column sets: the market's columns, indicator columns computed from the TA registry by spec
 * string ("BBANDS(timeperiod=20,nbdevup=2).upperband"), realised volatility and external columns.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kizashi/core.h"
#include "kizashi/ta.h"

#include "strategy/strategy_int.h"

kz_status kz_bt_err(kz_error *err, kz_status code, const char *field, const char *fmt, ...)
{
    if (err) {
        kz_error_clear(err);
        err->code = code;
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

double kz_bt_bars_per_year(kz_timeframe tf)
{
    int64_t ms = kz_timeframe_ms(tf);
    return ms > 0 ? 365.0 * 86400000.0 / (double)ms : 0.0;
}

void kz_bt_atr_spec(int period, char *buf, size_t size)
{
    snprintf(buf, size, "ATR(timeperiod=%d)", period);
}

void kz_bt_rvol_spec(int period, char *buf, size_t size)
{
    snprintf(buf, size, "RVOL(timeperiod=%d)", period);
}

/* ---------------------------------------------------------------- the set itself */
static kz_status push_col(kz_colset *cs, const char *name, const double *data, double *owned)
{
    if (cs->n_cols == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 16;
        kz_colent *c = kz_realloc_array(cs->cols, cap, sizeof *c);
        if (!c) {
            return KZ_ERR_NOMEM;
        }
        cs->cols = c;
        cs->cap = cap;
    }
    kz_colent *e = &cs->cols[cs->n_cols++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->data = data;
    e->owned = owned;
    return KZ_OK;
}

/* Funding settlements per bar; see struct kz_colset. */
static void map_funding(const kz_market *m, double *fund)
{
    const kz_bars *b = &m->bars;
    int64_t dur = kz_timeframe_ms(m->tf);
    size_t j = 0;
    for (size_t k = 0; k < m->funding_raw.n; k++) {
        int64_t f = m->funding_raw.ts_ms[k];
        if (f < b->ts_ms[0]) {
            continue;
        }
        while (j < b->n && b->ts_ms[j] + dur <= f) {
            j++;
        }
        if (j == b->n) {
            break;
        }
        fund[j] += m->funding_raw.value[k];
    }
}

kz_status kz_colset_new(const kz_market *m, kz_colset **out, kz_error *err)
{
    if (!out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "out", "NULL output");
    }
    *out = NULL;
    if (!m || m->bars.n == 0 || kz_timeframe_ms(m->tf) <= 0) {
        return kz_bt_err(err, KZ_ERR_INVALID, "market", "a market with bars is required");
    }
    kz_colset *cs = kz_calloc(1, sizeof *cs);
    if (!cs) {
        return kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory");
    }
    cs->m = m;
    cs->n = m->bars.n;
    double *oich = NULL;
    cs->fund_settle = kz_calloc(cs->n, sizeof *cs->fund_settle);
    if (!cs->fund_settle) {
        goto fail;
    }
    map_funding(m, cs->fund_settle);
    const kz_bars *b = &m->bars;
    if (push_col(cs, "open", b->open, NULL) || push_col(cs, "high", b->high, NULL) ||
        push_col(cs, "low", b->low, NULL) || push_col(cs, "close", b->close, NULL) ||
        push_col(cs, "volume", b->volume, NULL)) {
        goto fail;
    }
    if (m->funding && push_col(cs, "funding", m->funding, NULL)) {
        goto fail;
    }
    if (m->oi) {
        oich = kz_malloc_array(cs->n, sizeof *oich);
        if (!oich) {
            goto fail;
        }
        oich[0] = NAN;
        for (size_t i = 1; i < cs->n; i++) {
            oich[i] = m->oi[i] / m->oi[i - 1] - 1.0;
            if (!isfinite(oich[i])) {
                oich[i] = NAN; /* unknown or zero OI: missing, never a fake number */
            }
        }
        if (push_col(cs, "oi", m->oi, NULL)) {
            goto fail;
        }
        if (push_col(cs, "OI_CHANGE", oich, oich)) {
            goto fail;
        }
    }
    *out = cs;
    return KZ_OK;
fail:
    kz_free(oich);
    kz_colset_free(cs);
    return kz_bt_err(err, KZ_ERR_NOMEM, NULL, "out of memory building the column set");
}

void kz_colset_free(kz_colset *cs)
{
    if (!cs) {
        return;
    }
    for (size_t i = 0; i < cs->n_cols; i++) {
        kz_free(cs->cols[i].owned);
    }
    kz_free(cs->cols);
    kz_free(cs->fund_settle);
    kz_free(cs);
}

const kz_market *kz_colset_market(const kz_colset *cs)
{
    return cs ? cs->m : NULL;
}

size_t kz_colset_n_bars(const kz_colset *cs)
{
    return cs ? cs->n : 0;
}

size_t kz_colset_count(const kz_colset *cs)
{
    return cs ? cs->n_cols : 0;
}

const char *kz_colset_name(const kz_colset *cs, size_t i)
{
    return cs && i < cs->n_cols ? cs->cols[i].name : NULL;
}

const double *kz_colset_data(const kz_colset *cs, size_t i)
{
    return cs && i < cs->n_cols ? cs->cols[i].data : NULL;
}

/* ---------------------------------------------------------------- spec strings */
typedef enum spec_kind { SPEC_PLAIN, SPEC_TA, SPEC_RVOL } spec_kind;

typedef struct spec {
    spec_kind kind;
    const kz_ta_info *info; /* SPEC_TA */
    double params[KZ_TA_MAX_PARAMS];
    int output; /* SPEC_TA output index */
    int period; /* SPEC_RVOL */
    char canon[KZ_COL_NAME_MAX];
} spec;

static const char *const MARKET_ALIASES[][2] = {
    {"funding_rate", "funding"}, {"fundingrate", "funding"}, {"open_interest", "oi"},
    {"openinterest", "oi"},      {"oi_change", "OI_CHANGE"},
};

/* Parse a number that must span the whole token. */
static int parse_num(const char *s, double *v)
{
    char *end = NULL;
    if (!*s) {
        return 0;
    }
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v);
}

static void canon_ta(spec *sp)
{
    const kz_ta_info *info = sp->info;
    size_t used = (size_t)snprintf(sp->canon, sizeof sp->canon, "%s(", info->name);
    for (int k = 0; k < info->n_params && used < sizeof sp->canon; k++) {
        used += (size_t)snprintf(sp->canon + used, sizeof sp->canon - used, "%s%s=%.17g",
                                 k ? "," : "", info->params[k].name, sp->params[k]);
    }
    if (used < sizeof sp->canon) {
        used += (size_t)snprintf(sp->canon + used, sizeof sp->canon - used, ")");
    }
    if (info->n_outputs > 1 && used < sizeof sp->canon) {
        snprintf(sp->canon + used, sizeof sp->canon - used, ".%s", info->outputs[sp->output]);
    }
}

/* Parse "NAME[(args)][.output]". SPEC_PLAIN (no parentheses, not an indicator) leaves canon = the
 * name. Errors name the spec in err->field. */
static kz_status parse_spec(const char *text, spec *sp, kz_error *err)
{
    char buf[256];
    size_t len = 0;
    for (const char *p = text; *p; p++) {
        if (!isspace((unsigned char)*p)) {
            if (len + 1 >= sizeof buf) {
                return kz_bt_err(err, KZ_ERR_INVALID, text, "column spec too long");
            }
            buf[len++] = *p;
        }
    }
    buf[len] = '\0';
    memset(sp, 0, sizeof *sp);
    if (len == 0) {
        return kz_bt_err(err, KZ_ERR_INVALID, text, "empty column name");
    }
    char *paren = strchr(buf, '(');
    char *close = paren ? strrchr(buf, ')') : NULL;
    char *dot = strchr(close ? close : buf, '.');
    if (paren && (!close || close < paren || (close[1] != '\0' && close[1] != '.'))) {
        return kz_bt_err(err, KZ_ERR_INVALID, text, "unbalanced parentheses");
    }
    char name[64];
    size_t nlen = (size_t)((paren ? paren : (dot ? dot : buf + len)) - buf);
    if (nlen == 0 || nlen >= sizeof name) {
        return kz_bt_err(err, KZ_ERR_INVALID, text, "bad column name");
    }
    memcpy(name, buf, nlen);
    name[nlen] = '\0';
    const kz_ta_info *info = kz_ta_find(name);
    int is_rvol = strcasecmp(name, "RVOL") == 0;
    if (!info && !is_rvol) {
        if (paren) {
            return kz_bt_err(err, KZ_ERR_NOT_FOUND, text, "unknown indicator '%s'", name);
        }
        if (len >= sizeof sp->canon) {
            return kz_bt_err(err, KZ_ERR_INVALID, text, "column name longer than %d bytes",
                             KZ_COL_NAME_MAX - 1);
        }
        sp->kind = SPEC_PLAIN;
        memcpy(sp->canon, buf, len + 1);
        return KZ_OK;
    }
    double vals[KZ_TA_MAX_PARAMS];
    int n_params = is_rvol ? 1 : info->n_params;
    if (is_rvol) {
        vals[0] = 20.0;
    } else {
        kz_ta_defaults(info, vals);
    }
    if (paren && close > paren + 1) {
        *close = '\0';
        int pos = 0, named = 0;
        char *save = NULL;
        for (char *tok = strtok_r(paren + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(tok, '=');
            int idx = pos;
            if (eq) {
                *eq = '\0';
                idx = is_rvol ? (strcasecmp(tok, "timeperiod") == 0 ? 0 : -1)
                              : kz_ta_param_index(info, tok);
                if (idx < 0) {
                    return kz_bt_err(err, KZ_ERR_INVALID, text, "%s has no parameter '%s'", name,
                                     tok);
                }
                named = 1;
            } else if (named) {
                return kz_bt_err(err, KZ_ERR_INVALID, text,
                                 "positional parameter after a named one");
            }
            if (idx >= n_params) {
                return kz_bt_err(err, KZ_ERR_INVALID, text, "%s takes %d parameter(s)", name,
                                 n_params);
            }
            if (!parse_num(eq ? eq + 1 : tok, &vals[idx])) {
                return kz_bt_err(err, KZ_ERR_INVALID, text, "parameter value '%s' is not a number",
                                 eq ? eq + 1 : tok);
            }
            pos++;
        }
    }
    if (is_rvol) {
        if (dot || vals[0] < 2 || vals[0] > 100000 || vals[0] != floor(vals[0])) {
            return kz_bt_err(err, KZ_ERR_INVALID, text, "RVOL needs an integer timeperiod >= 2");
        }
        sp->kind = SPEC_RVOL;
        sp->period = (int)vals[0];
        kz_bt_rvol_spec(sp->period, sp->canon, sizeof sp->canon);
        return KZ_OK;
    }
    kz_error perr;
    if (kz_ta_params_check(info, vals, &perr) != KZ_OK) {
        return kz_bt_err(err, KZ_ERR_INVALID, text, "%s: %s", perr.field, perr.msg);
    }
    sp->kind = SPEC_TA;
    sp->info = info;
    memcpy(sp->params, vals, sizeof vals);
    sp->output = 0;
    if (dot) {
        int found = -1;
        for (int j = 0; j < info->n_outputs; j++) {
            if (strcasecmp(dot + 1, info->outputs[j]) == 0) {
                found = j;
            }
        }
        if (found < 0) {
            return kz_bt_err(err, KZ_ERR_INVALID, text, "%s has no output '%s'", info->name,
                             dot + 1);
        }
        sp->output = found;
    }
    canon_ta(sp);
    return KZ_OK;
}

static int find_exact(const kz_colset *cs, const char *name, int nocase)
{
    for (size_t i = 0; i < cs->n_cols; i++) {
        if ((nocase ? strcasecmp : strcmp)(cs->cols[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int kz_colset_find(const kz_colset *cs, const char *name)
{
    if (!cs || !name) {
        return -1;
    }
    int i = find_exact(cs, name, 0);
    if (i >= 0) {
        return i;
    }
    if ((i = find_exact(cs, name, 1)) >= 0) {
        return i;
    }
    for (size_t k = 0; k < sizeof MARKET_ALIASES / sizeof MARKET_ALIASES[0]; k++) {
        if (strcasecmp(name, MARKET_ALIASES[k][0]) == 0) {
            return find_exact(cs, MARKET_ALIASES[k][1], 0);
        }
    }
    spec sp;
    if (parse_spec(name, &sp, NULL) != KZ_OK || sp.kind == SPEC_PLAIN) {
        return -1;
    }
    return find_exact(cs, sp.canon, 1);
}

kz_status
kz_colset_add(kz_colset *cs, const char *name, const double *values, int copy, kz_error *err)
{
    if (!cs || !name || !values) {
        return kz_bt_err(err, KZ_ERR_INVALID, name, "NULL argument");
    }
    if (!*name || strlen(name) >= KZ_COL_NAME_MAX) {
        return kz_bt_err(err, KZ_ERR_INVALID, name, "column name empty or longer than %d bytes",
                         KZ_COL_NAME_MAX - 1);
    }
    if (kz_colset_find(cs, name) >= 0) {
        return kz_bt_err(err, KZ_ERR_INVALID, name, "column already present");
    }
    double *owned = NULL;
    if (copy) {
        owned = kz_malloc_array(cs->n, sizeof *owned);
        if (!owned) {
            return kz_bt_err(err, KZ_ERR_NOMEM, name, "out of memory");
        }
        memcpy(owned, values, cs->n * sizeof *owned);
    }
    if (push_col(cs, name, owned ? owned : values, owned) != KZ_OK) {
        kz_free(owned);
        return kz_bt_err(err, KZ_ERR_NOMEM, name, "out of memory");
    }
    return KZ_OK;
}

/* Annualised realised volatility: sample std of the last `period` log returns * sqrt(bars/yr). */
static kz_status compute_rvol(kz_colset *cs, int period, double *out)
{
    const double *c = cs->m->bars.close;
    double *lr = kz_malloc_array(cs->n, sizeof *lr);
    if (!lr) {
        return KZ_ERR_NOMEM;
    }
    lr[0] = NAN;
    for (size_t i = 1; i < cs->n; i++) {
        lr[i] = log(c[i] / c[i - 1]);
    }
    kz_status st = kz_roll_std(lr, cs->n, (size_t)period, 1, out);
    double ann = sqrt(kz_bt_bars_per_year(cs->m->tf));
    for (size_t i = 0; i < cs->n; i++) {
        out[i] *= ann;
    }
    kz_free(lr);
    return st;
}

/* Compute every output of a TA spec and add each under its canonical name. */
static kz_status compute_ta(kz_colset *cs, spec *sp, kz_error *err)
{
    const kz_ta_info *info = sp->info;
    const kz_bars *b = &cs->m->bars;
    const double *fields[] = {b->open, b->high, b->low, b->close, b->volume};
    const double *in[KZ_TA_MAX_INPUTS];
    for (int k = 0; k < info->n_inputs; k++) {
        in[k] = fields[info->inputs[k]];
    }
    double *outs[KZ_TA_MAX_OUTPUTS] = {NULL, NULL, NULL};
    kz_status st = KZ_OK;
    for (int j = 0; j < info->n_outputs; j++) {
        if (!(outs[j] = kz_malloc_array(cs->n, sizeof(double)))) {
            st = kz_bt_err(err, KZ_ERR_NOMEM, sp->canon, "out of memory");
            goto done;
        }
    }
    if ((st = kz_ta_run(info, cs->n, in, sp->params, outs, err)) != KZ_OK) {
        goto done;
    }
    int want = sp->output;
    for (int j = 0; j < info->n_outputs; j++) {
        sp->output = j;
        canon_ta(sp);
        if (find_exact(cs, sp->canon, 0) >= 0) {
            continue; /* another output of this spec was required earlier */
        }
        if (push_col(cs, sp->canon, outs[j], outs[j]) != KZ_OK) {
            st = kz_bt_err(err, KZ_ERR_NOMEM, sp->canon, "out of memory");
            goto done;
        }
        outs[j] = NULL;
    }
    sp->output = want;
    canon_ta(sp);
done:
    for (int j = 0; j < info->n_outputs; j++) {
        kz_free(outs[j]);
    }
    return st;
}

kz_status kz_colset_require(kz_colset *cs, const char *name, int *index, kz_error *err)
{
    if (!cs || !name) {
        return kz_bt_err(err, KZ_ERR_INVALID, "spec", "NULL argument");
    }
    int i = kz_colset_find(cs, name);
    if (i < 0) {
        spec sp;
        kz_status st = parse_spec(name, &sp, err);
        if (st != KZ_OK) {
            return st;
        }
        if (sp.kind == SPEC_PLAIN) {
            return kz_bt_err(
                err, KZ_ERR_NOT_FOUND, name,
                "no such column in this market (external columns such as ML_UP_PROB must be "
                "supplied: kz_colset_add, or --columns on the command line)");
        }
        if (sp.kind == SPEC_RVOL) {
            double *out = kz_malloc_array(cs->n, sizeof *out);
            if (!out || compute_rvol(cs, sp.period, out) != KZ_OK ||
                push_col(cs, sp.canon, out, out) != KZ_OK) {
                kz_free(out);
                return kz_bt_err(err, KZ_ERR_NOMEM, name, "out of memory");
            }
        } else if ((st = compute_ta(cs, &sp, err)) != KZ_OK) {
            return st;
        }
        i = find_exact(cs, sp.canon, 0);
        if (i < 0) {
            return kz_bt_err(err, KZ_ERR_INTERNAL, name, "computed column not found");
        }
    }
    if (index) {
        *index = i;
    }
    return KZ_OK;
}

static kz_status require_rule(kz_colset *cs, const kz_rule *r, const char *rname, kz_error *err)
{
    for (int k = 0; k < r->n_conds; k++) {
        const kz_condition *c = &r->conds[k];
        kz_status st = kz_colset_require(cs, c->left, NULL, err);
        if (st == KZ_OK && !c->right_is_const) {
            st = kz_colset_require(cs, c->right, NULL, err);
        }
        if (st != KZ_OK) {
            if (err) {
                char what[sizeof err->msg];
                memcpy(what, err->msg, sizeof what);
                snprintf(err->msg, sizeof err->msg, "'%.64s': %.400s", err->field, what);
                snprintf(err->field, sizeof err->field, "%s.%s[%d]", rname,
                         r->logic == KZ_LOGIC_AND ? "all" : "any", k);
            }
            return st;
        }
    }
    return KZ_OK;
}

kz_status kz_colset_prepare(kz_colset *cs, const kz_strategy *s, kz_error *err)
{
    if (!cs || !s) {
        return kz_bt_err(err, KZ_ERR_INVALID, "strategy", "NULL argument");
    }
    kz_status st = kz_strategy_check(s, err);
    if (st != KZ_OK || (st = require_rule(cs, &s->long_entry, "long_entry", err)) != KZ_OK ||
        (st = require_rule(cs, &s->short_entry, "short_entry", err)) != KZ_OK ||
        (st = require_rule(cs, &s->exit, "exit", err)) != KZ_OK) {
        return st;
    }
    char spec_buf[KZ_COL_NAME_MAX];
    if (s->tpsl.method == KZ_TPSL_ATR) {
        kz_bt_atr_spec(s->tpsl.atr_period, spec_buf, sizeof spec_buf);
        if ((st = kz_colset_require(cs, spec_buf, NULL, err)) != KZ_OK) {
            return st;
        }
    }
    if (s->sizing.method == KZ_SIZE_VOL_TARGET) {
        kz_bt_rvol_spec(s->sizing.vol_period, spec_buf, sizeof spec_buf);
        if ((st = kz_colset_require(cs, spec_buf, NULL, err)) != KZ_OK) {
            return st;
        }
    }
    return KZ_OK;
}
