/* Hilbert-transform kernels of cycle.c, listed in the cycle/pattern registry table that
 * pattern.c defines (kz_ta_cycle_table). Internal to src/ta/. */
#ifndef KZ_TA_CYCLE_INT_H
#define KZ_TA_CYCLE_INT_H

#include "ta_int.h"

/* TA_HT_DCPERIOD/TA_HT_PHASOR_Lookback (32) and the other four HT functions' lookback (63). */
int kz_ht_lookback_short(const double *params);
int kz_ht_lookback_long(const double *params);

/* One O(1) state type serves all six functions; its init fixes which outputs it produces. */
size_t kz_ht_state_size(const double *params);
void kz_ht_state_step(void *state, const double *in, double *out);

void kz_ht_dcperiod_init(void *state, const double *params);
void kz_ht_dcphase_init(void *state, const double *params);
void kz_ht_phasor_init(void *state, const double *params);
void kz_ht_sine_init(void *state, const double *params);
void kz_ht_trendline_init(void *state, const double *params);
void kz_ht_trendmode_init(void *state, const double *params);

void kz_ht_dcperiod_batch(
    size_t n, const double *const *in, const double *params, double *const *out, double *work);
void kz_ht_dcphase_batch(
    size_t n, const double *const *in, const double *params, double *const *out, double *work);
void kz_ht_phasor_batch(
    size_t n, const double *const *in, const double *params, double *const *out, double *work);
void kz_ht_sine_batch(
    size_t n, const double *const *in, const double *params, double *const *out, double *work);
void kz_ht_trendline_batch(
    size_t n, const double *const *in, const double *params, double *const *out, double *work);
void kz_ht_trendmode_batch(
    size_t n, const double *const *in, const double *params, double *const *out, double *work);

/* The sharing step of kz_ta_run_many: runs every HT_* request among req[0..count) (recognised by
 * its registry row; params already validated), the requests of one warm-up class in one pass
 * over `close`, and sets done[i] = 1 for each request it ran. */
void kz_ht_run_shared(
    size_t n, const double *close, const kz_ta_request *req, size_t count, unsigned char *done);

#endif
