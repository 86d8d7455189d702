import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { CLIENT_TYPES_FILE, clientTypesSource } from '../../scripts/generate-client.ts';

test('the committed HTTP client types match the API (else run `npm run generate:client` and commit the result)', async () => {
  const committed = readFileSync(CLIENT_TYPES_FILE, 'utf8');
  const fresh = await clientTypesSource();
  // Compared line by line so that a failure shows what changed rather than two 4,000-line strings.
  expect(committed.split('\n')).toEqual(fresh.split('\n'));
});
