import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import type { Engine, EngineCall, EngineDriver } from '../engine.ts';
import { CALL_GUARDS, type GuardResult } from './call-guards.ts';
import { CallObserver } from './call-observer.ts';
import { ChangeSignal } from './change-signal.ts';

export interface DispatchOptions {
  logger?: Logger | undefined;
  /** Calls slower than this are logged at warn level (default 1000 ms). */
  slowMs?: number | undefined;
}

type Method = Exclude<{ [K in keyof EngineDriver]: EngineDriver[K] extends (...args: never[]) => unknown ? K : never }[keyof EngineDriver], undefined>;

/** Every method of EngineDriver; the check below fails to compile when one is added and not listed. */
const METHODS = [
  'migrate', 'migrationStatus', 'ping',
  'taskInsert', 'taskInsertMany', 'taskClaim', 'taskStartRecord', 'taskHeartbeat', 'taskComplete', 'taskFail', 'taskCancelRunning', 'taskRelease',
  'taskUnclaim', 'taskNextDueAt', 'taskProgress', 'taskGet', 'taskList', 'taskCancel', 'taskRetry', 'taskDelete', 'taskStats', 'taskHistory', 'taskRollup',
  'taskRescueExpired', 'taskPrune', 'taskVacuum', 'leaderAttemptElect', 'leaderResign', 'storageStats',
  'breakerGet', 'breakerList', 'breakerRecord', 'breakerReset',
  'typePause', 'typeResume', 'typePauseList', 'typeLimitSet', 'typeLimitList', 'typeRunningCounts',
  'scheduleInsert', 'scheduleGet', 'scheduleList', 'scheduleUpdate', 'scheduleDelete', 'scheduleDue', 'scheduleFire', 'scheduleSkip',
  'ownerUsage', 'emailRecipientsCount',
  'typeRegister', 'typeList', 'workerHeartbeat', 'workerList', 'workerRemove',
  'userInsert', 'userGet', 'userFind', 'userList', 'userUpdate', 'userCount',
  'accountTokenInsert', 'accountTokenGet', 'accountTokenUse', 'accountTokenRelease', 'accountTokenList', 'accountTokenRevoke', 'accountTokenPruneExpired',
  'sessionInsert', 'sessionGet', 'sessionUpdate', 'sessionDelete', 'sessionDeleteForUser', 'sessionLiveRoles', 'sessionPruneExpired',
  'changeNotify',
] as const satisfies readonly Method[];
/** Not timed or reported: `listen` and `changeListen` last as long as their subscription, `close` as the engine. */
const PLAIN = ['listen', 'changeListen', 'close'] as const satisfies readonly Method[];
type Unlisted = Exclude<Method, (typeof METHODS)[number] | (typeof PLAIN)[number]>;
const everyMethodListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyMethodListed;

/**
 * The one layer in front of every engine: each call's input is checked by the same rules whichever
 * engine runs it (CALL_GUARDS), then the engine runs it, timed, and the call is reported (CallObserver:
 * metrics listeners, slow and failed calls logged). Wake-ups are decided by core/lifecycle.ts's
 * wakesWorkers and sent by the engine in the same write as the transition (a NOTIFY leaves only if it
 * commits), so this layer adds no round trip for them. Calls that changed what the live dashboard
 * shows are followed by a change notification, at most once a second per process (ChangeSignal).
 */
export function dispatchEngine(driver: EngineDriver, options: DispatchOptions = {}): Engine {
  const observer = new CallObserver((options.logger ?? silentLogger).child({ component: 'engine', engine: driver.kind }), options.slowMs);
  const engine: Record<string, unknown> = {
    kind: driver.kind,
    capabilities: driver.capabilities,
    observeCalls: (listener: (call: EngineCall) => void) => observer.add(listener),
  };
  // Once closed, a call a guard would answer fails CLOSED like every other (the engine refuses the rest).
  const state: DispatchState = { closed: false };
  engine.listen = driver.listen.bind(driver);
  engine.changeListen = driver.changeListen.bind(driver);
  for (const method of METHODS) engine[method] = dispatched(method, driver, observer, state);
  const changes = new ChangeSignal(engine.changeNotify as () => Promise<void>, (options.logger ?? silentLogger).child({ component: 'engine' }));
  state.changes = changes;
  engine.close = async () => {
    // The last change of a process that is about to exit still reaches the dashboards.
    await changes.flush();
    await driver.close();
    state.closed = true;
  };
  return engine as unknown as Engine;
}

interface DispatchState {
  closed: boolean;
  changes?: ChangeSignal;
}

function dispatched(method: (typeof METHODS)[number], driver: EngineDriver, observer: CallObserver, state: DispatchState): (p: unknown) => Promise<unknown> {
  const run = (driver[method] as (p: unknown) => Promise<unknown>).bind(driver);
  const guard = CALL_GUARDS[method] as ((p: unknown) => GuardResult) | undefined;
  return async (p: unknown) => {
    const started = performance.now();
    let failure: unknown;
    try {
      const guarded = guard?.(p);
      if (guarded && state.closed) throw new ConveyorError(ERROR_CODES.CLOSED, `the ${driver.kind} engine is closed`);
      if (guarded) return guarded.answer;
      const result = await run(p);
      state.changes?.after(method, result);
      return result;
    } catch (error) {
      failure = error ?? new Error('engine call failed');
      throw error;
    } finally {
      observer.report(method, performance.now() - started, failure);
    }
  };
}
