#!/usr/bin/env bash
# Distributed path versus embedded run on the same photos: the same model and weights, first in one process
# (`effnet run`), then with a coordinator and WORKERS worker processes over a private RabbitMQ and Azurite.
# Prints images/s of both (from their summary.json) and the distributed/embedded ratio, per round: each round runs the
# embedded job and then the same job on the running services. Round 0 (the first job after the services start) is
# reported apart; the median is taken over rounds 1..ROUNDS.
#
# Usage: scripts/bench-distributed.sh [DATASET]   (default: ../shared/data/imagenet-samples)
# Environment: MODEL (efficientnet_b0), WORKERS (1), SHARD_SIZE (256), ROUNDS (3), DATA (azure: the photos are uploaded to
# Azurite and read from there; local: the workers read the local folder, isolating messaging from blob reads)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATASET="$(cd "${1:-$ROOT/../shared/data/imagenet-samples}" && pwd)"
MODEL="${MODEL:-efficientnet_b0}"
WORKERS="${WORKERS:-1}"
SHARD_SIZE="${SHARD_SIZE:-256}"
DATA="${DATA:-azure}"
ROUNDS="${ROUNDS:-3}"

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

SOURCE="$DATASET"
if [ "$DATA" = azure ]; then
  log "uploading the dataset to az://bench-data/photos"
  "${EFFNET[@]}" storage copy "$DATASET" az://bench-data/photos >/dev/null
  SOURCE=az://bench-data/photos
fi

cpu_seconds() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }

free_port COORDINATOR_PORT 5000
export Messaging__Transport=RabbitMq Messaging__RabbitMqUri="$RABBITMQ_URI" \
  Storage__AzureConnectionString="$AZURE_STORAGE_CONNECTION_STRING" \
  Coordinator__StateLocation=az://bench-state Coordinator__OutputLocation=az://bench-results Models__Directory="$EFFNET_MODELS" \
  Auth__AllowAnonymous=true # a private benchmark coordinator on loopback
ASPNETCORE_URLS="http://127.0.0.1:$COORDINATOR_PORT" dotnet "$(BIN EfficientNet.Batch.Coordinator)/EfficientNet.Batch.Coordinator.dll" >"$WORK/coordinator.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 "$WORKERS"); do
  free_port WORKER_PORT
  started=$(date +%s.%N)
  ASPNETCORE_URLS="http://127.0.0.1:$WORKER_PORT" Worker__Name="worker-$i" Worker__PreloadModels__0__Id="$MODEL" Worker__PreloadModels__0__RandomSeed=0 \
    dotnet "$(BIN EfficientNet.Batch.Worker)/EfficientNet.Batch.Worker.dll" >"$WORK/worker-$i.log" 2>&1 &
  PIDS+=($!)
  wait_for_port "$WORKER_PORT" 60 "worker-$i" "$WORK/worker-$i.log" "${PIDS[-1]}"
  until curl -fs "http://127.0.0.1:$WORKER_PORT/readyz" >/dev/null; do sleep 0.5; done
  log "worker-$i ready (model preloaded and warmed up) $(python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$started") s after start, $(cpu_seconds "${PIDS[-1]}") CPU-s"
done
wait_for_port "$COORDINATOR_PORT" 60 coordinator "$WORK/coordinator.log" "${PIDS[0]}"
until curl -fs "http://127.0.0.1:$COORDINATOR_PORT/readyz" >/dev/null; do sleep 0.5; done

cpu_of_all() { echo "$(cpu_seconds "${PIDS[1]}") $(cpu_seconds "${PIDS[0]}") $(cpu_seconds "$(cat "$RABBITMQ_PID_FILE")") $(cpu_seconds "$AZURITE_PID")"; }
# Seconds per shard, and the images/s inside the shards after the first (steady state: no model load, no warm-up).
shard_seconds() {
  python3 -c "
import json,glob,sys
o=[json.load(open(f)) for f in sorted(glob.glob(sys.argv[1]))]
s=[x['seconds'] for x in o]; rest=o[1:]
rate=sum(x['imagesOk']+x['imagesFailed'] for x in rest)/sum(x['seconds'] for x in rest) if rest else float('nan')
print(f'{sum(s):.2f} s {s}; after the first shard {rate:.1f} images/s')" "$1"
}

echo "model $MODEL, $(find "$DATASET" -type f | wc -l) files, shard size $SHARD_SIZE, $ROUNDS rounds, $(nproc) cores, data from $DATA"
RATIOS=()
# Round 0 is the first job on freshly started services (JIT and first-use costs in every process); it is reported
# but left out of the median, which is the services' steady state that a long-running deployment sees.
for round in $(seq 0 "$ROUNDS"); do
  # Interleaved: each round runs the embedded job, then the same job on the (already running) distributed services,
  # so that both see the same machine state; the ratio is taken within a round.
  log "round $round: embedded (effnet run)"
  "${EFFNET[@]}" run "$DATASET" --model "$MODEL" --random-weights --shard-size "$SHARD_SIZE" --out "$WORK/embedded-$round" >/dev/null
  EMBEDDED="$(summary_field "$WORK/embedded-$round/summary.json" imagesPerSecond)"

  log "round $round: distributed (coordinator + $WORKERS worker(s))"
  CPU_BEFORE="$(cpu_of_all)"
  JOB="$("${EFFNET[@]}" submit "$SOURCE" --model "$MODEL" --random-weights --shard-size "$SHARD_SIZE" \
    --coordinator "http://127.0.0.1:$COORDINATOR_PORT" | python3 -c "import json,sys; print(json.load(sys.stdin)['jobId'])")"
  # Polled with curl: a dotnet process per poll would take CPU from the worker being measured.
  until curl -fs "http://127.0.0.1:$COORDINATOR_PORT/jobs/$JOB" | grep -Eq '"status":"(Completed|CompletedWithErrors|Failed)"'; do
    sleep 0.2
  done
  CPU_AFTER="$(cpu_of_all)"
  "${EFFNET[@]}" storage copy "az://bench-results/${JOB//-/}/summary.json" "$WORK/distributed-$round" >/dev/null
  "${EFFNET[@]}" storage copy "az://bench-state/shards/${JOB//-/}" "$WORK/outcomes-$round" >/dev/null
  DISTRIBUTED="$(summary_field "$WORK/distributed-$round/summary.json" imagesPerSecond)"
  RATIO="$(python3 -c "import sys; print(f'{float(sys.argv[2]) / float(sys.argv[1]):.3f}')" "$EMBEDDED" "$DISTRIBUTED")"
  if [ "$round" -gt 0 ]; then RATIOS+=("$RATIO"); fi

  echo "round $round$([ "$round" -eq 0 ] && echo " (cold services, not in the median)"): embedded $EMBEDDED images/s, distributed $DISTRIBUTED images/s, distributed/embedded $RATIO"
  echo "  embedded wall $(summary_field "$WORK/embedded-$round/summary.json" wallSeconds) s; in shards $(shard_seconds "$WORK/embedded-$round/.effnet-state/shards/*/*.json") (model load in the first)"
  echo "  distributed wall $(summary_field "$WORK/distributed-$round/summary.json" wallSeconds) s; worker in shards $(shard_seconds "$WORK/outcomes-$round/*.json")"
  python3 -c "import sys; b=[float(x) for x in sys.argv[1].split()]; a=[float(x) for x in sys.argv[2].split()]; print('  CPU-s during the distributed job: worker-1 %.2f, coordinator %.2f, RabbitMQ %.2f, Azurite %.2f' % tuple(y-x for x,y in zip(b,a)))" "$CPU_BEFORE" "$CPU_AFTER"
done
python3 -c "import statistics,sys; r=sorted(float(x) for x in sys.argv[1:]); m=statistics.median(r); print(f'distributed / embedded, median of {len(r)} rounds: {m:.3f} ({(1-m)*100:+.1f}% loss); rounds {r}')" "${RATIOS[@]}"
