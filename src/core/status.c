/* Status strings and the kz_error helper. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/kizashi.h"

#include "core/core_int.h"

const char *kz_status_str(kz_status s)
{
    switch (s) {
    case KZ_OK:
        return "ok";
    case KZ_ERR_INVALID:
        return "invalid argument";
    case KZ_ERR_NOMEM:
        return "out of memory";
    case KZ_ERR_IO:
        return "input/output error";
    case KZ_ERR_PARSE:
        return "parse error";
    case KZ_ERR_VALIDATION:
        return "validation error";
    case KZ_ERR_FORMAT:
        return "unknown or unsupported format";
    case KZ_ERR_NOT_FOUND:
        return "not found";
    case KZ_ERR_STORE:
        return "database error";
    case KZ_ERR_RANGE:
        return "value out of range";
    case KZ_ERR_CANCELLED:
        return "cancelled";
    case KZ_ERR_INTERNAL:
        return "internal error";
    case KZ_ERR_MODEL:
        return "model error";
    case KZ_ERR_MISMATCH:
        return "mismatch";
    }
    return "unknown status";
}

void kz_error_clear(kz_error *err)
{
    if (err) {
        memset(err, 0, sizeof *err);
    }
}

kz_status kz_error_vset(kz_error *err,
                        kz_status code,
                        const char *file,
                        long line,
                        int column,
                        const char *field,
                        const char *fmt,
                        va_list ap)
{
    if (!err) {
        return code;
    }
    memset(err, 0, sizeof *err);
    err->code = code;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->column = column;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    if (fmt) {
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    if (!err->msg[0]) {
        snprintf(err->msg, sizeof err->msg, "%s", kz_status_str(code));
    }
    return code;
}

kz_status kz_error_set(kz_error *err,
                       kz_status code,
                       const char *file,
                       long line,
                       int column,
                       const char *field,
                       const char *fmt,
                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    kz_error_vset(err, code, file, line, column, field, fmt, ap);
    va_end(ap);
    return code;
}

const char *kz_error_format(const kz_error *err, char *buf, size_t size)
{
    if (!buf || size == 0) {
        return buf;
    }
    buf[0] = '\0';
    if (!err) {
        return buf;
    }
    size_t used = 0;
    int k;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (used < size) {                                                                         \
            k = snprintf(buf + used, size - used, __VA_ARGS__);                                    \
            if (k > 0) {                                                                           \
                used += (size_t)k;                                                                 \
            }                                                                                      \
        }                                                                                          \
    } while (0)
    if (err->file[0]) {
        APPEND("%s", err->file);
        if (err->line > 0) {
            APPEND(":%ld", err->line);
        }
        if (err->column > 0) {
            APPEND(":%d", err->column);
        }
        APPEND(": ");
    }
    if (err->field[0]) {
        APPEND("%s: ", err->field);
    }
    APPEND("%s", err->msg[0] ? err->msg : kz_status_str(err->code));
#undef APPEND
    return buf;
}

const char *kz_version(void)
{
    return KZ_VERSION_STRING;
}
