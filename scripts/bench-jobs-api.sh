#!/usr/bin/env bash
# GET /jobs under load with JOBS (1,000) stored jobs: 200 concurrent connections (wrk) and bursts of 200 requests
# sent at the same moment (curl), against a Release coordinator with the in-memory transport and no worker.
#
# Per target (this tree, and with --before REV the coordinator built from a git worktree of REV) and per state store
# (the file system; Azure Blob too when AZURE_STORAGE_CONNECTION_STRING is set, else a private Azurite when
# `azurite-blob` is on PATH): start the coordinator, seed JOBS jobs through POST /jobs (1 photo each: they are
# dispatched and stay Running), restart it (its job index is loaded from storage once, as after a deploy), wait until
# it is ready and idle, then measure
#   - the first GET /jobs after the restart, and one GET /jobs alone;
#   - bursts: 200 curl processes held at a barrier, released together; p50/p90/max of their time_total;
#   - wrk -t2 -c200 --latency on GET /jobs, /jobs?limit=1000 and /jobs?status=Running&limit=50: p50/p90/p99,
#     requests/s, and the coordinator's CPU milliseconds per request.
# The coordinator before the job index ignores the query and returns every job as a plain array, so for it the three
# URLs are the same request.
#
# Usage: scripts/bench-jobs-api.sh [--before REV] [--storage fs|azure|all] [--jobs N] [--duration S]
#                                  [--before-duration S] [--connections C] [--max-round S]
#   --before REV        also measure the coordinator of REV (4a14235: the last commit before the job index)
#   --storage           fs: file system only; azure: Azure Blob only; all (default): file system, plus Azure Blob when
#                       available
#   --duration S        seconds of each wrk run (default 15); --before-duration for REV (default 120: its requests
#                       take seconds each). wrk counts only the requests that finish within its run, so a run is
#                       lengthened to three "rounds" (one GET /jobs alone x connections / cores) when that is longer
#                       (at most 900 s), and a target whose round exceeds 60 s gets one burst instead of three.
#   --connections C     concurrent connections and burst size (default 200)
#   --max-round S       a target whose estimated round exceeds S seconds (default 300) is measured alone only (the
#                       coordinator before the index, on Azure Blob with 1,000 jobs: one round would take many minutes)
# Needs dotnet, curl, python3 and wrk (installed with apt-get when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BEFORE=""
STORAGE=all
JOBS=1000
DURATION=15
BEFORE_DURATION=120
CONNECTIONS=200
MAX_ROUND=300
SAMPLE="$ROOT/../shared/data/imagenet-samples/n01440764_tench.JPEG"
while [ $# -gt 0 ]; do
  case "$1" in
    --before) BEFORE="$2"; shift 2 ;;
    --storage) STORAGE="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --before-duration) BEFORE_DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --max-round) MAX_ROUND="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$STORAGE" in fs|azure|all) ;; *) echo "--storage must be fs, azure or all" >&2; exit 2 ;; esac

log() { echo "[bench-jobs-api $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root to run: $*"; fi; }

command -v dotnet >/dev/null || die "dotnet is not on PATH"
command -v curl >/dev/null || die "curl is not on PATH"
command -v python3 >/dev/null || die "python3 is not on PATH"
if ! command -v wrk >/dev/null; then
  log "installing wrk (apt)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >/dev/null
fi
[ -f "$SAMPLE" ] || SAMPLE="$(find "$ROOT/../shared/data/imagenet-samples" -name '*.JPEG' | head -n 1)"
[ -f "$SAMPLE" ] || die "no sample JPEG under ../shared/data/imagenet-samples"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/effnet-bench-jobs.XXXXXX")"
COORD_PID=""
AZURITE_PID=""
WORKTREE=""
cleanup() {
  stop_coordinator
  if [ -n "$AZURITE_PID" ]; then kill "$AZURITE_PID" 2>/dev/null || true; wait "$AZURITE_PID" 2>/dev/null || true; fi
  if [ -n "$WORKTREE" ]; then
    git -C "$ROOT" worktree remove --force "$WORKTREE" >/dev/null 2>&1 || true
    git -C "$ROOT" worktree prune >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted (SIGINT)"; exit 130' INT
trap 'log "terminated (SIGTERM)"; exit 143' TERM

# ---- helpers ---------------------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port VAR: sets VAR to a random port that nothing listens on.
free_port() {
  local candidate tries=0
  while :; do
    candidate=$((20000 + RANDOM % 40000)); tries=$((tries + 1))
    port_in_use "$candidate" || break
    [ "$tries" -le 200 ] || die "no free TCP port found"
  done
  printf -v "$1" '%s' "$candidate"
}
# alive PID: running, not a zombie (a child that exited stays one until waited for, and `kill -0` still succeeds).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# wait_idle PID...: until these processes together use under 5 % of a core for 2 s in a row (at most 600 s), so that a
# restarted coordinator's start-up work (resuming jobs, sweeping, JIT) is not measured.
wait_idle() {
  local deadline=$((SECONDS + 600)) quiet=0 before after pid
  while [ "$quiet" -lt 2 ] && [ "$SECONDS" -lt "$deadline" ]; do
    before=0; for pid in "$@"; do before=$((before + $(cpu_ticks "$pid"))); done
    sleep 1
    after=0; for pid in "$@"; do after=$((after + $(cpu_ticks "$pid"))); done
    if [ $((after - before)) -le 5 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  done
  [ "$quiet" -ge 2 ] || log "warning: not idle after 600 s; measuring anyway"
}

# build TARGET SOURCE_ROOT: Release build of the coordinator, copied into WORK so that a concurrent build of the same
# tree cannot replace the assemblies under a running benchmark.
build() {
  local target=$1 source=$2
  log "building the coordinator ($target) in Release from $source"
  dotnet build -c Release "$source/src/EfficientNet.Batch.Coordinator" -v quiet -nologo >"$WORK/build-$target.log" 2>&1 ||
    { tail -n 30 "$WORK/build-$target.log" >&2; die "the $target coordinator does not build"; }
  mkdir -p "$WORK/bin-$target"
  cp -a "$source/src/EfficientNet.Batch.Coordinator/bin/Release/net10.0/." "$WORK/bin-$target/"
}

# start_coordinator TARGET STATE OUTPUT: starts it on a free port and waits for /readyz; sets COORD_PID and URL.
start_coordinator() {
  local target=$1 state=$2 output=$3 attempt port deadline
  for attempt in 1 2 3; do
    free_port port
    URL="http://127.0.0.1:$port"
    # Anonymous callers (a local benchmark), limits off, the seeded dataset's folder allowed; a revision from before
    # these settings ignores them.
    ASPNETCORE_URLS="$URL" Messaging__Transport=InMemory Coordinator__StateLocation="$state" Coordinator__OutputLocation="$output" \
      Auth__AllowAnonymous=true Limits__SubmitPermitsPerMinute=1000000 Limits__MaxConcurrentJobsPerIdentity=100000 \
      Coordinator__AllowedDatasets__0="$WORK/data" Coordinator__AllowedOutputs__0="$output" \
      dotnet "$WORK/bin-$target/EfficientNet.Batch.Coordinator.dll" >>"$WORK/coordinator-$target.log" 2>&1 &
    COORD_PID=$!
    deadline=$((SECONDS + 180))
    until curl -fs -o /dev/null "$URL/readyz"; do
      if ! alive "$COORD_PID"; then
        wait "$COORD_PID" 2>/dev/null || true; COORD_PID=""
        if [ "$attempt" -lt 3 ] && grep -q "address already in use" "$WORK/coordinator-$target.log"; then continue 2; fi
        tail -n 30 "$WORK/coordinator-$target.log" >&2; die "the $target coordinator exited before it was ready"
      fi
      [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$WORK/coordinator-$target.log" >&2; die "the $target coordinator is not ready after 180 s"; }
      sleep 0.2
    done
    return 0
  done
}
stop_coordinator() {
  if [ -n "$COORD_PID" ]; then
    kill "$COORD_PID" 2>/dev/null || true
    wait "$COORD_PID" 2>/dev/null || true
    COORD_PID=""
  fi
}

# The number of jobs in a GET /jobs answer: {items, nextCursor} now, a plain array before.
count_jobs() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["items"] if isinstance(d, dict) else d))'; }

seed() {
  local body
  body="$(printf '{"dataset": "%s", "model": "efficientnet_b0", "randomWeights": true}' "$WORK/data")"
  local started=$SECONDS
  seq "$JOBS" | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' -d "$body" "$URL/jobs" \
    >"$WORK/seed-codes.txt"
  local accepted
  accepted=$(grep -c '^202$' "$WORK/seed-codes.txt" || true)
  [ "$accepted" -eq "$JOBS" ] || die "seeding: $accepted of $JOBS POST /jobs answered 202 (codes: $(sort "$WORK/seed-codes.txt" | uniq -c | tr '\n' ' '))"
  log "seeded $JOBS jobs in $((SECONDS - started)) s"
}

# burst URL: CONNECTIONS curl processes start, wait at a barrier, then send their request at the same moment. The
# barrier is in curl itself: each reads its extra headers from a FIFO (-H @file, read while curl parses its arguments,
# before its transfer and its time_total begin) and so waits for the FIFO's end, which comes when the writer held here
# closes it, after every curl has it open. Prints "p50 p90 max wall" in ms (wall: release to the last answer).
burst() {
  local url=$1 dir="$WORK/burst"
  rm -rf "$dir"; mkdir -p "$dir"; mkfifo "$dir/go"
  seq "$CONNECTIONS" | xargs -P "$CONNECTIONS" -I{} curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H @"$dir/go" "$url" \
    >"$dir/times.txt" &
  local xargs_pid=$! deadline=$((SECONDS + 120)) waiting pids
  exec 4<>"$dir/go" # opened after xargs started, so that no curl inherits the writer
  while :; do
    pids=$(pgrep -P "$xargs_pid" curl || true)
    waiting=0
    [ -z "$pids" ] || waiting=$(find $(printf '/proc/%s/fd ' $pids) -maxdepth 1 -lname "$dir/go" 2>/dev/null | wc -l)
    [ "$waiting" -lt "$CONNECTIONS" ] || break
    [ "$SECONDS" -lt "$deadline" ] || { exec 4>&-; die "burst: only $waiting of $CONNECTIONS curl processes reached the barrier in 120 s"; }
    sleep 0.2
  done
  local t0 t1
  t0=$(date +%s.%N)
  exec 4>&-
  wait "$xargs_pid"
  t1=$(date +%s.%N)
  python3 - "$dir/times.txt" "$t0" "$t1" "$CONNECTIONS" <<'EOF'
import math, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
bad = [r for r in rows if r[0] != "200"]
if len(rows) != int(sys.argv[4]) or bad:
    print(f"warning: {len(rows)} answers, {len(bad)} not 200", file=sys.stderr)
t = sorted(float(r[1]) * 1000 for r in rows)
pick = lambda q: t[max(0, math.ceil(q * len(t)) - 1)]
print(f"{pick(0.5):.0f} {pick(0.9):.0f} {t[-1]:.0f} {(float(sys.argv[3]) - float(sys.argv[2])) * 1000:.0f}")
EOF
}

# wrk_run TARGET STORAGE NAME PATH SECONDS: one wrk run; appends a row to results.tsv.
CLK_TCK=$(getconf CLK_TCK)
wrk_run() {
  local target=$1 storage=$2 name=$3 path=$4 duration=$5 out c0 c1 a0=0 a1=0 load
  out="$WORK/wrk-$target-$storage-$(printf '%s' "$path" | tr -c 'A-Za-z0-9=' '_').txt"
  load=$(load1)
  c0=$(cpu_ticks "$COORD_PID"); [ -z "$AZURITE_PID" ] || a0=$(cpu_ticks "$AZURITE_PID")
  # A request may take as long as the run: wrk counts one that takes longer than --timeout as an error.
  wrk -t2 -c"$CONNECTIONS" -d"${duration}s" --timeout "${duration}s" --latency "$URL$path" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed"; }
  c1=$(cpu_ticks "$COORD_PID"); [ -z "$AZURITE_PID" ] || a1=$(cpu_ticks "$AZURITE_PID")
  python3 - "$out" "$target" "$storage" "$name" "$((c1 - c0))" "$((a1 - a0))" "$CLK_TCK" "$load" "$duration" >>"$WORK/results.tsv" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
def pct(p):
    m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
requests = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors += int(non2xx.group(1)) if non2xx else 0
tick_ms = 1000 / int(sys.argv[7])
per = lambda ticks: int(ticks) * tick_ms / requests if requests else float("nan")
store = f"{per(sys.argv[6]):.1f}" if sys.argv[3] == "azure" and int(sys.argv[6]) else "-"
print("\t".join([sys.argv[2], sys.argv[3], sys.argv[4], f"{pct(50):.1f}", f"{pct(90):.1f}", f"{pct(99):.1f}", f"{rps:.1f}",
                 str(requests), str(errors), f"{per(sys.argv[5]):.2f}", store, sys.argv[8], sys.argv[9]]))
EOF
  log "  $(tail -n 1 "$WORK/results.tsv" | cut -f3-)"
}

time_get() { curl -s -o /dev/null -w '%{time_total}' "$URL$1" | awk '{printf "%.0f", $1 * 1000}'; }

# measure TARGET STORAGE: seed, restart, measure. Appends to results.tsv and notes.txt.
measure() {
  local target=$1 storage=$2 state output duration=$DURATION rand
  rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  if [ "$storage" = fs ]; then
    state="$WORK/$target-fs/state"; output="$WORK/$target-fs/results"
  else
    state="az://bench-state-$rand"; output="az://bench-results-$rand"
  fi
  [ "$target" = after ] || duration=$BEFORE_DURATION
  log "== $target, $storage ($state)"
  start_coordinator "$target" "$state" "$output"
  seed
  local listed
  listed=$(curl -fs "$URL/jobs?limit=1000" | count_jobs)
  [ "$listed" -ge "$JOBS" ] || die "GET /jobs?limit=1000 lists $listed jobs, expected $JOBS"
  stop_coordinator

  local t0=$SECONDS first alone
  start_coordinator "$target" "$state" "$output"
  log "restarted; ready after $((SECONDS - t0)) s"
  first=$(time_get /jobs)
  listed=$(curl -fs "$URL/jobs?limit=1000" | count_jobs)
  local running
  running=$(curl -fs "$URL/jobs?status=Running&limit=1000" | count_jobs)
  wait_idle "$COORD_PID" ${AZURITE_PID:+"$AZURITE_PID"}
  # Warm-up: sequential requests of each kind; "one request alone" is the median of the last five GET /jobs (of three
  # when one takes over two seconds: the coordinator before the index, on Azure Blob).
  local path i times=()
  times+=("$(time_get /jobs)")
  if [ "${times[0]}" -gt 2000 ]; then
    times+=("$(time_get /jobs)" "$(time_get /jobs)")
    alone=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  else
    for path in "/jobs?limit=1000" "/jobs?status=Running&limit=50"; do for i in 1 2 3 4 5; do time_get "$path" >/dev/null; done; done
    for i in 1 2 3 4 5 6 7 8 9; do times+=("$(time_get /jobs)"); done
    alone=$(printf '%s\n' "${times[@]:5}" | sort -n | sed -n 3p)
  fi
  printf '%s\t%s\tfirst GET /jobs after restart %s ms; GET /jobs alone %s ms; listed %s (limit=1000), %s Running; load %s\n' \
    "$target" "$storage" "$first" "$alone" "$listed" "$running" "$(load1)" >>"$WORK/notes.txt"
  log "first GET /jobs after restart $first ms; one GET /jobs alone $alone ms; $listed jobs listed, $running Running"

  # One round of CONNECTIONS requests takes about alone x CONNECTIONS / cores when the work is CPU-bound.
  local round rounds=3 est
  est=$((alone * CONNECTIONS / $(nproc) / 1000))
  if [ "$est" -gt "$MAX_ROUND" ]; then
    log "one round of $CONNECTIONS requests estimated at $est s (over --max-round $MAX_ROUND): not measured under load"
    printf '%s\t%s\tnot measured under load: one round of %s requests estimated at %s s (one GET /jobs alone x %s / %s cores)\n' \
      "$target" "$storage" "$CONNECTIONS" "$est" "$CONNECTIONS" "$(nproc)" >>"$WORK/notes.txt"
    stop_coordinator
    return 0
  fi
  if [ $((3 * est)) -gt "$duration" ]; then duration=$((3 * est < 900 ? 3 * est : 900)); fi
  [ "$est" -le 60 ] || rounds=1
  log "one round of $CONNECTIONS requests estimated at $est s: $rounds burst(s), wrk runs of $duration s"
  for round in $(seq "$rounds"); do
    local load b
    load=$(load1)
    b=$(burst "$URL/jobs")
    printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$storage" "$round" "$b" "$load" | tr ' ' '\t' >>"$WORK/bursts.tsv"
    log "  burst $round of $CONNECTIONS: p50 p90 max wall (ms) = $b; load $load"
  done

  wrk_run "$target" "$storage" "GET /jobs" "/jobs" "$duration"
  if [ "$target" = after ]; then
    wrk_run "$target" "$storage" "GET /jobs?limit=1000" "/jobs?limit=1000" "$duration"
    wrk_run "$target" "$storage" "GET /jobs?status=Running&limit=50" "/jobs?status=Running&limit=50" "$duration"
  fi
  stop_coordinator
}

# ---- run --------------------------------------------------------------------------------------------------------
mkdir -p "$WORK/data"
cp "$SAMPLE" "$WORK/data/"
: >"$WORK/results.tsv"; : >"$WORK/bursts.tsv"; : >"$WORK/notes.txt"
echo "start: $(uptime)" >"$WORK/machine.txt"

STORES=()
[ "$STORAGE" = azure ] || STORES+=(fs)
if [ "$STORAGE" != fs ]; then
  if [ -n "${AZURE_STORAGE_CONNECTION_STRING:-}" ]; then
    log "Azure Blob: the account of AZURE_STORAGE_CONNECTION_STRING (containers bench-state-* and bench-results-* are left there)"
    STORES+=(azure)
  elif command -v azurite-blob >/dev/null; then
    free_port AZURITE_PORT
    log "starting a private Azurite (blob, in memory) on 127.0.0.1:$AZURITE_PORT"
    azurite-blob --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --inMemoryPersistence --disableTelemetry --skipApiVersionCheck \
      --silent >"$WORK/azurite.log" 2>&1 &
    AZURITE_PID=$!
    deadline=$((SECONDS + 120)) # Node.js takes 20 s and more to start on a busy 2-core machine
    until port_in_use "$AZURITE_PORT"; do
      alive "$AZURITE_PID" || { cat "$WORK/azurite.log" >&2; die "Azurite exited"; }
      [ "$SECONDS" -lt "$deadline" ] || die "Azurite is not listening after 120 s"
      sleep 0.2
    done
    # Azurite's fixed, publicly documented development account.
    export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;"
    STORES+=(azure)
  elif [ "$STORAGE" = azure ]; then
    die "--storage azure needs AZURE_STORAGE_CONNECTION_STRING or azurite-blob on PATH"
  else
    log "no AZURE_STORAGE_CONNECTION_STRING and no azurite-blob: file system only"
  fi
fi

TARGETS=(after)
build after "$ROOT"
if [ -n "$BEFORE" ]; then
  WORKTREE="$WORK/before-src"
  git -C "$ROOT" worktree add --detach "$WORKTREE" "$BEFORE" >/dev/null 2>&1 || die "git worktree add $BEFORE failed"
  build before "$WORKTREE"
  log "before = $(git -C "$WORKTREE" log -1 --format='%h %s' | cut -c1-80)"
  git -C "$ROOT" worktree remove --force "$WORKTREE" >/dev/null 2>&1 || true
  WORKTREE=""
  TARGETS=(before after)
fi

for storage in "${STORES[@]}"; do
  for target in "${TARGETS[@]}"; do measure "$target" "$storage"; done
done
echo "end:   $(uptime)" >>"$WORK/machine.txt"

# ---- report -----------------------------------------------------------------------------------------------------
echo
echo "GET /jobs with $JOBS stored jobs, $CONNECTIONS concurrent connections, $(nproc) cores"
cat "$WORK/machine.txt"
[ -z "$BEFORE" ] || echo "before: $BEFORE (its GET /jobs ignores the query and returns every job: one request for all three URLs)"
echo
sed 's/^/  /' "$WORK/notes.txt"
echo
python3 - "$WORK/results.tsv" "$WORK/bursts.tsv" "$CONNECTIONS" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
bursts = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
print(f"wrk -t2 -c{sys.argv[3]} --latency (ms; CPU: coordinator ms per request, Azurite's in brackets)")
print("| code | store | request | p50 | p90 | p99 | requests/s | requests in run (s) | errors | CPU ms/req | load |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    cpu = r[9] + (f" [{r[10]}]" if r[10] != "-" else "")
    print(f"| {r[0]} | {r[1]} | `{r[2]}` | {r[3]} | {r[4]} | {r[5]} | {r[6]} | {r[7]} ({r[12]}) | {r[8]} | {cpu} | {r[11]} |")
print()
print(f"{sys.argv[3]} requests released at once (curl, GET /jobs; ms)")
print("| code | store | round | p50 | p90 | max | wall | load |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for b in bursts:
    print(f"| {b[0]} | {b[1]} | {b[2]} | {b[3]} | {b[4]} | {b[5]} | {b[6]} | {b[7]} |")
by = {}
for r in rows:
    by.setdefault(r[1], {})[(r[0], r[2])] = r
for store, d in by.items():
    if ("before", "GET /jobs") in d and ("after", "GET /jobs") in d:
        b, a = d[("before", "GET /jobs")], d[("after", "GET /jobs")]
        print(f"\n{store}, GET /jobs, before / after: p50 {float(b[3]) / float(a[3]):.1f}x, p90 {float(b[4]) / float(a[4]):.1f}x, "
              f"requests/s (after / before) {float(a[6]) / float(b[6]):.1f}x")
for store in sorted({b[1] for b in bursts}):
    def med(t, i):
        v = sorted(float(b[i]) for b in bursts if b[0] == t and b[1] == store)
        return v[(len(v) - 1) // 2] if v else None
    if med("before", 4) and med("after", 4):
        print(f"{store}, burst of {sys.argv[3]}, before / after: p50 {med('before', 3) / med('after', 3):.1f}x, "
              f"p90 {med('before', 4) / med('after', 4):.1f}x (medians over the rounds)")
EOF
