/* libFuzzer target for every market reader: bars (auto-detected, strict and skip_bad), funding
 * and open-interest series. Build with clang and -DKZ_FUZZ=ON. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kizashi/market.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_skip(const kz_error *e, void *ud)
{
    (void)ud;
    if (e->msg[0] == '\0') {
        abort(); /* every skipped row must say why */
    }
}

/* Invariants of a successful read; abort() makes libFuzzer report the input. */
static void check_bars(const kz_bars *b)
{
    for (size_t i = 0; i < b->n; i++) {
        double o = b->open[i], h = b->high[i], l = b->low[i], c = b->close[i];
        if (!(l > 0 && h >= fmax(o, c) && l <= fmin(o, c) && b->volume[i] >= 0 && isfinite(h)) ||
            (i && b->ts_ms[i] <= b->ts_ms[i - 1])) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    kz_read_opts o = kz_read_opts_default();
    o.on_skip = on_skip;
    kz_error err;
    kz_read_report rep;
    for (int skip = 0; skip < 2; skip++) {
        o.skip_bad = skip;
        o.check_grid = !skip;
        kz_bars b = {0};
        kz_status st = kz_bars_read_mem(buf, size, "fuzz", &o, &b, &rep, &err);
        if (st == KZ_OK) {
            check_bars(&b);
        } else if (err.msg[0] == '\0' || b.n != 0) {
            abort();
        }
        kz_bars_free(&b);
    }
    for (int k = 0; k < 2; k++) {
        kz_series s = {0};
        kz_status st = kz_series_read_mem(buf, size, "fuzz", k ? KZ_DATA_OI : KZ_DATA_FUNDING, &o,
                                          &s, &rep, &err);
        if (st != KZ_OK && (err.msg[0] == '\0' || s.n != 0)) {
            abort();
        }
        for (size_t i = 1; i < s.n; i++) {
            if (s.ts_ms[i] <= s.ts_ms[i - 1] || !isfinite(s.value[i])) {
                abort();
            }
        }
        kz_series_free(&s);
    }
    int64_t ms;
    if (kz_time_parse(buf, size, &ms) == KZ_OK) {
        char tb[32];
        int64_t back;
        kz_time_format(ms, tb);
        /* Formatting then parsing any accepted stamp is the identity (years 0..9999). */
        if (ms >= -62167219200000LL && ms < 253402300800000LL &&
            (kz_time_parse(tb, strlen(tb), &back) != KZ_OK || back != ms)) {
            abort();
        }
    }
    return 0;
}
