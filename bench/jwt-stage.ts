/**
 * `npx tsx bench/jwt-stage.ts`: CPU cost of the jwt stage alone (ES256, static key), per request,
 * with the verified-token cache and without it (every request verifies the signature).
 */
import pino from 'pino';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { jwtStage } from '../src/stages/jwt/jwt.js';
import { jwtOptions } from '../src/stages/jwt/options.js';
import type { Services } from '../src/core/services.js';
const { privateKey, publicKey } = await generateKeyPair('ES256');
const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('i').setAudience('a').setSubject('s').setExpirationTime('2h').sign(privateKey);
// The jwt stage uses only the logger and the optional revocation list of the services.
const services = { logger: pino({ level: 'silent' }), emit: () => undefined } as unknown as Services;
for (const cacheEntries of [10000, 0]) {
  const stage = await jwtStage.create(jwtOptions.parse({ type: 'jwt', issuer: 'i', audience: 'a', algorithms: ['ES256'], pem: [await exportSPKI(publicKey)], cacheEntries }), { services, config: {} as never, route: undefined, baseDir: '.' });
  const ctx = { req: { headers: { authorization: `Bearer ${token}` }, socket: {} }, identity: undefined, emit() {} } as never;
  const n = cacheEntries ? 200000 : 5000;
  const t = performance.now();
  for (let i = 0; i < n; i++) { (ctx as { identity: unknown }).identity = undefined; const p = stage.handle!(ctx); if (p) await p; }
  const ms = performance.now() - t;
  console.log(`cacheEntries=${cacheEntries}: ${(n / ms * 1000).toFixed(0)} verifications/s (${(ms / n * 1000).toFixed(1)} µs each)`);
}
