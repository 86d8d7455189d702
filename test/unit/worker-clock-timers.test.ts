import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';

/** The ManualClock's timers: what lets a test drive the worker's loops without waiting. */
describe('ManualClock timers', () => {
  it('fires timers only when advanced past their time, in due order, each seeing its own time', () => {
    const clock = new ManualClock(1000);
    const fired: Array<[string, number]> = [];
    clock.setTimeout((name: string) => fired.push([name, clock.nowMs()]), 300, 'late');
    clock.setTimeout((name: string) => fired.push([name, clock.nowMs()]), 100, 'early');
    clock.setTimeout((name: string) => fired.push([name, clock.nowMs()]), 100, 'early, set second');
    expect(clock.timerDueTimes()).toEqual([1100, 1100, 1300]);

    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([
      ['early', 1100],
      ['early, set second', 1100],
    ]);
    clock.advance(500);
    expect(fired.at(-1)).toEqual(['late', 1300]);
    expect(clock.nowMs()).toBe(1600);
    expect(clock.timerDueTimes()).toEqual([]);
  });

  it('fires, within one advance, the timers that timers set, and never a cleared one', () => {
    const clock = new ManualClock(0);
    const ticks: number[] = [];
    const tick = () => {
      ticks.push(clock.nowMs());
      if (ticks.length < 5) clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    const cleared = clock.setTimeout(() => ticks.push(-1), 250);
    clock.clearTimeout(cleared);
    clock.clearTimeout(null);
    clock.advance(350);
    expect(ticks).toEqual([100, 200, 300]);
    clock.set(10_000);
    expect(ticks).toEqual([100, 200, 300, 400, 500]);
  });

  it('a timer already due fires on the next turn without the clock moving; sleep() ends on its time or on abort', async () => {
    const clock = new ManualClock(0);
    const due = new Promise<number>((resolve) => clock.setTimeout(() => resolve(clock.nowMs()), 0));
    expect(await due).toBe(0);

    let slept = false;
    const sleeping = clock.sleep(1000).then(() => (slept = true));
    clock.advance(999);
    await Promise.resolve();
    expect(slept).toBe(false);
    clock.advance(1);
    await sleeping;
    expect(slept).toBe(true);

    const stop = new AbortController();
    const interrupted = clock.sleep(60_000, stop.signal);
    stop.abort();
    await interrupted;
    // The aborted sleep leaves no timer behind.
    expect(clock.timerDueTimes()).toEqual([]);
  });
});
