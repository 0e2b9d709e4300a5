#!/usr/bin/python3
"""Self-checks of the pandas feature reference (features_ref.py) before its goldens are trusted.

1. Prefix stability on the real data: features computed on the first k bars equal, bit for bit,
   rows 0..k-1 of the 3,000-bar computation (no look-ahead, the MTF group included).
2. Naive re-implementations (plain loops over each window) agree with the pandas code: as-of
   alignment with the max-age mask, MTF bucketing and alignment, and a set of rolling features.
3. Invariants: flags are 0/1, correlations lie in [-1, 1], sin^2 + cos^2 = 1.
Exits 1 on any failure; prints one line per check.
"""

import math
import os
import sys

import numpy as np
import pandas as pd

import features_ref as ref
import make_goldens as mk

FAILURES = []


def report(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok:
        FAILURES.append(name)


def same_bits(a, b):
    """Equal as doubles, NaN == NaN."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def close_enough(got, want, rel=1e-9, abs_=1e-12):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    both_nan = np.isnan(got) & np.isnan(want)
    with np.errstate(invalid="ignore"):
        near = np.abs(got - want) <= abs_ + rel * np.abs(want)
    bad = ~(both_nan | near)
    return int(bad.sum())


def load_real():
    bars_p, fr_p, oi_p = mk.real_inputs(mk.SHARED_DATA)
    if not os.path.exists(bars_p):
        return None
    return (ref.read_bars(bars_p), ref.read_series(fr_p, ref.FUNDING_VALUE_COLUMNS),
            ref.read_series(oi_p, ref.OI_VALUE_COLUMNS))


def check_prefix(bars, fr, oi):
    full = ref.compute_features(bars.head(mk.REAL_HEAD), fr, oi, "1h")
    for k in (1500, 1001, 2222, 2999):
        part = ref.compute_features(bars.head(k), fr, oi, "1h")
        bad = [c for c in full.columns if not same_bits(part[c], full[c].head(k))]
        report(f"prefix stability, first {k} of {mk.REAL_HEAD} bars", not bad,
               f"{len(full.columns) - 1} columns identical" if not bad else ", ".join(bad[:8]))


def naive_asof(close_ms, stamps, values, max_age):
    out = np.full(len(close_ms), np.nan)
    for i, t in enumerate(close_ms):
        j = -1
        for k, s in enumerate(stamps):  # stamps sorted; last one strictly before the close wins
            if s < t:
                j = k
        if j >= 0 and t - stamps[j] <= max_age:
            out[i] = values[j]
    return out


def check_alignment(name, bars, series, max_age, tf_ms=ref.HOUR_MS):
    close_ms = (bars["timestamp"] + tf_ms).to_numpy()
    s = series.sort_values("timestamp", kind="mergesort")
    fast = ref.align_asof(bars["timestamp"] + tf_ms, series, max_age).to_numpy()
    slow = naive_asof(close_ms, s["timestamp"].to_numpy(), s["value"].to_numpy(), max_age)
    report(f"as-of alignment == naive loop ({name})", same_bits(fast, slow),
           f"{int(np.isnan(slow).sum())} NaN of {len(slow)}")


def naive_mtf_returns(bars, htf_ms, tf_ms):
    """Returns of the last fully closed HTF bar, built with dicts and loops."""
    buckets = {}
    for t, c in zip(bars["timestamp"], bars["close"]):
        buckets.setdefault(t // htf_ms * htf_ms, []).append(c)
    keys = sorted(buckets)
    last_close = {b: buckets[b][-1] for b in keys}
    out = []
    for t in bars["timestamp"]:
        done = [b for b in keys if b + htf_ms <= t + tf_ms]
        if len(done) < 2:
            out.append(np.nan)
        else:
            out.append(last_close[done[-1]] / last_close[done[-2]] - 1.0)
    return np.array(out)


def check_mtf(name, bars, feats, tf_ms=ref.HOUR_MS):
    for tf in ref.MTF_TIMEFRAMES:
        slow = naive_mtf_returns(bars, ref.TIMEFRAMES_MS[tf], tf_ms)
        report(f"Returns_{tf} == naive bucketing + alignment ({name})",
               same_bits(feats[f"Returns_{tf}"], slow))


def windows(x, n):
    x = np.asarray(x, dtype=np.float64)
    for i in range(len(x)):
        yield i, (x[i - n + 1:i + 1] if i >= n - 1 else None)


def naive_rolling(x, n, fn):
    out = np.full(len(x), np.nan)
    for i, w in windows(x, n):
        if w is not None and not np.isnan(w).any():
            out[i] = fn(w)
    return out


def pearson(a, b):
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / den if den > 0 else np.nan


def naive_ewm(x, span):
    alpha = 2.0 / (span + 1.0)
    out = np.empty(len(x))
    for i in range(len(x)):
        w = (1.0 - alpha) ** np.arange(i, -1, -1)
        out[i] = float((w * x[:i + 1]).sum() / w.sum())
    return out


def check_rolling(name, bars, feats):
    o, h, l, c, v = (bars[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close",
                                                                  "volume"))
    r = np.concatenate([[np.nan], c[1:] / c[:-1] - 1.0])
    tp = (h + l + c) / 3.0
    rv = naive_rolling(r, 20, lambda w: w.std(ddof=1)) * math.sqrt(24.0)
    gain = naive_rolling(np.concatenate([[0.0], np.maximum(np.diff(c), 0.0)]), 14, np.mean)
    loss = naive_rolling(np.concatenate([[0.0], np.maximum(-np.diff(c), 0.0)]), 14, np.mean)
    with np.errstate(all="ignore"):
        rs = gain / (loss + ref.EPS)
    rs = np.where(np.isfinite(rs), rs, 1.0)
    macd = naive_ewm(c, 12) - naive_ewm(c, 26)
    sums = naive_rolling(tp * v, 20, np.sum), naive_rolling(v, 20, np.sum)
    with np.errstate(all="ignore"):
        vwap = sums[0] / (sums[1] + ref.EPS)
    vwap = np.where(np.isfinite(vwap), vwap, tp)
    mad = naive_rolling(tp, 20, lambda w: np.abs(w - w.mean()).mean())
    expect = {
        "MA_10": naive_rolling(c, 10, np.mean),
        "Realized_Volatility_20": rv,
        "High_Vol_Regime": (rv > naive_rolling(rv, 40, lambda w: np.quantile(w, 0.8)))
        .astype(float),
        "Volume_Spike": (v > naive_rolling(v, 20, lambda w: np.quantile(w, 0.9))).astype(float),
        "VWAP": vwap,
        "RSI": 100.0 - 100.0 / (1.0 + rs),
        "MACD_Histogram": macd - naive_ewm(macd, 9),
        "Market_Efficiency": naive_rolling(r, 20, lambda w: pearson(w[:-1], w[1:])),
        "CCI": (tp - naive_rolling(tp, 20, np.mean)) / (0.015 * mad + ref.EPS),
        "Williams_R": -100.0 * (naive_rolling(h, 14, np.max) - c)
        / (naive_rolling(h, 14, np.max) - naive_rolling(l, 14, np.min) + ref.EPS),
    }
    for col, want in expect.items():
        # Flags compare equal-ish numbers: allow a mismatch only where the two sides of the
        # comparison are within rounding of each other (none expected on these inputs).
        bad = close_enough(feats[col], want, rel=1e-7, abs_=1e-9)
        report(f"{col} == naive window loop ({name})", bad == 0,
               f"{bad} rows differ" if bad else "")
    slope = naive_rolling(c, 10, lambda w: np.polyfit(np.arange(10.0), w, 1)[0])
    ref_slope = pd.Series(c).rolling(10).apply(ref.slope10, raw=True).to_numpy()
    report(f"slope10 == np.polyfit slope ({name})",
           close_enough(ref_slope, slope, rel=1e-8, abs_=1e-9) == 0)


def check_lookbacks(name, bars, feats, lb):
    """The parameterised windows really moved: warm-up lengths follow the lookbacks."""
    want = {"MA_10": lb["short_ma"] - 1, "MA_50": lb["long_ma"] - 1,
            "Price_Momentum_14": lb["momentum"], "Realized_Volatility_20": lb["volatility"],
            "Volume_MA_20": lb["volume"] - 1, "ATR_20": lb["volatility"]}
    got = {k: int(feats[k].first_valid_index()) for k in want}
    report(f"first valid rows follow the lookbacks ({name})", got == want, str(got))
    c = bars["close"].astype(np.float64)
    ts = naive_rolling(c.to_numpy(), lb["long_ma"], np.mean)
    short = naive_rolling(c.to_numpy(), lb["short_ma"], np.mean)
    with np.errstate(all="ignore"):
        trend = (short - ts) / (ts + ref.EPS)
    trend = np.where(np.isfinite(trend), trend, 0.0)
    report(f"Trend_Strength with lookbacks == naive ({name})",
           close_enough(feats["Trend_Strength"], trend, rel=1e-7, abs_=1e-12) == 0)


def check_golden_file(name, feats):
    """The committed golden parses back to exactly the doubles computed now."""
    path = os.path.join(mk.GOLDEN, f"{name}.csv")
    if not os.path.exists(path):
        report(f"golden {name}.csv present", False)
        return
    disk = pd.read_csv(path, float_precision="round_trip")
    ok = list(disk.columns) == ["timestamp"] + list(ref.COLUMNS) and len(disk) == len(feats)
    ok = ok and all(same_bits(disk[c], feats[c]) for c in ref.COLUMNS)
    report(f"golden {name}.csv == recomputation, bit for bit", ok)


def check_invariants(name, feats):
    flags = ["High_Vol_Regime", "Volume_Spike", "FR_Extreme_High", "FR_Extreme_Low", "OI_Surge",
             "Market_Balance", "Bear_Divergence", "Bull_Divergence", "Gap_Up", "Gap_Down"]
    vals = np.concatenate([feats[f].dropna().to_numpy() for f in flags])
    report(f"flags are 0/1 ({name})", bool(np.isin(vals, (0.0, 1.0)).all()))
    corr = pd.concat([feats["OI_Price_Correlation"], feats["Market_Efficiency"]]).dropna()
    report(f"correlations in [-1, 1] ({name})", bool((corr.abs() <= 1.0 + 1e-9).all()))
    ss = feats["Hour_Sin"] ** 2 + feats["Hour_Cos"] ** 2
    report(f"Hour_Sin^2 + Hour_Cos^2 == 1 ({name})", bool(np.allclose(ss, 1.0, atol=1e-15)))
    report(f"no value outside [-1e10, 1e10] ({name})",
           bool((feats[list(ref.COLUMNS)].abs().max().fillna(0.0) <= ref.CLEAN_LIMIT).all()))


def main():
    real = load_real()
    if real is None:
        print("skip: real data absent (../shared/data)")
    else:
        bars, fr, oi = real
        check_prefix(bars, fr, oi)
        head = bars.head(mk.REAL_HEAD)
        check_alignment("BTC funding", head.head(600), fr, ref.FUNDING_MAX_AGE_MS)
        check_alignment("BTC OI", head.head(600), oi, ref.OI_MAX_AGE_BARS * ref.HOUR_MS)
        feats = ref.compute_features(head, fr, oi, "1h")
        check_mtf("BTC 3000", head, feats)
        check_rolling("BTC 3000", head, feats)
        check_invariants("BTC 3000", feats)
        check_golden_file(f"btc_1h_{mk.REAL_HEAD}", feats)
    for case, (make, timeframe) in mk.CASES.items():
        bars, fr, oi = make()
        fr, oi = mk.as_series(fr), mk.as_series(oi)
        feats = ref.compute_features(bars, fr, oi, timeframe)
        check_golden_file(case, feats)
        for lb_name, (base, lookbacks) in mk.LOOKBACK_CASES.items():
            if base == case:
                lb_feats = ref.compute_features(bars, fr, oi, timeframe, lookbacks)
                check_golden_file(lb_name, lb_feats)
                check_lookbacks(lb_name, bars, lb_feats, lookbacks)
        if case == "random_walk_4h":
            tf_ms = ref.TIMEFRAMES_MS[timeframe]
            check_alignment("4h OI", bars, oi, ref.OI_MAX_AGE_BARS * tf_ms, tf_ms)
            check_mtf(case, bars, feats, tf_ms)
        if case == "gap":
            check_alignment("gap funding", bars, fr, ref.FUNDING_MAX_AGE_MS)
            check_alignment("gap OI", bars, oi, ref.OI_MAX_AGE_BARS * ref.HOUR_MS)
            check_mtf(case, bars, feats)
            check_rolling(case, bars, feats)
        check_invariants(case, feats)
    print(f"{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
