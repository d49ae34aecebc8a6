import { statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { resolveSecrets } from '../../src/keys/secrets-config.js';
import { tempDir } from '../helpers/gateway.js';

describe('pepper and master key resolution', () => {
  it('unset (or ${env:X:-} of an unset variable): generated once into .rampart/secrets.json (0600) with a warning, then reused', () => {
    const dir = tempDir();
    const { config } = parseConfigText('secrets: { pepper: "${env:NOPE_PEPPER:-}", masterKey: "${env:NOPE_MK:-}" }\n', { baseDir: dir, env: {} });
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const first = resolveSecrets(config, dir, logger);
    const second = resolveSecrets(config, dir);
    expect(first.pepper.length).toBeGreaterThanOrEqual(32);
    expect(second.pepper).toBe(first.pepper);
    expect(second.masterKey.key.equals(first.masterKey.key)).toBe(true);
    expect(statSync(join(dir, '.rampart', 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(warnings.join('')).toContain('development secrets');
    expect(warnings.join('')).not.toContain(first.pepper);
  });

  it('configured values win; weak or malformed values are refused at config load', () => {
    const mk = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
    const { config } = parseConfigText(`secrets: { pepper: "${'x'.repeat(32)}", masterKey: "${mk}" }\n`);
    expect(resolveSecrets(config, tempDir())).toMatchObject({ pepper: 'x'.repeat(32), masterKey: { id: 'k1' } });
    expect(() => parseConfigText('secrets: { pepper: "short" }\n')).toThrow(/secrets.pepper: must have at least 32 characters/);
    expect(() => parseConfigText('secrets: { masterKey: "k1:notbase64" }\n')).toThrow(/secrets.masterKey/);
  });
});
