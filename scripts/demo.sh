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
# Live data from Bybit is opt-in (KIZASHI_DEMO_FETCH=1): the build and CI machines this demo
# runs on reach no exchange, and a demo should not wait on network time-outs by default.
FETCHED=0
if [ "${KIZASHI_DEMO_FETCH:-0}" = 1 ]; then
    echo "== fetching the last 180 days of BTCUSDT 1h bars, funding and open interest from Bybit"
    if kz fetch all --exchange bybit --symbol BTCUSDT --timeframe 1h --days 180 --retries 1; then
        FETCHED=1
    else
        echo "   Bybit is not reachable from here: falling back to local data"
    fi
fi
if [ "$FETCHED" = 1 ]; then
    SHOW=(--exchange bybit --symbol BTCUSDT)
    MKT=(--exchange bybit --symbol BTCUSDT --timeframe 1h)
    WHAT="BTCUSDT 1h on Bybit (fetched live), with Bybit funding and open interest"
elif [ -f "$DATA/binance/BTCUSDT-1h.csv" ]; then
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
    MKT=(--exchange binance --symbol BTCUSDT --timeframe 1h --oi-exchange hyperliquid)
    WHAT="BTCUSDT 1h on Binance, funding from Binance, open interest from Hyperliquid"
else
    echo "== real data not found at $DATA: generating SYNTHETIC data instead"
    kz synth --exchange synthetic --symbol SYNTH --timeframe 1h --bars 10000 --seed 42
    SHOW=(--exchange synthetic --symbol SYNTH)
    MKT=(--exchange synthetic --symbol SYNTH --timeframe 1h)
    WHAT="SYNTH 1h (synthetic)"
fi

echo
echo "== stored series (kizashi data list)"
kz data list
echo
echo "== last 5 bars of $WHAT (kizashi data show ... --with-fr --with-oi --last 5)"
kz data show "${SHOW[@]}" --timeframe 1h --with-fr --with-oi --last 5

echo
echo "== features (kizashi features ${MKT[*]})"
kz features "${MKT[@]}" > kizashi-data/features.csv
rows=$(($(wc -l < kizashi-data/features.csv) - 1))
cols=$(($(head -1 kizashi-data/features.csv | tr ',' '\n' | wc -l) - 1))
echo "   $rows bars x $cols features -> kizashi-data/features.csv (no look-ahead: row t uses bars <= t)"
echo "   last bar, a few of them:"
awk -F, 'NR==1 { for (i = 1; i <= NF; i++) h[i] = $i } END {
    n = split("RSI Realized_Volatility_20 FR_Normalized OI_Change_Rate_24h Market_Stress Trend_Strength_1d", want, " ")
    for (k = 1; k <= n; k++) for (i = 1; i <= NF; i++) if (h[i] == want[k]) printf "     %-22s %s\n", want[k], $i
}' kizashi-data/features.csv

# The model learns from the first 60% of the bars; the ML columns that the strategy search uses
# below are then out-of-sample predictions on the last 40% (training the model on the bars the
# search scores would hand it in-sample predictions: a leak).
TS=($(kz data show "${SHOW[@]}" --timeframe 1h | awk -F, 'NR > 1 { t[NR] = $1 } END {
    print t[2], t[int(2 + (NR - 2) * 0.6)] }'))
SPLIT=${TS[1]}

echo
echo "== model: 3-class gradient boosting, down / range / up over 24 bars, trained on the first 60%"
echo "   of the bars (kizashi train --to $SPLIT)"
kz train "${MKT[@]}" --to "$SPLIT" --out kizashi-data/model.kzm 2> kizashi-data/train.log

echo
echo "== ML indicator columns, bar by bar (kizashi signals --model kizashi-data/model.kzm); last 5 bars"
kz signals --model kizashi-data/model.kzm "${MKT[@]}" > kizashi-data/ml.csv
tail -n 5 kizashi-data/ml.csv | sed 's/^/   /'

echo
echo "== backtest of an example rule strategy (kizashi backtest --strategy examples/strategies/rsi_bbands.json)"
kz backtest --strategy "$ROOT/examples/strategies/rsi_bbands.json" "${MKT[@]}"

echo
echo "== strategy search: genetic algorithm over indicators + ML columns (kizashi evolve --mode mixed)"
echo "   fitness on the first 70% of the bars, the top strategies re-run on the last 30% (OOS);"
echo "   DSR = probability that the Sharpe ratio is real after trying this many strategies"
echo "   (on the last 40% of the bars, where the model's predictions are out of sample)"
kz evolve "${MKT[@]}" --from "$SPLIT" --model kizashi-data/model.kzm --mode mixed \
    --population 60 --generations 30 --seed 42 --top 3 --quiet \
    --out kizashi-data/strategies.json --best kizashi-data/best.json
echo
echo "   replay the best one: kizashi backtest --strategy kizashi-data/best.json ${MKT[*]} --from $SPLIT \\"
echo "                        --columns kizashi-data/ml.csv"
