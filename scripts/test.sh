#!/usr/bin/env bash
# Runs the whole test suite against real services: starts a private RabbitMQ and Azurite on free local ports,
# exports RABBITMQ_URI and AZURE_STORAGE_CONNECTION_STRING for the tests, runs `dotnet test`, stops both services,
# and prints per-project counts from the TRX files. The last line is always exactly "N passed, N failed".
#
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter "FullyQualifiedName~Storage"]
# Environment:
#   TEST_TARGET       what to test (default: EfficientNet.Batch.sln)
#   TEST_RESULTS_DIR  where TRX files go (default: artifacts/test-results, or artifacts/test-results-PID while another
#                     run of this clone uses that; emptied first)
# Two runs at once on one machine (one clone or two) each start their own services; installs are serialised by a
# machine-wide lock and builds by a lock per clone (the second run's build then finds everything built).
# Installs rabbitmq-server, chromium and libturbojpeg0 (apt) and azurite (npm) when missing, which needs root on a fresh Debian
# machine, the Parquet reader the tests compare with (tests/tools/parquet-reader, npm ci) and the Kubernetes/Compose
# schema validator (tests/tools/k8s-validate, npm ci).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TEST_TARGET="${TEST_TARGET:-EfficientNet.Batch.sln}"
mkdir -p "$ROOT/artifacts"
if [ -n "${TEST_RESULTS_DIR:-}" ]; then
  RESULTS_DIR="$TEST_RESULTS_DIR"
else
  # Held until this script exits: a second run of this clone writes its TRX files elsewhere instead of emptying ours.
  exec {RESULTS_LOCK_FD}>>"$ROOT/artifacts/test-results.lock"
  if flock -n "$RESULTS_LOCK_FD"; then
    RESULTS_DIR="$ROOT/artifacts/test-results"
  else
    RESULTS_DIR="$ROOT/artifacts/test-results-$$"
  fi
fi

LOG_NAME=test.sh
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

# ---- (d) test tools: Debian's Chromium for the report's browser test, the independent Parquet reader -----------
# Under the install lock (scripts/services.sh): apt must not run twice at once, and two runs of one clone must not
# rewrite the same node_modules side by side.
install_lock
if ! command -v chromium >/dev/null; then
  log "installing chromium (apt)"
  { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null; } \
    || log "chromium could not be installed: the report's browser test will fail"
fi
# ONNX Runtime's own telemetry stays off in the test processes too (the hosts opt out themselves: OnnxRuntimeTelemetry).
export ORT_DISABLE_TELEMETRY="${ORT_DISABLE_TELEMETRY:-1}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium || echo /usr/bin/chromium)}"
# libjpeg-turbo's TurboJPEG: the JPEG decoder whose pixels the tests compare with cv2.imread's (they fail without it).
if ! ldconfig -p | grep -q 'libturbojpeg\.so\.0'; then
  log "installing libturbojpeg0 (apt)"
  { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libturbojpeg0 >/dev/null; } \
    || log "libturbojpeg0 could not be installed: the JPEG decoder tests will fail"
fi
(cd "$ROOT/tests/tools/parquet-reader" && npm ci --silent --no-audit --no-fund >/dev/null) \
  || log "npm ci in tests/tools/parquet-reader failed: the Parquet reader tests will fail"
(cd "$ROOT/tests/tools/k8s-validate" && npm ci --silent --no-audit --no-fund >/dev/null) \
  || log "npm ci in tests/tools/k8s-validate failed: the chart and compose schema validation tests will fail"
install_unlock

# ---- (e) tests -------------------------------------------------------------------------------------------------
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"
TEST_EXIT=0
# One build at a time per clone: two builds writing the same bin/ and obj/ folders at once can corrupt them. The second
# run waits, and its build finds everything up to date.
exec {BUILD_LOCK_FD}>>"$ROOT/artifacts/build.lock"
flock -n "$BUILD_LOCK_FD" || { log "waiting for another run's build of this clone"; flock "$BUILD_LOCK_FD"; }
dotnet build "$TEST_TARGET" --nologo -v quiet -clp:ErrorsOnly || TEST_EXIT=$?
flock -u "$BUILD_LOCK_FD"
if [ "$TEST_EXIT" -eq 0 ]; then
  dotnet test "$TEST_TARGET" --no-build --logger "trx;LogFilePrefix=tests" --results-directory "$RESULTS_DIR" "$@" || TEST_EXIT=$?
fi

# ---- (f) stop the services before the summary, so that their output cannot follow it ---------------------------
stop_services

# ---- (g) summary from the TRX files ----------------------------------------------------------------------------
attribute() { grep -o "<Counters [^>]*" "$2" | head -n 1 | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" || echo 0; }
TOTAL_PASSED=0 TOTAL_FAILED=0 TOTAL_SKIPPED=0 TRX_COUNT=0
echo
printf '%-48s %8s %8s %8s\n' "Test project" passed failed skipped
shopt -s nullglob
for trx in "$RESULTS_DIR"/*.trx; do
  TRX_COUNT=$((TRX_COUNT + 1))
  # The TRX file name carries no project name; the test assembly path (codeBase="...dll") does.
  project="$(grep -o 'codeBase="[^"]*"' "$trx" | head -n 1 | sed -e 's/^codeBase="//' -e 's/"$//' -e 's|.*/||' -e 's/\.dll$//' || true)"
  passed="$(attribute passed "$trx")"
  failed=$(( $(attribute failed "$trx") + $(attribute error "$trx") + $(attribute timeout "$trx") + $(attribute aborted "$trx") ))
  skipped="$(attribute notExecuted "$trx")"
  printf '%-48s %8d %8d %8d\n' "${project:-$(basename "$trx") (no tests)}" "$passed" "$failed" "$skipped"
  TOTAL_PASSED=$((TOTAL_PASSED + passed)); TOTAL_FAILED=$((TOTAL_FAILED + failed)); TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
done
printf '%-48s %8d %8d %8d\n' "Total" "$TOTAL_PASSED" "$TOTAL_FAILED" "$TOTAL_SKIPPED"
log "TRX files: $RESULTS_DIR; wall time ${SECONDS}s"

STATUS=0
if [ "$TEST_EXIT" -ne 0 ] && [ "$TOTAL_FAILED" -eq 0 ]; then
  log "dotnet test exited with $TEST_EXIT without a failed test (build error or crashed test host?): see output above"
  STATUS=1
fi
if [ $((TOTAL_PASSED + TOTAL_FAILED)) -eq 0 ]; then
  log "no tests ran ($TRX_COUNT TRX files)"
  STATUS=1
fi
[ "$TOTAL_FAILED" -eq 0 ] || STATUS=1
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
exit "$STATUS"
