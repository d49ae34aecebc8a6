/**
 * `npm run waf:eval [-- --corpus DIR]… [--paranoia N] [--json] [--misses N]`
 *
 * Measures the injection engine: detection rate per attack family and false-positive rate on
 * benign values. Always runs our own fixtures (test/fixtures/waf/); each `--corpus` directory adds
 * public corpora when present: OWASP CRS go-ftw regression tests (tests/regression/tests/…) and
 * libinjection's data/*.txt lists. Every value is sent through the engine twice, as a query
 * parameter (percent-encoded, parsed like the gateway parses query strings) and as a JSON field.
 */
import { existsSync } from 'node:fs';
import { WafEngine } from '../src/waf/engine.js';
import { jsonInputs, queryInputs } from '../src/waf/inputs.js';
import { loadCorpus, ownFixtures, type Sample } from './support/corpora.js';
import { benchArgs } from './support/args.js';

const { values: args } = benchArgs({
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
