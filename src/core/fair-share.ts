/**
 * Fair sharing of worker slots between groups (owners by default; the engines compute the group key,
 * see FAIR_GROUP in each engine's fair-claim.ts). The rule, written once for both engines:
 *
 * - Priority stays strict: a more urgent task is taken before a less urgent one, whoever owns it.
 * - Among tasks of one priority, a group that would hold more than its cap of the running slots comes
 *   after every group that would not; among those, the group that would hold fewer goes first
 *   (water-filling), then due time and id. So claims alternate between groups that wait, and no group
 *   is taken past its cap while another group under its cap still has a task to give.
 * - Nothing is held back: when only over-cap groups have tasks left, they fill the claim (the slots
 *   would idle otherwise). A claim so comes back short only when the queue is drained, exactly as
 *   without fairness, and the producer needs no extra signal.
 *
 * cap = max(1, floor(maxShare × (running + limit))): the share of the slots in use once this claim
 * has taken its tasks. Claimed tasks count as running, so claims ahead (prefetch) count too.
 */
export interface FairCandidate {
  id: string;
  /** The group key (the owner; '' for tasks nobody owns). */
  group: string;
  taskType: string;
  priorityRank: number;
  runAtMs: number;
}

export interface FairPickInput {
  /** Each group's waiting tasks, in claim order within the group (priority, due time, id). */
  candidates: readonly FairCandidate[];
  /** Running (and claimed) tasks per group, every worker counted. */
  running: ReadonlyMap<string, number>;
  limit: number;
  /** 0 < maxShare <= 1. */
  maxShare: number;
  /** Free slots of task types that have a concurrency limit; a type not listed has none. */
  typeFree?: ReadonlyMap<string, number>;
}

/** The cap of one group: the most running tasks it may hold while another group waits under its cap. */
export function fairShareCap(maxShare: number, runningTotal: number, limit: number): number {
  return Math.max(1, Math.floor(maxShare * (runningTotal + limit)));
}

/**
 * The ids to claim, in the order fairness takes them (at most `limit`): one at a time, the best head
 * of the groups' queues, so that each pick sees what the picks before it took.
 */
export function pickFairShare(input: FairPickInput): string[] {
  const { running, limit, maxShare } = input;
  if (limit <= 0) return [];
  let runningTotal = 0;
  for (const n of running.values()) runningTotal += n;
  const cap = fairShareCap(maxShare, runningTotal, limit);
  const queues = new Map<string, FairCandidate[]>();
  for (const c of input.candidates) {
    const queue = queues.get(c.group);
    if (queue) queue.push(c);
    else queues.set(c.group, [c]);
  }
  const heads = new Map<string, number>();
  const holds = new Map<string, number>();
  const typeFree = new Map(input.typeFree ?? []);
  const picked: string[] = [];
  while (picked.length < limit) {
    let best: { group: string; c: FairCandidate; holds: number } | null = null;
    for (const [group, queue] of queues) {
      let head = heads.get(group) ?? 0;
      // A limited type gives at most its free slots; its other tasks wait.
      while (head < queue.length && (typeFree.get(queue[head]!.taskType) ?? 1) <= 0) head += 1;
      heads.set(group, head);
      const c = queue[head];
      if (c === undefined) continue;
      const would = (holds.get(group) ?? running.get(group) ?? 0) + 1;
      if (best === null || before(c, would, best.c, best.holds, cap)) best = { group, c, holds: would };
    }
    if (best === null) break;
    picked.push(best.c.id);
    heads.set(best.group, (heads.get(best.group) ?? 0) + 1);
    holds.set(best.group, best.holds);
    const free = typeFree.get(best.c.taskType);
    if (free !== undefined) typeFree.set(best.c.taskType, free - 1);
  }
  return picked;
}

/** Whether candidate a (its group then holding aHolds) goes before b: priority, under the cap, fewer held, due time, id. */
function before(a: FairCandidate, aHolds: number, b: FairCandidate, bHolds: number, cap: number): boolean {
  const order =
    a.priorityRank - b.priorityRank ||
    Number(aHolds > cap) - Number(bHolds > cap) ||
    aHolds - bHolds ||
    a.runAtMs - b.runAtMs ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return order < 0;
}
