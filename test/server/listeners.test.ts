import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:tls';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { startGateway, TEST_LISTENERS, call, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { rawRequest, statusOf } from '../helpers/raw.js';

let upstream: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(`${TEST_LISTENERS}
upstreams: { up: { url: ${upstream.url} } }
routes: [{ id: api, path: /api/**, upstream: up }]
`);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

function handshake(port: number, options: { minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; ciphers?: string }): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    socket.once('secureConnect', () => {
      const v = socket.getProtocol() ?? 'unknown';
      socket.destroy();
      resolve(v);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(`refused:${err.code ?? err.message}`));
  });
}

describe('HTTPS listener', () => {
  it('speaks TLS 1.3 and 1.2, and refuses 1.0 and 1.1', async () => {
    const port = gw.gateway.ports.https!;
    expect(await handshake(port, {})).toBe('TLSv1.3');
    expect(await handshake(port, { maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
    expect(await handshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).toMatch(/^refused:/);
    expect(await handshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' })).toMatch(/^refused:/);
  });

  it('refuses weak TLS 1.2 ciphers (CBC, static RSA)', async () => {
    const port = gw.gateway.ports.https!;
    expect(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA256:ECDHE-RSA-AES128-SHA' })).toMatch(/^refused:/);
  });

  it('generated a development certificate for localhost under .rampart/tls/', () => {
    const cert = new X509Certificate(readFileSync(join(gw.dir, '.rampart/tls/dev-cert.pem')));
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
  });
});

describe('HTTP listener', () => {
  it('answers 308 to the HTTPS URL, keeping path and query', async () => {
    const res = await call(`${gw.http}/api/x?y=1`);
    expect(res.status).toBe(308);
    expect(res.headers['location']).toBe(`https://127.0.0.1:${gw.gateway.ports.https}/api/x?y=1`);
    expect(upstream.received.some((r) => r.url.startsWith('/api/x'))).toBe(false);
  });

  it('does not let the Host header inject a redirect target', async () => {
    const raw = await rawRequest(gw.http, 'GET /p HTTP/1.1\r\nHost: evil.example/phish?\r\nConnection: close\r\n\r\n');
    expect(statusOf(raw)).toBe(308);
    expect(raw).toMatch(/location: https:\/\/localhost:\d+\/p/i);
  });

  it('serves health without redirect', async () => {
    const res = await call(`${gw.http}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe('certificate reload', () => {
  it('serves a replaced certificate without a restart', async () => {
    const make = async (cn: string): Promise<{ cert: string; key: string }> => {
      const pems = await generate([{ name: 'commonName', value: cn }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
      return { cert: pems.cert, key: pems.private };
    };
    const dir = gw.dir;
    const first = await make('first.test');
    writeFileSync(join(dir, 'c.pem'), first.cert);
    writeFileSync(join(dir, 'k.pem'), first.key);
    const own = await startGateway(
      `${TEST_LISTENERS.replace('https: { port: 0, host: 127.0.0.1 }', 'https: { port: 0, host: 127.0.0.1, cert: c.pem, key: k.pem }')}
upstreams: { up: { url: ${upstream.url} } }
routes: [{ id: api, path: /api/**, upstream: up }]
`,
      { dir },
    );
    const subject = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: own.gateway.ports.https!, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().subject.CN as string);
          s.destroy();
        });
        s.on('error', reject);
      });
    try {
      expect(await subject()).toBe('first.test');
      const second = await make('second.test');
      writeFileSync(join(dir, 'k2.pem'), second.key);
      writeFileSync(join(dir, 'c2.pem'), second.cert);
      copyFileSync(join(dir, 'k2.pem'), join(dir, 'k.pem'));
      copyFileSync(join(dir, 'c2.pem'), join(dir, 'c.pem'));
      await expect.poll(subject, { timeout: 8000, interval: 250 }).toBe('second.test');
    } finally {
      await own.stop();
    }
  });
});
