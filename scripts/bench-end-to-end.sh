#!/usr/bin/env bash
# Issue #14's ratios, side by side in one run (figures in docs/benchmarks.md, *End to end*): per model,
#   (a) `effnet bench` full pipeline from memory on the 1000 photos: one round before each round of (b), the median;
#       the ratios are given both as median run / median bench and per round (each round's runs against its bench round);
#   (b) `effnet run` on the 1000 photos and on the first 300, whole process (process start to exit, fresh --out,
#       warm model store), ROUNDS runs each: images / wall seconds;
#   (c) the PyTorch DataLoader loop (benchmarks/pytorch-baseline, Debian's python3-torchvision) on the same 1000
#       photos: its own rate (clock from the first batch) and whole process (python start to exit).
# Ratios printed: run(1000)/bench, run(300)/bench, run(1000)/PyTorch whole process, run(1000)/PyTorch loop rate.
# With --baseline-env NAME=VALUE, (b) also runs with that setting in its environment, interleaved with the default
# runs (e.g. Worker__ConcurrentShards=1, the pipeline that drains at every shard boundary), and both are printed.
# With --baseline-framework-dependent, the baseline runs are the CLI published framework-dependent ReadyToRun instead
# (the two options combine). With --baseline-cli DIR, they are the `effnet` published in DIR (scripts/publish-cli.sh DIR
# on another commit): a change measured against the build before it.
# The CLI is published as scripts/publish-cli.sh publishes it: self-contained, composite ReadyToRun.
#
# Usage: scripts/bench-end-to-end.sh [--models "efficientnet_b0 efficientnet_b3"] [--rounds 3] [--photos DIR]
#                                    [--baseline-env NAME=VALUE] [--baseline-framework-dependent] [--baseline-cli DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODELS="efficientnet_b0 efficientnet_b3"
ROUNDS=3
PHOTOS="$ROOT/../shared/data/imagenet-samples"
BASELINE_ENV=""
BASELINE_FD=""
BASELINE_CLI=""
while [ $# -gt 0 ]; do
  case "$1" in
    --models) MODELS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --photos) PHOTOS="$2"; shift 2 ;;
    --baseline-env) BASELINE_ENV="$2"; shift 2 ;;
    --baseline-framework-dependent) BASELINE_FD=1; shift ;;
    --baseline-cli) BASELINE_CLI="$(cd "$2" && pwd)"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

/usr/bin/python3 -c "import torchvision" 2>/dev/null || apt-get install -y --no-install-recommends python3-torchvision >&2
BIN="$ROOT/artifacts/bench-end-to-end-cli"
EFFNET=("$(scripts/publish-cli.sh "$BIN")/effnet")
BASELINE=("${EFFNET[@]}")
if [ -n "$BASELINE_FD" ]; then
  BASELINE=(dotnet "$(scripts/publish-cli.sh --framework-dependent "$ROOT/artifacts/bench-end-to-end-cli-fd")/effnet.dll")
fi
if [ -n "$BASELINE_CLI" ]; then
  [ -z "$BASELINE_FD" ] || { echo "--baseline-cli and --baseline-framework-dependent exclude each other" >&2; exit 2; }
  BASELINE=("$BASELINE_CLI/effnet")
fi
BASELINE_NAME="${BASELINE_ENV}${BASELINE_FD:+${BASELINE_ENV:+, }framework-dependent ReadyToRun}${BASELINE_CLI:+${BASELINE_ENV:+, }the CLI in $BASELINE_CLI}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export EFFNET_MODELS="$WORK/models"
mkdir -p "$WORK/p1000" "$WORK/p300"
for f in "$PHOTOS"/*; do case "$f" in *.JPEG|*.jpg|*.jpeg|*.png) cp "$f" "$WORK/p1000/" ;; esac; done
mapfile -t sorted < <(ls "$WORK/p1000" | sort)
for f in "${sorted[@]:0:300}"; do cp "$PHOTOS/$f" "$WORK/p300/"; done
N1000=$(ls "$WORK/p1000" | wc -l); N300=$(ls "$WORK/p300" | wc -l)

whole() { # prints wall seconds of a command; a command that fails stops the benchmark (its time would mean nothing)
  local start end rc=0
  start=$(date +%s.%N); "$@" >"$WORK/whole.log" 2>&1 || rc=$?; end=$(date +%s.%N)
  if [ "$rc" -ne 0 ]; then
    { echo "failed (exit $rc): $*"; tail -20 "$WORK/whole.log"; } >&2
    exit 1
  fi
  python3 -c "print(f'{$end - $start:.3f}')"
}

for model in $MODELS; do
  short="${model#efficientnet_}"
  # Warm store: the random weights are made once, before anything is timed.
  # (Copies, not links: a dataset's symbolic links may not lead outside the folder `run` is allowed to read.)
  "${EFFNET[@]}" run "$WORK/p300" --model "$model" --random-weights --out "$WORK/warm" >/dev/null; rm -rf "$WORK/warm"
  runs1000=(); runs300=(); base1000=(); base300=()
  for round in $(seq "$ROUNDS"); do
    # One bench round per round of runs: the machine's other tenants come and go, and the ratio should compare the
    # pipeline and the runs under the same conditions rather than a block of bench rounds with a block of runs.
    "${EFFNET[@]}" bench --model "$model" --random-weights --images "$WORK/p1000" --count "$N1000" --rounds 1 --json \
      2>/dev/null >"$WORK/bench-$short-$round.json"
    rm -rf "$WORK/out"; runs1000+=("$(whole "${EFFNET[@]}" run "$WORK/p1000" --model "$model" --random-weights --out "$WORK/out")")
    rm -rf "$WORK/out"; runs300+=("$(whole "${EFFNET[@]}" run "$WORK/p300" --model "$model" --random-weights --out "$WORK/out")")
    if [ -n "$BASELINE_NAME" ]; then
      rm -rf "$WORK/out"; base1000+=("$(whole env ${BASELINE_ENV:+"$BASELINE_ENV"} "${BASELINE[@]}" run "$WORK/p1000" --model "$model" --random-weights --out "$WORK/out")")
      rm -rf "$WORK/out"; base300+=("$(whole env ${BASELINE_ENV:+"$BASELINE_ENV"} "${BASELINE[@]}" run "$WORK/p300" --model "$model" --random-weights --out "$WORK/out")")
    fi
  done
  torch_whole=$(whole /usr/bin/python3 benchmarks/pytorch-baseline/dataloader_baseline.py "$WORK/p1000" --model "$short" --rounds 1)
  /usr/bin/python3 benchmarks/pytorch-baseline/dataloader_baseline.py "$WORK/p1000" --model "$short" --rounds "$ROUNDS" >"$WORK/torch-$short.txt" 2>/dev/null
  python3 - "$WORK/bench-$short" "$WORK/torch-$short.txt" "$model" "$N1000" "$N300" "$torch_whole" "${runs1000[*]}" "${runs300[*]}" \
    "$BASELINE_NAME" "${base1000[*]:-}" "${base300[*]:-}" <<'PY'
import json, re, statistics, sys
benches = [json.load(open(f"{sys.argv[1]}-{r}.json")) for r in range(1, len(sys.argv[7].split()) + 1)]
bench = {key: statistics.median(b[key] for b in benches) for key in ("pipelineImagesPerSecond", "decodeImagesPerSecond", "inferenceImagesPerSecond")}
torch_rate = float(re.search(r"median ([0-9.]+)", open(sys.argv[2]).read()).group(1))
model, n1000, n300, torch_whole = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
r1000 = [n1000 / float(s) for s in sys.argv[7].split()]
r300 = [n300 / float(s) for s in sys.argv[8].split()]
pipeline = bench["pipelineImagesPerSecond"]
run1000, run300 = statistics.median(r1000), statistics.median(r300)
torch_process = n1000 / torch_whole
print(f"{model}: bench pipeline {pipeline:.1f} images/s (rounds: {', '.join(format(b['pipelineImagesPerSecond'], '.1f') for b in benches)}; "
      f"decode {bench['decodeImagesPerSecond']:.1f}, inference {bench['inferenceImagesPerSecond']:.1f})")
print(f"  effnet run, whole process: 1000 photos {run1000:.1f} images/s (runs: {', '.join(f'{r:.1f}' for r in r1000)}); "
      f"300 photos {run300:.1f} images/s (runs: {', '.join(f'{r:.1f}' for r in r300)})")
print(f"  PyTorch loop: {torch_rate:.1f} images/s from its first batch; whole process {torch_process:.1f} images/s ({torch_whole:.1f} s)")
print(f"  run(1000)/bench {run1000 / pipeline:.3f} (target >= 0.9); run(300)/bench {run300 / pipeline:.3f} (>= 0.8); "
      f"run(1000)/PyTorch whole process {run1000 / torch_process:.2f}x, /PyTorch loop rate {run1000 / torch_rate:.2f}x (>= 3)")
# Each round's runs against the bench round just before them: the same neighbours on both sides of each ratio.
paired = lambda runs: [r / b["pipelineImagesPerSecond"] for r, b in zip(runs, benches)]
describe = lambda ratios: f"median {statistics.median(ratios):.3f} ({', '.join(f'{r:.3f}' for r in ratios)})"
print(f"  per round, against that round's bench: run(1000)/bench {describe(paired(r1000))}; run(300)/bench {describe(paired(r300))}")
if sys.argv[9]:
    b1000 = [n1000 / float(s) for s in sys.argv[10].split()]
    b300 = [n300 / float(s) for s in sys.argv[11].split()]
    m1000, m300 = statistics.median(b1000), statistics.median(b300)
    print(f"  baseline {sys.argv[9]}: 1000 photos {m1000:.1f} images/s (runs: {', '.join(f'{r:.1f}' for r in b1000)}), "
          f"run(1000)/bench {m1000 / pipeline:.3f}; 300 photos {m300:.1f} images/s (runs: {', '.join(f'{r:.1f}' for r in b300)}), "
          f"run(300)/bench {m300 / pipeline:.3f}")
PY
done
