#!/usr/bin/env bash
# Writes src/EfficientNet.Batch.Cli/startup-methods.txt: the methods the JIT compiles during `effnet run` in the CLI
# published without the start-up profile. A composite publish (scripts/publish-cli.sh) turns the list into the .mibc
# profile crossgen2 roots, so those methods come precompiled (docs/benchmarks.md, "A start-up profile for crossgen2").
# Run it again when the list has aged (the Deploy tests fail when too few of its methods still exist).
#
# Training runs, with a warm model store: `effnet run` on the sample photos and the bad inputs (classify, error records,
# merge, summary), the same --out again (the incremental run: everything carried forward), then twice on 300 photos
# and once on one photo. The list is their union: an async method's box is only made when the method suspends, which
# depends on timing, so one run alone misses some.
#
# Usage: scripts/startup-profile.sh [PHOTOS]    (default ../shared/data/imagenet-samples). Takes ~4 minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PHOTOS="${1:-$ROOT/../shared/data/imagenet-samples}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

EFFNET_STARTUP_PROFILE=false "$ROOT/scripts/publish-cli.sh" "$WORK/cli" >/dev/null
export EFFNET_MODELS="$WORK/models"
mkdir -p "$WORK/photos"
cp "$PHOTOS"/* "$WORK/photos/"
cp "$ROOT/../shared/data/bad-inputs"/* "$WORK/photos/" 2>/dev/null || true

mkdir -p "$WORK/p300" "$WORK/p1"
mapfile -t JPEGS < <(find "$PHOTOS" -maxdepth 1 -type f -iname '*.jpeg' | LC_ALL=C sort)
cp -t "$WORK/p300" "${JPEGS[@]:0:300}"
cp -t "$WORK/p1" "${JPEGS[0]}"

# run NAME PHOTOS OUT: one `effnet run`, its JIT summary kept as jit-NAME.txt (a run that fails fails the script).
run() {
  DOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile="$WORK/jit-$1.txt" \
    "$WORK/cli/effnet" run "$2" --model efficientnet_b0 --random-weights --out "$3" >/dev/null 2>&1 \
    || { status=$?; [ "$status" -eq 4 ] || { echo "effnet run $2 failed ($status)" >&2; exit 1; }; }
}
run weights "$WORK/p1" "$WORK/out-weights"    # the weights are made and stored first: not part of the profile
rm -f "$WORK/jit-weights.txt"
run all "$WORK/photos" "$WORK/out-all"        # exit 4: completed, the bad inputs as error records
run again "$WORK/photos" "$WORK/out-all"
run 300a "$WORK/p300" "$WORK/out-300a"
run 300b "$WORK/p300" "$WORK/out-300b"
run one "$WORK/p1" "$WORK/out-one"

# "   12: JIT compiled Type:Method(params) [FullOpts, IL size=…]" -> "Type:Method(params)"; IL stubs have no metadata.
cat "$WORK"/jit-*.txt \
  | sed -n 's/^ *[0-9]*: JIT compiled \(.*\) \[[^]]*IL size=[0-9]*, code size=[0-9]*\]$/\1/p' \
  | grep -v '^(dynamicClass)' \
  | LC_ALL=C sort -u > "$ROOT/src/EfficientNet.Batch.Cli/startup-methods.txt"
echo "$(wc -l < "$ROOT/src/EfficientNet.Batch.Cli/startup-methods.txt") methods in src/EfficientNet.Batch.Cli/startup-methods.txt"
