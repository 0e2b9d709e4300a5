/* A strict, bounds-checked UBJSON reader (ubjson.org draft 12) for the booster section: it accepts
 * exactly the encoding XGBoost 1.7's UBJWriter produces, so what we validate is what XGBoost reads.
 *
 * XGBoost's UBJReader (src/common/json.cc) trusts lengths and counts and reads keys and string
 * lengths only as 'L' (int64), counted arrays only as "#L" and typed arrays only as "$d|U|l|L#L".
 * We accept that subset and nothing else: objects '{' (L-key value)* '}', arrays "[#L n" + n values
 * or "[$t#L n" + n packed elements, strings 'S' 'L' n bytes, integers i U I l L, float32 'd',
 * booleans T F and null Z. Everything is parsed twice: once to count the values, once to fill a
 * table of that size (one allocation, no recursion past MAX_DEPTH). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"

#include "model_int.h"

#define MAX_DEPTH 32

typedef struct parser {
    const uint8_t *b;
    size_t n, pos;
    ubj_val *table; /* NULL while counting */
    size_t count;   /* values seen so far */
} parser;

static int take(parser *c, size_t k, const uint8_t **at)
{
    if (k > c->n - c->pos) {
        return -1;
    }
    *at = c->b + c->pos;
    c->pos += k;
    return 0;
}

static uint64_t be(const uint8_t *p, int size)
{
    uint64_t v = 0;
    for (int i = 0; i < size; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* 'L' + a big-endian int64 that must be a length: 0 <= len <= the bytes left / unit. */
static int read_len(parser *c, size_t unit, size_t *len)
{
    const uint8_t *at;
    if (take(c, 1, &at) != 0 || at[0] != 'L' || take(c, 8, &at) != 0) {
        return -1;
    }
    uint64_t v = be(at, 8);
    if (v > (uint64_t)(c->n - c->pos) / unit) {
        return -1; /* negative (top bit set) or longer than what is left */
    }
    *len = (size_t)v;
    return 0;
}

/* Size of a typed array's element; 0 if XGBoost 1.7 has no typed array of that marker. */
static size_t elem_size(uint8_t m)
{
    switch (m) {
    case 'U':
        return 1;
    case 'd':
    case 'l':
        return 4;
    case 'L':
        return 8;
    default:
        return 0;
    }
}

static int parse_value(parser *c, int depth, size_t *index);

/* The items of a container: n values (arrays) or L-key/value pairs up to '}' (objects). */
static int parse_items(parser *c, ubj_val *v, int is_object, size_t n, int depth)
{
    size_t prev = 0, count = 0;
    for (;;) {
        const uint8_t *at;
        const uint8_t *key = NULL;
        size_t key_len = 0, child;
        if (is_object) {
            if (c->pos >= c->n) {
                return -1;
            }
            if (c->b[c->pos] == '}') {
                c->pos++;
                break;
            }
            if (read_len(c, 1, &key_len) != 0 || take(c, key_len, &at) != 0) {
                return -1;
            }
            key = at;
        } else if (count == n) {
            break;
        }
        if (parse_value(c, depth + 1, &child) != 0) {
            return -1;
        }
        if (c->table) {
            c->table[child].key = key;
            c->table[child].key_len = key_len;
            if (count == 0) {
                v->first = child;
            } else {
                c->table[prev].next = child;
            }
        }
        prev = child;
        count++;
    }
    if (v) {
        v->n = count;
    }
    return 0;
}

static int parse_value(parser *c, int depth, size_t *index)
{
    const uint8_t *at;
    if (depth > MAX_DEPTH || take(c, 1, &at) != 0) {
        return -1;
    }
    uint8_t m = at[0];
    *index = c->count++;
    ubj_val scratch, *v = c->table ? &c->table[*index] : &scratch;
    memset(v, 0, sizeof *v);
    switch (m) {
    case 'i':
    case 'U':
    case 'I':
    case 'l':
    case 'L': {
        int size = m == 'i' || m == 'U' ? 1 : (m == 'I' ? 2 : (m == 'l' ? 4 : 8));
        if (take(c, (size_t)size, &at) != 0) {
            return -1;
        }
        uint64_t u = be(at, size);
        /* Sign-extend the signed markers ('U' is the only unsigned one). */
        if (m != 'U' && size < 8 && ((u >> (8 * size - 1)) & 1u)) {
            u |= ~(uint64_t)0 << (8 * size);
        }
        v->kind = UBJ_INT;
        v->i = (int64_t)u;
        return 0;
    }
    case 'd': {
        if (take(c, 4, &at) != 0) {
            return -1;
        }
        v->kind = UBJ_FLOAT;
        v->f = (double)model_ubj_f32(at);
        return 0;
    }
    case 'T':
    case 'F':
        v->kind = UBJ_BOOL;
        v->i = m == 'T';
        return 0;
    case 'Z':
        v->kind = UBJ_NULL;
        return 0;
    case 'S':
        v->kind = UBJ_STR;
        if (read_len(c, 1, &v->n) != 0 || take(c, v->n, &v->data) != 0) {
            return -1;
        }
        return 0;
    case '{':
        v->kind = UBJ_OBJECT;
        return parse_items(c, c->table ? v : NULL, 1, 0, depth);
    case '[':
        if (take(c, 1, &at) != 0) {
            return -1;
        }
        if (at[0] == '$') {
            size_t size;
            if (take(c, 2, &at) != 0 || (size = elem_size(at[0])) == 0 || at[1] != '#') {
                return -1;
            }
            v->kind = UBJ_TYPED;
            v->elem = at[0];
            return (read_len(c, size, &v->n) != 0 || take(c, v->n * size, &v->data) != 0) ? -1 : 0;
        }
        v->kind = UBJ_ARRAY;
        if (at[0] != '#' || read_len(c, 1, &v->n) != 0) {
            return -1; /* every item needs >= 1 byte: read_len bounds n by what is left */
        }
        return parse_items(c, c->table ? v : NULL, 0, v->n, depth);
    default:
        return -1; /* 'D', 'H', 'C', 'N' and the rest: XGBoost 1.7 does not read them */
    }
}

float model_ubj_f32(const uint8_t *p)
{
    uint32_t u = (uint32_t)be(p, 4);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int64_t model_ubj_int(const ubj_val *v, size_t k)
{
    const uint8_t *p = v->data + k * elem_size(v->elem);
    switch (v->elem) {
    case 'U':
        return (int64_t)p[0];
    case 'l':
        return (int64_t)(int32_t)(uint32_t)be(p, 4);
    default:
        return (int64_t)be(p, 8);
    }
}

kz_status model_ubj_parse(const uint8_t *buf, size_t len, ubj_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    parser c = {buf, len, 0, NULL, 0};
    size_t root;
    /* One top-level object spanning the whole buffer. */
    if (!buf || len == 0 || buf[0] != '{' || parse_value(&c, 0, &root) != 0 || c.pos != len) {
        return KZ_ERR_FORMAT;
    }
    ubj_val *table = kz_malloc_array(c.count, sizeof *table);
    if (!table) {
        return KZ_ERR_NOMEM;
    }
    parser fill = {buf, len, 0, table, 0};
    if (parse_value(&fill, 0, &root) != 0 || fill.count != c.count) {
        kz_free(table); /* cannot happen: the same bytes parsed twice */
        return KZ_ERR_FORMAT;
    }
    doc->v = table;
    doc->n = c.count;
    return KZ_OK;
}

void model_ubj_free(ubj_doc *doc)
{
    if (doc) {
        kz_free(doc->v);
        doc->v = NULL;
        doc->n = 0;
    }
}

const ubj_val *model_ubj_first(const ubj_doc *doc, const ubj_val *v)
{
    if (!v || (v->kind != UBJ_ARRAY && v->kind != UBJ_OBJECT) || v->n == 0) {
        return NULL;
    }
    return &doc->v[v->first];
}

const ubj_val *model_ubj_next(const ubj_doc *doc, const ubj_val *item)
{
    return item->next ? &doc->v[item->next] : NULL;
}

int model_ubj_key_is(const ubj_val *item, const char *key)
{
    size_t k = strlen(key);
    return item->key && item->key_len == k && memcmp(item->key, key, k) == 0;
}

const ubj_val *model_ubj_get(const ubj_doc *doc, const ubj_val *obj, const char *key)
{
    if (!obj || obj->kind != UBJ_OBJECT) {
        return NULL;
    }
    for (const ubj_val *c = model_ubj_first(doc, obj); c; c = model_ubj_next(doc, c)) {
        if (model_ubj_key_is(c, key)) {
            return c;
        }
    }
    return NULL;
}

int model_ubj_keys_exactly(const ubj_doc *doc,
                           const ubj_val *obj,
                           const char *const *keys,
                           size_t n_keys)
{
    if (!obj || obj->kind != UBJ_OBJECT || obj->n != n_keys) {
        return 0;
    }
    /* n_keys items, each one of the keys: with no key twice, every key is there exactly once. */
    for (const ubj_val *c = model_ubj_first(doc, obj); c; c = model_ubj_next(doc, c)) {
        size_t hits = 0;
        for (size_t k = 0; k < n_keys; k++) {
            hits += (size_t)model_ubj_key_is(c, keys[k]);
        }
        for (const ubj_val *d = model_ubj_next(doc, c); d && hits == 1;
             d = model_ubj_next(doc, d)) {
            hits += d->key_len == c->key_len && memcmp(d->key, c->key, c->key_len) == 0;
        }
        if (hits != 1) {
            return 0;
        }
    }
    return 1;
}
