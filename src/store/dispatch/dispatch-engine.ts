import { ConveyorError, ERROR_CODES } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import type { Engine, EngineCall, EngineDriver } from '../engine.ts';
import { CALL_GUARDS, type GuardResult } from './call-guards.ts';
import { CallObserver } from './call-observer.ts';

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
  'taskRescueExpired', 'taskPrune', 'leaderAttemptElect', 'leaderResign', 'storageStats',
  'breakerGet', 'breakerList', 'breakerRecord', 'breakerReset',
  'typePause', 'typeResume', 'typePauseList', 'typeLimitSet', 'typeLimitList', 'typeRunningCounts',
  'scheduleInsert', 'scheduleGet', 'scheduleList', 'scheduleUpdate', 'scheduleDelete', 'scheduleDue', 'scheduleFire', 'scheduleSkip',
  'ownerUsage', 'emailRecipientsCount',
  'typeRegister', 'typeList', 'workerHeartbeat', 'workerList', 'workerRemove',
  'userInsert', 'userGet', 'userFind', 'userList', 'userUpdate', 'userCount',
  'accountTokenInsert', 'accountTokenGet', 'accountTokenUse', 'accountTokenRelease', 'accountTokenPruneExpired',
  'sessionInsert', 'sessionGet', 'sessionUpdate', 'sessionDelete', 'sessionDeleteForUser', 'sessionLiveHashes', 'sessionPruneExpired',
] as const satisfies readonly Method[];
/** Not timed or reported: `listen` lasts as long as its subscription, `close` as the engine. */
const PLAIN = ['listen', 'close'] as const satisfies readonly Method[];
type Unlisted = Exclude<Method, (typeof METHODS)[number] | (typeof PLAIN)[number]>;
const everyMethodListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyMethodListed;

/**
 * The one layer in front of every engine: each call's input is checked by the same rules whichever
 * engine runs it (CALL_GUARDS), then the engine runs it, timed, and the call is reported (CallObserver:
 * metrics listeners, slow and failed calls logged). Wake-ups are decided by core/lifecycle.ts's
 * wakesWorkers and sent by the engine in the same write as the transition (a NOTIFY leaves only if it
 * commits), so this layer adds no round trip for them.
 */
export function dispatchEngine(driver: EngineDriver, options: DispatchOptions = {}): Engine {
  const observer = new CallObserver((options.logger ?? silentLogger).child({ component: 'engine', engine: driver.kind }), options.slowMs);
  const engine: Record<string, unknown> = {
    kind: driver.kind,
    capabilities: driver.capabilities,
    observeCalls: (listener: (call: EngineCall) => void) => observer.add(listener),
  };
  // Once closed, a call a guard would answer fails CLOSED like every other (the engine refuses the rest).
  const state = { closed: false };
  engine.listen = driver.listen.bind(driver);
  engine.close = async () => {
    await driver.close();
    state.closed = true;
  };
  for (const method of METHODS) engine[method] = dispatched(method, driver, observer, state);
  return engine as unknown as Engine;
}

function dispatched(method: (typeof METHODS)[number], driver: EngineDriver, observer: CallObserver, state: { closed: boolean }): (p: unknown) => Promise<unknown> {
  const run = (driver[method] as (p: unknown) => Promise<unknown>).bind(driver);
  const guard = CALL_GUARDS[method] as ((p: unknown) => GuardResult) | undefined;
  return async (p: unknown) => {
    const started = performance.now();
    let failure: unknown;
    try {
      const guarded = guard?.(p);
      if (guarded && state.closed) throw new ConveyorError(ERROR_CODES.CLOSED, `the ${driver.kind} engine is closed`);
      return guarded ? guarded.answer : await run(p);
    } catch (error) {
      failure = error ?? new Error('engine call failed');
      throw error;
    } finally {
      observer.report(method, performance.now() - started, failure);
    }
  };
}
