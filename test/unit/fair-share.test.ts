import { describe, expect, it } from 'vitest';
import { type FairCandidate, fairShareCap, pickFairShare } from '../../src/core/fair-share.ts';

/** `count` waiting tasks of `group` at `priorityRank`, due from `fromMs` on, in queue order. */
function queue(group: string, count: number, priorityRank = 0, fromMs = 0, taskType = 'email'): FairCandidate[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${group}-${String(i).padStart(4, '0')}`, group, taskType, priorityRank, runAtMs: fromMs + i }));
}
const groupsOf = (ids: string[]) => ids.map((id) => id.split('-')[0]).join('');

describe('pickFairShare', () => {
  it('the cap is the share of the slots in use once the claim is taken, at least one', () => {
    expect(fairShareCap(0.5, 8, 4)).toBe(6);
    expect(fairShareCap(0.5, 0, 1)).toBe(1);
    expect(fairShareCap(0.1, 2, 1)).toBe(1);
    expect(fairShareCap(1, 10, 2)).toBe(12);
  });

  it('alternates between groups waiting at one priority, the earlier waiting first', () => {
    const ids = pickFairShare({ candidates: [...queue('a', 10), ...queue('b', 10, 0, 100)], running: new Map(), limit: 6, maxShare: 0.5 });
    expect(groupsOf(ids)).toBe('ababab');
  });

  it('a group past its cap waits while another under it has tasks; fewer held goes first', () => {
    // Running a 10, b 0; limit 4: cap 7. b takes every slot of this claim.
    expect(groupsOf(pickFairShare({ candidates: [...queue('a', 10), ...queue('b', 10, 0, 100)], running: new Map([['a', 10]]), limit: 4, maxShare: 0.5 }))).toBe('bbbb');
    // b has only one: the rest go to a, nothing is held back.
    expect(groupsOf(pickFairShare({ candidates: [...queue('a', 10), ...queue('b', 1, 0, 100)], running: new Map([['a', 10]]), limit: 4, maxShare: 0.5 }))).toBe('baaa');
  });

  it('keeps priority strict', () => {
    expect(groupsOf(pickFairShare({ candidates: [...queue('a', 3, 0), ...queue('b', 3, 1)], running: new Map([['a', 50]]), limit: 4, maxShare: 0.5 }))).toBe('aaab');
  });

  it('gives a limited type at most its free slots', () => {
    const candidates = [...queue('a', 5, 0, 0, 'email'), ...queue('b', 5, 0, 100, 'email'), ...queue('c', 2, 0, 200, 'report')];
    const ids = pickFairShare({ candidates, running: new Map(), limit: 10, maxShare: 0.5, typeFree: new Map([['email', 3]]) });
    expect(ids.filter((id) => !id.startsWith('c'))).toHaveLength(3);
    expect(ids.filter((id) => id.startsWith('c'))).toHaveLength(2);
  });

  it('nothing to pick: nothing', () => {
    expect(pickFairShare({ candidates: [], running: new Map(), limit: 4, maxShare: 0.5 })).toEqual([]);
    expect(pickFairShare({ candidates: queue('a', 2), running: new Map(), limit: 0, maxShare: 0.5 })).toEqual([]);
  });
});
