/* Internal declarations of the core module shared with the other modules' sources.
 * Not installed; public code uses kizashi/status.h and kizashi/core.h. */
#ifndef KZ_CORE_INT_H
#define KZ_CORE_INT_H

#include <stdarg.h>

#include "kizashi/status.h"

/* kz_error_set with a va_list, for modules whose own variadic error helpers add context (the
 * reader's file name, the fetch run's URL) before filling the error. Returns `code`. */
kz_status kz_error_vset(kz_error *err,
                        kz_status code,
                        const char *file,
                        long line,
                        int column,
                        const char *field,
                        const char *fmt,
                        va_list ap)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 7, 0)))
#endif
    ;

/* Read the whole file at `path` into a kz_malloc'd, NUL-terminated buffer (*out, freed with
 * kz_free; *out_len excludes the NUL). max_bytes > 0 refuses larger files (KZ_ERR_RANGE).
 * Errors, with err->file = path: KZ_ERR_IO ("cannot open: <reason>", "read error"),
 * KZ_ERR_NOMEM; *out is NULL then. */
kz_status
kz_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len, kz_error *err);

#endif
