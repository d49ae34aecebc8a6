/**
 * Who is the client, and what the upstream is told about it. Forwarding headers from the client are
 * believed only when the TCP peer is a configured trusted proxy; otherwise they are replaced.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { randomUUID } from 'node:crypto';

/** Parsed trusted-proxy list (`net.BlockList`: exact, fast CIDR matching for v4 and v6). */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    this.empty = cidrs.length === 0;
    for (const entry of cidrs) {
      const [addr, bits] = entry.split('/');
      const type = isIPv6(addr!) ? 'ipv6' : 'ipv4';
      if (!isIPv4(addr!) && !isIPv6(addr!)) throw new Error(`trustedProxies: ${entry} is not an IP address or CIDR`);
      if (bits === undefined) this.list.addAddress(addr!, type);
      else this.list.addSubnet(addr!, Number(bits), type);
    }
  }

  has(ip: string): boolean {
    if (this.empty) return false;
    const plain = unmapIPv4(ip);
    return this.list.check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4');
  }

  /**
   * The client address: walking X-Forwarded-For from the right, the first hop that is not a trusted
   * proxy. Only consulted when the peer itself is trusted.
   */
  clientIp(peerIp: string, xff: string | undefined): string {
    const peer = unmapIPv4(peerIp);
    if (xff === undefined || !this.has(peer)) return peer;
    const hops = xff.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (!isIPv4(hop) && !isIPv6(hop)) return peer; // a garbled chain is not believed past this point
      if (!this.has(hop)) return hop;
    }
    return hops[0]!.trim();
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1` */
export function unmapIPv4(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Propagates a trusted, well-formed X-Request-Id; otherwise makes a new one. */
export function requestId(incoming: string | undefined, peerTrusted: boolean): string {
  if (peerTrusted && incoming !== undefined && REQUEST_ID.test(incoming)) return incoming;
  return randomUUID();
}

/** RFC 7239 node value: IPv6 in brackets and quoted. */
export function forwardedNode(ip: string): string {
  return isIPv6(ip) ? `"[${ip}]"` : ip;
}
