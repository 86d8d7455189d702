import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookSecretKey } from '../../src/tasks/builtin/webhook-signature.ts';

// The test vector published with the Standard Webhooks reference libraries (and svix's).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const headers = (signature: string, timestamp = String(VECTOR.timestamp), id = VECTOR.id) => ({ id, timestamp, signature });

describe('Standard Webhooks signatures', () => {
  it('reproduces the reference vector exactly', () => {
    expect(signWebhook(webhookSecretKey(VECTOR.secret), VECTOR)).toBe(VECTOR.signature);
  });

  it('verifies as the reference libraries do: valid, tampered, wrong secret, stale, rotation', () => {
    const base = { secret: VECTOR.secret, body: VECTOR.body, nowSeconds: VECTOR.timestamp };
    expect(verifyWebhook({ ...base, headers: headers(VECTOR.signature) })).toEqual({ ok: true });
    expect(verifyWebhook({ ...base, body: '{"test": 2432232315}', headers: headers(VECTOR.signature) })).toEqual({ ok: false, reason: 'no_matching_signature' });
    expect(verifyWebhook({ ...base, headers: headers(VECTOR.signature, String(VECTOR.timestamp), 'msg_other') })).toMatchObject({ ok: false });
    expect(verifyWebhook({ ...base, secret: 'whsec_dGhpcyBpcyBub3QgdGhlIHNlY3JldA==', headers: headers(VECTOR.signature) })).toMatchObject({ ok: false });
    expect(verifyWebhook({ ...base, nowSeconds: VECTOR.timestamp + 301, headers: headers(VECTOR.signature) })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifyWebhook({ ...base, nowSeconds: VECTOR.timestamp - 301, headers: headers(VECTOR.signature) })).toEqual({ ok: false, reason: 'stale_timestamp' });
    // During a rotation the sender puts several signatures, space-separated; one valid is enough.
    expect(verifyWebhook({ ...base, headers: headers(`v1,bm9wZQ== v1a,whatever ${VECTOR.signature}`) })).toEqual({ ok: true });
    expect(verifyWebhook({ ...base, headers: headers('v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=') })).toMatchObject({ ok: false });
    expect(verifyWebhook({ ...base, headers: headers(VECTOR.signature, 'soon') })).toEqual({ ok: false, reason: 'bad_headers' });
  });

  it('uses a secret without the whsec_ prefix as its bytes, and refuses a whsec_ secret that is not base64', () => {
    expect(webhookSecretKey('plain secret')).toEqual(Buffer.from('plain secret'));
    expect(webhookSecretKey('whsec_AAEC')).toEqual(Buffer.from([0, 1, 2]));
    expect(() => webhookSecretKey('whsec_not base64!')).toThrow(/base64/);
  });
});
