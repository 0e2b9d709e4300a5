/* SVG chart of a backtest: equity curve on top, drawdown below, written as plain text. Long
 * series are reduced to the min and max of each pixel column so spikes stay visible. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kizashi/core.h"

#include "strategy/strategy_int.h"

#define W        960.0
#define PAD_L    80.0
#define PAD_R    20.0
#define EQ_TOP   40.0
#define EQ_H     300.0
#define DD_TOP   380.0
#define DD_H     120.0
#define H        540.0
#define MAX_COLS 880

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* Polyline through (x, y(v)) of each bucket's min and max; `dd` selects the drawdown series. */
static void
series_path(FILE *f, const kz_bt_result *r, int dd, double lo, double hi, double top, double height)
{
    size_t n = r->n_equity;
    size_t cols = n < MAX_COLS ? n : MAX_COLS;
    double span = hi > lo ? hi - lo : 1.0;
    double peak = r->m.initial_equity;
    size_t i = 0;
    fputs("<polyline fill=\"none\" stroke-width=\"1.2\" points=\"", f);
    for (size_t c = 0; c < cols; c++) {
        size_t end = (c + 1) * n / cols;
        double mn = INFINITY, mx = -INFINITY;
        for (; i < end; i++) {
            peak = r->equity[i] > peak ? r->equity[i] : peak;
            double v = dd ? -(peak - r->equity[i]) / peak : r->equity[i];
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        double x = PAD_L + (W - PAD_L - PAD_R) * (double)c / (double)(cols > 1 ? cols - 1 : 1);
        fprintf(f, "%.1f,%.1f %.1f,%.1f ", x, top + height * (hi - mx) / span, x,
                top + height * (hi - mn) / span);
    }
    fputs("\"", f);
}

kz_status kz_bt_write_svg(
    const kz_colset *cs, const kz_bt_result *r, const char *title, const char *path, kz_error *err)
{
    if (!cs || !r || !path || r->n_equity != cs->n || r->n_equity == 0) {
        return kz_bt_err(err, KZ_ERR_INVALID, "equity", "no recorded equity curve for this set");
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        kz_status st = kz_bt_err(err, KZ_ERR_IO, "", "cannot write: %s", strerror(errno));
        if (err) {
            snprintf(err->file, sizeof err->file, "%s", path);
        }
        return st;
    }
    double lo = r->m.initial_equity, hi = lo;
    for (size_t i = 0; i < r->n_equity; i++) {
        lo = r->equity[i] < lo ? r->equity[i] : lo;
        hi = r->equity[i] > hi ? r->equity[i] : hi;
    }
    double ddmax = r->m.max_drawdown > 0 ? r->m.max_drawdown : 0.01;
    char t0[32], t1[32];
    kz_time_format(cs->m->bars.ts_ms[0], t0);
    kz_time_format(cs->m->bars.ts_ms[cs->n - 1], t1);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%.0f\" y=\"24\" font-size=\"16\">",
            W, H, W, H, PAD_L);
    xml_text(f, title ? title : "backtest");
    fprintf(f, " (return %.2f%%, max drawdown %.2f%%, %zu trades)</text>\n",
            100.0 * r->m.total_return, 100.0 * r->m.max_drawdown, r->m.n_trades);
    /* frames and labels */
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
            "stroke=\"#999\"/>\n<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
            "fill=\"none\" stroke=\"#999\"/>\n",
            PAD_L, EQ_TOP, W - PAD_L - PAD_R, EQ_H, PAD_L, DD_TOP, W - PAD_L - PAD_R, DD_H);
    fprintf(f,
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>\n"
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>\n"
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0%%</text>\n"
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">-%.1f%%</text>\n"
            "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n"
            "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n"
            "<text x=\"%.0f\" y=\"%.0f\">equity</text>\n"
            "<text x=\"%.0f\" y=\"%.0f\">drawdown</text>\n",
            PAD_L - 6, EQ_TOP + 12, hi, PAD_L - 6, EQ_TOP + EQ_H, lo, PAD_L - 6, DD_TOP + 12,
            PAD_L - 6, DD_TOP + DD_H, 100.0 * ddmax, PAD_L, DD_TOP + DD_H + 18, t0, W - PAD_R,
            DD_TOP + DD_H + 18, t1, PAD_L + 6, EQ_TOP + 16, PAD_L + 6, DD_TOP + 16);
    series_path(f, r, 0, lo, hi, EQ_TOP, EQ_H);
    fputs(" stroke=\"#1f5fbf\"/>\n", f);
    series_path(f, r, 1, -ddmax, 0.0, DD_TOP, DD_H);
    fputs(" stroke=\"#c0392b\"/>\n</svg>\n", f);
    int bad = ferror(f);
    bad |= fclose(f);
    if (bad) {
        kz_status st = kz_bt_err(err, KZ_ERR_IO, "", "write error");
        if (err) {
            snprintf(err->file, sizeof err->file, "%s", path);
        }
        return st;
    }
    return KZ_OK;
}
