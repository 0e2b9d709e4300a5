#!/usr/bin/env bash
# kizashi demo: fill kizashi-data/kizashi.db with the real market data in ../shared/data (or
# synthetic data when it is absent, saying so), then show what is stored. Idempotent.
set -euo pipefail

BIN=${1:?usage: bash scripts/demo.sh path/to/kizashi}
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${KZ_SHARED:-$ROOT/../shared}/data/funding_the_fall"
mkdir -p kizashi-data
DB="$(pwd)/kizashi-data/kizashi.db"
kz() { "$BIN" --db "$DB" "$@"; }

echo "== kizashi $("$BIN" version | cut -d' ' -f2), database $DB"
if [ -f "$DATA/binance/BTCUSDT-1h.csv" ]; then
    echo "== importing real data from $DATA"
    echo "   (each file is one transaction; a re-run reports its rows as unchanged)"
    (
        cd "$DATA"
        for coin in BTC ETH SOL DOGE; do
            sym="${coin}USDT"
            for ex in binance bybit; do
                kz import bars --exchange "$ex" --symbol "$sym" --timeframe 1h "$ex/$sym-1h.csv"
                kz import funding --exchange "$ex" --symbol "$sym" "$ex/$sym-funding.csv"
            done
            kz import oi --exchange hyperliquid --symbol "$sym" \
                "hyperliquid/$coin-open-interest-1h.csv"
        done
    )
    SHOW=(--exchange binance --symbol BTCUSDT --oi-exchange hyperliquid)
    WHAT="BTCUSDT 1h on Binance, funding from Binance, open interest from Hyperliquid"
else
    echo "== real data not found at $DATA: generating SYNTHETIC data instead"
    kz synth --exchange synthetic --symbol SYNTH --timeframe 1h --bars 10000 --seed 42
    SHOW=(--exchange synthetic --symbol SYNTH)
    WHAT="SYNTH 1h (synthetic)"
fi

echo
echo "== stored series (kizashi data list)"
kz data list
echo
echo "== last 5 bars of $WHAT (kizashi data show ... --with-fr --with-oi --last 5)"
kz data show "${SHOW[@]}" --timeframe 1h --with-fr --with-oi --last 5
