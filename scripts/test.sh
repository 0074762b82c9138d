#!/usr/bin/env bash
# Runs the whole test suite against real services: starts a private RabbitMQ and Azurite on free local ports,
# exports RABBITMQ_URI and AZURE_STORAGE_CONNECTION_STRING for the tests, runs `dotnet test`, stops both services,
# and prints per-project counts from the TRX files. The last line is always exactly "N passed, N failed".
#
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter "FullyQualifiedName~Storage"]
# Environment:
#   TEST_TARGET       what to test (default: EfficientNet.Batch.sln)
#   TEST_RESULTS_DIR  where TRX files go (default: artifacts/test-results; emptied first)
# Installs rabbitmq-server and chromium (apt) and azurite (npm) when missing, which needs root on a fresh Debian
# machine, the Parquet reader the tests compare with (tests/tools/parquet-reader, npm ci) and the Kubernetes/Compose
# schema validator (tests/tools/k8s-validate, npm ci).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TEST_TARGET="${TEST_TARGET:-EfficientNet.Batch.sln}"
RESULTS_DIR="${TEST_RESULTS_DIR:-$ROOT/artifacts/test-results}"

LOG_NAME=test.sh
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

# ---- (d) test tools: Debian's Chromium for the report's browser test, the independent Parquet reader -----------
if ! command -v chromium >/dev/null; then
  log "installing chromium (apt)"
  { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null; } \
    || log "chromium could not be installed: the report's browser test will fail"
fi
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium || echo /usr/bin/chromium)}"
(cd "$ROOT/tests/tools/parquet-reader" && npm ci --silent --no-audit --no-fund >/dev/null) \
  || log "npm ci in tests/tools/parquet-reader failed: the Parquet reader tests will fail"
(cd "$ROOT/tests/tools/k8s-validate" && npm ci --silent --no-audit --no-fund >/dev/null) \
  || log "npm ci in tests/tools/k8s-validate failed: the chart and compose schema validation tests will fail"

# ---- (e) tests -------------------------------------------------------------------------------------------------
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"
TEST_EXIT=0
dotnet test "$TEST_TARGET" --logger "trx;LogFilePrefix=tests" --results-directory "$RESULTS_DIR" "$@" || TEST_EXIT=$?

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
