import { describe, expect, it } from 'vitest';
import { DEFAULT_API_CONFIG } from '../../src/api/api-config.ts';
import { PasswordHasher } from '../../src/auth/password-hasher.ts';

describe('password hashing with the production defaults', () => {
  // Test servers hash with cheap parameters (test/helpers/http-harness.ts); this is what users get.
  const hasher = new PasswordHasher(DEFAULT_API_CONFIG.auth.argon2);

  it('stores argon2id at OWASP\'s minimum cost (19 MiB, 2 passes, 1 lane) and checks the password', async () => {
    const stored = await hasher.hash('Correct-Horse-42');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(stored, 'Correct-Horse-42')).toBe(true);
    expect(await hasher.verify(stored, 'Correct-Horse-43')).toBe(false);
  });

  it('asks for a rehash of a hash made with weaker parameters, such as a test server\'s', async () => {
    const weak = await new PasswordHasher({ memoryKiB: 64, timeCost: 1, parallelism: 1 }).hash('Correct-Horse-42');
    expect(hasher.needsRehash(weak)).toBe(true);
    expect(hasher.needsRehash(await hasher.hash('Correct-Horse-42'))).toBe(false);
  });
});
