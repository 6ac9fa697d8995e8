import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may be sent: the SSRF rules, checked when an endpoint is registered (a refused URL
 * is a 400 naming the rule) and again by the sender before every attempt, on the addresses it resolved
 * itself and then connects to (adapters/webhooks/http.ts pins them: no second lookup).
 *
 * Everywhere: an absolute http(s) URL without credentials, and never a link-local address
 * (169.254.0.0/16 holds the cloud metadata service; fe80::/10). In the cloud: https only, and only
 * public unicast addresses: loopback, private, CGNAT, multicast, unspecified and other special-purpose
 * ranges are refused, IPv6 included (IPv4-mapped addresses are judged as the IPv4 address they map).
 * The local runtime (`allowLoopbackHttp`) also takes http:// and https:// to loopback, which is how a
 * developer points a webhook at a receiver on their laptop; nothing else private.
 */
export interface UrlPolicy {
  allowLoopbackHttp: boolean;
}

export type UrlRule =
  | 'url'
  | 'scheme'
  | 'credentials'
  | 'resolve'
  | 'link-local'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'special-purpose';

export interface UrlRefusal {
  rule: UrlRule;
  message: string;
}

const RANGES: Array<[Exclude<UrlRule, 'url' | 'scheme' | 'credentials' | 'resolve'>, string, string[]]> = [
  ['link-local', 'link-local addresses (169.254.0.0/16, fe80::/10)', ['169.254.0.0/16', 'fe80::/10']],
  ['loopback', 'loopback addresses (127.0.0.0/8, ::1)', ['127.0.0.0/8', '::1/128']],
  [
    'private',
    'private addresses (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7)',
    ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  ],
  ['cgnat', 'carrier-grade NAT addresses (100.64.0.0/10)', ['100.64.0.0/10']],
  ['multicast', 'multicast addresses (224.0.0.0/4, ff00::/8)', ['224.0.0.0/4', 'ff00::/8']],
  ['unspecified', 'unspecified addresses (0.0.0.0/8, ::)', ['0.0.0.0/8', '::/128']],
  [
    'special-purpose',
    'special-purpose addresses (reserved, broadcast, documentation, benchmarking, IETF protocol, NAT64, 6to4, Teredo, discard)',
    [
      '240.0.0.0/4',
      '192.0.0.0/24',
      '192.0.2.0/24',
      '198.18.0.0/15',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '2001:db8::/32',
      '64:ff9b::/96',
      '64:ff9b:1::/48',
      '2002::/16',
      '2001::/32',
      '100::/64',
      '::/96',
    ],
  ],
];

const LISTS = RANGES.map(([rule, description, cidrs]) => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/') as [string, string];
    list.addSubnet(network, Number(prefix), network.includes(':') ? 'ipv6' : 'ipv4');
  }
  return { rule, description, list };
});

/**
 * `::ffff:a.b.c.d`, however written, is the IPv4 address it maps; everything else is itself. The URL
 * parser canonicalises IPv6 (`::ffff:127.0.0.1` -> `::ffff:7f00:1`), so one pattern covers every spelling.
 */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  if (isIP(address) !== 6) return { address, family: 'ipv4' };
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return { address: canonical, family: 'ipv6' };
  const high = Number.parseInt(mapped[1]!, 16);
  const low = Number.parseInt(mapped[2]!, 16);
  return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 'ipv4' };
}

/** The first rule an address breaks under `policy`, or null when a webhook may be sent to it. */
export function refuseAddress(address: string, policy: UrlPolicy): UrlRefusal | null {
  if (isIP(address) === 0) return { rule: 'url', message: `${address} is not an IP address` };
  const ip = unmapped(address);
  for (const { rule, description, list } of LISTS) {
    if (!list.check(ip.address, ip.family)) continue;
    if (rule === 'loopback' && policy.allowLoopbackHttp) return null;
    const where = rule === 'link-local' ? 'webhooks may never reach' : 'webhooks may not reach';
    return { rule, message: `${address} is in ${description}, which ${where}` };
  }
  return null;
}

export interface ParsedWebhookUrl {
  url: URL;
  /** The host name (brackets removed from an IPv6 literal). */
  host: string;
  /** Set when the host is an IP literal: no lookup needed. */
  literal: boolean;
}

/** What can be judged from the URL alone; addresses follow with `refuseAddresses`. */
export function parseWebhookUrl(
  raw: string,
  policy: UrlPolicy,
): { ok: true; value: ParsedWebhookUrl } | { ok: false; refusal: UrlRefusal } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, refusal: { rule: 'url', message: 'not an absolute URL' } };
  }
  if (url.username || url.password) {
    return { ok: false, refusal: { rule: 'credentials', message: 'webhook URLs may not carry credentials' } };
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) return { ok: false, refusal: { rule: 'url', message: 'the URL has no host' } };
  const literal = isIP(host) !== 0;
  // An address that is refused anyway is named before the scheme is, whatever the scheme.
  const addressRefusal = literal ? refuseAddress(host, policy) : null;
  if (addressRefusal) return { ok: false, refusal: addressRefusal };
  const https = url.protocol === 'https:';
  if (!https && !(url.protocol === 'http:' && policy.allowLoopbackHttp)) {
    return {
      ok: false,
      refusal: {
        rule: 'scheme',
        message: policy.allowLoopbackHttp
          ? 'webhook URLs must use https (http only to a loopback address, locally)'
          : 'webhook URLs must use https',
      },
    };
  }
  if (literal) {
    const refusal = refuseAddresses(url, [host], policy);
    if (refusal) return { ok: false, refusal };
  }
  return { ok: true, value: { url, host, literal } };
}

/**
 * Every address the host resolved to must be allowed (a name with one private address among public ones
 * is refused: the sender could otherwise be steered to it), and plain http needs all of them on loopback.
 */
export function refuseAddresses(url: URL, addresses: string[], policy: UrlPolicy): UrlRefusal | null {
  if (addresses.length === 0) return { rule: 'resolve', message: `${url.hostname} does not resolve` };
  for (const address of addresses) {
    const refusal = refuseAddress(address, policy);
    if (refusal) return refusal;
  }
  if (url.protocol === 'http:') {
    const loopbackOnly = { allowLoopbackHttp: false };
    const notLoopback = addresses.find(
      (address) => refuseAddress(address, loopbackOnly)?.rule !== 'loopback',
    );
    if (notLoopback) {
      return {
        rule: 'scheme',
        message: `http:// is allowed to loopback addresses only; ${notLoopback} is not one: use https`,
      };
    }
  }
  return null;
}
