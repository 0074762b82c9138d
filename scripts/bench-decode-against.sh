#!/usr/bin/env bash
# Stage (a) of `effnet bench` (decode + preprocess, b0, bytes in memory) on this checkout against another commit, run
# alternately on the same photos: issue #14's "decodes+resizes per second per core" before and after
# (docs/benchmarks.md, *JPEG decoding*). Both are built Release into a temporary folder; each gets its own model store.
#
# Usage: scripts/bench-decode-against.sh REV [--rounds 7] [--decode-threads 1] [--photos DIR]
# Prints each round's two rates and their ratio, then the median ratio.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REV="${1:?usage: scripts/bench-decode-against.sh REV [--rounds N] [--decode-threads N] [--photos DIR]}"; shift
ROUNDS=7
THREADS=1
PHOTOS="$ROOT/../shared/data/imagenet-samples"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --decode-threads) THREADS="$2"; shift 2 ;;
    --photos) PHOTOS="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

WORK="$(mktemp -d)"
cleanup() { git -C "$ROOT" worktree remove --force "$WORK/other-src" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/photos"
for f in "$PHOTOS"/*; do case "$f" in *.JPEG|*.jpg|*.jpeg|*.png) cp "$f" "$WORK/photos/" ;; esac; done

git -C "$ROOT" worktree add --detach "$WORK/other-src" "$REV" >/dev/null 2>&1
dotnet build -c Release "$WORK/other-src/src/EfficientNet.Batch.Cli" -o "$WORK/other" >"$WORK/build-other.log" 2>&1 \
  || { tail -20 "$WORK/build-other.log" >&2; exit 1; }
# A copy of this checkout, so that the build does not touch its own bin/obj folders.
mkdir -p "$WORK/this-src"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$WORK/this-src"
dotnet build -c Release "$WORK/this-src/src/EfficientNet.Batch.Cli" -o "$WORK/this" >"$WORK/build-this.log" 2>&1 \
  || { tail -20 "$WORK/build-this.log" >&2; exit 1; }

stage_a() { # prints stage (a)'s images/s
  EFFNET_MODELS="$WORK/models-$1" dotnet "$WORK/$1/effnet.dll" bench --model efficientnet_b0 --random-weights \
    --images "$WORK/photos" --count 64 --stage-count 1000 --rounds 1 --decode-threads "$THREADS" --json 2>/dev/null \
    | python3 -c "import json,sys; print(f\"{json.load(sys.stdin)['decodeImagesPerSecond']:.1f}\")"
}

ratios=()
echo "decode threads $THREADS; $REV against this checkout ($(git -C "$ROOT" rev-parse --short HEAD), with its uncommitted changes)"
for round in $(seq "$ROUNDS"); do
  other=$(stage_a other); this=$(stage_a this)
  ratio=$(python3 -c "print(f'{$this / $other:.2f}')")
  ratios+=("$ratio")
  echo "round $round: $REV $other images/s, this $this images/s, ratio $ratio (load $(cut -d' ' -f1 /proc/loadavg))"
done
python3 -c "import statistics,sys; print(f'median ratio {statistics.median(map(float, sys.argv[1:])):.2f}')" "${ratios[@]}"
