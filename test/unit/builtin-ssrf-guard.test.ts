import { describe, expect, it } from 'vitest';
import { addressRefusal, checkWebhookUrl, guardedLookup, SsrfRefusedError } from '../../src/tasks/builtin/ssrf-guard.ts';

// Pure checks: no connection is made to any address in this file.
describe('addressRefusal', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['10.0.0.1', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['169.254.169.254', /metadata/],
    ['169.254.1.1', /link-local/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.1', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fd00::1', /unique local/],
    ['fc00::1', /unique local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /carries 127\.0\.0\.1, which is a loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:169.254.169.254', /metadata/],
    ['::ffff:0:10.0.0.1', /private/],
    ['64:ff9b::10.0.0.1', /private/],
    ['64:ff9b:1::a00:1', /local-use NAT64/],
    ['2002:a00:1::', /6to4/],
    ['2001:0:4136:e378::1', /Teredo/],
    // ipaddr.js reads this deprecated IPv4-compatible spelling as IPv4-mapped; refused either way.
    ['::127.0.0.1', /loopback/],
    ['::7f00:1', /2000::\/3/],
    ['2001:db8::1', /reserved/],
    ['not-an-ip', /not an IP/],
  ])('refuses %s', (address, reason) => {
    expect(addressRefusal(address)).toMatch(reason);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])(
    'lets the public address %s through',
    (address) => {
      expect(addressRefusal(address)).toBeNull();
    },
  );
});

describe('checkWebhookUrl', () => {
  it('reads every IPv4 spelling the way the request would (WHATWG URL), so none slips through', () => {
    for (const host of ['127.0.0.1', '127.1', '0177.0.0.1', '017700000001', '2130706433', '0x7f000001', '0x7f.1', '0X7F.0.0.1', '127.0.0.1.', '%31%32%37.0.0.1']) {
      expect(() => checkWebhookUrl(`http://${host}/`, []), host).toThrow(SsrfRefusedError);
    }
  });

  it('refuses schemes other than http(s), userinfo and non-web ports below 1024', () => {
    expect(() => checkWebhookUrl('ftp://example.com/', [])).toThrow(/scheme ftp:/);
    expect(() => checkWebhookUrl('file:///etc/passwd', [])).toThrow(/scheme file:/);
    expect(() => checkWebhookUrl('http://a:b@example.com/', [])).toThrow(/credentials/);
    expect(() => checkWebhookUrl('http://example.com@127.0.0.1/', [])).toThrow(SsrfRefusedError);
    expect(() => checkWebhookUrl('http://example.com:6379/', [])).not.toThrow();
    expect(() => checkWebhookUrl('http://example.com:22/', [])).toThrow(/port 22/);
    expect(() => checkWebhookUrl('not a url', [])).toThrow(/cannot be parsed/);
  });

  it('admits allowlisted hosts by name, wildcard or address', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/', ['127.0.0.1']).trusted).toBe(true);
    expect(checkWebhookUrl('http://2130706433/', ['127.0.0.1']).trusted).toBe(true);
    expect(checkWebhookUrl('http://[::1]:9/', ['::1']).trusted).toBe(true);
    expect(checkWebhookUrl('http://Hooks.Internal/', ['hooks.internal']).trusted).toBe(true);
    expect(checkWebhookUrl('http://a.svc.internal/', ['*.svc.internal']).trusted).toBe(true);
    expect(checkWebhookUrl('http://example.com/', ['hooks.internal']).trusted).toBe(false);
    expect(() => checkWebhookUrl('http://evilsvc.internal.attacker.example/', ['*.svc.internal'])).not.toThrow();
    expect(checkWebhookUrl('http://evilsvc.internal.attacker.example/', ['*.svc.internal']).trusted).toBe(false);
    expect(() => checkWebhookUrl('http://10.0.0.5/', ['10.0.0.6'])).toThrow(/private/);
  });
});

describe('guardedLookup (what the request calls at connect time)', () => {
  const lookup = (host: string, all: boolean) =>
    new Promise<unknown>((resolve, reject) => guardedLookup(host, { all }, (error, address) => (error ? reject(error) : resolve(address))));

  it('refuses a name that resolves to a loopback address', async () => {
    await expect(lookup('localhost', true)).rejects.toBeInstanceOf(SsrfRefusedError);
    await expect(lookup('localhost', false)).rejects.toThrow(/localhost resolves to .*loopback/);
    await expect(lookup('localhost.', false)).rejects.toBeInstanceOf(SsrfRefusedError);
  });
});
