#!/usr/bin/env bash
# Distributed path versus embedded run on the same photos: the same model and weights, first in one process
# (`effnet run`), then with a coordinator and WORKERS worker processes over a private RabbitMQ and Azurite.
# Prints images/s of both (from their summary.json) and the distributed/embedded ratio.
#
# Usage: scripts/bench-distributed.sh [DATASET]   (default: ../shared/data/imagenet-samples)
# Environment: MODEL (efficientnet_b0), WORKERS (1), SHARD_SIZE (256), DATA (azure: the photos are uploaded to
# Azurite and read from there; local: the workers read the local folder, isolating messaging from blob reads)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATASET="$(cd "${1:-$ROOT/../shared/data/imagenet-samples}" && pwd)"
MODEL="${MODEL:-efficientnet_b0}"
WORKERS="${WORKERS:-1}"
SHARD_SIZE="${SHARD_SIZE:-256}"
DATA="${DATA:-azure}"

dotnet build -c Release EfficientNet.Batch.sln -v quiet -nologo >/dev/null
BIN() { echo "$ROOT/src/$1/bin/Release/net10.0"; }
EFFNET=(dotnet "$(BIN EfficientNet.Batch.Cli)/effnet.dll")

LOG_NAME=bench-distributed
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/effnet-bench.XXXXXX")"
PIDS=()
finish() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; stop_services; rm -rf "$WORK" "$STATE_DIR"; }
trap finish EXIT
export EFFNET_MODELS="$WORK/models"
summary_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

log "embedded: effnet run $DATASET --model $MODEL"
"${EFFNET[@]}" run "$DATASET" --model "$MODEL" --random-weights --shard-size "$SHARD_SIZE" --out "$WORK/embedded" >/dev/null
EMBEDDED="$(summary_field "$WORK/embedded/summary.json" imagesPerSecond)"

SOURCE="$DATASET"
if [ "$DATA" = azure ]; then
  log "uploading the dataset to az://bench-data/photos"
  "${EFFNET[@]}" storage copy "$DATASET" az://bench-data/photos >/dev/null
  SOURCE=az://bench-data/photos
fi

free_port COORDINATOR_PORT 5000
export Messaging__Transport=RabbitMq Messaging__RabbitMqUri="$RABBITMQ_URI" \
  Storage__AzureConnectionString="$AZURE_STORAGE_CONNECTION_STRING" \
  Coordinator__StateLocation=az://bench-state Coordinator__OutputLocation=az://bench-results Models__Directory="$EFFNET_MODELS"
ASPNETCORE_URLS="http://127.0.0.1:$COORDINATOR_PORT" dotnet "$(BIN EfficientNet.Batch.Coordinator)/EfficientNet.Batch.Coordinator.dll" >"$WORK/coordinator.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 "$WORKERS"); do
  free_port WORKER_PORT
  ASPNETCORE_URLS="http://127.0.0.1:$WORKER_PORT" Worker__Name="worker-$i" Worker__PreloadModels__0__Id="$MODEL" Worker__PreloadModels__0__RandomSeed=0 \
    dotnet "$(BIN EfficientNet.Batch.Worker)/EfficientNet.Batch.Worker.dll" >"$WORK/worker-$i.log" 2>&1 &
  PIDS+=($!)
  wait_for_port "$WORKER_PORT" 60 "worker-$i" "$WORK/worker-$i.log" "${PIDS[-1]}"
  until curl -fs "http://127.0.0.1:$WORKER_PORT/readyz" >/dev/null; do sleep 0.5; done
done
wait_for_port "$COORDINATOR_PORT" 60 coordinator "$WORK/coordinator.log" "${PIDS[0]}"
until curl -fs "http://127.0.0.1:$COORDINATOR_PORT/readyz" >/dev/null; do sleep 0.5; done

log "distributed: coordinator + $WORKERS worker(s)"
JOB="$("${EFFNET[@]}" submit "$SOURCE" --model "$MODEL" --random-weights --shard-size "$SHARD_SIZE" \
  --coordinator "http://127.0.0.1:$COORDINATOR_PORT" | python3 -c "import json,sys; print(json.load(sys.stdin)['jobId'])")"
# Polled with curl: a dotnet process per poll would take CPU from the worker being measured.
until curl -fs "http://127.0.0.1:$COORDINATOR_PORT/jobs/$JOB" | grep -Eq '"status":"(Completed|CompletedWithErrors|Failed)"'; do
  sleep 0.5
done
"${EFFNET[@]}" storage copy "az://bench-results/${JOB//-/}/summary.json" "$WORK/distributed" >/dev/null
DISTRIBUTED="$(summary_field "$WORK/distributed/summary.json" imagesPerSecond)"
"${EFFNET[@]}" storage copy "az://bench-state/shards/${JOB//-/}" "$WORK/outcomes" >/dev/null
SHARD_SECONDS="$(python3 -c "import json,glob,sys; s=[json.load(open(f))['seconds'] for f in sorted(glob.glob(sys.argv[1] + '/*.json'))]; print(round(sum(s), 2), s)" "$WORK/outcomes")"
cpu_seconds() { awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$1/stat"; }
AZURITE_CPU="$(cpu_seconds "$AZURITE_PID")"
RABBIT_CPU="$(cpu_seconds "$(cat "$RABBITMQ_PID_FILE")")"
COORDINATOR_CPU="$(cpu_seconds "${PIDS[0]}")"
WORKER_CPU="$(cpu_seconds "${PIDS[1]}")"

echo "model $MODEL, $(summary_field "$WORK/embedded/summary.json" imagesTotal) images, shard size $SHARD_SIZE, $(nproc) cores"
echo "embedded (effnet run)                 $EMBEDDED images/s"
echo "distributed ($WORKERS worker, data from $DATA)   $DISTRIBUTED images/s"
echo "  distributed wall $(summary_field "$WORK/distributed/summary.json" wallSeconds) s, of which the worker spent $SHARD_SECONDS s in shards; Azurite used $AZURITE_CPU CPU-s in all (upload included)"
echo "  CPU-s over the whole run: worker-1 $WORKER_CPU, coordinator $COORDINATOR_CPU, RabbitMQ $RABBIT_CPU, Azurite $AZURITE_CPU"
python3 -c "import sys; e,d=float(sys.argv[1]),float(sys.argv[2]); print(f'distributed / embedded              {d/e:.3f} ({(1-d/e)*100:+.1f}% loss)')" "$EMBEDDED" "$DISTRIBUTED"
