/* Reading a whole file into memory: the one implementation every loader shares. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "core/core_int.h"

kz_status
kz_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len, kz_error *err)
{
    *out = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char eb[128];
        int e = errno;
        if (strerror_r(e, eb, sizeof eb) != 0) {
            snprintf(eb, sizeof eb, "errno %d", e);
        }
        return kz_error_set(err, KZ_ERR_IO, path, 0, 0, "", "cannot open: %s", eb);
    }
    /* Size the buffer from the file when it can be known (regular files: one spare byte so the
     * read that meets EOF is short and no regrowth happens); pipes grow geometrically. */
    size_t cap = 1 << 16, len = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        if (sz > 0 && (unsigned long)sz < SIZE_MAX - 2) {
            cap = (size_t)sz + 2;
        }
        rewind(f);
    }
    kz_status st = KZ_OK;
    char *buf = kz_malloc(cap);
    for (;;) {
        if (!buf) {
            st = kz_error_set(err, KZ_ERR_NOMEM, path, 0, 0, "", "out of memory reading the file");
            break;
        }
        size_t room = cap - 1 - len; /* 1 byte stays for the terminating NUL */
        if (room == 0) {
            char *nb = cap <= SIZE_MAX / 2 ? kz_realloc(buf, cap * 2) : NULL;
            if (!nb) {
                kz_free(buf);
            }
            buf = nb;
            cap *= 2;
            continue;
        }
        size_t got = fread(buf + len, 1, room, f);
        len += got;
        if (max_bytes && len > max_bytes) {
            st = kz_error_set(err, KZ_ERR_RANGE, path, 0, 0, "", "file over %zu bytes", max_bytes);
            break;
        }
        if (got < room) {
            if (ferror(f)) {
                st = kz_error_set(err, KZ_ERR_IO, path, 0, 0, "", "read error");
            }
            break;
        }
    }
    fclose(f);
    if (st != KZ_OK) {
        kz_free(buf);
        return st;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return KZ_OK;
}
