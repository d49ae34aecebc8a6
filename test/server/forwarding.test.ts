import { describe, expect, it } from 'vitest';
import { TrustedProxies, requestId, unmapIPv4 } from '../../src/server/forwarding.js';

describe('trusted proxies', () => {
  const trusted = new TrustedProxies(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);

  it('ignores X-Forwarded-For from an untrusted peer (spoofing)', () => {
    expect(trusted.clientIp('198.51.100.7', '1.2.3.4')).toBe('198.51.100.7');
  });

  it('takes the rightmost untrusted hop from a trusted peer', () => {
    expect(trusted.clientIp('10.0.0.5', '1.2.3.4, 203.0.113.9, 10.9.9.9')).toBe('203.0.113.9');
    expect(trusted.clientIp('::ffff:10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
    expect(trusted.clientIp('2001:db8::1', '2001:db9::7')).toBe('2001:db9::7');
  });

  it('stops believing the chain at a garbled hop', () => {
    expect(trusted.clientIp('10.0.0.5', '1.2.3.4, not-an-ip')).toBe('10.0.0.5');
  });

  it('propagates X-Request-Id only from trusted peers and only when well-formed', () => {
    expect(requestId('edge-123', true)).toBe('edge-123');
    expect(requestId('edge-123', false)).not.toBe('edge-123');
    expect(requestId('bad id\r\nx: y', true)).not.toContain('bad');
    expect(unmapIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });

  it('rejects invalid entries at config load', () => {
    expect(() => new TrustedProxies(['not-an-ip/8'])).toThrow(/trustedProxies/);
  });
});
