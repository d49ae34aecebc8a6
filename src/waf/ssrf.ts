/**
 * Server-side request forgery: URLs whose host is the gateway's own network: loopback, private and
 * link-local ranges, cloud metadata endpoints, and names the operator declares internal. Hosts are
 * parsed with the WHATWG URL parser, which is what Node applications use to fetch: it canonicalises
 * decimal (`2130706433`), hex (`0x7f.1`), octal (`0177.0.0.1`) and short (`127.1`) IPv4 forms, and
 * IPv6-mapped addresses are unwrapped here.
 */
import { isIP } from 'node:net';
import type { Report } from './rules.js';
import { siteWords, sitesIn } from './sites.js';

const URL_START = /\b([a-z][a-z0-9+._-]{1,15}):\/\/|(?:^|[\s'"=(])\/\/(?=[\w[])|\b(https?|ftp|wss?):(?=[\w[])/g;
/** The schemes URL_START takes without `//`. */
const BARE_SCHEMES = siteWords('scheme', ['http', 'https', 'ftp', 'ws', 'wss']);
const DANGEROUS_SCHEMES = new Set(['local_file', 'gopher', 'dict', 'ldap', 'ldaps', 'tftp', 'jar', 'netdoc', 'sftp', 'rmi', 'iiop', 'dns', 'nis', 'nds', 'corba']);
const METADATA_HOSTS = new Set(['localhost4', 'localhost6', 'localhost.localdomain', 'localhost4.localdomain4', 'localhost6.localdomain6', 'ip6-localhost', 'ip6-loopback', 'metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal', 'metadata.packet.net', 'metadata.azure.com', 'metadata.tencentyun.com', 'kubernetes.default', 'kubernetes.default.svc']);

/** Parses dotted IPv4 into a number, or undefined. */
function ipv4(host: string): number | undefined {
  const parts = host.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function internalV4(n: number): boolean {
  const a = Math.floor(n / 16_777_216);
  const b = Math.floor(n / 65_536) % 256;
  return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b < 128) || (a === 198 && (b === 18 || b === 19)) || a >= 224;
}

function internalV6(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === '::1' || h === '::' || h.startsWith('fe80:') || h.startsWith('fc') || h.startsWith('fd')) return true;
  // IPv4-mapped/compatible: ::ffff:127.0.0.1 or ::ffff:7f00:1 (leading groups all zero, then optional ffff).
  const parts = h.split(':');
  const last = parts[parts.length - 1]!;
  const tailGroups = last.includes('.') ? 1 : 2;
  const head = parts.slice(0, parts.length - tailGroups);
  if (head.length > 0 && head.every((g, i) => /^0{0,4}$/.test(g) || (i === head.length - 1 && g === 'ffff'))) {
    const v4 = last.includes('.') ? ipv4(last) : parseInt(parts[parts.length - 2]! || '0', 16) * 65_536 + parseInt(last || '0', 16);
    return v4 !== undefined && !Number.isNaN(v4) && internalV4(v4);
  }
  return false;
}

/**
 * True when `hostname` (from a WHATWG URL) is loopback, private, link-local, metadata or internal.
 *
 * @example
 *   isInternalHost('127.0.0.1', []) // true
 */
export function isInternalHost(hostname: string, internalNames: readonly string[]): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost') || METADATA_HOSTS.has(h) || h === '0') return true;
  for (const name of internalNames) if (h === name || (name.startsWith('.') && h.endsWith(name))) return true;
  const bare = h.replace(/^\[|\]$/g, '');
  const kind = isIP(bare);
  if (kind === 4) return internalV4(ipv4(bare)!);
  if (kind === 6) return internalV6(bare);
  return false;
}

/**
 * Reports SSRF rules for one normalised, lower-cased value.
 *
 * @example
 *   detectSsrf('http://169.254.169.254/latest/meta-data/', [], report) // ssrf-internal-target
 */
export function detectSsrf(lower: string, internalNames: readonly string[], report: Report): void {
  // URL_START needs `//`, or one of its bare schemes before a `:`.
  if (!lower.includes('//') && !(lower.includes(':') && sitesIn(lower, BARE_SCHEMES))) return;
  for (const m of lower.matchAll(URL_START)) {
    const scheme = m[1] ?? m[2] ?? 'http';
    if (DANGEROUS_SCHEMES.has(scheme)) report('ssrf-dangerous-scheme');
    const start = m.index + m[0].length;
    const rest = lower.slice(start, start + 300).split(/[\s"'<>`]/, 1)[0]!;
    // Every `@`-separated piece of the authority is a candidate host: URL parsers disagree on which
    // `@` ends the user info (`http://a@127.0.0.1:80@evil.example/`), and the fetching one decides.
    const authority = rest.split(/[/?#\\]/, 1)[0]!;
    const pieces = authority.split('@');
    for (let p = 0; p < pieces.length; p++) {
      let host: string;
      try {
        // Reparse under http: so non-special schemes (gopher:, dict:) get the same host canonicalisation.
        host = new URL(`http://${pieces[p]}`).hostname;
      } catch {
        continue;
      }
      if (isInternalHost(host, internalNames)) report('ssrf-internal-target');
      else if (p === pieces.length - 1 && isIP(host.replace(/^\[|\]$/g, '')) !== 0) report('ssrf-ip-url');
    }
  }
}
