/**
 * Where the pepper and master keys come from: the config (`secrets.pepper`, `secrets.masterKey`,
 * normally `${env:…}`), or, when unset, a development file `.rampart/secrets.json` generated once
 * next to the config with a warning. The file keeps keys valid across restarts of a quick start;
 * production sets both from the environment or a secret manager.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { RampartConfig } from '../config/schema.js';
import { parseMasterKey, type MasterKey } from './secret-box.js';

export interface ResolvedSecrets {
  readonly pepper: string;
  readonly masterKey: MasterKey;
  readonly previousMasterKeys: readonly MasterKey[];
}

interface DevSecrets {
  pepper: string;
  masterKey: string;
}

function devSecrets(baseDir: string): { secrets: DevSecrets; file: string } {
  const dir = join(baseDir, '.rampart');
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return { secrets: JSON.parse(readFileSync(file, 'utf8')) as DevSecrets, file };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secrets: DevSecrets = { pepper: randomBytes(32).toString('base64url'), masterKey: `dev1:${randomBytes(32).toString('base64')}` };
  // `wx`: two processes starting at once must not overwrite each other's freshly generated file.
  try {
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { secrets: JSON.parse(readFileSync(file, 'utf8')) as DevSecrets, file };
  }
  return { secrets, file };
}

/**
 * Resolves the pepper and master keys for a config.
 *
 * @example
 *   const { pepper, masterKey } = resolveSecrets(config, baseDir, logger);
 */
export function resolveSecrets(config: RampartConfig, baseDir: string, logger?: Logger): ResolvedSecrets {
  const { pepper, masterKey, previousMasterKeys } = config.secrets;
  let dev: { secrets: DevSecrets; file: string } | undefined;
  if (pepper === undefined || masterKey === undefined) {
    dev = devSecrets(baseDir);
    const missing = [pepper === undefined ? 'secrets.pepper' : undefined, masterKey === undefined ? 'secrets.masterKey' : undefined].filter(Boolean);
    logger?.warn({ file: dev.file, missing }, 'using generated development secrets; set RAMPART_PEPPER and RAMPART_MASTER_KEY in production');
  }
  return {
    pepper: pepper ?? dev!.secrets.pepper,
    masterKey: parseMasterKey(masterKey ?? dev!.secrets.masterKey),
    previousMasterKeys: previousMasterKeys.map(parseMasterKey),
  };
}
