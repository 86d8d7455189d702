#!/usr/bin/env bash
# What runs: the servers and the worker started by these scripts (process alive, API health), the
# workers the database knows (from every machine) and the queue (conveyor stats).
# Exit status: 0 when a server and a worker run and the API is healthy, 1 otherwise.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_node
problems=0

# The body of GET $1, with a short time limit; curl when present, else Node's fetch.
http_get() {
  if command -v curl >/dev/null 2>&1; then
    curl -sS --max-time 3 "$1" 2>/dev/null
  else
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))' "$1"
  fi
}

# "healthy (sqlite)", "unhealthy: ..." or "no answer", from GET /health.
health_of() {
  local body engine
  if ! body="$(http_get "$1/health")" || [[ -z "$body" ]]; then
    echo "no answer"
    return 1
  fi
  if [[ "$body" == *'"status":"healthy"'* ]]; then
    engine="$(grep -Eo '"engine":"[a-z]+"' <<<"$body" | cut -d'"' -f4 || true)"
    echo "healthy (${engine:-?})"
    return 0
  fi
  echo "unhealthy: $(grep -Eo '"message":"[^"]*"' <<<"$body" | head -n1 | cut -d'"' -f4 || true)"
  return 1
}

say "Conveyor status (logs in $LOG_DIR, pid files in $RUN_DIR)"
say ""
say "Servers:"
servers=0
for pidfile in "$RUN_DIR"/starter-server-*.pid; do
  [[ -e "$pidfile" ]] || continue
  port="${pidfile##*/starter-server-}"
  port="${port%.pid}"
  log="$LOG_DIR/starter-server-$port.log"
  if pid="$(running_pid "$pidfile")"; then
    servers=$((servers + 1))
    url="$(cat "$RUN_DIR/starter-server-$port.url" 2>/dev/null || echo "http://127.0.0.1:$port")"
    health="$(health_of "$url")" || problems=1
    say "  port $port: running (pid $pid), $url, $health; log $log"
  else
    say "  port $port: NOT running (its pid file is stale); log $log"
    problems=1
  fi
done
if ((servers == 0)); then
  say "  none running: start one with ./scripts/server.sh 3000"
  problems=1
fi

say ""
say "Worker:"
if pid="$(running_pid "$RUN_DIR/starter-worker.pid")"; then
  say "  running (pid $pid); log $LOG_DIR/starter-worker.log"
else
  say "  NOT running: tasks stay pending. Start it with ./scripts/worker.sh (log $LOG_DIR/starter-worker.log)"
  problems=1
fi

say ""
say "Workers in the database (every machine):"
conveyor workers 2>&1 | sed -e 's/^/  /' -e 's/^ *$//' || true

say ""
say "Queue:"
conveyor stats 2>&1 | sed -e 's/^/  /' -e 's/^ *$//' || true

say ""
if ((problems == 0)); then
  say "All running."
else
  say "Something is not running (see above). More checks: npx conveyor doctor"
fi
exit "$problems"
