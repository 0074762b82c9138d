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
# Installs are serialised machine-wide: two runs starting at once must not run apt or `npm install -g` side by side
# (two global installs at once have left a broken Azurite). Whoever waits checks again after the lock is theirs.
INSTALL_LOCK="${EFFNET_INSTALL_LOCK:-${TMPDIR:-/tmp}/effnet-install.lock}"
INSTALL_LOCK_FD=""
install_lock() {
  [ -z "$INSTALL_LOCK_FD" ] || return 0
  exec {INSTALL_LOCK_FD}>>"$INSTALL_LOCK"
  if ! flock -n "$INSTALL_LOCK_FD"; then
    log "waiting for another run's installs ($INSTALL_LOCK)"
    flock "$INSTALL_LOCK_FD"
  fi
}
install_unlock() {
  [ -n "$INSTALL_LOCK_FD" ] || return 0
  flock -u "$INSTALL_LOCK_FD"; exec {INSTALL_LOCK_FD}>&-; INSTALL_LOCK_FD=""
}
rabbit_installed() { command -v rabbitmq-server >/dev/null || [ -x /usr/sbin/rabbitmq-server ]; }
command -v dotnet >/dev/null || die "dotnet is not on PATH (install the .NET 10 SDK)"
command -v flock >/dev/null || die "flock is not on PATH (Debian: util-linux)"
if ! rabbit_installed || ! command -v azurite-blob >/dev/null; then
  install_lock
  if ! rabbit_installed; then
    log "installing rabbitmq-server (apt)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq rabbitmq-server >/dev/null
    # The package starts a system instance; ours is separate (own node name, ports and data), so it may keep running.
  fi
  if ! command -v azurite-blob >/dev/null; then
    if ! command -v npm >/dev/null; then
      log "installing nodejs and npm (apt)"
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
    fi
    log "installing azurite@$AZURITE_VERSION (npm)"
    as_root npm install -g --silent "azurite@$AZURITE_VERSION" >/dev/null
  fi
  install_unlock
fi
export PATH="$PATH:/usr/sbin"
# Debian's /usr/sbin wrappers re-run the server as the rabbitmq user (which cannot use our private state directory)
# and send rabbitmqctl through su; call the real scripts next to the server so that the node runs as the caller.
RABBIT_SBIN="$(dirname "$(readlink -f "$(command -v rabbitmq-server)")")"
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  RABBIT_SBIN="$(dirname "$(readlink -f /usr/lib/rabbitmq/bin/rabbitmq-server)")"
fi
[ -x "$RABBIT_SBIN/rabbitmqctl" ] || die "rabbitmqctl not found next to $RABBIT_SBIN/rabbitmq-server"

# ---- helpers ---------------------------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port VAR: sets VAR to a random port nothing listens on; ports already handed out are skipped. No fixed
# preferred port: two runs starting at once would both pick it. (Sets a variable rather than echoing, so it runs in
# this shell.) A port can still be taken between this check and the bind: the start-ups below prove whose service
# answers and try other ports when it is not theirs.
TAKEN_PORTS=" "
free_port() {
  local port="" tries=0
  while [ -z "$port" ] || port_in_use "$port" || [[ "$TAKEN_PORTS" == *" $port "* ]]; do
    tries=$((tries + 1)); [ "$tries" -le 200 ] || die "no free TCP port found"
    port=$((20000 + RANDOM % 40000))
  done
  TAKEN_PORTS+="$port "
  printf -v "$1" '%s' "$port"
}

# listening_inodes PORT: the socket inodes listening on PORT (any address), from /proc/net/tcp and tcp6.
listening_inodes() {
  local hex; hex="$(printf '%04X' "$1")"
  awk -v port="$hex" '$4 == "0A" { split($2, local, ":"); if (local[2] == port) print $10 }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# pid_owns_port PID PORT: true when PID, or a process below it, holds a socket that listens on PORT.
pid_owns_port() {
  local pid=$1 port=$2 inode fds p
  local pids="$pid $(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')"
  for inode in $(listening_inodes "$port"); do
    for p in $pids; do
      fds="$(ls -l "/proc/$p/fd" 2>/dev/null || true)"
      [[ "$fds" != *"socket:[$inode]"* ]] || return 0
    done
  done
  return 1
}

# rabbit_node_at PORT: the node name the broker listening on PORT gives in its AMQP greeting (connection.start's
# server properties carry cluster_name, which is the node name unless configured otherwise, and ours is not).
rabbit_node_at() {
  local greeting
  greeting="$( { exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'AMQP\0\0\11\1' >&3 && timeout 3 dd bs=4096 count=1 <&3 2>/dev/null; } 2>/dev/null \
    | tr -c '[:print:]' '\n' || true)"
  grep -o "effnet-test-[0-9-]*@[A-Za-z0-9.-]*" <<<"$greeting" | head -n 1 || true
}

STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/effnet-test.XXXXXX")"
RABBIT_STARTED=""
AZURITE_PID=""
stop_rabbitmq() {
  [ -n "$RABBIT_STARTED" ] || return 0
  # Given the pid file, `rabbitmqctl stop` also waits for the Erlang VM to exit.
  if ! "$RABBIT_SBIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" stop "$RABBITMQ_PID_FILE" >>"$STATE_DIR/stop.log" 2>&1; then
    log "rabbitmqctl stop failed; terminating the node"; tail -n 5 "$STATE_DIR/stop.log" >&2 || true
    [ ! -f "$RABBITMQ_PID_FILE" ] || kill "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null || true
  fi
  EPMD="$(command -v epmd || ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n 1 || true)"
  [ -z "$EPMD" ] || "$EPMD" -port "$ERL_EPMD_PORT" -kill >>"$STATE_DIR/stop.log" 2>&1 || true
  RABBIT_STARTED=""
}
stop_azurite() {
  [ -n "$AZURITE_PID" ] || return 0
  kill "$AZURITE_PID" 2>/dev/null || true
  wait "$AZURITE_PID" 2>/dev/null || true
  AZURITE_PID=""
}
stop_services() { stop_rabbitmq; stop_azurite; }
cleanup() { stop_services; [ "${KEEP_SERVICE_LOGS:-}" = 1 ] || rm -rf "$STATE_DIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- (b) RabbitMQ: private node, own ports, data and config under STATE_DIR -----------------------------------
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_MNESIA_BASE="$STATE_DIR/rabbitmq/mnesia"
export RABBITMQ_LOG_BASE="$STATE_DIR/rabbitmq/log"
export RABBITMQ_PID_FILE="$STATE_DIR/rabbitmq/rabbitmq.pid"
# No plugins (the management UI would claim port 15672) and no system config.
export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE_DIR/rabbitmq/enabled_plugins"
export RABBITMQ_CONFIG_FILE="$STATE_DIR/rabbitmq/rabbitmq"
export RABBITMQ_ADVANCED_CONFIG_FILE="$STATE_DIR/rabbitmq/advanced.config"
mkdir -p "$STATE_DIR/rabbitmq"
echo "[]." >"$RABBITMQ_ENABLED_PLUGINS_FILE"
rabbit_log() { cat "$STATE_DIR/rabbitmq/start.log" "$RABBITMQ_LOG_BASE"/*.log 2>/dev/null; }
# -detached returns at once and `rabbitmqctl await_startup` fails this early, so poll the AMQP port, and accept it only
# when the broker there greets us with our node name: "something listens" is not "our node is up" (another run's
# broker may have taken the port between free_port and the bind, and then ours dies with eaddrinuse).
# A loaded machine (parallel builds) has been seen to need more than 90 s: SERVICES_START_TIMEOUT, default 300.
RABBIT_WAIT="${SERVICES_START_TIMEOUT:-300}"
start_rabbitmq() {
  local attempt deadline answer
  for attempt in 1 2 3; do
    free_port RABBIT_PORT
    free_port RABBIT_DIST_PORT
    free_port EPMD_PORT
    export RABBITMQ_NODE_PORT="$RABBIT_PORT"
    export RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
    # A private epmd (Erlang's node-name registry) on its own port, so that it can be stopped afterwards without
    # touching one a system RabbitMQ uses.
    export ERL_EPMD_PORT="$EPMD_PORT"
    # A fresh node name per attempt: a node that failed may still be shutting down under the last one.
    export RABBITMQ_NODENAME="effnet-test-$$-$attempt@localhost"
    rm -rf "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"; mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    log "starting RabbitMQ node $RABBITMQ_NODENAME on 127.0.0.1:$RABBIT_PORT"
    "$RABBIT_SBIN/rabbitmq-server" -detached >"$STATE_DIR/rabbitmq/start.log" 2>&1 || { cat "$STATE_DIR/rabbitmq/start.log" >&2; die "rabbitmq-server failed to start"; }
    RABBIT_STARTED=1
    deadline=$((SECONDS + RABBIT_WAIT))
    while [ "$SECONDS" -lt "$deadline" ]; do
      if port_in_use "$RABBIT_PORT"; then
        answer="$(rabbit_node_at "$RABBIT_PORT")"
        # The greeting names the node with the machine's host name, which may differ from ours ("localhost").
        if [ "${answer%%@*}" = "${RABBITMQ_NODENAME%%@*}" ]; then
          log "RabbitMQ on 127.0.0.1:$RABBIT_PORT answers as $answer"
          return 0
        fi
        [ -z "$answer" ] || { log "127.0.0.1:$RABBIT_PORT answers as $answer, not $RABBITMQ_NODENAME"; break; }
      fi
      if rabbit_log | grep -q eaddrinuse; then
        log "RabbitMQ could not bind its ports: $(rabbit_log | grep -m 1 eaddrinuse | cut -c 1-200)"; break
      fi
      sleep 0.5
    done
    [ "$SECONDS" -lt "$deadline" ] || { log "RabbitMQ is not up on 127.0.0.1:$RABBIT_PORT after ${RABBIT_WAIT}s; last log lines:"; rabbit_log | tail -n 30 >&2; die "RabbitMQ did not start in time"; }
    stop_rabbitmq
    # Kept for a look afterwards (STATE_DIR is removed on exit unless KEEP_SERVICE_LOGS=1).
    mv "$RABBITMQ_LOG_BASE" "$STATE_DIR/rabbitmq/log-attempt-$attempt" 2>/dev/null || true
    log "attempt $attempt failed; trying other ports"
  done
  rabbit_log | tail -n 30 >&2
  die "RabbitMQ did not start on a port of its own after 3 attempts"
}
start_rabbitmq

# ---- (c) Azurite, blob service only, in memory -----------------------------------------------------------------
# Accepted only when the Azurite process we started owns the listening socket (another run's may have taken the port).
start_azurite() {
  local attempt deadline
  for attempt in 1 2 3; do
    free_port AZURITE_PORT
    log "starting Azurite on 127.0.0.1:$AZURITE_PORT"
    # --disableTelemetry also lets it exit promptly on SIGTERM; --skipApiVersionCheck accepts newer SDK API versions.
    azurite-blob --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --inMemoryPersistence --disableTelemetry \
      --skipApiVersionCheck --silent >"$STATE_DIR/azurite.log" 2>&1 &
    AZURITE_PID=$!
    deadline=$((SECONDS + ${SERVICES_START_TIMEOUT:-120}))
    while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$AZURITE_PID" 2>/dev/null; do
      if pid_owns_port "$AZURITE_PID" "$AZURITE_PORT"; then
        log "Azurite (pid $AZURITE_PID) owns 127.0.0.1:$AZURITE_PORT"
        return 0
      fi
      sleep 0.5
    done
    log "Azurite (pid $AZURITE_PID) is not listening on 127.0.0.1:$AZURITE_PORT; last log lines:"; tail -n 10 "$STATE_DIR/azurite.log" >&2 || true
    [ "$SECONDS" -lt "$deadline" ] || die "Azurite did not start in time"
    stop_azurite
    log "attempt $attempt failed; trying another port"
  done
  die "Azurite did not start on a port of its own after 3 attempts"
}
start_azurite
log "services ready after ${SECONDS}s"

# ---- (d) service addresses for the tests -----------------------------------------------------------------------
export RABBITMQ_URI="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/"
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/$AZURITE_ACCOUNT;"
# The fault tests stop and start this run's broker (and only it: RABBITMQ_NODENAME and ERL_EPMD_PORT above name the
# node and its epmd) with this rabbitmqctl.
export EFFNET_TEST_RABBITMQCTL="$RABBIT_SBIN/rabbitmqctl"

