#!/usr/bin/python3
"""Regenerates tests/golden/features/: the real-data golden and the synthetic edge cases.

The synthetic inputs are generated deterministically here (numpy RandomState, fixed seeds) and
written next to the goldens under inputs/ so the C tests read exactly the same numbers.
Run from anywhere with Debian's interpreter: /usr/bin/python3 tests/reference/make_goldens.py
"""

import argparse
import os
import sys

import numpy as np
import pandas as pd

import features_ref as ref

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
GOLDEN = os.path.join(REPO, "tests", "golden", "features")
SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))

START_MS = 1704067200000  # 2024-01-01T00:00Z (a Monday)
H = ref.HOUR_MS
N_BARS = 300
REAL_HEAD = 3000


def random_walk(n, seed, tf_ms=H):
    """Bars on the tf grid from START_MS: opens equal the previous close except for a +-1.5% jump
    every 29th bar (exercises Gap_Up/Gap_Down), log-normal closes, wicks, log-normal volume.
    Prices have 2 decimals and volumes 3, like exchange ticks."""
    rs = np.random.RandomState(seed)
    rows = []
    prev = 100.0
    for i in range(n):
        jump = 0.015 * (1 if rs.rand() < 0.5 else -1) if i % 29 == 28 else 0.0
        o = round(prev * (1.0 + jump), 2)
        c = round(o * float(np.exp(rs.normal(0.0, 0.008))), 2)
        hi = max(round(max(o, c) * (1.0 + abs(rs.normal(0.0, 0.003))), 2), o, c)
        lo = min(round(min(o, c) * (1.0 - abs(rs.normal(0.0, 0.003))), 2), o, c)
        vol = round(float(np.exp(rs.normal(np.log(1000.0), 0.5))), 3)
        rows.append((START_MS + i * tf_ms, o, hi, lo, c, vol))
        prev = c
    return pd.DataFrame(rows, columns=["timestamp", "open", "high", "low", "close", "volume"])


def funding_series(first_ms, last_ms, seed, zero=False, jitter_ms=0, drop=()):
    """8-hourly settlements at 00/08/16 UTC covering [first_ms - 24h, last_ms]."""
    rs = np.random.RandomState(seed)
    t0 = (first_ms // (8 * H)) * (8 * H) - 24 * H
    stamps = np.arange(t0, last_ms + 1, 8 * H, dtype=np.int64)
    vals = np.zeros(len(stamps)) if zero else np.round(1e-4 + rs.normal(0.0, 8e-5, len(stamps)), 8)
    keep = ~np.isin(stamps, np.asarray(drop, dtype=np.int64))
    return pd.DataFrame({"timestamp": stamps[keep] + jitter_ms, "funding_rate": vals[keep]})


def oi_series(first_ms, last_ms, seed, drop=()):
    """Hourly open interest in USD covering [first_ms - 5h, last_ms]."""
    rs = np.random.RandomState(seed)
    stamps = np.arange(first_ms - 5 * H, last_ms + 1, H, dtype=np.int64)
    vals = np.round(2e9 * np.exp(np.cumsum(rs.normal(0.0, 0.004, len(stamps)))), 2)
    keep = ~np.isin(stamps, np.asarray(drop, dtype=np.int64))
    return pd.DataFrame({"timestamp": stamps[keep], "open_interest": vals[keep]})


def span(bars):
    return int(bars["timestamp"].iloc[0]), int(bars["timestamp"].iloc[-1])


def case_constant():
    ts = START_MS + np.arange(N_BARS, dtype=np.int64) * H
    bars = pd.DataFrame({"timestamp": ts, "open": 100.0, "high": 100.0, "low": 100.0,
                         "close": 100.0, "volume": 10.0})
    t0, t1 = span(bars)
    fr = funding_series(t0, t1, 0)
    fr["funding_rate"] = 1e-4
    oi = oi_series(t0, t1, 0)
    oi["open_interest"] = 1e9
    return bars, fr, oi


def case_zero_volume():
    bars = random_walk(N_BARS, 2)
    bars.loc[100:219, "volume"] = 0.0
    return bars, None, None


def case_gap():
    """40 bars missing after bar 119; one funding settlement missing (older than 9 h for a while);
    five hourly OI points missing (older than 2 bars for four bars)."""
    full = random_walk(N_BARS + 40, 3)
    bars = full.drop(index=range(120, 160)).reset_index(drop=True)
    t0, t1 = span(bars)
    fr = funding_series(t0, t1, 3, drop=(START_MS + 248 * H,))
    oi = oi_series(t0, t1, 3, drop=tuple(START_MS + k * H for k in range(240, 245)))
    return bars, fr, oi


def case_fr_zero():
    bars = random_walk(N_BARS, 4)
    t0, t1 = span(bars)
    return bars, funding_series(t0, t1, 4, zero=True), oi_series(t0, t1, 4)


def case_oi_missing():
    bars = random_walk(N_BARS, 5)
    t0, t1 = span(bars)
    return bars, funding_series(t0, t1, 5), None


def case_random_walk():
    """Binance-like funding stamps with 1 ms of jitter after the settlement time."""
    bars = random_walk(N_BARS, 6)
    t0, t1 = span(bars)
    return bars, funding_series(t0, t1, 6, jitter_ms=1), oi_series(t0, t1, 6)


def case_random_walk_4h():
    """4h bars with hourly OI (the as-of value is the OI stamped in the bar's last hour; max age
    8 h) and 8-hourly funding; the 4h MTF group equals the base series here."""
    bars = random_walk(N_BARS, 7, 4 * H)
    t0, t1 = span(bars)
    return bars, funding_series(t0, t1 + 4 * H, 7, jitter_ms=1), oi_series(t0, t1 + 4 * H, 7)


# name -> (input generator, timeframe)
CASES = {
    "constant": (case_constant, "1h"),
    "zero_volume": (case_zero_volume, "1h"),
    "gap": (case_gap, "1h"),
    "fr_zero": (case_fr_zero, "1h"),
    "oi_missing": (case_oi_missing, "1h"),
    "random_walk": (case_random_walk, "1h"),
    "random_walk_4h": (case_random_walk_4h, "4h"),
}

# name -> (case whose inputs it reuses, non-default lookbacks): tests the lookback plumbing.
LOOKBACK_CASES = {
    "random_walk_lookbacks": ("random_walk", {"short_ma": 5, "long_ma": 30, "volatility": 10,
                                              "momentum": 7, "volume": 15}),
}


def write_input(df, path):
    with open(path, "w", newline="\n") as fh:
        fh.write(",".join(df.columns) + "\n")
        for row in df.itertuples(index=False):
            fh.write(",".join([str(int(row[0]))] + [ref.fmt(float(x)) for x in row[1:]]) + "\n")


def as_series(df):
    if df is None:
        return None
    return pd.DataFrame({"timestamp": df["timestamp"].astype(np.int64),
                         "value": df.iloc[:, 1].astype(np.float64)})


def make_synthetic():
    inputs = os.path.join(GOLDEN, "inputs")
    os.makedirs(inputs, exist_ok=True)
    for name, (make, timeframe) in CASES.items():
        bars, fr, oi = make()
        write_input(bars, os.path.join(inputs, f"{name}_bars.csv"))
        for suffix, df in (("funding", fr), ("oi", oi)):
            if df is not None:
                write_input(df, os.path.join(inputs, f"{name}_{suffix}.csv"))
        # Compute from the files just written so the golden matches what C reads bit for bit.
        bars = ref.read_bars(os.path.join(inputs, f"{name}_bars.csv"))
        fr = ref.read_series(os.path.join(inputs, f"{name}_funding.csv"),
                             ref.FUNDING_VALUE_COLUMNS) if fr is not None else None
        oi = ref.read_series(os.path.join(inputs, f"{name}_oi.csv"),
                             ref.OI_VALUE_COLUMNS) if oi is not None else None
        ref.write_csv(ref.compute_features(bars, fr, oi, timeframe),
                      os.path.join(GOLDEN, f"{name}.csv"))
        print(f"{name}: {len(bars)} {timeframe} bars")
        for lb_name, (base, lookbacks) in LOOKBACK_CASES.items():
            if base == name:
                ref.write_csv(ref.compute_features(bars, fr, oi, timeframe, lookbacks),
                              os.path.join(GOLDEN, f"{lb_name}.csv"))
                print(f"{lb_name}: {name} inputs, lookbacks {lookbacks}")


def real_inputs(data_dir):
    d = os.path.join(data_dir, "funding_the_fall")
    return (os.path.join(d, "binance", "BTCUSDT-1h.csv"),
            os.path.join(d, "binance", "BTCUSDT-funding.csv"),
            os.path.join(d, "hyperliquid", "BTC-open-interest-1h.csv"))


def make_real(data_dir):
    bars_p, fr_p, oi_p = real_inputs(data_dir)
    bars = ref.read_bars(bars_p, REAL_HEAD)
    fr = ref.read_series(fr_p, ref.FUNDING_VALUE_COLUMNS)
    oi = ref.read_series(oi_p, ref.OI_VALUE_COLUMNS)
    ref.write_csv(ref.compute_features(bars, fr, oi, "1h"),
                  os.path.join(GOLDEN, f"btc_1h_{REAL_HEAD}.csv"))
    print(f"btc_1h_{REAL_HEAD}: {len(bars)} bars")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=SHARED_DATA,
                    help="shared data folder (default: ../shared/data beside the repository)")
    ap.add_argument("--skip-real", action="store_true", help="only the synthetic cases")
    a = ap.parse_args(argv)
    os.makedirs(GOLDEN, exist_ok=True)
    make_synthetic()
    if not a.skip_real:
        make_real(a.data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
