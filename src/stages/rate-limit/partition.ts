/**
 * Who a limit counts: the partition key segments for each scope. User-controlled values (consumer
 * names, key ids) are percent-encoded so they cannot forge another partition's key.
 */
import { isIPv6 } from 'node:net';
import type { RequestContext } from '../../core/context.js';
import { unmapIPv4 } from '../../server/forwarding.js';

export const SCOPES = ['ip', 'consumer', 'key', 'route', 'global'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * The client address as a limit sees it: IPv4 as is, IPv6 cut to its first `ipv6Prefix` bits,
 * because one client commonly holds a whole /64 and could otherwise rotate addresses at will.
 *
 * @example
 *   clientNetwork('2001:db8:1:2:3:4:5:6', 64) // '2001:db8:1:2::/64'
 */
export function clientNetwork(ip: string, ipv6Prefix: number): string {
  if (!ip.includes(':')) return ip; // IPv4: as is
  const plain = unmapIPv4(ip);
  if (!isIPv6(plain) || ipv6Prefix >= 128) return plain;
  const groups = expandIPv6(plain);
  const full = Math.floor(ipv6Prefix / 16);
  const out = groups.slice(0, full);
  const rest = ipv6Prefix % 16;
  if (rest > 0) out.push(groups[full]! & (0xffff << (16 - rest)) & 0xffff);
  return `${out.map((g) => g.toString(16)).join(':')}::/${ipv6Prefix}`;
}

function expandIPv6(ip: string): number[] {
  const zone = ip.indexOf('%');
  const addr = zone === -1 ? ip : ip.slice(0, zone);
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The partition of `ctx` under `scopes`, as `:`-joined segments. Consumer and key scopes fall
 * back to the client network for anonymous requests (prefixed with `@`, which encoding never
 * produces), so an unauthenticated route is limited per client instead of not at all.
 */
export function partition(ctx: RequestContext, scopes: readonly Scope[], ipv6Prefix: number): string {
  let out = '';
  for (const scope of scopes) {
    let part: string;
    if (scope === 'ip') part = clientNetwork(ctx.clientIp, ipv6Prefix);
    else if (scope === 'consumer') part = ctx.identity === undefined ? `@${clientNetwork(ctx.clientIp, ipv6Prefix)}` : encodeURIComponent(ctx.identity.consumer);
    else if (scope === 'key') {
      const id = ctx.identity?.credentialId;
      part = id === undefined ? `@${clientNetwork(ctx.clientIp, ipv6Prefix)}` : encodeURIComponent(id);
    } else if (scope === 'route') part = ctx.route?.id ?? '-';
    else part = '*';
    out = out === '' ? part : `${out}:${part}`;
  }
  return out;
}
