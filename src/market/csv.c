/* CSV readers for bars and FR/OI series: one pass over a memory buffer, no per-row allocation.
 * Handles an optional header (columns in any order), CRLF, a missing final newline, a UTF-8
 * BOM, simple double quotes and extra columns. */
#include <string.h>

#include "market/market_int.h"

#define MAX_FIELDS 64

typedef struct span {
    const char *p;
    size_t n;
} span;

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Split [p, end) at commas into at most MAX_FIELDS trimmed, unquoted spans. Returns the number
 * of fields (may exceed MAX_FIELDS; only the first are stored) or -1 for an unterminated quote
 * (*bad = 1-based column). */
static int split_line(const char *p, const char *end, span *f, int *bad)
{
    int nf = 0;
    for (;;) {
        while (p < end && is_space(*p)) {
            p++;
        }
        const char *s = p, *e;
        if (p < end && *p == '"') {
            s = ++p;
            while (p < end && !(*p == '"' && (p + 1 >= end || p[1] != '"'))) {
                p += *p == '"' ? 2 : 1;
            }
            if (p >= end) {
                *bad = nf + 1;
                return -1;
            }
            e = p++;
            while (p < end && *p != ',') {
                p++;
            }
        } else {
            const char *c = p < end ? memchr(p, ',', (size_t)(end - p)) : NULL;
            p = c ? c : end;
            e = p;
            while (e > s && is_space(e[-1])) {
                e--;
            }
        }
        if (nf < MAX_FIELDS) {
            f[nf].p = s;
            f[nf].n = (size_t)(e - s);
        }
        nf++;
        if (p >= end) {
            return nf;
        }
        p++; /* the comma */
    }
}

static int has_letter_no_digit(span s)
{
    int letter = 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c >= '0' && c <= '9') {
            return 0;
        }
        letter |= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
    return letter;
}

/* Quote a field for an error message (at most 40 bytes echoed). */
#define ECHO(s) (int)((s).n > 40 ? 40 : (s).n), (s).p

typedef struct csv_state {
    kz_reader *rd;
    int nroles;           /* 6 for bars, 2 for series */
    int col[F_NBAR];      /* 0-based column per role */
    int need;             /* fields a row must have */
    const char *val_name; /* series value field name */
} csv_state;

/* Map header names to roles; the best-ranked name wins. */
static kz_status map_header(csv_state *cs, const span *f, int nf, long line, int *binance)
{
    kz_reader *rd = cs->rd;
    int rank[F_NBAR];
    int has_close_time = 0;
    for (int r = 0; r < cs->nroles; r++) {
        cs->col[r] = -1;
        rank[r] = 1 << 20;
    }
    int stored = nf < MAX_FIELDS ? nf : MAX_FIELDS;
    for (int i = 0; i < stored; i++) {
        char nm[64];
        kz_name_norm(f[i].p, f[i].n, nm, sizeof nm);
        has_close_time |= strcmp(nm, "closetime") == 0;
        for (int r = 0; r < cs->nroles; r++) {
            int k = kz_name_rank(rd->kind, r, nm);
            if (k >= 0 && k < rank[r]) {
                rank[r] = k;
                cs->col[r] = i;
            }
        }
    }
    cs->need = 0;
    for (int r = 0; r < cs->nroles; r++) {
        if (cs->col[r] < 0) {
            const char *want = rd->kind == KZ_DATA_BARS ? kz_bar_field_names[r]
                               : r == 0                 ? "timestamp"
                                                        : cs->val_name;
            return kz_reader_fail(rd, KZ_ERR_FORMAT, line, 0, want, "header has no '%s' column",
                                  want);
        }
        if (cs->col[r] + 1 > cs->need) {
            cs->need = cs->col[r] + 1;
        }
    }
    char first[64];
    kz_name_norm(f[0].p, f[0].n, first, sizeof first);
    *binance = strcmp(first, "opentime") == 0 && has_close_time;
    return KZ_OK;
}

static kz_status parse_row(csv_state *cs, const span *f, int nf, long line)
{
    kz_reader *rd = cs->rd;
    int cols[F_NBAR];
    for (int r = 0; r < cs->nroles; r++) {
        cols[r] = cs->col[r] + 1;
    }
    const char *ts_name = "timestamp";
    if (nf < cs->need) {
        int r = 0;
        while (r < cs->nroles && cs->col[r] < nf) {
            r++;
        }
        const char *nm = rd->kind == KZ_DATA_BARS ? kz_bar_field_names[r] : cs->val_name;
        return kz_reader_bad_row(rd, KZ_ERR_PARSE, line, nf + 1, r == 0 ? ts_name : nm,
                                 "expected at least %d fields, found %d", cs->need, nf);
    }
    span ts_s = f[cs->col[0]];
    int64_t ts;
    if (kz_time_parse(ts_s.p, ts_s.n, &ts) != KZ_OK) {
        return kz_reader_bad_row(rd, KZ_ERR_PARSE, line, cols[0], ts_name, "bad timestamp '%.*s'",
                                 ECHO(ts_s));
    }
    double v[F_NBAR - 1];
    for (int r = 1; r < cs->nroles; r++) {
        span s = f[cs->col[r]];
        if (kz_parse_double(s.p, s.n, &v[r - 1]) != 0) {
            const char *nm = rd->kind == KZ_DATA_BARS ? kz_bar_field_names[r] : cs->val_name;
            if (!s.n) {
                return kz_reader_bad_row(rd, KZ_ERR_PARSE, line, cols[r], nm, "empty field");
            }
            return kz_reader_bad_row(rd, KZ_ERR_PARSE, line, cols[r], nm,
                                     "non-numeric value '%.*s'", ECHO(s));
        }
    }
    if (rd->kind == KZ_DATA_BARS) {
        return kz_reader_add_bar(rd, line, cols, ts, v);
    }
    return kz_reader_add_point(rd, line, cols[1], cs->val_name, ts, v[0]);
}

static size_t count_lines(const char *p, const char *end)
{
    size_t n = 1;
    while (p < end) {
        const char *c = memchr(p, '\n', (size_t)(end - p));
        if (!c) {
            break;
        }
        n++;
        p = c + 1;
    }
    return n;
}

kz_status kz_csv_read(kz_reader *rd, const char *buf, size_t len, kz_format *fmt)
{
    csv_state cs;
    memset(&cs, 0, sizeof cs);
    cs.rd = rd;
    cs.nroles = rd->kind == KZ_DATA_BARS ? F_NBAR : 2;
    cs.val_name = KZ_SERIES_FIELD(rd->kind);
    const char *p = buf, *end = buf + len;
    if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF) {
        p += 3;
    }
    kz_status st = kz_reader_reserve(rd, count_lines(p, end));
    if (st != KZ_OK) {
        return st;
    }
    span f[MAX_FIELDS];
    long line = 0;
    int seen_first = 0;
    while (p < end && st == KZ_OK) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (le > p && le[-1] == '\r') {
            le--;
        }
        const char *q = p;
        p = next;
        while (q < le && is_space(*q)) {
            q++;
        }
        if (q == le) {
            continue; /* blank line */
        }
        int bad = 0;
        int nf = split_line(q, le, f, &bad);
        if (nf < 0) {
            st = kz_reader_bad_row(rd, KZ_ERR_PARSE, line, bad, "", "unterminated quote");
            continue;
        }
        if (!seen_first) {
            seen_first = 1;
            int binance = 0;
            int header = has_letter_no_digit(f[0]);
            if (header) {
                st = map_header(&cs, f, nf, line, &binance);
                rd->ts_col = cs.col[0] + 1;
            } else {
                /* Header-less: fixed positions; Binance klines always have 12 columns. */
                for (int r = 0; r < cs.nroles; r++) {
                    cs.col[r] = r;
                }
                cs.need = cs.nroles;
                rd->ts_col = 1;
                binance = rd->kind == KZ_DATA_BARS && nf == 12;
            }
            if (*fmt == KZ_FMT_AUTO) {
                *fmt = rd->kind != KZ_DATA_BARS ? KZ_FMT_SERIES_CSV
                       : binance                ? KZ_FMT_BINANCE_CSV
                                                : KZ_FMT_CSV;
            } else if (rd->kind != KZ_DATA_BARS) {
                *fmt = KZ_FMT_SERIES_CSV;
            }
            if (st != KZ_OK || header) {
                continue;
            }
        }
        st = parse_row(&cs, f, nf, line);
    }
    return st;
}
