#!/usr/bin/env bash
# Stops the server started by ./scripts/server.sh [PORT] (default 3000): SIGTERM, it finishes the
# requests in flight, then exits. Waits for it (at most CONVEYOR_STOP_TIMEOUT seconds, default 60).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port="${1:-3000}"
[[ "$port" =~ ^[0-9]+$ ]] || fail "usage: $0 [PORT]"
PIDFILE="$RUN_DIR/starter-server-$port.pid"
if ! pid="$(running_pid "$PIDFILE")"; then
  rm -f "$PIDFILE" "$RUN_DIR/starter-server-$port.url"
  say "No server is running on port $port (no live pid in $PIDFILE)."
  exit 0
fi

say "Stopping the server on port $port (pid $pid)..."
if ! stop_gracefully "$pid"; then
  say "The server is still running after ${STOP_TIMEOUT}s. Force it with: kill -KILL $pid"
  exit 1
fi
rm -f "$PIDFILE" "$RUN_DIR/starter-server-$port.url"
say "Server stopped."
