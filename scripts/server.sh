#!/usr/bin/env bash
# Step 2: the HTTP API in the background: ./scripts/server.sh [PORT] (default 3000).
# Log: $CONVEYOR_LOG_DIR/starter-server-PORT.log (default /tmp); pid: $CONVEYOR_RUN_DIR/starter-server-PORT.pid.
# Waits until the server listens, then prints its address. Stop it with ./scripts/stop-server.sh PORT.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port="${1:-3000}"
if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  fail "usage: $0 [PORT]  (PORT is a number from 1 to 65535; got '$port')"
fi
require_node

LOG="$LOG_DIR/starter-server-$port.log"
PIDFILE="$RUN_DIR/starter-server-$port.pid"
if pid="$(running_pid "$PIDFILE")"; then
  say "The server on port $port runs already (pid $pid); log $LOG"
  exit 0
fi

offset="$(file_size "$LOG")"
start_background serve --port "$port"
status=0
line="$(wait_for_log "$offset" 'Server listening at')" || status=$?
if ((status != 0)); then
  report_start_failure server "$status"
  exit 1
fi
url="$(grep -Eo 'http://[^"]+' <<<"$line" | head -n1)"
printf '%s\n' "$url" >"$RUN_DIR/starter-server-$port.url"
say "Server started: $url (pid $PID)"
say "  log   $LOG   (tail -f it)"
say "  docs  $url/api-docs"
say "  stop  ./scripts/stop-server.sh $port"
