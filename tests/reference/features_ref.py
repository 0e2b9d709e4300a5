#!/usr/bin/python3
"""Independent pandas reference for kizashi's feature set: SPEC.md section 1 with kizashi's fixes.

This is the oracle the C feature code is tested against (goldens under tests/golden/features/).
It follows the pandas numerics of SPEC section 1.2 on purpose (sample std, linear-interpolation
rolling quantiles, adjust=True EWM, pct_change with fill_method='pad', safe_divide with eps 1e-8)
and applies kizashi's deliberate fixes (docs/features.md, "Deliberate differences"):
  * no final median fill: +-inf and |x| > 1e10 become NaN and NaN stays NaN;
  * FR/OI aligned as-of on the bar close (strictly before), with a max age, never 0 for missing;
  * no row cap, float64 inputs;
  * fixed column set (FR/OI/composite columns are all-NaN when their input is absent);
  * plus time-of-day/day-of-week and causal multi-timeframe (4h, 1d) features.

Run with Debian's interpreter (pandas 1.5.3): /usr/bin/python3 features_ref.py --help
"""

import argparse
import math
import sys

import numpy as np
import pandas as pd

EPS = 1e-8  # SPEC 1.2 safe_divide epsilon
CLEAN_LIMIT = 1e10  # SPEC 1.7 step 2: values outside [-1e10, 1e10] are treated as invalid
HOUR_MS = 3_600_000
FUNDING_MAX_AGE_MS = 9 * HOUR_MS  # 8-hourly settlements plus one hour of slack
OI_MAX_AGE_BARS = 2  # open interest older than two bar durations is unknown

TIMEFRAMES_MS = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": HOUR_MS,
    "4h": 4 * HOUR_MS,
    "1d": 24 * HOUR_MS,
}
MTF_TIMEFRAMES = ("4h", "1d")
MTF_FEATURES = ("Returns", "Realized_Volatility_20", "RSI", "MACD_Histogram", "Trend_Strength")

DEFAULT_LOOKBACKS = {"short_ma": 10, "long_ma": 50, "volatility": 20, "momentum": 14, "volume": 20}

# Output columns, grouped, in this fixed order. Names carrying a number keep it whatever the
# lookbacks are (SPEC 1.3: "the name stays fixed"). Intermediates of SPEC 1.8 are included.
GROUPS = (
    ("price", (
        "MA_10", "MA_50", "Price_MA_Ratio_Short", "Price_MA_Ratio_Long", "Price_Momentum_14",
        "High_Low_Position", "Price_Change_1", "Price_Change_5", "Price_Change_20", "Price_Range",
        "Body_Size", "Upper_Shadow", "Lower_Shadow", "Price_Position", "Gap")),
    ("volatility", (
        "Returns", "Realized_Volatility_20", "Volatility_Spike", "TR", "ATR_20", "ATR_Normalized",
        "High_Vol_Regime", "Vol_Change")),
    ("volume", (
        "Volume_MA_20", "Volume_Ratio", "Price_Volume_Trend", "VWAP", "VWAP_Deviation",
        "Volume_Spike", "Volume_Trend")),
    ("funding", (
        "FR_MA_24", "FR_MA_168", "FR_Change", "FR_Change_Rate", "Price_FR_Divergence",
        "FR_Extreme_High", "FR_Extreme_Low", "FR_Normalized", "FR_Trend", "FR_Volatility")),
    ("open_interest", (
        "OI_Change_Rate", "OI_Change_Rate_24h", "OI_Surge", "Volatility_Adjusted_OI", "OI_MA_24",
        "OI_MA_168", "OI_Trend", "OI_Price_Correlation", "OI_Normalized")),
    ("composite", ("FR_OI_Ratio", "Market_Heat_Index", "Market_Stress", "Market_Balance")),
    ("regime", ("Trend_Strength", "Range_Bound_Ratio", "Breakout_Strength", "Market_Efficiency")),
    ("momentum", (
        "RSI", "MACD", "MACD_Signal", "MACD_Histogram", "Stochastic_K", "Stochastic_D",
        "Williams_R", "CCI", "ROC", "Momentum")),
    ("pattern", (
        "Bear_Divergence", "Bull_Divergence", "Support_Distance", "Resistance_Distance",
        "Pivot_Distance", "Fib_236_Distance", "Fib_382_Distance", "Fib_500_Distance",
        "Fib_618_Distance", "Fib_786_Distance", "Gap_Up", "Gap_Down", "Gap_Size")),
    ("time", ("Hour_Sin", "Hour_Cos", "DOW_Sin", "DOW_Cos")),
    ("mtf", tuple(f"{f}_{tf}" for tf in MTF_TIMEFRAMES for f in MTF_FEATURES)),
)
COLUMNS = tuple(name for _, names in GROUPS for name in names)

FUNDING_VALUE_COLUMNS = ("funding_rate", "fundingRate", "rate")
OI_VALUE_COLUMNS = ("open_interest", "openInterest", "open_interest_usd", "sumOpenInterest",
                    "sumOpenInterestValue", "oi")


# ------------------------------------------------------------------ SPEC 1.2 primitives
def sma(x, n):
    return x.rolling(n).mean()


def std(x, n):
    return x.rolling(n).std()  # ddof=1


def rolling_quantile(x, n, q):
    return x.rolling(n).quantile(q, interpolation="linear")


def pct_change(x, k=1):
    return x.pct_change(k, fill_method="pad")


def ewm(x, span):
    return x.ewm(span=span, adjust=True).mean()


def safe_divide(a, b, default):
    """a / (b + 1e-8); +-inf or NaN results take `default` (a scalar or an aligned Series)."""
    with np.errstate(all="ignore"):
        r = a / (b + EPS)
    return r.where(np.isfinite(r), default)


def safe_normalize(x, n, default=0.0):
    return safe_divide(x - sma(x, n), std(x, n), default)


def safe_correlation(x, y, n, default=0.0):
    with np.errstate(all="ignore"):
        r = x.rolling(n).corr(y)
    return r.where(np.isfinite(r), default)


def flag(cond):
    """Bool feature as 0/1 (a comparison involving NaN is false, so it gives 0)."""
    return cond.astype(np.float64)


def slope10(window):
    """OLS slope of 10 values against 0..9 (what np.polyfit(range(10), y, 1)[0] estimates).

    Written as sum_k (9-2k)/2 * (y[9-k] - y[k]) / 82.5 so that a window whose mirrored values are
    equal (e.g. a constant one) has a slope of exactly 0, which keeps the sign tests of the
    divergence flags free of rounding noise. 82.5 = sum_i (i - 4.5)^2.
    """
    num = 0.0
    for k in range(5):
        num += (9 - 2 * k) / 2.0 * (window[9 - k] - window[k])
    return num / 82.5


def lag1_autocorr(window):
    """Pearson correlation of x[0..n-2] with x[1..n-1] (SPEC 1.6 Market_Efficiency)."""
    with np.errstate(all="ignore"):
        return np.corrcoef(window[:-1], window[1:])[0, 1]


def mean_abs_dev(window):
    return np.mean(np.abs(window - window.mean()))


# ------------------------------------------------------------------ feature blocks
def rsi_simple(c):
    """SPEC 1.6 RSI with simple means (not Wilder). delta.where(delta > 0, 0) turns the NaN
    first difference into 0, so the first full window ends at row 13; before it rs = 1, RSI 50."""
    delta = c.diff()
    gain = sma(delta.where(delta > 0, 0.0), 14)
    loss = sma((-delta).where(delta < 0, 0.0), 14)
    rs = safe_divide(gain, loss, 1.0)
    return 100.0 - 100.0 / (1.0 + rs)


def macd_parts(c):
    macd = ewm(c, 12) - ewm(c, 26)
    signal = ewm(macd, 9)
    return macd, signal, macd - signal


def trend_strength(c, lb):
    ma_long = sma(c, lb["long_ma"])
    return safe_divide(sma(c, lb["short_ma"]) - ma_long, ma_long, 0.0)


def realized_vol(returns, lb):
    return std(returns, lb["volatility"]) * math.sqrt(24.0)  # sqrt(24) on every timeframe (SPEC)


def price_features(o, h, l, c, lb, f):
    v = lb["volatility"]
    f["MA_10"] = sma(c, lb["short_ma"])
    f["MA_50"] = sma(c, lb["long_ma"])
    f["Price_MA_Ratio_Short"] = c / f["MA_10"]
    f["Price_MA_Ratio_Long"] = c / f["MA_50"]
    f["Price_Momentum_14"] = pct_change(c, lb["momentum"])
    f["High_Low_Position"] = (c - l) / (h - l + EPS)
    for k in (1, 5, 20):
        f[f"Price_Change_{k}"] = pct_change(c, k)
    f["Price_Range"] = (h - l) / c
    f["Body_Size"] = (c - o).abs() / c
    f["Upper_Shadow"] = (h - np.maximum(o, c)) / c
    f["Lower_Shadow"] = (np.minimum(o, c) - l) / c
    cmin = c.rolling(v).min()
    f["Price_Position"] = safe_divide(c - cmin, c.rolling(v).max() - cmin, 0.5)
    f["Gap"] = safe_divide(o - c.shift(1), c.shift(1), 0.0)


def volatility_features(h, l, c, lb, f):
    v = lb["volatility"]
    f["Returns"] = pct_change(c)
    rv = realized_vol(f["Returns"], lb)
    f["Realized_Volatility_20"] = rv
    f["Volatility_Spike"] = safe_divide(rv, sma(rv, v), 1.0)
    prev_c = c.shift(1)
    # np.maximum propagates NaN, so TR is NaN on row 0 as in SPEC 1.4.
    f["TR"] = np.maximum(h - l, np.maximum((h - prev_c).abs(), (l - prev_c).abs()))
    f["ATR_20"] = sma(f["TR"], v)
    f["ATR_Normalized"] = f["ATR_20"] / c
    f["High_Vol_Regime"] = flag(rv > rolling_quantile(rv, 2 * v, 0.8))
    f["Vol_Change"] = pct_change(rv)


def volume_features(h, l, c, vol, lb, f):
    n = lb["volume"]
    f["Volume_MA_20"] = sma(vol, n)
    f["Volume_Ratio"] = safe_divide(vol, f["Volume_MA_20"], 1.0)
    f["Price_Volume_Trend"] = pct_change(c) * pct_change(vol)
    tp = (h + l + c) / 3.0
    f["VWAP"] = safe_divide((tp * vol).rolling(n).sum(), vol.rolling(n).sum(), tp)
    f["VWAP_Deviation"] = safe_divide(c - f["VWAP"], f["VWAP"], 0.0)
    f["Volume_Spike"] = flag(vol > rolling_quantile(vol, n, 0.9))
    f["Volume_Trend"] = safe_divide(sma(vol, 5), sma(vol, n), 1.0)


def funding_features(fr, r, f):
    f["FR_MA_24"] = sma(fr, 24)
    f["FR_MA_168"] = sma(fr, 168)
    f["FR_Change"] = fr.diff()
    f["FR_Change_Rate"] = pct_change(fr)
    f["Price_FR_Divergence"] = r - fr
    f["FR_Extreme_High"] = flag(fr > rolling_quantile(fr, 168, 0.9))
    f["FR_Extreme_Low"] = flag(fr < rolling_quantile(fr, 168, 0.1))
    f["FR_Normalized"] = safe_normalize(fr, 168)
    f["FR_Trend"] = f["FR_MA_24"] - f["FR_MA_168"]
    f["FR_Volatility"] = std(fr, 24)


def oi_features(oi, r, f):
    f["OI_Change_Rate"] = pct_change(oi)
    f["OI_Change_Rate_24h"] = pct_change(oi, 24)
    f["OI_Surge"] = flag(oi > rolling_quantile(oi, 168, 0.9))
    f["Volatility_Adjusted_OI"] = safe_divide(oi, std(r, 24), oi)
    f["OI_MA_24"] = sma(oi, 24)
    f["OI_MA_168"] = sma(oi, 168)
    f["OI_Trend"] = f["OI_MA_24"] / f["OI_MA_168"] - 1.0
    f["OI_Price_Correlation"] = safe_correlation(r, f["OI_Change_Rate"], 24)
    f["OI_Normalized"] = safe_normalize(oi, 168)


def composite_features(fr, oi, f):
    oi_change = pct_change(oi)
    f["FR_OI_Ratio"] = safe_divide(fr, oi, 0.0)
    f["Market_Heat_Index"] = fr * oi_change
    f["Market_Stress"] = np.sqrt(safe_normalize(fr, 168) ** 2 + safe_normalize(oi, 168) ** 2)
    f["Market_Balance"] = flag((fr > 0) & (oi_change > 0))


def regime_features(h, l, c, lb, f):
    v = lb["volatility"]
    hh, ll = h.rolling(v).max(), l.rolling(v).min()
    f["Trend_Strength"] = trend_strength(c, lb)
    f["Range_Bound_Ratio"] = safe_divide(c - ll, hh - ll, 0.5)
    hh1, ll1 = hh.shift(1), ll.shift(1)
    with np.errstate(all="ignore"):
        up = (c - hh1) / hh1
        down = (ll1 - c) / ll1
    # np.where semantics: NaN comparisons are false, so warm-up rows give 0.
    f["Breakout_Strength"] = pd.Series(np.where(c > hh1, up, np.where(c < ll1, down, 0.0)),
                                       index=c.index)
    f["Market_Efficiency"] = pct_change(c).rolling(v).apply(lag1_autocorr, raw=True)


def momentum_features(h, l, c, f):
    f["RSI"] = rsi_simple(c)
    f["MACD"], f["MACD_Signal"], f["MACD_Histogram"] = macd_parts(c)
    hh, ll = h.rolling(14).max(), l.rolling(14).min()
    f["Stochastic_K"] = 100.0 * safe_divide(c - ll, hh - ll, 0.5)
    f["Stochastic_D"] = sma(f["Stochastic_K"], 3)
    f["Williams_R"] = -100.0 * (hh - c) / (hh - ll + EPS)
    tp = (h + l + c) / 3.0
    mad = tp.rolling(20).apply(mean_abs_dev, raw=True)
    f["CCI"] = (tp - sma(tp, 20)) / (0.015 * mad + EPS)
    f["ROC"] = pct_change(c, 12) * 100.0
    f["Momentum"] = c / c.shift(10)


def pattern_features(o, h, l, c, lb, f):
    v = lb["volatility"]
    price_slope = c.rolling(10).apply(slope10, raw=True)
    rsi_slope = f["RSI"].rolling(10).apply(slope10, raw=True)
    f["Bear_Divergence"] = flag((price_slope > 0) & (rsi_slope < 0))
    f["Bull_Divergence"] = flag((price_slope < 0) & (rsi_slope > 0))
    hh, ll = h.rolling(v).max(), l.rolling(v).min()
    f["Support_Distance"] = (c - ll) / c
    f["Resistance_Distance"] = (hh - c) / c
    pivot = (h.shift(1) + l.shift(1) + c.shift(1)) / 3.0
    f["Pivot_Distance"] = (c - pivot) / pivot
    for k in (0.236, 0.382, 0.5, 0.618, 0.786):
        f[f"Fib_{int(round(k * 1000))}_Distance"] = (c - (ll + (hh - ll) * k)).abs() / c
    g = (o - c.shift(1)) / c.shift(1)
    f["Gap_Up"] = flag(g > 0.01)
    f["Gap_Down"] = flag(g < -0.01)
    f["Gap_Size"] = g.abs()


def time_features(ts_ms, f):
    t = pd.to_datetime(ts_ms, unit="ms", utc=True)
    hour = pd.Series(t.dt.hour, index=ts_ms.index, dtype=np.float64)
    dow = pd.Series(t.dt.dayofweek, index=ts_ms.index, dtype=np.float64)  # Monday = 0
    f["Hour_Sin"] = np.sin(2.0 * math.pi * hour / 24.0)
    f["Hour_Cos"] = np.cos(2.0 * math.pi * hour / 24.0)
    f["DOW_Sin"] = np.sin(2.0 * math.pi * dow / 7.0)
    f["DOW_Cos"] = np.cos(2.0 * math.pi * dow / 7.0)


# ------------------------------------------------------------------ alignment
def align_asof(bar_close_ms, series, max_age_ms):
    """Value of the last point stamped strictly before each bar's close, NaN if none or if it is
    older than max_age_ms (close - stamp > max_age_ms). No other filling."""
    left = pd.DataFrame({"close": bar_close_ms.astype(np.int64)})
    right = pd.DataFrame({"stamp": series["timestamp"].astype(np.int64),
                          "value": series["value"].astype(np.float64)})
    right = right.sort_values("stamp", kind="mergesort").reset_index(drop=True)
    m = pd.merge_asof(left, right, left_on="close", right_on="stamp", direction="backward",
                      allow_exact_matches=False)
    return m["value"].where(m["close"] - m["stamp"] <= max_age_ms).set_axis(bar_close_ms.index)


def resample_bars(bars, htf_ms):
    """UTC-aligned buckets of htf_ms: open first, high max, low min, close last, volume sum of the
    bars present. Empty buckets are dropped (windows count higher-timeframe bars, not hours)."""
    bucket = (bars["timestamp"] // htf_ms) * htf_ms
    g = bars.groupby(bucket, sort=True)
    out = pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                        "low": g["low"].min(), "close": g["close"].last(),
                        "volume": g["volume"].sum()})
    out.index.name = "bucket"
    return out.reset_index()


def mtf_features(bars, tf_ms, lb, f):
    """Higher-timeframe features, causal: base bar i sees the last HTF bar whose close
    (bucket + htf) is <= the base bar's close (ts + tf), held until the next one closes."""
    base_close = bars["timestamp"] + tf_ms
    for tf in MTF_TIMEFRAMES:
        htf_ms = TIMEFRAMES_MS[tf]
        if htf_ms < tf_ms:
            for name in MTF_FEATURES:
                f[f"{name}_{tf}"] = pd.Series(np.nan, index=bars.index)
            continue
        hb = resample_bars(bars, htf_ms)
        hc = hb["close"]
        returns = pct_change(hc)
        values = {
            "Returns": returns,
            "Realized_Volatility_20": realized_vol(returns, lb),
            "RSI": rsi_simple(hc),
            "MACD_Histogram": macd_parts(hc)[2],
            "Trend_Strength": trend_strength(hc, lb),
        }
        right = pd.DataFrame({"htf_close": (hb["bucket"] + htf_ms).astype(np.int64)})
        for name in MTF_FEATURES:
            right[name] = values[name].to_numpy()
        left = pd.DataFrame({"close": base_close.astype(np.int64)})
        m = pd.merge_asof(left, right, left_on="close", right_on="htf_close",
                          direction="backward", allow_exact_matches=True)
        for name in MTF_FEATURES:
            f[f"{name}_{tf}"] = m[name].set_axis(bars.index)


# ------------------------------------------------------------------ pipeline
def compute_features(bars, funding, oi, timeframe, lookbacks=None):
    """bars: DataFrame timestamp(int64 ms, bar open), open, high, low, close, volume (float64),
    sorted; funding / oi: DataFrame timestamp, value or None. Returns a DataFrame with
    `timestamp` followed by COLUMNS, cleaned (+-inf and |x| > 1e10 -> NaN, no fill)."""
    lb = dict(DEFAULT_LOOKBACKS)
    lb.update(lookbacks or {})
    tf_ms = TIMEFRAMES_MS[timeframe]
    bars = bars.reset_index(drop=True)
    o, h, l, c, vol = (bars[k].astype(np.float64) for k in ("open", "high", "low", "close",
                                                            "volume"))
    close_ms = bars["timestamp"] + tf_ms
    f = {}
    price_features(o, h, l, c, lb, f)
    volatility_features(h, l, c, lb, f)
    volume_features(h, l, c, vol, lb, f)
    r = pct_change(c)
    fr = align_asof(close_ms, funding, FUNDING_MAX_AGE_MS) if funding is not None else None
    oiv = align_asof(close_ms, oi, OI_MAX_AGE_BARS * tf_ms) if oi is not None else None
    if fr is not None:
        funding_features(fr, r, f)
    if oiv is not None:
        oi_features(oiv, r, f)
    if fr is not None and oiv is not None:
        composite_features(fr, oiv, f)
    regime_features(h, l, c, lb, f)
    momentum_features(h, l, c, f)
    pattern_features(o, h, l, c, lb, f)
    time_features(bars["timestamp"], f)
    mtf_features(bars, tf_ms, lb, f)

    out = pd.DataFrame(index=bars.index)
    out["timestamp"] = bars["timestamp"].astype(np.int64)
    for name in COLUMNS:
        x = f.get(name)
        x = np.full(len(bars), np.nan) if x is None else np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(x) | (np.abs(x) > CLEAN_LIMIT)
        out[name] = np.where(bad, np.nan, x)
    return out


# ------------------------------------------------------------------ I/O
def read_bars(path, head=None):
    df = pd.read_csv(path)
    cols = ["timestamp", "open", "high", "low", "close", "volume"]
    missing = [k for k in cols if k not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    df = df[cols].astype({"timestamp": np.int64, "open": np.float64, "high": np.float64,
                          "low": np.float64, "close": np.float64, "volume": np.float64})
    df = df.sort_values("timestamp", kind="mergesort").reset_index(drop=True)
    return df.head(head).copy() if head else df


def read_series(path, value_names):
    df = pd.read_csv(path)
    name = next((k for k in value_names if k in df.columns), None)
    if "timestamp" not in df.columns or name is None:
        raise ValueError(f"{path}: need a timestamp column and one of {', '.join(value_names)}")
    return pd.DataFrame({"timestamp": df["timestamp"].astype(np.int64),
                         "value": df[name].astype(np.float64)})


def fmt(x):
    """repr of a float: the shortest string that parses back to the same double (strtod-safe);
    NaN is an empty cell."""
    if x != x:
        return ""
    if x == 0.0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def write_csv(df, path):
    with open(path, "w", newline="\n") as fh:
        fh.write(",".join(df.columns) + "\n")
        cols = [df[k].to_numpy() for k in df.columns]
        for i in range(len(df)):
            cells = [str(int(cols[0][i]))] + [fmt(float(col[i])) for col in cols[1:]]
            fh.write(",".join(cells) + "\n")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", required=True, help="CSV timestamp,open,high,low,close,volume")
    ap.add_argument("--funding", help="CSV timestamp,funding_rate (absent: FR columns NaN)")
    ap.add_argument("--oi", help="CSV timestamp,open_interest (absent: OI columns NaN)")
    ap.add_argument("--timeframe", default="1h", choices=sorted(TIMEFRAMES_MS))
    ap.add_argument("--head", type=int, help="use only the first N bars")
    ap.add_argument("--out", required=True, help="output CSV")
    for key, val in DEFAULT_LOOKBACKS.items():
        ap.add_argument(f"--{key.replace('_', '-')}", type=int, default=val, dest=key)
    a = ap.parse_args(argv)
    bars = read_bars(a.bars, a.head)
    funding = read_series(a.funding, FUNDING_VALUE_COLUMNS) if a.funding else None
    oi = read_series(a.oi, OI_VALUE_COLUMNS) if a.oi else None
    lb = {k: getattr(a, k) for k in DEFAULT_LOOKBACKS}
    write_csv(compute_features(bars, funding, oi, a.timeframe, lb), a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
