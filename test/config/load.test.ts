import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { ROOT, runCli, tempDir } from '../helpers/gateway.js';

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parseConfigText(yaml, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config loading', () => {
  it('accepts an empty file and fills documented defaults', () => {
    const { config } = parseConfigText('');
    expect(config.listeners.https.port).toBe(8443);
    expect(config.listeners.http).toMatchObject({ port: 8080, mode: 'redirect' });
    expect(config.admin).toMatchObject({ host: '127.0.0.1', port: 9901 });
    expect(config.store).toBe('sqlite:.rampart/rampart.db');
    expect(config.counters).toBe('memory');
    expect(config.limits.maxBodyBytes).toBe(1_048_576);
    expect(Object.isFrozen(config.limits)).toBe(true);
  });

  it('names the path of every error', () => {
    const list = problems(`
upstreams:
  pets: { url: http://127.0.0.1:1 }
routes:
  - { id: a, path: /a, upstream: pets }
  - { id: b, path: /b, upstream: pets }
  - { id: c, path: /c, upstream: petz, methods: [GET, FETCH] }
limits: { maxHeaderCount: -1, bogus: 1 }
`);
    expect(list).toContain('routes[2].upstream: unknown upstream "petz"');
    expect(list.some((p) => p.startsWith('routes[2].methods[1]:'))).toBe(true);
    expect(list.some((p) => p.startsWith('limits.maxHeaderCount:'))).toBe(true);
    expect(list).toContain('limits: unknown key "bogus"');
  });

  it('refuses unknown stage types and bad stage options with their path', () => {
    const list = problems(`
upstreams: { u: { url: http://127.0.0.1:1 } }
routes:
  - id: r
    path: /r
    upstream: u
    stages:
      - { type: cors, origins: ["*"], credentials: true }
      - { type: nope }
`);
    expect(list.some((p) => p.startsWith('routes[0].stages[0].credentials:'))).toBe(true);
    expect(list.some((p) => p.startsWith('routes[0].stages[1]'))).toBe(true);
  });

  it('interpolates ${env:…} and ${file:…}, and reports missing ones', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'secret.txt'), 'from-file\n');
    const { config } = parseConfigText('upstreams: { u: { url: "http://${env:UP_HOST}:${env:UP_PORT:-81}" } }\nstore: "sqlite:${file:secret.txt}"', {
      env: { UP_HOST: 'example.internal' },
      baseDir: dir,
    });
    expect(config.upstreams.u!.url).toBe('http://example.internal:81');
    expect(config.store).toBe('sqlite:from-file');
    expect(problems('store: "${env:NOPE_NOT_SET}"')).toEqual(['store: environment variable NOPE_NOT_SET is not set']);
  });

  it('reports YAML syntax errors with a line and refuses duplicate keys', () => {
    expect(problems('routes: [\n')[0]).toMatch(/^line \d+:/);
    expect(problems('store: a\nstore: b\n')[0]).toMatch(/line 2/);
  });

  it('reports an unreadable file', () => {
    expect(() => loadConfigFile('/nonexistent/rampart.yaml')).toThrow(/cannot read file: ENOENT/);
  });
});

describe('rampart config check', () => {
  it('exits 0 on the quick-start config and 2 listing every problem otherwise', async () => {
    const ok = await runCli(['config', 'check', 'rampart.yaml']);
    expect(ok.code).toBe(0);
    const dir = tempDir();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'routes:\n  - { id: x, path: /x, upstream: nope }\nlimits: { maxBodyBytes: -5 }\n');
    const res = await runCli(['config', 'check', bad, '--json']);
    expect(res.code).toBe(2);
    const out = JSON.parse(res.stdout) as { valid: boolean; problems: string[] };
    expect(out.valid).toBe(false);
    expect(out.problems).toEqual(expect.arrayContaining(['routes[0].upstream: unknown upstream "nope"']));
    expect(out.problems.some((p) => p.startsWith('limits.maxBodyBytes'))).toBe(true);
    const text = await runCli(['config', 'check', bad]);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain('routes[0].upstream: unknown upstream "nope"');
    expect(text.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('prints the JSON Schema', async () => {
    const res = await runCli(['config', 'schema']);
    expect(res.code).toBe(0);
    const schema = JSON.parse(res.stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['listeners', 'routes', 'upstreams', 'limits']));
    // The copy editors use (docs/configuration.md) is the schema of this code: `npm run schema` after a config change.
    expect(readFileSync(join(ROOT, 'docs/rampart.schema.json'), 'utf8')).toBe(res.stdout);
  });

  it('answers bad usage with exit 2', async () => {
    expect((await runCli(['config', 'frobnicate'])).code).toBe(2);
    expect((await runCli(['nosuchcommand'])).code).toBe(2);
    const help = await runCli(['start', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--workers');
  });
});
