/**
 * API8 Security Misconfiguration: transport (plain HTTP, legacy TLS, untrusted or expiring
 * certificate), security headers, CORS that reflects any origin with credentials, verbose errors
 * and stack traces, and TRACE.
 */
import { connect, type PeerCertificate } from 'node:tls';
import { callOperation, fillPath, finding, label, ok, requiresAuth, type Check, type ScanContext } from '../context.js';
import type { Evidence } from '../types.js';
import { matchSignatures } from '../signatures.js';

const RULES = {
  transport: { id: 'API8-transport', category: 'API8', title: 'Weak or missing transport security' },
  headers: { id: 'API8-security-headers', category: 'API8', title: 'Security headers missing or revealing' },
  cors: { id: 'API8-cors', category: 'API8', title: 'CORS trusts arbitrary origins' },
  errors: { id: 'API8-verbose-errors', category: 'API8', title: 'Verbose errors or stack traces' },
  trace: { id: 'API8-trace', category: 'API8', title: 'TRACE method enabled' },
} as const;

const EVIL_ORIGIN = 'https://evil.rampart-scan.invalid';
const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/;

export const misconfigCheck: Check = {
  category: 'API8',
  rules: Object.values(RULES),
  async run(ctx) {
    await transport(ctx);
    const who = ctx.users[0] ?? ctx.identities[0]!;
    const get = ctx.spec.operations.find((op) => op.method === 'GET' && requiresAuth(op) && !op.path.includes('{')) ?? ctx.spec.operations.find((op) => op.method === 'GET');
    if (get !== undefined) {
      const ex = await callOperation(ctx, get, who, { headers: { origin: EVIL_ORIGIN } });
      headerFindings(ctx, label(get), ex.headers, ex.evidence, requiresAuth(get));
      const acao = ex.headers['access-control-allow-origin'];
      const creds = ex.headers['access-control-allow-credentials'] === 'true';
      if (acao === EVIL_ORIGIN || (acao === '*' && creds) || acao === 'null') {
        ctx.report(finding(RULES.cors, creds ? 'high' : 'medium', label(get), `A request from ${EVIL_ORIGIN} got Access-Control-Allow-Origin: ${acao}${creds ? ' with Access-Control-Allow-Credentials: true' : ''}, so any web site can read these responses${creds ? ' with the victim\'s cookies' : ''}.`,
          'Allow an explicit list of trusted origins (the gateway\'s cors stage), never reflect the Origin header, and never combine credentials with a wildcard.', [ex.evidence]));
      }
    }
    await verboseErrors(ctx);
    const trace = await ctx.client.send({ method: 'TRACE', path: '/', headers: { 'x-rampart-trace-probe': 'echo' } });
    if (trace.status === 200 && /x-rampart-trace-probe|^TRACE /im.test(trace.text)) {
      ctx.report(finding(RULES.trace, 'medium', 'TRACE /', 'TRACE is answered and echoes the request (cross-site tracing can expose headers such as cookies).',
        'Disable TRACE (and any method the API does not use) at the gateway or web server; answer 405.', [trace.evidence]));
    }
  },
};

function headerFindings(ctx: ScanContext, where: string, headers: Record<string, string>, evidence: Evidence, authenticated: boolean): void {
  const problems: string[] = [];
  if (headers['x-content-type-options']?.toLowerCase() !== 'nosniff') problems.push('X-Content-Type-Options: nosniff is missing');
  if (ctx.client.origin.startsWith('https:') && headers['strict-transport-security'] === undefined) problems.push('Strict-Transport-Security is missing');
  if (authenticated && !/no-store|private/i.test(headers['cache-control'] ?? '')) problems.push('an authenticated response lacks Cache-Control: no-store');
  for (const h of ['server', 'x-powered-by', 'x-aspnet-version']) if (/\d/.test(headers[h] ?? '') || (h === 'x-powered-by' && headers[h] !== undefined)) problems.push(`${h} reveals ${headers[h]}`);
  if (problems.length === 0) return;
  ctx.report(finding(RULES.headers, 'low', where, `${problems.join('; ')}.`,
    'Send nosniff, HSTS on HTTPS and Cache-Control: no-store on authenticated responses, and strip Server/X-Powered-By (the Rampart gateway does all of this on every response).', [evidence]));
}

async function verboseErrors(ctx: ScanContext): Promise<void> {
  const who = ctx.users[0] ?? ctx.identities[0]!;
  const probes = [];
  const writer = ctx.spec.operations.find((op) => op.method === 'POST' && op.body !== undefined);
  if (writer !== undefined) probes.push({ op: writer, path: fillPath(ctx, writer, who), body: '{"rampart": [1, 2', type: 'application/json' });
  const item = ctx.spec.operations.find((op) => op.method === 'GET' && op.path.includes('{'));
  if (item !== undefined) probes.push({ op: item, path: item.path.replace(/\{[^}]+\}/g, encodeURIComponent("%27\"\\x00{{")), body: undefined, type: undefined });
  for (const p of probes) {
    const ex = await ctx.client.send({ method: p.op.method, path: p.path, as: who, headers: p.type ? { 'content-type': p.type } : undefined, body: p.body });
    if (ok(ex)) continue;
    const hits = matchSignatures(ex.text, ['stack', 'sql', 'nosql', 'template']);
    if (hits.length === 0) continue;
    ctx.report(finding(RULES.errors, 'medium', label(p.op), `A malformed request produced an error revealing internals (${hits.map((h) => h.name).join(', ')}).`,
      'Return generic problem documents (RFC 9457) for errors; log details server-side with a request id instead of sending them.', [ex.evidence]));
    return;
  }
}

async function transport(ctx: ScanContext): Promise<void> {
  const url = new URL(ctx.client.origin);
  if (url.protocol === 'http:') {
    const loopback = LOOPBACK.test(url.hostname);
    ctx.report(finding(RULES.transport, loopback ? 'info' : 'high', ctx.client.origin, loopback ? 'The target is plain HTTP on loopback (fine for a local test; make sure it is not reachable otherwise).' : 'The API is served over plain HTTP: credentials and data travel in clear text.',
      'Serve the API over HTTPS only (TLS 1.2+), redirect or refuse plain HTTP, and send HSTS.', []));
    return;
  }
  const port = Number(url.port || 443);
  const cert = await handshake(url.hostname, port, {});
  if (cert.error !== undefined) {
    ctx.report(finding(RULES.transport, 'medium', ctx.client.origin, `The certificate does not verify: ${cert.error}.`, 'Use a certificate from a trusted CA whose names cover the host, with its full chain.', []));
  } else if (cert.peer !== undefined && Date.parse(cert.peer.valid_to) - Date.now() < 14 * 86_400_000) {
    ctx.report(finding(RULES.transport, 'medium', ctx.client.origin, `The certificate expires on ${cert.peer.valid_to}.`, 'Renew certificates automatically well before expiry.', []));
  }
  const legacy = await handshake(url.hostname, port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  if (legacy.protocol !== undefined) {
    ctx.report(finding(RULES.transport, 'medium', ctx.client.origin, `The server accepted a ${legacy.protocol} handshake.`, 'Accept TLS 1.2 and 1.3 only (the gateway\'s listeners.https.minVersion).', []));
  }
}

function handshake(host: string, port: number, opts: { minVersion?: 'TLSv1'; maxVersion?: 'TLSv1.1'; ciphers?: string }): Promise<{ error?: string; protocol?: string; peer?: PeerCertificate }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, servername: /^[\d.]+$|:/.test(host) ? undefined : host, rejectUnauthorized: false, ...opts, timeout: 5000 }, () => {
      const result = { protocol: socket.getProtocol() ?? undefined, peer: socket.getPeerCertificate(), error: socket.authorized ? undefined : String(socket.authorizationError) };
      socket.end();
      resolve(result);
    });
    socket.on('error', () => resolve({}));
    socket.on('timeout', () => {
      socket.destroy();
      resolve({});
    });
  });
}
