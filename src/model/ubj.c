/* A bounds-checking UBJSON validator (ubjson.org draft 12, as XGBoost writes it) run before the
 * booster bytes reach XGBoost 1.7, whose reader trusts lengths and counts: a crafted or damaged
 * file with a valid checksum must give an error, never an out-of-bounds read. */
#include <stddef.h>
#include <stdint.h>

#include "model_int.h"

#define MAX_DEPTH 64

typedef struct cursor {
    const uint8_t *b;
    size_t n, pos;
} cursor;

/* Size of a fixed-size scalar marker's payload; -1 if the marker is not one. */
static int scalar_size(uint8_t m)
{
    switch (m) {
    case 'Z':
    case 'N':
    case 'T':
    case 'F':
        return 0;
    case 'i':
    case 'U':
    case 'C':
        return 1;
    case 'I':
        return 2;
    case 'l':
    case 'd':
        return 4;
    case 'L':
    case 'D':
        return 8;
    default:
        return -1;
    }
}

static int take(cursor *c, size_t k)
{
    if (k > c->n - c->pos) {
        return -1;
    }
    c->pos += k;
    return 0;
}

/* A non-negative integer (a length or count) with its own marker, big-endian. */
static int read_len(cursor *c, uint64_t *out)
{
    if (c->pos >= c->n) {
        return -1;
    }
    uint8_t m = c->b[c->pos++];
    int sz = (m == 'i' || m == 'U') ? 1 : (m == 'I' ? 2 : (m == 'l' ? 4 : (m == 'L' ? 8 : 0)));
    if (sz == 0 || (size_t)sz > c->n - c->pos) {
        return -1;
    }
    uint64_t v = 0;
    for (int i = 0; i < sz; i++) {
        v = (v << 8) | c->b[c->pos + (size_t)i];
    }
    /* Signed types: a set top bit is a negative length. */
    if (m != 'U' && (v >> (8 * sz - 1)) & 1u) {
        return -1;
    }
    c->pos += (size_t)sz;
    *out = v;
    return 0;
}

static int value(cursor *c, uint8_t m, int depth);

static int string_body(cursor *c)
{
    uint64_t len;
    return (read_len(c, &len) != 0 || len > c->n - c->pos) ? -1 : take(c, (size_t)len);
}

/* Body of '[' or '{' after the marker: optional "$type", optional "#count", then items. */
static int container(cursor *c, int is_object, int depth)
{
    if (depth > MAX_DEPTH) {
        return -1;
    }
    int typed = -1;
    uint64_t count = 0;
    int counted = 0;
    if (c->pos < c->n && c->b[c->pos] == '$') {
        if (c->pos + 1 >= c->n) {
            return -1;
        }
        typed = c->b[c->pos + 1];
        c->pos += 2;
        if (c->pos >= c->n || c->b[c->pos] != '#') {
            return -1; /* "$" requires "#" */
        }
    }
    if (c->pos < c->n && c->b[c->pos] == '#') {
        c->pos++;
        if (read_len(c, &count) != 0) {
            return -1;
        }
        counted = 1;
    }
    if (typed >= 0 && !is_object) {
        int sz = scalar_size((uint8_t)typed);
        if (sz > 0) {
            /* A packed array: count * size bytes must be there. */
            return (count > (c->n - c->pos) / (uint64_t)sz) ? -1
                                                            : take(c, (size_t)count * (size_t)sz);
        }
    }
    /* Every remaining item needs at least one byte: bounds the loop. */
    if (counted && count > c->n - c->pos) {
        return -1;
    }
    for (uint64_t i = 0; counted ? i < count : 1; i++) {
        if (c->pos >= c->n) {
            return -1;
        }
        if (!counted && c->b[c->pos] == (is_object ? '}' : ']')) {
            c->pos++;
            return 0;
        }
        if (is_object && string_body(c) != 0) {
            return -1;
        }
        uint8_t m;
        if (typed >= 0) {
            m = (uint8_t)typed;
        } else {
            if (c->pos >= c->n) {
                return -1;
            }
            m = c->b[c->pos++];
        }
        if (value(c, m, depth + 1) != 0) {
            return -1;
        }
    }
    return 0;
}

static int value(cursor *c, uint8_t m, int depth)
{
    int sz = scalar_size(m);
    if (sz >= 0) {
        return take(c, (size_t)sz);
    }
    switch (m) {
    case 'S':
    case 'H':
        return string_body(c);
    case '[':
        return container(c, 0, depth);
    case '{':
        return container(c, 1, depth);
    default:
        return -1;
    }
}

int model_ubj_valid(const uint8_t *buf, size_t len)
{
    cursor c = {buf, len, 0};
    if (!buf || len == 0) {
        return 0;
    }
    uint8_t m = c.b[c.pos++];
    /* One top-level object that spans the whole buffer. */
    return m == '{' && value(&c, m, 0) == 0 && c.pos == len;
}
