/* Fast, correctly rounded decimal parsing for price strings.
 * When the significant digits fit an integer m < 2^53 and the decimal exponent e satisfies
 * |e| <= 22, m and 10^|e| are exact doubles, so one IEEE multiplication or division gives the
 * correctly rounded result (Clinger, "How to Read Floating Point Numbers Accurately", 1990).
 * Anything else (long mantissas, large exponents) falls back to strtod after syntax checking. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "market/market_int.h"

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Case-insensitive match of [p, end) against a lowercase word. */
static int word_is(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - p) != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != w[i]) {
            return 0;
        }
    }
    return 1;
}

static int slow_parse(const char *s, size_t len, double *out)
{
    char tmp[128];
    if (len >= sizeof tmp) {
        return -1;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *endp = NULL;
    double v = strtod(tmp, &endp);
    if (endp != tmp + len) {
        return -1;
    }
    *out = v;
    return 0;
}

int kz_parse_double(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    if (p == end) {
        return -1;
    }
    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (p < end && ((*p | 0x20) == 'n' || (*p | 0x20) == 'i')) {
        /* NaN and infinities parse (validation rejects them with a clearer message). */
        if (word_is(p, end, "nan")) {
            *out = NAN;
            return 0;
        }
        if (word_is(p, end, "inf") || word_is(p, end, "infinity")) {
            *out = neg ? -INFINITY : INFINITY;
            return 0;
        }
        return -1;
    }
    uint64_t m = 0;
    int nsig = 0, exp10 = 0, ndig = 0, exact = 1;
    while (p < end && *p >= '0' && *p <= '9') {
        if (nsig < 19) {
            m = m * 10 + (uint64_t)(*p - '0');
            nsig += m != 0;
        } else {
            exact = 0;
        }
        ndig = 1;
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (nsig < 19 && exp10 > -10000) {
                m = m * 10 + (uint64_t)(*p - '0');
                nsig += m != 0;
                exp10--;
            } else if (*p != '0') {
                exact = 0;
            }
            ndig = 1;
            p++;
        }
    }
    if (ndig == 0) {
        return -1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, e = 0, edig = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 100000) {
                e = e * 10 + (*p - '0');
            }
            edig = 1;
            p++;
        }
        if (edig == 0) {
            return -1;
        }
        exp10 += eneg ? -e : e;
    }
    if (p != end) {
        return -1;
    }
    if (!exact || m >= (1ull << 53) || exp10 < -22 || exp10 > 22) {
        return slow_parse(s, len, out);
    }
    double v = (double)m;
    v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
    *out = neg ? -v : v;
    return 0;
}
