/**
 * The labelled values of the engine's measurements: our own fixtures (test/fixtures/waf/) and the
 * public corpora found under a directory (OWASP CRS go-ftw regression tests, libinjection's
 * data/*.txt lists). Used by `npm run waf:eval` (rates) and `npm run waf:diff` (findings before and
 * after a change).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseQuery } from '../../src/waf/inputs.js';
import { percentDecode } from '../../src/waf/decode.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface Sample {
  /** Group the rate is reported under (attack family or benign set). */
  readonly group: string;
  /** Every string of one request (parameter names and values). */
  readonly values: readonly string[];
}

export function ownFixtures(): { attacks: Sample[]; benign: Sample[] } {
  const dir = join(ROOT, 'test/fixtures/waf');
  const attacks = JSON.parse(readFileSync(join(dir, 'attacks.json'), 'utf8')) as Record<string, string[]>;
  const benign = JSON.parse(readFileSync(join(dir, 'benign.json'), 'utf8')) as Record<string, string[]>;
  return {
    attacks: Object.entries(attacks).flatMap(([family, list]) => list.map((v) => ({ group: `rampart/${family}`, values: [v] }))),
    benign: Object.entries(benign).flatMap(([set, list]) => list.map((v) => ({ group: `rampart/${set}`, values: [v] }))),
  };
}

/** CRS rule files by family; protocol, scanner and session-fixation files test other things. */
const CRS_FAMILIES: Record<string, string> = {
  '930': 'lfi', '931': 'rfi', '932': 'rce', '933': 'php', '934': 'generic', '941': 'xss', '942': 'sqli', '944': 'java',
};
const STANDARD_HEADERS = new Set(['host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'connection', 'content-type', 'content-length', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'cache-control', 'accept-charset']);

interface CrsInput {
  uri?: string;
  data?: string | string[];
  headers?: Record<string, string>;
}
interface CrsTest {
  stages?: Array<{ input?: CrsInput; stage?: { input?: CrsInput; output?: CrsOutput }; output?: CrsOutput }>;
}
interface CrsOutput {
  log?: { expect_ids?: number[]; no_expect_ids?: number[] };
  log_contains?: string;
  no_log_contains?: string;
}

function crsValues(input: CrsInput): string[] {
  const out: string[] = [];
  const uri = input.uri ?? '';
  const q = uri.indexOf('?');
  if (q !== -1) for (const [k, v] of parseQuery(uri.slice(q + 1))) out.push(k, v);
  // The path itself is sometimes the attack (`/etc/passwd`, `/index.php/../`).
  const path = q === -1 ? uri : uri.slice(0, q);
  if (path.length > 1 && !/^\/(?:get|post|anything|index\.html)?\/?$/.test(path)) out.push(percentDecode(path));
  const data = Array.isArray(input.data) ? input.data.join('\n') : input.data;
  const type = Object.entries(input.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? 'application/x-www-form-urlencoded';
  if (data !== undefined && data !== '') {
    if (type.includes('x-www-form-urlencoded') && !data.trimStart().startsWith('{') && !data.trimStart().startsWith('<')) for (const [k, v] of parseQuery(data)) out.push(k, v);
    else out.push(data);
  }
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    const n = name.toLowerCase();
    if (n === 'user-agent' && value.startsWith('OWASP CRS test agent') && value.length < 24) continue;
    if (n === 'cookie') {
      for (const pair of value.split(';')) {
        const eq = pair.indexOf('=');
        out.push(pair.slice(0, eq === -1 ? undefined : eq).trim());
        if (eq !== -1) out.push(pair.slice(eq + 1).trim());
      }
    } else if (!STANDARD_HEADERS.has(n) || n === 'user-agent') out.push(String(value));
  }
  return out.filter((v) => v !== '');
}

function crsCorpus(dir: string): { attacks: Sample[]; benign: Sample[] } {
  const attacks: Sample[] = [];
  const benign: Sample[] = [];
  for (const folder of readdirSync(dir)) {
    const family = CRS_FAMILIES[folder.replace(/^REQUEST-(\d{3}).*$/, '$1')];
    if (family === undefined || !folder.startsWith('REQUEST-')) continue;
    for (const file of readdirSync(join(dir, folder)).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, folder, file), 'utf8'))) {
        const tests = (doc.toJS() as { tests?: CrsTest[] } | null)?.tests ?? [];
        for (const test of tests) {
          for (const st of test.stages ?? []) {
            const input = st.input ?? st.stage?.input;
            const output = st.output ?? st.stage?.output;
            if (input === undefined || output === undefined) continue;
            const values = crsValues(input);
            if (values.length === 0) continue;
            if ((output.log?.expect_ids?.length ?? 0) > 0) attacks.push({ group: `crs/${family}`, values });
            else if ((output.log?.no_expect_ids?.length ?? 0) > 0) benign.push({ group: `crs-no-expect/${family}`, values });
          }
        }
      }
    }
  }
  return { attacks, benign };
}

function libinjectionCorpus(dir: string): { attacks: Sample[]; benign: Sample[] } {
  const attacks: Sample[] = [];
  const benign: Sample[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt'))) {
    const kind = file.startsWith('sqli-') ? 'sqli' : file.startsWith('xss-') ? 'xss' : file === 'false_positives.txt' ? 'fp' : undefined;
    if (kind === undefined) continue;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      // Lines are URL-encoded as found in query strings: decode once to get the value itself.
      const value = percentDecode(line.replace(/\+/g, ' '));
      if (kind === 'fp') benign.push({ group: 'libinjection/false_positives', values: [value] });
      else attacks.push({ group: `libinjection/${kind}`, values: [value] });
    }
  }
  return { attacks, benign };
}

/** Finds the known corpus layouts anywhere under DIR. */
export function loadCorpus(dir: string): { attacks: Sample[]; benign: Sample[] } {
  const attacks: Sample[] = [];
  const benign: Sample[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 5) return;
    if (existsSync(join(d, 'REQUEST-942-APPLICATION-ATTACK-SQLI'))) {
      const c = crsCorpus(d);
      attacks.push(...c.attacks);
      benign.push(...c.benign);
      return;
    }
    if (existsSync(join(d, 'false_positives.txt')) || readdirSync(d).some((f) => /^(?:sqli|xss)-.*\.txt$/.test(f))) {
      const c = libinjectionCorpus(d);
      attacks.push(...c.attacks);
      benign.push(...c.benign);
      return;
    }
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (!f.startsWith('.') && statSync(p).isDirectory()) walk(p, depth + 1);
    }
  };
  walk(resolve(dir), 0);
  return { attacks, benign };
}
