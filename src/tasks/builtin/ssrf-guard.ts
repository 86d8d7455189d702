import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The webhook handler's guard against server-side request forgery: a task's URL must not reach the
 * machine itself, the private network or a cloud metadata service. Only public unicast addresses pass.
 *
 * Two checks, because Node has two paths to an address:
 * - a host name is resolved by `guardedLookup`, which the HTTP request uses at connect time; the
 *   addresses it checks are the ones connected to, so a name that resolves differently the second
 *   time (DNS rebinding) gains nothing;
 * - an IP literal is never looked up (Node connects to it directly), so `checkWebhookUrl` classifies
 *   it itself. The WHATWG URL parser has already turned `0177.0.0.1`, `2130706433`, `0x7f000001` and
 *   `127.1` into `127.0.0.1`, and that canonical form is what both the check and the request use.
 *
 * An explicit allowlist (`allowHosts`) admits trusted internal hosts by name or address.
 */

/** The request was refused before any connection was made; retrying cannot help. */
export class SsrfRefusedError extends Error {
  readonly code = 'ERR_SSRF_REFUSED';

  constructor(message: string) {
    super(message);
    this.name = 'SsrfRefusedError';
  }
}

export interface WebhookTarget {
  url: URL;
  /** Without IPv6 brackets, lower case. */
  hostname: string;
  /** On the allowlist: connect without the address checks. */
  trusted: boolean;
}

const ALLOWED_PROTOCOLS = new Set(['http:', 'https:']);
/** Below 1024 only the web's own ports: the rest (SSH, SMTP, Redis on a public host...) are not webhooks. */
const WEB_PORTS = new Set([80, 443]);

/** Parses and checks a URL before any connection; throws SsrfRefusedError with the reason. */
export function checkWebhookUrl(raw: string, allowHosts: readonly string[]): WebhookTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SsrfRefusedError('the URL cannot be parsed');
  }
  if (!ALLOWED_PROTOCOLS.has(url.protocol)) throw new SsrfRefusedError(`the scheme ${url.protocol} is not allowed; use http or https`);
  if (url.username !== '' || url.password !== '') throw new SsrfRefusedError('credentials in the URL (user:password@) are not allowed; send them as a header');
  const hostname = bareHost(url.hostname);
  if (hostname === '') throw new SsrfRefusedError('the URL has no host');
  const trusted = isAllowedHost(hostname, allowHosts);
  if (!trusted) {
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    if (port < 1024 && !WEB_PORTS.has(port)) throw new SsrfRefusedError(`port ${port} is not allowed; use 80, 443 or a port from 1024`);
    // Node connects to an IP literal without calling the lookup, so literals are checked here.
    if (isIP(hostname) !== 0 || ipaddr.isValid(hostname)) {
      const reason = addressRefusal(hostname);
      if (reason !== null) throw new SsrfRefusedError(`${hostname} ${reason}`);
    }
  }
  return { url, hostname, trusted };
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A drop-in for `dns.lookup` on an HTTP request: resolves the name, then refuses the connection if any
 * address it resolved to is not public (a name that mixes public and private answers is refused too).
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  // `localhost.` is `localhost`: resolve the name without its root dot so the hosts file answers for both.
  dnsLookup(stripDot(hostname), { family: options.family ?? 0, hints: options.hints ?? 0, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    for (const { address } of addresses) {
      const reason = addressRefusal(address);
      if (reason !== null) return callback(new SsrfRefusedError(`${hostname} resolves to ${address}, which ${reason}`), '');
    }
    if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), '');
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}

/**
 * Why an address must not be contacted ("is a loopback address"), or null for a public unicast one.
 * IPv4 addresses must fall in ipaddr.js's `unicast` range (not loopback, private, link-local incl.
 * 169.254.169.254, CGNAT, 0/8, multicast, broadcast, reserved or documentation ranges). IPv6 addresses
 * must be global unicast (2000::/3, which leaves out ::1, ::, fc00::/7, fe80::/10, ff00::/8 and the
 * deprecated IPv4-compatible ::a.b.c.d) and not in a special range; forms that carry an IPv4 address
 * (IPv4-mapped ::ffff:a.b.c.d, SIIT, NAT64 64:ff9b::/96) are judged by the IPv4 address they carry;
 * 6to4, Teredo and local-use NAT64 are refused outright.
 */
export function addressRefusal(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'is not an IP address';
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv4') return ipv4Refusal(ip as ipaddr.IPv4);
  const v6 = ip as ipaddr.IPv6;
  const range = v6.range();
  const parts = v6.parts;
  switch (range) {
    case 'ipv4Mapped':
    case 'rfc6145':
    case 'rfc6052': {
      // RFC 6052's /96 well-known prefix carries the IPv4 address in its last 32 bits, as the mapped forms do.
      if (range === 'rfc6052' && parts[2] !== 0) return 'is a local-use NAT64 address (64:ff9b:1::/48)';
      const embedded = ipaddr.IPv4.parse(`${parts[6]! >> 8}.${parts[6]! & 0xff}.${parts[7]! >> 8}.${parts[7]! & 0xff}`);
      const inner = ipv4Refusal(embedded);
      return inner === null ? null : `carries ${embedded.toString()}, which ${inner}`;
    }
    case 'unicast':
      // ipaddr.js calls anything it has no name for "unicast"; only 2000::/3 is actually assigned for it.
      return (parts[0]! & 0xe000) === 0x2000 ? null : 'is outside the global unicast range 2000::/3';
    default:
      return `is ${describe(range)}`;
  }
}

function ipv4Refusal(ip: ipaddr.IPv4): string | null {
  const range = ip.range();
  if (range === 'unicast') return null;
  if (ip.toString() === '169.254.169.254') return 'is the cloud metadata address';
  return `is ${describe(range)}`;
}

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'an unspecified address (0.0.0.0/8 or ::)',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  private: 'a private address (RFC 1918)',
  reserved: 'a reserved address',
  uniqueLocal: 'a unique local IPv6 address (fc00::/7)',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
};

function describe(range: string): string {
  return RANGE_NAMES[range] ?? `a special-purpose address (${range})`;
}

function bareHost(hostname: string): string {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return host.toLowerCase();
}

/** Entries are host names (`hooks.internal`), `*.suffix` wildcards or addresses (`10.0.0.5`, `::1`). */
function isAllowedHost(hostname: string, allowHosts: readonly string[]): boolean {
  const host = stripDot(hostname);
  const address = ipaddr.isValid(host) ? ipaddr.parse(host).toNormalizedString() : null;
  for (const raw of allowHosts) {
    const entry = stripDot(bareHost(raw.trim()));
    if (entry === '') continue;
    if (entry.startsWith('*.')) {
      if (address === null && host.endsWith(entry.slice(1))) return true;
    } else if (address !== null && ipaddr.isValid(entry)) {
      if (ipaddr.parse(entry).toNormalizedString() === address) return true;
    } else if (entry === host) {
      return true;
    }
  }
  return false;
}

function stripDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
