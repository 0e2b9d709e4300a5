/* Timeframes and timestamps: parsing of epoch numbers (s/ms/us/ns) and ISO-8601, formatting.
 * Calendar arithmetic follows H. Hinnant, "chrono-Compatible Low-Level Date Algorithms". */
#include <ctype.h>
#include <math.h>
#include <stdio.h>

#include "market/market_int.h"

static const struct {
    const char *name;
    int64_t ms;
} tf_table[KZ_TF_COUNT] = {
    {"1m", 60000},   {"5m", 300000},   {"15m", 900000},  {"30m", 1800000},
    {"1h", 3600000}, {"4h", 14400000}, {"1d", 86400000},
};

kz_status kz_timeframe_parse(const char *s, kz_timeframe *out)
{
    if (!s || !out) {
        return KZ_ERR_INVALID;
    }
    for (int i = 0; i < (int)KZ_TF_COUNT; i++) {
        const char *a = tf_table[i].name;
        const char *b = s;
        while (*a && tolower((unsigned char)*b) == *a) {
            a++;
            b++;
        }
        if (!*a && !*b) {
            *out = (kz_timeframe)i;
            return KZ_OK;
        }
    }
    return KZ_ERR_INVALID;
}

const char *kz_timeframe_str(kz_timeframe tf)
{
    return (unsigned)tf < (unsigned)KZ_TF_COUNT ? tf_table[tf].name : "?";
}

int64_t kz_timeframe_ms(kz_timeframe tf)
{
    return (unsigned)tf < (unsigned)KZ_TF_COUNT ? tf_table[tf].ms : 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil (Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

/* Read exactly `n` digits at *p (bounded by end) into *v. */
static int digits(const char **p, const char *end, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !isdigit((unsigned char)**p)) {
            return -1;
        }
        x = x * 10 + (**p - '0');
        (*p)++;
    }
    *v = x;
    return 0;
}

static kz_status parse_iso(const char *p, const char *end, int64_t *out_ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' || digits(&p, end, 2, &mo) || p >= end ||
        *p++ != '-' || digits(&p, end, 2, &d)) {
        return KZ_ERR_PARSE;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
        return KZ_ERR_PARSE;
    }
    if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi)) {
            return KZ_ERR_PARSE;
        }
        if (p < end && *p == ':') {
            p++;
            if (digits(&p, end, 2, &sec)) {
                return KZ_ERR_PARSE;
            }
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int nd = 0;
                /* Keep milliseconds, truncate finer digits (like the integer forms). */
                while (p < end && isdigit((unsigned char)*p)) {
                    if (nd < 3) {
                        ms = ms * 10 + (*p - '0');
                        nd++;
                    } else {
                        nd = 3; /* finer digits are dropped (no counter overflow) */
                    }
                    p++;
                }
                if (nd == 0) {
                    return KZ_ERR_PARSE;
                }
                for (; nd < 3; nd++) {
                    ms *= 10;
                }
            }
        }
        if (h > 23 || mi > 59 || sec > 59) {
            return KZ_ERR_PARSE;
        }
    }
    int64_t offset_min = 0;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p++ == '-' ? -1 : 1;
        int zh, zm = 0;
        if (digits(&p, end, 2, &zh)) {
            return KZ_ERR_PARSE;
        }
        if (p < end && *p == ':') {
            p++;
        }
        if (p < end && digits(&p, end, 2, &zm)) {
            return KZ_ERR_PARSE;
        }
        if (zh > 23 || zm > 59) {
            return KZ_ERR_PARSE;
        }
        offset_min = sign * (zh * 60 + zm);
    }
    if (p != end) {
        return KZ_ERR_PARSE;
    }
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    *out_ms = secs * 1000 + ms;
    return KZ_OK;
}

kz_status kz_time_parse(const char *s, size_t len, int64_t *out_ms)
{
    if (!s || !out_ms || len == 0) {
        return KZ_ERR_PARSE;
    }
    const char *p = s, *end = s + len;
    uint64_t v = 0;
    int nint = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (nint == 19) {
            return KZ_ERR_PARSE; /* beyond int64 nanoseconds */
        }
        v = v * 10 + (uint64_t)(*p - '0');
        nint++;
        p++;
    }
    if (nint == 4 && p < end && *p == '-') {
        return parse_iso(s, end, out_ms);
    }
    if (nint == 0) {
        return KZ_ERR_PARSE;
    }
    /* Up to three fraction digits matter (milliseconds of a seconds stamp); finer are dropped. */
    int frac = 0, nfrac = 0;
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (nfrac < 3) {
                frac = frac * 10 + (*p - '0');
                nfrac++;
            }
            p++;
        }
        if (p[-1] == '.') {
            return KZ_ERR_PARSE; /* "1." has no fraction digits */
        }
        for (int k = nfrac; k < 3; k++) {
            frac *= 10;
        }
    }
    if (p != end || v > (uint64_t)INT64_MAX) {
        return KZ_ERR_PARSE;
    }
    if (v < 100000000000ull) { /* < 1e11: seconds */
        *out_ms = (int64_t)v * 1000 + frac;
    } else if (v < 100000000000000ull) { /* < 1e14: milliseconds */
        *out_ms = (int64_t)v;
    } else if (v < 100000000000000000ull) { /* < 1e17: microseconds */
        *out_ms = (int64_t)(v / 1000u);
    } else {
        *out_ms = (int64_t)(v / 1000000u);
    }
    return KZ_OK;
}

kz_status kz_time_from_double(double v, int64_t *out_ms)
{
    if (!isfinite(v) || v < 0 || v >= 9.2e18) {
        return KZ_ERR_PARSE;
    }
    double ms;
    if (v < 1e11) {
        /* Seconds with a fraction: round away binary noise (1.7e9 * 1000 is not exact), then
         * truncate to the millisecond like the text form. */
        double x = v * 1000.0;
        double r = nearbyint(x);
        ms = fabs(x - r) < 1e-3 ? r : floor(x);
    } else if (v < 1e14) {
        ms = floor(v);
    } else if (v < 1e17) {
        ms = floor(v / 1e3);
    } else {
        ms = floor(v / 1e6);
    }
    *out_ms = (int64_t)ms;
    return KZ_OK;
}

char *kz_time_format(int64_t ms, char *buf)
{
    int64_t days = ms / 86400000;
    int64_t rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / 3600000), mm = (int)(rem / 60000 % 60), ss = (int)(rem / 1000 % 60);
    int frac = (int)(rem % 1000);
    if (frac) {
        snprintf(buf, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, hh, mm, ss,
                 frac);
    } else {
        snprintf(buf, 32, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, hh, mm, ss);
    }
    return buf;
}
