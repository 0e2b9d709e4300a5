/* The ML probability columns of the signals facade as external columns of a strategy column set
 * (strategy depends on signals, never the reverse: DESIGN.md section 2). */
#include <string.h>

#include "kizashi/core.h"
#include "kizashi/strategy.h"

kz_status kz_colset_add_ml(
    kz_colset *cs, const double *down, const double *range, const double *up, kz_error *err)
{
    if (!cs || !down || !range || !up) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "colset", "NULL argument");
    }
    const double *cols[KZ_N_CLASSES] = {down, range, up};
    /* Check every name first so a clash adds nothing. */
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        if (kz_colset_find(cs, kz_signal_column_name(c)) >= 0) {
            return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, kz_signal_column_name(c),
                                "column already present");
        }
    }
    for (int c = 0; c < KZ_N_CLASSES; c++) {
        kz_status s = kz_colset_add(cs, kz_signal_column_name(c), cols[c], 1, err);
        if (s != KZ_OK) {
            return s;
        }
    }
    return KZ_OK;
}

kz_status
kz_colset_attach_signals(kz_colset *cs, kz_signals *sig, kz_signal_report *rep, kz_error *err)
{
    if (!sig || !cs) {
        return kz_error_set(err, KZ_ERR_INVALID, NULL, 0, 0, "signals", "NULL argument");
    }
    const kz_market *m = kz_colset_market(cs);
    size_t n = kz_colset_n_bars(cs);
    double *buf = kz_malloc_array(n ? n : 1, KZ_N_CLASSES * sizeof *buf);
    if (!buf) {
        return kz_error_set(err, KZ_ERR_NOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    kz_status s = kz_signals_compute(sig, m, buf, buf + n, buf + 2 * n, rep);
    if (s != KZ_OK) {
        kz_error_set(err, s, NULL, 0, 0, "signals", "%s", rep ? rep->detail.msg : "bad argument");
    } else {
        s = kz_colset_add_ml(cs, buf, buf + n, buf + 2 * n, err);
    }
    kz_free(buf);
    return s;
}
