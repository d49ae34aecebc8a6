/** Raw HTTP/1.1 over TLS or TCP, for requests no well-behaved client would send. */
import { connect as tlsConnect } from 'node:tls';
import { connect as tcpConnect, type Socket } from 'node:net';

/** Sends `payload` as is and resolves with everything the server wrote before closing or `idleMs` of silence. */
export function rawRequest(url: string, payload: string | Buffer, idleMs = 1500): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket: Socket =
      u.protocol === 'https:'
        ? tlsConnect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false })
        : tcpConnect({ host: u.hostname, port: Number(u.port) });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    };
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      arm();
    });
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', (err) => (out === '' ? reject(err) : done()));
    socket.once(u.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      socket.write(payload);
      arm();
    });
  });
}

/** Status code of the first response in a raw answer. */
export function statusOf(raw: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  return m === null ? 0 : Number(m[1]);
}
