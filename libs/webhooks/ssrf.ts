/**
 * SSRF protection for callback URLs: https only, no credentials, and no target inside the
 * gateway's own network (loopback, private, link-local, cloud metadata, reserved), unless the host
 * is allowlisted for local development. Checked at submission and again at delivery, where
 * guardedLookup vets the very address the socket connects to (so DNS rebinding cannot slip by).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { GatewayError } from '../errors/index.ts';
import { embeddedIPv4, formatIPv6, parseIPv6 } from './ipv6.ts';

/** Resolves a host name to every address it has. */
export type Resolver = (host: string) => Promise<string[]>;

/** Options of checkCallbackUrl. */
export interface CallbackCheckOptions {
  /** Lower-case hosts exempt from the https and address rules (GATEWAY_CALLBACK_ALLOWLIST plus the client's own). */
  allowlist: readonly string[];
  /** Default: dns.lookup with `all: true`, the resolver the HTTP client itself uses. */
  resolve?: Resolver;
}

/** A callback URL that passed the checks that need no DNS. */
export interface ParsedCallbackUrl {
  url: URL;
  /** The host without IPv6 brackets or a trailing dot, lower-case. */
  host: string;
  allowlisted: boolean;
}

/** Longest callback URL accepted, in characters. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

// Host names that reach cloud metadata services without an IP in sight.
const FORBIDDEN_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 reaches the local host
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, includes the 169.254.169.254 metadata service
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible block
  ['64:ff9b:1::', 48], // local-use NAT64: where its IPv4 sits depends on the operator's prefix length
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments
  ['2001::', 32], // Teredo (inside 2001::/23 too): a relay would forward to its embedded client address
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local, includes fd00:ec2::254 (AWS metadata over IPv6)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
] as const) blocked.addSubnet(net, bits, 'ipv6');

/**
 * True when a connection to this IP address must not be made for a client. An IPv6 address is
 * decoded to its bytes and refused when it is in a forbidden IPv6 block or embeds a forbidden IPv4
 * address by any transition mechanism (IPv4-mapped, -translated, -compatible, NAT64, 6to4, Teredo,
 * ISATAP). Anything that is not an IP address answers true: the check fails closed.
 */
export function isForbiddenAddress(ip: string): boolean {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const bytes = parseIPv6(address);
  if (!bytes) return true;
  if (blocked.check(formatIPv6(bytes), 'ipv6')) return true;
  return embeddedIPv4(bytes).some((e) => blocked.check(e.ipv4, 'ipv4'));
}

/**
 * The checks that need no DNS: a parseable http(s) URL without credentials, https unless the host
 * is allowlisted, and no IP literal or well-known metadata name that isForbiddenAddress refuses.
 * Throws GatewayError 400 `callback_url_invalid`, `callback_url_insecure` or `callback_url_forbidden`.
 */
export function parseCallbackUrl(raw: string, allowlist: readonly string[]): ParsedCallbackUrl {
  const url = raw.length <= MAX_CALLBACK_URL_LENGTH ? URL.parse(raw) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
    throw refused('callback_url_invalid', `callback_url must be an absolute https URL of at most ${MAX_CALLBACK_URL_LENGTH} characters.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw refused('callback_url_invalid', 'callback_url must not carry credentials; authenticate webhooks by their signature.');
  }
  const host = normalizeHost(url.hostname);
  const allowlisted = allowlist.some((h) => normalizeHost(h) === host);
  if (url.protocol !== 'https:' && !allowlisted) {
    throw refused('callback_url_insecure', 'callback_url must use https.');
  }
  if (!allowlisted && (FORBIDDEN_NAMES.has(host) || (isIP(host) !== 0 && isForbiddenAddress(host)))) {
    throw forbidden(host);
  }
  return { url, host, allowlisted };
}

/**
 * Refuses a callback URL the gateway must not call (see parseCallbackUrl), including a host name
 * that resolves to any forbidden address. Allowlisted hosts skip the address rules.
 */
export async function checkCallbackUrl(raw: string, options: CallbackCheckOptions): Promise<void> {
  const { host, allowlisted } = parseCallbackUrl(raw, options.allowlist);
  if (allowlisted || isIP(host) !== 0) return;
  let addresses: string[];
  try {
    addresses = await (options.resolve ?? resolveAll)(host);
  } catch (cause) {
    throw refused('callback_url_invalid', `The host of callback_url (${host}) does not resolve.`, cause);
  }
  if (addresses.length === 0) throw refused('callback_url_invalid', `The host of callback_url (${host}) does not resolve.`);
  // Every address must pass: the HTTP client may pick any of them.
  if (addresses.some(isForbiddenAddress)) throw forbidden(host);
}

/** The dns.lookup shape guardedLookup calls, always with `all: true`. */
export type LookupAll = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for http.request that refuses forbidden addresses at connect time, so the address
 * checked is the address used. (Node does not call lookup for IP literals; parseCallbackUrl
 * covers those.) The error is GatewayError `callback_url_forbidden`.
 * @param lookup resolves the host; tests inject one. @defaultValue dns.lookup
 */
export function guardedLookup(lookup: LookupAll = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => isForbiddenAddress(a.address));
      if (bad || addresses.length === 0) return callback(forbidden(hostname), '', 0);
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses.map((a) => a.address)))),
  );
}

function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function refused(code: string, message: string, cause?: unknown): GatewayError {
  return new GatewayError(code, message, { status: 400, details: [{ path: 'callback_url', message }], cause });
}

function forbidden(host: string): GatewayError {
  return refused('callback_url_forbidden', `callback_url points at ${host}, a private, loopback, link-local, metadata or reserved address.`);
}
