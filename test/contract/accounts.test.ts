import { expect, it } from 'vitest';
import { ConveyorError, ERROR_CODES } from '../../src/core/errors.ts';
import { describeEachEngine } from './engine-fixture.ts';

const ANN = '0190a4c2-0000-7000-8000-0000000000a1';
const BOB = '0190a4c2-0000-7000-8000-0000000000b2';

describeEachEngine('users and sessions', (f) => {
  const addAnn = () => {
    const { engine, clock } = f();
    return engine.userInsert({ user: { id: ANN, username: 'Ann', email: 'Ann@Example.com', passwordHash: '$argon2id$x', role: 'user', createdAt: clock.now() } });
  };

  it('stores a user and finds them by username or email, ignoring case', async () => {
    const { engine } = f();
    const ann = await addAnn();
    expect(ann).toMatchObject({ id: ANN, username: 'Ann', role: 'user', isActive: true, lastLoginAt: null });
    expect((await engine.userFind({ login: 'ann' }))?.id).toBe(ANN);
    expect((await engine.userFind({ login: 'ANN@example.COM' }))?.id).toBe(ANN);
    expect(await engine.userFind({ login: 'nobody' })).toBeNull();
    expect((await engine.userGet({ id: ANN }))?.email).toBe('Ann@Example.com');
  });

  it('refuses a taken username or email with a conflict naming the field', async () => {
    const { engine, clock } = f();
    await addAnn();
    const attempt = (username: string, email: string) =>
      engine.userInsert({ user: { id: BOB, username, email, passwordHash: 'h', role: 'user', createdAt: clock.now() } }).then(
        () => null,
        (error: unknown) => error,
      );
    const byName = await attempt('ANN', 'other@example.com');
    expect(byName).toBeInstanceOf(ConveyorError);
    expect(byName).toMatchObject({ code: ERROR_CODES.CONFLICT, field: 'username' });
    expect(await attempt('bob', 'ann@example.com')).toMatchObject({ code: ERROR_CODES.CONFLICT, field: 'email' });
  });

  it('updates role, activity and last login, and counts by role', async () => {
    const { engine, clock } = f();
    await addAnn();
    clock.advance(1000);
    const updated = await engine.userUpdate({ id: ANN, changes: { role: 'admin', lastLoginAt: clock.now() }, now: clock.now() });
    expect(updated).toMatchObject({ role: 'admin', isActive: true });
    expect(updated!.lastLoginAt).toEqual(clock.now());
    expect(updated!.updatedAt).toEqual(clock.now());
    expect(await engine.userCount({ role: 'admin' })).toBe(1);
    expect(await engine.userCount({})).toBe(1);
    expect((await engine.userList({ limit: 10, offset: 0 })).map((u) => u.id)).toEqual([ANN]);
    expect(await engine.userUpdate({ id: BOB, changes: { isActive: false }, now: clock.now() })).toBeNull();
  });

  it('keeps sessions by token hash until they expire, are deleted, or the user logs out everywhere', async () => {
    const { engine, clock } = f();
    await addAnn();
    const session = (hash: string) => ({ tokenHash: hash, userId: ANN, createdAt: clock.now(), expiresAt: new Date(clock.now().getTime() + 60_000), lastRefreshedAt: null, userAgent: 'curl' });
    await engine.sessionInsert({ session: session('h1') });
    await engine.sessionInsert({ session: session('h2') });
    await engine.sessionInsert({ session: session('h3') });
    expect(await engine.sessionGet({ tokenHash: 'h1', now: clock.now() })).toEqual({ session: session('h1'), user: await engine.userGet({ id: ANN }) });
    expect(await engine.sessionDelete({ tokenHash: 'h1' })).toBe(true);
    expect(await engine.sessionGet({ tokenHash: 'h1', now: clock.now() })).toBeNull();
    clock.advance(30_000);
    expect(await engine.sessionUpdate({ tokenHash: 'h2', expiresAt: new Date(clock.now().getTime() + 60_000), now: clock.now() })).toBe(true);
    clock.advance(30_000);
    expect(await engine.sessionGet({ tokenHash: 'h3', now: clock.now() })).toBeNull();
    expect(await engine.sessionGet({ tokenHash: 'h2', now: clock.now() })).not.toBeNull();
    expect(await engine.sessionPruneExpired({ now: clock.now() })).toBe(1);
    expect(await engine.sessionDeleteForUser({ userId: ANN })).toBe(1);
    expect(await engine.sessionGet({ tokenHash: 'h2', now: clock.now() })).toBeNull();
  });

  it('ends every session but the one kept (a password change keeps the caller signed in)', async () => {
    const { engine, clock } = f();
    await addAnn();
    const session = (hash: string) => ({ tokenHash: hash, userId: ANN, createdAt: clock.now(), expiresAt: new Date(clock.now().getTime() + 60_000), lastRefreshedAt: null, userAgent: null });
    for (const hash of ['k1', 'k2', 'k3']) await engine.sessionInsert({ session: session(hash) });
    expect(await engine.sessionDeleteForUser({ userId: ANN, keepTokenHash: 'k2' })).toBe(2);
    expect(await engine.sessionGet({ tokenHash: 'k2', now: clock.now() })).not.toBeNull();
    expect(await engine.sessionGet({ tokenHash: 'k1', now: clock.now() })).toBeNull();
  });

  it('keeps one-time account tokens single-use and expiring, by kind', async () => {
    const { engine, clock } = f();
    await addAnn();
    const expiresAt = new Date(clock.now().getTime() + 60_000);
    const reset = { tokenHash: 'r1', kind: 'password_reset' as const, userId: ANN, role: null, createdBy: ANN, createdAt: clock.now(), expiresAt, usedAt: null };
    const invite = { tokenHash: 'i1', kind: 'invitation' as const, userId: null, role: 'moderator' as const, createdBy: null, createdAt: clock.now(), expiresAt, usedAt: null };
    await engine.accountTokenInsert({ token: reset });
    await engine.accountTokenInsert({ token: invite });
    // A token only answers for its own kind.
    expect(await engine.accountTokenGet({ tokenHash: 'r1', kind: 'invitation', now: clock.now() })).toBeNull();
    expect(await engine.accountTokenGet({ tokenHash: 'i1', kind: 'invitation', now: clock.now() })).toEqual(invite);
    // Used once; the second use finds nothing; released, it can be used again.
    expect(await engine.accountTokenUse({ tokenHash: 'r1', kind: 'password_reset', now: clock.now() })).toEqual({ ...reset, usedAt: clock.now() });
    expect(await engine.accountTokenUse({ tokenHash: 'r1', kind: 'password_reset', now: clock.now() })).toBeNull();
    expect(await engine.accountTokenGet({ tokenHash: 'r1', kind: 'password_reset', now: clock.now() })).toBeNull();
    expect(await engine.accountTokenRelease({ tokenHash: 'r1' })).toBe(true);
    expect(await engine.accountTokenRelease({ tokenHash: 'r1' })).toBe(false);
    // Two uses racing: exactly one wins.
    const race = await Promise.all([1, 2, 3].map(() => engine.accountTokenUse({ tokenHash: 'r1', kind: 'password_reset', now: clock.now() })));
    expect(race.filter((t) => t !== null)).toHaveLength(1);
    // Expired tokens are refused, then pruned.
    clock.advance(60_000);
    expect(await engine.accountTokenUse({ tokenHash: 'i1', kind: 'invitation', now: clock.now() })).toBeNull();
    expect(await engine.accountTokenPruneExpired({ now: clock.now() })).toBe(2);
  });

  it('lists the open tokens of a kind, newest first, and revokes an open one for good', async () => {
    const { engine, clock } = f();
    await addAnn();
    const token = (tokenHash: string, kind: 'invitation' | 'password_reset', ttlMs: number) => ({
      tokenHash, kind, userId: kind === 'password_reset' ? ANN : null, role: kind === 'invitation' ? ('user' as const) : null, createdBy: ANN,
      createdAt: clock.now(), expiresAt: new Date(clock.now().getTime() + ttlMs), usedAt: null,
    });
    const older = token('a-older', 'invitation', 60_000);
    await engine.accountTokenInsert({ token: older });
    clock.advance(1_000);
    const newer = token('b-newer', 'invitation', 60_000);
    await engine.accountTokenInsert({ token: newer });
    await engine.accountTokenInsert({ token: token('c-short', 'invitation', 1_000) });
    await engine.accountTokenInsert({ token: token('d-used', 'invitation', 60_000) });
    await engine.accountTokenInsert({ token: token('e-reset', 'password_reset', 60_000) });
    await engine.accountTokenUse({ tokenHash: 'd-used', kind: 'invitation', now: clock.now() });
    clock.advance(1_000);
    // Not the used one, the expired one, nor the other kind.
    expect(await engine.accountTokenList({ kind: 'invitation', now: clock.now(), limit: 10 })).toEqual([newer, older]);
    expect(await engine.accountTokenList({ kind: 'invitation', now: clock.now(), limit: 1 })).toEqual([newer]);

    // Revoked only as its own kind, only while open, and once.
    expect(await engine.accountTokenRevoke({ tokenHash: 'e-reset', kind: 'invitation', now: clock.now() })).toBe(false);
    expect(await engine.accountTokenRevoke({ tokenHash: 'd-used', kind: 'invitation', now: clock.now() })).toBe(false);
    expect(await engine.accountTokenRevoke({ tokenHash: 'c-short', kind: 'invitation', now: clock.now() })).toBe(false);
    expect(await engine.accountTokenRevoke({ tokenHash: 'a-older', kind: 'invitation', now: clock.now() })).toBe(true);
    expect(await engine.accountTokenRevoke({ tokenHash: 'a-older', kind: 'invitation', now: clock.now() })).toBe(false);
    expect(await engine.accountTokenUse({ tokenHash: 'a-older', kind: 'invitation', now: clock.now() })).toBeNull();
    expect(await engine.accountTokenList({ kind: 'invitation', now: clock.now(), limit: 10 })).toEqual([newer]);
  });

  it('names, of many token hashes, those whose session is unexpired and whose user is active, with the user\'s role', async () => {
    const { engine, clock } = f();
    await addAnn();
    await engine.userInsert({ user: { id: BOB, username: 'bob', email: 'bob@example.com', passwordHash: 'h', role: 'user', createdAt: clock.now() } });
    const session = (hash: string, userId: string, ttlMs: number) =>
      ({ tokenHash: hash, userId, createdAt: clock.now(), expiresAt: new Date(clock.now().getTime() + ttlMs), lastRefreshedAt: null, userAgent: null });
    await engine.sessionInsert({ session: session('ann-long', ANN, 60_000) });
    await engine.sessionInsert({ session: session('ann-short', ANN, 1_000) });
    await engine.sessionInsert({ session: session('bob', BOB, 60_000) });
    const roles = async (hashes: string[]) => (await engine.sessionLiveRoles({ tokenHashes: hashes, now: clock.now() })).sort((a, b) => a.tokenHash.localeCompare(b.tokenHash));
    const live = async (hashes: string[]) => (await roles(hashes)).map((r) => r.tokenHash);
    expect(await live(['ann-long', 'ann-short', 'bob', 'never-issued'])).toEqual(['ann-long', 'ann-short', 'bob']);
    expect(await live([])).toEqual([]);
    clock.advance(1_000);
    expect(await live(['ann-long', 'ann-short', 'bob'])).toEqual(['ann-long', 'bob']);
    await engine.userUpdate({ id: BOB, changes: { role: 'moderator' }, now: clock.now() });
    expect(await roles(['ann-long', 'bob'])).toEqual([{ tokenHash: 'ann-long', role: 'user' }, { tokenHash: 'bob', role: 'moderator' }]);
    await engine.userUpdate({ id: BOB, changes: { isActive: false }, now: clock.now() });
    expect(await live(['ann-long', 'ann-short', 'bob'])).toEqual(['ann-long']);
  });
});
