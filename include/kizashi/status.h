/* kizashi status codes and the caller-provided error detail struct.
 * Thread contract: everything here is reentrant; kz_error is owned by the caller. */
#ifndef KIZASHI_STATUS_H
#define KIZASHI_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#    define KZ_NODISCARD __attribute__((warn_unused_result))
#else
#    define KZ_NODISCARD
#endif

/* One status enum for the whole library. KZ_OK is 0; values are only ever appended. */
typedef enum kz_status {
    KZ_OK = 0,
    KZ_ERR_INVALID,    /* a parameter or argument is out of its documented domain */
    KZ_ERR_NOMEM,      /* an allocation failed (or a size computation overflowed) */
    KZ_ERR_IO,         /* a file could not be opened, read or written */
    KZ_ERR_PARSE,      /* input text is malformed (names file, line, column) */
    KZ_ERR_VALIDATION, /* input parsed but violates a data rule (high < low, off-grid, ...) */
    KZ_ERR_FORMAT,     /* the input's format could not be detected or is unsupported */
    KZ_ERR_NOT_FOUND,  /* the requested series, name or row does not exist */
    KZ_ERR_STORE,      /* the embedded database reported an error */
    KZ_ERR_RANGE,      /* a value does not fit (too many rows, timestamp out of range) */
    KZ_ERR_CANCELLED,  /* a cooperative stop or deadline ended the call */
    KZ_ERR_INTERNAL,   /* an internal invariant failed: a bug, please report it */
    KZ_ERR_MODEL,      /* the model library reported an error */
    KZ_ERR_MISMATCH    /* inputs disagree (feature names, shapes, versions) */
} kz_status;

/* A static English string for a status; never NULL ("unknown status" for unknown values). */
const char *kz_status_str(kz_status s);

/* Detail for stateless calls. All fields are optional to read; `msg` is always NUL-terminated.
 * `file`/`line`/`column`/`field` name what is at fault where it applies (line/column 0 = n/a). */
typedef struct kz_error {
    kz_status code;
    char file[256]; /* input file (or a label like "<memory>") */
    long line;      /* 1-based line, 0 if not applicable */
    int column;     /* 1-based column (field index), 0 if not applicable */
    char field[64]; /* name of the field or parameter at fault, "" if not applicable */
    char msg[512];  /* human-readable reason */
} kz_error;

/* Reset an error struct to "no error". Accepts NULL. */
void kz_error_clear(kz_error *err);

/* Fill `err` (if not NULL): code, location (file/field may be NULL, line/column 0 = n/a) and a
 * printf-style message (truncated to fit). Returns `code`, so callers can write
 * `return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "timeperiod", "must be >= 2");`. */
kz_status kz_error_set(kz_error *err,
                       kz_status code,
                       const char *file,
                       long line,
                       int column,
                       const char *field,
                       const char *fmt,
                       ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

/* Format "<file>:<line>:<column>: <field>: <msg>" (parts omitted when absent) into buf.
 * Returns buf. buf must hold `size` bytes; output is truncated, always NUL-terminated. */
const char *kz_error_format(const kz_error *err, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
