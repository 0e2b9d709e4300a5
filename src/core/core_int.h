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

#endif
