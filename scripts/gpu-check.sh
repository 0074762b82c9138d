#!/usr/bin/env bash
# GPU check: what this machine has for ONNX Runtime's CUDA provider, then `effnet bench` for b0 and b3 at Float32 and
# Float16, batch 32, 64 and 128, on the GPU (IOBinding and pinned buffers are what the worker uses there), as one table.
# Takes under 5 minutes on a machine with an NVIDIA GPU; says so and stops at once on a machine without one.
#
# Usage: scripts/gpu-check.sh [IMAGES_FOLDER]    (default: ../shared/data/imagenet-samples beside the clone)
# Environment:
#   GPU_CHECK_OUT     folder for the JSON reports and the table (default: artifacts/gpu-check)
#   GPU_CHECK_COUNT   images through the full pipeline per run (default 2048; the stages get min(count, 512))
#   EFFNET            an effnet to run (default: builds src/EfficientNet.Batch.Cli in Release with dotnet)
#   CUDA_LIB_DIRS     extra folders holding CUDA 13 / cuDNN 9 libraries (colon-separated), searched first
# Exit codes: 0 measured; 3 no NVIDIA GPU found; 4 a GPU but no usable CUDA 13 + cuDNN 9 (what is missing is printed);
#   1 anything else.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGES="${1:-$ROOT/../shared/data/imagenet-samples}"
OUT="${GPU_CHECK_OUT:-$ROOT/artifacts/gpu-check}"
COUNT="${GPU_CHECK_COUNT:-2048}"
STAGE_COUNT=$((COUNT < 512 ? COUNT : 512))
say() { echo "[gpu-check] $*"; }

# ---- 1. the GPU and its driver ---------------------------------------------------------------------------------
say "machine: $(uname -srm); $(nproc) cores"
DRIVER_LIB="$( (ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 /{print $NF; exit}') || true)"
[ -n "$DRIVER_LIB" ] || DRIVER_LIB="$(ls /usr/local/nvidia/lib64/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.1 2>/dev/null | head -n 1 || true)"
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  say "NO NVIDIA GPU FOUND: nvidia-smi is $(command -v nvidia-smi >/dev/null && echo "there but lists no GPU" || echo "not installed")," \
    "and the driver library libcuda.so.1 is ${DRIVER_LIB:-not found}."
  say "Nothing to measure here. On CPU use \`effnet bench\`; docs/benchmarks.md holds the decode-bound arithmetic for GPUs."
  exit 3
fi
nvidia-smi --query-gpu=index,name,memory.total,driver_version,compute_cap --format=csv,noheader | sed 's/^/[gpu-check] GPU /'
say "driver library: ${DRIVER_LIB:-not on the loader path} ($(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1))"

# ---- 2. CUDA 13 and cuDNN 9 libraries: ONNX Runtime 1.31's CUDA provider loads these at run time ------------------
# Looked for on the loader path, in CUDA toolkits, and in Python's nvidia-* wheels (PyTorch images carry CUDA there).
CANDIDATES="${CUDA_LIB_DIRS:-}"
for dir in /usr/local/cuda/lib64 /usr/local/cuda-13*/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
  /usr/lib/x86_64-linux-gnu /usr/local/nvidia/lib64; do
  [ -d "$dir" ] && CANDIDATES+=":$dir"
done
for python in python3 /opt/*/.venv/bin/python3; do
  command -v "$python" >/dev/null 2>&1 || continue
  site="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null || true)"
  for dir in "$site"/nvidia/*/lib "$site"/nvidia/cu13/lib; do
    [ -d "$dir" ] && CANDIDATES+=":$dir"
  done
done
find_lib() { # find_lib SONAME-PREFIX: the first file matching it in the candidate folders, or on the loader path
  local dir file
  IFS=: read -r -a dirs <<<"$CANDIDATES"
  for dir in "${dirs[@]}"; do
    [ -n "$dir" ] || continue
    file="$(ls "$dir"/"$1"* 2>/dev/null | head -n 1 || true)"
    [ -z "$file" ] || { echo "$file"; return 0; }
  done
  ldconfig -p 2>/dev/null | awk -v lib="$1" '$1 ~ "^"lib {print $NF; exit}'
}
MISSING=()
LIB_PATH=""
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcufft.so.12 libcurand.so.10 libcudnn.so.9; do
  file="$(find_lib "$lib")"
  if [ -z "$file" ]; then
    MISSING+=("$lib")
    say "  $lib: NOT FOUND"
  else
    say "  $lib: $(readlink -f "$file")"
    LIB_PATH+="$(dirname "$file"):"
  fi
done
CUDNN_HEADER_VERSION="$(find_lib libcudnn.so.9 | xargs -r readlink -f | grep -o 'so\.[0-9.]*$' || true)"
[ -z "$CUDNN_HEADER_VERSION" ] || say "cuDNN: libcudnn.$CUDNN_HEADER_VERSION"
if [ "${#MISSING[@]}" -gt 0 ]; then
  say "A GPU, but ONNX Runtime's CUDA provider cannot load without: ${MISSING[*]}."
  say "Install CUDA 13 and cuDNN 9 (the worker's CUDA image has them), or name their folders in CUDA_LIB_DIRS."
  exit 4
fi
export LD_LIBRARY_PATH="${LIB_PATH}${LD_LIBRARY_PATH:-}"

# ---- 3. effnet -------------------------------------------------------------------------------------------------
if [ -z "${EFFNET:-}" ]; then
  command -v dotnet >/dev/null || { say "dotnet is not on PATH: install the .NET 10 SDK, or set EFFNET to a built effnet"; exit 1; }
  say "building effnet (Release)"
  dotnet build "$ROOT/src/EfficientNet.Batch.Cli" -c Release --nologo -v quiet -clp:ErrorsOnly
  EFFNET="dotnet $ROOT/src/EfficientNet.Batch.Cli/bin/Release/net10.0/effnet.dll"
fi
PROVIDER_LIB="$(ls "$ROOT"/src/EfficientNet.Batch.Cli/bin/Release/net10.0/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so \
  "$ROOT"/src/EfficientNet.Batch.Cli/bin/Release/net10.0/libonnxruntime_providers_cuda.so 2>/dev/null | head -n 1 || true)"
say "ONNX Runtime CUDA provider: ${PROVIDER_LIB:-(inside $EFFNET)}"
[ -d "$IMAGES" ] || { say "no images at $IMAGES (give a folder of JPEGs as the first argument)"; exit 1; }

# ---- 4. the runs: Device=Cuda fails instead of falling back to the CPU, so every figure is the GPU's ---------------
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/table.md
export Inference__Device=Cuda
for model in efficientnet_b0 efficientnet_b3; do
  for precision in Float32 Float16; do
    for batch in 32 64 128; do
      report="$OUT/${model}-${precision}-${batch}.json"
      say "bench $model $precision batch $batch"
      # Untrained weights: the speed is the same as with real ones, and nothing needs downloading.
      if ! $EFFNET bench --model "$model" --images "$IMAGES" --random-weights --count "$COUNT" --stage-count "$STAGE_COUNT" \
        --rounds 1 --batch-size "$batch" --precision "$precision" --intra-op-threads 1 --json >"$report" 2>"$report.log"; then
        say "  failed; last lines:"; tail -n 15 "$report.log" >&2
        exit 1
      fi
    done
  done
done

# ---- 5. the table ----------------------------------------------------------------------------------------------
{
  echo "| model | precision | batch | provider | inference images/s | decode images/s | pipeline images/s | pipeline / combined limit |"
  echo "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |"
  for report in "$OUT"/*.json; do
    python3 - "$report" <<'PY' 2>/dev/null || jq -r '"| \(.model) | \(.precision) | \(.batchSize) | \(.executionProvider) | \(.inferenceImagesPerSecond|floor) | \(.decodeImagesPerSecond|floor) | \(.pipelineImagesPerSecond|floor) | \(.pipelineEfficiency*100|floor) % |"' "$report"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"| {r['model']} | {r['precision']} | {r['batchSize']} | {r['executionProvider']} | {r['inferenceImagesPerSecond']:.0f} | "
      f"{r['decodeImagesPerSecond']:.0f} | {r['pipelineImagesPerSecond']:.0f} | {r['pipelineEfficiency'] * 100:.0f} % |")
PY
  done
} | tee "$OUT/table.md"
say "reports: $OUT"
