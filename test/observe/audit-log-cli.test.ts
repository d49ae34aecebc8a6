/**
 * `rampart audit-log verify|export` as real processes against a gateway's SQLite audit log:
 * editing one row makes verify exit 1 and name it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { runCli, TEST_LISTENERS } from '../helpers/gateway.js';
import { startObservedGateway } from './helpers.js';

const KEY = 'audit-chain-key-0123456789abcdef0123';

describe('rampart audit-log', () => {
  let gw: Awaited<ReturnType<typeof startObservedGateway>>;
  const env = { RAMPART_AUDIT_KEY: KEY };

  beforeAll(async () => {
    process.env.RAMPART_AUDIT_KEY = KEY;
    gw = await startObservedGateway(`${TEST_LISTENERS}
store: sqlite:audit.db
observe:
  audit: { key: "\${env:RAMPART_AUDIT_KEY}" }
`);
    for (let i = 1; i <= 10; i++) {
      gw.gateway.services.emit({ type: i % 2 ? 'auth.failure' : 'key.revoked', severity: i % 2 ? 'low' : 'medium', source: 'test', time: Date.UTC(2030, 0, i), clientIp: '10.1.1.1', reason: `event | ${i} = x\nnext` });
    }
    await gw.stop();
  });
  afterAll(() => gw.stop());

  it('verify: intact log → exit 0 with the head', async () => {
    const r = await runCli(['audit-log', 'verify', '--config', gw.configFile, '--json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, checked: 10, lastSeq: 10 });
  });

  it('export --since … --format jsonl: entries from that time on, oldest first, with their chain hashes', async () => {
    const r = await runCli(['audit-log', 'export', '--config', gw.configFile, '--since', '2030-01-06T00:00:00Z', '--format', 'jsonl'], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string; timestamp: string });
    expect(lines.map((l) => l.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(lines[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(lines[0]!.timestamp).toBe('2030-01-06T00:00:00.000Z');
  });

  it('export --format cef --out FILE: escaped CEF lines', async () => {
    const out = join(gw.dir, 'export.cef');
    const r = await runCli(['audit-log', 'export', '--config', gw.configFile, '--format', 'cef', '--out', out], { env });
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^CEF:0\|Rampart\|Rampart Gateway\|0\.1\.0\|auth\.failure\|event \\\| 1 = x next\|3\|rt=1893456000000 externalId=1 src=10\.1\.1\.1 /);
    expect(lines[0]).toContain('reason=event | 1 \\= x\\nnext');
  });

  it('bad usage → exit 2 with a clear message', async () => {
    const r = await runCli(['audit-log', 'export', '--config', gw.configFile, '--format', 'xml'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format must be jsonl or cef');
    const s = await runCli(['audit-log', 'export', '--config', gw.configFile, '--since', 'yesterday'], { env });
    expect(s.code).toBe(2);
  });

  it('verify: one edited row → exit 1 naming that row', async () => {
    const db = new Database(join(gw.dir, 'audit.db'));
    db.prepare("UPDATE rampart_audit_events SET client_ip = '10.9.9.9' WHERE seq = 4").run();
    db.close();
    const r = await runCli(['audit-log', 'verify', '--config', gw.configFile], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('audit log BROKEN at entry 4 (hash-mismatch)');
  });
});
