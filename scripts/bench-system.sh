#!/usr/bin/env bash
# `effnet bench system` at scale, with a Release build of the CLI (issue #13's figures in docs/benchmarks.md):
#   1. memory: one job of 1,000,000 and one of 10,000,000 images, coordinator alone (--transport rabbitmq: the two
#      simulated workers are separate processes), device time 0, so the coordinator's own work dominates;
#   2. scaling: 1, 2 and 4 worker processes on RabbitMQ with a simulated device of 20 ms per image.
# RabbitMQ is a private broker started by scripts/services.sh (stopped on exit); storage is the local file system.
#
# Usage: scripts/bench-system.sh [--sizes "1000000 10000000"] [--scaling-images 4000] [--workers "1 2 4"]
#                                [--device-ms 20] [--shard-size 32] [--out DIR]
# Each run's JSON report goes to DIR (default artifacts/bench-system), one file per run; a summary table is printed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SIZES="1000000 10000000"
SCALING_IMAGES=4000
WORKERS="1 2 4"
DEVICE_MS=20
SHARD_SIZE=32
OUT="$ROOT/artifacts/bench-system"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES="$2"; shift 2 ;;
    --scaling-images) SCALING_IMAGES="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --device-ms) DEVICE_MS="$2"; shift 2 ;;
    --shard-size) SHARD_SIZE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$OUT"
BIN="$ROOT/artifacts/bench-system-cli"
EFFNET=("$(scripts/publish-cli.sh "$BIN")/effnet")

LOG_NAME=bench-system source scripts/services.sh

for images in $SIZES; do
  echo "[bench-system] memory: $images images, coordinator alone, 2 worker processes, 0 ms per image" >&2
  "${EFFNET[@]}" bench system --transport rabbitmq --images "$images" --workers 2 --device-ms 0 --json >"$OUT/memory-$images.json"
done

for workers in $WORKERS; do
  echo "[bench-system] scaling: $workers worker process(es), $DEVICE_MS ms per image, $SCALING_IMAGES images in shards of $SHARD_SIZE" >&2
  "${EFFNET[@]}" bench system --transport rabbitmq --images "$SCALING_IMAGES" --workers "$workers" --device-ms "$DEVICE_MS" \
    --shard-size "$SHARD_SIZE" --json >"$OUT/scaling-$workers.json"
done

python3 - "$OUT" "$SIZES" "$WORKERS" <<'PY'
import json, sys
out, sizes, workers = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
print(f"{'images':>11} {'plan s':>8} {'dispatch s':>10} {'merge s':>8} {'finish s':>8} {'outcomes read ms':>16} {'peak RSS MiB':>12} {'status p90 ms':>13} {'images/s':>9}")
for n in sizes:
    r = json.load(open(f"{out}/memory-{n}.json"))
    print(f"{r['images']:>11,} {r['planSeconds']:>8.1f} {r['dispatchSeconds']:>10.1f} {r['mergeSeconds']:>8.1f} {r.get('finishSeconds') or float('nan'):>8.1f} {r.get('outcomesReadMs') or float('nan'):>16.1f} {r['coordinatorPeakRssMiB']:>12.0f} {r['statusP90Ms']:>13.1f} {r['imagesPerSecond']:>9.0f}")
base = None
print(f"\n{'workers':>7} {'images/s':>9} {'device limit':>12} {'vs 1 worker':>11}")
for w in workers:
    r = json.load(open(f"{out}/scaling-{w}.json"))
    base = base or r['imagesPerSecond']
    print(f"{w:>7} {r['imagesPerSecond']:>9.1f} {r['deviceLimitImagesPerSecond']:>12.1f} {r['imagesPerSecond'] / base:>10.2f}x")
PY
