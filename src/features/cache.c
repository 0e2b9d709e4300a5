/* Feature cache: computed frames keyed by an XXH64 hash of the input contents and parameters
 * (SPEC §1.8 hashed only shapes, so equal-shaped inputs returned stale features), LRU-evicted by
 * bytes, with hit/miss counters. A hit hands out a deep copy; the cache owns its entries. */
#include <stdint.h>
#include <string.h>

#include "kizashi/core.h"

#include "features_int.h"

typedef struct entry {
    uint64_t key;
    size_t n_rows;
    kz_frame *frame;
    kz_feature_report rep;
    size_t bytes;
    struct entry *prev, *next; /* prev = more recently used */
} entry;

struct kz_feature_cache {
    size_t max_bytes, bytes, entries;
    uint64_t hits, misses, evictions;
    entry *head, *tail; /* head = most recently used */
};

kz_status kz_feature_cache_new(size_t max_bytes, kz_feature_cache **out)
{
    if (!out) {
        return KZ_ERR_INVALID;
    }
    *out = NULL;
    if (max_bytes == 0) {
        return KZ_ERR_INVALID;
    }
    kz_feature_cache *c = kz_calloc(1, sizeof *c);
    if (!c) {
        return KZ_ERR_NOMEM;
    }
    c->max_bytes = max_bytes;
    *out = c;
    return KZ_OK;
}

static void unlink_entry(kz_feature_cache *c, entry *e)
{
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = NULL;
}

static void push_front(kz_feature_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head) {
        c->head->prev = e;
    } else {
        c->tail = e;
    }
    c->head = e;
}

static void drop_entry(kz_feature_cache *c, entry *e)
{
    unlink_entry(c, e);
    c->bytes -= e->bytes;
    c->entries--;
    kz_frame_free(e->frame);
    kz_free(e);
}

void kz_feature_cache_clear(kz_feature_cache *c)
{
    while (c && c->head) {
        drop_entry(c, c->head);
    }
}

void kz_feature_cache_free(kz_feature_cache *c)
{
    if (c) {
        kz_feature_cache_clear(c);
        kz_free(c);
    }
}

void kz_feature_cache_stats_get(const kz_feature_cache *c, kz_feature_cache_stats *out)
{
    if (!out) {
        return;
    }
    memset(out, 0, sizeof *out);
    if (c) {
        out->hits = c->hits;
        out->misses = c->misses;
        out->evictions = c->evictions;
        out->entries = c->entries;
        out->bytes = c->bytes;
        out->max_bytes = c->max_bytes;
    }
}

static uint64_t hash_doubles(const double *x, size_t n, uint64_t h)
{
    /* Presence is part of the key: an absent series and an empty one must differ. */
    uint8_t present = x != NULL;
    h = kz_hash64(&present, sizeof present, h);
    return x ? kz_hash64(x, n * sizeof(double), h) : h;
}

/* XXH64 over the contents: timeframe, bar count, every input array, then the parameters field by
 * field (never the struct bytes, whose padding is indeterminate). */
static uint64_t cache_key(const kz_market *m, const kz_feature_params *p)
{
    const kz_bars *b = &m->bars;
    int32_t head[2] = {(int32_t)m->tf, 0};
    uint64_t n = (uint64_t)b->n;
    uint64_t h = kz_hash64(head, sizeof head, UINT64_C(0x6b697a6173686966));
    h = kz_hash64(&n, sizeof n, h);
    h = kz_hash64(b->ts_ms, b->n * sizeof(int64_t), h);
    const double *cols[7] = {b->open, b->high, b->low, b->close, b->volume, m->funding, m->oi};
    for (size_t k = 0; k < 7; k++) {
        h = hash_doubles(cols[k], b->n, h);
    }
    int64_t pv[6] = {p->short_ma, p->long_ma, p->volatility, p->momentum, p->volume, p->groups};
    return kz_hash64(pv, sizeof pv, h);
}

static entry *find_entry(kz_feature_cache *c, uint64_t key, size_t n_rows)
{
    for (entry *e = c->head; e; e = e->next) {
        if (e->key == key && e->n_rows == n_rows) {
            return e;
        }
    }
    return NULL;
}

/* Takes ownership of f: inserts it (evicting least recently used entries to fit) or frees it
 * when it alone exceeds the budget. */
static void
insert_entry(kz_feature_cache *c, uint64_t key, kz_frame *f, const kz_feature_report *rep)
{
    size_t bytes = kz_frame_bytes(f) + sizeof(entry);
    entry *e = bytes <= c->max_bytes ? kz_calloc(1, sizeof *e) : NULL;
    if (!e) {
        kz_frame_free(f);
        return;
    }
    while (c->bytes + bytes > c->max_bytes && c->tail) {
        drop_entry(c, c->tail);
        c->evictions++;
    }
    e->key = key;
    e->n_rows = kz_frame_n_rows(f);
    e->frame = f;
    e->rep = *rep;
    e->bytes = bytes;
    push_front(c, e);
    c->bytes += bytes;
    c->entries++;
}

kz_status kz_feature_cache_compute(kz_feature_cache *c,
                                   const kz_market *m,
                                   const kz_feature_params *p,
                                   kz_frame **out,
                                   kz_feature_report *rep,
                                   kz_error *err)
{
    kz_feature_params def = kz_feature_params_default();
    if (!c || !m || !out) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0,
                            !c   ? "cache"
                            : !m ? "market"
                                 : "out",
                            "NULL argument");
    }
    *out = NULL;
    p = p ? p : &def;
    kz_status st = kz_feature_params_check(p, err);
    if (st != KZ_OK) {
        return st;
    }
    uint64_t key = cache_key(m, p);
    entry *e = find_entry(c, key, m->bars.n);
    kz_feature_report r;
    if (e) {
        st = kz_frame_copy(e->frame, out);
        if (st != KZ_OK) {
            return st;
        }
        c->hits++;
        unlink_entry(c, e);
        push_front(c, e);
        r = e->rep;
        r.cache_hit = 1;
    } else {
        st = kz_features_compute(m, p, out, &r, err);
        if (st != KZ_OK) {
            return st;
        }
        c->misses++;
        kz_frame *keep = NULL;
        /* Failing to copy only means not caching this frame. */
        if (kz_frame_copy(*out, &keep) == KZ_OK) {
            insert_entry(c, key, keep, &r);
        }
    }
    if (rep) {
        *rep = r;
    }
    return KZ_OK;
}
