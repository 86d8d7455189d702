#!/usr/bin/env bash
# Stops the worker started by ./scripts/worker.sh gracefully: SIGTERM, then it stops claiming, lets
# running tasks finish within worker.shutdown_grace_ms and hands the rest back. Waits for it to exit
# (at most CONVEYOR_STOP_TIMEOUT seconds, default 60).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOG="$LOG_DIR/starter-worker.log"
PIDFILE="$RUN_DIR/starter-worker.pid"
if ! pid="$(running_pid "$PIDFILE")"; then
  rm -f "$PIDFILE"
  say "No worker is running (no live pid in $PIDFILE)."
  exit 0
fi

say "Stopping the worker (pid $pid): running tasks may finish first..."
if ! stop_gracefully "$pid"; then
  say "The worker is still running after ${STOP_TIMEOUT}s. Force it with: kill -KILL $pid (its tasks return when their leases expire)."
  exit 1
fi
rm -f "$PIDFILE"
say "Worker stopped. Log: $LOG"
