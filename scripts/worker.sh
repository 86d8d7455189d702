#!/usr/bin/env bash
# Step 3: a worker in the background: ./scripts/worker.sh [conveyor work options, e.g. --tasks ./my-tasks.ts].
# Settings come from the environment as usual: STARTER__WORKER__CONCURRENCY=8 ./scripts/worker.sh.
# Log: $CONVEYOR_LOG_DIR/starter-worker.log (default /tmp); pid: $CONVEYOR_RUN_DIR/starter-worker.pid.
# Waits until the worker has started. Stop it gracefully with ./scripts/stop-worker.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_node

LOG="$LOG_DIR/starter-worker.log"
PIDFILE="$RUN_DIR/starter-worker.pid"
if pid="$(running_pid "$PIDFILE")"; then
  say "A worker runs already (pid $pid); log $LOG. Restart it: ./scripts/stop-worker.sh && ./scripts/worker.sh"
  exit 0
fi

offset="$(file_size "$LOG")"
start_background work "$@"
status=0
line="$(wait_for_log "$offset" '"msg":"worker started"')" || status=$?
if ((status != 0)); then
  report_start_failure worker "$status"
  exit 1
fi
concurrency="$(grep -Eo '"concurrency":[0-9]+' <<<"$line" | cut -d: -f2)"
say "Worker started (pid $PID, concurrency ${concurrency:-?})"
say "  log   $LOG   (tail -f it; grep -i error it)"
say "  stop  ./scripts/stop-worker.sh"
