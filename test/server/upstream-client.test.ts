import { afterEach, describe, expect, it } from 'vitest';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { generate } from 'selfsigned';
import { UpstreamError, UpstreamPool, type HeaderRecord, type UpstreamPoolOptions, type UpstreamRequest } from '../../src/server/upstream-client.js';

/** A raw TCP upstream: `onRequest` gets each connection's bytes and answers by hand. */
interface RawUpstream {
  url: URL;
  connections: Socket[];
  received: string[];
  close(): Promise<void>;
}
const servers: Server[] = [];
const pools: UpstreamPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Calls `answer(socket, requestText, n)` for each complete request head (n counts per connection). */
async function rawUpstream(answer: (socket: Socket, request: string, n: number) => void, server?: Server): Promise<RawUpstream> {
  const connections: Socket[] = [];
  const received: string[] = [];
  const srv =
    server ??
    createNetServer();
  srv.on(server === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
    connections.push(socket);
    let buf = '';
    let n = 0;
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end + 4);
        const cl = /\r\ncontent-length: (\d+)/i.exec(head);
        const len = cl === null ? 0 : Number(cl[1]);
        if (/transfer-encoding: chunked/i.test(head)) {
          const term = buf.indexOf('0\r\n\r\n', end);
          if (term < 0) return;
          received.push(buf.slice(0, term + 5));
          buf = buf.slice(term + 5);
        } else {
          if (buf.length < end + 4 + len) return;
          received.push(buf.slice(0, end + 4 + len));
          buf = buf.slice(end + 4 + len);
        }
        answer(socket, received[received.length - 1]!, n++);
      }
    });
  });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  return {
    url: new URL(`${server === undefined ? 'http' : 'https'}://127.0.0.1:${port}`),
    connections,
    received,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

const OPTIONS: UpstreamPoolOptions = { connections: 8, connectTimeoutMs: 1_000, headersTimeoutMs: 1_000, bodyTimeoutMs: 1_000, keepAliveTimeoutMs: 2_000 };
function pool(url: URL, options: Partial<UpstreamPoolOptions> = {}): UpstreamPool {
  const p = new UpstreamPool(url, { ...OPTIONS, ...options });
  pools.push(p);
  return p;
}

interface Answer {
  status: number;
  headers: HeaderRecord;
  body: string;
}
function send(p: UpstreamPool, req: Partial<UpstreamRequest> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: HeaderRecord = {};
    const chunks: Buffer[] = [];
    p.request(
      { method: 'GET', path: '/', headers: { host: 'up' }, body: null, ...req },
      {
        onHead: (s, h) => {
          status = s;
          headers = h;
        },
        onData: (c) => chunks.push(c) > 0,
        onEnd: () => resolve({ status, headers, body: Buffer.concat(chunks).toString() }),
        onError: reject,
      },
    );
  });
}
const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

describe('upstream client: framing and keep-alive', () => {
  it('reuses one keep-alive connection for sequential requests', async () => {
    const up = await rawUpstream((s, _r, n) => s.write(ok(`answer ${n}`)));
    const p = pool(up.url);
    expect((await send(p)).body).toBe('answer 0');
    expect((await send(p)).body).toBe('answer 1');
    expect(up.connections).toHaveLength(1);
    expect(up.received[0]).toMatch(/^GET \/ HTTP\/1\.1\r\nhost: up\r\n\r\n$/);
  });

  it('closes a connection left idle for the keep-alive time, and opens a new one after', async () => {
    const up = await rawUpstream((s) => s.write(ok('ok')));
    const p = pool(up.url, { keepAliveTimeoutMs: 80 });
    await send(p);
    await new Promise((r) => setTimeout(r, 40));
    expect(up.connections[0]!.readableEnded).toBe(false); // still parked
    await new Promise((r) => setTimeout(r, 100));
    expect(up.connections[0]!.readableEnded || up.connections[0]!.destroyed).toBe(true);
    await send(p);
    expect(up.connections).toHaveLength(2);
  });

  it('opens a new connection after `Connection: close` and after HTTP/1.0', async () => {
    const up = await rawUpstream((s, _r, n) => {
      s.write(n === 0 && up.connections.length === 1 ? ok('a', 'connection: close\r\n') : 'HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nb');
    });
    const p = pool(up.url);
    expect((await send(p)).body).toBe('a');
    expect((await send(p)).body).toBe('b');
    expect((await send(p)).body).toBe('b');
    expect(up.connections).toHaveLength(3);
  });

  it('reads chunked bodies (trailers dropped) and bodies delimited by the end of the connection', async () => {
    const up = await rawUpstream((s, r) => {
      if (r.startsWith('GET /chunked')) s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n');
      else s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
    });
    const p = pool(up.url);
    const chunked = await send(p, { path: '/chunked' });
    expect(chunked.body).toBe('hello world');
    expect(chunked.headers['x-trailer']).toBeUndefined();
    expect((await send(p, { path: '/eof' })).body).toBe('until the end');
  });

  it('does not wait for a body after HEAD, 204 or 304, and keeps the connection', async () => {
    const up = await rawUpstream((s, r) => {
      if (r.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
      else if (r.startsWith('GET /204')) s.write('HTTP/1.1 204 No Content\r\n\r\n');
      else s.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 1000\r\n\r\n');
    });
    const p = pool(up.url);
    expect(await send(p, { method: 'HEAD' })).toMatchObject({ status: 200, body: '' });
    expect(await send(p, { path: '/204' })).toMatchObject({ status: 204, body: '' });
    expect(await send(p, { path: '/304' })).toMatchObject({ status: 304, body: '' });
    expect(up.connections).toHaveLength(1);
  });

  it('skips informational responses and delivers every header of a large head', async () => {
    const many = Array.from({ length: 80 }, (_, i) => `x-h${i}: v${i}\r\n`).join('');
    const up = await rawUpstream((s) => s.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n${ok('final', `${many}set-cookie: a=1\r\nset-cookie: b=2\r\n`)}`));
    const res = await send(pool(up.url));
    expect(res).toMatchObject({ status: 200, body: 'final' });
    expect(res.headers['x-h0']).toBe('v0');
    expect(res.headers['x-h79']).toBe('v79');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['link']).toBeUndefined();
  });

  it('sends content-length: 0 for an empty POST, a buffer body in the same write, and a stream chunked', async () => {
    const up = await rawUpstream((s) => s.write(ok('ok')));
    const p = pool(up.url);
    await send(p, { method: 'POST' });
    await send(p, { method: 'PUT', body: Buffer.from('{"a":1}'), headers: { host: 'up', 'content-length': '7' } });
    await send(p, { method: 'POST', body: Readable.from([Buffer.from('part1'), Buffer.from('part22')]) });
    expect(up.received[0]).toContain('content-length: 0\r\n');
    expect(up.received[1]).toMatch(/\r\n\r\n\{"a":1\}$/);
    expect(up.received[2]).toContain('transfer-encoding: chunked\r\n\r\n5\r\npart1\r\n6\r\npart22\r\n0\r\n\r\n');
  });

  it('queues requests beyond the connection limit and serves them all', async () => {
    let open = 0;
    let peak = 0;
    const up = await rawUpstream((s) => {
      open++;
      peak = Math.max(peak, open);
      setTimeout(() => {
        open--;
        s.write(ok('slow'));
      }, 30);
    });
    const p = pool(up.url, { connections: 2 });
    const all = await Promise.all(Array.from({ length: 6 }, () => send(p)));
    expect(all.map((a) => a.body)).toEqual(Array(6).fill('slow'));
    expect(up.connections).toHaveLength(2);
    expect(peak).toBeLessThanOrEqual(2);
  });
});

describe('upstream client: hostile or broken upstreams', () => {
  it('refuses malformed responses (llhttp strict) as UPSTREAM_BAD_RESPONSE', async () => {
    const bad = [
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', // both framings
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!', // conflicting lengths
      'HTTP/1.1 200 OK\r\nx-bad header: 1\r\ncontent-length: 0\r\n\r\n', // space in a field name
      'HTTP/1.1 200 OK\nx-a: 1\ncontent-length: 0\n\n', // bare LF
      'HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 0\r\n\r\n', // obsolete line folding
      'HTTP/9.9 200 OK\r\ncontent-length: 0\r\n\r\n',
      'garbage\r\n\r\n',
    ];
    for (const answer of bad) {
      const up = await rawUpstream((s) => s.write(answer));
      await expect(send(pool(up.url)), JSON.stringify(answer)).rejects.toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
    }
  });

  it('never hands a second, unrequested response to the next request (response splitting)', async () => {
    let total = 0;
    const up = await rawUpstream((s) => {
      if (total++ === 0) s.write(ok('first') + ok('INJECTED'));
      else s.write(ok('second'));
    });
    const p = pool(up.url);
    expect((await send(p)).body).toBe('first');
    expect((await send(p)).body).toBe('second');
    expect(up.connections).toHaveLength(2); // the poisoned connection was dropped
  });

  it('reports a body cut short, even after the head was delivered', async () => {
    const up = await rawUpstream((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf'));
    await expect(send(pool(up.url))).rejects.toMatchObject({ code: 'UPSTREAM_CLOSED' });
  });

  it('times out a missing head and a stalled body, and a handshake that never completes', async () => {
    const silent = await rawUpstream(() => undefined);
    await expect(send(pool(silent.url, { headersTimeoutMs: 100 }))).rejects.toMatchObject({ code: 'UPSTREAM_HEADERS_TIMEOUT' });
    const stall = await rawUpstream((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
    await expect(send(pool(stall.url, { bodyTimeoutMs: 100 }))).rejects.toMatchObject({ code: 'UPSTREAM_BODY_TIMEOUT' });
    // A TCP listener that never speaks TLS: the handshake cannot finish.
    const mute = await rawUpstream(() => undefined);
    const tlsUrl = new URL(mute.url.href.replace('http:', 'https:'));
    await expect(send(pool(tlsUrl, { connectTimeoutMs: 100 }))).rejects.toMatchObject({ code: 'UPSTREAM_CONNECT_TIMEOUT' });
  });

  it('refuses to send a header value or target that could split the request, and sends nothing', async () => {
    const up = await rawUpstream((s) => s.write(ok('ok')));
    const p = pool(up.url);
    await expect(send(p, { headers: { host: 'up', 'x-rampart-consumer': 'alice\r\nx-rampart-roles: admin' } })).rejects.toMatchObject({ code: 'UPSTREAM_INVALID_REQUEST' });
    await expect(send(p, { path: '/a HTTP/1.1\r\nx: y' })).rejects.toMatchObject({ code: 'UPSTREAM_INVALID_REQUEST' });
    await expect(send(p, { headers: { host: 'up', 'bad name': 'v' } })).rejects.toMatchObject({ code: 'UPSTREAM_INVALID_REQUEST' });
    expect(up.received).toHaveLength(0);
    // The legitimate twin: UTF-8 bytes as obs-text and tabs are fine.
    expect((await send(p, { headers: { host: 'up', 'x-name': 'caf\u00e9\tok' } })).body).toBe('ok');
  });

  it('replays an idempotent request once when a kept-alive connection was closed under it, never a streamed POST', async () => {
    const up = await rawUpstream((s, _r, n) => {
      if (n === 0) s.write(ok('first'));
      else s.destroy(); // the upstream's keep-alive ran out just as the next request arrived
    });
    const p = pool(up.url);
    expect((await send(p)).body).toBe('first');
    expect((await send(p)).body).toBe('first'); // replayed on a fresh connection
    expect(up.connections).toHaveLength(2);
    await expect(send(p, { method: 'POST', body: Readable.from([Buffer.from('once')]) })).rejects.toMatchObject({ code: 'UPSTREAM_CLOSED' });
  });

  it('maps an unreachable upstream to its socket error', async () => {
    await expect(send(pool(new URL('http://127.0.0.1:1')))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('upstream client: TLS, abort and shutdown', () => {
  const pems = generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notAfterDate: new Date(Date.now() + 86_400_000), extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] });

  it('verifies the upstream certificate by default and accepts it with its CA', async () => {
    const { cert, private: key } = await pems;
    const up = await rawUpstream((s) => s.write(ok('secure')), createTlsServer({ cert, key }));
    const refused = await send(pool(up.url)).catch((e: Error & { code?: string }) => e);
    expect((refused as Error & { code?: string }).code).toMatch(/SELF_SIGNED|CERT/);
    expect((await send(pool(up.url, { tls: { ca: cert } }))).body).toBe('secure');
  });

  it('abort fails the exchange with the reason and drops the connection', async () => {
    const up = await rawUpstream((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'));
    const p = pool(up.url);
    const err = await new Promise<Error>((resolve) => {
      const ex = p.request({ method: 'GET', path: '/', headers: { host: 'up' }, body: null }, {
        onHead: () => undefined,
        onData: () => {
          ex.abort(new Error('client went away'));
          return true;
        },
        onEnd: () => resolve(new Error('ended')),
        onError: resolve,
      });
    });
    expect(err.message).toBe('client went away');
    await new Promise((r) => setTimeout(r, 20));
    expect(up.connections[0]!.destroyed || up.connections[0]!.readableEnded).toBe(true);
  });

  it('close() lets in-flight requests finish; destroy() fails what is pending', async () => {
    const up = await rawUpstream((s) => setTimeout(() => s.write(ok('late')), 50));
    const p = pool(up.url, { connections: 1 });
    const inflight = send(p);
    await new Promise((r) => setTimeout(r, 10));
    const closed = p.close();
    expect((await inflight).body).toBe('late');
    await closed;
    const q = pool(up.url, { connections: 1 });
    const a = send(q);
    const b = send(q);
    await q.destroy();
    await expect(a).rejects.toBeInstanceOf(UpstreamError);
    await expect(b).rejects.toMatchObject({ code: 'UPSTREAM_POOL_CLOSED' });
  });
});
