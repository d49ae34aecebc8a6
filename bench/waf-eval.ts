/**
 * `npm run waf:eval [-- --corpus DIR]… [--paranoia N] [--json] [--misses N]`
 *
 * Measures the injection engine: detection rate per attack family and false-positive rate on
 * benign values. Always runs our own fixtures (test/fixtures/waf/); each `--corpus` directory adds
 * public corpora when present: OWASP CRS go-ftw regression tests (tests/regression/tests/…) and
 * libinjection's data/*.txt lists. Every value is sent through the engine twice, as a query
 * parameter (percent-encoded, parsed like the gateway parses query strings) and as a JSON field.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { WafEngine } from '../src/waf/engine.js';
import { jsonInputs, queryInputs, parseQuery } from '../src/waf/inputs.js';
import { percentDecode } from '../src/waf/decode.js';

interface Sample {
  /** Group the rate is reported under (attack family or benign set). */
  readonly group: string;
  /** Every string of one request (parameter names and values). */
  readonly values: readonly string[];
}

const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string', multiple: true, default: [] },
    paranoia: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    misses: { type: 'string', default: '0' },
  },
});
const paranoia = Number(args.paranoia);
if (paranoia !== 1 && paranoia !== 2 && paranoia !== 3) {
  console.error('--paranoia must be 1, 2 or 3');
  process.exit(2);
}
const engine = new WafEngine({ paranoia, budgetMs: 1_000 });
const ROOT = new URL('..', import.meta.url).pathname;

function ownFixtures(): { attacks: Sample[]; benign: Sample[] } {
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
function loadCorpus(dir: string): { attacks: Sample[]; benign: Sample[] } {
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

function asQuery(values: readonly string[]): boolean {
  const query = values.map((v, i) => `p${i}=${encodeURIComponent(v)}`).join('&');
  return engine.inspect(queryInputs(query)).attack;
}
function asJson(values: readonly string[]): boolean {
  const body = JSON.parse(JSON.stringify(Object.fromEntries(values.map((v, i) => [`p${i}`, v])))) as unknown;
  return engine.inspect(jsonInputs(body)).attack;
}

interface Row {
  group: string;
  count: number;
  query: number;
  json: number;
}

function measure(samples: readonly Sample[], misses: number, label: string, wantAttack: boolean): Row[] {
  const rows = new Map<string, Row>();
  let shown = 0;
  for (const s of samples) {
    const row = rows.get(s.group) ?? { group: s.group, count: 0, query: 0, json: 0 };
    rows.set(s.group, row);
    row.count++;
    const q = asQuery(s.values);
    const j = asJson(s.values);
    if (q) row.query++;
    if (j) row.json++;
    if ((q && j) !== wantAttack && shown < misses && (!q || !j) === wantAttack) {
      shown++;
      console.error(`${label} ${s.group}: ${JSON.stringify(s.values).slice(0, 300)}`);
    }
  }
  return [...rows.values()].sort((a, b) => a.group.localeCompare(b.group));
}

const own = ownFixtures();
const attacks = [...own.attacks];
const benign = [...own.benign];
for (const dir of args.corpus ?? []) {
  if (!existsSync(dir)) {
    console.error(`corpus not found: ${dir}`);
    process.exit(2);
  }
  const c = loadCorpus(dir);
  attacks.push(...c.attacks);
  benign.push(...c.benign);
}
const misses = Number(args.misses);
const attackRows = measure(attacks, misses, 'MISS', true);
const benignRows = measure(benign, misses, 'FP', false);
const total = (rows: Row[], filter: (r: Row) => boolean): Row =>
  rows.filter(filter).reduce((a, r) => ({ group: 'total', count: a.count + r.count, query: a.query + r.query, json: a.json + r.json }), { group: 'total', count: 0, query: 0, json: 0 });
const pct = (n: number, d: number): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)}%`);

if (args.json) {
  console.log(JSON.stringify({ paranoia, attacks: attackRows, benign: benignRows }, null, 2));
} else {
  console.log(`Rampart injection engine, paranoia ${paranoia}\n`);
  console.log('ATTACKS (detected)               count   as query   as JSON');
  for (const r of attackRows) console.log(`  ${r.group.padEnd(30)} ${String(r.count).padStart(6)} ${pct(r.query, r.count).padStart(10)} ${pct(r.json, r.count).padStart(9)}`);
  for (const [name, f] of [['rampart fixtures', (r: Row) => r.group.startsWith('rampart/')], ['public corpora', (r: Row) => !r.group.startsWith('rampart/')], ['all', () => true]] as const) {
    const t = total(attackRows, f);
    if (t.count > 0) console.log(`  ${('= ' + name).padEnd(30)} ${String(t.count).padStart(6)} ${pct(t.query, t.count).padStart(10)} ${pct(t.json, t.count).padStart(9)}`);
  }
  console.log('\nBENIGN (false positives)         count   as query   as JSON');
  for (const r of benignRows) console.log(`  ${r.group.padEnd(30)} ${String(r.count).padStart(6)} ${pct(r.query, r.count).padStart(10)} ${pct(r.json, r.count).padStart(9)}`);
  const t = total(benignRows, (r) => !r.group.startsWith('crs-no-expect/'));
  console.log(`  ${'= realistic benign (no CRS)'.padEnd(30)} ${String(t.count).padStart(6)} ${pct(t.query, t.count).padStart(10)} ${pct(t.json, t.count).padStart(9)}`);
}
