/* Strategies: defaults, validation, and the JSON form that reads as rules
 * ("RSI(timeperiod=14) crosses_above 30"), strict on unknown members so typos are caught. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kizashi/core.h"

#include "core/core_int.h"
#include "strategy/strategy_int.h"

static const char *const OP_NAMES[] = {">", "<", ">=", "<=", "crosses_above", "crosses_below"};
static const char *const TPSL_NAMES[] = {"none", "fixed", "rr", "atr"};
static const char *const SIZE_NAMES[] = {"fraction", "vol_target", "fixed_qty"};
static const char *const RULE_NAMES[] = {"long_entry", "short_entry", "exit"};

const char *kz_cond_op_str(kz_cond_op op)
{
    return (unsigned)op <= KZ_OP_CROSS_BELOW ? OP_NAMES[op] : "?";
}

kz_strategy kz_strategy_default(void)
{
    kz_strategy s;
    memset(&s, 0, sizeof s);
    s.tpsl.method = KZ_TPSL_NONE;
    s.tpsl.sl_pct = 0.03;
    s.tpsl.tp_pct = 0.06;
    s.tpsl.rr = 2.0;
    s.tpsl.atr_period = 14;
    s.tpsl.atr_sl = 2.0;
    s.tpsl.atr_tp = 4.0;
    s.sizing.method = KZ_SIZE_FRACTION;
    s.sizing.fraction = 1.0;
    s.sizing.target_vol = 0.5;
    s.sizing.vol_period = 24;
    s.sizing.qty = 1.0;
    s.leverage = 1.0;
    return s;
}

static const kz_rule *rule_at(const kz_strategy *s, int k)
{
    return k == 0 ? &s->long_entry : (k == 1 ? &s->short_entry : &s->exit);
}

static kz_rule *rule_at_mut(kz_strategy *s, int k)
{
    return k == 0 ? &s->long_entry : (k == 1 ? &s->short_entry : &s->exit);
}

static int name_ok(const char *name)
{
    return memchr(name, '\0', KZ_COL_NAME_MAX) != NULL && name[0] != '\0';
}

static kz_status check_rule(const kz_rule *r, const char *rname, kz_error *err)
{
    char f[64];
    if (r->logic != KZ_LOGIC_AND && r->logic != KZ_LOGIC_OR) {
        return kz_bt_err(err, KZ_ERR_INVALID, rname, "logic must be all (AND) or any (OR)");
    }
    if (r->n_conds < 0 || r->n_conds > KZ_RULE_MAX_CONDS) {
        return kz_bt_err(err, KZ_ERR_INVALID, rname, "a rule has 0..%d conditions",
                         KZ_RULE_MAX_CONDS);
    }
    const char *lg = r->logic == KZ_LOGIC_AND ? "all" : "any";
    for (int k = 0; k < r->n_conds; k++) {
        const kz_condition *c = &r->conds[k];
        if (!name_ok(c->left)) {
            snprintf(f, sizeof f, "%s.%s[%d].left", rname, lg, k);
            return kz_bt_err(err, KZ_ERR_INVALID, f, "empty or unterminated column name");
        }
        if ((unsigned)c->op > KZ_OP_CROSS_BELOW) {
            snprintf(f, sizeof f, "%s.%s[%d].op", rname, lg, k);
            return kz_bt_err(err, KZ_ERR_INVALID, f, "unknown operator %d", (int)c->op);
        }
        if (c->right_is_const ? !isfinite(c->right_value) : !name_ok(c->right)) {
            snprintf(f, sizeof f, "%s.%s[%d].right", rname, lg, k);
            return kz_bt_err(err, KZ_ERR_INVALID, f, "not a finite constant or a column name");
        }
    }
    return KZ_OK;
}

/* x finite and lo <= x <= hi (lo_open / hi_open exclude the bound). */
static int in_range(double x, double lo, int lo_open, double hi, int hi_open)
{
    return isfinite(x) && (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
}

kz_status kz_strategy_check(const kz_strategy *s, kz_error *err)
{
    if (!s) {
        return kz_bt_err(err, KZ_ERR_INVALID, "strategy", "NULL strategy");
    }
    for (int k = 0; k < 3; k++) {
        kz_status st = check_rule(rule_at(s, k), RULE_NAMES[k], err);
        if (st != KZ_OK) {
            return st;
        }
    }
    const kz_tpsl *t = &s->tpsl;
    switch (t->method) {
    case KZ_TPSL_NONE:
        break;
    case KZ_TPSL_FIXED:
        if (!in_range(t->sl_pct, 0, 0, 1, 1)) {
            return kz_bt_err(err, KZ_ERR_INVALID, "tpsl.sl_pct", "must be in [0, 1)");
        }
        if (!in_range(t->tp_pct, 0, 0, 1e6, 0)) {
            return kz_bt_err(err, KZ_ERR_INVALID, "tpsl.tp_pct", "must be >= 0");
        }
        break;
    case KZ_TPSL_RR:
        if (!in_range(t->sl_pct, 0, 1, 1, 1)) {
            return kz_bt_err(err, KZ_ERR_INVALID, "tpsl.sl_pct", "must be in (0, 1)");
        }
        if (!in_range(t->rr, 0, 1, 1e6, 0)) {
            return kz_bt_err(err, KZ_ERR_INVALID, "tpsl.rr", "must be > 0");
        }
        break;
    case KZ_TPSL_ATR:
        if (t->atr_period < 1 || t->atr_period > 100000) {
            return kz_bt_err(err, KZ_ERR_INVALID, "tpsl.atr_period", "must be in 1..100000");
        }
        if (!in_range(t->atr_sl, 0, 0, 1e6, 0) || !in_range(t->atr_tp, 0, 0, 1e6, 0)) {
            return kz_bt_err(err, KZ_ERR_INVALID,
                             !in_range(t->atr_sl, 0, 0, 1e6, 0) ? "tpsl.atr_sl" : "tpsl.atr_tp",
                             "ATR multiples must be >= 0");
        }
        break;
    default:
        return kz_bt_err(err, KZ_ERR_INVALID, "tpsl.method", "unknown method");
    }
    const kz_sizing *z = &s->sizing;
    switch (z->method) {
    case KZ_SIZE_FRACTION:
        if (!in_range(z->fraction, 0, 1, 1, 0)) {
            return kz_bt_err(err, KZ_ERR_INVALID, "sizing.fraction", "must be in (0, 1]");
        }
        break;
    case KZ_SIZE_VOL_TARGET:
        if (!in_range(z->target_vol, 0, 1, 100, 0)) {
            return kz_bt_err(err, KZ_ERR_INVALID, "sizing.target_vol", "must be in (0, 100]");
        }
        if (z->vol_period < 2 || z->vol_period > 100000) {
            return kz_bt_err(err, KZ_ERR_INVALID, "sizing.vol_period", "must be in 2..100000");
        }
        break;
    case KZ_SIZE_FIXED_QTY:
        if (!in_range(z->qty, 0, 1, 1e15, 0)) {
            return kz_bt_err(err, KZ_ERR_INVALID, "sizing.qty", "must be > 0");
        }
        break;
    default:
        return kz_bt_err(err, KZ_ERR_INVALID, "sizing.method", "unknown method");
    }
    if (!in_range(s->leverage, 0, 1, 100, 0)) {
        return kz_bt_err(err, KZ_ERR_INVALID, "leverage", "must be in (0, 100]");
    }
    if (!memchr(s->name, '\0', sizeof s->name)) {
        return kz_bt_err(err, KZ_ERR_INVALID, "name", "unterminated name");
    }
    return KZ_OK;
}

/* ---------------------------------------------------------------- reading */
static int parse_op(const char *s, kz_cond_op *op)
{
    static const struct {
        const char *name;
        kz_cond_op op;
    } ALIASES[] = {{"crosses-above", KZ_OP_CROSS_ABOVE},
                   {"crosses-below", KZ_OP_CROSS_BELOW},
                   {"cross_above", KZ_OP_CROSS_ABOVE},
                   {"cross_below", KZ_OP_CROSS_BELOW}};
    for (int k = 0; k <= KZ_OP_CROSS_BELOW; k++) {
        if (strcasecmp(s, OP_NAMES[k]) == 0) {
            *op = (kz_cond_op)k;
            return 1;
        }
    }
    for (size_t k = 0; k < sizeof ALIASES / sizeof ALIASES[0]; k++) {
        if (strcasecmp(s, ALIASES[k].name) == 0) {
            *op = ALIASES[k].op;
            return 1;
        }
    }
    return 0;
}

/* Copy a column name without whitespace; 0 if empty or too long. */
static int copy_name(char *dst, const char *src, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isspace((unsigned char)src[i])) {
            if (k + 1 >= KZ_COL_NAME_MAX) {
                return 0;
            }
            dst[k++] = src[i];
        }
    }
    dst[k] = '\0';
    return k > 0;
}

static int set_right(kz_condition *c, const char *tok, size_t len)
{
    char buf[KZ_COL_NAME_MAX];
    if (!copy_name(buf, tok, len)) {
        return 0;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end == '\0' && errno == 0 && isfinite(v)) {
        c->right_is_const = 1;
        c->right_value = v;
        return 1;
    }
    c->right_is_const = 0;
    memcpy(c->right, buf, sizeof buf);
    return 1;
}

/* "LEFT OP RIGHT": split at whitespace outside parentheses. */
static kz_status
parse_cond_string(const char *text, kz_condition *c, const char *field, kz_error *err)
{
    const char *tok[4];
    size_t tlen[4];
    int n = 0, depth = 0;
    const char *p = text;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) {
            p++;
        }
        if (!*p) {
            break;
        }
        const char *start = p;
        while (*p && (depth > 0 || !isspace((unsigned char)*p))) {
            depth += (*p == '(') - (*p == ')');
            p++;
        }
        if (n == 4) {
            break;
        }
        tok[n] = start;
        tlen[n++] = (size_t)(p - start);
    }
    if (n != 3) {
        return kz_bt_err(err, KZ_ERR_INVALID, field,
                         "'%s': expected 'LEFT OP RIGHT' (three parts separated by spaces)", text);
    }
    char opbuf[32];
    if (tlen[1] >= sizeof opbuf) {
        tlen[1] = sizeof opbuf - 1;
    }
    memcpy(opbuf, tok[1], tlen[1]);
    opbuf[tlen[1]] = '\0';
    if (!parse_op(opbuf, &c->op)) {
        return kz_bt_err(err, KZ_ERR_INVALID, field,
                         "unknown operator '%s' (use > < >= <= crosses_above crosses_below)",
                         opbuf);
    }
    if (!copy_name(c->left, tok[0], tlen[0]) || !set_right(c, tok[2], tlen[2])) {
        return kz_bt_err(err, KZ_ERR_INVALID, field, "'%s': operand empty or longer than %d", text,
                         KZ_COL_NAME_MAX - 1);
    }
    return KZ_OK;
}

static kz_status
parse_cond_object(const cJSON *o, kz_condition *c, const char *field, kz_error *err)
{
    const cJSON *l = NULL, *op = NULL, *r = NULL, *it = NULL;
    cJSON_ArrayForEach(it, o)
    {
        if (strcmp(it->string, "left") == 0) {
            l = it;
        } else if (strcmp(it->string, "op") == 0) {
            op = it;
        } else if (strcmp(it->string, "right") == 0) {
            r = it;
        } else {
            return kz_bt_err(err, KZ_ERR_INVALID, field, "unknown member '%s'", it->string);
        }
    }
    if (!cJSON_IsString(l) || !copy_name(c->left, l->valuestring, strlen(l->valuestring))) {
        return kz_bt_err(err, KZ_ERR_INVALID, field, "'left' must be a column name");
    }
    if (!cJSON_IsString(op) || !parse_op(op->valuestring, &c->op)) {
        return kz_bt_err(err, KZ_ERR_INVALID, field,
                         "'op' must be one of > < >= <= "
                         "crosses_above crosses_below");
    }
    if (cJSON_IsNumber(r) && isfinite(r->valuedouble)) {
        c->right_is_const = 1;
        c->right_value = r->valuedouble;
    } else if (!cJSON_IsString(r) || !set_right(c, r->valuestring, strlen(r->valuestring))) {
        return kz_bt_err(err, KZ_ERR_INVALID, field, "'right' must be a column name or a number");
    }
    return KZ_OK;
}

static kz_status parse_rule(const cJSON *v, kz_rule *r, const char *rname, kz_error *err)
{
    memset(r, 0, sizeof *r);
    if (!v || cJSON_IsNull(v)) {
        return KZ_OK;
    }
    const cJSON *list = v;
    char f[64];
    if (cJSON_IsObject(v)) {
        if (cJSON_GetArraySize(v) != 1 ||
            (strcmp(v->child->string, "all") != 0 && strcmp(v->child->string, "any") != 0)) {
            return kz_bt_err(err, KZ_ERR_INVALID, rname,
                             "a rule is {\"all\": [...]} or {\"any\": [...]}");
        }
        list = v->child;
        r->logic = strcmp(list->string, "any") == 0 ? KZ_LOGIC_OR : KZ_LOGIC_AND;
    }
    if (!cJSON_IsArray(list)) {
        return kz_bt_err(err, KZ_ERR_INVALID, rname, "conditions must be an array");
    }
    int n = cJSON_GetArraySize(list);
    if (n > KZ_RULE_MAX_CONDS) {
        return kz_bt_err(err, KZ_ERR_INVALID, rname, "%d conditions; at most %d", n,
                         KZ_RULE_MAX_CONDS);
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, list)
    {
        snprintf(f, sizeof f, "%s.%s[%d]", rname, r->logic == KZ_LOGIC_OR ? "any" : "all",
                 r->n_conds);
        kz_condition *c = &r->conds[r->n_conds];
        kz_status st = cJSON_IsString(it)   ? parse_cond_string(it->valuestring, c, f, err)
                       : cJSON_IsObject(it) ? parse_cond_object(it, c, f, err)
                                            : kz_bt_err(err, KZ_ERR_INVALID, f,
                                                        "a condition is a string or an object");
        if (st != KZ_OK) {
            return st;
        }
        r->n_conds++;
    }
    return KZ_OK;
}

/* A named enum member: index in names[0..n) or -1. */
static int enum_index(const cJSON *v, const char *const *names, int n)
{
    if (!cJSON_IsString(v)) {
        return -1;
    }
    for (int k = 0; k < n; k++) {
        if (strcasecmp(v->valuestring, names[k]) == 0) {
            return k;
        }
    }
    return -1;
}

typedef struct num_member {
    const char *name;
    double *d; /* one of d / i */
    int *i;
} num_member;

/* Read an object of a "method" string plus numeric members. */
static kz_status parse_block(const cJSON *o,
                             const char *bname,
                             const char *const *methods,
                             int n_methods,
                             int *method,
                             const num_member *mem,
                             int n_mem,
                             kz_error *err)
{
    char f[64];
    if (!cJSON_IsObject(o)) {
        return kz_bt_err(err, KZ_ERR_INVALID, bname, "must be an object");
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, o)
    {
        snprintf(f, sizeof f, "%s.%s", bname, it->string);
        if (strcmp(it->string, "method") == 0) {
            int m = enum_index(it, methods, n_methods);
            if (m < 0) {
                return kz_bt_err(err, KZ_ERR_INVALID, f, "unknown method '%s'",
                                 cJSON_IsString(it) ? it->valuestring : "?");
            }
            *method = m;
            continue;
        }
        int k = 0;
        while (k < n_mem && strcmp(it->string, mem[k].name) != 0) {
            k++;
        }
        if (k == n_mem) {
            return kz_bt_err(err, KZ_ERR_INVALID, f, "unknown member");
        }
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
            return kz_bt_err(err, KZ_ERR_INVALID, f, "must be a number");
        }
        if (mem[k].d) {
            *mem[k].d = it->valuedouble;
        } else {
            double v = it->valuedouble;
            if (v != floor(v) || fabs(v) > 1e9) {
                return kz_bt_err(err, KZ_ERR_INVALID, f, "must be an integer");
            }
            *mem[k].i = (int)v;
        }
    }
    return KZ_OK;
}

static kz_status from_cjson(const cJSON *root, kz_strategy *s, kz_error *err)
{
    if (!cJSON_IsObject(root)) {
        return kz_bt_err(err, KZ_ERR_INVALID, "", "a strategy is a JSON object");
    }
    const cJSON *it = NULL;
    kz_status st = KZ_OK;
    cJSON_ArrayForEach(it, root)
    {
        const char *k = it->string;
        int r = 0;
        while (r < 3 && strcmp(k, RULE_NAMES[r]) != 0) {
            r++;
        }
        if (r < 3) {
            st = parse_rule(it, rule_at_mut(s, r), k, err);
        } else if (strcmp(k, "name") == 0) {
            if (!cJSON_IsString(it) || strlen(it->valuestring) >= sizeof s->name) {
                return kz_bt_err(err, KZ_ERR_INVALID, "name", "a string of at most %zu bytes",
                                 sizeof s->name - 1);
            }
            snprintf(s->name, sizeof s->name, "%s", it->valuestring);
        } else if (strcmp(k, "leverage") == 0) {
            if (!cJSON_IsNumber(it)) {
                return kz_bt_err(err, KZ_ERR_INVALID, "leverage", "must be a number");
            }
            s->leverage = it->valuedouble;
        } else if (strcmp(k, "tpsl") == 0) {
            int m = (int)s->tpsl.method;
            const num_member mem[] = {
                {"sl_pct", &s->tpsl.sl_pct, NULL}, {"tp_pct", &s->tpsl.tp_pct, NULL},
                {"rr", &s->tpsl.rr, NULL},         {"atr_period", NULL, &s->tpsl.atr_period},
                {"atr_sl", &s->tpsl.atr_sl, NULL}, {"atr_tp", &s->tpsl.atr_tp, NULL}};
            st = parse_block(it, "tpsl", TPSL_NAMES, 4, &m, mem, 6, err);
            s->tpsl.method = (kz_tpsl_method)m;
        } else if (strcmp(k, "sizing") == 0) {
            int m = (int)s->sizing.method;
            const num_member mem[] = {{"fraction", &s->sizing.fraction, NULL},
                                      {"target_vol", &s->sizing.target_vol, NULL},
                                      {"vol_period", NULL, &s->sizing.vol_period},
                                      {"qty", &s->sizing.qty, NULL}};
            st = parse_block(it, "sizing", SIZE_NAMES, 3, &m, mem, 4, err);
            s->sizing.method = (kz_sizing_method)m;
        } else {
            return kz_bt_err(err, KZ_ERR_INVALID, k, "unknown member");
        }
        if (st != KZ_OK) {
            return st;
        }
    }
    return kz_strategy_check(s, err);
}

kz_status kz_strategy_from_json(
    const char *text, size_t len, const char *name, kz_strategy *out, kz_error *err)
{
    if (!text || !out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "", "NULL argument");
    }
    *out = kz_strategy_default();
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    kz_status st;
    if (!root) {
        long line = 1;
        int col = 1;
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        for (size_t i = 0; i < off && i < len; i++) {
            col = text[i] == '\n' ? 1 : col + 1;
            line += text[i] == '\n';
        }
        st = kz_bt_err(err, KZ_ERR_PARSE, "", "malformed JSON");
        if (err) {
            err->line = line;
            err->column = col;
        }
    } else {
        st = from_cjson(root, out, err);
        cJSON_Delete(root);
    }
    if (err && st != KZ_OK) {
        snprintf(err->file, sizeof err->file, "%s", name ? name : "<strategy>");
    }
    if (st != KZ_OK) {
        *out = kz_strategy_default();
    }
    return st;
}

kz_status kz_strategy_read_file(const char *path, kz_strategy *out, kz_error *err)
{
    if (!path || !out) {
        return kz_bt_err(err, KZ_ERR_INVALID, "path", "NULL argument");
    }
    char *buf = NULL;
    size_t len = 0;
    /* A strategy is a few KiB; anything over 64 MiB is not one. */
    kz_status st = kz_read_file(path, (size_t)1 << 26, &buf, &len, err);
    if (st == KZ_OK) {
        st = kz_strategy_from_json(buf, len, path, out, err);
    }
    kz_free(buf);
    if (err && st != KZ_OK && !err->file[0]) {
        snprintf(err->file, sizeof err->file, "%s", path);
    }
    return st;
}

/* ---------------------------------------------------------------- writing */
/* Shortest of %.15g/%.16g/%.17g that reads back as exactly v (cJSON's own printer accepts an
 * approximate 15-digit form, which would break the exact round trip). */
static void fmt_exact(double v, char *buf, size_t size)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) {
            return;
        }
    }
}

static void add_exact(cJSON *o, const char *key, double v)
{
    char buf[40];
    fmt_exact(v, buf, sizeof buf);
    cJSON_AddRawToObject(o, key, buf);
}
static cJSON *rule_json(const kz_rule *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, r->logic == KZ_LOGIC_OR ? "any" : "all");
    if (!arr) {
        cJSON_Delete(o);
        return NULL;
    }
    for (int k = 0; k < r->n_conds; k++) {
        const kz_condition *c = &r->conds[k];
        char right[KZ_COL_NAME_MAX], text[3 * KZ_COL_NAME_MAX];
        if (c->right_is_const) {
            fmt_exact(c->right_value, right, sizeof right);
        } else {
            snprintf(right, sizeof right, "%s", c->right);
        }
        snprintf(text, sizeof text, "%s %s %s", c->left, kz_cond_op_str(c->op), right);
        cJSON_AddItemToArray(arr, cJSON_CreateString(text));
    }
    return o;
}

kz_status kz_strategy_to_json(const kz_strategy *s, char **out)
{
    if (!s || !out) {
        return KZ_ERR_INVALID;
    }
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        return KZ_ERR_NOMEM;
    }
    cJSON_AddStringToObject(root, "name", s->name);
    for (int k = 0; k < 3; k++) {
        cJSON *r = rule_json(rule_at(s, k));
        if (r) {
            cJSON_AddItemToObject(root, RULE_NAMES[k], r);
        }
    }
    /* every field is written (not only the method's) so that reading gives back the same struct */
    cJSON *t = cJSON_AddObjectToObject(root, "tpsl");
    const kz_tpsl *tp = &s->tpsl;
    if (t) {
        cJSON_AddStringToObject(
            t, "method",
            TPSL_NAMES[(unsigned)tp->method <= KZ_TPSL_ATR ? tp->method : KZ_TPSL_NONE]);
        add_exact(t, "sl_pct", tp->sl_pct);
        add_exact(t, "tp_pct", tp->tp_pct);
        add_exact(t, "rr", tp->rr);
        cJSON_AddNumberToObject(t, "atr_period", tp->atr_period);
        add_exact(t, "atr_sl", tp->atr_sl);
        add_exact(t, "atr_tp", tp->atr_tp);
    }
    cJSON *z = cJSON_AddObjectToObject(root, "sizing");
    const kz_sizing *sz = &s->sizing;
    if (z) {
        cJSON_AddStringToObject(
            z, "method",
            SIZE_NAMES[(unsigned)sz->method <= KZ_SIZE_FIXED_QTY ? sz->method : KZ_SIZE_FRACTION]);
        add_exact(z, "fraction", sz->fraction);
        add_exact(z, "target_vol", sz->target_vol);
        cJSON_AddNumberToObject(z, "vol_period", sz->vol_period);
        add_exact(z, "qty", sz->qty);
    }
    add_exact(root, "leverage", s->leverage);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        return KZ_ERR_NOMEM;
    }
    *out = kz_strdup(text);
    cJSON_free(text);
    return *out ? KZ_OK : KZ_ERR_NOMEM;
}
