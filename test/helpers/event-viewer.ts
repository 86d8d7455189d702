import { randomBytes } from 'node:crypto';
import type { EventSink } from '../../src/api/task-event-hub.ts';
import { uuidv7 } from '../../src/core/id.ts';
import type { Engine, UserRecord, UserRole } from '../../src/store/engine.ts';

/** A live-hub viewer the tests hold: its user and session, and the events its stream received. */
export interface EventViewer {
  user: UserRecord;
  sessionHash: string;
  events: { event: string; data: any }[];
  ended: boolean;
  sink: EventSink;
}

/**
 * A viewer with a real session (an hour long) whose sink records each event: a new user of `role`,
 * or another session of the user `userId` (a second tab).
 */
export async function eventViewer(engine: Engine, p: { role: UserRole; now: Date; userId?: string }): Promise<EventViewer> {
  let id = p.userId;
  if (!id) {
    const name = `${p.role}_${randomBytes(3).toString('hex')}`;
    id = (await engine.userInsert({ user: { id: uuidv7(), username: name, email: `${name}@example.com`, passwordHash: 'not-used', role: p.role, createdAt: p.now } })).id;
  }
  const user = (await engine.userGet({ id }))!;
  const sessionHash = randomBytes(32).toString('hex');
  await engine.sessionInsert({ session: { tokenHash: sessionHash, userId: id, createdAt: p.now, expiresAt: new Date(p.now.getTime() + 3_600_000), lastRefreshedAt: null, userAgent: null } });
  const viewer: EventViewer = {
    user,
    sessionHash,
    events: [],
    ended: false,
    sink: {
      user,
      sessionHash,
      write: (chunk) => {
        const event = /^event: (.*)$/m.exec(chunk)?.[1];
        const data = /^data: (.*)$/m.exec(chunk)?.[1];
        if (event && data) viewer.events.push({ event, data: JSON.parse(data) });
      },
      end: () => {
        viewer.ended = true;
      },
    },
  };
  return viewer;
}
