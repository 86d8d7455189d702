import { describe, expect, it } from 'vitest';
import { decideFail, decideRelease, decideRescue,
  decideStart, decideUnclaim, wakesWorkers, type FailFacts, type WakeCause } from '../../src/core/lifecycle.ts';
import { DEFAULT_RETRY_STRATEGY, type RetryStrategy } from '../../src/core/retry-strategy.ts';
import { TASK_STATUSES } from '../../src/core/task.ts';

const now = new Date(Date.UTC(2026, 0, 1, 12));
const at = (ms: number) => new Date(now.getTime() + ms);
const noJitter = () => 0;

const fixed: RetryStrategy = { type: 'fixed', interval_ms: 5000, max_attempts: 3, jitter: 0.5 };
const linear: RetryStrategy = { type: 'linear', base_delay_ms: 1000, increment_ms: 500, max_delay_ms: 2500, max_attempts: 10, jitter: 0 };

function fail(facts: Partial<FailFacts>) {
  return decideFail({ attempt: 1, maxAttempts: 3, strategy: DEFAULT_RETRY_STRATEGY, cancelRequested: false, permanent: false, now, random: noJitter, ...facts });
}

describe('decideFail', () => {
  it('retries by the strategy while attempts remain', () => {
    // Exponential from 1 s doubling: after attempt 1, 2 s; after attempt 2, 4 s.
    expect(fail({ attempt: 1 })).toEqual({ status: 'retrying', runAt: at(2000) });
    expect(fail({ attempt: 2 })).toEqual({ status: 'retrying', runAt: at(4000) });
    expect(fail({ attempt: 1, strategy: fixed })).toEqual({ status: 'retrying', runAt: at(5000) });
    expect(fail({ attempt: 3, maxAttempts: 10, strategy: linear })).toEqual({ status: 'retrying', runAt: at(2500) });
  });

  it('draws jitter below the nominal delay, never above', () => {
    expect(fail({ attempt: 1, strategy: fixed, random: () => 1 })).toEqual({ status: 'retrying', runAt: at(2500) });
    expect(fail({ attempt: 1, strategy: fixed, random: () => 0.5 })).toEqual({ status: 'retrying', runAt: at(3750) });
  });

  it('holds a retry back at least minDelayMs', () => {
    expect(fail({ attempt: 1, minDelayMs: 60_000 })).toEqual({ status: 'retrying', runAt: at(60_000) });
    expect(fail({ attempt: 1, minDelayMs: 10 })).toEqual({ status: 'retrying', runAt: at(2000) });
  });

  it('sends a task whose attempts are spent to the dead letter, counting the column rather than the strategy', () => {
    expect(fail({ attempt: 3, maxAttempts: 3 })).toEqual({ status: 'failed' });
    expect(fail({ attempt: 4, maxAttempts: 3 })).toEqual({ status: 'failed' });
    // A manual retry raised max_attempts to 4; the stored strategy still says 3.
    expect(fail({ attempt: 3, maxAttempts: 4 })).toEqual({ status: 'retrying', runAt: at(8000) });
    expect(fail({ attempt: 1, maxAttempts: 1, strategy: { ...fixed, max_attempts: 5 } })).toEqual({ status: 'failed' });
  });

  it('sends a permanent error to the dead letter whatever attempts remain', () => {
    expect(fail({ attempt: 1, maxAttempts: 100, permanent: true })).toEqual({ status: 'failed' });
  });

  it('lets a cancel request win over everything', () => {
    for (const permanent of [false, true]) {
      for (const attempt of [1, 3, 5]) expect(fail({ attempt, permanent, cancelRequested: true })).toEqual({ status: 'cancelled' });
    }
  });
});

describe('decideRescue', () => {
  const rescue = (facts: Partial<Parameters<typeof decideRescue>[0]>) =>
    decideRescue({ workerId: 'w-1', rescueCount: 0, started: true, unstartedLosses: 0, attempt: 1, maxAttempts: 5, cancelRequested: false, maxRescues: 3, ...facts });

  it('retries, counting the rescue, while under the cap and with attempts left', () => {
    expect(rescue({})).toEqual({ counted: true, status: 'retrying', rescueCount: 1, message: 'lease expired: worker w-1 stopped renewing while the handler ran (rescue 1 of max 3)' });
    expect(rescue({ rescueCount: 1 })).toMatchObject({ status: 'retrying', rescueCount: 2 });
  });

  it('dead-letters at the rescue cap or with the attempts spent', () => {
    expect(rescue({ rescueCount: 2 })).toEqual({ counted: true, status: 'failed', rescueCount: 3, message: 'lease expired: worker w-1 stopped renewing while the handler ran (rescue 3 of max 3): dead-lettered, as its handler may be what kills its workers (process.exit, a blocked event loop)' });
    expect(rescue({ rescueCount: 7 })).toMatchObject({ status: 'failed', rescueCount: 8 });
    expect(rescue({ attempt: 5, maxAttempts: 5 })).toMatchObject({ status: 'failed', rescueCount: 1 });
    expect(rescue({ maxRescues: 1 })).toMatchObject({ status: 'failed' });
  });

  it('cancels a task whose cancellation was requested, whatever else holds', () => {
    for (const rescueCount of [0, 2, 9]) expect(rescue({ rescueCount, cancelRequested: true })).toMatchObject({ status: 'cancelled', rescueCount: rescueCount + 1 });
    expect(rescue({ attempt: 5, cancelRequested: true })).toMatchObject({ status: 'cancelled' });
  });

  it('names an unknown worker the same way on every engine', () => {
    expect(rescue({ workerId: null })).toMatchObject({ message: 'lease expired: worker unknown stopped renewing while the handler ran (rescue 1 of max 3)' });
  });

  it('hands back an attempt that never started as if never claimed: no rescue counted, whatever the counts', () => {
    expect(rescue({ started: false })).toEqual({ counted: false, status: 'pending' });
    expect(rescue({ started: false, attempt: 3, rescueCount: 2 })).toEqual({ counted: false, status: 'retrying' });
    // Not even the last attempt or the cap: it did not run, so it spent nothing.
    expect(rescue({ started: false, attempt: 5, maxAttempts: 5, rescueCount: 2, unstartedLosses: 9 })).toEqual({ counted: false, status: 'retrying' });
    expect(rescue({ started: false, cancelRequested: true })).toEqual({ counted: false, status: 'cancelled' });
  });
});

describe('decideStart', () => {
  it('runs a task alone once a started attempt of it was lost, and records its start first', () => {
    expect(decideStart({ startRecorded: false, rescueCount: 1, unstartedLosses: 0 })).toEqual({ alone: true, recordFirst: true });
    expect(decideStart({ startRecorded: false, rescueCount: 2, unstartedLosses: 3 })).toEqual({ alone: true, recordFirst: true });
  });

  it('records first the start of a task lost before its start was written, without running it alone', () => {
    expect(decideStart({ startRecorded: false, rescueCount: 0, unstartedLosses: 1 })).toEqual({ alone: false, recordFirst: true });
  });

  it('lets every other task start at once: recorded by its claim, or later in a batch', () => {
    expect(decideStart({ startRecorded: true, rescueCount: 0, unstartedLosses: 0 })).toEqual({ alone: false, recordFirst: false });
    expect(decideStart({ startRecorded: false, rescueCount: 0, unstartedLosses: 0 })).toEqual({ alone: false, recordFirst: false });
  });
});

describe('decideUnclaim', () => {
  it('hands a first attempt back as pending and a later one as retrying', () => {
    expect(decideUnclaim({ attempt: 1, cancelRequested: false })).toBe('pending');
    expect(decideUnclaim({ attempt: 2, cancelRequested: false })).toBe('retrying');
    expect(decideUnclaim({ attempt: 9, cancelRequested: false })).toBe('retrying');
  });

  it('cancels a task whose cancellation was requested', () => {
    for (const attempt of [1, 2]) expect(decideUnclaim({ attempt, cancelRequested: true })).toBe('cancelled');
  });
});

describe('decideRelease', () => {
  it('hands a task back due at once as released', () => {
    expect(decideRelease({ now, until: null, cancelRequested: false })).toEqual({ status: 'pending', runAt: now, attemptOutcome: 'released' });
  });

  it('snoozes a task until a later time as scheduled, and one snoozed to now or earlier as pending', () => {
    expect(decideRelease({ now, until: at(60_000), cancelRequested: false })).toEqual({ status: 'scheduled', runAt: at(60_000), attemptOutcome: 'snoozed' });
    expect(decideRelease({ now, until: now, cancelRequested: false })).toEqual({ status: 'pending', runAt: now, attemptOutcome: 'snoozed' });
    expect(decideRelease({ now, until: at(-1000), cancelRequested: false })).toEqual({ status: 'pending', runAt: at(-1000), attemptOutcome: 'snoozed' });
  });

  it('cancels a task whose cancellation was requested, recording how it was handed back', () => {
    expect(decideRelease({ now, until: null, cancelRequested: true })).toEqual({ status: 'cancelled', runAt: now, attemptOutcome: 'released' });
    expect(decideRelease({ now, until: at(5000), cancelRequested: true })).toEqual({ status: 'cancelled', runAt: at(5000), attemptOutcome: 'snoozed' });
  });
});

describe('wakesWorkers', () => {
  const causes: WakeCause[] = ['insert', 'retry', 'release', 'unclaim', 'rescue', 'fail'];

  it('wakes idle workers for a task left waiting, except after a failed attempt', () => {
    const woken = causes.flatMap((cause) => TASK_STATUSES.filter((status) => wakesWorkers(cause, status)).map((status) => `${cause}:${status}`));
    expect(woken).toEqual(
      ['insert', 'retry', 'release', 'unclaim', 'rescue'].flatMap((cause) => ['pending', 'scheduled', 'retrying'].map((status) => `${cause}:${status}`)),
    );
  });
});
