#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/bench-distributed.sh: installs RabbitMQ and Azurite when missing, starts a
# private RabbitMQ node and Azurite (blob only, in memory) on free ports on 127.0.0.1, exports RABBITMQ_URI and
# AZURE_STORAGE_CONNECTION_STRING, and defines stop_services (also run by an EXIT trap).
# Needs: ROOT set, `set -euo pipefail` in the caller.

AZURITE_VERSION=3.37.0
# Azurite's fixed, publicly documented development account.
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

log() { echo "[${LOG_NAME:-services}] $*" >&2; }
die() { log "ERROR: $*"; echo "0 passed, 0 failed"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root to run: $*"; fi
}

# ---- (a) tools -------------------------------------------------------------------------------------------------
command -v dotnet >/dev/null || die "dotnet is not on PATH (install the .NET 10 SDK)"
if ! command -v rabbitmq-server >/dev/null && [ ! -x /usr/sbin/rabbitmq-server ]; then
  log "installing rabbitmq-server (apt)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq rabbitmq-server >/dev/null
  # The package starts a system instance; ours is separate (own node name, ports and data), so it may keep running.
fi
export PATH="$PATH:/usr/sbin"
# Debian's /usr/sbin wrappers re-run the server as the rabbitmq user (which cannot use our private state directory)
# and send rabbitmqctl through su; call the real scripts next to the server so that the node runs as the caller.
RABBIT_SBIN="$(dirname "$(readlink -f "$(command -v rabbitmq-server)")")"
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  RABBIT_SBIN="$(dirname "$(readlink -f /usr/lib/rabbitmq/bin/rabbitmq-server)")"
fi
[ -x "$RABBIT_SBIN/rabbitmqctl" ] || die "rabbitmqctl not found next to $RABBIT_SBIN/rabbitmq-server"
if ! command -v azurite-blob >/dev/null; then
  if ! command -v npm >/dev/null; then
    log "installing nodejs and npm (apt)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
  fi
  log "installing azurite@$AZURITE_VERSION (npm)"
  as_root npm install -g --silent "azurite@$AZURITE_VERSION" >/dev/null
fi

# ---- helpers ---------------------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port VAR [PREFERRED]: sets VAR to a port nothing listens on, the preferred one when free, else a random one;
# ports already handed out are skipped. (Sets a variable rather than echoing, so it runs in this shell.)
TAKEN_PORTS=" "
free_port() {
  local port="${2:-}" tries=0
  while [ -z "$port" ] || port_in_use "$port" || [[ "$TAKEN_PORTS" == *" $port "* ]]; do
    tries=$((tries + 1)); [ "$tries" -le 200 ] || die "no free TCP port found"
    port=$((20000 + RANDOM % 40000))
  done
  TAKEN_PORTS+="$port "
  printf -v "$1" '%s' "$port"
}

# wait_for_port PORT SECONDS NAME LOGFILE PID: poll until the port accepts connections.
wait_for_port() {
  local port=$1 seconds=$2 name=$3 logfile=$4 pid=${5:-} deadline=$((SECONDS + $2))
  until port_in_use "$port"; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited before listening on port $port; last log lines:"; tail -n 30 "$logfile" >&2 || true
      die "$name did not start"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name is not listening on 127.0.0.1:$port after ${seconds}s; last log lines:"; tail -n 30 "$logfile" >&2 || true
      die "$name did not start in time"
    fi
    sleep 0.5
  done
}

STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/effnet-test.XXXXXX")"
RABBIT_STARTED=""
AZURITE_PID=""
stop_services() {
  if [ -n "$RABBIT_STARTED" ]; then
    # Given the pid file, `rabbitmqctl stop` also waits for the Erlang VM to exit.
    if ! "$RABBIT_SBIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" stop "$RABBITMQ_PID_FILE" >>"$STATE_DIR/stop.log" 2>&1; then
      log "rabbitmqctl stop failed; terminating the node"; tail -n 5 "$STATE_DIR/stop.log" >&2 || true
      [ ! -f "$RABBITMQ_PID_FILE" ] || kill "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null || true
    fi
    EPMD="$(command -v epmd || ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n 1 || true)"
    [ -z "$EPMD" ] || "$EPMD" -port "$ERL_EPMD_PORT" -kill >>"$STATE_DIR/stop.log" 2>&1 || true
    RABBIT_STARTED=""
  fi
  if [ -n "$AZURITE_PID" ]; then
    kill "$AZURITE_PID" 2>/dev/null || true
    wait "$AZURITE_PID" 2>/dev/null || true
    AZURITE_PID=""
  fi
}
cleanup() { stop_services; rm -rf "$STATE_DIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- (b) RabbitMQ: private node, own ports, data and config under STATE_DIR -----------------------------------
free_port RABBIT_PORT 5672
free_port RABBIT_DIST_PORT
free_port EPMD_PORT
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$RABBIT_PORT"
export RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
# A private epmd (Erlang's node-name registry) on its own port, so that it can be stopped afterwards without
# touching one a system RabbitMQ uses.
export ERL_EPMD_PORT="$EPMD_PORT"
export RABBITMQ_NODENAME="effnet-test-$$@localhost"
export RABBITMQ_MNESIA_BASE="$STATE_DIR/rabbitmq/mnesia"
export RABBITMQ_LOG_BASE="$STATE_DIR/rabbitmq/log"
export RABBITMQ_PID_FILE="$STATE_DIR/rabbitmq/rabbitmq.pid"
# No plugins (the management UI would claim port 15672) and no system config.
export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE_DIR/rabbitmq/enabled_plugins"
export RABBITMQ_CONFIG_FILE="$STATE_DIR/rabbitmq/rabbitmq"
export RABBITMQ_ADVANCED_CONFIG_FILE="$STATE_DIR/rabbitmq/advanced.config"
mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
echo "[]." >"$RABBITMQ_ENABLED_PLUGINS_FILE"
log "starting RabbitMQ node $RABBITMQ_NODENAME on 127.0.0.1:$RABBIT_PORT"
"$RABBIT_SBIN/rabbitmq-server" -detached >"$STATE_DIR/rabbitmq/start.log" 2>&1 || { cat "$STATE_DIR/rabbitmq/start.log" >&2; die "rabbitmq-server failed to start"; }
RABBIT_STARTED=1
rabbit_log() { cat "$STATE_DIR/rabbitmq/start.log" "$RABBITMQ_LOG_BASE"/*.log 2>/dev/null; }
# -detached returns at once and `rabbitmqctl await_startup` fails this early, so poll the AMQP port instead.
# A loaded machine (parallel builds) has been seen to need more than 90 s: SERVICES_START_TIMEOUT, default 300.
RABBIT_WAIT="${SERVICES_START_TIMEOUT:-300}"
RABBIT_DEADLINE=$((SECONDS + RABBIT_WAIT))
until port_in_use "$RABBIT_PORT"; do
  if [ "$SECONDS" -ge "$RABBIT_DEADLINE" ]; then
    log "RabbitMQ is not listening on 127.0.0.1:$RABBIT_PORT after ${RABBIT_WAIT}s; last log lines:"; rabbit_log | tail -n 30 >&2
    die "RabbitMQ did not start in time"
  fi
  sleep 0.5
done

# ---- (c) Azurite, blob service only, in memory -----------------------------------------------------------------
free_port AZURITE_PORT 10000
log "starting Azurite on 127.0.0.1:$AZURITE_PORT"
# --disableTelemetry also lets it exit promptly on SIGTERM; --skipApiVersionCheck accepts newer SDK API versions.
azurite-blob --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --inMemoryPersistence --disableTelemetry \
  --skipApiVersionCheck --silent >"$STATE_DIR/azurite.log" 2>&1 &
AZURITE_PID=$!
wait_for_port "$AZURITE_PORT" "${SERVICES_START_TIMEOUT:-120}" Azurite "$STATE_DIR/azurite.log" "$AZURITE_PID"
log "services ready after ${SECONDS}s"

# ---- (d) service addresses for the tests -----------------------------------------------------------------------
export RABBITMQ_URI="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/"
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/$AZURITE_ACCOUNT;"
# The fault tests stop and start this run's broker (and only it: RABBITMQ_NODENAME and ERL_EPMD_PORT above name the
# node and its epmd) with this rabbitmqctl.
export EFFNET_TEST_RABBITMQCTL="$RABBIT_SBIN/rabbitmqctl"

