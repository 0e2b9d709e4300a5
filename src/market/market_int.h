/* Internal declarations shared by the market module's files (readers, validation, containers).
 * Not installed; nothing outside src/market includes it. */
#ifndef KZ_MARKET_INT_H
#define KZ_MARKET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kizashi/core.h"
#include "kizashi/market.h"

#include "core/core_int.h"

/* Canonical bar field names, indexed like the parsed columns (timestamp first). */
enum { F_TS, F_OPEN, F_HIGH, F_LOW, F_CLOSE, F_VOLUME, F_NBAR };
extern const char *const kz_bar_field_names[F_NBAR];

/* Parse a decimal number (optional sign, digits, '.', exponent, or nan/inf) spanning exactly
 * [s, s+len). Correctly rounded. Returns 0 on success, -1 if the text is not a number. */
int kz_parse_double(const char *s, size_t len, double *out);

/* Timestamp from a JSON number (s / ms / us / ns by magnitude, like kz_time_parse). */
kz_status kz_time_from_double(double v, int64_t *out_ms);

/* Read context shared by all readers of one call. Rows are appended to `bars` or `series` with
 * their source line (file line, or JSON element number) in `lines`. */
typedef struct kz_reader {
    const char *name;
    const kz_read_opts *opts;
    kz_data_kind kind;
    kz_error *err;
    kz_read_report *rep;
    int64_t tf_ms;
    int json;          /* 1: locations are JSON element numbers */
    int ts_col;        /* 1-based timestamp column, for duplicate errors */
    kz_bars *bars;     /* kind == KZ_DATA_BARS */
    kz_series *series; /* otherwise */
    long *lines;
    size_t lines_cap;
} kz_reader;

/* Report a bad row. In skip_bad mode the row is counted and passed to on_skip, and KZ_OK is
 * returned (the caller drops the row); otherwise err is filled and `code` is returned. */
kz_status kz_reader_bad_row(
    kz_reader *rd, kz_status code, long line, int column, const char *field, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
/* A fatal error for the whole read (malformed JSON, missing column, OOM). Returns `code`. */
kz_status kz_reader_fail(
    kz_reader *rd, kz_status code, long line, int column, const char *field, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Reserve room for `n` more rows (bars or series, plus line numbers). */
kz_status kz_reader_reserve(kz_reader *rd, size_t n);
/* Validate a parsed bar (v = o,h,l,c,vol; cols = 1-based columns of ts,o,h,l,c,v) and append it.
 * Bad rows go through kz_reader_bad_row. */
kz_status kz_reader_add_bar(kz_reader *rd, long line, const int *cols, int64_t ts, const double *v);
/* Validate a series point and append it. */
kz_status kz_reader_add_point(
    kz_reader *rd, long line, int val_col, const char *val_field, int64_t ts, double value);

/* Normalise a column or key name: lowercase, without '_', '-', spaces, tabs and quotes. */
void kz_name_norm(const char *s, size_t n, char *out, size_t cap);
/* Preference rank (0 = best) of a normalised name for a role, -1 if not accepted. Roles: bars
 * F_TS..F_VOLUME; series 0 = timestamp, 1 = value. */
int kz_name_rank(kz_data_kind kind, int role, const char *norm);
/* Canonical value field name of a series kind ("funding_rate" / "open_interest"). */
#define KZ_SERIES_FIELD(kind) ((kind) == KZ_DATA_FUNDING ? "funding_rate" : "open_interest")

/* Reverse the staged rows (for newest-first sources). */
void kz_reader_reverse(kz_reader *rd);

/* Format readers: append rows to rd; the detected format is returned in *fmt. */
kz_status kz_csv_read(kz_reader *rd, const char *buf, size_t len, kz_format *fmt);
kz_status kz_json_read(kz_reader *rd, const char *buf, size_t len, kz_format *fmt);

/* True if the first non-blank byte (after a UTF-8 BOM) opens a JSON document. */
int kz_looks_like_json(const char *buf, size_t len);

#endif
