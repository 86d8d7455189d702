# shellcheck shell=bash
# Shared by the scripts in this folder (sourced, not run). The scripts follow the guide's
# "Development Workflow": ./scripts/dev.sh, ./scripts/server.sh 3000, ./scripts/worker.sh,
# ./scripts/status.sh, ./scripts/stop-worker.sh.
#
# Where things go (both default to /tmp, as in the guide):
#   CONVEYOR_LOG_DIR  log files: starter-server-<port>.log, starter-worker.log
#   CONVEYOR_RUN_DIR  pid files: starter-server-<port>.pid, starter-worker.pid
# Settings reach the processes through the environment as usual (CONVEYOR__WORKER__CONCURRENCY=8,
# STARTER__WORKER__CONCURRENCY=8, CONVEYOR__DATABASE__URL=postgres://...) or conveyor.config.json.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_DIR="${CONVEYOR_LOG_DIR:-/tmp}"
RUN_DIR="${CONVEYOR_RUN_DIR:-/tmp}"
# How long to wait for a process to start or to stop gracefully, in seconds.
START_TIMEOUT="${CONVEYOR_START_TIMEOUT:-30}"
STOP_TIMEOUT="${CONVEYOR_STOP_TIMEOUT:-60}"

# A config file named relative to where the user stands must survive the cd below.
if [[ -n "${CONVEYOR_CONFIG:-}" && "${CONVEYOR_CONFIG}" != /* ]]; then
  CONVEYOR_CONFIG="$PWD/$CONVEYOR_CONFIG"
  export CONVEYOR_CONFIG
fi
# Every script works from the project folder, so ./data and ./conveyor.config.json mean the same
# to the server, the workers and the CLI wherever the script was started from.
cd "$ROOT" || exit 1

say() { printf '%s\n' "$*"; }
fail() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# The conveyor command of this checkout (the built one; the tests set CONVEYOR_CLI to run src/ instead).
CONVEYOR_CLI="${CONVEYOR_CLI:-$ROOT/bin/conveyor.js}"
conveyor() { node "$CONVEYOR_CLI" "$@"; }

require_node() {
  command -v node >/dev/null 2>&1 || fail "node is not installed (Conveyor needs Node.js 20 or newer)"
  [[ -d "$ROOT/node_modules" ]] || fail "dependencies are missing: run 'npm ci' in $ROOT first"
}

# True when $1 is a live process (a zombie waiting to be reaped counts as gone).
is_running() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z* ]]
}

# Prints the pid recorded in file $1 if that process still runs and is a conveyor process.
running_pid() {
  local file="$1" pid
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  is_running "$pid" || return 1
  # A recycled pid belongs to someone else.
  ps -o args= -p "$pid" 2>/dev/null | grep -q 'conveyor' || return 1
  printf '%s\n' "$pid"
}

# Bytes in file $1 (0 when missing), to read only what a new process appends to its log.
file_size() {
  if [[ -f "$1" ]]; then wc -c <"$1" | tr -d ' '; else echo 0; fi
}

# What was appended to log $1 after byte offset $2.
log_since() {
  tail -c "+$(($2 + 1))" "$1" 2>/dev/null || true
}

# Starts `conveyor "$@"` in the background, detached from this shell: output appended to $LOG, pid
# written to $PIDFILE. Sets PID.
start_background() {
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  nohup node "$CONVEYOR_CLI" "$@" >>"$LOG" 2>&1 </dev/null &
  PID=$!
  printf '%s\n' "$PID" >"$PIDFILE"
}

# Waits until the log (after offset $1) has a line matching the extended regex $2 and prints it.
# Returns 1 when the process died first, 2 when START_TIMEOUT passed.
wait_for_log() {
  local offset="$1" pattern="$2" deadline line
  deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if line="$(log_since "$LOG" "$offset" | grep -E -m1 "$pattern")"; then
      printf '%s\n' "$line"
      return 0
    fi
    is_running "$PID" || return 1
    sleep 0.2
  done
  return 2
}

# After wait_for_log failed with status $1: say why, and leave a dead process's pid file behind no more.
report_start_failure() {
  local what="$1" status="$2"
  if ((status == 2)); then
    say "The $what (pid $PID) has not started after ${START_TIMEOUT}s; it keeps trying. Read $LOG"
  else
    say "The $what exited during start (pid $PID)."
    rm -f "$PIDFILE"
  fi
  show_log_tail
}

# Sends SIGTERM to $1 and waits up to STOP_TIMEOUT seconds for it to exit.
stop_gracefully() {
  local pid="$1" deadline
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$((SECONDS + STOP_TIMEOUT))
  while is_running "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

show_log_tail() {
  say "--- last lines of $LOG ---"
  tail -n 20 "$LOG" 2>/dev/null || true
}
