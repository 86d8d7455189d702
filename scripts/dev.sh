#!/usr/bin/env bash
# Step 1 of the guide's workflow: prepare the database the configuration names (the embedded SQLite
# file ./data/conveyor.db by default, or the PostgreSQL of CONVEYOR__DATABASE__URL / DATABASE_URL)
# by applying its migrations, and say what was done. Safe to run again: it only applies what is pending.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_node

say "Preparing the database..."
if ! conveyor migrate; then
  say ""
  say "The database could not be prepared (see above). Check the setting with: npx conveyor config | grep database"
  say "For PostgreSQL, make sure the server runs and the URL's user may create a schema; to use the embedded"
  say "SQLite instead, unset CONVEYOR__DATABASE__URL and DATABASE_URL."
  exit 1
fi

say ""
say "Ready. Next:"
say "  ./scripts/server.sh 3000   # HTTP API       (log $LOG_DIR/starter-server-3000.log)"
say "  ./scripts/worker.sh        # a worker       (log $LOG_DIR/starter-worker.log)"
say "  ./scripts/status.sh        # what runs, and the queue"
say "Or everything at once, supervised: npm start"
